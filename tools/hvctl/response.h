/*
 * The appliance's HTTP/1.1 answer (RFC 9112) as hvctl reads it: status line, the
 * Content-Length header, the body. Pure, host-tested.
 */
#ifndef HVFW_TOOLS_HVCTL_RESPONSE_H
#define HVFW_TOOLS_HVCTL_RESPONSE_H

#include <stdbool.h>
#include <stddef.h>

#define HVCTL_RESPONSE_MAX (4u << 20) /* the API answers far less (docs/api.md) */

struct hvctl_response {
    int status;
    char *body; /* malloc'd, NUL-terminated; free() it */
    size_t length;
};

/* Parses a whole response (head and body, the connection closed after it) into `out`.
 * False with `why` when it is not one, or is cut short of its Content-Length. */
bool hvctl_response_parse(const char *data, size_t length, struct hvctl_response *out,
                          char *why, size_t why_size);

#endif
