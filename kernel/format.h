/*
 * A small printf-style formatter for the hypervisor. It never allocates and keeps no global
 * state, so the exception handler and every CPU can use it at any time. Host-testable.
 * Conversions: %% %c %s %d %i %u %x %X %p, length l / ll / z, flags '-' and '0', a width.
 */
#ifndef HVFW_KERNEL_FORMAT_H
#define HVFW_KERNEL_FORMAT_H

#include <stdarg.h>
#include <stddef.h>

/* Formats into buf (always NUL-terminated when size > 0). Returns the length the whole
 * output would have had, like vsnprintf. */
int format_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));
int format_snprintf(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
