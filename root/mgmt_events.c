#include "root/mgmt_events.h"

#include <stdio.h>
#include <string.h>

#include "root/mgmt_api.h"
#include "root/mgmt_json.h"

struct mgmt_event_log mgmt_events = { .next_seq = 1 };

static const char *const type_names[MGMT_EVENT_TYPE_COUNT] = {
    [MGMT_EVENT_PARTITION_CREATED] = "partition_created",
    [MGMT_EVENT_PARTITION_STARTED] = "partition_started",
    [MGMT_EVENT_PARTITION_STOPPED] = "partition_stopped",
    [MGMT_EVENT_PARTITION_CRASHED] = "partition_crashed",
    [MGMT_EVENT_PARTITION_DELETED] = "partition_deleted",
    [MGMT_EVENT_LOGIN_OK] = "login_ok",
    [MGMT_EVENT_LOGIN_FAILED] = "login_failed",
};

const char *mgmt_event_type_name(enum mgmt_event_type type)
{
    return (unsigned)type < MGMT_EVENT_TYPE_COUNT ? type_names[type] : "unknown";
}

void mgmt_event_log_init(struct mgmt_event_log *log)
{
    memset(log, 0, sizeof(*log));
    log->next_seq = 1;
}

/* Printable ASCII only, cut to size: the text ends up in JSON and on terminals. */
static void printable_copy(char *out, size_t size, const char *in)
{
    size_t n = 0;
    for (; in && *in && n + 1 < size; in++)
        out[n++] = (*in >= 0x20 && *in < 0x7F) ? *in : '?';
    out[n] = '\0';
}

uint64_t mgmt_event_record(struct mgmt_event_log *log, uint64_t now_ms,
                           enum mgmt_event_type type, const char *partition,
                           const char *detail)
{
    uint64_t seq = log->next_seq++;
    struct mgmt_event *e = &log->events[(seq - 1) % MGMT_EVENTS_MAX];
    e->seq = seq;
    e->time_ms = now_ms;
    e->type = type;
    printable_copy(e->partition, sizeof(e->partition), partition);
    printable_copy(e->detail, sizeof(e->detail), detail);
    return seq;
}

uint64_t mgmt_event_record_stop(struct mgmt_event_log *log, uint64_t now_ms,
                                const char *partition, const char *reason)
{
    bool crashed = reason && (strcmp(reason, "triple-fault") == 0 || strcmp(reason, "error") == 0);
    return mgmt_event_record(log, now_ms,
                             crashed ? MGMT_EVENT_PARTITION_CRASHED : MGMT_EVENT_PARTITION_STOPPED,
                             partition, reason);
}

bool mgmt_event_login_ok(struct mgmt_event_log *log, uint64_t now_ms, const char *address)
{
    size_t slot = MGMT_EVENTS_LOGIN_ADDRESSES, oldest = 0;
    for (size_t i = 0; i < MGMT_EVENTS_LOGIN_ADDRESSES && slot == MGMT_EVENTS_LOGIN_ADDRESSES; i++)
        if (log->logins[i].address[0] && strcmp(log->logins[i].address, address) == 0)
            slot = i;
    if (slot < MGMT_EVENTS_LOGIN_ADDRESSES &&
        now_ms - log->logins[slot].time_ms < MGMT_EVENTS_LOGIN_QUIET_MS)
        return false;
    if (slot == MGMT_EVENTS_LOGIN_ADDRESSES) { /* a free entry, else the oldest */
        for (size_t i = 0; i < MGMT_EVENTS_LOGIN_ADDRESSES; i++) {
            if (!log->logins[i].address[0]) {
                oldest = i;
                break;
            }
            if (log->logins[i].time_ms < log->logins[oldest].time_ms)
                oldest = i;
        }
        slot = oldest;
    }
    printable_copy(log->logins[slot].address, sizeof(log->logins[slot].address), address);
    log->logins[slot].time_ms = now_ms;
    mgmt_event_record(log, now_ms, MGMT_EVENT_LOGIN_OK, NULL, address);
    return true;
}

uint64_t mgmt_event_log_first(const struct mgmt_event_log *log)
{
    return log->next_seq > MGMT_EVENTS_MAX ? log->next_seq - MGMT_EVENTS_MAX : 1;
}

const struct mgmt_event *mgmt_event_log_get(const struct mgmt_event_log *log, uint64_t seq)
{
    if (seq < mgmt_event_log_first(log) || seq >= log->next_seq)
        return NULL;
    return &log->events[(seq - 1) % MGMT_EVENTS_MAX];
}

void mgmt_events_get(void *context, const struct mgmt_route_match *match)
{
    (void)match;
    const struct mgmt_http_request *request = mgmt_api_call_request(context);
    uint64_t since;
    bool present;
    const char *why = NULL;
    if (!mgmt_api_query_number(request->query, "since", &present, &since, &why)) {
        mgmt_api_call_fail(context, 400, "the only query parameter is since=SEQ (decimal)");
        return;
    }
    const struct mgmt_event_log *log = &mgmt_events;
    uint64_t first = mgmt_event_log_first(log);
    /* Events after `since` that the log no longer holds. */
    uint64_t lost = since + 1 < first ? first - (since + 1) : 0;
    size_t size;
    char *body = mgmt_api_call_body(context, &size);
    struct mgmt_json_writer w;
    mgmt_json_writer_init(&w, body, size);
    mgmt_json_begin_object(&w);
    mgmt_json_key(&w, "events");
    mgmt_json_begin_array(&w);
    for (uint64_t seq = since + 1 > first ? since + 1 : first; seq < log->next_seq; seq++) {
        const struct mgmt_event *e = mgmt_event_log_get(log, seq);
        if (!e)
            break; /* cannot happen: seq is between first and next */
        mgmt_json_begin_object(&w);
        mgmt_json_key(&w, "seq");
        mgmt_json_u64(&w, e->seq);
        mgmt_json_key(&w, "time_ms");
        mgmt_json_u64(&w, e->time_ms);
        mgmt_json_key(&w, "type");
        mgmt_json_string(&w, mgmt_event_type_name(e->type));
        if (e->type == MGMT_EVENT_LOGIN_OK || e->type == MGMT_EVENT_LOGIN_FAILED) {
            mgmt_json_key(&w, "address");
            mgmt_json_string(&w, e->detail);
        } else {
            mgmt_json_key(&w, "partition");
            mgmt_json_string(&w, e->partition);
            if (e->type == MGMT_EVENT_PARTITION_STOPPED || e->type == MGMT_EVENT_PARTITION_CRASHED) {
                mgmt_json_key(&w, "reason");
                mgmt_json_string(&w, e->detail);
            }
        }
        mgmt_json_end_object(&w);
    }
    mgmt_json_end_array(&w);
    mgmt_json_key(&w, "first_seq");
    mgmt_json_u64(&w, first);
    mgmt_json_key(&w, "next_seq");
    mgmt_json_u64(&w, log->next_seq);
    mgmt_json_key(&w, "lost");
    mgmt_json_u64(&w, lost);
    mgmt_json_end_object(&w);
    mgmt_api_call_json(context, 200, &w);
}
