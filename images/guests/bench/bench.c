/*
 * bench: how much an exit costs, three ways, measured in TSC cycles per round trip
 * (bench/exits turns them into rates with the TSC frequency the hypervisor logged):
 *   none       an instruction that does not exit (the loop's own cost),
 *   bare-exit  RDMSR of EFER: the hypervisor answers it itself (guest → hypervisor → guest),
 *   hypercall  HvCallGetPartitionId through VMMCALL: the hypervisor's dispatcher, input
 *              validation and output copy,
 *   intercept  OUT to an unclaimed port: forwarded to the root's worker, which drops the
 *              write and completes the intercept (guest → hypervisor → root → hypervisor
 *              → guest).
 * Under plain QEMU (no hvfw) the same loops run without exits: a baseline.
 */
#include <stdint.h>

#include "images/guests/lib/cpu.h"
#include "images/guests/lib/guest.h"

const char guest_name[] = "bench";

#define HVCALL_GET_PARTITION_ID 0x0046u
#define MSR_EFER 0xC0000080u
#define HV_X64_MSR_GUEST_OS_ID 0x40000000u
#define BENCH_GUEST_OS_ID 0x8100000000000001ull /* open-source vendor, "version 1" */

static uint8_t output_page[4096] __attribute__((aligned(4096)));

static void op_none(void)
{
    __asm__ volatile("nop" ::: "memory");
}

static void op_bare_exit(void)
{
    uint32_t lo, hi;
    __asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(MSR_EFER));
}

/* TLFS 3.8, 32-bit convention: EDX:EAX control, EBX:ECX input GPA, EDI:ESI output GPA. */
static void op_hypercall(void)
{
    uint32_t eax = HVCALL_GET_PARTITION_ID, edx = 0;
    uint32_t out = (uint32_t)(uintptr_t)output_page;
    __asm__ volatile("vmmcall"
                     : "+a"(eax), "+d"(edx)
                     : "b"(0), "c"(0), "D"(0), "S"(out)
                     : "memory");
}

static void op_intercept(void)
{
    __asm__ volatile("outb %%al, $0x80" : : "a"(0));
}

static uint64_t measure(void (*op)(void), uint32_t iterations)
{
    uint64_t start = rdtsc();
    for (uint32_t i = 0; i < iterations; i++)
        op();
    return (rdtsc() - start) / iterations;
}

int guest_main(const struct guest_boot *boot)
{
    uint32_t iterations = (uint32_t)guest_cmdline_number(boot, "iterations", 2000);
    struct {
        const char *name;
        void (*op)(void);
    } ops[] = {
        {"none", op_none},
        {"bare-exit", op_bare_exit},
        {"hypercall", op_hypercall},
        {"intercept", op_intercept},
    };
    /* A VMMCALL is a hypercall only once the guest reported its identity (TLFS 3.13). */
    if (boot->loader == GUEST_LOADER_HVFW)
        __asm__ volatile("wrmsr"
                         :
                         : "c"(HV_X64_MSR_GUEST_OS_ID), "a"((uint32_t)BENCH_GUEST_OS_ID),
                           "d"((uint32_t)(BENCH_GUEST_OS_ID >> 32)));
    for (unsigned i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
        /* Without hvfw nothing answers VMMCALL: it would raise #UD. */
        if (ops[i].op == op_hypercall && boot->loader != GUEST_LOADER_HVFW)
            continue;
        measure(ops[i].op, 10); /* warm up */
        guest_printf("%s cycles=%llu iterations=%u", ops[i].name,
                     (unsigned long long)measure(ops[i].op, iterations), iterations);
    }
    guest_printf("PASS");
    return GUEST_EXIT_PASS;
}
