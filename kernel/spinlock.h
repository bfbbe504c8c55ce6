/* A ticket spinlock: fair between CPUs, so a busy CPU cannot starve the others. */
#ifndef HVFW_KERNEL_SPINLOCK_H
#define HVFW_KERNEL_SPINLOCK_H

#include <stdint.h>

#include "kernel/x86.h"

struct spinlock {
    volatile uint32_t next;
    volatile uint32_t owner;
};

#define SPINLOCK_INIT {0, 0}

static inline void spin_lock(struct spinlock *lock)
{
    uint32_t ticket = __atomic_fetch_add(&lock->next, 1, __ATOMIC_RELAXED);
    while (__atomic_load_n(&lock->owner, __ATOMIC_ACQUIRE) != ticket)
        cpu_relax();
}

static inline void spin_unlock(struct spinlock *lock)
{
    __atomic_store_n(&lock->owner, lock->owner + 1, __ATOMIC_RELEASE);
}

/* Interrupt-safe variants: the saved RFLAGS restores IF as it was. */
static inline uint64_t spin_lock_irqsave(struct spinlock *lock)
{
    uint64_t flags = read_rflags();
    interrupts_disable();
    spin_lock(lock);
    return flags;
}

static inline void spin_unlock_irqrestore(struct spinlock *lock, uint64_t flags)
{
    spin_unlock(lock);
    if (flags & RFLAGS_IF)
        interrupts_enable();
}

#endif
