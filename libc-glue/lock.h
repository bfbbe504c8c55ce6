/*
 * Recursive CPU locks for newlib. newlib is configured with retargetable locking
 * (tools/build/newlib.sh): its stdio, malloc, atexit, environment and time-zone code call
 * __retarget_lock_* (newlib <sys/lock.h>), implemented here on ticket spinlocks, because
 * several CPUs will run root code.
 *
 * A recursive_lock may be taken again by the CPU that holds it (newlib's "recursive" locks
 * are, e.g. fprintf inside a stdio lock). Interrupts stay disabled while it is held, so an
 * interrupt handler on the same CPU cannot find the protected data half-updated.
 */
#ifndef HVFW_LIBC_GLUE_LOCK_H
#define HVFW_LIBC_GLUE_LOCK_H

#include <stdbool.h>
#include <stdint.h>

#include "kernel/spinlock.h"

struct recursive_lock {
    struct spinlock spin;
    volatile uint32_t owner; /* CPU index + 1 of the holder, 0 when free */
    uint32_t depth;          /* acquisitions by the holder, [owner] */
    uint64_t saved_flags;    /* RFLAGS before the first acquisition, [owner] */
};

#define RECURSIVE_LOCK_INIT {SPINLOCK_INIT, 0, 0, 0}

void recursive_lock_acquire(struct recursive_lock *lock);
/* False, without waiting, if another CPU holds it. */
bool recursive_lock_try_acquire(struct recursive_lock *lock);
/* Stops the hypervisor if the calling CPU does not hold the lock: a broken invariant. */
void recursive_lock_release(struct recursive_lock *lock);

#endif
