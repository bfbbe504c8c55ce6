// sources: kernel/page_pool.c
/*
 * The page allocator's logic (kernel/page_pool.c) on synthetic memory maps: which pages it
 * hands out (never a reserved one, never frame 0), alignment, exhaustion, coalescing,
 * refusal of double and mismatched frees, allocation below a limit, metadata placement.
 * Where it matters the pool is compared with a naive per-frame model of the same map.
 */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kernel/page_pool.h"

#define MIB (1ull << 20)
#define GIB (1ull << 30)

static struct page_pool pool;
static void *metadata;

static void pool_build(const struct page_range *usable, size_t usable_count,
                       const struct page_range *reserved, size_t reserved_count)
{
    uint64_t limit = page_pool_page_limit(usable, usable_count);
    uint64_t size = page_pool_metadata_size(limit);
    free(metadata);
    metadata = malloc(size ? size : 1);
    ck_assert_ptr_nonnull(metadata);
    memset(metadata, 0xA5, size); /* init must not rely on zeroed memory */
    ck_assert_int_eq(page_pool_init(&pool, limit, usable, usable_count, reserved, reserved_count,
                                    metadata, size),
                     PAGE_POOL_OK);
}

static void teardown(void)
{
    free(metadata);
    metadata = NULL;
}

/* Naive model: frame f is available iff some usable range holds the whole page and no
 * reserved range touches it, and f != 0. */
static bool model_available(const struct page_range *usable, size_t usable_count,
                            const struct page_range *reserved, size_t reserved_count,
                            uint64_t frame)
{
    uint64_t start = frame * PAGE_SIZE, end = start + PAGE_SIZE;
    if (frame == 0)
        return false;
    bool in = false;
    for (size_t i = 0; i < usable_count; i++)
        in = in || (usable[i].start <= start && end <= usable[i].end);
    for (size_t i = 0; i < reserved_count; i++)
        if (reserved[i].start < reserved[i].end && reserved[i].start < end &&
            start < reserved[i].end)
            return false;
    return in;
}

/* Takes every order-0 page; checks each against the model and that none repeats. */
static uint64_t drain_and_check(const struct page_range *usable, size_t usable_count,
                                const struct page_range *reserved, size_t reserved_count,
                                uint8_t *seen, uint64_t limit)
{
    uint64_t count = 0, pa;
    while ((pa = page_pool_alloc(&pool, 0, UINT64_MAX)) != 0) {
        uint64_t frame = pa / PAGE_SIZE;
        ck_assert_uint_eq(pa % PAGE_SIZE, 0);
        ck_assert_uint_lt(frame, limit);
        ck_assert_msg(!seen[frame], "frame %lx handed out twice", (unsigned long)frame);
        ck_assert_msg(model_available(usable, usable_count, reserved, reserved_count, frame),
                      "frame %lx is reserved or not RAM", (unsigned long)frame);
        seen[frame] = 1;
        count++;
    }
    return count;
}

START_TEST(test_simple_map)
{
    struct page_range usable[] = {{0, 64 * MIB}};
    struct page_range reserved[] = {{0, MIB}};
    pool_build(usable, 1, reserved, 1);
    ck_assert_uint_eq(pool.total_pages, 63 * MIB / PAGE_SIZE);
    ck_assert_uint_eq(pool.free_pages, pool.total_pages);
    uint64_t pa = page_pool_alloc(&pool, 0, UINT64_MAX);
    ck_assert_uint_eq(pa, MIB); /* lowest first */
    ck_assert_uint_eq(pool.free_pages, pool.total_pages - 1);
    ck_assert_int_eq(page_pool_free(&pool, pa, 0), PAGE_POOL_OK);
    ck_assert_uint_eq(pool.free_pages, pool.total_pages);
}
END_TEST

START_TEST(test_exhaustion_and_coalescing)
{
    struct page_range usable[] = {{0, 40 * MIB}};
    struct page_range reserved[] = {{0, MIB}, {0x1234567, 0x1234568}};
    pool_build(usable, 1, reserved, 2);
    uint64_t limit = pool.page_limit;
    uint8_t *seen = calloc(limit, 1);
    uint64_t count = drain_and_check(usable, 1, reserved, 2, seen, limit);
    ck_assert_uint_eq(count, 40 * MIB / PAGE_SIZE - 256 - 1);
    ck_assert_uint_eq(count, pool.total_pages);
    ck_assert_uint_eq(pool.free_pages, 0);
    ck_assert_uint_eq(page_pool_alloc(&pool, 0, UINT64_MAX), 0); /* stays exhausted */
    ck_assert_uint_eq(page_pool_alloc(&pool, 5, UINT64_MAX), 0);
    /* Free in a scattered order; buddies must merge back into 2 MiB blocks. */
    for (uint64_t stride = 0; stride < 7; stride++)
        for (uint64_t f = stride; f < limit; f += 7)
            if (seen[f])
                ck_assert_int_eq(page_pool_free(&pool, f * PAGE_SIZE, 0), PAGE_POOL_OK);
    ck_assert_uint_eq(pool.free_pages, pool.total_pages);
    /* 2 MiB blocks: [2,40) MiB minus the one holding the reserved page at 0x1234000. */
    uint64_t blocks = 0, pa;
    while ((pa = page_pool_alloc(&pool, 9, UINT64_MAX)) != 0) {
        ck_assert_uint_eq(pa % (2 * MIB), 0);
        ck_assert(!(pa <= 0x1234567 && 0x1234567 < pa + 2 * MIB));
        blocks++;
    }
    ck_assert_uint_eq(blocks, 19 - 1);
    free(seen);
}
END_TEST

START_TEST(test_alignment_of_every_order)
{
    struct page_range usable[] = {{MIB + 0x3000, 5 * GIB + 0x5000}};
    pool_build(usable, 1, NULL, 0);
    for (unsigned order = 0; order <= PAGE_MAX_ORDER; order++) {
        uint64_t pa = page_pool_alloc(&pool, order, UINT64_MAX);
        ck_assert_msg(pa != 0, "order %u", order);
        ck_assert_uint_eq(pa % (PAGE_SIZE << order), 0);
        ck_assert_uint_ge(pa, MIB + 0x3000);
        ck_assert_uint_le(pa + (PAGE_SIZE << order), 5 * GIB + 0x5000);
    }
    ck_assert_uint_eq(page_pool_alloc(&pool, PAGE_MAX_ORDER + 1, UINT64_MAX), 0);
}
END_TEST

START_TEST(test_double_free_refused)
{
    struct page_range usable[] = {{MIB, 16 * MIB}};
    pool_build(usable, 1, NULL, 0);
    uint64_t a = page_pool_alloc(&pool, 0, UINT64_MAX);
    uint64_t b = page_pool_alloc(&pool, 0, UINT64_MAX);
    ck_assert_int_eq(page_pool_free(&pool, a, 0), PAGE_POOL_OK);
    uint64_t free_before = pool.free_pages;
    ck_assert_int_eq(page_pool_free(&pool, a, 0), PAGE_POOL_DOUBLE_FREE);
    ck_assert_uint_eq(pool.free_pages, free_before);
    /* b's buddy is a: freeing b merges them; freeing a again is still a double free
     * although a now lies inside a larger free block. */
    ck_assert_int_eq(page_pool_free(&pool, b, 0), PAGE_POOL_OK);
    free_before = pool.free_pages;
    ck_assert_int_eq(page_pool_free(&pool, a, 0), PAGE_POOL_DOUBLE_FREE);
    ck_assert_int_eq(page_pool_free(&pool, b, 0), PAGE_POOL_DOUBLE_FREE);
    ck_assert_uint_eq(pool.free_pages, free_before);
    /* The pool still works: the same pages come back, once. */
    ck_assert_uint_eq(page_pool_alloc(&pool, 0, UINT64_MAX), a);
    ck_assert_uint_eq(page_pool_alloc(&pool, 0, UINT64_MAX), b);
}
END_TEST

START_TEST(test_mismatched_free_refused)
{
    struct page_range usable[] = {{MIB, 16 * MIB}};
    struct page_range reserved[] = {{8 * MIB, 9 * MIB}};
    pool_build(usable, 1, reserved, 1);
    uint64_t block = page_pool_alloc(&pool, 3, UINT64_MAX);
    uint64_t free_before = pool.free_pages;
    ck_assert_int_eq(page_pool_free(&pool, block, 0), PAGE_POOL_NOT_ALLOCATED);
    ck_assert_int_eq(page_pool_free(&pool, block, 2), PAGE_POOL_NOT_ALLOCATED);
    ck_assert_int_eq(page_pool_free(&pool, block + PAGE_SIZE, 0), PAGE_POOL_NOT_ALLOCATED);
    ck_assert_int_eq(page_pool_free(&pool, block + 8 * PAGE_SIZE, 3), PAGE_POOL_DOUBLE_FREE);
    ck_assert_int_eq(page_pool_free(&pool, block + 1, 3), PAGE_POOL_BAD_ARGUMENT);
    ck_assert_int_eq(page_pool_free(&pool, block + 4 * PAGE_SIZE, 3), PAGE_POOL_BAD_ARGUMENT);
    ck_assert_int_eq(page_pool_free(&pool, block, PAGE_MAX_ORDER + 1), PAGE_POOL_BAD_ARGUMENT);
    ck_assert_int_eq(page_pool_free(&pool, 64 * MIB, 0), PAGE_POOL_BAD_ARGUMENT);
    ck_assert_int_eq(page_pool_free(&pool, 8 * MIB, 0), PAGE_POOL_NOT_ALLOCATED); /* reserved */
    ck_assert_int_eq(page_pool_free(&pool, 0, 0), PAGE_POOL_NOT_ALLOCATED);
    ck_assert_uint_eq(pool.free_pages, free_before);
    ck_assert_int_eq(page_pool_free(&pool, block, 3), PAGE_POOL_OK);
    ck_assert_uint_eq(pool.free_pages, pool.total_pages);
}
END_TEST

START_TEST(test_overlapping_unsorted_regions)
{
    /* Unsorted, overlapping, unaligned usable ranges; reserved ranges inside, across and
     * beyond them, some unaligned, one empty. */
    struct page_range usable[] = {
        {32 * MIB, 64 * MIB},         {0x700800, 40 * MIB},
        {0x9000, 0x9FC00},            {48 * MIB, 50 * MIB + 0x10},
        {100 * MIB + 0x800, 100 * MIB + 0x2800},
    };
    struct page_range reserved[] = {
        {60 * MIB, 70 * MIB}, {10 * MIB, 12 * MIB}, {0x500123, 0x500200},
        {0x9F000, 0x9F001},   {20 * MIB, 20 * MIB}, {0x3000000, 0x3000000 + 3},
    };
    size_t nu = sizeof(usable) / sizeof(usable[0]), nr = sizeof(reserved) / sizeof(reserved[0]);
    pool_build(usable, nu, reserved, nr);
    uint64_t limit = pool.page_limit;
    ck_assert_uint_eq(limit, (100 * MIB + 0x2000) / PAGE_SIZE);
    uint64_t expected = 0;
    for (uint64_t f = 0; f < limit; f++)
        expected += model_available(usable, nu, reserved, nr, f);
    ck_assert_uint_eq(pool.total_pages, expected);
    uint8_t *seen = calloc(limit, 1);
    ck_assert_uint_eq(drain_and_check(usable, nu, reserved, nr, seen, limit), expected);
    free(seen);
}
END_TEST

START_TEST(test_random_maps_match_model)
{
    srand(12345);
    for (int round = 0; round < 40; round++) {
        struct page_range usable[6], reserved[6];
        size_t nu = 1 + (size_t)rand() % 6, nr = (size_t)rand() % 6;
        for (size_t i = 0; i < nu; i++) {
            uint64_t start = (uint64_t)rand() % (24 * MIB);
            usable[i] = (struct page_range){start, start + (uint64_t)rand() % (8 * MIB)};
        }
        for (size_t i = 0; i < nr; i++) {
            uint64_t start = (uint64_t)rand() % (32 * MIB);
            reserved[i] = (struct page_range){start, start + (uint64_t)rand() % (2 * MIB)};
        }
        pool_build(usable, nu, reserved, nr);
        uint64_t limit = pool.page_limit, expected = 0;
        for (uint64_t f = 0; f < limit; f++)
            expected += model_available(usable, nu, reserved, nr, f);
        ck_assert_uint_eq(pool.total_pages, expected);
        uint8_t *seen = calloc(limit + 1, 1);
        ck_assert_uint_eq(drain_and_check(usable, nu, reserved, nr, seen, limit), expected);
        free(seen);
    }
}
END_TEST

START_TEST(test_alloc_below_limit)
{
    struct page_range usable[] = {{MIB, 3 * GIB}, {4 * GIB, 6 * GIB}};
    pool_build(usable, 2, NULL, 0);
    /* A 1 GiB block exists only at 1, 2 (below 3 GiB) and 4, 5 GiB. */
    ck_assert_uint_eq(page_pool_alloc(&pool, PAGE_MAX_ORDER, 2 * GIB + 1), GIB);
    ck_assert_uint_eq(page_pool_alloc(&pool, PAGE_MAX_ORDER, 2 * GIB + 1), 0);
    ck_assert_uint_eq(page_pool_alloc(&pool, PAGE_MAX_ORDER, 4 * GIB), 2 * GIB);
    ck_assert_uint_eq(page_pool_alloc(&pool, PAGE_MAX_ORDER, UINT64_MAX), 4 * GIB);
    /* Small pages below 2 MiB: exactly the 256 pages of [1, 2) MiB. */
    uint64_t count = 0, pa;
    while ((pa = page_pool_alloc(&pool, 0, 2 * MIB)) != 0) {
        ck_assert_uint_lt(pa, 2 * MIB);
        count++;
    }
    ck_assert_uint_eq(count, 256);
    ck_assert_uint_ne(page_pool_alloc(&pool, 0, UINT64_MAX), 0); /* more exists above */
}
END_TEST

START_TEST(test_large_sparse_map)
{
    /* QEMU -m 4G: 3 GiB low, 1 GiB at 4 GiB, plus a reserved hole map above 1 TiB. */
    struct page_range usable[] = {{0, 0x9FC00}, {MIB, 3 * GIB}, {4 * GIB, 5 * GIB}};
    struct page_range reserved[] = {{0, MIB}, {0xFD00000000ull, 0x10000000000ull}};
    pool_build(usable, 3, reserved, 2);
    ck_assert_uint_eq(pool.page_limit, 5 * GIB / PAGE_SIZE);
    ck_assert_uint_eq(pool.total_pages, (3 * GIB - MIB + GIB) / PAGE_SIZE);
    ck_assert_uint_lt(page_pool_metadata_size(pool.page_limit), 2 * MIB);
    unsigned gigs = 0;
    uint64_t pa;
    while ((pa = page_pool_alloc(&pool, PAGE_MAX_ORDER, UINT64_MAX)) != 0) {
        ck_assert_uint_eq(pa % GIB, 0);
        gigs++;
    }
    ck_assert_uint_eq(gigs, 3); /* 1, 2 and 4 GiB; [0, 1 GiB) holds the reserved MiB */
}
END_TEST

START_TEST(test_random_alloc_free_no_overlap)
{
    struct page_range usable[] = {{MIB, 64 * MIB}};
    pool_build(usable, 1, NULL, 0);
    uint64_t limit = pool.page_limit;
    uint8_t *owner = calloc(limit, 1);
    struct { uint64_t pa; unsigned order; } live[512];
    size_t live_count = 0;
    srand(777);
    for (int step = 0; step < 20000; step++) {
        if (live_count < 512 && (live_count == 0 || rand() % 3 != 0)) {
            unsigned order = (unsigned)(rand() % 11);
            uint64_t pa = page_pool_alloc(&pool, order, UINT64_MAX);
            if (!pa)
                continue;
            ck_assert_uint_eq(pa % (PAGE_SIZE << order), 0);
            for (uint64_t f = pa / PAGE_SIZE; f < pa / PAGE_SIZE + (1ull << order); f++) {
                ck_assert_msg(!owner[f], "frame %lx allocated twice", (unsigned long)f);
                owner[f] = 1;
            }
            live[live_count].pa = pa;
            live[live_count++].order = order;
        } else {
            size_t i = (size_t)rand() % live_count;
            for (uint64_t f = live[i].pa / PAGE_SIZE;
                 f < live[i].pa / PAGE_SIZE + (1ull << live[i].order); f++)
                owner[f] = 0;
            ck_assert_int_eq(page_pool_free(&pool, live[i].pa, live[i].order), PAGE_POOL_OK);
            live[i] = live[--live_count];
        }
        uint64_t used = 0;
        for (size_t i = 0; i < live_count; i++)
            used += 1ull << live[i].order;
        ck_assert_uint_eq(pool.free_pages + used, pool.total_pages);
    }
    while (live_count > 0) {
        live_count--;
        ck_assert_int_eq(page_pool_free(&pool, live[live_count].pa, live[live_count].order),
                         PAGE_POOL_OK);
    }
    /* Fully coalesced again: [1, 64) MiB holds 31 aligned 2 MiB blocks + 1 MiB of pages. */
    uint64_t blocks = 0;
    while (page_pool_alloc(&pool, 9, UINT64_MAX) != 0)
        blocks++;
    ck_assert_uint_eq(blocks, 31);
    free(owner);
}
END_TEST

START_TEST(test_frame_zero_never_handed_out)
{
    struct page_range usable[] = {{0, 64 * PAGE_SIZE}};
    pool_build(usable, 1, NULL, 0);
    ck_assert_uint_eq(pool.total_pages, 63);
    uint64_t count = 0;
    while (page_pool_alloc(&pool, 0, UINT64_MAX) != 0)
        count++;
    ck_assert_uint_eq(count, 63);
}
END_TEST

START_TEST(test_metadata_too_small_or_no_ram)
{
    struct page_range usable[] = {{0, 64 * MIB}};
    uint64_t limit = page_pool_page_limit(usable, 1);
    uint64_t size = page_pool_metadata_size(limit);
    void *buffer = malloc(size);
    ck_assert_int_eq(page_pool_init(&pool, limit, usable, 1, NULL, 0, buffer, size - 1),
                     PAGE_POOL_METADATA_SMALL);
    ck_assert_int_eq(page_pool_init(&pool, 1ull << 41, usable, 1, NULL, 0, buffer, size),
                     PAGE_POOL_BAD_ARGUMENT);
    free(buffer);
    /* No usable RAM at all: an empty pool that hands out nothing and refuses frees. */
    ck_assert_uint_eq(page_pool_page_limit(usable, 0), 0);
    uint64_t dummy;
    ck_assert_int_eq(page_pool_init(&pool, 0, NULL, 0, NULL, 0, &dummy, sizeof(dummy)),
                     PAGE_POOL_OK);
    ck_assert_uint_eq(page_pool_alloc(&pool, 0, UINT64_MAX), 0);
    ck_assert_int_eq(page_pool_free(&pool, PAGE_SIZE, 0), PAGE_POOL_BAD_ARGUMENT);
}
END_TEST

START_TEST(test_find_space)
{
    struct page_range usable[] = {{0, 0x9FC00}, {MIB, 128 * MIB}, {4 * GIB, 8 * GIB}};
    struct page_range reserved[] = {{0, MIB}, {MIB, 3 * MIB + 5}, {3 * MIB + 0x2000, 4 * MIB}};
    uint64_t at = 0;
    /* One page fits at 3 MiB + 4 KiB (after the unaligned end), two pages only at 4 MiB. */
    ck_assert(page_pool_find_space(usable, 3, reserved, 3, PAGE_SIZE, 4 * GIB, &at));
    ck_assert_uint_eq(at, 3 * MIB + PAGE_SIZE);
    ck_assert(page_pool_find_space(usable, 3, reserved, 3, 2 * PAGE_SIZE, 4 * GIB, &at));
    ck_assert_uint_eq(at, 4 * MIB);
    /* Too big for low RAM: only above 4 GiB, which `below` excludes. */
    ck_assert(!page_pool_find_space(usable, 3, reserved, 3, 200 * MIB, 4 * GIB, &at));
    ck_assert(page_pool_find_space(usable, 3, reserved, 3, 200 * MIB, UINT64_MAX, &at));
    ck_assert_uint_eq(at, 4 * GIB);
    /* Never at address 0. */
    struct page_range low[] = {{0, 16 * PAGE_SIZE}};
    ck_assert(page_pool_find_space(low, 1, NULL, 0, PAGE_SIZE, UINT64_MAX, &at));
    ck_assert_uint_eq(at, PAGE_SIZE);
    ck_assert(!page_pool_find_space(low, 1, NULL, 0, 16 * PAGE_SIZE, UINT64_MAX, &at));
    ck_assert(!page_pool_find_space(low, 1, NULL, 0, 0, UINT64_MAX, &at));
}
END_TEST

Suite *page_alloc_suite(void)
{
    Suite *s = suite_create("page_alloc");
    TCase *tc = tcase_create("pool");
    tcase_add_checked_fixture(tc, NULL, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_simple_map);
    tcase_add_test(tc, test_exhaustion_and_coalescing);
    tcase_add_test(tc, test_alignment_of_every_order);
    tcase_add_test(tc, test_double_free_refused);
    tcase_add_test(tc, test_mismatched_free_refused);
    tcase_add_test(tc, test_overlapping_unsorted_regions);
    tcase_add_test(tc, test_random_maps_match_model);
    tcase_add_test(tc, test_alloc_below_limit);
    tcase_add_test(tc, test_large_sparse_map);
    tcase_add_test(tc, test_random_alloc_free_no_overlap);
    tcase_add_test(tc, test_frame_zero_never_handed_out);
    tcase_add_test(tc, test_metadata_too_small_or_no_ram);
    tcase_add_test(tc, test_find_space);
    suite_add_tcase(s, tc);
    return s;
}
