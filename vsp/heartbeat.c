#include "vsp/heartbeat.h"

#include <string.h>

const uint8_t ic_heartbeat_type[16] = { 0x39, 0x4f, 0x16, 0x57, 0x15, 0x91, 0x78, 0x4e,
                                        0xab, 0x55, 0x38, 0x2f, 0x3b, 0xd5, 0x42, 0x2d };

/* Linux struct heartbeat_msg_data. */
struct heartbeat_body {
    uint64_t sequence;
    uint32_t reserved[8];
} __attribute__((packed));

static const struct ic_version heartbeat_versions[] = { { 3, 0 }, { 1, 0 } };

static void missed(struct ic_heartbeat *h, const char *how)
{
    h->missed++;
    h->healthy = false;
    ic_service_log(&h->service, "warn", "child %s heartbeat missed seq %llu (%s)", h->child,
                   (unsigned long long)h->sequence, how);
}

static void on_answer(struct ic_service *service, uint16_t type, uint32_t status,
                      const uint8_t *body, uint32_t length)
{
    struct ic_heartbeat *h = service->context;
    struct heartbeat_body answer;
    (void)type;
    if (status != IC_STATUS_OK || length < sizeof(answer)) {
        missed(h, status != IC_STATUS_OK ? "failure status" : "short answer");
        h->sequence++;
        return;
    }
    memcpy(&answer, body, sizeof(answer));
    if (answer.sequence != h->sequence + 1) {
        missed(h, "wrong sequence number");
        h->sequence++;
        return;
    }
    h->ok++;
    ic_service_log(service, h->healthy ? "debug" : "info", "child %s heartbeat ok seq %llu",
                   h->child, (unsigned long long)h->sequence);
    h->healthy = true;
    h->sequence = answer.sequence;
}

static void on_close(struct ic_service *service)
{
    struct ic_heartbeat *h = service->context;
    h->healthy = false;
}

static const struct ic_service_ops heartbeat_ops = { NULL, on_answer, on_close };

void ic_heartbeat_init(struct ic_heartbeat *heartbeat, const char *child,
                       const uint8_t instance[16])
{
    memset(heartbeat, 0, sizeof(*heartbeat));
    heartbeat->child = child;
    heartbeat->sequence = 1;
    ic_service_init(&heartbeat->service, "heartbeat", ic_heartbeat_type, instance,
                    heartbeat_versions, 2, &heartbeat_ops, heartbeat);
}

void ic_heartbeat_tick(struct ic_heartbeat *heartbeat, uint64_t now_ms)
{
    struct ic_service *s = &heartbeat->service;
    if (!s->ready)
        return;
    if (s->awaiting) {
        if (now_ms - heartbeat->sent_at_ms < IC_HEARTBEAT_PERIOD_MS)
            return;
        ic_service_abandon(s);
        missed(heartbeat, "no answer within the period");
        heartbeat->sequence++;
    } else if (heartbeat->sent_at_ms && now_ms - heartbeat->sent_at_ms < IC_HEARTBEAT_PERIOD_MS) {
        return;
    }
    struct heartbeat_body request = { .sequence = heartbeat->sequence };
    if (ic_service_send(s, IC_MESSAGE_HEARTBEAT, &request, sizeof(request)))
        heartbeat->sent_at_ms = now_ms ? now_ms : 1;
}
