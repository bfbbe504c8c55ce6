#include "root/retry_timer.h"

#include "hv/stimer.h"
#include "hv/intercept_abi.h"
#include "kernel/x86.h"
#include "root/log.h"
#include "root/message_slot.h"

static volatile struct hv_message *slot;
static bool started, armed;

uint32_t retry_delay_next(uint32_t *delay_ms, bool progressed)
{
    if (progressed || *delay_ms == 0)
        *delay_ms = RETRY_FIRST_MS;
    else if (*delay_ms < RETRY_MAX_MS)
        *delay_ms = *delay_ms * 2 < RETRY_MAX_MS ? *delay_ms * 2 : RETRY_MAX_MS;
    return *delay_ms;
}

/* The slot and the timer's configuration, once: AUTO_ENABLE makes each COUNT write arm
 * the one-shot (TLFS 12.4.1). */
static bool start(void)
{
    if (started)
        return slot != NULL;
    started = true;
    uint64_t simp = rdmsr(HV_X64_MSR_SIMP);
    if (!(simp & HV_SIMP_ENABLE)) {
        root_warn("retry timer: no SynIC message page; waiting work resumes only with other "
                  "events");
        return false;
    }
    slot = (volatile struct hv_message *)(uintptr_t)(simp & ~0xFFFull) + RETRY_TIMER_SINT;
    wrmsr(HV_X64_MSR_STIMER0_CONFIG + 2 * RETRY_TIMER_STIMER,
          ((uint64_t)RETRY_TIMER_SINT << HV_STIMER_SINT_SHIFT) | HV_STIMER_AUTO_ENABLE);
    return true;
}

void retry_timer_arm(uint32_t ms)
{
    if (armed || !start())
        return;
    /* One-shot: COUNT is the absolute reference time of the expiry (TLFS 12.4.3). */
    uint64_t due = rdmsr(HV_X64_MSR_TIME_REF_COUNT) + (uint64_t)ms * 10000u;
    wrmsr(HV_X64_MSR_STIMER0_COUNT + 2 * RETRY_TIMER_STIMER, due);
    armed = true;
}

bool retry_timer_armed(void)
{
    return armed;
}

bool retry_timer_take(void)
{
    if (!slot || slot->header.message_type == HV_MESSAGE_TYPE_NONE)
        return false;
    message_slot_free(slot);
    armed = false;
    return true;
}
