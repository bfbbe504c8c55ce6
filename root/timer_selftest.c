/*
 * A one-shot and then a periodic synthetic timer (STIMER0, message mode, SINT1) on this
 * VP: each expiry must arrive as HvMessageTypeTimerExpired in SINT1's slot of a message
 * page the root sets with the SIMP MSR, while the VP waits in HLT (the hypervisor wakes
 * it). Measures how late the one-shot arrives.
 */
#include "root/timer_selftest.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "hv/intercept_abi.h"
#include "hv/stimer.h"
#include "kernel/x86.h"
#include "root/memory.h"
#include "root/message_slot.h"
#include "root/platform.h"

#define SINT 1
#define MAX_WAIT_NS (2000ull * 1000 * 1000)

/* Waits in HLT for a message in the slot; copies it out and frees the slot (EOM when the
 * hypervisor has another one waiting). False on timeout. */
static bool wait_message(volatile struct hv_message *slot, struct hv_message *out)
{
    uint64_t give_up = root_time_ns() + MAX_WAIT_NS;
    while (slot->header.message_type == HV_MESSAGE_TYPE_NONE) {
        if (root_time_ns() > give_up)
            return false;
        __asm__ volatile("hlt");
    }
    for (size_t i = 0; i < sizeof(out->payload) / sizeof(out->payload[0]); i++)
        out->payload[i] = slot->payload[i];
    out->header.message_type = slot->header.message_type;
    out->header.payload_size = slot->header.payload_size;
    out->header.sender = slot->header.sender;
    message_slot_free(slot);
    return true;
}

static bool fail(const char *why)
{
    wrmsr(HV_X64_MSR_STIMER0_CONFIG, 0);
    printf("selftest: synthetic-timer: FAILED: %s\n", why);
    return false;
}

bool timer_selftest_run(void)
{
    uint64_t page = root_memory_alloc(4096, 4096);
    if (!page)
        return fail("no memory for a message page");
    memset((void *)(uintptr_t)page, 0, 4096);
    wrmsr(HV_X64_MSR_SIMP, page | HV_SIMP_ENABLE);
    volatile struct hv_message *slot = (volatile struct hv_message *)(uintptr_t)page + SINT;
    struct hv_message m;
    struct hv_timer_message_payload p;

    /* One-shot: count is an absolute reference time, 2 ms from now. */
    uint64_t sint_bits = (uint64_t)SINT << HV_STIMER_SINT_SHIFT;
    uint64_t now = rdmsr(HV_X64_MSR_TIME_REF_COUNT);
    wrmsr(HV_X64_MSR_STIMER0_CONFIG, sint_bits);
    wrmsr(HV_X64_MSR_STIMER0_COUNT, now + 20000);
    wrmsr(HV_X64_MSR_STIMER0_CONFIG, sint_bits | HV_STIMER_ENABLE);
    if (!wait_message(slot, &m))
        return fail("no one-shot expiry within 2 s");
    memcpy(&p, m.payload, sizeof(p));
    if (m.header.message_type != HV_MESSAGE_TYPE_TIMER_EXPIRED || p.timer_index != 0 ||
        p.delivery_time < p.expiration_time || p.expiration_time != now + 20000)
        return fail("one-shot message has the wrong type, index or times");
    uint64_t late_us = (p.delivery_time - p.expiration_time) / 10;
    if (rdmsr(HV_X64_MSR_STIMER0_CONFIG) & HV_STIMER_ENABLE)
        return fail("a one-shot timer is still enabled after it fired");

    /* Periodic, 1 ms: five expirations in a row. */
    uint64_t start = root_time_ns();
    wrmsr(HV_X64_MSR_STIMER0_COUNT, 10000);
    wrmsr(HV_X64_MSR_STIMER0_CONFIG, sint_bits | HV_STIMER_PERIODIC | HV_STIMER_ENABLE);
    for (int i = 0; i < 5; i++) {
        if (!wait_message(slot, &m))
            return fail("a periodic expiry did not arrive");
        if (m.header.message_type != HV_MESSAGE_TYPE_TIMER_EXPIRED)
            return fail("a periodic message has the wrong type");
    }
    uint64_t elapsed_us = (root_time_ns() - start) / 1000;
    wrmsr(HV_X64_MSR_STIMER0_CONFIG, 0);
    if (elapsed_us < 4000)
        return fail("five 1 ms periods took less than 4 ms");
    printf("selftest: synthetic-timer: ok (one-shot late by %llu us, 5 periodic 1 ms ticks "
           "in %llu us)\n",
           (unsigned long long)late_us, (unsigned long long)elapsed_us);
    return true;
}
