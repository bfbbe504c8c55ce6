#include "root/uart.h"

#include <string.h>

/* IIR values (16550D, Table IV "Interrupt Control Functions"). Bits 7:6 are set while the
 * FIFOs are enabled. */
#define UART_IIR_NONE 0x01u
#define UART_IIR_RX_DATA 0x04u
#define UART_IIR_THRE 0x02u
#define UART_IIR_FIFO_ENABLED 0xC0u
/* MSR with a terminal attached: DCD, DSR and CTS asserted, no deltas. */
#define UART_MSR_CONNECTED 0xB0u

void uart_init(struct uart *uart, uart_line_fn emit_line, void *ctx)
{
    memset(uart, 0, sizeof(*uart));
    uart->lcr = 0x03; /* 8N1, what firmware leaves behind */
    uart->emit_line = emit_line;
    uart->ctx = ctx;
}

static void emit(struct uart *uart)
{
    uart->line[uart->line_length] = '\0';
    if (uart->emit_line)
        uart->emit_line(uart->ctx, uart->line, uart->line_length);
    uart->line_length = 0;
}

/* A child's bytes reach the firmware console: anything but printable ASCII and tab becomes
 * '?', so a child cannot send escape sequences to the operator's terminal. */
static void transmit(struct uart *uart, uint8_t byte)
{
    if (byte == '\n') {
        emit(uart);
        return;
    }
    if (byte == '\r')
        return;
    if ((byte < 0x20 && byte != '\t') || byte >= 0x7F)
        byte = '?';
    uart->line[uart->line_length++] = (char)byte;
    if (uart->line_length == UART_LINE_MAX)
        emit(uart);
}

static uint8_t modem_status(const struct uart *uart)
{
    if (!(uart->mcr & UART_MCR_LOOPBACK))
        return UART_MSR_CONNECTED;
    /* Loopback (16550D, MCR bit 4): RTS->CTS, DTR->DSR, OUT1->RI, OUT2->DCD. */
    uint8_t m = uart->mcr;
    return (uint8_t)(((m & 0x02u) << 3) | ((m & 0x01u) << 5) | ((m & 0x04u) << 4) |
                     ((m & 0x08u) << 4));
}

static uint8_t interrupt_identification(struct uart *uart)
{
    uint8_t fifo = (uart->fcr & UART_FCR_ENABLE) ? UART_IIR_FIFO_ENABLED : 0;
    if ((uart->ier & UART_IER_RDI) && uart->rx_full)
        return fifo | UART_IIR_RX_DATA;
    if ((uart->ier & UART_IER_THRI) && uart->thr_interrupt) {
        uart->thr_interrupt = false; /* reading IIR clears a THRE interrupt it reports */
        return fifo | UART_IIR_THRE;
    }
    return fifo | UART_IIR_NONE;
}

uint8_t uart_read(struct uart *uart, unsigned offset)
{
    bool dlab = uart->lcr & UART_LCR_DLAB;
    switch (offset) {
    case UART_RBR_THR_DLL:
        if (dlab)
            return (uint8_t)uart->divisor;
        uart->rx_full = false;
        return uart->rbr;
    case UART_IER_DLM:
        return dlab ? (uint8_t)(uart->divisor >> 8) : uart->ier;
    case UART_IIR_FCR:
        return interrupt_identification(uart);
    case UART_LCR:
        return uart->lcr;
    case UART_MCR:
        return uart->mcr;
    case UART_LSR:
        /* Transmission is instantaneous: the holding register and the shifter are always
         * empty, so a guest polling THRE never waits. */
        return (uint8_t)(UART_LSR_THRE | UART_LSR_TEMT | (uart->rx_full ? UART_LSR_DR : 0));
    case UART_MSR:
        return modem_status(uart);
    case UART_SCR:
        return uart->scr;
    default:
        return 0xFF;
    }
}

static void write_thr(struct uart *uart, uint8_t value)
{
    if (uart->mcr & UART_MCR_LOOPBACK) {
        uart->rbr = value;
        uart->rx_full = true;
    } else {
        transmit(uart, value);
    }
    uart->thr_interrupt = true; /* written, sent, empty again */
}

void uart_write(struct uart *uart, unsigned offset, uint8_t value)
{
    bool dlab = uart->lcr & UART_LCR_DLAB;
    switch (offset) {
    case UART_RBR_THR_DLL:
        if (dlab)
            uart->divisor = (uint16_t)((uart->divisor & 0xFF00u) | value);
        else
            write_thr(uart, value);
        break;
    case UART_IER_DLM:
        if (dlab) {
            uart->divisor = (uint16_t)((uart->divisor & 0x00FFu) | (value << 8));
        } else {
            /* Enabling the THRE interrupt while THR is empty raises it at once (16550D;
             * Linux's 8250 driver tests for this). */
            if ((value & UART_IER_THRI) && !(uart->ier & UART_IER_THRI))
                uart->thr_interrupt = true;
            uart->ier = value & 0x0Fu;
        }
        break;
    case UART_IIR_FCR:
        if (value & 0x02u) /* receiver FIFO reset */
            uart->rx_full = false;
        uart->fcr = (value & UART_FCR_ENABLE) ? (value & 0xC9u) : 0;
        break;
    case UART_LCR:
        uart->lcr = value;
        break;
    case UART_MCR:
        uart->mcr = value & 0x1Fu;
        break;
    case UART_SCR:
        uart->scr = value;
        break;
    default:
        break; /* LSR and MSR are read-only */
    }
}

void uart_flush(struct uart *uart)
{
    if (uart->line_length)
        emit(uart);
}
