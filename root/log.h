/*
 * The root partition's log, on the firmware console through HvCallHvfwConsoleWrite:
 * "[root/vpN] level: message". `loglevel=debug` on the firmware command line enables debug
 * lines here too. root_stop is the root's own broken-invariant tier: report and stop the
 * root (the hypervisor and other partitions run on).
 */
#ifndef HVFW_ROOT_LOG_H
#define HVFW_ROOT_LOG_H

#include <stdbool.h>

extern bool root_log_debug_enabled;

#include "root/log_limit.h"

/* root_log under a budget; `who` names the partition in the suppression line. */
void root_log_limited(struct root_log_limit *limit, const char *who, const char *level,
                      const char *fmt, ...) __attribute__((format(printf, 4, 5)));

void root_log(const char *level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
__attribute__((noreturn, format(printf, 1, 2))) void root_stop(const char *fmt, ...);

#define root_info(...) root_log("info", __VA_ARGS__)
#define root_warn(...) root_log("warn", __VA_ARGS__)
#define root_error(...) root_log("error", __VA_ARGS__)
#define root_debug(...)                                                                    \
    do {                                                                                   \
        if (root_log_debug_enabled)                                                        \
            root_log("debug", __VA_ARGS__);                                                \
    } while (0)

#endif
