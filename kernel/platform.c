#include "kernel/platform.h"

#include <stdint.h>

#include "kernel/acpi.h"
#include "kernel/bootinfo.h"
#include "kernel/cmdline.h"
#include "kernel/ioapic.h"
#include "kernel/lapic.h"
#include "kernel/log.h"
#include "kernel/main.h"
#include "kernel/paging.h"
#include "kernel/smp.h"
#include "kernel/tsc.h"

/* ACPI tables the memory map omits are mapped on demand only below this (see acpi_phys). */
#define FIRMWARE_ON_DEMAND_LIMIT (1ull << 32)

/* The BIOS area and the EBDA lie in the low 1 MiB, which paging always maps; page 0, where
 * the EBDA's segment is, is read through paging's alias of it. ACPI tables are mapped when
 * the memory map lists their range as reserved or ACPI; a loader that lists RAM only (iPXE's
 * multiboot map) leaves them out, so a range below 4 GiB that is not mapped is mapped here,
 * read-only and no-execute, once the tables point to it. BIOS-era firmware keeps its tables
 * below 4 GiB; above it an unlisted address is more likely a device window than a table, so
 * it stays unread. */
static const void *acpi_phys(uint64_t pa, size_t len, void *ctx)
{
    (void)ctx;
    if (len == 0 || pa + len < pa)
        return NULL;
    const void *p = paging_physical_pointer(pa, len);
    if (p || pa + len > FIRMWARE_ON_DEMAND_LIMIT || !paging_map_firmware(pa, len))
        return p;
    return paging_physical_pointer(pa, len);
}

/* The EBDA as the memory map shows it (the reserved range that ends conventional memory
 * below 640 KiB): used only if the BIOS data area cannot be read. 0 when there is none. */
static uint64_t ebda_from_memory_map(const struct boot_info *info)
{
    for (size_t i = 0; i < info->region_count; i++) {
        const struct boot_region *r = &info->regions[i];
        if (r->type != BOOT_REGION_USABLE && r->base >= 0x80000 && r->base < 0xA0000)
            return r->base;
    }
    return 0;
}

static void dump_bytes(const char *name, uint64_t pa, size_t length)
{
    const uint8_t *p = acpi_phys(pa, length, NULL);
    if (!p)
        return;
    console_printf("acpi-table %s %lx %zu\n", name, pa, length);
    for (size_t off = 0; off < length; off += 32) {
        char hex[65];
        size_t n = length - off < 32 ? length - off : 32;
        for (size_t i = 0; i < n; i++) {
            hex[2 * i] = "0123456789abcdef"[p[off + i] >> 4];
            hex[2 * i + 1] = "0123456789abcdef"[p[off + i] & 0xF];
        }
        hex[2 * n] = '\0';
        console_printf("acpi-dump %s %zx %s\n", name, off, hex);
    }
}

/* Dumps the table at pa whole, its length taken from its header (checked at discovery). */
static void dump_table(const char *name, uint64_t pa)
{
    const uint8_t *header = acpi_phys(pa, ACPI_HEADER_LENGTH, NULL);
    if (!header)
        return;
    uint32_t length = (uint32_t)header[4] | (uint32_t)header[5] << 8 |
                      (uint32_t)header[6] << 16 | (uint32_t)header[7] << 24;
    if (length >= ACPI_HEADER_LENGTH && length <= ACPI_TABLE_MAX_LENGTH)
        dump_bytes(name, pa, length);
}

/* `acpi.dump`: every table as hex, for capturing test data (tests/unit/data/acpi/). */
static void dump_tables(const struct acpi_platform *acpi)
{
    if (acpi->rsdp_address)
        dump_bytes("RSDP", acpi->rsdp_address,
                   acpi->rsdp_revision >= 2 ? ACPI_RSDP_V2_LENGTH : ACPI_RSDP_V1_LENGTH);
    dump_table(acpi->root_is_xsdt ? "XSDT" : "RSDT", acpi->root_address);
    for (size_t i = 0; i < acpi->table_count; i++)
        if (acpi->tables[i].status == ACPI_OK)
            dump_table(acpi->tables[i].signature, acpi->tables[i].address);
    if (acpi->dsdt_status == ACPI_OK)
        dump_table("DSDT", acpi->fadt.dsdt_address);
}

static void report_madt(const struct acpi_platform *acpi)
{
    const struct acpi_madt *madt = &acpi->madt;
    log_info("acpi: MADT: %zu CPUs (%zu enabled), %zu IOAPICs, %zu overrides, %zu NMI lines, "
             "local APIC at %lx%s", madt->cpu_count, acpi_madt_enabled_cpus(madt),
             madt->ioapic_count, madt->override_count, madt->nmi_count, madt->lapic_address,
             madt->flags & ACPI_MADT_PCAT_COMPAT ? ", 8259s present" : "");
    for (size_t i = 0; i < madt->cpu_count; i++) {
        const struct acpi_cpu *c = &madt->cpus[i];
        log_debug("acpi: CPU APIC ID %u UID %u%s%s%s", c->apic_id, c->processor_uid,
                  c->enabled ? " enabled" : "", c->online_capable ? " online-capable" : "",
                  c->from_x2apic_entry ? " (x2APIC entry)" : "");
    }
    for (size_t i = 0; i < madt->override_count; i++) {
        const struct acpi_override *o = &madt->overrides[i];
        log_debug("acpi: override bus %u IRQ %u -> GSI %u flags %x", o->bus, o->source, o->gsi,
                  o->flags);
    }
    if (madt->cpus_dropped || madt->entries_dropped)
        log_warn("acpi: MADT lists more than we keep: %zu CPUs and %zu other entries ignored",
                 madt->cpus_dropped, madt->entries_dropped);
}

static void report_fadt(const struct acpi_platform *acpi)
{
    const struct acpi_fadt *fadt = &acpi->fadt;
    log_info("acpi: FADT rev %u: PM timer %s %lx (%u bits), PM1a_CNT %lx, PM1b_CNT %lx, "
             "reset %s %lx=%x, DSDT %lx, SCI %u", fadt->revision,
             fadt->pm_timer.space_id == ACPI_SPACE_IO ? "port" : "mmio", fadt->pm_timer.address,
             fadt->pm_timer_32bit ? 32u : 24u, fadt->pm1a_control.address,
             fadt->pm1b_control.address, fadt->has_reset_register ? "register" : "absent",
             fadt->reset_register.address, fadt->reset_value, fadt->dsdt_address,
             fadt->sci_interrupt);
    if (acpi->dsdt_status != ACPI_OK)
        log_warn("acpi: DSDT at %lx: %s", fadt->dsdt_address,
                 acpi_status_name(acpi->dsdt_status));
    else if (acpi->s5_status == ACPI_OK)
        log_info("acpi: \\_S5: SLP_TYPa %u, SLP_TYPb %u", acpi->s5.type_a, acpi->s5.type_b);
    else
        log_warn("acpi: no usable \\_S5 in the DSDT (%s): no ACPI power-off",
                 acpi_status_name(acpi->s5_status));
}

static bool acpi_load(void)
{
    struct acpi_platform *acpi = &acpi_platform;
    const void *copy = boot_info.has_rsdp ? boot_info.rsdp : NULL;
    enum acpi_status st = acpi_discover(copy, boot_info.rsdp_length,
                                        ebda_from_memory_map(&boot_info), acpi_phys, NULL, acpi);
    if (st != ACPI_OK) {
        log_warn("acpi: no usable tables (%s%s): one CPU, no IOAPIC, no power-off",
                 copy ? "the loader's RSDP: " : "RSDP search: ", acpi_status_name(st));
        return false;
    }
    if (copy)
        log_info("acpi: RSDP rev %u from the loader (OEM \"%s\"), %s at %lx, %zu tables",
                 acpi->rsdp_revision, acpi->oem_id, acpi->root_is_xsdt ? "XSDT" : "RSDT",
                 acpi->root_address, acpi->table_count);
    else
        log_info("acpi: RSDP rev %u at %lx (OEM \"%s\"), %s at %lx, %zu tables",
                 acpi->rsdp_revision, acpi->rsdp_address, acpi->oem_id,
                 acpi->root_is_xsdt ? "XSDT" : "RSDT", acpi->root_address, acpi->table_count);
    for (size_t i = 0; i < acpi->table_count; i++) {
        const struct acpi_table_ref *t = &acpi->tables[i];
        if (t->status == ACPI_OK)
            log_debug("acpi: %s at %lx, %u bytes", t->signature, t->address, t->length);
        else
            log_warn("acpi: table at %lx (\"%s\") ignored: %s", t->address, t->signature,
                     acpi_status_name(t->status));
    }
    if (acpi->madt_status == ACPI_OK)
        report_madt(acpi);
    else
        log_warn("acpi: MADT: %s; running on this CPU only",
                 acpi_status_name(acpi->madt_status));
    if (acpi->fadt_status == ACPI_OK)
        report_fadt(acpi);
    else
        log_warn("acpi: FADT: %s; no PM timer, no power-off",
                 acpi_status_name(acpi->fadt_status));
    if (cmdline_flag(boot_info.cmdline, "acpi.dump"))
        dump_tables(acpi);
    return true;
}

void platform_init(void)
{
    bool have_acpi = acpi_load();
    bool have_madt = have_acpi && acpi_platform.madt_status == ACPI_OK;
    bool have_fadt = have_acpi && acpi_platform.fadt_status == ACPI_OK;
    const struct acpi_madt *madt = &acpi_platform.madt;

    tsc_calibrate(have_fadt ? &acpi_platform.fadt : NULL);

    uint32_t max_apic_id = 0;
    for (size_t i = 0; have_madt && i < madt->cpu_count; i++)
        if ((madt->cpus[i].enabled || madt->cpus[i].online_capable) &&
            madt->cpus[i].apic_id > max_apic_id)
            max_apic_id = madt->cpus[i].apic_id;
    lapic_init(have_madt ? madt->lapic_address : 0, max_apic_id);
    if (have_madt)
        ioapic_init(madt);
    lapic_timer_calibrate();
    lapic_timer_self_test();
    smp_start(madt); /* without a MADT it lists no CPU: only the BSP is marked online */
}
