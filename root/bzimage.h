/*
 * The Linux bzImage loader for child partitions: the 64-bit boot protocol (Linux
 * Documentation/arch/x86/boot.rst, "64-bit Boot Protocol"; zero-page.rst).
 *
 * The module is hostile input: every setup-header field is checked against the module's
 * size and the child's RAM before the first byte is copied, with 64-bit arithmetic that
 * cannot wrap. Pure and host-testable: the caller passes the module's bytes and a pointer
 * to the child's RAM, which backs GPAs [0, ram_size).
 *
 * Child memory map the loader builds (and reports in the e820 table it writes):
 *   [0, 0x1000)                      usable (real-mode IVT/BDA page, left zero)
 *   [0x1000, 0xA000)                 reserved: the loader's structures (BZIMAGE_LOADER_*)
 *                                    GDT 0x1000, boot_params 0x2000, command line 0x3000,
 *                                    page tables 0x4000 (PML4, PDPT, up to 4 PDs)
 *   [0xA000, 0x9F000)                usable (Linux puts its real-mode trampoline here)
 *   [0x9F000, 0x100000)              reserved (the legacy EBDA/VGA/BIOS window, empty)
 *   [0x100000, acpi)                 usable: the kernel at pref_address, the initrd high
 *   [acpi, ram_size)                 ACPI data (e820 type 3): BZIMAGE_ACPI_SIZE bytes at the
 *                                    top of RAM where the VMMS builds the child's ACPI
 *                                    tables (root/child_acpi.h); bzimage_acpi_base() says where
 */
#ifndef HVFW_ROOT_BZIMAGE_H
#define HVFW_ROOT_BZIMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BZIMAGE_WHY_MAX 160 /* bytes the `why` buffer of bzimage_load must hold */

/* The fixed low-memory places of the loader's own structures (see the map above). */
#define BZIMAGE_GDT_GPA 0x1000ull
#define BZIMAGE_BOOT_PARAMS_GPA 0x2000ull
#define BZIMAGE_CMDLINE_GPA 0x3000ull
#define BZIMAGE_CMDLINE_MAX 4095u /* characters, without the NUL: one page */
#define BZIMAGE_PAGE_TABLES_GPA 0x4000ull
#define BZIMAGE_LOADER_END 0xA000ull
/* The top of RAM reserved for the child's ACPI tables (RSDP, XSDT, FADT, MADT, DSDT). */
#define BZIMAGE_ACPI_SIZE 0x10000ull

/* The GDT's selectors the 64-bit entry wants: __BOOT_CS and __BOOT_DS (boot.rst). */
#define BZIMAGE_CODE_SELECTOR 0x10u
#define BZIMAGE_DATA_SELECTOR 0x18u

#define BZIMAGE_E820_MAX 8 /* entries the loader writes at most */

/* e820 types (ACPI "Address Range Types"; zero-page.rst e820_table). */
enum bzimage_e820_type {
    BZIMAGE_E820_RAM = 1,
    BZIMAGE_E820_RESERVED = 2,
    BZIMAGE_E820_ACPI = 3,
};

struct bzimage_e820_entry {
    uint64_t address, size;
    uint32_t type;
};

/*
 * Where everything went, and the CPU state the 64-bit entry wants (boot.rst: long mode,
 * paging on with the identity map below, CS = __BOOT_CS (64-bit code), DS/ES/SS =
 * __BOOT_DS (flat data), interrupts off, RSI = boot_params_gpa, RIP = entry_gpa).
 */
struct bzimage_layout {
    uint64_t kernel_gpa;      /* the protected-mode kernel, copied here (pref_address) */
    uint64_t kernel_size;     /* bytes copied from the module */
    uint64_t kernel_extent;   /* bytes from kernel_gpa the kernel may use (init_size) */
    uint64_t entry_gpa;       /* startup_64 = kernel_gpa + 0x200 */
    uint64_t boot_params_gpa; /* the zero page: RSI at entry */
    uint64_t cmdline_gpa;
    uint64_t cmdline_size;    /* characters, without the NUL */
    uint64_t initrd_gpa;      /* 0 with no initrd */
    uint64_t initrd_size;
    uint64_t page_tables_gpa; /* the PML4: CR3 at entry */
    uint64_t page_tables_size;
    uint64_t identity_mapped; /* GPAs [0, identity_mapped) are identity-mapped, 2 MiB pages */
    uint64_t gdt_gpa;         /* GDTR base; the limit is gdt_limit */
    uint16_t gdt_limit;
    /* CS (BZIMAGE_CODE_SELECTOR) and DS/ES/SS (BZIMAGE_DATA_SELECTOR) as the GDT has them,
     * in the TLFS segment attribute layout: 0xA09B (64-bit code) and 0xC093 (flat data). */
    uint16_t code_attributes, data_attributes;
    uint64_t acpi_gpa, acpi_size; /* the e820 ACPI hole at the top of RAM */
    uint64_t cr0, cr3, cr4, efer; /* the control registers at entry */
    uint16_t protocol_version;    /* the setup header's version, e.g. 0x020F */
    unsigned e820_entries;
    struct bzimage_e820_entry e820[BZIMAGE_E820_MAX];
};

/* True when `image` has a setup header this loader can boot (64-bit entry, protocol
 * 2.12 or later, a protected-mode kernel inside the module). Reads nothing past size. */
bool bzimage_probe(const uint8_t *image, size_t size);

/* The GPA of the ACPI hole for a child with `ram_size` bytes of RAM (0 if RAM is too
 * small to hold one); the tables must lie inside [base, base + BZIMAGE_ACPI_SIZE). */
uint64_t bzimage_acpi_base(uint64_t ram_size);

/*
 * Loads the bzImage `image` into `ram` for a 64-bit entry: the protected-mode kernel at
 * pref_address, the initrd (optional: NULL and 0) as high as initrd_addr_max and the ACPI
 * hole allow, the command line (NULL = empty), boot_params (setup header copied from the
 * module, type_of_loader 0xFF, e820 map, acpi_rsdp_addr = acpi_rsdp_gpa, 0 = none), the
 * identity page tables and the GDT. `acpi_rsdp_gpa`, when not 0, must lie in the ACPI
 * hole. Everything is checked before the first byte is written. On failure `why`
 * (BZIMAGE_WHY_MAX bytes) says why and RAM is untouched; on success `why` is "".
 */
bool bzimage_load(const uint8_t *image, size_t size, const uint8_t *initrd,
                  size_t initrd_size, const char *cmdline, uint8_t *ram, uint64_t ram_size,
                  uint64_t acpi_rsdp_gpa, struct bzimage_layout *out, char *why);

#endif
