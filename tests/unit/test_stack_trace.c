// sources: kernel/stack_trace.c
#include <check.h>
#include <stdint.h>

#include "kernel/stack_trace.h"

/* A fake stack of 64 words; frames are built as [saved rbp, return address] pairs. */
static uintptr_t stack[64] __attribute__((aligned(16)));

static struct stack_range whole_stack(void)
{
    return (struct stack_range){(uintptr_t)stack, (uintptr_t)(stack + 64)};
}

static void put_frame(size_t slot, uintptr_t caller_rbp, uintptr_t return_address)
{
    stack[slot] = caller_rbp;
    stack[slot + 1] = return_address;
}

START_TEST(walks_a_chain_to_the_zero_rbp)
{
    struct stack_range range = whole_stack();
    put_frame(4, (uintptr_t)&stack[10], 0x1111);
    put_frame(10, (uintptr_t)&stack[20], 0x2222);
    put_frame(20, 0, 0x3333); /* outermost: kernel/boot.S cleared rbp */
    uintptr_t out[16];
    size_t n = stack_trace_walk((uintptr_t)&stack[4], &range, 1, out, 16);
    ck_assert_uint_eq(n, 3);
    ck_assert_uint_eq(out[0], 0x1111);
    ck_assert_uint_eq(out[1], 0x2222);
    ck_assert_uint_eq(out[2], 0x3333);
}
END_TEST

START_TEST(stops_at_max_frames)
{
    struct stack_range range = whole_stack();
    for (size_t slot = 0; slot < 60; slot += 2)
        put_frame(slot, (uintptr_t)&stack[slot + 2], 0x1000 + slot);
    uintptr_t out[4];
    ck_assert_uint_eq(stack_trace_walk((uintptr_t)&stack[0], &range, 1, out, 4), 4);
    ck_assert_uint_eq(out[3], 0x1006);
}
END_TEST

START_TEST(refuses_pointers_outside_the_stacks)
{
    struct stack_range range = whole_stack();
    uintptr_t out[16];
    ck_assert_uint_eq(stack_trace_walk(0, &range, 1, out, 16), 0);
    ck_assert_uint_eq(stack_trace_walk((uintptr_t)(stack + 64), &range, 1, out, 16), 0);
    /* The last word of the stack: the return address would lie past its top. */
    ck_assert_uint_eq(stack_trace_walk((uintptr_t)(stack + 63), &range, 1, out, 16), 0);
    ck_assert_uint_eq(stack_trace_walk(UINTPTR_MAX - 7, &range, 1, out, 16), 0);
    /* A chain that leaves the stack stops after the last frame inside it. */
    put_frame(4, 0xdead0000, 0x1111);
    ck_assert_uint_eq(stack_trace_walk((uintptr_t)&stack[4], &range, 1, out, 16), 1);
    /* Near the top of the address space: no sum may wrap into the stack. */
    put_frame(4, UINTPTR_MAX - 7, 0x1111);
    ck_assert_uint_eq(stack_trace_walk((uintptr_t)&stack[4], &range, 1, out, 16), 1);
}
END_TEST

START_TEST(refuses_misaligned_and_looping_chains)
{
    struct stack_range range = whole_stack();
    uintptr_t out[16];
    ck_assert_uint_eq(stack_trace_walk((uintptr_t)&stack[4] + 3, &range, 1, out, 16), 0);
    put_frame(4, (uintptr_t)&stack[10] + 4, 0x1111);
    ck_assert_uint_eq(stack_trace_walk((uintptr_t)&stack[4], &range, 1, out, 16), 1);
    /* A frame that points at itself or downwards would loop forever. */
    put_frame(4, (uintptr_t)&stack[4], 0x1111);
    ck_assert_uint_eq(stack_trace_walk((uintptr_t)&stack[4], &range, 1, out, 16), 1);
    put_frame(10, (uintptr_t)&stack[4], 0x2222);
    ck_assert_uint_eq(stack_trace_walk((uintptr_t)&stack[10], &range, 1, out, 16), 1);
    /* A zero return address ends the walk without being reported. */
    put_frame(4, (uintptr_t)&stack[10], 0);
    ck_assert_uint_eq(stack_trace_walk((uintptr_t)&stack[4], &range, 1, out, 16), 0);
}
END_TEST

START_TEST(a_chain_stays_in_the_stack_it_started_in)
{
    static uintptr_t other[16] __attribute__((aligned(16)));
    struct stack_range ranges[2] = {
        whole_stack(),
        {(uintptr_t)other, (uintptr_t)(other + 16)},
    };
    other[2] = (uintptr_t)&stack[4]; /* jumps from `other` into `stack` */
    other[3] = 0x1111;
    put_frame(4, 0, 0x2222);
    uintptr_t out[16];
    ck_assert_uint_eq(stack_trace_walk((uintptr_t)&other[2], ranges, 2, out, 16), 1);
    ck_assert_ptr_eq(stack_trace_find((uintptr_t)&other[2], 16, ranges, 2), &ranges[1]);
    ck_assert_ptr_null(stack_trace_find((uintptr_t)&other[15], 16, ranges, 2));
    struct stack_range empty = {(uintptr_t)stack, (uintptr_t)stack};
    ck_assert_ptr_null(stack_trace_find((uintptr_t)stack, 0, &empty, 1));
}
END_TEST

Suite *stack_trace_suite(void)
{
    Suite *s = suite_create("stack_trace");
    TCase *tc = tcase_create("walk");
    tcase_add_test(tc, walks_a_chain_to_the_zero_rbp);
    tcase_add_test(tc, stops_at_max_frames);
    tcase_add_test(tc, refuses_pointers_outside_the_stacks);
    tcase_add_test(tc, refuses_misaligned_and_looping_chains);
    tcase_add_test(tc, a_chain_stays_in_the_stack_it_started_in);
    suite_add_tcase(s, tc);
    return s;
}
