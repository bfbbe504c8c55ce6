/*
 * One VMBus channel of a child: the device behind it (a VSP, through struct
 * vmbus_device_ops), its two rings once the child opened it, and the data path. The control
 * messages that open and close channels are handled by vmbus/connection.c, which owns the
 * channels; a VSP sees only this header.
 *
 * Data path and coalescing: a child's kick (HvSignalEvent on the channel's connection id)
 * makes the root call vmbus_channel_poll once; it masks further kicks, hands every packet to
 * on_packet, and publishes reads and the replies sent from on_packet once per batch, with at
 * most one signal into the child per batch and none while the child's interrupt_mask says
 * it is reading anyway. A batch is bounded (VMBUS_POLL_BUDGET packets) so a flooding child
 * cannot hold the root.
 */
#ifndef HVFW_VMBUS_CHANNEL_H
#define HVFW_VMBUS_CHANNEL_H

#include <stdbool.h>
#include <stdint.h>

#include "vmbus/ring.h"

struct vmbus_channel;
struct vmbus_connection;
struct vmbus_gpadl;

#define VMBUS_POLL_BUDGET 128u

struct vmbus_device_ops {
    /* The child opened the channel (OPENCHANNEL's 120 bytes of user data); false refuses
     * the open (OPEN_RESULT with a failure status). Packets sent from here reach the child
     * after the OPEN_RESULT. */
    bool (*on_open)(struct vmbus_channel *channel, const uint8_t *user_data);
    /* One parsed packet from the child, valid only during the call. */
    void (*on_packet)(struct vmbus_channel *channel, const struct vmbus_packet *packet);
    /* Optional: a send that got VMBUS_RING_FULL may be retried now. */
    void (*on_writable)(struct vmbus_channel *channel);
    /* The channel closed (child CLOSECHANNEL, rescind, unload, reset, or a protocol error):
     * drop every reference to its GPADLs and rings. */
    void (*on_close)(struct vmbus_channel *channel);
};

/* What a VSP registers: the offer's identity and its packet bound. */
struct vmbus_device {
    const char *name;
    uint8_t interface_type[16];     /* Microsoft GUID layout, as on the wire */
    uint8_t interface_instance[16];
    uint16_t channel_flags;
    uint16_t mmio_megabytes;
    uint8_t user_defined[120];
    uint32_t max_packet_size; /* larger inbound packets close the channel */
    const struct vmbus_device_ops *ops;
    void *context; /* the VSP's own state */
};

enum vmbus_channel_state {
    VMBUS_CHANNEL_FREE,      /* no device */
    VMBUS_CHANNEL_CLOSED,    /* device registered (offered once the child asks) */
    VMBUS_CHANNEL_OPEN,
    VMBUS_CHANNEL_RESCINDED, /* RESCIND sent, waiting for RELID_RELEASED */
};

struct vmbus_channel_stats {
    uint64_t kicks;          /* child signals taken */
    uint64_t batches;        /* polls that read at least one packet */
    uint64_t packets_in;
    uint64_t packets_out;
    uint64_t signals;        /* signals into the child */
};

struct vmbus_channel {
    struct vmbus_connection *connection;
    const struct vmbus_device *device;
    enum vmbus_channel_state state;
    bool offered;
    bool in_batch;
    bool waiting_for_space;
    uint32_t relid;
    uint32_t connection_id;
    uint32_t target_vp;
    uint32_t ring_gpadl;
    uint64_t *packet_buffer; /* max_packet_size bytes, 8-aligned */
    struct vmbus_ring inbound;  /* child -> host */
    struct vmbus_ring outbound; /* host -> child */
    struct vmbus_channel_stats stats;
};

/* Sends one packet to the child (see vmbus_ring_write for header/payload). Inside
 * on_packet the packet is published with the batch; otherwise at once, with a signal when
 * the child needs one. FULL: try again from on_writable. VMBUS_RING_CLOSED: not open. */
enum vmbus_ring_status vmbus_channel_send(struct vmbus_channel *channel, uint16_t type,
                                          uint16_t flags, uint64_t transaction_id,
                                          const void *header, uint32_t header_length,
                                          const void *payload, uint32_t payload_length);
/* Reads and dispatches the child's packets (one batch); true if the budget ran out with
 * packets left (call again). A corrupt ring or an unparsable or oversized packet closes
 * the channel with a log line. */
bool vmbus_channel_poll(struct vmbus_channel *channel);
/* Closes an open channel from the host side (a VSP that finds the child's protocol
 * broken; `why` is logged as a warning, NULL for an orderly close): on_close runs, the
 * rings are dropped; the child may close and reopen. */
void vmbus_channel_close(struct vmbus_channel *channel, const char *why);
/* A complete GPADL the child created for this channel, valid until the next return to the
 * connection (do not keep it); NULL if there is none with that handle. */
const struct vmbus_gpadl *vmbus_channel_gpadl(struct vmbus_channel *channel, uint32_t handle);
/* Root address of a child page (GPA_DIRECT PFNs), NULL if not the child's RAM. */
uint8_t *vmbus_channel_page(struct vmbus_channel *channel, uint64_t pfn);

/* For vmbus/connection.c: attaches the rings of GPADL pages `pfns` split at
 * `downstream_offset` and calls on_open; false with a reason otherwise. Packets on_open
 * sends stay unpublished until vmbus_channel_opened, called once OPEN_RESULT is posted. */
bool vmbus_channel_open(struct vmbus_channel *channel, const uint64_t *pfns,
                        uint32_t page_count, uint32_t downstream_offset, uint32_t target_vp,
                        const uint8_t *user_data, const char **why);
void vmbus_channel_opened(struct vmbus_channel *channel);

#endif
