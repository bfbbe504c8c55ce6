/*
 * The vendor seam: one ops table that hv/svm/ implements (and hv/vmx/ will). Generic code
 * calls only through `hv_vendor`, chosen once at boot from CPUID (style-anchors.md,
 * practice 1).
 */
#ifndef HVFW_HV_VENDOR_H
#define HVFW_HV_VENDOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hv/exit.h"
#include "hv/vp.h"

/* Registers kept in vendor state (the VMCB/VMCS), reached through vp_get/vp_set. */
enum vp_register {
    VP_REGISTER_RIP,
    VP_REGISTER_RSP,
    VP_REGISTER_RFLAGS,
    VP_REGISTER_CR0,
    VP_REGISTER_CR2,
    VP_REGISTER_CR3,
    VP_REGISTER_CR4,
    VP_REGISTER_EFER,
    VP_REGISTER_CR8,  /* the task priority, 3:0 */
    VP_REGISTER_DR6,
    VP_REGISTER_DR7,
    VP_REGISTER_PAT,
    /* The MSRs of the guest state the world switch loads (SYSCALL/SYSENTER, KernelGsBase). */
    VP_REGISTER_KERNEL_GS_BASE,
    VP_REGISTER_SYSENTER_CS,
    VP_REGISTER_SYSENTER_ESP,
    VP_REGISTER_SYSENTER_EIP,
    VP_REGISTER_STAR,
    VP_REGISTER_LSTAR,
    VP_REGISTER_CSTAR,
    VP_REGISTER_SFMASK,
    /* The event delivered on the next entry (and the one an exit interrupted), in the
     * TLFS HV_X64_PENDING_INTERRUPTION_REGISTER layout (hv/intercept_abi.h): bit 0
     * pending, 3:1 type (enum vp_event_type), bit 4 error code valid, 31:16 vector, 63:32
     * error code. 0: nothing pending. Callers pass only checked values. */
    VP_REGISTER_PENDING_EVENT,
    /* Bit 0: interrupts are blocked for one instruction after STI or MOV SS (the VMCB's
     * interrupt shadow, AMD APM vol. 2, 15.21.5). */
    VP_REGISTER_INTERRUPT_SHADOW,
    VP_REGISTER_COUNT,
};

enum vp_event_type {
    VP_EVENT_EXTERNAL_INTERRUPT = 0,
    VP_EVENT_NMI = 2,
    VP_EVENT_EXCEPTION = 3,
};

enum vp_segment {
    VP_SEGMENT_ES,
    VP_SEGMENT_CS,
    VP_SEGMENT_SS,
    VP_SEGMENT_DS,
    VP_SEGMENT_FS,
    VP_SEGMENT_GS,
    VP_SEGMENT_LDTR,
    VP_SEGMENT_TR,
    VP_SEGMENT_GDTR,
    VP_SEGMENT_IDTR,
    VP_SEGMENT_COUNT,
};

/* A segment or descriptor-table register; attributes in the vendor's 12-bit packing (the
 * VMCB's: type[3:0] S DPL[1:0] P in bits 7:0, AVL L D/B G in bits 11:8). The TLFS layout
 * puts AVL L D/B G in bits 15:12: hv/root_call_checks.h converts. */
struct vp_segment_value {
    uint64_t base;
    uint32_t limit;
    uint16_t selector;
    uint16_t attributes;
};

enum vp_start_mode {
    /* A child VP (issue 3): 32-bit protected mode, flat 4 GiB code and data segments,
     * paging and interrupts off. */
    VP_START_PROTECTED_32,
    /* A root VP (hv/root_abi.h): 64-bit mode with paging on through `cr3`. */
    VP_START_LONG_64,
};

struct vp_start_state {
    enum vp_start_mode mode;
    uint64_t entry;
    uint64_t rsp;
    uint64_t cr3;           /* VP_START_LONG_64 */
    uint64_t rdi, rsi;      /* first two arguments (the vendor-neutral registers) */
    bool root_partition;    /* the root's VPs may use FS/GS base MSRs without exits */
};

/* The mode the VP's CPU is in, for decoding its instructions and hypercall conventions. */
enum vp_cpu_mode {
    VP_CPU_MODE_REAL,
    VP_CPU_MODE_PROTECTED_16,
    VP_CPU_MODE_PROTECTED_32,
    VP_CPU_MODE_LONG_64,
};

struct hv_vendor_ops {
    const char *name;
    /* Whether this CPU can run partitions (features present and enabled); fills `why`. */
    bool (*probe)(char *why, size_t why_size);
    /* Turns virtualization on for the calling physical CPU. */
    bool (*cpu_enable)(void);
    /* Allocates the vendor state of `vp` for a partition whose second-level translation
     * root is `slat_root` (physical), in the start state. */
    bool (*vp_create)(struct vp *vp, uint64_t slat_root, const struct vp_start_state *start);
    void (*vp_destroy)(struct vp *vp);
    /* Runs `vp` on the calling CPU until it exits; fills `exit`. */
    void (*vp_run)(struct vp *vp, struct hv_exit *exit);
    enum vp_cpu_mode (*vp_cpu_mode)(struct vp *vp);
    void (*vp_get_segment)(struct vp *vp, enum vp_segment seg, struct vp_segment_value *out);
    void (*vp_set_segment)(struct vp *vp, enum vp_segment seg,
                           const struct vp_segment_value *value);
    uint64_t (*vp_get)(struct vp *vp, enum vp_register reg);
    void (*vp_set)(struct vp *vp, enum vp_register reg, uint64_t value);
    /* Delivers a hardware exception to the guest on its next entry. */
    void (*vp_inject_exception)(struct vp *vp, uint8_t vector, bool has_error_code,
                                uint32_t error_code);
    /* External interrupts of a virtual LAPIC (hv/vlapic.c; AMD APM vol. 2, 15.20-15.21):
     * whether an interrupt can be injected on the next entry (no event pending, RFLAGS.IF
     * set, no interrupt shadow); inject `vector` as an external interrupt on the next
     * entry; make the guest exit as soon as it can take an interrupt (`on`) or stop
     * asking; inject an NMI on the next entry (false if another event is pending). */
    bool (*vp_interrupt_ready)(struct vp *vp);
    void (*vp_inject_interrupt)(struct vp *vp, uint8_t vector);
    void (*vp_request_interrupt_window)(struct vp *vp, bool on);
    bool (*vp_inject_nmi)(struct vp *vp);
    /* Leaf and table entries of the second-level page tables (NPT and EPT differ). */
    uint64_t (*slat_leaf_entry)(uint64_t hpa, unsigned access, bool large); /* slat_access */
    uint64_t (*slat_table_entry)(uint64_t table_pa);
    /* The enum slat_access bits of a present leaf entry. */
    unsigned (*slat_leaf_access)(uint64_t entry);
    uint64_t slat_present_mask; /* bits of which any set means "present" */
};

extern const struct hv_vendor_ops *hv_vendor;

#endif
