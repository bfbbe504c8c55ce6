// sources: vsp/storvsp.c vsp/scsi.c vmbus/protocol.c vmbus/gpadl.c vmbus/channel.c vmbus/connection.c vmbus/ring.c
/*
 * libFuzzer target for storvsp's packet handling (vsp/storvsp.c over a real vmbus/
 * channel). The harness plays a child that opened the channel and (unless the first byte
 * says not to) ran storvsc's init; the input is then a script of steps: INBAND packets and
 * GPA_DIRECT packets (range length, offset and PFNs from the input, some beyond the
 * child's RAM) carrying fuzzed vstor_packets, a back end that holds, completes or fails
 * requests, the child reading its completions, and close + reopen.
 * Whatever the bytes: no crash (ASan/UBSan, leaks at exit), every back-end request lies
 * inside the volume with a buffer of its size, the request and buffer bounds hold, and
 * after the back end is drained nothing is left in flight.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmbus/connection.h"
#include "vsp/storvsp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REQUIRE(cond)                                                                      \
    do {                                                                                   \
        if (!(cond)) {                                                                     \
            fprintf(stderr, "fuzz_storvsp: invariant failed: %s (line %d)\n", #cond,       \
                    __LINE__);                                                             \
            abort();                                                                       \
        }                                                                                  \
    } while (0)

#define PAGES 256u
#define PAGE VMBUS_PAGE_SIZE
#define SECTORS 4096u
#define RING_BASE 8u
#define RING_PAGES 8u /* each way */
#define DATA_BASE 64u

static _Alignas(4096) uint8_t memory[PAGES][PAGE];
static uint8_t disk[SECTORS * BLOCK_SECTOR_SIZE];
static struct block_request *held[2048];
static uint32_t held_count;
static bool hold, fail;

static uint8_t *page_of(void *context, uint64_t pfn)
{
    (void)context;
    return pfn < PAGES ? memory[pfn] : NULL;
}

static bool post(void *context, uint32_t vp, uint32_t sint, const void *payload, uint32_t n)
{
    (void)context, (void)vp, (void)sint, (void)payload, (void)n;
    return true;
}

static void signal_event(void *context, uint32_t vp, uint32_t sint, uint32_t flag)
{
    (void)context, (void)vp, (void)sint, (void)flag;
}

static void log_line(void *context, const char *level, const char *line)
{
    (void)context;
    if (getenv("FUZZ_STORVSP_STATS"))
        fprintf(stderr, "%s: %s\n", level, line);
}

static void run(struct block_request *r)
{
    if (r->operation != BLOCK_FLUSH) {
        REQUIRE(r->sector_count > 0 && r->sector < SECTORS &&
                r->sector_count <= SECTORS - r->sector);
        size_t n = (size_t)r->sector_count * BLOCK_SECTOR_SIZE;
        /* ASan checks the buffer is as long as the request says. */
        if (r->operation == BLOCK_READ)
            memcpy(r->buffer, disk + r->sector * BLOCK_SECTOR_SIZE, n);
        else
            memcpy(disk + r->sector * BLOCK_SECTOR_SIZE, r->buffer, n);
    }
    r->done(r, !fail);
}

static void submit(struct block_device *device, struct block_request *r)
{
    (void)device;
    if (hold && held_count < 2048) {
        held[held_count++] = r;
        return;
    }
    run(r);
}

static void release(void)
{
    while (held_count) {
        struct block_request *r = held[--held_count];
        run(r);
    }
}

/* ---- the child's side of the channel ---------------------------------------------------- */

struct ring {
    uint32_t control_pfn, size;
};
static const struct ring out = { RING_BASE, (RING_PAGES - 1) * PAGE };
static const struct ring in = { RING_BASE + RING_PAGES, (RING_PAGES - 1) * PAGE };

static struct vmbus_ring_control *ctl(const struct ring *r)
{
    return (struct vmbus_ring_control *)memory[r->control_pfn];
}

static uint32_t used(const struct ring *r)
{
    uint32_t w = ctl(r)->write_index, rd = ctl(r)->read_index;
    return w >= rd ? w - rd : r->size - rd + w;
}

static void put(const struct ring *r, uint32_t at, const void *src, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++)
        memory[r->control_pfn + 1 + (at + i) % r->size / PAGE][(at + i) % r->size % PAGE] =
            ((const uint8_t *)src)[i];
}

static bool write_packet(const uint8_t *packet, uint32_t length)
{
    if (out.size - used(&out) <= length + 8)
        return false;
    uint32_t w = ctl(&out)->write_index;
    put(&out, w, packet, length);
    uint64_t trailer = (uint64_t)w << 32;
    put(&out, w + length, &trailer, 8);
    ctl(&out)->write_index = (w + length + 8) % out.size;
    return true;
}

static struct vmbus_connection connection;
static struct storvsp vsp;
static uint32_t gpadl_handle = 0x100;

static void open_channel(void)
{
    memset(memory[RING_BASE], 0, 2 * RING_PAGES * PAGE);
    ctl(&out)->feature_bits = 1;
    ctl(&in)->feature_bits = 1;
    union {
        uint8_t bytes[VMBUS_MESSAGE_MAX];
        struct vmbus_gpadl_header_message h;
    } m;
    memset(&m, 0, sizeof(m));
    m.h.header.type = VMBUS_MSG_GPADL_HEADER;
    m.h.child_relid = 1;
    m.h.gpadl = ++gpadl_handle;
    m.h.range_buffer_length = (1 + 2 * RING_PAGES) * 8;
    m.h.range_count = 1;
    uint64_t entries[1 + 2 * RING_PAGES];
    entries[0] = 2 * RING_PAGES * PAGE;
    for (uint32_t i = 0; i < 2 * RING_PAGES; i++)
        entries[1 + i] = RING_BASE + i;
    memcpy(m.bytes + 20, entries, sizeof(entries));
    vmbus_connection_handle_message(&connection, 1, &m, 20 + sizeof(entries));
    struct vmbus_open_channel_message o = {
        .header.type = VMBUS_MSG_OPENCHANNEL,
        .child_relid = 1,
        .ring_gpadl = gpadl_handle,
        .downstream_ring_page_offset = RING_PAGES,
    };
    vmbus_connection_handle_message(&connection, 1, &o, sizeof(o));
}

static void close_channel(void)
{
    struct vmbus_relid_message m = { .header.type = VMBUS_MSG_CLOSECHANNEL, .child_relid = 1 };
    vmbus_connection_handle_message(&connection, 1, &m, sizeof(m));
    struct vmbus_gpadl_teardown_message t = { .header.type = VMBUS_MSG_GPADL_TEARDOWN,
                                               .child_relid = 1, .gpadl = gpadl_handle };
    vmbus_connection_handle_message(&connection, 1, &t, sizeof(t));
}

static void kick(void)
{
    for (int i = 0; i < 64 && vmbus_connection_handle_signal(
                                  &connection, VMBUS_CHANNEL_CONNECTION_ID_BASE + 1);
         i++)
        ;
}

static void drain_completions(void)
{
    ctl(&in)->read_index = ctl(&in)->write_index;
    kick();
}

static void inband(const uint8_t *payload, uint32_t n)
{
    static _Alignas(8) uint8_t packet[16 + 256];
    uint32_t padded = (16 + n + 7) & ~7u;
    memset(packet, 0, padded);
    struct vmbus_packet_descriptor d = { VMBUS_PACKET_INBAND, 2, (uint16_t)(padded / 8), 1,
                                         0x1000 + n };
    memcpy(packet, &d, 16);
    memcpy(packet + 16, payload, n);
    if (write_packet(packet, padded))
        kick();
}

/* Makes `p` an EXECUTE_SRB as storvsc writes it, keeping the fuzzed CDB, addressing and
 * direction; `transfer` (unless UINT32_MAX) as its data length. */
static void srb_form(uint8_t *p, uint32_t transfer)
{
    const uint32_t operation = 3, flags = 1;
    memcpy(p, &operation, 4);
    memcpy(p + 4, &flags, 4);
    p[12] = 52;
    p[13] = 0;
    p[12 + 8] = (uint8_t)(p[12 + 8] % 17);
    p[12 + 10] = (uint8_t)(p[12 + 10] % 4);
    if (transfer != UINT32_MAX)
        memcpy(p + 12 + 12, &transfer, 4);
}

static void init_sequence(void)
{
    static const uint16_t versions[] = { 0, 0x0602, 0, 0 };
    static const uint32_t operations[] = { 7, 9, 10, 8 };
    for (int i = 0; i < 4; i++) {
        uint8_t p[64] = { 0 };
        memcpy(p, &operations[i], 4);
        p[4] = 1;
        memcpy(p + 12, &versions[i], 2);
        inband(p, 64);
    }
    drain_completions();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const struct vmbus_host_ops ops = { NULL, post, signal_event, page_of, log_line };
    if (size < 1)
        return 0;
    memset(memory, 0, sizeof(memory));
    held_count = 0;
    hold = fail = false;
    vmbus_connection_init(&connection, &ops, 1);
    struct vmbus_initiate_contact_message c = { .header.type = VMBUS_MSG_INITIATE_CONTACT,
                                                .version = VMBUS_VERSION_WIN10_V5_3,
                                                .interrupt_page_or_sint = 2 };
    vmbus_connection_handle_message(&connection, 4, &c, sizeof(c));
    struct vmbus_message_header r = { .type = VMBUS_MSG_REQUESTOFFERS };
    vmbus_connection_handle_message(&connection, 1, &r, sizeof(r));
    static struct block_device backend = { .sector_count = SECTORS, .submit = submit };
    static const uint8_t instance[16] = { 9 };
    REQUIRE(storvsp_init(&vsp, "fuzz", instance, "FUZZ", &backend));
    REQUIRE(vmbus_connection_add_device(&connection, &vsp.device));
    open_channel();
    if (!(data[0] & 1))
        init_sequence();

    size_t at = 1;
    while (at < size) {
        uint8_t step = data[at++];
        if (step < 0x40) { /* INBAND vstor_packet of 16 + `step` % 0x30 bytes */
            uint32_t n = step % 0x30 + 16u;
            if (n > size - at)
                n = (uint32_t)(size - at);
            static uint8_t payload[64];
            memset(payload, 0, sizeof(payload));
            memcpy(payload, data + at, n);
            if (step >= 0x30) { /* a whole SRB without data */
                srb_form(payload, 0);
                n = 64;
            }
            inband(payload, n);
            at += step >= 0x30 ? (n < size - at ? n : size - at) : n;
        } else if (step < 0xC0) { /* GPA_DIRECT: pfn count, byte count, offset, PFNs, 64 bytes */
            if (size - at < 8)
                break;
            uint32_t pfns = 1 + data[at] % 70, bytes, offset = (data[at + 1] << 4) % PAGE;
            memcpy(&bytes, data + at + 2, 4);
            bytes %= pfns * PAGE - offset + 1;
            at += 6;
            static _Alignas(8) uint8_t packet[16 + 16 + 70 * 8 + 64];
            uint32_t header = 16 + 8 + 8 + pfns * 8;
            memset(packet, 0, sizeof(packet));
            struct vmbus_packet_descriptor d = { VMBUS_PACKET_GPA_DIRECT, (uint16_t)(header / 8),
                                                 (uint16_t)((header + 64) / 8), 1, at };
            memcpy(packet, &d, 16);
            uint32_t count[2] = { 0, 1 };
            memcpy(packet + 16, count, 8);
            uint32_t head[2] = { bytes, offset };
            memcpy(packet + 24, head, 8);
            for (uint32_t i = 0; i < pfns; i++) {
                uint8_t b = at < size ? data[at++] : 0;
                uint64_t pfn = b == 0xFF ? (1ull << 36) : DATA_BASE + b % (PAGES - DATA_BASE + 4);
                memcpy(packet + 32 + i * 8, &pfn, 8);
            }
            size_t n = size - at < 64 ? size - at : 64;
            memcpy(packet + header, data + at, n);
            at += n;
            if (step >= 0x80) /* steer toward EXECUTE_SRB with the range's length */
                srb_form(packet + header, step & 1 ? bytes : UINT32_MAX);
            /* The packet must describe exactly its PFNs for the vmbus parser. */
            if ((offset + bytes + PAGE - 1) / PAGE == pfns || bytes == 0) {
                if (bytes == 0) {
                    head[0] = 0;
                    head[1] = 0;
                    memcpy(packet + 24, head, 8);
                }
                if (write_packet(packet, header + 64))
                    kick();
            }
        } else if (step < 0xD0) {
            fail = step & 1;
            release();
        } else if (step < 0xE0) {
            hold = !hold;
        } else if (step < 0xF0) {
            drain_completions();
        } else {
            close_channel();
            open_channel();
            if (step & 1)
                init_sequence();
        }
        REQUIRE(vsp.live_requests <= STORVSP_MAX_REQUESTS);
        REQUIRE(vsp.bytes_in_flight <= STORVSP_MAX_BYTES_IN_FLIGHT);
    }
    hold = false;
    release();
    drain_completions();
    REQUIRE(vsp.in_backend == NULL);
    if (getenv("FUZZ_STORVSP_STATS"))
        fprintf(stderr, "state %d srbs %llu reads %llu writes %llu flushes %llu refused %llu\n",
                vsp.state, (unsigned long long)vsp.stats.srbs,
                (unsigned long long)vsp.stats.reads, (unsigned long long)vsp.stats.writes,
                (unsigned long long)vsp.stats.flushes, (unsigned long long)vsp.stats.refused);
    vmbus_connection_destroy(&connection);
    storvsp_destroy(&vsp);
    REQUIRE(vsp.live_requests == 0);
    return 0;
}
