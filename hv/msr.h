/*
 * The architectural MSRs a child partition's kernel touches that the hypervisor answers
 * itself, so they never cost a trip to the root: the TSC, PAT (the VMCB's guest PAT),
 * a "firmware-enabled, all write-back" MTRR set with no variable ranges, the microcode
 * revision, DEBUGCTL without branch tracing, and the AMD configuration MSRs Linux reads
 * (HWCR, DE_CFG, NB_CFG). What CPUID does not advertise (hv/cpuid.c) is absent: the root's
 * worker answers those with #GP. The SYSCALL/SYSENTER and FS/GS-base MSRs never exit
 * (the vendor's permission map passes them to the VMCB).
 */
#ifndef HVFW_HV_MSR_H
#define HVFW_HV_MSR_H

#include <stdbool.h>
#include <stdint.h>

#include "hv/exit.h"

struct vp;

/* True if the hypervisor handled the RDMSR/WRMSR exit (completed it or injected #GP). */
bool msr_child_access(struct vp *vp, const struct hv_exit *exit);

/* Whether `pat` is a valid IA32_PAT value: every byte one of the memory types 0 (UC),
 * 1 (WC), 4 (WT), 5 (WP), 6 (WB), 7 (UC-) (Intel SDM vol. 3 §13.12.2; AMD APM vol. 2
 * §7.8.1). Host-testable. */
static inline bool msr_memory_type_valid(uint8_t type, bool uc_minus)
{
    return type == 0 || type == 1 || type == 4 || type == 5 || type == 6 ||
           (uc_minus && type == 7);
}

static inline bool msr_pat_valid(uint64_t pat)
{
    for (unsigned i = 0; i < 8; i++)
        if (!msr_memory_type_valid((uint8_t)(pat >> (i * 8)), true))
            return false;
    return true;
}

/* Whether `value` is a valid IA32_MTRR_DEF_TYPE for an MTRR set without fixed ranges:
 * type in bits 7:0 one of 0, 1, 4, 5, 6; E (bit 11) free; FE (bit 10) and the reserved
 * bits clear (Intel SDM vol. 3 §13.11.2.1). Host-testable. */
static inline bool msr_mtrr_def_type_valid(uint64_t value)
{
    if (value & ~(0xFFull | (1ull << 11)))
        return false;
    return msr_memory_type_valid((uint8_t)value, false);
}

#endif
