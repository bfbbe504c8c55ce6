/*
 * The root partition's physical memory: the ranges the hypervisor handed it
 * (hv/root_abi.h), allocated from `free_start` on. The root's GPA is its address (identity
 * page tables), so what this returns is usable as a pointer and as a GPA for hypercalls.
 */
#ifndef HVFW_ROOT_MEMORY_H
#define HVFW_ROOT_MEMORY_H

#include <stddef.h>
#include <stdint.h>

#include "hv/root_abi.h"

void root_memory_init(const struct root_boot_info *info);
/* `size` bytes aligned to `align` (a power of two, at least 4 KiB); 0 if none is left.
 * Memory is not returned yet: the root allocates at start and for child partitions. */
uint64_t root_memory_alloc(uint64_t size, uint64_t align);
/* `bytes` rounded up to whole pages, page-aligned and zeroed, as a pointer (the address a
 * device is given for DMA too); NULL if none is left. */
void *root_memory_alloc_zeroed(size_t bytes);
uint64_t root_memory_total_bytes(void);
uint64_t root_memory_free_bytes(void);

#endif
