/*
 * The management server: lwIP altcp callbacks around root/mgmt_http.h and root/mgmt_api.h,
 * the root's facts for the API, and the loopback self-test. See mgmt_server.h.
 */
#include "root/mgmt_server.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lwip/altcp_tcp.h"
#include "lwip/altcp_tls.h"
#include "lwip/netif.h"
#include "lwip/pbuf.h"
#include "lwip/tcp.h"
#include "lwip/timeouts.h"

#include "hv/root_abi.h"
#include "kernel/cmdline.h"
#include "libc-glue/heap.h"
#include "libc-glue/random.h"
#include "libc-glue/time.h"
#include "root/hvcall.h"
#include "root/log.h"
#include "root/memory.h"
#include "root/mgmt_console.h"
#include "root/mgmt_events.h"
#include "root/mgmt_json.h"
#include "root/mgmt_tls.h"
#include "root/platform.h"
#include "root/vmms.h"

/* lwIP polls a connection every interval * 500 ms (TCP_SLOW_INTERVAL, tcp.c). */
#define POLL_INTERVAL 2
/* test.mgmt_requests: how long the last answer has to leave before the run ends. */
#define TEST_SHUTDOWN_DELAY_MS 500

/* Test only (QEMU cases): power off after this many answers; 0: never. */
static uint64_t test_requests_limit;

struct mgmt_connection {
    struct mgmt_server *server;
    struct altcp_pcb *pcb;
    struct mgmt_auth_source source;
    struct pbuf *pending;   /* received, not parsed yet; owned */
    size_t pending_offset;  /* bytes of `pending` already parsed */
    char *out;              /* the response being queued, malloc'd */
    size_t out_length, out_queued;
    bool close_after;       /* close once `out` is queued */
    bool peer_closed;       /* FIN received: answer what is complete, then close */
    uint64_t last_progress_ms;
    uint64_t request_started_ms; /* 0: between requests */
    uint64_t accepted_ms;
    uint64_t answered;           /* responses queued on this connection */
    /* After a 101: the console stream the connection carries (root/mgmt_console.h); the
     * HTTP parser is done with it. */
    struct mgmt_console_session *console;
    struct mgmt_http_parser parser;
};

static struct mgmt_server *active_server; /* the appliance's, for mgmt_server_poll */

static uint64_t now_ms(void)
{
    return libc_uptime_ns() / 1000000;
}

static void source_of(struct altcp_pcb *pcb, struct mgmt_auth_source *out)
{
    memset(out, 0, sizeof(*out));
    const ip_addr_t *remote = altcp_get_ip(pcb, 0);
    if (remote && IP_IS_V6(remote)) {
        out->family = 6;
        memcpy(out->address, ip_2_ip6(remote)->addr, 16); /* network order already */
    } else if (remote) {
        out->family = 4;
        memcpy(out->address, &ip_2_ip4(remote)->addr, 4);
    }
}

static void detach(struct altcp_pcb *pcb)
{
    altcp_arg(pcb, NULL);
    altcp_recv(pcb, NULL);
    altcp_sent(pcb, NULL);
    altcp_err(pcb, NULL);
    altcp_poll(pcb, NULL, 0);
}

/* Frees the connection's state; its pcb is already closed, aborted or freed by lwIP. */
static void connection_free(struct mgmt_connection *c)
{
    struct mgmt_server *server = c->server;
    for (size_t i = 0; i < MGMT_SERVER_CONNECTIONS_MAX; i++)
        if (server->connections[i] == c)
            server->connections[i] = NULL;
    if (c->pending)
        pbuf_free(c->pending);
    free(c->out);
    free(c->console);
    free(c);
}

/* Returns ERR_ABRT if the pcb had to be aborted (a callback must then return it). */
static err_t connection_close(struct mgmt_connection *c)
{
    struct altcp_pcb *pcb = c->pcb;
    detach(pcb);
    connection_free(c);
    if (altcp_close(pcb) != ERR_OK) {
        altcp_abort(pcb); /* no memory for the FIN: reset instead */
        return ERR_ABRT;
    }
    return ERR_OK;
}

static err_t connection_abort(struct mgmt_connection *c)
{
    struct altcp_pcb *pcb = c->pcb;
    detach(pcb);
    connection_free(c);
    altcp_abort(pcb);
    return ERR_ABRT;
}

/* Queues as much of the response as lwIP takes now; the rest from the sent callback. */
static err_t send_some(struct mgmt_connection *c)
{
    while (c->out && c->out_queued < c->out_length) {
        size_t n = c->out_length - c->out_queued;
        u16_t room = altcp_sndbuf(c->pcb);
        if (n > room)
            n = room;
        if (n == 0)
            break;
        err_t err = altcp_write(c->pcb, c->out + c->out_queued, (u16_t)n, TCP_WRITE_FLAG_COPY);
        if (err == ERR_MEM)
            break;
        if (err != ERR_OK)
            return connection_abort(c);
        c->out_queued += n;
        c->last_progress_ms = now_ms();
    }
    if (altcp_output(c->pcb) != ERR_OK)
        return connection_abort(c);
    if (c->out && c->out_queued == c->out_length) {
        free(c->out); /* copied into lwIP's segments */
        c->out = NULL;
        if (c->close_after)
            return connection_close(c);
    }
    return ERR_OK;
}

static void test_shutdown(void *arg)
{
    (void)arg;
    printf("root: mgmt: %llu requests answered (test.mgmt_requests); shutting down\n",
           (unsigned long long)test_requests_limit);
    hvcall_shutdown(0);
}

/* Arms the test-only shutdown once test.mgmt_requests answers have gone out. */
static void count_answer(struct mgmt_server *server)
{
    uint64_t answered = 0;
    for (size_t i = 0; i < MGMT_API_STATUS_SLOTS; i++)
        answered += server->api.requests[i];
    if (test_requests_limit && answered == test_requests_limit)
        sys_timeout(TEST_SHUTDOWN_DELAY_MS, test_shutdown, NULL);
}

static err_t respond(struct mgmt_connection *c, bool ok, struct mgmt_api_response *response)
{
    if (!ok) { /* no memory even for an error response */
        root_warn("mgmt: no memory for a response; connection reset");
        return connection_abort(c);
    }
    count_answer(c->server);
    c->answered++;
    c->out = response->data;
    c->out_length = response->length;
    c->out_queued = 0;
    c->close_after = !response->keep_alive;
    c->request_started_ms = 0;
    if (response->status == 101 && response->upgrade_console[0]) {
        c->console = malloc(sizeof(*c->console));
        if (!c->console) {
            root_warn("mgmt: no memory for a console stream; connection reset");
            return connection_abort(c);
        }
        mgmt_console_session_init(c->console, response->upgrade_console,
                                   response->upgrade_position, now_ms());
    }
    return send_some(c);
}

/* The next unparsed bytes of `pending`, NULL when all are parsed. */
static const uint8_t *pending_bytes(struct mgmt_connection *c, size_t *length)
{
    size_t offset = c->pending_offset;
    for (struct pbuf *q = c->pending; q; q = q->next) {
        if (offset < q->len) {
            *length = q->len - offset;
            return (const uint8_t *)q->payload + offset;
        }
        offset -= q->len;
    }
    return NULL;
}

static void pending_consume(struct mgmt_connection *c, size_t n)
{
    c->pending_offset += n;
    for (size_t left = n; left > 0;) { /* the window opens by what was parsed */
        u16_t step = left > 0xFFFF ? 0xFFFF : (u16_t)left;
        altcp_recved(c->pcb, step);
        left -= step;
    }
    if (c->pending && c->pending_offset >= c->pending->tot_len) {
        pbuf_free(c->pending);
        c->pending = NULL;
        c->pending_offset = 0;
    }
}

static bool connection_alive(struct mgmt_server *server, struct mgmt_connection *c)
{
    for (size_t i = 0; i < MGMT_SERVER_CONNECTIONS_MAX; i++)
        if (server->connections[i] == c)
            return true;
    return false;
}

/* A console stream's frames, as many as the send buffer takes now; the rest from the sent
 * callback or mgmt_server_poll. */
static err_t console_pump(struct mgmt_connection *c, bool *moved)
{
    static uint8_t frames[MGMT_CONSOLE_DATA_FRAME_MAX + 256];
    bool wrote = false;
    while (!c->out && !c->console->finished) {
        size_t room = altcp_sndbuf(c->pcb);
        if (room > sizeof(frames))
            room = sizeof(frames);
        size_t n = mgmt_console_session_output(c->console, frames, room, now_ms());
        if (n == 0)
            break;
        err_t err = altcp_write(c->pcb, frames, (u16_t)n, TCP_WRITE_FLAG_COPY);
        if (err != ERR_OK) /* room was checked: no memory for segments */
            return connection_abort(c);
        wrote = true;
        c->last_progress_ms = now_ms();
    }
    if (wrote && altcp_output(c->pcb) != ERR_OK)
        return connection_abort(c);
    if (moved)
        *moved = *moved || wrote;
    if (c->console->finished) /* our close frame is queued: FIN after it */
        return connection_close(c);
    return ERR_OK;
}

/* A console stream: client frames in as far as the child's input takes them, output out. */
static err_t console_process(struct mgmt_connection *c, bool *moved)
{
    mgmt_console_session_flush_input(c->console);
    for (;;) {
        size_t length = 0;
        const uint8_t *bytes = pending_bytes(c, &length);
        if (!bytes)
            break;
        size_t taken = mgmt_console_session_receive(c->console, bytes, length, now_ms());
        pending_consume(c, taken);
        if (moved && taken)
            *moved = true;
        if (mgmt_console_session_flush_input(c->console) && moved)
            *moved = true;
        if (taken < length)
            break; /* input full, or a control answer must go first */
    }
    err_t err = console_pump(c, moved);
    if (err != ERR_OK || !connection_alive(c->server, c))
        return err;
    if (c->peer_closed && !c->out)
        return connection_close(c);
    return ERR_OK;
}

/* Parses and answers what has arrived, one request at a time. */
static err_t process(struct mgmt_connection *c)
{
    struct mgmt_server *server = c->server;
    if (c->console)
        return c->out ? ERR_OK : console_process(c, NULL);
    while (!c->out) {
        if (c->console) /* the request just answered was a console's upgrade */
            return console_process(c, NULL);
        size_t length = 0;
        const uint8_t *bytes = pending_bytes(c, &length);
        if (!bytes)
            break;
        if (c->request_started_ms == 0)
            c->request_started_ms = now_ms();
        size_t consumed;
        enum mgmt_http_result result = mgmt_http_parse(&c->parser, bytes, length, &consumed);
        pending_consume(c, consumed);
        c->last_progress_ms = now_ms();
        struct mgmt_api_response response;
        if (result == MGMT_HTTP_REQUEST) {
            bool ok = mgmt_api_handle(&server->api, &c->parser.request, &c->source, now_ms(),
                                      &response);
            mgmt_http_parser_next(&c->parser);
            err_t err = respond(c, ok, &response);
            if (err != ERR_OK || !connection_alive(server, c)) /* closed or aborted */
                return err;
        } else if (result == MGMT_HTTP_ERROR) {
            bool ok = mgmt_api_refuse(&server->api, c->parser.error_status,
                                      c->parser.error_reason, &c->source, &response);
            return respond(c, ok, &response); /* closes after it: the stream is lost */
        } else if (consumed == 0) {
            break; /* cannot happen (NEED_MORE takes every byte); never spin on it */
        }
    }
    if (c->peer_closed && !c->out && !pending_bytes(c, &(size_t){ 0 }))
        return connection_close(c);
    return ERR_OK;
}

static err_t on_recv(void *arg, struct altcp_pcb *pcb, struct pbuf *p, err_t err)
{
    (void)pcb;
    struct mgmt_connection *c = arg;
    if (!c) { /* a connection being turned away */
        if (p)
            pbuf_free(p);
        return ERR_OK;
    }
    if (err != ERR_OK) {
        if (p)
            pbuf_free(p);
        return connection_abort(c);
    }
    if (!p) {
        c->peer_closed = true;
    } else if (c->pending) {
        pbuf_cat(c->pending, p); /* takes the reference */
    } else {
        c->pending = p;
        c->pending_offset = 0;
    }
    return process(c);
}

static err_t on_sent(void *arg, struct altcp_pcb *pcb, u16_t length)
{
    (void)pcb;
    (void)length;
    struct mgmt_connection *c = arg;
    if (!c)
        return ERR_OK;
    struct mgmt_server *server = c->server;
    err_t err = send_some(c);
    if (err != ERR_OK || !connection_alive(server, c))
        return err;
    return process(c); /* a pipelined request may be waiting */
}

static void on_error(void *arg, err_t err)
{
    (void)err;
    struct mgmt_connection *c = arg;
    if (c)
        connection_free(c); /* lwIP has freed the pcb */
}

static err_t on_poll(void *arg, struct altcp_pcb *pcb)
{
    (void)pcb;
    struct mgmt_connection *c = arg;
    if (!c)
        return ERR_OK;
    uint64_t now = now_ms();
    char address[48];
    mgmt_auth_source_format(&c->source, address, sizeof(address));
    if ((c->out || (c->console && mgmt_console_session_pending(c->console))) &&
        now - c->last_progress_ms > MGMT_SERVER_SEND_MS) {
        root_warn("mgmt: %s does not take its response; connection reset", address);
        return connection_abort(c);
    }
    if (c->console) /* pings and the silence limit are the stream's (mgmt_console.h) */
        return c->out ? ERR_OK : console_process(c, NULL);
    bool mid_request = c->request_started_ms != 0 &&
                       (c->parser.head_length > 0 || c->parser.state != MGMT_HTTP_STATE_HEAD);
    if (!c->out && mid_request && now - c->request_started_ms > MGMT_SERVER_REQUEST_MS) {
        struct mgmt_api_response response;
        bool ok = mgmt_api_refuse(&c->server->api, 408, "the request did not arrive in time",
                                  &c->source, &response);
        return respond(c, ok, &response);
    }
    /* A slot is held only by a client that gets going: its first request (over TLS: its
     * handshake, then the request) must begin within MGMT_SERVER_REQUEST_MS of the accept.
     * A handshake that stalls would otherwise hold its slot for the idle limit and turn
     * every newcomer away meanwhile (measured: 8 slots held 60 s under 100 connections). */
    if (!c->out && !mid_request && c->answered == 0 &&
        now - c->accepted_ms > MGMT_SERVER_REQUEST_MS) {
        root_warn("mgmt: %s sent no request within %u s of connecting; closed", address,
                  MGMT_SERVER_REQUEST_MS / 1000);
        return connection_abort(c);
    }
    if (!c->out && !mid_request && now - c->last_progress_ms > MGMT_SERVER_IDLE_MS)
        return connection_close(c);
    return ERR_OK;
}

/* The 503 for one connection too many, written at once into its send buffer. */
static void write_refusal(struct mgmt_server *server, struct altcp_pcb *pcb)
{
    struct mgmt_auth_source source;
    source_of(pcb, &source);
    struct mgmt_api_response response;
    if (mgmt_api_refuse(&server->api, 503, "too many connections; retry later", &source,
                        &response)) {
        if (response.length <= altcp_sndbuf(pcb))
            altcp_write(pcb, response.data, (u16_t)response.length, TCP_WRITE_FLAG_COPY);
        free(response.data);
        count_answer(server);
    }
}

/* Over TLS nothing can be sent before the handshake (altcp_tls has no send buffer until
 * then), so one connection too many is kept until its first request bytes arrive, then
 * answered 503 and closed: at most MGMT_SERVER_REFUSING_MAX at once (beyond: reset), none
 * for longer than MGMT_SERVER_REQUEST_MS. Each holds its TLS state meanwhile, which is
 * what the bound is for. */
struct refusal {
    struct mgmt_server *server;
    uint64_t accepted_ms;
};

static void refusal_end(struct refusal *r)
{
    r->server->refusing--;
    free(r);
}

static err_t on_refused_recv(void *arg, struct altcp_pcb *pcb, struct pbuf *p, err_t err)
{
    struct refusal *r = arg;
    struct mgmt_server *server = r->server;
    if (p) {
        altcp_recved(pcb, p->tot_len);
        pbuf_free(p);
    }
    detach(pcb);
    refusal_end(r);
    if (p && err == ERR_OK)
        write_refusal(server, pcb);
    if (altcp_close(pcb) != ERR_OK) {
        altcp_abort(pcb);
        return ERR_ABRT;
    }
    return ERR_OK;
}

static void on_refused_error(void *arg, err_t err)
{
    (void)err;
    refusal_end(arg); /* lwIP has freed the pcb */
}

static err_t on_refused_poll(void *arg, struct altcp_pcb *pcb)
{
    struct refusal *r = arg;
    if (now_ms() - r->accepted_ms <= MGMT_SERVER_REQUEST_MS)
        return ERR_OK;
    detach(pcb);
    refusal_end(r);
    altcp_abort(pcb);
    return ERR_ABRT;
}

/* One connection too many: a 503 now (plain TCP), after the handshake (TLS), or a reset
 * when MGMT_SERVER_REFUSING_MAX refusals already wait. ERR_ABRT if the pcb was aborted. */
static err_t turn_away(struct mgmt_server *server, struct altcp_pcb *pcb)
{
    server->refused_busy++;
    if (!server->tls) {
        write_refusal(server, pcb);
        detach(pcb);
        if (altcp_close(pcb) != ERR_OK) {
            altcp_abort(pcb);
            return ERR_ABRT;
        }
        return ERR_OK;
    }
    struct refusal *r = server->refusing < MGMT_SERVER_REFUSING_MAX ? malloc(sizeof(*r)) : NULL;
    if (!r) {
        detach(pcb);
        altcp_abort(pcb);
        return ERR_ABRT;
    }
    r->server = server;
    r->accepted_ms = now_ms();
    server->refusing++;
    altcp_arg(pcb, r);
    altcp_recv(pcb, on_refused_recv);
    altcp_sent(pcb, NULL);
    altcp_err(pcb, on_refused_error);
    altcp_poll(pcb, on_refused_poll, POLL_INTERVAL);
    return ERR_OK;
}

static err_t on_accept(void *arg, struct altcp_pcb *pcb, err_t err)
{
    struct mgmt_server *server = arg;
    if (err != ERR_OK || !pcb)
        return ERR_VAL;
    size_t slot = MGMT_SERVER_CONNECTIONS_MAX;
    for (size_t i = 0; i < MGMT_SERVER_CONNECTIONS_MAX && slot == MGMT_SERVER_CONNECTIONS_MAX; i++)
        if (!server->connections[i])
            slot = i;
    if (slot == MGMT_SERVER_CONNECTIONS_MAX)
        return turn_away(server, pcb);
    struct mgmt_connection *c = malloc(sizeof(*c));
    if (!c) {
        root_warn("mgmt: no memory for a connection; reset");
        altcp_abort(pcb);
        return ERR_ABRT;
    }
    memset(c, 0, offsetof(struct mgmt_connection, parser));
    mgmt_http_parser_init(&c->parser);
    c->server = server;
    c->pcb = pcb;
    c->last_progress_ms = c->accepted_ms = now_ms();
    source_of(pcb, &c->source);
    server->connections[slot] = c;
    server->accepted++;
    altcp_arg(pcb, c);
    altcp_recv(pcb, on_recv);
    altcp_sent(pcb, on_sent);
    altcp_err(pcb, on_error);
    altcp_poll(pcb, on_poll, POLL_INTERVAL);
    altcp_nagle_disable(pcb); /* responses are whole: send them at once */
    return ERR_OK;
}

bool mgmt_server_listen(struct mgmt_server *server, const ip_addr_t *address, uint16_t port,
                        const struct mgmt_api_source *source)
{
    memset(server->connections, 0, sizeof(server->connections));
    server->accepted = server->refused_busy = 0;
    server->refusing = 0;
    mgmt_api_init(&server->api, &server->auth, source);
    u8_t type = address ? IP_GET_TYPE(address) : IPADDR_TYPE_ANY;
    /* With TLS every accepted connection is wrapped by altcp_tls: the HTTP code above sees
     * only plaintext, through the same altcp calls. */
    struct altcp_pcb *pcb = server->tls ? altcp_tls_new(server->tls, type)
                                        : altcp_tcp_new_ip_type(type);
    if (!pcb)
        return false;
    err_t err = altcp_bind(pcb, address ? address : IP_ANY_TYPE, port);
    if (err != ERR_OK) {
        altcp_close(pcb);
        return false;
    }
    server->listener = altcp_listen_with_backlog_and_err(pcb, MGMT_SERVER_CONNECTIONS_MAX, &err);
    if (!server->listener) {
        altcp_close(pcb);
        return false;
    }
    altcp_arg(server->listener, server);
    altcp_accept(server->listener, on_accept);
    return true;
}

bool mgmt_server_poll(void)
{
    struct mgmt_server *server = active_server;
    bool moved = false;
    for (size_t i = 0; server && i < MGMT_SERVER_CONNECTIONS_MAX; i++) {
        struct mgmt_connection *c = server->connections[i];
        if (c && c->console && !c->out)
            console_process(c, &moved);
    }
    return moved;
}

void mgmt_server_stop(struct mgmt_server *server)
{
    for (size_t i = 0; i < MGMT_SERVER_CONNECTIONS_MAX; i++)
        if (server->connections[i])
            connection_abort(server->connections[i]);
    if (server->listener) {
        altcp_accept(server->listener, NULL);
        if (altcp_close(server->listener) != ERR_OK)
            altcp_abort(server->listener);
        server->listener = NULL;
    }
}

/* --- the root's facts ---------------------------------------------------------------------- */

static struct child *served_children;
static size_t served_child_count;

static void root_host(struct mgmt_api_host *out)
{
    struct heap_stats heap;
    heap_get_stats(&heap);
    *out = (struct mgmt_api_host){
        .uptime_ns = libc_uptime_ns(),
        .cpus = root_boot_info->vp_count,
        .root_memory_bytes = root_memory_total_bytes(),
        .root_memory_free_bytes = root_memory_free_bytes(),
        .heap_size_bytes = heap.size,
        .heap_used_bytes = heap.used,
        .machine_memory_bytes = root_boot_info->machine_memory_bytes,
        .hypervisor_memory_bytes = root_boot_info->hypervisor_memory_bytes,
    };
}

static size_t root_partitions(struct mgmt_api_partition *out, size_t max)
{
    size_t count = 0;
    for (size_t i = 0; i < served_child_count; i++) {
        struct child *child = &served_children[i];
        if (!child->config.name[0])
            continue; /* a free slot of the VMMS's table */
        if (count++ >= max)
            continue;
        struct mgmt_api_partition *p = &out[count - 1];
        memset(p, 0, sizeof(*p));
        snprintf(p->name, sizeof(p->name), "%s", child->config.name);
        snprintf(p->module, sizeof(p->module), "%s", child->config.module);
        p->id = child->partition_id;
        p->state = child->running ? "running" : child->failed ? "failed" : "stopped";
        p->memory_bytes = (uint64_t)child->config.memory_mib << 20;
        p->vp_count = child->config.vp_count;
        p->has_exit_code = child->has_exit_code;
        p->exit_code = child->exit_code;
        worker_child_read_statistics(child);
        p->has_statistics = child->has_statistics;
        p->exits = child->exits;
        p->cpu_time_ms = child->run_time_ns / 1000000;
    }
    return count;
}

/* The VMMS's answer as an HTTP status (docs/api.md, "Errors"). */
static int vmms_status(enum vmms_result result, int done)
{
    switch (result) {
    case VMMS_OK: return done;
    case VMMS_NOT_FOUND: return 404;
    case VMMS_CONFLICT: return 409;
    case VMMS_INVALID: return 400;
    case VMMS_NO_MEMORY: return 507;
    case VMMS_FAILED: break;
    }
    return 500;
}

static int root_act(const char *name, enum mgmt_api_action action, char *why, size_t why_size)
{
    switch (action) {
    case MGMT_API_START: return vmms_status(vmms_child_start(name, why, why_size), 202);
    case MGMT_API_STOP: return vmms_status(vmms_child_stop(name, why, why_size), 202);
    case MGMT_API_RESET: return vmms_status(vmms_child_reset(name, why, why_size), 202);
    case MGMT_API_DELETE: return vmms_status(vmms_child_delete(name, why, why_size), 204);
    }
    snprintf(why, why_size, "unknown action");
    return 500;
}

static int root_create(const struct mgmt_api_create *spec, char *why, size_t why_size)
{
    const struct vmms_child_spec child = {
        .name = spec->name, .kernel = spec->kernel, .initrd = spec->initrd,
        .cmdline = spec->cmdline, .memory_mib = spec->memory_mib, .vp_count = spec->vp_count,
    };
    return vmms_status(vmms_child_create(&child, why, why_size), 201);
}

/* --- the children's consoles (root/mgmt_console.h) ---------------------------------------- */

static struct child *served_child(const char *name)
{
    for (size_t i = 0; i < served_child_count; i++)
        if (served_children[i].config.name[0] &&
            strcmp(served_children[i].config.name, name) == 0)
            return &served_children[i];
    return NULL;
}

static const struct console_buffer *root_console_buffer(const char *name)
{
    struct child *child = served_child(name);
    return child ? &child->console : NULL;
}

static size_t root_console_input(const char *name, const uint8_t *bytes, size_t length)
{
    struct child *child = served_child(name);
    return child && child->running ? worker_console_input(child, bytes, length) : 0;
}

static const struct mgmt_console_source root_console_source = {
    root_console_buffer, root_console_input,
};

static void root_log_line(const char *line)
{
    root_warn("%s", line);
}

static const struct mgmt_api_source root_source = {
    root_host, root_partitions, root_log_line, root_act, root_create,
};

void mgmt_server_serve_children(struct child *children, size_t count)
{
    served_children = children;
    served_child_count = count;
    mgmt_console_serve(&root_console_source);
}

bool mgmt_server_start(const char *cmdline)
{
    static struct mgmt_server server;
    char value[16];
    if (cmdline_get(cmdline, "mgmt", value, sizeof(value)) && strcmp(value, "off") == 0) {
        printf("root: mgmt: API off (mgmt=off)\n");
        return false;
    }
    bool insecure = cmdline_get(cmdline, "mgmt.insecure_http", value, sizeof(value)) &&
                    strcmp(value, "1") == 0;
    unsigned long port = insecure ? MGMT_SERVER_PORT_INSECURE : MGMT_SERVER_PORT_DEFAULT;
    if (cmdline_get(cmdline, "mgmt.port", value, sizeof(value))) {
        char *end;
        unsigned long wanted = strtoul(value, &end, 10);
        if (*end == '\0' && wanted >= 1 && wanted <= 65535)
            port = wanted;
        else
            root_warn("mgmt: mgmt.port=%s is not a port number; using %lu", value, port);
    }
    if (cmdline_get(cmdline, "test.mgmt_requests", value, sizeof(value)))
        test_requests_limit = strtoull(value, NULL, 10);
    mgmt_auth_init(&server.auth);
    char message[MGMT_AUTH_MESSAGE_MAX + 64];
    if (mgmt_auth_provision_from_cmdline(&server.auth, cmdline, message, sizeof(message)))
        root_info("mgmt: %s", message);
    else
        root_warn("mgmt: %s", message);
    /* The identity TLS serves, new each boot until there is a store; its fingerprint on
     * the console is what clients pin. */
    static struct mgmt_tls_identity identity;
    char why[128];
    uint64_t start_ns = libc_uptime_ns();
    bool have_identity = mgmt_tls_identity_create("hvfw", &identity, why, sizeof(why));
    if (have_identity)
        printf("root: mgmt: TLS certificate CN=hvfw (ECDSA P-256, self-signed, %zu bytes, "
               "%llu ms) sha256 fingerprint %s\n",
               identity.certificate_length,
               (unsigned long long)((libc_uptime_ns() - start_ns) / 1000000),
               identity.fingerprint_text);
    else
        root_warn("mgmt: no TLS identity: %s", why);
    server.tls = NULL;
    if (!insecure) {
        if (!have_identity) {
            root_error("mgmt: no TLS identity, so no API (mgmt.insecure_http=1 serves plain "
                       "HTTP, for tests on a closed network only)");
            return false;
        }
        server.tls = altcp_tls_create_config_server_privkey_cert(
            identity.key, identity.key_length, NULL, 0, identity.certificate,
            identity.certificate_length);
        if (!server.tls) {
            root_error("mgmt: altcp_tls refused the TLS identity; no API");
            return false;
        }
    }
    if (!mgmt_server_listen(&server, NULL, (uint16_t)port, &root_source)) {
        root_error("mgmt: cannot listen on TCP port %lu", port);
        return false;
    }
    active_server = &server;
    if (insecure)
        printf("root: mgmt: API listening on TCP port %lu: PLAIN HTTP/1.1 (mgmt.insecure_http=1): "
               "the token and every answer cross the network in the clear; tests only\n", port);
    else
        printf("root: mgmt: API listening on TCP port %lu (HTTPS: TLS 1.2, HTTP/1.1)\n", port);
    return true;
}

/* --- self-test over the loopback interface --------------------------------------------------- */

#define SELFTEST_PORT 8081
#define SELFTEST_TIME_LIMIT_MS 5000
#define SELFTEST_REPLY_MAX 8192

struct selftest {
    struct altcp_pcb *client;
    bool connected, closed, failed;
    char token[40];
    char reply[SELFTEST_REPLY_MAX];
    size_t reply_length;
    char failure[128];
};

static err_t selftest_recv(void *arg, struct altcp_pcb *pcb, struct pbuf *p, err_t err)
{
    struct selftest *t = arg;
    if (!p || err != ERR_OK) {
        if (p)
            pbuf_free(p);
        t->closed = true;
        return ERR_OK;
    }
    if (p->tot_len > sizeof(t->reply) - 1 - t->reply_length) {
        snprintf(t->failure, sizeof(t->failure), "more than %d bytes of replies",
                 SELFTEST_REPLY_MAX);
        t->failed = true;
    } else {
        pbuf_copy_partial(p, t->reply + t->reply_length, p->tot_len, 0);
        t->reply_length += p->tot_len;
        t->reply[t->reply_length] = '\0';
    }
    altcp_recved(pcb, p->tot_len);
    pbuf_free(p);
    return ERR_OK;
}

static void selftest_error(void *arg, err_t err)
{
    struct selftest *t = arg;
    t->client = NULL;
    t->closed = true;
    if (!t->failed) {
        snprintf(t->failure, sizeof(t->failure), "client connection error %d", (int)err);
        t->failed = true;
    }
}

static err_t selftest_connected(void *arg, struct altcp_pcb *pcb, err_t err)
{
    struct selftest *t = arg;
    static char requests[1024];
    const char *token = t->token;
    if (err != ERR_OK)
        return ERR_OK;
    /* Pipelined: no token, the token, an unknown partition (and close). */
    int n = snprintf(requests, sizeof(requests),
                     "GET /v1/host HTTP/1.1\r\nHost: selftest\r\n\r\n"
                     "GET /v1/host HTTP/1.1\r\nHost: selftest\r\nAuthorization: Bearer %s\r\n\r\n"
                     "GET /v1/partitions/nobody HTTP/1.1\r\nHost: selftest\r\n"
                     "Authorization: Bearer %s\r\nConnection: close\r\n\r\n",
                     token, token);
    if (altcp_write(pcb, requests, (u16_t)n, TCP_WRITE_FLAG_COPY) != ERR_OK ||
        altcp_output(pcb) != ERR_OK) {
        snprintf(t->failure, sizeof(t->failure), "client write failed");
        t->failed = true;
    }
    t->connected = true;
    return ERR_OK;
}

/* Splits the replies: status and body of each, in order. */
static bool selftest_check(struct selftest *t, char *host_json, size_t size)
{
    static const int expected[] = { 401, 200, 404 };
    const char *p = t->reply;
    for (size_t i = 0; i < 3; i++) {
        int status;
        if (sscanf(p, "HTTP/1.1 %d ", &status) != 1) {
            snprintf(t->failure, sizeof(t->failure), "reply %zu is not HTTP/1.1", i + 1);
            return false;
        }
        const char *length_field = strstr(p, "Content-Length: ");
        const char *body = strstr(p, "\r\n\r\n");
        if (!length_field || !body || length_field > body) {
            snprintf(t->failure, sizeof(t->failure), "reply %zu has no Content-Length", i + 1);
            return false;
        }
        size_t length = strtoul(length_field + 16, NULL, 10);
        body += 4;
        if ((size_t)(t->reply + t->reply_length - body) < length) {
            snprintf(t->failure, sizeof(t->failure), "reply %zu is cut short", i + 1);
            return false;
        }
        if (status != expected[i]) {
            snprintf(t->failure, sizeof(t->failure), "reply %zu is %d, expected %d", i + 1,
                     status, expected[i]);
            return false;
        }
        struct mgmt_json_token tokens[64];
        struct mgmt_json_document doc;
        if (!mgmt_json_parse(&doc, body, length, tokens, 64)) {
            snprintf(t->failure, sizeof(t->failure), "reply %zu: JSON %s at %zu", i + 1,
                     doc.error, doc.error_offset);
            return false;
        }
        uint64_t cpus;
        if (status == 200) {
            if (!mgmt_json_number_u64(&doc, (size_t)mgmt_json_object_get(&doc, 0, "cpus"),
                                      &cpus) ||
                cpus != root_boot_info->vp_count) {
                snprintf(t->failure, sizeof(t->failure), "/v1/host does not report %u CPUs",
                         root_boot_info->vp_count);
                return false;
            }
            snprintf(host_json, size, "%.*s", (int)length, body);
        }
        p = body + length;
    }
    if (p != t->reply + t->reply_length) {
        snprintf(t->failure, sizeof(t->failure), "bytes after the third reply");
        return false;
    }
    return true;
}

bool mgmt_server_selftest(void)
{
    static struct selftest state;
    static struct mgmt_server server;
    struct selftest *t = &state;
    memset(t, 0, sizeof(*t));
    /* A fresh token for this test only: 32 hex digits from RDRAND (or the weak generator,
     * good enough for a token that lives a few milliseconds on the loopback). */
    for (int i = 0; i < 4; i++)
        snprintf(t->token + 8 * i, 9, "%08x", (unsigned)random_weak_u32());
    char why[128];
    mgmt_auth_init(&server.auth);
    mgmt_auth_provision_token(&server.auth, t->token, why, sizeof(why));
    server.tls = NULL; /* the HTTP engine over plain TCP on the loopback */

    ip_addr_t loopback;
    ip_addr_set_loopback(false, &loopback);
    uint64_t start = now_ms();
    bool ok = mgmt_server_listen(&server, &loopback, SELFTEST_PORT, &root_source);
    if (!ok)
        snprintf(t->failure, sizeof(t->failure), "cannot listen on port %d", SELFTEST_PORT);
    if (ok) {
        t->client = altcp_tcp_new_ip_type(IPADDR_TYPE_V4);
        altcp_arg(t->client, t);
        altcp_recv(t->client, selftest_recv);
        altcp_err(t->client, selftest_error);
        if (altcp_connect(t->client, &loopback, SELFTEST_PORT, selftest_connected) != ERR_OK) {
            snprintf(t->failure, sizeof(t->failure), "connect failed");
            t->failed = true;
        }
        while (!t->closed && !t->failed && now_ms() - start < SELFTEST_TIME_LIMIT_MS) {
            netif_poll_all();
            sys_check_timeouts();
        }
        if (!t->closed && !t->failed)
            snprintf(t->failure, sizeof(t->failure), "timed out with %zu reply bytes",
                     t->reply_length);
        ok = t->closed && !t->failed;
    }
    if (t->client) {
        altcp_arg(t->client, NULL);
        altcp_recv(t->client, NULL);
        altcp_err(t->client, NULL);
        if (altcp_close(t->client) != ERR_OK)
            altcp_abort(t->client);
        t->client = NULL;
    }
    /* Let the FIN/ACK exchange finish so no pcb of the test lingers with our callbacks. */
    for (int i = 0; i < 16; i++)
        netif_poll_all();
    mgmt_server_stop(&server);
    static char host_json[1024];
    host_json[0] = '\0';
    if (ok)
        ok = selftest_check(t, host_json, sizeof(host_json));
    if (!ok) {
        printf("selftest: mgmt-api-loopback: FAILED: %s\n", t->failure);
        return false;
    }
    printf("selftest: mgmt-api-loopback: ok statuses=401,200,404 bytes=%zu ms=%llu\n",
           t->reply_length, (unsigned long long)(now_ms() - start));
    printf("selftest: mgmt-api-loopback: GET /v1/host -> %s\n", host_json);
    return true;
}
