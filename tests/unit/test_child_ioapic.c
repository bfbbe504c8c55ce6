// sources: root/child_ioapic.c
/* The child's emulated IOAPIC (root/child_ioapic.c): the 82093AA register model through IOREGSEL
 * and IOWIN, redirection entries, edge and level delivery with remote IRR and EOI, and
 * hostile accesses. */
#include <check.h>
#include <string.h>

#include "root/child_ioapic.h"

static struct {
    struct child_ioapic_interrupt sent[16];
    unsigned count;
} out;

static void collect(void *ctx, const struct child_ioapic_interrupt *interrupt)
{
    ck_assert_ptr_eq(ctx, &out);
    ck_assert_uint_lt(out.count, 16);
    out.sent[out.count++] = *interrupt;
}

static struct child_ioapic io;

static void setup(void)
{
    memset(&out, 0, sizeof(out));
    child_ioapic_init(&io, 0, collect, &out);
}

static uint32_t reg_read(uint8_t index)
{
    uint64_t value = 0;
    ck_assert(child_ioapic_write(&io, CHILD_IOAPIC_REGISTER_SELECT, 4, index));
    ck_assert(child_ioapic_read(&io, CHILD_IOAPIC_REGISTER_WINDOW, 4, &value));
    ck_assert_uint_le(value, 0xFFFFFFFFu);
    return (uint32_t)value;
}

static void reg_write(uint8_t index, uint32_t value)
{
    ck_assert(child_ioapic_write(&io, CHILD_IOAPIC_REGISTER_SELECT, 4, index));
    ck_assert(child_ioapic_write(&io, CHILD_IOAPIC_REGISTER_WINDOW, 4, value));
}

static void entry_write(unsigned pin, uint64_t entry)
{
    reg_write((uint8_t)(CHILD_IOAPIC_INDEX_REDIRECTION + 2 * pin + 1), (uint32_t)(entry >> 32));
    reg_write((uint8_t)(CHILD_IOAPIC_INDEX_REDIRECTION + 2 * pin), (uint32_t)entry);
}

static uint64_t entry_read(unsigned pin)
{
    return reg_read((uint8_t)(CHILD_IOAPIC_INDEX_REDIRECTION + 2 * pin)) |
           (uint64_t)reg_read((uint8_t)(CHILD_IOAPIC_INDEX_REDIRECTION + 2 * pin + 1)) << 32;
}

START_TEST(identification_registers)
{
    ck_assert_uint_eq(reg_read(CHILD_IOAPIC_INDEX_VERSION), 0x00170011u); /* 24 entries, v0x11 */
    ck_assert_uint_eq(reg_read(CHILD_IOAPIC_INDEX_ID), 0);
    reg_write(CHILD_IOAPIC_INDEX_ID, 0xFF000000u);
    ck_assert_uint_eq(reg_read(CHILD_IOAPIC_INDEX_ID), 0x0F000000u); /* 4-bit ID */
    ck_assert_uint_eq(reg_read(CHILD_IOAPIC_INDEX_ARBITRATION), 0x0F000000u);
    reg_write(CHILD_IOAPIC_INDEX_VERSION, 0);
    ck_assert_uint_eq(reg_read(CHILD_IOAPIC_INDEX_VERSION), 0x00170011u); /* read-only */
    reg_write(CHILD_IOAPIC_INDEX_ARBITRATION, 0);
    ck_assert_uint_eq(reg_read(CHILD_IOAPIC_INDEX_ARBITRATION), 0x0F000000u);
    uint64_t select = 0;
    ck_assert(child_ioapic_read(&io, CHILD_IOAPIC_REGISTER_SELECT, 4, &select));
    ck_assert_uint_eq(select, CHILD_IOAPIC_INDEX_ARBITRATION);
    /* Unimplemented indexes: 0 and no effect, past the 24 entries too. */
    ck_assert_uint_eq(reg_read(0x03), 0);
    reg_write(0x40, 0x12345678u);
    ck_assert_uint_eq(reg_read(0x40), 0);
    ck_assert_uint_eq(reg_read(0xFF), 0);
}
END_TEST

START_TEST(redirection_entries)
{
    for (unsigned pin = 0; pin < CHILD_IOAPIC_PINS; pin++)
        ck_assert_uint_eq(entry_read(pin), CHILD_IOAPIC_ENTRY_MASKED); /* reset: all masked */
    /* Every bit: only vector, mode, destination mode, polarity, trigger, mask and the
     * destination stick; delivery status and remote IRR are read-only. */
    entry_write(5, UINT64_MAX);
    ck_assert_uint_eq(entry_read(5), CHILD_IOAPIC_ENTRY_WRITABLE);
    entry_write(5, 0);
    ck_assert_uint_eq(entry_read(5), 0);
    entry_write(23, 0x0300000000008031ull);
    ck_assert_uint_eq(entry_read(23), 0x0300000000008031ull);
    ck_assert_uint_eq(entry_read(22), CHILD_IOAPIC_ENTRY_MASKED); /* its neighbour untouched */
}
END_TEST

START_TEST(edge_delivery)
{
    entry_write(4, 0x0100000000000024ull); /* vector 0x24, fixed, physical, to APIC 1 */
    child_ioapic_set_pin(&io, 4, true);
    ck_assert_uint_eq(out.count, 1);
    ck_assert_uint_eq(out.sent[0].vector, 0x24);
    ck_assert_uint_eq(out.sent[0].destination, 1);
    ck_assert(!out.sent[0].logical);
    ck_assert(!out.sent[0].level);
    ck_assert_uint_eq(out.sent[0].delivery_mode, 0);
    child_ioapic_set_pin(&io, 4, true); /* no new edge */
    ck_assert_uint_eq(out.count, 1);
    child_ioapic_set_pin(&io, 4, false);
    child_ioapic_set_pin(&io, 4, true);
    ck_assert_uint_eq(out.count, 2);
    ck_assert_uint_eq(entry_read(4) & CHILD_IOAPIC_ENTRY_REMOTE_IRR, 0); /* edge: never set */
    /* Masked: the edge is lost, and unmasking later does not bring it back. */
    child_ioapic_set_pin(&io, 4, false);
    entry_write(4, 0x0100000000000024ull | CHILD_IOAPIC_ENTRY_MASKED);
    child_ioapic_set_pin(&io, 4, true);
    entry_write(4, 0x0100000000000024ull);
    ck_assert_uint_eq(out.count, 2);
    /* Active low: the falling edge is the event. Logical, lowest priority. */
    entry_write(3, 0x0300000000000000ull | CHILD_IOAPIC_ENTRY_ACTIVE_LOW |
                       CHILD_IOAPIC_ENTRY_LOGICAL |
                       (1ull << CHILD_IOAPIC_ENTRY_DELIVERY_MODE_SHIFT) | 0x33);
    child_ioapic_set_pin(&io, 3, true);
    ck_assert_uint_eq(out.count, 2);
    child_ioapic_set_pin(&io, 3, false);
    ck_assert_uint_eq(out.count, 3);
    ck_assert(out.sent[2].logical);
    ck_assert_uint_eq(out.sent[2].delivery_mode, 1);
    ck_assert_uint_eq(out.sent[2].destination, 3);
    /* Pins past the 24 are ignored. */
    child_ioapic_set_pin(&io, CHILD_IOAPIC_PINS, true);
    child_ioapic_set_pin(&io, 1000, true);
    ck_assert_uint_eq(out.count, 3);
}
END_TEST

START_TEST(level_delivery_and_eoi)
{
    /* The SCI's entry: level, active low. */
    uint64_t entry = CHILD_IOAPIC_ENTRY_LEVEL | CHILD_IOAPIC_ENTRY_ACTIVE_LOW | 0x41;
    child_ioapic_set_pin(&io, 9, true); /* idle (high) while masked */
    entry_write(9, entry);
    ck_assert_uint_eq(out.count, 0);
    child_ioapic_set_pin(&io, 9, false); /* asserted */
    ck_assert_uint_eq(out.count, 1);
    ck_assert(out.sent[0].level);
    ck_assert_uint_eq(entry_read(9) & CHILD_IOAPIC_ENTRY_REMOTE_IRR, CHILD_IOAPIC_ENTRY_REMOTE_IRR);
    child_ioapic_set_pin(&io, 9, true);
    child_ioapic_set_pin(&io, 9, false); /* still awaiting the EOI: nothing */
    ck_assert_uint_eq(out.count, 1);
    child_ioapic_end_of_interrupt(&io, 0x42); /* another vector: nothing */
    ck_assert_uint_eq(out.count, 1);
    child_ioapic_end_of_interrupt(&io, 0x41); /* still asserted: again */
    ck_assert_uint_eq(out.count, 2);
    child_ioapic_set_pin(&io, 9, true);
    child_ioapic_end_of_interrupt(&io, 0x41);
    ck_assert_uint_eq(out.count, 2);
    ck_assert_uint_eq(entry_read(9) & CHILD_IOAPIC_ENTRY_REMOTE_IRR, 0);
    /* Asserted while masked: delivered when unmasked. */
    entry_write(9, entry | CHILD_IOAPIC_ENTRY_MASKED);
    child_ioapic_set_pin(&io, 9, false);
    ck_assert_uint_eq(out.count, 2);
    entry_write(9, entry);
    ck_assert_uint_eq(out.count, 3);
    /* Switching the entry to edge drops remote IRR. */
    entry_write(9, 0x41);
    ck_assert_uint_eq(entry_read(9) & CHILD_IOAPIC_ENTRY_REMOTE_IRR, 0);
}
END_TEST

START_TEST(hostile_accesses)
{
    uint64_t value = 0;
    /* Not a dword at a register: refused, state unchanged. */
    reg_write(CHILD_IOAPIC_INDEX_ID, 0x05000000u);
    ck_assert(!child_ioapic_write(&io, CHILD_IOAPIC_REGISTER_SELECT, 1,
                                  CHILD_IOAPIC_INDEX_VERSION));
    ck_assert(!child_ioapic_write(&io, CHILD_IOAPIC_REGISTER_SELECT + 1, 1, 0));
    ck_assert(!child_ioapic_write(&io, CHILD_IOAPIC_REGISTER_SELECT, 8, 0));
    ck_assert(!child_ioapic_read(&io, CHILD_IOAPIC_REGISTER_WINDOW, 2, &value));
    ck_assert(!child_ioapic_read(&io, CHILD_IOAPIC_REGISTER_WINDOW + 2, 2, &value));
    ck_assert(!child_ioapic_write(&io, CHILD_IOAPIC_REGISTER_WINDOW + 3, 1, 0xFF));
    ck_assert_uint_eq(reg_read(CHILD_IOAPIC_INDEX_ID), 0x05000000u);
    /* Elsewhere in the window: all ones, writes dropped. */
    ck_assert(child_ioapic_read(&io, 0x20, 4, &value));
    ck_assert_uint_eq(value, 0xFFFFFFFFu);
    ck_assert(child_ioapic_read(&io, 0xFF8, 8, &value));
    ck_assert_uint_eq(value, UINT64_MAX);
    ck_assert(child_ioapic_write(&io, 0x40, 4, 0x41)); /* no EOI register in version 0x11 */
    /* Outside the window: refused. */
    ck_assert(!child_ioapic_read(&io, CHILD_IOAPIC_WINDOW_SIZE, 4, &value));
    ck_assert(!child_ioapic_read(&io, CHILD_IOAPIC_WINDOW_SIZE - 2, 4, &value));
    ck_assert(!child_ioapic_write(&io, UINT64_MAX, 4, 0));
    ck_assert(!child_ioapic_write(&io, UINT64_MAX - 1, 4, 0));
    /* A vector below 16 or a strange delivery mode passes through: the hypervisor decides
     * (its call refuses what the LAPIC would not accept). */
    entry_write(2, 0x07);
    child_ioapic_set_pin(&io, 2, true);
    ck_assert_uint_eq(out.count, 1);
    ck_assert_uint_eq(out.sent[0].vector, 7);
}
END_TEST

Suite *child_ioapic_suite(void)
{
    Suite *s = suite_create("child_ioapic");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_add_test(tc, identification_registers);
    tcase_add_test(tc, redirection_entries);
    tcase_add_test(tc, edge_delivery);
    tcase_add_test(tc, level_delivery_and_eoi);
    tcase_add_test(tc, hostile_accesses);
    suite_add_tcase(s, tc);
    return s;
}
