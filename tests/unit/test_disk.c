// sources: root/disk.c
/* The appliance disk layout (root/disk.c): headers parsed back after encoding, every hostile
 * header refused (bad magic, version, CRC, counts, names, kinds, extents misaligned, in the
 * header area, beyond the disk, overlapping, no store or two), allocation first-fit, and the
 * attached disk over a RAM disk: a blank disk left alone unless formatting is asked for,
 * a torn header write recovered from the other copy, volume I/O bounded to its extent. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "root/disk.h"
#include "tests/unit/ram_disk.h"

#define DISK_SECTORS (64u * 2048u) /* 64 MiB */

static struct disk_io io;

static void setup(void)
{
    io = ram_disk_open(DISK_SECTORS, true);
}

static void teardown(void)
{
    disk_detach();
    free(ram);
}

static uint8_t header[DISK_HEADER_BYTES];

static void put32(uint8_t *p, uint32_t v)
{
    memcpy(p, &v, 4);
}

static void put64(uint8_t *p, uint64_t v)
{
    memcpy(p, &v, 8);
}

/* Re-seals a header edited by a test, so only the edit is wrong. */
static void reseal(void)
{
    put32(header + 36, 0);
    put32(header + 36, disk_crc32(0, header, DISK_HEADER_BYTES));
}

static struct disk_layout two_extents(void)
{
    struct disk_layout l;
    char why[DISK_WHY_MAX];
    ck_assert(disk_layout_format(&l, DISK_SECTORS, why, sizeof(why)));
    ck_assert_msg(disk_layout_allocate(&l, "web", DISK_EXTENT_VOLUME, 4096, why, sizeof(why)),
                  "%s", why);
    return l;
}

static bool parses(char *why)
{
    struct disk_layout out;
    return disk_layout_parse(header, DISK_SECTORS, &out, why, DISK_WHY_MAX);
}

START_TEST(crc32_is_zlibs)
{
    ck_assert_uint_eq(disk_crc32(0, "123456789", 9), 0xCBF43926u);
    ck_assert_uint_eq(disk_crc32(disk_crc32(0, "1234", 4), "56789", 5), 0xCBF43926u);
}
END_TEST

START_TEST(layout_round_trips)
{
    struct disk_layout l = two_extents(), back;
    l.generation = 7;
    disk_layout_encode(&l, header);
    ck_assert_mem_eq(header, "HVFWDISK", 8);
    char why[DISK_WHY_MAX];
    ck_assert_msg(disk_layout_parse(header, DISK_SECTORS, &back, why, sizeof(why)), "%s", why);
    ck_assert_uint_eq(back.extent_count, 2);
    ck_assert_uint_eq(back.generation, 7);
    ck_assert_str_eq(back.extents[0].name, "store");
    ck_assert_uint_eq(back.extents[0].kind, DISK_EXTENT_STORE);
    ck_assert_uint_eq(back.extents[0].start, 2048);
    ck_assert_uint_eq(back.extents[0].length, 8 * 2048); /* 64 MiB / 8 */
    ck_assert_str_eq(back.extents[1].name, "web");
    ck_assert_uint_eq(back.extents[1].start, 9 * 2048);
    ck_assert_uint_eq(back.extents[1].length, 4096);
}
END_TEST

START_TEST(hostile_headers_are_refused)
{
    char why[DISK_WHY_MAX];
    struct disk_layout l = two_extents();
    uint8_t good[DISK_HEADER_BYTES];
    disk_layout_encode(&l, good);
    uint8_t *extent1 = header + 64 + 48;
    /* Each edit on a fresh copy; resealed unless the CRC is what is tested. */
#define CASE(expect_text, statement, seal)                                                 \
    do {                                                                                   \
        memcpy(header, good, sizeof(good));                                                \
        statement;                                                                         \
        if (seal)                                                                          \
            reseal();                                                                      \
        ck_assert_msg(!parses(why), "accepted: %s", #statement);                           \
        ck_assert_msg(strstr(why, expect_text), "%s: %s", #statement, why);                \
    } while (0)
    CASE("magic", header[0] = 'X', true);
    CASE("version", put32(header + 8, 2), true);
    CASE("header of", put32(header + 12, 512), true);
    CASE("CRC", header[100] ^= 1, false);
    CASE("CRC", header[4095] = 1, false);
    CASE("reserved", header[50] = 1, true);
    CASE("extents (at most", put32(header + 32, 65), true);
    CASE("after the extent table", put32(header + 32, 1), true);
    CASE("store extents", put32(extent1 + 24, DISK_EXTENT_STORE), true);
    CASE("unknown kind", put32(extent1 + 24, 3), true);
    CASE("reserved", put32(extent1 + 28, 1), true);
    CASE("name not terminated", memset(extent1, 'a', 24), true);
    CASE("bad name", extent1[0] = 'W', true);
    CASE("bad name", extent1[0] = '\0', true);
    CASE("bad name", (extent1[3] = '\0', extent1[5] = 'x'), true);
    CASE("same name", memcpy(extent1, "store", 6), true);
    CASE("aligned", put64(extent1 + 32, 9 * 2048 + 1), true);
    CASE("aligned", put64(extent1 + 40, 2047), true);
    CASE("empty", put64(extent1 + 40, 0), true);
    CASE("header area", put64(extent1 + 32, 0), true);
    CASE("overlap", put64(extent1 + 32, 8 * 2048), true);
    CASE("overlap", put64(extent1 + 32, 2048), true);
    CASE("beyond the disk", put64(extent1 + 32, DISK_SECTORS), true);
    CASE("beyond the disk", put64(extent1 + 40, DISK_SECTORS), true);
    CASE("beyond the disk", put64(extent1 + 40, UINT64_MAX - 2047), true);
    CASE("beyond the disk", put64(extent1 + 32, UINT64_MAX - 2047), true);
#undef CASE
    /* A disk that shrank below an extent. */
    memcpy(header, good, sizeof(good));
    struct disk_layout out;
    ck_assert(!disk_layout_parse(header, 9 * 2048, &out, why, sizeof(why)));
    ck_assert_ptr_nonnull(strstr(why, "beyond the disk"));
}
END_TEST

START_TEST(random_headers_never_parse)
{
    srand(5);
    char why[DISK_WHY_MAX];
    for (int round = 0; round < 2000; round++) {
        struct disk_layout l = two_extents();
        disk_layout_encode(&l, header);
        /* Flip a few random bytes: a CRC must catch every one of them. */
        int flips = 1 + rand() % 4;
        for (int i = 0; i < flips; i++)
            header[rand() % DISK_HEADER_BYTES] ^= (uint8_t)(1 + rand() % 255);
        ck_assert(!parses(why));
    }
}
END_TEST

START_TEST(allocation_is_first_fit_and_bounded)
{
    struct disk_layout l;
    char why[DISK_WHY_MAX];
    ck_assert(disk_layout_format(&l, DISK_SECTORS, why, sizeof(why)));
    ck_assert(disk_layout_allocate(&l, "a", DISK_EXTENT_VOLUME, 2048 * 10, why, sizeof(why)));
    ck_assert(disk_layout_allocate(&l, "b", DISK_EXTENT_VOLUME, 2048 * 10, why, sizeof(why)));
    ck_assert(!disk_layout_allocate(&l, "a", DISK_EXTENT_VOLUME, 2048, why, sizeof(why)));
    ck_assert_ptr_nonnull(strstr(why, "exists"));
    ck_assert(!disk_layout_allocate(&l, "Bad", DISK_EXTENT_VOLUME, 2048, why, sizeof(why)));
    ck_assert(!disk_layout_allocate(&l, "c", DISK_EXTENT_VOLUME, 2048 * 40, why, sizeof(why)));
    ck_assert_ptr_nonnull(strstr(why, "no free space"));
    ck_assert(!disk_layout_allocate(&l, "c", DISK_EXTENT_VOLUME, UINT64_MAX, why, sizeof(why)));
    /* Remove a (as a delete would) and a smaller volume takes its place. */
    l.extents[1] = l.extents[2];
    l.extent_count = 2;
    ck_assert(disk_layout_allocate(&l, "c", DISK_EXTENT_VOLUME, 2048 * 3, why, sizeof(why)));
    ck_assert_uint_eq(disk_layout_find(&l, "c")->start, 9 * 2048);
    /* The rest of the disk, exactly. */
    ck_assert(disk_layout_allocate(&l, "d", DISK_EXTENT_VOLUME, 2048 * (64 - 29), why,
                                   sizeof(why)));
    uint8_t h[DISK_HEADER_BYTES];
    disk_layout_encode(&l, h);
    struct disk_layout back;
    ck_assert_msg(disk_layout_parse(h, DISK_SECTORS, &back, why, sizeof(why)), "%s", why);
    /* A full table. */
    for (uint32_t i = l.extent_count; i < DISK_EXTENTS_MAX; i++) {
        l.extents[i] = l.extents[1];
        snprintf(l.extents[i].name, sizeof(l.extents[i].name), "x%u", i);
    }
    l.extent_count = DISK_EXTENTS_MAX;
    ck_assert(!disk_layout_allocate(&l, "e", DISK_EXTENT_VOLUME, 2048, why, sizeof(why)));
    ck_assert_ptr_nonnull(strstr(why, "full"));
    /* Too small a disk is not formatted. */
    ck_assert(!disk_layout_format(&l, DISK_MIN_SECTORS - 1, why, sizeof(why)));
}
END_TEST

START_TEST(blank_and_foreign_disks_are_left_alone)
{
    char why[DISK_WHY_MAX];
    ck_assert_int_eq(disk_attach(&io, DISK_FORMAT_NEVER, why, sizeof(why)), DISK_NOT_HVFW);
    ck_assert_ptr_nonnull(strstr(why, "blank"));
    ram[510] = 0x55;
    ram[511] = 0xAA;
    ck_assert_int_eq(disk_attach(&io, DISK_FORMAT_NEVER, why, sizeof(why)), DISK_NOT_HVFW);
    ck_assert_ptr_nonnull(strstr(why, "MBR"));
    memcpy(ram + 512, "EFI PART", 8);
    ck_assert_int_eq(disk_attach(&io, DISK_FORMAT_NEVER, why, sizeof(why)), DISK_NOT_HVFW);
    ck_assert_ptr_nonnull(strstr(why, "GPT"));
    /* Nothing was written. */
    uint8_t *expect = calloc(1024, 1024);
    expect[510] = 0x55;
    expect[511] = 0xAA;
    memcpy(expect + 512, "EFI PART", 8);
    ck_assert_mem_eq(ram, expect, 1024 * 1024);
    free(expect);
    ck_assert_ptr_null(disk_layout());
    ck_assert_ptr_null(disk_volume_open("store"));
    ck_assert(!disk_volume_create("a", 1, why, sizeof(why)));
}
END_TEST

START_TEST(format_then_attach_again)
{
    char why[DISK_WHY_MAX];
    ck_assert_int_eq(disk_attach(&io, DISK_FORMAT_BLANK, why, sizeof(why)), DISK_FORMATTED);
    ck_assert_mem_eq(ram, "HVFWDISK", 8);
    ck_assert_mem_eq(ram + DISK_BACKUP_SECTOR * 512, "HVFWDISK", 8);
    ck_assert_int_ge(flushes, 2);
    ck_assert(disk_volume_create("web", 3, why, sizeof(why)));
    ck_assert(!disk_volume_create("web", 3, why, sizeof(why)));
    ck_assert(!disk_volume_create("big", 1000, why, sizeof(why)));
    /* disk.format=1 does not erase a valid disk; force does. */
    ck_assert_int_eq(disk_attach(&io, DISK_FORMAT_BLANK, why, sizeof(why)), DISK_ATTACHED);
    ck_assert_ptr_nonnull(disk_volume_open("web"));
    uint64_t generation = disk_layout()->generation;
    ck_assert_int_eq(disk_attach(&io, DISK_FORMAT_FORCE, why, sizeof(why)), DISK_FORMATTED);
    ck_assert_ptr_null(disk_volume_open("web"));
    ck_assert_uint_gt(disk_layout()->generation, generation);
}
END_TEST

START_TEST(torn_header_write_keeps_a_good_copy)
{
    char why[DISK_WHY_MAX];
    ck_assert_int_eq(disk_attach(&io, DISK_FORMAT_BLANK, why, sizeof(why)), DISK_FORMATTED);
    /* The first copy's write is torn at every sector boundary and mid-sector. */
    for (uint32_t cut = 0; cut < DISK_HEADER_BYTES; cut += 100) {
        ck_assert_int_eq(disk_attach(&io, DISK_FORMAT_NEVER, why, sizeof(why)), DISK_ATTACHED);
        uint8_t before[DISK_HEADER_BYTES];
        memcpy(before, ram, sizeof(before));
        char name[8];
        snprintf(name, sizeof(name), "v%u", cut);
        ck_assert(disk_volume_create(name, 1, why, sizeof(why)));
        /* Simulate the power cut: the new first copy only up to `cut`, the second old. */
        uint8_t after[DISK_HEADER_BYTES];
        memcpy(after, ram, sizeof(after));
        memcpy(ram, before, sizeof(before));
        memcpy(ram, after, cut);
        memcpy(ram + DISK_BACKUP_SECTOR * 512, before, sizeof(before));
        ck_assert_int_eq(disk_attach(&io, DISK_FORMAT_NEVER, why, sizeof(why)), DISK_ATTACHED);
        /* A torn copy never parses (its CRC), so the old one wins, unless the cut came
         * after the last byte that changed: then the new copy is whole. */
        bool whole = memcmp(after + cut, before + cut, sizeof(after) - cut) == 0;
        ck_assert_int_eq(disk_volume_open(name) != NULL, whole);
        if (cut > 0)
            ck_assert_ptr_nonnull(strstr(why, "repaired"));
        /* Repaired: both copies equal again. */
        ck_assert_mem_eq(ram, ram + DISK_BACKUP_SECTOR * 512, DISK_HEADER_BYTES);
    }
    /* The second copy torn: the first (newer) wins. */
    ck_assert(disk_volume_create("late", 1, why, sizeof(why)));
    memset(ram + DISK_BACKUP_SECTOR * 512 + 700, 0xEE, 10);
    ck_assert_int_eq(disk_attach(&io, DISK_FORMAT_NEVER, why, sizeof(why)), DISK_ATTACHED);
    ck_assert_ptr_nonnull(disk_volume_open("late"));
}
END_TEST

START_TEST(volume_io_is_bounded_to_its_extent)
{
    char why[DISK_WHY_MAX];
    ck_assert_int_eq(disk_attach(&io, DISK_FORMAT_BLANK, why, sizeof(why)), DISK_FORMATTED);
    ck_assert(disk_volume_create("a", 1, why, sizeof(why)));
    ck_assert(disk_volume_create("b", 1, why, sizeof(why)));
    struct disk_volume *a = disk_volume_open("a"), *b = disk_volume_open("b");
    ck_assert_ptr_eq(a, disk_volume_open("a"));
    ck_assert_uint_eq(a->sector_count, 2048);
    uint8_t buffer[1024];
    memset(buffer, 0xA5, sizeof(buffer));
    ck_assert(disk_volume_write(a, 2046, 2, buffer));
    ck_assert(!disk_volume_write(a, 2047, 2, buffer));
    ck_assert(!disk_volume_write(a, 2048, 1, buffer));
    ck_assert(!disk_volume_write(a, UINT64_MAX, 2, buffer));
    ck_assert(!disk_volume_read(a, 0, 0, buffer));
    ck_assert_uint_eq(ram[(b->start) * 512], 0); /* b untouched */
    ck_assert_uint_eq(ram[(a->start + 2047) * 512 + 511], 0xA5);
    writes_left = 0;
    ck_assert(!disk_volume_write(a, 0, 1, buffer));
    writes_left = -1;
    int before = flushes;
    ck_assert(disk_volume_flush(a));
    ck_assert_int_eq(flushes, before + 1);
    /* Deleting b: its handle fails, its space is taken again, the store cannot go. */
    ck_assert(!disk_volume_delete("store", why, sizeof(why)));
    ck_assert(!disk_volume_delete("nope", why, sizeof(why)));
    uint64_t b_start = b->start;
    ck_assert(disk_volume_write(b, 100, 2, buffer));
    ck_assert(disk_volume_delete("b", why, sizeof(why)));
    ck_assert(!disk_volume_read(b, 0, 1, buffer));
    ck_assert_ptr_null(disk_volume_open("b"));
    ck_assert_ptr_eq(disk_volume_open("a"), a);
    ck_assert(disk_volume_create("b2", 1, why, sizeof(why)));
    ck_assert_uint_eq(disk_volume_open("b2")->start, b_start);
    /* b's bytes do not reach b2, its next owner. */
    for (size_t i = 0; i < 2048u * 512; i++)
        ck_assert_uint_eq(ram[b_start * 512 + i], 0);
    ck_assert_int_eq(disk_attach(&io, DISK_FORMAT_NEVER, why, sizeof(why)), DISK_ATTACHED);
    ck_assert_ptr_null(disk_volume_open("b"));
    ck_assert_ptr_nonnull(disk_volume_open("b2"));
    a = disk_volume_open("a");
    /* A failed header write leaves the layout as it was. */
    writes_left = 0;
    ck_assert(!disk_volume_create("c", 1, why, sizeof(why)));
    ck_assert_ptr_null(disk_volume_open("c"));
    ck_assert(!disk_volume_delete("a", why, sizeof(why)));
    ck_assert(disk_volume_write(a, 0, 1, buffer) == false); /* writes fail, a is still there */
    writes_left = -1;
    ck_assert(disk_volume_write(a, 0, 1, buffer));
}
END_TEST

Suite *disk_suite(void)
{
    Suite *s = suite_create("disk");
    TCase *tc = tcase_create("layout");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, crc32_is_zlibs);
    tcase_add_test(tc, layout_round_trips);
    tcase_add_test(tc, hostile_headers_are_refused);
    tcase_add_test(tc, random_headers_never_parse);
    tcase_add_test(tc, allocation_is_first_fit_and_bounded);
    tcase_add_test(tc, blank_and_foreign_disks_are_left_alone);
    tcase_add_test(tc, format_then_attach_again);
    tcase_add_test(tc, torn_header_write_keeps_a_good_copy);
    tcase_add_test(tc, volume_io_is_bounded_to_its_extent);
    suite_add_tcase(s, tc);
    return s;
}
