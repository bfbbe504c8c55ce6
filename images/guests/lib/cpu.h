/*
 * CPUID and RDTSC for the 32-bit test guests (Intel SDM vol. 2). kernel/x86.h is written
 * for the 64-bit hypervisor, so the guests carry their own. MSR accesses that may fault
 * go through try_rdmsr/try_wrmsr of lib/probe.h.
 */
#ifndef HVFW_GUESTS_CPU_H
#define HVFW_GUESTS_CPU_H

#include <stdint.h>

struct cpuid_result {
    uint32_t eax, ebx, ecx, edx;
};

/* Subleaf (ECX) 0. */
static inline struct cpuid_result cpuid(uint32_t leaf)
{
    struct cpuid_result r;
    __asm__ volatile("cpuid" : "=a"(r.eax), "=b"(r.ebx), "=c"(r.ecx), "=d"(r.edx)
                     : "a"(leaf), "c"(0));
    return r;
}

static inline uint64_t rdtsc(void)
{
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return ((uint64_t)hi << 32) | lo;
}

#endif
