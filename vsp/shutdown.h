/*
 * The shutdown integration service (0e0b6031-5213-4934-818b-38d90ced39db; Linux
 * hv_util.c shutdown_onchannelcallback): the root asks a child to power off (or restart)
 * gracefully; Linux answers S_OK and runs orderly_poweroff, which ends in ACPI S5 (the
 * child's PM1a control register, root/pm.c). The request body must be the whole 2060-byte
 * shutdown_msg_data: Linux drops a shorter one.
 *
 * A request made before the child's hv_utils has negotiated waits and goes out as soon as
 * the service is ready.
 */
#ifndef HVFW_VSP_SHUTDOWN_H
#define HVFW_VSP_SHUTDOWN_H

#include <stdbool.h>
#include <stdint.h>

#include "vsp/ic.h"

extern const uint8_t ic_shutdown_type[16];

enum ic_shutdown_result {
    IC_SHUTDOWN_NONE,     /* nothing asked */
    IC_SHUTDOWN_WAITING,  /* asked; not sent yet (service not ready or ring full) */
    IC_SHUTDOWN_SENT,
    IC_SHUTDOWN_ACCEPTED, /* the child is shutting down */
    IC_SHUTDOWN_REFUSED,
};

struct ic_shutdown {
    struct ic_service service;
    const char *child;
    bool restart;
    enum ic_shutdown_result result;
};

void ic_shutdown_init(struct ic_shutdown *shutdown, const char *child,
                      const uint8_t instance[16]);
/* Asks the child to power off (`restart` false) or restart; false if a request is
 * already under way. */
bool ic_shutdown_request(struct ic_shutdown *shutdown, bool restart);
/* Retries a waiting request; call periodically. */
void ic_shutdown_tick(struct ic_shutdown *shutdown);

#endif
