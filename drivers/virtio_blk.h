/*
 * The root's virtio-blk driver (virtio 1.2, 5.2) over the modern PCI transport
 * (drivers/virtio.h): the first virtio block device found (0x1042, or transitional 0x1001
 * with subsystem 2), one request queue, each request a chain of header (device-readable),
 * data and status (device-writable) descriptors (5.2.6).
 *
 * Features taken when offered: VIRTIO_F_VERSION_1 (required), VIRTIO_BLK_F_SIZE_MAX,
 * SEG_MAX, BLK_SIZE, RO and FLUSH. Without FLUSH the device's cache is write-through
 * (5.2.5.1: "the cache mode is writeback if and only if VIRTIO_BLK_F_FLUSH is
 * negotiated"), so a completed write is on stable media either way and virtio_blk_flush
 * then has nothing to do.
 *
 * Polled: the hypervisor does not redirect device interrupts to the root yet. Every call
 * is synchronous and waits at most VIRTIO_BLK_TIMEOUT_MS per request; a device that does
 * not answer in time, or writes an impossible used entry or status, is reset and not used
 * again (the call fails and a line says why). Buffers are root memory (identity-mapped,
 * so their address is their DMA address), any alignment.
 */
#ifndef HVFW_DRIVERS_VIRTIO_BLK_H
#define HVFW_DRIVERS_VIRTIO_BLK_H

#include <stdbool.h>
#include <stdint.h>

#define VIRTIO_BLK_SECTOR_SIZE 512u
#define VIRTIO_BLK_TIMEOUT_MS 30000u

struct virtio_blk_info {
    uint64_t sector_count;  /* capacity in 512-byte sectors */
    bool read_only;         /* VIRTIO_BLK_F_RO */
    bool flush;             /* VIRTIO_BLK_F_FLUSH: a write-back cache that needs flushes */
    uint32_t block_size;    /* VIRTIO_BLK_F_BLK_SIZE, else 512 */
    uint32_t seg_max;       /* VIRTIO_BLK_F_SEG_MAX, else 0 (not stated) */
    uint32_t size_max;      /* VIRTIO_BLK_F_SIZE_MAX, else 0 (not stated) */
    uint32_t request_bytes; /* the most data one request carries (from size_max) */
    uint16_t queue_size;
};

/* Finds and starts the device; false (with a line saying why) if there is none usable. */
bool virtio_blk_start(void);
/* The running device, or NULL. */
const struct virtio_blk_info *virtio_blk_info(void);
/* `count` sectors from/to `sector`, split into requests of at most request_bytes with up
 * to a third of the queue in flight. False on a range beyond the disk, a device error
 * (IOERR/UNSUPP: the device stays usable) or a broken or silent device (then stopped). */
bool virtio_blk_read(uint64_t sector, uint32_t count, void *buffer);
bool virtio_blk_write(uint64_t sector, uint32_t count, const void *buffer);
/* Everything written before is on stable media when this returns true. */
bool virtio_blk_flush(void);

#endif
