/*
 * The root's NVMe driver (NVM Express Base Specification 1.4): the first controller found
 * (PCI class 01h, subclass 08h, programming interface 02h), namespace 1, one I/O queue pair
 * besides the admin pair, physically contiguous queues, PRP data pointers (4.3).
 *
 * Polled like the other root disk driver: every call is synchronous, one command in flight
 * per queue, waiting at most NVME_TIMEOUT_MS (or the controller's own CAP.TO while it
 * enables). The controller is untrusted: a completion for another command or queue, a
 * phase that runs ahead, or silence past the bound disables the controller and it is not
 * used again (the call fails and a line says why); an error status fails only that call.
 * Data moves through a page-aligned bounce buffer of the driver's own, so a caller's buffer
 * needs no alignment and the device only ever sees addresses the driver chose.
 *
 * Namespaces formatted with 512-byte logical blocks only (the appliance disk's sector);
 * others are refused with a line saying so.
 */
#ifndef HVFW_DRIVERS_NVME_H
#define HVFW_DRIVERS_NVME_H

#include <stdbool.h>
#include <stdint.h>

#define NVME_SECTOR_SIZE 512u
#define NVME_TIMEOUT_MS 30000u

struct nvme_info {
    uint64_t sector_count;  /* namespace 1's size (NSZE) in 512-byte blocks */
    bool volatile_cache;    /* VWC: a write cache that flushes must empty */
    uint32_t request_bytes; /* the most data one command carries (MDTS, our bounce buffer) */
    char model[41];         /* Identify Controller MN, trimmed */
};

/* Finds, resets and starts the controller; false (with a line saying why) if none is
 * usable. */
bool nvme_start(void);
/* The running controller, or NULL. */
const struct nvme_info *nvme_info(void);
/* `count` sectors from/to `sector`, in commands of at most request_bytes. False on a range
 * beyond the namespace, an error status, or a broken or silent controller (then stopped). */
bool nvme_read(uint64_t sector, uint32_t count, void *buffer);
bool nvme_write(uint64_t sector, uint32_t count, const void *buffer);
/* Everything written before is on stable media when this returns true (a no-op without a
 * volatile write cache). */
bool nvme_flush(void);

#endif
