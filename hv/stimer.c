#include "hv/stimer.h"

#include <string.h>

#include "hv/intercept_abi.h"
#include "hv/partition.h"
#include "hv/sched.h"
#include "hv/synic.h"
#include "hv/vlapic.h"
#include "kernel/log.h"
#include "kernel/tsc.h"

#define NS_PER_UNIT 100u
#define TIMERS 4
#define CONFIG_KNOWN (HV_STIMER_ENABLE | HV_STIMER_PERIODIC | HV_STIMER_LAZY |             \
                      HV_STIMER_AUTO_ENABLE | (0xFull << HV_STIMER_SINT_SHIFT))
/* Direct mode needs a virtual LAPIC: children only. */
#define CONFIG_KNOWN_CHILD (CONFIG_KNOWN | HV_STIMER_DIRECT_MODE |                           \
                            (0xFFull << HV_STIMER_VECTOR_SHIFT))
#define FIRST_VALID_VECTOR 16

uint64_t stimer_reference_time(const struct vp *vp)
{
    return (time_now_ns() - vp->partition->reference_time_base_ns) / NS_PER_UNIT;
}

static uint64_t units_to_ns(uint64_t units)
{
    return units > UINT64_MAX / NS_PER_UNIT ? UINT64_MAX : units * NS_PER_UNIT;
}

static uint64_t saturating_add(uint64_t a, uint64_t b)
{
    return a + b < a ? UINT64_MAX : a + b;
}

/* A guest's periodic timer cannot make its CPU spin on expiries: periods below 50 us
 * run at 50 us. */
#define MIN_PERIOD_NS 50000u

static uint64_t period_ns(const struct vp_stimer *t)
{
    uint64_t ns = units_to_ns(t->count);
    return ns < MIN_PERIOD_NS ? MIN_PERIOD_NS : ns;
}

/* (Re)computes the deadline after a write. One-shot: `count` is an absolute reference time;
 * periodic: the period (TLFS 12.4.3). [the VP's timer lock] */
static void arm(struct vp *vp, struct vp_stimer *t)
{
    t->deadline_ns = 0;
    if (!(t->config & HV_STIMER_ENABLE) || t->count == 0)
        return;
    uint64_t base = vp->partition->reference_time_base_ns;
    if (t->config & HV_STIMER_PERIODIC)
        t->deadline_ns = saturating_add(time_now_ns(), period_ns(t));
    else
        t->deadline_ns = saturating_add(base, units_to_ns(t->count));
    if (t->deadline_ns == 0)
        t->deadline_ns = 1;
    sched_wake_timer(vp); /* its CPU recomputes how long it may sleep */
}

bool stimer_msr_read(struct vp *vp, uint32_t msr, uint64_t *value)
{
    if (msr == HV_X64_MSR_TIME_REF_COUNT) {
        *value = stimer_reference_time(vp);
        return true;
    }
    if (msr < HV_X64_MSR_STIMER0_CONFIG || msr > HV_X64_MSR_STIMER3_COUNT)
        return false;
    struct vp_stimer *t = &vp->stimers[(msr - HV_X64_MSR_STIMER0_CONFIG) / 2];
    *value = (msr & 1) ? t->count : t->config;
    return true;
}

/* Reserved bits, direct mode on a VP without a virtual LAPIC (the root's) or with an
 * exception vector are refused (TLFS 12.4.1). */
static bool config_valid(const struct vp *vp, uint64_t value)
{
    bool child = !vp->partition->is_root;
    if (value & ~(child ? CONFIG_KNOWN_CHILD : CONFIG_KNOWN))
        return false;
    return !(value & HV_STIMER_DIRECT_MODE) ||
           ((value >> HV_STIMER_VECTOR_SHIFT) & 0xFF) >= FIRST_VALID_VECTOR;
}

bool stimer_msr_write(struct vp *vp, uint32_t msr, uint64_t value)
{
    if (msr < HV_X64_MSR_STIMER0_CONFIG || msr > HV_X64_MSR_STIMER3_COUNT)
        return false; /* TIME_REF_COUNT is read-only: #GP */
    struct vp_stimer *t = &vp->stimers[(msr - HV_X64_MSR_STIMER0_CONFIG) / 2];
    uint64_t flags = spin_lock_irqsave(&vp->timer_lock);
    bool ok = true;
    if (msr & 1) {
        t->count = value;
        if (value && (t->config & HV_STIMER_AUTO_ENABLE))
            t->config |= HV_STIMER_ENABLE;
        if (value == 0)
            t->config &= ~HV_STIMER_ENABLE;
    } else if (!config_valid(vp, value)) {
        ok = false;
        log_debug("partition %lu VP %u: STIMER%u_CONFIG %lx refused: #GP", vp->partition->id,
                  vp->index, (msr - HV_X64_MSR_STIMER0_CONFIG) / 2, value);
    } else {
        t->config = value;
    }
    if (ok)
        arm(vp, t);
    spin_unlock_irqrestore(&vp->timer_lock, flags);
    return ok;
}

static void post_expiry(struct vp *vp, uint32_t index, const struct vp_stimer *t,
                        uint64_t now_ns)
{
    if (t->config & HV_STIMER_DIRECT_MODE) {
        /* TLFS 12.4.4: direct mode raises the configured vector, no message. */
        vlapic_raise_interrupt(vp, (uint8_t)(t->config >> HV_STIMER_VECTOR_SHIFT));
        return;
    }
    struct hv_message m;
    memset(&m, 0, sizeof(m));
    m.header.message_type = HV_MESSAGE_TYPE_TIMER_EXPIRED;
    m.header.payload_size = sizeof(struct hv_timer_message_payload);
    struct hv_timer_message_payload p = {
        .timer_index = index,
        .expiration_time = (t->deadline_ns - vp->partition->reference_time_base_ns) / NS_PER_UNIT,
        .delivery_time = (now_ns - vp->partition->reference_time_base_ns) / NS_PER_UNIT,
    };
    memcpy(m.payload, &p, sizeof(p));
    synic_post(vp, (unsigned)((t->config >> HV_STIMER_SINT_SHIFT) & 0xF), &m);
}

uint64_t stimer_service(struct vp *vp, uint64_t now_ns)
{
    uint64_t next = 0;
    uint64_t flags = spin_lock_irqsave(&vp->timer_lock);
    for (uint32_t i = 0; i < TIMERS; i++) {
        struct vp_stimer *t = &vp->stimers[i];
        if (!t->deadline_ns)
            continue;
        if (t->deadline_ns <= now_ns) {
            post_expiry(vp, i, t, now_ns);
            if (t->config & HV_STIMER_PERIODIC) {
                /* The next deadline is a whole number of periods after this one, so the
                 * timer keeps its phase (no drift); periods that passed while its CPU was
                 * busy are skipped, not delivered in a burst. */
                uint64_t period = period_ns(t);
                uint64_t missed = (now_ns - t->deadline_ns) / period;
                uint64_t step = missed + 1 > UINT64_MAX / period ? UINT64_MAX
                                                                   : (missed + 1) * period;
                t->deadline_ns = saturating_add(t->deadline_ns, step);
            } else {
                t->deadline_ns = 0;
                t->config &= ~HV_STIMER_ENABLE;
                continue;
            }
        }
        if (!next || t->deadline_ns < next)
            next = t->deadline_ns;
    }
    spin_unlock_irqrestore(&vp->timer_lock, flags);
    return next;
}
