/*
 * Bringing up the application processors (APs) the MADT lists: INIT-SIPI-SIPI (Intel SDM
 * vol. 3, 9.4.4.1; AMD APM vol. 2, 15.27.8 / 16.5) into kernel/ap_trampoline.S, which takes
 * each AP to 64-bit mode, the kernel's page tables and its own stack; smp_ap_main then
 * installs its per-CPU data, traps and local APIC, marks it online, and idles it.
 */
#ifndef HVFW_KERNEL_SMP_H
#define HVFW_KERNEL_SMP_H

#include <stdint.h>

#include "kernel/acpi.h"

/* Physical page the real-mode part of the trampoline is copied to (below 1 MiB, reserved
 * from the page allocator with the rest of the first MiB). STARTUP vector = page number. */
#define SMP_TRAMPOLINE_PA 0x8000u

/* Bootstrap processor, after lapic_init and tsc_calibrate: starts every CPU the MADT lists
 * as enabled or online-capable, one at a time, waiting for each with a timeout; a CPU that
 * does not come up is reported by APIC ID and skipped. */
void smp_start(const struct acpi_madt *madt);

/* CPUs that are up and running (the BSP included). */
uint32_t smp_online_count(void);

/* The fixed vector smp_run_on_aps wakes idle APs with. */
#define SMP_VECTOR_WAKE 0xE0
/* Makes every online AP leave its idle loop and call `work` (once, on that AP). */
void smp_run_on_aps(void (*work)(void));

/* Called by kernel/ap_trampoline.S only, on the AP's own stack. */
__attribute__((noreturn)) void smp_ap_main(uint32_t index);

#endif
