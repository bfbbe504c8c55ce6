/* Port I/O and small privileged instructions of the 32-bit test guests (Intel SDM vol. 2).
 * The guests' own copy: kernel/x86.h is written for the 64-bit hypervisor. */
#ifndef HVFW_GUESTS_IO_H
#define HVFW_GUESTS_IO_H

#include <stdint.h>

static inline void outb(uint16_t port, uint8_t value)
{
    __asm__ volatile("outb %0, %1" : : "a"(value), "Nd"(port));
}

static inline uint8_t inb(uint16_t port)
{
    uint8_t value;
    __asm__ volatile("inb %1, %0" : "=a"(value) : "Nd"(port));
    return value;
}

static inline void outw(uint16_t port, uint16_t value)
{
    __asm__ volatile("outw %0, %1" : : "a"(value), "Nd"(port));
}

static inline void outl(uint16_t port, uint32_t value)
{
    __asm__ volatile("outl %0, %1" : : "a"(value), "Nd"(port));
}

static inline void cpu_relax(void)
{
    __asm__ volatile("pause" ::: "memory");
}

/* Interrupts stay off in every guest; HLT then parks the VP for good. */
static inline __attribute__((noreturn)) void cpu_park(void)
{
    for (;;)
        __asm__ volatile("cli; hlt" ::: "memory");
}

#endif
