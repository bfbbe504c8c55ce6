/* The hypervisor's console: a 16550 UART on COM1, polled (no interrupts needed, so it
 * works from the first instruction of kernel_main to the exception handler). */
#ifndef HVFW_KERNEL_SERIAL_H
#define HVFW_KERNEL_SERIAL_H

#include <stddef.h>

void serial_init(void);
/* Writes len bytes, turning "\n" into "\r\n". Not locked: callers serialize (log.c). */
void serial_write(const char *s, size_t len);

#endif
