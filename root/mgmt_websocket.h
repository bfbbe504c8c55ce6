/*
 * The WebSocket protocol (RFC 6455) on the server's side, for the console streams of
 * root/mgmt_console.h: the opening handshake's accept key (4.2.2), an incremental parser of
 * the client's frames (5.2) and the header of the server's frames. Pure (mbedTLS's SHA-1
 * and base64 only) and host-testable.
 *
 * Client frames are hostile input and checked as they arrive: masked (5.1), no RSV bits
 * (no extension is negotiated), known opcodes, control frames unfragmented with at most 125
 * bytes (5.5), continuation frames only inside a fragmented message and data frames only
 * outside one (5.4), a 64-bit length with its top bit clear, at most MGMT_WS_FRAME_MAX
 * payload bytes per frame (1009 beyond), text as UTF-8 across fragments (8.1, 1007), close
 * payloads of 0 or 2+ bytes with a code a peer may send (7.4) and a UTF-8 reason. What
 * fails gets a close code and a reason, and the connection ends (7.1.7).
 */
#ifndef HVFW_ROOT_MGMT_WEBSOCKET_H
#define HVFW_ROOT_MGMT_WEBSOCKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MGMT_WS_FRAME_MAX 65536u       /* payload bytes of one client frame */
#define MGMT_WS_CONTROL_MAX 125u       /* payload bytes of a control frame (5.5) */
#define MGMT_WS_HEADER_MAX 10u         /* a server frame's header (unmasked, 64-bit length) */
#define MGMT_WS_ACCEPT_LENGTH 28u      /* base64 of a SHA-1 */

enum mgmt_ws_opcode {
    MGMT_WS_CONTINUATION = 0x0,
    MGMT_WS_TEXT = 0x1,
    MGMT_WS_BINARY = 0x2,
    MGMT_WS_CLOSE = 0x8,
    MGMT_WS_PING = 0x9,
    MGMT_WS_PONG = 0xA,
};

/* Close codes (7.4.1). */
#define MGMT_WS_CLOSE_NORMAL 1000
#define MGMT_WS_CLOSE_GOING_AWAY 1001
#define MGMT_WS_CLOSE_PROTOCOL_ERROR 1002
#define MGMT_WS_CLOSE_INVALID_DATA 1007
#define MGMT_WS_CLOSE_TOO_BIG 1009

/* Sec-WebSocket-Accept for a Sec-WebSocket-Key: base64(SHA-1(key + the RFC's GUID)) into
 * `out` (MGMT_WS_ACCEPT_LENGTH + 1 bytes). False when the key is not the base64 of 16
 * bytes (4.2.1 item 5). */
bool mgmt_ws_accept_key(const char *key, char *out);

enum mgmt_ws_event {
    MGMT_WS_EVENT_NONE,  /* consumed what it could; data bytes may have been delivered */
    MGMT_WS_EVENT_PING,  /* a ping is complete: answer with a pong of parser->control */
    MGMT_WS_EVENT_PONG,
    MGMT_WS_EVENT_CLOSE, /* the client's close: parser->close_code (1005: none given) */
    MGMT_WS_EVENT_ERROR, /* parser->close_code and parser->error say why; nothing more */
};

enum mgmt_ws_state {
    MGMT_WS_STATE_HEADER,
    MGMT_WS_STATE_PAYLOAD,
    MGMT_WS_STATE_CLOSED, /* after a close or an error */
};

struct mgmt_ws_parser {
    enum mgmt_ws_state state;
    uint8_t header[14];
    size_t header_length;
    uint8_t opcode;
    bool fin;
    uint8_t mask[4];
    uint64_t payload_length, payload_done;
    bool in_message;         /* a fragmented text or binary message is open */
    bool message_text;
    unsigned utf8_needed;    /* continuation bytes the open text still needs */
    uint8_t utf8_low, utf8_high; /* the range of the next continuation byte */
    uint8_t control[MGMT_WS_CONTROL_MAX];
    size_t control_length;   /* after PING, PONG, CLOSE: the payload */
    uint16_t close_code;
    const char *error;
};

void mgmt_ws_parser_init(struct mgmt_ws_parser *parser);

/*
 * Feeds `length` client bytes. Data bytes (text or binary payload, unmasked) go to `data`,
 * at most `data_room` of them (*data_length says how many); with no room left the parser
 * stops in a payload, so the caller's buffer bounds what it takes. Returns the bytes
 * consumed; stops early after an event other than NONE, which the caller handles before
 * feeding the rest.
 */
size_t mgmt_ws_parse(struct mgmt_ws_parser *parser, const uint8_t *bytes, size_t length,
                     uint8_t *data, size_t data_room, size_t *data_length,
                     enum mgmt_ws_event *event);

/* A server frame's header (FIN set, unmasked, 5.1) for `payload_length` bytes; its length. */
size_t mgmt_ws_frame_header(uint8_t *out, enum mgmt_ws_opcode opcode, uint64_t payload_length);

#endif
