/*
 * The heartbeat integration service (57164f39-9115-4e78-ab55-382f3bd5422d; Linux
 * hv_util.c heartbeat_onchannelcallback): the host sends a sequence number, the guest
 * answers it plus one. Once a period the root's tick sends the next request; an answer
 * with the expected number is "child NAME heartbeat ok seq N" (logged at info for the
 * first and after misses, debug otherwise), none within the period or a wrong number is
 * "child NAME heartbeat missed seq N" (warn). Names are ic_heartbeat_* to stay clear of
 * the root's own firmware heartbeat (root/heartbeat.h).
 */
#ifndef HVFW_VSP_HEARTBEAT_H
#define HVFW_VSP_HEARTBEAT_H

#include <stdbool.h>
#include <stdint.h>

#include "vsp/ic.h"

#define IC_HEARTBEAT_PERIOD_MS 1000u

extern const uint8_t ic_heartbeat_type[16];

struct ic_heartbeat {
    struct ic_service service;
    const char *child;
    uint64_t sequence; /* of the request in flight, or the next one */
    uint64_t sent_at_ms;
    uint64_t ok, missed;
    bool healthy; /* the last request was answered correctly */
};

void ic_heartbeat_init(struct ic_heartbeat *heartbeat, const char *child,
                       const uint8_t instance[16]);
/* Call periodically with the root's monotonic milliseconds. */
void ic_heartbeat_tick(struct ic_heartbeat *heartbeat, uint64_t now_ms);

#endif
