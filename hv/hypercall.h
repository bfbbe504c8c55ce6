/*
 * The hypercall dispatcher (TLFS 3 "Hypercall Interface"): reads the control word and the
 * input/output GPAs from the caller's registers in its CPU mode's convention, validates them
 * (hv/hypercall_abi.c), copies the input into hypervisor memory, runs the call, copies the
 * output back and returns the result value. A bad call gets its TLFS status, never a crash.
 */
#ifndef HVFW_HV_HYPERCALL_H
#define HVFW_HV_HYPERCALL_H

#include <stdint.h>

#include "hv/exit.h"
#include "hv/hypercall_abi.h"

struct vp;

/* What a handler sees: the validated layout, the input copied into hypervisor memory
 * (fast calls: RDX then R8), an output buffer the dispatcher copies back on return. */
struct hypercall_context {
    struct vp *caller;
    const struct hypercall_control *control;
    const struct hypercall_layout *layout;
    const uint8_t *input;
    uint8_t *output;
    uint32_t reps_done; /* rep calls: how many elements the handler completed */
};

typedef enum hv_status (*hypercall_handler_fn)(struct hypercall_context *call);

/* The handler for a VMMCALL exit: never fails, always resumes the caller (with a status). */
enum exit_action hypercall_handle(struct vp *vp, struct hv_exit *exit);

#endif
