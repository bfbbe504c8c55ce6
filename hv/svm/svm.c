/*
 * AMD SVM with nested paging (AMD APM vol. 2, chapter 15 "Secure Virtual Machine").
 * Implements hv/vendor.h. Under QEMU TCG there is no next-RIP save, no decode assists and
 * no flush-by-ASID (test-platform.md), so each is used only when CPUID 0x8000000A says so.
 */
#include "hv/svm/svm.h"

#include <string.h>

#include "hv/partition.h"
#include "hv/root_partition.h"
#include "hv/slat.h"
#include "hv/svm/vmcb.h"
#include "kernel/log.h"
#include "kernel/page_alloc.h"
#include "kernel/page_pool.h"
#include "kernel/percpu.h"
#include "kernel/spinlock.h"
#include "kernel/x86.h"

#define MSR_VM_CR 0xC0010114u
#define MSR_VM_HSAVE_PA 0xC0010117u
#define VM_CR_SVMDIS (1u << 4)
#define EFER_SVME (1ull << 12)

/* CPUID 0x8000000A EDX (APM vol. 3, E.4.9) */
#define SVM_FEATURE_NP (1u << 0)
#define SVM_FEATURE_NRIPS (1u << 3)
#define SVM_FEATURE_FLUSH_BY_ASID (1u << 6)

/* I/O and MSR permission maps (APM 15.10.1, 15.11): 12 KiB and 8 KiB, a set bit
 * intercepts. Children intercept everything, so one all-ones copy serves all of them. */
#define IOPM_ORDER 2  /* 16 KiB allocation for the 12 KiB map */
#define MSRPM_ORDER 1 /* 8 KiB */

struct svm_features {
    uint32_t asid_count;
    bool next_rip;
    bool flush_by_asid;
};

struct svm_cpu {
    uint64_t host_save_pa;  /* VM_HSAVE_PA: where VMRUN saves host state */
    uint64_t host_vmcb_pa;  /* VMSAVE/VMLOAD of the host's FS/GS/TR/... */
    const struct vp *last_vp; /* whose translations the TLB may hold */
};

struct svm_vp {
    struct vmcb *vmcb;
    uint64_t vmcb_pa;
    int last_cpu;
    uint32_t slat_generation; /* of the partition's translation when this VP last ran */
};

static struct svm_features features;
static struct svm_cpu svm_cpus[MAX_CPUS];
static uint64_t intercept_all_iopm_pa, intercept_all_msrpm_pa, root_msrpm_pa, root_iopm_pa;
static uint64_t child_msrpm_pa; /* children: the VMCB-resident MSRs pass, the rest exit */
static uint32_t next_asid = 1;
static struct spinlock svm_lock = SPINLOCK_INIT;

static bool refuse(char *why, size_t why_size, const char *reason)
{
    strncpy(why, reason, why_size - 1);
    why[why_size - 1] = '\0';
    return false;
}

static bool svm_probe(char *why, size_t why_size)
{
    uint32_t a, b, c, d;
    cpuid(0x80000000u, 0, &a, &b, &c, &d);
    if (a < 0x8000000Au)
        return refuse(why, why_size, "CPUID has no SVM leaf (0x8000000A)");
    cpuid(0x80000001u, 0, &a, &b, &c, &d);
    if (!(c & (1u << 2)))
        return refuse(why, why_size, "CPUID.80000001H:ECX.SVM is clear: no AMD-V");
    if (rdmsr(MSR_VM_CR) & VM_CR_SVMDIS)
        return refuse(why, why_size, "SVM is disabled by firmware (VM_CR.SVMDIS)");
    cpuid(0x8000000Au, 0, &a, &b, &c, &d);
    if (!(d & SVM_FEATURE_NP))
        return refuse(why, why_size, "SVM without nested paging (CPUID.8000000AH:EDX.NP)");
    if (b < 2)
        return refuse(why, why_size, "SVM reports fewer than 2 ASIDs");
    features.asid_count = b;
    features.next_rip = d & SVM_FEATURE_NRIPS;
    features.flush_by_asid = d & SVM_FEATURE_FLUSH_BY_ASID;
    log_info("svm: nested paging, %u ASIDs, next-RIP %s, flush-by-ASID %s", b,
             features.next_rip ? "yes" : "no", features.flush_by_asid ? "yes" : "no");
    return true;
}

/* MSR permission map (APM 15.11, Figure 15-5): 2 bits (read, write) per MSR in three 2 KiB
 * blocks for MSRs 0-0x1FFF, 0xC0000000-0xC0001FFF and 0xC0010000-0xC0011FFF. */
static void msrpm_allow(uint8_t *map, uint32_t msr)
{
    uint32_t block;
    if (msr < 0x2000u)
        block = 0;
    else if (msr - 0xC0000000u < 0x2000u)
        block = 1;
    else
        block = 2;
    uint32_t bit = (msr & 0x1FFFu) * 2;
    map[block * 2048 + bit / 8] &= (uint8_t)~(3u << (bit % 8));
}

/* The root owns the devices (MISSION.md): its I/O port accesses run without exits except
 * on the ports the hypervisor keeps (hv/root_partition.h). One bit per port; the 3 bytes
 * past port 0xFFFF catch accesses that wrap (APM 15.10.1), so they intercept. */
static void root_iopm_build(uint8_t *map)
{
    memset(map, 0, PAGE_SIZE << IOPM_ORDER);
    for (uint32_t port = 0; port <= 0xFFFFu; port++)
        if (root_partition_port_kept((uint16_t)port))
            map[port / 8] |= (uint8_t)(1u << (port % 8));
    memset(map + 0x10000 / 8, 0xFF, 3);
}

static bool allocate_permission_maps(void)
{
    uint64_t flags = spin_lock_irqsave(&svm_lock);
    bool ok = true;
    if (!root_msrpm_pa) {
        uint64_t iopm = page_alloc(IOPM_ORDER), msrpm = page_alloc(MSRPM_ORDER);
        if (!iopm || !msrpm) {
            ok = false;
        } else {
            memset((void *)(uintptr_t)iopm, 0xFF, PAGE_SIZE << IOPM_ORDER);
            memset((void *)(uintptr_t)msrpm, 0xFF, PAGE_SIZE << MSRPM_ORDER);
            intercept_all_iopm_pa = iopm;
            intercept_all_msrpm_pa = msrpm;
        }
        uint64_t root = page_alloc(MSRPM_ORDER);
        if (root) {
            memset((void *)(uintptr_t)root, 0xFF, PAGE_SIZE << MSRPM_ORDER);
            /* FS, GS and KernelGS bases live in the VMCB and are switched by VMLOAD/VMSAVE:
             * the root's per-VP data needs them and they reveal nothing of the host. */
            msrpm_allow((uint8_t *)(uintptr_t)root, MSR_FS_BASE);
            msrpm_allow((uint8_t *)(uintptr_t)root, MSR_GS_BASE);
            msrpm_allow((uint8_t *)(uintptr_t)root, MSR_KERNEL_GS_BASE);
            root_msrpm_pa = root;
        } else {
            ok = false;
        }
        uint64_t child = page_alloc(MSRPM_ORDER);
        if (child) {
            /* A child's kernel writes these on every CPU at boot and on context switches;
             * they live in the VMCB and VMLOAD/VMSAVE switch them (hv/svm/svm_entry.S), so
             * they need no exit. PAT stays intercepted: hv/msr.c validates it. */
            static const uint32_t passed[] = {
                MSR_FS_BASE, MSR_GS_BASE, MSR_KERNEL_GS_BASE, 0xC0000081u /* STAR */,
                0xC0000082u /* LSTAR */, 0xC0000083u /* CSTAR */, 0xC0000084u /* SFMASK */,
                0x174u /* SYSENTER_CS */, 0x175u /* SYSENTER_ESP */, 0x176u /* SYSENTER_EIP */,
            };
            memset((void *)(uintptr_t)child, 0xFF, PAGE_SIZE << MSRPM_ORDER);
            for (size_t i = 0; i < sizeof(passed) / sizeof(passed[0]); i++)
                msrpm_allow((uint8_t *)(uintptr_t)child, passed[i]);
            child_msrpm_pa = child;
        } else {
            ok = false;
        }
        uint64_t root_io = page_alloc(IOPM_ORDER);
        if (root_io) {
            root_iopm_build((uint8_t *)(uintptr_t)root_io);
            root_iopm_pa = root_io;
        } else {
            ok = false;
        }
    }
    spin_unlock_irqrestore(&svm_lock, flags);
    return ok;
}

static bool svm_cpu_enable(void)
{
    struct svm_cpu *cpu = &svm_cpus[this_cpu_index()];
    if (!cpu->host_save_pa) {
        cpu->host_save_pa = page_alloc_zeroed(0);
        cpu->host_vmcb_pa = page_alloc_zeroed(0);
        if (!cpu->host_save_pa || !cpu->host_vmcb_pa)
            return false;
    }
    wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_SVME);
    wrmsr(MSR_VM_HSAVE_PA, cpu->host_save_pa);
    return allocate_permission_maps();
}

static void set_flat_segment(struct vmcb_segment *s, uint16_t selector, uint16_t attributes)
{
    s->selector = selector;
    s->attributes = attributes;
    s->limit = 0xFFFFFFFFu;
    s->base = 0;
}

#define CR0_PE (1ull << 0)
#define CR0_MP (1ull << 1)
#define CR0_ET (1ull << 4)
#define CR0_NE (1ull << 5)
#define CR0_WP (1ull << 16)
#define CR0_PG (1ull << 31)
#define CR4_PAE (1ull << 5)
#define CR4_OSFXSR (1ull << 9)
#define CR4_OSXMMEXCPT (1ull << 10)
#define EFER_LME (1ull << 8)
#define EFER_LMA (1ull << 10)
#define EFER_NXE (1ull << 11)

/* The start states of hv/vendor.h. Attribute encodings: APM 15.5.1 "Segment State in the
 * VMCB". */
static void initialize_guest_state(struct vmcb *vmcb, const struct vp_start_state *start)
{
    struct vmcb_state *s = &vmcb->state;
    if (start->mode == VP_START_LONG_64)
        set_flat_segment(&s->cs, 0x08, 0xA9B); /* code, exec/read, accessed, P, L, G */
    else
        set_flat_segment(&s->cs, 0x08, 0xC9B); /* code, exec/read, accessed, P, D/B, G */
    set_flat_segment(&s->ds, 0x10, 0xC93); /* data, read/write, accessed, P, D/B, G */
    set_flat_segment(&s->es, 0x10, 0xC93);
    set_flat_segment(&s->ss, 0x10, 0xC93);
    set_flat_segment(&s->fs, 0x10, 0xC93);
    set_flat_segment(&s->gs, 0x10, 0xC93);
    s->gdtr.limit = 0xFFFF;
    s->idtr.limit = 0xFFFF;
    s->ldtr.attributes = 0x082; /* LDT, present */
    s->ldtr.limit = 0xFFFF;
    s->tr.attributes = 0x08B;   /* busy 32-bit TSS, present */
    s->tr.limit = 0xFFFF;
    s->cpl = 0;
    /* EFER.SVME must be set in the guest state or VMRUN fails its consistency checks
     * (APM 15.5.1); the guest's view of EFER is virtualized through the MSR intercept. */
    if (start->mode == VP_START_LONG_64) {
        s->efer = EFER_SVME | EFER_LME | EFER_LMA | EFER_NXE;
        s->cr0 = CR0_PE | CR0_MP | CR0_ET | CR0_NE | CR0_WP | CR0_PG;
        s->cr3 = start->cr3;
        s->cr4 = CR4_PAE | CR4_OSFXSR | CR4_OSXMMEXCPT;
    } else {
        s->efer = EFER_SVME;
        s->cr0 = CR0_PE | CR0_ET;
        s->cr3 = 0;
        s->cr4 = 0;
    }
    s->dr6 = 0xFFFF0FF0;
    s->dr7 = 0x400;
    s->rflags = 0x2;
    s->rip = start->entry;
    s->rsp = start->rsp;
    s->g_pat = 0x0007040600070406ull; /* the reset PAT */
}

static uint32_t allocate_asid(void)
{
    uint64_t flags = spin_lock_irqsave(&svm_lock);
    uint32_t asid = next_asid;
    next_asid = next_asid + 1 < features.asid_count ? next_asid + 1 : 1;
    spin_unlock_irqrestore(&svm_lock, flags);
    return asid;
}

static bool svm_vp_create(struct vp *vp, uint64_t slat_root, const struct vp_start_state *start)
{
    struct svm_vp *svp = (struct svm_vp *)(uintptr_t)page_alloc_zeroed(0);
    uint64_t vmcb_pa = page_alloc_zeroed(0);
    if (!svp || !vmcb_pa || !intercept_all_iopm_pa || !root_iopm_pa) {
        if (svp)
            page_free((uint64_t)(uintptr_t)svp, 0);
        if (vmcb_pa)
            page_free(vmcb_pa, 0);
        return false;
    }
    struct vmcb *vmcb = (struct vmcb *)(uintptr_t)vmcb_pa;
    struct vmcb_control *c = &vmcb->control;
    c->intercept_misc1 = SVM_INTERCEPT_INTR | SVM_INTERCEPT_NMI | SVM_INTERCEPT_SMI |
                         SVM_INTERCEPT_INIT | SVM_INTERCEPT_CPUID | SVM_INTERCEPT_INVD |
                         SVM_INTERCEPT_HLT | SVM_INTERCEPT_INVLPGA | SVM_INTERCEPT_IOIO |
                         SVM_INTERCEPT_MSR | SVM_INTERCEPT_SHUTDOWN;
    /* VMRUN must be intercepted (else VMEXIT_INVALID); the other SVM instructions are
     * intercepted so the guest gets #UD instead of touching host state. */
    c->intercept_misc2 = SVM_INTERCEPT_VMRUN | SVM_INTERCEPT_VMMCALL | SVM_INTERCEPT_VMLOAD |
                         SVM_INTERCEPT_VMSAVE | SVM_INTERCEPT_STGI | SVM_INTERCEPT_CLGI |
                         SVM_INTERCEPT_SKINIT | SVM_INTERCEPT_XSETBV;
    c->iopm_base_pa = start->root_partition ? root_iopm_pa : intercept_all_iopm_pa;
    c->msrpm_base_pa = start->root_partition ? root_msrpm_pa : child_msrpm_pa;
    c->guest_asid = allocate_asid();
    c->tlb_control = SVM_TLB_CONTROL_FLUSH_ALL;
    /* Physical interrupts stay the host's while the guest runs: the guest's RFLAGS.IF
     * masks only its virtual interrupts (APM 15.21.1). */
    c->virtual_interrupt = SVM_V_INTR_MASKING;
    c->nested_control = SVM_NP_ENABLE;
    c->nested_cr3 = slat_root;
    initialize_guest_state(vmcb, start);

    vp->registers.rdi = start->rdi;
    vp->registers.rsi = start->rsi;
    svp->vmcb = vmcb;
    svp->vmcb_pa = vmcb_pa;
    svp->last_cpu = -1;
    vp->vendor = svp;
    return true;
}

static void svm_vp_destroy(struct vp *vp)
{
    struct svm_vp *svp = vp->vendor;
    if (!svp)
        return;
    for (int i = 0; i < MAX_CPUS; i++)
        if (svm_cpus[i].last_vp == vp)
            svm_cpus[i].last_vp = NULL;
    page_free(svp->vmcb_pa, 0);
    page_free((uint64_t)(uintptr_t)svp, 0);
    vp->vendor = NULL;
}

void svm_world_switch(uint64_t vmcb_pa, uint64_t host_vmcb_pa, struct vp_registers *regs);

static void normalize_exit(const struct vmcb *vmcb, const struct vp *vp, struct hv_exit *e)
{
    const struct vmcb_control *c = &vmcb->control;
    uint64_t code = c->exit_code;
    memset(e, 0, sizeof(*e));
    e->raw_code = code;
    e->raw_info1 = c->exit_info1;
    e->raw_info2 = c->exit_info2;
    e->rip = vmcb->state.rip;
    if (features.next_rip && c->next_rip > e->rip && c->next_rip - e->rip <= 15)
        e->instruction_length = (uint8_t)(c->next_rip - e->rip);

    if ((uint32_t)code == SVM_EXIT_INVALID) {
        e->reason = HV_EXIT_INVALID_STATE;
        return;
    }
    if (code >= SVM_EXIT_EXCEPTION_BASE && code < SVM_EXIT_EXCEPTION_BASE + 32) {
        e->reason = HV_EXIT_EXCEPTION;
        e->exception.vector = (uint8_t)(code - SVM_EXIT_EXCEPTION_BASE);
        e->exception.error_code = (uint32_t)c->exit_info1;
        return;
    }
    switch (code) {
    case SVM_EXIT_INTR:
    case SVM_EXIT_SMI:
    case SVM_EXIT_INIT:
        e->reason = HV_EXIT_EXTERNAL_INTERRUPT;
        break;
    case SVM_EXIT_NMI:
        e->reason = HV_EXIT_NMI;
        break;
    case SVM_EXIT_VINTR:
        e->reason = HV_EXIT_INTERRUPT_WINDOW;
        break;
    case SVM_EXIT_CPUID:
        e->reason = HV_EXIT_CPUID;
        e->cpuid_leaf = (uint32_t)vmcb->state.rax;
        e->instruction_length = 2;
        break;
    case SVM_EXIT_HLT:
        e->reason = HV_EXIT_HLT;
        e->instruction_length = 1;
        break;
    case SVM_EXIT_IOIO: {
        uint64_t info = c->exit_info1;
        e->reason = HV_EXIT_IO;
        e->io.in = info & SVM_IOIO_IN;
        e->io.string = info & SVM_IOIO_STRING;
        e->io.rep = info & SVM_IOIO_REP;
        e->io.size = (uint8_t)((info >> SVM_IOIO_SIZE_SHIFT) & 7); /* 1, 2 or 4 */
        e->io.port = (uint16_t)(info >> SVM_IOIO_PORT_SHIFT);
        /* EXITINFO2 is the RIP of the next instruction even without NRIPS (APM 15.10.2). */
        if (c->exit_info2 > e->rip && c->exit_info2 - e->rip <= 15)
            e->instruction_length = (uint8_t)(c->exit_info2 - e->rip);
        break;
    }
    case SVM_EXIT_MSR:
        e->reason = c->exit_info1 ? HV_EXIT_MSR_WRITE : HV_EXIT_MSR_READ;
        e->msr.index = (uint32_t)vp->registers.rcx;
        e->msr.value = (vp->registers.rdx << 32) | (uint32_t)vmcb->state.rax;
        e->instruction_length = 2;
        break;
    case SVM_EXIT_SHUTDOWN:
        e->reason = HV_EXIT_TRIPLE_FAULT;
        break;
    case SVM_EXIT_VMMCALL:
        e->reason = HV_EXIT_HYPERCALL;
        e->instruction_length = 3;
        break;
    case SVM_EXIT_VMRUN:
    case SVM_EXIT_VMLOAD:
    case SVM_EXIT_VMSAVE:
    case SVM_EXIT_STGI:
    case SVM_EXIT_CLGI:
    case SVM_EXIT_SKINIT:
    case SVM_EXIT_INVLPGA:
    case SVM_EXIT_XSETBV:
        e->reason = HV_EXIT_VIRTUALIZATION_INSTRUCTION;
        e->instruction_length = 3;
        break;
    case SVM_EXIT_NPF:
        e->reason = HV_EXIT_SLAT_VIOLATION;
        e->slat.gpa = c->exit_info2;
        e->slat.present = c->exit_info1 & SVM_NPF_PRESENT;
        e->slat.write = c->exit_info1 & SVM_NPF_WRITE;
        e->slat.execute = c->exit_info1 & SVM_NPF_FETCH;
        e->slat.read = !e->slat.write && !e->slat.execute;
        break;
    default:
        e->reason = HV_EXIT_UNKNOWN;
        break;
    }
}

/* ---- external interrupts (APM 15.20 "Event Injection", 15.21 "Interrupt and LOCAL APIC
 * Support") ---- */

static bool svm_vp_interrupt_ready(struct vp *vp)
{
    const struct vmcb *vmcb = ((struct svm_vp *)vp->vendor)->vmcb;
    return !(vmcb->control.event_injection & SVM_EVENT_VALID) &&
           (vmcb->state.rflags & RFLAGS_IF) &&
           !(vmcb->control.interrupt_shadow & SVM_INTERRUPT_SHADOW);
}

static void svm_vp_inject_interrupt(struct vp *vp, uint8_t vector)
{
    struct vmcb *vmcb = ((struct svm_vp *)vp->vendor)->vmcb;
    vmcb->control.event_injection = SVM_EVENT_VALID | SVM_EVENT_TYPE_INTR | vector;
}

/* A virtual interrupt request (V_IRQ, priority ignored) with the VINTR intercept: the CPU
 * exits right before the guest would take it, i.e. once RFLAGS.IF is set, no interrupt
 * shadow holds and any injected event is delivered (APM 15.21.4); the vector is never
 * used. */
static void svm_vp_request_interrupt_window(struct vp *vp, bool on)
{
    struct vmcb_control *c = &((struct svm_vp *)vp->vendor)->vmcb->control;
    c->virtual_interrupt &= ~(SVM_V_IRQ | SVM_V_IGN_TPR | SVM_V_INTR_VECTOR_MASK);
    c->intercept_misc1 &= ~SVM_INTERCEPT_VINTR;
    if (on) {
        c->virtual_interrupt |= SVM_V_IRQ | SVM_V_IGN_TPR;
        c->intercept_misc1 |= SVM_INTERCEPT_VINTR;
    }
}

/* NMIs are not blocked by RFLAGS.IF; one already being delivered is not tracked (the
 * guest's IRET unblocks NMIs without an exit), so a second NMI can nest: rare, and only
 * IPIs of the partition's own VPs send them. */
static bool svm_vp_inject_nmi(struct vp *vp)
{
    struct vmcb *vmcb = ((struct svm_vp *)vp->vendor)->vmcb;
    if (vmcb->control.event_injection & SVM_EVENT_VALID)
        return false;
    vmcb->control.event_injection = SVM_EVENT_VALID | SVM_EVENT_TYPE_NMI | 2;
    return true;
}

static void svm_vp_run(struct vp *vp, struct hv_exit *exit)
{
    struct svm_vp *svp = vp->vendor;
    struct vmcb *vmcb = svp->vmcb;
    struct svm_cpu *cpu = &svm_cpus[this_cpu_index()];

    /* Without flush-by-ASID the only choice is a full flush, needed whenever this CPU's
     * TLB may hold another VP's translations or this VP ran elsewhere since. */
    uint32_t generation = vp->partition->slat.generation;
    if (cpu->last_vp != vp || svp->last_cpu != (int)this_cpu_index() ||
        svp->slat_generation != generation)
        vmcb->control.tlb_control = features.flush_by_asid ? SVM_TLB_CONTROL_FLUSH_ASID
                                                           : SVM_TLB_CONTROL_FLUSH_ALL;
    cpu->last_vp = vp;
    svp->last_cpu = (int)this_cpu_index();
    svp->slat_generation = generation;

    vmcb->state.rax = vp->registers.rax;
    svm_world_switch(svp->vmcb_pa, cpu->host_vmcb_pa, &vp->registers);
    vp->registers.rax = vmcb->state.rax;
    vmcb->control.tlb_control = SVM_TLB_CONTROL_NOTHING;
    vmcb->control.event_injection = 0;
    /* An interrupt window request lasts one entry: hv/vlapic.c asks again if it still
     * needs one. */
    svm_vp_request_interrupt_window(vp, false);

    /* An event whose delivery the exit interrupted is delivered again on the next entry
     * (APM 15.7.2 "Exit Interrupt Info"), unless a handler injects something else. */
    uint64_t pending = vmcb->control.exit_interrupt_info;
    if (pending & SVM_EVENT_VALID)
        vmcb->control.event_injection = pending;

    normalize_exit(vmcb, vp, exit);
}

static enum vp_cpu_mode svm_vp_cpu_mode(struct vp *vp)
{
    const struct vmcb_state *s = &((struct svm_vp *)vp->vendor)->vmcb->state;
    if (!(s->cr0 & CR0_PE))
        return VP_CPU_MODE_REAL;
    if ((s->efer & EFER_LMA) && (s->cs.attributes & (1u << 9))) /* CS.L */
        return VP_CPU_MODE_LONG_64;
    return (s->cs.attributes & (1u << 10)) ? VP_CPU_MODE_PROTECTED_32   /* CS.D/B */
                                           : VP_CPU_MODE_PROTECTED_16;
}

static struct vmcb_segment *segment_of(struct vmcb_state *s, enum vp_segment seg)
{
    switch (seg) {
    case VP_SEGMENT_ES:
        return &s->es;
    case VP_SEGMENT_CS:
        return &s->cs;
    case VP_SEGMENT_SS:
        return &s->ss;
    case VP_SEGMENT_DS:
        return &s->ds;
    case VP_SEGMENT_FS:
        return &s->fs;
    case VP_SEGMENT_GS:
        return &s->gs;
    case VP_SEGMENT_LDTR:
        return &s->ldtr;
    case VP_SEGMENT_TR:
        return &s->tr;
    case VP_SEGMENT_GDTR:
        return &s->gdtr;
    case VP_SEGMENT_IDTR:
    case VP_SEGMENT_COUNT:
        break;
    }
    return &s->idtr;
}

static void svm_vp_get_segment(struct vp *vp, enum vp_segment seg, struct vp_segment_value *out)
{
    const struct vmcb_segment *v = segment_of(&((struct svm_vp *)vp->vendor)->vmcb->state, seg);
    *out = (struct vp_segment_value){v->base, v->limit, v->selector, v->attributes};
}

static void svm_vp_set_segment(struct vp *vp, enum vp_segment seg,
                               const struct vp_segment_value *value)
{
    struct vmcb_state *s = &((struct svm_vp *)vp->vendor)->vmcb->state;
    struct vmcb_segment *v = segment_of(s, seg);
    *v = (struct vmcb_segment){value->selector, value->attributes, value->limit, value->base};
    if (seg == VP_SEGMENT_SS)
        s->cpl = (uint8_t)((value->attributes >> 5) & 3); /* CPL is SS.DPL (APM 15.5.1) */
}

/* EVENTINJ (APM 15.20, Figure 15-7) <-> the vendor-neutral VP_REGISTER_PENDING_EVENT
 * layout of hv/vendor.h: both keep the error code in 63:32; type and vector move. */
#define PENDING_EVENT_PENDING (1ull << 0)
#define PENDING_EVENT_TYPE_SHIFT 1
#define PENDING_EVENT_ERROR_CODE (1ull << 4)
#define PENDING_EVENT_VECTOR_SHIFT 16

static uint64_t event_to_pending(uint64_t event)
{
    if (!(event & SVM_EVENT_VALID))
        return 0;
    uint64_t pending = PENDING_EVENT_PENDING | (((event >> 8) & 7) << PENDING_EVENT_TYPE_SHIFT) |
                       ((event & 0xFF) << PENDING_EVENT_VECTOR_SHIFT);
    if (event & SVM_EVENT_ERROR_VALID)
        pending |= PENDING_EVENT_ERROR_CODE | (event & 0xFFFFFFFF00000000ull);
    return pending;
}

static uint64_t pending_to_event(uint64_t pending)
{
    if (!(pending & PENDING_EVENT_PENDING))
        return 0;
    uint64_t event = SVM_EVENT_VALID | (((pending >> PENDING_EVENT_TYPE_SHIFT) & 7) << 8) |
                     ((pending >> PENDING_EVENT_VECTOR_SHIFT) & 0xFF);
    if (pending & PENDING_EVENT_ERROR_CODE)
        event |= SVM_EVENT_ERROR_VALID | (pending & 0xFFFFFFFF00000000ull);
    return event;
}

/* The registers added for HvCallGet/SetVpRegisters: the task priority is V_TPR (APM
 * 15.21.4: with V_INTR_MASKING the guest's CR8 is the VMCB's V_TPR), the MSRs are the
 * guest state VMLOAD loads (hv/svm/svm_entry.S). */
static uint64_t svm_vp_get_extended(const struct vmcb *vmcb, enum vp_register reg)
{
    const struct vmcb_state *s = &vmcb->state;
    switch (reg) {
    case VP_REGISTER_CR8:
        return vmcb->control.virtual_interrupt & 0xF;
    case VP_REGISTER_DR6:
        return s->dr6;
    case VP_REGISTER_DR7:
        return s->dr7;
    case VP_REGISTER_PAT:
        return s->g_pat;
    case VP_REGISTER_KERNEL_GS_BASE:
        return s->kernel_gs_base;
    case VP_REGISTER_SYSENTER_CS:
        return s->sysenter_cs;
    case VP_REGISTER_SYSENTER_ESP:
        return s->sysenter_esp;
    case VP_REGISTER_SYSENTER_EIP:
        return s->sysenter_eip;
    case VP_REGISTER_STAR:
        return s->star;
    case VP_REGISTER_LSTAR:
        return s->lstar;
    case VP_REGISTER_CSTAR:
        return s->cstar;
    case VP_REGISTER_SFMASK:
        return s->sfmask;
    case VP_REGISTER_PENDING_EVENT:
        return event_to_pending(vmcb->control.event_injection);
    case VP_REGISTER_INTERRUPT_SHADOW:
        return vmcb->control.interrupt_shadow & SVM_INTERRUPT_SHADOW;
    default:
        return 0;
    }
}

static void svm_vp_set_extended(struct vmcb *vmcb, enum vp_register reg, uint64_t value)
{
    struct vmcb_state *s = &vmcb->state;
    switch (reg) {
    case VP_REGISTER_CR8:
        vmcb->control.virtual_interrupt = (vmcb->control.virtual_interrupt & ~0xFull) |
                                          (value & 0xF);
        break;
    case VP_REGISTER_DR6:
        s->dr6 = value;
        break;
    case VP_REGISTER_DR7:
        s->dr7 = value;
        break;
    case VP_REGISTER_PAT:
        s->g_pat = value;
        break;
    case VP_REGISTER_KERNEL_GS_BASE:
        s->kernel_gs_base = value;
        break;
    case VP_REGISTER_SYSENTER_CS:
        s->sysenter_cs = value;
        break;
    case VP_REGISTER_SYSENTER_ESP:
        s->sysenter_esp = value;
        break;
    case VP_REGISTER_SYSENTER_EIP:
        s->sysenter_eip = value;
        break;
    case VP_REGISTER_STAR:
        s->star = value;
        break;
    case VP_REGISTER_LSTAR:
        s->lstar = value;
        break;
    case VP_REGISTER_CSTAR:
        s->cstar = value;
        break;
    case VP_REGISTER_SFMASK:
        s->sfmask = value;
        break;
    case VP_REGISTER_PENDING_EVENT:
        vmcb->control.event_injection = pending_to_event(value);
        break;
    case VP_REGISTER_INTERRUPT_SHADOW:
        vmcb->control.interrupt_shadow = value & SVM_INTERRUPT_SHADOW;
        break;
    default:
        break;
    }
}

static uint64_t svm_vp_get(struct vp *vp, enum vp_register reg)
{
    const struct vmcb *vmcb = ((struct svm_vp *)vp->vendor)->vmcb;
    const struct vmcb_state *s = &vmcb->state;
    switch (reg) {
    case VP_REGISTER_RIP:
        return s->rip;
    case VP_REGISTER_RSP:
        return s->rsp;
    case VP_REGISTER_RFLAGS:
        return s->rflags;
    case VP_REGISTER_CR0:
        return s->cr0;
    case VP_REGISTER_CR2:
        return s->cr2;
    case VP_REGISTER_CR3:
        return s->cr3;
    case VP_REGISTER_CR4:
        return s->cr4;
    case VP_REGISTER_EFER:
        return s->efer & ~EFER_SVME; /* the guest never sees our SVME */
    default:
        return svm_vp_get_extended(vmcb, reg);
    }
}

static void svm_vp_set(struct vp *vp, enum vp_register reg, uint64_t value)
{
    struct vmcb *vmcb = ((struct svm_vp *)vp->vendor)->vmcb;
    struct vmcb_state *s = &vmcb->state;
    switch (reg) {
    case VP_REGISTER_RIP:
        s->rip = value;
        break;
    case VP_REGISTER_RSP:
        s->rsp = value;
        break;
    case VP_REGISTER_RFLAGS:
        s->rflags = value | 0x2; /* bit 1 is always one */
        break;
    case VP_REGISTER_CR0:
        s->cr0 = value;
        break;
    case VP_REGISTER_CR2:
        s->cr2 = value;
        break;
    case VP_REGISTER_CR3:
        s->cr3 = value;
        break;
    case VP_REGISTER_CR4:
        s->cr4 = value;
        break;
    case VP_REGISTER_EFER:
        s->efer = value | EFER_SVME;
        break;
    default:
        svm_vp_set_extended(vmcb, reg, value);
        break;
    }
}

static void svm_vp_inject_exception(struct vp *vp, uint8_t vector, bool has_error_code,
                                    uint32_t error_code)
{
    struct vmcb *vmcb = ((struct svm_vp *)vp->vendor)->vmcb;
    uint64_t event = SVM_EVENT_VALID | SVM_EVENT_TYPE_EXCEPTION | vector;
    if (has_error_code)
        event |= SVM_EVENT_ERROR_VALID | ((uint64_t)error_code << 32);
    vmcb->control.event_injection = event;
}

/* Nested page table entries use the long-mode page table format (APM 15.25.5); the User
 * bit must be set on every level, because nested walks are user-mode accesses. */
#define NPT_PRESENT (1ull << 0)
#define NPT_WRITABLE (1ull << 1)
#define NPT_USER (1ull << 2)
#define NPT_WRITE_THROUGH (1ull << 3)
#define NPT_CACHE_DISABLE (1ull << 4)
#define NPT_LARGE (1ull << 7)
#define NPT_NO_EXECUTE (1ull << 63)

static uint64_t npt_leaf_entry(uint64_t hpa, unsigned access, bool large)
{
    uint64_t e = hpa | NPT_PRESENT | NPT_USER;
    if (access & SLAT_WRITE)
        e |= NPT_WRITABLE;
    if (!(access & SLAT_EXECUTE))
        e |= NPT_NO_EXECUTE;
    /* PCD+PWT select PAT entry 3, UC in the host PAT the hypervisor leaves at its reset
     * value; a UC nested type makes the combined type UC whatever the guest's own tables
     * say (AMD APM vol. 2, 15.25.8 "Combining Memory Types"), as device registers need. */
    if (access & SLAT_UNCACHED)
        e |= NPT_CACHE_DISABLE | NPT_WRITE_THROUGH;
    if (large)
        e |= NPT_LARGE;
    return e;
}

static unsigned npt_leaf_access(uint64_t entry)
{
    unsigned access = SLAT_READ;
    if (entry & NPT_WRITABLE)
        access |= SLAT_WRITE;
    if (!(entry & NPT_NO_EXECUTE))
        access |= SLAT_EXECUTE;
    if (entry & NPT_CACHE_DISABLE)
        access |= SLAT_UNCACHED;
    return access;
}

static uint64_t npt_table_entry(uint64_t table_pa)
{
    return table_pa | NPT_PRESENT | NPT_WRITABLE | NPT_USER;
}

const struct hv_vendor_ops svm_vendor_ops = {
    .name = "AMD SVM",
    .probe = svm_probe,
    .cpu_enable = svm_cpu_enable,
    .vp_create = svm_vp_create,
    .vp_destroy = svm_vp_destroy,
    .vp_run = svm_vp_run,
    .vp_cpu_mode = svm_vp_cpu_mode,
    .vp_get_segment = svm_vp_get_segment,
    .vp_set_segment = svm_vp_set_segment,
    .vp_get = svm_vp_get,
    .vp_set = svm_vp_set,
    .vp_inject_exception = svm_vp_inject_exception,
    .vp_interrupt_ready = svm_vp_interrupt_ready,
    .vp_inject_interrupt = svm_vp_inject_interrupt,
    .vp_request_interrupt_window = svm_vp_request_interrupt_window,
    .vp_inject_nmi = svm_vp_inject_nmi,
    .slat_leaf_entry = npt_leaf_entry,
    .slat_table_entry = npt_table_entry,
    .slat_leaf_access = npt_leaf_access,
    .slat_present_mask = NPT_PRESENT,
};
