/*
 * Interrupts and exceptions: the IDT and per-CPU GDT/TSS (kernel/cpu_tables.c), the entry
 * stubs (kernel/trap_entry.S), dispatch to registered handlers, and the fault report.
 *
 * An exception (vector 0-31) with no registered handler is fatal: the report gives the
 * vector, error code, registers, control registers, the faulting instruction decoded by
 * Zydis (libc-glue/decoder.h) and a frame-pointer stack trace, then kernel_stop(). A fault
 * while the report is being made on the same CPU stops that CPU with a one-line message
 * instead of recursing.
 */
#ifndef HVFW_KERNEL_TRAP_H
#define HVFW_KERNEL_TRAP_H

#include <stdint.h>

/* Exception vectors (Intel SDM vol. 3, 6.3.1, Table 6-1; AMD APM vol. 2, 8.2). */
enum trap_vector {
    TRAP_DIVIDE_ERROR = 0,
    TRAP_DEBUG = 1,
    TRAP_NMI = 2,
    TRAP_BREAKPOINT = 3,
    TRAP_OVERFLOW = 4,
    TRAP_BOUND_RANGE = 5,
    TRAP_INVALID_OPCODE = 6,
    TRAP_DEVICE_NOT_AVAILABLE = 7,
    TRAP_DOUBLE_FAULT = 8,
    TRAP_INVALID_TSS = 10,
    TRAP_SEGMENT_NOT_PRESENT = 11,
    TRAP_STACK_FAULT = 12,
    TRAP_GENERAL_PROTECTION = 13,
    TRAP_PAGE_FAULT = 14,
    TRAP_X87_FLOATING_POINT = 16,
    TRAP_ALIGNMENT_CHECK = 17,
    TRAP_MACHINE_CHECK = 18,
    TRAP_SIMD_FLOATING_POINT = 19,
    TRAP_VIRTUALIZATION = 20,
    TRAP_CONTROL_PROTECTION = 21,
    TRAP_HYPERVISOR_INJECTION = 28,
    TRAP_VMM_COMMUNICATION = 29,
    TRAP_SECURITY = 30,
    TRAP_FIRST_EXTERNAL = 32, /* first vector free for interrupts and IPIs */
};

/* What trap_entry.S saves: the general registers, then the vector and error code (0 when
 * the CPU pushes none), then the CPU's own frame (Intel SDM vol. 3, 6.14.2, Figure 6-9).
 * Handlers may change it; iretq resumes with the changed values. */
struct trap_frame {
    uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
    uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
    uint64_t vector;
    uint64_t error_code;
    uint64_t rip, cs, rflags, rsp, ss;
};

typedef void (*trap_handler_fn)(struct trap_frame *frame);

/* Bootstrap processor, once, after percpu_install(0): builds the IDT, loads this CPU's
 * GDT/TSS and the IDT. */
void trap_init(void);
/* An application processor, after percpu_install(): loads its own GDT/TSS and the IDT. */
void trap_init_this_cpu(void);
/* Registers fn for vector (NULL removes it); meant for interrupt and IPI vectors >= 32,
 * but an exception vector may be claimed too (its handler then replaces the fault report).
 * Handlers run with interrupts disabled, on the interrupted stack (or the IST stack for
 * #DF, NMI and #MC). */
void trap_set_handler(uint8_t vector, trap_handler_fn fn);

/* "#PF", "#GP", ...; "IRQ" for vectors >= 32, "#??" for reserved ones. */
const char *trap_vector_name(uint64_t vector);

/* Test only (`test.fault=KIND`): raises an exception on purpose so the QEMU tests can
 * check the fault report. ud, pf, gp, de: that exception; rip: a call to unmapped memory
 * (the instruction is unreadable); df: a #DF on its IST stack; nested: a second fault
 * inside the report; bp: int3 with a registered handler, which returns (boot goes on).
 * An unknown kind is logged and ignored. */
void trap_run_test_fault(const char *kind);

/* Called by trap_entry.S only. */
void trap_dispatch(struct trap_frame *frame);

#endif
