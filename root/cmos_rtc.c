#include "root/cmos_rtc.h"

#include <string.h>

#define NS_PER_SECOND 1000000000ull
#define SECONDS_PER_DAY 86400ull
#define DAYS_IN_CENTURY 36525u /* 2000-2099: every fourth year is a leap year, 2000 too */
#define REGISTER_A_RESET 0x26u /* 32.768 kHz time base, 1024 Hz rate: what BIOSes set */
/* 2000-01-01 was a Saturday: weekday 7 with Sunday = 1. */
#define EPOCH_WEEKDAY 7u

static const uint8_t days_in_month[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

static bool leap(unsigned year)
{
    return year % 4 == 0; /* 2000-2099 */
}

uint32_t cmos_rtc_days(unsigned year, unsigned month, unsigned day)
{
    uint32_t days = (year - 2000) * 365 + (year - 2000 + 3) / 4;
    for (unsigned m = 1; m < month; m++)
        days += days_in_month[m - 1] + (m == 2 && leap(year));
    return days + day - 1;
}

void cmos_rtc_date(uint32_t days, unsigned *year, unsigned *month, unsigned *day)
{
    days %= DAYS_IN_CENTURY; /* the chip's two year digits wrap after 2099 */
    unsigned y = 2000;
    while (days >= 365u + leap(y)) {
        days -= 365u + leap(y);
        y++;
    }
    unsigned m = 1;
    while (days >= days_in_month[m - 1] + (unsigned)(m == 2 && leap(y))) {
        days -= days_in_month[m - 1] + (m == 2 && leap(y));
        m++;
    }
    *year = y;
    *month = m;
    *day = days + 1;
}

void cmos_rtc_init(struct cmos_rtc *rtc, uint64_t now_ns)
{
    memset(rtc, 0, sizeof(*rtc));
    rtc->ram[CMOS_RTC_REGISTER_A] = REGISTER_A_RESET;
    rtc->ram[CMOS_RTC_REGISTER_B] = CMOS_RTC_B_24_HOUR;
    rtc->base_ns = now_ns;
}

bool cmos_rtc_owns_port(uint32_t port)
{
    return port == CMOS_RTC_INDEX_PORT || port == CMOS_RTC_DATA_PORT;
}

static uint64_t seconds_now(const struct cmos_rtc *rtc, uint64_t now_ns)
{
    uint64_t elapsed = now_ns > rtc->base_ns ? now_ns - rtc->base_ns : 0;
    return rtc->base_seconds + elapsed / NS_PER_SECOND;
}

/* The six clock fields (binary, 24-hour): seconds, minutes, hours, day, month, year 0-99. */
static void clock_fields(const struct cmos_rtc *rtc, uint64_t now_ns, uint8_t field[6])
{
    if (rtc->ram[CMOS_RTC_REGISTER_B] & CMOS_RTC_B_SET) {
        memcpy(field, rtc->set_time, 6); /* the clock is stopped while software sets it */
        return;
    }
    uint64_t s = seconds_now(rtc, now_ns);
    unsigned year, month, day;
    cmos_rtc_date((uint32_t)(s / SECONDS_PER_DAY % DAYS_IN_CENTURY), &year, &month, &day);
    uint64_t in_day = s % SECONDS_PER_DAY;
    field[0] = (uint8_t)(in_day % 60);
    field[1] = (uint8_t)(in_day / 60 % 60);
    field[2] = (uint8_t)(in_day / 3600);
    field[3] = (uint8_t)day;
    field[4] = (uint8_t)month;
    field[5] = (uint8_t)(year - 2000);
}

static uint8_t to_bcd(uint8_t v)
{
    return (uint8_t)((v / 10) << 4 | (v % 10));
}

static uint8_t from_bcd(uint8_t v)
{
    return (uint8_t)((v >> 4) * 10 + (v & 0x0F));
}

/* A field as register B formats it: BCD unless DM, hours in 12-hour form (bit 7 = PM)
 * unless 24/12. */
static uint8_t encode(const struct cmos_rtc *rtc, uint8_t value, bool hours)
{
    uint8_t b = rtc->ram[CMOS_RTC_REGISTER_B];
    uint8_t pm = 0;
    if (hours && !(b & CMOS_RTC_B_24_HOUR)) {
        pm = value >= 12 ? 0x80 : 0;
        value = (uint8_t)(value % 12 == 0 ? 12 : value % 12);
    }
    return (uint8_t)(((b & CMOS_RTC_B_BINARY) ? value : to_bcd(value)) | pm);
}

static uint8_t decode(const struct cmos_rtc *rtc, uint8_t raw, bool hours)
{
    uint8_t b = rtc->ram[CMOS_RTC_REGISTER_B];
    bool pm = hours && !(b & CMOS_RTC_B_24_HOUR) && (raw & 0x80);
    if (hours && !(b & CMOS_RTC_B_24_HOUR))
        raw &= 0x7F;
    uint8_t value = (b & CMOS_RTC_B_BINARY) ? raw : from_bcd(raw);
    if (hours && !(b & CMOS_RTC_B_24_HOUR))
        value = (uint8_t)(value % 12 + (pm ? 12 : 0));
    return value;
}

/* Register index -> clock field (0..5), or -1. */
static int clock_field(uint8_t index)
{
    switch (index) {
    case CMOS_RTC_SECONDS: return 0;
    case CMOS_RTC_MINUTES: return 1;
    case CMOS_RTC_HOURS: return 2;
    case CMOS_RTC_DAY: return 3;
    case CMOS_RTC_MONTH: return 4;
    case CMOS_RTC_YEAR: return 5;
    default: return -1;
    }
}

uint8_t cmos_rtc_read(struct cmos_rtc *rtc, uint32_t port, uint64_t now_ns)
{
    if (port != CMOS_RTC_DATA_PORT)
        return 0xFF;
    uint8_t index = rtc->index;
    uint8_t field[6];
    int f = clock_field(index);
    if (f >= 0) {
        clock_fields(rtc, now_ns, field);
        return encode(rtc, field[f], index == CMOS_RTC_HOURS);
    }
    switch (index) {
    case CMOS_RTC_WEEKDAY: {
        clock_fields(rtc, now_ns, field);
        uint32_t days = cmos_rtc_days(2000u + field[5], field[4], field[3]);
        return encode(rtc, (uint8_t)((days + EPOCH_WEEKDAY - 1) % 7 + 1), false);
    }
    case CMOS_RTC_REGISTER_A:
        return rtc->ram[index] & (uint8_t)~CMOS_RTC_A_UIP;
    case CMOS_RTC_REGISTER_C:
        return 0;
    case CMOS_RTC_REGISTER_D:
        return CMOS_RTC_D_VALID;
    default:
        return rtc->ram[index];
    }
}

/* Clearing SET starts the clock from the time written under it, if it is a valid date
 * (an invalid one keeps the old time: the chip's behaviour is undefined there). */
static void start_clock(struct cmos_rtc *rtc, uint64_t now_ns)
{
    const uint8_t *t = rtc->set_time;
    unsigned year = 2000u + t[5];
    bool valid = t[0] < 60 && t[1] < 60 && t[2] < 24 && t[5] < 100 && t[4] >= 1 &&
                 t[4] <= 12 && t[3] >= 1 &&
                 t[3] <= days_in_month[t[4] - 1] + (t[4] == 2 && leap(year));
    if (!valid)
        return;
    rtc->base_seconds = cmos_rtc_days(year, t[4], t[3]) * SECONDS_PER_DAY +
                        t[2] * 3600ull + t[1] * 60ull + t[0];
    rtc->base_ns = now_ns;
}

void cmos_rtc_write(struct cmos_rtc *rtc, uint32_t port, uint8_t value, uint64_t now_ns)
{
    if (port == CMOS_RTC_INDEX_PORT) {
        rtc->index = value & 0x7F; /* bit 7 masks NMI on a PC: nothing here */
        return;
    }
    if (port != CMOS_RTC_DATA_PORT)
        return;
    uint8_t index = rtc->index;
    int f = clock_field(index);
    if (f >= 0) {
        /* Outside SET the write lands at once: stop, change one field, restart. */
        bool set = rtc->ram[CMOS_RTC_REGISTER_B] & CMOS_RTC_B_SET;
        if (!set)
            clock_fields(rtc, now_ns, rtc->set_time);
        rtc->set_time[f] = decode(rtc, value, index == CMOS_RTC_HOURS);
        if (!set)
            start_clock(rtc, now_ns);
        return;
    }
    switch (index) {
    case CMOS_RTC_WEEKDAY: /* derived from the date */
    case CMOS_RTC_REGISTER_C:
    case CMOS_RTC_REGISTER_D:
        return; /* read-only */
    case CMOS_RTC_REGISTER_A:
        rtc->ram[index] = value & (uint8_t)~CMOS_RTC_A_UIP;
        return;
    case CMOS_RTC_REGISTER_B: {
        bool was_set = rtc->ram[index] & CMOS_RTC_B_SET;
        if (!was_set && (value & CMOS_RTC_B_SET))
            clock_fields(rtc, now_ns, rtc->set_time); /* freeze the current time */
        rtc->ram[index] = value;
        if (was_set && !(value & CMOS_RTC_B_SET))
            start_clock(rtc, now_ns);
        return;
    }
    default:
        rtc->ram[index] = value;
        return;
    }
}
