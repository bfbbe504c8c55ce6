// sources: kernel/cpu_tables.c kernel/stack_trace.c kernel/percpu.c
#include <check.h>
#include <stddef.h>
#include <stdint.h>

#include "kernel/cpu_tables.h"

/* Field extraction by the layouts the CPU reads (Intel SDM vol. 3, Figures 3-8, 6-8, 8-4,
 * 8-11), written independently of the encoder. */
static uint64_t descriptor_base(const uint64_t d[2])
{
    return ((d[0] >> 16) & 0xFFFFFF) | (((d[0] >> 56) & 0xFF) << 24) | (d[1] << 32);
}

static uint32_t descriptor_limit(uint64_t low)
{
    return (uint32_t)((low & 0xFFFF) | (((low >> 48) & 0xF) << 16));
}

START_TEST(structure_sizes_match_the_architecture)
{
    ck_assert_uint_eq(sizeof(struct tss64), 104);
    ck_assert_uint_eq(offsetof(struct tss64, ist), 0x24);
    ck_assert_uint_eq(offsetof(struct tss64, io_map_base), 0x66);
    ck_assert_uint_eq(sizeof(struct idt_gate), 16);
}
END_TEST

START_TEST(tss_descriptor_encoding)
{
    uint64_t d[2];
    cpu_tables_encode_tss_descriptor(0xFFFF8123456789ABull, 0x67, d);
    ck_assert_uint_eq(descriptor_base(d), 0xFFFF8123456789ABull);
    ck_assert_uint_eq(descriptor_limit(d[0]), 0x67);
    ck_assert_uint_eq((d[0] >> 40) & 0xF, 0x9); /* available 64-bit TSS */
    ck_assert_uint_eq((d[0] >> 44) & 1, 0);     /* S = 0: a system descriptor */
    ck_assert_uint_eq((d[0] >> 45) & 3, 0);     /* DPL 0 */
    ck_assert_uint_eq((d[0] >> 47) & 1, 1);     /* present */
    ck_assert_uint_eq((d[0] >> 55) & 1, 0);     /* byte granular */
    ck_assert_uint_eq(d[1] >> 32, 0);           /* upper type field must be zero */
}
END_TEST

START_TEST(gate_encoding_round_trips)
{
    const uint64_t targets[] = {0, 0x100000, 0x12345678, 0xFFFFFFFF80001234ull};
    for (size_t i = 0; i < sizeof(targets) / sizeof(targets[0]); i++) {
        struct idt_gate g = cpu_tables_encode_gate(targets[i], IST_NMI);
        ck_assert_uint_eq(cpu_tables_gate_target(&g), targets[i]);
        ck_assert_uint_eq(g.selector, GDT_SELECTOR_CODE);
        ck_assert_uint_eq(g.ist, IST_NMI);
        ck_assert_uint_eq(g.type_attributes, 0x8E); /* present, DPL 0, interrupt gate */
        ck_assert_uint_eq(g.reserved, 0);
    }
}
END_TEST

START_TEST(built_gdt_and_tss)
{
    for (uint32_t cpu = 0; cpu < MAX_CPUS; cpu += MAX_CPUS - 1) {
        cpu_tables_build(cpu);
        const struct cpu_tables *t = &cpu_tables[cpu];
        ck_assert_uint_eq(t->gdt[0], 0);
        uint64_t code = t->gdt[GDT_SELECTOR_CODE / 8];
        ck_assert_uint_eq((code >> 53) & 1, 1); /* L: 64-bit code */
        ck_assert_uint_eq((code >> 54) & 1, 0); /* D must be 0 with L */
        ck_assert_uint_eq((code >> 43) & 1, 1); /* code */
        ck_assert_uint_eq((code >> 47) & 1, 1);
        uint64_t data = t->gdt[GDT_SELECTOR_DATA / 8];
        ck_assert_uint_eq((data >> 43) & 1, 0); /* data */
        ck_assert_uint_eq((data >> 41) & 1, 1); /* writable */
        ck_assert_uint_eq(descriptor_base(&t->gdt[GDT_SELECTOR_TSS / 8]), (uintptr_t)&t->tss);
        ck_assert_uint_eq(descriptor_limit(t->gdt[GDT_SELECTOR_TSS / 8]), sizeof(t->tss) - 1);
        ck_assert_uint_eq(t->tss.io_map_base, sizeof(struct tss64));
        for (enum ist_slot slot = IST_DOUBLE_FAULT; slot <= IST_MACHINE_CHECK; slot++) {
            struct stack_range r = cpu_tables_ist_stack(cpu, slot);
            ck_assert_uint_eq(r.top - r.base, IST_STACK_SIZE);
            ck_assert_uint_eq(t->tss.ist[slot - 1], r.top);
            ck_assert_uint_eq(r.top % 16, 0);
        }
        for (unsigned i = IST_MACHINE_CHECK; i < 7; i++)
            ck_assert_uint_eq(t->tss.ist[i], 0);
    }
}
END_TEST

START_TEST(ist_stacks_are_distinct)
{
    struct stack_range a = cpu_tables_ist_stack(0, IST_DOUBLE_FAULT);
    struct stack_range b = cpu_tables_ist_stack(0, IST_NMI);
    struct stack_range c = cpu_tables_ist_stack(1, IST_DOUBLE_FAULT);
    ck_assert(a.top <= b.base || b.top <= a.base);
    ck_assert(a.top <= c.base || c.top <= a.base);
    struct stack_range none = cpu_tables_ist_stack(MAX_CPUS, IST_NMI);
    ck_assert_uint_eq(none.top - none.base, 0);
    none = cpu_tables_ist_stack(0, IST_NONE);
    ck_assert_uint_eq(none.top - none.base, 0);
}
END_TEST

Suite *cpu_tables_suite(void)
{
    Suite *s = suite_create("cpu_tables");
    TCase *tc = tcase_create("encoding");
    tcase_add_test(tc, structure_sizes_match_the_architecture);
    tcase_add_test(tc, tss_descriptor_encoding);
    tcase_add_test(tc, gate_encoding_round_trips);
    tcase_add_test(tc, built_gdt_and_tss);
    tcase_add_test(tc, ist_stacks_are_distinct);
    suite_add_tcase(s, tc);
    return s;
}
