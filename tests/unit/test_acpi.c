// sources: kernel/acpi.c
/*
 * ACPI parsing over tables captured from QEMU 7.2 (tests/unit/data/acpi/, made by
 * capture.py there: i440fx and q35 with -smp 4, q35 with -smp 2,maxcpus=4) and over
 * corrupted and synthetic tables. Every table is handed to the parser in a buffer of exactly
 * its size, so AddressSanitizer catches any read past the end.
 */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernel/acpi.h"

#define DATA "tests/unit/data/acpi/"
#define BIOS_AREA 0xE0000u
#define BIOS_AREA_SIZE 0x20000u

/* --- a sparse fake physical memory ----------------------------------------------------- */

struct chunk {
    uint64_t address;
    uint8_t *bytes;
    size_t length;
};

struct memory {
    struct chunk chunks[16];
    size_t count;
};

static const void *fake_phys(uint64_t pa, size_t len, void *ctx)
{
    const struct memory *m = ctx;
    for (size_t i = 0; i < m->count; i++) {
        const struct chunk *c = &m->chunks[i];
        if (pa >= c->address && pa - c->address <= c->length && len <= c->length - (pa - c->address))
            return c->bytes + (pa - c->address);
    }
    return NULL;
}

static uint8_t *add_chunk(struct memory *m, uint64_t address, const void *bytes, size_t length)
{
    ck_assert_uint_lt(m->count, 16);
    uint8_t *copy = malloc(length);
    ck_assert_ptr_nonnull(copy);
    memcpy(copy, bytes, length);
    m->chunks[m->count++] = (struct chunk){address, copy, length};
    return copy;
}

static void free_memory(struct memory *m)
{
    for (size_t i = 0; i < m->count; i++)
        free(m->chunks[i].bytes);
    m->count = 0;
}

/* Reads a whole file into an exact-size heap buffer. */
static uint8_t *load(const char *path, size_t *length)
{
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot open %s (tests run from the repository top)", path);
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    ck_assert_int_gt(size, 0);
    uint8_t *buf = malloc((size_t)size);
    ck_assert_ptr_nonnull(buf);
    ck_assert_uint_eq(fread(buf, 1, (size_t)size, f), (size_t)size);
    fclose(f);
    *length = (size_t)size;
    return buf;
}

static uint8_t *load_table(const char *capture, const char *file, size_t *length)
{
    char path[256];
    snprintf(path, sizeof(path), DATA "%s/%s", capture, file);
    return load(path, length);
}

/* Builds memory from <capture>/tables.txt: the RSDP inside a zeroed BIOS area, every other
 * table at its captured address, and page 0 (BDA) with no EBDA segment. */
static void load_capture(const char *capture, struct memory *m)
{
    static uint8_t bios_area[BIOS_AREA_SIZE];
    static uint8_t page0[4096];
    memset(bios_area, 0, sizeof(bios_area));
    memset(page0, 0, sizeof(page0));
    m->count = 0;
    char path[256];
    snprintf(path, sizeof(path), DATA "%s/tables.txt", capture);
    FILE *f = fopen(path, "r");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    char sig[8], file[64];
    unsigned long long address;
    while (fscanf(f, "%7s %llx %63s", sig, &address, file) == 3) {
        size_t length;
        uint8_t *bytes = load_table(capture, file, &length);
        if (strcmp(sig, "RSDP") == 0) {
            ck_assert(address >= BIOS_AREA && address + length <= BIOS_AREA + BIOS_AREA_SIZE);
            memcpy(bios_area + (address - BIOS_AREA), bytes, length);
        } else {
            add_chunk(m, address, bytes, length);
        }
        free(bytes);
    }
    fclose(f);
    add_chunk(m, BIOS_AREA, bios_area, sizeof(bios_area));
    add_chunk(m, 0, page0, sizeof(page0));
}

static void fix_checksum(uint8_t *table, size_t length, size_t checksum_offset)
{
    table[checksum_offset] = 0;
    uint8_t sum = 0;
    for (size_t i = 0; i < length; i++)
        sum = (uint8_t)(sum + table[i]);
    table[checksum_offset] = (uint8_t)(0x100 - sum);
}

static void put32(uint8_t *p, uint32_t v)
{
    memcpy(p, &v, 4);
}

static void put64(uint8_t *p, uint64_t v)
{
    memcpy(p, &v, 8);
}

static struct acpi_platform platform;

/* --- whole discovery over the captures ------------------------------------------------- */

static void check_common_pc(const struct acpi_platform *p)
{
    ck_assert_str_eq(p->oem_id, "BOCHS ");
    ck_assert_int_eq(p->rsdp_revision, 0);
    ck_assert(!p->root_is_xsdt);
    ck_assert_int_eq(p->madt_status, ACPI_OK);
    ck_assert_uint_eq(p->madt.lapic_address, 0xFEE00000u);
    ck_assert(p->madt.flags & ACPI_MADT_PCAT_COMPAT);
    ck_assert_uint_eq(p->madt.ioapic_count, 1);
    ck_assert_uint_eq(p->madt.ioapics[0].address, 0xFEC00000u);
    ck_assert_uint_eq(p->madt.ioapics[0].gsi_base, 0);
    /* QEMU's overrides: the PIT's IRQ 0 on GSI 2; the PCI link IRQs 5, 9, 10, 11 level/low. */
    ck_assert_uint_eq(p->madt.override_count, 5);
    ck_assert_uint_eq(p->madt.overrides[0].source, 0);
    ck_assert_uint_eq(p->madt.overrides[0].gsi, 2);
    ck_assert_uint_eq(p->madt.overrides[1].source, 5);
    ck_assert_uint_eq(p->madt.overrides[1].flags,
                      ACPI_ISO_POLARITY_HIGH | ACPI_ISO_TRIGGER_LEVEL);
    ck_assert_uint_eq(p->madt.nmi_count, 1);
    ck_assert_uint_eq(p->madt.nmis[0].processor_uid, ACPI_NMI_ALL_PROCESSORS);
    ck_assert_uint_eq(p->madt.nmis[0].lint, 1);
    ck_assert_int_eq(p->fadt_status, ACPI_OK);
    ck_assert_uint_eq(p->fadt.pm_timer.space_id, ACPI_SPACE_IO);
    ck_assert_uint_eq(p->fadt.pm_timer.address, 0x608);
    ck_assert(!p->fadt.pm_timer_32bit);
    ck_assert_uint_eq(p->fadt.pm1a_control.address, 0x604);
    ck_assert_uint_eq(p->fadt.pm1b_control.address, 0);
    ck_assert_uint_eq(p->fadt.sci_interrupt, 9);
    ck_assert_int_eq(p->dsdt_status, ACPI_OK);
    /* QEMU: Name (_S5, Package (0x04) { Zero, Zero, Zero, Zero }) */
    ck_assert_int_eq(p->s5_status, ACPI_OK);
    ck_assert_uint_eq(p->s5.type_a, 0);
    ck_assert_uint_eq(p->s5.type_b, 0);
}

START_TEST(discover_i440fx_smp4)
{
    struct memory m;
    load_capture("pc-smp4", &m);
    ck_assert_int_eq(acpi_discover(NULL, 0, 0, fake_phys, &m, &platform), ACPI_OK);
    ck_assert_uint_eq(platform.rsdp_address, 0xF59D0);
    ck_assert_uint_eq(platform.table_count, 4); /* FACP APIC HPET WAET */
    check_common_pc(&platform);
    ck_assert_uint_eq(platform.madt.cpu_count, 4);
    ck_assert_uint_eq(acpi_madt_enabled_cpus(&platform.madt), 4);
    for (uint32_t i = 0; i < 4; i++)
        ck_assert_uint_eq(platform.madt.cpus[i].apic_id, i);
    ck_assert_uint_eq(platform.fadt.revision, 1);
    ck_assert(!platform.fadt.has_reset_register); /* a revision 1 FADT has no RESET_REG */
    ck_assert_uint_eq(platform.fadt.dsdt_address, 0xFFE0040);
    free_memory(&m);
}
END_TEST

START_TEST(discover_q35_smp4)
{
    struct memory m;
    load_capture("q35-smp4", &m);
    ck_assert_int_eq(acpi_discover(NULL, 0, 0, fake_phys, &m, &platform), ACPI_OK);
    ck_assert_uint_eq(platform.table_count, 5); /* FACP APIC HPET MCFG WAET */
    ck_assert_str_eq(platform.tables[3].signature, "MCFG");
    check_common_pc(&platform);
    ck_assert_uint_eq(acpi_madt_enabled_cpus(&platform.madt), 4);
    ck_assert_uint_eq(platform.fadt.revision, 3);
    ck_assert(platform.fadt.has_reset_register);
    ck_assert_uint_eq(platform.fadt.reset_register.space_id, ACPI_SPACE_IO);
    ck_assert_uint_eq(platform.fadt.reset_register.address, 0xCF9);
    ck_assert_uint_eq(platform.fadt.reset_value, 0x0F);
    free_memory(&m);
}
END_TEST

START_TEST(discover_q35_disabled_cpus)
{
    struct memory m;
    load_capture("q35-smp2-max4", &m);
    ck_assert_int_eq(acpi_discover(NULL, 0, 0, fake_phys, &m, &platform), ACPI_OK);
    ck_assert_uint_eq(platform.madt.cpu_count, 4);
    ck_assert_uint_eq(acpi_madt_enabled_cpus(&platform.madt), 2);
    ck_assert(platform.madt.cpus[1].enabled);
    ck_assert(!platform.madt.cpus[2].enabled);
    ck_assert(!platform.madt.cpus[2].online_capable);
    free_memory(&m);
}
END_TEST

START_TEST(discover_with_loader_copy_and_ebda)
{
    struct memory m;
    load_capture("pc-smp4", &m);
    size_t length;
    uint8_t *rsdp = load_table("pc-smp4", "RSDP.bin", &length);
    /* The multiboot2 copy: no search, rsdp_address stays 0. */
    ck_assert_int_eq(acpi_discover(rsdp, length, 0, fake_phys, &m, &platform), ACPI_OK);
    ck_assert_uint_eq(platform.rsdp_address, 0);
    ck_assert_uint_eq(platform.madt.cpu_count, 4);

    /* RSDP in the EBDA only: the BIOS area copy is wiped, the EBDA segment at 0x40E. */
    memset(m.chunks[m.count - 2].bytes, 0, BIOS_AREA_SIZE);
    uint8_t ebda[1024] = {0};
    memcpy(ebda + 0x40, rsdp, length);
    add_chunk(&m, 0x9FC00, ebda, sizeof(ebda));
    uint8_t *page0 = m.chunks[m.count - 2].bytes;
    page0[0x40E] = 0xC0; /* segment 0x9FC0 */
    page0[0x40F] = 0x9F;
    ck_assert_uint_eq(acpi_rsdp_search(fake_phys, &m, 0), 0x9FC40);
    /* Without a readable BDA the hint from the memory map is used. */
    m.chunks[m.count - 2].address = 0x1000000; /* page 0 gone */
    ck_assert_uint_eq(acpi_rsdp_search(fake_phys, &m, 0), 0);
    ck_assert_uint_eq(acpi_rsdp_search(fake_phys, &m, 0x9FC00), 0x9FC40);
    ck_assert_int_eq(acpi_discover(NULL, 0, 0x9FC00, fake_phys, &m, &platform), ACPI_OK);
    ck_assert_uint_eq(platform.madt.cpu_count, 4);
    free(rsdp);
    free_memory(&m);
}
END_TEST

START_TEST(discover_reports_corrupt_madt_and_continues)
{
    struct memory m;
    load_capture("q35-smp4", &m);
    for (size_t i = 0; i < m.count; i++)
        if (memcmp(m.chunks[i].bytes, "APIC", 4) == 0)
            m.chunks[i].bytes[50] ^= 0x55; /* checksum now wrong */
    ck_assert_int_eq(acpi_discover(NULL, 0, 0, fake_phys, &m, &platform), ACPI_OK);
    ck_assert_int_eq(platform.madt_status, ACPI_BAD_CHECKSUM);
    ck_assert_uint_eq(platform.madt.cpu_count, 0);
    ck_assert_int_eq(platform.fadt_status, ACPI_OK);
    ck_assert_int_eq(platform.s5_status, ACPI_OK);
    free_memory(&m);
}
END_TEST

START_TEST(discover_without_rsdp)
{
    struct memory m;
    load_capture("pc-smp4", &m);
    memset(m.chunks[m.count - 2].bytes, 0, BIOS_AREA_SIZE);
    ck_assert_int_eq(acpi_discover(NULL, 0, 0, fake_phys, &m, &platform), ACPI_NOT_FOUND);
    free_memory(&m);
    /* Nothing readable at all. */
    ck_assert_int_eq(acpi_discover(NULL, 0, 0, fake_phys, &m, &platform), ACPI_NOT_FOUND);
}
END_TEST

/* --- RSDP and the root table ------------------------------------------------------------ */

/* A revision 2 RSDP pointing at an XSDT that lists the q35 capture's FADT and MADT. */
START_TEST(rsdp_v2_prefers_xsdt)
{
    struct memory m;
    load_capture("q35-smp4", &m);
    uint8_t xsdt[36 + 16] = {0};
    memcpy(xsdt, "XSDT", 4);
    put32(xsdt + 4, sizeof(xsdt));
    xsdt[8] = 1;
    put64(xsdt + 36, 0xFFE2167); /* FACP */
    put64(xsdt + 44, 0xFFE225B); /* APIC */
    fix_checksum(xsdt, sizeof(xsdt), 9);
    add_chunk(&m, 0x7000000, xsdt, sizeof(xsdt));

    uint8_t rsdp[36] = {0};
    memcpy(rsdp, "RSD PTR ", 8);
    memcpy(rsdp + 9, "HVFWT ", 6);
    rsdp[15] = 2;
    put32(rsdp + 16, 0xFFE2387); /* the RSDT, which must not be used */
    put32(rsdp + 20, 36);
    put64(rsdp + 24, 0x7000000);
    fix_checksum(rsdp, 20, 8);
    fix_checksum(rsdp, 36, 32);

    uint8_t revision;
    uint64_t root;
    bool is_xsdt;
    ck_assert_int_eq(acpi_rsdp_parse(rsdp, sizeof(rsdp), &revision, &root, &is_xsdt), ACPI_OK);
    ck_assert(is_xsdt);
    ck_assert_uint_eq(root, 0x7000000);
    ck_assert_int_eq(acpi_discover(rsdp, sizeof(rsdp), 0, fake_phys, &m, &platform), ACPI_OK);
    ck_assert(platform.root_is_xsdt);
    ck_assert_str_eq(platform.oem_id, "HVFWT ");
    ck_assert_uint_eq(platform.table_count, 2);
    ck_assert_uint_eq(acpi_madt_enabled_cpus(&platform.madt), 4);
    ck_assert_uint_eq(platform.fadt.pm_timer.address, 0x608);

    /* The extended checksum covers all 36 bytes. */
    rsdp[30] ^= 1;
    ck_assert_int_eq(acpi_rsdp_parse(rsdp, sizeof(rsdp), &revision, &root, &is_xsdt),
                     ACPI_BAD_CHECKSUM);
    rsdp[30] ^= 1;
    /* A v2 RSDP cut to 20 bytes. */
    ck_assert_int_eq(acpi_rsdp_parse(rsdp, 20, &revision, &root, &is_xsdt), ACPI_TRUNCATED);
    /* An XSDT whose length is not a whole number of entries. */
    put32(xsdt + 4, sizeof(xsdt) - 4);
    fix_checksum(xsdt, sizeof(xsdt) - 4, 9);
    uint64_t entries[4];
    size_t count;
    ck_assert_int_eq(acpi_root_parse(xsdt, sizeof(xsdt) - 4, true, entries, 4, &count),
                     ACPI_MALFORMED);
    free_memory(&m);
}
END_TEST

START_TEST(rsdp_rejects_bad_input)
{
    size_t length;
    uint8_t *rsdp = load_table("pc-smp4", "RSDP.bin", &length);
    uint8_t revision;
    uint64_t root;
    bool is_xsdt;
    ck_assert_int_eq(acpi_rsdp_parse(rsdp, length, &revision, &root, &is_xsdt), ACPI_OK);
    ck_assert_uint_eq(root, 0xFFE1B94);
    ck_assert_int_eq(acpi_rsdp_parse(rsdp, 19, &revision, &root, &is_xsdt), ACPI_TRUNCATED);
    rsdp[12] ^= 0x20;
    ck_assert_int_eq(acpi_rsdp_parse(rsdp, length, &revision, &root, &is_xsdt),
                     ACPI_BAD_CHECKSUM);
    rsdp[0] = 'X';
    ck_assert_int_eq(acpi_rsdp_parse(rsdp, length, &revision, &root, &is_xsdt),
                     ACPI_BAD_SIGNATURE);
    free(rsdp);
}
END_TEST

/* --- table header checks and the MADT ---------------------------------------------------- */

START_TEST(table_check_rejects_bad_headers)
{
    size_t length;
    uint8_t *madt = load_table("q35-smp4", "APIC.bin", &length);
    ck_assert_int_eq(acpi_table_check(madt, length, "APIC"), ACPI_OK);
    ck_assert_int_eq(acpi_table_check(madt, length, "FACP"), ACPI_BAD_SIGNATURE);
    ck_assert_int_eq(acpi_table_check(madt, 35, NULL), ACPI_TRUNCATED);
    ck_assert_int_eq(acpi_table_check(madt, length - 1, NULL), ACPI_TRUNCATED);
    madt[20] ^= 1;
    ck_assert_int_eq(acpi_table_check(madt, length, NULL), ACPI_BAD_CHECKSUM);
    madt[20] ^= 1;
    put32(madt + 4, 20); /* shorter than the header */
    ck_assert_int_eq(acpi_table_check(madt, length, NULL), ACPI_BAD_LENGTH);
    put32(madt + 4, 0x80000000u); /* absurd */
    ck_assert_int_eq(acpi_table_check(madt, length, NULL), ACPI_BAD_LENGTH);
    free(madt);
}
END_TEST

/* Returns the MADT of the q35 capture with its first entry (a local APIC, at 44) given
 * `entry_length`, checksum fixed. */
static uint8_t *madt_with_first_entry_length(uint8_t entry_length, size_t *length)
{
    uint8_t *madt = load_table("q35-smp4", "APIC.bin", length);
    ck_assert_uint_eq(madt[44], 0);
    madt[45] = entry_length;
    fix_checksum(madt, *length, 9);
    return madt;
}

START_TEST(madt_rejects_bad_entries)
{
    struct acpi_madt *out = malloc(sizeof(*out));
    size_t length;
    uint8_t *madt = madt_with_first_entry_length(0, &length);
    ck_assert_int_eq(acpi_madt_parse(madt, length, out), ACPI_MALFORMED);
    free(madt);
    madt = madt_with_first_entry_length(4, &length); /* shorter than a local APIC entry */
    ck_assert_int_eq(acpi_madt_parse(madt, length, out), ACPI_MALFORMED);
    free(madt);
    madt = madt_with_first_entry_length(200, &length); /* runs past the table */
    ck_assert_int_eq(acpi_madt_parse(madt, length, out), ACPI_MALFORMED);
    free(madt);

    /* The last entry's length overruns by one byte. */
    madt = load_table("q35-smp4", "APIC.bin", &length);
    size_t off = 44, last = 44;
    while (off < length) {
        last = off;
        off += madt[off + 1];
    }
    madt[last + 1]++;
    fix_checksum(madt, length, 9);
    ck_assert_int_eq(acpi_madt_parse(madt, length, out), ACPI_MALFORMED);
    free(madt);
    free(out);
}
END_TEST

/* A synthetic MADT: an x2APIC entry duplicating a local APIC, an x2APIC-only CPU with an ID
 * above 255, an online-capable CPU, an x2APIC NMI and an address override. */
START_TEST(madt_x2apic_and_override)
{
    uint8_t t[44 + 8 + 16 + 16 + 8 + 12 + 12] = {0};
    memcpy(t, "APIC", 4);
    put32(t + 4, sizeof(t));
    t[8] = 5;
    put32(t + 36, 0xFEE00000u);
    uint8_t *e = t + 44;
    e[0] = 0, e[1] = 8, e[2] = 0, e[3] = 0, put32(e + 4, 1); /* APIC 0 enabled */
    e += 8;
    e[0] = 9, e[1] = 16, put32(e + 4, 0), put32(e + 8, 1), put32(e + 12, 0); /* same CPU */
    e += 16;
    e[0] = 9, e[1] = 16, put32(e + 4, 300), put32(e + 8, 1), put32(e + 12, 7);
    e += 16;
    e[0] = 0, e[1] = 8, e[2] = 2, e[3] = 5, put32(e + 4, 2); /* online-capable */
    e += 8;
    e[0] = 10, e[1] = 12, e[2] = 0xD, put32(e + 4, 7), e[8] = 1;
    e += 12;
    e[0] = 5, e[1] = 12, put64(e + 4, 0x1FEE00000ull);
    fix_checksum(t, sizeof(t), 9);
    struct acpi_madt *out = malloc(sizeof(*out));
    ck_assert_int_eq(acpi_madt_parse(t, sizeof(t), out), ACPI_OK);
    ck_assert_uint_eq(out->cpu_count, 3);
    ck_assert_uint_eq(acpi_madt_enabled_cpus(out), 2);
    ck_assert_uint_eq(out->cpus[1].apic_id, 300);
    ck_assert(out->cpus[1].from_x2apic_entry);
    ck_assert_uint_eq(out->cpus[1].processor_uid, 7);
    ck_assert(!out->cpus[2].enabled);
    ck_assert(out->cpus[2].online_capable);
    ck_assert_uint_eq(out->nmi_count, 1);
    ck_assert_uint_eq(out->nmis[0].processor_uid, 7);
    ck_assert_uint_eq(out->nmis[0].lint, 1);
    ck_assert_uint_eq(out->lapic_address, 0x1FEE00000ull);
    free(out);
}
END_TEST

/* Every truncation and many random corruptions of every captured table: the parsers must
 * answer (never crash, never read outside the buffer, which ASan checks). */
START_TEST(parsers_survive_truncation_and_corruption)
{
    static const char *const captures[] = {"pc-smp4", "q35-smp4"};
    static const char *const files[] = {"APIC.bin", "FACP.bin", "DSDT.bin", "RSDT.bin"};
    struct acpi_madt *madt = malloc(sizeof(*madt));
    struct acpi_fadt fadt;
    struct acpi_sleep_type s5;
    uint64_t entries[8];
    size_t count;
    uint32_t seed = 12345;
    for (size_t c = 0; c < 2; c++) {
        for (size_t f = 0; f < 4; f++) {
            size_t length;
            uint8_t *table = load_table(captures[c], files[f], &length);
            for (size_t cut = 0; cut < length; cut++) {
                uint8_t *part = malloc(cut ? cut : 1);
                memcpy(part, table, cut);
                ck_assert_int_ne(acpi_madt_parse(part, cut, madt), ACPI_OK);
                ck_assert_int_ne(acpi_fadt_parse(part, cut, &fadt), ACPI_OK);
                ck_assert_int_ne(acpi_dsdt_find_s5(part, cut, &s5), ACPI_OK);
                ck_assert_int_ne(acpi_root_parse(part, cut, false, entries, 8, &count), ACPI_OK);
                free(part);
            }
            for (int round = 0; round < 300; round++) {
                uint8_t *copy = malloc(length);
                memcpy(copy, table, length);
                for (int flips = 0; flips < 4; flips++) {
                    seed = seed * 1103515245u + 12345u;
                    copy[36 + (seed >> 8) % (length - 36)] = (uint8_t)(seed >> 24);
                }
                fix_checksum(copy, length, 9);
                (void)acpi_madt_parse(copy, length, madt);
                (void)acpi_fadt_parse(copy, length, &fadt);
                (void)acpi_dsdt_find_s5(copy, length, &s5);
                (void)acpi_root_parse(copy, length, false, entries, 8, &count);
                free(copy);
            }
            free(table);
        }
    }
    free(madt);
}
END_TEST

/* --- FADT ------------------------------------------------------------------------------ */

START_TEST(fadt_prefers_x_fields)
{
    size_t length;
    uint8_t *fadt = load_table("q35-smp4", "FACP.bin", &length);
    ck_assert_uint_eq(length, 244);
    struct acpi_fadt out;
    /* X_PM_TMR_BLK (offset 208): 32-bit I/O at 0xB008; X_DSDT (140) above 4 GiB. */
    uint8_t gas[12] = {ACPI_SPACE_IO, 32, 0, 3};
    put64(gas + 4, 0xB008);
    memcpy(fadt + 208, gas, sizeof(gas));
    put64(fadt + 140, 0x100000000ull);
    fix_checksum(fadt, length, 9);
    ck_assert_int_eq(acpi_fadt_parse(fadt, length, &out), ACPI_OK);
    ck_assert_uint_eq(out.pm_timer.address, 0xB008);
    ck_assert_uint_eq(out.dsdt_address, 0x100000000ull);
    /* Too short for even a revision 1 FADT. */
    put32(fadt + 4, 100);
    fix_checksum(fadt, 100, 9);
    ck_assert_int_eq(acpi_fadt_parse(fadt, 100, &out), ACPI_BAD_LENGTH);
    free(fadt);
}
END_TEST

/* --- \_S5 ------------------------------------------------------------------------------ */

/* A DSDT holding `aml` after its header, exactly sized. */
static uint8_t *dsdt_with(const uint8_t *aml, size_t aml_length, size_t *length)
{
    *length = 36 + aml_length;
    uint8_t *t = calloc(1, *length);
    memcpy(t, "DSDT", 4);
    put32(t + 4, (uint32_t)*length);
    t[8] = 2;
    memcpy(t + 36, aml, aml_length);
    fix_checksum(t, *length, 9);
    return t;
}

static enum acpi_status s5_of(const uint8_t *aml, size_t aml_length, struct acpi_sleep_type *s5)
{
    size_t length;
    uint8_t *t = dsdt_with(aml, aml_length, &length);
    enum acpi_status st = acpi_dsdt_find_s5(t, length, s5);
    free(t);
    return st;
}

START_TEST(s5_synthetic_packages)
{
    struct acpi_sleep_type s5 = {0xEE, 0xEE};
    /* Name (\_S5, Package (0x02) { 0x05, 0x07 }) */
    static const uint8_t root_named[] = {0x08, '\\', '_', 'S', '5', '_', 0x12, 0x06, 0x02,
                                         0x0A, 0x05, 0x0A, 0x07};
    ck_assert_int_eq(s5_of(root_named, sizeof(root_named), &s5), ACPI_OK);
    ck_assert_uint_eq(s5.type_a, 5);
    ck_assert_uint_eq(s5.type_b, 7);
    /* One packed word: SLP_TYPa in the low byte, SLP_TYPb in the next. */
    static const uint8_t packed[] = {0x08, '_', 'S', '5', '_', 0x12, 0x05, 0x01, 0x0B, 0x06,
                                     0x03};
    ck_assert_int_eq(s5_of(packed, sizeof(packed), &s5), ACPI_OK);
    ck_assert_uint_eq(s5.type_a, 6);
    ck_assert_uint_eq(s5.type_b, 3);
    /* Two-byte PkgLength, One and DWordPrefix elements. */
    static const uint8_t wide[] = {0x08, '_', 'S', '5', '_', 0x12, 0x40, 0x01, 0x02, 0x01,
                                   0x0C, 0x02, 0x00, 0x00, 0x00};
    ck_assert_int_eq(s5_of(wide, sizeof(wide), &s5), ACPI_OK);
    ck_assert_uint_eq(s5.type_a, 1);
    ck_assert_uint_eq(s5.type_b, 2);
    /* "_S5_" in a string is not a definition; the real one follows. */
    static const uint8_t string_first[] = {0x0D, '_', 'S', '5', '_', 0x00, 0x08, '_', 'S', '5',
                                           '_', 0x12, 0x06, 0x02, 0x0A, 0x04, 0x0A, 0x04};
    ck_assert_int_eq(s5_of(string_first, sizeof(string_first), &s5), ACPI_OK);
    ck_assert_uint_eq(s5.type_a, 4);
}
END_TEST

START_TEST(s5_rejects_bad_packages)
{
    struct acpi_sleep_type s5;
    static const uint8_t too_big[] = {0x08, '_', 'S', '5', '_', 0x12, 0x06, 0x02, 0x0A, 0x09,
                                      0x0A, 0x00};
    ck_assert_int_eq(s5_of(too_big, sizeof(too_big), &s5), ACPI_MALFORMED);
    static const uint8_t not_a_package[] = {0x08, '_', 'S', '5', '_', 0x0A, 0x05};
    ck_assert_int_eq(s5_of(not_a_package, sizeof(not_a_package), &s5), ACPI_MALFORMED);
    static const uint8_t no_elements[] = {0x08, '_', 'S', '5', '_', 0x12, 0x02, 0x00};
    ck_assert_int_eq(s5_of(no_elements, sizeof(no_elements), &s5), ACPI_MALFORMED);
    static const uint8_t bare_name[] = {0x10, '_', 'S', '5', '_', 0x12, 0x06, 0x02, 0x00, 0x00};
    ck_assert_int_eq(s5_of(bare_name, sizeof(bare_name), &s5), ACPI_NOT_FOUND);
    /* Cut at every byte after the name: never OK, never a read past the table. */
    static const uint8_t good[] = {0x08, '_', 'S', '5', '_', 0x12, 0x0A, 0x02, 0x0C, 0x05,
                                   0x00, 0x00, 0x00, 0x0E, 0x07, 0, 0, 0, 0, 0, 0, 0};
    ck_assert_int_eq(s5_of(good, sizeof(good), &s5), ACPI_OK);
    for (size_t cut = 5; cut < sizeof(good); cut++)
        ck_assert_int_ne(s5_of(good, cut, &s5), ACPI_OK);
    static const uint8_t none[] = {0x10, 0x05, '_', 'S', 'B', '_'};
    ck_assert_int_eq(s5_of(none, sizeof(none), &s5), ACPI_NOT_FOUND);
}
END_TEST

Suite *acpi_suite(void)
{
    Suite *s = suite_create("acpi");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, discover_i440fx_smp4);
    tcase_add_test(tc, discover_q35_smp4);
    tcase_add_test(tc, discover_q35_disabled_cpus);
    tcase_add_test(tc, discover_with_loader_copy_and_ebda);
    tcase_add_test(tc, discover_reports_corrupt_madt_and_continues);
    tcase_add_test(tc, discover_without_rsdp);
    tcase_add_test(tc, rsdp_v2_prefers_xsdt);
    tcase_add_test(tc, rsdp_rejects_bad_input);
    tcase_add_test(tc, table_check_rejects_bad_headers);
    tcase_add_test(tc, madt_rejects_bad_entries);
    tcase_add_test(tc, madt_x2apic_and_override);
    tcase_add_test(tc, parsers_survive_truncation_and_corruption);
    tcase_add_test(tc, fadt_prefers_x_fields);
    tcase_add_test(tc, s5_synthetic_packages);
    tcase_add_test(tc, s5_rejects_bad_packages);
    suite_add_tcase(s, tc);
    return s;
}
