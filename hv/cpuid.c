#include "hv/cpuid.h"

#include "kernel/x86.h"

/* Bit positions: AMD APM vol. 3, appendix E "Obtaining Processor Information Via the CPUID
 * Instruction"; Intel SDM vol. 2A, CPUID. */
#define LEAF1_ECX_MONITOR (1u << 3)
#define LEAF1_ECX_VMX (1u << 5)
#define LEAF1_ECX_SMX (1u << 6)
#define LEAF1_ECX_EST (1u << 7)
#define LEAF1_ECX_TM2 (1u << 8)
#define LEAF1_ECX_FMA (1u << 12)
#define LEAF1_ECX_PDCM (1u << 15)
#define LEAF1_ECX_DCA (1u << 18)
#define LEAF1_ECX_X2APIC (1u << 21)
#define LEAF1_ECX_TSC_DEADLINE (1u << 24)
#define LEAF1_ECX_XSAVE (1u << 26)
#define LEAF1_ECX_OSXSAVE (1u << 27)
#define LEAF1_ECX_AVX (1u << 28)
#define LEAF1_ECX_F16C (1u << 29)
#define LEAF1_ECX_HYPERVISOR (1u << 31)
#define LEAF1_EDX_MCE (1u << 7)
#define LEAF1_EDX_APIC (1u << 9)
#define LEAF1_EDX_MCA (1u << 14)
#define LEAF1_EDX_DS (1u << 21)
#define LEAF1_EDX_ACPI (1u << 22)
#define LEAF1_EDX_HTT (1u << 28)
#define LEAF1_EDX_TM (1u << 29)
#define LEAF1_EDX_PBE (1u << 31)
#define EXT1_ECX_SVM (1u << 2)
#define EXT1_ECX_OSVW (1u << 9)
#define EXT1_ECX_IBS (1u << 10)
#define EXT1_ECX_SKINIT (1u << 12)
#define EXT1_ECX_WDT (1u << 13)
#define EXT1_ECX_LWP (1u << 15)
#define EXT1_ECX_NODEID (1u << 19)
#define EXT1_ECX_TOPOEXT (1u << 22)
#define EXT1_ECX_PERFCTR_CORE (1u << 23)
#define EXT1_ECX_PERFCTR_NB (1u << 24)
#define EXT1_ECX_PERFCTR_LLC (1u << 28)
#define EXT1_ECX_MWAITX (1u << 29)
#define EXT1_EDX_RDTSCP (1u << 27)

/* Leaf 7 subleaf 0 EBX: the instruction-set extensions that need no state or MSR the
 * hypervisor would have to virtualize (no AVX2/AVX-512: their state needs XSAVE, which
 * children do not get; no TSC_ADJUST, RDT, MPX, PT, SGX). */
#define LEAF7_EBX_CHILD                                                                       \
    ((1u << 0) /* FSGSBASE */ | (1u << 3) /* BMI1 */ | (1u << 7) /* SMEP */ |                 \
     (1u << 8) /* BMI2 */ | (1u << 9) /* ERMS */ | (1u << 18) /* RDSEED */ |                  \
     (1u << 19) /* ADX */ | (1u << 20) /* SMAP */ | (1u << 23) /* CLFLUSHOPT */ |             \
     (1u << 24) /* CLWB */ | (1u << 29) /* SHA */)
/* Leaf 0x80000007 EDX: only the invariant TSC (the child's TSC is the host's plus an
 * offset, so it is invariant exactly when the host's is). */
#define EXT7_EDX_INVARIANT_TSC (1u << 8)
/* Leaf 0x80000008 EBX: CLZERO, and the error-pointer save/restore fix (no MSRs behind
 * them); IBPB/IBRS/STIBP/SSBD would make Linux write PRED_CMD/SPEC_CTRL, MSRs children do
 * not have. */
#define EXT8_EBX_CHILD ((1u << 0) /* CLZERO */ | (1u << 2) /* XSaveErPtr */)

/* What a child sees of the host. A feature is passed on only when it works in a child
 * without help the hypervisor does not give: the x87/SSE state is switched with FXSAVE
 * (hv/sched.c), so nothing that needs XSAVE; no machine-check or performance-monitoring
 * MSRs, thermal/power control, RDTSCP (TSC_AUX) or debug stores; the topology leaves
 * describe the host and are hidden (the MADT and the Hyper-V leaves describe the
 * partition). The local APIC is hv/vlapic.c's: APIC, x2APIC, TSC-deadline and ARAT (the
 * APIC timer does not stop in deep C-states, so Linux needs no broadcast timer). */
static struct cpuid_result child_policy(uint32_t leaf, struct cpuid_result r)
{
    switch (leaf) {
    case 0:
        if (r.eax > 0xD)
            r.eax = 0xD;
        break;
    case 1:
        r.ecx &= ~(LEAF1_ECX_MONITOR | LEAF1_ECX_VMX | LEAF1_ECX_SMX | LEAF1_ECX_EST |
                   LEAF1_ECX_TM2 | LEAF1_ECX_FMA | LEAF1_ECX_PDCM | LEAF1_ECX_DCA |
                   LEAF1_ECX_X2APIC | LEAF1_ECX_TSC_DEADLINE | LEAF1_ECX_XSAVE |
                   LEAF1_ECX_OSXSAVE | LEAF1_ECX_AVX | LEAF1_ECX_F16C);
        r.ecx |= LEAF1_ECX_HYPERVISOR | LEAF1_ECX_X2APIC | LEAF1_ECX_TSC_DEADLINE;
        r.edx &= ~(LEAF1_EDX_MCE | LEAF1_EDX_MCA | LEAF1_EDX_DS | LEAF1_EDX_ACPI |
                   LEAF1_EDX_HTT | LEAF1_EDX_TM | LEAF1_EDX_PBE);
        r.edx |= LEAF1_EDX_APIC;
        /* EBX: CLFLUSH line size (15:8) kept; logical processor count and initial APIC ID
         * are the partition's business: the caller puts the VP index in 31:24. */
        r.ebx &= 0x0000FF00u;
        break;
    case 6:
        /* Thermal and power management: only ARAT (EAX bit 2, "APIC timer always
         * running"; Intel SDM vol. 2, CPUID leaf 6). */
        r = (struct cpuid_result){1u << 2, 0, 0, 0};
        break;
    default:
        break;
    }
    return r;
}

static struct cpuid_result child_leaf7(uint32_t subleaf, struct cpuid_result r)
{
    if (subleaf != 0)
        return (struct cpuid_result){0, 0, 0, 0};
    r.eax = 0; /* no further subleaves */
    r.ebx &= LEAF7_EBX_CHILD;
    r.ecx = 0; /* UMIP, PKU (needs XSAVE), LA57, RDPID (TSC_AUX), ... */
    r.edx = 0; /* speculation-control MSRs, ARCH_CAPABILITIES, CET */
    return r;
}

static struct cpuid_result child_extended(uint32_t leaf, struct cpuid_result r)
{
    switch (leaf) {
    case 0x80000001u:
        r.ecx &= ~(EXT1_ECX_SVM | EXT1_ECX_OSVW | EXT1_ECX_IBS | EXT1_ECX_SKINIT | EXT1_ECX_WDT |
                   EXT1_ECX_LWP | EXT1_ECX_NODEID | EXT1_ECX_TOPOEXT | EXT1_ECX_PERFCTR_CORE |
                   EXT1_ECX_PERFCTR_NB | EXT1_ECX_PERFCTR_LLC | EXT1_ECX_MWAITX);
        r.edx &= ~EXT1_EDX_RDTSCP;
        break;
    case 0x80000007u:
        r = (struct cpuid_result){0, 0, 0, r.edx & EXT7_EDX_INVARIANT_TSC};
        break;
    case 0x80000008u:
        /* EAX: address sizes kept; ECX: core count is the host's topology. */
        r.ebx &= EXT8_EBX_CHILD;
        r.ecx = 0;
        r.edx = 0;
        break;
    case 0x80000002u:
    case 0x80000003u:
    case 0x80000004u: /* the brand string */
    case 0x80000005u:
    case 0x80000006u: /* cache and TLB descriptions */
        break;
    default:
        if (leaf > 0x80000000u)
            r = (struct cpuid_result){0, 0, 0, 0}; /* SVM, SEV, topology, ... */
        break;
    }
    return r;
}

struct cpuid_result cpuid_for_partition(uint32_t leaf, uint32_t subleaf, bool is_root)
{
    struct cpuid_result r;
    cpuid(leaf, subleaf, &r.eax, &r.ebx, &r.ecx, &r.edx);
    if (leaf >= 0x40000000u && leaf < 0x40010000u)
        return (struct cpuid_result){0, 0, 0, 0}; /* hv/hyperv.c answers a child's */
    if (is_root) {
        if (leaf == 1) {
            r.ecx &= ~(LEAF1_ECX_MONITOR | LEAF1_ECX_VMX | LEAF1_ECX_X2APIC);
            r.ecx |= LEAF1_ECX_HYPERVISOR;
            r.edx &= ~LEAF1_EDX_APIC;
            r.ebx &= 0x00FFFFFFu; /* initial APIC ID: the partition's own VP numbering */
        } else if (leaf == 0x80000001u) {
            r.ecx &= ~EXT1_ECX_SVM;
        } else if (leaf == 0x8000000Au) {
            r = (struct cpuid_result){0, 0, 0, 0};
        }
        return r;
    }
    if (leaf == 0x80000000u)
        return r; /* the maximum extended leaf and the vendor string */
    if (leaf > 0x80000000u)
        return child_extended(leaf, r);
    uint32_t max_basic;
    {
        uint32_t b, c, d;
        cpuid(0, 0, &max_basic, &b, &c, &d);
    }
    if (leaf > max_basic || (leaf > 0xD && leaf < 0x40000000u))
        return (struct cpuid_result){0, 0, 0, 0};
    switch (leaf) {
    case 0:
    case 1:
    case 6:
        return child_policy(leaf, r);
    case 7:
        return child_leaf7(subleaf, r);
    case 2:
    case 4: /* cache descriptors (Intel); on AMD these read as zero already */
        return r;
    default:
        /* 3 (serial number), 5 (MONITOR), 0xA (PMU), 0xB (topology), 0xD (XSAVE), ... */
        return (struct cpuid_result){0, 0, 0, 0};
    }
}
