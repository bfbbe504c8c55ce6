/*
 * The appliance disk layout (docs/ARCHITECTURE.md, "The appliance disk"): what the root
 * keeps on its physical disk, in 512-byte sectors, little-endian.
 *
 *   sectors 0-7     the header (4 KiB): magic "HVFWDISK", version, the disk's size when
 *                   formatted, a generation, a table of at most DISK_EXTENTS_MAX extents
 *                   (name, kind, start, length) and a CRC32 of the whole 4 KiB
 *   sectors 8-15    a second copy of the header, written after the first (and flushed
 *                   between), so a power cut while the table changes leaves one good copy;
 *                   the valid copy with the higher generation wins, the other is repaired
 *   from 1 MiB on   extents, each aligned to 1 MiB: exactly one "store" (root/store.h),
 *                   then child volumes (kind "volume") created by `disk.NAME=SIZE_MIB` on
 *                   the firmware command line or, later, by the management API
 *
 * Every header read from a disk is hostile input: parsed once (disk_layout_parse) and
 * refused for a bad magic, version, CRC, count, name, kind, an extent that is empty,
 * misaligned, inside the header area, beyond the disk or overlapping another, or no store.
 * A disk without a valid header is never formatted silently (disk_attach's mode).
 *
 * Host-testable: the disk is reached through struct disk_io (the root uses virtio-blk, the
 * tests a RAM disk). One disk is attached at a time (the root's).
 */
#ifndef HVFW_ROOT_DISK_H
#define HVFW_ROOT_DISK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DISK_SECTOR_SIZE 512u
#define DISK_HEADER_BYTES 4096u
#define DISK_HEADER_SECTORS (DISK_HEADER_BYTES / DISK_SECTOR_SIZE)
#define DISK_BACKUP_SECTOR DISK_HEADER_SECTORS
#define DISK_ALIGN_SECTORS 2048u /* 1 MiB: extents start and end here */
#define DISK_DATA_START DISK_ALIGN_SECTORS
#define DISK_EXTENTS_MAX 64u
#define DISK_NAME_MAX 24u /* bytes of a name, NUL included: [a-z0-9_-], 1-23 characters */
#define DISK_VERSION 1u
/* The store extent: 8 MiB, or an eighth of a small disk (at least 1 MiB). */
#define DISK_STORE_SECTORS (8u * DISK_ALIGN_SECTORS)
/* The smallest disk formatted: header area, a 1 MiB store, 1 MiB for a volume. */
#define DISK_MIN_SECTORS (3u * DISK_ALIGN_SECTORS)
#define DISK_WHY_MAX 128u

enum disk_extent_kind {
    DISK_EXTENT_STORE = 1,
    DISK_EXTENT_VOLUME = 2,
};

struct disk_extent {
    char name[DISK_NAME_MAX];
    uint32_t kind;   /* enum disk_extent_kind */
    uint64_t start;  /* sectors */
    uint64_t length; /* sectors */
};

struct disk_layout {
    uint64_t sector_count; /* the disk's size when it was formatted */
    uint64_t generation;   /* +1 at every header write */
    uint32_t extent_count;
    struct disk_extent extents[DISK_EXTENTS_MAX];
};

/* How a disk is reached: synchronous sector I/O, true when done (flush: everything written
 * before is on stable media). */
struct disk_io {
    uint64_t sector_count;
    bool (*read)(void *context, uint64_t sector, uint32_t count, void *buffer);
    bool (*write)(void *context, uint64_t sector, uint32_t count, const void *buffer);
    bool (*flush)(void *context);
    void *context;
    bool read_only; /* writes fail; volumes say so to storvsp */
};

/* CRC-32 (IEEE 802.3, reflected 0xEDB88320; zlib's crc32): start with crc 0. */
uint32_t disk_crc32(uint32_t crc, const void *data, size_t length);

/* --- the layout, without a disk ------------------------------------------------------- */

/* Whether `name` is a usable extent name ([a-z0-9_-], 1..DISK_NAME_MAX-1 characters). */
bool disk_name_valid(const char *name);
/* Parses and checks a header against a disk of `disk_sectors`. */
bool disk_layout_parse(const uint8_t header[DISK_HEADER_BYTES], uint64_t disk_sectors,
                       struct disk_layout *out, char *why, size_t why_size);
/* The header bytes for `layout` (its CRC filled in). */
void disk_layout_encode(const struct disk_layout *layout, uint8_t header[DISK_HEADER_BYTES]);
/* A fresh layout for a disk of `disk_sectors`: the store extent only. */
bool disk_layout_format(struct disk_layout *out, uint64_t disk_sectors, char *why,
                        size_t why_size);
/* Adds an extent of `sectors` (rounded up to 1 MiB) in the first gap that holds it. */
bool disk_layout_allocate(struct disk_layout *layout, const char *name,
                          enum disk_extent_kind kind, uint64_t sectors, char *why,
                          size_t why_size);
const struct disk_extent *disk_layout_find(const struct disk_layout *layout, const char *name);

/* --- the attached disk ---------------------------------------------------------------- */

enum disk_format_mode {
    DISK_FORMAT_NEVER,   /* report what is there, change nothing */
    DISK_FORMAT_BLANK,   /* disk.format=1: format a disk without a valid hvfw header */
    DISK_FORMAT_FORCE,   /* disk.format=force: format even a valid hvfw disk (erases it) */
};

enum disk_attach_result {
    DISK_ATTACHED,   /* a valid layout (perhaps repaired from its second copy) */
    DISK_FORMATTED,  /* a fresh layout was written */
    DISK_NOT_HVFW,   /* blank, foreign or damaged, left alone; *why says what was found */
    DISK_FAILED,     /* an I/O error or a disk too small to format */
};

enum disk_attach_result disk_attach(const struct disk_io *io, enum disk_format_mode mode,
                                    char *why, size_t why_size);
/* Forgets the attached disk (volumes opened before become unusable). */
void disk_detach(void);
/* The attached disk's layout, or NULL. */
const struct disk_layout *disk_layout(void);
/* Adds a volume of `size_mib` MiB to the attached disk: writes zeros over its extent (no
 * byte of a deleted volume reaches its next owner), then the header (both copies). False
 * with *why: a bad or taken name, no room, no disk, an I/O error. Synchronous: about a
 * second per 100 MiB on the test disks. */
bool disk_volume_create(const char *name, uint64_t size_mib, char *why, size_t why_size);

/* Removes volume `name` (not the store) from the table, both header copies. Its bytes stay
 * on the disk until a later volume there is created (zeroed then); handles opened before
 * fail from then on. False with *why for no such volume or an I/O error. */
bool disk_volume_delete(const char *name, char *why, size_t why_size);

/* An extent of the attached disk, I/O bounded to it (root/disk_block.h puts storvsp's
 * back-end interface over one). */
struct disk_volume {
    char name[DISK_NAME_MAX];
    uint64_t start, sector_count;
    bool store; /* the store extent (not handed to children) */
    struct disk_io io;           /* sector 0 = the extent's first */
};

/* The volume (or the store, by its name "store") of the attached disk; NULL if there is
 * none by that name. The same pointer for the same name while the disk is attached. */
struct disk_volume *disk_volume_open(const char *name);
/* 512-byte sectors from the volume's start; false beyond its end or on an I/O error. */
bool disk_volume_read(struct disk_volume *volume, uint64_t sector, uint32_t count,
                      void *buffer);
bool disk_volume_write(struct disk_volume *volume, uint64_t sector, uint32_t count,
                       const void *buffer);
bool disk_volume_flush(struct disk_volume *volume);

#endif
