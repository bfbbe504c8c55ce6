#include "drivers/pci.h"

#include <stdio.h>
#include <string.h>

#ifndef HVFW_HOST_TEST
#include "kernel/x86.h"
#endif

#define CONFIG_ADDRESS 0xCF8
#define CONFIG_DATA 0xCFC
#define CONFIG_ENABLE 0x80000000u
#define HEADER_TYPE_MASK 0x7F
#define HEADER_MULTIFUNCTION 0x80
#define HEADER_TYPE_BRIDGE 1
#define BAR_IO 0x1u
#define BAR_MEMORY_TYPE_MASK 0x6u
#define BAR_MEMORY_64 0x4u
#define BAR_PREFETCHABLE 0x8u
#define CAPABILITY_MIN 0x40
#define CAPABILITY_WALK_MAX 48 /* (256 - 64) / 4: more steps means a loop */
#define BUS_COUNT 256

#ifndef HVFW_HOST_TEST
/* Mechanism #1: the address dword selects bus/device/function/register; the data port
 * then reads or writes that dword (PCI 3.0, 3.2.2.3.2). The root's VPs other than 0 never
 * touch PCI, so the two accesses need no lock. */
static uint32_t port_read32(struct pci_address a, uint8_t offset)
{
    outl(CONFIG_ADDRESS, CONFIG_ENABLE | (uint32_t)a.bus << 16 | (uint32_t)a.slot << 11 |
                             (uint32_t)a.function << 8 | (offset & 0xFCu));
    return inl(CONFIG_DATA);
}

static void port_write32(struct pci_address a, uint8_t offset, uint32_t value)
{
    outl(CONFIG_ADDRESS, CONFIG_ENABLE | (uint32_t)a.bus << 16 | (uint32_t)a.slot << 11 |
                             (uint32_t)a.function << 8 | (offset & 0xFCu));
    outl(CONFIG_DATA, value);
}

static const struct pci_config_ops port_ops = {port_read32, port_write32};
const struct pci_config_ops *pci_config_ops = &port_ops;
#else
const struct pci_config_ops *pci_config_ops;
#endif

static struct pci_device devices[PCI_MAX_DEVICES];
static size_t device_count;

uint32_t pci_read32(const struct pci_device *d, uint8_t offset)
{
    return pci_config_ops->read32(d->address, (uint8_t)(offset & 0xFCu));
}

uint16_t pci_read16(const struct pci_device *d, uint8_t offset)
{
    return (uint16_t)(pci_read32(d, offset) >> ((offset & 2u) * 8));
}

uint8_t pci_read8(const struct pci_device *d, uint8_t offset)
{
    return (uint8_t)(pci_read32(d, offset) >> ((offset & 3u) * 8));
}

void pci_write32(const struct pci_device *d, uint8_t offset, uint32_t value)
{
    pci_config_ops->write32(d->address, (uint8_t)(offset & 0xFCu), value);
}

/* A 16-bit write as a dword read-modify-write of its own half. The Status register is the
 * other half of Command and its error bits are write-1-to-clear: write zeros there. */
void pci_write16(const struct pci_device *d, uint8_t offset, uint16_t value)
{
    uint32_t dword = pci_read32(d, offset);
    unsigned shift = (offset & 2u) * 8;
    if ((offset & 0xFCu) == PCI_COMMAND)
        dword &= 0xFFFFu; /* Status: write-1-to-clear bits stay untouched */
    dword = (dword & ~(0xFFFFu << shift)) | (uint32_t)value << shift;
    pci_write32(d, offset, dword);
}

static bool is_power_of_two(uint64_t v)
{
    return v && !(v & (v - 1));
}

void pci_bars_probe(struct pci_device *d)
{
    memset(d->bars, 0, sizeof(d->bars));
    if ((d->header_type & HEADER_TYPE_MASK) != 0)
        return;
    uint16_t command = pci_read16(d, PCI_COMMAND);
    /* Decoding off while a BAR holds all-ones, or it would claim addresses it must not. */
    pci_write16(d, PCI_COMMAND, command & (uint16_t)~(PCI_COMMAND_IO | PCI_COMMAND_MEMORY));
    for (unsigned i = 0; i < PCI_BAR_COUNT; i++) {
        uint8_t offset = (uint8_t)(PCI_BAR0 + 4 * i);
        uint32_t original = pci_read32(d, offset);
        pci_write32(d, offset, 0xFFFFFFFFu);
        uint32_t mask = pci_read32(d, offset);
        pci_write32(d, offset, original);
        struct pci_bar *bar = &d->bars[i];
        if (original & BAR_IO) {
            uint32_t size_mask = mask & ~0x3u & 0xFFFFu;
            uint64_t size = size_mask ? (uint64_t)((~size_mask + 1u) & 0xFFFFu) : 0;
            uint64_t base = original & ~0x3u;
            bar->io = true;
            if (size && is_power_of_two(size) && !(base & (size - 1)) && base + size <= 0x10000u &&
                base) {
                bar->base = base;
                bar->size = size;
            }
            continue;
        }
        uint32_t type = original & BAR_MEMORY_TYPE_MASK;
        bar->prefetchable = original & BAR_PREFETCHABLE;
        uint64_t base = original & ~0xFu, size_mask = mask & ~0xFu;
        if (type == BAR_MEMORY_64) {
            bar->is64 = true;
            if (i + 1 == PCI_BAR_COUNT) {
                printf("pci: %02x:%02x.%u BAR%u is 64-bit in the last slot; ignored\n",
                       d->address.bus, d->address.slot, d->address.function, i);
                break;
            }
            uint8_t high_offset = (uint8_t)(offset + 4);
            uint32_t high = pci_read32(d, high_offset);
            pci_write32(d, high_offset, 0xFFFFFFFFu);
            uint32_t high_mask = pci_read32(d, high_offset);
            pci_write32(d, high_offset, high);
            base |= (uint64_t)high << 32;
            size_mask |= (uint64_t)high_mask << 32;
            i++; /* the upper half is not a BAR of its own */
        } else if (type != 0) {
            continue; /* reserved memory type: unusable */
        } else if (size_mask) {
            size_mask |= 0xFFFFFFFF00000000ull; /* a 32-bit BAR sizes as if the top were set */
        }
        uint64_t size = size_mask ? ~size_mask + 1 : 0;
        bool ok = size && is_power_of_two(size) && !(base & (size - 1)) &&
                  base + size > base && base != 0 && (bar->is64 || base + size <= (1ull << 32));
        if (ok) {
            bar->base = base;
            bar->size = size;
        } else if (size_mask) {
            printf("pci: %02x:%02x.%u BAR%u base %#llx size mask %#llx is unusable; ignored\n",
                   d->address.bus, d->address.slot, d->address.function, i,
                   (unsigned long long)base, (unsigned long long)size_mask);
        }
    }
    pci_write16(d, PCI_COMMAND, command);
}

void pci_enable(const struct pci_device *d, bool memory, bool io, bool bus_master)
{
    uint16_t command = pci_read16(d, PCI_COMMAND);
    command &= (uint16_t)~(PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_BUS_MASTER);
    command |= (uint16_t)((memory ? PCI_COMMAND_MEMORY : 0) | (io ? PCI_COMMAND_IO : 0) |
                          (bus_master ? PCI_COMMAND_BUS_MASTER : 0) | PCI_COMMAND_INTX_DISABLE);
    pci_write16(d, PCI_COMMAND, command);
}

uint8_t pci_capability_find(const struct pci_device *d, uint8_t id, uint8_t previous)
{
    uint8_t at;
    if (previous == 0) {
        if (!(pci_read16(d, PCI_STATUS) & PCI_STATUS_CAPABILITIES))
            return 0;
        at = pci_read8(d, PCI_CAPABILITY_LIST);
    } else {
        at = pci_read8(d, (uint8_t)(previous + 1));
    }
    for (unsigned steps = 0; steps < CAPABILITY_WALK_MAX; steps++) {
        at &= 0xFCu; /* the bottom two bits are reserved (PCI 3.0, 6.7) */
        if (at < CAPABILITY_MIN)
            return 0;
        if (pci_read8(d, at) == id)
            return at;
        at = pci_read8(d, (uint8_t)(at + 1));
    }
    return 0;
}

static bool read_function(struct pci_address a, struct pci_device *d)
{
    uint32_t ids = pci_config_ops->read32(a, PCI_VENDOR_ID);
    if ((ids & 0xFFFFu) == 0xFFFFu || (ids & 0xFFFFu) == 0)
        return false;
    memset(d, 0, sizeof(*d));
    d->address = a;
    d->vendor = (uint16_t)ids;
    d->device = (uint16_t)(ids >> 16);
    uint32_t class_revision = pci_read32(d, PCI_CLASS_REVISION);
    d->revision = (uint8_t)class_revision;
    d->prog_if = (uint8_t)(class_revision >> 8);
    d->subclass = (uint8_t)(class_revision >> 16);
    d->class_code = (uint8_t)(class_revision >> 24);
    d->header_type = pci_read8(d, PCI_HEADER_TYPE);
    if ((d->header_type & HEADER_TYPE_MASK) == 0)
        d->subsystem = pci_read16(d, PCI_SUBSYSTEM_ID);
    return true;
}

size_t pci_scan(struct pci_device *out, size_t max)
{
    /* Buses to visit: bus 0, then each bridge's secondary bus, each bus once (a device
     * naming a visited bus or bus 0 again cannot make the scan loop). */
    bool queued[BUS_COUNT] = {false};
    uint8_t queue[BUS_COUNT];
    size_t head = 0, tail = 0, found = 0;
    queue[tail++] = 0;
    queued[0] = true;
    while (head < tail) {
        uint8_t bus = queue[head++];
        for (uint8_t slot = 0; slot < 32; slot++) {
            for (uint8_t function = 0; function < 8; function++) {
                struct pci_device d;
                if (!read_function((struct pci_address){bus, slot, function}, &d)) {
                    if (function == 0)
                        break;
                    continue;
                }
                if ((d.header_type & HEADER_TYPE_MASK) == HEADER_TYPE_BRIDGE) {
                    uint8_t secondary = pci_read8(&d, PCI_SECONDARY_BUS);
                    if (secondary != 0 && !queued[secondary] && tail < BUS_COUNT) {
                        queued[secondary] = true;
                        queue[tail++] = secondary;
                    }
                }
                pci_bars_probe(&d);
                if (found == max)
                    return found; /* the table is full: the rest stays unknown */
                out[found++] = d;
                if (function == 0 && !(d.header_type & HEADER_MULTIFUNCTION))
                    break;
            }
        }
    }
    return found;
}

const struct pci_device *pci_find(uint16_t vendor, uint16_t device,
                                  const struct pci_device *from)
{
    size_t start = 0;
    if (from) {
        if (from < devices || from >= devices + device_count)
            return NULL;
        start = (size_t)(from - devices) + 1;
    }
    for (size_t i = start; i < device_count; i++)
        if (devices[i].vendor == vendor && devices[i].device == device)
            return &devices[i];
    return NULL;
}

size_t pci_device_count(void)
{
    return device_count;
}

const struct pci_device *pci_device_at(size_t index)
{
    return index < device_count ? &devices[index] : NULL;
}

size_t pci_scan_devices(void)
{
    device_count = pci_scan(devices, PCI_MAX_DEVICES);
    return device_count;
}

/* --- message-signalled interrupts (PCI Local Bus 3.0, 6.8) ---------------------------- */

#define MSI_CONTROL 2                 /* message control, 16 bits */
#define MSI_CONTROL_ENABLE (1u << 0)
#define MSI_CONTROL_MULTIPLE_ENABLE (7u << 4) /* 0: one vector */
#define MSI_CONTROL_64BIT (1u << 7)
#define MSI_ADDRESS_LOW 4
#define MSI_ADDRESS_HIGH 8            /* 64-bit capable functions only */
#define MSI_DATA_32 8
#define MSI_DATA_64 12

#define MSIX_CONTROL 2
#define MSIX_CONTROL_TABLE_SIZE 0x7FFu /* N-1 */
#define MSIX_CONTROL_FUNCTION_MASK (1u << 14)
#define MSIX_CONTROL_ENABLE (1u << 15)
#define MSIX_TABLE 4                  /* offset in 31:3, BAR indicator in 2:0 */
#define MSIX_ENTRY_SIZE 16            /* address low, address high, data, vector control */
#define MSIX_VECTOR_CONTROL_MASK 1u

static bool msi_fail(char *why, size_t why_size, const char *reason)
{
    snprintf(why, why_size, "%s", reason);
    return false;
}

bool pci_msi_enable(const struct pci_device *d, uint64_t address, uint32_t data, char *why,
                    size_t why_size)
{
    uint8_t cap = pci_capability_find(d, PCI_CAPABILITY_MSI, 0);
    if (!cap)
        return msi_fail(why, why_size, "no MSI capability");
    uint16_t control = pci_read16(d, (uint8_t)(cap + MSI_CONTROL));
    bool wide = control & MSI_CONTROL_64BIT;
    if (!wide && (address >> 32))
        return msi_fail(why, why_size, "a 32-bit MSI capability and a 64-bit message address");
    control &= (uint16_t)~(MSI_CONTROL_ENABLE | MSI_CONTROL_MULTIPLE_ENABLE);
    pci_write16(d, (uint8_t)(cap + MSI_CONTROL), control);
    pci_write32(d, (uint8_t)(cap + MSI_ADDRESS_LOW), (uint32_t)address);
    if (wide)
        pci_write32(d, (uint8_t)(cap + MSI_ADDRESS_HIGH), (uint32_t)(address >> 32));
    pci_write16(d, (uint8_t)(cap + (wide ? MSI_DATA_64 : MSI_DATA_32)), (uint16_t)data);
    pci_write16(d, (uint8_t)(cap + MSI_CONTROL), (uint16_t)(control | MSI_CONTROL_ENABLE));
    return true;
}

bool pci_msix_enable(const struct pci_device *d, uint64_t address, uint32_t data, char *why,
                     size_t why_size)
{
    uint8_t cap = pci_capability_find(d, PCI_CAPABILITY_MSIX, 0);
    if (!cap)
        return msi_fail(why, why_size, "no MSI-X capability");
    uint16_t control = pci_read16(d, (uint8_t)(cap + MSIX_CONTROL));
    uint32_t table = pci_read32(d, (uint8_t)(cap + MSIX_TABLE));
    unsigned bir = table & 7u;
    uint64_t offset = table & ~7u;
    uint64_t entries = (uint64_t)(control & MSIX_CONTROL_TABLE_SIZE) + 1;
    if (bir >= PCI_BAR_COUNT)
        return msi_fail(why, why_size, "the MSI-X table names no BAR");
    const struct pci_bar *bar = &d->bars[bir];
    if (!bar->base || bar->io || offset + entries * MSIX_ENTRY_SIZE > bar->size)
        return msi_fail(why, why_size, "the MSI-X table lies outside its memory BAR");
    /* Enabled with the function masked while entry 0 is written, so no half-written
     * message is ever sent (6.8.2.3). */
    pci_write16(d, (uint8_t)(cap + MSIX_CONTROL),
                (uint16_t)(control | MSIX_CONTROL_ENABLE | MSIX_CONTROL_FUNCTION_MASK));
    volatile uint32_t *entry = (volatile uint32_t *)(uintptr_t)(bar->base + offset);
    entry[0] = (uint32_t)address;
    entry[1] = (uint32_t)(address >> 32);
    entry[2] = data;
    entry[3] = entry[3] & ~MSIX_VECTOR_CONTROL_MASK;
    pci_write16(d, (uint8_t)(cap + MSIX_CONTROL),
                (uint16_t)((control | MSIX_CONTROL_ENABLE) & ~MSIX_CONTROL_FUNCTION_MASK));
    return true;
}
