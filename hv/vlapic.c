#include "hv/vlapic.h"

#include "hv/hyperv.h"
#include "hv/partition.h"
#include "hv/sched.h"
#include "hv/vendor.h"
#include "kernel/log.h"
#include "kernel/tsc.h"
#include "kernel/x86.h"

#define NS_PER_SECOND 1000000000ull
#define FIRST_VALID_VECTOR 16 /* vectors 0-15 are illegal for the APIC (SDM 11.5.2) */
/* A periodic timer cannot make its CPU spin on expiries: periods below 50 us run at
 * 50 us (as hv/stimer.c does for the synthetic timers). */
#define MIN_PERIOD_NS 50000u

/* Writable bits of each LVT entry (SDM vol. 3, Figure 11-8); everything else is reserved
 * or read-only (delivery status 12, remote IRR 14) and a write setting it #GPs. */
static const uint32_t lvt_writable[VLAPIC_LVT_COUNT] = {
    [VLAPIC_LVT_CMCI] = 0x107FFu,    /* vector, delivery mode, mask */
    [VLAPIC_LVT_TIMER] = 0x700FFu,   /* vector, mask, timer mode 18:17 */
    [VLAPIC_LVT_THERMAL] = 0x107FFu,
    [VLAPIC_LVT_PERF] = 0x107FFu,
    [VLAPIC_LVT_LINT0] = 0x1A7FFu,   /* vector, delivery mode, polarity, trigger, mask */
    [VLAPIC_LVT_LINT1] = 0x1A7FFu,
    [VLAPIC_LVT_ERROR] = 0x100FFu,   /* vector, mask */
};

/* ---- pure helpers --------------------------------------------------------------------- */

int vlapic_highest_vector(const uint32_t map[8])
{
    for (int word = 7; word >= 0; word--)
        if (map[word])
            return word * 32 + 31 - __builtin_clz(map[word]);
    return -1;
}

uint32_t vlapic_processor_priority(uint32_t tpr, int highest_isr)
{
    uint32_t isrv = highest_isr < 0 ? 0 : (uint32_t)highest_isr;
    return (tpr & 0xF0) >= (isrv & 0xF0) ? tpr & 0xFF : isrv & 0xF0;
}

uint32_t vlapic_divisor(uint32_t divide_config)
{
    uint32_t code = ((divide_config & 8) >> 1) | (divide_config & 3);
    return code == 7 ? 1 : 2u << code;
}

/* a * b / c with a 128-bit intermediate product (MUL, then DIV of RDX:RAX; Intel SDM
 * vol. 2), saturating when the quotient does not fit 64 bits; c > 0. */
static uint64_t multiply_divide(uint64_t a, uint64_t b, uint64_t c)
{
    uint64_t high, low, quotient, remainder;
    __asm__("mulq %3" : "=a"(low), "=d"(high) : "a"(a), "rm"(b) : "cc");
    if (high >= c)
        return UINT64_MAX; /* DIV would raise #DE */
    __asm__("divq %4" : "=a"(quotient), "=d"(remainder) : "a"(low), "d"(high), "rm"(c) : "cc");
    return quotient;
}

uint64_t vlapic_ticks_to_ns(uint64_t ticks, uint32_t divisor, uint64_t hz)
{
    if (hz == 0)
        return UINT64_MAX;
    if (divisor && ticks > UINT64_MAX / divisor)
        return UINT64_MAX;
    return multiply_divide(ticks * divisor, NS_PER_SECOND, hz);
}

uint64_t vlapic_ns_to_ticks(uint64_t ns, uint32_t divisor, uint64_t hz)
{
    if (divisor == 0)
        return 0;
    uint64_t per_second = NS_PER_SECOND * divisor;
    uint64_t ticks = multiply_divide(ns, hz, per_second);
    /* Round up: a timer with time left never reads 0 before it fires. */
    if (ticks != UINT64_MAX && multiply_divide(ticks, per_second, hz) < ns)
        ticks++;
    return ticks;
}

uint32_t vlapic_logical_id(uint32_t apic_id)
{
    return ((apic_id >> 4) << 16) | (1u << (apic_id & 0xF));
}

/* x2APIC ICR (SDM vol. 3, 11.12.9): vector 7:0, delivery mode 10:8, destination mode 11,
 * level 14, trigger mode 15, shorthand 19:18, destination 63:32. Bits 12 (delivery status,
 * gone in x2APIC), 13, 17:16 and 31:20 are reserved. */
#define ICR_RESERVED 0x00000000FFF33000ull

bool vlapic_icr_decode(uint64_t value, struct vlapic_icr *out)
{
    if (value & ICR_RESERVED)
        return false;
    out->vector = (uint8_t)value;
    out->delivery_mode = (uint8_t)((value >> 8) & 7);
    out->logical = value & (1u << 11);
    out->level_assert = value & (1u << 14);
    out->level_triggered = value & (1u << 15);
    out->shorthand = (uint8_t)((value >> 18) & 3);
    out->destination = (uint32_t)(value >> 32);
    /* 3 and 7 are reserved delivery modes (SDM Figure 11-12). */
    return out->delivery_mode != 3 && out->delivery_mode != 7;
}

bool vlapic_icr_targets(const struct vlapic_icr *icr, uint32_t sender_id, uint32_t apic_id)
{
    switch (icr->shorthand) {
    case VLAPIC_SHORTHAND_SELF:
        return apic_id == sender_id;
    case VLAPIC_SHORTHAND_ALL:
        return true;
    case VLAPIC_SHORTHAND_OTHERS:
        return apic_id != sender_id;
    default:
        break;
    }
    if (icr->destination == 0xFFFFFFFFu)
        return true; /* broadcast, in either destination mode (SDM 11.12.9) */
    if (!icr->logical)
        return icr->destination == apic_id;
    /* Cluster model (SDM 11.12.10.2): the high 16 bits name the cluster, the low 16 bits
     * are a bitmap of the members. */
    uint32_t logical = vlapic_logical_id(apic_id);
    return (icr->destination >> 16) == (logical >> 16) &&
           (icr->destination & logical & 0xFFFFu) != 0;
}

/* ---- state ---------------------------------------------------------------------------- */

/* The APIC's lock, interrupts off: vlapic_raise_interrupt may come from any context. The
 * host unit tests run in user mode, where CLI faults and no interrupt can come. */
static uint64_t lock(struct vlapic *a)
{
#ifdef HVFW_HOST_TEST
    spin_lock(&a->lock);
    return 0;
#else
    return spin_lock_irqsave(&a->lock);
#endif
}

static void unlock(struct vlapic *a, uint64_t flags)
{
#ifdef HVFW_HOST_TEST
    (void)flags;
    spin_unlock(&a->lock);
#else
    spin_unlock_irqrestore(&a->lock, flags);
#endif
}

/* ---- vector maps and reset -------------------------------------------------------------- */

static void set_bit(uint32_t map[8], uint8_t vector)
{
    map[vector / 32] |= 1u << (vector % 32);
}

static void clear_bit(uint32_t map[8], uint8_t vector)
{
    map[vector / 32] &= ~(1u << (vector % 32));
}

/* Power-up and INIT state (SDM vol. 3, 11.4.7.1): IRR, ISR, TMR, TPR, ESR, ICR, timer
 * cleared, every LVT masked, SVR 0xFF (software disabled). [a->lock or not yet shared] */
static void reset(struct vlapic *a)
{
    for (int i = 0; i < 8; i++)
        a->irr[i] = a->isr[i] = a->tmr[i] = 0;
    a->tpr = 0;
    a->svr = 0xFF;
    a->esr = a->esr_pending = 0;
    for (int i = 0; i < VLAPIC_LVT_COUNT; i++)
        a->lvt[i] = VLAPIC_LVT_MASKED;
    a->icr = 0;
    a->timer_initial = 0;
    a->timer_divide = 0;
    a->timer_deadline_ns = 0;
    a->timer_period_ns = 0;
    a->tsc_deadline = 0;
    a->nmi_pending = false;
}

void vlapic_init(struct vp *vp)
{
    struct vlapic *a = &vp->vlapic;
    a->lock = (struct spinlock)SPINLOCK_INIT;
    reset(a);
    a->present = !vp->partition->is_root;
}

static const char *partition_name(const struct vp *vp)
{
    return vp->partition->name;
}

/* Sets `vector` in the IRR; false if the APIC refuses it (an illegal vector is recorded in
 * the ESR). [a->lock] */
static bool accept_fixed(struct vlapic *a, uint8_t vector)
{
    if (vector < FIRST_VALID_VECTOR) {
        a->esr_pending |= VLAPIC_ESR_RECEIVE_ILLEGAL_VECTOR;
        return false;
    }
    if (!(a->svr & VLAPIC_SVR_ENABLE))
        return false; /* a software-disabled APIC takes no fixed interrupts (11.4.7.2) */
    set_bit(a->irr, vector);
    return true;
}

/* Makes the VP look at its APIC: wake it if it halts (or is about to: sched_wake then
 * makes its next HLT return at once), else kick its CPU so it exits. */
static void notify(struct vp *vp)
{
    sched_wake(vp);
}

void vlapic_raise_interrupt(struct vp *vp, uint8_t vector)
{
    struct vlapic *a = &vp->vlapic;
    if (!a->present)
        return;
    uint64_t flags = lock(a);
    bool accepted = accept_fixed(a, vector);
    unlock(a, flags);
    if (accepted)
        notify(vp);
    else if (vector < FIRST_VALID_VECTOR)
        log_debug("partition %lu (%s) VP %u: interrupt vector %u refused (below 16)",
                  vp->partition->id, partition_name(vp), vp->index, vector);
}

/* ---- the timer -------------------------------------------------------------------------- */

static uint32_t timer_mode(const struct vlapic *a)
{
    return (a->lvt[VLAPIC_LVT_TIMER] >> VLAPIC_LVT_TIMER_MODE_SHIFT) & 3;
}

static uint64_t saturating_add(uint64_t a, uint64_t b)
{
    return a + b < a ? UINT64_MAX : a + b;
}

/* The deadline of a TSC-deadline value, in time_now_ns() terms: the guest's TSC is the
 * host's (the VMCB's TSC offset is 0). */
static uint64_t tsc_deadline_ns(uint64_t tsc_deadline)
{
    uint64_t now_tsc = rdtsc(), now = time_now_ns();
    if (tsc_deadline <= now_tsc)
        return now ? now : 1;
    uint64_t khz = tsc_khz();
    if (!khz)
        return UINT64_MAX;
    return saturating_add(now, multiply_divide(tsc_deadline - now_tsc, 1000000u, khz));
}

/* (Re)arms the count-down timer after a write of the initial count, the divide
 * configuration or the LVT mode (SDM 11.5.4: writing the initial count starts it; 0
 * stops it). [a->lock] */
static void timer_start(struct vlapic *a)
{
    a->timer_deadline_ns = 0;
    a->timer_period_ns = 0;
    uint32_t mode = timer_mode(a);
    if (mode == VLAPIC_TIMER_TSC_DEADLINE) {
        if (a->tsc_deadline)
            a->timer_deadline_ns = tsc_deadline_ns(a->tsc_deadline);
        return;
    }
    if (a->timer_initial == 0)
        return;
    uint64_t ns = vlapic_ticks_to_ns(a->timer_initial, vlapic_divisor(a->timer_divide),
                                     hyperv_apic_frequency_hz());
    if (mode == VLAPIC_TIMER_PERIODIC) {
        if (ns < MIN_PERIOD_NS)
            ns = MIN_PERIOD_NS;
        a->timer_period_ns = ns;
    }
    a->timer_deadline_ns = saturating_add(time_now_ns(), ns);
}

static uint32_t timer_current_count(const struct vlapic *a)
{
    if (timer_mode(a) == VLAPIC_TIMER_TSC_DEADLINE || !a->timer_deadline_ns)
        return 0;
    uint64_t now = time_now_ns();
    if (a->timer_deadline_ns <= now)
        return 0;
    uint64_t ticks = vlapic_ns_to_ticks(a->timer_deadline_ns - now,
                                        vlapic_divisor(a->timer_divide),
                                        hyperv_apic_frequency_hz());
    return ticks > a->timer_initial ? a->timer_initial : (uint32_t)ticks;
}

uint64_t vlapic_timer_service(struct vp *vp, uint64_t now_ns)
{
    struct vlapic *a = &vp->vlapic;
    if (!a->present)
        return 0;
    uint64_t flags = lock(a);
    bool raise = false;
    if (a->timer_deadline_ns && a->timer_deadline_ns <= now_ns) {
        uint32_t lvt = a->lvt[VLAPIC_LVT_TIMER];
        if (!(lvt & VLAPIC_LVT_MASKED))
            raise = accept_fixed(a, (uint8_t)lvt);
        if (a->timer_period_ns) {
            /* The next expiry follows the previous one, not the service time, so the
             * period does not drift. Expiries missed while the VP was held up are lost,
             * as one pending IRR bit absorbs them on hardware, and the grid stays: the
             * next deadline is the first multiple of the period after now. */
            uint64_t behind = now_ns - a->timer_deadline_ns;
            uint64_t periods = behind / a->timer_period_ns + 1;
            uint64_t step = periods > UINT64_MAX / a->timer_period_ns
                                ? UINT64_MAX
                                : periods * a->timer_period_ns;
            a->timer_deadline_ns = saturating_add(a->timer_deadline_ns, step);
        } else {
            a->timer_deadline_ns = 0;
            if (timer_mode(a) == VLAPIC_TIMER_TSC_DEADLINE)
                a->tsc_deadline = 0; /* SDM 11.5.4.1: the MSR reads 0 after it fired */
        }
        if (raise)
            a->timer_interrupts++;
    }
    uint64_t next = a->timer_deadline_ns;
    unlock(a, flags);
    if (raise)
        notify(vp);
    return next;
}

/* ---- priorities and injection ----------------------------------------------------------- */

/* The TPR as the guest last set it: a 64-bit guest may write CR8 directly, which is the
 * VMCB's V_TPR (AMD APM vol. 2, 15.21.4) and equals TPR[7:4] (SDM 10.8.6.1). [VP's CPU] */
static uint32_t current_tpr(struct vp *vp, struct vlapic *a)
{
    uint32_t cr8 = (uint32_t)hv_vendor->vp_get(vp, VP_REGISTER_CR8) & 0xF;
    if (cr8 != a->tpr >> 4)
        a->tpr = cr8 << 4;
    return a->tpr;
}

/* The highest IRR vector above the processor priority, -1 if none. [a->lock] */
static int deliverable_vector(struct vlapic *a, uint32_t tpr)
{
    int irr = vlapic_highest_vector(a->irr);
    if (irr < 0)
        return -1;
    uint32_t ppr = vlapic_processor_priority(tpr, vlapic_highest_vector(a->isr));
    return ((uint32_t)irr & 0xF0) > (ppr & 0xF0) ? irr : -1;
}

/* Real-address mode at CS = vector << 8, IP = 0, the rest as after INIT (SDM vol. 3,
 * Table 10-1): CR0 = 0x60000010 (CD, NW, ET), CR2-4 0, EFER 0, EFLAGS 2, segments with
 * base 0 and limit 0xFFFF, GDTR/IDTR base 0 limit 0xFFFF, DR6/DR7 their reset values,
 * general registers 0 except EDX (the processor signature). [VP's CPU, not running] */
static void apply_startup(struct vp *vp, uint8_t vector)
{
    const struct vp_segment_value code = {(uint64_t)vector << 12, 0xFFFF,
                                          (uint16_t)(vector << 8), 0x09B};
    const struct vp_segment_value data = {0, 0xFFFF, 0, 0x093};
    const struct vp_segment_value table = {0, 0xFFFF, 0, 0};
    const struct vp_segment_value ldtr = {0, 0xFFFF, 0, 0x082};
    const struct vp_segment_value tr = {0, 0xFFFF, 0, 0x08B};
    hv_vendor->vp_set(vp, VP_REGISTER_CR0, 0x60000010u);
    hv_vendor->vp_set(vp, VP_REGISTER_CR2, 0);
    hv_vendor->vp_set(vp, VP_REGISTER_CR3, 0);
    hv_vendor->vp_set(vp, VP_REGISTER_CR4, 0);
    hv_vendor->vp_set(vp, VP_REGISTER_EFER, 0);
    hv_vendor->vp_set(vp, VP_REGISTER_CR8, 0);
    hv_vendor->vp_set(vp, VP_REGISTER_RFLAGS, 0x2);
    hv_vendor->vp_set(vp, VP_REGISTER_RIP, 0);
    hv_vendor->vp_set(vp, VP_REGISTER_RSP, 0);
    hv_vendor->vp_set(vp, VP_REGISTER_DR6, 0xFFFF0FF0u);
    hv_vendor->vp_set(vp, VP_REGISTER_DR7, 0x400);
    hv_vendor->vp_set(vp, VP_REGISTER_PAT, 0x0007040600070406ull);
    hv_vendor->vp_set(vp, VP_REGISTER_PENDING_EVENT, 0);
    hv_vendor->vp_set(vp, VP_REGISTER_INTERRUPT_SHADOW, 0);
    hv_vendor->vp_set_segment(vp, VP_SEGMENT_CS, &code);
    hv_vendor->vp_set_segment(vp, VP_SEGMENT_DS, &data);
    hv_vendor->vp_set_segment(vp, VP_SEGMENT_ES, &data);
    hv_vendor->vp_set_segment(vp, VP_SEGMENT_FS, &data);
    hv_vendor->vp_set_segment(vp, VP_SEGMENT_GS, &data);
    hv_vendor->vp_set_segment(vp, VP_SEGMENT_SS, &data);
    hv_vendor->vp_set_segment(vp, VP_SEGMENT_GDTR, &table);
    hv_vendor->vp_set_segment(vp, VP_SEGMENT_IDTR, &table);
    hv_vendor->vp_set_segment(vp, VP_SEGMENT_LDTR, &ldtr);
    hv_vendor->vp_set_segment(vp, VP_SEGMENT_TR, &tr);
    uint32_t eax, ebx, ecx, edx;
    cpuid(1, 0, &eax, &ebx, &ecx, &edx);
    struct vp_registers zero = {0};
    vp->registers = zero;
    vp->registers.rdx = eax;
}

void vlapic_prepare_entry(struct vp *vp)
{
    struct vlapic *a = &vp->vlapic;
    if (!a->present)
        return;
    uint64_t flags = lock(a);
    uint16_t sipi = a->sipi;
    a->sipi = 0;
    unlock(a, flags);
    if (sipi & 0x100) {
        apply_startup(vp, (uint8_t)sipi);
        log_debug("partition %lu (%s) VP %u: start-up at %x:0000", vp->partition->id,
                  partition_name(vp), vp->index, (sipi & 0xFF) << 8);
    }

    uint32_t tpr = current_tpr(vp, a);
    flags = lock(a);
    bool nmi = a->nmi_pending && hv_vendor->vp_inject_nmi(vp);
    if (nmi)
        a->nmi_pending = false;
    int vector = deliverable_vector(a, tpr);
    bool window = a->nmi_pending; /* an NMI waits for the event ahead of it */
    if (vector >= 0) {
        if (!nmi && hv_vendor->vp_interrupt_ready(vp)) {
            hv_vendor->vp_inject_interrupt(vp, (uint8_t)vector);
            clear_bit(a->irr, (uint8_t)vector);
            set_bit(a->isr, (uint8_t)vector);
        } else {
            window = true;
        }
    }
    unlock(a, flags);
    hv_vendor->vp_request_interrupt_window(vp, window);
}

bool vlapic_halt_may_sleep(struct vp *vp, bool interrupts_enabled)
{
    struct vlapic *a = &vp->vlapic;
    if (!a->present)
        return true;
    uint32_t tpr = current_tpr(vp, a);
    uint64_t flags = lock(a);
    bool pending = a->nmi_pending || (interrupts_enabled && deliverable_vector(a, tpr) >= 0);
    unlock(a, flags);
    return !pending;
}

/* ---- IPIs ------------------------------------------------------------------------------- */

static void send_init(struct vp *target)
{
    struct vlapic *a = &target->vlapic;
    uint64_t flags = lock(a);
    reset(a);
    a->wait_for_sipi = true;
    a->sipi = 0;
    unlock(a, flags);
    sched_suspend(target, VP_SUSPEND_WAIT_FOR_SIPI);
}

/* A VP the root created and never released waits for a SIPI as if after INIT. */
static bool never_started(const struct vp *target)
{
    return __atomic_load_n(&target->statistics.runs, __ATOMIC_ACQUIRE) == 0 &&
           sched_is_suspended(target, VP_SUSPEND_EXPLICIT);
}

static void send_startup(struct vp *target, uint8_t vector)
{
    struct vlapic *a = &target->vlapic;
    bool unstarted = never_started(target);
    uint64_t flags = lock(a);
    bool waiting = a->wait_for_sipi || unstarted;
    if (waiting) {
        a->wait_for_sipi = false;
        a->sipi = (uint16_t)(0x100 | vector);
    }
    unlock(a, flags);
    if (!waiting)
        return; /* SDM 9.4.4: a SIPI to a processor not in wait-for-SIPI is ignored */
    sched_resume(target, VP_SUSPEND_WAIT_FOR_SIPI);
    if (unstarted)
        sched_resume(target, VP_SUSPEND_EXPLICIT);
    sched_wake(target);
}

static void send_nmi(struct vp *target)
{
    struct vlapic *a = &target->vlapic;
    uint64_t flags = lock(a);
    a->nmi_pending = true;
    unlock(a, flags);
    notify(target);
}

/* Delivers one decoded ICR write to every target in the sender's partition. */
static void send_ipi(struct vp *sender, const struct vlapic_icr *icr)
{
    struct partition *p = sender->partition;
    uint32_t count = __atomic_load_n(&p->vp_count, __ATOMIC_ACQUIRE);
    for (uint32_t i = 0; i < count; i++) {
        struct vp *target = p->vps[i];
        if (!target || !vlapic_icr_targets(icr, sender->index, target->index))
            continue;
        switch (icr->delivery_mode) {
        case VLAPIC_ICR_FIXED:
        case VLAPIC_ICR_LOWEST_PRIORITY: /* every target gets it: a valid choice (11.6.2.4) */
            vlapic_raise_interrupt(target, icr->vector);
            break;
        case VLAPIC_ICR_NMI:
            send_nmi(target);
            break;
        case VLAPIC_ICR_INIT:
            /* INIT level de-assert (level 0, trigger level) only synchronizes arbitration
             * IDs on old processors: nothing to do (SDM 11.6.1). */
            if (icr->level_assert || !icr->level_triggered)
                send_init(target);
            break;
        case VLAPIC_ICR_STARTUP:
            send_startup(target, icr->vector);
            break;
        default:
            break; /* SMI: no SMM in a child */
        }
    }
}

/* ---- MSRs ------------------------------------------------------------------------------- */

static enum vlapic_msr_result write_icr(struct vp *vp, struct vlapic *a, uint64_t value)
{
    struct vlapic_icr icr;
    if (!vlapic_icr_decode(value, &icr))
        return VLAPIC_MSR_FAULT;
    uint64_t flags = lock(a);
    a->icr = value;
    bool illegal = (icr.delivery_mode == VLAPIC_ICR_FIXED ||
                    icr.delivery_mode == VLAPIC_ICR_LOWEST_PRIORITY) &&
                   icr.vector < FIRST_VALID_VECTOR;
    if (illegal)
        a->esr_pending |= VLAPIC_ESR_SEND_ILLEGAL_VECTOR;
    unlock(a, flags);
    if (!illegal)
        send_ipi(vp, &icr);
    return VLAPIC_MSR_DONE;
}

static enum vlapic_msr_result write_lvt(struct vlapic *a, enum vlapic_lvt which, uint64_t value)
{
    if (value & ~(uint64_t)lvt_writable[which])
        return VLAPIC_MSR_FAULT;
    uint32_t v = (uint32_t)value;
    if (which == VLAPIC_LVT_TIMER && ((v >> VLAPIC_LVT_TIMER_MODE_SHIFT) & 3) == 3)
        return VLAPIC_MSR_FAULT; /* timer mode 11b is reserved */
    if (!(a->svr & VLAPIC_SVR_ENABLE))
        v |= VLAPIC_LVT_MASKED; /* software disabled: the masks stay set (11.4.7.2) */
    uint32_t old_mode = timer_mode(a);
    a->lvt[which] = v;
    if (which == VLAPIC_LVT_TIMER && timer_mode(a) != old_mode) {
        /* A mode change disarms the timer (SDM 11.5.4.1). */
        a->timer_initial = 0;
        a->tsc_deadline = 0;
        timer_start(a);
    }
    return VLAPIC_MSR_DONE;
}

static int lvt_of(uint32_t msr)
{
    if (msr == VLAPIC_MSR_LVT_CMCI)
        return VLAPIC_LVT_CMCI;
    if (msr >= VLAPIC_MSR_LVT_TIMER && msr <= VLAPIC_MSR_LVT_ERROR)
        return VLAPIC_LVT_TIMER + (int)(msr - VLAPIC_MSR_LVT_TIMER);
    return -1;
}

static uint64_t apic_base(const struct vp *vp)
{
    return VLAPIC_BASE_ADDRESS | VLAPIC_BASE_ENABLE | VLAPIC_BASE_EXTD |
           (vp->index == 0 ? VLAPIC_BASE_BSP : 0);
}

enum vlapic_msr_result vlapic_msr_read(struct vp *vp, uint32_t msr, uint64_t *value)
{
    struct vlapic *a = &vp->vlapic;
    if (!a->present)
        return VLAPIC_MSR_UNHANDLED;
    if (msr == VLAPIC_MSR_APIC_BASE) {
        *value = apic_base(vp);
        return VLAPIC_MSR_DONE;
    }
    if (msr != VLAPIC_MSR_TSC_DEADLINE && (msr < VLAPIC_MSR_FIRST || msr > VLAPIC_MSR_LAST))
        return VLAPIC_MSR_UNHANDLED;
    uint32_t tpr = current_tpr(vp, a);
    enum vlapic_msr_result result = VLAPIC_MSR_DONE;
    uint64_t flags = lock(a);
    int lvt = lvt_of(msr);
    if (lvt >= 0) {
        *value = a->lvt[lvt];
    } else if (msr >= VLAPIC_MSR_ISR0 && msr < VLAPIC_MSR_ISR0 + 8) {
        *value = a->isr[msr - VLAPIC_MSR_ISR0];
    } else if (msr >= VLAPIC_MSR_TMR0 && msr < VLAPIC_MSR_TMR0 + 8) {
        *value = a->tmr[msr - VLAPIC_MSR_TMR0];
    } else if (msr >= VLAPIC_MSR_IRR0 && msr < VLAPIC_MSR_IRR0 + 8) {
        *value = a->irr[msr - VLAPIC_MSR_IRR0];
    } else {
        switch (msr) {
        case VLAPIC_MSR_TSC_DEADLINE:
            *value = timer_mode(a) == VLAPIC_TIMER_TSC_DEADLINE ? a->tsc_deadline : 0;
            break;
        case VLAPIC_MSR_ID:
            *value = vp->index;
            break;
        case VLAPIC_MSR_VERSION:
            *value = VLAPIC_VERSION;
            break;
        case VLAPIC_MSR_TPR:
            *value = tpr;
            break;
        case VLAPIC_MSR_PPR:
            *value = vlapic_processor_priority(tpr, vlapic_highest_vector(a->isr));
            break;
        case VLAPIC_MSR_LDR:
            *value = vlapic_logical_id(vp->index);
            break;
        case VLAPIC_MSR_SVR:
            *value = a->svr;
            break;
        case VLAPIC_MSR_ESR:
            *value = a->esr;
            break;
        case VLAPIC_MSR_ICR:
            *value = a->icr;
            break;
        case VLAPIC_MSR_TIMER_INITIAL:
            *value = a->timer_initial;
            break;
        case VLAPIC_MSR_TIMER_CURRENT:
            *value = timer_current_count(a);
            break;
        case VLAPIC_MSR_TIMER_DIVIDE:
            *value = a->timer_divide;
            break;
        default:
            /* EOI and SELF_IPI are write-only; the rest of 0x800-0x8FF does not exist
             * (SDM 11.12.1.2: #GP). */
            result = VLAPIC_MSR_FAULT;
            break;
        }
    }
    unlock(a, flags);
    return result;
}

/* A write to IA32_APIC_BASE that keeps EN|EXTD and the base is a no-op; leaving x2APIC
 * mode (EXTD 1 -> 0 with EN 1 is an invalid transition, SDM 11.12.5 Figure 11-27) or
 * moving or disabling the APIC is not offered: #GP, logged once. BSP is read-only and
 * ignored, as on hardware. */
static enum vlapic_msr_result write_apic_base(struct vp *vp, struct vlapic *a, uint64_t value)
{
    if ((value & ~VLAPIC_BASE_BSP) == (apic_base(vp) & ~VLAPIC_BASE_BSP))
        return VLAPIC_MSR_DONE;
    if (!__atomic_exchange_n(&a->base_write_logged, true, __ATOMIC_RELAXED))
        log_info("partition %lu (%s) VP %u: IA32_APIC_BASE %lx refused: the APIC stays in "
                 "x2APIC mode at %llx (#GP)", vp->partition->id, partition_name(vp), vp->index,
                 value, VLAPIC_BASE_ADDRESS);
    return VLAPIC_MSR_FAULT;
}

/* Every write happens during the VP's own MSR exit: its next entry looks at the IRR and
 * ISR again, so an EOI, a lower TPR or a self-IPI needs no wake-up. [a->lock] */
static enum vlapic_msr_result write_register(struct vp *vp, struct vlapic *a, uint32_t msr,
                                             uint64_t value)
{
    int lvt = lvt_of(msr);
    if (lvt >= 0)
        return write_lvt(a, (enum vlapic_lvt)lvt, value);
    switch (msr) {
    case VLAPIC_MSR_TSC_DEADLINE:
        /* Ignored unless the timer is in TSC-deadline mode (SDM 11.5.4.1). */
        if (timer_mode(a) == VLAPIC_TIMER_TSC_DEADLINE) {
            a->tsc_deadline = value;
            timer_start(a);
        }
        return VLAPIC_MSR_DONE;
    case VLAPIC_MSR_TPR:
        if (value & ~0xFFull)
            return VLAPIC_MSR_FAULT;
        a->tpr = (uint32_t)value;
        hv_vendor->vp_set(vp, VP_REGISTER_CR8, value >> 4);
        return VLAPIC_MSR_DONE;
    case VLAPIC_MSR_EOI: {
        if (value != 0)
            return VLAPIC_MSR_FAULT; /* SDM 11.12.1.2: non-zero EOI writes #GP */
        int isr = vlapic_highest_vector(a->isr);
        if (isr >= 0)
            clear_bit(a->isr, (uint8_t)isr);
        return VLAPIC_MSR_DONE;
    }
    case VLAPIC_MSR_SVR:
        /* Vector 7:0, APIC software enable 8; focus checking (9) and EOI broadcast
         * suppression (12) are not offered (VERSION bit 24 is clear): reserved. */
        if (value & ~0x1FFull)
            return VLAPIC_MSR_FAULT;
        a->svr = (uint32_t)value;
        if (!(value & VLAPIC_SVR_ENABLE))
            for (int i = 0; i < VLAPIC_LVT_COUNT; i++)
                a->lvt[i] |= VLAPIC_LVT_MASKED;
        return VLAPIC_MSR_DONE;
    case VLAPIC_MSR_ESR:
        if (value != 0)
            return VLAPIC_MSR_FAULT;
        a->esr = a->esr_pending; /* the write latches the errors seen since (11.5.3) */
        a->esr_pending = 0;
        return VLAPIC_MSR_DONE;
    case VLAPIC_MSR_TIMER_INITIAL:
        if (value > 0xFFFFFFFFu)
            return VLAPIC_MSR_FAULT;
        if (timer_mode(a) == VLAPIC_TIMER_TSC_DEADLINE)
            return VLAPIC_MSR_DONE; /* ignored in TSC-deadline mode (11.5.4.1) */
        a->timer_initial = (uint32_t)value;
        timer_start(a);
        return VLAPIC_MSR_DONE;
    case VLAPIC_MSR_TIMER_DIVIDE:
        if (value & ~0xBull)
            return VLAPIC_MSR_FAULT;
        a->timer_divide = (uint32_t)value;
        return VLAPIC_MSR_DONE;
    case VLAPIC_MSR_SELF_IPI:
        if (value & ~0xFFull)
            return VLAPIC_MSR_FAULT;
        accept_fixed(a, (uint8_t)value);
        return VLAPIC_MSR_DONE;
    default:
        /* Read-only (ID, VERSION, PPR, LDR, ISR, TMR, IRR, current count) or absent. */
        return VLAPIC_MSR_FAULT;
    }
}

enum vlapic_msr_result vlapic_msr_write(struct vp *vp, uint32_t msr, uint64_t value)
{
    struct vlapic *a = &vp->vlapic;
    if (!a->present)
        return VLAPIC_MSR_UNHANDLED;
    if (msr == VLAPIC_MSR_APIC_BASE)
        return write_apic_base(vp, a, value);
    if (msr != VLAPIC_MSR_TSC_DEADLINE && (msr < VLAPIC_MSR_FIRST || msr > VLAPIC_MSR_LAST))
        return VLAPIC_MSR_UNHANDLED;
    if (msr == VLAPIC_MSR_ICR)
        return write_icr(vp, a, value);
    current_tpr(vp, a);
    uint64_t flags = lock(a);
    bool timer_was_armed = a->timer_deadline_ns != 0;
    enum vlapic_msr_result result = write_register(vp, a, msr, value);
    bool timer_armed = a->timer_deadline_ns != 0;
    unlock(a, flags);
    if (timer_armed || timer_was_armed)
        sched_wake_timer(vp); /* its CPU recomputes how long it may sleep */
    return result;
}
