// sources: root/mgmt_router.c root/mgmt_http.c
/*
 * libFuzzer target for the management API's router. Input: byte 0 the method, the rest
 * the path (NUL-terminated at the first NUL). Invariants: the result is 200, 404 or 405;
 * a 200 names a route of this method (HEAD through GET) whose pattern, with the captures
 * put back, is exactly the path, and no capture is empty, ".", "..", longer than the limit
 * or holds '/'; a 404 has no allowed methods; a 405 has some, and not this one.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "root/mgmt_router.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REQUIRE(cond)                                                                         \
    do {                                                                                      \
        if (!(cond)) {                                                                        \
            fprintf(stderr, "fuzz_mgmt_router: invariant failed: %s (line %d)\n", #cond,      \
                    __LINE__);                                                                \
            abort();                                                                          \
        }                                                                                     \
    } while (0)

static void handler(void *context, const struct mgmt_route_match *match)
{
    (void)context;
    (void)match;
}

static const struct mgmt_route routes[] = {
    { MGMT_HTTP_GET, "/v1/host", handler },
    { MGMT_HTTP_GET, "/v1/partitions", handler },
    { MGMT_HTTP_POST, "/v1/partitions", handler },
    { MGMT_HTTP_GET, "/v1/partitions/{name}", handler },
    { MGMT_HTTP_DELETE, "/v1/partitions/{name}", handler },
    { MGMT_HTTP_POST, "/v1/partitions/{name}/{action}", handler },
    { MGMT_HTTP_GET, "/{a}/{b}/{c}/{d}", handler },
    { MGMT_HTTP_GET, "/metrics", handler },
};

/* The pattern with its captures put back. */
static void rebuild(const struct mgmt_route_match *m, char *out, size_t size)
{
    size_t n = 0, param = 0;
    for (const char *p = m->route->pattern; *p && n + 1 < size;) {
        if (*p == '{') {
            REQUIRE(param < m->param_count);
            n += (size_t)snprintf(out + n, size - n, "%s", m->params[param++]);
            p = strchr(p, '}') + 1;
        } else {
            out[n++] = *p++;
        }
    }
    out[n < size ? n : size - 1] = '\0';
    REQUIRE(param == m->param_count);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 1024)
        return 0;
    enum mgmt_http_method method = (enum mgmt_http_method)(data[0] % MGMT_HTTP_METHOD_COUNT);
    static char path[1024], again[4096];
    memcpy(path, data + 1, size - 1);
    path[size - 1] = '\0';
    struct mgmt_route_match m;
    int status = mgmt_router_match(routes, sizeof(routes) / sizeof(routes[0]), method, path, &m);
    REQUIRE(status == 200 || status == 404 || status == 405);
    if (status == 200) {
        REQUIRE(m.route != NULL);
        enum mgmt_http_method wanted = method == MGMT_HTTP_HEAD ? MGMT_HTTP_GET : method;
        REQUIRE(m.route->method == wanted);
        REQUIRE(m.param_count <= MGMT_ROUTER_PARAMS_MAX);
        for (size_t i = 0; i < m.param_count; i++) {
            size_t length = strlen(m.params[i]);
            REQUIRE(length > 0 && length <= MGMT_ROUTER_PARAM_MAX);
            REQUIRE(strchr(m.params[i], '/') == NULL);
            REQUIRE(strcmp(m.params[i], ".") != 0 && strcmp(m.params[i], "..") != 0);
        }
        rebuild(&m, again, sizeof(again));
        REQUIRE(strcmp(again, path) == 0);
    } else {
        REQUIRE(m.route == NULL);
        REQUIRE((status == 404) == (m.allowed == 0));
        if (status == 405)
            REQUIRE(!(m.allowed & (1u << method)));
    }
    char allow[128];
    mgmt_router_allow_list(m.allowed, allow, sizeof(allow));
    return 0;
}
