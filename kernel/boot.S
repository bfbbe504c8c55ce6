/*
 * kernel/boot.S: the 32-bit multiboot entry of the bootstrap processor and the switch to
 * long mode (AMD APM vol. 2, 14.6 "Enabling and Activating Long Mode"; Intel SDM vol. 3,
 * 10.8.5 "Initializing IA-32e Mode").
 *
 * The loader (QEMU -kernel, GRUB, iPXE) enters _start in 32-bit protected mode with paging
 * off, EAX = loader magic and EBX = the physical address of its info structure. We build
 * temporary page tables that identity-map the first 4 GiB with 2 MiB pages, enable PAE,
 * EFER.LME and EFER.NXE, turn paging on and jump to 64-bit code. kernel/paging.c replaces
 * these tables with the final ones (W^X, NX, all RAM) early in kernel_main.
 */
#include "kernel/long_mode.h"
#include "kernel/multiboot.h"

#define MB1_FLAGS ((1 << 0) | (1 << 1))   /* page-align modules, give memory info */


#define BOOT_STACK_SIZE 16384

    .section .multiboot, "a"
    /* Multiboot v1 header (spec 3.1.1): 4-byte aligned, within the first 8 KiB. */
    .balign 4
multiboot1_header:
    .long MULTIBOOT1_HEADER_MAGIC
    .long MB1_FLAGS
    .long -(MULTIBOOT1_HEADER_MAGIC + MB1_FLAGS)

    /* Multiboot2 header (spec 3.1.1): 8-byte aligned, within the first 32 KiB. */
    .balign 8
multiboot2_header:
    .long MULTIBOOT2_HEADER_MAGIC
    .long 0                                   /* architecture: i386 protected mode */
    .long multiboot2_header_end - multiboot2_header
    .long -(MULTIBOOT2_HEADER_MAGIC + (multiboot2_header_end - multiboot2_header))
    /* information request tag (type 1), optional (flags bit 0) so that a loader that
     * cannot give one of these still boots us */
    .balign 8
mb2_info_request:
    .short 1, 1
    .long mb2_info_request_end - mb2_info_request
    .long 1, 3, 6, 14, 15, 17                 /* cmdline, modules, mmap, ACPI, EFI mmap */
mb2_info_request_end:
    .balign 8
    .short 0, 0                               /* end tag */
    .long 8
multiboot2_header_end:

    .section .boot.text, "ax"
    .code32
    .globl _start
_start:
    cli
    cld
    movl $(boot_stack + BOOT_STACK_SIZE), %esp
    movl %eax, boot_magic
    movl %ebx, boot_info_pa

    /* Long mode must exist (CPUID 0x80000001 EDX.LM); otherwise say so on COM1 and stop. */
    movl $0x80000000, %eax
    cpuid
    cmpl $0x80000001, %eax
    jb no_long_mode
    movl $0x80000001, %eax
    cpuid
    testl $(1 << 29), %edx
    jz no_long_mode

    /* PML4[0] -> PDPT; PDPT[0..3] -> four page directories of 2 MiB pages = 4 GiB. */
    movl $boot_pdpt, %eax
    orl $0x3, %eax
    movl %eax, boot_pml4
    xorl %ecx, %ecx
1:  movl %ecx, %eax
    shll $12, %eax
    addl $boot_pd, %eax
    orl $0x3, %eax
    movl %eax, boot_pdpt(,%ecx,8)
    incl %ecx
    cmpl $4, %ecx
    jb 1b
    xorl %ecx, %ecx                           /* 2048 entries, 2 MiB each */
2:  movl %ecx, %eax
    shll $21, %eax
    orl $0x83, %eax                           /* present, writable, page size */
    movl %eax, boot_pd(,%ecx,8)
    movl %ecx, %eax
    shrl $11, %eax                            /* high dword: bits 32+ of the address */
    movl %eax, boot_pd+4(,%ecx,8)
    incl %ecx
    cmpl $2048, %ecx
    jb 2b

    LONG_MODE_ENABLE
    lgdt boot_gdt_pointer
    ljmp $0x08, $long_mode_entry

no_long_mode:
    movl $no_long_mode_message, %esi
3:  movb (%esi), %al
    testb %al, %al
    jz 5f
    movw $0x3FD, %dx                          /* wait for the transmitter to be empty */
4:  inb %dx, %al
    testb $0x20, %al
    jz 4b
    movb (%esi), %al
    movw $0x3F8, %dx
    outb %al, %dx
    incl %esi
    jmp 3b
5:  hlt
    jmp 5b

    .code64
long_mode_entry:
    movw $0x10, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %ss
    xorw %ax, %ax
    movw %ax, %fs
    movw %ax, %gs
    movabsq $(boot_stack + BOOT_STACK_SIZE), %rsp
    xorl %ebp, %ebp                           /* terminates the stack trace */
    movl boot_magic, %edi
    movl boot_info_pa, %esi
    call kernel_main
6:  cli
    hlt
    jmp 6b

    .section .rodata
no_long_mode_message:
    .asciz "hvfw: this CPU has no long mode (x86-64); stopping\r\n"

    .balign 16
boot_gdt:
    .quad 0
    .quad 0x00AF9A000000FFFF                  /* 0x08: 64-bit code, DPL 0 */
    .quad 0x00CF92000000FFFF                  /* 0x10: data, DPL 0 */
boot_gdt_end:
    .globl boot_gdt_pointer
boot_gdt_pointer:
    .short boot_gdt_end - boot_gdt - 1
    .long boot_gdt

    .data
    .globl boot_magic, boot_info_pa
boot_magic: .long 0
boot_info_pa: .long 0

    .bss
    .balign 4096
    .globl boot_pml4
boot_pml4: .skip 4096
boot_pdpt: .skip 4096
boot_pd: .skip 4096 * 4
    .balign 16
    .globl boot_stack
boot_stack: .skip BOOT_STACK_SIZE
