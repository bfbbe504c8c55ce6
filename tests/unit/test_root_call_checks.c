// sources: hv/root_call_checks.c hv/hypercall_abi.c
#include <check.h>
#include <stdint.h>
#include <string.h>

#include "hv/hypercall_abi.h"
#include "hv/root_call_checks.h"
#include "hv/slat.h"

/* A CPU with everything the checks know of. */
static const struct vp_register_limits limits = {
    .cr4_allowed = 0x7FF | (1ull << 16) | (1ull << 18),
    .efer_allowed = (1ull << 0) | X86_EFER_LME | (1ull << 11),
};

static enum hv_status check64(uint32_t name, uint64_t value)
{
    union hv_register_value v;
    memset(&v, 0, sizeof(v));
    v.reg64 = value;
    return root_call_check_register_value(name, &v, &limits);
}

START_TEST(map_flags_to_access)
{
    unsigned access = 99;
    ck_assert_int_eq(root_call_map_access(HV_MAP_GPA_READABLE, &access), HV_STATUS_SUCCESS);
    ck_assert_uint_eq(access, SLAT_READ);
    ck_assert_int_eq(root_call_map_access(HV_MAP_GPA_READABLE | HV_MAP_GPA_WRITABLE |
                                              HV_MAP_GPA_USER_EXECUTABLE,
                                          &access),
                     HV_STATUS_SUCCESS);
    ck_assert_uint_eq(access, SLAT_READ | SLAT_WRITE | SLAT_EXECUTE);
    ck_assert_int_eq(root_call_map_access(HV_MAP_GPA_READABLE | HV_MAP_GPA_KERNEL_EXECUTABLE,
                                          &access),
                     HV_STATUS_SUCCESS);
    ck_assert_uint_eq(access, SLAT_READ | SLAT_EXECUTE);
    /* Nested paging has no write-only or execute-only pages. */
    ck_assert_int_eq(root_call_map_access(HV_MAP_GPA_WRITABLE, &access),
                     HV_STATUS_INVALID_PARAMETER);
    ck_assert_int_eq(root_call_map_access(HV_MAP_GPA_EXECUTABLE, &access),
                     HV_STATUS_INVALID_PARAMETER);
    /* No access: valid, nothing mapped. */
    ck_assert_int_eq(root_call_map_access(HV_MAP_GPA_NO_ACCESS, &access), HV_STATUS_SUCCESS);
    ck_assert_uint_eq(access, 0);
    ck_assert_int_eq(root_call_map_access(0, &access), HV_STATUS_SUCCESS);
    ck_assert_uint_eq(access, 0);
}
END_TEST

START_TEST(general_registers_take_anything)
{
    ck_assert_int_eq(check64(HV_X64_REGISTER_RAX, UINT64_MAX), HV_STATUS_SUCCESS);
    ck_assert_int_eq(check64(HV_X64_REGISTER_R15, 0x8000000000000000ull), HV_STATUS_SUCCESS);
    ck_assert_int_eq(check64(HV_X64_REGISTER_RIP, 0xFFFF800000001000ull), HV_STATUS_SUCCESS);
    ck_assert_int_eq(check64(HV_X64_REGISTER_CR2, UINT64_MAX), HV_STATUS_SUCCESS);
}
END_TEST

START_TEST(reserved_bits_refused)
{
    ck_assert_int_eq(check64(HV_X64_REGISTER_RFLAGS, 0x202), HV_STATUS_SUCCESS);
    ck_assert_int_eq(check64(HV_X64_REGISTER_RFLAGS, 1u << 3), HV_STATUS_INVALID_PARAMETER);
    ck_assert_int_eq(check64(HV_X64_REGISTER_RFLAGS, 1u << 15), HV_STATUS_INVALID_PARAMETER);
    ck_assert_int_eq(check64(HV_X64_REGISTER_RFLAGS, 1ull << 22), HV_STATUS_INVALID_PARAMETER);
    ck_assert_int_eq(check64(HV_X64_REGISTER_CR3, 0x1000), HV_STATUS_SUCCESS);
    ck_assert_int_eq(check64(HV_X64_REGISTER_CR3, 1ull << 52), HV_STATUS_INVALID_PARAMETER);
    ck_assert_int_eq(check64(HV_X64_REGISTER_CR4, X86_CR4_PAE), HV_STATUS_SUCCESS);
    ck_assert_int_eq(check64(HV_X64_REGISTER_CR4, 1ull << 13), HV_STATUS_INVALID_PARAMETER);
    ck_assert_int_eq(check64(HV_X64_REGISTER_CR4, 1ull << 17), HV_STATUS_INVALID_PARAMETER);
    ck_assert_int_eq(check64(HV_X64_REGISTER_CR8, 15), HV_STATUS_SUCCESS);
    ck_assert_int_eq(check64(HV_X64_REGISTER_CR8, 16), HV_STATUS_INVALID_PARAMETER);
    ck_assert_int_eq(check64(HV_X64_REGISTER_EFER, X86_EFER_LME | X86_EFER_LMA | X86_EFER_SVME),
                     HV_STATUS_SUCCESS);
    ck_assert_int_eq(check64(HV_X64_REGISTER_EFER, 1ull << 14), HV_STATUS_INVALID_PARAMETER);
    ck_assert_int_eq(check64(HV_X64_REGISTER_DR7, 0x400), HV_STATUS_SUCCESS);
    ck_assert_int_eq(check64(HV_X64_REGISTER_DR7, 1ull << 32), HV_STATUS_INVALID_PARAMETER);
    ck_assert_int_eq(check64(HV_X64_REGISTER_DR6, 1ull << 40), HV_STATUS_INVALID_PARAMETER);
    ck_assert_int_eq(check64(HV_X64_REGISTER_SFMASK, 1ull << 32), HV_STATUS_INVALID_PARAMETER);
    ck_assert_int_eq(check64(HV_X64_REGISTER_STAR, UINT64_MAX), HV_STATUS_SUCCESS);
}
END_TEST

START_TEST(cr0_rules)
{
    ck_assert_int_eq(check64(HV_X64_REGISTER_CR0, X86_CR0_PE | X86_CR0_PG), HV_STATUS_SUCCESS);
    ck_assert_int_eq(check64(HV_X64_REGISTER_CR0, 0x10), HV_STATUS_SUCCESS); /* real mode */
    ck_assert_int_eq(check64(HV_X64_REGISTER_CR0, X86_CR0_PG), HV_STATUS_INVALID_PARAMETER);
    ck_assert_int_eq(check64(HV_X64_REGISTER_CR0, X86_CR0_NW), HV_STATUS_INVALID_PARAMETER);
    ck_assert_int_eq(check64(HV_X64_REGISTER_CR0, X86_CR0_NW | X86_CR0_CD), HV_STATUS_SUCCESS);
    ck_assert_int_eq(check64(HV_X64_REGISTER_CR0, 1ull << 32), HV_STATUS_INVALID_PARAMETER);
}
END_TEST

START_TEST(pat_and_canonical_addresses)
{
    ck_assert_int_eq(check64(HV_X64_REGISTER_PAT, 0x0007040600070406ull), HV_STATUS_SUCCESS);
    ck_assert_int_eq(check64(HV_X64_REGISTER_PAT, 0x0007040600070402ull),
                     HV_STATUS_INVALID_PARAMETER);
    ck_assert_int_eq(check64(HV_X64_REGISTER_PAT, 0x0807040600070406ull),
                     HV_STATUS_INVALID_PARAMETER);
    ck_assert(root_call_address_canonical(0x00007FFFFFFFFFFFull));
    ck_assert(root_call_address_canonical(0xFFFF800000000000ull));
    ck_assert(!root_call_address_canonical(0x0000800000000000ull));
    ck_assert(!root_call_address_canonical(0xFFFF7FFFFFFFFFFFull));
    ck_assert_int_eq(check64(HV_X64_REGISTER_LSTAR, 0xFFFFFFFF81000000ull), HV_STATUS_SUCCESS);
    ck_assert_int_eq(check64(HV_X64_REGISTER_LSTAR, 0x0000800000000000ull),
                     HV_STATUS_INVALID_PARAMETER);
    ck_assert_int_eq(check64(HV_X64_REGISTER_KERNEL_GS_BASE, 0x1234567812345678ull),
                     HV_STATUS_INVALID_PARAMETER);
}
END_TEST

START_TEST(segments)
{
    union hv_register_value v;
    memset(&v, 0, sizeof(v));
    v.segment = (struct hv_x64_segment_register){0, 0xFFFFFFFF, 0x08, 0xC09B};
    ck_assert_int_eq(root_call_check_register_value(HV_X64_REGISTER_CS, &v, &limits),
                     HV_STATUS_SUCCESS);
    v.segment.attributes = 0xC19B; /* bit 8: reserved in the TLFS layout */
    ck_assert_int_eq(root_call_check_register_value(HV_X64_REGISTER_CS, &v, &limits),
                     HV_STATUS_INVALID_PARAMETER);
    v.segment.attributes = 0xC093;
    v.segment.base = 0x0000900000000000ull;
    ck_assert_int_eq(root_call_check_register_value(HV_X64_REGISTER_FS, &v, &limits),
                     HV_STATUS_INVALID_PARAMETER);
    memset(&v, 0, sizeof(v));
    v.table.base = 0x1000;
    v.table.limit = 0xFFF;
    ck_assert_int_eq(root_call_check_register_value(HV_X64_REGISTER_GDTR, &v, &limits),
                     HV_STATUS_SUCCESS);
    v.table.pad[1] = 1;
    ck_assert_int_eq(root_call_check_register_value(HV_X64_REGISTER_IDTR, &v, &limits),
                     HV_STATUS_INVALID_PARAMETER);
    /* TLFS 16-bit <-> VMCB 12-bit attribute packing. */
    ck_assert_uint_eq(root_call_segment_attributes_to_vendor(0xC09B), 0xC9B);
    ck_assert_uint_eq(root_call_segment_attributes_to_vendor(0xA09B), 0xA9B);
    ck_assert_uint_eq(root_call_segment_attributes_from_vendor(0xC93), 0xC093);
    for (uint32_t a = 0; a < 0x1000; a++)
        ck_assert_uint_eq(root_call_segment_attributes_to_vendor(
                              root_call_segment_attributes_from_vendor((uint16_t)a)),
                          a);
}
END_TEST

START_TEST(not_settable_names)
{
    ck_assert_int_eq(check64(HV_REGISTER_VP_INDEX, 1), HV_STATUS_INVALID_PARAMETER);
    ck_assert_int_eq(check64(HV_X64_REGISTER_DR0, 0), HV_STATUS_INVALID_PARAMETER);
    ck_assert_int_eq(check64(HV_X64_REGISTER_TSC, 0), HV_STATUS_INVALID_PARAMETER);
    ck_assert_int_eq(check64(0x00123456, 0), HV_STATUS_INVALID_PARAMETER);
}
END_TEST

START_TEST(control_state_combinations)
{
    struct vp_control_state s = {X86_CR0_PE, 0, 0, 0xC09B};
    ck_assert(root_call_control_state_valid(&s)); /* 32-bit protected mode */
    s = (struct vp_control_state){X86_CR0_PE | X86_CR0_PG, X86_CR4_PAE, X86_EFER_LME, 0xA09B};
    ck_assert(root_call_control_state_valid(&s)); /* long mode, 64-bit code */
    s.cr4 = 0;
    ck_assert(!root_call_control_state_valid(&s)); /* long mode without PAE */
    s.cr4 = X86_CR4_PAE;
    s.cs_attributes = 0xE09B; /* L and D/B */
    ck_assert(!root_call_control_state_valid(&s));
    s.efer = 0; /* not long mode: L and D/B mean nothing */
    ck_assert(root_call_control_state_valid(&s));
    s = (struct vp_control_state){X86_CR0_PG, 0, 0, 0};
    ck_assert(!root_call_control_state_valid(&s));
    ck_assert_uint_eq(root_call_efer_with_lma(X86_EFER_LME, X86_CR0_PG | X86_CR0_PE),
                      X86_EFER_LME | X86_EFER_LMA);
    ck_assert_uint_eq(root_call_efer_with_lma(X86_EFER_LME | X86_EFER_LMA, X86_CR0_PE),
                      X86_EFER_LME);
    ck_assert_uint_eq(root_call_efer_with_lma(X86_EFER_LMA, X86_CR0_PG | X86_CR0_PE), 0);
}
END_TEST

static uint64_t pending(uint32_t type, uint32_t vector, bool error_code, uint32_t error)
{
    return 1 | ((uint64_t)type << 1) | (error_code ? 1u << 4 : 0) | ((uint64_t)vector << 16) |
           ((uint64_t)error << 32);
}

START_TEST(pending_interruptions)
{
    ck_assert_int_eq(root_call_check_pending_interruption(0, false), HV_STATUS_SUCCESS);
    ck_assert_int_eq(root_call_check_pending_interruption(1ull << 16, false),
                     HV_STATUS_INVALID_PARAMETER); /* not pending but not zero */
    ck_assert_int_eq(root_call_check_pending_interruption(pending(3, 13, true, 0), false),
                     HV_STATUS_SUCCESS);
    ck_assert_int_eq(root_call_check_pending_interruption(pending(3, 14, true, 2), false),
                     HV_STATUS_SUCCESS);
    ck_assert_int_eq(root_call_check_pending_interruption(pending(3, 13, false, 0), false),
                     HV_STATUS_INVALID_PARAMETER); /* #GP pushes an error code */
    ck_assert_int_eq(root_call_check_pending_interruption(pending(3, 13, true, 0), true),
                     HV_STATUS_INVALID_PARAMETER); /* ... except in real mode */
    ck_assert_int_eq(root_call_check_pending_interruption(pending(3, 13, false, 0), true),
                     HV_STATUS_SUCCESS);
    ck_assert_int_eq(root_call_check_pending_interruption(pending(3, 6, false, 0), false),
                     HV_STATUS_SUCCESS);
    ck_assert_int_eq(root_call_check_pending_interruption(pending(3, 6, true, 0), false),
                     HV_STATUS_INVALID_PARAMETER); /* #UD has none */
    ck_assert_int_eq(root_call_check_pending_interruption(pending(3, 6, false, 5), false),
                     HV_STATUS_INVALID_PARAMETER); /* an error code value without the bit */
    ck_assert_int_eq(root_call_check_pending_interruption(pending(3, 2, false, 0), false),
                     HV_STATUS_INVALID_PARAMETER); /* NMI is not an exception */
    ck_assert_int_eq(root_call_check_pending_interruption(pending(3, 15, false, 0), false),
                     HV_STATUS_INVALID_PARAMETER); /* reserved vector */
    ck_assert_int_eq(root_call_check_pending_interruption(pending(3, 32, false, 0), false),
                     HV_STATUS_INVALID_PARAMETER);
    ck_assert_int_eq(root_call_check_pending_interruption(pending(2, 2, false, 0), false),
                     HV_STATUS_SUCCESS);
    ck_assert_int_eq(root_call_check_pending_interruption(pending(2, 3, false, 0), false),
                     HV_STATUS_INVALID_PARAMETER);
    ck_assert_int_eq(root_call_check_pending_interruption(pending(0, 0x30, false, 0), false),
                     HV_STATUS_SUCCESS);
    ck_assert_int_eq(root_call_check_pending_interruption(pending(0, 8, false, 0), false),
                     HV_STATUS_INVALID_PARAMETER);
    ck_assert_int_eq(root_call_check_pending_interruption(pending(0, 256, false, 0), false),
                     HV_STATUS_INVALID_PARAMETER);
    ck_assert_int_eq(root_call_check_pending_interruption(pending(4, 0x80, false, 0), false),
                     HV_STATUS_INVALID_PARAMETER); /* software interrupt: not offered */
    ck_assert_int_eq(root_call_check_pending_interruption(pending(3, 13, true, 0) | (3u << 5),
                                                          false),
                     HV_STATUS_INVALID_PARAMETER); /* instruction length */
}
END_TEST

/* The dispatcher refuses every root-only call from a child before a handler runs. */
START_TEST(children_denied_every_root_call)
{
    size_t count;
    const struct hypercall_descriptor *d = hypercall_descriptors(&count);
    unsigned root_only = 0;
    for (size_t i = 0; i < count; i++) {
        if (!d[i].root_only)
            continue;
        root_only++;
        struct hypercall_control c = {.code = d[i].code,
                                      .rep_count = d[i].kind == HYPERCALL_REP ? 1 : 0};
        struct hypercall_layout layout;
        ck_assert_int_eq(hypercall_validate(&c, &d[i], 0x10000, 0x20000, false, &layout),
                         HV_STATUS_ACCESS_DENIED);
        ck_assert_int_eq(hypercall_validate(&c, &d[i], 0x10000, 0x20000, true, &layout),
                         HV_STATUS_SUCCESS);
    }
    const uint16_t managed[] = {HVCALL_CREATE_PARTITION, HVCALL_INITIALIZE_PARTITION,
                                HVCALL_FINALIZE_PARTITION, HVCALL_DELETE_PARTITION,
                                HVCALL_MAP_GPA_PAGES, HVCALL_UNMAP_GPA_PAGES,
                                HVCALL_INSTALL_INTERCEPT, HVCALL_CREATE_VP,
                                HVCALL_GET_VP_REGISTERS, HVCALL_SET_VP_REGISTERS};
    for (size_t i = 0; i < sizeof(managed) / sizeof(managed[0]); i++)
        ck_assert(hypercall_descriptor_find(managed[i])->root_only);
    ck_assert(!hypercall_descriptor_find(HVCALL_GET_PARTITION_ID)->root_only);
    ck_assert_uint_ge(root_only, 10);
}
END_TEST

Suite *root_call_checks_suite(void);
Suite *root_call_checks_suite(void)
{
    Suite *s = suite_create("root_call_checks");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, map_flags_to_access);
    tcase_add_test(tc, general_registers_take_anything);
    tcase_add_test(tc, reserved_bits_refused);
    tcase_add_test(tc, cr0_rules);
    tcase_add_test(tc, pat_and_canonical_addresses);
    tcase_add_test(tc, segments);
    tcase_add_test(tc, not_settable_names);
    tcase_add_test(tc, control_state_combinations);
    tcase_add_test(tc, pending_interruptions);
    tcase_add_test(tc, children_denied_every_root_call);
    suite_add_tcase(s, tc);
    return s;
}
