/*
 * The root's virtio-net driver (virtio 1.2, 5.1) over the modern PCI transport
 * (drivers/virtio.h): the first virtio network device found (0x1041, or transitional 0x1000
 * with subsystem 1), features VIRTIO_F_VERSION_1 and VIRTIO_NET_F_MAC only (no offloads, no
 * merged buffers), one receive and one transmit queue. Polled from the root's main loop
 * (root/network.c); interrupt delivery to the root is later work.
 *
 * Frames are copied: received ones out of the device's buffers (which go straight back on
 * the receive queue), transmitted ones into a free transmit buffer. Device-written
 * lengths are checked against the buffers (drivers/virtio.c checks the rings).
 */
#ifndef HVFW_DRIVERS_VIRTIO_NET_H
#define HVFW_DRIVERS_VIRTIO_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VIRTIO_NET_FRAME_MAX 1514 /* Ethernet header + 1500, no FCS */

/* Finds and starts the device; false if there is none or it cannot be used (printed). */
bool virtio_net_start(uint8_t mac[6]);
/* Queues one Ethernet frame (header included, no FCS); false if the transmit queue is full,
 * the frame too long or the device broken. */
bool virtio_net_transmit(const void *frame, size_t length);
/* Copies the next received frame into `buffer`; its length, or 0 if none is waiting. Frames
 * longer than `size` or shorter than an Ethernet header are dropped. */
size_t virtio_net_receive(void *buffer, size_t size);
/* True once the device wrote something impossible (the driver then stops using it). */
bool virtio_net_broken(void);
/* Makes the receive queue send this MSI-X message when it fills a buffer (transmit stays
 * polled); false, with the reason printed, when the device cannot. */
bool virtio_net_enable_interrupt(uint64_t msi_address, uint32_t msi_data);

#endif
