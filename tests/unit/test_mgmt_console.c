// sources: root/console_buffer.c root/mgmt_console.c root/mgmt_websocket.c root/mgmt_events.c
// sources: root/mgmt_api.c root/mgmt_auth.c root/mgmt_http.c root/mgmt_json.c root/mgmt_router.c
// libs: build/host/mbedtls/libmbedtls-host.a
/*
 * The console scroll-back ring, the WebSocket protocol (RFC 6455), console streams over a
 * fake child, and the event log.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "root/console_buffer.h"
#include "root/mgmt_console.h"
#include "root/mgmt_events.h"
#include "root/mgmt_websocket.h"

/* ---- the ring ----------------------------------------------------------------------------- */

static struct console_buffer ring;

START_TEST(ring_keeps_the_last_bytes)
{
    console_buffer_init(&ring);
    uint8_t out[CONSOLE_BUFFER_SIZE];
    uint64_t position = 0, lost = 99;
    ck_assert_uint_eq(console_buffer_read(&ring, &position, out, sizeof(out), &lost), 0);
    ck_assert_uint_eq(lost, 0);
    console_buffer_write(&ring, (const uint8_t *)"hello", 5);
    ck_assert_uint_eq(console_buffer_read(&ring, &position, out, 3, &lost), 3);
    ck_assert(memcmp(out, "hel", 3) == 0);
    ck_assert_uint_eq(console_buffer_read(&ring, &position, out, sizeof(out), &lost), 2);
    ck_assert(memcmp(out, "lo", 2) == 0);
    ck_assert_uint_eq(position, 5);
    /* Wrap: write 1.5 rings' worth in odd pieces; what is held is the last ring's bytes. */
    uint64_t total = 5;
    for (unsigned piece = 0; total < 5 + CONSOLE_BUFFER_SIZE * 3 / 2; piece++) {
        uint8_t bytes[777];
        for (size_t i = 0; i < sizeof(bytes); i++)
            bytes[i] = (uint8_t)(total + i);
        console_buffer_write(&ring, bytes, sizeof(bytes));
        total += sizeof(bytes);
    }
    ck_assert_uint_eq(ring.written, total);
    ck_assert_uint_eq(console_buffer_oldest(&ring), total - CONSOLE_BUFFER_SIZE);
    size_t got = console_buffer_read(&ring, &position, out, sizeof(out), &lost);
    ck_assert_uint_eq(lost, total - CONSOLE_BUFFER_SIZE - 5);
    ck_assert_uint_eq(got, CONSOLE_BUFFER_SIZE);
    for (size_t i = 0; i < got; i++)
        ck_assert_uint_eq(out[i], (uint8_t)(total - CONSOLE_BUFFER_SIZE + i));
    /* A position past the end (the ring was reset under the reader) starts again. */
    position = total + 10;
    console_buffer_init(&ring);
    console_buffer_write(&ring, (const uint8_t *)"new", 3);
    ck_assert_uint_eq(console_buffer_read(&ring, &position, out, sizeof(out), &lost), 3);
    ck_assert_uint_eq(lost, 0);
    /* One write larger than the ring keeps its tail. */
    static uint8_t big[CONSOLE_BUFFER_SIZE + 100];
    for (size_t i = 0; i < sizeof(big); i++)
        big[i] = (uint8_t)(i * 7);
    console_buffer_write(&ring, big, sizeof(big));
    position = console_buffer_oldest(&ring);
    ck_assert_uint_eq(console_buffer_read(&ring, &position, out, sizeof(out), &lost),
                      CONSOLE_BUFFER_SIZE);
    ck_assert(memcmp(out, big + 100, CONSOLE_BUFFER_SIZE) == 0);
}
END_TEST

/* ---- WebSocket frames --------------------------------------------------------------------- */

START_TEST(accept_key_matches_the_rfc)
{
    char accept[MGMT_WS_ACCEPT_LENGTH + 1];
    /* RFC 6455 1.3's example. */
    ck_assert(mgmt_ws_accept_key("dGhlIHNhbXBsZSBub25jZQ==", accept));
    ck_assert_str_eq(accept, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    ck_assert(!mgmt_ws_accept_key("", accept));
    ck_assert(!mgmt_ws_accept_key("dGhlIHNhbXBsZSBub25jZQ", accept));     /* too short */
    ck_assert(!mgmt_ws_accept_key("dGhlIHNhbXBsZSBub25jZQ!!", accept));   /* not base64 */
    ck_assert(!mgmt_ws_accept_key("dGhlIHNhbXBsZSBub25jZSEh", accept)); /* 18 bytes */
}
END_TEST

/* A masked client frame. */
static size_t client_frame(uint8_t *out, uint8_t first, const void *payload, size_t length)
{
    static const uint8_t mask[4] = { 0x37, 0xfa, 0x21, 0x3d };
    size_t n = 0;
    out[n++] = first;
    if (length < 126) {
        out[n++] = (uint8_t)(0x80 | length);
    } else if (length <= 0xFFFF) {
        out[n++] = 0x80 | 126;
        out[n++] = (uint8_t)(length >> 8);
        out[n++] = (uint8_t)length;
    } else {
        out[n++] = 0x80 | 127;
        for (int i = 7; i >= 0; i--)
            out[n++] = (uint8_t)((uint64_t)length >> (8 * i));
    }
    memcpy(out + n, mask, 4);
    n += 4;
    for (size_t i = 0; i < length; i++)
        out[n + i] = ((const uint8_t *)payload)[i] ^ mask[i & 3];
    return n + length;
}

static struct mgmt_ws_parser parser;
static uint8_t data[70000];
static size_t data_length;

/* Feeds `bytes` in pieces of `step`; returns the first event other than NONE. */
static enum mgmt_ws_event feed(const uint8_t *bytes, size_t length, size_t step)
{
    data_length = 0;
    size_t at = 0;
    while (at < length) {
        size_t piece = length - at < step ? length - at : step;
        size_t got;
        enum mgmt_ws_event event;
        size_t n = mgmt_ws_parse(&parser, bytes + at, piece, data + data_length,
                                 sizeof(data) - data_length, &got, &event);
        data_length += got;
        at += n;
        if (event != MGMT_WS_EVENT_NONE)
            return event;
        ck_assert_uint_eq(n, piece);
    }
    return MGMT_WS_EVENT_NONE;
}

START_TEST(frames_in_any_split)
{
    /* RFC 6455 5.7: a masked "Hello". */
    static const uint8_t hello[] = { 0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58 };
    for (size_t step = 1; step <= sizeof(hello); step++) {
        mgmt_ws_parser_init(&parser);
        ck_assert_int_eq(feed(hello, sizeof(hello), step), MGMT_WS_EVENT_NONE);
        ck_assert_uint_eq(data_length, 5);
        ck_assert(memcmp(data, "Hello", 5) == 0);
    }
    /* Fragmented text with a ping between the fragments, then 300 and 70000-byte lengths
     * are refused or taken by their limits. */
    uint8_t bytes[200];
    size_t n = client_frame(bytes, 0x01, "Hel", 3);
    n += client_frame(bytes + n, 0x89, "p", 1);
    size_t after_ping = n;
    n += client_frame(bytes + n, 0x80, "lo", 2);
    mgmt_ws_parser_init(&parser);
    ck_assert_int_eq(feed(bytes, n, 1000), MGMT_WS_EVENT_PING);
    ck_assert_uint_eq(parser.control_length, 1);
    ck_assert_uint_eq(parser.control[0], 'p');
    ck_assert_int_eq(feed(bytes + after_ping, n - after_ping, 1000), MGMT_WS_EVENT_NONE);
    ck_assert_uint_eq(data_length, 2);
    ck_assert(!parser.in_message);
    static uint8_t large[70100];
    static uint8_t payload[70000];
    memset(payload, 'x', sizeof(payload));
    mgmt_ws_parser_init(&parser);
    n = client_frame(large, 0x82, payload, 300);
    ck_assert_int_eq(feed(large, n, 7), MGMT_WS_EVENT_NONE);
    ck_assert_uint_eq(data_length, 300);
    n = client_frame(large, 0x82, payload, 70000);
    ck_assert_int_eq(feed(large, n, 1000), MGMT_WS_EVENT_ERROR);
    ck_assert_uint_eq(parser.close_code, MGMT_WS_CLOSE_TOO_BIG);
}
END_TEST

/* One hostile frame: the error and the close code it gets. */
static void expect_refused(const uint8_t *bytes, size_t length, uint16_t code)
{
    mgmt_ws_parser_init(&parser);
    ck_assert_int_eq(feed(bytes, length, 1000), MGMT_WS_EVENT_ERROR);
    ck_assert_uint_eq(parser.close_code, code);
    ck_assert_ptr_nonnull(parser.error);
    /* Nothing more is taken after an error. */
    size_t got;
    enum mgmt_ws_event event;
    ck_assert_uint_eq(mgmt_ws_parse(&parser, bytes, length, data, sizeof(data), &got, &event), 0);
}

START_TEST(hostile_frames_close_with_a_code)
{
    uint8_t bytes[400];
    static const uint8_t unmasked[] = { 0x81, 0x02, 'h', 'i' };
    expect_refused(unmasked, sizeof(unmasked), MGMT_WS_CLOSE_PROTOCOL_ERROR);
    size_t n = client_frame(bytes, 0xC1, "hi", 2); /* RSV1 */
    expect_refused(bytes, n, MGMT_WS_CLOSE_PROTOCOL_ERROR);
    n = client_frame(bytes, 0x83, "hi", 2); /* opcode 3 */
    expect_refused(bytes, n, MGMT_WS_CLOSE_PROTOCOL_ERROR);
    n = client_frame(bytes, 0x09, "", 0); /* a fragmented ping */
    expect_refused(bytes, n, MGMT_WS_CLOSE_PROTOCOL_ERROR);
    static uint8_t long_ping[126];
    n = client_frame(bytes, 0x89, long_ping, sizeof(long_ping));
    expect_refused(bytes, n, MGMT_WS_CLOSE_PROTOCOL_ERROR);
    n = client_frame(bytes, 0x80, "x", 1); /* continuation outside a message */
    expect_refused(bytes, n, MGMT_WS_CLOSE_PROTOCOL_ERROR);
    n = client_frame(bytes, 0x01, "x", 1);
    n += client_frame(bytes + n, 0x81, "y", 1); /* a new message inside one */
    expect_refused(bytes, n, MGMT_WS_CLOSE_PROTOCOL_ERROR);
    n = client_frame(bytes, 0x81, "\xC0\xAF", 2); /* overlong '/' */
    expect_refused(bytes, n, MGMT_WS_CLOSE_INVALID_DATA);
    n = client_frame(bytes, 0x81, "\xED\xA0\x80", 3); /* a surrogate */
    expect_refused(bytes, n, MGMT_WS_CLOSE_INVALID_DATA);
    n = client_frame(bytes, 0x01, "\xE2\x82", 2); /* U+20AC cut at the message's end */
    n += client_frame(bytes + n, 0x80, "", 0);
    expect_refused(bytes, n, MGMT_WS_CLOSE_INVALID_DATA);
    n = client_frame(bytes, 0x88, "\x03", 1); /* a one-byte close */
    expect_refused(bytes, n, MGMT_WS_CLOSE_PROTOCOL_ERROR);
    n = client_frame(bytes, 0x88, "\x03\xED", 2); /* 1005 may not be sent */
    expect_refused(bytes, n, MGMT_WS_CLOSE_PROTOCOL_ERROR);
    static const uint8_t top_bit[] = { 0x82, 0xFF, 0x80, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4 };
    expect_refused(top_bit, sizeof(top_bit), MGMT_WS_CLOSE_PROTOCOL_ERROR);
    static const uint8_t not_shortest[] = { 0x82, 0xFE, 0x00, 0x05, 1, 2, 3, 4 };
    expect_refused(not_shortest, sizeof(not_shortest), MGMT_WS_CLOSE_PROTOCOL_ERROR);
    /* A valid close with a code and a UTF-8 reason. */
    n = client_frame(bytes, 0x88, "\x03\xE8" "bye \xE2\x82\xAC", 9);
    mgmt_ws_parser_init(&parser);
    ck_assert_int_eq(feed(bytes, n, 1), MGMT_WS_EVENT_CLOSE);
    ck_assert_uint_eq(parser.close_code, 1000);
    /* Split UTF-8 across fragments is fine. */
    n = client_frame(bytes, 0x01, "\xE2\x82", 2);
    n += client_frame(bytes + n, 0x80, "\xAC", 1);
    mgmt_ws_parser_init(&parser);
    ck_assert_int_eq(feed(bytes, n, 1), MGMT_WS_EVENT_NONE);
    ck_assert_uint_eq(data_length, 3);
}
END_TEST

START_TEST(server_frame_headers)
{
    uint8_t h[MGMT_WS_HEADER_MAX];
    ck_assert_uint_eq(mgmt_ws_frame_header(h, MGMT_WS_BINARY, 5), 2);
    ck_assert_uint_eq(h[0], 0x82);
    ck_assert_uint_eq(h[1], 5);
    ck_assert_uint_eq(mgmt_ws_frame_header(h, MGMT_WS_BINARY, 4096), 4);
    ck_assert_uint_eq(h[1], 126);
    ck_assert_uint_eq(h[2] << 8 | h[3], 4096);
    ck_assert_uint_eq(mgmt_ws_frame_header(h, MGMT_WS_CLOSE, 70000), 10);
    ck_assert_uint_eq(h[0], 0x88);
    ck_assert_uint_eq(h[1], 127);
    ck_assert_uint_eq(h[7] << 16 | h[8] << 8 | h[9], 70000);
}
END_TEST

/* ---- console streams ---------------------------------------------------------------------- */

static struct console_buffer child_console;
static bool child_exists;
static uint8_t typed[4096];
static size_t typed_length, input_room;

static const struct console_buffer *fake_buffer(const char *name)
{
    return child_exists && strcmp(name, "linux") == 0 ? &child_console : NULL;
}

static size_t fake_input(const char *name, const uint8_t *bytes, size_t length)
{
    ck_assert_str_eq(name, "linux");
    size_t n = length < input_room ? length : input_room;
    memcpy(typed + typed_length, bytes, n);
    typed_length += n;
    input_room -= n;
    return n;
}

static const struct mgmt_console_source fake_source = { fake_buffer, fake_input };

static void console_setup(void)
{
    console_buffer_init(&child_console);
    child_exists = true;
    typed_length = 0;
    input_room = sizeof(typed);
    memset(&mgmt_console_stats, 0, sizeof(mgmt_console_stats));
    mgmt_console_serve(&fake_source);
}

static struct mgmt_console_session session;
static uint8_t wire[200000];

/* Unframes server output into `text` (binary frames only); returns the close code seen
 * (0 if none). */
static unsigned unframe(const uint8_t *bytes, size_t length, char *text, size_t *text_length)
{
    size_t at = 0;
    unsigned close_code = 0;
    *text_length = 0;
    while (at < length) {
        uint8_t opcode = bytes[at] & 0x0F;
        ck_assert_uint_eq(bytes[at] & 0xF0, 0x80); /* FIN, no RSV */
        ck_assert_uint_eq(bytes[at + 1] & 0x80, 0); /* servers do not mask */
        uint64_t n = bytes[at + 1] & 0x7F;
        at += 2;
        if (n == 126) {
            n = (uint64_t)bytes[at] << 8 | bytes[at + 1];
            at += 2;
        }
        ck_assert_uint_le(at + n, length);
        if (opcode == MGMT_WS_BINARY) {
            memcpy(text + *text_length, bytes + at, n);
            *text_length += n;
        } else if (opcode == MGMT_WS_CLOSE) {
            close_code = n >= 2 ? (unsigned)(bytes[at] << 8 | bytes[at + 1]) : 1005;
        }
        at += n;
    }
    text[*text_length] = '\0';
    return close_code;
}

static size_t drain(uint64_t now, size_t room)
{
    size_t total = 0;
    for (;;) {
        size_t n = mgmt_console_session_output(&session, wire + total, room, now);
        if (n == 0)
            break;
        total += n;
    }
    return total;
}

static char text[200000];

START_TEST(stream_sends_scrollback_then_live_output)
{
    console_buffer_write(&child_console, (const uint8_t *)"boot line\r\n", 11);
    mgmt_console_session_init(&session, "linux", mgmt_console_start_position("linux", UINT64_MAX), 0);
    size_t text_length;
    size_t n = drain(0, 4096);
    ck_assert_uint_eq(unframe(wire, n, text, &text_length), 0);
    ck_assert_str_eq(text, "boot line\r\n");
    ck_assert(!mgmt_console_session_pending(&session));
    console_buffer_write(&child_console, (const uint8_t *)"# ", 2);
    ck_assert(mgmt_console_session_pending(&session));
    n = drain(1, 4096);
    unframe(wire, n, text, &text_length);
    ck_assert_str_eq(text, "# ");
    /* tail=3 starts three bytes from the end. */
    ck_assert_uint_eq(mgmt_console_start_position("linux", 3), child_console.written - 3);
    ck_assert_uint_eq(mgmt_console_start_position("linux", 0), child_console.written);
}
END_TEST

START_TEST(slow_reader_gets_a_counted_gap)
{
    mgmt_console_session_init(&session, "linux", 0, 0);
    /* The child writes 3 rings' worth while the reader takes nothing. */
    static uint8_t chunk[1000];
    memset(chunk, 'a', sizeof(chunk));
    for (size_t i = 0; i < 3 * CONSOLE_BUFFER_SIZE / sizeof(chunk); i++)
        console_buffer_write(&child_console, chunk, sizeof(chunk));
    uint64_t expected_lost = console_buffer_oldest(&child_console);
    size_t n = drain(1, 16384);
    size_t text_length;
    unframe(wire, n, text, &text_length);
    char marker[96];
    snprintf(marker, sizeof(marker), "\r\n[hvfw: %llu bytes of console output lost]\r\n",
             (unsigned long long)expected_lost);
    ck_assert(strncmp(text, marker, strlen(marker)) == 0);
    ck_assert_uint_eq(text_length, strlen(marker) + CONSOLE_BUFFER_SIZE);
    ck_assert_uint_eq(mgmt_console_stats.gaps, 1);
    ck_assert_uint_eq(mgmt_console_stats.lost_bytes, expected_lost);
    /* Output never exceeds the room it is given. */
    console_buffer_write(&child_console, chunk, sizeof(chunk));
    ck_assert_uint_eq(mgmt_console_session_output(&session, wire, 4, 2), 0);
    size_t small = mgmt_console_session_output(&session, wire, 100, 2);
    ck_assert_uint_le(small, 100);
    ck_assert_uint_gt(small, 0);
}
END_TEST

START_TEST(input_is_typed_as_the_uart_takes_it)
{
    mgmt_console_session_init(&session, "linux", 0, 0);
    uint8_t bytes[3000];
    static uint8_t payload[2000];
    memset(payload, 'k', sizeof(payload));
    size_t n = client_frame(bytes, 0x82, payload, sizeof(payload));
    input_room = 100;
    /* The session holds at most MGMT_CONSOLE_INPUT_MAX bytes; the rest stays unread. */
    size_t taken = mgmt_console_session_receive(&session, bytes, n, 5);
    ck_assert_uint_lt(taken, n);
    ck_assert_uint_eq(session.input_length, MGMT_CONSOLE_INPUT_MAX);
    ck_assert(mgmt_console_session_flush_input(&session));
    ck_assert_uint_eq(typed_length, 100);
    ck_assert(!mgmt_console_session_flush_input(&session)); /* the UART is full */
    input_room = sizeof(typed);
    ck_assert(mgmt_console_session_flush_input(&session));
    taken += mgmt_console_session_receive(&session, bytes + taken, n - taken, 6);
    ck_assert_uint_eq(taken, n);
    mgmt_console_session_flush_input(&session);
    ck_assert_uint_eq(typed_length, sizeof(payload));
    ck_assert_uint_eq(mgmt_console_stats.input_bytes, sizeof(payload));
}
END_TEST

START_TEST(ping_pong_and_close)
{
    mgmt_console_session_init(&session, "linux", 0, 0);
    uint8_t bytes[64];
    size_t n = client_frame(bytes, 0x89, "abc", 3);
    n += client_frame(bytes + n, 0x81, "ls\r", 3);
    /* The ping is answered before anything after it is read. */
    size_t taken = mgmt_console_session_receive(&session, bytes, n, 1);
    ck_assert_uint_lt(taken, n);
    size_t out = mgmt_console_session_output(&session, wire, sizeof(wire), 1);
    ck_assert_uint_eq(out, 5);
    ck_assert_uint_eq(wire[0], 0x8A);
    ck_assert(memcmp(wire + 2, "abc", 3) == 0);
    taken += mgmt_console_session_receive(&session, bytes + taken, n - taken, 1);
    ck_assert_uint_eq(taken, n);
    mgmt_console_session_flush_input(&session);
    ck_assert_uint_eq(typed_length, 3);
    /* Silence: a ping after MGMT_CONSOLE_PING_MS, a close after MGMT_CONSOLE_SILENT_MS. */
    out = mgmt_console_session_output(&session, wire, sizeof(wire), 1 + MGMT_CONSOLE_PING_MS + 1);
    ck_assert_uint_eq(out, 2);
    ck_assert_uint_eq(wire[0], 0x89);
    ck_assert_uint_eq(mgmt_console_session_output(&session, wire, sizeof(wire),
                                                  1 + MGMT_CONSOLE_PING_MS + 2), 0);
    /* The client's close is echoed and ends the stream. */
    n = client_frame(bytes, 0x88, "\x03\xE8", 2);
    mgmt_console_session_receive(&session, bytes, n, 2 + MGMT_CONSOLE_PING_MS);
    out = mgmt_console_session_output(&session, wire, sizeof(wire), 2 + MGMT_CONSOLE_PING_MS);
    size_t text_length;
    ck_assert_uint_eq(unframe(wire, out, text, &text_length), 1000);
    ck_assert(session.finished);
    /* A silent client is closed with 1001. */
    mgmt_console_session_init(&session, "linux", 0, 0);
    out = drain(MGMT_CONSOLE_SILENT_MS + 1, 4096);
    ck_assert_uint_eq(unframe(wire, out, text, &text_length), 1001);
    ck_assert(session.finished);
}
END_TEST

START_TEST(protocol_error_and_deleted_partition_close_the_stream)
{
    mgmt_console_session_init(&session, "linux", 0, 0);
    static const uint8_t unmasked[] = { 0x81, 0x02, 'h', 'i' };
    mgmt_console_session_receive(&session, unmasked, sizeof(unmasked), 1);
    size_t text_length;
    size_t out = drain(1, 4096);
    ck_assert_uint_eq(unframe(wire, out, text, &text_length), 1002);
    ck_assert(session.finished);
    ck_assert_uint_eq(typed_length, 0);

    mgmt_console_session_init(&session, "linux", 0, 0);
    child_exists = false;
    out = drain(1, 4096);
    ck_assert_uint_eq(unframe(wire, out, text, &text_length), 1001);
    ck_assert(session.finished);
}
END_TEST

/* ---- the event log ------------------------------------------------------------------------ */

static struct mgmt_event_log log_under_test;

START_TEST(events_have_growing_sequence_numbers)
{
    struct mgmt_event_log *log = &log_under_test;
    mgmt_event_log_init(log);
    ck_assert_uint_eq(mgmt_event_log_first(log), 1);
    ck_assert_ptr_null(mgmt_event_log_get(log, 1));
    ck_assert_uint_eq(mgmt_event_record(log, 10, MGMT_EVENT_PARTITION_CREATED, "a", NULL), 1);
    ck_assert_uint_eq(mgmt_event_record_stop(log, 11, "a", "triple-fault"), 2);
    ck_assert_uint_eq(mgmt_event_record_stop(log, 12, "a", "hard-stop"), 3);
    ck_assert_int_eq(mgmt_event_log_get(log, 2)->type, MGMT_EVENT_PARTITION_CRASHED);
    ck_assert_int_eq(mgmt_event_log_get(log, 3)->type, MGMT_EVENT_PARTITION_STOPPED);
    ck_assert_str_eq(mgmt_event_log_get(log, 3)->detail, "hard-stop");
    /* Hostile text is cut and made printable. */
    mgmt_event_record(log, 13, MGMT_EVENT_LOGIN_FAILED, NULL,
                      "\x1b[31m0123456789012345678901234567890123456789012345678901234567890123456789");
    const struct mgmt_event *e = mgmt_event_log_get(log, 4);
    ck_assert_uint_eq(strlen(e->detail), MGMT_EVENTS_DETAIL_MAX);
    ck_assert_uint_eq(e->detail[0], '?');
    /* The log keeps the last MGMT_EVENTS_MAX. */
    for (int i = 0; i < MGMT_EVENTS_MAX; i++)
        mgmt_event_record(log, 20, MGMT_EVENT_PARTITION_STARTED, "b", NULL);
    ck_assert_uint_eq(log->next_seq, 5 + MGMT_EVENTS_MAX);
    ck_assert_uint_eq(mgmt_event_log_first(log), 5);
    ck_assert_ptr_null(mgmt_event_log_get(log, 4));
    ck_assert_uint_eq(mgmt_event_log_get(log, 5)->seq, 5);
}
END_TEST

START_TEST(login_ok_once_per_address_and_quiet_period)
{
    struct mgmt_event_log *log = &log_under_test;
    mgmt_event_log_init(log);
    ck_assert(mgmt_event_login_ok(log, 1000, "10.0.2.2"));
    ck_assert(!mgmt_event_login_ok(log, 2000, "10.0.2.2"));
    ck_assert(mgmt_event_login_ok(log, 2000, "10.0.2.3"));
    ck_assert(mgmt_event_login_ok(log, 1000 + MGMT_EVENTS_LOGIN_QUIET_MS, "10.0.2.2"));
    /* More addresses than entries: the oldest is forgotten, nothing grows. */
    char address[32];
    for (int i = 0; i < 3 * MGMT_EVENTS_LOGIN_ADDRESSES; i++) {
        snprintf(address, sizeof(address), "192.0.2.%d", i);
        ck_assert(mgmt_event_login_ok(log, 5000000 + (uint64_t)i, address));
    }
    ck_assert_uint_eq(log->next_seq, 4 + 3 * MGMT_EVENTS_LOGIN_ADDRESSES);
}
END_TEST

Suite *mgmt_console_suite(void)
{
    Suite *s = suite_create("mgmt_console");
    TCase *tc = tcase_create("ring");
    tcase_add_test(tc, ring_keeps_the_last_bytes);
    suite_add_tcase(s, tc);
    tc = tcase_create("websocket");
    tcase_add_test(tc, accept_key_matches_the_rfc);
    tcase_add_test(tc, frames_in_any_split);
    tcase_add_test(tc, hostile_frames_close_with_a_code);
    tcase_add_test(tc, server_frame_headers);
    suite_add_tcase(s, tc);
    tc = tcase_create("streams");
    tcase_add_checked_fixture(tc, console_setup, NULL);
    tcase_add_test(tc, stream_sends_scrollback_then_live_output);
    tcase_add_test(tc, slow_reader_gets_a_counted_gap);
    tcase_add_test(tc, input_is_typed_as_the_uart_takes_it);
    tcase_add_test(tc, ping_pong_and_close);
    tcase_add_test(tc, protocol_error_and_deleted_partition_close_the_stream);
    suite_add_tcase(s, tc);
    tc = tcase_create("events");
    tcase_add_test(tc, events_have_growing_sequence_numbers);
    tcase_add_test(tc, login_ok_once_per_address_and_quiet_period);
    suite_add_tcase(s, tc);
    return s;
}
