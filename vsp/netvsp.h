/*
 * The network VSP: one synthetic NIC of a child (the VMBus offer Linux's hv_netvsc binds,
 * interface f8615163-df3e-46c5-913f-f2d2f965ed0e) speaking NVSP (Linux drivers/net/hyperv/
 * netvsc.c + hyperv_net.h are the peer) with RNDIS inside (vsp/rndis.h), and a port of the
 * virtual switch (vsp/vswitch.h) under the child's generated MAC.
 *
 * NVSP as Linux 6.1 drives it, and what we answer:
 *  - INIT {min, max}: the highest of 6.1, 6, 5, 4, 2, 1 inside [min, max] (Linux asks one
 *    version at a time, newest first), INIT_COMPLETE with it; none: status FAIL;
 *  - SEND_NDIS_VER, SEND_NDIS_CONFIG (MTU, capabilities): recorded, no answer;
 *  - SEND_RECV_BUF {GPADL, id}: the child's receive buffer: one page-aligned range of
 *    NETVSP_RECEIVE_SIZE_MIN..NETVSP_RECEIVE_SIZE_MAX bytes, cut into NETVSP_RECEIVE_SECTION
 *    byte sections (answer: one section list at offset 0, as Linux requires);
 *  - SEND_SEND_BUF {GPADL, id}: the child's send buffer, NETVSP_SEND_SECTION byte sections;
 *  - REVOKE_RECV_BUF / REVOKE_SEND_BUF: forgotten (frames in flight are forgotten too: a
 *    late completion for them is ignored);
 *  - SEND_RNDIS_PKT {channel type, section index, size}: the RNDIS message is in a send
 *    buffer section or, with index 0xFFFFFFFF, in the packet's GPA ranges; it is copied
 *    out, then parsed: data messages (type 0) go to the switch, control messages (type 1)
 *    are answered through the receive buffer; every one is completed (RNDIS_PKT_COMPLETE,
 *    SUCCESS or FAIL with a log line);
 *  - SUBCHANNEL: SUCCESS with 0 subchannels (we announce one RSS queue: no vRSS);
 *  - SWITCH_DATA_PATH (synthetic only), others: logged and, if asked, completed.
 * Receive path: each frame or control reply is written to a free receive section and
 * announced by a TRANSFER_PAGES packet (page set = the child's buffer id, one range)
 * carrying SEND_RNDIS_PKT; the child's completion frees the section. No free section or a
 * full ring leaves the frame in the switch's queue; control replies wait in a small
 * queue of their own.
 *
 * Everything the child sends is checked once where it enters: NVSP sizes per type, GPADL
 * shape and size, section indices and sizes, GPA ranges (every page resolved through
 * vmbus_channel_page, i.e. checked to be the child's RAM, at every access), the RNDIS
 * message (vsp/rndis.c). A child that will not read its ring while flooding us with
 * requests loses the channel (closed, logged), never the root's memory.
 */
#ifndef HVFW_VSP_NETVSP_H
#define HVFW_VSP_NETVSP_H

#include <stdbool.h>
#include <stdint.h>

#include "vmbus/channel.h"
#include "vsp/rndis.h"
#include "vsp/vswitch.h"

/* NVSP versions (Linux hyperv_net.h NVSP_PROTOCOL_VERSION_*). */
#define NVSP_VERSION_1 0x00002u
#define NVSP_VERSION_2 0x30002u
#define NVSP_VERSION_4 0x40000u
#define NVSP_VERSION_5 0x50000u
#define NVSP_VERSION_6 0x60000u
#define NVSP_VERSION_61 0x60001u

/* NVSP message types (Linux enum in hyperv_net.h). */
#define NVSP_MSG_INIT 1u
#define NVSP_MSG_INIT_COMPLETE 2u
#define NVSP_MSG1_SEND_NDIS_VERSION 100u
#define NVSP_MSG1_SEND_RECEIVE_BUFFER 101u
#define NVSP_MSG1_SEND_RECEIVE_BUFFER_COMPLETE 102u
#define NVSP_MSG1_REVOKE_RECEIVE_BUFFER 103u
#define NVSP_MSG1_SEND_SEND_BUFFER 104u
#define NVSP_MSG1_SEND_SEND_BUFFER_COMPLETE 105u
#define NVSP_MSG1_REVOKE_SEND_BUFFER 106u
#define NVSP_MSG1_SEND_RNDIS_PACKET 107u
#define NVSP_MSG1_SEND_RNDIS_PACKET_COMPLETE 108u
#define NVSP_MSG2_SEND_NDIS_CONFIG 125u
#define NVSP_MSG4_SEND_VF_ASSOCIATION 128u
#define NVSP_MSG4_SWITCH_DATA_PATH 129u
#define NVSP_MSG5_SUBCHANNEL 133u
#define NVSP_MSG5_SEND_INDIRECTION_TABLE 134u

#define NVSP_STATUS_SUCCESS 1u
#define NVSP_STATUS_FAIL 2u

/* sizeof(struct nvsp_message): the header and the largest member (NVSP 6 PD API). Linux
 * sends and expects whole messages. */
#define NVSP_MESSAGE_SIZE 40u
#define NVSP_NO_SECTION 0xFFFFFFFFu
#define NVSP_CHANNEL_TYPE_DATA 0u
#define NVSP_CHANNEL_TYPE_CONTROL 1u

/* Buffer layout we answer (the sizes Hyper-V gives: Linux's NETVSC_RECV_SECTION_SIZE and
 * NETVSC_SEND_SECTION_SIZE); a section holds a PACKET_MSG header + the largest frame. */
#define NETVSP_RECEIVE_SECTION 1728u
#define NETVSP_SEND_SECTION 6144u
/* Linux: at least NETVSC_MIN_RX_SECTIONS (10) sections; at most what it says a host
 * allows (NETVSC_RECEIVE_BUFFER_SIZE, 31 MiB) and NETVSC_SEND_BUFFER_SIZE (15 MiB). */
#define NETVSP_RECEIVE_SIZE_MIN (10u * NETVSP_RECEIVE_SECTION)
#define NETVSP_RECEIVE_SIZE_MAX (31u << 20)
#define NETVSP_SEND_SIZE_MIN NETVSP_SEND_SECTION
#define NETVSP_SEND_SIZE_MAX (15u << 20)
/* The largest packet the child may put in our ring: GPA_DIRECT with up to 64 ranges. */
#define NETVSP_MAX_PACKET 4096u
#define NETVSP_PENDING_REPLIES 8u
#define NETVSP_PENDING_COMPLETIONS 256u
/* 10 Gbit/s, in OID_GEN_LINK_SPEED's units of 100 bit/s. */
#define NETVSP_LINK_SPEED 100000000u

struct netvsp_stats {
    uint64_t frames_in, bytes_in;   /* child -> switch */
    uint64_t frames_out, bytes_out; /* switch -> child */
    uint64_t control;               /* RNDIS control messages answered */
    uint64_t refused;               /* NVSP/RNDIS messages refused (each logged) */
    uint64_t dropped_not_ready;     /* frames for a child that has no buffer or filter */
    uint64_t dropped_filtered;      /* frames the child's packet filter excludes */
    uint64_t dropped_offload;       /* frames asking for an offload we never offered */
    uint64_t waits;                 /* times a frame waited: no section or a full ring */
};

struct netvsp_buffer {
    bool ready;
    uint32_t gpadl;
    uint16_t id;
    uint32_t size;     /* bytes */
    uint32_t sections; /* section count */
    uint32_t page_count;
    uint64_t *pfns; /* copied from the GPADL when it was given */
};

struct netvsp_reply {
    uint32_t length;
    uint8_t bytes[RNDIS_REPLY_MAX];
};

struct netvsp_completion {
    uint64_t transaction_id;
    uint8_t message[NVSP_MESSAGE_SIZE];
};

struct netvsp {
    struct vmbus_device device; /* register with vmbus_connection_add_device */
    struct vmbus_channel *channel; /* while open */
    struct vswitch *vswitch;
    int port;
    char name[32];
    uint8_t mac[6];

    uint32_t nvsp_version; /* 0 until INIT */
    uint32_t ndis_major, ndis_minor, mtu;
    struct rndis_state rndis;
    struct rndis_device_info info;

    struct netvsp_buffer receive;
    uint8_t *section_busy; /* per receive section */
    uint32_t sections_free;
    uint32_t next_section;
    uint32_t generation; /* in transfer ids: completions from a revoked buffer are stale */
    struct netvsp_buffer send;

    struct netvsp_reply replies[NETVSP_PENDING_REPLIES];
    uint32_t replies_head, replies_count;
    struct netvsp_completion completions[NETVSP_PENDING_COMPLETIONS];
    uint32_t completions_head, completions_count;

    uint8_t message[RNDIS_MAX_TRANSFER_SIZE]; /* an RNDIS message copied out of the child */
    uint8_t section[NETVSP_RECEIVE_SECTION];  /* one receive section being built */
    uint32_t logged;
    struct netvsp_stats stats;
    /* Optional: frames arrived for this child while its channel is served by another root
     * VP; the root sets it to wake that VP, which calls netvsp_flush. Without it the
     * switch's sender flushes (one root VP serves everything). */
    void (*wake)(void *context);
    void *wake_context;
};

/* Prepares the NIC of child `child_name` (its MAC from vswitch_mac_from_name, the offer's
 * instance GUID from the same hash) and adds its port to `vswitch`; false if the switch
 * refuses the port. Then register `&netvsp->device` with the child's connection. */
bool netvsp_init(struct netvsp *netvsp, const char *child_name, struct vswitch *vswitch);
/* Removes the port and frees the buffers (after the channel is closed or rescinded). */
void netvsp_destroy(struct netvsp *netvsp);
/* The link state the child sees (OID_GEN_MEDIA_CONNECT_STATUS); a change is indicated
 * with INDICATE_STATUS when the child's RNDIS is initialized. */
void netvsp_set_link(struct netvsp *netvsp, bool connected);
/* Delivers frames the switch queued for this child (call when the port's notify fired,
 * or after the channel was polled); true if nothing is left waiting. */
bool netvsp_flush(struct netvsp *netvsp);

#endif
