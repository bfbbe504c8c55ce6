/*
 * The Hyper-V enlightenments of child partitions that the hypervisor answers itself: the
 * hypervisor CPUID leaves 0x40000000-0x4000FFFF (TLFS v6.0b chapter 2 "Feature and
 * Interface Discovery") and the synthetic MSRs 0x40000000-0x400000FF that exist so far:
 * GUEST_OS_ID and HYPERCALL (TLFS 3.13 "Establishing the Hypercall Interface"), VP_INDEX
 * (TLFS 7.8), VP_ASSIST_PAGE (TLFS 7.8.7, accepted and kept; nothing is overlaid yet),
 * TIME_REF_COUNT (TLFS 12.3, the partition reference counter in 100 ns units), the TSC
 * and APIC timer frequencies (TLFS 2.4.4 "AccessFrequencyRegs")
 * and the reference TSC page (TLFS 12.7, hv/reference_tsc.h); the SynIC and synthetic timer
 * MSRs are passed on to hv/synic.c and hv/stimer.c. The feature leaf advertises exactly
 * what works. What an unmodified Linux 6.1 guest reads is in
 * shared/reference/linux-hyperv-guest-needs.md sections 1-3.
 *
 * Hypercalls: a child's VMMCALL is a hypercall only once it has reported its guest OS
 * identity (TLFS 3.13: the guest "must identify itself ... before it can invoke
 * hypercalls"), from CPL 0 in protected or long mode (TLFS 3.2 "Legal Hypercall
 * Environments"); anything else gets #UD, as on a machine without a hypervisor.
 */
#ifndef HVFW_HV_HYPERV_H
#define HVFW_HV_HYPERV_H

#include <stdbool.h>
#include <stdint.h>

#include "hv/cpuid.h"
#include "kernel/spinlock.h"

struct partition;
struct vp;

/* ---- CPUID (TLFS 2.4) ---------------------------------------------------------------- */

#define HYPERV_CPUID_VENDOR_AND_MAX 0x40000000u
#define HYPERV_CPUID_INTERFACE 0x40000001u
#define HYPERV_CPUID_VERSION 0x40000002u
#define HYPERV_CPUID_FEATURES 0x40000003u
#define HYPERV_CPUID_ENLIGHTENMENTS 0x40000004u
#define HYPERV_CPUID_LIMITS 0x40000005u
#define HYPERV_CPUID_NESTED_FEATURES 0x4000000Au
#define HYPERV_CPUID_MAX_LEAF HYPERV_CPUID_NESTED_FEATURES
#define HYPERV_CPUID_RANGE_END 0x40010000u /* the range is 0x40000000-0x4000FFFF */

/* "Hv#1": the Microsoft hypervisor interface (TLFS 2.4.2). */
#define HYPERV_INTERFACE_SIGNATURE 0x31237648u

/* 0x40000003 EAX, HV_PARTITION_PRIVILEGE_MASK low half (TLFS 2.4.4). */
#define HYPERV_FEATURE_TIME_REF_COUNT (1u << 1)  /* AccessPartitionReferenceCounter */
#define HYPERV_FEATURE_SYNIC (1u << 2)           /* AccessSynicRegs */
#define HYPERV_FEATURE_STIMERS (1u << 3)         /* AccessSyntheticTimerRegs */
#define HYPERV_FEATURE_APIC_MSRS (1u << 4)       /* AccessIntrCtrlRegs */
#define HYPERV_FEATURE_HYPERCALL_MSRS (1u << 5)  /* AccessHypercallMsrs (+ GUEST_OS_ID) */
#define HYPERV_FEATURE_VP_INDEX (1u << 6)        /* AccessVpIndex */
#define HYPERV_FEATURE_REFERENCE_TSC (1u << 9)   /* AccessPartitionReferenceTsc */
#define HYPERV_FEATURE_FREQUENCY_MSRS (1u << 11) /* AccessFrequencyRegs */
/* 0x40000003 EDX bit 8: the frequency MSRs are available (Linux wants it with EAX.11). */
#define HYPERV_FEATURE_EDX_FREQUENCY_MSRS (1u << 8)
/* 0x40000003 EBX bit 12 (CpuManagement) makes Linux believe it is the root partition. */
#define HYPERV_FEATURE_EBX_CPU_MANAGEMENT (1u << 12)

/* 0x40000003 EBX bits 4 and 5: HvCallPostMessage and HvCallSignalEvent (to the root). */
#define HYPERV_FEATURE_EBX_POST_MESSAGES (1u << 4)
#define HYPERV_FEATURE_EBX_SIGNAL_EVENTS (1u << 5)
/* 0x40000003 EDX bit 19: synthetic timers in direct mode (Linux then raises its
 * HYPERV_STIMER0_VECTOR directly instead of a SINT2 message). */
#define HYPERV_FEATURE_EDX_STIMER_DIRECT_MODE (1u << 19)

/* Not advertised: EAX bit 15 AccessTscInvariantControls, which makes Linux write MSR
 * 0x40000118 and trust the TSC. The hypervisor does not answer that MSR (outside
 * 0x40000000-0x400000FF) and the TSC is not invariant under QEMU TCG anyway. */
#define HYPERV_FEATURES_EAX                                                                 \
    (HYPERV_FEATURE_TIME_REF_COUNT | HYPERV_FEATURE_SYNIC | HYPERV_FEATURE_STIMERS |         \
     HYPERV_FEATURE_HYPERCALL_MSRS | HYPERV_FEATURE_VP_INDEX | HYPERV_FEATURE_REFERENCE_TSC |  \
     HYPERV_FEATURE_FREQUENCY_MSRS)
#define HYPERV_FEATURES_EBX (HYPERV_FEATURE_EBX_POST_MESSAGES | HYPERV_FEATURE_EBX_SIGNAL_EVENTS)
#define HYPERV_FEATURES_EDX                                                                 \
    (HYPERV_FEATURE_EDX_FREQUENCY_MSRS | HYPERV_FEATURE_EDX_STIMER_DIRECT_MODE)

/* 0x40000004 EAX (TLFS 2.4.5): bit 9 "deprecate AutoEOI", so a Linux guest EOIs its
 * SynIC interrupts through the APIC; EBX: spin-wait retries before notifying, all ones =
 * never notify. */
#define HYPERV_HINT_DEPRECATE_AUTO_EOI (1u << 9)
#define HYPERV_SPIN_WAIT_NEVER 0xFFFFFFFFu

/* 0x40000002: the version this hypervisor reports (build, major.minor). */
#define HYPERV_VERSION_BUILD 4u
#define HYPERV_VERSION_MAJOR 0u
#define HYPERV_VERSION_MINOR 4u

/* What a child sees for `leaf` (within 0x40000000-0x4000FFFF; leaves past the maximum are
 * all zero). `max_vps`: the most VPs a partition may have; `max_lps` the logical
 * processors the hypervisor can run on. Pure. */
struct cpuid_result hyperv_cpuid_leaf(uint32_t leaf, uint32_t max_vps, uint32_t max_lps);
/* The same for `vp`'s partition (the hypervisor's limits filled in). */
struct cpuid_result hyperv_cpuid(const struct vp *vp, uint32_t leaf);
/* Whether a child's CPUID of `leaf` is answered here rather than forwarded to the root. */
bool hyperv_cpuid_is_hypervisor_leaf(uint32_t leaf);

/* ---- synthetic MSRs -------------------------------------------------------------------- */

#define HV_X64_MSR_GUEST_OS_ID 0x40000000u
#define HV_X64_MSR_HYPERCALL 0x40000001u
#define HV_X64_MSR_VP_INDEX 0x40000002u
#define HV_X64_MSR_VP_ASSIST_PAGE 0x40000073u
#define HV_X64_MSR_TSC_FREQUENCY 0x40000022u
#define HV_X64_MSR_APIC_FREQUENCY 0x40000023u
#define HYPERV_MSR_RANGE_FIRST 0x40000000u
#define HYPERV_MSR_RANGE_LAST 0x400000FFu

/* HV_X64_MSR_HYPERCALL (TLFS 3.13): bit 0 enable, bit 1 locked, 11:2 reserved, 63:12 the
 * GPA page number of the hypercall page. */
#define HYPERV_HYPERCALL_ENABLE (1ull << 0)
#define HYPERV_HYPERCALL_LOCKED (1ull << 1)
#define HYPERV_HYPERCALL_RESERVED 0xFFCull
/* HV_X64_MSR_VP_ASSIST_PAGE (TLFS 7.8.7): bit 0 enable, 11:1 reserved, 63:12 page. */
#define HYPERV_VP_ASSIST_ENABLE (1ull << 0)
#define HYPERV_VP_ASSIST_RESERVED 0xFFEull

/* A hypercall page's code: VMMCALL (AMD APM vol. 3) or VMCALL (Intel SDM vol. 2), then RET;
 * ENDBR64 first when the child may run with CET indirect-branch tracking (Linux calls the
 * page indirectly). Returns the byte count (at most 8). Pure. */
uint32_t hyperv_hypercall_code(bool amd, bool endbr64, uint8_t code[8]);

/* VP indices with a VP assist page slot: at least PARTITION_MAX_VPS (checked). */
#define HYPERV_MAX_VPS 64
/* A child's connection ids for messages and events to the root: 1..2047 (hv/root_abi.h). */
#define HYPERV_CHILD_CONNECTIONS 2048

/* The partition-wide state, kept in struct partition: all zero at creation (no guest OS
 * identity, hypercall page off, no VP assist pages). */
struct hyperv_partition {
    struct spinlock lock; /* GUEST_OS_ID and HYPERCALL change together */
    uint64_t guest_os_id;
    uint64_t hypercall;   /* the HYPERCALL MSR's value */
    uint64_t vp_assist_page[HYPERV_MAX_VPS]; /* the MSR's value, by VP index */
    /* HV_X64_MSR_REFERENCE_TSC (hv/reference_tsc.h) and the page's last sequence. */
    uint64_t reference_tsc;
    uint32_t reference_tsc_sequence;
    /* Connections the child signalled that the root has not taken yet (bit C = connection
     * C), and whether the root was told (hv/synic.c); atomic. */
    bool connections_notified;
    uint64_t signalled_connections[HYPERV_CHILD_CONNECTIONS / 64];
};

/* What an access to a synthetic MSR came to. */
enum hyperv_msr_result {
    HYPERV_MSR_DONE,      /* done (a read's value in *value) */
    HYPERV_MSR_FAULT,     /* refused: the instruction raises #GP */
    HYPERV_MSR_UNHANDLED, /* not one of ours */
};

/* A child VP's RDMSR/WRMSR of `msr`. Writes that enable the hypercall page write its code
 * into the child's RAM (guest_memory_write); a page that is not the child's own writable
 * RAM, reserved bits or a read-only MSR is a fault. */
enum hyperv_msr_result hyperv_msr_read(struct vp *vp, uint32_t msr, uint64_t *value);
enum hyperv_msr_result hyperv_msr_write(struct vp *vp, uint32_t msr, uint64_t value);

/* Whether `vp`'s VMMCALL is a hypercall: its partition reported a guest OS identity and
 * the VP is at CPL 0 outside real mode. If not, the caller injects #UD. */
bool hyperv_hypercall_allowed(struct vp *vp);

/* The values behind the frequency MSRs: the TSC's in Hz and the local APIC timer's input
 * clock (before its divider) in Hz. A virtual LAPIC must count at this rate. */
uint64_t hyperv_tsc_frequency_hz(void);
uint64_t hyperv_apic_frequency_hz(void);

#endif
