#include "drivers/virtio.h"

#include <stdio.h>
#include <string.h>

#define PAGE 4096u
#define AVAIL_FLAGS 0
#define AVAIL_IDX 1
#define AVAIL_RING 2
#define USED_IDX 1
#define USED_RING_BYTE_OFFSET 4

/* struct virtio_pci_cap (4.1.4) */
#define CAP_CFG_TYPE 3
#define CAP_BAR 4
#define CAP_OFFSET 8
#define CAP_LENGTH 12
#define CAP_NOTIFY_MULTIPLIER 16
#define CAP_COMMON 1
#define CAP_NOTIFY 2
#define CAP_DEVICE 4

/* struct virtio_pci_common_cfg (4.1.4.3) */
#define COMMON_DEVICE_FEATURE_SELECT 0x00
#define COMMON_DEVICE_FEATURE 0x04
#define COMMON_DRIVER_FEATURE_SELECT 0x08
#define COMMON_DRIVER_FEATURE 0x0C
#define COMMON_NUM_QUEUES 0x12
#define COMMON_DEVICE_STATUS 0x14
#define COMMON_QUEUE_SELECT 0x16
#define COMMON_QUEUE_SIZE 0x18
#define COMMON_QUEUE_MSIX_VECTOR 0x1A
#define COMMON_QUEUE_ENABLE 0x1C
#define COMMON_QUEUE_NOTIFY_OFF 0x1E
#define COMMON_QUEUE_DESC 0x20
#define COMMON_QUEUE_DRIVER 0x28
#define COMMON_QUEUE_DEVICE 0x30
#define COMMON_LENGTH 0x38
#define NO_VECTOR VIRTIO_NO_VECTOR
#define RESET_WAIT_LOOPS 1000000

/* --- the split virtqueue ------------------------------------------------------------- */

static size_t used_offset(uint16_t size)
{
    size_t end_of_avail = 16u * size + 2u * (3u + size);
    return (end_of_avail + PAGE - 1) & ~(size_t)(PAGE - 1);
}

size_t virtqueue_memory_size(uint16_t size)
{
    size_t used_bytes = 2u * 3u + 8u * size;
    return used_offset(size) + ((used_bytes + PAGE - 1) & ~(size_t)(PAGE - 1));
}

bool virtqueue_init(struct virtqueue *q, uint16_t size, void *memory)
{
    if (size == 0 || size > VIRTIO_QUEUE_SIZE_MAX || (size & (size - 1)))
        return false;
    memset(q, 0, sizeof(*q));
    q->size = size;
    q->desc = (volatile struct virtq_desc *)memory;
    q->avail = (volatile uint16_t *)((uint8_t *)memory + 16u * size);
    q->used = (volatile uint16_t *)((uint8_t *)memory + used_offset(size));
    for (uint16_t i = 0; i < size; i++)
        q->desc[i].next = (uint16_t)(i + 1);
    q->free_head = 0;
    q->free_count = size;
    return true;
}

uint64_t virtqueue_desc_address(const struct virtqueue *q)
{
    return (uint64_t)(uintptr_t)q->desc;
}

uint64_t virtqueue_avail_address(const struct virtqueue *q)
{
    return (uint64_t)(uintptr_t)q->avail;
}

uint64_t virtqueue_used_address(const struct virtqueue *q)
{
    return (uint64_t)(uintptr_t)q->used;
}

static void queue_broken(struct virtqueue *q, const char *why, uint32_t value)
{
    if (!q->broken)
        snprintf(q->broken_why, sizeof(q->broken_why), "%s (%u)", why, value);
    q->broken = true;
}

bool virtqueue_add(struct virtqueue *q, uint64_t address, uint32_t length, bool device_writes,
                   uint16_t *id)
{
    /* A chain of one: the same descriptor, flags and ring entry. */
    const struct virtqueue_buffer part = { address, length, device_writes };
    return virtqueue_add_chain(q, &part, 1, id);
}

bool virtqueue_add_chain(struct virtqueue *q, const struct virtqueue_buffer *parts,
                         uint16_t count, uint16_t *id)
{
    if (q->broken || count == 0 || count > q->free_count)
        return false;
    uint32_t total = 0;
    for (uint16_t i = 0; i < count; i++) {
        /* 2.7.5.2: no device-readable part after a device-writable one, and the chain under 4 GiB. */
        if (parts[i].length == 0 || (i > 0 && parts[i - 1].device_writes && !parts[i].device_writes) ||
            parts[i].length > UINT32_MAX - total)
            return false;
        total += parts[i].length;
    }
    uint16_t head = q->free_head, previous = 0;
    for (uint16_t i = 0; i < count; i++) {
        uint16_t d = q->free_head;
        /* Our own free list: the device never writes descriptors (2.7.5), but check anyway. */
        if (d >= q->size || q->buffer_len[d] != 0) {
            queue_broken(q, "descriptor free list corrupted at", d);
            return false;
        }
        q->free_head = q->desc[d].next;
        q->free_count--;
        q->desc[d].addr = parts[i].address;
        q->desc[d].len = parts[i].length;
        q->buffer_len[d] = parts[i].length;
        q->chain_count[d] = 0;
        if (i > 0) {
            q->desc[previous].next = d;
            q->desc[previous].flags |= VIRTQ_DESC_F_NEXT;
            q->chain_next[previous] = d;
        }
        q->desc[d].flags = parts[i].device_writes ? VIRTQ_DESC_F_WRITE : 0;
        previous = d;
    }
    /* The used length is checked against the whole chain's bytes. */
    q->buffer_len[head] = total;
    q->chain_count[head] = count;
    q->avail[AVAIL_RING + (q->avail_idx & (q->size - 1))] = head;
    q->avail_idx++;
    *id = head;
    return true;
}

void virtqueue_publish(struct virtqueue *q)
{
    /* The descriptors and ring entries before the index (2.7.13.3.1). */
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    q->avail[AVAIL_IDX] = q->avail_idx;
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
}

bool virtqueue_needs_notify(const struct virtqueue *q)
{
    __atomic_thread_fence(__ATOMIC_SEQ_CST); /* the avail index before the flag (2.7.13.3) */
    return !(q->used[0] & VIRTQ_USED_F_NO_NOTIFY);
}

bool virtqueue_take_used(struct virtqueue *q, uint16_t *id, uint32_t *length)
{
    if (q->broken)
        return false;
    uint16_t used_idx = q->used[USED_IDX];
    if (used_idx == q->used_seen)
        return false;
    /* The device cannot have used more than is outstanding. */
    uint16_t outstanding = (uint16_t)(q->size - q->free_count);
    if ((uint16_t)(used_idx - q->used_seen) > outstanding) {
        queue_broken(q, "used index ran ahead of the buffers offered, by",
                     (uint16_t)(used_idx - q->used_seen - outstanding));
        return false;
    }
    __atomic_thread_fence(__ATOMIC_ACQUIRE); /* the entry after the index (2.7.14) */
    const volatile struct virtq_used_elem *ring =
        (const volatile struct virtq_used_elem *)((const volatile uint8_t *)q->used +
                                                  USED_RING_BYTE_OFFSET);
    struct virtq_used_elem e = {ring[q->used_seen & (q->size - 1)].id,
                                ring[q->used_seen & (q->size - 1)].len};
    /* Only the head of an outstanding chain (a lone buffer is a chain of one). */
    if (e.id >= q->size || q->buffer_len[e.id] == 0 || q->chain_count[e.id] == 0) {
        queue_broken(q, "used ring names a descriptor not offered:", e.id);
        return false;
    }
    if (e.len > q->buffer_len[e.id]) {
        queue_broken(q, "used length beyond its buffer:", e.len);
        return false;
    }
    q->used_seen++;
    uint16_t d = (uint16_t)e.id, count = q->chain_count[e.id];
    for (uint16_t i = 0; i < count; i++) {
        uint16_t next = q->chain_next[d];
        q->buffer_len[d] = 0;
        q->chain_count[d] = 0;
        q->desc[d].next = q->free_head;
        q->free_head = d;
        q->free_count++;
        d = next;
    }
    *id = (uint16_t)e.id;
    *length = e.len;
    return true;
}

/* --- the PCI transport ------------------------------------------------------------------ */

static uint8_t read8(volatile uint8_t *base, uint32_t offset)
{
    return *(volatile uint8_t *)(base + offset);
}

static uint16_t read16(volatile uint8_t *base, uint32_t offset)
{
    return *(volatile uint16_t *)(base + offset);
}

static uint32_t read32(volatile uint8_t *base, uint32_t offset)
{
    return *(volatile uint32_t *)(base + offset);
}

static void write8(volatile uint8_t *base, uint32_t offset, uint8_t value)
{
    *(volatile uint8_t *)(base + offset) = value;
}

static void write16(volatile uint8_t *base, uint32_t offset, uint16_t value)
{
    *(volatile uint16_t *)(base + offset) = value;
}

static void write32(volatile uint8_t *base, uint32_t offset, uint32_t value)
{
    *(volatile uint32_t *)(base + offset) = value;
}

/* 64-bit fields as two 32-bit writes, low first (4.1.3.1 allows it). */
static void write64(volatile uint8_t *base, uint32_t offset, uint64_t value)
{
    write32(base, offset, (uint32_t)value);
    write32(base, offset + 4, (uint32_t)(value >> 32));
}

bool virtio_pci_capability_check(const struct pci_device *pci,
                                 const struct virtio_pci_capability *cap, uint32_t min_length)
{
    if (cap->bar >= PCI_BAR_COUNT)
        return false; /* 4.1.4: values 0x6-0xFF are reserved: ignore the structure */
    const struct pci_bar *bar = &pci->bars[cap->bar];
    if (bar->base == 0 || bar->io || cap->length < min_length)
        return false;
    return (uint64_t)cap->offset + cap->length <= bar->size;
}

static bool fail(char *why, size_t size, const char *text)
{
    snprintf(why, size, "%s", text);
    return false;
}

const struct pci_device *virtio_pci_find(uint16_t modern_device, uint16_t transitional_device,
                                         uint16_t virtio_device_id)
{
    const struct pci_device *d = pci_find(VIRTIO_PCI_VENDOR, modern_device, NULL);
    if (d)
        return d;
    for (d = pci_find(VIRTIO_PCI_VENDOR, transitional_device, NULL); d;
         d = pci_find(VIRTIO_PCI_VENDOR, transitional_device, d))
        if (d->subsystem == virtio_device_id)
            return d;
    return NULL;
}

bool virtio_pci_attach(struct virtio_pci *v, const struct pci_device *pci, char *why,
                       size_t why_size)
{
    memset(v, 0, sizeof(*v));
    v->pci = pci;
    /* 4.1.4: the driver uses the first capability of each type it can use. */
    for (uint8_t at = pci_capability_find(pci, PCI_CAPABILITY_VENDOR, 0); at;
         at = pci_capability_find(pci, PCI_CAPABILITY_VENDOR, at)) {
        struct virtio_pci_capability cap = {
            .type = pci_read8(pci, (uint8_t)(at + CAP_CFG_TYPE)),
            .bar = pci_read8(pci, (uint8_t)(at + CAP_BAR)),
            .offset = at + CAP_OFFSET < 0x100 ? pci_read32(pci, (uint8_t)(at + CAP_OFFSET)) : 0,
            .length = at + CAP_LENGTH < 0x100 ? pci_read32(pci, (uint8_t)(at + CAP_LENGTH)) : 0,
        };
        uint32_t min = cap.type == CAP_COMMON ? COMMON_LENGTH : cap.type == CAP_NOTIFY ? 2 : 1;
        if ((cap.type != CAP_COMMON && cap.type != CAP_NOTIFY && cap.type != CAP_DEVICE) ||
            !virtio_pci_capability_check(pci, &cap, min))
            continue;
        volatile uint8_t *base =
            (volatile uint8_t *)(uintptr_t)(pci->bars[cap.bar].base + cap.offset);
        if (cap.type == CAP_COMMON && !v->common) {
            v->common = base;
        } else if (cap.type == CAP_NOTIFY && !v->notify && at + CAP_NOTIFY_MULTIPLIER < 0xFD) {
            v->notify = base;
            v->notify_length = cap.length;
            v->notify_multiplier = pci_read32(pci, (uint8_t)(at + CAP_NOTIFY_MULTIPLIER));
        } else if (cap.type == CAP_DEVICE && !v->device) {
            v->device = base;
            v->device_length = cap.length;
        }
    }
    if (!v->common)
        return fail(why, why_size, "no usable common configuration capability");
    if (!v->notify)
        return fail(why, why_size, "no usable notification capability");
    if (!v->device)
        return fail(why, why_size, "no usable device configuration capability");
    return true;
}

uint8_t virtio_pci_status(struct virtio_pci *v)
{
    return read8(v->common, COMMON_DEVICE_STATUS);
}

void virtio_pci_fail(struct virtio_pci *v)
{
    write8(v->common, COMMON_DEVICE_STATUS, virtio_pci_status(v) | VIRTIO_STATUS_FAILED);
}

bool virtio_pci_negotiate(struct virtio_pci *v, uint64_t wanted, uint64_t *accepted,
                          char *why, size_t why_size)
{
    /* Reset, and wait for it to read back 0 (4.1.4.3.2), bounded. */
    write8(v->common, COMMON_DEVICE_STATUS, 0);
    int loops = 0;
    while (read8(v->common, COMMON_DEVICE_STATUS) != 0 && ++loops < RESET_WAIT_LOOPS)
        __asm__ volatile("pause");
    if (loops == RESET_WAIT_LOOPS)
        return fail(why, why_size, "the device does not finish its reset");
    write8(v->common, COMMON_DEVICE_STATUS, VIRTIO_STATUS_ACKNOWLEDGE);
    write8(v->common, COMMON_DEVICE_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
    uint64_t offered = 0;
    for (uint32_t half = 0; half < 2; half++) {
        write32(v->common, COMMON_DEVICE_FEATURE_SELECT, half);
        offered |= (uint64_t)read32(v->common, COMMON_DEVICE_FEATURE) << (32 * half);
    }
    uint64_t features = offered & wanted;
    if (!(features & (1ull << VIRTIO_F_VERSION_1))) {
        virtio_pci_fail(v);
        return fail(why, why_size, "the device does not offer VIRTIO_F_VERSION_1");
    }
    for (uint32_t half = 0; half < 2; half++) {
        write32(v->common, COMMON_DRIVER_FEATURE_SELECT, half);
        write32(v->common, COMMON_DRIVER_FEATURE, (uint32_t)(features >> (32 * half)));
    }
    write8(v->common, COMMON_DEVICE_STATUS,
           VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK);
    if (!(read8(v->common, COMMON_DEVICE_STATUS) & VIRTIO_STATUS_FEATURES_OK)) {
        virtio_pci_fail(v);
        return fail(why, why_size, "the device refused our feature subset (FEATURES_OK)");
    }
    *accepted = features;
    return true;
}

bool virtio_pci_queue_setup(struct virtio_pci *v, uint16_t index, struct virtqueue *q,
                            uint16_t size, char *why, size_t why_size)
{
    if (index >= read16(v->common, COMMON_NUM_QUEUES))
        return fail(why, why_size, "the device has fewer queues than it needs");
    write16(v->common, COMMON_QUEUE_SELECT, index);
    uint16_t max = read16(v->common, COMMON_QUEUE_SIZE);
    if (max == 0)
        return fail(why, why_size, "queue not available (size 0)");
    uint16_t use = size;
    while (use > max)
        use /= 2;
    /* q was laid out by the caller for `size`; a smaller queue re-lays the same memory. */
    if (use != q->size && !virtqueue_init(q, use, (void *)(uintptr_t)q->desc))
        return fail(why, why_size, "queue size unusable");
    uint16_t notify_off = read16(v->common, COMMON_QUEUE_NOTIFY_OFF);
    if ((uint64_t)notify_off * v->notify_multiplier + 2 > v->notify_length)
        return fail(why, why_size, "queue notify offset outside the notify structure");
    q->notify_offset = (uint32_t)notify_off * v->notify_multiplier;
    write16(v->common, COMMON_QUEUE_SIZE, use);
    write16(v->common, COMMON_QUEUE_MSIX_VECTOR, NO_VECTOR); /* polled */
    write64(v->common, COMMON_QUEUE_DESC, virtqueue_desc_address(q));
    write64(v->common, COMMON_QUEUE_DRIVER, virtqueue_avail_address(q));
    write64(v->common, COMMON_QUEUE_DEVICE, virtqueue_used_address(q));
    write16(v->common, COMMON_QUEUE_ENABLE, 1);
    return true;
}

bool virtio_pci_queue_vector(struct virtio_pci *v, uint16_t index, uint16_t vector)
{
    write16(v->common, COMMON_QUEUE_SELECT, index);
    write16(v->common, COMMON_QUEUE_MSIX_VECTOR, vector);
    return read16(v->common, COMMON_QUEUE_MSIX_VECTOR) == vector;
}

void virtio_pci_driver_ok(struct virtio_pci *v)
{
    write8(v->common, COMMON_DEVICE_STATUS,
           VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK |
               VIRTIO_STATUS_DRIVER_OK);
}

void virtio_pci_notify(struct virtio_pci *v, const struct virtqueue *q, uint16_t index)
{
    write16(v->notify, q->notify_offset, index);
}
