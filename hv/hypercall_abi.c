#include "hv/hypercall_abi.h"

#include "hv/root_abi.h"

#include <string.h>

const char *hv_status_name(enum hv_status status)
{
    switch (status) {
    case HV_STATUS_SUCCESS: return "HV_STATUS_SUCCESS";
    case HV_STATUS_INVALID_HYPERCALL_CODE: return "HV_STATUS_INVALID_HYPERCALL_CODE";
    case HV_STATUS_INVALID_HYPERCALL_INPUT: return "HV_STATUS_INVALID_HYPERCALL_INPUT";
    case HV_STATUS_INVALID_ALIGNMENT: return "HV_STATUS_INVALID_ALIGNMENT";
    case HV_STATUS_INVALID_PARAMETER: return "HV_STATUS_INVALID_PARAMETER";
    case HV_STATUS_ACCESS_DENIED: return "HV_STATUS_ACCESS_DENIED";
    case HV_STATUS_INVALID_PARTITION_STATE: return "HV_STATUS_INVALID_PARTITION_STATE";
    case HV_STATUS_OPERATION_DENIED: return "HV_STATUS_OPERATION_DENIED";
    case HV_STATUS_UNKNOWN_PROPERTY: return "HV_STATUS_UNKNOWN_PROPERTY";
    case HV_STATUS_PROPERTY_VALUE_OUT_OF_RANGE: return "HV_STATUS_PROPERTY_VALUE_OUT_OF_RANGE";
    case HV_STATUS_INSUFFICIENT_MEMORY: return "HV_STATUS_INSUFFICIENT_MEMORY";
    case HV_STATUS_PARTITION_TOO_DEEP: return "HV_STATUS_PARTITION_TOO_DEEP";
    case HV_STATUS_INVALID_PARTITION_ID: return "HV_STATUS_INVALID_PARTITION_ID";
    case HV_STATUS_INVALID_VP_INDEX: return "HV_STATUS_INVALID_VP_INDEX";
    case HV_STATUS_NOT_FOUND: return "HV_STATUS_NOT_FOUND";
    case HV_STATUS_INVALID_PORT_ID: return "HV_STATUS_INVALID_PORT_ID";
    case HV_STATUS_INVALID_CONNECTION_ID: return "HV_STATUS_INVALID_CONNECTION_ID";
    case HV_STATUS_INSUFFICIENT_BUFFERS: return "HV_STATUS_INSUFFICIENT_BUFFERS";
    case HV_STATUS_NOT_ACKNOWLEDGED: return "HV_STATUS_NOT_ACKNOWLEDGED";
    case HV_STATUS_INVALID_VP_STATE: return "HV_STATUS_INVALID_VP_STATE";
    case HV_STATUS_ACKNOWLEDGED: return "HV_STATUS_ACKNOWLEDGED";
    case HV_STATUS_INVALID_SAVE_RESTORE_STATE: return "HV_STATUS_INVALID_SAVE_RESTORE_STATE";
    case HV_STATUS_INVALID_SYNIC_STATE: return "HV_STATUS_INVALID_SYNIC_STATE";
    case HV_STATUS_OBJECT_IN_USE: return "HV_STATUS_OBJECT_IN_USE";
    case HV_STATUS_INVALID_PROXIMITY_DOMAIN_INFO:
        return "HV_STATUS_INVALID_PROXIMITY_DOMAIN_INFO";
    case HV_STATUS_NO_DATA: return "HV_STATUS_NO_DATA";
    case HV_STATUS_INACTIVE: return "HV_STATUS_INACTIVE";
    case HV_STATUS_NO_RESOURCES: return "HV_STATUS_NO_RESOURCES";
    case HV_STATUS_FEATURE_UNAVAILABLE: return "HV_STATUS_FEATURE_UNAVAILABLE";
    case HV_STATUS_PARTIAL_PACKET: return "HV_STATUS_PARTIAL_PACKET";
    case HV_STATUS_PROCESSOR_FEATURE_NOT_SUPPORTED:
        return "HV_STATUS_PROCESSOR_FEATURE_NOT_SUPPORTED";
    case HV_STATUS_INSUFFICIENT_BUFFER: return "HV_STATUS_INSUFFICIENT_BUFFER";
    case HV_STATUS_INVALID_LP_INDEX: return "HV_STATUS_INVALID_LP_INDEX";
    case HV_STATUS_INVALID_REGISTER_VALUE: return "HV_STATUS_INVALID_REGISTER_VALUE";
    case HV_STATUS_INVALID_VTL_STATE: return "HV_STATUS_INVALID_VTL_STATE";
    case HV_STATUS_OPERATION_FAILED: return "HV_STATUS_OPERATION_FAILED";
    case HV_STATUS_TIME_OUT: return "HV_STATUS_TIME_OUT";
    case HV_STATUS_CALL_PENDING: return "HV_STATUS_CALL_PENDING";
    case HV_STATUS_VTL_ALREADY_ENABLED: return "HV_STATUS_VTL_ALREADY_ENABLED";
    case HV_STATUS_UNKNOWN_REGISTER_NAME: return "HV_STATUS_UNKNOWN_REGISTER_NAME";
    }
    return "HV_STATUS_<unknown>";
}

bool hypercall_code_is_hvfw(uint16_t code)
{
    return code >= HVCALL_HVFW_FIRST && code <= HVCALL_HVFW_LAST;
}

/* ---- control word and result value ------------------------------------------------------ */

enum hv_status hypercall_decode_control(uint64_t control, struct hypercall_control *out)
{
    out->code = (uint16_t)(control & HYPERCALL_CONTROL_CODE_MASK);
    out->fast = (control & HYPERCALL_CONTROL_FAST) != 0;
    out->variable_header_qwords = (uint16_t)((control & HYPERCALL_CONTROL_VARIABLE_HEADER_MASK) >>
                                             HYPERCALL_CONTROL_VARIABLE_HEADER_SHIFT);
    out->nested = (control & HYPERCALL_CONTROL_NESTED) != 0;
    out->rep_count = (uint16_t)((control & HYPERCALL_CONTROL_REP_COUNT_MASK) >>
                                HYPERCALL_CONTROL_REP_COUNT_SHIFT);
    out->rep_start = (uint16_t)((control & HYPERCALL_CONTROL_REP_START_MASK) >>
                                HYPERCALL_CONTROL_REP_START_SHIFT);
    if (control & HYPERCALL_CONTROL_RESERVED_MASK)
        return HV_STATUS_INVALID_HYPERCALL_INPUT;
    return HV_STATUS_SUCCESS;
}

bool hypercall_encode_control(const struct hypercall_control *c, uint64_t *control)
{
    if (c->variable_header_qwords > HYPERCALL_VARIABLE_HEADER_MAX ||
        c->rep_count > HYPERCALL_REP_MAX || c->rep_start > HYPERCALL_REP_MAX)
        return false;
    uint64_t v = c->code;
    if (c->fast)
        v |= HYPERCALL_CONTROL_FAST;
    v |= (uint64_t)c->variable_header_qwords << HYPERCALL_CONTROL_VARIABLE_HEADER_SHIFT;
    if (c->nested)
        v |= HYPERCALL_CONTROL_NESTED;
    v |= (uint64_t)c->rep_count << HYPERCALL_CONTROL_REP_COUNT_SHIFT;
    v |= (uint64_t)c->rep_start << HYPERCALL_CONTROL_REP_START_SHIFT;
    *control = v;
    return true;
}

uint64_t hypercall_encode_result(enum hv_status status, uint32_t reps_completed)
{
    return ((uint64_t)status & HYPERCALL_RESULT_STATUS_MASK) |
           (((uint64_t)reps_completed << HYPERCALL_RESULT_REPS_SHIFT) &
            HYPERCALL_RESULT_REPS_MASK);
}

enum hv_status hypercall_result_status(uint64_t result)
{
    return (enum hv_status)(result & HYPERCALL_RESULT_STATUS_MASK);
}

uint32_t hypercall_result_reps(uint64_t result)
{
    return (uint32_t)((result & HYPERCALL_RESULT_REPS_MASK) >> HYPERCALL_RESULT_REPS_SHIFT);
}

/* ---- descriptors ----------------------------------------------------------------------- */

#define SIMPLE(code_, name_, fast_, var_, root_, in_, out_)                                   \
    {                                                                                         \
        .code = (code_), .name = (name_), .kind = HYPERCALL_SIMPLE, .fast_allowed = (fast_),  \
        .variable_header_allowed = (var_), .root_only = (root_), .input_header_size = (in_), \
        .output_size = (out_),                                                                \
    }
#define REP(code_, name_, fast_, var_, root_, in_, in_element_, out_element_)                 \
    {                                                                                         \
        .code = (code_), .name = (name_), .kind = HYPERCALL_REP, .fast_allowed = (fast_),     \
        .variable_header_allowed = (var_), .root_only = (root_), .input_header_size = (in_), \
        .input_element_size = (in_element_), .output_element_size = (out_element_),          \
    }

/*
 * Kind, fast form and variable header per the TLFS call reference and what the Linux guest
 * sends (flush/IPI _EX calls put their VP set's banks in the variable header; IPI, signal
 * event and long-spin-wait come fast; the flushes may come fast only with XMM input, which
 * we do not offer, so their 24-32 byte headers fail the 16-byte fast limit).
 * Root-only: partition and VP management, mapping, intercepts, registers. A child may ask
 * for its own partition id, post messages and signal events (VMBus needs both).
 */
static const struct hypercall_descriptor descriptors[] = {
    SIMPLE(HVCALL_FLUSH_VIRTUAL_ADDRESS_SPACE, "HvCallFlushVirtualAddressSpace", true, false,
           false, sizeof(struct hv_input_flush_virtual_address_space), 0),
    REP(HVCALL_FLUSH_VIRTUAL_ADDRESS_LIST, "HvCallFlushVirtualAddressList", true, false, false,
        sizeof(struct hv_input_flush_virtual_address_space), sizeof(uint64_t), 0),
    SIMPLE(HVCALL_NOTIFY_LONG_SPIN_WAIT, "HvCallNotifyLongSpinWait", true, false, false,
           sizeof(struct hv_input_notify_long_spin_wait), 0),
    SIMPLE(HVCALL_SEND_SYNTHETIC_CLUSTER_IPI, "HvCallSendSyntheticClusterIpi", true, false,
           false, sizeof(struct hv_input_send_synthetic_cluster_ipi), 0),
    SIMPLE(HVCALL_FLUSH_VIRTUAL_ADDRESS_SPACE_EX, "HvCallFlushVirtualAddressSpaceEx", true,
           true, false, sizeof(struct hv_input_flush_virtual_address_space_ex), 0),
    REP(HVCALL_FLUSH_VIRTUAL_ADDRESS_LIST_EX, "HvCallFlushVirtualAddressListEx", true, true,
        false, sizeof(struct hv_input_flush_virtual_address_space_ex), sizeof(uint64_t), 0),
    SIMPLE(HVCALL_SEND_SYNTHETIC_CLUSTER_IPI_EX, "HvCallSendSyntheticClusterIpiEx", true, true,
           false, sizeof(struct hv_input_send_synthetic_cluster_ipi_ex), 0),
    SIMPLE(HVCALL_CREATE_PARTITION, "HvCallCreatePartition", false, false, true,
           sizeof(struct hv_input_create_partition), sizeof(struct hv_output_create_partition)),
    SIMPLE(HVCALL_INITIALIZE_PARTITION, "HvCallInitializePartition", false, false, true,
           sizeof(struct hv_input_partition_id), 0),
    SIMPLE(HVCALL_FINALIZE_PARTITION, "HvCallFinalizePartition", false, false, true,
           sizeof(struct hv_input_partition_id), 0),
    SIMPLE(HVCALL_DELETE_PARTITION, "HvCallDeletePartition", false, false, true,
           sizeof(struct hv_input_partition_id), 0),
    SIMPLE(HVCALL_GET_PARTITION_PROPERTY, "HvCallGetPartitionProperty", false, false, true,
           sizeof(struct hv_input_get_partition_property),
           sizeof(struct hv_output_get_partition_property)),
    SIMPLE(HVCALL_SET_PARTITION_PROPERTY, "HvCallSetPartitionProperty", false, false, true,
           sizeof(struct hv_input_set_partition_property), 0),
    SIMPLE(HVCALL_GET_PARTITION_ID, "HvCallGetPartitionId", false, false, false, 0,
           sizeof(struct hv_output_get_partition_id)),
    REP(HVCALL_MAP_GPA_PAGES, "HvCallMapGpaPages", false, false, true,
        sizeof(struct hv_input_map_gpa_pages), sizeof(uint64_t), 0),
    REP(HVCALL_UNMAP_GPA_PAGES, "HvCallUnmapGpaPages", false, false, true,
        sizeof(struct hv_input_unmap_gpa_pages), 0, 0),
    SIMPLE(HVCALL_INSTALL_INTERCEPT, "HvCallInstallIntercept", false, false, true,
           sizeof(struct hv_input_install_intercept), 0),
    SIMPLE(HVCALL_CREATE_VP, "HvCallCreateVp", false, false, true,
           sizeof(struct hv_input_create_vp), 0),
    SIMPLE(HVCALL_DELETE_VP, "HvCallDeleteVp", false, false, true,
           sizeof(struct hv_input_delete_vp), 0),
    REP(HVCALL_GET_VP_REGISTERS, "HvCallGetVpRegisters", false, false, true,
        sizeof(struct hv_input_vp_registers), sizeof(uint32_t), sizeof(union hv_register_value)),
    REP(HVCALL_SET_VP_REGISTERS, "HvCallSetVpRegisters", false, false, true,
        sizeof(struct hv_input_vp_registers), sizeof(struct hv_register_assoc), 0),
    SIMPLE(HVCALL_POST_MESSAGE, "HvCallPostMessage", false, false, false,
           sizeof(struct hv_input_post_message), 0),
    SIMPLE(HVCALL_SIGNAL_EVENT, "HvCallSignalEvent", true, false, false,
           sizeof(struct hv_input_signal_event), 0),
    SIMPLE(HVCALL_ASSERT_VIRTUAL_INTERRUPT, "HvCallAssertVirtualInterrupt", false, false, true,
           sizeof(struct hv_input_assert_virtual_interrupt), 0),
    /* hvfw's private calls (hv/root_abi.h, docs/hypercalls.md): root only. */
    REP(HVCALL_HVFW_CONSOLE_WRITE, "HvCallHvfwConsoleWrite", false, false, true, 0, 1, 0),
    SIMPLE(HVCALL_HVFW_ROOT_READY, "HvCallHvfwRootReady", true, false, true, 0, 0),
    SIMPLE(HVCALL_HVFW_ROOT_STOP, "HvCallHvfwRootStop", true, false, true, sizeof(uint64_t), 0),
    SIMPLE(HVCALL_HVFW_SHUTDOWN, "HvCallHvfwShutdown", true, false, true, sizeof(uint64_t), 0),
    SIMPLE(HVCALL_HVFW_POST_CHILD_MESSAGE, "HvCallHvfwPostChildMessage", false, false, true,
           sizeof(struct hvfw_input_post_child_message), 0),
    SIMPLE(HVCALL_HVFW_SIGNAL_CHILD_EVENT, "HvCallHvfwSignalChildEvent", true, false, true,
           sizeof(struct hvfw_input_signal_child_event), 0),
    SIMPLE(HVCALL_HVFW_GET_CHILD_EVENTS, "HvCallHvfwGetChildEvents", false, false, true,
           sizeof(uint64_t), sizeof(struct hvfw_output_get_child_events)),
    SIMPLE(HVCALL_HVFW_MAP_DEVICE_INTERRUPT, "HvCallHvfwMapDeviceInterrupt", false, false, true,
           sizeof(struct hvfw_input_map_device_interrupt),
           sizeof(struct hvfw_output_map_device_interrupt)),
    SIMPLE(HVCALL_HVFW_UNMAP_DEVICE_INTERRUPT, "HvCallHvfwUnmapDeviceInterrupt", false, false,
           true, sizeof(uint64_t), 0),
    SIMPLE(HVCALL_HVFW_GET_PARTITION_STATISTICS, "HvCallHvfwGetPartitionStatistics", false,
           false, true, sizeof(uint64_t), sizeof(struct hvfw_output_partition_statistics)),
};

#undef SIMPLE
#undef REP

const struct hypercall_descriptor *hypercall_descriptor_find(uint16_t code)
{
    for (size_t i = 0; i < sizeof(descriptors) / sizeof(descriptors[0]); i++) {
        if (descriptors[i].code == code)
            return &descriptors[i];
    }
    return NULL;
}

const struct hypercall_descriptor *hypercall_descriptors(size_t *count)
{
    *count = sizeof(descriptors) / sizeof(descriptors[0]);
    return descriptors;
}

/* ---- the common TLFS rules --------------------------------------------------------------- */

static enum hv_status check_reps(const struct hypercall_control *c,
                                 const struct hypercall_descriptor *d)
{
    if (c->rep_count > HYPERCALL_REP_MAX || c->rep_start > HYPERCALL_REP_MAX ||
        c->variable_header_qwords > HYPERCALL_VARIABLE_HEADER_MAX)
        return HV_STATUS_INVALID_HYPERCALL_INPUT;
    if (d->kind == HYPERCALL_SIMPLE) {
        if (c->rep_count != 0 || c->rep_start != 0)
            return HV_STATUS_INVALID_HYPERCALL_INPUT;
    } else if (c->rep_count == 0 || c->rep_start >= c->rep_count) {
        return HV_STATUS_INVALID_HYPERCALL_INPUT;
    }
    if (c->variable_header_qwords != 0 && !d->variable_header_allowed)
        return HV_STATUS_INVALID_HYPERCALL_INPUT;
    return HV_STATUS_SUCCESS;
}

/* base + count * element, false on overflow. The fields are narrow today, but a caller
 * may fill struct hypercall_control by hand and the sum must never wrap. */
static bool size_add_product(uint64_t base, uint64_t count, uint64_t element, uint64_t *sum)
{
    uint64_t product;
    if (__builtin_mul_overflow(count, element, &product))
        return false;
    return !__builtin_add_overflow(base, product, sum);
}

/* One parameter list in guest memory (TLFS "Memory Alignment Requirements"). */
static enum hv_status check_list(uint64_t gpa, uint64_t size)
{
    if (size == 0)
        return HV_STATUS_SUCCESS; /* no list: the pointer is ignored */
    if (gpa & 7)
        return HV_STATUS_INVALID_ALIGNMENT;
    if (gpa >= HYPERCALL_GPA_LIMIT)
        return HV_STATUS_INVALID_ALIGNMENT;
    if (size > HYPERCALL_PAGE_SIZE - (gpa & (HYPERCALL_PAGE_SIZE - 1)))
        return HV_STATUS_INVALID_ALIGNMENT; /* spans pages */
    return HV_STATUS_SUCCESS;
}

static uint64_t round_up_8(uint64_t size)
{
    return (size + 7) & ~7ull;
}

static enum hv_status compute_sizes(const struct hypercall_control *c,
                                    const struct hypercall_descriptor *d, uint64_t *input_size,
                                    uint64_t *header_size, uint64_t *output_size)
{
    if (!size_add_product(d->input_header_size, c->variable_header_qwords, 8, header_size) ||
        !size_add_product(*header_size, c->rep_count, d->input_element_size, input_size) ||
        !size_add_product(d->output_size, c->rep_count, d->output_element_size, output_size))
        return HV_STATUS_INVALID_HYPERCALL_INPUT;
    /* Input lists are padded to 8 bytes (TLFS "Hypercall Overview"); a list that fits its
     * page unpadded still fits padded, since the page and the list start are 8-aligned. */
    if (*input_size > UINT64_MAX - 7)
        return HV_STATUS_INVALID_HYPERCALL_INPUT;
    return HV_STATUS_SUCCESS;
}

enum hv_status hypercall_validate(const struct hypercall_control *c,
                                  const struct hypercall_descriptor *d, uint64_t input_gpa,
                                  uint64_t output_gpa, bool caller_is_root,
                                  struct hypercall_layout *out)
{
    memset(out, 0, sizeof(*out));
    if (d == NULL || d->code != c->code)
        return HV_STATUS_INVALID_HYPERCALL_CODE;
    if (d->root_only && !caller_is_root)
        return HV_STATUS_ACCESS_DENIED;
    if (c->nested)
        return HV_STATUS_INVALID_HYPERCALL_INPUT;
    enum hv_status status = check_reps(c, d);
    if (status != HV_STATUS_SUCCESS)
        return status;

    uint64_t input_size, header_size, output_size;
    status = compute_sizes(c, d, &input_size, &header_size, &output_size);
    if (status != HV_STATUS_SUCCESS)
        return status;

    if (c->fast) {
        if (!d->fast_allowed || input_size > HYPERCALL_FAST_INPUT_MAX || output_size != 0)
            return HV_STATUS_INVALID_HYPERCALL_INPUT;
    } else {
        input_size = round_up_8(input_size);
        status = check_list(input_gpa, input_size);
        if (status == HV_STATUS_SUCCESS)
            status = check_list(output_gpa, output_size);
        if (status != HV_STATUS_SUCCESS)
            return status;
        /* Both lists lie in one page each below 2^52, so these sums cannot wrap. */
        if (input_size != 0 && output_size != 0 && input_gpa < output_gpa + output_size &&
            output_gpa < input_gpa + input_size)
            return HV_STATUS_INVALID_ALIGNMENT;
        out->input_gpa = input_size != 0 ? input_gpa : 0;
        out->output_gpa = output_size != 0 ? output_gpa : 0;
    }

    /* Every size is now at most one page (or 16 bytes when fast). */
    out->fast = c->fast;
    out->input_size = (uint32_t)input_size;
    out->variable_header_size = (uint32_t)c->variable_header_qwords * 8;
    out->elements_offset = (uint32_t)header_size;
    out->output_size = (uint32_t)output_size;
    out->output_start = (uint32_t)c->rep_start * d->output_element_size;
    out->rep_count = c->rep_count;
    out->rep_start = c->rep_start;
    return HV_STATUS_SUCCESS;
}

/* ---- per-call input checks (on the hypervisor's copy) ------------------------------------- */

/* A partition the root acts on: a child, named explicitly. */
static enum hv_status check_child_partition_id(uint64_t partition_id)
{
    if (partition_id == HV_PARTITION_ID_INVALID || partition_id == HV_PARTITION_ID_SELF)
        return HV_STATUS_INVALID_PARTITION_ID;
    return HV_STATUS_SUCCESS;
}

static enum hv_status check_proximity_domain_info(const struct hv_proximity_domain_info *info)
{
    uint32_t known = HV_PROXIMITY_DOMAIN_PREFERRED | HV_PROXIMITY_DOMAIN_INFO_VALID;
    if (info->flags & ~known)
        return HV_STATUS_INVALID_PROXIMITY_DOMAIN_INFO;
    return HV_STATUS_SUCCESS;
}

enum hv_status hv_input_partition_id_validate(const struct hv_input_partition_id *in)
{
    return check_child_partition_id(in->partition_id);
}

enum hv_status hv_input_create_partition_validate(const struct hv_input_create_partition *in)
{
    if (in->flags & ~HV_PARTITION_CREATION_FLAGS_KNOWN)
        return HV_STATUS_INVALID_PARAMETER;
    if (in->isolation_properties != 0)
        return HV_STATUS_INVALID_PARAMETER; /* SNP/TDX/VBS isolation: not offered */
    struct hv_proximity_domain_info info = in->proximity_domain_info;
    return check_proximity_domain_info(&info);
}

/* Properties may be read and set on the root's own partition (SELF) or a child's. */
enum hv_status
hv_input_get_partition_property_validate(const struct hv_input_get_partition_property *in)
{
    if (in->partition_id == HV_PARTITION_ID_INVALID)
        return HV_STATUS_INVALID_PARTITION_ID;
    return HV_STATUS_SUCCESS;
}

enum hv_status
hv_input_set_partition_property_validate(const struct hv_input_set_partition_property *in)
{
    if (in->partition_id == HV_PARTITION_ID_INVALID)
        return HV_STATUS_INVALID_PARTITION_ID;
    return HV_STATUS_SUCCESS;
}

bool hv_gpa_page_number_valid(uint64_t page_number)
{
    return page_number < HV_GPA_PAGE_NUMBER_LIMIT;
}

/* [base, base + count) must lie in GPA space. */
static enum hv_status check_gpa_page_range(uint64_t base, uint32_t count)
{
    if (count == 0 || base >= HV_GPA_PAGE_NUMBER_LIMIT ||
        count > HV_GPA_PAGE_NUMBER_LIMIT - base)
        return HV_STATUS_INVALID_PARAMETER;
    return HV_STATUS_SUCCESS;
}

enum hv_status hv_input_map_gpa_pages_validate(const struct hv_input_map_gpa_pages *in,
                                               uint32_t rep_count)
{
    /* The root maps its pages into a child; mapping into itself would alias its own RAM. */
    enum hv_status status = check_child_partition_id(in->target_partition_id);
    if (status != HV_STATUS_SUCCESS)
        return status;
    if (in->map_flags & ~HV_MAP_GPA_FLAGS_SUPPORTED)
        return HV_STATUS_INVALID_PARAMETER;
    if ((in->map_flags & HV_MAP_GPA_NO_ACCESS) && (in->map_flags & HV_MAP_GPA_PERMISSIONS_MASK))
        return HV_STATUS_INVALID_PARAMETER; /* "no access" with access rights: contradictory */
    return check_gpa_page_range(in->target_gpa_base, rep_count);
}

enum hv_status hv_input_unmap_gpa_pages_validate(const struct hv_input_unmap_gpa_pages *in,
                                                 uint32_t rep_count)
{
    enum hv_status status = check_child_partition_id(in->target_partition_id);
    if (status != HV_STATUS_SUCCESS)
        return status;
    if (in->unmap_flags != 0)
        return HV_STATUS_INVALID_PARAMETER; /* only HV_UNMAP_GPA_LARGE_PAGE exists: not offered */
    return check_gpa_page_range(in->target_gpa_base, rep_count);
}

static enum hv_status check_intercept_parameters(uint32_t type, uint64_t parameters,
                                                 uint32_t access)
{
    uint32_t read_write = HV_INTERCEPT_ACCESS_READ | HV_INTERCEPT_ACCESS_WRITE;
    switch (type) {
    case HV_INTERCEPT_TYPE_X64_IO_PORT:
        if (parameters > 0xFFFF || (access & ~read_write))
            return HV_STATUS_INVALID_PARAMETER;
        return HV_STATUS_SUCCESS;
    case HV_INTERCEPT_TYPE_X64_IO_PORT_RANGE:
        if (parameters > 0xFFFFFFFF || (parameters & 0xFFFF) > (parameters >> 16) ||
            (access & ~read_write))
            return HV_STATUS_INVALID_PARAMETER;
        return HV_STATUS_SUCCESS;
    case HV_INTERCEPT_TYPE_X64_MSR:
        if (access & ~read_write)
            return HV_STATUS_INVALID_PARAMETER;
        return HV_STATUS_SUCCESS;
    case HV_INTERCEPT_TYPE_X64_MSR_INDEX:
        if (parameters > 0xFFFFFFFF || (access & ~read_write))
            return HV_STATUS_INVALID_PARAMETER;
        return HV_STATUS_SUCCESS;
    case HV_INTERCEPT_TYPE_X64_CPUID:
        return parameters > 0xFFFFFFFF ? HV_STATUS_INVALID_PARAMETER : HV_STATUS_SUCCESS;
    case HV_INTERCEPT_TYPE_EXCEPTION:
        /* Architectural exception vectors are 0..31 (Intel SDM Vol. 3A 6.3.1). */
        return parameters > 31 ? HV_STATUS_INVALID_PARAMETER : HV_STATUS_SUCCESS;
    case HV_INTERCEPT_TYPE_HYPERCALL:
        return HV_STATUS_SUCCESS;
    }
    return HV_STATUS_INVALID_PARAMETER;
}

enum hv_status hv_input_install_intercept_validate(const struct hv_input_install_intercept *in)
{
    enum hv_status status = check_child_partition_id(in->partition_id);
    if (status != HV_STATUS_SUCCESS)
        return status;
    uint32_t known = HV_INTERCEPT_ACCESS_READ | HV_INTERCEPT_ACCESS_WRITE |
                     HV_INTERCEPT_ACCESS_EXECUTE;
    if (in->access_type_mask & ~known)
        return HV_STATUS_INVALID_PARAMETER;
    return check_intercept_parameters(in->intercept_type, in->intercept_parameters,
                                      in->access_type_mask);
}

enum hv_status hv_input_create_vp_validate(const struct hv_input_create_vp *in)
{
    enum hv_status status = check_child_partition_id(in->partition_id);
    if (status != HV_STATUS_SUCCESS)
        return status;
    if (in->vp_index >= HV_VP_INDEX_COUNT)
        return HV_STATUS_INVALID_VP_INDEX;
    if (in->flags != 0)
        return HV_STATUS_INVALID_PARAMETER;
    struct hv_proximity_domain_info info = in->proximity_domain_info;
    return check_proximity_domain_info(&info);
}

enum hv_status hv_input_delete_vp_validate(const struct hv_input_delete_vp *in)
{
    enum hv_status status = check_child_partition_id(in->partition_id);
    if (status != HV_STATUS_SUCCESS)
        return status;
    if (in->vp_index >= HV_VP_INDEX_COUNT)
        return HV_STATUS_INVALID_VP_INDEX;
    return HV_STATUS_SUCCESS;
}

bool hv_register_name_known(uint32_t name)
{
    switch (name) {
    case HV_REGISTER_PENDING_INTERRUPTION:
    case HV_REGISTER_INTERRUPT_STATE:
    case HV_REGISTER_PENDING_EVENT0:
    case HV_X64_REGISTER_CR0:
    case HV_X64_REGISTER_CR2:
    case HV_X64_REGISTER_CR3:
    case HV_X64_REGISTER_CR4:
    case HV_X64_REGISTER_CR8:
    case HV_X64_REGISTER_XFEM:
    case HV_X64_REGISTER_IDTR:
    case HV_X64_REGISTER_GDTR:
    case HV_X64_REGISTER_TSC_AUX:
    case HV_REGISTER_HYPERCALL:
    case HV_REGISTER_GUEST_OS_ID:
    case HV_REGISTER_VP_INDEX:
    case HV_REGISTER_TIME_REF_COUNT:
    case HV_REGISTER_REFERENCE_TSC:
    case HV_REGISTER_SCONTROL:
    case HV_REGISTER_SVERSION:
    case HV_REGISTER_SIEFP:
    case HV_REGISTER_SIMP:
    case HV_REGISTER_EOM:
        return true;
    }
    /* The dense groups: RAX..RFLAGS, DR0..DR7 (as 6 names), ES..TR, the MSR block
     * TSC..SFMASK, SINT0..15, STIMER0..3 config/count. */
    return (name >= HV_X64_REGISTER_RAX && name <= HV_X64_REGISTER_RFLAGS) ||
           (name >= HV_X64_REGISTER_DR0 && name <= HV_X64_REGISTER_DR7) ||
           (name >= HV_X64_REGISTER_ES && name <= HV_X64_REGISTER_TR) ||
           (name >= HV_X64_REGISTER_TSC && name <= HV_X64_REGISTER_SFMASK) ||
           (name >= HV_REGISTER_SINT0 && name <= HV_REGISTER_SINT0 + 15) ||
           (name >= HV_REGISTER_STIMER0_CONFIG && name <= HV_REGISTER_STIMER3_COUNT);
}

enum hv_status hv_input_vp_registers_validate(const struct hv_input_vp_registers *in)
{
    /* The root reads and writes its children's VPs, and its own (SELF). */
    if (in->partition_id == HV_PARTITION_ID_INVALID)
        return HV_STATUS_INVALID_PARTITION_ID;
    if (in->vp_index >= HV_VP_INDEX_COUNT && in->vp_index != HV_VP_INDEX_SELF)
        return HV_STATUS_INVALID_VP_INDEX;
    if (in->input_vtl & HV_INPUT_VTL_RESERVED_MASK)
        return HV_STATUS_INVALID_PARAMETER;
    /* Only VTL 0 exists here: naming any other target VTL is an error. */
    if ((in->input_vtl & HV_INPUT_VTL_USE_TARGET) && (in->input_vtl & HV_INPUT_VTL_TARGET_MASK))
        return HV_STATUS_INVALID_PARAMETER;
    if (in->reserved_z8 != 0 || in->reserved_z16 != 0)
        return HV_STATUS_INVALID_PARAMETER;
    return HV_STATUS_SUCCESS;
}

enum hv_status hv_register_assoc_validate(const struct hv_register_assoc *assoc)
{
    return hv_register_name_known(assoc->name) ? HV_STATUS_SUCCESS
                                               : HV_STATUS_INVALID_PARAMETER;
}

enum hv_status hv_input_post_message_validate(const struct hv_input_post_message *in)
{
    if (in->connection_id & ~HV_CONNECTION_ID_MASK)
        return HV_STATUS_INVALID_CONNECTION_ID;
    if (in->payload_size > HV_MESSAGE_PAYLOAD_SIZE)
        return HV_STATUS_INVALID_PARAMETER;
    if (in->message_type == 0 || (in->message_type & HV_MESSAGE_TYPE_HYPERVISOR_MASK))
        return HV_STATUS_INVALID_PARAMETER; /* HvMessageTypeNone, or the hypervisor's own */
    return HV_STATUS_SUCCESS;
}

enum hv_status
hv_input_assert_virtual_interrupt_validate(const struct hv_input_assert_virtual_interrupt *in)
{
    enum hv_status status = check_child_partition_id(in->partition_id);
    if (status != HV_STATUS_SUCCESS)
        return status;
    if ((in->control & HV_INTERRUPT_CONTROL_TYPE_MASK) != HV_INTERRUPT_TYPE_FIXED ||
        (in->control & ~HV_INTERRUPT_CONTROL_TYPE_MASK) != 0)
        return HV_STATUS_INVALID_PARAMETER; /* not fixed, level, logical or reserved bits */
    if (in->destination > 0xFFFFFFFFull)
        return HV_STATUS_INVALID_PARAMETER; /* x2APIC IDs are 32 bits */
    if (in->vector < HV_INTERRUPT_VECTOR_FIRST || in->vector > HV_INTERRUPT_VECTOR_LAST)
        return HV_STATUS_INVALID_PARAMETER;
    if (in->target_vtl != 0 || in->reserved1 != 0 || in->reserved2 != 0)
        return HV_STATUS_INVALID_PARAMETER;
    return HV_STATUS_SUCCESS;
}

enum hv_status hv_input_signal_event_validate(const struct hv_input_signal_event *in)
{
    if (in->connection_id & ~HV_CONNECTION_ID_MASK)
        return HV_STATUS_INVALID_CONNECTION_ID;
    if (in->flag_number >= HV_EVENT_FLAGS_COUNT)
        return HV_STATUS_INVALID_PARAMETER;
    return HV_STATUS_SUCCESS;
}
