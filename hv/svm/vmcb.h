/*
 * The SVM virtual machine control block (AMD APM vol. 2, Appendix B "Layout of VMCB":
 * Table B-1 control area, Table B-2 state save area). One 4 KiB page per VP.
 */
#ifndef HVFW_HV_SVM_VMCB_H
#define HVFW_HV_SVM_VMCB_H

#include <assert.h>
#include <stdint.h>

struct vmcb_segment {
    uint16_t selector;
    uint16_t attributes; /* type[3:0] S DPL[1:0] P | AVL L D/B G  (APM 15.5.1) */
    uint32_t limit;
    uint64_t base;
};

struct vmcb_control {
    uint32_t intercept_cr;        /* 0x000: reads 15:0, writes 31:16 */
    uint32_t intercept_dr;        /* 0x004 */
    uint32_t intercept_exceptions; /* 0x008: one bit per vector */
    uint32_t intercept_misc1;     /* 0x00C */
    uint32_t intercept_misc2;     /* 0x010 */
    uint32_t intercept_misc3;     /* 0x014 */
    uint8_t reserved_018[0x03C - 0x018];
    uint16_t pause_filter_threshold; /* 0x03C */
    uint16_t pause_filter_count;  /* 0x03E */
    uint64_t iopm_base_pa;        /* 0x040 */
    uint64_t msrpm_base_pa;       /* 0x048 */
    uint64_t tsc_offset;          /* 0x050 */
    uint32_t guest_asid;          /* 0x058 */
    uint8_t tlb_control;          /* 0x05C */
    uint8_t reserved_05d[3];
    uint64_t virtual_interrupt;   /* 0x060: V_TPR, V_IRQ, V_INTR_MASKING, V_INTR_VECTOR */
    uint64_t interrupt_shadow;    /* 0x068 */
    uint64_t exit_code;           /* 0x070 */
    uint64_t exit_info1;          /* 0x078 */
    uint64_t exit_info2;          /* 0x080 */
    uint64_t exit_interrupt_info; /* 0x088 */
    uint64_t nested_control;      /* 0x090: bit 0 NP_ENABLE */
    uint64_t avic_apic_bar;       /* 0x098 */
    uint64_t ghcb_pa;             /* 0x0A0 */
    uint64_t event_injection;     /* 0x0A8 */
    uint64_t nested_cr3;          /* 0x0B0 */
    uint64_t virtualization_ext;  /* 0x0B8: LBR virtualization, VMSAVE/VMLOAD virtualization */
    uint32_t clean_bits;          /* 0x0C0 */
    uint32_t reserved_0c4;
    uint64_t next_rip;            /* 0x0C8: with the NRIPS feature */
    uint8_t bytes_fetched;        /* 0x0D0: with decode assists */
    uint8_t guest_instruction_bytes[15];
    uint8_t reserved_0e0[0x400 - 0x0E0];
};

struct vmcb_state {
    struct vmcb_segment es, cs, ss, ds, fs, gs, gdtr, ldtr, idtr, tr; /* 0x400-0x49F */
    uint8_t reserved_4a0[0x4CB - 0x4A0];
    uint8_t cpl;                  /* 0x4CB */
    uint32_t reserved_4cc;
    uint64_t efer;                /* 0x4D0 */
    uint8_t reserved_4d8[0x548 - 0x4D8];
    uint64_t cr4;                 /* 0x548 */
    uint64_t cr3;
    uint64_t cr0;
    uint64_t dr7;
    uint64_t dr6;
    uint64_t rflags;
    uint64_t rip;                 /* 0x578 */
    uint8_t reserved_580[0x5D8 - 0x580];
    uint64_t rsp;                 /* 0x5D8 */
    uint64_t s_cet, ssp, isst_addr;
    uint64_t rax;                 /* 0x5F8 */
    uint64_t star, lstar, cstar, sfmask, kernel_gs_base; /* 0x600 */
    uint64_t sysenter_cs, sysenter_esp, sysenter_eip;
    uint64_t cr2;                 /* 0x640 */
    uint8_t reserved_648[0x668 - 0x648];
    uint64_t g_pat;               /* 0x668 */
    uint64_t dbgctl, br_from, br_to, last_exception_from, last_exception_to;
    uint8_t reserved_698[0x1000 - 0x698];
};

struct vmcb {
    struct vmcb_control control;
    struct vmcb_state state;
};

static_assert(sizeof(struct vmcb_control) == 0x400, "VMCB control area is 1 KiB");
static_assert(__builtin_offsetof(struct vmcb, state.efer) == 0x4D0, "EFER at 0x4D0");
static_assert(__builtin_offsetof(struct vmcb, state.rip) == 0x578, "RIP at 0x578");
static_assert(__builtin_offsetof(struct vmcb, state.rax) == 0x5F8, "RAX at 0x5F8");
static_assert(__builtin_offsetof(struct vmcb, state.cr2) == 0x640, "CR2 at 0x640");
static_assert(__builtin_offsetof(struct vmcb, state.g_pat) == 0x668, "G_PAT at 0x668");
static_assert(sizeof(struct vmcb) == 0x1000, "a VMCB is one page");

/* intercept_misc1 (APM Table B-1, offset 0x00C) */
#define SVM_INTERCEPT_INTR (1u << 0)
#define SVM_INTERCEPT_NMI (1u << 1)
#define SVM_INTERCEPT_SMI (1u << 2)
#define SVM_INTERCEPT_INIT (1u << 3)
#define SVM_INTERCEPT_VINTR (1u << 4)
#define SVM_INTERCEPT_CPUID (1u << 18)
#define SVM_INTERCEPT_INVD (1u << 22)
#define SVM_INTERCEPT_HLT (1u << 24)
#define SVM_INTERCEPT_INVLPGA (1u << 26)
#define SVM_INTERCEPT_IOIO (1u << 27)
#define SVM_INTERCEPT_MSR (1u << 28)
#define SVM_INTERCEPT_SHUTDOWN (1u << 31)
/* intercept_misc2 (offset 0x010) */
#define SVM_INTERCEPT_VMRUN (1u << 0)
#define SVM_INTERCEPT_VMMCALL (1u << 1)
#define SVM_INTERCEPT_VMLOAD (1u << 2)
#define SVM_INTERCEPT_VMSAVE (1u << 3)
#define SVM_INTERCEPT_STGI (1u << 4)
#define SVM_INTERCEPT_CLGI (1u << 5)
#define SVM_INTERCEPT_SKINIT (1u << 6)
#define SVM_INTERCEPT_XSETBV (1u << 13)

/* Exit codes (APM Appendix C "SVM Intercept Exit Codes") */
#define SVM_EXIT_EXCEPTION_BASE 0x40
#define SVM_EXIT_INTR 0x60
#define SVM_EXIT_NMI 0x61
#define SVM_EXIT_SMI 0x62
#define SVM_EXIT_INIT 0x63
#define SVM_EXIT_VINTR 0x64
#define SVM_EXIT_CPUID 0x72
#define SVM_EXIT_HLT 0x78
#define SVM_EXIT_INVLPGA 0x7A
#define SVM_EXIT_IOIO 0x7B
#define SVM_EXIT_MSR 0x7C
#define SVM_EXIT_SHUTDOWN 0x7F
#define SVM_EXIT_VMRUN 0x80
#define SVM_EXIT_VMMCALL 0x81
#define SVM_EXIT_VMLOAD 0x82
#define SVM_EXIT_VMSAVE 0x83
#define SVM_EXIT_STGI 0x84
#define SVM_EXIT_CLGI 0x85
#define SVM_EXIT_SKINIT 0x86
#define SVM_EXIT_XSETBV 0x8D
#define SVM_EXIT_NPF 0x400
#define SVM_EXIT_INVALID 0xFFFFFFFFu /* compare the low 32 bits (test-platform.md) */

/* EXITINFO1 of an IOIO exit (APM 15.10.2, Figure 15-2) */
#define SVM_IOIO_IN (1u << 0)
#define SVM_IOIO_STRING (1u << 2)
#define SVM_IOIO_REP (1u << 3)
#define SVM_IOIO_SIZE_SHIFT 4 /* one-hot: bit 4 = 8-bit, 5 = 16-bit, 6 = 32-bit */
#define SVM_IOIO_PORT_SHIFT 16

/* EXITINFO1 of an NPF exit: a #PF error code (APM 15.25.6) */
#define SVM_NPF_PRESENT (1ull << 0)
#define SVM_NPF_WRITE (1ull << 1)
#define SVM_NPF_FETCH (1ull << 4)

/* EVENTINJ / EXITINTINFO (APM 15.20, Figure 15-7) */
#define SVM_EVENT_VALID (1ull << 31)
#define SVM_EVENT_ERROR_VALID (1ull << 11)
#define SVM_EVENT_TYPE_INTR (0ull << 8)
#define SVM_EVENT_TYPE_NMI (2ull << 8)
#define SVM_EVENT_TYPE_EXCEPTION (3ull << 8)

#define SVM_TLB_CONTROL_NOTHING 0
#define SVM_TLB_CONTROL_FLUSH_ALL 1
#define SVM_TLB_CONTROL_FLUSH_ASID 3

#define SVM_V_INTR_MASKING (1ull << 24)
/* V_IRQ, V_IGN_TPR and V_INTR_VECTOR of the virtual interrupt field (APM Table B-1,
 * offset 0x060; 15.21.4): a virtual interrupt request that ignores V_TPR. */
#define SVM_V_IRQ (1ull << 8)
#define SVM_V_IGN_TPR (1ull << 20)
#define SVM_V_INTR_VECTOR_SHIFT 32
#define SVM_V_INTR_VECTOR_MASK (0xFFull << SVM_V_INTR_VECTOR_SHIFT)
/* interrupt_shadow (offset 0x068) bit 0: the guest is in an interrupt shadow. */
#define SVM_INTERRUPT_SHADOW (1ull << 0)
#define SVM_NP_ENABLE (1ull << 0)

#endif
