/*
 * The loopback TCP self-test; see net_selftest.h. All lwIP callbacks run inside
 * netif_poll_all() or sys_check_timeouts() on this CPU, from the loop in
 * net_selftest_tcp_loopback (NO_SYS: lwIP is never entered concurrently).
 */
#include "root/net_selftest.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "lwip/altcp.h"
#include "lwip/altcp_tcp.h"
#include "lwip/ip_addr.h"
#include "lwip/netif.h"
#include "lwip/tcp.h"
#include "lwip/timeouts.h"

#include "libc-glue/time.h"

/* The server keeps what it has not echoed yet here. It advertises only the window it has
 * consumed (altcp_recved after echoing), so the client can never have more than TCP_WND
 * bytes in flight to it: a buffer of at least that size never overflows. */
#define ECHO_BUFFER_SIZE (2 * TCP_WND)

struct loopback_test {
    struct altcp_pcb *listener;
    struct altcp_pcb *server;
    struct altcp_pcb *client;
    size_t total;          /* bytes the client sends */
    size_t client_sent;    /* queued by the client */
    size_t client_checked; /* echoed bytes the client received and verified */
    size_t server_echoed;  /* bytes the server queued back */
    unsigned char echo[ECHO_BUFFER_SIZE];
    size_t echo_start, echo_count; /* ring buffer [start, start + count) */
    bool server_saw_fin;
    bool client_closed, server_closed;
    char failure[128];
};

/* A pattern that does not repeat every 256 bytes, so misplaced segments are caught. */
static unsigned char pattern_byte(size_t offset)
{
    return (unsigned char)(offset * 7 + (offset >> 8) * 13 + (offset >> 16));
}

static bool test_failed(const struct loopback_test *t)
{
    return t->failure[0] != '\0';
}

__attribute__((format(printf, 2, 3))) static void test_fail(struct loopback_test *t,
                                                             const char *fmt, ...)
{
    if (test_failed(t))
        return; /* keep the first reason */
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(t->failure, sizeof(t->failure), fmt, ap);
    va_end(ap);
}

/* Detaches our callbacks before a close, so lwIP never calls back into a finished test. */
static void detach(struct altcp_pcb *pcb)
{
    altcp_arg(pcb, NULL);
    altcp_recv(pcb, NULL);
    altcp_sent(pcb, NULL);
    altcp_err(pcb, NULL);
    altcp_accept(pcb, NULL);
}

static void close_or_abort(struct altcp_pcb *pcb)
{
    detach(pcb);
    if (altcp_close(pcb) != ERR_OK)
        altcp_abort(pcb); /* out of memory for the FIN: reset instead */
}

/* --- client: sends the pattern, verifies the echo --------------------------------------- */

static void client_send(struct loopback_test *t)
{
    unsigned char chunk[TCP_MSS];
    while (t->client_sent < t->total) {
        size_t n = t->total - t->client_sent;
        u16_t room = altcp_sndbuf(t->client);
        if (n > room)
            n = room;
        if (n > sizeof(chunk))
            n = sizeof(chunk);
        if (n == 0)
            break;
        for (size_t i = 0; i < n; i++)
            chunk[i] = pattern_byte(t->client_sent + i);
        err_t err = altcp_write(t->client, chunk, (u16_t)n, TCP_WRITE_FLAG_COPY);
        if (err == ERR_MEM)
            break; /* the send queue is full: resume from the sent callback */
        if (err != ERR_OK) {
            test_fail(t, "client write: lwIP error %d", (int)err);
            return;
        }
        t->client_sent += n;
    }
    err_t err = altcp_output(t->client);
    if (err != ERR_OK)
        test_fail(t, "client output: lwIP error %d", (int)err);
}

static err_t client_sent_cb(void *arg, struct altcp_pcb *pcb, u16_t len)
{
    (void)pcb;
    (void)len;
    client_send(arg);
    return ERR_OK;
}

static err_t client_recv_cb(void *arg, struct altcp_pcb *pcb, struct pbuf *p, err_t err)
{
    struct loopback_test *t = arg;
    if (p == NULL) {
        if (t->client_checked < t->total)
            test_fail(t, "the server closed after echoing %zu of %zu bytes", t->client_checked,
                      t->total);
        return ERR_OK;
    }
    if (err != ERR_OK) {
        pbuf_free(p);
        test_fail(t, "client receive: lwIP error %d", (int)err);
        return ERR_OK;
    }
    u16_t length = p->tot_len;
    for (struct pbuf *q = p; q != NULL && !test_failed(t); q = q->next) {
        const unsigned char *data = q->payload;
        for (u16_t i = 0; i < q->len; i++) {
            size_t offset = t->client_checked;
            if (offset >= t->total) {
                test_fail(t, "the server echoed more than the %zu bytes sent", t->total);
                break;
            }
            if (data[i] != pattern_byte(offset)) {
                test_fail(t, "echoed byte %zu is %#x, expected %#x", offset, data[i],
                          pattern_byte(offset));
                break;
            }
            t->client_checked++;
        }
    }
    altcp_recved(pcb, length);
    pbuf_free(p);
    if (t->client_checked == t->total && !t->client_closed) {
        t->client_closed = true;
        t->client = NULL;
        close_or_abort(pcb);
    }
    return ERR_OK;
}

static err_t client_connected_cb(void *arg, struct altcp_pcb *pcb, err_t err)
{
    (void)pcb;
    struct loopback_test *t = arg;
    if (err != ERR_OK) {
        test_fail(t, "connect: lwIP error %d", (int)err);
        return ERR_OK;
    }
    client_send(t);
    return ERR_OK;
}

static void client_err_cb(void *arg, err_t err)
{
    struct loopback_test *t = arg;
    t->client = NULL; /* lwIP has freed the pcb */
    test_fail(t, "client connection error: lwIP error %d", (int)err);
}

/* --- server: echoes what it receives ------------------------------------------------------ */

static void server_close(struct loopback_test *t)
{
    t->server_closed = true;
    close_or_abort(t->server);
    t->server = NULL;
}

/* Queues buffered bytes back to the client, as far as its send buffer allows. */
static void server_flush(struct loopback_test *t)
{
    while (t->echo_count > 0) {
        size_t n = t->echo_count;
        if (n > ECHO_BUFFER_SIZE - t->echo_start)
            n = ECHO_BUFFER_SIZE - t->echo_start; /* up to the end of the ring */
        u16_t room = altcp_sndbuf(t->server);
        if (n > room)
            n = room;
        if (n == 0)
            break;
        err_t err = altcp_write(t->server, t->echo + t->echo_start, (u16_t)n,
                                TCP_WRITE_FLAG_COPY);
        if (err == ERR_MEM)
            break;
        if (err != ERR_OK) {
            test_fail(t, "server write: lwIP error %d", (int)err);
            return;
        }
        t->echo_start = (t->echo_start + n) % ECHO_BUFFER_SIZE;
        t->echo_count -= n;
        t->server_echoed += n;
        altcp_recved(t->server, (u16_t)n); /* open the window by what left the buffer */
    }
    err_t err = altcp_output(t->server);
    if (err != ERR_OK)
        test_fail(t, "server output: lwIP error %d", (int)err);
    if (t->server_saw_fin && t->echo_count == 0 && !t->server_closed)
        server_close(t);
}

static err_t server_recv_cb(void *arg, struct altcp_pcb *pcb, struct pbuf *p, err_t err)
{
    (void)pcb;
    struct loopback_test *t = arg;
    if (p == NULL) {
        t->server_saw_fin = true;
        server_flush(t);
        return ERR_OK;
    }
    if (err != ERR_OK) {
        pbuf_free(p);
        test_fail(t, "server receive: lwIP error %d", (int)err);
        return ERR_OK;
    }
    if (p->tot_len > ECHO_BUFFER_SIZE - t->echo_count)
        return ERR_MEM; /* lwIP keeps the data and offers it again later */
    size_t end = (t->echo_start + t->echo_count) % ECHO_BUFFER_SIZE;
    size_t first = p->tot_len;
    if (first > ECHO_BUFFER_SIZE - end)
        first = ECHO_BUFFER_SIZE - end;
    pbuf_copy_partial(p, t->echo + end, (u16_t)first, 0);
    pbuf_copy_partial(p, t->echo, (u16_t)(p->tot_len - first), (u16_t)first);
    t->echo_count += p->tot_len;
    pbuf_free(p);
    server_flush(t);
    return ERR_OK;
}

static err_t server_sent_cb(void *arg, struct altcp_pcb *pcb, u16_t len)
{
    (void)pcb;
    (void)len;
    server_flush(arg);
    return ERR_OK;
}

static void server_err_cb(void *arg, err_t err)
{
    struct loopback_test *t = arg;
    t->server = NULL;
    test_fail(t, "server connection error: lwIP error %d", (int)err);
}

static err_t server_accept_cb(void *arg, struct altcp_pcb *pcb, err_t err)
{
    struct loopback_test *t = arg;
    if (err != ERR_OK || pcb == NULL) {
        test_fail(t, "accept: lwIP error %d", (int)err);
        return ERR_VAL;
    }
    if (t->server != NULL) {
        test_fail(t, "a second connection was accepted");
        altcp_abort(pcb);
        return ERR_ABRT;
    }
    t->server = pcb;
    altcp_arg(pcb, t);
    altcp_recv(pcb, server_recv_cb);
    altcp_sent(pcb, server_sent_cb);
    altcp_err(pcb, server_err_cb);
    return ERR_OK;
}

/* --- the test ------------------------------------------------------------------------------ */

static bool test_start(struct loopback_test *t, const ip_addr_t *address)
{
    u8_t type = IP_GET_TYPE(address);
    struct altcp_pcb *pcb = altcp_tcp_new_ip_type(type);
    if (pcb == NULL) {
        test_fail(t, "no memory for the listening pcb");
        return false;
    }
    err_t err = altcp_bind(pcb, address, NET_SELFTEST_PORT);
    if (err != ERR_OK) {
        altcp_close(pcb);
        test_fail(t, "bind to port %u: lwIP error %d", NET_SELFTEST_PORT, (int)err);
        return false;
    }
    t->listener = altcp_listen_with_backlog_and_err(pcb, 1, &err);
    if (t->listener == NULL) {
        altcp_close(pcb);
        test_fail(t, "listen: lwIP error %d", (int)err);
        return false;
    }
    altcp_arg(t->listener, t);
    altcp_accept(t->listener, server_accept_cb);

    t->client = altcp_tcp_new_ip_type(type);
    if (t->client == NULL) {
        test_fail(t, "no memory for the client pcb");
        return false;
    }
    altcp_arg(t->client, t);
    altcp_recv(t->client, client_recv_cb);
    altcp_sent(t->client, client_sent_cb);
    altcp_err(t->client, client_err_cb);
    err = altcp_connect(t->client, address, NET_SELFTEST_PORT, client_connected_cb);
    if (err != ERR_OK) {
        test_fail(t, "connect: lwIP error %d", (int)err);
        return false;
    }
    return true;
}

/* Whatever happened, leave no pcb of ours behind with callbacks into this test. */
static void test_cleanup(struct loopback_test *t)
{
    if (t->client) {
        detach(t->client);
        altcp_abort(t->client);
    }
    if (t->server) {
        detach(t->server);
        altcp_abort(t->server);
    }
    if (t->listener)
        close_or_abort(t->listener);
    t->client = t->server = t->listener = NULL;
}

static bool test_done(const struct loopback_test *t)
{
    return t->client_closed && t->server_closed && t->client_checked == t->total;
}

static bool net_selftest_tcp_loopback(const char *name, const ip_addr_t *address)
{
    static struct loopback_test test; /* the echo ring is too big for the boot stack */
    struct loopback_test *t = &test;
    *t = (struct loopback_test){.total = NET_SELFTEST_BYTES};
    uint64_t start_ns = libc_uptime_ns();
    uint64_t limit_ns = (uint64_t)NET_SELFTEST_TIME_LIMIT_MS * 1000000;
    bool timed_out = false;
    if (test_start(t, address)) {
        while (!test_done(t) && !test_failed(t)) {
            netif_poll_all();      /* deliver looped-back packets */
            sys_check_timeouts(); /* TCP timers: retransmission, delayed ACKs */
            if (libc_uptime_ns() - start_ns > limit_ns) {
                timed_out = true;
                break;
            }
        }
    }
    uint64_t elapsed_ms = (libc_uptime_ns() - start_ns) / 1000000;
    if (timed_out)
        test_fail(t, "timed out after %llu ms: sent %zu, echoed %zu, verified %zu of %zu",
                  (unsigned long long)elapsed_ms, t->client_sent, t->server_echoed,
                  t->client_checked, t->total);
    test_cleanup(t);
    if (test_failed(t)) {
        printf("selftest: %s: FAILED: %s\n", name, t->failure);
        return false;
    }
    printf("selftest: %s: ok bytes=%zu ms=%llu\n", name, t->client_checked,
           (unsigned long long)elapsed_ms);
    return true;
}

/* Runs every periodic lwIP timer once (TCP, ARP, IP reassembly, DHCP, ND6, MLD ...). The
 * TCP test is over long before most of them are due, and a timer can trip on the port's
 * configuration (e.g. IPv6 reassembly on 64-bit pointers): find out at boot, not after the
 * first second of uptime. */
static void run_cyclic_timers_once(void)
{
    for (int i = 0; i < lwip_num_cyclic_timers; i++)
        lwip_cyclic_timers[i].handler();
}

bool net_selftest_run(void)
{
    run_cyclic_timers_once();
    ip_addr_t ipv4, ipv6;
    ip_addr_set_loopback(false, &ipv4);
    ip_addr_set_loopback(true, &ipv6);
    bool ok = net_selftest_tcp_loopback("lwip-tcp-loopback", &ipv4);
    ok &= net_selftest_tcp_loopback("lwip-tcp6-loopback", &ipv6);
    return ok;
}
