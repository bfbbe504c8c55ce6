/*
 * hvctl: the appliance's management API (docs/api.md) from a person's shell. See args.c's
 * usage text for the verbs and the exit statuses.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "root/mgmt_json.h"
#include "tools/hvctl/args.h"
#include "tools/hvctl/console.h"
#include "tools/hvctl/known_hosts.h"
#include "tools/hvctl/logs.h"
#include "tools/hvctl/render.h"
#include "tools/hvctl/transport.h"

/* The create request's body, with the strings JSON-escaped by the API's own writer. */
static bool create_body(const struct hvctl_args *args, char *out, size_t size)
{
    struct mgmt_json_writer w;
    mgmt_json_writer_init(&w, out, size);
    mgmt_json_begin_object(&w);
    mgmt_json_key(&w, "name");
    mgmt_json_string(&w, args->name);
    mgmt_json_key(&w, "memory_mib");
    mgmt_json_u64(&w, args->memory_mib);
    mgmt_json_key(&w, "vps");
    mgmt_json_u64(&w, args->vp_count);
    mgmt_json_key(&w, "boot");
    mgmt_json_begin_object(&w);
    mgmt_json_key(&w, "kernel");
    mgmt_json_string(&w, args->kernel);
    if (args->initrd[0]) {
        mgmt_json_key(&w, "initrd");
        mgmt_json_string(&w, args->initrd);
    }
    if (args->cmdline[0]) {
        mgmt_json_key(&w, "cmdline");
        mgmt_json_string(&w, args->cmdline);
    }
    mgmt_json_end_object(&w);
    mgmt_json_end_object(&w);
    return mgmt_json_finish(&w) != 0;
}

int main(int argc, char **argv)
{
    struct hvctl_args args;
    char why[HVCTL_WHY_MAX + 512];
    const struct hvctl_defaults defaults = { getenv("HVCTL_HOST"), getenv("HVCTL_TOKEN") };
    if (!hvctl_args_parse(argc, (const char *const *)argv, &defaults, &args, why, sizeof(why))) {
        fprintf(stderr, "hvctl: %s\n\n%s", why, hvctl_usage);
        return HVCTL_EXIT_USAGE;
    }
    if (args.verb == HVCTL_HELP) {
        fputs(hvctl_usage, stdout);
        return HVCTL_EXIT_OK;
    }
    char known_hosts[4096];
    if (!hvctl_known_hosts_path(known_hosts, sizeof(known_hosts))) {
        fprintf(stderr, "hvctl: set HVCTL_KNOWN_HOSTS or HOME: the appliance's certificate "
                        "must be pinned somewhere\n");
        return HVCTL_EXIT_USAGE;
    }
    if (!args.token[0])
        fprintf(stderr, "hvctl: no token (--token or HVCTL_TOKEN): the appliance will refuse\n");
    if (args.verb == HVCTL_CONSOLE)
        return hvctl_console(&args, known_hosts);
    if (args.verb == HVCTL_LOGS)
        return hvctl_logs(&args, known_hosts);

    const char *method = "GET", *verb_word = "";
    char path[128];
    static char body[2048];
    const char *request_body = NULL;
    switch (args.verb) {
    case HVCTL_INFO: snprintf(path, sizeof(path), "/v1/host"); verb_word = "info"; break;
    case HVCTL_LS: snprintf(path, sizeof(path), "/v1/partitions"); verb_word = "ls"; break;
    case HVCTL_METRICS: snprintf(path, sizeof(path), "/metrics"); verb_word = "metrics"; break;
    case HVCTL_SHOW:
        snprintf(path, sizeof(path), "/v1/partitions/%s", args.name);
        verb_word = "show";
        break;
    case HVCTL_START:
    case HVCTL_STOP:
    case HVCTL_RESET:
        verb_word = args.verb == HVCTL_START ? "start" : args.verb == HVCTL_STOP ? "stop"
                                                                                 : "reset";
        method = "POST";
        snprintf(path, sizeof(path), "/v1/partitions/%s/%s", args.name, verb_word);
        break;
    case HVCTL_RM:
        method = "DELETE";
        verb_word = "rm";
        snprintf(path, sizeof(path), "/v1/partitions/%s", args.name);
        break;
    case HVCTL_CREATE:
        method = "POST";
        verb_word = "create";
        snprintf(path, sizeof(path), "/v1/partitions");
        if (!create_body(&args, body, sizeof(body))) {
            fprintf(stderr, "hvctl: create: the request does not fit in %zu bytes\n",
                    sizeof(body));
            return HVCTL_EXIT_USAGE;
        }
        request_body = body;
        break;
    case HVCTL_CONSOLE:
    case HVCTL_LOGS:
    case HVCTL_HELP:
        return HVCTL_EXIT_OK;
    }

    struct hvctl_response response;
    int result = hvctl_request(&args, known_hosts, method, path, request_body, &response, why,
                               sizeof(why));
    if (result != HVCTL_EXIT_OK) {
        fprintf(stderr, "hvctl: %s: %s\n", verb_word, why);
        return result;
    }
    result = hvctl_exit_status(response.status);
    if (result != HVCTL_EXIT_OK) {
        char message[320];
        hvctl_render_error(response.status, response.body, response.length, message,
                           sizeof(message));
        fprintf(stderr, "hvctl: %s%s%s: %s (HTTP %d)%s\n", verb_word, args.name[0] ? " " : "",
                args.name, message, response.status,
                result == HVCTL_EXIT_AUTH ? "; check --token / HVCTL_TOKEN" : "");
        if (args.json)
            fwrite(response.body, 1, response.length, stdout);
        free(response.body);
        return result;
    }
    bool shown = true;
    if (args.json || args.verb == HVCTL_METRICS) {
        fwrite(response.body, 1, response.length, stdout);
        if (response.length && response.body[response.length - 1] != '\n')
            putchar('\n');
    } else if (args.verb == HVCTL_INFO) {
        shown = hvctl_render_host(stdout, response.body, response.length);
    } else if (args.verb == HVCTL_LS) {
        shown = hvctl_render_partitions(stdout, response.body, response.length);
    } else if (args.verb == HVCTL_RM) {
        printf("%s: deleted\n", args.name);
    } else {
        shown = hvctl_render_partition(stdout, response.body, response.length);
    }
    free(response.body);
    if (!shown) {
        fprintf(stderr, "hvctl: %s: the appliance's answer is not the documented shape "
                        "(try --json)\n", verb_word);
        return HVCTL_EXIT_OTHER;
    }
    return HVCTL_EXIT_OK;
}
