/*
 * The 32-bit steps into long mode, shared by the boot CPU (kernel/boot.S) and the APs
 * (kernel/ap_trampoline.S): AMD APM vol. 2, 14.6 "Enabling and Activating Long Mode";
 * Intel SDM vol. 3, 10.8.5 "Initializing IA-32e Mode". Assembly only.
 */
#ifndef HVFW_KERNEL_LONG_MODE_H
#define HVFW_KERNEL_LONG_MODE_H

#define CR0_PE (1 << 0)
#define CR0_MP (1 << 1)
#define CR0_EM (1 << 2)
#define CR0_WP (1 << 16)
#define CR0_PG (1 << 31)
#define CR4_PAE (1 << 5)
#define CR4_OSFXSR (1 << 9)
#define CR4_OSXMMEXCPT (1 << 10)
#define MSR_EFER 0xC0000080
#define EFER_LME (1 << 8)
#define EFER_NXE (1 << 11)

#ifdef __ASSEMBLY__
/* PAE and SSE on, the boot page tables (boot_pml4, identity 0-4 GiB) in CR3, EFER.LME and
 * NXE, then paging (with write protection) on: the CPU is in compatibility mode until the
 * caller's far jump to a 64-bit code segment. Clobbers EAX, ECX, EDX. */
.macro LONG_MODE_ENABLE
    movl %cr4, %eax
    orl $(CR4_PAE | CR4_OSFXSR | CR4_OSXMMEXCPT), %eax
    movl %eax, %cr4
    movl $boot_pml4, %eax
    movl %eax, %cr3
    movl $MSR_EFER, %ecx
    rdmsr
    orl $(EFER_LME | EFER_NXE), %eax
    wrmsr
    movl %cr0, %eax
    andl $~CR0_EM, %eax
    orl $(CR0_PE | CR0_MP | CR0_WP | CR0_PG), %eax
    movl %eax, %cr0
.endm
#endif

#endif
