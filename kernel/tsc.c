#include "kernel/tsc.h"

#include <stdbool.h>

#include "kernel/log.h"
#include "kernel/main.h"
#include "kernel/x86.h"

#define PM_TIMER_HZ 3579545u   /* ACPI 6.5, 4.8.3.3 */
#define PIT_HZ 1193182u        /* 8254 input clock */
#define CALIBRATION_MS 50u

/* PIT ports (8254 data sheet; PC/AT port 0x61 layout). */
#define PIT_CHANNEL2 0x42
#define PIT_COMMAND 0x43
#define PORT_B 0x61
#define PORT_B_GATE2 0x01
#define PORT_B_SPEAKER 0x02
#define PORT_B_OUT2 0x20
#define PIT_CMD_CH2_LOHI_MODE0 0xB0 /* channel 2, lobyte/hibyte, mode 0, binary */

/* A stuck or absent timer must not hang the boot: give up after this many reads that saw
 * no progress (far more than one timer tick takes even on a slow emulator). */
#define STALL_LIMIT 1000000u

static uint64_t khz;
static uint64_t base_tsc;
static uint64_t ns_per_tick_fixed32; /* nanoseconds per TSC tick, 32.32 fixed point */
static uint64_t last_ns;             /* keeps time_now_ns monotonic across CPUs */

/* Returns TSC ticks over about CALIBRATION_MS against the PM timer, or 0 on failure. */
static uint64_t measure_with_pm_timer(uint16_t port, bool wide, uint64_t *reference_ns)
{
    uint32_t mask = wide ? 0xFFFFFFFFu : 0x00FFFFFFu;
    uint32_t target = PM_TIMER_HZ / 1000u * CALIBRATION_MS;
    /* Start on a tick edge so the TSC and the PM timer start together. */
    uint32_t start = inl(port) & mask, now = start;
    for (uint32_t stall = 0; now == start; stall++) {
        if (stall == STALL_LIMIT)
            return 0;
        now = inl(port) & mask;
    }
    start = now;
    uint64_t t0 = rdtsc(), t1 = t0;
    uint32_t elapsed = 0, previous = start;
    for (uint32_t stall = 0; elapsed < target;) {
        now = inl(port) & mask;
        t1 = rdtsc();
        if (now == previous && ++stall == STALL_LIMIT)
            return 0;
        if (now != previous)
            stall = 0;
        previous = now;
        elapsed = (now - start) & mask; /* wraps at 24 or 32 bits */
    }
    *reference_ns = (uint64_t)elapsed * 1000000000ull / PM_TIMER_HZ;
    return t1 - t0;
}

static uint64_t measure_with_pit(uint64_t *reference_ns)
{
    uint32_t count = PIT_HZ / 1000u * CALIBRATION_MS; /* < 65536 */
    uint8_t port_b = inb(PORT_B);
    outb(PORT_B, (uint8_t)((port_b & ~PORT_B_SPEAKER) | PORT_B_GATE2));
    outb(PIT_COMMAND, PIT_CMD_CH2_LOHI_MODE0);
    outb(PIT_CHANNEL2, (uint8_t)count);
    outb(PIT_CHANNEL2, (uint8_t)(count >> 8));
    /* Mode 0: OUT2 goes high when the count reaches zero. */
    uint64_t t0 = rdtsc();
    bool done = false;
    for (uint32_t i = 0; i < 100u * STALL_LIMIT; i++) {
        if (inb(PORT_B) & PORT_B_OUT2) {
            done = true;
            break;
        }
    }
    uint64_t t1 = rdtsc();
    outb(PORT_B, port_b);
    *reference_ns = (uint64_t)count * 1000000000ull / PIT_HZ;
    return done ? t1 - t0 : 0;
}

static bool invariant_tsc(void)
{
    uint32_t eax, ebx, ecx, edx;
    cpuid(0x80000000u, 0, &eax, &ebx, &ecx, &edx);
    if (eax < 0x80000007u)
        return false;
    cpuid(0x80000007u, 0, &eax, &ebx, &ecx, &edx);
    return (edx & (1u << 8)) != 0;
}

void tsc_calibrate(const struct acpi_fadt *fadt)
{
    uint64_t flags = read_rflags();
    interrupts_disable();
    uint64_t ticks = 0, reference_ns = 0;
    const char *source = "PIT channel 2";
    if (fadt && fadt->pm_timer.space_id == ACPI_SPACE_IO && fadt->pm_timer.address != 0 &&
        fadt->pm_timer.address <= 0xFFFF) {
        ticks = measure_with_pm_timer((uint16_t)fadt->pm_timer.address, fadt->pm_timer_32bit,
                                      &reference_ns);
        if (ticks)
            source = "the ACPI PM timer";
        else
            log_warn("tsc: the ACPI PM timer at port %lx does not advance; trying the PIT",
                     fadt->pm_timer.address);
    }
    if (!ticks)
        ticks = measure_with_pit(&reference_ns);
    if (flags & RFLAGS_IF)
        interrupts_enable();
    if (!ticks || !reference_ns)
        kernel_stop("tsc: cannot measure the TSC: neither the PM timer nor the PIT counts");

    uint64_t measured = ticks * 1000000ull / reference_ns; /* ticks per ms = kHz */
    if (measured == 0)
        kernel_stop("tsc: measured frequency is zero (%lu ticks in %lu ns)", ticks,
                    reference_ns);
    /* Keep time continuous if this is a re-calibration. */
    uint64_t now = khz ? time_now_ns() : 0;
    base_tsc = rdtsc();
    __atomic_store_n(&last_ns, now, __ATOMIC_RELAXED);
    ns_per_tick_fixed32 = (1000000ull << 32) / measured;
    khz = measured;
    if (now)
        base_tsc -= now / 1000000u * measured + now % 1000000u * measured / 1000000u;
    log_info("tsc: %lu kHz measured against %s over %lu us; invariant TSC: %s", khz, source,
             reference_ns / 1000, invariant_tsc() ? "yes" : "no");
}

uint64_t tsc_khz(void)
{
    if (!khz)
        tsc_calibrate(NULL);
    return khz;
}

uint64_t time_now_ns(void)
{
    if (!khz)
        tsc_calibrate(NULL);
    uint64_t ticks = rdtsc() - base_tsc;
    uint64_t now = (uint64_t)(((unsigned __int128)ticks * ns_per_tick_fixed32) >> 32);
    /* The TSCs of different CPUs may differ by a few ticks: never let time go back. */
    uint64_t last = __atomic_load_n(&last_ns, __ATOMIC_RELAXED);
    while (now > last) {
        if (__atomic_compare_exchange_n(&last_ns, &last, now, true, __ATOMIC_RELAXED,
                                        __ATOMIC_RELAXED))
            return now;
    }
    return now > last ? now : last;
}

void time_delay_us(uint64_t us)
{
    uint64_t ticks = us * tsc_khz() / 1000u;
    uint64_t start = rdtsc();
    while (rdtsc() - start < ticks)
        cpu_relax();
}
