/*
 * burner: a CPU-bound child that never yields, to test that the hypervisor's scheduler
 * keeps the root and the other children running (issue 3, "With 4 CPU burners running").
 * It counts loops on every VP it is given and prints a progress line every 2^shift loops
 * (`burner_shift=N`, default below). It runs forever unless `burner_lines=K` asks it to
 * stop after K progress lines of VP 0, which is how a direct QEMU run ends.
 */
#include "images/guests/lib/guest.h"

const char guest_name[] = "burner";

#define DEFAULT_SHIFT 27
#define MAX_SHIFT 40

static uint32_t burner_shift(const struct guest_boot *boot)
{
    uint64_t shift = guest_cmdline_number(boot, "burner_shift", DEFAULT_SHIFT);
    if (shift == 0 || shift > MAX_SHIFT) {
        guest_printf("burner_shift=%llu is outside 1..%u; using %u", (unsigned long long)shift,
                     MAX_SHIFT, DEFAULT_SHIFT);
        shift = DEFAULT_SHIFT;
    }
    return (uint32_t)shift;
}

/* Returns after `lines` progress lines; never when lines == 0. */
static void burn(uint32_t vp, uint32_t shift, uint64_t lines)
{
    /* volatile: every loop is a real load, add and store, not a loop the compiler folds. */
    volatile uint64_t counter = 0;
    uint64_t mask = (1ull << shift) - 1;
    uint64_t printed = 0;
    for (;;) {
        uint64_t now = counter + 1;
        counter = now;
        if ((now & mask) != 0)
            continue;
        printed++;
        guest_printf("VP %u: %llu x 2^%u loops", vp, (unsigned long long)(now >> shift), shift);
        if (lines && printed >= lines)
            return;
    }
}

void guest_secondary_main(const struct guest_boot *boot, uint32_t vp_index)
{
    burn(vp_index, burner_shift(boot), 0);
}

int guest_main(const struct guest_boot *boot)
{
    uint32_t shift = burner_shift(boot);
    uint64_t lines = guest_cmdline_number(boot, "burner_lines", 0);
    guest_printf("burning on VP 0, a line every 2^%u loops%s", shift,
                 lines ? "" : ", forever");
    burn(0, shift, lines);
    guest_printf("PASS %llu progress lines", (unsigned long long)lines);
    return GUEST_EXIT_PASS;
}
