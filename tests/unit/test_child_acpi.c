// sources: root/child_acpi.c kernel/acpi.c
/*
 * The ACPI tables of a child partition (root/child_acpi.c), read back by an independent
 * reader: the hypervisor's own ACPI parser (kernel/acpi.c) walks them from the RSDP over a
 * fake physical memory that holds only the region, and the DSDT's AML is compared with
 * what iasl 20200925 compiles from the same ASL. Every region is built into a heap buffer
 * of exactly the size given, so AddressSanitizer catches any write past it.
 */
#define _GNU_SOURCE /* memmem */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kernel/acpi.h"
#include "root/child_acpi.h"

/* Near the top of a 256 MiB child, where the bzImage loader leaves its ACPI hole. */
#define BASE 0x0FFF0000ull

struct region {
    uint64_t base;
    const uint8_t *bytes;
    size_t length;
};

/* Only the region is readable: a pointer out of it makes the discovery fail. */
static const void *region_phys(uint64_t pa, size_t len, void *ctx)
{
    const struct region *r = ctx;
    if (pa < r->base || pa - r->base > r->length || len > r->length - (pa - r->base))
        return NULL;
    return r->bytes + (pa - r->base);
}

static uint8_t *build(uint32_t vp_count, uint64_t base, size_t *length, uint64_t *rsdp)
{
    struct child_acpi_config config = {.vp_count = vp_count};
    size_t size = child_acpi_size(&config);
    ck_assert_uint_gt(size, 0);
    ck_assert_uint_le(size, CHILD_ACPI_REGION_BYTES);
    uint8_t *buffer = malloc(size);
    ck_assert_ptr_nonnull(buffer);
    memset(buffer, 0xA5, size);
    *length = child_acpi_build(buffer, size, base, &config, rsdp);
    ck_assert_uint_eq(*length, size);
    return buffer;
}

static const void *table(struct region *r, uint64_t gpa)
{
    const void *t = region_phys(gpa, ACPI_HEADER_LENGTH, r);
    ck_assert_msg(t != NULL, "table at %#llx outside the region", (unsigned long long)gpa);
    return t;
}

static size_t room_at(const struct region *r, uint64_t gpa)
{
    return r->length - (size_t)(gpa - r->base);
}

static uint16_t get16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)get16(p) | (uint32_t)get16(p + 2) << 16;
}

/* The whole walk through the parser's own discovery, then every table on its own. */
static void check_tables(uint32_t vp_count, uint64_t base)
{
    size_t length;
    uint64_t rsdp;
    uint8_t *bytes = build(vp_count, base, &length, &rsdp);
    struct region r = {base, bytes, length};
    ck_assert_uint_eq(rsdp, base);

    static struct acpi_platform found;
    ck_assert_int_eq(acpi_discover(region_phys(rsdp, ACPI_RSDP_V2_LENGTH, &r),
                                   ACPI_RSDP_V2_LENGTH, 0, region_phys, &r, &found),
                     ACPI_OK);
    ck_assert_uint_eq(found.rsdp_revision, 2);
    ck_assert(found.root_is_xsdt);
    ck_assert_str_eq(found.oem_id, "HVFW  ");
    ck_assert_uint_eq(found.table_count, 2);
    for (size_t i = 0; i < found.table_count; i++)
        ck_assert_int_eq(found.tables[i].status, ACPI_OK);
    ck_assert_str_eq(found.tables[0].signature, "FACP");
    ck_assert_str_eq(found.tables[1].signature, "APIC");

    /* MADT: one enabled Local APIC per VP, APIC ID = UID = VP index. */
    ck_assert_int_eq(found.madt_status, ACPI_OK);
    const struct acpi_madt *madt = &found.madt;
    ck_assert_uint_eq(madt->lapic_address, 0xFEE00000u);
    ck_assert_uint_eq(madt->flags & ACPI_MADT_PCAT_COMPAT, 0);
    ck_assert_uint_eq(madt->cpu_count, vp_count);
    ck_assert_uint_eq(acpi_madt_enabled_cpus(madt), vp_count);
    for (uint32_t i = 0; i < vp_count; i++) {
        ck_assert_uint_eq(madt->cpus[i].apic_id, i);
        ck_assert_uint_eq(madt->cpus[i].processor_uid, i);
        ck_assert(!madt->cpus[i].from_x2apic_entry);
    }
    ck_assert_uint_eq(madt->ioapic_count, 1);
    ck_assert_uint_eq(madt->ioapics[0].address, 0xFEC00000u);
    ck_assert_uint_eq(madt->ioapics[0].gsi_base, 0);
    ck_assert_uint_eq(madt->override_count, 2);
    ck_assert_uint_eq(madt->overrides[0].bus, 0);
    ck_assert_uint_eq(madt->overrides[0].source, 0);
    ck_assert_uint_eq(madt->overrides[0].gsi, 2);
    ck_assert_uint_eq(madt->overrides[0].flags, 0);
    ck_assert_uint_eq(madt->overrides[1].source, 9);
    ck_assert_uint_eq(madt->overrides[1].gsi, 9);
    ck_assert_uint_eq(madt->overrides[1].flags,
                      ACPI_ISO_TRIGGER_LEVEL | ACPI_ISO_POLARITY_LOW);
    ck_assert_uint_eq(madt->nmi_count, 1);
    ck_assert_uint_eq(madt->nmis[0].processor_uid, ACPI_NMI_ALL_PROCESSORS);
    ck_assert_uint_eq(madt->nmis[0].lint, 1);
    ck_assert_uint_eq(madt->entries_dropped + madt->cpus_dropped, 0);

    /* FADT: the ports the worker emulates, reset, SCI, not hardware-reduced. */
    ck_assert_int_eq(found.fadt_status, ACPI_OK);
    const struct acpi_fadt *fadt = &found.fadt;
    ck_assert_uint_eq(fadt->revision, 6);
    ck_assert_uint_eq(fadt->sci_interrupt, 9);
    ck_assert_uint_eq(fadt->smi_command, 0);
    ck_assert_uint_eq(fadt->flags & ACPI_FADT_HW_REDUCED_ACPI, 0);
    ck_assert_uint_eq(fadt->pm1a_control.space_id, ACPI_SPACE_IO);
    ck_assert_uint_eq(fadt->pm1a_control.address, 0x604);
    ck_assert_uint_eq(fadt->pm1a_control.bit_width, 16);
    ck_assert_uint_eq(fadt->pm1b_control.address, 0);
    ck_assert_uint_eq(fadt->pm_timer.space_id, ACPI_SPACE_IO);
    ck_assert_uint_eq(fadt->pm_timer.address, 0x608);
    ck_assert_uint_eq(fadt->pm_timer.bit_width, 32);
    ck_assert(fadt->pm_timer_32bit);
    ck_assert(fadt->has_reset_register);
    ck_assert_uint_eq(fadt->reset_register.space_id, ACPI_SPACE_IO);
    ck_assert_uint_eq(fadt->reset_register.address, 0xCF9);
    ck_assert_uint_eq(fadt->reset_register.bit_width, 8);
    ck_assert_uint_eq(fadt->reset_value, 0x06);
    ck_assert_uint_eq(fadt->boot_arch & ACPI_BOOT_ARCH_8042, 0);
    ck_assert_uint_eq(fadt->boot_arch & (1u << 5), 1u << 5); /* no CMOS RTC */

    /* The parser reads no PM1 event block: the fields by their Table 5.9 offsets. */
    const uint8_t *facp = table(&r, found.tables[0].address);
    ck_assert_uint_eq(get32(facp + 56), 0x600);       /* PM1a_EVT_BLK */
    ck_assert_uint_eq(facp[88], 4);                  /* PM1_EVT_LEN */
    ck_assert_uint_eq(facp[148], ACPI_SPACE_IO);     /* X_PM1a_EVT_BLK */
    ck_assert_uint_eq(facp[149], 32);
    ck_assert_uint_eq(get32(facp + 152), 0x600);
    ck_assert_uint_eq(get32(facp + 64), 0x604);      /* the legacy copies agree */
    ck_assert_uint_eq(get32(facp + 76), 0x608);

    /* FACS: 64-byte aligned, referenced by both pointers (the region is below 4 GiB). */
    uint64_t facs = (uint64_t)get32(facp + 132) | (uint64_t)get32(facp + 136) << 32;
    ck_assert_uint_eq(facs % 64, 0);
    ck_assert_uint_eq(get32(facp + 36), facs);
    const uint8_t *facs_bytes = region_phys(facs, 64, &r);
    ck_assert_ptr_nonnull(facs_bytes);
    ck_assert_mem_eq(facs_bytes, "FACS", 4);
    ck_assert_uint_eq(get32(facs_bytes + 4), 64);

    /* DSDT and \_S5: SLP_TYP 0, what the worker's PM1a control takes as power off. */
    ck_assert_int_eq(found.dsdt_status, ACPI_OK);
    ck_assert_int_eq(found.s5_status, ACPI_OK);
    ck_assert_uint_eq(found.s5.type_a, 0);
    ck_assert_uint_eq(found.s5.type_b, 0);
    ck_assert_uint_eq(get32(facp + 40), fadt->dsdt_address);

    /* The same tables through the single-table entry points. */
    uint8_t revision;
    uint64_t root;
    bool is_xsdt;
    ck_assert_int_eq(acpi_rsdp_parse(bytes, ACPI_RSDP_V2_LENGTH, &revision, &root, &is_xsdt),
                     ACPI_OK);
    ck_assert(is_xsdt);
    ck_assert_uint_eq(get32(bytes + 16), 0); /* no RSDT */
    uint64_t entries[4];
    size_t count;
    ck_assert_int_eq(acpi_root_parse(table(&r, root), room_at(&r, root), true, entries, 4,
                                     &count), ACPI_OK);
    ck_assert_uint_eq(count, 2);
    ck_assert_int_eq(acpi_table_check(table(&r, entries[0]), room_at(&r, entries[0]), "FACP"),
                     ACPI_OK);
    static struct acpi_madt madt_again;
    ck_assert_int_eq(acpi_madt_parse(table(&r, entries[1]), room_at(&r, entries[1]),
                                     &madt_again), ACPI_OK);
    ck_assert_uint_eq(acpi_madt_enabled_cpus(&madt_again), vp_count);
    struct acpi_fadt fadt_again;
    ck_assert_int_eq(acpi_fadt_parse(facp, room_at(&r, entries[0]), &fadt_again), ACPI_OK);
    struct acpi_sleep_type s5;
    ck_assert_int_eq(acpi_dsdt_find_s5(table(&r, fadt_again.dsdt_address),
                                       room_at(&r, fadt_again.dsdt_address), &s5), ACPI_OK);
    free(bytes);
}

START_TEST(tables_read_back)
{
    static const uint32_t vps[] = {1, 2, 3, 4, 8, 64, CHILD_ACPI_VPS_MAX};
    for (size_t i = 0; i < sizeof(vps) / sizeof(vps[0]); i++)
        check_tables(vps[i], BASE);
}
END_TEST

/* iasl -f (it refuses a 5-character _HID unless forced) on:
 *   DefinitionBlock ("", "DSDT", 2, "HVFW  ", "HVFWCHLD", 1) {
 *       Name (\_S5, Package () { 0, 0, 0, 0 })
 *       Scope (\_SB) { Device (VMBS) {
 *           Name (_HID, "VMBUS") Name (_UID, 0) Name (_STA, 0x0F)
 *           Name (_CRS, ResourceTemplate () { IRQNoFlags () { 5 } }) } } }
 * gives this AML after the 36-byte header (its own optimizer drops the '\' prefixes). */
static const uint8_t iasl_dsdt_body[] = {
    0x08, '_', 'S', '5', '_', 0x12, 0x06, 0x04, 0x00, 0x00, 0x00, 0x00,
    0x10, 0x33, '_', 'S', 'B', '_',
    0x5B, 0x82, 0x2C, 'V', 'M', 'B', 'S',
    0x08, '_', 'H', 'I', 'D', 0x0D, 'V', 'M', 'B', 'U', 'S', 0x00,
    0x08, '_', 'U', 'I', 'D', 0x00,
    0x08, '_', 'S', 'T', 'A', 0x0A, 0x0F,
    0x08, '_', 'C', 'R', 'S', 0x11, 0x08, 0x0A, 0x05, 0x22, 0x20, 0x00, 0x79, 0x00,
};

START_TEST(dsdt_is_what_iasl_compiles)
{
    size_t length;
    uint64_t rsdp;
    uint8_t *bytes = build(2, BASE, &length, &rsdp);
    struct region r = {BASE, bytes, length};
    struct acpi_fadt fadt;
    uint8_t revision;
    uint64_t root;
    bool is_xsdt;
    ck_assert_int_eq(acpi_rsdp_parse(bytes, length, &revision, &root, &is_xsdt), ACPI_OK);
    uint64_t entries[2];
    size_t count;
    ck_assert_int_eq(acpi_root_parse(table(&r, root), room_at(&r, root), true, entries, 2,
                                     &count), ACPI_OK);
    const uint8_t *facp = table(&r, entries[0]);
    ck_assert_int_eq(acpi_fadt_parse(facp, room_at(&r, entries[0]), &fadt), ACPI_OK);
    const uint8_t *dsdt = table(&r, fadt.dsdt_address);
    ck_assert_int_eq(acpi_table_check(dsdt, room_at(&r, fadt.dsdt_address), "DSDT"), ACPI_OK);
    ck_assert_uint_eq(dsdt[8], 2); /* revision 2: 64-bit integers */
    ck_assert_uint_eq(get32(dsdt + 4), ACPI_HEADER_LENGTH + sizeof(iasl_dsdt_body));
    ck_assert_mem_eq(dsdt + ACPI_HEADER_LENGTH, iasl_dsdt_body, sizeof(iasl_dsdt_body));
    ck_assert_ptr_nonnull(memmem(dsdt, get32(dsdt + 4), "\x0DVMBUS", 7));
    free(bytes);
}
END_TEST

/* Too small by any amount: nothing written, 0 returned (the buffer is exactly `size`). */
START_TEST(too_small_writes_nothing)
{
    struct child_acpi_config config = {.vp_count = 4};
    size_t need = child_acpi_size(&config);
    for (size_t size = 0; size < need; size++) {
        uint8_t *buffer = malloc(size ? size : 1);
        ck_assert_ptr_nonnull(buffer);
        memset(buffer, 0xA5, size);
        uint64_t rsdp = 0x1234;
        ck_assert_uint_eq(child_acpi_build(buffer, size, BASE, &config, &rsdp), 0);
        ck_assert_uint_eq(rsdp, 0x1234);
        for (size_t i = 0; i < size; i++)
            ck_assert_uint_eq(buffer[i], 0xA5);
        free(buffer);
    }
}
END_TEST

START_TEST(bad_requests_refused)
{
    static uint8_t buffer[CHILD_ACPI_REGION_BYTES];
    uint64_t rsdp;
    struct child_acpi_config none = {.vp_count = 0};
    struct child_acpi_config too_many = {.vp_count = CHILD_ACPI_VPS_MAX + 1};
    struct child_acpi_config good = {.vp_count = 1};
    ck_assert_uint_eq(child_acpi_size(&none), 0);
    ck_assert_uint_eq(child_acpi_size(&too_many), 0);
    ck_assert_uint_eq(child_acpi_size(NULL), 0);
    ck_assert_uint_eq(child_acpi_build(buffer, sizeof(buffer), BASE, &none, &rsdp), 0);
    ck_assert_uint_eq(child_acpi_build(buffer, sizeof(buffer), BASE, &too_many, &rsdp), 0);
    ck_assert_uint_eq(child_acpi_build(buffer, sizeof(buffer), BASE, NULL, &rsdp), 0);
    ck_assert_uint_eq(child_acpi_build(NULL, sizeof(buffer), BASE, &good, &rsdp), 0);
    ck_assert_uint_eq(child_acpi_build(buffer, sizeof(buffer), BASE, &good, NULL), 0);
    /* The FACS needs a 64-byte boundary, the RSDP search a 16-byte one. */
    ck_assert_uint_eq(child_acpi_build(buffer, sizeof(buffer), BASE + 16, &good, &rsdp), 0);
    ck_assert_uint_eq(child_acpi_build(buffer, sizeof(buffer), BASE + 1, &good, &rsdp), 0);
    /* A region that would wrap the 64-bit address space. */
    ck_assert_uint_eq(child_acpi_build(buffer, sizeof(buffer), UINT64_MAX - 63, &good, &rsdp),
                      0);
    ck_assert_uint_gt(child_acpi_build(buffer, sizeof(buffer), BASE, &good, &rsdp), 0);
}
END_TEST

/* Every byte of the region is written: two builds over different garbage are equal. */
START_TEST(whole_region_written)
{
    struct child_acpi_config config = {.vp_count = 3};
    size_t need = child_acpi_size(&config);
    uint8_t *a = malloc(need), *b = malloc(need);
    ck_assert(a && b);
    memset(a, 0xA5, need);
    memset(b, 0x5A, need);
    uint64_t ra, rb;
    ck_assert_uint_eq(child_acpi_build(a, need, BASE, &config, &ra), need);
    ck_assert_uint_eq(child_acpi_build(b, need, BASE, &config, &rb), need);
    ck_assert_mem_eq(a, b, need);
    free(a);
    free(b);
}
END_TEST

/* Above 4 GiB only the 64-bit pointers are set, and a reader still gets there. */
START_TEST(region_above_4g)
{
    uint64_t base = 0x100000000ull + 0x40;
    size_t length;
    uint64_t rsdp;
    uint8_t *bytes = build(2, base, &length, &rsdp);
    struct region r = {base, bytes, length};
    static struct acpi_platform found;
    ck_assert_int_eq(acpi_discover(bytes, ACPI_RSDP_V2_LENGTH, 0, region_phys, &r, &found),
                     ACPI_OK);
    ck_assert_int_eq(found.s5_status, ACPI_OK);
    ck_assert_uint_gt(found.fadt.dsdt_address, 0xFFFFFFFFull);
    const uint8_t *facp = table(&r, found.tables[0].address);
    ck_assert_uint_eq(get32(facp + 36), 0); /* FIRMWARE_CTRL */
    ck_assert_uint_eq(get32(facp + 40), 0); /* DSDT */
    free(bytes);
}
END_TEST

/* In the legacy BIOS area the RSDP search finds the tables with no pointer given. */
START_TEST(found_by_bios_area_search)
{
    static uint8_t area[0x20000];
    struct child_acpi_config config = {.vp_count = 2};
    uint64_t rsdp;
    size_t length = child_acpi_build(area + 0x10000, sizeof(area) - 0x10000, 0xF0000, &config,
                                     &rsdp);
    ck_assert_uint_gt(length, 0);
    struct region r = {0xE0000, area, sizeof(area)};
    ck_assert_uint_eq(acpi_rsdp_search(region_phys, &r, 0), 0xF0000);
    static struct acpi_platform found;
    ck_assert_int_eq(acpi_discover(NULL, 0, 0, region_phys, &r, &found), ACPI_OK);
    ck_assert_uint_eq(acpi_madt_enabled_cpus(&found.madt), 2);
}
END_TEST

Suite *child_acpi_suite(void)
{
    Suite *s = suite_create("child_acpi");
    TCase *t = tcase_create("child_acpi");
    tcase_add_test(t, tables_read_back);
    tcase_add_test(t, dsdt_is_what_iasl_compiles);
    tcase_add_test(t, too_small_writes_nothing);
    tcase_add_test(t, bad_requests_refused);
    tcase_add_test(t, whole_region_written);
    tcase_add_test(t, region_above_4g);
    tcase_add_test(t, found_by_bios_area_search);
    suite_add_tcase(s, t);
    return s;
}
