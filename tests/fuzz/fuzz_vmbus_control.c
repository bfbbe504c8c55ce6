// sources: vmbus/protocol.c vmbus/gpadl.c vmbus/channel.c vmbus/connection.c vmbus/ring.c
/*
 * libFuzzer target for the VMBus control protocol (vmbus/connection.c and below): the
 * fuzzer is a child posting a sequence of control messages and kicks to a connection with
 * two devices, over 64 pages of child memory it also controls. Input: a flags byte
 * (bit 0: start with a correct handshake and offer request, so deep states are reached;
 * bit 1: the child's message queue refuses posts), then records
 *   op (u8): 0-3 message on connection id 1 / 4 / op, 4 kick channel (next byte), 5 flush,
 *            6 write 8 bytes of child memory (u16 offset, 8 bytes), 7 host rescind;
 *   for messages: u8 length, then that many bytes (the payload).
 * Whatever the bytes: no crash (ASan/UBSan), and after every step the connection's own
 * bookkeeping holds: outbox within bound, every host message a host type of at most 240
 * bytes, GPADL page accounting equal to the table, open channels with valid rings.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmbus/connection.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REQUIRE(cond)                                                                      \
    do {                                                                                   \
        if (!(cond)) {                                                                     \
            fprintf(stderr, "fuzz_vmbus_control: invariant failed: %s (line %d)\n", #cond, \
                    __LINE__);                                                             \
            abort();                                                                       \
        }                                                                                  \
    } while (0)

#define PAGES 64u
#define PAGE VMBUS_PAGE_SIZE

static _Alignas(4096) uint8_t mem[PAGES][PAGE];
static struct vmbus_connection conn;
static bool queue_full;

static bool post(void *context, uint32_t vp, uint32_t sint, const void *payload, uint32_t size)
{
    (void)context;
    REQUIRE(size >= 8 && size <= VMBUS_MESSAGE_MAX);
    REQUIRE(vp < 2 && sint < VMBUS_SINT_COUNT);
    uint32_t type;
    memcpy(&type, payload, 4);
    REQUIRE(vmbus_message_min_size(type) == 0); /* only host-to-guest types */
    return !queue_full;
}

static void signal_event(void *context, uint32_t vp, uint32_t sint, uint32_t flag)
{
    (void)context;
    REQUIRE(vp < 2 && sint < VMBUS_SINT_COUNT && flag >= 1 && flag <= VMBUS_CHANNEL_MAX);
}

static uint8_t *page(void *context, uint64_t pfn)
{
    (void)context;
    return pfn < PAGES ? mem[pfn] : NULL;
}

static void log_line(void *context, const char *level, const char *line)
{
    (void)context;
    (void)level;
    (void)line;
}

static bool device_open(struct vmbus_channel *channel, const uint8_t *user_data)
{
    (void)channel;
    return user_data[0] != 0xEE;
}

static void device_packet(struct vmbus_channel *channel, const struct vmbus_packet *packet)
{
    /* Echo, as a VSP completing a request would. */
    vmbus_channel_send(channel, VMBUS_PACKET_COMPLETION, 0, packet->transaction_id, NULL, 0,
                       packet->payload, packet->payload_length > 64 ? 64 : packet->payload_length);
}

static void device_close(struct vmbus_channel *channel)
{
    REQUIRE(channel->state == VMBUS_CHANNEL_CLOSED);
}

static const struct vmbus_device_ops device_ops = {
    .on_open = device_open,
    .on_packet = device_packet,
    .on_close = device_close,
};

static const struct vmbus_device devices[2] = {
    { .name = "a", .max_packet_size = 512, .ops = &device_ops },
    { .name = "b", .max_packet_size = 4096, .ops = &device_ops },
};

static void check_invariants(void)
{
    REQUIRE(conn.outbox_count <= VMBUS_OUTBOX_MAX);
    uint32_t pages = 0;
    for (uint32_t i = 0; i < VMBUS_GPADL_MAX; i++) {
        const struct vmbus_gpadl *g = &conn.gpadls.entries[i];
        if (!g->used)
            continue;
        pages += g->length / 8;
        REQUIRE(g->received <= g->length);
        REQUIRE(g->complete == (g->received == g->length));
    }
    REQUIRE(pages == conn.gpadls.pages_total);
    REQUIRE(pages <= VMBUS_GPADL_MAX_PAGES_TOTAL);
    for (uint32_t i = 0; i < VMBUS_CHANNEL_MAX; i++) {
        const struct vmbus_channel *ch = &conn.channels[i];
        if (ch->state != VMBUS_CHANNEL_OPEN)
            continue;
        REQUIRE(conn.state == VMBUS_CONNECTED);
        REQUIRE(ch->inbound.data_size && ch->outbound.data_size);
        REQUIRE(ch->target_vp < conn.vp_count);
        REQUIRE(!ch->in_batch);
    }
}

static void handshake(void)
{
    struct vmbus_initiate_contact_message ic = {
        .header.type = VMBUS_MSG_INITIATE_CONTACT,
        .version = VMBUS_VERSION_WIN10_V5_3,
        .interrupt_page_or_sint = VMBUS_MESSAGE_SINT,
    };
    vmbus_connection_handle_message(&conn, 4, &ic, sizeof(ic));
    struct vmbus_message_header h = { .type = VMBUS_MSG_REQUESTOFFERS };
    vmbus_connection_handle_message(&conn, 1, &h, sizeof(h));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const struct vmbus_host_ops ops = {
        .post_message = post,
        .signal_event = signal_event,
        .page = page,
        .log = log_line,
    };
    if (size < 1)
        return 0;
    memset(mem, 0, sizeof(mem));
    vmbus_connection_init(&conn, &ops, 2);
    struct vmbus_channel *channels[2];
    for (int i = 0; i < 2; i++)
        channels[i] = vmbus_connection_add_device(&conn, &devices[i]);
    uint8_t flags = data[0];
    queue_full = flags & 2;
    if (flags & 1)
        handshake();
    size_t at = 1;
    uint8_t message[256];
    while (at < size) {
        uint8_t op = data[at++] % 8;
        if (op <= 3) {
            if (at >= size)
                break;
            uint32_t length = data[at++];
            if (length > size - at)
                length = (uint32_t)(size - at);
            memcpy(message, data + at, length);
            at += length;
            uint32_t id = op == 0 ? 1 : op == 1 ? 4 : op;
            vmbus_connection_handle_message(&conn, id, message, length);
        } else if (op == 4) {
            uint32_t relid = at < size ? data[at++] % 4u : 1;
            vmbus_connection_handle_signal(&conn, VMBUS_CHANNEL_CONNECTION_ID_BASE + relid);
        } else if (op == 5) {
            queue_full = !queue_full;
            vmbus_connection_flush(&conn);
        } else if (op == 6) {
            if (size - at < 10)
                break;
            uint16_t offset;
            memcpy(&offset, data + at, 2);
            memcpy((uint8_t *)mem + (offset % (PAGES * PAGE / 8)) * 8, data + at + 2, 8);
            at += 10;
        } else {
            uint32_t which = at < size ? data[at++] % 2u : 0;
            if (channels[which] && channels[which]->device)
                vmbus_connection_rescind(&conn, channels[which]);
        }
        check_invariants();
    }
    vmbus_connection_destroy(&conn);
    REQUIRE(conn.gpadls.pages_total == 0);
    return 0;
}
