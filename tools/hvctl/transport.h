/*
 * One HTTPS request to the appliance (TLS 1.2 by the host's mbedTLS, libmbedtls-dev): the
 * certificate is checked against the pinned fingerprint (known_hosts.h) before anything,
 * the token included, is sent; then one HTTP/1.1 request with `Connection: close` and its
 * response read to the end.
 */
#ifndef HVFW_TOOLS_HVCTL_TRANSPORT_H
#define HVFW_TOOLS_HVCTL_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>

#include "tools/hvctl/args.h"
#include "tools/hvctl/response.h"

#define HVCTL_TIMEOUT_MS 30000u

/* Returns HVCTL_EXIT_OK with `out` filled, else HVCTL_EXIT_CONNECTION (unreachable, TLS
 * failed, certificate changed) or HVCTL_EXIT_OTHER (a malformed answer) with `why`. */
int hvctl_request(const struct hvctl_args *args, const char *known_hosts, const char *method,
                  const char *path, const char *body, struct hvctl_response *out, char *why,
                  size_t why_size);

/*
 * A connection kept open (the console's WebSocket): connected, the certificate checked
 * against the pin, nothing sent yet. The same exit statuses as hvctl_request.
 */
struct hvctl_stream;
int hvctl_stream_open(const struct hvctl_args *args, const char *known_hosts,
                      struct hvctl_stream **out, char *why, size_t why_size);
/* Sends all `length` bytes; false if the connection failed. */
bool hvctl_stream_send(struct hvctl_stream *stream, const void *bytes, size_t length);
/* Up to `size` bytes that arrive within `timeout_ms`: >0 bytes, 0 none yet, -1 the
 * connection ended (closed or failed). */
long hvctl_stream_receive(struct hvctl_stream *stream, void *out, size_t size,
                          unsigned timeout_ms);
/* Random bytes from the connection's generator (WebSocket masking keys). */
void hvctl_stream_random(struct hvctl_stream *stream, void *out, size_t length);
void hvctl_stream_close(struct hvctl_stream *stream);

#endif
