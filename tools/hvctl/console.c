#include "tools/hvctl/console.h"

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "mbedtls/base64.h"

#include "tools/hvctl/render.h"
#include "tools/hvctl/response.h"
#include "tools/hvctl/transport.h"
#include "tools/hvctl/websocket.h"

#define FRAME_MAX (1u << 20)   /* the appliance sends at most 4 KiB per frame */
#define QUIET_AFTER_EOF_MS 1000u
#define HANDSHAKE_MAX 16384u

struct session {
    struct hvctl_stream *stream;
    const struct hvctl_args *args;
    char *seen;          /* the last output, for --until */
    size_t seen_length;
    bool found;
    bool closed;         /* the appliance's close frame arrived */
    int close_code;
    char close_reason[128];
    bool failed;
};

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* A client frame, masked with a fresh key (RFC 6455 5.3). */
static bool send_frame(struct session *s, int opcode, const unsigned char *payload,
                       size_t length)
{
    unsigned char *frame = malloc(length + HVCTL_WS_CLIENT_HEADER_MAX);
    if (!frame)
        return false;
    unsigned char mask[4];
    hvctl_stream_random(s->stream, mask, sizeof(mask));
    size_t n = hvctl_ws_client_frame(frame, opcode, payload, length, mask);
    bool ok = hvctl_stream_send(s->stream, frame, n);
    free(frame);
    if (!ok)
        s->failed = true;
    return ok;
}

static void on_frame(void *ctx, int opcode, const unsigned char *payload, size_t length)
{
    struct session *s = ctx;
    switch (opcode) {
    case 0x1:
    case 0x2:
    case 0x0:
        fwrite(payload, 1, length, stdout);
        fflush(stdout);
        if (s->args->until[0] && !s->found) {
            /* Keep enough of the tail to find the marker across frames. */
            size_t keep = strlen(s->args->until) + length;
            char *seen = malloc(keep + 1);
            if (!seen)
                return;
            size_t old = s->seen_length < keep - length ? s->seen_length : keep - length;
            memcpy(seen, s->seen + s->seen_length - old, old);
            memcpy(seen + old, payload, length);
            seen[old + length] = '\0';
            free(s->seen);
            s->seen = seen;
            s->seen_length = old + length;
            if (memmem(seen, s->seen_length, s->args->until, strlen(s->args->until)))
                s->found = true;
        }
        return;
    case 0x9: /* ping: the same payload back (5.5.3) */
        send_frame(s, 0xA, payload, length);
        return;
    case 0x8:
        s->closed = true;
        s->close_code = length >= 2 ? payload[0] << 8 | payload[1] : 1005;
        snprintf(s->close_reason, sizeof(s->close_reason), "%.*s",
                 length > 2 ? (int)(length - 2) : 0, length > 2 ? (const char *)payload + 2 : "");
        return;
    default:
        return;
    }
}

/* The upgrade request and its answer: 101 (exit 0, `rest` holds bytes after the head) or
 * the API's error. */
static int handshake(struct session *s, char *rest, size_t *rest_length, char *why,
                     size_t why_size)
{
    unsigned char nonce[16];
    hvctl_stream_random(s->stream, nonce, sizeof(nonce));
    char key[32];
    size_t key_length;
    mbedtls_base64_encode((unsigned char *)key, sizeof(key), &key_length, nonce, sizeof(nonce));
    key[key_length] = '\0';
    char tail[32] = "";
    if (s->args->has_tail)
        snprintf(tail, sizeof(tail), "?tail=%u", s->args->tail);
    char request[1024];
    int n = snprintf(request, sizeof(request),
                     "GET /v1/partitions/%s/console%s HTTP/1.1\r\nHost: %s\r\n"
                     "Authorization: Bearer %s\r\nUpgrade: websocket\r\n"
                     "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
                     "Sec-WebSocket-Version: 13\r\n\r\n",
                     s->args->name, tail, s->args->host, s->args->token, key);
    bool sent = n > 0 && (size_t)n < sizeof(request) && hvctl_stream_send(s->stream, request, (size_t)n);
    memset(request, 0, sizeof(request)); /* it held the token */
    if (!sent) {
        snprintf(why, why_size, "sending the request failed");
        return HVCTL_EXIT_CONNECTION;
    }
    static char answer[HANDSHAKE_MAX + 1];
    size_t length = 0;
    char *end = NULL;
    uint64_t deadline = now_ms() + 30000;
    while (!(end = memmem(answer, length, "\r\n\r\n", 4))) {
        if (length == HANDSHAKE_MAX || now_ms() > deadline) {
            snprintf(why, why_size, "no answer to the console request");
            return HVCTL_EXIT_CONNECTION;
        }
        long got = hvctl_stream_receive(s->stream, answer + length, HANDSHAKE_MAX - length, 500);
        if (got < 0)
            break;
        length += (size_t)got;
    }
    answer[length] = '\0';
    int status = 0;
    if (sscanf(answer, "HTTP/1.1 %d ", &status) != 1) {
        snprintf(why, why_size, "the answer is not HTTP/1.1");
        return HVCTL_EXIT_OTHER;
    }
    if (status == 101 && end) {
        /* RFC 6455 4.1: the accept key is not checked here: the TLS pin already
         * identifies the appliance, and a 101 from anything else cannot follow. */
        size_t head = (size_t)(end + 4 - answer);
        *rest_length = length - head;
        memcpy(rest, answer + head, *rest_length);
        return HVCTL_EXIT_OK;
    }
    /* An error answer: its body by Content-Length (the connection stays open). */
    const char *cl = strcasestr(answer, "\r\nContent-Length: ");
    size_t body = cl ? strtoul(cl + 18, NULL, 10) : 0;
    size_t head = end ? (size_t)(end + 4 - answer) : length;
    while (end && length < head + body && length < HANDSHAKE_MAX) {
        long got = hvctl_stream_receive(s->stream, answer + length, HANDSHAKE_MAX - length, 5000);
        if (got <= 0)
            break;
        length += (size_t)got;
    }
    struct hvctl_response response;
    if (!hvctl_response_parse(answer, length < head + body ? length : head + body, &response,
                              why, why_size))
        return HVCTL_EXIT_OTHER;
    int result = hvctl_exit_status(response.status);
    snprintf(why, why_size, "HTTP %d: %.*s", response.status, (int)response.length,
             response.body);
    free(response.body);
    return result == HVCTL_EXIT_OK ? HVCTL_EXIT_OTHER : result;
}

static struct termios saved_terminal;
static bool terminal_raw;

static void restore_terminal(void)
{
    if (terminal_raw)
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_terminal);
    terminal_raw = false;
}

int hvctl_console(const struct hvctl_args *args, const char *known_hosts)
{
    char why[HVCTL_WHY_MAX + 512];
    struct session s = { .args = args };
    int result = hvctl_stream_open(args, known_hosts, &s.stream, why, sizeof(why));
    if (result != HVCTL_EXIT_OK) {
        fprintf(stderr, "hvctl: console: %s\n", why);
        return result;
    }
    static unsigned char in[65536 + 16];
    size_t in_length = 0;
    result = handshake(&s, (char *)in, &in_length, why, sizeof(why));
    if (result != HVCTL_EXIT_OK) {
        fprintf(stderr, "hvctl: console %s: %s\n", args->name, why);
        hvctl_stream_close(s.stream);
        return result;
    }
    bool tty = isatty(STDIN_FILENO);
    if (tty && tcgetattr(STDIN_FILENO, &saved_terminal) == 0) {
        struct termios raw = saved_terminal;
        cfmakeraw(&raw);
        terminal_raw = tcsetattr(STDIN_FILENO, TCSAFLUSH, &raw) == 0;
        atexit(restore_terminal);
        fprintf(stderr, "hvctl: console of %s; Ctrl-] leaves\r\n", args->name);
    }
    bool stdin_open = true, leaving = false;
    uint64_t start = now_ms(), last_output = now_ms(), stdin_ended = 0;
    while (!s.closed && !s.failed && !s.found) {
        long consumed = hvctl_ws_frames(in, in_length, FRAME_MAX, on_frame, &s);
        if (consumed < 0) {
            fprintf(stderr, "hvctl: console: the appliance sent a malformed frame\n");
            result = HVCTL_EXIT_OTHER;
            break;
        }
        memmove(in, in + consumed, in_length - (size_t)consumed);
        in_length -= (size_t)consumed;
        if (consumed > 0)
            last_output = now_ms();
        if (s.closed || s.found)
            break;
        if (leaving)
            break;
        if (args->until[0] && now_ms() - start > (uint64_t)args->timeout_s * 1000) {
            fprintf(stderr, "hvctl: console %s: no \"%s\" within %u s\n", args->name,
                    args->until, args->timeout_s);
            result = HVCTL_EXIT_OTHER;
            break;
        }
        if (!stdin_open && !args->until[0] && now_ms() - last_output > QUIET_AFTER_EOF_MS &&
            now_ms() - stdin_ended > QUIET_AFTER_EOF_MS)
            break;
        if (stdin_open) {
            struct pollfd p = { .fd = STDIN_FILENO, .events = POLLIN };
            if (poll(&p, 1, 0) > 0) {
                unsigned char typed[4096];
                ssize_t n = read(STDIN_FILENO, typed, sizeof(typed));
                if (n <= 0) {
                    stdin_open = false;
                    stdin_ended = now_ms();
                } else {
                    size_t length = (size_t)n;
                    if (tty) {
                        unsigned char *escape = memchr(typed, HVCTL_CONSOLE_ESCAPE, length);
                        if (escape) {
                            length = (size_t)(escape - typed);
                            leaving = true;
                        }
                    }
                    if (length && !send_frame(&s, 0x2, typed, length))
                        break;
                }
            }
        }
        if (in_length >= sizeof(in) - 16) {
            fprintf(stderr, "hvctl: console: a frame larger than %zu bytes\n", sizeof(in));
            result = HVCTL_EXIT_OTHER;
            break;
        }
        long got = hvctl_stream_receive(s.stream, in + in_length, sizeof(in) - 16 - in_length, 50);
        if (got < 0) {
            if (!s.closed)
                fprintf(stderr, "\r\nhvctl: console %s: the connection ended\n", args->name);
            result = s.closed ? result : HVCTL_EXIT_CONNECTION;
            break;
        }
        in_length += (size_t)got;
    }
    restore_terminal();
    if (s.closed) {
        fprintf(stderr, "\r\nhvctl: console %s closed by the appliance (%d%s%s)\n", args->name,
                s.close_code, s.close_reason[0] ? ": " : "", s.close_reason);
    } else if (!s.failed) {
        /* Our close (RFC 6455 7.1.2); the appliance answers and ends the connection. */
        static const unsigned char normal[] = { 0x03, 0xE8 };
        send_frame(&s, 0x8, normal, sizeof(normal));
    }
    if (s.failed && result == HVCTL_EXIT_OK)
        result = HVCTL_EXIT_CONNECTION;
    free(s.seen);
    hvctl_stream_close(s.stream);
    if (tty)
        fprintf(stderr, "\r\n");
    return result;
}
