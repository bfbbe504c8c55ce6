#include "root/mgmt_websocket.h"

#include <string.h>

#include "mbedtls/base64.h"
#include "mbedtls/sha1.h"

#include "root/mgmt_json.h"

/* RFC 6455 1.3: the GUID appended to the key. */
static const char websocket_guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

bool mgmt_ws_accept_key(const char *key, char *out)
{
    size_t key_length = strlen(key);
    uint8_t nonce[32];
    size_t nonce_length = 0;
    if (key_length != 24 ||
        mbedtls_base64_decode(nonce, sizeof(nonce), &nonce_length, (const unsigned char *)key,
                              key_length) != 0 ||
        nonce_length != 16)
        return false;
    char text[24 + sizeof(websocket_guid)];
    memcpy(text, key, 24);
    memcpy(text + 24, websocket_guid, sizeof(websocket_guid));
    uint8_t digest[20];
    if (mbedtls_sha1_ret((const unsigned char *)text, 24 + sizeof(websocket_guid) - 1, digest) != 0)
        return false;
    size_t written = 0;
    if (mbedtls_base64_encode((unsigned char *)out, MGMT_WS_ACCEPT_LENGTH + 1, &written, digest,
                              sizeof(digest)) != 0 ||
        written != MGMT_WS_ACCEPT_LENGTH)
        return false;
    out[MGMT_WS_ACCEPT_LENGTH] = '\0';
    return true;
}

void mgmt_ws_parser_init(struct mgmt_ws_parser *parser)
{
    memset(parser, 0, sizeof(*parser));
    parser->state = MGMT_WS_STATE_HEADER;
}

static size_t fail(struct mgmt_ws_parser *parser, uint16_t code, const char *why,
                   enum mgmt_ws_event *event, size_t consumed)
{
    parser->state = MGMT_WS_STATE_CLOSED;
    parser->close_code = code;
    parser->error = why;
    *event = MGMT_WS_EVENT_ERROR;
    return consumed;
}

/* One byte of a text message through the UTF-8 check (RFC 3629 section 4). */
static bool utf8_byte(struct mgmt_ws_parser *parser, uint8_t b)
{
    if (parser->utf8_needed) {
        if (b < parser->utf8_low || b > parser->utf8_high)
            return false;
        parser->utf8_needed--;
        parser->utf8_low = 0x80;
        parser->utf8_high = 0xBF;
        return true;
    }
    parser->utf8_low = 0x80;
    parser->utf8_high = 0xBF;
    if (b < 0x80)
        return true;
    if (b >= 0xC2 && b <= 0xDF)
        parser->utf8_needed = 1;
    else if (b >= 0xE0 && b <= 0xEF)
        parser->utf8_needed = 2;
    else if (b >= 0xF0 && b <= 0xF4)
        parser->utf8_needed = 3;
    else
        return false;
    if (b == 0xE0)
        parser->utf8_low = 0xA0; /* no overlong forms */
    else if (b == 0xED)
        parser->utf8_high = 0x9F; /* no surrogates */
    else if (b == 0xF0)
        parser->utf8_low = 0x90;
    else if (b == 0xF4)
        parser->utf8_high = 0x8F; /* nothing above U+10FFFF */
    return true;
}

/* Close codes a peer may send (7.4.1, 7.4.2): not 1004-1006, 1015, the rest below 3000. */
static bool close_code_valid(uint16_t code)
{
    if (code >= 3000 && code <= 4999)
        return true;
    return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1011);
}

/* The header is whole once it has its length fields and the mask: 0 while incomplete. */
static size_t header_needed(const uint8_t *h, size_t have)
{
    if (have < 2)
        return 2;
    size_t length_field = (h[1] & 0x7F) == 126 ? 2 : (h[1] & 0x7F) == 127 ? 8 : 0;
    return 2 + length_field + ((h[1] & 0x80) ? 4 : 0);
}

static size_t header_done(struct mgmt_ws_parser *parser, enum mgmt_ws_event *event,
                          size_t consumed)
{
    const uint8_t *h = parser->header;
    parser->fin = h[0] & 0x80;
    parser->opcode = h[0] & 0x0F;
    if (h[0] & 0x70)
        return fail(parser, MGMT_WS_CLOSE_PROTOCOL_ERROR, "RSV bits without an extension",
                    event, consumed);
    if (!(h[1] & 0x80))
        return fail(parser, MGMT_WS_CLOSE_PROTOCOL_ERROR, "an unmasked client frame", event,
                    consumed);
    uint64_t length = h[1] & 0x7F;
    size_t at = 2;
    if (length == 126) {
        length = (uint64_t)h[2] << 8 | h[3];
        at = 4;
        if (length < 126)
            return fail(parser, MGMT_WS_CLOSE_PROTOCOL_ERROR, "a length not in its shortest form",
                        event, consumed);
    } else if (length == 127) {
        length = 0;
        for (size_t i = 0; i < 8; i++)
            length = length << 8 | h[2 + i];
        at = 10;
        if (length >> 63)
            return fail(parser, MGMT_WS_CLOSE_PROTOCOL_ERROR, "a length with its top bit set",
                        event, consumed);
        if (length <= 0xFFFF)
            return fail(parser, MGMT_WS_CLOSE_PROTOCOL_ERROR, "a length not in its shortest form",
                        event, consumed);
    }
    memcpy(parser->mask, h + at, 4);
    parser->payload_length = length;
    parser->payload_done = 0;
    switch (parser->opcode) {
    case MGMT_WS_CLOSE:
    case MGMT_WS_PING:
    case MGMT_WS_PONG:
        if (!parser->fin || length > MGMT_WS_CONTROL_MAX)
            return fail(parser, MGMT_WS_CLOSE_PROTOCOL_ERROR,
                        "a fragmented or oversized control frame", event, consumed);
        parser->control_length = 0;
        break;
    case MGMT_WS_TEXT:
    case MGMT_WS_BINARY:
        if (parser->in_message)
            return fail(parser, MGMT_WS_CLOSE_PROTOCOL_ERROR,
                        "a new message inside a fragmented one", event, consumed);
        parser->in_message = true;
        parser->message_text = parser->opcode == MGMT_WS_TEXT;
        parser->utf8_needed = 0;
        break;
    case MGMT_WS_CONTINUATION:
        if (!parser->in_message)
            return fail(parser, MGMT_WS_CLOSE_PROTOCOL_ERROR,
                        "a continuation frame outside a message", event, consumed);
        break;
    default:
        return fail(parser, MGMT_WS_CLOSE_PROTOCOL_ERROR, "an unknown opcode", event, consumed);
    }
    if (length > MGMT_WS_FRAME_MAX)
        return fail(parser, MGMT_WS_CLOSE_TOO_BIG, "a frame larger than 64 KiB", event, consumed);
    parser->state = MGMT_WS_STATE_PAYLOAD;
    return consumed;
}

/* The frame's payload is all in: ends a message, or completes a control frame. */
static void frame_done(struct mgmt_ws_parser *parser, enum mgmt_ws_event *event)
{
    parser->state = MGMT_WS_STATE_HEADER;
    parser->header_length = 0;
    switch (parser->opcode) {
    case MGMT_WS_PING:
        *event = MGMT_WS_EVENT_PING;
        return;
    case MGMT_WS_PONG:
        *event = MGMT_WS_EVENT_PONG;
        return;
    case MGMT_WS_CLOSE:
        if (parser->control_length == 1) {
            fail(parser, MGMT_WS_CLOSE_PROTOCOL_ERROR, "a close payload of one byte", event, 0);
            return;
        }
        parser->close_code = 1005; /* "no status received" (7.4.1), never sent */
        if (parser->control_length >= 2) {
            parser->close_code = (uint16_t)(parser->control[0] << 8 | parser->control[1]);
            if (!close_code_valid(parser->close_code)) {
                fail(parser, MGMT_WS_CLOSE_PROTOCOL_ERROR, "a close code a peer may not send",
                     event, 0);
                return;
            }
            if (!mgmt_json_utf8_valid((const char *)parser->control + 2,
                                      parser->control_length - 2)) {
                fail(parser, MGMT_WS_CLOSE_INVALID_DATA, "a close reason that is not UTF-8",
                     event, 0);
                return;
            }
        }
        parser->state = MGMT_WS_STATE_CLOSED;
        *event = MGMT_WS_EVENT_CLOSE;
        return;
    default: /* text, binary, continuation */
        if (parser->fin) {
            if (parser->message_text && parser->utf8_needed) {
                fail(parser, MGMT_WS_CLOSE_INVALID_DATA, "text that is not UTF-8", event, 0);
                return;
            }
            parser->in_message = false;
        }
        return;
    }
}

size_t mgmt_ws_parse(struct mgmt_ws_parser *parser, const uint8_t *bytes, size_t length,
                     uint8_t *data, size_t data_room, size_t *data_length,
                     enum mgmt_ws_event *event)
{
    *event = MGMT_WS_EVENT_NONE;
    *data_length = 0;
    size_t i = 0;
    while (i < length || (parser->state == MGMT_WS_STATE_PAYLOAD &&
                          parser->payload_done == parser->payload_length)) {
        if (parser->state == MGMT_WS_STATE_CLOSED)
            return i; /* nothing after a close or an error */
        if (parser->state == MGMT_WS_STATE_HEADER) {
            parser->header[parser->header_length++] = bytes[i++];
            size_t needed = header_needed(parser->header, parser->header_length);
            if (parser->header_length < needed)
                continue;
            i = header_done(parser, event, i);
            if (*event != MGMT_WS_EVENT_NONE)
                return i;
            continue;
        }
        /* Payload. */
        if (parser->payload_done == parser->payload_length) {
            frame_done(parser, event);
            if (*event != MGMT_WS_EVENT_NONE)
                return i;
            continue;
        }
        bool control = parser->opcode & 0x8;
        if (!control && *data_length == data_room)
            return i; /* the caller's buffer is full: the rest waits */
        uint8_t b = bytes[i] ^ parser->mask[parser->payload_done & 3];
        if (control) {
            parser->control[parser->control_length++] = b;
        } else {
            if (parser->message_text && !utf8_byte(parser, b))
                return fail(parser, MGMT_WS_CLOSE_INVALID_DATA, "text that is not UTF-8", event,
                            i + 1);
            data[(*data_length)++] = b;
        }
        parser->payload_done++;
        i++;
    }
    return i;
}

size_t mgmt_ws_frame_header(uint8_t *out, enum mgmt_ws_opcode opcode, uint64_t payload_length)
{
    out[0] = (uint8_t)(0x80 | opcode);
    if (payload_length < 126) {
        out[1] = (uint8_t)payload_length;
        return 2;
    }
    if (payload_length <= 0xFFFF) {
        out[1] = 126;
        out[2] = (uint8_t)(payload_length >> 8);
        out[3] = (uint8_t)payload_length;
        return 4;
    }
    out[1] = 127;
    for (size_t i = 0; i < 8; i++)
        out[2 + i] = (uint8_t)(payload_length >> (56 - 8 * i));
    return 10;
}
