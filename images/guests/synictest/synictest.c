/*
 * synictest: checks a child partition's SynIC, synthetic timers, reference TSC page and
 * its messages and events to the root (hv/synic.c, hv/stimer.c, hv/hyperv.c; TLFS v6.0b
 * chapters 11 and 12), as a Hyper-V guest uses them, on VP 0 with its x2APIC:
 *   - CPUID 0x40000003 advertises SynIC, synthetic timers, the reference TSC page, post
 *     message / signal event and direct-mode timers;
 *   - the SynIC MSRs: SVERSION 1, SINTs reset masked, and #GP for SVERSION writes, reserved
 *     bits, exception vectors, auto-EOI, pages outside the partition's RAM;
 *   - STIMER0 one-shot and periodic in message mode (HvMessageTypeTimerExpired in SINT2's
 *     slot with its interrupt; expiration = the programmed time, delivery not before it;
 *     periodic expirations exactly a whole number of periods apart: no drift) and in direct
 *     mode (the vector itself, no message);
 *   - redelivery: two expiries while the slot is busy: the first with MessagePending, the
 *     second after EOM;
 *   - the reference TSC page against TIME_REF_COUNT read around it;
 *   - HvCallPostMessage and HvCallSignalEvent to the root: statuses of good and bad
 *     inputs, a flood (success or HV_STATUS_INSUFFICIENT_BUFFERS only), and the root's echo
 *     connection (2047) coming back as a message and an event flag on SINT2.
 * Prints `synictest: PASS` and exits 0, or `synictest: FAIL <what>` lines and exits 1.
 * Only meaningful under hvfw.
 */
#include <stdint.h>

#include "images/guests/lib/cpu.h"
#include "images/guests/lib/guest.h"
#include "images/guests/lib/hypercall.h"
#include "images/guests/lib/probe.h"
#include "images/guests/lib/trap.h"

const char guest_name[] = "synictest";

#define MSR_APIC_BASE 0x1Bu
#define MSR_X2APIC_SVR 0x80Fu
#define MSR_GUEST_OS_ID 0x40000000u
#define MSR_HYPERCALL 0x40000001u
#define MSR_TIME_REF_COUNT 0x40000020u
#define MSR_REFERENCE_TSC 0x40000021u
#define MSR_SCONTROL 0x40000080u
#define MSR_SVERSION 0x40000081u
#define MSR_SIEFP 0x40000082u
#define MSR_SIMP 0x40000083u
#define MSR_EOM 0x40000084u
#define MSR_SINT0 0x40000090u
#define MSR_STIMER_CONFIG(n) (0x400000B0u + 2 * (n))
#define MSR_STIMER_COUNT(n) (0x400000B1u + 2 * (n))

#define STIMER_ENABLE (1ull << 0)
#define STIMER_PERIODIC (1ull << 1)
#define STIMER_DIRECT (1ull << 12)
#define STIMER_VECTOR(v) ((uint64_t)(v) << 4)
#define STIMER_SINT(n) ((uint64_t)(n) << 16)
#define SINT_MASKED (1ull << 16)
#define SINT_AUTO_EOI (1ull << 17)

#define GUEST_OS_ID_VALUE 0x8100000000060100ull
#define SINT 2
#define SINT_VECTOR 0xF3     /* Linux's HYPERVISOR_CALLBACK_VECTOR */
#define DIRECT_VECTOR 0xED   /* Linux's HYPERV_STIMER0_VECTOR */
#define SPURIOUS_VECTOR 0xFF
#define TIMER_EXPIRED 0x80000010u
#define MESSAGE_PENDING 1u
#define TEST_DEVICE_GPA 0xFEB00000u
#define VECTOR_GP 13
#define UNITS_PER_MS 10000ull
#define GIVE_UP_UNITS (2000 * UNITS_PER_MS) /* 2 s: nothing here may take that long */

#define HVCALL_POST_MESSAGE 0x005Cu
#define HVCALL_SIGNAL_EVENT 0x005Du
#define HYPERCALL_FAST (1u << 16)
#define HV_STATUS_SUCCESS 0x0
#define HV_STATUS_INVALID_ALIGNMENT 0x4
#define HV_STATUS_INVALID_PARAMETER 0x5
#define HV_STATUS_INVALID_CONNECTION_ID 0x12
#define HV_STATUS_INSUFFICIENT_BUFFERS 0x13
#define ECHO_CONNECTION 2047u /* hv/root_abi.h HVFW_CHILD_CONNECTION_ECHO */

struct message {
    uint32_t type;
    uint8_t payload_size;
    uint8_t flags;
    uint16_t reserved;
    uint64_t sender;
    uint8_t payload[240];
} __attribute__((packed));

struct timer_payload {
    uint32_t index;
    uint32_t reserved;
    uint64_t expiration;
    uint64_t delivery;
} __attribute__((packed));

struct post_message_input {
    uint32_t connection_id;
    uint32_t padding;
    uint32_t message_type;
    uint32_t payload_size;
    uint8_t payload[240];
} __attribute__((packed));

static uint8_t hypercall_page[4096] __attribute__((aligned(4096)));
static uint8_t message_page[4096] __attribute__((aligned(4096)));
static uint8_t event_page[4096] __attribute__((aligned(4096)));
static uint8_t tsc_page[4096] __attribute__((aligned(4096)));
static uint8_t input_page[4096] __attribute__((aligned(4096)));

volatile uint32_t synictest_sint_interrupts, synictest_direct_interrupts;
extern char synictest_sint_entry[], synictest_direct_entry[], synictest_spurious_entry[];

static volatile struct message *const slot = (volatile struct message *)(message_page + SINT * 256);

/* ---- MSRs, hypercalls ------------------------------------------------------------------ */

/* A fault in these is a FAIL line, and the test goes on. */
static uint64_t rdmsr(uint32_t msr)
{
    uint64_t value;
    uint32_t vector = try_rdmsr(msr, &value);
    CHECK(vector == NO_FAULT, "rdmsr 0x%x: exception %u", msr, vector);
    return value;
}

static void wrmsr(uint32_t msr, uint64_t value)
{
    uint32_t vector = try_wrmsr(msr, value);
    CHECK(vector == NO_FAULT, "wrmsr 0x%x <- 0x%llx: exception %u", msr,
          (unsigned long long)value, vector);
}

static void expect_gp(uint32_t msr, uint64_t value, const char *what)
{
    uint32_t vector = try_wrmsr(msr, value);
    CHECK(vector == VECTOR_GP, "%s (wrmsr 0x%x <- 0x%llx): exception %u, not #GP", what, msr,
          (unsigned long long)value, vector);
}

static uint64_t now(void)
{
    return rdmsr(MSR_TIME_REF_COUNT);
}

/* The status (TLFS 3.8: bits 15:0 of the result) of a call through the page. */
static uint16_t hypercall(uint64_t control, uint64_t input, uint64_t output)
{
    return (uint16_t)hypercall_through_page(control, input, output);
}

static uint16_t post_message(uint32_t connection, uint32_t type, const void *payload,
                             uint32_t size, uint32_t input_offset)
{
    struct post_message_input *in = (struct post_message_input *)(input_page + input_offset);
    __builtin_memset(in, 0, sizeof(*in));
    in->connection_id = connection;
    in->message_type = type;
    in->payload_size = size;
    if (payload)
        __builtin_memcpy(in->payload, payload, size <= 240 ? size : 240);
    return hypercall(HVCALL_POST_MESSAGE, (uint32_t)(uintptr_t)in, 0);
}

static uint16_t signal_event(uint32_t connection, uint16_t flag)
{
    /* Fast: the 8-byte input in EBX:ECX (connection id low, flag number high). */
    return hypercall(HVCALL_SIGNAL_EVENT | HYPERCALL_FAST, (uint64_t)flag << 32 | connection, 0);
}

/* The high 64 bits of a 64 x 64 bit product, from 32-bit halves. */
static uint64_t multiply_high(uint64_t a, uint64_t b)
{
    uint64_t a0 = (uint32_t)a, a1 = a >> 32, b0 = (uint32_t)b, b1 = b >> 32;
    uint64_t low = a0 * b0, middle1 = a1 * b0, middle2 = a0 * b1, high = a1 * b1;
    uint64_t carry = ((low >> 32) + (uint32_t)middle1 + (uint32_t)middle2) >> 32;
    return high + (middle1 >> 32) + (middle2 >> 32) + carry;
}

/* ---- interrupts -------------------------------------------------------------------------- */

/* The runtime's 32 exception gates plus the interrupt vectors of this test. */
static void install_idt(void)
{
    trap_set_gate(SINT_VECTOR, synictest_sint_entry);
    trap_set_gate(DIRECT_VECTOR, synictest_direct_entry);
    trap_set_gate(SPURIOUS_VECTOR, synictest_spurious_entry);
    trap_install();
}

/* Waits with interrupts on until *counter reaches `target` (false after GIVE_UP_UNITS). */
static bool wait_for(volatile uint32_t *counter, uint32_t target)
{
    uint64_t give_up = now() + GIVE_UP_UNITS;
    __asm__ volatile("sti");
    while (*counter < target && now() < give_up)
        __asm__ volatile("pause");
    __asm__ volatile("cli");
    return *counter >= target;
}

/* Takes SINT2's message the TLFS way: copy, clear the type, EOM if pending. */
static struct message take_message(void)
{
    struct message m;
    __builtin_memcpy(&m, (const void *)(uintptr_t)slot, sizeof(m));
    slot->type = 0;
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    if (slot->flags & MESSAGE_PENDING) {
        slot->flags = 0;
        wrmsr(MSR_EOM, 0);
    }
    return m;
}

/* ---- the checks -------------------------------------------------------------------------- */

/* Each check leaves its timers off and zero: a CONFIG write that enables a timer arms it
 * with the COUNT it holds (TLFS 12.4.1), which must not be the last check's. */
static void stop_timer(uint32_t n)
{
    wrmsr(MSR_STIMER_CONFIG(n), 0);
    wrmsr(MSR_STIMER_COUNT(n), 0);
}

/* Takes every message still in SINT2's slot or queued behind it (an expiry that fired
 * while the check stopped its timer) until the slot stays empty for 2 ms. */
static void drain(void)
{
    uint64_t quiet_until = now() + 2 * UNITS_PER_MS;
    while (now() < quiet_until) {
        if (slot->type != 0) {
            take_message();
            quiet_until = now() + 2 * UNITS_PER_MS;
        }
    }
}

static void check_features(void)
{
    struct cpuid_result r = cpuid(0x40000003u);
    guest_printf("features eax=0x%08x ebx=0x%08x edx=0x%08x", r.eax, r.ebx, r.edx);
    CHECK((r.eax & 0x20Eu) == 0x20Eu, "SynIC (2), stimers (3), ref counter (1), TSC page (9)");
    CHECK((r.ebx & 0x30u) == 0x30u && !(r.ebx & (1u << 12)), "post message / signal event");
    CHECK(r.edx & (1u << 19), "direct-mode timers (EDX bit 19)");
}

static void check_synic_msrs(void)
{
    uint64_t version = rdmsr(MSR_SVERSION), sint2 = rdmsr(MSR_SINT0 + SINT);
    CHECK(version == 1, "SVERSION %llu", (unsigned long long)version);
    CHECK(sint2 == SINT_MASKED, "SINT2 resets to 0x%llx", (unsigned long long)sint2);
    expect_gp(MSR_SVERSION, 2, "SVERSION is read-only");
    expect_gp(MSR_SINT0 + SINT, 5, "an unmasked exception vector");
    expect_gp(MSR_SINT0 + SINT, SINT_VECTOR | (1ull << 20), "a reserved SINT bit");
    expect_gp(MSR_SINT0 + SINT, SINT_VECTOR | SINT_AUTO_EOI, "auto-EOI");
    expect_gp(MSR_SINT0 + 16, SINT_VECTOR, "SINT16 does not exist");
    expect_gp(MSR_SCONTROL, 2, "a reserved SCONTROL bit");
    expect_gp(MSR_SIMP, TEST_DEVICE_GPA | 1, "a message page on the test device");
    expect_gp(MSR_SIMP, 0x40000000ull | 1, "a message page beyond RAM");
    expect_gp(MSR_SIMP, (uint32_t)(uintptr_t)message_page | 3, "a reserved SIMP bit");
    expect_gp(MSR_SIEFP, TEST_DEVICE_GPA | 1, "an event page on the test device");
    expect_gp(MSR_STIMER_CONFIG(0), STIMER_ENABLE | STIMER_DIRECT | STIMER_VECTOR(5),
              "a direct timer on an exception vector");
    expect_gp(MSR_STIMER_CONFIG(0), 1ull << 24, "a reserved timer bit");
    guest_printf("SynIC MSRs: SVERSION %llu, SINT reset 0x%llx, refusals #GP",
                 (unsigned long long)version, (unsigned long long)sint2);
}

static void check_one_shot_message(void)
{
    uint32_t before = synictest_sint_interrupts;
    uint64_t due = now() + 5 * UNITS_PER_MS;
    wrmsr(MSR_STIMER_CONFIG(0), STIMER_ENABLE | STIMER_SINT(SINT));
    wrmsr(MSR_STIMER_COUNT(0), due);
    bool arrived = wait_for(&synictest_sint_interrupts, before + 1);
    uint64_t taken = now();
    CHECK(arrived, "no SINT2 interrupt for the one-shot timer");
    struct message m = take_message();
    struct timer_payload p;
    __builtin_memcpy(&p, m.payload, sizeof(p));
    CHECK(m.type == TIMER_EXPIRED && p.index == 0, "one-shot: type 0x%x index %u", m.type,
          p.index);
    CHECK(p.expiration == due, "one-shot: expiration %llu, programmed %llu",
          (unsigned long long)p.expiration, (unsigned long long)due);
    CHECK(p.delivery >= p.expiration && p.delivery <= taken, "one-shot: delivery %llu",
          (unsigned long long)p.delivery);
    CHECK((rdmsr(MSR_STIMER_CONFIG(0)) & STIMER_ENABLE) == 0, "a fired one-shot stays enabled");
    stop_timer(0);
    drain();
    guest_printf("stimer0 one-shot message: vector 0x%x, late %llu units", SINT_VECTOR,
                 (unsigned long long)(p.delivery - p.expiration));
}

static void check_periodic_message(void)
{
    const uint64_t period = 5 * UNITS_PER_MS;
    const uint32_t wanted = 8;
    uint64_t first = 0, last = 0, start = now();
    uint32_t got = 0;
    wrmsr(MSR_STIMER_COUNT(0), period);
    wrmsr(MSR_STIMER_CONFIG(0), STIMER_ENABLE | STIMER_PERIODIC | STIMER_SINT(SINT));
    uint64_t give_up = start + GIVE_UP_UNITS;
    while (got < wanted && now() < give_up) {
        if (slot->type == 0)
            continue;
        struct message m = take_message();
        struct timer_payload p;
        __builtin_memcpy(&p, m.payload, sizeof(p));
        CHECK(m.type == TIMER_EXPIRED && p.index == 0, "periodic: type 0x%x", m.type);
        if (got == 0) {
            first = p.expiration;
        } else {
            /* Deadlines step by the period from the previous one: expirations are whole
             * periods apart (more than one if an expiry replaced a waiting one). */
            CHECK(p.expiration > last && (p.expiration - last) % period == 0,
                  "periodic: expiration %llu after %llu (period %llu): drift",
                  (unsigned long long)p.expiration, (unsigned long long)last,
                  (unsigned long long)period);
        }
        last = p.expiration;
        got++;
    }
    stop_timer(0);
    drain();
    CHECK(got == wanted, "periodic: %u of %u messages", got, wanted);
    CHECK(first >= start + period, "periodic: first expiry before one period");
    guest_printf("stimer0 periodic message: %u expiries %llu periods apart in total", got,
                 (unsigned long long)((last - first) / period));
}

/* Two expiries while the slot is busy: the first waits with MessagePending, the second is
 * delivered on EOM (TLFS 11.10.3). Interrupts stay off meanwhile. */
static void check_redelivery(void)
{
    uint64_t start = now();
    wrmsr(MSR_STIMER_CONFIG(0), STIMER_ENABLE | STIMER_SINT(SINT));
    wrmsr(MSR_STIMER_COUNT(0), start + UNITS_PER_MS);
    wrmsr(MSR_STIMER_CONFIG(1), STIMER_ENABLE | STIMER_SINT(SINT));
    wrmsr(MSR_STIMER_COUNT(1), start + 2 * UNITS_PER_MS);
    uint64_t give_up = start + GIVE_UP_UNITS;
    while (!(slot->type != 0 && (slot->flags & MESSAGE_PENDING)) && now() < give_up)
        __asm__ volatile("pause");
    struct timer_payload p;
    __builtin_memcpy(&p, (const void *)(uintptr_t)slot->payload, sizeof(p));
    CHECK(slot->type == TIMER_EXPIRED && p.index == 0 && (slot->flags & MESSAGE_PENDING),
          "redelivery: slot type 0x%x index %u flags %u", slot->type, p.index, slot->flags);
    struct message m = take_message(); /* EOM: the pending flag was set */
    (void)m;
    give_up = now() + GIVE_UP_UNITS;
    while (slot->type == 0 && now() < give_up)
        __asm__ volatile("pause");
    __builtin_memcpy(&p, (const void *)(uintptr_t)slot->payload, sizeof(p));
    CHECK(slot->type == TIMER_EXPIRED && p.index == 1,
          "redelivery: after EOM type 0x%x index %u", slot->type, p.index);
    take_message();
    stop_timer(0);
    stop_timer(1);
    drain();
    /* The interrupts raised meanwhile: one vector, pending once in the IRR. */
    wait_for(&synictest_sint_interrupts, synictest_sint_interrupts + 1);
    guest_printf("redelivery: timer 0 in the slot with MessagePending, timer 1 after EOM");
}

static void check_direct(void)
{
    uint64_t due = now() + 2 * UNITS_PER_MS;
    wrmsr(MSR_STIMER_CONFIG(0), STIMER_ENABLE | STIMER_DIRECT | STIMER_VECTOR(DIRECT_VECTOR));
    wrmsr(MSR_STIMER_COUNT(0), due);
    CHECK(wait_for(&synictest_direct_interrupts, 1), "no direct one-shot interrupt");
    CHECK(now() >= due, "direct one-shot before its time");
    CHECK(slot->type == 0, "direct mode posted a message (type 0x%x)", slot->type);
    stop_timer(0);

    const uint64_t period = 2 * UNITS_PER_MS;
    const uint32_t ticks = 10;
    uint64_t start = now();
    wrmsr(MSR_STIMER_COUNT(0), period);
    wrmsr(MSR_STIMER_CONFIG(0), STIMER_ENABLE | STIMER_PERIODIC | STIMER_DIRECT |
                                    STIMER_VECTOR(DIRECT_VECTOR));
    bool arrived = wait_for(&synictest_direct_interrupts, 1 + ticks);
    uint64_t elapsed = now() - start;
    stop_timer(0);
    CHECK(arrived, "direct periodic: %u of %u interrupts", synictest_direct_interrupts - 1,
          ticks);
    CHECK(elapsed >= (ticks - 1) * period, "direct periodic: %u ticks in %llu units", ticks,
          (unsigned long long)elapsed);
    guest_printf("stimer0 direct: one-shot and %u periodic interrupts on vector 0x%x", ticks,
                 DIRECT_VECTOR);
}

static void check_reference_tsc_page(void)
{
    expect_gp(MSR_REFERENCE_TSC, (uint32_t)(uintptr_t)tsc_page | 2, "a reserved TSC page bit");
    expect_gp(MSR_REFERENCE_TSC, TEST_DEVICE_GPA | 1, "a TSC page on the test device");
    uint64_t value = (uint32_t)(uintptr_t)tsc_page | 1;
    wrmsr(MSR_REFERENCE_TSC, value);
    CHECK(rdmsr(MSR_REFERENCE_TSC) == value, "the reference TSC MSR does not read back");
    volatile uint32_t *sequence = (volatile uint32_t *)tsc_page;
    uint64_t scale, offset;
    __builtin_memcpy(&scale, tsc_page + 8, sizeof(scale));
    __builtin_memcpy(&offset, tsc_page + 16, sizeof(offset));
    CHECK(*sequence != 0 && scale != 0, "TSC page invalid: sequence %u", *sequence);
    uint64_t worst = 0;
    for (int i = 0; i < 5; i++) {
        uint64_t before = now();
        uint64_t page_time = multiply_high(rdtsc(), scale) + offset;
        uint64_t after = now();
        CHECK(page_time + 2 >= before && page_time <= after + 2,
              "TSC page time %llu outside the counter's %llu..%llu",
              (unsigned long long)page_time, (unsigned long long)before,
              (unsigned long long)after);
        uint64_t spread = after - before;
        if (spread > worst)
            worst = spread;
    }
    guest_printf("reference TSC page: sequence %u, page time within TIME_REF_COUNT "
                 "(reads %llu units apart)", *sequence, (unsigned long long)worst);
}

static void check_post_message(void)
{
    static const char hello[16] = "hello, root";
    uint16_t status = post_message(1, 1, hello, sizeof(hello), 0);
    guest_printf("HvCallPostMessage connection 1: status 0x%04x", status);
    CHECK(status == HV_STATUS_SUCCESS, "post to connection 1");
    const struct {
        uint32_t connection, type, size, offset;
        uint16_t status;
        const char *what;
    } bad[] = {
        {1, 1, 241, 0, HV_STATUS_INVALID_PARAMETER, "payload of 241 bytes"},
        {0, 1, 8, 0, HV_STATUS_INVALID_CONNECTION_ID, "connection 0"},
        {2048, 1, 8, 0, HV_STATUS_INVALID_CONNECTION_ID, "connection 2048"},
        {0x01000001u, 1, 8, 0, HV_STATUS_INVALID_CONNECTION_ID, "reserved connection bits"},
        {1, TIMER_EXPIRED, 8, 0, HV_STATUS_INVALID_PARAMETER, "a hypervisor message type"},
        {1, 0, 8, 0, HV_STATUS_INVALID_PARAMETER, "message type None"},
        {1, 1, 8, 4, HV_STATUS_INVALID_ALIGNMENT, "a misaligned input"},
        {1, 1, 8, 4096 - 128, HV_STATUS_INVALID_ALIGNMENT, "an input crossing its page"},
    };
    for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (bad[i].offset + sizeof(struct post_message_input) > sizeof(input_page)) {
            /* Only the GPA is checked before the copy: pass it without writing there. */
            status = hypercall(HVCALL_POST_MESSAGE,
                               (uint32_t)(uintptr_t)input_page + bad[i].offset, 0);
        } else {
            status = post_message(bad[i].connection, bad[i].type, hello, bad[i].size,
                                  bad[i].offset);
        }
        CHECK(status == bad[i].status, "post with %s: status 0x%x, expected 0x%x",
              bad[i].what, status, bad[i].status);
    }
    /* A flood: the root takes messages as they come; what it has not taken yet is
     * bounded, and the rest is refused with HV_STATUS_INSUFFICIENT_BUFFERS. */
    uint32_t accepted = 0, refused = 0;
    for (uint32_t i = 0; i < 64; i++) {
        status = post_message(1, 1, &i, sizeof(i), 0);
        if (status == HV_STATUS_SUCCESS)
            accepted++;
        else if (status == HV_STATUS_INSUFFICIENT_BUFFERS)
            refused++;
        else
            CHECK(false, "flood: status 0x%x", status);
    }
    guest_printf("flood of 64 posts: %u accepted, %u HV_STATUS_INSUFFICIENT_BUFFERS", accepted,
                 refused);
    CHECK(accepted >= 16, "flood: only %u of 64 accepted", accepted);
}

/* The root's echo connection answers a message with the same message on SINT2 and a signal
 * with flag 2047 of SINT2 (root/child_messages.c). */
static void check_echo(void)
{
    static const char ping[8] = "ping";
    uint32_t before = synictest_sint_interrupts;
    uint16_t status = post_message(ECHO_CONNECTION, 5, ping, sizeof(ping), 0);
    CHECK(status == HV_STATUS_SUCCESS, "post to the echo connection: 0x%x", status);
    CHECK(wait_for(&synictest_sint_interrupts, before + 1), "no echo message interrupt");
    struct message m = take_message();
    CHECK(m.type == 5 && m.payload_size == sizeof(ping) &&
              __builtin_memcmp(m.payload, ping, sizeof(ping)) == 0,
          "echo message: type %u size %u", m.type, m.payload_size);
    guest_printf("echo message back on SINT2: type %u, %u bytes", m.type, m.payload_size);

    before = synictest_sint_interrupts;
    status = signal_event(ECHO_CONNECTION, 0);
    CHECK(status == HV_STATUS_SUCCESS, "signal the echo connection: 0x%x", status);
    CHECK(wait_for(&synictest_sint_interrupts, before + 1), "no echo event interrupt");
    volatile uint32_t *flags = (volatile uint32_t *)(event_page + SINT * 256);
    uint32_t word = flags[ECHO_CONNECTION / 32];
    CHECK(word & (1u << (ECHO_CONNECTION % 32)), "flag 2047 of SINT2 is clear (0x%x)", word);
    __atomic_fetch_and(&flags[ECHO_CONNECTION / 32], ~(1u << (ECHO_CONNECTION % 32)),
                       __ATOMIC_SEQ_CST);
    guest_printf("echo event: flag %u of SINT2", ECHO_CONNECTION);

    CHECK(signal_event(ECHO_CONNECTION, 1) == HV_STATUS_INVALID_PARAMETER, "signal flag 1");
    CHECK(signal_event(0, 0) == HV_STATUS_INVALID_CONNECTION_ID, "signal connection 0");
    CHECK(signal_event(3000, 0) == HV_STATUS_INVALID_CONNECTION_ID, "signal connection 3000");
    CHECK(signal_event(7, 0) == HV_STATUS_SUCCESS, "signal connection 7");
}

int guest_main(const struct guest_boot *boot)
{
    (void)boot;
    trap_set_hook(probe_trap);
    install_idt();
    check_features();

    uint64_t apic_base = rdmsr(MSR_APIC_BASE);
    CHECK((apic_base & 0xC00) == 0xC00, "x2APIC not enabled (APIC_BASE 0x%llx)",
          (unsigned long long)apic_base);
    wrmsr(MSR_X2APIC_SVR, 0x100 | SPURIOUS_VECTOR);

    wrmsr(MSR_GUEST_OS_ID, GUEST_OS_ID_VALUE);
    wrmsr(MSR_HYPERCALL, (uint32_t)(uintptr_t)hypercall_page | 1);
    hypercall_page_set(hypercall_page);

    check_synic_msrs();
    wrmsr(MSR_SIMP, (uint32_t)(uintptr_t)message_page | 1);
    wrmsr(MSR_SIEFP, (uint32_t)(uintptr_t)event_page | 1);
    wrmsr(MSR_SINT0 + SINT, SINT_VECTOR);
    wrmsr(MSR_SCONTROL, 1);
    if (checks_failed)
        return GUEST_EXIT_FAIL;

    check_one_shot_message();
    check_periodic_message();
    check_redelivery();
    check_direct();
    check_reference_tsc_page();
    check_post_message();
    check_echo();

    wrmsr(MSR_SCONTROL, 0);
    wrmsr(MSR_SINT0 + SINT, SINT_MASKED);
    if (checks_failed)
        return GUEST_EXIT_FAIL;
    guest_printf("PASS");
    return GUEST_EXIT_PASS;
}
