// sources: hv/hypercall_abi.c
/*
 * libFuzzer target for the hypercall boundary: what a guest controls at a hypercall is RCX
 * (control word), RDX and R8 (input/output GPAs, or fast input), and the bytes of its input
 * page. Input layout: control (8 bytes), input GPA (8), output GPA (8), a flags byte
 * (bit 0: caller is the root; bit 1: take the descriptor from the next 10 bytes instead of
 * the table, so the size arithmetic sees values no table entry has), then the input page.
 * Whatever the bytes: no crash (ASan/UBSan watch), and every accepted call satisfies the
 * TLFS rules it was checked against; a violation aborts with the reason.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hv/hypercall_abi.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REQUIRE(cond)                                                                      \
    do {                                                                                   \
        if (!(cond)) {                                                                     \
            fprintf(stderr, "fuzz_hypercall_abi: invariant failed: %s (line %d)\n", #cond, \
                    __LINE__);                                                             \
            abort();                                                                       \
        }                                                                                  \
    } while (0)

static uint64_t take_u64(const uint8_t **data, size_t *size)
{
    uint64_t v = 0;
    size_t n = *size < 8 ? *size : 8;
    memcpy(&v, *data, n);
    *data += n;
    *size -= n;
    return v;
}

static bool status_is_listed(enum hv_status s)
{
    return strcmp(hv_status_name(s), "HV_STATUS_<unknown>") != 0;
}

static void check_control_round_trip(uint64_t rcx, const struct hypercall_control *c,
                                     enum hv_status decoded)
{
    uint64_t again;
    REQUIRE(hypercall_encode_control(c, &again));
    REQUIRE(again == (rcx & ~HYPERCALL_CONTROL_RESERVED_MASK));
    REQUIRE((decoded == HV_STATUS_SUCCESS) == ((rcx & HYPERCALL_CONTROL_RESERVED_MASK) == 0));
}

static void check_list_in_page(uint64_t gpa, uint32_t list_size)
{
    if (list_size == 0)
        return;
    REQUIRE((gpa & 7) == 0);
    REQUIRE(gpa < HYPERCALL_GPA_LIMIT);
    REQUIRE((gpa & (HYPERCALL_PAGE_SIZE - 1)) + list_size <= HYPERCALL_PAGE_SIZE);
}

static void check_layout(const struct hypercall_control *c, const struct hypercall_descriptor *d,
                         bool root, const struct hypercall_layout *l)
{
    REQUIRE(d->code == c->code);
    REQUIRE(!d->root_only || root);
    REQUIRE(!c->nested);
    if (d->kind == HYPERCALL_SIMPLE)
        REQUIRE(c->rep_count == 0 && c->rep_start == 0);
    else
        REQUIRE(c->rep_count >= 1 && c->rep_start < c->rep_count);
    REQUIRE(c->variable_header_qwords == 0 || d->variable_header_allowed);
    REQUIRE(l->fast == c->fast);
    REQUIRE(l->rep_count == c->rep_count && l->rep_start == c->rep_start);
    REQUIRE(l->variable_header_size == (uint32_t)c->variable_header_qwords * 8);
    REQUIRE(l->elements_offset == d->input_header_size + l->variable_header_size);
    REQUIRE(l->elements_offset + (uint64_t)c->rep_count * d->input_element_size <=
            l->input_size);
    REQUIRE(l->output_size == d->output_size + (uint64_t)c->rep_count * d->output_element_size);
    REQUIRE(l->output_start <= l->output_size);
    if (c->fast) {
        REQUIRE(d->fast_allowed);
        REQUIRE(l->input_size <= HYPERCALL_FAST_INPUT_MAX);
        REQUIRE(l->output_size == 0);
        return;
    }
    REQUIRE(l->input_size % 8 == 0);
    check_list_in_page(l->input_gpa, l->input_size);
    check_list_in_page(l->output_gpa, l->output_size);
    if (l->input_size && l->output_size)
        REQUIRE(l->input_gpa + l->input_size <= l->output_gpa ||
                l->output_gpa + l->output_size <= l->input_gpa);
}

/* The per-call checks on the copy: they must only ever return a listed status. */
static void check_call_input(uint16_t code, const uint8_t *copy, const struct hypercall_layout *l)
{
    enum hv_status s = HV_STATUS_SUCCESS;
    switch (code) {
    case HVCALL_CREATE_PARTITION: {
        struct hv_input_create_partition in;
        memcpy(&in, copy, sizeof(in));
        s = hv_input_create_partition_validate(&in);
        break;
    }
    case HVCALL_INITIALIZE_PARTITION:
    case HVCALL_FINALIZE_PARTITION:
    case HVCALL_DELETE_PARTITION: {
        struct hv_input_partition_id in;
        memcpy(&in, copy, sizeof(in));
        s = hv_input_partition_id_validate(&in);
        REQUIRE(s != HV_STATUS_SUCCESS ||
                (in.partition_id != HV_PARTITION_ID_INVALID &&
                 in.partition_id != HV_PARTITION_ID_SELF));
        break;
    }
    case HVCALL_GET_PARTITION_PROPERTY: {
        struct hv_input_get_partition_property in;
        memcpy(&in, copy, sizeof(in));
        s = hv_input_get_partition_property_validate(&in);
        break;
    }
    case HVCALL_SET_PARTITION_PROPERTY: {
        struct hv_input_set_partition_property in;
        memcpy(&in, copy, sizeof(in));
        s = hv_input_set_partition_property_validate(&in);
        break;
    }
    case HVCALL_MAP_GPA_PAGES: {
        struct hv_input_map_gpa_pages in;
        memcpy(&in, copy, sizeof(in));
        s = hv_input_map_gpa_pages_validate(&in, l->rep_count);
        if (s == HV_STATUS_SUCCESS)
            REQUIRE(in.target_gpa_base + l->rep_count <= HV_GPA_PAGE_NUMBER_LIMIT);
        for (uint32_t i = l->rep_start; i < l->rep_count; i++) {
            uint64_t page;
            memcpy(&page, copy + l->elements_offset + (size_t)i * 8, sizeof(page));
            REQUIRE(hv_gpa_page_number_valid(page) == (page < HV_GPA_PAGE_NUMBER_LIMIT));
        }
        break;
    }
    case HVCALL_UNMAP_GPA_PAGES: {
        struct hv_input_unmap_gpa_pages in;
        memcpy(&in, copy, sizeof(in));
        s = hv_input_unmap_gpa_pages_validate(&in, l->rep_count);
        break;
    }
    case HVCALL_INSTALL_INTERCEPT: {
        struct hv_input_install_intercept in;
        memcpy(&in, copy, sizeof(in));
        s = hv_input_install_intercept_validate(&in);
        break;
    }
    case HVCALL_CREATE_VP: {
        struct hv_input_create_vp in;
        memcpy(&in, copy, sizeof(in));
        s = hv_input_create_vp_validate(&in);
        break;
    }
    case HVCALL_DELETE_VP: {
        struct hv_input_delete_vp in;
        memcpy(&in, copy, sizeof(in));
        s = hv_input_delete_vp_validate(&in);
        break;
    }
    case HVCALL_GET_VP_REGISTERS:
    case HVCALL_SET_VP_REGISTERS: {
        struct hv_input_vp_registers in;
        memcpy(&in, copy, sizeof(in));
        s = hv_input_vp_registers_validate(&in);
        for (uint32_t i = l->rep_start; i < l->rep_count; i++) {
            if (code == HVCALL_GET_VP_REGISTERS) {
                uint32_t name;
                memcpy(&name, copy + l->elements_offset + (size_t)i * 4, sizeof(name));
                (void)hv_register_name_known(name);
            } else {
                struct hv_register_assoc assoc;
                memcpy(&assoc, copy + l->elements_offset + (size_t)i * sizeof(assoc),
                       sizeof(assoc));
                enum hv_status a = hv_register_assoc_validate(&assoc);
                REQUIRE((a == HV_STATUS_SUCCESS) == hv_register_name_known(assoc.name));
            }
        }
        break;
    }
    case HVCALL_POST_MESSAGE: {
        struct hv_input_post_message in;
        memcpy(&in, copy, sizeof(in));
        s = hv_input_post_message_validate(&in);
        REQUIRE(s != HV_STATUS_SUCCESS || in.payload_size <= HV_MESSAGE_PAYLOAD_SIZE);
        break;
    }
    case HVCALL_SIGNAL_EVENT: {
        struct hv_input_signal_event in;
        memcpy(&in, copy, sizeof(in));
        s = hv_input_signal_event_validate(&in);
        break;
    }
    default:
        break;
    }
    REQUIRE(status_is_listed(s));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint64_t rcx = take_u64(&data, &size);
    uint64_t input_gpa = take_u64(&data, &size);
    uint64_t output_gpa = take_u64(&data, &size);
    uint8_t flags = 0;
    if (size) {
        flags = data[0];
        data++;
        size--;
    }
    bool root = flags & 1;

    struct hypercall_control c;
    enum hv_status decoded = hypercall_decode_control(rcx, &c);
    check_control_round_trip(rcx, &c, decoded);

    const struct hypercall_descriptor *d = hypercall_descriptor_find(c.code);
    struct hypercall_descriptor synthetic;
    if ((flags & 2) && size >= 10) {
        memset(&synthetic, 0, sizeof(synthetic));
        synthetic.code = c.code;
        synthetic.name = "fuzz";
        synthetic.kind = (data[0] & 1) ? HYPERCALL_REP : HYPERCALL_SIMPLE;
        synthetic.fast_allowed = data[0] & 2;
        synthetic.variable_header_allowed = data[0] & 4;
        synthetic.root_only = data[0] & 8;
        memcpy(&synthetic.input_header_size, data + 2, 2);
        memcpy(&synthetic.input_element_size, data + 4, 2);
        memcpy(&synthetic.output_size, data + 6, 2);
        memcpy(&synthetic.output_element_size, data + 8, 2);
        d = &synthetic;
        data += 10;
        size -= 10;
    }

    struct hypercall_layout layout;
    enum hv_status s = hypercall_validate(&c, d, input_gpa, output_gpa, root, &layout);
    REQUIRE(status_is_listed(s));
    if (d == NULL)
        REQUIRE(s == HV_STATUS_INVALID_HYPERCALL_CODE);
    if (d != NULL && d->root_only && !root)
        REQUIRE(s == HV_STATUS_ACCESS_DENIED);

    uint64_t result = hypercall_encode_result(s, layout.rep_count);
    REQUIRE(hypercall_result_status(result) == s);
    REQUIRE(hypercall_result_reps(result) == layout.rep_count);
    REQUIRE((result & ~(HYPERCALL_RESULT_STATUS_MASK | HYPERCALL_RESULT_REPS_MASK)) == 0);

    if (s != HV_STATUS_SUCCESS) {
        static const struct hypercall_layout zero;
        REQUIRE(memcmp(&layout, &zero, sizeof(zero)) == 0);
        return 0;
    }
    check_layout(&c, d, root, &layout);

    /* The hypervisor copies exactly input_size bytes into a page-sized buffer; what the
     * guest did not provide reads as zero here; a fast call's input is RDX:R8. Only table
     * calls have typed inputs. */
    if (d != &synthetic) {
        static uint8_t copy[HYPERCALL_PAGE_SIZE];
        REQUIRE(layout.input_size <= sizeof(copy));
        memset(copy, 0, sizeof(copy));
        if (layout.fast) { /* RDX, then R8 */
            memcpy(copy, &input_gpa, sizeof(input_gpa));
            memcpy(copy + 8, &output_gpa, sizeof(output_gpa));
        } else {
            memcpy(copy, data, size < layout.input_size ? size : layout.input_size);
        }
        check_call_input(c.code, copy, &layout);
    }
    return 0;
}
