/*
 * The back-end interface behind a virtual disk: what a physical-disk driver (a region of a
 * virtio-blk, AHCI or NVMe disk), a file or a RAM test back end implements for storvsp.
 * I/O is in 512-byte sectors into root memory; a request completes exactly once through
 * its `done` callback, from inside submit (synchronous back ends) or later (interrupt- or
 * poll-driven drivers).
 *
 * Durability contract (issue 5: "write completion only after the physical write
 * completed"): a WRITE is done only when the device reported the write complete; a FLUSH
 * is done only when every write completed before it was submitted is on stable media.
 * The disk is offered to the child with a volatile write cache (SBC-4 caching mode page,
 * WCE = 1), so the child's file systems order their writes with SYNCHRONIZE CACHE, which
 * storvsp turns into FLUSH.
 */
#ifndef HVFW_VSP_BLOCK_H
#define HVFW_VSP_BLOCK_H

#include <stdbool.h>
#include <stdint.h>

#define BLOCK_SECTOR_SIZE 512u

enum block_operation {
    BLOCK_READ,
    BLOCK_WRITE,
    BLOCK_FLUSH, /* sector and sector_count unused */
};

struct block_request {
    enum block_operation operation;
    uint64_t sector;
    uint32_t sector_count;
    uint8_t *buffer; /* sector_count * BLOCK_SECTOR_SIZE bytes of root memory */
    /* Called once; ok false for a device error (the child sees a MEDIUM ERROR). */
    void (*done)(struct block_request *request, bool ok);
    void *owner; /* the submitter's, untouched by the back end */
};

struct block_device {
    uint64_t sector_count;
    bool read_only;
    /* Starts a request the caller has checked against sector_count. The request and its
     * buffer stay valid until done is called. */
    void (*submit)(struct block_device *device, struct block_request *request);
    void *context; /* the back end's own */
};

#endif
