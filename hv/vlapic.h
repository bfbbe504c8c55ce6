/*
 * The virtual local APIC of a child VP, always in x2APIC mode (Intel SDM vol. 3, 11.12
 * "Extended XAPIC (x2APIC)"; AMD APM vol. 2, 16.3 and 16.11): the registers are MSRs
 * 0x800-0x83F, IA32_APIC_BASE reads EN|EXTD as firmware that pre-enabled x2APIC leaves it,
 * and there is no xAPIC MMIO page. The APIC ID is the VP index.
 *
 * Interrupts: fixed, edge-triggered vectors 16-255 enter the IRR from any CPU
 * (vlapic_raise_interrupt: the SynIC, the root's emulated IOAPIC through
 * HvCallAssertVirtualInterrupt, IPIs, the timer). On the VP's own CPU, right before each
 * entry, vlapic_prepare_entry picks the highest IRR vector above the processor priority
 * (SDM 11.8.3.1: PPR from TPR and the highest ISR vector) and hands it to the vendor
 * backend, which injects it if the guest can take it now or asks for an exit when it can
 * (SVM: EVENTINJ, or V_IRQ with the VINTR intercept; APM 15.20-15.21). The vector moves
 * from IRR to ISR when it is injected; EOI clears the highest ISR bit.
 *
 * The timer counts at hyperv_apic_frequency_hz() (what HV_X64_MSR_APIC_FREQUENCY reports)
 * divided by the divide configuration, one-shot, periodic or TSC-deadline (SDM 11.5.4).
 * Its deadline is serviced by the VP's home CPU like the synthetic timers (hv/sched.c).
 *
 * INIT/SIPI (SDM vol. 3, 9.4 "Multiple-Processor (MP) Initialization"): INIT holds the
 * target in wait-for-SIPI (VP_SUSPEND_WAIT_FOR_SIPI); a Start-up IPI with vector V makes
 * it run in real mode at CS = V << 8 (base V << 12), IP = 0 with the rest of its state as
 * after INIT (SDM vol. 3, Table 10-1 "IA-32 and Intel 64 Processor States Following
 * Power-up, Reset, or INIT"). A SIPI to a VP that does not wait for one is ignored. A
 * child VP the root created but never released (still held by HvRegisterExplicitSuspend,
 * never run) waits for a SIPI too: that is how root/vmms.c leaves a Linux child's
 * application processors, and the SIPI then releases the explicit suspend as well.
 *
 * The root partition's VPs have no virtual LAPIC (they keep their own interrupt path).
 */
#ifndef HVFW_HV_VLAPIC_H
#define HVFW_HV_VLAPIC_H

#include <stdbool.h>
#include <stdint.h>

#include "kernel/spinlock.h"

struct vp;

/* MSRs (SDM vol. 3, Table 11-6 "Local APIC Register Address Map Supported by x2APIC"). */
#define VLAPIC_MSR_APIC_BASE 0x1Bu
#define VLAPIC_MSR_TSC_DEADLINE 0x6E0u
#define VLAPIC_MSR_FIRST 0x800u
#define VLAPIC_MSR_LAST 0x8FFu
#define VLAPIC_MSR_ID 0x802u
#define VLAPIC_MSR_VERSION 0x803u
#define VLAPIC_MSR_TPR 0x808u
#define VLAPIC_MSR_PPR 0x80Au
#define VLAPIC_MSR_EOI 0x80Bu
#define VLAPIC_MSR_LDR 0x80Du
#define VLAPIC_MSR_SVR 0x80Fu
#define VLAPIC_MSR_ISR0 0x810u
#define VLAPIC_MSR_TMR0 0x818u
#define VLAPIC_MSR_IRR0 0x820u
#define VLAPIC_MSR_ESR 0x828u
#define VLAPIC_MSR_LVT_CMCI 0x82Fu
#define VLAPIC_MSR_ICR 0x830u
#define VLAPIC_MSR_LVT_TIMER 0x832u
#define VLAPIC_MSR_LVT_THERMAL 0x833u
#define VLAPIC_MSR_LVT_PERF 0x834u
#define VLAPIC_MSR_LVT_LINT0 0x835u
#define VLAPIC_MSR_LVT_LINT1 0x836u
#define VLAPIC_MSR_LVT_ERROR 0x837u
#define VLAPIC_MSR_TIMER_INITIAL 0x838u
#define VLAPIC_MSR_TIMER_CURRENT 0x839u
#define VLAPIC_MSR_TIMER_DIVIDE 0x83Eu
#define VLAPIC_MSR_SELF_IPI 0x83Fu

/* IA32_APIC_BASE (SDM vol. 3, 11.4.4): BSP, EXTD (x2APIC), EN (global enable), base. */
#define VLAPIC_BASE_BSP (1ull << 8)
#define VLAPIC_BASE_EXTD (1ull << 10)
#define VLAPIC_BASE_ENABLE (1ull << 11)
#define VLAPIC_BASE_ADDRESS 0xFEE00000ull

/* VERSION: an integrated APIC (0x14), max LVT entry 6 (CMCI included), no EOI broadcast
 * suppression (bit 24 clear). */
#define VLAPIC_VERSION (0x14u | (6u << 16))

/* LVT bits (SDM vol. 3, Figure 11-8). */
#define VLAPIC_LVT_MASKED (1u << 16)
#define VLAPIC_LVT_TIMER_MODE_SHIFT 17
#define VLAPIC_TIMER_ONE_SHOT 0u
#define VLAPIC_TIMER_PERIODIC 1u
#define VLAPIC_TIMER_TSC_DEADLINE 2u

/* SVR (SDM vol. 3, Figure 11-23): software enable. */
#define VLAPIC_SVR_ENABLE (1u << 8)

/* ESR bits (SDM vol. 3, Figure 11-9). */
#define VLAPIC_ESR_SEND_ILLEGAL_VECTOR (1u << 5)
#define VLAPIC_ESR_RECEIVE_ILLEGAL_VECTOR (1u << 6)

/* The LVT entries, in MSR order of their registers. */
enum vlapic_lvt {
    VLAPIC_LVT_CMCI,
    VLAPIC_LVT_TIMER,
    VLAPIC_LVT_THERMAL,
    VLAPIC_LVT_PERF,
    VLAPIC_LVT_LINT0,
    VLAPIC_LVT_LINT1,
    VLAPIC_LVT_ERROR,
    VLAPIC_LVT_COUNT,
};

/* The per-VP state, in struct vp. All of it under `lock`; the vector bitmaps are 256 bits,
 * 32 per word (the ISR/TMR/IRR MSRs read one word each). */
struct vlapic {
    struct spinlock lock;
    bool present;       /* a child's VP: the APIC exists */
    uint32_t irr[8], isr[8], tmr[8];
    uint32_t tpr, svr, esr, esr_pending;
    uint32_t lvt[VLAPIC_LVT_COUNT];
    uint64_t icr;
    uint32_t timer_initial, timer_divide;
    uint64_t timer_deadline_ns; /* time_now_ns() of the next expiry; 0 = not armed */
    uint64_t timer_period_ns;   /* periodic mode */
    uint64_t tsc_deadline;      /* IA32_TSC_DEADLINE as written; 0 = disarmed */
    bool nmi_pending;
    /* A Start-up IPI's vector for the VP to apply on its own CPU; bit 8 = valid. */
    uint16_t sipi;
    bool wait_for_sipi;
    bool base_write_logged;
    uint64_t timer_interrupts; /* statistics: timer interrupts raised */
};

/* What an access to an APIC MSR came to. */
enum vlapic_msr_result {
    VLAPIC_MSR_DONE,      /* done (a read's value in *value) */
    VLAPIC_MSR_FAULT,     /* refused: the instruction raises #GP */
    VLAPIC_MSR_UNHANDLED, /* not an APIC MSR */
};

/* Puts the APIC of a new child VP in its power-up state (SDM vol. 3, 11.4.7.1). */
void vlapic_init(struct vp *vp);

/* Makes `vector` (16..255) pending as a fixed, edge-triggered interrupt in `vp`'s virtual
 * LAPIC and wakes or kicks the VP. Any CPU, any context; lock-safe. A vector below 16 is
 * refused (logged, ESR receive-illegal-vector) and a software-disabled APIC drops fixed
 * interrupts, as the SDM says (11.4.7.2). */
void vlapic_raise_interrupt(struct vp *vp, uint8_t vector);

/* RDMSR/WRMSR of `msr` by `vp` (IA32_APIC_BASE, IA32_TSC_DEADLINE, 0x800-0x8FF). Runs on
 * the VP's own CPU during its exit. */
enum vlapic_msr_result vlapic_msr_read(struct vp *vp, uint32_t msr, uint64_t *value);
enum vlapic_msr_result vlapic_msr_write(struct vp *vp, uint32_t msr, uint64_t value);

/* On the VP's own CPU, interrupts off, right before it enters: applies a Start-up IPI,
 * then injects the highest deliverable interrupt or asks for the interrupt window. */
void vlapic_prepare_entry(struct vp *vp);

/* Whether HLT may sleep: false when an interrupt the guest would take at once (RFLAGS.IF
 * set, vector above the PPR) is pending. `interrupts_enabled` is the guest's RFLAGS.IF. */
bool vlapic_halt_may_sleep(struct vp *vp, bool interrupts_enabled);

/* The VP's home CPU services its timer: raises an expired timer's interrupt and returns
 * the next deadline (time_now_ns() terms), 0 if none. */
uint64_t vlapic_timer_service(struct vp *vp, uint64_t now_ns);

/* ---- pure helpers (host-tested) ------------------------------------------------------- */

/* The highest vector set in a 256-bit map, -1 if none. */
int vlapic_highest_vector(const uint32_t map[8]);
/* The processor priority (SDM vol. 3, 11.8.3.1) from the TPR and the highest in-service
 * vector (-1 if none). */
uint32_t vlapic_processor_priority(uint32_t tpr, int highest_isr);
/* The divisor of a divide configuration register value (SDM vol. 3, Figure 11-10). */
uint32_t vlapic_divisor(uint32_t divide_config);
/* Nanoseconds for `ticks` timer ticks at `hz` input clock and `divisor`, saturating. */
uint64_t vlapic_ticks_to_ns(uint64_t ticks, uint32_t divisor, uint64_t hz);
/* Timer ticks in `ns` nanoseconds (the current count), rounded up, saturating. */
uint64_t vlapic_ns_to_ticks(uint64_t ns, uint32_t divisor, uint64_t hz);

/* A decoded x2APIC ICR write (SDM vol. 3, 11.12.9 and Figure 11-12). */
struct vlapic_icr {
    uint8_t vector;
    uint8_t delivery_mode;  /* 0 fixed, 1 lowest priority, 4 NMI, 5 INIT, 6 Start-up */
    bool logical;           /* destination mode */
    bool level_assert;      /* bit 14 */
    bool level_triggered;   /* bit 15 */
    uint8_t shorthand;      /* 0 none, 1 self, 2 all including self, 3 all excluding self */
    uint32_t destination;
};
#define VLAPIC_ICR_FIXED 0
#define VLAPIC_ICR_LOWEST_PRIORITY 1
#define VLAPIC_ICR_SMI 2
#define VLAPIC_ICR_NMI 4
#define VLAPIC_ICR_INIT 5
#define VLAPIC_ICR_STARTUP 6
#define VLAPIC_SHORTHAND_NONE 0
#define VLAPIC_SHORTHAND_SELF 1
#define VLAPIC_SHORTHAND_ALL 2
#define VLAPIC_SHORTHAND_OTHERS 3
/* False if the value sets reserved bits or a reserved delivery mode (the write #GPs). */
bool vlapic_icr_decode(uint64_t value, struct vlapic_icr *out);
/* Whether the VP with APIC ID `apic_id` is a target of `icr` sent by `sender_id`. */
bool vlapic_icr_targets(const struct vlapic_icr *icr, uint32_t sender_id, uint32_t apic_id);
/* The x2APIC logical ID of an APIC ID (cluster << 16 | 1 << (id & 15); SDM 11.12.10.2). */
uint32_t vlapic_logical_id(uint32_t apic_id);

#endif
