/*
 * The arch-neutral exit: what the vendor backend (hv/svm/, hv/vmx/) reports after a VP
 * stops running. Generic code dispatches on `reason` through one handler table
 * (hv/exit.c) and counts each reason per VP.
 */
#ifndef HVFW_HV_EXIT_H
#define HVFW_HV_EXIT_H

#include <stdbool.h>
#include <stdint.h>

enum hv_exit_reason {
    HV_EXIT_NONE = 0,
    HV_EXIT_EXTERNAL_INTERRUPT, /* a physical interrupt arrived while the guest ran */
    HV_EXIT_NMI,
    HV_EXIT_IO,                 /* IN/OUT/INS/OUTS */
    HV_EXIT_MSR_READ,
    HV_EXIT_MSR_WRITE,
    HV_EXIT_CPUID,
    HV_EXIT_HLT,
    HV_EXIT_HYPERCALL,          /* VMMCALL / VMCALL */
    HV_EXIT_SLAT_VIOLATION,     /* nested/extended page fault: unmapped or protected GPA */
    HV_EXIT_EXCEPTION,          /* an intercepted guest exception */
    HV_EXIT_TRIPLE_FAULT,       /* SVM shutdown / VMX triple fault */
    HV_EXIT_VIRTUALIZATION_INSTRUCTION, /* VMRUN, VMLOAD, ... from the guest: gets #UD */
    HV_EXIT_INVALID_STATE,      /* the CPU refused the guest state: a hypervisor bug */
    HV_EXIT_UNKNOWN,            /* a raw exit code the backend does not normalize */
    HV_EXIT_INTERRUPT_WINDOW,   /* the guest can take the interrupt it was asked to wait for */
    HV_EXIT_REASON_COUNT,
};

struct hv_exit_io {
    uint16_t port;
    uint8_t size;   /* 1, 2 or 4 bytes */
    bool in;
    bool string;
    bool rep;
};

struct hv_exit_msr {
    uint32_t index;
    uint64_t value; /* the value written (MSR_WRITE) */
};

struct hv_exit_slat {
    uint64_t gpa;
    bool read, write, execute;
    bool present; /* the GPA is mapped but the access broke its permissions */
};

struct hv_exit_exception {
    uint8_t vector;
    bool has_error_code;
    uint32_t error_code;
};

struct hv_exit {
    enum hv_exit_reason reason;
    uint64_t rip;              /* of the instruction that exited */
    uint8_t instruction_length; /* 0 when the hardware did not say (decode it) */
    uint64_t raw_code;         /* the vendor's own exit code, for reports */
    uint64_t raw_info1, raw_info2;
    union {
        struct hv_exit_io io;
        struct hv_exit_msr msr;
        struct hv_exit_slat slat;
        struct hv_exit_exception exception;
        uint32_t cpuid_leaf;
    };
};

enum exit_action {
    EXIT_RESUME, /* run the VP again */
    EXIT_STOP,   /* the VP stops (its partition's `stop_reason` says why) */
};

struct vp;

const char *hv_exit_reason_name(enum hv_exit_reason reason);
/* Handles an exit through the handler table: the hypervisor's own handlers first, the
 * partition's intercept handler for what it forwards. */
enum exit_action hv_exit_dispatch(struct vp *vp, struct hv_exit *exit);

#endif
