#include "images/guests/lib/hypercall.h"

/* In memory, so the call below needs no seventh register (all six GPRs carry arguments). */
static uint32_t hypercall_target;

void hypercall_page_set(const void *page)
{
    hypercall_target = (uint32_t)(uintptr_t)page;
}

uint64_t hypercall_through_page(uint64_t control, uint64_t input_gpa, uint64_t output_gpa)
{
    uint32_t eax = (uint32_t)control, edx = (uint32_t)(control >> 32);
    uint32_t ebx = (uint32_t)(input_gpa >> 32), ecx = (uint32_t)input_gpa;
    uint32_t edi = (uint32_t)(output_gpa >> 32), esi = (uint32_t)output_gpa;
    __asm__ volatile("call *%[target]"
                     : "+a"(eax), "+d"(edx), "+b"(ebx), "+c"(ecx), "+D"(edi), "+S"(esi)
                     : [target] "m"(hypercall_target)
                     : "memory");
    return ((uint64_t)edx << 32) | eax;
}
