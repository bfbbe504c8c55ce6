/*
 * Trust on first use for the appliance's self-signed certificate (docs/api.md, "Transport"):
 * a file of lines `HOST:PORT AB:CD:...` (the certificate's SHA-256, as the appliance's
 * console prints it). A host seen for the first time is added; a host whose certificate
 * changed is refused until its line is removed by a person who checked the console.
 */
#ifndef HVFW_TOOLS_HVCTL_KNOWN_HOSTS_H
#define HVFW_TOOLS_HVCTL_KNOWN_HOSTS_H

#include <stddef.h>

#define HVCTL_FINGERPRINT_TEXT (32 * 3) /* "AB:...:EF" and its NUL */
#define HVCTL_KNOWN_HOSTS_LINE_MAX 512

enum hvctl_pin {
    HVCTL_PIN_MATCH,   /* the pinned fingerprint */
    HVCTL_PIN_ADDED,   /* first use: pinned now */
    HVCTL_PIN_CHANGED, /* another fingerprint is pinned for this host: refuse */
    HVCTL_PIN_ERROR,   /* the file cannot be read or written, or is malformed */
};

/* "AB:CD:..." of a 32-byte digest. */
void hvctl_fingerprint_text(const unsigned char digest[32], char out[HVCTL_FINGERPRINT_TEXT]);

/* Checks `fingerprint` for `host_port` in the file at `path` (created with its folder if
 * missing). `pinned` receives the pinned fingerprint on HVCTL_PIN_CHANGED; `why` the
 * problem on HVCTL_PIN_ERROR. */
enum hvctl_pin hvctl_known_hosts_check(const char *path, const char *host_port,
                                       const char *fingerprint,
                                       char pinned[HVCTL_FINGERPRINT_TEXT], char *why,
                                       size_t why_size);

/* $HVCTL_KNOWN_HOSTS, else $HOME/.config/hvctl/known_hosts; false if neither is set. */
int hvctl_known_hosts_path(char *out, size_t size);

#endif
