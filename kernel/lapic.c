#include "kernel/lapic.h"

#include "kernel/acpi.h"
#include "kernel/log.h"
#include "kernel/main.h"
#include "kernel/paging.h"
#include "kernel/percpu.h"
#include "kernel/trap.h"
#include "kernel/tsc.h"
#include "kernel/x86.h"

/* Register offsets in the xAPIC page (SDM vol. 3, Table 11-1); the x2APIC MSR of each is
 * 0x800 + offset / 16 (SDM 11.12.1.2). */
enum lapic_register {
    LAPIC_ID = 0x020,
    LAPIC_VERSION = 0x030,
    LAPIC_TPR = 0x080,
    LAPIC_EOI = 0x0B0,
    LAPIC_SVR = 0x0F0,
    LAPIC_ESR = 0x280,
    LAPIC_ICR_LOW = 0x300,
    LAPIC_ICR_HIGH = 0x310,
    LAPIC_LVT_TIMER = 0x320,
    LAPIC_LVT_THERMAL = 0x330,
    LAPIC_LVT_PERFMON = 0x340,
    LAPIC_LVT_LINT0 = 0x350,
    LAPIC_LVT_LINT1 = 0x360,
    LAPIC_LVT_ERROR = 0x370,
    LAPIC_TIMER_INITIAL = 0x380,
    LAPIC_TIMER_CURRENT = 0x390,
    LAPIC_TIMER_DIVIDE = 0x3E0,
};

#define X2APIC_MSR_BASE 0x800u
#define APIC_BASE_ENABLE (1ull << 11)     /* IA32_APIC_BASE.EN (SDM 11.4.4) */
#define APIC_BASE_X2APIC (1ull << 10)     /* IA32_APIC_BASE.EXTD (SDM 11.12.1) */
#define APIC_BASE_ADDRESS_MASK 0x000FFFFFFFFFF000ull
#define CPUID1_ECX_X2APIC (1u << 21)

#define SVR_APIC_ENABLE (1u << 8)
#define LVT_MASKED (1u << 16)
#define LVT_LEVEL_TRIGGER (1u << 15)
#define LVT_ACTIVE_LOW (1u << 13)
#define LVT_DELIVERY_NMI (4u << 8)
#define LVT_TIMER_PERIODIC (1u << 17)
#define ICR_DELIVERY_PENDING (1u << 12)
#define ICR_LEVEL_ASSERT (1u << 14)
#define ICR_TRIGGER_LEVEL (1u << 15)
#define TIMER_DIVIDE_BY_16 0x3u            /* SDM Figure 11-10: 0b0011 */

#define XAPIC_MAX_ID 0xFEu                 /* 0xFF is the xAPIC broadcast ID */
#define ICR_POLL_LIMIT 1000000u

static volatile uint32_t *xapic_registers;
static bool x2apic_mode;
static uint64_t timer_hz; /* after the divide-by-16 */

static uint32_t lapic_read(enum lapic_register reg)
{
    if (x2apic_mode)
        return (uint32_t)rdmsr(X2APIC_MSR_BASE + reg / 16);
    return xapic_registers[reg / 4];
}

static void lapic_write(enum lapic_register reg, uint32_t value)
{
    if (x2apic_mode)
        wrmsr(X2APIC_MSR_BASE + reg / 16, value);
    else
        xapic_registers[reg / 4] = value;
}

bool lapic_is_x2apic(void)
{
    return x2apic_mode;
}

uint32_t lapic_id(void)
{
    uint32_t id = lapic_read(LAPIC_ID);
    return x2apic_mode ? id : id >> 24;
}

void lapic_eoi(void)
{
    lapic_write(LAPIC_EOI, 0);
}

/* Spurious interrupts get no EOI (SDM 11.9). */
static void spurious_interrupt(struct trap_frame *frame)
{
    (void)frame;
}

static void error_interrupt(struct trap_frame *frame)
{
    (void)frame;
    lapic_write(LAPIC_ESR, 0); /* latch the errors into the readable ESR (SDM 11.5.3) */
    uint32_t esr = lapic_read(LAPIC_ESR);
    log_warn("lapic: APIC error, ESR %x", esr);
    lapic_eoi();
}

void lapic_init(uint64_t madt_address, uint32_t max_apic_id)
{
    uint32_t eax, ebx, ecx, edx;
    cpuid(1, 0, &eax, &ebx, &ecx, &edx);
    bool has_x2apic = (ecx & CPUID1_ECX_X2APIC) != 0;
    uint64_t base = rdmsr(MSR_APIC_BASE);

    /* Leaving x2APIC mode needs a full disable (SDM 11.12.5), so keep what firmware chose;
     * otherwise xAPIC unless an ID needs more than 8 bits. */
    if (base & APIC_BASE_X2APIC)
        x2apic_mode = true;
    else if (max_apic_id > XAPIC_MAX_ID) {
        if (!has_x2apic)
            kernel_stop("lapic: APIC ID %u needs x2APIC, which this CPU lacks", max_apic_id);
        x2apic_mode = true;
    }

    uint64_t address = base & APIC_BASE_ADDRESS_MASK;
    if (madt_address && madt_address != address)
        log_warn("lapic: MADT says the APIC is at %lx, IA32_APIC_BASE says %lx; using the MSR",
                 madt_address, address);
    if (!x2apic_mode) {
        if (!paging_map_mmio(address, 4096))
            kernel_stop("lapic: cannot map the APIC registers at %lx", address);
        xapic_registers = (volatile uint32_t *)(uintptr_t)address;
    }
    trap_set_handler(LAPIC_VECTOR_SPURIOUS, spurious_interrupt);
    trap_set_handler(LAPIC_VECTOR_ERROR, error_interrupt);
    lapic_init_this_cpu();
    uint32_t version = lapic_read(LAPIC_VERSION);
    log_info("lapic: %s mode, base %lx, version %x, %u LVT entries, x2APIC %s, BSP id %u",
             x2apic_mode ? "x2APIC" : "xAPIC", address, version & 0xFF,
             ((version >> 16) & 0xFF) + 1, has_x2apic ? "available" : "absent", lapic_id());
}

/* Programs LINT0/LINT1 as NMI where the MADT says so for this CPU (5.2.12.7), else masks
 * them: the 8259 is masked (kernel/ioapic.c), so ExtINT through LINT0 is not wanted. */
static void lapic_setup_lint(void)
{
    uint32_t lint[2] = {LVT_MASKED, LVT_MASKED};
    const struct acpi_madt *madt = &acpi_platform.madt;
    uint32_t my_id = lapic_id();
    uint32_t uid = ACPI_NMI_ALL_PROCESSORS;
    for (size_t i = 0; i < madt->cpu_count; i++)
        if (madt->cpus[i].apic_id == my_id)
            uid = madt->cpus[i].processor_uid;
    for (size_t i = 0; i < madt->nmi_count; i++) {
        const struct acpi_nmi *nmi = &madt->nmis[i];
        if (nmi->lint > 1 || (nmi->processor_uid != ACPI_NMI_ALL_PROCESSORS &&
                              nmi->processor_uid != uid))
            continue;
        uint32_t v = LVT_DELIVERY_NMI;
        if ((nmi->flags & ACPI_ISO_POLARITY_MASK) == ACPI_ISO_POLARITY_LOW)
            v |= LVT_ACTIVE_LOW;
        lint[nmi->lint] = v; /* NMI delivery is always edge (SDM 11.5.1) */
    }
    lapic_write(LAPIC_LVT_LINT0, lint[0]);
    lapic_write(LAPIC_LVT_LINT1, lint[1]);
}

void lapic_init_this_cpu(void)
{
    uint64_t base = rdmsr(MSR_APIC_BASE);
    base |= APIC_BASE_ENABLE;
    if (x2apic_mode)
        base |= APIC_BASE_X2APIC; /* EN must be set before or with EXTD (SDM 11.12.5) */
    wrmsr(MSR_APIC_BASE, base);

    lapic_write(LAPIC_SVR, SVR_APIC_ENABLE | LAPIC_VECTOR_SPURIOUS);
    uint32_t lvt_count = ((lapic_read(LAPIC_VERSION) >> 16) & 0xFF) + 1;
    lapic_write(LAPIC_LVT_TIMER, LVT_MASKED);
    if (lvt_count >= 5)
        lapic_write(LAPIC_LVT_THERMAL, LVT_MASKED);
    if (lvt_count >= 4)
        lapic_write(LAPIC_LVT_PERFMON, LVT_MASKED);
    lapic_setup_lint();
    lapic_write(LAPIC_LVT_ERROR, LAPIC_VECTOR_ERROR);
    /* The ESR is write-then-read (SDM 11.5.3): clear what firmware left behind. */
    lapic_write(LAPIC_ESR, 0);
    lapic_write(LAPIC_ESR, 0);
    lapic_write(LAPIC_TPR, 0);
    lapic_eoi();
    this_cpu()->apic_id = lapic_id();
}

bool lapic_send_ipi(uint32_t apic_id, enum lapic_delivery mode, uint8_t vector)
{
    uint32_t low = ((uint32_t)mode << 8) | vector;
    if (mode == LAPIC_DELIVERY_INIT)
        low |= ICR_LEVEL_ASSERT | ICR_TRIGGER_LEVEL; /* SDM 11.6.1: INIT level assert */
    else
        low |= ICR_LEVEL_ASSERT;
    if (x2apic_mode) {
        /* One 64-bit MSR write, no delivery status (SDM 11.12.9). */
        wrmsr(X2APIC_MSR_BASE + LAPIC_ICR_LOW / 16, ((uint64_t)apic_id << 32) | low);
        return true;
    }
    if (apic_id > XAPIC_MAX_ID)
        return false;
    uint64_t flags = read_rflags();
    interrupts_disable(); /* ICR high and low must not be split by an interrupt's IPI */
    lapic_write(LAPIC_ICR_HIGH, apic_id << 24);
    lapic_write(LAPIC_ICR_LOW, low);
    bool delivered = false;
    for (uint32_t i = 0; i < ICR_POLL_LIMIT; i++) {
        if (!(lapic_read(LAPIC_ICR_LOW) & ICR_DELIVERY_PENDING)) {
            delivered = true;
            break;
        }
        cpu_relax();
    }
    if (flags & RFLAGS_IF)
        interrupts_enable();
    return delivered;
}

/* --- timer --------------------------------------------------------------------------- */

#define CALIBRATION_US 20000u

void lapic_timer_calibrate(void)
{
    /* Count down from the top for a TSC-measured interval, masked so nothing fires. */
    lapic_write(LAPIC_TIMER_DIVIDE, TIMER_DIVIDE_BY_16);
    lapic_write(LAPIC_LVT_TIMER, LVT_MASKED | LAPIC_VECTOR_TIMER);
    uint64_t t0 = time_now_ns();
    lapic_write(LAPIC_TIMER_INITIAL, 0xFFFFFFFFu);
    time_delay_us(CALIBRATION_US);
    uint32_t remaining = lapic_read(LAPIC_TIMER_CURRENT);
    uint64_t elapsed_ns = time_now_ns() - t0;
    lapic_write(LAPIC_TIMER_INITIAL, 0);
    uint64_t ticks = 0xFFFFFFFFu - remaining;
    if (ticks == 0 || elapsed_ns == 0)
        kernel_stop("lapic: the APIC timer did not count (%lu ticks in %lu ns)", ticks,
                    elapsed_ns);
    timer_hz = ticks * 1000000000ull / elapsed_ns;
    log_info("lapic: timer %lu kHz after divide-by-16 (%lu ticks in %lu us)", timer_hz / 1000,
             ticks, elapsed_ns / 1000);
}

uint64_t lapic_timer_hz(void)
{
    return timer_hz;
}

static uint32_t timer_count(uint64_t ns)
{
    /* Split so no product overflows 64 bits (timer_hz < 2^32, remainder < 2^30). */
    uint64_t ticks = ns / 1000000000u * timer_hz + ns % 1000000000u * timer_hz / 1000000000u;
    if (ticks == 0)
        return 1;
    return ticks > 0xFFFFFFFFu ? 0xFFFFFFFFu : (uint32_t)ticks;
}

void lapic_timer_oneshot(uint64_t ns, uint8_t vector)
{
    lapic_write(LAPIC_TIMER_DIVIDE, TIMER_DIVIDE_BY_16);
    lapic_write(LAPIC_LVT_TIMER, vector);
    lapic_write(LAPIC_TIMER_INITIAL, timer_count(ns));
}

void lapic_timer_periodic(uint64_t ns, uint8_t vector)
{
    lapic_write(LAPIC_TIMER_DIVIDE, TIMER_DIVIDE_BY_16);
    lapic_write(LAPIC_LVT_TIMER, LVT_TIMER_PERIODIC | vector);
    lapic_write(LAPIC_TIMER_INITIAL, timer_count(ns));
}

void lapic_timer_stop(void)
{
    lapic_write(LAPIC_LVT_TIMER, LVT_MASKED | LAPIC_VECTOR_TIMER);
    lapic_write(LAPIC_TIMER_INITIAL, 0);
}

static volatile uint32_t self_test_ticks;

static void self_test_interrupt(struct trap_frame *frame)
{
    (void)frame;
    self_test_ticks++;
    lapic_eoi();
}

void lapic_timer_self_test(void)
{
    const uint32_t period_us = 1000, run_us = 20000, patience_us = 1000000;
    self_test_ticks = 0;
    trap_set_handler(LAPIC_VECTOR_TIMER, self_test_interrupt);
    uint64_t flags = read_rflags();
    uint64_t t0 = time_now_ns();
    lapic_timer_periodic(period_us * 1000ull, LAPIC_VECTOR_TIMER);
    interrupts_enable();
    time_delay_us(run_us);
    /* An emulator's timers run on a host thread that a loaded host may starve for a while
     * (seen: none in 135 ms under QEMU TCG): only a timer silent for a whole second is
     * broken. */
    for (unsigned waited_us = run_us; self_test_ticks == 0 && waited_us < patience_us;
         waited_us += run_us)
        time_delay_us(run_us);
    interrupts_disable();
    lapic_timer_stop();
    uint64_t elapsed_us = (time_now_ns() - t0) / 1000;
    if (flags & RFLAGS_IF)
        interrupts_enable();
    trap_set_handler(LAPIC_VECTOR_TIMER, NULL);
    uint32_t ticks = self_test_ticks;
    uint64_t expected = elapsed_us / period_us;
    if (ticks == 0)
        kernel_stop("lapic: timer self-test: no interrupt in %lu us", elapsed_us);
    /* Loose bounds: an emulator may coalesce ticks while the host is busy; this catches a
     * timer off by a divider or a calibration gone wrong, not jitter. */
    if (ticks * 4 < expected || ticks > expected * 2 + 1)
        log_warn("lapic: timer self-test: %u interrupts in %lu us, expected about %lu", ticks,
                 elapsed_us, expected);
    else
        log_info("lapic: timer self-test: %u interrupts in %lu us at 1 kHz", ticks, elapsed_us);
}
