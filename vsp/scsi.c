#include "vsp/scsi.h"

#include <string.h>

#include "vsp/block.h"

/* ---- big-endian fields (SCSI is big-endian throughout, SPC-4 3.5) -------------------- */

static uint32_t be16(const uint8_t *p)
{
    return (uint32_t)p[0] << 8 | p[1];
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint64_t be64(const uint8_t *p)
{
    return (uint64_t)be32(p) << 32 | be32(p + 4);
}

static void put16(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
    put16(p, v >> 16);
    put16(p + 2, v);
}

static void put64(uint8_t *p, uint64_t v)
{
    put32(p, (uint32_t)(v >> 32));
    put32(p + 4, (uint32_t)v);
}

/* ---- outcomes ------------------------------------------------------------------------- */

void scsi_check_condition(struct scsi_outcome *out, uint8_t key, uint8_t asc, uint8_t ascq)
{
    out->action = SCSI_ACTION_COMPLETE;
    out->status = SCSI_STATUS_CHECK_CONDITION;
    out->data_length = 0;
    /* Fixed format, current error (SPC-4 4.5.3): the ADDITIONAL SENSE LENGTH covers the
     * bytes up to the sense-key-specific field. */
    memset(out->sense, 0, sizeof(out->sense));
    out->sense[0] = 0x70;
    out->sense[2] = key & 0x0F;
    out->sense[7] = SCSI_SENSE_MAX - 8;
    out->sense[12] = asc;
    out->sense[13] = ascq;
    out->sense_length = SCSI_SENSE_MAX;
}

static void invalid_field(struct scsi_outcome *out)
{
    scsi_check_condition(out, SCSI_SENSE_ILLEGAL_REQUEST, SCSI_ASC_INVALID_FIELD_IN_CDB, 0);
}

/* GOOD with `length` bytes of data-in, cut to the CDB's allocation length. */
static void good(struct scsi_outcome *out, uint32_t length, uint32_t allocation)
{
    out->action = SCSI_ACTION_COMPLETE;
    out->status = SCSI_STATUS_GOOD;
    out->data_length = length < allocation ? length : allocation;
    out->sense_length = 0;
}

/* CDB length by group code (SPC-4 4.2.5.1); 0 for the reserved and vendor groups. */
static uint32_t cdb_length_of(uint8_t opcode)
{
    static const uint8_t by_group[8] = { 6, 10, 10, 0, 16, 12, 0, 0 };
    return by_group[opcode >> 5];
}

/* ---- INQUIRY (SPC-4 6.6) --------------------------------------------------------------- */

static const uint8_t vpd_pages[] = { 0x00, 0x80, 0x83, 0xB0, 0xB1, 0xB2 };

static uint32_t standard_inquiry(uint8_t *d, uint8_t peripheral)
{
    memset(d, 0, 36);
    d[0] = peripheral;
    d[2] = 0x06; /* SPC-4 */
    d[3] = 0x12; /* HISUP, response data format 2 */
    d[4] = 36 - 5;
    d[7] = 0x02; /* CMDQUE: tagged commands, what storvsc's queue depth assumes */
    /* Not "Msft": Linux storvsc then enables WRITE SAME on a WIN10 host, which we lack. */
    memcpy(d + 8, "hvfw    ", 8);
    memcpy(d + 16, "Virtual Disk    ", 16);
    memcpy(d + 32, "1.0 ", 4);
    return 36;
}

/* Bytes of VPD page `page`, or 0 if it is not supported. */
static uint32_t vpd_page(const struct scsi_disk *disk, uint8_t page, uint8_t *d)
{
    memset(d, 0, 64);
    d[1] = page;
    switch (page) {
    case 0x00: /* supported pages, ascending */
        d[3] = sizeof(vpd_pages);
        memcpy(d + 4, vpd_pages, sizeof(vpd_pages));
        return 4 + sizeof(vpd_pages);
    case 0x80: { /* unit serial number */
        size_t n = strnlen(disk->serial, sizeof(disk->serial) - 1);
        d[3] = (uint8_t)n;
        memcpy(d + 4, disk->serial, n);
        return 4 + (uint32_t)n;
    }
    case 0x83: /* device identification: one NAA IEEE Registered designator (SPC-4 7.8.6.6) */
        d[3] = 12;
        d[4] = 0x01; /* code set: binary */
        d[5] = 0x03; /* association: logical unit; designator type: NAA */
        d[7] = 8;
        memcpy(d + 8, disk->naa, 8);
        d[8] = (uint8_t)(0x50 | (d[8] & 0x0F)); /* NAA 5 */
        return 16;
    case 0xB0: { /* block limits (SBC-4 6.6.4): no UNMAP, no WRITE SAME, no COMPARE AND WRITE */
        uint32_t blocks = disk->max_transfer_bytes / BLOCK_SECTOR_SIZE;
        d[3] = 0x3C;
        put32(d + 8, blocks);  /* MAXIMUM TRANSFER LENGTH */
        put32(d + 12, blocks); /* OPTIMAL TRANSFER LENGTH */
        return 64;
    }
    case 0xB1: /* block device characteristics (SBC-4 6.6.2) */
        d[3] = 0x3C;
        put16(d + 4, 1); /* MEDIUM ROTATION RATE: non-rotating medium */
        return 64;
    case 0xB2: /* logical block provisioning (SBC-4 6.6.5): fully provisioned, no unmap */
        d[3] = 4;
        return 8;
    default:
        return 0;
    }
}

static void inquiry(const struct scsi_disk *disk, const uint8_t *cdb, uint8_t *data,
                    struct scsi_outcome *out)
{
    uint32_t allocation = be16(cdb + 3);
    bool evpd = cdb[1] & 0x01;
    /* CMDDT (obsolete) and the reserved bits; a page code without EVPD. */
    if ((cdb[1] & 0xFE) || (!evpd && cdb[2] != 0)) {
        invalid_field(out);
        return;
    }
    if (!evpd) {
        good(out, standard_inquiry(data, 0x00), allocation);
        return;
    }
    uint32_t n = vpd_page(disk, cdb[2], data);
    if (n == 0) {
        invalid_field(out);
        return;
    }
    good(out, n, allocation);
}

/* ---- MODE SENSE (SPC-4 6.11, 6.12; pages SBC-4 6.5.5 caching, SPC-4 7.5.8 control) ---- */

/* Appends page `code` (current values, or the changeable mask when `changeable`). */
static uint32_t mode_page(uint8_t code, bool changeable, uint8_t *d)
{
    if (code == 0x08) {
        memset(d, 0, 20);
        d[0] = 0x08;
        d[1] = 0x12;
        if (!changeable)
            d[2] = 0x04; /* WCE: a volatile write cache, flushed by SYNCHRONIZE CACHE */
        return 20;
    }
    memset(d, 0, 12);
    d[0] = 0x0A;
    d[1] = 0x0A;
    if (!changeable)
        d[3] = 0x10; /* QUEUE ALGORITHM MODIFIER 1: unrestricted reordering */
    return 12;
}

static void mode_sense(const struct scsi_disk *disk, const uint8_t *cdb, bool ten,
                       uint8_t *data, struct scsi_outcome *out)
{
    uint8_t reserved = ten ? (uint8_t)~0x18 : (uint8_t)~0x08;
    bool dbd = cdb[1] & 0x08, llbaa = ten && (cdb[1] & 0x10);
    uint8_t control = cdb[2] >> 6, page = cdb[2] & 0x3F, subpage = cdb[3];
    uint32_t allocation = ten ? be16(cdb + 7) : cdb[4];
    if (cdb[1] & reserved) {
        invalid_field(out);
        return;
    }
    if (control == 3) {
        scsi_check_condition(out, SCSI_SENSE_ILLEGAL_REQUEST, SCSI_ASC_SAVING_NOT_SUPPORTED, 0);
        return;
    }
    bool all = page == 0x3F;
    if ((page != 0x08 && page != 0x0A && !all) || (subpage != 0 && !(all && subpage == 0xFF))) {
        invalid_field(out);
        return;
    }
    uint32_t header = ten ? 8 : 4, at = header;
    uint32_t descriptor = dbd ? 0 : (llbaa ? 16 : 8);
    memset(data, 0, header + descriptor);
    if (descriptor == 8) {
        uint64_t n = disk->sector_count;
        put32(data + at, n > 0xFFFFFFFFu ? 0xFFFFFFFFu : (uint32_t)n);
        put32(data + at + 4, BLOCK_SECTOR_SIZE); /* byte 4 reserved, 5-7 length */
    } else if (descriptor == 16) {
        put64(data + at, disk->sector_count);
        put32(data + at + 12, BLOCK_SECTOR_SIZE);
    }
    at += descriptor;
    if (page == 0x08 || all)
        at += mode_page(0x08, control == 1, data + at);
    if (page == 0x0A || all)
        at += mode_page(0x0A, control == 1, data + at);
    /* Device-specific parameter (SBC-4 6.5.2): WP, and DPOFUA (FUA writes are honoured). */
    uint8_t specific = (uint8_t)((disk->read_only ? 0x80 : 0) | 0x10);
    if (ten) {
        put16(data, at - 2);
        data[3] = specific;
        data[4] = llbaa ? 1 : 0;
        put16(data + 6, descriptor);
    } else {
        data[0] = (uint8_t)(at - 1);
        data[2] = specific;
        data[3] = (uint8_t)descriptor;
    }
    good(out, at, allocation);
}

/* ---- media commands (SBC-4 5.x) -------------------------------------------------------- */

static bool lba_in_range(const struct scsi_disk *disk, uint64_t lba, uint64_t blocks)
{
    return lba <= disk->sector_count && blocks <= disk->sector_count - lba;
}

static void read_write(const struct scsi_disk *disk, const uint8_t *cdb, bool sixteen,
                       bool write, uint32_t transfer_length, struct scsi_outcome *out)
{
    uint64_t lba = sixteen ? be64(cdb + 2) : be32(cdb + 2);
    uint32_t blocks = sixteen ? be32(cdb + 10) : be16(cdb + 7);
    /* RDPROTECT/WRPROTECT: no protection information on this unit (SBC-4 5.16). */
    if (cdb[1] & 0xE0) {
        invalid_field(out);
        return;
    }
    /* A zero-length transfer still has its LBA checked (SBC-4 4.5). */
    if (!lba_in_range(disk, lba, blocks) || (blocks == 0 && lba >= disk->sector_count)) {
        scsi_check_condition(out, SCSI_SENSE_ILLEGAL_REQUEST, SCSI_ASC_LBA_OUT_OF_RANGE, 0);
        return;
    }
    uint64_t bytes = (uint64_t)blocks * BLOCK_SECTOR_SIZE;
    if (bytes > disk->max_transfer_bytes || bytes > transfer_length) {
        invalid_field(out);
        return;
    }
    if (write && disk->read_only) {
        scsi_check_condition(out, SCSI_SENSE_DATA_PROTECT, SCSI_ASC_WRITE_PROTECTED, 0);
        return;
    }
    if (blocks == 0) {
        good(out, 0, 0);
        return;
    }
    out->action = write ? SCSI_ACTION_WRITE : SCSI_ACTION_READ;
    out->status = SCSI_STATUS_GOOD;
    out->lba = lba;
    out->sectors = blocks;
    out->force_unit_access = write && (cdb[1] & 0x08);
}

static void synchronize_cache(const struct scsi_disk *disk, const uint8_t *cdb, bool sixteen,
                              struct scsi_outcome *out)
{
    uint64_t lba = sixteen ? be64(cdb + 2) : be32(cdb + 2);
    uint32_t blocks = sixteen ? be32(cdb + 10) : be16(cdb + 7);
    if (cdb[1] & ~0x06u) { /* IMMED and the obsolete SYNC_NV only */
        invalid_field(out);
        return;
    }
    if (lba >= disk->sector_count || !lba_in_range(disk, lba, blocks)) {
        scsi_check_condition(out, SCSI_SENSE_ILLEGAL_REQUEST, SCSI_ASC_LBA_OUT_OF_RANGE, 0);
        return;
    }
    /* The whole cache is flushed whatever the range: the back end has no finer flush. */
    out->action = SCSI_ACTION_FLUSH;
    out->status = SCSI_STATUS_GOOD;
    out->lba = lba;
    out->sectors = blocks;
}

static void read_capacity(const struct scsi_disk *disk, const uint8_t *cdb, bool sixteen,
                          uint8_t *data, struct scsi_outcome *out)
{
    uint64_t last = disk->sector_count - 1;
    if (!sixteen) {
        /* PMI 0 with a nonzero LBA field is an error in SBC-3 and obsolete after. */
        if ((cdb[8] & 0x01) == 0 && be32(cdb + 2) != 0) {
            invalid_field(out);
            return;
        }
        put32(data, last > 0xFFFFFFFFu ? 0xFFFFFFFFu : (uint32_t)last);
        put32(data + 4, BLOCK_SECTOR_SIZE);
        good(out, 8, 8);
        return;
    }
    memset(data, 0, 32);
    put64(data, last);
    put32(data + 8, BLOCK_SECTOR_SIZE);
    good(out, 32, be32(cdb + 10));
}

/* ---- the rest -------------------------------------------------------------------------- */

static uint32_t sense_data(uint8_t *d, bool descriptor, uint8_t key, uint8_t asc)
{
    if (descriptor) { /* SPC-4 4.5.2: no descriptors follow */
        memset(d, 0, 8);
        d[0] = 0x72;
        d[1] = key;
        d[2] = asc;
        return 8;
    }
    memset(d, 0, SCSI_SENSE_MAX);
    d[0] = 0x70;
    d[2] = key;
    d[7] = SCSI_SENSE_MAX - 8;
    d[12] = asc;
    return SCSI_SENSE_MAX;
}

/* `has_lun0`: the target has our one logical unit (LUN 0), else it has none. */
static void report_luns(const uint8_t *cdb, bool has_lun0, uint8_t *data,
                        struct scsi_outcome *out)
{
    uint32_t allocation = be32(cdb + 6);
    /* SELECT REPORT 0-2 (SPC-4 6.33); an allocation length under 16 is an error. */
    if (cdb[2] > 2 || allocation < 16) {
        invalid_field(out);
        return;
    }
    memset(data, 0, 16);
    if (has_lun0 && cdb[2] != 1) /* 1: well-known LUNs only, of which there are none */
        put32(data, 8);
    good(out, 8 + be32(data), allocation);
}

void scsi_execute(const struct scsi_disk *disk, const uint8_t *cdb, uint32_t cdb_length,
                  uint32_t transfer_length, uint8_t *data, struct scsi_outcome *out)
{
    memset(out, 0, sizeof(*out));
    uint8_t opcode = cdb_length ? cdb[0] : 0xFF;
    uint32_t need = cdb_length ? cdb_length_of(opcode) : 0;
    if (need == 0 || cdb_length < need) {
        scsi_check_condition(out, SCSI_SENSE_ILLEGAL_REQUEST, SCSI_ASC_INVALID_OPCODE, 0);
        return;
    }
    /* NACA in the CONTROL byte: ACA is not supported (SAM-5 5.9.3). */
    if (cdb[need - 1] & 0x04) {
        invalid_field(out);
        return;
    }
    switch (opcode) {
    case 0x00: /* TEST UNIT READY */
        good(out, 0, 0);
        return;
    case 0x03: /* REQUEST SENSE: autosense leaves nothing pending */
        if (cdb[1] & 0xFE) {
            invalid_field(out);
            return;
        }
        good(out, sense_data(data, cdb[1] & 1, SCSI_SENSE_NO_SENSE, 0), cdb[4]);
        return;
    case 0x12:
        inquiry(disk, cdb, data, out);
        return;
    case 0x1A:
        mode_sense(disk, cdb, false, data, out);
        return;
    case 0x5A:
        mode_sense(disk, cdb, true, data, out);
        return;
    case 0x1B: /* START STOP UNIT: always started, not removable */
        good(out, 0, 0);
        return;
    case 0x25:
        read_capacity(disk, cdb, false, data, out);
        return;
    case 0x9E: /* SERVICE ACTION IN (16) */
        if ((cdb[1] & 0x1F) != 0x10) {
            invalid_field(out);
            return;
        }
        read_capacity(disk, cdb, true, data, out);
        return;
    case 0x28:
    case 0x2A:
        read_write(disk, cdb, false, opcode == 0x2A, transfer_length, out);
        return;
    case 0x88:
    case 0x8A:
        read_write(disk, cdb, true, opcode == 0x8A, transfer_length, out);
        return;
    case 0x35:
        synchronize_cache(disk, cdb, false, out);
        return;
    case 0x91:
        synchronize_cache(disk, cdb, true, out);
        return;
    case 0xA0:
        report_luns(cdb, true, data, out);
        return;
    default:
        scsi_check_condition(out, SCSI_SENSE_ILLEGAL_REQUEST, SCSI_ASC_INVALID_OPCODE, 0);
        return;
    }
}

void scsi_execute_absent(const uint8_t *cdb, uint32_t cdb_length, uint8_t *data,
                         struct scsi_outcome *out)
{
    memset(out, 0, sizeof(*out));
    if (cdb_length >= 6 && cdb[0] == 0x12) {
        /* Peripheral qualifier 3, device type 0x1F: no logical unit here. */
        good(out, standard_inquiry(data, 0x7F), be16(cdb + 3));
        return;
    }
    if (cdb_length >= 12 && cdb[0] == 0xA0) {
        /* A target without logical units: an empty list, so the initiator's scan ends
         * there (Linux otherwise falls back to probing LUNs one by one). */
        report_luns(cdb, false, data, out);
        return;
    }
    if (cdb_length >= 6 && cdb[0] == 0x03) { /* SPC-4 5.12: sense returned as data */
        good(out, sense_data(data, cdb[1] & 1, SCSI_SENSE_ILLEGAL_REQUEST,
                             SCSI_ASC_LUN_NOT_SUPPORTED),
             cdb[4]);
        return;
    }
    scsi_check_condition(out, SCSI_SENSE_ILLEGAL_REQUEST, SCSI_ASC_LUN_NOT_SUPPORTED, 0);
}
