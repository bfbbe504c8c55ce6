#include "hv/intercept.h"

#include <string.h>

#include "hv/cpuid.h"
#include "hv/guest_memory.h"
#include "hv/guest_paging.h"
#include "hv/hypercall.h"
#include "hv/hyperv.h"
#include "hv/intercept_abi.h"
#include "hv/msr.h"
#include "hv/partition.h"
#include "hv/root_call_checks.h"
#include "hv/root_partition.h"
#include "hv/sched.h"
#include "hv/synic.h"
#include "hv/vendor.h"
#include "hv/vlapic.h"
#include "kernel/log.h"

#define CR0_PE (1ull << 0)
#define CR0_AM (1ull << 18)
#define EFER_LMA (1ull << 10)
#define PAGE_BYTES 4096u

/* In the TLFS layout (HV_X64_SEGMENT_REGISTER: AVL/L/D/G in bits 15:12). */
static struct hv_x64_segment_register segment(struct vp *vp, enum vp_segment which)
{
    struct vp_segment_value v;
    hv_vendor->vp_get_segment(vp, which, &v);
    return (struct hv_x64_segment_register){
        v.base, v.limit, v.selector, root_call_segment_attributes_from_vendor(v.attributes)};
}

static void fill_header(struct vp *vp, const struct hv_exit *exit, uint8_t access,
                        struct hv_x64_intercept_message_header *h)
{
    uint64_t cr0 = hv_vendor->vp_get(vp, VP_REGISTER_CR0);
    struct hv_x64_segment_register ss = segment(vp, VP_SEGMENT_SS);
    h->vp_index = vp->index;
    h->instruction_length = exit->instruction_length & 0xF;
    h->intercept_access_type = access;
    h->execution_state = (uint16_t)((ss.attributes >> 5) & 3); /* CPL = SS.DPL */
    if (cr0 & CR0_PE)
        h->execution_state |= HV_EXECUTION_STATE_CR0_PE;
    if (cr0 & CR0_AM)
        h->execution_state |= 1u << 3;
    if (hv_vendor->vp_get(vp, VP_REGISTER_EFER) & EFER_LMA)
        h->execution_state |= HV_EXECUTION_STATE_EFER_LMA;
    h->cs = segment(vp, VP_SEGMENT_CS);
    h->rip = exit->rip;
    h->rflags = hv_vendor->vp_get(vp, VP_REGISTER_RFLAGS);
}

static bool read_child_memory(void *context, uint64_t gpa, void *buffer, unsigned size)
{
    return guest_memory_read(context, gpa, buffer, size);
}

/* Up to 16 bytes at CS:RIP, for the root to decode (no decode assists under QEMU TCG),
 * translated through the child's own page tables page by page; the bytes stop at the first
 * page that is not mapped or the child cannot read. */
static uint8_t fetch_instruction(struct vp *vp, const struct hv_exit *exit, uint8_t bytes[16])
{
    struct guest_paging paging = {
        .cr0 = hv_vendor->vp_get(vp, VP_REGISTER_CR0),
        .cr3 = hv_vendor->vp_get(vp, VP_REGISTER_CR3),
        .cr4 = hv_vendor->vp_get(vp, VP_REGISTER_CR4),
        .efer = hv_vendor->vp_get(vp, VP_REGISTER_EFER),
        .read = read_child_memory,
        .context = vp->partition,
    };
    uint64_t linear = exit->rip; /* CS.base is ignored in 64-bit mode */
    if (hv_vendor->vp_cpu_mode(vp) != VP_CPU_MODE_LONG_64)
        linear = (segment(vp, VP_SEGMENT_CS).base + exit->rip) & 0xFFFFFFFFu;
    uint8_t count = 0;
    while (count < 16) {
        uint64_t gpa;
        if (!guest_paging_translate(&paging, linear + count, &gpa))
            break;
        size_t chunk = PAGE_BYTES - (gpa & (PAGE_BYTES - 1));
        if (chunk > 16u - count)
            chunk = 16u - count;
        if (!guest_memory_read(vp->partition, gpa, bytes + count, chunk))
            break;
        count = (uint8_t)(count + chunk);
    }
    return count;
}

/* Suspends the VP first, then posts: the root cannot complete an intercept whose
 * suspension has not happened yet. */
static enum exit_action forward(struct vp *vp, uint32_t type, const void *payload, size_t size)
{
    struct hv_message message;
    memset(&message, 0, sizeof(message));
    message.header.message_type = type;
    message.header.payload_size = (uint8_t)size;
    message.header.sender = vp->partition->id;
    memcpy(message.payload, payload, size);
    struct vp *worker = root_partition_vp(0);
    sched_suspend(vp, VP_SUSPEND_INTERCEPT);
    if (!worker || !synic_post(worker, HV_SINT_INTERCEPTS, &message)) {
        log_warn("partition %lu (%s) VP %u: the root's intercept queue is full", vp->partition->id,
                 vp->partition->name, vp->index);
        partition_stop(vp->partition, "error");
        return EXIT_STOP;
    }
    return EXIT_RESUME;
}

static enum exit_action forward_io(struct vp *vp, const struct hv_exit *exit)
{
    struct hv_x64_io_port_intercept_message m;
    memset(&m, 0, sizeof(m));
    fill_header(vp, exit, exit->io.in ? HV_INTERCEPT_ACCESS_TYPE_READ : HV_INTERCEPT_ACCESS_TYPE_WRITE,
                &m.header);
    m.port_number = exit->io.port;
    m.access_info = (uint8_t)(exit->io.size & HV_IO_ACCESS_SIZE_MASK);
    if (exit->io.string)
        m.access_info |= HV_IO_ACCESS_STRING;
    if (exit->io.rep)
        m.access_info |= HV_IO_ACCESS_REP;
    m.instruction_byte_count = fetch_instruction(vp, exit, m.instruction_bytes);
    m.rax = vp->registers.rax;
    m.ds = segment(vp, VP_SEGMENT_DS);
    m.es = segment(vp, VP_SEGMENT_ES);
    m.rcx = vp->registers.rcx;
    m.rsi = vp->registers.rsi;
    m.rdi = vp->registers.rdi;
    return forward(vp, HV_MESSAGE_TYPE_X64_IO_PORT_INTERCEPT, &m, sizeof(m));
}

static enum exit_action forward_memory(struct vp *vp, const struct hv_exit *exit)
{
    struct hv_x64_memory_intercept_message m;
    memset(&m, 0, sizeof(m));
    uint8_t access = exit->slat.write     ? HV_INTERCEPT_ACCESS_TYPE_WRITE
                     : exit->slat.execute ? HV_INTERCEPT_ACCESS_TYPE_EXECUTE
                                          : HV_INTERCEPT_ACCESS_TYPE_READ;
    fill_header(vp, exit, access, &m.header);
    m.instruction_byte_count = fetch_instruction(vp, exit, m.instruction_bytes);
    m.guest_physical_address = exit->slat.gpa;
    return forward(vp, exit->slat.present ? HV_MESSAGE_TYPE_GPA_INTERCEPT
                                          : HV_MESSAGE_TYPE_UNMAPPED_GPA,
                   &m, sizeof(m));
}

static enum exit_action forward_msr(struct vp *vp, const struct hv_exit *exit)
{
    struct hv_x64_msr_intercept_message m;
    memset(&m, 0, sizeof(m));
    bool write = exit->reason == HV_EXIT_MSR_WRITE;
    fill_header(vp, exit, write ? HV_INTERCEPT_ACCESS_TYPE_WRITE : HV_INTERCEPT_ACCESS_TYPE_READ,
                &m.header);
    m.msr_number = exit->msr.index;
    m.rdx = vp->registers.rdx;
    m.rax = vp->registers.rax;
    return forward(vp, HV_MESSAGE_TYPE_X64_MSR_INTERCEPT, &m, sizeof(m));
}

static enum exit_action forward_cpuid(struct vp *vp, const struct hv_exit *exit)
{
    struct hv_x64_cpuid_intercept_message m;
    memset(&m, 0, sizeof(m));
    fill_header(vp, exit, HV_INTERCEPT_ACCESS_TYPE_EXECUTE, &m.header);
    m.rax = vp->registers.rax;
    m.rcx = vp->registers.rcx;
    m.rdx = vp->registers.rdx;
    m.rbx = vp->registers.rbx;
    struct cpuid_result d = cpuid_for_partition((uint32_t)m.rax, (uint32_t)m.rcx, false);
    m.default_result_rax = d.eax;
    m.default_result_rbx = d.ebx;
    m.default_result_rcx = d.ecx;
    m.default_result_rdx = d.edx;
    return forward(vp, HV_MESSAGE_TYPE_X64_CPUID_INTERCEPT, &m, sizeof(m));
}

#define MSR_EFER 0xC0000080u
#define MSR_VM_CR 0xC0010114u
#define MSR_VM_HSAVE_PA 0xC0010117u
#define EFER_SCE (1ull << 0)
#define EFER_LME (1ull << 8)
#define EFER_NXE (1ull << 11)
#define VECTOR_GP 13

/* MSRs the hypervisor answers itself, so no child ever sees a trace of SVM: EFER without
 * SVME (which it may not set: on a CPU without SVM the bit is reserved, #GP), and the SVM
 * MSRs, which do not exist for it (#GP). True if handled. */
static bool child_msr(struct vp *vp, const struct hv_exit *exit)
{
    bool write = exit->reason == HV_EXIT_MSR_WRITE;
    switch (exit->msr.index) {
    case MSR_EFER:
        if (!write) {
            uint64_t efer = hv_vendor->vp_get(vp, VP_REGISTER_EFER);
            vp->registers.rax = efer & 0xFFFFFFFFu;
            vp->registers.rdx = efer >> 32;
        } else if (exit->msr.value & ~(EFER_SCE | EFER_LME | EFER_NXE | EFER_LMA)) {
            hv_vendor->vp_inject_exception(vp, VECTOR_GP, true, 0);
            return true;
        } else {
            /* LMA is the CPU's to set; keep the current value of it. */
            uint64_t lma = hv_vendor->vp_get(vp, VP_REGISTER_EFER) & EFER_LMA;
            hv_vendor->vp_set(vp, VP_REGISTER_EFER, (exit->msr.value & ~EFER_LMA) | lma);
        }
        break;
    case MSR_VM_CR:
    case MSR_VM_HSAVE_PA:
        hv_vendor->vp_inject_exception(vp, VECTOR_GP, true, 0);
        return true;
    default:
        return false;
    }
    hv_vendor->vp_set(vp, VP_REGISTER_RIP, exit->rip + exit->instruction_length);
    return true;
}

/* The virtual LAPIC's MSRs (hv/vlapic.h): IA32_APIC_BASE, IA32_TSC_DEADLINE and the x2APIC
 * range 0x800-0x8FF; true if handled (completed or #GP). */
static bool child_vlapic_msr(struct vp *vp, const struct hv_exit *exit)
{
    uint32_t msr = exit->msr.index;
    enum vlapic_msr_result result;
    if (exit->reason == HV_EXIT_MSR_READ) {
        uint64_t value = 0;
        result = vlapic_msr_read(vp, msr, &value);
        if (result == VLAPIC_MSR_DONE) {
            vp->registers.rax = value & 0xFFFFFFFFu;
            vp->registers.rdx = value >> 32;
        }
    } else {
        result = vlapic_msr_write(vp, msr, exit->msr.value);
    }
    if (result == VLAPIC_MSR_UNHANDLED)
        return false;
    if (result == VLAPIC_MSR_DONE) {
        hv_vendor->vp_set(vp, VP_REGISTER_RIP, exit->rip + (exit->instruction_length
                                                                 ? exit->instruction_length
                                                                 : 2));
        return true;
    }
    log_debug("partition %lu (%s) VP %u: %s of APIC MSR %x (%lx) at rip %lx: #GP",
              vp->partition->id, vp->partition->name, vp->index,
              exit->reason == HV_EXIT_MSR_READ ? "read" : "write", msr, exit->msr.value,
              exit->rip);
    hv_vendor->vp_inject_exception(vp, VECTOR_GP, true, 0);
    return true;
}

/* ---- Hyper-V enlightenments answered by the hypervisor (hv/hyperv.h) ----------------- */

#define VECTOR_UD 6
#define CPUID_RDMSR_WRMSR_BYTES 2 /* 0F A2, 0F 32, 0F 30 */

static void skip_instruction(struct vp *vp, const struct hv_exit *exit)
{
    uint8_t length = exit->instruction_length ? exit->instruction_length
                                               : CPUID_RDMSR_WRMSR_BYTES;
    hv_vendor->vp_set(vp, VP_REGISTER_RIP, exit->rip + length);
}

/* The hypervisor leaves 0x40000000-0x4000FFFF; true if handled. */
static bool child_hyperv_cpuid(struct vp *vp, const struct hv_exit *exit)
{
    uint32_t leaf = (uint32_t)vp->registers.rax;
    if (!hyperv_cpuid_is_hypervisor_leaf(leaf))
        return false;
    struct cpuid_result r = hyperv_cpuid(vp, leaf);
    vp->registers.rax = r.eax;
    vp->registers.rbx = r.ebx;
    vp->registers.rcx = r.ecx;
    vp->registers.rdx = r.edx;
    skip_instruction(vp, exit);
    return true;
}

/* CPUID without a root intercept: the child policy (hv/cpuid.c), no trip to the root (Linux
 * executes hundreds at boot). Leaf 1 carries the VP index as the initial APIC ID, which
 * Linux checks against the MADT. */
static void child_cpuid(struct vp *vp, const struct hv_exit *exit)
{
    uint32_t leaf = (uint32_t)vp->registers.rax;
    struct cpuid_result r = cpuid_for_partition(leaf, (uint32_t)vp->registers.rcx, false);
    if (leaf == 1)
        r.ebx = (r.ebx & 0x00FFFFFFu) | (vp->index << 24);
    vp->registers.rax = r.eax;
    vp->registers.rbx = r.ebx;
    vp->registers.rcx = r.ecx;
    vp->registers.rdx = r.edx;
    skip_instruction(vp, exit);
}

/* The synthetic MSRs 0x40000000-0x400000FF: those hv/hyperv.c implements are answered,
 * the rest of the range is #GP here (none reaches the root); true if handled. */
static bool child_hyperv_msr(struct vp *vp, const struct hv_exit *exit)
{
    uint32_t msr = exit->msr.index;
    if (msr < HYPERV_MSR_RANGE_FIRST || msr > HYPERV_MSR_RANGE_LAST)
        return false;
    enum hyperv_msr_result result;
    if (exit->reason == HV_EXIT_MSR_READ) {
        uint64_t value = 0;
        result = hyperv_msr_read(vp, msr, &value);
        if (result == HYPERV_MSR_DONE) {
            vp->registers.rax = value & 0xFFFFFFFFu;
            vp->registers.rdx = value >> 32;
        }
    } else {
        result = hyperv_msr_write(vp, msr, exit->msr.value);
    }
    if (result == HYPERV_MSR_DONE) {
        skip_instruction(vp, exit);
        return true;
    }
    log_debug("partition %lu (%s) VP %u: %s of synthetic MSR %x at rip %lx: #GP",
              vp->partition->id, vp->partition->name, vp->index,
              exit->reason == HV_EXIT_MSR_READ ? "read" : "write", msr, exit->rip);
    hv_vendor->vp_inject_exception(vp, VECTOR_GP, true, 0);
    return true;
}

enum exit_action intercept_child_exit(struct vp *vp, struct hv_exit *exit)
{
    switch (exit->reason) {
    case HV_EXIT_HLT:
        hv_vendor->vp_set(vp, VP_REGISTER_RIP, exit->rip + exit->instruction_length);
        /* Past the HLT the STI shadow of "sti; hlt" is over; an interrupt the guest would
         * take now ends the halt at once (SDM vol. 2, HLT). */
        hv_vendor->vp_set(vp, VP_REGISTER_INTERRUPT_SHADOW, 0);
        if (vlapic_halt_may_sleep(vp, hv_vendor->vp_get(vp, VP_REGISTER_RFLAGS) & RFLAGS_IF))
            sched_halt(vp);
        return EXIT_RESUME;
    case HV_EXIT_HYPERCALL:
        if (!hyperv_hypercall_allowed(vp)) {
            hv_vendor->vp_inject_exception(vp, VECTOR_UD, false, 0);
            return EXIT_RESUME;
        }
        return hypercall_handle(vp, exit);
    case HV_EXIT_IO:
        return forward_io(vp, exit);
    case HV_EXIT_SLAT_VIOLATION:
        return forward_memory(vp, exit);
    case HV_EXIT_MSR_READ:
    case HV_EXIT_MSR_WRITE:
        if (child_vlapic_msr(vp, exit))
            return EXIT_RESUME;
        if (child_msr(vp, exit) || child_hyperv_msr(vp, exit) || msr_child_access(vp, exit))
            return EXIT_RESUME;
        return forward_msr(vp, exit);
    case HV_EXIT_CPUID:
        if (child_hyperv_cpuid(vp, exit))
            return EXIT_RESUME;
        if (__atomic_load_n(&vp->partition->installed_intercepts, __ATOMIC_ACQUIRE) &
            (1u << HV_INTERCEPT_TYPE_X64_CPUID))
            return forward_cpuid(vp, exit);
        child_cpuid(vp, exit);
        return EXIT_RESUME;
    default:
        log_warn("partition %lu (%s) VP %u: unexpected %s exit at rip %lx (code %lx)",
                 vp->partition->id, vp->partition->name, vp->index,
                 hv_exit_reason_name(exit->reason), exit->rip, exit->raw_code);
        partition_stop(vp->partition, "error");
        return EXIT_STOP;
    }
}

void intercept_child_stopped(struct partition *p, const char *reason)
{
    struct vp *worker = root_partition_vp(0);
    if (!worker)
        return;
    struct {
        struct hv_x64_intercept_message_header header;
        uint32_t reason;
    } __attribute__((packed)) m;
    memset(&m, 0, sizeof(m));
    m.reason = strcmp(reason, "triple-fault") == 0 ? 0 : 1;
    struct hv_message message;
    memset(&message, 0, sizeof(message));
    message.header.message_type = HV_MESSAGE_TYPE_UNRECOVERABLE_EXCEPTION;
    message.header.payload_size = sizeof(m);
    message.header.sender = p->id;
    memcpy(message.payload, &m, sizeof(m));
    if (!synic_post(worker, HV_SINT_INTERCEPTS, &message))
        log_warn("partition %lu (%s): the root's intercept queue is full; stop not reported",
                 p->id, p->name);
}

struct partition *child_partition_create(const char *name)
{
    struct partition *p = partition_create(name, intercept_child_exit, NULL);
    if (p)
        p->on_stop = intercept_child_stopped;
    return p;
}
