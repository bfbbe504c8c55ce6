/*
 * The scheduler: every physical CPU runs VPs of all partitions, time-sliced with the
 * hypervisor's LAPIC timer. A root VP is pinned to its CPU; a child VP has a home CPU
 * chosen at creation. A VP is runnable when it is neither suspended (explicitly by the
 * root, or waiting for the root to complete an intercept) nor halted without work.
 * HLT yields the CPU; an IPI kicks a CPU whose VP got work.
 */
#ifndef HVFW_HV_SCHED_H
#define HVFW_HV_SCHED_H

#include <stdbool.h>
#include <stdint.h>

struct vp;

/* Suspension reasons (bits): the VP runs only when none is set. */
enum vp_suspend {
    VP_SUSPEND_EXPLICIT = 1u << 0,  /* HvRegisterExplicitSuspend: a new child VP, held */
    VP_SUSPEND_INTERCEPT = 1u << 1, /* HvRegisterInterceptSuspend: the root is emulating */
    VP_SUSPEND_WAIT_FOR_SIPI = 1u << 2, /* after INIT, until a Start-up IPI (hv/vlapic.h) */
};

/* Makes `vp` known to the scheduler on `cpu` (a root VP: its own CPU, pinned). */
void sched_add_vp(struct vp *vp, uint32_t cpu);
/* Removes a stopped VP (its partition is being deleted); waits until no CPU runs it. */
void sched_remove_vp(struct vp *vp);
void sched_suspend(struct vp *vp, enum vp_suspend reason);
/* Clears `reason`; if nothing else holds the VP it becomes runnable and its CPU is kicked. */
void sched_resume(struct vp *vp, enum vp_suspend reason);
/* A halted VP has work (a message, an interrupt to inject): make it runnable. */
void sched_wake(struct vp *vp);
/* A VP executed HLT: true if it now waits for sched_wake, false if work had already
 * arrived (then it continues at once). */
bool sched_halt(struct vp *vp);
/* A VP's timers changed: its CPU recomputes how long it may sleep. */
void sched_wake_timer(struct vp *vp);
/* Whether the VP is currently held by `reason`. */
bool sched_is_suspended(const struct vp *vp, enum vp_suspend reason);
/* The calling CPU's scheduling loop; never returns. */
__attribute__((noreturn)) void sched_run_this_cpu(void);

#endif
