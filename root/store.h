/*
 * The crash-safe store: records (key -> value bytes) on the store extent of the appliance
 * disk (root/disk.h), for the settings the disk overrides (root/stored_settings.h) and, later,
 * VM definitions and the management identity (issue 6).
 *
 * Two slots (A/B), each half of the extent. A change writes the WHOLE new record set as one
 * snapshot into the slot not holding the newest one, with a sequence number one higher and
 * a CRC-32 over the snapshot, then flushes; only then is the change reported done. At open,
 * the valid slot with the higher sequence wins. A power cut while a snapshot is written
 * tears only that slot (its CRC fails), so the other slot's snapshot, the state before the
 * change, is what comes back: at most the change being written is lost.
 *
 * Snapshot (little-endian): magic "HVFWSTOR", u32 version, u32 record count, u64 sequence,
 * u32 body bytes, u32 CRC-32 (of the 32-byte head with this field zero, then the body),
 * then per record u16 key length, u16 zero, u32 value length, key bytes, value bytes.
 * Everything read is checked (lengths inside the body, keys valid and strictly ascending,
 * the count exact) before it is used.
 *
 * Host-testable: the extent is a struct disk_io.
 */
#ifndef HVFW_ROOT_STORE_H
#define HVFW_ROOT_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "root/disk.h"

#define STORE_KEY_MAX 63         /* characters: printable ASCII, no space, '=' or '"' */
#define STORE_VALUE_MAX (64u * 1024u)
#define STORE_RECORDS_MAX 1024u
#define STORE_HEAD_BYTES 32u
/* The largest snapshot, whatever the slot size: bounds the root heap the store takes. */
#define STORE_SNAPSHOT_MAX (1024u * 1024u)

enum store_result {
    STORE_OK,
    STORE_INVALID,   /* a bad key or a value too long */
    STORE_NOT_FOUND,
    STORE_FULL,      /* the snapshot would not fit a slot, or too many records */
    STORE_IO_ERROR,  /* the write failed; the store is as before */
    STORE_NO_MEMORY,
};

struct store_record {
    char key[STORE_KEY_MAX + 1];
    uint8_t *value;
    uint32_t length;
};

struct store {
    struct disk_io io;
    uint64_t slot_sectors;   /* each slot's size */
    uint64_t sequence;       /* of the newest snapshot (0: none yet) */
    unsigned newest_slot;    /* 0 or 1; the next write goes to the other */
    size_t count;            /* records, sorted by key */
    struct store_record *records;
    size_t snapshot_bytes;   /* of the newest snapshot, head included */
};

/* Loads the newest valid snapshot (none: an empty store). *report says what was found
 * ("slot B torn, using slot A", "empty"); false only for an extent too small to hold two
 * slots, an I/O error or no memory. */
bool store_open(struct store *store, const struct disk_io *io, char *report,
                size_t report_size);
/* Makes the store empty on the media (both slots' heads zeroed), for a freshly formatted
 * disk where an old disk's snapshots could otherwise come back. `store` is zeroed or open
 * (its records are freed); open it again afterwards. */
bool store_erase(struct store *store, const struct disk_io *io);
void store_close(struct store *store);

bool store_key_valid(const char *key);
/* The value of `key` (valid until the next change), or NULL. */
const struct store_record *store_get(const struct store *store, const char *key);
/* Sets or deletes one record, durably (see above) before it returns STORE_OK. */
enum store_result store_put(struct store *store, const char *key, const void *value,
                            size_t length);
enum store_result store_delete(struct store *store, const char *key);
const char *store_result_name(enum store_result result);

/* Builds the snapshot of `count` sorted records with `sequence` into a buffer of
 * `size` bytes (padded with zeros to whole sectors); its length, or 0 if it does not fit.
 * Parses one slot's bytes back (records malloc'ed). Exported for the host tests. */
size_t store_snapshot_encode(const struct store_record *records, size_t count,
                             uint64_t sequence, uint8_t *out, size_t size);
bool store_snapshot_parse(const uint8_t *slot, size_t size, uint64_t *sequence,
                          struct store_record **records, size_t *count, size_t *bytes,
                          char *why, size_t why_size);
void store_records_free(struct store_record *records, size_t count);

#endif
