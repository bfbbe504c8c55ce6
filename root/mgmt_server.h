/*
 * The management API's TCP server on lwIP (altcp, so that TLS through altcp_tls slides in
 * underneath without changing this file's protocol code): HTTPS (TLS 1.2 with the identity
 * of root/mgmt_tls.h) on port 8443; plain HTTP only with mgmt.insecure_http=1, for tests
 * (docs/api.md, "Transport").
 *
 * Per connection: an incremental HTTP parser (root/mgmt_http.h), requests answered in
 * order (pipelining: the next request is parsed only once the previous response is queued,
 * and the TCP window opens only by what was parsed, so a client cannot make the root
 * buffer more than one window), responses from root/mgmt_api.h. Bounds:
 *   MGMT_SERVER_CONNECTIONS_MAX connections (one more gets 503 and is closed);
 *   MGMT_SERVER_REQUEST_MS from a request's first byte to its last (else 408, closed:
 *   slow clients cannot hold a connection); MGMT_SERVER_IDLE_MS between requests (closed);
 *   MGMT_SERVER_SEND_MS for a response to leave (else the connection is reset).
 * Everything runs from the root's event loop on root VP 0 (NO_SYS lwIP callbacks).
 */
#ifndef HVFW_ROOT_MGMT_SERVER_H
#define HVFW_ROOT_MGMT_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lwip/altcp.h"
#include "lwip/ip_addr.h"

#include "root/mgmt_api.h"
#include "root/mgmt_auth.h"
#include "root/worker.h"

#define MGMT_SERVER_PORT_DEFAULT 8443  /* HTTPS */
#define MGMT_SERVER_PORT_INSECURE 8080 /* plain HTTP (mgmt.insecure_http=1) */
#define MGMT_SERVER_CONNECTIONS_MAX 8
/* TLS connections over the limit waiting for their handshake to end before their 503. */
#define MGMT_SERVER_REFUSING_MAX 16
#define MGMT_SERVER_REQUEST_MS 10000u
#define MGMT_SERVER_IDLE_MS 60000u
#define MGMT_SERVER_SEND_MS 30000u

struct mgmt_connection;

struct altcp_tls_config;

struct mgmt_server {
    struct altcp_tls_config *tls; /* NULL: plain TCP */
    struct altcp_pcb *listener;
    struct mgmt_auth auth;
    struct mgmt_api api;
    struct mgmt_connection *connections[MGMT_SERVER_CONNECTIONS_MAX];
    uint64_t accepted;
    uint64_t refused_busy; /* connections turned away with 503 (or reset, see turn_away) */
    unsigned refusing;     /* TLS refusals waiting for their handshake */
};

/* Listens on `address` (NULL: any) port `port` with `source` for the API's facts; the
 * caller has provisioned server->auth (mgmt_auth_init first). False if lwIP refuses. */
bool mgmt_server_listen(struct mgmt_server *server, const ip_addr_t *address, uint16_t port,
                        const struct mgmt_api_source *source);
/* Closes the listener and every connection. */
void mgmt_server_stop(struct mgmt_server *server);

/* The appliance's API, started once after lwip_init: provisions the token from the firmware
 * command line (mgmt.token_sha256 or mgmt.token; the console says how when there is none),
 * generates the TLS identity and listens with TLS on mgmt.port (default
 * MGMT_SERVER_PORT_DEFAULT) on every interface, so it is reachable as soon as
 * root/network.c brings a NIC up. `mgmt.insecure_http=1` serves plain HTTP instead
 * (default port MGMT_SERVER_PORT_INSECURE) and says so; `mgmt=off` starts nothing. */
bool mgmt_server_start(const char *cmdline);
/* The VMMS's child table that /v1/partitions reports (`count` slots; those without a name
 * are free); read on root VP 0, the VP that changes it, so no lock is needed. Their
 * consoles are served too (root/mgmt_console.h). Until it is
 * called there are none. Changes go through root/vmms.h. */
void mgmt_server_serve_children(struct child *children, size_t count);

/* Moves the console streams on (the children's new output out, held input into their
 * UARTs); polled from the root's loop. True if anything moved. */
bool mgmt_server_poll(void);

/* Boot self-test over lwIP's loopback: a server with a fresh random token and a client on
 * 127.0.0.1 that sends pipelined requests without and with the token and checks the
 * answers (401, 200 with the host's JSON, 404). Prints `selftest: mgmt-api-loopback: ...`. */
bool mgmt_server_selftest(void);

#endif
