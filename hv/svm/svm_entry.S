/*
 * The SVM world switch (AMD APM vol. 2, 15.5 "VMRUN Instruction", 15.6 "#VMEXIT").
 *
 * void svm_world_switch(uint64_t vmcb_pa, uint64_t host_vmcb_pa, struct vp_registers *regs)
 *
 * VMRUN saves and restores only part of the host state (RSP, RIP, RAX, segment registers
 * CS/SS/DS/ES, CRs, EFER, RFLAGS in the host save area). FS, GS, TR, LDTR, KernelGSBase,
 * STAR/LSTAR/CSTAR/SFMASK and SYSENTER_* are not switched: VMSAVE/VMLOAD move them, so the
 * host's (its GS base is per-CPU data) are saved to a per-CPU host VMCB around the run.
 * GIF is clear from CLGI to STGI so no interrupt or NMI sees the half-switched state.
 * struct vp_registers layout: rax 0, rbx 8, rcx 16, rdx 24, rsi 32, rdi 40, rbp 48,
 * r8 56 ... r15 112 (hv/vp.h). RAX itself travels in the VMCB.
 */
    .text
    .globl svm_world_switch
    .type svm_world_switch, @function
svm_world_switch:
    pushq %rbp
    pushq %rbx
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    pushq %rsi                  /* host VMCB (for VMLOAD after the exit) */
    pushq %rdx                  /* guest registers */

    clgi
    /* With V_INTR_MASKING the host's IF at VMRUN decides whether physical interrupts
     * exit the guest (APM 15.21.1); set it while GIF holds them, so one that arrived
     * since the caller disabled interrupts is not lost but exits the guest at once. */
    sti
    movq %rsi, %rax
    vmsave %rax                 /* host FS/GS/TR/LDTR/syscall MSRs */
    movq %rdi, %rax
    vmload %rax

    movq 8(%rdx), %rbx
    movq 16(%rdx), %rcx
    movq 32(%rdx), %rsi
    movq 40(%rdx), %rdi
    movq 48(%rdx), %rbp
    movq 56(%rdx), %r8
    movq 64(%rdx), %r9
    movq 72(%rdx), %r10
    movq 80(%rdx), %r11
    movq 88(%rdx), %r12
    movq 96(%rdx), %r13
    movq 104(%rdx), %r14
    movq 112(%rdx), %r15
    movq 24(%rdx), %rdx

    vmrun %rax                  /* RAX = this VP's VMCB, restored by #VMEXIT */
    vmsave %rax

    movq (%rsp), %rax           /* guest registers */
    movq %rbx, 8(%rax)
    movq %rcx, 16(%rax)
    movq %rdx, 24(%rax)
    movq %rsi, 32(%rax)
    movq %rdi, 40(%rax)
    movq %rbp, 48(%rax)
    movq %r8, 56(%rax)
    movq %r9, 64(%rax)
    movq %r10, 72(%rax)
    movq %r11, 80(%rax)
    movq %r12, 88(%rax)
    movq %r13, 96(%rax)
    movq %r14, 104(%rax)
    movq %r15, 112(%rax)

    addq $8, %rsp
    popq %rax                   /* host VMCB */
    vmload %rax
    stgi

    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %rbx
    popq %rbp
    ret
    .size svm_world_switch, . - svm_world_switch
    .section .note.GNU-stack, "", @progbits
