#include "kernel/acpi.h"

#include <string.h>

struct acpi_platform acpi_platform;

/* Little-endian readers over byte arrays: firmware tables are packed and unaligned. */
static uint8_t read8(const uint8_t *p, size_t offset)
{
    return p[offset];
}

static uint16_t read16(const uint8_t *p, size_t offset)
{
    uint16_t v;
    memcpy(&v, p + offset, sizeof(v));
    return v;
}

static uint32_t read32(const uint8_t *p, size_t offset)
{
    uint32_t v;
    memcpy(&v, p + offset, sizeof(v));
    return v;
}

static uint64_t read64(const uint8_t *p, size_t offset)
{
    uint64_t v;
    memcpy(&v, p + offset, sizeof(v));
    return v;
}

static uint8_t checksum(const uint8_t *p, size_t length)
{
    uint8_t sum = 0;
    for (size_t i = 0; i < length; i++)
        sum = (uint8_t)(sum + p[i]);
    return sum;
}

static struct acpi_gas read_gas(const uint8_t *p, size_t offset)
{
    return (struct acpi_gas){
        .space_id = read8(p, offset),
        .bit_width = read8(p, offset + 1),
        .bit_offset = read8(p, offset + 2),
        .access_size = read8(p, offset + 3),
        .address = read64(p, offset + 4),
    };
}

const char *acpi_status_name(enum acpi_status status)
{
    switch (status) {
    case ACPI_OK:
        return "ok";
    case ACPI_NOT_FOUND:
        return "not found";
    case ACPI_UNREADABLE:
        return "unreadable";
    case ACPI_BAD_SIGNATURE:
        return "bad signature";
    case ACPI_BAD_CHECKSUM:
        return "bad checksum";
    case ACPI_BAD_LENGTH:
        return "bad length";
    case ACPI_TRUNCATED:
        return "truncated";
    case ACPI_MALFORMED:
        return "malformed";
    }
    return "unknown status";
}

/* --- RSDP, headers, root tables --------------------------------------------------------- */

/* 5.2.5.3 RSDP: "RSD PTR " @0, checksum @8 (first 20 bytes), OEMID @9, revision @15,
 * RsdtAddress @16; revision >= 2: Length @20, XsdtAddress @24, extended checksum @32. */
enum acpi_status acpi_rsdp_parse(const void *bytes, size_t length, uint8_t *revision,
                                 uint64_t *root_address, bool *root_is_xsdt)
{
    const uint8_t *p = bytes;
    if (length < ACPI_RSDP_V1_LENGTH)
        return ACPI_TRUNCATED;
    if (memcmp(p, "RSD PTR ", 8) != 0)
        return ACPI_BAD_SIGNATURE;
    if (checksum(p, ACPI_RSDP_V1_LENGTH) != 0)
        return ACPI_BAD_CHECKSUM;
    *revision = read8(p, 15);
    uint64_t xsdt = 0;
    if (*revision >= 2) {
        if (length < ACPI_RSDP_V2_LENGTH)
            return ACPI_TRUNCATED;
        uint32_t stated = read32(p, 20);
        if (stated < ACPI_RSDP_V2_LENGTH || stated > length)
            return stated < ACPI_RSDP_V2_LENGTH ? ACPI_BAD_LENGTH : ACPI_TRUNCATED;
        if (checksum(p, stated) != 0)
            return ACPI_BAD_CHECKSUM;
        xsdt = read64(p, 24);
    }
    /* Prefer the XSDT (5.2.5.3: "An ACPI-compatible OS must use the XSDT if present"). */
    if (xsdt != 0) {
        *root_address = xsdt;
        *root_is_xsdt = true;
    } else {
        *root_address = read32(p, 16);
        *root_is_xsdt = false;
    }
    return *root_address != 0 ? ACPI_OK : ACPI_NOT_FOUND;
}

enum acpi_status acpi_table_check(const void *bytes, size_t available, const char *signature)
{
    const uint8_t *p = bytes;
    if (available < ACPI_HEADER_LENGTH)
        return ACPI_TRUNCATED;
    if (signature && memcmp(p, signature, 4) != 0)
        return ACPI_BAD_SIGNATURE;
    uint32_t length = read32(p, 4);
    if (length < ACPI_HEADER_LENGTH || length > ACPI_TABLE_MAX_LENGTH)
        return ACPI_BAD_LENGTH;
    if (length > available)
        return ACPI_TRUNCATED;
    if (checksum(p, length) != 0)
        return ACPI_BAD_CHECKSUM;
    return ACPI_OK;
}

/* 5.2.7 RSDT (4-byte entries), 5.2.8 XSDT (8-byte entries), after the 36-byte header. */
enum acpi_status acpi_root_parse(const void *bytes, size_t length, bool is_xsdt,
                                 uint64_t *entries, size_t max, size_t *count)
{
    const uint8_t *p = bytes;
    *count = 0;
    enum acpi_status st = acpi_table_check(bytes, length, is_xsdt ? "XSDT" : "RSDT");
    if (st != ACPI_OK)
        return st;
    size_t stated = read32(p, 4);
    size_t entry_size = is_xsdt ? 8 : 4;
    if ((stated - ACPI_HEADER_LENGTH) % entry_size != 0)
        return ACPI_MALFORMED;
    for (size_t off = ACPI_HEADER_LENGTH; off + entry_size <= stated && *count < max;
         off += entry_size)
        entries[(*count)++] = is_xsdt ? read64(p, off) : read32(p, off);
    return ACPI_OK;
}

/* --- MADT ------------------------------------------------------------------------------ */

enum madt_entry_type {
    MADT_LOCAL_APIC = 0,          /* 5.2.12.2, 8 bytes */
    MADT_IO_APIC = 1,             /* 5.2.12.3, 12 bytes */
    MADT_INTERRUPT_OVERRIDE = 2,  /* 5.2.12.5, 10 bytes */
    MADT_NMI_SOURCE = 3,          /* 5.2.12.6, 8 bytes */
    MADT_LOCAL_APIC_NMI = 4,      /* 5.2.12.7, 6 bytes */
    MADT_LOCAL_APIC_OVERRIDE = 5, /* 5.2.12.8, 12 bytes */
    MADT_LOCAL_X2APIC = 9,        /* 5.2.12.12, 16 bytes */
    MADT_LOCAL_X2APIC_NMI = 10,   /* 5.2.12.13, 12 bytes */
};

#define MADT_CPU_ENABLED (1u << 0)
#define MADT_CPU_ONLINE_CAPABLE (1u << 1)

static uint8_t madt_entry_min_length(uint8_t type)
{
    switch (type) {
    case MADT_LOCAL_APIC:
    case MADT_NMI_SOURCE:
        return 8;
    case MADT_IO_APIC:
    case MADT_LOCAL_APIC_OVERRIDE:
    case MADT_LOCAL_X2APIC_NMI:
        return 12;
    case MADT_INTERRUPT_OVERRIDE:
        return 10;
    case MADT_LOCAL_APIC_NMI:
        return 6;
    case MADT_LOCAL_X2APIC:
        return 16;
    default:
        return 2;
    }
}

static void madt_add_cpu(struct acpi_madt *out, uint32_t apic_id, uint32_t uid, uint32_t flags,
                         bool x2apic)
{
    /* A CPU may be listed twice (an x2APIC entry beside its xAPIC entry); keep one. */
    for (size_t i = 0; i < out->cpu_count; i++) {
        if (out->cpus[i].apic_id == apic_id) {
            out->cpus[i].enabled |= (flags & MADT_CPU_ENABLED) != 0;
            return;
        }
    }
    if (out->cpu_count == ACPI_MAX_CPUS) {
        out->cpus_dropped++;
        return;
    }
    bool enabled = (flags & MADT_CPU_ENABLED) != 0;
    out->cpus[out->cpu_count++] = (struct acpi_cpu){
        .apic_id = apic_id,
        .processor_uid = uid,
        .enabled = enabled,
        .online_capable = !enabled && (flags & MADT_CPU_ONLINE_CAPABLE) != 0,
        .from_x2apic_entry = x2apic,
    };
}

static void madt_add_nmi(struct acpi_madt *out, uint32_t uid, uint16_t flags, uint8_t lint)
{
    if (out->nmi_count == ACPI_MAX_NMIS) {
        out->entries_dropped++;
        return;
    }
    out->nmis[out->nmi_count++] = (struct acpi_nmi){uid, flags, lint};
}

static void madt_entry(const uint8_t *e, uint8_t type, struct acpi_madt *out)
{
    switch (type) {
    case MADT_LOCAL_APIC:
        madt_add_cpu(out, read8(e, 3), read8(e, 2), read32(e, 4), false);
        break;
    case MADT_LOCAL_X2APIC:
        madt_add_cpu(out, read32(e, 4), read32(e, 12), read32(e, 8), true);
        break;
    case MADT_IO_APIC:
        if (out->ioapic_count == ACPI_MAX_IOAPICS) {
            out->entries_dropped++;
            break;
        }
        out->ioapics[out->ioapic_count++] =
            (struct acpi_ioapic){read8(e, 2), read32(e, 4), read32(e, 8)};
        break;
    case MADT_INTERRUPT_OVERRIDE:
        if (out->override_count == ACPI_MAX_OVERRIDES) {
            out->entries_dropped++;
            break;
        }
        out->overrides[out->override_count++] =
            (struct acpi_override){read8(e, 2), read8(e, 3), read32(e, 4), read16(e, 8)};
        break;
    case MADT_LOCAL_APIC_NMI: {
        uint8_t uid = read8(e, 2);
        madt_add_nmi(out, uid == 0xFF ? ACPI_NMI_ALL_PROCESSORS : uid, read16(e, 3), read8(e, 5));
        break;
    }
    case MADT_LOCAL_X2APIC_NMI:
        madt_add_nmi(out, read32(e, 4), read16(e, 2), read8(e, 8));
        break;
    case MADT_LOCAL_APIC_OVERRIDE:
        out->lapic_address = read64(e, 4);
        break;
    default:
        break; /* NMI sources (no use yet), GIC/RINTC/... entries of other architectures */
    }
}

/* 5.2.12: Local Interrupt Controller Address @36, Flags @40, entries from @44. */
enum acpi_status acpi_madt_parse(const void *bytes, size_t length, struct acpi_madt *out)
{
    const uint8_t *p = bytes;
    memset(out, 0, sizeof(*out));
    enum acpi_status st = acpi_table_check(bytes, length, "APIC");
    if (st != ACPI_OK)
        return st;
    size_t stated = read32(p, 4);
    if (stated < 44)
        return ACPI_BAD_LENGTH;
    out->lapic_address = read32(p, 36);
    out->flags = read32(p, 40);
    size_t off = 44;
    while (off < stated) {
        if (stated - off < 2)
            return ACPI_MALFORMED;
        uint8_t type = read8(p, off);
        uint8_t entry_length = read8(p, off + 1);
        if (entry_length < madt_entry_min_length(type) || entry_length > stated - off)
            return ACPI_MALFORMED;
        madt_entry(p + off, type, out);
        off += entry_length;
    }
    if (out->lapic_address == 0)
        return ACPI_MALFORMED;
    return ACPI_OK;
}

size_t acpi_madt_enabled_cpus(const struct acpi_madt *madt)
{
    size_t n = 0;
    for (size_t i = 0; i < madt->cpu_count; i++)
        n += madt->cpus[i].enabled;
    return n;
}

/* --- FADT ------------------------------------------------------------------------------ */

/* 5.2.9 Table 5.9, byte offsets of the fields we use. */
enum fadt_offset {
    FADT_DSDT = 40,
    FADT_SCI_INT = 46,
    FADT_SMI_CMD = 48,
    FADT_ACPI_ENABLE = 52,
    FADT_ACPI_DISABLE = 53,
    FADT_PM1A_CNT_BLK = 64,
    FADT_PM1B_CNT_BLK = 68,
    FADT_PM_TMR_BLK = 76,
    FADT_PM1_CNT_LEN = 89,
    FADT_PM_TMR_LEN = 91,
    FADT_IAPC_BOOT_ARCH = 109,
    FADT_FLAGS = 112,
    FADT_REV1_LENGTH = 116,
    FADT_RESET_REG = 116,
    FADT_RESET_VALUE = 128,
    FADT_X_DSDT = 140,
    FADT_X_PM1A_CNT_BLK = 172,
    FADT_X_PM1B_CNT_BLK = 184,
    FADT_X_PM_TMR_BLK = 208,
};

#define GAS_LENGTH 12u

/* A legacy port block as a GAS (system I/O, `bytes` wide); absent when the port is 0. */
static struct acpi_gas io_block(uint32_t port, uint8_t bytes)
{
    if (port == 0)
        return (struct acpi_gas){0};
    return (struct acpi_gas){ACPI_SPACE_IO, (uint8_t)(bytes * 8), 0, 0, port};
}

/* The X_ field if the table holds it and it is set, else the legacy block. */
static struct acpi_gas fadt_block(const uint8_t *p, size_t length, size_t x_offset,
                                  size_t legacy_offset, uint8_t legacy_bytes)
{
    if (x_offset + GAS_LENGTH <= length) {
        struct acpi_gas x = read_gas(p, x_offset);
        if (x.address != 0)
            return x;
    }
    return io_block(read32(p, legacy_offset), legacy_bytes);
}

enum acpi_status acpi_fadt_parse(const void *bytes, size_t length, struct acpi_fadt *out)
{
    const uint8_t *p = bytes;
    memset(out, 0, sizeof(*out));
    enum acpi_status st = acpi_table_check(bytes, length, "FACP");
    if (st != ACPI_OK)
        return st;
    size_t stated = read32(p, 4);
    if (stated < FADT_REV1_LENGTH)
        return ACPI_BAD_LENGTH;
    out->revision = read8(p, 8);
    out->sci_interrupt = read16(p, FADT_SCI_INT);
    out->smi_command = read32(p, FADT_SMI_CMD);
    out->acpi_enable = read8(p, FADT_ACPI_ENABLE);
    out->acpi_disable = read8(p, FADT_ACPI_DISABLE);
    out->flags = read32(p, FADT_FLAGS);
    out->boot_arch = read16(p, FADT_IAPC_BOOT_ARCH);

    out->dsdt_address = read32(p, FADT_DSDT);
    if (FADT_X_DSDT + 8 <= stated && read64(p, FADT_X_DSDT) != 0)
        out->dsdt_address = read64(p, FADT_X_DSDT);

    uint8_t pm1_cnt_len = read8(p, FADT_PM1_CNT_LEN);
    out->pm1a_control = fadt_block(p, stated, FADT_X_PM1A_CNT_BLK, FADT_PM1A_CNT_BLK,
                                   pm1_cnt_len ? pm1_cnt_len : 2);
    out->pm1b_control = fadt_block(p, stated, FADT_X_PM1B_CNT_BLK, FADT_PM1B_CNT_BLK,
                                   pm1_cnt_len ? pm1_cnt_len : 2);
    /* PM_TMR_LEN is 4 when the timer exists and 0 when it does not (5.2.9). */
    if (read8(p, FADT_PM_TMR_LEN) >= 4 || FADT_X_PM_TMR_BLK + GAS_LENGTH <= stated)
        out->pm_timer = fadt_block(p, stated, FADT_X_PM_TMR_BLK, FADT_PM_TMR_BLK, 4);
    out->pm_timer_32bit = (out->flags & ACPI_FADT_TMR_VAL_EXT) != 0;

    /* RESET_REG only exists from revision 2 (length 129+); honour it only when the flag says
     * it is supported and it is in a space we can write (5.2.9, 4.8.4.6). */
    if (stated >= FADT_RESET_VALUE + 1 && (out->flags & ACPI_FADT_RESET_REG_SUP)) {
        struct acpi_gas reset = read_gas(p, FADT_RESET_REG);
        if (reset.address != 0 && reset.space_id <= ACPI_SPACE_PCI_CONFIG) {
            out->has_reset_register = true;
            out->reset_register = reset;
            out->reset_value = read8(p, FADT_RESET_VALUE);
        }
    }
    return ACPI_OK;
}

/* --- \_S5 in the DSDT ------------------------------------------------------------------ */

enum aml_opcode {
    AML_ZERO = 0x00,
    AML_ONE = 0x01,
    AML_NAME = 0x08,
    AML_BYTE_PREFIX = 0x0A,
    AML_WORD_PREFIX = 0x0B,
    AML_DWORD_PREFIX = 0x0C,
    AML_QWORD_PREFIX = 0x0E,
    AML_PACKAGE = 0x12,
    AML_ROOT_CHAR = 0x5C, /* '\' */
    AML_ONES = 0xFF,
};

/* ACPI 6.5 20.2.4 PkgLength: lead byte bits 7:6 = number of following bytes; with none,
 * bits 5:0 are the length, else bits 3:0 are its low nibble. Advances *pos. */
static bool aml_skip_pkg_length(const uint8_t *p, size_t end, size_t *pos)
{
    if (*pos >= end)
        return false;
    size_t follow = p[*pos] >> 6;
    if (end - *pos < 1 + follow)
        return false;
    *pos += 1 + follow;
    return true;
}

/* 20.2.3 ComputationalData integer: Zero, One, Ones, or a prefixed constant. */
static bool aml_read_integer(const uint8_t *p, size_t end, size_t *pos, uint64_t *value)
{
    if (*pos >= end)
        return false;
    uint8_t op = p[(*pos)++];
    size_t width;
    switch (op) {
    case AML_ZERO:
        *value = 0;
        return true;
    case AML_ONE:
        *value = 1;
        return true;
    case AML_ONES:
        *value = ~0ull;
        return true;
    case AML_BYTE_PREFIX:
        width = 1;
        break;
    case AML_WORD_PREFIX:
        width = 2;
        break;
    case AML_DWORD_PREFIX:
        width = 4;
        break;
    case AML_QWORD_PREFIX:
        width = 8;
        break;
    default:
        return false;
    }
    if (end - *pos < width)
        return false;
    *value = 0;
    for (size_t i = 0; i < width; i++)
        *value |= (uint64_t)p[*pos + i] << (8 * i);
    *pos += width;
    return true;
}

/* The package after "_S5_" at `name`: PackageOp PkgLength NumElements Integer Integer. */
static enum acpi_status s5_package(const uint8_t *p, size_t end, size_t pos,
                                   struct acpi_sleep_type *out)
{
    if (pos >= end || p[pos] != AML_PACKAGE)
        return ACPI_MALFORMED;
    pos++;
    if (!aml_skip_pkg_length(p, end, &pos) || pos >= end)
        return ACPI_MALFORMED;
    uint8_t elements = p[pos++];
    uint64_t a, b;
    if (elements == 0 || !aml_read_integer(p, end, &pos, &a))
        return ACPI_MALFORMED;
    if (elements >= 2) {
        if (!aml_read_integer(p, end, &pos, &b))
            return ACPI_MALFORMED;
    } else {
        /* Some firmware packs both values into one integer (as ACPICA accepts). */
        b = (a >> 8) & 0xFF;
        a &= 0xFF;
    }
    /* SLP_TYP is a 3-bit field of PM1x_CNT (4.8.3.2.1). */
    if (a > 7 || b > 7)
        return ACPI_MALFORMED;
    out->type_a = (uint8_t)a;
    out->type_b = (uint8_t)b;
    return ACPI_OK;
}

enum acpi_status acpi_dsdt_find_s5(const void *bytes, size_t length, struct acpi_sleep_type *out)
{
    const uint8_t *p = bytes;
    enum acpi_status st = acpi_table_check(bytes, length, "DSDT");
    if (st != ACPI_OK)
        return st;
    size_t end = read32(p, 4);
    enum acpi_status result = ACPI_NOT_FOUND;
    /* The name must be the object of a NameOp (optionally "\_S5_"); a bare "_S5_" elsewhere
     * (a string, a method body) is not the definition. */
    for (size_t i = ACPI_HEADER_LENGTH + 1; i + 4 <= end; i++) {
        if (memcmp(p + i, "_S5_", 4) != 0)
            continue;
        bool named = p[i - 1] == AML_NAME ||
                     (p[i - 1] == AML_ROOT_CHAR && i >= ACPI_HEADER_LENGTH + 2 &&
                      p[i - 2] == AML_NAME);
        if (!named)
            continue;
        result = s5_package(p, end, i + 4, out);
        if (result == ACPI_OK)
            return ACPI_OK;
    }
    return result;
}

/* --- discovery ------------------------------------------------------------------------- */

static bool rsdp_at(const uint8_t *p, size_t available)
{
    uint8_t revision;
    uint64_t root;
    bool xsdt;
    return acpi_rsdp_parse(p, available, &revision, &root, &xsdt) == ACPI_OK;
}

/* Scans [start, start+length) on 16-byte boundaries (5.2.5.1). */
static uint64_t rsdp_scan(uint64_t start, size_t length, acpi_phys_fn phys, void *ctx)
{
    const uint8_t *area = phys(start, length, ctx);
    if (!area)
        return 0;
    for (size_t off = 0; off + ACPI_RSDP_V1_LENGTH <= length; off += 16)
        if (rsdp_at(area + off, length - off))
            return start + off;
    return 0;
}

uint64_t acpi_rsdp_search(acpi_phys_fn phys, void *ctx, uint64_t ebda_hint)
{
    /* The BIOS data area word at 0x40E holds the EBDA's real-mode segment. Only a value
     * that lands in conventional memory below the video hole is believable. */
    const uint8_t *bda = phys(0x40E, 2, ctx);
    uint64_t ebda = bda ? (uint64_t)read16(bda, 0) << 4 : ebda_hint;
    if (ebda >= 0x80000 && ebda + 1024 <= 0xA0000) {
        uint64_t found = rsdp_scan(ebda, 1024, phys, ctx);
        if (found)
            return found;
    }
    return rsdp_scan(0xE0000, 0x20000, phys, ctx);
}

/* Maps a whole table: first its header for the length, then all of it, and checks it. */
static enum acpi_status map_table(uint64_t pa, const char *signature, acpi_phys_fn phys,
                                  void *ctx, const uint8_t **table, uint32_t *length)
{
    const uint8_t *header = phys(pa, ACPI_HEADER_LENGTH, ctx);
    if (!header)
        return ACPI_UNREADABLE;
    if (signature && memcmp(header, signature, 4) != 0)
        return ACPI_BAD_SIGNATURE;
    uint32_t stated = read32(header, 4);
    if (stated < ACPI_HEADER_LENGTH || stated > ACPI_TABLE_MAX_LENGTH)
        return ACPI_BAD_LENGTH;
    const uint8_t *all = phys(pa, stated, ctx);
    if (!all)
        return ACPI_UNREADABLE;
    enum acpi_status st = acpi_table_check(all, stated, signature);
    if (st != ACPI_OK)
        return st;
    *table = all;
    *length = stated;
    return ACPI_OK;
}

/* The first good table with that signature, else the first bad one (to report why). */
static const struct acpi_table_ref *find_ref(const struct acpi_platform *out, const char *sig)
{
    const struct acpi_table_ref *bad = NULL;
    for (size_t i = 0; i < out->table_count; i++) {
        if (memcmp(out->tables[i].signature, sig, 4) != 0)
            continue;
        if (out->tables[i].status == ACPI_OK)
            return &out->tables[i];
        if (!bad)
            bad = &out->tables[i];
    }
    return bad;
}

static enum acpi_status read_root(const void *rsdp, size_t rsdp_length, acpi_phys_fn phys,
                                  void *ctx, struct acpi_platform *out)
{
    enum acpi_status st = acpi_rsdp_parse(rsdp, rsdp_length, &out->rsdp_revision,
                                          &out->root_address, &out->root_is_xsdt);
    if (st != ACPI_OK)
        return st;
    memcpy(out->oem_id, (const uint8_t *)rsdp + 9, 6);
    out->oem_id[6] = '\0';

    const uint8_t *root;
    uint32_t root_length;
    st = map_table(out->root_address, out->root_is_xsdt ? "XSDT" : "RSDT", phys, ctx, &root,
                   &root_length);
    if (st != ACPI_OK)
        return st;
    uint64_t entries[ACPI_MAX_TABLES];
    size_t count;
    st = acpi_root_parse(root, root_length, out->root_is_xsdt, entries, ACPI_MAX_TABLES, &count);
    if (st != ACPI_OK)
        return st;
    for (size_t i = 0; i < count; i++) {
        struct acpi_table_ref *ref = &out->tables[out->table_count++];
        ref->address = entries[i];
        const uint8_t *table;
        uint32_t length = 0;
        ref->status = map_table(entries[i], NULL, phys, ctx, &table, &length);
        const uint8_t *header = phys(entries[i], 4, ctx);
        if (header)
            memcpy(ref->signature, header, 4);
        ref->length = length;
    }
    return ACPI_OK;
}

static void read_madt(acpi_phys_fn phys, void *ctx, struct acpi_platform *out)
{
    const struct acpi_table_ref *ref = find_ref(out, "APIC");
    const uint8_t *table;
    uint32_t length;
    out->madt_status = ref ? map_table(ref->address, "APIC", phys, ctx, &table, &length)
                           : ACPI_NOT_FOUND;
    if (out->madt_status == ACPI_OK)
        out->madt_status = acpi_madt_parse(table, length, &out->madt);
    if (out->madt_status != ACPI_OK)
        memset(&out->madt, 0, sizeof(out->madt)); /* nothing half-parsed is kept */
}

static void read_fadt_and_dsdt(acpi_phys_fn phys, void *ctx, struct acpi_platform *out)
{
    const struct acpi_table_ref *ref = find_ref(out, "FACP");
    const uint8_t *table;
    uint32_t length;
    out->fadt_status = ref ? map_table(ref->address, "FACP", phys, ctx, &table, &length)
                           : ACPI_NOT_FOUND;
    if (out->fadt_status == ACPI_OK)
        out->fadt_status = acpi_fadt_parse(table, length, &out->fadt);
    if (out->fadt_status != ACPI_OK)
        memset(&out->fadt, 0, sizeof(out->fadt));
    out->dsdt_status = ACPI_NOT_FOUND;
    out->s5_status = ACPI_NOT_FOUND;
    if (out->fadt_status != ACPI_OK || out->fadt.dsdt_address == 0)
        return;
    out->dsdt_status = map_table(out->fadt.dsdt_address, "DSDT", phys, ctx, &table, &length);
    if (out->dsdt_status == ACPI_OK)
        out->s5_status = acpi_dsdt_find_s5(table, length, &out->s5);
}

enum acpi_status acpi_discover(const void *rsdp_copy, size_t rsdp_copy_length,
                               uint64_t ebda_hint, acpi_phys_fn phys, void *ctx,
                               struct acpi_platform *out)
{
    memset(out, 0, sizeof(*out));
    out->madt_status = out->fadt_status = out->dsdt_status = out->s5_status = ACPI_NOT_FOUND;
    const void *rsdp = rsdp_copy;
    size_t rsdp_length = rsdp_copy_length;
    if (!rsdp) {
        out->rsdp_address = acpi_rsdp_search(phys, ctx, ebda_hint);
        if (!out->rsdp_address)
            return ACPI_NOT_FOUND;
        /* A v2 RSDP is 36 bytes; a v1 RSDP near the end of the BIOS area may have only 20. */
        rsdp_length = ACPI_RSDP_V2_LENGTH;
        rsdp = phys(out->rsdp_address, rsdp_length, ctx);
        if (!rsdp) {
            rsdp_length = ACPI_RSDP_V1_LENGTH;
            rsdp = phys(out->rsdp_address, rsdp_length, ctx);
        }
        if (!rsdp)
            return ACPI_UNREADABLE;
    }
    enum acpi_status st = read_root(rsdp, rsdp_length, phys, ctx, out);
    if (st != ACPI_OK)
        return st;
    read_madt(phys, ctx, out);
    read_fadt_and_dsdt(phys, ctx, out);
    return ACPI_OK;
}
