// sources: tools/hvctl/websocket.c tools/hvctl/render.c tools/hvctl/response.c tools/hvctl/known_hosts.c root/mgmt_json.c
/*
 * hvctl's output for people from the API's documented JSON (docs/api.md), its error
 * messages and exit statuses, its reading of HTTP answers, and the known_hosts pins.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tools/hvctl/known_hosts.h"
#include "tools/hvctl/render.h"
#include "tools/hvctl/response.h"
#include "tools/hvctl/websocket.h"

static char text[8192];

/* Runs a renderer into `text`. */
static bool render(bool (*fn)(FILE *, const char *, size_t), const char *body)
{
    FILE *f = fmemopen(text, sizeof(text), "w");
    ck_assert_ptr_nonnull(f);
    bool ok = fn(f, body, strlen(body));
    fclose(f);
    return ok;
}

static const char host_json[] =
    "{\"version\":\"0.0-dev\",\"api_version\":\"v1\",\"uptime_ms\":176123,\"cpus\":2,"
    "\"memory\":{\"total_bytes\":null,\"hypervisor_bytes\":null,\"root_bytes\":1048576000,"
    "\"root_free_bytes\":524288000,\"children_bytes\":16777216,"
    "\"children\":[{\"name\":\"a\",\"bytes\":16777216}]},"
    "\"root_heap\":{\"size_bytes\":67108864,\"used_bytes\":1048576}}";

START_TEST(host)
{
    ck_assert(render(hvctl_render_host, host_json));
    ck_assert_str_eq(text, "hvfw 0.0-dev (API v1), up 176.123 s, 2 CPUs\n"
                           "memory: root 1000.0 MiB, 500.0 MiB free; children 16.0 MiB\n"
                           "root heap: 1.0 of 64.0 MiB used\n");
    ck_assert(!render(hvctl_render_host, "{\"version\":\"x\"}"));
    ck_assert(!render(hvctl_render_host, "[]"));
    ck_assert(!render(hvctl_render_host, "{"));
    ck_assert(!render(hvctl_render_host, ""));
}
END_TEST

START_TEST(partitions)
{
    ck_assert(render(hvctl_render_partitions,
                     "{\"partitions\":[{\"name\":\"a\",\"id\":2,\"state\":\"running\","
                     "\"module\":\"hello.elf\",\"memory_bytes\":16777216,\"vps\":1,"
                     "\"exit_code\":null},{\"name\":\"web\",\"id\":0,\"state\":\"failed\","
                     "\"module\":\"vmlinuz\",\"memory_bytes\":536870912,\"vps\":2,"
                     "\"exit_code\":3}]}"));
    ck_assert_str_eq(text,
                     "NAME                 STATE        ID  MEM_MIB  VPS  EXIT  MODULE\n"
                     "a                    running       2       16    1     -  hello.elf\n"
                     "web                  failed        0      512    2     3  vmlinuz\n");
    ck_assert(render(hvctl_render_partitions, "{\"partitions\":[]}"));
    ck_assert_str_eq(text, "no partitions\n");
    ck_assert(!render(hvctl_render_partitions, "{\"partitions\":{}}"));
    ck_assert(!render(hvctl_render_partitions, "{\"partitions\":[1]}"));
    ck_assert(!render(hvctl_render_partitions, "{}"));
}
END_TEST

START_TEST(partition)
{
    ck_assert(render(hvctl_render_partition,
                     "{\"name\":\"a\",\"id\":5,\"state\":\"stopped\",\"module\":\"hello.elf\","
                     "\"memory_bytes\":16777216,\"vps\":1,\"exit_code\":0}"));
    ck_assert_str_eq(text, "name       a\nstate      stopped\nid         5\n"
                           "module     hello.elf\nvps        1\nexit_code  0\n"
                           "memory     16 MiB\n");
    ck_assert(!render(hvctl_render_partition, "{\"name\":\"a\"}"));
    ck_assert(!render(hvctl_render_partition, "{\"error\":{\"code\":\"x\"}}"));
}
END_TEST

START_TEST(errors_and_exit_statuses)
{
    char message[128];
    const char *body = "{\"error\":{\"code\":\"conflict\",\"message\":\"the partition is "
                       "running; stop it first\"}}";
    hvctl_render_error(409, body, strlen(body), message, sizeof(message));
    ck_assert_str_eq(message, "conflict: the partition is running; stop it first");
    hvctl_render_error(502, "<html>", 6, message, sizeof(message));
    ck_assert_str_eq(message, "HTTP 502");
    hvctl_render_error(500, NULL, 0, message, sizeof(message));
    ck_assert_str_eq(message, "HTTP 500");
    hvctl_render_error(400, "{\"error\":7}", 11, message, sizeof(message));
    ck_assert_str_eq(message, "HTTP 400");
    ck_assert_int_eq(hvctl_exit_status(200), HVCTL_EXIT_OK);
    ck_assert_int_eq(hvctl_exit_status(201), HVCTL_EXIT_OK);
    ck_assert_int_eq(hvctl_exit_status(202), HVCTL_EXIT_OK);
    ck_assert_int_eq(hvctl_exit_status(204), HVCTL_EXIT_OK);
    ck_assert_int_eq(hvctl_exit_status(401), HVCTL_EXIT_AUTH);
    ck_assert_int_eq(hvctl_exit_status(429), HVCTL_EXIT_AUTH);
    ck_assert_int_eq(hvctl_exit_status(404), HVCTL_EXIT_NOT_FOUND);
    ck_assert_int_eq(hvctl_exit_status(409), HVCTL_EXIT_NOT_FOUND);
    ck_assert_int_eq(hvctl_exit_status(400), HVCTL_EXIT_OTHER);
    ck_assert_int_eq(hvctl_exit_status(507), HVCTL_EXIT_OTHER);
    ck_assert_int_eq(hvctl_exit_status(503), HVCTL_EXIT_OTHER);
}
END_TEST

START_TEST(responses)
{
    struct hvctl_response r;
    char why[128];
    const char *ok = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                     "content-length: 2\r\nConnection: close\r\n\r\n{}";
    ck_assert(hvctl_response_parse(ok, strlen(ok), &r, why, sizeof(why)));
    ck_assert_int_eq(r.status, 200);
    ck_assert_uint_eq(r.length, 2);
    ck_assert_str_eq(r.body, "{}");
    free(r.body);
    const char *deleted = "HTTP/1.1 204 No Content\r\nCache-Control: no-store\r\n\r\n";
    ck_assert(hvctl_response_parse(deleted, strlen(deleted), &r, why, sizeof(why)));
    ck_assert_int_eq(r.status, 204);
    ck_assert_uint_eq(r.length, 0);
    free(r.body);
    /* Without Content-Length the body runs to the close. */
    const char *until_close = "HTTP/1.0 200 OK\r\n\r\nabc";
    ck_assert(hvctl_response_parse(until_close, strlen(until_close), &r, why, sizeof(why)));
    ck_assert_str_eq(r.body, "abc");
    free(r.body);
    static const char *const bad[] = {
        "",
        "SSH-2.0-OpenSSH_9.2\r\n",
        "HTTP/1.1 2000 OK\r\n\r\n",
        "HTTP/1.1 099 Low\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n",          /* head not ended */
        "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n{}",     /* cut short */
        "HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n{}",
        "HTTP/1.1 200 OK\r\nContent-Length: 99999999999\r\n\r\n{}",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ck_assert_msg(!hvctl_response_parse(bad[i], strlen(bad[i]), &r, why, sizeof(why)),
                      "%zu", i);
        ck_assert_ptr_null(r.body);
    }
    /* A NUL inside the head is bounded by the head's end. */
    static const char nul_head[] = "HTTP/1.1 200 OK\r\nX: a\0b\r\nContent-Length: 1\r\n\r\nZ";
    ck_assert(hvctl_response_parse(nul_head, sizeof(nul_head) - 1, &r, why, sizeof(why)));
    ck_assert_str_eq(r.body, "Z");
    free(r.body);
}
END_TEST

START_TEST(known_hosts)
{
    char path[] = "/tmp/hvctl-known-hosts-XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    close(fd);
    unlink(path);
    unsigned char digest[32];
    for (int i = 0; i < 32; i++)
        digest[i] = (unsigned char)(i * 7 + 1);
    char first[HVCTL_FINGERPRINT_TEXT], second[HVCTL_FINGERPRINT_TEXT];
    hvctl_fingerprint_text(digest, first);
    ck_assert_uint_eq(strlen(first), 95);
    ck_assert(strncmp(first, "01:08:0F:", 9) == 0);
    digest[31] ^= 1;
    hvctl_fingerprint_text(digest, second);
    char pinned[HVCTL_FINGERPRINT_TEXT] = "", why[256];
    /* First use pins; the same again matches (case-insensitive); another is refused. */
    ck_assert_int_eq(hvctl_known_hosts_check(path, "h:8443", first, pinned, why, sizeof(why)),
                     HVCTL_PIN_ADDED);
    ck_assert_int_eq(hvctl_known_hosts_check(path, "h:8443", first, pinned, why, sizeof(why)),
                     HVCTL_PIN_MATCH);
    ck_assert_int_eq(hvctl_known_hosts_check(path, "h:8443", second, pinned, why, sizeof(why)),
                     HVCTL_PIN_CHANGED);
    ck_assert_str_eq(pinned, first);
    /* Another port is another appliance. */
    ck_assert_int_eq(hvctl_known_hosts_check(path, "h:8444", second, pinned, why, sizeof(why)),
                     HVCTL_PIN_ADDED);
    ck_assert_int_eq(hvctl_known_hosts_check(path, "h:8444", second, pinned, why, sizeof(why)),
                     HVCTL_PIN_MATCH);
    /* A malformed file is an error, not a new pin. */
    FILE *f = fopen(path, "a");
    fputs("x:1 not-a-fingerprint\n", f);
    fclose(f);
    ck_assert_int_eq(hvctl_known_hosts_check(path, "y:1", first, pinned, why, sizeof(why)),
                     HVCTL_PIN_ERROR);
    ck_assert_ptr_nonnull(strstr(why, ":3:"));
    unlink(path);
    /* A folder that cannot be made. */
    ck_assert_int_eq(hvctl_known_hosts_check("/proc/hvctl/known_hosts", "h:1", first, pinned,
                                             why, sizeof(why)),
                     HVCTL_PIN_ERROR);
}
END_TEST

START_TEST(events)
{
    static const char body[] =
        "{\"events\":[{\"seq\":7,\"time_ms\":1234,\"type\":\"partition_stopped\","
        "\"partition\":\"h\",\"reason\":\"poweroff\"},{\"seq\":8,\"time_ms\":99000,"
        "\"type\":\"login_failed\",\"address\":\"10.0.2.2\"}],\"first_seq\":3,"
        "\"next_seq\":9,\"lost\":2}";
    FILE *out = fmemopen(text, sizeof(text), "w");
    uint64_t next = 0;
    ck_assert(hvctl_render_events(out, body, strlen(body), &next));
    fclose(out);
    ck_assert_uint_eq(next, 9);
    ck_assert_str_eq(text, "(2 earlier events are no longer kept)\n"
                           "     7         1.234s  partition_stopped  h  poweroff\n"
                           "     8        99.000s  login_failed       10.0.2.2\n");
    out = fmemopen(text, sizeof(text), "w");
    ck_assert(!hvctl_render_events(out, "{\"events\":{}}", 13, &next));
    ck_assert(!hvctl_render_events(out, "{\"events\":[1],\"next_seq\":1}", 27, &next));
    fclose(out);
}
END_TEST

static char frames_seen[256];
static int frames_count;

static void frame_seen(void *ctx, int opcode, const unsigned char *payload, size_t length)
{
    (void)ctx;
    size_t used = strlen(frames_seen);
    snprintf(frames_seen + used, sizeof(frames_seen) - used, "%d:%.*s;", opcode, (int)length,
             (const char *)payload);
    frames_count++;
}

START_TEST(websocket_frames)
{
    /* Two server frames and a third cut short: the third waits. */
    static const unsigned char bytes[] = { 0x82, 0x02, 'h', 'i', 0x89, 0x00, 0x82, 0x7E, 0x01 };
    frames_seen[0] = '\0';
    frames_count = 0;
    ck_assert_int_eq(hvctl_ws_frames(bytes, sizeof(bytes), 4096, frame_seen, NULL), 6);
    ck_assert_str_eq(frames_seen, "2:hi;9:;");
    static const unsigned char masked[] = { 0x82, 0x82, 1, 2, 3, 4, 'h', 'i' };
    ck_assert_int_eq(hvctl_ws_frames(masked, sizeof(masked), 4096, frame_seen, NULL), -1);
    static const unsigned char rsv[] = { 0xC2, 0x00 };
    ck_assert_int_eq(hvctl_ws_frames(rsv, sizeof(rsv), 4096, frame_seen, NULL), -1);
    static const unsigned char huge[] = { 0x82, 0x7F, 0, 0, 0, 1, 0, 0, 0, 0 };
    ck_assert_int_eq(hvctl_ws_frames(huge, sizeof(huge), 4096, frame_seen, NULL), -1);
    /* A client frame: masked, RFC 6455 5.7's "Hello" with its key. */
    static const unsigned char mask[4] = { 0x37, 0xfa, 0x21, 0x3d };
    unsigned char frame[64];
    size_t n = hvctl_ws_client_frame(frame, 0x1, (const unsigned char *)"Hello", 5, mask);
    static const unsigned char expected[] = { 0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f,
                                              0x4d, 0x51, 0x58 };
    ck_assert_uint_eq(n, sizeof(expected));
    ck_assert(memcmp(frame, expected, n) == 0);
    static unsigned char payload[300];
    static unsigned char big[400];
    n = hvctl_ws_client_frame(big, 0x2, payload, sizeof(payload), mask);
    ck_assert_uint_eq(n, 4 + 4 + sizeof(payload));
    ck_assert_uint_eq(big[1], 0x80 | 126);
}
END_TEST

Suite *hvctl_render_suite(void)
{
    Suite *s = suite_create("hvctl_render");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, host);
    tcase_add_test(tc, partitions);
    tcase_add_test(tc, partition);
    tcase_add_test(tc, errors_and_exit_statuses);
    tcase_add_test(tc, responses);
    tcase_add_test(tc, known_hosts);
    tcase_add_test(tc, events);
    tcase_add_test(tc, websocket_frames);
    suite_add_tcase(s, tc);
    return s;
}
