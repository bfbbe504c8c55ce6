#include "vmbus/channel.h"

#include <stdlib.h>
#include <string.h>

#include "vmbus/connection.h"
#include "vmbus/gpadl.h"

static void signal_child(struct vmbus_channel *channel)
{
    struct vmbus_connection *c = channel->connection;
    channel->stats.signals++;
    /* The SIEF bit of a channel is its relid (Linux vmbus_chan_sched). */
    c->ops.signal_event(c->ops.context, channel->target_vp, c->message_sint, channel->relid);
}

/* Drops the rings without telling anyone (the callers do). */
static void detach(struct vmbus_channel *channel)
{
    free(channel->packet_buffer);
    channel->packet_buffer = NULL;
    memset(&channel->inbound, 0, sizeof(channel->inbound));
    memset(&channel->outbound, 0, sizeof(channel->outbound));
    channel->in_batch = false;
    channel->waiting_for_space = false;
    channel->state = VMBUS_CHANNEL_CLOSED;
}

void vmbus_channel_close(struct vmbus_channel *channel, const char *why)
{
    if (channel->state != VMBUS_CHANNEL_OPEN)
        return;
    if (why)
        vmbus_connection_log(channel->connection, "warn", "vmbus: channel %u (%s) closed: %s",
                             channel->relid, channel->device->name, why);
    else
        vmbus_connection_log(channel->connection, "debug", "vmbus: channel %u (%s) closed",
                             channel->relid, channel->device->name);
    detach(channel);
    channel->device->ops->on_close(channel);
}

bool vmbus_channel_open(struct vmbus_channel *channel, const uint64_t *pfns,
                        uint32_t page_count, uint32_t downstream_offset, uint32_t target_vp,
                        const uint8_t *user_data, const char **why)
{
    struct vmbus_connection *c = channel->connection;
    /* Each direction is a control page and at least one data page. */
    if (downstream_offset < 2 || downstream_offset > page_count ||
        page_count - downstream_offset < 2) {
        *why = "downstream ring offset leaves a ring without data pages";
        return false;
    }
    if (!vmbus_ring_init(&channel->inbound, pfns, downstream_offset, c->ops.page,
                         c->ops.context, true) ||
        !vmbus_ring_init(&channel->outbound, pfns + downstream_offset,
                         page_count - downstream_offset, c->ops.page, c->ops.context, false)) {
        *why = "ring too large or its indices are invalid";
        detach(channel);
        return false;
    }
    /* Packets are parsed from this copy, 8-aligned for the u64 fields inside. */
    channel->packet_buffer = malloc(channel->device->max_packet_size);
    if (!channel->packet_buffer) {
        *why = "out of memory for the packet buffer";
        detach(channel);
        return false;
    }
    channel->target_vp = target_vp;
    channel->state = VMBUS_CHANNEL_OPEN;
    /* What on_open sends (a VSP that speaks first, like the integration services) is
     * published by vmbus_channel_opened, after OPEN_RESULT. */
    channel->in_batch = true;
    if (!channel->device->ops->on_open(channel, user_data)) {
        *why = "the device refused the open";
        detach(channel);
        return false;
    }
    return true;
}

void vmbus_channel_opened(struct vmbus_channel *channel)
{
    if (channel->state != VMBUS_CHANNEL_OPEN)
        return;
    channel->in_batch = false;
    if (vmbus_ring_write_commit(&channel->outbound))
        signal_child(channel);
}

static void publish(struct vmbus_channel *channel)
{
    if (vmbus_ring_write_commit(&channel->outbound))
        signal_child(channel);
}

enum vmbus_ring_status vmbus_channel_send(struct vmbus_channel *channel, uint16_t type,
                                          uint16_t flags, uint64_t transaction_id,
                                          const void *header, uint32_t header_length,
                                          const void *payload, uint32_t payload_length)
{
    if (channel->state != VMBUS_CHANNEL_OPEN)
        return VMBUS_RING_CLOSED;
    enum vmbus_ring_status s = vmbus_ring_write(&channel->outbound, type, flags, transaction_id,
                                                header, header_length, payload, payload_length);
    if (s == VMBUS_RING_CORRUPT) {
        vmbus_channel_close(channel, "child's read index of the host ring is invalid");
        return VMBUS_RING_CLOSED;
    }
    if (s == VMBUS_RING_FULL)
        channel->waiting_for_space = true;
    if (s != VMBUS_RING_OK)
        return s;
    channel->stats.packets_out++;
    if (!channel->in_batch)
        publish(channel);
    return VMBUS_RING_OK;
}

/* One packet: false if the channel closed (bad packet, or the device closed it). */
static bool take_packet(struct vmbus_channel *channel, uint32_t length)
{
    struct vmbus_packet packet;
    const char *why;
    if (!vmbus_packet_parse((const uint8_t *)channel->packet_buffer, length, &packet, &why)) {
        vmbus_channel_close(channel, why);
        return false;
    }
    channel->stats.packets_in++;
    channel->device->ops->on_packet(channel, &packet);
    return channel->state == VMBUS_CHANNEL_OPEN;
}

/* Reads until the ring is empty or the budget is spent; false if the channel closed. */
static bool drain(struct vmbus_channel *channel, uint32_t *budget)
{
    while (*budget) {
        uint32_t length;
        enum vmbus_ring_status s = vmbus_ring_read(&channel->inbound, channel->packet_buffer,
                                                   channel->device->max_packet_size, &length);
        if (s == VMBUS_RING_EMPTY)
            return true;
        if (s != VMBUS_RING_OK) {
            vmbus_channel_close(channel, s == VMBUS_RING_TOO_BIG
                                             ? "packet longer than the device accepts"
                                             : "child's ring indices or descriptor corrupt");
            return false;
        }
        (*budget)--;
        if (!take_packet(channel, length))
            return false;
    }
    return true;
}

bool vmbus_channel_poll(struct vmbus_channel *channel)
{
    if (channel->state != VMBUS_CHANNEL_OPEN)
        return false;
    uint32_t budget = VMBUS_POLL_BUDGET;
    bool more = false;
    channel->in_batch = true;
    vmbus_ring_read_mask(&channel->inbound);
    for (;;) {
        if (!drain(channel, &budget))
            return false; /* closed: nothing left to publish */
        if (budget == 0) {
            /* Stay masked: the caller polls again, no kick is needed meanwhile. */
            more = true;
            break;
        }
        if (!vmbus_ring_read_unmask(&channel->inbound))
            break;
        vmbus_ring_read_mask(&channel->inbound);
    }
    if (budget < VMBUS_POLL_BUDGET)
        channel->stats.batches++;
    if (vmbus_ring_read_commit(&channel->inbound))
        signal_child(channel);
    channel->in_batch = false;
    publish(channel);
    if (channel->waiting_for_space && vmbus_ring_write_resumable(&channel->outbound)) {
        channel->waiting_for_space = false;
        if (channel->device->ops->on_writable)
            channel->device->ops->on_writable(channel);
    }
    return more;
}

const struct vmbus_gpadl *vmbus_channel_gpadl(struct vmbus_channel *channel, uint32_t handle)
{
    const struct vmbus_gpadl *g = vmbus_gpadl_find(&channel->connection->gpadls, handle);
    if (!g || !g->complete || g->child_relid != channel->relid)
        return NULL;
    return g;
}

uint8_t *vmbus_channel_page(struct vmbus_channel *channel, uint64_t pfn)
{
    struct vmbus_connection *c = channel->connection;
    return c->ops.page(c->ops.context, pfn);
}
