#include "root/mgmt_http.h"

#include <stdio.h>
#include <string.h>

/* Empty lines tolerated before a request line (RFC 9112 2.2 asks for "at least one"). */
#define LEADING_EMPTY_LINES_MAX 8
/* The longest method and version around a target of MGMT_HTTP_TARGET_MAX bytes. */
#define REQUEST_LINE_MAX (MGMT_HTTP_TARGET_MAX + 32)

static const char *const method_names[MGMT_HTTP_METHOD_COUNT] = {
    [MGMT_HTTP_GET] = "GET",       [MGMT_HTTP_HEAD] = "HEAD",
    [MGMT_HTTP_POST] = "POST",     [MGMT_HTTP_PUT] = "PUT",
    [MGMT_HTTP_DELETE] = "DELETE", [MGMT_HTTP_PATCH] = "PATCH",
    [MGMT_HTTP_OPTIONS] = "OPTIONS",
};

const char *mgmt_http_method_name(enum mgmt_http_method method)
{
    return (unsigned)method < MGMT_HTTP_METHOD_COUNT ? method_names[method] : "?";
}

const char *mgmt_http_reason(int status)
{
    switch (status) {
    case 101: return "Switching Protocols";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 411: return "Length Required";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 415: return "Unsupported Media Type";
    case 417: return "Expectation Failed";
    case 429: return "Too Many Requests";
    case 426: return "Upgrade Required";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    case 505: return "HTTP Version Not Supported";
    case 507: return "Insufficient Storage";
    default: return "Unknown";
    }
}

void mgmt_http_parser_init(struct mgmt_http_parser *parser)
{
    parser->state = MGMT_HTTP_STATE_HEAD;
    parser->head_length = 0;
    parser->skipped = 0;
    parser->request_line_seen = false;
    parser->body_length = 0;
    memset(&parser->request, 0, sizeof(parser->request));
    parser->error_status = 0;
    parser->error_reason = NULL;
}

void mgmt_http_parser_next(struct mgmt_http_parser *parser)
{
    mgmt_http_parser_init(parser);
}

static bool fail(struct mgmt_http_parser *parser, int status, const char *reason)
{
    parser->state = MGMT_HTTP_STATE_FAILED;
    parser->error_status = status;
    parser->error_reason = reason;
    return false;
}

/* tchar (RFC 9110 5.6.2). */
static bool is_tchar(unsigned char c)
{
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
        return true;
    return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* field-vchar / SP / HTAB (RFC 9110 5.5): no CTL but HTAB. */
static bool is_field_char(unsigned char c)
{
    return c == '\t' || (c >= 0x20 && c != 0x7F);
}

static bool is_ows(char c)
{
    return c == ' ' || c == '\t';
}

static char lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

static bool equal_nocase(const char *a, size_t a_length, const char *b)
{
    size_t b_length = strlen(b);
    if (a_length != b_length)
        return false;
    for (size_t i = 0; i < a_length; i++)
        if (lower(a[i]) != lower(b[i]))
            return false;
    return true;
}

/* method SP request-target SP HTTP-version (RFC 9112 3). */
static bool parse_request_line(struct mgmt_http_parser *parser, const char *line, size_t length)
{
    struct mgmt_http_request *request = &parser->request;
    const char *end = line + length;
    const char *p = line;
    while (p < end && is_tchar((unsigned char)*p))
        p++;
    if (p == line || p == end || *p != ' ')
        return fail(parser, 400, "malformed request line");
    size_t method_length = (size_t)(p - line);
    bool known = false;
    for (unsigned m = 0; m < MGMT_HTTP_METHOD_COUNT; m++) {
        /* Methods are case-sensitive (RFC 9110 9.1). */
        if (strlen(method_names[m]) == method_length &&
            memcmp(method_names[m], line, method_length) == 0) {
            request->method = (enum mgmt_http_method)m;
            known = true;
        }
    }
    const char *target = ++p;
    while (p < end && *p != ' ')
        p++;
    size_t target_length = (size_t)(p - target);
    if (p == end || target_length == 0)
        return fail(parser, 400, "malformed request line");
    const char *version = p + 1;
    size_t version_length = (size_t)(end - version);
    if (version_length != 8 || memcmp(version, "HTTP/", 5) != 0 || version[6] != '.' ||
        version[5] < '0' || version[5] > '9' || version[7] < '0' || version[7] > '9')
        return fail(parser, 400, "malformed HTTP version");
    if (version[5] != '1')
        return fail(parser, 505, "only HTTP/1.x is served");
    request->minor_version = version[7] == '0' ? 0 : 1;
    if (target_length > MGMT_HTTP_TARGET_MAX)
        return fail(parser, 414, "request target too long");
    /* Only origin-form: the API has no proxy role, and "*" is meaningless to it. */
    if (target[0] != '/')
        return fail(parser, 400, "request target is not an absolute path");
    size_t path_length = target_length;
    for (size_t i = 0; i < target_length; i++) {
        unsigned char c = (unsigned char)target[i];
        if (c <= 0x20 || c >= 0x7F || c == '#')
            return fail(parser, 400, "bad character in request target");
        if (c == '?' && path_length == target_length)
            path_length = i;
    }
    memcpy(request->path, target, path_length);
    request->path[path_length] = '\0';
    if (path_length < target_length) {
        size_t query_length = target_length - path_length - 1;
        memcpy(request->query, target + path_length + 1, query_length);
        request->query[query_length] = '\0';
    }
    if (!known)
        return fail(parser, 501, "method not implemented");
    return true;
}

struct field_counts {
    unsigned host, content_length, transfer_encoding, authorization, content_type;
    unsigned upgrade, websocket_key, websocket_version;
    bool close, keep_alive, upgrade_option;
};

static bool parse_content_length(struct mgmt_http_parser *parser, const char *value,
                                 size_t length)
{
    if (length == 0)
        return fail(parser, 400, "empty Content-Length");
    size_t n = 0;
    for (size_t i = 0; i < length; i++) {
        if (value[i] < '0' || value[i] > '9')
            return fail(parser, 400, "Content-Length is not a decimal number");
        if (n > MGMT_HTTP_BODY_MAX)
            continue; /* too large whatever follows: 413 below, no overflow */
        n = n * 10 + (size_t)(value[i] - '0');
    }
    parser->request.content_length = n;
    return true;
}

/* Connection = #connection-option (RFC 9110 7.6.1): a comma list of tokens. */
static void parse_connection(struct field_counts *counts, const char *value, size_t length)
{
    size_t i = 0;
    while (i < length) {
        while (i < length && (is_ows(value[i]) || value[i] == ','))
            i++;
        size_t start = i;
        while (i < length && value[i] != ',' && !is_ows(value[i]))
            i++;
        if (equal_nocase(value + start, i - start, "close"))
            counts->close = true;
        else if (equal_nocase(value + start, i - start, "keep-alive"))
            counts->keep_alive = true;
        else if (equal_nocase(value + start, i - start, "upgrade"))
            counts->upgrade_option = true;
    }
}

static bool copy_value(struct mgmt_http_parser *parser, char *out, size_t size,
                       const char *value, size_t length)
{
    if (length + 1 > size)
        return fail(parser, 431, "header field value too long");
    memcpy(out, value, length);
    out[length] = '\0';
    return true;
}

static bool parse_field(struct mgmt_http_parser *parser, struct field_counts *counts,
                        const char *line, size_t length)
{
    struct mgmt_http_request *request = &parser->request;
    if (is_ows(line[0]))
        return fail(parser, 400, "obsolete line folding");
    size_t name_length = 0;
    while (name_length < length && is_tchar((unsigned char)line[name_length]))
        name_length++;
    /* No whitespace between name and colon (RFC 9112 5.1: MUST reject with 400). */
    if (name_length == 0 || name_length == length || line[name_length] != ':')
        return fail(parser, 400, "malformed header field");
    const char *value = line + name_length + 1;
    size_t value_length = length - name_length - 1;
    for (size_t i = 0; i < value_length; i++)
        if (!is_field_char((unsigned char)value[i]))
            return fail(parser, 400, "control character in header field");
    while (value_length > 0 && is_ows(value[0])) {
        value++;
        value_length--;
    }
    while (value_length > 0 && is_ows(value[value_length - 1]))
        value_length--;

    if (equal_nocase(line, name_length, "content-length")) {
        if (++counts->content_length > 1)
            return fail(parser, 400, "repeated Content-Length");
        return parse_content_length(parser, value, value_length);
    }
    if (equal_nocase(line, name_length, "transfer-encoding")) {
        counts->transfer_encoding++;
    } else if (equal_nocase(line, name_length, "host")) {
        counts->host++;
    } else if (equal_nocase(line, name_length, "connection")) {
        parse_connection(counts, value, value_length);
    } else if (equal_nocase(line, name_length, "authorization")) {
        if (++counts->authorization > 1)
            return fail(parser, 400, "repeated Authorization");
        request->has_authorization = true;
        return copy_value(parser, request->authorization, sizeof(request->authorization),
                          value, value_length);
    } else if (equal_nocase(line, name_length, "content-type")) {
        if (++counts->content_type > 1)
            return fail(parser, 400, "repeated Content-Type");
        return copy_value(parser, request->content_type, sizeof(request->content_type), value,
                          value_length);
    } else if (equal_nocase(line, name_length, "upgrade")) {
        if (++counts->upgrade > 1)
            return fail(parser, 400, "repeated Upgrade");
        return copy_value(parser, request->upgrade, sizeof(request->upgrade), value,
                          value_length);
    } else if (equal_nocase(line, name_length, "sec-websocket-key")) {
        if (++counts->websocket_key > 1) /* RFC 6455 4.2.1: exactly one */
            return fail(parser, 400, "repeated Sec-WebSocket-Key");
        return copy_value(parser, request->websocket_key, sizeof(request->websocket_key),
                          value, value_length);
    } else if (equal_nocase(line, name_length, "sec-websocket-version")) {
        if (++counts->websocket_version > 1)
            return fail(parser, 400, "repeated Sec-WebSocket-Version");
        return copy_value(parser, request->websocket_version,
                          sizeof(request->websocket_version), value, value_length);
    } else if (equal_nocase(line, name_length, "expect")) {
        /* 100-continue needs no interim answer: the client sends the body after a wait
         * (RFC 9110 10.1.1); any other expectation cannot be met. */
        if (!equal_nocase(value, value_length, "100-continue"))
            return fail(parser, 417, "unsupported expectation");
    }
    return true;
}

/* The head is complete: head[0, head_length) ends in CRLF CRLF and has no bare CR or LF. */
static bool parse_head(struct mgmt_http_parser *parser)
{
    const char *p = parser->head;
    const char *end = parser->head + parser->head_length - 2; /* the final empty line */
    struct field_counts counts = { 0 };
    unsigned fields = 0;
    bool first = true;
    while (p < end) {
        const char *eol = memchr(p, '\r', (size_t)(end - p));
        size_t length = (size_t)(eol - p); /* every CR is followed by LF: checked on input */
        if (first) {
            if (!parse_request_line(parser, p, length))
                return false;
            first = false;
        } else {
            if (++fields > MGMT_HTTP_FIELDS_MAX)
                return fail(parser, 431, "too many header fields");
            if (!parse_field(parser, &counts, p, length))
                return false;
        }
        p = eol + 2;
    }
    struct mgmt_http_request *request = &parser->request;
    if (counts.transfer_encoding && counts.content_length)
        return fail(parser, 400, "both Transfer-Encoding and Content-Length");
    if (counts.transfer_encoding)
        return fail(parser, 501, "Transfer-Encoding is not implemented");
    /* RFC 9112 3.2: a 1.1 request without Host, or any request with two, gets 400. */
    if (counts.host > 1 || (request->minor_version == 1 && counts.host == 0))
        return fail(parser, 400, "missing or repeated Host");
    if (request->content_length > MGMT_HTTP_BODY_MAX)
        return fail(parser, 413, "body larger than the limit");
    request->connection_upgrade = counts.upgrade_option;
    request->keep_alive = request->minor_version == 1 ? !counts.close
                                                      : counts.keep_alive && !counts.close;
    request->body = parser->body;
    parser->state = request->content_length ? MGMT_HTTP_STATE_BODY : MGMT_HTTP_STATE_DONE;
    return true;
}

/* Takes one byte of the head; false once the parser failed. */
static bool head_byte(struct mgmt_http_parser *parser, char c)
{
    char previous = parser->head_length ? parser->head[parser->head_length - 1] : '\0';
    if (c == '\n' && previous != '\r')
        return fail(parser, 400, "bare LF in request head");
    if (previous == '\r' && c != '\n')
        return fail(parser, 400, "bare CR in request head");
    if (c == '\n' && !parser->request_line_seen) {
        if (parser->head_length == 1) { /* an empty line before the request line */
            parser->head_length = 0;
            if (++parser->skipped > LEADING_EMPTY_LINES_MAX)
                return fail(parser, 400, "empty lines instead of a request");
            return true;
        }
        parser->request_line_seen = true;
    }
    if (!parser->request_line_seen && parser->head_length >= REQUEST_LINE_MAX)
        return fail(parser, 414, "request line too long");
    if (parser->head_length == MGMT_HTTP_HEAD_MAX)
        return fail(parser, 431, "request head too large");
    parser->head[parser->head_length++] = c;
    size_t n = parser->head_length;
    if (n >= 4 && memcmp(parser->head + n - 4, "\r\n\r\n", 4) == 0)
        return parse_head(parser);
    return true;
}

enum mgmt_http_result mgmt_http_parse(struct mgmt_http_parser *parser, const uint8_t *data,
                                      size_t length, size_t *consumed)
{
    size_t i = 0;
    while (i < length && parser->state == MGMT_HTTP_STATE_HEAD)
        head_byte(parser, (char)data[i++]);
    if (parser->state == MGMT_HTTP_STATE_BODY) {
        size_t want = parser->request.content_length - parser->body_length;
        size_t take = length - i < want ? length - i : want;
        memcpy(parser->body + parser->body_length, data + i, take);
        parser->body_length += take;
        i += take;
        if (parser->body_length == parser->request.content_length)
            parser->state = MGMT_HTTP_STATE_DONE;
    }
    *consumed = i;
    if (parser->state == MGMT_HTTP_STATE_FAILED)
        return MGMT_HTTP_ERROR;
    return parser->state == MGMT_HTTP_STATE_DONE ? MGMT_HTTP_REQUEST : MGMT_HTTP_NEED_MORE;
}

size_t mgmt_http_write_head(char *out, size_t size, int status, const char *content_type,
                            size_t content_length, bool keep_alive, const char *extra)
{
    char type_line[MGMT_HTTP_CONTENT_TYPE_MAX + 32] = "";
    if (content_type)
        snprintf(type_line, sizeof(type_line), "Content-Type: %s\r\n", content_type);
    /* A 1xx or 204 has no content and no Content-Length (RFC 9110 8.6). */
    char length_line[48] = "";
    if (status != 204 && status >= 200)
        snprintf(length_line, sizeof(length_line), "Content-Length: %zu\r\n", content_length);
    int n = snprintf(out, size,
                     "HTTP/1.1 %d %s\r\n"
                     "%s"
                     "%s"
                     "Cache-Control: no-store\r\n"
                     "%s"
                     "%s"
                     "\r\n",
                     status, mgmt_http_reason(status), type_line, length_line,
                     keep_alive ? "" : "Connection: close\r\n", extra ? extra : "");
    if (n < 0 || (size_t)n >= size) {
        if (size)
            out[0] = '\0';
        return 0;
    }
    return (size_t)n;
}
