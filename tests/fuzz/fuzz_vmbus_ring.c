// sources: vmbus/ring.c
/*
 * libFuzzer target for the host's ring reader and writer (vmbus/ring.c): the fuzzer owns the
 * whole ring as the child would: the control page fields, the data pages, and the indices
 * it rewrites between the host's reads. Input: control page (first 72 bytes: write, read,
 * mask, pending, ..., feature bits), then the data area (2 pages, zero-filled past the
 * input), then the input's tail is reused as a script of index changes between reads.
 * Whatever the bytes: no crash (ASan/UBSan), every packet handed out fits the buffer and
 * what was published, parses or is refused, and the host's index stays valid.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmbus/ring.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REQUIRE(cond)                                                                      \
    do {                                                                                   \
        if (!(cond)) {                                                                     \
            fprintf(stderr, "fuzz_vmbus_ring: invariant failed: %s (line %d)\n", #cond,    \
                    __LINE__);                                                             \
            abort();                                                                       \
        }                                                                                  \
    } while (0)

#define PAGE VMBUS_PAGE_SIZE
#define DATA_PAGES 2u
#define CAPACITY 2048u

static _Alignas(4096) uint8_t pages[1 + DATA_PAGES][PAGE];

static uint8_t *page_of(void *context, uint64_t pfn)
{
    (void)context;
    return pfn <= DATA_PAGES ? pages[pfn] : NULL;
}

static void check_index(const struct vmbus_ring *ring)
{
    REQUIRE(ring->index < ring->data_size && ring->index % 8 == 0);
}

static void read_side(const uint8_t *script, size_t script_size)
{
    static const uint64_t pfns[] = { 0, 2, 1 }; /* data pages out of order */
    struct vmbus_ring ring;
    if (!vmbus_ring_init(&ring, pfns, 3, page_of, NULL, true))
        return;
    struct vmbus_ring_control *c = (struct vmbus_ring_control *)pages[0];
    static uint64_t buffer[CAPACITY / 8];
    for (unsigned step = 0; step < 64; step++) {
        uint32_t before = ring.index, length = 12345;
        uint32_t write = c->write_index;
        enum vmbus_ring_status s = vmbus_ring_read(&ring, buffer, CAPACITY, &length);
        check_index(&ring);
        if (s == VMBUS_RING_OK) {
            REQUIRE(length >= 16 && length <= CAPACITY && length % 8 == 0);
            uint32_t available = write >= before ? write - before
                                                 : ring.data_size - before + write;
            REQUIRE(length + 8 <= available);
            struct vmbus_packet p;
            const char *why;
            if (vmbus_packet_parse((const uint8_t *)buffer, length, &p, &why)) {
                REQUIRE(p.payload >= (const uint8_t *)buffer);
                REQUIRE(p.payload + p.payload_length == (const uint8_t *)buffer + length);
                for (uint32_t r = 0; p.type == VMBUS_PACKET_GPA_DIRECT && r < p.range_count;
                     r++) {
                    REQUIRE(p.ranges[r].pfns + p.ranges[r].pfn_count * 8 <= p.payload);
                    REQUIRE(p.ranges[r].byte_offset < PAGE);
                }
                REQUIRE(p.range_count <= VMBUS_PACKET_MAX_RANGES);
            }
        } else {
            REQUIRE(length == 0);
            if (s != VMBUS_RING_TOO_BIG)
                REQUIRE(ring.index == before);
        }
        vmbus_ring_read_commit(&ring);
        REQUIRE(c->read_index == ring.index);
        if (s == VMBUS_RING_EMPTY || s == VMBUS_RING_CORRUPT) {
            /* The child moves its write index (from the script) and the host goes on. */
            if (script_size < 4)
                return;
            memcpy(&c->write_index, script, 4);
            script += 4;
            script_size -= 4;
        }
    }
}

static void write_side(const uint8_t *script, size_t script_size)
{
    static const uint64_t pfns[] = { 0, 1, 2 };
    struct vmbus_ring ring;
    if (!vmbus_ring_init(&ring, pfns, 3, page_of, NULL, false))
        return;
    struct vmbus_ring_control *c = (struct vmbus_ring_control *)pages[0];
    static uint8_t payload[3000];
    while (script_size >= 6) {
        uint16_t n;
        memcpy(&n, script, 2);
        memcpy(&c->read_index, script + 2, 4);
        script += 6;
        script_size -= 6;
        n %= sizeof(payload);
        uint32_t before = ring.index;
        enum vmbus_ring_status s = vmbus_ring_write(&ring, VMBUS_PACKET_INBAND, 0, 1, NULL, 0,
                                                    payload, n);
        check_index(&ring);
        if (s != VMBUS_RING_OK)
            REQUIRE(ring.index == before);
        vmbus_ring_write_commit(&ring);
        REQUIRE(c->write_index == ring.index);
        vmbus_ring_write_resumable(&ring);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    memset(pages, 0, sizeof(pages));
    size_t control = size < 72 ? size : 72;
    memcpy(pages[0], data, control);
    size_t body = size - control < DATA_PAGES * PAGE ? size - control : DATA_PAGES * PAGE;
    memcpy(pages[1], data + control, body);
    const uint8_t *script = data + control + body;
    size_t script_size = size - control - body;
    /* Short inputs reuse their own bytes as the script so small cases move indices too. */
    if (script_size == 0) {
        script = data;
        script_size = control;
    }
    read_side(script, script_size);
    memset(pages[0], 0, PAGE);
    memcpy(pages[0], data, control);
    write_side(script, script_size);
    return 0;
}
