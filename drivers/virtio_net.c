#include "drivers/virtio_net.h"

#include <stdio.h>
#include <string.h>

#include "drivers/pci.h"
#include "drivers/virtio.h"
#include "root/memory.h"

#define DEVICE_MODERN 0x1041
#define DEVICE_TRANSITIONAL 0x1000
#define SUBSYSTEM_NETWORK 1
#define VIRTIO_NET_F_MAC 5
#define QUEUE_RECEIVE 0
#define QUEUE_TRANSMIT 1
#define QUEUE_SIZE 128
#define BUFFER_SIZE 2048u
/* struct virtio_net_hdr with VIRTIO_F_VERSION_1: 12 bytes, num_buffers included (5.1.6). */
#define NET_HEADER_SIZE 12u
#define ETHERNET_HEADER 14u
#define MAC_RETRIES 8

static struct {
    struct virtio_pci pci;
    struct virtqueue rx, tx;
    uint8_t *rx_buffers, *tx_buffers;
    bool running;
} net;

static bool broken(void)
{
    if (!net.running)
        return true;
    if (net.rx.broken || net.tx.broken) {
        printf("virtio-net: the device broke its queue: %s; the NIC is stopped\n",
               net.rx.broken ? net.rx.broken_why : net.tx.broken_why);
        virtio_pci_fail(&net.pci);
        net.running = false;
        return true;
    }
    return false;
}

bool virtio_net_broken(void)
{
    return broken();
}

/* The MAC from the device configuration (5.1.4), read until config_generation is stable
 * is unnecessary for a field the device never changes; read twice and compare instead. */
static bool read_mac(uint8_t mac[6])
{
    if (net.pci.device_length < 6)
        return false;
    for (int attempt = 0; attempt < MAC_RETRIES; attempt++) {
        uint8_t a[6], b[6];
        for (int i = 0; i < 6; i++)
            a[i] = net.pci.device[i];
        for (int i = 0; i < 6; i++)
            b[i] = net.pci.device[i];
        if (memcmp(a, b, 6) == 0) {
            memcpy(mac, a, 6);
            return !(mac[0] & 1); /* a multicast address cannot be a station's */
        }
    }
    return false;
}

static bool offer_receive_buffer(void)
{
    uint16_t id = net.rx.free_head;
    if (id >= net.rx.size)
        return false;
    return virtqueue_add(&net.rx, (uint64_t)(uintptr_t)(net.rx_buffers + (size_t)id * BUFFER_SIZE),
                         BUFFER_SIZE, true, &id);
}

bool virtio_net_start(uint8_t mac[6])
{
    const struct pci_device *d =
        virtio_pci_find(DEVICE_MODERN, DEVICE_TRANSITIONAL, SUBSYSTEM_NETWORK);
    if (!d)
        return false;
    char why[96];
    printf("virtio-net: %02x:%02x.%u device %04x\n", d->address.bus, d->address.slot,
           d->address.function, d->device);
    pci_enable(d, true, false, true);
    uint64_t features = 0;
    if (!virtio_pci_attach(&net.pci, d, why, sizeof(why)) ||
        !virtio_pci_negotiate(&net.pci, (1ull << VIRTIO_F_VERSION_1) | (1ull << VIRTIO_NET_F_MAC),
                              &features, why, sizeof(why))) {
        printf("virtio-net: %s; not used\n", why);
        return false;
    }
    size_t ring_bytes = virtqueue_memory_size(QUEUE_SIZE);
    void *rx_ring = root_memory_alloc_zeroed(ring_bytes);
    void *tx_ring = root_memory_alloc_zeroed(ring_bytes);
    net.rx_buffers = root_memory_alloc_zeroed((size_t)QUEUE_SIZE * BUFFER_SIZE);
    net.tx_buffers = root_memory_alloc_zeroed((size_t)QUEUE_SIZE * BUFFER_SIZE);
    if (!rx_ring || !tx_ring || !net.rx_buffers || !net.tx_buffers) {
        virtio_pci_fail(&net.pci);
        printf("virtio-net: no memory for queues; not used\n");
        return false;
    }
    virtqueue_init(&net.rx, QUEUE_SIZE, rx_ring);
    virtqueue_init(&net.tx, QUEUE_SIZE, tx_ring);
    if (!virtio_pci_queue_setup(&net.pci, QUEUE_RECEIVE, &net.rx, QUEUE_SIZE, why, sizeof(why)) ||
        !virtio_pci_queue_setup(&net.pci, QUEUE_TRANSMIT, &net.tx, QUEUE_SIZE, why,
                                sizeof(why))) {
        virtio_pci_fail(&net.pci);
        printf("virtio-net: %s; not used\n", why);
        return false;
    }
    if (!(features & (1ull << VIRTIO_NET_F_MAC)) || !read_mac(mac)) {
        /* A locally administered unicast address (IEEE 802, bit 1 of the first octet). */
        for (int i = 0; i < 6; i++)
            mac[i] = (uint8_t)(root_memory_free_bytes() >> (i * 3)) ^ (uint8_t)(i * 37);
        mac[0] = (uint8_t)((mac[0] & 0xFE) | 0x02);
        printf("virtio-net: no usable MAC from the device; using a local one\n");
    }
    /* 3.1.1 step 8 after the queues; receive buffers may be offered before DRIVER_OK. */
    while (net.rx.free_count && offer_receive_buffer())
        ;
    virtqueue_publish(&net.rx);
    virtio_pci_driver_ok(&net.pci);
    virtio_pci_notify(&net.pci, &net.rx, QUEUE_RECEIVE);
    if (virtio_pci_status(&net.pci) & (VIRTIO_STATUS_NEEDS_RESET | VIRTIO_STATUS_FAILED)) {
        printf("virtio-net: the device reports status %#x after DRIVER_OK; not used\n",
               virtio_pci_status(&net.pci));
        return false;
    }
    net.running = true;
    return true;
}

bool virtio_net_enable_interrupt(uint64_t msi_address, uint32_t msi_data)
{
    char why[96];
    if (!net.running)
        return false;
    if (!pci_msix_enable(net.pci.pci, msi_address, msi_data, why, sizeof(why))) {
        printf("virtio-net: %s; receive stays polled\n", why);
        return false;
    }
    if (!virtio_pci_queue_vector(&net.pci, QUEUE_RECEIVE, 0)) {
        printf("virtio-net: the device refused MSI-X entry 0 for receive; receive stays polled\n");
        return false;
    }
    return true;
}

static void reclaim_transmitted(void)
{
    uint16_t id;
    uint32_t length;
    while (virtqueue_take_used(&net.tx, &id, &length))
        ;
}

bool virtio_net_transmit(const void *frame, size_t length)
{
    if (broken() || length > VIRTIO_NET_FRAME_MAX || length < ETHERNET_HEADER)
        return false;
    reclaim_transmitted();
    if (broken() || net.tx.free_count == 0)
        return false;
    uint16_t id = net.tx.free_head;
    if (id >= net.tx.size)
        return false;
    uint8_t *buffer = net.tx_buffers + (size_t)id * BUFFER_SIZE;
    memset(buffer, 0, NET_HEADER_SIZE); /* no checksum offload, no GSO */
    memcpy(buffer + NET_HEADER_SIZE, frame, length);
    if (!virtqueue_add(&net.tx, (uint64_t)(uintptr_t)buffer, (uint32_t)(NET_HEADER_SIZE + length),
                       false, &id))
        return false;
    virtqueue_publish(&net.tx);
    if (virtqueue_needs_notify(&net.tx))
        virtio_pci_notify(&net.pci, &net.tx, QUEUE_TRANSMIT);
    return true;
}

size_t virtio_net_receive(void *out, size_t size)
{
    for (;;) {
        if (broken())
            return 0;
        uint16_t id;
        uint32_t length;
        if (!virtqueue_take_used(&net.rx, &id, &length))
            return 0;
        const uint8_t *buffer = net.rx_buffers + (size_t)id * BUFFER_SIZE;
        size_t frame = length > NET_HEADER_SIZE ? length - NET_HEADER_SIZE : 0;
        bool keep = frame >= ETHERNET_HEADER && frame <= size;
        if (keep)
            memcpy(out, buffer + NET_HEADER_SIZE, frame);
        /* The buffer goes straight back (it is free_head again). */
        offer_receive_buffer();
        virtqueue_publish(&net.rx);
        if (virtqueue_needs_notify(&net.rx))
            virtio_pci_notify(&net.pci, &net.rx, QUEUE_RECEIVE);
        if (keep)
            return frame;
    }
}
