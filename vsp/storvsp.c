#include "vsp/storvsp.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "vmbus/connection.h"

const uint8_t storvsp_interface_type[16] = { 0xd9, 0x63, 0x61, 0xba, 0xa1, 0x04, 0x29, 0x4d,
                                             0xb6, 0x05, 0x72, 0xe2, 0xff, 0xb1, 0xdc, 0x7f };

/* ---- wire format (Linux storvsc_drv.c; offsets checked below) ------------------------- */

enum {
    VSTOR_COMPLETE_IO = 1,
    VSTOR_REMOVE_DEVICE = 2,
    VSTOR_EXECUTE_SRB = 3,
    VSTOR_RESET_LUN = 4,
    VSTOR_RESET_ADAPTER = 5,
    VSTOR_RESET_BUS = 6,
    VSTOR_BEGIN_INITIALIZATION = 7,
    VSTOR_END_INITIALIZATION = 8,
    VSTOR_QUERY_PROTOCOL_VERSION = 9,
    VSTOR_QUERY_PROPERTIES = 10,
    VSTOR_ENUMERATE_BUS = 11,
    VSTOR_FCHBA_DATA = 12,
    VSTOR_CREATE_SUB_CHANNELS = 13,
};

#define VSTOR_VERSION_WIN7 0x0402u
#define VSTOR_VERSION_WIN8 0x0501u
#define VSTOR_VERSION_WIN8_1 0x0600u
#define VSTOR_VERSION_WIN10 0x0602u

/* NTSTATUS values (MS-ERREF 2.3.1). */
#define STATUS_SUCCESS 0x00000000u
#define STATUS_INVALID_PARAMETER 0xC000000Du
#define STATUS_NOT_SUPPORTED 0xC00000BBu
#define STATUS_REVISION_MISMATCH 0xC0000059u
#define STATUS_INVALID_DEVICE_STATE 0xC0000184u

/* SRB status (Windows srb.h, as storvsc reads it). */
#define SRB_STATUS_SUCCESS 0x01u
#define SRB_STATUS_BUSY 0x05u
#define SRB_STATUS_ERROR 0x04u
#define SRB_STATUS_INVALID_REQUEST 0x06u
#define SRB_STATUS_AUTOSENSE_VALID 0x80u

#define SRB_DATA_WRITE 0u
#define SRB_DATA_READ 1u
#define SRB_DATA_NONE 2u

struct vmscsi_request {
    uint16_t length;
    uint8_t srb_status;
    uint8_t scsi_status;
    uint8_t port;
    uint8_t path_id;
    uint8_t target_id;
    uint8_t lun;
    uint8_t cdb_length;
    uint8_t sense_info_length;
    uint8_t data_in;
    uint8_t reserved;
    uint32_t data_transfer_length;
    uint8_t cdb_or_sense[20];
    /* The Windows 8 extension: absent below VSTOR_VERSION_WIN8. */
    uint16_t reserve;
    uint8_t queue_tag;
    uint8_t queue_action;
    uint32_t srb_flags;
    uint32_t time_out_value;
    uint32_t queue_sort_key;
} __attribute__((packed));

struct vstor_properties {
    uint32_t reserved;
    uint16_t max_channel_count;
    uint16_t reserved1;
    uint32_t flags;
    uint32_t max_transfer_bytes;
    uint64_t reserved2;
} __attribute__((packed));

struct vstor_packet {
    uint32_t operation;
    uint32_t flags;
    uint32_t status;
    union {
        struct vmscsi_request srb;
        struct vstor_properties properties;
        struct {
            uint16_t major_minor;
            uint16_t revision;
        } version;
        uint8_t buffer[52];
    };
} __attribute__((packed));

#define SIZE_DELTA 16u /* sizeof the Windows 8 extension */
#define PACKET_SIZE ((uint32_t)sizeof(struct vstor_packet))
#define PACKET_SIZE_WIN7 (PACKET_SIZE - SIZE_DELTA)

_Static_assert(sizeof(struct vmscsi_request) == 52, "vmscsi_request");
_Static_assert(offsetof(struct vmscsi_request, data_transfer_length) == 12, "srb length");
_Static_assert(offsetof(struct vmscsi_request, cdb_or_sense) == 16, "srb cdb");
_Static_assert(offsetof(struct vmscsi_request, srb_flags) == 40, "srb flags");
_Static_assert(sizeof(struct vstor_packet) == 64, "vstor_packet");
_Static_assert(offsetof(struct vstor_packet, srb) == 12, "vstor union");
_Static_assert(offsetof(struct vstor_properties, max_transfer_bytes) == 12, "properties");

/* PFNs of the largest transfer at any offset into its first page. */
#define MAX_PFNS (STORVSP_MAX_TRANSFER_BYTES / VMBUS_PAGE_SIZE + 1)

struct storvsp_request {
    struct storvsp *vsp; /* NULL once disowned (the channel closed under the back end) */
    struct storvsp_request *prev, *next; /* vsp->in_backend, or next in the unsent FIFO */
    uint64_t transaction_id;
    uint32_t reply_size;
    struct vstor_packet reply;
    uint8_t sense_limit;
    /* the SRB's data buffer in the child */
    uint32_t transfer_length;
    uint32_t byte_offset;
    uint32_t pfn_count;
    uint64_t pfns[MAX_PFNS];
    /* the back end's part */
    struct block_request block;
    uint8_t *bounce;
    uint32_t bounce_length;
    bool flush_after; /* FUA write: a FLUSH follows before completion */
};

/* ---- logging -------------------------------------------------------------------------- */

#define REFUSALS_LOGGED 16u

static void refuse_log(struct storvsp *vsp, const char *what, uint64_t transaction_id)
{
    vsp->stats.refused++;
    if (!vsp->channel || vsp->logged_refusals >= REFUSALS_LOGGED)
        return;
    vsp->logged_refusals++;
    vmbus_connection_log(vsp->channel->connection, "warn",
                         "storvsp %s: request 0x%llx refused: %s%s", vsp->device.name,
                         (unsigned long long)transaction_id, what,
                         vsp->logged_refusals == REFUSALS_LOGGED ? " (further ones not logged)"
                                                                  : "");
}

/* ---- requests and their completions --------------------------------------------------- */

static void request_free(struct storvsp_request *r)
{
    free(r->bounce);
    free(r);
}

static void unsent_push(struct storvsp *vsp, struct storvsp_request *r, bool front)
{
    r->next = NULL;
    if (!vsp->unsent_head) {
        vsp->unsent_head = vsp->unsent_tail = r;
    } else if (front) {
        r->next = vsp->unsent_head;
        vsp->unsent_head = r;
    } else {
        vsp->unsent_tail->next = r;
        vsp->unsent_tail = r;
    }
}

/* Sends the completion of `r` (or queues it while the child's ring is full) and releases
 * what it held. */
static void request_finish(struct storvsp *vsp, struct storvsp_request *r)
{
    vsp->bytes_in_flight -= r->bounce_length;
    free(r->bounce);
    r->bounce = NULL;
    r->bounce_length = 0;
    if (vsp->unsent_head) { /* keep completions in order behind those already waiting */
        unsent_push(vsp, r, false);
        return;
    }
    enum vmbus_ring_status s = vmbus_channel_send(vsp->channel, VMBUS_PACKET_COMPLETION, 0,
                                                  r->transaction_id, NULL, 0, &r->reply,
                                                  r->reply_size);
    if (s == VMBUS_RING_FULL) {
        unsent_push(vsp, r, false);
        return;
    }
    /* OK, or the channel closed under the send: its on_close already ran and dropped the
     * count with every other request. */
    if (vsp->channel)
        vsp->live_requests--;
    request_free(r);
}

static void backend_link(struct storvsp *vsp, struct storvsp_request *r)
{
    r->prev = NULL;
    r->next = vsp->in_backend;
    if (vsp->in_backend)
        vsp->in_backend->prev = r;
    vsp->in_backend = r;
}

static void backend_unlink(struct storvsp *vsp, struct storvsp_request *r)
{
    if (r->prev)
        r->prev->next = r->next;
    else
        vsp->in_backend = r->next;
    if (r->next)
        r->next->prev = r->prev;
    r->prev = r->next = NULL;
}

/* Completions are a whole vstor_packet of the agreed version; before the version is known
 * the full 64 bytes, which Linux 6.1 requires (storvsc_on_channel_callback drops shorter
 * ones) and older guests, which copy only their 48, accept. */
static uint32_t reply_size_for(const struct storvsp *vsp)
{
    if (vsp->version && vsp->version < VSTOR_VERSION_WIN8)
        return PACKET_SIZE_WIN7;
    return PACKET_SIZE;
}

/* A request object for one packet; NULL (and the channel closed) past the bound. */
static struct storvsp_request *request_new(struct storvsp *vsp, const struct vmbus_packet *p)
{
    if (vsp->live_requests >= STORVSP_MAX_REQUESTS) {
        vmbus_channel_close(vsp->channel, "storvsp: child exceeded the outstanding-request bound");
        return NULL;
    }
    struct storvsp_request *r = calloc(1, sizeof(*r));
    if (!r) {
        vmbus_channel_close(vsp->channel, "storvsp: out of memory for a request");
        return NULL;
    }
    r->vsp = vsp;
    r->transaction_id = p->transaction_id;
    r->reply_size = reply_size_for(vsp);
    r->reply.operation = VSTOR_COMPLETE_IO;
    vsp->live_requests++;
    return r;
}

static void complete_status(struct storvsp *vsp, struct storvsp_request *r, uint32_t status)
{
    r->reply.status = status;
    request_finish(vsp, r);
}

/* The SRB's outcome into the reply: SCSI status, SRB status, bytes moved, autosense. */
static void complete_srb(struct storvsp *vsp, struct storvsp_request *r,
                         const struct scsi_outcome *o, uint8_t srb_status, uint32_t moved)
{
    struct vmscsi_request *srb = &r->reply.srb;
    srb->scsi_status = o->status;
    srb->data_transfer_length = moved;
    srb->sense_info_length = 0;
    if (o->status == SCSI_STATUS_CHECK_CONDITION) {
        vsp->stats.check_conditions++;
        uint32_t n = o->sense_length < r->sense_limit ? o->sense_length : r->sense_limit;
        memset(srb->cdb_or_sense, 0, sizeof(srb->cdb_or_sense));
        memcpy(srb->cdb_or_sense, o->sense, n);
        srb->sense_info_length = (uint8_t)n;
        srb_status |= SRB_STATUS_AUTOSENSE_VALID;
    }
    srb->srb_status = srb_status;
    complete_status(vsp, r, STATUS_SUCCESS);
}

static void complete_invalid(struct storvsp *vsp, struct storvsp_request *r, const char *why)
{
    refuse_log(vsp, why, r->transaction_id);
    r->reply.srb.srb_status = SRB_STATUS_INVALID_REQUEST;
    r->reply.srb.scsi_status = 0;
    r->reply.srb.data_transfer_length = 0;
    r->reply.srb.sense_info_length = 0;
    complete_status(vsp, r, STATUS_INVALID_PARAMETER);
}

/* ---- the child's data buffer ---------------------------------------------------------- */

/* Copies between the bounce buffer and the child's pages: `to_child` for a read. False if
 * a page stopped being the child's RAM. */
static bool copy_child(struct storvsp *vsp, struct storvsp_request *r, uint8_t *buffer,
                       uint32_t length, bool to_child)
{
    uint32_t done = 0, offset = r->byte_offset;
    for (uint32_t i = 0; done < length; i++) {
        uint8_t *page = vmbus_channel_page(vsp->channel, r->pfns[i]);
        if (!page)
            return false;
        uint32_t n = VMBUS_PAGE_SIZE - offset;
        if (n > length - done)
            n = length - done;
        if (to_child)
            memcpy(page + offset, buffer + done, n);
        else
            memcpy(buffer + done, page + offset, n);
        done += n;
        offset = 0;
    }
    return true;
}

/* ---- back-end completions ------------------------------------------------------------- */

static void block_done(struct block_request *block, bool ok)
{
    struct storvsp_request *r = block->owner;
    struct storvsp *vsp = r->vsp;
    if (!vsp) { /* disowned: the channel closed while the back end had it */
        request_free(r);
        return;
    }
    backend_unlink(vsp, r);
    if (ok && r->flush_after) {
        /* FUA (SBC-4 5.40): the write reaches stable media before it completes. */
        r->flush_after = false;
        r->block.operation = BLOCK_FLUSH;
        backend_link(vsp, r);
        vsp->backend->submit(vsp->backend, &r->block);
        return;
    }
    struct scsi_outcome o = { .status = SCSI_STATUS_GOOD };
    uint32_t moved = 0;
    if (ok && block->operation == BLOCK_READ) {
        moved = r->bounce_length;
        if (!copy_child(vsp, r, r->bounce, moved, true)) {
            complete_invalid(vsp, r, "data page no longer the child's RAM");
            return;
        }
        vsp->stats.bytes_read += moved;
    } else if (ok && r->bounce_length) {
        moved = r->bounce_length;
        vsp->stats.bytes_written += moved;
    }
    if (!ok) {
        vsp->stats.media_errors++;
        bool read = block->operation == BLOCK_READ;
        scsi_check_condition(&o, SCSI_SENSE_MEDIUM_ERROR,
                             read ? SCSI_ASC_UNRECOVERED_READ_ERROR : SCSI_ASC_WRITE_ERROR, 0);
        vmbus_connection_log(vsp->channel->connection, "warn",
                             "storvsp %s: back end failed a %s at sector %llu",
                             vsp->device.name, read ? "read" : "write or flush",
                             (unsigned long long)block->sector);
        moved = 0;
    }
    complete_srb(vsp, r, &o, ok ? SRB_STATUS_SUCCESS : SRB_STATUS_ERROR, moved);
}

static void submit(struct storvsp *vsp, struct storvsp_request *r, enum block_operation op,
                   uint64_t sector, uint32_t sectors)
{
    r->block = (struct block_request){
        .operation = op,
        .sector = sector,
        .sector_count = sectors,
        .buffer = r->bounce,
        .done = block_done,
        .owner = r,
    };
    backend_link(vsp, r);
    vsp->backend->submit(vsp->backend, &r->block);
}

/* ---- EXECUTE_SRB ------------------------------------------------------------------------ */

/* The data buffer: none for INBAND, one range for GPA_DIRECT (storvsc sends exactly one
 * gap-free range), every page the transfer touches checked to be the child's RAM. */
static const char *take_buffer(struct storvsp *vsp, struct storvsp_request *r,
                               const struct vmbus_packet *p, const struct vmscsi_request *srb)
{
    r->transfer_length = srb->data_transfer_length;
    if (p->type == VMBUS_PACKET_INBAND)
        return r->transfer_length ? "data length without a data buffer" : NULL;
    if (p->range_count != 1)
        return "data buffer is not one GPA range";
    const struct vmbus_gpa_range *range = &p->ranges[0];
    if (srb->data_in > SRB_DATA_READ)
        return "data buffer on an SRB without a data direction";
    if (r->transfer_length > STORVSP_MAX_TRANSFER_BYTES)
        return "transfer longer than the advertised maximum";
    if (r->transfer_length > range->byte_count)
        return "transfer longer than its GPA range";
    r->byte_offset = range->byte_offset;
    r->pfn_count = (range->byte_offset + r->transfer_length + VMBUS_PAGE_SIZE - 1) /
                   VMBUS_PAGE_SIZE;
    for (uint32_t i = 0; i < r->pfn_count; i++) {
        r->pfns[i] = vmbus_gpa_range_pfn(range, i);
        if (!vmbus_channel_page(vsp->channel, r->pfns[i]))
            return "data page outside the child's RAM";
    }
    return NULL;
}

static void execute_srb(struct storvsp *vsp, struct storvsp_request *r,
                        const struct vmbus_packet *p)
{
    struct vmscsi_request *srb = &r->reply.srb;
    vsp->stats.srbs++;
    if (vsp->state != STORVSP_READY) {
        complete_invalid(vsp, r, "SRB before END_INITIALIZATION");
        return;
    }
    uint32_t srb_size = r->reply_size - 12;
    memcpy(srb, p->payload + 12, srb_size);
    r->sense_limit = r->reply_size == PACKET_SIZE ? 20 : 18;
    if (srb->cdb_length == 0 || srb->cdb_length > SCSI_CDB_MAX) {
        complete_invalid(vsp, r, "CDB length outside 1..16");
        return;
    }
    if (srb->data_in > SRB_DATA_NONE) {
        complete_invalid(vsp, r, "unknown data direction");
        return;
    }
    const char *why = take_buffer(vsp, r, p, srb);
    if (why) {
        complete_invalid(vsp, r, why);
        return;
    }
    uint8_t cdb[SCSI_CDB_MAX];
    memcpy(cdb, srb->cdb_or_sense, srb->cdb_length);
    uint32_t data_room = srb->data_in == SRB_DATA_NONE ? 0 : r->transfer_length;
    uint8_t data[SCSI_DATA_MAX];
    struct scsi_outcome o;
    bool present = srb->path_id == 0 && srb->target_id == 0 && srb->lun == 0;
    /* REPORT LUNS to any LUN of target 0 lists LUN 0 (SPC-4 6.33: the target answers it). */
    bool our_target = srb->path_id == 0 && srb->target_id == 0;
    if (present || (our_target && cdb[0] == 0xA0))
        scsi_execute(&vsp->disk, cdb, srb->cdb_length, data_room, data, &o);
    else
        scsi_execute_absent(cdb, srb->cdb_length, data, &o);

    if (o.action == SCSI_ACTION_COMPLETE) {
        uint32_t moved = 0;
        if (o.status == SCSI_STATUS_GOOD && srb->data_in == SRB_DATA_READ) {
            moved = o.data_length < r->transfer_length ? o.data_length : r->transfer_length;
            if (!copy_child(vsp, r, data, moved, true)) {
                complete_invalid(vsp, r, "data page outside the child's RAM");
                return;
            }
        }
        /* An absent LUN's failure is SRB_STATUS_ERROR with the sense (LOGICAL UNIT NOT
         * SUPPORTED), never SRB_STATUS_INVALID_LUN: Linux storvsc (6.1 storvsc_handle_error)
         * answers INVALID_LUN by removing the device at channel 0 with the SRB's target and
         * LUN whatever the SRB's path was, so its scan of path 3 target 0 LUN 0 would remove
         * our disk at 0:0:0:0 (seen as a scan that never ended and no sda). */
        uint8_t srb_status =
            o.status == SCSI_STATUS_GOOD ? SRB_STATUS_SUCCESS : SRB_STATUS_ERROR;
        complete_srb(vsp, r, &o, srb_status, moved);
        return;
    }
    if (o.action == SCSI_ACTION_FLUSH) {
        vsp->stats.flushes++;
        submit(vsp, r, BLOCK_FLUSH, 0, 0);
        return;
    }
    bool write = o.action == SCSI_ACTION_WRITE;
    if (srb->data_in != (write ? SRB_DATA_WRITE : SRB_DATA_READ)) {
        complete_invalid(vsp, r, "data direction does not match the command");
        return;
    }
    uint32_t bytes = o.sectors * BLOCK_SECTOR_SIZE;
    if (vsp->bytes_in_flight + bytes > STORVSP_MAX_BYTES_IN_FLIGHT ||
        !(r->bounce = malloc(bytes))) {
        /* BUSY with SRB_STATUS_BUSY: storvsc leaves the host byte alone and the SCSI
         * midlayer requeues on BUSY status. */
        vsp->stats.busy++;
        struct scsi_outcome busy = { .status = SCSI_STATUS_BUSY };
        complete_srb(vsp, r, &busy, SRB_STATUS_BUSY, 0);
        return;
    }
    r->bounce_length = bytes;
    vsp->bytes_in_flight += bytes;
    if (write) {
        if (!copy_child(vsp, r, r->bounce, bytes, false)) {
            complete_invalid(vsp, r, "data page outside the child's RAM");
            return;
        }
        vsp->stats.writes++;
        r->flush_after = o.force_unit_access;
    } else {
        vsp->stats.reads++;
    }
    submit(vsp, r, write ? BLOCK_WRITE : BLOCK_READ, o.lba, o.sectors);
}

/* ---- the VSTOR control operations ------------------------------------------------------ */

static void control(struct storvsp *vsp, struct storvsp_request *r, const struct vstor_packet *in)
{
    switch (in->operation) {
    case VSTOR_BEGIN_INITIALIZATION:
        if (vsp->state != STORVSP_OPENED)
            break;
        vsp->state = STORVSP_INITIALIZING;
        complete_status(vsp, r, STATUS_SUCCESS);
        return;
    case VSTOR_QUERY_PROTOCOL_VERSION: {
        if (vsp->state != STORVSP_INITIALIZING)
            break;
        uint16_t v = in->version.major_minor;
        r->reply.version.major_minor = v;
        r->reply.version.revision = in->version.revision;
        if (v != VSTOR_VERSION_WIN10 && v != VSTOR_VERSION_WIN8_1 && v != VSTOR_VERSION_WIN8 &&
            v != VSTOR_VERSION_WIN7) {
            /* Refused versions are expected: storvsc walks down its list. */
            complete_status(vsp, r, STATUS_REVISION_MISMATCH);
            return;
        }
        vsp->version = v;
        vsp->state = STORVSP_VERSIONED;
        r->reply_size = reply_size_for(vsp);
        complete_status(vsp, r, STATUS_SUCCESS);
        return;
    }
    case VSTOR_QUERY_PROPERTIES:
        if (vsp->state != STORVSP_VERSIONED)
            break;
        /* No sub-channels (flags bit 0 clear, count 0); the transfer limit must not be
         * zero, storvsc derives max_sectors and its scatter-gather size from it. */
        memset(&r->reply.properties, 0, sizeof(r->reply.properties));
        r->reply.properties.max_transfer_bytes = STORVSP_MAX_TRANSFER_BYTES;
        complete_status(vsp, r, STATUS_SUCCESS);
        return;
    case VSTOR_END_INITIALIZATION:
        if (vsp->state != STORVSP_VERSIONED)
            break;
        vsp->state = STORVSP_READY;
        vmbus_connection_log(vsp->channel->connection, "info",
                             "storvsp %s: ready, protocol %u.%u, %llu sectors",
                             vsp->device.name, vsp->version >> 8, vsp->version & 0xFF,
                             (unsigned long long)vsp->disk.sector_count);
        complete_status(vsp, r, STATUS_SUCCESS);
        return;
    case VSTOR_RESET_LUN:
    case VSTOR_RESET_ADAPTER:
    case VSTOR_RESET_BUS:
        /* Nothing to abort: every request completes on its own. */
        if (vsp->state != STORVSP_READY)
            break;
        complete_status(vsp, r, STATUS_SUCCESS);
        return;
    default:
        /* CREATE_SUB_CHANNELS (none offered), FCHBA_DATA (not Fibre Channel), host-only
         * operations and unknown ones. */
        refuse_log(vsp, "operation not supported", r->transaction_id);
        complete_status(vsp, r, STATUS_NOT_SUPPORTED);
        return;
    }
    refuse_log(vsp, "operation out of the initialization order", r->transaction_id);
    complete_status(vsp, r, STATUS_INVALID_DEVICE_STATE);
}

/* ---- vmbus device ops ------------------------------------------------------------------ */

static void on_packet(struct vmbus_channel *channel, const struct vmbus_packet *p)
{
    struct storvsp *vsp = channel->device->context;
    struct storvsp_request *r = request_new(vsp, p);
    if (!r)
        return;
    if (p->type != VMBUS_PACKET_INBAND && p->type != VMBUS_PACKET_GPA_DIRECT) {
        refuse_log(vsp, "packet type is neither INBAND nor GPA_DIRECT", r->transaction_id);
        complete_status(vsp, r, STATUS_INVALID_PARAMETER);
        return;
    }
    /* The payload is at least the vstor_packet of the version (the 48-byte pre-WIN8 size
     * before the version is known); anything shorter is refused without being read. */
    uint32_t need = vsp->version ? reply_size_for(vsp) : PACKET_SIZE_WIN7;
    if (p->payload_length < need) {
        refuse_log(vsp, "vstor_packet truncated", r->transaction_id);
        r->reply.srb.srb_status = SRB_STATUS_INVALID_REQUEST;
        complete_status(vsp, r, STATUS_INVALID_PARAMETER);
        return;
    }
    struct vstor_packet in;
    memset(&in, 0, sizeof(in));
    memcpy(&in, p->payload, need);
    if (in.operation == VSTOR_EXECUTE_SRB)
        execute_srb(vsp, r, p);
    else if (p->type == VMBUS_PACKET_GPA_DIRECT)
        complete_invalid(vsp, r, "data buffer on a control operation");
    else
        control(vsp, r, &in);
}

static bool on_open(struct vmbus_channel *channel, const uint8_t *user_data)
{
    (void)user_data; /* storvsc's channel properties: all zero, nothing to take */
    struct storvsp *vsp = channel->device->context;
    vsp->channel = channel;
    vsp->state = STORVSP_OPENED;
    vsp->version = 0;
    vsp->logged_refusals = 0;
    return true;
}

static void on_writable(struct vmbus_channel *channel)
{
    struct storvsp *vsp = channel->device->context;
    while (vsp->unsent_head && vsp->channel) {
        struct storvsp_request *r = vsp->unsent_head;
        vsp->unsent_head = r->next;
        if (!vsp->unsent_head)
            vsp->unsent_tail = NULL;
        enum vmbus_ring_status s = vmbus_channel_send(channel, VMBUS_PACKET_COMPLETION, 0,
                                                      r->transaction_id, NULL, 0, &r->reply,
                                                      r->reply_size);
        if (s == VMBUS_RING_FULL) {
            unsent_push(vsp, r, true);
            return;
        }
        if (vsp->channel) /* else closed under the send, counts already dropped */
            vsp->live_requests--;
        request_free(r);
    }
}

/* Disowns what the back end holds and drops unsent completions. */
static void drop_requests(struct storvsp *vsp)
{
    while (vsp->in_backend) {
        struct storvsp_request *r = vsp->in_backend;
        backend_unlink(vsp, r);
        vsp->bytes_in_flight -= r->bounce_length;
        r->vsp = NULL;
    }
    while (vsp->unsent_head) {
        struct storvsp_request *r = vsp->unsent_head;
        vsp->unsent_head = r->next;
        request_free(r);
    }
    vsp->unsent_tail = NULL;
    vsp->live_requests = 0;
    vsp->bytes_in_flight = 0;
}

static void on_close(struct vmbus_channel *channel)
{
    struct storvsp *vsp = channel->device->context;
    drop_requests(vsp);
    vsp->channel = NULL;
    vsp->state = STORVSP_CLOSED;
    vsp->version = 0;
}

static const struct vmbus_device_ops storvsp_ops = { on_open, on_packet, on_writable,
                                                     on_close };

/* ---- setup ----------------------------------------------------------------------------- */

bool storvsp_init(struct storvsp *vsp, const char *name, const uint8_t instance[16],
                  const char *serial, struct block_device *backend)
{
    memset(vsp, 0, sizeof(*vsp));
    if (!backend || backend->sector_count == 0 || !backend->submit)
        return false;
    vsp->backend = backend;
    vsp->device.name = name;
    memcpy(vsp->device.interface_type, storvsp_interface_type, 16);
    memcpy(vsp->device.interface_instance, instance, 16);
    vsp->device.max_packet_size = STORVSP_MAX_PACKET;
    vsp->device.ops = &storvsp_ops;
    vsp->device.context = vsp;
    vsp->disk.sector_count = backend->sector_count;
    vsp->disk.read_only = backend->read_only;
    vsp->disk.max_transfer_bytes = STORVSP_MAX_TRANSFER_BYTES;
    size_t n = 0;
    for (; serial && serial[n] && n < sizeof(vsp->disk.serial) - 1; n++)
        vsp->disk.serial[n] = serial[n] >= 0x20 && serial[n] < 0x7F ? serial[n] : '_';
    /* A stable NAA identifier: FNV-1a over the instance GUID and the serial, so the child
     * sees the same disk id on every boot (its udev by-id links depend on it). */
    uint64_t h = 0xcbf29ce484222325ull;
    for (int i = 0; i < 16; i++)
        h = (h ^ instance[i]) * 0x100000001b3ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (uint8_t)vsp->disk.serial[i]) * 0x100000001b3ull;
    for (int i = 0; i < 8; i++)
        vsp->disk.naa[i] = (uint8_t)(h >> (56 - 8 * i));
    return true;
}

void storvsp_destroy(struct storvsp *vsp)
{
    drop_requests(vsp);
    vsp->channel = NULL;
    vsp->state = STORVSP_CLOSED;
}
