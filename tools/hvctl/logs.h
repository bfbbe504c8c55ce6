/*
 * `hvctl logs [--since SEQ] [--follow]`: the appliance's event log (docs/api.md,
 * GET /v1/events) as lines `SEQ UPTIME TYPE SUBJECT [REASON]`; --follow asks again every
 * second for what came after the last one shown.
 */
#ifndef HVFW_TOOLS_HVCTL_LOGS_H
#define HVFW_TOOLS_HVCTL_LOGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "tools/hvctl/args.h"

/* Returns hvctl's exit status. */
int hvctl_logs(const struct hvctl_args *args, const char *known_hosts);

#endif
