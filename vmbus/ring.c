#include "vmbus/ring.h"

#include <stddef.h>
#include <string.h>

_Static_assert(offsetof(struct vmbus_ring_control, feature_bits) == 64, "hv_ring_buffer");
_Static_assert(sizeof(struct vmbus_packet_descriptor) == 16, "vmpacket_descriptor");

/* Peer-owned fields are read once per use with a real load (the child changes them under
 * us); the host's own fields are published with release stores (x86 keeps stores in
 * order, so the data is visible before the index). */
static uint32_t load_field(const uint32_t *field)
{
    return __atomic_load_n(field, __ATOMIC_ACQUIRE);
}

static void store_field(uint32_t *field, uint32_t value)
{
    __atomic_store_n(field, value, __ATOMIC_RELEASE);
}

/* The store of our index must be globally visible before we read the peer's mask/index
 * (store->load order, which x86 TSO does not give without a fence: Linux virt_mb()). */
static void full_fence(void)
{
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
}

static bool index_valid(const struct vmbus_ring *ring, uint32_t index)
{
    return index < ring->data_size && index % 8 == 0;
}

static uint32_t bytes_between(const struct vmbus_ring *ring, uint32_t from, uint32_t to)
{
    return to >= from ? to - from : ring->data_size - from + to;
}

static uint32_t advance(const struct vmbus_ring *ring, uint32_t index, uint32_t bytes)
{
    uint64_t next = (uint64_t)index + bytes;
    return (uint32_t)(next % ring->data_size);
}

/* Copies across page boundaries and the wrap of the data area. */
static void copy_out(const struct vmbus_ring *ring, uint32_t offset, void *to, uint32_t length)
{
    uint8_t *dst = to;
    while (length) {
        uint32_t in_page = offset % VMBUS_PAGE_SIZE;
        uint32_t chunk = VMBUS_PAGE_SIZE - in_page;
        if (chunk > length)
            chunk = length;
        memcpy(dst, ring->pages[offset / VMBUS_PAGE_SIZE] + in_page, chunk);
        dst += chunk;
        length -= chunk;
        offset = advance(ring, offset, chunk);
    }
}

static void copy_in(struct vmbus_ring *ring, uint32_t offset, const void *from, uint32_t length)
{
    const uint8_t *src = from;
    while (length) {
        uint32_t in_page = offset % VMBUS_PAGE_SIZE;
        uint32_t chunk = VMBUS_PAGE_SIZE - in_page;
        if (chunk > length)
            chunk = length;
        if (src)
            memcpy(ring->pages[offset / VMBUS_PAGE_SIZE] + in_page, src, chunk);
        else
            memset(ring->pages[offset / VMBUS_PAGE_SIZE] + in_page, 0, chunk);
        if (src)
            src += chunk;
        length -= chunk;
        offset = advance(ring, offset, chunk);
    }
}

bool vmbus_ring_init(struct vmbus_ring *ring, const uint64_t *pfns, uint32_t page_count,
                     vmbus_page_fn page, void *context, bool inbound)
{
    memset(ring, 0, sizeof(*ring));
    if (page_count < 2 || page_count - 1 > VMBUS_RING_MAX_DATA_PAGES)
        return false;
    uint8_t *control = page(context, pfns[0]);
    if (!control)
        return false;
    for (uint32_t i = 1; i < page_count; i++) {
        ring->pages[i - 1] = page(context, pfns[i]);
        if (!ring->pages[i - 1])
            return false;
    }
    ring->control = (struct vmbus_ring_control *)control;
    ring->data_size = (page_count - 1) * VMBUS_PAGE_SIZE;
    uint32_t *own = inbound ? &ring->control->read_index : &ring->control->write_index;
    uint32_t start = load_field(own);
    if (!index_valid(ring, start)) {
        ring->control = NULL;
        return false;
    }
    ring->index = start;
    ring->published = start;
    if (!inbound) {
        /* No wait for space is left over from an earlier open of this ring. */
        store_field(&ring->control->pending_send_size, 0);
    }
    return true;
}

const char *vmbus_ring_status_name(enum vmbus_ring_status status)
{
    switch (status) {
    case VMBUS_RING_OK:
        return "ok";
    case VMBUS_RING_EMPTY:
        return "empty";
    case VMBUS_RING_FULL:
        return "full";
    case VMBUS_RING_TOO_BIG:
        return "packet too big";
    case VMBUS_RING_CORRUPT:
        return "corrupt";
    case VMBUS_RING_CLOSED:
        return "closed";
    }
    return "?";
}

enum vmbus_ring_status vmbus_ring_read(struct vmbus_ring *ring, void *buffer, uint32_t capacity,
                                       uint32_t *length)
{
    *length = 0;
    uint32_t write = load_field(&ring->control->write_index);
    if (!index_valid(ring, write))
        return VMBUS_RING_CORRUPT;
    uint32_t available = bytes_between(ring, ring->index, write);
    if (available == 0)
        return VMBUS_RING_EMPTY;
    /* A writer publishes whole packets only. */
    if (available < sizeof(struct vmbus_packet_descriptor) + VMBUS_PACKET_TRAILER)
        return VMBUS_RING_CORRUPT;
    struct vmbus_packet_descriptor d;
    copy_out(ring, ring->index, &d, sizeof(d));
    uint32_t total = (uint32_t)d.length8 * 8;
    uint32_t offset = (uint32_t)d.offset8 * 8;
    if (offset < sizeof(d) || total < offset || total + VMBUS_PACKET_TRAILER > available)
        return VMBUS_RING_CORRUPT;
    if (total > capacity || capacity < sizeof(d)) {
        ring->index = advance(ring, ring->index, total + VMBUS_PACKET_TRAILER);
        return VMBUS_RING_TOO_BIG;
    }
    /* The descriptor checked above is the one the caller gets: copy the rest after it. */
    memcpy(buffer, &d, sizeof(d));
    copy_out(ring, advance(ring, ring->index, sizeof(d)), (uint8_t *)buffer + sizeof(d),
             total - (uint32_t)sizeof(d));
    ring->index = advance(ring, ring->index, total + VMBUS_PACKET_TRAILER);
    *length = total;
    return VMBUS_RING_OK;
}

bool vmbus_ring_read_commit(struct vmbus_ring *ring)
{
    uint32_t before = ring->published;
    if (before == ring->index)
        return false;
    store_field(&ring->control->read_index, ring->index);
    ring->published = ring->index;
    full_fence();
    uint32_t pending = load_field(&ring->control->pending_send_size);
    if (pending == 0)
        return false;
    uint32_t write = load_field(&ring->control->write_index);
    if (!index_valid(ring, write))
        return false; /* the next read reports it */
    /* Linux hv_pkt_iter_close: signal only if this commit moved the free space from at
     * most pending_send_size to above it. */
    uint32_t free_now = ring->data_size - bytes_between(ring, ring->index, write);
    uint32_t freed = bytes_between(ring, before, ring->index);
    uint32_t free_before = free_now - freed;
    return free_before <= pending && free_now > pending;
}

void vmbus_ring_read_mask(struct vmbus_ring *ring)
{
    store_field(&ring->control->interrupt_mask, 1);
}

bool vmbus_ring_read_unmask(struct vmbus_ring *ring)
{
    store_field(&ring->control->interrupt_mask, 0);
    full_fence();
    uint32_t write = load_field(&ring->control->write_index);
    return write != ring->index;
}

uint32_t vmbus_ring_bytes_free(const struct vmbus_ring *ring)
{
    uint32_t read = load_field(&ring->control->read_index);
    if (!index_valid(ring, read))
        return 0;
    return ring->data_size - bytes_between(ring, read, ring->index);
}

enum vmbus_ring_status vmbus_ring_write(struct vmbus_ring *ring, uint16_t type, uint16_t flags,
                                        uint64_t transaction_id, const void *header,
                                        uint32_t header_length, const void *payload,
                                        uint32_t payload_length)
{
    uint32_t offset = (uint32_t)sizeof(struct vmbus_packet_descriptor) + header_length;
    uint64_t total = (uint64_t)offset + payload_length;
    uint64_t padded = (total + 7) & ~7ull;
    if (header_length % 8 != 0 || offset / 8 > 0xFFFF || padded > VMBUS_PACKET_MAX)
        return VMBUS_RING_TOO_BIG;
    uint32_t read = load_field(&ring->control->read_index);
    if (!index_valid(ring, read))
        return VMBUS_RING_CORRUPT;
    uint32_t free = ring->data_size - bytes_between(ring, read, ring->index);
    /* Strictly more than the packet: a full ring would look empty (read == write). */
    if (free <= padded + VMBUS_PACKET_TRAILER) {
        if (load_field(&ring->control->feature_bits) & VMBUS_RING_FEATURE_PENDING_SEND_SIZE)
            store_field(&ring->control->pending_send_size,
                        (uint32_t)padded + VMBUS_PACKET_TRAILER);
        return VMBUS_RING_FULL;
    }
    struct vmbus_packet_descriptor d = {
        .type = type,
        .offset8 = (uint16_t)(offset / 8),
        .length8 = (uint16_t)(padded / 8),
        .flags = flags,
        .transaction_id = transaction_id,
    };
    uint32_t start = ring->index;
    uint32_t at = start;
    copy_in(ring, at, &d, sizeof(d));
    at = advance(ring, at, sizeof(d));
    copy_in(ring, at, header, header_length);
    at = advance(ring, at, header_length);
    copy_in(ring, at, payload, payload_length);
    at = advance(ring, at, payload_length);
    copy_in(ring, at, NULL, (uint32_t)(padded - total));
    at = advance(ring, at, (uint32_t)(padded - total));
    /* The trailer: the packet's start offset in the upper half (Linux prev_indices). */
    uint64_t trailer = (uint64_t)start << 32;
    copy_in(ring, at, &trailer, sizeof(trailer));
    ring->index = advance(ring, at, sizeof(trailer));
    return VMBUS_RING_OK;
}

bool vmbus_ring_write_commit(struct vmbus_ring *ring)
{
    uint32_t before = ring->published;
    if (before == ring->index)
        return false;
    store_field(&ring->control->write_index, ring->index);
    ring->published = ring->index;
    full_fence();
    if (load_field(&ring->control->interrupt_mask))
        return false;
    /* Linux hv_signal_on_write: the reader is (or is about to go) idle only if it had
     * consumed everything we had published before this batch. */
    return load_field(&ring->control->read_index) == before;
}

bool vmbus_ring_write_resumable(struct vmbus_ring *ring)
{
    uint32_t pending = load_field(&ring->control->pending_send_size);
    if (pending == 0)
        return true;
    if (vmbus_ring_bytes_free(ring) <= pending)
        return false;
    store_field(&ring->control->pending_send_size, 0);
    return true;
}

/* ---- packets ------------------------------------------------------------------------- */

static uint32_t read_u32(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, sizeof(v));
    return v;
}

uint64_t vmbus_gpa_range_pfn(const struct vmbus_gpa_range *range, uint32_t i)
{
    uint64_t v = 0;
    if (i < range->pfn_count)
        memcpy(&v, range->pfns + (size_t)i * 8, sizeof(v));
    return v;
}

/* GPA_DIRECT (Linux struct vmbus_packet_mpb_array / vmdata_gpa_direct): u32 reserved,
 * u32 range_count, then ranges {u32 byte_count, u32 byte_offset, u64 pfn[]} up to the
 * payload offset. Unused PFN slots may follow the last range (storvsc). */
static bool parse_gpa_direct(const uint8_t *data, uint32_t end, struct vmbus_packet *out,
                             const char **why)
{
    uint32_t at = sizeof(struct vmbus_packet_descriptor);
    if (end < at + 8) {
        *why = "GPA_DIRECT header does not fit";
        return false;
    }
    uint32_t count = read_u32(data + at + 4);
    at += 8;
    if (count == 0 || count > VMBUS_PACKET_MAX_RANGES) {
        *why = "GPA_DIRECT range count out of range";
        return false;
    }
    for (uint32_t i = 0; i < count; i++) {
        struct vmbus_gpa_range *r = &out->ranges[i];
        if (end - at < 8) {
            *why = "GPA_DIRECT range head does not fit";
            return false;
        }
        r->byte_count = read_u32(data + at);
        r->byte_offset = read_u32(data + at + 4);
        at += 8;
        if (r->byte_count == 0 || r->byte_offset >= VMBUS_PAGE_SIZE) {
            *why = "GPA_DIRECT range has no bytes or starts past its first page";
            return false;
        }
        uint64_t pages = ((uint64_t)r->byte_offset + r->byte_count + VMBUS_PAGE_SIZE - 1) /
                         VMBUS_PAGE_SIZE;
        if (pages * 8 > end - at) {
            *why = "GPA_DIRECT PFNs do not fit";
            return false;
        }
        r->pfn_count = (uint32_t)pages;
        r->pfns = data + at;
        at += (uint32_t)pages * 8;
    }
    out->range_count = count;
    return true;
}

/* TRANSFER_PAGES (Linux struct vmtransfer_page_packet_header): u16 set id, u8 sender owns,
 * u8 reserved, u32 range_count, ranges {u32 byte_count, u32 byte_offset}. */
static bool parse_transfer_pages(const uint8_t *data, uint32_t end, struct vmbus_packet *out,
                                 const char **why)
{
    uint32_t at = sizeof(struct vmbus_packet_descriptor);
    if (end < at + 8) {
        *why = "TRANSFER_PAGES header does not fit";
        return false;
    }
    memcpy(&out->transfer_page_set_id, data + at, sizeof(uint16_t));
    uint32_t count = read_u32(data + at + 4);
    at += 8;
    if (count == 0 || count > VMBUS_PACKET_MAX_RANGES || (uint64_t)count * 8 > end - at) {
        *why = "TRANSFER_PAGES range count out of range";
        return false;
    }
    for (uint32_t i = 0; i < count; i++) {
        out->transfer_ranges[i].byte_count = read_u32(data + at + i * 8);
        out->transfer_ranges[i].byte_offset = read_u32(data + at + i * 8 + 4);
    }
    out->range_count = count;
    return true;
}

bool vmbus_packet_parse(const uint8_t *data, uint32_t length, struct vmbus_packet *out,
                        const char **why)
{
    memset(out, 0, sizeof(*out));
    struct vmbus_packet_descriptor d;
    if (length < sizeof(d)) {
        *why = "shorter than a descriptor";
        return false;
    }
    memcpy(&d, data, sizeof(d));
    uint32_t offset = (uint32_t)d.offset8 * 8;
    uint32_t total = (uint32_t)d.length8 * 8;
    if (total != length || offset < sizeof(d) || offset > total) {
        *why = "descriptor lengths do not fit the packet";
        return false;
    }
    out->type = d.type;
    out->flags = d.flags;
    out->transaction_id = d.transaction_id;
    out->payload = data + offset;
    out->payload_length = total - offset;
    switch (d.type) {
    case VMBUS_PACKET_INBAND:
    case VMBUS_PACKET_COMPLETION:
        return true;
    case VMBUS_PACKET_GPA_DIRECT:
        return parse_gpa_direct(data, offset, out, why);
    case VMBUS_PACKET_TRANSFER_PAGES:
        return parse_transfer_pages(data, offset, out, why);
    default:
        *why = "unknown packet type";
        return false;
    }
}
