/*
 * What the boot loader told us, in one protocol-neutral form: the physical memory map,
 * the command line, the boot modules and (multiboot2 only) a copy of the ACPI RSDP.
 * bootinfo_parse() reads multiboot v1 or v2 through a `phys` accessor, so the same parser
 * runs on the host over captured structures. Loader data is checked as it is read: sizes
 * that would run past their container end the walk with an error instead of a wild read.
 */
#ifndef HVFW_KERNEL_BOOTINFO_H
#define HVFW_KERNEL_BOOTINFO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BOOT_MAX_REGIONS 128
#define BOOT_MAX_MODULES 16
#define BOOT_CMDLINE_MAX 1024
#define BOOT_MODULE_NAME_MAX 64
#define BOOT_MODULE_ARGS_MAX 256

/* Region types follow E820 / ACPI "Address Range Types" (ACPI 6.5, 15.3). */
enum boot_region_type {
    BOOT_REGION_USABLE = 1,
    BOOT_REGION_RESERVED = 2,
    BOOT_REGION_ACPI_RECLAIMABLE = 3,
    BOOT_REGION_ACPI_NVS = 4,
    BOOT_REGION_BAD = 5,
};

struct boot_region {
    uint64_t base;
    uint64_t length;
    uint32_t type;
};

struct boot_module {
    uint64_t start; /* physical, inclusive */
    uint64_t end;   /* physical, exclusive */
    char name[BOOT_MODULE_NAME_MAX];  /* file name: the last path element of the first word */
    char args[BOOT_MODULE_ARGS_MAX];  /* what followed the file name */
};

enum boot_protocol {
    BOOT_PROTOCOL_MULTIBOOT1 = 1,
    BOOT_PROTOCOL_MULTIBOOT2 = 2,
};

struct boot_info {
    enum boot_protocol protocol;
    char cmdline[BOOT_CMDLINE_MAX];
    struct boot_region regions[BOOT_MAX_REGIONS];
    size_t region_count;
    bool memory_map_from_efi; /* multiboot2 gave an EFI memory map and we used it */
    struct boot_module modules[BOOT_MAX_MODULES];
    size_t module_count;
    bool has_rsdp;           /* multiboot2 ACPI tag: a copy of the RSDP */
    uint8_t rsdp[36];        /* ACPI 6.5, 5.2.5.3: 20 bytes (v1) or 36 bytes (v2) */
    size_t rsdp_length;
};

/* Maps [pa, pa+len) for reading; returns NULL if that range cannot be read. */
typedef const void *(*bootinfo_phys_fn)(uint64_t pa, size_t len, void *ctx);

enum bootinfo_status {
    BOOTINFO_OK = 0,
    BOOTINFO_BAD_MAGIC,
    BOOTINFO_UNREADABLE,    /* the accessor refused an address the loader gave */
    BOOTINFO_MALFORMED,     /* a size or count that does not fit its container */
    BOOTINFO_NO_MEMORY_MAP,
};

enum bootinfo_status bootinfo_parse(uint32_t magic, uint64_t info_pa, bootinfo_phys_fn phys,
                                    void *ctx, struct boot_info *out);
const char *bootinfo_status_name(enum bootinfo_status status);

/* Sum of usable RAM in bytes. */
uint64_t bootinfo_usable_bytes(const struct boot_info *info);

#endif
