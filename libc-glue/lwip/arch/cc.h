/*
 * lwIP compiler and platform glue (lwIP 2.1.3, src/include/lwip/arch.h; doc/sys_arch.txt).
 * The port functions are in libc-glue/lwip/sys_arch.c. newlib supplies <stdint.h>,
 * <inttypes.h>, <limits.h>, <ctype.h> and <unistd.h>, so lwIP's defaults for the integer
 * types and their printf formats apply.
 */
#ifndef HVFW_LWIP_ARCH_CC_H
#define HVFW_LWIP_ARCH_CC_H

/* lwip/arch.h defines LITTLE_ENDIAN and BIG_ENDIAN before including this file unless
 * newlib's <machine/endian.h> came first; that header defines them without a guard (same
 * values, different spelling), so drop lwIP's and take newlib's, BYTE_ORDER included. */
#ifndef __MACHINE_ENDIAN_H__
#undef LITTLE_ENDIAN
#undef BIG_ENDIAN
#include <machine/endian.h>
#endif

#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/types.h>

/* newlib's ssize_t is the signed size_t (long) but its <limits.h> lacks SSIZE_MAX; without
 * it lwip/arch.h would typedef ssize_t as int, conflicting with newlib's. */
#ifndef SSIZE_MAX
#define SSIZE_MAX LONG_MAX
#endif

/* A 32-bit random number for lwIP's port numbers, IDs and sequence numbers: RDRAND when
 * the CPU has it, otherwise a TSC-seeded xorshift (libc-glue/random.h; not for secrets). */
uint32_t lwip_port_rand(void);
/* A failed LWIP_ASSERT: a broken invariant of the stack, stops the hypervisor. */
__attribute__((noreturn)) void lwip_port_assert(const char *message, const char *file, int line);
/* LWIP_DEBUGF output (only with LWIP_DEBUG): to the log at debug level. */
void lwip_port_diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#define LWIP_PLATFORM_DIAG(x) lwip_port_diag x
#define LWIP_PLATFORM_ASSERT(x) lwip_port_assert((x), __FILE__, __LINE__)

#endif
