/*
 * A frame-pointer stack walk for the fault report. The image is built with
 * -fno-omit-frame-pointer, so every function starts with `push rbp; mov rbp, rsp` and a
 * frame is [rbp] = the caller's rbp, [rbp + 8] = the return address (System V AMD64 ABI,
 * 3.2.2 "The Stack Frame"). The walk trusts nothing it reads: each frame pointer must be
 * aligned and lie inside one of the known stacks before it is dereferenced. Host-testable.
 */
#ifndef HVFW_KERNEL_STACK_TRACE_H
#define HVFW_KERNEL_STACK_TRACE_H

#include <stddef.h>
#include <stdint.h>

#define STACK_TRACE_MAX_FRAMES 16

/* A stack: [base, top). An empty range (base == top) matches nothing. */
struct stack_range {
    uintptr_t base;
    uintptr_t top;
};

/* Writes up to `max` return addresses, innermost first, starting at frame pointer `rbp`.
 * Stops at a zero rbp (kernel/boot.S clears it: the outermost frame), at a pointer that is
 * misaligned or outside the stack it started in, or one that does not move toward the top
 * of the stack (so a corrupt chain cannot loop). Returns how many were written. */
size_t stack_trace_walk(uintptr_t rbp, const struct stack_range *stacks, size_t stack_count,
                        uintptr_t *out, size_t max);

/* The range in `stacks` that holds [address, address + size), or NULL. */
const struct stack_range *stack_trace_find(uintptr_t address, size_t size,
                                           const struct stack_range *stacks,
                                           size_t stack_count);

#endif
