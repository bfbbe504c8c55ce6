#include "root/mgmt_api.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "root/mgmt_console.h"
#include "root/mgmt_events.h"
#include "root/mgmt_json.h"
#include "root/mgmt_router.h"

#define FIRST_BODY_SIZE 4096u
#define HEAD_MAX 512u
#define JSON_TYPE "application/json"
/* Prometheus text exposition format 0.0.4. */
#define METRICS_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* The statuses /metrics counts; the last slot takes any other. */
static const int counted_statuses[MGMT_API_STATUS_SLOTS - 1] = {
    101, 200, 201, 202, 204, 400, 401, 404, 405, 408, 409, 413, 414, 417, 426, 429, 431, 500,
    501, 503, 505, 507,
};

static size_t status_slot(int status)
{
    for (size_t i = 0; i < MGMT_API_STATUS_SLOTS - 1; i++)
        if (counted_statuses[i] == status)
            return i;
    return MGMT_API_STATUS_SLOTS - 1;
}

uint64_t mgmt_api_requests(const struct mgmt_api *api, int status)
{
    return api->requests[status_slot(status)];
}

/* The machine-readable code of an error body (docs/api.md, "Errors"). */
static const char *error_code(int status)
{
    switch (status) {
    case 400: return "bad_request";
    case 401: return "unauthenticated";
    case 404: return "not_found";
    case 405: return "method_not_allowed";
    case 408: return "timeout";
    case 409: return "conflict";
    case 413: return "too_large";
    case 414: return "uri_too_long";
    case 417: return "expectation_failed";
    case 426: return "upgrade_required";
    case 429: return "rate_limited";
    case 431: return "headers_too_large";
    case 501: return "not_implemented";
    case 503: return "unavailable";
    case 505: return "version_not_supported";
    case 507: return "insufficient_storage";
    default: return "internal";
    }
}

/* One request being answered. Handlers write the body into `body`; when it does not fit
 * they set `overflow` and mgmt_api_handle runs them again with a larger buffer. */
struct call {
    struct mgmt_api *api;
    const struct mgmt_http_request *request;
    char *body;
    size_t body_size;
    size_t body_length;
    bool overflow;
    int status;
    const char *content_type;
    char extra[192];      /* header lines: Allow, Retry-After, WWW-Authenticate, Upgrade */
    char log_reason[160]; /* why a request was refused, for the log */
    /* A change is made once: a handler run again for a larger buffer only writes. */
    bool acted;
    int acted_status;
    char acted_why[160];
    uint64_t now_ms;
    char upgrade_console[MGMT_API_NAME_MAX + 1]; /* a 101 to this partition's console */
    uint64_t upgrade_position;
};

static void api_log(struct mgmt_api *api, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void api_log(struct mgmt_api *api, const char *fmt, ...)
{
    if (!api->source->log)
        return;
    char line[384];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    api->source->log(line);
}

static void set_json(struct call *call, int status, struct mgmt_json_writer *w)
{
    size_t length = mgmt_json_finish(w);
    if (length == 0) {
        call->overflow = true;
        return;
    }
    call->status = status;
    call->content_type = JSON_TYPE;
    call->body_length = length;
}

static void fail(struct call *call, int status, const char *message)
{
    struct mgmt_json_writer w;
    mgmt_json_writer_init(&w, call->body, call->body_size);
    mgmt_json_begin_object(&w);
    mgmt_json_key(&w, "error");
    mgmt_json_begin_object(&w);
    mgmt_json_key(&w, "code");
    mgmt_json_string(&w, error_code(status));
    mgmt_json_key(&w, "message");
    mgmt_json_string(&w, message);
    mgmt_json_end_object(&w);
    mgmt_json_end_object(&w);
    set_json(call, status, &w);
    snprintf(call->log_reason, sizeof(call->log_reason), "%s", message);
}

/* --- resources ------------------------------------------------------------------------------ */

static void write_partition(struct mgmt_json_writer *w, const struct mgmt_api_partition *p)
{
    mgmt_json_begin_object(w);
    mgmt_json_key(w, "name");
    mgmt_json_string(w, p->name);
    mgmt_json_key(w, "id");
    mgmt_json_u64(w, p->id);
    mgmt_json_key(w, "state");
    mgmt_json_string(w, p->state);
    mgmt_json_key(w, "module");
    mgmt_json_string(w, p->module);
    mgmt_json_key(w, "memory_bytes");
    mgmt_json_u64(w, p->memory_bytes);
    mgmt_json_key(w, "vps");
    mgmt_json_u64(w, p->vp_count);
    mgmt_json_key(w, "exit_code");
    if (p->has_exit_code)
        mgmt_json_u64(w, p->exit_code);
    else
        mgmt_json_null(w);
    mgmt_json_key(w, "cpu_time_ms");
    if (p->has_statistics)
        mgmt_json_u64(w, p->cpu_time_ms);
    else
        mgmt_json_null(w);
    mgmt_json_key(w, "exits");
    if (p->has_statistics)
        mgmt_json_u64(w, p->exits);
    else
        mgmt_json_null(w);
    mgmt_json_end_object(w);
}

/* The partitions, in a static table: the root serves one request at a time. */
static size_t read_partitions(struct mgmt_api *api, struct mgmt_api_partition **out)
{
    static struct mgmt_api_partition partitions[MGMT_API_PARTITIONS_MAX];
    size_t count = api->source->partitions(partitions, MGMT_API_PARTITIONS_MAX);
    *out = partitions;
    return count < MGMT_API_PARTITIONS_MAX ? count : MGMT_API_PARTITIONS_MAX;
}

static void get_host(void *context, const struct mgmt_route_match *match)
{
    (void)match;
    struct call *call = context;
    struct mgmt_api_host host;
    memset(&host, 0, sizeof(host));
    call->api->source->host(&host);
    struct mgmt_api_partition *partitions;
    size_t count = read_partitions(call->api, &partitions);
    uint64_t children_bytes = 0;
    for (size_t i = 0; i < count; i++)
        if (strcmp(partitions[i].state, "running") == 0)
            children_bytes += partitions[i].memory_bytes;

    struct mgmt_json_writer w;
    mgmt_json_writer_init(&w, call->body, call->body_size);
    mgmt_json_begin_object(&w);
    mgmt_json_key(&w, "version");
    mgmt_json_string(&w, HVFW_VERSION);
    mgmt_json_key(&w, "api_version");
    mgmt_json_string(&w, "v1");
    mgmt_json_key(&w, "uptime_ms");
    mgmt_json_u64(&w, host.uptime_ns / 1000000);
    mgmt_json_key(&w, "cpus");
    mgmt_json_u64(&w, host.cpus);
    mgmt_json_key(&w, "memory");
    mgmt_json_begin_object(&w);
    /* From the hypervisor's boot information (hv/root_abi.h); null when it does not say. */
    mgmt_json_key(&w, "total_bytes");
    if (host.machine_memory_bytes)
        mgmt_json_u64(&w, host.machine_memory_bytes);
    else
        mgmt_json_null(&w);
    mgmt_json_key(&w, "hypervisor_bytes");
    if (host.hypervisor_memory_bytes)
        mgmt_json_u64(&w, host.hypervisor_memory_bytes);
    else
        mgmt_json_null(&w);
    mgmt_json_key(&w, "root_bytes");
    mgmt_json_u64(&w, host.root_memory_bytes);
    mgmt_json_key(&w, "root_free_bytes");
    mgmt_json_u64(&w, host.root_memory_free_bytes);
    mgmt_json_key(&w, "children_bytes");
    mgmt_json_u64(&w, children_bytes);
    mgmt_json_key(&w, "children");
    mgmt_json_begin_array(&w);
    for (size_t i = 0; i < count; i++) {
        if (strcmp(partitions[i].state, "running") != 0)
            continue;
        mgmt_json_begin_object(&w);
        mgmt_json_key(&w, "name");
        mgmt_json_string(&w, partitions[i].name);
        mgmt_json_key(&w, "bytes");
        mgmt_json_u64(&w, partitions[i].memory_bytes);
        mgmt_json_end_object(&w);
    }
    mgmt_json_end_array(&w);
    mgmt_json_end_object(&w);
    mgmt_json_key(&w, "root_heap");
    mgmt_json_begin_object(&w);
    mgmt_json_key(&w, "size_bytes");
    mgmt_json_u64(&w, host.heap_size_bytes);
    mgmt_json_key(&w, "used_bytes");
    mgmt_json_u64(&w, host.heap_used_bytes);
    mgmt_json_end_object(&w);
    mgmt_json_end_object(&w);
    set_json(call, 200, &w);
}

static void list_partitions(void *context, const struct mgmt_route_match *match)
{
    (void)match;
    struct call *call = context;
    struct mgmt_api_partition *partitions;
    size_t count = read_partitions(call->api, &partitions);
    struct mgmt_json_writer w;
    mgmt_json_writer_init(&w, call->body, call->body_size);
    mgmt_json_begin_object(&w);
    mgmt_json_key(&w, "partitions");
    mgmt_json_begin_array(&w);
    for (size_t i = 0; i < count; i++)
        write_partition(&w, &partitions[i]);
    mgmt_json_end_array(&w);
    mgmt_json_end_object(&w);
    set_json(call, 200, &w);
}

bool mgmt_api_name_valid(const char *name)
{
    size_t length = strlen(name);
    if (length == 0 || length > MGMT_API_NAME_MAX)
        return false;
    for (size_t i = 0; i < length; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.'))
            return false;
    }
    return true;
}

static void get_partition(void *context, const struct mgmt_route_match *match)
{
    struct call *call = context;
    const char *name = match->params[0];
    if (!mgmt_api_name_valid(name)) {
        fail(call, 400, "a partition name has 1 to 32 letters, digits, '-', '_' or '.'");
        return;
    }
    struct mgmt_api_partition *partitions;
    size_t count = read_partitions(call->api, &partitions);
    for (size_t i = 0; i < count; i++) {
        if (strcmp(partitions[i].name, name) != 0)
            continue;
        struct mgmt_json_writer w;
        mgmt_json_writer_init(&w, call->body, call->body_size);
        write_partition(&w, &partitions[i]);
        set_json(call, 200, &w);
        return;
    }
    fail(call, 404, "no partition has this name");
}

static void text_append(struct call *call, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void text_append(struct call *call, const char *fmt, ...)
{
    if (call->overflow)
        return;
    va_list ap;
    va_start(ap, fmt);
    size_t room = call->body_size - call->body_length;
    int n = vsnprintf(call->body + call->body_length, room, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= room)
        call->overflow = true;
    else
        call->body_length += (size_t)n;
}

static void get_metrics(void *context, const struct mgmt_route_match *match)
{
    (void)match;
    struct call *call = context;
    struct mgmt_api *api = call->api;
    struct mgmt_api_host host;
    memset(&host, 0, sizeof(host));
    api->source->host(&host);
    struct mgmt_api_partition *partitions;
    size_t count = read_partitions(api, &partitions);
    static const char *const states[] = { "running", "stopped", "failed" };
    size_t by_state[3] = { 0 };
    for (size_t i = 0; i < count; i++)
        for (size_t s = 0; s < 3; s++)
            by_state[s] += strcmp(partitions[i].state, states[s]) == 0;

    call->body_length = 0;
    text_append(call,
                "# HELP hvfw_uptime_seconds Time since the root partition started.\n"
                "# TYPE hvfw_uptime_seconds gauge\n"
                "hvfw_uptime_seconds %llu.%03llu\n",
                (unsigned long long)(host.uptime_ns / 1000000000),
                (unsigned long long)(host.uptime_ns / 1000000 % 1000));
    text_append(call,
                "# HELP hvfw_root_heap_bytes The root partition's C heap.\n"
                "# TYPE hvfw_root_heap_bytes gauge\n"
                "hvfw_root_heap_bytes{kind=\"size\"} %llu\n"
                "hvfw_root_heap_bytes{kind=\"used\"} %llu\n",
                (unsigned long long)host.heap_size_bytes,
                (unsigned long long)host.heap_used_bytes);
    text_append(call,
                "# HELP hvfw_root_memory_bytes RAM of the root partition.\n"
                "# TYPE hvfw_root_memory_bytes gauge\n"
                "hvfw_root_memory_bytes{kind=\"total\"} %llu\n"
                "hvfw_root_memory_bytes{kind=\"free\"} %llu\n",
                (unsigned long long)host.root_memory_bytes,
                (unsigned long long)host.root_memory_free_bytes);
    text_append(call, "# HELP hvfw_partitions Child partitions by state.\n"
                      "# TYPE hvfw_partitions gauge\n");
    for (size_t s = 0; s < 3; s++)
        text_append(call, "hvfw_partitions{state=\"%s\"} %zu\n", states[s], by_state[s]);
    if (host.machine_memory_bytes)
        text_append(call,
                    "# HELP hvfw_memory_bytes The machine's usable RAM and the hypervisor's part.\n"
                    "# TYPE hvfw_memory_bytes gauge\n"
                    "hvfw_memory_bytes{kind=\"total\"} %llu\n"
                    "hvfw_memory_bytes{kind=\"hypervisor\"} %llu\n",
                    (unsigned long long)host.machine_memory_bytes,
                    (unsigned long long)host.hypervisor_memory_bytes);
    text_append(call, "# HELP hvfw_partition_exits_total VM exits of a partition's VPs.\n"
                      "# TYPE hvfw_partition_exits_total counter\n");
    for (size_t i = 0; i < count; i++)
        if (partitions[i].has_statistics)
            text_append(call, "hvfw_partition_exits_total{partition=\"%s\"} %llu\n",
                        partitions[i].name, (unsigned long long)partitions[i].exits);
    text_append(call, "# HELP hvfw_partition_cpu_seconds_total Time a partition's VPs ran in "
                      "guest mode.\n"
                      "# TYPE hvfw_partition_cpu_seconds_total counter\n");
    for (size_t i = 0; i < count; i++)
        if (partitions[i].has_statistics)
            text_append(call, "hvfw_partition_cpu_seconds_total{partition=\"%s\"} %llu.%03llu\n",
                        partitions[i].name,
                        (unsigned long long)(partitions[i].cpu_time_ms / 1000),
                        (unsigned long long)(partitions[i].cpu_time_ms % 1000));
    text_append(call, "# HELP hvfw_api_requests_total API requests answered, by status.\n"
                      "# TYPE hvfw_api_requests_total counter\n");
    for (size_t i = 0; i < MGMT_API_STATUS_SLOTS - 1; i++)
        if (api->requests[i])
            text_append(call, "hvfw_api_requests_total{status=\"%d\"} %llu\n",
                        counted_statuses[i], (unsigned long long)api->requests[i]);
    if (api->requests[MGMT_API_STATUS_SLOTS - 1])
        text_append(call, "hvfw_api_requests_total{status=\"other\"} %llu\n",
                    (unsigned long long)api->requests[MGMT_API_STATUS_SLOTS - 1]);
    text_append(call,
                "# HELP hvfw_api_auth_failures_total Requests with a wrong or malformed token.\n"
                "# TYPE hvfw_api_auth_failures_total counter\n"
                "hvfw_api_auth_failures_total %llu\n"
                "# HELP hvfw_api_auth_rate_limited_total Requests refused by the rate limit.\n"
                "# TYPE hvfw_api_auth_rate_limited_total counter\n"
                "hvfw_api_auth_rate_limited_total %llu\n",
                (unsigned long long)api->auth->failures,
                (unsigned long long)api->auth->rate_limited);
    text_append(call,
                "# HELP hvfw_console_streams_total Console WebSocket streams opened.\n"
                "# TYPE hvfw_console_streams_total counter\n"
                "hvfw_console_streams_total %llu\n"
                "# HELP hvfw_console_lost_bytes_total Console output a slow stream lost.\n"
                "# TYPE hvfw_console_lost_bytes_total counter\n"
                "hvfw_console_lost_bytes_total %llu\n"
                "# HELP hvfw_console_input_bytes_total Bytes typed into consoles.\n"
                "# TYPE hvfw_console_input_bytes_total counter\n"
                "hvfw_console_input_bytes_total %llu\n",
                (unsigned long long)mgmt_console_stats.streams_opened,
                (unsigned long long)mgmt_console_stats.lost_bytes,
                (unsigned long long)mgmt_console_stats.input_bytes);
    call->status = 200;
    call->content_type = METRICS_TYPE;
}

/* --- changes ------------------------------------------------------------------------------- */

#define BODY_TOKENS_MAX 64

/* The request's JSON object body into `doc`; false after answering 400. An empty body is
 * an empty object when `empty_ok`. */
static bool read_body(struct call *call, struct mgmt_json_document *doc,
                      struct mgmt_json_token *tokens, bool empty_ok)
{
    const struct mgmt_http_request *request = call->request;
    static const char empty[] = "{}";
    const char *text = (const char *)request->body;
    size_t length = request->content_length;
    if (length == 0 && empty_ok) {
        text = empty;
        length = 2;
    }
    if (length == 0 || !text) {
        fail(call, 400, "this request needs a JSON object body");
        return false;
    }
    if (!mgmt_json_parse(doc, text, length, tokens, BODY_TOKENS_MAX)) {
        char message[128];
        snprintf(message, sizeof(message), "the body is not JSON: %s at byte %zu", doc->error,
                 doc->error_offset);
        fail(call, 400, message);
        return false;
    }
    if (tokens[0].type != MGMT_JSON_OBJECT) {
        fail(call, 400, "the body is not a JSON object");
        return false;
    }
    return true;
}

/* A member outside `known` (NULL-terminated) is refused: a misspelt option must not be
 * silently ignored. False after answering 400. */
static bool members_known(struct call *call, const struct mgmt_json_document *doc,
                          size_t object, const char *const *known)
{
    size_t index = object + 1;
    for (uint32_t i = 0; i < doc->tokens[object].children; i++) {
        char name[40];
        bool found = false;
        bool copied = mgmt_json_string_copy(doc, index, name, sizeof(name));
        for (size_t k = 0; copied && known[k] && !found; k++)
            found = strcmp(name, known[k]) == 0;
        if (!found) {
            char message[96];
            snprintf(message, sizeof(message), "unknown member \"%s\"", copied ? name : "?");
            fail(call, 400, message);
            return false;
        }
        index = doc->tokens[index + 1].next; /* past the value's subtree */
    }
    return true;
}

/* A string member (absent: `fallback`), checked for type and size; false after 400. */
static bool member_string(struct call *call, const struct mgmt_json_document *doc,
                          size_t object, const char *name, char *out, size_t size,
                          const char *fallback)
{
    long index = mgmt_json_object_get(doc, object, name);
    if (index < 0 && fallback) {
        snprintf(out, size, "%s", fallback);
        return true;
    }
    if (index < 0 || !mgmt_json_string_copy(doc, (size_t)index, out, size)) {
        char message[96];
        snprintf(message, sizeof(message), "\"%s\" must be a string of at most %zu bytes",
                 name, size - 1);
        fail(call, 400, message);
        return false;
    }
    return true;
}

static bool member_u32(struct call *call, const struct mgmt_json_document *doc, size_t object,
                       const char *name, uint32_t *out)
{
    long index = mgmt_json_object_get(doc, object, name);
    uint64_t value;
    if (index < 0 || !mgmt_json_number_u64(doc, (size_t)index, &value) || value > UINT32_MAX) {
        char message[96];
        snprintf(message, sizeof(message), "\"%s\" must be a non-negative integer", name);
        fail(call, 400, message);
        return false;
    }
    *out = (uint32_t)value;
    return true;
}

/* The partition object for a 201/202 answer (the state after the change). */
static void answer_partition(struct call *call, int status, const char *name)
{
    struct mgmt_api_partition *partitions;
    size_t count = read_partitions(call->api, &partitions);
    for (size_t i = 0; i < count; i++) {
        if (strcmp(partitions[i].name, name) != 0)
            continue;
        struct mgmt_json_writer w;
        mgmt_json_writer_init(&w, call->body, call->body_size);
        write_partition(&w, &partitions[i]);
        set_json(call, status, &w);
        return;
    }
    fail(call, 500, "the partition is gone after the change");
}

static void answer_outcome(struct call *call, const char *name)
{
    int status = call->acted_status;
    if (status == 201 || status == 202) {
        answer_partition(call, status, name);
    } else if (status == 204) {
        call->status = 204;
        call->content_type = NULL;
        call->body_length = 0;
    } else {
        fail(call, status >= 400 && status <= 599 ? status : 500, call->acted_why);
    }
}

static void act(struct call *call, const struct mgmt_route_match *match,
                enum mgmt_api_action action)
{
    const char *name = match->params[0];
    if (!mgmt_api_name_valid(name)) {
        fail(call, 400, "a partition name has 1 to 32 letters, digits, '-', '_' or '.'");
        return;
    }
    if (!call->acted) {
        if (action == MGMT_API_STOP) {
            /* {"mode":"hard"|"graceful"}; hard when there is no body. */
            struct mgmt_json_token tokens[BODY_TOKENS_MAX];
            struct mgmt_json_document doc;
            static const char *const known[] = { "mode", "timeout_ms", NULL };
            char mode[16];
            if (!read_body(call, &doc, tokens, true) || !members_known(call, &doc, 0, known) ||
                !member_string(call, &doc, 0, "mode", mode, sizeof(mode), "hard"))
                return;
            if (strcmp(mode, "graceful") == 0) {
                fail(call, 409, "no shutdown integration service answers for this partition; "
                                "stop it with mode \"hard\"");
                return;
            }
            if (strcmp(mode, "hard") != 0) {
                fail(call, 400, "\"mode\" is \"hard\" or \"graceful\"");
                return;
            }
        } else if (call->request->content_length != 0) {
            fail(call, 400, "this request takes no body");
            return;
        }
        call->acted = true;
        if (!call->api->source->act) {
            call->acted_status = 501;
            snprintf(call->acted_why, sizeof(call->acted_why), "this appliance cannot do that");
        } else {
            call->acted_status = call->api->source->act(name, action, call->acted_why,
                                                        sizeof(call->acted_why));
        }
    }
    answer_outcome(call, name);
}

static void start_partition(void *context, const struct mgmt_route_match *match)
{
    act(context, match, MGMT_API_START);
}

static void stop_partition(void *context, const struct mgmt_route_match *match)
{
    act(context, match, MGMT_API_STOP);
}

static void reset_partition(void *context, const struct mgmt_route_match *match)
{
    act(context, match, MGMT_API_RESET);
}

static void delete_partition(void *context, const struct mgmt_route_match *match)
{
    act(context, match, MGMT_API_DELETE);
}

/* POST /v1/partitions: {"name","memory_mib","vps","boot":{"kernel","initrd","cmdline"}}. */
static void create_partition(void *context, const struct mgmt_route_match *match)
{
    (void)match;
    struct call *call = context;
    static struct mgmt_api_create spec;
    if (!call->acted) {
        struct mgmt_json_token tokens[BODY_TOKENS_MAX];
        struct mgmt_json_document doc;
        static const char *const known[] = { "name", "memory_mib", "vps", "boot", NULL };
        static const char *const boot_known[] = { "kernel", "initrd", "cmdline", NULL };
        memset(&spec, 0, sizeof(spec));
        if (!read_body(call, &doc, tokens, false) || !members_known(call, &doc, 0, known) ||
            !member_string(call, &doc, 0, "name", spec.name, sizeof(spec.name), NULL) ||
            !member_u32(call, &doc, 0, "memory_mib", &spec.memory_mib) ||
            !member_u32(call, &doc, 0, "vps", &spec.vp_count))
            return;
        if (!mgmt_api_name_valid(spec.name)) {
            fail(call, 400, "a partition name has 1 to 32 letters, digits, '-', '_' or '.'");
            return;
        }
        long boot = mgmt_json_object_get(&doc, 0, "boot");
        if (boot < 0 || doc.tokens[boot].type != MGMT_JSON_OBJECT) {
            fail(call, 400, "\"boot\" must be an object with \"kernel\"");
            return;
        }
        if (!members_known(call, &doc, (size_t)boot, boot_known) ||
            !member_string(call, &doc, (size_t)boot, "kernel", spec.kernel, sizeof(spec.kernel),
                           NULL) ||
            !member_string(call, &doc, (size_t)boot, "initrd", spec.initrd, sizeof(spec.initrd),
                           "") ||
            !member_string(call, &doc, (size_t)boot, "cmdline", spec.cmdline,
                           sizeof(spec.cmdline), ""))
            return;
        call->acted = true;
        if (!call->api->source->create) {
            call->acted_status = 501;
            snprintf(call->acted_why, sizeof(call->acted_why), "this appliance cannot do that");
        } else {
            call->acted_status = call->api->source->create(&spec, call->acted_why,
                                                           sizeof(call->acted_why));
        }
    }
    answer_outcome(call, spec.name);
}

/* --- for resources served by other modules (mgmt_api.h) ------------------------------------ */

const struct mgmt_http_request *mgmt_api_call_request(void *context)
{
    return ((struct call *)context)->request;
}

uint64_t mgmt_api_call_now_ms(void *context)
{
    return ((struct call *)context)->now_ms;
}

char *mgmt_api_call_body(void *context, size_t *size)
{
    struct call *call = context;
    *size = call->body_size;
    return call->body;
}

void mgmt_api_call_answer(void *context, int status, const char *content_type, size_t length)
{
    struct call *call = context;
    call->status = status;
    call->content_type = content_type;
    call->body_length = length <= call->body_size ? length : 0;
}

void mgmt_api_call_overflow(void *context)
{
    ((struct call *)context)->overflow = true;
}

void mgmt_api_call_json(void *context, int status, struct mgmt_json_writer *w)
{
    set_json(context, status, w);
}

void mgmt_api_call_fail(void *context, int status, const char *message)
{
    fail(context, status, message);
}

bool mgmt_api_call_header(void *context, const char *lines)
{
    struct call *call = context;
    size_t used = strlen(call->extra), length = strlen(lines);
    if (used + length + 1 > sizeof(call->extra))
        return false;
    memcpy(call->extra + used, lines, length + 1);
    return true;
}

bool mgmt_api_query_number(const char *query, const char *name, bool *present, uint64_t *value,
                           const char **why)
{
    *present = false;
    *value = 0;
    if (!*query)
        return true;
    size_t name_length = strlen(name);
    if (strncmp(query, name, name_length) != 0 || query[name_length] != '=') {
        *why = "unknown query parameter";
        return false;
    }
    const char *p = query + name_length + 1;
    size_t digits = strspn(p, "0123456789");
    if (digits == 0 || digits > 19 || p[digits] != '\0') {
        *why = "the query parameter is not a decimal number";
        return false;
    }
    for (size_t i = 0; i < digits; i++)
        *value = *value * 10 + (uint64_t)(p[i] - '0');
    *present = true;
    return true;
}

void mgmt_api_call_upgrade_console(void *context, const char *partition, uint64_t position)
{
    struct call *call = context;
    call->upgrade_position = position;
    call->status = 101;
    call->content_type = NULL;
    call->body_length = 0;
    snprintf(call->upgrade_console, sizeof(call->upgrade_console), "%s", partition);
}

static const struct mgmt_route routes[] = {
    { MGMT_HTTP_GET, "/v1/host", get_host },
    { MGMT_HTTP_GET, "/v1/partitions", list_partitions },
    { MGMT_HTTP_POST, "/v1/partitions", create_partition },
    { MGMT_HTTP_GET, "/v1/partitions/{name}", get_partition },
    { MGMT_HTTP_DELETE, "/v1/partitions/{name}", delete_partition },
    { MGMT_HTTP_POST, "/v1/partitions/{name}/start", start_partition },
    { MGMT_HTTP_POST, "/v1/partitions/{name}/stop", stop_partition },
    { MGMT_HTTP_POST, "/v1/partitions/{name}/reset", reset_partition },
    { MGMT_HTTP_GET, "/metrics", get_metrics },
    { MGMT_HTTP_GET, "/v1/events", mgmt_events_get },
    { MGMT_HTTP_GET, "/v1/partitions/{name}/console", mgmt_console_get },
};

/* --- requests ------------------------------------------------------------------------------- */

void mgmt_api_init(struct mgmt_api *api, struct mgmt_auth *auth,
                   const struct mgmt_api_source *source)
{
    memset(api, 0, sizeof(*api));
    api->auth = auth;
    api->source = source;
}

/* Authentication first: nothing about the appliance, not even which paths exist, is told
 * to a client without the token. */
static bool authenticate(struct call *call, const struct mgmt_auth_source *source,
                         uint64_t now_ms)
{
    const struct mgmt_http_request *request = call->request;
    uint64_t retry_after_s;
    enum mgmt_auth_result result =
        mgmt_auth_check(call->api->auth, source,
                        request->has_authorization ? request->authorization : NULL, now_ms,
                        &retry_after_s);
    char address[48];
    mgmt_auth_source_format(source, address, sizeof(address));
    if (result == MGMT_AUTH_OK)
        mgmt_event_login_ok(&mgmt_events, now_ms, address);
    else if (result == MGMT_AUTH_MALFORMED || result == MGMT_AUTH_WRONG)
        mgmt_event_record(&mgmt_events, now_ms, MGMT_EVENT_LOGIN_FAILED, NULL, address);
    switch (result) {
    case MGMT_AUTH_OK:
        return true;
    case MGMT_AUTH_NOT_PROVISIONED:
        fail(call, 503, "no API token is provisioned on this appliance (see its console)");
        return false;
    case MGMT_AUTH_RATE_LIMITED:
        snprintf(call->extra, sizeof(call->extra), "Retry-After: %llu\r\n",
                 (unsigned long long)retry_after_s);
        fail(call, 429, "too many failed attempts from this address; retry later");
        return false;
    case MGMT_AUTH_MISSING:
    case MGMT_AUTH_MALFORMED:
    case MGMT_AUTH_WRONG:
        break;
    }
    /* RFC 6750 section 3: a 401 names the scheme; invalid_token when one was presented. */
    snprintf(call->extra, sizeof(call->extra), "WWW-Authenticate: Bearer realm=\"hvfw\"%s\r\n",
             result == MGMT_AUTH_MISSING ? "" : ", error=\"invalid_token\"");
    fail(call, 401, result == MGMT_AUTH_MISSING ? "an Authorization: Bearer token is required"
                    : result == MGMT_AUTH_MALFORMED ? "the Authorization header is not \"Bearer TOKEN\""
                                                    : "the token is not valid");
    return false;
}

static void route(struct call *call)
{
    call->overflow = false;
    call->body_length = 0;
    call->extra[0] = '\0';
    call->upgrade_console[0] = '\0';
    struct mgmt_route_match match;
    int status = mgmt_router_match(routes, sizeof(routes) / sizeof(routes[0]),
                                   call->request->method, call->request->path, &match);
    if (status == 404) {
        fail(call, 404, "no such resource");
    } else if (status == 405) {
        char allow[64];
        mgmt_router_allow_list(match.allowed, allow, sizeof(allow));
        snprintf(call->extra, sizeof(call->extra), "Allow: %s\r\n", allow);
        fail(call, 405, "this resource does not take this method");
    } else {
        match.route->handler(call, &match);
    }
}

/* Head and body into one malloc'd buffer. */
static bool finish(struct call *call, bool keep_alive, bool head_only,
                   struct mgmt_api_response *out)
{
    size_t body_length = head_only ? 0 : call->body_length;
    char *data = malloc(HEAD_MAX + body_length);
    if (!data)
        return false;
    size_t head = mgmt_http_write_head(data, HEAD_MAX, call->status, call->content_type,
                                       call->body_length, keep_alive, call->extra);
    if (head == 0) { /* cannot happen with our fixed header lines; refuse, do not send junk */
        free(data);
        return false;
    }
    memcpy(data + head, call->body, body_length);
    out->status = call->status;
    out->keep_alive = keep_alive;
    memcpy(out->upgrade_console, call->upgrade_console, sizeof(out->upgrade_console));
    out->upgrade_position = call->upgrade_position;
    out->data = data;
    out->length = head + body_length;
    call->api->requests[status_slot(call->status)]++;
    return true;
}

static void log_refusal(struct mgmt_api *api, const struct mgmt_auth_source *source,
                        const struct mgmt_http_request *request, const struct call *call)
{
    char address[48];
    mgmt_auth_source_format(source, address, sizeof(address));
    if (request)
        api_log(api, "mgmt: %s %s %s -> %d: %s", address,
                mgmt_http_method_name(request->method), request->path, call->status,
                call->log_reason);
    else
        api_log(api, "mgmt: %s -> %d: %s", address, call->status, call->log_reason);
}

bool mgmt_api_handle(struct mgmt_api *api, const struct mgmt_http_request *request,
                     const struct mgmt_auth_source *source, uint64_t now_ms,
                     struct mgmt_api_response *out)
{
    struct call call = { .api = api, .request = request, .now_ms = now_ms };
    call.body_size = FIRST_BODY_SIZE;
    call.body = malloc(call.body_size);
    if (!call.body)
        return false;
    if (authenticate(&call, source, now_ms)) {
        /* Running a handler again with more room is safe: a change is made once. */
        for (route(&call); call.overflow; route(&call)) {
            free(call.body);
            call.body_size *= 2;
            call.body = call.body_size <= MGMT_API_RESPONSE_MAX ? malloc(call.body_size) : NULL;
            if (!call.body)
                break;
        }
    }
    char small[192];
    if (!call.body) { /* no memory, or larger than the API's limit: a bug of ours */
        call.body = small;
        call.body_size = sizeof(small);
        call.extra[0] = '\0';
        call.upgrade_console[0] = '\0';
        fail(&call, 500, "the response does not fit in the root's memory");
    }
    if (call.status >= 400)
        log_refusal(api, source, request, &call);
    bool ok = finish(&call, (request->keep_alive || call.status == 101) && call.status != 500,
                     request->method == MGMT_HTTP_HEAD, out);
    if (call.body != small)
        free(call.body);
    return ok;
}

bool mgmt_api_refuse(struct mgmt_api *api, int status, const char *reason,
                     const struct mgmt_auth_source *source, struct mgmt_api_response *out)
{
    char body[256];
    struct call call = { .api = api, .body = body, .body_size = sizeof(body) };
    fail(&call, status, reason);
    log_refusal(api, source, NULL, &call);
    return finish(&call, false, false, out);
}
