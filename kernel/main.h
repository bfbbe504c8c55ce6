/* The boot path and the ways the hypervisor stops. */
#ifndef HVFW_KERNEL_MAIN_H
#define HVFW_KERNEL_MAIN_H

#include <stdint.h>

#include "kernel/bootinfo.h"

/* What the loader gave us, parsed once by kernel_main (read-only afterwards). */
extern struct boot_info boot_info;

void kernel_main(uint32_t magic, uint32_t info_pa);
/* Waits for interrupts forever. */
__attribute__((noreturn)) void kernel_idle(void);
/* A broken hypervisor invariant or an unusable platform: log, print "hvfw: stopped",
 * and halt this CPU (with `test.exit`, QEMU exits with status 3). */
__attribute__((noreturn, format(printf, 1, 2))) void kernel_stop(const char *fmt, ...);
/* With `test.exit` on the command line, tests end QEMU through isa-debug-exit. */
void kernel_test_exit(uint8_t code);

#endif
