// sources: kernel/settings.c kernel/cmdline.c kernel/format.c
#include <check.h>
#include <string.h>

#include "kernel/settings.h"

/* Collects what settings_parse() reports. */
struct messages {
    char text[8][SETTINGS_MESSAGE_MAX];
    size_t count;
};

static void collect(const char *message, void *ctx)
{
    struct messages *m = ctx;
    if (m->count < 8)
        strcpy(m->text[m->count], message);
    m->count++;
}

static struct messages parse(const char *cmdline, struct settings *s)
{
    struct messages m;
    memset(&m, 0, sizeof(m));
    settings_parse(cmdline, s, collect, &m);
    ck_assert_uint_eq(s->problem_count, m.count);
    return m;
}

START_TEST(known_keys_are_quiet)
{
    struct settings s;
    struct messages m = parse("tftp://10.0.2.2/hvfw.elf loglevel=debug test.exit "
                              "child=a:hello.elf:16:1 initrd.a=x.cpio cmdline.a=\"quiet ro\" "
                              "scsi.a=data exit_when_idle acpi.dump=no test.fault=ud "
                              "net.ip=dhcp", &s);
    ck_assert_uint_eq(m.count, 0);
    ck_assert(!s.net_static);
    ck_assert(!s.recovery);
    ck_assert(s.autostart_children);
    ck_assert_uint_eq(s.child_count, 1);
}
END_TEST

START_TEST(unknown_key_warns_and_is_ignored)
{
    struct settings s;
    struct messages m = parse("xyz=1 loglevel=info initrd. bogus", &s);
    ck_assert_uint_eq(m.count, 3);
    ck_assert_str_eq(m.text[0], "settings: unknown key \"xyz\" ignored");
    /* A family prefix alone is not a key. */
    ck_assert_str_eq(m.text[1], "settings: unknown key \"initrd.\" ignored");
    ck_assert_str_eq(m.text[2], "settings: unknown key \"bogus\" ignored");
}
END_TEST

START_TEST(bad_net_ip_falls_back_to_dhcp)
{
    struct settings s;
    struct messages m = parse("net.ip=999.1.1.1", &s);
    ck_assert_uint_eq(m.count, 1);
    ck_assert_str_eq(m.text[0], "settings: net.ip=\"999.1.1.1\" is not an IPv4 address; "
                                "using DHCP");
    ck_assert(!s.net_static);

    /* A good address followed by a bad one: the last word wins, and it is DHCP. */
    m = parse("net.ip=10.0.0.5 net.ip=10.0.0", &s);
    ck_assert_uint_eq(m.count, 1);
    ck_assert(!s.net_static);

    m = parse("net.ip", &s);
    ck_assert_uint_eq(m.count, 1);
    ck_assert_str_eq(m.text[0], "settings: net.ip needs a value (net.ip=...); using DHCP");
}
END_TEST

START_TEST(static_network)
{
    struct settings s;
    struct messages m = parse("net.ip=192.168.1.10/16 net.gateway=192.168.0.1 net.dns=9.9.9.9",
                              &s);
    ck_assert_uint_eq(m.count, 0);
    ck_assert(s.net_static);
    ck_assert_uint_eq(s.net_prefix, 16);
    ck_assert_mem_eq(s.net_ip.octet, ((uint8_t[]){ 192, 168, 1, 10 }), 4);
    ck_assert(s.has_net_gateway);
    ck_assert_mem_eq(s.net_gateway.octet, ((uint8_t[]){ 192, 168, 0, 1 }), 4);
    ck_assert(s.has_net_dns);
    ck_assert_mem_eq(s.net_dns.octet, ((uint8_t[]){ 9, 9, 9, 9 }), 4);

    m = parse("net.ip=10.1.2.3", &s);
    ck_assert(s.net_static);
    ck_assert_uint_eq(s.net_prefix, 24); /* the documented default */

    const char *bad_prefixes[] = { "net.ip=10.1.2.3/0", "net.ip=10.1.2.3/33",
                                   "net.ip=10.1.2.3/", "net.ip=10.1.2.3/024",
                                   "net.ip=10.1.2.3/8x" };
    for (size_t i = 0; i < sizeof(bad_prefixes) / sizeof(bad_prefixes[0]); i++) {
        m = parse(bad_prefixes[i], &s);
        ck_assert_msg(m.count == 1 && !s.net_static, "%s accepted", bad_prefixes[i]);
    }
}
END_TEST

START_TEST(ipv4_syntax)
{
    struct settings_ipv4 a;
    ck_assert(settings_parse_ipv4("0.0.0.0", &a));
    ck_assert(settings_parse_ipv4("255.255.255.255", &a));
    ck_assert_mem_eq(a.octet, ((uint8_t[]){ 255, 255, 255, 255 }), 4);
    const char *bad[] = { "", "1.2.3", "1.2.3.4.5", "256.1.1.1", "1.2.3.4 ", " 1.2.3.4",
                          "01.2.3.4", "1..3.4", "1.2.3.", "a.b.c.d", "1.2.3.-4", "1.2.3.4/24",
                          "1000.1.1.1", "0x1.2.3.4" };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        ck_assert_msg(!settings_parse_ipv4(bad[i], &a), "\"%s\" accepted", bad[i]);
}
END_TEST

START_TEST(gateway_and_dns_fallbacks)
{
    struct settings s;
    struct messages m = parse("net.gateway=1.2.3 net.dns=example.org", &s);
    ck_assert_uint_eq(m.count, 2);
    ck_assert_str_eq(m.text[0], "settings: net.gateway=\"1.2.3\" is not an IPv4 address; "
                                "no static gateway (DHCP's, if any)");
    ck_assert_str_eq(m.text[1], "settings: net.dns=\"example.org\" is not an IPv4 address; "
                                "no static DNS server (DHCP's, if any)");
    ck_assert(!s.has_net_gateway);
    ck_assert(!s.has_net_dns);
}
END_TEST

START_TEST(token_is_checked_never_echoed)
{
    struct settings s;
    struct messages m = parse("mgmt.token=short", &s);
    ck_assert_uint_eq(m.count, 1);
    ck_assert_str_eq(m.text[0], "settings: mgmt.token has 5 characters, want 16 to 128; "
                                "management stays locked");
    ck_assert(!s.has_mgmt_token);
    ck_assert(strstr(m.text[0], "short=") == NULL);

    m = parse("mgmt.token=\"0123456789 abcdef\"", &s);
    ck_assert_uint_eq(m.count, 1);
    ck_assert(strstr(m.text[0], "printable ASCII") != NULL);
    ck_assert(strstr(m.text[0], "0123") == NULL);
    ck_assert(!s.has_mgmt_token);

    m = parse("mgmt.token=0123456789abcdef", &s);
    ck_assert_uint_eq(m.count, 0);
    ck_assert(s.has_mgmt_token);

    m = parse("mgmt.token", &s);
    ck_assert_uint_eq(m.count, 1);
    ck_assert_str_eq(m.text[0], "settings: mgmt.token needs a value (mgmt.token=...); "
                                "management stays locked");

    /* The token's SHA-256 instead (root/mgmt_auth.h): 64 hex digits, either case. */
    m = parse("mgmt.token_sha256=87CBEBFEEBC05F7C54AC9336C4B4BBEC831227A641951A4BDE7EDD56020f8590",
              &s);
    ck_assert_uint_eq(m.count, 0);
    ck_assert(s.has_mgmt_token);
    m = parse("mgmt.token_sha256=87cbebfeebc05f7c54ac9336c4b4bbec831227a641951a4bde7edd56020f859g",
              &s);
    ck_assert_uint_eq(m.count, 1);
    ck_assert_str_eq(m.text[0], "settings: mgmt.token_sha256 is not 64 hex digits (the token's "
                                "SHA-256); management stays locked");
    ck_assert(!s.has_mgmt_token);
    m = parse("mgmt.token_sha256=abcd", &s);
    ck_assert_uint_eq(m.count, 1);
    ck_assert(!s.has_mgmt_token);
}
END_TEST

START_TEST(flags)
{
    struct settings s;
    struct messages m = parse("test.exit=maybe exit_when_idle=off", &s);
    ck_assert_uint_eq(m.count, 1);
    ck_assert_str_eq(m.text[0], "settings: test.exit=\"maybe\" is not one of 1, yes, on, true, "
                                "0, no, off, false; taken as off");
    m = parse("recovery=no", &s);
    ck_assert_uint_eq(m.count, 0);
    ck_assert(!s.recovery);
}
END_TEST

START_TEST(recovery_is_safe)
{
    struct settings s;
    struct messages m = parse("recovery child=a:x.elf:16:1 child=b:y.elf:16:1", &s);
    ck_assert_uint_eq(m.count, 0);
    ck_assert(s.recovery);
    ck_assert(!s.autostart_children);
    ck_assert_uint_eq(s.child_count, 2);

    m = parse("net.ip=10.0.0.5 net.gateway=10.0.0.1 net.dns=10.0.0.1 recovery", &s);
    ck_assert_uint_eq(m.count, 1);
    ck_assert_str_eq(m.text[0], "settings: recovery: net.ip ignored; using DHCP");
    ck_assert(!s.net_static);
    ck_assert(!s.has_net_gateway);
    ck_assert(!s.has_net_dns);
}
END_TEST

START_TEST(hostile_values_are_made_printable)
{
    struct settings s;
    struct messages m = parse("net.ip=\"\x1b[2J\x07\" \x1b[31m=1", &s);
    ck_assert_uint_eq(m.count, 2);
    ck_assert_str_eq(m.text[0], "settings: net.ip=\"?[2J?\" is not an IPv4 address; "
                                "using DHCP");
    ck_assert_str_eq(m.text[1], "settings: unknown key \"?[31m\" ignored");

    /* A long bad value is cut in the message, which stays within its buffer. */
    char line[600];
    strcpy(line, "net.dns=");
    memset(line + 8, '7', 300);
    line[308] = '\0';
    m = parse(line, &s);
    ck_assert_uint_eq(m.count, 1);
    ck_assert(strstr(m.text[0], "7...\" is not an IPv4 address") != NULL);
    ck_assert(strlen(m.text[0]) < SETTINGS_MESSAGE_MAX);
}
END_TEST

START_TEST(too_long_value_is_rejected)
{
    struct settings s;
    char line[700];
    strcpy(line, "net.ip=");
    memset(line + 7, '1', 600);
    line[607] = '\0';
    struct messages m = parse(line, &s);
    ck_assert_uint_eq(m.count, 1);
    ck_assert_str_eq(m.text[0], "settings: net.ip is longer than 511 characters; using DHCP");
    ck_assert(!s.net_static);
}
END_TEST

START_TEST(no_report_callback)
{
    struct settings s;
    settings_parse("xyz net.ip=1", &s, NULL, NULL);
    ck_assert_uint_eq(s.problem_count, 2);
    settings_parse("", &s, NULL, NULL);
    ck_assert_uint_eq(s.problem_count, 0);
    ck_assert(s.autostart_children);
}
END_TEST

START_TEST(secrets_are_redacted)
{
    char out[128];
    settings_redact("tftp://x/hvfw.elf mgmt.token=0123456789abcdef loglevel=debug", out,
                    sizeof(out));
    ck_assert_str_eq(out, "tftp://x/hvfw.elf mgmt.token=<hidden> loglevel=debug");
    settings_redact("mgmt.token=\"a b c\" x=1 mgmt.token", out, sizeof(out));
    ck_assert_str_eq(out, "mgmt.token=<hidden> x=1 mgmt.token");
    /* Inside another key's quoted value it is text, not a key; a key must start a word. */
    settings_redact("cmdline.a=\"q mgmt.token=z\" xmgmt.token=y", out, sizeof(out));
    ck_assert_str_eq(out, "cmdline.a=\"q mgmt.token=z\" xmgmt.token=y");
    settings_redact("a=1 mgmt.token=\"unterminated", out, sizeof(out));
    ck_assert_str_eq(out, "a=1 mgmt.token=<hidden>");
    /* Cut to the buffer, never past it. */
    char small[20];
    settings_redact("x=1 mgmt.token=0123456789abcdef", small, sizeof(small));
    ck_assert_str_eq(small, "x=1 mgmt.token=<hid");
    settings_redact("abc", small, 1);
    ck_assert_str_eq(small, "");
}
END_TEST

Suite *settings_suite(void)
{
    Suite *s = suite_create("settings");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, known_keys_are_quiet);
    tcase_add_test(tc, unknown_key_warns_and_is_ignored);
    tcase_add_test(tc, bad_net_ip_falls_back_to_dhcp);
    tcase_add_test(tc, static_network);
    tcase_add_test(tc, ipv4_syntax);
    tcase_add_test(tc, gateway_and_dns_fallbacks);
    tcase_add_test(tc, token_is_checked_never_echoed);
    tcase_add_test(tc, flags);
    tcase_add_test(tc, recovery_is_safe);
    tcase_add_test(tc, hostile_values_are_made_printable);
    tcase_add_test(tc, too_long_value_is_rejected);
    tcase_add_test(tc, no_report_callback);
    tcase_add_test(tc, secrets_are_redacted);
    suite_add_tcase(s, tc);
    return s;
}
