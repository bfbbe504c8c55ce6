#include "root/hvcall.h"

#include <string.h>

#include "hv/hypercall_abi.h"
#include "hv/root_abi.h"
#include "root/cpu.h"

#define HVCALL_PAGE 4096u

/* One input page per root VP: the input of a memory call must not cross a page. */
static uint8_t input_pages[ROOT_MAX_VPS][HVCALL_PAGE] __attribute__((aligned(HVCALL_PAGE)));

uint64_t hvcall(uint64_t control, uint64_t input_gpa, uint64_t output_gpa)
{
    uint64_t result;
    register uint64_t r8 __asm__("r8") = output_gpa;
    __asm__ volatile("vmmcall"
                     : "=a"(result)
                     : "c"(control), "d"(input_gpa), "r"(r8)
                     : "memory");
    return result;
}

uint16_t hvcall_status(uint64_t result)
{
    return (uint16_t)(result & 0xFFFF);
}

static uint64_t rep_control(uint16_t code, uint32_t count)
{
    return code | ((uint64_t)count << HYPERCALL_CONTROL_REP_COUNT_SHIFT);
}

void hvcall_console_write(const char *bytes, size_t length)
{
    uint8_t *page = input_pages[root_vp_index()];
    while (length) {
        size_t chunk = length < HYPERCALL_REP_MAX ? length : HYPERCALL_REP_MAX;
        memcpy(page, bytes, chunk);
        hvcall(rep_control(HVCALL_HVFW_CONSOLE_WRITE, (uint32_t)chunk),
               (uint64_t)(uintptr_t)page, 0);
        bytes += chunk;
        length -= chunk;
    }
}

void hvcall_root_ready(void)
{
    hvcall(HVCALL_HVFW_ROOT_READY | HYPERCALL_CONTROL_FAST, 0, 0);
}

void hvcall_root_stop(uint64_t code)
{
    for (;;) {
        hvcall(HVCALL_HVFW_ROOT_STOP | HYPERCALL_CONTROL_FAST, code, 0);
        __asm__ volatile("hlt");
    }
}

void hvcall_shutdown(uint32_t code)
{
    hvcall(HVCALL_HVFW_SHUTDOWN | HYPERCALL_CONTROL_FAST, code, 0);
}
