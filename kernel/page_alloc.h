/*
 * The physical page allocator: every usable page of the memory map except the first 1 MiB
 * (IVT, BDA, EBDA, the SMP trampoline), the image and the boot modules, in blocks of 2^order
 * pages aligned to their size (kernel/page_pool.h has the buddy logic). Safe to call from
 * any CPU; physical addresses are identity-mapped (kernel/paging.h), so a returned address
 * is also a pointer: `(void *)(uintptr_t)pa`.
 */
#ifndef HVFW_KERNEL_PAGE_ALLOC_H
#define HVFW_KERNEL_PAGE_ALLOC_H

#include <stdint.h>

#include "kernel/bootinfo.h"
#include "kernel/page_pool.h"

/* Builds the pool from the memory map; stops the kernel if its metadata cannot be placed. */
void page_alloc_init(const struct boot_info *info);

/* The physical address of 2^order free pages (order <= PAGE_MAX_ORDER), or 0 if none. */
uint64_t page_alloc(unsigned order);
/* Same, filled with zeros. */
uint64_t page_alloc_zeroed(unsigned order);
/* Same, ending at or below `below` (e.g. 4 GiB for tables a 32-bit CPU mode loads or for
 * 32-bit DMA); not zeroed. */
uint64_t page_alloc_below(unsigned order, uint64_t below);
/* Returns a block. A double free, a wrong order or a foreign address is logged and refused. */
void page_free(uint64_t pa, unsigned order);

uint64_t page_alloc_free_bytes(void);
uint64_t page_alloc_total_bytes(void);

/* Called by paging_init once every usable page is mapped: until then page_alloc_zeroed
 * only hands out pages the boot page tables map (below 4 GiB), since it writes them. */
void page_alloc_all_ram_mapped(void);

#endif
