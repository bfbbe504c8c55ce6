// sources: root/log_limit.c
/* The console budget of one partition's lines (root/log_limit.c). */
#include <check.h>
#include <stdio.h>

#include "root/log_limit.h"

#define SECOND 1000000000ull

START_TEST(repeats_of_a_kind_are_held_back_other_kinds_pass)
{
    static struct root_log_limit limit;
    uint32_t held;
    char line[64];
    uint64_t now = 5 * SECOND;
    for (unsigned i = 0; i < 100; i++) {
        snprintf(line, sizeof(line), "vmbus: channel %u closed: bad index", i);
        bool allowed = root_log_limit_allow(&limit, line, now, &held);
        ck_assert_int_eq(allowed, i < ROOT_LOG_LIMIT_PER_KIND);
        ck_assert_uint_eq(held, 0);
    }
    /* Another kind in the same window passes, and says how many were held back. */
    ck_assert(root_log_limit_allow(&limit, "vmbus: GPADL refused", now + 1, &held));
    ck_assert_uint_eq(held, 100 - ROOT_LOG_LIMIT_PER_KIND);
    ck_assert(root_log_limit_allow(&limit, "vmbus: GPADL refused", now + 2, &held));
    ck_assert_uint_eq(held, 0);
    /* The next window lets the first kind through again. */
    now += ROOT_LOG_LIMIT_SECONDS * SECOND;
    ck_assert(root_log_limit_allow(&limit, "vmbus: channel 7 closed: bad index", now, &held));
}
END_TEST

START_TEST(many_kinds_share_a_bounded_budget)
{
    static struct root_log_limit limit;
    uint32_t held, allowed = 0;
    char line[64];
    /* Kinds differ in letters, not digits: each is new until the table is full. */
    for (unsigned i = 0; i < 1000; i++) {
        snprintf(line, sizeof(line), "kind %c%c", 'a' + i % 26, 'a' + (i / 26) % 26);
        allowed += root_log_limit_allow(&limit, line, SECOND, &held);
    }
    ck_assert_uint_le(allowed, ROOT_LOG_LIMIT_KINDS * ROOT_LOG_LIMIT_PER_KIND);
}
END_TEST

Suite *log_limit_suite(void)
{
    Suite *s = suite_create("log_limit");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, repeats_of_a_kind_are_held_back_other_kinds_pass);
    tcase_add_test(tc, many_kinds_share_a_bounded_budget);
    suite_add_tcase(s, tc);
    return s;
}
