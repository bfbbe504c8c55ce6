/* The hypervisor core's entry points from the boot path. */
#ifndef HVFW_HV_HV_H
#define HVFW_HV_HV_H

#include <stdbool.h>

/* Chooses the vendor backend from CPUID and turns virtualization on for the boot CPU.
 * False (with the reason logged) when this machine cannot run partitions. */
bool hv_init(void);
/* Turns virtualization on for the calling CPU (each AP, after hv_init). */
bool hv_cpu_enable(void);
/* Runs a tiny guest in a throw-away partition and checks every exit it causes: port I/O,
 * an unmapped-GPA access, a hypercall, a forbidden SVM instruction (CLGI: #UD) and the triple
 * fault that follows with no IDT. Prints "selftest: hv-guest: ok ..." or "... FAILED". */
bool hv_selftest(void);

#endif
