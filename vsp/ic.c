#include "vsp/ic.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "vmbus/connection.h"

/* Framework versions, best first (Linux hv_util.c fw_versions: 3.0, then 1.0 for
 * Windows Server 2008). */
static const struct ic_version framework_versions[] = { { 3, 0 }, { 1, 0 } };
#define FRAMEWORK_COUNT 2u

/* NEGOTIATE body (Linux struct icmsg_negotiate): counts, then the versions. */
struct ic_negotiate {
    uint16_t framework_count;
    uint16_t message_count;
    uint32_t reserved;
    struct ic_version versions[];
} __attribute__((packed));

#define REFUSALS_LOGGED 16u

void ic_service_log(struct ic_service *service, const char *level, const char *fmt, ...)
{
    if (!service->channel)
        return;
    char line[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    vmbus_connection_log(service->channel->connection, level, "%s", line);
}

static void refuse(struct ic_service *service, const char *why)
{
    service->refused++;
    if (service->logged >= REFUSALS_LOGGED)
        return;
    service->logged++;
    ic_service_log(service, "warn", "ic %s: answer dropped: %s", service->device.name, why);
}

/* Writes headers + body and sends them; the caller checked the state. */
static bool send_message(struct ic_service *service, uint16_t type, struct ic_version framework,
                         struct ic_version version, const void *body, uint32_t length)
{
    uint8_t buffer[IC_MESSAGE_MAX];
    if (length > sizeof(buffer) - IC_HEADERS_SIZE)
        return false;
    struct ic_pipe_header pipe = { .flags = 1, .size = (uint32_t)sizeof(struct ic_message_header) + length };
    struct ic_message_header header = {
        .framework_major = framework.major,
        .framework_minor = framework.minor,
        .type = type,
        .message_major = version.major,
        .message_minor = version.minor,
        .size = (uint16_t)length,
        .flags = IC_FLAG_TRANSACTION | IC_FLAG_REQUEST,
    };
    memcpy(buffer, &pipe, sizeof(pipe));
    memcpy(buffer + sizeof(pipe), &header, sizeof(header));
    memcpy(buffer + IC_HEADERS_SIZE, body, length);
    uint64_t id = service->next_id++;
    if (vmbus_channel_send(service->channel, VMBUS_PACKET_INBAND, 0, id, NULL, 0, buffer,
                           (uint32_t)IC_HEADERS_SIZE + length) != VMBUS_RING_OK)
        return false;
    service->awaiting = true;
    service->awaiting_type = type;
    service->awaiting_id = id;
    return true;
}

static void negotiate(struct ic_service *service)
{
    uint8_t body[sizeof(struct ic_negotiate) + (FRAMEWORK_COUNT + IC_VERSIONS_MAX) * 4];
    struct ic_negotiate *n = (struct ic_negotiate *)body;
    memset(body, 0, sizeof(body));
    n->framework_count = FRAMEWORK_COUNT;
    n->message_count = (uint16_t)service->version_count;
    memcpy(n->versions, framework_versions, sizeof(framework_versions));
    memcpy(n->versions + FRAMEWORK_COUNT, service->versions, service->version_count * 4);
    uint32_t length = (uint32_t)sizeof(*n) + (FRAMEWORK_COUNT + service->version_count) * 4;
    /* Sent from on_open: the channel publishes it after the OPEN_RESULT. */
    if (!send_message(service, IC_MESSAGE_NEGOTIATE, (struct ic_version){ 1, 0 },
                      (struct ic_version){ 1, 0 }, body, length))
        ic_service_log(service, "warn", "ic %s: no room for the version offer",
                       service->device.name);
}

static bool offered(const struct ic_version *list, uint32_t count, struct ic_version v)
{
    for (uint32_t i = 0; i < count; i++)
        if (list[i].major == v.major && list[i].minor == v.minor)
            return true;
    return false;
}

static void negotiated(struct ic_service *service, const uint8_t *body, uint32_t length)
{
    struct ic_negotiate n;
    if (length < sizeof(n)) {
        refuse(service, "NEGOTIATE answer too short");
        return;
    }
    memcpy(&n, body, sizeof(n));
    if (n.framework_count == 0 && n.message_count == 0) {
        ic_service_log(service, "warn", "ic %s: the child supports none of the versions offered",
                       service->device.name);
        return;
    }
    struct ic_version chosen[2];
    if (n.framework_count != 1 || n.message_count != 1 || length < sizeof(n) + sizeof(chosen)) {
        refuse(service, "NEGOTIATE answer does not name one framework and one service version");
        return;
    }
    memcpy(chosen, body + sizeof(n), sizeof(chosen));
    if (!offered(framework_versions, FRAMEWORK_COUNT, chosen[0]) ||
        !offered(service->versions, service->version_count, chosen[1])) {
        refuse(service, "NEGOTIATE answer names a version that was not offered");
        return;
    }
    service->framework = chosen[0];
    service->version = chosen[1];
    service->ready = true;
    ic_service_log(service, "debug", "ic %s: framework %u.%u, service %u.%u",
                   service->device.name, chosen[0].major, chosen[0].minor, chosen[1].major,
                   chosen[1].minor);
    if (service->ops->on_ready)
        service->ops->on_ready(service);
}

static void on_packet(struct vmbus_channel *channel, const struct vmbus_packet *packet)
{
    struct ic_service *service = channel->device->context;
    if (packet->type != VMBUS_PACKET_INBAND) {
        refuse(service, "not an INBAND packet");
        return;
    }
    if (!service->awaiting || packet->transaction_id != service->awaiting_id) {
        refuse(service, "no request in flight with that transaction id");
        return;
    }
    if (packet->payload_length < IC_HEADERS_SIZE) {
        refuse(service, "shorter than the message headers");
        return;
    }
    struct ic_message_header header;
    memcpy(&header, packet->payload + sizeof(struct ic_pipe_header), sizeof(header));
    uint32_t room = packet->payload_length - (uint32_t)IC_HEADERS_SIZE;
    if (!(header.flags & IC_FLAG_RESPONSE) || header.type != service->awaiting_type) {
        refuse(service, "not a response to the request in flight");
        return;
    }
    if (header.size > room) {
        refuse(service, "body size beyond the packet");
        return;
    }
    service->awaiting = false;
    const uint8_t *body = packet->payload + IC_HEADERS_SIZE;
    if (header.type == IC_MESSAGE_NEGOTIATE)
        negotiated(service, body, header.size);
    else
        service->ops->on_answer(service, header.type, header.status, body, header.size);
}

static bool on_open(struct vmbus_channel *channel, const uint8_t *user_data)
{
    (void)user_data;
    struct ic_service *service = channel->device->context;
    service->channel = channel;
    service->ready = false;
    service->awaiting = false;
    service->logged = 0;
    negotiate(service);
    return true;
}

static void on_close(struct vmbus_channel *channel)
{
    struct ic_service *service = channel->device->context;
    service->ready = false;
    service->awaiting = false;
    if (service->ops->on_close)
        service->ops->on_close(service);
    service->channel = NULL;
}

static const struct vmbus_device_ops ic_ops = { on_open, on_packet, NULL, on_close };

void ic_service_init(struct ic_service *service, const char *name, const uint8_t type[16],
                     const uint8_t instance[16], const struct ic_version *versions,
                     uint32_t version_count, const struct ic_service_ops *ops, void *context)
{
    memset(service, 0, sizeof(*service));
    service->device.name = name;
    memcpy(service->device.interface_type, type, 16);
    memcpy(service->device.interface_instance, instance, 16);
    service->device.max_packet_size = IC_MESSAGE_MAX;
    service->device.ops = &ic_ops;
    service->device.context = service;
    service->ops = ops;
    service->context = context;
    if (version_count > IC_VERSIONS_MAX)
        version_count = IC_VERSIONS_MAX;
    memcpy(service->versions, versions, version_count * sizeof(*versions));
    service->version_count = version_count;
    service->next_id = 1;
}

bool ic_service_send(struct ic_service *service, uint16_t type, const void *body,
                     uint32_t length)
{
    if (!service->channel || !service->ready || service->awaiting)
        return false;
    return send_message(service, type, service->framework, service->version, body, length);
}

void ic_service_abandon(struct ic_service *service)
{
    service->awaiting = false;
}
