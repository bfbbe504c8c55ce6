/*
 * Remote NDIS (MS-RNDIS 1.0) as the network VSP speaks it inside NVSP SEND_RNDIS_PKT
 * messages: the control messages a Linux netvsc child sends (drivers/net/hyperv/
 * rndis_filter.c is the peer: INITIALIZE, QUERY, SET, RESET, KEEPALIVE, HALT) and the data
 * messages (PACKET_MSG with per-packet info) in both directions.
 *
 * Pure: no I/O, no allocation. Every message arrives as a copy; its msg_len, every offset
 * and length inside it (information buffers, data, per-packet info) is checked against
 * that copy before one byte is used. A control message with a readable request id always
 * gets a completion (with an RNDIS error status when it is bad) and a reason for the log.
 *
 * Offsets on the wire: a request's information buffer offset counts from its RequestId
 * field (byte 8 of the message); a PACKET_MSG's data and per-packet-info offsets count from
 * its DataOffset field (also byte 8) — MS-RNDIS 2.2.
 */
#ifndef HVFW_VSP_RNDIS_H
#define HVFW_VSP_RNDIS_H

#include <stdbool.h>
#include <stdint.h>

/* Message types (MS-RNDIS 2.2; completions have bit 31 set). */
#define RNDIS_MSG_PACKET 0x00000001u
#define RNDIS_MSG_INITIALIZE 0x00000002u
#define RNDIS_MSG_HALT 0x00000003u
#define RNDIS_MSG_QUERY 0x00000004u
#define RNDIS_MSG_SET 0x00000005u
#define RNDIS_MSG_RESET 0x00000006u
#define RNDIS_MSG_INDICATE_STATUS 0x00000007u
#define RNDIS_MSG_KEEPALIVE 0x00000008u
#define RNDIS_MSG_COMPLETION 0x80000000u

/* Status values (NDIS_STATUS_*). */
#define RNDIS_STATUS_SUCCESS 0x00000000u
#define RNDIS_STATUS_FAILURE 0xC0000001u
#define RNDIS_STATUS_NOT_SUPPORTED 0xC00000BBu
#define RNDIS_STATUS_INVALID_LENGTH 0xC0010014u
#define RNDIS_STATUS_INVALID_DATA 0xC0010015u
#define RNDIS_STATUS_BUFFER_TOO_SHORT 0xC0010016u
#define RNDIS_STATUS_INVALID_OID 0xC0010017u
#define RNDIS_STATUS_MEDIA_CONNECT 0x4001000Bu
#define RNDIS_STATUS_MEDIA_DISCONNECT 0x4001000Cu

/* OIDs Linux netvsc asks about or sets. */
#define RNDIS_OID_GEN_SUPPORTED_LIST 0x00010101u
#define RNDIS_OID_GEN_HARDWARE_STATUS 0x00010102u
#define RNDIS_OID_GEN_MEDIA_SUPPORTED 0x00010103u
#define RNDIS_OID_GEN_MEDIA_IN_USE 0x00010104u
#define RNDIS_OID_GEN_MAXIMUM_FRAME_SIZE 0x00010106u
#define RNDIS_OID_GEN_LINK_SPEED 0x00010107u
#define RNDIS_OID_GEN_CURRENT_PACKET_FILTER 0x0001010Eu
#define RNDIS_OID_GEN_MAXIMUM_TOTAL_SIZE 0x00010111u
#define RNDIS_OID_GEN_MAC_OPTIONS 0x00010113u
#define RNDIS_OID_GEN_MEDIA_CONNECT_STATUS 0x00010114u
#define RNDIS_OID_GEN_RECEIVE_SCALE_CAPABILITIES 0x00010203u
#define RNDIS_OID_GEN_RNDIS_CONFIG_PARAMETER 0x0001021Bu
#define RNDIS_OID_802_3_PERMANENT_ADDRESS 0x01010101u
#define RNDIS_OID_802_3_CURRENT_ADDRESS 0x01010102u
#define RNDIS_OID_802_3_MULTICAST_LIST 0x01010103u
#define RNDIS_OID_802_3_MAXIMUM_LIST_SIZE 0x01010104u
#define RNDIS_OID_TCP_OFFLOAD_PARAMETERS 0xFC01020Cu
#define RNDIS_OID_TCP_OFFLOAD_HARDWARE_CAPABILITIES 0xFC01020Du

/* OID_GEN_CURRENT_PACKET_FILTER bits (NDIS_PACKET_TYPE_*). */
#define RNDIS_FILTER_DIRECTED 0x01u
#define RNDIS_FILTER_MULTICAST 0x02u
#define RNDIS_FILTER_ALL_MULTICAST 0x04u
#define RNDIS_FILTER_BROADCAST 0x08u
#define RNDIS_FILTER_PROMISCUOUS 0x20u
#define RNDIS_FILTER_SUPPORTED                                                             \
    (RNDIS_FILTER_DIRECTED | RNDIS_FILTER_MULTICAST | RNDIS_FILTER_ALL_MULTICAST |       \
     RNDIS_FILTER_BROADCAST | RNDIS_FILTER_PROMISCUOUS)

/* Per-packet info types (Linux enum ndis_per_pkt_info_type). */
#define RNDIS_PPI_CHECKSUM 0u
#define RNDIS_PPI_LSO 2u
#define RNDIS_PPI_VLAN 6u
#define RNDIS_PPI_HASH_VALUE 8u

/* NDIS object header types/revisions for the offload OIDs (Linux hyperv_net.h). */
#define RNDIS_NDIS_OBJECT_TYPE_DEFAULT 0x80u
#define RNDIS_NDIS_OBJECT_TYPE_OFFLOAD 0xA7u
/* sizeof(struct ndis_offload) for revisions 1 (NDIS 6.0), 2 (6.1) and 3 (6.30). */
#define RNDIS_OFFLOAD_SIZE_REV1 112u
#define RNDIS_OFFLOAD_SIZE_REV2 144u
#define RNDIS_OFFLOAD_SIZE_REV3 156u
/* struct ndis_offload_params: its size for NVSP <= 4 (VERSION_4_OFFLOAD_SIZE) and whole. */
#define RNDIS_OFFLOAD_PARAMS_SIZE_V4 22u
#define RNDIS_OFFLOAD_PARAMS_SIZE 28u

#define RNDIS_HEADER_SIZE 8u          /* type + msg_len */
#define RNDIS_PACKET_HEADER_SIZE 44u  /* header + struct rndis_packet */
#define RNDIS_FRAME_MAX 1518u         /* Ethernet header + 1500 + an 802.1Q tag */
#define RNDIS_ETHERNET_MTU 1500u
/* What we announce in INITIALIZE_CMPLT: the largest message either side may send, how many
 * PACKET_MSGs may share one NVSP message and their alignment (2^3 = 8 bytes). */
#define RNDIS_MAX_TRANSFER_SIZE 16384u
#define RNDIS_MAX_PACKETS_PER_MESSAGE 8u
#define RNDIS_PACKET_ALIGNMENT_SHIFT 3u
/* Replies are small: the largest is the offload capabilities query (24 + 156). */
#define RNDIS_REPLY_MAX 256u

/* What the device is, as QUERY reports it. */
struct rndis_device_info {
    uint8_t mac[6];
    uint32_t link_speed; /* OID_GEN_LINK_SPEED: units of 100 bit/s */
    bool connected;
    uint32_t nvsp_version; /* picks the offload capability revision Linux expects */
};

/* What the child set. */
struct rndis_state {
    bool initialized;
    uint32_t packet_filter;
    uint32_t max_transfer_size; /* the child's, from INITIALIZE */
    uint32_t sets, queries;
};

enum rndis_control_result {
    RNDIS_REPLY,    /* `reply` holds a completion to send (its status may be an error) */
    RNDIS_NO_REPLY, /* HALT, or a message too broken to answer; `why` says which */
};

/* One control message (`message`, `length` bytes as copied out of the child). Fills
 * `reply` (RNDIS_REPLY_MAX bytes). `why` is NULL when all was well, else the log reason
 * (also when an error completion is sent). */
enum rndis_control_result rndis_control_handle(struct rndis_state *state,
                                               const struct rndis_device_info *device,
                                               const uint8_t *message, uint32_t length,
                                               uint8_t *reply, uint32_t *reply_length,
                                               const char **why);

/* A child's PACKET_MSG, checked: the frame and the per-packet info we act on. */
struct rndis_packet {
    const uint8_t *frame; /* inside the message copy */
    uint32_t frame_length;
    bool has_vlan;
    uint16_t vlan_tci; /* priority << 13 | VLAN id (802.1Q TCI, CFI 0) */
    bool wants_checksum; /* a transmit checksum request: an offload we never offered */
    bool wants_lso;      /* a large-send request: never offered */
};

/* Parses one PACKET_MSG of `length` bytes (its msg_len must fit `length`; `consumed` gets
 * msg_len so batched messages can be walked). False with a reason for a bad header, data
 * outside the message, a frame shorter than an Ethernet header or longer than
 * RNDIS_FRAME_MAX, or per-packet info that does not fit. */
bool rndis_packet_parse(const uint8_t *message, uint32_t length, struct rndis_packet *out,
                        uint32_t *consumed, const char **why);

/* Builds a PACKET_MSG (no per-packet info) around `frame` into `out`; its length, or 0 if
 * `capacity` is too small or the frame is empty or too long. */
uint32_t rndis_packet_build(uint8_t *out, uint32_t capacity, const uint8_t *frame,
                            uint32_t frame_length);
/* Builds an INDICATE_STATUS_MSG with `status` (MEDIA_CONNECT / MEDIA_DISCONNECT) and no
 * status buffer; its length (20), or 0 if `capacity` is too small. */
uint32_t rndis_indicate_status_build(uint8_t *out, uint32_t capacity, uint32_t status);

/* The message type and msg_len of a copied message; false if it is shorter than the
 * header or msg_len is below the header or beyond `length`. */
bool rndis_message_header(const uint8_t *message, uint32_t length, uint32_t *type,
                          uint32_t *message_length);

#endif
