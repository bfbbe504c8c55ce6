#include "root/child_ioapic.h"

#include <string.h>

void child_ioapic_init(struct child_ioapic *ioapic, uint8_t id, child_ioapic_deliver_fn deliver,
                       void *ctx)
{
    memset(ioapic, 0, sizeof(*ioapic));
    ioapic->id = id & 0x0Fu;
    for (unsigned i = 0; i < CHILD_IOAPIC_PINS; i++)
        ioapic->entry[i] = CHILD_IOAPIC_ENTRY_MASKED;
    ioapic->deliver = deliver;
    ioapic->ctx = ctx;
}

/* The pin's input is at its active level (polarity applied). */
static bool pin_active(const struct child_ioapic *ioapic, unsigned pin)
{
    bool high = ioapic->pin_level & (1u << pin);
    return (ioapic->entry[pin] & CHILD_IOAPIC_ENTRY_ACTIVE_LOW) ? !high : high;
}

static void send(struct child_ioapic *ioapic, unsigned pin)
{
    uint64_t e = ioapic->entry[pin];
    struct child_ioapic_interrupt interrupt = {
        .vector = (uint8_t)(e & CHILD_IOAPIC_ENTRY_VECTOR),
        .delivery_mode = (uint8_t)((e >> CHILD_IOAPIC_ENTRY_DELIVERY_MODE_SHIFT) & 7u),
        .logical = e & CHILD_IOAPIC_ENTRY_LOGICAL,
        .level = e & CHILD_IOAPIC_ENTRY_LEVEL,
        .destination = (uint8_t)(e >> CHILD_IOAPIC_ENTRY_DESTINATION_SHIFT),
    };
    if (interrupt.level)
        ioapic->entry[pin] |= CHILD_IOAPIC_ENTRY_REMOTE_IRR;
    if (ioapic->deliver)
        ioapic->deliver(ioapic->ctx, &interrupt);
}

/* A level entry delivers while its pin is active, unmasked and not awaiting an EOI. */
static void level_check(struct child_ioapic *ioapic, unsigned pin)
{
    uint64_t e = ioapic->entry[pin];
    uint64_t held = CHILD_IOAPIC_ENTRY_MASKED | CHILD_IOAPIC_ENTRY_REMOTE_IRR;
    if ((e & CHILD_IOAPIC_ENTRY_LEVEL) && !(e & held) &&
        pin_active(ioapic, pin))
        send(ioapic, pin);
}

void child_ioapic_set_pin(struct child_ioapic *ioapic, unsigned pin, bool high)
{
    if (pin >= CHILD_IOAPIC_PINS)
        return;
    bool was_active = pin_active(ioapic, pin);
    if (high)
        ioapic->pin_level |= 1u << pin;
    else
        ioapic->pin_level &= ~(1u << pin);
    uint64_t e = ioapic->entry[pin];
    if (e & CHILD_IOAPIC_ENTRY_LEVEL)
        level_check(ioapic, pin);
    else if (!was_active && pin_active(ioapic, pin) && !(e & CHILD_IOAPIC_ENTRY_MASKED))
        send(ioapic, pin);
}

void child_ioapic_end_of_interrupt(struct child_ioapic *ioapic, uint8_t vector)
{
    for (unsigned pin = 0; pin < CHILD_IOAPIC_PINS; pin++) {
        uint64_t e = ioapic->entry[pin];
        if ((e & CHILD_IOAPIC_ENTRY_LEVEL) && (e & CHILD_IOAPIC_ENTRY_VECTOR) == vector) {
            ioapic->entry[pin] &= ~CHILD_IOAPIC_ENTRY_REMOTE_IRR;
            level_check(ioapic, pin);
        }
    }
}

static bool is_redirection(unsigned index)
{
    return index >= CHILD_IOAPIC_INDEX_REDIRECTION &&
           index < CHILD_IOAPIC_INDEX_REDIRECTION + 2 * CHILD_IOAPIC_PINS;
}

static uint32_t read_indirect(const struct child_ioapic *ioapic)
{
    unsigned index = ioapic->select;
    switch (index) {
    case CHILD_IOAPIC_INDEX_ID:
    case CHILD_IOAPIC_INDEX_ARBITRATION:
        return (uint32_t)ioapic->id << 24;
    case CHILD_IOAPIC_INDEX_VERSION:
        return CHILD_IOAPIC_VERSION;
    default:
        break;
    }
    if (!is_redirection(index))
        return 0;
    uint64_t e = ioapic->entry[(index - CHILD_IOAPIC_INDEX_REDIRECTION) / 2];
    return (uint32_t)((index & 1) ? e >> 32 : e);
}

static void write_indirect(struct child_ioapic *ioapic, uint32_t value)
{
    unsigned index = ioapic->select;
    if (index == CHILD_IOAPIC_INDEX_ID) {
        ioapic->id = (value >> 24) & 0x0Fu;
        return;
    }
    if (!is_redirection(index))
        return; /* version, arbitration and the unimplemented indexes are read-only */
    unsigned pin = (index - CHILD_IOAPIC_INDEX_REDIRECTION) / 2;
    uint64_t e = ioapic->entry[pin];
    uint64_t half = (index & 1) ? 0xFFFFFFFF00000000ull : 0x00000000FFFFFFFFull;
    uint64_t written = (index & 1) ? (uint64_t)value << 32 : value;
    uint64_t writable = half & CHILD_IOAPIC_ENTRY_WRITABLE;
    e = (e & ~writable) | (written & writable);
    /* Remote IRR is meaningless for an edge entry: switching to edge clears it. */
    if (!(e & CHILD_IOAPIC_ENTRY_LEVEL))
        e &= ~CHILD_IOAPIC_ENTRY_REMOTE_IRR;
    ioapic->entry[pin] = e;
    /* Unmasking a level entry whose pin is asserted delivers it now; an edge that came
     * while masked stays lost. */
    level_check(ioapic, pin);
}

bool child_ioapic_read(struct child_ioapic *ioapic, uint64_t offset, unsigned size,
                       uint64_t *value)
{
    if (offset >= CHILD_IOAPIC_WINDOW_SIZE || size > CHILD_IOAPIC_WINDOW_SIZE - offset)
        return false;
    if (offset == CHILD_IOAPIC_REGISTER_SELECT && size == 4) {
        *value = ioapic->select;
        return true;
    }
    if (offset == CHILD_IOAPIC_REGISTER_WINDOW && size == 4) {
        *value = read_indirect(ioapic);
        return true;
    }
    if ((offset < CHILD_IOAPIC_REGISTER_SELECT + 4) ||
        (offset >= CHILD_IOAPIC_REGISTER_WINDOW && offset < CHILD_IOAPIC_REGISTER_WINDOW + 4))
        return false; /* part of a register: dword accesses only */
    *value = size == 8 ? UINT64_MAX : (1ull << (8 * size)) - 1; /* nothing there */
    return true;
}

bool child_ioapic_write(struct child_ioapic *ioapic, uint64_t offset, unsigned size,
                        uint64_t value)
{
    if (offset >= CHILD_IOAPIC_WINDOW_SIZE || size > CHILD_IOAPIC_WINDOW_SIZE - offset)
        return false;
    if (offset == CHILD_IOAPIC_REGISTER_SELECT && size == 4) {
        ioapic->select = (uint8_t)value;
        return true;
    }
    if (offset == CHILD_IOAPIC_REGISTER_WINDOW && size == 4) {
        write_indirect(ioapic, (uint32_t)value);
        return true;
    }
    if ((offset < CHILD_IOAPIC_REGISTER_SELECT + 4) ||
        (offset >= CHILD_IOAPIC_REGISTER_WINDOW && offset < CHILD_IOAPIC_REGISTER_WINDOW + 4))
        return false;
    return true; /* nothing there */
}
