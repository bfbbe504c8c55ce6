/*
 * Authentication of management API requests: one bearer token (RFC 6750 section 2.1,
 * "Authorization: Bearer TOKEN"), provisioned on the firmware command line as
 * `mgmt.token_sha256=HEX` (the SHA-256 of the token, 64 hex digits: preferred, the
 * secret itself never sits in the boot configuration) or `mgmt.token=TOKEN`
 * (16..128 printable characters; kernel/settings.c redacts it from the console).
 *
 * Only the SHA-256 of the token is kept. A presented token is hashed and the two hashes
 * are compared in constant time, so neither the comparison nor the token's length leaks
 * through timing. There is no default credential: without a provisioned token every
 * request is refused (503) and the console says how to provision one.
 *
 * Wrong tokens are rate-limited per source address: after MGMT_AUTH_FAILURES_MAX failures
 * within MGMT_AUTH_WINDOW_MS, the address is refused (429, even with the right token) for
 * MGMT_AUTH_BLOCK_MS. The table holds MGMT_AUTH_SOURCES_MAX addresses; a full table
 * evicts the least recently seen address that is not blocked.
 */
#ifndef HVFW_ROOT_MGMT_AUTH_H
#define HVFW_ROOT_MGMT_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MGMT_AUTH_HASH_BYTES 32
#define MGMT_AUTH_TOKEN_MIN 16
#define MGMT_AUTH_TOKEN_MAX 128
#define MGMT_AUTH_SOURCES_MAX 32
#define MGMT_AUTH_FAILURES_MAX 5
#define MGMT_AUTH_WINDOW_MS 60000u
#define MGMT_AUTH_BLOCK_MS 60000u
#define MGMT_AUTH_MESSAGE_MAX 256

/* A client's address: IPv4 in the first 4 bytes (family 4) or IPv6 (family 6). */
struct mgmt_auth_source {
    uint8_t family;
    uint8_t address[16];
};

enum mgmt_auth_result {
    MGMT_AUTH_OK,
    MGMT_AUTH_NOT_PROVISIONED, /* 503: no token was provisioned */
    MGMT_AUTH_MISSING,         /* 401: no Authorization header */
    MGMT_AUTH_MALFORMED,       /* 401: not "Bearer TOKEN"; counts as a failure */
    MGMT_AUTH_WRONG,           /* 401: a token that is not ours; counts as a failure */
    MGMT_AUTH_RATE_LIMITED,    /* 429: this source failed too often */
};

struct mgmt_auth_entry {
    bool used;
    struct mgmt_auth_source source;
    uint32_t failures;         /* in the window that began at window_start_ms */
    uint64_t window_start_ms;
    uint64_t blocked_until_ms; /* 0: not blocked */
    uint64_t last_seen_ms;
};

struct mgmt_auth {
    bool provisioned;
    uint8_t token_hash[MGMT_AUTH_HASH_BYTES];
    struct mgmt_auth_entry entries[MGMT_AUTH_SOURCES_MAX];
    uint64_t failures;      /* wrong or malformed credentials, for /metrics */
    uint64_t rate_limited;  /* requests refused with 429 */
};

void mgmt_auth_init(struct mgmt_auth *auth);

/* Provision from the SHA-256 in hex (either case) or from the token itself. False (and the
 * previous state kept) if the value is not acceptable; `why` then says why, never echoing
 * the secret. */
bool mgmt_auth_provision_hash(struct mgmt_auth *auth, const char *hex, char *why,
                              size_t why_size);
bool mgmt_auth_provision_token(struct mgmt_auth *auth, const char *token, char *why,
                               size_t why_size);

/* Reads mgmt.token_sha256 (preferred) or mgmt.token from the firmware command line.
 * Writes the console line to show into `message` (how to provision when there is none, or
 * which key was used, or what was wrong). True if a token is now provisioned. */
bool mgmt_auth_provision_from_cmdline(struct mgmt_auth *auth, const char *cmdline,
                                      char *message, size_t size);

/* Checks one request's Authorization value (NULL when the header is absent) from `source`
 * at `now_ms` (a monotonic clock). For MGMT_AUTH_RATE_LIMITED, *retry_after_s is how long
 * the source stays blocked. */
enum mgmt_auth_result mgmt_auth_check(struct mgmt_auth *auth,
                                      const struct mgmt_auth_source *source,
                                      const char *authorization, uint64_t now_ms,
                                      uint64_t *retry_after_s);

/* SHA-256 (FIPS 180-4) through mbedTLS. */
void mgmt_auth_sha256(const void *data, size_t length, uint8_t out[MGMT_AUTH_HASH_BYTES]);
/* Compares `length` bytes in time that depends on `length` only. */
bool mgmt_auth_equal(const uint8_t *a, const uint8_t *b, size_t length);
/* "192.0.2.1" or "2001:db8::1"-style text for log lines. */
void mgmt_auth_source_format(const struct mgmt_auth_source *source, char *out, size_t size);

#endif
