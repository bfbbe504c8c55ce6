/*
 * kernel/ap_trampoline.S: how an application processor gets from the STARTUP IPI to C.
 *
 * A STARTUP IPI starts the AP in real mode at CS = vector << 8, IP = 0 (Intel SDM vol. 3,
 * 9.4.4.1 "Typical BSP Initialization Sequence"; AMD APM vol. 2, 15.27.8 / 16.5). Only the
 * 16-bit part below must live below 1 MiB: kernel/smp.c copies the .ap_trampoline section
 * to a page there. It uses no absolute address inside itself (DS = CS, and the only
 * reference into the copy is CS-relative), so it runs wherever it is copied. It loads a GDT
 * that lives in the image and jumps straight to 32-bit code in the image (flat segments,
 * paging off, so the copy's page never needs to be executable).
 *
 * The 32-bit part enables long mode like boot.S does (APM vol. 2, 14.6), with the boot page
 * tables `boot_pml4`, which lie below 4 GiB and identity-map the image; the 64-bit part
 * then switches to the kernel's final page tables (smp_ap_cr3, which may be above 4 GiB),
 * finds this CPU's slot by its APIC ID and calls smp_ap_main(index) on its own stack.
 */
#include "kernel/long_mode.h"


#define AP_CODE32 0x08
#define AP_DATA 0x10
#define AP_CODE64 0x18

    .section .ap_trampoline, "a"
    .code16
    .globl ap_trampoline_entry
ap_trampoline_entry:
    cli
    cld
    movw %cs, %ax
    movw %ax, %ds
    lgdtl (ap_gdt_pointer - ap_trampoline_entry)
    movl %cr0, %eax
    orl $CR0_PE, %eax
    movl %eax, %cr0
    ljmpl $AP_CODE32, $ap_protected_entry

    .balign 4
ap_gdt_pointer:                               /* 6-byte pseudo-descriptor, 32-bit base */
    .short ap_gdt_end - ap_gdt - 1
    .long ap_gdt

    .text
    .code32
ap_protected_entry:
    movw $AP_DATA, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %ss
    movw %ax, %fs
    movw %ax, %gs
    LONG_MODE_ENABLE
    ljmpl $AP_CODE64, $ap_long_mode_entry

    .code64
ap_long_mode_entry:
    movw $AP_DATA, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %ss
    xorw %ax, %ax
    movw %ax, %fs
    movw %ax, %gs
    movq smp_ap_cr3(%rip), %rax
    movq %rax, %cr3

    /* This CPU's APIC ID: CPUID leaf 0xB EDX (32-bit x2APIC ID) when that leaf is
     * implemented (EBX != 0), else leaf 1 EBX[31:24] (SDM vol. 3, 9.4.3 / 11.12.8). */
    xorl %eax, %eax
    cpuid
    cmpl $0xB, %eax
    jb 1f
    movl $0xB, %eax
    xorl %ecx, %ecx
    cpuid
    testl %ebx, %ebx
    jz 1f
    movl %edx, %esi
    jmp 2f
1:  movl $1, %eax
    cpuid
    shrl $24, %ebx
    movl %ebx, %esi
2:
    /* Slot search: smp_ap_apic_ids[1 .. smp_ap_slots). */
    movl $1, %ecx
    movl smp_ap_slots(%rip), %edx
    leaq smp_ap_apic_ids(%rip), %r8
3:  cmpl %edx, %ecx
    jae no_slot
    cmpl (%r8,%rcx,4), %esi
    je 4f
    incl %ecx
    jmp 3b
4:  leaq smp_ap_stack_tops(%rip), %r8
    movq (%r8,%rcx,8), %rsp
    testq %rsp, %rsp
    jz no_slot
    movl %ecx, %edi
    xorl %ebp, %ebp                           /* terminates the stack trace */
    pushq $0                                  /* no return address: smp_ap_main never returns */
    jmp smp_ap_main

no_slot:                                      /* started but not listed: park quietly */
    cli
    hlt
    jmp no_slot

    .section .rodata
    .balign 16
ap_gdt:
    .quad 0
    .quad 0x00CF9A000000FFFF                  /* 0x08: 32-bit code, flat, DPL 0 */
    .quad 0x00CF92000000FFFF                  /* 0x10: data, flat, DPL 0 */
    .quad 0x00AF9A000000FFFF                  /* 0x18: 64-bit code, DPL 0 */
ap_gdt_end:
