/*
 * Per-CPU data. Each CPU's GS base points at its own `struct percpu`, whose first field
 * points at itself, so `this_cpu()` is one load and needs no CPU number.
 */
#ifndef HVFW_KERNEL_PERCPU_H
#define HVFW_KERNEL_PERCPU_H

#include <stdbool.h>
#include <stdint.h>

#define MAX_CPUS 64

struct percpu {
    struct percpu *self; /* must stay first: this_cpu() reads %gs:0 */
    uint32_t index;      /* logical CPU number, 0 = bootstrap processor */
    uint32_t apic_id;
    bool online;
    void *stack_top;          /* this CPU's kernel stack */
    void *arch;               /* GDT/TSS block (kernel/trap.c) */
};

extern struct percpu percpu_area[MAX_CPUS];

/* Points GS at percpu_area[index] on the calling CPU. */
void percpu_install(uint32_t index);

static inline struct percpu *this_cpu(void)
{
    struct percpu *p;
    __asm__ volatile("movq %%gs:0, %0" : "=r"(p));
    return p;
}

/* Safe before percpu_install has run on the boot CPU (then 0). */
uint32_t this_cpu_index(void);

#endif
