// sources: vsp/netvsp.c vsp/rndis.c vsp/vswitch.c vmbus/protocol.c vmbus/gpadl.c vmbus/channel.c vmbus/connection.c vmbus/ring.c
/*
 * libFuzzer target for the network VSP (vsp/netvsp.c with vsp/rndis.c and vsp/vswitch.c)
 * behind the real VMBus host: the fuzzer is a child whose channel is open and which owns
 * the ring, a receive buffer GPADL (handle 0x100, 24 pages) and a send buffer GPADL (0x200,
 * 8 pages) it may name or not. Input: a flags byte (bit 0: first do the correct NVSP INIT,
 * buffers and RNDIS INITIALIZE + packet filter, so deep states are reached), then records
 *   op (u8 % 6): 0 a packet in the child's ring: u8 type selector (INBAND, GPA_DIRECT,
 *                COMPLETION, TRANSFER_PAGES), u8 flags, u8 id, u8 length, that many bytes
 *                after the descriptor (header + payload; offset8 from the first byte);
 *                1 write 8 bytes of child memory (u16 offset into pages 32..95, 8 bytes);
 *                2 a frame from the external port to the child (u8 length, u8 fill);
 *                3 the child reads one host packet and completes it if it was data;
 *                4 the child drains its ring without completing;
 *                5 the link flips.
 * Whatever the bytes: no crash (ASan/UBSan); after every step the section accounting
 * matches the busy map, the pending queues stay within bound, every frame reaching the
 * external port has an Ethernet length and the child's source MAC.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmbus/connection.h"
#include "vsp/netvsp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REQUIRE(cond)                                                                      \
    do {                                                                                   \
        if (!(cond)) {                                                                     \
            fprintf(stderr, "fuzz_netvsp: invariant failed: %s (line %d)\n", #cond,        \
                    __LINE__);                                                             \
            abort();                                                                       \
        }                                                                                  \
    } while (0)

#define PAGES 128u
#define PAGE VMBUS_PAGE_SIZE
#define RING_PAGES 4u /* per direction, at pfn 0 and 4 */
#define RECEIVE_BASE 32u
#define RECEIVE_PAGES 24u
#define SEND_BASE 64u
#define SEND_PAGES 8u

static _Alignas(4096) uint8_t mem[PAGES][PAGE];
static struct vmbus_connection conn;
static struct vswitch sw;
static struct netvsp nic;
static int ext_port;

static bool post(void *c, uint32_t vp, uint32_t sint, const void *p, uint32_t n)
{
    (void)c, (void)vp, (void)sint, (void)p, (void)n;
    return true;
}

static void signal_event(void *c, uint32_t vp, uint32_t sint, uint32_t flag)
{
    (void)c, (void)vp, (void)sint, (void)flag;
}

static uint8_t *page(void *context, uint64_t pfn)
{
    (void)context;
    return pfn < PAGES ? mem[pfn] : NULL;
}

static void log_line(void *c, const char *level, const char *line)
{
    (void)c, (void)level, (void)line;
}

static bool ext_transmit(void *context, const uint8_t *frame, uint32_t length)
{
    (void)context;
    REQUIRE(length >= 14 && length <= VSWITCH_FRAME_MAX);
    REQUIRE(memcmp(frame + 6, nic.mac, 6) == 0);
    return true;
}

static const struct vswitch_port_ops ext_ops = { ext_transmit, NULL };

static struct vmbus_ring_control *ctl(uint32_t base)
{
    return (struct vmbus_ring_control *)mem[base];
}

static uint8_t *ring_byte(uint32_t base, uint32_t offset)
{
    return &mem[base + 1][0] + offset % ((RING_PAGES - 1) * PAGE);
}

static uint32_t used(uint32_t base)
{
    uint32_t w = ctl(base)->write_index % ((RING_PAGES - 1) * PAGE);
    uint32_t r = ctl(base)->read_index % ((RING_PAGES - 1) * PAGE);
    return w >= r ? w - r : (RING_PAGES - 1) * PAGE - r + w;
}

static void kick(void)
{
    for (int i = 0; i < 8 && vmbus_connection_handle_signal(&conn, VMBUS_CHANNEL_CONNECTION_ID_BASE + 1); i++)
        ;
}

/* Writes descriptor + body (+ trailer) into the child's outbound ring. */
static void child_write(uint16_t type, uint16_t flags, uint64_t id, uint16_t offset8,
                        const uint8_t *body, uint32_t length)
{
    uint32_t total = (16 + length + 7) & ~7u;
    if (used(0) + total + 8 >= (RING_PAGES - 1) * PAGE)
        return;
    struct vmbus_packet_descriptor d = { type, offset8, (uint16_t)(total / 8), flags, id };
    uint32_t w = ctl(0)->write_index;
    uint8_t bytes[512] = { 0 };
    memcpy(bytes, &d, 16);
    memcpy(bytes + 16, body, length);
    for (uint32_t i = 0; i < total; i++)
        *ring_byte(0, w + i) = bytes[i];
    uint64_t trailer = (uint64_t)w << 32;
    for (uint32_t i = 0; i < 8; i++)
        *ring_byte(0, w + total + i) = ((uint8_t *)&trailer)[i];
    ctl(0)->write_index = (w + total + 8) % ((RING_PAGES - 1) * PAGE);
    kick();
}

/* Reads one host packet; completes it when it is a TRANSFER_PAGES (a frame or reply). */
static bool child_read(bool complete)
{
    uint32_t base = RING_PAGES;
    if (!used(base))
        return false;
    uint32_t at = ctl(base)->read_index;
    struct vmbus_packet_descriptor d;
    for (uint32_t i = 0; i < 16; i++)
        ((uint8_t *)&d)[i] = *ring_byte(base, at + i);
    ctl(base)->read_index = (at + d.length8 * 8u + 8) % ((RING_PAGES - 1) * PAGE);
    if (complete && d.type == VMBUS_PACKET_TRANSFER_PAGES) {
        uint8_t m[NVSP_MESSAGE_SIZE] = { NVSP_MSG1_SEND_RNDIS_PACKET_COMPLETE, 0, 0, 0, 1 };
        child_write(VMBUS_PACKET_COMPLETION, 0, d.transaction_id, 2, m, sizeof(m));
    }
    kick(); /* the child's read may free space the host waits for */
    return true;
}

static void gpadl(uint32_t handle, uint32_t base, uint32_t pages)
{
    uint8_t m[VMBUS_MESSAGE_MAX] = { 0 };
    struct vmbus_gpadl_header_message h = { { VMBUS_MSG_GPADL_HEADER, 0 }, 1, handle,
                                            (uint16_t)((pages + 1) * 8), 1 };
    memcpy(m, &h, sizeof(h));
    uint64_t entries[27];
    entries[0] = (uint64_t)pages * PAGE;
    for (uint32_t i = 0; i < pages; i++)
        entries[1 + i] = base + i;
    memcpy(m + 20, entries, (pages + 1) * 8);
    vmbus_connection_handle_message(&conn, 1, m, 20 + (pages + 1) * 8);
}

static void nvsp(uint32_t type, uint32_t a, uint32_t b, uint32_t c)
{
    uint8_t m[NVSP_MESSAGE_SIZE] = { 0 };
    memcpy(m, &type, 4);
    memcpy(m + 4, &a, 4);
    memcpy(m + 8, &b, 4);
    memcpy(m + 12, &c, 4);
    child_write(VMBUS_PACKET_INBAND, 1, type, 2, m, sizeof(m));
}

static void rndis_in_section(uint32_t section, const uint8_t *message, uint32_t length)
{
    memcpy(&mem[SEND_BASE][0] + section * NETVSP_SEND_SECTION, message, length);
    nvsp(NVSP_MSG1_SEND_RNDIS_PACKET, 1, section, length);
}

static void deep_state(void)
{
    nvsp(NVSP_MSG_INIT, NVSP_VERSION_61, NVSP_VERSION_61, 0);
    nvsp(NVSP_MSG1_SEND_RECEIVE_BUFFER, 0x100, 0xCAFE, 0);
    nvsp(NVSP_MSG1_SEND_SEND_BUFFER, 0x200, 0, 0);
    uint8_t init[24] = { 2, 0, 0, 0, 24, 0, 0, 0, 1, 0, 0, 0, 1 };
    rndis_in_section(0, init, sizeof(init));
    uint8_t set[32] = { 5, 0, 0, 0, 32, 0, 0, 0, 2, 0, 0, 0, 0x0E, 0x01, 0x01, 0,
                        4, 0, 0, 0, 20, 0, 0, 0, 0, 0, 0, 0, 0x2D, 0, 0, 0 };
    rndis_in_section(1, set, sizeof(set));
    while (child_read(true))
        ;
}

static void check(void)
{
    REQUIRE(nic.replies_count <= NETVSP_PENDING_REPLIES);
    REQUIRE(nic.completions_count <= NETVSP_PENDING_COMPLETIONS);
    if (nic.receive.ready) {
        uint32_t busy = 0;
        for (uint32_t i = 0; i < nic.receive.sections; i++)
            busy += nic.section_busy[i];
        REQUIRE(busy + nic.sections_free == nic.receive.sections);
        REQUIRE(nic.receive.sections * NETVSP_RECEIVE_SECTION <= nic.receive.size);
    }
    REQUIRE(sw.ports[nic.port].count <= VSWITCH_QUEUE_FRAMES);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const struct vmbus_host_ops ops = { NULL, post, signal_event, page, log_line };
    static const uint16_t types[4] = { VMBUS_PACKET_INBAND, VMBUS_PACKET_GPA_DIRECT,
                                       VMBUS_PACKET_COMPLETION, VMBUS_PACKET_TRANSFER_PAGES };
    if (size < 1)
        return 0;
    memset(mem, 0, sizeof(mem));
    vswitch_init(&sw, NULL, NULL);
    ext_port = vswitch_port_add(&sw, VSWITCH_PORT_EXTERNAL, "nic", NULL, &ext_ops, NULL);
    REQUIRE(netvsp_init(&nic, "fuzz", &sw));
    vmbus_connection_init(&conn, &ops, 1);
    REQUIRE(vmbus_connection_add_device(&conn, &nic.device));
    struct vmbus_initiate_contact_message ic = { .header.type = VMBUS_MSG_INITIATE_CONTACT,
                                                 .version = VMBUS_VERSION_WIN10_V5_3,
                                                 .interrupt_page_or_sint = VMBUS_MESSAGE_SINT };
    vmbus_connection_handle_message(&conn, 4, &ic, sizeof(ic));
    struct vmbus_message_header request = { .type = VMBUS_MSG_REQUESTOFFERS };
    vmbus_connection_handle_message(&conn, 1, &request, sizeof(request));
    gpadl(0x10, 0, 2 * RING_PAGES);
    gpadl(0x100, RECEIVE_BASE, RECEIVE_PAGES);
    gpadl(0x200, SEND_BASE, SEND_PAGES);
    struct vmbus_open_channel_message open = { .header.type = VMBUS_MSG_OPENCHANNEL,
                                               .child_relid = 1, .open_id = 1,
                                               .ring_gpadl = 0x10,
                                               .downstream_ring_page_offset = RING_PAGES };
    vmbus_connection_handle_message(&conn, 1, &open, sizeof(open));
    REQUIRE(nic.channel);
    if (data[0] & 1)
        deep_state();
    size_t at = 1;
    while (at < size) {
        uint8_t op = data[at++] % 6;
        if (op == 0) {
            if (size - at < 4)
                break;
            uint16_t type = types[data[at] % 4], flags = data[at + 1] & 1;
            uint64_t id = data[at + 2];
            uint32_t length = data[at + 3];
            at += 4;
            if (length > size - at)
                length = (uint32_t)(size - at);
            uint16_t offset8 = (uint16_t)(2 + (length ? data[at] % 8 : 0));
            child_write(type, flags, id, offset8, data + at, length);
            at += length;
        } else if (op == 1) {
            if (size - at < 10)
                break;
            uint16_t offset;
            memcpy(&offset, data + at, 2);
            memcpy(&mem[32][0] + (offset % (64 * PAGE / 8)) * 8, data + at + 2, 8);
            at += 10;
        } else if (op == 2) {
            if (size - at < 2)
                break;
            uint8_t frame[VSWITCH_FRAME_MAX];
            memset(frame, data[at + 1], sizeof(frame));
            memcpy(frame, nic.mac, 6);
            frame[6] = 0x52;
            uint32_t length = 14 + data[at] * 6u;
            vswitch_input(&sw, ext_port, frame, length);
            at += 2;
        } else if (op == 3) {
            child_read(true);
        } else if (op == 4) {
            while (child_read(false))
                ;
        } else {
            netvsp_set_link(&nic, !nic.info.connected);
        }
        check();
    }
    vmbus_connection_destroy(&conn);
    REQUIRE(!nic.channel);
    netvsp_destroy(&nic);
    vswitch_destroy(&sw);
    return 0;
}
