// sources: hv/guest_paging.c
#include <check.h>
#include <stdint.h>
#include <string.h>

#include "hv/guest_paging.h"
#include "hv/msr.h"

/* An 8 MiB fake guest: page tables built by hand at fixed GPAs. */
#define MEMORY_SIZE (8u << 20)
static uint8_t memory[MEMORY_SIZE];
static unsigned reads;

static bool fake_read(void *context, uint64_t gpa, void *buffer, unsigned size)
{
    (void)context;
    reads++;
    if (gpa > MEMORY_SIZE || size > MEMORY_SIZE - gpa)
        return false;
    memcpy(buffer, memory + gpa, size);
    return true;
}

static void put64(uint64_t gpa, uint64_t value) { memcpy(memory + gpa, &value, 8); }
static void put32(uint64_t gpa, uint32_t value) { memcpy(memory + gpa, &value, 4); }

static struct guest_paging long_mode(void)
{
    return (struct guest_paging){.cr0 = (1ull << 31) | 1, .cr3 = 0x1000, .cr4 = 1u << 5,
                                 .efer = (1ull << 10) | (1ull << 8), .read = fake_read};
}

static void setup(void)
{
    memset(memory, 0, sizeof(memory));
    reads = 0;
}

START_TEST(paging_off_is_identity)
{
    struct guest_paging p = {.read = fake_read};
    uint64_t gpa = 0;
    ck_assert(guest_paging_translate(&p, 0x12345678u, &gpa));
    ck_assert_uint_eq(gpa, 0x12345678u);
    ck_assert_uint_eq(reads, 0);
}
END_TEST

START_TEST(long_mode_4k_2m_1g)
{
    struct guest_paging p = long_mode();
    uint64_t high = 0xFFFFFFFF81000123ull; /* a kernel text address */
    /* PML4[511] -> 0x2000 (PDPT); PDPT[510] -> 0x3000 (PD); PD[8] -> 0x4000 (PT); PT[0] -> 0x200000 */
    put64(0x1000 + 511 * 8, 0x2000 | 3);
    put64(0x2000 + 510 * 8, 0x3000 | 3);
    put64(0x3000 + 8 * 8, 0x4000 | 3);
    put64(0x4000 + 0 * 8, 0x200000 | 1 | (1ull << 63) /* NX ignored */);
    uint64_t gpa = 0;
    ck_assert(guest_paging_translate(&p, high, &gpa));
    ck_assert_uint_eq(gpa, 0x200123);
    /* A 2 MiB page: PD[9] large -> 0x600000 */
    put64(0x3000 + 9 * 8, 0x600000 | 0x81);
    ck_assert(guest_paging_translate(&p, 0xFFFFFFFF81234567ull, &gpa));
    ck_assert_uint_eq(gpa, 0x600000 + 0x34567);
    /* A 1 GiB page at PML4[0], PDPT[1] -> 0x40000000 */
    put64(0x1000, 0x5000 | 3);
    put64(0x5000 + 8, 0x40000000 | 0x81);
    ck_assert(guest_paging_translate(&p, 0x40000000ull + 0x123456, &gpa));
    ck_assert_uint_eq(gpa, 0x40123456ull);
}
END_TEST

START_TEST(long_mode_refusals)
{
    struct guest_paging p = long_mode();
    uint64_t gpa = 0xDEAD;
    ck_assert(!guest_paging_translate(&p, 0x1000, &gpa)); /* PML4E not present */
    put64(0x1000, 0x7000 | 0x83);                          /* PS in a PML4E: reserved */
    ck_assert(!guest_paging_translate(&p, 0x1000, &gpa));
    put64(0x1000, 0x7FFFF000ull | 3); /* table beyond guest memory */
    ck_assert(!guest_paging_translate(&p, 0x1000, &gpa));
    p.cr3 = 0xFFFFFFFFFF000ull; /* CR3 beyond guest memory */
    ck_assert(!guest_paging_translate(&p, 0, &gpa));
    p = long_mode();
    p.cr4 |= 1u << 12; /* LA57 */
    ck_assert(!guest_paging_translate(&p, 0, &gpa));
    ck_assert_uint_eq(gpa, 0xDEAD);
}
END_TEST

START_TEST(pae_and_32_bit)
{
    uint64_t gpa = 0;
    /* PAE: PDPT at 0x1020 (32-byte aligned), PDPTE[3] -> PD 0x3000, PD[0] large 2 MiB */
    struct guest_paging pae = {.cr0 = (1ull << 31) | 1, .cr3 = 0x1020, .cr4 = 1u << 5,
                               .read = fake_read};
    put64(0x1020 + 3 * 8, 0x3000 | 1);
    put64(0x3000, 0x200000 | 0x81);
    ck_assert(guest_paging_translate(&pae, 0xC0012345u, &gpa));
    ck_assert_uint_eq(gpa, 0x212345);
    /* 32-bit: PDE[0x300] 4 MiB page with PSE; PDE[1] -> PT 0x5000 with PTE[2] */
    struct guest_paging legacy = {.cr0 = (1ull << 31) | 1, .cr3 = 0x4000, .cr4 = 1u << 4,
                                  .read = fake_read};
    put32(0x4000 + 0x300 * 4, 0x00400000u | 0x81);
    ck_assert(guest_paging_translate(&legacy, 0xC0054321u, &gpa));
    ck_assert_uint_eq(gpa, 0x454321);
    put32(0x4000 + 1 * 4, 0x5000u | 1);
    put32(0x5000 + 2 * 4, 0x00301000u | 1);
    ck_assert(guest_paging_translate(&legacy, 0x00402ABCu, &gpa));
    ck_assert_uint_eq(gpa, 0x301ABC);
    /* Without CR4.PSE the PS bit is ignored: the entry points to a page table. */
    legacy.cr4 = 0;
    put32(0x400000 + 0x54 * 4, 0x00111000u | 1);
    ck_assert(guest_paging_translate(&legacy, 0xC0054321u, &gpa));
    ck_assert_uint_eq(gpa, 0x111321);
}
END_TEST

START_TEST(msr_validators)
{
    ck_assert(msr_pat_valid(0x0007040600070406ull)); /* the power-on PAT */
    ck_assert(msr_pat_valid(0x0001040600070406ull));
    ck_assert(!msr_pat_valid(0x0007040600070402ull)); /* type 2 reserved */
    ck_assert(!msr_pat_valid(0x0807040600070406ull)); /* type 8 */
    ck_assert(msr_mtrr_def_type_valid(0x806));
    ck_assert(msr_mtrr_def_type_valid(0x000));
    ck_assert(!msr_mtrr_def_type_valid(0xC06)); /* FE without fixed ranges */
    ck_assert(!msr_mtrr_def_type_valid(0x807)); /* UC- is not an MTRR type */
    ck_assert(!msr_mtrr_def_type_valid(0x1000806ull));
}
END_TEST

Suite *guest_paging_suite(void);
Suite *guest_paging_suite(void)
{
    Suite *s = suite_create("guest_paging");
    TCase *t = tcase_create("translate");
    tcase_add_checked_fixture(t, setup, NULL);
    tcase_add_test(t, paging_off_is_identity);
    tcase_add_test(t, long_mode_4k_2m_1g);
    tcase_add_test(t, long_mode_refusals);
    tcase_add_test(t, pae_and_32_bit);
    tcase_add_test(t, msr_validators);
    suite_add_tcase(s, t);
    return s;
}
