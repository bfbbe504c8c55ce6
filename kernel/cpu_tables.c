#include "kernel/cpu_tables.h"

#include <string.h>

/* Segment descriptors (Intel SDM vol. 3, 3.4.5 "Segment Descriptors", Figure 3-8).
 * In 64-bit mode base and limit are ignored for code and data; what counts is P, S, DPL,
 * the type, and for code L=1, D=0 (3.4.5.1 "Code- and Data-Segment Descriptor Types"). */
#define GDT_CODE64 0x00AF9A000000FFFFull /* P, DPL 0, code execute/read, L, G */
#define GDT_DATA 0x00CF92000000FFFFull   /* P, DPL 0, data read/write, D/B, G */

#define DESCRIPTOR_PRESENT (1ull << 47)
#define DESCRIPTOR_TYPE_TSS64_AVAILABLE (0x9ull << 40)
#define GATE_TYPE_INTERRUPT64 0x8E /* P=1, DPL=0, type 0xE */

struct cpu_tables cpu_tables[MAX_CPUS];
static struct idt_gate idt[IDT_VECTORS] __attribute__((aligned(16)));

/* The IST stacks live in .bss: 3 x 16 KiB per CPU (3 MiB for MAX_CPUS). They must exist
 * before any allocator does, because a #DF during early boot needs one. */
static uint8_t ist_stacks[MAX_CPUS][IST_STACK_COUNT][IST_STACK_SIZE] __attribute__((aligned(16)));

/* The operand of lgdt/lidt/sgdt (Intel SDM vol. 3, 2.4.1, Figure 2-6). */
struct descriptor_table_pointer {
    uint16_t limit;
    uint64_t base;
} __attribute__((packed));

void cpu_tables_encode_tss_descriptor(uint64_t base, uint32_t limit, uint64_t out[2])
{
    out[0] = (limit & 0xFFFFull) | ((base & 0xFFFFFFull) << 16) | DESCRIPTOR_TYPE_TSS64_AVAILABLE |
             DESCRIPTOR_PRESENT | ((uint64_t)((limit >> 16) & 0xF) << 48) |
             (((base >> 24) & 0xFFull) << 56);
    out[1] = base >> 32; /* the upper half's type field must be 0 */
}

struct idt_gate cpu_tables_encode_gate(uint64_t handler, enum ist_slot ist)
{
    return (struct idt_gate){
        .offset_low = (uint16_t)handler,
        .selector = GDT_SELECTOR_CODE,
        .ist = (uint8_t)(ist & 0x7),
        .type_attributes = GATE_TYPE_INTERRUPT64,
        .offset_middle = (uint16_t)(handler >> 16),
        .offset_high = (uint32_t)(handler >> 32),
        .reserved = 0,
    };
}

uint64_t cpu_tables_gate_target(const struct idt_gate *gate)
{
    return (uint64_t)gate->offset_low | ((uint64_t)gate->offset_middle << 16) |
           ((uint64_t)gate->offset_high << 32);
}

struct stack_range cpu_tables_ist_stack(uint32_t cpu, enum ist_slot slot)
{
    if (cpu >= MAX_CPUS || slot < IST_DOUBLE_FAULT || slot > IST_MACHINE_CHECK)
        return (struct stack_range){0, 0};
    uintptr_t base = (uintptr_t)ist_stacks[cpu][slot - 1];
    return (struct stack_range){base, base + IST_STACK_SIZE};
}

void cpu_tables_build(uint32_t cpu)
{
    struct cpu_tables *t = &cpu_tables[cpu];
    memset(t, 0, sizeof(*t));
    t->gdt[GDT_SELECTOR_CODE / 8] = GDT_CODE64;
    t->gdt[GDT_SELECTOR_DATA / 8] = GDT_DATA;
    for (enum ist_slot slot = IST_DOUBLE_FAULT; slot <= IST_MACHINE_CHECK; slot++)
        t->tss.ist[slot - 1] = cpu_tables_ist_stack(cpu, slot).top; /* 16-byte aligned */
    t->tss.io_map_base = sizeof(t->tss);
    /* Written fresh each time, so the type is "available" again: ltr faults on a TSS
     * descriptor already marked busy (Intel SDM vol. 3, 8.2.4). */
    cpu_tables_encode_tss_descriptor((uint64_t)(uintptr_t)&t->tss, sizeof(t->tss) - 1,
                                     &t->gdt[GDT_SELECTOR_TSS / 8]);
}

void cpu_tables_build_idt(const uint64_t entries[IDT_VECTORS])
{
    for (unsigned v = 0; v < IDT_VECTORS; v++) {
        enum ist_slot ist = IST_NONE;
        if (v == 8)
            ist = IST_DOUBLE_FAULT;
        else if (v == 2)
            ist = IST_NMI;
        else if (v == 18)
            ist = IST_MACHINE_CHECK;
        idt[v] = cpu_tables_encode_gate(entries[v], ist);
    }
}

void cpu_tables_load(uint32_t cpu)
{
    struct descriptor_table_pointer gdtr = {
        .limit = sizeof(cpu_tables[cpu].gdt) - 1,
        .base = (uint64_t)(uintptr_t)cpu_tables[cpu].gdt,
    };
    /* CS only changes through a far transfer: push the new selector and a return address,
     * then lretq. DS/ES/SS get the data selector; FS and GS are not touched, because
     * loading a selector into GS would zero the GS base that holds the per-CPU pointer. */
    __asm__ volatile("lgdt %0\n\t"
                     "pushq %1\n\t"
                     "leaq 1f(%%rip), %%rax\n\t"
                     "pushq %%rax\n\t"
                     "lretq\n"
                     "1:\n\t"
                     "movw %w2, %%ax\n\t"
                     "movw %%ax, %%ds\n\t"
                     "movw %%ax, %%es\n\t"
                     "movw %%ax, %%ss\n\t"
                     "ltr %w3"
                     :
                     : "m"(gdtr), "i"(GDT_SELECTOR_CODE), "i"(GDT_SELECTOR_DATA),
                       "r"((uint16_t)GDT_SELECTOR_TSS)
                     : "rax", "memory");
}

void cpu_tables_load_idt(void)
{
    struct descriptor_table_pointer idtr = {
        .limit = sizeof(idt) - 1,
        .base = (uint64_t)(uintptr_t)idt,
    };
    __asm__ volatile("lidt %0" : : "m"(idtr) : "memory");
}

uint32_t cpu_tables_current_cpu(void)
{
    struct descriptor_table_pointer gdtr;
    __asm__ volatile("sgdt %0" : "=m"(gdtr));
    uintptr_t first = (uintptr_t)cpu_tables[0].gdt;
    if (gdtr.base < first)
        return UINT32_MAX;
    uintptr_t offset = gdtr.base - first;
    if (offset % sizeof(struct cpu_tables) != 0 || offset / sizeof(struct cpu_tables) >= MAX_CPUS)
        return UINT32_MAX;
    return (uint32_t)(offset / sizeof(struct cpu_tables));
}
