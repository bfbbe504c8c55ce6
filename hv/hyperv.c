#include "hv/hyperv.h"

#include <assert.h>
#include <string.h>

#include "hv/guest_memory.h"
#include "hv/partition.h"
#include "hv/reference_tsc.h"
#include "hv/stimer.h"
#include "hv/synic.h"
#include "hv/vendor.h"
#include "kernel/lapic.h"
#include "kernel/log.h"
#include "kernel/percpu.h"
#include "kernel/tsc.h"
#include "kernel/x86.h"

static_assert(PARTITION_MAX_VPS <= HYPERV_MAX_VPS, "a VP assist page slot for every VP");

#define PAGE_BYTES 4096u
#define PAGE_MASK (~(uint64_t)(PAGE_BYTES - 1))

/* CPUID.7.0:EDX[20] CET_IBT (Intel SDM vol. 2, CPUID, "Structured Extended Feature Flags"). */
#define LEAF7_EDX_CET_IBT (1u << 20)
/* "AuthenticAMD" and "HygonGenuine" (CPUID.0:EBX): the CPUs whose hypercall is VMMCALL. */
#define VENDOR_EBX_AMD 0x68747541u
#define VENDOR_EBX_HYGON 0x6F677948u

/* The local APIC timer divides its input clock by 16 (kernel/lapic.c); the APIC_FREQUENCY
 * MSR reports the input clock, from which Linux derives its own lapic_timer_period. */
#define LAPIC_TIMER_DIVISOR 16u

/* ---- CPUID ------------------------------------------------------------------------------ */

bool hyperv_cpuid_is_hypervisor_leaf(uint32_t leaf)
{
    return leaf >= HYPERV_CPUID_VENDOR_AND_MAX && leaf < HYPERV_CPUID_RANGE_END;
}

struct cpuid_result hyperv_cpuid_leaf(uint32_t leaf, uint32_t max_vps, uint32_t max_lps)
{
    struct cpuid_result r = {0, 0, 0, 0};
    switch (leaf) {
    case HYPERV_CPUID_VENDOR_AND_MAX:
        /* TLFS 2.4.1: the highest leaf, then "Microsoft Hv" in EBX, ECX, EDX. */
        r.eax = HYPERV_CPUID_MAX_LEAF;
        r.ebx = 0x7263694Du; /* "Micr" */
        r.ecx = 0x666F736Fu; /* "osof" */
        r.edx = 0x76482074u; /* "t Hv" */
        break;
    case HYPERV_CPUID_INTERFACE:
        r.eax = HYPERV_INTERFACE_SIGNATURE;
        break;
    case HYPERV_CPUID_VERSION:
        /* TLFS 2.4.3: build number; major << 16 | minor; service pack; branch and number. */
        r.eax = HYPERV_VERSION_BUILD;
        r.ebx = HYPERV_VERSION_MAJOR << 16 | HYPERV_VERSION_MINOR;
        break;
    case HYPERV_CPUID_FEATURES:
        /* Only what children have. EBX is the privilege mask's high half: post messages
         * and signal events, never CpuManagement (bit 12 would make Linux take itself for
         * the root partition). */
        r.eax = HYPERV_FEATURES_EAX;
        r.ebx = HYPERV_FEATURES_EBX;
        r.edx = HYPERV_FEATURES_EDX;
        break;
    case HYPERV_CPUID_ENLIGHTENMENTS:
        r.eax = HYPERV_HINT_DEPRECATE_AUTO_EOI;
        r.ebx = HYPERV_SPIN_WAIT_NEVER;
        break;
    case HYPERV_CPUID_LIMITS:
        /* TLFS 2.4.6: maximum VPs, maximum logical processors, interrupt vectors for
         * remapping (none: no device is assigned to a child). */
        r.eax = max_vps;
        r.ebx = max_lps;
        break;
    default:
        /* 0x40000006-0x4000000A (hardware features used, CPU management, SVM, nested
         * features): none; past the maximum leaf: nothing. */
        break;
    }
    return r;
}

struct cpuid_result hyperv_cpuid(const struct vp *vp, uint32_t leaf)
{
    (void)vp;
    return hyperv_cpuid_leaf(leaf, PARTITION_MAX_VPS, MAX_CPUS);
}

/* ---- the hypercall page ---------------------------------------------------------------- */

uint32_t hyperv_hypercall_code(bool amd, bool endbr64, uint8_t code[8])
{
    uint32_t n = 0;
    if (endbr64) {
        static const uint8_t endbr[4] = {0xF3, 0x0F, 0x1E, 0xFA};
        memcpy(code, endbr, sizeof(endbr));
        n = sizeof(endbr);
    }
    code[n++] = 0x0F;
    code[n++] = 0x01;
    code[n++] = amd ? 0xD9 : 0xC1; /* VMMCALL : VMCALL */
    code[n++] = 0xC3;              /* RET */
    return n;
}

static bool host_is_amd(void)
{
    uint32_t a, b, c, d;
    cpuid(0, 0, &a, &b, &c, &d);
    return b == VENDOR_EBX_AMD || b == VENDOR_EBX_HYGON;
}

/* Writes the hypercall code at `page` (a GPA) if the page is the child's own writable RAM:
 * the one thing a child may point the MSR at (TLFS 3.13). */
static bool write_hypercall_page(struct partition *p, uint64_t page)
{
    if (!guest_memory_accessible(p, page, PAGE_BYTES, true))
        return false;
    uint8_t code[8];
    bool ibt = cpuid_for_partition(7, 0, false).edx & LEAF7_EDX_CET_IBT;
    uint32_t length = hyperv_hypercall_code(host_is_amd(), ibt, code);
    return guest_memory_write(p, page, code, length);
}

/* ---- MSRs ------------------------------------------------------------------------------- */

uint64_t hyperv_tsc_frequency_hz(void)
{
    return tsc_khz() * 1000u;
}

uint64_t hyperv_apic_frequency_hz(void)
{
    return lapic_timer_hz() * LAPIC_TIMER_DIVISOR;
}

enum hyperv_msr_result hyperv_msr_read(struct vp *vp, uint32_t msr, uint64_t *value)
{
    struct hyperv_partition *h = &vp->partition->hyperv;
    switch (msr) {
    case HV_X64_MSR_GUEST_OS_ID:
        *value = __atomic_load_n(&h->guest_os_id, __ATOMIC_ACQUIRE);
        return HYPERV_MSR_DONE;
    case HV_X64_MSR_HYPERCALL:
        *value = __atomic_load_n(&h->hypercall, __ATOMIC_ACQUIRE);
        return HYPERV_MSR_DONE;
    case HV_X64_MSR_VP_INDEX:
        *value = vp->index;
        return HYPERV_MSR_DONE;
    case HV_X64_MSR_VP_ASSIST_PAGE:
        *value = vp->index < HYPERV_MAX_VPS
                     ? __atomic_load_n(&h->vp_assist_page[vp->index], __ATOMIC_ACQUIRE)
                     : 0;
        return HYPERV_MSR_DONE;
    case HV_X64_MSR_TIME_REF_COUNT:
        *value = stimer_reference_time(vp);
        return HYPERV_MSR_DONE;
    case HV_X64_MSR_TSC_FREQUENCY:
        *value = hyperv_tsc_frequency_hz();
        return HYPERV_MSR_DONE;
    case HV_X64_MSR_APIC_FREQUENCY:
        *value = hyperv_apic_frequency_hz();
        return HYPERV_MSR_DONE;
    case HV_X64_MSR_REFERENCE_TSC:
        *value = __atomic_load_n(&h->reference_tsc, __ATOMIC_ACQUIRE);
        return HYPERV_MSR_DONE;
    default:
        /* The SynIC (0x40000080-0x4000009F) and the synthetic timers (0x400000B0-B7). */
        if (synic_msr_read(vp, msr, value) || stimer_msr_read(vp, msr, value))
            return HYPERV_MSR_DONE;
        return HYPERV_MSR_UNHANDLED;
    }
}

/* Fills the reference TSC page (TLFS 12.7) so that the guest's formula gives what
 * TIME_REF_COUNT reads. The child's TSC is the host's: its VMCB TSC offset is 0 (hv/svm),
 * and the page is written once because the scale never changes after boot calibration.
 * The sampling error of the offset is the time between the two clock reads (< 1 unit on
 * hardware, a few units under TCG). [h->lock] */
static bool write_reference_tsc_page(struct vp *vp, struct hyperv_partition *h, uint64_t page)
{
    struct partition *p = vp->partition;
    if (!guest_memory_accessible(p, page, PAGE_BYTES, true))
        return false;
    struct hv_reference_tsc_page contents = {0, 0, reference_tsc_scale(tsc_khz()), 0};
    if (contents.tsc_scale) {
        uint64_t before = time_now_ns();
        uint64_t tsc = rdtsc();
        uint64_t after = time_now_ns();
        uint64_t now_ns = before + (after - before) / 2;
        uint64_t reference = (now_ns - p->reference_time_base_ns) / 100u;
        contents.tsc_offset = reference_tsc_offset(tsc, reference, contents.tsc_scale);
        h->reference_tsc_sequence = reference_tsc_next_sequence(h->reference_tsc_sequence);
        contents.tsc_sequence = h->reference_tsc_sequence;
    }
    /* Sequence 0 first, then scale and offset, then the new sequence: a guest reading
     * meanwhile retries or falls back to the MSR (TLFS 12.7.2). */
    uint32_t invalid = 0;
    return guest_memory_write(p, page, &invalid, sizeof(invalid)) &&
           guest_memory_write(p, page + 8, (const uint8_t *)&contents + 8,
                              sizeof(contents) - 8) &&
           guest_memory_write(p, page, &contents.tsc_sequence, sizeof(contents.tsc_sequence));
}

static enum hyperv_msr_result write_reference_tsc(struct vp *vp, struct hyperv_partition *h,
                                                  uint64_t value)
{
    if (value & REFERENCE_TSC_RESERVED)
        return HYPERV_MSR_FAULT;
    spin_lock(&h->lock);
    bool ok = !(value & REFERENCE_TSC_ENABLE) ||
              write_reference_tsc_page(vp, h, value & PAGE_MASK);
    if (ok)
        __atomic_store_n(&h->reference_tsc, value, __ATOMIC_RELEASE);
    spin_unlock(&h->lock);
    if (!ok)
        log_debug("partition %lu VP %u: reference TSC page %lx is not the partition's own "
                  "RAM: #GP", vp->partition->id, vp->index, value & PAGE_MASK);
    return ok ? HYPERV_MSR_DONE : HYPERV_MSR_FAULT;
}

/* TLFS 3.13: while the guest OS ID is 0 the hypercall page cannot be enabled (the write is
 * ignored, as on Hyper-V and KVM); once locked, the MSR keeps its value until the
 * partition is reset, so a write that would change it is refused. [h->lock] */
static enum hyperv_msr_result write_hypercall(struct vp *vp, struct hyperv_partition *h,
                                              uint64_t value)
{
    struct partition *p = vp->partition;
    if (value & HYPERV_HYPERCALL_RESERVED) {
        log_debug("partition %lu VP %u: HYPERCALL MSR %lx sets reserved bits: #GP", p->id,
                  vp->index, value);
        return HYPERV_MSR_FAULT;
    }
    if (h->hypercall & HYPERV_HYPERCALL_LOCKED) {
        if (value == h->hypercall)
            return HYPERV_MSR_DONE;
        log_debug("partition %lu VP %u: HYPERCALL MSR is locked: #GP", p->id, vp->index);
        return HYPERV_MSR_FAULT;
    }
    if (h->guest_os_id == 0) {
        log_debug("partition %lu VP %u: HYPERCALL MSR written before GUEST_OS_ID: ignored",
                  p->id, vp->index);
        return HYPERV_MSR_DONE;
    }
    if ((value & HYPERV_HYPERCALL_ENABLE) && !write_hypercall_page(p, value & PAGE_MASK)) {
        log_debug("partition %lu VP %u: hypercall page %lx is not the partition's own RAM: "
                  "#GP", p->id, vp->index, value & PAGE_MASK);
        return HYPERV_MSR_FAULT;
    }
    __atomic_store_n(&h->hypercall, value, __ATOMIC_RELEASE);
    return HYPERV_MSR_DONE;
}

/* TLFS 7.8.7: the page the hypervisor may overlay with VP assist data. Nothing is put there
 * yet, so the guest's own zeroed page keeps the APIC assist bit clear; the page must still
 * be the partition's own RAM. */
static enum hyperv_msr_result write_vp_assist(struct vp *vp, struct hyperv_partition *h,
                                              uint64_t value)
{
    if (value & HYPERV_VP_ASSIST_RESERVED)
        return HYPERV_MSR_FAULT;
    if ((value & HYPERV_VP_ASSIST_ENABLE) &&
        !guest_memory_accessible(vp->partition, value & PAGE_MASK, PAGE_BYTES, true))
        return HYPERV_MSR_FAULT;
    if (vp->index >= HYPERV_MAX_VPS)
        return HYPERV_MSR_FAULT;
    __atomic_store_n(&h->vp_assist_page[vp->index], value, __ATOMIC_RELEASE);
    return HYPERV_MSR_DONE;
}

enum hyperv_msr_result hyperv_msr_write(struct vp *vp, uint32_t msr, uint64_t value)
{
    struct hyperv_partition *h = &vp->partition->hyperv;
    enum hyperv_msr_result result = HYPERV_MSR_DONE;
    switch (msr) {
    case HV_X64_MSR_GUEST_OS_ID:
        /* Any identity is accepted (TLFS 3.13 asks no particular encoding of non-Microsoft
         * guests); 0 disables the hypercall page again. */
        spin_lock(&h->lock);
        __atomic_store_n(&h->guest_os_id, value, __ATOMIC_RELEASE);
        if (value == 0 && !(h->hypercall & HYPERV_HYPERCALL_LOCKED))
            __atomic_store_n(&h->hypercall, h->hypercall & ~HYPERV_HYPERCALL_ENABLE,
                             __ATOMIC_RELEASE);
        spin_unlock(&h->lock);
        return HYPERV_MSR_DONE;
    case HV_X64_MSR_HYPERCALL:
        spin_lock(&h->lock);
        result = write_hypercall(vp, h, value);
        spin_unlock(&h->lock);
        return result;
    case HV_X64_MSR_VP_ASSIST_PAGE:
        return write_vp_assist(vp, h, value);
    case HV_X64_MSR_REFERENCE_TSC:
        return write_reference_tsc(vp, h, value);
    case HV_X64_MSR_VP_INDEX:
    case HV_X64_MSR_TIME_REF_COUNT:
    case HV_X64_MSR_TSC_FREQUENCY:
    case HV_X64_MSR_APIC_FREQUENCY:
        return HYPERV_MSR_FAULT; /* read-only */
    default:
        if (synic_msr_write(vp, msr, value) || stimer_msr_write(vp, msr, value))
            return HYPERV_MSR_DONE;
        return HYPERV_MSR_UNHANDLED;
    }
}

/* ---- hypercalls ------------------------------------------------------------------------- */

#define SEGMENT_DPL_SHIFT 5 /* vendor attribute packing: type[3:0] S DPL[1:0] P */

bool hyperv_hypercall_allowed(struct vp *vp)
{
    if (__atomic_load_n(&vp->partition->hyperv.guest_os_id, __ATOMIC_ACQUIRE) == 0)
        return false;
    if (hv_vendor->vp_cpu_mode(vp) == VP_CPU_MODE_REAL)
        return false;
    struct vp_segment_value ss;
    hv_vendor->vp_get_segment(vp, VP_SEGMENT_SS, &ss);
    return ((ss.attributes >> SEGMENT_DPL_SHIFT) & 3) == 0; /* CPL = SS.DPL */
}
