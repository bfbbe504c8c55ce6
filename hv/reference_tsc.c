#include "hv/reference_tsc.h"

#define NS_PER_UNIT 100u

uint64_t reference_tsc_scale(uint64_t tsc_khz)
{
    if (tsc_khz == 0)
        return 0;
    /* kernel/tsc.c: ns per tick = floor(10^6 * 2^32 / kHz) in 32.32 fixed point. */
    uint64_t ns_per_tick_fixed32 = (1000000ull << 32) / tsc_khz;
    /* Units per tick in 0.64: (ns_per_tick << 32) / 100 must stay below 2^64. */
    if (ns_per_tick_fixed32 >= (uint64_t)NS_PER_UNIT << 32)
        return 0;
    return (uint64_t)(((unsigned __int128)ns_per_tick_fixed32 << 32) / NS_PER_UNIT);
}

uint64_t reference_tsc_time(uint64_t tsc, uint64_t scale, int64_t offset)
{
    uint64_t scaled = (uint64_t)(((unsigned __int128)tsc * scale) >> 64);
    return scaled + (uint64_t)offset; /* two's complement: adds a negative offset */
}

int64_t reference_tsc_offset(uint64_t tsc, uint64_t reference_time, uint64_t scale)
{
    uint64_t scaled = (uint64_t)(((unsigned __int128)tsc * scale) >> 64);
    return (int64_t)(reference_time - scaled);
}

uint32_t reference_tsc_next_sequence(uint32_t sequence)
{
    sequence++;
    if (sequence == 0 || sequence == 0xFFFFFFFFu)
        sequence = 1;
    return sequence;
}
