// sources: root/rtc.c
#include <check.h>
#include <stdint.h>

#include "root/rtc.h"

#define NS 1000000000ull

static uint8_t reg(struct rtc *rtc, uint8_t index, uint64_t now)
{
    rtc_write(rtc, RTC_INDEX_PORT, index, now);
    return rtc_read(rtc, RTC_DATA_PORT, now);
}

static void set(struct rtc *rtc, uint8_t index, uint8_t value, uint64_t now)
{
    rtc_write(rtc, RTC_INDEX_PORT, index, now);
    rtc_write(rtc, RTC_DATA_PORT, value, now);
}

START_TEST(calendar_known_dates)
{
    struct rtc_date d;
    rtc_date_from_unix(0, &d);
    ck_assert_int_eq(d.year, 1970);
    ck_assert_uint_eq(d.month, 1);
    ck_assert_uint_eq(d.day, 1);
    ck_assert_uint_eq(d.weekday, 5); /* Thursday */
    rtc_date_from_unix(951782400, &d); /* 2000-02-29 00:00:00, a Tuesday */
    ck_assert_int_eq(d.year, 2000);
    ck_assert_uint_eq(d.month, 2);
    ck_assert_uint_eq(d.day, 29);
    ck_assert_uint_eq(d.weekday, 3);
    rtc_date_from_unix(1795388999, &d); /* 2026-11-22 23:09:59 UTC, a Sunday */
    ck_assert_int_eq(d.year, 2026);
    ck_assert_uint_eq(d.month, 11);
    ck_assert_uint_eq(d.day, 22);
    ck_assert_uint_eq(d.hour, 23);
    ck_assert_uint_eq(d.minute, 9);
    ck_assert_uint_eq(d.second, 59);
    ck_assert_uint_eq(d.weekday, 1);
    rtc_date_from_unix(-1, &d); /* 1969-12-31 23:59:59, a Wednesday */
    ck_assert_int_eq(d.year, 1969);
    ck_assert_uint_eq(d.day, 31);
    ck_assert_uint_eq(d.second, 59);
    ck_assert_uint_eq(d.weekday, 4);
}
END_TEST

START_TEST(calendar_round_trip)
{
    /* Every day from 1900 to 2200 at an odd time of day. */
    for (int64_t t = -2208988800ll; t < 7258118400ll; t += 86400 + 3661) {
        struct rtc_date d;
        rtc_date_from_unix(t, &d);
        int64_t back;
        ck_assert(rtc_date_to_unix(&d, &back));
        ck_assert_int_eq(back, t);
    }
}
END_TEST

START_TEST(calendar_rejects_bad_dates)
{
    int64_t t;
    struct rtc_date d = {.year = 2023, .month = 2, .day = 29, .hour = 0};
    ck_assert(!rtc_date_to_unix(&d, &t));
    d.year = 2024;
    ck_assert(rtc_date_to_unix(&d, &t));
    d.year = 1900; /* not a leap year */
    ck_assert(!rtc_date_to_unix(&d, &t));
    struct rtc_date bad[] = {
        {.year = 2026, .month = 13, .day = 1}, {.year = 2026, .month = 0, .day = 1},
        {.year = 2026, .month = 4, .day = 31}, {.year = 2026, .month = 1, .day = 0},
        {.year = 2026, .month = 1, .day = 1, .hour = 24},
        {.year = 2026, .month = 1, .day = 1, .minute = 60},
        {.year = 2026, .month = 1, .day = 1, .second = 60},
    };
    for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        ck_assert(!rtc_date_to_unix(&bad[i], &t));
}
END_TEST

START_TEST(reads_bcd_and_binary_and_12_hour)
{
    struct rtc rtc;
    rtc_init(&rtc, 1795388999, 5 * NS); /* 2026-11-22 23:09:59 */
    ck_assert_uint_eq(reg(&rtc, 0x00, 5 * NS), 0x59);
    ck_assert_uint_eq(reg(&rtc, 0x02, 5 * NS), 0x09);
    ck_assert_uint_eq(reg(&rtc, 0x04, 5 * NS), 0x23);
    ck_assert_uint_eq(reg(&rtc, 0x07, 5 * NS), 0x22);
    ck_assert_uint_eq(reg(&rtc, 0x08, 5 * NS), 0x11);
    ck_assert_uint_eq(reg(&rtc, 0x09, 5 * NS), 0x26);
    ck_assert_uint_eq(reg(&rtc, 0x32, 5 * NS), 0x20);
    ck_assert_uint_eq(reg(&rtc, 0x06, 5 * NS), 1);
    ck_assert_uint_eq(reg(&rtc, 0x0D, 5 * NS), 0x80);
    /* One second later the minute turns; 50 minutes later it is the next day. */
    ck_assert_uint_eq(reg(&rtc, 0x02, 6 * NS), 0x10);
    ck_assert_uint_eq(reg(&rtc, 0x00, 6 * NS), 0x00);
    ck_assert_uint_eq(reg(&rtc, 0x04, (5 + 50 * 60 + 1) * NS), 0x00);
    ck_assert_uint_eq(reg(&rtc, 0x07, (5 + 50 * 60 + 1) * NS), 0x23);
    ck_assert_uint_eq(reg(&rtc, 0x06, (5 + 50 * 60 + 1) * NS), 2);
    /* Binary, 12-hour: 23:09 is 11 PM. */
    set(&rtc, 0x0B, 0x04, 5 * NS);
    ck_assert_uint_eq(reg(&rtc, 0x04, 5 * NS), 0x80 | 11);
    ck_assert_uint_eq(reg(&rtc, 0x00, 5 * NS), 59);
    ck_assert_uint_eq(reg(&rtc, 0x0B, 5 * NS), 0x04);
}
END_TEST

START_TEST(update_in_progress_window)
{
    struct rtc rtc;
    rtc_init(&rtc, 0, 0);
    ck_assert_uint_eq(reg(&rtc, 0x0A, 500000000ull) & 0x80, 0);
    ck_assert_uint_eq(reg(&rtc, 0x0A, NS - 100000) & 0x80, 0x80);
    ck_assert_uint_eq(reg(&rtc, 0x0A, NS + 1) & 0x80, 0);
    set(&rtc, 0x0A, 0xA6, 0); /* UIP is read-only */
    ck_assert_uint_eq(reg(&rtc, 0x0A, 1000) & 0x80, 0);
}
END_TEST

START_TEST(setting_the_time)
{
    struct rtc rtc;
    rtc_init(&rtc, 0, 0);
    set(&rtc, 0x0B, 0x82, 10 * NS); /* SET, 24-hour, BCD */
    set(&rtc, 0x00, 0x30, 10 * NS);
    set(&rtc, 0x02, 0x45, 10 * NS);
    set(&rtc, 0x04, 0x12, 10 * NS);
    set(&rtc, 0x07, 0x01, 10 * NS);
    set(&rtc, 0x08, 0x03, 10 * NS);
    set(&rtc, 0x09, 0x27, 10 * NS);
    ck_assert_uint_eq(reg(&rtc, 0x00, 20 * NS), 0x30); /* frozen while SET */
    set(&rtc, 0x0B, 0x02, 20 * NS);
    ck_assert_uint_eq(reg(&rtc, 0x09, 20 * NS), 0x27);
    ck_assert_uint_eq(reg(&rtc, 0x08, 20 * NS), 0x03);
    ck_assert_uint_eq(reg(&rtc, 0x04, 20 * NS), 0x12);
    ck_assert_uint_eq(reg(&rtc, 0x00, 22 * NS), 0x32);
    /* An impossible date (February 30th) or a bad BCD digit leaves the clock alone. */
    set(&rtc, 0x0B, 0x82, 22 * NS);
    set(&rtc, 0x08, 0x02, 22 * NS);
    set(&rtc, 0x07, 0x30, 22 * NS);
    set(&rtc, 0x0B, 0x02, 22 * NS);
    ck_assert_uint_eq(reg(&rtc, 0x08, 22 * NS), 0x03);
    set(&rtc, 0x0B, 0x82, 22 * NS);
    set(&rtc, 0x00, 0x5A, 22 * NS);
    set(&rtc, 0x0B, 0x02, 22 * NS);
    ck_assert_uint_eq(reg(&rtc, 0x00, 22 * NS), 0x32);
    /* Writes outside SET do not change the time; CMOS RAM keeps bytes; C clears on read. */
    set(&rtc, 0x00, 0x00, 22 * NS);
    ck_assert_uint_eq(reg(&rtc, 0x00, 22 * NS), 0x32);
    set(&rtc, 0x40, 0xA5, 0);
    ck_assert_uint_eq(reg(&rtc, 0x40, 0), 0xA5);
    set(&rtc, 0xC0 /* NMI mask bit + 0x40 */, 0x5A, 0);
    ck_assert_uint_eq(reg(&rtc, 0x40, 0), 0x5A);
    rtc.register_c = 0x90;
    ck_assert_uint_eq(reg(&rtc, 0x0C, 0), 0x90);
    ck_assert_uint_eq(reg(&rtc, 0x0C, 0), 0);
    ck_assert_uint_eq(rtc_read(&rtc, RTC_INDEX_PORT, 0), 0xFF);
    ck_assert(rtc_owns_port(0x70) && rtc_owns_port(0x71) && !rtc_owns_port(0x72));
}
END_TEST

Suite *rtc_suite(void);
Suite *rtc_suite(void)
{
    Suite *s = suite_create("rtc");
    TCase *t = tcase_create("mc146818");
    tcase_add_test(t, calendar_known_dates);
    tcase_add_test(t, calendar_round_trip);
    tcase_add_test(t, calendar_rejects_bad_dates);
    tcase_add_test(t, reads_bcd_and_binary_and_12_hour);
    tcase_add_test(t, update_in_progress_window);
    tcase_add_test(t, setting_the_time);
    suite_add_tcase(s, t);
    return s;
}
