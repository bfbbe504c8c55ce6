/*
 * Hypercalls through the hypercall page (TLFS v6.0b 3.8 "Hypercall Interface", 3.13 for the
 * HYPERCALL MSR), for the guests that check the Hyper-V interface. The guest enables the
 * page (its GUEST_OS_ID, then HYPERCALL with the page's GPA | 1) and names it here; a call
 * is then a near CALL into that page, whose VMMCALL/VMCALL the hypervisor wrote.
 */
#ifndef HVFW_GUESTS_HYPERCALL_H
#define HVFW_GUESTS_HYPERCALL_H

#include <stdint.h>

/* The page the HYPERCALL MSR enabled; calls before this jump to address 0. */
void hypercall_page_set(const void *page);

/* The 32-bit convention (TLFS 3.8): control in EDX:EAX, input GPA in EBX:ECX, output GPA
 * in EDI:ESI; returns the result value (EDX:EAX; the status in bits 15:0). */
uint64_t hypercall_through_page(uint64_t control, uint64_t input_gpa, uint64_t output_gpa);

#endif
