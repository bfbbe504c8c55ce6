// sources: vmbus/ring.c
/*
 * The host side of a VMBus ring (vmbus/ring.c) against a guest side written here after
 * Linux drivers/hv/ring_buffer.c: packets both ways with wrap-around (also inside a
 * descriptor), the signalling rules (empty->non-empty with interrupt_mask, pending send
 * size), and hostile rings: indices out of range or misaligned, impossible descriptors,
 * oversized packets, indices changed between reads; and the packet parser (GPA_DIRECT and
 * TRANSFER_PAGES ranges with their bounds).
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "vmbus/ring.h"

#define PAGES 32u
#define PAGE VMBUS_PAGE_SIZE

static uint8_t *mem;

static uint8_t *page_of(void *context, uint64_t pfn)
{
    (void)context;
    return pfn < PAGES ? mem + pfn * PAGE : NULL;
}

/* Scattered, out of order: the ring must follow the PFN list, not assume contiguity. */
static const uint64_t ring_pfns[] = { 9, 4, 17, 2 }; /* control + 3 data pages */
#define RING_PAGES 4u
#define DATA_SIZE ((RING_PAGES - 1) * PAGE)

static struct vmbus_ring ring;

static struct vmbus_ring_control *control(void)
{
    return (struct vmbus_ring_control *)(mem + ring_pfns[0] * PAGE);
}

static uint8_t *guest_byte(uint32_t offset)
{
    offset %= DATA_SIZE;
    return mem + ring_pfns[1 + offset / PAGE] * PAGE + offset % PAGE;
}

static void guest_copy_in(uint32_t offset, const void *src, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++)
        *guest_byte(offset + i) = ((const uint8_t *)src)[i];
}

static void guest_copy_out(uint32_t offset, void *dst, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++)
        ((uint8_t *)dst)[i] = *guest_byte(offset + i);
}

static uint32_t used(uint32_t read, uint32_t write)
{
    return write >= read ? write - read : DATA_SIZE - read + write;
}

/* Linux hv_ringbuffer_write, as the guest does it into its outbound ring. */
static bool guest_write(uint16_t type, uint64_t id, const void *payload, uint32_t n)
{
    struct vmbus_ring_control *c = control();
    uint32_t total = 16 + n, padded = (total + 7) & ~7u;
    if (DATA_SIZE - used(c->read_index, c->write_index) <= padded + 8)
        return false;
    struct vmbus_packet_descriptor d = { type, 2, (uint16_t)(padded / 8), 0, id };
    uint32_t w = c->write_index;
    guest_copy_in(w, &d, 16);
    guest_copy_in(w + 16, payload, n);
    uint8_t zero[8] = { 0 };
    guest_copy_in(w + total, zero, padded - total);
    uint64_t trailer = (uint64_t)w << 32;
    guest_copy_in(w + padded, &trailer, 8);
    c->write_index = (w + padded + 8) % DATA_SIZE;
    return true;
}

/* Linux hv_pkt_iter_first/next on the guest's inbound ring: the next packet, or 0. */
static uint32_t guest_read(struct vmbus_packet_descriptor *d, uint8_t *payload, uint32_t cap)
{
    struct vmbus_ring_control *c = control();
    if (c->read_index == c->write_index)
        return 0;
    guest_copy_out(c->read_index, d, 16);
    uint32_t total = d->length8 * 8u, offset = d->offset8 * 8u;
    ck_assert_uint_le(total - offset, cap);
    guest_copy_out(c->read_index + offset, payload, total - offset);
    uint64_t trailer;
    guest_copy_out(c->read_index + total, &trailer, 8);
    ck_assert_uint_eq(trailer >> 32, c->read_index);
    c->read_index = (c->read_index + total + 8) % DATA_SIZE;
    return total - offset;
}

static void setup(void)
{
    mem = calloc(PAGES, PAGE);
    ck_assert_ptr_nonnull(mem);
}

static void teardown(void)
{
    free(mem);
}

static void open_ring(bool inbound)
{
    ck_assert(vmbus_ring_init(&ring, ring_pfns, RING_PAGES, page_of, NULL, inbound));
}

static void fill(uint8_t *p, uint32_t n, uint32_t seed)
{
    for (uint32_t i = 0; i < n; i++)
        p[i] = (uint8_t)(seed * 31 + i * 7);
}

START_TEST(init_bounds)
{
    ck_assert(!vmbus_ring_init(&ring, ring_pfns, 1, page_of, NULL, true)); /* no data */
    static uint64_t many[VMBUS_RING_MAX_DATA_PAGES + 2];
    ck_assert(!vmbus_ring_init(&ring, many, VMBUS_RING_MAX_DATA_PAGES + 2, page_of, NULL, true));
    ck_assert(vmbus_ring_init(&ring, many, VMBUS_RING_MAX_DATA_PAGES + 1, page_of, NULL, true));
    const uint64_t not_ram[] = { 9, 4, PAGES };
    ck_assert(!vmbus_ring_init(&ring, not_ram, 3, page_of, NULL, true));
    const uint64_t control_not_ram[] = { 1ull << 40, 4 };
    ck_assert(!vmbus_ring_init(&ring, control_not_ram, 2, page_of, NULL, true));
    control()->read_index = DATA_SIZE; /* out of range */
    ck_assert(!vmbus_ring_init(&ring, ring_pfns, RING_PAGES, page_of, NULL, true));
    control()->read_index = 12; /* misaligned */
    ck_assert(!vmbus_ring_init(&ring, ring_pfns, RING_PAGES, page_of, NULL, true));
    control()->read_index = 4096; /* a reopened ring continues where it was */
    control()->write_index = 4096;
    open_ring(true);
    ck_assert_uint_eq(ring.index, 4096);
    ck_assert_uint_eq(ring.data_size, DATA_SIZE);
}
END_TEST

/* Sizes chosen so that packet starts, descriptors and trailers land on every position
 * relative to the wrap, over many turns of the ring. */
START_TEST(guest_to_host_wraps)
{
    open_ring(true);
    static uint8_t payload[3000], got[4096];
    uint32_t turns_bytes = 0;
    for (uint32_t i = 0; i < 400; i++) {
        uint32_t n = 1 + (i * 157) % 2900;
        fill(payload, n, i);
        ck_assert(guest_write(VMBUS_PACKET_INBAND, 1000 + i, payload, n));
        uint32_t length;
        ck_assert_int_eq(vmbus_ring_read(&ring, got, sizeof(got), &length), VMBUS_RING_OK);
        turns_bytes += length + 8;
        struct vmbus_packet p;
        const char *why;
        ck_assert_msg(vmbus_packet_parse(got, length, &p, &why), "%s", why);
        ck_assert_uint_eq(p.type, VMBUS_PACKET_INBAND);
        ck_assert_uint_eq(p.transaction_id, 1000 + i);
        ck_assert_uint_ge(p.payload_length, n);
        ck_assert_uint_lt(p.payload_length, n + 8);
        ck_assert_mem_eq(p.payload, payload, n);
        ck_assert_int_eq(vmbus_ring_read(&ring, got, sizeof(got), &length), VMBUS_RING_EMPTY);
        vmbus_ring_read_commit(&ring);
        ck_assert_uint_eq(control()->read_index, control()->write_index);
    }
    ck_assert_uint_gt(turns_bytes, 40 * DATA_SIZE); /* the index wrapped 40+ times */
}
END_TEST

START_TEST(host_to_guest_wraps)
{
    open_ring(false);
    static uint8_t payload[3000], got[4096];
    uint8_t header[16];
    fill(header, sizeof(header), 99);
    for (uint32_t i = 0; i < 400; i++) {
        uint32_t n = (i * 211) % 2900;
        fill(payload, n, i);
        uint32_t h = (i % 3 == 0) ? 16 : 0;
        ck_assert_int_eq(vmbus_ring_write(&ring, VMBUS_PACKET_COMPLETION, 1, 7 + i, header, h,
                                          payload, n),
                         VMBUS_RING_OK);
        vmbus_ring_write_commit(&ring);
        struct vmbus_packet_descriptor d;
        uint32_t len = guest_read(&d, got, sizeof(got));
        ck_assert_uint_eq(d.type, VMBUS_PACKET_COMPLETION);
        ck_assert_uint_eq(d.flags, 1);
        ck_assert_uint_eq(d.transaction_id, 7 + i);
        ck_assert_uint_eq(d.offset8 * 8u, 16 + h);
        ck_assert_uint_eq(len, ((16 + h + n + 7) & ~7u) - 16 - h);
        ck_assert_mem_eq(got, payload, n);
        for (uint32_t k = n; k < len; k++)
            ck_assert_uint_eq(got[k], 0); /* padding is zeroed, no stale bytes leak */
    }
}
END_TEST

START_TEST(write_signals_only_on_empty_to_non_empty)
{
    open_ring(false);
    uint8_t data[40] = { 1 };
    /* Empty ring, mask clear: the batch of three gets one signal. */
    for (int i = 0; i < 3; i++)
        ck_assert_int_eq(vmbus_ring_write(&ring, 6, 0, (uint64_t)i, NULL, 0, data, 40),
                         VMBUS_RING_OK);
    ck_assert_uint_eq(control()->write_index, 0); /* nothing visible before the commit */
    ck_assert(vmbus_ring_write_commit(&ring));
    ck_assert(!vmbus_ring_write_commit(&ring)); /* nothing new */
    /* The guest has not read the first batch: it is awake, no signal. */
    ck_assert_int_eq(vmbus_ring_write(&ring, 6, 0, 3, NULL, 0, data, 40), VMBUS_RING_OK);
    ck_assert(!vmbus_ring_write_commit(&ring));
    /* It read everything but masked interrupts (it is polling): no signal. */
    control()->read_index = control()->write_index;
    control()->interrupt_mask = 1;
    ck_assert_int_eq(vmbus_ring_write(&ring, 6, 0, 4, NULL, 0, data, 40), VMBUS_RING_OK);
    ck_assert(!vmbus_ring_write_commit(&ring));
    /* Read everything, unmasked: signal. */
    control()->read_index = control()->write_index;
    control()->interrupt_mask = 0;
    ck_assert_int_eq(vmbus_ring_write(&ring, 6, 0, 5, NULL, 0, data, 40), VMBUS_RING_OK);
    ck_assert(vmbus_ring_write_commit(&ring));
}
END_TEST

START_TEST(write_full_and_pending_send_size)
{
    open_ring(false);
    static uint8_t data[4000];
    control()->feature_bits = VMBUS_RING_FEATURE_PENDING_SEND_SIZE;
    int written = 0;
    while (vmbus_ring_write(&ring, 6, 0, 0, NULL, 0, data, 4000) == VMBUS_RING_OK)
        written++;
    ck_assert_int_eq(written, 3); /* 4 x 4024 > 12288 */
    ck_assert_uint_eq(control()->pending_send_size, 4016 + 8);
    ck_assert(vmbus_ring_write_commit(&ring));
    ck_assert(!vmbus_ring_write_resumable(&ring));
    static uint8_t got[4096];
    struct vmbus_packet_descriptor d;
    ck_assert_uint_gt(guest_read(&d, got, sizeof(got)), 0);
    ck_assert(vmbus_ring_write_resumable(&ring));
    ck_assert_uint_eq(control()->pending_send_size, 0);
    ck_assert_int_eq(vmbus_ring_write(&ring, 6, 0, 0, NULL, 0, data, 4000), VMBUS_RING_OK);
    /* Without the feature bit the guest would never look: nothing is written there. */
    control()->feature_bits = 0;
    ck_assert_int_eq(vmbus_ring_write(&ring, 6, 0, 0, NULL, 0, data, 4000), VMBUS_RING_FULL);
    ck_assert_uint_eq(control()->pending_send_size, 0);
    /* Exactly full is refused: free space must exceed the packet (read == write is empty). */
    ck_assert_int_eq(vmbus_ring_write(&ring, 6, 0, 0, NULL, 0, NULL, VMBUS_PACKET_MAX),
                     VMBUS_RING_TOO_BIG);
    ck_assert_int_eq(vmbus_ring_write(&ring, 6, 0, 0, data, 12, NULL, 0), VMBUS_RING_TOO_BIG);
}
END_TEST

START_TEST(read_commit_honours_pending_send_size)
{
    open_ring(true);
    static uint8_t payload[2000], got[4096];
    while (guest_write(6, 1, payload, 2000))
        ;
    uint32_t length;
    /* Six 2024-byte packets leave 144 bytes; the guest waits for more than 4000. */
    control()->pending_send_size = 4000;
    uint32_t free_start = DATA_SIZE - used(control()->read_index, control()->write_index);
    ck_assert_uint_eq(free_start, 144);
    ck_assert_int_eq(vmbus_ring_read(&ring, got, sizeof(got), &length), VMBUS_RING_OK);
    ck_assert_uint_lt(free_start + length + 8, 4000);
    ck_assert(!vmbus_ring_read_commit(&ring)); /* not enough yet */
    ck_assert_int_eq(vmbus_ring_read(&ring, got, sizeof(got), &length), VMBUS_RING_OK);
    ck_assert(vmbus_ring_read_commit(&ring)); /* crossed: signal once */
    ck_assert_int_eq(vmbus_ring_read(&ring, got, sizeof(got), &length), VMBUS_RING_OK);
    ck_assert(!vmbus_ring_read_commit(&ring)); /* already above before this read */
    control()->pending_send_size = 0;
    ck_assert(guest_write(6, 1, payload, 100));
    ck_assert_int_eq(vmbus_ring_read(&ring, got, sizeof(got), &length), VMBUS_RING_OK);
    ck_assert(!vmbus_ring_read_commit(&ring)); /* nobody waits */
}
END_TEST

START_TEST(mask_and_unmask_recheck)
{
    open_ring(true);
    uint8_t payload[8] = { 0 }, got[64];
    uint32_t length;
    vmbus_ring_read_mask(&ring);
    ck_assert_uint_eq(control()->interrupt_mask, 1);
    ck_assert(!vmbus_ring_read_unmask(&ring));
    ck_assert_uint_eq(control()->interrupt_mask, 0);
    vmbus_ring_read_mask(&ring);
    ck_assert(guest_write(6, 1, payload, 8)); /* arrives while masked: no kick */
    ck_assert(vmbus_ring_read_unmask(&ring)); /* so the unmask sees it */
    ck_assert_int_eq(vmbus_ring_read(&ring, got, sizeof(got), &length), VMBUS_RING_OK);
    ck_assert(!vmbus_ring_read_unmask(&ring));
}
END_TEST

START_TEST(corrupt_indices_and_descriptors)
{
    open_ring(true);
    uint8_t payload[64] = { 0 }, got[256];
    uint32_t length;
    control()->write_index = DATA_SIZE;
    ck_assert_int_eq(vmbus_ring_read(&ring, got, sizeof(got), &length), VMBUS_RING_CORRUPT);
    control()->write_index = 0xFFFFFFF8u;
    ck_assert_int_eq(vmbus_ring_read(&ring, got, sizeof(got), &length), VMBUS_RING_CORRUPT);
    control()->write_index = 20; /* misaligned */
    ck_assert_int_eq(vmbus_ring_read(&ring, got, sizeof(got), &length), VMBUS_RING_CORRUPT);
    control()->write_index = 16; /* less than a descriptor and a trailer */
    ck_assert_int_eq(vmbus_ring_read(&ring, got, sizeof(got), &length), VMBUS_RING_CORRUPT);
    control()->write_index = 0;
    ck_assert(guest_write(6, 1, payload, 64)); /* 80 + 8 bytes */
    struct vmbus_packet_descriptor *d = (struct vmbus_packet_descriptor *)guest_byte(0);
    const struct { uint16_t offset8, length8; } bad[] = {
        { 1, 10 },  /* payload inside the descriptor */
        { 0, 10 },
        { 11, 10 }, /* payload after the end */
        { 2, 11 },  /* longer than what was published */
        { 2, 0xFFFF },
        { 2, 1 },
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        d->offset8 = bad[i].offset8;
        d->length8 = bad[i].length8;
        ck_assert_int_eq(vmbus_ring_read(&ring, got, sizeof(got), &length),
                         VMBUS_RING_CORRUPT);
        ck_assert_uint_eq(ring.index, 0); /* a corrupt packet is not consumed */
        ck_assert_uint_eq(length, 0);
    }
    d->offset8 = 2;
    d->length8 = 10;
    ck_assert_int_eq(vmbus_ring_read(&ring, got, sizeof(got), &length), VMBUS_RING_OK);
    /* The guest's read index of the host's ring is checked before every write. */
    struct vmbus_ring out;
    const uint64_t out_pfns[] = { 20, 21, 22 };
    ck_assert(vmbus_ring_init(&out, out_pfns, 3, page_of, NULL, false));
    struct vmbus_ring_control *oc = (struct vmbus_ring_control *)(mem + 20 * PAGE);
    oc->read_index = 2 * PAGE;
    ck_assert_int_eq(vmbus_ring_write(&out, 6, 0, 0, NULL, 0, payload, 8), VMBUS_RING_CORRUPT);
    oc->read_index = 4;
    ck_assert_int_eq(vmbus_ring_write(&out, 6, 0, 0, NULL, 0, payload, 8), VMBUS_RING_CORRUPT);
    oc->read_index = 0;
    ck_assert_int_eq(vmbus_ring_write(&out, 6, 0, 0, NULL, 0, payload, 8), VMBUS_RING_OK);
    ck_assert_uint_eq(vmbus_ring_bytes_free(&out), 2 * PAGE - 32);
    oc->read_index = 3;
    ck_assert_uint_eq(vmbus_ring_bytes_free(&out), 0);
}
END_TEST

START_TEST(oversized_packet_is_skipped)
{
    open_ring(true);
    static uint8_t payload[1000], got[256];
    uint32_t length;
    ck_assert(guest_write(6, 1, payload, 1000));
    ck_assert(guest_write(6, 2, payload, 100));
    ck_assert_int_eq(vmbus_ring_read(&ring, got, sizeof(got), &length), VMBUS_RING_TOO_BIG);
    ck_assert_int_eq(vmbus_ring_read(&ring, got, sizeof(got), &length), VMBUS_RING_OK);
    ck_assert_uint_eq(((struct vmbus_packet_descriptor *)got)->transaction_id, 2);
    ck_assert_int_eq(vmbus_ring_read(&ring, got, 8, &length), VMBUS_RING_EMPTY);
}
END_TEST

/* The guest rewrites write_index between the host's reads: each read takes one snapshot,
 * so it reports corruption or a packet wholly inside what it saw, never more. */
START_TEST(indices_changing_between_reads)
{
    open_ring(true);
    uint8_t payload[32] = { 0 }, got[512];
    uint32_t length;
    for (int i = 0; i < 4; i++)
        ck_assert(guest_write(6, (uint64_t)i, payload, 32));
    ck_assert_int_eq(vmbus_ring_read(&ring, got, sizeof(got), &length), VMBUS_RING_OK);
    uint32_t end = control()->write_index;
    control()->write_index = 0; /* moved backwards: the host sees a huge "available" */
    enum vmbus_ring_status s = vmbus_ring_read(&ring, got, sizeof(got), &length);
    ck_assert(s == VMBUS_RING_OK || s == VMBUS_RING_CORRUPT);
    control()->write_index = ring.index + 8; /* a partial packet */
    ck_assert_int_eq(vmbus_ring_read(&ring, got, sizeof(got), &length), VMBUS_RING_CORRUPT);
    control()->write_index = end;
    while (vmbus_ring_read(&ring, got, sizeof(got), &length) == VMBUS_RING_OK)
        ;
    ck_assert_uint_eq(ring.index, end);
    /* A guest that publishes garbage over the unread part: the descriptor check stops it. */
    memset(guest_byte(end), 0xFF, 64);
    control()->write_index = end + 64;
    ck_assert_int_eq(vmbus_ring_read(&ring, got, sizeof(got), &length), VMBUS_RING_CORRUPT);
}
END_TEST

/* ---- packet parser --------------------------------------------------------------------- */

static uint32_t put(uint8_t *p, uint32_t at, const void *v, uint32_t n)
{
    memcpy(p + at, v, n);
    return at + n;
}

static uint32_t make_gpa_direct(uint8_t *p, uint32_t ranges, uint32_t spare_pfns)
{
    memset(p, 0, 1024);
    uint32_t at = 16;
    uint32_t zero = 0;
    at = put(p, at, &zero, 4);
    at = put(p, at, &ranges, 4);
    for (uint32_t r = 0; r < ranges; r++) {
        uint32_t count = 5000 + r, offset = 100 * r; /* 2 pages each */
        at = put(p, at, &count, 4);
        at = put(p, at, &offset, 4);
        for (uint64_t k = 0; k < 2; k++) {
            uint64_t pfn = 0x1000 + r * 2 + k;
            at = put(p, at, &pfn, 8);
        }
    }
    at += spare_pfns * 8; /* storvsc: unused slots before the payload */
    uint32_t payload = 24;
    struct vmbus_packet_descriptor d = { VMBUS_PACKET_GPA_DIRECT, (uint16_t)(at / 8),
                                         (uint16_t)((at + payload) / 8), 1, 77 };
    memcpy(p, &d, 16);
    return at + payload;
}

START_TEST(parse_gpa_direct)
{
    static uint8_t p[1024];
    struct vmbus_packet pk;
    const char *why;
    uint32_t n = make_gpa_direct(p, 3, 2);
    ck_assert_msg(vmbus_packet_parse(p, n, &pk, &why), "%s", why);
    ck_assert_uint_eq(pk.range_count, 3);
    ck_assert_uint_eq(pk.ranges[2].byte_count, 5002);
    ck_assert_uint_eq(pk.ranges[2].byte_offset, 200);
    ck_assert_uint_eq(pk.ranges[2].pfn_count, 2);
    ck_assert_uint_eq(vmbus_gpa_range_pfn(&pk.ranges[2], 1), 0x1005);
    ck_assert_uint_eq(vmbus_gpa_range_pfn(&pk.ranges[2], 2), 0); /* past the range */
    ck_assert_uint_eq(pk.payload_length, 24);
    ck_assert_uint_eq(pk.transaction_id, 77);
    /* Every shorter descriptor region (offset8) cuts the ranges: refused, never read past. */
    for (uint32_t off8 = 2; off8 < (n - 24) / 8 - 2; off8++) {
        struct vmbus_packet_descriptor *d = (struct vmbus_packet_descriptor *)p;
        d->offset8 = (uint16_t)off8;
        ck_assert_msg(!vmbus_packet_parse(p, n, &pk, &why), "offset8 %u accepted", off8);
    }
    n = make_gpa_direct(p, 1, 0);
    uint32_t bad = 0;
    memcpy(p + 20, &bad, 4); /* no ranges */
    ck_assert(!vmbus_packet_parse(p, n, &pk, &why));
    bad = VMBUS_PACKET_MAX_RANGES + 1;
    memcpy(p + 20, &bad, 4);
    ck_assert(!vmbus_packet_parse(p, n, &pk, &why));
    n = make_gpa_direct(p, 1, 0);
    bad = 4096; /* offset outside the first page */
    memcpy(p + 28, &bad, 4);
    ck_assert(!vmbus_packet_parse(p, n, &pk, &why));
    n = make_gpa_direct(p, 1, 0);
    bad = 0; /* no bytes */
    memcpy(p + 24, &bad, 4);
    ck_assert(!vmbus_packet_parse(p, n, &pk, &why));
    n = make_gpa_direct(p, 1, 0);
    bad = 0xFFFFFFFFu; /* a million pages */
    memcpy(p + 24, &bad, 4);
    ck_assert(!vmbus_packet_parse(p, n, &pk, &why));
}
END_TEST

START_TEST(parse_transfer_pages_and_others)
{
    uint8_t p[128] = { 0 };
    struct vmbus_packet pk;
    const char *why;
    struct vmbus_packet_descriptor d = { VMBUS_PACKET_TRANSFER_PAGES, 6, 8, 0, 5 };
    memcpy(p, &d, 16);
    uint16_t set = 0xCAFE;
    uint32_t count = 3;
    memcpy(p + 16, &set, 2);
    memcpy(p + 20, &count, 4);
    uint32_t range[6] = { 100, 0, 200, 4096, 300, 8192 };
    memcpy(p + 24, range, sizeof(range));
    ck_assert_msg(vmbus_packet_parse(p, 64, &pk, &why), "%s", why);
    ck_assert_uint_eq(pk.transfer_page_set_id, 0xCAFE);
    ck_assert_uint_eq(pk.range_count, 3);
    ck_assert_uint_eq(pk.transfer_ranges[2].byte_offset, 8192);
    count = 4; /* one more than the descriptor region holds */
    memcpy(p + 20, &count, 4);
    ck_assert(!vmbus_packet_parse(p, 64, &pk, &why));
    count = 0;
    memcpy(p + 20, &count, 4);
    ck_assert(!vmbus_packet_parse(p, 64, &pk, &why));
    /* Lengths that disagree with the buffer, offsets outside the packet, unknown types. */
    struct vmbus_packet_descriptor inband = { VMBUS_PACKET_INBAND, 2, 4, 0, 1 };
    memcpy(p, &inband, 16);
    ck_assert(vmbus_packet_parse(p, 32, &pk, &why));
    ck_assert_uint_eq(pk.payload_length, 16);
    ck_assert(!vmbus_packet_parse(p, 40, &pk, &why));
    ck_assert(!vmbus_packet_parse(p, 8, &pk, &why));
    inband.offset8 = 5;
    memcpy(p, &inband, 16);
    ck_assert(!vmbus_packet_parse(p, 32, &pk, &why));
    inband.offset8 = 1;
    memcpy(p, &inband, 16);
    ck_assert(!vmbus_packet_parse(p, 32, &pk, &why));
    for (uint16_t type = 0; type < 20; type++) {
        struct vmbus_packet_descriptor t = { type, 2, 4, 0, 1 };
        memcpy(p, &t, 16);
        bool known = type == 6 || type == 11;
        ck_assert_int_eq(vmbus_packet_parse(p, 32, &pk, &why), known);
    }
}
END_TEST

Suite *vmbus_ring_suite(void)
{
    Suite *s = suite_create("vmbus_ring");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, init_bounds);
    tcase_add_test(tc, guest_to_host_wraps);
    tcase_add_test(tc, host_to_guest_wraps);
    tcase_add_test(tc, write_signals_only_on_empty_to_non_empty);
    tcase_add_test(tc, write_full_and_pending_send_size);
    tcase_add_test(tc, read_commit_honours_pending_send_size);
    tcase_add_test(tc, mask_and_unmask_recheck);
    tcase_add_test(tc, corrupt_indices_and_descriptors);
    tcase_add_test(tc, oversized_packet_is_skipped);
    tcase_add_test(tc, indices_changing_between_reads);
    tcase_add_test(tc, parse_gpa_direct);
    tcase_add_test(tc, parse_transfer_pages_and_others);
    suite_add_tcase(s, tc);
    return s;
}
