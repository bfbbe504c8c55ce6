/*
 * HTTP/1.1 for the management API (RFC 9112 message syntax, RFC 9110 semantics): an
 * incremental request parser and a response-head writer. Everything a client sends is
 * hostile: the parser takes bytes in any split, holds at most MGMT_HTTP_HEAD_MAX bytes of
 * request head and MGMT_HTTP_BODY_MAX bytes of body, and answers what it refuses with a
 * status (400, 413, 414, 431, 501, 505) and a reason for the log. It never allocates.
 *
 * Accepted: origin-form targets, HTTP/1.0 and HTTP/1.1, Content-Length bodies, persistent
 * connections and pipelined requests (bytes after one request are fed again for the next).
 * Refused on purpose (request smuggling and parser differentials, RFC 9112 sections 6.3
 * and 11.2): obs-fold continuation lines, whitespace before a field's colon, bare CR or
 * LF, a repeated Content-Length, any Transfer-Encoding (chunked is not implemented: 501),
 * a missing or repeated Host in HTTP/1.1.
 */
#ifndef HVFW_ROOT_MGMT_HTTP_H
#define HVFW_ROOT_MGMT_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MGMT_HTTP_HEAD_MAX 8192   /* request line + header fields + CRLFs */
#define MGMT_HTTP_TARGET_MAX 512  /* request-target, bytes (else 414) */
#define MGMT_HTTP_FIELDS_MAX 48   /* header field lines (else 431) */
#define MGMT_HTTP_BODY_MAX 65536  /* Content-Length limit (else 413) */
#define MGMT_HTTP_AUTHORIZATION_MAX 256
#define MGMT_HTTP_CONTENT_TYPE_MAX 128
#define MGMT_HTTP_UPGRADE_MAX 64
#define MGMT_HTTP_WEBSOCKET_KEY_MAX 64

enum mgmt_http_method {
    MGMT_HTTP_GET,
    MGMT_HTTP_HEAD,
    MGMT_HTTP_POST,
    MGMT_HTTP_PUT,
    MGMT_HTTP_DELETE,
    MGMT_HTTP_PATCH,
    MGMT_HTTP_OPTIONS,
    MGMT_HTTP_METHOD_COUNT,
};

/* One parsed request; strings are NUL-terminated and hold no control characters. */
struct mgmt_http_request {
    enum mgmt_http_method method;
    unsigned minor_version; /* HTTP/1.minor_version: 0 or 1 */
    char path[MGMT_HTTP_TARGET_MAX + 1];  /* the target up to '?' */
    char query[MGMT_HTTP_TARGET_MAX + 1]; /* after '?', "" if none */
    bool keep_alive;        /* the connection persists after the response (RFC 9112 9.3) */
    bool has_authorization;
    char authorization[MGMT_HTTP_AUTHORIZATION_MAX + 1];
    char content_type[MGMT_HTTP_CONTENT_TYPE_MAX + 1];
    size_t content_length;
    /* A WebSocket opening handshake (RFC 6455 4.1): `Connection: upgrade`, `Upgrade`, and
     * the Sec-WebSocket-Key/-Version fields as sent ("" when absent); checked by the API. */
    bool connection_upgrade;
    char upgrade[MGMT_HTTP_UPGRADE_MAX + 1];
    char websocket_key[MGMT_HTTP_WEBSOCKET_KEY_MAX + 1];
    char websocket_version[8];
    const uint8_t *body;    /* content_length bytes inside the parser; valid until reset */
};

enum mgmt_http_result {
    MGMT_HTTP_NEED_MORE, /* all bytes consumed, no request complete yet */
    MGMT_HTTP_REQUEST,   /* parser->request is complete; call mgmt_http_parser_next */
    MGMT_HTTP_ERROR,     /* parser->error_status says why; the connection must close */
};

enum mgmt_http_state {
    MGMT_HTTP_STATE_HEAD,
    MGMT_HTTP_STATE_BODY,
    MGMT_HTTP_STATE_DONE,
    MGMT_HTTP_STATE_FAILED,
};

struct mgmt_http_parser {
    enum mgmt_http_state state;
    size_t head_length;  /* bytes in head[] */
    size_t skipped;      /* empty lines before the request line (RFC 9112 2.2) */
    bool request_line_seen;
    size_t body_length;  /* bytes in body[] */
    struct mgmt_http_request request;
    int error_status;    /* 400, 413, 414, 431, 501 or 505 after MGMT_HTTP_ERROR */
    const char *error_reason; /* a fixed string for the log and the error body */
    char head[MGMT_HTTP_HEAD_MAX];
    uint8_t body[MGMT_HTTP_BODY_MAX];
};

void mgmt_http_parser_init(struct mgmt_http_parser *parser);

/* Feeds `length` bytes; `*consumed` says how many were taken. After MGMT_HTTP_REQUEST the
 * rest (length - *consumed) belongs to the next request: call mgmt_http_parser_next once
 * the response is on its way, then feed it again. After MGMT_HTTP_ERROR the parser takes
 * nothing more. */
enum mgmt_http_result mgmt_http_parse(struct mgmt_http_parser *parser, const uint8_t *data,
                                      size_t length, size_t *consumed);

/* Forgets the finished request and waits for the next one on the same connection. */
void mgmt_http_parser_next(struct mgmt_http_parser *parser);

const char *mgmt_http_method_name(enum mgmt_http_method method);
/* The reason phrase of a status code the API uses (RFC 9110 section 15), "Unknown" else. */
const char *mgmt_http_reason(int status);

/*
 * Writes a response head: status line, Content-Type (if not NULL), Content-Length (not for
 * a 204), Connection: close unless keep_alive, `extra` header lines (each ending in CRLF;
 * may be NULL), then the empty line. Returns its length, or 0 if `size` is too small (nothing
 * usable is written then).
 */
size_t mgmt_http_write_head(char *out, size_t size, int status, const char *content_type,
                            size_t content_length, bool keep_alive, const char *extra);

#endif
