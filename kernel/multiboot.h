/*
 * Multiboot v1 and v2 structures, as the boot loader hands them to us.
 * Layouts: Multiboot Specification 0.6.96 (v1), Multiboot2 Specification 2.0 (v2).
 */
#ifndef HVFW_KERNEL_MULTIBOOT_H
#define HVFW_KERNEL_MULTIBOOT_H

#define MULTIBOOT1_HEADER_MAGIC 0x1BADB002u
#define MULTIBOOT1_LOADER_MAGIC 0x2BADB002u
#define MULTIBOOT2_HEADER_MAGIC 0xE85250D6u
#define MULTIBOOT2_LOADER_MAGIC 0x36D76289u

#ifndef __ASSEMBLY__
#include <stdint.h>

/* v1 info flags (spec 3.3) */
#define MB1_INFO_MEM (1u << 0)
#define MB1_INFO_CMDLINE (1u << 2)
#define MB1_INFO_MODS (1u << 3)
#define MB1_INFO_MMAP (1u << 6)

struct mb1_info {
    uint32_t flags;
    uint32_t mem_lower, mem_upper;
    uint32_t boot_device;
    uint32_t cmdline;
    uint32_t mods_count, mods_addr;
    uint32_t syms[4];
    uint32_t mmap_length, mmap_addr;
    /* drives, config table, loader name, APM, VBE, framebuffer follow; unused. */
} __attribute__((packed));

struct mb1_module {
    uint32_t mod_start, mod_end;
    uint32_t string;
    uint32_t reserved;
} __attribute__((packed));

/* v1 mmap entries: `size` does not count itself. */
struct mb1_mmap_entry {
    uint32_t size;
    uint64_t base;
    uint64_t length;
    uint32_t type;
} __attribute__((packed));

/* v2 (spec 3.6): a fixed header, then 8-byte aligned tags, ending with type 0. */
struct mb2_info_header {
    uint32_t total_size;
    uint32_t reserved;
};

struct mb2_tag {
    uint32_t type;
    uint32_t size;
};

enum mb2_tag_type {
    MB2_TAG_END = 0,
    MB2_TAG_CMDLINE = 1,
    MB2_TAG_LOADER_NAME = 2,
    MB2_TAG_MODULE = 3,
    MB2_TAG_BASIC_MEMINFO = 4,
    MB2_TAG_MMAP = 6,
    MB2_TAG_EFI64 = 12,
    MB2_TAG_ACPI_OLD = 14,
    MB2_TAG_ACPI_NEW = 15,
    MB2_TAG_EFI_MMAP = 17,
    MB2_TAG_EFI_BS_NOT_TERMINATED = 18,
};

struct mb2_tag_module {
    uint32_t type, size;
    uint32_t mod_start, mod_end;
    /* NUL-terminated string follows */
};

struct mb2_tag_mmap {
    uint32_t type, size;
    uint32_t entry_size, entry_version;
    /* entries follow */
};

struct mb2_mmap_entry {
    uint64_t base;
    uint64_t length;
    uint32_t type;
    uint32_t reserved;
};

struct mb2_tag_efi_mmap {
    uint32_t type, size;
    uint32_t descriptor_size, descriptor_version;
    /* EFI_MEMORY_DESCRIPTORs follow (UEFI spec 7.2, GetMemoryMap) */
};

struct efi_memory_descriptor {
    uint32_t type;
    uint32_t pad;
    uint64_t physical_start;
    uint64_t virtual_start;
    uint64_t number_of_pages;
    uint64_t attribute;
};
#endif /* __ASSEMBLY__ */
#endif
