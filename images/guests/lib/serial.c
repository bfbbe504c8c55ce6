#include "images/guests/lib/serial.h"

#include <stdint.h>

#include "images/guests/lib/io.h"

#define COM1 0x3F8
#define UART_DATA 0 /* transmitter holding register on write */
#define UART_LSR 5
#define LSR_THRE 0x20 /* transmitter holding register empty */

/* Bounded: an emulated UART that never reports THRE must not hang the guest; we then
 * write anyway and let the device drop what it cannot take. */
#define THRE_POLLS 100000

static void serial_put(char c)
{
    for (uint32_t polls = 0; polls < THRE_POLLS; polls++) {
        if (inb(COM1 + UART_LSR) & LSR_THRE)
            break;
        cpu_relax();
    }
    outb(COM1 + UART_DATA, (uint8_t)c);
}

void serial_write(const char *text, size_t length)
{
    for (size_t i = 0; i < length; i++)
        serial_put(text[i]);
}
