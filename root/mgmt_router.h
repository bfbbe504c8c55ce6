/*
 * The management API's request router: method + path -> handler. Routes are a constant
 * table; a pattern is an absolute path whose segments are literals or `{name}` captures
 * ("/v1/partitions/{name}"). Matching is exact and byte-wise: no trailing slash, no empty,
 * "." or ".." segments, no percent-decoding (captured values are validated by their
 * handler). HEAD is served by the GET route (RFC 9110 9.3.2).
 */
#ifndef HVFW_ROOT_MGMT_ROUTER_H
#define HVFW_ROOT_MGMT_ROUTER_H

#include <stddef.h>

#include "root/mgmt_http.h"

#define MGMT_ROUTER_PARAMS_MAX 4
#define MGMT_ROUTER_PARAM_MAX 64 /* bytes of one captured segment */

struct mgmt_route_match;

/* `context` is the caller's (mgmt_api.c passes its request state). */
typedef void (*mgmt_route_handler)(void *context, const struct mgmt_route_match *match);

struct mgmt_route {
    enum mgmt_http_method method;
    const char *pattern;
    mgmt_route_handler handler;
};

struct mgmt_route_match {
    const struct mgmt_route *route; /* NULL unless the result is 200 */
    size_t param_count;
    char params[MGMT_ROUTER_PARAMS_MAX][MGMT_ROUTER_PARAM_MAX + 1];
    unsigned allowed;               /* bit (1 << method) per method the path has a route for */
};

/* 200 (match->route and the captures are set), 404 (no route has this path) or 405 (some
 * route has it, not with this method; match->allowed says which methods do). */
int mgmt_router_match(const struct mgmt_route *routes, size_t count,
                      enum mgmt_http_method method, const char *path,
                      struct mgmt_route_match *match);

/* "GET, HEAD" for an Allow header (RFC 9110 10.2.1); "" if `allowed` is 0. */
void mgmt_router_allow_list(unsigned allowed, char *out, size_t size);

#endif
