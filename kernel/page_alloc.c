/*
 * Boot glue of the page allocator: turns the loader's memory map into the usable and
 * reserved ranges kernel/page_pool.c works on, places the pool's metadata in RAM the boot
 * page tables map, and serializes CPUs with one lock.
 */
#include "kernel/page_alloc.h"

#include <stdbool.h>
#include <string.h>

#include "kernel/log.h"
#include "kernel/main.h"
#include "kernel/spinlock.h"

/* Real-mode IVT and BDA, the EBDA, video memory and BIOS ROMs, and the SMP trampoline. */
#define LOW_MEMORY_END 0x100000ull
/* kernel/boot.S identity-maps the first 4 GiB until paging_init runs. */
#define BOOT_MAPPED_LIMIT (1ull << 32)

/* kernel/linker.ld */
extern char __image_start[], __image_end[];

static struct spinlock pool_lock = SPINLOCK_INIT;
static struct page_pool pool;
static bool all_ram_mapped;

/* Scratch for page_alloc_init only (the boot CPU, once). */
static struct page_range usable[BOOT_MAX_REGIONS];
static struct page_range reserved[BOOT_MAX_REGIONS + BOOT_MAX_MODULES + 3];

/* The largest end of a usable range, in frames, below `limit`: the next candidate page
 * limit when the metadata for `limit` does not fit. */
static uint64_t next_lower_limit(size_t usable_count, uint64_t limit)
{
    uint64_t best = 0;
    for (size_t i = 0; i < usable_count; i++) {
        uint64_t end = usable[i].end > PAGE_POOL_ADDRESS_LIMIT ? PAGE_POOL_ADDRESS_LIMIT
                                                               : usable[i].end;
        uint64_t frames = end >> PAGE_SHIFT;
        if (frames < limit && frames > best)
            best = frames;
    }
    return best;
}

void page_alloc_init(const struct boot_info *info)
{
    size_t usable_count = 0, reserved_count = 0;
    reserved[reserved_count++] = (struct page_range){0, LOW_MEMORY_END};
    reserved[reserved_count++] =
        (struct page_range){(uint64_t)(uintptr_t)__image_start, (uint64_t)(uintptr_t)__image_end};
    for (size_t i = 0; i < info->region_count; i++) {
        const struct boot_region *r = &info->regions[i];
        struct page_range range = {r->base, r->base + r->length}; /* bootinfo drops wraps */
        if (r->type == BOOT_REGION_USABLE)
            usable[usable_count++] = range;
        else
            reserved[reserved_count++] = range;
    }
    for (size_t i = 0; i < info->module_count; i++)
        reserved[reserved_count++] =
            (struct page_range){info->modules[i].start, info->modules[i].end};

    /* The metadata must be reachable through the boot page tables. If it does not fit
     * there (a huge sparse map), give up RAM from the top until it does. */
    uint64_t limit = page_pool_page_limit(usable, usable_count);
    uint64_t metadata_size = 0, metadata_pa = 0;
    while (limit > 0) {
        metadata_size = (page_pool_metadata_size(limit) + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);
        if (page_pool_find_space(usable, usable_count, reserved, reserved_count, metadata_size,
                                 BOOT_MAPPED_LIMIT, &metadata_pa))
            break;
        uint64_t lower = next_lower_limit(usable_count, limit);
        log_warn("page_alloc: no room below 4 GiB for %lu KiB of metadata; ignoring RAM "
                 "above %lx", metadata_size >> 10, lower << PAGE_SHIFT);
        limit = lower;
    }
    if (limit == 0)
        kernel_stop("page_alloc: the memory map has no usable RAM above 1 MiB for the "
                    "allocator");
    reserved[reserved_count++] = (struct page_range){metadata_pa, metadata_pa + metadata_size};

    uint64_t flags = spin_lock_irqsave(&pool_lock);
    enum page_pool_status st = page_pool_init(&pool, limit, usable, usable_count, reserved,
                                              reserved_count, (void *)(uintptr_t)metadata_pa,
                                              metadata_size);
    spin_unlock_irqrestore(&pool_lock, flags);
    if (st != PAGE_POOL_OK)
        kernel_stop("page_alloc: cannot build the pool: %s", page_pool_status_name(st));
    log_debug("page_alloc: frames below %lx tracked, metadata %lu KiB at %lx",
              limit << PAGE_SHIFT, metadata_size >> 10, metadata_pa);
}

uint64_t page_alloc_below(unsigned order, uint64_t below)
{
    uint64_t flags = spin_lock_irqsave(&pool_lock);
    uint64_t pa = page_pool_alloc(&pool, order, below);
    spin_unlock_irqrestore(&pool_lock, flags);
    return pa;
}

uint64_t page_alloc(unsigned order)
{
    return page_alloc_below(order, UINT64_MAX);
}

uint64_t page_alloc_zeroed(unsigned order)
{
    uint64_t below = __atomic_load_n(&all_ram_mapped, __ATOMIC_ACQUIRE) ? UINT64_MAX
                                                                         : BOOT_MAPPED_LIMIT;
    uint64_t pa = page_alloc_below(order, below);
    if (pa)
        memset((void *)(uintptr_t)pa, 0, PAGE_SIZE << order);
    return pa;
}

void page_free(uint64_t pa, unsigned order)
{
    uint64_t flags = spin_lock_irqsave(&pool_lock);
    enum page_pool_status st = page_pool_free(&pool, pa, order);
    spin_unlock_irqrestore(&pool_lock, flags);
    if (st != PAGE_POOL_OK)
        log_error("page_free(%lx, order %u) from %p refused: %s", pa, order,
                  __builtin_return_address(0), page_pool_status_name(st));
}

uint64_t page_alloc_free_bytes(void)
{
    return __atomic_load_n(&pool.free_pages, __ATOMIC_RELAXED) << PAGE_SHIFT;
}

uint64_t page_alloc_total_bytes(void)
{
    return pool.total_pages << PAGE_SHIFT;
}

void page_alloc_all_ram_mapped(void)
{
    __atomic_store_n(&all_ram_mapped, true, __ATOMIC_RELEASE);
}
