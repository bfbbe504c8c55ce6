#include "kernel/percpu.h"

#include "kernel/x86.h"

struct percpu percpu_area[MAX_CPUS];
static bool boot_cpu_installed;

void percpu_install(uint32_t index)
{
    struct percpu *p = &percpu_area[index];
    p->self = p;
    p->index = index;
    wrmsr(MSR_GS_BASE, (uint64_t)(uintptr_t)p);
    boot_cpu_installed = true;
}

uint32_t this_cpu_index(void)
{
    return boot_cpu_installed ? this_cpu()->index : 0;
}
