/*
 * A virtual processor: the state generic code owns (general registers, statistics) plus an
 * opaque pointer to the vendor backend's state (the VMCB on SVM).
 */
#ifndef HVFW_HV_VP_H
#define HVFW_HV_VP_H

#include <stdint.h>

#include "hv/exit.h"

struct partition;

/* General registers the hardware does not save on a world switch. RAX and RSP live in the
 * VMCB on SVM; the backend moves RAX between the two around each run so that generic
 * code always sees it here. Order is fixed: hv/svm/svm_entry.S indexes it. */
struct vp_registers {
    uint64_t rax, rbx, rcx, rdx, rsi, rdi, rbp;
    uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
};

enum vp_state {
    VP_STATE_RUNNABLE,
    VP_STATE_HALTED,
    VP_STATE_STOPPED,
};

struct vp_statistics {
    uint64_t exits[HV_EXIT_REASON_COUNT];
    uint64_t runs;
};

struct vp {
    struct partition *partition;
    uint32_t index;
    enum vp_state state;
    struct vp_registers registers;
    struct vp_statistics statistics;
    void *vendor; /* owned by the vendor backend */
};

#endif
