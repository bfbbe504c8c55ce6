/*
 * kernel/trap_entry.S: the 256 interrupt and exception entry points.
 *
 * On entry in 64-bit mode the CPU has aligned RSP to 16 bytes and pushed SS, RSP, RFLAGS,
 * CS, RIP and, for some exceptions only, an error code (Intel SDM vol. 3, 6.14.2 "64-Bit
 * Mode Stack Frame"). Each stub pushes a dummy error code where the CPU pushes none, so
 * every frame has the same shape, then its vector number, and jumps to trap_common, which
 * saves the general registers as a `struct trap_frame` (kernel/trap.h) and calls
 * trap_dispatch. The hypervisor is built with -mgeneral-regs-only, so no FPU/SSE state
 * needs saving here.
 *
 * Vectors with an error code: 8 #DF, 10 #TS, 11 #NP, 12 #SS, 13 #GP, 14 #PF, 17 #AC,
 * 21 #CP, 29 #VC, 30 #SX (AMD APM vol. 2, 8.2 "Vectors", Table 8-1; Intel SDM vol. 3,
 * 6.15 "Exception and Interrupt Reference"). External interrupts never push one.
 */
#define ERROR_CODE_VECTORS ((1 << 8) | (1 << 10) | (1 << 11) | (1 << 12) | (1 << 13) | \
                            (1 << 14) | (1 << 17) | (1 << 21) | (1 << 29) | (1 << 30))

    /* trap_entry_table[v] = the address of vector v's stub, for the IDT (kernel/trap.c).
     * Each stub appends its own entry below, so the table follows the stubs' order. */
    .section .rodata
    .balign 8
    .globl trap_entry_table
trap_entry_table:

    .section .text
    .balign 16
    .set vector, 0
    .rept 256
    .balign 16
1:
    .if vector < 32
    .if ((ERROR_CODE_VECTORS >> vector) & 1) == 0
    pushq $0
    .endif
    .else
    pushq $0
    .endif
    pushq $vector
    jmp trap_common
    .pushsection .rodata
    .quad 1b
    .popsection
    .set vector, vector + 1
    .endr

    .balign 16
trap_common:
    /* struct trap_frame: r15 lowest, rax just below the vector. */
    pushq %rax
    pushq %rbx
    pushq %rcx
    pushq %rdx
    pushq %rsi
    pushq %rdi
    pushq %rbp
    pushq %r8
    pushq %r9
    pushq %r10
    pushq %r11
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    cld                         /* the C ABI expects DF clear */
    movq %rsp, %rdi
    /* 5 hardware words + error code + vector + 15 registers = 22 words: RSP is still
     * 16-byte aligned, as the call requires. */
    call trap_dispatch
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %r11
    popq %r10
    popq %r9
    popq %r8
    popq %rbp
    popq %rdi
    popq %rsi
    popq %rdx
    popq %rcx
    popq %rbx
    popq %rax
    addq $16, %rsp              /* vector and error code */
    iretq

    .section .note.GNU-stack, "", @progbits
