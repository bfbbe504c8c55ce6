// sources: root/cmos_rtc.c
/* The child's CMOS RTC (root/cmos_rtc.c): date arithmetic, the running clock in BCD and
 * binary, 12 and 24 hours, setting it under SET, the status registers Linux polls, CMOS
 * RAM, and garbage. */
#include <check.h>

#include "root/cmos_rtc.h"

#define SECOND 1000000000ull
#define T0 (3 * SECOND)

static uint8_t reg(struct cmos_rtc *rtc, uint8_t index, uint64_t now)
{
    cmos_rtc_write(rtc, CMOS_RTC_INDEX_PORT, index, now);
    return cmos_rtc_read(rtc, CMOS_RTC_DATA_PORT, now);
}

static void set_reg(struct cmos_rtc *rtc, uint8_t index, uint8_t value, uint64_t now)
{
    cmos_rtc_write(rtc, CMOS_RTC_INDEX_PORT, index, now);
    cmos_rtc_write(rtc, CMOS_RTC_DATA_PORT, value, now);
}

START_TEST(date_arithmetic)
{
    ck_assert_uint_eq(cmos_rtc_days(2000, 1, 1), 0);
    ck_assert_uint_eq(cmos_rtc_days(2000, 3, 1), 60); /* 2000 is a leap year */
    ck_assert_uint_eq(cmos_rtc_days(2001, 1, 1), 366);
    ck_assert_uint_eq(cmos_rtc_days(2024, 2, 29), 8825);
    ck_assert_uint_eq(cmos_rtc_days(2099, 12, 31), 36524);
    for (uint32_t days = 0; days < 36525; days += 13) {
        unsigned y, m, d;
        cmos_rtc_date(days, &y, &m, &d);
        ck_assert_uint_eq(cmos_rtc_days(y, m, d), days);
    }
    unsigned y, m, d;
    cmos_rtc_date(36525, &y, &m, &d); /* past 2099: the two digits wrap */
    ck_assert_uint_eq(y, 2000);
    ck_assert_uint_eq(m, 1);
    ck_assert_uint_eq(d, 1);
}
END_TEST

START_TEST(the_clock_runs)
{
    struct cmos_rtc rtc;
    cmos_rtc_init(&rtc, T0);
    ck_assert_uint_eq(reg(&rtc, CMOS_RTC_REGISTER_A, T0), 0x26); /* UIP clear: readable */
    ck_assert_uint_eq(reg(&rtc, CMOS_RTC_REGISTER_B, T0), 0x02); /* BCD, 24 hours */
    ck_assert_uint_eq(reg(&rtc, CMOS_RTC_REGISTER_D, T0), 0x80); /* valid */
    ck_assert_uint_eq(reg(&rtc, CMOS_RTC_YEAR, T0), 0x00);
    ck_assert_uint_eq(reg(&rtc, CMOS_RTC_MONTH, T0), 0x01);
    ck_assert_uint_eq(reg(&rtc, CMOS_RTC_DAY, T0), 0x01);
    ck_assert_uint_eq(reg(&rtc, CMOS_RTC_WEEKDAY, T0), 7); /* a Saturday */
    uint64_t later = T0 + (86400ull + 13 * 3600 + 59 * 60 + 58) * SECOND + 999999999;
    ck_assert_uint_eq(reg(&rtc, CMOS_RTC_SECONDS, later), 0x58);
    ck_assert_uint_eq(reg(&rtc, CMOS_RTC_MINUTES, later), 0x59);
    ck_assert_uint_eq(reg(&rtc, CMOS_RTC_HOURS, later), 0x13);
    ck_assert_uint_eq(reg(&rtc, CMOS_RTC_DAY, later), 0x02);
    ck_assert_uint_eq(reg(&rtc, CMOS_RTC_WEEKDAY, later), 1); /* Sunday */
    /* Binary, 12 hours: 13:59 is 1 PM. */
    set_reg(&rtc, CMOS_RTC_REGISTER_B, CMOS_RTC_B_BINARY, later);
    ck_assert_uint_eq(reg(&rtc, CMOS_RTC_SECONDS, later), 58);
    ck_assert_uint_eq(reg(&rtc, CMOS_RTC_HOURS, later), 0x80 | 1);
    ck_assert_uint_eq(reg(&rtc, CMOS_RTC_HOURS, T0), 12); /* midnight is 12 AM */
    /* The NMI bit of the index is ignored; port 0x70 reads all ones. */
    cmos_rtc_write(&rtc, CMOS_RTC_INDEX_PORT, 0x80 | CMOS_RTC_REGISTER_D, T0);
    ck_assert_uint_eq(cmos_rtc_read(&rtc, CMOS_RTC_DATA_PORT, T0), 0x80);
    ck_assert_uint_eq(cmos_rtc_read(&rtc, CMOS_RTC_INDEX_PORT, T0), 0xFF);
    /* A clock behind the start reads as the start. */
    ck_assert_uint_eq(reg(&rtc, CMOS_RTC_SECONDS, T0 - SECOND), 0);
}
END_TEST

START_TEST(setting_the_time)
{
    struct cmos_rtc rtc;
    cmos_rtc_init(&rtc, T0);
    /* Linux's way: SET, the fields in BCD, SET cleared. 2024-02-29 23:59:50. */
    set_reg(&rtc, CMOS_RTC_REGISTER_B, CMOS_RTC_B_SET | CMOS_RTC_B_24_HOUR, T0);
    set_reg(&rtc, CMOS_RTC_YEAR, 0x24, T0);
    set_reg(&rtc, CMOS_RTC_MONTH, 0x02, T0);
    set_reg(&rtc, CMOS_RTC_DAY, 0x29, T0);
    set_reg(&rtc, CMOS_RTC_HOURS, 0x23, T0);
    set_reg(&rtc, CMOS_RTC_MINUTES, 0x59, T0);
    set_reg(&rtc, CMOS_RTC_SECONDS, 0x50, T0);
    /* Stopped while SET: time does not move. */
    ck_assert_uint_eq(reg(&rtc, CMOS_RTC_SECONDS, T0 + 100 * SECOND), 0x50);
    set_reg(&rtc, CMOS_RTC_REGISTER_B, CMOS_RTC_B_24_HOUR, T0 + 100 * SECOND);
    uint64_t t = T0 + 111 * SECOND; /* 11 s later: 2024-03-01 00:00:01 */
    ck_assert_uint_eq(reg(&rtc, CMOS_RTC_SECONDS, t), 0x01);
    ck_assert_uint_eq(reg(&rtc, CMOS_RTC_HOURS, t), 0x00);
    ck_assert_uint_eq(reg(&rtc, CMOS_RTC_DAY, t), 0x01);
    ck_assert_uint_eq(reg(&rtc, CMOS_RTC_MONTH, t), 0x03);
    ck_assert_uint_eq(reg(&rtc, CMOS_RTC_YEAR, t), 0x24);
    ck_assert_uint_eq(reg(&rtc, CMOS_RTC_WEEKDAY, t), 6); /* a Friday */
    /* An impossible date written under SET keeps the clock as it was. */
    set_reg(&rtc, CMOS_RTC_REGISTER_B, CMOS_RTC_B_SET | CMOS_RTC_B_24_HOUR, t);
    set_reg(&rtc, CMOS_RTC_MONTH, 0x13, t);
    set_reg(&rtc, CMOS_RTC_REGISTER_B, CMOS_RTC_B_24_HOUR, t);
    ck_assert_uint_eq(reg(&rtc, CMOS_RTC_MONTH, t + SECOND), 0x03);
    set_reg(&rtc, CMOS_RTC_REGISTER_B, CMOS_RTC_B_SET | CMOS_RTC_B_24_HOUR, t);
    set_reg(&rtc, CMOS_RTC_DAY, 0x30, t); /* 30 February */
    set_reg(&rtc, CMOS_RTC_MONTH, 0x02, t);
    set_reg(&rtc, CMOS_RTC_REGISTER_B, CMOS_RTC_B_24_HOUR, t);
    ck_assert_uint_eq(reg(&rtc, CMOS_RTC_MONTH, t + SECOND), 0x03);
    /* One field outside SET: lands at once. 12-hour PM in binary. */
    set_reg(&rtc, CMOS_RTC_REGISTER_B, CMOS_RTC_B_BINARY, t);
    set_reg(&rtc, CMOS_RTC_HOURS, 0x80 | 11, t);
    ck_assert_uint_eq(reg(&rtc, CMOS_RTC_HOURS, t), 0x80 | 11);
    set_reg(&rtc, CMOS_RTC_REGISTER_B, CMOS_RTC_B_BINARY | CMOS_RTC_B_24_HOUR, t);
    ck_assert_uint_eq(reg(&rtc, CMOS_RTC_HOURS, t), 23);
}
END_TEST

START_TEST(registers_and_garbage)
{
    struct cmos_rtc rtc;
    cmos_rtc_init(&rtc, T0);
    set_reg(&rtc, CMOS_RTC_REGISTER_A, 0xFF, T0);
    ck_assert_uint_eq(reg(&rtc, CMOS_RTC_REGISTER_A, T0), 0x7F); /* never UIP */
    set_reg(&rtc, CMOS_RTC_REGISTER_C, 0xFF, T0);
    ck_assert_uint_eq(reg(&rtc, CMOS_RTC_REGISTER_C, T0), 0);
    set_reg(&rtc, CMOS_RTC_REGISTER_D, 0x00, T0);
    ck_assert_uint_eq(reg(&rtc, CMOS_RTC_REGISTER_D, T0), 0x80);
    set_reg(&rtc, CMOS_RTC_WEEKDAY, 3, T0);
    ck_assert_uint_eq(reg(&rtc, CMOS_RTC_WEEKDAY, T0), 7); /* derived */
    /* Alarm and CMOS RAM hold what is written; garbage in BCD fields stays harmless. */
    set_reg(&rtc, 0x01, 0x42, T0);
    ck_assert_uint_eq(reg(&rtc, 0x01, T0), 0x42);
    for (unsigned i = 0x0E; i < 0x80; i++)
        set_reg(&rtc, (uint8_t)i, (uint8_t)i, T0);
    for (unsigned i = 0x0E; i < 0x80; i++)
        ck_assert_uint_eq(reg(&rtc, (uint8_t)i, T0), i);
    set_reg(&rtc, CMOS_RTC_SECONDS, 0xFF, T0); /* not BCD: decodes to 165, refused */
    ck_assert_uint_eq(reg(&rtc, CMOS_RTC_SECONDS, T0), 0x00);
    ck_assert(cmos_rtc_owns_port(0x70));
    ck_assert(cmos_rtc_owns_port(0x71));
    ck_assert(!cmos_rtc_owns_port(0x72));
    cmos_rtc_write(&rtc, 0x72, 0xFF, T0);
    ck_assert_uint_eq(cmos_rtc_read(&rtc, 0x72, T0), 0xFF);
}
END_TEST

Suite *cmos_rtc_suite(void)
{
    Suite *s = suite_create("cmos_rtc");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, date_arithmetic);
    tcase_add_test(tc, the_clock_runs);
    tcase_add_test(tc, setting_the_time);
    tcase_add_test(tc, registers_and_garbage);
    suite_add_tcase(s, tc);
    return s;
}
