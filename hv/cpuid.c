#include "hv/cpuid.h"

#include "kernel/x86.h"

#define LEAF1_ECX_MONITOR (1u << 3)
#define LEAF1_ECX_VMX (1u << 5)
#define LEAF1_ECX_X2APIC (1u << 21)
#define LEAF1_ECX_HYPERVISOR (1u << 31)
#define LEAF1_EDX_APIC (1u << 9)
#define EXT1_ECX_SVM (1u << 2)

struct cpuid_result cpuid_for_partition(uint32_t leaf, uint32_t subleaf, bool is_root)
{
    struct cpuid_result r;
    cpuid(leaf, subleaf, &r.eax, &r.ebx, &r.ecx, &r.edx);
    if (leaf == 1) {
        r.ecx &= ~(LEAF1_ECX_MONITOR | LEAF1_ECX_VMX | LEAF1_ECX_X2APIC);
        r.ecx |= LEAF1_ECX_HYPERVISOR;
        if (is_root)
            r.edx &= ~LEAF1_EDX_APIC;
        r.ebx &= 0x00FFFFFFu; /* initial APIC ID: the partition's own VP numbering */
    } else if (leaf == 0x80000001u) {
        r.ecx &= ~EXT1_ECX_SVM;
    } else if (leaf == 0x8000000Au || (leaf >= 0x40000000u && leaf < 0x40010000u)) {
        r = (struct cpuid_result){0, 0, 0, 0};
    }
    return r;
}
