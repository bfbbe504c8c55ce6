/*
 * sbrk over one region of root memory (given by root_start through heap_init), and
 * malloc's lock. newlib's malloc asks sbrk for what it lacks and treats (void *)-1 as
 * "no memory".
 */
#include "libc-glue/heap.h"

#include <errno.h>
#include <malloc.h>
#include <stdbool.h>
#include <unistd.h>

#include "kernel/spinlock.h"
#include "libc-glue/lock.h"

/* [base, end) is the heap region the root gave us; [base, brk) belongs to malloc.
 * [heap_lock] */
static struct {
    uintptr_t base;
    uintptr_t end;
    uintptr_t brk;
} heap;
static struct spinlock heap_lock = SPINLOCK_INIT;
static struct recursive_lock malloc_lock = RECURSIVE_LOCK_INIT;

void heap_init(uintptr_t base, size_t size)
{
    uint64_t flags = spin_lock_irqsave(&heap_lock);
    heap.base = heap.brk = base;
    heap.end = base + size;
    spin_unlock_irqrestore(&heap_lock, flags);
}

void *sbrk(ptrdiff_t increment)
{
    uint64_t flags = spin_lock_irqsave(&heap_lock);
    void *result = (void *)-1;
    if (heap.base == 0) {
        errno = ENOMEM; /* heap_init has not run */
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
    if (grow > room) {
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
