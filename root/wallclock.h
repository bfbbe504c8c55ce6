/*
 * The appliance's wall-clock time, for the clocks children see (their CMOS RTC,
 * root/rtc.h) and for logs. Read once from the machine's own MC146818-compatible RTC
 * (the root owns the platform devices), then carried forward by the root's monotonic
 * clock. Time sync over the network (NTP) is later work.
 */
#ifndef HVFW_ROOT_WALLCLOCK_H
#define HVFW_ROOT_WALLCLOCK_H

#include <stdbool.h>
#include <stdint.h>

/* Reads the hardware clock; false (and a warning) if it cannot be read or holds an
 * impossible date, in which case the clock starts at 2026-01-01 00:00:00 UTC. */
bool wallclock_init(void);
/* Unix seconds now. */
int64_t wallclock_now(void);

#endif
