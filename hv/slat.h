/*
 * Second-level address translation (NPT on AMD, EPT on Intel): a partition's GPA → host
 * physical map. Built and changed only by the hypervisor; the entry encodings come from the
 * vendor (hv_vendor->slat_*_entry), the 4-level radix walk is shared. Tables live in
 * hypervisor memory (page allocator), which no partition maps.
 */
#ifndef HVFW_HV_SLAT_H
#define HVFW_HV_SLAT_H

#include <stdbool.h>
#include <stdint.h>

#include "kernel/spinlock.h"

#define SLAT_GPA_LIMIT (1ull << 48) /* 4-level tables */

enum slat_access {
    SLAT_READ = 1u << 0,
    SLAT_WRITE = 1u << 1,
    SLAT_EXECUTE = 1u << 2,
    /* Device memory (MMIO): uncached in the entry, never RAM the hypervisor copies from
     * or gives away (hv/guest_memory.c, hv/root_calls.c). */
    SLAT_UNCACHED = 1u << 3,
};

struct slat {
    uint64_t root_pa;
    uint64_t table_pages;  /* pages of tables, for the partition's statistics */
    uint64_t mapped_bytes;
    uint32_t generation;   /* bumped when a mapping is removed or reduced: TLBs must flush */
    struct spinlock lock;
};

bool slat_init(struct slat *slat);
/* Maps [gpa, gpa+size) to [hpa, hpa+size); page-aligned, no wrap, below SLAT_GPA_LIMIT.
 * Replaces existing mappings. Uses 2 MiB pages where both sides are aligned. False when the
 * arguments are bad or tables cannot be allocated (then nothing new is half-mapped). */
bool slat_map(struct slat *slat, uint64_t gpa, uint64_t hpa, uint64_t size, unsigned access);
/* Removes [gpa, gpa+size) (splitting large pages as needed). */
bool slat_unmap(struct slat *slat, uint64_t gpa, uint64_t size);
/* The host physical address and access of a GPA, false if unmapped. */
bool slat_translate(struct slat *slat, uint64_t gpa, uint64_t *hpa, unsigned *access);
/* Frees every table (not the mapped pages: they belong to whoever mapped them). */
void slat_destroy(struct slat *slat);

#endif
