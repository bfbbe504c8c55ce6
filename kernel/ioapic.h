/*
 * I/O APICs (Intel 82093AA data sheet; ACPI 6.5 5.2.12.3): routing global system
 * interrupts (GSIs) to a vector on one CPU. At init every redirection entry is masked and
 * the legacy 8259 PICs are remapped away from the exception vectors and masked, so no
 * device interrupt arrives until a driver routes it.
 */
#ifndef HVFW_KERNEL_IOAPIC_H
#define HVFW_KERNEL_IOAPIC_H

#include <stdbool.h>
#include <stdint.h>

#include "kernel/acpi.h"

enum ioapic_polarity {
    IOAPIC_ACTIVE_HIGH = 0,
    IOAPIC_ACTIVE_LOW = 1,
};

enum ioapic_trigger {
    IOAPIC_EDGE = 0,
    IOAPIC_LEVEL = 1,
};

/* Takes the IOAPICs from the MADT, masks all their entries and the 8259s. */
void ioapic_init(const struct acpi_madt *madt);

/* Number of GSIs the IOAPICs cover (highest GSI + 1). */
uint32_t ioapic_gsi_count(void);

/* Routes `gsi` to `vector` (>= 32) on the CPU with `apic_id`, fixed delivery, physical
 * destination, and unmasks it. False (and a log line) if no IOAPIC has that GSI, the vector
 * is an exception vector, or the APIC ID does not fit the entry's 8-bit destination. */
bool ioapic_route_gsi(uint32_t gsi, uint8_t vector, uint32_t apic_id,
                      enum ioapic_polarity polarity, enum ioapic_trigger trigger);

/* Routes an ISA IRQ (0-15): the MADT's interrupt source overrides give its GSI, polarity and
 * trigger (5.2.12.5); without one it is GSI = IRQ, active high, edge. */
bool ioapic_route_isa_irq(uint8_t irq, uint8_t vector, uint32_t apic_id);

/* Masks or unmasks a routed GSI. False if no IOAPIC has it. */
bool ioapic_set_masked(uint32_t gsi, bool masked);

#endif
