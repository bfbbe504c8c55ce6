#include "tools/hvctl/transport.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mbedtls/ctr_drbg.h"
#include "mbedtls/entropy.h"
#include "mbedtls/error.h"
#include "mbedtls/net_sockets.h"
#include "mbedtls/sha256.h"
#include "mbedtls/ssl.h"

#include "tools/hvctl/known_hosts.h"
#include "tools/hvctl/render.h"

struct tls {
    mbedtls_net_context net;
    mbedtls_ssl_context ssl;
    mbedtls_ssl_config config;
    mbedtls_entropy_context entropy;
    mbedtls_ctr_drbg_context drbg;
};

static void tls_error(int ret, const char *step, char *why, size_t why_size)
{
    char text[120];
    mbedtls_strerror(ret, text, sizeof(text));
    snprintf(why, why_size, "%s: %s (-0x%04x)", step, text, (unsigned)-ret);
}

/* Connects and completes the handshake; the certificate is not judged by a CA (the
 * appliance's is self-signed) but by the pin, in the caller. */
static int tls_open(struct tls *t, const struct hvctl_args *args, char *why, size_t why_size)
{
    char port[8];
    snprintf(port, sizeof(port), "%u", args->port);
    static const unsigned char personalization[] = "hvctl";
    int ret = mbedtls_ctr_drbg_seed(&t->drbg, mbedtls_entropy_func, &t->entropy,
                                    personalization, sizeof(personalization) - 1);
    if (ret) {
        tls_error(ret, "seeding the random generator", why, why_size);
        return HVCTL_EXIT_OTHER;
    }
    ret = mbedtls_net_connect(&t->net, args->host, port, MBEDTLS_NET_PROTO_TCP);
    if (ret) {
        snprintf(why, why_size, "cannot connect to %s port %u (%s); is the appliance up, "
                 "and is this its management address?", args->host, args->port,
                 ret == MBEDTLS_ERR_NET_UNKNOWN_HOST ? "unknown host" : "connection failed");
        return HVCTL_EXIT_CONNECTION;
    }
    ret = mbedtls_ssl_config_defaults(&t->config, MBEDTLS_SSL_IS_CLIENT,
                                      MBEDTLS_SSL_TRANSPORT_STREAM, MBEDTLS_SSL_PRESET_DEFAULT);
    if (ret) {
        tls_error(ret, "TLS configuration", why, why_size);
        return HVCTL_EXIT_OTHER;
    }
    /* TLS 1.2 at least (the appliance speaks 1.2, RFC 5246). */
    mbedtls_ssl_conf_min_version(&t->config, MBEDTLS_SSL_MAJOR_VERSION_3,
                                 MBEDTLS_SSL_MINOR_VERSION_3);
    mbedtls_ssl_conf_authmode(&t->config, MBEDTLS_SSL_VERIFY_NONE); /* pinned instead */
    mbedtls_ssl_conf_rng(&t->config, mbedtls_ctr_drbg_random, &t->drbg);
    mbedtls_ssl_conf_read_timeout(&t->config, HVCTL_TIMEOUT_MS);
    if ((ret = mbedtls_ssl_setup(&t->ssl, &t->config)) != 0) {
        tls_error(ret, "TLS setup", why, why_size);
        return HVCTL_EXIT_OTHER;
    }
    mbedtls_ssl_set_bio(&t->ssl, &t->net, mbedtls_net_send, NULL, mbedtls_net_recv_timeout);
    while ((ret = mbedtls_ssl_handshake(&t->ssl)) != 0) {
        if (ret == MBEDTLS_ERR_SSL_WANT_READ || ret == MBEDTLS_ERR_SSL_WANT_WRITE)
            continue;
        tls_error(ret, "TLS handshake with the appliance failed", why, why_size);
        return HVCTL_EXIT_CONNECTION;
    }
    return HVCTL_EXIT_OK;
}

static int check_pin(struct tls *t, const struct hvctl_args *args, const char *known_hosts,
                     char *why, size_t why_size)
{
    const mbedtls_x509_crt *peer = mbedtls_ssl_get_peer_cert(&t->ssl);
    if (!peer) {
        snprintf(why, why_size, "the appliance sent no certificate");
        return HVCTL_EXIT_CONNECTION;
    }
    unsigned char digest[32];
    mbedtls_sha256_ret(peer->raw.p, peer->raw.len, digest, 0);
    char fingerprint[HVCTL_FINGERPRINT_TEXT], pinned[HVCTL_FINGERPRINT_TEXT] = "";
    hvctl_fingerprint_text(digest, fingerprint);
    char host_port[HVCTL_HOST_MAX + 16];
    snprintf(host_port, sizeof(host_port), "%s:%u", args->host, args->port);
    char problem[HVCTL_WHY_MAX + 64];
    switch (hvctl_known_hosts_check(known_hosts, host_port, fingerprint, pinned, problem,
                                    sizeof(problem))) {
    case HVCTL_PIN_MATCH:
        return HVCTL_EXIT_OK;
    case HVCTL_PIN_ADDED:
        fprintf(stderr, "hvctl: first connection to %s: pinned its certificate, sha256 %s "
                "(compare it with the appliance's console) in %s\n", host_port, fingerprint,
                known_hosts);
        return HVCTL_EXIT_OK;
    case HVCTL_PIN_CHANGED:
        snprintf(why, why_size,
                 "the certificate of %s CHANGED: it is now sha256 %s, pinned was %s. Nothing "
                 "was sent. If the appliance was reinstalled or rebooted without a store, "
                 "check the fingerprint on its console and remove the line '%s ...' from %s",
                 host_port, fingerprint, pinned, host_port, known_hosts);
        return HVCTL_EXIT_CONNECTION;
    case HVCTL_PIN_ERROR:
        break;
    }
    snprintf(why, why_size, "%s", problem);
    return HVCTL_EXIT_OTHER;
}

static int exchange(struct tls *t, const char *request, size_t request_length,
                    struct hvctl_response *out, char *why, size_t why_size)
{
    for (size_t sent = 0; sent < request_length;) {
        int ret = mbedtls_ssl_write(&t->ssl, (const unsigned char *)request + sent,
                                    request_length - sent);
        if (ret == MBEDTLS_ERR_SSL_WANT_READ || ret == MBEDTLS_ERR_SSL_WANT_WRITE)
            continue;
        if (ret < 0) {
            tls_error(ret, "sending the request", why, why_size);
            return HVCTL_EXIT_CONNECTION;
        }
        sent += (size_t)ret;
    }
    size_t size = 16384, length = 0;
    char *data = malloc(size + 1);
    if (!data) {
        snprintf(why, why_size, "out of memory");
        return HVCTL_EXIT_OTHER;
    }
    for (;;) {
        if (length == size) {
            if (size >= HVCTL_RESPONSE_MAX) {
                free(data);
                snprintf(why, why_size, "the answer is larger than %u bytes",
                         HVCTL_RESPONSE_MAX);
                return HVCTL_EXIT_OTHER;
            }
            char *larger = realloc(data, size * 2 + 1);
            if (!larger) {
                free(data);
                snprintf(why, why_size, "out of memory");
                return HVCTL_EXIT_OTHER;
            }
            data = larger;
            size *= 2;
        }
        int ret = mbedtls_ssl_read(&t->ssl, (unsigned char *)data + length, size - length);
        if (ret == MBEDTLS_ERR_SSL_WANT_READ || ret == MBEDTLS_ERR_SSL_WANT_WRITE)
            continue;
        if (ret == 0 || ret == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY ||
            ret == MBEDTLS_ERR_NET_CONN_RESET)
            break; /* Connection: close: the end of the answer */
        if (ret == MBEDTLS_ERR_SSL_TIMEOUT) {
            free(data);
            snprintf(why, why_size, "no answer within %u s", HVCTL_TIMEOUT_MS / 1000);
            return HVCTL_EXIT_CONNECTION;
        }
        if (ret < 0) {
            free(data);
            tls_error(ret, "reading the answer", why, why_size);
            return HVCTL_EXIT_CONNECTION;
        }
        length += (size_t)ret;
    }
    data[length] = '\0';
    bool ok = hvctl_response_parse(data, length, out, why, why_size);
    free(data);
    return ok ? HVCTL_EXIT_OK : HVCTL_EXIT_OTHER;
}

int hvctl_request(const struct hvctl_args *args, const char *known_hosts, const char *method,
                  const char *path, const char *body, struct hvctl_response *out, char *why,
                  size_t why_size)
{
    static struct tls t;
    mbedtls_net_init(&t.net);
    mbedtls_ssl_init(&t.ssl);
    mbedtls_ssl_config_init(&t.config);
    mbedtls_entropy_init(&t.entropy);
    mbedtls_ctr_drbg_init(&t.drbg);
    int result = tls_open(&t, args, why, why_size);
    if (result == HVCTL_EXIT_OK)
        result = check_pin(&t, args, known_hosts, why, why_size);
    char *request = NULL;
    if (result == HVCTL_EXIT_OK) {
        size_t body_length = body ? strlen(body) : 0;
        size_t size = 1024 + strlen(args->token) + strlen(path) + body_length;
        request = malloc(size);
        int n = request ? snprintf(request, size,
                                   "%s %s HTTP/1.1\r\nHost: %s\r\n%s%s%s"
                                   "Connection: close\r\n",
                                   method, path, args->host, args->token[0] ? "Authorization: Bearer " : "",
                                   args->token, args->token[0] ? "\r\n" : "")
                        : -1;
        if (n > 0 && body)
            n += snprintf(request + n, size - (size_t)n,
                          "Content-Type: application/json\r\nContent-Length: %zu\r\n",
                          body_length);
        if (n > 0)
            n += snprintf(request + n, size - (size_t)n, "\r\n%s", body ? body : "");
        if (n <= 0 || (size_t)n >= size) {
            snprintf(why, why_size, "out of memory");
            result = HVCTL_EXIT_OTHER;
        } else {
            result = exchange(&t, request, (size_t)n, out, why, why_size);
        }
        mbedtls_ssl_close_notify(&t.ssl);
    }
    if (request) {
        memset(request, 0, strlen(request)); /* it holds the token */
        free(request);
    }
    mbedtls_ssl_free(&t.ssl);
    mbedtls_ssl_config_free(&t.config);
    mbedtls_ctr_drbg_free(&t.drbg);
    mbedtls_entropy_free(&t.entropy);
    mbedtls_net_free(&t.net);
    return result;
}

/* --- a connection kept open ------------------------------------------------------------- */

struct hvctl_stream {
    struct tls tls;
};

static void tls_free(struct tls *t)
{
    mbedtls_ssl_free(&t->ssl);
    mbedtls_ssl_config_free(&t->config);
    mbedtls_ctr_drbg_free(&t->drbg);
    mbedtls_entropy_free(&t->entropy);
    mbedtls_net_free(&t->net);
}

int hvctl_stream_open(const struct hvctl_args *args, const char *known_hosts,
                      struct hvctl_stream **out, char *why, size_t why_size)
{
    struct hvctl_stream *stream = calloc(1, sizeof(*stream));
    if (!stream) {
        snprintf(why, why_size, "out of memory");
        return HVCTL_EXIT_OTHER;
    }
    struct tls *t = &stream->tls;
    mbedtls_net_init(&t->net);
    mbedtls_ssl_init(&t->ssl);
    mbedtls_ssl_config_init(&t->config);
    mbedtls_entropy_init(&t->entropy);
    mbedtls_ctr_drbg_init(&t->drbg);
    int result = tls_open(t, args, why, why_size);
    if (result == HVCTL_EXIT_OK)
        result = check_pin(t, args, known_hosts, why, why_size);
    if (result != HVCTL_EXIT_OK) {
        tls_free(t);
        free(stream);
        return result;
    }
    *out = stream;
    return HVCTL_EXIT_OK;
}

bool hvctl_stream_send(struct hvctl_stream *stream, const void *bytes, size_t length)
{
    for (size_t sent = 0; sent < length;) {
        int ret = mbedtls_ssl_write(&stream->tls.ssl, (const unsigned char *)bytes + sent,
                                    length - sent);
        if (ret == MBEDTLS_ERR_SSL_WANT_READ || ret == MBEDTLS_ERR_SSL_WANT_WRITE)
            continue;
        if (ret < 0)
            return false;
        sent += (size_t)ret;
    }
    return true;
}

long hvctl_stream_receive(struct hvctl_stream *stream, void *out, size_t size,
                          unsigned timeout_ms)
{
    /* The read timeout is the configuration's; the context reads it at each call. */
    mbedtls_ssl_conf_read_timeout(&stream->tls.config, timeout_ms ? timeout_ms : 1);
    int ret = mbedtls_ssl_read(&stream->tls.ssl, out, size);
    if (ret > 0)
        return ret;
    if (ret == MBEDTLS_ERR_SSL_TIMEOUT || ret == MBEDTLS_ERR_SSL_WANT_READ ||
        ret == MBEDTLS_ERR_SSL_WANT_WRITE)
        return 0;
    return -1;
}

void hvctl_stream_random(struct hvctl_stream *stream, void *out, size_t length)
{
    if (mbedtls_ctr_drbg_random(&stream->tls.drbg, out, length) != 0)
        memset(out, 0x5A, length); /* a mask hides nothing from the appliance anyway */
}

void hvctl_stream_close(struct hvctl_stream *stream)
{
    mbedtls_ssl_close_notify(&stream->tls.ssl);
    tls_free(&stream->tls);
    free(stream);
}
