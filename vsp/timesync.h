/*
 * The time synchronization integration service (9527e630-d0ae-497b-adce-e80ab0175caf;
 * Linux hv_util.c timesync_onchannelcallback, adj_guesttime): samples of the host's wall
 * clock in 100 ns units since 1601-01-01 UTC. The first sample after the service is ready
 * carries SYNC (Linux sets its clock from it), the later ones every
 * IC_TIMESYNC_PERIOD_MS carry SAMPLE (Linux feeds its hv_ptp clock).
 *
 * Version 4 messages also carry the child's reference counter (TIME_REF_COUNT) at the
 * instant of the sample, so the child corrects for the message's delay; it is offered only
 * when the clock gives a reference reading. Versions 3.0 and 1.0 carry the sample alone.
 * The clock is the caller's (function pointers), e.g. the root's wall clock
 * (root/wallclock.h) converted to the 1601 epoch.
 */
#ifndef HVFW_VSP_TIMESYNC_H
#define HVFW_VSP_TIMESYNC_H

#include <stdbool.h>
#include <stdint.h>

#include "vsp/ic.h"

#define IC_TIMESYNC_PERIOD_MS 5000u
#define IC_TIMESYNC_FLAG_SYNC 1u
#define IC_TIMESYNC_FLAG_SAMPLE 2u
/* Seconds from 1601-01-01 to 1970-01-01 (the Windows FILETIME and Unix epochs). */
#define IC_TIMESYNC_UNIX_EPOCH_SECONDS 11644473600ull

extern const uint8_t ic_timesync_type[16];

struct ic_timesync_clock {
    void *context;
    /* Wall-clock time now, 100 ns units since 1601-01-01 UTC. */
    uint64_t (*host_time)(void *context);
    /* The child's reference counter now (100 ns units), or NULL: no version 4. */
    uint64_t (*reference_time)(void *context);
};

struct ic_timesync {
    struct ic_service service;
    struct ic_timesync_clock clock;
    const char *child;
    bool synced;       /* a SYNC sample was answered */
    bool sent_sync;    /* the request in flight is the SYNC one */
    uint64_t sent_at_ms;
    uint64_t samples;  /* answered samples */
};

void ic_timesync_init(struct ic_timesync *timesync, const char *child,
                      const uint8_t instance[16], const struct ic_timesync_clock *clock);
/* Call periodically with the root's monotonic milliseconds. */
void ic_timesync_tick(struct ic_timesync *timesync, uint64_t now_ms);

#endif
