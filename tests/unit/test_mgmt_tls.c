// sources: root/mgmt_tls.c libc-glue/random.c
// libs: build/host/mbedtls/libmbedtls-host.a
/*
 * The management API's TLS identity on the host: the key and certificate mbedTLS writes
 * are read back by mbedTLS's own parsers; the certificate verifies against itself, names
 * the key, and its fingerprint is the SHA-256 of its DER. Names that would break the
 * X.509 name string are refused.
 */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "libc-glue/random.h"
#include "mbedtls/pk.h"
#include "mbedtls/sha256.h"
#include "mbedtls/x509_crt.h"
#include "root/mgmt_tls.h"

static struct mgmt_tls_identity identity, other;

START_TEST(identity_reads_back)
{
    if (!random_hardware_available()) {
        puts("test_mgmt_tls: this host has no RDRAND; the identity test is skipped");
        return;
    }
    char why[128];
    ck_assert_msg(mgmt_tls_identity_create("hvfw-test", &identity, why, sizeof(why)), "%s", why);
    ck_assert_uint_gt(identity.certificate_length, 200);
    ck_assert_uint_gt(identity.key_length, 100);

    mbedtls_x509_crt crt;
    mbedtls_x509_crt_init(&crt);
    ck_assert_int_eq(mbedtls_x509_crt_parse_der(&crt, identity.certificate,
                                                identity.certificate_length), 0);
    ck_assert_int_eq(crt.version, 3);
    char name[128];
    ck_assert_int_gt(mbedtls_x509_dn_gets(name, sizeof(name), &crt.subject), 0);
    ck_assert_str_eq(name, "CN=hvfw-test");
    uint32_t flags = 0;
    ck_assert_int_eq(mbedtls_x509_crt_verify(&crt, &crt, NULL, NULL, &flags, NULL, NULL), 0);
    ck_assert_uint_eq(flags, 0);

    mbedtls_pk_context key;
    mbedtls_pk_init(&key);
    ck_assert_int_eq(mbedtls_pk_parse_key(&key, identity.key, identity.key_length, NULL, 0), 0);
    ck_assert_int_eq(mbedtls_pk_check_pair(&crt.pk, &key), 0);

    uint8_t hash[32];
    mbedtls_sha256_ret(identity.certificate, identity.certificate_length, hash, 0);
    ck_assert_mem_eq(hash, identity.fingerprint, 32);
    char first[4];
    snprintf(first, sizeof(first), "%02X:", hash[0]);
    ck_assert_int_eq(strncmp(identity.fingerprint_text, first, 3), 0);
    ck_assert_uint_eq(strlen(identity.fingerprint_text), 32 * 3 - 1);

    /* A second identity is another key, another certificate. */
    ck_assert(mgmt_tls_identity_create("hvfw-test", &other, why, sizeof(why)));
    ck_assert(memcmp(other.fingerprint, identity.fingerprint, 32) != 0);
    ck_assert(other.key_length != identity.key_length ||
              memcmp(other.key, identity.key, identity.key_length) != 0);
    mbedtls_pk_free(&key);
    mbedtls_x509_crt_free(&crt);
}
END_TEST

START_TEST(bad_names)
{
    char why[128];
    static const char *const bad[] = {
        "", "a,b", "CN=x", "a+b", "back\\slash", "quote\"", "tab\there",
        "0123456789012345678901234567890123456789012345678901234567890123x",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        why[0] = '\0';
        ck_assert_msg(!mgmt_tls_identity_create(bad[i], &other, why, sizeof(why)), "%s", bad[i]);
        ck_assert_uint_gt(strlen(why), 0);
        ck_assert_uint_eq(other.certificate_length, 0);
    }
}
END_TEST

START_TEST(entropy_callback)
{
    unsigned char out[37];
    size_t got = 99;
    int ret = mbedtls_hardware_poll(NULL, out, sizeof(out), &got);
    if (random_hardware_available()) {
        ck_assert_int_eq(ret, 0);
        ck_assert_uint_eq(got, sizeof(out));
    } else {
        ck_assert_int_ne(ret, 0);
        ck_assert_uint_eq(got, 0);
    }
}
END_TEST

Suite *mgmt_tls_suite(void)
{
    Suite *s = suite_create("mgmt_tls");
    TCase *tc = tcase_create("identity");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, identity_reads_back);
    tcase_add_test(tc, bad_names);
    tcase_add_test(tc, entropy_callback);
    suite_add_tcase(s, tc);
    return s;
}
