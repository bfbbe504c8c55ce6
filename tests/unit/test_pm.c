// sources: root/pm.c root/pci_config.c
/* The child's ACPI fixed hardware (root/pm.c: PM1 event/control, the PM timer arithmetic,
 * the reset register) and PCI configuration mechanism #1 over an empty bus
 * (root/pci_config.c), with hostile accesses. */
#include <check.h>
#include <string.h>

#include "root/pci_config.h"
#include "root/pm.h"

#define SECOND 1000000000ull
#define START (5 * SECOND)

START_TEST(timer_arithmetic)
{
    ck_assert_uint_eq(pm_timer_ticks(0), 0);
    ck_assert_uint_eq(pm_timer_ticks(SECOND), PM_TIMER_HZ);
    ck_assert_uint_eq(pm_timer_ticks(279), 0);  /* one tick is 279.36 ns */
    ck_assert_uint_eq(pm_timer_ticks(280), 1);
    ck_assert_uint_eq(pm_timer_ticks(3600 * SECOND), 3600 * PM_TIMER_HZ); /* no drift */
    /* Exact for any time: floor(t * f / 1e9), no 64-bit overflow even at the end. */
    ck_assert_uint_eq(pm_timer_ticks(UINT64_MAX),
                      (uint64_t)(((unsigned __int128)UINT64_MAX * PM_TIMER_HZ) / SECOND));
    /* Monotonic, and never more than one tick apart from the exact value. */
    uint64_t last = 0;
    for (uint64_t t = 0; t < 10 * SECOND; t += 7777777) {
        uint64_t ticks = pm_timer_ticks(t);
        ck_assert_uint_ge(ticks, last);
        last = ticks;
    }
}
END_TEST

START_TEST(timer_register)
{
    struct pm pm;
    pm_init(&pm, START);
    ck_assert_uint_eq(pm_read(&pm, PM_TIMER_PORT, 4, START), 0);
    ck_assert_uint_eq(pm_read(&pm, PM_TIMER_PORT, 4, START + SECOND), PM_TIMER_HZ);
    /* A clock behind the start reads as the start, never a huge value. */
    ck_assert_uint_eq(pm_read(&pm, PM_TIMER_PORT, 4, START - 1), 0);
    /* 32 bits wrap after 2^32 ticks (20 minutes). */
    uint64_t wrap_ns = (uint64_t)((((unsigned __int128)1 << 32) * SECOND + PM_TIMER_HZ - 1) /
                                  PM_TIMER_HZ);
    ck_assert_uint_eq(pm_read(&pm, PM_TIMER_PORT, 4, START + wrap_ns), 0);
    /* Read-only; other widths and offsets read all ones. */
    ck_assert_uint_eq(pm_write(&pm, PM_TIMER_PORT, 4, 0, START), PM_ACTION_NONE);
    ck_assert_uint_eq(pm_read(&pm, PM_TIMER_PORT, 4, START + SECOND), PM_TIMER_HZ);
    ck_assert_uint_eq(pm_read(&pm, PM_TIMER_PORT, 2, START), 0xFFFF);
    ck_assert_uint_eq(pm_read(&pm, PM_TIMER_PORT + 1, 4, START), 0xFFFFFFFFu);
}
END_TEST

START_TEST(timer_status_and_sci)
{
    struct pm pm;
    pm_init(&pm, START);
    ck_assert_uint_eq(pm_read(&pm, PM_EVENT_PORT, 2, START), 0);
    ck_assert(!pm_sci_active(&pm));
    /* Bit 31 of the count toggles after 2^31 ticks: TMR_STS. */
    uint64_t half = (uint64_t)((((unsigned __int128)1 << 31) * SECOND) / PM_TIMER_HZ) + 1000;
    ck_assert_uint_eq(pm_read(&pm, PM_EVENT_PORT, 2, START + half), PM1_STATUS_TIMER);
    ck_assert(!pm_sci_active(&pm)); /* not enabled */
    pm_write(&pm, PM_EVENT_PORT + 2, 2, 0xFFFF, START + half);
    ck_assert_uint_eq(pm_read(&pm, PM_EVENT_PORT + 2, 2, START + half), PM1_ENABLE_TIMER);
    ck_assert(pm_sci_active(&pm));
    pm_write(&pm, PM_EVENT_PORT, 2, 0, START + half); /* writing 0 clears nothing */
    ck_assert(pm_sci_active(&pm));
    pm_write(&pm, PM_EVENT_PORT, 2, PM1_STATUS_TIMER, START + half); /* write 1 to clear */
    ck_assert(!pm_sci_active(&pm));
    ck_assert_uint_eq(pm_read(&pm, PM_EVENT_PORT, 2, START + half), 0);
}
END_TEST

START_TEST(control_and_power)
{
    struct pm pm;
    pm_init(&pm, START);
    ck_assert_uint_eq(pm_read(&pm, PM_CONTROL_PORT, 2, START), PM1_CONTROL_SCI_EN);
    ck_assert_uint_eq(pm_write(&pm, PM_CONTROL_PORT, 2, 0, START), PM_ACTION_NONE);
    ck_assert_uint_eq(pm_read(&pm, PM_CONTROL_PORT, 2, START), PM1_CONTROL_SCI_EN);
    /* SLP_TYP 5 with SLP_EN: no such state, ignored; SLP_EN reads 0. */
    uint32_t s5_other = PM1_CONTROL_SLP_EN | (5u << PM1_CONTROL_SLP_TYP_SHIFT);
    ck_assert_uint_eq(pm_write(&pm, PM_CONTROL_PORT, 2, s5_other, START), PM_ACTION_NONE);
    ck_assert_uint_eq(pm_read(&pm, PM_CONTROL_PORT, 2, START),
                      PM1_CONTROL_SCI_EN | (5u << PM1_CONTROL_SLP_TYP_SHIFT));
    /* SLP_TYP 0 without SLP_EN: nothing; with it: power off. */
    ck_assert_uint_eq(pm_write(&pm, PM_CONTROL_PORT, 2, 0, START), PM_ACTION_NONE);
    ck_assert_uint_eq(pm_write(&pm, PM_CONTROL_PORT, 2, PM1_CONTROL_SLP_EN, START),
                      PM_ACTION_POWER_OFF);
    /* Byte writes are not the 16-bit register. */
    ck_assert_uint_eq(pm_write(&pm, PM_CONTROL_PORT + 1, 1, 0x20, START), PM_ACTION_NONE);
    ck_assert_uint_eq(pm_write(&pm, PM_CONTROL_PORT, 4, PM1_CONTROL_SLP_EN, START),
                      PM_ACTION_NONE);
}
END_TEST

START_TEST(reset_register)
{
    struct pm pm;
    pm_init(&pm, START);
    ck_assert(pm_owns_port(PM_RESET_PORT));
    ck_assert_uint_eq(pm_write(&pm, PM_RESET_PORT, 1, 0x02, START), PM_ACTION_NONE);
    ck_assert_uint_eq(pm_read(&pm, PM_RESET_PORT, 1, START), 0x02);
    ck_assert_uint_eq(pm_write(&pm, PM_RESET_PORT, 1, 0x04, START), PM_ACTION_NONE);
    ck_assert_uint_eq(pm_write(&pm, PM_RESET_PORT, 1, PM_RESET_VALUE, START), PM_ACTION_RESET);
    ck_assert_uint_eq(pm_write(&pm, PM_RESET_PORT, 2, PM_RESET_VALUE, START), PM_ACTION_NONE);
}
END_TEST

START_TEST(port_ownership)
{
    for (uint32_t port = 0x600; port < 0x60C; port++)
        ck_assert(pm_owns_port(port));
    ck_assert(!pm_owns_port(0x5FF));
    ck_assert(!pm_owns_port(0x60C));
    ck_assert(!pm_owns_port(0xCF8));
    ck_assert(!pm_owns_port(0xCFA));
    for (uint32_t port = 0xCF8; port < 0xD00; port++)
        ck_assert(pci_config_owns_port(port));
    ck_assert(!pci_config_owns_port(0xCF7));
    ck_assert(!pci_config_owns_port(0xD00));
    /* Garbage everywhere in the PM blocks never acts but through the two registers. */
    struct pm pm;
    pm_init(&pm, START);
    for (uint32_t port = 0x600; port < 0x60C; port++)
        for (unsigned size = 1; size <= 4; size *= 2)
            if (!(port == PM_CONTROL_PORT && size == 2))
                ck_assert_uint_eq(pm_write(&pm, port, size, 0xFFFFFFFFu, START),
                                  PM_ACTION_NONE);
}
END_TEST

START_TEST(pci_empty_bus)
{
    struct pci_config pci;
    pci_config_init(&pci);
    ck_assert_uint_eq(pci_config_read(&pci, PCI_CONFIG_ADDRESS_PORT, 4), 0);
    /* Linux's type 1 check: 0x80000000 reads back. */
    pci_config_write(&pci, PCI_CONFIG_ADDRESS_PORT, 4, 0x80000000u);
    ck_assert_uint_eq(pci_config_read(&pci, PCI_CONFIG_ADDRESS_PORT, 4), 0x80000000u);
    /* Reserved bits 30:24 and 1:0 read as 0. */
    pci_config_write(&pci, PCI_CONFIG_ADDRESS_PORT, 4, 0xFFFFFFFFu);
    ck_assert_uint_eq(pci_config_read(&pci, PCI_CONFIG_ADDRESS_PORT, 4), 0x80FFFFFCu);
    /* Every function of every device: absent (all ones), every width. */
    for (uint32_t devfn = 0; devfn < 256; devfn++) {
        pci_config_write(&pci, PCI_CONFIG_ADDRESS_PORT, 4, 0x80000000u | devfn << 8);
        ck_assert_uint_eq(pci_config_read(&pci, PCI_CONFIG_DATA_PORT, 4), 0xFFFFFFFFu);
        ck_assert_uint_eq(pci_config_read(&pci, PCI_CONFIG_DATA_PORT + 2, 2), 0xFFFF);
        ck_assert_uint_eq(pci_config_read(&pci, PCI_CONFIG_DATA_PORT + 3, 1), 0xFF);
        pci_config_write(&pci, PCI_CONFIG_DATA_PORT, 4, 0x12345678u);
        ck_assert_uint_eq(pci_config_read(&pci, PCI_CONFIG_DATA_PORT, 4), 0xFFFFFFFFu);
    }
    /* Byte and word accesses to 0xCF8-0xCFB are not CONFIG_ADDRESS (type 2's probe reads
     * them back as 0 on a type 2 bridge: here all ones, so Linux takes no type 2). */
    pci_config_write(&pci, PCI_CONFIG_ADDRESS_PORT, 4, 0x80000000u);
    pci_config_write(&pci, PCI_CONFIG_ADDRESS_PORT, 1, 0);
    pci_config_write(&pci, PCI_CONFIG_ADDRESS_PORT + 2, 2, 0);
    ck_assert_uint_eq(pci_config_read(&pci, PCI_CONFIG_ADDRESS_PORT, 1), 0xFF);
    ck_assert_uint_eq(pci_config_read(&pci, PCI_CONFIG_ADDRESS_PORT + 2, 1), 0xFF);
    ck_assert_uint_eq(pci_config_read(&pci, PCI_CONFIG_ADDRESS_PORT, 2), 0xFFFF);
    ck_assert_uint_eq(pci_config_read(&pci, PCI_CONFIG_ADDRESS_PORT, 4), 0x80000000u);
}
END_TEST

Suite *pm_suite(void)
{
    Suite *s = suite_create("pm");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, timer_arithmetic);
    tcase_add_test(tc, timer_register);
    tcase_add_test(tc, timer_status_and_sci);
    tcase_add_test(tc, control_and_power);
    tcase_add_test(tc, reset_register);
    tcase_add_test(tc, port_ownership);
    tcase_add_test(tc, pci_empty_bus);
    suite_add_tcase(s, tc);
    return s;
}
