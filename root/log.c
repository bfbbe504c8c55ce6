#include "root/log.h"

#include <stdarg.h>
#include <stdio.h>

#include "root/cpu.h"
#include "root/hvcall.h"
#include "root/platform.h"

bool root_log_debug_enabled;

static void vlog(const char *level, const char *fmt, va_list ap)
{
    char line[320];
    int n = snprintf(line, sizeof(line), "[root/vp%u] %s: ", root_vp_index(), level);
    if (n < 0)
        return;
    size_t used = (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1;
    int m = vsnprintf(line + used, sizeof(line) - used, fmt, ap);
    size_t length = used + (m > 0 ? (size_t)m : 0);
    if (length > sizeof(line) - 2)
        length = sizeof(line) - 2;
    line[length++] = '\n';
    hvcall_console_write(line, length);
}

void root_log(const char *level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vlog(level, fmt, ap);
    va_end(ap);
}

void root_log_limited(struct root_log_limit *limit, const char *who, const char *level,
                      const char *fmt, ...)
{
    char text[288];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    uint32_t held_back;
    if (!root_log_limit_allow(limit, text, root_time_ns(), &held_back))
        return;
    if (held_back)
        root_log("warn", "%s: %u repeated lines held back (more than %u of a kind in %u s)",
                 who, held_back, ROOT_LOG_LIMIT_PER_KIND, ROOT_LOG_LIMIT_SECONDS);
    root_log(level, "%s", text);
}

void root_stop(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vlog("FATAL", fmt, ap);
    va_end(ap);
    hvcall_root_stop(1);
}
