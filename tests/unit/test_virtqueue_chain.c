// sources: drivers/virtio.c drivers/pci.c
/* Descriptor chains on the split virtqueue (virtqueue_add_chain, drivers/virtio.c), as
 * virtio-blk uses them (header, data, status): the links and flags a device follows, the
 * whole chain freed by one used entry naming its head, the used length checked against
 * the chain, and a device naming a descriptor inside a chain breaks the queue. */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "drivers/virtio.h"
#include "tests/unit/virtqueue_fixture.h"

static uint16_t used_idx;

static void device_put_used(uint32_t id, uint32_t len)
{
    volatile struct virtq_used_elem *ring =
        (volatile struct virtq_used_elem *)((volatile uint8_t *)q.used + 4);
    ring[used_idx % q.size].id = id;
    ring[used_idx % q.size].len = len;
    used_idx++;
    q.used[1] = used_idx;
}

static bool add_request(uint16_t *head)
{
    struct virtqueue_buffer parts[3] = {
        {0x1000, 16, false}, {0x2000, 4096, true}, {0x3000, 1, true}};
    return virtqueue_add_chain(&q, parts, 3, head);
}

START_TEST(a_chain_links_its_descriptors)
{
    used_idx = 0;
    uint16_t head;
    ck_assert(add_request(&head));
    virtqueue_publish(&q);
    ck_assert_uint_eq(q.free_count, SIZE - 3);
    ck_assert_uint_eq(q.avail[1], 1);
    ck_assert_uint_eq(q.avail[2], head);
    /* What a device walks (2.7.5): NEXT on all but the last, WRITE on the last two. */
    uint16_t d = head;
    const uint64_t address[3] = {0x1000, 0x2000, 0x3000};
    for (int i = 0; i < 3; i++) {
        ck_assert_uint_eq(q.desc[d].addr, address[i]);
        ck_assert_uint_eq(!!(q.desc[d].flags & VIRTQ_DESC_F_WRITE), i > 0);
        ck_assert_uint_eq(!!(q.desc[d].flags & VIRTQ_DESC_F_NEXT), i < 2);
        d = q.desc[d].next;
    }
    device_put_used(head, 4097);
    uint16_t id;
    uint32_t length;
    ck_assert(virtqueue_take_used(&q, &id, &length));
    ck_assert_uint_eq(id, head);
    ck_assert_uint_eq(length, 4097);
    ck_assert_uint_eq(q.free_count, SIZE);
}
END_TEST

START_TEST(chains_go_round_and_the_queue_fills)
{
    used_idx = 0;
    for (int round = 0; round < 50; round++) {
        uint16_t a, b, c;
        ck_assert(add_request(&a));
        ck_assert(add_request(&b));
        ck_assert(!add_request(&c)); /* 2 free descriptors left */
        struct virtqueue_buffer flush[2] = {{0x1000, 16, false}, {0x3000, 1, true}};
        ck_assert(virtqueue_add_chain(&q, flush, 2, &c));
        virtqueue_publish(&q);
        ck_assert_uint_eq(q.free_count, 0);
        /* Out of order completion. */
        device_put_used(b, 1);
        device_put_used(c, 1);
        device_put_used(a, 4097);
        uint16_t id;
        uint32_t length;
        ck_assert(virtqueue_take_used(&q, &id, &length) && id == b);
        ck_assert(virtqueue_take_used(&q, &id, &length) && id == c);
        ck_assert(virtqueue_take_used(&q, &id, &length) && id == a);
        ck_assert(!virtqueue_take_used(&q, &id, &length));
        ck_assert_uint_eq(q.free_count, SIZE);
        ck_assert(!q.broken);
    }
}
END_TEST

START_TEST(bad_chains_are_refused)
{
    uint16_t id;
    struct virtqueue_buffer readable_after_writable[2] = {{0x1000, 1, true}, {0x2000, 1, false}};
    ck_assert(!virtqueue_add_chain(&q, readable_after_writable, 2, &id));
    struct virtqueue_buffer empty[2] = {{0x1000, 16, false}, {0x2000, 0, true}};
    ck_assert(!virtqueue_add_chain(&q, empty, 2, &id));
    struct virtqueue_buffer huge[2] = {{0x1000, UINT32_MAX, false}, {0x2000, 1, true}};
    ck_assert(!virtqueue_add_chain(&q, huge, 2, &id));
    struct virtqueue_buffer many[SIZE + 1];
    for (int i = 0; i < SIZE + 1; i++)
        many[i] = (struct virtqueue_buffer){0x1000, 1, false};
    ck_assert(!virtqueue_add_chain(&q, many, SIZE + 1, &id));
    ck_assert(!virtqueue_add_chain(&q, many, 0, &id));
    ck_assert_uint_eq(q.free_count, SIZE);
    ck_assert(!q.broken);
}
END_TEST

START_TEST(a_device_naming_a_chain_member_breaks_the_queue)
{
    used_idx = 0;
    uint16_t head;
    ck_assert(add_request(&head));
    virtqueue_publish(&q);
    device_put_used(q.desc[head].next, 1);
    uint16_t id;
    uint32_t length;
    ck_assert(!virtqueue_take_used(&q, &id, &length));
    ck_assert(q.broken);
}
END_TEST

START_TEST(a_used_length_beyond_the_chain_breaks_the_queue)
{
    used_idx = 0;
    uint16_t head;
    ck_assert(add_request(&head));
    virtqueue_publish(&q);
    device_put_used(head, 16 + 4096 + 1 + 1);
    uint16_t id;
    uint32_t length;
    ck_assert(!virtqueue_take_used(&q, &id, &length));
    ck_assert(q.broken);
}
END_TEST

Suite *virtqueue_chain_suite(void)
{
    Suite *s = suite_create("virtqueue_chain");
    TCase *tc = tcase_create("chain");
    tcase_add_checked_fixture(tc, virtqueue_fixture_setup, virtqueue_fixture_teardown);
    tcase_add_test(tc, a_chain_links_its_descriptors);
    tcase_add_test(tc, chains_go_round_and_the_queue_fills);
    tcase_add_test(tc, bad_chains_are_refused);
    tcase_add_test(tc, a_device_naming_a_chain_member_breaks_the_queue);
    tcase_add_test(tc, a_used_length_beyond_the_chain_breaks_the_queue);
    suite_add_tcase(s, tc);
    return s;
}
