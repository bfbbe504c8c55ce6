/*
 * lwIP's port for NO_SYS (lwIP doc/sys_arch.txt): a millisecond clock, random numbers,
 * assertions and diagnostics. lwIP runs in root code, so newlib's vsnprintf may format
 * lwIP's messages (its formats, e.g. "%"U16_F = "%hu", are beyond kernel/format.h).
 */
#include <stdarg.h>
#include <stdio.h>

#include "lwip/opt.h"
#include "lwip/sys.h"

#include "root/log.h"
#include "libc-glue/random.h"
#include "libc-glue/time.h"

/* lwIP compares times with wrap-around arithmetic, so the 32-bit millisecond counter may
 * wrap (every 49.7 days). */
u32_t sys_now(void)
{
    return (u32_t)(libc_uptime_ns() / 1000000);
}

uint32_t lwip_port_rand(void)
{
    return random_weak_u32();
}

void lwip_port_assert(const char *message, const char *file, int line)
{
    root_stop("lwip: assertion \"%s\" failed at %s:%d", message, file, line);
}

void lwip_port_diag(const char *fmt, ...)
{
    char text[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    size_t len = (size_t)n < sizeof(text) ? (size_t)n : sizeof(text) - 1;
    /* LWIP_DEBUGF messages carry their own newline; the log adds one. */
    while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == '\r'))
        text[--len] = '\0';
    if (len > 0)
        root_debug("lwip: %s", text);
}
