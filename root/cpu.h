/*
 * The root partition's own CPU state, per VP: a GDT and an IDT of its own (it runs in
 * guest mode and sees none of the hypervisor's), its per-VP data through GS, and the
 * exception handler. An exception in root code is reported and stops the root, unless the
 * faulting instruction has a fixup (ROOT_TRY_WRITE64): then it resumes there, which is
 * how the root tests that the hypervisor refuses it.
 */
#ifndef HVFW_ROOT_CPU_H
#define HVFW_ROOT_CPU_H

#include <stdbool.h>
#include <stdint.h>

struct root_vp {
    struct root_vp *self; /* first: root_vp_index() reads %gs:0 */
    uint32_t index;
    uint64_t exceptions;   /* taken and resumed through a fixup */
    uint8_t last_vector;
};

/* GDT, IDT and GS for the calling VP. */
void root_cpu_init(uint32_t vp_index);
uint32_t root_vp_index(void);
struct root_vp *root_this_vp(void);

/* Writes `value` at `address`; false if that faulted (the root survives the fault). */
bool root_try_write64(uint64_t address, uint64_t value);
/* Reads at `address`; false if that faulted. */
bool root_try_read64(uint64_t address, uint64_t *value);
/* IN from an I/O port; false if that faulted (a port the hypervisor keeps: #GP). */
bool root_try_inl(uint16_t port, uint32_t *value);

/* Waits forever with HLT (the hypervisor gives the CPU away meanwhile). */
__attribute__((noreturn)) void root_idle(void);

#endif
