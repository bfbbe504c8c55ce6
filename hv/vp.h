/*
 * A virtual processor: the state generic code owns (general registers, statistics) plus an
 * opaque pointer to the vendor backend's state (the VMCB on SVM).
 */
#ifndef HVFW_HV_VP_H
#define HVFW_HV_VP_H

#include <stdbool.h>
#include <stdint.h>

#include "hv/exit.h"
#include "hv/vlapic.h"
#include "kernel/spinlock.h"

struct partition;

/* General registers the hardware does not save on a world switch. RAX and RSP live in the
 * VMCB on SVM; the backend moves RAX between the two around each run so that generic
 * code always sees it here. Order is fixed: hv/svm/svm_entry.S indexes it. */
struct vp_registers {
    uint64_t rax, rbx, rcx, rdx, rsi, rdi, rbp;
    uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
};

struct vp_stimer {
    uint64_t config, count; /* the MSR values */
    uint64_t deadline_ns;   /* time_now_ns() when it fires; 0 = not armed */
};

enum vp_state {
    VP_STATE_RUNNABLE,
    VP_STATE_HALTED,
    VP_STATE_STOPPED,
};

struct vp_statistics {
    uint64_t exits[HV_EXIT_REASON_COUNT];
    uint64_t runs;
    uint64_t run_tsc; /* TSC ticks from the world switch in to the exit */
};

struct vp {
    struct partition *partition;
    uint32_t index;
    enum vp_state state;
    struct vp_registers registers;
    struct vp_statistics statistics;
    void *vendor; /* owned by the vendor backend */
    void *synic;  /* hv/synic.c: the VP's SynIC state, if it has one */

    /* Scheduling (hv/sched.c), under the home CPU's queue lock. */
    uint32_t cpu;          /* home CPU: the one whose queue holds this VP */
    uint32_t suspend;      /* enum vp_suspend bits */
    bool halted;           /* in HLT, waiting for work */
    bool wake_pending;     /* work arrived while not halted: the next HLT returns at once */
    bool running;          /* on its CPU right now */
    bool queued;
    struct vp *next_in_queue;

    /* x87/SSE state while another VP uses this CPU's registers (FXSAVE format, Intel SDM
     * vol. 1, 10.5.1). The hypervisor itself never touches them (-mgeneral-regs-only). */
    uint8_t fpu_state[512] __attribute__((aligned(16)));
    bool fpu_initialized;

    /* IA32_MTRR_DEF_TYPE as the VP last wrote it (hv/msr.c); starts "enabled, write-back". */
    uint64_t mtrr_def_type;

    /* The virtual local APIC (hv/vlapic.c); present in a child's VPs. */
    struct vlapic vlapic;

    /* Synthetic timers (hv/stimer.c). */
    struct spinlock timer_lock;
    struct vp_stimer stimers[4];
};

#endif
