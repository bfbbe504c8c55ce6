/*
 * The partition reference counter and synthetic timers (TLFS 12 "Timers": 12.3 partition
 * reference counter, 12.4 synthetic timers). Each VP has four timers, one-shot (COUNT is
 * an absolute reference time) or periodic (COUNT is the period). An expired timer posts
 * HvMessageTypeTimerExpired to the SINT its configuration names (message mode; a waiting
 * expiry of the same timer is replaced, so a guest that does not take them keeps one) or,
 * in direct mode (children only: it needs the virtual LAPIC), raises the configured vector
 * (hv/vlapic.h). Periodic deadlines advance by the period from the previous deadline, so
 * they do not drift. A VP's timers are serviced by its home CPU's scheduler, which sleeps
 * no longer than the next deadline.
 */
#ifndef HVFW_HV_STIMER_H
#define HVFW_HV_STIMER_H

#include <stdbool.h>
#include <stdint.h>

#define HV_X64_MSR_TIME_REF_COUNT 0x40000020u
#define HV_X64_MSR_STIMER0_CONFIG 0x400000B0u /* config/count pairs for timers 0..3 */
#define HV_X64_MSR_STIMER0_COUNT 0x400000B1u
#define HV_X64_MSR_STIMER3_COUNT 0x400000B7u

#define HV_STIMER_ENABLE (1ull << 0)
#define HV_STIMER_PERIODIC (1ull << 1)
#define HV_STIMER_LAZY (1ull << 2)
#define HV_STIMER_AUTO_ENABLE (1ull << 3)
#define HV_STIMER_VECTOR_SHIFT 4 /* bits 11:4: the vector of direct mode */
#define HV_STIMER_DIRECT_MODE (1ull << 12)
#define HV_STIMER_SINT_SHIFT 16

#define HV_MESSAGE_TYPE_TIMER_EXPIRED 0x80000010u

/* HvMessageTypeTimerExpired payload */
struct hv_timer_message_payload {
    uint32_t timer_index;
    uint32_t reserved;
    uint64_t expiration_time; /* reference time, 100 ns units */
    uint64_t delivery_time;
} __attribute__((packed));

struct vp;

/* 100 ns units since the VP's partition was created. */
uint64_t stimer_reference_time(const struct vp *vp);
bool stimer_msr_read(struct vp *vp, uint32_t msr, uint64_t *value);
bool stimer_msr_write(struct vp *vp, uint32_t msr, uint64_t value);
/* Delivers `vp`'s expired timers; returns its next deadline in time_now_ns() terms, 0 if
 * none is armed. */
uint64_t stimer_service(struct vp *vp, uint64_t now_ns);

#endif
