// sources: root/disk.c root/store.c
/*
 * libFuzzer target for what the root reads from its disk: the layout header
 * (disk_layout_parse) and a store snapshot (store_snapshot_parse). The input's first byte
 * picks which, the rest is the sector data. Whatever the bytes, neither may crash, and what
 * they accept must be what the firmware itself would write: extents inside the disk, not
 * overlapping, one store; a snapshot that re-encodes to the same bytes.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "root/disk.h"
#include "root/store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REQUIRE(cond)                                                                   \
    do {                                                                                \
        if (!(cond)) {                                                                  \
            fprintf(stderr, "fuzz_disk_store: invariant failed: %s (line %d)\n", #cond, \
                    __LINE__);                                                          \
            abort();                                                                    \
        }                                                                               \
    } while (0)

#define DISK_SECTORS (1ull << 24)

static void check_layout(const uint8_t *data, size_t size)
{
    static uint8_t header[DISK_HEADER_BYTES];
    memset(header, 0, sizeof(header));
    memcpy(header, data, size < sizeof(header) ? size : sizeof(header));
    struct disk_layout layout;
    char why[DISK_WHY_MAX];
    if (!disk_layout_parse(header, DISK_SECTORS, &layout, why, sizeof(why)))
        return;
    unsigned stores = 0;
    for (uint32_t i = 0; i < layout.extent_count; i++) {
        const struct disk_extent *x = &layout.extents[i];
        REQUIRE(disk_name_valid(x->name));
        REQUIRE(x->start >= DISK_DATA_START && x->length > 0);
        REQUIRE(x->start + x->length <= DISK_SECTORS);
        for (uint32_t j = 0; j < i; j++)
            REQUIRE(x->start >= layout.extents[j].start + layout.extents[j].length ||
                    layout.extents[j].start >= x->start + x->length);
        stores += x->kind == DISK_EXTENT_STORE;
    }
    REQUIRE(stores == 1);
    static uint8_t again[DISK_HEADER_BYTES];
    disk_layout_encode(&layout, again);
    REQUIRE(memcmp(again, header, sizeof(header)) == 0);
}

static void check_snapshot(const uint8_t *data, size_t size)
{
    uint64_t sequence;
    struct store_record *records = NULL;
    size_t count = 0, bytes = 0;
    char why[80];
    if (!store_snapshot_parse(data, size, &sequence, &records, &count, &bytes, why, sizeof(why)))
        return;
    REQUIRE(bytes <= size);
    for (size_t i = 0; i < count; i++) {
        REQUIRE(store_key_valid(records[i].key));
        REQUIRE(i == 0 || strcmp(records[i - 1].key, records[i].key) < 0);
    }
    size_t room = (bytes + 511) / 512 * 512;
    uint8_t *again = malloc(room);
    REQUIRE(again != NULL);
    REQUIRE(store_snapshot_encode(records, count, sequence, again, room) == room);
    REQUIRE(memcmp(again, data, bytes) == 0);
    free(again);
    store_records_free(records, count);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    if (data[0] & 1)
        check_layout(data + 1, size - 1);
    else
        check_snapshot(data + 1, size - 1);
    return 0;
}
