#include "root/mgmt_auth.h"

#include <stdio.h>
#include <string.h>

#include "kernel/cmdline.h"
#include "mbedtls/sha256.h"

void mgmt_auth_init(struct mgmt_auth *auth)
{
    memset(auth, 0, sizeof(*auth));
}

void mgmt_auth_sha256(const void *data, size_t length, uint8_t out[MGMT_AUTH_HASH_BYTES])
{
    /* mbedtls_sha256_ret fails only for a bad argument, and these are fixed. */
    (void)mbedtls_sha256_ret(data, length, out, 0);
}

bool mgmt_auth_equal(const uint8_t *a, const uint8_t *b, size_t length)
{
    /* No early exit and no data-dependent branch: OR up every difference. The volatile
     * accumulator keeps the compiler from turning the loop back into memcmp. */
    volatile uint8_t difference = 0;
    for (size_t i = 0; i < length; i++)
        difference = (uint8_t)(difference | (a[i] ^ b[i]));
    return difference == 0;
}

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

bool mgmt_auth_provision_hash(struct mgmt_auth *auth, const char *hex, char *why,
                              size_t why_size)
{
    uint8_t hash[MGMT_AUTH_HASH_BYTES];
    size_t length = strlen(hex);
    if (length != 2 * MGMT_AUTH_HASH_BYTES) {
        snprintf(why, why_size, "mgmt.token_sha256 has %zu characters, want %d hex digits",
                 length, 2 * MGMT_AUTH_HASH_BYTES);
        return false;
    }
    for (size_t i = 0; i < MGMT_AUTH_HASH_BYTES; i++) {
        int high = hex_digit(hex[2 * i]), low = hex_digit(hex[2 * i + 1]);
        if (high < 0 || low < 0) {
            snprintf(why, why_size, "mgmt.token_sha256 holds a non-hex character");
            return false;
        }
        hash[i] = (uint8_t)(high << 4 | low);
    }
    memcpy(auth->token_hash, hash, sizeof(hash));
    auth->provisioned = true;
    return true;
}

bool mgmt_auth_provision_token(struct mgmt_auth *auth, const char *token, char *why,
                               size_t why_size)
{
    size_t length = strnlen(token, MGMT_AUTH_TOKEN_MAX + 1);
    if (length < MGMT_AUTH_TOKEN_MIN || length > MGMT_AUTH_TOKEN_MAX) {
        snprintf(why, why_size, "mgmt.token must have %d to %d characters", MGMT_AUTH_TOKEN_MIN,
                 MGMT_AUTH_TOKEN_MAX);
        return false;
    }
    for (size_t i = 0; i < length; i++) {
        /* token68-ish: what survives a command line and an HTTP header unquoted. */
        if (token[i] <= 0x20 || token[i] >= 0x7F) {
            snprintf(why, why_size, "mgmt.token holds a character other than printable ASCII");
            return false;
        }
    }
    mgmt_auth_sha256(token, length, auth->token_hash);
    auth->provisioned = true;
    return true;
}

#define HOW_TO_PROVISION                                                                   \
    "put mgmt.token_sha256=HEX (the SHA-256 of a token of 16 to 128 printable characters, " \
    "e.g. `printf %%s TOKEN | sha256sum`) or mgmt.token=TOKEN on the firmware command line"

bool mgmt_auth_provision_from_cmdline(struct mgmt_auth *auth, const char *cmdline,
                                      char *message, size_t size)
{
    static char value[CMDLINE_VALUE_MAX];
    char why[MGMT_AUTH_MESSAGE_MAX] = "";
    bool ok = false;
    if (cmdline_get(cmdline, "mgmt.token_sha256", value, sizeof(value))) {
        ok = mgmt_auth_provision_hash(auth, value, why, sizeof(why));
        if (ok)
            snprintf(message, size, "API token provisioned by mgmt.token_sha256");
    } else if (cmdline_get(cmdline, "mgmt.token", value, sizeof(value))) {
        ok = mgmt_auth_provision_token(auth, value, why, sizeof(why));
        if (ok)
            snprintf(message, size, "API token provisioned by mgmt.token (stored as its "
                                    "SHA-256; mgmt.token_sha256 keeps it off the command "
                                    "line)");
    } else {
        snprintf(why, sizeof(why), "no API token");
    }
    memset(value, 0, sizeof(value)); /* the secret does not linger in this buffer */
    if (!ok)
        snprintf(message, size, "%s: every API request is refused (503); " HOW_TO_PROVISION,
                 why);
    return ok;
}

static bool same_source(const struct mgmt_auth_source *a, const struct mgmt_auth_source *b)
{
    size_t length = a->family == 4 ? 4 : sizeof(a->address);
    return a->family == b->family && memcmp(a->address, b->address, length) == 0;
}

/* The entry of `source`, created if new; never NULL. */
static struct mgmt_auth_entry *entry_for(struct mgmt_auth *auth,
                                         const struct mgmt_auth_source *source,
                                         uint64_t now_ms)
{
    struct mgmt_auth_entry *free_entry = NULL, *oldest = NULL, *oldest_blocked = NULL;
    for (size_t i = 0; i < MGMT_AUTH_SOURCES_MAX; i++) {
        struct mgmt_auth_entry *e = &auth->entries[i];
        if (!e->used) {
            if (!free_entry)
                free_entry = e;
            continue;
        }
        if (same_source(&e->source, source))
            return e;
        bool blocked = e->blocked_until_ms > now_ms;
        struct mgmt_auth_entry **slot = blocked ? &oldest_blocked : &oldest;
        if (!*slot || e->last_seen_ms < (*slot)->last_seen_ms)
            *slot = e;
    }
    struct mgmt_auth_entry *e = free_entry ? free_entry : oldest ? oldest : oldest_blocked;
    *e = (struct mgmt_auth_entry){ .used = true, .source = *source, .window_start_ms = now_ms };
    return e;
}

static void count_failure(struct mgmt_auth *auth, struct mgmt_auth_entry *e, uint64_t now_ms)
{
    auth->failures++;
    if (now_ms - e->window_start_ms >= MGMT_AUTH_WINDOW_MS) {
        e->window_start_ms = now_ms;
        e->failures = 0;
    }
    if (++e->failures >= MGMT_AUTH_FAILURES_MAX) {
        e->blocked_until_ms = now_ms + MGMT_AUTH_BLOCK_MS;
        e->failures = 0;
        e->window_start_ms = now_ms;
    }
}

/* The token of "Bearer TOKEN": the scheme is case-insensitive (RFC 9110 11.1), one or more
 * spaces follow it, and the token has no whitespace. NULL if it is not that. */
static const char *bearer_token(const char *authorization)
{
    static const char scheme[] = "bearer";
    for (size_t i = 0; i < sizeof(scheme) - 1; i++) {
        char c = authorization[i];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        if (c != scheme[i])
            return NULL;
    }
    const char *token = authorization + sizeof(scheme) - 1;
    if (*token != ' ')
        return NULL;
    while (*token == ' ')
        token++;
    if (*token == '\0')
        return NULL;
    for (const char *p = token; *p; p++)
        if (*p <= 0x20 || *p >= 0x7F)
            return NULL;
    return token;
}

enum mgmt_auth_result mgmt_auth_check(struct mgmt_auth *auth,
                                      const struct mgmt_auth_source *source,
                                      const char *authorization, uint64_t now_ms,
                                      uint64_t *retry_after_s)
{
    *retry_after_s = 0;
    if (!auth->provisioned)
        return MGMT_AUTH_NOT_PROVISIONED;
    struct mgmt_auth_entry *e = entry_for(auth, source, now_ms);
    e->last_seen_ms = now_ms;
    if (e->blocked_until_ms > now_ms) {
        /* Refused before looking at the token, so guessing on gains nothing. */
        auth->rate_limited++;
        *retry_after_s = (e->blocked_until_ms - now_ms + 999) / 1000;
        return MGMT_AUTH_RATE_LIMITED;
    }
    if (!authorization)
        return MGMT_AUTH_MISSING;
    const char *token = bearer_token(authorization);
    if (!token) {
        count_failure(auth, e, now_ms);
        return MGMT_AUTH_MALFORMED;
    }
    uint8_t hash[MGMT_AUTH_HASH_BYTES];
    mgmt_auth_sha256(token, strlen(token), hash);
    if (!mgmt_auth_equal(hash, auth->token_hash, sizeof(hash))) {
        count_failure(auth, e, now_ms);
        return MGMT_AUTH_WRONG;
    }
    e->failures = 0;
    return MGMT_AUTH_OK;
}

void mgmt_auth_source_format(const struct mgmt_auth_source *source, char *out, size_t size)
{
    const uint8_t *a = source->address;
    if (source->family == 4) {
        snprintf(out, size, "%u.%u.%u.%u", a[0], a[1], a[2], a[3]);
        return;
    }
    snprintf(out, size, "%x:%x:%x:%x:%x:%x:%x:%x", a[0] << 8 | a[1], a[2] << 8 | a[3],
             a[4] << 8 | a[5], a[6] << 8 | a[7], a[8] << 8 | a[9], a[10] << 8 | a[11],
             a[12] << 8 | a[13], a[14] << 8 | a[15]);
}
