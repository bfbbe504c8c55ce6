#include "root/stored_settings.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "kernel/cmdline.h"

/* Root-level keys a stored setting may set (kernel/settings.c knows them all; these are
 * the ones the root reads after the disk is up). A name ending in '.' is a family. */
static const char *const root_keys[] = {
    "net", "net.ip", "net.gateway", "net.dns",
    "mgmt", "mgmt.port", "mgmt.token_sha256",
    "root.heartbeat_ms",
    "initrd.", "cmdline.", "scsi.",
};

struct refused {
    const char *key;
    const char *why;
};

static const struct refused refused_keys[] = {
    {"loglevel", "read by the hypervisor before the root reads the disk; set it on the "
                 "firmware command line"},
    {"recovery", "read by the hypervisor; set it on the firmware command line"},
    {"acpi.dump", "read by the hypervisor; set it on the firmware command line"},
    {"test.", "test settings come from the firmware command line only"},
    {"exit_when_idle", "test settings come from the firmware command line only"},
    {"mgmt.token", "a secret is not kept on the disk; store mgmt.token_sha256 (its SHA-256)"},
    {"child", "children are declared on the command line (stored VM definitions come with "
              "the management API)"},
    {"disk.", "disk settings come from the firmware command line only"},
};

static bool key_matches(const char *key, const char *name)
{
    size_t length = strlen(name);
    if (length && name[length - 1] == '.')
        return strncmp(key, name, length) == 0 && key[length] != '\0';
    return strcmp(key, name) == 0;
}

const char *stored_settings_refusal(const char *key)
{
    for (size_t i = 0; i < sizeof(refused_keys) / sizeof(refused_keys[0]); i++)
        if (key_matches(key, refused_keys[i].key))
            return refused_keys[i].why;
    for (size_t i = 0; i < sizeof(root_keys) / sizeof(root_keys[0]); i++)
        if (key_matches(key, root_keys[i]))
            return NULL;
    return "unknown key";
}

__attribute__((format(printf, 3, 4)))
static void say(stored_settings_report_fn report, void *context, const char *format, ...)
{
    char line[STORED_SETTINGS_LINE_MAX];
    va_list ap;
    va_start(ap, format);
    vsnprintf(line, sizeof(line), format, ap);
    va_end(ap);
    if (report)
        report(line, context);
}

/* A stored value as it can go on a command line and be echoed: printable ASCII without
 * '"' (the command line has no escape for it), shorter than a command-line value. */
static bool value_usable(const struct store_record *r)
{
    if (r->length >= CMDLINE_VALUE_MAX)
        return false;
    for (uint32_t i = 0; i < r->length; i++)
        if (r->value[i] < 0x20 || r->value[i] > 0x7E || r->value[i] == '"')
            return false;
    return true;
}

static const char *setting_key(const struct store_record *r)
{
    size_t prefix = strlen(STORED_SETTING_PREFIX);
    return strncmp(r->key, STORED_SETTING_PREFIX, prefix) == 0 && r->key[prefix]
               ? r->key + prefix
               : NULL;
}

/* The stored setting that replaces `key`, if it is usable. */
static const struct store_record *usable(const struct store *store, const char *key)
{
    char name[STORE_KEY_MAX + 1];
    if (snprintf(name, sizeof(name), "%s%s", STORED_SETTING_PREFIX, key) >= (int)sizeof(name))
        return NULL;
    const struct store_record *r = store_get(store, name);
    return r && !stored_settings_refusal(key) && value_usable(r) ? r : NULL;
}

static bool append(char *out, size_t size, size_t *at, const char *text, size_t length)
{
    if (length >= size - *at)
        return false;
    memcpy(out + *at, text, length);
    *at += length;
    out[*at] = '\0';
    return true;
}

size_t stored_settings_merge(const char *cmdline, const struct store *store, char *out,
                             size_t size, stored_settings_report_fn report, void *context)
{
    snprintf(out, size, "%s", cmdline);
    size_t stored = 0;
    for (size_t i = 0; i < store->count; i++)
        stored += setting_key(&store->records[i]) != NULL;
    if (stored == 0)
        return 0;
    if (cmdline_flag(cmdline, "recovery")) {
        say(report, context, "recovery: %zu stored setting(s) not applied", stored);
        return 0;
    }
    static char merged[2 * CMDLINE_VALUE_MAX + 2048];
    size_t at = 0, applied = 0, from_cmdline = 0;
    merged[0] = '\0';
    bool fits = size <= sizeof(merged);
    /* The command line's words, as written, except those a stored setting replaces. */
    struct cmdline_iter it;
    static struct cmdline_entry entry;
    cmdline_iter_init(&it, cmdline);
    const char *before = it.pos;
    while (fits && cmdline_next(&it, &entry)) {
        if (!usable(store, entry.key))
            fits = append(merged, size, &at, before, (size_t)(it.pos - before));
        before = it.pos;
    }
    for (size_t i = 0; fits && i < store->count; i++) {
        const struct store_record *r = &store->records[i];
        const char *key = setting_key(r);
        if (!key)
            continue;
        const char *why = stored_settings_refusal(key);
        if (why) {
            say(report, context, "stored setting %s ignored: %s", key, why);
            continue;
        }
        if (!value_usable(r)) {
            say(report, context, "stored setting %s ignored: its value is not printable ASCII "
                                 "without '\"' under %d characters", key, CMDLINE_VALUE_MAX);
            continue;
        }
        char word[CMDLINE_KEY_MAX + CMDLINE_VALUE_MAX + 8];
        int n = r->length ? snprintf(word, sizeof(word), " %s=\"%.*s\"", key, (int)r->length,
                                     (const char *)r->value)
                          : snprintf(word, sizeof(word), " %s", key);
        fits = n > 0 && (size_t)n < sizeof(word) && append(merged, size, &at, word, (size_t)n);
        if (!fits)
            break;
        char previous[CMDLINE_VALUE_MAX];
        bool was_set = cmdline_get(cmdline, key, previous, sizeof(previous));
        bool was_flag = !was_set && cmdline_flag(cmdline, key);
        /* The hash of a token is not secret, but a long value is cut for the console. */
        say(report, context, "%s=%.*s%s from the disk%s%.40s%s", key,
            r->length > 64 ? 64 : (int)r->length, (const char *)r->value,
            r->length > 64 ? "..." : "",
            was_set ? " (the command line's " : was_flag ? " (over the command line's flag"
                                                         : " (not on the command line)",
            was_set ? previous : "", was_set ? " overridden)" : was_flag ? ")" : "");
        applied++;
    }
    if (!fits) {
        say(report, context, "the command line with the stored settings would exceed %zu "
                             "bytes; stored settings not applied", size - 1);
        return 0;
    }
    /* What the command line still sets for the root. */
    cmdline_iter_init(&it, merged);
    while (cmdline_next(&it, &entry))
        from_cmdline += !stored_settings_refusal(entry.key) && !usable(store, entry.key);
    snprintf(out, size, "%s", merged);
    say(report, context, "%zu root setting(s) from the command line, %zu from the disk",
        from_cmdline, applied);
    return applied;
}
