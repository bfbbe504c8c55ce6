/*
 * The logic of the physical page allocator, apart from the boot glue (kernel/page_alloc.c)
 * so that it runs on the host over synthetic memory maps.
 *
 * A binary buddy allocator over page frames 0 .. page_limit-1. Blocks of order k are 2^k
 * pages, aligned to 2^k pages physically (buddies are computed from frame 0), so an order-9
 * block is a 2 MiB-aligned 2 MiB range that a large page can map. The metadata lives in one
 * caller-given buffer, never inside the pages it describes:
 *   - block_state: one byte per frame; at the first frame of a block it says free/allocated
 *     and the order, elsewhere it is 0. Freeing checks it, so a double free or a free with
 *     the wrong order is refused without touching the lists.
 *   - free_map[k]: one bit per order-k block, set when that block is free. Allocation splits
 *     the smallest free block that fits (the lowest of that order), which keeps large blocks
 *     whole; a caller can ask for a block below a limit (tables the 32-bit AP trampoline
 *     loads, 32-bit DMA).
 * About 1.03 bytes of metadata per 4 KiB of the span below the highest usable address.
 * Not locked: the caller serializes.
 */
#ifndef HVFW_KERNEL_PAGE_POOL_H
#define HVFW_KERNEL_PAGE_POOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PAGE_SHIFT 12
#define PAGE_SIZE (1ull << PAGE_SHIFT)
/* 2^18 pages = 1 GiB: the largest block, which a 1 GiB page can map. */
#define PAGE_MAX_ORDER 18
/* 4-level paging and the architectural limit (AMD APM vol. 2, 5.3.1): 52-bit physical. */
#define PAGE_POOL_ADDRESS_LIMIT (1ull << 52)

/* A physical range [start, end), in bytes. Usable ranges are rounded inwards to whole
 * pages, reserved ranges outwards. */
struct page_range {
    uint64_t start;
    uint64_t end;
};

struct page_pool {
    uint64_t page_limit;  /* frames tracked: 0 .. page_limit-1 */
    uint8_t *block_state; /* page_limit bytes */
    uint64_t *free_map[PAGE_MAX_ORDER + 1];
    uint64_t free_map_words[PAGE_MAX_ORDER + 1];
    uint64_t search_from[PAGE_MAX_ORDER + 1]; /* no free block in words below this one */
    uint64_t total_pages; /* usable and not reserved at init */
    uint64_t free_pages;
};

enum page_pool_status {
    PAGE_POOL_OK = 0,
    PAGE_POOL_BAD_ARGUMENT,    /* order above PAGE_MAX_ORDER, misaligned or out-of-range pa */
    PAGE_POOL_DOUBLE_FREE,     /* the block is already free */
    PAGE_POOL_NOT_ALLOCATED,   /* not the start of an allocated block of that order */
    PAGE_POOL_METADATA_SMALL,  /* the metadata buffer is smaller than page_pool_metadata_size */
};

const char *page_pool_status_name(enum page_pool_status status);

/* One past the highest usable frame (usable ranges rounded inwards, clamped to
 * PAGE_POOL_ADDRESS_LIMIT); 0 if there is no usable page. */
uint64_t page_pool_page_limit(const struct page_range *usable, size_t usable_count);

/* Bytes of metadata page_pool_init needs to track frames below page_limit. */
uint64_t page_pool_metadata_size(uint64_t page_limit);

/* The lowest page-aligned address A with [A, A+size) inside one usable range, overlapping
 * no reserved range and ending at or below `below`. False when there is none. */
bool page_pool_find_space(const struct page_range *usable, size_t usable_count,
                          const struct page_range *reserved, size_t reserved_count,
                          uint64_t size, uint64_t below, uint64_t *out);

/* Frees into the pool every page below page_limit that lies in a usable range and in no
 * reserved range, in the largest aligned blocks that fit. Frame 0 is never free: address 0
 * means "no page". Ranges may overlap and come in any order. */
enum page_pool_status page_pool_init(struct page_pool *pool, uint64_t page_limit,
                                     const struct page_range *usable, size_t usable_count,
                                     const struct page_range *reserved, size_t reserved_count,
                                     void *metadata, uint64_t metadata_size);

/* The physical address of a free block of 2^order pages that ends at or below `below`
 * (UINT64_MAX: anywhere), now allocated; 0 if there is none. */
uint64_t page_pool_alloc(struct page_pool *pool, unsigned order, uint64_t below);

/* Returns an allocated block. Anything but the exact (address, order) of an allocated block
 * is refused and leaves the pool unchanged. */
enum page_pool_status page_pool_free(struct page_pool *pool, uint64_t pa, unsigned order);

#endif
