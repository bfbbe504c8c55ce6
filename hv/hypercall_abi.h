/*
 * The Hyper-V hypercall ABI: control word, result value, status codes, call codes, the wire
 * formats of the calls we implement, and their validation. Source: TLFS (Hypervisor Top
 * Level Functional Specification v6.0b), chapter 3 "Hypercall Interface"; root-partition
 * call layouts, which the public TLFS does not list, follow the Microsoft hypervisor
 * headers (HV_INPUT_* in Linux include/hyperv/hvhdk*.h and OpenVMM hvdef).
 *
 * Everything here is pure: it looks only at its arguments, so the same code runs in the
 * hypervisor and in the host unit tests and fuzz target. Guest input is copied into
 * hypervisor memory first; these functions check the copy (style-anchors.md, practice 4).
 *
 * A dispatcher does, in order:
 *   hypercall_decode_control(rcx)          -> INVALID_HYPERCALL_INPUT on reserved bits
 *   hypercall_descriptor_find(code)        -> NULL: INVALID_HYPERCALL_CODE
 *   hypercall_validate(...)                -> byte ranges to copy, or the TLFS status
 *   copy layout.input_size bytes, hv_input_<call>_validate(copy), run the call
 *   hypercall_encode_result(status, reps)  -> RAX
 */
#ifndef HVFW_HV_HYPERCALL_ABI_H
#define HVFW_HV_HYPERCALL_ABI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- status codes (TLFS "Hypercall Status Codes"; HV_STATUS is 16 bits) --------------- */

enum hv_status {
    HV_STATUS_SUCCESS = 0x0000,
    HV_STATUS_INVALID_HYPERCALL_CODE = 0x0002,
    HV_STATUS_INVALID_HYPERCALL_INPUT = 0x0003,
    HV_STATUS_INVALID_ALIGNMENT = 0x0004,
    HV_STATUS_INVALID_PARAMETER = 0x0005,
    HV_STATUS_ACCESS_DENIED = 0x0006,
    HV_STATUS_INVALID_PARTITION_STATE = 0x0007,
    HV_STATUS_OPERATION_DENIED = 0x0008,
    HV_STATUS_UNKNOWN_PROPERTY = 0x0009,
    HV_STATUS_PROPERTY_VALUE_OUT_OF_RANGE = 0x000A,
    HV_STATUS_INSUFFICIENT_MEMORY = 0x000B,
    HV_STATUS_PARTITION_TOO_DEEP = 0x000C,
    HV_STATUS_INVALID_PARTITION_ID = 0x000D,
    HV_STATUS_INVALID_VP_INDEX = 0x000E,
    HV_STATUS_NOT_FOUND = 0x0010,
    HV_STATUS_INVALID_PORT_ID = 0x0011,
    HV_STATUS_INVALID_CONNECTION_ID = 0x0012,
    HV_STATUS_INSUFFICIENT_BUFFERS = 0x0013,
    HV_STATUS_NOT_ACKNOWLEDGED = 0x0014,
    HV_STATUS_INVALID_VP_STATE = 0x0015,
    HV_STATUS_ACKNOWLEDGED = 0x0016,
    HV_STATUS_INVALID_SAVE_RESTORE_STATE = 0x0017,
    HV_STATUS_INVALID_SYNIC_STATE = 0x0018,
    HV_STATUS_OBJECT_IN_USE = 0x0019,
    HV_STATUS_INVALID_PROXIMITY_DOMAIN_INFO = 0x001A,
    HV_STATUS_NO_DATA = 0x001B,
    HV_STATUS_INACTIVE = 0x001C,
    HV_STATUS_NO_RESOURCES = 0x001D,
    HV_STATUS_FEATURE_UNAVAILABLE = 0x001E,
    HV_STATUS_PARTIAL_PACKET = 0x001F,
    HV_STATUS_PROCESSOR_FEATURE_NOT_SUPPORTED = 0x0020,
    HV_STATUS_INSUFFICIENT_BUFFER = 0x0033,
    HV_STATUS_INVALID_LP_INDEX = 0x0041,
    HV_STATUS_INVALID_REGISTER_VALUE = 0x0050,
    HV_STATUS_INVALID_VTL_STATE = 0x0051,
    HV_STATUS_OPERATION_FAILED = 0x0071,
    HV_STATUS_TIME_OUT = 0x0078,
    HV_STATUS_CALL_PENDING = 0x0079,
    HV_STATUS_VTL_ALREADY_ENABLED = 0x0086,
    HV_STATUS_UNKNOWN_REGISTER_NAME = 0x0087,
};

/* "HV_STATUS_INVALID_PARAMETER" etc.; "HV_STATUS_<unknown>" for a value not listed above. */
const char *hv_status_name(enum hv_status status);

/* ---- call codes (TLFS appendix "Hypercall Code Reference"; checked against Linux
 *      hvgdk_mini.h, OpenVMM hvdef and KVM hyperv.c) --------------------------------------- */

enum hypercall_code {
    /* Guest-side calls an unmodified Linux guest makes (arch/x86/hyperv, drivers/hv). */
    HVCALL_FLUSH_VIRTUAL_ADDRESS_SPACE = 0x0002,
    HVCALL_FLUSH_VIRTUAL_ADDRESS_LIST = 0x0003,
    HVCALL_NOTIFY_LONG_SPIN_WAIT = 0x0008,
    HVCALL_SEND_SYNTHETIC_CLUSTER_IPI = 0x000B,
    HVCALL_FLUSH_VIRTUAL_ADDRESS_SPACE_EX = 0x0013,
    HVCALL_FLUSH_VIRTUAL_ADDRESS_LIST_EX = 0x0014,
    HVCALL_SEND_SYNTHETIC_CLUSTER_IPI_EX = 0x0015,
    /* Partition management: the root partition's calls. */
    HVCALL_CREATE_PARTITION = 0x0040,
    HVCALL_INITIALIZE_PARTITION = 0x0041,
    HVCALL_FINALIZE_PARTITION = 0x0042,
    HVCALL_DELETE_PARTITION = 0x0043,
    HVCALL_GET_PARTITION_PROPERTY = 0x0044,
    HVCALL_SET_PARTITION_PROPERTY = 0x0045,
    HVCALL_GET_PARTITION_ID = 0x0046,
    HVCALL_MAP_GPA_PAGES = 0x004B,
    HVCALL_UNMAP_GPA_PAGES = 0x004C,
    HVCALL_INSTALL_INTERCEPT = 0x004D,
    HVCALL_CREATE_VP = 0x004E,
    HVCALL_DELETE_VP = 0x004F,
    HVCALL_GET_VP_REGISTERS = 0x0050,
    HVCALL_SET_VP_REGISTERS = 0x0051,
    /* SynIC messaging: VMBus uses both, in both directions. */
    HVCALL_POST_MESSAGE = 0x005C,
    HVCALL_SIGNAL_EVENT = 0x005D,
    /* The root's emulated interrupt controllers deliver into a child's virtual APIC. */
    HVCALL_ASSERT_VIRTUAL_INTERRUPT = 0x0094,
};

/*
 * hvfw's own calls (run VP, resume VP, ...) take codes from HVCALL_HVFW_FIRST..LAST.
 * Hyper-V's standard calls are numbered upward from 0x0001 (the highest code in the Linux
 * and OpenVMM headers is 0x011C) and its extended calls start at 0x8001 (HvExtCall*; their
 * availability is a 64-bit mask from HvExtCallQueryCapabilities, so they end by 0x8040 --
 * KVM bounds them the same way). 0x7F00-0x7FFF is far above the standard calls and below
 * the extended range, so a guest written for Hyper-V never reaches ours by accident, and
 * ours never shadow a Hyper-V call a future guest may make. Codes in this range without a
 * descriptor get HV_STATUS_INVALID_HYPERCALL_CODE like any unknown code.
 */
#define HVCALL_HVFW_FIRST 0x7F00u
#define HVCALL_HVFW_LAST 0x7FFFu

bool hypercall_code_is_hvfw(uint16_t code);

/* ---- the control word (TLFS 3.7 "Hypercall Inputs": the hypercall input value in RCX) --- */

#define HYPERCALL_CONTROL_CODE_MASK 0x000000000000FFFFull           /* 15:0 */
#define HYPERCALL_CONTROL_FAST (1ull << 16)                          /* 16 */
#define HYPERCALL_CONTROL_VARIABLE_HEADER_SHIFT 17                   /* 26:17, in qwords */
#define HYPERCALL_CONTROL_VARIABLE_HEADER_MASK 0x0000000007FE0000ull
#define HYPERCALL_CONTROL_NESTED (1ull << 31)                        /* 31 */
#define HYPERCALL_CONTROL_REP_COUNT_SHIFT 32                         /* 43:32 */
#define HYPERCALL_CONTROL_REP_COUNT_MASK 0x00000FFF00000000ull
#define HYPERCALL_CONTROL_REP_START_SHIFT 48                         /* 59:48 */
#define HYPERCALL_CONTROL_REP_START_MASK 0x0FFF000000000000ull
/* 30:27, 47:44 and 63:60 are reserved and must be zero. */
#define HYPERCALL_CONTROL_RESERVED_MASK 0xF000F00078000000ull

#define HYPERCALL_VARIABLE_HEADER_MAX 0x3FFu /* qwords: a 10-bit field */
#define HYPERCALL_REP_MAX 0xFFFu             /* rep count and start: 12-bit fields */

struct hypercall_control {
    uint16_t code;
    bool fast;                       /* input in registers, not at a GPA */
    uint16_t variable_header_qwords; /* size of the variable header, in 8-byte units */
    bool nested;                     /* "handle in the L0 hypervisor": we are L0 */
    uint16_t rep_count;
    uint16_t rep_start;
};

/* Splits RCX into fields. The fields are filled even on error (for logging); the result is
 * HV_STATUS_INVALID_HYPERCALL_INPUT when a reserved bit is set (TLFS "Hypercall Status
 * Codes": "a reserved bit in the specified hypercall input value is nonzero"). */
enum hv_status hypercall_decode_control(uint64_t control, struct hypercall_control *out);
/* The inverse, for the root's side of a call; false if a field does not fit its width. */
bool hypercall_encode_control(const struct hypercall_control *c, uint64_t *control);

/* ---- the result value (TLFS "Hypercall Outputs": returned in RAX) ------------------------
 * status 15:0, reps completed 43:32; every other bit is zero. */
#define HYPERCALL_RESULT_STATUS_MASK 0x000000000000FFFFull
#define HYPERCALL_RESULT_REPS_SHIFT 32
#define HYPERCALL_RESULT_REPS_MASK 0x00000FFF00000000ull

/* reps_completed is at most the call's rep count (<= HYPERCALL_REP_MAX); higher bits are
 * dropped rather than spilling into reserved bits. */
uint64_t hypercall_encode_result(enum hv_status status, uint32_t reps_completed);
enum hv_status hypercall_result_status(uint64_t result);
uint32_t hypercall_result_reps(uint64_t result);

/* ---- per-call descriptors --------------------------------------------------------------- */

#define HYPERCALL_PAGE_SIZE 4096u
/* A register-based fast call carries its input in RDX and R8 (TLFS "Hypercall Inputs",
 * register mapping); the XMM extension (up to 112 bytes) is not offered: CPUID
 * 0x40000003 EDX bit 4 stays clear, so a larger fast input is refused. */
#define HYPERCALL_FAST_INPUT_MAX 16u
/* The GPA space ends at 2^52: MAXPHYADDR is at most 52 (Intel SDM Vol. 3A 4.1.4; AMD APM
 * Vol. 2 5.3.1). A list pointer beyond it gets HV_STATUS_INVALID_ALIGNMENT ("the input or
 * output GPA pointer is not within the bounds of the GPA space"). */
#define HYPERCALL_GPA_LIMIT (1ull << 52)

enum hypercall_kind {
    HYPERCALL_SIMPLE, /* rep count and rep start must both be zero */
    HYPERCALL_REP,    /* rep count >= 1 and rep start < rep count */
};

struct hypercall_descriptor {
    uint16_t code;
    const char *name;                /* the TLFS name, e.g. "HvCallMapGpaPages" */
    enum hypercall_kind kind;
    bool fast_allowed;               /* the TLFS lets this call use the register convention */
    bool variable_header_allowed;    /* the _EX calls carry a VP set there */
    bool root_only;                  /* a child gets HV_STATUS_ACCESS_DENIED */
    uint16_t input_header_size;      /* fixed input, bytes */
    uint16_t input_element_size;     /* bytes per rep element of input (rep calls) */
    uint16_t output_size;            /* fixed output, bytes (simple calls) */
    uint16_t output_element_size;    /* bytes per rep element of output (rep calls) */
};

/* The descriptor of a call we implement, or NULL (-> HV_STATUS_INVALID_HYPERCALL_CODE). */
const struct hypercall_descriptor *hypercall_descriptor_find(uint16_t code);
/* All descriptors, for listings and tests. */
const struct hypercall_descriptor *hypercall_descriptors(size_t *count);

/*
 * What to copy for a validated call. Memory calls: copy input_size bytes from input_gpa
 * (header, variable header, then rep elements 0..rep_count-1, padded to 8 bytes), and on
 * return write output bytes [output_start, output_start + reps done * element) of the
 * output list at output_gpa (simple calls: output_size bytes on success). Fast calls: the
 * input is RDX then R8 (input_size <= 16 bytes) and there is no output.
 */
struct hypercall_layout {
    bool fast;
    uint64_t input_gpa;
    uint32_t input_size;           /* bytes, multiple of 8 for memory calls */
    uint32_t variable_header_size; /* bytes */
    uint32_t elements_offset;      /* where rep element 0 starts: header + variable header */
    uint64_t output_gpa;
    uint32_t output_size;          /* the whole output list, bytes */
    uint32_t output_start;         /* bytes: elements before rep_start were written earlier */
    uint32_t rep_count;
    uint32_t rep_start;
};

/*
 * The TLFS rules common to all calls, in this order:
 *   no descriptor (or one for another code)      -> INVALID_HYPERCALL_CODE
 *   root-only call from a child                  -> ACCESS_DENIED
 *   nested bit (we run no nested hypervisor), field wider than its bits, simple call with
 *   a rep count or start, rep call with count 0 or start >= count, variable header on a
 *   call that has none                           -> INVALID_HYPERCALL_INPUT
 *   fast on a call without a fast form, fast input over 16 bytes, fast with output
 *                                                -> INVALID_HYPERCALL_INPUT
 *   a list not 8-byte aligned, crossing its page (TLFS: "the specified input or output
 *   parameter list spans pages"), beyond the GPA space, or input and output overlapping
 *   (TLFS "Memory Alignment Requirements": the lists "cannot overlap or cross page
 *   boundaries")                                 -> INVALID_ALIGNMENT
 * A list of zero bytes has no GPA to check: the TLFS says the pointer is then ignored.
 * *out is zeroed first and filled only on HV_STATUS_SUCCESS.
 */
enum hv_status hypercall_validate(const struct hypercall_control *c,
                                  const struct hypercall_descriptor *d, uint64_t input_gpa,
                                  uint64_t output_gpa, bool caller_is_root,
                                  struct hypercall_layout *out);

/* ---- common wire types ------------------------------------------------------------------ */

#define HV_PARTITION_ID_INVALID 0ull
#define HV_PARTITION_ID_SELF 0xFFFFFFFFFFFFFFFFull
/* x64 Hyper-V supports 2048 VPs per partition (Linux hvgdk_mini.h HV_MAXIMUM_PROCESSORS). */
#define HV_VP_INDEX_COUNT 2048u
#define HV_VP_INDEX_SELF 0xFFFFFFFEu
#define HV_GPA_PAGE_SHIFT 12
/* A GPA page number names a page below HYPERCALL_GPA_LIMIT. */
#define HV_GPA_PAGE_NUMBER_LIMIT (HYPERCALL_GPA_LIMIT >> HV_GPA_PAGE_SHIFT)

/* HV_PROXIMITY_DOMAIN_INFO: flags bit 0 "preferred", bit 31 "info valid", 30:1 reserved. */
struct hv_proximity_domain_info {
    uint32_t domain_id;
    uint32_t flags;
} __attribute__((packed));
_Static_assert(sizeof(struct hv_proximity_domain_info) == 8, "HV_PROXIMITY_DOMAIN_INFO");
#define HV_PROXIMITY_DOMAIN_PREFERRED (1u << 0)
#define HV_PROXIMITY_DOMAIN_INFO_VALID (1u << 31)

/* HV_INPUT_VTL: target VTL 3:0, use-target-VTL 4, 7:5 reserved-zero. We run VTL 0 only. */
#define HV_INPUT_VTL_TARGET_MASK 0x0Fu
#define HV_INPUT_VTL_USE_TARGET (1u << 4)
#define HV_INPUT_VTL_RESERVED_MASK 0xE0u

/* ---- partition management (HvCallCreatePartition .. HvCallGetPartitionId) --------------- */

/* HV_INPUT_CREATE_PARTITION flags we understand (Linux hvhdk.h HV_PARTITION_CREATION_FLAG_*). */
#define HV_PARTITION_CREATION_FLAG_EXO_PARTITION (1ull << 8)
#define HV_PARTITION_CREATION_FLAG_LAPIC_ENABLED (1ull << 13)
#define HV_PARTITION_CREATION_FLAG_INTERCEPT_MESSAGE_PAGE_ENABLED (1ull << 19)
#define HV_PARTITION_CREATION_FLAG_X2APIC_CAPABLE (1ull << 22)
#define HV_PARTITION_CREATION_FLAGS_KNOWN                                                     \
    (HV_PARTITION_CREATION_FLAG_EXO_PARTITION | HV_PARTITION_CREATION_FLAG_LAPIC_ENABLED |    \
     HV_PARTITION_CREATION_FLAG_INTERCEPT_MESSAGE_PAGE_ENABLED |                              \
     HV_PARTITION_CREATION_FLAG_X2APIC_CAPABLE)

/* HV_INPUT_CREATE_PARTITION; output HV_OUTPUT_CREATE_PARTITION (the new partition id). */
struct hv_input_create_partition {
    uint64_t flags;
    struct hv_proximity_domain_info proximity_domain_info;
    uint32_t compatibility_version;
    uint32_t padding;
    uint64_t disabled_processor_features[2]; /* HV_PARTITION_PROCESSOR_FEATURES banks */
    uint64_t disabled_processor_xsave_features;
    uint64_t isolation_properties;           /* 0: no isolation (the only kind we offer) */
} __attribute__((packed));
_Static_assert(sizeof(struct hv_input_create_partition) == 56, "HV_INPUT_CREATE_PARTITION");

struct hv_output_create_partition {
    uint64_t partition_id;
} __attribute__((packed));
_Static_assert(sizeof(struct hv_output_create_partition) == 8, "HV_OUTPUT_CREATE_PARTITION");

/* HV_INPUT_INITIALIZE_PARTITION, HV_INPUT_FINALIZE_PARTITION, HV_INPUT_DELETE_PARTITION:
 * all three are just the target partition. */
struct hv_input_partition_id {
    uint64_t partition_id;
} __attribute__((packed));
_Static_assert(sizeof(struct hv_input_partition_id) == 8, "HV_INPUT_*_PARTITION");

struct hv_input_get_partition_property {
    uint64_t partition_id;
    uint32_t property_code;
    uint32_t padding;
} __attribute__((packed));
_Static_assert(sizeof(struct hv_input_get_partition_property) == 16,
               "HV_INPUT_GET_PARTITION_PROPERTY");

struct hv_output_get_partition_property {
    uint64_t property_value;
} __attribute__((packed));
_Static_assert(sizeof(struct hv_output_get_partition_property) == 8,
               "HV_OUTPUT_GET_PARTITION_PROPERTY");

struct hv_input_set_partition_property {
    uint64_t partition_id;
    uint32_t property_code;
    uint32_t padding;
    uint64_t property_value;
} __attribute__((packed));
_Static_assert(sizeof(struct hv_input_set_partition_property) == 24,
               "HV_INPUT_SET_PARTITION_PROPERTY");

struct hv_output_get_partition_id {
    uint64_t partition_id;
} __attribute__((packed));
_Static_assert(sizeof(struct hv_output_get_partition_id) == 8, "HV_OUTPUT_GET_PARTITION_ID");

/* Initialize/Finalize/Delete act on a child: not "invalid", not "self". */
enum hv_status hv_input_partition_id_validate(const struct hv_input_partition_id *in);
enum hv_status hv_input_create_partition_validate(const struct hv_input_create_partition *in);
enum hv_status
hv_input_get_partition_property_validate(const struct hv_input_get_partition_property *in);
enum hv_status
hv_input_set_partition_property_validate(const struct hv_input_set_partition_property *in);

/* ---- GPA mapping (HvCallMapGpaPages, HvCallUnmapGpaPages) --------------------------------- */

/* HV_MAP_GPA_FLAGS (Linux hvhdk_mini.h). */
#define HV_MAP_GPA_READABLE 0x00000001u
#define HV_MAP_GPA_WRITABLE 0x00000002u
#define HV_MAP_GPA_KERNEL_EXECUTABLE 0x00000004u
#define HV_MAP_GPA_USER_EXECUTABLE 0x00000008u
#define HV_MAP_GPA_EXECUTABLE (HV_MAP_GPA_KERNEL_EXECUTABLE | HV_MAP_GPA_USER_EXECUTABLE)
#define HV_MAP_GPA_PERMISSIONS_MASK 0x0000000Fu
#define HV_MAP_GPA_ADJUSTABLE 0x00008000u
#define HV_MAP_GPA_NO_ACCESS 0x00010000u
#define HV_MAP_GPA_NOT_CACHED 0x00200000u
#define HV_MAP_GPA_LARGE_PAGE 0x80000000u /* known, not offered: 4 KiB mappings only */
#define HV_MAP_GPA_FLAGS_SUPPORTED                                                            \
    (HV_MAP_GPA_PERMISSIONS_MASK | HV_MAP_GPA_ADJUSTABLE | HV_MAP_GPA_NO_ACCESS |             \
     HV_MAP_GPA_NOT_CACHED)
#define HV_UNMAP_GPA_LARGE_PAGE 0x00000002u /* likewise not offered */

/* HV_INPUT_MAP_GPA_PAGES: map rep_count pages of the caller, listed as GPA page numbers
 * (rep elements, uint64_t each), at target_gpa_base.. (a page number) in the target. */
struct hv_input_map_gpa_pages {
    uint64_t target_partition_id;
    uint64_t target_gpa_base;
    uint32_t map_flags;
    uint32_t padding;
    /* uint64_t source_gpa_page_list[rep_count] follows */
} __attribute__((packed));
_Static_assert(sizeof(struct hv_input_map_gpa_pages) == 24, "HV_INPUT_MAP_GPA_PAGES");

/* HV_INPUT_UNMAP_GPA_PAGES: a rep call whose reps are pages, with no input elements. */
struct hv_input_unmap_gpa_pages {
    uint64_t target_partition_id;
    uint64_t target_gpa_base;
    uint32_t unmap_flags;
    uint32_t padding;
} __attribute__((packed));
_Static_assert(sizeof(struct hv_input_unmap_gpa_pages) == 24, "HV_INPUT_UNMAP_GPA_PAGES");

bool hv_gpa_page_number_valid(uint64_t page_number);
/* rep_count is the call's; the range target_gpa_base + rep_count must stay in GPA space. */
enum hv_status hv_input_map_gpa_pages_validate(const struct hv_input_map_gpa_pages *in,
                                               uint32_t rep_count);
enum hv_status hv_input_unmap_gpa_pages_validate(const struct hv_input_unmap_gpa_pages *in,
                                                 uint32_t rep_count);

/* ---- intercepts (HvCallInstallIntercept) --------------------------------------------------- */

#define HV_INTERCEPT_ACCESS_READ 0x1u
#define HV_INTERCEPT_ACCESS_WRITE 0x2u
#define HV_INTERCEPT_ACCESS_EXECUTE 0x4u

/* HV_INTERCEPT_TYPE (Linux hvgdk_mini.h, OpenVMM hvdef). */
enum hv_intercept_type {
    HV_INTERCEPT_TYPE_X64_IO_PORT = 0x00,   /* parameter: port, 15:0 */
    HV_INTERCEPT_TYPE_X64_MSR = 0x01,       /* all MSRs; no parameter */
    HV_INTERCEPT_TYPE_X64_CPUID = 0x02,     /* parameter: leaf, 31:0 */
    HV_INTERCEPT_TYPE_EXCEPTION = 0x03,     /* parameter: vector, 15:0 */
    HV_INTERCEPT_TYPE_HYPERCALL = 0x08,     /* no parameter */
    HV_INTERCEPT_TYPE_X64_MSR_INDEX = 0x0C, /* parameter: MSR index, 31:0 */
    HV_INTERCEPT_TYPE_X64_IO_PORT_RANGE = 0x11, /* parameter: first 15:0, last 31:16 */
};

struct hv_input_install_intercept {
    uint64_t partition_id;
    uint32_t access_type_mask;
    uint32_t intercept_type;
    uint64_t intercept_parameters;
} __attribute__((packed));
_Static_assert(sizeof(struct hv_input_install_intercept) == 24, "HV_INPUT_INSTALL_INTERCEPT");

enum hv_status
hv_input_install_intercept_validate(const struct hv_input_install_intercept *in);

/* ---- virtual processors (HvCallCreateVp, HvCallDeleteVp) ---------------------------------- */

struct hv_input_create_vp {
    uint64_t partition_id;
    uint32_t vp_index;
    uint8_t padding[3];
    uint8_t subnode_type;
    uint64_t subnode_id;
    struct hv_proximity_domain_info proximity_domain_info;
    uint64_t flags; /* none defined: must be zero */
} __attribute__((packed));
_Static_assert(sizeof(struct hv_input_create_vp) == 40, "HV_INPUT_CREATE_VP");

struct hv_input_delete_vp {
    uint64_t partition_id;
    uint32_t vp_index;
    uint32_t reserved;
} __attribute__((packed));
_Static_assert(sizeof(struct hv_input_delete_vp) == 16, "HV_INPUT_DELETE_VP");

enum hv_status hv_input_create_vp_validate(const struct hv_input_create_vp *in);
enum hv_status hv_input_delete_vp_validate(const struct hv_input_delete_vp *in);

/* ---- VP registers (HvCallGetVpRegisters, HvCallSetVpRegisters) --------------------------- */

/* HV_REGISTER_NAME values for x64 (TLFS appendix "Register Names"; OpenVMM hvdef). */
enum hv_register_name {
    HV_REGISTER_PENDING_INTERRUPTION = 0x00010002,
    HV_REGISTER_INTERRUPT_STATE = 0x00010003,
    HV_REGISTER_PENDING_EVENT0 = 0x00010004,

    HV_X64_REGISTER_RAX = 0x00020000,
    HV_X64_REGISTER_RCX = 0x00020001,
    HV_X64_REGISTER_RDX = 0x00020002,
    HV_X64_REGISTER_RBX = 0x00020003,
    HV_X64_REGISTER_RSP = 0x00020004,
    HV_X64_REGISTER_RBP = 0x00020005,
    HV_X64_REGISTER_RSI = 0x00020006,
    HV_X64_REGISTER_RDI = 0x00020007,
    HV_X64_REGISTER_R8 = 0x00020008,
    HV_X64_REGISTER_R9 = 0x00020009,
    HV_X64_REGISTER_R10 = 0x0002000A,
    HV_X64_REGISTER_R11 = 0x0002000B,
    HV_X64_REGISTER_R12 = 0x0002000C,
    HV_X64_REGISTER_R13 = 0x0002000D,
    HV_X64_REGISTER_R14 = 0x0002000E,
    HV_X64_REGISTER_R15 = 0x0002000F,
    HV_X64_REGISTER_RIP = 0x00020010,
    HV_X64_REGISTER_RFLAGS = 0x00020011,

    HV_X64_REGISTER_CR0 = 0x00040000,
    HV_X64_REGISTER_CR2 = 0x00040001,
    HV_X64_REGISTER_CR3 = 0x00040002,
    HV_X64_REGISTER_CR4 = 0x00040003,
    HV_X64_REGISTER_CR8 = 0x00040004,
    HV_X64_REGISTER_XFEM = 0x00040005,

    HV_X64_REGISTER_DR0 = 0x00050000,
    HV_X64_REGISTER_DR1 = 0x00050001,
    HV_X64_REGISTER_DR2 = 0x00050002,
    HV_X64_REGISTER_DR3 = 0x00050003,
    HV_X64_REGISTER_DR6 = 0x00050004,
    HV_X64_REGISTER_DR7 = 0x00050005,

    HV_X64_REGISTER_ES = 0x00060000,
    HV_X64_REGISTER_CS = 0x00060001,
    HV_X64_REGISTER_SS = 0x00060002,
    HV_X64_REGISTER_DS = 0x00060003,
    HV_X64_REGISTER_FS = 0x00060004,
    HV_X64_REGISTER_GS = 0x00060005,
    HV_X64_REGISTER_LDTR = 0x00060006,
    HV_X64_REGISTER_TR = 0x00060007,

    HV_X64_REGISTER_IDTR = 0x00070000,
    HV_X64_REGISTER_GDTR = 0x00070001,

    HV_X64_REGISTER_TSC = 0x00080000,
    HV_X64_REGISTER_EFER = 0x00080001,
    HV_X64_REGISTER_KERNEL_GS_BASE = 0x00080002,
    HV_X64_REGISTER_APIC_BASE = 0x00080003,
    HV_X64_REGISTER_PAT = 0x00080004,
    HV_X64_REGISTER_SYSENTER_CS = 0x00080005,
    HV_X64_REGISTER_SYSENTER_EIP = 0x00080006,
    HV_X64_REGISTER_SYSENTER_ESP = 0x00080007,
    HV_X64_REGISTER_STAR = 0x00080008,
    HV_X64_REGISTER_LSTAR = 0x00080009,
    HV_X64_REGISTER_CSTAR = 0x0008000A,
    HV_X64_REGISTER_SFMASK = 0x0008000B,
    HV_X64_REGISTER_TSC_AUX = 0x0008007B,

    HV_REGISTER_HYPERCALL = 0x00090001,
    HV_REGISTER_GUEST_OS_ID = 0x00090002,
    HV_REGISTER_VP_INDEX = 0x00090003,
    HV_REGISTER_TIME_REF_COUNT = 0x00090004,
    HV_REGISTER_REFERENCE_TSC = 0x00090017,

    HV_REGISTER_SINT0 = 0x000A0000, /* .. HV_REGISTER_SINT0 + 15 */
    HV_REGISTER_SCONTROL = 0x000A0010,
    HV_REGISTER_SVERSION = 0x000A0011,
    HV_REGISTER_SIEFP = 0x000A0012,
    HV_REGISTER_SIMP = 0x000A0013,
    HV_REGISTER_EOM = 0x000A0014,

    HV_REGISTER_STIMER0_CONFIG = 0x000B0000, /* config/count pairs for timers 0..3 */
    HV_REGISTER_STIMER3_COUNT = 0x000B0007,
};

/* HV_X64_SEGMENT_REGISTER; attributes: type 3:0, S 4, DPL 6:5, P 7, AVL 12, L 13, D/B 14,
 * G 15 -- the descriptor's attribute bits (Intel SDM Vol. 3A 3.4.5), 11:8 reserved. */
struct hv_x64_segment_register {
    uint64_t base;
    uint32_t limit;
    uint16_t selector;
    uint16_t attributes;
} __attribute__((packed));
_Static_assert(sizeof(struct hv_x64_segment_register) == 16, "HV_X64_SEGMENT_REGISTER");

/* HV_X64_TABLE_REGISTER (GDTR, IDTR). */
struct hv_x64_table_register {
    uint16_t pad[3];
    uint16_t limit;
    uint64_t base;
} __attribute__((packed));
_Static_assert(sizeof(struct hv_x64_table_register) == 16, "HV_X64_TABLE_REGISTER");

/* HV_REGISTER_VALUE: 128 bits, of which a 64-bit register uses the low half. */
union hv_register_value {
    uint64_t reg64;
    uint32_t reg32;
    uint16_t reg16;
    uint8_t reg8;
    struct {
        uint64_t low;
        uint64_t high;
    } __attribute__((packed)) reg128;
    struct hv_x64_segment_register segment;
    struct hv_x64_table_register table;
} __attribute__((packed));
_Static_assert(sizeof(union hv_register_value) == 16, "HV_REGISTER_VALUE");

/* HV_REGISTER_ASSOC: the rep element of HvCallSetVpRegisters. */
struct hv_register_assoc {
    uint32_t name;
    uint32_t reserved1;
    uint64_t reserved2;
    union hv_register_value value;
} __attribute__((packed));
_Static_assert(sizeof(struct hv_register_assoc) == 32, "HV_REGISTER_ASSOC");

/* HV_INPUT_GET_VP_REGISTERS / HV_INPUT_SET_VP_REGISTERS share this header; the rep
 * elements are uint32_t register names (get; output: union hv_register_value each) or
 * struct hv_register_assoc (set; no output). */
struct hv_input_vp_registers {
    uint64_t partition_id;
    uint32_t vp_index;
    uint8_t input_vtl;
    uint8_t reserved_z8;
    uint16_t reserved_z16;
} __attribute__((packed));
_Static_assert(sizeof(struct hv_input_vp_registers) == 16, "HV_INPUT_GET/SET_VP_REGISTERS");

bool hv_register_name_known(uint32_t name);
enum hv_status hv_input_vp_registers_validate(const struct hv_input_vp_registers *in);
enum hv_status hv_register_assoc_validate(const struct hv_register_assoc *assoc);

/* ---- SynIC messages and events (HvCallPostMessage, HvCallSignalEvent) --------------------- */

/* HV_CONNECTION_ID: id 23:0, 31:24 reserved. */
#define HV_CONNECTION_ID_MASK 0x00FFFFFFu
#define HV_MESSAGE_PAYLOAD_SIZE 240u
/* Message types with bit 31 set are the hypervisor's own (HVMSG_*); partitions may not
 * post them. */
#define HV_MESSAGE_TYPE_HYPERVISOR_MASK 0x80000000u
/* A SynIC event flags page holds 2048 flags per SINT (256 bytes). */
#define HV_EVENT_FLAGS_COUNT 2048u

struct hv_input_post_message {
    uint32_t connection_id;
    uint32_t padding;
    uint32_t message_type;
    uint32_t payload_size;
    uint8_t payload[HV_MESSAGE_PAYLOAD_SIZE];
} __attribute__((packed));
_Static_assert(sizeof(struct hv_input_post_message) == 256, "HV_INPUT_POST_MESSAGE");

/* Linux signals with the fast convention: these 8 bytes arrive in RDX. */
struct hv_input_signal_event {
    uint32_t connection_id;
    uint16_t flag_number;
    uint16_t reserved;
} __attribute__((packed));
_Static_assert(sizeof(struct hv_input_signal_event) == 8, "HV_INPUT_SIGNAL_EVENT");

enum hv_status hv_input_post_message_validate(const struct hv_input_post_message *in);
enum hv_status hv_input_signal_event_validate(const struct hv_input_signal_event *in);

/* ---- virtual interrupts (HvCallAssertVirtualInterrupt) ------------------------------------ */

/* HV_INTERRUPT_CONTROL: the HV_INTERRUPT_TYPE in 31:0, level-triggered bit 32, logical
 * destination mode bit 33, 63:34 reserved (Linux hvhdk.h, OpenVMM hvdef). */
#define HV_INTERRUPT_TYPE_FIXED 0u
#define HV_INTERRUPT_CONTROL_TYPE_MASK 0x00000000FFFFFFFFull
#define HV_INTERRUPT_CONTROL_LEVEL_TRIGGERED (1ull << 32)
#define HV_INTERRUPT_CONTROL_LOGICAL_DESTINATION (1ull << 33)
#define HV_INTERRUPT_VECTOR_FIRST 16u /* 0-15 are illegal APIC vectors (SDM 11.5.2) */
#define HV_INTERRUPT_VECTOR_LAST 255u

struct hv_input_assert_virtual_interrupt {
    uint64_t partition_id;
    uint64_t control;          /* HV_INTERRUPT_CONTROL */
    uint64_t destination;      /* physical destination: the target's APIC ID = VP index */
    uint32_t vector;
    uint8_t target_vtl;        /* VTL 0 only */
    uint8_t reserved1;
    uint16_t reserved2;
} __attribute__((packed));
_Static_assert(sizeof(struct hv_input_assert_virtual_interrupt) == 32,
               "HV_INPUT_ASSERT_VIRTUAL_INTERRUPT");

/* What hvfw delivers: a fixed, edge-triggered interrupt to one VP by physical APIC ID, at
 * VTL 0, vector 16-255. Other types, level triggering (it would need the EOI reported back
 * to the root's IOAPIC), logical destinations, other VTLs and reserved bits:
 * HV_STATUS_INVALID_PARAMETER. The destination's existence is checked by the handler. */
enum hv_status
hv_input_assert_virtual_interrupt_validate(const struct hv_input_assert_virtual_interrupt *in);

/* ---- guest-side TLB flush and IPI (sizes for the descriptor table) ------------------------ */

struct hv_input_flush_virtual_address_space {
    uint64_t address_space;
    uint64_t flags;
    uint64_t processor_mask;
    /* HvCallFlushVirtualAddressList: uint64_t gva_range_list[rep_count] follows */
} __attribute__((packed));
_Static_assert(sizeof(struct hv_input_flush_virtual_address_space) == 24,
               "HV_INPUT_FLUSH_VIRTUAL_ADDRESS_SPACE");

/* HV_VP_SET header; the variable header carries its bank_contents[] qwords. */
struct hv_vp_set_header {
    uint64_t format;
    uint64_t valid_bank_mask;
} __attribute__((packed));
_Static_assert(sizeof(struct hv_vp_set_header) == 16, "HV_VP_SET");

struct hv_input_flush_virtual_address_space_ex {
    uint64_t address_space;
    uint64_t flags;
    struct hv_vp_set_header vp_set;
} __attribute__((packed));
_Static_assert(sizeof(struct hv_input_flush_virtual_address_space_ex) == 32,
               "HV_INPUT_FLUSH_VIRTUAL_ADDRESS_SPACE_EX");

struct hv_input_send_synthetic_cluster_ipi {
    uint32_t vector;
    uint32_t reserved;
    uint64_t processor_mask;
} __attribute__((packed));
_Static_assert(sizeof(struct hv_input_send_synthetic_cluster_ipi) == 16,
               "HV_INPUT_SEND_SYNTHETIC_CLUSTER_IPI");

struct hv_input_send_synthetic_cluster_ipi_ex {
    uint32_t vector;
    uint32_t reserved;
    struct hv_vp_set_header vp_set;
} __attribute__((packed));
_Static_assert(sizeof(struct hv_input_send_synthetic_cluster_ipi_ex) == 24,
               "HV_INPUT_SEND_SYNTHETIC_CLUSTER_IPI_EX");

/* HvCallNotifyLongSpinWait: the spin count, in RDX when fast. */
struct hv_input_notify_long_spin_wait {
    uint64_t spin_count;
} __attribute__((packed));
_Static_assert(sizeof(struct hv_input_notify_long_spin_wait) == 8,
               "HV_INPUT_NOTIFY_LONG_SPIN_WAIT");

#endif
