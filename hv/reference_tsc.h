/*
 * The partition reference TSC page (TLFS 12.7 "Partition Reference Time Enlightenment"):
 * a page in the child's RAM, named by HV_X64_MSR_REFERENCE_TSC (0x40000021: bit 0 enable,
 * 11:1 reserved, 63:12 the page number), from which the guest computes the partition
 * reference time without an exit:
 *
 *     ReferenceTime = ((RDTSC * TscScale) >> 64) + TscOffset    (100 ns units)
 *
 * retrying while TscSequence changes; a sequence of 0 means "invalid, read the
 * TIME_REF_COUNT MSR instead". The arithmetic here is pure and host-tested; hv/hyperv.c
 * writes the page.
 *
 * The scale is derived from kernel/tsc.c's own fixed-point clock (nanoseconds per tick,
 * 32 fraction bits, from the calibrated kHz) rather than from 2^64 * 10^7 / TSC_Hz
 * directly: TIME_REF_COUNT is (time_now_ns() - partition base) / 100, so with the same
 * per-tick rate the page and the MSR agree to a unit forever instead of drifting apart by
 * the two roundings (a few microseconds an hour at 2.4 GHz).
 */
#ifndef HVFW_HV_REFERENCE_TSC_H
#define HVFW_HV_REFERENCE_TSC_H

#include <assert.h>
#include <stdint.h>

#define HV_X64_MSR_REFERENCE_TSC 0x40000021u
#define REFERENCE_TSC_ENABLE (1ull << 0)
#define REFERENCE_TSC_RESERVED 0xFFEull

/* HV_REFERENCE_TSC_PAGE (the first 24 bytes of the page; the rest is reserved). */
struct hv_reference_tsc_page {
    uint32_t tsc_sequence;
    uint32_t reserved;
    uint64_t tsc_scale;
    int64_t tsc_offset;
} __attribute__((packed));
static_assert(sizeof(struct hv_reference_tsc_page) == 24, "HV_REFERENCE_TSC_PAGE");

/* TscScale for a TSC of `tsc_khz` (kernel/tsc.c's calibration): 100 ns units per tick in
 * 0.64 fixed point, the same rate as time_now_ns(). 0 if the TSC is too slow for the
 * scale to fit 64 bits (below 10 MHz): the page then stays invalid. */
uint64_t reference_tsc_scale(uint64_t tsc_khz);
/* TscOffset such that the page gives `reference_time` at `tsc` with `scale`. */
int64_t reference_tsc_offset(uint64_t tsc, uint64_t reference_time, uint64_t scale);
/* What a guest computes from the page at `tsc` (the TLFS formula, 128-bit product). */
uint64_t reference_tsc_time(uint64_t tsc, uint64_t scale, int64_t offset);
/* The sequence after `sequence`: never 0 (invalid) and never 0xFFFFFFFF (older guests'
 * "invalid", TLFS 12.7.2). */
uint32_t reference_tsc_next_sequence(uint32_t sequence);

#endif
