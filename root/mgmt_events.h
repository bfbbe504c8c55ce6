/*
 * The appliance's event log (docs/api.md, GET /v1/events): partitions created, started,
 * stopped (with the reason), crashed (stopped by a triple fault or a hypervisor error) and
 * deleted; API logins that succeeded or failed, with the client's address. Bounded: the
 * last MGMT_EVENTS_MAX events are kept, each with a sequence number that only grows (the
 * first is 1), so a client asks for what followed the last one it saw (`?since=SEQ`) and
 * learns how many it missed when the log has moved past them.
 *
 * A successful login is one event per client address per MGMT_EVENTS_LOGIN_QUIET_MS (every
 * request carries the token; a log entry per request would drown the rest); every failed
 * one is logged (root/mgmt_auth.h already rate-limits them per address).
 *
 * Pure and host-testable: the caller says what time it is. One log, mgmt_events, written and
 * read on root VP 0 (the worker and the API both run there), so no lock.
 */
#ifndef HVFW_ROOT_MGMT_EVENTS_H
#define HVFW_ROOT_MGMT_EVENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MGMT_EVENTS_MAX 512
#define MGMT_EVENTS_NAME_MAX 32   /* a partition name (root/child_config.h allows less) */
#define MGMT_EVENTS_DETAIL_MAX 63 /* a stop reason, a client address */
#define MGMT_EVENTS_LOGIN_QUIET_MS (5u * 60u * 1000u)
#define MGMT_EVENTS_LOGIN_ADDRESSES 16

enum mgmt_event_type {
    MGMT_EVENT_PARTITION_CREATED,
    MGMT_EVENT_PARTITION_STARTED,
    MGMT_EVENT_PARTITION_STOPPED, /* detail: the reason (poweroff, hard-stop, ...) */
    MGMT_EVENT_PARTITION_CRASHED, /* detail: triple-fault or error */
    MGMT_EVENT_PARTITION_DELETED,
    MGMT_EVENT_LOGIN_OK,          /* detail: the client's address */
    MGMT_EVENT_LOGIN_FAILED,      /* detail: the client's address */
    MGMT_EVENT_TYPE_COUNT,
};

struct mgmt_event {
    uint64_t seq;
    uint64_t time_ms; /* the root's uptime */
    enum mgmt_event_type type;
    char partition[MGMT_EVENTS_NAME_MAX + 1]; /* "" for a login */
    char detail[MGMT_EVENTS_DETAIL_MAX + 1];  /* "" when none */
};

struct mgmt_event_log {
    struct mgmt_event events[MGMT_EVENTS_MAX]; /* seq s lives at (s - 1) % MAX */
    uint64_t next_seq;                         /* 1 + the last seq recorded */
    struct {
        char address[MGMT_EVENTS_DETAIL_MAX + 1];
        uint64_t time_ms;
    } logins[MGMT_EVENTS_LOGIN_ADDRESSES];     /* the last login_ok event per address */
};

extern struct mgmt_event_log mgmt_events;

void mgmt_event_log_init(struct mgmt_event_log *log);
/* Records an event; `partition` and `detail` may be NULL, are cut to their limits and
 * stripped of anything but printable ASCII. Returns its sequence number. */
uint64_t mgmt_event_record(struct mgmt_event_log *log, uint64_t now_ms,
                           enum mgmt_event_type type, const char *partition,
                           const char *detail);
/* A stop: "crashed" for triple-fault and error, else "stopped", with the reason. */
uint64_t mgmt_event_record_stop(struct mgmt_event_log *log, uint64_t now_ms,
                                const char *partition, const char *reason);
/* A successful login from `address`, recorded unless that address had one recorded within
 * MGMT_EVENTS_LOGIN_QUIET_MS. True if recorded. */
bool mgmt_event_login_ok(struct mgmt_event_log *log, uint64_t now_ms, const char *address);

/* The oldest sequence number still held (next_seq when the log is empty). */
uint64_t mgmt_event_log_first(const struct mgmt_event_log *log);
/* The event with sequence number `seq`, NULL if not held. */
const struct mgmt_event *mgmt_event_log_get(const struct mgmt_event_log *log, uint64_t seq);

/* "partition_created", "login_failed", ... */
const char *mgmt_event_type_name(enum mgmt_event_type type);

/* GET /v1/events (a route handler of root/mgmt_api.c; the log is mgmt_events). */
struct mgmt_route_match;
void mgmt_events_get(void *context, const struct mgmt_route_match *match);

#endif
