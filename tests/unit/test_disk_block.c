// sources: root/disk_block.c root/disk.c
/* storvsp's back end over a disk volume (root/disk_block.c): requests complete once,
 * inside submit, after the disk did the work; a failed write or a read-only disk completes
 * with ok false; a flush reaches the disk; the device's size is the volume's. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "root/disk_block.h"
#include "tests/unit/ram_disk.h"

static int completions;
static bool completed_ok;

static void done(struct block_request *request, bool ok)
{
    (void)request;
    completions++;
    completed_ok = ok;
}

static struct disk_volume *attach(bool read_only)
{
    struct disk_io io = ram_disk_open(16 * 2048, false);
    char why[DISK_WHY_MAX];
    ck_assert_int_eq(disk_attach(&io, DISK_FORMAT_BLANK, why, sizeof(why)), DISK_FORMATTED);
    ck_assert(disk_volume_create("web", 2, why, sizeof(why)));
    io.read_only = read_only;
    ck_assert_int_eq(disk_attach(&io, DISK_FORMAT_NEVER, why, sizeof(why)), DISK_ATTACHED);
    completions = 0;
    flushes = 0; /* the format's */
    return disk_volume_open("web");
}

START_TEST(requests_complete_after_the_disk_did_them)
{
    struct disk_volume *v = attach(false);
    struct disk_block block;
    disk_block_init(&block, v);
    ck_assert_uint_eq(block.device.sector_count, 2 * 2048);
    ck_assert(!block.device.read_only);
    uint8_t data[1024];
    memset(data, 0x3C, sizeof(data));
    struct block_request request = {BLOCK_WRITE, 4095, 1, data, done, NULL};
    block.device.submit(&block.device, &request);
    ck_assert_int_eq(completions, 1);
    ck_assert(completed_ok);
    ck_assert_uint_eq(ram[(v->start + 4095) * 512], 0x3C);
    request.operation = BLOCK_READ;
    memset(data, 0, sizeof(data));
    block.device.submit(&block.device, &request);
    ck_assert(completed_ok);
    ck_assert_uint_eq(data[511], 0x3C);
    /* Past the volume (storvsp checks first; the volume checks again). */
    request.sector = 4095;
    request.sector_count = 2;
    block.device.submit(&block.device, &request);
    ck_assert_int_eq(completions, 3);
    ck_assert(!completed_ok);
    writes_left = 0;
    request = (struct block_request){BLOCK_WRITE, 0, 1, data, done, NULL};
    block.device.submit(&block.device, &request);
    ck_assert(!completed_ok);
    request.operation = BLOCK_FLUSH;
    block.device.submit(&block.device, &request);
    ck_assert(completed_ok);
    ck_assert_int_eq(flushes, 1);
    ck_assert_int_eq(completions, 5);
    disk_detach();
    free(ram);
}
END_TEST

START_TEST(a_read_only_disk_refuses_writes)
{
    struct disk_volume *v = attach(true);
    struct disk_block block;
    disk_block_init(&block, v);
    ck_assert(block.device.read_only);
    uint8_t data[512] = {1};
    struct block_request request = {BLOCK_WRITE, 0, 1, data, done, NULL};
    block.device.submit(&block.device, &request);
    ck_assert_int_eq(completions, 1);
    ck_assert(!completed_ok);
    ck_assert_uint_eq(ram[v->start * 512], 0);
    disk_detach();
    free(ram);
}
END_TEST

Suite *disk_block_suite(void)
{
    Suite *s = suite_create("disk_block");
    TCase *tc = tcase_create("block");
    tcase_add_test(tc, requests_complete_after_the_disk_did_them);
    tcase_add_test(tc, a_read_only_disk_refuses_writes);
    suite_add_tcase(s, tc);
    return s;
}
