/*
 * One run queue per physical CPU, round robin. A CPU runs its runnable VPs in turn; while
 * more than one is runnable, a LAPIC one-shot timer ends each time slice (the timer
 * interrupt makes the running guest exit: SVM intercepts physical interrupts). With one
 * runnable VP no timer is armed, so it runs without timer exits. With none, the CPU halts
 * until an IPI (sched_kick) or an interrupt arrives.
 */
#include "hv/sched.h"

#include "hv/partition.h"
#include "hv/stimer.h"
#include "hv/vendor.h"
#include "hv/vlapic.h"
#include "kernel/lapic.h"
#include "kernel/log.h"
#include "kernel/percpu.h"
#include "kernel/smp.h"
#include "kernel/spinlock.h"
#include "kernel/trap.h"
#include "kernel/tsc.h"
#include "kernel/x86.h"

#define TIME_SLICE_NS (10u * 1000 * 1000)

struct run_queue {
    struct spinlock lock;
    bool servicing_timers; /* its CPU is servicing timers of the queued VPs unlocked */
    struct vp *head;      /* singly linked ring order: head, head->next_in_queue, ... */
    struct vp *last_run;  /* round robin resumes after this one */
    uint32_t count;
};

static struct run_queue queues[MAX_CPUS];
/* Whose x87/SSE state each CPU's registers hold. */
static struct vp *fpu_owner[MAX_CPUS];
static bool handlers_installed;

static void timer_handler(struct trap_frame *frame)
{
    (void)frame;
    lapic_eoi(); /* the interrupt's purpose was the exit it caused */
}

static void install_handlers(void)
{
    if (__atomic_exchange_n(&handlers_installed, true, __ATOMIC_ACQ_REL))
        return;
    trap_set_handler(LAPIC_VECTOR_TIMER, timer_handler);
}

/* Makes the VP's CPU look at its queue again: an IPI unless it is the calling CPU. */
static void kick(uint32_t cpu)
{
    if (cpu == this_cpu_index())
        return;
    lapic_send_ipi(percpu_area[cpu].apic_id, LAPIC_DELIVERY_FIXED, SMP_VECTOR_WAKE);
}

static bool runnable(const struct vp *vp)
{
    return vp->suspend == 0 && !vp->halted && vp->state != VP_STATE_STOPPED &&
           vp->partition->state != PARTITION_STOPPED;
}

/* Gives `vp` the CPU's x87/SSE registers, saving the previous owner's. A VP that never ran
 * starts from the reset state (FCW 0x37F, MXCSR 0x1F80; Intel SDM vol. 1, 8.1.5, 10.2.3). */
static void fpu_switch_to(struct vp *vp)
{
    struct vp **owner = &fpu_owner[this_cpu_index()];
    if (*owner == vp)
        return;
    if (*owner)
        __asm__ volatile("fxsave64 %0" : "=m"((*owner)->fpu_state));
    if (!vp->fpu_initialized) {
        __asm__ volatile("fninit");
        uint32_t mxcsr = 0x1F80;
        __asm__ volatile("ldmxcsr %0" : : "m"(mxcsr));
        __asm__ volatile("fxsave64 %0" : "=m"(vp->fpu_state));
        vp->fpu_initialized = true;
    }
    __asm__ volatile("fxrstor64 %0" : : "m"(vp->fpu_state));
    *owner = vp;
}

/* A VP leaving for good must not stay the owner of any CPU's registers. */
static void fpu_forget(struct vp *vp)
{
    for (uint32_t i = 0; i < MAX_CPUS; i++) {
        struct vp *expected = vp;
        __atomic_compare_exchange_n(&fpu_owner[i], &expected, NULL, false, __ATOMIC_ACQ_REL,
                                    __ATOMIC_RELAXED);
    }
}

void sched_add_vp(struct vp *vp, uint32_t cpu)
{
    install_handlers();
    if (cpu >= MAX_CPUS || !percpu_area[cpu].online)
        cpu = 0;
    struct run_queue *q = &queues[cpu];
    uint64_t flags = spin_lock_irqsave(&q->lock);
    vp->cpu = cpu;
    vp->next_in_queue = q->head;
    q->head = vp;
    q->count++;
    vp->queued = true;
    spin_unlock_irqrestore(&q->lock, flags);
    kick(cpu);
}

void sched_remove_vp(struct vp *vp)
{
    struct run_queue *q = &queues[vp->cpu];
    for (;;) {
        uint64_t flags = spin_lock_irqsave(&q->lock);
        if (!vp->running && !q->servicing_timers) {
            for (struct vp **link = &q->head; *link; link = &(*link)->next_in_queue) {
                if (*link == vp) {
                    *link = vp->next_in_queue;
                    q->count--;
                    break;
                }
            }
            if (q->last_run == vp)
                q->last_run = NULL;
            vp->queued = false;
            spin_unlock_irqrestore(&q->lock, flags);
            fpu_forget(vp);
            return;
        }
        vp->state = VP_STATE_STOPPED; /* its CPU drops it after this exit */
        spin_unlock_irqrestore(&q->lock, flags);
        kick(vp->cpu);
        cpu_relax();
    }
}

void sched_suspend(struct vp *vp, enum vp_suspend reason)
{
    struct run_queue *q = &queues[vp->cpu];
    uint64_t flags = spin_lock_irqsave(&q->lock);
    vp->suspend |= reason;
    bool running = vp->running;
    spin_unlock_irqrestore(&q->lock, flags);
    if (running)
        kick(vp->cpu); /* make it exit so the suspension takes effect */
}

void sched_resume(struct vp *vp, enum vp_suspend reason)
{
    struct run_queue *q = &queues[vp->cpu];
    uint64_t flags = spin_lock_irqsave(&q->lock);
    vp->suspend &= ~(uint32_t)reason;
    bool now_runnable = runnable(vp);
    spin_unlock_irqrestore(&q->lock, flags);
    if (now_runnable)
        kick(vp->cpu);
}

void sched_wake(struct vp *vp)
{
    struct run_queue *q = &queues[vp->cpu];
    uint64_t flags = spin_lock_irqsave(&q->lock);
    if (vp->halted)
        vp->halted = false;
    else
        vp->wake_pending = true;
    spin_unlock_irqrestore(&q->lock, flags);
    kick(vp->cpu);
}

void sched_wake_timer(struct vp *vp)
{
    kick(vp->cpu);
}

bool sched_is_suspended(const struct vp *vp, enum vp_suspend reason)
{
    return __atomic_load_n(&vp->suspend, __ATOMIC_ACQUIRE) & reason;
}

bool sched_halt(struct vp *vp)
{
    struct run_queue *q = &queues[vp->cpu];
    uint64_t flags = spin_lock_irqsave(&q->lock);
    bool halt = !vp->wake_pending;
    vp->wake_pending = false;
    vp->halted = halt;
    spin_unlock_irqrestore(&q->lock, flags);
    return halt;
}

/* The next runnable VP after the last one run (round robin); marks it running. Also says
 * whether another one is runnable, which decides if a time slice timer is needed. */
static struct vp *pick(struct run_queue *q, bool *others_runnable)
{
    struct vp *start = q->last_run && q->last_run->queued ? q->last_run->next_in_queue : NULL;
    struct vp *chosen = NULL;
    *others_runnable = false;
    for (int pass = 0; pass < 2; pass++) {
        for (struct vp *vp = pass == 0 ? start : q->head; vp; vp = vp->next_in_queue) {
            if (pass == 1 && vp == start)
                break;
            if (!runnable(vp))
                continue;
            if (!chosen)
                chosen = vp;
            else
                *others_runnable = true;
        }
    }
    if (chosen) {
        chosen->running = true;
        q->last_run = chosen;
    }
    return chosen;
}

/* Delivers the expired synthetic timers of this CPU's VPs (hv/stimer.c); returns the
 * earliest deadline still armed, 0 if none. Posting a timer message takes queue locks,
 * so this runs unlocked over a snapshot; sched_remove_vp waits while it does. */
static uint64_t service_timers(struct run_queue *q)
{
    struct vp *snapshot[64];
    uint32_t count = 0;
    uint64_t flags = spin_lock_irqsave(&q->lock);
    for (struct vp *vp = q->head; vp && count < 64; vp = vp->next_in_queue)
        snapshot[count++] = vp;
    q->servicing_timers = true;
    spin_unlock_irqrestore(&q->lock, flags);

    uint64_t now = time_now_ns(), next = 0;
    for (uint32_t i = 0; i < count; i++) {
        uint64_t deadline = stimer_service(snapshot[i], now);
        if (deadline && (!next || deadline < next))
            next = deadline;
        deadline = vlapic_timer_service(snapshot[i], now);
        if (deadline && (!next || deadline < next))
            next = deadline;
    }
    __atomic_store_n(&q->servicing_timers, false, __ATOMIC_RELEASE);
    return next;
}

/* Arms this CPU's LAPIC timer for the earlier of the time slice (when another VP waits)
 * and the next synthetic-timer deadline. False if neither applies. */
static bool arm_timer(bool slice, uint64_t deadline)
{
    uint64_t now = time_now_ns(), wait = 0;
    if (slice)
        wait = TIME_SLICE_NS;
    if (deadline) {
        uint64_t until = deadline > now ? deadline - now : 1000;
        if (!wait || until < wait)
            wait = until;
    }
    if (!wait)
        return false;
    lapic_timer_oneshot(wait, LAPIC_VECTOR_TIMER);
    return true;
}

void sched_run_this_cpu(void)
{
    struct run_queue *q = &queues[this_cpu_index()];
    install_handlers();
    for (;;) {
        uint64_t deadline = service_timers(q);
        interrupts_disable();
        spin_lock(&q->lock);
        bool others;
        struct vp *vp = pick(q, &others);
        spin_unlock(&q->lock);
        if (!vp) {
            arm_timer(false, deadline);
            /* STI's one-instruction shadow: no wake-up IPI is lost between the check
             * above and the halt. */
            __asm__ volatile("sti; hlt" ::: "memory");
            lapic_timer_stop();
            continue;
        }
        bool timer = arm_timer(others, deadline);

        fpu_switch_to(vp);
        /* Interrupts stay off from here to VMRUN (the world switch sets IF only once GIF
         * is clear): an IPI for an interrupt raised after this look at the virtual APIC
         * stays pending and makes the guest exit at once instead of being taken here. */
        vlapic_prepare_entry(vp);
        struct hv_exit exit;
        /* The VP's run time: the world switch in, guest mode, the exit (interrupts are off
         * from here to the exit, so nothing else is counted in it). */
        uint64_t entered = rdtsc();
        hv_vendor->vp_run(vp, &exit);
        uint64_t ran = rdtsc() - entered;
        if (timer)
            lapic_timer_stop();
        vp->statistics.runs++;
        vp->statistics.exits[exit.reason]++;
        vp->statistics.run_tsc += ran;
        __atomic_fetch_add(&vp->partition->statistics.exits, 1, __ATOMIC_RELAXED);
        __atomic_fetch_add(&vp->partition->statistics.run_tsc, ran, __ATOMIC_RELAXED);
        __atomic_fetch_add(&vp->partition->statistics.exits_by_reason[exit.reason], 1,
                           __ATOMIC_RELAXED);
        if (hv_exit_dispatch(vp, &exit) == EXIT_STOP)
            vp->state = VP_STATE_STOPPED;

        uint64_t flags = spin_lock_irqsave(&q->lock);
        vp->running = false;
        spin_unlock_irqrestore(&q->lock, flags);
    }
}
