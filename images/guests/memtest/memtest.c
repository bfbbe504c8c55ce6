/*
 * memtest: writes and verifies all of its RAM above its own image, twice: each 32-bit word
 * first holds its own address, then the complement of it. Address-derived patterns catch
 * aliasing (two GPAs backed by one host page, a wrong NPT mapping) as well as stuck bits;
 * the complement pass flips every bit of every word.
 *
 * RAM size: hvfw passes it in EBX; under a multiboot loader it comes from mem_upper or the
 * command line `mem_mib=N` (lib/guest.c).
 */
#include "images/guests/lib/guest.h"

const char guest_name[] = "memtest";

/* The test stays below the PCI hole where the platform's devices live (README.md). */
#define MEMTEST_LIMIT 0xC0000000u
#define ERRORS_SHOWN 8

struct memtest_range {
    uint32_t start, end; /* [start, end), 4-byte aligned */
};

static uint32_t pattern(uint32_t address, bool complement)
{
    return complement ? ~address : address;
}

static uint32_t memtest_pass(const struct memtest_range *range, bool complement)
{
    for (uint32_t a = range->start; a < range->end; a += 4)
        *(volatile uint32_t *)(uintptr_t)a = pattern(a, complement);
    uint32_t errors = 0;
    for (uint32_t a = range->start; a < range->end; a += 4) {
        uint32_t expected = pattern(a, complement);
        uint32_t found = *(volatile uint32_t *)(uintptr_t)a;
        if (found == expected)
            continue;
        if (errors < ERRORS_SHOWN)
            guest_printf("error at 0x%08x: wrote 0x%08x, read 0x%08x", a, expected, found);
        errors++;
    }
    return errors;
}

int guest_main(const struct guest_boot *boot)
{
    uint64_t top = boot->ram_bytes;
    if (top > MEMTEST_LIMIT) {
        guest_printf("RAM %llu MiB reaches the PCI hole; testing up to 0x%08x only",
                     (unsigned long long)(top >> 20), MEMTEST_LIMIT);
        top = MEMTEST_LIMIT;
    }
    struct memtest_range range = {boot->image_end, (uint32_t)top & ~3u};
    if (range.end <= range.start) {
        guest_printf("FAIL RAM size %llu bytes (%s) ends below the image end 0x%x",
                     (unsigned long long)boot->ram_bytes, boot->ram_source, boot->image_end);
        return GUEST_EXIT_FAIL;
    }
    uint32_t mib = (range.end - range.start) >> 20;
    guest_printf("RAM %llu MiB (%s); testing [0x%08x-0x%08x), %u MiB",
                 (unsigned long long)(boot->ram_bytes >> 20), boot->ram_source, range.start,
                 range.end, mib);

    uint32_t errors = 0;
    for (int pass = 0; pass < 2; pass++) {
        bool complement = pass == 1;
        uint32_t pass_errors = memtest_pass(&range, complement);
        guest_printf("pass %d (%s): %u errors", pass + 1,
                     complement ? "complement of address" : "address", pass_errors);
        errors += pass_errors;
    }
    if (errors) {
        guest_printf("FAIL %u words wrong in %u MiB", errors, mib);
        return GUEST_EXIT_FAIL;
    }
    guest_printf("PASS tested %u MiB [0x%08x-0x%08x)", mib, range.start, range.end);
    return GUEST_EXIT_PASS;
}
