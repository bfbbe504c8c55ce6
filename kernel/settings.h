/*
 * Appliance settings: the one documented configuration (docs/boot.md, "Settings"), given
 * on the firmware command line by GRUB, iPXE or QEMU -kernel. settings_parse() checks every
 * key against the table of known keys and every value against its syntax; each problem
 * becomes one message (`settings: unknown key "xyz" ignored`) and a safe fallback (a bad
 * net.ip means DHCP), never a stop. Host-testable: messages go to a callback.
 *
 * The network and management keys are reserved now and used by the management issue;
 * their values are already checked so a bad appliance configuration shows at every boot.
 */
#ifndef HVFW_KERNEL_SETTINGS_H
#define HVFW_KERNEL_SETTINGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Longest message settings_parse() reports (longer values are cut in the message). */
#define SETTINGS_MESSAGE_MAX 192
/* mgmt.token: a shared secret, so long enough not to be guessed, short enough to type. */
#define SETTINGS_TOKEN_MIN 16
#define SETTINGS_TOKEN_MAX 128

struct settings_ipv4 {
    uint8_t octet[4];
};

struct settings {
    bool recovery;            /* `recovery`: safe defaults, see settings_parse() */
    bool net_static;          /* net.ip given and valid (and not recovery); else DHCP */
    struct settings_ipv4 net_ip;
    uint8_t net_prefix;       /* net.ip=a.b.c.d/N; 24 when no /N is given */
    bool has_net_gateway;
    struct settings_ipv4 net_gateway;
    bool has_net_dns;
    struct settings_ipv4 net_dns;
    bool has_mgmt_token;      /* a valid mgmt.token was given (its value is not kept here) */
    bool autostart_children;  /* child= partitions start at boot (not in recovery) */
    size_t child_count;       /* child= entries seen */
    size_t problem_count;     /* messages reported */
};

typedef void (*settings_report_fn)(const char *message, void *ctx);

/*
 * Reads (cmdline) into (*out). Each unknown key, malformed value or missing value is
 * reported once through (report) and falls back as docs/boot.md says. `recovery` keeps
 * the network on DHCP whatever net.* say and starts no child partition.
 */
void settings_parse(const char *cmdline, struct settings *out, settings_report_fn report,
                    void *ctx);

/* Dotted-quad IPv4 ("192.168.1.10"): four decimal numbers 0-255, no leading zeros (which
 * some parsers read as octal), nothing else. */
bool settings_parse_ipv4(const char *text, struct settings_ipv4 *out);

/* Copies (cmdline) to (out) with the value of every secret key (mgmt.token) replaced by
 * "<hidden>", for printing; the copy is cut to fit (size). */
void settings_redact(const char *cmdline, char *out, size_t size);

#ifndef HVFW_HOST_TEST
/* What settings_init() found; read-only after it. */
extern struct settings settings;

/* Parses boot_info's command line, logs each problem as a warning and one summary line,
 * and applies what takes effect at once (recovery raises the log level to debug). */
void settings_init(const char *cmdline);
#endif

#endif
