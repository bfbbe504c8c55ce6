/*
 * The ELF loader for child partitions: a boot module (ELF32 or ELF64, x86) is copied into
 * the child's RAM at its program headers' physical addresses (ELF: System V ABI, "Program
 * Header"; the child platform contract in images/guests/README.md).
 *
 * The module is hostile input: every header field is checked against the module's size
 * and the child's RAM before anything is copied, with 64-bit arithmetic that cannot wrap.
 * Pure and host-testable: the caller passes the module's bytes and a pointer to the RAM.
 */
#ifndef HVFW_ROOT_LOADER_H
#define HVFW_ROOT_LOADER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LOADER_ERROR_MAX 160

struct loader_result {
    uint64_t entry;      /* physical entry point (GPA), inside a loaded segment */
    unsigned class_bits; /* 32 or 64 */
    unsigned segments;   /* PT_LOAD segments copied */
    uint64_t low, high;  /* the lowest and the end of the highest loaded GPA */
    char error[LOADER_ERROR_MAX]; /* why loading failed ("" on success) */
};

/*
 * Loads `image` (`image_size` bytes) into `ram`, which backs GPAs [0, ram_size). Each
 * PT_LOAD segment: p_filesz bytes from p_offset go to GPA p_paddr, the rest up to p_memsz
 * is zeroed. The entry (e_entry, a virtual address) is translated through the segment
 * that contains it (p_paddr + e_entry - p_vaddr). On failure, *result->error says why and
 * RAM may hold a partial copy (the caller discards the child).
 */
bool loader_load_elf(const uint8_t *image, size_t image_size, uint8_t *ram, uint64_t ram_size,
                     struct loader_result *result);

#endif
