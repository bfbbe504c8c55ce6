// sources: root/retry_timer.c
/* The retry timer's backoff (root/retry_timer.c): how soon the root retries host messages
 * kept for a child whose message queue was full (root/vmbus_server.c). The timer itself is
 * MSR writes and is exercised under QEMU (tests/qemu/cases_hostilevsc.py: 40 answers the
 * guest takes only after posting all its requests). */
#include <check.h>

#include "root/retry_timer.h"

/* root_log comes from the worker suite's fakes (tests/unit/test_worker.c). */

START_TEST(backoff_doubles_without_progress)
{
    uint32_t delay = 0;
    ck_assert_uint_eq(retry_delay_next(&delay, false), RETRY_FIRST_MS); /* the first wait */
    uint32_t expected = RETRY_FIRST_MS;
    for (int i = 0; i < 20; i++) {
        expected = expected * 2 < RETRY_MAX_MS ? expected * 2 : RETRY_MAX_MS;
        ck_assert_uint_eq(retry_delay_next(&delay, false), expected);
    }
    ck_assert_uint_eq(delay, RETRY_MAX_MS); /* a child that never reads: capped */
}
END_TEST

START_TEST(progress_restarts_quickly)
{
    uint32_t delay = 0;
    for (int i = 0; i < 10; i++)
        retry_delay_next(&delay, false);
    ck_assert_uint_eq(retry_delay_next(&delay, true), RETRY_FIRST_MS);
    ck_assert_uint_eq(retry_delay_next(&delay, false), 2 * RETRY_FIRST_MS);
    ck_assert_uint_eq(retry_delay_next(&delay, true), RETRY_FIRST_MS);
}
END_TEST

START_TEST(nothing_armed_before_the_first_wait)
{
    /* Before any arm there is no slot: nothing to take, nothing armed. */
    ck_assert(!retry_timer_armed());
    ck_assert(!retry_timer_take());
}
END_TEST

Suite *retry_timer_suite(void)
{
    Suite *s = suite_create("retry_timer");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, backoff_doubles_without_progress);
    tcase_add_test(tc, progress_restarts_quickly);
    tcase_add_test(tc, nothing_armed_before_the_first_wait);
    suite_add_tcase(s, tc);
    return s;
}
