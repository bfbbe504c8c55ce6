#include "kernel/stack_trace.h"

#include <stdbool.h>

/* [address, address + size) inside s, written so that no sum can wrap. */
static bool stack_holds(const struct stack_range *s, uintptr_t address, size_t size)
{
    return address >= s->base && address < s->top && s->top - address >= size;
}

const struct stack_range *stack_trace_find(uintptr_t address, size_t size,
                                           const struct stack_range *stacks,
                                           size_t stack_count)
{
    for (size_t i = 0; i < stack_count; i++) {
        if (stack_holds(&stacks[i], address, size))
            return &stacks[i];
    }
    return NULL;
}

size_t stack_trace_walk(uintptr_t rbp, const struct stack_range *stacks, size_t stack_count,
                        uintptr_t *out, size_t max)
{
    /* A frame is two words: the saved rbp and the return address. */
    const size_t frame_size = 2 * sizeof(uintptr_t);
    const struct stack_range *stack = stack_trace_find(rbp, frame_size, stacks, stack_count);
    size_t count = 0;
    while (stack && count < max && rbp % sizeof(uintptr_t) == 0 &&
           stack_holds(stack, rbp, frame_size)) {
        const uintptr_t *frame = (const uintptr_t *)rbp;
        uintptr_t caller_rbp = frame[0];
        uintptr_t return_address = frame[1];
        if (return_address == 0)
            break;
        out[count++] = return_address;
        /* Callers' frames sit at higher addresses; anything else is a corrupt chain. */
        if (caller_rbp <= rbp)
            break;
        rbp = caller_rbp;
    }
    return count;
}
