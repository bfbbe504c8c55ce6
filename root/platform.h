/* What the root partition learned at start (hv/root_abi.h) and its clock. */
#ifndef HVFW_ROOT_PLATFORM_H
#define HVFW_ROOT_PLATFORM_H

#include <stdint.h>

#include "hv/root_abi.h"

/* The hypervisor's hand-over, valid from root_start on (read-only afterwards). */
extern const struct root_boot_info *root_boot_info;

/* Nanoseconds since the root started, from the TSC (the root reads it directly). */
uint64_t root_time_ns(void);

#endif
