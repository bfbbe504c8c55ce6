#include "tools/hvctl/args.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char hvctl_usage[] =
    "usage: hvctl [--host H[:PORT]] [--token T] [--json] VERB [ARGS]\n"
    "\n"
    "  info                       the appliance: version, uptime, CPUs, memory\n"
    "  ls                         the partitions and their states\n"
    "  show NAME                  one partition\n"
    "  start|stop|reset NAME      start a stopped partition; hard-stop or reset a running one\n"
    "  rm NAME                    delete a partition that is not running\n"
    "  create NAME --kernel MODULE [--initrd MODULE] [--cmdline TEXT]\n"
    "         --memory MIB --vps N  define a partition from boot modules on the appliance\n"
    "  metrics                    the Prometheus metrics as they come\n"
    "  console NAME [--tail BYTES] [--until TEXT [--timeout S]]\n"
    "                             the partition's serial console, both ways (Ctrl-] leaves);\n"
    "                             its scroll-back first; with stdin not a terminal, what\n"
    "                             stdin holds is typed, and --until leaves once TEXT is seen\n"
    "  logs [--since SEQ] [--follow]  the event log (partitions, logins)\n"
    "\n"
    "  --host     the appliance (or $HVCTL_HOST), port 8443 unless given\n"
    "  --token    the API token (or $HVCTL_TOKEN)\n"
    "  --json     print the API's JSON instead of text\n"
    "\n"
    "The appliance's certificate is pinned by its SHA-256 fingerprint on first use in\n"
    "$HVCTL_KNOWN_HOSTS or ~/.config/hvctl/known_hosts; a changed one is refused.\n"
    "Exit status: 0 ok, 1 other error, 2 usage, 3 connection or TLS, 4 authentication,\n"
    "5 not found or conflict.\n";

static const struct {
    const char *word;
    enum hvctl_verb verb;
    bool takes_name;
} verbs[] = {
    { "info", HVCTL_INFO, false },    { "ls", HVCTL_LS, false },
    { "show", HVCTL_SHOW, true },     { "start", HVCTL_START, true },
    { "stop", HVCTL_STOP, true },     { "reset", HVCTL_RESET, true },
    { "rm", HVCTL_RM, true },         { "create", HVCTL_CREATE, true },
    { "metrics", HVCTL_METRICS, false }, { "help", HVCTL_HELP, false },
    { "console", HVCTL_CONSOLE, true }, { "logs", HVCTL_LOGS, false },
};

static bool copy(char *out, size_t size, const char *value, const char *what, char *why,
                 size_t why_size)
{
    size_t length = strlen(value);
    if (length >= size) {
        snprintf(why, why_size, "%s is longer than %zu characters", what, size - 1);
        return false;
    }
    memcpy(out, value, length + 1);
    return true;
}

/* A decimal number in [min, max]. */
static bool number(const char *text, unsigned long min, unsigned long max, unsigned long *out)
{
    if (!text[0] || text[0] == '-' || text[0] == '+')
        return false;
    char *end;
    errno = 0;
    unsigned long value = strtoul(text, &end, 10);
    if (errno || *end || value < min || value > max)
        return false;
    *out = value;
    return true;
}

bool hvctl_args_parse_host(const char *text, char *host, size_t host_size, uint16_t *port)
{
    const char *name = text, *port_text = NULL;
    size_t name_length;
    if (text[0] == '[') { /* [IPv6]:port (RFC 3986 3.2.2) */
        const char *close = strchr(text, ']');
        if (!close || (close[1] && close[1] != ':'))
            return false;
        name = text + 1;
        name_length = (size_t)(close - name);
        if (close[1] == ':')
            port_text = close + 2;
    } else {
        const char *colon = strchr(text, ':');
        if (colon && strchr(colon + 1, ':'))
            colon = NULL; /* a bare IPv6 address: no port */
        name_length = colon ? (size_t)(colon - text) : strlen(text);
        if (colon)
            port_text = colon + 1;
    }
    if (name_length == 0 || name_length >= host_size)
        return false;
    unsigned long value = HVCTL_PORT_DEFAULT;
    if (port_text && !number(port_text, 1, 65535, &value))
        return false;
    memcpy(host, name, name_length);
    host[name_length] = '\0';
    *port = (uint16_t)value;
    return true;
}

/* The value of option argv[*i] ("--x VALUE" or "--x=VALUE"); NULL when it has none. */
static const char *option_value(int argc, const char *const *argv, int *i, const char *option)
{
    size_t length = strlen(option);
    const char *arg = argv[*i];
    if (strncmp(arg, option, length) != 0)
        return NULL;
    if (arg[length] == '=')
        return arg + length + 1;
    if (arg[length] != '\0' || *i + 1 >= argc)
        return NULL;
    return argv[++*i];
}

static bool is_option(const char *arg, const char *option)
{
    size_t length = strlen(option);
    return strncmp(arg, option, length) == 0 && (arg[length] == '\0' || arg[length] == '=');
}

bool hvctl_args_parse(int argc, const char *const *argv, const struct hvctl_defaults *defaults,
                      struct hvctl_args *out, char *why, size_t why_size)
{
    memset(out, 0, sizeof(*out));
    out->port = HVCTL_PORT_DEFAULT;
    out->timeout_s = HVCTL_CONSOLE_TIMEOUT_S;
    const char *host = defaults && defaults->host ? defaults->host : NULL;
    const char *token = defaults && defaults->token ? defaults->token : "";
    const char *verb = NULL;
    const char *name = NULL;
    bool have_kernel = false, have_memory = false, have_vps = false;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        const char *value;
        if (strcmp(arg, "--json") == 0) {
            out->json = true;
        } else if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            out->verb = HVCTL_HELP;
            return true;
        } else if (is_option(arg, "--host")) {
            if (!(value = option_value(argc, argv, &i, "--host"))) {
                snprintf(why, why_size, "--host needs a value: H or H:PORT");
                return false;
            }
            host = value;
        } else if (is_option(arg, "--token")) {
            if (!(value = option_value(argc, argv, &i, "--token"))) {
                snprintf(why, why_size, "--token needs a value");
                return false;
            }
            token = value;
        } else if (is_option(arg, "--kernel") || is_option(arg, "--initrd") ||
                   is_option(arg, "--cmdline") || is_option(arg, "--memory") ||
                   is_option(arg, "--vps")) {
            char option[16];
            size_t length = strcspn(arg, "=");
            snprintf(option, sizeof(option), "%.*s", (int)length, arg);
            if (!verb || strcmp(verb, "create") != 0) {
                snprintf(why, why_size, "%s belongs to 'create'", option);
                return false;
            }
            if (!(value = option_value(argc, argv, &i, option))) {
                snprintf(why, why_size, "%s needs a value", option);
                return false;
            }
            unsigned long n;
            if (strcmp(option, "--kernel") == 0) {
                if (!copy(out->kernel, sizeof(out->kernel), value, "--kernel", why, why_size))
                    return false;
                have_kernel = true;
            } else if (strcmp(option, "--initrd") == 0) {
                if (!copy(out->initrd, sizeof(out->initrd), value, "--initrd", why, why_size))
                    return false;
            } else if (strcmp(option, "--cmdline") == 0) {
                if (!copy(out->cmdline, sizeof(out->cmdline), value, "--cmdline", why,
                          why_size))
                    return false;
            } else if (strcmp(option, "--memory") == 0) {
                if (!number(value, 1, UINT32_MAX, &n)) {
                    snprintf(why, why_size, "--memory is a number of MiB, not '%.40s'", value);
                    return false;
                }
                out->memory_mib = (uint32_t)n;
                have_memory = true;
            } else {
                if (!number(value, 1, UINT32_MAX, &n)) {
                    snprintf(why, why_size, "--vps is a number of processors, not '%.40s'",
                             value);
                    return false;
                }
                out->vp_count = (uint32_t)n;
                have_vps = true;
            }
        } else if (is_option(arg, "--until") || is_option(arg, "--tail") ||
                   is_option(arg, "--timeout") || is_option(arg, "--since") ||
                   strcmp(arg, "--follow") == 0) {
            char option[16];
            size_t length = strcspn(arg, "=");
            snprintf(option, sizeof(option), "%.*s", (int)length, arg);
            bool for_logs = strcmp(option, "--since") == 0 || strcmp(option, "--follow") == 0;
            const char *owner = for_logs ? "logs" : "console";
            if (!verb || strcmp(verb, owner) != 0) {
                snprintf(why, why_size, "%s belongs to '%s'", option, owner);
                return false;
            }
            if (strcmp(option, "--follow") == 0) {
                out->follow = true;
                continue;
            }
            if (!(value = option_value(argc, argv, &i, option))) {
                snprintf(why, why_size, "%s needs a value", option);
                return false;
            }
            unsigned long n;
            if (strcmp(option, "--until") == 0) {
                if (!value[0] || !copy(out->until, sizeof(out->until), value, "--until", why,
                                       why_size)) {
                    if (!value[0])
                        snprintf(why, why_size, "--until needs some text");
                    return false;
                }
            } else if (strcmp(option, "--since") == 0) {
                char *end;
                errno = 0;
                unsigned long long since = strtoull(value, &end, 10);
                if (!value[0] || value[0] == '-' || *end || errno) {
                    snprintf(why, why_size, "--since is an event sequence number");
                    return false;
                }
                out->since = since;
            } else if (!number(value, strcmp(option, "--tail") == 0 ? 0 : 1, UINT32_MAX, &n)) {
                snprintf(why, why_size, "%s is a number, not '%.40s'", option, value);
                return false;
            } else if (strcmp(option, "--tail") == 0) {
                out->has_tail = true;
                out->tail = (uint32_t)n;
            } else {
                out->timeout_s = (uint32_t)n;
            }
        } else if (arg[0] == '-' && arg[1]) {
            snprintf(why, why_size, "unknown option '%.40s'", arg);
            return false;
        } else if (!verb) {
            verb = arg;
        } else if (!name) {
            name = arg;
        } else {
            snprintf(why, why_size, "unexpected argument '%.40s'", arg);
            return false;
        }
    }
    if (!verb) {
        snprintf(why, why_size, "no verb; try 'hvctl help'");
        return false;
    }
    size_t v = 0;
    while (v < sizeof(verbs) / sizeof(verbs[0]) && strcmp(verbs[v].word, verb) != 0)
        v++;
    if (v == sizeof(verbs) / sizeof(verbs[0])) {
        snprintf(why, why_size, "unknown verb '%.40s'; try 'hvctl help'", verb);
        return false;
    }
    out->verb = verbs[v].verb;
    if (out->verb == HVCTL_HELP)
        return true;
    if (verbs[v].takes_name && !name) {
        snprintf(why, why_size, "'%s' needs a partition NAME", verbs[v].word);
        return false;
    }
    if (!verbs[v].takes_name && name) {
        snprintf(why, why_size, "'%s' takes no NAME", verbs[v].word);
        return false;
    }
    if (name && !copy(out->name, sizeof(out->name), name, "NAME", why, why_size))
        return false;
    /* The API's rule for names (docs/api.md); it also keeps the request line clean. */
    for (size_t i = 0; out->name[i]; i++) {
        char c = out->name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.')) {
            snprintf(why, why_size, "NAME has letters, digits, '-', '_' and '.' only");
            return false;
        }
    }
    for (size_t i = 0; token[i]; i++)
        if (token[i] <= 0x20 || token[i] >= 0x7F) {
            snprintf(why, why_size, "the token is printable ASCII without spaces");
            return false;
        }
    if (out->verb == HVCTL_CREATE && (!have_kernel || !have_memory || !have_vps)) {
        snprintf(why, why_size, "'create' needs --kernel MODULE, --memory MIB and --vps N");
        return false;
    }
    if (!host) {
        snprintf(why, why_size, "which appliance? give --host H[:PORT] or set HVCTL_HOST");
        return false;
    }
    if (!hvctl_args_parse_host(host, out->host, sizeof(out->host), &out->port)) {
        snprintf(why, why_size, "--host '%.60s' is not H, H:PORT or [IPv6]:PORT", host);
        return false;
    }
    if (!copy(out->token, sizeof(out->token), token, "the token", why, why_size))
        return false;
    return true;
}
