#include "hv/exit.h"

#include "hv/partition.h"
#include "hv/vendor.h"
#include "kernel/log.h"

#define VECTOR_UD 6

typedef enum exit_action (*exit_handler_fn)(struct vp *vp, struct hv_exit *exit);

static const char *const reason_names[HV_EXIT_REASON_COUNT] = {
    [HV_EXIT_NONE] = "none",
    [HV_EXIT_EXTERNAL_INTERRUPT] = "external-interrupt",
    [HV_EXIT_NMI] = "nmi",
    [HV_EXIT_IO] = "io",
    [HV_EXIT_MSR_READ] = "msr-read",
    [HV_EXIT_MSR_WRITE] = "msr-write",
    [HV_EXIT_CPUID] = "cpuid",
    [HV_EXIT_HLT] = "hlt",
    [HV_EXIT_HYPERCALL] = "hypercall",
    [HV_EXIT_SLAT_VIOLATION] = "slat-violation",
    [HV_EXIT_EXCEPTION] = "exception",
    [HV_EXIT_TRIPLE_FAULT] = "triple-fault",
    [HV_EXIT_VIRTUALIZATION_INSTRUCTION] = "virtualization-instruction",
    [HV_EXIT_INVALID_STATE] = "invalid-state",
    [HV_EXIT_UNKNOWN] = "unknown",
    [HV_EXIT_INTERRUPT_WINDOW] = "interrupt-window",
};

const char *hv_exit_reason_name(enum hv_exit_reason reason)
{
    return reason < HV_EXIT_REASON_COUNT && reason_names[reason] ? reason_names[reason] : "?";
}

/* The physical interrupt is taken by the host once the world switch sets GIF again. */
static enum exit_action handle_external_interrupt(struct vp *vp, struct hv_exit *exit)
{
    (void)vp;
    (void)exit;
    return EXIT_RESUME;
}

/* VMRUN, VMLOAD, VMSAVE, CLGI, STGI, SKINIT, INVLPGA, XSETBV: no partition may use them;
 * they raise #UD as on a CPU without the feature. */
static enum exit_action handle_virtualization_instruction(struct vp *vp, struct hv_exit *exit)
{
    log_debug("partition %lu VP %u: %s at rip %lx: #UD", vp->partition->id, vp->index,
              hv_exit_reason_name(exit->reason), exit->rip);
    hv_vendor->vp_inject_exception(vp, VECTOR_UD, false, 0);
    return EXIT_RESUME;
}

static enum exit_action handle_triple_fault(struct vp *vp, struct hv_exit *exit)
{
    log_warn("partition %lu (%s) VP %u: triple fault at rip %lx", vp->partition->id,
             vp->partition->name, vp->index, exit->rip);
    partition_stop(vp->partition, "triple-fault");
    return EXIT_STOP;
}

/* The CPU refused the state we gave it: our bug, but one partition's, so only it stops. */
static enum exit_action handle_invalid_state(struct vp *vp, struct hv_exit *exit)
{
    log_error("partition %lu VP %u: the CPU refused the guest state (exit code %lx) at rip %lx",
              vp->partition->id, vp->index, exit->raw_code, exit->rip);
    partition_stop(vp->partition, "error");
    return EXIT_STOP;
}

static enum exit_action forward_to_partition(struct vp *vp, struct hv_exit *exit)
{
    struct partition *p = vp->partition;
    if (p->intercept)
        return p->intercept(vp, exit);
    log_warn("partition %lu VP %u: unhandled %s exit at rip %lx (code %lx info %lx/%lx)", p->id,
             vp->index, hv_exit_reason_name(exit->reason), exit->rip, exit->raw_code,
             exit->raw_info1, exit->raw_info2);
    partition_stop(p, "error");
    return EXIT_STOP;
}

static const exit_handler_fn exit_handlers[HV_EXIT_REASON_COUNT] = {
    [HV_EXIT_EXTERNAL_INTERRUPT] = handle_external_interrupt,
    [HV_EXIT_NMI] = handle_external_interrupt,
    /* The vendor backend dropped its window request; the next entry injects (vlapic). */
    [HV_EXIT_INTERRUPT_WINDOW] = handle_external_interrupt,
    [HV_EXIT_IO] = forward_to_partition,
    [HV_EXIT_MSR_READ] = forward_to_partition,
    [HV_EXIT_MSR_WRITE] = forward_to_partition,
    [HV_EXIT_CPUID] = forward_to_partition,
    [HV_EXIT_HLT] = forward_to_partition,
    [HV_EXIT_HYPERCALL] = forward_to_partition,
    [HV_EXIT_SLAT_VIOLATION] = forward_to_partition,
    [HV_EXIT_EXCEPTION] = forward_to_partition,
    [HV_EXIT_TRIPLE_FAULT] = handle_triple_fault,
    [HV_EXIT_VIRTUALIZATION_INSTRUCTION] = handle_virtualization_instruction,
    [HV_EXIT_INVALID_STATE] = handle_invalid_state,
    [HV_EXIT_UNKNOWN] = forward_to_partition,
};

enum exit_action hv_exit_dispatch(struct vp *vp, struct hv_exit *exit)
{
    exit_handler_fn handler = exit->reason < HV_EXIT_REASON_COUNT ? exit_handlers[exit->reason]
                                                                  : NULL;
    if (!handler)
        return forward_to_partition(vp, exit);
    return handler(vp, exit);
}
