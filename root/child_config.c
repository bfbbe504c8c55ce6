#include "root/child_config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define CHILD_FIELDS 4

__attribute__((format(printf, 2, 3)))
static bool refuse(char *why, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, CHILD_WHY_MAX, fmt, ap);
    va_end(ap);
    return false;
}

static bool name_char_ok(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

/* A decimal number of at most 9 digits (no sign, no spaces): fits 32 bits with room. */
static bool parse_decimal(const char *text, size_t length, uint32_t *value)
{
    if (length == 0 || length > 9)
        return false;
    uint32_t v = 0;
    for (size_t i = 0; i < length; i++) {
        if (text[i] < '0' || text[i] > '9')
            return false;
        v = v * 10 + (uint32_t)(text[i] - '0');
    }
    *value = v;
    return true;
}

/* Splits at ':' into exactly CHILD_FIELDS fields (start, length). */
static bool split_fields(const char *value, const char *field[CHILD_FIELDS],
                         size_t length[CHILD_FIELDS])
{
    size_t n = 0;
    const char *start = value;
    for (const char *p = value;; p++) {
        if (*p != ':' && *p != '\0')
            continue;
        if (n == CHILD_FIELDS)
            return false;
        field[n] = start;
        length[n++] = (size_t)(p - start);
        if (*p == '\0')
            break;
        start = p + 1;
    }
    return n == CHILD_FIELDS;
}

static bool check_name(const char *name, size_t length, const struct child_config *taken,
                       size_t taken_count, char *why)
{
    if (length == 0 || length > CHILD_NAME_MAX)
        return refuse(why, "the name must have 1 to %d characters", CHILD_NAME_MAX);
    for (size_t i = 0; i < length; i++)
        if (!name_char_ok(name[i]))
            return refuse(why, "the name may hold only a-z, 0-9, '_' and '-'");
    for (size_t i = 0; i < taken_count; i++)
        if (strlen(taken[i].name) == length && memcmp(taken[i].name, name, length) == 0)
            return refuse(why, "a child named %.*s is already declared", (int)length, name);
    return true;
}

static bool check_module(const char *module, size_t length, const char *const *modules,
                         size_t module_count, char *why)
{
    if (length == 0 || length > CHILD_MODULE_NAME_MAX)
        return refuse(why, "the module name must have 1 to %d characters",
                      CHILD_MODULE_NAME_MAX);
    for (size_t i = 0; i < module_count; i++)
        if (strlen(modules[i]) == length && memcmp(modules[i], module, length) == 0)
            return true;
    return refuse(why, "no boot module is named %.*s", (int)length, module);
}

bool child_config_parse(const char *value, uint32_t cpu_count, const struct child_config *taken,
                        size_t taken_count, const char *const *modules, size_t module_count,
                        struct child_config *out, char *why)
{
    const char *field[CHILD_FIELDS];
    size_t length[CHILD_FIELDS];
    why[0] = '\0';
    memset(out, 0, sizeof(*out));
    if (!split_fields(value, field, length))
        return refuse(why, "want NAME:MODULE:MEM_MIB:VPS");
    if (!check_name(field[0], length[0], taken, taken_count, why) ||
        !check_module(field[1], length[1], modules, module_count, why))
        return false;
    uint32_t memory_mib, vps;
    if (!parse_decimal(field[2], length[2], &memory_mib) || memory_mib < 1 ||
        memory_mib > CHILD_MEMORY_MIB_MAX)
        return refuse(why, "MEM_MIB must be a number from 1 to %u", CHILD_MEMORY_MIB_MAX);
    uint32_t vps_max = cpu_count * CHILD_VPS_PER_CPU;
    if (vps_max > CHILD_VPS_MAX)
        vps_max = CHILD_VPS_MAX;
    if (!parse_decimal(field[3], length[3], &vps) || vps < 1 || vps > vps_max)
        return refuse(why, "VPS must be a number from 1 to %u (%u CPUs)", vps_max, cpu_count);
    memcpy(out->name, field[0], length[0]);
    memcpy(out->module, field[1], length[1]);
    out->memory_mib = memory_mib;
    out->vp_count = vps;
    return true;
}

static const struct {
    const char *prefix;
    enum child_setting kind;
} child_settings[] = {
    { "initrd.", CHILD_SETTING_INITRD },
    { "cmdline.", CHILD_SETTING_CMDLINE },
    { "test.console_input.", CHILD_SETTING_CONSOLE_INPUT },
    { "scsi.", CHILD_SETTING_SCSI },
};

enum child_setting child_config_setting(const char *key, const char **name)
{
    for (size_t i = 0; i < sizeof(child_settings) / sizeof(child_settings[0]); i++) {
        size_t length = strlen(child_settings[i].prefix);
        if (strncmp(key, child_settings[i].prefix, length) == 0) {
            *name = key + length;
            return child_settings[i].kind;
        }
    }
    *name = NULL;
    return CHILD_SETTING_NONE;
}

/* Printable ASCII only: the text reaches a guest kernel or its console as typed. */
static bool printable(const char *text)
{
    for (; *text; text++)
        if (*text < 0x20 || *text >= 0x7F)
            return false;
    return true;
}

/* Console input with each two-character "\n" turned into Enter (a carriage return, what a
 * terminal sends); false when it does not fit. */
static bool copy_console_input(char *out, size_t size, const char *in)
{
    size_t n = 0;
    for (; *in; in++) {
        char c = *in;
        if (c == '\\' && in[1] == 'n') {
            c = '\r';
            in++;
        }
        if (n + 1 >= size)
            return false;
        out[n++] = c;
    }
    out[n] = '\0';
    return true;
}

bool child_config_apply(const char *key, const char *value, struct child_config *children,
                        size_t count, const char *const *modules, size_t module_count,
                        char *why)
{
    const char *name;
    enum child_setting kind = child_config_setting(key, &name);
    why[0] = '\0';
    if (kind == CHILD_SETTING_NONE)
        return refuse(why, "not a per-child setting");
    struct child_config *child = NULL;
    for (size_t i = 0; i < count; i++)
        if (strcmp(children[i].name, name) == 0)
            child = &children[i];
    if (!child)
        return refuse(why, "no child named %.*s is declared", CHILD_NAME_MAX, name);
    if (!printable(value))
        return refuse(why, "the value may hold only printable ASCII");
    switch (kind) {
    case CHILD_SETTING_INITRD:
        if (!check_module(value, strlen(value), modules, module_count, why))
            return false;
        memcpy(child->initrd, value, strlen(value) + 1);
        return true;
    case CHILD_SETTING_CMDLINE:
        if (strlen(value) > CHILD_CMDLINE_MAX)
            return refuse(why, "longer than %d characters", CHILD_CMDLINE_MAX);
        memcpy(child->cmdline, value, strlen(value) + 1);
        return true;
    case CHILD_SETTING_CONSOLE_INPUT: {
        char input[CHILD_CONSOLE_INPUT_MAX + 1];
        if (!copy_console_input(input, sizeof(input), value))
            return refuse(why, "longer than %d characters", CHILD_CONSOLE_INPUT_MAX);
        memcpy(child->console_input, input, sizeof(input));
        return true;
    }
    case CHILD_SETTING_SCSI: {
        /* disk_name_valid's rules, checked here so this module stays free of the disk. */
        size_t length = strlen(value);
        if (length == 0 || length >= DISK_NAME_MAX)
            return refuse(why, "a volume name has 1 to %u characters", DISK_NAME_MAX - 1);
        for (size_t i = 0; i < length; i++)
            if (!name_char_ok(value[i]))
                return refuse(why, "a volume name may hold only a-z, 0-9, '_' and '-'");
        memcpy(child->scsi_volume, value, length + 1);
        return true;
    }
    case CHILD_SETTING_NONE:
        break;
    }
    return refuse(why, "not a per-child setting");
}
