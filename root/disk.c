#include "root/disk.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAGIC "HVFWDISK"
#define MAGIC_SIZE 8u
/* Header fields (bytes) */
#define H_VERSION 8
#define H_HEADER_BYTES 12
#define H_SECTOR_COUNT 16
#define H_GENERATION 24
#define H_EXTENT_COUNT 32
#define H_CRC 36
#define H_RESERVED 40
#define H_EXTENTS 64
/* Extent entry fields */
#define E_NAME 0
#define E_KIND 24
#define E_RESERVED 28
#define E_START 32
#define E_LENGTH 40
#define E_SIZE 48u
#define MIB_SECTORS DISK_ALIGN_SECTORS

_Static_assert(H_EXTENTS + DISK_EXTENTS_MAX * E_SIZE <= DISK_HEADER_BYTES,
               "the extent table fits the header");
_Static_assert(DISK_NAME_MAX == E_KIND - E_NAME, "names fill their field");

/* --- CRC-32 --------------------------------------------------------------------------- */

uint32_t disk_crc32(uint32_t crc, const void *data, size_t length)
{
    static uint32_t table[256];
    static bool ready;
    if (!ready) {
        for (uint32_t i = 0; i < 256; i++) {
            uint32_t c = i;
            for (int bit = 0; bit < 8; bit++)
                c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            table[i] = c;
        }
        ready = true;
    }
    const uint8_t *p = data;
    crc = ~crc;
    for (size_t i = 0; i < length; i++)
        crc = table[(crc ^ p[i]) & 0xFF] ^ (crc >> 8);
    return ~crc;
}

/* --- little-endian fields --------------------------------------------------------------- */

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get64(const uint8_t *p)
{
    return get32(p) | (uint64_t)get32(p + 4) << 32;
}

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void put64(uint8_t *p, uint64_t v)
{
    put32(p, (uint32_t)v);
    put32(p + 4, (uint32_t)(v >> 32));
}

static bool all_zero(const uint8_t *p, size_t length)
{
    for (size_t i = 0; i < length; i++)
        if (p[i])
            return false;
    return true;
}

/* --- the layout --------------------------------------------------------------------------- */

bool disk_name_valid(const char *name)
{
    size_t n = 0;
    for (; name[n]; n++) {
        char c = name[n];
        if (n + 1 >= DISK_NAME_MAX ||
            !((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
            return false;
    }
    return n > 0;
}

__attribute__((format(printf, 3, 4)))
static bool failed(char *why, size_t size, const char *format, ...)
{
    va_list ap;
    va_start(ap, format);
    vsnprintf(why, size, format, ap);
    va_end(ap);
    return false;
}

bool disk_layout_parse(const uint8_t header[DISK_HEADER_BYTES], uint64_t disk_sectors,
                       struct disk_layout *out, char *why, size_t why_size)
{
    if (memcmp(header, MAGIC, MAGIC_SIZE) != 0)
        return failed(why, why_size, "no HVFWDISK magic");
    if (get32(header + H_VERSION) != DISK_VERSION)
        return failed(why, why_size, "version %u (this firmware reads %u)",
                      get32(header + H_VERSION), DISK_VERSION);
    if (get32(header + H_HEADER_BYTES) != DISK_HEADER_BYTES)
        return failed(why, why_size, "header of %u bytes, want %u",
                      get32(header + H_HEADER_BYTES), DISK_HEADER_BYTES);
    /* The CRC covers the whole header with its own field taken as zero. */
    uint8_t zero[4] = {0};
    uint32_t crc = disk_crc32(0, header, H_CRC);
    crc = disk_crc32(crc, zero, sizeof(zero));
    crc = disk_crc32(crc, header + H_CRC + 4, DISK_HEADER_BYTES - H_CRC - 4);
    if (crc != get32(header + H_CRC))
        return failed(why, why_size, "header CRC %#x, computed %#x", get32(header + H_CRC),
                      crc);
    if (!all_zero(header + H_RESERVED, H_EXTENTS - H_RESERVED))
        return failed(why, why_size, "reserved header bytes set");
    memset(out, 0, sizeof(*out));
    out->sector_count = get64(header + H_SECTOR_COUNT);
    out->generation = get64(header + H_GENERATION);
    out->extent_count = get32(header + H_EXTENT_COUNT);
    if (out->extent_count > DISK_EXTENTS_MAX)
        return failed(why, why_size, "%u extents (at most %u)", out->extent_count,
                      DISK_EXTENTS_MAX);
    /* A disk that shrank since it was formatted is caught extent by extent below. */
    uint32_t stores = 0;
    for (uint32_t i = 0; i < out->extent_count; i++) {
        const uint8_t *e = header + H_EXTENTS + i * E_SIZE;
        struct disk_extent *x = &out->extents[i];
        if (memchr(e + E_NAME, 0, DISK_NAME_MAX) == NULL)
            return failed(why, why_size, "extent %u: name not terminated", i);
        memcpy(x->name, e + E_NAME, DISK_NAME_MAX);
        size_t length = strlen(x->name);
        if (!disk_name_valid(x->name) ||
            !all_zero(e + E_NAME + length, DISK_NAME_MAX - length))
            return failed(why, why_size, "extent %u: bad name", i);
        x->kind = get32(e + E_KIND);
        x->start = get64(e + E_START);
        x->length = get64(e + E_LENGTH);
        if (x->kind != DISK_EXTENT_STORE && x->kind != DISK_EXTENT_VOLUME)
            return failed(why, why_size, "extent %u: unknown kind %u", i, x->kind);
        if (get32(e + E_RESERVED) != 0)
            return failed(why, why_size, "extent %u: reserved bytes set", i);
        if (x->length == 0 || x->start % DISK_ALIGN_SECTORS || x->length % DISK_ALIGN_SECTORS)
            return failed(why, why_size, "extent %u: empty or not aligned to 1 MiB", i);
        if (x->start < DISK_DATA_START)
            return failed(why, why_size, "extent %u: inside the header area", i);
        if (x->start > disk_sectors || x->length > disk_sectors - x->start)
            return failed(why, why_size, "extent %u: beyond the disk's %lu sectors", i,
                          (unsigned long)disk_sectors);
        for (uint32_t j = 0; j < i; j++) {
            const struct disk_extent *y = &out->extents[j];
            if (x->start < y->start + y->length && y->start < x->start + x->length)
                return failed(why, why_size, "extents %u and %u overlap", j, i);
            if (strcmp(x->name, y->name) == 0)
                return failed(why, why_size, "extents %u and %u have the same name", j, i);
        }
        stores += x->kind == DISK_EXTENT_STORE;
    }
    if (stores != 1)
        return failed(why, why_size, "%u store extents, want 1", stores);
    if (!all_zero(header + H_EXTENTS + out->extent_count * E_SIZE,
                  DISK_HEADER_BYTES - H_EXTENTS - out->extent_count * E_SIZE))
        return failed(why, why_size, "bytes after the extent table");
    return true;
}

void disk_layout_encode(const struct disk_layout *layout, uint8_t header[DISK_HEADER_BYTES])
{
    memset(header, 0, DISK_HEADER_BYTES);
    memcpy(header, MAGIC, MAGIC_SIZE);
    put32(header + H_VERSION, DISK_VERSION);
    put32(header + H_HEADER_BYTES, DISK_HEADER_BYTES);
    put64(header + H_SECTOR_COUNT, layout->sector_count);
    put64(header + H_GENERATION, layout->generation);
    put32(header + H_EXTENT_COUNT, layout->extent_count);
    for (uint32_t i = 0; i < layout->extent_count && i < DISK_EXTENTS_MAX; i++) {
        uint8_t *e = header + H_EXTENTS + i * E_SIZE;
        const struct disk_extent *x = &layout->extents[i];
        strncpy((char *)e + E_NAME, x->name, DISK_NAME_MAX - 1);
        put32(e + E_KIND, x->kind);
        put64(e + E_START, x->start);
        put64(e + E_LENGTH, x->length);
    }
    put32(header + H_CRC, disk_crc32(0, header, DISK_HEADER_BYTES));
}

const struct disk_extent *disk_layout_find(const struct disk_layout *layout, const char *name)
{
    for (uint32_t i = 0; i < layout->extent_count; i++)
        if (strcmp(layout->extents[i].name, name) == 0)
            return &layout->extents[i];
    return NULL;
}

bool disk_layout_allocate(struct disk_layout *layout, const char *name,
                          enum disk_extent_kind kind, uint64_t sectors, char *why,
                          size_t why_size)
{
    if (!disk_name_valid(name)) {
        snprintf(why, why_size, "a name is 1-%u of a-z 0-9 _ -", DISK_NAME_MAX - 1);
        return false;
    }
    if (disk_layout_find(layout, name)) {
        snprintf(why, why_size, "an extent named %s exists", name);
        return false;
    }
    if (layout->extent_count == DISK_EXTENTS_MAX) {
        snprintf(why, why_size, "the extent table is full (%u)", DISK_EXTENTS_MAX);
        return false;
    }
    if (sectors == 0 || sectors > layout->sector_count) {
        snprintf(why, why_size, "size of %lu sectors on a disk of %lu", (unsigned long)sectors,
                 (unsigned long)layout->sector_count);
        return false;
    }
    sectors = (sectors + DISK_ALIGN_SECTORS - 1) / DISK_ALIGN_SECTORS * DISK_ALIGN_SECTORS;
    /* First fit: try the data start and the end of every extent as candidates. */
    uint64_t end_of_disk = layout->sector_count / DISK_ALIGN_SECTORS * DISK_ALIGN_SECTORS;
    for (uint32_t c = 0; c <= layout->extent_count; c++) {
        uint64_t start = c == 0 ? DISK_DATA_START
                                : layout->extents[c - 1].start + layout->extents[c - 1].length;
        if (start > end_of_disk || sectors > end_of_disk - start)
            continue;
        bool free = true;
        for (uint32_t j = 0; j < layout->extent_count && free; j++) {
            const struct disk_extent *y = &layout->extents[j];
            free = !(start < y->start + y->length && y->start < start + sectors);
        }
        if (!free)
            continue;
        struct disk_extent *x = &layout->extents[layout->extent_count++];
        memset(x, 0, sizeof(*x));
        strncpy(x->name, name, DISK_NAME_MAX - 1);
        x->kind = kind;
        x->start = start;
        x->length = sectors;
        return true;
    }
    snprintf(why, why_size, "no free space of %lu MiB", (unsigned long)(sectors / MIB_SECTORS));
    return false;
}

bool disk_layout_format(struct disk_layout *out, uint64_t disk_sectors, char *why,
                        size_t why_size)
{
    memset(out, 0, sizeof(*out));
    if (disk_sectors < DISK_MIN_SECTORS) {
        snprintf(why, why_size, "the disk has %lu KiB; formatting needs %u MiB",
                 (unsigned long)(disk_sectors / 2), DISK_MIN_SECTORS / MIB_SECTORS);
        return false;
    }
    out->sector_count = disk_sectors;
    uint64_t store = disk_sectors / 8 / DISK_ALIGN_SECTORS * DISK_ALIGN_SECTORS;
    if (store < DISK_ALIGN_SECTORS)
        store = DISK_ALIGN_SECTORS;
    if (store > DISK_STORE_SECTORS)
        store = DISK_STORE_SECTORS;
    return disk_layout_allocate(out, "store", DISK_EXTENT_STORE, store, why, why_size);
}

/* --- the attached disk ---------------------------------------------------------------------- */

static struct {
    bool attached;
    struct disk_io io;
    struct disk_layout layout;
    struct disk_volume volumes[DISK_EXTENTS_MAX];
    uint8_t *header; /* DISK_HEADER_BYTES of I/O buffer */
} disk;

static bool header_buffer(void)
{
    if (!disk.header)
        disk.header = malloc(DISK_HEADER_BYTES);
    return disk.header != NULL;
}

/* Both copies, the first then the second, each flushed (see disk.h). */
static bool write_header(char *why, size_t why_size)
{
    disk.layout.generation++;
    disk_layout_encode(&disk.layout, disk.header);
    if (!disk.io.write(disk.io.context, 0, DISK_HEADER_SECTORS, disk.header) ||
        !disk.io.flush(disk.io.context) ||
        !disk.io.write(disk.io.context, DISK_BACKUP_SECTOR, DISK_HEADER_SECTORS, disk.header) ||
        !disk.io.flush(disk.io.context)) {
        snprintf(why, why_size, "writing the disk header failed");
        return false;
    }
    return true;
}

/* What a disk without our header holds, as far as a look at its first sectors tells. */
static void describe_foreign(const uint8_t *first, const uint8_t *second, const char *hvfw_why,
                             char *why, size_t why_size)
{
    if (memcmp(first, MAGIC, MAGIC_SIZE) == 0 || memcmp(second, MAGIC, MAGIC_SIZE) == 0)
        snprintf(why, why_size, "a damaged hvfw header (%s)", hvfw_why);
    else if (all_zero(first, DISK_HEADER_BYTES) && all_zero(second, DISK_HEADER_BYTES))
        snprintf(why, why_size, "a blank disk (zeros)");
    else if (memcmp(first + DISK_SECTOR_SIZE, "EFI PART", 8) == 0)
        snprintf(why, why_size, "a GPT partition table");
    else if (first[510] == 0x55 && first[511] == 0xAA)
        snprintf(why, why_size, "an MBR boot sector or partition table");
    else
        snprintf(why, why_size, "unknown data");
}

enum disk_attach_result disk_attach(const struct disk_io *io, enum disk_format_mode mode,
                                    char *why, size_t why_size)
{
    disk_detach();
    if (!header_buffer()) {
        snprintf(why, why_size, "no memory for the header");
        return DISK_FAILED;
    }
    disk.io = *io;
    if (io->sector_count < 2 * DISK_HEADER_SECTORS) {
        snprintf(why, why_size, "the disk has %lu sectors", (unsigned long)io->sector_count);
        return DISK_FAILED;
    }
    uint8_t *second = malloc(DISK_HEADER_BYTES);
    if (!second) {
        snprintf(why, why_size, "no memory for the header");
        return DISK_FAILED;
    }
    enum disk_attach_result result = DISK_FAILED;
    if (!io->read(io->context, 0, DISK_HEADER_SECTORS, disk.header) ||
        !io->read(io->context, DISK_BACKUP_SECTOR, DISK_HEADER_SECTORS, second)) {
        snprintf(why, why_size, "reading the header failed");
        goto out;
    }
    struct disk_layout a, b;
    char why_a[DISK_WHY_MAX], why_b[DISK_WHY_MAX];
    bool valid_a = disk_layout_parse(disk.header, io->sector_count, &a, why_a, sizeof(why_a));
    bool valid_b = disk_layout_parse(second, io->sector_count, &b, why_b, sizeof(why_b));
    if ((valid_a || valid_b) && mode != DISK_FORMAT_FORCE) {
        bool use_a = valid_a && (!valid_b || a.generation >= b.generation);
        disk.layout = use_a ? a : b;
        disk.attached = true;
        why[0] = '\0';
        if (!valid_a || !valid_b || a.generation != b.generation) {
            /* One copy is stale or torn: rewrite both from the good one. */
            snprintf(why, why_size, "header copy %s repaired (%s)", use_a ? "2" : "1",
                     use_a ? (valid_b ? "older" : why_b) : (valid_a ? "older" : why_a));
            char write_why[DISK_WHY_MAX];
            if (!write_header(write_why, sizeof(write_why))) {
                snprintf(why, why_size, "%s", write_why);
                disk.attached = false;
                goto out;
            }
        }
        result = DISK_ATTACHED;
        goto out;
    }
    if (mode == DISK_FORMAT_NEVER) {
        describe_foreign(disk.header, second, why_a, why, why_size);
        result = DISK_NOT_HVFW;
        goto out;
    }
    if (!disk_layout_format(&disk.layout, io->sector_count, why, why_size))
        goto out;
    /* The generation carries on from an erased hvfw disk, so no stale copy can win. */
    disk.layout.generation = (valid_a ? a.generation : 0) > (valid_b ? b.generation : 0)
                                 ? (valid_a ? a.generation : 0)
                                 : (valid_b ? b.generation : 0);
    if (!write_header(why, why_size))
        goto out;
    disk.attached = true;
    why[0] = '\0';
    result = DISK_FORMATTED;
out:
    free(second);
    return result;
}

void disk_detach(void)
{
    disk.attached = false;
    memset(disk.volumes, 0, sizeof(disk.volumes));
}

const struct disk_layout *disk_layout(void)
{
    return disk.attached ? &disk.layout : NULL;
}

#define ZERO_CHUNK_SECTORS 256u /* 128 KiB a write */

static bool zero_sectors(uint64_t start, uint64_t count, char *why, size_t why_size)
{
    void *zeros = calloc(ZERO_CHUNK_SECTORS, DISK_SECTOR_SIZE);
    if (!zeros) {
        snprintf(why, why_size, "no memory to zero the new volume");
        return false;
    }
    bool ok = true;
    for (uint64_t done = 0; ok && done < count;) {
        uint32_t n = count - done < ZERO_CHUNK_SECTORS ? (uint32_t)(count - done)
                                                       : ZERO_CHUNK_SECTORS;
        ok = disk.io.write(disk.io.context, start + done, n, zeros);
        done += n;
    }
    free(zeros);
    if (!ok)
        snprintf(why, why_size, "an I/O error zeroing the new volume");
    return ok;
}

bool disk_volume_create(const char *name, uint64_t size_mib, char *why, size_t why_size)
{
    if (!disk.attached) {
        snprintf(why, why_size, "no hvfw disk");
        return false;
    }
    if (size_mib == 0 || size_mib > disk.layout.sector_count / MIB_SECTORS) {
        snprintf(why, why_size, "%lu MiB on a disk of %lu MiB", (unsigned long)size_mib,
                 (unsigned long)(disk.layout.sector_count / MIB_SECTORS));
        return false;
    }
    struct disk_layout before = disk.layout;
    if (!disk_layout_allocate(&disk.layout, name, DISK_EXTENT_VOLUME, size_mib * MIB_SECTORS,
                              why, why_size))
        return false;
    /* Zeroed before the header names it: the space may have been a deleted volume of
     * another child, whose bytes must not reach the new owner. A crash before the header
     * leaves the space free, to be zeroed again by the next create. */
    const struct disk_extent *x = disk_layout_find(&disk.layout, name);
    if (!x || !zero_sectors(x->start, x->length, why, why_size) ||
        !write_header(why, why_size)) {
        disk.layout = before;
        return false;
    }
    return true;
}

/* --- volumes ---------------------------------------------------------------------------------- */

static bool in_volume(const struct disk_volume *v, uint64_t sector, uint32_t count)
{
    return disk.attached && v->sector_count && count && sector < v->sector_count &&
           count <= v->sector_count - sector;
}

bool disk_volume_read(struct disk_volume *volume, uint64_t sector, uint32_t count,
                      void *buffer)
{
    return in_volume(volume, sector, count) &&
           disk.io.read(disk.io.context, volume->start + sector, count, buffer);
}

bool disk_volume_write(struct disk_volume *volume, uint64_t sector, uint32_t count,
                       const void *buffer)
{
    return in_volume(volume, sector, count) &&
           disk.io.write(disk.io.context, volume->start + sector, count, buffer);
}

bool disk_volume_flush(struct disk_volume *volume)
{
    return disk.attached && volume->sector_count && disk.io.flush(disk.io.context);
}

static bool volume_io_read(void *context, uint64_t sector, uint32_t count, void *buffer)
{
    return disk_volume_read(context, sector, count, buffer);
}

static bool volume_io_write(void *context, uint64_t sector, uint32_t count, const void *buffer)
{
    return disk_volume_write(context, sector, count, buffer);
}

static bool volume_io_flush(void *context)
{
    return disk_volume_flush(context);
}

struct disk_volume *disk_volume_open(const char *name)
{
    if (!disk.attached)
        return NULL;
    const struct disk_extent *x = disk_layout_find(&disk.layout, name);
    if (!x)
        return NULL;
    struct disk_volume *free_entry = NULL;
    for (uint32_t i = 0; i < DISK_EXTENTS_MAX; i++) {
        struct disk_volume *v = &disk.volumes[i];
        if (v->sector_count && strcmp(v->name, name) == 0)
            return v;
        if (!v->sector_count && !free_entry)
            free_entry = v;
    }
    /* At most DISK_EXTENTS_MAX extents, each with at most one entry: one is free. */
    struct disk_volume *v = free_entry;
    memset(v, 0, sizeof(*v));
    memcpy(v->name, x->name, DISK_NAME_MAX);
    v->start = x->start;
    v->sector_count = x->length;
    v->store = x->kind == DISK_EXTENT_STORE;
    v->io = (struct disk_io){x->length, volume_io_read, volume_io_write, volume_io_flush, v,
                             disk.io.read_only};
    return v;
}

bool disk_volume_delete(const char *name, char *why, size_t why_size)
{
    const struct disk_extent *x = disk.attached ? disk_layout_find(&disk.layout, name) : NULL;
    if (!x || x->kind != DISK_EXTENT_VOLUME) {
        snprintf(why, why_size, "no volume named %.23s", name);
        return false;
    }
    struct disk_layout before = disk.layout;
    uint32_t at = (uint32_t)(x - disk.layout.extents);
    memmove(&disk.layout.extents[at], &disk.layout.extents[at + 1],
            (disk.layout.extent_count - at - 1) * sizeof(disk.layout.extents[0]));
    disk.layout.extent_count--;
    if (!write_header(why, why_size)) {
        disk.layout = before;
        return false;
    }
    /* Handles opened before fail from now on (their size is 0). */
    for (uint32_t i = 0; i < DISK_EXTENTS_MAX; i++)
        if (disk.volumes[i].sector_count && strcmp(disk.volumes[i].name, name) == 0)
            memset(&disk.volumes[i], 0, sizeof(disk.volumes[i]));
    return true;
}
