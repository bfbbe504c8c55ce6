#include "root/uart.h"

#include <string.h>

/* MSR with a terminal attached: DCD, DSR and CTS asserted. */
#define UART_MSR_CONNECTED 0xB0u
#define UART_MSR_RI 0x40u
/* Receiver trigger levels by FCR bits 7:6 (16550D, FCR description). */
static const unsigned trigger_levels[4] = { 1, 4, 8, 14 };

void uart_init(struct uart *uart, uart_line_fn emit_line, void *ctx)
{
    memset(uart, 0, sizeof(*uart));
    uart->lcr = 0x03; /* 8N1, what firmware leaves behind */
    uart->msr_lines = UART_MSR_CONNECTED;
    uart->emit_line = emit_line;
    uart->ctx = ctx;
}

void uart_set_byte_output(struct uart *uart, uart_byte_fn emit_byte)
{
    uart->emit_byte = emit_byte;
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
    if (uart->emit_byte)
        uart->emit_byte(uart->ctx, byte);
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

static unsigned fifo_capacity(const struct uart *uart)
{
    return (uart->fcr & UART_FCR_ENABLE) ? UART_FIFO_SIZE : 1;
}

static bool rx_push(struct uart *uart, uint8_t byte)
{
    if (uart->rx_count >= fifo_capacity(uart))
        return false;
    uart->rx[(uart->rx_head + uart->rx_count++) % UART_FIFO_SIZE] = byte;
    return true;
}

/* Console input flows into the receiver while it has room (outside loopback, where the
 * receiver is fed by the transmitter only). */
static void refill(struct uart *uart)
{
    if (uart->mcr & UART_MCR_LOOPBACK)
        return;
    while (uart->input_count && rx_push(uart, uart->input[uart->input_head])) {
        uart->input_head = (uart->input_head + 1) % UART_INPUT_MAX;
        uart->input_count--;
    }
}

size_t uart_input(struct uart *uart, const uint8_t *bytes, size_t length)
{
    size_t taken = 0;
    for (; taken < length && uart->input_count < UART_INPUT_MAX; taken++)
        uart->input[(uart->input_head + uart->input_count++) % UART_INPUT_MAX] = bytes[taken];
    refill(uart);
    return taken;
}

static uint8_t rx_pop(struct uart *uart)
{
    if (uart->rx_count == 0)
        return uart->rbr; /* an empty RBR reads its last byte again */
    uint8_t byte = uart->rx[uart->rx_head];
    uart->rbr = byte;
    uart->rx_head = (uart->rx_head + 1) % UART_FIFO_SIZE;
    uart->rx_count--;
    refill(uart);
    return byte;
}

static void rx_clear(struct uart *uart)
{
    uart->rx_head = 0;
    uart->rx_count = 0;
}

/* MSR 7:4: in loopback (16550D, MCR bit 4) RTS->CTS, DTR->DSR, OUT1->RI, OUT2->DCD;
 * otherwise a terminal that is always there. */
static uint8_t modem_lines(const struct uart *uart)
{
    if (!(uart->mcr & UART_MCR_LOOPBACK))
        return UART_MSR_CONNECTED;
    uint8_t m = uart->mcr;
    return (uint8_t)(((m & UART_MCR_RTS) << 3) | ((m & UART_MCR_DTR) << 5) |
                     ((m & UART_MCR_OUT1) << 4) | ((m & UART_MCR_OUT2) << 4));
}

/* The deltas of MSR 3:0 after the lines may have changed: DCTS, DDSR and DDCD on any
 * change, TERI when RI goes from on to off. */
static void update_modem_deltas(struct uart *uart)
{
    uint8_t now = modem_lines(uart), before = uart->msr_lines;
    uint8_t changed = now ^ before;
    if (changed & 0x10u)
        uart->msr_delta |= 0x01u;
    if (changed & 0x20u)
        uart->msr_delta |= 0x02u;
    if ((before & UART_MSR_RI) && !(now & UART_MSR_RI))
        uart->msr_delta |= 0x04u;
    if (changed & 0x80u)
        uart->msr_delta |= 0x08u;
    uart->msr_lines = now;
}

/* The highest-priority enabled interrupt (16550D Table IV), without side effects. */
static uint8_t pending_interrupt(const struct uart *uart)
{
    if ((uart->ier & UART_IER_RLSI) && uart->overrun)
        return UART_IIR_LINE_STATUS;
    if ((uart->ier & UART_IER_RDI) && uart->rx_count) {
        bool fifo = uart->fcr & UART_FCR_ENABLE;
        if (fifo && uart->rx_count < trigger_levels[uart->fcr >> 6])
            return UART_IIR_RX_TIMEOUT;
        return UART_IIR_RX_DATA;
    }
    if ((uart->ier & UART_IER_THRI) && uart->thr_interrupt)
        return UART_IIR_THRE;
    if ((uart->ier & UART_IER_MSI) && uart->msr_delta)
        return UART_IIR_MODEM_STATUS;
    return UART_IIR_NONE;
}

bool uart_interrupt_line(const struct uart *uart)
{
    return (uart->mcr & UART_MCR_OUT2) && !(uart->mcr & UART_MCR_LOOPBACK) &&
           pending_interrupt(uart) != UART_IIR_NONE;
}

static uint8_t read_iir(struct uart *uart)
{
    uint8_t id = pending_interrupt(uart);
    if (id == UART_IIR_THRE)
        uart->thr_interrupt = false; /* reading IIR clears a THRE interrupt it reports */
    return (uint8_t)(id | ((uart->fcr & UART_FCR_ENABLE) ? UART_IIR_FIFO_ENABLED : 0));
}

static uint8_t read_lsr(struct uart *uart)
{
    /* Transmission is instantaneous: THR and the shifter are always empty, so a guest
     * polling THRE never waits. Reading LSR clears the error bits (16550D, LSR). */
    uint8_t lsr = UART_LSR_THRE | UART_LSR_TEMT;
    if (uart->rx_count)
        lsr |= UART_LSR_DR;
    if (uart->overrun)
        lsr |= UART_LSR_OE;
    uart->overrun = false;
    return lsr;
}

uint8_t uart_read(struct uart *uart, unsigned offset)
{
    bool dlab = uart->lcr & UART_LCR_DLAB;
    switch (offset) {
    case UART_RBR_THR_DLL:
        return dlab ? (uint8_t)uart->divisor : rx_pop(uart);
    case UART_IER_DLM:
        return dlab ? (uint8_t)(uart->divisor >> 8) : uart->ier;
    case UART_IIR_FCR:
        return read_iir(uart);
    case UART_LCR:
        return uart->lcr;
    case UART_MCR:
        return uart->mcr;
    case UART_LSR:
        return read_lsr(uart);
    case UART_MSR: {
        update_modem_deltas(uart);
        uint8_t msr = (uint8_t)(uart->msr_lines | uart->msr_delta);
        uart->msr_delta = 0;
        return msr;
    }
    case UART_SCR:
        return uart->scr;
    default:
        return 0xFF;
    }
}

static void write_thr(struct uart *uart, uint8_t value)
{
    if (uart->mcr & UART_MCR_LOOPBACK) {
        if (!rx_push(uart, value))
            uart->overrun = true; /* the byte is lost, as on a full FIFO */
    } else {
        transmit(uart, value);
    }
    /* Writing THR clears its interrupt; the byte leaves at once and THR is empty again,
     * which raises it anew. */
    uart->thr_interrupt = true;
}

static void write_fcr(struct uart *uart, uint8_t value)
{
    bool was_enabled = uart->fcr & UART_FCR_ENABLE;
    bool enable = value & UART_FCR_ENABLE;
    /* Changing FCR0 clears both FIFOs; the reset bits clear one each (self-clearing). */
    if (enable != was_enabled || (value & UART_FCR_CLEAR_RX))
        rx_clear(uart);
    /* Kept: enable and the trigger level; bit 3 (DMA mode) reads nowhere. Bit 5 (the
     * 16750's 64-byte FIFO) is not kept: IIR bit 5 stays 0, which is how Linux tells a
     * 16550A from a 16750. */
    uart->fcr = enable ? (uint8_t)(value & 0xC1u) : 0;
    refill(uart);
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
        write_fcr(uart, value);
        break;
    case UART_LCR:
        uart->lcr = value;
        break;
    case UART_MCR: {
        bool was_loopback = uart->mcr & UART_MCR_LOOPBACK;
        update_modem_deltas(uart);
        uart->mcr = value & 0x1Fu;
        update_modem_deltas(uart);
        if (was_loopback && !(uart->mcr & UART_MCR_LOOPBACK))
            refill(uart);
        break;
    }
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
