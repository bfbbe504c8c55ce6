/*
 * The host's view of one direction of a VMBus channel ring (Linux drivers/hv/ring_buffer.c
 * is the guest peer). A ring is a 4 KiB control page (struct vmbus_ring_control) followed
 * by data pages; both live in the child's memory, reached through the pages' root
 * addresses, which the caller resolves once from the ring GPADL's PFNs.
 *
 * Everything in the ring is hostile. The host keeps its own index (read index of an
 * inbound ring, write index of an outbound ring) and only publishes it; the peer's index
 * is read once per operation and checked (< data size, 8-byte aligned); a packet is copied
 * out (descriptor first, checked, then the rest) and only the copy is parsed.
 *
 * Signalling (the coalescing rules, docs/ARCHITECTURE.md "VMBus"):
 *  - inbound: the host masks the guest's kicks while it drains (vmbus_ring_read_mask),
 *    publishes its read index once per batch (vmbus_ring_read_commit, which says whether
 *    the writer waits for space: pending_send_sz crossed) and unmasks with a re-check
 *    (vmbus_ring_read_unmask) so a packet written meanwhile is never missed;
 *  - outbound: packets are written at the private index and published once per batch
 *    (vmbus_ring_write_commit), which says to signal only when the ring was empty before
 *    the batch and the guest's interrupt_mask is clear.
 */
#ifndef HVFW_VMBUS_RING_H
#define HVFW_VMBUS_RING_H

#include <stdbool.h>
#include <stdint.h>

#define VMBUS_PAGE_SIZE 4096u
/* Data pages per direction: netvsc's 516 KiB ring is 128 data pages; 2 MiB is ample. */
#define VMBUS_RING_MAX_DATA_PAGES 512u

/* The control page of a ring (Linux struct hv_ring_buffer): written by both sides. */
struct vmbus_ring_control {
    uint32_t write_index;       /* byte offset into the data area, owned by the writer */
    uint32_t read_index;        /* owned by the reader */
    uint32_t interrupt_mask;    /* set by the reader: "do not signal me" */
    uint32_t pending_send_size; /* set by the writer: "signal me when this much is free" */
    uint32_t reserved[12];
    uint32_t feature_bits; /* bit 0: the ring's owner honours pending_send_size */
};
#define VMBUS_RING_FEATURE_PENDING_SEND_SIZE 1u

/* Packet types (Linux enum vmbus_packet_type). */
#define VMBUS_PACKET_INBAND 6u
#define VMBUS_PACKET_TRANSFER_PAGES 7u
#define VMBUS_PACKET_GPA_DIRECT 9u
#define VMBUS_PACKET_COMPLETION 11u
#define VMBUS_PACKET_FLAG_COMPLETION_REQUESTED 1u

struct vmbus_packet_descriptor {
    uint16_t type;
    uint16_t offset8; /* payload offset from the packet start, in 8-byte units */
    uint16_t length8; /* packet length without the trailer, in 8-byte units */
    uint16_t flags;
    uint64_t transaction_id;
};

/* A packet is at least its descriptor; the 8-byte trailer follows every packet. */
#define VMBUS_PACKET_TRAILER 8u
#define VMBUS_PACKET_MAX (0xFFFFu * 8u)

enum vmbus_ring_status {
    VMBUS_RING_OK,
    VMBUS_RING_EMPTY,   /* nothing to read */
    VMBUS_RING_FULL,    /* no room to write now; pending_send_size set when honoured */
    VMBUS_RING_TOO_BIG, /* the packet exceeds the caller's bound; it was skipped */
    VMBUS_RING_CORRUPT, /* an index or a descriptor the peer wrote is impossible */
    VMBUS_RING_CLOSED,  /* (channel level) the channel is not open */
};

struct vmbus_ring {
    struct vmbus_ring_control *control;
    uint8_t *pages[VMBUS_RING_MAX_DATA_PAGES];
    uint32_t data_size;
    uint32_t index;     /* the host's private read or write index */
    uint32_t published; /* the index last published in the control page */
};

/* Root address of one 4 KiB child page by page number, or NULL if it is not the
 * child's RAM. */
typedef uint8_t *(*vmbus_page_fn)(void *context, uint64_t pfn);

/* Sets up `ring` over `page_count` pages (control page + data pages) given by PFN.
 * False if the count is out of range (2 .. 1 + VMBUS_RING_MAX_DATA_PAGES) or a page is not
 * child RAM. The host's index starts at the one in the control page if that is valid, else
 * false (a ring is opened empty: Linux zeroes it). */
bool vmbus_ring_init(struct vmbus_ring *ring, const uint64_t *pfns, uint32_t page_count,
                     vmbus_page_fn page, void *context, bool inbound);
const char *vmbus_ring_status_name(enum vmbus_ring_status status);

/* Inbound ring (child writes, host reads). Copies the next packet (descriptor and body,
 * no trailer) into `buffer` and advances the private read index. TOO_BIG when the packet
 * is longer than `capacity` (skipped); CORRUPT leaves the index where it was. */
enum vmbus_ring_status vmbus_ring_read(struct vmbus_ring *ring, void *buffer, uint32_t capacity,
                                       uint32_t *length);
/* Publishes the read index; true if the writer asked (pending_send_size) to be signalled
 * once this much space is free and the space just crossed that bound. */
bool vmbus_ring_read_commit(struct vmbus_ring *ring);
void vmbus_ring_read_mask(struct vmbus_ring *ring);
/* Clears interrupt_mask and re-checks: true if packets arrived before the guest could see
 * the mask cleared (the caller drains again instead of waiting for a kick). */
bool vmbus_ring_read_unmask(struct vmbus_ring *ring);

/* Outbound ring (host writes, child reads). Writes one packet: descriptor, `header`
 * (`header_length`, a multiple of 8: the type's fixed part after the descriptor, e.g. the
 * transfer-page ranges), `payload`, zero padding to 8 bytes and the trailer. The payload
 * offset is after the header. Not visible to the child before vmbus_ring_write_commit. */
enum vmbus_ring_status vmbus_ring_write(struct vmbus_ring *ring, uint16_t type, uint16_t flags,
                                        uint64_t transaction_id, const void *header,
                                        uint32_t header_length, const void *payload,
                                        uint32_t payload_length);
/* Publishes what was written; true if the child must be signalled (it had read everything
 * before this batch and its interrupt_mask is clear). */
bool vmbus_ring_write_commit(struct vmbus_ring *ring);
/* True if a writer that got VMBUS_RING_FULL may try again: the space now exceeds what it
 * waited for (pending_send_size is cleared then). */
bool vmbus_ring_write_resumable(struct vmbus_ring *ring);
uint32_t vmbus_ring_bytes_free(const struct vmbus_ring *ring);

/* ---- packets: the parse of a copied packet ------------------------------------------ */

#define VMBUS_PACKET_MAX_RANGES 64u

struct vmbus_gpa_range {
    uint32_t byte_count;
    uint32_t byte_offset; /* into the first page, < 4096 */
    uint32_t pfn_count;   /* ceil((byte_offset + byte_count) / 4096) */
    const uint8_t *pfns;  /* pfn_count u64s inside the packet copy; see vmbus_gpa_range_pfn */
};

struct vmbus_transfer_range {
    uint32_t byte_count;
    uint32_t byte_offset;
};

struct vmbus_packet {
    uint16_t type;
    uint16_t flags;
    uint64_t transaction_id;
    const uint8_t *payload; /* from offset8 * 8 to length8 * 8 (with the sender's padding) */
    uint32_t payload_length;
    uint32_t range_count; /* GPA_DIRECT ranges or TRANSFER_PAGES ranges */
    struct vmbus_gpa_range ranges[VMBUS_PACKET_MAX_RANGES];
    uint16_t transfer_page_set_id;
    struct vmbus_transfer_range transfer_ranges[VMBUS_PACKET_MAX_RANGES];
};

/* Parses a packet copied by vmbus_ring_read (`length` bytes). False with a reason for an
 * unknown type or a descriptor/range that does not fit the packet. */
bool vmbus_packet_parse(const uint8_t *data, uint32_t length, struct vmbus_packet *out,
                        const char **why);
uint64_t vmbus_gpa_range_pfn(const struct vmbus_gpa_range *range, uint32_t i);

#endif
