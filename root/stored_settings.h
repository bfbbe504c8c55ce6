/*
 * Settings from the appliance disk (issue 7: "settings come from the firmware command
 * line, overridden by what is stored on the appliance's disk"). A stored setting is a
 * store record (root/store.h) "setting.KEY" whose value is the setting's value.
 *
 * Only root-level settings can come from the disk: the hypervisor parsed its own
 * (loglevel, recovery, acpi.dump, test.*) from the command line long before the root
 * reads the disk, so a stored one is reported and ignored, as is an unknown key, a key
 * that must not live on an unencrypted disk (mgmt.token: store mgmt.token_sha256), a
 * child= declaration (children become stored VM definitions with the management API)
 * and the disk.* keys themselves. A recovery boot applies none.
 *
 * Host-testable: the result is a new command line for the root's consumers (root/vmms.c,
 * root/network.c, root/mgmt_server.c read settings from it with kernel/cmdline.h).
 */
#ifndef HVFW_ROOT_STORED_SETTINGS_H
#define HVFW_ROOT_STORED_SETTINGS_H

#include <stdbool.h>
#include <stddef.h>

#include "root/store.h"

#define STORED_SETTING_PREFIX "setting."
#define STORED_SETTINGS_LINE_MAX 256

/* Whether `key` may be stored; NULL if so, else why not (for the console). */
const char *stored_settings_refusal(const char *key);

typedef void (*stored_settings_report_fn)(const char *line, void *context);

/*
 * Writes into `out` (`size` bytes) the command line with every word whose key a usable
 * stored setting replaces left out and the stored settings appended (key="value"). One
 * report line per stored setting (where it came from, what it replaced, or why it was
 * ignored) and a summary. Returns how many stored settings were applied; if the result
 * does not fit, `out` is the command line unchanged and 0 is returned (reported).
 */
size_t stored_settings_merge(const char *cmdline, const struct store *store, char *out,
                             size_t size, stored_settings_report_fn report, void *context);

#endif
