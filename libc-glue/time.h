/*
 * The root partition's clocks for newlib. There is no real-time clock reading yet, so the
 * time of day counts from boot: gettimeofday() returns seconds since boot, which is what
 * time() and clock() build on. times() reports the elapsed time as the process's user time
 * (the root is the only "process") in CLOCKS_PER_SEC ticks.
 *
 * Implements (declared by newlib <sys/time.h>, <sys/times.h>): gettimeofday, times.
 */
#ifndef HVFW_LIBC_GLUE_TIME_H
#define HVFW_LIBC_GLUE_TIME_H

#include <stdint.h>

/* Nanoseconds since boot, monotonic: the clock behind gettimeofday, times, lwIP's sys_now
 * and the root's own timing. Today it is the hypervisor's calibrated TSC (kernel/tsc.h);
 * root code calls this rather than the kernel, so that only this file changes when the root
 * runs deprivileged and reads time through the partition's reference time source. */
uint64_t libc_uptime_ns(void);

#endif
