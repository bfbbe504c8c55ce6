/*
 * The x86-64 descriptor tables: one GDT and TSS per CPU (the TSS holds that CPU's IST
 * stacks, so it cannot be shared) and one IDT shared by all CPUs.
 *
 * GDT layout (selectors): 0x00 null, 0x08 64-bit code, 0x10 data, 0x18 64-bit TSS (a
 * 16-byte system descriptor, two slots). IST stacks: IST1 #DF, IST2 NMI, IST3 #MC, so
 * those three run on a known-good stack even when the interrupted one is exhausted or
 * corrupt (Intel SDM vol. 3, 6.14.5 "Interrupt Stack Table").
 */
#ifndef HVFW_KERNEL_CPU_TABLES_H
#define HVFW_KERNEL_CPU_TABLES_H

#include <stdint.h>

#include "kernel/percpu.h"
#include "kernel/stack_trace.h"

#define GDT_SELECTOR_CODE 0x08
#define GDT_SELECTOR_DATA 0x10
#define GDT_SELECTOR_TSS 0x18
#define GDT_ENTRIES 5 /* null, code, data, TSS low, TSS high */

#define IDT_VECTORS 256
#define IST_STACK_SIZE 16384
#define IST_STACK_COUNT 3

/* Which IST slot (1-7 in the TSS; 0 = no stack switch) a vector's gate selects. */
enum ist_slot {
    IST_NONE = 0,
    IST_DOUBLE_FAULT = 1,
    IST_NMI = 2,
    IST_MACHINE_CHECK = 3,
};

/* 64-bit TSS (Intel SDM vol. 3, 8.7 "Task Management in 64-bit Mode", Figure 8-11). */
struct tss64 {
    uint32_t reserved0;
    uint64_t rsp[3]; /* stacks for a switch to CPL 0-2 (unused: we never leave CPL 0) */
    uint64_t reserved1;
    uint64_t ist[7]; /* ist[0] is IST1 */
    uint64_t reserved2;
    uint16_t reserved3;
    uint16_t io_map_base; /* == sizeof(struct tss64): no I/O permission bitmap */
} __attribute__((packed));

/* 64-bit interrupt gate (Intel SDM vol. 3, 6.14.1 "64-Bit Mode IDT", Figure 6-8). */
struct idt_gate {
    uint16_t offset_low;
    uint16_t selector;
    uint8_t ist;        /* bits 2:0 */
    uint8_t type_attributes; /* P, DPL, type (0xE = 64-bit interrupt gate) */
    uint16_t offset_middle;
    uint32_t offset_high;
    uint32_t reserved;
} __attribute__((packed));

/* One CPU's GDT and TSS; percpu->arch points here once the CPU has loaded them. */
struct cpu_tables {
    uint64_t gdt[GDT_ENTRIES];
    struct tss64 tss;
} __attribute__((aligned(16)));

extern struct cpu_tables cpu_tables[MAX_CPUS];

/* Encodes the 16-byte TSS descriptor (Intel SDM vol. 3, 8.2.3, Figure 8-4) as an
 * available 64-bit TSS (type 9), present, DPL 0, byte granular. */
void cpu_tables_encode_tss_descriptor(uint64_t base, uint32_t limit, uint64_t out[2]);
/* An interrupt gate at `handler`, CPL 0 only, through the 64-bit code segment. */
struct idt_gate cpu_tables_encode_gate(uint64_t handler, enum ist_slot ist);
/* The address a gate points at (the inverse of cpu_tables_encode_gate). */
uint64_t cpu_tables_gate_target(const struct idt_gate *gate);

/* Fills cpu_tables[cpu] (GDT and TSS with this CPU's IST stacks). Memory only. */
void cpu_tables_build(uint32_t cpu);
/* Fills the shared IDT: vector v enters at entries[v]; #DF, NMI and #MC use their IST. */
void cpu_tables_build_idt(const uint64_t entries[IDT_VECTORS]);
/* On the calling CPU: lgdt cpu_tables[cpu], reload CS (far return) and DS/ES/SS, ltr.
 * FS and GS are left alone, so the GS base (per-CPU data) survives. */
void cpu_tables_load(uint32_t cpu);
/* On the calling CPU: lidt the shared IDT. */
void cpu_tables_load_idt(void);

/* The calling CPU's index, found from its GDTR (each CPU has its own GDT), not from GS:
 * usable in the fault handler even when the GS base is corrupt. UINT32_MAX if this CPU
 * has not loaded one of our GDTs. */
uint32_t cpu_tables_current_cpu(void);
/* [base, top) of a CPU's IST stack; slot is IST_DOUBLE_FAULT..IST_MACHINE_CHECK. */
struct stack_range cpu_tables_ist_stack(uint32_t cpu, enum ist_slot slot);

#endif
