/*
 * Exception handling of the test guests: an IDT for vectors 0-31 whose entries save the
 * registers and call one hook. A guest that provokes faults on purpose (hostile) installs
 * a hook that handles them; any exception nobody handles ends the guest with a FAIL line
 * naming the vector and address, rather than a silent triple fault.
 */
#ifndef HVFW_GUESTS_TRAP_H
#define HVFW_GUESTS_TRAP_H

#include <stdbool.h>
#include <stdint.h>

/* The stack as trap_entry.S leaves it: PUSHAD order (Intel SDM vol. 2, PUSHA/PUSHAD),
 * then vector and error code (0 when the CPU pushes none), then the interrupt frame of a
 * same-privilege exception (SDM vol. 3, 6.12.1 "Exception- or Interrupt-Handler
 * Procedures"). */
struct trap_frame {
    uint32_t edi, esi, ebp, esp_at_pushad, ebx, edx, ecx, eax;
    uint32_t vector, error_code;
    uint32_t eip, cs, eflags;
};

/* Returns true when it handled the exception (it may change frame->eip to resume
 * elsewhere); false lets the runtime report it and end the guest. */
typedef bool (*trap_hook_fn)(struct trap_frame *frame);

#define TRAP_VECTORS 32
/* The IDT's size when a guest adds gates for interrupt vectors of its own. */
#define TRAP_IDT_ENTRIES 256

/* Loads the IDT on the calling VP: the exception gates, and up to the highest gate added
 * by trap_set_gate (a vector beyond the limit is #GP, one left out below it #NP). */
void trap_install(void);
/* Makes `vector` (TRAP_VECTORS .. TRAP_IDT_ENTRIES - 1) a 32-bit interrupt gate to
 * `entry`, for a guest that takes interrupts; each VP then calls trap_install again. */
void trap_set_gate(uint32_t vector, const void *entry);
void trap_set_hook(trap_hook_fn hook);
/* "#UD", "#GP", ... ("#??" for reserved vectors). */
const char *trap_vector_name(uint32_t vector);
/* Called by trap_entry.S only. */
void trap_dispatch(struct trap_frame *frame);

#endif
