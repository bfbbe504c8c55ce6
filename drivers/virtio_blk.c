#include "drivers/virtio_blk.h"

#include <stdio.h>
#include <string.h>

#include "drivers/pci.h"
#include "drivers/virtio.h"
#include "root/memory.h"
#include "root/platform.h"

#define DEVICE_MODERN 0x1042
#define DEVICE_TRANSITIONAL 0x1001
#define SUBSYSTEM_BLOCK 2
#define QUEUE_REQUEST 0
#define QUEUE_SIZE 128

/* Feature bits (5.2.3) */
#define VIRTIO_BLK_F_SIZE_MAX 1
#define VIRTIO_BLK_F_SEG_MAX 2
#define VIRTIO_BLK_F_RO 5
#define VIRTIO_BLK_F_BLK_SIZE 6
#define VIRTIO_BLK_F_FLUSH 9

/* struct virtio_blk_config (5.2.4) */
#define CONFIG_CAPACITY 0
#define CONFIG_SIZE_MAX 8
#define CONFIG_SEG_MAX 12
#define CONFIG_BLK_SIZE 20
/* struct virtio_pci_common_cfg (4.1.4.3): what this driver reads or writes itself. */
#define COMMON_DEVICE_STATUS 0x14
#define COMMON_CONFIG_GENERATION 0x15
#define CONFIG_RETRIES 16

/* Request types and status values (5.2.6) */
#define VIRTIO_BLK_T_IN 0u
#define VIRTIO_BLK_T_OUT 1u
#define VIRTIO_BLK_T_FLUSH 4u
#define VIRTIO_BLK_S_OK 0u
#define VIRTIO_BLK_S_IOERR 1u
#define VIRTIO_BLK_S_UNSUPP 2u
#define STATUS_UNWRITTEN 0xFFu

/* The most one request carries when the device states no size_max: big enough that a
 * sequential transfer is not dominated by per-request costs, small enough to keep several
 * requests in flight. */
#define REQUEST_BYTES_DEFAULT (128u * 1024u)
#define DESCRIPTORS_PER_REQUEST 3u

struct request_header { /* struct virtio_blk_req's device-readable part (5.2.6) */
    uint32_t type;
    uint32_t reserved;
    uint64_t sector;
};

/* Per outstanding request, by its head descriptor: its header and status byte (DMA
 * memory) and what the driver expects back. */
struct request_slot {
    struct request_header header;
    uint8_t status;
    uint8_t padding[15];
};

static struct {
    struct virtio_pci pci;
    struct virtqueue queue;
    struct request_slot *slots; /* QUEUE_SIZE of them, DMA memory */
    uint32_t expected_length[QUEUE_SIZE];
    struct virtio_blk_info info;
    bool running;
} blk;

_Static_assert(sizeof(struct request_header) == 16, "virtio_blk_req header is 16 bytes");

/* The device is no longer followed: FAILED, then a reset so it stops touching our memory
 * (2.1.1, 4.1.4.3.1: writing 0 to device_status resets the device). */
static void stop(const char *why)
{
    if (!blk.running)
        return;
    printf("virtio-blk: %s; the disk is stopped\n", why);
    virtio_pci_fail(&blk.pci);
    blk.pci.common[COMMON_DEVICE_STATUS] = 0;
    blk.running = false;
}

static uint32_t config_read32(uint32_t offset)
{
    return *(volatile uint32_t *)(blk.pci.device + offset);
}

/* The 64-bit capacity is two 32-bit reads: retry until config_generation is the same
 * before and after (4.1.4.3.1), bounded. */
static bool read_capacity(uint64_t *sectors)
{
    for (int attempt = 0; attempt < CONFIG_RETRIES; attempt++) {
        uint8_t before = blk.pci.common[COMMON_CONFIG_GENERATION];
        uint64_t value = config_read32(CONFIG_CAPACITY) |
                         (uint64_t)config_read32(CONFIG_CAPACITY + 4) << 32;
        if (blk.pci.common[COMMON_CONFIG_GENERATION] == before) {
            *sectors = value;
            return true;
        }
    }
    return false;
}

/* The optional configuration fields the negotiated features make valid (5.2.4), checked:
 * a size_max below one sector or a block size that is not a power of two in 512..64 KiB
 * is a broken device. */
static bool read_config(uint64_t features, char *why, size_t why_size)
{
    struct virtio_blk_info *info = &blk.info;
    if (blk.pci.device_length < CONFIG_BLK_SIZE + 4) {
        snprintf(why, why_size, "device configuration is %u bytes, want %u",
                 blk.pci.device_length, CONFIG_BLK_SIZE + 4);
        return false;
    }
    if (!read_capacity(&info->sector_count)) {
        snprintf(why, why_size, "capacity never reads consistently (config_generation)");
        return false;
    }
    if (info->sector_count == 0 || info->sector_count > (UINT64_MAX >> 9)) {
        snprintf(why, why_size, "capacity of %lu sectors", (unsigned long)info->sector_count);
        return false;
    }
    info->read_only = features & (1ull << VIRTIO_BLK_F_RO);
    info->flush = features & (1ull << VIRTIO_BLK_F_FLUSH);
    info->block_size = VIRTIO_BLK_SECTOR_SIZE;
    if (features & (1ull << VIRTIO_BLK_F_BLK_SIZE)) {
        uint32_t size = config_read32(CONFIG_BLK_SIZE);
        if (size < 512 || size > 65536 || (size & (size - 1))) {
            snprintf(why, why_size, "block size %u", size);
            return false;
        }
        info->block_size = size;
    }
    /* This driver writes single 512-byte sectors (the layout header, the store); a disk
     * with bigger logical blocks would need read-modify-write: not used rather than
     * corrupted. */
    if (info->block_size != VIRTIO_BLK_SECTOR_SIZE) {
        snprintf(why, why_size, "logical block size %u (this driver needs 512)",
                 info->block_size);
        return false;
    }
    info->request_bytes = REQUEST_BYTES_DEFAULT;
    if (features & (1ull << VIRTIO_BLK_F_SIZE_MAX)) {
        info->size_max = config_read32(CONFIG_SIZE_MAX);
        if (info->size_max < VIRTIO_BLK_SECTOR_SIZE) {
            snprintf(why, why_size, "size_max %u is below one sector", info->size_max);
            return false;
        }
        /* One data descriptor per request, so a request carries at most size_max. */
        uint32_t limit = info->size_max & ~(VIRTIO_BLK_SECTOR_SIZE - 1);
        if (limit < info->request_bytes)
            info->request_bytes = limit;
    }
    if (features & (1ull << VIRTIO_BLK_F_SEG_MAX)) {
        info->seg_max = config_read32(CONFIG_SEG_MAX);
        if (info->seg_max == 0) {
            snprintf(why, why_size, "seg_max 0 (no room for the data segment)");
            return false;
        }
    }
    return true;
}

bool virtio_blk_start(void)
{
    const struct pci_device *d =
        virtio_pci_find(DEVICE_MODERN, DEVICE_TRANSITIONAL, SUBSYSTEM_BLOCK);
    if (!d)
        return false;
    char why[96];
    printf("virtio-blk: %02x:%02x.%u device %04x\n", d->address.bus, d->address.slot,
           d->address.function, d->device);
    pci_enable(d, true, false, true);
    uint64_t wanted = (1ull << VIRTIO_F_VERSION_1) | (1ull << VIRTIO_BLK_F_SIZE_MAX) |
                      (1ull << VIRTIO_BLK_F_SEG_MAX) | (1ull << VIRTIO_BLK_F_RO) |
                      (1ull << VIRTIO_BLK_F_BLK_SIZE) | (1ull << VIRTIO_BLK_F_FLUSH);
    uint64_t features = 0;
    if (!virtio_pci_attach(&blk.pci, d, why, sizeof(why)) ||
        !virtio_pci_negotiate(&blk.pci, wanted, &features, why, sizeof(why))) {
        printf("virtio-blk: %s; not used\n", why);
        return false;
    }
    if (!read_config(features, why, sizeof(why))) {
        virtio_pci_fail(&blk.pci);
        printf("virtio-blk: %s; not used\n", why);
        return false;
    }
    void *ring = root_memory_alloc_zeroed(virtqueue_memory_size(QUEUE_SIZE));
    blk.slots = root_memory_alloc_zeroed(QUEUE_SIZE * sizeof(struct request_slot));
    if (!ring || !blk.slots) {
        virtio_pci_fail(&blk.pci);
        printf("virtio-blk: no memory for the queue; not used\n");
        return false;
    }
    virtqueue_init(&blk.queue, QUEUE_SIZE, ring);
    if (!virtio_pci_queue_setup(&blk.pci, QUEUE_REQUEST, &blk.queue, QUEUE_SIZE, why,
                                sizeof(why))) {
        virtio_pci_fail(&blk.pci);
        printf("virtio-blk: %s; not used\n", why);
        return false;
    }
    if (blk.queue.size < DESCRIPTORS_PER_REQUEST) {
        virtio_pci_fail(&blk.pci);
        printf("virtio-blk: queue of %u descriptors cannot hold a request; not used\n",
               blk.queue.size);
        return false;
    }
    blk.info.queue_size = blk.queue.size;
    virtio_pci_driver_ok(&blk.pci);
    if (virtio_pci_status(&blk.pci) & (VIRTIO_STATUS_NEEDS_RESET | VIRTIO_STATUS_FAILED)) {
        printf("virtio-blk: the device reports status %#x after DRIVER_OK; not used\n",
               virtio_pci_status(&blk.pci));
        return false;
    }
    blk.running = true;
    printf("virtio-blk: %lu MiB (%lu sectors)%s, %s cache, requests of up to %u KiB, "
           "seg_max %u, queue %u\n",
           (unsigned long)(blk.info.sector_count >> 11), (unsigned long)blk.info.sector_count,
           blk.info.read_only ? ", read-only" : "",
           blk.info.flush ? "write-back" : "write-through", blk.info.request_bytes >> 10,
           blk.info.seg_max, blk.info.queue_size);
    return true;
}

const struct virtio_blk_info *virtio_blk_info(void)
{
    return blk.running ? &blk.info : NULL;
}

/* Offers one request: header, data (absent for a flush), status. */
static bool submit(uint32_t type, uint64_t sector, uint8_t *data, uint32_t bytes)
{
    uint16_t head = blk.queue.free_head;
    if (head >= blk.queue.size)
        return false;
    struct request_slot *slot = &blk.slots[head];
    slot->header = (struct request_header){.type = type, .reserved = 0, .sector = sector};
    slot->status = STATUS_UNWRITTEN;
    struct virtqueue_buffer parts[DESCRIPTORS_PER_REQUEST];
    uint16_t count = 0;
    parts[count++] = (struct virtqueue_buffer){(uint64_t)(uintptr_t)&slot->header,
                                               sizeof(slot->header), false};
    if (bytes)
        parts[count++] = (struct virtqueue_buffer){(uint64_t)(uintptr_t)data, bytes,
                                                   type == VIRTIO_BLK_T_IN};
    parts[count++] = (struct virtqueue_buffer){(uint64_t)(uintptr_t)&slot->status, 1, true};
    uint16_t id;
    if (!virtqueue_add_chain(&blk.queue, parts, count, &id) || id != head)
        return false;
    /* What the device must report written (2.7.8): the data it read for us, and status. */
    blk.expected_length[head] = (type == VIRTIO_BLK_T_IN ? bytes : 0) + 1;
    return true;
}

/* Checks one completed request; false for a failed one (*fatal: the device is broken). */
static bool complete(uint16_t id, uint32_t length, const char *operation, bool *fatal)
{
    uint8_t status = blk.slots[id].status;
    uint64_t sector = blk.slots[id].header.sector;
    if (status == VIRTIO_BLK_S_OK && length == blk.expected_length[id])
        return true;
    if (status == VIRTIO_BLK_S_IOERR || status == VIRTIO_BLK_S_UNSUPP) {
        printf("virtio-blk: %s at sector %lu: %s\n", operation, (unsigned long)sector,
               status == VIRTIO_BLK_S_IOERR ? "device error" : "unsupported");
        return false;
    }
    char why[96];
    if (status == VIRTIO_BLK_S_OK)
        snprintf(why, sizeof(why), "%s at sector %lu: used length %u, want %u", operation,
                 (unsigned long)sector, length, blk.expected_length[id]);
    else
        snprintf(why, sizeof(why), "%s at sector %lu: status %#x is none of 5.2.6's",
                 operation, (unsigned long)sector, status);
    stop(why);
    *fatal = true;
    return false;
}

static bool transfer(uint32_t type, uint64_t sector, uint32_t count, uint8_t *buffer)
{
    const char *operation = type == VIRTIO_BLK_T_IN    ? "read"
                            : type == VIRTIO_BLK_T_OUT ? "write"
                                                       : "flush";
    if (!blk.running) {
        printf("virtio-blk: %s refused: no disk running\n", operation);
        return false;
    }
    if (type != VIRTIO_BLK_T_FLUSH &&
        (count == 0 || sector >= blk.info.sector_count ||
         count > blk.info.sector_count - sector)) {
        printf("virtio-blk: %s of %u sectors at %lu refused: the disk has %lu\n", operation,
               count, (unsigned long)sector, (unsigned long)blk.info.sector_count);
        return false;
    }
    if (type == VIRTIO_BLK_T_OUT && blk.info.read_only) {
        printf("virtio-blk: write refused: the disk is read-only\n");
        return false;
    }
    uint32_t per_request = blk.info.request_bytes / VIRTIO_BLK_SECTOR_SIZE;
    uint32_t max_in_flight = blk.queue.size / DESCRIPTORS_PER_REQUEST;
    uint32_t submitted = 0, in_flight = 0;
    bool ok = true, fatal = false, flush_sent = false;
    uint64_t timeout_ns = (uint64_t)VIRTIO_BLK_TIMEOUT_MS * 1000000u;
    uint64_t deadline = root_time_ns() + timeout_ns;
    while (!fatal && (in_flight || (ok && (type == VIRTIO_BLK_T_FLUSH ? !flush_sent
                                                                      : submitted < count)))) {
        bool added = false;
        while (ok && in_flight < max_in_flight &&
               (type == VIRTIO_BLK_T_FLUSH ? !flush_sent : submitted < count)) {
            uint32_t n = type == VIRTIO_BLK_T_FLUSH ? 0
                         : count - submitted < per_request ? count - submitted
                                                           : per_request;
            if (!submit(type, sector + submitted,
                        buffer ? buffer + (size_t)submitted * VIRTIO_BLK_SECTOR_SIZE : NULL,
                        n * VIRTIO_BLK_SECTOR_SIZE))
                break; /* the queue is full: wait for a completion */
            submitted += n;
            flush_sent = type == VIRTIO_BLK_T_FLUSH;
            in_flight++;
            added = true;
        }
        if (!added && in_flight == 0) {
            /* Nothing outstanding and nothing could be queued: our own state is wrong. */
            stop("a request could not be queued on an idle queue");
            return false;
        }
        if (added) {
            virtqueue_publish(&blk.queue);
            if (virtqueue_needs_notify(&blk.queue))
                virtio_pci_notify(&blk.pci, &blk.queue, QUEUE_REQUEST);
        }
        uint16_t id;
        uint32_t length;
        if (virtqueue_take_used(&blk.queue, &id, &length)) {
            in_flight--;
            ok &= complete(id, length, operation, &fatal);
            deadline = root_time_ns() + timeout_ns;
            continue;
        }
        if (blk.queue.broken) {
            char why[128];
            snprintf(why, sizeof(why), "the device broke its queue: %s", blk.queue.broken_why);
            stop(why);
            return false;
        }
        if (in_flight && root_time_ns() > deadline) {
            char why[96];
            snprintf(why, sizeof(why), "%s: %u request(s) not completed in %u ms", operation,
                     in_flight, VIRTIO_BLK_TIMEOUT_MS);
            stop(why);
            return false;
        }
        __asm__ volatile("pause");
    }
    return ok && !fatal;
}

bool virtio_blk_read(uint64_t sector, uint32_t count, void *buffer)
{
    return transfer(VIRTIO_BLK_T_IN, sector, count, buffer);
}

bool virtio_blk_write(uint64_t sector, uint32_t count, const void *buffer)
{
    /* The device only reads this buffer (no VIRTQ_DESC_F_WRITE on its descriptor). */
    return transfer(VIRTIO_BLK_T_OUT, sector, count, (uint8_t *)(uintptr_t)buffer);
}

bool virtio_blk_flush(void)
{
    if (blk.running && !blk.info.flush)
        return true; /* write-through: completed writes are already stable (5.2.5.1) */
    return transfer(VIRTIO_BLK_T_FLUSH, 0, 0, NULL);
}
