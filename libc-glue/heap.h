/*
 * The root partition's C heap: one contiguous region that newlib's malloc grows through
 * sbrk(). It is carved from the page allocator on first use (a power of two between 4 and
 * 32 MiB, 1/16 of free memory) and grows only when a further block happens to be adjacent;
 * otherwise sbrk fails with ENOMEM and malloc returns NULL. It never overlaps anything else.
 *
 * Implements (declared by newlib): sbrk, and __malloc_lock/__malloc_unlock (<malloc.h>),
 * which serialize malloc between CPUs.
 */
#ifndef HVFW_LIBC_GLUE_HEAP_H
#define HVFW_LIBC_GLUE_HEAP_H

#include <stddef.h>
#include <stdint.h>

struct heap_stats {
    uintptr_t base; /* first byte of the region, 0 before the first sbrk */
    size_t size;    /* bytes of the region */
    size_t used;    /* bytes below the break, handed to malloc */
};

/* The region malloc grows into (root memory, mapped read/write). */
void heap_init(uintptr_t base, size_t size);
void heap_get_stats(struct heap_stats *out);

#endif
