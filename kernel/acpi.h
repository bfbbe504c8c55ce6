/*
 * ACPI static tables: finding the RSDP, walking the XSDT/RSDT, and reading what the
 * hypervisor needs from the MADT (processors, IOAPICs, interrupt overrides, NMIs), the FADT
 * (PM timer, PM1 control blocks, reset register, DSDT) and the DSDT's \_S5 package.
 *
 * Everything here is pure parsing over bytes the caller hands in, or over physical memory
 * reached through an `acpi_phys_fn` accessor, so the same code runs on the host over tables
 * captured from QEMU (tests/unit/test_acpi.c). Firmware tables are input like any other:
 * every length is checked against what was mapped, every checksum verified, and a table
 * that fails is reported and ignored rather than trusted. kernel/platform.c runs the
 * discovery on the machine and logs what it found.
 *
 * Layouts: ACPI Specification 6.5 (section numbers below).
 */
#ifndef HVFW_KERNEL_ACPI_H
#define HVFW_KERNEL_ACPI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ACPI_HEADER_LENGTH 36u        /* 5.2.6 System Description Table Header */
#define ACPI_TABLE_MAX_LENGTH (1u << 20) /* larger than any sane static table: refused */
#define ACPI_RSDP_V1_LENGTH 20u       /* 5.2.5.3: revision 0 RSDP */
#define ACPI_RSDP_V2_LENGTH 36u       /* revision 2+: adds Length, XsdtAddress, ext. checksum */

#define ACPI_MAX_TABLES 64
#define ACPI_MAX_CPUS 256
#define ACPI_MAX_IOAPICS 16
#define ACPI_MAX_OVERRIDES 32
#define ACPI_MAX_NMIS 32

enum acpi_status {
    ACPI_OK = 0,
    ACPI_NOT_FOUND,      /* no RSDP / no such table / no \_S5 package */
    ACPI_UNREADABLE,     /* the accessor refused the physical range */
    ACPI_BAD_SIGNATURE,
    ACPI_BAD_CHECKSUM,
    ACPI_BAD_LENGTH,     /* shorter than its header or fixed part, or absurdly long */
    ACPI_TRUNCATED,      /* the stated length runs past the bytes available */
    ACPI_MALFORMED,      /* a sub-structure that does not fit or makes no sense */
};

const char *acpi_status_name(enum acpi_status status);

/* 5.2.3.2 Generic Address Structure. */
enum acpi_address_space {
    ACPI_SPACE_MEMORY = 0,
    ACPI_SPACE_IO = 1,
    ACPI_SPACE_PCI_CONFIG = 2,
};

struct acpi_gas {
    uint8_t space_id;
    uint8_t bit_width;
    uint8_t bit_offset;
    uint8_t access_size;
    uint64_t address; /* 0 = not present */
};

/* --- single tables, from bytes ------------------------------------------------------- */

/* Checks an RSDP (5.2.5.3): signature, the 20-byte checksum and, for revision >= 2, its
 * length and extended checksum. Gives the root table to use: the XSDT when there is one,
 * else the RSDT. */
enum acpi_status acpi_rsdp_parse(const void *bytes, size_t length, uint8_t *revision,
                                 uint64_t *root_address, bool *root_is_xsdt);

/* Checks a table header (5.2.6): the signature (NULL = any), 36 <= Length <= 1 MiB,
 * Length <= available, and the checksum over Length bytes. */
enum acpi_status acpi_table_check(const void *bytes, size_t available, const char *signature);

/* Reads the entry addresses of a checked RSDT (32-bit entries) or XSDT (64-bit entries).
 * At most `max` are stored; *count is the number stored. */
enum acpi_status acpi_root_parse(const void *bytes, size_t length, bool is_xsdt,
                                 uint64_t *entries, size_t max, size_t *count);

/* 5.2.12 MADT. */
#define ACPI_MADT_PCAT_COMPAT (1u << 0)   /* dual 8259s present: mask them */
#define ACPI_ISO_POLARITY_MASK 0x3u       /* 5.2.12.5 MPS INTI flags */
#define ACPI_ISO_POLARITY_BUS 0x0u
#define ACPI_ISO_POLARITY_HIGH 0x1u
#define ACPI_ISO_POLARITY_LOW 0x3u
#define ACPI_ISO_TRIGGER_MASK 0xCu
#define ACPI_ISO_TRIGGER_BUS 0x0u
#define ACPI_ISO_TRIGGER_EDGE 0x4u
#define ACPI_ISO_TRIGGER_LEVEL 0xCu
#define ACPI_NMI_ALL_PROCESSORS 0xFFFFFFFFu

struct acpi_cpu {
    uint32_t apic_id;
    uint32_t processor_uid;
    bool enabled;         /* usable now */
    bool online_capable;  /* not enabled, but the OS may bring it online (MADT rev >= 5) */
    bool from_x2apic_entry;
};

struct acpi_ioapic {
    uint8_t id;
    uint32_t address;
    uint32_t gsi_base;
};

struct acpi_override {     /* 5.2.12.5 Interrupt Source Override */
    uint8_t bus;           /* 0 = ISA */
    uint8_t source;        /* bus-relative IRQ */
    uint32_t gsi;
    uint16_t flags;        /* ACPI_ISO_POLARITY_* | ACPI_ISO_TRIGGER_* */
};

struct acpi_nmi {          /* 5.2.12.7 / 5.2.12.13 Local (x2)APIC NMI */
    uint32_t processor_uid; /* ACPI_NMI_ALL_PROCESSORS = all */
    uint16_t flags;
    uint8_t lint;          /* LINT0 or LINT1 */
};

struct acpi_madt {
    uint64_t lapic_address;      /* the 32-bit field, or the type-5 64-bit override */
    uint32_t flags;
    struct acpi_cpu cpus[ACPI_MAX_CPUS];
    size_t cpu_count;
    size_t cpus_dropped;         /* entries beyond ACPI_MAX_CPUS */
    struct acpi_ioapic ioapics[ACPI_MAX_IOAPICS];
    size_t ioapic_count;
    struct acpi_override overrides[ACPI_MAX_OVERRIDES];
    size_t override_count;
    struct acpi_nmi nmis[ACPI_MAX_NMIS];
    size_t nmi_count;
    size_t entries_dropped;      /* IOAPIC/override/NMI entries beyond our limits */
};

/* Parses a checked MADT. A zero-length or overrunning entry rejects the whole table
 * (ACPI_MALFORMED): after one bad length nothing that follows can be located. */
enum acpi_status acpi_madt_parse(const void *bytes, size_t length, struct acpi_madt *out);

/* Number of CPUs the MADT lists as enabled. */
size_t acpi_madt_enabled_cpus(const struct acpi_madt *madt);

/* 5.2.9 FADT. */
#define ACPI_FADT_TMR_VAL_EXT (1u << 8)        /* PM timer is 32 bits, else 24 */
#define ACPI_FADT_RESET_REG_SUP (1u << 10)
#define ACPI_FADT_HW_REDUCED_ACPI (1u << 20)
#define ACPI_BOOT_ARCH_8042 (1u << 1)          /* IA-PC boot architecture flags */

struct acpi_fadt {
    uint8_t revision;
    uint64_t dsdt_address;          /* X_DSDT when present, else DSDT */
    uint16_t sci_interrupt;
    uint32_t smi_command;           /* port; 0 = ACPI mode cannot be switched (always on) */
    uint8_t acpi_enable;
    uint8_t acpi_disable;
    struct acpi_gas pm1a_control;
    struct acpi_gas pm1b_control;
    struct acpi_gas pm_timer;
    bool pm_timer_32bit;
    uint32_t flags;
    uint16_t boot_arch;             /* IAPC_BOOT_ARCH */
    bool has_reset_register;        /* RESET_REG_SUP and a usable RESET_REG */
    struct acpi_gas reset_register;
    uint8_t reset_value;
};

/* Parses a checked FADT (length >= 116, the revision 1 size). The X_ (64-bit GAS) fields
 * are preferred where the table is long enough to hold them and they are non-zero. */
enum acpi_status acpi_fadt_parse(const void *bytes, size_t length, struct acpi_fadt *out);

/* 7.4.2 \_S5 (soft off): the SLP_TYPa/b values to write to PM1a/b_CNT.SLP_TYP. */
struct acpi_sleep_type {
    uint8_t type_a;
    uint8_t type_b;
};

/* Finds `Name(_S5_, Package(){...})` in a checked DSDT's AML by a bounded byte scan (NameOp,
 * optional root prefix, "_S5_", PackageOp, PkgLength, NumElements, then two integers, each
 * Zero/One/BytePrefix/WordPrefix/DWordPrefix/QWordPrefix). Every read is bounds-checked. */
enum acpi_status acpi_dsdt_find_s5(const void *bytes, size_t length, struct acpi_sleep_type *out);

/* --- discovery over physical memory ------------------------------------------------ */

/* Maps [pa, pa+len) for reading; NULL if that range cannot be read. */
typedef const void *(*acpi_phys_fn)(uint64_t pa, size_t len, void *ctx);

struct acpi_table_ref {
    char signature[5];
    uint64_t address;
    uint32_t length;
    enum acpi_status status;  /* of its header/checksum check */
};

struct acpi_platform {
    uint64_t rsdp_address;          /* 0 when the loader's copy was used */
    uint8_t rsdp_revision;
    char oem_id[7];
    bool root_is_xsdt;
    uint64_t root_address;
    struct acpi_table_ref tables[ACPI_MAX_TABLES];
    size_t table_count;

    enum acpi_status madt_status;   /* ACPI_OK: madt is valid */
    struct acpi_madt madt;
    enum acpi_status fadt_status;
    struct acpi_fadt fadt;
    enum acpi_status dsdt_status;
    enum acpi_status s5_status;
    struct acpi_sleep_type s5;
};

/* Searches for the RSDP (5.2.5.1): the first KiB of the EBDA, then 0xE0000-0xFFFFF on
 * 16-byte boundaries. The EBDA's segment is read from the BIOS data area word at 0x40E; when
 * the accessor cannot read that (page 0 is left unmapped to catch NULL pointers),
 * `ebda_hint` (e.g. from the memory map; 0 = none) is used instead. Returns the RSDP's
 * physical address or 0. */
uint64_t acpi_rsdp_search(acpi_phys_fn phys, void *ctx, uint64_t ebda_hint);

/* Full discovery. rsdp_copy/rsdp_copy_length: the loader's copy (multiboot2), or NULL to
 * search memory (with ebda_hint as for acpi_rsdp_search). Returns ACPI_OK when a root table
 * was read; per-table outcomes are in out->*_status. */
enum acpi_status acpi_discover(const void *rsdp_copy, size_t rsdp_copy_length,
                               uint64_t ebda_hint, acpi_phys_fn phys, void *ctx,
                               struct acpi_platform *out);

/* The platform as discovered at boot (filled by kernel/platform.c). */
extern struct acpi_platform acpi_platform;

#endif
