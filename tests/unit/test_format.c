// sources: kernel/format.c
#include <check.h>
#include <stdint.h>
#include <string.h>

#include "kernel/format.h"

static char buf[128];

#define EXPECT_FORMAT(expected, ...)                                                   \
    do {                                                                               \
        int n_ = format_snprintf(buf, sizeof(buf), __VA_ARGS__);                       \
        ck_assert_str_eq(buf, expected);                                               \
        ck_assert_int_eq(n_, (int)strlen(expected));                                   \
    } while (0)

START_TEST(integers)
{
    EXPECT_FORMAT("0", "%d", 0);
    EXPECT_FORMAT("-42", "%d", -42);
    EXPECT_FORMAT("-2147483648", "%d", INT32_MIN);
    EXPECT_FORMAT("4294967295", "%u", UINT32_MAX);
    EXPECT_FORMAT("-9223372036854775808", "%ld", INT64_MIN);
    EXPECT_FORMAT("18446744073709551615", "%lu", UINT64_MAX);
    EXPECT_FORMAT("123", "%zu", (size_t)123);
}
END_TEST

START_TEST(hex_and_pointers)
{
    EXPECT_FORMAT("ff", "%x", 255u);
    EXPECT_FORMAT("FF", "%X", 255u);
    EXPECT_FORMAT("00000000deadbeef", "%016lx", 0xdeadbeeful);
    EXPECT_FORMAT("0x1000", "%p", (void *)0x1000);
}
END_TEST

START_TEST(width_and_flags)
{
    EXPECT_FORMAT("   42", "%5d", 42);
    EXPECT_FORMAT("42   |", "%-5d|", 42);
    EXPECT_FORMAT("-0042", "%05d", -42);
    EXPECT_FORMAT("  ab", "%4s", "ab");
    EXPECT_FORMAT("ab  |", "%-4s|", "ab");
    EXPECT_FORMAT("x%y", "x%%y");
    EXPECT_FORMAT("c", "%c", 'c');
    const char *volatile nothing = NULL; /* hidden from the compiler's format check */
    EXPECT_FORMAT("(null)", "%s", nothing);
}
END_TEST

START_TEST(truncation)
{
    char small[6];
    int n = format_snprintf(small, sizeof(small), "%s", "abcdefgh");
    ck_assert_int_eq(n, 8); /* the length it would have had */
    ck_assert_str_eq(small, "abcde");
    n = format_snprintf(small, 0, "%d", 12345);
    ck_assert_int_eq(n, 5);
    /* a lone '%' at the end stops cleanly */
    const char *volatile lone = "100%"; /* a format the compiler would reject */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-security"
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
    format_snprintf(buf, sizeof(buf), lone);
#pragma GCC diagnostic pop
    ck_assert_str_eq(buf, "100");
}
END_TEST

Suite *format_suite(void)
{
    Suite *s = suite_create("format");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, integers);
    tcase_add_test(tc, hex_and_pointers);
    tcase_add_test(tc, width_and_flags);
    tcase_add_test(tc, truncation);
    suite_add_tcase(s, tc);
    return s;
}
