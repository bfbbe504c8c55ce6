/*
 * root_entry: where every root VP starts (hv/root_abi.h): 64-bit mode, paging on, RDI =
 * the root boot info, RSI = VP index, RSP = this VP's stack. Interrupts are off and stay
 * off: the root waits with HLT and the hypervisor wakes it.
 */
    .text
    .globl root_entry
    .type root_entry, @function
root_entry:
    andq $~0xF, %rsp
    xorl %ebp, %ebp             /* ends the root's stack traces */
    call root_start
1:  hlt
    jmp 1b
    .size root_entry, . - root_entry
    .section .note.GNU-stack, "", @progbits
