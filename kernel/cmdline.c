#include "kernel/cmdline.h"

#include <string.h>

void cmdline_iter_init(struct cmdline_iter *it, const char *cmdline)
{
    it->pos = cmdline ? cmdline : "";
    it->started = false;
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* The image path QEMU and iPXE pass as the first word. */
static bool looks_like_image_path(const char *word, size_t len)
{
    if (memchr(word, '=', len))
        return false;
    if (memchr(word, '/', len))
        return true;
    return len >= 4 && memcmp(word + len - 4, ".elf", 4) == 0;
}

static const char *scan_word(const char *p, struct cmdline_entry *e)
{
    size_t k = 0, v = 0;
    bool in_value = false, quoted = false;
    e->key[0] = e->value[0] = '\0';
    e->has_value = e->truncated = false;
    for (; *p && (quoted || !is_space(*p)); p++) {
        char c = *p;
        if (c == '"') {
            quoted = !quoted;
            continue;
        }
        if (!in_value && c == '=') {
            in_value = e->has_value = true;
            continue;
        }
        if (in_value) {
            if (v + 1 < sizeof(e->value))
                e->value[v++] = c;
            else
                e->truncated = true;
        } else {
            if (k + 1 < sizeof(e->key))
                e->key[k++] = c;
            else
                e->truncated = true;
        }
    }
    e->key[k] = '\0';
    e->value[v] = '\0';
    return p;
}

bool cmdline_next(struct cmdline_iter *it, struct cmdline_entry *entry)
{
    for (;;) {
        while (is_space(*it->pos))
            it->pos++;
        if (!*it->pos)
            return false;
        const char *start = it->pos;
        it->pos = scan_word(it->pos, entry);
        bool first = !it->started;
        it->started = true;
        if (first && looks_like_image_path(start, (size_t)(it->pos - start)))
            continue;
        return true;
    }
}

bool cmdline_get(const char *cmdline, const char *key, char *value, size_t size)
{
    struct cmdline_iter it;
    struct cmdline_entry e;
    bool found = false;
    cmdline_iter_init(&it, cmdline);
    while (cmdline_next(&it, &e)) {
        if (e.has_value && strcmp(e.key, key) == 0) {
            if (size) {
                strncpy(value, e.value, size - 1);
                value[size - 1] = '\0';
            }
            found = true;
        }
    }
    return found;
}

bool cmdline_flag(const char *cmdline, const char *key)
{
    struct cmdline_iter it;
    struct cmdline_entry e;
    bool set = false;
    cmdline_iter_init(&it, cmdline);
    while (cmdline_next(&it, &e)) {
        if (strcmp(e.key, key) != 0)
            continue;
        set = !e.has_value || strcmp(e.value, "1") == 0 || strcmp(e.value, "yes") == 0 ||
              strcmp(e.value, "on") == 0 || strcmp(e.value, "true") == 0;
    }
    return set;
}
