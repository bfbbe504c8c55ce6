/*
 * Time from the time-stamp counter. Its frequency is measured at boot against the ACPI PM
 * timer (3.579545 MHz, ACPI 6.5 4.8.3.3) when the FADT has one, else against PIT channel 2
 * (1.193182 MHz, gated through port 0x61). Time counts from the calibration; all CPUs read
 * the same clock because the TSCs of one package start together and run at a constant rate
 * (CPUID 0x80000007 EDX[8] "invariant TSC", checked and reported).
 */
#ifndef HVFW_KERNEL_TSC_H
#define HVFW_KERNEL_TSC_H

#include <stdint.h>

#include "kernel/acpi.h"

/* Measures the TSC frequency (about 50 ms); `fadt` may be NULL (then the PIT is used).
 * Logs the result. Safe to call once more to re-measure. */
void tsc_calibrate(const struct acpi_fadt *fadt);

/* TSC frequency in kHz. If tsc_calibrate has not run yet, calibrates against the PIT first,
 * so early callers still get a measured value. */
uint64_t tsc_khz(void);

/* Nanoseconds since the TSC was calibrated; monotonic. */
uint64_t time_now_ns(void);

/* Busy-waits at least `us` microseconds. */
void time_delay_us(uint64_t us);

#endif
