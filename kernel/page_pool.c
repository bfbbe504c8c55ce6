#include "kernel/page_pool.h"

#include <string.h>

/* block_state bytes: the first frame of a block holds its state and order, others 0. */
#define BLOCK_FREE 0x80u
#define BLOCK_ALLOCATED 0x40u
#define BLOCK_ORDER_MASK 0x1Fu

#define NO_BIT UINT64_MAX

static uint64_t clamp_address(uint64_t a)
{
    return a > PAGE_POOL_ADDRESS_LIMIT ? PAGE_POOL_ADDRESS_LIMIT : a;
}

/* Usable: whole pages inside the range. */
static struct page_range usable_pages(struct page_range r)
{
    uint64_t start = (clamp_address(r.start) + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);
    uint64_t end = clamp_address(r.end) & ~(PAGE_SIZE - 1);
    return (struct page_range){start, end > start ? end : start};
}

/* Reserved: every page the range touches. */
static struct page_range reserved_pages(struct page_range r)
{
    uint64_t start = clamp_address(r.start) & ~(PAGE_SIZE - 1);
    uint64_t end = (clamp_address(r.end) + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);
    return (struct page_range){start, end > start ? end : start};
}

static uint64_t words_for_bits(uint64_t bits)
{
    return (bits + 63) / 64;
}

static uint64_t blocks_of_order(uint64_t page_limit, unsigned order)
{
    return (page_limit + (1ull << order) - 1) >> order;
}

static void bit_set(uint64_t *map, uint64_t bit)
{
    map[bit / 64] |= 1ull << (bit % 64);
}

static void bit_clear(uint64_t *map, uint64_t bit)
{
    map[bit / 64] &= ~(1ull << (bit % 64));
}

/* Sets or clears bits [from, to), a word at a time where it can. */
static void bits_assign(uint64_t *map, uint64_t from, uint64_t to, bool value)
{
    while (from < to) {
        if (from % 64 == 0 && to - from >= 64) {
            map[from / 64] = value ? UINT64_MAX : 0;
            from += 64;
        } else {
            if (value)
                bit_set(map, from);
            else
                bit_clear(map, from);
            from++;
        }
    }
}

/* The first bit in [from, to) equal to `value`, or NO_BIT. */
static uint64_t bits_find(const uint64_t *map, uint64_t from, uint64_t to, bool value)
{
    while (from < to) {
        uint64_t word = map[from / 64];
        if (!value)
            word = ~word;
        word &= UINT64_MAX << (from % 64);
        if (word) {
            uint64_t bit = (from & ~63ull) + (uint64_t)__builtin_ctzll(word);
            return bit < to ? bit : NO_BIT;
        }
        from = (from & ~63ull) + 64;
    }
    return NO_BIT;
}

const char *page_pool_status_name(enum page_pool_status status)
{
    switch (status) {
    case PAGE_POOL_OK:
        return "ok";
    case PAGE_POOL_BAD_ARGUMENT:
        return "bad argument (order too large, misaligned or outside the pool)";
    case PAGE_POOL_DOUBLE_FREE:
        return "double free (the block is already free)";
    case PAGE_POOL_NOT_ALLOCATED:
        return "not an allocated block of that order";
    case PAGE_POOL_METADATA_SMALL:
        return "metadata buffer too small";
    }
    return "unknown";
}

uint64_t page_pool_page_limit(const struct page_range *usable, size_t usable_count)
{
    uint64_t limit = 0;
    for (size_t i = 0; i < usable_count; i++) {
        struct page_range r = usable_pages(usable[i]);
        if (r.end > r.start && (r.end >> PAGE_SHIFT) > limit)
            limit = r.end >> PAGE_SHIFT;
    }
    return limit;
}

uint64_t page_pool_metadata_size(uint64_t page_limit)
{
    uint64_t size = (page_limit + 7) & ~7ull; /* block_state, then 8-byte aligned maps */
    for (unsigned k = 0; k <= PAGE_MAX_ORDER; k++)
        size += words_for_bits(blocks_of_order(page_limit, k)) * sizeof(uint64_t);
    return size;
}

static bool range_is_free(const struct page_range *usable, size_t usable_count,
                          const struct page_range *reserved, size_t reserved_count,
                          uint64_t start, uint64_t end)
{
    bool inside = false;
    for (size_t i = 0; i < usable_count && !inside; i++) {
        struct page_range u = usable_pages(usable[i]);
        inside = u.start <= start && end <= u.end;
    }
    if (!inside)
        return false;
    for (size_t i = 0; i < reserved_count; i++) {
        struct page_range r = reserved_pages(reserved[i]);
        if (r.start < end && start < r.end)
            return false;
    }
    return true;
}

bool page_pool_find_space(const struct page_range *usable, size_t usable_count,
                          const struct page_range *reserved, size_t reserved_count,
                          uint64_t size, uint64_t below, uint64_t *out)
{
    if (size == 0 || size > PAGE_POOL_ADDRESS_LIMIT)
        return false;
    size = (size + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);
    below = clamp_address(below);
    /* The lowest fit starts where a usable range starts or a reserved range ends. */
    bool found = false;
    uint64_t best = 0;
    for (size_t i = 0; i < usable_count + reserved_count; i++) {
        uint64_t start = i < usable_count ? usable_pages(usable[i]).start
                                          : reserved_pages(reserved[i - usable_count]).end;
        if (start == 0)
            start = PAGE_SIZE; /* address 0 means "no page" */
        if (start > below || below - start < size || (found && start >= best))
            continue;
        if (range_is_free(usable, usable_count, reserved, reserved_count, start, start + size)) {
            best = start;
            found = true;
        }
    }
    if (found)
        *out = best;
    return found;
}

static void add_free_block(struct page_pool *pool, uint64_t frame, unsigned order)
{
    uint64_t index = frame >> order;
    pool->block_state[frame] = (uint8_t)(BLOCK_FREE | order);
    bit_set(pool->free_map[order], index);
    if (index / 64 < pool->search_from[order])
        pool->search_from[order] = index / 64;
}

static void remove_free_block(struct page_pool *pool, uint64_t frame, unsigned order)
{
    pool->block_state[frame] = 0;
    bit_clear(pool->free_map[order], frame >> order);
}

/* [start, end) in frames, in the largest naturally aligned blocks that fit. */
static void add_free_run(struct page_pool *pool, uint64_t start, uint64_t end)
{
    while (start < end) {
        unsigned order = (unsigned)__builtin_ctzll(start); /* start > 0: frame 0 is never free */
        if (order > PAGE_MAX_ORDER)
            order = PAGE_MAX_ORDER;
        while ((1ull << order) > end - start)
            order--;
        add_free_block(pool, start, order);
        pool->free_pages += 1ull << order;
        start += 1ull << order;
    }
}

enum page_pool_status page_pool_init(struct page_pool *pool, uint64_t page_limit,
                                     const struct page_range *usable, size_t usable_count,
                                     const struct page_range *reserved, size_t reserved_count,
                                     void *metadata, uint64_t metadata_size)
{
    memset(pool, 0, sizeof(*pool));
    if (page_limit > (PAGE_POOL_ADDRESS_LIMIT >> PAGE_SHIFT))
        return PAGE_POOL_BAD_ARGUMENT;
    uint64_t need = page_pool_metadata_size(page_limit);
    if (metadata_size < need)
        return PAGE_POOL_METADATA_SMALL;
    memset(metadata, 0, need);
    pool->page_limit = page_limit;
    pool->block_state = metadata;
    uint64_t *words = (uint64_t *)((uint8_t *)metadata + ((page_limit + 7) & ~7ull));
    for (unsigned k = 0; k <= PAGE_MAX_ORDER; k++) {
        pool->free_map[k] = words;
        pool->free_map_words[k] = words_for_bits(blocks_of_order(page_limit, k));
        pool->search_from[k] = pool->free_map_words[k];
        words += pool->free_map_words[k];
    }
    if (page_limit == 0)
        return PAGE_POOL_OK;

    /* The order-0 map first serves as the set of available frames: usable minus reserved. */
    uint64_t *available = pool->free_map[0];
    uint64_t limit_bytes = page_limit << PAGE_SHIFT;
    for (size_t i = 0; i < usable_count; i++) {
        struct page_range r = usable_pages(usable[i]);
        if (r.end > limit_bytes)
            r.end = limit_bytes;
        if (r.start < r.end)
            bits_assign(available, r.start >> PAGE_SHIFT, r.end >> PAGE_SHIFT, true);
    }
    for (size_t i = 0; i < reserved_count; i++) {
        struct page_range r = reserved_pages(reserved[i]);
        if (r.end > limit_bytes)
            r.end = limit_bytes;
        if (r.start < r.end)
            bits_assign(available, r.start >> PAGE_SHIFT, r.end >> PAGE_SHIFT, false);
    }
    bit_clear(available, 0);

    /* Each run of available frames becomes free blocks. Order-0 blocks set bits again in
     * `available`, but only behind the scan position. */
    uint64_t frame = 0;
    while ((frame = bits_find(available, frame, page_limit, true)) != NO_BIT) {
        uint64_t end = bits_find(available, frame, page_limit, false);
        if (end == NO_BIT)
            end = page_limit;
        bits_assign(available, frame, end, false);
        add_free_run(pool, frame, end);
        frame = end;
    }
    pool->total_pages = pool->free_pages;
    return PAGE_POOL_OK;
}

uint64_t page_pool_alloc(struct page_pool *pool, unsigned order, uint64_t below)
{
    if (order > PAGE_MAX_ORDER)
        return 0;
    uint64_t below_frames = below >> PAGE_SHIFT;
    if (below_frames > pool->page_limit)
        below_frames = pool->page_limit;
    for (unsigned k = order; k <= PAGE_MAX_ORDER; k++) {
        uint64_t blocks_below = below_frames >> k; /* blocks that end at or below the limit */
        uint64_t index =
            bits_find(pool->free_map[k], pool->search_from[k] * 64, blocks_below, true);
        if (index == NO_BIT) {
            /* Every bit below blocks_below is clear, so whole words below it are empty. */
            if (blocks_below / 64 > pool->search_from[k])
                pool->search_from[k] = blocks_below / 64;
            continue;
        }
        pool->search_from[k] = index / 64;
        uint64_t frame = index << k;
        remove_free_block(pool, frame, k);
        while (k > order) { /* hand the upper halves back */
            k--;
            add_free_block(pool, frame + (1ull << k), k);
        }
        pool->block_state[frame] = (uint8_t)(BLOCK_ALLOCATED | order);
        pool->free_pages -= 1ull << order;
        return frame << PAGE_SHIFT;
    }
    return 0;
}

/* Whether frame lies inside a free block of order above `order` (a partial double free). */
static bool inside_larger_free_block(const struct page_pool *pool, uint64_t frame,
                                     unsigned order)
{
    for (unsigned k = order + 1; k <= PAGE_MAX_ORDER; k++) {
        uint64_t head = frame & ~((1ull << k) - 1);
        if (pool->block_state[head] == (BLOCK_FREE | k))
            return true;
    }
    return false;
}

enum page_pool_status page_pool_free(struct page_pool *pool, uint64_t pa, unsigned order)
{
    if (order > PAGE_MAX_ORDER || (pa & (PAGE_SIZE - 1)) != 0)
        return PAGE_POOL_BAD_ARGUMENT;
    uint64_t frame = pa >> PAGE_SHIFT;
    uint64_t pages = 1ull << order;
    if ((frame & (pages - 1)) != 0 || frame >= pool->page_limit ||
        pool->page_limit - frame < pages)
        return PAGE_POOL_BAD_ARGUMENT;
    uint8_t state = pool->block_state[frame];
    if (state != (BLOCK_ALLOCATED | order)) {
        if ((state & BLOCK_FREE) || inside_larger_free_block(pool, frame, order))
            return PAGE_POOL_DOUBLE_FREE;
        return PAGE_POOL_NOT_ALLOCATED;
    }
    pool->block_state[frame] = 0;
    pool->free_pages += pages;
    unsigned k = order;
    while (k < PAGE_MAX_ORDER) {
        uint64_t buddy = frame ^ (1ull << k);
        if (buddy >= pool->page_limit || pool->page_limit - buddy < (1ull << k) ||
            pool->block_state[buddy] != (BLOCK_FREE | k))
            break;
        remove_free_block(pool, buddy, k);
        frame &= ~(1ull << k);
        k++;
    }
    add_free_block(pool, frame, k);
    return PAGE_POOL_OK;
}
