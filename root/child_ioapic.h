/*
 * The emulated IOAPIC of a child partition at GPA 0xFEC00000 (the MADT's, root/child_acpi.h):
 * an Intel 82093AA I/O APIC (datasheet 290566, 3.0 "Register Description").
 *
 * Two memory-mapped registers: IOREGSEL (offset 0x00, the index in bits 7:0) and IOWIN
 * (offset 0x10, the 32-bit window on the selected register). Indirect registers:
 *   0x00 IOAPICID  bits 27:24 the ID (read/write)
 *   0x01 IOAPICVER 0x00170011: version 0x11, 24 redirection entries (read-only)
 *   0x02 IOAPICARB bits 27:24 the arbitration ID (read-only; the ID after a reset)
 *   0x10 + 2n, 0x11 + 2n  redirection entry n (0..23), low and high dwords:
 *        7:0 vector, 10:8 delivery mode, 11 destination mode (1 = logical), 12 delivery
 *        status (read-only), 13 polarity (1 = active low), 14 remote IRR (read-only),
 *        15 trigger mode (1 = level), 16 mask, 63:56 destination
 * Other indexes read as 0 and drop writes; other offsets in the 4 KiB window read as all
 * ones and drop writes. Accesses are 32-bit (the datasheet's "dword only"); narrower or
 * misaligned ones are refused (the worker injects #GP, as for a bad MMIO access).
 *
 * Inputs: child_ioapic_set_pin(pin, level) with the pin's electrical level before polarity (an
 * ISA IRQ is active high). Edge-triggered: a rising edge of the active level on an unmasked
 * pin delivers once (an edge while masked is lost, as on the 82093AA). Level-triggered: an
 * asserted unmasked pin delivers and sets remote IRR; nothing more until the LAPIC's EOI
 * for that vector comes back (child_ioapic_end_of_interrupt), after which a pin still asserted
 * delivers again. Deliveries go to the `deliver` callback the worker passes (it asks the
 * hypervisor to assert the interrupt in the child's virtual LAPICs).
 *
 * Pure and host-testable: no root or hypervisor calls.
 */
#ifndef HVFW_ROOT_CHILD_IOAPIC_H
#define HVFW_ROOT_CHILD_IOAPIC_H

#include <stdbool.h>
#include <stdint.h>

#define CHILD_IOAPIC_BASE 0xFEC00000ull
#define CHILD_IOAPIC_WINDOW_SIZE 4096u
#define CHILD_IOAPIC_PINS 24u
#define CHILD_IOAPIC_VERSION 0x00170011u

#define CHILD_IOAPIC_REGISTER_SELECT 0x00u
#define CHILD_IOAPIC_REGISTER_WINDOW 0x10u

#define CHILD_IOAPIC_INDEX_ID 0x00u
#define CHILD_IOAPIC_INDEX_VERSION 0x01u
#define CHILD_IOAPIC_INDEX_ARBITRATION 0x02u
#define CHILD_IOAPIC_INDEX_REDIRECTION 0x10u

#define CHILD_IOAPIC_ENTRY_VECTOR 0xFFull
#define CHILD_IOAPIC_ENTRY_DELIVERY_MODE_SHIFT 8
#define CHILD_IOAPIC_ENTRY_LOGICAL (1ull << 11)
#define CHILD_IOAPIC_ENTRY_DELIVERY_STATUS (1ull << 12)
#define CHILD_IOAPIC_ENTRY_ACTIVE_LOW (1ull << 13)
#define CHILD_IOAPIC_ENTRY_REMOTE_IRR (1ull << 14)
#define CHILD_IOAPIC_ENTRY_LEVEL (1ull << 15)
#define CHILD_IOAPIC_ENTRY_MASKED (1ull << 16)
#define CHILD_IOAPIC_ENTRY_DESTINATION_SHIFT 56
/* The bits software may write: everything but delivery status and remote IRR, and the
 * reserved 55:17. */
#define CHILD_IOAPIC_ENTRY_WRITABLE 0xFF0000000001AFFFull

/* One interrupt message, as the 82093AA sends it to the local APICs. */
struct child_ioapic_interrupt {
    uint8_t vector;
    uint8_t delivery_mode; /* 0 fixed, 1 lowest priority, 2 SMI, 4 NMI, 5 INIT, 7 ExtINT */
    bool logical;          /* destination mode */
    bool level;            /* trigger mode */
    uint8_t destination;   /* APIC ID, or a logical set */
};

typedef void (*child_ioapic_deliver_fn)(void *ctx, const struct child_ioapic_interrupt *interrupt);

struct child_ioapic {
    uint8_t select;
    uint8_t id;
    uint64_t entry[CHILD_IOAPIC_PINS];
    uint32_t pin_level; /* bit n: pin n's input is high */
    child_ioapic_deliver_fn deliver;
    void *ctx;
};

/* The reset state: ID `id`, every entry masked (82093AA 3.2.4). */
void child_ioapic_init(struct child_ioapic *ioapic, uint8_t id, child_ioapic_deliver_fn deliver,
                       void *ctx);

/* MMIO at `offset` in the window; false refuses the access (not a 32-bit aligned dword). */
bool child_ioapic_read(struct child_ioapic *ioapic, uint64_t offset, unsigned size,
                       uint64_t *value);
bool child_ioapic_write(struct child_ioapic *ioapic, uint64_t offset, unsigned size,
                        uint64_t value);

/* The input of `pin` (< CHILD_IOAPIC_PINS; others are ignored) is now `high`. */
void child_ioapic_set_pin(struct child_ioapic *ioapic, unsigned pin, bool high);

/* The local APIC's EOI for `vector` reached the IOAPIC: clears remote IRR of the level
 * entries with that vector and redelivers those whose pin is still asserted. */
void child_ioapic_end_of_interrupt(struct child_ioapic *ioapic, uint8_t vector);

#endif
