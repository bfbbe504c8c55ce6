#include "root/bzimage.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/*
 * Setup header fields: offsets in the module, which are also their offsets in boot_params
 * (boot.rst "The Real-Mode Kernel Header"; zero-page.rst).
 */
#define HDR_SETUP_SECTS 0x1F1      /* u8: 512-byte setup sectors after the boot sector */
#define HDR_BOOT_FLAG 0x1FE        /* u16: 0xAA55 */
#define HDR_JUMP 0x200             /* u8 0xEB, then the setup header's length - 2 */
#define HDR_MAGIC 0x202            /* "HdrS" */
#define HDR_VERSION 0x206          /* u16 */
#define HDR_TYPE_OF_LOADER 0x210   /* u8 */
#define HDR_LOADFLAGS 0x211        /* u8 */
#define HDR_RAMDISK_IMAGE 0x218    /* u32 */
#define HDR_RAMDISK_SIZE 0x21C     /* u32 */
#define HDR_CMD_LINE_PTR 0x228     /* u32 */
#define HDR_INITRD_ADDR_MAX 0x22C  /* u32: highest byte address the initrd may occupy */
#define HDR_KERNEL_ALIGNMENT 0x230 /* u32 */
#define HDR_RELOCATABLE 0x234      /* u8 */
#define HDR_XLOADFLAGS 0x236       /* u16 */
#define HDR_CMDLINE_SIZE 0x238     /* u32: without the terminating NUL */
#define HDR_HARDWARE_SUBARCH 0x23C /* u32 */
#define HDR_SUBARCH_DATA 0x240     /* u64 */
#define HDR_SETUP_DATA 0x250       /* u64: a physical pointer to a linked list */
#define HDR_PREF_ADDRESS 0x258     /* u64 */
#define HDR_INIT_SIZE 0x260        /* u32: bytes from the load address the kernel needs */
#define HDR_FIELDS_END 0x264       /* the end of the last field read (init_size) */
#define HDR_AREA_END 0x290         /* boot_params holds the header in [0x1F1, 0x290) */

/* boot_params fields outside the setup header (zero-page.rst). */
#define BP_SIZE 0x1000
#define BP_ACPI_RSDP_ADDR 0x070
#define BP_EXT_RAMDISK_IMAGE 0x0C0
#define BP_EXT_RAMDISK_SIZE 0x0C4
#define BP_EXT_CMD_LINE_PTR 0x0C8
#define BP_E820_ENTRIES 0x1E8
#define BP_E820_TABLE 0x2D0
#define BP_E820_ENTRY_SIZE 20 /* struct boot_e820_entry: u64 addr, u64 size, u32 type */

#define BOOT_FLAG 0xAA55u
#define HDRS_MAGIC 0x53726448u      /* "HdrS" */
#define PROTOCOL_64BIT_ENTRY 0x020Cu /* 2.12: xloadflags, XLF_KERNEL_64 */
#define LOADED_HIGH 0x01u           /* loadflags bit 0: a bzImage (kernel at 1 MiB+) */
#define XLF_KERNEL_64 0x01u         /* xloadflags bit 0: startup_64 at load + 0x200 */
#define ENTRY_64_OFFSET 0x200u
#define TYPE_OF_LOADER_UNDEFINED 0xFFu
#define SECTOR 512u
#define DEFAULT_SETUP_SECTS 4u /* "if this field is 0, the real value is 4" */

#define PAGE_SIZE 0x1000ull
#define MIB (1ull << 20)
#define GIB (1ull << 30)
#define LOW_USABLE_END 0x9F000ull /* Linux's BIOS_START_MAX: the EBDA/BIOS window above */
#define HIGH_MEMORY 0x100000ull
#define IDENTITY_MAP_MAX (4 * GIB) /* 4 PDs of 2 MiB pages (see map_identity) */
#define RSDP_V2_SIZE 36u           /* ACPI 6.5 5.2.5.3 */

/* Paging entry bits (Intel SDM vol. 3A 4.5 "4-Level Paging"; AMD APM vol. 2 5.3). */
#define PTE_PRESENT 0x1ull
#define PTE_WRITABLE 0x2ull
#define PTE_LARGE 0x80ull /* PS in a PD entry: a 2 MiB page */

/* Control registers at the 64-bit entry (SDM vol. 3A 2.5, 9.8.5 "Initializing IA-32e Mode"). */
#define CR0_PE (1ull << 0)
#define CR0_ET (1ull << 4)
#define CR0_NE (1ull << 5)
#define CR0_PG (1ull << 31)
#define CR4_PAE (1ull << 5)
#define EFER_LME (1ull << 8)
#define EFER_LMA (1ull << 10)

/* GDT descriptors (SDM vol. 3A 3.4.5): flat 4 GiB, present, DPL 0, accessed already set
 * so the CPU never writes to the table. 64-bit code: L=1, D=0, type execute/read. Data:
 * D/B=1, G=1, type read/write. */
#define GDT_CODE_64 0x00AF9B000000FFFFull
#define GDT_DATA 0x00CF93000000FFFFull
#define GDT_ENTRIES 4 /* null, unused, __BOOT_CS 0x10, __BOOT_DS 0x18 */
/* A descriptor's access byte and flags nibble (bits 40-47, 52-55) in the TLFS segment
 * register attribute layout (HV_X64_SEGMENT_REGISTER: type, S, DPL, P, 4 reserved, AVL,
 * L, D/B, G), which is how the VMMS sets CS/DS/ES/SS through HvCallSetVpRegisters. */
#define SEGMENT_ATTRIBUTES(d) ((uint16_t)(((d) >> 40) & 0xF0FF))

_Static_assert(BZIMAGE_PAGE_TABLES_GPA + (2 + IDENTITY_MAP_MAX / GIB) * PAGE_SIZE <=
               BZIMAGE_LOADER_END, "the page tables fit the loader's reserved range");
_Static_assert(BZIMAGE_CMDLINE_GPA + BZIMAGE_CMDLINE_MAX + 1 <= BZIMAGE_PAGE_TABLES_GPA,
               "the command line fits its page");

/* The setup header fields the loader needs, read once from the module and checked. */
struct bzimage_header {
    uint16_t version;
    unsigned setup_size;  /* bytes of real-mode code + header before the kernel */
    unsigned header_end;  /* 0x202 + the jump's displacement byte */
    uint8_t relocatable;
    uint32_t kernel_alignment, initrd_addr_max, cmdline_size, init_size;
    uint64_t pref_address;
};

__attribute__((format(printf, 2, 3)))
static bool fail(char *why, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, BZIMAGE_WHY_MAX, fmt, ap);
    va_end(ap);
    return false;
}

static uint16_t get16(const uint8_t *p) { uint16_t v; memcpy(&v, p, 2); return v; }
static uint32_t get32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static uint64_t get64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }
static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static void put64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }

static bool is_power_of_two(uint64_t v) { return v != 0 && (v & (v - 1)) == 0; }
static uint64_t align_down(uint64_t v, uint64_t a) { return v & ~(a - 1); }

/* Reads and checks the setup header: every offset it uses lies inside the module. */
static bool read_header(const uint8_t *image, size_t size, struct bzimage_header *h,
                        char *why)
{
    if (!image || size < HDR_FIELDS_END)
        return fail(why, "%zu bytes: too short for a bzImage setup header", size);
    if (get16(image + HDR_BOOT_FLAG) != BOOT_FLAG)
        return fail(why, "no boot flag 0xAA55 at 0x1FE: not a bzImage");
    if (get32(image + HDR_MAGIC) != HDRS_MAGIC)
        return fail(why, "no \"HdrS\" magic at 0x202: not a bzImage");
    h->version = get16(image + HDR_VERSION);
    if (h->version < PROTOCOL_64BIT_ENTRY)
        return fail(why, "boot protocol %u.%02u: the 64-bit entry needs 2.12 or later",
                    h->version >> 8, h->version & 0xFF);
    if (!(image[HDR_LOADFLAGS] & LOADED_HIGH))
        return fail(why, "loadflags without LOADED_HIGH: a zImage, not a bzImage");
    if (!(get16(image + HDR_XLOADFLAGS) & XLF_KERNEL_64))
        return fail(why, "xloadflags without XLF_KERNEL_64: no 64-bit entry point");
    unsigned sects = image[HDR_SETUP_SECTS] ? image[HDR_SETUP_SECTS] : DEFAULT_SETUP_SECTS;
    h->setup_size = (sects + 1) * SECTOR; /* at most 256 * 512: no overflow */
    if (h->setup_size >= size)
        return fail(why, "setup_sects %u: the setup code (%u bytes) leaves no kernel in the "
                    "module (%zu bytes)", sects, h->setup_size, size);
    h->header_end = 0x202u + image[HDR_JUMP + 1];
    if (h->header_end < HDR_FIELDS_END || h->header_end > HDR_AREA_END ||
        h->header_end > h->setup_size)
        return fail(why, "setup header ends at %#x: outside [%#x, %#x] or the setup code",
                    h->header_end, HDR_FIELDS_END, HDR_AREA_END);
    h->relocatable = image[HDR_RELOCATABLE];
    h->kernel_alignment = get32(image + HDR_KERNEL_ALIGNMENT);
    h->initrd_addr_max = get32(image + HDR_INITRD_ADDR_MAX);
    h->cmdline_size = get32(image + HDR_CMDLINE_SIZE);
    h->pref_address = get64(image + HDR_PREF_ADDRESS);
    h->init_size = get32(image + HDR_INIT_SIZE);
    return true;
}

bool bzimage_probe(const uint8_t *image, size_t size)
{
    struct bzimage_header h;
    char why[BZIMAGE_WHY_MAX];
    return read_header(image, size, &h, why);
}

uint64_t bzimage_acpi_base(uint64_t ram_size)
{
    uint64_t top = align_down(ram_size, PAGE_SIZE);
    if (top < HIGH_MEMORY + BZIMAGE_ACPI_SIZE)
        return 0;
    return top - BZIMAGE_ACPI_SIZE;
}

/*
 * The kernel goes to pref_address. For the 64-bit entry that is the only useful place:
 * startup_64 (arch/x86/boot/compressed/head_64.S) decompresses to
 * max(align_up(load address, kernel_alignment), LOAD_PHYSICAL_ADDR), and pref_address is
 * LOAD_PHYSICAL_ADDR, so the kernel needs [pref_address, +init_size) wherever it is put.
 */
static bool place_kernel(const struct bzimage_header *h, size_t size, uint64_t acpi_base,
                         uint64_t mapped, struct bzimage_layout *out, char *why)
{
    uint64_t kernel_size = size - h->setup_size;
    uint64_t extent = h->init_size > kernel_size ? h->init_size : kernel_size;
    extent = (extent + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1); /* < 2^33: no overflow */
    uint64_t at = h->pref_address;
    if (h->relocatable) {
        if (!is_power_of_two(h->kernel_alignment) || h->kernel_alignment < PAGE_SIZE)
            return fail(why, "kernel_alignment %#x is not a power of two >= 4 KiB",
                        h->kernel_alignment);
        if (at & (h->kernel_alignment - 1))
            return fail(why, "pref_address %#llx is not aligned to kernel_alignment %#x",
                        (unsigned long long)at, h->kernel_alignment);
    }
    if (at < HIGH_MEMORY || at & (PAGE_SIZE - 1))
        return fail(why, "pref_address %#llx: not a page above 1 MiB",
                    (unsigned long long)at);
    uint64_t limit = acpi_base < mapped ? acpi_base : mapped;
    if (at > limit || extent > limit - at)
        return fail(why, "the kernel needs [%#llx, +%#llx) (init_size %#x): more than the "
                    "child's %llu MiB of RAM below %#llx", (unsigned long long)at,
                    (unsigned long long)extent, h->init_size,
                    (unsigned long long)(acpi_base >> 20), (unsigned long long)limit);
    out->kernel_gpa = at;
    out->kernel_size = kernel_size;
    out->kernel_extent = extent;
    out->entry_gpa = at + ENTRY_64_OFFSET;
    return true;
}

/* The initrd goes as high as it can: below initrd_addr_max and the ACPI hole, page
 * aligned, above the kernel's extent (boot.rst: "as high as possible"). */
static bool place_initrd(const struct bzimage_header *h, const uint8_t *initrd,
                         size_t initrd_size, uint64_t acpi_base, struct bzimage_layout *out,
                         char *why)
{
    out->initrd_gpa = 0;
    out->initrd_size = 0;
    if (initrd_size == 0)
        return true;
    if (!initrd)
        return fail(why, "an initrd of %zu bytes without its bytes", initrd_size);
    uint64_t top = (uint64_t)h->initrd_addr_max + 1; /* a u32 + 1: no overflow */
    if (top > acpi_base)
        top = acpi_base;
    uint64_t low = out->kernel_gpa + out->kernel_extent;
    if (initrd_size > top || align_down(top - initrd_size, PAGE_SIZE) < low)
        return fail(why, "the initrd (%zu bytes) does not fit between the kernel's end %#llx "
                    "and %#llx (initrd_addr_max %#x, ACPI hole %#llx)", initrd_size,
                    (unsigned long long)low, (unsigned long long)top, h->initrd_addr_max,
                    (unsigned long long)acpi_base);
    out->initrd_gpa = align_down(top - initrd_size, PAGE_SIZE);
    out->initrd_size = initrd_size;
    return true;
}

static void add_e820(struct bzimage_layout *out, uint64_t address, uint64_t end, uint32_t type)
{
    out->e820[out->e820_entries++] =
        (struct bzimage_e820_entry){ .address = address, .size = end - address, .type = type };
}

/* The map documented in root/bzimage.h. */
static void build_e820(struct bzimage_layout *out, uint64_t acpi_base, uint64_t ram_size)
{
    out->e820_entries = 0;
    add_e820(out, 0, BZIMAGE_GDT_GPA, BZIMAGE_E820_RAM);
    add_e820(out, BZIMAGE_GDT_GPA, BZIMAGE_LOADER_END, BZIMAGE_E820_RESERVED);
    add_e820(out, BZIMAGE_LOADER_END, LOW_USABLE_END, BZIMAGE_E820_RAM);
    add_e820(out, LOW_USABLE_END, HIGH_MEMORY, BZIMAGE_E820_RESERVED);
    add_e820(out, HIGH_MEMORY, acpi_base, BZIMAGE_E820_RAM);
    add_e820(out, acpi_base, ram_size, BZIMAGE_E820_ACPI);
}

/* Identity map [0, mapped) with 2 MiB pages: PML4, PDPT, one PD per GiB. 2 MiB pages
 * need no CPUID feature (1 GiB pages need Page1GB). Above 4 GiB the decompressor maps
 * what it touches itself (arch/x86/boot/compressed/ident_map_64.c, its #PF handler). */
static void map_identity(uint8_t *ram, uint64_t mapped)
{
    uint64_t pml4 = BZIMAGE_PAGE_TABLES_GPA, pdpt = pml4 + PAGE_SIZE, pd = pdpt + PAGE_SIZE;
    unsigned gib = (unsigned)(mapped / GIB);
    memset(ram + pml4, 0, (size_t)((2 + gib) * PAGE_SIZE));
    put64(ram + pml4, pdpt | PTE_PRESENT | PTE_WRITABLE);
    for (unsigned i = 0; i < gib; i++) {
        uint64_t table = pd + i * PAGE_SIZE;
        put64(ram + pdpt + i * 8, table | PTE_PRESENT | PTE_WRITABLE);
        for (unsigned j = 0; j < 512; j++)
            put64(ram + table + j * 8, ((uint64_t)i * GIB + (uint64_t)j * 2 * MIB) |
                  PTE_PRESENT | PTE_WRITABLE | PTE_LARGE);
    }
}

static void write_gdt(uint8_t *ram)
{
    const uint64_t gdt[GDT_ENTRIES] = { 0, 0, GDT_CODE_64, GDT_DATA };
    _Static_assert(BZIMAGE_CODE_SELECTOR == 2 * 8 && BZIMAGE_DATA_SELECTOR == 3 * 8,
                   "selectors index the GDT");
    memcpy(ram + BZIMAGE_GDT_GPA, gdt, sizeof(gdt));
}

/* The zero page: cleared, the module's setup header copied in, then the loader's fields
 * (boot.rst "64-bit Boot Protocol"; zero-page.rst). */
static void write_boot_params(const uint8_t *image, const struct bzimage_header *h,
                              uint8_t *ram, uint64_t acpi_rsdp_gpa,
                              const struct bzimage_layout *out)
{
    uint8_t *bp = ram + BZIMAGE_BOOT_PARAMS_GPA;
    memset(bp, 0, BP_SIZE);
    memcpy(bp + HDR_SETUP_SECTS, image + HDR_SETUP_SECTS, h->header_end - HDR_SETUP_SECTS);
    bp[HDR_TYPE_OF_LOADER] = TYPE_OF_LOADER_UNDEFINED;
    /* Fields a module could set to steer the kernel elsewhere are ours, not its. */
    put64(bp + HDR_SETUP_DATA, 0);
    put32(bp + HDR_HARDWARE_SUBARCH, 0); /* X86_SUBARCH_PC */
    put64(bp + HDR_SUBARCH_DATA, 0);
    put32(bp + HDR_CMD_LINE_PTR, (uint32_t)out->cmdline_gpa);
    put32(bp + BP_EXT_CMD_LINE_PTR, (uint32_t)(out->cmdline_gpa >> 32));
    put32(bp + HDR_RAMDISK_IMAGE, (uint32_t)out->initrd_gpa);
    put32(bp + BP_EXT_RAMDISK_IMAGE, (uint32_t)(out->initrd_gpa >> 32));
    put32(bp + HDR_RAMDISK_SIZE, (uint32_t)out->initrd_size);
    put32(bp + BP_EXT_RAMDISK_SIZE, (uint32_t)(out->initrd_size >> 32));
    put64(bp + BP_ACPI_RSDP_ADDR, acpi_rsdp_gpa);
    bp[BP_E820_ENTRIES] = (uint8_t)out->e820_entries;
    for (unsigned i = 0; i < out->e820_entries; i++) {
        uint8_t *e = bp + BP_E820_TABLE + i * BP_E820_ENTRY_SIZE;
        put64(e, out->e820[i].address);
        put64(e + 8, out->e820[i].size);
        put32(e + 16, out->e820[i].type);
    }
}

static bool check_ram(const uint8_t *ram, uint64_t ram_size, uint64_t acpi_rsdp_gpa,
                      uint64_t *acpi_base, char *why)
{
    if (!ram)
        return fail(why, "no RAM");
    if (ram_size & (PAGE_SIZE - 1))
        return fail(why, "RAM size %#llx is not a whole number of pages",
                    (unsigned long long)ram_size);
    *acpi_base = bzimage_acpi_base(ram_size);
    if (*acpi_base == 0)
        return fail(why, "%llu KiB of RAM: too small for the low memory map and the ACPI "
                    "hole", (unsigned long long)(ram_size >> 10));
    if (acpi_rsdp_gpa != 0 &&
        (acpi_rsdp_gpa < *acpi_base || acpi_rsdp_gpa > ram_size - RSDP_V2_SIZE))
        return fail(why, "ACPI RSDP at %#llx lies outside the ACPI hole [%#llx, %#llx)",
                    (unsigned long long)acpi_rsdp_gpa, (unsigned long long)*acpi_base,
                    (unsigned long long)ram_size);
    return true;
}

static bool check_cmdline(const struct bzimage_header *h, const char *cmdline, size_t *length,
                          char *why)
{
    *length = cmdline ? strnlen(cmdline, BZIMAGE_CMDLINE_MAX + 1) : 0;
    uint32_t max = h->cmdline_size < BZIMAGE_CMDLINE_MAX ? h->cmdline_size
                                                        : BZIMAGE_CMDLINE_MAX;
    if (*length > BZIMAGE_CMDLINE_MAX)
        return fail(why, "command line longer than the loader's %u characters",
                    BZIMAGE_CMDLINE_MAX);
    if (*length > max)
        return fail(why, "command line of %zu characters: the kernel takes %u (cmdline_size)",
                    *length, h->cmdline_size);
    return true;
}

bool bzimage_load(const uint8_t *image, size_t size, const uint8_t *initrd,
                  size_t initrd_size, const char *cmdline, uint8_t *ram, uint64_t ram_size,
                  uint64_t acpi_rsdp_gpa, struct bzimage_layout *out, char *why)
{
    struct bzimage_header h;
    uint64_t acpi_base = 0;
    size_t cmdline_length;
    memset(out, 0, sizeof(*out));
    why[0] = '\0';
    if (!check_ram(ram, ram_size, acpi_rsdp_gpa, &acpi_base, why) ||
        !read_header(image, size, &h, why) ||
        !check_cmdline(&h, cmdline, &cmdline_length, why))
        return false;
    uint64_t mapped = ram_size >= IDENTITY_MAP_MAX ? IDENTITY_MAP_MAX
                                                   : (ram_size + GIB - 1) & ~(GIB - 1);
    if (!place_kernel(&h, size, acpi_base, mapped, out, why) ||
        !place_initrd(&h, initrd, initrd_size, acpi_base, out, why))
        return false;

    /* Everything is checked: from here on only writes inside [0, ram_size). */
    out->protocol_version = h.version;
    out->cmdline_gpa = BZIMAGE_CMDLINE_GPA;
    out->cmdline_size = cmdline_length;
    out->boot_params_gpa = BZIMAGE_BOOT_PARAMS_GPA;
    out->page_tables_gpa = BZIMAGE_PAGE_TABLES_GPA;
    out->page_tables_size = (2 + mapped / GIB) * PAGE_SIZE;
    out->identity_mapped = mapped;
    out->gdt_gpa = BZIMAGE_GDT_GPA;
    out->gdt_limit = GDT_ENTRIES * 8 - 1;
    out->code_attributes = SEGMENT_ATTRIBUTES(GDT_CODE_64);
    out->data_attributes = SEGMENT_ATTRIBUTES(GDT_DATA);
    out->acpi_gpa = acpi_base;
    out->acpi_size = ram_size - acpi_base;
    out->cr0 = CR0_PE | CR0_ET | CR0_NE | CR0_PG;
    out->cr3 = BZIMAGE_PAGE_TABLES_GPA;
    out->cr4 = CR4_PAE;
    out->efer = EFER_LME | EFER_LMA;
    build_e820(out, acpi_base, ram_size);

    memcpy(ram + out->kernel_gpa, image + h.setup_size, (size_t)out->kernel_size);
    if (out->initrd_size)
        memcpy(ram + out->initrd_gpa, initrd, (size_t)out->initrd_size);
    memset(ram + BZIMAGE_CMDLINE_GPA, 0, BZIMAGE_CMDLINE_MAX + 1);
    if (cmdline_length)
        memcpy(ram + BZIMAGE_CMDLINE_GPA, cmdline, cmdline_length);
    write_gdt(ram);
    map_identity(ram, mapped);
    write_boot_params(image, &h, ram, acpi_rsdp_gpa, out);
    return true;
}
