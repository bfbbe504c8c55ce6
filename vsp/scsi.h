/*
 * The SCSI target behind storvsp: one direct-access logical unit (SBC-4) executed from a
 * CDB the child sent, pure and host-tested (no I/O here). Commands that need no media
 * access complete at once with their data-in bytes; READ, WRITE and SYNCHRONIZE CACHE are
 * validated (opcode length, reserved fields, LBA range against the volume, transfer
 * length against the initiator's buffer and the transfer limit) and handed back as a
 * block operation for the caller to run on its back end (vsp/block.h).
 *
 * Commands (what Linux sd and the SCSI scan send to a storvsc disk): TEST UNIT READY,
 * REQUEST SENSE, INQUIRY (standard data; VPD 0x00, 0x80, 0x83, 0xB0, 0xB1, 0xB2),
 * REPORT LUNS, READ CAPACITY (10) and (16), READ/WRITE (10) and (16), SYNCHRONIZE CACHE
 * (10) and (16), MODE SENSE (6) and (10) (pages 0x08, 0x0A, 0x3F), START STOP UNIT.
 * Anything else is CHECK CONDITION, ILLEGAL REQUEST, INVALID COMMAND OPERATION CODE
 * (SPC-4 4.5.6, ASC 0x20); a bad field is INVALID FIELD IN CDB (0x24); an LBA beyond the
 * volume is LOGICAL BLOCK ADDRESS OUT OF RANGE (0x21). Autosense is fixed format (0x70);
 * REQUEST SENSE returns descriptor format (0x72) when its DESC bit asks for it.
 */
#ifndef HVFW_VSP_SCSI_H
#define HVFW_VSP_SCSI_H

#include <stdbool.h>
#include <stdint.h>

#define SCSI_STATUS_GOOD 0x00u
#define SCSI_STATUS_CHECK_CONDITION 0x02u
#define SCSI_STATUS_BUSY 0x08u

#define SCSI_SENSE_NO_SENSE 0x0u
#define SCSI_SENSE_MEDIUM_ERROR 0x3u
#define SCSI_SENSE_ILLEGAL_REQUEST 0x5u
#define SCSI_SENSE_DATA_PROTECT 0x7u

#define SCSI_ASC_WRITE_ERROR 0x0Cu
#define SCSI_ASC_UNRECOVERED_READ_ERROR 0x11u
#define SCSI_ASC_INVALID_OPCODE 0x20u
#define SCSI_ASC_LBA_OUT_OF_RANGE 0x21u
#define SCSI_ASC_INVALID_FIELD_IN_CDB 0x24u
#define SCSI_ASC_LUN_NOT_SUPPORTED 0x25u
#define SCSI_ASC_WRITE_PROTECTED 0x27u
#define SCSI_ASC_SAVING_NOT_SUPPORTED 0x39u

#define SCSI_CDB_MAX 16u
/* Fixed-format sense with the standard 10 additional bytes (SPC-4 4.5.3). */
#define SCSI_SENSE_MAX 18u
/* The largest data-in any non-media command here produces (MODE SENSE of all pages is
 * the longest, well below this). */
#define SCSI_DATA_MAX 256u

struct scsi_disk {
    uint64_t sector_count;       /* 512-byte logical blocks */
    bool read_only;
    uint32_t max_transfer_bytes; /* the largest READ/WRITE (VPD 0xB0, and enforced) */
    char serial[21];             /* VPD 0x80, printable ASCII, NUL-terminated */
    uint8_t naa[8];              /* VPD 0x83 NAA IEEE Registered designator (type 5) */
};

enum scsi_action {
    SCSI_ACTION_COMPLETE, /* status, sense and data are final */
    SCSI_ACTION_READ,     /* read `sectors` from `lba` into the initiator's buffer */
    SCSI_ACTION_WRITE,    /* write `sectors` at `lba` (then flush if `force_unit_access`) */
    SCSI_ACTION_FLUSH,    /* make every completed write durable */
};

struct scsi_outcome {
    enum scsi_action action;
    uint8_t status;          /* SAM-5 status (COMPLETE) */
    uint32_t data_length;    /* data-in bytes in the caller's buffer (COMPLETE) */
    uint64_t lba;
    uint32_t sectors;
    bool force_unit_access;
    uint8_t sense[SCSI_SENSE_MAX];
    uint32_t sense_length;   /* 0 unless CHECK CONDITION */
};

/* Executes `cdb` (`cdb_length` bytes, 1..16 as the transport delivered it) against the
 * logical unit. `transfer_length` is the byte count of the initiator's data buffer; a
 * READ/WRITE needing more is refused (INVALID FIELD IN CDB). Data-in of a COMPLETE command
 * is written to `data` (SCSI_DATA_MAX bytes), already cut to the CDB's allocation length. */
void scsi_execute(const struct scsi_disk *disk, const uint8_t *cdb, uint32_t cdb_length,
                  uint32_t transfer_length, uint8_t *data, struct scsi_outcome *out);
/* The answer of a logical unit that does not exist, on a target that has none (SPC-4
 * 6.6.2: INQUIRY answers with peripheral qualifier 3 so the scan moves on; REPORT LUNS
 * with an empty list, SPC-4 6.33; anything else is LOGICAL UNIT NOT SUPPORTED). */
void scsi_execute_absent(const uint8_t *cdb, uint32_t cdb_length, uint8_t *data,
                         struct scsi_outcome *out);
/* Turns `out` into CHECK CONDITION with fixed-format sense `key`/`asc`/`ascq`; used by
 * the caller when the back end failed (MEDIUM ERROR). */
void scsi_check_condition(struct scsi_outcome *out, uint8_t key, uint8_t asc, uint8_t ascq);

#endif
