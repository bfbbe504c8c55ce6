/*
 * What CPUID tells a partition: the host's answers minus what the partition must not use
 * (virtualization, which the hypervisor owns; the local APIC, for the root, whose
 * interrupts the hypervisor owns; MONITOR/MWAIT), plus the hypervisor-present bit
 * (CPUID.1:ECX[31]). The Hyper-V leaves 0x40000000-0x4000FFFF are zero here; a child's
 * are answered by hv/hyperv.c before its CPUID reaches the root.
 */
#ifndef HVFW_HV_CPUID_H
#define HVFW_HV_CPUID_H

#include <stdbool.h>
#include <stdint.h>

struct cpuid_result {
    uint32_t eax, ebx, ecx, edx;
};

struct cpuid_result cpuid_for_partition(uint32_t leaf, uint32_t subleaf, bool is_root);

#endif
