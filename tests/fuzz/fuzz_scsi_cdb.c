// sources: vsp/scsi.c
/*
 * libFuzzer target for the SCSI logical unit (vsp/scsi.c). Input: a volume size and flags
 * (9 bytes), the initiator's transfer length (4 bytes), then the CDB (its length is what
 * is left, up to 16; longer inputs are cut). Whatever the bytes: no crash (ASan/UBSan), and
 * the outcome is one the transport can act on safely: a media operation stays inside the
 * volume, the transfer limit and the initiator's buffer, never writes a read-only volume
 * and moves at least one sector; a completed command reports GOOD or CHECK CONDITION with
 * fixed-format sense, and data only within SCSI_DATA_MAX. The same CDB against an absent
 * logical unit never asks for media access.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vsp/block.h"
#include "vsp/scsi.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REQUIRE(cond)                                                                      \
    do {                                                                                   \
        if (!(cond)) {                                                                     \
            fprintf(stderr, "fuzz_scsi_cdb: invariant failed: %s (line %d)\n", #cond,      \
                    __LINE__);                                                             \
            abort();                                                                       \
        }                                                                                  \
    } while (0)

static void check_complete(const struct scsi_outcome *o)
{
    REQUIRE(o->status == SCSI_STATUS_GOOD || o->status == SCSI_STATUS_CHECK_CONDITION);
    REQUIRE(o->data_length <= SCSI_DATA_MAX);
    if (o->status == SCSI_STATUS_CHECK_CONDITION) {
        REQUIRE(o->data_length == 0);
        REQUIRE(o->sense_length == SCSI_SENSE_MAX);
        REQUIRE(o->sense[0] == 0x70 && o->sense[7] == SCSI_SENSE_MAX - 8);
        REQUIRE(o->sense[2] != SCSI_SENSE_NO_SENSE);
    } else {
        REQUIRE(o->sense_length == 0);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 13)
        return 0;
    struct scsi_disk disk;
    memset(&disk, 0, sizeof(disk));
    uint64_t sectors;
    memcpy(&sectors, data, 8);
    /* Mostly small volumes (the edges are reachable), sometimes huge ones. */
    disk.sector_count = (data[8] & 0x80) ? (sectors | 1) : (sectors % 100000) + 1;
    disk.read_only = data[8] & 1;
    disk.max_transfer_bytes = 0x40000;
    strcpy(disk.serial, "FUZZ");
    uint32_t transfer;
    memcpy(&transfer, data + 9, 4);
    if (data[8] & 2)
        transfer %= 0x80000;
    const uint8_t *cdb = data + 13;
    uint32_t cdb_length = (uint32_t)(size - 13 > SCSI_CDB_MAX ? SCSI_CDB_MAX : size - 13);
    uint8_t cdb_copy[SCSI_CDB_MAX]; /* the exact length, so ASan sees any over-read */
    uint8_t *exact = malloc(cdb_length ? cdb_length : 1);
    memcpy(exact, cdb, cdb_length);
    memcpy(cdb_copy, cdb, cdb_length);

    uint8_t *buffer = malloc(SCSI_DATA_MAX);
    struct scsi_outcome o;
    scsi_execute(&disk, exact, cdb_length, transfer, buffer, &o);
    switch (o.action) {
    case SCSI_ACTION_COMPLETE:
        check_complete(&o);
        break;
    case SCSI_ACTION_READ:
    case SCSI_ACTION_WRITE:
        REQUIRE(o.status == SCSI_STATUS_GOOD);
        REQUIRE(o.sectors > 0);
        REQUIRE(o.lba < disk.sector_count && o.sectors <= disk.sector_count - o.lba);
        REQUIRE((uint64_t)o.sectors * BLOCK_SECTOR_SIZE <= disk.max_transfer_bytes);
        REQUIRE((uint64_t)o.sectors * BLOCK_SECTOR_SIZE <= transfer);
        REQUIRE(o.action == SCSI_ACTION_READ || !disk.read_only);
        REQUIRE(o.action == SCSI_ACTION_WRITE || !o.force_unit_access);
        break;
    case SCSI_ACTION_FLUSH:
        REQUIRE(o.status == SCSI_STATUS_GOOD);
        break;
    default:
        REQUIRE(0);
    }
    REQUIRE(memcmp(exact, cdb_copy, cdb_length) == 0); /* the CDB is only read */

    scsi_execute_absent(exact, cdb_length, buffer, &o);
    REQUIRE(o.action == SCSI_ACTION_COMPLETE);
    check_complete(&o);
    free(buffer);
    free(exact);
    return 0;
}
