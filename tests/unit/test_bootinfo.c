// sources: kernel/bootinfo.c
#include <check.h>
#include <stdint.h>
#include <string.h>

#include "kernel/bootinfo.h"
#include "kernel/multiboot.h"

/* A fake physical memory window [BASE, BASE + sizeof(mem)) for the parser's accessor. */
#define BASE 0x10000u
static uint8_t mem[16384] __attribute__((aligned(8)));
static struct boot_info info;

static const void *fake_phys(uint64_t pa, size_t len, void *ctx)
{
    (void)ctx;
    if (pa < BASE || pa + len < pa || pa + len > BASE + sizeof(mem))
        return NULL;
    return mem + (pa - BASE);
}

static uint32_t put(uint32_t off, const void *data, size_t len)
{
    memcpy(mem + off, data, len);
    return BASE + off;
}

/* Multiboot v1: info at 0, cmdline at 0x100, mods at 0x200, strings at 0x300, mmap at 0x400. */
static void build_mb1(void)
{
    memset(mem, 0, sizeof(mem));
    struct mb1_info mbi = {0};
    mbi.flags = MB1_INFO_CMDLINE | MB1_INFO_MODS | MB1_INFO_MMAP;
    mbi.cmdline = put(0x100, "hvfw.elf loglevel=debug", 24);
    struct mb1_module mods[2] = {
        {0x200000, 0x201000, put(0x300, "/boot/hello.elf a b", 20), 0},
        {0x202000, 0x202800, put(0x340, "mem.elf", 8), 0},
    };
    mbi.mods_count = 2;
    mbi.mods_addr = put(0x200, mods, sizeof(mods));
    struct mb1_mmap_entry e[3] = {
        {20, 0x0, 0x9fc00, BOOT_REGION_USABLE},
        {20, 0xf0000, 0x10000, BOOT_REGION_RESERVED},
        {20, 0x100000, 0x7f00000, BOOT_REGION_USABLE},
    };
    mbi.mmap_addr = put(0x400, e, sizeof(e));
    mbi.mmap_length = sizeof(e);
    put(0, &mbi, sizeof(mbi));
}

START_TEST(mb1_parses_everything)
{
    build_mb1();
    ck_assert_int_eq(bootinfo_parse(MULTIBOOT1_LOADER_MAGIC, BASE, fake_phys, NULL, &info),
                     BOOTINFO_OK);
    ck_assert_int_eq(info.protocol, BOOT_PROTOCOL_MULTIBOOT1);
    ck_assert_str_eq(info.cmdline, "hvfw.elf loglevel=debug");
    ck_assert_uint_eq(info.module_count, 2);
    ck_assert_str_eq(info.modules[0].name, "hello.elf");
    ck_assert_str_eq(info.modules[0].args, "a b");
    ck_assert_uint_eq(info.modules[0].start, 0x200000);
    ck_assert_uint_eq(info.modules[0].end, 0x201000);
    ck_assert_str_eq(info.modules[1].name, "mem.elf");
    ck_assert_uint_eq(info.region_count, 3);
    ck_assert_uint_eq(bootinfo_usable_bytes(&info), 0x9fc00 + 0x7f00000);
    ck_assert(!info.has_rsdp);
}
END_TEST

START_TEST(mb1_hostile_fields)
{
    build_mb1();
    ck_assert_int_eq(bootinfo_parse(0x12345678, BASE, fake_phys, NULL, &info),
                     BOOTINFO_BAD_MAGIC);
    ck_assert_int_eq(bootinfo_parse(MULTIBOOT1_LOADER_MAGIC, 0x1000, fake_phys, NULL, &info),
                     BOOTINFO_UNREADABLE);

    /* an mmap entry whose size would not advance the walk */
    build_mb1();
    struct mb1_mmap_entry bad = {0, 0, 0x1000, 1};
    put(0x400, &bad, sizeof(bad));
    ck_assert_int_eq(bootinfo_parse(MULTIBOOT1_LOADER_MAGIC, BASE, fake_phys, NULL, &info),
                     BOOTINFO_MALFORMED);

    /* a module string pointing outside readable memory */
    build_mb1();
    struct mb1_module m = {0x200000, 0x201000, 0x90000000u, 0};
    put(0x200, &m, sizeof(m));
    ck_assert_int_eq(bootinfo_parse(MULTIBOOT1_LOADER_MAGIC, BASE, fake_phys, NULL, &info),
                     BOOTINFO_UNREADABLE);

    /* a module that ends before it starts */
    build_mb1();
    struct mb1_module back = {0x201000, 0x200000, 0, 0};
    put(0x200, &back, sizeof(back));
    ck_assert_int_eq(bootinfo_parse(MULTIBOOT1_LOADER_MAGIC, BASE, fake_phys, NULL, &info),
                     BOOTINFO_MALFORMED);

    /* a command line with no NUL in its first 4 KiB is cut, not over-read */
    build_mb1();
    struct mb1_info mbi;
    memcpy(&mbi, mem, sizeof(mbi));
    mbi.cmdline = BASE + 0x2000;
    memcpy(mem, &mbi, sizeof(mbi));
    memset(mem + 0x2000, 'x', sizeof(mem) - 0x2000);
    ck_assert_int_eq(bootinfo_parse(MULTIBOOT1_LOADER_MAGIC, BASE, fake_phys, NULL, &info),
                     BOOTINFO_OK);
    ck_assert_uint_eq(strlen(info.cmdline), BOOT_CMDLINE_MAX - 1);

    /* ... and one that runs off the end of readable memory is refused */
    mbi.cmdline = BASE + sizeof(mem) - 16;
    memcpy(mem, &mbi, sizeof(mbi));
    ck_assert_int_eq(bootinfo_parse(MULTIBOOT1_LOADER_MAGIC, BASE, fake_phys, NULL, &info),
                     BOOTINFO_UNREADABLE);
}
END_TEST

/* Multiboot2: tags appended 8-byte aligned after the fixed header. */
static uint32_t mb2_len;

static void mb2_tag(uint32_t type, const void *payload, uint32_t payload_len)
{
    struct mb2_tag t = {type, (uint32_t)sizeof(t) + payload_len};
    memcpy(mem + mb2_len, &t, sizeof(t));
    if (payload_len)
        memcpy(mem + mb2_len + sizeof(t), payload, payload_len);
    mb2_len += (t.size + 7u) & ~7u;
}

static void mb2_finish(void)
{
    mb2_tag(MB2_TAG_END, NULL, 0);
    struct mb2_info_header h = {mb2_len, 0};
    memcpy(mem, &h, sizeof(h));
}

static void build_mb2(bool with_efi)
{
    memset(mem, 0, sizeof(mem));
    mb2_len = sizeof(struct mb2_info_header);
    mb2_tag(MB2_TAG_CMDLINE, "loglevel=info", 14);
    struct {
        uint32_t start, end;
        char s[16];
    } mod = {0x300000, 0x310000, "disk.img x=1"};
    mb2_tag(MB2_TAG_MODULE, &mod, sizeof(mod));
    struct {
        uint32_t entry_size, entry_version;
        struct mb2_mmap_entry e[2];
    } mm = {sizeof(struct mb2_mmap_entry), 0,
            {{0, 0x9f000, BOOT_REGION_USABLE, 0}, {0x100000, 0x3ff00000, BOOT_REGION_USABLE, 0}}};
    mb2_tag(MB2_TAG_MMAP, &mm, sizeof(mm));
    uint8_t rsdp[36] = "RSD PTR ";
    rsdp[15] = 2;
    mb2_tag(MB2_TAG_ACPI_NEW, rsdp, sizeof(rsdp));
    if (with_efi) {
        struct {
            uint32_t descriptor_size, descriptor_version;
            struct efi_memory_descriptor d[3];
        } em = {sizeof(struct efi_memory_descriptor), 1,
                {{7, 0, 0x1000, 0, 0x9e, 0}, {3, 0, 0x100000, 0, 0x100, 0}, {7, 0, 0x200000, 0, 0x200, 0}}};
        mb2_tag(MB2_TAG_EFI_MMAP, &em, sizeof(em));
    }
    mb2_finish();
}

START_TEST(mb2_parses_everything)
{
    build_mb2(false);
    ck_assert_int_eq(bootinfo_parse(MULTIBOOT2_LOADER_MAGIC, BASE, fake_phys, NULL, &info),
                     BOOTINFO_OK);
    ck_assert_int_eq(info.protocol, BOOT_PROTOCOL_MULTIBOOT2);
    ck_assert_str_eq(info.cmdline, "loglevel=info");
    ck_assert_uint_eq(info.module_count, 1);
    ck_assert_str_eq(info.modules[0].name, "disk.img");
    ck_assert_str_eq(info.modules[0].args, "x=1");
    ck_assert_uint_eq(info.region_count, 2);
    ck_assert(info.has_rsdp);
    ck_assert_uint_eq(info.rsdp_length, 36);
    ck_assert(memcmp(info.rsdp, "RSD PTR ", 8) == 0);
    ck_assert(!info.memory_map_from_efi);
}
END_TEST

START_TEST(mb2_prefers_efi_map_and_merges)
{
    build_mb2(true);
    ck_assert_int_eq(bootinfo_parse(MULTIBOOT2_LOADER_MAGIC, BASE, fake_phys, NULL, &info),
                     BOOTINFO_OK);
    ck_assert(info.memory_map_from_efi);
    /* boot-services code (type 3) becomes usable and merges with its neighbour */
    ck_assert_uint_eq(info.region_count, 2);
    ck_assert_uint_eq(info.regions[1].base, 0x100000);
    ck_assert_uint_eq(info.regions[1].length, 0x300000);
}
END_TEST

START_TEST(mb2_hostile_tags)
{
    /* a tag whose size runs past total_size */
    build_mb2(false);
    struct mb2_tag t;
    memcpy(&t, mem + 8, sizeof(t));
    t.size = 0x100000;
    memcpy(mem + 8, &t, sizeof(t));
    ck_assert_int_eq(bootinfo_parse(MULTIBOOT2_LOADER_MAGIC, BASE, fake_phys, NULL, &info),
                     BOOTINFO_MALFORMED);

    /* a zero-size tag would loop forever */
    build_mb2(false);
    t.type = 21;
    t.size = 0;
    memcpy(mem + 8, &t, sizeof(t));
    ck_assert_int_eq(bootinfo_parse(MULTIBOOT2_LOADER_MAGIC, BASE, fake_phys, NULL, &info),
                     BOOTINFO_MALFORMED);

    /* total size larger than the readable window */
    build_mb2(false);
    struct mb2_info_header h = {sizeof(mem) + 64, 0};
    memcpy(mem, &h, sizeof(h));
    ck_assert_int_eq(bootinfo_parse(MULTIBOOT2_LOADER_MAGIC, BASE, fake_phys, NULL, &info),
                     BOOTINFO_UNREADABLE);

    /* mmap entry_size smaller than an entry */
    memset(mem, 0, sizeof(mem));
    mb2_len = sizeof(struct mb2_info_header);
    uint32_t bad_mmap[2] = {4, 0};
    mb2_tag(MB2_TAG_MMAP, bad_mmap, sizeof(bad_mmap));
    mb2_finish();
    ck_assert_int_eq(bootinfo_parse(MULTIBOOT2_LOADER_MAGIC, BASE, fake_phys, NULL, &info),
                     BOOTINFO_MALFORMED);

    /* no memory map at all */
    memset(mem, 0, sizeof(mem));
    mb2_len = sizeof(struct mb2_info_header);
    mb2_tag(MB2_TAG_CMDLINE, "x", 2);
    mb2_finish();
    ck_assert_int_eq(bootinfo_parse(MULTIBOOT2_LOADER_MAGIC, BASE, fake_phys, NULL, &info),
                     BOOTINFO_NO_MEMORY_MAP);
}
END_TEST

Suite *bootinfo_suite(void)
{
    Suite *s = suite_create("bootinfo");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, mb1_parses_everything);
    tcase_add_test(tc, mb1_hostile_fields);
    tcase_add_test(tc, mb2_parses_everything);
    tcase_add_test(tc, mb2_prefers_efi_map_and_merges);
    tcase_add_test(tc, mb2_hostile_tags);
    suite_add_tcase(s, tc);
    return s;
}
