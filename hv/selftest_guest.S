/*
 * The guest code of hv_selftest (hv/hv.c), copied to GPA 0x1000 of a throw-away partition
 * and entered in 32-bit protected mode. Each instruction causes one exit the self-test
 * checks, in this order.
 */
    .section .rodata
    .globl selftest_guest_start, selftest_guest_end
    .code32
selftest_guest_start:
    movw $0x3F8, %dx
    movb $'O', %al
    outb %al, %dx               /* io exit, port 0x3F8 */
    movb $'K', %al
    outb %al, %dx               /* io exit */
    movl 0x00800000, %eax       /* slat violation: GPA 8 MiB is not mapped */
    movl %eax, %ebx
    movl $0x1234, %ecx
    vmmcall                     /* hypercall exit: EBX = what the load returned */
    movl %eax, %esi
    clgi                        /* forbidden: #UD, and with no IDT a triple fault. (Not
                                 * VMRUN: QEMU TCG raises its #UD without the intercept.) */
    hlt
selftest_guest_end:
    .code64
    .section .note.GNU-stack, "", @progbits
