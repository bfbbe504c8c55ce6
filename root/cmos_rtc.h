/*
 * The CMOS real-time clock of a child partition: a Motorola MC146818A at index port 0x70
 * and data port 0x71 (MC146818A data sheet, "Address Map"; the PC's CMOS layout).
 *
 * Why a clock and not an absent device: Linux reads the wall clock from the CMOS RTC at
 * boot whatever the FADT says (it only skips the RTC *device*), and an absent chip reads
 * as all ones, i.e. "update in progress" forever: Linux then polls register A for a second
 * of guest time, ~20000 port intercepts, ~15 s of wall time under QEMU TCG, before it
 * gives up. This model answers at once.
 *
 *   0x00 0x02 0x04  seconds, minutes, hours     the clock (binary or BCD, 12 or 24 hours
 *   0x06 0x07 0x08  weekday (1 = Sunday), day,   as register B says)
 *   0x09            month, year (00-99 of 20xx)
 *   0x01 0x03 0x05  the alarm                    kept, never fires
 *   0x0A  register A  UIP (bit 7) always 0; divider and rate (6:0) kept, 0x26 at reset
 *   0x0B  register B  SET (7) stops the clock while software writes it; DM (2) binary;
 *                     24/12 (1); interrupt enables kept but no interrupt is ever raised
 *   0x0C  register C  flags: always 0 (no interrupt source runs)
 *   0x0D  register D  VRT (bit 7): the time is valid
 *   0x0E-0x7F         CMOS RAM, zero at the child's start
 * Bit 7 of the index is the PC's NMI mask: ignored. Port 0x70 reads as all ones.
 *
 * The clock starts at 2000-01-01 00:00:00 when the child starts (the root has no wall
 * clock yet) and runs on the root's monotonic clock; a time the child writes (under SET)
 * replaces it. Pure and host-testable: the caller passes the time.
 */
#ifndef HVFW_ROOT_CMOS_RTC_H
#define HVFW_ROOT_CMOS_RTC_H

#include <stdbool.h>
#include <stdint.h>

#define CMOS_RTC_INDEX_PORT 0x70u
#define CMOS_RTC_DATA_PORT 0x71u
#define CMOS_RTC_REGISTERS 128u

#define CMOS_RTC_SECONDS 0x00u
#define CMOS_RTC_MINUTES 0x02u
#define CMOS_RTC_HOURS 0x04u
#define CMOS_RTC_WEEKDAY 0x06u
#define CMOS_RTC_DAY 0x07u
#define CMOS_RTC_MONTH 0x08u
#define CMOS_RTC_YEAR 0x09u
#define CMOS_RTC_REGISTER_A 0x0Au
#define CMOS_RTC_REGISTER_B 0x0Bu
#define CMOS_RTC_REGISTER_C 0x0Cu
#define CMOS_RTC_REGISTER_D 0x0Du

#define CMOS_RTC_A_UIP 0x80u
#define CMOS_RTC_B_SET 0x80u
#define CMOS_RTC_B_BINARY 0x04u
#define CMOS_RTC_B_24_HOUR 0x02u
#define CMOS_RTC_D_VALID 0x80u

struct cmos_rtc {
    uint8_t index;
    uint8_t ram[CMOS_RTC_REGISTERS]; /* alarm, A, B and CMOS RAM (the clock is computed) */
    uint64_t base_seconds;  /* seconds since 2000-01-01 at root time base_ns */
    uint64_t base_ns;
    uint8_t set_time[6];    /* under SET: seconds .. year as written, binary 24-hour */
};

void cmos_rtc_init(struct cmos_rtc *rtc, uint64_t now_ns);
/* True for 0x70 and 0x71. */
bool cmos_rtc_owns_port(uint32_t port);
/* Byte accesses (wider ones are split by the caller). */
uint8_t cmos_rtc_read(struct cmos_rtc *rtc, uint32_t port, uint64_t now_ns);
void cmos_rtc_write(struct cmos_rtc *rtc, uint32_t port, uint8_t value, uint64_t now_ns);

/* Days since 2000-01-01 of a date in 2000-2099 (month 1-12, day 1-31), and back. */
uint32_t cmos_rtc_days(unsigned year, unsigned month, unsigned day);
void cmos_rtc_date(uint32_t days, unsigned *year, unsigned *month, unsigned *day);

#endif
