// sources: vmbus/protocol.c vmbus/gpadl.c vmbus/channel.c vmbus/connection.c vmbus/ring.c
/*
 * The host end of a child's VMBus connection (vmbus/connection.c, channel.c, gpadl.c,
 * protocol.c) against a fake child that plays Linux's side (drivers/hv connection.c,
 * channel_mgmt.c, channel.c, ring_buffer.c; its GPADLs and rings from
 * tests/unit/vsp_child.h, its messages and root services here): version walk, offers, GPADLs
 * in header + bodies, open, packets both ways with wrap-around and the signals they cost,
 * close, teardown, unload. Then everything a hostile child can do at this boundary:
 * truncated and unknown messages, wrong states, bad GPADLs, bad opens, corrupt rings,
 * oversized packets, floods; each must end in an error result or a closed channel and a
 * log line, with the other channel still working.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmbus/connection.h"

#define PAGES 2048u
#include "tests/unit/vsp_child.h"

#define VPS 2u
#define GPADL_FIRST 0xE1E10u /* Linux's first handle */

/* ---- the root's services, faked ------------------------------------------------------- */

struct posted {
    uint32_t vp, sint, size;
    union {
        uint8_t bytes[VMBUS_MESSAGE_MAX];
        struct vmbus_message_header header;
        struct vmbus_offer_message offer;
        struct vmbus_version_response_message version;
        struct vmbus_gpadl_created_message created;
        struct vmbus_gpadl_torndown_message torndown;
        struct vmbus_open_result_message open;
        struct vmbus_relid_message relid;
        struct vmbus_modify_channel_response_message modify;
    } u;
};

static struct {
    struct posted msgs[512];
    uint32_t count;
    bool queue_full;
    uint32_t signals;
    uint32_t signal_vp, signal_sint, signal_flag;
    uint32_t events, last_post_event, last_signal_event; /* order of posts and signals */
} host; /* log lines: child_host.logs and .last_log (vsp_child.h's child_fake_log) */

static bool fake_post(void *context, uint32_t vp, uint32_t sint, const void *payload,
                      uint32_t size)
{
    (void)context;
    if (host.queue_full)
        return false;
    ck_assert_uint_lt(host.count, 512);
    ck_assert_uint_le(size, VMBUS_MESSAGE_MAX);
    struct posted *p = &host.msgs[host.count++];
    p->vp = vp;
    p->sint = sint;
    p->size = size;
    memcpy(p->u.bytes, payload, size);
    host.last_post_event = ++host.events;
    return true;
}

static void fake_signal(void *context, uint32_t vp, uint32_t sint, uint32_t flag)
{
    (void)context;
    host.signals++;
    host.signal_vp = vp;
    host.signal_sint = sint;
    host.signal_flag = flag;
    host.last_signal_event = ++host.events;
}

static const struct vmbus_host_ops ops = {
    .post_message = fake_post,
    .signal_event = fake_signal,
    .page = child_fake_page,
    .log = child_fake_log,
};

/* ---- two devices: an echo VSP and a quiet one ------------------------------------------ */

struct fake_device {
    struct vmbus_device device;
    int opens, closes, packets, writable;
    bool refuse_open, echo, greet;
    uint8_t user_data[120];
    uint64_t last_id;
    uint32_t gpa_ranges, gpa_pfns, gpa_bytes;
    uint64_t gpa_second_pfn;
    uint8_t *gpa_second_page;
};

static void on_packet(struct vmbus_channel *channel, const struct vmbus_packet *packet)
{
    struct fake_device *f = channel->device->context;
    f->packets++;
    f->last_id = packet->transaction_id;
    if (packet->type == VMBUS_PACKET_GPA_DIRECT) {
        /* What storvsp does with a request: the data pages, checked to be child RAM. */
        f->gpa_ranges = packet->range_count;
        f->gpa_pfns = packet->ranges[0].pfn_count;
        f->gpa_bytes = packet->ranges[0].byte_count;
        f->gpa_second_pfn = vmbus_gpa_range_pfn(&packet->ranges[0], 1);
        f->gpa_second_page = vmbus_channel_page(channel, f->gpa_second_pfn);
    }
    if (f->echo)
        vmbus_channel_send(channel, VMBUS_PACKET_COMPLETION, 0, packet->transaction_id, NULL,
                           0, packet->payload, packet->payload_length);
}

static bool on_open(struct vmbus_channel *channel, const uint8_t *user_data)
{
    struct fake_device *f = channel->device->context;
    f->opens++;
    memcpy(f->user_data, user_data, sizeof(f->user_data));
    if (f->greet) /* an integration service speaks first */
        ck_assert_int_eq(vmbus_channel_send(channel, VMBUS_PACKET_INBAND, 0, 0x6E11, NULL, 0,
                                            "hello", 5),
                         VMBUS_RING_OK);
    return !f->refuse_open;
}

static void on_close(struct vmbus_channel *channel)
{
    struct fake_device *f = channel->device->context;
    f->closes++;
}

static void on_writable(struct vmbus_channel *channel)
{
    struct fake_device *f = channel->device->context;
    f->writable++;
}

static const struct vmbus_device_ops device_ops = { on_open, on_packet, on_writable, on_close };

static struct fake_device dev_a, dev_b;
static struct vmbus_channel *chan_a, *chan_b;

static void make_device(struct fake_device *f, uint8_t id, uint32_t max_packet, bool echo)
{
    memset(f, 0, sizeof(*f));
    f->device.name = id == 1 ? "a" : "b";
    memset(f->device.interface_type, 0x10 + id, 16);
    memset(f->device.interface_instance, 0x20 + id, 16);
    f->device.channel_flags = 0x4;
    f->device.max_packet_size = max_packet;
    f->device.ops = &device_ops;
    f->device.context = f;
    f->echo = echo;
}

static void setup(void)
{
    memset(&host, 0, sizeof(host));
    child_init(&ops, VPS);
    make_device(&dev_a, 1, 4096, true);
    make_device(&dev_b, 2, 256, true);
    chan_a = vmbus_connection_add_device(child_connection, &dev_a.device);
    chan_b = vmbus_connection_add_device(child_connection, &dev_b.device);
    ck_assert(chan_a && chan_b);
}

static void teardown(void)
{
    child_stop();
}

/* ---- the child (Linux's side) ---------------------------------------------------------- */

static void child_post_on(uint32_t connection_id, const void *msg, uint32_t size)
{
    vmbus_connection_handle_message(child_connection, connection_id, msg, size);
}

static struct posted *last(void)
{
    ck_assert_uint_gt(host.count, 0);
    return &host.msgs[host.count - 1];
}

static void child_contact(uint32_t version, uint32_t target_vp, uint8_t sint)
{
    struct vmbus_initiate_contact_message m = {
        .header.type = VMBUS_MSG_INITIATE_CONTACT,
        .version = version,
        .target_vcpu = target_vp,
        .interrupt_page_or_sint = version >= VMBUS_VERSION_WIN10_V5 ? sint : 0x1234000,
        .monitor_page1 = 0x5000,
        .monitor_page2 = 0x6000,
    };
    child_post_on(version >= VMBUS_VERSION_WIN10_V5 ? 4 : 1, &m, sizeof(m));
}

static void child_simple(uint32_t type)
{
    struct vmbus_message_header h = { .type = type };
    child_post(&h, sizeof(h));
}

static void child_relid(uint32_t type, uint32_t relid)
{
    struct vmbus_relid_message m = { .header.type = type, .child_relid = relid };
    child_post(&m, sizeof(m));
}

static void connect_and_offer(uint32_t version)
{
    child_contact(version, 1, VMBUS_MESSAGE_SINT);
    ck_assert_uint_eq(last()->u.version.version_supported, 1);
    child_simple(VMBUS_MSG_REQUESTOFFERS);
    ck_assert_uint_eq(last()->u.header.type, VMBUS_MSG_ALLOFFERS_DELIVERED);
}

static void child_open_message(uint32_t relid, uint32_t handle, uint32_t target_vp,
                               uint32_t offset)
{
    struct vmbus_open_channel_message m = {
        .header.type = VMBUS_MSG_OPENCHANNEL,
        .child_relid = relid,
        .open_id = relid,
        .ring_gpadl = handle,
        .target_vp = target_vp,
        .downstream_ring_page_offset = offset,
    };
    for (int i = 0; i < 120; i++)
        m.user_data[i] = (uint8_t)(i + relid);
    child_post(&m, sizeof(m));
}

/* Linux vmbus_open: ring GPADL of send + receive pages, then OPENCHANNEL. */
static struct child_channel child_open_channel(uint32_t relid, uint32_t handle, uint64_t base,
                                               uint32_t send_pages, uint32_t receive_pages)
{
    memset(child_memory + base * PAGE, 0, (size_t)(send_pages + receive_pages) * PAGE);
    child_ctl(&(struct child_ring){ base, 0 })->feature_bits = 1;
    child_ctl(&(struct child_ring){ base + send_pages, 0 })->feature_bits = 1;
    uint32_t before = host.count;
    child_gpadl(relid, handle, base, send_pages + receive_pages);
    ck_assert_uint_eq(host.count, before + 1);
    ck_assert_uint_eq(last()->u.created.header.type, VMBUS_MSG_GPADL_CREATED);
    ck_assert_uint_eq(last()->u.created.gpadl, handle);
    ck_assert_uint_eq(last()->u.created.status, 0);
    child_open_message(relid, handle, 1, send_pages);
    ck_assert_uint_eq(last()->u.open.header.type, VMBUS_MSG_OPENCHANNEL_RESULT);
    ck_assert_uint_eq(last()->u.open.child_relid, relid);
    ck_assert_uint_eq(last()->u.open.status, 0);
    return (struct child_channel){
        .relid = relid,
        .out = { base, (send_pages - 1) * PAGE },
        .in = { base + send_pages, (receive_pages - 1) * PAGE },
    };
}

static void kick(const struct vmbus_channel *channel)
{
    vmbus_connection_handle_signal(child_connection, channel->connection_id);
}

/* ---- the whole session ----------------------------------------------------------------- */

START_TEST(linux_session)
{
    /* Linux 6.1 starts with 5.3 on connection id 4. */
    child_contact(VMBUS_VERSION_WIN10_V5_3, 1, VMBUS_MESSAGE_SINT);
    struct posted *r = last();
    ck_assert_uint_eq(r->u.version.header.type, VMBUS_MSG_VERSION_RESPONSE);
    ck_assert_uint_eq(r->u.version.version_supported, 1);
    ck_assert_uint_eq(r->u.version.message_connection_id, 1);
    ck_assert_uint_eq(r->vp, 1);
    ck_assert_uint_eq(r->sint, VMBUS_MESSAGE_SINT);
    ck_assert_uint_eq(r->size, 16);

    host.count = 0;
    child_simple(VMBUS_MSG_REQUESTOFFERS);
    ck_assert_uint_eq(host.count, 3);
    for (uint32_t i = 0; i < 2; i++) {
        const struct vmbus_offer_message *o = &host.msgs[i].u.offer;
        ck_assert_uint_eq(host.msgs[i].size, 196);
        ck_assert_uint_eq(o->header.type, VMBUS_MSG_OFFERCHANNEL);
        ck_assert_uint_eq(o->child_relid, i + 1);
        ck_assert_uint_eq(o->connection_id, VMBUS_CHANNEL_CONNECTION_ID_BASE + i + 1);
        ck_assert_uint_eq(o->interface_type[15], 0x11 + i);
        ck_assert_uint_eq(o->interface_instance[0], 0x21 + i);
        ck_assert_uint_eq(o->channel_flags, 4);
        ck_assert_uint_eq(o->monitor_allocated, 0);
        ck_assert_uint_eq(o->is_dedicated_interrupt, 1);
    }
    ck_assert_uint_eq(host.msgs[2].u.header.type, VMBUS_MSG_ALLOFFERS_DELIVERED);

    /* A 40-page ring: the GPADL needs a header and a body; the reply only after both. */
    host.count = 0;
    child_gpadl(1, GPADL_FIRST, 100, 40);
    ck_assert_uint_eq(host.count, 1);
    host.count = 0;
    struct child_channel ca = child_open_channel(1, GPADL_FIRST + 1, 200, 4, 4);
    ck_assert_uint_eq(dev_a.opens, 1);
    ck_assert_uint_eq(dev_a.user_data[5], 6);
    ck_assert_uint_eq(chan_a->target_vp, 1);

    /* Packets both ways, in batches; the rings wrap many times. */
    static uint8_t payload[2048], got[4096];
    uint32_t bytes = 0, batches_signalled = 0;
    uint64_t id = 1;
    for (uint32_t round = 0; round < 300; round++) {
        uint32_t batch = 1 + round % 4;
        bool child_polling = round % 5 == 0;
        child_ctl(&ca.in)->interrupt_mask = child_polling;
        uint32_t signals = host.signals;
        for (uint32_t k = 0; k < batch; k++) {
            uint32_t n = 8 + (round * 97 + k * 31) % 1500;
            for (uint32_t i = 0; i < n; i++)
                payload[i] = (uint8_t)(id + i);
            ck_assert(child_write(&ca.out, VMBUS_PACKET_INBAND, 0, id + k, payload, n));
            bytes += n;
        }
        kick(chan_a);
        ck_assert_uint_le(host.signals - signals, 1); /* one signal per batch at most */
        if (child_polling)
            ck_assert_uint_eq(host.signals, signals);
        else
            ck_assert_uint_eq(host.signals, signals + 1);
        batches_signalled += host.signals - signals;
        if (!child_polling) {
            ck_assert_uint_eq(host.signal_flag, 1); /* SIEF bit = relid */
            ck_assert_uint_eq(host.signal_vp, 1);
            ck_assert_uint_eq(host.signal_sint, VMBUS_MESSAGE_SINT);
        }
        for (uint32_t k = 0; k < batch; k++) {
            struct vmbus_packet_descriptor d;
            uint32_t n = child_read(&ca.in, &d, got);
            ck_assert_uint_gt(n, 0);
            ck_assert_uint_eq(d.type, VMBUS_PACKET_COMPLETION);
            ck_assert_uint_eq(d.transaction_id, id + k);
            ck_assert_uint_eq(got[0], (uint8_t)(id + k - k)); /* payload echoed */
        }
        ck_assert_uint_eq(child_read(&ca.in, &(struct vmbus_packet_descriptor){ 0 }, got), 0);
        id += batch;
    }
    ck_assert_uint_gt(bytes, 20 * 3 * PAGE);
    ck_assert_uint_eq(chan_a->stats.packets_in, id - 1);
    ck_assert_uint_eq(chan_a->stats.packets_out, id - 1);
    ck_assert_uint_eq(chan_a->stats.signals, batches_signalled);
    ck_assert_uint_eq(chan_a->stats.kicks, 300);

    /* Close (no reply), tear the ring GPADL down, reopen with a new ring, close again. */
    host.count = 0;
    child_relid(VMBUS_MSG_CLOSECHANNEL, 1);
    ck_assert_uint_eq(host.count, 0);
    ck_assert_uint_eq(dev_a.closes, 1);
    struct vmbus_gpadl_teardown_message t = { { VMBUS_MSG_GPADL_TEARDOWN, 0 }, 1,
                                              GPADL_FIRST + 1 };
    child_post(&t, sizeof(t));
    ck_assert_uint_eq(last()->u.torndown.header.type, VMBUS_MSG_GPADL_TORNDOWN);
    ck_assert_uint_eq(last()->u.torndown.gpadl, GPADL_FIRST + 1);
    ck_assert_ptr_null(vmbus_gpadl_find(&child_connection->gpadls, GPADL_FIRST + 1));
    ca = child_open_channel(1, GPADL_FIRST + 2, 300, 2, 3);
    ck_assert(child_write(&ca.out, VMBUS_PACKET_INBAND, 0, 9, payload, 16));
    kick(chan_a);
    ck_assert_uint_eq(dev_a.last_id, 9);

    /* UNLOAD: everything closed and forgotten, answered, and a new session is needed. */
    host.count = 0;
    child_simple(VMBUS_MSG_UNLOAD);
    ck_assert_uint_eq(last()->u.header.type, VMBUS_MSG_UNLOAD_RESPONSE);
    ck_assert_uint_eq(dev_a.closes, 2);
    ck_assert_uint_eq(child_connection->state, VMBUS_DISCONNECTED);
    ck_assert_uint_eq(child_connection->gpadls.pages_total, 0);
    host.count = 0;
    child_simple(VMBUS_MSG_REQUESTOFFERS);
    ck_assert_uint_eq(host.count, 0);
    connect_and_offer(VMBUS_VERSION_WIN10);
    ck_assert_uint_eq(child_connection->version, VMBUS_VERSION_WIN10);
}
END_TEST

START_TEST(version_walk)
{
    /* Every version Linux 6.1 proposes is accepted, on its connection id. */
    static const uint32_t linux_order[] = {
        VMBUS_VERSION_WIN10_V5_3, VMBUS_VERSION_WIN10_V5_2, VMBUS_VERSION_WIN10_V5_1,
        VMBUS_VERSION_WIN10_V5,   VMBUS_VERSION_WIN10_V4_1, VMBUS_VERSION_WIN10,
        VMBUS_VERSION_WIN8_1,     VMBUS_VERSION_WIN8,
    };
    for (size_t i = 0; i < sizeof(linux_order) / sizeof(linux_order[0]); i++) {
        child_contact(linux_order[i], 0, VMBUS_MESSAGE_SINT);
        ck_assert_uint_eq(last()->u.version.version_supported, 1);
        ck_assert_uint_eq(child_connection->version, linux_order[i]);
        ck_assert_uint_eq(child_connection->state, VMBUS_CONNECTED);
    }
    /* Others are refused with supported = 0 and leave the child disconnected. */
    static const uint32_t refused[] = { 0x00010001, 0x0000000D, 0x00050004, 0x00060000, 0,
                                        0xFFFFFFFF };
    for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
        uint32_t logs = child_host.logs;
        child_contact(refused[i], 0, VMBUS_MESSAGE_SINT);
        ck_assert_uint_eq(last()->u.version.header.type, VMBUS_MSG_VERSION_RESPONSE);
        ck_assert_uint_eq(last()->u.version.version_supported, 0);
        ck_assert_uint_eq(child_connection->state, VMBUS_DISCONNECTED);
        ck_assert_uint_gt(child_host.logs, logs);
    }
    /* A target VP the child does not have: refused, answered on VP 0. */
    child_contact(VMBUS_VERSION_WIN10, VPS, VMBUS_MESSAGE_SINT);
    ck_assert_uint_eq(last()->u.version.version_supported, 0);
    ck_assert_uint_eq(last()->vp, 0);
    /* A 5.x message SINT that does not exist. */
    child_contact(VMBUS_VERSION_WIN10_V5_2, 0, 16);
    ck_assert_uint_eq(last()->u.version.version_supported, 0);
    ck_assert_uint_eq(last()->sint, VMBUS_MESSAGE_SINT);
    /* 5.x: replies go to the SINT the child named. */
    child_contact(VMBUS_VERSION_WIN10_V5_2, 1, 5);
    ck_assert_uint_eq(last()->u.version.version_supported, 1);
    ck_assert_uint_eq(last()->sint, 5);
    ck_assert_uint_eq(last()->vp, 1);
    /* Control messages on a connection id that is not VMBus's are refused. */
    uint32_t count = host.count, refused_before = child_connection->stats.refused;
    struct vmbus_message_header h = { .type = VMBUS_MSG_REQUESTOFFERS };
    child_post_on(2, &h, sizeof(h));
    ck_assert_uint_eq(host.count, count);
    ck_assert_uint_eq(child_connection->stats.refused, refused_before + 1);
}
END_TEST

START_TEST(new_contact_resets_the_session)
{
    connect_and_offer(VMBUS_VERSION_WIN10_V5_3);
    child_open_channel(1, GPADL_FIRST, 200, 2, 2);
    child_gpadl(2, GPADL_FIRST + 1, 300, 3);
    child_contact(VMBUS_VERSION_WIN10_V5_3, 0, VMBUS_MESSAGE_SINT);
    ck_assert_uint_eq(last()->u.version.version_supported, 1);
    ck_assert_uint_eq(dev_a.closes, 1);
    ck_assert_uint_eq(child_connection->gpadls.pages_total, 0);
    ck_assert_ptr_null(vmbus_gpadl_find(&child_connection->gpadls, GPADL_FIRST + 1));
    ck_assert(!child_connection->offers_requested);
    /* The same devices are offered again. */
    host.count = 0;
    child_simple(VMBUS_MSG_REQUESTOFFERS);
    ck_assert_uint_eq(host.count, 3);
}
END_TEST

/* ---- hostile control messages ---------------------------------------------------------- */

START_TEST(truncated_and_unknown_messages)
{
    connect_and_offer(VMBUS_VERSION_WIN10_V5_3);
    child_open_channel(1, GPADL_FIRST, 200, 2, 2);
    uint8_t junk[VMBUS_MESSAGE_MAX + 8];
    for (uint32_t type = 0; type < VMBUS_MSG_TYPE_LIMIT; type++) {
        uint32_t min = vmbus_message_min_size(type);
        for (uint32_t size = 0; size < min; size++) {
            /* The rest of a plausible message: relid 1, GPADL handle, version, ... */
            memset(junk, 1, sizeof(junk));
            memcpy(junk, &type, 4);
            uint32_t count = host.count, logs = child_host.logs;
            uint32_t refused = child_connection->stats.refused;
            child_post(junk, size);
            ck_assert_msg(host.count == count, "%s cut to %u answered", vmbus_message_name(type),
                          size);
            ck_assert_uint_eq(child_connection->stats.refused, refused + 1);
            ck_assert_uint_eq(child_host.logs, logs + 1);
        }
    }
    ck_assert_uint_eq(child_connection->state, VMBUS_CONNECTED);
    ck_assert_uint_eq(dev_a.closes, 0);
    /* Types a child never sends (host-to-guest ones, hv_sock, unknown). */
    static const uint32_t not_child[] = { 0, 1, 2, 4, 6, 10, 12, 15, 17, 18, 21, 23, 24, 25,
                                          0x80000000, 0xFFFFFFFF };
    for (size_t i = 0; i < sizeof(not_child) / sizeof(not_child[0]); i++) {
        memset(junk, 0, sizeof(junk));
        memcpy(junk, &not_child[i], 4);
        uint32_t count = host.count, refused = child_connection->stats.refused;
        child_post(junk, 200);
        ck_assert_uint_eq(host.count, count);
        ck_assert_uint_eq(child_connection->stats.refused, refused + 1);
    }
    /* Longer than HvPostMessage allows. */
    uint32_t refused = child_connection->stats.refused;
    memset(junk, 0, sizeof(junk));
    junk[0] = VMBUS_MSG_REQUESTOFFERS;
    child_post(junk, VMBUS_MESSAGE_MAX + 1);
    ck_assert_uint_eq(child_connection->stats.refused, refused + 1);
    /* GPADL PFN parts that are not whole u64s. */
    junk[0] = VMBUS_MSG_GPADL_BODY;
    child_post(junk, 16 + 12);
    junk[0] = VMBUS_MSG_GPADL_BODY;
    child_post(junk, 16); /* no PFNs at all */
    junk[0] = VMBUS_MSG_GPADL_HEADER;
    child_post(junk, 20 + 4);
    ck_assert_uint_eq(child_connection->stats.refused, refused + 4);
    ck_assert_uint_eq(dev_a.closes, 0);
}
END_TEST

START_TEST(messages_in_the_wrong_state)
{
    /* Before a version is agreed nothing but INITIATE_CONTACT and UNLOAD is taken. */
    child_simple(VMBUS_MSG_REQUESTOFFERS);
    child_gpadl(1, GPADL_FIRST, 100, 2);
    child_open_message(1, GPADL_FIRST, 0, 1);
    child_relid(VMBUS_MSG_CLOSECHANNEL, 1);
    ck_assert_uint_eq(host.count, 0);
    ck_assert_uint_eq(child_connection->stats.refused, 4);
    child_simple(VMBUS_MSG_UNLOAD);
    ck_assert_uint_eq(last()->u.header.type, VMBUS_MSG_UNLOAD_RESPONSE);
    /* Connected, offers not yet asked for: channels are unknown to the child. */
    child_contact(VMBUS_VERSION_WIN10, 0, 0);
    child_gpadl(1, GPADL_FIRST, 100, 2);
    ck_assert_uint_eq(last()->u.created.status, VMBUS_STATUS_UNSUCCESSFUL);
    child_simple(VMBUS_MSG_REQUESTOFFERS);
    host.count = 0;
    child_simple(VMBUS_MSG_REQUESTOFFERS); /* twice */
    ck_assert_uint_eq(host.count, 0);
    /* OPEN without a GPADL, CLOSE of a closed channel, RELID_RELEASED of a live one,
     * messages for relids that do not exist. */
    child_open_message(1, GPADL_FIRST, 0, 1);
    ck_assert_uint_eq(last()->u.open.status, VMBUS_STATUS_UNSUCCESSFUL);
    host.count = 0;
    child_relid(VMBUS_MSG_CLOSECHANNEL, 1);
    child_relid(VMBUS_MSG_CLOSECHANNEL, 0);
    child_relid(VMBUS_MSG_CLOSECHANNEL, 2048);
    child_relid(VMBUS_MSG_RELID_RELEASED, 1);
    child_relid(VMBUS_MSG_RELID_RELEASED, 77);
    ck_assert_uint_eq(host.count, 0);
    child_open_message(0xFFFFFFFF, GPADL_FIRST, 0, 1);
    ck_assert_uint_eq(last()->u.open.status, VMBUS_STATUS_UNSUCCESSFUL);
    child_gpadl(9, GPADL_FIRST, 100, 2);
    ck_assert_uint_eq(last()->u.created.status, VMBUS_STATUS_UNSUCCESSFUL);
    ck_assert_uint_eq(dev_a.opens + dev_b.opens, 0);
}
END_TEST

static uint32_t created_status(void)
{
    ck_assert_uint_eq(last()->u.created.header.type, VMBUS_MSG_GPADL_CREATED);
    return last()->u.created.status;
}

START_TEST(bad_gpadls)
{
    connect_and_offer(VMBUS_VERSION_WIN10_V5_3);
    /* A duplicate handle fails; the first GPADL stays. */
    child_gpadl(1, GPADL_FIRST, 100, 4);
    ck_assert_uint_eq(created_status(), 0);
    child_gpadl(2, GPADL_FIRST, 300, 4);
    ck_assert_uint_eq(created_status(), VMBUS_STATUS_UNSUCCESSFUL);
    ck_assert_uint_eq(vmbus_gpadl_find(&child_connection->gpadls, GPADL_FIRST)->child_relid, 1);

    union {
        uint8_t bytes[VMBUS_MESSAGE_MAX];
        struct vmbus_gpadl_header_message h;
        struct vmbus_gpadl_body_message b;
    } m;
    /* Bodies for no GPADL in progress (unknown, or already complete): ignored, logged. */
    memset(&m, 0, sizeof(m));
    m.b.header.type = VMBUS_MSG_GPADL_BODY;
    m.b.gpadl = 0x999;
    uint32_t count = host.count, logs = child_host.logs;
    child_post(&m, 24);
    m.b.gpadl = GPADL_FIRST;
    child_post(&m, 24);
    ck_assert_uint_eq(host.count, count);
    ck_assert_uint_eq(child_host.logs, logs + 2);

    /* A body that runs past the announced length: failure, and the GPADL is forgotten. */
    memset(&m, 0, sizeof(m));
    m.h.header.type = VMBUS_MSG_GPADL_HEADER;
    m.h.child_relid = 1;
    m.h.gpadl = 0x100;
    m.h.range_buffer_length = 8 * 30; /* head + 29 PFNs */
    m.h.range_count = 1;
    uint64_t head = 29 * PAGE;
    memcpy(m.bytes + 20, &head, 8);
    child_post(&m, 20 + 27 * 8);
    ck_assert_uint_eq(host.count, count);
    memset(&m, 0, sizeof(m));
    m.b.header.type = VMBUS_MSG_GPADL_BODY;
    m.b.gpadl = 0x100;
    child_post(&m, 16 + 4 * 8); /* 3 were left */
    ck_assert_uint_eq(created_status(), VMBUS_STATUS_UNSUCCESSFUL);
    ck_assert_uint_eq(last()->u.created.child_relid, 1);
    ck_assert_ptr_null(vmbus_gpadl_find(&child_connection->gpadls, 0x100));

    /* Headers whose counts disagree. */
    struct {
        uint16_t length, ranges;
    } shapes[] = { { 16, 0 }, { 20, 1 }, { 8, 1 }, { 24, 2 }, { 0, 1 } };
    for (size_t i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++) {
        memset(&m, 0, sizeof(m));
        m.h.header.type = VMBUS_MSG_GPADL_HEADER;
        m.h.child_relid = 1;
        m.h.gpadl = 0x200;
        m.h.range_buffer_length = shapes[i].length;
        m.h.range_count = shapes[i].ranges;
        child_post(&m, 20);
        ck_assert_uint_eq(created_status(), VMBUS_STATUS_UNSUCCESSFUL);
        ck_assert_ptr_null(vmbus_gpadl_find(&child_connection->gpadls, 0x200));
    }

    /* Ranges that are wrong once complete. */
    uint64_t e[8];
    e[0] = 4096ull << 32 | 100; /* offset past the first page */
    e[1] = 10;
    child_gpadl_ranges(1, 0x300, e, 2, 1);
    ck_assert_uint_eq(created_status(), VMBUS_STATUS_UNSUCCESSFUL);
    e[0] = 0; /* no bytes */
    child_gpadl_ranges(1, 0x300, e, 2, 1);
    ck_assert_uint_eq(created_status(), VMBUS_STATUS_UNSUCCESSFUL);
    e[0] = 2 * PAGE; /* two pages of bytes, one PFN */
    child_gpadl_ranges(1, 0x300, e, 2, 1);
    ck_assert_uint_eq(created_status(), VMBUS_STATUS_UNSUCCESSFUL);
    e[0] = PAGE; /* one page, two PFNs: left over */
    e[2] = 11;
    child_gpadl_ranges(1, 0x300, e, 3, 1);
    ck_assert_uint_eq(created_status(), VMBUS_STATUS_UNSUCCESSFUL);
    e[0] = PAGE;
    e[1] = PAGES; /* not the child's RAM */
    child_gpadl_ranges(1, 0x300, e, 2, 1);
    ck_assert_uint_eq(created_status(), VMBUS_STATUS_UNSUCCESSFUL);
    e[1] = 1ull << 52;
    child_gpadl_ranges(1, 0x300, e, 2, 1);
    ck_assert_uint_eq(created_status(), VMBUS_STATUS_UNSUCCESSFUL);
    e[0] = PAGE;
    e[1] = 10;
    child_gpadl_ranges(1, 0x300, e, 2, 2); /* two ranges announced, one given */
    ck_assert_uint_eq(created_status(), VMBUS_STATUS_UNSUCCESSFUL);
    ck_assert_ptr_null(vmbus_gpadl_find(&child_connection->gpadls, 0x300));

    /* Two good ranges: created, readable, but not a ring. */
    e[0] = (100ull << 32) | 5000; /* 2 pages */
    e[1] = 20;
    e[2] = 21;
    e[3] = 300;
    e[4] = 30;
    child_gpadl_ranges(1, 0x400, e, 5, 2);
    ck_assert_uint_eq(created_status(), 0);
    const struct vmbus_gpadl *g = vmbus_gpadl_find(&child_connection->gpadls, 0x400);
    uint32_t bytes, offset, pfn_count;
    const uint64_t *pfns;
    ck_assert(vmbus_gpadl_range(g, 1, &bytes, &offset, &pfns, &pfn_count));
    ck_assert_uint_eq(bytes, 300);
    ck_assert_uint_eq(pfns[0], 30);
    ck_assert(vmbus_gpadl_range(g, 0, &bytes, &offset, &pfns, &pfn_count));
    ck_assert_uint_eq(offset, 100);
    ck_assert_uint_eq(pfn_count, 2);
    ck_assert(!vmbus_gpadl_range(g, 2, &bytes, &offset, &pfns, &pfn_count));
    ck_assert_ptr_eq(vmbus_channel_gpadl(chan_a, 0x400), g);
    ck_assert_ptr_null(vmbus_channel_gpadl(chan_b, 0x400)); /* another channel's */
    child_open_message(1, 0x400, 0, 1);
    ck_assert_uint_eq(last()->u.open.status, VMBUS_STATUS_UNSUCCESSFUL);

    /* Teardown of an unknown GPADL, or naming the wrong channel: refused. */
    count = host.count;
    struct vmbus_gpadl_teardown_message t = { { VMBUS_MSG_GPADL_TEARDOWN, 0 }, 2, 0x400 };
    child_post(&t, sizeof(t));
    t.gpadl = 0x12345;
    child_post(&t, sizeof(t));
    ck_assert_uint_eq(host.count, count);
    ck_assert_ptr_nonnull(vmbus_gpadl_find(&child_connection->gpadls, 0x400));
}
END_TEST

START_TEST(gpadl_bounds)
{
    connect_and_offer(VMBUS_VERSION_WIN10_V5_3);
    union {
        uint8_t bytes[VMBUS_MESSAGE_MAX];
        struct vmbus_gpadl_header_message h;
    } m;
    /* Announced sizes count against the child's bound from the header on. */
    uint32_t accepted = 0;
    for (uint32_t i = 0; i < 10; i++) {
        memset(&m, 0, sizeof(m));
        m.h.header.type = VMBUS_MSG_GPADL_HEADER;
        m.h.child_relid = 1;
        m.h.gpadl = 0x1000 + i;
        m.h.range_buffer_length = 65528;
        m.h.range_count = 1;
        uint32_t count = host.count;
        child_post(&m, 20);
        if (host.count == count)
            accepted++;
        else
            ck_assert_uint_eq(created_status(), VMBUS_STATUS_UNSUCCESSFUL);
    }
    ck_assert_uint_eq(accepted, VMBUS_GPADL_MAX_PAGES_TOTAL / (65528 / 8));
    vmbus_gpadl_remove_channel(&child_connection->gpadls, 1);
    ck_assert_uint_eq(child_connection->gpadls.pages_total, 0);
    /* And the number of GPADLs. */
    accepted = 0;
    for (uint32_t i = 0; i < VMBUS_GPADL_MAX + 3; i++) {
        memset(&m, 0, sizeof(m));
        m.h.header.type = VMBUS_MSG_GPADL_HEADER;
        m.h.child_relid = 2;
        m.h.gpadl = 0x2000 + i;
        m.h.range_buffer_length = 16;
        m.h.range_count = 1;
        uint32_t count = host.count;
        child_post(&m, 20);
        accepted += host.count == count;
    }
    ck_assert_uint_eq(accepted, VMBUS_GPADL_MAX);
}
END_TEST

START_TEST(bad_opens)
{
    connect_and_offer(VMBUS_VERSION_WIN10_V5_3);
    memset(child_memory + 100 * PAGE, 0, 8 * PAGE);
    child_gpadl(1, 0x10, 100, 8);
    struct {
        uint32_t relid, handle, vp, offset;
    } bad[] = {
        { 1, 0x10, VPS, 4 },  /* no such VP */
        { 1, 0x10, 0, 0 },    /* empty child->host ring */
        { 1, 0x10, 0, 1 },    /* control page only */
        { 1, 0x10, 0, 7 },    /* host->child ring without data */
        { 1, 0x10, 0, 8 },
        { 1, 0x10, 0, 100 },
        { 1, 0x11, 0, 4 },    /* no such GPADL */
        { 2, 0x10, 0, 4 },    /* GPADL of another channel */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        uint32_t logs = child_host.logs;
        child_open_message(bad[i].relid, bad[i].handle, bad[i].vp, bad[i].offset);
        ck_assert_uint_eq(last()->u.open.header.type, VMBUS_MSG_OPENCHANNEL_RESULT);
        ck_assert_uint_eq(last()->u.open.child_relid, bad[i].relid);
        ck_assert_msg(last()->u.open.status == VMBUS_STATUS_UNSUCCESSFUL, "case %zu opened", i);
        ck_assert_uint_gt(child_host.logs, logs);
    }
    /* An incomplete GPADL. */
    union {
        uint8_t bytes[VMBUS_MESSAGE_MAX];
        struct vmbus_gpadl_header_message h;
    } m = { .h = { { VMBUS_MSG_GPADL_HEADER, 0 }, 1, 0x12, 8 * 10, 1 } };
    child_post(&m, 20 + 8);
    child_open_message(1, 0x12, 0, 4);
    ck_assert_uint_eq(last()->u.open.status, VMBUS_STATUS_UNSUCCESSFUL);
    /* A ring whose index the child left invalid. */
    ((struct vmbus_ring_control *)(child_memory + 100 * PAGE))->read_index = 12;
    child_open_message(1, 0x10, 0, 4);
    ck_assert_uint_eq(last()->u.open.status, VMBUS_STATUS_UNSUCCESSFUL);
    ((struct vmbus_ring_control *)(child_memory + 100 * PAGE))->read_index = 0;
    /* A ring larger than the host maps (the same pages repeated). */
    static uint64_t e[1200];
    e[0] = 1100ull * PAGE;
    for (int i = 1; i <= 1100; i++)
        e[i] = 100 + (uint64_t)(i % 4);
    child_gpadl_ranges(1, 0x13, e, 1101, 1);
    ck_assert_uint_eq(created_status(), 0);
    child_open_message(1, 0x13, 0, 550);
    ck_assert_uint_eq(last()->u.open.status, VMBUS_STATUS_UNSUCCESSFUL);
    /* The device refuses. */
    dev_a.refuse_open = true;
    child_open_message(1, 0x10, 0, 4);
    ck_assert_uint_eq(last()->u.open.status, VMBUS_STATUS_UNSUCCESSFUL);
    ck_assert_uint_eq(dev_a.opens, 1);
    ck_assert_uint_eq(chan_a->state, VMBUS_CHANNEL_CLOSED);
    dev_a.refuse_open = false;
    /* The good one, then a second open of the open channel. */
    child_open_message(1, 0x10, 0, 4);
    ck_assert_uint_eq(last()->u.open.status, 0);
    child_open_message(1, 0x10, 0, 4);
    ck_assert_uint_eq(last()->u.open.status, VMBUS_STATUS_UNSUCCESSFUL);
    ck_assert_uint_eq(chan_a->state, VMBUS_CHANNEL_OPEN);
    ck_assert_uint_eq(dev_a.opens, 2);
    ck_assert_uint_eq(dev_a.closes, 0);
}
END_TEST

/* ---- hostile rings --------------------------------------------------------------------- */

START_TEST(hostile_rings_close_only_their_channel)
{
    connect_and_offer(VMBUS_VERSION_WIN10_V5_3);
    struct child_channel ca = child_open_channel(1, 0x10, 100, 3, 3);
    struct child_channel cb = child_open_channel(2, 0x20, 200, 3, 3);
    uint8_t payload[512] = { 0 }, got[4096];
    struct vmbus_packet_descriptor d;

    /* A's write index out of range: A closes, B carries on. */
    child_ctl(&ca.out)->write_index = ca.out.size + 8;
    uint32_t logs = child_host.logs;
    kick(chan_a);
    ck_assert_uint_eq(dev_a.closes, 1);
    ck_assert_uint_eq(chan_a->state, VMBUS_CHANNEL_CLOSED);
    ck_assert_uint_gt(child_host.logs, logs);
    ck_assert(child_write(&cb.out, VMBUS_PACKET_INBAND, 0, 5, payload, 64));
    kick(chan_b);
    ck_assert_uint_eq(child_read(&cb.in, &d, got), 64);
    /* Kicks for a closed channel or no channel are counted, nothing else. */
    kick(chan_a);
    vmbus_connection_handle_signal(child_connection, 7);
    vmbus_connection_handle_signal(child_connection, VMBUS_CHANNEL_CONNECTION_ID_BASE + 99);
    vmbus_connection_handle_signal(child_connection, 0);
    ck_assert_uint_eq(child_connection->stats.stray_signals, 4);

    /* B: a packet longer than the device takes (256). */
    ck_assert(child_write(&cb.out, VMBUS_PACKET_INBAND, 0, 6, payload, 300));
    kick(chan_b);
    ck_assert_uint_eq(dev_b.closes, 1);
    ck_assert_uint_eq(dev_b.packets, 1);

    /* A again (the child closes and reopens it on a fresh ring): an unknown packet type. */
    child_relid(VMBUS_MSG_CLOSECHANNEL, 1); /* already closed by the host: refused */
    ca = child_open_channel(1, 0x11, 300, 3, 3);
    ck_assert(child_write(&ca.out, 3, 0, 7, payload, 16));
    kick(chan_a);
    ck_assert_uint_eq(dev_a.closes, 2);
    ck_assert_uint_eq(dev_a.packets, 0);

    /* A again: misaligned write index. */
    ca = child_open_channel(1, 0x12, 400, 3, 3);
    ck_assert(child_write(&ca.out, VMBUS_PACKET_INBAND, 0, 8, payload, 16));
    child_ctl(&ca.out)->write_index += 4;
    kick(chan_a);
    ck_assert_uint_eq(dev_a.closes, 3);

    /* A again: the child's read index of the host's ring goes bad while the host answers. */
    ca = child_open_channel(1, 0x13, 500, 3, 3);
    child_ctl(&ca.in)->read_index = 0xFFFF0000;
    ck_assert(child_write(&ca.out, VMBUS_PACKET_INBAND, 0, 9, payload, 16));
    kick(chan_a);
    ck_assert_uint_eq(dev_a.packets, 1);
    ck_assert_uint_eq(dev_a.closes, 4);

    /* A again: the child tears the ring GPADL down while open: closed first, then torn. */
    ca = child_open_channel(1, 0x14, 600, 3, 3);
    struct vmbus_gpadl_teardown_message t = { { VMBUS_MSG_GPADL_TEARDOWN, 0 }, 1, 0x14 };
    child_post(&t, sizeof(t));
    ck_assert_uint_eq(dev_a.closes, 5);
    ck_assert_uint_eq(last()->u.torndown.gpadl, 0x14);
    kick(chan_a);
    ck_assert_uint_eq(dev_a.packets, 1);
}
END_TEST

START_TEST(poll_budget_bounds_a_flood)
{
    connect_and_offer(VMBUS_VERSION_WIN10_V5_3);
    dev_a.echo = false;
    struct child_channel ca = child_open_channel(1, 0x10, 100, 5, 2);
    uint8_t payload[8] = { 0 };
    for (uint32_t i = 0; i < 200; i++)
        ck_assert(child_write(&ca.out, VMBUS_PACKET_INBAND, 0, i, payload, 8));
    ck_assert(vmbus_connection_handle_signal(child_connection, chan_a->connection_id));
    ck_assert_uint_eq(dev_a.packets, VMBUS_POLL_BUDGET);
    ck_assert_uint_eq(child_ctl(&ca.out)->interrupt_mask, 1); /* no kicks needed meanwhile */
    ck_assert_uint_eq(child_ctl(&ca.out)->read_index, VMBUS_POLL_BUDGET * 32u);
    ck_assert(!vmbus_connection_handle_signal(child_connection, chan_a->connection_id));
    ck_assert_uint_eq(dev_a.packets, 200);
    ck_assert_uint_eq(child_ctl(&ca.out)->interrupt_mask, 0);
    ck_assert_uint_eq(child_ctl(&ca.out)->read_index, child_ctl(&ca.out)->write_index);
}
END_TEST

START_TEST(full_host_ring_waits_for_space)
{
    connect_and_offer(VMBUS_VERSION_WIN10_V5_3);
    struct child_channel ca = child_open_channel(1, 0x10, 100, 3, 2); /* 4 KiB back */
    static uint8_t payload[1500], got[4096];
    struct vmbus_packet_descriptor d;
    /* Three 1.5 KiB echoes do not fit in 4 KiB: the third waits. */
    for (uint64_t i = 0; i < 3; i++)
        ck_assert(child_write(&ca.out, VMBUS_PACKET_INBAND, 0, i, payload, 1500));
    kick(chan_a);
    ck_assert_uint_eq(chan_a->stats.packets_out, 2);
    ck_assert(chan_a->waiting_for_space);
    ck_assert_uint_eq(child_ctl(&ca.in)->pending_send_size, 1520 + 8);
    /* The child reads one and kicks (Linux: free space crossed pending_send_sz). */
    ck_assert_uint_gt(child_read(&ca.in, &d, got), 0);
    kick(chan_a);
    ck_assert_uint_eq(dev_a.writable, 1);
    ck_assert(!chan_a->waiting_for_space);
    ck_assert_uint_eq(vmbus_channel_send(chan_a, VMBUS_PACKET_INBAND, 0, 3, NULL, 0, payload,
                                         1500),
                      VMBUS_RING_OK);
    /* Sends on a closed channel are refused. */
    child_relid(VMBUS_MSG_CLOSECHANNEL, 1);
    ck_assert_uint_eq(vmbus_channel_send(chan_a, VMBUS_PACKET_INBAND, 0, 3, NULL, 0, payload,
                                         8),
                      VMBUS_RING_CLOSED);
}
END_TEST

/* ---- host side: outbox, rescind, modify -------------------------------------------------- */

START_TEST(outbox_keeps_order_and_bounds)
{
    child_contact(VMBUS_VERSION_WIN10_V5_3, 0, VMBUS_MESSAGE_SINT);
    host.count = 0;
    host.queue_full = true;
    child_simple(VMBUS_MSG_REQUESTOFFERS);
    ck_assert_uint_eq(child_connection->outbox_count, 3);
    vmbus_connection_flush(child_connection);
    ck_assert_uint_eq(host.count, 0);
    host.queue_full = false;
    vmbus_connection_flush(child_connection);
    ck_assert_uint_eq(host.count, 3);
    ck_assert_uint_eq(host.msgs[0].u.offer.child_relid, 1);
    ck_assert_uint_eq(host.msgs[1].u.offer.child_relid, 2);
    ck_assert_uint_eq(host.msgs[2].u.header.type, VMBUS_MSG_ALLOFFERS_DELIVERED);
    /* A child that takes no messages: the outbox fills, the rest is dropped and logged. */
    host.queue_full = true;
    struct vmbus_modify_channel_message mc = { { VMBUS_MSG_MODIFYCHANNEL, 0 }, 1, 0 };
    for (uint32_t i = 0; i < VMBUS_OUTBOX_MAX + 10; i++)
        child_post(&mc, sizeof(mc));
    ck_assert_uint_eq(child_connection->outbox_count, VMBUS_OUTBOX_MAX);
    ck_assert_uint_eq(child_connection->stats.dropped, 10);
    host.queue_full = false;
    vmbus_connection_flush(child_connection);
    ck_assert_uint_eq(host.count, 3 + VMBUS_OUTBOX_MAX);
    ck_assert_uint_eq(child_connection->outbox_count, 0);
}
END_TEST

START_TEST(rescind_and_release)
{
    /* Rescinding a channel the child never saw frees it at once, silently. */
    vmbus_connection_rescind(child_connection, chan_b);
    ck_assert_uint_eq(chan_b->state, VMBUS_CHANNEL_FREE);
    ck_assert_uint_eq(host.count, 0);
    chan_b = vmbus_connection_add_device(child_connection, &dev_b.device);
    ck_assert_uint_eq(chan_b->relid, 2);

    connect_and_offer(VMBUS_VERSION_WIN10_V5_3);
    child_open_channel(1, 0x10, 100, 2, 2);
    vmbus_connection_rescind(child_connection, chan_a);
    ck_assert_uint_eq(dev_a.closes, 1);
    ck_assert_uint_eq(last()->u.relid.header.type, VMBUS_MSG_RESCIND_CHANNELOFFER);
    ck_assert_uint_eq(last()->u.relid.child_relid, 1);
    ck_assert_uint_eq(chan_a->state, VMBUS_CHANNEL_RESCINDED);
    /* The child can no longer act on it... */
    child_open_message(1, 0x10, 0, 2);
    ck_assert_uint_eq(last()->u.open.status, VMBUS_STATUS_UNSUCCESSFUL);
    child_gpadl(1, 0x11, 300, 2);
    ck_assert_uint_eq(created_status(), VMBUS_STATUS_UNSUCCESSFUL);
    /* ...until it releases the relid, which frees the relid and its GPADLs. */
    child_relid(VMBUS_MSG_RELID_RELEASED, 1);
    ck_assert_uint_eq(chan_a->state, VMBUS_CHANNEL_FREE);
    ck_assert_ptr_null(vmbus_gpadl_find(&child_connection->gpadls, 0x10));
    /* A device added now is offered at once, on the freed relid. */
    host.count = 0;
    struct vmbus_channel *again = vmbus_connection_add_device(child_connection, &dev_a.device);
    ck_assert_ptr_eq(again, chan_a);
    ck_assert_uint_eq(host.count, 1);
    ck_assert_uint_eq(last()->u.offer.child_relid, 1);
    /* The table is bounded. */
    for (uint32_t i = 2; i < VMBUS_CHANNEL_MAX; i++)
        ck_assert_ptr_nonnull(vmbus_connection_add_device(child_connection, &dev_a.device));
    ck_assert_ptr_null(vmbus_connection_add_device(child_connection, &dev_a.device));
    struct vmbus_device tiny = dev_a.device;
    tiny.max_packet_size = 8;
    vmbus_connection_rescind(child_connection, &child_connection->channels[VMBUS_CHANNEL_MAX - 1]);
    child_relid(VMBUS_MSG_RELID_RELEASED, VMBUS_CHANNEL_MAX);
    ck_assert_ptr_null(vmbus_connection_add_device(child_connection, &tiny));
}
END_TEST

START_TEST(modify_channel)
{
    connect_and_offer(VMBUS_VERSION_WIN10_V5_3);
    child_open_channel(1, 0x10, 100, 2, 2);
    struct vmbus_modify_channel_message mc = { { VMBUS_MSG_MODIFYCHANNEL, 0 }, 1, 0 };
    child_post(&mc, sizeof(mc));
    ck_assert_uint_eq(last()->u.modify.header.type, VMBUS_MSG_MODIFYCHANNEL_RESPONSE);
    ck_assert_uint_eq(last()->u.modify.status, 0);
    ck_assert_uint_eq(chan_a->target_vp, 0);
    mc.target_vp = VPS;
    child_post(&mc, sizeof(mc));
    ck_assert_uint_eq(last()->u.modify.status, VMBUS_STATUS_UNSUCCESSFUL);
    ck_assert_uint_eq(chan_a->target_vp, 0);
    /* Before 5.3 nobody waits for an answer. */
    connect_and_offer(VMBUS_VERSION_WIN10_V4_1);
    child_open_channel(1, 0x10, 100, 2, 2);
    uint32_t count = host.count;
    mc.target_vp = 0;
    child_post(&mc, sizeof(mc));
    ck_assert_uint_eq(host.count, count);
    ck_assert_uint_eq(chan_a->target_vp, 0);
}
END_TEST

START_TEST(device_speaks_first_and_gpa_direct)
{
    connect_and_offer(VMBUS_VERSION_WIN10_V5_3);
    dev_a.greet = true;
    struct child_channel ca = child_open_channel(1, 0x10, 100, 3, 3);
    /* The greeting is published with one signal, after the OPEN_RESULT. */
    ck_assert_uint_eq(host.signals, 1);
    ck_assert_uint_gt(host.last_signal_event, host.last_post_event);
    uint8_t got[4096];
    struct vmbus_packet_descriptor d;
    ck_assert_uint_eq(child_read(&ca.in, &d, got), 8);
    ck_assert_uint_eq(d.transaction_id, 0x6E11);
    ck_assert_mem_eq(got, "hello", 5);
    /* A refused open publishes nothing. */
    dev_b.greet = true;
    dev_b.refuse_open = true;
    uint32_t signals = host.signals;
    child_gpadl(2, 0x20, 200, 4);
    child_open_message(2, 0x20, 0, 2);
    ck_assert_uint_eq(last()->u.open.status, VMBUS_STATUS_UNSUCCESSFUL);
    ck_assert_uint_eq(host.signals, signals);

    /* storvsc's request shape: GPA_DIRECT, one range of 5000 bytes at offset 100 (2 PFNs),
     * two unused PFN slots, then a 16-byte payload. */
    _Alignas(8) uint8_t packet[80] = { 0 };
    struct vmbus_packet_descriptor pd = { VMBUS_PACKET_GPA_DIRECT, 8, 10, 1, 0x51 };
    memcpy(packet, &pd, 16);
    uint32_t head[4] = { 0, 1, 5000, 100 };
    memcpy(packet + 16, head, 16);
    uint64_t pfns[2] = { 50, 51 };
    memcpy(packet + 32, pfns, 16);
    memset(packet + 64, 0xAB, 16);
    ck_assert(child_write_raw(&ca.out, packet, sizeof(packet)));
    kick(chan_a);
    ck_assert_uint_eq(dev_a.gpa_ranges, 1);
    ck_assert_uint_eq(dev_a.gpa_pfns, 2);
    ck_assert_uint_eq(dev_a.gpa_bytes, 5000);
    ck_assert_uint_eq(dev_a.gpa_second_pfn, 51);
    ck_assert_ptr_eq(dev_a.gpa_second_page, child_memory + 51 * PAGE);
    ck_assert_uint_eq(child_read(&ca.in, &d, got), 16); /* the echo of the payload */
    ck_assert_uint_eq(d.transaction_id, 0x51);
    ck_assert_uint_eq(got[15], 0xAB);
    /* The same request with a PFN count the bytes do not allow closes the channel. */
    head[2] = 5 * PAGE; /* 6 PFNs; the descriptor has room for 4 */
    memcpy(packet + 16, head, 16);
    ck_assert(child_write_raw(&ca.out, packet, sizeof(packet)));
    kick(chan_a);
    ck_assert_uint_eq(dev_a.closes, 1);
    ck_assert_uint_eq(dev_a.packets, 1);
}
END_TEST

Suite *vmbus_connection_suite(void)
{
    Suite *s = suite_create("vmbus_connection");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, linux_session);
    tcase_add_test(tc, version_walk);
    tcase_add_test(tc, new_contact_resets_the_session);
    tcase_add_test(tc, truncated_and_unknown_messages);
    tcase_add_test(tc, messages_in_the_wrong_state);
    tcase_add_test(tc, bad_gpadls);
    tcase_add_test(tc, gpadl_bounds);
    tcase_add_test(tc, bad_opens);
    tcase_add_test(tc, hostile_rings_close_only_their_channel);
    tcase_add_test(tc, poll_budget_bounds_a_flood);
    tcase_add_test(tc, full_host_ring_waits_for_space);
    tcase_add_test(tc, outbox_keeps_order_and_bounds);
    tcase_add_test(tc, rescind_and_release);
    tcase_add_test(tc, modify_channel);
    tcase_add_test(tc, device_speaks_first_and_gpa_direct);
    suite_add_tcase(s, tc);
    return s;
}
