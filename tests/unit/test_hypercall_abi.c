// sources: hv/hypercall_abi.c
#include <check.h>
#include <stdint.h>
#include <string.h>

#include "hv/hypercall_abi.h"

/* A valid page-aligned GPA pair, far apart, used wherever the lists are not under test. */
#define IN_GPA 0x10000ull
#define OUT_GPA 0x20000ull

static struct hypercall_control control_for(uint16_t code, uint16_t rep_count)
{
    struct hypercall_control c = { .code = code, .rep_count = rep_count };
    return c;
}

static enum hv_status validate(const struct hypercall_control *c, uint64_t in, uint64_t out,
                               bool root, struct hypercall_layout *layout)
{
    return hypercall_validate(c, hypercall_descriptor_find(c->code), in, out, root, layout);
}

START_TEST(control_fields_decode)
{
    /* code 0x4B, fast, var header 3, nested, rep count 0x123, rep start 0x045 */
    uint64_t rcx = 0x4Bull | (1ull << 16) | (3ull << 17) | (1ull << 31) | (0x123ull << 32) |
                   (0x045ull << 48);
    struct hypercall_control c;
    ck_assert_int_eq(hypercall_decode_control(rcx, &c), HV_STATUS_SUCCESS);
    ck_assert_uint_eq(c.code, 0x4B);
    ck_assert(c.fast);
    ck_assert_uint_eq(c.variable_header_qwords, 3);
    ck_assert(c.nested);
    ck_assert_uint_eq(c.rep_count, 0x123);
    ck_assert_uint_eq(c.rep_start, 0x045);
}
END_TEST

START_TEST(control_round_trip)
{
    /* Every field at its extremes and some middles survives encode -> decode -> encode. */
    static const uint16_t codes[] = { 0x0000, 0x0002, 0x4B, 0x7F00, 0xFFFF };
    static const uint16_t vars[] = { 0, 1, 0x200, HYPERCALL_VARIABLE_HEADER_MAX };
    static const uint16_t reps[] = { 0, 1, 0x800, HYPERCALL_REP_MAX };
    for (size_t a = 0; a < sizeof(codes) / sizeof(codes[0]); a++)
        for (size_t b = 0; b < sizeof(vars) / sizeof(vars[0]); b++)
            for (size_t r = 0; r < sizeof(reps) / sizeof(reps[0]); r++)
                for (int flags = 0; flags < 4; flags++) {
                    struct hypercall_control in = {
                        .code = codes[a], .fast = flags & 1, .variable_header_qwords = vars[b],
                        .nested = flags & 2, .rep_count = reps[r],
                        .rep_start = reps[(r + 1) % 4],
                    };
                    uint64_t rcx, again;
                    struct hypercall_control out;
                    ck_assert(hypercall_encode_control(&in, &rcx));
                    ck_assert_uint_eq(rcx & HYPERCALL_CONTROL_RESERVED_MASK, 0);
                    ck_assert_int_eq(hypercall_decode_control(rcx, &out), HV_STATUS_SUCCESS);
                    ck_assert(hypercall_encode_control(&out, &again));
                    ck_assert_uint_eq(rcx, again);
                    ck_assert_uint_eq(out.code, in.code);
                    ck_assert_uint_eq(out.fast, in.fast);
                    ck_assert_uint_eq(out.nested, in.nested);
                    ck_assert_uint_eq(out.variable_header_qwords, in.variable_header_qwords);
                    ck_assert_uint_eq(out.rep_count, in.rep_count);
                    ck_assert_uint_eq(out.rep_start, in.rep_start);
                }
}
END_TEST

START_TEST(control_encode_refuses_wide_fields)
{
    uint64_t rcx = 0x1234;
    struct hypercall_control c = { .code = 0x4B, .rep_count = HYPERCALL_REP_MAX + 1 };
    ck_assert(!hypercall_encode_control(&c, &rcx));
    c.rep_count = 1;
    c.variable_header_qwords = HYPERCALL_VARIABLE_HEADER_MAX + 1;
    ck_assert(!hypercall_encode_control(&c, &rcx));
    c.variable_header_qwords = 0;
    c.rep_start = HYPERCALL_REP_MAX + 1;
    ck_assert(!hypercall_encode_control(&c, &rcx));
    ck_assert_uint_eq(rcx, 0x1234); /* untouched on failure */
}
END_TEST

START_TEST(control_reserved_bits_rejected)
{
    /* Each reserved bit alone (30:27, 47:44, 63:60) makes an otherwise valid word invalid. */
    struct hypercall_control c;
    int checked = 0;
    for (int bit = 0; bit < 64; bit++) {
        uint64_t mask = 1ull << bit;
        enum hv_status s = hypercall_decode_control(HVCALL_GET_PARTITION_ID | mask, &c);
        bool reserved = (bit >= 27 && bit <= 30) || (bit >= 44 && bit <= 47) || bit >= 60;
        ck_assert_int_eq(s, reserved ? HV_STATUS_INVALID_HYPERCALL_INPUT : HV_STATUS_SUCCESS);
        checked += reserved;
    }
    ck_assert_int_eq(checked, 12);
    ck_assert_uint_eq(HYPERCALL_CONTROL_RESERVED_MASK & (HYPERCALL_CONTROL_CODE_MASK |
        HYPERCALL_CONTROL_FAST | HYPERCALL_CONTROL_VARIABLE_HEADER_MASK |
        HYPERCALL_CONTROL_NESTED | HYPERCALL_CONTROL_REP_COUNT_MASK |
        HYPERCALL_CONTROL_REP_START_MASK), 0);
}
END_TEST

START_TEST(result_encoding)
{
    uint64_t r = hypercall_encode_result(HV_STATUS_INVALID_ALIGNMENT, 0x5A5);
    ck_assert_uint_eq(r, 0x000005A500000004ull);
    ck_assert_int_eq(hypercall_result_status(r), HV_STATUS_INVALID_ALIGNMENT);
    ck_assert_uint_eq(hypercall_result_reps(r), 0x5A5);
    ck_assert_uint_eq(hypercall_encode_result(HV_STATUS_SUCCESS, 0), 0);
    ck_assert_uint_eq(hypercall_encode_result(HV_STATUS_SUCCESS, HYPERCALL_REP_MAX),
                      0x00000FFF00000000ull);
    /* An out-of-range count never reaches the reserved bits 63:44. */
    ck_assert_uint_eq(hypercall_encode_result(HV_STATUS_SUCCESS, 0xFFFFFFFFu) >> 44, 0);
}
END_TEST

START_TEST(status_names)
{
    ck_assert_str_eq(hv_status_name(HV_STATUS_SUCCESS), "HV_STATUS_SUCCESS");
    ck_assert_str_eq(hv_status_name(HV_STATUS_ACCESS_DENIED), "HV_STATUS_ACCESS_DENIED");
    ck_assert_str_eq(hv_status_name(HV_STATUS_FEATURE_UNAVAILABLE),
                     "HV_STATUS_FEATURE_UNAVAILABLE");
    ck_assert_str_eq(hv_status_name((enum hv_status)0x0001), "HV_STATUS_<unknown>");
    /* Every code 0x00..0x1E the TLFS defines has its own name (0x01 and 0x0F are unused). */
    for (int s = 0; s <= 0x1E; s++) {
        const char *name = hv_status_name((enum hv_status)s);
        bool unused = s == 0x01 || s == 0x0F;
        ck_assert_int_eq(strcmp(name, "HV_STATUS_<unknown>") == 0, unused);
    }
}
END_TEST

START_TEST(call_codes_match_references)
{
    /* Numbers cross-checked against Linux hvgdk_mini.h, OpenVMM hvdef and KVM. */
    ck_assert_int_eq(HVCALL_FLUSH_VIRTUAL_ADDRESS_SPACE, 0x02);
    ck_assert_int_eq(HVCALL_SEND_SYNTHETIC_CLUSTER_IPI, 0x0B);
    ck_assert_int_eq(HVCALL_SEND_SYNTHETIC_CLUSTER_IPI_EX, 0x15);
    ck_assert_int_eq(HVCALL_CREATE_PARTITION, 0x40);
    ck_assert_int_eq(HVCALL_GET_PARTITION_ID, 0x46);
    ck_assert_int_eq(HVCALL_MAP_GPA_PAGES, 0x4B);
    ck_assert_int_eq(HVCALL_CREATE_VP, 0x4E);
    ck_assert_int_eq(HVCALL_SET_VP_REGISTERS, 0x51);
    ck_assert_int_eq(HVCALL_POST_MESSAGE, 0x5C);
    ck_assert_int_eq(HVCALL_SIGNAL_EVENT, 0x5D);
    ck_assert_int_eq(HVCALL_ASSERT_VIRTUAL_INTERRUPT, 0x94);
    /* Descriptors: unique, named, consistent with their kind; those in our private range are
     * root-only (hv/root_abi.h). */
    size_t count;
    const struct hypercall_descriptor *all = hypercall_descriptors(&count);
    ck_assert_uint_ge(count, 23);
    for (size_t i = 0; i < count; i++) {
        ck_assert_ptr_eq(hypercall_descriptor_find(all[i].code), &all[i]);
        ck_assert_ptr_nonnull(all[i].name);
        if (hypercall_code_is_hvfw(all[i].code))
            ck_assert(all[i].root_only);
        if (all[i].kind == HYPERCALL_SIMPLE)
            ck_assert(all[i].input_element_size == 0 && all[i].output_element_size == 0);
        else
            ck_assert_uint_eq(all[i].output_size, 0);
    }
    ck_assert(hypercall_code_is_hvfw(HVCALL_HVFW_FIRST));
    ck_assert(hypercall_code_is_hvfw(HVCALL_HVFW_LAST));
    ck_assert(!hypercall_code_is_hvfw(0x8001)); /* HvExtCallQueryCapabilities */
}
END_TEST

START_TEST(unknown_code_rejected)
{
    struct hypercall_layout layout;
    struct hypercall_control c = control_for(0x0001, 0); /* HvCallSwitchVirtualAddressSpace */
    ck_assert_ptr_null(hypercall_descriptor_find(0x0001));
    ck_assert_int_eq(validate(&c, IN_GPA, OUT_GPA, true, &layout),
                     HV_STATUS_INVALID_HYPERCALL_CODE);
    c.code = HVCALL_HVFW_LAST; /* in our range, but not a call we define */
    ck_assert_ptr_null(hypercall_descriptor_find(HVCALL_HVFW_LAST));
    ck_assert_int_eq(validate(&c, IN_GPA, OUT_GPA, true, &layout),
                     HV_STATUS_INVALID_HYPERCALL_CODE);
    /* A descriptor for a different code than the control word's is refused too. */
    c.code = HVCALL_CREATE_VP;
    ck_assert_int_eq(hypercall_validate(&c, hypercall_descriptor_find(HVCALL_DELETE_VP),
                                        IN_GPA, OUT_GPA, true, &layout),
                     HV_STATUS_INVALID_HYPERCALL_CODE);
}
END_TEST

START_TEST(root_only_denied_to_child)
{
    struct hypercall_layout layout;
    static const uint16_t root_only[] = {
        HVCALL_CREATE_PARTITION, HVCALL_INITIALIZE_PARTITION, HVCALL_FINALIZE_PARTITION,
        HVCALL_DELETE_PARTITION, HVCALL_INSTALL_INTERCEPT, HVCALL_CREATE_VP, HVCALL_DELETE_VP,
    };
    for (size_t i = 0; i < sizeof(root_only) / sizeof(root_only[0]); i++) {
        struct hypercall_control c = control_for(root_only[i], 0);
        ck_assert_int_eq(validate(&c, IN_GPA, OUT_GPA, false, &layout),
                         HV_STATUS_ACCESS_DENIED);
        ck_assert_int_eq(validate(&c, IN_GPA, OUT_GPA, true, &layout), HV_STATUS_SUCCESS);
    }
    /* Rep root calls too, even when their rep fields are also wrong: denial comes first. */
    struct hypercall_control map = control_for(HVCALL_MAP_GPA_PAGES, 0);
    ck_assert_int_eq(validate(&map, IN_GPA, OUT_GPA, false, &layout), HV_STATUS_ACCESS_DENIED);
    /* What a child may call. */
    struct hypercall_control post = control_for(HVCALL_POST_MESSAGE, 0);
    ck_assert_int_eq(validate(&post, IN_GPA, OUT_GPA, false, &layout), HV_STATUS_SUCCESS);
    struct hypercall_control id = control_for(HVCALL_GET_PARTITION_ID, 0);
    ck_assert_int_eq(validate(&id, IN_GPA, OUT_GPA, false, &layout), HV_STATUS_SUCCESS);
}
END_TEST

START_TEST(rep_rules)
{
    struct hypercall_layout layout;
    /* Rep call: count 0 -> invalid; start == count -> invalid; start < count -> fine. */
    struct hypercall_control c = control_for(HVCALL_MAP_GPA_PAGES, 0);
    ck_assert_int_eq(validate(&c, IN_GPA, OUT_GPA, true, &layout),
                     HV_STATUS_INVALID_HYPERCALL_INPUT);
    c.rep_count = 4;
    c.rep_start = 4;
    ck_assert_int_eq(validate(&c, IN_GPA, OUT_GPA, true, &layout),
                     HV_STATUS_INVALID_HYPERCALL_INPUT);
    c.rep_start = 3;
    ck_assert_int_eq(validate(&c, IN_GPA, OUT_GPA, true, &layout), HV_STATUS_SUCCESS);
    ck_assert_uint_eq(layout.rep_count, 4);
    ck_assert_uint_eq(layout.rep_start, 3);
    ck_assert_uint_eq(layout.input_size, 24 + 4 * 8);
    ck_assert_uint_eq(layout.elements_offset, 24);

    /* Simple call: any rep count or start is invalid. */
    struct hypercall_control s = control_for(HVCALL_CREATE_VP, 1);
    ck_assert_int_eq(validate(&s, IN_GPA, OUT_GPA, true, &layout),
                     HV_STATUS_INVALID_HYPERCALL_INPUT);
    s.rep_count = 0;
    s.rep_start = 1;
    ck_assert_int_eq(validate(&s, IN_GPA, OUT_GPA, true, &layout),
                     HV_STATUS_INVALID_HYPERCALL_INPUT);
}
END_TEST

START_TEST(variable_header_rules)
{
    struct hypercall_layout layout;
    /* Not allowed on a call without one. */
    struct hypercall_control c = control_for(HVCALL_SEND_SYNTHETIC_CLUSTER_IPI, 0);
    c.variable_header_qwords = 1;
    ck_assert_int_eq(validate(&c, IN_GPA, OUT_GPA, false, &layout),
                     HV_STATUS_INVALID_HYPERCALL_INPUT);
    /* Allowed on _EX: the banks follow the fixed header, as Linux sends them. */
    struct hypercall_control ex = control_for(HVCALL_FLUSH_VIRTUAL_ADDRESS_LIST_EX, 5);
    ex.variable_header_qwords = 2;
    ck_assert_int_eq(validate(&ex, IN_GPA, OUT_GPA, false, &layout), HV_STATUS_SUCCESS);
    ck_assert_uint_eq(layout.variable_header_size, 16);
    ck_assert_uint_eq(layout.elements_offset, 32 + 16);
    ck_assert_uint_eq(layout.input_size, 32 + 16 + 5 * 8);
    ck_assert_uint_eq(layout.output_size, 0);
}
END_TEST

START_TEST(alignment_rules)
{
    struct hypercall_layout layout;
    struct hypercall_control c = control_for(HVCALL_CREATE_PARTITION, 0);
    for (uint64_t misalign = 1; misalign < 8; misalign++) {
        ck_assert_int_eq(validate(&c, IN_GPA + misalign, OUT_GPA, true, &layout),
                         HV_STATUS_INVALID_ALIGNMENT);
        ck_assert_int_eq(validate(&c, IN_GPA, OUT_GPA + misalign, true, &layout),
                         HV_STATUS_INVALID_ALIGNMENT);
    }
    ck_assert_int_eq(validate(&c, IN_GPA + 8, OUT_GPA + 8, true, &layout), HV_STATUS_SUCCESS);
    ck_assert_uint_eq(layout.input_gpa, IN_GPA + 8);
    ck_assert_uint_eq(layout.output_gpa, OUT_GPA + 8);
    /* A call without output ignores the output pointer, however odd (TLFS). */
    struct hypercall_control d = control_for(HVCALL_DELETE_PARTITION, 0);
    ck_assert_int_eq(validate(&d, IN_GPA, 0x3, true, &layout), HV_STATUS_SUCCESS);
    ck_assert_uint_eq(layout.output_gpa, 0);
    /* Beyond the GPA space. */
    ck_assert_int_eq(validate(&d, HYPERCALL_GPA_LIMIT, 0, true, &layout),
                     HV_STATUS_INVALID_ALIGNMENT);
    ck_assert_int_eq(validate(&d, 0xFFFFFFFFFFFFFFF8ull, 0, true, &layout),
                     HV_STATUS_INVALID_ALIGNMENT);
}
END_TEST

START_TEST(page_crossing_rules)
{
    struct hypercall_layout layout;
    /* PostMessage: 256 bytes. Ending exactly at the page end is fine; 8 bytes later is not. */
    struct hypercall_control c = control_for(HVCALL_POST_MESSAGE, 0);
    ck_assert_int_eq(validate(&c, IN_GPA + 4096 - 256, OUT_GPA, false, &layout),
                     HV_STATUS_SUCCESS);
    ck_assert_int_eq(validate(&c, IN_GPA + 4096 - 248, OUT_GPA, false, &layout),
                     HV_STATUS_INVALID_ALIGNMENT);
    /* A rep list: 24-byte header + 509 * 8 = 4096 fits from the page start; 510 does not. */
    struct hypercall_control map = control_for(HVCALL_MAP_GPA_PAGES, 509);
    ck_assert_int_eq(validate(&map, IN_GPA, OUT_GPA, true, &layout), HV_STATUS_SUCCESS);
    ck_assert_uint_eq(layout.input_size, 4096);
    map.rep_count = 510;
    ck_assert_int_eq(validate(&map, IN_GPA, OUT_GPA, true, &layout),
                     HV_STATUS_INVALID_ALIGNMENT);
    /* Output list: GetVpRegisters returns 16 bytes per name; 256 fill the output page. */
    struct hypercall_control get = control_for(HVCALL_GET_VP_REGISTERS, 256);
    ck_assert_int_eq(validate(&get, IN_GPA, OUT_GPA, true, &layout), HV_STATUS_SUCCESS);
    ck_assert_uint_eq(layout.output_size, 4096);
    ck_assert_int_eq(validate(&get, IN_GPA, OUT_GPA + 16, true, &layout),
                     HV_STATUS_INVALID_ALIGNMENT);
    /* 4-byte names pad the input to 8: 16 + 3 * 4 = 28 -> 32. */
    get.rep_count = 3;
    get.rep_start = 1;
    ck_assert_int_eq(validate(&get, IN_GPA, OUT_GPA, true, &layout), HV_STATUS_SUCCESS);
    ck_assert_uint_eq(layout.input_size, 32);
    ck_assert_uint_eq(layout.output_start, 16);
    ck_assert_uint_eq(layout.output_size, 48);
}
END_TEST

START_TEST(overlapping_lists_rejected)
{
    struct hypercall_layout layout;
    struct hypercall_control c = control_for(HVCALL_GET_PARTITION_PROPERTY, 0);
    /* input [IN, IN+16), output [IN+8, IN+16): overlap */
    ck_assert_int_eq(validate(&c, IN_GPA, IN_GPA + 8, true, &layout),
                     HV_STATUS_INVALID_ALIGNMENT);
    /* input [IN+8, IN+24), output [IN+16, IN+24) */
    ck_assert_int_eq(validate(&c, IN_GPA + 8, IN_GPA + 16, true, &layout),
                     HV_STATUS_INVALID_ALIGNMENT);
    /* output just before the input, touching it, is fine */
    ck_assert_int_eq(validate(&c, IN_GPA + 8, IN_GPA, true, &layout), HV_STATUS_SUCCESS);
    /* adjacent in the same page is fine */
    ck_assert_int_eq(validate(&c, IN_GPA, IN_GPA + 16, true, &layout), HV_STATUS_SUCCESS);
}
END_TEST

START_TEST(overflow_is_caught)
{
    struct hypercall_layout layout;
    /* Largest encodable rep count times the largest element: far beyond a page, no wrap. */
    struct hypercall_control c = control_for(HVCALL_SET_VP_REGISTERS, HYPERCALL_REP_MAX);
    ck_assert_int_eq(validate(&c, IN_GPA, OUT_GPA, true, &layout),
                     HV_STATUS_INVALID_ALIGNMENT);
    /* Huge variable header: 1023 qwords + header crosses the page. */
    struct hypercall_control ex = control_for(HVCALL_SEND_SYNTHETIC_CLUSTER_IPI_EX, 0);
    ex.variable_header_qwords = HYPERCALL_VARIABLE_HEADER_MAX;
    ck_assert_int_eq(validate(&ex, IN_GPA, OUT_GPA, false, &layout),
                     HV_STATUS_INVALID_ALIGNMENT);
    /* A hand-built control with fields wider than the wire allows is refused, not wrapped. */
    ex.variable_header_qwords = 0xFFFF;
    ck_assert_int_eq(validate(&ex, IN_GPA, OUT_GPA, false, &layout),
                     HV_STATUS_INVALID_HYPERCALL_INPUT);
    struct hypercall_control wide = control_for(HVCALL_MAP_GPA_PAGES, 0xFFFF);
    ck_assert_int_eq(validate(&wide, IN_GPA, OUT_GPA, true, &layout),
                     HV_STATUS_INVALID_HYPERCALL_INPUT);
    /* Sizes whose sum is exactly 2^16 (16 + 4095 * 16): arithmetic in a narrow type would
     * wrap to an empty list and pass; it must be seen as 64 KiB and refused. */
    struct hypercall_descriptor absurd = {
        .code = 0x7F00, .name = "test", .kind = HYPERCALL_REP, .input_header_size = 16,
        .input_element_size = 16,
    };
    struct hypercall_control a = control_for(0x7F00, HYPERCALL_REP_MAX);
    ck_assert_int_eq(hypercall_validate(&a, &absurd, IN_GPA, OUT_GPA, true, &layout),
                     HV_STATUS_INVALID_ALIGNMENT);
    ck_assert_uint_eq(layout.input_size, 0); /* zeroed on failure */
}
END_TEST

START_TEST(fast_rules)
{
    struct hypercall_layout layout;
    /* Linux: SignalEvent fast with 8 bytes in RDX; the GPAs are data, not checked. */
    struct hypercall_control c = control_for(HVCALL_SIGNAL_EVENT, 0);
    c.fast = true;
    ck_assert_int_eq(validate(&c, 0x1234567, 0x3, false, &layout), HV_STATUS_SUCCESS);
    ck_assert(layout.fast);
    ck_assert_uint_eq(layout.input_size, 8);
    /* IPI: 16 bytes in RDX:R8, the maximum without XMM. */
    struct hypercall_control ipi = control_for(HVCALL_SEND_SYNTHETIC_CLUSTER_IPI, 0);
    ipi.fast = true;
    ck_assert_int_eq(validate(&ipi, 0x31, 0xFF, false, &layout), HV_STATUS_SUCCESS);
    ck_assert_uint_eq(layout.input_size, 16);
    /* FlushVirtualAddressSpace has a fast form, but its 24 bytes need XMM input. */
    struct hypercall_control flush = control_for(HVCALL_FLUSH_VIRTUAL_ADDRESS_SPACE, 0);
    flush.fast = true;
    ck_assert_int_eq(validate(&flush, 0, 0, false, &layout),
                     HV_STATUS_INVALID_HYPERCALL_INPUT);
    /* IPI_EX with one bank: 24 + 8 bytes, likewise. */
    struct hypercall_control ex = control_for(HVCALL_SEND_SYNTHETIC_CLUSTER_IPI_EX, 0);
    ex.fast = true;
    ex.variable_header_qwords = 1;
    ck_assert_int_eq(validate(&ex, 0, 0, false, &layout), HV_STATUS_INVALID_HYPERCALL_INPUT);
    /* No fast form at all. */
    struct hypercall_control post = control_for(HVCALL_POST_MESSAGE, 0);
    post.fast = true;
    ck_assert_int_eq(validate(&post, IN_GPA, 0, false, &layout),
                     HV_STATUS_INVALID_HYPERCALL_INPUT);
    struct hypercall_control del = control_for(HVCALL_DELETE_PARTITION, 0);
    del.fast = true;
    ck_assert_int_eq(validate(&del, 5, 0, true, &layout), HV_STATUS_INVALID_HYPERCALL_INPUT);
    /* A fast call cannot return output (no XMM output either). */
    struct hypercall_control id = control_for(HVCALL_GET_PARTITION_ID, 0);
    id.fast = true;
    ck_assert_int_eq(validate(&id, 0, 0, false, &layout), HV_STATUS_INVALID_HYPERCALL_INPUT);
    struct hypercall_descriptor fast_with_output = {
        .code = 0x7F01, .name = "test", .kind = HYPERCALL_SIMPLE, .fast_allowed = true,
        .input_header_size = 8, .output_size = 8,
    };
    struct hypercall_control t = control_for(0x7F01, 0);
    t.fast = true;
    ck_assert_int_eq(hypercall_validate(&t, &fast_with_output, 0, 0, false, &layout),
                     HV_STATUS_INVALID_HYPERCALL_INPUT);
    t.fast = false;
    ck_assert_int_eq(hypercall_validate(&t, &fast_with_output, IN_GPA, OUT_GPA, false, &layout),
                     HV_STATUS_SUCCESS);
}
END_TEST

START_TEST(nested_bit_rejected)
{
    struct hypercall_layout layout;
    struct hypercall_control c = control_for(HVCALL_POST_MESSAGE, 0);
    c.nested = true;
    ck_assert_int_eq(validate(&c, IN_GPA, 0, false, &layout),
                     HV_STATUS_INVALID_HYPERCALL_INPUT);
}
END_TEST

START_TEST(map_gpa_pages_input)
{
    struct hv_input_map_gpa_pages in = {
        .target_partition_id = 2, .target_gpa_base = 0x100,
        .map_flags = HV_MAP_GPA_READABLE | HV_MAP_GPA_WRITABLE | HV_MAP_GPA_EXECUTABLE,
        .padding = 0xDEADBEEF, /* padding is ignored (TLFS) */
    };
    ck_assert_int_eq(hv_input_map_gpa_pages_validate(&in, 16), HV_STATUS_SUCCESS);
    in.target_partition_id = HV_PARTITION_ID_SELF;
    ck_assert_int_eq(hv_input_map_gpa_pages_validate(&in, 16), HV_STATUS_INVALID_PARTITION_ID);
    in.target_partition_id = HV_PARTITION_ID_INVALID;
    ck_assert_int_eq(hv_input_map_gpa_pages_validate(&in, 16), HV_STATUS_INVALID_PARTITION_ID);
    in.target_partition_id = 2;
    in.map_flags = HV_MAP_GPA_READABLE | 0x100; /* unknown bit */
    ck_assert_int_eq(hv_input_map_gpa_pages_validate(&in, 16), HV_STATUS_INVALID_PARAMETER);
    in.map_flags = HV_MAP_GPA_READABLE | HV_MAP_GPA_LARGE_PAGE; /* known, not offered */
    ck_assert_int_eq(hv_input_map_gpa_pages_validate(&in, 16), HV_STATUS_INVALID_PARAMETER);
    in.map_flags = HV_MAP_GPA_NO_ACCESS | HV_MAP_GPA_WRITABLE;
    ck_assert_int_eq(hv_input_map_gpa_pages_validate(&in, 16), HV_STATUS_INVALID_PARAMETER);
    in.map_flags = HV_MAP_GPA_NO_ACCESS;
    ck_assert_int_eq(hv_input_map_gpa_pages_validate(&in, 16), HV_STATUS_SUCCESS);
    /* The target range must end inside GPA space, without wrapping. */
    in.target_gpa_base = HV_GPA_PAGE_NUMBER_LIMIT - 16;
    ck_assert_int_eq(hv_input_map_gpa_pages_validate(&in, 16), HV_STATUS_SUCCESS);
    ck_assert_int_eq(hv_input_map_gpa_pages_validate(&in, 17), HV_STATUS_INVALID_PARAMETER);
    in.target_gpa_base = UINT64_MAX;
    ck_assert_int_eq(hv_input_map_gpa_pages_validate(&in, 1), HV_STATUS_INVALID_PARAMETER);
    ck_assert(hv_gpa_page_number_valid(HV_GPA_PAGE_NUMBER_LIMIT - 1));
    ck_assert(!hv_gpa_page_number_valid(HV_GPA_PAGE_NUMBER_LIMIT));

    struct hv_input_unmap_gpa_pages un = { .target_partition_id = 3, .target_gpa_base = 0 };
    ck_assert_int_eq(hv_input_unmap_gpa_pages_validate(&un, 1), HV_STATUS_SUCCESS);
    un.unmap_flags = HV_UNMAP_GPA_LARGE_PAGE;
    ck_assert_int_eq(hv_input_unmap_gpa_pages_validate(&un, 1), HV_STATUS_INVALID_PARAMETER);
}
END_TEST

START_TEST(partition_and_vp_inputs)
{
    struct hv_input_create_partition cp = {
        .flags = HV_PARTITION_CREATION_FLAG_LAPIC_ENABLED,
        .proximity_domain_info = { .flags = HV_PROXIMITY_DOMAIN_INFO_VALID },
    };
    ck_assert_int_eq(hv_input_create_partition_validate(&cp), HV_STATUS_SUCCESS);
    cp.flags |= 1ull << 40;
    ck_assert_int_eq(hv_input_create_partition_validate(&cp), HV_STATUS_INVALID_PARAMETER);
    cp.flags = 0;
    cp.isolation_properties = 2; /* SNP */
    ck_assert_int_eq(hv_input_create_partition_validate(&cp), HV_STATUS_INVALID_PARAMETER);
    cp.isolation_properties = 0;
    cp.proximity_domain_info.flags = 1u << 5;
    ck_assert_int_eq(hv_input_create_partition_validate(&cp),
                     HV_STATUS_INVALID_PROXIMITY_DOMAIN_INFO);

    struct hv_input_partition_id id = { .partition_id = 7 };
    ck_assert_int_eq(hv_input_partition_id_validate(&id), HV_STATUS_SUCCESS);
    id.partition_id = HV_PARTITION_ID_SELF; /* the root cannot delete itself */
    ck_assert_int_eq(hv_input_partition_id_validate(&id), HV_STATUS_INVALID_PARTITION_ID);

    struct hv_input_get_partition_property gp = { .partition_id = HV_PARTITION_ID_SELF };
    ck_assert_int_eq(hv_input_get_partition_property_validate(&gp), HV_STATUS_SUCCESS);
    gp.partition_id = HV_PARTITION_ID_INVALID;
    ck_assert_int_eq(hv_input_get_partition_property_validate(&gp),
                     HV_STATUS_INVALID_PARTITION_ID);
    struct hv_input_set_partition_property sp = { .partition_id = 0 };
    ck_assert_int_eq(hv_input_set_partition_property_validate(&sp),
                     HV_STATUS_INVALID_PARTITION_ID);

    struct hv_input_create_vp vp = { .partition_id = 2, .vp_index = HV_VP_INDEX_COUNT - 1 };
    ck_assert_int_eq(hv_input_create_vp_validate(&vp), HV_STATUS_SUCCESS);
    vp.vp_index = HV_VP_INDEX_COUNT;
    ck_assert_int_eq(hv_input_create_vp_validate(&vp), HV_STATUS_INVALID_VP_INDEX);
    vp.vp_index = 0;
    vp.flags = 1;
    ck_assert_int_eq(hv_input_create_vp_validate(&vp), HV_STATUS_INVALID_PARAMETER);

    struct hv_input_delete_vp dv = { .partition_id = 2, .vp_index = HV_VP_INDEX_SELF };
    ck_assert_int_eq(hv_input_delete_vp_validate(&dv), HV_STATUS_INVALID_VP_INDEX);
    dv.vp_index = 1;
    ck_assert_int_eq(hv_input_delete_vp_validate(&dv), HV_STATUS_SUCCESS);
}
END_TEST

START_TEST(intercept_input)
{
    struct hv_input_install_intercept in = {
        .partition_id = 2, .access_type_mask = HV_INTERCEPT_ACCESS_READ |
        HV_INTERCEPT_ACCESS_WRITE, .intercept_type = HV_INTERCEPT_TYPE_X64_IO_PORT,
        .intercept_parameters = 0x3F8,
    };
    ck_assert_int_eq(hv_input_install_intercept_validate(&in), HV_STATUS_SUCCESS);
    in.intercept_parameters = 0x10000; /* not a port */
    ck_assert_int_eq(hv_input_install_intercept_validate(&in), HV_STATUS_INVALID_PARAMETER);
    in.intercept_parameters = 0x3F8;
    in.access_type_mask |= HV_INTERCEPT_ACCESS_EXECUTE; /* ports are not executed */
    ck_assert_int_eq(hv_input_install_intercept_validate(&in), HV_STATUS_INVALID_PARAMETER);
    in.access_type_mask = HV_INTERCEPT_ACCESS_WRITE;
    in.intercept_type = HV_INTERCEPT_TYPE_X64_IO_PORT_RANGE;
    in.intercept_parameters = 0x3F8 | (0x3FFull << 16);
    ck_assert_int_eq(hv_input_install_intercept_validate(&in), HV_STATUS_SUCCESS);
    in.intercept_parameters = 0x3FF | (0x3F8ull << 16); /* first > last */
    ck_assert_int_eq(hv_input_install_intercept_validate(&in), HV_STATUS_INVALID_PARAMETER);
    in.intercept_type = HV_INTERCEPT_TYPE_EXCEPTION;
    in.intercept_parameters = 32;
    ck_assert_int_eq(hv_input_install_intercept_validate(&in), HV_STATUS_INVALID_PARAMETER);
    in.intercept_parameters = 14; /* #PF */
    ck_assert_int_eq(hv_input_install_intercept_validate(&in), HV_STATUS_SUCCESS);
    in.intercept_type = 0x77; /* unknown type */
    ck_assert_int_eq(hv_input_install_intercept_validate(&in), HV_STATUS_INVALID_PARAMETER);
    in.intercept_type = HV_INTERCEPT_TYPE_X64_CPUID;
    in.access_type_mask = 0x8; /* unknown access bit */
    ck_assert_int_eq(hv_input_install_intercept_validate(&in), HV_STATUS_INVALID_PARAMETER);
}
END_TEST

START_TEST(vp_register_inputs)
{
    struct hv_input_vp_registers in = { .partition_id = 2, .vp_index = 0 };
    ck_assert_int_eq(hv_input_vp_registers_validate(&in), HV_STATUS_SUCCESS);
    in.vp_index = HV_VP_INDEX_SELF;
    ck_assert_int_eq(hv_input_vp_registers_validate(&in), HV_STATUS_SUCCESS);
    in.vp_index = HV_VP_INDEX_COUNT;
    ck_assert_int_eq(hv_input_vp_registers_validate(&in), HV_STATUS_INVALID_VP_INDEX);
    in.vp_index = 0;
    in.input_vtl = HV_INPUT_VTL_USE_TARGET | 1; /* VTL 1 does not exist here */
    ck_assert_int_eq(hv_input_vp_registers_validate(&in), HV_STATUS_INVALID_PARAMETER);
    in.input_vtl = HV_INPUT_VTL_USE_TARGET; /* VTL 0, explicitly */
    ck_assert_int_eq(hv_input_vp_registers_validate(&in), HV_STATUS_SUCCESS);
    in.input_vtl = 0x20; /* reserved bit */
    ck_assert_int_eq(hv_input_vp_registers_validate(&in), HV_STATUS_INVALID_PARAMETER);
    in.input_vtl = 0;
    in.reserved_z16 = 1;
    ck_assert_int_eq(hv_input_vp_registers_validate(&in), HV_STATUS_INVALID_PARAMETER);
    in.reserved_z16 = 0;
    in.partition_id = HV_PARTITION_ID_INVALID;
    ck_assert_int_eq(hv_input_vp_registers_validate(&in), HV_STATUS_INVALID_PARTITION_ID);

    ck_assert(hv_register_name_known(HV_X64_REGISTER_RAX));
    ck_assert(hv_register_name_known(HV_X64_REGISTER_RFLAGS));
    ck_assert(hv_register_name_known(HV_X64_REGISTER_TR));
    ck_assert(hv_register_name_known(HV_X64_REGISTER_EFER));
    ck_assert(hv_register_name_known(HV_REGISTER_SINT0 + 15));
    ck_assert(!hv_register_name_known(HV_X64_REGISTER_RFLAGS + 1));
    ck_assert(hv_register_name_known(HV_REGISTER_SINT0 + 16)); /* = SCONTROL */
    ck_assert(!hv_register_name_known(HV_REGISTER_EOM + 1)); /* SIRBP: not offered */
    ck_assert(!hv_register_name_known(0x00030000)); /* XMM0: not offered */
    struct hv_register_assoc assoc = { .name = HV_X64_REGISTER_RIP, .value.reg64 = 0x1000 };
    ck_assert_int_eq(hv_register_assoc_validate(&assoc), HV_STATUS_SUCCESS);
    assoc.name = 0xFFFFFFFF;
    ck_assert_int_eq(hv_register_assoc_validate(&assoc), HV_STATUS_INVALID_PARAMETER);
}
END_TEST

START_TEST(synic_inputs)
{
    struct hv_input_post_message pm = { .connection_id = 1, .message_type = 1,
                                        .payload_size = HV_MESSAGE_PAYLOAD_SIZE };
    ck_assert_int_eq(hv_input_post_message_validate(&pm), HV_STATUS_SUCCESS);
    pm.payload_size = HV_MESSAGE_PAYLOAD_SIZE + 1;
    ck_assert_int_eq(hv_input_post_message_validate(&pm), HV_STATUS_INVALID_PARAMETER);
    pm.payload_size = 8;
    pm.message_type = 0x80000000; /* HVMSG_UNMAPPED_GPA: the hypervisor's */
    ck_assert_int_eq(hv_input_post_message_validate(&pm), HV_STATUS_INVALID_PARAMETER);
    pm.message_type = 1;
    pm.connection_id = 0x01000001;
    ck_assert_int_eq(hv_input_post_message_validate(&pm), HV_STATUS_INVALID_CONNECTION_ID);

    struct hv_input_signal_event se = { .connection_id = 0x10, .flag_number = 0 };
    ck_assert_int_eq(hv_input_signal_event_validate(&se), HV_STATUS_SUCCESS);
    se.flag_number = HV_EVENT_FLAGS_COUNT;
    ck_assert_int_eq(hv_input_signal_event_validate(&se), HV_STATUS_INVALID_PARAMETER);
    se.flag_number = 0;
    se.connection_id = 0xFF000010;
    ck_assert_int_eq(hv_input_signal_event_validate(&se), HV_STATUS_INVALID_CONNECTION_ID);
    /* The fast form: RDX holds connection id 31:0 and flag number 47:32. */
    uint64_t rdx = 0x0000000700000010ull;
    memcpy(&se, &rdx, sizeof(se));
    ck_assert_uint_eq(se.connection_id, 0x10);
    ck_assert_uint_eq(se.flag_number, 7);
}
END_TEST

START_TEST(assert_virtual_interrupt_input)
{
    /* Root only, memory form only (32 bytes do not fit RDX and R8). */
    const struct hypercall_descriptor *d = hypercall_descriptor_find(HVCALL_ASSERT_VIRTUAL_INTERRUPT);
    ck_assert_ptr_nonnull(d);
    ck_assert(d->root_only && !d->fast_allowed && d->kind == HYPERCALL_SIMPLE);
    ck_assert_uint_eq(d->input_header_size, 32);
    struct hypercall_layout layout;
    struct hypercall_control c = control_for(HVCALL_ASSERT_VIRTUAL_INTERRUPT, 0);
    ck_assert_int_eq(validate(&c, 0x1000, 0, false, &layout), HV_STATUS_ACCESS_DENIED);
    ck_assert_int_eq(validate(&c, 0x1000, 0, true, &layout), HV_STATUS_SUCCESS);
    c.fast = true;
    ck_assert_int_eq(validate(&c, 0, 0, true, &layout), HV_STATUS_INVALID_HYPERCALL_INPUT);

    const struct hv_input_assert_virtual_interrupt good = {
        .partition_id = 4, .control = HV_INTERRUPT_TYPE_FIXED, .destination = 1, .vector = 0x24};
    ck_assert_int_eq(hv_input_assert_virtual_interrupt_validate(&good), HV_STATUS_SUCCESS);
    struct hv_input_assert_virtual_interrupt in = good;
    in.vector = 16;
    ck_assert_int_eq(hv_input_assert_virtual_interrupt_validate(&in), HV_STATUS_SUCCESS);
    in.vector = 255;
    ck_assert_int_eq(hv_input_assert_virtual_interrupt_validate(&in), HV_STATUS_SUCCESS);
    /* Each field wrong on its own. */
    static const struct {
        int field;
        uint64_t value;
        enum hv_status status;
    } bad[] = {
        {0, HV_PARTITION_ID_SELF, HV_STATUS_INVALID_PARTITION_ID},
        {0, HV_PARTITION_ID_INVALID, HV_STATUS_INVALID_PARTITION_ID},
        {1, 4, HV_STATUS_INVALID_PARAMETER},          /* NMI */
        {1, 1, HV_STATUS_INVALID_PARAMETER},          /* lowest priority */
        {1, HV_INTERRUPT_CONTROL_LEVEL_TRIGGERED, HV_STATUS_INVALID_PARAMETER},
        {1, HV_INTERRUPT_CONTROL_LOGICAL_DESTINATION, HV_STATUS_INVALID_PARAMETER},
        {1, 1ull << 63, HV_STATUS_INVALID_PARAMETER}, /* reserved */
        {2, 0x100000000ull, HV_STATUS_INVALID_PARAMETER},
        {3, 15, HV_STATUS_INVALID_PARAMETER},
        {3, 0, HV_STATUS_INVALID_PARAMETER},
        {3, 256, HV_STATUS_INVALID_PARAMETER},
        {3, 0xFFFFFFFFu, HV_STATUS_INVALID_PARAMETER},
        {4, 1, HV_STATUS_INVALID_PARAMETER},          /* VTL 1 */
        {5, 1, HV_STATUS_INVALID_PARAMETER},
        {6, 0x8000, HV_STATUS_INVALID_PARAMETER},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        in = good;
        switch (bad[i].field) {
        case 0: in.partition_id = bad[i].value; break;
        case 1: in.control = bad[i].value; break;
        case 2: in.destination = bad[i].value; break;
        case 3: in.vector = (uint32_t)bad[i].value; break;
        case 4: in.target_vtl = (uint8_t)bad[i].value; break;
        case 5: in.reserved1 = (uint8_t)bad[i].value; break;
        default: in.reserved2 = (uint16_t)bad[i].value; break;
        }
        ck_assert_int_eq(hv_input_assert_virtual_interrupt_validate(&in), bad[i].status);
    }
}
END_TEST

Suite *hypercall_abi_suite(void)
{
    Suite *s = suite_create("hypercall_abi");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, control_fields_decode);
    tcase_add_test(tc, control_round_trip);
    tcase_add_test(tc, control_encode_refuses_wide_fields);
    tcase_add_test(tc, control_reserved_bits_rejected);
    tcase_add_test(tc, result_encoding);
    tcase_add_test(tc, status_names);
    tcase_add_test(tc, call_codes_match_references);
    tcase_add_test(tc, unknown_code_rejected);
    tcase_add_test(tc, root_only_denied_to_child);
    tcase_add_test(tc, rep_rules);
    tcase_add_test(tc, variable_header_rules);
    tcase_add_test(tc, alignment_rules);
    tcase_add_test(tc, page_crossing_rules);
    tcase_add_test(tc, overlapping_lists_rejected);
    tcase_add_test(tc, overflow_is_caught);
    tcase_add_test(tc, fast_rules);
    tcase_add_test(tc, nested_bit_rejected);
    tcase_add_test(tc, map_gpa_pages_input);
    tcase_add_test(tc, partition_and_vp_inputs);
    tcase_add_test(tc, intercept_input);
    tcase_add_test(tc, vp_register_inputs);
    tcase_add_test(tc, synic_inputs);
    tcase_add_test(tc, assert_virtual_interrupt_input);
    suite_add_tcase(s, tc);
    return s;
}
