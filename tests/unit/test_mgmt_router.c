// sources: root/mgmt_router.c root/mgmt_http.c
/*
 * The management API's router: exact matches, captures, 404 against 405 with the Allow
 * list, HEAD through GET, and paths that must not match.
 */
#include <check.h>
#include <string.h>

#include "root/mgmt_router.h"

static int calls;
static void handler(void *context, const struct mgmt_route_match *match)
{
    (void)context;
    (void)match;
    calls++;
}

static const struct mgmt_route routes[] = {
    { MGMT_HTTP_GET, "/v1/host", handler },
    { MGMT_HTTP_GET, "/v1/partitions", handler },
    { MGMT_HTTP_POST, "/v1/partitions", handler },
    { MGMT_HTTP_GET, "/v1/partitions/{name}", handler },
    { MGMT_HTTP_DELETE, "/v1/partitions/{name}", handler },
    { MGMT_HTTP_POST, "/v1/partitions/{name}/{action}", handler },
};
#define ROUTES (sizeof(routes) / sizeof(routes[0]))

START_TEST(matches)
{
    struct mgmt_route_match m;
    ck_assert_int_eq(mgmt_router_match(routes, ROUTES, MGMT_HTTP_GET, "/v1/host", &m), 200);
    ck_assert_ptr_eq(m.route, &routes[0]);
    ck_assert_uint_eq(m.param_count, 0);
    ck_assert_int_eq(mgmt_router_match(routes, ROUTES, MGMT_HTTP_HEAD, "/v1/host", &m), 200);
    ck_assert_ptr_eq(m.route, &routes[0]);
    ck_assert_int_eq(mgmt_router_match(routes, ROUTES, MGMT_HTTP_POST, "/v1/partitions", &m),
                     200);
    ck_assert_ptr_eq(m.route, &routes[2]);
    ck_assert_int_eq(
        mgmt_router_match(routes, ROUTES, MGMT_HTTP_DELETE, "/v1/partitions/web-1", &m), 200);
    ck_assert_ptr_eq(m.route, &routes[4]);
    ck_assert_uint_eq(m.param_count, 1);
    ck_assert_str_eq(m.params[0], "web-1");
    ck_assert_int_eq(
        mgmt_router_match(routes, ROUTES, MGMT_HTTP_POST, "/v1/partitions/a/start", &m), 200);
    ck_assert_uint_eq(m.param_count, 2);
    ck_assert_str_eq(m.params[0], "a");
    ck_assert_str_eq(m.params[1], "start");
    m.route->handler(NULL, &m);
    ck_assert_int_eq(calls, 1);
}
END_TEST

START_TEST(not_found)
{
    static const char *const paths[] = {
        "/", "", "/v1", "/v1/", "/v1/host/", "/v1//host", "//v1/host", "/v1/hosts",
        "/v1/hos", "/V1/host", "/v1/partitions/", "/v1/partitions//x", "/v1/partitions/.",
        "/v1/partitions/..", "/v1/partitions/a/b/c", "v1/host", "/v1/host/x",
    };
    struct mgmt_route_match m;
    for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
        ck_assert_msg(mgmt_router_match(routes, ROUTES, MGMT_HTTP_GET, paths[i], &m) == 404,
                      "path %s", paths[i]);
        ck_assert_ptr_null(m.route);
    }
    /* A capture longer than MGMT_ROUTER_PARAM_MAX does not match. */
    char path[128] = "/v1/partitions/";
    memset(path + strlen(path), 'x', MGMT_ROUTER_PARAM_MAX);
    ck_assert_int_eq(mgmt_router_match(routes, ROUTES, MGMT_HTTP_GET, path, &m), 200);
    ck_assert_uint_eq(strlen(m.params[0]), MGMT_ROUTER_PARAM_MAX);
    strcat(path, "x");
    ck_assert_int_eq(mgmt_router_match(routes, ROUTES, MGMT_HTTP_GET, path, &m), 404);
}
END_TEST

START_TEST(method_not_allowed)
{
    struct mgmt_route_match m;
    char allow[64];
    ck_assert_int_eq(mgmt_router_match(routes, ROUTES, MGMT_HTTP_PUT, "/v1/partitions", &m),
                     405);
    ck_assert_ptr_null(m.route);
    mgmt_router_allow_list(m.allowed, allow, sizeof(allow));
    ck_assert_str_eq(allow, "GET, HEAD, POST");
    ck_assert_int_eq(mgmt_router_match(routes, ROUTES, MGMT_HTTP_DELETE, "/v1/host", &m), 405);
    mgmt_router_allow_list(m.allowed, allow, sizeof(allow));
    ck_assert_str_eq(allow, "GET, HEAD");
    mgmt_router_allow_list(m.allowed, allow, 5); /* too small: what fits */
    ck_assert_str_eq(allow, "GET");
    mgmt_router_allow_list(0, allow, sizeof(allow));
    ck_assert_str_eq(allow, "");
}
END_TEST

Suite *mgmt_router_suite(void)
{
    Suite *s = suite_create("mgmt_router");
    TCase *tc = tcase_create("router");
    tcase_add_test(tc, matches);
    tcase_add_test(tc, not_found);
    tcase_add_test(tc, method_not_allowed);
    suite_add_tcase(s, tc);
    return s;
}
