#include "root/store.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAGIC "HVFWSTOR"
#define MAGIC_SIZE 8u
#define VERSION 1u
/* Head fields (bytes) */
#define S_VERSION 8
#define S_COUNT 12
#define S_SEQUENCE 16
#define S_BODY_BYTES 24
#define S_CRC 28
#define RECORD_HEAD 8u
#define SECTOR DISK_SECTOR_SIZE

_Static_assert(S_CRC + 4 == STORE_HEAD_BYTES, "the head is 32 bytes");

static uint32_t get16(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8;
}

static uint32_t get32(const uint8_t *p)
{
    return get16(p) | get16(p + 2) << 16;
}

static uint64_t get64(const uint8_t *p)
{
    return get32(p) | (uint64_t)get32(p + 4) << 32;
}

static void put16(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
    put16(p, v);
    put16(p + 2, v >> 16);
}

static void put64(uint8_t *p, uint64_t v)
{
    put32(p, (uint32_t)v);
    put32(p + 4, (uint32_t)(v >> 32));
}

static size_t round_to_sector(size_t bytes)
{
    return (bytes + SECTOR - 1) / SECTOR * SECTOR;
}

bool store_key_valid(const char *key)
{
    size_t n = 0;
    for (; key[n]; n++)
        if (n == STORE_KEY_MAX || key[n] <= ' ' || key[n] > '~' || key[n] == '=' ||
            key[n] == '"')
            return false;
    return n > 0;
}

const char *store_result_name(enum store_result result)
{
    switch (result) {
    case STORE_OK: return "ok";
    case STORE_INVALID: return "invalid key or value";
    case STORE_NOT_FOUND: return "no such key";
    case STORE_FULL: return "the store is full";
    case STORE_IO_ERROR: return "disk write failed";
    case STORE_NO_MEMORY: return "no memory";
    }
    return "?";
}

/* The CRC of a snapshot: the head with its CRC field zero, then the body. */
static uint32_t snapshot_crc(const uint8_t *snapshot, size_t body_bytes)
{
    uint8_t zero[4] = {0};
    uint32_t crc = disk_crc32(0, snapshot, S_CRC);
    crc = disk_crc32(crc, zero, sizeof(zero));
    return disk_crc32(crc, snapshot + STORE_HEAD_BYTES, body_bytes);
}

size_t store_snapshot_encode(const struct store_record *records, size_t count,
                             uint64_t sequence, uint8_t *out, size_t size)
{
    size_t at = STORE_HEAD_BYTES;
    for (size_t i = 0; i < count; i++) {
        size_t key = strlen(records[i].key);
        if (at + RECORD_HEAD + key + records[i].length > size)
            return 0;
        put16(out + at, (uint32_t)key);
        put16(out + at + 2, 0);
        put32(out + at + 4, records[i].length);
        memcpy(out + at + RECORD_HEAD, records[i].key, key);
        if (records[i].length)
            memcpy(out + at + RECORD_HEAD + key, records[i].value, records[i].length);
        at += RECORD_HEAD + key + records[i].length;
    }
    size_t total = round_to_sector(at);
    if (total > size)
        return 0;
    memset(out + at, 0, total - at);
    memcpy(out, MAGIC, MAGIC_SIZE);
    put32(out + S_VERSION, VERSION);
    put32(out + S_COUNT, (uint32_t)count);
    put64(out + S_SEQUENCE, sequence);
    put32(out + S_BODY_BYTES, (uint32_t)(at - STORE_HEAD_BYTES));
    put32(out + S_CRC, snapshot_crc(out, at - STORE_HEAD_BYTES));
    return total;
}

void store_records_free(struct store_record *records, size_t count)
{
    for (size_t i = 0; records && i < count; i++)
        free(records[i].value);
    free(records);
}

__attribute__((format(printf, 3, 4)))
static bool refuse(char *why, size_t size, const char *format, ...)
{
    va_list ap;
    va_start(ap, format);
    vsnprintf(why, size, format, ap);
    va_end(ap);
    return false;
}

bool store_snapshot_parse(const uint8_t *slot, size_t size, uint64_t *sequence,
                          struct store_record **records_out, size_t *count_out,
                          size_t *bytes_out, char *why, size_t why_size)
{
    if (size < STORE_HEAD_BYTES || memcmp(slot, MAGIC, MAGIC_SIZE) != 0)
        return refuse(why, why_size, "no snapshot");
    if (get32(slot + S_VERSION) != VERSION)
        return refuse(why, why_size, "snapshot version %u", get32(slot + S_VERSION));
    uint32_t body = get32(slot + S_BODY_BYTES), count = get32(slot + S_COUNT);
    if (body > size - STORE_HEAD_BYTES)
        return refuse(why, why_size, "snapshot body of %u bytes overruns its slot", body);
    if (snapshot_crc(slot, body) != get32(slot + S_CRC))
        return refuse(why, why_size, "snapshot CRC mismatch (torn or damaged)");
    if (count > STORE_RECORDS_MAX)
        return refuse(why, why_size, "%u records", count);
    struct store_record *records = calloc(count ? count : 1, sizeof(*records));
    if (!records)
        return refuse(why, why_size, "no memory for %u records", count);
    const uint8_t *p = slot + STORE_HEAD_BYTES, *end = p + body;
    size_t n = 0;
    for (; n < count; n++) {
        if ((size_t)(end - p) < RECORD_HEAD)
            break;
        uint32_t key = get16(p), length = get32(p + 4);
        if (key == 0 || key > STORE_KEY_MAX || get16(p + 2) != 0 ||
            length > STORE_VALUE_MAX || (size_t)(end - p) - RECORD_HEAD < (size_t)key + length)
            break;
        memcpy(records[n].key, p + RECORD_HEAD, key);
        records[n].key[key] = '\0';
        /* Valid keys, strictly ascending: no duplicates, and the order store_put keeps. */
        if (strlen(records[n].key) != key || !store_key_valid(records[n].key) ||
            (n > 0 && strcmp(records[n - 1].key, records[n].key) >= 0))
            break;
        records[n].length = length;
        records[n].value = malloc(length ? length : 1);
        if (!records[n].value) {
            store_records_free(records, n);
            return refuse(why, why_size, "no memory for record %zu", n);
        }
        memcpy(records[n].value, p + RECORD_HEAD + key, length);
        p += RECORD_HEAD + key + length;
    }
    if (n != count || p != end) {
        store_records_free(records, n);
        return refuse(why, why_size, "record %zu malformed", n);
    }
    *sequence = get64(slot + S_SEQUENCE);
    *records_out = records;
    *count_out = count;
    *bytes_out = STORE_HEAD_BYTES + body;
    return true;
}

/* Reads and parses one slot: its head sector first, then as much as it claims. */
static bool load_slot(struct store *store, unsigned slot, uint64_t *sequence,
                      struct store_record **records, size_t *count, size_t *bytes, char *why,
                      size_t why_size, bool *io_error)
{
    uint8_t head[SECTOR];
    uint64_t first = slot * store->slot_sectors;
    if (!store->io.read(store->io.context, first, 1, head)) {
        *io_error = true;
        return refuse(why, why_size, "read error");
    }
    if (memcmp(head, MAGIC, MAGIC_SIZE) != 0)
        return refuse(why, why_size, "empty");
    uint32_t body = get32(head + S_BODY_BYTES);
    size_t limit = store->slot_sectors * SECTOR < STORE_SNAPSHOT_MAX
                       ? store->slot_sectors * SECTOR
                       : STORE_SNAPSHOT_MAX;
    if (body > limit - STORE_HEAD_BYTES)
        return refuse(why, why_size, "snapshot body of %u bytes overruns its slot", body);
    size_t total = round_to_sector(STORE_HEAD_BYTES + (size_t)body);
    uint8_t *buffer = malloc(total);
    if (!buffer) {
        *io_error = true;
        return refuse(why, why_size, "no memory");
    }
    bool ok = store->io.read(store->io.context, first, (uint32_t)(total / SECTOR), buffer);
    if (!ok) {
        *io_error = true;
        snprintf(why, why_size, "read error");
    } else {
        ok = store_snapshot_parse(buffer, total, sequence, records, count, bytes, why,
                                  why_size);
    }
    free(buffer);
    return ok;
}

bool store_open(struct store *store, const struct disk_io *io, char *report,
                size_t report_size)
{
    memset(store, 0, sizeof(*store));
    store->io = *io;
    store->slot_sectors = io->sector_count / 2;
    if (store->slot_sectors * SECTOR < STORE_HEAD_BYTES + SECTOR) {
        snprintf(report, report_size, "the store extent is too small");
        return false;
    }
    uint64_t sequence[2] = {0, 0};
    struct store_record *records[2] = {NULL, NULL};
    size_t count[2] = {0, 0}, bytes[2] = {0, 0};
    char why[2][80];
    bool valid[2], io_error = false;
    for (unsigned s = 0; s < 2; s++)
        valid[s] = load_slot(store, s, &sequence[s], &records[s], &count[s], &bytes[s], why[s],
                             sizeof(why[s]), &io_error);
    if (io_error) {
        store_records_free(records[0], count[0]);
        store_records_free(records[1], count[1]);
        snprintf(report, report_size, "slot A: %s, slot B: %s", why[0], why[1]);
        return false;
    }
    if (!valid[0] && !valid[1]) {
        store->records = NULL;
        if (strcmp(why[0], "empty") == 0 && strcmp(why[1], "empty") == 0)
            snprintf(report, report_size, "empty");
        else
            snprintf(report, report_size, "no valid snapshot (slot A: %s, slot B: %s); empty",
                     why[0], why[1]);
        return true;
    }
    unsigned use = valid[0] && (!valid[1] || sequence[0] > sequence[1]) ? 0 : 1;
    store->newest_slot = use;
    store->sequence = sequence[use];
    store->records = records[use];
    store->count = count[use];
    store->snapshot_bytes = bytes[use];
    store_records_free(records[1 - use], count[1 - use]);
    if (valid[1 - use])
        snprintf(report, report_size, "%zu records, sequence %lu in slot %c", store->count,
                 (unsigned long)store->sequence, 'A' + use);
    else
        snprintf(report, report_size,
                 "%zu records, sequence %lu in slot %c (slot %c: %s)", store->count,
                 (unsigned long)store->sequence, 'A' + use, 'A' + (1 - use), why[1 - use]);
    return true;
}

bool store_erase(struct store *store, const struct disk_io *io)
{
    store_close(store);
    memset(store, 0, sizeof(*store));
    uint8_t zero[SECTOR];
    memset(zero, 0, sizeof(zero));
    uint64_t half = io->sector_count / 2;
    return half > 0 && io->write(io->context, 0, 1, zero) &&
           io->write(io->context, half, 1, zero) && io->flush(io->context);
}

void store_close(struct store *store)
{
    store_records_free(store->records, store->count);
    store->records = NULL;
    store->count = 0;
}

/* memcpy of records where either side may be the NULL of an empty store. */
static void copy_records(struct store_record *to, const struct store_record *from, size_t n)
{
    if (n)
        memcpy(to, from, n * sizeof(*to));
}

static size_t find(const struct store *store, const char *key, bool *found)
{
    size_t low = 0, high = store->count;
    while (low < high) {
        size_t mid = (low + high) / 2;
        int c = strcmp(store->records[mid].key, key);
        if (c == 0) {
            *found = true;
            return mid;
        }
        if (c < 0)
            low = mid + 1;
        else
            high = mid;
    }
    *found = false;
    return low;
}

const struct store_record *store_get(const struct store *store, const char *key)
{
    bool found;
    size_t at = find(store, key, &found);
    return found ? &store->records[at] : NULL;
}

/* Writes `records` as the next snapshot into the other slot and flushes. */
static enum store_result commit(struct store *store, const struct store_record *records,
                                size_t count)
{
    size_t capacity = store->slot_sectors * SECTOR;
    if (capacity > STORE_SNAPSHOT_MAX)
        capacity = STORE_SNAPSHOT_MAX;
    size_t needed = STORE_HEAD_BYTES;
    for (size_t i = 0; i < count; i++)
        needed += RECORD_HEAD + strlen(records[i].key) + records[i].length;
    if (needed > capacity || count > STORE_RECORDS_MAX)
        return STORE_FULL;
    uint8_t *snapshot = malloc(round_to_sector(needed));
    if (!snapshot)
        return STORE_NO_MEMORY;
    size_t bytes = store_snapshot_encode(records, count, store->sequence + 1, snapshot,
                                         round_to_sector(needed));
    unsigned slot = store->sequence == 0 ? 0 : 1 - store->newest_slot;
    bool ok = bytes && store->io.write(store->io.context, slot * store->slot_sectors,
                                       (uint32_t)(bytes / SECTOR), snapshot) &&
              store->io.flush(store->io.context);
    free(snapshot);
    if (!ok)
        return STORE_IO_ERROR;
    store->sequence++;
    store->newest_slot = slot;
    store->snapshot_bytes = needed;
    return STORE_OK;
}

enum store_result store_put(struct store *store, const char *key, const void *value,
                            size_t length)
{
    if (!store_key_valid(key) || length > STORE_VALUE_MAX)
        return STORE_INVALID;
    bool found;
    size_t at = find(store, key, &found);
    if (!found && store->count >= STORE_RECORDS_MAX)
        return STORE_FULL;
    /* The new set in a new array (pointers to the old values, the new one copied), so a
     * failed write leaves the store exactly as before. */
    size_t count = store->count + (found ? 0 : 1);
    struct store_record *next = malloc(count * sizeof(*next));
    uint8_t *copy = malloc(length ? length : 1);
    if (!next || !copy) {
        free(next);
        free(copy);
        return STORE_NO_MEMORY;
    }
    if (length)
        memcpy(copy, value, length);
    copy_records(next, store->records, at);
    snprintf(next[at].key, sizeof(next[at].key), "%s", key);
    next[at].value = copy;
    next[at].length = (uint32_t)length;
    copy_records(next + at + 1, store->records + at + (found ? 1 : 0),
                 store->count - at - (found ? 1 : 0));
    enum store_result result = commit(store, next, count);
    if (result != STORE_OK) {
        free(copy);
        free(next);
        return result;
    }
    if (found)
        free(store->records[at].value);
    free(store->records);
    store->records = next;
    store->count = count;
    return STORE_OK;
}

enum store_result store_delete(struct store *store, const char *key)
{
    bool found;
    size_t at = find(store, key, &found);
    if (!found)
        return STORE_NOT_FOUND;
    size_t count = store->count - 1;
    struct store_record *next = malloc((count ? count : 1) * sizeof(*next));
    if (!next)
        return STORE_NO_MEMORY;
    copy_records(next, store->records, at);
    copy_records(next + at, store->records + at + 1, count - at);
    enum store_result result = commit(store, next, count);
    if (result != STORE_OK) {
        free(next);
        return result;
    }
    free(store->records[at].value);
    free(store->records);
    store->records = next;
    store->count = count;
    return STORE_OK;
}
