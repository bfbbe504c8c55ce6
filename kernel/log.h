/*
 * The hypervisor log on the console: one line per call, prefixed with the CPU and level,
 * serialized across CPUs. `loglevel=error|warn|info|debug` on the command line sets the
 * threshold (default info).
 */
#ifndef HVFW_KERNEL_LOG_H
#define HVFW_KERNEL_LOG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

enum log_level {
    LOG_ERROR = 0,
    LOG_WARN = 1,
    LOG_INFO = 2,
    LOG_DEBUG = 3,
};

void log_set_level(enum log_level level);
enum log_level log_get_level(void);
/* Parses "error", "warn", "info", "debug" or a digit 0-3. */
bool log_parse_level(const char *name, enum log_level *out);

void log_write(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void log_vwrite(enum log_level level, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

/* Unprefixed console output, for machine-readable lines such as "hvfw: ready ...". */
void console_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Raw console bytes under the console lock (newlib's write() for the root goes here). */
void console_write(const char *s, size_t len);

#define log_error(...) log_write(LOG_ERROR, __VA_ARGS__)
#define log_warn(...) log_write(LOG_WARN, __VA_ARGS__)
#define log_info(...) log_write(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_write(LOG_DEBUG, __VA_ARGS__)

#endif
