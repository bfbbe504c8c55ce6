#include "tools/hvctl/logs.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tools/hvctl/render.h"
#include "tools/hvctl/transport.h"

int hvctl_logs(const struct hvctl_args *args, const char *known_hosts)
{
    uint64_t since = args->since;
    for (;;) {
        char path[64], why[HVCTL_WHY_MAX + 512];
        snprintf(path, sizeof(path), "/v1/events?since=%" PRIu64, since);
        struct hvctl_response response;
        int result = hvctl_request(args, known_hosts, "GET", path, NULL, &response, why,
                                   sizeof(why));
        if (result != HVCTL_EXIT_OK) {
            fprintf(stderr, "hvctl: logs: %s\n", why);
            return result;
        }
        result = hvctl_exit_status(response.status);
        if (result != HVCTL_EXIT_OK) {
            char message[320];
            hvctl_render_error(response.status, response.body, response.length, message,
                               sizeof(message));
            fprintf(stderr, "hvctl: logs: %s (HTTP %d)\n", message, response.status);
            free(response.body);
            return result;
        }
        uint64_t next = 0;
        bool shown = args->json ? (fwrite(response.body, 1, response.length, stdout), true)
                                : hvctl_render_events(stdout, response.body, response.length,
                                                      &next);
        if (args->json)
            putchar('\n');
        free(response.body);
        fflush(stdout);
        if (!shown) {
            fprintf(stderr, "hvctl: logs: the appliance's answer is not the documented shape "
                            "(try --json)\n");
            return HVCTL_EXIT_OTHER;
        }
        if (!args->follow)
            return HVCTL_EXIT_OK;
        if (next > 0)
            since = next - 1;
        sleep(1);
    }
}
