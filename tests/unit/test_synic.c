// sources: hv/message_queue.c hv/synic_page.c hv/reference_tsc.c hv/hypercall_abi.c
/*
 * The SynIC's pure parts: the bounded message queue behind a slot (hv/message_queue.c),
 * the slot protocol and event flags on a faked message/event page (hv/synic_page.c), the
 * reference TSC page arithmetic against a 128-bit reference computation
 * (hv/reference_tsc.c), and the wire rules of the root's private calls to children.
 */
#include <check.h>
#include <stdint.h>
#include <string.h>

#include "hv/hypercall_abi.h"
#include "hv/message_queue.h"
#include "hv/reference_tsc.h"
#include "hv/root_abi.h"
#include "hv/synic_page.h"

static struct hv_message message(uint32_t type, uint64_t sender, uint32_t first)
{
    struct hv_message m;
    memset(&m, 0, sizeof(m));
    m.header.message_type = type;
    m.header.payload_size = 24;
    m.header.sender = sender;
    memcpy(m.payload, &first, sizeof(first));
    return m;
}

/* ---- the queue --------------------------------------------------------------------------- */

START_TEST(queue_is_fifo_and_bounded)
{
    struct hv_message storage[3];
    struct message_queue q;
    message_queue_init(&q, storage, 3);
    ck_assert_ptr_null(message_queue_peek(&q));
    for (uint32_t i = 0; i < 3; i++) {
        struct hv_message m = message(1, 7, i);
        ck_assert(message_queue_push(&q, &m));
    }
    struct hv_message extra = message(1, 7, 99);
    ck_assert(!message_queue_push(&q, &extra)); /* full: refused, nothing overwritten */
    for (uint32_t round = 0; round < 10; round++) { /* wraps around many times */
        uint32_t first;
        memcpy(&first, message_queue_peek(&q)->payload, sizeof(first));
        ck_assert_uint_eq(first, round);
        message_queue_pop(&q);
        struct hv_message m = message(1, 7, round + 3);
        ck_assert(message_queue_push(&q, &m));
    }
    ck_assert_uint_eq(q.count, 3);
    message_queue_pop(&q);
    message_queue_pop(&q);
    message_queue_pop(&q);
    message_queue_pop(&q); /* popping an empty queue does nothing */
    ck_assert_uint_eq(q.count, 0);
    ck_assert_ptr_null(message_queue_peek(&q));
}
END_TEST

START_TEST(queue_counts_a_sender_under_a_mask)
{
    struct hv_message storage[8];
    struct message_queue q;
    message_queue_init(&q, storage, 8);
    uint64_t mask = ~0xFFFFFFFFull;
    struct hv_message a1 = message(1, HVFW_MESSAGE_SENDER(5, 1), 0);
    struct hv_message a4 = message(1, HVFW_MESSAGE_SENDER(5, 4), 0);
    struct hv_message b1 = message(1, HVFW_MESSAGE_SENDER(6, 1), 0);
    message_queue_push(&q, &a1);
    message_queue_push(&q, &b1);
    message_queue_push(&q, &a4);
    ck_assert_uint_eq(message_queue_count_sender(&q, HVFW_MESSAGE_SENDER(5, 0), mask), 2);
    ck_assert_uint_eq(message_queue_count_sender(&q, HVFW_MESSAGE_SENDER(6, 0), mask), 1);
    ck_assert_uint_eq(message_queue_count_sender(&q, HVFW_MESSAGE_SENDER(7, 0), mask), 0);
    ck_assert_uint_eq(message_queue_count_sender(&q, HVFW_MESSAGE_SENDER(5, 4), ~0ull), 1);
    ck_assert_uint_eq(HVFW_MESSAGE_SENDER_PARTITION(a4.header.sender), 5);
    ck_assert_uint_eq(HVFW_MESSAGE_SENDER_CONNECTION(a4.header.sender), 4);
}
END_TEST

START_TEST(queue_replaces_a_waiting_timer_expiry)
{
    struct hv_message storage[4];
    struct message_queue q;
    message_queue_init(&q, storage, 4);
    struct hv_message t0 = message(0x80000010u, 0, 0), t1 = message(0x80000010u, 0, 1);
    message_queue_push(&q, &t0);
    message_queue_push(&q, &t1);
    struct hv_message newer = message(0x80000010u, 0, 1);
    newer.header.payload_size = 77;
    ck_assert(message_queue_replace(&q, 0x80000010u, 1, &newer));
    ck_assert_uint_eq(q.count, 2);
    ck_assert_uint_eq(q.entries[1].header.payload_size, 77);
    ck_assert(!message_queue_replace(&q, 0x80000010u, 2, &newer)); /* timer 2 not waiting */
    ck_assert(!message_queue_replace(&q, 1, 0, &newer));           /* other types never */
}
END_TEST

/* ---- the pages ------------------------------------------------------------------------- */

#define PAGE_GPA 0x3000ull
static uint8_t page[4096];
static bool unreachable;
/* Simulates the guest freeing the slot between the hypervisor's flag write and its
 * second look at the type. */
static int free_slot_on_write;

static bool fake_read(void *context, uint64_t gpa, void *buffer, size_t length)
{
    (void)context;
    if (unreachable || gpa < PAGE_GPA || gpa + length > PAGE_GPA + sizeof(page))
        return false;
    memcpy(buffer, page + (gpa - PAGE_GPA), length);
    return true;
}

static bool fake_write(void *context, uint64_t gpa, const void *buffer, size_t length)
{
    (void)context;
    if (unreachable || gpa < PAGE_GPA || gpa + length > PAGE_GPA + sizeof(page))
        return false;
    memcpy(page + (gpa - PAGE_GPA), buffer, length);
    if (free_slot_on_write >= 0) {
        memset(page + free_slot_on_write * 256, 0, 4);
        free_slot_on_write = -1;
    }
    return true;
}

static bool fake_fetch_or32(void *context, uint64_t gpa, uint32_t bits, uint32_t *old)
{
    (void)context;
    if (unreachable || (gpa & 3) || gpa < PAGE_GPA || gpa + 4 > PAGE_GPA + sizeof(page))
        return false;
    uint32_t word;
    memcpy(&word, page + (gpa - PAGE_GPA), 4);
    *old = word;
    word |= bits;
    memcpy(page + (gpa - PAGE_GPA), &word, 4);
    return true;
}

/* The type store: counted, so a test can check the type went in one 32-bit store. */
static unsigned store32_calls;

static bool fake_store32(void *context, uint64_t gpa, uint32_t value)
{
    store32_calls++;
    return fake_write(context, gpa, &value, sizeof(value));
}

static const struct synic_page_access access = {NULL, fake_read, fake_write, fake_fetch_or32,
                                                fake_store32};

static void page_setup(void)
{
    memset(page, 0, sizeof(page));
    unreachable = false;
    free_slot_on_write = -1;
}

static struct hv_message slot(unsigned sint)
{
    struct hv_message m;
    memcpy(&m, page + sint * 256, sizeof(m));
    return m;
}

START_TEST(slot_takes_a_message_only_when_free)
{
    struct hv_message m = message(1, 9, 0xABCD);
    unsigned stores = store32_calls;
    ck_assert_int_eq(synic_page_deliver(&access, PAGE_GPA, 2, &m, false), SYNIC_SLOT_DELIVERED);
    ck_assert_uint_eq(store32_calls, stores + 1); /* the type in one 32-bit store, last */
    ck_assert_uint_eq(slot(2).header.message_type, 1);
    ck_assert_uint_eq(slot(2).header.message_flags, 0);
    ck_assert_uint_eq(slot(2).header.sender, 9);
    ck_assert_uint_eq(slot(1).header.message_type, 0); /* the neighbours untouched */
    ck_assert_uint_eq(slot(3).header.message_type, 0);
    struct hv_message second = message(1, 9, 0x1234);
    ck_assert_int_eq(synic_page_deliver(&access, PAGE_GPA, 2, &second, false), SYNIC_SLOT_BUSY);
    uint32_t first;
    struct hv_message now = slot(2);
    memcpy(&first, now.payload, sizeof(first));
    ck_assert_uint_eq(first, 0xABCD); /* the busy slot keeps the first one */
    /* The guest frees it; the next one goes in, with MessagePending if more wait. */
    memset(page + 2 * 256, 0, 4);
    ck_assert_int_eq(synic_page_deliver(&access, PAGE_GPA, 2, &second, true),
                     SYNIC_SLOT_DELIVERED);
    ck_assert_uint_eq(slot(2).header.message_flags, HV_MESSAGE_FLAG_PENDING);
}
END_TEST

START_TEST(slot_clamps_a_hostile_size_and_reports_unreachable_pages)
{
    struct hv_message m = message(1, 9, 0);
    m.header.payload_size = 255;
    ck_assert_int_eq(synic_page_deliver(&access, PAGE_GPA, 15, &m, false), SYNIC_SLOT_DELIVERED);
    ck_assert_uint_eq(slot(15).header.payload_size, 240);
    unreachable = true;
    ck_assert_int_eq(synic_page_deliver(&access, PAGE_GPA, 0, &m, false),
                     SYNIC_SLOT_UNREACHABLE);
    ck_assert(!synic_page_set_pending(&access, PAGE_GPA, 0));
    bool was_clear;
    ck_assert(!synic_page_signal(&access, PAGE_GPA, 0, 1, &was_clear));
}
END_TEST

START_TEST(pending_flag_and_the_freed_slot_race)
{
    struct hv_message m = message(1, 9, 0);
    synic_page_deliver(&access, PAGE_GPA, 4, &m, false);
    /* Still busy after the flag: the guest will see it and write EOM. */
    ck_assert(!synic_page_set_pending(&access, PAGE_GPA, 4));
    ck_assert_uint_eq(slot(4).header.message_flags, HV_MESSAGE_FLAG_PENDING);
    /* Freed between the flag and the second look: the caller must deliver now. */
    free_slot_on_write = 4;
    ck_assert(synic_page_set_pending(&access, PAGE_GPA, 4));
}
END_TEST

START_TEST(event_flags_are_per_sint_and_report_the_first_set)
{
    bool was_clear = false;
    ck_assert(synic_page_signal(&access, PAGE_GPA, 2, 5, &was_clear));
    ck_assert(was_clear);
    ck_assert_uint_eq(page[2 * 256], 1u << 5);
    ck_assert(synic_page_signal(&access, PAGE_GPA, 2, 5, &was_clear));
    ck_assert(!was_clear); /* already set: no second interrupt */
    ck_assert(synic_page_signal(&access, PAGE_GPA, 2, 2047, &was_clear));
    ck_assert(was_clear);
    ck_assert_uint_eq(page[2 * 256 + 255], 0x80);
    ck_assert(synic_page_signal(&access, PAGE_GPA, 15, 0, &was_clear));
    ck_assert_uint_eq(page[15 * 256], 1);
    ck_assert_uint_eq(page[3 * 256], 0);
}
END_TEST

/* ---- the reference TSC page ---------------------------------------------------------------- */

/* What kernel/tsc.c's time_now_ns() gives for `ticks`, in 100 ns units. */
static uint64_t clock_units(uint64_t ticks, uint64_t khz)
{
    uint64_t ns_per_tick_fixed32 = (1000000ull << 32) / khz;
    return (uint64_t)(((unsigned __int128)ticks * ns_per_tick_fixed32) >> 32) / 100u;
}

START_TEST(scale_matches_the_exact_rate)
{
    static const uint64_t khz[] = {10001, 1000000, 2444782, 3000000, 5000000, 9999999};
    for (size_t i = 0; i < sizeof(khz) / sizeof(khz[0]); i++) {
        uint64_t scale = reference_tsc_scale(khz[i]);
        ck_assert_uint_ne(scale, 0);
        /* 2^64 * 10^7 / Hz, computed in 128 bits: the TLFS definition. */
        unsigned __int128 exact = ((unsigned __int128)1 << 64) * 10000u / khz[i];
        unsigned __int128 diff = exact > scale ? exact - scale : scale - exact;
        /* The scale follows kernel/tsc.c's clock, whose ns-per-tick has 32 fraction bits:
         * off the exact rate by at most one unit of that fraction (plus the /100). */
        double fraction_unit = (double)khz[i] / (1e6 * 4294967296.0);
        ck_assert((double)diff / (double)exact <= fraction_unit + 1e-15);
    }
    ck_assert_uint_eq(reference_tsc_scale(0), 0);
    ck_assert_uint_eq(reference_tsc_scale(10000), 0); /* 10 MHz: scale would be 2^64 */
    ck_assert_uint_eq(reference_tsc_scale(1), 0);
}
END_TEST

START_TEST(page_time_follows_the_reference_counter)
{
    static const uint64_t khz[] = {1000000, 2444782, 3600000};
    for (size_t i = 0; i < sizeof(khz) / sizeof(khz[0]); i++) {
        uint64_t scale = reference_tsc_scale(khz[i]);
        /* The partition was created at clock units `base`; sample at some TSC. */
        uint64_t base_ticks = 123456789ull * khz[i] / 1000u;
        uint64_t base = clock_units(base_ticks, khz[i]);
        uint64_t sample = base_ticks + 987654321ull;
        int64_t offset = reference_tsc_offset(sample, clock_units(sample, khz[i]) - base, scale);
        /* Over a day of TSC ticks the page and TIME_REF_COUNT stay within a unit or two. */
        for (uint64_t seconds = 0; seconds <= 86400; seconds += 3600) {
            uint64_t tsc = sample + seconds * khz[i] * 1000u;
            uint64_t counter = clock_units(tsc, khz[i]) - base;
            uint64_t page_time = reference_tsc_time(tsc, scale, offset);
            uint64_t diff = counter > page_time ? counter - page_time : page_time - counter;
            ck_assert_msg(diff <= 2, "%lu kHz, %lu s: counter %lu page %lu", khz[i], seconds,
                          counter, page_time);
        }
    }
}
END_TEST

START_TEST(offset_may_be_negative)
{
    /* A TSC that ran long before the partition existed: a large negative offset. */
    uint64_t scale = reference_tsc_scale(2000000);
    uint64_t tsc = 2000000000ull * 3600; /* an hour of 2 GHz ticks */
    int64_t offset = reference_tsc_offset(tsc, 5, scale);
    ck_assert(offset < 0);
    ck_assert_uint_eq(reference_tsc_time(tsc, scale, offset), 5);
    ck_assert_uint_eq(reference_tsc_time(tsc + 2000, scale, offset), 15); /* 1 us later */
}
END_TEST

START_TEST(sequence_skips_the_invalid_values)
{
    ck_assert_uint_eq(reference_tsc_next_sequence(0), 1);
    ck_assert_uint_eq(reference_tsc_next_sequence(41), 42);
    ck_assert_uint_eq(reference_tsc_next_sequence(0xFFFFFFFEu), 1);
    ck_assert_uint_eq(reference_tsc_next_sequence(0xFFFFFFFFu), 1);
}
END_TEST

/* ---- the private calls' wire rules --------------------------------------------------------- */

START_TEST(private_calls_are_root_only_with_their_sizes)
{
    struct hypercall_layout layout;
    struct hypercall_control c = {.code = HVCALL_HVFW_POST_CHILD_MESSAGE};
    const struct hypercall_descriptor *d = hypercall_descriptor_find(c.code);
    ck_assert_ptr_nonnull(d);
    ck_assert_int_eq(hypercall_validate(&c, d, 0x10000, 0x20000, false, &layout),
                     HV_STATUS_ACCESS_DENIED);
    ck_assert_int_eq(hypercall_validate(&c, d, 0x10000, 0x20000, true, &layout),
                     HV_STATUS_SUCCESS);
    ck_assert_uint_eq(layout.input_size, 264);
    /* 264 bytes starting 8 bytes before a page end cross it. */
    ck_assert_int_eq(hypercall_validate(&c, d, 0x10FF8, 0x20000, true, &layout),
                     HV_STATUS_INVALID_ALIGNMENT);
    c.fast = true; /* no fast form: 264 bytes */
    ck_assert_int_eq(hypercall_validate(&c, d, 0, 0, true, &layout),
                     HV_STATUS_INVALID_HYPERCALL_INPUT);

    struct hypercall_control s = {.code = HVCALL_HVFW_SIGNAL_CHILD_EVENT, .fast = true};
    d = hypercall_descriptor_find(s.code);
    ck_assert_int_eq(hypercall_validate(&s, d, 1, 2, true, &layout), HV_STATUS_SUCCESS);
    ck_assert_int_eq(hypercall_validate(&s, d, 1, 2, false, &layout), HV_STATUS_ACCESS_DENIED);

    struct hypercall_control g = {.code = HVCALL_HVFW_GET_CHILD_EVENTS};
    d = hypercall_descriptor_find(g.code);
    ck_assert_int_eq(hypercall_validate(&g, d, 0x10000, 0x20000, true, &layout),
                     HV_STATUS_SUCCESS);
    ck_assert_uint_eq(layout.output_size, 256);

    /* A child may post and signal (to the root). */
    struct hypercall_control p = {.code = HVCALL_POST_MESSAGE};
    d = hypercall_descriptor_find(p.code);
    ck_assert_int_eq(hypercall_validate(&p, d, 0x10000, 0, false, &layout), HV_STATUS_SUCCESS);
}
END_TEST

START_TEST(child_message_and_event_inputs_are_checked)
{
    struct hv_input_post_message in;
    memset(&in, 0, sizeof(in));
    in.connection_id = 4;
    in.message_type = 1;
    in.payload_size = 240;
    ck_assert_int_eq(hv_input_post_message_validate(&in), HV_STATUS_SUCCESS);
    in.payload_size = 241;
    ck_assert_int_eq(hv_input_post_message_validate(&in), HV_STATUS_INVALID_PARAMETER);
    in.payload_size = 0;
    in.message_type = 0x80000010u; /* a timer expiry: the hypervisor's own */
    ck_assert_int_eq(hv_input_post_message_validate(&in), HV_STATUS_INVALID_PARAMETER);
    in.message_type = 0;
    ck_assert_int_eq(hv_input_post_message_validate(&in), HV_STATUS_INVALID_PARAMETER);
    in.message_type = 1;
    in.connection_id = 0x01000004u;
    ck_assert_int_eq(hv_input_post_message_validate(&in), HV_STATUS_INVALID_CONNECTION_ID);

    struct hv_input_signal_event e = {.connection_id = 7, .flag_number = 0};
    ck_assert_int_eq(hv_input_signal_event_validate(&e), HV_STATUS_SUCCESS);
    e.flag_number = 2048;
    ck_assert_int_eq(hv_input_signal_event_validate(&e), HV_STATUS_INVALID_PARAMETER);
}
END_TEST

Suite *synic_suite(void)
{
    Suite *s = suite_create("synic");
    TCase *queue = tcase_create("queue");
    tcase_add_test(queue, queue_is_fifo_and_bounded);
    tcase_add_test(queue, queue_counts_a_sender_under_a_mask);
    tcase_add_test(queue, queue_replaces_a_waiting_timer_expiry);
    suite_add_tcase(s, queue);
    TCase *pages = tcase_create("pages");
    tcase_add_checked_fixture(pages, page_setup, NULL);
    tcase_add_test(pages, slot_takes_a_message_only_when_free);
    tcase_add_test(pages, slot_clamps_a_hostile_size_and_reports_unreachable_pages);
    tcase_add_test(pages, pending_flag_and_the_freed_slot_race);
    tcase_add_test(pages, event_flags_are_per_sint_and_report_the_first_set);
    suite_add_tcase(s, pages);
    TCase *tsc = tcase_create("reference_tsc");
    tcase_add_test(tsc, scale_matches_the_exact_rate);
    tcase_add_test(tsc, page_time_follows_the_reference_counter);
    tcase_add_test(tsc, offset_may_be_negative);
    tcase_add_test(tsc, sequence_skips_the_invalid_values);
    suite_add_tcase(s, tsc);
    TCase *calls = tcase_create("calls");
    tcase_add_test(calls, private_calls_are_root_only_with_their_sizes);
    tcase_add_test(calls, child_message_and_event_inputs_are_checked);
    suite_add_tcase(s, calls);
    return s;
}
