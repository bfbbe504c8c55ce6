/*
 * The VMBus channel-management (control) protocol on the wire: the CHANNELMSG_* messages a
 * child posts with HvPostMessage (TLFS 11.8 "HvPostMessage", payload <= 240 bytes) and the
 * ones the host posts into the child's SIMP slot for the VMBus SINT. Layouts follow Linux
 * include/linux/hyperv.h (struct vmbus_channel_*), the protocol peer we must satisfy; every
 * offset is checked at compile time in protocol.c.
 *
 * vmbus_message_parse is the one place a child's control message enters: it copies the
 * bytes into a struct vmbus_message and checks the type and the size for that type. What it
 * cannot know (relids, GPADL handles, connection state) is checked by the connection.
 */
#ifndef HVFW_VMBUS_PROTOCOL_H
#define HVFW_VMBUS_PROTOCOL_H

#include <stdbool.h>
#include <stdint.h>

/* HvPostMessage's payload bound (TLFS 11.8, HV_MESSAGE_PAYLOAD_BYTE_COUNT). */
#define VMBUS_MESSAGE_MAX 240u
/* HV_MESSAGE_TYPE of every VMBus control message (Linux: VMBUS message type 1). */
#define VMBUS_HV_MESSAGE_TYPE 1u
/* Connection ids a child posts control messages to: 1 for everything below VMBus 5.0 and
 * for every message after a 5.x handshake (we answer msg_conn_id = 1); 4 for a 5.x
 * INITIATE_CONTACT (Linux drivers/hv/connection.c, VMBUS_MESSAGE_CONNECTION_ID{,_4}). */
#define VMBUS_MESSAGE_CONNECTION_ID 1u
#define VMBUS_MESSAGE_CONNECTION_ID_4 4u
/* The SINT Linux uses for VMBus messages and channel events (VMBUS_MESSAGE_SINT). */
#define VMBUS_MESSAGE_SINT 2u
#define VMBUS_SINT_COUNT 16u

/* Protocol versions, major << 16 | minor, in the order Linux 6.1 tries them. */
#define VMBUS_VERSION_WIN8 0x00020004u   /* 2.4 */
#define VMBUS_VERSION_WIN8_1 0x00030000u /* 3.0 */
#define VMBUS_VERSION_WIN10 0x00040000u  /* 4.0 */
#define VMBUS_VERSION_WIN10_V4_1 0x00040001u
#define VMBUS_VERSION_WIN10_V5 0x00050000u
#define VMBUS_VERSION_WIN10_V5_1 0x00050001u
#define VMBUS_VERSION_WIN10_V5_2 0x00050002u
#define VMBUS_VERSION_WIN10_V5_3 0x00050003u

/* Child relids are 1..2047 in Linux (MAX_CHANNEL_RELIDS); we offer far fewer. */
#define VMBUS_RELID_MAX 2047u

/* NTSTATUS values the host reports in GPADL_CREATED / OPEN_RESULT / MODIFYCHANNEL_RESPONSE:
 * Linux only tests for non-zero. */
#define VMBUS_STATUS_SUCCESS 0u
#define VMBUS_STATUS_UNSUCCESSFUL 0xC0000001u

enum vmbus_message_type {
    VMBUS_MSG_INVALID = 0,
    VMBUS_MSG_OFFERCHANNEL = 1,
    VMBUS_MSG_RESCIND_CHANNELOFFER = 2,
    VMBUS_MSG_REQUESTOFFERS = 3,
    VMBUS_MSG_ALLOFFERS_DELIVERED = 4,
    VMBUS_MSG_OPENCHANNEL = 5,
    VMBUS_MSG_OPENCHANNEL_RESULT = 6,
    VMBUS_MSG_CLOSECHANNEL = 7,
    VMBUS_MSG_GPADL_HEADER = 8,
    VMBUS_MSG_GPADL_BODY = 9,
    VMBUS_MSG_GPADL_CREATED = 10,
    VMBUS_MSG_GPADL_TEARDOWN = 11,
    VMBUS_MSG_GPADL_TORNDOWN = 12,
    VMBUS_MSG_RELID_RELEASED = 13,
    VMBUS_MSG_INITIATE_CONTACT = 14,
    VMBUS_MSG_VERSION_RESPONSE = 15,
    VMBUS_MSG_UNLOAD = 16,
    VMBUS_MSG_UNLOAD_RESPONSE = 17,
    VMBUS_MSG_TL_CONNECT_REQUEST = 21,
    VMBUS_MSG_MODIFYCHANNEL = 22,
    VMBUS_MSG_TL_CONNECT_RESULT = 23,
    VMBUS_MSG_MODIFYCHANNEL_RESPONSE = 24,
    VMBUS_MSG_TYPE_LIMIT = 25,
};

struct vmbus_message_header {
    uint32_t type;
    uint32_t padding;
};

/* H->G: one per offered channel (struct vmbus_channel_offer_channel, 196 bytes). */
struct vmbus_offer_message {
    struct vmbus_message_header header;
    uint8_t interface_type[16];
    uint8_t interface_instance[16];
    /* Interrupt latency and interface revision in the old spec, unused; u32s so the
     * struct stays 196 bytes without packing (Linux's is __packed). */
    uint32_t reserved1[4];
    uint16_t channel_flags;
    uint16_t mmio_megabytes;
    uint8_t user_defined[120];
    uint16_t sub_channel_index;
    uint16_t reserved3;
    uint32_t child_relid;
    uint8_t monitor_id;
    uint8_t monitor_allocated; /* bit 0 */
    uint16_t is_dedicated_interrupt;
    uint32_t connection_id;
};

/* RESCIND (H->G), CLOSECHANNEL and RELID_RELEASED (G->H): the relid only. */
struct vmbus_relid_message {
    struct vmbus_message_header header;
    uint32_t child_relid;
};

struct vmbus_open_channel_message {
    struct vmbus_message_header header;
    uint32_t child_relid;
    uint32_t open_id;
    uint32_t ring_gpadl;
    uint32_t target_vp;
    uint32_t downstream_ring_page_offset;
    uint8_t user_data[120];
};

struct vmbus_open_result_message {
    struct vmbus_message_header header;
    uint32_t child_relid;
    uint32_t open_id;
    uint32_t status;
};

/* GPADL_HEADER: fixed part; the range buffer (struct gpa_range: u32 byte_count,
 * u32 byte_offset, u64 pfn[]) follows at offset 20 and continues in GPADL_BODY messages. */
struct vmbus_gpadl_header_message {
    struct vmbus_message_header header;
    uint32_t child_relid;
    uint32_t gpadl;
    uint16_t range_buffer_length;
    uint16_t range_count;
};

struct vmbus_gpadl_body_message {
    struct vmbus_message_header header;
    uint32_t message_number;
    uint32_t gpadl;
};

struct vmbus_gpadl_created_message {
    struct vmbus_message_header header;
    uint32_t child_relid;
    uint32_t gpadl;
    uint32_t status;
};

struct vmbus_gpadl_teardown_message {
    struct vmbus_message_header header;
    uint32_t child_relid;
    uint32_t gpadl;
};

struct vmbus_gpadl_torndown_message {
    struct vmbus_message_header header;
    uint32_t gpadl;
};

struct vmbus_initiate_contact_message {
    struct vmbus_message_header header;
    uint32_t version;
    uint32_t target_vcpu;
    /* Below 5.0: the legacy interrupt page GPA. From 5.0: byte 0 is msg_sint. */
    uint64_t interrupt_page_or_sint;
    uint64_t monitor_page1;
    uint64_t monitor_page2;
};

struct vmbus_version_response_message {
    struct vmbus_message_header header;
    uint8_t version_supported;
    uint8_t connection_state;
    uint16_t padding;
    uint32_t message_connection_id;
};

struct vmbus_modify_channel_message {
    struct vmbus_message_header header;
    uint32_t child_relid;
    uint32_t target_vp;
};

struct vmbus_modify_channel_response_message {
    struct vmbus_message_header header;
    uint32_t child_relid;
    uint32_t status;
};

/* A validated copy of one child message. `bytes` holds the whole payload as received;
 * the typed views alias it. For GPADL_HEADER/BODY, `range_data` points into `bytes` at the
 * range buffer part and `range_data_size` is its length (a multiple of 8). */
struct vmbus_message {
    uint32_t type;
    uint32_t size;
    union {
        uint8_t bytes[VMBUS_MESSAGE_MAX];
        uint64_t align;
        struct vmbus_message_header header;
        struct vmbus_relid_message relid;
        struct vmbus_open_channel_message open;
        struct vmbus_gpadl_header_message gpadl_header;
        struct vmbus_gpadl_body_message gpadl_body;
        struct vmbus_gpadl_teardown_message gpadl_teardown;
        struct vmbus_initiate_contact_message initiate;
        struct vmbus_modify_channel_message modify;
    } u;
    const uint8_t *range_data;
    uint32_t range_data_size;
};

/* Copies `size` bytes from `payload` into `out` and checks them: a message type a child
 * may send, at least that type's size, at most VMBUS_MESSAGE_MAX; for GPADL messages the
 * range part is whole u64s. False with a reason in `why` (static string) otherwise. */
bool vmbus_message_parse(const void *payload, uint32_t size, struct vmbus_message *out,
                         const char **why);
/* The size a child's message of `type` must at least have; 0 for types a child may not
 * send (host-to-guest types and unknown ones). */
uint32_t vmbus_message_min_size(uint32_t type);
const char *vmbus_message_name(uint32_t type);
/* True for the versions Linux 6.1 proposes, which the host accepts. */
bool vmbus_version_supported(uint32_t version);

#endif
