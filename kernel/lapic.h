/*
 * The local APIC of each CPU (Intel SDM vol. 3, chapter 11 "Advanced Programmable Interrupt
 * Controller"; AMD APM vol. 2, 16.3): enable, EOI, inter-processor interrupts and the timer.
 *
 * xAPIC mode (MMIO at the APIC base) is used unless the firmware already switched to x2APIC
 * or some APIC ID does not fit xAPIC's 8 bits; then x2APIC (MSRs 0x800+, SDM 11.12) is
 * used on every CPU. The timer frequency is measured against the TSC (kernel/tsc.h).
 */
#ifndef HVFW_KERNEL_LAPIC_H
#define HVFW_KERNEL_LAPIC_H

#include <stdbool.h>
#include <stdint.h>

/* Our fixed vectors: high, so they outrank device interrupts in the TPR/PPR order. */
#define LAPIC_VECTOR_TIMER 0xF0
#define LAPIC_VECTOR_ERROR 0xFE
#define LAPIC_VECTOR_SPURIOUS 0xFF /* bits 3:0 all ones, as P6-era APICs require */

/* ICR delivery modes (SDM 11.6.1). */
enum lapic_delivery {
    LAPIC_DELIVERY_FIXED = 0,
    LAPIC_DELIVERY_NMI = 4,
    LAPIC_DELIVERY_INIT = 5,
    LAPIC_DELIVERY_STARTUP = 6,
};

/* Bootstrap processor, once: picks xAPIC or x2APIC, maps the registers and enables this
 * CPU's APIC. madt_address is the MADT's (or its override's) APIC base, 0 if unknown;
 * max_apic_id the largest APIC ID of any CPU we will start. */
void lapic_init(uint64_t madt_address, uint32_t max_apic_id);
/* Every CPU (the BSP through lapic_init): global enable in the same mode as the BSP,
 * spurious vector, LVT entries masked except the MADT's NMI lines, TPR 0. */
void lapic_init_this_cpu(void);

bool lapic_is_x2apic(void);
/* This CPU's APIC ID (32 bits in x2APIC mode, 8 in xAPIC mode). */
uint32_t lapic_id(void);
void lapic_eoi(void);

/* Sends an IPI to one CPU. For fixed IPIs `vector` is the vector, for STARTUP the page
 * number of the real-mode entry (SDM 11.6.1), ignored for INIT/NMI. Returns false if the
 * xAPIC's delivery status stayed "send pending" (about 100 ms). */
bool lapic_send_ipi(uint32_t apic_id, enum lapic_delivery mode, uint8_t vector);

/* Measures the timer's input frequency (after the divider) against the TSC; logs it. */
void lapic_timer_calibrate(void);
uint64_t lapic_timer_hz(void);
/* One interrupt at `vector` after `ns` nanoseconds (clamped to the counter's range). */
void lapic_timer_oneshot(uint64_t ns, uint8_t vector);
/* An interrupt at `vector` every `ns` nanoseconds. */
void lapic_timer_periodic(uint64_t ns, uint8_t vector);
void lapic_timer_stop(void);

/* Runs the timer periodically at 1 kHz for 20 ms with interrupts on and checks the
 * interrupts counted match (stops the kernel if none arrive). Bootstrap processor. */
void lapic_timer_self_test(void);

#endif
