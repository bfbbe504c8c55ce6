/*
 * The CMOS real-time clock of a child partition: a Motorola MC146818A as the PC/AT wires
 * it (index port 0x70, data port 0x71; bit 7 of the index is the NMI mask, ignored here),
 * with 128 bytes of CMOS RAM. Linux reads the wall-clock time from it at boot (and, when
 * absent, busy-waits seconds for an update-in-progress flag that never clears), and
 * writes it back when NTP-synchronised.
 *
 * Time is kept as "Unix seconds at a reference instant of the root's monotonic clock";
 * every read converts the current time to the calendar fields in the format register B
 * selects (BCD or binary, 12- or 24-hour). UIP (register A bit 7) is reported during the
 * last 244 µs of each second, as the part does, so readers that wait for it see it clear.
 * Periodic/alarm/update interrupts are not implemented: register B's interrupt-enable
 * bits are stored but no IRQ 8 is raised (the MADT has no HPET/RTC consumer that needs
 * it; documented in docs/ARCHITECTURE.md). Host-testable: no root services.
 */
#ifndef HVFW_ROOT_RTC_H
#define HVFW_ROOT_RTC_H

#include <stdbool.h>
#include <stdint.h>

#define RTC_INDEX_PORT 0x70u
#define RTC_DATA_PORT 0x71u

struct rtc {
    int64_t epoch_seconds;    /* Unix time at reference_ns */
    uint64_t reference_ns;    /* the root clock when epoch_seconds was exact */
    uint8_t index;            /* last value written to port 0x70, bits 6:0 */
    uint8_t register_a, register_b, register_c;
    bool setting;             /* register B SET: the guest is writing the time */
    uint8_t pending[10];      /* time registers written while SET (binary or BCD as written) */
    uint8_t ram[128];         /* CMOS RAM; 0x00-0x0D are the clock's own registers */
};

/* Starts the clock at Unix time `epoch_seconds` at root time `now_ns`; 24-hour BCD format
 * (what PC firmware leaves). */
void rtc_init(struct rtc *rtc, int64_t epoch_seconds, uint64_t now_ns);
bool rtc_owns_port(uint32_t port);
uint8_t rtc_read(struct rtc *rtc, uint32_t port, uint64_t now_ns);
void rtc_write(struct rtc *rtc, uint32_t port, uint8_t value, uint64_t now_ns);

/* Calendar conversions (proleptic Gregorian, UTC), exposed for tests. */
struct rtc_date {
    int year;          /* e.g. 2026 */
    unsigned month;    /* 1-12 */
    unsigned day;      /* 1-31 */
    unsigned hour, minute, second;
    unsigned weekday;  /* 1 = Sunday ... 7 = Saturday, the MC146818 convention */
};
void rtc_date_from_unix(int64_t seconds, struct rtc_date *out);
/* False if a field is out of range (month 13, February 30th, hour 24, ...). */
bool rtc_date_to_unix(const struct rtc_date *date, int64_t *seconds);

#endif
