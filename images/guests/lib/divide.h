/*
 * 64-bit division for 32-bit code. GCC turns `/` and `%` on uint64_t into calls to these
 * libgcc routines when compiling for i386 (GCC internals, "Routines for integer
 * arithmetic"); the build has no 32-bit libgcc, so the guests carry their own.
 */
#ifndef HVFW_GUESTS_DIVIDE_H
#define HVFW_GUESTS_DIVIDE_H

#include <stdint.h>

uint64_t __udivdi3(uint64_t dividend, uint64_t divisor);
uint64_t __umoddi3(uint64_t dividend, uint64_t divisor);
/* Both at once; remainder may be NULL. */
uint64_t __udivmoddi4(uint64_t dividend, uint64_t divisor, uint64_t *remainder);

#endif
