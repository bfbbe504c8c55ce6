// sources: root/store.c root/disk.c
/* The crash-safe store (root/store.c) on a RAM disk: records survive a reopen; a write
 * torn at every byte offset of the snapshot being written (a put and a delete) reopens as
 * the state before the change or, once every changed byte is down, after it, never
 * anything else; failed writes and a full store leave the store as it was; hostile
 * snapshots with a valid CRC (bad lengths, keys, order, counts) are refused. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "root/store.h"
#include "tests/unit/ram_disk.h"

#define EXTENT_SECTORS 128u /* 64 KiB: two slots of 32 KiB */

static struct disk_io io;
static struct store store;

static void setup(void)
{
    io = ram_disk_open(EXTENT_SECTORS, true);
    flush_fails_with_writes = true;
    char report[160];
    ck_assert(store_open(&store, &io, report, sizeof(report)));
    ck_assert_str_eq(report, "empty");
}

static void teardown(void)
{
    store_close(&store);
    free(ram);
}

static void reopen(char *report, size_t size)
{
    store_close(&store);
    ck_assert(store_open(&store, &io, report, size));
}

static void put_text(const char *key, const char *value)
{
    ck_assert_int_eq(store_put(&store, key, value, strlen(value)), STORE_OK);
}

static bool has(const char *key, const char *value)
{
    const struct store_record *r = store_get(&store, key);
    return r && r->length == strlen(value) && memcmp(r->value, value, r->length) == 0;
}

START_TEST(records_survive_a_reopen)
{
    put_text("setting.net", "off");
    put_text("setting.mgmt.port", "8443");
    put_text("vm.web", "{\"memory\":256}");
    put_text("setting.net", "dhcp");
    ck_assert_int_eq(store_put(&store, "empty", "", 0), STORE_OK);
    ck_assert_int_eq(store_delete(&store, "setting.mgmt.port"), STORE_OK);
    ck_assert_int_eq(store_delete(&store, "setting.mgmt.port"), STORE_NOT_FOUND);
    char report[160];
    reopen(report, sizeof(report));
    ck_assert_msg(strstr(report, "3 records"), "%s", report);
    ck_assert(has("setting.net", "dhcp"));
    ck_assert(has("vm.web", "{\"memory\":256}"));
    ck_assert(has("empty", ""));
    ck_assert_ptr_null(store_get(&store, "setting.mgmt.port"));
    ck_assert_uint_eq(store.count, 3);
    /* Sorted, whatever the order of the puts. */
    ck_assert_str_eq(store.records[0].key, "empty");
    ck_assert_str_eq(store.records[2].key, "vm.web");
}
END_TEST

START_TEST(bad_keys_and_values_are_refused)
{
    static uint8_t big[STORE_VALUE_MAX + 1];
    ck_assert_int_eq(store_put(&store, "", "x", 1), STORE_INVALID);
    ck_assert_int_eq(store_put(&store, "a b", "x", 1), STORE_INVALID);
    ck_assert_int_eq(store_put(&store, "a=b", "x", 1), STORE_INVALID);
    ck_assert_int_eq(store_put(&store, "a\"", "x", 1), STORE_INVALID);
    ck_assert_int_eq(store_put(&store, "a\x7f", "x", 1), STORE_INVALID);
    char long_key[STORE_KEY_MAX + 2];
    memset(long_key, 'k', sizeof(long_key) - 1);
    long_key[sizeof(long_key) - 1] = '\0';
    ck_assert_int_eq(store_put(&store, long_key, "x", 1), STORE_INVALID);
    long_key[STORE_KEY_MAX] = '\0';
    ck_assert_int_eq(store_put(&store, long_key, "x", 1), STORE_OK);
    ck_assert_int_eq(store_put(&store, "big", big, sizeof(big)), STORE_INVALID);
    ck_assert_uint_eq(store.count, 1);
}
END_TEST

/* The media after `change`, torn: the slot being written has the new bytes only up to
 * `cut`; reopened, the store must be exactly `before_state` or exactly `after_state`. */
static void check_torn(void (*change)(void), bool (*before_state)(void),
                       bool (*after_state)(void))
{
    uint8_t *before = malloc(EXTENT_SECTORS * 512), *after = malloc(EXTENT_SECTORS * 512);
    memcpy(before, ram, EXTENT_SECTORS * 512);
    change();
    memcpy(after, ram, EXTENT_SECTORS * 512);
    /* The slot that changed, and how far the change reaches. */
    size_t first = EXTENT_SECTORS * 512, last = 0;
    for (size_t i = 0; i < EXTENT_SECTORS * 512; i++)
        if (before[i] != after[i]) {
            first = i < first ? i : first;
            last = i;
        }
    ck_assert_uint_lt(first, last);
    size_t slot_start = first / (EXTENT_SECTORS * 256) * (EXTENT_SECTORS * 256);
    /* Bytes past the new snapshot (the padding of its last sector over an older, longer
     * snapshot) change too but do not matter. */
    size_t end = slot_start + store.snapshot_bytes;
    while (last >= end)
        last--;
    while (before[last] == after[last])
        last--;
    int old_seen = 0, new_seen = 0;
    for (size_t cut = slot_start; cut <= last + 1; cut++) {
        memcpy(ram, before, EXTENT_SECTORS * 512);
        memcpy(ram + slot_start, after + slot_start, cut - slot_start);
        char report[160];
        reopen(report, sizeof(report));
        if (cut <= last) {
            ck_assert_msg(before_state(), "cut at %zu: %s", cut, report);
            old_seen++;
        } else {
            ck_assert_msg(after_state(), "cut at %zu: %s", cut, report);
            new_seen++;
        }
    }
    ck_assert_int_eq(old_seen, (int)(last + 1 - slot_start));
    ck_assert_int_eq(new_seen, 1);
    /* Torn the other way (the device wrote the later sectors first): only the bytes from
     * `cut` on are new. */
    for (size_t cut = first + 1; cut <= last; cut++) {
        memcpy(ram, before, EXTENT_SECTORS * 512);
        memcpy(ram + cut, after + cut, slot_start + EXTENT_SECTORS * 256 - cut);
        char report[160];
        reopen(report, sizeof(report));
        ck_assert_msg(before_state(), "suffix from %zu: %s", cut, report);
    }
    memcpy(ram, after, EXTENT_SECTORS * 512);
    free(before);
    free(after);
}

static void fill_some(void)
{
    put_text("setting.net", "off");
    put_text("setting.net.ip", "10.0.0.2/24");
    put_text("vm.db", "{\"memory\":512,\"vps\":2}");
}

static bool three_records(void)
{
    return store.count == 3 && has("setting.net", "off") && has("setting.net.ip", "10.0.0.2/24") &&
           has("vm.db", "{\"memory\":512,\"vps\":2}");
}

static void put_web(void)
{
    put_text("vm.web", "{\"memory\":256,\"kernel\":\"vmlinuz\",\"cmdline\":\"console=ttyS0\"}");
}

static bool four_records(void)
{
    return store.count == 4 && has("setting.net", "off") && has("vm.db", "{\"memory\":512,\"vps\":2}") &&
           has("vm.web", "{\"memory\":256,\"kernel\":\"vmlinuz\",\"cmdline\":\"console=ttyS0\"}");
}

static void delete_db(void)
{
    ck_assert_int_eq(store_delete(&store, "vm.db"), STORE_OK);
}

static bool db_deleted(void)
{
    return store.count == 2 && has("setting.net", "off") && !store_get(&store, "vm.db");
}

static void replace_net(void)
{
    put_text("setting.net", "dhcp");
}

static bool net_replaced(void)
{
    return store.count == 3 && has("setting.net", "dhcp") && has("vm.db", "{\"memory\":512,\"vps\":2}");
}

START_TEST(torn_put_at_every_byte_loses_only_that_put)
{
    fill_some();
    check_torn(put_web, three_records, four_records);
}
END_TEST

START_TEST(torn_delete_and_replace_at_every_byte)
{
    fill_some();
    check_torn(delete_db, three_records, db_deleted);
    /* Again from a fresh reopen of the original state, the replace goes to the slot the
     * store picks next. */
    memset(ram, 0, EXTENT_SECTORS * 512);
    char report[160];
    reopen(report, sizeof(report));
    fill_some();
    put_web();
    ck_assert_int_eq(store_delete(&store, "vm.web"), STORE_OK);
    check_torn(replace_net, three_records, net_replaced);
}
END_TEST

START_TEST(writes_after_a_torn_write_continue_the_sequence)
{
    fill_some();
    uint64_t sequence = store.sequence;
    uint8_t *before = malloc(EXTENT_SECTORS * 512);
    memcpy(before, ram, EXTENT_SECTORS * 512);
    put_web();
    /* Tear it: half the new snapshot. */
    unsigned slot = store.newest_slot;
    memcpy(ram + slot * EXTENT_SECTORS * 256 + 100, before + slot * EXTENT_SECTORS * 256 + 100,
           EXTENT_SECTORS * 256 - 100);
    char report[160];
    reopen(report, sizeof(report));
    ck_assert(three_records());
    ck_assert_uint_eq(store.sequence, sequence);
    ck_assert_msg(strstr(report, "CRC"), "%s", report);
    /* The next write goes over the torn slot, and both reopen fine. */
    put_web();
    reopen(report, sizeof(report));
    ck_assert(four_records());
    ck_assert_uint_eq(store.sequence, sequence + 1);
    free(before);
}
END_TEST

START_TEST(failed_writes_change_nothing)
{
    fill_some();
    writes_left = 0;
    ck_assert_int_eq(store_put(&store, "vm.web", "x", 1), STORE_IO_ERROR);
    ck_assert_int_eq(store_put(&store, "setting.net", "dhcp", 4), STORE_IO_ERROR);
    ck_assert_int_eq(store_delete(&store, "vm.db"), STORE_IO_ERROR);
    ck_assert(three_records());
    writes_left = -1;
    char report[160];
    reopen(report, sizeof(report));
    ck_assert(three_records());
}
END_TEST

START_TEST(a_full_store_refuses_and_keeps_what_it_has)
{
    /* A slot is 32 KiB: 1 KiB values fill it after about 31 records. */
    static uint8_t value[1024];
    int stored = 0;
    enum store_result result = STORE_OK;
    while (result == STORE_OK) {
        char key[16];
        snprintf(key, sizeof(key), "blob.%03d", stored);
        memset(value, stored, sizeof(value));
        result = store_put(&store, key, value, sizeof(value));
        stored += result == STORE_OK;
    }
    ck_assert_int_eq(result, STORE_FULL);
    ck_assert_int_ge(stored, 30);
    ck_assert_uint_eq(store.count, (size_t)stored);
    /* Replacing with something smaller still works; deleting makes room. */
    ck_assert_int_eq(store_put(&store, "blob.000", "s", 1), STORE_OK);
    ck_assert_int_eq(store_delete(&store, "blob.001"), STORE_OK);
    ck_assert_int_eq(store_put(&store, "blob.new", value, sizeof(value)), STORE_OK);
    char report[160];
    reopen(report, sizeof(report));
    ck_assert_uint_eq(store.count, (size_t)stored);
    ck_assert_uint_eq(store_get(&store, "blob.002")->value[0], 2);
}
END_TEST

START_TEST(erase_forgets_everything)
{
    fill_some();
    ck_assert(store_erase(&store, &io));
    char report[160];
    ck_assert(store_open(&store, &io, report, sizeof(report)));
    ck_assert_str_eq(report, "empty");
    ck_assert_uint_eq(store.count, 0);
}
END_TEST

/* A snapshot with a correct CRC around `body`: the parser must check the body itself. */
static size_t forge(uint8_t *slot, uint32_t count, const uint8_t *body, uint32_t length)
{
    memset(slot, 0, 4096);
    memcpy(slot, "HVFWSTOR", 8);
    uint32_t version = 1;
    uint64_t sequence = 9;
    memcpy(slot + 8, &version, 4);
    memcpy(slot + 12, &count, 4);
    memcpy(slot + 16, &sequence, 8);
    memcpy(slot + 24, &length, 4);
    memcpy(slot + 32, body, length);
    uint32_t crc = disk_crc32(disk_crc32(0, slot, 32), body, length);
    memcpy(slot + 28, &crc, 4);
    return 4096;
}

static bool forged_parses(uint32_t count, const void *body, uint32_t length)
{
    static uint8_t slot[4096];
    size_t size = forge(slot, count, body, length);
    uint64_t sequence;
    struct store_record *records = NULL;
    size_t n = 0, bytes = 0;
    char why[80];
    bool ok = store_snapshot_parse(slot, size, &sequence, &records, &n, &bytes, why, sizeof(why));
    store_records_free(records, n);
    return ok;
}

START_TEST(hostile_snapshots_are_refused)
{
    /* key length 1 "a", value length 1 "x" */
    const uint8_t good[] = {1, 0, 0, 0, 1, 0, 0, 0, 'a', 'x'};
    ck_assert(forged_parses(1, good, sizeof(good)));
    ck_assert(forged_parses(0, "", 0));
    ck_assert(!forged_parses(2, good, sizeof(good)));               /* count too high */
    ck_assert(!forged_parses(0, good, sizeof(good)));               /* bytes left over */
    ck_assert(!forged_parses(1, good, sizeof(good) - 1));           /* value cut */
    ck_assert(!forged_parses(1, good, 7));                          /* head cut */
    const uint8_t zero_key[] = {0, 0, 0, 0, 1, 0, 0, 0, 'x'};
    ck_assert(!forged_parses(1, zero_key, sizeof(zero_key)));
    const uint8_t pad[] = {1, 0, 1, 0, 1, 0, 0, 0, 'a', 'x'};
    ck_assert(!forged_parses(1, pad, sizeof(pad)));
    const uint8_t huge[] = {1, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF, 'a', 'x'};
    ck_assert(!forged_parses(1, huge, sizeof(huge)));
    const uint8_t space_key[] = {1, 0, 0, 0, 1, 0, 0, 0, ' ', 'x'};
    ck_assert(!forged_parses(1, space_key, sizeof(space_key)));
    const uint8_t nul_key[] = {2, 0, 0, 0, 0, 0, 0, 0, 'a', 0};
    ck_assert(!forged_parses(1, nul_key, sizeof(nul_key)));
    const uint8_t twice[] = {1, 0, 0, 0, 0, 0, 0, 0, 'a', 1, 0, 0, 0, 0, 0, 0, 0, 'a'};
    ck_assert(!forged_parses(2, twice, sizeof(twice)));
    const uint8_t unsorted[] = {1, 0, 0, 0, 0, 0, 0, 0, 'b', 1, 0, 0, 0, 0, 0, 0, 0, 'a'};
    ck_assert(!forged_parses(2, unsorted, sizeof(unsorted)));
    const uint8_t sorted[] = {1, 0, 0, 0, 0, 0, 0, 0, 'a', 1, 0, 0, 0, 0, 0, 0, 0, 'b'};
    ck_assert(forged_parses(2, sorted, sizeof(sorted)));
    /* A body length past the slot. */
    static uint8_t slot[4096];
    forge(slot, 0, (const uint8_t *)"", 0);
    uint32_t length = 5000;
    memcpy(slot + 24, &length, 4);
    uint64_t sequence;
    struct store_record *records = NULL;
    size_t n = 0, bytes = 0;
    char why[80];
    ck_assert(!store_snapshot_parse(slot, sizeof(slot), &sequence, &records, &n, &bytes, why,
                                    sizeof(why)));
    /* And on the media: a slot head claiming more than the slot is refused, not read. */
    memcpy(ram, slot, 512);
    length = UINT32_MAX;
    memcpy(ram + 24, &length, 4);
    char report[160];
    reopen(report, sizeof(report));
    ck_assert_msg(strstr(report, "overruns"), "%s", report);
}
END_TEST

START_TEST(random_damage_is_never_taken)
{
    fill_some();
    put_web();
    uint8_t *good = malloc(EXTENT_SECTORS * 512);
    memcpy(good, ram, EXTENT_SECTORS * 512);
    srand(11);
    unsigned newest = store.newest_slot;
    for (int round = 0; round < 300; round++) {
        memcpy(ram, good, EXTENT_SECTORS * 512);
        size_t at = newest * EXTENT_SECTORS * 256 + (size_t)(rand() % (int)store.snapshot_bytes);
        ram[at] ^= (uint8_t)(1 + rand() % 255);
        char report[160];
        reopen(report, sizeof(report));
        ck_assert_msg(three_records(), "damage at %zu: %s", at, report);
        reopen(report, sizeof(report)); /* the state to compare next round is not kept */
        memcpy(ram, good, EXTENT_SECTORS * 512);
        reopen(report, sizeof(report));
        ck_assert(four_records());
    }
    free(good);
}
END_TEST

START_TEST(a_too_small_extent_is_refused)
{
    struct disk_io tiny = io;
    tiny.sector_count = 1;
    struct store s;
    char report[160];
    ck_assert(!store_open(&s, &tiny, report, sizeof(report)));
}
END_TEST

Suite *store_suite(void)
{
    Suite *s = suite_create("store");
    TCase *tc = tcase_create("store");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, records_survive_a_reopen);
    tcase_add_test(tc, bad_keys_and_values_are_refused);
    tcase_add_test(tc, torn_put_at_every_byte_loses_only_that_put);
    tcase_add_test(tc, torn_delete_and_replace_at_every_byte);
    tcase_add_test(tc, writes_after_a_torn_write_continue_the_sequence);
    tcase_add_test(tc, failed_writes_change_nothing);
    tcase_add_test(tc, a_full_store_refuses_and_keeps_what_it_has);
    tcase_add_test(tc, erase_forgets_everything);
    tcase_add_test(tc, hostile_snapshots_are_refused);
    tcase_add_test(tc, random_damage_is_never_taken);
    tcase_add_test(tc, a_too_small_extent_is_refused);
    suite_add_tcase(s, tc);
    return s;
}
