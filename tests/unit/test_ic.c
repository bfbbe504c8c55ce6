// sources: vsp/ic.c vsp/heartbeat.c vsp/shutdown.c vsp/timesync.c vmbus/protocol.c vmbus/gpadl.c vmbus/channel.c vmbus/connection.c vmbus/ring.c
/*
 * The integration services (vsp/ic.c and heartbeat, shutdown, timesync) against a fake
 * child that answers as Linux 6.1's hv_utils does (hv_util.c *_onchannelcallback and
 * vmbus_prep_negotiate_resp: the answer is the request rewritten in place and sent back
 * INBAND with the same transaction id). Then the answers a hostile child can give: none,
 * truncated at every length, other transaction ids, requests instead of responses, other
 * types, sizes beyond the packet, versions never offered, wrong sequence numbers.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "tests/unit/vsp_child.h"
#include "vsp/heartbeat.h"
#include "vsp/shutdown.h"
#include "vsp/timesync.h"

static struct ic_heartbeat heartbeat;
static struct ic_shutdown shutdown;
static struct ic_timesync timesync;
static struct child_channel hb_ch, sd_ch, ts_ch;
static const uint8_t instance[16] = { 0x77 };

static uint64_t fake_wall = 133000000000000000ull; /* 2022, in 100 ns since 1601 */
static uint64_t fake_reference = 5000000;

static uint64_t host_time(void *context)
{
    (void)context;
    return fake_wall;
}

static uint64_t reference_time(void *context)
{
    (void)context;
    return fake_reference;
}

static void setup_with(bool reference)
{
    child_start();
    ic_heartbeat_init(&heartbeat, "vm1", instance);
    ic_shutdown_init(&shutdown, "vm1", instance);
    struct ic_timesync_clock clock = { NULL, host_time, reference ? reference_time : NULL };
    ic_timesync_init(&timesync, "vm1", instance, &clock);
    ck_assert_ptr_nonnull(vmbus_connection_add_device(child_connection, &heartbeat.service.device));
    ck_assert_ptr_nonnull(vmbus_connection_add_device(child_connection, &shutdown.service.device));
    ck_assert_ptr_nonnull(vmbus_connection_add_device(child_connection, &timesync.service.device));
}

static void setup(void)
{
    setup_with(true);
}

static void setup_no_reference(void)
{
    setup_with(false);
}

static void teardown(void)
{
    child_stop();
}

/* ---- Linux hv_utils ---------------------------------------------------------------------- */

struct linux_versions {
    uint32_t framework_count, service_count;
    struct ic_version framework[2], service[4];
};

static const struct linux_versions linux_heartbeat = { 2, 2, { { 3, 0 }, { 1, 0 } },
                                                       { { 3, 0 }, { 1, 0 } } };
static const struct linux_versions linux_shutdown = { 2, 4, { { 3, 0 }, { 1, 0 } },
                                                      { { 3, 2 }, { 3, 1 }, { 3, 0 }, { 1, 0 } } };
static const struct linux_versions linux_timesync = { 2, 3, { { 3, 0 }, { 1, 0 } },
                                                      { { 4, 0 }, { 3, 0 }, { 1, 0 } } };

static uint8_t message[IC_MESSAGE_MAX];
static uint32_t message_length;
static uint64_t message_id;

/* The next host message in the child's ring; false if none. */
static bool take(const struct child_channel *c)
{
    struct vmbus_packet_descriptor d;
    static uint8_t payload[8192];
    uint32_t n = child_read(&c->in, &d, payload);
    if (!n)
        return false;
    ck_assert_uint_eq(d.type, VMBUS_PACKET_INBAND);
    ck_assert_uint_le(n, sizeof(message));
    memcpy(message, payload, n);
    message_length = n;
    message_id = d.transaction_id;
    return true;
}

static struct ic_message_header *header(void)
{
    return (struct ic_message_header *)(message + sizeof(struct ic_pipe_header));
}

static uint8_t *body(void)
{
    return message + IC_HEADERS_SIZE;
}

static void answer(const struct child_channel *c)
{
    header()->flags = IC_FLAG_TRANSACTION | IC_FLAG_RESPONSE;
    ck_assert(child_write(&c->out, VMBUS_PACKET_INBAND, 0, message_id, message, message_length));
    child_kick(c);
}

/* vmbus_prep_negotiate_resp: the first of the child's versions the host offered. */
static void linux_negotiate(const struct linux_versions *v)
{
    struct ic_negotiate_body {
        uint16_t framework_count, service_count;
        uint32_t reserved;
        struct ic_version versions[8];
    } *n = (void *)body();
    ck_assert_uint_eq(header()->type, IC_MESSAGE_NEGOTIATE);
    ck_assert_uint_eq(header()->flags, IC_FLAG_TRANSACTION | IC_FLAG_REQUEST);
    uint32_t fw = n->framework_count, sv = n->service_count;
    ck_assert_uint_le(IC_HEADERS_SIZE + 8 + (fw + sv) * 4, message_length);
    struct ic_version chosen[2];
    bool found = false;
    for (uint32_t i = 0; i < v->framework_count && !found; i++)
        for (uint32_t j = 0; j < fw && !found; j++)
            if (n->versions[j].major == v->framework[i].major &&
                n->versions[j].minor == v->framework[i].minor) {
                chosen[0] = n->versions[j];
                found = true;
            }
    bool service = false;
    for (uint32_t i = 0; found && i < v->service_count && !service; i++)
        for (uint32_t j = fw; j < fw + sv && !service; j++)
            if (n->versions[j].major == v->service[i].major &&
                n->versions[j].minor == v->service[i].minor) {
                chosen[1] = n->versions[j];
                service = true;
            }
    header()->size = 0x10;
    n->framework_count = n->service_count = service ? 1 : 0;
    if (service)
        memcpy(n->versions, chosen, sizeof(chosen));
}

static void open_and_negotiate(void)
{
    hb_ch = child_open(1, 0x100, 100, 4, 4);
    ck_assert(take(&hb_ch));
    linux_negotiate(&linux_heartbeat);
    answer(&hb_ch);
    sd_ch = child_open(2, 0x200, 200, 4, 4);
    ck_assert(take(&sd_ch));
    linux_negotiate(&linux_shutdown);
    answer(&sd_ch);
    ts_ch = child_open(3, 0x300, 300, 4, 4);
    ck_assert(take(&ts_ch));
    linux_negotiate(&linux_timesync);
    answer(&ts_ch);
}

/* ---- tests ------------------------------------------------------------------------------ */

START_TEST(negotiation_as_linux_does_it)
{
    hb_ch = child_open(1, 0x100, 100, 4, 4);
    ck_assert(take(&hb_ch));
    /* The offer: two framework versions, then the service's, best first. */
    ck_assert_uint_eq(message_length, (IC_HEADERS_SIZE + 8 + 4 * 4 + 7) & ~7u);
    ck_assert_uint_eq(header()->size, 8 + 4 * 4);
    const uint16_t *v = (const uint16_t *)body();
    ck_assert_uint_eq(v[0], 2);
    ck_assert_uint_eq(v[1], 2);
    ck_assert_uint_eq(v[4], 3); /* 3.0 */
    ck_assert_uint_eq(v[6], 1); /* 1.0 */
    ck_assert_uint_eq(v[8], 3);
    ck_assert(!heartbeat.service.ready);
    linux_negotiate(&linux_heartbeat);
    answer(&hb_ch);
    ck_assert(heartbeat.service.ready);
    ck_assert_uint_eq(heartbeat.service.framework.major, 3);
    ck_assert_uint_eq(heartbeat.service.version.major, 3);

    /* An older guest that knows framework 1.0 and shutdown 1.0 only. */
    sd_ch = child_open(2, 0x200, 200, 4, 4);
    ck_assert(take(&sd_ch));
    const uint16_t *s = (const uint16_t *)body();
    ck_assert_uint_eq(s[1], 4);
    struct linux_versions old = { 1, 1, { { 1, 0 } }, { { 1, 0 } } };
    linux_negotiate(&old);
    answer(&sd_ch);
    ck_assert(shutdown.service.ready);
    ck_assert_uint_eq(shutdown.service.framework.major, 1);
    ck_assert_uint_eq(shutdown.service.version.major, 1);
    ck_assert_uint_eq(shutdown.service.version.minor, 0);
}
END_TEST

START_TEST(negotiation_refusals)
{
    /* No common version: zero counts, the service stays silent. */
    hb_ch = child_open(1, 0x100, 100, 4, 4);
    ck_assert(take(&hb_ch));
    struct linux_versions none = { 1, 1, { { 9, 0 } }, { { 9, 0 } } };
    linux_negotiate(&none);
    answer(&hb_ch);
    ck_assert(!heartbeat.service.ready);
    ck_assert(strstr(child_host.last_log, "none of the versions"));
    ic_heartbeat_tick(&heartbeat, 5000);
    ck_assert(!take(&hb_ch));

    /* A version that was never offered. */
    sd_ch = child_open(2, 0x200, 200, 4, 4);
    ck_assert(take(&sd_ch));
    linux_negotiate(&linux_shutdown);
    struct ic_version *chosen = (struct ic_version *)(body() + 8);
    chosen[1].major = 7;
    answer(&sd_ch);
    ck_assert(!shutdown.service.ready);
    ck_assert_uint_eq(shutdown.service.refused, 1);
    ck_assert(strstr(child_host.last_log, "not offered"));
}
END_TEST

START_TEST(hostile_answers_are_dropped)
{
    ts_ch = child_open(3, 0x300, 300, 4, 4);
    ck_assert(take(&ts_ch));
    linux_negotiate(&linux_timesync);
    uint8_t good[IC_MESSAGE_MAX];
    uint32_t good_length = message_length;
    header()->flags = IC_FLAG_TRANSACTION | IC_FLAG_RESPONSE;
    memcpy(good, message, good_length);
    uint64_t refused = 0;
    /* Truncated at every length short of the headers and the 16-byte answer (the ring
     * pads to 8 bytes, so lengths that pad up to the whole answer are the answer). */
    for (uint32_t n = 0; ((n + 7) & ~7u) < IC_HEADERS_SIZE + 16; n++) {
        ck_assert(child_write(&ts_ch.out, VMBUS_PACKET_INBAND, 0, message_id, good, n));
        child_kick(&ts_ch);
        ck_assert(!timesync.service.ready);
    }
    ck_assert_uint_gt(timesync.service.refused, refused);
    refused = timesync.service.refused;
    /* Another transaction id. */
    ck_assert(child_write(&ts_ch.out, VMBUS_PACKET_INBAND, 0, message_id + 1, good, good_length));
    child_kick(&ts_ch);
    /* A request, not a response. */
    memcpy(message, good, good_length);
    header()->flags = IC_FLAG_TRANSACTION | IC_FLAG_REQUEST;
    ck_assert(child_write(&ts_ch.out, VMBUS_PACKET_INBAND, 0, message_id, message, good_length));
    child_kick(&ts_ch);
    /* Another type. */
    memcpy(message, good, good_length);
    header()->type = IC_MESSAGE_HEARTBEAT;
    ck_assert(child_write(&ts_ch.out, VMBUS_PACKET_INBAND, 0, message_id, message, good_length));
    child_kick(&ts_ch);
    /* A body size beyond the packet. */
    memcpy(message, good, good_length);
    header()->size = 4000;
    ck_assert(child_write(&ts_ch.out, VMBUS_PACKET_INBAND, 0, message_id, message, good_length));
    child_kick(&ts_ch);
    /* Not INBAND. */
    ck_assert(child_write(&ts_ch.out, VMBUS_PACKET_COMPLETION, 0, message_id, good, good_length));
    child_kick(&ts_ch);
    ck_assert_uint_eq(timesync.service.refused, refused + 5);
    ck_assert(!timesync.service.ready);
    /* The good answer still counts. */
    ck_assert(child_write(&ts_ch.out, VMBUS_PACKET_INBAND, 0, message_id, good, good_length));
    child_kick(&ts_ch);
    ck_assert(timesync.service.ready);
}
END_TEST

START_TEST(heartbeat_ok_and_missed)
{
    open_and_negotiate();
    ic_heartbeat_tick(&heartbeat, 100);
    ck_assert(take(&hb_ch));
    ck_assert_uint_eq(header()->type, IC_MESSAGE_HEARTBEAT);
    ck_assert_uint_eq(header()->message_major, 3);
    ck_assert_uint_eq(header()->size, 40);
    uint64_t seq;
    memcpy(&seq, body(), 8);
    ck_assert_uint_eq(seq, 1);
    seq++; /* heartbeat_msg->seq_num += 1 */
    memcpy(body(), &seq, 8);
    answer(&hb_ch);
    ck_assert_uint_eq(heartbeat.ok, 1);
    ck_assert_str_eq(child_host.last_log, "child vm1 heartbeat ok seq 1");

    ic_heartbeat_tick(&heartbeat, 600); /* within the period: nothing */
    ck_assert(!take(&hb_ch));
    ic_heartbeat_tick(&heartbeat, 1100);
    ck_assert(take(&hb_ch));
    memcpy(&seq, body(), 8);
    ck_assert_uint_eq(seq, 2);
    /* No answer: missed at the next period, and the next request goes out. */
    ic_heartbeat_tick(&heartbeat, 2100);
    ck_assert_uint_eq(heartbeat.missed, 1);
    ck_assert(strstr(child_host.last_log, "child vm1 heartbeat missed seq 2"));
    ck_assert(take(&hb_ch));
    memcpy(&seq, body(), 8);
    ck_assert_uint_eq(seq, 3);
    /* A wrong sequence number is a miss too. */
    uint64_t wrong = 99;
    memcpy(body(), &wrong, 8);
    answer(&hb_ch);
    ck_assert_uint_eq(heartbeat.missed, 2);
    /* A late answer to an abandoned request is dropped. */
    ic_heartbeat_tick(&heartbeat, 3200);
    ck_assert(take(&hb_ch));
    uint64_t late_id = message_id;
    ic_heartbeat_tick(&heartbeat, 4300);
    ck_assert_uint_eq(heartbeat.missed, 3);
    ck_assert(take(&hb_ch));
    memcpy(&seq, body(), 8);
    seq++;
    memcpy(body(), &seq, 8);
    uint64_t current_id = message_id;
    message_id = late_id;
    uint64_t refused = heartbeat.service.refused;
    answer(&hb_ch);
    ck_assert_uint_eq(heartbeat.service.refused, refused + 1);
    message_id = current_id;
    answer(&hb_ch);
    ck_assert_uint_eq(heartbeat.ok, 2);
    ck_assert(strstr(child_host.last_log, "heartbeat ok seq 5")); /* info again after misses */
}
END_TEST

START_TEST(shutdown_request)
{
    /* Asked before the child's hv_utils is there: sent once negotiation completes. */
    ck_assert(ic_shutdown_request(&shutdown, false));
    ck_assert_int_eq(shutdown.result, IC_SHUTDOWN_WAITING);
    ck_assert(!ic_shutdown_request(&shutdown, true)); /* one at a time */
    open_and_negotiate();
    ck_assert_int_eq(shutdown.result, IC_SHUTDOWN_SENT);
    ck_assert(take(&sd_ch));
    ck_assert_uint_eq(header()->type, IC_MESSAGE_SHUTDOWN);
    ck_assert_uint_eq(header()->message_major, 3);
    ck_assert_uint_eq(header()->message_minor, 2);
    /* Linux needs the whole shutdown_msg_data. */
    ck_assert_uint_ge(message_length, IC_HEADERS_SIZE + 2060);
    ck_assert_uint_eq(header()->size, 2060);
    uint32_t flags;
    memcpy(&flags, body() + 8, 4);
    ck_assert_uint_eq(flags, 0);
    header()->status = IC_STATUS_OK;
    answer(&sd_ch);
    ck_assert_int_eq(shutdown.result, IC_SHUTDOWN_ACCEPTED);
    ck_assert_str_eq(child_host.last_log, "child vm1 accepted the shutdown request (status 0x0)");

    /* Restart, refused (Linux: flags it does not know, or hibernation unsupported). */
    ck_assert(ic_shutdown_request(&shutdown, true));
    ck_assert(take(&sd_ch));
    memcpy(&flags, body() + 8, 4);
    ck_assert_uint_eq(flags, 2);
    header()->status = IC_STATUS_FAIL;
    answer(&sd_ch);
    ck_assert_int_eq(shutdown.result, IC_SHUTDOWN_REFUSED);

    /* The child closes the channel before answering: the request goes out again when it
     * reopens. */
    ck_assert(ic_shutdown_request(&shutdown, false));
    ck_assert(take(&sd_ch));
    child_close(&sd_ch);
    ck_assert_int_eq(shutdown.result, IC_SHUTDOWN_WAITING);
    sd_ch = child_open(2, 0x201, 400, 4, 4);
    ck_assert(take(&sd_ch));
    linux_negotiate(&linux_shutdown);
    answer(&sd_ch);
    ck_assert_int_eq(shutdown.result, IC_SHUTDOWN_SENT);
    ck_assert(take(&sd_ch));
    ck_assert_uint_eq(header()->type, IC_MESSAGE_SHUTDOWN);
}
END_TEST

START_TEST(timesync_version_4)
{
    open_and_negotiate();
    ck_assert_uint_eq(timesync.service.version.major, 4);
    ic_timesync_tick(&timesync, 10);
    ck_assert(take(&ts_ch));
    ck_assert_uint_eq(header()->type, IC_MESSAGE_TIMESYNC);
    ck_assert_uint_eq(header()->size, 22); /* ictimesync_ref_data */
    uint64_t t, r;
    memcpy(&t, body(), 8);
    memcpy(&r, body() + 8, 8);
    ck_assert_uint_eq(t, fake_wall);
    ck_assert_uint_eq(r, fake_reference);
    ck_assert_uint_eq(body()[16], IC_TIMESYNC_FLAG_SYNC);
    answer(&ts_ch);
    ck_assert(timesync.synced);
    ck_assert(strstr(child_host.last_log, "clock set by time sync"));
    ic_timesync_tick(&timesync, 1000);
    ck_assert(!take(&ts_ch));
    fake_wall += 50000000;
    ic_timesync_tick(&timesync, 5010);
    ck_assert(take(&ts_ch));
    ck_assert_uint_eq(body()[16], IC_TIMESYNC_FLAG_SAMPLE);
    memcpy(&t, body(), 8);
    ck_assert_uint_eq(t, fake_wall);
    answer(&ts_ch);
    ck_assert_uint_eq(timesync.samples, 2);
    /* An unanswered sample is replaced after the period. */
    ic_timesync_tick(&timesync, 10010);
    ck_assert(take(&ts_ch));
    ic_timesync_tick(&timesync, 15010);
    ck_assert(take(&ts_ch));
    ck_assert_uint_eq(timesync.samples, 2);
}
END_TEST

START_TEST(timesync_without_reference)
{
    ts_ch = child_open(3, 0x300, 300, 4, 4);
    ck_assert(take(&ts_ch));
    const uint16_t *v = (const uint16_t *)body();
    ck_assert_uint_eq(v[1], 2); /* 3.0 and 1.0 only */
    linux_negotiate(&linux_timesync);
    answer(&ts_ch);
    ck_assert_uint_eq(timesync.service.version.major, 3);
    ic_timesync_tick(&timesync, 1);
    ck_assert(take(&ts_ch));
    ck_assert_uint_eq(header()->size, 25); /* ictimesync_data */
    uint64_t t;
    memcpy(&t, body(), 8);
    ck_assert_uint_eq(t, fake_wall);
    ck_assert_uint_eq(body()[24], IC_TIMESYNC_FLAG_SYNC);
}
END_TEST

Suite *ic_suite(void)
{
    Suite *s = suite_create("ic");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, negotiation_as_linux_does_it);
    tcase_add_test(tc, negotiation_refusals);
    tcase_add_test(tc, hostile_answers_are_dropped);
    tcase_add_test(tc, heartbeat_ok_and_missed);
    tcase_add_test(tc, shutdown_request);
    tcase_add_test(tc, timesync_version_4);
    suite_add_tcase(s, tc);
    TCase *plain = tcase_create("no_reference");
    tcase_add_checked_fixture(plain, setup_no_reference, teardown);
    tcase_add_test(plain, timesync_without_reference);
    suite_add_tcase(s, plain);
    return s;
}
