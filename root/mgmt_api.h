/*
 * The management API, version 1 (docs/api.md): authenticated HTTP/JSON resources over a
 * parsed request (root/mgmt_http.h), routed by root/mgmt_router.h, authenticated by
 * root/mgmt_auth.h. Host-testable: what it reports about the appliance comes from a
 * `struct mgmt_api_source` (root/mgmt_server.c fills one from the root's state).
 *
 *   GET /v1/host               version, uptime, CPUs, memory, the root heap
 *   GET /v1/partitions         every child partition
 *   GET /v1/partitions/{name}  one child partition
 *   GET /metrics               Prometheus text (exposition format 0.0.4)
 *   POST /v1/partitions        a new child from boot modules on the appliance
 *   POST /v1/partitions/{name}/start|stop|reset, DELETE /v1/partitions/{name}
 * HEAD works wherever GET does. Every request needs the bearer token; every refusal is
 * answered with {"error":{"code":"...","message":"..."}} and logged with its source.
 */
#ifndef HVFW_ROOT_MGMT_API_H
#define HVFW_ROOT_MGMT_API_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "root/mgmt_auth.h"
#include "root/mgmt_http.h"

#ifndef HVFW_VERSION
#define HVFW_VERSION "0.0-dev" /* the build does not stamp a release yet */
#endif
#define MGMT_API_NAME_MAX 32     /* a partition name (root/child_config.h allows less) */
#define MGMT_API_PARTITIONS_MAX 64
#define MGMT_API_RESPONSE_MAX (256u << 10) /* the largest response the API builds */

/* One child partition as the API shows it. */
struct mgmt_api_partition {
    char name[MGMT_API_NAME_MAX + 1];
    uint64_t id;          /* the hypervisor's partition id, 0 if never created */
    const char *state;    /* "running", "stopped" or "failed" */
    char module[MGMT_API_NAME_MAX + 1]; /* the boot module it was loaded from */
    uint64_t memory_bytes;
    uint32_t vp_count;
    bool has_exit_code;
    uint32_t exit_code;
    /* Its current (or, stopped, its last) partition's counters; false: never started. */
    bool has_statistics;
    uint64_t exits;
    uint64_t cpu_time_ms; /* time its VPs spent in guest mode, summed over the VPs */
};

struct mgmt_api_host {
    uint64_t uptime_ns;
    uint32_t cpus;
    uint64_t root_memory_bytes;      /* RAM the hypervisor handed the root */
    uint64_t root_memory_free_bytes; /* not yet allocated by the root */
    uint64_t heap_size_bytes;        /* the root's C heap (libc-glue/heap.h) */
    uint64_t heap_used_bytes;        /* the heap's break (malloc gives memory back by sbrk) */
    uint64_t machine_memory_bytes;    /* 0: not known (null in the API) */
    uint64_t hypervisor_memory_bytes; /* 0: not known */
};

/* What a client may do to a child (POST .../start|stop|reset, DELETE). */
enum mgmt_api_action {
    MGMT_API_START,
    MGMT_API_STOP,
    MGMT_API_RESET,
    MGMT_API_DELETE,
};

#define MGMT_API_MODULE_MAX 63   /* a boot module's name (root/child_config.h) */
#define MGMT_API_CMDLINE_MAX 511 /* a child's kernel command line (root/child_config.h) */

/* POST /v1/partitions, checked for shape here; the VMMS checks the values against the
 * appliance (modules present, limits, memory). */
struct mgmt_api_create {
    char name[MGMT_API_NAME_MAX + 1];
    char kernel[MGMT_API_MODULE_MAX + 1];
    char initrd[MGMT_API_MODULE_MAX + 1]; /* "" for none */
    char cmdline[MGMT_API_CMDLINE_MAX + 1];
    uint32_t memory_mib;
    uint32_t vp_count;
};

/* Where the API's facts come from. Each call fills fresh values. */
struct mgmt_api_source {
    void (*host)(struct mgmt_api_host *out);
    /* Fills up to `max` partitions; returns how many there are in all. */
    size_t (*partitions)(struct mgmt_api_partition *out, size_t max);
    /* One log line (no newline), e.g. root_log's; NULL: not logged. */
    void (*log)(const char *line);
    /* Changes (NULL: not offered, 501). They return the HTTP status of the outcome (202 or
     * 204 done; 400, 404, 409, 500 or 507 with the reason in `why`). */
    int (*act)(const char *name, enum mgmt_api_action action, char *why, size_t why_size);
    int (*create)(const struct mgmt_api_create *spec, char *why, size_t why_size);
};

/* Statuses counted for /metrics; others fall in the last slot. */
#define MGMT_API_STATUS_SLOTS 23

struct mgmt_api {
    struct mgmt_auth *auth;
    const struct mgmt_api_source *source;
    uint64_t requests[MGMT_API_STATUS_SLOTS]; /* by status, see mgmt_api.c */
};

/* A complete response (head and body), malloc'd; free(data) when sent. */
struct mgmt_api_response {
    int status;
    bool keep_alive; /* false: close the connection once it is sent */
    /* After a 101: the connection carries this partition's console (root/mgmt_console.h)
     * from the byte after the response on; "" otherwise. */
    char upgrade_console[MGMT_API_NAME_MAX + 1];
    uint64_t upgrade_position; /* where in its scroll-back the stream starts */
    char *data;
    size_t length;
};

void mgmt_api_init(struct mgmt_api *api, struct mgmt_auth *auth,
                   const struct mgmt_api_source *source);

/* Answers one request from `source` at `now_ms` (monotonic). False only when no memory
 * was left for the response: the caller drops the connection. */
bool mgmt_api_handle(struct mgmt_api *api, const struct mgmt_http_request *request,
                     const struct mgmt_auth_source *source, uint64_t now_ms,
                     struct mgmt_api_response *out);

/* The response to a request the parser refused (status and reason from the parser, or
 * 503/408 from the server); the connection closes after it. */
bool mgmt_api_refuse(struct mgmt_api *api, int status, const char *reason,
                     const struct mgmt_auth_source *source, struct mgmt_api_response *out);

/*
 * For resources served by other modules (root/mgmt_events.c, root/mgmt_console.c): their
 * route handlers get the call being answered as `context` and answer through these.
 */
struct mgmt_json_writer;
const struct mgmt_http_request *mgmt_api_call_request(void *context);
uint64_t mgmt_api_call_now_ms(void *context);
/* The buffer for the body and its size. */
char *mgmt_api_call_body(void *context, size_t *size);
/* `length` bytes of the body buffer are the answer. */
void mgmt_api_call_answer(void *context, int status, const char *content_type, size_t length);
/* The body did not fit: the handler runs again with a larger buffer (so it must be safe to
 * run twice). */
void mgmt_api_call_overflow(void *context);
/* A JSON body written into the body buffer (an overflow when the writer failed). */
void mgmt_api_call_json(void *context, int status, struct mgmt_json_writer *w);
/* An error answer (docs/api.md, "Errors"), logged with `message`. */
void mgmt_api_call_fail(void *context, int status, const char *message);
/* Header lines (each ending in CRLF) added to the answer; false if they do not fit. */
bool mgmt_api_call_header(void *context, const char *lines);
/* The answer is a 101 that turns the connection into `partition`'s console stream from
 * `position` of its scroll-back on; the handler has added the protocol's header lines. */
void mgmt_api_call_upgrade_console(void *context, const char *partition, uint64_t position);
/* A query of at most the one parameter `name=DECIMAL` (up to 19 digits): true with
 * *present false for an empty query, true with the value, else false with `why` set. */
bool mgmt_api_query_number(const char *query, const char *name, bool *present, uint64_t *value,
                           const char **why);
/* Names as root/child_config.h accepts them: 1 to 32 letters, digits, '-', '_', '.'. */
bool mgmt_api_name_valid(const char *name);

/* Requests answered with `status` so far. */
uint64_t mgmt_api_requests(const struct mgmt_api *api, int status);

#endif
