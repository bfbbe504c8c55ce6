// sources: tools/hvctl/args.c
/*
 * hvctl's command line: verbs, names, options in either form, the host's port forms, the
 * environment's defaults, and every refusal a person can make by mistake.
 */
#include <check.h>
#include <string.h>

#include "tools/hvctl/args.h"

static struct hvctl_args args;
static char why[HVCTL_WHY_MAX];

#define ARGV(...) ((const char *const[]){ "hvctl", __VA_ARGS__ })
#define PARSE(defaults, ...)                                                                 \
    hvctl_args_parse((int)(sizeof(ARGV(__VA_ARGS__)) / sizeof(char *)), ARGV(__VA_ARGS__), \
                     defaults, &args, why, sizeof(why))

START_TEST(verbs_and_names)
{
    ck_assert(PARSE(NULL, "--host", "10.0.0.1", "--token", "t0k", "ls"));
    ck_assert_int_eq(args.verb, HVCTL_LS);
    ck_assert_str_eq(args.host, "10.0.0.1");
    ck_assert_uint_eq(args.port, HVCTL_PORT_DEFAULT);
    ck_assert_str_eq(args.token, "t0k");
    ck_assert(!args.json);
    ck_assert(PARSE(NULL, "--host=h:8444", "--json", "show", "web-1.a_b"));
    ck_assert_int_eq(args.verb, HVCTL_SHOW);
    ck_assert_str_eq(args.name, "web-1.a_b");
    ck_assert_uint_eq(args.port, 8444);
    ck_assert(args.json);
    static const struct { const char *word; enum hvctl_verb verb; } named[] = {
        { "start", HVCTL_START }, { "stop", HVCTL_STOP }, { "reset", HVCTL_RESET },
        { "rm", HVCTL_RM },
    };
    for (size_t i = 0; i < sizeof(named) / sizeof(named[0]); i++) {
        ck_assert_msg(PARSE(NULL, "--host", "h", named[i].word, "a"), "%s", why);
        ck_assert_int_eq(args.verb, named[i].verb);
        ck_assert_str_eq(args.name, "a");
    }
    ck_assert(PARSE(NULL, "--host", "h", "info"));
    ck_assert_int_eq(args.verb, HVCTL_INFO);
    ck_assert(PARSE(NULL, "--host", "h", "metrics"));
    ck_assert_int_eq(args.verb, HVCTL_METRICS);
    ck_assert(PARSE(NULL, "help"));
    ck_assert_int_eq(args.verb, HVCTL_HELP);
    ck_assert(PARSE(NULL, "ls", "--help"));
    ck_assert_int_eq(args.verb, HVCTL_HELP);
}
END_TEST

START_TEST(create)
{
    ck_assert_msg(PARSE(NULL, "--host", "h", "create", "web", "--kernel", "vmlinuz",
                        "--initrd=initrd.gz", "--cmdline", "console=ttyS0 quiet", "--memory",
                        "512", "--vps=2"),
                  "%s", why);
    ck_assert_int_eq(args.verb, HVCTL_CREATE);
    ck_assert_str_eq(args.name, "web");
    ck_assert_str_eq(args.kernel, "vmlinuz");
    ck_assert_str_eq(args.initrd, "initrd.gz");
    ck_assert_str_eq(args.cmdline, "console=ttyS0 quiet");
    ck_assert_uint_eq(args.memory_mib, 512);
    ck_assert_uint_eq(args.vp_count, 2);
    /* Each of --kernel, --memory, --vps is needed; numbers are numbers. */
    ck_assert(!PARSE(NULL, "--host", "h", "create", "web", "--memory", "1", "--vps", "1"));
    ck_assert_ptr_nonnull(strstr(why, "--kernel"));
    ck_assert(!PARSE(NULL, "--host", "h", "create", "web", "--kernel", "k", "--vps", "1"));
    ck_assert(!PARSE(NULL, "--host", "h", "create", "web", "--kernel", "k", "--memory", "1"));
    ck_assert(!PARSE(NULL, "--host", "h", "create", "web", "--kernel", "k", "--memory", "1x",
                     "--vps", "1"));
    ck_assert(!PARSE(NULL, "--host", "h", "create", "web", "--kernel", "k", "--memory", "-1",
                     "--vps", "1"));
    ck_assert(!PARSE(NULL, "--host", "h", "create", "web", "--kernel", "k", "--memory", "1",
                     "--vps", "0"));
    ck_assert(!PARSE(NULL, "--host", "h", "create", "web", "--kernel", "k", "--memory",
                     "99999999999999999999", "--vps", "1"));
    ck_assert(!PARSE(NULL, "--host", "h", "create", "web", "--kernel"));
    ck_assert_ptr_nonnull(strstr(why, "needs a value"));
    /* create's options belong to create. */
    ck_assert(!PARSE(NULL, "--host", "h", "start", "web", "--kernel", "k"));
    ck_assert_ptr_nonnull(strstr(why, "belongs to 'create'"));
}
END_TEST

START_TEST(hosts)
{
    char host[64];
    uint16_t port;
    ck_assert(hvctl_args_parse_host("appliance", host, sizeof(host), &port));
    ck_assert_str_eq(host, "appliance");
    ck_assert_uint_eq(port, 8443);
    ck_assert(hvctl_args_parse_host("10.0.2.15:1", host, sizeof(host), &port));
    ck_assert_str_eq(host, "10.0.2.15");
    ck_assert_uint_eq(port, 1);
    ck_assert(hvctl_args_parse_host("[fe80::1]:65535", host, sizeof(host), &port));
    ck_assert_str_eq(host, "fe80::1");
    ck_assert_uint_eq(port, 65535);
    ck_assert(hvctl_args_parse_host("[::1]", host, sizeof(host), &port));
    ck_assert_str_eq(host, "::1");
    ck_assert(hvctl_args_parse_host("fe80::2", host, sizeof(host), &port));
    ck_assert_str_eq(host, "fe80::2");
    ck_assert_uint_eq(port, 8443);
    static const char *const bad[] = { "", ":8443", "h:", "h:0", "h:65536", "h:x", "h:+1",
                                       "[::1", "[::1]x", "[]:1", "[::1]:" };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        ck_assert_msg(!hvctl_args_parse_host(bad[i], host, sizeof(host), &port), "%s", bad[i]);
    char small[4];
    ck_assert(!hvctl_args_parse_host("longer", small, sizeof(small), &port));
}
END_TEST

START_TEST(environment_defaults)
{
    const struct hvctl_defaults defaults = { "envhost:9000", "envtoken" };
    ck_assert(PARSE(&defaults, "ls"));
    ck_assert_str_eq(args.host, "envhost");
    ck_assert_uint_eq(args.port, 9000);
    ck_assert_str_eq(args.token, "envtoken");
    /* The command line wins. */
    ck_assert(PARSE(&defaults, "--host", "h", "--token", "t", "ls"));
    ck_assert_str_eq(args.host, "h");
    ck_assert_str_eq(args.token, "t");
    /* No token is allowed here (the appliance refuses; hvctl says so). */
    ck_assert(PARSE(NULL, "--host", "h", "ls"));
    ck_assert_str_eq(args.token, "");
}
END_TEST

START_TEST(refusals)
{
    ck_assert(!PARSE(NULL, "--host", "h"));
    ck_assert_ptr_nonnull(strstr(why, "no verb"));
    ck_assert(!PARSE(NULL, "--host", "h", "launch"));
    ck_assert_ptr_nonnull(strstr(why, "unknown verb"));
    ck_assert(!PARSE(NULL, "--host", "h", "show"));
    ck_assert_ptr_nonnull(strstr(why, "needs a partition NAME"));
    ck_assert(!PARSE(NULL, "--host", "h", "ls", "a"));
    ck_assert_ptr_nonnull(strstr(why, "takes no NAME"));
    ck_assert(!PARSE(NULL, "--host", "h", "show", "a", "b"));
    ck_assert(!PARSE(NULL, "--host", "h", "--verbose", "ls"));
    ck_assert_ptr_nonnull(strstr(why, "unknown option"));
    ck_assert(!PARSE(NULL, "ls"));
    ck_assert_ptr_nonnull(strstr(why, "HVCTL_HOST"));
    ck_assert(!PARSE(NULL, "--host"));
    ck_assert(!PARSE(NULL, "--host", "h:99999", "ls"));
    ck_assert(!PARSE(NULL, "--token"));
    /* Names and tokens that would break the request line. */
    ck_assert(!PARSE(NULL, "--host", "h", "show", "a b"));
    ck_assert(!PARSE(NULL, "--host", "h", "show", "a/../host"));
    ck_assert(!PARSE(NULL, "--host", "h", "show", "a\r\nX: y"));
    ck_assert(!PARSE(NULL, "--host", "h", "show", "012345678901234567890123456789012"));
    ck_assert(!PARSE(NULL, "--host", "h", "--token", "a b", "ls"));
    ck_assert(!PARSE(NULL, "--host", "h", "--token", "a\r\nX: y", "ls"));
    ck_assert_ptr_nonnull(strstr(why, "token"));
}
END_TEST

START_TEST(console_and_logs)
{
    ck_assert_msg(PARSE(NULL, "--host", "h", "console", "l"), "%s", why);
    ck_assert_int_eq(args.verb, HVCTL_CONSOLE);
    ck_assert_str_eq(args.name, "l");
    ck_assert(!args.has_tail);
    ck_assert_str_eq(args.until, "");
    ck_assert_uint_eq(args.timeout_s, HVCTL_CONSOLE_TIMEOUT_S);
    ck_assert_msg(PARSE(NULL, "--host", "h", "console", "l", "--tail", "0", "--until=login:",
                        "--timeout", "5"), "%s", why);
    ck_assert(args.has_tail);
    ck_assert_uint_eq(args.tail, 0);
    ck_assert_str_eq(args.until, "login:");
    ck_assert_uint_eq(args.timeout_s, 5);
    ck_assert_msg(PARSE(NULL, "--host", "h", "logs", "--since", "42", "--follow"), "%s", why);
    ck_assert_int_eq(args.verb, HVCTL_LOGS);
    ck_assert_uint_eq(args.since, 42);
    ck_assert(args.follow);
    ck_assert(!PARSE(NULL, "--host", "h", "console"));
    ck_assert_ptr_nonnull(strstr(why, "needs a partition NAME"));
    ck_assert(!PARSE(NULL, "--host", "h", "logs", "a"));
    ck_assert(!PARSE(NULL, "--host", "h", "ls", "--follow"));
    ck_assert_ptr_nonnull(strstr(why, "belongs to 'logs'"));
    ck_assert(!PARSE(NULL, "--host", "h", "logs", "--until", "x"));
    ck_assert_ptr_nonnull(strstr(why, "belongs to 'console'"));
    ck_assert(!PARSE(NULL, "--host", "h", "console", "l", "--tail", "-1"));
    ck_assert(!PARSE(NULL, "--host", "h", "console", "l", "--timeout", "0"));
    ck_assert(!PARSE(NULL, "--host", "h", "console", "l", "--until", ""));
    ck_assert(!PARSE(NULL, "--host", "h", "logs", "--since", "x"));
    ck_assert(!PARSE(NULL, "--host", "h", "logs", "--since", "-3"));
}
END_TEST

Suite *hvctl_args_suite(void)
{
    Suite *s = suite_create("hvctl_args");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, verbs_and_names);
    tcase_add_test(tc, create);
    tcase_add_test(tc, hosts);
    tcase_add_test(tc, environment_defaults);
    tcase_add_test(tc, refusals);
    tcase_add_test(tc, console_and_logs);
    suite_add_tcase(s, tc);
    return s;
}
