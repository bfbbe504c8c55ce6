#include "root/heartbeat.h"

#include <stdio.h>
#include <stdlib.h>

#include "hv/intercept_abi.h"
#include "hv/stimer.h"
#include "kernel/x86.h"
#include "kernel/cmdline.h"
#include "root/hvcall.h"
#include "root/message_slot.h"

static struct {
    volatile struct hv_message *slot;
    uint64_t period_units; /* 100 ns */
    uint64_t beats, limit;
    uint64_t max_late_us, late_beats;
} heartbeat;

static uint64_t number(const char *cmdline, const char *key, uint64_t max)
{
    char value[24];
    if (!cmdline_get(cmdline, key, value, sizeof(value)))
        return 0;
    char *end;
    unsigned long long n = strtoull(value, &end, 10);
    if (*end || n > max) {
        printf("root: %s=%s is not a number in 1..%llu; ignored\n", key, value,
               (unsigned long long)max);
        return 0;
    }
    return n;
}

void heartbeat_start(const char *cmdline)
{
    uint64_t ms = number(cmdline, "root.heartbeat_ms", 60000);
    if (!ms)
        return;
    uint64_t simp = rdmsr(HV_X64_MSR_SIMP);
    if (!(simp & HV_SIMP_ENABLE)) {
        printf("root: no message page: no heartbeat\n");
        return;
    }
    uintptr_t message_page = (uintptr_t)(simp & ~0xFFFull);
    heartbeat.slot = (volatile struct hv_message *)message_page + HEARTBEAT_SINT;
    heartbeat.period_units = ms * 10000;
    heartbeat.limit = number(cmdline, "test.heartbeats", 1000000);
    wrmsr(HV_X64_MSR_STIMER0_CONFIG, 0);
    wrmsr(HV_X64_MSR_STIMER0_COUNT, heartbeat.period_units);
    wrmsr(HV_X64_MSR_STIMER0_CONFIG, ((uint64_t)HEARTBEAT_SINT << HV_STIMER_SINT_SHIFT) |
                                             HV_STIMER_PERIODIC | HV_STIMER_ENABLE);
    printf("root: heartbeat every %llu ms (bound %u us)\n", (unsigned long long)ms,
           HEARTBEAT_BOUND_US);
}

static void finish(void)
{
    wrmsr(HV_X64_MSR_STIMER0_CONFIG, 0);
    bool ok = heartbeat.late_beats == 0;
    printf("root: heartbeat: %llu beats, latest %llu us after its time, %llu over the %u us "
           "bound: %s\n",
           (unsigned long long)heartbeat.beats, (unsigned long long)heartbeat.max_late_us,
           (unsigned long long)heartbeat.late_beats, HEARTBEAT_BOUND_US,
           ok ? "on time" : "LATE");
    hvcall_shutdown(ok ? 0 : 1);
}

bool heartbeat_poll(void)
{
    volatile struct hv_message *slot = heartbeat.slot;
    if (!slot || slot->header.message_type == HV_MESSAGE_TYPE_NONE)
        return false;
    uint32_t type = slot->header.message_type;
    struct hv_timer_message_payload p;
    const volatile uint64_t *words =
        (const volatile uint64_t *)((uintptr_t)slot + sizeof(struct hv_message_header));
    uint64_t raw[3] = {words[0], words[1], words[2]};
    __builtin_memcpy(&p, raw, sizeof(p));
    message_slot_free(slot);
    if (type != HV_MESSAGE_TYPE_TIMER_EXPIRED)
        return true;

    /* Late = from the moment the beat was due to now, when the root handles it: the
     * hypervisor's delivery and the root's scheduling both count. */
    uint64_t now = rdmsr(HV_X64_MSR_TIME_REF_COUNT);
    uint64_t late_us = now > p.expiration_time ? (now - p.expiration_time) / 10 : 0;
    heartbeat.beats++;
    if (late_us > heartbeat.max_late_us)
        heartbeat.max_late_us = late_us;
    if (late_us > HEARTBEAT_BOUND_US)
        heartbeat.late_beats++;
    printf("root: heartbeat %llu late_us=%llu\n", (unsigned long long)heartbeat.beats,
           (unsigned long long)late_us);
    if (heartbeat.limit && heartbeat.beats >= heartbeat.limit)
        finish();
    return true;
}
