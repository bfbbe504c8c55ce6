/*
 * Kernel page tables. Entry layout: AMD APM vol. 2, 5.3.3 "4-Kbyte Page Translation" and
 * 5.3.4 "2-Mbyte Page Translation", 5.3.5 "1-Gbyte Page Translation"; Intel SDM vol. 3,
 * 4.5 "4-Level Paging", tables 4-15..4-20. Access rights are the AND of every level (SDM
 * 4.6), so directory entries are always present + writable + executable and only the
 * leaves carry the restrictions; W^X is therefore a property of the leaves alone.
 */
#include "kernel/paging.h"

#include <string.h>

#include "kernel/log.h"
#include "kernel/main.h"
#include "kernel/page_alloc.h"
#include "kernel/spinlock.h"
#include "kernel/x86.h"

#define PTE_PRESENT (1ull << 0)
#define PTE_WRITABLE (1ull << 1)
#define PTE_WRITE_THROUGH (1ull << 3) /* PWT */
#define PTE_CACHE_DISABLE (1ull << 4) /* PCD */
#define PTE_LARGE (1ull << 7)         /* PS in a PDPTE or PDE; PAT in a PTE */
#define PTE_NO_EXECUTE (1ull << 63)
#define PTE_ADDRESS_MASK 0x000FFFFFFFFFF000ull
#define PTE_ATTRIBUTES (0xFFFull | PTE_NO_EXECUTE)

#define TABLE_ENTRIES 512u
#define TABLE_FLAGS (PTE_PRESENT | PTE_WRITABLE)

/* Leaf attributes of each kind of mapping. */
#define MAP_RAM (PTE_PRESENT | PTE_WRITABLE | PTE_NO_EXECUTE)
#define MAP_FIRMWARE (PTE_PRESENT | PTE_NO_EXECUTE)
#define MAP_TEXT PTE_PRESENT
#define MAP_RODATA (PTE_PRESENT | PTE_NO_EXECUTE)
#define MAP_DATA (PTE_PRESENT | PTE_WRITABLE | PTE_NO_EXECUTE)
#define MAP_MMIO \
    (PTE_PRESENT | PTE_WRITABLE | PTE_NO_EXECUTE | PTE_CACHE_DISABLE | PTE_WRITE_THROUGH)
#define MAP_NONE 0ull

#define CR0_WP (1ull << 16)
#define EFER_NXE (1ull << 11)
#define CPUID_EXT_NX (1u << 20)        /* CPUID 0x80000001 EDX */
#define CPUID_EXT_PAGE_1GB (1u << 26)  /* CPUID 0x80000001 EDX */

#define LOW_MEMORY_END 0x100000ull
#define FOUR_GIB (1ull << 32)
/* 4-level paging translates 48-bit canonical addresses; identity mappings use the lower
 * half, so physical addresses at or above 2^47 cannot be identity mapped. */
#define VIRTUAL_LIMIT (1ull << 47)
/* The last page of the lower half: read-only alias of physical page 0. */
#define PAGE_ZERO_ALIAS 0x00007FFFFFFFF000ull

#define XAPIC_DEFAULT_BASE 0xFEE00000ull /* Intel SDM vol. 3, 11.4.1 */
#define IOAPIC_DEFAULT_BASE 0xFEC00000ull /* Intel 82093AA IOAPIC datasheet, 3.0 */
#define EARLY_MMIO_MAX 16

/* kernel/linker.ld */
extern char __image_start[], __image_end[], __text_start[], __text_end[], __rodata_start[],
    __rodata_end[], __data_start[], __data_end[];

static struct spinlock paging_lock = SPINLOCK_INIT;
static uint64_t *kernel_pml4; /* identity mapped: the pointer is the physical address */
static bool gigabyte_pages;
static uint64_t physical_limit = 1ull << 36;
static struct page_range early_mmio[EARLY_MMIO_MAX];
static size_t early_mmio_count;

static uint64_t addr(const void *p)
{
    return (uint64_t)(uintptr_t)p;
}

static unsigned level_shift(unsigned level)
{
    return 12 + 9 * (level - 1); /* level 4 = PML4 ... level 1 = page table */
}

static uint64_t *table_of(uint64_t entry)
{
    return (uint64_t *)(uintptr_t)(entry & PTE_ADDRESS_MASK);
}

static uint64_t *table_alloc(void)
{
    /* Before paging_init switches tables this is below 4 GiB (the boot tables' reach). */
    uint64_t pa = page_alloc_zeroed(0);
    if (!pa)
        kernel_stop("paging: out of memory for page tables");
    return (uint64_t *)(uintptr_t)pa;
}

static bool large_leaf_allowed(unsigned level)
{
    return level == 2 || (level == 3 && gigabyte_pages);
}

/* Replaces a large leaf with a table of 512 smaller leaves of the same attributes. */
static uint64_t *split_large_leaf(uint64_t *entry, unsigned level)
{
    uint64_t *child = table_alloc();
    uint64_t base = *entry & PTE_ADDRESS_MASK & ~((1ull << level_shift(level)) - 1);
    uint64_t attributes = *entry & PTE_ATTRIBUTES;
    if (level - 1 == 1)
        attributes &= ~PTE_LARGE; /* bit 7 of a 4 KiB PTE is PAT */
    for (unsigned i = 0; i < TABLE_ENTRIES; i++)
        child[i] = (base + ((uint64_t)i << level_shift(level - 1))) | attributes;
    *entry = addr(child) | TABLE_FLAGS;
    return child;
}

/* Sets the leaves covering [start, end) (page aligned, start < end) under `table` to
 * identity mappings with attributes `leaf` (MAP_NONE unmaps). Large leaves are used where a
 * whole aligned entry is covered and no finer table exists; a large leaf that is only
 * partly covered is split first, so the rest keeps its mapping. */
static void set_range(uint64_t *table, unsigned level, uint64_t start, uint64_t end,
                      uint64_t leaf)
{
    uint64_t entry_size = 1ull << level_shift(level);
    while (start < end) {
        uint64_t entry_start = start & ~(entry_size - 1);
        uint64_t chunk_end = entry_start + entry_size < end ? entry_start + entry_size : end;
        uint64_t *entry = &table[(start >> level_shift(level)) % TABLE_ENTRIES];
        bool whole = start == entry_start && chunk_end == entry_start + entry_size;
        bool is_table = level > 1 && (*entry & PTE_PRESENT) && !(*entry & PTE_LARGE);
        if (level == 1) {
            *entry = leaf ? entry_start | leaf : 0;
        } else if (whole && !is_table && large_leaf_allowed(level)) {
            *entry = leaf ? entry_start | leaf | PTE_LARGE : 0;
        } else if (!whole || is_table || leaf) {
            uint64_t *child;
            if (is_table)
                child = table_of(*entry);
            else if (*entry & PTE_PRESENT)
                child = split_large_leaf(entry, level);
            else if (leaf) {
                child = table_alloc();
                *entry = addr(child) | TABLE_FLAGS;
            } else {
                child = NULL; /* unmapping what is not mapped */
            }
            if (child)
                set_range(child, level - 1, start, chunk_end, leaf);
        } else {
            *entry = 0; /* whole entry unmapped, no table below */
        }
        start = chunk_end;
    }
}

struct translation {
    bool present;
    bool writable;
    bool executable;
    uint64_t leaf;      /* the leaf entry */
    uint64_t page_size; /* of the leaf, or of the unmapped entry that ended the walk */
};

static bool is_canonical_lower(uint64_t va)
{
    return va < VIRTUAL_LIMIT;
}

static struct translation translate(const uint64_t *pml4, uint64_t va)
{
    struct translation t = {.writable = true, .executable = true};
    const uint64_t *table = pml4;
    for (unsigned level = 4; level >= 1; level--) {
        uint64_t entry = table[(va >> level_shift(level)) % TABLE_ENTRIES];
        t.page_size = 1ull << level_shift(level);
        if (!(entry & PTE_PRESENT))
            return t;
        t.writable = t.writable && (entry & PTE_WRITABLE);
        t.executable = t.executable && !(entry & PTE_NO_EXECUTE);
        if (level == 1 || (entry & PTE_LARGE)) {
            t.present = true;
            t.leaf = entry;
            return t;
        }
        table = table_of(entry);
    }
    return t;
}

static const uint64_t *current_pml4(void)
{
    return (const uint64_t *)(uintptr_t)(read_cr3() & PTE_ADDRESS_MASK);
}

static bool range_ok(uint64_t pa, uint64_t size)
{
    return size != 0 && pa + size > pa && pa + size <= physical_limit &&
           pa + size <= VIRTUAL_LIMIT;
}

static void page_round(uint64_t *start, uint64_t *end)
{
    *start &= ~(PAGE_SIZE - 1);
    *end = (*end + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);
}

/* Identity-maps a memory map region, clipped to what the CPU and 4-level paging reach. */
static void map_region(uint64_t base, uint64_t length, uint64_t leaf)
{
    uint64_t start = base, end = base + length;
    uint64_t limit = physical_limit < VIRTUAL_LIMIT ? physical_limit : VIRTUAL_LIMIT;
    if (end > limit) {
        log_warn("paging: %lx-%lx lies beyond the %lx the CPU can address; not mapped", base,
                 end - 1, limit);
        end = limit;
    }
    page_round(&start, &end);
    if (start < end)
        set_range(kernel_pml4, 4, start, end, leaf);
}

static void detect_cpu_features(void)
{
    uint32_t max_ext, eax, ebx, ecx, edx;
    cpuid(0x80000000, 0, &max_ext, &ebx, &ecx, &edx);
    if (max_ext < 0x80000001)
        kernel_stop("paging: CPUID has no extended leaves; cannot check for NX");
    cpuid(0x80000001, 0, &eax, &ebx, &ecx, &edx);
    if (!(edx & CPUID_EXT_NX))
        kernel_stop("paging: this CPU has no NX bit; W^X cannot be enforced");
    gigabyte_pages = (edx & CPUID_EXT_PAGE_1GB) != 0;
    if (max_ext >= 0x80000008) {
        cpuid(0x80000008, 0, &eax, &ebx, &ecx, &edx);
        unsigned bits = eax & 0xFF; /* MAXPHYADDR (AMD APM vol. 3, CPUID Fn8000_0008) */
        if (bits >= 32 && bits <= 52)
            physical_limit = 1ull << bits;
    }
}

static void map_image(void)
{
    /* Whole image read-only first, so a section the linker script does not name is at
     * least not writable and not executable; then the named sections. */
    set_range(kernel_pml4, 4, addr(__image_start), addr(__image_end), MAP_RODATA);
    set_range(kernel_pml4, 4, addr(__text_start), addr(__text_end), MAP_TEXT);
    set_range(kernel_pml4, 4, addr(__rodata_start), addr(__rodata_end), MAP_RODATA);
    set_range(kernel_pml4, 4, addr(__data_start), addr(__data_end), MAP_DATA);
}

static void build_tables(void)
{
    kernel_pml4 = table_alloc();
    if (addr(kernel_pml4) >= FOUR_GIB)
        kernel_stop("paging: the PML4 must lie below 4 GiB for the AP trampoline");
    /* Firmware areas first, RAM after: a page shared by both ends up writable. */
    for (size_t i = 0; i < boot_info.region_count; i++) {
        const struct boot_region *r = &boot_info.regions[i];
        uint64_t end = r->base + r->length < FOUR_GIB ? r->base + r->length : FOUR_GIB;
        if (r->type == BOOT_REGION_RESERVED && r->base < end)
            map_region(r->base, end - r->base, MAP_FIRMWARE);
    }
    for (size_t i = 0; i < boot_info.region_count; i++) {
        const struct boot_region *r = &boot_info.regions[i];
        if (r->type == BOOT_REGION_USABLE || r->type == BOOT_REGION_ACPI_RECLAIMABLE ||
            r->type == BOOT_REGION_ACPI_NVS)
            map_region(r->base, r->length, MAP_RAM);
    }
    set_range(kernel_pml4, 4, 0, LOW_MEMORY_END, MAP_RAM);
    set_range(kernel_pml4, 4, 0, PAGE_SIZE, MAP_NONE);
    set_range(kernel_pml4, 4, PAGE_ZERO_ALIAS, PAGE_ZERO_ALIAS + PAGE_SIZE, MAP_FIRMWARE);
    /* The alias is not an identity mapping: point its leaf at physical page 0. */
    uint64_t *pdpt = table_of(kernel_pml4[(PAGE_ZERO_ALIAS >> 39) % TABLE_ENTRIES]);
    uint64_t *pd = table_of(pdpt[(PAGE_ZERO_ALIAS >> 30) % TABLE_ENTRIES]);
    uint64_t *pt = table_of(pd[(PAGE_ZERO_ALIAS >> 21) % TABLE_ENTRIES]);
    pt[(PAGE_ZERO_ALIAS >> 12) % TABLE_ENTRIES] = 0 | MAP_FIRMWARE;
    map_image();
    for (size_t i = 0; i < early_mmio_count; i++)
        set_range(kernel_pml4, 4, early_mmio[i].start, early_mmio[i].end, MAP_MMIO);
    set_range(kernel_pml4, 4, XAPIC_DEFAULT_BASE, XAPIC_DEFAULT_BASE + PAGE_SIZE, MAP_MMIO);
    set_range(kernel_pml4, 4, IOAPIC_DEFAULT_BASE, IOAPIC_DEFAULT_BASE + PAGE_SIZE, MAP_MMIO);
}

/* CR0.WP makes read-only pages read-only for the kernel too; EFER.NXE enables the NX bit
 * (boot.S sets both; make sure, since the tables rely on them). */
static void enable_protection(void)
{
    uint64_t cr0 = read_cr0();
    if (!(cr0 & CR0_WP))
        __asm__ volatile("mov %0, %%cr0" : : "r"(cr0 | CR0_WP) : "memory");
    uint64_t efer = rdmsr(MSR_EFER);
    if (!(efer & EFER_NXE))
        wrmsr(MSR_EFER, efer | EFER_NXE);
}

struct leaf_walk {
    void (*visit)(struct leaf_walk *w, uint64_t va, uint64_t size, uint64_t leaf);
    uint64_t run_start, run_end, run_leaf, run_size; /* paging_dump */
    uint64_t violations, first_violation;             /* W^X check */
};

static void walk_leaves(struct leaf_walk *w, const uint64_t *table, unsigned level,
                        uint64_t base)
{
    for (unsigned i = 0; i < TABLE_ENTRIES; i++) {
        uint64_t entry = table[i];
        uint64_t va = base + ((uint64_t)i << level_shift(level));
        if (!(entry & PTE_PRESENT))
            continue;
        if (level == 1 || (entry & PTE_LARGE))
            w->visit(w, va, 1ull << level_shift(level), entry);
        else
            walk_leaves(w, table_of(entry), level - 1, va);
    }
}

static void check_leaf(struct leaf_walk *w, uint64_t va, uint64_t size, uint64_t leaf)
{
    (void)size;
    if ((leaf & PTE_WRITABLE) && !(leaf & PTE_NO_EXECUTE)) {
        if (w->violations++ == 0)
            w->first_violation = va;
    }
}

static void expect_image_range(const char *name, uint64_t start, uint64_t end, bool writable,
                               bool executable)
{
    for (uint64_t va = start; va < end; va += PAGE_SIZE) {
        struct translation t = translate(kernel_pml4, va);
        if (!t.present || t.writable != writable || t.executable != executable)
            kernel_stop("paging: %s page %lx is %s%s%s, expected %s%s", name, va,
                        t.present ? "R" : "unmapped", t.present && t.writable ? "W" : "",
                        t.present && t.executable ? "X" : "", writable ? "RW" : "R",
                        executable ? "X" : "");
    }
}

/* Stops the kernel if any page is writable and executable, or the image's sections do not
 * have their rights, or page 0 is mapped. */
static void check_write_xor_execute(void)
{
    struct leaf_walk w = {.visit = check_leaf};
    walk_leaves(&w, kernel_pml4, 4, 0);
    if (w.violations)
        kernel_stop("paging: %lu mappings are writable and executable, the first at %lx",
                    w.violations, w.first_violation);
    expect_image_range(".text", addr(__text_start), addr(__text_end), false, true);
    expect_image_range(".rodata", addr(__rodata_start), addr(__rodata_end), false, false);
    expect_image_range(".data/.bss", addr(__data_start), addr(__data_end), true, false);
    if (translate(kernel_pml4, 0).present)
        kernel_stop("paging: page 0 is mapped; null pointers would not fault");
    log_info("paging: W^X ok");
}

void paging_init(void)
{
    detect_cpu_features();
    uint64_t flags = spin_lock_irqsave(&paging_lock);
    build_tables();
    enable_protection();
    write_cr3(addr(kernel_pml4));
    spin_unlock_irqrestore(&paging_lock, flags);
    page_alloc_all_ram_mapped();
    check_write_xor_execute();
    log_debug("paging: %s pages, %lu-bit physical addresses, PML4 at %lx",
              gigabyte_pages ? "1 GiB" : "2 MiB", (uint64_t)__builtin_ctzll(physical_limit),
              addr(kernel_pml4));
    paging_dump();
}

uint64_t paging_kernel_cr3(void)
{
    return addr(kernel_pml4);
}

/* After a change to live tables: reload CR3, which flushes this CPU's (non-global) TLB. */
static void flush_this_cpu(void)
{
    if ((read_cr3() & PTE_ADDRESS_MASK) == addr(kernel_pml4))
        write_cr3(read_cr3());
}

bool paging_map_mmio(uint64_t pa, uint64_t size)
{
    if (!range_ok(pa, size)) {
        log_error("paging: MMIO range %lx+%lx is empty, wraps or lies beyond the physical "
                  "address space", pa, size);
        return false;
    }
    uint64_t start = pa, end = pa + size;
    page_round(&start, &end);
    bool ok = true;
    uint64_t flags = spin_lock_irqsave(&paging_lock);
    if (kernel_pml4) {
        set_range(kernel_pml4, 4, start, end, MAP_MMIO);
        flush_this_cpu();
    } else if (early_mmio_count < EARLY_MMIO_MAX) {
        early_mmio[early_mmio_count++] = (struct page_range){start, end};
    } else {
        ok = false;
    }
    spin_unlock_irqrestore(&paging_lock, flags);
    if (!ok)
        log_error("paging: more than %d MMIO ranges before paging_init; %lx not mapped",
                  EARLY_MMIO_MAX, pa);
    return ok;
}

bool paging_map_firmware(uint64_t pa, uint64_t size)
{
    /* Page 0 stays unmapped so null pointers fault; its alias serves readers of it. */
    if (!kernel_pml4 || !range_ok(pa, size) || pa + size > FOUR_GIB || pa < PAGE_SIZE) {
        log_error("paging: cannot map firmware range %lx+%lx (%s)", pa, size,
                  !kernel_pml4 ? "before paging_init"
                  : pa < PAGE_SIZE ? "it touches page 0"
                                   : "empty, wrapping or not below 4 GiB");
        return false;
    }
    uint64_t start = pa, end = pa + size;
    page_round(&start, &end);
    uint64_t mapped_bytes = 0;
    uint64_t flags = spin_lock_irqsave(&paging_lock);
    /* Only holes are filled: a mapped page keeps its rights (RAM stays writable, MMIO
     * uncached, the image its W^X layout). translate() reports the size of the entry that
     * ended the walk, and all of an absent entry is absent, so holes go in one step each. */
    for (uint64_t va = start; va < end;) {
        struct translation t = translate(kernel_pml4, va);
        uint64_t next = (va & ~(t.page_size - 1)) + t.page_size;
        if (next > end)
            next = end;
        if (!t.present) {
            set_range(kernel_pml4, 4, va, next, MAP_FIRMWARE);
            mapped_bytes += next - va;
        }
        va = next;
    }
    if (mapped_bytes)
        flush_this_cpu(); /* not needed for absent -> present, but cheap and certain */
    spin_unlock_irqrestore(&paging_lock, flags);
    if (mapped_bytes)
        log_debug("paging: %lx-%lx: %lu KiB of firmware mapped read-only, no-execute", start,
                  end - 1, mapped_bytes >> 10);
    return true;
}

bool paging_set_executable(uint64_t pa, uint64_t size, bool executable)
{
    uint64_t start = pa, end = pa + size;
    if (!kernel_pml4 || !range_ok(pa, size)) {
        log_error("paging: cannot change execute rights of %lx+%lx (%s)", pa, size,
                  kernel_pml4 ? "bad range" : "before paging_init");
        return false;
    }
    page_round(&start, &end);
    if (start < addr(__image_end) && addr(__image_start) < end) {
        log_error("paging: %lx-%lx overlaps the image, whose rights are fixed", start, end - 1);
        return false;
    }
    uint64_t flags = spin_lock_irqsave(&paging_lock);
    bool mapped = true;
    for (uint64_t va = start; va < end && mapped; va += PAGE_SIZE)
        mapped = translate(kernel_pml4, va).present;
    if (mapped) {
        set_range(kernel_pml4, 4, start, end, executable ? MAP_TEXT : MAP_RAM);
        flush_this_cpu();
    }
    spin_unlock_irqrestore(&paging_lock, flags);
    if (!mapped)
        log_error("paging: %lx-%lx is not (all) mapped; execute rights unchanged", start,
                  end - 1);
    return mapped;
}

bool paging_is_mapped(uint64_t va, uint64_t size)
{
    if (size == 0 || va + size < va || !is_canonical_lower(va + size - 1))
        return false;
    const uint64_t *pml4 = current_pml4();
    uint64_t end = va + size;
    while (va < end) {
        struct translation t = translate(pml4, va);
        if (!t.present)
            return false;
        uint64_t next = (va & ~(t.page_size - 1)) + t.page_size;
        if (next <= va)
            break; /* the last page of the address space */
        va = next;
    }
    return true;
}

const void *paging_physical_pointer(uint64_t pa, size_t len)
{
    if (len == 0 || pa + len < pa)
        return NULL;
    if (pa + len <= PAGE_SIZE) {
        if (kernel_pml4)
            return (const void *)(uintptr_t)(PAGE_ZERO_ALIAS + pa);
        return pa != 0 ? (const void *)(uintptr_t)pa : NULL; /* boot tables map page 0 */
    }
    return paging_is_mapped(pa, len) ? (const void *)(uintptr_t)pa : NULL;
}

static const char *size_name(uint64_t size)
{
    return size == PAGE_SIZE ? "4K" : size == (1ull << 21) ? "2M" : "1G";
}

static void dump_run(const struct leaf_walk *w)
{
    uint64_t leaf = w->run_leaf;
    log_debug("paging: %016lx-%016lx %c%c%c%s %s pages", w->run_start, w->run_end - 1,
              'R', leaf & PTE_WRITABLE ? 'W' : '-', leaf & PTE_NO_EXECUTE ? '-' : 'X',
              leaf & PTE_CACHE_DISABLE ? " uncached" : "", size_name(w->run_size));
}

static void dump_leaf(struct leaf_walk *w, uint64_t va, uint64_t size, uint64_t leaf)
{
    uint64_t rights = PTE_WRITABLE | PTE_NO_EXECUTE | PTE_CACHE_DISABLE | PTE_WRITE_THROUGH;
    if (w->run_end == va && w->run_size == size && (w->run_leaf & rights) == (leaf & rights)) {
        w->run_end += size;
        return;
    }
    if (w->run_end > w->run_start)
        dump_run(w);
    w->run_start = va;
    w->run_end = va + size;
    w->run_leaf = leaf;
    w->run_size = size;
}

void paging_dump(void)
{
    if (log_get_level() < LOG_DEBUG || !kernel_pml4)
        return;
    struct leaf_walk w = {.visit = dump_leaf};
    uint64_t flags = spin_lock_irqsave(&paging_lock);
    walk_leaves(&w, kernel_pml4, 4, 0);
    spin_unlock_irqrestore(&paging_lock, flags);
    if (w.run_end > w.run_start)
        dump_run(&w);
}
