/*
 * A RAM disk behind root/disk.h's struct disk_io for the suites of the appliance disk
 * (test_disk.c, test_disk_block.c, test_store.c, test_stored_settings.c): 512-byte sectors
 * in `ram`, and the knobs a suite turns to make the device fail. Static: each suite gets
 * its own copy.
 */
#ifndef HVFW_TESTS_RAM_DISK_H
#define HVFW_TESTS_RAM_DISK_H

#include <check.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "root/disk.h"

static uint8_t *ram;
static uint64_t ram_sectors;         /* an access past it fails the test; 0: not checked */
static int writes_left = -1;         /* >= 0: the write after this many more fails, and all
                                      * after it; -1: none fails */
static bool flush_fails_with_writes; /* a flush fails too while writes do */
static int flushes;                  /* flushes done */

static inline bool ram_read(void *context, uint64_t sector, uint32_t count, void *buffer)
{
    (void)context;
    if (ram_sectors)
        ck_assert_uint_le(sector + count, ram_sectors);
    memcpy(buffer, ram + sector * 512, (size_t)count * 512);
    return true;
}

static inline bool ram_write(void *context, uint64_t sector, uint32_t count, const void *buffer)
{
    (void)context;
    if (ram_sectors)
        ck_assert_uint_le(sector + count, ram_sectors);
    if (writes_left == 0)
        return false;
    if (writes_left > 0)
        writes_left--;
    memcpy(ram + sector * 512, buffer, (size_t)count * 512);
    return true;
}

static inline bool ram_flush(void *context)
{
    (void)context;
    flushes++;
    return !(flush_fails_with_writes && writes_left == 0);
}

/* `sectors` zero sectors (every access checked against them when `checked`), nothing
 * failing, no flushes yet; the disk_io to hand to the module. The suite frees `ram`. */
static inline struct disk_io ram_disk_open(uint64_t sectors, bool checked)
{
    ram = calloc(sectors, 512);
    ck_assert_ptr_nonnull(ram);
    ram_sectors = checked ? sectors : 0;
    writes_left = -1;
    flush_fails_with_writes = false;
    flushes = 0;
    return (struct disk_io){ sectors, ram_read, ram_write, ram_flush, NULL, false };
}

#endif
