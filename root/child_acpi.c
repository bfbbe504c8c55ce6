#include "root/child_acpi.h"

#include <stdbool.h>
#include <string.h>

#include "root/worker.h"

/* The worker's power off and these tables must name the same port. */
_Static_assert(CHILD_ACPI_PM1A_CONTROL_PORT == WORKER_PM1A_CONTROL_PORT,
               "the FADT's PM1a control block is the port the worker emulates");

/* ---- little-endian writers ------------------------------------------------------------- */

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void put64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint8_t checksum_of(const uint8_t *p, size_t length)
{
    uint8_t sum = 0;
    for (size_t i = 0; i < length; i++)
        sum = (uint8_t)(sum + p[i]);
    return sum;
}

/* Sets the byte at `field` so that [p, p+length) sums to zero (5.2.5.3, 5.2.6). */
static void fix_checksum(uint8_t *p, size_t length, size_t field)
{
    p[field] = 0;
    p[field] = (uint8_t)(0u - checksum_of(p, length));
}

/* 5.2.3.2 Generic Address Structure. */
enum gas_access { GAS_ACCESS_BYTE = 1, GAS_ACCESS_WORD = 2, GAS_ACCESS_DWORD = 3 };
#define GAS_SPACE_IO 1u

static void put_io_gas(uint8_t *p, uint8_t bytes, enum gas_access access, uint64_t port)
{
    p[0] = GAS_SPACE_IO;
    p[1] = (uint8_t)(bytes * 8); /* register bit width */
    p[2] = 0;                    /* bit offset */
    p[3] = (uint8_t)access;
    put64(p + 4, port);
}

/* 5.2.6 System Description Table Header (36 bytes); the checksum is fixed last. */
#define HEADER_BYTES 36u
#define HEADER_CHECKSUM 9u

static void put_header(uint8_t *t, const char signature[4], uint32_t length, uint8_t revision)
{
    memcpy(t, signature, 4);
    put32(t + 4, length);
    t[8] = revision;
    memcpy(t + 10, "HVFW  ", 6);   /* OEMID */
    memcpy(t + 16, "HVFWCHLD", 8); /* OEM Table ID */
    put32(t + 24, 1);              /* OEM Revision */
    memcpy(t + 28, "HVFW", 4);     /* Creator ID */
    put32(t + 32, 1);              /* Creator Revision */
}

/* ---- AML encoder (ACPI 6.5 chapter 20) ------------------------------------------------- */

enum aml_opcode {
    AML_ZERO = 0x00,         /* 20.2.3 ZeroOp */
    AML_ONE = 0x01,          /* OneOp */
    AML_NAME = 0x08,         /* 20.2.5.1 DefName := NameOp NameString DataRefObject */
    AML_BYTE_PREFIX = 0x0A,  /* 20.2.3 ByteConst */
    AML_WORD_PREFIX = 0x0B,
    AML_DWORD_PREFIX = 0x0C,
    AML_STRING_PREFIX = 0x0D,
    AML_QWORD_PREFIX = 0x0E,
    AML_SCOPE = 0x10,        /* 20.2.5.1 DefScope := ScopeOp PkgLength NameString TermList */
    AML_BUFFER = 0x11,       /* 20.2.5.4 DefBuffer := BufferOp PkgLength BufferSize ByteList */
    AML_PACKAGE = 0x12,      /* DefPackage := PackageOp PkgLength NumElements ElementList */
    AML_EXT_PREFIX = 0x5B,
    AML_EXT_DEVICE = 0x82,   /* 20.2.5.2 DefDevice := DeviceOp PkgLength NameString TermList */
};

/* Bytes written so far into [bytes, bytes+capacity); an overflow is remembered and the
 * result discarded, so the emitters need no checks of their own. */
struct aml {
    uint8_t *bytes;
    size_t length;
    size_t capacity;
    bool overflow;
};

static void aml_emit(struct aml *a, const void *data, size_t n)
{
    if (a->overflow || a->capacity - a->length < n) {
        a->overflow = true;
        return;
    }
    memcpy(a->bytes + a->length, data, n);
    a->length += n;
}

static void aml_byte(struct aml *a, uint8_t b)
{
    aml_emit(a, &b, 1);
}

/* 20.2.2 NameSeg: exactly four characters ('_' padded by the caller). */
static void aml_name_seg(struct aml *a, const char seg[4])
{
    aml_emit(a, seg, 4);
}

/* 20.2.3 Integer: the shortest of Zero, One, Byte/Word/DWord/QWordConst. */
static void aml_integer(struct aml *a, uint64_t v)
{
    if (v <= 1) {
        aml_byte(a, v ? AML_ONE : AML_ZERO);
        return;
    }
    size_t width = v <= 0xFF ? 1 : v <= 0xFFFF ? 2 : v <= 0xFFFFFFFFu ? 4 : 8;
    uint8_t b[9];
    b[0] = width == 1 ? AML_BYTE_PREFIX
         : width == 2 ? AML_WORD_PREFIX
         : width == 4 ? AML_DWORD_PREFIX
                      : AML_QWORD_PREFIX;
    for (size_t i = 0; i < width; i++)
        b[1 + i] = (uint8_t)(v >> (8 * i));
    aml_emit(a, b, 1 + width);
}

/* 20.2.3 String := StringPrefix AsciiCharList NullChar. */
static void aml_string(struct aml *a, const char *s)
{
    aml_byte(a, AML_STRING_PREFIX);
    aml_emit(a, s, strlen(s) + 1);
}

/* Opens a PkgLength-delimited object after its opcode was emitted: returns where its
 * contents start. aml_close() then inserts the PkgLength in front of them. */
static size_t aml_open(const struct aml *a)
{
    return a->length;
}

/* 20.2.4 PkgLength counts itself and what follows. One byte holds up to 63; otherwise bits
 * 7:6 of the lead byte give the number of following bytes (1-3), its bits 3:0 the low
 * nibble and the following bytes the rest, up to 2^28 - 1. The shortest form is used. */
static void aml_close(struct aml *a, size_t start)
{
    if (a->overflow)
        return;
    size_t body = a->length - start;
    size_t follow = body + 1 <= 0x3F ? 0 : body + 2 <= 0xFFF ? 1 : body + 3 <= 0xFFFFF ? 2 : 3;
    size_t total = body + 1 + follow;
    if (total > 0xFFFFFFF || a->capacity - a->length < 1 + follow) {
        a->overflow = true;
        return;
    }
    memmove(a->bytes + start + 1 + follow, a->bytes + start, body);
    uint8_t *p = a->bytes + start;
    if (follow == 0) {
        p[0] = (uint8_t)total;
    } else {
        p[0] = (uint8_t)((follow << 6) | (total & 0xF));
        for (size_t i = 0; i < follow; i++)
            p[1 + i] = (uint8_t)(total >> (4 + 8 * i));
    }
    a->length += 1 + follow;
}

/* Name (seg, <integer>) */
static void aml_name_integer(struct aml *a, const char seg[4], uint64_t v)
{
    aml_byte(a, AML_NAME);
    aml_name_seg(a, seg);
    aml_integer(a, v);
}

/* Name (seg, "text") */
static void aml_name_string(struct aml *a, const char seg[4], const char *text)
{
    aml_byte(a, AML_NAME);
    aml_name_seg(a, seg);
    aml_string(a, text);
}

/* Name (seg, Buffer () { bytes }) */
static void aml_name_buffer(struct aml *a, const char seg[4], const uint8_t *bytes, size_t n)
{
    aml_byte(a, AML_NAME);
    aml_name_seg(a, seg);
    aml_byte(a, AML_BUFFER);
    size_t buffer = aml_open(a);
    aml_integer(a, n);
    aml_emit(a, bytes, n);
    aml_close(a, buffer);
}

/* ---- DSDT ------------------------------------------------------------------------------- */

/* 6.4.2.1 IRQ Descriptor (tag 0x22: small item 0x4, length 2 = mask only, meaning edge
 * triggered, active high, exclusive) and 6.4.2.9 End Tag (checksum 0: "treated as
 * correct"). The IRQ mask is 16 bits, one bit per ISA IRQ. */
#define RESOURCE_IRQ_NO_FLAGS 0x22u
#define RESOURCE_END_TAG 0x79u
_Static_assert(CHILD_ACPI_VMBUS_IRQ < 16, "an IRQ descriptor holds ISA IRQs 0-15");

/*
 * The DSDT's definition block is evaluated in the root scope, so its names carry no '\'
 * prefix: byte for byte what iasl makes of this ASL (tests/unit/test_child_acpi.c):
 *
 *   Name (_S5, Package () { 0, 0, 0, 0 })        SLP_TYPa, SLP_TYPb, reserved, reserved
 *   Scope (_SB) {
 *       Device (VMBS) {
 *           Name (_HID, "VMBUS")
 *           Name (_UID, 0)
 *           Name (_STA, 0x0F)                     present, enabled, shown, functioning
 *           Name (_CRS, ResourceTemplate () { IRQNoFlags () { 5 } })
 *       }
 *   }
 */
static void dsdt_body(struct aml *a)
{
    aml_byte(a, AML_NAME);
    aml_name_seg(a, "_S5_");
    aml_byte(a, AML_PACKAGE);
    size_t package = aml_open(a);
    aml_byte(a, 4); /* NumElements */
    aml_integer(a, CHILD_ACPI_S5_SLEEP_TYPE);
    aml_integer(a, CHILD_ACPI_S5_SLEEP_TYPE);
    aml_integer(a, 0);
    aml_integer(a, 0);
    aml_close(a, package);

    aml_byte(a, AML_SCOPE);
    size_t scope = aml_open(a);
    aml_name_seg(a, "_SB_");
    aml_byte(a, AML_EXT_PREFIX);
    aml_byte(a, AML_EXT_DEVICE);
    size_t device = aml_open(a);
    aml_name_seg(a, "VMBS");
    aml_name_string(a, "_HID", "VMBUS");
    aml_name_integer(a, "_UID", 0);
    aml_name_integer(a, "_STA", 0x0F);
    const uint8_t resources[] = {
        RESOURCE_IRQ_NO_FLAGS, (uint8_t)(1u << CHILD_ACPI_VMBUS_IRQ),
        (uint8_t)((1u << CHILD_ACPI_VMBUS_IRQ) >> 8), RESOURCE_END_TAG, 0,
    };
    aml_name_buffer(a, "_CRS", resources, sizeof(resources));
    aml_close(a, device);
    aml_close(a, scope);
}

#define DSDT_REVISION 2 /* 2+: AML integers are 64 bits (5.2.11.1) */
#define DSDT_MAX_LENGTH 256u

/* Writes the DSDT into [t, t+capacity); returns its length or 0 if it does not fit. */
static size_t write_dsdt(uint8_t *t, size_t capacity)
{
    if (capacity < HEADER_BYTES)
        return 0;
    struct aml a = {t + HEADER_BYTES, 0, capacity - HEADER_BYTES, false};
    dsdt_body(&a);
    if (a.overflow)
        return 0;
    size_t length = HEADER_BYTES + a.length;
    put_header(t, "DSDT", (uint32_t)length, DSDT_REVISION);
    fix_checksum(t, length, HEADER_CHECKSUM);
    return length;
}

/* ---- RSDP, FACS, XSDT ---------------------------------------------------------------- */

#define RSDP_BYTES 36u   /* 5.2.5.3, revision 2 */
#define FACS_BYTES 64u   /* 5.2.10 */
#define XSDT_ENTRIES 2u  /* FADT, MADT */
#define XSDT_BYTES (HEADER_BYTES + 8u * XSDT_ENTRIES)

/* 5.2.5.3: "RSD PTR " @0, checksum of bytes 0-19 @8, OEMID @9, Revision @15,
 * RsdtAddress @16, Length @20, XsdtAddress @24, extended checksum of all 36 @32. */
static void write_rsdp(uint8_t *p, uint64_t xsdt_gpa)
{
    memcpy(p, "RSD PTR ", 8);
    memcpy(p + 9, "HVFW  ", 6);
    p[15] = 2;
    put32(p + 16, 0); /* no RSDT: a revision 2 RSDP's reader uses the XSDT */
    put32(p + 20, RSDP_BYTES);
    put64(p + 24, xsdt_gpa);
    fix_checksum(p, 20, 8);
    fix_checksum(p, RSDP_BYTES, 32);
}

/* 5.2.10 FACS: "FACS" @0, Length @4, Hardware Signature @8 (0: never changes), waking
 * vectors 0 (no S3/S4), Global Lock 0 (free, and our AML never takes it), Version @32 = 2.
 * No checksum: the OS writes to it. */
static void write_facs(uint8_t *p)
{
    memcpy(p, "FACS", 4);
    put32(p + 4, FACS_BYTES);
    p[32] = 2;
}

static void write_xsdt(uint8_t *t, const uint64_t entries[XSDT_ENTRIES])
{
    put_header(t, "XSDT", XSDT_BYTES, 1);
    for (size_t i = 0; i < XSDT_ENTRIES; i++)
        put64(t + HEADER_BYTES + 8 * i, entries[i]);
    fix_checksum(t, XSDT_BYTES, HEADER_CHECKSUM);
}

/* ---- FADT (5.2.9, Table 5.9) -------------------------------------------------------- */

#define FADT_BYTES 276u      /* the 6.x layout, up to Hypervisor Vendor Identity */
#define FADT_REVISION 6
#define FADT_MINOR_VERSION 5 /* ACPI 6.5 */

enum fadt_offset {
    FADT_FIRMWARE_CTRL = 36,
    FADT_DSDT = 40,
    FADT_SCI_INT = 46,
    FADT_PM1A_EVT_BLK = 56,
    FADT_PM1A_CNT_BLK = 64,
    FADT_PM_TMR_BLK = 76,
    FADT_PM1_EVT_LEN = 88,
    FADT_PM1_CNT_LEN = 89,
    FADT_PM_TMR_LEN = 91,
    FADT_P_LVL2_LAT = 96,
    FADT_P_LVL3_LAT = 98,
    FADT_IAPC_BOOT_ARCH = 109,
    FADT_FLAGS = 112,
    FADT_RESET_REG = 116,
    FADT_RESET_VALUE = 128,
    FADT_MINOR = 131,
    FADT_X_FIRMWARE_CTRL = 132,
    FADT_X_DSDT = 140,
    FADT_X_PM1A_EVT_BLK = 148,
    FADT_X_PM1A_CNT_BLK = 172,
    FADT_X_PM_TMR_BLK = 208,
};

/* Fixed Feature Flags (Table 5.10). */
#define FADT_WBINVD (1u << 0)        /* WBINVD flushes caches correctly */
#define FADT_PROC_C1 (1u << 2)       /* C1 (HLT) works on every processor */
#define FADT_PWR_BUTTON (1u << 4)    /* no fixed-feature power button */
#define FADT_SLP_BUTTON (1u << 5)    /* no fixed-feature sleep button */
#define FADT_FIX_RTC (1u << 6)       /* no RTC wake status in the fixed registers */
#define FADT_TMR_VAL_EXT (1u << 8)   /* the PM timer counts 32 bits */
#define FADT_RESET_REG_SUP (1u << 10)
/* IA-PC Boot Architecture Flags (Table 5.11): bit 0 (legacy devices) and bit 1 (8042)
 * clear say there are none. */
#define BOOT_ARCH_VGA_NOT_PRESENT (1u << 2)
#define BOOT_ARCH_CMOS_RTC_NOT_PRESENT (1u << 5)

#define PM1_EVT_BYTES 4u /* status + enable, 16 bits each (4.8.3.1) */
#define PM1_CNT_BYTES 2u
#define PM_TMR_BYTES 4u

static uint32_t low32_or_zero(uint64_t gpa)
{
    return gpa <= UINT32_MAX ? (uint32_t)gpa : 0;
}

static void write_fadt(uint8_t *t, uint64_t facs_gpa, uint64_t dsdt_gpa)
{
    put_header(t, "FACP", FADT_BYTES, FADT_REVISION);
    /* The 32-bit pointers only when they hold the same address as the X_ ones (ACPICA
     * warns on a mismatch); the X_ fields are what a 6.x reader uses. */
    put32(t + FADT_FIRMWARE_CTRL, low32_or_zero(facs_gpa));
    put32(t + FADT_DSDT, low32_or_zero(dsdt_gpa));
    put16(t + FADT_SCI_INT, CHILD_ACPI_SCI_IRQ);
    /* SMI_CMD, ACPI_ENABLE, ACPI_DISABLE stay 0: always in ACPI mode. */
    put32(t + FADT_PM1A_EVT_BLK, CHILD_ACPI_PM1A_EVENT_PORT);
    put32(t + FADT_PM1A_CNT_BLK, CHILD_ACPI_PM1A_CONTROL_PORT);
    put32(t + FADT_PM_TMR_BLK, CHILD_ACPI_PM_TIMER_PORT);
    t[FADT_PM1_EVT_LEN] = PM1_EVT_BYTES;
    t[FADT_PM1_CNT_LEN] = PM1_CNT_BYTES;
    t[FADT_PM_TMR_LEN] = PM_TMR_BYTES;
    /* Latencies above 100 / 1000 us say C2 / C3 are not supported. */
    put16(t + FADT_P_LVL2_LAT, 101);
    put16(t + FADT_P_LVL3_LAT, 1001);
    put16(t + FADT_IAPC_BOOT_ARCH, BOOT_ARCH_VGA_NOT_PRESENT | BOOT_ARCH_CMOS_RTC_NOT_PRESENT);
    put32(t + FADT_FLAGS, FADT_WBINVD | FADT_PROC_C1 | FADT_PWR_BUTTON | FADT_SLP_BUTTON |
                              FADT_FIX_RTC | FADT_TMR_VAL_EXT | FADT_RESET_REG_SUP);
    put_io_gas(t + FADT_RESET_REG, 1, GAS_ACCESS_BYTE, CHILD_ACPI_RESET_PORT);
    t[FADT_RESET_VALUE] = CHILD_ACPI_RESET_VALUE;
    t[FADT_MINOR] = FADT_MINOR_VERSION;
    put64(t + FADT_X_FIRMWARE_CTRL, facs_gpa);
    put64(t + FADT_X_DSDT, dsdt_gpa);
    put_io_gas(t + FADT_X_PM1A_EVT_BLK, PM1_EVT_BYTES, GAS_ACCESS_WORD,
               CHILD_ACPI_PM1A_EVENT_PORT);
    put_io_gas(t + FADT_X_PM1A_CNT_BLK, PM1_CNT_BYTES, GAS_ACCESS_WORD,
               CHILD_ACPI_PM1A_CONTROL_PORT);
    put_io_gas(t + FADT_X_PM_TMR_BLK, PM_TMR_BYTES, GAS_ACCESS_DWORD, CHILD_ACPI_PM_TIMER_PORT);
    /* PM1b, PM2, GPE0/1 and the sleep registers of hardware-reduced ACPI stay absent. */
    fix_checksum(t, FADT_BYTES, HEADER_CHECKSUM);
}

/* ---- MADT (5.2.12) -------------------------------------------------------------------- */

#define MADT_REVISION 5
#define MADT_FIXED_BYTES 44u        /* header, Local Interrupt Controller Address, Flags */
#define MADT_LOCAL_APIC_BYTES 8u    /* 5.2.12.2 */
#define MADT_IOAPIC_BYTES 12u       /* 5.2.12.3 */
#define MADT_OVERRIDE_BYTES 10u     /* 5.2.12.5 */
#define MADT_LOCAL_APIC_NMI_BYTES 6u /* 5.2.12.7 */
#define MADT_OVERRIDES 2u

enum madt_type {
    MADT_LOCAL_APIC = 0,
    MADT_IOAPIC = 1,
    MADT_OVERRIDE = 2,
    MADT_LOCAL_APIC_NMI = 4,
};

#define MADT_LOCAL_APIC_ENABLED 1u
/* MPS INTI flags (Table 5.25): polarity bits 1:0, trigger mode bits 3:2; 0 = bus default. */
#define INTI_CONFORMS 0x0u
#define INTI_ACTIVE_LOW 0x3u
#define INTI_LEVEL 0xCu
#define NMI_LINT1 1u
#define NMI_ALL_PROCESSORS 0xFFu

static size_t madt_bytes(uint32_t vp_count)
{
    return MADT_FIXED_BYTES + MADT_LOCAL_APIC_BYTES * (size_t)vp_count + MADT_IOAPIC_BYTES +
           MADT_OVERRIDE_BYTES * MADT_OVERRIDES + MADT_LOCAL_APIC_NMI_BYTES;
}

static uint8_t *put_override(uint8_t *e, uint8_t irq, uint32_t gsi, uint16_t flags)
{
    e[0] = MADT_OVERRIDE;
    e[1] = MADT_OVERRIDE_BYTES;
    e[2] = 0; /* bus: ISA */
    e[3] = irq;
    put32(e + 4, gsi);
    put16(e + 8, flags);
    return e + MADT_OVERRIDE_BYTES;
}

static void write_madt(uint8_t *t, uint32_t vp_count)
{
    size_t length = madt_bytes(vp_count);
    put_header(t, "APIC", (uint32_t)length, MADT_REVISION);
    put32(t + 36, CHILD_ACPI_LAPIC_ADDRESS);
    put32(t + 40, 0); /* no PCAT_COMPAT: the child has no 8259 pair */
    uint8_t *e = t + MADT_FIXED_BYTES;
    for (uint32_t vp = 0; vp < vp_count; vp++, e += MADT_LOCAL_APIC_BYTES) {
        e[0] = MADT_LOCAL_APIC;
        e[1] = MADT_LOCAL_APIC_BYTES;
        e[2] = (uint8_t)vp; /* ACPI Processor UID */
        e[3] = (uint8_t)vp; /* APIC ID = VP index, as CPUID reports it */
        put32(e + 4, MADT_LOCAL_APIC_ENABLED);
    }
    e[0] = MADT_IOAPIC;
    e[1] = MADT_IOAPIC_BYTES;
    e[2] = CHILD_ACPI_IOAPIC_ID;
    e[3] = 0;
    put32(e + 4, CHILD_ACPI_IOAPIC_ADDRESS);
    put32(e + 8, 0); /* Global System Interrupt Base: ISA IRQ n = GSI n unless overridden */
    e += MADT_IOAPIC_BYTES;
    /* The PC timer IRQ 0 is wired to IOAPIC pin 2 (the 8259 cascade's pin) on every PC
     * since the MPS; the SCI is level triggered and active low (5.2.9 SCI_INT). */
    e = put_override(e, 0, 2, INTI_CONFORMS);
    e = put_override(e, CHILD_ACPI_SCI_IRQ, CHILD_ACPI_SCI_IRQ, INTI_LEVEL | INTI_ACTIVE_LOW);
    e[0] = MADT_LOCAL_APIC_NMI;
    e[1] = MADT_LOCAL_APIC_NMI_BYTES;
    e[2] = NMI_ALL_PROCESSORS;
    put16(e + 3, INTI_CONFORMS);
    e[5] = NMI_LINT1;
    fix_checksum(t, length, HEADER_CHECKSUM);
}

/* ---- the region -------------------------------------------------------------------------- */

/* Offsets from the region's start. Tables start on 16-byte boundaries (as firmware places
 * them; nothing requires more), the FACS on a 64-byte one. */
struct layout {
    size_t rsdp, facs, xsdt, fadt, madt, dsdt, dsdt_length, total;
};

static size_t align_up(size_t v, size_t to)
{
    return (v + to - 1) & ~(to - 1);
}

static bool config_valid(const struct child_acpi_config *config)
{
    return config && config->vp_count >= 1 && config->vp_count <= CHILD_ACPI_VPS_MAX;
}

static bool plan(const struct child_acpi_config *config, struct layout *l)
{
    if (!config_valid(config))
        return false;
    uint8_t scratch[DSDT_MAX_LENGTH];
    l->dsdt_length = write_dsdt(scratch, sizeof(scratch));
    if (l->dsdt_length == 0)
        return false;
    l->rsdp = 0;
    l->facs = align_up(RSDP_BYTES, CHILD_ACPI_ALIGNMENT);
    l->xsdt = align_up(l->facs + FACS_BYTES, 16);
    l->fadt = align_up(l->xsdt + XSDT_BYTES, 16);
    l->madt = align_up(l->fadt + FADT_BYTES, 16);
    l->dsdt = align_up(l->madt + madt_bytes(config->vp_count), 16);
    l->total = l->dsdt + l->dsdt_length;
    return true;
}

size_t child_acpi_size(const struct child_acpi_config *config)
{
    struct layout l;
    return plan(config, &l) ? l.total : 0;
}

size_t child_acpi_build(uint8_t *buffer, size_t size, uint64_t base_gpa,
                        const struct child_acpi_config *config, uint64_t *rsdp_gpa)
{
    struct layout l;
    if (!buffer || !rsdp_gpa || !plan(config, &l) || size < l.total ||
        base_gpa % CHILD_ACPI_ALIGNMENT != 0 || base_gpa > UINT64_MAX - l.total)
        return 0;
    memset(buffer, 0, l.total);
    if (write_dsdt(buffer + l.dsdt, l.dsdt_length) != l.dsdt_length)
        return 0;
    write_madt(buffer + l.madt, config->vp_count);
    write_fadt(buffer + l.fadt, base_gpa + l.facs, base_gpa + l.dsdt);
    write_facs(buffer + l.facs);
    const uint64_t entries[XSDT_ENTRIES] = {base_gpa + l.fadt, base_gpa + l.madt};
    write_xsdt(buffer + l.xsdt, entries);
    write_rsdp(buffer + l.rsdp, base_gpa + l.xsdt);
    *rsdp_gpa = base_gpa + l.rsdp;
    return l.total;
}
