/* newlib's clock calls; see time.h. */
#include "libc-glue/time.h"

#include <sys/time.h>
#include <sys/times.h>
#include <time.h>

#include "root/platform.h"

#define NS_PER_SEC 1000000000ull

uint64_t libc_uptime_ns(void)
{
    return root_time_ns();
}

int gettimeofday(struct timeval *tv, void *tz)
{
    /* A struct timezone is obsolete (POSIX leaves it unspecified): report UTC if asked. */
    if (tz)
        *(struct timezone *)tz = (struct timezone){0, 0};
    if (tv) {
        uint64_t ns = libc_uptime_ns();
        tv->tv_sec = (time_t)(ns / NS_PER_SEC);
        tv->tv_usec = (suseconds_t)(ns % NS_PER_SEC / 1000);
    }
    return 0;
}

clock_t times(struct tms *buffer)
{
    uint64_t ticks = libc_uptime_ns() / (NS_PER_SEC / CLOCKS_PER_SEC);
    if (buffer)
        *buffer = (struct tms){.tms_utime = (clock_t)ticks};
    return (clock_t)ticks;
}
