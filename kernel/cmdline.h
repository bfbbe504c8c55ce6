/*
 * The firmware command line: space-separated `key=value` pairs and bare `flag`s. A value in
 * double quotes may hold spaces (`cmdline.web="console=ttyS0 quiet"`). Keys may repeat
 * (`child=...`); cmdline_get returns the last one, cmdline_next walks them all.
 * The first word is skipped when it is the image path that QEMU -kernel and iPXE put
 * first (it has no '=' and contains '/' or ends in ".elf"). Host-testable.
 */
#ifndef HVFW_KERNEL_CMDLINE_H
#define HVFW_KERNEL_CMDLINE_H

#include <stdbool.h>
#include <stddef.h>

#define CMDLINE_KEY_MAX 64
#define CMDLINE_VALUE_MAX 512

struct cmdline_entry {
    char key[CMDLINE_KEY_MAX];
    char value[CMDLINE_VALUE_MAX];
    bool has_value;   /* `key=...` rather than a bare flag */
    bool truncated;   /* key or value was longer than we keep */
};

struct cmdline_iter {
    const char *pos;
    bool started;
};

void cmdline_iter_init(struct cmdline_iter *it, const char *cmdline);
/* Fills *entry with the next word; false at the end. An unterminated quote runs to the end. */
bool cmdline_next(struct cmdline_iter *it, struct cmdline_entry *entry);

/* The value of the last `key=value`; false if absent or a bare flag. */
bool cmdline_get(const char *cmdline, const char *key, char *value, size_t size);
/* True if `key` appears as a bare flag or as key=1/yes/on/true. */
bool cmdline_flag(const char *cmdline, const char *key);

#endif
