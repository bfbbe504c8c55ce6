#include "tools/hvctl/known_hosts.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

void hvctl_fingerprint_text(const unsigned char digest[32], char out[HVCTL_FINGERPRINT_TEXT])
{
    for (size_t i = 0; i < 32; i++)
        snprintf(out + 3 * i, 4, i + 1 < 32 ? "%02X:" : "%02X", digest[i]);
}

static bool fingerprint_valid(const char *text)
{
    if (strlen(text) != HVCTL_FINGERPRINT_TEXT - 1)
        return false;
    for (size_t i = 0; text[i]; i++)
        if (i % 3 == 2 ? text[i] != ':' : !isxdigit((unsigned char)text[i]))
            return false;
    return true;
}

int hvctl_known_hosts_path(char *out, size_t size)
{
    const char *explicit_path = getenv("HVCTL_KNOWN_HOSTS");
    if (explicit_path && explicit_path[0]) {
        int n = snprintf(out, size, "%s", explicit_path);
        return n > 0 && (size_t)n < size;
    }
    const char *home = getenv("HOME");
    if (!home || !home[0])
        return 0;
    int n = snprintf(out, size, "%s/.config/hvctl/known_hosts", home);
    return n > 0 && (size_t)n < size;
}

/* mkdir -p of the file's folder (mode 0700: the pins are the user's). */
static bool make_folder(const char *path)
{
    char folder[4096];
    int n = snprintf(folder, sizeof(folder), "%s", path);
    if (n <= 0 || (size_t)n >= sizeof(folder))
        return false;
    char *slash = strrchr(folder, '/');
    if (!slash || slash == folder)
        return true;
    *slash = '\0';
    for (char *p = folder + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(folder, 0700) != 0 && errno != EEXIST)
            return false;
        *p = '/';
    }
    return mkdir(folder, 0700) == 0 || errno == EEXIST;
}

enum hvctl_pin hvctl_known_hosts_check(const char *path, const char *host_port,
                                       const char *fingerprint,
                                       char pinned[HVCTL_FINGERPRINT_TEXT], char *why,
                                       size_t why_size)
{
    FILE *f = fopen(path, "r");
    if (!f && errno != ENOENT) {
        snprintf(why, why_size, "cannot read %s: %s", path, strerror(errno));
        return HVCTL_PIN_ERROR;
    }
    char line[HVCTL_KNOWN_HOSTS_LINE_MAX];
    unsigned number = 0;
    while (f && fgets(line, sizeof(line), f)) {
        number++;
        size_t length = strlen(line);
        if (length && line[length - 1] == '\n')
            line[--length] = '\0';
        else if (!feof(f)) {
            snprintf(why, why_size, "%s:%u: line too long", path, number);
            fclose(f);
            return HVCTL_PIN_ERROR;
        }
        if (line[0] == '\0' || line[0] == '#')
            continue;
        char *space = strchr(line, ' ');
        if (!space || !fingerprint_valid(space + 1)) {
            snprintf(why, why_size, "%s:%u: not 'HOST:PORT FINGERPRINT'", path, number);
            fclose(f);
            return HVCTL_PIN_ERROR;
        }
        *space = '\0';
        if (strcmp(line, host_port) != 0)
            continue;
        fclose(f);
        if (strcasecmp(space + 1, fingerprint) == 0)
            return HVCTL_PIN_MATCH;
        snprintf(pinned, HVCTL_FINGERPRINT_TEXT, "%s", space + 1);
        return HVCTL_PIN_CHANGED;
    }
    if (f)
        fclose(f);
    if (!make_folder(path) || !(f = fopen(path, "a"))) {
        snprintf(why, why_size, "cannot write %s: %s", path, strerror(errno));
        return HVCTL_PIN_ERROR;
    }
    bool ok = fprintf(f, "%s %s\n", host_port, fingerprint) > 0;
    ok = fclose(f) == 0 && ok;
    if (!ok) {
        snprintf(why, why_size, "cannot write %s", path);
        return HVCTL_PIN_ERROR;
    }
    return HVCTL_PIN_ADDED;
}
