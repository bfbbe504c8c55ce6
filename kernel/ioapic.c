#include "kernel/ioapic.h"

#include "kernel/log.h"
#include "kernel/paging.h"
#include "kernel/spinlock.h"
#include "kernel/x86.h"

/* Indirect register access: IOREGSEL at +0x00, IOWIN at +0x10 (82093AA, 3.1). */
#define IOREGSEL 0x00
#define IOWIN 0x10
#define IOAPIC_REG_ID 0x00
#define IOAPIC_REG_VERSION 0x01
#define IOAPIC_REG_REDIRECTION 0x10 /* entry n: low dword at 0x10 + 2n, high at 0x11 + 2n */

#define IOAPIC_MAX_ENTRIES 120u

#define ENTRY_MASKED (1u << 16)
#define ENTRY_LEVEL (1u << 15)
#define ENTRY_ACTIVE_LOW (1u << 13)

/* 8259A ports and initialization words (8259A data sheet). */
#define PIC1_COMMAND 0x20
#define PIC1_DATA 0x21
#define PIC2_COMMAND 0xA0
#define PIC2_DATA 0xA1

struct ioapic {
    volatile uint32_t *registers;
    uint8_t id;
    uint32_t gsi_base;
    uint32_t entries;
};

static struct ioapic ioapics[ACPI_MAX_IOAPICS];
static size_t ioapic_count;
static const struct acpi_madt *madt_info;
static struct spinlock ioapic_lock = SPINLOCK_INIT;

static uint32_t ioapic_read(const struct ioapic *io, uint8_t reg)
{
    io->registers[IOREGSEL / 4] = reg;
    return io->registers[IOWIN / 4];
}

static void ioapic_write(const struct ioapic *io, uint8_t reg, uint32_t value)
{
    io->registers[IOREGSEL / 4] = reg;
    io->registers[IOWIN / 4] = value;
}

/* Reprograms both 8259s to vectors 0x20-0x2F (so a spurious IRQ 7/15 cannot look like an
 * exception) and masks every line: the IOAPICs deliver device interrupts instead. */
static void pic_disable(void)
{
    outb(PIC1_COMMAND, 0x11); /* ICW1: edge, cascade, ICW4 follows */
    outb(PIC2_COMMAND, 0x11);
    outb(PIC1_DATA, 0x20);    /* ICW2: vector base */
    outb(PIC2_DATA, 0x28);
    outb(PIC1_DATA, 0x04);    /* ICW3: slave on IR2 */
    outb(PIC2_DATA, 0x02);    /* ICW3: slave identity 2 */
    outb(PIC1_DATA, 0x01);    /* ICW4: 8086 mode */
    outb(PIC2_DATA, 0x01);
    outb(PIC1_DATA, 0xFF);    /* OCW1: mask all */
    outb(PIC2_DATA, 0xFF);
}

static struct ioapic *ioapic_for_gsi(uint32_t gsi, uint32_t *pin)
{
    for (size_t i = 0; i < ioapic_count; i++) {
        struct ioapic *io = &ioapics[i];
        if (gsi >= io->gsi_base && gsi - io->gsi_base < io->entries) {
            *pin = gsi - io->gsi_base;
            return io;
        }
    }
    return NULL;
}

void ioapic_init(const struct acpi_madt *madt)
{
    madt_info = madt;
    if (madt->flags & ACPI_MADT_PCAT_COMPAT)
        pic_disable();
    for (size_t i = 0; i < madt->ioapic_count; i++) {
        const struct acpi_ioapic *entry = &madt->ioapics[i];
        if (entry->address == 0 || (entry->address & 0xF) != 0) {
            log_warn("ioapic: id %u at %x: not a usable register address; ignored",
                     entry->id, entry->address);
            continue;
        }
        /* IOREGSEL and IOWIN: the first 0x20 bytes of the window. */
        if (!paging_map_mmio(entry->address, 0x20)) {
            log_warn("ioapic: id %u at %x cannot be mapped; ignored", entry->id, entry->address);
            continue;
        }
        struct ioapic *io = &ioapics[ioapic_count];
        io->registers = (volatile uint32_t *)(uintptr_t)entry->address;
        io->id = entry->id;
        io->gsi_base = entry->gsi_base;
        uint32_t version = ioapic_read(io, IOAPIC_REG_VERSION);
        if (version == 0xFFFFFFFFu) {
            log_warn("ioapic: id %u at %x does not answer; ignored", entry->id, entry->address);
            continue;
        }
        io->entries = ((version >> 16) & 0xFF) + 1;
        /* Entry registers are 8-bit indexes: 0x10 + 2 * 119 + 1 = 0xFF is the last one. */
        if (io->entries > IOAPIC_MAX_ENTRIES)
            io->entries = IOAPIC_MAX_ENTRIES;
        for (uint32_t pin = 0; pin < io->entries; pin++) {
            ioapic_write(io, (uint8_t)(IOAPIC_REG_REDIRECTION + 2 * pin), ENTRY_MASKED);
            ioapic_write(io, (uint8_t)(IOAPIC_REG_REDIRECTION + 2 * pin + 1), 0);
        }
        ioapic_count++;
        log_info("ioapic: id %u at %x, version %x, GSIs %u-%u, all masked", io->id,
                 entry->address, version & 0xFF, io->gsi_base, io->gsi_base + io->entries - 1);
    }
    if (ioapic_count == 0)
        log_warn("ioapic: none usable; device interrupts cannot be routed");
}

uint32_t ioapic_gsi_count(void)
{
    uint32_t count = 0;
    for (size_t i = 0; i < ioapic_count; i++)
        if (ioapics[i].gsi_base + ioapics[i].entries > count)
            count = ioapics[i].gsi_base + ioapics[i].entries;
    return count;
}

bool ioapic_route_gsi(uint32_t gsi, uint8_t vector, uint32_t apic_id,
                      enum ioapic_polarity polarity, enum ioapic_trigger trigger)
{
    uint32_t pin;
    struct ioapic *io = ioapic_for_gsi(gsi, &pin);
    if (!io) {
        log_error("ioapic: no IOAPIC has GSI %u", gsi);
        return false;
    }
    if (vector < 32) {
        log_error("ioapic: vector %u for GSI %u is an exception vector", vector, gsi);
        return false;
    }
    if (apic_id > 0xFF) {
        /* Physical destination is 8 bits (82093AA 3.2.4); more needs interrupt remapping. */
        log_error("ioapic: APIC ID %u for GSI %u does not fit a redirection entry", apic_id,
                  gsi);
        return false;
    }
    uint32_t low = vector; /* fixed delivery, physical destination mode */
    if (polarity == IOAPIC_ACTIVE_LOW)
        low |= ENTRY_ACTIVE_LOW;
    if (trigger == IOAPIC_LEVEL)
        low |= ENTRY_LEVEL;
    uint64_t flags = spin_lock_irqsave(&ioapic_lock);
    /* Masked while the destination is written, so no half-written entry can fire. */
    ioapic_write(io, (uint8_t)(IOAPIC_REG_REDIRECTION + 2 * pin), ENTRY_MASKED);
    ioapic_write(io, (uint8_t)(IOAPIC_REG_REDIRECTION + 2 * pin + 1), apic_id << 24);
    ioapic_write(io, (uint8_t)(IOAPIC_REG_REDIRECTION + 2 * pin), low);
    spin_unlock_irqrestore(&ioapic_lock, flags);
    log_debug("ioapic: GSI %u -> vector %u on APIC %u (%s, %s)", gsi, vector, apic_id,
              polarity == IOAPIC_ACTIVE_LOW ? "active low" : "active high",
              trigger == IOAPIC_LEVEL ? "level" : "edge");
    return true;
}

bool ioapic_route_isa_irq(uint8_t irq, uint8_t vector, uint32_t apic_id)
{
    uint32_t gsi = irq;
    /* ISA defaults (5.2.12.5, "conforms to the bus"): active high, edge. */
    enum ioapic_polarity polarity = IOAPIC_ACTIVE_HIGH;
    enum ioapic_trigger trigger = IOAPIC_EDGE;
    for (size_t i = 0; madt_info && i < madt_info->override_count; i++) {
        const struct acpi_override *o = &madt_info->overrides[i];
        if (o->bus != 0 || o->source != irq)
            continue;
        gsi = o->gsi;
        if ((o->flags & ACPI_ISO_POLARITY_MASK) == ACPI_ISO_POLARITY_LOW)
            polarity = IOAPIC_ACTIVE_LOW;
        if ((o->flags & ACPI_ISO_TRIGGER_MASK) == ACPI_ISO_TRIGGER_LEVEL)
            trigger = IOAPIC_LEVEL;
        break;
    }
    return ioapic_route_gsi(gsi, vector, apic_id, polarity, trigger);
}

bool ioapic_set_masked(uint32_t gsi, bool masked)
{
    uint32_t pin;
    struct ioapic *io = ioapic_for_gsi(gsi, &pin);
    if (!io)
        return false;
    uint8_t reg = (uint8_t)(IOAPIC_REG_REDIRECTION + 2 * pin);
    uint64_t flags = spin_lock_irqsave(&ioapic_lock);
    uint32_t low = ioapic_read(io, reg);
    ioapic_write(io, reg, masked ? (low | ENTRY_MASKED) : (low & ~ENTRY_MASKED));
    spin_unlock_irqrestore(&ioapic_lock, flags);
    return true;
}
