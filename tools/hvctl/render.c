#include "tools/hvctl/render.h"

#include <inttypes.h>
#include <string.h>

#include "root/mgmt_json.h"

#define TOKENS_MAX 4096 /* 64 partitions of 9 members each, with room */

static struct mgmt_json_token tokens[TOKENS_MAX];

static bool parse(struct mgmt_json_document *doc, const char *body, size_t length)
{
    return mgmt_json_parse(doc, body, length, tokens, TOKENS_MAX) &&
           tokens[0].type == MGMT_JSON_OBJECT;
}

/* A member as text: strings as they are, integers in decimal, null as `null_text`. */
static void member_text(const struct mgmt_json_document *doc, size_t object, const char *name,
                        char *out, size_t size, const char *null_text)
{
    long index = mgmt_json_object_get(doc, object, name);
    uint64_t value;
    if (index < 0 || doc->tokens[index].type == MGMT_JSON_NULL)
        snprintf(out, size, "%s", null_text);
    else if (mgmt_json_number_u64(doc, (size_t)index, &value))
        snprintf(out, size, "%" PRIu64, value);
    else if (!mgmt_json_string_copy(doc, (size_t)index, out, size))
        snprintf(out, size, "?");
}

static bool member_u64(const struct mgmt_json_document *doc, size_t object, const char *name,
                       uint64_t *out)
{
    long index = mgmt_json_object_get(doc, object, name);
    return index >= 0 && mgmt_json_number_u64(doc, (size_t)index, out);
}

static double mib(uint64_t bytes)
{
    return (double)bytes / (1024.0 * 1024.0);
}

bool hvctl_render_host(FILE *out, const char *body, size_t length)
{
    struct mgmt_json_document doc;
    if (!parse(&doc, body, length))
        return false;
    char version[64], api[16];
    uint64_t uptime_ms, cpus, root_bytes, root_free, children_bytes, heap_size, heap_used;
    long memory = mgmt_json_object_get(&doc, 0, "memory");
    long heap = mgmt_json_object_get(&doc, 0, "root_heap");
    if (memory < 0 || heap < 0 || !member_u64(&doc, 0, "uptime_ms", &uptime_ms) ||
        !member_u64(&doc, 0, "cpus", &cpus) ||
        !member_u64(&doc, (size_t)memory, "root_bytes", &root_bytes) ||
        !member_u64(&doc, (size_t)memory, "root_free_bytes", &root_free) ||
        !member_u64(&doc, (size_t)memory, "children_bytes", &children_bytes) ||
        !member_u64(&doc, (size_t)heap, "size_bytes", &heap_size) ||
        !member_u64(&doc, (size_t)heap, "used_bytes", &heap_used))
        return false;
    member_text(&doc, 0, "version", version, sizeof(version), "?");
    member_text(&doc, 0, "api_version", api, sizeof(api), "?");
    fprintf(out, "hvfw %s (API %s), up %" PRIu64 ".%03" PRIu64 " s, %" PRIu64 " CPUs\n",
            version, api, uptime_ms / 1000, uptime_ms % 1000, cpus);
    fprintf(out, "memory: root %.1f MiB, %.1f MiB free; children %.1f MiB\n", mib(root_bytes),
            mib(root_free), mib(children_bytes));
    fprintf(out, "root heap: %.1f of %.1f MiB used\n", mib(heap_used), mib(heap_size));
    return true;
}

static void partition_row(FILE *out, const struct mgmt_json_document *doc, size_t object)
{
    char name[40], state[16], id[24], memory[24], vps[16], module[72], exit_code[16];
    uint64_t bytes = 0;
    member_text(doc, object, "name", name, sizeof(name), "?");
    member_text(doc, object, "state", state, sizeof(state), "?");
    member_text(doc, object, "id", id, sizeof(id), "-");
    member_u64(doc, object, "memory_bytes", &bytes);
    snprintf(memory, sizeof(memory), "%" PRIu64, bytes >> 20);
    member_text(doc, object, "vps", vps, sizeof(vps), "?");
    member_text(doc, object, "module", module, sizeof(module), "?");
    member_text(doc, object, "exit_code", exit_code, sizeof(exit_code), "-");
    fprintf(out, "%-20s %-8s %6s %8s %4s %5s  %s\n", name, state, id, memory, vps, exit_code,
            module);
}

bool hvctl_render_partitions(FILE *out, const char *body, size_t length)
{
    struct mgmt_json_document doc;
    if (!parse(&doc, body, length))
        return false;
    long list = mgmt_json_object_get(&doc, 0, "partitions");
    if (list < 0 || doc.tokens[list].type != MGMT_JSON_ARRAY)
        return false;
    size_t index = (size_t)list + 1;
    for (uint32_t i = 0; i < doc.tokens[list].children; i++) {
        if (doc.tokens[index].type != MGMT_JSON_OBJECT)
            return false;
        index = doc.tokens[index].next;
    }
    if (doc.tokens[list].children == 0) {
        fprintf(out, "no partitions\n");
        return true;
    }
    fprintf(out, "%-20s %-8s %6s %8s %4s %5s  %s\n", "NAME", "STATE", "ID", "MEM_MIB", "VPS",
            "EXIT", "MODULE");
    index = (size_t)list + 1;
    for (uint32_t i = 0; i < doc.tokens[list].children; i++) {
        partition_row(out, &doc, index);
        index = doc.tokens[index].next;
    }
    return true;
}

bool hvctl_render_partition(FILE *out, const char *body, size_t length)
{
    struct mgmt_json_document doc;
    if (!parse(&doc, body, length) || mgmt_json_object_get(&doc, 0, "name") < 0 ||
        mgmt_json_object_get(&doc, 0, "state") < 0)
        return false;
    static const char *const fields[] = { "name", "state", "id", "module", "vps", "exit_code" };
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
        char value[80];
        member_text(&doc, 0, fields[i], value, sizeof(value), "-");
        fprintf(out, "%-10s %s\n", fields[i], value);
    }
    uint64_t bytes = 0;
    member_u64(&doc, 0, "memory_bytes", &bytes);
    fprintf(out, "%-10s %" PRIu64 " MiB\n", "memory", bytes >> 20);
    /* Counters of its current (or last) partition, when the appliance reports them. */
    uint64_t cpu_ms, exits;
    if (member_u64(&doc, 0, "cpu_time_ms", &cpu_ms))
        fprintf(out, "%-10s %" PRIu64 ".%03" PRIu64 " s\n", "cpu_time", cpu_ms / 1000,
                cpu_ms % 1000);
    if (member_u64(&doc, 0, "exits", &exits))
        fprintf(out, "%-10s %" PRIu64 "\n", "exits", exits);
    return true;
}

void hvctl_render_error(int status, const char *body, size_t length, char *out, size_t size)
{
    struct mgmt_json_document doc;
    long error = -1;
    if (body && length && parse(&doc, body, length))
        error = mgmt_json_object_get(&doc, 0, "error");
    if (error < 0 || doc.tokens[error].type != MGMT_JSON_OBJECT) {
        snprintf(out, size, "HTTP %d", status);
        return;
    }
    char code[40], message[200];
    member_text(&doc, (size_t)error, "code", code, sizeof(code), "?");
    member_text(&doc, (size_t)error, "message", message, sizeof(message), "");
    snprintf(out, size, "%s: %s", code, message);
}

int hvctl_exit_status(int http_status)
{
    if (http_status >= 200 && http_status <= 299)
        return HVCTL_EXIT_OK;
    if (http_status == 401 || http_status == 403 || http_status == 429)
        return HVCTL_EXIT_AUTH;
    if (http_status == 404 || http_status == 409)
        return HVCTL_EXIT_NOT_FOUND;
    return HVCTL_EXIT_OTHER;
}

#define EVENT_TOKENS_MAX 16384 /* 512 events of at most 13 tokens, with room */

static bool event_member_string(const struct mgmt_json_document *doc, size_t object,
                          const char *name, char *out, size_t size)
{
    long index = mgmt_json_object_get(doc, object, name);
    out[0] = '\0';
    return index < 0 || mgmt_json_string_copy(doc, (size_t)index, out, size);
}

bool hvctl_render_events(FILE *out, const char *body, size_t length, uint64_t *next_seq)
{
    static struct mgmt_json_token event_tokens[EVENT_TOKENS_MAX];
    struct mgmt_json_document doc;
    if (!mgmt_json_parse(&doc, body, length, event_tokens, EVENT_TOKENS_MAX) ||
        event_tokens[0].type != MGMT_JSON_OBJECT)
        return false;
    long events = mgmt_json_object_get(&doc, 0, "events");
    long next = mgmt_json_object_get(&doc, 0, "next_seq");
    long lost = mgmt_json_object_get(&doc, 0, "lost");
    uint64_t lost_count = 0;
    if (events < 0 || doc.tokens[events].type != MGMT_JSON_ARRAY || next < 0 ||
        !mgmt_json_number_u64(&doc, (size_t)next, next_seq) ||
        (lost >= 0 && !mgmt_json_number_u64(&doc, (size_t)lost, &lost_count)))
        return false;
    if (lost_count)
        fprintf(out, "(%" PRIu64 " earlier events are no longer kept)\n", lost_count);
    size_t index = (size_t)events + 1;
    for (uint32_t i = 0; i < doc.tokens[events].children; i++) {
        if (doc.tokens[index].type != MGMT_JSON_OBJECT)
            return false;
        uint64_t seq, time_ms;
        char type[40], subject[72], reason[72];
        long s = mgmt_json_object_get(&doc, index, "seq");
        long t = mgmt_json_object_get(&doc, index, "time_ms");
        if (s < 0 || t < 0 || !mgmt_json_number_u64(&doc, (size_t)s, &seq) ||
            !mgmt_json_number_u64(&doc, (size_t)t, &time_ms) ||
            !event_member_string(&doc, index, "type", type, sizeof(type)) ||
            !event_member_string(&doc, index, "partition", subject, sizeof(subject)) ||
            !event_member_string(&doc, index, "reason", reason, sizeof(reason)))
            return false;
        if (!subject[0] && !event_member_string(&doc, index, "address", subject, sizeof(subject)))
            return false;
        fprintf(out, "%6" PRIu64 " %9" PRIu64 ".%03" PRIu64 "s  %-18s %s%s%s\n", seq,
                time_ms / 1000, time_ms % 1000, type, subject, reason[0] ? "  " : "", reason);
        index = doc.tokens[index].next;
    }
    return true;
}

