#include "root/wallclock.h"

#include "kernel/x86.h"
#include "root/log.h"
#include "root/platform.h"
#include "root/rtc.h"

#define FALLBACK_EPOCH 1767225600ll /* 2026-01-01 00:00:00 UTC */
#define NS_PER_SECOND 1000000000ull
/* The update cycle lasts under 2 ms (MC146818A datasheet); allow far more reads. */
#define UIP_POLL_LIMIT 100000u

static int64_t epoch_seconds = FALLBACK_EPOCH;
static uint64_t epoch_ns;

static uint8_t cmos_read(uint8_t index)
{
    outb(RTC_INDEX_PORT, index);
    return inb(RTC_DATA_PORT);
}

static bool from_bcd(uint8_t value, bool binary, unsigned *out)
{
    if (binary) {
        *out = value;
        return true;
    }
    if ((value & 0xF) > 9 || (value >> 4) > 9)
        return false;
    *out = (value >> 4) * 10u + (value & 0xFu);
    return true;
}

struct raw_time {
    uint8_t second, minute, hour, day, month, year, century;
};

/* One consistent snapshot: wait until no update is in progress, read, and repeat until
 * two reads agree (the update could start between the check and the reads). */
static bool read_snapshot(struct raw_time *out)
{
    for (unsigned attempt = 0; attempt < 5; attempt++) {
        unsigned polls = 0;
        while (cmos_read(0x0A) & 0x80)
            if (++polls == UIP_POLL_LIMIT)
                return false;
        struct raw_time a = {cmos_read(0x00), cmos_read(0x02), cmos_read(0x04), cmos_read(0x07),
                             cmos_read(0x08), cmos_read(0x09), cmos_read(0x32)};
        struct raw_time b = {cmos_read(0x00), cmos_read(0x02), cmos_read(0x04), cmos_read(0x07),
                             cmos_read(0x08), cmos_read(0x09), cmos_read(0x32)};
        if (a.second == b.second && a.minute == b.minute && a.hour == b.hour &&
            a.day == b.day && a.month == b.month && a.year == b.year) {
            *out = a;
            return true;
        }
    }
    return false;
}

static bool read_hardware(int64_t *seconds)
{
    struct raw_time raw;
    if (!read_snapshot(&raw))
        return false;
    uint8_t status_b = cmos_read(0x0B);
    bool binary = status_b & 0x04, twelve_hour = !(status_b & 0x02);
    bool pm = twelve_hour && (raw.hour & 0x80);
    unsigned second, minute, hour, day, month, year, century;
    if (!from_bcd(raw.second, binary, &second) || !from_bcd(raw.minute, binary, &minute) ||
        !from_bcd(raw.hour & 0x7F, binary, &hour) || !from_bcd(raw.day, binary, &day) ||
        !from_bcd(raw.month, binary, &month) || !from_bcd(raw.year, binary, &year))
        return false;
    if (twelve_hour)
        hour = hour % 12 + (pm ? 12 : 0);
    /* Register 0x32 is the PC convention for the century; without it, 20xx. */
    if (!from_bcd(raw.century, binary, &century) || century < 19 || century > 21)
        century = 20;
    struct rtc_date date = {.year = (int)(century * 100 + year), .month = month, .day = day,
                            .hour = hour, .minute = minute, .second = second};
    return rtc_date_to_unix(&date, seconds);
}

bool wallclock_init(void)
{
    int64_t seconds;
    epoch_ns = root_time_ns();
    if (!read_hardware(&seconds)) {
        root_warn("wallclock: the hardware clock could not be read; starting at 2026-01-01");
        epoch_seconds = FALLBACK_EPOCH;
        return false;
    }
    epoch_seconds = seconds;
    struct rtc_date date;
    rtc_date_from_unix(seconds, &date);
    root_info("wallclock: %04d-%02u-%02u %02u:%02u:%02u UTC from the hardware clock", date.year,
              date.month, date.day, date.hour, date.minute, date.second);
    return true;
}

int64_t wallclock_now(void)
{
    return epoch_seconds + (int64_t)((root_time_ns() - epoch_ns) / NS_PER_SECOND);
}
