/*
 * Random numbers for the root partition's libraries: the CPU's RDRAND generator when it has
 * one (getentropy, lwIP's port), and a fast non-cryptographic generator for lwIP's port
 * numbers and sequence-number jitter when it has not.
 */
#ifndef HVFW_LIBC_GLUE_RANDOM_H
#define HVFW_LIBC_GLUE_RANDOM_H

#include <stdbool.h>
#include <stdint.h>

/* True if CPUID.01H:ECX.RDRAND[bit 30] is set (Intel SDM vol. 1, 7.3.17; AMD APM vol. 3). */
bool random_hardware_available(void);
/* One 64-bit value from RDRAND; false if the CPU has none or it kept failing (the SDM's
 * advice, vol. 1 7.3.17.1, is to retry up to ten times). */
bool random_hardware_u64(uint64_t *out);
/* RDRAND when available, otherwise xorshift64* seeded from the TSC: NOT for secrets. */
uint32_t random_weak_u32(void);

#endif
