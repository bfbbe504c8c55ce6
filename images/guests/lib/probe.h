/*
 * Probing instructions that may fault, for the test guests that check what a hypervisor
 * refuses (hostile, hvcpuid, synictest, apictest, platform): one instruction at a time is
 * "armed"; if it faults, probe_trap (the guest installs it with trap_set_hook) records the
 * vector and error code and resumes right after it, so a #GP or #UD is a result the guest
 * can check rather than the runtime's FAIL line. A fault anywhere else still is that line.
 *
 * An armed instruction in inline assembly:
 *     probe_begin();
 *     __asm__ volatile(ARM "rdmsr" DISARM : "+a"(low), "+d"(high), ARM_OPERANDS
 *                      : "c"(msr) : "memory");
 *     if (probe_caught_vector != NO_FAULT) ...
 * ARM stores the addresses of the local labels 1 (the instruction) and 2 (after it) for
 * the hook; the instruction must be the one right after ARM, and only one VP may be armed
 * at a time (the guests arm on VP 0 only).
 *
 * Also CHECK, the checking guests' way of reporting a failed expectation and going on.
 */
#ifndef HVFW_GUESTS_PROBE_H
#define HVFW_GUESTS_PROBE_H

#include <stdbool.h>
#include <stdint.h>

#include "images/guests/lib/guest.h"
#include "images/guests/lib/trap.h"

/* probe_caught_vector when the armed instruction did not fault. */
#define NO_FAULT 0xFFFFFFFFu

#define ARM "movl $1f, %[at]\n\tmovl $2f, %[resume]\n1:\t"
#define DISARM "\n2:"
#define ARM_OPERANDS [at] "=m"(probe_armed_at), [resume] "=m"(probe_armed_resume)

/* The armed instruction's address (0 when none is armed) and where it resumes. */
extern volatile uint32_t probe_armed_at, probe_armed_resume;
/* The last armed fault's vector (NO_FAULT since probe_begin if none) and error code (0
 * for a vector without one). */
extern volatile uint32_t probe_caught_vector, probe_caught_error;
/* Armed faults caught since the guest started. */
extern volatile uint32_t probe_faults;

/* The trap hook (lib/trap.h): handles a fault of the armed instruction only. */
bool probe_trap(struct trap_frame *frame);

/* Forgets the last fault before an armed instruction. */
static inline void probe_begin(void)
{
    probe_caught_vector = NO_FAULT;
}

/* RDMSR / WRMSR that may fault: the vector caught, or NO_FAULT. *value is 0 after a
 * faulting read. */
uint32_t try_rdmsr(uint32_t msr, uint64_t *value);
uint32_t try_wrmsr(uint32_t msr, uint64_t value);

/* Set by CHECK; the guest ends with FAIL when it is. */
extern bool checks_failed;

/* Prints "<guest>: FAIL <printf arguments>" unless `condition` holds, and goes on. */
#define CHECK(condition, ...)                                                              \
    do {                                                                                   \
        if (!(condition)) {                                                                \
            guest_printf("FAIL " __VA_ARGS__);                                             \
            checks_failed = true;                                                          \
        }                                                                                  \
    } while (0)

#endif
