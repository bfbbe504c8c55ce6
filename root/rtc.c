#include "root/rtc.h"

#include <string.h>

/* Register numbers and bits: MC146818A datasheet, "Address Map" and registers A-D. */
enum {
    REG_SECONDS = 0x00,
    REG_MINUTES = 0x02,
    REG_HOURS = 0x04,
    REG_WEEKDAY = 0x06,
    REG_DAY = 0x07,
    REG_MONTH = 0x08,
    REG_YEAR = 0x09,
    REG_A = 0x0A,
    REG_B = 0x0B,
    REG_C = 0x0C,
    REG_D = 0x0D,
    REG_CENTURY = 0x32, /* the ACPI FADT's default CENTURY index on PCs */
};
#define A_UIP 0x80u
#define B_SET 0x80u
#define B_BINARY 0x04u
#define B_24_HOUR 0x02u
#define D_VALID_RAM 0x80u
#define HOURS_PM 0x80u
#define NS_PER_SECOND 1000000000ull
/* UIP is set 244 µs before the update (datasheet, "Update Cycle"). */
#define UIP_WINDOW_NS 244000ull

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* Days since 1970-01-01 of a civil date (H. Hinnant's "days_from_civil" algorithm). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = floor_div(y, 400);
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static bool leap_year(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static unsigned days_in_month(int64_t y, unsigned m)
{
    static const unsigned days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && leap_year(y) ? 29 : days[m - 1];
}

void rtc_date_from_unix(int64_t seconds, struct rtc_date *out)
{
    int64_t days = floor_div(seconds, 86400);
    int64_t rest = seconds - days * 86400;
    out->hour = (unsigned)(rest / 3600);
    out->minute = (unsigned)(rest / 60 % 60);
    out->second = (unsigned)(rest % 60);
    out->weekday = (unsigned)(((days % 7) + 7 + 4) % 7) + 1; /* 1970-01-01 was a Thursday (5) */
    /* civil_from_days (the inverse of days_from_civil). */
    int64_t z = days + 719468;
    int64_t era = floor_div(z, 146097);
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    out->day = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
    out->month = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
    out->year = (int)(yoe + era * 400 + (out->month <= 2));
}

bool rtc_date_to_unix(const struct rtc_date *date, int64_t *seconds)
{
    if (date->month < 1 || date->month > 12 || date->day < 1 ||
        date->day > days_in_month(date->year, date->month) || date->hour > 23 ||
        date->minute > 59 || date->second > 59)
        return false;
    *seconds = days_from_civil(date->year, date->month, date->day) * 86400 +
               (int64_t)date->hour * 3600 + date->minute * 60 + date->second;
    return true;
}

void rtc_init(struct rtc *rtc, int64_t epoch_seconds, uint64_t now_ns)
{
    memset(rtc, 0, sizeof(*rtc));
    rtc->epoch_seconds = epoch_seconds;
    rtc->reference_ns = now_ns;
    rtc->register_a = 0x26; /* 32.768 kHz time base, 1.024 kHz periodic rate: the PC default */
    rtc->register_b = B_24_HOUR;
}

bool rtc_owns_port(uint32_t port)
{
    return port == RTC_INDEX_PORT || port == RTC_DATA_PORT;
}

static uint8_t to_format(const struct rtc *rtc, unsigned value)
{
    return (uint8_t)((rtc->register_b & B_BINARY) ? value : ((value / 10) << 4) | (value % 10));
}

/* A written field back to binary; false if it is not a valid encoding. */
static bool from_format(const struct rtc *rtc, uint8_t value, unsigned *out)
{
    if (rtc->register_b & B_BINARY) {
        *out = value;
        return true;
    }
    if ((value & 0xF) > 9 || (value >> 4) > 9)
        return false;
    *out = (value >> 4) * 10u + (value & 0xFu);
    return true;
}

static int64_t now_seconds(const struct rtc *rtc, uint64_t now_ns, uint64_t *fraction_ns)
{
    uint64_t elapsed = now_ns >= rtc->reference_ns ? now_ns - rtc->reference_ns : 0;
    if (fraction_ns)
        *fraction_ns = elapsed % NS_PER_SECOND;
    return rtc->epoch_seconds + (int64_t)(elapsed / NS_PER_SECOND);
}

static uint8_t hours_field(const struct rtc *rtc, unsigned hour)
{
    if (rtc->register_b & B_24_HOUR)
        return to_format(rtc, hour);
    unsigned twelve = hour % 12 == 0 ? 12 : hour % 12;
    return (uint8_t)(to_format(rtc, twelve) | (hour >= 12 ? HOURS_PM : 0));
}

static uint8_t time_register(const struct rtc *rtc, uint8_t index, uint64_t now_ns)
{
    if (rtc->setting && index <= REG_YEAR)
        return rtc->pending[index];
    struct rtc_date date;
    rtc_date_from_unix(now_seconds(rtc, now_ns, NULL), &date);
    switch (index) {
    case REG_SECONDS:
        return to_format(rtc, date.second);
    case REG_MINUTES:
        return to_format(rtc, date.minute);
    case REG_HOURS:
        return hours_field(rtc, date.hour);
    case REG_WEEKDAY:
        return to_format(rtc, date.weekday);
    case REG_DAY:
        return to_format(rtc, date.day);
    case REG_MONTH:
        return to_format(rtc, date.month);
    case REG_YEAR:
        return to_format(rtc, (unsigned)(date.year % 100));
    case REG_CENTURY:
        return to_format(rtc, (unsigned)(date.year / 100));
    default:
        return rtc->ram[index]; /* the alarm registers 1, 3, 5 */
    }
}

/* Register B's SET cleared: the fields written while it was set become the time. A date
 * that does not exist leaves the clock as it was. */
static void commit_time(struct rtc *rtc, uint64_t now_ns)
{
    struct rtc_date date;
    rtc_date_from_unix(now_seconds(rtc, now_ns, NULL), &date);
    unsigned second, minute, hour, day, month, year;
    uint8_t hours = rtc->pending[REG_HOURS];
    bool pm = !(rtc->register_b & B_24_HOUR) && (hours & HOURS_PM);
    if (!(rtc->register_b & B_24_HOUR))
        hours &= (uint8_t)~HOURS_PM;
    if (!from_format(rtc, rtc->pending[REG_SECONDS], &second) ||
        !from_format(rtc, rtc->pending[REG_MINUTES], &minute) ||
        !from_format(rtc, hours, &hour) || !from_format(rtc, rtc->pending[REG_DAY], &day) ||
        !from_format(rtc, rtc->pending[REG_MONTH], &month) ||
        !from_format(rtc, rtc->pending[REG_YEAR], &year))
        return;
    if (!(rtc->register_b & B_24_HOUR)) {
        if (hour < 1 || hour > 12)
            return;
        hour = hour % 12 + (pm ? 12 : 0);
    }
    /* The century register, if the guest wrote one (Linux does only when the FADT names
     * it), else the current century. */
    unsigned century = (unsigned)(date.year / 100);
    if (rtc->ram[REG_CENTURY] != 0 && !from_format(rtc, rtc->ram[REG_CENTURY], &century))
        return;
    struct rtc_date set = {.year = (int)(century * 100 + year), .month = month, .day = day,
                           .hour = hour, .minute = minute, .second = second};
    int64_t seconds;
    if (!rtc_date_to_unix(&set, &seconds))
        return;
    rtc->epoch_seconds = seconds;
    rtc->reference_ns = now_ns;
}

uint8_t rtc_read(struct rtc *rtc, uint32_t port, uint64_t now_ns)
{
    if (port == RTC_INDEX_PORT)
        return 0xFF; /* write-only on the PC/AT */
    uint8_t index = rtc->index;
    switch (index) {
    case REG_A: {
        uint64_t fraction;
        now_seconds(rtc, now_ns, &fraction);
        bool uip = !rtc->setting && fraction >= NS_PER_SECOND - UIP_WINDOW_NS;
        return (uint8_t)((rtc->register_a & 0x7F) | (uip ? A_UIP : 0));
    }
    case REG_B:
        return rtc->register_b;
    case REG_C: {
        uint8_t flags = rtc->register_c; /* reading clears the flags */
        rtc->register_c = 0;
        return flags;
    }
    case REG_D:
        return D_VALID_RAM; /* the battery is fine */
    case REG_SECONDS:
    case REG_MINUTES:
    case REG_HOURS:
    case REG_WEEKDAY:
    case REG_DAY:
    case REG_MONTH:
    case REG_YEAR:
    case REG_CENTURY:
        return time_register(rtc, index, now_ns);
    default:
        return rtc->ram[index];
    }
}

void rtc_write(struct rtc *rtc, uint32_t port, uint8_t value, uint64_t now_ns)
{
    if (port == RTC_INDEX_PORT) {
        rtc->index = value & 0x7F; /* bit 7: NMI mask, not emulated */
        return;
    }
    uint8_t index = rtc->index;
    switch (index) {
    case REG_A:
        rtc->register_a = value & 0x7F; /* UIP is read-only */
        break;
    case REG_B:
        if ((value & B_SET) && !rtc->setting) {
            /* Freeze the current time in the new format so partial updates keep the rest. */
            rtc->register_b = value;
            for (uint8_t i = 0; i <= REG_YEAR; i++)
                rtc->pending[i] = time_register(rtc, i, now_ns);
            rtc->setting = true;
        } else if (!(value & B_SET) && rtc->setting) {
            rtc->register_b = value;
            commit_time(rtc, now_ns);
            rtc->setting = false;
        } else {
            rtc->register_b = value;
        }
        break;
    case REG_C:
    case REG_D:
        break; /* read-only */
    case REG_SECONDS:
    case REG_MINUTES:
    case REG_HOURS:
    case REG_WEEKDAY:
    case REG_DAY:
    case REG_MONTH:
    case REG_YEAR:
        if (rtc->setting)
            rtc->pending[index] = value;
        break; /* a write outside SET would race the update: the part ignores it too */
    default:
        rtc->ram[index] = value;
        break;
    }
}
