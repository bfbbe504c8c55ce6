/*
 * images/guests/synictest/interrupts.S: the interrupt entries of synictest. Each counts its
 * interrupt and signals EOI through the x2APIC EOI MSR (0x80B, Intel SDM vol. 3, 11.12.1
 * and Table 11-6): SynIC interrupts are ordinary fixed interrupts when auto-EOI is off
 * (TLFS 11.8.4), and the hypervisor advertises "deprecate AutoEOI". The spurious vector
 * gets no EOI (SDM vol. 3, 11.9).
 */
    .text
    .code32

.macro counting_entry name, counter
    .globl \name
\name:
    pushal
    lock incl \counter
    movl $0x80B, %ecx
    xorl %eax, %eax
    xorl %edx, %edx
    wrmsr
    popal
    iret
.endm

counting_entry synictest_sint_entry, synictest_sint_interrupts
counting_entry synictest_direct_entry, synictest_direct_interrupts

    .globl synictest_spurious_entry
synictest_spurious_entry:
    iret
