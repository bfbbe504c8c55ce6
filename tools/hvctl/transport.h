/*
 * One HTTPS request to the appliance (TLS 1.2 by the host's mbedTLS, libmbedtls-dev): the
 * certificate is checked against the pinned fingerprint (known_hosts.h) before anything,
 * the token included, is sent; then one HTTP/1.1 request with `Connection: close` and its
 * response read to the end.
 */
#ifndef HVFW_TOOLS_HVCTL_TRANSPORT_H
#define HVFW_TOOLS_HVCTL_TRANSPORT_H

#include <stddef.h>

#include "tools/hvctl/args.h"
#include "tools/hvctl/response.h"

#define HVCTL_TIMEOUT_MS 30000u

/* Returns HVCTL_EXIT_OK with `out` filled, else HVCTL_EXIT_CONNECTION (unreachable, TLS
 * failed, certificate changed) or HVCTL_EXIT_OTHER (a malformed answer) with `why`. */
int hvctl_request(const struct hvctl_args *args, const char *known_hosts, const char *method,
                  const char *path, const char *body, struct hvctl_response *out, char *why,
                  size_t why_size);

#endif
