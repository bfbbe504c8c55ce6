/*
 * hvctl's command line: `hvctl [--host H[:P]] [--token T] [--json] VERB [NAME] [options]`.
 * Pure (no I/O, no environment): hvctl.c supplies $HVCTL_TOKEN and friends as defaults.
 */
#ifndef HVFW_TOOLS_HVCTL_ARGS_H
#define HVFW_TOOLS_HVCTL_ARGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HVCTL_PORT_DEFAULT 8443     /* the appliance's HTTPS port (docs/api.md) */
#define HVCTL_HOST_MAX 255
#define HVCTL_NAME_MAX 32           /* a partition name (docs/api.md) */
#define HVCTL_MODULE_MAX 63
#define HVCTL_CMDLINE_MAX 511
#define HVCTL_TOKEN_MAX 256
#define HVCTL_WHY_MAX 160
#define HVCTL_UNTIL_MAX 127
#define HVCTL_CONSOLE_TIMEOUT_S 60

enum hvctl_verb {
    HVCTL_INFO,
    HVCTL_LS,
    HVCTL_SHOW,
    HVCTL_START,
    HVCTL_STOP,
    HVCTL_RESET,
    HVCTL_RM,
    HVCTL_CREATE,
    HVCTL_METRICS,
    HVCTL_CONSOLE,
    HVCTL_LOGS,
    HVCTL_HELP,
};

struct hvctl_args {
    char host[HVCTL_HOST_MAX + 1]; /* a name or address, IPv6 without brackets */
    uint16_t port;
    char token[HVCTL_TOKEN_MAX + 1]; /* "" if none was given */
    bool json;                       /* print the API's JSON as it came */
    enum hvctl_verb verb;
    char name[HVCTL_NAME_MAX + 1];
    /* create */
    char kernel[HVCTL_MODULE_MAX + 1];
    char initrd[HVCTL_MODULE_MAX + 1];
    char cmdline[HVCTL_CMDLINE_MAX + 1];
    uint32_t memory_mib;
    uint32_t vp_count;
    /* console */
    char until[HVCTL_UNTIL_MAX + 1]; /* leave once the output holds this ("" never) */
    bool has_tail;
    uint32_t tail;                   /* bytes of scroll-back first (default: all) */
    uint32_t timeout_s;              /* with --until: give up after this (default 60) */
    /* logs */
    uint64_t since;                  /* events after this sequence number */
    bool follow;                     /* keep asking for new events */
};

/* Defaults the caller takes from the environment ($HVCTL_HOST, $HVCTL_TOKEN); NULL: none. */
struct hvctl_defaults {
    const char *host;
    const char *token;
};

/* Parses argv[1..argc-1]. False with a message a person can act on in `why`. */
bool hvctl_args_parse(int argc, const char *const *argv, const struct hvctl_defaults *defaults,
                      struct hvctl_args *out, char *why, size_t why_size);

/* Splits "H", "H:P", "[V6]" or "[V6]:P" into host and port (default HVCTL_PORT_DEFAULT). */
bool hvctl_args_parse_host(const char *text, char *host, size_t host_size, uint16_t *port);

/* The usage text. */
extern const char hvctl_usage[];

#endif
