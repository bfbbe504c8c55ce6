/*
 * A minimal guest end of VMBus for the test guests: the Hyper-V interface a VMBus client
 * stands on (guest OS id, hypercall page, SynIC message and event pages; TLFS v6.0b 3.13,
 * 11.5, 11.8), control messages to and from the host (HvPostMessage, TLFS 11.8.2; the
 * host's messages in SINT VMBUS_CLIENT_SINT's slot, TLFS 11.10.3), channel kicks
 * (HvSignalEvent, TLFS 11.8.4) and the guest side of a channel's two rings. Nothing here
 * trusts or checks the host beyond what the caller asks: it is the instrument a test
 * guest (images/guests/hostilevsc) uses to send the host both good and hostile input.
 *
 * The wire layouts are Linux's (include/linux/hyperv.h, drivers/hv/hyperv_vmbus.h), the
 * protocol peer the host must satisfy, written out here on their own rather than shared
 * with the host's vmbus/protocol.h so that a layout mistake there cannot hide here.
 *
 * The caller provides four 4 KiB-aligned pages (hypercall, message, event flags, hypercall
 * input) and the guest runs with paging off, so a buffer's address is its GPA.
 */
#ifndef HVFW_GUESTS_VMBUS_CLIENT_H
#define HVFW_GUESTS_VMBUS_CLIENT_H

#include <stdbool.h>
#include <stdint.h>

#define VMBUS_CLIENT_PAGE_SIZE 4096u
/* The SINT Linux takes VMBus messages and channel events on (VMBUS_MESSAGE_SINT). */
#define VMBUS_CLIENT_SINT 2u
/* HV_MESSAGE_PAYLOAD_BYTE_COUNT (TLFS 11.8.2). */
#define VMBUS_CLIENT_PAYLOAD_MAX 240u
/* The message type VMBus control messages travel as (Linux hv_post_message: 1). */
#define VMBUS_CLIENT_MESSAGE_TYPE 1u
/* Connection ids of the control messages (Linux VMBUS_MESSAGE_CONNECTION_ID{,_4}). */
#define VMBUS_CLIENT_CONNECTION_ID 1u
#define VMBUS_CLIENT_CONNECTION_ID_4 4u

/* Reference time units (TIME_REF_COUNT, TLFS 12.4: 100 ns). */
#define VMBUS_CLIENT_UNITS_PER_MS 10000ull

/* TLFS status codes the guest meets. */
#define VMBUS_CLIENT_STATUS_SUCCESS 0x0000u
#define VMBUS_CLIENT_STATUS_INVALID_PARAMETER 0x0005u
#define VMBUS_CLIENT_STATUS_INSUFFICIENT_BUFFERS 0x0013u

/* ---- channel-management messages (Linux include/linux/hyperv.h) ----------------------- */

enum vmbus_channel_message_type {
    CHANNELMSG_OFFERCHANNEL = 1,
    CHANNELMSG_RESCIND_CHANNELOFFER = 2,
    CHANNELMSG_REQUESTOFFERS = 3,
    CHANNELMSG_ALLOFFERS_DELIVERED = 4,
    CHANNELMSG_OPENCHANNEL = 5,
    CHANNELMSG_OPENCHANNEL_RESULT = 6,
    CHANNELMSG_CLOSECHANNEL = 7,
    CHANNELMSG_GPADL_HEADER = 8,
    CHANNELMSG_GPADL_BODY = 9,
    CHANNELMSG_GPADL_CREATED = 10,
    CHANNELMSG_GPADL_TEARDOWN = 11,
    CHANNELMSG_GPADL_TORNDOWN = 12,
    CHANNELMSG_RELID_RELEASED = 13,
    CHANNELMSG_INITIATE_CONTACT = 14,
    CHANNELMSG_VERSION_RESPONSE = 15,
    CHANNELMSG_UNLOAD = 16,
    CHANNELMSG_UNLOAD_RESPONSE = 17,
    CHANNELMSG_TL_CONNECT_REQUEST = 21,
    CHANNELMSG_MODIFYCHANNEL = 22,
    CHANNELMSG_MODIFYCHANNEL_RESPONSE = 24,
};

/* VMBus protocol versions (major << 16 | minor; Linux VERSION_WIN*). */
#define VMBUS_CLIENT_VERSION_WIN10 0x00040000u
#define VMBUS_CLIENT_VERSION_WIN10_V5 0x00050000u
#define VMBUS_CLIENT_VERSION_WIN10_V5_3 0x00050003u

struct vmbus_channel_message_header {
    uint32_t msgtype;
    uint32_t padding;
} __attribute__((packed));

struct vmbus_channel_initiate_contact {
    struct vmbus_channel_message_header header;
    uint32_t vmbus_version_requested;
    uint32_t target_vcpu;
    uint64_t interrupt_page_or_msg_sint; /* from 5.0: byte 0 is msg_sint */
    uint64_t monitor_page1;
    uint64_t monitor_page2;
} __attribute__((packed));

struct vmbus_channel_version_response {
    struct vmbus_channel_message_header header;
    uint8_t version_supported;
    uint8_t connection_state;
    uint16_t padding;
    uint32_t msg_conn_id;
} __attribute__((packed));

struct vmbus_channel_offer_channel {
    struct vmbus_channel_message_header header;
    uint8_t if_type[16];
    uint8_t if_instance[16];
    uint64_t reserved1;
    uint64_t reserved2;
    uint16_t chn_flags;
    uint16_t mmio_megabytes;
    uint8_t user_defined[120];
    uint16_t sub_channel_index;
    uint16_t reserved3;
    uint32_t child_relid;
    uint8_t monitorid;
    uint8_t monitor_allocated;
    uint16_t is_dedicated_interrupt;
    uint32_t connection_id;
} __attribute__((packed));

struct vmbus_channel_relid_message { /* RESCIND, CLOSECHANNEL, RELID_RELEASED */
    struct vmbus_channel_message_header header;
    uint32_t child_relid;
} __attribute__((packed));

struct vmbus_channel_open_channel {
    struct vmbus_channel_message_header header;
    uint32_t child_relid;
    uint32_t openid;
    uint32_t ringbuffer_gpadlhandle;
    uint32_t target_vp;
    uint32_t downstream_ringbuffer_pageoffset;
    uint8_t userdata[120];
} __attribute__((packed));

struct vmbus_channel_open_result {
    struct vmbus_channel_message_header header;
    uint32_t child_relid;
    uint32_t openid;
    uint32_t status;
} __attribute__((packed));

/* Followed by the range buffer: {u32 byte_count, u32 byte_offset, u64 pfn[]} per range. */
struct vmbus_channel_gpadl_header {
    struct vmbus_channel_message_header header;
    uint32_t child_relid;
    uint32_t gpadl;
    uint16_t range_buflen;
    uint16_t rangecount;
} __attribute__((packed));

struct vmbus_channel_gpadl_body { /* followed by u64 pfn[] */
    struct vmbus_channel_message_header header;
    uint32_t msgnumber;
    uint32_t gpadl;
} __attribute__((packed));

struct vmbus_channel_gpadl_created {
    struct vmbus_channel_message_header header;
    uint32_t child_relid;
    uint32_t gpadl;
    uint32_t creation_status;
} __attribute__((packed));

struct vmbus_channel_gpadl_teardown {
    struct vmbus_channel_message_header header;
    uint32_t child_relid;
    uint32_t gpadl;
} __attribute__((packed));

struct vmbus_channel_gpadl_torndown {
    struct vmbus_channel_message_header header;
    uint32_t gpadl;
} __attribute__((packed));

struct vmbus_channel_modifychannel {
    struct vmbus_channel_message_header header;
    uint32_t child_relid;
    uint32_t target_vp;
} __attribute__((packed));

struct vmbus_channel_modifychannel_response {
    struct vmbus_channel_message_header header;
    uint32_t child_relid;
    uint32_t status;
} __attribute__((packed));

_Static_assert(sizeof(struct vmbus_channel_initiate_contact) == 40, "initiate contact");
_Static_assert(sizeof(struct vmbus_channel_version_response) == 16, "version response");
_Static_assert(sizeof(struct vmbus_channel_offer_channel) == 196, "offer");
_Static_assert(sizeof(struct vmbus_channel_open_channel) == 148, "open");
_Static_assert(sizeof(struct vmbus_channel_open_result) == 20, "open result");
_Static_assert(sizeof(struct vmbus_channel_gpadl_header) == 20, "gpadl header");
_Static_assert(sizeof(struct vmbus_channel_gpadl_body) == 16, "gpadl body");

/* ---- rings (Linux struct hv_ring_buffer, struct vmpacket_descriptor) -------------------- */

struct vmbus_ring_control_page {
    volatile uint32_t write_index;
    volatile uint32_t read_index;
    volatile uint32_t interrupt_mask;
    volatile uint32_t pending_send_sz;
    uint32_t reserved1[12];
    volatile uint32_t feature_bits;
};

struct vmpacket_descriptor {
    uint16_t type;
    uint16_t offset8;
    uint16_t len8;
    uint16_t flags;
    uint64_t trans_id;
} __attribute__((packed));

#define VM_PKT_DATA_INBAND 6u
#define VM_PKT_DATA_USING_GPA_DIRECT 9u
#define VM_PKT_COMP 11u
#define VMBUS_DATA_PACKET_FLAG_COMPLETION_REQUESTED 1u
#define VMBUS_CLIENT_PACKET_TRAILER 8u

/* One direction of a channel: its control page and the data pages after it. */
struct vmbus_client_ring {
    struct vmbus_ring_control_page *control;
    uint8_t *data;
    uint32_t data_size;
};

/* ---- the client ------------------------------------------------------------------------ */

struct vmbus_client_message {
    uint32_t type; /* the hv_message type (1 for VMBus) */
    uint32_t size;
    union {
        uint8_t bytes[VMBUS_CLIENT_PAYLOAD_MAX];
        struct vmbus_channel_message_header header;
        struct vmbus_channel_version_response version_response;
        struct vmbus_channel_offer_channel offer;
        struct vmbus_channel_relid_message relid;
        struct vmbus_channel_open_result open_result;
        struct vmbus_channel_gpadl_created gpadl_created;
        struct vmbus_channel_gpadl_torndown gpadl_torndown;
        struct vmbus_channel_modifychannel_response modify_response;
    } u;
};

struct vmbus_client {
    uint8_t *hypercall_page;
    uint8_t *message_page;
    uint8_t *event_page;
    uint8_t *input_page;
};

/* Enables the hypercall page and the SynIC with SINT VMBUS_CLIENT_SINT in polling mode
 * (TLFS 11.8.4: messages arrive, no interrupt), on the calling VP. */
void vmbus_client_init(struct vmbus_client *client, uint8_t *hypercall_page,
                       uint8_t *message_page, uint8_t *event_page, uint8_t *input_page);
/* TIME_REF_COUNT. */
uint64_t vmbus_client_now(void);
/* HvPostMessage once: its status. `size` may exceed the payload bound (the hypervisor
 * refuses it); at most VMBUS_CLIENT_PAYLOAD_MAX bytes are copied. */
uint16_t vmbus_client_post_once(struct vmbus_client *client, uint32_t connection,
                                uint32_t message_type, const void *payload, uint32_t size);
/* HvPostMessage, retried while the hypervisor says HV_STATUS_INSUFFICIENT_BUFFERS (the
 * root has not taken the earlier ones yet), for up to 10 s. */
uint16_t vmbus_client_post(struct vmbus_client *client, uint32_t connection,
                           uint32_t message_type, const void *payload, uint32_t size);
/* A control message to connection 1, type 1. */
uint16_t vmbus_client_send(struct vmbus_client *client, const void *message, uint32_t size);
/* The next message in the SINT's slot, freed the TLFS way (type cleared, EOM when
 * pending); false if none came within `timeout_ms`. */
bool vmbus_client_receive(struct vmbus_client *client, struct vmbus_client_message *out,
                          uint32_t timeout_ms);
/* Fast HvSignalEvent to `connection`, flag 0. */
uint16_t vmbus_client_signal(struct vmbus_client *client, uint32_t connection);
/* Tests and clears event flag `flag` of the SINT. */
bool vmbus_client_event_take(struct vmbus_client *client, uint32_t flag);

/* A ring over `page_count` pages at `pages` (control page + data pages). */
void vmbus_client_ring_attach(struct vmbus_client_ring *ring, void *pages, uint32_t page_count);
/* Free bytes for the writer, as Linux counts them (a full ring never looks empty). */
uint32_t vmbus_client_ring_free(const struct vmbus_client_ring *ring);
/* Writes `length` bytes at the write index plus the 8-byte trailer, without publishing;
 * returns the index after them (publish with vmbus_client_ring_publish). The bytes must be
 * whole 8-byte units; the caller checks the space. */
uint32_t vmbus_client_ring_put(struct vmbus_client_ring *ring, uint32_t at, const void *bytes,
                               uint32_t length);
void vmbus_client_ring_publish(struct vmbus_client_ring *ring, uint32_t write_index);
/* One well-formed packet (descriptor, payload padded to 8, trailer) written and published;
 * false if it does not fit. */
bool vmbus_client_ring_send(struct vmbus_client_ring *ring, uint16_t type, uint16_t flags,
                            uint64_t trans_id, const void *payload, uint32_t length);
/* The next packet the host wrote: descriptor in `*descriptor`, up to `capacity` bytes of
 * payload in `payload`; consumes it. False if the ring is empty or the host's packet is
 * malformed (then `*why` says how and nothing is consumed). */
bool vmbus_client_ring_receive(struct vmbus_client_ring *ring,
                               struct vmpacket_descriptor *descriptor, void *payload,
                               uint32_t capacity, uint32_t *length, const char **why);

#endif
