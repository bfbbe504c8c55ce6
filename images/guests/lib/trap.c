#include "images/guests/lib/trap.h"

#include "images/guests/lib/guest.h"

/* A 32-bit interrupt gate (Intel SDM vol. 3, 6.11 "IDT Descriptors"): present, DPL 0,
 * type 0xE. Interrupt rather than trap gates, so IF stays clear in handlers; it is clear
 * everywhere in these guests anyway. */
struct idt_gate {
    uint16_t offset_low;
    uint16_t selector;
    uint8_t zero;
    uint8_t type_attributes;
    uint16_t offset_high;
} __attribute__((packed));

struct idt_descriptor {
    uint16_t limit;
    uint32_t base;
} __attribute__((packed));

#define GATE_INTERRUPT_32 0x8E
#define SELECTOR_CODE 0x08 /* start.S's GDT */

extern const uint32_t trap_stubs[TRAP_VECTORS];

static struct idt_gate idt[TRAP_IDT_ENTRIES];
/* Gates in use: the exceptions', and up to the highest trap_set_gate added. */
static volatile uint32_t idt_entries = TRAP_VECTORS;
static volatile trap_hook_fn trap_hook;

static const char *const vector_names[TRAP_VECTORS] = {
    "#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM", "#DF", "CSO", "#TS", "#NP",
    "#SS", "#GP", "#PF", "#??", "#MF", "#AC", "#MC", "#XM", "#VE", "#CP", "#??", "#??",
    "#??", "#??", "#??", "#??", "#HV", "#VC", "#SX", "#??",
};

const char *trap_vector_name(uint32_t vector)
{
    return vector < TRAP_VECTORS ? vector_names[vector] : "#??";
}

static void set_gate(uint32_t vector, uint32_t entry)
{
    idt[vector] = (struct idt_gate){
        .offset_low = (uint16_t)entry,
        .selector = SELECTOR_CODE,
        .zero = 0,
        .type_attributes = GATE_INTERRUPT_32,
        .offset_high = (uint16_t)(entry >> 16),
    };
}

void trap_install(void)
{
    /* Every VP builds the same table; the writes are identical, so a race is harmless. */
    for (uint32_t v = 0; v < TRAP_VECTORS; v++)
        set_gate(v, trap_stubs[v]);
    struct idt_descriptor descriptor = {(uint16_t)(idt_entries * sizeof(idt[0]) - 1),
                                        (uint32_t)(uintptr_t)idt};
    __asm__ volatile("lidt %0" : : "m"(descriptor) : "memory");
}

void trap_set_gate(uint32_t vector, const void *entry)
{
    if (vector < TRAP_VECTORS || vector >= TRAP_IDT_ENTRIES) {
        guest_printf("FAIL trap_set_gate: vector %u is not an interrupt vector", vector);
        guest_exit(GUEST_EXIT_FAIL);
    }
    set_gate(vector, (uint32_t)(uintptr_t)entry);
    if (vector >= idt_entries)
        idt_entries = vector + 1;
}

void trap_set_hook(trap_hook_fn hook)
{
    trap_hook = hook;
}

void trap_dispatch(struct trap_frame *frame)
{
    trap_hook_fn hook = trap_hook;
    if (hook && hook(frame))
        return;
    guest_printf("FAIL unexpected exception %s (vector %u) at eip=0x%08x error=0x%x "
                 "eax=0x%x ebx=0x%x ecx=0x%x edx=0x%x esi=0x%x edi=0x%x",
                 trap_vector_name(frame->vector), frame->vector, frame->eip,
                 frame->error_code, frame->eax, frame->ebx, frame->ecx, frame->edx,
                 frame->esi, frame->edi);
    guest_exit(GUEST_EXIT_FAIL);
}
