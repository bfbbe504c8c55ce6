// sources: root/mgmt_http.c
/*
 * libFuzzer target for the management API's HTTP parser. Input: byte 0 chooses how the
 * rest is cut into reads (1..256 bytes each, from a small xorshift seeded by it); the rest
 * is the byte stream of one connection. The stream is parsed twice, whole and in those
 * reads, pipelining through every request (parser_next after each) until an error or the
 * end. Invariants: every call consumes at most what it was given and makes progress; the
 * two runs see the same requests (method, path, query, body, keep-alive) and the same
 * error; a request has an origin-form path, no control characters in its strings, a body
 * within the limit; an error has one of the statuses the parser documents.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "root/mgmt_http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REQUIRE(cond)                                                                         \
    do {                                                                                      \
        if (!(cond)) {                                                                        \
            fprintf(stderr, "fuzz_mgmt_http: invariant failed: %s (line %d)\n", #cond,        \
                    __LINE__);                                                                \
            abort();                                                                          \
        }                                                                                     \
    } while (0)

#define EVENTS_MAX 64

struct event {
    enum mgmt_http_result result;
    int status;
    enum mgmt_http_method method;
    char path[64];
    size_t content_length;
    uint32_t body_sum;
    bool keep_alive;
};

static bool clean(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 && *s != '\t')
            return false;
    return true;
}

static void check_request(const struct mgmt_http_request *r)
{
    REQUIRE(r->path[0] == '/');
    REQUIRE(strlen(r->path) <= MGMT_HTTP_TARGET_MAX);
    for (const char *p = r->path; *p; p++)
        REQUIRE(*p > 0x20 && *p < 0x7F && *p != '?' && *p != '#');
    REQUIRE(clean(r->query) && clean(r->authorization) && clean(r->content_type));
    REQUIRE(r->content_length <= MGMT_HTTP_BODY_MAX);
    REQUIRE((unsigned)r->method < MGMT_HTTP_METHOD_COUNT);
    REQUIRE(r->minor_version <= 1);
}

static size_t run(struct mgmt_http_parser *parser, const uint8_t *data, size_t size,
                  uint32_t seed, struct event *events)
{
    mgmt_http_parser_init(parser);
    size_t count = 0, offset = 0;
    uint32_t x = seed | 1;
    while (offset < size && count < EVENTS_MAX) {
        size_t chunk = size - offset;
        if (seed) {
            x ^= x << 13, x ^= x >> 17, x ^= x << 5;
            size_t cut = 1 + x % 256;
            if (chunk > cut)
                chunk = cut;
        }
        size_t consumed;
        enum mgmt_http_result r = mgmt_http_parse(parser, data + offset, chunk, &consumed);
        REQUIRE(consumed <= chunk);
        offset += consumed;
        if (r == MGMT_HTTP_NEED_MORE) {
            REQUIRE(consumed == chunk);
            continue;
        }
        struct event *e = &events[count++];
        memset(e, 0, sizeof(*e));
        e->result = r;
        if (r == MGMT_HTTP_ERROR) {
            e->status = parser->error_status;
            REQUIRE(parser->error_reason != NULL);
            REQUIRE(e->status == 400 || e->status == 413 || e->status == 414 ||
                    e->status == 417 || e->status == 431 || e->status == 501 ||
                    e->status == 505);
            size_t again;
            REQUIRE(mgmt_http_parse(parser, data, size, &again) == MGMT_HTTP_ERROR &&
                    again == 0);
            break;
        }
        const struct mgmt_http_request *req = &parser->request;
        check_request(req);
        e->method = req->method;
        snprintf(e->path, sizeof(e->path), "%s", req->path);
        e->content_length = req->content_length;
        for (size_t i = 0; i < req->content_length; i++)
            e->body_sum = e->body_sum * 31 + req->body[i];
        e->keep_alive = req->keep_alive;
        mgmt_http_parser_next(parser);
    }
    return count;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct mgmt_http_parser whole, split;
    static struct event a[EVENTS_MAX], b[EVENTS_MAX];
    if (size < 1)
        return 0;
    uint32_t seed = data[0] + 1u;
    size_t n = run(&whole, data + 1, size - 1, 0, a);
    size_t m = run(&split, data + 1, size - 1, seed, b);
    REQUIRE(n == m);
    for (size_t i = 0; i < n; i++)
        REQUIRE(memcmp(&a[i], &b[i], sizeof(a[i])) == 0);
    return 0;
}
