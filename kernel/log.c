#include "kernel/log.h"

#include <string.h>

#include "kernel/format.h"
#include "kernel/percpu.h"
#include "kernel/serial.h"
#include "kernel/spinlock.h"

static struct spinlock console_lock = SPINLOCK_INIT;
static enum log_level current_level = LOG_INFO;

static const char *const level_names[] = {
    [LOG_ERROR] = "error",
    [LOG_WARN] = "warn",
    [LOG_INFO] = "info",
    [LOG_DEBUG] = "debug",
};

void log_set_level(enum log_level level)
{
    current_level = level;
}

enum log_level log_get_level(void)
{
    return current_level;
}

bool log_parse_level(const char *name, enum log_level *out)
{
    for (int i = LOG_ERROR; i <= LOG_DEBUG; i++) {
        if (strcmp(name, level_names[i]) == 0 || (name[0] == '0' + i && name[1] == '\0')) {
            *out = (enum log_level)i;
            return true;
        }
    }
    return false;
}

void console_write(const char *s, size_t len)
{
    uint64_t flags = spin_lock_irqsave(&console_lock);
    serial_write(s, len);
    spin_unlock_irqrestore(&console_lock, flags);
}

void log_vwrite(enum log_level level, const char *fmt, va_list ap)
{
    if (level > current_level)
        return;
    char line[320];
    int n = format_snprintf(line, sizeof(line), "[cpu%u] %s: ", this_cpu_index(),
                            level_names[level]);
    size_t used = (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1;
    int m = format_vsnprintf(line + used, sizeof(line) - used, fmt, ap);
    size_t len = used + (size_t)m;
    if (len > sizeof(line) - 2)
        len = sizeof(line) - 2; /* truncated: keep room for the newline */
    line[len++] = '\n';
    console_write(line, len);
}

void log_write(enum log_level level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_vwrite(level, fmt, ap);
    va_end(ap);
}

void console_printf(const char *fmt, ...)
{
    char line[320];
    va_list ap;
    va_start(ap, fmt);
    int n = format_vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    size_t len = (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1;
    console_write(line, len);
}
