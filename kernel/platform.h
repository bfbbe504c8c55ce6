/*
 * The platform stage of the boot: ACPI tables, the TSC, the local APIC and its timer, the
 * IOAPICs, then the other CPUs. One call from kernel_main, after memory and traps.
 */
#ifndef HVFW_KERNEL_PLATFORM_H
#define HVFW_KERNEL_PLATFORM_H

/* Bootstrap processor, once. `acpi.dump` on the command line also prints every ACPI table
 * as hex ("acpi-table SIG ADDRESS LENGTH", then "acpi-dump SIG OFFSET HEX" lines), which
 * tests/unit/data/acpi/capture.py turns back into files. */
void platform_init(void);

#endif
