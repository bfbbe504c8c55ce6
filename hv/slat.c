#include "hv/slat.h"

#include <string.h>

#include "hv/vendor.h"
#include "kernel/page_alloc.h"
#include "kernel/page_pool.h"

#define ENTRIES 512
#define ADDRESS_MASK 0x000FFFFFFFFFF000ull
#define LARGE_BIT (1ull << 7) /* PS in NPT, "maps a page" in EPT: bit 7 in both */
#define SIZE_2M (1ull << 21)

static uint64_t *table_at(uint64_t pa)
{
    return (uint64_t *)(uintptr_t)pa; /* the hypervisor maps all RAM 1:1 */
}

static bool present(uint64_t entry)
{
    return entry & hv_vendor->slat_present_mask;
}

static unsigned index_at(uint64_t gpa, int level)
{
    return (unsigned)(gpa >> (12 + 9 * level)) & (ENTRIES - 1);
}

static uint64_t new_table(struct slat *slat)
{
    uint64_t pa = page_alloc_zeroed(0);
    if (pa)
        slat->table_pages++;
    return pa;
}

bool slat_init(struct slat *slat)
{
    memset(slat, 0, sizeof(*slat));
    slat->root_pa = new_table(slat);
    return slat->root_pa != 0;
}

/* Splits a 2 MiB leaf at *entry into a table of 512 4 KiB leaves with the same rights. */
static bool split_large(struct slat *slat, uint64_t *entry)
{
    uint64_t table = new_table(slat);
    if (!table)
        return false;
    uint64_t base = *entry & ADDRESS_MASK & ~(SIZE_2M - 1);
    uint64_t rights = *entry & ~ADDRESS_MASK & ~LARGE_BIT;
    uint64_t *t = table_at(table);
    for (unsigned i = 0; i < ENTRIES; i++)
        t[i] = (base + ((uint64_t)i << 12)) | rights;
    *entry = hv_vendor->slat_table_entry(table);
    return true;
}

/* The entry for gpa at `level` (0 = 4 KiB leaf, 1 = 2 MiB), creating tables on the way. */
static uint64_t *walk_create(struct slat *slat, uint64_t gpa, int level)
{
    uint64_t *t = table_at(slat->root_pa);
    for (int l = 3; l > level; l--) {
        uint64_t *e = &t[index_at(gpa, l)];
        if (present(*e) && (*e & LARGE_BIT) && !split_large(slat, e))
            return NULL;
        if (!present(*e)) {
            uint64_t table = new_table(slat);
            if (!table)
                return NULL;
            *e = hv_vendor->slat_table_entry(table);
        }
        t = table_at(*e & ADDRESS_MASK);
    }
    return &t[index_at(gpa, level)];
}

static bool range_ok(uint64_t gpa, uint64_t size)
{
    return size && !(gpa & 0xFFF) && !(size & 0xFFF) && gpa + size > gpa &&
           gpa + size <= SLAT_GPA_LIMIT;
}

bool slat_map(struct slat *slat, uint64_t gpa, uint64_t hpa, uint64_t size, unsigned access)
{
    if (!range_ok(gpa, size) || (hpa & 0xFFF) || hpa + size < hpa)
        return false;
    uint64_t flags = spin_lock_irqsave(&slat->lock);
    bool ok = true;
    for (uint64_t off = 0; off < size && ok;) {
        uint64_t g = gpa + off, h = hpa + off;
        bool large = !(g & (SIZE_2M - 1)) && !(h & (SIZE_2M - 1)) && size - off >= SIZE_2M;
        uint64_t *e = NULL;
        if (large) {
            e = walk_create(slat, g, 1);
            if (e && present(*e) && !(*e & LARGE_BIT)) {
                large = false; /* a finer table exists here already: keep it */
                e = NULL;
            }
        }
        if (!large)
            e = walk_create(slat, g, 0);
        if (!e) {
            ok = false;
            break;
        }
        if (present(*e))
            slat->generation++; /* a replaced translation may be cached */
        else
            slat->mapped_bytes += large ? SIZE_2M : PAGE_SIZE;
        *e = hv_vendor->slat_leaf_entry(h, access, large);
        off += large ? SIZE_2M : PAGE_SIZE;
    }
    spin_unlock_irqrestore(&slat->lock, flags);
    return ok;
}

bool slat_unmap(struct slat *slat, uint64_t gpa, uint64_t size)
{
    if (!range_ok(gpa, size))
        return false;
    uint64_t flags = spin_lock_irqsave(&slat->lock);
    bool ok = true;
    for (uint64_t off = 0; off < size;) {
        uint64_t g = gpa + off;
        uint64_t *t = table_at(slat->root_pa);
        uint64_t *e = NULL;
        int l;
        for (l = 3; l >= 0; l--) {
            e = &t[index_at(g, l)];
            if (!present(*e) || l == 0 || (*e & LARGE_BIT))
                break;
            t = table_at(*e & ADDRESS_MASK);
        }
        uint64_t step = 1ull << (12 + 9 * (l < 0 ? 0 : l));
        if (!present(*e)) {
            off += step - (g & (step - 1)); /* nothing here: skip the hole */
            continue;
        }
        if (l == 1 && ((g & (SIZE_2M - 1)) || size - off < SIZE_2M)) {
            if (!split_large(slat, e)) {
                ok = false;
                break;
            }
            continue; /* walk again, now to the 4 KiB entry */
        }
        *e = 0;
        slat->mapped_bytes -= step;
        slat->generation++;
        off += step;
    }
    spin_unlock_irqrestore(&slat->lock, flags);
    return ok;
}

bool slat_translate(struct slat *slat, uint64_t gpa, uint64_t *hpa, unsigned *access)
{
    if (gpa >= SLAT_GPA_LIMIT)
        return false;
    uint64_t *t = table_at(slat->root_pa);
    for (int l = 3; l >= 0; l--) {
        uint64_t e = t[index_at(gpa, l)];
        if (!present(e))
            return false;
        if (l == 0 || (e & LARGE_BIT)) {
            uint64_t page = 1ull << (12 + 9 * l);
            *hpa = (e & ADDRESS_MASK & ~(page - 1)) | (gpa & (page - 1));
            *access = hv_vendor->slat_leaf_access(e);
            return true;
        }
        t = table_at(e & ADDRESS_MASK);
    }
    return false;
}

static void free_level(struct slat *slat, uint64_t table_pa, int level)
{
    uint64_t *t = table_at(table_pa);
    if (level > 0) {
        for (unsigned i = 0; i < ENTRIES; i++)
            if (present(t[i]) && !(t[i] & LARGE_BIT))
                free_level(slat, t[i] & ADDRESS_MASK, level - 1);
    }
    page_free(table_pa, 0);
    slat->table_pages--;
}

void slat_destroy(struct slat *slat)
{
    if (slat->root_pa)
        free_level(slat, slat->root_pa, 3);
    slat->root_pa = 0;
}
