/*
 * The emulated COM1 of a child partition: a 16550A UART model (National Semiconductor
 * PC16550D data sheet, "Register Description"; the same eight registers at I/O base + 0..7).
 *
 * Transmit: what the child writes to THR is sent at once (the holding register and the
 * shifter are always empty again), cut into lines and handed to `emit_line` (the worker
 * prints them as `[NAME] text`).
 * Receive: bytes the root has for the child's console (uart_input) wait in an input queue
 * and move into the receiver FIFO (16 bytes with FCR0 set, else the one-byte holding
 * register) as the child reads, so a fast typist never overruns it (the terminal is flow
 * controlled); in loopback mode what is transmitted comes back into the FIFO instead, and a
 * full FIFO there sets Overrun (LSR1).
 *
 * Interrupts (16550D Table IV): IIR reports the highest-priority enabled source, line
 * status (overrun; IER2) > received data (IER0; "character timeout" 0x0C while
 * fewer than the FIFO trigger level wait, since time does not pass between accesses here)
 * > THR empty (IER1) > modem status (IER3). THR empty is raised when THR empties and when
 * IER1 goes from 0 to 1 with THR empty, and cleared by reading IIR while it is the one
 * reported or by writing THR (which, the byte leaving at once, empties THR and raises it
 * again: one new edge per write after an IIR read, none while it stays pending). The
 * INTRPT output reaches the PC's interrupt line only through MCR bit 3 (OUT2), and never
 * in loopback (the outputs are forced inactive there): uart_interrupt_line says what the
 * line carries; the worker turns its rising edge into IRQ 4 at the IOAPIC.
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
#define UART_FIFO_SIZE 16
/* Bytes of console input waiting for the receiver; more is refused by uart_input. */
#define UART_INPUT_MAX 1024

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
#define UART_MCR_DTR 0x01u
#define UART_MCR_RTS 0x02u
#define UART_MCR_OUT1 0x04u
#define UART_MCR_OUT2 0x08u
#define UART_MCR_LOOPBACK 0x10u
#define UART_LSR_DR 0x01u   /* data ready */
#define UART_LSR_OE 0x02u   /* overrun error */
#define UART_LSR_THRE 0x20u /* transmitter holding register empty */
#define UART_LSR_TEMT 0x40u /* transmitter empty */
#define UART_IER_RDI 0x01u  /* received data available interrupt */
#define UART_IER_THRI 0x02u /* transmitter holding register empty interrupt */
#define UART_IER_RLSI 0x04u /* receiver line status interrupt */
#define UART_IER_MSI 0x08u  /* modem status interrupt */
#define UART_FCR_ENABLE 0x01u
#define UART_FCR_CLEAR_RX 0x02u
#define UART_FCR_CLEAR_TX 0x04u
/* IIR values (16550D, Table IV). Bits 7:6 are set while the FIFOs are enabled. */
#define UART_IIR_NONE 0x01u
#define UART_IIR_MODEM_STATUS 0x00u
#define UART_IIR_THRE 0x02u
#define UART_IIR_RX_DATA 0x04u
#define UART_IIR_LINE_STATUS 0x06u
#define UART_IIR_RX_TIMEOUT 0x0Cu
#define UART_IIR_FIFO_ENABLED 0xC0u

/* Called with one line of output, without its '\n' (text[length] is '\0'). */
typedef void (*uart_line_fn)(void *ctx, const char *text, size_t length);
/* Called with every byte transmitted, as it was written (the console stream's raw copy). */
typedef void (*uart_byte_fn)(void *ctx, uint8_t byte);

struct uart {
    uint8_t ier, lcr, mcr, scr, fcr;
    uint16_t divisor;
    bool thr_interrupt;  /* THRE interrupt pending: set when THR empties, cleared by IIR read */
    bool overrun;        /* LSR1 until LSR is read */
    uint8_t msr_delta;   /* MSR 3:0 (DCTS, DDSR, TERI, DDCD) until MSR is read */
    uint8_t msr_lines;   /* MSR 7:4 as last reported, for the deltas */
    uint8_t rbr;         /* the last byte read from the receiver (an empty RBR repeats it) */
    uint8_t rx[UART_FIFO_SIZE];
    unsigned rx_head, rx_count;
    uint8_t input[UART_INPUT_MAX];
    unsigned input_head, input_count;
    char line[UART_LINE_MAX + 1];
    size_t line_length;
    uart_line_fn emit_line;
    uart_byte_fn emit_byte; /* NULL: none */
    void *ctx;
};

void uart_init(struct uart *uart, uart_line_fn emit_line, void *ctx);
/* Every transmitted byte also goes to `emit_byte` (with the same ctx), unfiltered. */
void uart_set_byte_output(struct uart *uart, uart_byte_fn emit_byte);
/* A byte read from register `offset` (0..7; others read as 0xFF, like an absent port). */
uint8_t uart_read(struct uart *uart, unsigned offset);
/* A byte written to register `offset` (0..7; others are ignored). */
void uart_write(struct uart *uart, unsigned offset, uint8_t value);
/* Emits a partial line, if any (the child stopped in mid-line). */
void uart_flush(struct uart *uart);
/* Queues console input for the child's receiver; returns how many of `length` bytes were
 * taken (the rest did not fit in UART_INPUT_MAX). */
size_t uart_input(struct uart *uart, const uint8_t *bytes, size_t length);
/* The level of the UART's interrupt line as the PC wires it: an interrupt is pending, OUT2
 * is set and loopback is off. */
bool uart_interrupt_line(const struct uart *uart);

#endif
