/*
 * Virtio 1.x for the root's drivers: the split virtqueue (virtio 1.2, 2.7) and the PCI
 * transport with the modern capabilities (4.1.4). The device is untrusted: every index it
 * writes into a used ring is checked (an id that is not outstanding, a length beyond the
 * buffer, a used index that runs ahead of what was offered) and a broken device marks the
 * queue broken instead of being followed. Drivers poll; a queue may also raise an MSI-X
 * message (virtio_pci_queue_vector) that the hypervisor turns into a wake-up of the root.
 *
 * Buffers are single descriptors; DMA addresses are root GPAs, equal to host physical
 * addresses for the root's own memory (hv/root_partition.c maps it 1:1).
 */
#ifndef HVFW_DRIVERS_VIRTIO_H
#define HVFW_DRIVERS_VIRTIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "drivers/pci.h"

#define VIRTIO_PCI_VENDOR 0x1AF4
#define VIRTIO_QUEUE_SIZE_MAX 256

/* Device status (2.1) */
#define VIRTIO_STATUS_ACKNOWLEDGE 1u
#define VIRTIO_STATUS_DRIVER 2u
#define VIRTIO_STATUS_DRIVER_OK 4u
#define VIRTIO_STATUS_FEATURES_OK 8u
#define VIRTIO_STATUS_NEEDS_RESET 64u
#define VIRTIO_STATUS_FAILED 128u

#define VIRTIO_F_VERSION_1 32

/* 2.7.5 */
struct virtq_desc {
    uint64_t addr;
    uint32_t len;
    uint16_t flags;
    uint16_t next;
};
#define VIRTQ_DESC_F_NEXT 1u
#define VIRTQ_DESC_F_WRITE 2u
#define VIRTQ_USED_F_NO_NOTIFY 1u
#define VIRTQ_AVAIL_F_NO_INTERRUPT 1u
#define VIRTIO_NO_VECTOR 0xFFFFu

struct virtq_used_elem {
    uint32_t id;
    uint32_t len;
};

/* The driver's view of one split virtqueue. */
struct virtqueue {
    uint16_t size;                /* a power of two, <= VIRTIO_QUEUE_SIZE_MAX */
    volatile struct virtq_desc *desc;
    volatile uint16_t *avail;     /* flags, idx, ring[size], used_event */
    volatile uint16_t *used;      /* flags, idx, then ring of virtq_used_elem */
    uint16_t avail_idx;           /* next avail index we will publish */
    uint16_t used_seen;           /* used entries consumed */
    uint16_t free_head;           /* free descriptor list, through `next` */
    uint16_t free_count;
    uint32_t buffer_len[VIRTIO_QUEUE_SIZE_MAX]; /* of each outstanding descriptor, 0 = free */
    /* Chains (virtqueue_add_chain): descriptors in the chain this head starts (0 for a
     * descriptor that is not a head) and each link, kept here rather than read back from
     * the descriptor table the device can see. */
    uint16_t chain_count[VIRTIO_QUEUE_SIZE_MAX];
    uint16_t chain_next[VIRTIO_QUEUE_SIZE_MAX];
    uint32_t notify_offset;       /* in the notify structure, checked at setup */
    bool broken;                  /* the device wrote something impossible */
    char broken_why[96];
};

/* Bytes of ring memory for `size` entries (desc, avail, then used at 4 KiB). */
size_t virtqueue_memory_size(uint16_t size);
/* Lays a queue over zeroed, 4 KiB aligned `memory` of virtqueue_memory_size bytes. False
 * if size is not a power of two in 1..VIRTIO_QUEUE_SIZE_MAX. */
bool virtqueue_init(struct virtqueue *q, uint16_t size, void *memory);
/* GPAs of the three parts (the rings are identity-mapped root memory). */
uint64_t virtqueue_desc_address(const struct virtqueue *q);
uint64_t virtqueue_avail_address(const struct virtqueue *q);
uint64_t virtqueue_used_address(const struct virtqueue *q);
/* Offers one buffer (device_writes: a receive buffer); false if the queue is full or
 * broken. *id is its descriptor index. Seen by the device after virtqueue_publish. */
bool virtqueue_add(struct virtqueue *q, uint64_t address, uint32_t length, bool device_writes,
                   uint16_t *id);
/* One part of a descriptor chain (2.7.5: device-readable parts before device-writable ones). */
struct virtqueue_buffer {
    uint64_t address;
    uint32_t length;
    bool device_writes;
};
/* Offers `count` buffers as one chain (VIRTQ_DESC_F_NEXT), e.g. a virtio-blk request's
 * header, data and status (5.2.6). False if there are not `count` free descriptors, a part
 * is empty, a readable part follows a writable one, or the queue is broken. *id is the
 * head; virtqueue_take_used returns the head and frees the whole chain. */
bool virtqueue_add_chain(struct virtqueue *q, const struct virtqueue_buffer *parts,
                         uint16_t count, uint16_t *id);
/* Makes added buffers visible: barrier, then the avail index (2.7.13). */
void virtqueue_publish(struct virtqueue *q);
/* Whether the device wants a notification for what was published: not when it set
 * VIRTQ_USED_F_NO_NOTIFY (2.7.10; no VIRTIO_F_EVENT_IDX here). A device that lies only
 * delays its own work: the driver notifies again on the next publish. */
bool virtqueue_needs_notify(const struct virtqueue *q);
/* Takes the next used buffer (or chain, by its head): its id and the bytes the device wrote. False when there is
 * none or the queue is broken (then q->broken_why says why). */
bool virtqueue_take_used(struct virtqueue *q, uint16_t *id, uint32_t *length);

/* A virtio PCI device with the modern capabilities (4.1.4). */
struct virtio_pci {
    const struct pci_device *pci;
    volatile uint8_t *common;    /* struct virtio_pci_common_cfg */
    volatile uint8_t *notify;    /* notification area */
    uint32_t notify_length;
    uint32_t notify_multiplier;
    volatile uint8_t *device;    /* device-specific configuration */
    uint32_t device_length;
};

/* The device to drive: the first with the modern PCI device id (0x1040 + the virtio device
 * id), else the first with the transitional id whose subsystem id is the virtio device id
 * (4.1.2.1 "Device Requirements: PCI Device Discovery"); NULL if neither is there. */
const struct pci_device *virtio_pci_find(uint16_t modern_device, uint16_t transitional_device,
                                         uint16_t virtio_device_id);
/* Finds and checks the common, notify and device capabilities (cap in its BAR, length
 * big enough); false with *why filled if a structure is missing or out of bounds. */
bool virtio_pci_attach(struct virtio_pci *v, const struct pci_device *pci, char *why,
                       size_t why_size);
/* 3.1.1 steps 1-6: reset, ACKNOWLEDGE, DRIVER, then the features both sides have from
 * `wanted` (VIRTIO_F_VERSION_1 required), FEATURES_OK checked. *accepted: the result. */
bool virtio_pci_negotiate(struct virtio_pci *v, uint64_t wanted, uint64_t *accepted,
                          char *why, size_t why_size);
/* Sets up queue `index` with ring memory the caller owns (size: min(device max, `size`)). */
bool virtio_pci_queue_setup(struct virtio_pci *v, uint16_t index, struct virtqueue *q,
                            uint16_t size, char *why, size_t why_size);
/* Points queue `index` at MSI-X table entry `vector` (VIRTIO_NO_VECTOR: none) and checks the
 * device took it (4.1.4.3: it answers NO_VECTOR when it cannot). MSI-X must be enabled. */
bool virtio_pci_queue_vector(struct virtio_pci *v, uint16_t index, uint16_t vector);
void virtio_pci_driver_ok(struct virtio_pci *v);
void virtio_pci_notify(struct virtio_pci *v, const struct virtqueue *q, uint16_t index);
uint8_t virtio_pci_status(struct virtio_pci *v);
void virtio_pci_fail(struct virtio_pci *v);

/* A virtio capability as read from configuration space, and its check: exported for the
 * host tests. */
struct virtio_pci_capability {
    uint8_t type, bar;
    uint32_t offset, length;
};
bool virtio_pci_capability_check(const struct pci_device *pci,
                                 const struct virtio_pci_capability *cap, uint32_t min_length);

#endif
