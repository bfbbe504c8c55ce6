// sources: root/uart.c
/* The 16550 model of a child's COM1 (root/uart.c): registers, DLAB, loopback, line output. */
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
    ck_assert_uint_eq(uart_read(&u, UART_MSR), 0x90);   /* CTS, DCD */
    uart_write(&u, UART_MCR, UART_MCR_LOOPBACK | 0x05); /* DTR, OUT1 */
    ck_assert_uint_eq(uart_read(&u, UART_MSR), 0x60);   /* DSR, RI */
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

Suite *uart_suite(void)
{
    Suite *s = suite_create("uart");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, lines_are_whole_and_sanitized);
    tcase_add_test(tc, long_line_is_split);
    tcase_add_test(tc, line_status_always_ready);
    tcase_add_test(tc, divisor_latch_and_scratch);
    tcase_add_test(tc, interrupt_identification);
    tcase_add_test(tc, loopback_returns_bytes);
    suite_add_tcase(s, tc);
    return s;
}
