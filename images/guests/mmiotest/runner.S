/*
 * images/guests/mmiotest/runner.S:
 *   void mmio_case_run(struct mmio_registers *regs, void (*op)(void));
 * Loads EAX..EBP and EFLAGS from *regs, calls op, stores them back (EFLAGS as op left
 * them, before our CLD). Offsets follow struct mmio_registers in mmiotest.h.
 */
#define REG_EAX 0
#define REG_EBX 4
#define REG_ECX 8
#define REG_EDX 12
#define REG_ESI 16
#define REG_EDI 20
#define REG_EBP 24
#define REG_EFLAGS 28

    .text
    .code32
    .globl mmio_case_run
mmio_case_run:
    pushl %ebp
    pushl %ebx
    pushl %esi
    pushl %edi
    movl 20(%esp), %eax                   /* regs */
    movl 24(%esp), %ecx                   /* op */
    pushl %eax                            /* kept for after the call */
    pushl %ecx
    pushl REG_EFLAGS(%eax)
    popfl
    movl REG_EBX(%eax), %ebx
    movl REG_ECX(%eax), %ecx
    movl REG_EDX(%eax), %edx
    movl REG_ESI(%eax), %esi
    movl REG_EDI(%eax), %edi
    movl REG_EBP(%eax), %ebp
    movl REG_EAX(%eax), %eax
    call *(%esp)
    pushfl
    pushl %eax
    movl 12(%esp), %eax                   /* regs: above saved EAX, EFLAGS and op */
    popl REG_EAX(%eax)
    popl REG_EFLAGS(%eax)
    movl %ebx, REG_EBX(%eax)
    movl %ecx, REG_ECX(%eax)
    movl %edx, REG_EDX(%eax)
    movl %esi, REG_ESI(%eax)
    movl %edi, REG_EDI(%eax)
    movl %ebp, REG_EBP(%eax)
    cld
    addl $8, %esp                         /* op, regs */
    popl %edi
    popl %esi
    popl %ebx
    popl %ebp
    ret
