#include "root/cpu.h"

#include <stdio.h>
#include <string.h>

#include "hv/root_abi.h"
#include "root/hvcall.h"

/* What root/exception_entry.S pushes, lowest address first. */
struct root_exception_frame {
    uint64_t r15, r14, r13, r12, r11, r10, r9, r8, rbp, rdi, rsi, rdx, rcx, rbx, rax;
    uint64_t vector, error_code;
    uint64_t rip, cs, rflags, rsp, ss; /* pushed by the CPU */
};

struct root_fixup {
    uint64_t fault_rip;
    uint64_t resume_rip;
};

/* 64-bit interrupt gate (AMD APM vol. 2, 4.8.3). */
struct root_gate {
    uint16_t offset_low, selector;
    uint8_t ist, type_attributes;
    uint16_t offset_middle;
    uint32_t offset_high, reserved;
} __attribute__((packed));

struct root_table_pointer {
    uint16_t limit;
    uint64_t base;
} __attribute__((packed));

#define ROOT_SELECTOR_CODE 0x08
#define ROOT_SELECTOR_DATA 0x10
#define MSR_GS_BASE 0xC0000101u

extern const struct root_fixup __root_fixups_start[], __root_fixups_end[];

/* Around one instruction that may fault, at local label 1: output operand 0 is 1 after it,
 * or 0 when it faulted and root_exception resumed at label 2 through the .root_fixups entry
 * (faulting RIP, resume RIP) that TRY_END adds. */
#define TRY_BEGIN "movl $1, %0\n1: "
#define TRY_END                                                                            \
    "\n   jmp 3f\n"                                                                        \
    "2: movl $0, %0\n"                                                                     \
    "3:\n"                                                                                 \
    ".pushsection .root_fixups, \"a\"\n"                                                   \
    ".balign 8\n"                                                                          \
    ".quad 1b, 2b\n"                                                                       \
    ".popsection"

extern const uint64_t root_exception_stubs[32];
void root_exception(struct root_exception_frame *frame);

/* null, 64-bit code (L, P, DPL 0, exec/read), data (P, read/write) */
static const uint64_t root_gdt[3] __attribute__((aligned(16))) = {
    0, 0x00AF9B000000FFFFull, 0x00CF93000000FFFFull};
static struct root_gate root_idt[32] __attribute__((aligned(16)));
static struct root_vp root_vps[ROOT_MAX_VPS];

static void build_idt(void)
{
    for (int v = 0; v < 32; v++) {
        uint64_t target = root_exception_stubs[v];
        root_idt[v] = (struct root_gate){
            .offset_low = (uint16_t)target,
            .selector = ROOT_SELECTOR_CODE,
            .type_attributes = 0x8E, /* present, DPL 0, 64-bit interrupt gate */
            .offset_middle = (uint16_t)(target >> 16),
            .offset_high = (uint32_t)(target >> 32),
        };
    }
}

void root_cpu_init(uint32_t vp_index)
{
    struct root_vp *vp = &root_vps[vp_index];
    vp->self = vp;
    vp->index = vp_index;
    uint64_t gs = (uint64_t)(uintptr_t)vp;
    /* FS/GS bases pass through to the VMCB (hv/svm/svm.c, the root's MSR map). */
    __asm__ volatile("wrmsr" : : "c"(MSR_GS_BASE), "a"((uint32_t)gs), "d"((uint32_t)(gs >> 32)));
    if (vp_index == 0)
        build_idt();
    struct root_table_pointer gdtr = {sizeof(root_gdt) - 1, (uint64_t)(uintptr_t)root_gdt};
    struct root_table_pointer idtr = {sizeof(root_idt) - 1, (uint64_t)(uintptr_t)root_idt};
    __asm__ volatile("lgdt %0\n\t"
                     "pushq %1\n\t"
                     "leaq 1f(%%rip), %%rax\n\t"
                     "pushq %%rax\n\t"
                     "lretq\n"
                     "1:\n\t"
                     "movw %w2, %%ax\n\t"
                     "movw %%ax, %%ds\n\t"
                     "movw %%ax, %%es\n\t"
                     "movw %%ax, %%ss\n\t"
                     "lidt %3"
                     :
                     : "m"(gdtr), "i"(ROOT_SELECTOR_CODE), "i"(ROOT_SELECTOR_DATA), "m"(idtr)
                     : "rax", "memory");
}

struct root_vp *root_this_vp(void)
{
    struct root_vp *vp;
    __asm__ volatile("movq %%gs:0, %0" : "=r"(vp));
    return vp;
}

uint32_t root_vp_index(void)
{
    return root_this_vp()->index;
}

bool root_try_write64(uint64_t address, uint64_t value)
{
    uint32_t ok;
    __asm__ volatile(TRY_BEGIN "movq %2, (%1)" TRY_END
                     : "=&r"(ok)
                     : "r"(address), "r"(value)
                     : "memory");
    return ok;
}

bool root_try_inl(uint16_t port, uint32_t *value)
{
    uint32_t ok, v = 0;
    __asm__ volatile(TRY_BEGIN "inl %w2, %1" TRY_END
                     : "=&r"(ok), "+a"(v)
                     : "Nd"(port)
                     : "memory");
    *value = v;
    return ok;
}

bool root_try_read64(uint64_t address, uint64_t *value)
{
    uint32_t ok;
    uint64_t v = 0;
    __asm__ volatile(TRY_BEGIN "movq (%2), %1" TRY_END
                     : "=&r"(ok), "+r"(v)
                     : "r"(address)
                     : "memory");
    *value = v;
    return ok;
}

static const char *const vector_names[32] = {
    "#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM", "#DF", "#09", "#TS", "#NP",
    "#SS", "#GP", "#PF", "#15", "#MF", "#AC", "#MC", "#XM", "#VE", "#CP", "#22", "#23",
    "#24", "#25", "#26", "#27", "#HV", "#VC", "#SX", "#31"};

void root_exception(struct root_exception_frame *frame)
{
    struct root_vp *vp = root_this_vp();
    for (const struct root_fixup *f = __root_fixups_start; f < __root_fixups_end; f++) {
        if (f->fault_rip == frame->rip) {
            vp->exceptions++;
            vp->last_vector = (uint8_t)frame->vector;
            frame->rip = f->resume_rip;
            return;
        }
    }
    /* Not expected: a bug in the root. Report with what a person needs, then stop. */
    char line[256];
    int n = snprintf(line, sizeof(line),
                     "root: FATAL exception %s (vector %lu) error_code=0x%lx on VP %u\n"
                     "root: rip=0x%lx rsp=0x%lx rflags=0x%lx rax=0x%lx rdi=0x%lx\n",
                     vector_names[frame->vector & 31], frame->vector, frame->error_code,
                     vp->index, frame->rip, frame->rsp, frame->rflags, frame->rax, frame->rdi);
    hvcall_console_write(line, n > 0 && (size_t)n < sizeof(line) ? (size_t)n : 0);
    hvcall_root_stop(0x100 | frame->vector);
}

void root_idle(void)
{
    for (;;)
        __asm__ volatile("hlt");
}
