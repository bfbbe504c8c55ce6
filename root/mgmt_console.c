#include "root/mgmt_console.h"

#include <stdio.h>
#include <string.h>

#include "root/mgmt_http.h"
#include "root/mgmt_router.h"

#define TEXT_TYPE "text/plain; charset=utf-8"

static const struct mgmt_console_source *console_source;
struct mgmt_console_stats mgmt_console_stats;

void mgmt_console_serve(const struct mgmt_console_source *source)
{
    console_source = source;
}

static const struct console_buffer *find_buffer(const char *name)
{
    return console_source ? console_source->buffer(name) : NULL;
}

uint64_t mgmt_console_start_position(const char *name, uint64_t tail)
{
    const struct console_buffer *buffer = find_buffer(name);
    if (!buffer)
        return 0;
    uint64_t oldest = console_buffer_oldest(buffer);
    return buffer->written - oldest <= tail ? oldest : buffer->written - tail;
}

/* A token in a comma-separated field value, without regard to case (RFC 9110 5.6.1). */
static bool has_token(const char *value, const char *token)
{
    size_t length = strlen(token);
    for (const char *p = value; *p;) {
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        const char *start = p;
        while (*p && *p != ',' && *p != ' ' && *p != '\t')
            p++;
        if ((size_t)(p - start) == length && strncasecmp(start, token, length) == 0)
            return true;
    }
    return false;
}

/* RFC 6455 4.2.1 and 4.2.2: the opening handshake, answered with a 101. */
static void upgrade(void *context, const struct mgmt_http_request *request, const char *name,
                    uint64_t tail)
{
    if (!has_token(request->upgrade, "websocket")) {
        mgmt_api_call_fail(context, 400, "only Upgrade: websocket is served here");
        return;
    }
    if (request->method != MGMT_HTTP_GET || request->minor_version != 1 ||
        !request->connection_upgrade) {
        mgmt_api_call_fail(context, 400,
                           "a WebSocket handshake is a GET over HTTP/1.1 with Connection: Upgrade");
        return;
    }
    if (strcmp(request->websocket_version, "13") != 0) {
        mgmt_api_call_header(context, "Sec-WebSocket-Version: 13\r\n"); /* 4.4 */
        mgmt_api_call_fail(context, 426, "Sec-WebSocket-Version must be 13");
        return;
    }
    char accept[MGMT_WS_ACCEPT_LENGTH + 1];
    if (!mgmt_ws_accept_key(request->websocket_key, accept)) {
        mgmt_api_call_fail(context, 400, "Sec-WebSocket-Key is not the base64 of 16 bytes");
        return;
    }
    if (request->content_length != 0) {
        mgmt_api_call_fail(context, 400, "a WebSocket handshake has no body");
        return;
    }
    char lines[128];
    snprintf(lines, sizeof(lines),
             "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n", accept);
    if (!mgmt_api_call_header(context, lines)) {
        mgmt_api_call_fail(context, 500, "the handshake's answer does not fit");
        return;
    }
    mgmt_api_call_upgrade_console(context, name, mgmt_console_start_position(name, tail));
}

void mgmt_console_get(void *context, const struct mgmt_route_match *match)
{
    const struct mgmt_http_request *request = mgmt_api_call_request(context);
    const char *name = match->params[0];
    if (!mgmt_api_name_valid(name)) {
        mgmt_api_call_fail(context, 400,
                           "a partition name has 1 to 32 letters, digits, '-', '_' or '.'");
        return;
    }
    uint64_t tail;
    bool present;
    const char *why = NULL;
    if (!mgmt_api_query_number(request->query, "tail", &present, &tail, &why)) {
        mgmt_api_call_fail(context, 400, "the only query parameter is tail=N (decimal bytes)");
        return;
    }
    if (!present)
        tail = UINT64_MAX;
    const struct console_buffer *buffer = find_buffer(name);
    if (!buffer) {
        mgmt_api_call_fail(context, 404, "no partition has this name");
        return;
    }
    if (request->upgrade[0] && request->method == MGMT_HTTP_GET) {
        upgrade(context, request, name, tail);
        return;
    }
    uint64_t position = mgmt_console_start_position(name, tail);
    size_t size;
    char *body = mgmt_api_call_body(context, &size);
    if (buffer->written - position > size) {
        mgmt_api_call_overflow(context);
        return;
    }
    uint64_t lost;
    size_t length = console_buffer_read(buffer, &position, (uint8_t *)body, size, &lost);
    mgmt_api_call_answer(context, 200, TEXT_TYPE, length);
}

/* --- streams ---------------------------------------------------------------------------- */

void mgmt_console_session_init(struct mgmt_console_session *s, const char *name,
                               uint64_t position, uint64_t now_ms)
{
    memset(s, 0, sizeof(*s));
    snprintf(s->name, sizeof(s->name), "%s", name);
    s->position = position;
    s->last_heard_ms = now_ms;
    mgmt_ws_parser_init(&s->parser);
    mgmt_console_stats.streams_opened++;
}

static void queue_control(struct mgmt_console_session *s, enum mgmt_ws_opcode opcode,
                          const uint8_t *payload, size_t length)
{
    if (length > MGMT_WS_CONTROL_MAX)
        length = MGMT_WS_CONTROL_MAX;
    size_t header = mgmt_ws_frame_header(s->control, opcode, length);
    if (length)
        memcpy(s->control + header, payload, length);
    s->control_length = header + length;
    s->control_is_close = opcode == MGMT_WS_CLOSE;
    if (s->control_is_close)
        s->close_queued = true;
}

static void queue_close(struct mgmt_console_session *s, uint16_t code, const char *reason)
{
    uint8_t payload[MGMT_WS_CONTROL_MAX];
    size_t length = 0;
    if (code != 1005) { /* 1005 means none was given: the answer carries none either */
        payload[0] = (uint8_t)(code >> 8);
        payload[1] = (uint8_t)code;
        length = 2;
        size_t reason_length = strlen(reason);
        if (reason_length > MGMT_WS_CONTROL_MAX - 2)
            reason_length = MGMT_WS_CONTROL_MAX - 2;
        memcpy(payload + 2, reason, reason_length);
        length += reason_length;
    }
    queue_control(s, MGMT_WS_CLOSE, payload, length);
}

size_t mgmt_console_session_receive(struct mgmt_console_session *s, const uint8_t *bytes,
                                    size_t length, uint64_t now_ms)
{
    size_t taken = 0;
    if (length)
        s->last_heard_ms = now_ms;
    /* Bytes after the close, or while a control answer waits to go, stay with TCP. */
    while (taken < length && !s->close_received && !s->control_length) {
        size_t data_length;
        enum mgmt_ws_event event;
        size_t n = mgmt_ws_parse(&s->parser, bytes + taken, length - taken,
                                 s->input + s->input_length,
                                 MGMT_CONSOLE_INPUT_MAX - s->input_length, &data_length, &event);
        taken += n;
        s->input_length += data_length;
        switch (event) {
        case MGMT_WS_EVENT_PING:
            queue_control(s, MGMT_WS_PONG, s->parser.control, s->parser.control_length);
            break;
        case MGMT_WS_EVENT_PONG:
            s->ping_sent = false;
            break;
        case MGMT_WS_EVENT_CLOSE:
            s->close_received = true;
            if (!s->close_queued) /* echo its code (RFC 6455 5.5.1) */
                queue_close(s, s->parser.close_code, "");
            break;
        case MGMT_WS_EVENT_ERROR:
            s->close_received = true;
            if (!s->close_queued)
                queue_close(s, s->parser.close_code, s->parser.error);
            break;
        case MGMT_WS_EVENT_NONE:
            if (n == 0)
                return taken; /* the input is full */
            break;
        }
    }
    return taken;
}

bool mgmt_console_session_flush_input(struct mgmt_console_session *s)
{
    if (!s->input_length || !console_source)
        return false;
    size_t took = console_source->input(s->name, s->input, s->input_length);
    if (took > s->input_length)
        took = s->input_length;
    memmove(s->input, s->input + took, s->input_length - took);
    s->input_length -= took;
    mgmt_console_stats.input_bytes += took;
    return took > 0;
}

bool mgmt_console_session_pending(const struct mgmt_console_session *s)
{
    if (s->control_length)
        return true;
    if (s->close_queued)
        return false;
    const struct console_buffer *buffer = find_buffer(s->name);
    return !buffer || s->position != buffer->written;
}

/* The lost-output marker as a frame; its length. */
static size_t gap_frame(uint8_t *out, size_t room, uint64_t lost)
{
    char text[96];
    int n = snprintf(text, sizeof(text), "\r\n[hvfw: %llu bytes of console output lost]\r\n",
                     (unsigned long long)lost);
    size_t header = mgmt_ws_frame_header(out, MGMT_WS_BINARY, (uint64_t)n);
    if (header + (size_t)n > room)
        return 0;
    memcpy(out + header, text, (size_t)n);
    return header + (size_t)n;
}

size_t mgmt_console_session_output(struct mgmt_console_session *s, uint8_t *out, size_t room,
                                   uint64_t now_ms)
{
    size_t n = 0;
    if (!s->close_queued && !s->control_length) {
        if (!find_buffer(s->name))
            queue_close(s, MGMT_WS_CLOSE_GOING_AWAY, "the partition was deleted");
        else if (now_ms - s->last_heard_ms > MGMT_CONSOLE_SILENT_MS)
            queue_close(s, MGMT_WS_CLOSE_GOING_AWAY, "the client stopped answering");
        else if (!s->ping_sent && now_ms - s->last_heard_ms > MGMT_CONSOLE_PING_MS) {
            queue_control(s, MGMT_WS_PING, NULL, 0);
            s->ping_sent = true;
        }
    }
    if (s->control_length) {
        if (s->control_length > room)
            return 0;
        memcpy(out, s->control, s->control_length);
        n = s->control_length;
        s->control_length = 0;
        if (s->control_is_close) {
            s->finished = true;
            return n;
        }
    }
    if (s->close_queued)
        return n;
    const struct console_buffer *buffer = find_buffer(s->name);
    if (!buffer) /* cannot happen: checked above */
        return n;
    uint64_t oldest = console_buffer_oldest(buffer);
    if (s->position > buffer->written) /* a new partition of this name: from its start */
        s->position = oldest;
    if (s->position < oldest) {
        size_t marker = gap_frame(out + n, room - n, oldest - s->position);
        if (!marker)
            return n;
        mgmt_console_stats.gaps++;
        mgmt_console_stats.lost_bytes += oldest - s->position;
        s->position = oldest;
        n += marker;
    }
    /* A data frame of up to MGMT_CONSOLE_DATA_FRAME_MAX bytes, its header in front. */
    if (room - n < 4 + 1)
        return n;
    size_t want = room - n - 4;
    if (want > MGMT_CONSOLE_DATA_FRAME_MAX)
        want = MGMT_CONSOLE_DATA_FRAME_MAX;
    uint64_t lost;
    size_t got = console_buffer_read(buffer, &s->position, out + n + 4, want, &lost);
    if (got == 0)
        return n;
    uint8_t header[MGMT_WS_HEADER_MAX];
    size_t header_length = mgmt_ws_frame_header(header, MGMT_WS_BINARY, got);
    memmove(out + n + header_length, out + n + 4, got);
    memcpy(out + n, header, header_length);
    return n + header_length + got;
}
