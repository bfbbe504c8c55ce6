/*
 * The root's disk at boot (docs/ARCHITECTURE.md, "The appliance disk"): finds the
 * virtio-blk disk (drivers/virtio_blk.h), attaches its layout (root/disk.h; formatted only
 * with disk.format=1, or disk.format=force for a valid hvfw disk), creates the volumes
 * `disk.NAME=SIZE_MIB` declares, opens the store (root/store.h), applies
 * `disk.set.KEY=VALUE` / `disk.unset=KEY`, and then the stored settings over the command
 * line (root/stored_settings.h): from then on root_boot_info->cmdline is the merged line.
 * `test.disk_bench=VOLUME` measures sequential write and read over that volume (its
 * contents are overwritten).
 *
 * Runs once on root VP 0 before any root-level setting is read (root/root.c). Without a
 * disk, or with one that is not an hvfw disk, it says so and the command line is used
 * alone.
 */
#ifndef HVFW_ROOT_STORAGE_H
#define HVFW_ROOT_STORAGE_H

#include <stdbool.h>

#include "root/store.h"

/* False only when a self-test (test.disk_bench) failed. */
bool storage_start(void);
/* The store of the attached disk, or NULL (no disk, not an hvfw disk, store unreadable). */
struct store *storage_store(void);

#endif
