/*
 * `hvctl console NAME`: the partition's serial console over the API's WebSocket
 * (docs/api.md, GET /v1/partitions/{name}/console, RFC 6455). Output goes to stdout as the
 * child wrote it; stdin is typed into the child's COM1. On a terminal, stdin is put in raw
 * mode (restored on the way out) and Ctrl-] leaves. With stdin not a terminal (scripts,
 * tests), what it holds is typed; then hvctl leaves once the output holds --until TEXT
 * (exit 0; after --timeout seconds without it exit 1), or without --until once the output
 * has been quiet for a second after stdin ended.
 */
#ifndef HVFW_TOOLS_HVCTL_CONSOLE_H
#define HVFW_TOOLS_HVCTL_CONSOLE_H

#include <stddef.h>

#include "tools/hvctl/args.h"

#define HVCTL_CONSOLE_ESCAPE 0x1D /* Ctrl-] */

/* Returns hvctl's exit status (args.h). */
int hvctl_console(const struct hvctl_args *args, const char *known_hosts);

#endif
