/*
 * COM1 output of the test guests: a 16550 UART at I/O 0x3F8, driven by polling the line
 * status register (PC16550D data sheet, "Line Status Register"). The guests program no
 * other UART register: the baud rate does not matter to QEMU's UART or to the UART the
 * hvfw root worker emulates (images/guests/README.md, "Platform contract").
 */
#ifndef HVFW_GUESTS_SERIAL_H
#define HVFW_GUESTS_SERIAL_H

#include <stddef.h>

void serial_write(const char *text, size_t length);

#endif
