/*
 * newlib's retargetable locks (newlib/libc/misc/lock.c lists what must be provided: the
 * functions below and the static lock objects of the __LOCK_INIT sites in the library).
 * Defining all of them keeps newlib's no-op lock.o out of the link.
 */
#include "libc-glue/lock.h"

#include <stdlib.h>
#include <sys/lock.h>

#include "root/cpu.h"
#include "root/log.h"
#include "kernel/x86.h"

static uint32_t this_cpu_tag(void)
{
    return root_vp_index() + 1;
}

static bool spin_try_lock(struct spinlock *lock)
{
    uint32_t owner = __atomic_load_n(&lock->owner, __ATOMIC_RELAXED);
    uint32_t expected = owner;
    /* The lock is free when no ticket beyond the owner's was handed out. */
    return __atomic_compare_exchange_n(&lock->next, &expected, owner + 1, false,
                                       __ATOMIC_ACQUIRE, __ATOMIC_RELAXED);
}

static bool held_by_this_cpu(struct recursive_lock *lock)
{
    /* Only this CPU can store its own tag, so a stale read never matches falsely. */
    return __atomic_load_n(&lock->owner, __ATOMIC_RELAXED) == this_cpu_tag();
}

void recursive_lock_acquire(struct recursive_lock *lock)
{
    uint64_t flags = read_rflags();
    interrupts_disable();
    if (held_by_this_cpu(lock)) {
        lock->depth++;
        return;
    }
    spin_lock(&lock->spin);
    lock->owner = this_cpu_tag();
    lock->depth = 1;
    lock->saved_flags = flags;
}

bool recursive_lock_try_acquire(struct recursive_lock *lock)
{
    uint64_t flags = read_rflags();
    interrupts_disable();
    if (held_by_this_cpu(lock)) {
        lock->depth++;
        return true;
    }
    if (!spin_try_lock(&lock->spin)) {
        if (flags & RFLAGS_IF)
            interrupts_enable();
        return false;
    }
    lock->owner = this_cpu_tag();
    lock->depth = 1;
    lock->saved_flags = flags;
    return true;
}

void recursive_lock_release(struct recursive_lock *lock)
{
    if (!held_by_this_cpu(lock) || lock->depth == 0)
        root_stop("libc lock %p released by cpu%u, which does not hold it", (void *)lock,
                    root_vp_index());
    if (--lock->depth > 0)
        return;
    uint64_t flags = lock->saved_flags;
    lock->owner = 0;
    spin_unlock(&lock->spin);
    if (flags & RFLAGS_IF)
        interrupts_enable();
}

/* newlib's opaque lock type. `dynamic` locks come from malloc (one per FILE). */
struct __lock {
    struct recursive_lock lock;
    bool recursive;
    bool dynamic;
};

#define STATIC_LOCK(name, is_recursive) \
    struct __lock name = {RECURSIVE_LOCK_INIT, is_recursive, false}

STATIC_LOCK(__lock___sinit_recursive_mutex, true);
STATIC_LOCK(__lock___sfp_recursive_mutex, true);
STATIC_LOCK(__lock___atexit_recursive_mutex, true);
STATIC_LOCK(__lock___at_quick_exit_mutex, false);
STATIC_LOCK(__lock___malloc_recursive_mutex, true);
STATIC_LOCK(__lock___env_recursive_mutex, true);
STATIC_LOCK(__lock___tz_mutex, false);
STATIC_LOCK(__lock___dd_hash_mutex, false);
STATIC_LOCK(__lock___arc4random_mutex, false);

/* When malloc cannot provide a lock, its users share this one: slower, still correct. */
static struct __lock fallback_lock = {RECURSIVE_LOCK_INIT, true, false};

static struct __lock *lock_or_fallback(_LOCK_T lock)
{
    return lock ? lock : &fallback_lock;
}

static void lock_create(_LOCK_T *lock, bool recursive)
{
    struct __lock *l = malloc(sizeof(*l));
    if (l) {
        *l = (struct __lock){RECURSIVE_LOCK_INIT, recursive, true};
    }
    *lock = l;
}

void __retarget_lock_init(_LOCK_T *lock)
{
    lock_create(lock, false);
}

void __retarget_lock_init_recursive(_LOCK_T *lock)
{
    lock_create(lock, true);
}

void __retarget_lock_close(_LOCK_T lock)
{
    if (lock && lock->dynamic)
        free(lock);
}

void __retarget_lock_close_recursive(_LOCK_T lock)
{
    __retarget_lock_close(lock);
}

void __retarget_lock_acquire(_LOCK_T lock)
{
    struct __lock *l = lock_or_fallback(lock);
    /* A plain mutex taken twice by one CPU would deadlock: stop and say so instead. */
    if (!l->recursive && held_by_this_cpu(&l->lock))
        root_stop("libc lock %p taken twice by cpu%u", (void *)l, root_vp_index());
    recursive_lock_acquire(&l->lock);
}

void __retarget_lock_acquire_recursive(_LOCK_T lock)
{
    recursive_lock_acquire(&lock_or_fallback(lock)->lock);
}

int __retarget_lock_try_acquire(_LOCK_T lock)
{
    struct __lock *l = lock_or_fallback(lock);
    if (!l->recursive && held_by_this_cpu(&l->lock))
        return 0;
    return recursive_lock_try_acquire(&l->lock);
}

int __retarget_lock_try_acquire_recursive(_LOCK_T lock)
{
    return recursive_lock_try_acquire(&lock_or_fallback(lock)->lock);
}

void __retarget_lock_release(_LOCK_T lock)
{
    recursive_lock_release(&lock_or_fallback(lock)->lock);
}

void __retarget_lock_release_recursive(_LOCK_T lock)
{
    recursive_lock_release(&lock_or_fallback(lock)->lock);
}
