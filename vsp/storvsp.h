/*
 * storvsp: the synthetic SCSI controller a child's hv_storvsc binds to (Linux
 * drivers/scsi/storvsc_drv.c is the peer; openvmm vm/devices/storage/storvsp the
 * reference host), one controller with one disk at path 0, target 0, LUN 0, on top of a
 * vmbus/ channel and a block back end (vsp/block.h).
 *
 * VSTOR protocol: every request is a vstor_packet {u32 operation, u32 flags, u32 status,
 * 52-byte union} (INBAND, or GPA_DIRECT when an SRB carries data) and gets a COMPLETION
 * packet with the same transaction id holding a whole vstor_packet (operation COMPLETE_IO,
 * an NTSTATUS). Initialization, in the order storvsc sends it: BEGIN_INITIALIZATION,
 * QUERY_PROTOCOL_VERSION (6.2 WIN10, 6.0 WIN8.1, 5.1 WIN8 and 4.2 WIN7 accepted, others
 * STATUS_REVISION_MISMATCH), QUERY_PROPERTIES (no sub-channels, 256 KiB max transfer),
 * END_INITIALIZATION. Below WIN8 the vmscsi_request lacks its 16-byte Windows 8 extension
 * (Linux's vmscsi_size_delta), so packets are 48 bytes and sense 18.
 *
 * EXECUTE_SRB: the CDB runs through vsp/scsi.c; data moves between the child's pages (the
 * GPA_DIRECT range, each PFN resolved through vmbus_channel_page and refused when it is
 * not the child's RAM) and a bounce buffer in root memory that the back end reads or
 * writes, so the child cannot change data under the device. A READ completes after the
 * back end filled the buffer and it was copied out; a WRITE only once the back end
 * reported the write done. A malformed packet gets SRB_STATUS_INVALID_REQUEST or an
 * error NTSTATUS and a log line; it fails that request only.
 *
 * Bounds: at most STORVSP_MAX_REQUESTS requests live per channel (a child that sends more
 * without reading its completions gets its channel closed) and STORVSP_MAX_BYTES_IN_FLIGHT
 * of bounce buffers (beyond that a request is answered BUSY and the child retries).
 */
#ifndef HVFW_VSP_STORVSP_H
#define HVFW_VSP_STORVSP_H

#include <stdbool.h>
#include <stdint.h>

#include "vmbus/channel.h"
#include "vsp/block.h"
#include "vsp/scsi.h"

#define STORVSP_MAX_TRANSFER_BYTES 0x40000u
#define STORVSP_MAX_REQUESTS 1024u
#define STORVSP_MAX_BYTES_IN_FLIGHT (32u << 20)
/* A GPA_DIRECT request: descriptor, range header, 65 PFNs and the 64-byte vstor_packet. */
#define STORVSP_MAX_PACKET 1024u

/* ba6163d9-04a1-4d29-b605-72e2ffb1dc7f in the wire (Microsoft GUID) layout. */
extern const uint8_t storvsp_interface_type[16];

enum storvsp_state {
    STORVSP_CLOSED,
    STORVSP_OPENED,      /* waiting for BEGIN_INITIALIZATION */
    STORVSP_INITIALIZING, /* waiting for an accepted QUERY_PROTOCOL_VERSION */
    STORVSP_VERSIONED,   /* QUERY_PROPERTIES, END_INITIALIZATION */
    STORVSP_READY,       /* SRBs */
};

struct storvsp_stats {
    uint64_t srbs;
    uint64_t reads, writes, flushes;
    uint64_t bytes_read, bytes_written;
    uint64_t check_conditions;
    uint64_t refused;      /* malformed or out-of-state packets */
    uint64_t busy;         /* answered BUSY for lack of buffer space */
    uint64_t media_errors; /* back-end failures */
};

struct storvsp_request;

struct storvsp {
    struct vmbus_device device; /* register with vmbus_connection_add_device */
    struct scsi_disk disk;
    struct block_device *backend;
    struct vmbus_channel *channel; /* while open */
    enum storvsp_state state;
    uint16_t version;
    struct storvsp_request *in_backend;   /* doubly linked */
    struct storvsp_request *unsent_head;  /* completions waiting for ring space, FIFO */
    struct storvsp_request *unsent_tail;
    uint32_t live_requests;
    uint64_t bytes_in_flight;
    uint32_t logged_refusals; /* per open; later ones are counted, not logged */
    struct storvsp_stats stats;
};

/* A controller named `name` (log lines: "storvsp NAME: ...") with instance GUID `instance`
 * over `backend`. `serial` (up to 20 printable characters) identifies the disk to the
 * child (VPD 0x80, and its NAA id is derived from it and the instance). False if the back
 * end has no sectors or no submit. */
bool storvsp_init(struct storvsp *vsp, const char *name, const uint8_t instance[16],
                  const char *serial, struct block_device *backend);
/* After the channel is gone (vmbus_connection_destroy or rescind): requests the back end
 * still holds are disowned and free themselves when it completes them. */
void storvsp_destroy(struct storvsp *vsp);

#endif
