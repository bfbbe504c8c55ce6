// sources: hv/vlapic.c
/*
 * The virtual local APIC (hv/vlapic.c) with the hypervisor around it faked: a settable
 * clock, a scheduler that records suspensions and wake-ups, and a vendor backend that
 * records injections, the interrupt-window request and register writes. Checks priority
 * arithmetic, ICR decoding and targeting, the timer arithmetic and modes (one-shot,
 * periodic without drift, TSC-deadline), delivery order through IRR/ISR/EOI/TPR, INIT and
 * SIPI, and every refusal (#GP) the x2APIC registers have.
 */
#include <check.h>
#include <string.h>

#include "hv/hyperv.h"
#include "hv/partition.h"
#include "hv/sched.h"
#include "hv/vendor.h"
#include "hv/vlapic.h"
#include "kernel/log.h"
#include "kernel/tsc.h"
#include "kernel/x86.h"

/* ---- fakes --------------------------------------------------------------------------- */

/* The unit tests link into one program, and other suites fake some of the same services
 * (tests/unit/test_hyperv.c: the log, tsc_khz, the LAPIC timer, hv_vendor): the fakes
 * here are weak, so either copy serves. Both count time as 0.4 ns per TSC tick (a 2.5 GHz
 * TSC) and the APIC timer at 1 GHz (one tick per ns with divide-by-1); the fixture points
 * hv_vendor at this file's backend and back. */
#define TICK_NS 1u

__attribute__((weak)) uint64_t tsc_khz(void)
{
    return 2500000u;
}

__attribute__((weak)) uint64_t time_now_ns(void)
{
    return rdtsc() * 2 / 5;
}

__attribute__((weak)) uint64_t hyperv_apic_frequency_hz(void)
{
    return 1000000000u;
}

__attribute__((weak)) void log_write(enum log_level level, const char *fmt, ...)
{
    (void)level;
    (void)fmt;
}

__attribute__((weak)) const struct hv_vendor_ops *hv_vendor;

static uint32_t wakes, timer_kicks;

void sched_wake(struct vp *vp)
{
    (void)vp;
    wakes++;
}

void sched_wake_timer(struct vp *vp)
{
    (void)vp;
    timer_kicks++;
}

void sched_suspend(struct vp *vp, enum vp_suspend reason)
{
    vp->suspend |= reason;
}

void sched_resume(struct vp *vp, enum vp_suspend reason)
{
    vp->suspend &= ~(uint32_t)reason;
}

bool sched_is_suspended(const struct vp *vp, enum vp_suspend reason)
{
    return vp->suspend & reason;
}

/* One fake backend state per VP index. */
struct fake_cpu {
    uint64_t regs[VP_REGISTER_COUNT];
    struct vp_segment_value segments[VP_SEGMENT_COUNT];
    bool ready;
    int injected; /* -1: nothing */
    bool nmi;
    bool window;
};
static struct fake_cpu cpus[2];

static struct fake_cpu *cpu_of(struct vp *vp)
{
    return &cpus[vp->index];
}

static uint64_t fake_get(struct vp *vp, enum vp_register reg)
{
    return cpu_of(vp)->regs[reg];
}

static void fake_set(struct vp *vp, enum vp_register reg, uint64_t value)
{
    cpu_of(vp)->regs[reg] = value;
}

static void fake_set_segment(struct vp *vp, enum vp_segment seg,
                             const struct vp_segment_value *value)
{
    cpu_of(vp)->segments[seg] = *value;
}

static bool fake_ready(struct vp *vp)
{
    return cpu_of(vp)->ready && cpu_of(vp)->injected < 0 && !cpu_of(vp)->nmi;
}

static void fake_inject(struct vp *vp, uint8_t vector)
{
    cpu_of(vp)->injected = vector;
}

static void fake_window(struct vp *vp, bool on)
{
    cpu_of(vp)->window = on;
}

static bool fake_nmi(struct vp *vp)
{
    if (cpu_of(vp)->injected >= 0)
        return false;
    cpu_of(vp)->nmi = true;
    return true;
}

static const struct hv_vendor_ops fake_ops = {
    .name = "fake",
    .vp_get = fake_get,
    .vp_set = fake_set,
    .vp_set_segment = fake_set_segment,
    .vp_interrupt_ready = fake_ready,
    .vp_inject_interrupt = fake_inject,
    .vp_request_interrupt_window = fake_window,
    .vp_inject_nmi = fake_nmi,
};
static const struct hv_vendor_ops *saved_vendor;

static struct partition partition;
static struct vp vps[2];

static void setup(void)
{
    memset(&partition, 0, sizeof(partition));
    memset(vps, 0, sizeof(vps));
    memset(cpus, 0, sizeof(cpus));
    strcpy(partition.name, "test");
    if (hv_vendor != &fake_ops)
        saved_vendor = hv_vendor;
    hv_vendor = &fake_ops;
    wakes = timer_kicks = 0;
    for (uint32_t i = 0; i < 2; i++) {
        vps[i].partition = &partition;
        vps[i].index = i;
        vps[i].statistics.runs = 1;
        partition.vps[i] = &vps[i];
        vlapic_init(&vps[i]);
        cpus[i].injected = -1;
        cpus[i].ready = true;
    }
    partition.vp_count = 2;
}

static uint64_t rd(struct vp *vp, uint32_t msr)
{
    uint64_t value = 0xDEAD;
    ck_assert_int_eq(vlapic_msr_read(vp, msr, &value), VLAPIC_MSR_DONE);
    return value;
}

static void wr(struct vp *vp, uint32_t msr, uint64_t value)
{
    ck_assert_int_eq(vlapic_msr_write(vp, msr, value), VLAPIC_MSR_DONE);
}

static void gp_write(struct vp *vp, uint32_t msr, uint64_t value)
{
    ck_assert_int_eq(vlapic_msr_write(vp, msr, value), VLAPIC_MSR_FAULT);
}

/* Runs the entry step and returns the vector injected (-1 none), as if it was taken. */
static int enter(struct vp *vp)
{
    cpu_of(vp)->injected = -1;
    cpu_of(vp)->nmi = false;
    vlapic_prepare_entry(vp);
    return cpu_of(vp)->injected;
}

static void teardown(void)
{
    if (saved_vendor)
        hv_vendor = saved_vendor;
}

static void enable(struct vp *vp)
{
    wr(vp, VLAPIC_MSR_SVR, VLAPIC_SVR_ENABLE | 0xFF);
}

/* ---- pure helpers --------------------------------------------------------------------- */

START_TEST(test_highest_vector_and_priority)
{
    uint32_t map[8] = {0};
    ck_assert_int_eq(vlapic_highest_vector(map), -1);
    map[1] = 1u << 3; /* 35 */
    ck_assert_int_eq(vlapic_highest_vector(map), 35);
    map[7] = 1u << 31; /* 255 */
    ck_assert_int_eq(vlapic_highest_vector(map), 255);
    /* PPR = TPR when its class is at least the in-service class, else the ISR class. */
    ck_assert_uint_eq(vlapic_processor_priority(0x00, -1), 0x00);
    ck_assert_uint_eq(vlapic_processor_priority(0x35, -1), 0x35);
    ck_assert_uint_eq(vlapic_processor_priority(0x20, 0x41), 0x40);
    ck_assert_uint_eq(vlapic_processor_priority(0x47, 0x41), 0x47);
    ck_assert_uint_eq(vlapic_processor_priority(0x40, 0x4F), 0x40);
}
END_TEST

START_TEST(test_divisor_and_time)
{
    static const uint32_t expected[16] = {2, 4, 8, 16, 2, 4, 8, 16,
                                          32, 64, 128, 1, 32, 64, 128, 1};
    for (uint32_t v = 0; v < 16; v++)
        ck_assert_uint_eq(vlapic_divisor(v), expected[v]);
    /* A 200 MHz clock: 5 ns a tick before the divider. */
    ck_assert_uint_eq(vlapic_ticks_to_ns(1000, 1, 200000000ull), 5000);
    ck_assert_uint_eq(vlapic_ticks_to_ns(1000, 128, 200000000ull), 640000);
    ck_assert_uint_eq(vlapic_ticks_to_ns(0xFFFFFFFFu, 128, 1), UINT64_MAX); /* saturates */
    ck_assert_uint_eq(vlapic_ticks_to_ns(0xFFFFFFFFu, 128, 200000000ull), 2748779068800ull);
    ck_assert_uint_eq(vlapic_ticks_to_ns(5, 1, 0), UINT64_MAX);
    ck_assert_uint_eq(vlapic_ns_to_ticks(5000, 1, 200000000ull), 1000);
    ck_assert_uint_eq(vlapic_ns_to_ticks(4999, 1, 200000000ull), 1000); /* rounded up */
    ck_assert_uint_eq(vlapic_ns_to_ticks(640000, 128, 200000000ull), 1000);
    ck_assert_uint_eq(vlapic_ns_to_ticks(1, 0, 1000000000ull), 0);
    /* The largest count at the largest divisor with an uneven clock: the products pass
     * 2^64 on the way, the results do not (and the round trip is exact). */
    uint64_t longest = vlapic_ticks_to_ns(0xFFFFFFFFu, 128, 997807440ull);
    ck_assert_uint_eq(longest, 550963835026ull);
    ck_assert_uint_eq(vlapic_ns_to_ticks(longest, 128, 997807440ull), 0xFFFFFFFFu);
    ck_assert_uint_eq(vlapic_ns_to_ticks(longest / 2, 128, 997807440ull), 0x80000000u);
    ck_assert_uint_eq(vlapic_ns_to_ticks(UINT64_MAX, 1, 997807440ull), 18406298480523299001ull);
    /* 1 GHz clocks and a 60 s deadline stay exact (no 64-bit overflow in between). */
    ck_assert_uint_eq(vlapic_ticks_to_ns(60000000000ull, 1, 1000000000ull), 60000000000ull);
}
END_TEST

START_TEST(test_icr_decode)
{
    struct vlapic_icr icr;
    ck_assert(vlapic_icr_decode(0x0000000300004031ull, &icr));
    ck_assert_uint_eq(icr.vector, 0x31);
    ck_assert_uint_eq(icr.delivery_mode, VLAPIC_ICR_FIXED);
    ck_assert(icr.level_assert);
    ck_assert(!icr.logical);
    ck_assert_uint_eq(icr.destination, 3);
    ck_assert(vlapic_icr_decode(0xC4500, &icr)); /* INIT, assert, all excluding self */
    ck_assert_uint_eq(icr.delivery_mode, VLAPIC_ICR_INIT);
    ck_assert_uint_eq(icr.shorthand, VLAPIC_SHORTHAND_OTHERS);
    ck_assert(vlapic_icr_decode(0x0000000100000608ull, &icr));
    ck_assert_uint_eq(icr.delivery_mode, VLAPIC_ICR_STARTUP);
    ck_assert_uint_eq(icr.vector, 8);
    /* Reserved: delivery status (12), bit 13, 17:16, 31:20; delivery modes 3 and 7. */
    ck_assert(!vlapic_icr_decode(1u << 12, &icr));
    ck_assert(!vlapic_icr_decode(1u << 13, &icr));
    ck_assert(!vlapic_icr_decode(1u << 16, &icr));
    ck_assert(!vlapic_icr_decode(1u << 20, &icr));
    ck_assert(!vlapic_icr_decode(1ull << 31, &icr));
    ck_assert(!vlapic_icr_decode(3u << 8, &icr));
    ck_assert(!vlapic_icr_decode(7u << 8, &icr));
}
END_TEST

START_TEST(test_icr_targets)
{
    struct vlapic_icr icr = {.destination = 1};
    ck_assert(vlapic_icr_targets(&icr, 0, 1));
    ck_assert(!vlapic_icr_targets(&icr, 0, 0));
    icr.destination = 0xFFFFFFFFu;
    ck_assert(vlapic_icr_targets(&icr, 0, 0) && vlapic_icr_targets(&icr, 0, 17));
    icr.shorthand = VLAPIC_SHORTHAND_SELF;
    icr.destination = 5;
    ck_assert(vlapic_icr_targets(&icr, 2, 2) && !vlapic_icr_targets(&icr, 2, 5));
    icr.shorthand = VLAPIC_SHORTHAND_ALL;
    ck_assert(vlapic_icr_targets(&icr, 2, 2) && vlapic_icr_targets(&icr, 2, 3));
    icr.shorthand = VLAPIC_SHORTHAND_OTHERS;
    ck_assert(!vlapic_icr_targets(&icr, 2, 2) && vlapic_icr_targets(&icr, 2, 3));
    /* Logical cluster mode: cluster 1 (IDs 16-31), members 1 and 3 = IDs 17 and 19. */
    ck_assert_uint_eq(vlapic_logical_id(17), 0x10002);
    icr = (struct vlapic_icr){.logical = true, .destination = 0x1000A};
    ck_assert(vlapic_icr_targets(&icr, 0, 17) && vlapic_icr_targets(&icr, 0, 19));
    ck_assert(!vlapic_icr_targets(&icr, 0, 18) && !vlapic_icr_targets(&icr, 0, 1));
}
END_TEST

/* ---- registers ------------------------------------------------------------------------ */

START_TEST(test_identity_registers)
{
    setup();
    ck_assert_uint_eq(rd(&vps[0], VLAPIC_MSR_APIC_BASE), 0xFEE00D00ull); /* EN EXTD BSP */
    ck_assert_uint_eq(rd(&vps[1], VLAPIC_MSR_APIC_BASE), 0xFEE00C00ull);
    ck_assert_uint_eq(rd(&vps[1], VLAPIC_MSR_ID), 1);
    ck_assert_uint_eq(rd(&vps[1], VLAPIC_MSR_LDR), 0x2);
    ck_assert_uint_eq(rd(&vps[0], VLAPIC_MSR_VERSION), 0x60014);
    ck_assert_uint_eq(rd(&vps[0], VLAPIC_MSR_SVR), 0xFF);            /* software disabled */
    ck_assert_uint_eq(rd(&vps[0], VLAPIC_MSR_LVT_TIMER), 0x10000);   /* masked */
    ck_assert_uint_eq(rd(&vps[0], VLAPIC_MSR_LVT_CMCI), 0x10000);
    /* Rewriting the same base (BSP ignored) is fine; leaving x2APIC or moving is #GP. */
    wr(&vps[0], VLAPIC_MSR_APIC_BASE, 0xFEE00C00ull);
    gp_write(&vps[0], VLAPIC_MSR_APIC_BASE, 0xFEE00800ull);
    gp_write(&vps[0], VLAPIC_MSR_APIC_BASE, 0);
    gp_write(&vps[0], VLAPIC_MSR_APIC_BASE, 0xFED00C00ull);
    /* Not an APIC MSR; or the root's VPs, which have no virtual APIC. */
    uint64_t v;
    ck_assert_int_eq(vlapic_msr_read(&vps[0], 0x10, &v), VLAPIC_MSR_UNHANDLED);
    partition.is_root = true;
    vlapic_init(&vps[0]);
    ck_assert_int_eq(vlapic_msr_read(&vps[0], VLAPIC_MSR_ID, &v), VLAPIC_MSR_UNHANDLED);
    ck_assert_int_eq(vlapic_msr_write(&vps[0], VLAPIC_MSR_EOI, 0), VLAPIC_MSR_UNHANDLED);
}
END_TEST

START_TEST(test_refusals)
{
    setup();
    struct vp *vp = &vps[0];
    uint64_t v;
    /* Write-only and absent registers cannot be read. */
    ck_assert_int_eq(vlapic_msr_read(vp, VLAPIC_MSR_EOI, &v), VLAPIC_MSR_FAULT);
    ck_assert_int_eq(vlapic_msr_read(vp, VLAPIC_MSR_SELF_IPI, &v), VLAPIC_MSR_FAULT);
    ck_assert_int_eq(vlapic_msr_read(vp, 0x801, &v), VLAPIC_MSR_FAULT);
    ck_assert_int_eq(vlapic_msr_read(vp, 0x831, &v), VLAPIC_MSR_FAULT); /* ICR high: xAPIC */
    /* Read-only registers cannot be written. */
    static const uint32_t read_only[] = {VLAPIC_MSR_ID, VLAPIC_MSR_VERSION, VLAPIC_MSR_PPR,
                                         VLAPIC_MSR_LDR, VLAPIC_MSR_ISR0, VLAPIC_MSR_TMR0 + 7,
                                         VLAPIC_MSR_IRR0 + 3, VLAPIC_MSR_TIMER_CURRENT, 0x8FF};
    for (size_t i = 0; i < sizeof(read_only) / sizeof(read_only[0]); i++)
        gp_write(vp, read_only[i], 0);
    /* Reserved bits. */
    gp_write(vp, VLAPIC_MSR_TPR, 0x100);
    gp_write(vp, VLAPIC_MSR_EOI, 1);
    gp_write(vp, VLAPIC_MSR_SVR, 0x1000 | 0x1FF); /* EOI broadcast suppression */
    gp_write(vp, VLAPIC_MSR_SVR, 0x200 | 0x1FF);  /* focus checking */
    gp_write(vp, VLAPIC_MSR_ESR, 1);
    gp_write(vp, VLAPIC_MSR_TIMER_DIVIDE, 0x4);
    gp_write(vp, VLAPIC_MSR_TIMER_INITIAL, 0x100000000ull);
    gp_write(vp, VLAPIC_MSR_SELF_IPI, 0x100);
    gp_write(vp, VLAPIC_MSR_ICR, 1u << 12);
    gp_write(vp, VLAPIC_MSR_LVT_TIMER, 3u << 17);       /* reserved timer mode */
    gp_write(vp, VLAPIC_MSR_LVT_TIMER, 1u << 12);       /* delivery status: read-only */
    gp_write(vp, VLAPIC_MSR_LVT_LINT0, 1u << 14);       /* remote IRR: read-only */
    gp_write(vp, VLAPIC_MSR_LVT_ERROR, 0x100 | 0x30);   /* no delivery mode in the error LVT */
    gp_write(vp, VLAPIC_MSR_LVT_PERF, 1u << 17);
    /* Nothing changed. */
    ck_assert_uint_eq(rd(vp, VLAPIC_MSR_TPR), 0);
    ck_assert_uint_eq(rd(vp, VLAPIC_MSR_SVR), 0xFF);
    ck_assert_uint_eq(rd(vp, VLAPIC_MSR_LVT_TIMER), 0x10000);
}
END_TEST

START_TEST(test_software_disabled)
{
    setup();
    struct vp *vp = &vps[0];
    /* While disabled the LVT masks stay set and fixed interrupts are dropped. */
    wr(vp, VLAPIC_MSR_LVT_TIMER, 0x40);
    ck_assert_uint_eq(rd(vp, VLAPIC_MSR_LVT_TIMER), 0x10040);
    vlapic_raise_interrupt(vp, 0x40);
    ck_assert_uint_eq(rd(vp, VLAPIC_MSR_IRR0 + 2), 0);
    ck_assert_int_eq(enter(vp), -1);
    enable(vp);
    wr(vp, VLAPIC_MSR_LVT_TIMER, 0x40);
    ck_assert_uint_eq(rd(vp, VLAPIC_MSR_LVT_TIMER), 0x40);
    /* Disabling masks them again. */
    wr(vp, VLAPIC_MSR_SVR, 0xFF);
    ck_assert_uint_eq(rd(vp, VLAPIC_MSR_LVT_TIMER), 0x10040);
}
END_TEST

/* ---- delivery ------------------------------------------------------------------------- */

START_TEST(test_priority_order_and_eoi)
{
    setup();
    struct vp *vp = &vps[0];
    enable(vp);
    vlapic_raise_interrupt(vp, 0x31);
    vlapic_raise_interrupt(vp, 0x45);
    ck_assert_uint_eq(wakes, 2);
    ck_assert_uint_eq(rd(vp, VLAPIC_MSR_IRR0 + 1), 1u << 0x11);
    ck_assert_uint_eq(rd(vp, VLAPIC_MSR_IRR0 + 2), 1u << 0x05);
    ck_assert_int_eq(enter(vp), 0x45);
    ck_assert_uint_eq(rd(vp, VLAPIC_MSR_ISR0 + 2), 1u << 5);
    ck_assert_uint_eq(rd(vp, VLAPIC_MSR_PPR), 0x40);
    /* 0x31 is below the in-service class: it waits, and no window is asked for. */
    ck_assert_int_eq(enter(vp), -1);
    ck_assert(!cpus[0].window);
    ck_assert(vlapic_halt_may_sleep(vp, true));
    /* A higher class nests. */
    vlapic_raise_interrupt(vp, 0x51);
    ck_assert(!vlapic_halt_may_sleep(vp, true));
    ck_assert(vlapic_halt_may_sleep(vp, false)); /* HLT with IF clear sleeps */
    ck_assert_int_eq(enter(vp), 0x51);
    wr(vp, VLAPIC_MSR_EOI, 0); /* ends 0x51 */
    ck_assert_int_eq(enter(vp), -1);
    wr(vp, VLAPIC_MSR_EOI, 0); /* ends 0x45 */
    ck_assert_uint_eq(rd(vp, VLAPIC_MSR_PPR), 0);
    ck_assert_int_eq(enter(vp), 0x31);
    wr(vp, VLAPIC_MSR_EOI, 0);
    wr(vp, VLAPIC_MSR_EOI, 0); /* an EOI with nothing in service is harmless */
    ck_assert_uint_eq(rd(vp, VLAPIC_MSR_ISR0 + 1), 0);
}
END_TEST

START_TEST(test_tpr_and_window)
{
    setup();
    struct vp *vp = &vps[0];
    enable(vp);
    wr(vp, VLAPIC_MSR_TPR, 0x50);
    ck_assert_uint_eq(cpus[0].regs[VP_REGISTER_CR8], 5); /* V_TPR follows */
    vlapic_raise_interrupt(vp, 0x55);
    ck_assert_int_eq(enter(vp), -1); /* same class as the TPR: masked */
    ck_assert(vlapic_halt_may_sleep(vp, true));
    /* A 64-bit guest lowers CR8 directly: the APIC's TPR follows it. */
    cpus[0].regs[VP_REGISTER_CR8] = 0;
    ck_assert_uint_eq(rd(vp, VLAPIC_MSR_TPR), 0);
    /* The guest cannot take it now (IF clear or a shadow): a window is asked for. */
    cpus[0].ready = false;
    ck_assert_int_eq(enter(vp), -1);
    ck_assert(cpus[0].window);
    cpus[0].ready = true;
    ck_assert_int_eq(enter(vp), 0x55);
    ck_assert(!cpus[0].window);
}
END_TEST

START_TEST(test_illegal_vectors_and_esr)
{
    setup();
    struct vp *vp = &vps[0];
    enable(vp);
    vlapic_raise_interrupt(vp, 15);
    ck_assert_int_eq(enter(vp), -1);
    wr(vp, VLAPIC_MSR_ICR, 0x00000000000C0005ull); /* fixed vector 5 to the others */
    ck_assert_int_eq(enter(&vps[1]), -1);
    ck_assert_uint_eq(rd(vp, VLAPIC_MSR_ESR), 0); /* latched only by a write */
    wr(vp, VLAPIC_MSR_ESR, 0);
    ck_assert_uint_eq(rd(vp, VLAPIC_MSR_ESR),
                      VLAPIC_ESR_SEND_ILLEGAL_VECTOR | VLAPIC_ESR_RECEIVE_ILLEGAL_VECTOR);
    wr(vp, VLAPIC_MSR_ESR, 0);
    ck_assert_uint_eq(rd(vp, VLAPIC_MSR_ESR), 0);
}
END_TEST

START_TEST(test_ipis)
{
    setup();
    enable(&vps[0]);
    enable(&vps[1]);
    wr(&vps[0], VLAPIC_MSR_SELF_IPI, 0x61);
    ck_assert_int_eq(enter(&vps[0]), 0x61);
    wr(&vps[0], VLAPIC_MSR_ICR, 0x0000000100000062ull); /* physical 1 */
    ck_assert_uint_eq(rd(&vps[0], VLAPIC_MSR_ICR), 0x0000000100000062ull);
    ck_assert_int_eq(enter(&vps[1]), 0x62);
    wr(&vps[1], VLAPIC_MSR_ICR, 0x0000000000000063ull); /* physical 0 */
    wr(&vps[1], VLAPIC_MSR_ICR, 0x0000000700000070ull); /* nobody has ID 7 */
    wr(&vps[1], VLAPIC_MSR_ICR, 0x0000000000040071ull); /* self shorthand */
    ck_assert_int_eq(enter(&vps[0]), -1);                /* 0x61 still in service */
    wr(&vps[0], VLAPIC_MSR_EOI, 0);
    ck_assert_int_eq(enter(&vps[0]), 0x63);
    wr(&vps[1], VLAPIC_MSR_EOI, 0);
    ck_assert_int_eq(enter(&vps[1]), 0x71);
    wr(&vps[1], VLAPIC_MSR_EOI, 0);
    /* Broadcast, logical cluster 0 member bit 1 (= ID 1), all including self. */
    wr(&vps[0], VLAPIC_MSR_EOI, 0);
    wr(&vps[0], VLAPIC_MSR_ICR, 0x00000002000008A0ull);
    ck_assert_int_eq(enter(&vps[1]), 0xA0);
    ck_assert_int_eq(enter(&vps[0]), -1);
    wr(&vps[0], VLAPIC_MSR_ICR, 0x00000000000800B0ull);
    ck_assert_int_eq(enter(&vps[0]), 0xB0);
    ck_assert_int_eq(enter(&vps[1]), 0xB0);
    /* NMI: injected as an NMI, not through the IRR. */
    wr(&vps[0], VLAPIC_MSR_ICR, 0x0000000100000400ull);
    enter(&vps[1]);
    ck_assert(cpus[1].nmi);
}
END_TEST

/* ---- the timer ------------------------------------------------------------------------ */

START_TEST(test_timer_one_shot)
{
    setup();
    struct vp *vp = &vps[0];
    enable(vp);
    wr(vp, VLAPIC_MSR_LVT_TIMER, 0x40);
    wr(vp, VLAPIC_MSR_TIMER_DIVIDE, 0xB); /* divide by 1: 1 ns a tick */
    uint64_t before = time_now_ns();
    wr(vp, VLAPIC_MSR_TIMER_INITIAL, 1000000000u); /* 1 s */
    uint64_t after = time_now_ns();
    ck_assert_uint_ge(timer_kicks, 1);
    ck_assert_uint_eq(rd(vp, VLAPIC_MSR_TIMER_INITIAL), 1000000000u);
    uint64_t deadline = vlapic_timer_service(vp, after);
    ck_assert_uint_ge(deadline, before + 1000000000u);
    ck_assert_uint_le(deadline, after + 1000000000u);
    uint64_t current = rd(vp, VLAPIC_MSR_TIMER_CURRENT);
    ck_assert_uint_le(current, 1000000000u);
    ck_assert_uint_ge(current, 1000000000u - (time_now_ns() - before) / TICK_NS);
    ck_assert_uint_eq(vlapic_timer_service(vp, deadline - 1), deadline);
    ck_assert_int_eq(enter(vp), -1);
    ck_assert_uint_eq(vlapic_timer_service(vp, deadline), 0);
    ck_assert_uint_eq(rd(vp, VLAPIC_MSR_TIMER_CURRENT), 0);
    ck_assert_int_eq(enter(vp), 0x40);
    ck_assert_uint_eq(vlapic_timer_service(vp, deadline + 1000000000u), 0); /* once */
    /* Divide by 16: 1000 ticks = 16 us. Initial count 0 stops it. */
    wr(vp, VLAPIC_MSR_TIMER_DIVIDE, 3);
    before = time_now_ns();
    wr(vp, VLAPIC_MSR_TIMER_INITIAL, 1000);
    after = time_now_ns();
    deadline = vlapic_timer_service(vp, before);
    ck_assert_uint_ge(deadline, before + 16000);
    ck_assert_uint_le(deadline, after + 16000);
    wr(vp, VLAPIC_MSR_TIMER_INITIAL, 0);
    ck_assert_uint_eq(vlapic_timer_service(vp, before), 0);
    /* Masked: it expires without an interrupt. */
    wr(vp, VLAPIC_MSR_EOI, 0);
    wr(vp, VLAPIC_MSR_LVT_TIMER, 0x10040);
    wr(vp, VLAPIC_MSR_TIMER_INITIAL, 10);
    ck_assert_uint_eq(vlapic_timer_service(vp, time_now_ns() + 1000000), 0);
    ck_assert_int_eq(enter(vp), -1);
}
END_TEST

START_TEST(test_timer_periodic_no_drift)
{
    setup();
    struct vp *vp = &vps[0];
    enable(vp);
    wr(vp, VLAPIC_MSR_LVT_TIMER, (VLAPIC_TIMER_PERIODIC << 17) | 0x41);
    wr(vp, VLAPIC_MSR_TIMER_DIVIDE, 0xB);
    wr(vp, VLAPIC_MSR_TIMER_INITIAL, 1000000); /* 1 ms */
    uint64_t first = vlapic_timer_service(vp, time_now_ns());
    ck_assert_uint_ne(first, 0);
    /* Serviced late each time (by 300 us): the deadlines stay on the 1 ms grid. */
    for (uint64_t tick = 0; tick < 10; tick++) {
        uint64_t late = first + tick * 1000000 + 300000;
        ck_assert_uint_eq(vlapic_timer_service(vp, late), first + (tick + 1) * 1000000);
        ck_assert_int_eq(enter(vp), 0x41);
        wr(vp, VLAPIC_MSR_EOI, 0);
    }
    ck_assert_uint_eq(vp->vlapic.timer_interrupts, 10);
    /* Far behind (a VP that did not run for 5.5 periods): one interrupt, no burst, and
     * the next deadline still on the grid. */
    uint64_t now = first + 15500000;
    ck_assert_uint_eq(vlapic_timer_service(vp, now), first + 16000000);
    ck_assert_int_eq(enter(vp), 0x41);
    ck_assert_int_eq(enter(vp), -1);
    /* A tiny period runs at 50 us, so a guest cannot make its CPU spin. */
    uint64_t before = time_now_ns();
    wr(vp, VLAPIC_MSR_TIMER_INITIAL, 1);
    uint64_t after = time_now_ns();
    uint64_t deadline = vlapic_timer_service(vp, before);
    ck_assert_uint_ge(deadline, before + 50000);
    ck_assert_uint_le(deadline, after + 50000);
    /* Changing the mode disarms it. */
    wr(vp, VLAPIC_MSR_LVT_TIMER, 0x41);
    ck_assert_uint_eq(vlapic_timer_service(vp, before), 0);
    ck_assert_uint_eq(rd(vp, VLAPIC_MSR_TIMER_INITIAL), 0);
}
END_TEST

START_TEST(test_timer_tsc_deadline)
{
    setup();
    struct vp *vp = &vps[0];
    enable(vp);
    /* Outside TSC-deadline mode the MSR ignores writes and reads 0. */
    wr(vp, VLAPIC_MSR_TSC_DEADLINE, 12345);
    ck_assert_uint_eq(rd(vp, VLAPIC_MSR_TSC_DEADLINE), 0);
    wr(vp, VLAPIC_MSR_LVT_TIMER, (VLAPIC_TIMER_TSC_DEADLINE << 17) | 0x42);
    /* The initial count is ignored in this mode. */
    wr(vp, VLAPIC_MSR_TIMER_INITIAL, 1000);
    ck_assert_uint_eq(rd(vp, VLAPIC_MSR_TIMER_INITIAL), 0);
    /* A deadline in the past fires at the next service; the MSR then reads 0. */
    wr(vp, VLAPIC_MSR_TSC_DEADLINE, 1);
    ck_assert_uint_eq(rd(vp, VLAPIC_MSR_TSC_DEADLINE), 1);
    ck_assert_uint_eq(vlapic_timer_service(vp, time_now_ns()), 0);
    ck_assert_uint_eq(rd(vp, VLAPIC_MSR_TSC_DEADLINE), 0);
    ck_assert_int_eq(enter(vp), 0x42);
    wr(vp, VLAPIC_MSR_EOI, 0);
    /* 2.5 * 10^9 TSC ticks ahead is 1 s ahead. */
    uint64_t before = time_now_ns();
    wr(vp, VLAPIC_MSR_TSC_DEADLINE, rdtsc() + 2500000000ull);
    uint64_t after = time_now_ns();
    uint64_t deadline = vlapic_timer_service(vp, before);
    ck_assert_uint_ge(deadline, before + 1000000000u - 1000);
    ck_assert_uint_le(deadline, after + 1000000000u + 1000);
    /* A deadline near the end of time saturates instead of wrapping; 0 disarms. */
    wr(vp, VLAPIC_MSR_TSC_DEADLINE, UINT64_MAX);
    ck_assert_uint_gt(vlapic_timer_service(vp, before), before + 1000000000u);
    wr(vp, VLAPIC_MSR_TSC_DEADLINE, 0);
    ck_assert_uint_eq(vlapic_timer_service(vp, before), 0);
    ck_assert_int_eq(enter(vp), -1);
}
END_TEST

/* ---- INIT and SIPI -------------------------------------------------------------------- */

START_TEST(test_init_sipi)
{
    setup();
    enable(&vps[0]);
    enable(&vps[1]);
    vlapic_raise_interrupt(&vps[1], 0x80);
    /* A SIPI to a VP that is not waiting for one is ignored. */
    wr(&vps[0], VLAPIC_MSR_ICR, 0x0000000100000608ull);
    ck_assert(!(vps[1].suspend & VP_SUSPEND_WAIT_FOR_SIPI));
    enter(&vps[1]);
    ck_assert_uint_eq(cpus[1].segments[VP_SEGMENT_CS].selector, 0);
    wr(&vps[1], VLAPIC_MSR_EOI, 0);
    /* INIT (assert): wait-for-SIPI, the APIC back to its reset state. */
    wr(&vps[0], VLAPIC_MSR_ICR, 0x000000010000C500ull);
    ck_assert(vps[1].suspend & VP_SUSPEND_WAIT_FOR_SIPI);
    ck_assert_uint_eq(rd(&vps[1], VLAPIC_MSR_SVR), 0xFF);
    /* INIT de-assert changes nothing. */
    wr(&vps[0], VLAPIC_MSR_ICR, 0x0000000100008500ull);
    ck_assert(vps[1].suspend & VP_SUSPEND_WAIT_FOR_SIPI);
    /* Start-up at 0x9A000: CS 0x9A00, base 0x9A000, IP 0, real mode. */
    cpus[1].regs[VP_REGISTER_RIP] = 0x1234;
    cpus[1].regs[VP_REGISTER_CR0] = 0x80000011;
    vps[1].registers.rbx = 77;
    wr(&vps[0], VLAPIC_MSR_ICR, 0x000000010000069Aull);
    ck_assert(!(vps[1].suspend & VP_SUSPEND_WAIT_FOR_SIPI));
    ck_assert_uint_eq(enter(&vps[1]), -1);
    ck_assert_uint_eq(cpus[1].segments[VP_SEGMENT_CS].selector, 0x9A00);
    ck_assert_uint_eq(cpus[1].segments[VP_SEGMENT_CS].base, 0x9A000);
    ck_assert_uint_eq(cpus[1].segments[VP_SEGMENT_CS].limit, 0xFFFF);
    ck_assert_uint_eq(cpus[1].regs[VP_REGISTER_RIP], 0);
    ck_assert_uint_eq(cpus[1].regs[VP_REGISTER_CR0], 0x60000010);
    ck_assert_uint_eq(cpus[1].regs[VP_REGISTER_RFLAGS], 2);
    ck_assert_uint_eq(vps[1].registers.rbx, 0);
    /* A second SIPI (Linux sends two) is ignored: the VP is running. */
    cpus[1].regs[VP_REGISTER_RIP] = 0x55;
    wr(&vps[0], VLAPIC_MSR_ICR, 0x000000010000069Aull);
    enter(&vps[1]);
    ck_assert_uint_eq(cpus[1].regs[VP_REGISTER_RIP], 0x55);
}
END_TEST

START_TEST(test_sipi_releases_unstarted_vp)
{
    setup();
    /* The root created VP 1 and left it held (root/vmms.c's Linux children). */
    vps[1].statistics.runs = 0;
    vps[1].suspend = VP_SUSPEND_EXPLICIT;
    wr(&vps[0], VLAPIC_MSR_ICR, 0x0000000100000610ull);
    ck_assert_uint_eq(vps[1].suspend, 0);
    enter(&vps[1]);
    ck_assert_uint_eq(cpus[1].segments[VP_SEGMENT_CS].selector, 0x1000);
    /* A VP that ran and was suspended by the root stays held. */
    vps[1].statistics.runs = 5;
    vps[1].suspend = VP_SUSPEND_EXPLICIT;
    wr(&vps[0], VLAPIC_MSR_ICR, 0x0000000100000611ull);
    ck_assert_uint_eq(vps[1].suspend, VP_SUSPEND_EXPLICIT);
}
END_TEST

Suite *vlapic_suite(void)
{
    Suite *s = suite_create("vlapic");
    TCase *t = tcase_create("vlapic");
    tcase_add_checked_fixture(t, NULL, teardown);
    tcase_add_test(t, test_highest_vector_and_priority);
    tcase_add_test(t, test_divisor_and_time);
    tcase_add_test(t, test_icr_decode);
    tcase_add_test(t, test_icr_targets);
    tcase_add_test(t, test_identity_registers);
    tcase_add_test(t, test_refusals);
    tcase_add_test(t, test_software_disabled);
    tcase_add_test(t, test_priority_order_and_eoi);
    tcase_add_test(t, test_tpr_and_window);
    tcase_add_test(t, test_illegal_vectors_and_esr);
    tcase_add_test(t, test_ipis);
    tcase_add_test(t, test_timer_one_shot);
    tcase_add_test(t, test_timer_periodic_no_drift);
    tcase_add_test(t, test_timer_tsc_deadline);
    tcase_add_test(t, test_init_sipi);
    tcase_add_test(t, test_sipi_releases_unstarted_vp);
    suite_add_tcase(s, t);
    return s;
}
