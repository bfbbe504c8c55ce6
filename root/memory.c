#include "root/memory.h"

#include <string.h>

#include "kernel/spinlock.h"

/* Each range is consumed from `next` upwards. [lock] */
static struct {
    struct root_memory_range ranges[ROOT_MAX_MEMORY_RANGES];
    uint64_t next[ROOT_MAX_MEMORY_RANGES];
    uint32_t count;
    uint64_t total;
} memory;
static struct spinlock lock = SPINLOCK_INIT;

void root_memory_init(const struct root_boot_info *info)
{
    uint32_t count = info->memory_range_count;
    if (count > ROOT_MAX_MEMORY_RANGES)
        count = ROOT_MAX_MEMORY_RANGES;
    memory.count = count;
    for (uint32_t i = 0; i < count; i++) {
        memory.ranges[i] = info->memory[i];
        memory.next[i] = info->memory[i].start;
        memory.total += info->memory[i].end - info->memory[i].start;
    }
    /* The first range starts with the boot info, page tables and stacks. */
    if (count && info->free_start > memory.ranges[0].start &&
        info->free_start <= memory.ranges[0].end)
        memory.next[0] = info->free_start;
}

uint64_t root_memory_alloc(uint64_t size, uint64_t align)
{
    if (align < 4096 || (align & (align - 1)) || size == 0)
        return 0;
    size = (size + 4095) & ~4095ull;
    uint64_t flags = spin_lock_irqsave(&lock);
    uint64_t result = 0;
    for (uint32_t i = 0; i < memory.count && !result; i++) {
        uint64_t start = (memory.next[i] + align - 1) & ~(align - 1);
        if (start >= memory.next[i] && start <= memory.ranges[i].end &&
            memory.ranges[i].end - start >= size) {
            memory.next[i] = start + size;
            result = start;
        }
    }
    spin_unlock_irqrestore(&lock, flags);
    return result;
}

void *root_memory_alloc_zeroed(size_t bytes)
{
    uint64_t pa = root_memory_alloc(bytes, 4096);
    if (pa)
        memset((void *)(uintptr_t)pa, 0, bytes);
    return (void *)(uintptr_t)pa;
}

uint64_t root_memory_total_bytes(void)
{
    return memory.total;
}

uint64_t root_memory_free_bytes(void)
{
    uint64_t flags = spin_lock_irqsave(&lock);
    uint64_t free = 0;
    for (uint32_t i = 0; i < memory.count; i++)
        free += memory.ranges[i].end - memory.next[i];
    spin_unlock_irqrestore(&lock, flags);
    return free;
}
