// sources: root/mgmt_api.c root/mgmt_console.c root/mgmt_events.c root/mgmt_websocket.c root/console_buffer.c root/mgmt_auth.c root/mgmt_http.c root/mgmt_json.c root/mgmt_router.c kernel/cmdline.c
// libs: build/host/mbedtls/libmbedtls-host.a
/*
 * The v1 resources end to end on the host: raw request bytes through the parser, the API
 * with a fake appliance, and the response bytes parsed back (status, headers, JSON).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "root/mgmt_api.h"
#include "root/mgmt_console.h"
#include "root/mgmt_events.h"
#include "root/mgmt_json.h"

static const char token[] = "correct-horse-battery-staple";
static struct mgmt_auth auth;
static struct mgmt_api api;
static struct mgmt_http_parser *parser;
static const struct mgmt_auth_source client = { .family = 4, .address = { 10, 0, 2, 2 } };
static int log_lines;
static char last_log[512];
static size_t partition_count = 2;

static void fake_host(struct mgmt_api_host *out)
{
    *out = (struct mgmt_api_host){
        .uptime_ns = 12345678901ull, .cpus = 2, .root_memory_bytes = 900ull << 20,
        .root_memory_free_bytes = 700ull << 20, .heap_size_bytes = 64ull << 20,
        .heap_used_bytes = 123456, .machine_memory_bytes = 1024ull << 20,
        .hypervisor_memory_bytes = 124ull << 20,
    };
}

static size_t fake_partitions(struct mgmt_api_partition *out, size_t max)
{
    for (size_t i = 0; i < partition_count && i < max; i++) {
        out[i] = (struct mgmt_api_partition){
            .id = i + 1, .state = i == 1 ? "stopped" : "running",
            .memory_bytes = 16ull << 20, .vp_count = 1, .has_exit_code = i == 1,
            .has_statistics = i == 0, .exits = i == 0 ? 987654 : 0,
            .cpu_time_ms = i == 0 ? 12345 : 0,
        };
        snprintf(out[i].name, sizeof(out[i].name), i == 0 ? "hello" : "child-%zu", i);
        snprintf(out[i].module, sizeof(out[i].module), "hello.elf");
    }
    return partition_count;
}

static void fake_log(const char *line)
{
    log_lines++;
    snprintf(last_log, sizeof(last_log), "%s", line);
}

/* What the fake VMMS was asked, and what it answers. */
static int acts;
static char acted_name[64];
static enum mgmt_api_action acted_action;
static int act_answer = 202;
static int creates;
static struct mgmt_api_create created;
static int create_answer = 201;

static int fake_act(const char *name, enum mgmt_api_action action, char *why, size_t why_size)
{
    acts++;
    snprintf(acted_name, sizeof(acted_name), "%s", name);
    acted_action = action;
    snprintf(why, why_size, "fake refusal %d", act_answer);
    return act_answer;
}

static int fake_create(const struct mgmt_api_create *spec, char *why, size_t why_size)
{
    creates++;
    created = *spec;
    snprintf(why, why_size, "fake refusal %d", create_answer);
    return create_answer;
}

static const struct mgmt_api_source source = { fake_host, fake_partitions, fake_log, fake_act,
                                               fake_create };

static void setup(void)
{
    char why[128];
    mgmt_auth_init(&auth);
    ck_assert(mgmt_auth_provision_token(&auth, token, why, sizeof(why)));
    mgmt_api_init(&api, &auth, &source);
    parser = malloc(sizeof(*parser));
    mgmt_http_parser_init(parser);
    log_lines = 0;
    last_log[0] = '\0';
    partition_count = 2;
    acts = creates = 0;
    act_answer = 202;
    create_answer = 201;
    memset(&created, 0, sizeof(created));
}

static void teardown(void)
{
    free(parser);
}

struct reply {
    int status;
    char head[1024];
    char body[300000];
    size_t body_length;
};
static struct reply reply;
static char last_response_upgrade[64];

/* Sends one request's bytes the way the server does. */
static void exchange(const char *text)
{
    mgmt_http_parser_init(parser);
    size_t consumed;
    enum mgmt_http_result r =
        mgmt_http_parse(parser, (const uint8_t *)text, strlen(text), &consumed);
    struct mgmt_api_response response;
    if (r == MGMT_HTTP_ERROR)
        ck_assert(mgmt_api_refuse(&api, parser->error_status, parser->error_reason, &client,
                                  &response));
    else {
        ck_assert_int_eq(r, MGMT_HTTP_REQUEST);
        ck_assert(mgmt_api_handle(&api, &parser->request, &client, 1000, &response));
    }
    char *end = strstr(response.data, "\r\n\r\n");
    ck_assert_ptr_nonnull(end);
    size_t head = (size_t)(end + 4 - response.data);
    ck_assert_uint_lt(head, sizeof(reply.head));
    memcpy(reply.head, response.data, head);
    reply.head[head] = '\0';
    reply.body_length = response.length - head;
    memcpy(reply.body, response.data + head, reply.body_length);
    reply.body[reply.body_length] = '\0';
    ck_assert_int_eq(sscanf(reply.head, "HTTP/1.1 %d ", &reply.status), 1);
    ck_assert_int_eq(reply.status, response.status);
    size_t content_length = 0;
    char *cl = strstr(reply.head, "Content-Length: ");
    last_response_upgrade[0] = '\0';
    if (reply.status == 101)
        snprintf(last_response_upgrade, sizeof(last_response_upgrade), "%s",
                 response.upgrade_console);
    if (reply.status == 204 || reply.status == 101) { /* RFC 9110 8.6 */
        ck_assert_ptr_null(cl);
        ck_assert_uint_eq(reply.body_length, 0);
        free(response.data);
        return;
    }
    ck_assert_ptr_nonnull(cl);
    content_length = strtoul(cl + 16, NULL, 10);
    if (parser->request.method != MGMT_HTTP_HEAD || r == MGMT_HTTP_ERROR)
        ck_assert_uint_eq(content_length, reply.body_length);
    free(response.data);
}

static char request_text[2048];
static const char *authed(const char *method, const char *path)
{
    snprintf(request_text, sizeof(request_text),
             "%s %s HTTP/1.1\r\nHost: hvfw\r\nAuthorization: Bearer %s\r\n\r\n", method, path,
             token);
    return request_text;
}

/* The error body's code, checked to be the documented shape. */
static void expect_error(int status, const char *code)
{
    ck_assert_int_eq(reply.status, status);
    struct mgmt_json_token tokens[16];
    struct mgmt_json_document doc;
    ck_assert_msg(mgmt_json_parse(&doc, reply.body, reply.body_length, tokens, 16), "%s",
                  reply.body);
    long error = mgmt_json_object_get(&doc, 0, "error");
    ck_assert_int_ge(error, 0);
    char text[64];
    ck_assert(mgmt_json_string_copy(&doc, (size_t)mgmt_json_object_get(&doc, (size_t)error,
                                                                       "code"),
                                    text, sizeof(text)));
    ck_assert_str_eq(text, code);
    ck_assert_int_ge(mgmt_json_object_get(&doc, (size_t)error, "message"), 0);
    ck_assert_uint_eq(tokens[0].children, 1);
}

START_TEST(host)
{
    exchange(authed("GET", "/v1/host"));
    ck_assert_int_eq(reply.status, 200);
    ck_assert_ptr_nonnull(strstr(reply.head, "Content-Type: application/json\r\n"));
    struct mgmt_json_token tokens[64];
    struct mgmt_json_document doc;
    ck_assert(mgmt_json_parse(&doc, reply.body, reply.body_length, tokens, 64));
    uint64_t value;
    ck_assert(mgmt_json_number_u64(&doc, (size_t)mgmt_json_object_get(&doc, 0, "cpus"), &value));
    ck_assert_uint_eq(value, 2);
    ck_assert(mgmt_json_number_u64(&doc, (size_t)mgmt_json_object_get(&doc, 0, "uptime_ms"),
                                   &value));
    ck_assert_uint_eq(value, 12345);
    long memory = mgmt_json_object_get(&doc, 0, "memory");
    ck_assert(mgmt_json_number_u64(&doc, (size_t)mgmt_json_object_get(&doc, (size_t)memory,
                                                                       "children_bytes"),
                                   &value));
    ck_assert_uint_eq(value, 16ull << 20); /* only the running child */
    ck_assert(mgmt_json_number_u64(&doc, (size_t)mgmt_json_object_get(&doc, (size_t)memory,
                                                                       "total_bytes"),
                                   &value));
    ck_assert_uint_eq(value, 1024ull << 20);
    ck_assert(mgmt_json_number_u64(&doc, (size_t)mgmt_json_object_get(&doc, (size_t)memory,
                                                                       "hypervisor_bytes"),
                                   &value));
    ck_assert_uint_eq(value, 124ull << 20);
    long heap = mgmt_json_object_get(&doc, 0, "root_heap");
    ck_assert(mgmt_json_number_u64(&doc, (size_t)mgmt_json_object_get(&doc, (size_t)heap,
                                                                       "used_bytes"),
                                   &value));
    ck_assert_uint_eq(value, 123456);
    ck_assert_int_eq(log_lines, 0); /* successes are not logged */
}
END_TEST

START_TEST(partitions)
{
    exchange(authed("GET", "/v1/partitions"));
    ck_assert_int_eq(reply.status, 200);
    ck_assert_str_eq(reply.body,
                     "{\"partitions\":[{\"name\":\"hello\",\"id\":1,\"state\":\"running\","
                     "\"module\":\"hello.elf\",\"memory_bytes\":16777216,\"vps\":1,\"exit_code\":null,"
                     "\"cpu_time_ms\":12345,\"exits\":987654},"
                     "{\"name\":\"child-1\",\"id\":2,\"state\":\"stopped\",\"module\":\"hello.elf\","
                     "\"memory_bytes\":16777216,\"vps\":1,\"exit_code\":0,"
                     "\"cpu_time_ms\":null,\"exits\":null}]}");
    exchange(authed("GET", "/v1/partitions/child-1"));
    ck_assert_int_eq(reply.status, 200);
    ck_assert_ptr_nonnull(strstr(reply.body, "\"state\":\"stopped\""));
    exchange(authed("GET", "/v1/partitions/nobody"));
    expect_error(404, "not_found");
    exchange(authed("GET", "/v1/partitions/a%2Fb"));
    expect_error(400, "bad_request");
    ck_assert_int_eq(log_lines, 2);
    /* Many partitions: the body outgrows the first buffer and is built again. */
    partition_count = MGMT_API_PARTITIONS_MAX;
    exchange(authed("GET", "/v1/partitions"));
    ck_assert_int_eq(reply.status, 200);
    ck_assert_uint_gt(reply.body_length, 4096);
    struct mgmt_json_token tokens[2048];
    struct mgmt_json_document doc;
    ck_assert(mgmt_json_parse(&doc, reply.body, reply.body_length, tokens, 2048));
    ck_assert_uint_eq(tokens[mgmt_json_object_get(&doc, 0, "partitions")].children,
                      MGMT_API_PARTITIONS_MAX);
}
END_TEST

START_TEST(head_has_no_body)
{
    exchange(authed("HEAD", "/v1/host"));
    ck_assert_int_eq(reply.status, 200);
    ck_assert_uint_eq(reply.body_length, 0);
    ck_assert_ptr_null(strstr(reply.head, "Content-Length: 0\r\n"));
}
END_TEST

START_TEST(metrics)
{
    exchange(authed("GET", "/v1/nothing"));
    exchange("GET /metrics HTTP/1.1\r\nHost: h\r\nAuthorization: Bearer wrong-token\r\n\r\n");
    exchange(authed("GET", "/metrics"));
    ck_assert_int_eq(reply.status, 200);
    ck_assert_ptr_nonnull(strstr(reply.head, "text/plain; version=0.0.4"));
    static const char *const lines[] = {
        "\nhvfw_uptime_seconds 12.345\n", "\nhvfw_root_heap_bytes{kind=\"used\"} 123456\n",
        "\nhvfw_partitions{state=\"running\"} 1\n", "\nhvfw_partitions{state=\"stopped\"} 1\n",
        "\nhvfw_api_requests_total{status=\"404\"} 1\n",
        "\nhvfw_api_requests_total{status=\"401\"} 1\n", "\nhvfw_api_auth_failures_total 1\n",
        "# TYPE hvfw_api_requests_total counter\n",
        "\nhvfw_partition_exits_total{partition=\"hello\"} 987654\n",
        "\nhvfw_partition_cpu_seconds_total{partition=\"hello\"} 12.345\n",
        "\nhvfw_memory_bytes{kind=\"total\"} 1073741824\n",
        "\nhvfw_console_streams_total ",
    };
    for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++)
        ck_assert_msg(strstr(reply.body, lines[i]) != NULL, "missing %s in\n%s", lines[i],
                      reply.body);
    ck_assert_uint_eq(mgmt_api_requests(&api, 200), 1);
}
END_TEST

START_TEST(refusals)
{
    /* No token, wrong token, malformed header: 401 with WWW-Authenticate, logged. */
    exchange("GET /v1/host HTTP/1.1\r\nHost: h\r\n\r\n");
    expect_error(401, "unauthenticated");
    ck_assert_ptr_nonnull(strstr(reply.head, "WWW-Authenticate: Bearer realm=\"hvfw\"\r\n"));
    ck_assert_ptr_nonnull(strstr(last_log, "10.0.2.2 GET /v1/host -> 401"));
    exchange("GET /v1/host HTTP/1.1\r\nHost: h\r\nAuthorization: Bearer nope\r\n\r\n");
    expect_error(401, "unauthenticated");
    ck_assert_ptr_nonnull(strstr(reply.head, "error=\"invalid_token\""));
    ck_assert_ptr_null(strstr(reply.body, "nope")); /* the token is not echoed */
    ck_assert_ptr_null(strstr(last_log, "nope"));
    exchange("GET /v1/host HTTP/1.1\r\nHost: h\r\nAuthorization: Basic eA==\r\n\r\n");
    expect_error(401, "unauthenticated");
    /* Unknown paths are 401 before the token, 404 after it: nothing leaks. */
    exchange("GET /secret HTTP/1.1\r\nHost: h\r\n\r\n");
    expect_error(401, "unauthenticated");
    exchange(authed("GET", "/secret"));
    expect_error(404, "not_found");
    exchange(authed("DELETE", "/v1/host"));
    expect_error(405, "method_not_allowed");
    ck_assert_ptr_nonnull(strstr(reply.head, "Allow: GET, HEAD\r\n"));
    /* Parser refusals become error bodies and close the connection. */
    exchange("GET /v1/host HTTP/1.1\r\nHost : h\r\n\r\n");
    expect_error(400, "bad_request");
    ck_assert_ptr_nonnull(strstr(reply.head, "Connection: close\r\n"));
    exchange("PUT /v1/host HTTP/1.1\r\nHost: h\r\nContent-Length: 9999999\r\n\r\n");
    expect_error(413, "too_large");
    exchange("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n");
    expect_error(501, "not_implemented");
    ck_assert_int_eq(log_lines, 9); /* every refusal */
    /* A success clears the count; five failures from this address then block it, even for
     * the right token. */
    exchange(authed("GET", "/v1/host"));
    ck_assert_int_eq(reply.status, 200);
    for (int i = 0; i < MGMT_AUTH_FAILURES_MAX; i++) {
        exchange("GET /v1/host HTTP/1.1\r\nHost: h\r\nAuthorization: Bearer nope\r\n\r\n");
        expect_error(401, "unauthenticated");
    }
    exchange(authed("GET", "/v1/host"));
    ck_assert_int_eq(reply.status, 429);
    expect_error(429, "rate_limited");
    ck_assert_ptr_nonnull(strstr(reply.head, "Retry-After: 60\r\n"));
}
END_TEST

START_TEST(unprovisioned)
{
    mgmt_auth_init(&auth);
    exchange(authed("GET", "/v1/host"));
    expect_error(503, "unavailable");
    exchange(authed("GET", "/metrics"));
    expect_error(503, "unavailable");
    ck_assert_int_eq(log_lines, 2);
}
END_TEST

START_TEST(keep_alive_follows_request)
{
    exchange(authed("GET", "/v1/host"));
    ck_assert_ptr_null(strstr(reply.head, "Connection: close"));
    exchange("GET /v1/host HTTP/1.0\r\n\r\n");
    ck_assert_ptr_nonnull(strstr(reply.head, "Connection: close"));
}
END_TEST

static const char *authed_body(const char *method, const char *path, const char *body)
{
    snprintf(request_text, sizeof(request_text),
             "%s %s HTTP/1.1\r\nHost: hvfw\r\nAuthorization: Bearer %s\r\n"
             "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
             method, path, token, strlen(body), body);
    return request_text;
}

START_TEST(lifecycle_actions)
{
    exchange(authed("POST", "/v1/partitions/hello/start"));
    ck_assert_int_eq(reply.status, 202);
    ck_assert_int_eq(acts, 1);
    ck_assert_str_eq(acted_name, "hello");
    ck_assert_int_eq(acted_action, MGMT_API_START);
    ck_assert_ptr_nonnull(strstr(reply.body, "\"name\":\"hello\""));
    exchange(authed("POST", "/v1/partitions/hello/reset"));
    ck_assert_int_eq(acted_action, MGMT_API_RESET);
    exchange(authed("POST", "/v1/partitions/hello/stop"));
    ck_assert_int_eq(reply.status, 202);
    ck_assert_int_eq(acted_action, MGMT_API_STOP);
    exchange(authed_body("POST", "/v1/partitions/hello/stop", "{\"mode\":\"hard\"}"));
    ck_assert_int_eq(reply.status, 202);
    ck_assert_int_eq(acts, 4);
    act_answer = 204;
    exchange(authed("DELETE", "/v1/partitions/child-1"));
    ck_assert_int_eq(reply.status, 204);
    ck_assert_int_eq(acted_action, MGMT_API_DELETE);
    ck_assert_str_eq(acted_name, "child-1");
    /* The VMMS's refusals pass through with its reason. */
    act_answer = 409;
    exchange(authed("POST", "/v1/partitions/hello/start"));
    expect_error(409, "conflict");
    ck_assert_ptr_nonnull(strstr(last_log, "fake refusal 409"));
    act_answer = 404;
    exchange(authed("POST", "/v1/partitions/ghost/stop"));
    expect_error(404, "not_found");
    act_answer = 507;
    exchange(authed("POST", "/v1/partitions/hello/start"));
    expect_error(507, "insufficient_storage");
    ck_assert_int_eq(acts, 8);
}
END_TEST

START_TEST(lifecycle_refusals)
{
    /* Refused before the VMMS is asked: a bad name, a graceful stop without a shutdown
     * service, an unknown mode or member, a body where none belongs, a wrong method. */
    exchange(authed("POST", "/v1/partitions/bad%20name/start"));
    expect_error(400, "bad_request");
    exchange(authed_body("POST", "/v1/partitions/hello/stop", "{\"mode\":\"graceful\"}"));
    expect_error(409, "conflict");
    exchange(authed_body("POST", "/v1/partitions/hello/stop", "{\"mode\":\"soft\"}"));
    expect_error(400, "bad_request");
    exchange(authed_body("POST", "/v1/partitions/hello/stop", "{\"force\":true}"));
    expect_error(400, "bad_request");
    exchange(authed_body("POST", "/v1/partitions/hello/stop", "[1]"));
    expect_error(400, "bad_request");
    exchange(authed_body("POST", "/v1/partitions/hello/stop", "{\"mode\":"));
    expect_error(400, "bad_request");
    exchange(authed_body("POST", "/v1/partitions/hello/start", "{}"));
    expect_error(400, "bad_request");
    exchange(authed("GET", "/v1/partitions/hello/start"));
    expect_error(405, "method_not_allowed");
    ck_assert_ptr_nonnull(strstr(reply.head, "Allow: POST\r\n"));
    exchange(authed("PUT", "/v1/partitions"));
    expect_error(405, "method_not_allowed");
    ck_assert_ptr_nonnull(strstr(reply.head, "Allow: GET, HEAD, POST\r\n"));
    ck_assert_int_eq(acts, 0);
    /* Without the token nothing is done. */
    exchange("POST /v1/partitions/hello/stop HTTP/1.1\r\nHost: x\r\n\r\n");
    expect_error(401, "unauthenticated");
    ck_assert_int_eq(acts, 0);
}
END_TEST

START_TEST(create)
{
    exchange(authed_body("POST", "/v1/partitions",
                         "{\"name\":\"hello\",\"memory_mib\":16,\"vps\":1,"
                         "\"boot\":{\"kernel\":\"hello.elf\",\"cmdline\":\"x=1\"}}"));
    ck_assert_int_eq(reply.status, 201);
    ck_assert_int_eq(creates, 1);
    ck_assert_str_eq(created.name, "hello");
    ck_assert_str_eq(created.kernel, "hello.elf");
    ck_assert_str_eq(created.initrd, "");
    ck_assert_str_eq(created.cmdline, "x=1");
    ck_assert_uint_eq(created.memory_mib, 16);
    ck_assert_uint_eq(created.vp_count, 1);
    ck_assert_ptr_nonnull(strstr(reply.body, "\"name\":\"hello\""));
    create_answer = 409;
    exchange(authed_body("POST", "/v1/partitions",
                         "{\"name\":\"hello\",\"memory_mib\":16,\"vps\":1,"
                         "\"boot\":{\"kernel\":\"hello.elf\"}}"));
    expect_error(409, "conflict");
    create_answer = 507;
    exchange(authed_body("POST", "/v1/partitions",
                         "{\"name\":\"big\",\"memory_mib\":3000,\"vps\":1,"
                         "\"boot\":{\"kernel\":\"hello.elf\"}}"));
    expect_error(507, "insufficient_storage");
    ck_assert_int_eq(creates, 3);
    /* Shapes refused here, before the VMMS. */
    static const char *const bad[] = {
        "",
        "{}",
        "{\"name\":\"x\",\"memory_mib\":16,\"vps\":1}",
        "{\"name\":\"x\",\"memory_mib\":16,\"vps\":1,\"boot\":{}}",
        "{\"name\":\"x\",\"memory_mib\":16,\"vps\":1,\"boot\":\"hello.elf\"}",
        "{\"name\":\"x\",\"memory_mib\":-1,\"vps\":1,\"boot\":{\"kernel\":\"k\"}}",
        "{\"name\":\"x\",\"memory_mib\":1.5,\"vps\":1,\"boot\":{\"kernel\":\"k\"}}",
        "{\"name\":\"x\",\"memory_mib\":4294967296,\"vps\":1,\"boot\":{\"kernel\":\"k\"}}",
        "{\"name\":\"x\",\"memory_mib\":\"16\",\"vps\":1,\"boot\":{\"kernel\":\"k\"}}",
        "{\"name\":\"a b\",\"memory_mib\":16,\"vps\":1,\"boot\":{\"kernel\":\"k\"}}",
        "{\"name\":\"x\",\"memory_mib\":16,\"vps\":1,\"boot\":{\"kernel\":\"k\"},\"disks\":[]}",
        "{\"name\":\"x\",\"memory_mib\":16,\"vps\":1,\"boot\":{\"kernel\":\"k\",\"bios\":1}}",
        "{\"name\":\"x\",\"name\":\"y\",\"memory_mib\":16,\"vps\":1,\"boot\":{\"kernel\":\"k\"}}",
        "{\"name\":\"x\",\"memory_mib\":16,\"vps\":1,\"boot\":{\"kernel\":"
        "\"0123456789012345678901234567890123456789012345678901234567890123456789\"}}",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (bad[i][0])
            exchange(authed_body("POST", "/v1/partitions", bad[i]));
        else
            exchange(authed("POST", "/v1/partitions"));
        ck_assert_msg(reply.status == 400, "body %zu: %d %s", i, reply.status, reply.body);
    }
    ck_assert_int_eq(creates, 3);
}
END_TEST

START_TEST(metrics_count_changes)
{
    exchange(authed("POST", "/v1/partitions/hello/start"));
    act_answer = 204;
    exchange(authed("DELETE", "/v1/partitions/hello"));
    act_answer = 507;
    exchange(authed("POST", "/v1/partitions/hello/start"));
    exchange(authed("GET", "/metrics"));
    ck_assert_ptr_nonnull(strstr(reply.body, "hvfw_api_requests_total{status=\"202\"} 1\n"));
    ck_assert_ptr_nonnull(strstr(reply.body, "hvfw_api_requests_total{status=\"204\"} 1\n"));
    ck_assert_ptr_nonnull(strstr(reply.body, "hvfw_api_requests_total{status=\"507\"} 1\n"));
}
END_TEST

/* ---- the console and the event log (root/mgmt_console.h, root/mgmt_events.h) ------------ */

static struct console_buffer fake_console;

static const struct console_buffer *fake_console_buffer(const char *name)
{
    return strcmp(name, "hello") == 0 ? &fake_console : NULL;
}

static size_t fake_console_input(const char *name, const uint8_t *bytes, size_t length)
{
    (void)name;
    (void)bytes;
    return length;
}

static const struct mgmt_console_source console_source = { fake_console_buffer,
                                                            fake_console_input };

static const char *console_request(const char *query, const char *extra)
{
    snprintf(request_text, sizeof(request_text),
             "GET /v1/partitions/hello/console%s HTTP/1.1\r\nHost: hvfw\r\n"
             "Authorization: Bearer %s\r\n%s\r\n", query, token, extra);
    return request_text;
}

START_TEST(console_tail_and_upgrade)
{
    mgmt_console_serve(&console_source);
    console_buffer_init(&fake_console);
    console_buffer_write(&fake_console, (const uint8_t *)"line one\r\nline two\r\n", 20);
    exchange(console_request("", ""));
    ck_assert_int_eq(reply.status, 200);
    ck_assert_str_eq(reply.body, "line one\r\nline two\r\n");
    ck_assert_ptr_nonnull(strstr(reply.head, "Content-Type: text/plain"));
    exchange(console_request("?tail=10", ""));
    ck_assert_str_eq(reply.body, "line two\r\n");
    exchange(console_request("?tail=0", ""));
    ck_assert_uint_eq(reply.body_length, 0);
    /* A scroll-back larger than the first body buffer. */
    static uint8_t many[CONSOLE_BUFFER_SIZE];
    memset(many, 'z', sizeof(many));
    console_buffer_write(&fake_console, many, sizeof(many));
    exchange(console_request("", ""));
    ck_assert_uint_eq(reply.body_length, CONSOLE_BUFFER_SIZE);
    exchange(console_request("?lines=3", ""));
    expect_error(400, "bad_request");
    exchange(console_request("?tail=x", ""));
    expect_error(400, "bad_request");
    exchange(authed("GET", "/v1/partitions/nobody/console"));
    expect_error(404, "not_found");
    exchange(authed("GET", "/v1/partitions/b%20d/console"));
    expect_error(400, "bad_request");

    /* RFC 6455 4.2.2: the handshake, with 1.3's key. */
    static const char handshake[] = "Upgrade: websocket\r\nConnection: keep-alive, Upgrade\r\n"
                                    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                                    "Sec-WebSocket-Version: 13\r\n";
    exchange(console_request("?tail=5", handshake));
    ck_assert_int_eq(reply.status, 101);
    ck_assert_ptr_nonnull(strstr(reply.head, "Upgrade: websocket\r\n"));
    ck_assert_ptr_nonnull(strstr(reply.head, "Connection: Upgrade\r\n"));
    ck_assert_ptr_nonnull(strstr(reply.head, "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"));
    ck_assert_ptr_null(strstr(reply.head, "Content-Length"));
    ck_assert_str_eq(last_response_upgrade, "hello");
    exchange(console_request("", "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                                  "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                                  "Sec-WebSocket-Version: 8\r\n"));
    expect_error(426, "upgrade_required");
    ck_assert_ptr_nonnull(strstr(reply.head, "Sec-WebSocket-Version: 13\r\n"));
    exchange(console_request("", "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                                  "Sec-WebSocket-Key: short\r\nSec-WebSocket-Version: 13\r\n"));
    expect_error(400, "bad_request");
    exchange(console_request("", "Upgrade: websocket\r\n"
                                  "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                                  "Sec-WebSocket-Version: 13\r\n"));
    expect_error(400, "bad_request"); /* no Connection: Upgrade */
    exchange(console_request("", "Upgrade: h2c\r\nConnection: Upgrade\r\n"));
    expect_error(400, "bad_request");
    /* Without the token nothing is upgraded. */
    exchange("GET /v1/partitions/hello/console HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\n"
             "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
             "Sec-WebSocket-Version: 13\r\n\r\n");
    ck_assert_int_eq(reply.status, 401);
    ck_assert_str_eq(last_response_upgrade, "");
}
END_TEST

START_TEST(events_since_and_logins)
{
    mgmt_event_log_init(&mgmt_events);
    exchange(authed("GET", "/v1/events"));
    ck_assert_int_eq(reply.status, 200);
    /* That request logged its client in: one login_ok, recorded before the answer. */
    ck_assert_ptr_nonnull(strstr(reply.body, "\"type\":\"login_ok\",\"address\":\"10.0.2.2\""));
    exchange("GET /v1/host HTTP/1.1\r\nHost: h\r\nAuthorization: Bearer nope\r\n\r\n");
    mgmt_event_record(&mgmt_events, 5, MGMT_EVENT_PARTITION_STARTED, "hello", NULL);
    mgmt_event_record_stop(&mgmt_events, 6, "hello", "hard-stop");
    exchange(authed("GET", "/v1/events?since=1"));
    ck_assert_int_eq(reply.status, 200);
    struct mgmt_json_token tokens[64];
    struct mgmt_json_document doc;
    ck_assert_msg(mgmt_json_parse(&doc, reply.body, reply.body_length, tokens, 64), "%s",
                  reply.body);
    long events = mgmt_json_object_get(&doc, 0, "events");
    ck_assert_int_ge(events, 0);
    ck_assert_uint_eq(doc.tokens[events].children, 3);
    ck_assert_ptr_nonnull(strstr(reply.body, "{\"seq\":2,\"time_ms\":1000,\"type\":\"login_failed\","
                                             "\"address\":\"10.0.2.2\"}"));
    ck_assert_ptr_nonnull(strstr(reply.body, "\"type\":\"partition_stopped\",\"partition\":\"hello\","
                                             "\"reason\":\"hard-stop\""));
    ck_assert_ptr_nonnull(strstr(reply.body, "\"first_seq\":1,\"next_seq\":5,\"lost\":0"));
    exchange(authed("GET", "/v1/events?since=4"));
    ck_assert_ptr_nonnull(strstr(reply.body, "{\"events\":[],"));
    exchange(authed("GET", "/v1/events?since=-1"));
    expect_error(400, "bad_request");
    exchange(authed("GET", "/v1/events?after=1"));
    expect_error(400, "bad_request");
    /* Moved past: `lost` says how many after `since` are gone. */
    for (int i = 0; i < MGMT_EVENTS_MAX + 10; i++)
        mgmt_event_record(&mgmt_events, 7, MGMT_EVENT_PARTITION_STARTED, "hello", NULL);
    exchange(authed("GET", "/v1/events?since=2"));
    ck_assert_int_eq(reply.status, 200);
    ck_assert_ptr_nonnull(strstr(reply.body, "\"first_seq\":15,\"next_seq\":527,\"lost\":12"));
}
END_TEST

Suite *mgmt_api_suite(void)
{
    Suite *s = suite_create("mgmt_api");
    TCase *tc = tcase_create("api");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, host);
    tcase_add_test(tc, partitions);
    tcase_add_test(tc, head_has_no_body);
    tcase_add_test(tc, metrics);
    tcase_add_test(tc, refusals);
    tcase_add_test(tc, unprovisioned);
    tcase_add_test(tc, keep_alive_follows_request);
    tcase_add_test(tc, lifecycle_actions);
    tcase_add_test(tc, lifecycle_refusals);
    tcase_add_test(tc, create);
    tcase_add_test(tc, metrics_count_changes);
    tcase_add_test(tc, console_tail_and_upgrade);
    tcase_add_test(tc, events_since_and_logins);
    suite_add_tcase(s, tc);
    return s;
}
