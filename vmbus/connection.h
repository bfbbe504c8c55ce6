/*
 * The host end of one child's VMBus connection: the channel-management state machine
 * (Linux drivers/hv/connection.c and channel_mgmt.c are the guest peer): version
 * negotiation, offers, GPADLs, open/close, rescind, unload. Every control message is copied
 * and validated (vmbus/protocol.c), then checked against the state (known relid and
 * GPADL, the connection and channel state) before anything acts on it; a bad one gets an
 * error result where the protocol has one (VERSION_RESPONSE supported = 0, GPADL_CREATED
 * or OPEN_RESULT with a failure status) and always a log line.
 *
 * All I/O goes through struct vmbus_host_ops, which the root fills with its hypercalls
 * (post a message into a child VP's SINT, set a child event flag) and its view of the
 * child's memory; the host tests fill it with fakes. Nothing here calls the hypervisor.
 *
 * Connection ids: control messages arrive on VMBUS_MESSAGE_CONNECTION_ID (1) or, for a
 * 5.x INITIATE_CONTACT, VMBUS_MESSAGE_CONNECTION_ID_4 (4); channel kicks on
 * VMBUS_CHANNEL_CONNECTION_ID_BASE + relid (the offer's connection_id). Host messages go to
 * the VP the child named in INITIATE_CONTACT, on its message SINT; channel events set flag
 * `relid` of that SINT on the channel's target VP.
 *
 * One root VP drives a connection at a time (no locks here): the root's message loop for
 * that child calls handle_message, handle_signal and flush in turn.
 */
#ifndef HVFW_VMBUS_CONNECTION_H
#define HVFW_VMBUS_CONNECTION_H

#include <stdbool.h>
#include <stdint.h>

#include "vmbus/channel.h"
#include "vmbus/gpadl.h"
#include "vmbus/protocol.h"

#define VMBUS_CHANNEL_MAX 16u
/* Channel kicks use connection ids 0x401..0x410: inside the child's connection-id space
 * the hypervisor routes to the root (1..2047, docs/hypercalls.md "Messages and events"),
 * clear of the message ids 1 and 4 and of the diagnostic echo 2047. */
#define VMBUS_CHANNEL_CONNECTION_ID_BASE 0x400u/* Host messages waiting for room in the child's message queue: a reply per child message
 * plus one offer per channel, so a child that stops taking messages fills this and loses
 * further replies (logged), not the root's memory. */
#define VMBUS_OUTBOX_MAX 64u

struct vmbus_host_ops {
    void *context;
    /* Posts a VMBUS_HV_MESSAGE_TYPE message into SINT `sint` of the child's VP `vp`;
     * false if the child's queue is full (kept and retried by vmbus_connection_flush). */
    bool (*post_message)(void *context, uint32_t vp, uint32_t sint, const void *payload,
                         uint32_t size);
    /* Sets event flag `flag` of SINT `sint` on the child's VP `vp` and raises the SINT. */
    void (*signal_event)(void *context, uint32_t vp, uint32_t sint, uint32_t flag);
    /* The child's RAM page `pfn` as the root sees it, or NULL. */
    vmbus_page_fn page;
    /* One log line (level "info", "warn", "error", "debug"). */
    void (*log)(void *context, const char *level, const char *line);
};

enum vmbus_connection_state {
    VMBUS_DISCONNECTED,
    VMBUS_CONNECTED,
};

struct vmbus_outbox_entry {
    uint32_t size;
    uint32_t vp;
    uint32_t sint;
    uint8_t bytes[VMBUS_MESSAGE_MAX];
};

struct vmbus_connection_stats {
    uint64_t messages;        /* control messages from the child */
    uint64_t refused;         /* of those, refused (each logged) */
    uint64_t posted;          /* control messages to the child */
    uint64_t dropped;         /* lost to a full outbox */
    uint64_t stray_signals;   /* kicks for no open channel */
};

struct vmbus_connection {
    struct vmbus_host_ops ops;
    uint32_t vp_count;
    enum vmbus_connection_state state;
    uint32_t version;
    uint32_t target_vp;    /* where host messages go (INITIATE_CONTACT target_vcpu) */
    uint32_t message_sint; /* VMBUS_MESSAGE_SINT, or the 5.x msg_sint */
    bool offers_requested;
    struct vmbus_channel channels[VMBUS_CHANNEL_MAX]; /* relid = index + 1 */
    struct vmbus_gpadl_table gpadls;
    struct vmbus_outbox_entry outbox[VMBUS_OUTBOX_MAX];
    uint32_t outbox_head;
    uint32_t outbox_count;
    struct vmbus_connection_stats stats;
};

/* A child with `vp_count` VPs, disconnected, no devices. */
void vmbus_connection_init(struct vmbus_connection *connection, const struct vmbus_host_ops *ops,
                           uint32_t vp_count);
/* Closes every channel (on_close) and forgets every GPADL and queued message. */
void vmbus_connection_destroy(struct vmbus_connection *connection);
/* Registers a device; it is offered when the child asks for offers (at once if it
 * already did). NULL if every relid is taken or the packet bound is below a descriptor. */
struct vmbus_channel *vmbus_connection_add_device(struct vmbus_connection *connection,
                                                  const struct vmbus_device *device);
/* Host-side removal: closes the channel and sends RESCIND; the relid is free again after
 * the child's RELID_RELEASED (at once if the child was never offered it). */
void vmbus_connection_rescind(struct vmbus_connection *connection,
                              struct vmbus_channel *channel);
/* One HvPostMessage payload of the child to `connection_id`. */
void vmbus_connection_handle_message(struct vmbus_connection *connection,
                                     uint32_t connection_id, const void *payload,
                                     uint32_t size);
/* One HvSignalEvent of the child to `connection_id`: polls that channel. True if the poll
 * budget ran out with packets left (call again). */
bool vmbus_connection_handle_signal(struct vmbus_connection *connection,
                                    uint32_t connection_id);
/* Retries queued host messages (after the child frees a slot: its EOM). */
void vmbus_connection_flush(struct vmbus_connection *connection);

/* For vmbus/channel.c: a formatted log line through ops.log. */
void vmbus_connection_log(struct vmbus_connection *connection, const char *level,
                          const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
