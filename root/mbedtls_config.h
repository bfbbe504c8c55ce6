/*
 * mbedTLS 2.28 configuration of the root partition (MBEDTLS_CONFIG_FILE; every option is
 * documented in deps/mbedtls/include/mbedtls/config.h). Built by tools/build/mbedtls.py.
 *
 * What the management API needs: SHA-256 for the API token (root/mgmt_auth.h) and, for the
 * TLS 1.2 server behind lwIP's altcp_tls (RFC 5246), ECDHE-ECDSA or ECDHE-RSA key exchange
 * with AES-GCM (RFC 5289), a P-256/P-384 key generated on the appliance and a self-signed
 * certificate written with the X.509 writer. Left out on purpose: the file system and
 * sockets (lwIP carries the bytes), threads (the root runs lwIP from one event loop), a
 * wall clock (there is no RTC reading yet: certificate validity dates are not checked),
 * everything older than TLS 1.2, CBC suites, RC4/DES/MD5 and the PSA layer.
 *
 * Entropy: only RDRAND through mbedtls_hardware_poll (root/mgmt_tls.h); no platform
 * source exists, so without RDRAND the entropy collector fails rather than pretend.
 */
#ifndef HVFW_ROOT_MBEDTLS_CONFIG_H
#define HVFW_ROOT_MBEDTLS_CONFIG_H

/* System support */
#define MBEDTLS_HAVE_ASM
#define MBEDTLS_NO_PLATFORM_ENTROPY
#define MBEDTLS_ENTROPY_HARDWARE_ALT
#define MBEDTLS_DEPRECATED_REMOVED
/* No 128-by-64-bit division: it would need libgcc's __udivti3, which the image lacks. */
#define MBEDTLS_NO_UDBL_DIVISION

/* Elliptic curves and key exchange */
#define MBEDTLS_ECP_DP_SECP256R1_ENABLED
#define MBEDTLS_ECP_DP_SECP384R1_ENABLED
#define MBEDTLS_ECP_NIST_OPTIM
#define MBEDTLS_KEY_EXCHANGE_ECDHE_ECDSA_ENABLED
#define MBEDTLS_KEY_EXCHANGE_ECDHE_RSA_ENABLED
#define MBEDTLS_PKCS1_V15

/* TLS */
#define MBEDTLS_SSL_PROTO_TLS1_2
#define MBEDTLS_SSL_SERVER_NAME_INDICATION
#define MBEDTLS_SSL_EXTENDED_MASTER_SECRET
#define MBEDTLS_SSL_ENCRYPT_THEN_MAC
#define MBEDTLS_SSL_TLS_C
#define MBEDTLS_SSL_SRV_C
#define MBEDTLS_SSL_CIPHERSUITES                                                           \
    MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,                                       \
        MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,                                   \
        MBEDTLS_TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,                                     \
        MBEDTLS_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256
/* Records up to 16 KiB each way (the TLS maximum; clients do not all negotiate less). */
#define MBEDTLS_SSL_MAX_CONTENT_LEN 16384

/* Crypto modules */
#define MBEDTLS_AES_C
#define MBEDTLS_AES_ROM_TABLES
#define MBEDTLS_ASN1_PARSE_C
#define MBEDTLS_ASN1_WRITE_C
#define MBEDTLS_BASE64_C
#define MBEDTLS_BIGNUM_C
#define MBEDTLS_CIPHER_C
#define MBEDTLS_CTR_DRBG_C
#define MBEDTLS_ECDH_C
#define MBEDTLS_ECDSA_C
#define MBEDTLS_ECP_C
#define MBEDTLS_ENTROPY_C
#define MBEDTLS_GCM_C
#define MBEDTLS_MD_C
#define MBEDTLS_OID_C
#define MBEDTLS_PEM_PARSE_C
#define MBEDTLS_PEM_WRITE_C
#define MBEDTLS_PK_C
#define MBEDTLS_PK_PARSE_C
#define MBEDTLS_PK_WRITE_C
#define MBEDTLS_RSA_C
/* SHA-1 only for the WebSocket handshake's Sec-WebSocket-Accept (RFC 6455 4.2.2), not a
 * signature: TLS 1.2 keeps mbedTLS's default hash list, which leaves SHA-1 out of key
 * exchanges unless MBEDTLS_TLS_DEFAULT_ALLOW_SHA1_IN_KEY_EXCHANGE (not set here). */
#define MBEDTLS_SHA1_C
#define MBEDTLS_SHA256_C
#define MBEDTLS_SHA512_C
#define MBEDTLS_X509_USE_C
#define MBEDTLS_X509_CRT_PARSE_C
#define MBEDTLS_X509_CREATE_C
#define MBEDTLS_X509_CRT_WRITE_C
#define MBEDTLS_HMAC_DRBG_C
#define MBEDTLS_ECDSA_DETERMINISTIC

#include "mbedtls/check_config.h"

#endif
