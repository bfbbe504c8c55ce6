// sources: vsp/vswitch.c
/*
 * vsp/vswitch.c: learning and forwarding between a fake external NIC, the root's port and
 * two children; flooding; spoofed sources; aging; full queues dropping and counting; a
 * transmit that refuses (ring full) keeping frames queued; a transmit that feeds the switch
 * again (lwIP answering).
 */
#include <check.h>
#include <string.h>

#include "vsp/vswitch.h"

struct fake_port {
    int id;
    uint32_t received;
    uint8_t last[VSWITCH_FRAME_MAX];
    uint32_t last_length;
    bool busy;       /* refuse frames */
    bool echo;       /* answer every frame to its sender */
    uint32_t notified;
    bool use_notify;
};

static struct vswitch sw;
static struct fake_port ext, root, child_a, child_b;
static uint32_t logs;

static const uint8_t mac_root[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };
static const uint8_t mac_a[6] = { 0x02, 0, 0, 0, 0, 0xA };
static const uint8_t mac_b[6] = { 0x02, 0, 0, 0, 0, 0xB };
static const uint8_t mac_gw[6] = { 0x52, 0x55, 0x0A, 0x00, 0x02, 0x02 };
static const uint8_t broadcast[6] = { 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF };
static const uint8_t ipv6_all_nodes[6] = { 0x33, 0x33, 0, 0, 0, 1 };

static void send_frame(struct fake_port *from, const uint8_t *dst, const uint8_t *src,
                       uint32_t length);

static bool fake_transmit(void *context, const uint8_t *frame, uint32_t length)
{
    struct fake_port *p = context;
    if (p->busy)
        return false;
    p->received++;
    memcpy(p->last, frame, length);
    p->last_length = length;
    if (p->echo) /* like lwIP answering an ARP request from inside its input */
        send_frame(p, frame + 6, frame, 60);
    return true;
}

static void fake_notify(void *context)
{
    struct fake_port *p = context;
    p->notified++;
}

static const struct vswitch_port_ops ops = { fake_transmit, NULL };
static const struct vswitch_port_ops notify_ops = { fake_transmit, fake_notify };

static void fake_log(void *context, const char *level, const char *line)
{
    (void)context;
    (void)level;
    (void)line;
    logs++;
}

static void send_frame(struct fake_port *from, const uint8_t *dst, const uint8_t *src,
                       uint32_t length)
{
    uint8_t frame[VSWITCH_FRAME_MAX + 8] = { 0 };
    memcpy(frame, dst, 6);
    memcpy(frame + 6, src, 6);
    frame[12] = 0x08;
    frame[length - 1] = 0x5A;
    vswitch_input(&sw, from->id, frame, length);
}

static void setup(void)
{
    vswitch_init(&sw, fake_log, NULL);
    memset(&ext, 0, sizeof(ext));
    memset(&root, 0, sizeof(root));
    memset(&child_a, 0, sizeof(child_a));
    memset(&child_b, 0, sizeof(child_b));
    ext.id = vswitch_port_add(&sw, VSWITCH_PORT_EXTERNAL, "nic", NULL, &ops, &ext);
    root.id = vswitch_port_add(&sw, VSWITCH_PORT_INTERNAL, "root", mac_root, &ops, &root);
    child_a.id = vswitch_port_add(&sw, VSWITCH_PORT_INTERNAL, "a", mac_a, &ops, &child_a);
    child_b.id = vswitch_port_add(&sw, VSWITCH_PORT_INTERNAL, "b", mac_b, &ops, &child_b);
    ck_assert_int_ge(ext.id, 0);
    ck_assert_int_ge(child_b.id, 0);
}

static void teardown(void)
{
    vswitch_destroy(&sw);
}

START_TEST(forwarding)
{
    /* A child's DHCP discover floods everywhere but back. */
    send_frame(&child_a, broadcast, mac_a, 342);
    ck_assert_uint_eq(ext.received, 1);
    ck_assert_uint_eq(root.received, 1);
    ck_assert_uint_eq(child_b.received, 1);
    ck_assert_uint_eq(child_a.received, 0);
    ck_assert_uint_eq(ext.last_length, 342);
    /* The answer from outside: the gateway's MAC is learned, the frame reaches only a. */
    send_frame(&ext, mac_a, mac_gw, 342);
    ck_assert_uint_eq(child_a.received, 1);
    ck_assert_uint_eq(root.received, 1);
    ck_assert_uint_eq(child_b.received, 1);
    ck_assert_int_eq(vswitch_lookup(&sw, mac_gw), ext.id);
    ck_assert_int_eq(vswitch_lookup(&sw, mac_a), child_a.id);
    ck_assert_uint_eq(sw.stats.learned, 1);
    /* a -> gateway: only the NIC. a -> b: only b. a -> root: only the root. */
    send_frame(&child_a, mac_gw, mac_a, 60);
    ck_assert_uint_eq(ext.received, 2);
    send_frame(&child_a, mac_b, mac_a, 60);
    ck_assert_uint_eq(child_b.received, 2);
    ck_assert_uint_eq(ext.received, 2);
    send_frame(&child_a, mac_root, mac_a, 1514);
    ck_assert_uint_eq(root.received, 2);
    ck_assert_uint_eq(root.last_length, 1514);
    /* IPv6 multicast floods. */
    send_frame(&root, ipv6_all_nodes, mac_root, 86);
    ck_assert_uint_eq(ext.received, 3);
    ck_assert_uint_eq(child_a.received, 2);
    ck_assert_uint_eq(child_b.received, 3);
    /* Unknown unicast from a child goes out of the NIC only; from outside it is dropped. */
    static const uint8_t stranger[6] = { 0x02, 9, 9, 9, 9, 9 };
    send_frame(&child_b, stranger, mac_b, 60);
    ck_assert_uint_eq(ext.received, 4);
    ck_assert_uint_eq(root.received, 2);
    ck_assert_uint_eq(child_a.received, 2);
    send_frame(&ext, stranger, mac_gw, 60);
    ck_assert_uint_eq(sw.ports[ext.id].stats.dropped_unknown, 1);
    ck_assert_uint_eq(child_a.received + child_b.received + root.received, 7);
    ck_assert_uint_eq(sw.ports[child_a.id].stats.in_frames, 4);
    ck_assert_uint_eq(sw.ports[ext.id].stats.out_frames, 4);
}
END_TEST

START_TEST(hostile_frames)
{
    /* A child using another MAC, or the root's, or a multicast source. */
    send_frame(&child_a, broadcast, mac_b, 60);
    send_frame(&child_a, broadcast, mac_root, 60);
    ck_assert_uint_eq(sw.ports[child_a.id].stats.dropped_spoofed, 2);
    send_frame(&child_a, broadcast, broadcast, 60);
    ck_assert_uint_eq(sw.ports[child_a.id].stats.dropped_malformed, 1);
    /* The outside claiming a child's MAC is neither learned nor delivered. */
    send_frame(&ext, broadcast, mac_a, 60);
    ck_assert_uint_eq(sw.ports[ext.id].stats.dropped_spoofed, 1);
    ck_assert_int_eq(vswitch_lookup(&sw, mac_a), child_a.id);
    /* Lengths. */
    uint8_t frame[VSWITCH_FRAME_MAX + 1] = { 0 };
    memcpy(frame, broadcast, 6);
    memcpy(frame + 6, mac_a, 6);
    for (uint32_t n = 0; n < VSWITCH_FRAME_MIN; n++)
        vswitch_input(&sw, child_a.id, frame, n);
    vswitch_input(&sw, child_a.id, frame, VSWITCH_FRAME_MAX + 1);
    ck_assert_uint_eq(sw.ports[child_a.id].stats.dropped_malformed, 1 + VSWITCH_FRAME_MIN + 1);
    ck_assert_uint_eq(ext.received + root.received + child_b.received, 0);
    vswitch_input(&sw, child_a.id, frame, VSWITCH_FRAME_MAX);
    ck_assert_uint_eq(ext.received, 1);
    /* Bad port numbers are ignored. */
    vswitch_input(&sw, -1, frame, 60);
    vswitch_input(&sw, 31, frame, 60);
    vswitch_input(&sw, 1000, frame, 60);
    ck_assert(vswitch_port_flush(&sw, 77));
    /* Ports that cannot be added. */
    ck_assert_int_eq(vswitch_port_add(&sw, VSWITCH_PORT_INTERNAL, "dup", mac_a, &ops, NULL), -1);
    ck_assert_int_eq(vswitch_port_add(&sw, VSWITCH_PORT_INTERNAL, "mc", broadcast, &ops, NULL),
                     -1);
    ck_assert_int_eq(vswitch_port_add(&sw, VSWITCH_PORT_INTERNAL, "none", NULL, &ops, NULL), -1);
    uint8_t mac[6] = { 0x02, 1, 2, 3, 4, 0 };
    int added = 0;
    for (int i = 0; i < 40; i++) {
        mac[5] = (uint8_t)i;
        if (vswitch_port_add(&sw, VSWITCH_PORT_INTERNAL, "many", mac, &ops, NULL) >= 0)
            added++;
    }
    ck_assert_int_eq(added, (int)VSWITCH_PORT_MAX - 4);
    ck_assert_uint_gt(logs, 4);
}
END_TEST

START_TEST(full_queues_drop_and_count)
{
    child_b.busy = true; /* its ring is full: frames wait in the queue */
    for (uint32_t i = 0; i < VSWITCH_QUEUE_FRAMES + 10; i++)
        send_frame(&child_a, mac_b, mac_a, 100);
    ck_assert_uint_eq(sw.ports[child_b.id].count, VSWITCH_QUEUE_FRAMES);
    ck_assert_uint_eq(sw.ports[child_b.id].stats.dropped_queue_full, 10);
    ck_assert_uint_eq(child_b.received, 0);
    /* A flood of broadcasts while b is stuck: the others still get every one. */
    for (uint32_t i = 0; i < 1000; i++)
        send_frame(&child_a, broadcast, mac_a, 64);
    ck_assert_uint_eq(ext.received, 1000);
    ck_assert_uint_eq(root.received, 1000);
    ck_assert_uint_eq(sw.ports[child_b.id].stats.dropped_queue_full, 1010);
    /* The ring drains: the queued frames go, in order, and the queue is empty. */
    child_b.busy = false;
    ck_assert(vswitch_port_flush(&sw, child_b.id));
    ck_assert_uint_eq(child_b.received, VSWITCH_QUEUE_FRAMES);
    ck_assert_uint_eq(child_b.last_length, 100);
    ck_assert_uint_eq(sw.ports[child_b.id].stats.out_frames, VSWITCH_QUEUE_FRAMES);
}
END_TEST

START_TEST(reentrant_transmit_and_notify)
{
    /* The root answers from inside its transmit, as lwIP does. */
    root.echo = true;
    send_frame(&child_a, mac_root, mac_a, 60);
    ck_assert_uint_eq(root.received, 1);
    ck_assert_uint_eq(child_a.received, 1);
    ck_assert_mem_eq(child_a.last, mac_a, 6);
    root.echo = false;
    /* A port with notify is told once per empty -> non-empty and flushes itself. */
    static const uint8_t mac_c[6] = { 0x02, 0, 0, 0, 0, 0xC };
    struct fake_port c = { 0 };
    c.id = vswitch_port_add(&sw, VSWITCH_PORT_INTERNAL, "c", mac_c, &notify_ops, &c);
    send_frame(&child_a, mac_c, mac_a, 60);
    send_frame(&child_a, mac_c, mac_a, 60);
    ck_assert_uint_eq(c.notified, 1);
    ck_assert_uint_eq(c.received, 0);
    ck_assert(vswitch_port_flush(&sw, c.id));
    ck_assert_uint_eq(c.received, 2);
    send_frame(&child_a, mac_c, mac_a, 60);
    ck_assert_uint_eq(c.notified, 2);
    vswitch_port_remove(&sw, c.id);
    send_frame(&child_a, mac_c, mac_a, 60); /* unknown now: out of the NIC */
    ck_assert_uint_eq(ext.received, 1);
}
END_TEST

START_TEST(aging_and_table_limits)
{
    vswitch_tick(&sw, 1000);
    send_frame(&ext, mac_a, mac_gw, 60);
    ck_assert_int_eq(vswitch_lookup(&sw, mac_gw), ext.id);
    vswitch_tick(&sw, 1000 + VSWITCH_AGE_MS - 1);
    ck_assert_int_eq(vswitch_lookup(&sw, mac_gw), ext.id);
    vswitch_tick(&sw, 1000 + VSWITCH_AGE_MS);
    ck_assert_int_eq(vswitch_lookup(&sw, mac_gw), -1);
    ck_assert_uint_eq(sw.stats.aged, 1);
    /* More stations than the table holds: the oldest go, the newest are found. */
    uint8_t mac[6] = { 0x52, 0, 0, 0, 0, 0 };
    for (uint32_t i = 0; i < VSWITCH_TABLE_SIZE + 50; i++) {
        vswitch_tick(&sw, 400000 + i);
        mac[4] = (uint8_t)(i >> 8);
        mac[5] = (uint8_t)i;
        send_frame(&ext, broadcast, mac, 60);
    }
    ck_assert_uint_eq(sw.stats.evicted, 50);
    ck_assert_int_eq(vswitch_lookup(&sw, mac), ext.id);
    mac[4] = 0;
    mac[5] = 0;
    ck_assert_int_eq(vswitch_lookup(&sw, mac), -1);
    /* Removing the external port forgets what it learned. */
    vswitch_port_remove(&sw, ext.id);
    mac[4] = (uint8_t)((VSWITCH_TABLE_SIZE + 49) >> 8);
    mac[5] = (uint8_t)(VSWITCH_TABLE_SIZE + 49);
    ck_assert_int_eq(vswitch_lookup(&sw, mac), -1);
}
END_TEST

START_TEST(mac_from_name)
{
    uint8_t a[6], b[6], c[6];
    vswitch_mac_from_name("linux", a);
    vswitch_mac_from_name("linux", b);
    vswitch_mac_from_name("linux2", c);
    ck_assert_mem_eq(a, b, 6);
    ck_assert_mem_ne(a, c, 6);
    ck_assert_uint_eq(a[0] & 3u, 2u); /* locally administered, unicast */
    ck_assert_uint_eq(c[0] & 3u, 2u);
}
END_TEST

Suite *vswitch_suite(void)
{
    Suite *s = suite_create("vswitch");
    TCase *tc = tcase_create("vswitch");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, forwarding);
    tcase_add_test(tc, hostile_frames);
    tcase_add_test(tc, full_queues_drop_and_count);
    tcase_add_test(tc, reentrant_transmit_and_notify);
    tcase_add_test(tc, aging_and_table_limits);
    tcase_add_test(tc, mac_from_name);
    suite_add_tcase(s, tc);
    return s;
}
