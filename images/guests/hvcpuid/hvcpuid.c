/*
 * hvcpuid: checks the Hyper-V enlightenments a child partition gets from the hypervisor
 * (hv/hyperv.c), as a Hyper-V guest finds them (TLFS v6.0b chapters 2 and 3):
 *   - CPUID.1:ECX[31] and the leaves 0x40000000-0x40000005 and 0x4000000A: "Microsoft Hv",
 *     "Hv#1", the version, the features (hypercall MSRs, VP index, reference counter,
 *     frequency MSRs; never the root partition's CPU management bit), the hints, limits;
 *   - VMMCALL before the guest OS identity is reported: #UD; the HYPERCALL MSR then
 *     ignores writes;
 *   - GUEST_OS_ID, then HYPERCALL: reserved bits, a page outside RAM and the test device
 *     window are #GP; a page in its RAM reads back enabled and holds VMMCALL/VMCALL; RET;
 *   - HvCallGetPartitionId through that page in the 32-bit convention (TLFS 3.8): status 0
 *     and a partition id; an unknown call code: HV_STATUS_INVALID_HYPERCALL_CODE;
 *   - VP_INDEX on VP 0 and (with 2 VPs) VP 1; the read-only MSRs refuse writes;
 *   - TIME_REF_COUNT twice around a wait of 50 ms measured by RDTSC with the TSC frequency
 *     MSR: it advances, and by the same time in 100 ns units (within 10%);
 *   - GUEST_OS_ID = 0 turns the hypercall page off and VMMCALL faults again.
 * Prints `hvcpuid: PASS` and exits 0, or `hvcpuid: FAIL <what>` and exits 1. Only
 * meaningful under hvfw: plain QEMU TCG has no Hyper-V leaves (it fails at the first).
 */
#include <stdint.h>

#include "images/guests/lib/cpu.h"
#include "images/guests/lib/guest.h"
#include "images/guests/lib/hypercall.h"
#include "images/guests/lib/probe.h"
#include "images/guests/lib/trap.h"

const char guest_name[] = "hvcpuid";

#define HV_X64_MSR_GUEST_OS_ID 0x40000000u
#define HV_X64_MSR_HYPERCALL 0x40000001u
#define HV_X64_MSR_VP_INDEX 0x40000002u
#define HV_X64_MSR_TIME_REF_COUNT 0x40000020u
#define HV_X64_MSR_TSC_FREQUENCY 0x40000022u
#define HV_X64_MSR_APIC_FREQUENCY 0x40000023u

/* Linux's identity: open-source vendor 0x8100 in 63:48, its version code in 31:16. */
#define GUEST_OS_ID_VALUE 0x8100000000060100ull
#define HVCALL_SWITCH_VIRTUAL_ADDRESS_SPACE 0x0001u /* not implemented by hvfw */
#define HVCALL_GET_PARTITION_ID 0x0046u
#define HV_STATUS_SUCCESS 0
#define HV_STATUS_INVALID_HYPERCALL_CODE 2
#define TEST_DEVICE_GPA 0xFEB00000u
#define VECTOR_UD 6
#define VECTOR_GP 13

static uint8_t hypercall_page[4096] __attribute__((aligned(4096)));
static uint8_t output_page[4096] __attribute__((aligned(4096)));
static volatile uint32_t vp1_index = NO_FAULT, vp1_done;

static uint64_t rdmsr_checked(uint32_t msr, const char *name)
{
    uint64_t value = 0;
    uint32_t vector = try_rdmsr(msr, &value);
    CHECK(vector == NO_FAULT, "rdmsr %s (0x%x): exception %u", name, msr, vector);
    return value;
}

/* VMMCALL itself (not through the page), 32-bit convention, control = `code`. */
static uint32_t try_vmmcall(uint32_t code)
{
    uint32_t eax = code, edx = 0;
    probe_begin();
    __asm__ volatile(ARM ".byte 0x0f, 0x01, 0xd9 /* vmmcall */" DISARM
                     : "+a"(eax), "+d"(edx), ARM_OPERANDS
                     : "b"(0), "c"(0), "D"(0), "S"((uint32_t)(uintptr_t)output_page)
                     : "memory");
    return probe_caught_vector;
}

static void check_leaves(void)
{
    CHECK(cpuid(1).ecx & (1u << 31), "CPUID.1:ECX[31] (hypervisor present) is clear");
    struct cpuid_result r = cpuid(0x40000000u);
    char vendor[13];
    __builtin_memcpy(vendor, &r.ebx, 4);
    __builtin_memcpy(vendor + 4, &r.ecx, 4);
    __builtin_memcpy(vendor + 8, &r.edx, 4);
    vendor[12] = '\0';
    guest_printf("leaf 0x40000000: max 0x%08x vendor \"%s\"", r.eax, vendor);
    CHECK(r.ebx == 0x7263694Du && r.ecx == 0x666F736Fu && r.edx == 0x76482074u,
          "vendor is not \"Microsoft Hv\"");
    CHECK(r.eax >= 0x40000005u && r.eax <= 0x4000FFFFu, "max leaf 0x%08x", r.eax);
    uint32_t max = r.eax;

    r = cpuid(0x40000001u);
    CHECK(r.eax == 0x31237648u, "interface 0x%08x is not \"Hv#1\"", r.eax);
    r = cpuid(0x40000002u);
    guest_printf("leaf 0x40000002: build %u version %u.%u", r.eax, r.ebx >> 16,
                 r.ebx & 0xFFFF);
    r = cpuid(0x40000003u);
    guest_printf("leaf 0x40000003: features eax=0x%08x ebx=0x%08x edx=0x%08x", r.eax, r.ebx,
                 r.edx);
    /* TIME_REF_COUNT (1), hypercall MSRs (5), VP index (6), frequency MSRs (11). */
    CHECK((r.eax & 0x862u) == 0x862u, "features EAX 0x%08x lacks bits 1, 5, 6 or 11", r.eax);
    CHECK(r.edx & (1u << 8), "features EDX 0x%08x lacks bit 8 (frequency MSRs)", r.edx);
    CHECK(!(r.ebx & (1u << 12)), "features EBX 0x%08x has CpuManagement (root)", r.ebx);
    r = cpuid(0x40000004u);
    guest_printf("leaf 0x40000004: hints eax=0x%08x spin=0x%08x", r.eax, r.ebx);
    CHECK(r.eax & (1u << 9), "hints lack bit 9 (deprecate AutoEOI)");
    r = cpuid(0x40000005u);
    guest_printf("leaf 0x40000005: max VPs %u, max LPs %u", r.eax, r.ebx);
    CHECK(r.eax >= 1 && r.ebx >= 1, "limits 0x%08x 0x%08x", r.eax, r.ebx);
    if (max >= 0x4000000Au) {
        r = cpuid(0x4000000Au);
        CHECK((r.eax | r.ebx | r.ecx | r.edx) == 0, "leaf 0x4000000A is not zero");
    }
}

static void check_hypercall_setup(const struct guest_boot *boot)
{
    uint64_t value;
    uint32_t page = (uint32_t)(uintptr_t)hypercall_page;

    uint32_t vector = try_vmmcall(HVCALL_GET_PARTITION_ID);
    guest_printf("vmmcall before GUEST_OS_ID: %s", vector == NO_FAULT ? "no fault"
                                                                      : trap_vector_name(vector));
    CHECK(vector == VECTOR_UD, "vmmcall before GUEST_OS_ID did not raise #UD");
    CHECK(try_wrmsr(HV_X64_MSR_HYPERCALL, page | 1u) == NO_FAULT,
          "HYPERCALL write before GUEST_OS_ID faulted");
    value = rdmsr_checked(HV_X64_MSR_HYPERCALL, "HYPERCALL");
    CHECK(value == 0, "HYPERCALL before GUEST_OS_ID reads 0x%llx, not 0",
          (unsigned long long)value);

    CHECK(try_wrmsr(HV_X64_MSR_GUEST_OS_ID, GUEST_OS_ID_VALUE) == NO_FAULT,
          "GUEST_OS_ID write faulted");
    value = rdmsr_checked(HV_X64_MSR_GUEST_OS_ID, "GUEST_OS_ID");
    CHECK(value == GUEST_OS_ID_VALUE, "GUEST_OS_ID reads 0x%llx", (unsigned long long)value);

    /* Refused: a reserved bit, the test device window (no RAM), a page past the RAM. */
    CHECK(try_wrmsr(HV_X64_MSR_HYPERCALL, page | 1u | 4u) == VECTOR_GP,
          "HYPERCALL with reserved bit 2 was not #GP");
    CHECK(try_wrmsr(HV_X64_MSR_HYPERCALL, TEST_DEVICE_GPA | 1u) == VECTOR_GP,
          "HYPERCALL page in the test device was not #GP");
    CHECK(try_wrmsr(HV_X64_MSR_HYPERCALL, (boot->ram_bytes & ~0xFFFull) | 1u) == VECTOR_GP,
          "HYPERCALL page past the RAM was not #GP");

    CHECK(try_wrmsr(HV_X64_MSR_HYPERCALL, page | 1u) == NO_FAULT, "HYPERCALL enable faulted");
    value = rdmsr_checked(HV_X64_MSR_HYPERCALL, "HYPERCALL");
    guest_printf("HYPERCALL 0x%llx: page %02x %02x %02x %02x", (unsigned long long)value,
                 hypercall_page[0], hypercall_page[1], hypercall_page[2], hypercall_page[3]);
    CHECK(value == (page | 1u), "HYPERCALL reads back 0x%llx", (unsigned long long)value);
    const uint8_t *code = hypercall_page;
    if (code[0] == 0xF3 && code[1] == 0x0F && code[2] == 0x1E && code[3] == 0xFA)
        code += 4; /* ENDBR64 */
    CHECK(code[0] == 0x0F && code[1] == 0x01 && (code[2] == 0xD9 || code[2] == 0xC1) &&
              code[3] == 0xC3,
          "the hypercall page holds no VMMCALL/VMCALL; RET");
}

static void check_hypercalls(void)
{
    hypercall_page_set(hypercall_page);
    uint32_t output = (uint32_t)(uintptr_t)output_page;
    __builtin_memset(output_page, 0xEE, 8);
    uint64_t result = hypercall_through_page(HVCALL_GET_PARTITION_ID, 0, output);
    uint64_t id;
    __builtin_memcpy(&id, output_page, sizeof(id));
    guest_printf("HvCallGetPartitionId through the page: status 0x%04x, partition id %llu",
                 (uint32_t)(result & 0xFFFF), (unsigned long long)id);
    CHECK((result & 0xFFFF) == HV_STATUS_SUCCESS, "HvCallGetPartitionId status 0x%llx",
          (unsigned long long)result);
    CHECK(id >= 1 && id != 0xEEEEEEEEEEEEEEEEull, "partition id %llu", (unsigned long long)id);
    result = hypercall_through_page(HVCALL_SWITCH_VIRTUAL_ADDRESS_SPACE | (1u << 16), 0, 0);
    CHECK((result & 0xFFFF) == HV_STATUS_INVALID_HYPERCALL_CODE,
          "an unimplemented call gave status 0x%llx", (unsigned long long)result);
}

void guest_secondary_main(const struct guest_boot *boot, uint32_t vp_index)
{
    (void)boot;
    if (vp_index == 1) {
        /* Not armed (the armed-instruction state belongs to VP 0): a fault here is the
         * runtime's FAIL. */
        uint32_t low, high;
        __asm__ volatile("rdmsr" : "=a"(low), "=d"(high) : "c"(HV_X64_MSR_VP_INDEX));
        vp1_index = low;
        __atomic_store_n(&vp1_done, 1, __ATOMIC_RELEASE);
    }
    for (;;)
        __asm__ volatile("cli; hlt");
}

static void check_vp_index(const struct guest_boot *boot, uint64_t tsc_hz)
{
    uint64_t value = rdmsr_checked(HV_X64_MSR_VP_INDEX, "VP_INDEX");
    CHECK(value == boot->vp_index, "VP_INDEX %llu on VP %u", (unsigned long long)value,
          boot->vp_index);
    CHECK(try_wrmsr(HV_X64_MSR_VP_INDEX, 5) == VECTOR_GP, "VP_INDEX write was not #GP");
    /* VP 1, if the child has one, reads its own (at most a second's wait). */
    uint64_t start = rdtsc();
    while (!__atomic_load_n(&vp1_done, __ATOMIC_ACQUIRE) && rdtsc() - start < tsc_hz)
        __asm__ volatile("pause");
    if (__atomic_load_n(&vp1_done, __ATOMIC_ACQUIRE)) {
        guest_printf("VP_INDEX: %llu on VP 0, %u on VP 1", (unsigned long long)value,
                     vp1_index);
        CHECK(vp1_index == 1, "VP_INDEX on VP 1 is %u", vp1_index);
    } else {
        guest_printf("VP_INDEX: %llu on VP 0 (no VP 1)", (unsigned long long)value);
    }
}

static void check_reference_time(uint64_t tsc_hz)
{
    CHECK(try_wrmsr(HV_X64_MSR_TIME_REF_COUNT, 0) == VECTOR_GP,
          "TIME_REF_COUNT write was not #GP");
    uint64_t ref0 = rdmsr_checked(HV_X64_MSR_TIME_REF_COUNT, "TIME_REF_COUNT");
    uint64_t tsc0 = rdtsc();
    uint64_t tsc1;
    do
        tsc1 = rdtsc();
    while (tsc1 - tsc0 < tsc_hz / 20); /* 50 ms */
    uint64_t ref1 = rdmsr_checked(HV_X64_MSR_TIME_REF_COUNT, "TIME_REF_COUNT");
    uint64_t tsc_units = (tsc1 - tsc0) * 10000000ull / tsc_hz; /* 100 ns units */
    uint64_t ref_units = ref1 - ref0;
    guest_printf("TIME_REF_COUNT %llu -> %llu: %llu units over %llu units of RDTSC",
                 (unsigned long long)ref0, (unsigned long long)ref1,
                 (unsigned long long)ref_units, (unsigned long long)tsc_units);
    CHECK(ref1 > ref0, "TIME_REF_COUNT did not advance");
    uint64_t difference = ref_units > tsc_units ? ref_units - tsc_units : tsc_units - ref_units;
    CHECK(difference <= tsc_units / 10, "TIME_REF_COUNT and RDTSC disagree by %llu units",
          (unsigned long long)difference);
}

int guest_main(const struct guest_boot *boot)
{
    trap_set_hook(probe_trap);
    check_leaves();
    if (checks_failed)
        return GUEST_EXIT_FAIL; /* no Hyper-V interface: the rest would only fault */

    uint64_t tsc_hz = rdmsr_checked(HV_X64_MSR_TSC_FREQUENCY, "TSC_FREQUENCY");
    uint64_t apic_hz = rdmsr_checked(HV_X64_MSR_APIC_FREQUENCY, "APIC_FREQUENCY");
    guest_printf("TSC %llu kHz, APIC timer %llu kHz", (unsigned long long)(tsc_hz / 1000),
                 (unsigned long long)(apic_hz / 1000));
    CHECK(tsc_hz >= 1000000 && apic_hz >= 1000000, "frequencies below 1 MHz");
    CHECK(try_wrmsr(HV_X64_MSR_TSC_FREQUENCY, 1) == VECTOR_GP, "TSC_FREQUENCY write not #GP");
    if (checks_failed)
        return GUEST_EXIT_FAIL;

    check_hypercall_setup(boot);
    if (!checks_failed)
        check_hypercalls();
    check_vp_index(boot, tsc_hz);
    check_reference_time(tsc_hz);

    /* Withdrawing the identity turns the page off; VMMCALL is no hypercall again. */
    CHECK(try_wrmsr(HV_X64_MSR_GUEST_OS_ID, 0) == NO_FAULT, "GUEST_OS_ID = 0 faulted");
    uint64_t value = rdmsr_checked(HV_X64_MSR_HYPERCALL, "HYPERCALL");
    CHECK(!(value & 1), "HYPERCALL still enabled (0x%llx) after GUEST_OS_ID = 0",
          (unsigned long long)value);
    CHECK(try_vmmcall(HVCALL_GET_PARTITION_ID) == VECTOR_UD,
          "vmmcall after GUEST_OS_ID = 0 did not raise #UD");

    if (checks_failed)
        return GUEST_EXIT_FAIL;
    guest_printf("PASS");
    return GUEST_EXIT_PASS;
}
