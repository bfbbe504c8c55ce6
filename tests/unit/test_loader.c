// sources: root/loader.c
/* The child ELF loader (root/loader.c) against well-formed and hostile headers. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "root/loader.h"

#define RAM_SIZE (64u * 1024)

/* A test ELF: header, program headers at 64 (ELF32) or 64 (ELF64), payload at 512. */
struct image {
    uint8_t bytes[2048];
    size_t size;
};

static uint8_t ram[RAM_SIZE];

static void put16(uint8_t *p, uint16_t v) { memcpy(p, &v, 2); }
static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static void put64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }

/* ELF32 with `count` program headers, all PT_LOAD [0x1000 + i*0x1000, memsz 0x800) from
 * file offset 512 + i*64 (filesz 64); entry 0x1010. */
static void elf32(struct image *im, unsigned count)
{
    memset(im, 0, sizeof(*im));
    uint8_t *b = im->bytes;
    memcpy(b, "\177ELF", 4);
    b[4] = 1, b[5] = 1, b[6] = 1;
    put16(b + 16, 2);      /* ET_EXEC */
    put16(b + 18, 3);      /* EM_386 */
    put32(b + 20, 1);      /* e_version */
    put32(b + 24, 0x1010); /* e_entry */
    put32(b + 28, 64);     /* e_phoff */
    put16(b + 40, 52);     /* e_ehsize */
    put16(b + 42, 32);     /* e_phentsize */
    put16(b + 44, (uint16_t)count);
    for (unsigned i = 0; i < count; i++) {
        uint8_t *p = b + 64 + i * 32;
        put32(p, 1);                     /* PT_LOAD */
        put32(p + 4, 512 + i * 64);      /* p_offset */
        put32(p + 8, 0x1000 + i * 0x1000); /* p_vaddr */
        put32(p + 12, 0x1000 + i * 0x1000); /* p_paddr */
        put32(p + 16, 64);               /* p_filesz */
        put32(p + 20, 0x800);            /* p_memsz */
        memset(b + 512 + i * 64, 0x11 * (int)(i + 1), 64);
    }
    im->size = 1024;
}

static uint8_t *phdr32(struct image *im, unsigned i) { return im->bytes + 64 + i * 32; }

/* ELF64, one PT_LOAD: vaddr 0xffffffff81000000 -> paddr 0x2000, entry vaddr + 0x20. */
static void elf64(struct image *im)
{
    memset(im, 0, sizeof(*im));
    uint8_t *b = im->bytes;
    memcpy(b, "\177ELF", 4);
    b[4] = 2, b[5] = 1, b[6] = 1;
    put16(b + 16, 2);
    put16(b + 18, 62); /* EM_X86_64 */
    put32(b + 20, 1);
    put64(b + 24, 0xffffffff81000020ull);
    put64(b + 32, 64);
    put16(b + 52, 64);
    put16(b + 54, 56);
    put16(b + 56, 1);
    uint8_t *p = b + 64;
    put32(p, 1);
    put32(p + 4, 5);
    put64(p + 8, 512);
    put64(p + 16, 0xffffffff81000000ull);
    put64(p + 24, 0x2000);
    put64(p + 32, 100);
    put64(p + 40, 0x1000);
    memset(b + 512, 0x77, 100);
    im->size = 1024;
}

static bool load(struct image *im, struct loader_result *r)
{
    memset(ram, 0xAA, sizeof(ram));
    return loader_load_elf(im->bytes, im->size, ram, RAM_SIZE, r);
}

/* Loading must fail with an error containing `words`, and copy nothing. */
static void refused(struct image *im, const char *words)
{
    struct loader_result r;
    ck_assert_msg(!load(im, &r), "accepted; want an error with \"%s\"", words);
    ck_assert_msg(strstr(r.error, words), "error \"%s\" lacks \"%s\"", r.error, words);
    for (size_t i = 0; i < RAM_SIZE; i++)
        ck_assert_uint_eq(ram[i], 0xAA);
}

START_TEST(elf32_loads_segments_and_zeroes_the_rest)
{
    struct image im;
    elf32(&im, 2);
    struct loader_result r;
    ck_assert_msg(load(&im, &r), "%s", r.error);
    ck_assert_str_eq(r.error, "");
    ck_assert_uint_eq(r.entry, 0x1010);
    ck_assert_uint_eq(r.class_bits, 32);
    ck_assert_uint_eq(r.segments, 2);
    ck_assert_uint_eq(r.low, 0x1000);
    ck_assert_uint_eq(r.high, 0x2800);
    ck_assert_uint_eq(ram[0x1000], 0x11);
    ck_assert_uint_eq(ram[0x103F], 0x11);
    ck_assert_uint_eq(ram[0x1040], 0x00); /* p_memsz beyond p_filesz is zero */
    ck_assert_uint_eq(ram[0x17FF], 0x00);
    ck_assert_uint_eq(ram[0x1800], 0xAA); /* untouched after the segment */
    ck_assert_uint_eq(ram[0x2000], 0x22);
    ck_assert_uint_eq(ram[0x27FF], 0x00);
    ck_assert_uint_eq(ram[0x0FFF], 0xAA);
}
END_TEST

START_TEST(elf64_entry_is_translated_to_its_physical_address)
{
    struct image im;
    elf64(&im);
    struct loader_result r;
    ck_assert_msg(load(&im, &r), "%s", r.error);
    ck_assert_uint_eq(r.class_bits, 64);
    ck_assert_uint_eq(r.entry, 0x2020);
    ck_assert_uint_eq(ram[0x2000], 0x77);
    ck_assert_uint_eq(ram[0x2063], 0x77);
    ck_assert_uint_eq(ram[0x2064], 0x00);
    ck_assert_uint_eq(ram[0x2FFF], 0x00);
    ck_assert_uint_eq(ram[0x3000], 0xAA);
}
END_TEST

START_TEST(bad_identification)
{
    struct image im;
    elf32(&im, 1);
    im.size = 51;
    refused(&im, "too short");
    elf32(&im, 1);
    im.bytes[1] = 'X';
    refused(&im, "magic");
    elf32(&im, 1);
    im.bytes[4] = 3;
    refused(&im, "class 3");
    elf32(&im, 1);
    im.bytes[5] = 2; /* big-endian */
    refused(&im, "little-endian");
    elf32(&im, 1);
    im.bytes[6] = 0;
    refused(&im, "identification version");
    elf32(&im, 1);
    put16(im.bytes + 18, 40); /* EM_ARM */
    refused(&im, "machine 40");
    elf32(&im, 1);
    put16(im.bytes + 16, 3); /* ET_DYN */
    refused(&im, "type 3");
    elf32(&im, 1);
    put32(im.bytes + 20, 2);
    refused(&im, "ELF version 2");
    elf32(&im, 1);
    put16(im.bytes + 40, 40);
    refused(&im, "e_ehsize");
    elf64(&im);
    im.size = 60; /* an ELF32 header's worth, not an ELF64 one */
    refused(&im, "ELF64 header");
}
END_TEST

START_TEST(bad_program_header_table)
{
    struct image im;
    elf32(&im, 1);
    put16(im.bytes + 44, 0);
    refused(&im, "no program headers");
    elf32(&im, 1);
    put16(im.bytes + 44, 0xFFFF);
    refused(&im, "PN_XNUM");
    elf32(&im, 1);
    put16(im.bytes + 42, 16);
    refused(&im, "e_phentsize");
    elf32(&im, 1);
    put32(im.bytes + 28, 2000); /* beyond the 1024-byte module */
    refused(&im, "outside the module");
    elf32(&im, 1);
    put32(im.bytes + 28, 1000); /* starts inside, ends outside */
    refused(&im, "outside the module");
    elf64(&im);
    put64(im.bytes + 32, 0xFFFFFFFFFFFFFFF0ull); /* offset + size wraps */
    refused(&im, "outside the module");
    elf32(&im, 1);
    put16(im.bytes + 44, 40); /* 40 * 32 bytes from 64 > 1024 */
    refused(&im, "outside the module");
}
END_TEST

START_TEST(bad_segments)
{
    struct image im;
    elf32(&im, 2);
    put32(phdr32(&im, 1) + 4, 1000); /* p_offset + p_filesz past the module */
    refused(&im, "segment 1: file bytes");
    elf32(&im, 1);
    put32(phdr32(&im, 0) + 16, 0x900); /* p_filesz > p_memsz */
    refused(&im, "exceeds p_memsz");
    elf32(&im, 1);
    put32(phdr32(&im, 0) + 12, RAM_SIZE - 0x400); /* ends past RAM */
    refused(&im, "outside the child's RAM");
    elf32(&im, 1);
    put32(phdr32(&im, 0) + 12, 0xFFFFFF00u); /* far beyond RAM */
    refused(&im, "outside the child's RAM");
    elf64(&im);
    put64(im.bytes + 64 + 24, 0xFFFFFFFFFFFFF000ull); /* paddr + memsz wraps */
    refused(&im, "outside the child's RAM");
    elf64(&im);
    put64(im.bytes + 64 + 8, 0xFFFFFFFFFFFFFFF0ull); /* offset + filesz wraps */
    refused(&im, "outside the module");
    elf32(&im, 1);
    put32(phdr32(&im, 0), 4); /* PT_NOTE only */
    refused(&im, "no PT_LOAD");
    elf32(&im, 1);
    put32(phdr32(&im, 0) + 20, 0); /* memsz 0 */
    put32(phdr32(&im, 0) + 16, 0);
    refused(&im, "no PT_LOAD");
}
END_TEST

START_TEST(bad_entry)
{
    struct image im;
    elf32(&im, 1);
    put32(im.bytes + 24, 0x5000); /* in RAM but in no segment */
    refused(&im, "lies in no loadable segment");
    elf32(&im, 1);
    put32(im.bytes + 24, 0x1800); /* one past the segment */
    refused(&im, "lies in no loadable segment");
    struct loader_result r;
    ck_assert(!loader_load_elf(NULL, 100, ram, RAM_SIZE, &r));
    ck_assert(!loader_load_elf(im.bytes, im.size, NULL, RAM_SIZE, &r));
}
END_TEST

/* Every prefix of a valid image and every single-byte corruption of its headers: no
 * crash, no access outside the module or the RAM (ASan watches), no hang. */
START_TEST(truncations_and_corruptions_are_safe)
{
    struct image im;
    struct loader_result r;
    for (size_t size = 0; size <= 1024; size++) {
        elf32(&im, 2);
        im.size = size;
        uint8_t *copy = malloc(size ? size : 1);
        memcpy(copy, im.bytes, size);
        bool ok = loader_load_elf(copy, size, ram, RAM_SIZE, &r);
        ck_assert(ok == (size >= 640)); /* the second segment's bytes end at 640 */
        free(copy);
    }
    for (size_t at = 0; at < 64 + 2 * 32; at++)
        for (unsigned v = 0; v < 256; v += 17) {
            elf32(&im, 2);
            im.bytes[at] = (uint8_t)v;
            (void)load(&im, &r);
        }
}
END_TEST

START_TEST(real_guest_image)
{
    FILE *f = fopen("build/guests/hello.elf", "rb");
    ck_assert_msg(f, "build/guests/hello.elf: run the unit tests from the top after ninja");
    static uint8_t module[1 << 20];
    size_t size = fread(module, 1, sizeof(module), f);
    fclose(f);
    static uint8_t big_ram[4u << 20];
    struct loader_result r;
    ck_assert_msg(loader_load_elf(module, size, big_ram, sizeof(big_ram), &r), "%s", r.error);
    ck_assert_uint_eq(r.class_bits, 32);
    ck_assert_uint_ge(r.low, 1u << 20); /* linked at 1 MiB (images/guests/lib/guest.ld) */
    ck_assert(r.entry >= r.low && r.entry < r.high);
    /* The same module in too little RAM is refused. */
    ck_assert(!loader_load_elf(module, size, big_ram, 1u << 20, &r));
    ck_assert(strstr(r.error, "outside the child's RAM"));
}
END_TEST

Suite *loader_suite(void)
{
    Suite *s = suite_create("loader");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, elf32_loads_segments_and_zeroes_the_rest);
    tcase_add_test(tc, elf64_entry_is_translated_to_its_physical_address);
    tcase_add_test(tc, bad_identification);
    tcase_add_test(tc, bad_program_header_table);
    tcase_add_test(tc, bad_segments);
    tcase_add_test(tc, bad_entry);
    tcase_add_test(tc, truncations_and_corruptions_are_safe);
    tcase_add_test(tc, real_guest_image);
    suite_add_tcase(s, tc);
    return s;
}
