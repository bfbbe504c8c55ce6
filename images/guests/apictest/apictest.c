/*
 * apictest: checks the virtual local APIC a child VP gets from the hypervisor (hv/vlapic.c)
 * the way a guest kernel uses it, in x2APIC mode (Intel SDM vol. 3, 11.12):
 *   - CPUID: APIC, x2APIC, TSC-deadline, ARAT; IA32_APIC_BASE = EN|EXTD (+BSP on VP 0) at
 *     0xFEE00000; ID = VP index, VERSION, LDR;
 *   - software enable (a self-IPI to a disabled APIC is dropped), self-IPIs by SELF_IPI and
 *     by the ICR's self shorthand, delivery in priority order, TPR masking and PPR, IRR;
 *   - the timer: one-shot (not early, current count counting down), periodic (each tick on
 *     the grid start + k * period, never early; the lateness is printed), TSC-deadline
 *     (not early, the MSR reads 0 after it fired), counting at the APIC_FREQUENCY MSR's
 *     rate, measured by the partition reference counter;
 *   - an IPI from VP 0 to VP 1 (halted, woken by it) and back;
 *   - INIT/SIPI: VP 1 parked with interrupts off gets INIT, INIT de-assert and a Start-up
 *     IPI and runs a real-mode trampoline copied below 1 MiB with CS = vector << 8; a SIPI
 *     to a running VP is ignored; INIT + SIPI again start it at another page;
 *   - refusals: writes to read-only registers, reads of write-only ones, reserved bits in
 *     TPR, EOI, SVR, ICR, LVT, divide configuration and SELF_IPI, registers that do not
 *     exist, leaving x2APIC mode: #GP each, caught by the IDT, and nothing changed.
 * Needs 2 VPs. Prints `apictest: PASS` and exits 0, or `apictest: FAIL <what>` and exits
 * 1. Only meaningful under hvfw (it reads the Hyper-V reference counter and frequency MSRs).
 */
#include <stdint.h>
#include <string.h>

#include "images/guests/lib/cpu.h"
#include "images/guests/lib/guest.h"
#include "images/guests/lib/io.h"
#include "images/guests/lib/probe.h"
#include "images/guests/lib/trap.h"

const char guest_name[] = "apictest";

#define MSR_APIC_BASE 0x1Bu
#define MSR_TSC_DEADLINE 0x6E0u
#define MSR_ID 0x802u
#define MSR_VERSION 0x803u
#define MSR_TPR 0x808u
#define MSR_PPR 0x80Au
#define MSR_EOI 0x80Bu
#define MSR_LDR 0x80Du
#define MSR_SVR 0x80Fu
#define MSR_IRR0 0x820u
#define MSR_ESR 0x828u
#define MSR_ICR 0x830u
#define MSR_LVT_TIMER 0x832u
#define MSR_LVT_LINT0 0x835u
#define MSR_TIMER_INITIAL 0x838u
#define MSR_TIMER_CURRENT 0x839u
#define MSR_TIMER_DIVIDE 0x83Eu
#define MSR_SELF_IPI 0x83Fu
#define HV_X64_MSR_TIME_REF_COUNT 0x40000020u
#define HV_X64_MSR_TSC_FREQUENCY 0x40000022u
#define HV_X64_MSR_APIC_FREQUENCY 0x40000023u

#define LVT_MASKED (1u << 16)
#define TIMER_PERIODIC (1u << 17)
#define TIMER_TSC_DEADLINE (2u << 17)
#define DIVIDE_BY_1 0xBu
#define ICR_INIT_ASSERT 0x4500u   /* INIT, level assert */
#define ICR_INIT_DEASSERT 0x8500u /* INIT, level-triggered de-assert */
#define ICR_STARTUP 0x0600u
#define ICR_SELF (1u << 18)

#define VECTOR_GP 13
#define VECTOR_SPURIOUS 0xFF
#define TRAMPOLINE_A 0x9000u /* SIPI vector 0x09 */
#define TRAMPOLINE_B 0xA000u /* SIPI vector 0x0A */
#define PERIODIC_TICKS 20u
#define PERIOD_US 2000u

/* ---- MSRs, time ------------------------------------------------------------------------- */

/* Unarmed: a fault here is the runtime's FAIL line. */
static uint64_t rdmsr(uint32_t msr)
{
    uint32_t low, high;
    __asm__ volatile("rdmsr" : "=a"(low), "=d"(high) : "c"(msr) : "memory");
    return ((uint64_t)high << 32) | low;
}

static void wrmsr(uint32_t msr, uint64_t value)
{
    __asm__ volatile("wrmsr" : : "c"(msr), "a"((uint32_t)value), "d"((uint32_t)(value >> 32))
                     : "memory");
}

static uint64_t tsc_hz, apic_hz;

/* 100 ns units (TLFS 12.3). */
static uint64_t reference_time(void)
{
    return rdmsr(HV_X64_MSR_TIME_REF_COUNT);
}

/* Interrupts on for `us` microseconds (busy: HLT would wait for an interrupt that the
 * test may expect never to come). */
static void interrupts_on_for(uint32_t us)
{
    uint64_t end = rdtsc() + tsc_hz / 1000000 * us;
    __asm__ volatile("sti" ::: "memory");
    while (rdtsc() < end)
        cpu_relax();
    __asm__ volatile("cli" ::: "memory");
}

/* Interrupts on until *flag is nonzero or `ms` milliseconds passed; true if it became so. */
static bool wait_for(volatile uint32_t *flag, uint32_t ms)
{
    uint64_t end = rdtsc() + tsc_hz / 1000 * ms;
    __asm__ volatile("sti" ::: "memory");
    while (!*flag && rdtsc() < end)
        cpu_relax();
    __asm__ volatile("cli" ::: "memory");
    return *flag != 0;
}

/* ---- the IDT and the interrupt handler ----------------------------------------------- */

extern const uint8_t apictest_vector_stubs[];

/* The runtime's exception gates for 0-31, vectors.S's stubs for 32-255. */
static void idt_install(void)
{
    for (uint32_t v = TRAP_VECTORS; v < TRAP_IDT_ENTRIES; v++)
        trap_set_gate(v, apictest_vector_stubs + (v - TRAP_VECTORS) * 16);
    trap_install();
}

/* Per VP: how often each vector arrived, and VP 0's arrival order. */
static volatile uint32_t counts[2][256];
static volatile uint8_t order[16];
static volatile uint32_t order_length;
/* Timer ticks: when each arrived (reference time) and the TSC at the last one. */
static volatile uint64_t tick_times[PERIODIC_TICKS + 1];
static volatile uint32_t ticks;
static volatile uint64_t last_interrupt_tsc;

#define VECTOR_TIMER 0x50
#define VECTOR_PERIODIC 0x52
#define VECTOR_DEADLINE 0x53

void apictest_interrupt(uint32_t vector);
void apictest_interrupt(uint32_t vector)
{
    uint64_t tsc = rdtsc();
    uint32_t vp = (uint32_t)rdmsr(MSR_ID) & 1;
    counts[vp][vector & 0xFF]++;
    if (vp == 0 && order_length < sizeof(order))
        order[order_length++] = (uint8_t)vector;
    if (vector == VECTOR_PERIODIC && ticks < PERIODIC_TICKS + 1)
        tick_times[ticks++] = reference_time();
    last_interrupt_tsc = tsc;
    if (vector != VECTOR_SPURIOUS)
        wrmsr(MSR_EOI, 0); /* a spurious interrupt is not in service: no EOI (11.9) */
}

static void apic_enable(void)
{
    wrmsr(MSR_SVR, 0x100 | VECTOR_SPURIOUS);
}

static void reset_order(void)
{
    order_length = 0;
}

/* ---- the checks --------------------------------------------------------------------------- */

static void check_identity(void)
{
    struct cpuid_result r = cpuid(1);
    CHECK(r.edx & (1u << 9), "CPUID.1:EDX.APIC clear");
    CHECK(r.ecx & (1u << 21), "CPUID.1:ECX.x2APIC clear");
    CHECK(r.ecx & (1u << 24), "CPUID.1:ECX.TSC-deadline clear");
    CHECK((r.ebx >> 24) == 0, "CPUID.1:EBX initial APIC ID %u on VP 0", r.ebx >> 24);
    CHECK(cpuid(6).eax & (1u << 2), "CPUID.6:EAX.ARAT clear");
    uint64_t base = rdmsr(MSR_APIC_BASE);
    CHECK(base == 0xFEE00D00ull, "IA32_APIC_BASE %llx, want 0xfee00d00 (EN EXTD BSP)", base);
    CHECK(rdmsr(MSR_ID) == 0, "x2APIC ID %llu on VP 0", rdmsr(MSR_ID));
    CHECK((rdmsr(MSR_VERSION) & 0xFF00FF) == 0x60014, "VERSION %llx", rdmsr(MSR_VERSION));
    CHECK(rdmsr(MSR_LDR) == 1, "LDR %llx, want 1 (cluster 0, bit 0)", rdmsr(MSR_LDR));
    CHECK(rdmsr(MSR_SVR) == 0xFF, "SVR %llx at start, want 0xff", rdmsr(MSR_SVR));
    CHECK(rdmsr(MSR_LVT_TIMER) == LVT_MASKED, "LVT timer %llx at start, want masked",
          rdmsr(MSR_LVT_TIMER));
}

static void check_refusals(void)
{
    static const struct {
        bool write;
        uint32_t msr;
        uint64_t value;
        const char *what;
    } cases[] = {
        {true, MSR_ID, 5, "write ID"},
        {true, MSR_VERSION, 0, "write VERSION"},
        {true, MSR_PPR, 0, "write PPR"},
        {true, MSR_LDR, 0, "write LDR"},
        {true, MSR_IRR0, 0, "write IRR"},
        {true, MSR_TIMER_CURRENT, 0, "write current count"},
        {false, MSR_EOI, 0, "read EOI"},
        {false, MSR_SELF_IPI, 0, "read SELF_IPI"},
        {false, 0x801, 0, "read 0x801 (absent)"},
        {true, 0x8FF, 0, "write 0x8FF (absent)"},
        {true, MSR_EOI, 1, "EOI of 1"},
        {true, MSR_TPR, 0x100, "TPR bit 8"},
        {true, MSR_SVR, 0x11FF, "SVR EOI-broadcast suppression"},
        {true, MSR_ESR, 1, "ESR of 1"},
        {true, MSR_ICR, 0x1030, "ICR delivery status"},
        {true, MSR_ICR, 0x0330, "ICR delivery mode 3"},
        {true, MSR_LVT_TIMER, (3u << 17) | 0x40, "LVT timer mode 3"},
        {true, MSR_LVT_LINT0, 1u << 14, "LVT LINT0 remote IRR"},
        {true, MSR_TIMER_DIVIDE, 4, "divide configuration bit 2"},
        {true, MSR_TIMER_INITIAL, 1ull << 32, "initial count bit 32"},
        {true, MSR_SELF_IPI, 0x140, "SELF_IPI bit 8"},
        {true, MSR_APIC_BASE, 0xFEE00900ull, "IA32_APIC_BASE leaving x2APIC mode"},
        {true, MSR_APIC_BASE, 0, "IA32_APIC_BASE disable"},
    };
    for (uint32_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        uint64_t value = 0;
        uint32_t vector = cases[i].write ? try_wrmsr(cases[i].msr, cases[i].value)
                                         : try_rdmsr(cases[i].msr, &value);
        CHECK(vector == VECTOR_GP, "%s (msr 0x%x): %s", cases[i].what, cases[i].msr,
              vector == NO_FAULT ? "no fault" : "not #GP");
    }
    CHECK(rdmsr(MSR_TPR) == 0 && rdmsr(MSR_LVT_TIMER) == LVT_MASKED &&
              rdmsr(MSR_APIC_BASE) == 0xFEE00D00ull && rdmsr(MSR_TIMER_INITIAL) == 0,
          "a refused write changed a register");
    guest_printf("refusals: %u accesses #GP", (uint32_t)(sizeof(cases) / sizeof(cases[0])));
}

static void check_self_ipis(void)
{
    /* Software disabled: the interrupt is dropped, not held. */
    wrmsr(MSR_SELF_IPI, 0x40);
    apic_enable();
    interrupts_on_for(1000);
    CHECK(counts[0][0x40] == 0, "a self-IPI to a software-disabled APIC was delivered");

    /* Three at once: delivered highest first (SDM 11.8.3). */
    reset_order();
    wrmsr(MSR_SELF_IPI, 0x41);
    wrmsr(MSR_SELF_IPI, 0x61);
    wrmsr(MSR_ICR, ICR_SELF | 0x51);
    interrupts_on_for(1000);
    CHECK(order_length == 3 && order[0] == 0x61 && order[1] == 0x51 && order[2] == 0x41,
          "self-IPIs 0x41 0x61 0x51 arrived as %u: %x %x %x", order_length, order[0], order[1],
          order[2]);

    /* TPR 0x50 holds classes 5 and below back; PPR follows the TPR. */
    reset_order();
    wrmsr(MSR_TPR, 0x50);
    CHECK(rdmsr(MSR_PPR) == 0x50, "PPR %llx with TPR 0x50", rdmsr(MSR_PPR));
    wrmsr(MSR_SELF_IPI, 0x45);
    wrmsr(MSR_SELF_IPI, 0x55);
    wrmsr(MSR_SELF_IPI, 0x65);
    interrupts_on_for(1000);
    CHECK(order_length == 1 && order[0] == 0x65, "TPR 0x50: %u interrupts, first %x",
          order_length, order[0]);
    uint64_t irr2 = rdmsr(MSR_IRR0 + 2);
    CHECK(irr2 == ((1u << 5) | (1u << 21)), "IRR[95:64] %llx, want 0x45 and 0x55 pending",
          irr2);
    wrmsr(MSR_TPR, 0);
    interrupts_on_for(1000);
    CHECK(order_length == 3 && order[1] == 0x55 && order[2] == 0x45,
          "after TPR 0: %u interrupts", order_length);
    CHECK(rdmsr(MSR_IRR0 + 2) == 0 && rdmsr(MSR_PPR) == 0, "IRR or PPR not clear at the end");
}

static void check_one_shot(void)
{
    wrmsr(MSR_TIMER_DIVIDE, DIVIDE_BY_1);
    wrmsr(MSR_LVT_TIMER, VECTOR_TIMER);
    uint32_t initial = (uint32_t)(apic_hz / 1000); /* 1 ms */
    uint64_t start = reference_time();
    wrmsr(MSR_TIMER_INITIAL, initial);
    /* (It may be 0 already: a busy host can keep this VP from running for a millisecond.
     * The count-down itself is checked below with a longer timer.) */
    uint64_t current = rdmsr(MSR_TIMER_CURRENT);
    CHECK(current <= initial, "current count %llu of %u", current, initial);
    bool fired = wait_for(&counts[0][VECTOR_TIMER], 2000);
    uint64_t elapsed = reference_time() - start;
    CHECK(fired, "one-shot timer of 1 ms: no interrupt in 2 s");
    CHECK(elapsed >= 10, "one-shot timer of 1 ms fired after %llu00 ns", elapsed);
    CHECK(rdmsr(MSR_TIMER_CURRENT) == 0, "current count not 0 after expiry");
    interrupts_on_for(5000);
    CHECK(counts[0][VECTOR_TIMER] == 1, "one-shot timer fired %u times",
          counts[0][VECTOR_TIMER]);
    guest_printf("one-shot: 1 ms timer interrupt after %llu us", elapsed / 10);

    /* The count runs down; an initial count of 0 stops the timer. */
    wrmsr(MSR_TIMER_DIVIDE, 0xA); /* divide by 128 */
    wrmsr(MSR_TIMER_INITIAL, 0xFFFFFFFFu);
    uint64_t first = rdmsr(MSR_TIMER_CURRENT);
    interrupts_on_for(2000);
    uint64_t second = rdmsr(MSR_TIMER_CURRENT);
    CHECK(first <= 0xFFFFFFFFu && second < first, "current count %llu then %llu", first,
          second);
    wrmsr(MSR_TIMER_INITIAL, 0);
    CHECK(rdmsr(MSR_TIMER_CURRENT) == 0, "current count after stop");
}

static void check_periodic(void)
{
    wrmsr(MSR_TIMER_DIVIDE, DIVIDE_BY_1);
    wrmsr(MSR_LVT_TIMER, TIMER_PERIODIC | VECTOR_PERIODIC);
    uint32_t initial = (uint32_t)(apic_hz / 1000000 * PERIOD_US);
    uint64_t start = reference_time();
    wrmsr(MSR_TIMER_INITIAL, initial);
    uint64_t end = rdtsc() + tsc_hz * 5;
    while (ticks < PERIODIC_TICKS && rdtsc() < end)
        __asm__ volatile("sti; hlt; cli" ::: "memory"); /* the ticks wake the halted VP */
    wrmsr(MSR_LVT_TIMER, LVT_MASKED | TIMER_PERIODIC | VECTOR_PERIODIC);
    wrmsr(MSR_TIMER_INITIAL, 0);
    CHECK(ticks >= PERIODIC_TICKS, "periodic timer: %u ticks in 5 s", ticks);
    if (ticks < PERIODIC_TICKS)
        return;
    /* Tick k is due at start + k periods: never before (a tick may be skipped when the VP
     * was held up, never delivered early), and without drift the lateness does not grow
     * with k. Reference time: 100 ns units; PERIOD_US * 10 per period. */
    uint64_t period = PERIOD_US * 10, worst = 0;
    uint32_t early = 0;
    for (uint32_t k = 0; k < PERIODIC_TICKS; k++) {
        uint64_t due = start + (k + 1) * period;
        uint64_t at = tick_times[k];
        if (at + 2 < due) /* 200 ns: the reference time's rounding around the write */
            early++;
        else if (at > due && at - due > worst)
            worst = at - due;
    }
    uint64_t span = tick_times[PERIODIC_TICKS - 1] - start;
    CHECK(early == 0, "periodic timer: %u of %u ticks early", early, PERIODIC_TICKS);
    guest_printf("periodic: %u ticks of %u us in %llu us (grid %u us), latest tick %llu us "
                 "after its time", PERIODIC_TICKS, PERIOD_US, span / 10,
                 PERIODIC_TICKS * PERIOD_US, worst / 10);
}

static void check_tsc_deadline(void)
{
    /* Outside TSC-deadline mode the MSR ignores writes. */
    wrmsr(MSR_TSC_DEADLINE, rdtsc() + tsc_hz);
    CHECK(rdmsr(MSR_TSC_DEADLINE) == 0, "TSC_DEADLINE kept a write in one-shot mode");
    wrmsr(MSR_LVT_TIMER, TIMER_TSC_DEADLINE | VECTOR_DEADLINE);
    uint64_t deadline = rdtsc() + tsc_hz / 500; /* 2 ms */
    wrmsr(MSR_TSC_DEADLINE, deadline);
    CHECK(rdmsr(MSR_TSC_DEADLINE) == deadline, "TSC_DEADLINE does not read back");
    bool fired = wait_for(&counts[0][VECTOR_DEADLINE], 2000);
    CHECK(fired, "TSC-deadline timer: no interrupt in 2 s");
    if (fired) {
        CHECK(last_interrupt_tsc >= deadline, "TSC-deadline interrupt %llu TSC ticks early",
              deadline - last_interrupt_tsc);
        guest_printf("tsc-deadline: interrupt %llu us after the deadline",
                     (last_interrupt_tsc - deadline) * 1000000 / tsc_hz);
    }
    CHECK(rdmsr(MSR_TSC_DEADLINE) == 0, "TSC_DEADLINE not 0 after it fired");
    /* A deadline in the past fires at once; 0 disarms. */
    wrmsr(MSR_TSC_DEADLINE, 1);
    for (uint64_t end = rdtsc() + tsc_hz; counts[0][VECTOR_DEADLINE] < 2 && rdtsc() < end;)
        interrupts_on_for(100);
    CHECK(counts[0][VECTOR_DEADLINE] == 2, "a past TSC deadline did not fire");
    /* 200 ms ahead, so the disarming write surely comes first even when the host is slow
     * to run this VP; then wait past it. */
    wrmsr(MSR_TSC_DEADLINE, rdtsc() + tsc_hz / 5);
    wrmsr(MSR_TSC_DEADLINE, 0);
    interrupts_on_for(300000);
    CHECK(counts[0][VECTOR_DEADLINE] == 2, "a disarmed TSC deadline fired");
    wrmsr(MSR_LVT_TIMER, LVT_MASKED);
}

/* ---- VP 1 ------------------------------------------------------------------------------- */

static volatile uint32_t vp1_ready;

void guest_secondary_main(const struct guest_boot *boot, uint32_t vp_index)
{
    (void)boot;
    if (vp_index == 1) {
        idt_install();
        apic_enable();
        __atomic_store_n(&vp1_ready, 1, __ATOMIC_RELEASE);
        /* Halted until VP 0's IPI wakes it. */
        while (!counts[1][0x70])
            __asm__ volatile("sti; hlt; cli" ::: "memory");
        wrmsr(MSR_ICR, 0x71); /* physical destination 0 */
    }
    cpu_park(); /* interrupts off: only INIT and a Start-up IPI get it going again */
}

static void check_ipis(void)
{
    uint32_t ready = 0;
    for (uint64_t end = rdtsc() + tsc_hz * 2; !ready && rdtsc() < end;)
        ready = __atomic_load_n(&vp1_ready, __ATOMIC_ACQUIRE);
    CHECK(ready, "VP 1 did not come up (the child needs 2 VPs)");
    if (!ready)
        return;
    interrupts_on_for(2000); /* VP 1 is halted by now */
    wrmsr(MSR_ICR, (1ull << 32) | 0x70);
    bool back = wait_for(&counts[0][0x71], 2000);
    CHECK(counts[1][0x70] == 1, "VP 1 got IPI 0x70 %u times", counts[1][0x70]);
    CHECK(back, "no IPI 0x71 back from VP 1");
    guest_printf("ipi: VP 0 -> VP 1 (halted, woken) -> VP 0");
}

extern const uint8_t apictest_trampoline[], apictest_trampoline_end[];
extern const uint8_t apictest_trampoline_count[], apictest_trampoline_cs[];

static volatile uint32_t *trampoline_count(uint32_t page)
{
    return (volatile uint32_t *)(uintptr_t)(page + (apictest_trampoline_count -
                                                    apictest_trampoline));
}

static uint16_t trampoline_cs(uint32_t page)
{
    return *(volatile uint16_t *)(uintptr_t)(page + (apictest_trampoline_cs -
                                                     apictest_trampoline));
}

/* INIT (assert, then de-assert as Linux sends it) and a Start-up IPI, to VP 1. */
static void init_sipi(uint32_t page)
{
    wrmsr(MSR_ICR, (1ull << 32) | ICR_INIT_ASSERT);
    wrmsr(MSR_ICR, (1ull << 32) | ICR_INIT_DEASSERT);
    wrmsr(MSR_ICR, (1ull << 32) | ICR_STARTUP | (page >> 12));
}

static void check_init_sipi(void)
{
    size_t size = (size_t)(apictest_trampoline_end - apictest_trampoline);
    memcpy((void *)(uintptr_t)TRAMPOLINE_A, apictest_trampoline, size);
    memcpy((void *)(uintptr_t)TRAMPOLINE_B, apictest_trampoline, size);
    interrupts_on_for(2000); /* VP 1 parks after its reply */
    init_sipi(TRAMPOLINE_A);
    bool ran = wait_for(trampoline_count(TRAMPOLINE_A), 2000);
    CHECK(ran, "INIT/SIPI 0x09: VP 1 did not run the real-mode trampoline");
    CHECK(trampoline_cs(TRAMPOLINE_A) == 0x0900, "INIT/SIPI 0x09: CS %x, want 0x900",
          trampoline_cs(TRAMPOLINE_A));
    /* VP 1 runs (halted in the trampoline): a SIPI alone is ignored. */
    wrmsr(MSR_ICR, (1ull << 32) | ICR_STARTUP | (TRAMPOLINE_B >> 12));
    interrupts_on_for(20000);
    CHECK(*trampoline_count(TRAMPOLINE_B) == 0, "a SIPI to a running VP started it");
    init_sipi(TRAMPOLINE_B);
    ran = wait_for(trampoline_count(TRAMPOLINE_B), 2000);
    CHECK(ran && trampoline_cs(TRAMPOLINE_B) == 0x0A00,
          "INIT/SIPI 0x0A: ran %d with CS %x", ran, trampoline_cs(TRAMPOLINE_B));
    CHECK(*trampoline_count(TRAMPOLINE_A) == 1, "the first trampoline ran %u times",
          *trampoline_count(TRAMPOLINE_A));
    guest_printf("init-sipi: VP 1 started in real mode at 0900:0000, then 0a00:0000");
}

int guest_main(const struct guest_boot *boot)
{
    if (boot->loader != GUEST_LOADER_HVFW)
        guest_printf("not started by hvfw: the checks below expect hvfw's virtual APIC");
    idt_install();
    trap_set_hook(probe_trap); /* only VP 0 arms */
    tsc_hz = rdmsr(HV_X64_MSR_TSC_FREQUENCY);
    apic_hz = rdmsr(HV_X64_MSR_APIC_FREQUENCY);
    guest_printf("TSC %llu Hz, APIC timer %llu Hz", tsc_hz, apic_hz);
    if (tsc_hz < 1000000 || apic_hz < 1000000) {
        guest_printf("FAIL frequency MSRs");
        return GUEST_EXIT_FAIL;
    }
    check_identity();
    check_refusals();
    check_self_ipis();
    check_one_shot();
    check_periodic();
    check_tsc_deadline();
    check_ipis();
    check_init_sipi();
    CHECK(counts[0][VECTOR_SPURIOUS] == 0, "%u spurious interrupts",
          counts[0][VECTOR_SPURIOUS]);
    guest_printf(checks_failed ? "FAIL" : "PASS");
    return checks_failed ? GUEST_EXIT_FAIL : GUEST_EXIT_PASS;
}
