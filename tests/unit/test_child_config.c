// sources: root/child_config.c
/* child=NAME:MODULE:MEM_MIB:VPS declarations and the per-child settings initrd.NAME,
 * cmdline.NAME and test.console_input.NAME (root/child_config.c). */
#include <check.h>
#include <string.h>

#include "root/child_config.h"

static const char *const modules[] = { "hello.elf", "memtest.elf" };

static bool parse(const char *value, uint32_t cpus, struct child_config *out, char *why)
{
    return child_config_parse(value, cpus, NULL, 0, modules, 2, out, why);
}

static void refused(const char *value, uint32_t cpus, const char *words)
{
    struct child_config c;
    char why[CHILD_WHY_MAX];
    ck_assert_msg(!parse(value, cpus, &c, why), "%s accepted", value);
    ck_assert_msg(strstr(why, words), "%s: \"%s\" lacks \"%s\"", value, why, words);
}

START_TEST(good_declarations)
{
    struct child_config c;
    char why[CHILD_WHY_MAX];
    ck_assert_msg(parse("a:hello.elf:16:1", 2, &c, why), "%s", why);
    ck_assert_str_eq(c.name, "a");
    ck_assert_str_eq(c.module, "hello.elf");
    ck_assert_uint_eq(c.memory_mib, 16);
    ck_assert_uint_eq(c.vp_count, 1);
    ck_assert_msg(parse("web-01_x:memtest.elf:3072:8", 2, &c, why), "%s", why);
    ck_assert_str_eq(c.name, "web-01_x");
    ck_assert_uint_eq(c.memory_mib, 3072);
    ck_assert_uint_eq(c.vp_count, 8);
    ck_assert(parse("abcdefghijklmnopqrstuvwxyz01234:hello.elf:1:64", 16, &c, why)); /* 31 */
    ck_assert_uint_eq(c.vp_count, 64);
}
END_TEST

START_TEST(bad_shape_and_name)
{
    refused("a:hello.elf:16", 2, "NAME:MODULE:MEM_MIB:VPS");
    refused("a:hello.elf:16:1:9", 2, "NAME:MODULE:MEM_MIB:VPS");
    refused("", 2, "NAME:MODULE:MEM_MIB:VPS");
    refused(":hello.elf:16:1", 2, "1 to 31 characters");
    refused("abcdefghijklmnopqrstuvwxyz012345:hello.elf:16:1", 2, "1 to 31 characters");
    refused("bad name:hello.elf:16:1", 2, "only a-z");
    refused("Abc:hello.elf:16:1", 2, "only a-z");
    refused("a/b:hello.elf:16:1", 2, "only a-z");
}
END_TEST

START_TEST(bad_module_memory_and_vps)
{
    refused("x:missing.elf:16:1", 2, "no boot module is named missing.elf");
    refused("x::16:1", 2, "module name");
    refused("x:hello:16:1", 2, "no boot module"); /* a prefix is not the name */
    refused("x:hello.elf:0:1", 2, "MEM_MIB");
    refused("x:hello.elf:3073:1", 2, "MEM_MIB");
    refused("x:hello.elf:-1:1", 2, "MEM_MIB");
    refused("x:hello.elf:+16:1", 2, "MEM_MIB");
    refused("x:hello.elf:16M:1", 2, "MEM_MIB");
    refused("x:hello.elf::1", 2, "MEM_MIB");
    refused("x:hello.elf:4294967312:1", 2, "MEM_MIB"); /* 2^32 + 16 must not wrap to 16 */
    refused("x:hello.elf:16:0", 2, "VPS");
    refused("x:hello.elf:16:9", 2, "VPS must be a number from 1 to 8");
    refused("x:hello.elf:16:65", 32, "from 1 to 64");
    refused("x:hello.elf:16:1", 0, "VPS");
}
END_TEST

START_TEST(names_are_unique)
{
    struct child_config taken[2] = { 0 };
    char why[CHILD_WHY_MAX];
    ck_assert(child_config_parse("a:hello.elf:16:1", 4, taken, 0, modules, 2, &taken[0], why));
    ck_assert(child_config_parse("ab:hello.elf:16:1", 4, taken, 1, modules, 2, &taken[1], why));
    struct child_config c;
    ck_assert(!child_config_parse("a:memtest.elf:16:1", 4, taken, 2, modules, 2, &c, why));
    ck_assert_str_eq(why, "a child named a is already declared");
    ck_assert(child_config_parse("b:hello.elf:16:1", 4, taken, 2, modules, 2, &c, why));
}
END_TEST

START_TEST(per_child_settings)
{
    const char *name;
    ck_assert_int_eq(child_config_setting("initrd.web", &name), CHILD_SETTING_INITRD);
    ck_assert_str_eq(name, "web");
    ck_assert_int_eq(child_config_setting("cmdline.a", &name), CHILD_SETTING_CMDLINE);
    ck_assert_int_eq(child_config_setting("test.console_input.a", &name),
                     CHILD_SETTING_CONSOLE_INPUT);
    ck_assert_str_eq(name, "a");
    ck_assert_int_eq(child_config_setting("child", &name), CHILD_SETTING_NONE);
    ck_assert_int_eq(child_config_setting("initrd", &name), CHILD_SETTING_NONE);

    struct child_config c[2] = { 0 };
    char why[CHILD_WHY_MAX];
    ck_assert(child_config_parse("a:hello.elf:16:1", 4, c, 0, modules, 2, &c[0], why));
    ck_assert(child_config_parse("b:hello.elf:16:1", 4, c, 1, modules, 2, &c[1], why));
    ck_assert_str_eq(c[0].initrd, "");
    ck_assert_str_eq(c[0].cmdline, "");
    ck_assert_msg(child_config_apply("initrd.a", "memtest.elf", c, 2, modules, 2, why), "%s",
                  why);
    ck_assert_str_eq(c[0].initrd, "memtest.elf");
    ck_assert_str_eq(c[1].initrd, "");
    ck_assert(child_config_apply("cmdline.b", "console=ttyS0 quiet", c, 2, modules, 2, why));
    ck_assert_str_eq(c[1].cmdline, "console=ttyS0 quiet");
    ck_assert(child_config_apply("cmdline.b", "later wins", c, 2, modules, 2, why));
    ck_assert_str_eq(c[1].cmdline, "later wins");
    /* "\n" is Enter (a carriage return); a lone backslash stays. */
    ck_assert(child_config_apply("test.console_input.a", "echo hi\\npoweroff -f\\n\\x", c, 2,
                                 modules, 2, why));
    ck_assert_str_eq(c[0].console_input, "echo hi\rpoweroff -f\r\\x");
    ck_assert_int_eq(child_config_setting("scsi.b", &name), CHILD_SETTING_SCSI);
    ck_assert_str_eq(name, "b");
    ck_assert_str_eq(c[1].scsi_volume, "");
    ck_assert_msg(child_config_apply("scsi.b", "data_1-x", c, 2, modules, 2, why), "%s", why);
    ck_assert_str_eq(c[1].scsi_volume, "data_1-x");
    ck_assert_str_eq(c[0].scsi_volume, "");
}
END_TEST

START_TEST(scsi_volume_names_refused)
{
    struct child_config c[1] = { 0 };
    char why[CHILD_WHY_MAX];
    ck_assert(child_config_parse("a:hello.elf:16:1", 4, c, 0, modules, 2, &c[0], why));
    struct child_config before = c[0];
    ck_assert(!child_config_apply("scsi.a", "", c, 1, modules, 2, why));
    ck_assert_str_eq(why, "a volume name has 1 to 23 characters");
    ck_assert(!child_config_apply("scsi.a", "Data", c, 1, modules, 2, why));
    ck_assert_str_eq(why, "a volume name may hold only a-z, 0-9, '_' and '-'");
    ck_assert(!child_config_apply("scsi.a", "../store", c, 1, modules, 2, why));
    ck_assert(!child_config_apply("scsi.a", "abcdefghijklmnopqrstuvwx", c, 1, modules, 2, why));
    ck_assert(!child_config_apply("scsi.zz", "data", c, 1, modules, 2, why));
    ck_assert_str_eq(why, "no child named zz is declared");
    ck_assert_mem_eq(&before, &c[0], sizeof(before));
    /* The longest name a volume may have is accepted, whole. */
    ck_assert(child_config_apply("scsi.a", "abcdefghijklmnopqrstuvw", c, 1, modules, 2, why));
    ck_assert_str_eq(c[0].scsi_volume, "abcdefghijklmnopqrstuvw");
}
END_TEST

START_TEST(per_child_settings_refused)
{
    struct child_config c[1] = { 0 };
    char why[CHILD_WHY_MAX];
    ck_assert(child_config_parse("a:hello.elf:16:1", 4, c, 0, modules, 2, &c[0], why));
    struct child_config before = c[0];
    ck_assert(!child_config_apply("initrd.zz", "hello.elf", c, 1, modules, 2, why));
    ck_assert_str_eq(why, "no child named zz is declared");
    ck_assert(!child_config_apply("initrd.", "hello.elf", c, 1, modules, 2, why));
    ck_assert(!child_config_apply("initrd.a", "missing.img", c, 1, modules, 2, why));
    ck_assert_str_eq(why, "no boot module is named missing.img");
    ck_assert(!child_config_apply("initrd.a", "", c, 1, modules, 2, why));
    ck_assert(!child_config_apply("cmdline.a", "bad\x1b[2J", c, 1, modules, 2, why));
    ck_assert(strstr(why, "printable"));
    ck_assert(!child_config_apply("child", "a", c, 1, modules, 2, why));
    char longer[CHILD_CMDLINE_MAX + 2];
    memset(longer, 'x', sizeof(longer) - 1);
    longer[sizeof(longer) - 1] = '\0';
    ck_assert(!child_config_apply("cmdline.a", longer, c, 1, modules, 2, why));
    ck_assert(!child_config_apply("test.console_input.a", longer, c, 1, modules, 2, why));
    longer[CHILD_CMDLINE_MAX] = '\0'; /* exactly the most */
    ck_assert(child_config_apply("cmdline.a", longer, c, 1, modules, 2, why));
    ck_assert_uint_eq(strlen(c[0].cmdline), CHILD_CMDLINE_MAX);
    memset(c[0].cmdline, 0, sizeof(c[0].cmdline));
    ck_assert_mem_eq(&before, &c[0], sizeof(before)); /* refusals changed nothing */
}
END_TEST

Suite *child_config_suite(void)
{
    Suite *s = suite_create("child_config");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, good_declarations);
    tcase_add_test(tc, bad_shape_and_name);
    tcase_add_test(tc, bad_module_memory_and_vps);
    tcase_add_test(tc, names_are_unique);
    tcase_add_test(tc, per_child_settings);
    tcase_add_test(tc, per_child_settings_refused);
    tcase_add_test(tc, scsi_volume_names_refused);
    suite_add_tcase(s, tc);
    return s;
}
