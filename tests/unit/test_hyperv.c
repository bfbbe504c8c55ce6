// sources: hv/hyperv.c hv/reference_tsc.c
/*
 * The Hyper-V enlightenments of children (hv/hyperv.c) with the hypervisor's services
 * faked: a child's RAM as a buffer, the clocks as constants, the vendor backend as a
 * settable CPU mode and SS.DPL. Checks the CPUID leaves Linux reads, the synthetic MSR
 * rules (read-only MSRs, reserved bits, pages outside RAM, GUEST_OS_ID before HYPERCALL,
 * the lock bit) and when VMMCALL is a hypercall.
 */
#include <check.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "hv/guest_memory.h"
#include "hv/hyperv.h"
#include "hv/partition.h"
#include "hv/reference_tsc.h"
#include "hv/stimer.h"
#include "hv/synic.h"
#include "hv/vendor.h"
#include "kernel/lapic.h"
#include "kernel/log.h"
#include "kernel/tsc.h"
#include "kernel/x86.h"

/* ---- fakes --------------------------------------------------------------------------- */

#define RAM_BYTES (64u * 1024)
#define DEVICE_GPA 0xFEB00000ull

static uint8_t ram[RAM_BYTES];
static bool ibt_exposed;
static enum vp_cpu_mode cpu_mode = VP_CPU_MODE_PROTECTED_32;
static uint16_t ss_attributes = 0x93; /* present, DPL 0, writable data */

bool guest_memory_accessible(struct partition *p, uint64_t gpa, size_t length, bool write)
{
    (void)p;
    (void)write;
    return gpa < RAM_BYTES && length <= RAM_BYTES - gpa;
}

bool guest_memory_write(struct partition *p, uint64_t gpa, const void *buffer, size_t length)
{
    if (!guest_memory_accessible(p, gpa, length, true))
        return false;
    memcpy(ram + gpa, buffer, length);
    return true;
}

uint64_t stimer_reference_time(const struct vp *vp)
{
    return 1000u + vp->index;
}

uint64_t tsc_khz(void)
{
    return 2500000u;
}

/* A reference counter that starts at the partition's base: 0.4 ns per host TSC tick. */
uint64_t time_now_ns(void)
{
    return (uint64_t)(((unsigned __int128)rdtsc() * 2) / 5);
}

/* The SynIC and the timers answer their own MSRs (hv/synic.c, hv/stimer.c): here they take
 * one MSR each and refuse a value, to show hv/hyperv.c routes to them and passes on
 * their refusals. */
static uint64_t synic_written, stimer_written;

bool synic_msr_read(struct vp *vp, uint32_t msr, uint64_t *value)
{
    (void)vp;
    *value = synic_written;
    return msr == HV_X64_MSR_SIMP;
}

bool synic_msr_write(struct vp *vp, uint32_t msr, uint64_t value)
{
    (void)vp;
    if (msr != HV_X64_MSR_SIMP || value == 2)
        return false;
    synic_written = value;
    return true;
}

bool stimer_msr_read(struct vp *vp, uint32_t msr, uint64_t *value)
{
    (void)vp;
    *value = stimer_written;
    return msr == HV_X64_MSR_STIMER0_CONFIG;
}

bool stimer_msr_write(struct vp *vp, uint32_t msr, uint64_t value)
{
    (void)vp;
    if (msr != HV_X64_MSR_STIMER0_CONFIG || value == 2)
        return false;
    stimer_written = value;
    return true;
}

uint64_t lapic_timer_hz(void)
{
    return 62500000u;
}

void log_write(enum log_level level, const char *fmt, ...)
{
    (void)level;
    (void)fmt;
}

struct cpuid_result cpuid_for_partition(uint32_t leaf, uint32_t subleaf, bool is_root)
{
    (void)subleaf;
    (void)is_root;
    struct cpuid_result r = {0, 0, 0, 0};
    if (leaf == 7 && ibt_exposed)
        r.edx = 1u << 20;
    return r;
}

static enum vp_cpu_mode fake_cpu_mode(struct vp *vp)
{
    (void)vp;
    return cpu_mode;
}

static void fake_get_segment(struct vp *vp, enum vp_segment seg, struct vp_segment_value *out)
{
    (void)vp;
    (void)seg;
    memset(out, 0, sizeof(*out));
    out->attributes = ss_attributes;
}

static const struct hv_vendor_ops fake_ops = {
    .name = "fake",
    .vp_cpu_mode = fake_cpu_mode,
    .vp_get_segment = fake_get_segment,
};
const struct hv_vendor_ops *hv_vendor = &fake_ops;

/* ---- a child with two VPs -------------------------------------------------------------- */

static struct partition *child;
static struct vp *vp0, *vp1;

static void setup(void)
{
    memset(ram, 0, sizeof(ram));
    ibt_exposed = false;
    cpu_mode = VP_CPU_MODE_PROTECTED_32;
    ss_attributes = 0x93;
    child = calloc(1, sizeof(*child));
    vp0 = calloc(1, sizeof(*vp0));
    vp1 = calloc(1, sizeof(*vp1));
    child->id = 5;
    vp0->partition = vp1->partition = child;
    vp1->index = 1;
}

static void teardown(void)
{
    free(vp0);
    free(vp1);
    free(child);
}

static uint64_t read_msr(struct vp *vp, uint32_t msr)
{
    uint64_t value = 0xDEAD;
    ck_assert_int_eq(hyperv_msr_read(vp, msr, &value), HYPERV_MSR_DONE);
    return value;
}

static bool page_holds_hypercall_code(uint64_t gpa, bool endbr64)
{
    uint8_t amd[8], intel[8];
    uint32_t n = hyperv_hypercall_code(true, endbr64, amd);
    hyperv_hypercall_code(false, endbr64, intel);
    return memcmp(ram + gpa, amd, n) == 0 || memcmp(ram + gpa, intel, n) == 0;
}

/* ---- CPUID ------------------------------------------------------------------------------- */

START_TEST(cpuid_identifies_hyper_v)
{
    struct cpuid_result r = hyperv_cpuid_leaf(0x40000000u, 64, 8);
    char vendor[13];
    memcpy(vendor, &r.ebx, 4);
    memcpy(vendor + 4, &r.ecx, 4);
    memcpy(vendor + 8, &r.edx, 4);
    vendor[12] = '\0';
    ck_assert_str_eq(vendor, "Microsoft Hv");
    ck_assert_uint_eq(r.eax, 0x4000000Au); /* Linux reads 0x4000000A when max reaches it */
    ck_assert_uint_eq(hyperv_cpuid_leaf(0x40000001u, 64, 8).eax, 0x31237648u); /* "Hv#1" */
    r = hyperv_cpuid_leaf(0x40000002u, 64, 8);
    ck_assert_uint_eq(r.eax, HYPERV_VERSION_BUILD);
    ck_assert_uint_eq(r.ebx, HYPERV_VERSION_MAJOR << 16 | HYPERV_VERSION_MINOR);
}
END_TEST

START_TEST(cpuid_features_are_what_works)
{
    struct cpuid_result r = hyperv_cpuid_leaf(0x40000003u, 64, 8);
    /* Linux needs hypercall MSRs (5) and VP index (6) to detect Hyper-V at all. */
    /* 1 ref counter, 2 SynIC, 3 stimers, 5, 6, 9 reference TSC page, 11 frequency MSRs */
    ck_assert_uint_eq(r.eax, 0xA6Eu);
    ck_assert_uint_eq(r.ebx & (1u << 12), 0); /* never "you are the root partition" */
    ck_assert_uint_eq(r.ebx, 0x30u);          /* post messages, signal events */
    ck_assert_uint_eq(r.edx, 0x80100u);       /* frequency MSRs, stimer direct mode */
    /* Not advertised: invariant TSC controls (MSR 0x40000118 is not answered). */
    ck_assert_uint_eq(r.eax & (1u << 15), 0);
}
END_TEST

START_TEST(cpuid_hints_limits_and_the_rest)
{
    struct cpuid_result r = hyperv_cpuid_leaf(0x40000004u, 64, 8);
    ck_assert_uint_eq(r.eax, 0x200u);
    ck_assert_uint_eq(r.ebx, 0xFFFFFFFFu);
    r = hyperv_cpuid_leaf(0x40000005u, 64, 8);
    ck_assert_uint_eq(r.eax, 64);
    ck_assert_uint_eq(r.ebx, 8);
    ck_assert_uint_eq(r.ecx, 0);
    for (uint32_t leaf = 0x40000006u; leaf <= 0x4000000Au; leaf++) {
        r = hyperv_cpuid_leaf(leaf, 64, 8);
        ck_assert_uint_eq(r.eax | r.ebx | r.ecx | r.edx, 0);
    }
    r = hyperv_cpuid_leaf(0x4000FFFFu, 64, 8);
    ck_assert_uint_eq(r.eax | r.ebx | r.ecx | r.edx, 0);
    ck_assert(hyperv_cpuid_is_hypervisor_leaf(0x40000000u));
    ck_assert(hyperv_cpuid_is_hypervisor_leaf(0x4000FFFFu));
    ck_assert(!hyperv_cpuid_is_hypervisor_leaf(0x40010000u));
    ck_assert(!hyperv_cpuid_is_hypervisor_leaf(0x3FFFFFFFu));
    ck_assert_uint_eq(hyperv_cpuid(vp0, 0x40000005u).eax, PARTITION_MAX_VPS);
}
END_TEST

/* ---- hypercall page code ------------------------------------------------------------------ */

START_TEST(hypercall_code_per_vendor)
{
    uint8_t code[8];
    ck_assert_uint_eq(hyperv_hypercall_code(true, false, code), 4);
    ck_assert_mem_eq(code, "\x0F\x01\xD9\xC3", 4);
    ck_assert_uint_eq(hyperv_hypercall_code(false, false, code), 4);
    ck_assert_mem_eq(code, "\x0F\x01\xC1\xC3", 4);
    ck_assert_uint_eq(hyperv_hypercall_code(true, true, code), 8);
    ck_assert_mem_eq(code, "\xF3\x0F\x1E\xFA\x0F\x01\xD9\xC3", 8);
}
END_TEST

/* ---- MSRs ---------------------------------------------------------------------------------- */

START_TEST(hypercall_msr_needs_guest_os_id)
{
    /* Ignored (not refused) while the guest OS ID is 0: nothing written, reads 0. */
    ck_assert_int_eq(hyperv_msr_write(vp0, HV_X64_MSR_HYPERCALL, 0x2000 | 1), HYPERV_MSR_DONE);
    ck_assert_uint_eq(read_msr(vp0, HV_X64_MSR_HYPERCALL), 0);
    ck_assert_uint_eq(ram[0x2000], 0);
    ck_assert(!hyperv_hypercall_allowed(vp0));

    ck_assert_int_eq(hyperv_msr_write(vp0, HV_X64_MSR_GUEST_OS_ID, 0x8100000000060100ull),
                     HYPERV_MSR_DONE);
    ck_assert_uint_eq(read_msr(vp1, HV_X64_MSR_GUEST_OS_ID), 0x8100000000060100ull);
    ck_assert(hyperv_hypercall_allowed(vp1)); /* partition-wide */
    ck_assert_int_eq(hyperv_msr_write(vp1, HV_X64_MSR_HYPERCALL, 0x2000 | 1), HYPERV_MSR_DONE);
    ck_assert_uint_eq(read_msr(vp0, HV_X64_MSR_HYPERCALL), 0x2001);
    ck_assert(page_holds_hypercall_code(0x2000, false));

    /* Withdrawing the identity turns the page off and VMMCALL is no hypercall again. */
    ck_assert_int_eq(hyperv_msr_write(vp0, HV_X64_MSR_GUEST_OS_ID, 0), HYPERV_MSR_DONE);
    ck_assert_uint_eq(read_msr(vp0, HV_X64_MSR_HYPERCALL), 0x2000);
    ck_assert(!hyperv_hypercall_allowed(vp0));
}
END_TEST

START_TEST(hypercall_msr_refusals)
{
    ck_assert_int_eq(hyperv_msr_write(vp0, HV_X64_MSR_GUEST_OS_ID, 1), HYPERV_MSR_DONE);
    /* Reserved bits 11:2. */
    for (unsigned bit = 2; bit < 12; bit++)
        ck_assert_int_eq(hyperv_msr_write(vp0, HV_X64_MSR_HYPERCALL, 0x3000 | 1 | 1u << bit),
                         HYPERV_MSR_FAULT);
    /* Not the partition's RAM: a device window, past the end, a wrapping page number. */
    ck_assert_int_eq(hyperv_msr_write(vp0, HV_X64_MSR_HYPERCALL, DEVICE_GPA | 1),
                     HYPERV_MSR_FAULT);
    ck_assert_int_eq(hyperv_msr_write(vp0, HV_X64_MSR_HYPERCALL, RAM_BYTES | 1),
                     HYPERV_MSR_FAULT);
    ck_assert_int_eq(hyperv_msr_write(vp0, HV_X64_MSR_HYPERCALL, 0xFFFFFFFFFFFFF001ull),
                     HYPERV_MSR_FAULT);
    ck_assert_uint_eq(read_msr(vp0, HV_X64_MSR_HYPERCALL), 0); /* nothing changed */
    /* Disabled with a page outside RAM: nothing is written, so nothing to refuse. */
    ck_assert_int_eq(hyperv_msr_write(vp0, HV_X64_MSR_HYPERCALL, DEVICE_GPA),
                     HYPERV_MSR_DONE);
}
END_TEST

START_TEST(hypercall_msr_lock)
{
    ibt_exposed = true;
    ck_assert_int_eq(hyperv_msr_write(vp0, HV_X64_MSR_GUEST_OS_ID, 1), HYPERV_MSR_DONE);
    ck_assert_int_eq(hyperv_msr_write(vp0, HV_X64_MSR_HYPERCALL, 0x4000 | 3), HYPERV_MSR_DONE);
    ck_assert(page_holds_hypercall_code(0x4000, true)); /* ENDBR64 first */
    /* The same value again is fine; any change is refused. */
    ck_assert_int_eq(hyperv_msr_write(vp0, HV_X64_MSR_HYPERCALL, 0x4000 | 3), HYPERV_MSR_DONE);
    ck_assert_int_eq(hyperv_msr_write(vp0, HV_X64_MSR_HYPERCALL, 0x5000 | 3), HYPERV_MSR_FAULT);
    ck_assert_int_eq(hyperv_msr_write(vp0, HV_X64_MSR_HYPERCALL, 0), HYPERV_MSR_FAULT);
    ck_assert_uint_eq(read_msr(vp0, HV_X64_MSR_HYPERCALL), 0x4003);
}
END_TEST

START_TEST(read_only_msrs)
{
    ck_assert_uint_eq(read_msr(vp0, HV_X64_MSR_VP_INDEX), 0);
    ck_assert_uint_eq(read_msr(vp1, HV_X64_MSR_VP_INDEX), 1);
    ck_assert_uint_eq(read_msr(vp1, HV_X64_MSR_TIME_REF_COUNT), 1001);
    ck_assert_uint_eq(read_msr(vp0, HV_X64_MSR_TSC_FREQUENCY), 2500000000ull);
    ck_assert_uint_eq(read_msr(vp0, HV_X64_MSR_APIC_FREQUENCY), 1000000000ull); /* x16 */
    const uint32_t read_only[] = {HV_X64_MSR_VP_INDEX, HV_X64_MSR_TIME_REF_COUNT,
                                  HV_X64_MSR_TSC_FREQUENCY, HV_X64_MSR_APIC_FREQUENCY};
    for (size_t i = 0; i < sizeof(read_only) / sizeof(read_only[0]); i++)
        ck_assert_int_eq(hyperv_msr_write(vp0, read_only[i], 7), HYPERV_MSR_FAULT);
    ck_assert_uint_eq(read_msr(vp0, HV_X64_MSR_VP_INDEX), 0);
}
END_TEST

START_TEST(vp_assist_page_per_vp)
{
    ck_assert_int_eq(hyperv_msr_write(vp1, HV_X64_MSR_VP_ASSIST_PAGE, 0x6000 | 1),
                     HYPERV_MSR_DONE);
    ck_assert_uint_eq(read_msr(vp1, HV_X64_MSR_VP_ASSIST_PAGE), 0x6001);
    ck_assert_uint_eq(read_msr(vp0, HV_X64_MSR_VP_ASSIST_PAGE), 0);
    ck_assert_int_eq(hyperv_msr_write(vp0, HV_X64_MSR_VP_ASSIST_PAGE, 0x6000 | 1 | 2),
                     HYPERV_MSR_FAULT);
    ck_assert_int_eq(hyperv_msr_write(vp0, HV_X64_MSR_VP_ASSIST_PAGE, DEVICE_GPA | 1),
                     HYPERV_MSR_FAULT);
    ck_assert_uint_eq(ram[0x6000], 0); /* nothing overlaid: the APIC assist bit stays 0 */
}
END_TEST

START_TEST(msrs_not_ours)
{
    uint64_t value = 0;
    ck_assert_int_eq(hyperv_msr_read(vp0, 0x40000099u, &value), HYPERV_MSR_UNHANDLED);
    ck_assert_int_eq(hyperv_msr_write(vp0, 0x400000B7u, 1), HYPERV_MSR_UNHANDLED);
    ck_assert_int_eq(hyperv_msr_read(vp0, 0xC0000080u, &value), HYPERV_MSR_UNHANDLED);
}
END_TEST

START_TEST(synic_and_timer_msrs_are_routed)
{
    synic_written = stimer_written = 0;
    ck_assert_int_eq(hyperv_msr_write(vp0, HV_X64_MSR_SIMP, 0x5001), HYPERV_MSR_DONE);
    ck_assert_uint_eq(read_msr(vp0, HV_X64_MSR_SIMP), 0x5001);
    ck_assert_int_eq(hyperv_msr_write(vp0, HV_X64_MSR_SIMP, 2), HYPERV_MSR_UNHANDLED);
    ck_assert_int_eq(hyperv_msr_write(vp0, HV_X64_MSR_STIMER0_CONFIG, 0x20001),
                     HYPERV_MSR_DONE);
    ck_assert_uint_eq(read_msr(vp0, HV_X64_MSR_STIMER0_CONFIG), 0x20001);
}
END_TEST

/* TLFS 12.7: the page gives what TIME_REF_COUNT gives, from the TSC alone. */
START_TEST(reference_tsc_page)
{
    ck_assert_uint_eq(read_msr(vp0, HV_X64_MSR_REFERENCE_TSC), 0);
    ck_assert_int_eq(hyperv_msr_write(vp0, HV_X64_MSR_REFERENCE_TSC, 0x7000 | 1),
                     HYPERV_MSR_DONE);
    ck_assert_uint_eq(read_msr(vp1, HV_X64_MSR_REFERENCE_TSC), 0x7001); /* partition-wide */
    struct hv_reference_tsc_page page;
    memcpy(&page, ram + 0x7000, sizeof(page));
    ck_assert_uint_ne(page.tsc_sequence, 0);
    ck_assert_uint_eq(page.tsc_scale, reference_tsc_scale(2500000u));
    uint64_t before = time_now_ns() / 100;
    uint64_t from_page = reference_tsc_time(rdtsc(), page.tsc_scale, page.tsc_offset);
    uint64_t after = time_now_ns() / 100;
    ck_assert_uint_ge(from_page + 1, before);
    ck_assert_uint_le(from_page, after + 1);
    /* Enabling again writes a new sequence; disabling keeps the page as it is. */
    ck_assert_int_eq(hyperv_msr_write(vp0, HV_X64_MSR_REFERENCE_TSC, 0x7000 | 1),
                     HYPERV_MSR_DONE);
    uint32_t sequence;
    memcpy(&sequence, ram + 0x7000, sizeof(sequence));
    ck_assert_uint_ne(sequence, page.tsc_sequence);
    ck_assert_int_eq(hyperv_msr_write(vp0, HV_X64_MSR_REFERENCE_TSC, 0x7000),
                     HYPERV_MSR_DONE);
    ck_assert_uint_eq(read_msr(vp0, HV_X64_MSR_REFERENCE_TSC), 0x7000);
    /* Reserved bits and a page outside RAM: #GP, the value unchanged. */
    ck_assert_int_eq(hyperv_msr_write(vp0, HV_X64_MSR_REFERENCE_TSC, 0x7000 | 2),
                     HYPERV_MSR_FAULT);
    ck_assert_int_eq(hyperv_msr_write(vp0, HV_X64_MSR_REFERENCE_TSC, DEVICE_GPA | 1),
                     HYPERV_MSR_FAULT);
    ck_assert_uint_eq(read_msr(vp0, HV_X64_MSR_REFERENCE_TSC), 0x7000);
}
END_TEST

/* ---- when VMMCALL is a hypercall (TLFS 3.2, 3.13) ----------------------------------------- */

START_TEST(hypercall_environment)
{
    ck_assert(!hyperv_hypercall_allowed(vp0)); /* no guest OS identity */
    ck_assert_int_eq(hyperv_msr_write(vp0, HV_X64_MSR_GUEST_OS_ID, 1), HYPERV_MSR_DONE);
    ck_assert(hyperv_hypercall_allowed(vp0));
    cpu_mode = VP_CPU_MODE_LONG_64;
    ck_assert(hyperv_hypercall_allowed(vp0));
    ss_attributes = 0x93 | 3u << 5; /* CPL 3 */
    ck_assert(!hyperv_hypercall_allowed(vp0));
    ss_attributes = 0x93 | 1u << 5; /* CPL 1 */
    ck_assert(!hyperv_hypercall_allowed(vp0));
    ss_attributes = 0x93;
    cpu_mode = VP_CPU_MODE_REAL;
    ck_assert(!hyperv_hypercall_allowed(vp0));
}
END_TEST

Suite *hyperv_suite(void)
{
    Suite *s = suite_create("hyperv");
    TCase *t = tcase_create("core");
    tcase_add_checked_fixture(t, setup, teardown);
    tcase_add_test(t, cpuid_identifies_hyper_v);
    tcase_add_test(t, cpuid_features_are_what_works);
    tcase_add_test(t, cpuid_hints_limits_and_the_rest);
    tcase_add_test(t, hypercall_code_per_vendor);
    tcase_add_test(t, hypercall_msr_needs_guest_os_id);
    tcase_add_test(t, hypercall_msr_refusals);
    tcase_add_test(t, hypercall_msr_lock);
    tcase_add_test(t, read_only_msrs);
    tcase_add_test(t, vp_assist_page_per_vp);
    tcase_add_test(t, msrs_not_ours);
    tcase_add_test(t, synic_and_timer_msrs_are_routed);
    tcase_add_test(t, reference_tsc_page);
    tcase_add_test(t, hypercall_environment);
    suite_add_tcase(s, t);
    return s;
}
