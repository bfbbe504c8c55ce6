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

/* At most this many children are started; further declarations are skipped. */
#define VMMS_CHILDREN_MAX 64

/* Starts the declared children and turns the calling VP (root VP 0) into their worker
 * (root/worker.h). Never returns. */
__attribute__((noreturn)) void root_vmms_run(void);

#endif
