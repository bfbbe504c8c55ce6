// sources: drivers/virtio.c drivers/pci.c
/* The split virtqueue (drivers/virtio.c) against a device model written here, and against
 * a hostile device that writes impossible used entries. */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "drivers/virtio.h"
#include "tests/unit/virtqueue_fixture.h"

/* The device side: reads the avail ring, writes the used ring (virtio 1.2, 2.7). */
struct device {
    uint16_t avail_seen;
    uint16_t used_idx;
};

static uint16_t avail_idx(void)
{
    return q.avail[1];
}

static uint16_t device_take_avail(struct device *dev, uint64_t *addr, uint32_t *len,
                                  uint16_t *flags)
{
    uint16_t head = q.avail[2 + (dev->avail_seen++ % q.size)];
    if (head >= q.size)
        ck_abort_msg("avail ring names descriptor %u of %u", head, q.size);
    *addr = q.desc[head].addr;
    *len = q.desc[head].len;
    *flags = q.desc[head].flags;
    return head;
}

static void device_put_used(struct device *dev, uint32_t id, uint32_t len)
{
    volatile struct virtq_used_elem *ring =
        (volatile struct virtq_used_elem *)((volatile uint8_t *)q.used + 4);
    ring[dev->used_idx % q.size].id = id;
    ring[dev->used_idx % q.size].len = len;
    dev->used_idx++;
    q.used[1] = dev->used_idx;
}

START_TEST(layout_follows_the_spec)
{
    /* desc 16 bytes each, avail right after, used on its own 4 KiB boundary */
    ck_assert_uint_eq(virtqueue_avail_address(&q) - virtqueue_desc_address(&q), 16 * SIZE);
    ck_assert_uint_eq(virtqueue_used_address(&q) % 4096, 0);
    ck_assert_uint_ge(virtqueue_memory_size(SIZE),
                      virtqueue_used_address(&q) - virtqueue_desc_address(&q) + 6 + 8 * SIZE);
    struct virtqueue other;
    ck_assert(!virtqueue_init(&other, 0, ring_memory));
    ck_assert(!virtqueue_init(&other, 6, ring_memory));
    ck_assert(!virtqueue_init(&other, VIRTIO_QUEUE_SIZE_MAX * 2, ring_memory));
}
END_TEST

START_TEST(buffers_go_round_many_times)
{
    struct device dev = {0};
    /* more than 65536 buffers: the 16-bit indices wrap. Check's assertions cost a pipe
     * write each (fork mode), so the loop counts mismatches and asserts once. */
    uint32_t bad = 0, first_bad = UINT32_MAX;
    for (uint32_t n = 0; n < 70000; n++) {
        uint16_t id, got, flags;
        uint32_t len, written;
        uint64_t addr;
        bool ok = virtqueue_add(&q, 0x1000 + n, 100 + n % 50, n & 1, &id);
        virtqueue_publish(&q);
        ok = ok && avail_idx() == (uint16_t)(n + 1);
        uint16_t head = device_take_avail(&dev, &addr, &len, &flags);
        ok = ok && head == id && addr == 0x1000 + n &&
             flags == ((n & 1) ? VIRTQ_DESC_F_WRITE : 0);
        device_put_used(&dev, head, len / 2);
        ok = ok && virtqueue_take_used(&q, &got, &written) && got == id && written == len / 2 &&
             !virtqueue_take_used(&q, &got, &written);
        if (!ok && bad++ == 0)
            first_bad = n;
    }
    ck_assert_msg(bad == 0, "%u mismatches, the first at buffer %u", bad, first_bad);
    ck_assert(!q.broken);
}
END_TEST

START_TEST(full_queue_refuses_and_completes_out_of_order)
{
    struct device dev = {0};
    uint16_t ids[SIZE], extra;
    ck_assert(!virtqueue_add(&q, 0x9000, 0, true, &extra)); /* an empty buffer: refused */
    for (int i = 0; i < SIZE; i++)
        ck_assert(virtqueue_add(&q, 0x2000 + i, 64, true, &ids[i]));
    ck_assert(!virtqueue_add(&q, 0x9000, 64, true, &extra));
    virtqueue_publish(&q);
    /* the device completes them backwards */
    for (int i = SIZE - 1; i >= 0; i--)
        device_put_used(&dev, ids[i], 10);
    for (int i = SIZE - 1; i >= 0; i--) {
        uint16_t got;
        uint32_t len;
        ck_assert(virtqueue_take_used(&q, &got, &len));
        ck_assert_uint_eq(got, ids[i]);
    }
    ck_assert_uint_eq(q.free_count, SIZE);
    ck_assert(virtqueue_add(&q, 0x3000, 64, false, &extra));
}
END_TEST

START_TEST(hostile_used_id_breaks_the_queue)
{
    struct device dev = {0};
    uint16_t id;
    ck_assert(virtqueue_add(&q, 0x1000, 64, true, &id));
    virtqueue_publish(&q);
    device_put_used(&dev, SIZE + 3, 10); /* no such descriptor */
    uint16_t got;
    uint32_t len;
    ck_assert(!virtqueue_take_used(&q, &got, &len));
    ck_assert(q.broken);
    ck_assert_ptr_nonnull(strstr(q.broken_why, "not offered"));
    /* once broken, nothing more goes in or out */
    ck_assert(!virtqueue_add(&q, 0x1000, 64, true, &id));
}
END_TEST

START_TEST(hostile_used_twice_breaks_the_queue)
{
    struct device dev = {0};
    uint16_t a, b;
    ck_assert(virtqueue_add(&q, 0x1000, 64, true, &a));
    ck_assert(virtqueue_add(&q, 0x2000, 64, true, &b));
    virtqueue_publish(&q);
    device_put_used(&dev, a, 10);
    device_put_used(&dev, a, 10); /* the same buffer again */
    uint16_t got;
    uint32_t len;
    ck_assert(virtqueue_take_used(&q, &got, &len));
    ck_assert(!virtqueue_take_used(&q, &got, &len));
    ck_assert(q.broken);
}
END_TEST

START_TEST(hostile_length_breaks_the_queue)
{
    struct device dev = {0};
    uint16_t id;
    ck_assert(virtqueue_add(&q, 0x1000, 64, true, &id));
    virtqueue_publish(&q);
    device_put_used(&dev, id, 65); /* one byte past the buffer */
    uint16_t got;
    uint32_t len;
    ck_assert(!virtqueue_take_used(&q, &got, &len));
    ck_assert(q.broken);
    ck_assert_ptr_nonnull(strstr(q.broken_why, "beyond its buffer"));
}
END_TEST

START_TEST(hostile_used_index_breaks_the_queue)
{
    uint16_t id;
    ck_assert(virtqueue_add(&q, 0x1000, 64, true, &id));
    virtqueue_publish(&q);
    q.used[1] = 5; /* five used with one outstanding */
    uint16_t got;
    uint32_t len;
    ck_assert(!virtqueue_take_used(&q, &got, &len));
    ck_assert(q.broken);
    ck_assert_ptr_nonnull(strstr(q.broken_why, "ran ahead"));
}
END_TEST

START_TEST(notification_follows_the_device_flag)
{
    uint16_t id;
    ck_assert(virtqueue_add(&q, 0x1000, 64, true, &id));
    virtqueue_publish(&q);
    ck_assert(virtqueue_needs_notify(&q));
    q.used[0] = VIRTQ_USED_F_NO_NOTIFY;
    ck_assert(!virtqueue_needs_notify(&q));
    q.used[0] = 0xFFFE; /* other bits mean nothing here */
    ck_assert(virtqueue_needs_notify(&q));
}
END_TEST

Suite *virtqueue_suite(void)
{
    Suite *s = suite_create("virtqueue");
    TCase *tc = tcase_create("virtqueue");
    tcase_add_checked_fixture(tc, virtqueue_fixture_setup, virtqueue_fixture_teardown);
    tcase_add_test(tc, layout_follows_the_spec);
    tcase_add_test(tc, buffers_go_round_many_times);
    tcase_add_test(tc, full_queue_refuses_and_completes_out_of_order);
    tcase_add_test(tc, hostile_used_id_breaks_the_queue);
    tcase_add_test(tc, hostile_used_twice_breaks_the_queue);
    tcase_add_test(tc, hostile_length_breaks_the_queue);
    tcase_add_test(tc, hostile_used_index_breaks_the_queue);
    tcase_add_test(tc, notification_follows_the_device_flag);
    suite_add_tcase(s, tc);
    return s;
}
