/*
 * The root's driver for the Intel 82574L (QEMU `-device e1000e`) and 82540EM (QEMU `-device
 * e1000`, the NIC of the PXE boot cases): legacy receive and transmit descriptors (82574
 * datasheet 7.1.4, 7.2.10; 8254x SDM 3.2.3, 3.3.3), one queue each, polled (interrupts
 * masked: device interrupts are not redirected to the root yet). The MAC comes from RAL0/
 * RAH0 as the device loaded them from its NVM, else from the NVM through EERD.
 *
 * The device is untrusted: a receive descriptor's length beyond its buffer, a frame without
 * EOP (our 2 KiB buffers hold any standard frame) or shorter than an Ethernet header is
 * dropped; a reset that never completes leaves the device unused. Frames are copied in and
 * out of DMA buffers in root memory (GPA == host physical address).
 */
#ifndef HVFW_DRIVERS_E1000E_H
#define HVFW_DRIVERS_E1000E_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define E1000E_FRAME_MAX 1514

/* Finds the first 82574L (else 82540EM) and starts it; false if there is none or it cannot be used. */
bool e1000e_start(uint8_t mac[6]);
/* Queues one Ethernet frame (no FCS: the device appends it); false if the ring is full. */
bool e1000e_transmit(const void *frame, size_t length);
/* Copies the next received frame into `buffer`; its length, or 0 if none. */
size_t e1000e_receive(void *buffer, size_t size);
/* Sends this MSI message for received frames, receive overruns and link changes; false,
 * with the reason printed, when the device has no usable MSI capability. */
bool e1000e_enable_interrupt(uint64_t msi_address, uint32_t msi_data);

#endif
