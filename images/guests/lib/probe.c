#include "images/guests/lib/probe.h"

volatile uint32_t probe_armed_at, probe_armed_resume;
volatile uint32_t probe_caught_vector = NO_FAULT, probe_caught_error;
volatile uint32_t probe_faults;
bool checks_failed;

bool probe_trap(struct trap_frame *frame)
{
    if (probe_armed_at == 0 || frame->eip != probe_armed_at)
        return false;
    probe_caught_vector = frame->vector;
    probe_caught_error = frame->error_code;
    probe_faults++;
    frame->eip = probe_armed_resume;
    probe_armed_at = 0;
    return true;
}

uint32_t try_rdmsr(uint32_t msr, uint64_t *value)
{
    uint32_t low = 0, high = 0;
    probe_begin();
    __asm__ volatile(ARM "rdmsr" DISARM
                     : "+a"(low), "+d"(high), ARM_OPERANDS
                     : "c"(msr)
                     : "memory");
    *value = ((uint64_t)high << 32) | low;
    return probe_caught_vector;
}

uint32_t try_wrmsr(uint32_t msr, uint64_t value)
{
    probe_begin();
    __asm__ volatile(ARM "wrmsr" DISARM
                     : ARM_OPERANDS
                     : "c"(msr), "a"((uint32_t)value), "d"((uint32_t)(value >> 32))
                     : "memory");
    return probe_caught_vector;
}
