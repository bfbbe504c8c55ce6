#include "vsp/shutdown.h"

#include <string.h>

const uint8_t ic_shutdown_type[16] = { 0x31, 0x60, 0x0b, 0x0e, 0x13, 0x52, 0x34, 0x49,
                                       0x81, 0x8b, 0x38, 0xd9, 0x0c, 0xed, 0x39, 0xdb };

/* Linux struct shutdown_msg_data. */
struct shutdown_body {
    uint32_t reason_code;
    uint32_t timeout_seconds;
    uint32_t flags; /* 0 power off, 2 restart (bit 0: forced, not used here) */
    uint8_t display_message[2048];
} __attribute__((packed));
_Static_assert(sizeof(struct shutdown_body) == 2060, "shutdown_msg_data");

#define SHUTDOWN_FLAG_RESTART 2u
/* SHTDN_REASON_FLAG_PLANNED: a planned, administrator-requested shutdown. */
#define SHUTDOWN_REASON_PLANNED 0x80000000u

static const struct ic_version shutdown_versions[] = { { 3, 2 }, { 3, 1 }, { 3, 0 }, { 1, 0 } };

static void try_send(struct ic_shutdown *s)
{
    if (s->result != IC_SHUTDOWN_WAITING)
        return;
    static struct shutdown_body body;
    memset(&body, 0, sizeof(body));
    body.reason_code = SHUTDOWN_REASON_PLANNED;
    body.flags = s->restart ? SHUTDOWN_FLAG_RESTART : 0;
    strcpy((char *)body.display_message, "hvfw: shutdown requested by the root partition");
    if (!ic_service_send(&s->service, IC_MESSAGE_SHUTDOWN, &body, sizeof(body)))
        return;
    s->result = IC_SHUTDOWN_SENT;
    ic_service_log(&s->service, "info", "child %s: %s requested", s->child,
                   s->restart ? "restart" : "shutdown");
}

static void on_ready(struct ic_service *service)
{
    try_send(service->context);
}

static void on_answer(struct ic_service *service, uint16_t type, uint32_t status,
                      const uint8_t *body, uint32_t length)
{
    struct ic_shutdown *s = service->context;
    (void)type;
    (void)body;
    (void)length;
    s->result = status == IC_STATUS_OK ? IC_SHUTDOWN_ACCEPTED : IC_SHUTDOWN_REFUSED;
    ic_service_log(service, status == IC_STATUS_OK ? "info" : "warn",
                   "child %s %s the %s request (status 0x%x)", s->child,
                   status == IC_STATUS_OK ? "accepted" : "refused",
                   s->restart ? "restart" : "shutdown", status);
}

static void on_close(struct ic_service *service)
{
    struct ic_shutdown *s = service->context;
    /* A request the child never answered goes out again when it reopens. */
    if (s->result == IC_SHUTDOWN_SENT)
        s->result = IC_SHUTDOWN_WAITING;
}

static const struct ic_service_ops shutdown_ops = { on_ready, on_answer, on_close };

void ic_shutdown_init(struct ic_shutdown *shutdown, const char *child,
                      const uint8_t instance[16])
{
    memset(shutdown, 0, sizeof(*shutdown));
    shutdown->child = child;
    ic_service_init(&shutdown->service, "shutdown", ic_shutdown_type, instance,
                    shutdown_versions, 4, &shutdown_ops, shutdown);
}

bool ic_shutdown_request(struct ic_shutdown *shutdown, bool restart)
{
    if (shutdown->result == IC_SHUTDOWN_WAITING || shutdown->result == IC_SHUTDOWN_SENT)
        return false;
    shutdown->restart = restart;
    shutdown->result = IC_SHUTDOWN_WAITING;
    try_send(shutdown);
    return true;
}

void ic_shutdown_tick(struct ic_shutdown *shutdown)
{
    try_send(shutdown);
}
