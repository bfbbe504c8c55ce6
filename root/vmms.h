/*
 * The root's partition manager (the seeds' VMMS). Until the management endpoint exists,
 * the children are the `child=NAME:MODULE:MEM_MIB:VPS` declarations on the firmware command
 * line (root/child_config.h; docs/boot.md), each loaded from a boot module.
 *
 * A child is made through the hypercall API (TLFS root calls, root/hvcall.h):
 * HvCallCreatePartition, HvCallInitializePartition, RAM from root memory with the module
 * loaded into it, HvCallMapGpaPages of that RAM at GPA 0 (read, write, execute),
 * HvCallFinalizePartition, then per VP HvCallCreateVp (held by HvRegisterExplicitSuspend,
 * in 32-bit protected mode) and HvCallSetVpRegisters:
 *   - an ELF module (root/loader.h): every VP gets the entry state of images/guests/README.md
 *     (EIP = entry, EAX = 'hvfw', EBX = RAM bytes, ECX = VP index), then
 *     HvRegisterExplicitSuspend = 0;
 *   - a module with a bzImage setup header (root/bzimage.h): the child's ACPI tables
 *     (root/child_acpi.h) go into the e820 ACPI hole at the top of its RAM, the kernel,
 *     initrd.NAME and cmdline.NAME are placed by the 64-bit boot protocol, and only VP 0
 *     is released, in long mode at startup_64 with RSI = boot_params; the other VPs stay
 *     held until the child's own INIT/SIPI starts them.
 * A child that resets itself (root/worker.h) is started again the same way, in the same RAM.
 */
#ifndef HVFW_ROOT_VMMS_H
#define HVFW_ROOT_VMMS_H

#include <stddef.h>
#include <stdint.h>

/* At most this many children exist, declared and created; further ones are refused. */
#define VMMS_CHILDREN_MAX 64

/*
 * Children driven at run time (the management API, root/mgmt_server.c), on root VP 0 only,
 * the VP that runs the worker: no lock. Each returns why it refused in `why`.
 *   create  a stopped child from boot modules already on the appliance (the checks of a
 *           `child=` declaration, root/child_config.h); INVALID for a bad field or module,
 *           CONFLICT when the name is taken, NO_MEMORY when its RAM is not free.
 *   start   a stopped or failed child: a new partition (CONFLICT while running).
 *   stop    a hard stop of a running child now: its partition is deleted; its RAM is kept
 *           for its next start (root memory has no free, root/memory.h).
 *   reset   a running child starts again from its definition, as after its own reset.
 *   delete  a child that is not running is forgotten; its RAM goes to the next create
 *           that fits in it.
 */
enum vmms_result {
    VMMS_OK,
    VMMS_NOT_FOUND,
    VMMS_CONFLICT,
    VMMS_INVALID,
    VMMS_NO_MEMORY,
    VMMS_FAILED,
};

struct vmms_child_spec {
    const char *name;
    const char *kernel;  /* boot module: an ELF or a bzImage */
    const char *initrd;  /* boot module or "" (bzImage only) */
    const char *cmdline; /* "" for none (bzImage only) */
    uint32_t memory_mib;
    uint32_t vp_count;
};

enum vmms_result vmms_child_create(const struct vmms_child_spec *spec, char *why,
                                   size_t why_size);
enum vmms_result vmms_child_start(const char *name, char *why, size_t why_size);
enum vmms_result vmms_child_stop(const char *name, char *why, size_t why_size);
enum vmms_result vmms_child_reset(const char *name, char *why, size_t why_size);
enum vmms_result vmms_child_delete(const char *name, char *why, size_t why_size);

/* Starts the declared children and turns the calling VP (root VP 0) into their worker
 * (root/worker.h). Never returns. */
__attribute__((noreturn)) void root_vmms_run(void);

#endif
