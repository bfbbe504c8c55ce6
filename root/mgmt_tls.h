/*
 * The management API's TLS identity (docs/api.md "Transport"):
 * an ECDSA P-256 key (FIPS 186-4 / SEC 1) generated on the appliance from a CTR_DRBG
 * (NIST SP 800-90A) seeded only by the CPU's RDRAND, and a self-signed X.509 v3
 * certificate (RFC 5280) for it, whose SHA-256 fingerprint the console prints so that
 * clients can pin it. root/mgmt_server.c serves it through lwIP's altcp_tls. The key is
 * not kept across boots yet (the appliance has no store yet).
 *
 * Also the entropy source of root/mbedtls_config.h (MBEDTLS_ENTROPY_HARDWARE_ALT):
 * mbedtls_hardware_poll, RDRAND only; without RDRAND it fails, and so does every use of
 * mbedTLS's entropy collector, rather than seed keys from something guessable.
 */
#ifndef HVFW_ROOT_MGMT_TLS_H
#define HVFW_ROOT_MGMT_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MGMT_TLS_CERTIFICATE_MAX 1024 /* DER bytes; a P-256 self-signed one is ~400 */
#define MGMT_TLS_KEY_MAX 256          /* DER bytes of the private key (SEC 1) */
/* "AB:CD:..." of 32 bytes, NUL-terminated. */
#define MGMT_TLS_FINGERPRINT_TEXT (32 * 3)

struct mgmt_tls_identity {
    uint8_t certificate[MGMT_TLS_CERTIFICATE_MAX];
    size_t certificate_length;
    uint8_t key[MGMT_TLS_KEY_MAX]; /* private: never logged */
    size_t key_length;
    uint8_t fingerprint[32];       /* SHA-256 of the certificate's DER */
    char fingerprint_text[MGMT_TLS_FINGERPRINT_TEXT];
};

/* Generates a key and its certificate for `common_name` (printable ASCII, no ',', '=' or
 * '\', at most 64 characters: the X.520 ub-common-name). False with `why` set if the
 * name is not acceptable, entropy is not there, or mbedTLS fails. */
bool mgmt_tls_identity_create(const char *common_name, struct mgmt_tls_identity *out,
                              char *why, size_t why_size);

/* mbedTLS's hardware entropy callback (mbedtls/entropy_poll.h). */
int mbedtls_hardware_poll(void *data, unsigned char *output, size_t length, size_t *olength);

#endif
