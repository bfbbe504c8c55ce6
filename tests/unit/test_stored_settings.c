// sources: root/stored_settings.c root/store.c root/disk.c kernel/cmdline.c
/* Stored settings over the command line (root/stored_settings.c): a stored root-level
 * setting replaces every command-line word with its key and says so; hypervisor-level,
 * secret, unknown and unprintable ones are reported and ignored; a recovery boot applies
 * none; a result that would not fit leaves the command line as it was. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernel/cmdline.h"
#include "root/stored_settings.h"
#include "tests/unit/ram_disk.h"

static struct store store;
static char lines[16][STORED_SETTINGS_LINE_MAX];
static int line_count;

static void report(const char *line, void *context)
{
    (void)context;
    ck_assert_int_lt(line_count, 16);
    snprintf(lines[line_count++], sizeof(lines[0]), "%s", line);
}

static bool said(const char *text)
{
    for (int i = 0; i < line_count; i++)
        if (strstr(lines[i], text))
            return true;
    return false;
}

static void setup(void)
{
    struct disk_io io = ram_disk_open(64, false);
    char why[80];
    ck_assert(store_open(&store, &io, why, sizeof(why)));
    line_count = 0;
}

static void teardown(void)
{
    store_close(&store);
    free(ram);
}

static void set(const char *key, const char *value)
{
    char name[80];
    snprintf(name, sizeof(name), "setting.%s", key);
    ck_assert_int_eq(store_put(&store, name, value, strlen(value)), STORE_OK);
}

START_TEST(stored_settings_override_the_command_line)
{
    set("net", "off");
    set("mgmt.port", "8444");
    set("cmdline.web", "console=ttyS0 quiet");
    ck_assert_int_eq(store_put(&store, "vm.web", "{}", 2), STORE_OK); /* not a setting */
    const char *cmdline = "build/hvfw.elf net=dhcp child=web:vmlinuz:64:1 net=dhcp "
                          "cmdline.web=\"console=hvc0\" loglevel=debug";
    char out[1024];
    ck_assert_uint_eq(stored_settings_merge(cmdline, &store, out, sizeof(out), report, NULL), 3);
    char value[128];
    ck_assert(cmdline_get(out, "net", value, sizeof(value)));
    ck_assert_str_eq(value, "off");
    ck_assert(cmdline_get(out, "mgmt.port", value, sizeof(value)));
    ck_assert_str_eq(value, "8444");
    ck_assert(cmdline_get(out, "cmdline.web", value, sizeof(value)));
    ck_assert_str_eq(value, "console=ttyS0 quiet");
    ck_assert(cmdline_get(out, "child", value, sizeof(value)));
    ck_assert_str_eq(value, "web:vmlinuz:64:1");
    ck_assert(cmdline_get(out, "loglevel", value, sizeof(value)));
    ck_assert_ptr_null(strstr(out, "net=dhcp")); /* both words gone, not just shadowed */
    ck_assert_msg(said("net=off from the disk (the command line's dhcp overridden)"), "%s",
                  lines[0]);
    ck_assert(said("mgmt.port=8444 from the disk (not on the command line)"));
    ck_assert(said("0 root setting(s) from the command line, 3 from the disk"));
}
END_TEST

START_TEST(only_root_level_settings_apply)
{
    set("loglevel", "debug");
    set("test.exit", "1");
    set("mgmt.token", "0123456789abcdef0123");
    set("child", "x:hello.elf:16:1");
    set("disk.format", "force");
    set("no.such.key", "1");
    set("net.ip", "10.0.0.2/24");
    set("net.gateway", "10.0.0.1\x01");
    const char *cmdline = "loglevel=info net.gateway=10.0.0.254";
    char out[1024];
    ck_assert_uint_eq(stored_settings_merge(cmdline, &store, out, sizeof(out), report, NULL), 1);
    char value[64];
    ck_assert(cmdline_get(out, "loglevel", value, sizeof(value)));
    ck_assert_str_eq(value, "info");
    ck_assert(cmdline_get(out, "net.gateway", value, sizeof(value)));
    ck_assert_str_eq(value, "10.0.0.254");
    ck_assert(!cmdline_get(out, "child", value, sizeof(value)));
    ck_assert(!cmdline_get(out, "mgmt.token", value, sizeof(value)));
    ck_assert(!cmdline_get(out, "no.such.key", value, sizeof(value)));
    ck_assert(said("loglevel ignored: read by the hypervisor"));
    ck_assert(said("test.exit ignored"));
    ck_assert(said("mgmt.token ignored: a secret"));
    ck_assert(said("child ignored"));
    ck_assert(said("disk.format ignored"));
    ck_assert(said("no.such.key ignored: unknown key"));
    ck_assert(said("net.gateway ignored: its value is not printable"));
    ck_assert(said("net.ip=10.0.0.2/24 from the disk (not on the command line)"));
    ck_assert_ptr_null(stored_settings_refusal("initrd.web"));
    ck_assert_ptr_nonnull(stored_settings_refusal("initrd."));
    ck_assert_ptr_null(stored_settings_refusal("mgmt.token_sha256"));
}
END_TEST

START_TEST(recovery_applies_none)
{
    set("net", "off");
    char out[1024];
    ck_assert_uint_eq(stored_settings_merge("recovery net=dhcp", &store, out, sizeof(out),
                                            report, NULL), 0);
    ck_assert_str_eq(out, "recovery net=dhcp");
    ck_assert(said("recovery: 1 stored setting(s) not applied"));
}
END_TEST

START_TEST(nothing_stored_leaves_the_line_alone)
{
    char out[64];
    ck_assert_uint_eq(stored_settings_merge("a=1  b", &store, out, sizeof(out), report, NULL), 0);
    ck_assert_str_eq(out, "a=1  b");
    ck_assert_int_eq(line_count, 0);
}
END_TEST

START_TEST(a_merge_that_does_not_fit_changes_nothing)
{
    char big[400];
    memset(big, 'v', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    set("cmdline.a", big);
    set("cmdline.b", big);
    char out[512];
    ck_assert_uint_eq(stored_settings_merge("net=dhcp", &store, out, sizeof(out), report, NULL),
                      0);
    ck_assert_str_eq(out, "net=dhcp");
    ck_assert(said("would exceed 511 bytes"));
}
END_TEST

Suite *stored_settings_suite(void)
{
    Suite *s = suite_create("stored_settings");
    TCase *tc = tcase_create("merge");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, stored_settings_override_the_command_line);
    tcase_add_test(tc, only_root_level_settings_apply);
    tcase_add_test(tc, recovery_applies_none);
    tcase_add_test(tc, nothing_stored_leaves_the_line_alone);
    tcase_add_test(tc, a_merge_that_does_not_fit_changes_nothing);
    suite_add_tcase(s, tc);
    return s;
}
