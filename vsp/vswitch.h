/*
 * The virtual switch of the root (an "external" Hyper-V switch): a learning Ethernet switch
 * whose ports are the physical NIC (external), the root's own lwIP interface and one
 * netvsp per child (internal). Frames are copied into bounded per-port queues; a full
 * queue drops the frame and counts it, never blocks the sender.
 *
 * Forwarding (IEEE 802.1D 7.7/7.8, simplified to what a host switch needs):
 *  - internal ports own exactly one MAC (the root NIC's, or a child's generated one); a
 *    frame from an internal port with another source MAC is dropped (no MAC spoofing, as
 *    Hyper-V's default); unicast reaches an internal port only when addressed to its MAC;
 *  - external ports learn source MACs (a table of VSWITCH_TABLE_SIZE entries, aged out
 *    after VSWITCH_AGE_MS; a full table replaces its oldest entry); a source MAC that an
 *    internal port owns is never learned from outside;
 *  - broadcast and multicast flood to every port but the ingress; unicast for an unknown
 *    MAC goes out of the external ports only (never to another child), and is dropped
 *    when it came in from outside.
 *
 * Delivery: a port's queue is drained by vswitch_port_flush, which calls the port's
 * transmit op one frame at a time, without the switch lock held (a transmit may feed the
 * switch again: lwIP answering an ARP). A port with a notify op is told when its queue
 * becomes non-empty and flushes from its own context (its own root VP); a port without
 * one is flushed in the sender's context. A transmit that cannot take the frame now
 * (child ring or receive buffer full) returns false; the frame stays queued until the
 * port's owner flushes again.
 */
#ifndef HVFW_VSP_VSWITCH_H
#define HVFW_VSP_VSWITCH_H

#include <stdbool.h>
#include <stdint.h>

#define VSWITCH_PORT_MAX 32u
#define VSWITCH_QUEUE_FRAMES 64u
#define VSWITCH_FRAME_MIN 14u   /* an Ethernet header */
#define VSWITCH_FRAME_MAX 1518u /* header + 1500 + an 802.1Q tag, no FCS */
#define VSWITCH_TABLE_SIZE 256u
#define VSWITCH_AGE_MS 300000u /* 802.1D's default ageing time */

enum vswitch_port_kind {
    VSWITCH_PORT_EXTERNAL, /* the physical NIC: learns, takes unknown unicast */
    VSWITCH_PORT_INTERNAL, /* the root's interface or a child: one fixed MAC */
};

struct vswitch_port_ops {
    /* One frame (valid during the call); false if the port cannot take it now. */
    bool (*transmit)(void *context, const uint8_t *frame, uint32_t length);
    /* Optional: the port's queue became non-empty; its owner calls vswitch_port_flush. */
    void (*notify)(void *context);
};

struct vswitch_port_stats {
    uint64_t in_frames, in_bytes;   /* accepted from the port */
    uint64_t out_frames, out_bytes; /* delivered to the port */
    uint64_t dropped_queue_full;    /* for this port, its queue was full */
    uint64_t dropped_spoofed;       /* from this port with a source MAC it does not own */
    uint64_t dropped_malformed;     /* from this port: too short/long, multicast source */
    uint64_t dropped_unknown;       /* from this port: unicast nobody here owns */
};

struct vswitch_frame {
    uint32_t length;
    uint8_t bytes[VSWITCH_FRAME_MAX];
};

struct vswitch_port {
    bool used;
    bool flushing;
    enum vswitch_port_kind kind;
    char name[24];
    uint8_t mac[6]; /* internal ports */
    const struct vswitch_port_ops *ops;
    void *context;
    struct vswitch_frame *queue; /* VSWITCH_QUEUE_FRAMES */
    uint32_t head, count;
    struct vswitch_port_stats stats;
};

struct vswitch_entry {
    bool used;
    uint8_t mac[6];
    uint32_t port;
    uint64_t seen_ms;
};

struct vswitch_stats {
    uint64_t learned, moved, aged, evicted;
};

struct vswitch {
    uint32_t lock;
    uint64_t now_ms;
    struct vswitch_port ports[VSWITCH_PORT_MAX];
    struct vswitch_entry table[VSWITCH_TABLE_SIZE];
    struct vswitch_stats stats;
    void (*log)(void *context, const char *level, const char *line);
    void *log_context;
};

/* An empty switch; `log` (may be NULL) gets one line per port change and refusal. */
void vswitch_init(struct vswitch *sw, void (*log)(void *context, const char *level,
                                                  const char *line),
                  void *log_context);
/* Removes every port. */
void vswitch_destroy(struct vswitch *sw);
/* Adds a port; its number, or -1 (no free port, no memory, an internal port without a
 * unicast MAC or with a MAC another port owns). */
int vswitch_port_add(struct vswitch *sw, enum vswitch_port_kind kind, const char *name,
                     const uint8_t mac[6], const struct vswitch_port_ops *ops, void *context);
/* Removes a port: its queue and the MACs learned on it are dropped. */
void vswitch_port_remove(struct vswitch *sw, int port);
/* One frame the port received (its owner calls this); copied before it returns. */
void vswitch_input(struct vswitch *sw, int port, const uint8_t *frame, uint32_t length);
/* Delivers the port's queued frames until its transmit refuses one; true if the queue
 * is empty afterwards. Does nothing while the port is being flushed already. */
bool vswitch_port_flush(struct vswitch *sw, int port);
/* Advances the switch clock (milliseconds, monotonic) and ages learned MACs. */
void vswitch_tick(struct vswitch *sw, uint64_t now_ms);
/* The port a MAC was learned on or is owned by; -1 if unknown. */
int vswitch_lookup(struct vswitch *sw, const uint8_t mac[6]);

/* A stable, locally administered unicast MAC for a child (02:xx:xx:xx:xx:xx from an
 * FNV-1a hash of its name): the same child gets the same address on every boot. */
void vswitch_mac_from_name(const char *name, uint8_t mac[6]);

#endif
