#include "root/storage.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "drivers/pci.h"
#include "drivers/nvme.h"
#include "drivers/virtio_blk.h"
#include "kernel/cmdline.h"
#include "root/disk.h"
#include "root/platform.h"
#include "root/stored_settings.h"

#define MIB (1024u * 1024u)
#define MIB_SECTORS (MIB / DISK_SECTOR_SIZE)
#define BENCH_CHUNK_SECTORS (MIB_SECTORS * 4u)
#define BENCH_MAX_MIB 64u

static struct {
    bool store_open;
    struct store store;
    struct root_boot_info merged; /* root_boot_info once stored settings apply */
    uint32_t request_bytes;       /* the disk driver's largest request */
} storage;

struct store *storage_store(void)
{
    return storage.store_open ? &storage.store : NULL;
}

static bool blk_read(void *context, uint64_t sector, uint32_t count, void *buffer)
{
    (void)context;
    return virtio_blk_read(sector, count, buffer);
}

static bool blk_write(void *context, uint64_t sector, uint32_t count, const void *buffer)
{
    (void)context;
    return virtio_blk_write(sector, count, buffer);
}

static bool blk_flush(void *context)
{
    (void)context;
    return virtio_blk_flush();
}

static bool nvme_io_read(void *context, uint64_t sector, uint32_t count, void *buffer)
{
    (void)context;
    return nvme_read(sector, count, buffer);
}

static bool nvme_io_write(void *context, uint64_t sector, uint32_t count, const void *buffer)
{
    (void)context;
    return nvme_write(sector, count, buffer);
}

static bool nvme_io_flush(void *context)
{
    (void)context;
    return nvme_flush();
}

/* The first disk found: a virtio-blk device, else an NVMe controller's namespace 1. */
static bool disk_driver_start(struct disk_io *io, uint32_t *request_bytes)
{
    if (virtio_blk_start()) {
        const struct virtio_blk_info *info = virtio_blk_info();
        *io = (struct disk_io){info->sector_count, blk_read, blk_write, blk_flush, NULL,
                               info->read_only};
        *request_bytes = info->request_bytes;
        return true;
    }
    if (nvme_start()) {
        const struct nvme_info *info = nvme_info();
        *io = (struct disk_io){info->sector_count, nvme_io_read, nvme_io_write, nvme_io_flush,
                               NULL, false};
        *request_bytes = info->request_bytes;
        return true;
    }
    return false;
}

static enum disk_format_mode format_mode(const char *cmdline)
{
    char value[16];
    if (!cmdline_get(cmdline, "disk.format", value, sizeof(value)) || strcmp(value, "0") == 0)
        return DISK_FORMAT_NEVER;
    if (strcmp(value, "force") == 0)
        return DISK_FORMAT_FORCE;
    if (strcmp(value, "1") == 0)
        return DISK_FORMAT_BLANK;
    printf("root: disk: disk.format=%.15s is not 1 or force; nothing is formatted\n", value);
    return DISK_FORMAT_NEVER;
}

static void print_layout(void)
{
    const struct disk_layout *layout = disk_layout();
    for (uint32_t i = 0; i < layout->extent_count; i++) {
        const struct disk_extent *x = &layout->extents[i];
        printf("root: disk:   %-8s %-23s at %lu MiB, %lu MiB\n",
               x->kind == DISK_EXTENT_STORE ? "store" : "volume", x->name,
               (unsigned long)(x->start / MIB_SECTORS), (unsigned long)(x->length / MIB_SECTORS));
    }
}

/* `disk.NAME=SIZE_MIB`: made if absent; an existing one of another size is kept as it is
 * (a volume is never resized or erased by a command line). */
static void declare_volumes(const char *cmdline)
{
    struct cmdline_iter it;
    static struct cmdline_entry entry;
    cmdline_iter_init(&it, cmdline);
    while (cmdline_next(&it, &entry)) {
        if (strncmp(entry.key, "disk.", 5) != 0)
            continue;
        const char *name = entry.key + 5;
        if (strcmp(name, "format") == 0 || strcmp(name, "unset") == 0 ||
            strncmp(name, "set.", 4) == 0)
            continue;
        char *end;
        unsigned long mib = strtoul(entry.value, &end, 10);
        if (!disk_name_valid(name) || strcmp(name, "store") == 0) {
            printf("root: disk: %.40s: a volume name is 1-%u of a-z 0-9 _ - (not store); "
                   "ignored\n", entry.key, DISK_NAME_MAX - 1);
            continue;
        }
        if (!entry.has_value || entry.value[0] < '0' || entry.value[0] > '9' || *end ||
            mib == 0) {
            printf("root: disk: disk.%s=%.20s is not a size in MiB; ignored\n", name,
                   entry.value);
            continue;
        }
        const struct disk_extent *x = disk_layout_find(disk_layout(), name);
        if (x) {
            if (x->length != (uint64_t)mib * MIB_SECTORS)
                printf("root: disk: volume %s is %lu MiB, not %lu: kept as it is\n", name,
                       (unsigned long)(x->length / MIB_SECTORS), mib);
            continue;
        }
        char why[DISK_WHY_MAX];
        if (disk_volume_create(name, mib, why, sizeof(why)))
            printf("root: disk: volume %s created, %lu MiB\n", name, mib);
        else
            printf("root: disk: volume %s not created: %s\n", name, why);
    }
}

/* `disk.set.KEY=VALUE` and `disk.unset=KEY`: stored settings changed from the command line
 * (provisioning, tests), each written durably before the next. */
static void change_settings(const char *cmdline)
{
    struct cmdline_iter it;
    static struct cmdline_entry entry;
    cmdline_iter_init(&it, cmdline);
    while (cmdline_next(&it, &entry)) {
        bool set = strncmp(entry.key, "disk.set.", 9) == 0;
        if (!set && strcmp(entry.key, "disk.unset") != 0)
            continue;
        const char *key = set ? entry.key + 9 : entry.value;
        const char *why = stored_settings_refusal(key);
        if (entry.truncated || !entry.has_value || why) {
            printf("root: settings: %.40s%s%.40s not stored: %s\n", entry.key, set ? "" : "=",
                   set ? "" : entry.value, why ? why : "no value or too long");
            continue;
        }
        char record[STORE_KEY_MAX + 1];
        if (snprintf(record, sizeof(record), "%s%s", STORED_SETTING_PREFIX, key) >=
            (int)sizeof(record)) {
            printf("root: settings: %.40s not stored: key too long\n", key);
            continue;
        }
        enum store_result result = set ? store_put(&storage.store, record, entry.value,
                                                   strlen(entry.value))
                                       : store_delete(&storage.store, record);
        if (result == STORE_OK)
            printf("root: settings: %s %s on the disk\n", key, set ? "stored" : "removed");
        else
            printf("root: settings: %s not %s: %s\n", key, set ? "stored" : "removed",
                   store_result_name(result));
    }
}

static void report_line(const char *line, void *context)
{
    (void)context;
    printf("root: settings: %s\n", line);
}

static void apply_stored_settings(void)
{
    static char merged[ROOT_CMDLINE_MAX];
    if (stored_settings_merge(root_boot_info->cmdline, &storage.store, merged, sizeof(merged),
                              report_line, NULL) == 0)
        return;
    /* The hand-over stays as the hypervisor wrote it; the root reads a copy with the
     * merged line from here on (root/platform.h's pointer). */
    storage.merged = *root_boot_info;
    memcpy(storage.merged.cmdline, merged, sizeof(merged));
    root_boot_info = &storage.merged;
}

static uint64_t mb_per_s_tenths(uint64_t bytes, uint64_t ns)
{
    return ns ? bytes * 10000u / ns : 0;
}

static uint8_t bench_byte(uint64_t offset)
{
    return (uint8_t)(offset * 131u + (offset >> 12) * 7u + (offset >> 20));
}

/* Sequential write, flush, then read back and compare, over up to BENCH_MAX_MIB of the
 * volume in 4 MiB calls (each split by the driver into requests it keeps in flight). */
static bool bench(const char *name)
{
    struct disk_volume *v = disk_volume_open(name);
    if (!v || v->store) {
        printf("selftest: disk-bench: no volume %.23s\n", name);
        return false;
    }
    uint64_t mib = v->sector_count / MIB_SECTORS;
    if (mib > BENCH_MAX_MIB)
        mib = BENCH_MAX_MIB;
    uint8_t *buffer = malloc((size_t)BENCH_CHUNK_SECTORS * DISK_SECTOR_SIZE);
    if (!buffer || mib < 4) {
        free(buffer);
        printf("selftest: disk-bench: %s\n", buffer ? "the volume is under 4 MiB" : "no memory");
        return false;
    }
    uint64_t sectors = mib / 4 * 4 * MIB_SECTORS, bytes = sectors * DISK_SECTOR_SIZE;
    uint64_t chunk_bytes = (uint64_t)BENCH_CHUNK_SECTORS * DISK_SECTOR_SIZE;
    uint64_t write_ns = 0, read_ns = 0;
    bool ok = true;
    for (uint64_t s = 0; ok && s < sectors; s += BENCH_CHUNK_SECTORS) {
        for (uint64_t i = 0; i < chunk_bytes; i++)
            buffer[i] = bench_byte(s * DISK_SECTOR_SIZE + i);
        uint64_t t0 = root_time_ns();
        ok = disk_volume_write(v, s, BENCH_CHUNK_SECTORS, buffer);
        write_ns += root_time_ns() - t0;
    }
    uint64_t t0 = root_time_ns();
    ok = ok && disk_volume_flush(v);
    write_ns += root_time_ns() - t0;
    uint64_t mismatch = UINT64_MAX;
    for (uint64_t s = 0; ok && s < sectors && mismatch == UINT64_MAX; s += BENCH_CHUNK_SECTORS) {
        memset(buffer, 0, chunk_bytes);
        t0 = root_time_ns();
        ok = disk_volume_read(v, s, BENCH_CHUNK_SECTORS, buffer);
        read_ns += root_time_ns() - t0;
        for (uint64_t i = 0; ok && i < chunk_bytes; i++)
            if (buffer[i] != bench_byte(s * DISK_SECTOR_SIZE + i)) {
                mismatch = s * DISK_SECTOR_SIZE + i;
                break;
            }
    }
    free(buffer);
    if (!ok || mismatch != UINT64_MAX) {
        if (ok)
            printf("selftest: disk-bench: FAILED: byte %lu of volume %s reads back wrong\n",
                   (unsigned long)mismatch, name);
        else
            printf("selftest: disk-bench: FAILED: I/O error on volume %s\n", name);
        return false;
    }
    uint64_t w = mb_per_s_tenths(bytes, write_ns), r = mb_per_s_tenths(bytes, read_ns);
    printf("selftest: disk-bench: ok: volume %s, %lu MiB sequential: write %lu.%lu MB/s, "
           "read %lu.%lu MB/s (requests of up to %u KiB), data checked\n",
           name, (unsigned long)(bytes / MIB), (unsigned long)(w / 10), (unsigned long)(w % 10),
           (unsigned long)(r / 10), (unsigned long)(r % 10),
           storage.request_bytes / 1024);
    return true;
}

bool storage_start(void)
{
    const char *cmdline = root_boot_info->cmdline;
    pci_scan_devices();
    struct disk_io io;
    if (!disk_driver_start(&io, &storage.request_bytes)) {
        printf("root: disk: no usable disk (virtio-blk or NVMe); settings from the command "
               "line only\n");
        return true;
    }
    char why[DISK_WHY_MAX];
    enum disk_attach_result result = disk_attach(&io, format_mode(cmdline), why, sizeof(why));
    switch (result) {
    case DISK_FAILED:
        printf("root: disk: %s; not used\n", why);
        return true;
    case DISK_NOT_HVFW:
        printf("root: disk: %lu MiB holding %s: not an hvfw disk, left alone (disk.format=1 "
               "on the firmware command line formats it); settings from the command line "
               "only\n", (unsigned long)(io.sector_count / MIB_SECTORS), why);
        return true;
    case DISK_ATTACHED:
    case DISK_FORMATTED:
        break;
    }
    const struct disk_layout *layout = disk_layout();
    printf("root: disk: hvfw disk %s: %lu MiB, %u extent(s), generation %lu%s%s\n",
           result == DISK_FORMATTED ? "formatted (disk.format)" : "found",
           (unsigned long)(io.sector_count / MIB_SECTORS), layout->extent_count,
           (unsigned long)layout->generation, why[0] ? "; " : "", why);
    struct disk_volume *store_volume = disk_volume_open("store");
    if (result == DISK_FORMATTED && !store_erase(&storage.store, &store_volume->io))
        printf("root: disk: erasing the new store failed\n");
    declare_volumes(cmdline);
    print_layout();
    char report[160];
    storage.store_open = store_open(&storage.store, &store_volume->io, report, sizeof(report));
    printf("root: store: %s%s\n", storage.store_open ? "" : "not usable: ", report);
    if (storage.store_open) {
        change_settings(cmdline);
        apply_stored_settings();
    }
    char volume[DISK_NAME_MAX + 8];
    if (cmdline_get(root_boot_info->cmdline, "test.disk_bench", volume, sizeof(volume)))
        return bench(volume);
    return true;
}
