/* lwIP compiler and platform glue (lwIP 2.1.3, src/include/lwip/arch.h). */
#ifndef HVFW_LWIP_ARCH_CC_H
#define HVFW_LWIP_ARCH_CC_H

#include <stdint.h>
#include <stdlib.h>

#define LWIP_NO_UNISTD_H 1
#define BYTE_ORDER LITTLE_ENDIAN

uint32_t lwip_port_rand(void);
void lwip_port_assert(const char *message, const char *file, int line);
void lwip_port_diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#define LWIP_PLATFORM_DIAG(x) lwip_port_diag x
#define LWIP_PLATFORM_ASSERT(x) lwip_port_assert((x), __FILE__, __LINE__)

#endif
