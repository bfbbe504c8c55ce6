/*
 * SynIC messages that carry intercepts to the root partition (TLFS 11 "Inter-Partition
 * Communication": HV_MESSAGE; the x64 intercept messages as in Linux's hvhdk.h / OpenVMM's
 * hvdef), and the registers the root uses to complete them. Plain types, shared by hv/
 * (producer) and root/ (consumer).
 *
 * Delivery (docs/hypercalls.md): a child VP's exit the hypervisor does not handle itself
 * suspends that VP (HvRegisterInterceptSuspend = 1) and becomes a message in SINT0's slot
 * of root VP 0's message page (the root sets it with the SIMP MSR). header.sender carries
 * the child's partition id (Hyper-V routes per partition; we have one worker loop). The
 * root emulates the access, writes the child's registers with HvCallSetVpRegisters
 * (RIP past the instruction, RAX for an IN, ...) including HvRegisterInterceptSuspend = 0,
 * which resumes the VP. Message slot protocol (TLFS 11.10.3): the hypervisor writes a slot
 * only when its message_type is HvMessageTypeNone; otherwise it queues the message and sets
 * message_pending in the occupied slot; the root clears message_type and, if
 * message_pending was set, writes the EOM MSR so the next one is delivered.
 */
#ifndef HVFW_HV_INTERCEPT_ABI_H
#define HVFW_HV_INTERCEPT_ABI_H

#include <assert.h>
#include <stdint.h>

#include "hv/hypercall_abi.h" /* struct hv_x64_segment_register */

/* Synthetic MSRs of the SynIC (TLFS 11.8) */
#define HV_X64_MSR_SCONTROL 0x40000080u
#define HV_X64_MSR_SVERSION 0x40000081u
#define HV_X64_MSR_SIEFP 0x40000082u
#define HV_X64_MSR_SIMP 0x40000083u
#define HV_X64_MSR_EOM 0x40000084u
#define HV_X64_MSR_SINT0 0x40000090u
#define HV_SIMP_ENABLE (1ull << 0)
#define HV_SINT_INTERCEPTS 0 /* the SINT whose slot carries intercept messages */

enum hv_message_type {
    HV_MESSAGE_TYPE_NONE = 0x00000000,
    HV_MESSAGE_TYPE_UNMAPPED_GPA = 0x80000000,
    HV_MESSAGE_TYPE_GPA_INTERCEPT = 0x80000001,
    HV_MESSAGE_TYPE_UNRECOVERABLE_EXCEPTION = 0x80000021, /* triple fault */
    HV_MESSAGE_TYPE_X64_IO_PORT_INTERCEPT = 0x80010000,
    HV_MESSAGE_TYPE_X64_MSR_INTERCEPT = 0x80010001,
    HV_MESSAGE_TYPE_X64_CPUID_INTERCEPT = 0x80010002,
    HV_MESSAGE_TYPE_X64_EXCEPTION_INTERCEPT = 0x80010003,
    HV_MESSAGE_TYPE_X64_HALT = 0x80010007,
};

#define HV_MESSAGE_FLAG_PENDING (1u << 0)

struct hv_message_header {
    uint32_t message_type;
    uint8_t payload_size;
    uint8_t message_flags;
    uint16_t reserved;
    uint64_t sender; /* hvfw: the partition id of the intercepted child */
} __attribute__((packed));

struct hv_message {
    struct hv_message_header header;
    uint64_t payload[30]; /* 240 bytes */
} __attribute__((packed));
static_assert(sizeof(struct hv_message) == 256, "HV_MESSAGE");

/* intercept_access_type of a message (HV_INTERCEPT_ACCESS_TYPE; not the install masks) */
#define HV_INTERCEPT_ACCESS_TYPE_READ 0
#define HV_INTERCEPT_ACCESS_TYPE_WRITE 1
#define HV_INTERCEPT_ACCESS_TYPE_EXECUTE 2

/* HV_X64_INTERCEPT_MESSAGE_HEADER */
struct hv_x64_intercept_message_header {
    uint32_t vp_index;
    uint8_t instruction_length; /* bits 3:0; cr8 in 7:4 */
    uint8_t intercept_access_type;
    uint16_t execution_state;   /* bits 1:0 CPL, 2 CR0.PE, 3 CR0.AM, 4 EFER.LMA, ... */
    struct hv_x64_segment_register cs;
    uint64_t rip;
    uint64_t rflags;
} __attribute__((packed));
static_assert(sizeof(struct hv_x64_intercept_message_header) == 40, "intercept header");

#define HV_EXECUTION_STATE_CR0_PE (1u << 2)
#define HV_EXECUTION_STATE_EFER_LMA (1u << 4)

/* access_info: bits 2:0 access size in bytes (1, 2, 4), bit 3 string op, bit 4 rep */
#define HV_IO_ACCESS_SIZE_MASK 0x7u
#define HV_IO_ACCESS_STRING (1u << 3)
#define HV_IO_ACCESS_REP (1u << 4)

struct hv_x64_io_port_intercept_message {
    struct hv_x64_intercept_message_header header;
    uint16_t port_number;
    uint8_t access_info;
    uint8_t instruction_byte_count;
    uint32_t reserved;
    uint64_t rax;
    uint8_t instruction_bytes[16];
    struct hv_x64_segment_register ds, es;
    uint64_t rcx, rsi, rdi;
} __attribute__((packed));
static_assert(sizeof(struct hv_x64_io_port_intercept_message) == 128, "IO port intercept");

/* memory_access_info: bit 0 GVA valid */
#define HV_MEMORY_ACCESS_GVA_VALID (1u << 0)

/* HvMessageTypeUnmappedGpa / HvMessageTypeGpaIntercept */
struct hv_x64_memory_intercept_message {
    struct hv_x64_intercept_message_header header;
    uint32_t cache_type;
    uint8_t instruction_byte_count;
    uint8_t memory_access_info;
    uint8_t tpr_priority;
    uint8_t reserved;
    uint64_t guest_virtual_address;
    uint64_t guest_physical_address;
    uint8_t instruction_bytes[16];
} __attribute__((packed));
static_assert(sizeof(struct hv_x64_memory_intercept_message) == 80, "memory intercept");

struct hv_x64_msr_intercept_message {
    struct hv_x64_intercept_message_header header;
    uint32_t msr_number;
    uint32_t reserved;
    uint64_t rdx, rax;
} __attribute__((packed));

struct hv_x64_cpuid_intercept_message {
    struct hv_x64_intercept_message_header header;
    uint64_t rax, rcx, rdx, rbx;
    uint64_t default_result_rax, default_result_rcx, default_result_rdx, default_result_rbx;
} __attribute__((packed));

/* Register names the root uses on a child VP (HV_REGISTER_NAME, TLFS appendix). */
#define HV_REGISTER_EXPLICIT_SUSPEND 0x00000000u  /* 1 while the root holds the VP */
#define HV_REGISTER_INTERCEPT_SUSPEND 0x00000001u /* 1 from an intercept until completed */

/* HV_REGISTER_PENDING_INTERRUPTION (0x00010002): an event to deliver on the next entry:
 * bit 0 pending, 3:1 type (0 external interrupt, 2 NMI, 3 hardware exception), bit 4
 * deliver error code, 31:16 vector, 63:32 error code. */
#define HV_PENDING_INTERRUPTION_PENDING (1ull << 0)
#define HV_PENDING_INTERRUPTION_TYPE_EXCEPTION (3ull << 1)
#define HV_PENDING_INTERRUPTION_ERROR_CODE (1ull << 4)
#define HV_PENDING_INTERRUPTION_VECTOR_SHIFT 16
#define HV_PENDING_INTERRUPTION_ERROR_SHIFT 32

#endif
