#include "vsp/timesync.h"

#include <string.h>

const uint8_t ic_timesync_type[16] = { 0x30, 0xe6, 0x27, 0x95, 0xae, 0xd0, 0x7b, 0x49,
                                       0xad, 0xce, 0xe8, 0x0a, 0xb0, 0x17, 0x5c, 0xaf };

/* Linux struct ictimesync_ref_data (version 4). */
struct timesync_reference_body {
    uint64_t host_time;
    uint64_t reference_time;
    uint8_t flags;
    uint8_t leap_flags;
    uint8_t stratum;
    uint8_t reserved[3];
} __attribute__((packed));

/* Linux struct ictimesync_data (versions 1 and 3). */
struct timesync_body {
    uint64_t host_time;
    uint64_t child_time;
    uint64_t round_trip_time;
    uint8_t flags;
} __attribute__((packed));

static const struct ic_version with_reference[] = { { 4, 0 }, { 3, 0 }, { 1, 0 } };
static const struct ic_version without_reference[] = { { 3, 0 }, { 1, 0 } };

static bool send_sample(struct ic_timesync *t, uint8_t flags)
{
    struct ic_service *s = &t->service;
    if (s->version.major >= 4) {
        struct timesync_reference_body body = {
            .reference_time = t->clock.reference_time(t->clock.context),
            .host_time = t->clock.host_time(t->clock.context),
            .flags = flags,
        };
        return ic_service_send(s, IC_MESSAGE_TIMESYNC, &body, sizeof(body));
    }
    struct timesync_body body = {
        .host_time = t->clock.host_time(t->clock.context),
        .flags = flags,
    };
    return ic_service_send(s, IC_MESSAGE_TIMESYNC, &body, sizeof(body));
}

static void on_answer(struct ic_service *service, uint16_t type, uint32_t status,
                      const uint8_t *body, uint32_t length)
{
    struct ic_timesync *t = service->context;
    (void)type;
    (void)body;
    (void)length;
    if (status != IC_STATUS_OK) {
        ic_service_log(service, "warn", "child %s refused a time sample (status 0x%x)",
                       t->child, status);
        return;
    }
    t->samples++;
    if (t->sent_sync && !t->synced)
        ic_service_log(service, "info", "child %s clock set by time sync (version %u.%u)",
                       t->child, service->version.major, service->version.minor);
    t->synced = t->synced || t->sent_sync;
}

static void on_close(struct ic_service *service)
{
    struct ic_timesync *t = service->context;
    t->synced = false; /* a reopened channel is a rebooted or reloaded guest driver */
    t->sent_at_ms = 0;
}

static const struct ic_service_ops timesync_ops = { NULL, on_answer, on_close };

void ic_timesync_init(struct ic_timesync *timesync, const char *child,
                      const uint8_t instance[16], const struct ic_timesync_clock *clock)
{
    memset(timesync, 0, sizeof(*timesync));
    timesync->child = child;
    timesync->clock = *clock;
    bool reference = clock->reference_time != NULL;
    ic_service_init(&timesync->service, "timesync", ic_timesync_type, instance,
                    reference ? with_reference : without_reference, reference ? 3 : 2,
                    &timesync_ops, timesync);
}

void ic_timesync_tick(struct ic_timesync *timesync, uint64_t now_ms)
{
    struct ic_service *s = &timesync->service;
    if (!s->ready)
        return;
    if (s->awaiting) {
        if (now_ms - timesync->sent_at_ms < IC_TIMESYNC_PERIOD_MS)
            return;
        ic_service_abandon(s); /* unanswered: the next sample replaces it */
    } else if (timesync->sent_at_ms && now_ms - timesync->sent_at_ms < IC_TIMESYNC_PERIOD_MS) {
        return;
    }
    bool sync = !timesync->synced;
    if (send_sample(timesync, sync ? IC_TIMESYNC_FLAG_SYNC : IC_TIMESYNC_FLAG_SAMPLE)) {
        timesync->sent_sync = sync;
        timesync->sent_at_ms = now_ms ? now_ms : 1;
    }
}
