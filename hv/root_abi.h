/*
 * The interface between the hypervisor and the root partition that is not the TLFS:
 * what the root finds at its entry, and hvfw's private hypercalls (codes in
 * HVCALL_HVFW_FIRST..LAST, hv/hypercall_abi.h). Documented in docs/hypercalls.md.
 * Shared by hv/ (writer) and root/ (reader): plain types only.
 *
 * Root entry (every root VP): 64-bit mode, paging on with identity page tables the
 * hypervisor built in root memory, interrupts off, no IDT (the root loads its own),
 *   RDI = GPA of the struct root_boot_info (GPA == host physical address for the root),
 *   RSI = VP index, RSP = top of that VP's stack (inside root memory), RIP = root_entry.
 */
#ifndef HVFW_HV_ROOT_ABI_H
#define HVFW_HV_ROOT_ABI_H

#include <stdint.h>

#define ROOT_BOOT_INFO_MAGIC 0x746f6f7277666876ull /* "hvfwroot" */
#define ROOT_BOOT_INFO_VERSION 1
#define ROOT_MAX_MEMORY_RANGES 64
#define ROOT_MAX_MODULES 16
#define ROOT_MAX_VPS 64
#define ROOT_CMDLINE_MAX 1024

struct root_memory_range {
    uint64_t start; /* GPA, page aligned */
    uint64_t end;   /* exclusive */
};

struct root_module {
    uint64_t start, end; /* GPA range, mapped read-only */
    char name[64];
    char args[256];
};

struct root_boot_info {
    uint64_t magic;
    uint32_t version;
    uint32_t vp_count;       /* root VPs, one per physical CPU */
    uint64_t tsc_khz;        /* the root reads the TSC directly (offset 0) */
    uint64_t stack_size;     /* bytes of each VP's stack */
    char cmdline[ROOT_CMDLINE_MAX];
    /* RAM the root owns, RW: its heap, its page tables, child memory it hands out. The
     * first range begins with this page, the page tables and the VP stacks; `free_start`
     * is where the root's own allocations may begin. */
    uint32_t memory_range_count;
    uint32_t reserved;
    uint64_t free_start;
    struct root_memory_range memory[ROOT_MAX_MEMORY_RANGES];
    uint32_t module_count;
    uint32_t reserved2;
    struct root_module modules[ROOT_MAX_MODULES];
};

/*
 * Private hypercalls (root only; a child gets HV_STATUS_ACCESS_DENIED).
 *
 * HvCallHvfwConsoleWrite: rep call, one byte per rep element (no header): the bytes are
 *   written to the firmware console under the console lock, so root lines never interleave
 *   with hypervisor lines.
 * HvCallHvfwRootReady: simple call, no input: the root has finished its start-up; the
 *   hypervisor prints "hvfw: ready ..." (and ends a test run under `test.exit`).
 * HvCallHvfwRootStop: simple call, input u64 code: the root gives up (a failed invariant of
 *   its own); the hypervisor reports it and stops.
 * HvCallHvfwShutdown: simple call, input u64 code: the appliance is done (e.g. every child
 *   declared with `exit_when_idle` has stopped). Code 0: power off through ACPI (QEMU then
 *   exits with status 0); otherwise the isa-debug-exit port gets the code (QEMU status
 *   2*code+1) and, without one, the hypervisor stops.
 */
#define HVCALL_HVFW_CONSOLE_WRITE 0x7F00u
#define HVCALL_HVFW_ROOT_READY 0x7F01u
#define HVCALL_HVFW_ROOT_STOP 0x7F02u
#define HVCALL_HVFW_SHUTDOWN 0x7F03u

#endif
