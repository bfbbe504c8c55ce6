#include "kernel/bootinfo.h"

#include <string.h>

#include "kernel/multiboot.h"

/* EFI memory types (UEFI 2.10, 7.2 EFI_MEMORY_TYPE) folded into E820 types. */
enum {
    EFI_LOADER_CODE = 1,
    EFI_LOADER_DATA = 2,
    EFI_BOOT_SERVICES_CODE = 3,
    EFI_BOOT_SERVICES_DATA = 4,
    EFI_CONVENTIONAL_MEMORY = 7,
    EFI_UNUSABLE_MEMORY = 8,
    EFI_ACPI_RECLAIM_MEMORY = 9,
    EFI_ACPI_MEMORY_NVS = 10,
};

static uint32_t efi_type_to_region(uint32_t type)
{
    switch (type) {
    case EFI_LOADER_CODE:
    case EFI_LOADER_DATA:
    case EFI_BOOT_SERVICES_CODE:
    case EFI_BOOT_SERVICES_DATA:
    case EFI_CONVENTIONAL_MEMORY:
        return BOOT_REGION_USABLE; /* boot services have exited before we run */
    case EFI_ACPI_RECLAIM_MEMORY:
        return BOOT_REGION_ACPI_RECLAIMABLE;
    case EFI_ACPI_MEMORY_NVS:
        return BOOT_REGION_ACPI_NVS;
    case EFI_UNUSABLE_MEMORY:
        return BOOT_REGION_BAD;
    default:
        return BOOT_REGION_RESERVED;
    }
}

static void add_region(struct boot_info *out, uint64_t base, uint64_t length, uint32_t type)
{
    if (length == 0 || base + length < base)
        return; /* empty or wrapping: ignore */
    if (type < BOOT_REGION_USABLE || type > BOOT_REGION_BAD)
        type = BOOT_REGION_RESERVED;
    /* Adjacent EFI descriptors of one type merge into one region. */
    if (out->region_count > 0) {
        struct boot_region *last = &out->regions[out->region_count - 1];
        if (last->type == type && last->base + last->length == base) {
            last->length += length;
            return;
        }
    }
    if (out->region_count < BOOT_MAX_REGIONS)
        out->regions[out->region_count++] = (struct boot_region){base, length, type};
}

/* Copies a NUL-terminated loader string of at most max-1 bytes, reading no further than
 * `limit` bytes from pa (or up to 4 KiB when the loader gave no bound). */
static bool copy_string(uint64_t pa, size_t limit, bootinfo_phys_fn phys, void *ctx, char *dst,
                        size_t max)
{
    if (limit == 0)
        limit = 4096;
    size_t n = 0;
    while (n < limit) {
        const char *c = phys(pa + n, 1, ctx);
        if (!c)
            return false;
        if (*c == '\0')
            break;
        if (n + 1 < max)
            dst[n] = *c;
        n++;
    }
    dst[n + 1 < max ? n : max - 1] = '\0';
    return true;
}

/* "path/to/hello.elf arg1 arg2" -> name "hello.elf", args "arg1 arg2". */
static void split_module_string(const char *s, struct boot_module *m)
{
    while (*s == ' ')
        s++;
    const char *word_end = s;
    while (*word_end && *word_end != ' ')
        word_end++;
    const char *name = s;
    for (const char *p = s; p < word_end; p++)
        if (*p == '/')
            name = p + 1;
    size_t len = (size_t)(word_end - name);
    if (len >= sizeof(m->name))
        len = sizeof(m->name) - 1;
    memcpy(m->name, name, len);
    m->name[len] = '\0';
    while (*word_end == ' ')
        word_end++;
    size_t args = strlen(word_end);
    if (args >= sizeof(m->args))
        args = sizeof(m->args) - 1;
    memcpy(m->args, word_end, args);
    m->args[args] = '\0';
}

static bool add_module(struct boot_info *out, uint64_t start, uint64_t end, const char *string)
{
    if (end < start)
        return false;
    if (out->module_count >= BOOT_MAX_MODULES)
        return true; /* more than we keep: the rest are ignored, not an error */
    struct boot_module *m = &out->modules[out->module_count++];
    m->start = start;
    m->end = end;
    split_module_string(string, m);
    return true;
}

static enum bootinfo_status parse_mb1(uint64_t info_pa, bootinfo_phys_fn phys, void *ctx,
                                      struct boot_info *out)
{
    const struct mb1_info *info = phys(info_pa, sizeof(*info), ctx);
    if (!info)
        return BOOTINFO_UNREADABLE;
    struct mb1_info mbi;
    memcpy(&mbi, info, sizeof(mbi)); /* copy, then use only the copy */
    out->protocol = BOOT_PROTOCOL_MULTIBOOT1;

    if ((mbi.flags & MB1_INFO_CMDLINE) &&
        !copy_string(mbi.cmdline, 0, phys, ctx, out->cmdline, sizeof(out->cmdline)))
        return BOOTINFO_UNREADABLE;

    if (mbi.flags & MB1_INFO_MODS) {
        if (mbi.mods_count > 1024)
            return BOOTINFO_MALFORMED;
        for (uint32_t i = 0; i < mbi.mods_count; i++) {
            const struct mb1_module *mp =
                phys(mbi.mods_addr + (uint64_t)i * sizeof(*mp), sizeof(*mp), ctx);
            if (!mp)
                return BOOTINFO_UNREADABLE;
            struct mb1_module mod;
            memcpy(&mod, mp, sizeof(mod));
            char string[BOOT_MODULE_NAME_MAX + BOOT_MODULE_ARGS_MAX] = "";
            if (mod.string && !copy_string(mod.string, 0, phys, ctx, string, sizeof(string)))
                return BOOTINFO_UNREADABLE;
            if (!add_module(out, mod.mod_start, mod.mod_end, string))
                return BOOTINFO_MALFORMED;
        }
    }

    if (!(mbi.flags & MB1_INFO_MMAP))
        return BOOTINFO_NO_MEMORY_MAP;
    uint64_t pos = mbi.mmap_addr, end = (uint64_t)mbi.mmap_addr + mbi.mmap_length;
    while (pos + sizeof(struct mb1_mmap_entry) <= end) {
        const struct mb1_mmap_entry *ep = phys(pos, sizeof(*ep), ctx);
        if (!ep)
            return BOOTINFO_UNREADABLE;
        struct mb1_mmap_entry e;
        memcpy(&e, ep, sizeof(e));
        if (e.size < 20)
            return BOOTINFO_MALFORMED; /* would not advance past base/length/type */
        add_region(out, e.base, e.length, e.type);
        pos += (uint64_t)e.size + sizeof(e.size);
    }
    return out->region_count ? BOOTINFO_OK : BOOTINFO_NO_MEMORY_MAP;
}

static enum bootinfo_status mb2_efi_mmap(const uint8_t *tag, uint32_t size, struct boot_info *out)
{
    struct mb2_tag_efi_mmap h;
    if (size < sizeof(h))
        return BOOTINFO_MALFORMED;
    memcpy(&h, tag, sizeof(h));
    if (h.descriptor_size < sizeof(struct efi_memory_descriptor))
        return BOOTINFO_MALFORMED;
    out->region_count = 0;
    for (uint32_t off = sizeof(h); off + h.descriptor_size <= size; off += h.descriptor_size) {
        struct efi_memory_descriptor d;
        memcpy(&d, tag + off, sizeof(d));
        if (d.number_of_pages > (UINT64_MAX >> 12))
            return BOOTINFO_MALFORMED;
        add_region(out, d.physical_start, d.number_of_pages << 12, efi_type_to_region(d.type));
    }
    out->memory_map_from_efi = true;
    return BOOTINFO_OK;
}

static enum bootinfo_status mb2_mmap(const uint8_t *tag, uint32_t size, struct boot_info *out)
{
    struct mb2_tag_mmap h;
    if (size < sizeof(h))
        return BOOTINFO_MALFORMED;
    memcpy(&h, tag, sizeof(h));
    if (h.entry_size < sizeof(struct mb2_mmap_entry))
        return BOOTINFO_MALFORMED;
    for (uint32_t off = sizeof(h); off + h.entry_size <= size; off += h.entry_size) {
        struct mb2_mmap_entry e;
        memcpy(&e, tag + off, sizeof(e));
        add_region(out, e.base, e.length, e.type);
    }
    return BOOTINFO_OK;
}

static enum bootinfo_status parse_mb2(uint64_t info_pa, bootinfo_phys_fn phys, void *ctx,
                                      struct boot_info *out)
{
    const struct mb2_info_header *hp = phys(info_pa, sizeof(*hp), ctx);
    if (!hp)
        return BOOTINFO_UNREADABLE;
    uint32_t total = hp->total_size;
    if (total < sizeof(*hp) + sizeof(struct mb2_tag) || total > (1u << 20))
        return BOOTINFO_MALFORMED;
    const uint8_t *base = phys(info_pa, total, ctx);
    if (!base)
        return BOOTINFO_UNREADABLE;
    out->protocol = BOOT_PROTOCOL_MULTIBOOT2;

    bool have_mmap = false;
    uint32_t off = sizeof(*hp);
    while (off + sizeof(struct mb2_tag) <= total) {
        struct mb2_tag t;
        memcpy(&t, base + off, sizeof(t));
        if (t.type == MB2_TAG_END)
            break;
        if (t.size < sizeof(t) || t.size > total - off)
            return BOOTINFO_MALFORMED;
        const uint8_t *tag = base + off;
        const char *payload = (const char *)tag + sizeof(t);
        size_t payload_len = t.size - sizeof(t);
        enum bootinfo_status st = BOOTINFO_OK;
        switch (t.type) {
        case MB2_TAG_CMDLINE: {
            size_t n = strnlen(payload, payload_len);
            if (n >= sizeof(out->cmdline))
                n = sizeof(out->cmdline) - 1;
            memcpy(out->cmdline, payload, n);
            out->cmdline[n] = '\0';
            break;
        }
        case MB2_TAG_MODULE: {
            struct mb2_tag_module m;
            if (t.size < sizeof(m))
                return BOOTINFO_MALFORMED;
            memcpy(&m, tag, sizeof(m));
            char string[BOOT_MODULE_NAME_MAX + BOOT_MODULE_ARGS_MAX];
            size_t n = strnlen((const char *)tag + sizeof(m), t.size - sizeof(m));
            if (n >= sizeof(string))
                n = sizeof(string) - 1;
            memcpy(string, tag + sizeof(m), n);
            string[n] = '\0';
            if (!add_module(out, m.mod_start, m.mod_end, string))
                return BOOTINFO_MALFORMED;
            break;
        }
        case MB2_TAG_MMAP:
            if (!out->memory_map_from_efi) {
                out->region_count = 0;
                st = mb2_mmap(tag, t.size, out);
                have_mmap = true;
            }
            break;
        case MB2_TAG_EFI_MMAP:
            /* Preferred: on UEFI machines the legacy map may be missing or partial. */
            st = mb2_efi_mmap(tag, t.size, out);
            have_mmap = true;
            break;
        case MB2_TAG_ACPI_OLD:
        case MB2_TAG_ACPI_NEW: {
            size_t want = t.type == MB2_TAG_ACPI_NEW ? 36 : 20;
            if (payload_len < want)
                return BOOTINFO_MALFORMED;
            if (!out->has_rsdp || t.type == MB2_TAG_ACPI_NEW) {
                memcpy(out->rsdp, payload, want);
                out->rsdp_length = want;
                out->has_rsdp = true;
            }
            break;
        }
        default:
            break;
        }
        if (st != BOOTINFO_OK)
            return st;
        off += (t.size + 7u) & ~7u; /* tags are 8-byte aligned */
    }
    return have_mmap && out->region_count ? BOOTINFO_OK : BOOTINFO_NO_MEMORY_MAP;
}

enum bootinfo_status bootinfo_parse(uint32_t magic, uint64_t info_pa, bootinfo_phys_fn phys,
                                    void *ctx, struct boot_info *out)
{
    memset(out, 0, sizeof(*out));
    if (magic == MULTIBOOT1_LOADER_MAGIC)
        return parse_mb1(info_pa, phys, ctx, out);
    if (magic == MULTIBOOT2_LOADER_MAGIC)
        return parse_mb2(info_pa, phys, ctx, out);
    return BOOTINFO_BAD_MAGIC;
}

const char *bootinfo_status_name(enum bootinfo_status status)
{
    switch (status) {
    case BOOTINFO_OK:
        return "ok";
    case BOOTINFO_BAD_MAGIC:
        return "not started by a multiboot loader (bad magic)";
    case BOOTINFO_UNREADABLE:
        return "loader info points outside readable memory";
    case BOOTINFO_MALFORMED:
        return "loader info is malformed";
    case BOOTINFO_NO_MEMORY_MAP:
        return "loader gave no memory map";
    }
    return "unknown";
}

uint64_t bootinfo_usable_bytes(const struct boot_info *info)
{
    uint64_t total = 0;
    for (size_t i = 0; i < info->region_count; i++)
        if (info->regions[i].type == BOOT_REGION_USABLE)
            total += info->regions[i].length;
    return total;
}
