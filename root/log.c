#include "root/log.h"

#include <stdarg.h>
#include <stdio.h>

#include "root/cpu.h"
#include "root/hvcall.h"

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

void root_stop(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vlog("FATAL", fmt, ap);
    va_end(ap);
    hvcall_root_stop(1);
}
