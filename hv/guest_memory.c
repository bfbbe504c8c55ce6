#include "hv/guest_memory.h"

#include <string.h>

#include "hv/partition.h"
#include "hv/slat.h"

#define PAGE_BYTES 4096u

/* Walks [gpa, gpa+length) page by page; copies when `buffer` is not NULL. */
static bool copy(struct partition *p, uint64_t gpa, uint8_t *buffer, size_t length, bool write)
{
    if (length == 0)
        return true;
    if (gpa + length < gpa || gpa + length > SLAT_GPA_LIMIT)
        return false;
    unsigned need = write ? SLAT_WRITE : SLAT_READ;
    while (length) {
        uint64_t hpa;
        unsigned access;
        /* Device memory is never a hypercall argument: reading a register can change
         * the device (the root's MMIO mappings, hv/root_partition.c). */
        if (!slat_translate(&p->slat, gpa, &hpa, &access) || (access & need) != need ||
            (access & SLAT_UNCACHED))
            return false;
        size_t chunk = PAGE_BYTES - (size_t)(gpa & (PAGE_BYTES - 1));
        if (chunk > length)
            chunk = length;
        /* The hypervisor maps all RAM 1:1, so a host physical address is a pointer. */
        void *host = (void *)(uintptr_t)hpa;
        if (buffer && write)
            memcpy(host, buffer, chunk);
        else if (buffer)
            memcpy(buffer, host, chunk);
        gpa += chunk;
        if (buffer)
            buffer += chunk;
        length -= chunk;
    }
    return true;
}

bool guest_memory_read(struct partition *p, uint64_t gpa, void *buffer, size_t length)
{
    return copy(p, gpa, buffer, length, false);
}

bool guest_memory_write(struct partition *p, uint64_t gpa, const void *buffer, size_t length)
{
    /* copy() only reads from `buffer` when writing */
    return copy(p, gpa, (uint8_t *)(uintptr_t)buffer, length, true);
}

bool guest_memory_accessible(struct partition *p, uint64_t gpa, size_t length, bool write)
{
    return copy(p, gpa, NULL, length, write);
}

bool guest_memory_store32(struct partition *p, uint64_t gpa, uint32_t value)
{
    uint64_t hpa;
    unsigned access;
    if ((gpa & 3) || !guest_memory_accessible(p, gpa, sizeof(uint32_t), true) ||
        !slat_translate(&p->slat, gpa, &hpa, &access))
        return false;
    __atomic_store_n((uint32_t *)(uintptr_t)hpa, value, __ATOMIC_RELEASE);
    return true;
}

bool guest_memory_fetch_or32(struct partition *p, uint64_t gpa, uint32_t bits, uint32_t *old)
{
    uint64_t hpa;
    unsigned access;
    /* The same rules as a write (copy()), then the one translation to use. */
    if ((gpa & 3) || !guest_memory_accessible(p, gpa, sizeof(uint32_t), true) ||
        !slat_translate(&p->slat, gpa, &hpa, &access))
        return false;
    /* Aligned, so within one page; the hypervisor maps all RAM 1:1. */
    *old = __atomic_fetch_or((uint32_t *)(uintptr_t)hpa, bits, __ATOMIC_SEQ_CST);
    return true;
}
