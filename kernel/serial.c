#include "kernel/serial.h"

#include <stdint.h>

#include "kernel/x86.h"

#define COM1 0x3F8
/* 16550 register offsets (National Semiconductor PC16550D data sheet, table 2) */
#define UART_DATA 0
#define UART_IER 1
#define UART_FCR 2
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5
#define UART_DLL 0 /* with LCR.DLAB */
#define UART_DLM 1
#define LCR_8N1 0x03
#define LCR_DLAB 0x80
#define LSR_THRE 0x20

void serial_init(void)
{
    outb(COM1 + UART_IER, 0x00);
    outb(COM1 + UART_LCR, LCR_DLAB);
    outb(COM1 + UART_DLL, 1); /* 115200 baud */
    outb(COM1 + UART_DLM, 0);
    outb(COM1 + UART_LCR, LCR_8N1);
    outb(COM1 + UART_FCR, 0xC7); /* enable and clear FIFOs, 14-byte threshold */
    outb(COM1 + UART_MCR, 0x03); /* DTR, RTS */
}

static void serial_putc(char c)
{
    /* Bounded wait: a missing UART must not hang the hypervisor. */
    for (uint32_t spins = 0; spins < 100000; spins++) {
        if (inb(COM1 + UART_LSR) & LSR_THRE)
            break;
        cpu_relax();
    }
    outb(COM1 + UART_DATA, (uint8_t)c);
}

void serial_write(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '\n')
            serial_putc('\r');
        serial_putc(s[i]);
    }
}
