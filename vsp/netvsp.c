#include "vsp/netvsp.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmbus/connection.h"
#include "vmbus/gpadl.h"

/* f8615163-df3e-46c5-913f-f2d2f965ed0e (Linux HV_NIC_GUID) in the wire layout: the first
 * three fields little-endian. */
static const uint8_t interface_type[16] = { 0x63, 0x51, 0x61, 0xF8, 0x3E, 0xDF, 0xC5, 0x46,
                                            0x91, 0x3F, 0xF2, 0xD2, 0xF9, 0x65, 0xED, 0x0E };

/* Newest first: the first inside the child's [min, max] wins. */
static const uint32_t versions[] = { NVSP_VERSION_61, NVSP_VERSION_6, NVSP_VERSION_5,
                                     NVSP_VERSION_4,  NVSP_VERSION_2, NVSP_VERSION_1 };

#define LOG_FIRST 32u  /* refusals logged one by one per open, then every LOG_EVERY-th */
#define LOG_EVERY 1024u
#define BATCH_MAX 64u  /* PACKET_MSGs walked in one NVSP message */

enum section_result { SECTION_SENT, SECTION_WAIT, SECTION_DROPPED };

static uint32_t get32(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, sizeof(v));
    return v;
}

static void put32(uint8_t *p, uint32_t v)
{
    memcpy(p, &v, sizeof(v));
}

static void say(struct netvsp *n, const char *level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void say(struct netvsp *n, const char *level, const char *fmt, ...)
{
    if (!n->channel)
        return;
    char line[192];
    va_list args;
    va_start(args, fmt);
    vsnprintf(line, sizeof(line), fmt, args);
    va_end(args);
    vmbus_connection_log(n->channel->connection, level, "netvsp %s: %s", n->name, line);
}

/* Counts a refusal and logs it, the first LOG_FIRST per open and then a sample, so a
 * child cannot flood the root's console. */
static void refuse(struct netvsp *n, const char *why)
{
    n->stats.refused++;
    if (n->logged < LOG_FIRST) {
        n->logged++;
        say(n, "warn", "%s", why);
    } else if (n->stats.refused % LOG_EVERY == 0) {
        say(n, "warn", "%s (%llu refused so far)", why, (unsigned long long)n->stats.refused);
    }
}

/* ---- child buffers ----------------------------------------------------------------- */

static void buffer_drop(struct netvsp_buffer *b)
{
    free(b->pfns);
    memset(b, 0, sizeof(*b));
}

/* Copies `length` bytes at `offset` of a child buffer to (`to_child`) or from `data`.
 * Every page is resolved again: false if one is not the child's RAM. */
static bool buffer_copy(struct netvsp *n, const struct netvsp_buffer *b, uint32_t offset,
                        void *data, uint32_t length, bool to_child)
{
    uint8_t *p = data;
    if (offset > b->size || length > b->size - offset)
        return false;
    while (length) {
        uint32_t page = offset / VMBUS_PAGE_SIZE, in = offset % VMBUS_PAGE_SIZE;
        uint32_t chunk = VMBUS_PAGE_SIZE - in < length ? VMBUS_PAGE_SIZE - in : length;
        uint8_t *base = page < b->page_count ? vmbus_channel_page(n->channel, b->pfns[page])
                                             : NULL;
        if (!base)
            return false;
        if (to_child)
            memcpy(base + in, p, chunk);
        else
            memcpy(p, base + in, chunk);
        p += chunk;
        offset += chunk;
        length -= chunk;
    }
    return true;
}

/* A buffer the child gave by GPADL: one page-aligned range, size within bounds. The PFNs
 * are copied: the GPADL itself may not be kept past this call (vmbus_channel_gpadl). */
static bool buffer_take(struct netvsp *n, struct netvsp_buffer *b, uint32_t handle, uint16_t id,
                        uint32_t min, uint32_t max, uint32_t section, const char **why)
{
    const struct vmbus_gpadl *g = vmbus_channel_gpadl(n->channel, handle);
    uint32_t bytes, offset, count;
    const uint64_t *pfns;
    if (b->ready)
        *why = "buffer given twice without a revoke";
    else if (!g)
        *why = "buffer GPADL unknown, incomplete or of another channel";
    else if (g->range_count != 1 || !vmbus_gpadl_range(g, 0, &bytes, &offset, &pfns, &count))
        *why = "buffer GPADL is not one range";
    else if (offset != 0)
        *why = "buffer GPADL does not start on a page";
    else if (bytes < min || bytes > max)
        *why = "buffer size out of range";
    else if (!(b->pfns = malloc((size_t)count * sizeof(uint64_t))))
        *why = "out of memory for the buffer's page list";
    else {
        memcpy(b->pfns, pfns, (size_t)count * sizeof(uint64_t));
        b->ready = true;
        b->gpadl = handle;
        b->id = id;
        b->size = bytes;
        b->page_count = count;
        b->sections = bytes / section;
        return true;
    }
    return false;
}

static void receive_drop(struct netvsp *n)
{
    buffer_drop(&n->receive);
    free(n->section_busy);
    n->section_busy = NULL;
    n->sections_free = 0;
    n->next_section = 0;
    n->generation++; /* completions still in flight now name a stale generation */
}

static void reset(struct netvsp *n)
{
    receive_drop(n);
    buffer_drop(&n->send);
    n->nvsp_version = 0;
    n->info.nvsp_version = 0;
    n->ndis_major = n->ndis_minor = n->mtu = 0;
    memset(&n->rndis, 0, sizeof(n->rndis));
    n->replies_head = n->replies_count = 0;
    n->completions_head = n->completions_count = 0;
    n->logged = 0;
}

/* ---- host -> child ----------------------------------------------------------------- */

/* Sends a completion now, or queues it while the child's ring is full. A child that lets
 * NETVSP_PENDING_COMPLETIONS pile up is not reading its ring: the channel is closed. */
static void complete(struct netvsp *n, uint64_t transaction_id, const uint8_t *message)
{
    if (!n->channel)
        return;
    if (!n->completions_count) {
        enum vmbus_ring_status s = vmbus_channel_send(n->channel, VMBUS_PACKET_COMPLETION, 0,
                                                      transaction_id, NULL, 0, message,
                                                      NVSP_MESSAGE_SIZE);
        if (s != VMBUS_RING_FULL)
            return;
    }
    if (n->completions_count == NETVSP_PENDING_COMPLETIONS) {
        vmbus_channel_close(n->channel, "netvsp: the child sends requests but does not read "
                                        "its completions");
        return;
    }
    struct netvsp_completion *c =
        &n->completions[(n->completions_head + n->completions_count) %
                        NETVSP_PENDING_COMPLETIONS];
    c->transaction_id = transaction_id;
    memcpy(c->message, message, NVSP_MESSAGE_SIZE);
    n->completions_count++;
}

static void complete_status(struct netvsp *n, uint64_t transaction_id, uint32_t type,
                            uint32_t status)
{
    uint8_t m[NVSP_MESSAGE_SIZE] = { 0 };
    put32(m, type);
    put32(m + 4, status);
    complete(n, transaction_id, m);
}

static void flush_completions(struct netvsp *n)
{
    while (n->completions_count && n->channel) {
        const struct netvsp_completion *c = &n->completions[n->completions_head];
        if (vmbus_channel_send(n->channel, VMBUS_PACKET_COMPLETION, 0, c->transaction_id, NULL,
                               0, c->message, NVSP_MESSAGE_SIZE) == VMBUS_RING_FULL)
            return;
        n->completions_head = (n->completions_head + 1) % NETVSP_PENDING_COMPLETIONS;
        n->completions_count--;
    }
}

/* Writes `data` into a free receive section and announces it with a TRANSFER_PAGES packet
 * (Linux netvsc_receive: page set id = its buffer id, ranges inside the buffer and no
 * longer than a section). */
static enum section_result section_send(struct netvsp *n, const uint8_t *data, uint32_t length,
                                        uint32_t channel_type)
{
    if (!n->channel || !n->receive.ready)
        return SECTION_DROPPED;
    if (!n->sections_free)
        return SECTION_WAIT;
    uint32_t s = n->next_section;
    while (n->section_busy[s])
        s = (s + 1) % n->receive.sections;
    uint32_t offset = s * NETVSP_RECEIVE_SECTION;
    if (!buffer_copy(n, &n->receive, offset, (void *)(uintptr_t)data, length, true)) {
        refuse(n, "a receive buffer page is not the child's RAM; frame dropped");
        return SECTION_DROPPED;
    }
    /* struct vmtransfer_page_packet_header after the descriptor: u16 set id, u8 sender
     * owns, u8 reserved, u32 range count, {u32 byte_count, u32 byte_offset}. */
    uint8_t header[16] = { 0 };
    memcpy(header, &n->receive.id, sizeof(n->receive.id));
    put32(header + 4, 1);
    put32(header + 8, length);
    put32(header + 12, offset);
    uint8_t m[NVSP_MESSAGE_SIZE] = { 0 };
    put32(m, NVSP_MSG1_SEND_RNDIS_PACKET);
    put32(m + 4, channel_type);
    put32(m + 8, NVSP_NO_SECTION);
    uint64_t id = (uint64_t)n->generation << 32 | s;
    enum vmbus_ring_status st =
        vmbus_channel_send(n->channel, VMBUS_PACKET_TRANSFER_PAGES,
                           VMBUS_PACKET_FLAG_COMPLETION_REQUESTED, id, header, sizeof(header),
                           m, sizeof(m));
    if (st == VMBUS_RING_FULL)
        return SECTION_WAIT;
    if (st != VMBUS_RING_OK)
        return SECTION_DROPPED;
    n->section_busy[s] = 1;
    n->sections_free--;
    n->next_section = (s + 1) % n->receive.sections;
    return SECTION_SENT;
}

static void flush_replies(struct netvsp *n)
{
    while (n->replies_count) {
        const struct netvsp_reply *r = &n->replies[n->replies_head];
        if (section_send(n, r->bytes, r->length, NVSP_CHANNEL_TYPE_CONTROL) == SECTION_WAIT)
            return;
        n->replies_head = (n->replies_head + 1) % NETVSP_PENDING_REPLIES;
        n->replies_count--;
    }
}

/* An RNDIS control reply or indication: in order, after those still waiting. */
static void send_control(struct netvsp *n, const uint8_t *bytes, uint32_t length)
{
    if (n->replies_count == NETVSP_PENDING_REPLIES) {
        refuse(n, "RNDIS control replies pile up (no free receive section); one dropped");
        return;
    }
    struct netvsp_reply *r =
        &n->replies[(n->replies_head + n->replies_count) % NETVSP_PENDING_REPLIES];
    r->length = length;
    memcpy(r->bytes, bytes, length);
    n->replies_count++;
    flush_replies(n);
}

static bool filter_accepts(const struct netvsp *n, const uint8_t *dst)
{
    static const uint8_t broadcast[6] = { 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF };
    uint32_t f = n->rndis.packet_filter;
    if (f & RNDIS_FILTER_PROMISCUOUS)
        return true;
    if (memcmp(dst, broadcast, 6) == 0)
        return f & RNDIS_FILTER_BROADCAST;
    if (dst[0] & 1u)
        return f & (RNDIS_FILTER_MULTICAST | RNDIS_FILTER_ALL_MULTICAST);
    return (f & RNDIS_FILTER_DIRECTED) && memcmp(dst, n->mac, 6) == 0;
}

/* The switch's transmit op for this child's port. */
static bool port_transmit(void *context, const uint8_t *frame, uint32_t length)
{
    struct netvsp *n = context;
    if (!n->channel || !n->receive.ready || !n->rndis.initialized) {
        n->stats.dropped_not_ready++;
        return true;
    }
    if (!filter_accepts(n, frame)) {
        n->stats.dropped_filtered++;
        return true;
    }
    flush_replies(n); /* control replies go first */
    if (n->replies_count) {
        n->stats.waits++;
        return false;
    }
    uint32_t size = rndis_packet_build(n->section, sizeof(n->section), frame, length);
    if (!size) {
        n->stats.dropped_not_ready++;
        return true;
    }
    switch (section_send(n, n->section, size, NVSP_CHANNEL_TYPE_DATA)) {
    case SECTION_SENT:
        n->stats.frames_out++;
        n->stats.bytes_out += length;
        return true;
    case SECTION_WAIT:
        n->stats.waits++;
        return false;
    case SECTION_DROPPED:
    default:
        return true;
    }
}

static void port_notify(void *context)
{
    struct netvsp *n = context;
    if (n->wake)
        n->wake(n->wake_context);
    else
        netvsp_flush(n);
}

static const struct vswitch_port_ops port_ops = { port_transmit, port_notify };

bool netvsp_flush(struct netvsp *n)
{
    if (n->channel) {
        flush_completions(n);
        flush_replies(n);
    }
    return vswitch_port_flush(n->vswitch, n->port);
}

/* ---- child -> host: RNDIS ---------------------------------------------------------- */

/* Copies the RNDIS message of a GPA_DIRECT packet (its ranges in order) after the `have`
 * bytes already in n->message. */
static bool gather(struct netvsp *n, const struct vmbus_packet *packet, uint32_t *length,
                   const char **why)
{
    uint32_t total = *length;
    for (uint32_t i = 0; i < packet->range_count; i++) {
        const struct vmbus_gpa_range *r = &packet->ranges[i];
        if (r->byte_count > sizeof(n->message) - total) {
            *why = "RNDIS message in GPA ranges longer than the transfer size we announced";
            return false;
        }
        uint32_t offset = r->byte_offset, left = r->byte_count;
        for (uint32_t k = 0; left; k++) {
            uint8_t *page = vmbus_channel_page(n->channel, vmbus_gpa_range_pfn(r, k));
            if (!page) {
                *why = "a GPA range page is not the child's RAM";
                return false;
            }
            uint32_t chunk = VMBUS_PAGE_SIZE - offset < left ? VMBUS_PAGE_SIZE - offset : left;
            memcpy(n->message + total, page + offset, chunk);
            total += chunk;
            left -= chunk;
            offset = 0;
        }
    }
    *length = total;
    return true;
}

/* One frame the child sends: offloads we never offered are refused, a VLAN tag from the
 * per-packet info goes back into the frame (IEEE 802.1Q 9.3: TPID 0x8100 after the
 * source MAC), then the switch takes it. */
static void frame_from_child(struct netvsp *n, const struct rndis_packet *p)
{
    if (p->wants_checksum || p->wants_lso) {
        n->stats.dropped_offload++;
        refuse(n, "frame asks for a checksum or LSO offload we did not offer; dropped");
        return;
    }
    const uint8_t *frame = p->frame;
    uint32_t length = p->frame_length;
    uint8_t tagged[VSWITCH_FRAME_MAX];
    if (p->has_vlan) {
        if (length + 4 > VSWITCH_FRAME_MAX) {
            refuse(n, "VLAN-tagged frame longer than 1518 bytes; dropped");
            return;
        }
        memcpy(tagged, frame, 12);
        tagged[12] = 0x81;
        tagged[13] = 0x00;
        tagged[14] = (uint8_t)(p->vlan_tci >> 8);
        tagged[15] = (uint8_t)p->vlan_tci;
        memcpy(tagged + 16, frame + 12, length - 12);
        frame = tagged;
        length += 4;
    }
    n->stats.frames_in++;
    n->stats.bytes_in += length;
    vswitch_input(n->vswitch, n->port, frame, length);
}

/* Data: one or more PACKET_MSGs back to back (we allow RNDIS_MAX_PACKETS_PER_MESSAGE;
 * each msg_len includes the sender's alignment padding). */
static uint32_t rndis_data(struct netvsp *n, uint32_t length)
{
    uint32_t at = 0;
    for (uint32_t count = 0; at + RNDIS_HEADER_SIZE <= length; count++) {
        struct rndis_packet p;
        uint32_t used;
        const char *why;
        if (count == BATCH_MAX) {
            refuse(n, "more PACKET_MSGs in one message than announced");
            return NVSP_STATUS_FAIL;
        }
        if (!rndis_packet_parse(n->message + at, length - at, &p, &used, &why)) {
            refuse(n, why);
            return NVSP_STATUS_FAIL;
        }
        frame_from_child(n, &p);
        at += used;
    }
    return NVSP_STATUS_SUCCESS;
}

/* Control: the reply is sent after the NVSP completion, so `reply` holds it meanwhile. */
static uint32_t rndis_control(struct netvsp *n, uint32_t length, uint8_t *reply,
                              uint32_t *reply_length)
{
    const char *why;
    enum rndis_control_result r = rndis_control_handle(&n->rndis, &n->info, n->message,
                                                       length, reply, reply_length, &why);
    if (why)
        refuse(n, why);
    if (r == RNDIS_NO_REPLY) {
        *reply_length = 0;
        return why ? NVSP_STATUS_FAIL : NVSP_STATUS_SUCCESS;
    }
    n->stats.control++;
    return NVSP_STATUS_SUCCESS;
}

/* SEND_RNDIS_PKT: the message from a send buffer section and/or the packet's GPA ranges. */
static void rndis_packet(struct netvsp *n, const struct vmbus_packet *packet, const uint8_t *m)
{
    uint32_t channel_type = get32(m + 4), index = get32(m + 8), size = get32(m + 12);
    uint32_t length = 0, status = NVSP_STATUS_FAIL, reply_length = 0;
    uint8_t reply[RNDIS_REPLY_MAX];
    const char *why = NULL;
    if (channel_type > NVSP_CHANNEL_TYPE_CONTROL) {
        why = "RNDIS packet of an unknown channel type";
    } else if (index != NVSP_NO_SECTION) {
        if (!n->send.ready || index >= n->send.sections || size > NETVSP_SEND_SECTION ||
            size > sizeof(n->message))
            why = "RNDIS packet names a send section that does not exist or overflows it";
        else if (!buffer_copy(n, &n->send, index * NETVSP_SEND_SECTION, n->message, size,
                              false))
            why = "a send buffer page is not the child's RAM";
        else
            length = size;
    } else if (packet->type != VMBUS_PACKET_GPA_DIRECT) {
        why = "RNDIS packet with neither a send section nor GPA ranges";
    }
    if (!why && packet->type == VMBUS_PACKET_GPA_DIRECT)
        gather(n, packet, &length, &why);
    if (why)
        refuse(n, why);
    else if (channel_type == NVSP_CHANNEL_TYPE_DATA)
        status = rndis_data(n, length);
    else
        status = rndis_control(n, length, reply, &reply_length);
    complete_status(n, packet->transaction_id, NVSP_MSG1_SEND_RNDIS_PACKET_COMPLETE, status);
    if (reply_length && n->channel)
        send_control(n, reply, reply_length);
}

/* ---- child -> host: NVSP ----------------------------------------------------------- */

static void nvsp_init(struct netvsp *n, uint64_t id, const uint8_t *m)
{
    uint32_t min = get32(m + 4), max = get32(m + 8), chosen = 0;
    for (size_t i = 0; i < sizeof(versions) / sizeof(versions[0]) && !chosen; i++)
        if (versions[i] >= min && versions[i] <= max)
            chosen = versions[i];
    uint8_t r[NVSP_MESSAGE_SIZE] = { 0 };
    put32(r, NVSP_MSG_INIT_COMPLETE);
    if (chosen) {
        /* A new INIT starts the protocol over (a child driver reloading). */
        reset(n);
        n->nvsp_version = chosen;
        n->info.nvsp_version = chosen;
        put32(r + 4, chosen);
        put32(r + 8, VMBUS_PACKET_MAX_RANGES); /* max_mdl_chain_len: GPA ranges we take */
        put32(r + 12, NVSP_STATUS_SUCCESS);
        say(n, "debug", "NVSP version %#x", chosen);
    } else {
        refuse(n, "NVSP INIT for no version we speak");
        put32(r + 12, NVSP_STATUS_FAIL);
    }
    complete(n, id, r);
}

static void receive_buffer(struct netvsp *n, uint64_t id, const uint8_t *m)
{
    uint16_t buffer_id;
    memcpy(&buffer_id, m + 8, sizeof(buffer_id));
    const char *why;
    uint8_t r[NVSP_MESSAGE_SIZE] = { 0 };
    put32(r, NVSP_MSG1_SEND_RECEIVE_BUFFER_COMPLETE);
    if (!buffer_take(n, &n->receive, get32(m + 4), buffer_id, NETVSP_RECEIVE_SIZE_MIN,
                     NETVSP_RECEIVE_SIZE_MAX, NETVSP_RECEIVE_SECTION, &why)) {
        refuse(n, why);
        put32(r + 4, NVSP_STATUS_FAIL);
        complete(n, id, r);
        return;
    }
    n->section_busy = calloc(n->receive.sections, 1);
    if (!n->section_busy) {
        receive_drop(n);
        refuse(n, "out of memory for the receive section map");
        put32(r + 4, NVSP_STATUS_FAIL);
        complete(n, id, r);
        return;
    }
    n->sections_free = n->receive.sections;
    n->next_section = 0;
    /* One section list at offset 0 (Linux netvsc_init_buf refuses anything else):
     * {offset, sub_alloc_size, num_sub_allocs, end_offset}. */
    put32(r + 4, NVSP_STATUS_SUCCESS);
    put32(r + 8, 1);
    put32(r + 12, 0);
    put32(r + 16, NETVSP_RECEIVE_SECTION);
    put32(r + 20, n->receive.sections);
    put32(r + 24, n->receive.sections * NETVSP_RECEIVE_SECTION);
    complete(n, id, r);
    say(n, "debug", "receive buffer %u bytes, %u sections", n->receive.size,
        n->receive.sections);
}

static void send_buffer(struct netvsp *n, uint64_t id, const uint8_t *m)
{
    uint16_t buffer_id;
    memcpy(&buffer_id, m + 8, sizeof(buffer_id));
    const char *why;
    uint8_t r[NVSP_MESSAGE_SIZE] = { 0 };
    put32(r, NVSP_MSG1_SEND_SEND_BUFFER_COMPLETE);
    if (!buffer_take(n, &n->send, get32(m + 4), buffer_id, NETVSP_SEND_SIZE_MIN,
                     NETVSP_SEND_SIZE_MAX, NETVSP_SEND_SECTION, &why)) {
        refuse(n, why);
        put32(r + 4, NVSP_STATUS_FAIL);
    } else {
        put32(r + 4, NVSP_STATUS_SUCCESS);
        put32(r + 8, NETVSP_SEND_SECTION); /* the VSP chooses the section size */
    }
    complete(n, id, r);
}

static void revoke(struct netvsp *n, struct netvsp_buffer *b, const uint8_t *m)
{
    uint16_t buffer_id;
    memcpy(&buffer_id, m + 4, sizeof(buffer_id));
    if (!b->ready || b->id != buffer_id) {
        refuse(n, "revoke of a buffer that was not given");
        return;
    }
    if (b == &n->receive)
        receive_drop(n);
    else
        buffer_drop(b);
}

/* The child's completion of one of our TRANSFER_PAGES packets frees its section. */
static void receive_completed(struct netvsp *n, uint64_t id)
{
    uint32_t s = (uint32_t)id;
    if ((uint32_t)(id >> 32) != n->generation || !n->receive.ready ||
        s >= n->receive.sections || !n->section_busy[s]) {
        /* After a revoke this is expected; otherwise the child lies. */
        if ((uint32_t)(id >> 32) == n->generation)
            refuse(n, "completion for a receive section not in flight");
        return;
    }
    n->section_busy[s] = 0;
    n->sections_free++;
    netvsp_flush(n);
}

/* Bytes an NVSP message of `type` needs (header + its struct in hyperv_net.h); 0 for a
 * type we do not take from a child. */
static uint32_t nvsp_size(uint32_t type)
{
    switch (type) {
    case NVSP_MSG_INIT:                       return 12;
    case NVSP_MSG1_SEND_NDIS_VERSION:         return 12;
    case NVSP_MSG1_SEND_RECEIVE_BUFFER:       return 10;
    case NVSP_MSG1_REVOKE_RECEIVE_BUFFER:     return 6;
    case NVSP_MSG1_SEND_SEND_BUFFER:          return 10;
    case NVSP_MSG1_REVOKE_SEND_BUFFER:        return 6;
    case NVSP_MSG1_SEND_RNDIS_PACKET:         return 16;
    case NVSP_MSG1_SEND_RNDIS_PACKET_COMPLETE: return 8;
    case NVSP_MSG2_SEND_NDIS_CONFIG:          return 20;
    case NVSP_MSG4_SEND_VF_ASSOCIATION:       return 12;
    case NVSP_MSG4_SWITCH_DATA_PATH:          return 8;
    case NVSP_MSG5_SUBCHANNEL:                return 12;
    default:                                  return 0;
    }
}

static void nvsp_message(struct netvsp *n, const struct vmbus_packet *packet,
                         const uint8_t *m, uint32_t type)
{
    uint64_t id = packet->transaction_id;
    bool wants = packet->flags & VMBUS_PACKET_FLAG_COMPLETION_REQUESTED;
    if (packet->type == VMBUS_PACKET_GPA_DIRECT && type != NVSP_MSG1_SEND_RNDIS_PACKET) {
        refuse(n, "GPA ranges on an NVSP message that has no data");
        return;
    }
    if (type != NVSP_MSG_INIT && !n->nvsp_version) {
        refuse(n, "NVSP message before INIT");
        if (wants)
            complete_status(n, id, type == NVSP_MSG1_SEND_RNDIS_PACKET
                                       ? NVSP_MSG1_SEND_RNDIS_PACKET_COMPLETE : type,
                            NVSP_STATUS_FAIL);
        return;
    }
    switch (type) {
    case NVSP_MSG_INIT:
        nvsp_init(n, id, m);
        return;
    case NVSP_MSG1_SEND_NDIS_VERSION:
        n->ndis_major = get32(m + 4);
        n->ndis_minor = get32(m + 8);
        return;
    case NVSP_MSG2_SEND_NDIS_CONFIG:
        /* Linux sends its MTU + the Ethernet header; the switch carries 1500-byte MTUs
         * (OID_GEN_MAXIMUM_FRAME_SIZE says so, and Linux lowers its MTU to it). */
        n->mtu = get32(m + 4);
        return;
    case NVSP_MSG1_SEND_RECEIVE_BUFFER:
        receive_buffer(n, id, m);
        return;
    case NVSP_MSG1_SEND_SEND_BUFFER:
        send_buffer(n, id, m);
        return;
    case NVSP_MSG1_REVOKE_RECEIVE_BUFFER:
        revoke(n, &n->receive, m);
        return;
    case NVSP_MSG1_REVOKE_SEND_BUFFER:
        revoke(n, &n->send, m);
        return;
    case NVSP_MSG1_SEND_RNDIS_PACKET:
        rndis_packet(n, packet, m);
        return;
    case NVSP_MSG5_SUBCHANNEL: {
        /* nvsp_5_subchannel_complete: SUCCESS, 0 subchannels (one queue, no vRSS). */
        uint8_t r[NVSP_MESSAGE_SIZE] = { 0 };
        bool allocate = get32(m + 4) == 1; /* NVSP_SUBCHANNEL_ALLOCATE */
        if (!allocate)
            refuse(n, "subchannel request with an unknown operation");
        put32(r, NVSP_MSG5_SUBCHANNEL);
        put32(r + 4, allocate ? NVSP_STATUS_SUCCESS : NVSP_STATUS_FAIL);
        complete(n, id, r);
        return;
    }
    case NVSP_MSG4_SWITCH_DATA_PATH:
    case NVSP_MSG4_SEND_VF_ASSOCIATION:
        /* No virtual function: the data path stays synthetic. */
        if (type == NVSP_MSG4_SWITCH_DATA_PATH && get32(m + 4) != 0)
            refuse(n, "switch to a VF data path, and there is no VF");
        if (wants)
            complete(n, id, m);
        return;
    default:
        refuse(n, "NVSP message of a type a child does not send");
        return;
    }
}

static void on_packet(struct vmbus_channel *channel, const struct vmbus_packet *packet)
{
    struct netvsp *n = channel->device->context;
    uint8_t m[NVSP_MESSAGE_SIZE] = { 0 };
    if (packet->payload_length < 4) {
        refuse(n, "NVSP message shorter than its type");
        return;
    }
    uint32_t copy = packet->payload_length < NVSP_MESSAGE_SIZE ? packet->payload_length
                                                              : NVSP_MESSAGE_SIZE;
    memcpy(m, packet->payload, copy);
    uint32_t type = get32(m), need = nvsp_size(type);
    if (!need) {
        refuse(n, "NVSP message of an unknown type");
        return;
    }
    if (packet->payload_length < need) {
        refuse(n, "NVSP message shorter than its type needs");
        if ((packet->flags & VMBUS_PACKET_FLAG_COMPLETION_REQUESTED) &&
            type == NVSP_MSG1_SEND_RNDIS_PACKET)
            complete_status(n, packet->transaction_id, NVSP_MSG1_SEND_RNDIS_PACKET_COMPLETE,
                            NVSP_STATUS_FAIL);
        return;
    }
    switch (packet->type) {
    case VMBUS_PACKET_COMPLETION:
        if (type == NVSP_MSG1_SEND_RNDIS_PACKET_COMPLETE)
            receive_completed(n, packet->transaction_id);
        else
            refuse(n, "completion of something the host never sent");
        return;
    case VMBUS_PACKET_INBAND:
    case VMBUS_PACKET_GPA_DIRECT:
        nvsp_message(n, packet, m, type);
        return;
    default:
        refuse(n, "transfer-page packet from the child");
        return;
    }
}

static bool on_open(struct vmbus_channel *channel, const uint8_t *user_data)
{
    struct netvsp *n = channel->device->context;
    (void)user_data;
    reset(n);
    n->channel = channel;
    return true;
}

static void on_close(struct vmbus_channel *channel)
{
    struct netvsp *n = channel->device->context;
    reset(n);
    n->channel = NULL;
}

static void on_writable(struct vmbus_channel *channel)
{
    netvsp_flush(channel->device->context);
}

static const struct vmbus_device_ops device_ops = { on_open, on_packet, on_writable, on_close };

/* ---- setup ------------------------------------------------------------------------- */

bool netvsp_init(struct netvsp *n, const char *child_name, struct vswitch *vswitch)
{
    memset(n, 0, sizeof(*n));
    snprintf(n->name, sizeof(n->name), "%s", child_name);
    vswitch_mac_from_name(child_name, n->mac);
    n->vswitch = vswitch;
    memcpy(n->info.mac, n->mac, 6);
    n->info.link_speed = NETVSP_LINK_SPEED;
    n->info.connected = true;

    n->device.name = "netvsp";
    memcpy(n->device.interface_type, interface_type, sizeof(interface_type));
    /* Instance GUID: the MAC and a second hash of the name, as an RFC 4122 version 4
     * layout so the child sees a well-formed, stable id. */
    uint8_t other[6];
    char salted[40];
    snprintf(salted, sizeof(salted), "netvsp:%s", child_name);
    vswitch_mac_from_name(salted, other);
    memcpy(n->device.interface_instance, n->mac, 6);
    memcpy(n->device.interface_instance + 6, other, 6);
    memcpy(n->device.interface_instance + 12, other + 1, 4);
    n->device.interface_instance[7] = (uint8_t)((n->device.interface_instance[7] & 0x0F) | 0x40);
    n->device.interface_instance[8] = (uint8_t)((n->device.interface_instance[8] & 0x3F) | 0x80);
    n->device.max_packet_size = NETVSP_MAX_PACKET;
    n->device.ops = &device_ops;
    n->device.context = n;

    char port_name[24];
    snprintf(port_name, sizeof(port_name), "child %s", child_name);
    n->port = vswitch_port_add(vswitch, VSWITCH_PORT_INTERNAL, port_name, n->mac, &port_ops, n);
    return n->port >= 0;
}

void netvsp_destroy(struct netvsp *n)
{
    if (n->port >= 0)
        vswitch_port_remove(n->vswitch, n->port);
    n->port = -1;
    reset(n);
    n->channel = NULL;
}

void netvsp_set_link(struct netvsp *n, bool connected)
{
    if (n->info.connected == connected)
        return;
    n->info.connected = connected;
    if (!n->channel || !n->rndis.initialized)
        return;
    uint8_t m[RNDIS_REPLY_MAX];
    uint32_t length = rndis_indicate_status_build(
        m, sizeof(m), connected ? RNDIS_STATUS_MEDIA_CONNECT : RNDIS_STATUS_MEDIA_DISCONNECT);
    send_control(n, m, length);
}
