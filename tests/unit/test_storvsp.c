// sources: vsp/storvsp.c vsp/scsi.c vmbus/protocol.c vmbus/gpadl.c vmbus/channel.c vmbus/connection.c vmbus/ring.c
/*
 * storvsp (vsp/storvsp.c) driven through a real vmbus/ connection by a fake child that
 * sends what Linux 6.1's storvsc sends (storvsc_channel_init, storvsc_do_io: 64-byte
 * vstor_packets, INBAND without data, GPA_DIRECT with one range otherwise) against a RAM
 * back end that can hold requests (an asynchronous disk) and fail them. Checked: the init
 * sequence and its replies, the probe commands' data in the child's pages, writes reaching
 * the back end before their completion, reads and writes across page boundaries, FUA,
 * media errors, absent LUNs, the pre-WIN8 packet size, and everything hostile: truncated
 * packets at every length, out-of-order and unknown operations, bad CDB lengths and
 * directions, ranges outside the child's RAM or longer than allowed, floods that fill the
 * completion ring or exceed the request bound, and a close while the back end holds
 * requests.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "tests/unit/vsp_child.h"
#include "vsp/storvsp.h"

/* ---- the RAM back end ------------------------------------------------------------------ */

#define SECTORS 2048u

static struct {
    struct block_device device;
    uint8_t *bytes;
    bool hold, fail;
    struct block_request *held[1100];
    uint32_t held_count;
    enum block_operation ops[4096];
    uint32_t op_count;
} ram;

static void ram_run(struct block_request *r)
{
    bool ok = !ram.fail;
    uint8_t *at = ram.bytes + r->sector * BLOCK_SECTOR_SIZE;
    size_t n = (size_t)r->sector_count * BLOCK_SECTOR_SIZE;
    if (ok && r->operation == BLOCK_READ)
        memcpy(r->buffer, at, n);
    else if (ok && r->operation == BLOCK_WRITE)
        memcpy(at, r->buffer, n);
    r->done(r, ok);
}

static void ram_submit(struct block_device *device, struct block_request *r)
{
    (void)device;
    ck_assert(r->operation == BLOCK_FLUSH || r->sector + r->sector_count <= SECTORS);
    if (ram.op_count < 4096)
        ram.ops[ram.op_count++] = r->operation;
    if (ram.hold) {
        ck_assert_uint_lt(ram.held_count, 1100);
        ram.held[ram.held_count++] = r;
        return;
    }
    ram_run(r);
}

/* Completes every held request, oldest first. */
static void ram_release(void)
{
    while (ram.held_count) {
        struct block_request *r = ram.held[0];
        memmove(ram.held, ram.held + 1, --ram.held_count * sizeof(ram.held[0]));
        ram_run(r); /* may submit again (FUA's flush), held again while ram.hold */
    }
}

/* ---- the VSTOR wire format as storvsc writes it ------------------------------------------ */

struct srb {
    uint16_t length;
    uint8_t srb_status, scsi_status, port, path_id, target_id, lun;
    uint8_t cdb_length, sense_info_length, data_in, reserved;
    uint32_t data_transfer_length;
    uint8_t cdb[20];
    uint16_t reserve;
    uint8_t queue_tag, queue_action;
    uint32_t srb_flags, time_out_value, queue_sort_key;
} __attribute__((packed));

struct vstor {
    uint32_t operation, flags, status;
    union {
        struct srb srb;
        struct {
            uint32_t reserved;
            uint16_t max_channel_count, reserved1;
            uint32_t flags, max_transfer_bytes;
            uint64_t reserved2;
        } __attribute__((packed)) properties;
        struct {
            uint16_t major_minor, revision;
        } version;
        uint8_t buffer[52];
    };
} __attribute__((packed));
_Static_assert(sizeof(struct vstor) == 64, "vstor_packet");

#define INIT_ID 0xFFFFFFFFFFFFFFFDull /* VMBUS_RQST_INIT */
#define DATA_PFN 1000u

static struct storvsp vsp;
static struct child_channel ch;
static struct vstor reply;
static uint32_t reply_length;
static uint64_t reply_id;

static void setup_closed(void)
{
    child_start();
    memset(&ram, 0, sizeof(ram));
    ram.bytes = calloc(SECTORS, BLOCK_SECTOR_SIZE);
    ram.device = (struct block_device){ .sector_count = SECTORS, .submit = ram_submit };
    static const uint8_t instance[16] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 };
    ck_assert(storvsp_init(&vsp, "disk0", instance, "hvfw-disk0", &ram.device));
    ck_assert_ptr_nonnull(vmbus_connection_add_device(child_connection, &vsp.device));
}

static void setup_open(void)
{
    setup_closed();
    ch = child_open(1, 0xE1E10, 100, 32, 32); /* storvsc's 128 KiB rings */
    ck_assert_int_eq(vsp.state, STORVSP_OPENED);
}

static void teardown(void)
{
    ram.hold = false;
    child_stop();
    storvsp_destroy(&vsp);
    ram_release(); /* disowned requests free themselves */
    free(ram.bytes);
}

/* The next completion in the child's ring: false if there is none. */
static bool next_reply(void)
{
    struct vmbus_packet_descriptor d;
    static uint8_t payload[4096];
    uint32_t n = child_read(&ch.in, &d, payload);
    if (!n)
        return false;
    ck_assert_uint_eq(d.type, VMBUS_PACKET_COMPLETION);
    memset(&reply, 0, sizeof(reply));
    memcpy(&reply, payload, n < sizeof(reply) ? n : sizeof(reply));
    reply_length = n;
    reply_id = d.transaction_id;
    return true;
}

static void send_raw(uint64_t id, const void *packet, uint32_t length)
{
    ck_assert(child_write(&ch.out, VMBUS_PACKET_INBAND, 1, id, packet, length));
    child_kick(&ch);
}

static uint32_t control(uint32_t operation, uint16_t version)
{
    struct vstor p = { .operation = operation, .flags = 1 };
    p.version.major_minor = version;
    send_raw(INIT_ID, &p, sizeof(p));
    ck_assert(next_reply());
    ck_assert_uint_eq(reply_length, 64);
    ck_assert_uint_eq(reply_id, INIT_ID);
    ck_assert_uint_eq(reply.operation, 1);
    return reply.status;
}

/* storvsc_channel_init, as Linux 6.1 runs it. */
static void linux_init(void)
{
    ck_assert_uint_eq(control(7, 0), 0);
    ck_assert_uint_eq(control(9, 0x0602), 0);
    ck_assert_uint_eq(control(10, 0), 0);
    ck_assert_uint_eq(reply.properties.max_transfer_bytes, STORVSP_MAX_TRANSFER_BYTES);
    ck_assert_uint_eq(reply.properties.max_channel_count, 0);
    ck_assert_uint_eq(reply.properties.flags & 1, 0);
    ck_assert_uint_eq(control(8, 0), 0);
    ck_assert_int_eq(vsp.state, STORVSP_READY);
}

struct io {
    uint8_t path, target, lun;
    uint8_t data_in;
    uint32_t transfer;      /* SRB data_transfer_length */
    uint32_t range_bytes;   /* the GPA range's byte count (defaults to transfer) */
    uint32_t offset;        /* into the first data page */
    uint64_t first_pfn;     /* the data pages (contiguous from here) */
    uint32_t ranges;        /* GPA ranges in the packet (default 1) */
    uint32_t vstor_length;  /* default 64 */
};

/* storvsc_do_io: GPA_DIRECT with one range when there is data, INBAND otherwise. */
static void srb_send(uint64_t id, const struct io *io, const uint8_t *cdb, uint8_t cdb_length)
{
    struct vstor p = { .operation = 3, .flags = 1 };
    p.srb.length = sizeof(struct srb);
    p.srb.path_id = io->path;
    p.srb.target_id = io->target;
    p.srb.lun = io->lun;
    p.srb.cdb_length = cdb_length;
    p.srb.sense_info_length = 20;
    p.srb.data_in = io->data_in;
    p.srb.data_transfer_length = io->transfer;
    p.srb.time_out_value = 60;
    memcpy(p.srb.cdb, cdb, cdb_length < 16 ? cdb_length : 16);
    uint32_t vstor_length = io->vstor_length ? io->vstor_length : 64;
    uint32_t bytes = io->range_bytes ? io->range_bytes : io->transfer;
    if (!bytes && !io->ranges) {
        ck_assert(child_write(&ch.out, VMBUS_PACKET_INBAND, 1, id, &p, vstor_length));
        return;
    }
    uint32_t ranges = io->ranges ? io->ranges : 1;
    uint32_t pfns = (io->offset + bytes + PAGE - 1) / PAGE;
    static _Alignas(8) uint8_t packet[4096];
    uint32_t header = 16 + 8 + ranges * (8 + pfns * 8);
    uint32_t total = header + ((vstor_length + 7) & ~7u);
    memset(packet, 0, total);
    struct vmbus_packet_descriptor d = { VMBUS_PACKET_GPA_DIRECT, (uint16_t)(header / 8),
                                         (uint16_t)(total / 8), 1, id };
    memcpy(packet, &d, 16);
    uint32_t count[2] = { 0, ranges };
    memcpy(packet + 16, count, 8);
    uint32_t at = 24;
    for (uint32_t r = 0; r < ranges; r++) {
        uint32_t head[2] = { bytes, io->offset };
        memcpy(packet + at, head, 8);
        at += 8;
        for (uint32_t i = 0; i < pfns; i++, at += 8) {
            uint64_t pfn = io->first_pfn + i;
            memcpy(packet + at, &pfn, 8);
        }
    }
    memcpy(packet + header, &p, vstor_length);
    ck_assert(child_write_raw(&ch.out, packet, total));
}

static void srb(uint64_t id, const struct io *io, const uint8_t *cdb, uint8_t cdb_length)
{
    srb_send(id, io, cdb, cdb_length);
    child_kick(&ch);
}

static uint8_t *data_page(uint64_t pfn)
{
    return child_memory + pfn * PAGE;
}

static void expect_srb(uint64_t id, uint8_t srb_status, uint8_t scsi_status, uint32_t moved)
{
    ck_assert(next_reply());
    ck_assert_uint_eq(reply_id, id);
    ck_assert_uint_eq(reply.operation, 1);
    ck_assert_uint_eq(reply.srb.srb_status, srb_status);
    ck_assert_uint_eq(reply.srb.scsi_status, scsi_status);
    ck_assert_uint_eq(reply.srb.data_transfer_length, moved);
}

static void expect_sense(uint8_t key, uint8_t asc)
{
    ck_assert_uint_eq(reply.srb.sense_info_length, 18);
    ck_assert_uint_eq(reply.srb.cdb[0], 0x70);
    ck_assert_uint_eq(reply.srb.cdb[2], key);
    ck_assert_uint_eq(reply.srb.cdb[12], asc);
}

/* ---- the Linux session --------------------------------------------------------------- */

START_TEST(linux_init_and_probe)
{
    /* storvsc walks its versions down; an unknown one is refused, the init goes on. */
    ck_assert_uint_eq(control(7, 0), 0);
    ck_assert_uint_eq(control(9, 0x0A00), 0xC0000059u);
    ck_assert_uint_eq(reply.version.major_minor, 0x0A00);
    ck_assert_uint_eq(control(9, 0x0602), 0);
    ck_assert_uint_eq(control(10, 0), 0);
    ck_assert_uint_eq(control(8, 0), 0);
    ck_assert_int_eq(vsp.state, STORVSP_READY);
    ck_assert_str_eq(child_host.last_log, "storvsp disk0: ready, protocol 6.2, 2048 sectors");

    /* INQUIRY into a buffer at offset 100 of a page. */
    struct io io = { .data_in = 1, .transfer = 36, .offset = 100, .first_pfn = DATA_PFN };
    const uint8_t inquiry[6] = { 0x12, 0, 0, 0, 36, 0 };
    srb(0x11, &io, inquiry, 6);
    expect_srb(0x11, 0x01, 0, 36);
    ck_assert_mem_eq(data_page(DATA_PFN) + 100 + 8, "hvfw    ", 8);
    /* VPD 0x80 with a larger buffer: only the page's bytes are reported moved. */
    const uint8_t serial[6] = { 0x12, 1, 0x80, 0, 255, 0 };
    io.transfer = 255;
    srb(0x12, &io, serial, 6);
    expect_srb(0x12, 0x01, 0, 4 + 10);
    ck_assert_mem_eq(data_page(DATA_PFN) + 104, "hvfw-disk0", 10);
    /* TEST UNIT READY, INBAND. */
    struct io none = { .data_in = 2 };
    const uint8_t tur[6] = { 0 };
    srb(0x13, &none, tur, 6);
    expect_srb(0x13, 0x01, 0, 0);
    /* READ CAPACITY (16) */
    const uint8_t capacity[16] = { 0x9E, 0x10, [13] = 32 };
    io.transfer = 32;
    io.offset = 0;
    srb(0x14, &io, capacity, 16);
    expect_srb(0x14, 0x01, 0, 32);
    ck_assert_uint_eq(data_page(DATA_PFN)[7], (SECTORS - 1) & 0xFF);
    ck_assert_uint_eq(data_page(DATA_PFN)[6], (SECTORS - 1) >> 8);
    ck_assert(!next_reply());
    ck_assert_uint_eq(vsp.stats.refused, 0);
}
END_TEST

START_TEST(read_write_across_pages)
{
    linux_init();
    /* 8 KiB at offset 2048: three child pages. */
    for (uint32_t i = 0; i < 8192; i++)
        data_page(DATA_PFN)[2048 + i] = (uint8_t)(i * 7 + 3);
    struct io io = { .data_in = 0, .transfer = 8192, .offset = 2048, .first_pfn = DATA_PFN };
    const uint8_t write10[10] = { 0x2A, 0, 0, 0, 0, 10, 0, 0, 16, 0 };
    srb(0x21, &io, write10, 10);
    expect_srb(0x21, 0x01, 0, 8192);
    ck_assert_mem_eq(ram.bytes + 10 * 512, data_page(DATA_PFN) + 2048, 8192);

    /* Read it back with READ (16) into pages elsewhere, offset 4000. */
    struct io back = { .data_in = 1, .transfer = 8192, .offset = 4000, .first_pfn = 2000 };
    const uint8_t read16[16] = { 0x88, 0, 0, 0, 0, 0, 0, 0, 0, 10, 0, 0, 0, 16, 0, 0 };
    srb(0x22, &back, read16, 16);
    expect_srb(0x22, 0x01, 0, 8192);
    ck_assert_mem_eq(data_page(2000) + 4000, data_page(DATA_PFN) + 2048, 8192);

    /* The largest transfer: 256 KiB at offset 512, 65 pages. */
    struct io big = { .data_in = 0, .transfer = 0x40000, .offset = 512, .first_pfn = 3000 };
    memset(data_page(3000) + 512, 0x6B, 0x40000);
    const uint8_t write16[16] = { 0x8A, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02, 0, 0, 0 };
    srb(0x23, &big, write16, 16);
    expect_srb(0x23, 0x01, 0, 0x40000);
    ck_assert_uint_eq(ram.bytes[0], 0x6B);
    ck_assert_uint_eq(ram.bytes[0x40000 - 1], 0x6B);
    ck_assert_uint_eq(vsp.stats.bytes_written, 8192 + 0x40000);
    ck_assert_uint_eq(vsp.stats.bytes_read, 8192);
}
END_TEST

START_TEST(write_completes_after_the_back_end)
{
    linux_init();
    ram.hold = true;
    struct io io = { .data_in = 0, .transfer = 512, .first_pfn = DATA_PFN };
    memset(data_page(DATA_PFN), 0xA5, 512);
    const uint8_t write10[10] = { 0x2A, 0, 0, 0, 0, 1, 0, 0, 1, 0 };
    srb(0x31, &io, write10, 10);
    ck_assert_uint_eq(ram.held_count, 1);
    ck_assert(!next_reply()); /* nothing before the device says done */
    /* The child changing its page now cannot change what is written. */
    memset(data_page(DATA_PFN), 0x00, 512);
    ram_release();
    expect_srb(0x31, 0x01, 0, 512);
    ck_assert_uint_eq(ram.bytes[512], 0xA5);

    /* FUA: a flush follows the write before the completion. */
    const uint8_t fua[10] = { 0x2A, 0x08, 0, 0, 0, 2, 0, 0, 1, 0 };
    ram.op_count = 0;
    srb(0x32, &io, fua, 10);
    ram_release();
    ck_assert_uint_eq(ram.op_count, 2);
    ck_assert_int_eq(ram.ops[0], BLOCK_WRITE);
    ck_assert_int_eq(ram.ops[1], BLOCK_FLUSH);
    expect_srb(0x32, 0x01, 0, 512);

    /* SYNCHRONIZE CACHE is a FLUSH, completed when the back end is done. */
    struct io none = { .data_in = 2 };
    const uint8_t sync10[10] = { 0x35 };
    srb(0x33, &none, sync10, 10);
    ck_assert(!next_reply());
    ram_release();
    expect_srb(0x33, 0x01, 0, 0);
    ck_assert_uint_eq(vsp.stats.flushes, 1);

    /* Several in flight complete in the back end's order, not the child's. */
    for (uint64_t id = 0x40; id < 0x44; id++)
        srb(id, &io, write10, 10);
    ck_assert_uint_eq(ram.held_count, 4);
    struct block_request *last = ram.held[3];
    ram.held_count = 3;
    ram.hold = false;
    last->done(last, true);
    expect_srb(0x43, 0x01, 0, 512);
    ram_release();
    for (uint64_t id = 0x40; id < 0x43; id++)
        expect_srb(id, 0x01, 0, 512);
}
END_TEST

START_TEST(check_conditions_and_media_errors)
{
    linux_init();
    struct io io = { .data_in = 1, .transfer = 4096, .first_pfn = DATA_PFN };
    const uint8_t past_end[10] = { 0x28, 0, 0, 0, 0x07, 0xFF, 0, 0, 8, 0 };
    srb(0x51, &io, past_end, 10);
    expect_srb(0x51, 0x84, 2, 0);
    expect_sense(5, 0x21);
    const uint8_t bogus[6] = { 0xC7 };
    srb(0x52, &io, bogus, 6);
    expect_srb(0x52, 0x84, 2, 0);
    expect_sense(5, 0x20);

    ram.fail = true;
    const uint8_t read10[10] = { 0x28, 0, 0, 0, 0, 0, 0, 0, 8, 0 };
    srb(0x53, &io, read10, 10);
    expect_srb(0x53, 0x84, 2, 0);
    expect_sense(3, 0x11);
    io.data_in = 0;
    const uint8_t write10[10] = { 0x2A, 0, 0, 0, 0, 0, 0, 0, 8, 0 };
    srb(0x54, &io, write10, 10);
    expect_srb(0x54, 0x84, 2, 0);
    expect_sense(3, 0x0C);
    ck_assert_uint_eq(vsp.stats.media_errors, 2);
}
END_TEST

START_TEST(absent_luns)
{
    linux_init();
    struct io io = { .data_in = 1, .transfer = 36, .first_pfn = DATA_PFN, .lun = 1 };
    const uint8_t inquiry[6] = { 0x12, 0, 0, 0, 36, 0 };
    srb(0x61, &io, inquiry, 6);
    expect_srb(0x61, 0x01, 0, 36);
    ck_assert_uint_eq(data_page(DATA_PFN)[0], 0x7F);
    struct io other = { .data_in = 2, .target = 1 };
    const uint8_t tur[6] = { 0 };
    srb(0x62, &other, tur, 6);
    /* SRB_STATUS_ERROR | AUTOSENSE_VALID, never INVALID_LUN (Linux would remove 0:0:0:0) */
    expect_srb(0x62, 0x84, 2, 0);
    expect_sense(5, 0x25);
    other.target = 0;
    other.path = 3;
    srb(0x63, &other, tur, 6);
    expect_srb(0x63, 0x84, 2, 0);
    /* REPORT LUNS: an empty list from a target without units, LUN 0 from ours at any LUN */
    const uint8_t report_luns[12] = { 0xA0, 0, 0, 0, 0, 0, 0, 0, 0, 16, 0, 0 };
    struct io list = { .data_in = 1, .transfer = 16, .first_pfn = DATA_PFN, .path = 3 };
    memset(data_page(DATA_PFN), 0xEE, 16);
    srb(0x64, &list, report_luns, 12);
    expect_srb(0x64, 0x01, 0, 8);
    ck_assert_uint_eq(data_page(DATA_PFN)[3], 0); /* LUN list length 0 */
    list.path = 0;
    list.lun = 2;
    srb(0x65, &list, report_luns, 12);
    expect_srb(0x65, 0x01, 0, 16);
    ck_assert_uint_eq(data_page(DATA_PFN)[3], 8); /* one LUN */
    ck_assert_uint_eq(data_page(DATA_PFN)[9], 0); /* LUN 0 */
}
END_TEST

START_TEST(win7_packet_size)
{
    /* A pre-WIN8 guest: 48-byte vstor_packets, 18 bytes of sense. */
    struct vstor p = { .operation = 7, .flags = 1 };
    send_raw(INIT_ID, &p, 48);
    ck_assert(next_reply());
    ck_assert_uint_eq(reply_length, 64); /* the version is not known yet */
    ck_assert_uint_eq(reply.status, 0);
    p.operation = 9;
    p.version.major_minor = 0x0402;
    send_raw(INIT_ID, &p, 48);
    ck_assert(next_reply());
    ck_assert_uint_eq(reply_length, 48);
    ck_assert_uint_eq(reply.status, 0);
    p.operation = 10;
    send_raw(INIT_ID, &p, 48);
    ck_assert(next_reply());
    p.operation = 8;
    send_raw(INIT_ID, &p, 48);
    ck_assert(next_reply());
    ck_assert_int_eq(vsp.state, STORVSP_READY);
    struct io io = { .data_in = 1, .transfer = 512, .first_pfn = DATA_PFN, .vstor_length = 48 };
    const uint8_t past_end[10] = { 0x28, 0, 0, 0, 0x08, 0, 0, 0, 1, 0 };
    srb(0x71, &io, past_end, 10);
    ck_assert(next_reply());
    ck_assert_uint_eq(reply_length, 48);
    ck_assert_uint_eq(reply.srb.srb_status, 0x84);
    ck_assert_uint_eq(reply.srb.sense_info_length, 18);
}
END_TEST

/* ---- hostile packets ------------------------------------------------------------------- */

START_TEST(truncated_packets_at_every_length)
{
    /* A VMBus payload is padded to 8 bytes, so that is the resolution of a length; an
     * unknown operation shows which packets were read (NOT_SUPPORTED) and which were too
     * short to read (INVALID_PARAMETER). */
    uint8_t bytes[64] = { 0x55, 0, 0, 0, 1 };
    uint32_t refused = 0;
    for (uint32_t n = 0; n < 64; n++) {
        send_raw(0x100 + n, bytes, n);
        ck_assert(next_reply());
        ck_assert_uint_eq(reply_id, 0x100 + n);
        ck_assert_uint_eq(reply_length, 64);
        if (((n + 7) & ~7u) < 48) {
            ck_assert_uint_eq(reply.status, 0xC000000Du);
            ck_assert_uint_eq(reply.srb.srb_status, 0x06);
            refused++;
        } else {
            ck_assert_uint_eq(reply.status, 0xC00000BBu);
        }
    }
    ck_assert_uint_eq(refused, 41);
    ck_assert_int_eq(vsp.state, STORVSP_OPENED); /* nothing was acted on */
    linux_init();
    /* After WIN8 is agreed a packet is 64 bytes; 48..63 are short too. */
    for (uint32_t n = 0; n < 64; n += 8) {
        bytes[0] = 8; /* END_INITIALIZATION: would be out of order if it were read */
        send_raw(0x200 + n, bytes, n);
        ck_assert(next_reply());
        ck_assert_uint_eq(reply.status, 0xC000000Du);
    }
    /* The channel works on. */
    struct io none = { .data_in = 2 };
    const uint8_t tur[6] = { 0 };
    srb(0x300, &none, tur, 6);
    expect_srb(0x300, 0x01, 0, 0);
}
END_TEST

START_TEST(operations_out_of_order_or_unknown)
{
    struct io none = { .data_in = 2 };
    const uint8_t tur[6] = { 0 };
    srb(0x80, &none, tur, 6); /* an SRB before initialization */
    expect_srb(0x80, 0x06, 0, 0);
    ck_assert_uint_eq(control(10, 0), 0xC0000184u); /* properties before BEGIN */
    ck_assert_uint_eq(control(8, 0), 0xC0000184u);
    ck_assert_uint_eq(control(7, 0), 0);
    ck_assert_uint_eq(control(7, 0), 0xC0000184u); /* BEGIN twice */
    ck_assert_uint_eq(control(10, 0), 0xC0000184u); /* properties before a version */
    ck_assert_uint_eq(control(9, 0x0200), 0xC0000059u); /* WIN6: not offered */
    ck_assert_uint_eq(control(9, 0x0501), 0);
    ck_assert_uint_eq(control(9, 0x0602), 0xC0000184u); /* a second version */
    ck_assert_uint_eq(control(10, 0), 0);
    ck_assert_uint_eq(control(8, 0), 0);
    ck_assert_uint_eq(control(13, 0), 0xC00000BBu); /* sub-channels: none */
    ck_assert_uint_eq(control(12, 0), 0xC00000BBu); /* FC HBA data: not FC */
    ck_assert_uint_eq(control(1, 0), 0xC00000BBu);  /* a host-to-guest operation */
    ck_assert_uint_eq(control(0x1234, 0), 0xC00000BBu);
    ck_assert_uint_eq(control(6, 0), 0);            /* RESET_BUS */
    /* A COMPLETION from the child is not a request. */
    struct vstor p = { .operation = 7 };
    ck_assert(child_write(&ch.out, VMBUS_PACKET_COMPLETION, 0, 0x90, &p, sizeof(p)));
    child_kick(&ch);
    ck_assert(next_reply());
    ck_assert_uint_eq(reply.status, 0xC000000Du);
    srb(0x81, &none, tur, 6);
    expect_srb(0x81, 0x01, 0, 0);
}
END_TEST

START_TEST(bad_srbs_fail_alone)
{
    linux_init();
    const uint8_t read10[10] = { 0x28, 0, 0, 0, 0, 0, 0, 0, 1, 0 };
    struct io io = { .data_in = 1, .transfer = 512, .first_pfn = DATA_PFN };
    uint64_t id = 0xA0;
    srb(id, &io, read10, 0); /* CDB length 0 */
    expect_srb(id++, 0x06, 0, 0);
    const uint8_t long_cdb[20] = { 0x28, [8] = 1 };
    srb(id, &io, long_cdb, 17);
    expect_srb(id++, 0x06, 0, 0);
    io.data_in = 3;
    srb(id, &io, read10, 10); /* no such direction */
    expect_srb(id++, 0x06, 0, 0);
    io.data_in = 0; /* a READ with a write buffer */
    srb(id, &io, read10, 10);
    expect_srb(id++, 0x06, 0, 0);
    io.data_in = 1;
    io.first_pfn = PAGES - 1; /* offset 4000: the second page is beyond the child */
    io.offset = 4000;
    srb(id, &io, read10, 10);
    expect_srb(id++, 0x06, 0, 0);
    io.first_pfn = 1ull << 40;
    io.offset = 0;
    srb(id, &io, read10, 10);
    expect_srb(id++, 0x06, 0, 0);
    io.first_pfn = DATA_PFN;
    io.range_bytes = 256; /* transfer longer than its range */
    srb(id, &io, read10, 10);
    expect_srb(id++, 0x06, 0, 0);
    io.range_bytes = 0;
    io.transfer = 0x40000 + 512; /* longer than the advertised maximum */
    srb(id, &io, read10, 10);
    expect_srb(id++, 0x06, 0, 0);
    io.transfer = 512;
    io.ranges = 2; /* storvsc sends exactly one range */
    srb(id, &io, read10, 10);
    expect_srb(id++, 0x06, 0, 0);
    io.ranges = 0;
    struct io inband = { .data_in = 1, .transfer = 512 };
    inband.ranges = 0;
    struct vstor p = { .operation = 3, .flags = 1 };
    p.srb.cdb_length = 10;
    p.srb.data_in = 1;
    p.srb.data_transfer_length = 512; /* INBAND: a length without a buffer */
    memcpy(p.srb.cdb, read10, 10);
    send_raw(id, &p, sizeof(p));
    expect_srb(id++, 0x06, 0, 0);
    /* A control operation with a data buffer. */
    struct io with_data = { .data_in = 1, .transfer = 512, .first_pfn = DATA_PFN };
    (void)inband;
    srb_send(id, &with_data, read10, 10);
    child_kick(&ch);
    ck_assert(next_reply());
    ck_assert_uint_eq(reply.srb.srb_status, 0x01); /* that one was a good SRB */
    id++;
    ck_assert_uint_eq(vsp.stats.refused, 10);
    /* Each failed alone: a good read works and the channel is open. */
    srb(id, &io, read10, 10);
    expect_srb(id, 0x01, 0, 512);
    ck_assert_ptr_nonnull(vsp.channel);
}
END_TEST

START_TEST(full_completion_ring_waits)
{
    ch = child_open(1, 0xE1E10, 100, 32, 2); /* one data page toward the child */
    linux_init();
    struct io none = { .data_in = 2 };
    const uint8_t tur[6] = { 0 };
    for (uint64_t id = 1; id <= 100; id++)
        srb_send(id, &none, tur, 6);
    child_kick(&ch);
    ck_assert_ptr_nonnull(vsp.unsent_head); /* 88-byte completions: 46 fit */
    uint64_t expect = 1;
    while (expect <= 100) {
        uint32_t got = 0;
        while (next_reply()) {
            ck_assert_uint_eq(reply_id, expect);
            expect++;
            got++;
        }
        ck_assert_uint_gt(got, 0);
        child_kick(&ch); /* the child's kick after freeing space */
    }
    ck_assert_ptr_null(vsp.unsent_head);
    ck_assert_uint_eq(vsp.live_requests, 0);
}
END_TEST

START_TEST(busy_when_buffers_are_exhausted)
{
    linux_init();
    ram.hold = true;
    struct io io = { .data_in = 1, .transfer = 0x40000, .first_pfn = DATA_PFN };
    const uint8_t read16[16] = { 0x88, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02, 0, 0, 0 };
    uint32_t fit = STORVSP_MAX_BYTES_IN_FLIGHT / 0x40000;
    for (uint64_t id = 1; id <= fit; id++) {
        srb_send(id, &io, read16, 16);
        if (id % 64 == 0)
            child_kick(&ch);
    }
    child_kick(&ch);
    ck_assert_uint_eq(ram.held_count, fit);
    srb(0xB5, &io, read16, 16);
    expect_srb(0xB5, 0x05, 0x08, 0); /* BUSY: the midlayer retries */
    ck_assert_uint_eq(vsp.stats.busy, 1);
    ram.hold = false;
    ram_release();
    for (uint64_t id = 1; id <= fit; id++)
        expect_srb(id, 0x01, 0, 0x40000);
    srb(0xB6, &io, read16, 16);
    expect_srb(0xB6, 0x01, 0, 0x40000);
}
END_TEST

START_TEST(request_bound_closes_the_channel)
{
    linux_init();
    ram.hold = true;
    struct io none = { .data_in = 2 };
    const uint8_t sync10[10] = { 0x35 };
    for (uint64_t id = 1; id <= STORVSP_MAX_REQUESTS + 1; id++) {
        srb_send(id, &none, sync10, 10);
        if (id % 100 == 0)
            child_kick(&ch);
    }
    child_kick(&ch);
    ck_assert_ptr_null(vsp.channel);
    ck_assert_int_eq(vsp.state, STORVSP_CLOSED);
    ck_assert_uint_eq(ram.held_count, STORVSP_MAX_REQUESTS);
    /* The back end finishing the disowned requests touches nothing of the channel. */
    ram.hold = false;
    ram_release();
    ck_assert_uint_eq(vsp.live_requests, 0);
}
END_TEST

START_TEST(close_with_requests_in_flight)
{
    linux_init();
    ram.hold = true;
    struct io io = { .data_in = 1, .transfer = 4096, .first_pfn = DATA_PFN };
    const uint8_t read10[10] = { 0x28, 0, 0, 0, 0, 0, 0, 0, 8, 0 };
    for (uint64_t id = 1; id <= 5; id++)
        srb(id, &io, read10, 10);
    ck_assert_uint_eq(ram.held_count, 5);
    memset(data_page(DATA_PFN), 0x33, PAGE);
    child_close(&ch);
    ck_assert_ptr_null(vsp.channel);
    ram.hold = false;
    ram_release(); /* reads finish after the close: nothing is copied into the child */
    ck_assert_uint_eq(data_page(DATA_PFN)[0], 0x33);
    /* The child reopens and starts over. */
    ch = child_open(1, 0xE1E11, 300, 32, 32);
    linux_init();
    srb(6, &io, read10, 10);
    expect_srb(6, 0x01, 0, 4096);
}
END_TEST

START_TEST(corrupt_completion_ring_closes_during_a_send)
{
    linux_init();
    /* The child breaks its read index of the host ring: the completion's send closes the
     * channel from inside the request; the counts stay right for the next open. */
    child_ctl(&ch.in)->read_index = 3;
    struct io none = { .data_in = 2 };
    const uint8_t tur[6] = { 0 };
    srb(0xC1, &none, tur, 6);
    ck_assert_ptr_null(vsp.channel);
    ck_assert_uint_eq(vsp.live_requests, 0);
    ch = child_open(1, 0xE1E12, 300, 32, 32);
    linux_init();
    srb(0xC2, &none, tur, 6);
    expect_srb(0xC2, 0x01, 0, 0);
    ck_assert_uint_eq(vsp.live_requests, 0);
}
END_TEST

START_TEST(init_refuses_a_useless_back_end)
{
    struct storvsp other;
    static const uint8_t instance[16] = { 0 };
    struct block_device empty = { .sector_count = 0, .submit = ram_submit };
    ck_assert(!storvsp_init(&other, "x", instance, "x", &empty));
    struct block_device no_submit = { .sector_count = 8 };
    ck_assert(!storvsp_init(&other, "x", instance, "x", &no_submit));
    ck_assert(!storvsp_init(&other, "x", instance, "x", NULL));
    /* Serials are cut to 20 printable characters. */
    struct block_device one = { .sector_count = 8, .submit = ram_submit };
    ck_assert(storvsp_init(&other, "x", instance, "0123456789abcdefghij-too-long\x01", &one));
    ck_assert_str_eq(other.disk.serial, "0123456789abcdefghij");
    ck_assert(storvsp_init(&other, "x", instance, "tab\there", &one));
    ck_assert_str_eq(other.disk.serial, "tab_here");
}
END_TEST

Suite *storvsp_suite(void)
{
    Suite *s = suite_create("storvsp");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_checked_fixture(tc, setup_open, teardown);
    tcase_add_test(tc, linux_init_and_probe);
    tcase_add_test(tc, read_write_across_pages);
    tcase_add_test(tc, write_completes_after_the_back_end);
    tcase_add_test(tc, check_conditions_and_media_errors);
    tcase_add_test(tc, absent_luns);
    tcase_add_test(tc, win7_packet_size);
    tcase_add_test(tc, truncated_packets_at_every_length);
    tcase_add_test(tc, operations_out_of_order_or_unknown);
    tcase_add_test(tc, bad_srbs_fail_alone);
    tcase_add_test(tc, busy_when_buffers_are_exhausted);
    tcase_add_test(tc, request_bound_closes_the_channel);
    tcase_add_test(tc, close_with_requests_in_flight);
    tcase_add_test(tc, corrupt_completion_ring_closes_during_a_send);
    tcase_add_test(tc, init_refuses_a_useless_back_end);
    suite_add_tcase(s, tc);
    TCase *small = tcase_create("small_ring");
    tcase_add_checked_fixture(small, setup_closed, teardown);
    tcase_add_test(small, full_completion_ring_waits);
    suite_add_tcase(s, small);
    return s;
}
