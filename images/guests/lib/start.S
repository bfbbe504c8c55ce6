/*
 * images/guests/lib/start.S: entry of every test guest, on every VP.
 *
 * Both loaders enter _start in 32-bit protected mode, paging and interrupts off, with flat
 * code and data segments (Multiboot spec 3.2 "Machine state"; images/guests/README.md for
 * hvfw). EAX says who started us: 0x2BADB002 (multiboot, EBX = info address) or 'hvfw'
 * (EBX = RAM bytes, ECX = VP index). The loader's GDT may be gone (the multiboot spec says
 * so outright), so we load our own before touching a segment register.
 */
#include "images/guests/lib/guest.h"
#include "kernel/multiboot.h"

#define MB1_FLAGS (1 << 1)                /* give memory information (mem_upper) */

#define SELECTOR_CODE 0x08
#define SELECTOR_DATA 0x10

    .section .multiboot, "a"
    /* Multiboot v1 header (spec 3.1.1): 4-byte aligned, within the first 8 KiB. No a.out
     * kludge: the loader takes the ELF program headers. */
    .balign 4
    .long MULTIBOOT1_HEADER_MAGIC
    .long MB1_FLAGS
    .long -(MULTIBOOT1_HEADER_MAGIC + MB1_FLAGS)

    .text
    .code32
    .globl _start
_start:
    cli
    cld
    cmpl $GUEST_HVFW_MAGIC, %eax
    je 1f
    xorl %ecx, %ecx                       /* multiboot starts one CPU: VP 0 */
1:  cmpl $GUEST_MAX_VPS, %ecx
    jae park                              /* no stack for it */

    lgdt gdt_descriptor
    ljmp $SELECTOR_CODE, $2f
2:  movw $SELECTOR_DATA, %dx
    movw %dx, %ds
    movw %dx, %es
    movw %dx, %fs
    movw %dx, %gs
    movw %dx, %ss
    /* This VP's stack: guest_stacks + (vp + 1) * GUEST_STACK_SIZE */
    leal 1(%ecx), %edx
    imull $GUEST_STACK_SIZE, %edx
    leal guest_stacks(%edx), %esp

    testl %ecx, %ecx
    jnz wait_for_vp0

    /* VP 0 clears .bss (the stacks are outside it), keeping EAX and EBX. */
    movl %eax, %esi
    movl $__guest_bss_start, %edi
    movl $__guest_bss_end, %ecx
    subl %edi, %ecx
    xorl %eax, %eax
    rep stosb
    movl %esi, %eax
    xorl %ecx, %ecx
    jmp enter_c

wait_for_vp0:
    pause
    cmpl $0, guest_vps_held
    jne wait_for_vp0

enter_c:
    xorl %ebp, %ebp                       /* end of the frame chain for debuggers */
    pushl %ecx                            /* vp */
    pushl %ebx
    pushl %eax
    call guest_runtime_start
park:
    cli
    hlt
    jmp park

    .section .rodata
    /* Flat 4 GiB ring-0 code and data segments (Intel SDM vol. 3, 3.4.5 "Segment
     * Descriptors"): base 0, limit 0xFFFFF in 4 KiB units, 32-bit. */
    .balign 8
gdt:
    .quad 0
    .quad 0x00CF9A000000FFFF              /* 0x08: code, execute/read */
    .quad 0x00CF92000000FFFF              /* 0x10: data, read/write */
gdt_end:
gdt_descriptor:
    .short gdt_end - gdt - 1
    .long gdt

    .section .guest_stack, "aw", @nobits
    .balign 4096
guest_stacks:
    .skip GUEST_MAX_VPS * GUEST_STACK_SIZE
