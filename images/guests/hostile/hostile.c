/*
 * hostile: tries, one after the other, what a contained child must not be able to do, and
 * prints each attempt before making it and how it came back after, so a hypervisor test
 * can tell from the log which attempts the child survived:
 *   hostile: [n] <id>: <what it does>
 *   hostile: [n] survived: <value read | status | caught #GP ...>
 * The last attempt is a triple fault, so the guest never ends with PASS by itself. Any
 * attempt can be left out with `skip=id,id,...` on the command line (a direct QEMU run
 * skips `kbd-reset`, which really resets the machine there).
 *
 * Every attempt is one instruction "armed" for a fault: if it faults, the exception hook
 * resumes right after it and records the vector, so #GP or #UD from the hypervisor count
 * as survived the same way a value read back does.
 */
#include <string.h>

#include "images/guests/lib/guest.h"
#include "images/guests/lib/probe.h"
#include "images/guests/lib/trap.h"
#include "kernel/format.h"

const char guest_name[] = "hostile";

/* "caught #GP (error 0x0)" into buf when the attempt faulted; false when it did not. */
static bool attempt_faulted(char *buf, size_t size)
{
    uint32_t vector = probe_caught_vector;
    if (vector == NO_FAULT)
        return false;
    format_snprintf(buf, size, "caught %s (vector %u, error 0x%x)", trap_vector_name(vector),
                    vector, probe_caught_error);
    return true;
}

/* --- the armed instructions; fixed registers so each is one known instruction ----------- */

static uint32_t armed_read32(uint32_t address)
{
    uint32_t value;
    probe_begin();
    __asm__ volatile(ARM "movl (%%ebx), %%eax" DISARM
                     : "=a"(value), ARM_OPERANDS
                     : "b"(address), "0"(0u)
                     : "memory");
    return value;
}

static void armed_write32(uint32_t address, uint32_t value)
{
    probe_begin();
    __asm__ volatile(ARM "movl %%eax, (%%ebx)" DISARM
                     : ARM_OPERANDS
                     : "b"(address), "a"(value)
                     : "memory");
}

static uint32_t armed_in8(uint16_t port)
{
    uint32_t value;
    probe_begin();
    __asm__ volatile(ARM "inb %%dx, %%al" DISARM
                     : "=a"(value), ARM_OPERANDS
                     : "d"(port), "0"(0u)
                     : "memory");
    return value & 0xFF;
}

static void armed_out8(uint16_t port, uint32_t value)
{
    probe_begin();
    __asm__ volatile(ARM "outb %%al, %%dx" DISARM
                     : ARM_OPERANDS
                     : "d"(port), "a"(value)
                     : "memory");
}

static uint32_t armed_in32(uint16_t port)
{
    uint32_t value;
    probe_begin();
    __asm__ volatile(ARM "inl %%dx, %%eax" DISARM
                     : "=a"(value), ARM_OPERANDS
                     : "d"(port), "0"(0u)
                     : "memory");
    return value;
}

static void armed_out32(uint16_t port, uint32_t value)
{
    probe_begin();
    __asm__ volatile(ARM "outl %%eax, %%dx" DISARM
                     : ARM_OPERANDS
                     : "d"(port), "a"(value)
                     : "memory");
}

static uint64_t armed_rdmsr(uint32_t msr)
{
    uint64_t value;
    (void)try_rdmsr(msr, &value); /* the fault, if any, is read by attempt_faulted */
    return value;
}

static void armed_wrmsr(uint32_t msr, uint64_t value)
{
    (void)try_wrmsr(msr, value);
}

/* A hypercall in the 32-bit calling convention (TLFS 3.7, "Hypercall Inputs"): control
 * in EDX:EAX, input GPA in EBX:ECX, output GPA in EDI:ESI; the result value comes back in
 * EDX:EAX. VMMCALL is 0F 01 D9 (AMD APM vol. 3, "VMMCALL"). */
static uint64_t armed_hypercall(uint64_t control, uint64_t input_gpa, uint64_t output_gpa)
{
    uint32_t eax = (uint32_t)control, edx = (uint32_t)(control >> 32);
    uint32_t ebx = (uint32_t)(input_gpa >> 32), ecx = (uint32_t)input_gpa;
    uint32_t edi = (uint32_t)(output_gpa >> 32), esi = (uint32_t)output_gpa;
    probe_begin();
    __asm__ volatile(ARM ".byte 0x0f, 0x01, 0xd9 /* vmmcall */" DISARM
                     : "+a"(eax), "+d"(edx), "+b"(ebx), "+c"(ecx), "+D"(edi), "+S"(esi),
                       ARM_OPERANDS
                     :
                     : "memory");
    return ((uint64_t)edx << 32) | eax;
}

/* The SVM instructions (AMD APM vol. 3, "VMRUN" ... "INVLPGA"): all 0F 01 xx with rAX as
 * their address operand (and ECX for INVLPGA). Without EFER.SVME they raise #UD; under
 * hvfw the child must get #UD whatever it does to EFER. */
#define ARMED_SVM_INSTRUCTION(name, modrm)                                                 \
    static void armed_##name(void)                                                         \
    {                                                                                      \
        probe_begin();                                                                   \
        __asm__ volatile(ARM ".byte 0x0f, 0x01, " #modrm DISARM                            \
                         : ARM_OPERANDS                                                    \
                         : "a"(0x1000u), "c"(0u)                                           \
                         : "memory");                                                      \
    }

ARMED_SVM_INSTRUCTION(vmrun, 0xd8)
ARMED_SVM_INSTRUCTION(vmload, 0xda)
ARMED_SVM_INSTRUCTION(vmsave, 0xdb)
ARMED_SVM_INSTRUCTION(stgi, 0xdc)
ARMED_SVM_INSTRUCTION(clgi, 0xdd)
ARMED_SVM_INSTRUCTION(skinit, 0xde)
ARMED_SVM_INSTRUCTION(invlpga, 0xdf)

static void armed_ud2(void)
{
    probe_begin();
    __asm__ volatile(ARM "ud2" DISARM : ARM_OPERANDS : : "memory");
}

/* --- the attempts ------------------------------------------------------------------------ */

struct hostile_step;
typedef void (*step_fn)(const struct hostile_step *step, char *result, size_t size);

struct hostile_step {
    const char *id;
    const char *what;
    step_fn run;
    uint32_t target;  /* address, port or MSR */
    uint64_t value;   /* value written, or the control word of a hypercall */
    uint64_t input;   /* hypercall input GPA */
};

/* Target of the read at the end of the child's RAM (filled in by guest_main). */
#define TARGET_RAM_END 0u

#define HV_X64_MSR_GUEST_OS_ID 0x40000000u
#define HV_X64_MSR_HYPERCALL 0x40000001u
#define MSR_EFER 0xC0000080u
#define EFER_SVME (1ull << 12)
#define MSR_VM_CR 0xC0010114u
#define MSR_VM_HSAVE_PA 0xC0010117u

/* TLFS 3.7 control word: call code 15:0, fast 16, rep count 43:32, rep start 59:48. */
#define HC_FAST (1ull << 16)
#define HC_REP_COUNT(n) ((uint64_t)(n) << 32)
#define HC_REP_START(n) ((uint64_t)(n) << 48)
/* TLFS call codes (appendix "Hypercall Code Reference"). */
#define HVCALL_CREATE_PARTITION 0x0040u
#define HVCALL_DELETE_PARTITION 0x0043u
#define HVCALL_MAP_GPA_PAGES 0x004Bu
#define HVCALL_POST_MESSAGE 0x005Cu
#define HVCALL_SIGNAL_EVENT 0x005Du

/* Hypercall input and output pages inside the child's own RAM. */
static uint8_t hypercall_input[4096] __attribute__((aligned(4096)));
static uint8_t hypercall_output[4096] __attribute__((aligned(4096)));
static uint8_t hypercall_page[4096] __attribute__((aligned(4096)));
static uint32_t ram_end_address;

#define PAGE_GPA(page) ((uint64_t)(uintptr_t)(page))

static void step_read32(const struct hostile_step *step, char *result, size_t size)
{
    uint32_t address = step->target == TARGET_RAM_END ? ram_end_address : step->target;
    uint32_t value = armed_read32(address);
    if (!attempt_faulted(result, size))
        format_snprintf(result, size, "read 0x%08x", value);
}

static void step_write32(const struct hostile_step *step, char *result, size_t size)
{
    armed_write32(step->target, (uint32_t)step->value);
    if (!attempt_faulted(result, size))
        format_snprintf(result, size, "write done");
}

static void step_in8(const struct hostile_step *step, char *result, size_t size)
{
    uint32_t value = armed_in8((uint16_t)step->target);
    if (!attempt_faulted(result, size))
        format_snprintf(result, size, "read 0x%02x", value);
}

static void step_out8(const struct hostile_step *step, char *result, size_t size)
{
    armed_out8((uint16_t)step->target, (uint32_t)step->value);
    if (!attempt_faulted(result, size))
        format_snprintf(result, size, "write done");
}

static void step_in32(const struct hostile_step *step, char *result, size_t size)
{
    uint32_t value = armed_in32((uint16_t)step->target);
    if (!attempt_faulted(result, size))
        format_snprintf(result, size, "read 0x%08x", value);
}

static void step_out32(const struct hostile_step *step, char *result, size_t size)
{
    armed_out32((uint16_t)step->target, (uint32_t)step->value);
    if (!attempt_faulted(result, size))
        format_snprintf(result, size, "write done");
}

static void step_rdmsr(const struct hostile_step *step, char *result, size_t size)
{
    uint64_t value = armed_rdmsr(step->target);
    if (!attempt_faulted(result, size))
        format_snprintf(result, size, "read 0x%016llx", (unsigned long long)value);
}

static void step_wrmsr(const struct hostile_step *step, char *result, size_t size)
{
    armed_wrmsr(step->target, step->value);
    if (!attempt_faulted(result, size))
        format_snprintf(result, size, "write done");
}

/* Sets step->value's bits in the MSR, reads it back, and puts the old value back so that
 * under direct QEMU (where the write works) the later attempts meet the same machine as
 * under hvfw. */
static void step_msr_set_bits(const struct hostile_step *step, char *result, size_t size)
{
    uint64_t old = armed_rdmsr(step->target);
    if (attempt_faulted(result, size))
        return;
    armed_wrmsr(step->target, old | step->value);
    if (attempt_faulted(result, size))
        return;
    uint64_t now = armed_rdmsr(step->target);
    armed_wrmsr(step->target, old);
    format_snprintf(result, size, "write done: 0x%016llx -> 0x%016llx (bits %s), restored",
                    (unsigned long long)old, (unsigned long long)now,
                    (now & step->value) == step->value ? "set" : "NOT set");
}

static void step_hypercall(const struct hostile_step *step, char *result, size_t size)
{
    uint64_t output = PAGE_GPA(hypercall_output);
    uint64_t value = armed_hypercall(step->value, step->input, output);
    if (!attempt_faulted(result, size))
        format_snprintf(result, size, "status=0x%04x reps=%u (result 0x%016llx)",
                        (uint32_t)(value & 0xFFFF), (uint32_t)(value >> 32) & 0xFFF,
                        (unsigned long long)value);
}

static void step_svm(const struct hostile_step *step, char *result, size_t size)
{
    switch (step->target) {
    case 0xd8: armed_vmrun(); break;
    case 0xda: armed_vmload(); break;
    case 0xdb: armed_vmsave(); break;
    case 0xdc: armed_stgi(); break;
    case 0xdd: armed_clgi(); break;
    case 0xde: armed_skinit(); break;
    case 0xdf: armed_invlpga(); break;
    default: armed_ud2(); break;
    }
    if (!attempt_faulted(result, size))
        format_snprintf(result, size, "executed without a fault");
}

static const struct hostile_step steps[] = {
    /* Guest physical addresses outside the child's RAM. */
    {"gpa-ram-end", "read 32 bits at the first GPA past the child's RAM", step_read32,
     TARGET_RAM_END, 0, 0},
    {"gpa-read-1g", "read 32 bits at GPA 0x40000000", step_read32, 0x40000000u, 0, 0},
    {"gpa-write-1g", "write 0x12345678 at GPA 0x40000000", step_write32, 0x40000000u,
     0x12345678u, 0},
    {"lapic-read", "read the LAPIC version register at GPA 0xFEE00030", step_read32,
     0xFEE00030u, 0, 0},
    {"lapic-write", "write 0 to the LAPIC task priority register at GPA 0xFEE00080",
     step_write32, 0xFEE00080u, 0, 0},
    {"ioapic-select", "write 1 to IOAPIC IOREGSEL at GPA 0xFEC00000", step_write32,
     0xFEC00000u, 1, 0},
    {"ioapic-read", "read IOAPIC IOWIN at GPA 0xFEC00010", step_read32, 0xFEC00010u, 0, 0},
    {"gpa-read-top", "read 32 bits at GPA 0xFFFFFFFC (the reset vector's ROM)", step_read32,
     0xFFFFFFFCu, 0, 0},
    /* Physical I/O ports. */
    {"pci-address", "outl 0x80000000 to PCI CONFIG_ADDRESS 0xCF8 (bus 0, device 0, reg 0)",
     step_out32, 0xCF8, 0x80000000u, 0},
    {"pci-data", "inl PCI CONFIG_DATA 0xCFC", step_in32, 0xCFC, 0, 0},
    {"pic-mask", "outb 0xFF to the master PIC's mask register 0x21", step_out8, 0x21, 0xFF,
     0},
    {"pic-ocw3", "outb OCW3 0x0A (read IRR) to the master PIC 0x20", step_out8, 0x20, 0x0A,
     0},
    {"pic-read", "inb the master PIC 0x20", step_in8, 0x20, 0, 0},
    {"kbd-reset", "outb 0xFE (pulse the reset line) to the keyboard controller 0x64",
     step_out8, 0x64, 0xFE, 0},
    /* Host state behind MSRs. */
    {"efer-read", "rdmsr EFER 0xC0000080", step_rdmsr, MSR_EFER, 0, 0},
    {"efer-svme", "wrmsr EFER with SVME (bit 12) set", step_msr_set_bits, MSR_EFER,
     EFER_SVME, 0},
    {"vm-cr-read", "rdmsr VM_CR 0xC0010114", step_rdmsr, MSR_VM_CR, 0, 0},
    {"hsave-read", "rdmsr VM_HSAVE_PA 0xC0010117", step_rdmsr, MSR_VM_HSAVE_PA, 0, 0},
    {"hsave-write", "wrmsr VM_HSAVE_PA 0xC0010117 with 0x1000 set", step_msr_set_bits,
     MSR_VM_HSAVE_PA, 0x1000, 0},
    /* Hypercalls: garbage, then root-only calls and bad GPAs, counts and alignment. */
    {"hc-garbage-early", "vmmcall with garbage registers before the guest OS ID is set",
     step_hypercall, 0, 0xFFFFFFFFFFFFFFFFull, 0xDEADBEEFCAFEBABEull},
    {"hv-guest-os-id", "wrmsr HV_X64_MSR_GUEST_OS_ID 0x40000000", step_wrmsr,
     HV_X64_MSR_GUEST_OS_ID, 0x8000000000000001ull, 0},
    {"hv-hypercall-msr", "wrmsr HV_X64_MSR_HYPERCALL 0x40000001 (enable, page in own RAM)",
     step_wrmsr, HV_X64_MSR_HYPERCALL, 0, 0},
    {"hc-garbage", "vmmcall with control 0xFFFFFFFFFFFFFFFF and garbage GPAs",
     step_hypercall, 0, 0xFFFFFFFFFFFFFFFFull, 0xDEADBEEFCAFEBABEull},
    {"hc-create-partition", "HvCreatePartition (0x0040, root only)", step_hypercall, 0,
     HVCALL_CREATE_PARTITION, 0},
    {"hc-delete-root", "HvDeletePartition (0x0043, root only) of partition 1", step_hypercall,
     0, HVCALL_DELETE_PARTITION, 0},
    {"hc-map-gpa-lapic", "HvMapGpaPages (0x004B, root only), 1 rep, input GPA 0xFEE00000",
     step_hypercall, 0, HVCALL_MAP_GPA_PAGES | HC_REP_COUNT(1), 0xFEE00000ull},
    {"hc-rep-start-past-count", "HvMapGpaPages with rep start 0xFFF > rep count 1",
     step_hypercall, 0, HVCALL_MAP_GPA_PAGES | HC_REP_COUNT(1) | HC_REP_START(0xFFF), 0},
    {"hc-post-message-far", "HvPostMessage (0x005C), input GPA 0xFFFFFFFFFFFFF000",
     step_hypercall, 0, HVCALL_POST_MESSAGE, 0xFFFFFFFFFFFFF000ull},
    {"hc-post-message-misaligned", "HvPostMessage, input GPA misaligned by 1",
     step_hypercall, 0, HVCALL_POST_MESSAGE, 0},
    {"hc-signal-event-fast", "HvSignalEvent (0x005D) fast, connection id 0xFFFFFFFF",
     step_hypercall, 0, HVCALL_SIGNAL_EVENT | HC_FAST, 0xFFFFFFFFull},
    /* The SVM instructions and an undefined one: #UD expected. */
    {"vmrun", "vmrun (0F 01 D8), rAX = 0x1000", step_svm, 0xd8, 0, 0},
    {"vmload", "vmload (0F 01 DA), rAX = 0x1000", step_svm, 0xda, 0, 0},
    {"vmsave", "vmsave (0F 01 DB), rAX = 0x1000", step_svm, 0xdb, 0, 0},
    {"stgi", "stgi (0F 01 DC)", step_svm, 0xdc, 0, 0},
    {"clgi", "clgi (0F 01 DD)", step_svm, 0xdd, 0, 0},
    {"skinit", "skinit (0F 01 DE), EAX = 0x1000", step_svm, 0xde, 0, 0},
    {"invlpga", "invlpga (0F 01 DF), rAX = 0x1000, ECX = 0", step_svm, 0xdf, 0, 0},
    {"ud2", "ud2 (0F 0B)", step_svm, 0x0b, 0, 0},
};

#define STEP_COUNT (sizeof(steps) / sizeof(steps[0]))

/* Per-step inputs that depend on where the image sits: the hypercall pages' GPAs. */
static void step_prepare(const struct hostile_step *step, struct hostile_step *copy)
{
    *copy = *step;
    if (strcmp(step->id, "hv-hypercall-msr") == 0)
        copy->value = PAGE_GPA(hypercall_page) | 1; /* TLFS: bit 0 enables the page */
    else if (strcmp(step->id, "hc-create-partition") == 0 ||
             strcmp(step->id, "hc-delete-root") == 0)
        copy->input = PAGE_GPA(hypercall_input);
    else if (strcmp(step->id, "hc-post-message-misaligned") == 0)
        copy->input = PAGE_GPA(hypercall_input) + 1;
}

/* True when `id` is one of the comma-separated names of `skip=`. */
static bool step_skipped(const char *skip, const char *id)
{
    size_t length = strlen(id);
    for (const char *p = skip; *p;) {
        const char *end = p;
        while (*end && *end != ',')
            end++;
        if ((size_t)(end - p) == length && memcmp(p, id, length) == 0)
            return true;
        p = *end ? end + 1 : end;
    }
    return false;
}

static __attribute__((noreturn)) void triple_fault(void)
{
    /* An IDT limit of 0 leaves no gate for #BP, so INT3 raises #GP, which has no gate
     * either: #DF, which fails the same way, is a shutdown (Intel SDM vol. 3, 6.15,
     * "Interrupt 8 - Double Fault Exception"). */
    struct {
        uint16_t limit;
        uint32_t base;
    } __attribute__((packed)) empty = {0, 0};
    __asm__ volatile("lidt %0\n\tint3" : : "m"(empty) : "memory");
    guest_printf("FAIL the triple fault returned");
    guest_exit(GUEST_EXIT_FAIL);
}

int guest_main(const struct guest_boot *boot)
{
    char skip[128] = "";
    guest_cmdline_get(boot, "skip", skip, sizeof(skip));
    ram_end_address = boot->ram_bytes >= 0xFFFFFFFCu ? 0xFFFFFFFCu : (uint32_t)boot->ram_bytes;
    memset(hypercall_input, 0, sizeof(hypercall_input));
    hypercall_input[0] = 1; /* partition id 1 (the root) for HvDeletePartition */
    trap_set_hook(probe_trap);
    guest_printf("%u attempts, then a triple fault; RAM ends at 0x%08x", (unsigned)STEP_COUNT,
                 ram_end_address);

    unsigned n = 0;
    for (; n < STEP_COUNT; n++) {
        const struct hostile_step *step = &steps[n];
        if (step_skipped(skip, step->id)) {
            guest_printf("[%u] %s: skipped (command line)", n + 1, step->id);
            continue;
        }
        struct hostile_step prepared;
        step_prepare(step, &prepared);
        guest_printf("[%u] %s: %s", n + 1, step->id, step->what);
        char result[128];
        step->run(&prepared, result, sizeof(result));
        guest_printf("[%u] survived: %s", n + 1, result);
    }
    if (step_skipped(skip, "triple-fault")) {
        guest_printf("[%u] triple-fault: skipped (command line); stopping here", n + 1);
        return GUEST_EXIT_PASS;
    }
    guest_printf("[%u] triple-fault: lidt with limit 0, then int3; nothing follows", n + 1);
    triple_fault();
}
