/*
 * images/guests/apictest/vectors.S: entry points for the interrupt vectors 32-255 of the
 * apictest guest, and the real-mode trampoline a Start-up IPI runs.
 *
 * Each vector's stub is 16 bytes at apictest_vector_stubs + (vector - 32) * 16; it pushes
 * the vector and calls apictest_interrupt(vector) with the registers saved (the frame of a
 * same-privilege interrupt has no error code: Intel SDM vol. 3, 6.12.1).
 */
    .text
    .code32
    .globl apictest_vector_stubs
    .balign 16
apictest_vector_stubs:
    .set vector, 32
    .rept 224
    .balign 16
    pushl $vector
    jmp vector_common
    .set vector, vector + 1
    .endr

vector_common:
    pushal
    cld
    pushl 32(%esp)                        /* the vector, above the 8 saved registers */
    call apictest_interrupt
    addl $4, %esp
    popal
    addl $4, %esp                         /* the vector */
    iret

/*
 * The Start-up IPI's code, copied below 1 MiB by VP 0. A Start-up IPI with vector V starts
 * the VP in real mode at CS = V << 8 (base V << 12), IP = 0 (SDM vol. 3, 9.4.4.1), so the
 * code addresses its data relative to CS. It records that it ran and with which CS, then
 * halts with interrupts off.
 */
    .section .rodata
    .globl apictest_trampoline, apictest_trampoline_end
    .globl apictest_trampoline_count, apictest_trampoline_cs
    .code16
apictest_trampoline:
    cli
    movw %cs, %ax
    movw %ax, %ds
    movw %ax, apictest_trampoline_cs - apictest_trampoline
    lock incl apictest_trampoline_count - apictest_trampoline
1:  hlt
    jmp 1b
    .balign 4
apictest_trampoline_count:
    .long 0
apictest_trampoline_cs:
    .word 0
apictest_trampoline_end:
    .code32
    .section .note.GNU-stack, "", @progbits
