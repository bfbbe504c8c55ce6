/*
 * A fake Linux child for the VMBus and VSP suites (test_storvsp.c, test_ic.c,
 * test_netvsp.c, test_vmbus_connection.c): the root's services faked (messages posted,
 * signals, log lines, the child's RAM as PAGES pages), and Linux's side of VMBus
 * (drivers/hv): contact at 5.3, offers, GPADLs in header + bodies, a ring GPADL,
 * OPENCHANNEL, packets written into the child->host ring and read from the host->child
 * ring, CLOSECHANNEL. A suite with services of its own (test_vmbus_connection.c records
 * every message) passes them to child_init and uses the rest.
 * Everything is static inline so each suite gets its own copy; a suite may define PAGES
 * (the child's RAM in pages) before including this.
 */
#ifndef HVFW_TESTS_VSP_CHILD_H
#define HVFW_TESTS_VSP_CHILD_H

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmbus/connection.h"

#ifndef PAGES
#define PAGES 4096u
#endif
#define PAGE VMBUS_PAGE_SIZE

static struct {
    uint32_t posted, signals, logs;
    uint32_t last_type;
    uint32_t open_status;
    char last_log[256];
} child_host;

static uint8_t *child_memory;
static struct vmbus_connection *child_connection;

static inline bool child_fake_post(void *context, uint32_t vp, uint32_t sint,
                                   const void *payload, uint32_t size)
{
    (void)context, (void)vp, (void)sint;
    const struct vmbus_message_header *h = payload;
    child_host.posted++;
    child_host.last_type = h->type;
    if (h->type == VMBUS_MSG_OPENCHANNEL_RESULT &&
        size >= sizeof(struct vmbus_open_result_message))
        child_host.open_status = ((const struct vmbus_open_result_message *)payload)->status;
    return true;
}

static inline void child_fake_signal(void *context, uint32_t vp, uint32_t sint, uint32_t flag)
{
    (void)context, (void)vp, (void)sint, (void)flag;
    child_host.signals++;
}

static inline uint8_t *child_fake_page(void *context, uint64_t pfn)
{
    (void)context;
    return pfn < PAGES ? child_memory + pfn * PAGE : NULL;
}

static inline void child_fake_log(void *context, const char *level, const char *line)
{
    (void)context;
    child_host.logs++;
    snprintf(child_host.last_log, sizeof(child_host.last_log), "%s", line);
    if (getenv("VSP_TEST_VERBOSE"))
        fprintf(stderr, "%s: %s\n", level, line);
}

static const struct vmbus_host_ops child_fake_ops = {
    .post_message = child_fake_post,
    .signal_event = child_fake_signal,
    .page = child_fake_page,
    .log = child_fake_log,
};

/* The child's RAM (zero) and its connection of `vp_count` VPs served by `ops`; not yet in
 * contact. */
static inline void child_init(const struct vmbus_host_ops *ops, uint32_t vp_count)
{
    memset(&child_host, 0, sizeof(child_host));
    child_memory = calloc(PAGES, PAGE);
    child_connection = malloc(sizeof(*child_connection));
    ck_assert(child_memory && child_connection);
    vmbus_connection_init(child_connection, ops, vp_count);
}

/* A message on the connection Linux posts to after contact. */
static inline void child_post(const void *message, uint32_t size)
{
    vmbus_connection_handle_message(child_connection, VMBUS_MESSAGE_CONNECTION_ID, message,
                                    size);
}

/* Linux vmbus_connect at 5.3 (on connection 4), then REQUESTOFFERS. */
static inline void child_connect(void)
{
    struct vmbus_initiate_contact_message m = {
        .header.type = VMBUS_MSG_INITIATE_CONTACT,
        .version = VMBUS_VERSION_WIN10_V5_3,
        .target_vcpu = 0,
        .interrupt_page_or_sint = VMBUS_MESSAGE_SINT,
    };
    vmbus_connection_handle_message(child_connection, VMBUS_MESSAGE_CONNECTION_ID_4, &m,
                                    sizeof(m));
    struct vmbus_message_header h = { .type = VMBUS_MSG_REQUESTOFFERS };
    child_post(&h, sizeof(h));
}

/* A connected child (VMBus 5.3) with no devices yet, on the fake services above. */
static inline void child_start(void)
{
    child_init(&child_fake_ops, 2);
    child_connect();
}

static inline void child_stop(void)
{
    vmbus_connection_destroy(child_connection);
    free(child_connection);
    free(child_memory);
}

struct child_ring {
    uint64_t control_pfn;
    uint32_t size;
};

struct child_channel {
    uint32_t relid;
    struct child_ring out; /* child -> host */
    struct child_ring in;  /* host -> child */
};

static inline struct vmbus_ring_control *child_ctl(const struct child_ring *r)
{
    return (struct vmbus_ring_control *)(child_memory + r->control_pfn * PAGE);
}

static inline uint8_t *child_ring_byte(const struct child_ring *r, uint32_t offset)
{
    return child_memory + (r->control_pfn + 1) * PAGE + offset % r->size;
}

static inline uint32_t child_ring_used(const struct child_ring *r)
{
    uint32_t w = child_ctl(r)->write_index, rd = child_ctl(r)->read_index;
    return w >= rd ? w - rd : r->size - rd + w;
}

/* Linux create_gpadl_header: `count` entries (range heads and PFNs) of `range_count`
 * ranges; the range head and 26 PFNs in the header, up to 28 entries per body. */
static inline void child_gpadl_ranges(uint32_t relid, uint32_t handle, const uint64_t *entries,
                                      uint32_t count, uint16_t range_count)
{
    union {
        uint8_t bytes[VMBUS_MESSAGE_MAX];
        struct vmbus_gpadl_header_message h;
        struct vmbus_gpadl_body_message b;
    } m;
    memset(&m, 0, sizeof(m));
    m.h.header.type = VMBUS_MSG_GPADL_HEADER;
    m.h.child_relid = relid;
    m.h.gpadl = handle;
    m.h.range_buffer_length = (uint16_t)(count * 8);
    m.h.range_count = range_count;
    uint32_t first = count < 27 ? count : 27;
    memcpy(m.bytes + 20, entries, first * 8);
    child_post(&m, 20 + first * 8);
    for (uint32_t at = first; at < count;) {
        uint32_t n = count - at < 28 ? count - at : 28;
        memset(&m, 0, sizeof(m));
        m.b.header.type = VMBUS_MSG_GPADL_BODY;
        m.b.gpadl = handle;
        memcpy(m.bytes + 16, entries + at, n * 8);
        child_post(&m, 16 + n * 8);
        at += n;
    }
}

/* One range over `pages` whole pages from `first_pfn`. */
static inline void child_gpadl(uint32_t relid, uint32_t handle, uint64_t first_pfn,
                               uint32_t pages)
{
    static uint64_t entries[1 + 4096];
    ck_assert_uint_lt(pages, sizeof(entries) / sizeof(entries[0]));
    entries[0] = (uint64_t)pages * PAGE; /* byte_count, byte_offset 0 */
    for (uint32_t i = 0; i < pages; i++)
        entries[1 + i] = first_pfn + i;
    child_gpadl_ranges(relid, handle, entries, pages + 1, 1);
}

/* Linux vmbus_open: one GPADL over send + receive pages, then OPENCHANNEL; the open
 * must succeed. */
static inline struct child_channel child_open(uint32_t relid, uint32_t handle, uint64_t base,
                                              uint32_t send_pages, uint32_t receive_pages)
{
    uint32_t pages = send_pages + receive_pages;
    memset(child_memory + base * PAGE, 0, (size_t)pages * PAGE);
    ((struct vmbus_ring_control *)(child_memory + base * PAGE))->feature_bits = 1;
    ((struct vmbus_ring_control *)(child_memory + (base + send_pages) * PAGE))->feature_bits = 1;
    child_gpadl(relid, handle, base, pages);
    ck_assert_uint_eq(child_host.last_type, VMBUS_MSG_GPADL_CREATED);
    struct vmbus_open_channel_message o = {
        .header.type = VMBUS_MSG_OPENCHANNEL,
        .child_relid = relid,
        .open_id = relid,
        .ring_gpadl = handle,
        .target_vp = 0,
        .downstream_ring_page_offset = send_pages,
    };
    child_post(&o, sizeof(o));
    ck_assert_uint_eq(child_host.last_type, VMBUS_MSG_OPENCHANNEL_RESULT);
    ck_assert_uint_eq(child_host.open_status, 0);
    return (struct child_channel){
        .relid = relid,
        .out = { base, (send_pages - 1) * PAGE },
        .in = { base + send_pages, (receive_pages - 1) * PAGE },
    };
}

static inline void child_close(const struct child_channel *c)
{
    struct vmbus_relid_message m = { .header.type = VMBUS_MSG_CLOSECHANNEL,
                                     .child_relid = c->relid };
    child_post(&m, sizeof(m));
}

static inline void child_ring_put(const struct child_ring *r, uint32_t at, const void *src,
                                  uint32_t n)
{
    for (uint32_t i = 0; i < n; i++)
        *child_ring_byte(r, at + i) = src ? ((const uint8_t *)src)[i] : 0;
}

/* A whole packet the child composed (descriptor included, length a multiple of 8). */
static inline bool child_write_raw(const struct child_ring *r, const void *packet,
                                   uint32_t length)
{
    if (r->size - child_ring_used(r) <= length + 8)
        return false;
    uint32_t w = child_ctl(r)->write_index;
    child_ring_put(r, w, packet, length);
    uint64_t trailer = (uint64_t)w << 32;
    child_ring_put(r, w + length, &trailer, 8);
    child_ctl(r)->write_index = (w + length + 8) % r->size;
    return true;
}

/* One packet: the descriptor, `header_length` bytes of the type's own header (a
 * GPA_DIRECT's ranges; offset8 counts them), `n` payload bytes, zeros to a multiple of 8,
 * the trailer. False, with nothing written, when the ring has no room. */
static inline bool child_write_packet(const struct child_ring *r, uint16_t type,
                                      uint16_t flags, uint64_t id, const void *header,
                                      uint32_t header_length, const void *payload,
                                      uint32_t n)
{
    uint32_t offset = 16 + header_length, total = offset + n;
    uint32_t padded = (total + 7) & ~7u;
    if (r->size - child_ring_used(r) <= padded + 8)
        return false;
    struct vmbus_packet_descriptor d = { type, (uint16_t)(offset / 8), (uint16_t)(padded / 8),
                                         flags, id };
    uint32_t w = child_ctl(r)->write_index;
    child_ring_put(r, w, &d, 16);
    child_ring_put(r, w + 16, header, header_length);
    child_ring_put(r, w + offset, payload, n);
    child_ring_put(r, w + total, NULL, padded - total);
    uint64_t trailer = (uint64_t)w << 32;
    child_ring_put(r, w + padded, &trailer, 8);
    child_ctl(r)->write_index = (w + padded + 8) % r->size;
    return true;
}

/* A packet with `n` payload bytes right after the descriptor (padded to 8). */
static inline bool child_write(const struct child_ring *r, uint16_t type, uint16_t flags,
                               uint64_t id, const void *payload, uint32_t n)
{
    return child_write_packet(r, type, flags, id, NULL, 0, payload, n);
}

/* Reads one host packet: its descriptor and payload (from offset8); 0 if none. */
static inline uint32_t child_read(const struct child_ring *r, struct vmbus_packet_descriptor *d,
                                  uint8_t *payload)
{
    if (child_ring_used(r) == 0)
        return 0;
    uint32_t at = child_ctl(r)->read_index;
    for (uint32_t i = 0; i < 16; i++)
        ((uint8_t *)d)[i] = *child_ring_byte(r, at + i);
    uint32_t n = d->length8 * 8u - d->offset8 * 8u;
    for (uint32_t i = 0; i < n; i++)
        payload[i] = *child_ring_byte(r, at + d->offset8 * 8u + i);
    child_ctl(r)->read_index = (at + d->length8 * 8u + 8) % r->size;
    return n;
}

/* Reads one host packet whole, descriptor first; its length (length8 * 8) or 0 if none. */
static inline uint32_t child_read_packet(const struct child_ring *r, uint8_t *packet)
{
    if (child_ring_used(r) == 0)
        return 0;
    uint32_t at = child_ctl(r)->read_index;
    struct vmbus_packet_descriptor d;
    for (uint32_t i = 0; i < 16; i++)
        ((uint8_t *)&d)[i] = *child_ring_byte(r, at + i);
    uint32_t n = d.length8 * 8u;
    for (uint32_t i = 0; i < n; i++)
        packet[i] = *child_ring_byte(r, at + i);
    child_ctl(r)->read_index = (at + n + 8) % r->size;
    return n;
}

/* The child's HvSignalEvent on the channel; polls until the host has taken everything. */
static inline void child_kick(const struct child_channel *c)
{
    while (vmbus_connection_handle_signal(child_connection,
                                          VMBUS_CHANNEL_CONNECTION_ID_BASE + c->relid))
        ;
}

#endif
