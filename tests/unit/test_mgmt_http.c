// sources: root/mgmt_http.c
/*
 * The management API's HTTP/1.1 request parser: every split of the input, pipelining,
 * limits, and the refusals RFC 9112 asks for (obs-fold, whitespace before a colon, bare
 * CR/LF, repeated Content-Length, Transfer-Encoding, Host rules).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "root/mgmt_http.h"

static struct mgmt_http_parser *parser;

static void setup(void)
{
    parser = malloc(sizeof(*parser));
    ck_assert_ptr_nonnull(parser);
    mgmt_http_parser_init(parser);
}

static void teardown(void)
{
    free(parser);
}

/* Feeds the whole text at once; the result of the first complete request or error. */
static enum mgmt_http_result feed(const char *text, size_t *consumed)
{
    size_t unused;
    return mgmt_http_parse(parser, (const uint8_t *)text, strlen(text),
                           consumed ? consumed : &unused);
}

static int status_of(const char *text)
{
    mgmt_http_parser_init(parser);
    enum mgmt_http_result r = feed(text, NULL);
    if (r == MGMT_HTTP_ERROR)
        return parser->error_status;
    return r == MGMT_HTTP_REQUEST ? 200 : 0;
}

static const char simple[] = "GET /v1/host?x=1 HTTP/1.1\r\nHost: a\r\n"
                             "Authorization: Bearer abc \r\n\r\n";

START_TEST(simple_get)
{
    size_t consumed;
    ck_assert_int_eq(feed(simple, &consumed), MGMT_HTTP_REQUEST);
    ck_assert_uint_eq(consumed, strlen(simple));
    const struct mgmt_http_request *r = &parser->request;
    ck_assert_int_eq(r->method, MGMT_HTTP_GET);
    ck_assert_str_eq(r->path, "/v1/host");
    ck_assert_str_eq(r->query, "x=1");
    ck_assert(r->keep_alive);
    ck_assert(r->has_authorization);
    ck_assert_str_eq(r->authorization, "Bearer abc");
    ck_assert_uint_eq(r->content_length, 0);
}
END_TEST

/* The same request split at every byte boundary, and byte by byte. */
START_TEST(every_split)
{
    static const char text[] = "POST /v1/partitions HTTP/1.1\r\nHost: h\r\n"
                               "Content-Type: application/json\r\nContent-Length: 11\r\n\r\n"
                               "{\"a\":12345}";
    size_t length = strlen(text);
    for (size_t cut = 0; cut <= length; cut++) {
        mgmt_http_parser_init(parser);
        size_t consumed;
        enum mgmt_http_result r =
            mgmt_http_parse(parser, (const uint8_t *)text, cut, &consumed);
        ck_assert_uint_eq(consumed, cut);
        if (cut < length) {
            ck_assert_int_eq(r, MGMT_HTTP_NEED_MORE);
            r = mgmt_http_parse(parser, (const uint8_t *)text + cut, length - cut, &consumed);
            ck_assert_uint_eq(consumed, length - cut);
        }
        ck_assert_int_eq(r, MGMT_HTTP_REQUEST);
        ck_assert_uint_eq(parser->request.content_length, 11);
        ck_assert_int_eq(memcmp(parser->request.body, "{\"a\":12345}", 11), 0);
        ck_assert_str_eq(parser->request.content_type, "application/json");
    }
    mgmt_http_parser_init(parser);
    enum mgmt_http_result r = MGMT_HTTP_NEED_MORE;
    for (size_t i = 0; i < length; i++) {
        size_t consumed;
        ck_assert_int_eq(r, MGMT_HTTP_NEED_MORE);
        r = mgmt_http_parse(parser, (const uint8_t *)text + i, 1, &consumed);
        ck_assert_uint_eq(consumed, 1);
    }
    ck_assert_int_eq(r, MGMT_HTTP_REQUEST);
}
END_TEST

START_TEST(pipelined)
{
    static const char text[] = "GET /a HTTP/1.1\r\nHost: h\r\n\r\n"
                               "PUT /b HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nxyz"
                               "DELETE /c HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n";
    const char *p = text;
    size_t left = strlen(text), consumed;
    static const char *const paths[] = { "/a", "/b", "/c" };
    static const enum mgmt_http_method methods[] = { MGMT_HTTP_GET, MGMT_HTTP_PUT,
                                                     MGMT_HTTP_DELETE };
    for (int i = 0; i < 3; i++) {
        ck_assert_int_eq(mgmt_http_parse(parser, (const uint8_t *)p, left, &consumed),
                         MGMT_HTTP_REQUEST);
        ck_assert_str_eq(parser->request.path, paths[i]);
        ck_assert_int_eq(parser->request.method, methods[i]);
        ck_assert(parser->request.keep_alive == (i < 2));
        if (i == 1)
            ck_assert_int_eq(memcmp(parser->request.body, "xyz", 3), 0);
        p += consumed;
        left -= consumed;
        mgmt_http_parser_next(parser);
    }
    ck_assert_uint_eq(left, 0);
}
END_TEST

START_TEST(keep_alive_rules)
{
    ck_assert_int_eq(status_of("GET / HTTP/1.0\r\n\r\n"), 200);
    ck_assert(!parser->request.keep_alive);
    ck_assert_uint_eq(parser->request.minor_version, 0);
    ck_assert_int_eq(status_of("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n"), 200);
    ck_assert(parser->request.keep_alive);
    ck_assert_int_eq(status_of("GET / HTTP/1.1\r\nHost: h\r\nConnection: foo, close\r\n\r\n"),
                     200);
    ck_assert(!parser->request.keep_alive);
    /* Empty lines before the request line are skipped (RFC 9112 2.2). */
    ck_assert_int_eq(status_of("\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n"), 200);
}
END_TEST

START_TEST(bad_request_lines)
{
    static const char *const bad[] = {
        "GET  / HTTP/1.1\r\nHost: h\r\n\r\n",      /* two spaces */
        "GET / HTTP/1.1 \r\nHost: h\r\n\r\n",      /* trailing space */
        "GET /\r\nHost: h\r\n\r\n",                /* HTTP/0.9 style */
        "GET / http/1.1\r\nHost: h\r\n\r\n",       /* version is case-sensitive */
        "GET / HTTP/1.10\r\nHost: h\r\n\r\n",
        "GET v1 HTTP/1.1\r\nHost: h\r\n\r\n",      /* not origin-form */
        "GET http://x/ HTTP/1.1\r\nHost: h\r\n\r\n",
        "GET * HTTP/1.1\r\nHost: h\r\n\r\n",
        "GET /a#b HTTP/1.1\r\nHost: h\r\n\r\n",    /* fragment */
        "GET /\x7f HTTP/1.1\r\nHost: h\r\n\r\n",
        "G(T / HTTP/1.1\r\nHost: h\r\n\r\n",       /* not a token */
        " GET / HTTP/1.1\r\nHost: h\r\n\r\n",
        "GET / HTTP/1.1\nHost: h\r\n\r\n",         /* bare LF */
        "GET / HTTP/1.1\r\rHost: h\r\n\r\n",       /* bare CR */
        "\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n",   /* only empty lines */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        ck_assert_msg(status_of(bad[i]) == 400, "case %zu: %d", i, status_of(bad[i]));
    ck_assert_int_eq(status_of("BREW / HTTP/1.1\r\nHost: h\r\n\r\n"), 501);
    ck_assert_int_eq(status_of("get / HTTP/1.1\r\nHost: h\r\n\r\n"), 501); /* case-sensitive */
    ck_assert_int_eq(status_of("GET / HTTP/2.0\r\nHost: h\r\n\r\n"), 505);
}
END_TEST

START_TEST(bad_fields)
{
    static const char *const bad[] = {
        "GET / HTTP/1.1\r\nHost: h\r\nX-A: 1\r\n  folded\r\n\r\n", /* obs-fold */
        "GET / HTTP/1.1\r\nHost: h\r\nX-A: 1\r\n\tfolded\r\n\r\n",
        "GET / HTTP/1.1\r\nHost : h\r\n\r\n",                        /* space before colon */
        "GET / HTTP/1.1\r\nHost: h\r\nNoColon\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: h\r\n: empty-name\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: h\r\nX: a\x01" "b\r\n\r\n",         /* control character */
        "GET / HTTP/1.1\r\nHost: h\r\nX: a\x00" "b\r\n\r\n",
        "GET / HTTP/1.1\r\n\r\n",                                    /* no Host in 1.1 */
        "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
        "GET / HTTP/1.0\r\nHost: a\r\nHost: a\r\n\r\n",
        "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx",
        "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1, 1\r\n\r\nx",
        "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: +1\r\n\r\nx",
        "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: -1\r\n\r\n",
        "POST / HTTP/1.1\r\nHost: h\r\nContent-Length:\r\n\r\n",
        "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 0x10\r\n\r\n",
        "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: h\r\nAuthorization: a\r\nAuthorization: b\r\n\r\n",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        /* strlen stops at an embedded NUL: feed the NUL case by its real length. */
        int status = status_of(bad[i]);
        if (i == 6) {
            mgmt_http_parser_init(parser);
            size_t consumed;
            static const char nul[] = "GET / HTTP/1.1\r\nHost: h\r\nX: a\x00" "b\r\n\r\n";
            ck_assert_int_eq(mgmt_http_parse(parser, (const uint8_t *)nul, sizeof(nul) - 1,
                                             &consumed), MGMT_HTTP_ERROR);
            status = parser->error_status;
        }
        ck_assert_msg(status == 400, "case %zu: %d", i, status);
    }
    ck_assert_int_eq(status_of("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"),
                     501);
    ck_assert_int_eq(status_of("GET / HTTP/1.1\r\nHost: h\r\nExpect: tea\r\n\r\n"), 417);
    ck_assert_int_eq(status_of("GET / HTTP/1.1\r\nHost: h\r\nExpect: 100-Continue\r\n\r\n"),
                     200);
    /* A lone obs-text byte in a value is allowed (RFC 9110 5.5). */
    ck_assert_int_eq(status_of("GET / HTTP/1.1\r\nHost: h\r\nX: caf\xc3\xa9\r\n\r\n"), 200);
}
END_TEST

START_TEST(limits)
{
    static char text[MGMT_HTTP_HEAD_MAX + MGMT_HTTP_TARGET_MAX + 256];
    /* The longest target passes; one byte more is 414. */
    for (int extra = 0; extra <= 1; extra++) {
        size_t n = (size_t)snprintf(text, sizeof(text), "GET /");
        memset(text + n, 'a', MGMT_HTTP_TARGET_MAX - 1 + (size_t)extra);
        n += MGMT_HTTP_TARGET_MAX - 1 + (size_t)extra;
        snprintf(text + n, sizeof(text) - n, " HTTP/1.1\r\nHost: h\r\n\r\n");
        ck_assert_int_eq(status_of(text), extra ? 414 : 200);
    }
    /* A request line without end: 414 as soon as it is too long, not after the head. */
    memset(text, 'a', sizeof(text) - 1);
    memcpy(text, "GET /", 5);
    text[sizeof(text) - 1] = '\0';
    ck_assert_int_eq(status_of(text), 414);
    /* Too many fields: 431. */
    size_t n = (size_t)snprintf(text, sizeof(text), "GET / HTTP/1.1\r\nHost: h\r\n");
    for (int i = 0; i < MGMT_HTTP_FIELDS_MAX; i++)
        n += (size_t)snprintf(text + n, sizeof(text) - n, "X-%d: 1\r\n", i);
    snprintf(text + n, sizeof(text) - n, "\r\n");
    ck_assert_int_eq(status_of(text), 431);
    /* A head over MGMT_HTTP_HEAD_MAX: 431. */
    n = (size_t)snprintf(text, sizeof(text), "GET / HTTP/1.1\r\nHost: h\r\nX: ");
    memset(text + n, 'b', MGMT_HTTP_HEAD_MAX);
    snprintf(text + n + MGMT_HTTP_HEAD_MAX, sizeof(text) - n - MGMT_HTTP_HEAD_MAX, "\r\n\r\n");
    ck_assert_int_eq(status_of(text), 431);
    /* An Authorization value longer than we keep: 431. */
    n = (size_t)snprintf(text, sizeof(text), "GET / HTTP/1.1\r\nHost: h\r\nAuthorization: ");
    memset(text + n, 'c', MGMT_HTTP_AUTHORIZATION_MAX + 1);
    snprintf(text + n + MGMT_HTTP_AUTHORIZATION_MAX + 1, 8, "\r\n\r\n");
    ck_assert_int_eq(status_of(text), 431);
    /* Bodies: the limit passes, one more is 413 before any body byte is read, and a
     * Content-Length too long for any integer is 413 too (no overflow). */
    snprintf(text, sizeof(text), "PUT / HTTP/1.1\r\nHost: h\r\nContent-Length: %d\r\n\r\n",
             MGMT_HTTP_BODY_MAX);
    ck_assert_int_eq(status_of(text), 0);
    ck_assert_int_eq(parser->state, MGMT_HTTP_STATE_BODY);
    snprintf(text, sizeof(text), "PUT / HTTP/1.1\r\nHost: h\r\nContent-Length: %d\r\n\r\n",
             MGMT_HTTP_BODY_MAX + 1);
    ck_assert_int_eq(status_of(text), 413);
    ck_assert_int_eq(status_of("PUT / HTTP/1.1\r\nHost: h\r\n"
                               "Content-Length: 99999999999999999999999999999\r\n\r\n"), 413);
}
END_TEST

START_TEST(error_is_final)
{
    size_t consumed;
    ck_assert_int_eq(feed("GET / HTTP/1.1\r\nHost : h\r\n\r\nGET / HTTP/1.1\r\n", &consumed),
                     MGMT_HTTP_ERROR);
    ck_assert_ptr_nonnull(parser->error_reason);
    ck_assert_int_eq(feed("GET / HTTP/1.1\r\nHost: h\r\n\r\n", &consumed), MGMT_HTTP_ERROR);
    ck_assert_uint_eq(consumed, 0);
}
END_TEST

START_TEST(response_head)
{
    char out[256];
    size_t n = mgmt_http_write_head(out, sizeof(out), 404, "application/json", 12, true, NULL);
    ck_assert_uint_eq(n, strlen(out));
    ck_assert_str_eq(out, "HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\n"
                          "Content-Length: 12\r\nCache-Control: no-store\r\n\r\n");
    n = mgmt_http_write_head(out, sizeof(out), 405, NULL, 0, false, "Allow: GET, HEAD\r\n");
    ck_assert_str_eq(out, "HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n"
                          "Cache-Control: no-store\r\nConnection: close\r\n"
                          "Allow: GET, HEAD\r\n\r\n");
    /* Too small: 0 and nothing usable. */
    ck_assert_uint_eq(mgmt_http_write_head(out, 20, 200, NULL, 0, true, NULL), 0);
    ck_assert_str_eq(out, "");
    ck_assert_str_eq(mgmt_http_reason(431), "Request Header Fields Too Large");
    ck_assert_str_eq(mgmt_http_reason(999), "Unknown");
}
END_TEST

Suite *mgmt_http_suite(void)
{
    Suite *s = suite_create("mgmt_http");
    TCase *tc = tcase_create("parser");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, simple_get);
    tcase_add_test(tc, every_split);
    tcase_add_test(tc, pipelined);
    tcase_add_test(tc, keep_alive_rules);
    tcase_add_test(tc, bad_request_lines);
    tcase_add_test(tc, bad_fields);
    tcase_add_test(tc, limits);
    tcase_add_test(tc, error_is_final);
    tcase_add_test(tc, response_head);
    suite_add_tcase(s, tc);
    return s;
}
