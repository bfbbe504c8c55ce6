/*
 * storvsp's back end (vsp/block.h) over a volume of the appliance disk (root/disk.h). The
 * disk driver is synchronous, so a request completes inside submit, after the device
 * completed it: a WRITE when the device reported the write done, a FLUSH when the device
 * flushed its cache (or at once for a write-through disk, whose completed writes are
 * already durable).
 */
#ifndef HVFW_ROOT_DISK_BLOCK_H
#define HVFW_ROOT_DISK_BLOCK_H

#include "root/disk.h"
#include "vsp/block.h"

struct disk_block {
    struct block_device device; /* handed to storvsp */
    struct disk_volume *volume;
};

/* Fills `block` for `volume` (sector_count and read_only from the volume's disk). */
void disk_block_init(struct disk_block *block, struct disk_volume *volume);

#endif
