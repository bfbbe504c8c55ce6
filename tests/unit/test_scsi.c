// sources: vsp/scsi.c
/*
 * vsp/scsi.c, the SCSI logical unit behind storvsp, fed the CDBs Linux's sd and SCSI scan
 * send (scsi_scan.c, sd.c) and the malformed ones a hostile child could send: each command
 * with good fields, truncated allocation lengths, reserved bits, LBAs at and past the end
 * (including wrap-around), transfer lengths beyond the buffer and the limit, a write to a
 * read-only volume, every unsupported opcode, and a logical unit that does not exist.
 */
#include <check.h>
#include <string.h>

#include "vsp/scsi.h"

static struct scsi_disk disk;
static uint8_t data[SCSI_DATA_MAX];
static struct scsi_outcome out;

static void setup(void)
{
    memset(&disk, 0, sizeof(disk));
    disk.sector_count = 2048; /* 1 MiB */
    disk.max_transfer_bytes = 0x40000;
    strcpy(disk.serial, "HVFW-SERIAL-0001");
    for (int i = 0; i < 8; i++)
        disk.naa[i] = (uint8_t)(0xA0 + i);
    memset(data, 0xEE, sizeof(data));
}

static void run(const uint8_t *cdb, uint32_t length, uint32_t transfer)
{
    memset(&out, 0x5A, sizeof(out));
    scsi_execute(&disk, cdb, length, transfer, data, &out);
}

#define RUN(transfer, ...)                                                                 \
    do {                                                                                   \
        const uint8_t cdb_[] = { __VA_ARGS__ };                                            \
        run(cdb_, sizeof(cdb_), transfer);                                                 \
    } while (0)

static void expect_check(uint8_t key, uint8_t asc, uint8_t ascq)
{
    ck_assert_int_eq(out.action, SCSI_ACTION_COMPLETE);
    ck_assert_uint_eq(out.status, SCSI_STATUS_CHECK_CONDITION);
    ck_assert_uint_eq(out.data_length, 0);
    ck_assert_uint_eq(out.sense_length, 18);
    ck_assert_uint_eq(out.sense[0], 0x70);
    ck_assert_uint_eq(out.sense[2], key);
    ck_assert_uint_eq(out.sense[7], 10);
    ck_assert_uint_eq(out.sense[12], asc);
    ck_assert_uint_eq(out.sense[13], ascq);
}

static void expect_good(uint32_t length)
{
    ck_assert_int_eq(out.action, SCSI_ACTION_COMPLETE);
    ck_assert_uint_eq(out.status, SCSI_STATUS_GOOD);
    ck_assert_uint_eq(out.sense_length, 0);
    ck_assert_uint_eq(out.data_length, length);
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

START_TEST(inquiry_standard)
{
    RUN(0, 0x12, 0, 0, 0, 36, 0);
    expect_good(36);
    ck_assert_uint_eq(data[0], 0x00); /* connected direct-access block device */
    ck_assert_uint_eq(data[2], 0x06);
    ck_assert_uint_eq(data[3] & 0x0F, 2);
    ck_assert_uint_eq(data[4], 31);
    ck_assert_mem_eq(data + 8, "hvfw    ", 8);
    ck_assert_mem_eq(data + 16, "Virtual Disk    ", 16);
    /* Linux's first probe asks for 36; a shorter allocation is cut, not refused. */
    RUN(0, 0x12, 0, 0, 0, 5, 0);
    expect_good(5);
    RUN(0, 0x12, 0, 0, 0, 0, 0);
    expect_good(0);
    RUN(0, 0x12, 0, 0, 1, 0, 0); /* 256 */
    expect_good(36);
}
END_TEST

START_TEST(inquiry_vpd)
{
    RUN(0, 0x12, 1, 0x00, 0, 255, 0);
    expect_good(10);
    static const uint8_t pages[] = { 0x00, 0x80, 0x83, 0xB0, 0xB1, 0xB2 };
    ck_assert_uint_eq(data[3], sizeof(pages));
    ck_assert_mem_eq(data + 4, pages, sizeof(pages));

    RUN(0, 0x12, 1, 0x80, 0, 255, 0);
    expect_good(4 + 16);
    ck_assert_uint_eq(data[1], 0x80);
    ck_assert_mem_eq(data + 4, "HVFW-SERIAL-0001", 16);

    RUN(0, 0x12, 1, 0x83, 0, 255, 0);
    expect_good(16);
    ck_assert_uint_eq(data[5] & 0x0F, 3); /* NAA */
    ck_assert_uint_eq(data[7], 8);
    ck_assert_uint_eq(data[8] >> 4, 5);    /* IEEE Registered */
    ck_assert_uint_eq(data[8] & 0x0F, 0x0);
    ck_assert_uint_eq(data[15], 0xA7);

    RUN(0, 0x12, 1, 0xB0, 0, 255, 0);
    expect_good(64);
    ck_assert_uint_eq(data[3], 0x3C);
    ck_assert_uint_eq(be32(data + 8), 0x40000 / 512);
    ck_assert_uint_eq(be32(data + 20), 0); /* no UNMAP */

    RUN(0, 0x12, 1, 0xB1, 0, 255, 0);
    expect_good(64);
    ck_assert_uint_eq(data[4] << 8 | data[5], 1); /* non-rotating */

    RUN(0, 0x12, 1, 0xB2, 0, 255, 0);
    expect_good(8);
    ck_assert_uint_eq(data[5], 0); /* no LBPU / LBPWS: no unmap */

    RUN(0, 0x12, 1, 0xB0, 0, 4, 0); /* header only */
    expect_good(4);
}
END_TEST

START_TEST(inquiry_bad_fields)
{
    RUN(0, 0x12, 0, 0x80, 0, 255, 0); /* page code without EVPD */
    expect_check(SCSI_SENSE_ILLEGAL_REQUEST, 0x24, 0);
    RUN(0, 0x12, 2, 0, 0, 255, 0); /* CMDDT */
    expect_check(SCSI_SENSE_ILLEGAL_REQUEST, 0x24, 0);
    RUN(0, 0x12, 1, 0x89, 0, 255, 0); /* ATA information: not supported */
    expect_check(SCSI_SENSE_ILLEGAL_REQUEST, 0x24, 0);
    RUN(0, 0x12, 0, 0, 0, 36, 4); /* NACA */
    expect_check(SCSI_SENSE_ILLEGAL_REQUEST, 0x24, 0);
    RUN(0, 0x12, 0, 0, 0); /* five bytes of a six-byte CDB */
    expect_check(SCSI_SENSE_ILLEGAL_REQUEST, 0x20, 0);
}
END_TEST

START_TEST(report_luns)
{
    RUN(0, 0xA0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0);
    expect_good(16);
    ck_assert_uint_eq(be32(data), 8);
    static const uint8_t zero[8] = { 0 };
    ck_assert_mem_eq(data + 8, zero, 8);
    RUN(0, 0xA0, 0, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0); /* well-known LUNs: none */
    expect_good(8);
    ck_assert_uint_eq(be32(data), 0);
    RUN(0, 0xA0, 0, 3, 0, 0, 0, 0, 0, 1, 0, 0, 0);
    expect_check(SCSI_SENSE_ILLEGAL_REQUEST, 0x24, 0);
    RUN(0, 0xA0, 0, 0, 0, 0, 0, 0, 0, 0, 15, 0, 0); /* allocation under 16 */
    expect_check(SCSI_SENSE_ILLEGAL_REQUEST, 0x24, 0);
}
END_TEST

START_TEST(read_capacity)
{
    RUN(0, 0x25, 0, 0, 0, 0, 0, 0, 0, 0, 0);
    expect_good(8);
    ck_assert_uint_eq(be32(data), 2047);
    ck_assert_uint_eq(be32(data + 4), 512);
    RUN(0, 0x25, 0, 0, 0, 0, 1, 0, 0, 0, 0); /* LBA without PMI */
    expect_check(SCSI_SENSE_ILLEGAL_REQUEST, 0x24, 0);

    RUN(0, 0x9E, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 32, 0, 0);
    expect_good(32);
    ck_assert_uint_eq(be32(data), 0);
    ck_assert_uint_eq(be32(data + 4), 2047);
    ck_assert_uint_eq(be32(data + 8), 512);
    ck_assert_uint_eq(data[14] & 0x80, 0); /* LBPME clear: no unmap */
    RUN(0, 0x9E, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 12, 0, 0);
    expect_good(12);
    RUN(0, 0x9E, 0x11, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 32, 0, 0); /* other service action */
    expect_check(SCSI_SENSE_ILLEGAL_REQUEST, 0x24, 0);

    /* A volume past 2 TiB: (10) says "use (16)", (16) has the real end. */
    disk.sector_count = 0x100000010ull;
    RUN(0, 0x25, 0, 0, 0, 0, 0, 0, 0, 0, 0);
    ck_assert_uint_eq(be32(data), 0xFFFFFFFFu);
    RUN(0, 0x9E, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 32, 0, 0);
    ck_assert_uint_eq(be32(data), 1);
    ck_assert_uint_eq(be32(data + 4), 0xF);
}
END_TEST

START_TEST(read_write_good)
{
    RUN(4096, 0x28, 0, 0, 0, 0x01, 0x00, 0, 0, 8, 0);
    ck_assert_int_eq(out.action, SCSI_ACTION_READ);
    ck_assert_uint_eq(out.lba, 256);
    ck_assert_uint_eq(out.sectors, 8);
    RUN(4096, 0x2A, 0, 0, 0, 0x07, 0xF8, 0, 0, 8, 0); /* the last 8 sectors */
    ck_assert_int_eq(out.action, SCSI_ACTION_WRITE);
    ck_assert_uint_eq(out.lba, 2040);
    ck_assert(!out.force_unit_access);
    RUN(4096, 0x2A, 0x08, 0, 0, 0x07, 0xF8, 0, 0, 8, 0); /* FUA */
    ck_assert(out.force_unit_access);
    RUN(512, 0x88, 0, 0, 0, 0, 0, 0, 0, 0, 0x10, 0, 0, 0, 1, 0, 0);
    ck_assert_int_eq(out.action, SCSI_ACTION_READ);
    ck_assert_uint_eq(out.lba, 16);
    ck_assert_uint_eq(out.sectors, 1);
    RUN(0x40000, 0x8A, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02, 0, 0, 0);
    ck_assert_int_eq(out.action, SCSI_ACTION_WRITE);
    ck_assert_uint_eq(out.sectors, 512);
    /* Zero blocks: nothing to move, GOOD at once. */
    RUN(0, 0x28, 0, 0, 0, 0, 5, 0, 0, 0, 0);
    expect_good(0);
}
END_TEST

START_TEST(read_write_bad)
{
    RUN(8192, 0x28, 0, 0, 0, 0x07, 0xF9, 0, 0, 8, 0); /* one past the end */
    expect_check(SCSI_SENSE_ILLEGAL_REQUEST, 0x21, 0);
    RUN(0, 0x28, 0, 0, 0, 0x08, 0x00, 0, 0, 0, 0); /* zero blocks at the end LBA */
    expect_check(SCSI_SENSE_ILLEGAL_REQUEST, 0x21, 0);
    /* LBA + length wrapping 2^64 */
    RUN(1024, 0x8A, 0, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 2, 0, 0);
    expect_check(SCSI_SENSE_ILLEGAL_REQUEST, 0x21, 0);
    RUN(4095, 0x28, 0, 0, 0, 0, 0, 0, 0, 8, 0); /* buffer one byte short */
    expect_check(SCSI_SENSE_ILLEGAL_REQUEST, 0x24, 0);
    RUN(0x80000, 0x88, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02, 0x01, 0, 0); /* over the limit */
    expect_check(SCSI_SENSE_ILLEGAL_REQUEST, 0x24, 0);
    RUN(4096, 0x28, 0x20, 0, 0, 0, 0, 0, 0, 8, 0); /* RDPROTECT */
    expect_check(SCSI_SENSE_ILLEGAL_REQUEST, 0x24, 0);
    RUN(4096, 0x28, 0, 0, 0, 0, 0, 0, 0, 8); /* nine bytes of READ (10) */
    expect_check(SCSI_SENSE_ILLEGAL_REQUEST, 0x20, 0);
    disk.read_only = true;
    RUN(4096, 0x2A, 0, 0, 0, 0, 0, 0, 0, 8, 0);
    expect_check(SCSI_SENSE_DATA_PROTECT, 0x27, 0);
    RUN(4096, 0x28, 0, 0, 0, 0, 0, 0, 0, 8, 0); /* reads still work */
    ck_assert_int_eq(out.action, SCSI_ACTION_READ);
}
END_TEST

START_TEST(synchronize_cache)
{
    RUN(0, 0x35, 0, 0, 0, 0, 0, 0, 0, 0, 0);
    ck_assert_int_eq(out.action, SCSI_ACTION_FLUSH);
    RUN(0, 0x35, 0x02, 0, 0, 0, 0, 0, 0, 0, 0); /* IMMED */
    ck_assert_int_eq(out.action, SCSI_ACTION_FLUSH);
    RUN(0, 0x91, 0, 0, 0, 0, 0, 0, 0, 0x07, 0xFF, 0, 0, 0, 1, 0, 0);
    ck_assert_int_eq(out.action, SCSI_ACTION_FLUSH);
    RUN(0, 0x91, 0, 0, 0, 0, 0, 0, 0, 0x08, 0x00, 0, 0, 0, 1, 0, 0);
    expect_check(SCSI_SENSE_ILLEGAL_REQUEST, 0x21, 0);
    RUN(0, 0x35, 0x01, 0, 0, 0, 0, 0, 0, 0, 0);
    expect_check(SCSI_SENSE_ILLEGAL_REQUEST, 0x24, 0);
}
END_TEST

START_TEST(simple_commands)
{
    RUN(0, 0x00, 0, 0, 0, 0, 0);
    expect_good(0);
    RUN(0, 0x1B, 0, 0, 0, 1, 0);
    expect_good(0);
    RUN(0, 0x1B, 1, 0, 0, 0, 0);
    expect_good(0);
}
END_TEST

START_TEST(mode_sense)
{
    RUN(0, 0x1A, 0, 0x08, 0, 255, 0);
    expect_good(4 + 8 + 20);
    ck_assert_uint_eq(data[0], 31);
    ck_assert_uint_eq(data[2], 0x10); /* DPOFUA, not write-protected */
    ck_assert_uint_eq(data[3], 8);
    ck_assert_uint_eq(be32(data + 4), 2048);
    ck_assert_uint_eq(be32(data + 8) & 0xFFFFFF, 512);
    ck_assert_uint_eq(data[12], 0x08);
    ck_assert_uint_eq(data[13], 0x12);
    ck_assert_uint_eq(data[14] & 0x04, 0x04); /* WCE */

    RUN(0, 0x1A, 0x08, 0x0A, 0, 255, 0); /* DBD, control page */
    expect_good(4 + 12);
    ck_assert_uint_eq(data[3], 0);
    ck_assert_uint_eq(data[4], 0x0A);
    ck_assert_uint_eq(data[6] & 0x04, 0); /* D_SENSE clear: fixed-format autosense */

    RUN(0, 0x1A, 0x08, 0x3F, 0, 255, 0); /* all pages */
    expect_good(4 + 20 + 12);
    ck_assert_uint_eq(data[4], 0x08);
    ck_assert_uint_eq(data[24], 0x0A);
    RUN(0, 0x1A, 0x08, 0x3F, 0xFF, 255, 0); /* all pages and subpages */
    expect_good(36);
    RUN(0, 0x1A, 0x08, 0x3F, 0, 4, 0); /* header only */
    expect_good(4);
    ck_assert_uint_eq(data[0], 35); /* the full length still reported */

    RUN(0, 0x1A, 0x08, 0x48, 0, 255, 0); /* changeable values: nothing */
    expect_good(24);
    ck_assert_uint_eq(data[6], 0);

    RUN(0, 0x1A, 0x08, 0xC8, 0, 255, 0); /* saved values */
    expect_check(SCSI_SENSE_ILLEGAL_REQUEST, 0x39, 0);
    RUN(0, 0x1A, 0x08, 0x1C, 0, 255, 0); /* informational exceptions: not here */
    expect_check(SCSI_SENSE_ILLEGAL_REQUEST, 0x24, 0);
    RUN(0, 0x1A, 0x08, 0x08, 1, 255, 0); /* a subpage */
    expect_check(SCSI_SENSE_ILLEGAL_REQUEST, 0x24, 0);
    RUN(0, 0x1A, 0x10, 0x08, 0, 255, 0); /* LLBAA is not in the (6) form */
    expect_check(SCSI_SENSE_ILLEGAL_REQUEST, 0x24, 0);

    /* (10) with LLBAA: the 16-byte descriptor */
    RUN(0, 0x5A, 0x10, 0x08, 0, 0, 0, 0, 1, 0, 0);
    expect_good(8 + 16 + 20);
    ck_assert_uint_eq(data[0] << 8 | data[1], 42);
    ck_assert_uint_eq(data[4] & 1, 1);
    ck_assert_uint_eq(data[7], 16);
    ck_assert_uint_eq(be32(data + 12), 2048);
    ck_assert_uint_eq(be32(data + 20), 512);

    disk.read_only = true;
    RUN(0, 0x5A, 0x08, 0x08, 0, 0, 0, 0, 1, 0, 0);
    ck_assert_uint_eq(data[3] & 0x80, 0x80); /* WP */
}
END_TEST

START_TEST(request_sense)
{
    RUN(0, 0x03, 0, 0, 0, 252, 0);
    expect_good(18);
    ck_assert_uint_eq(data[0], 0x70);
    ck_assert_uint_eq(data[2], SCSI_SENSE_NO_SENSE);
    RUN(0, 0x03, 1, 0, 0, 252, 0); /* DESC */
    expect_good(8);
    ck_assert_uint_eq(data[0], 0x72);
    RUN(0, 0x03, 0, 0, 0, 8, 0);
    expect_good(8);
    RUN(0, 0x03, 2, 0, 0, 252, 0);
    expect_check(SCSI_SENSE_ILLEGAL_REQUEST, 0x24, 0);
}
END_TEST

START_TEST(unsupported_opcodes)
{
    static const uint8_t supported[] = { 0x00, 0x03, 0x12, 0x1A, 0x1B, 0x25, 0x28, 0x2A,
                                         0x35, 0x5A, 0x88, 0x8A, 0x91, 0x9E, 0xA0 };
    int refused = 0;
    for (int op = 0; op < 256; op++) {
        if (memchr(supported, op, sizeof(supported)))
            continue;
        uint8_t cdb[16] = { (uint8_t)op };
        run(cdb, 16, 4096);
        expect_check(SCSI_SENSE_ILLEGAL_REQUEST, 0x20, 0);
        refused++;
    }
    ck_assert_int_eq(refused, 256 - (int)sizeof(supported));
    run(NULL, 0, 0);
    expect_check(SCSI_SENSE_ILLEGAL_REQUEST, 0x20, 0);
}
END_TEST

START_TEST(absent_unit)
{
    const uint8_t inquiry[] = { 0x12, 0, 0, 0, 96, 0 };
    scsi_execute_absent(inquiry, 6, data, &out);
    expect_good(36);
    ck_assert_uint_eq(data[0], 0x7F);
    const uint8_t tur[] = { 0, 0, 0, 0, 0, 0 };
    scsi_execute_absent(tur, 6, data, &out);
    expect_check(SCSI_SENSE_ILLEGAL_REQUEST, 0x25, 0);
    const uint8_t sense[] = { 0x03, 0, 0, 0, 18, 0 };
    scsi_execute_absent(sense, 6, data, &out);
    expect_good(18);
    ck_assert_uint_eq(data[12], 0x25);
    const uint8_t list_luns[] = { 0xA0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0 };
    memset(data, 0xEE, 16);
    scsi_execute_absent(list_luns, 12, data, &out);
    expect_good(8);
    ck_assert_uint_eq(data[3], 0); /* no LUNs */
}
END_TEST

Suite *scsi_suite(void)
{
    Suite *s = suite_create("scsi");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_add_test(tc, inquiry_standard);
    tcase_add_test(tc, inquiry_vpd);
    tcase_add_test(tc, inquiry_bad_fields);
    tcase_add_test(tc, report_luns);
    tcase_add_test(tc, read_capacity);
    tcase_add_test(tc, read_write_good);
    tcase_add_test(tc, read_write_bad);
    tcase_add_test(tc, synchronize_cache);
    tcase_add_test(tc, simple_commands);
    tcase_add_test(tc, mode_sense);
    tcase_add_test(tc, request_sense);
    tcase_add_test(tc, unsupported_opcodes);
    tcase_add_test(tc, absent_unit);
    suite_add_tcase(s, tc);
    return s;
}
