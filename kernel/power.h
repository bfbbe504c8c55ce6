/*
 * Turning the machine off and resetting it through ACPI (ACPI 6.5 7.4.2 \_S5 and 16.1.7
 * "Transitioning from the Working to the Sleeping State"; 4.8.4.6 the reset register), with
 * the usual PC fallbacks for reset. Uses acpi_platform (kernel/acpi.h).
 */
#ifndef HVFW_KERNEL_POWER_H
#define HVFW_KERNEL_POWER_H

#include <stdbool.h>

/* Enters S5 (soft off): SLP_TYPa/b from the DSDT's \_S5 with SLP_EN into PM1a/PM1b_CNT,
 * after switching to ACPI mode if the firmware left it off. Returns false, with a log line,
 * only if that is impossible or the machine is still running a second later. */
bool power_off(void);

/* Resets: the FADT reset register, then port 0xCF9, then the keyboard controller, then a
 * triple fault. Does not return. */
__attribute__((noreturn)) void power_reset(void);

#endif
