/*
 * sbrk over page-allocator blocks, and malloc's lock. newlib's nano-malloc asks sbrk for
 * exactly what it lacks and treats (void *)-1 as "no memory".
 */
#include "libc-glue/heap.h"

#include <errno.h>
#include <malloc.h>
#include <stdbool.h>
#include <unistd.h>

#include "kernel/log.h"
#include "kernel/page_alloc.h"
#include "kernel/spinlock.h"
#include "libc-glue/lock.h"

#define HEAP_MIN_ORDER 10     /* 4 MiB */
#define HEAP_MAX_ORDER 13     /* 32 MiB */
#define HEAP_FREE_SHARE 16    /* the first region takes at most 1/16 of free memory */
#define HEAP_SMALLEST_ORDER 4 /* 64 KiB: below this a heap is of no use */

/* [base, end) is reserved; [base, brk) belongs to malloc. [heap_lock] */
static struct {
    uintptr_t base;
    uintptr_t end;
    uintptr_t brk;
} heap;
static struct spinlock heap_lock = SPINLOCK_INIT;
static struct recursive_lock malloc_lock = RECURSIVE_LOCK_INIT;

static unsigned first_region_order(void)
{
    uint64_t share = page_alloc_free_bytes() / HEAP_FREE_SHARE;
    unsigned order = HEAP_MIN_ORDER;
    while (order < HEAP_MAX_ORDER && (PAGE_SIZE << (order + 1)) <= share)
        order++;
    return order;
}

/* The first region: the preferred size, or smaller ones while memory is short. */
static bool heap_create(void)
{
    for (unsigned order = first_region_order(); order >= HEAP_SMALLEST_ORDER; order--) {
        uint64_t pa = page_alloc(order);
        if (pa != 0) {
            heap.base = heap.brk = (uintptr_t)pa;
            heap.end = heap.base + (PAGE_SIZE << order);
            log_debug("heap: %zu KiB at %lx", (size_t)(PAGE_SIZE << order) >> 10, pa);
            return true;
        }
    }
    log_warn("heap: the page allocator has no block of %llu KiB or more",
             (PAGE_SIZE << HEAP_SMALLEST_ORDER) >> 10);
    return false;
}

/* Extends the region by at least `bytes`, if the page allocator's next block is adjacent. */
static bool heap_extend(size_t bytes)
{
    unsigned order = HEAP_MIN_ORDER;
    while (order <= PAGE_MAX_ORDER && (PAGE_SIZE << order) < bytes)
        order++;
    if (order > PAGE_MAX_ORDER)
        return false;
    uint64_t pa = page_alloc(order);
    if (pa == 0)
        return false;
    if ((uintptr_t)pa != heap.end) {
        page_free(pa, order);
        log_debug("heap: the next %llu KiB block is not adjacent, cannot grow",
                  (PAGE_SIZE << order) >> 10);
        return false;
    }
    heap.end += PAGE_SIZE << order;
    return true;
}

void *sbrk(ptrdiff_t increment)
{
    uint64_t flags = spin_lock_irqsave(&heap_lock);
    void *result = (void *)-1;
    if (heap.base == 0 && !heap_create()) {
        errno = ENOMEM;
        goto out;
    }
    if (increment < 0) {
        size_t shrink = (size_t)-increment;
        if (shrink > heap.brk - heap.base) {
            errno = EINVAL; /* would move the break below the start of the heap */
            goto out;
        }
        result = (void *)heap.brk;
        heap.brk -= shrink;
        goto out;
    }
    size_t grow = (size_t)increment;
    size_t room = heap.end - heap.brk;
    if (grow > room && !heap_extend(grow - room)) {
        errno = ENOMEM;
        goto out;
    }
    result = (void *)heap.brk;
    heap.brk += grow;
out:
    spin_unlock_irqrestore(&heap_lock, flags);
    return result;
}

void heap_get_stats(struct heap_stats *out)
{
    uint64_t flags = spin_lock_irqsave(&heap_lock);
    out->base = heap.base;
    out->size = heap.end - heap.base;
    out->used = heap.brk - heap.base;
    spin_unlock_irqrestore(&heap_lock, flags);
}

void __malloc_lock(struct _reent *reent)
{
    (void)reent;
    recursive_lock_acquire(&malloc_lock);
}

void __malloc_unlock(struct _reent *reent)
{
    (void)reent;
    recursive_lock_release(&malloc_lock);
}
