#include "hv/root_calls.h"

#include <string.h>

#include "hv/intercept.h"
#include "hv/intercept_abi.h"
#include "hv/partition.h"
#include "hv/partition_table.h"
#include "hv/root_abi.h"
#include "hv/root_call_checks.h"
#include "hv/sched.h"
#include "hv/slat.h"
#include "hv/vendor.h"
#include "hv/vlapic.h"
#include "kernel/format.h"
#include "kernel/lapic.h"
#include "kernel/log.h"
#include "kernel/main.h"
#include "kernel/percpu.h"
#include "kernel/smp.h"
#include "kernel/tsc.h"
#include "kernel/x86.h"

/* kernel/linker.ld: the whole image, which the root may never hand to a child (its data and
 * bss are mapped into the root read/write, but they are the image, not RAM it owns). */
extern char __image_start[], __image_end[];

#define PAGE_BYTES 4096ull
/* How long a VP that was just suspended may take to leave its CPU (the rest of one exit),
 * and how long an unmap waits for running VPs to drop their translations. An exit takes
 * microseconds, but the intercept is posted before its CPU leaves the VP, and under QEMU TCG
 * on a loaded host that CPU's thread can lose the host processor for over 100 ms inside
 * that window (seen: a Linux child stopped by a refused completion, INVALID_VP_STATE).
 * Reaching this bound means a scheduler bug, reported as a status, not a hang. */
#define VP_EXIT_TIMEOUT_NS (2000ull * 1000 * 1000)

static uint64_t input_u64(const struct hypercall_context *call, uint32_t offset)
{
    uint64_t value;
    memcpy(&value, call->input + offset, sizeof(value));
    return value;
}

/* ---- partitions ------------------------------------------------------------------------ */

enum hv_status root_call_create_partition(struct hypercall_context *call)
{
    struct hv_input_create_partition in;
    memcpy(&in, call->input, sizeof(in));
    enum hv_status status = hv_input_create_partition_validate(&in);
    if (status != HV_STATUS_SUCCESS)
        return status;
    /* The creation flags we know are accepted: none changes what a child gets today. */
    struct partition *p = child_partition_create("child");
    if (!p)
        return HV_STATUS_INSUFFICIENT_MEMORY;
    format_snprintf(p->name, sizeof(p->name), "child-%lu", p->id);
    if (!partition_table_add(p)) {
        log_warn("hv: HvCallCreatePartition: %u partitions exist already", PARTITION_TABLE_SIZE);
        partition_destroy(p);
        return HV_STATUS_INSUFFICIENT_MEMORY;
    }
    struct hv_output_create_partition out = {p->id};
    memcpy(call->output, &out, sizeof(out));
    log_info("hv: partition %lu (%s) created by the root", p->id, p->name);
    return HV_STATUS_SUCCESS;
}

/* The partition named by a checked hv_input_partition_id, if it is one of the children. */
static enum hv_status get_child(const struct hypercall_context *call, uint64_t id,
                                struct partition_table_entry **entry)
{
    if (id == HV_PARTITION_ID_SELF || id == call->caller->partition->id)
        return HV_STATUS_ACCESS_DENIED; /* the root cannot act on itself through these */
    return partition_table_get_child(id, entry);
}

static enum hv_status advance_lifecycle(struct hypercall_context *call,
                                        enum partition_lifecycle from,
                                        enum partition_lifecycle to)
{
    struct hv_input_partition_id in;
    memcpy(&in, call->input, sizeof(in));
    enum hv_status status = hv_input_partition_id_validate(&in);
    struct partition_table_entry *e;
    if (status == HV_STATUS_SUCCESS)
        status = get_child(call, in.partition_id, &e);
    if (status != HV_STATUS_SUCCESS)
        return status;
    uint64_t flags = spin_lock_irqsave(&e->lock);
    if (e->lifecycle == from)
        e->lifecycle = to;
    else
        status = HV_STATUS_INVALID_PARTITION_STATE;
    spin_unlock_irqrestore(&e->lock, flags);
    partition_table_put(e);
    return status;
}

enum hv_status root_call_initialize_partition(struct hypercall_context *call)
{
    return advance_lifecycle(call, PARTITION_LIFECYCLE_CREATED, PARTITION_LIFECYCLE_INITIALIZED);
}

enum hv_status root_call_finalize_partition(struct hypercall_context *call)
{
    return advance_lifecycle(call, PARTITION_LIFECYCLE_INITIALIZED,
                             PARTITION_LIFECYCLE_FINALIZED);
}

enum hv_status root_call_delete_partition(struct hypercall_context *call)
{
    struct hv_input_partition_id in;
    memcpy(&in, call->input, sizeof(in));
    enum hv_status status = hv_input_partition_id_validate(&in);
    struct partition_table_entry *e;
    if (status == HV_STATUS_SUCCESS)
        status = get_child(call, in.partition_id, &e);
    if (status != HV_STATUS_SUCCESS)
        return status;
    struct partition *p = partition_table_remove(e);
    if (!p)
        return HV_STATUS_INVALID_PARTITION_ID; /* another root VP is deleting it */
    /* Stopped without partition_stop: its on_stop would tell the root of a stop the root
     * itself asked for. */
    if (__atomic_exchange_n(&p->state, PARTITION_STOPPED, __ATOMIC_ACQ_REL) != PARTITION_STOPPED)
        p->stop_reason = "deleted";
    for (uint32_t i = 0; i < p->vp_count; i++) {
        p->vps[i]->state = VP_STATE_STOPPED;
        sched_remove_vp(p->vps[i]); /* returns once no CPU runs it */
    }
    log_info("hv: partition %lu (%s) deleted by the root (%lu exits)", p->id, p->name,
             p->statistics.exits);
    partition_destroy(p);
    return HV_STATUS_SUCCESS;
}

/* TSC ticks in nanoseconds without overflowing for ~2^64 / 10^6 ticks: split the division. */
static uint64_t ticks_to_ns(uint64_t ticks)
{
    uint64_t khz = tsc_khz();
    if (khz == 0)
        return 0;
    return ticks / khz * 1000000 + ticks % khz * 1000000 / khz;
}

enum hv_status root_call_get_partition_statistics(struct hypercall_context *call)
{
    uint64_t id;
    memcpy(&id, call->input, sizeof(id));
    struct partition_table_entry *e;
    enum hv_status status = get_child(call, id, &e);
    if (status != HV_STATUS_SUCCESS)
        return status;
    struct partition *p = e->partition;
    struct hvfw_output_partition_statistics out = {
        .exits = __atomic_load_n(&p->statistics.exits, __ATOMIC_RELAXED),
        .run_time_ns = ticks_to_ns(__atomic_load_n(&p->statistics.run_tsc, __ATOMIC_RELAXED)),
        .vp_count = __atomic_load_n(&p->vp_count, __ATOMIC_ACQUIRE),
    };
    partition_table_put(e);
    memcpy(call->output, &out, sizeof(out));
    return HV_STATUS_SUCCESS;
}

enum hv_status root_call_get_partition_id(struct hypercall_context *call)
{
    struct hv_output_get_partition_id out = {call->caller->partition->id};
    memcpy(call->output, &out, sizeof(out));
    return HV_STATUS_SUCCESS;
}

/* ---- GPA mapping ----------------------------------------------------------------------- */

static bool overlaps(uint64_t start, uint64_t end, uint64_t other_start, uint64_t other_end)
{
    return start < other_end && other_start < end;
}

/* A page the root may give a child: RAM its own nested tables map read/write (so not its
 * read-only boot modules, nor anything unmapped such as hypervisor memory), outside the
 * image (whose root data and bss it may write, but which are not its to give). */
static bool root_page_host_address(struct partition *root, uint64_t page, uint64_t *hpa)
{
    unsigned access;
    if (!hv_gpa_page_number_valid(page) ||
        !slat_translate(&root->slat, page * PAGE_BYTES, hpa, &access) ||
        (access & (SLAT_READ | SLAT_WRITE)) != (SLAT_READ | SLAT_WRITE) ||
        (access & SLAT_UNCACHED)) /* device MMIO: assignment needs the IOMMU (later) */
        return false;
    uint64_t end = *hpa + PAGE_BYTES;
    if (overlaps(*hpa, end, (uint64_t)(uintptr_t)__image_start, (uint64_t)(uintptr_t)__image_end))
        return false;
    for (size_t i = 0; i < boot_info.module_count; i++)
        if (overlaps(*hpa, end, boot_info.modules[i].start, boot_info.modules[i].end))
            return false;
    return true;
}

/* A run of target pages whose sources are host-contiguous: one slat_map, so aligned 2 MiB
 * stretches become large pages in the child. With no access the run is unmapped instead. */
struct map_run {
    uint64_t target_page, hpa, pages;
    uint32_t first_rep;
};

static bool map_run_flush(struct slat *slat, struct map_run *run, unsigned access)
{
    uint64_t gpa = run->target_page * PAGE_BYTES, bytes = run->pages * PAGE_BYTES;
    bool ok = run->pages == 0 ||
              (access ? slat_map(slat, gpa, run->hpa, bytes, access) : slat_unmap(slat, gpa, bytes));
    run->pages = 0;
    return ok;
}

/* Makes every VP of `p` that runs right now exit once, so that its next entry sees the
 * partition's new SLAT generation and flushes what it cached of the removed pages (the
 * backend flushes on a generation change: hv/svm/svm.c). */
static bool flush_running_vps(struct partition *p)
{
    for (uint32_t i = 0; i < p->vp_count; i++) {
        struct vp *vp = p->vps[i];
        uint64_t runs = __atomic_load_n(&vp->statistics.runs, __ATOMIC_ACQUIRE);
        if (!__atomic_load_n(&vp->running, __ATOMIC_ACQUIRE))
            continue;
        uint32_t cpu = __atomic_load_n(&vp->cpu, __ATOMIC_ACQUIRE);
        lapic_send_ipi(percpu_area[cpu].apic_id, LAPIC_DELIVERY_FIXED, SMP_VECTOR_WAKE);
        uint64_t deadline = time_now_ns() + VP_EXIT_TIMEOUT_NS;
        while (__atomic_load_n(&vp->running, __ATOMIC_ACQUIRE) &&
               __atomic_load_n(&vp->statistics.runs, __ATOMIC_ACQUIRE) == runs) {
            if (time_now_ns() > deadline) {
                log_error("hv: partition %lu VP %u did not exit for a TLB flush", p->id, i);
                return false;
            }
            cpu_relax();
        }
    }
    return true;
}

enum hv_status root_call_map_gpa_pages(struct hypercall_context *call)
{
    const struct hypercall_layout *layout = call->layout;
    struct hv_input_map_gpa_pages in;
    memcpy(&in, call->input, sizeof(in));
    enum hv_status status = hv_input_map_gpa_pages_validate(&in, layout->rep_count);
    unsigned access = 0;
    if (status == HV_STATUS_SUCCESS)
        status = root_call_map_access(in.map_flags, &access);
    struct partition_table_entry *e;
    if (status == HV_STATUS_SUCCESS)
        status = get_child(call, in.target_partition_id, &e);
    if (status != HV_STATUS_SUCCESS)
        return status;
    struct partition *child = e->partition, *root = call->caller->partition;

    struct map_run run = {0, 0, 0, 0};
    uint32_t i;
    for (i = layout->rep_start; i < layout->rep_count; i++) {
        uint64_t source = input_u64(call, layout->elements_offset + i * sizeof(uint64_t));
        uint64_t target = in.target_gpa_base + i, hpa;
        if (!root_page_host_address(root, source, &hpa)) {
            log_debug("hv: HvCallMapGpaPages: root GPA page %lx is not RAM the root owns",
                      source);
            status = HV_STATUS_INVALID_PARAMETER;
            break;
        }
        bool contiguous = run.hpa + run.pages * PAGE_BYTES == hpa;
        if (run.pages && !contiguous) {
            uint32_t first = run.first_rep;
            if (!map_run_flush(&child->slat, &run, access)) {
                status = HV_STATUS_INSUFFICIENT_MEMORY;
                i = first; /* slat_map half-maps nothing: the run is not done */
                break;
            }
        }
        if (!run.pages)
            run = (struct map_run){target, hpa, 0, i};
        run.pages++;
    }
    if (status != HV_STATUS_INSUFFICIENT_MEMORY && run.pages) {
        uint32_t first = run.first_rep;
        if (!map_run_flush(&child->slat, &run, access)) {
            status = HV_STATUS_INSUFFICIENT_MEMORY;
            i = first;
        }
    }
    call->reps_done = i - layout->rep_start;
    /* A replaced or removed translation may be cached by a running VP. */
    if (call->reps_done && !flush_running_vps(child) && status == HV_STATUS_SUCCESS)
        status = HV_STATUS_OPERATION_FAILED;
    partition_table_put(e);
    return status;
}

enum hv_status root_call_unmap_gpa_pages(struct hypercall_context *call)
{
    const struct hypercall_layout *layout = call->layout;
    struct hv_input_unmap_gpa_pages in;
    memcpy(&in, call->input, sizeof(in));
    enum hv_status status = hv_input_unmap_gpa_pages_validate(&in, layout->rep_count);
    struct partition_table_entry *e;
    if (status == HV_STATUS_SUCCESS)
        status = get_child(call, in.target_partition_id, &e);
    if (status != HV_STATUS_SUCCESS)
        return status;
    struct partition *child = e->partition;
    uint32_t pages = layout->rep_count - layout->rep_start;
    /* Splitting a large page needs a table page: the only way this can fail. */
    if (!slat_unmap(&child->slat, (in.target_gpa_base + layout->rep_start) * PAGE_BYTES,
                    (uint64_t)pages * PAGE_BYTES))
        status = HV_STATUS_INSUFFICIENT_MEMORY;
    else if (!flush_running_vps(child))
        status = HV_STATUS_OPERATION_FAILED;
    call->reps_done = status == HV_STATUS_SUCCESS ? pages : 0;
    partition_table_put(e);
    return status;
}

/* ---- intercepts ------------------------------------------------------------------------ */

/* The exits hv/intercept.c can forward: I/O ports and MSRs always reach the root; CPUID
 * only when installed (otherwise the hypervisor answers with the child policy,
 * hv/cpuid.c). */
static bool intercept_type_delivered(uint32_t type)
{
    switch (type) {
    case HV_INTERCEPT_TYPE_X64_IO_PORT:
    case HV_INTERCEPT_TYPE_X64_IO_PORT_RANGE:
    case HV_INTERCEPT_TYPE_X64_MSR:
    case HV_INTERCEPT_TYPE_X64_MSR_INDEX:
    case HV_INTERCEPT_TYPE_X64_CPUID:
        return true;
    default:
        return false; /* exceptions go to the guest; its hypercalls to the hypervisor */
    }
}

enum hv_status root_call_install_intercept(struct hypercall_context *call)
{
    struct hv_input_install_intercept in;
    memcpy(&in, call->input, sizeof(in));
    enum hv_status status = hv_input_install_intercept_validate(&in);
    if (status == HV_STATUS_SUCCESS && !intercept_type_delivered(in.intercept_type))
        status = HV_STATUS_INVALID_PARAMETER;
    struct partition_table_entry *e;
    if (status == HV_STATUS_SUCCESS)
        status = get_child(call, in.partition_id, &e);
    if (status != HV_STATUS_SUCCESS)
        return status;
    uint64_t flags = spin_lock_irqsave(&e->lock);
    e->intercept_types |= 1u << in.intercept_type;
    __atomic_or_fetch(&e->partition->installed_intercepts, 1u << in.intercept_type,
                      __ATOMIC_RELEASE);
    spin_unlock_irqrestore(&e->lock, flags);
    partition_table_put(e);
    return HV_STATUS_SUCCESS;
}

/* ---- virtual processors ---------------------------------------------------------------- */

/* Child VPs spread over the online CPUs in creation order. */
static uint32_t next_home_cpu(void)
{
    static uint32_t counter;
    uint32_t online = smp_online_count();
    uint32_t n = __atomic_fetch_add(&counter, 1, __ATOMIC_RELAXED);
    return online ? n % online : 0;
}

enum hv_status root_call_create_vp(struct hypercall_context *call)
{
    struct hv_input_create_vp in;
    memcpy(&in, call->input, sizeof(in));
    enum hv_status status = hv_input_create_vp_validate(&in);
    struct partition_table_entry *e;
    if (status == HV_STATUS_SUCCESS)
        status = get_child(call, in.partition_id, &e);
    if (status != HV_STATUS_SUCCESS)
        return status;
    struct partition *p = e->partition;
    uint64_t flags = spin_lock_irqsave(&e->lock);
    struct vp *vp = NULL;
    if (e->lifecycle == PARTITION_LIFECYCLE_CREATED) {
        status = HV_STATUS_INVALID_PARTITION_STATE; /* not initialized yet */
    } else if (in.vp_index != p->vp_count || in.vp_index >= PARTITION_MAX_VPS) {
        status = HV_STATUS_INVALID_VP_INDEX; /* VP indices are dense: 0, 1, ... */
    } else {
        /* The platform contract's entry state (images/guests/README.md); the root sets
         * RIP and the entry registers before it clears the explicit suspend. */
        struct vp_start_state start = {.mode = VP_START_PROTECTED_32};
        vp = partition_create_vp(p, &start);
        if (!vp)
            status = HV_STATUS_INSUFFICIENT_MEMORY;
    }
    spin_unlock_irqrestore(&e->lock, flags);
    if (vp) {
        sched_suspend(vp, VP_SUSPEND_EXPLICIT); /* before it is ever scheduled */
        sched_add_vp(vp, next_home_cpu());
        log_debug("hv: partition %lu VP %u created on cpu%u, held", p->id, vp->index, vp->cpu);
    }
    partition_table_put(e);
    return status;
}

/* The VP a register call names, with its partition's reference held in *entry. */
static enum hv_status get_vp(struct hypercall_context *call, struct partition_table_entry **entry,
                             struct vp **vp)
{
    struct hv_input_vp_registers in;
    memcpy(&in, call->input, sizeof(in));
    enum hv_status status = hv_input_vp_registers_validate(&in);
    if (status == HV_STATUS_SUCCESS)
        status = get_child(call, in.partition_id, entry);
    if (status != HV_STATUS_SUCCESS)
        return status;
    uint32_t count = __atomic_load_n(&(*entry)->partition->vp_count, __ATOMIC_ACQUIRE);
    if (in.vp_index >= count) {
        partition_table_put(*entry);
        return HV_STATUS_INVALID_VP_INDEX; /* HV_VP_INDEX_SELF too: the root's own VP */
    }
    *vp = (*entry)->partition->vps[in.vp_index];
    return HV_STATUS_SUCCESS;
}

/* Whether the VP's state may be read and written: it is held (suspended, or its partition
 * stopped) and has left its CPU. A VP suspended a moment ago is still finishing its exit
 * (sched_suspend kicked it): that is waited for, boundedly. */
static enum hv_status hold_vp(struct vp *vp)
{
    bool held = __atomic_load_n(&vp->suspend, __ATOMIC_ACQUIRE) != 0 ||
                vp->partition->state == PARTITION_STOPPED || vp->state == VP_STATE_STOPPED;
    if (!held)
        return HV_STATUS_INVALID_VP_STATE; /* running: suspend it first (explicit suspend) */
    uint64_t deadline = time_now_ns() + VP_EXIT_TIMEOUT_NS;
    while (__atomic_load_n(&vp->running, __ATOMIC_ACQUIRE)) {
        if (time_now_ns() > deadline)
            return HV_STATUS_INVALID_VP_STATE;
        cpu_relax();
    }
    return HV_STATUS_SUCCESS;
}

static bool is_suspend_register(uint32_t name)
{
    return name == HV_REGISTER_EXPLICIT_SUSPEND || name == HV_REGISTER_INTERCEPT_SUSPEND;
}

/* HV_X64_REGISTER_RAX.. in TLFS order: RAX RCX RDX RBX RSP RBP RSI RDI R8..R15. RSP lives in
 * the vendor state (NULL here). */
static uint64_t *general_register(struct vp *vp, uint32_t name)
{
    struct vp_registers *r = &vp->registers;
    uint64_t *table[16] = {&r->rax, &r->rcx, &r->rdx, &r->rbx, NULL,   &r->rbp, &r->rsi, &r->rdi,
                           &r->r8,  &r->r9,  &r->r10, &r->r11, &r->r12, &r->r13, &r->r14, &r->r15};
    return table[name - HV_X64_REGISTER_RAX];
}

/* HV register names kept in the vendor state as one 64-bit value. */
static bool vendor_register(uint32_t name, enum vp_register *reg)
{
    static const struct {
        uint32_t name;
        enum vp_register reg;
    } map[] = {
        {HV_X64_REGISTER_RSP, VP_REGISTER_RSP},
        {HV_X64_REGISTER_RIP, VP_REGISTER_RIP},
        {HV_X64_REGISTER_RFLAGS, VP_REGISTER_RFLAGS},
        {HV_X64_REGISTER_CR0, VP_REGISTER_CR0},
        {HV_X64_REGISTER_CR2, VP_REGISTER_CR2},
        {HV_X64_REGISTER_CR3, VP_REGISTER_CR3},
        {HV_X64_REGISTER_CR4, VP_REGISTER_CR4},
        {HV_X64_REGISTER_CR8, VP_REGISTER_CR8},
        {HV_X64_REGISTER_EFER, VP_REGISTER_EFER},
        {HV_X64_REGISTER_DR6, VP_REGISTER_DR6},
        {HV_X64_REGISTER_DR7, VP_REGISTER_DR7},
        {HV_X64_REGISTER_PAT, VP_REGISTER_PAT},
        {HV_X64_REGISTER_KERNEL_GS_BASE, VP_REGISTER_KERNEL_GS_BASE},
        {HV_X64_REGISTER_SYSENTER_CS, VP_REGISTER_SYSENTER_CS},
        {HV_X64_REGISTER_SYSENTER_ESP, VP_REGISTER_SYSENTER_ESP},
        {HV_X64_REGISTER_SYSENTER_EIP, VP_REGISTER_SYSENTER_EIP},
        {HV_X64_REGISTER_STAR, VP_REGISTER_STAR},
        {HV_X64_REGISTER_LSTAR, VP_REGISTER_LSTAR},
        {HV_X64_REGISTER_CSTAR, VP_REGISTER_CSTAR},
        {HV_X64_REGISTER_SFMASK, VP_REGISTER_SFMASK},
    };
    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
        if (map[i].name == name) {
            *reg = map[i].reg;
            return true;
        }
    }
    return false;
}

/* ES..TR in TLFS order (ES CS SS DS FS GS LDTR TR), GDTR, IDTR. */
static bool segment_register(uint32_t name, enum vp_segment *segment)
{
    static const enum vp_segment order[] = {VP_SEGMENT_ES, VP_SEGMENT_CS,   VP_SEGMENT_SS,
                                            VP_SEGMENT_DS, VP_SEGMENT_FS,   VP_SEGMENT_GS,
                                            VP_SEGMENT_LDTR, VP_SEGMENT_TR};
    if (name >= HV_X64_REGISTER_ES && name <= HV_X64_REGISTER_TR)
        *segment = order[name - HV_X64_REGISTER_ES];
    else if (name == HV_X64_REGISTER_GDTR)
        *segment = VP_SEGMENT_GDTR;
    else if (name == HV_X64_REGISTER_IDTR)
        *segment = VP_SEGMENT_IDTR;
    else
        return false;
    return true;
}

static bool is_general_register(uint32_t name)
{
    return name >= HV_X64_REGISTER_RAX && name <= HV_X64_REGISTER_R15 &&
           name != HV_X64_REGISTER_RSP;
}

static bool get_register(struct vp *vp, uint32_t name, union hv_register_value *value)
{
    enum vp_register reg;
    enum vp_segment segment;
    memset(value, 0, sizeof(*value));
    if (is_general_register(name)) {
        value->reg64 = *general_register(vp, name);
    } else if (vendor_register(name, &reg)) {
        value->reg64 = hv_vendor->vp_get(vp, reg);
    } else if (segment_register(name, &segment)) {
        struct vp_segment_value s;
        hv_vendor->vp_get_segment(vp, segment, &s);
        if (segment == VP_SEGMENT_GDTR || segment == VP_SEGMENT_IDTR) {
            value->table.base = s.base;
            value->table.limit = (uint16_t)s.limit;
        } else {
            value->segment = (struct hv_x64_segment_register){
                s.base, s.limit, s.selector, root_call_segment_attributes_from_vendor(s.attributes)};
        }
    } else if (name == HV_REGISTER_PENDING_INTERRUPTION) {
        value->reg64 = hv_vendor->vp_get(vp, VP_REGISTER_PENDING_EVENT);
    } else if (name == HV_REGISTER_EXPLICIT_SUSPEND) {
        value->reg64 = sched_is_suspended(vp, VP_SUSPEND_EXPLICIT);
    } else if (name == HV_REGISTER_INTERCEPT_SUSPEND) {
        value->reg64 = sched_is_suspended(vp, VP_SUSPEND_INTERCEPT);
    } else if (name == HV_REGISTER_VP_INDEX) {
        value->reg64 = vp->index;
    } else {
        return false;
    }
    return true;
}

enum hv_status root_call_get_vp_registers(struct hypercall_context *call)
{
    const struct hypercall_layout *layout = call->layout;
    struct partition_table_entry *e;
    struct vp *vp;
    enum hv_status status = get_vp(call, &e, &vp);
    if (status != HV_STATUS_SUCCESS)
        return status;
    uint32_t i;
    for (i = layout->rep_start; i < layout->rep_count; i++) {
        uint32_t name;
        memcpy(&name, call->input + layout->elements_offset + i * sizeof(name), sizeof(name));
        if (!is_suspend_register(name) && status == HV_STATUS_SUCCESS)
            status = hold_vp(vp); /* once: a held VP stays held during the call */
        union hv_register_value value;
        if (status == HV_STATUS_SUCCESS && !get_register(vp, name, &value))
            status = HV_STATUS_INVALID_PARAMETER;
        if (status != HV_STATUS_SUCCESS)
            break;
        memcpy(call->output + i * sizeof(value), &value, sizeof(value));
    }
    call->reps_done = i - layout->rep_start;
    partition_table_put(e);
    return status;
}

/* ---- setting registers ----------------------------------------------------------------- */

/* What this CPU lets a guest enable (reserved bits make VMRUN fail): CPUID leaves 1, 7 and
 * 0x80000001 (Intel SDM vol. 2A CPUID; AMD APM vol. 3 appendix E). */
static struct vp_register_limits register_limits(void)
{
    static struct vp_register_limits limits;
    static bool known;
    if (__atomic_load_n(&known, __ATOMIC_ACQUIRE))
        return limits;
    uint32_t a, b, c, d, b7 = 0, c7 = 0, max;
    cpuid(0, 0, &max, &b, &c, &d);
    if (max >= 7)
        cpuid(7, 0, &a, &b7, &c7, &d);
    cpuid(1, 0, &a, &b, &c, &d);
    uint64_t cr4 = 0x7FF; /* VME PVI TSD DE PSE PAE MCE PGE PCE OSFXSR OSXMMEXCPT */
    if (c7 & (1u << 2))
        cr4 |= 1ull << 11; /* UMIP */
    if (b7 & (1u << 0))
        cr4 |= 1ull << 16; /* FSGSBASE */
    if (c & (1u << 17))
        cr4 |= 1ull << 17; /* PCIDE */
    if (c & (1u << 26))
        cr4 |= 1ull << 18; /* OSXSAVE */
    if (b7 & (1u << 7))
        cr4 |= 1ull << 20; /* SMEP */
    if (b7 & (1u << 20))
        cr4 |= 1ull << 21; /* SMAP */
    if (c7 & (1u << 3))
        cr4 |= 1ull << 22; /* PKE */
    cpuid(0x80000001u, 0, &a, &b, &c, &d);
    uint64_t efer = 0;
    if (d & (1u << 11))
        efer |= 1ull << 0; /* SCE */
    if (d & (1u << 29))
        efer |= X86_EFER_LME;
    if (d & (1u << 20))
        efer |= 1ull << 11; /* NXE */
    if (d & (1u << 25))
        efer |= 1ull << 14; /* FFXSR */
    limits = (struct vp_register_limits){cr4, efer};
    __atomic_store_n(&known, true, __ATOMIC_RELEASE);
    return limits;
}

static struct vp_control_state control_state(struct vp *vp)
{
    struct vp_segment_value cs;
    hv_vendor->vp_get_segment(vp, VP_SEGMENT_CS, &cs);
    return (struct vp_control_state){
        hv_vendor->vp_get(vp, VP_REGISTER_CR0), hv_vendor->vp_get(vp, VP_REGISTER_CR4),
        hv_vendor->vp_get(vp, VP_REGISTER_EFER),
        root_call_segment_attributes_from_vendor(cs.attributes)};
}

/* CR0, CR4, EFER and CS together decide the mode: a new value is checked in the state it
 * produces, and EFER.LMA is kept equal to LME && PG. */
static enum hv_status set_control_register(struct vp *vp, uint32_t name,
                                           const union hv_register_value *value)
{
    struct vp_control_state s = control_state(vp);
    if (name == HV_X64_REGISTER_CR0)
        s.cr0 = value->reg64;
    else if (name == HV_X64_REGISTER_CR4)
        s.cr4 = value->reg64;
    else if (name == HV_X64_REGISTER_EFER)
        s.efer = value->reg64;
    else
        s.cs_attributes = value->segment.attributes;
    s.efer = root_call_efer_with_lma(s.efer, s.cr0);
    if (!root_call_control_state_valid(&s))
        return HV_STATUS_INVALID_PARAMETER;
    if (name == HV_X64_REGISTER_CS) {
        const struct hv_x64_segment_register *in = &value->segment;
        struct vp_segment_value cs = {in->base, in->limit, in->selector,
                                      root_call_segment_attributes_to_vendor(in->attributes)};
        hv_vendor->vp_set_segment(vp, VP_SEGMENT_CS, &cs);
        return HV_STATUS_SUCCESS;
    }
    hv_vendor->vp_set(vp, VP_REGISTER_CR0, s.cr0);
    hv_vendor->vp_set(vp, VP_REGISTER_CR4, s.cr4);
    hv_vendor->vp_set(vp, VP_REGISTER_EFER, s.efer);
    return HV_STATUS_SUCCESS;
}

static enum hv_status set_suspend(struct vp *vp, uint32_t name, uint64_t value)
{
    if (value > 1)
        return HV_STATUS_INVALID_PARAMETER;
    if (name == HV_REGISTER_INTERCEPT_SUSPEND) {
        if (value == 1)
            return HV_STATUS_INVALID_PARAMETER; /* only the hypervisor sets it, on an exit */
        sched_resume(vp, VP_SUSPEND_INTERCEPT);
    } else if (value == 1) {
        sched_suspend(vp, VP_SUSPEND_EXPLICIT);
    } else {
        sched_resume(vp, VP_SUSPEND_EXPLICIT);
    }
    return HV_STATUS_SUCCESS;
}

static enum hv_status set_register(struct vp *vp, const struct hv_register_assoc *assoc)
{
    uint32_t name = assoc->name;
    const union hv_register_value *value = &assoc->value;
    if (assoc->reserved1 || assoc->reserved2)
        return HV_STATUS_INVALID_PARAMETER;
    if (is_suspend_register(name))
        return set_suspend(vp, name, value->reg64);
    if (name == HV_REGISTER_PENDING_INTERRUPTION) {
        bool real_mode = hv_vendor->vp_cpu_mode(vp) == VP_CPU_MODE_REAL;
        enum hv_status status = root_call_check_pending_interruption(value->reg64, real_mode);
        if (status == HV_STATUS_SUCCESS)
            hv_vendor->vp_set(vp, VP_REGISTER_PENDING_EVENT, value->reg64);
        return status;
    }
    struct vp_register_limits limits = register_limits();
    enum hv_status status = root_call_check_register_value(name, value, &limits);
    if (status != HV_STATUS_SUCCESS)
        return status;
    if (name == HV_X64_REGISTER_CR0 || name == HV_X64_REGISTER_CR4 ||
        name == HV_X64_REGISTER_EFER || name == HV_X64_REGISTER_CS)
        return set_control_register(vp, name, value);
    enum vp_register reg;
    enum vp_segment segment;
    if (is_general_register(name)) {
        *general_register(vp, name) = value->reg64;
    } else if (vendor_register(name, &reg)) {
        hv_vendor->vp_set(vp, reg, value->reg64);
    } else if (segment_register(name, &segment)) {
        struct vp_segment_value s;
        if (segment == VP_SEGMENT_GDTR || segment == VP_SEGMENT_IDTR) {
            hv_vendor->vp_get_segment(vp, segment, &s);
            s.base = value->table.base;
            s.limit = value->table.limit;
        } else {
            const struct hv_x64_segment_register *in = &value->segment;
            s = (struct vp_segment_value){in->base, in->limit, in->selector,
                                          root_call_segment_attributes_to_vendor(in->attributes)};
        }
        hv_vendor->vp_set_segment(vp, segment, &s);
    } else {
        return HV_STATUS_INVALID_PARAMETER; /* checked as settable, but no home: a bug */
    }
    return HV_STATUS_SUCCESS;
}

enum hv_status root_call_set_vp_registers(struct hypercall_context *call)
{
    const struct hypercall_layout *layout = call->layout;
    struct partition_table_entry *e;
    struct vp *vp;
    enum hv_status status = get_vp(call, &e, &vp);
    if (status != HV_STATUS_SUCCESS)
        return status;
    uint32_t i;
    bool held = false;
    for (i = layout->rep_start; i < layout->rep_count; i++) {
        struct hv_register_assoc assoc;
        memcpy(&assoc, call->input + layout->elements_offset + i * sizeof(assoc), sizeof(assoc));
        /* The suspend registers act on a running VP too; everything else needs it held.
         * Clearing a suspension lets it run: registers after that would race it. */
        if (!is_suspend_register(assoc.name) && !held) {
            status = hold_vp(vp);
            held = status == HV_STATUS_SUCCESS;
        } else if (is_suspend_register(assoc.name)) {
            held = false;
        }
        if (status == HV_STATUS_SUCCESS)
            status = set_register(vp, &assoc);
        if (status != HV_STATUS_SUCCESS)
            break;
    }
    call->reps_done = i - layout->rep_start;
    partition_table_put(e);
    return status;
}

/* ---- virtual interrupts ---------------------------------------------------------------- */

enum hv_status root_call_assert_virtual_interrupt(struct hypercall_context *call)
{
    struct hv_input_assert_virtual_interrupt in;
    memcpy(&in, call->input, sizeof(in));
    enum hv_status status = hv_input_assert_virtual_interrupt_validate(&in);
    struct partition_table_entry *e;
    if (status == HV_STATUS_SUCCESS)
        status = get_child(call, in.partition_id, &e);
    if (status != HV_STATUS_SUCCESS)
        return status;
    /* A child's APIC IDs are its VP indices (hv/vlapic.h); VPs are never removed from a
     * partition while its table reference is held. */
    struct partition *p = e->partition;
    uint32_t count = __atomic_load_n(&p->vp_count, __ATOMIC_ACQUIRE);
    if (in.destination >= count) {
        status = HV_STATUS_INVALID_PARAMETER;
    } else {
        vlapic_raise_interrupt(p->vps[in.destination], (uint8_t)in.vector);
    }
    partition_table_put(e);
    return status;
}
