#include "root/mgmt_router.h"

#include <stdbool.h>
#include <string.h>

/* The next segment of `path` at *p (after its '/'): start and length; false at the end. */
static bool next_segment(const char **p, const char **start, size_t *length)
{
    if (**p != '/')
        return false;
    *start = ++*p;
    while (**p && **p != '/')
        (*p)++;
    *length = (size_t)(*p - *start);
    return true;
}

static bool segment_acceptable(const char *s, size_t length)
{
    return length > 0 && !(length == 1 && s[0] == '.') &&
           !(length == 2 && s[0] == '.' && s[1] == '.');
}

/* Captures go to `match` only when the whole path matches. */
static bool path_matches(const char *pattern, const char *path, struct mgmt_route_match *match)
{
    char params[MGMT_ROUTER_PARAMS_MAX][MGMT_ROUTER_PARAM_MAX + 1];
    size_t param_count = 0;
    const char *pp = pattern, *p = path;
    const char *pattern_segment = NULL, *segment = NULL;
    size_t pattern_length = 0, length = 0;
    for (;;) {
        bool more_pattern = next_segment(&pp, &pattern_segment, &pattern_length);
        bool more_path = next_segment(&p, &segment, &length);
        if (!more_pattern || !more_path) {
            if (more_pattern || more_path || *p != '\0')
                return false;
            break;
        }
        if (!segment_acceptable(segment, length))
            return false;
        bool capture = pattern_length >= 2 && pattern_segment[0] == '{' &&
                       pattern_segment[pattern_length - 1] == '}';
        if (capture) {
            if (param_count == MGMT_ROUTER_PARAMS_MAX || length > MGMT_ROUTER_PARAM_MAX)
                return false;
            memcpy(params[param_count], segment, length);
            params[param_count++][length] = '\0';
        } else if (pattern_length != length || memcmp(pattern_segment, segment, length) != 0) {
            return false;
        }
    }
    match->param_count = param_count;
    memcpy(match->params, params, sizeof(params));
    return true;
}

int mgmt_router_match(const struct mgmt_route *routes, size_t count,
                      enum mgmt_http_method method, const char *path,
                      struct mgmt_route_match *match)
{
    memset(match, 0, sizeof(*match));
    enum mgmt_http_method wanted = method == MGMT_HTTP_HEAD ? MGMT_HTTP_GET : method;
    struct mgmt_route_match candidate;
    for (size_t i = 0; i < count; i++) {
        memset(&candidate, 0, sizeof(candidate));
        if (!path_matches(routes[i].pattern, path, &candidate))
            continue;
        match->allowed |= 1u << routes[i].method;
        if (routes[i].method == MGMT_HTTP_GET)
            match->allowed |= 1u << MGMT_HTTP_HEAD;
        if (routes[i].method == wanted && !match->route) {
            unsigned allowed = match->allowed;
            *match = candidate;
            match->allowed = allowed;
            match->route = &routes[i];
        }
    }
    if (match->route)
        return 200;
    return match->allowed ? 405 : 404;
}

void mgmt_router_allow_list(unsigned allowed, char *out, size_t size)
{
    if (size == 0)
        return;
    out[0] = '\0';
    size_t n = 0;
    for (unsigned m = 0; m < MGMT_HTTP_METHOD_COUNT; m++) {
        if (!(allowed & (1u << m)))
            continue;
        const char *name = mgmt_http_method_name((enum mgmt_http_method)m);
        size_t need = strlen(name) + (n ? 2 : 0);
        if (n + need + 1 > size)
            return;
        if (n) {
            memcpy(out + n, ", ", 2);
            n += 2;
        }
        memcpy(out + n, name, strlen(name));
        n += strlen(name);
        out[n] = '\0';
    }
}
