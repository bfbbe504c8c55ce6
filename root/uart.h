/*
 * The emulated COM1 of a child partition: a 16550A UART model (National Semiconductor
 * PC16550D data sheet, "Register Description"; the same eight registers at I/O base + 0..7).
 * What the child transmits is cut into lines and handed to `emit_line` (the worker prints
 * them as `[NAME] text`); nothing is ever received except in loopback mode, where a
 * transmitted byte comes back in the receiver buffer (the loopback test Linux's 8250 driver
 * runs at probe). No interrupt reaches the child yet (there is no virtual interrupt
 * controller); IIR still reports what would be pending.
 *
 * Pure and host-testable: no root or hypervisor calls.
 */
#ifndef HVFW_ROOT_UART_H
#define HVFW_ROOT_UART_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define UART_PORT_COUNT 8
/* Longest line kept; a longer one is emitted in pieces of this many characters. */
#define UART_LINE_MAX 200

/* Register offsets from the I/O base (16550D, Table II). */
enum uart_register {
    UART_RBR_THR_DLL = 0, /* receiver buffer (read) / transmitter holding (write); DLAB: DLL */
    UART_IER_DLM = 1,     /* interrupt enable; DLAB: divisor latch high byte */
    UART_IIR_FCR = 2,     /* interrupt identification (read) / FIFO control (write) */
    UART_LCR = 3,         /* line control; bit 7 is DLAB */
    UART_MCR = 4,         /* modem control; bit 4 is loopback */
    UART_LSR = 5,         /* line status */
    UART_MSR = 6,         /* modem status */
    UART_SCR = 7,         /* scratch */
};

#define UART_LCR_DLAB 0x80u
#define UART_MCR_LOOPBACK 0x10u
#define UART_LSR_DR 0x01u   /* data ready */
#define UART_LSR_THRE 0x20u /* transmitter holding register empty */
#define UART_LSR_TEMT 0x40u /* transmitter empty */
#define UART_IER_RDI 0x01u  /* received data available interrupt */
#define UART_IER_THRI 0x02u /* transmitter holding register empty interrupt */
#define UART_FCR_ENABLE 0x01u

/* Called with one line of output, without its '\n' (text[length] is '\0'). */
typedef void (*uart_line_fn)(void *ctx, const char *text, size_t length);

struct uart {
    uint8_t ier, lcr, mcr, scr, fcr;
    uint16_t divisor;
    bool thr_interrupt;  /* THRE interrupt pending: set when THR empties, cleared by IIR read */
    bool rx_full;        /* loopback: a byte waits in RBR */
    uint8_t rbr;
    char line[UART_LINE_MAX + 1];
    size_t line_length;
    uart_line_fn emit_line;
    void *ctx;
};

void uart_init(struct uart *uart, uart_line_fn emit_line, void *ctx);
/* A byte read from register `offset` (0..7; others read as 0xFF, like an absent port). */
uint8_t uart_read(struct uart *uart, unsigned offset);
/* A byte written to register `offset` (0..7; others are ignored). */
void uart_write(struct uart *uart, unsigned offset, uint8_t value);
/* Emits a partial line, if any (the child stopped in mid-line). */
void uart_flush(struct uart *uart);

#endif
