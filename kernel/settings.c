#include "kernel/settings.h"

#include <string.h>

#include "kernel/cmdline.h"
#include "kernel/format.h"

#ifndef HVFW_HOST_TEST
#include "kernel/log.h"
#endif

/* How a key's value is checked. */
enum setting_value {
    SETTING_FLAG,     /* bare `key`, or key=1/yes/on/true/0/no/off/false */
    SETTING_TEXT,     /* key=anything; its consumer checks the meaning */
    SETTING_IPV4,     /* key=a.b.c.d */
    SETTING_NET_IP,   /* key=a.b.c.d[/N] or key=dhcp */
    SETTING_TOKEN,    /* key=secret, SETTINGS_TOKEN_MIN..MAX printable characters */
};

struct setting_rule {
    const char *name;  /* the key, or a prefix when it ends in '.' */
    enum setting_value value;
};

/* Every key the firmware knows (docs/boot.md, "Settings", says what each one does). */
static const struct setting_rule setting_rules[] = {
    { "loglevel", SETTING_TEXT },        /* checked by kernel/main.c apply_log_level */
    { "recovery", SETTING_FLAG },
    { "child", SETTING_TEXT },           /* a child partition to start (root/) */
    { "initrd.", SETTING_TEXT },         /* per-child initrd (root/) */
    { "cmdline.", SETTING_TEXT },        /* per-child command line (root/) */
    { "scsi.", SETTING_TEXT },           /* per-child SCSI disk: a disk volume (root/) */
    { "exit_when_idle", SETTING_FLAG },
    { "net.ip", SETTING_NET_IP },        /* reserved: management issue */
    { "net.gateway", SETTING_IPV4 },     /* reserved: management issue */
    { "net.dns", SETTING_IPV4 },         /* reserved: management issue */
    { "mgmt.token", SETTING_TOKEN },     /* root/mgmt_auth.c */
    { "mgmt.token_sha256", SETTING_TOKEN }, /* root/mgmt_auth.c */
    { "mgmt.port", SETTING_TEXT },       /* root/mgmt_server.c checks it */
    { "mgmt.insecure_http", SETTING_TEXT }, /* tests: plain HTTP (root/mgmt_server.c) */
    { "mgmt", SETTING_TEXT },            /* mgmt=off: no API (root/mgmt_server.c) */
    { "test.mgmt_requests", SETTING_TEXT }, /* tests: root/mgmt_server.c ends the run */
    { "acpi.dump", SETTING_FLAG },       /* kernel/platform.c */
    { "test.exit", SETTING_FLAG },       /* tests: end QEMU through isa-debug-exit */
    { "test.fault", SETTING_TEXT },      /* tests: checked by kernel/trap.c */
    { "root.heartbeat_ms", SETTING_TEXT }, /* root/heartbeat.c checks it */
    { "test.heartbeats", SETTING_TEXT },   /* tests: root/heartbeat.c ends the run */
    { "net", SETTING_TEXT },               /* dhcp|off: root/network.c checks it */
    { "net.interrupts", SETTING_TEXT },    /* off: the NIC polled only (root/network.c) */
    { "test.echo_port", SETTING_TEXT },    /* tests: root/network.c's TCP echo service */
    { "test.echo_sessions", SETTING_TEXT },/* tests: root/network.c ends the run after K */
    { "test.console_input.", SETTING_TEXT }, /* tests: typed on a child's COM1 (root/) */
    { "disk.", SETTING_TEXT },             /* disk.format, disk.NAME=MiB, disk.set.KEY,
                                              disk.unset: root/storage.c checks them */
    { "test.disk_bench", SETTING_TEXT },   /* tests: root/storage.c's disk self-test */
};

#define NET_DEFAULT_PREFIX 24

struct parse_state {
    struct settings *out;
    settings_report_fn report;
    void *ctx;
};

__attribute__((format(printf, 2, 3)))
static void report(struct parse_state *st, const char *fmt, ...)
{
    char message[SETTINGS_MESSAGE_MAX];
    va_list ap;
    va_start(ap, fmt);
    format_vsnprintf(message, sizeof(message), fmt, ap);
    va_end(ap);
    st->out->problem_count++;
    if (st->report)
        st->report(message, st->ctx);
}

/* A value as it may be echoed to the console: printable ASCII only (a value is whatever
 * the loader passed, escape sequences included), and cut to keep the message one line. */
static void printable_copy(char *dst, size_t size, const char *src)
{
    size_t i = 0;
    for (; src[i] && i + 1 < size; i++)
        dst[i] = (src[i] >= 0x20 && src[i] < 0x7F && src[i] != '"') ? src[i] : '?';
    dst[i] = '\0';
    if (src[i] && size > 4)
        memcpy(dst + size - 4, "...", 4);
}

static const struct setting_rule *find_rule(const char *key)
{
    for (size_t i = 0; i < sizeof(setting_rules) / sizeof(setting_rules[0]); i++) {
        const char *name = setting_rules[i].name;
        size_t len = strlen(name);
        if (name[len - 1] == '.') {
            /* A prefix names a family (initrd.hello); the bare prefix names nothing. */
            if (strncmp(key, name, len) == 0 && key[len] != '\0')
                return &setting_rules[i];
        } else if (strcmp(key, name) == 0) {
            return &setting_rules[i];
        }
    }
    return NULL;
}

/* Reads 1-3 decimal digits without a leading zero (except "0" itself) up to 255. */
static const char *parse_octet(const char *p, uint8_t *out)
{
    unsigned value = 0, digits = 0;
    while (p[digits] >= '0' && p[digits] <= '9') {
        if (digits == 3)
            return NULL;
        value = value * 10 + (unsigned)(p[digits] - '0');
        digits++;
    }
    if (digits == 0 || value > 255 || (digits > 1 && p[0] == '0'))
        return NULL;
    *out = (uint8_t)value;
    return p + digits;
}

/* Parses "a.b.c.d" at the start of text; returns what follows, or NULL. */
static const char *parse_ipv4_prefix(const char *text, struct settings_ipv4 *out)
{
    const char *p = text;
    for (int i = 0; i < 4; i++) {
        if (i > 0) {
            if (*p != '.')
                return NULL;
            p++;
        }
        p = parse_octet(p, &out->octet[i]);
        if (!p)
            return NULL;
    }
    return p;
}

bool settings_parse_ipv4(const char *text, struct settings_ipv4 *out)
{
    struct settings_ipv4 address;
    const char *end = parse_ipv4_prefix(text, &address);
    if (!end || *end != '\0')
        return false;
    *out = address;
    return true;
}

/* "a.b.c.d" or "a.b.c.d/N" with N in 1..32. */
static bool parse_ipv4_with_prefix(const char *text, struct settings_ipv4 *address,
                                   uint8_t *prefix)
{
    const char *end = parse_ipv4_prefix(text, address);
    if (!end)
        return false;
    if (*end == '\0') {
        *prefix = NET_DEFAULT_PREFIX;
        return true;
    }
    if (*end != '/' || end[1] < '0' || end[1] > '9')
        return false;
    unsigned value = 0;
    const char *p = end + 1;
    for (int digits = 0; *p >= '0' && *p <= '9'; p++, digits++) {
        if (digits == 2)
            return false;
        value = value * 10 + (unsigned)(*p - '0');
    }
    if (*p != '\0' || value < 1 || value > 32)
        return false;
    *prefix = (uint8_t)value;
    return true;
}

static bool is_yes(const char *v)
{
    return !strcmp(v, "1") || !strcmp(v, "yes") || !strcmp(v, "on") || !strcmp(v, "true");
}

static bool is_no(const char *v)
{
    return !strcmp(v, "0") || !strcmp(v, "no") || !strcmp(v, "off") || !strcmp(v, "false");
}

/* What a rejected value falls back to, said at the end of its message. */
static const char *fallback_for(const char *key)
{
    if (!strcmp(key, "net.ip"))
        return "using DHCP";
    if (!strcmp(key, "net.gateway"))
        return "no static gateway (DHCP's, if any)";
    if (!strcmp(key, "net.dns"))
        return "no static DNS server (DHCP's, if any)";
    if (!strcmp(key, "mgmt.token") || !strcmp(key, "mgmt.token_sha256"))
        return "management stays locked";
    return "ignored";
}

static void check_token(struct parse_state *st, const struct cmdline_entry *e)
{
    size_t length = strlen(e->value);
    if (!strcmp(e->key, "mgmt.token_sha256")) { /* the token's hash: not a secret */
        bool hex = length == 64;
        for (size_t i = 0; hex && i < length; i++) {
            char c = (char)(e->value[i] | 0x20);
            hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
        }
        if (hex)
            st->out->has_mgmt_token = true;
        else
            report(st, "settings: mgmt.token_sha256 is not 64 hex digits (the token's "
                       "SHA-256); %s", fallback_for(e->key));
        return;
    }
    bool printable = true;
    for (size_t i = 0; i < length; i++)
        if (e->value[i] <= 0x20 || e->value[i] >= 0x7F)
            printable = false;
    /* A secret: the messages say what is wrong with it, never what it is. */
    if (length < SETTINGS_TOKEN_MIN || length > SETTINGS_TOKEN_MAX)
        report(st, "settings: mgmt.token has %zu characters, want %d to %d; %s", length,
               SETTINGS_TOKEN_MIN, SETTINGS_TOKEN_MAX, fallback_for(e->key));
    else if (!printable)
        report(st, "settings: mgmt.token holds characters other than printable ASCII; %s",
               fallback_for(e->key));
    else
        st->out->has_mgmt_token = true;
}

static void check_entry(struct parse_state *st, const struct cmdline_entry *e)
{
    char shown[64];
    const struct setting_rule *rule = find_rule(e->key);
    if (!rule) {
        printable_copy(shown, sizeof(shown), e->key);
        report(st, "settings: unknown key \"%s\" ignored", shown);
        return;
    }
    if (e->truncated) {
        report(st, "settings: %s is longer than %d characters; %s", e->key,
               CMDLINE_VALUE_MAX - 1, fallback_for(e->key));
        return;
    }
    if (rule->value == SETTING_FLAG) {
        if (e->has_value && !is_yes(e->value) && !is_no(e->value)) {
            printable_copy(shown, sizeof(shown), e->value);
            report(st, "settings: %s=\"%s\" is not one of 1, yes, on, true, 0, no, off, false; "
                   "taken as off", e->key, shown);
        }
        if (!strcmp(e->key, "recovery"))
            st->out->recovery = !e->has_value || is_yes(e->value);
        return;
    }
    if (!e->has_value) {
        report(st, "settings: %s needs a value (%s=...); %s", e->key, e->key,
               fallback_for(e->key));
        return;
    }
    printable_copy(shown, sizeof(shown), e->value);
    struct settings *out = st->out;
    switch (rule->value) {
    case SETTING_TEXT:
        if (!strcmp(e->key, "child"))
            out->child_count++;
        break;
    case SETTING_NET_IP:
        if (!strcmp(e->value, "dhcp")) {
            out->net_static = false;
        } else if (parse_ipv4_with_prefix(e->value, &out->net_ip, &out->net_prefix)) {
            out->net_static = true;
        } else {
            out->net_static = false;
            report(st, "settings: net.ip=\"%s\" is not an IPv4 address; %s", shown,
                   fallback_for(e->key));
        }
        break;
    case SETTING_IPV4: {
        bool gateway = !strcmp(e->key, "net.gateway");
        struct settings_ipv4 *address = gateway ? &out->net_gateway : &out->net_dns;
        bool *has = gateway ? &out->has_net_gateway : &out->has_net_dns;
        *has = settings_parse_ipv4(e->value, address);
        if (!*has)
            report(st, "settings: %s=\"%s\" is not an IPv4 address; %s", e->key, shown,
                   fallback_for(e->key));
        break;
    }
    case SETTING_TOKEN:
        check_token(st, e);
        break;
    case SETTING_FLAG:
        break;
    }
}

void settings_parse(const char *cmdline, struct settings *out, settings_report_fn report_fn,
                    void *ctx)
{
    memset(out, 0, sizeof(*out));
    out->net_prefix = NET_DEFAULT_PREFIX;
    struct parse_state st = { .out = out, .report = report_fn, .ctx = ctx };
    struct cmdline_iter it;
    struct cmdline_entry e;
    cmdline_iter_init(&it, cmdline);
    while (cmdline_next(&it, &e))
        check_entry(&st, &e);

    /* Recovery: the appliance must come up reachable even when the stored network
     * settings are what broke it, so DHCP and nothing started automatically. */
    if (out->recovery && out->net_static) {
        out->net_static = false;
        report(&st, "settings: recovery: net.ip ignored; using DHCP");
    }
    if (out->recovery) {
        out->has_net_gateway = false;
        out->has_net_dns = false;
    }
    out->autostart_children = !out->recovery;
}

/* Keys whose values never reach the console. */
static const char *const secret_keys[] = { "mgmt.token=" };

static const char *secret_key_at(const char *p)
{
    for (size_t i = 0; i < sizeof(secret_keys) / sizeof(secret_keys[0]); i++)
        if (strncmp(p, secret_keys[i], strlen(secret_keys[i])) == 0)
            return secret_keys[i];
    return NULL;
}

void settings_redact(const char *cmdline, char *out, size_t size)
{
    if (size == 0)
        return;
    size_t n = 0;
    bool word_start = true, quoted = false;
    /* Words split at blanks outside double quotes, as kernel/cmdline.c reads them. */
    for (const char *p = cmdline; *p && n + 1 < size;) {
        const char *key = word_start && !quoted ? secret_key_at(p) : NULL;
        if (key) {
            int written = format_snprintf(out + n, size - n, "%s<hidden>", key);
            n = (size_t)written < size - n ? n + (size_t)written : size - 1;
            p += strlen(key);
            bool in_quotes = false;
            while (*p && (in_quotes || (*p != ' ' && *p != '\t'))) {
                if (*p == '"')
                    in_quotes = !in_quotes;
                p++;
            }
            word_start = false;
            continue;
        }
        if (*p == '"')
            quoted = !quoted;
        word_start = !quoted && (*p == ' ' || *p == '\t');
        out[n++] = *p++;
    }
    out[n] = '\0';
}

#ifndef HVFW_HOST_TEST
struct settings settings;

static void log_problem(const char *message, void *ctx)
{
    (void)ctx;
    log_warn("%s", message);
}

void settings_init(const char *cmdline)
{
    settings_parse(cmdline, &settings, log_problem, NULL);
    if (settings.recovery) {
        log_set_level(LOG_DEBUG);
        log_info("settings: recovery: log level debug, network by DHCP, %zu child "
                 "partition(s) not started", settings.child_count);
    }
    char network[48];
    if (settings.net_static) {
        const uint8_t *a = settings.net_ip.octet;
        format_snprintf(network, sizeof(network), "static %u.%u.%u.%u/%u", a[0], a[1], a[2],
                        a[3], settings.net_prefix);
    } else {
        format_snprintf(network, sizeof(network), "DHCP");
    }
    log_info("settings: network %s, management token %s, %zu problem(s)", network,
             settings.has_mgmt_token ? "set" : "absent", settings.problem_count);
}
#endif
