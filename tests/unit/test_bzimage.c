// sources: root/bzimage.c
/*
 * The bzImage loader (root/bzimage.c) against a synthetic bzImage built here (a setup
 * header with the boot.rst fields and a small payload), hostile headers, and — when
 * `ninja linux` has made build/linux/vmlinuz — Debian's real kernel.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "root/bzimage.h"

#define RAM_SIZE (32ull << 20)
#define SETUP_SECTS 2
#define SETUP_SIZE ((SETUP_SECTS + 1) * 512)
#define PAYLOAD_SIZE 4096
#define IMAGE_SIZE (SETUP_SIZE + PAYLOAD_SIZE)
#define PREF 0x1000000ull
#define INIT_SIZE 0x100000u
#define RSDP_GPA (RAM_SIZE - 0x10000)
#define FILL 0xCC
#define VMLINUZ "build/linux/vmlinuz"
#define INITRAMFS "build/linux/initramfs.cpio.gz"

static uint8_t image[IMAGE_SIZE];
static uint8_t *ram;
static struct bzimage_layout layout;
static char why[BZIMAGE_WHY_MAX];

static uint16_t get16(const uint8_t *p) { uint16_t v; memcpy(&v, p, 2); return v; }
static uint32_t get32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static uint64_t get64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }
static void put16(uint8_t *p, uint16_t v) { memcpy(p, &v, 2); }
static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static void put64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }

/* A bzImage as Linux 6.1's arch/x86/boot/header.S lays it out, with a patterned payload. */
static void make_image(void)
{
    memset(image, 0, sizeof(image));
    image[0x1F1] = SETUP_SECTS;
    put16(image + 0x1FE, 0xAA55);
    image[0x200] = 0xEB;
    image[0x201] = 0x6A; /* the header ends at 0x26C, like 6.1's */
    memcpy(image + 0x202, "HdrS", 4);
    put16(image + 0x206, 0x020F);
    image[0x211] = 0x01;                /* LOADED_HIGH */
    put32(image + 0x22C, 0x7FFFFFFF);   /* initrd_addr_max */
    put32(image + 0x230, 0x200000);     /* kernel_alignment */
    image[0x234] = 1;                   /* relocatable_kernel */
    image[0x235] = 21;                  /* min_alignment */
    put16(image + 0x236, 0x7F);         /* xloadflags: XLF_KERNEL_64 and friends */
    put32(image + 0x238, 2047);         /* cmdline_size */
    put64(image + 0x258, PREF);         /* pref_address */
    put32(image + 0x260, INIT_SIZE);    /* init_size */
    for (unsigned i = 0; i < PAYLOAD_SIZE; i++)
        image[SETUP_SIZE + i] = (uint8_t)(i * 7 + 3);
}

static void setup(void)
{
    make_image();
    ram = malloc(RAM_SIZE);
    ck_assert_ptr_nonnull(ram);
    memset(ram, FILL, RAM_SIZE);
    memset(&layout, 0, sizeof(layout));
    memset(why, 0, sizeof(why));
}

static void teardown(void)
{
    free(ram);
    ram = NULL;
}

static bool load(const uint8_t *initrd, size_t initrd_size, const char *cmdline)
{
    return bzimage_load(image, IMAGE_SIZE, initrd, initrd_size, cmdline, ram, RAM_SIZE,
                        RSDP_GPA, &layout, why);
}

static bool ram_untouched(void)
{
    for (size_t i = 0; i < RAM_SIZE; i++)
        if (ram[i] != FILL)
            return false;
    return true;
}

/* Loading must fail with `expect` in the message and leave every RAM byte alone. */
static void expect_failure(bool loaded, const char *expect)
{
    ck_assert_msg(!loaded, "loaded although hostile");
    ck_assert_msg(strstr(why, expect), "why = \"%s\", want \"%s\"", why, expect);
    ck_assert_msg(ram_untouched(), "RAM written by a failed load");
}

START_TEST(test_load_places_everything)
{
    static uint8_t initrd[10000];
    memset(initrd, 0x5A, sizeof(initrd));
    ck_assert(bzimage_probe(image, IMAGE_SIZE));
    ck_assert_msg(load(initrd, sizeof(initrd), "console=ttyS0 quiet"), "%s", why);
    ck_assert_str_eq(why, "");

    ck_assert_uint_eq(layout.protocol_version, 0x020F);
    ck_assert_uint_eq(layout.kernel_gpa, PREF);
    ck_assert_uint_eq(layout.kernel_size, PAYLOAD_SIZE);
    ck_assert_uint_eq(layout.kernel_extent, INIT_SIZE);
    ck_assert_uint_eq(layout.entry_gpa, PREF + 0x200);
    ck_assert_mem_eq(ram + PREF, image + SETUP_SIZE, PAYLOAD_SIZE);

    /* The ACPI hole is the top 64 KiB; the initrd sits page-aligned just below it. */
    ck_assert_uint_eq(layout.acpi_gpa, RAM_SIZE - BZIMAGE_ACPI_SIZE);
    ck_assert_uint_eq(bzimage_acpi_base(RAM_SIZE), layout.acpi_gpa);
    ck_assert_uint_eq(layout.acpi_size, BZIMAGE_ACPI_SIZE);
    ck_assert_uint_eq(layout.initrd_size, sizeof(initrd));
    ck_assert_uint_eq(layout.initrd_gpa, (layout.acpi_gpa - sizeof(initrd)) & ~0xFFFull);
    ck_assert_uint_ge(layout.initrd_gpa, PREF + INIT_SIZE);
    ck_assert_mem_eq(ram + layout.initrd_gpa, initrd, sizeof(initrd));

    ck_assert_uint_eq(layout.cmdline_gpa, BZIMAGE_CMDLINE_GPA);
    ck_assert_uint_eq(layout.cmdline_size, strlen("console=ttyS0 quiet"));
    ck_assert_str_eq((const char *)ram + layout.cmdline_gpa, "console=ttyS0 quiet");

    ck_assert_uint_eq(layout.cr3, layout.page_tables_gpa);
    ck_assert_uint_eq(layout.cr0, 0x80000031);
    ck_assert_uint_eq(layout.cr4, 0x20);
    ck_assert_uint_eq(layout.efer, 0x500);
}
END_TEST

START_TEST(test_boot_params)
{
    static uint8_t initrd[4096];
    put64(image + 0x250, 0x123000);    /* setup_data: a module must not plant a list */
    put32(image + 0x23C, 2);           /* hardware_subarch: Xen PV */
    ck_assert_msg(load(initrd, sizeof(initrd), "root=/dev/sda"), "%s", why);
    const uint8_t *bp = ram + layout.boot_params_gpa;
    ck_assert_uint_eq(layout.boot_params_gpa, BZIMAGE_BOOT_PARAMS_GPA);
    /* Zeroed page, header copied from 0x1F1 to its end, nothing after it. */
    ck_assert_uint_eq(bp[0x000], 0);
    ck_assert_uint_eq(bp[0x1EF], 0); /* sentinel */
    ck_assert_uint_eq(bp[0x1F1], SETUP_SECTS);
    ck_assert_uint_eq(get16(bp + 0x1FE), 0xAA55);
    ck_assert_mem_eq(bp + 0x202, "HdrS", 4);
    ck_assert_uint_eq(get16(bp + 0x206), 0x020F);
    ck_assert_uint_eq(get32(bp + 0x260), INIT_SIZE);
    ck_assert_uint_eq(get32(bp + 0x26C), 0);
    /* The loader's fields. */
    ck_assert_uint_eq(bp[0x210], 0xFF);
    ck_assert_uint_eq(get64(bp + 0x250), 0);
    ck_assert_uint_eq(get32(bp + 0x23C), 0);
    ck_assert_uint_eq(get32(bp + 0x228), BZIMAGE_CMDLINE_GPA);
    ck_assert_uint_eq(get32(bp + 0x0C8), 0);
    ck_assert_uint_eq(get32(bp + 0x218), layout.initrd_gpa);
    ck_assert_uint_eq(get32(bp + 0x21C), sizeof(initrd));
    ck_assert_uint_eq(get32(bp + 0x0C0), 0);
    ck_assert_uint_eq(get64(bp + 0x070), RSDP_GPA);

    /* e820: the documented map, sorted, contiguous, RAM [1 MiB, hole), ACPI at the top. */
    ck_assert_uint_eq(bp[0x1E8], layout.e820_entries);
    ck_assert_uint_eq(layout.e820_entries, 6);
    uint64_t next = 0;
    for (unsigned i = 0; i < layout.e820_entries; i++) {
        const uint8_t *e = bp + 0x2D0 + i * 20;
        ck_assert_uint_eq(get64(e), layout.e820[i].address);
        ck_assert_uint_eq(get64(e + 8), layout.e820[i].size);
        ck_assert_uint_eq(get32(e + 16), layout.e820[i].type);
        ck_assert_uint_eq(layout.e820[i].address, next);
        next += layout.e820[i].size;
    }
    ck_assert_uint_eq(next, RAM_SIZE);
    ck_assert_uint_eq(layout.e820[1].address, BZIMAGE_GDT_GPA);
    ck_assert_uint_eq(layout.e820[1].type, BZIMAGE_E820_RESERVED);
    ck_assert_uint_eq(layout.e820[4].address, 0x100000);
    ck_assert_uint_eq(layout.e820[4].type, BZIMAGE_E820_RAM);
    ck_assert_uint_eq(layout.e820[5].address, layout.acpi_gpa);
    ck_assert_uint_eq(layout.e820[5].type, BZIMAGE_E820_ACPI);
    /* The loader's structures lie in the reserved range; the kernel in usable RAM. */
    ck_assert_uint_ge(layout.page_tables_gpa, layout.e820[1].address);
    ck_assert_uint_le(layout.page_tables_gpa + layout.page_tables_size,
                      layout.e820[1].address + layout.e820[1].size);
    ck_assert_uint_le(layout.kernel_gpa + layout.kernel_extent, layout.acpi_gpa);
}
END_TEST

/* Walks the page tables like the CPU (SDM vol. 3A 4.5): PML4 -> PDPT -> PD (2 MiB). */
static uint64_t translate_in(const uint8_t *memory, uint64_t va)
{
    uint64_t pml4e = get64(memory + layout.cr3 + ((va >> 39) & 511) * 8);
    if (!(pml4e & 1))
        return UINT64_MAX;
    uint64_t pdpte = get64(memory + (pml4e & ~0xFFFull) + ((va >> 30) & 511) * 8);
    if (!(pdpte & 1) || (pdpte & 0x80))
        return UINT64_MAX;
    uint64_t pde = get64(memory + (pdpte & ~0xFFFull) + ((va >> 21) & 511) * 8);
    if (!(pde & 1) || !(pde & 0x80) || !(pde & 2))
        return UINT64_MAX;
    return (pde & ~0x1FFFFFull) + (va & 0x1FFFFF);
}

static uint64_t translate(uint64_t va) { return translate_in(ram, va); }

START_TEST(test_page_tables_and_gdt)
{
    ck_assert_msg(load(NULL, 0, NULL), "%s", why);
    ck_assert_uint_eq(layout.identity_mapped, 1ull << 30);
    ck_assert_uint_eq(layout.page_tables_size, 3 * 4096);
    const uint64_t probes[] = { 0, layout.boot_params_gpa, layout.cmdline_gpa,
                                layout.entry_gpa, layout.kernel_gpa + INIT_SIZE - 1,
                                RAM_SIZE - 1, (1ull << 30) - 1 };
    for (unsigned i = 0; i < sizeof(probes) / sizeof(probes[0]); i++)
        ck_assert_uint_eq(translate(probes[i]), probes[i]);
    ck_assert_uint_eq(translate(1ull << 30), UINT64_MAX);

    const uint8_t *gdt = ram + layout.gdt_gpa;
    ck_assert_uint_eq(layout.gdt_limit, 31);
    ck_assert_uint_eq(get64(gdt), 0);
    uint64_t cs = get64(gdt + BZIMAGE_CODE_SELECTOR);
    uint64_t ds = get64(gdt + BZIMAGE_DATA_SELECTOR);
    ck_assert_msg((cs >> 47) & 1, "code present");
    ck_assert_msg((cs >> 53) & 1, "code L=1 (64-bit)");
    ck_assert_msg(!((cs >> 54) & 1), "code D=0 with L=1");
    ck_assert_uint_eq((cs >> 40) & 0xF, 0xB); /* execute/read, accessed */
    ck_assert_msg((ds >> 47) & 1, "data present");
    ck_assert_uint_eq((ds >> 40) & 0xF, 0x3); /* read/write, accessed */
    ck_assert_uint_eq(layout.code_attributes, 0xA09B);
    ck_assert_uint_eq(layout.data_attributes, 0xC093);
    ck_assert_uint_eq(get32(ram + layout.boot_params_gpa + 0x218), 0); /* no initrd */
    ck_assert_uint_eq(layout.initrd_gpa, 0);
    ck_assert_uint_eq(ram[layout.cmdline_gpa], 0);
}
END_TEST

START_TEST(test_acpi_base)
{
    ck_assert_uint_eq(bzimage_acpi_base(5ull << 30), (5ull << 30) - BZIMAGE_ACPI_SIZE);
    ck_assert_uint_eq(bzimage_acpi_base(0x100000), 0);
    ck_assert_uint_eq(bzimage_acpi_base(0x110000), 0x100000);
    ck_assert_uint_eq(bzimage_acpi_base(UINT64_MAX), 0xFFFFFFFFFFFFF000ull - BZIMAGE_ACPI_SIZE);
}
END_TEST

START_TEST(test_hostile_headers)
{
    ck_assert(!bzimage_probe(NULL, 0));
    expect_failure(bzimage_load(image, 0x263, NULL, 0, NULL, ram, RAM_SIZE, 0, &layout, why),
                   "too short");
    make_image(); put16(image + 0x1FE, 0x55AA);
    ck_assert(!bzimage_probe(image, IMAGE_SIZE));
    expect_failure(load(NULL, 0, NULL), "boot flag");
    make_image(); memcpy(image + 0x202, "HdrZ", 4);
    ck_assert(!bzimage_probe(image, IMAGE_SIZE));
    expect_failure(load(NULL, 0, NULL), "HdrS");
    make_image(); put16(image + 0x206, 0x020B);
    ck_assert(!bzimage_probe(image, IMAGE_SIZE));
    expect_failure(load(NULL, 0, NULL), "2.11");
    make_image(); put16(image + 0x236, 0x7E);
    ck_assert(!bzimage_probe(image, IMAGE_SIZE));
    expect_failure(load(NULL, 0, NULL), "XLF_KERNEL_64");
    make_image(); image[0x211] = 0;
    expect_failure(load(NULL, 0, NULL), "LOADED_HIGH");
    make_image(); image[0x1F1] = 255; /* 128 KiB of setup in a 5.5 KiB module */
    ck_assert(!bzimage_probe(image, IMAGE_SIZE));
    expect_failure(load(NULL, 0, NULL), "setup_sects 255");
    make_image(); image[0x1F1] = 0; /* 0 means 4: 2560 bytes, still inside */
    ck_assert(bzimage_probe(image, IMAGE_SIZE));
    make_image();
    expect_failure(bzimage_load(image, SETUP_SIZE, NULL, 0, NULL, ram, RAM_SIZE, 0, &layout,
                                why), "leaves no kernel");
    make_image(); image[0x201] = 0xFF; /* the header would end at 0x301 */
    expect_failure(load(NULL, 0, NULL), "setup header ends");
    make_image(); image[0x201] = 0x10; /* ends at 0x212: before init_size */
    expect_failure(load(NULL, 0, NULL), "setup header ends");
}
END_TEST

START_TEST(test_hostile_placement)
{
    make_image(); put32(image + 0x260, 0xFFFFFFFF); /* a 4 GiB kernel in 32 MiB */
    expect_failure(load(NULL, 0, NULL), "the kernel needs");
    make_image(); put64(image + 0x258, RAM_SIZE - 0x200000); /* [30, 32) MiB: fits... */
    ck_assert_msg(load(NULL, 0, NULL), "%s", why);
    memset(ram, FILL, RAM_SIZE);
    put32(image + 0x260, 0x200000); /* ...but 2 MiB runs into the ACPI hole */
    expect_failure(load(NULL, 0, NULL), "the kernel needs");
    make_image(); put64(image + 0x258, UINT64_MAX - 0x1FFFFF); /* aligned, wraps */
    expect_failure(load(NULL, 0, NULL), "the kernel needs");
    make_image(); put64(image + 0x258, 0x1001000);
    expect_failure(load(NULL, 0, NULL), "not aligned");
    make_image(); put64(image + 0x258, 0);
    expect_failure(load(NULL, 0, NULL), "above 1 MiB");
    make_image(); put32(image + 0x230, 0x300000);
    expect_failure(load(NULL, 0, NULL), "power of two");
    make_image(); image[0x234] = 0; put64(image + 0x258, 0x1001000); /* fixed, page-aligned */
    ck_assert_msg(load(NULL, 0, NULL), "%s", why);
    ck_assert_uint_eq(layout.kernel_gpa, 0x1001000);
}
END_TEST

START_TEST(test_hostile_initrd_and_cmdline)
{
    uint8_t *big = calloc(1, 16u << 20);
    ck_assert_ptr_nonnull(big);
    /* 32 MiB RAM: kernel to 17 MiB, hole at 32 MiB - 64 KiB: 16 MiB does not fit. */
    expect_failure(load(big, 16u << 20, NULL), "initrd");
    ck_assert_msg(load(big, (14u << 20), NULL), "%s", why); /* 14 MiB does */
    memset(ram, FILL, RAM_SIZE);
    free(big);
    make_image(); put32(image + 0x22C, 0x1000000); /* initrd_addr_max inside the kernel */
    static uint8_t small[4096];
    expect_failure(load(small, sizeof(small), NULL), "initrd_addr_max");
    make_image();
    expect_failure(load(NULL, 100, NULL), "without its bytes");

    put32(image + 0x238, 10);
    expect_failure(load(NULL, 0, "console=ttyS0"), "cmdline_size");
    ck_assert_msg(load(NULL, 0, "console=tt"), "%s", why); /* exactly 10 is fine */
    memset(ram, FILL, RAM_SIZE);
    make_image();
    put32(image + 0x238, 0xFFFFFFFF);
    char *long_line = malloc(BZIMAGE_CMDLINE_MAX + 2);
    ck_assert_ptr_nonnull(long_line);
    memset(long_line, 'x', BZIMAGE_CMDLINE_MAX + 1);
    long_line[BZIMAGE_CMDLINE_MAX + 1] = '\0';
    expect_failure(load(NULL, 0, long_line), "longer than");
    long_line[BZIMAGE_CMDLINE_MAX] = '\0';
    ck_assert_msg(load(NULL, 0, long_line), "%s", why);
    ck_assert_uint_eq(strlen((const char *)ram + BZIMAGE_CMDLINE_GPA), BZIMAGE_CMDLINE_MAX);
    free(long_line);
}
END_TEST

START_TEST(test_hostile_ram)
{
    expect_failure(bzimage_load(image, IMAGE_SIZE, NULL, 0, NULL, ram, RAM_SIZE, 0x1000,
                                &layout, why), "RSDP");
    expect_failure(bzimage_load(image, IMAGE_SIZE, NULL, 0, NULL, ram, RAM_SIZE, RAM_SIZE - 8,
                                &layout, why), "RSDP");
    expect_failure(bzimage_load(image, IMAGE_SIZE, NULL, 0, NULL, ram, RAM_SIZE - 1, 0,
                                &layout, why), "whole number of pages");
    expect_failure(bzimage_load(image, IMAGE_SIZE, NULL, 0, NULL, ram, 0x100000, 0, &layout,
                                why), "too small");
    expect_failure(bzimage_load(image, IMAGE_SIZE, NULL, 0, NULL, ram, 16u << 20, 0, &layout,
                                why), "the kernel needs");
    expect_failure(bzimage_load(image, IMAGE_SIZE, NULL, 0, NULL, NULL, RAM_SIZE, 0, &layout,
                                why), "no RAM");
}
END_TEST

static uint8_t *read_whole(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *bytes = n > 0 ? malloc((size_t)n) : NULL;
    if (bytes && fread(bytes, 1, (size_t)n, f) != (size_t)n) {
        free(bytes);
        bytes = NULL;
    }
    fclose(f);
    *size = bytes ? (size_t)n : 0;
    return bytes;
}

/* Debian's kernel (and initramfs if made): a 256 MiB child like the acceptance. */
START_TEST(test_real_vmlinuz)
{
    const uint64_t ram_size = 256ull << 20;
    size_t kernel_size, initrd_size = 0;
    uint8_t *kernel = read_whole(VMLINUZ, &kernel_size);
    ck_assert_ptr_nonnull(kernel);
    uint8_t *initrd = read_whole(INITRAMFS, &initrd_size);
    uint8_t *big = calloc(1, ram_size);
    ck_assert_ptr_nonnull(big);
    ck_assert(bzimage_probe(kernel, kernel_size));
    const char *cmdline = "console=ttyS0 hvfw.action=poweroff";
    bool ok = bzimage_load(kernel, kernel_size, initrd, initrd_size, cmdline, big, ram_size,
                           bzimage_acpi_base(ram_size), &layout, why);
    ck_assert_msg(ok, "%s", why);
    unsigned setup = ((kernel[0x1F1] ? kernel[0x1F1] : 4) + 1) * 512;
    ck_assert_uint_ge(layout.protocol_version, 0x020C);
    ck_assert_uint_eq(layout.kernel_gpa, get64(kernel + 0x258));
    ck_assert_uint_eq(layout.entry_gpa, layout.kernel_gpa + 0x200);
    ck_assert_uint_eq(layout.kernel_size, kernel_size - setup);
    ck_assert_uint_ge(layout.kernel_extent, get32(kernel + 0x260));
    ck_assert_mem_eq(big + layout.kernel_gpa, kernel + setup, 4096);
    ck_assert_int_eq(memcmp(big + layout.kernel_gpa, kernel + setup, kernel_size - setup), 0);
    if (initrd) {
        ck_assert_uint_eq(layout.initrd_size, initrd_size);
        ck_assert_int_eq(memcmp(big + layout.initrd_gpa, initrd, initrd_size), 0);
        ck_assert_uint_ge(layout.initrd_gpa, layout.kernel_gpa + layout.kernel_extent);
        ck_assert_uint_le(layout.initrd_gpa + initrd_size, layout.acpi_gpa);
    }
    const uint8_t *bp = big + layout.boot_params_gpa;
    unsigned header_end = 0x202u + kernel[0x201];
    ck_assert_int_eq(memcmp(bp + 0x1F1, kernel + 0x1F1, 0x210 - 0x1F1), 0);
    ck_assert_uint_eq(bp[0x210], 0xFF);
    ck_assert_int_eq(memcmp(bp + 0x258, kernel + 0x258, header_end - 0x258), 0);
    ck_assert_str_eq((const char *)big + get32(bp + 0x228), cmdline);
    ck_assert_uint_eq(translate_in(big, layout.entry_gpa), layout.entry_gpa);
    free(big);
    free(initrd);
    free(kernel);
}
END_TEST

Suite *bzimage_suite(void)
{
    Suite *s = suite_create("bzimage");
    TCase *t = tcase_create("synthetic");
    tcase_add_checked_fixture(t, setup, teardown);
    tcase_add_test(t, test_load_places_everything);
    tcase_add_test(t, test_boot_params);
    tcase_add_test(t, test_page_tables_and_gdt);
    tcase_add_test(t, test_acpi_base);
    tcase_add_test(t, test_hostile_headers);
    tcase_add_test(t, test_hostile_placement);
    tcase_add_test(t, test_hostile_initrd_and_cmdline);
    tcase_add_test(t, test_hostile_ram);
    suite_add_tcase(s, t);
    FILE *f = fopen(VMLINUZ, "rb");
    if (f) {
        fclose(f);
        TCase *real = tcase_create("vmlinuz");
        tcase_set_timeout(real, 60);
        tcase_add_test(real, test_real_vmlinuz);
        suite_add_tcase(s, real);
    } else {
        printf("bzimage: " VMLINUZ " absent (ninja linux makes it): real-kernel test skipped\n");
    }
    return s;
}
