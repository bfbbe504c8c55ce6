#include "root/loader.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* ELF identification and header fields (System V ABI, "ELF Header"; gABI 4.1). */
#define ELF_MAGIC "\177ELF"
#define EI_CLASS 4
#define EI_DATA 5
#define EI_VERSION 6
#define ELFCLASS32 1
#define ELFCLASS64 2
#define ELFDATA2LSB 1
#define EV_CURRENT 1
#define ET_EXEC 2
#define EM_386 3
#define EM_X86_64 62
#define PT_LOAD 1
/* e_phnum 0xFFFF means "the count is in section 0" (PN_XNUM): not for boot images. */
#define PN_XNUM 0xFFFFu

struct elf32_header {
    uint8_t e_ident[16];
    uint16_t e_type, e_machine;
    uint32_t e_version, e_entry, e_phoff, e_shoff, e_flags;
    uint16_t e_ehsize, e_phentsize, e_phnum, e_shentsize, e_shnum, e_shstrndx;
} __attribute__((packed));
_Static_assert(sizeof(struct elf32_header) == 52, "Elf32_Ehdr");

struct elf64_header {
    uint8_t e_ident[16];
    uint16_t e_type, e_machine;
    uint32_t e_version;
    uint64_t e_entry, e_phoff, e_shoff;
    uint32_t e_flags;
    uint16_t e_ehsize, e_phentsize, e_phnum, e_shentsize, e_shnum, e_shstrndx;
} __attribute__((packed));
_Static_assert(sizeof(struct elf64_header) == 64, "Elf64_Ehdr");

struct elf32_program_header {
    uint32_t p_type, p_offset, p_vaddr, p_paddr, p_filesz, p_memsz, p_flags, p_align;
} __attribute__((packed));
_Static_assert(sizeof(struct elf32_program_header) == 32, "Elf32_Phdr");

struct elf64_program_header {
    uint32_t p_type, p_flags;
    uint64_t p_offset, p_vaddr, p_paddr, p_filesz, p_memsz, p_align;
} __attribute__((packed));
_Static_assert(sizeof(struct elf64_program_header) == 56, "Elf64_Phdr");

/* The header and segment fields we use, widened to 64 bits whatever the class. */
struct elf_file {
    unsigned class_bits;
    uint16_t machine;
    uint64_t entry, phoff;
    uint16_t phentsize, phnum;
};

struct elf_segment {
    uint32_t type;
    uint64_t offset, vaddr, paddr, filesz, memsz;
};

__attribute__((format(printf, 2, 3)))
static bool fail(struct loader_result *result, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(result->error, sizeof(result->error), fmt, ap);
    va_end(ap);
    return false;
}

static bool read_header(const uint8_t *image, size_t size, struct elf_file *elf,
                        struct loader_result *result)
{
    if (size < sizeof(struct elf32_header))
        return fail(result, "%zu bytes: too short for an ELF header", size);
    if (memcmp(image, ELF_MAGIC, 4) != 0)
        return fail(result, "not an ELF file (no \\177ELF magic)");
    if (image[EI_DATA] != ELFDATA2LSB)
        return fail(result, "ELF data encoding %u: not little-endian", image[EI_DATA]);
    if (image[EI_VERSION] != EV_CURRENT)
        return fail(result, "ELF identification version %u, want 1", image[EI_VERSION]);
    uint16_t type, ehsize;
    uint32_t version;
    if (image[EI_CLASS] == ELFCLASS32) {
        struct elf32_header h;
        memcpy(&h, image, sizeof(h));
        *elf = (struct elf_file){ 32, h.e_machine, h.e_entry, h.e_phoff, h.e_phentsize,
                                  h.e_phnum };
        type = h.e_type, version = h.e_version, ehsize = h.e_ehsize;
    } else if (image[EI_CLASS] == ELFCLASS64) {
        if (size < sizeof(struct elf64_header))
            return fail(result, "%zu bytes: too short for an ELF64 header", size);
        struct elf64_header h;
        memcpy(&h, image, sizeof(h));
        *elf = (struct elf_file){ 64, h.e_machine, h.e_entry, h.e_phoff, h.e_phentsize,
                                  h.e_phnum };
        type = h.e_type, version = h.e_version, ehsize = h.e_ehsize;
    } else {
        return fail(result, "ELF class %u: neither 32- nor 64-bit", image[EI_CLASS]);
    }
    if (type != ET_EXEC)
        return fail(result, "ELF type %u: not an executable (ET_EXEC)", type);
    if (elf->machine != EM_386 && elf->machine != EM_X86_64)
        return fail(result, "ELF machine %u: not x86 (EM_386 or EM_X86_64)", elf->machine);
    if (version != EV_CURRENT)
        return fail(result, "ELF version %u, want 1", version);
    size_t want_ehsize = elf->class_bits == 32 ? sizeof(struct elf32_header)
                                               : sizeof(struct elf64_header);
    if (ehsize < want_ehsize)
        return fail(result, "e_ehsize %u is smaller than the ELF%u header", ehsize,
                    elf->class_bits);
    return true;
}

static bool check_program_headers(size_t size, const struct elf_file *elf,
                                  struct loader_result *result)
{
    size_t want = elf->class_bits == 32 ? sizeof(struct elf32_program_header)
                                        : sizeof(struct elf64_program_header);
    if (elf->phnum == 0)
        return fail(result, "no program headers");
    if (elf->phnum == PN_XNUM)
        return fail(result, "e_phnum is PN_XNUM (extended numbering is not supported)");
    if (elf->phentsize < want)
        return fail(result, "e_phentsize %u is smaller than a program header (%zu)",
                    elf->phentsize, want);
    /* phnum * phentsize < 2^32: no overflow in 64 bits. */
    uint64_t table = (uint64_t)elf->phnum * elf->phentsize;
    if (elf->phoff > size || table > size - elf->phoff)
        return fail(result, "program headers [%#llx, +%#llx) lie outside the module (%zu bytes)",
                    (unsigned long long)elf->phoff, (unsigned long long)table, size);
    return true;
}

static void read_segment(const uint8_t *image, const struct elf_file *elf, unsigned i,
                         struct elf_segment *s)
{
    const uint8_t *at = image + elf->phoff + (uint64_t)i * elf->phentsize;
    if (elf->class_bits == 32) {
        struct elf32_program_header p;
        memcpy(&p, at, sizeof(p));
        *s = (struct elf_segment){ p.p_type, p.p_offset, p.p_vaddr, p.p_paddr, p.p_filesz,
                                   p.p_memsz };
    } else {
        struct elf64_program_header p;
        memcpy(&p, at, sizeof(p));
        *s = (struct elf_segment){ p.p_type, p.p_offset, p.p_vaddr, p.p_paddr, p.p_filesz,
                                   p.p_memsz };
    }
}

static bool check_segment(size_t size, uint64_t ram_size, unsigned i,
                          const struct elf_segment *s, struct loader_result *result)
{
    if (s->filesz > s->memsz)
        return fail(result, "segment %u: p_filesz %#llx exceeds p_memsz %#llx", i,
                    (unsigned long long)s->filesz, (unsigned long long)s->memsz);
    if (s->offset > size || s->filesz > size - s->offset)
        return fail(result, "segment %u: file bytes [%#llx, +%#llx) lie outside the module "
                    "(%zu bytes)", i, (unsigned long long)s->offset,
                    (unsigned long long)s->filesz, size);
    if (s->paddr > ram_size || s->memsz > ram_size - s->paddr)
        return fail(result, "segment %u: GPAs [%#llx, +%#llx) lie outside the child's RAM "
                    "(%llu MiB)", i, (unsigned long long)s->paddr,
                    (unsigned long long)s->memsz, (unsigned long long)(ram_size >> 20));
    return true;
}

/* The entry's GPA: e_entry is a virtual address, found in the segment that maps it. */
static bool translate_entry(const uint8_t *image, const struct elf_file *elf,
                            uint64_t *entry)
{
    for (unsigned i = 0; i < elf->phnum; i++) {
        struct elf_segment s;
        read_segment(image, elf, i, &s);
        if (s.type == PT_LOAD && elf->entry >= s.vaddr && elf->entry - s.vaddr < s.memsz) {
            *entry = s.paddr + (elf->entry - s.vaddr);
            return true;
        }
    }
    return false;
}

bool loader_load_elf(const uint8_t *image, size_t image_size, uint8_t *ram, uint64_t ram_size,
                     struct loader_result *result)
{
    memset(result, 0, sizeof(*result));
    struct elf_file elf = { 0 };
    if (!image || !ram)
        return fail(result, "no module or no RAM");
    if (!read_header(image, image_size, &elf, result) ||
        !check_program_headers(image_size, &elf, result))
        return false;

    /* Everything is checked before the first byte is copied. */
    unsigned loads = 0;
    for (unsigned i = 0; i < elf.phnum; i++) {
        struct elf_segment s;
        read_segment(image, &elf, i, &s);
        if (s.type != PT_LOAD || s.memsz == 0)
            continue;
        if (!check_segment(image_size, ram_size, i, &s, result))
            return false;
        loads++;
    }
    if (loads == 0)
        return fail(result, "no PT_LOAD segment with bytes to load");
    uint64_t entry;
    if (!translate_entry(image, &elf, &entry))
        return fail(result, "entry point %#llx lies in no loadable segment",
                    (unsigned long long)elf.entry);
    /* Paging is off at entry: EIP is a 32-bit physical address inside RAM. */
    if (entry >= ram_size || entry > UINT32_MAX)
        return fail(result, "entry point GPA %#llx lies outside the child's RAM",
                    (unsigned long long)entry);

    result->low = UINT64_MAX;
    for (unsigned i = 0; i < elf.phnum; i++) {
        struct elf_segment s;
        read_segment(image, &elf, i, &s);
        if (s.type != PT_LOAD || s.memsz == 0)
            continue;
        memcpy(ram + s.paddr, image + s.offset, (size_t)s.filesz);
        memset(ram + s.paddr + s.filesz, 0, (size_t)(s.memsz - s.filesz));
        if (s.paddr < result->low)
            result->low = s.paddr;
        if (s.paddr + s.memsz > result->high)
            result->high = s.paddr + s.memsz;
        result->segments++;
    }
    result->entry = entry;
    result->class_bits = elf.class_bits;
    return true;
}
