#include "hv/hv.h"

#include <stddef.h>
#include <string.h>

#include "hv/partition.h"
#include "hv/svm/svm.h"
#include "hv/vendor.h"
#include "kernel/log.h"
#include "kernel/page_alloc.h"
#include "kernel/page_pool.h"
#include "libc-glue/decoder.h"

const struct hv_vendor_ops *hv_vendor;

bool hv_init(void)
{
    /* hv/vmx/ joins this list when the Intel backend lands. */
    static const struct hv_vendor_ops *const candidates[] = {&svm_vendor_ops};
    char why[96];
    for (size_t i = 0; i < sizeof(candidates) / sizeof(candidates[0]); i++) {
        if (!candidates[i]->probe(why, sizeof(why))) {
            log_warn("hv: %s unusable: %s", candidates[i]->name, why);
            continue;
        }
        hv_vendor = candidates[i];
        if (!hv_cpu_enable()) {
            log_error("hv: cannot enable %s on the boot CPU (out of memory)", hv_vendor->name);
            hv_vendor = NULL;
            return false;
        }
        log_info("hv: using %s", hv_vendor->name);
        return true;
    }
    log_error("hv: no usable hardware virtualization: partitions cannot run");
    return false;
}

bool hv_cpu_enable(void)
{
    return hv_vendor && hv_vendor->cpu_enable();
}

/* --- the self-test ------------------------------------------------------------------- */

extern const uint8_t selftest_guest_start[], selftest_guest_end[];

#define SELFTEST_MEMORY_ORDER 4 /* 64 KiB of guest RAM at GPA 0, one contiguous block */
#define SELFTEST_CODE_GPA 0x1000u
#define SELFTEST_UNMAPPED_GPA 0x800000u
#define SELFTEST_LOAD_VALUE 0x5A5A5A5Au

struct selftest_state {
    uint64_t memory_hpa;
    char output[8];
    unsigned output_length;
    bool saw_slat_violation;
    bool saw_hypercall;
    uint64_t hypercall_rbx, hypercall_rcx;
    const char *failure;
};

static void advance_rip(struct vp *vp, uint8_t length)
{
    hv_vendor->vp_set(vp, VP_REGISTER_RIP, hv_vendor->vp_get(vp, VP_REGISTER_RIP) + length);
}

static enum exit_action selftest_fail(struct vp *vp, struct selftest_state *st,
                                      const char *why)
{
    st->failure = why;
    partition_stop(vp->partition, "error");
    return EXIT_STOP;
}

/* Emulates the guest's load from an unmapped GPA the way the root's MMIO emulation will:
 * find the instruction through the partition's own translation, decode it for its length. */
static enum exit_action selftest_slat_violation(struct vp *vp, struct hv_exit *exit,
                                                struct selftest_state *st)
{
    if (exit->slat.gpa != SELFTEST_UNMAPPED_GPA || !exit->slat.read || exit->slat.present)
        return selftest_fail(vp, st, "unexpected slat violation");
    /* The guest's RAM is one contiguous host block, so the bytes at RIP can be read
     * straight from it up to its end. */
    uint64_t memory_size = PAGE_SIZE << SELFTEST_MEMORY_ORDER;
    if (exit->rip >= memory_size)
        return selftest_fail(vp, st, "faulting RIP not in guest memory");
    size_t available = memory_size - exit->rip < 15 ? (size_t)(memory_size - exit->rip) : 15;
    struct decoded_insn insn;
    if (!decoder_decode((const void *)(uintptr_t)(st->memory_hpa + exit->rip), available,
                        DECODER_MODE_32, exit->rip, &insn))
        return selftest_fail(vp, st, "cannot decode the faulting instruction");
    if (insn.length != 5)
        return selftest_fail(vp, st, "decoded length of mov eax, [moffs32] is not 5");
    vp->registers.rax = SELFTEST_LOAD_VALUE;
    st->saw_slat_violation = true;
    advance_rip(vp, insn.length);
    return EXIT_RESUME;
}

static enum exit_action selftest_intercept(struct vp *vp, struct hv_exit *exit)
{
    struct selftest_state *st = vp->partition->owner;
    switch (exit->reason) {
    case HV_EXIT_IO:
        if (exit->io.port != 0x3F8 || exit->io.in || exit->io.size != 1 ||
            exit->instruction_length != 1)
            return selftest_fail(vp, st, "unexpected port I/O exit");
        if (st->output_length < sizeof(st->output) - 1)
            st->output[st->output_length++] = (char)vp->registers.rax;
        advance_rip(vp, exit->instruction_length);
        return EXIT_RESUME;
    case HV_EXIT_SLAT_VIOLATION:
        return selftest_slat_violation(vp, exit, st);
    case HV_EXIT_HYPERCALL:
        st->saw_hypercall = true;
        st->hypercall_rbx = vp->registers.rbx;
        st->hypercall_rcx = vp->registers.rcx;
        vp->registers.rax = vp->registers.rbx + 1;
        advance_rip(vp, exit->instruction_length);
        return EXIT_RESUME;
    default:
        return selftest_fail(vp, st, hv_exit_reason_name(exit->reason));
    }
}

static const char *selftest_check(const struct partition *p, const struct selftest_state *st)
{
    if (st->failure)
        return st->failure;
    if (strcmp(st->output, "OK") != 0)
        return "port output is not \"OK\"";
    if (!st->saw_slat_violation)
        return "no slat violation for the unmapped GPA";
    if (!st->saw_hypercall || st->hypercall_rbx != SELFTEST_LOAD_VALUE ||
        st->hypercall_rcx != 0x1234)
        return "hypercall missing or registers not carried";
    if (!p->stop_reason || strcmp(p->stop_reason, "triple-fault") != 0)
        return "CLGI in the guest did not end in #UD and a triple fault";
    if (p->statistics.exits_by_reason[HV_EXIT_VIRTUALIZATION_INSTRUCTION] != 1)
        return "CLGI exit not counted once";
    return NULL;
}

bool hv_selftest(void)
{
    if (!hv_vendor) {
        log_error("selftest: hv-guest: FAILED: no hardware virtualization");
        return false;
    }
    struct selftest_state st;
    memset(&st, 0, sizeof(st));
    const char *failure = NULL;
    struct partition *p = partition_create("selftest", selftest_intercept, &st);
    st.memory_hpa = page_alloc_zeroed(SELFTEST_MEMORY_ORDER);
    size_t code_size = (size_t)(selftest_guest_end - selftest_guest_start);
    uint64_t memory_size = PAGE_SIZE << SELFTEST_MEMORY_ORDER;
    struct vp_start_state start = {
        .mode = VP_START_PROTECTED_32, .entry = SELFTEST_CODE_GPA, .rsp = 0x8000};
    if (!p || !st.memory_hpa) {
        failure = "out of memory";
    } else {
        memcpy((void *)(uintptr_t)(st.memory_hpa + SELFTEST_CODE_GPA), selftest_guest_start,
               code_size);
        if (!partition_map(p, 0, st.memory_hpa, memory_size,
                           SLAT_READ | SLAT_WRITE | SLAT_EXECUTE))
            failure = "cannot map guest memory";
    }
    struct vp *vp = failure ? NULL : partition_create_vp(p, &start);
    if (!failure && !vp)
        failure = "cannot create the VP";
    if (!failure) {
        partition_run_vp(vp);
        failure = selftest_check(p, &st);
    }
    uint64_t exits = p ? p->statistics.exits : 0;
    if (p)
        partition_destroy(p);
    if (st.memory_hpa)
        page_free(st.memory_hpa, SELFTEST_MEMORY_ORDER);
    if (failure) {
        log_error("selftest: hv-guest: FAILED: %s", failure);
        return false;
    }
    log_info("selftest: hv-guest: ok exits=%lu (io, slat-violation, hypercall, #UD, "
             "triple-fault)", exits);
    return true;
}
