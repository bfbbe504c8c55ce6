// sources: root/mgmt_auth.c kernel/cmdline.c
// libs: build/host/mbedtls/libmbedtls-host.a
/*
 * API token authentication: provisioning (hash or token, from the command line), right and
 * wrong tokens, the Bearer syntax, the constant-time compare, and the per-source rate limit.
 */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "root/mgmt_auth.h"

static struct mgmt_auth auth;
static const char token[] = "correct-horse-battery-staple";
/* printf %s correct-horse-battery-staple | sha256sum */
static const char token_hash[] =
    "87cbebfeebc05f7c54ac9336c4b4bbec831227a641951a4bde7edd56020f8590";
static const struct mgmt_auth_source alice = { .family = 4, .address = { 192, 0, 2, 1 } };
static const struct mgmt_auth_source bob = { .family = 4, .address = { 192, 0, 2, 2 } };

static enum mgmt_auth_result check(const struct mgmt_auth_source *s, const char *header,
                                   uint64_t now_ms)
{
    uint64_t retry;
    return mgmt_auth_check(&auth, s, header, now_ms, &retry);
}

START_TEST(sha256_known_answers)
{
    /* FIPS 180-4 examples (NIST CSRC "SHA256.pdf"). */
    uint8_t hash[32];
    mgmt_auth_sha256("abc", 3, hash);
    static const uint8_t abc[32] = {
        0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea, 0x41, 0x41, 0x40, 0xde, 0x5d, 0xae,
        0x22, 0x23, 0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17, 0x7a, 0x9c, 0xb4, 0x10, 0xff, 0x61,
        0xf2, 0x00, 0x15, 0xad,
    };
    ck_assert_mem_eq(hash, abc, 32);
}
END_TEST

START_TEST(unprovisioned_refuses_everything)
{
    mgmt_auth_init(&auth);
    ck_assert_int_eq(check(&alice, NULL, 0), MGMT_AUTH_NOT_PROVISIONED);
    char header[64];
    snprintf(header, sizeof(header), "Bearer %s", token);
    ck_assert_int_eq(check(&alice, header, 0), MGMT_AUTH_NOT_PROVISIONED);
    ck_assert_int_eq(check(&alice, "Bearer ", 0), MGMT_AUTH_NOT_PROVISIONED);
    char message[MGMT_AUTH_MESSAGE_MAX];
    ck_assert(!mgmt_auth_provision_from_cmdline(&auth, "loglevel=debug", message,
                                                sizeof(message)));
    ck_assert_ptr_nonnull(strstr(message, "mgmt.token_sha256="));
    ck_assert(!auth.provisioned);
}
END_TEST

START_TEST(right_and_wrong_tokens)
{
    char why[128], header[256];
    mgmt_auth_init(&auth);
    ck_assert(mgmt_auth_provision_token(&auth, token, why, sizeof(why)));
    snprintf(header, sizeof(header), "Bearer %s", token);
    ck_assert_int_eq(check(&alice, header, 0), MGMT_AUTH_OK);
    snprintf(header, sizeof(header), "bEaReR   %s", token); /* scheme case, extra spaces */
    ck_assert_int_eq(check(&alice, header, 0), MGMT_AUTH_OK);
    ck_assert_int_eq(check(&alice, NULL, 0), MGMT_AUTH_MISSING);
    ck_assert_uint_eq(auth.failures, 0);
    static const char *const malformed[] = {
        "", "Bearer", "Bearer ", "Basic Y29ycmVjdA==", "Bearertoken", "Bearer a b",
        "Bearer\tx",
    };
    for (size_t i = 0; i < sizeof(malformed) / sizeof(malformed[0]); i++)
        ck_assert_int_eq(check(&bob, malformed[i], (uint64_t)i * MGMT_AUTH_WINDOW_MS),
                         MGMT_AUTH_MALFORMED);
    snprintf(header, sizeof(header), "Bearer %.*s", (int)strlen(token) - 1, token);
    ck_assert_int_eq(check(&alice, header, 0), MGMT_AUTH_WRONG); /* a prefix */
    snprintf(header, sizeof(header), "Bearer %sx", token);
    ck_assert_int_eq(check(&alice, header, 0), MGMT_AUTH_WRONG); /* longer */
    snprintf(header, sizeof(header), "Bearer %s", token_hash);
    ck_assert_int_eq(check(&alice, header, 0), MGMT_AUTH_WRONG); /* the hash is no token */
    ck_assert_uint_eq(auth.failures, 7 + 3);

    /* The same token provisioned by its hash; the hash is what is stored. */
    struct mgmt_auth by_hash;
    mgmt_auth_init(&by_hash);
    ck_assert(mgmt_auth_provision_hash(&by_hash, token_hash, why, sizeof(why)));
    ck_assert_mem_eq(by_hash.token_hash, auth.token_hash, MGMT_AUTH_HASH_BYTES);
}
END_TEST

START_TEST(provisioning_checks)
{
    char why[128], message[MGMT_AUTH_MESSAGE_MAX];
    mgmt_auth_init(&auth);
    ck_assert(!mgmt_auth_provision_token(&auth, "short", why, sizeof(why)));
    ck_assert(!mgmt_auth_provision_token(&auth, "sixteen chars ok", why, sizeof(why)));
    ck_assert(!mgmt_auth_provision_token(&auth, "tab\tinside-a-long-token", why, sizeof(why)));
    char long_token[MGMT_AUTH_TOKEN_MAX + 2];
    memset(long_token, 'a', sizeof(long_token) - 1);
    long_token[sizeof(long_token) - 1] = '\0';
    ck_assert(!mgmt_auth_provision_token(&auth, long_token, why, sizeof(why)));
    ck_assert(!mgmt_auth_provision_hash(&auth, "abcd", why, sizeof(why)));
    char bad_hash[65];
    memcpy(bad_hash, token_hash, 65);
    bad_hash[10] = 'g';
    ck_assert(!mgmt_auth_provision_hash(&auth, bad_hash, why, sizeof(why)));
    ck_assert_ptr_null(strstr(why, bad_hash)); /* never echoed */
    ck_assert(!auth.provisioned);
    long_token[MGMT_AUTH_TOKEN_MAX] = '\0';
    ck_assert(mgmt_auth_provision_token(&auth, long_token, why, sizeof(why)));

    /* From the command line: the hash wins over the token; a bad value provisions nothing
     * and the message says why without the secret. */
    char cmdline[256];
    snprintf(cmdline, sizeof(cmdline), "mgmt.token=%s mgmt.token_sha256=%s", "x-wrong-but-long-enough",
             token_hash);
    mgmt_auth_init(&auth);
    ck_assert(mgmt_auth_provision_from_cmdline(&auth, cmdline, message, sizeof(message)));
    ck_assert_ptr_nonnull(strstr(message, "mgmt.token_sha256"));
    char header[64];
    snprintf(header, sizeof(header), "Bearer %s", token);
    ck_assert_int_eq(check(&alice, header, 0), MGMT_AUTH_OK);
    mgmt_auth_init(&auth);
    ck_assert(!mgmt_auth_provision_from_cmdline(&auth, "mgmt.token=tooshort", message,
                                                sizeof(message)));
    ck_assert_ptr_null(strstr(message, "tooshort"));
    ck_assert_ptr_nonnull(strstr(message, "503"));
    snprintf(cmdline, sizeof(cmdline), "mgmt.token=%s", token);
    ck_assert(mgmt_auth_provision_from_cmdline(&auth, cmdline, message, sizeof(message)));
    ck_assert_int_eq(check(&alice, header, 0), MGMT_AUTH_OK);
}
END_TEST

START_TEST(rate_limit_per_source)
{
    char why[128], good[64];
    mgmt_auth_init(&auth);
    ck_assert(mgmt_auth_provision_token(&auth, token, why, sizeof(why)));
    snprintf(good, sizeof(good), "Bearer %s", token);
    uint64_t now = 1000, retry;
    for (int i = 0; i < MGMT_AUTH_FAILURES_MAX; i++)
        ck_assert_int_eq(check(&alice, "Bearer wrong", now + (uint64_t)i), MGMT_AUTH_WRONG);
    /* Blocked now, even with the right token; bob is not affected. */
    ck_assert_int_eq(mgmt_auth_check(&auth, &alice, good, now + 10, &retry),
                     MGMT_AUTH_RATE_LIMITED);
    ck_assert_uint_eq(retry, 60);
    ck_assert_int_eq(check(&alice, NULL, now + 10), MGMT_AUTH_RATE_LIMITED);
    ck_assert_int_eq(check(&bob, good, now + 10), MGMT_AUTH_OK);
    ck_assert_uint_eq(auth.rate_limited, 2);
    /* After the block: allowed again. */
    ck_assert_int_eq(check(&alice, good, now + 4 + MGMT_AUTH_BLOCK_MS), MGMT_AUTH_OK);

    /* Failures spread wider than the window never block. */
    mgmt_auth_init(&auth);
    ck_assert(mgmt_auth_provision_token(&auth, token, why, sizeof(why)));
    for (int i = 0; i < 3 * MGMT_AUTH_FAILURES_MAX; i++)
        ck_assert_int_eq(check(&alice, "Bearer wrong",
                               (uint64_t)i * (MGMT_AUTH_WINDOW_MS / (MGMT_AUTH_FAILURES_MAX - 1))),
                         MGMT_AUTH_WRONG);

    /* IPv6 sources are told apart by all 16 bytes. */
    mgmt_auth_init(&auth);
    ck_assert(mgmt_auth_provision_token(&auth, token, why, sizeof(why)));
    struct mgmt_auth_source v6a = { .family = 6, .address = { 0xfe, 0x80, [15] = 1 } };
    struct mgmt_auth_source v6b = { .family = 6, .address = { 0xfe, 0x80, [15] = 2 } };
    for (int i = 0; i < MGMT_AUTH_FAILURES_MAX; i++)
        check(&v6a, "Bearer wrong", 5);
    ck_assert_int_eq(check(&v6a, good, 6), MGMT_AUTH_RATE_LIMITED);
    ck_assert_int_eq(check(&v6b, good, 6), MGMT_AUTH_OK);
}
END_TEST

START_TEST(table_eviction_keeps_blocks)
{
    char why[128], good[64];
    mgmt_auth_init(&auth);
    ck_assert(mgmt_auth_provision_token(&auth, token, why, sizeof(why)));
    snprintf(good, sizeof(good), "Bearer %s", token);
    for (int i = 0; i < MGMT_AUTH_FAILURES_MAX; i++)
        check(&alice, "Bearer wrong", 1);
    /* Many more sources than the table holds pass by; alice's block stays. */
    for (int i = 0; i < 4 * MGMT_AUTH_SOURCES_MAX; i++) {
        struct mgmt_auth_source s = { .family = 4, .address = { 10, 0, (uint8_t)(i >> 8),
                                                                (uint8_t)i } };
        ck_assert_int_eq(check(&s, good, 2), MGMT_AUTH_OK);
    }
    ck_assert_int_eq(check(&alice, good, 3), MGMT_AUTH_RATE_LIMITED);
}
END_TEST

START_TEST(equal_and_format)
{
    uint8_t a[32] = { 0 }, b[32] = { 0 };
    ck_assert(mgmt_auth_equal(a, b, 32));
    for (size_t i = 0; i < 32; i++) {
        b[i] = 0x80;
        ck_assert(!mgmt_auth_equal(a, b, 32));
        b[i] = 0;
    }
    ck_assert(mgmt_auth_equal(a, b, 0));
    char text[64];
    mgmt_auth_source_format(&alice, text, sizeof(text));
    ck_assert_str_eq(text, "192.0.2.1");
    struct mgmt_auth_source v6 = { .family = 6, .address = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 } };
    mgmt_auth_source_format(&v6, text, sizeof(text));
    ck_assert_str_eq(text, "2001:db8:0:0:0:0:0:1");
}
END_TEST

Suite *mgmt_auth_suite(void)
{
    Suite *s = suite_create("mgmt_auth");
    TCase *tc = tcase_create("auth");
    tcase_add_test(tc, sha256_known_answers);
    tcase_add_test(tc, unprovisioned_refuses_everything);
    tcase_add_test(tc, right_and_wrong_tokens);
    tcase_add_test(tc, provisioning_checks);
    tcase_add_test(tc, rate_limit_per_source);
    tcase_add_test(tc, table_eviction_keeps_blocks);
    tcase_add_test(tc, equal_and_format);
    suite_add_tcase(s, tc);
    return s;
}
