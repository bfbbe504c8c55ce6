#include "kernel/trap.h"

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "kernel/bootinfo.h"
#include "kernel/cmdline.h"
#include "kernel/cpu_tables.h"
#include "kernel/format.h"
#include "kernel/log.h"
#include "kernel/main.h"
#include "kernel/percpu.h"
#include "kernel/serial.h"
#include "kernel/stack_trace.h"
#include "kernel/x86.h"
#include "libc-glue/decoder.h"

/* kernel/trap_entry.S: the address of each vector's entry stub. */
extern const uint64_t trap_entry_table[IDT_VECTORS];
/* kernel/linker.ld and kernel/boot.S. */
extern const char __image_start[], __image_end[];
extern const uint8_t boot_stack[];
#define BOOT_STACK_SIZE 16384 /* kernel/boot.S */
/* The kernel stack of an AP (percpu->stack_top) is at least this large (kernel/smp.c);
 * the stack trace looks no further below stack_top. */
#define KERNEL_STACK_WINDOW 16384

/* Page-table entry bits (Intel SDM vol. 3, 4.5 "4-Level Paging and 5-Level Paging",
 * Tables 4-15 to 4-20). */
#define PTE_PRESENT (1ull << 0)
#define PTE_LARGE_PAGE (1ull << 7)
#define PTE_ADDRESS_MASK 0x000FFFFFFFFFF000ull
#define CR4_LA57 (1ull << 12)

/* Page-fault error code (Intel SDM vol. 3, 4.7 "Page-Fault Exceptions", Figure 4-12). */
#define PF_PRESENT (1u << 0)
#define PF_WRITE (1u << 1)
#define PF_USER (1u << 2)
#define PF_RESERVED_BIT (1u << 3)
#define PF_INSTRUCTION_FETCH (1u << 4)

/* How long a second faulting CPU waits for the first one's report before printing its
 * own anyway (pause iterations; the first CPU never releases: it stops). */
#define REPORT_WAIT_SPINS 20000000u

static trap_handler_fn trap_handlers[IDT_VECTORS];
/* Fault reports in progress per CPU; the extra slot is for a CPU we cannot identify. */
static uint32_t report_depth[MAX_CPUS + 1];
static uint32_t report_in_progress;
static uint32_t unexpected_counts[IDT_VECTORS];
/* Cached by trap_init, so the nested-fault path need not parse the command line. */
static bool stop_exits_qemu;
/* test.fault=nested: fault again inside the report. */
static bool test_fault_during_report;

static const char *const exception_names[32] = {
    [TRAP_DIVIDE_ERROR] = "#DE",
    [TRAP_DEBUG] = "#DB",
    [TRAP_NMI] = "#NMI",
    [TRAP_BREAKPOINT] = "#BP",
    [TRAP_OVERFLOW] = "#OF",
    [TRAP_BOUND_RANGE] = "#BR",
    [TRAP_INVALID_OPCODE] = "#UD",
    [TRAP_DEVICE_NOT_AVAILABLE] = "#NM",
    [TRAP_DOUBLE_FAULT] = "#DF",
    [TRAP_INVALID_TSS] = "#TS",
    [TRAP_SEGMENT_NOT_PRESENT] = "#NP",
    [TRAP_STACK_FAULT] = "#SS",
    [TRAP_GENERAL_PROTECTION] = "#GP",
    [TRAP_PAGE_FAULT] = "#PF",
    [TRAP_X87_FLOATING_POINT] = "#MF",
    [TRAP_ALIGNMENT_CHECK] = "#AC",
    [TRAP_MACHINE_CHECK] = "#MC",
    [TRAP_SIMD_FLOATING_POINT] = "#XM",
    [TRAP_VIRTUALIZATION] = "#VE",
    [TRAP_CONTROL_PROTECTION] = "#CP",
    [TRAP_HYPERVISOR_INJECTION] = "#HV",
    [TRAP_VMM_COMMUNICATION] = "#VC",
    [TRAP_SECURITY] = "#SX",
};

const char *trap_vector_name(uint64_t vector)
{
    if (vector >= TRAP_FIRST_EXTERNAL)
        return "IRQ";
    return exception_names[vector] ? exception_names[vector] : "#??";
}

static void trap_load_this_cpu(uint32_t cpu)
{
    cpu_tables_build(cpu);
    cpu_tables_load(cpu);
    cpu_tables_load_idt();
    percpu_area[cpu].arch = &cpu_tables[cpu];
}

void trap_init(void)
{
    stop_exits_qemu = cmdline_flag(boot_info.cmdline, "test.exit");
    cpu_tables_build_idt(trap_entry_table);
    trap_load_this_cpu(this_cpu_index());
    log_debug("traps: GDT, TSS (IST %u KiB each for #DF, NMI, #MC) and IDT loaded",
              IST_STACK_SIZE / 1024);
}

void trap_init_this_cpu(void)
{
    uint32_t cpu = this_cpu()->index;
    if (cpu >= MAX_CPUS)
        kernel_stop("trap_init_this_cpu: cpu index %u is not below MAX_CPUS (%u)", cpu,
                    MAX_CPUS);
    trap_load_this_cpu(cpu);
}

void trap_set_handler(uint8_t vector, trap_handler_fn fn)
{
    __atomic_store_n(&trap_handlers[vector], fn, __ATOMIC_RELEASE);
}

/* --- the fault report ------------------------------------------------------------------ */

/* Memory we may read without side effects: the image or usable RAM per the memory map
 * (never device memory, where a read can have side effects). */
static bool trap_known_memory(uint64_t address, uint64_t length)
{
    uint64_t end = address + length;
    if (end < address)
        return false;
    if (address >= (uintptr_t)__image_start && end <= (uintptr_t)__image_end)
        return true;
    for (size_t i = 0; i < boot_info.region_count; i++) {
        const struct boot_region *r = &boot_info.regions[i];
        if (r->type == BOOT_REGION_USABLE && address >= r->base &&
            end <= r->base + r->length)
            return true;
    }
    return false;
}

/* Walks the live page tables for `va`. Tables are reached through the identity mapping
 * and read only if they lie in known memory, so a corrupt CR3 or entry ends the walk. */
static bool trap_page_mapped(uint64_t va)
{
    unsigned levels = (read_cr4() & CR4_LA57) ? 5 : 4;
    unsigned address_bits = 12 + 9 * levels;
    /* Canonical: bits 63..address_bits-1 all equal (Intel SDM vol. 1, 3.3.7.1). */
    int64_t sign = (int64_t)va >> (address_bits - 1);
    if (sign != 0 && sign != -1)
        return false;
    uint64_t table = read_cr3() & PTE_ADDRESS_MASK;
    for (unsigned level = levels; level >= 1; level--) {
        if (!trap_known_memory(table, 4096))
            return false;
        unsigned shift = 12 + 9 * (level - 1);
        uint64_t entry = ((const volatile uint64_t *)(uintptr_t)table)[(va >> shift) & 511];
        if (!(entry & PTE_PRESENT))
            return false;
        if (level == 1 || (level <= 3 && (entry & PTE_LARGE_PAGE)))
            return true;
        table = entry & PTE_ADDRESS_MASK;
    }
    return false;
}

/* How many of the `max` bytes at `address` can be read safely (a prefix). */
static size_t trap_readable_prefix(uint64_t address, size_t max)
{
    size_t n = 0;
    while (n < max) {
        uint64_t va = address + n;
        if (va < address)
            break;
        uint64_t chunk = ((va | 0xFFF) + 1) - va; /* to the end of this page */
        if (chunk > max - n)
            chunk = max - n;
        if (!trap_known_memory(va, chunk) || !trap_page_mapped(va))
            break;
        n += chunk;
    }
    return n;
}

static void trap_format_bytes(const uint8_t *bytes, size_t count, char *out, size_t size)
{
    static const char digits[] = "0123456789abcdef";
    size_t used = 0;
    for (size_t i = 0; i < count && used + 4 <= size; i++) {
        if (i > 0)
            out[used++] = ' ';
        out[used++] = digits[bytes[i] >> 4];
        out[used++] = digits[bytes[i] & 0xF];
    }
    out[used] = '\0';
}

static void trap_report_instruction(uint64_t rip)
{
    uint8_t bytes[DECODER_MAX_LENGTH];
    size_t count = trap_readable_prefix(rip, sizeof(bytes));
    if (count == 0) {
        console_printf("instruction: <unreadable at 0x%lx>\n", rip);
        return;
    }
    memcpy(bytes, (const void *)(uintptr_t)rip, count); /* copy, then decode the copy */
    char hex[3 * DECODER_MAX_LENGTH + 1];
    struct decoded_insn insn;
    if (decoder_decode(bytes, count, DECODER_MODE_64, rip, &insn)) {
        trap_format_bytes(bytes, insn.length, hex, sizeof(hex));
        console_printf("instruction: %s (%u bytes: %s)\n", insn.text, insn.length, hex);
    } else {
        trap_format_bytes(bytes, count, hex, sizeof(hex));
        console_printf("instruction: <not decodable> (%zu bytes read: %s)\n", count, hex);
    }
}

static void trap_report_page_fault(uint64_t error_code, uint64_t cr2)
{
    const char *access = (error_code & PF_INSTRUCTION_FETCH) ? "instruction fetch from"
                         : (error_code & PF_WRITE)           ? "write to"
                                                             : "read from";
    const char *why = (error_code & PF_RESERVED_BIT) ? "a reserved bit set in a page-table entry"
                      : (error_code & PF_PRESENT)    ? "a protection violation"
                                                     : "a not-present page";
    console_printf("page fault: %s 0x%lx (%s, %s mode)\n", access, cr2, why,
                   (error_code & PF_USER) ? "user" : "supervisor");
}

static void trap_report_stack_trace(uint32_t cpu, uint64_t rbp)
{
    struct stack_range stacks[2 + IST_STACK_COUNT];
    size_t count = 0;
    stacks[count++] = (struct stack_range){(uintptr_t)boot_stack,
                                           (uintptr_t)boot_stack + BOOT_STACK_SIZE};
    if (cpu < MAX_CPUS) {
        uintptr_t top = (uintptr_t)percpu_area[cpu].stack_top;
        if (top > KERNEL_STACK_WINDOW)
            stacks[count++] = (struct stack_range){top - KERNEL_STACK_WINDOW, top};
        for (enum ist_slot slot = IST_DOUBLE_FAULT; slot <= IST_MACHINE_CHECK; slot++)
            stacks[count++] = cpu_tables_ist_stack(cpu, slot);
    }
    uintptr_t frames[STACK_TRACE_MAX_FRAMES];
    size_t n = stack_trace_walk(rbp, stacks, count, frames, STACK_TRACE_MAX_FRAMES);
    char line[24 * STACK_TRACE_MAX_FRAMES + 16];
    size_t used = 0;
    for (size_t i = 0; i < n && used < sizeof(line); i++)
        used += (size_t)format_snprintf(line + used, sizeof(line) - used, " 0x%lx", frames[i]);
    console_printf("stack trace:%s\n", n ? line : " <no frames>");
}

/* A fault while this CPU is already reporting one: one line straight to the UART (this
 * CPU may hold the console lock), then stop without touching anything else. */
__attribute__((noreturn)) static void trap_nested_stop(const struct trap_frame *frame,
                                                       uint32_t depth)
{
    if (depth == 1) {
        char line[160];
        int n = format_snprintf(line, sizeof(line),
                                "\nhvfw: FATAL nested exception %s (vector %lu) at rip 0x%lx "
                                "while reporting a fault; stopped\nhvfw: stopped\n",
                                trap_vector_name(frame->vector), frame->vector, frame->rip);
        serial_write(line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
    }
    if (stop_exits_qemu)
        kernel_test_exit(1);
    interrupts_disable();
    for (;;)
        __asm__ volatile("hlt");
}

static void trap_wait_for_other_report(void)
{
    for (uint32_t spins = 0; spins < REPORT_WAIT_SPINS; spins++) {
        uint32_t expected = 0;
        if (__atomic_compare_exchange_n(&report_in_progress, &expected, 1, false,
                                        __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
            return;
        cpu_relax();
    }
}

/* Through the console lock, like every line: log.c holds it only while bytes go to the
 * UART (lines are formatted before), so a fault elsewhere cannot leave it held. */
__attribute__((noreturn)) static void trap_report_fatal(const struct trap_frame *f, uint32_t cpu)
{
    uint64_t cr2 = read_cr2(); /* before anything else can fault and overwrite it */
    trap_wait_for_other_report();
    console_printf("hvfw: FATAL exception %s (vector %lu) error_code=0x%lx on cpu%d\n",
                   trap_vector_name(f->vector), f->vector, f->error_code,
                   cpu < MAX_CPUS ? (int)cpu : -1);
    if (test_fault_during_report)
        __asm__ volatile("ud2"); /* test.fault=nested */
    console_printf("rip=0x%016lx rsp=0x%016lx rflags=0x%lx cs=0x%lx ss=0x%lx\n", f->rip, f->rsp,
                   f->rflags, f->cs, f->ss);
    console_printf("rax=0x%016lx rbx=0x%016lx rcx=0x%016lx rdx=0x%016lx\n", f->rax, f->rbx,
                   f->rcx, f->rdx);
    console_printf("rsi=0x%016lx rdi=0x%016lx rbp=0x%016lx rsp=0x%016lx\n", f->rsi, f->rdi,
                   f->rbp, f->rsp);
    console_printf("r8=0x%016lx r9=0x%016lx r10=0x%016lx r11=0x%016lx\n", f->r8, f->r9,
                   f->r10, f->r11);
    console_printf("r12=0x%016lx r13=0x%016lx r14=0x%016lx r15=0x%016lx\n", f->r12, f->r13,
                   f->r14, f->r15);
    console_printf("cr0=0x%lx cr2=0x%lx cr3=0x%lx cr4=0x%lx\n", read_cr0(), cr2, read_cr3(),
                   read_cr4());
    if (f->vector == TRAP_PAGE_FAULT)
        trap_report_page_fault(f->error_code, cr2);
    trap_report_instruction(f->rip);
    trap_report_stack_trace(cpu, f->rbp);
    kernel_stop("unhandled exception %s (vector %lu) at rip 0x%lx", trap_vector_name(f->vector),
                f->vector, f->rip);
}

static void trap_report_unexpected_interrupt(const struct trap_frame *frame, uint32_t cpu)
{
    uint32_t seen = __atomic_add_fetch(&unexpected_counts[frame->vector], 1, __ATOMIC_RELAXED);
    /* Rate-limited (1st, 2nd, 4th, 8th ...): a stuck interrupt must not flood the log. */
    if ((seen & (seen - 1)) == 0)
        log_warn("interrupt vector %lu on cpu%d has no handler (%u so far); ignored",
                 frame->vector, cpu < MAX_CPUS ? (int)cpu : -1, seen);
}

void trap_dispatch(struct trap_frame *frame)
{
    uint8_t vector = (uint8_t)frame->vector;
    trap_handler_fn fn = __atomic_load_n(&trap_handlers[vector], __ATOMIC_ACQUIRE);
    if (fn) {
        fn(frame);
        return;
    }
    /* The CPU comes from GDTR, not GS: the GS base may be what is broken. */
    uint32_t cpu = cpu_tables_current_cpu();
    if (vector >= TRAP_FIRST_EXTERNAL) {
        trap_report_unexpected_interrupt(frame, cpu);
        return;
    }
    uint32_t *depth = &report_depth[cpu < MAX_CPUS ? cpu : MAX_CPUS];
    /* An NMI (another CPU stopping us, a watchdog) while this CPU reports or has stopped:
     * nothing to add, let it finish or go back to halting. */
    if (vector == TRAP_NMI && __atomic_load_n(depth, __ATOMIC_RELAXED) != 0)
        return;
    uint32_t earlier = __atomic_fetch_add(depth, 1, __ATOMIC_RELAXED);
    if (earlier != 0)
        trap_nested_stop(frame, earlier);
    trap_report_fatal(frame, cpu);
}

/* --- test.fault ------------------------------------------------------------------------ */

/* Above the 4 GiB the boot page tables map and canonical, so an access is a plain #PF. */
#define TEST_FAULT_UNMAPPED_ADDRESS 0x0000700000000000ull
/* Bits 63:47 not all equal: any access is a #GP(0) (Intel SDM vol. 1, 3.3.7.1). */
#define TEST_FAULT_NONCANONICAL_ADDRESS 0x8000000000000000ull
#define TEST_FAULT_BREAKPOINT_MARK 0x600DCAFEull

/* Inline assembly throughout, so the compiler can neither fold nor drop the fault. */
static void test_fault_invalid_opcode(void)
{
    __asm__ volatile("ud2");
}

static void test_fault_page_fault(void)
{
    __asm__ volatile("movq $1, (%0)" : : "a"(TEST_FAULT_UNMAPPED_ADDRESS) : "memory");
}

static void test_fault_general_protection(void)
{
    uint64_t value = TEST_FAULT_NONCANONICAL_ADDRESS;
    __asm__ volatile("movq (%0), %0" : "+a"(value) : : "memory");
}

static void test_fault_divide_error(void)
{
    uint32_t low = 1, high = 0;
    __asm__ volatile("xorl %%ecx, %%ecx\n\tdivl %%ecx" : "+a"(low), "+d"(high) : : "rcx");
}

/* A call to unmapped memory: the report must say the instruction is unreadable. */
static void test_fault_wild_rip(void)
{
    __asm__ volatile("call *%0" : : "r"(TEST_FAULT_UNMAPPED_ADDRESS) : "memory");
}

/* #UD with RSP on an unmapped page: the CPU cannot push the frame, the #PF that follows
 * cannot either, so it raises #DF, which runs on its IST stack (Intel SDM vol. 3, 6.15,
 * "Interrupt 8 - Double Fault Exception"). */
static void test_fault_double_fault(void)
{
    __asm__ volatile("movq %0, %%rsp\n\tud2" : : "r"(TEST_FAULT_UNMAPPED_ADDRESS) : "memory");
}

/* #UD, and another #UD while the report is being made: the nested-fault stop. */
static void test_fault_nested(void)
{
    test_fault_during_report = true;
    __asm__ volatile("ud2");
}

static void test_breakpoint_handler(struct trap_frame *frame)
{
    frame->rax = TEST_FAULT_BREAKPOINT_MARK; /* iretq must hand this back */
}

/* Not a fatal fault: a registered handler runs and iretq resumes after int3. */
static void test_fault_breakpoint(void)
{
    uint64_t rax = 0;
    trap_set_handler(TRAP_BREAKPOINT, test_breakpoint_handler);
    __asm__ volatile("int3" : "+a"(rax) : : "memory");
    trap_set_handler(TRAP_BREAKPOINT, NULL);
    if (rax == TEST_FAULT_BREAKPOINT_MARK)
        log_info("test.fault=bp: handler ran, iretq resumed with rax=0x%lx", rax);
    else
        log_error("test.fault=bp: FAILED: rax=0x%lx after the handler, expected 0x%lx", rax,
                  (uint64_t)TEST_FAULT_BREAKPOINT_MARK);
}

static const struct {
    const char *kind;
    void (*raise)(void);
} test_faults[] = {
    {"ud", test_fault_invalid_opcode},   {"pf", test_fault_page_fault},
    {"gp", test_fault_general_protection}, {"de", test_fault_divide_error},
    {"rip", test_fault_wild_rip},        {"df", test_fault_double_fault},
    {"nested", test_fault_nested},       {"bp", test_fault_breakpoint},
};

void trap_run_test_fault(const char *kind)
{
    for (size_t i = 0; i < sizeof(test_faults) / sizeof(test_faults[0]); i++) {
        if (strcmp(kind, test_faults[i].kind) != 0)
            continue;
        log_info("test.fault=%s: raising it on purpose", kind);
        test_faults[i].raise();
        if (strcmp(kind, "bp") != 0)
            log_error("test.fault=%s: FAILED: the exception did not stop the CPU", kind);
        return;
    }
    log_warn("test.fault=%s is not one of ud, pf, gp, de, rip, df, nested, bp; ignoring it",
             kind);
}
