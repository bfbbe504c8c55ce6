// sources: root/uart.c
/* The 16550A model of a child's COM1 (root/uart.c): registers, DLAB, loopback, line output,
 * the receive FIFO and console input, interrupt priorities, THRE semantics, the IRQ line. */
#include <check.h>
#include <string.h>

#include "root/uart.h"

struct lines {
    char text[8][UART_LINE_MAX + 1];
    size_t count;
};

static void collect(void *ctx, const char *text, size_t length)
{
    struct lines *l = ctx;
    ck_assert_uint_eq(strlen(text), length);
    ck_assert_uint_lt(l->count, 8);
    memcpy(l->text[l->count++], text, length + 1);
}

static void send(struct uart *u, const char *s)
{
    while (*s)
        uart_write(u, UART_RBR_THR_DLL, (uint8_t)*s++);
}

START_TEST(lines_are_whole_and_sanitized)
{
    struct lines l = { 0 };
    struct uart u;
    uart_init(&u, collect, &l);
    send(&u, "hello: ");
    ck_assert_uint_eq(l.count, 0); /* nothing before the newline */
    send(&u, "PASS\r\nsecond\x1b[2Jline\x80\n");
    ck_assert_uint_eq(l.count, 2);
    ck_assert_str_eq(l.text[0], "hello: PASS");
    ck_assert_str_eq(l.text[1], "second?[2Jline?");
    send(&u, "partial");
    uart_flush(&u);
    ck_assert_uint_eq(l.count, 3);
    ck_assert_str_eq(l.text[2], "partial");
    uart_flush(&u); /* nothing left: no empty line */
    ck_assert_uint_eq(l.count, 3);
}
END_TEST

static char raw[64];
static size_t raw_length;

static void collect_byte(void *ctx, uint8_t byte)
{
    (void)ctx;
    ck_assert_uint_lt(raw_length, sizeof(raw));
    raw[raw_length++] = (char)byte;
}

/* The console stream's copy: every transmitted byte as written, lines or not; loopback
 * bytes are not transmitted. */
START_TEST(byte_output_is_unfiltered)
{
    struct lines l = { 0 };
    struct uart u;
    uart_init(&u, collect, &l);
    raw_length = 0;
    uart_set_byte_output(&u, collect_byte);
    send(&u, "# \x1b[1m\r\n");
    ck_assert_uint_eq(raw_length, 8);
    ck_assert(memcmp(raw, "# \x1b[1m\r\n", 8) == 0);
    ck_assert_uint_eq(l.count, 1);
    uart_write(&u, UART_MCR, UART_MCR_LOOPBACK);
    send(&u, "x");
    ck_assert_uint_eq(raw_length, 8);
}
END_TEST

START_TEST(long_line_is_split)
{
    struct lines l = { 0 };
    struct uart u;
    uart_init(&u, collect, &l);
    for (int i = 0; i < UART_LINE_MAX + 5; i++)
        uart_write(&u, 0, 'x');
    ck_assert_uint_eq(l.count, 1);
    ck_assert_uint_eq(strlen(l.text[0]), UART_LINE_MAX);
    uart_write(&u, 0, '\n');
    ck_assert_uint_eq(l.count, 2);
    ck_assert_str_eq(l.text[1], "xxxxx");
}
END_TEST

START_TEST(line_status_always_ready)
{
    struct uart u;
    uart_init(&u, NULL, NULL);
    ck_assert_uint_eq(uart_read(&u, UART_LSR), UART_LSR_THRE | UART_LSR_TEMT);
    uart_write(&u, 0, 'a');
    ck_assert_uint_eq(uart_read(&u, UART_LSR), UART_LSR_THRE | UART_LSR_TEMT);
    uart_write(&u, UART_LSR, 0); /* read-only */
    ck_assert_uint_eq(uart_read(&u, UART_LSR) & UART_LSR_THRE, UART_LSR_THRE);
    ck_assert_uint_eq(uart_read(&u, UART_MSR), 0xB0);
    ck_assert_uint_eq(uart_read(&u, 8), 0xFF); /* outside the 8 registers */
}
END_TEST

START_TEST(divisor_latch_and_scratch)
{
    struct lines l = { 0 };
    struct uart u;
    uart_init(&u, collect, &l);
    uart_write(&u, UART_IER_DLM, 0x05);
    uart_write(&u, UART_LCR, UART_LCR_DLAB | 0x03);
    uart_write(&u, UART_RBR_THR_DLL, 0x01); /* 115200 baud: divisor 1 */
    uart_write(&u, UART_IER_DLM, 0x00);
    ck_assert_uint_eq(uart_read(&u, UART_RBR_THR_DLL), 0x01);
    ck_assert_uint_eq(uart_read(&u, UART_IER_DLM), 0x00);
    ck_assert_uint_eq(u.divisor, 1);
    uart_write(&u, UART_LCR, 0x03);
    ck_assert_uint_eq(uart_read(&u, UART_LCR), 0x03);
    ck_assert_uint_eq(uart_read(&u, UART_IER_DLM), 0x05); /* IER kept under DLAB */
    ck_assert_uint_eq(l.count, 0); /* the DLL write was no character */
    uart_write(&u, UART_SCR, 0x5A);
    ck_assert_uint_eq(uart_read(&u, UART_SCR), 0x5A);
    uart_write(&u, UART_IER_DLM, 0xFF);
    ck_assert_uint_eq(uart_read(&u, UART_IER_DLM), 0x0F); /* bits 7:4 are zero */
}
END_TEST

START_TEST(interrupt_identification)
{
    struct uart u;
    uart_init(&u, NULL, NULL);
    ck_assert_uint_eq(uart_read(&u, UART_IIR_FCR), 0x01); /* none pending, no FIFO */
    uart_write(&u, UART_IIR_FCR, 0xC7);                  /* FIFO on, reset, trigger 14 */
    ck_assert_uint_eq(uart_read(&u, UART_IIR_FCR), 0xC1);
    uart_write(&u, UART_IER_DLM, UART_IER_THRI); /* THR empty: raised at once */
    ck_assert_uint_eq(uart_read(&u, UART_IIR_FCR), 0xC2);
    ck_assert_uint_eq(uart_read(&u, UART_IIR_FCR), 0xC1); /* the read cleared it */
    uart_write(&u, 0, 'x');
    ck_assert_uint_eq(uart_read(&u, UART_IIR_FCR), 0xC2);
    uart_write(&u, UART_IIR_FCR, 0x00);
    ck_assert_uint_eq(uart_read(&u, UART_IIR_FCR), 0x01);
}
END_TEST

START_TEST(loopback_returns_bytes)
{
    struct lines l = { 0 };
    struct uart u;
    uart_init(&u, collect, &l);
    uart_write(&u, UART_MCR, UART_MCR_LOOPBACK | 0x0A); /* RTS, OUT2 */
    ck_assert_uint_eq(uart_read(&u, UART_MSR) & 0xF0, 0x90); /* CTS, DCD (Linux's check) */
    uart_write(&u, UART_MCR, UART_MCR_LOOPBACK | 0x05); /* DTR, OUT1 */
    ck_assert_uint_eq(uart_read(&u, UART_MSR) & 0xF0, 0x60); /* DSR, RI */
    uart_write(&u, UART_IER_DLM, UART_IER_RDI);
    uart_write(&u, 0, 0x5A);
    ck_assert_uint_eq(uart_read(&u, UART_LSR) & UART_LSR_DR, UART_LSR_DR);
    ck_assert_uint_eq(uart_read(&u, UART_IIR_FCR), 0x04);
    ck_assert_uint_eq(uart_read(&u, UART_RBR_THR_DLL), 0x5A);
    ck_assert_uint_eq(uart_read(&u, UART_LSR) & UART_LSR_DR, 0);
    ck_assert_uint_eq(l.count, 0); /* looped back, not transmitted */
    uart_write(&u, UART_MCR, 0);
    send(&u, "out\n");
    ck_assert_uint_eq(l.count, 1);
    ck_assert_uint_eq(uart_read(&u, UART_RBR_THR_DLL), 0x5A); /* RBR keeps its last byte */
}
END_TEST

START_TEST(modem_status_deltas)
{
    struct uart u;
    uart_init(&u, NULL, NULL);
    uart_write(&u, UART_MCR, UART_MCR_LOOPBACK | UART_MCR_RTS | UART_MCR_OUT2);
    /* From the terminal's DCD|DSR|CTS: DSR dropped -> DDSR. */
    ck_assert_uint_eq(uart_read(&u, UART_MSR), 0x92);
    ck_assert_uint_eq(uart_read(&u, UART_MSR), 0x90); /* the read cleared the delta */
    uart_write(&u, UART_MCR, UART_MCR_LOOPBACK | UART_MCR_DTR | UART_MCR_OUT1);
    /* CTS off (DCTS), DSR on (DDSR), RI on (no TERI: only its trailing edge), DCD off. */
    ck_assert_uint_eq(uart_read(&u, UART_MSR), 0x6B);
    uart_write(&u, UART_MCR, UART_MCR_LOOPBACK | UART_MCR_DTR);
    ck_assert_uint_eq(uart_read(&u, UART_MSR), 0x24); /* RI on -> off: TERI */
    /* A modem status interrupt, lowest priority, while a delta waits. */
    uart_write(&u, UART_IER_DLM, UART_IER_MSI);
    uart_write(&u, UART_MCR, UART_MCR_LOOPBACK);
    ck_assert_uint_eq(uart_read(&u, UART_IIR_FCR), UART_IIR_MODEM_STATUS);
    uart_read(&u, UART_MSR);
    ck_assert_uint_eq(uart_read(&u, UART_IIR_FCR), UART_IIR_NONE);
}
END_TEST

START_TEST(loopback_overrun)
{
    struct uart u;
    uart_init(&u, NULL, NULL);
    uart_write(&u, UART_MCR, UART_MCR_LOOPBACK);
    uart_write(&u, UART_IER_DLM, UART_IER_RLSI | UART_IER_RDI);
    uart_write(&u, 0, 1); /* no FIFO: one byte holds */
    uart_write(&u, 0, 2); /* lost */
    ck_assert_uint_eq(uart_read(&u, UART_IIR_FCR), UART_IIR_LINE_STATUS); /* above data */
    ck_assert_uint_eq(uart_read(&u, UART_LSR), UART_LSR_THRE | UART_LSR_TEMT | UART_LSR_DR |
                                                   UART_LSR_OE);
    ck_assert_uint_eq(uart_read(&u, UART_LSR) & UART_LSR_OE, 0); /* read clears it */
    ck_assert_uint_eq(uart_read(&u, UART_IIR_FCR), UART_IIR_RX_DATA);
    ck_assert_uint_eq(uart_read(&u, 0), 1);
    /* With the FIFO: sixteen fit, the seventeenth overruns. */
    uart_write(&u, UART_IIR_FCR, UART_FCR_ENABLE);
    for (int i = 0; i < 17; i++)
        uart_write(&u, 0, (uint8_t)(0x40 + i));
    ck_assert_uint_eq(uart_read(&u, UART_LSR) & UART_LSR_OE, UART_LSR_OE);
    for (int i = 0; i < 16; i++)
        ck_assert_uint_eq(uart_read(&u, 0), 0x40 + i);
    ck_assert_uint_eq(uart_read(&u, UART_LSR) & UART_LSR_DR, 0);
}
END_TEST

START_TEST(console_input_through_the_fifo)
{
    struct uart u;
    uart_init(&u, NULL, NULL);
    uint8_t text[40];
    for (int i = 0; i < 40; i++)
        text[i] = (uint8_t)('a' + i % 26);
    ck_assert_uint_eq(uart_input(&u, text, 40), 40);
    ck_assert_uint_eq(u.rx_count, 1); /* FIFO off: the holding register only */
    uart_write(&u, UART_IIR_FCR, UART_FCR_ENABLE | UART_FCR_CLEAR_RX | 0x80); /* trigger 8 */
    ck_assert_uint_eq(u.rx_count, 16); /* the clear dropped 'a'; 16 more flowed in */
    uart_write(&u, UART_IER_DLM, UART_IER_RDI);
    ck_assert_uint_eq(uart_read(&u, UART_IIR_FCR), 0xC0 | UART_IIR_RX_DATA);
    /* Reading drains in order while the queue refills the FIFO: nothing is lost. */
    for (int i = 1; i < 40; i++) {
        ck_assert_uint_eq(uart_read(&u, UART_LSR) & UART_LSR_DR, UART_LSR_DR);
        ck_assert_uint_eq(uart_read(&u, 0), 'a' + i % 26);
        ck_assert_uint_eq(uart_read(&u, UART_LSR) & UART_LSR_OE, 0);
        if (i == 36) /* 3 left, below the trigger: a character timeout */
            ck_assert_uint_eq(uart_read(&u, UART_IIR_FCR), 0xC0 | UART_IIR_RX_TIMEOUT);
    }
    ck_assert_uint_eq(uart_read(&u, UART_LSR) & UART_LSR_DR, 0);
    ck_assert_uint_eq(uart_read(&u, UART_IIR_FCR), 0xC0 | UART_IIR_NONE);
    /* The queue is bounded. */
    uint8_t big[UART_INPUT_MAX + 100];
    memset(big, 'z', sizeof(big));
    ck_assert_uint_eq(uart_input(&u, big, sizeof(big)), UART_INPUT_MAX);
    ck_assert_uint_eq(uart_input(&u, big, 100), UART_FIFO_SIZE); /* what moved on */
    ck_assert_uint_eq(uart_input(&u, big, 1), 0);
    /* In loopback the terminal's input waits; it flows again after. */
    uart_write(&u, UART_MCR, UART_MCR_LOOPBACK);
    uart_write(&u, UART_IIR_FCR, UART_FCR_ENABLE | UART_FCR_CLEAR_RX);
    ck_assert_uint_eq(u.rx_count, 0);
    uart_write(&u, 0, '!');
    ck_assert_uint_eq(uart_read(&u, 0), '!');
    uart_write(&u, UART_MCR, 0);
    ck_assert_uint_eq(u.rx_count, UART_FIFO_SIZE);
    ck_assert_uint_eq(uart_read(&u, 0), 'z');
}
END_TEST

START_TEST(interrupt_priority)
{
    struct uart u;
    uart_init(&u, NULL, NULL);
    uart_write(&u, UART_IIR_FCR, UART_FCR_ENABLE);
    uart_write(&u, UART_IER_DLM, 0x0F);
    uart_write(&u, UART_MCR, UART_MCR_LOOPBACK | UART_MCR_RTS); /* a modem delta */
    uart_write(&u, 0, 'x'); /* data, and THRE raised again */
    for (int i = 0; i < 17; i++)
        uart_write(&u, 0, 'y'); /* overrun */
    ck_assert_uint_eq(uart_read(&u, UART_IIR_FCR) & 0x0F, UART_IIR_LINE_STATUS);
    uart_read(&u, UART_LSR);
    ck_assert_uint_eq(uart_read(&u, UART_IIR_FCR) & 0x0F, UART_IIR_RX_DATA);
    uart_write(&u, UART_IIR_FCR, UART_FCR_ENABLE | UART_FCR_CLEAR_RX);
    ck_assert_uint_eq(uart_read(&u, UART_IIR_FCR) & 0x0F, UART_IIR_THRE);
    ck_assert_uint_eq(uart_read(&u, UART_IIR_FCR) & 0x0F, UART_IIR_MODEM_STATUS);
    uart_read(&u, UART_MSR);
    ck_assert_uint_eq(uart_read(&u, UART_IIR_FCR) & 0x0F, UART_IIR_NONE);
    /* A disabled source is never reported. */
    uart_write(&u, UART_IER_DLM, 0);
    uart_write(&u, 0, 'z');
    ck_assert_uint_eq(uart_read(&u, UART_IIR_FCR) & 0x0F, UART_IIR_NONE);
}
END_TEST

START_TEST(thre_interrupt_semantics)
{
    struct uart u;
    uart_init(&u, NULL, NULL);
    /* Not pending until IER1 rises with THR empty (Linux's UART_BUG_THRE test does this
     * twice and expects both). */
    ck_assert_uint_eq(uart_read(&u, UART_IIR_FCR), UART_IIR_NONE);
    for (int round = 0; round < 2; round++) {
        uart_write(&u, UART_IER_DLM, UART_IER_THRI);
        ck_assert_uint_eq(uart_read(&u, UART_IIR_FCR), UART_IIR_THRE);
        uart_write(&u, UART_IER_DLM, 0);
    }
    /* Rewriting IER with IER1 already set raises nothing. */
    uart_write(&u, UART_IER_DLM, UART_IER_THRI);
    ck_assert_uint_eq(uart_read(&u, UART_IIR_FCR), UART_IIR_THRE);
    uart_write(&u, UART_IER_DLM, UART_IER_THRI);
    ck_assert_uint_eq(uart_read(&u, UART_IIR_FCR), UART_IIR_NONE);
    /* A THR write empties at once: THRE again. */
    uart_write(&u, 0, 'a');
    ck_assert_uint_eq(uart_read(&u, UART_IIR_FCR), UART_IIR_THRE);
    /* Pending but disabled, then enabled again: reported (the condition stayed). */
    uart_write(&u, 0, 'b');
    uart_write(&u, UART_IER_DLM, 0);
    ck_assert_uint_eq(uart_read(&u, UART_IIR_FCR), UART_IIR_NONE);
    uart_write(&u, UART_IER_DLM, UART_IER_THRI);
    ck_assert_uint_eq(uart_read(&u, UART_IIR_FCR), UART_IIR_THRE);
}
END_TEST

START_TEST(interrupt_line_gated_by_out2)
{
    struct uart u;
    uart_init(&u, NULL, NULL);
    uart_write(&u, UART_IER_DLM, UART_IER_THRI);
    ck_assert(!uart_interrupt_line(&u)); /* pending, but OUT2 is off */
    uart_write(&u, UART_MCR, UART_MCR_OUT2 | UART_MCR_DTR | UART_MCR_RTS);
    ck_assert(uart_interrupt_line(&u));
    uart_read(&u, UART_IIR_FCR);
    ck_assert(!uart_interrupt_line(&u));
    uart_write(&u, 0, 'x');
    ck_assert(uart_interrupt_line(&u));
    /* Loopback forces the output inactive even with data and OUT2. */
    uart_write(&u, UART_IER_DLM, UART_IER_THRI | UART_IER_RDI);
    uart_write(&u, UART_MCR, UART_MCR_OUT2 | UART_MCR_LOOPBACK);
    ck_assert(!uart_interrupt_line(&u));
    uart_write(&u, UART_MCR, UART_MCR_OUT2);
    uint8_t c = 'q';
    uart_input(&u, &c, 1);
    ck_assert(uart_interrupt_line(&u));
}
END_TEST

START_TEST(fifo_control_identifies_a_16550a)
{
    struct uart u;
    uart_init(&u, NULL, NULL);
    /* 64-byte FIFO request (bit 5) is not a 16750's: IIR bit 5 stays clear. */
    uart_write(&u, UART_IIR_FCR, UART_FCR_ENABLE | 0x20);
    ck_assert_uint_eq(uart_read(&u, UART_IIR_FCR) >> 5, 6);
    uart_write(&u, UART_LCR, 0xBF); /* the EFR access key: IIR still, not 0 */
    ck_assert_uint_ne(uart_read(&u, UART_IIR_FCR), 0);
    /* IER bit 6 (XScale's UUE) does not stick. */
    uart_write(&u, UART_LCR, 0x03);
    uart_write(&u, UART_IER_DLM, 0x40);
    ck_assert_uint_eq(uart_read(&u, UART_IER_DLM), 0);
}
END_TEST

Suite *uart_suite(void)
{
    Suite *s = suite_create("uart");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, lines_are_whole_and_sanitized);
    tcase_add_test(tc, long_line_is_split);
    tcase_add_test(tc, byte_output_is_unfiltered);
    tcase_add_test(tc, line_status_always_ready);
    tcase_add_test(tc, divisor_latch_and_scratch);
    tcase_add_test(tc, interrupt_identification);
    tcase_add_test(tc, loopback_returns_bytes);
    tcase_add_test(tc, modem_status_deltas);
    tcase_add_test(tc, loopback_overrun);
    tcase_add_test(tc, console_input_through_the_fifo);
    tcase_add_test(tc, interrupt_priority);
    tcase_add_test(tc, thre_interrupt_semantics);
    tcase_add_test(tc, interrupt_line_gated_by_out2);
    tcase_add_test(tc, fifo_control_identifies_a_16550a);
    suite_add_tcase(s, tc);
    return s;
}
