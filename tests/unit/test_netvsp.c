// sources: vsp/netvsp.c vsp/rndis.c vsp/vswitch.c vmbus/protocol.c vmbus/gpadl.c vmbus/channel.c vmbus/connection.c vmbus/ring.c
/*
 * vsp/netvsp.c over the real VMBus host (vmbus/connection.c) against a fake child (its
 * VMBus side from tests/unit/vsp_child.h) that plays Linux's hv_netvsc
 * (drivers/net/hyperv/netvsc.c, rndis_filter.c): NVSP
 * INIT, NDIS version and config, receive and send buffers over GPADLs, the RNDIS
 * initialize/query/set sequence, frames both ways through the switch to a fake external
 * port, receive flow control by section completions. Then the hostile child: truncated
 * NVSP messages at every length, messages before INIT, bad GPADLs and sizes, send sections
 * and GPA ranges outside its buffers or its RAM, stale completions, a flood while it does
 * not read its ring.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmbus/connection.h"
#include "vsp/netvsp.h"

#define PAGES 1024u
#include "tests/unit/rndis_messages.h"
#include "tests/unit/vsp_child.h"

#define RING_BASE 16u     /* ring GPADL: 8 + 8 pages */
#define RING_PAGES 8u
#define RECEIVE_BASE 64u  /* receive buffer: 64 pages = 151 sections */
#define RECEIVE_PAGES 64u
#define SEND_BASE 200u    /* send buffer: 16 pages = 10 sections */
#define SEND_PAGES 16u
#define DATA_BASE 300u    /* pages the child builds GPA_DIRECT messages in */
#define RELID 1u
#define RING_GPADL 0xE1E10u
#define RECEIVE_GPADL 0xE1E11u
#define SEND_GPADL 0xE1E12u
#define RECEIVE_ID 0xCAFEu

static struct vswitch sw;
static struct netvsp *nic;

/* ---- the switch's external port ------------------------------------------------------- */

static struct {
    int id;
    uint32_t received;
    uint8_t last[VSWITCH_FRAME_MAX];
    uint32_t last_length;
} ext;

static bool ext_transmit(void *context, const uint8_t *frame, uint32_t length)
{
    (void)context;
    ext.received++;
    memcpy(ext.last, frame, length);
    ext.last_length = length;
    return true;
}

static const struct vswitch_port_ops ext_ops = { ext_transmit, NULL };

/* ---- the child: VMBus ------------------------------------------------------------------- */

/* The channel's ring GPADL: RING_PAGES pages each way. */
static const struct child_channel channel = {
    .relid = RELID,
    .out = { RING_BASE, (RING_PAGES - 1) * PAGE },
    .in = { RING_BASE + RING_PAGES, (RING_PAGES - 1) * PAGE },
};

static uint64_t packet_id(const uint8_t *packet)
{
    uint64_t v;
    memcpy(&v, packet + 8, 8);
    return v;
}

static const uint8_t *payload_of(const uint8_t *packet)
{
    uint16_t offset8;
    memcpy(&offset8, packet + 2, 2);
    return packet + offset8 * 8u;
}

/* ---- the child: NVSP as netvsc sends it ------------------------------------------------ */

static void nvsp_send(uint16_t type, uint64_t id, const uint8_t *m)
{
    ck_assert(child_write(&channel.out, type, VMBUS_PACKET_FLAG_COMPLETION_REQUESTED, id, m,
                          NVSP_MESSAGE_SIZE));
    child_kick(&channel);
}

/* Sends and expects exactly one completion for `id`; returns its NVSP message. */
static const uint8_t *nvsp_request(const uint8_t *m, uint64_t id)
{
    static uint8_t packet[4096];
    nvsp_send(VMBUS_PACKET_INBAND, id, m);
    uint32_t n = child_read_packet(&channel.in, packet);
    ck_assert_uint_gt(n, 0);
    ck_assert_uint_eq(packet[0], VMBUS_PACKET_COMPLETION);
    ck_assert_uint_eq(packet_id(packet), id);
    ck_assert_uint_ge(n - (uint32_t)(payload_of(packet) - packet), NVSP_MESSAGE_SIZE);
    return payload_of(packet);
}

static void nvsp_build(uint8_t *m, uint32_t type, uint32_t a, uint32_t b, uint32_t c)
{
    memset(m, 0, NVSP_MESSAGE_SIZE);
    put32(m, type);
    put32(m + 4, a);
    put32(m + 8, b);
    put32(m + 12, c);
}

/* Contact, offers, the ring GPADL and OPENCHANNEL (the rings' feature bits left clear, not
 * as vsp_child.h's child_open sets them). */
static void open_channel(void)
{
    child_connect();
    memset(child_memory + RING_BASE * PAGE, 0, 2 * RING_PAGES * PAGE);
    child_gpadl(RELID, RING_GPADL, RING_BASE, 2 * RING_PAGES);
    struct vmbus_open_channel_message open = {
        .header.type = VMBUS_MSG_OPENCHANNEL,
        .child_relid = RELID,
        .open_id = RELID,
        .ring_gpadl = RING_GPADL,
        .downstream_ring_page_offset = RING_PAGES,
    };
    child_post(&open, sizeof(open));
    ck_assert_ptr_nonnull(nic->channel);
}

/* netvsc_connect_vsp for NVSP 6.1: INIT, NDIS config, NDIS version, then the buffers. */
static void nvsp_connect(void)
{
    uint8_t m[NVSP_MESSAGE_SIZE];
    nvsp_build(m, NVSP_MSG_INIT, NVSP_VERSION_61, NVSP_VERSION_61, 0);
    const uint8_t *r = nvsp_request(m, 1);
    ck_assert_uint_eq(get32(r), NVSP_MSG_INIT_COMPLETE);
    ck_assert_uint_eq(get32(r + 4), NVSP_VERSION_61);
    ck_assert_uint_eq(get32(r + 12), NVSP_STATUS_SUCCESS);
    nvsp_build(m, NVSP_MSG2_SEND_NDIS_CONFIG, 1514, 0, 0);
    ck_assert(child_write(&channel.out, VMBUS_PACKET_INBAND, 0, 2, m, NVSP_MESSAGE_SIZE));
    nvsp_build(m, NVSP_MSG1_SEND_NDIS_VERSION, 6, 30, 0);
    ck_assert(child_write(&channel.out, VMBUS_PACKET_INBAND, 0, 3, m, NVSP_MESSAGE_SIZE));
    child_kick(&channel);
    ck_assert_uint_eq(nic->mtu, 1514);
    ck_assert_uint_eq(nic->ndis_minor, 30);

    child_gpadl(RELID, RECEIVE_GPADL, RECEIVE_BASE, RECEIVE_PAGES);
    nvsp_build(m, NVSP_MSG1_SEND_RECEIVE_BUFFER, RECEIVE_GPADL, RECEIVE_ID, 0);
    r = nvsp_request(m, 4);
    /* netvsc_init_buf's checks. */
    ck_assert_uint_eq(get32(r), NVSP_MSG1_SEND_RECEIVE_BUFFER_COMPLETE);
    ck_assert_uint_eq(get32(r + 4), NVSP_STATUS_SUCCESS);
    ck_assert_uint_eq(get32(r + 8), 1);
    ck_assert_uint_eq(get32(r + 12), 0);
    ck_assert_uint_ge(get32(r + 16), 68);
    ck_assert_uint_le((uint64_t)get32(r + 16) * get32(r + 20), RECEIVE_PAGES * PAGE);
    ck_assert_uint_eq(get32(r + 20), RECEIVE_PAGES * PAGE / NETVSP_RECEIVE_SECTION);

    child_gpadl(RELID, SEND_GPADL, SEND_BASE, SEND_PAGES);
    nvsp_build(m, NVSP_MSG1_SEND_SEND_BUFFER, SEND_GPADL, 0, 0);
    r = nvsp_request(m, 5);
    ck_assert_uint_eq(get32(r), NVSP_MSG1_SEND_SEND_BUFFER_COMPLETE);
    ck_assert_uint_eq(get32(r + 4), NVSP_STATUS_SUCCESS);
    ck_assert_uint_eq(get32(r + 8), NETVSP_SEND_SECTION);
}

/* An RNDIS message through GPA_DIRECT, one range per page as vmbus_sendpacket_pagebuffer
 * builds it (the message may straddle two pages). */
static void rndis_send_gpa(uint32_t channel_type, const uint8_t *message, uint32_t length,
                           uint32_t page_offset, uint64_t id)
{
    memcpy(child_memory + DATA_BASE * PAGE + page_offset, message, length);
    uint8_t header[8 + 2 * 16] = { 0 };
    uint32_t ranges = 0, at = 0;
    while (at < length) {
        uint32_t offset = (page_offset + at) % PAGE;
        uint32_t chunk = PAGE - offset < length - at ? PAGE - offset : length - at;
        uint64_t pfn = DATA_BASE + (page_offset + at) / PAGE;
        put32(header + 8 + 16 * ranges, chunk);
        put32(header + 12 + 16 * ranges, offset);
        memcpy(header + 16 + 16 * ranges, &pfn, 8);
        ranges++;
        at += chunk;
    }
    put32(header + 4, ranges);
    uint8_t m[NVSP_MESSAGE_SIZE];
    nvsp_build(m, NVSP_MSG1_SEND_RNDIS_PACKET, channel_type, NVSP_NO_SECTION, 0);
    ck_assert(child_write_packet(&channel.out, VMBUS_PACKET_GPA_DIRECT,
                                 VMBUS_PACKET_FLAG_COMPLETION_REQUESTED, id, header,
                                 8 + 16 * ranges, m, NVSP_MESSAGE_SIZE));
    child_kick(&channel);
}

/* An RNDIS message copied into send section `section`. */
static void rndis_send_section(uint32_t channel_type, const uint8_t *message, uint32_t length,
                               uint32_t section, uint64_t id)
{
    memcpy(child_memory + SEND_BASE * PAGE + section * NETVSP_SEND_SECTION, message, length);
    uint8_t m[NVSP_MESSAGE_SIZE];
    nvsp_build(m, NVSP_MSG1_SEND_RNDIS_PACKET, channel_type, section, length);
    nvsp_send(VMBUS_PACKET_INBAND, id, m);
}

struct received {
    uint32_t channel_type;
    uint32_t length;
    uint8_t data[NETVSP_RECEIVE_SECTION];
    uint64_t id;
};

/* Reads host packets until a TRANSFER_PAGES one; checks it as netvsc_receive does and
 * copies the RNDIS message out; send completions seen on the way are counted. */
static bool child_receive(struct received *out, uint32_t *completions, uint32_t *last_status)
{
    static uint8_t packet[4096];
    for (;;) {
        uint32_t n = child_read_packet(&channel.in, packet);
        if (!n)
            return false;
        if (packet[0] == VMBUS_PACKET_COMPLETION) {
            const uint8_t *m = payload_of(packet);
            ck_assert_uint_eq(get32(m), NVSP_MSG1_SEND_RNDIS_PACKET_COMPLETE);
            if (completions)
                (*completions)++;
            if (last_status)
                *last_status = get32(m + 4);
            continue;
        }
        ck_assert_uint_eq(packet[0], VMBUS_PACKET_TRANSFER_PAGES);
        uint16_t set, offset8;
        memcpy(&set, packet + 16, 2);
        memcpy(&offset8, packet + 2, 2);
        ck_assert_uint_eq(set, RECEIVE_ID);
        ck_assert_uint_eq(get32(packet + 20), 1);
        ck_assert_uint_ge(offset8 * 8u, 16 + 8 + 8);
        uint32_t count = get32(packet + 24), offset = get32(packet + 28);
        ck_assert_uint_le(offset, RECEIVE_PAGES * PAGE);
        ck_assert_uint_le(count, RECEIVE_PAGES * PAGE - offset);
        ck_assert_uint_le(count, NETVSP_RECEIVE_SECTION);
        const uint8_t *m = payload_of(packet);
        ck_assert_uint_eq(get32(m), NVSP_MSG1_SEND_RNDIS_PACKET);
        out->channel_type = get32(m + 4);
        out->length = count;
        out->id = packet_id(packet);
        memcpy(out->data, child_memory + RECEIVE_BASE * PAGE + offset, count);
        return true;
    }
}

static void child_complete_receive(uint64_t id)
{
    uint8_t m[NVSP_MESSAGE_SIZE];
    nvsp_build(m, NVSP_MSG1_SEND_RNDIS_PACKET_COMPLETE, NVSP_STATUS_SUCCESS, 0, 0);
    ck_assert(child_write(&channel.out, VMBUS_PACKET_COMPLETION, 0, id, m, NVSP_MESSAGE_SIZE));
    child_kick(&channel);
}

/* A control request and its reply (completed back, as netvsc does). */
static struct received control(const uint8_t *message, uint32_t length, bool gpa)
{
    static uint64_t id = 1000;
    struct received r;
    uint32_t completions = 0, status = 0;
    if (gpa)
        rndis_send_gpa(NVSP_CHANNEL_TYPE_CONTROL, message, length, PAGE - 20, ++id);
    else
        rndis_send_section(NVSP_CHANNEL_TYPE_CONTROL, message, length, 3, ++id);
    ck_assert(child_receive(&r, &completions, &status));
    ck_assert_uint_eq(completions, 1);
    ck_assert_uint_eq(status, NVSP_STATUS_SUCCESS);
    ck_assert_uint_eq(r.channel_type, NVSP_CHANNEL_TYPE_CONTROL);
    child_complete_receive(r.id);
    return r;
}

static void rndis_bring_up(void)
{
    uint8_t m[256] = { 0 };
    struct received r = control(m, rndis_build_initialize(m, 1), true);
    ck_assert_uint_eq(get32(r.data), RNDIS_MSG_INITIALIZE | RNDIS_MSG_COMPLETION);
    ck_assert_uint_eq(get32(r.data + 12), RNDIS_STATUS_SUCCESS);

    r = control(m, rndis_build_request(m, RNDIS_MSG_QUERY, 2, RNDIS_OID_802_3_PERMANENT_ADDRESS,
                                       NULL, 0), true);
    ck_assert_uint_eq(get32(r.data + 16), 6);
    ck_assert_mem_eq(r.data + 8 + get32(r.data + 20), nic->mac, 6);
    uint8_t hw[156] = { RNDIS_NDIS_OBJECT_TYPE_OFFLOAD, 3, 156 };
    r = control(m,
                rndis_build_request(m, RNDIS_MSG_QUERY, 3,
                                    RNDIS_OID_TCP_OFFLOAD_HARDWARE_CAPABILITIES, hw, 156),
                false);
    ck_assert_uint_eq(get32(r.data + 12), RNDIS_STATUS_SUCCESS);
    ck_assert_uint_eq(r.data[24], RNDIS_NDIS_OBJECT_TYPE_OFFLOAD);
    uint32_t filter = 0x0D;
    r = control(m, rndis_build_request(m, RNDIS_MSG_SET, 4, RNDIS_OID_GEN_CURRENT_PACKET_FILTER,
                                       &filter, 4), false);
    ck_assert_uint_eq(get32(r.data), RNDIS_MSG_SET | RNDIS_MSG_COMPLETION);
    ck_assert_uint_eq(get32(r.data + 12), RNDIS_STATUS_SUCCESS);
    ck_assert_uint_eq(nic->rndis.packet_filter, 0x0D);
}

static void setup(void)
{
    memset(&ext, 0, sizeof(ext));
    child_init(&child_fake_ops, 2);
    nic = malloc(sizeof(*nic));
    ck_assert(nic);
    vswitch_init(&sw, NULL, NULL);
    ext.id = vswitch_port_add(&sw, VSWITCH_PORT_EXTERNAL, "nic", NULL, &ext_ops, NULL);
    ck_assert(netvsp_init(nic, "linux", &sw));
    ck_assert_ptr_nonnull(vmbus_connection_add_device(child_connection, &nic->device));
}

static void teardown(void)
{
    vmbus_connection_destroy(child_connection);
    netvsp_destroy(nic);
    vswitch_destroy(&sw);
    free(nic);
    free(child_connection);
    free(child_memory);
}

/* ---- tests ------------------------------------------------------------------------------- */

static const uint8_t gateway[6] = { 0x52, 0x55, 0x0A, 0x00, 0x02, 0x02 };

static uint32_t data_packet(uint8_t *m, const uint8_t *dst, const uint8_t *src, uint32_t length,
                            uint8_t fill)
{
    uint8_t frame[VSWITCH_FRAME_MAX];
    memset(frame, fill, sizeof(frame));
    memcpy(frame, dst, 6);
    memcpy(frame + 6, src, 6);
    return rndis_packet_build(m, 2048, frame, length);
}

START_TEST(linux_session)
{
    static const uint8_t nic_type[16] = { 0x63, 0x51, 0x61, 0xF8, 0x3E, 0xDF, 0xC5, 0x46,
                                          0x91, 0x3F, 0xF2, 0xD2, 0xF9, 0x65, 0xED, 0x0E };
    ck_assert_mem_eq(nic->device.interface_type, nic_type, 16);
    ck_assert_uint_eq(nic->mac[0] & 3u, 2u);
    open_channel();
    nvsp_connect();
    rndis_bring_up();

    /* Child -> outside, from a send section and through GPA ranges. */
    uint8_t m[2048];
    static const uint8_t broadcast[6] = { 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF };
    uint32_t n = data_packet(m, broadcast, nic->mac, 342, 0x11);
    rndis_send_section(NVSP_CHANNEL_TYPE_DATA, m, n, 0, 50);
    ck_assert_uint_eq(ext.received, 1);
    ck_assert_uint_eq(ext.last_length, 342);
    ck_assert_uint_eq(ext.last[341], 0x11);
    n = data_packet(m, gateway, nic->mac, 1514, 0x22);
    rndis_send_gpa(NVSP_CHANNEL_TYPE_DATA, m, n, PAGE - 100, 51);
    ck_assert_uint_eq(ext.received, 2);
    ck_assert_uint_eq(ext.last_length, 1514);
    uint32_t completions = 0, status = 0;
    struct received r;
    ck_assert(!child_receive(&r, &completions, &status));
    ck_assert_uint_eq(completions, 2);
    ck_assert_uint_eq(status, NVSP_STATUS_SUCCESS);

    /* Outside -> child: a TRANSFER_PAGES packet with the RNDIS packet in a section. */
    uint8_t frame[1514];
    memset(frame, 0x33, sizeof(frame));
    memcpy(frame, nic->mac, 6);
    memcpy(frame + 6, gateway, 6);
    vswitch_input(&sw, ext.id, frame, 1514);
    ck_assert(child_receive(&r, NULL, NULL));
    ck_assert_uint_eq(r.channel_type, NVSP_CHANNEL_TYPE_DATA);
    struct rndis_packet p;
    uint32_t used;
    const char *why;
    ck_assert(rndis_packet_parse(r.data, r.length, &p, &used, &why));
    ck_assert_uint_eq(p.frame_length, 1514);
    ck_assert_mem_eq(p.frame, frame, 1514);
    child_complete_receive(r.id);
    ck_assert_uint_eq(nic->stats.frames_out, 1);
    ck_assert_uint_eq(nic->stats.frames_in, 2);

    /* A batch of two PACKET_MSGs in one send section (Linux's msd batching, padded). */
    n = data_packet(m, gateway, nic->mac, 60, 0x44);
    put32(m + 4, 112);
    n = 112 + data_packet(m + 112, gateway, nic->mac, 70, 0x55);
    rndis_send_section(NVSP_CHANNEL_TYPE_DATA, m, n, 1, 52);
    ck_assert_uint_eq(ext.received, 4);
    ck_assert_uint_eq(ext.last_length, 70);

    /* A VLAN per-packet info becomes an 802.1Q tag. */
    n = data_packet(m + 16, gateway, nic->mac, 60, 0x66);
    uint8_t vm[2048];
    memcpy(vm, m + 16, 44);
    put32(vm + 4, 44 + 16 + 60);
    put32(vm + 8, 36 + 16);
    put32(vm + 28, 36);
    put32(vm + 32, 16);
    put32(vm + 44, 16);
    put32(vm + 48, RNDIS_PPI_VLAN);
    put32(vm + 52, 12);
    put32(vm + 56, 3u | 42u << 4);
    memcpy(vm + 60, m + 16 + 44, 60);
    rndis_send_section(NVSP_CHANNEL_TYPE_DATA, vm, 120, 2, 53);
    ck_assert_uint_eq(ext.last_length, 64);
    ck_assert_uint_eq(ext.last[12], 0x81);
    ck_assert_uint_eq(ext.last[13], 0x00);
    ck_assert_uint_eq((ext.last[14] << 8 | ext.last[15]), 3u << 13 | 42u);

    /* Link down is indicated. */
    netvsp_set_link(nic, false);
    ck_assert(child_receive(&r, NULL, NULL));
    ck_assert_uint_eq(get32(r.data), RNDIS_MSG_INDICATE_STATUS);
    ck_assert_uint_eq(get32(r.data + 8), RNDIS_STATUS_MEDIA_DISCONNECT);
    child_complete_receive(r.id);

    /* Subchannels: none. */
    uint8_t q[NVSP_MESSAGE_SIZE];
    nvsp_build(q, NVSP_MSG5_SUBCHANNEL, 1, 7, 0);
    const uint8_t *reply = nvsp_request(q, 60);
    ck_assert_uint_eq(get32(reply), NVSP_MSG5_SUBCHANNEL);
    ck_assert_uint_eq(get32(reply + 4), NVSP_STATUS_SUCCESS);
    ck_assert_uint_eq(get32(reply + 8), 0);

    /* Revoke both buffers, as netvsc_device_remove does; frames now wait for nobody. */
    nvsp_build(q, NVSP_MSG1_REVOKE_RECEIVE_BUFFER, RECEIVE_ID, 0, 0);
    ck_assert(child_write(&channel.out, VMBUS_PACKET_INBAND, 0, 61, q, NVSP_MESSAGE_SIZE));
    nvsp_build(q, NVSP_MSG1_REVOKE_SEND_BUFFER, 0, 0, 0);
    ck_assert(child_write(&channel.out, VMBUS_PACKET_INBAND, 0, 62, q, NVSP_MESSAGE_SIZE));
    child_kick(&channel);
    ck_assert(!nic->receive.ready && !nic->send.ready);
    vswitch_input(&sw, ext.id, frame, 1514);
    ck_assert_uint_eq(nic->stats.dropped_not_ready, 1);
    ck_assert(!child_receive(&r, NULL, NULL));
}
END_TEST

START_TEST(version_walk)
{
    open_channel();
    uint8_t m[NVSP_MESSAGE_SIZE];
    nvsp_build(m, NVSP_MSG_INIT, 0x70000, 0x70000, 0);
    const uint8_t *r = nvsp_request(m, 1);
    ck_assert_uint_eq(get32(r + 12), NVSP_STATUS_FAIL);
    static const uint32_t linux_order[] = { NVSP_VERSION_61, NVSP_VERSION_6, NVSP_VERSION_5,
                                            NVSP_VERSION_4,  NVSP_VERSION_2, NVSP_VERSION_1 };
    for (size_t i = 0; i < 6; i++) {
        nvsp_build(m, NVSP_MSG_INIT, linux_order[i], linux_order[i], 0);
        r = nvsp_request(m, 2 + i);
        ck_assert_uint_eq(get32(r + 12), NVSP_STATUS_SUCCESS);
        ck_assert_uint_eq(get32(r + 4), linux_order[i]);
        ck_assert_uint_eq(nic->nvsp_version, linux_order[i]);
    }
    nvsp_build(m, NVSP_MSG_INIT, 1, 0x50005, 0);
    r = nvsp_request(m, 9);
    ck_assert_uint_eq(get32(r + 4), NVSP_VERSION_5);
}
END_TEST

/* Receive sections run out: frames wait in the switch until the child completes. */
START_TEST(receive_flow_control)
{
    open_channel();
    nvsp_connect();
    rndis_bring_up();
    uint32_t sections = nic->receive.sections;
    uint8_t frame[100] = { 0 };
    memcpy(frame, nic->mac, 6);
    memcpy(frame + 6, gateway, 6);
    for (uint32_t i = 0; i < sections + 20; i++) {
        frame[20] = (uint8_t)i;
        vswitch_input(&sw, ext.id, frame, sizeof(frame));
    }
    static uint64_t ids[512];
    struct received r;
    uint32_t got = 0;
    while (child_receive(&r, NULL, NULL))
        ids[got++] = r.id;
    ck_assert_uint_eq(got, sections);
    ck_assert_uint_eq(nic->sections_free, 0);
    ck_assert_uint_eq(sw.ports[nic->port].count, 20);
    /* Completing five sections lets five queued frames through, in order. */
    for (uint32_t i = 0; i < 5; i++)
        child_complete_receive(ids[i]);
    uint32_t more = 0;
    while (child_receive(&r, NULL, NULL)) {
        struct rndis_packet p;
        uint32_t used;
        const char *why;
        ck_assert(rndis_packet_parse(r.data, r.length, &p, &used, &why));
        ck_assert_uint_eq(p.frame[20], (uint8_t)(sections + more));
        more++;
    }
    ck_assert_uint_eq(more, 5);
    ck_assert_uint_eq(sw.ports[nic->port].count, 15);
    /* A completion for a section that does not exist is refused; one from before a
     * revoke (an older generation) is ignored; neither frees anything. */
    uint32_t free_before = nic->sections_free, refused = (uint32_t)nic->stats.refused;
    child_complete_receive((uint64_t)nic->generation << 32 | 100000u);
    child_complete_receive((uint64_t)(nic->generation - 1) << 32 | 7u);
    ck_assert_uint_eq(nic->sections_free, free_before);
    ck_assert_uint_eq(nic->stats.refused, refused + 1);
    /* The packet filter: unicast for us passes, multicast passes (ALL_MULTICAST), and
     * with filter 0 nothing does. */
    nic->rndis.packet_filter = 0;
    child_complete_receive(ids[5]);
    ck_assert_uint_eq(nic->stats.dropped_filtered, 15);
}
END_TEST

START_TEST(truncated_nvsp_messages)
{
    open_channel();
    nvsp_connect();
    static const uint32_t types[] = { NVSP_MSG_INIT, NVSP_MSG1_SEND_RECEIVE_BUFFER,
                                      NVSP_MSG1_SEND_SEND_BUFFER, NVSP_MSG1_SEND_RNDIS_PACKET,
                                      NVSP_MSG1_REVOKE_RECEIVE_BUFFER, NVSP_MSG5_SUBCHANNEL,
                                      NVSP_MSG2_SEND_NDIS_CONFIG, 999 };
    uint8_t m[NVSP_MESSAGE_SIZE], packet[4096];
    uint32_t sent = 0;
    for (size_t t = 0; t < sizeof(types) / sizeof(types[0]); t++) {
        for (uint32_t length = 0; length < 16; length++) {
            nvsp_build(m, types[t], 0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF);
            uint32_t before = (uint32_t)nic->stats.refused;
            ck_assert(child_write(&channel.out, VMBUS_PACKET_INBAND,
                                  VMBUS_PACKET_FLAG_COMPLETION_REQUESTED, 7000 + sent, m, length));
            child_kick(&channel);
            sent++;
            while (child_read_packet(&channel.in, packet)) /* whatever comes back is a completion */
                ck_assert_uint_eq(packet[0], VMBUS_PACKET_COMPLETION);
            ck_assert_ptr_nonnull(nic->channel);
            if (length < 4 || types[t] == 999)
                ck_assert_uint_eq(nic->stats.refused, before + 1);
        }
    }
    /* The session still works. */
    ck_assert(nic->receive.ready);
    rndis_bring_up();
    ck_assert_uint_gt(sent, 100);
}
END_TEST

START_TEST(before_init_and_bad_buffers)
{
    open_channel();
    uint8_t m[NVSP_MESSAGE_SIZE];
    child_gpadl(RELID, RECEIVE_GPADL, RECEIVE_BASE, RECEIVE_PAGES);
    nvsp_build(m, NVSP_MSG1_SEND_RECEIVE_BUFFER, RECEIVE_GPADL, RECEIVE_ID, 0);
    const uint8_t *r = nvsp_request(m, 1);
    ck_assert_uint_eq(get32(r + 4), NVSP_STATUS_FAIL); /* before INIT */
    nvsp_build(m, NVSP_MSG_INIT, NVSP_VERSION_61, NVSP_VERSION_61, 0);
    nvsp_request(m, 2);
    /* Unknown GPADL, too small, too large (claimed), not page aligned, twice. */
    nvsp_build(m, NVSP_MSG1_SEND_RECEIVE_BUFFER, 0xBAD, RECEIVE_ID, 0);
    ck_assert_uint_eq(get32(nvsp_request(m, 3) + 4), NVSP_STATUS_FAIL);
    child_gpadl(RELID, 0x5001, RECEIVE_BASE, 1); /* one page: below 10 sections */
    nvsp_build(m, NVSP_MSG1_SEND_RECEIVE_BUFFER, 0x5001, RECEIVE_ID, 0);
    ck_assert_uint_eq(get32(nvsp_request(m, 4) + 4), NVSP_STATUS_FAIL);
    nvsp_build(m, NVSP_MSG1_SEND_SEND_BUFFER, 0x5001, 0, 0);
    r = nvsp_request(m, 5);
    ck_assert_uint_eq(get32(r + 4), NVSP_STATUS_FAIL); /* below one 6144-byte section */
    ck_assert_uint_eq(get32(r + 8), 0);
    nvsp_build(m, NVSP_MSG1_SEND_RECEIVE_BUFFER, RECEIVE_GPADL, RECEIVE_ID, 0);
    ck_assert_uint_eq(get32(nvsp_request(m, 6) + 4), NVSP_STATUS_SUCCESS);
    ck_assert_uint_eq(get32(nvsp_request(m, 7) + 4), NVSP_STATUS_FAIL); /* twice */
    /* A GPA range outside the child's RAM, and a send section that does not exist. */
    child_gpadl(RELID, SEND_GPADL, SEND_BASE, SEND_PAGES);
    nvsp_build(m, NVSP_MSG1_SEND_SEND_BUFFER, SEND_GPADL, 0, 0);
    ck_assert_uint_eq(get32(nvsp_request(m, 8) + 4), NVSP_STATUS_SUCCESS);
    uint32_t sections = nic->send.sections;
    static const uint32_t bad[][2] = { { 10, 60 }, { 0xFFFFFFFE, 60 }, { 0, 6145 },
                                       { 0, 0xFFFFFFFF } };
    for (size_t i = 0; i < 4; i++) {
        nvsp_build(m, NVSP_MSG1_SEND_RNDIS_PACKET, 0, bad[i][0] == 10 ? sections : bad[i][0],
                   bad[i][1]);
        r = nvsp_request(m, 20 + i);
        ck_assert_uint_eq(get32(r), NVSP_MSG1_SEND_RNDIS_PACKET_COMPLETE);
        ck_assert_uint_eq(get32(r + 4), NVSP_STATUS_FAIL);
    }
    uint8_t header[24] = { 0 };
    put32(header + 4, 1);
    put32(header + 8, 100);
    uint64_t outside = PAGES + 5;
    memcpy(header + 16, &outside, 8);
    nvsp_build(m, NVSP_MSG1_SEND_RNDIS_PACKET, 0, NVSP_NO_SECTION, 0);
    ck_assert(child_write_packet(&channel.out, VMBUS_PACKET_GPA_DIRECT,
                                 VMBUS_PACKET_FLAG_COMPLETION_REQUESTED, 30, header, 24, m,
                                 NVSP_MESSAGE_SIZE));
    child_kick(&channel);
    uint8_t packet[4096];
    ck_assert_uint_gt(child_read_packet(&channel.in, packet), 0);
    ck_assert_uint_eq(get32(payload_of(packet) + 4), NVSP_STATUS_FAIL);
    /* No section and no ranges; a channel type that does not exist. */
    ck_assert_uint_eq(get32(nvsp_request(m, 31) + 4), NVSP_STATUS_FAIL);
    nvsp_build(m, NVSP_MSG1_SEND_RNDIS_PACKET, 7, 0, 60);
    ck_assert_uint_eq(get32(nvsp_request(m, 32) + 4), NVSP_STATUS_FAIL);
    /* Garbage RNDIS in a good section: FAIL, nothing reaches the switch. */
    memset(child_memory + SEND_BASE * PAGE, 0xEE, 200);
    nvsp_build(m, NVSP_MSG1_SEND_RNDIS_PACKET, 0, 0, 200);
    ck_assert_uint_eq(get32(nvsp_request(m, 33) + 4), NVSP_STATUS_FAIL);
    nvsp_build(m, NVSP_MSG1_SEND_RNDIS_PACKET, 1, 0, 200);
    ck_assert_uint_eq(get32(nvsp_request(m, 34) + 4), NVSP_STATUS_FAIL);
    ck_assert_uint_eq(ext.received, 0);
    /* A spoofed source MAC is dropped by the switch. */
    uint8_t d[2048];
    static const uint8_t other[6] = { 0x02, 1, 1, 1, 1, 1 };
    uint32_t n = data_packet(d, gateway, other, 60, 0);
    rndis_send_section(NVSP_CHANNEL_TYPE_DATA, d, n, 0, 35);
    ck_assert_uint_eq(ext.received, 0);
    ck_assert_uint_eq(sw.ports[nic->port].stats.dropped_spoofed, 1);
    ck_assert_ptr_nonnull(nic->channel);
    ck_assert_uint_gt(child_host.logs, 10);
}
END_TEST

START_TEST(offload_requests_dropped)
{
    open_channel();
    nvsp_connect();
    rndis_bring_up();
    uint8_t m[2048], plain[2048];
    uint32_t n = data_packet(plain, gateway, nic->mac, 60, 0);
    memcpy(m, plain, 44);
    put32(m + 4, n + 16);
    put32(m + 8, 36 + 16);
    put32(m + 28, 36);
    put32(m + 32, 16);
    memcpy(m + 60, plain + 44, 60);
    put32(m + 44, 16);
    put32(m + 48, RNDIS_PPI_CHECKSUM);
    put32(m + 52, 12);
    put32(m + 56, 1u | 4u);
    rndis_send_section(NVSP_CHANNEL_TYPE_DATA, m, n + 16, 0, 40);
    ck_assert_uint_eq(ext.received, 0);
    ck_assert_uint_eq(nic->stats.dropped_offload, 1);
}
END_TEST

/* The child floods requests and never reads: the channel is closed, nothing grows. */
START_TEST(flood_without_reading)
{
    open_channel();
    nvsp_connect();
    uint8_t m[NVSP_MESSAGE_SIZE];
    nvsp_build(m, NVSP_MSG5_SUBCHANNEL, 1, 1, 0);
    uint32_t sent = 0;
    for (int round = 0; round < 200 && nic->channel; round++) {
        while (child_write(&channel.out, VMBUS_PACKET_INBAND,
                           VMBUS_PACKET_FLAG_COMPLETION_REQUESTED, 100 + sent, m,
                           NVSP_MESSAGE_SIZE))
            sent++;
        child_kick(&channel);
    }
    ck_assert_ptr_null(nic->channel);
    ck_assert_uint_gt(sent, NETVSP_PENDING_COMPLETIONS);
    ck_assert(strstr(child_host.last_log, "does not read") != NULL);
    /* Frames for the closed child are dropped, the switch runs on. */
    uint8_t frame[60] = { 0 };
    memcpy(frame, nic->mac, 6);
    memcpy(frame + 6, gateway, 6);
    vswitch_input(&sw, ext.id, frame, 60);
    ck_assert_uint_eq(nic->stats.dropped_not_ready, 1);
}
END_TEST

Suite *netvsp_suite(void)
{
    Suite *s = suite_create("netvsp");
    TCase *tc = tcase_create("netvsp");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, linux_session);
    tcase_add_test(tc, version_walk);
    tcase_add_test(tc, receive_flow_control);
    tcase_add_test(tc, truncated_nvsp_messages);
    tcase_add_test(tc, before_init_and_bad_buffers);
    tcase_add_test(tc, offload_requests_dropped);
    tcase_add_test(tc, flood_without_reading);
    suite_add_tcase(s, tc);
    return s;
}
