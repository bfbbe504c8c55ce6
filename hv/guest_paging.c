#include "hv/guest_paging.h"

#define CR0_PG (1ull << 31)
#define CR4_PSE (1ull << 4)
#define CR4_PAE (1ull << 5)
#define CR4_LA57 (1ull << 12)
#define EFER_LMA (1ull << 10)

#define ENTRY_PRESENT (1ull << 0)
#define ENTRY_LARGE (1ull << 7)
/* Physical address bits 51:12 of a 64-bit entry (the architectural maximum). */
#define ENTRY_ADDRESS 0x000FFFFFFFFFF000ull

static bool read_entry(const struct guest_paging *paging, uint64_t gpa, unsigned size,
                       uint64_t *entry)
{
    uint64_t value = 0;
    if (!paging->read(paging->context, gpa, &value, size))
        return false;
    *entry = size == 4 ? (value & 0xFFFFFFFFu) : value;
    return (*entry & ENTRY_PRESENT) != 0;
}

/* Long mode and PAE share the 8-byte format; `level` 3 = PML4 ... 0 = PT, each level 9
 * index bits starting at bit 12 + 9 * level. Large pages at levels 2 (1 GiB, long mode
 * only) and 1 (2 MiB). */
static bool walk_64(const struct guest_paging *paging, uint64_t table, int level,
                    uint64_t linear, uint64_t *gpa)
{
    for (; level >= 0; level--) {
        unsigned shift = 12u + 9u * (unsigned)level;
        uint64_t entry;
        if (!read_entry(paging, table + ((linear >> shift) & 0x1FF) * 8, 8, &entry))
            return false;
        if (level == 0 || ((level == 1 || level == 2) && (entry & ENTRY_LARGE))) {
            uint64_t page_mask = (1ull << shift) - 1;
            *gpa = (entry & ENTRY_ADDRESS & ~page_mask) | (linear & page_mask);
            return true;
        }
        if (level == 3 && (entry & ENTRY_LARGE))
            return false; /* PS in a PML4E is reserved */
        table = entry & ENTRY_ADDRESS;
    }
    return false;
}

bool guest_paging_translate(const struct guest_paging *paging, uint64_t linear, uint64_t *gpa)
{
    if (!(paging->cr0 & CR0_PG)) {
        *gpa = linear & 0xFFFFFFFFu; /* paging off: only protected or real mode */
        return true;
    }
    if (paging->efer & EFER_LMA) {
        if (paging->cr4 & CR4_LA57)
            return false;
        return walk_64(paging, paging->cr3 & ENTRY_ADDRESS, 3, linear, gpa);
    }
    linear &= 0xFFFFFFFFu;
    if (paging->cr4 & CR4_PAE) {
        /* Four PDPTEs at CR3[31:5]; PAE has no 1 GiB pages, so start at the PD level. */
        uint64_t pdpte;
        if (!read_entry(paging, (paging->cr3 & 0xFFFFFFE0u) + (linear >> 30) * 8, 8, &pdpte))
            return false;
        return walk_64(paging, pdpte & ENTRY_ADDRESS, 1, linear, gpa);
    }
    uint64_t pde, pte;
    if (!read_entry(paging, (paging->cr3 & 0xFFFFF000u) + (linear >> 22) * 4, 4, &pde))
        return false;
    if ((pde & ENTRY_LARGE) && (paging->cr4 & CR4_PSE)) {
        *gpa = (pde & 0xFFC00000u) | (linear & 0x3FFFFFu);
        return true;
    }
    if (!read_entry(paging, (pde & 0xFFFFF000u) + ((linear >> 12) & 0x3FF) * 4, 4, &pte))
        return false;
    *gpa = (pte & 0xFFFFF000u) | (linear & 0xFFFu);
    return true;
}
