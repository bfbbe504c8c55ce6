// sources: kernel/cmdline.c
#include <check.h>
#include <string.h>

#include "kernel/cmdline.h"

START_TEST(get_values_and_flags)
{
    const char *line = "loglevel=debug test.exit child=a:hello.elf:16:1 child=b:mem.elf:32:2";
    char v[64];
    ck_assert(cmdline_get(line, "loglevel", v, sizeof(v)));
    ck_assert_str_eq(v, "debug");
    ck_assert(cmdline_get(line, "child", v, sizeof(v)));
    ck_assert_str_eq(v, "b:mem.elf:32:2"); /* the last one wins */
    ck_assert(cmdline_flag(line, "test.exit"));
    ck_assert(!cmdline_flag(line, "test.fault"));
    ck_assert(!cmdline_get(line, "test.exit", v, sizeof(v))); /* a flag has no value */
    ck_assert(!cmdline_get(line, "missing", v, sizeof(v)));
}
END_TEST

START_TEST(image_path_is_skipped)
{
    struct cmdline_iter it;
    struct cmdline_entry e;
    cmdline_iter_init(&it, "build/hvfw.elf quiet");
    ck_assert(cmdline_next(&it, &e));
    ck_assert_str_eq(e.key, "quiet");
    ck_assert(!cmdline_next(&it, &e));

    cmdline_iter_init(&it, "tftp://10.0.2.2/hvfw.elf a=1");
    ck_assert(cmdline_next(&it, &e));
    ck_assert_str_eq(e.key, "a");

    /* GRUB passes only the arguments: the first word is a real flag */
    cmdline_iter_init(&it, "quiet a=1");
    ck_assert(cmdline_next(&it, &e));
    ck_assert_str_eq(e.key, "quiet");
}
END_TEST

START_TEST(quotes_group_spaces)
{
    char v[64];
    const char *line = "cmdline.web=\"console=ttyS0 quiet\" after=1";
    ck_assert(cmdline_get(line, "cmdline.web", v, sizeof(v)));
    ck_assert_str_eq(v, "console=ttyS0 quiet");
    ck_assert(cmdline_get(line, "after", v, sizeof(v)));
    ck_assert_str_eq(v, "1");
    /* an unterminated quote runs to the end instead of reading past it */
    ck_assert(cmdline_get("x=\"open ended", "x", v, sizeof(v)));
    ck_assert_str_eq(v, "open ended");
}
END_TEST

START_TEST(bool_values)
{
    ck_assert(cmdline_flag("a=1", "a"));
    ck_assert(cmdline_flag("a=yes", "a"));
    ck_assert(!cmdline_flag("a=0", "a"));
    ck_assert(!cmdline_flag("a=1 a=off", "a"));
}
END_TEST

START_TEST(overlong_is_truncated_not_overflowed)
{
    char line[2048];
    memset(line, 'k', 100);
    line[100] = '=';
    memset(line + 101, 'v', 1500);
    line[1601] = '\0';
    struct cmdline_iter it;
    struct cmdline_entry e;
    cmdline_iter_init(&it, line);
    ck_assert(cmdline_next(&it, &e));
    ck_assert(e.truncated);
    ck_assert_uint_eq(strlen(e.key), CMDLINE_KEY_MAX - 1);
    ck_assert_uint_eq(strlen(e.value), CMDLINE_VALUE_MAX - 1);
    ck_assert(!cmdline_next(&it, &e));

    char v[4];
    ck_assert(cmdline_get("k=abcdef", "k", v, sizeof(v)));
    ck_assert_str_eq(v, "abc");
    ck_assert(!cmdline_get(NULL, "k", v, sizeof(v)));
}
END_TEST

Suite *cmdline_suite(void)
{
    Suite *s = suite_create("cmdline");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, get_values_and_flags);
    tcase_add_test(tc, image_path_is_skipped);
    tcase_add_test(tc, quotes_group_spaces);
    tcase_add_test(tc, bool_values);
    tcase_add_test(tc, overlong_is_truncated_not_overflowed);
    suite_add_tcase(s, tc);
    return s;
}
