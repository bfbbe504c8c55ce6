/*
 * PCI in the root partition: configuration mechanism #1 (ports 0xCF8/0xCFC, PCI Local Bus
 * 3.0, 3.2.2.3.2), a scan of bus 0 and the buses behind PCI-to-PCI bridges, BAR sizing
 * (PCI 3.0, 6.2.5.1), the command register and the capability list (6.7).
 *
 * Every value read from a device is untrusted: BARs must be aligned to their size, must
 * not wrap, and 32-bit memory BARs must lie below 4 GiB; capability pointers must point
 * into the device-specific part of the header (0x40..0xFC, dword aligned) and a list
 * is walked at most 48 steps (the most that fit), so a loop ends.
 *
 * Configuration accesses go through `pci_config_ops`, port I/O by default; host unit tests
 * replace it with a fake configuration space.
 */
#ifndef HVFW_DRIVERS_PCI_H
#define HVFW_DRIVERS_PCI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PCI_MAX_DEVICES 64
#define PCI_BAR_COUNT 6

/* Configuration header offsets (PCI 3.0, 6.1) */
#define PCI_VENDOR_ID 0x00
#define PCI_COMMAND 0x04
#define PCI_STATUS 0x06
#define PCI_CLASS_REVISION 0x08
#define PCI_HEADER_TYPE 0x0E
#define PCI_BAR0 0x10
#define PCI_SECONDARY_BUS 0x19 /* type 1 headers */
#define PCI_SUBSYSTEM_ID 0x2E
#define PCI_CAPABILITY_LIST 0x34

#define PCI_COMMAND_IO (1u << 0)
#define PCI_COMMAND_MEMORY (1u << 1)
#define PCI_COMMAND_BUS_MASTER (1u << 2)
#define PCI_COMMAND_INTX_DISABLE (1u << 10)
#define PCI_STATUS_CAPABILITIES (1u << 4)

#define PCI_CAPABILITY_VENDOR 0x09

struct pci_address {
    uint8_t bus, slot, function;
};

struct pci_config_ops {
    uint32_t (*read32)(struct pci_address address, uint8_t offset);
    void (*write32)(struct pci_address address, uint8_t offset, uint32_t value);
};

/* Port I/O by default; tests point it elsewhere. */
extern const struct pci_config_ops *pci_config_ops;

struct pci_bar {
    uint64_t base;  /* 0: absent or unusable */
    uint64_t size;
    bool io;
    bool is64;
    bool prefetchable;
};

struct pci_device {
    struct pci_address address;
    uint16_t vendor, device, subsystem;
    uint8_t class_code, subclass, prog_if, revision, header_type;
    struct pci_bar bars[PCI_BAR_COUNT];
};

uint32_t pci_read32(const struct pci_device *d, uint8_t offset);
uint16_t pci_read16(const struct pci_device *d, uint8_t offset);
uint8_t pci_read8(const struct pci_device *d, uint8_t offset);
void pci_write32(const struct pci_device *d, uint8_t offset, uint32_t value);
void pci_write16(const struct pci_device *d, uint8_t offset, uint16_t value);

/* Finds functions on bus 0 and behind bridges; fills at most `max`, sizes their BARs
 * (type 0 headers). Returns how many it stored. */
size_t pci_scan(struct pci_device *out, size_t max);

/* Sizes the six BARs of a type 0 header with decoding off meanwhile (PCI 3.0, 6.2.5.1):
 * unusable ones (unaligned, wrapping, a 64-bit BAR in the last slot, a 32-bit one above
 * 4 GiB) are left at base 0 and reported. */
void pci_bars_probe(struct pci_device *d);

/* Sets memory/I/O decoding and bus mastering as asked (INTx stays disabled: the root polls). */
void pci_enable(const struct pci_device *d, bool memory, bool io, bool bus_master);

/* The first scanned device with this vendor and device ID after `from` (NULL: from the
 * start), or NULL. */
const struct pci_device *pci_find(uint16_t vendor, uint16_t device,
                                  const struct pci_device *from);

/* The configuration offset of the next capability with ID `id` after `previous` (0: from
 * the list head), or 0 if none. Checked pointers only (see above). */
uint8_t pci_capability_find(const struct pci_device *d, uint8_t id, uint8_t previous);

/* Scans into the table pci_find searches; returns the device count. */
size_t pci_scan_devices(void);

/* The devices pci_scan_devices found (drivers pick theirs with pci_find). */
size_t pci_device_count(void);
const struct pci_device *pci_device_at(size_t index);

/* Message-signalled interrupts (PCI Local Bus 3.0, 6.8). The message (address, data) comes
 * from the hypervisor (root/hvcall.h hvcall_map_device_interrupt). */
#define PCI_CAPABILITY_MSI 0x05
#define PCI_CAPABILITY_MSIX 0x11

/* Writes the message into the MSI capability and enables it with one vector (6.8.1).
 * False, with the reason in `why`, when the function has no MSI capability. */
bool pci_msi_enable(const struct pci_device *d, uint64_t address, uint32_t data, char *why,
                    size_t why_size);

/* Writes the message into entry 0 of the MSI-X table, unmasked, and enables MSI-X (6.8.2);
 * the device's vectors all use entry 0. False, with the reason, when the function has no
 * MSI-X capability or its table does not lie inside the memory BAR it names. */
bool pci_msix_enable(const struct pci_device *d, uint64_t address, uint32_t data, char *why,
                     size_t why_size);

#endif
