/*
 * The value checks of the root-only calls (hv/root_calls.c) that go beyond the wire format
 * (hv/hypercall_abi.c): which HV_MAP_GPA_* flag sets nested paging can express, which
 * register values a VP may be given so that VMRUN never fails its consistency checks (AMD
 * APM vol. 2, 15.5.1 "Basic Operation", "Canonicalization and Consistency Checks"; the
 * same rules are #GP conditions of MOV CR/WRMSR in Intel SDM vol. 3A 2.5, 4.1), and the
 * TLFS <-> VMCB segment attribute packing. Pure: the same code runs in the host unit tests.
 */
#ifndef HVFW_HV_ROOT_CALL_CHECKS_H
#define HVFW_HV_ROOT_CALL_CHECKS_H

#include <stdbool.h>
#include <stdint.h>

#include "hv/hypercall_abi.h"

/* Architectural control register bits these checks use (Intel SDM vol. 3A 2.5, AMD APM
 * vol. 2 3.1). */
#define X86_CR0_PE (1ull << 0)
#define X86_CR0_NW (1ull << 29)
#define X86_CR0_CD (1ull << 30)
#define X86_CR0_PG (1ull << 31)
#define X86_CR4_PAE (1ull << 5)
#define X86_EFER_LME (1ull << 8)
#define X86_EFER_LMA (1ull << 10)
#define X86_EFER_SVME (1ull << 12)
/* Segment attributes, TLFS HV_X64_SEGMENT_REGISTER layout (hv/hypercall_abi.h). */
#define HV_SEGMENT_ATTRIBUTE_L (1u << 13)
#define HV_SEGMENT_ATTRIBUTE_DB (1u << 14)
#define HV_SEGMENT_ATTRIBUTES_RESERVED 0x0F00u

/* The slat_access bits (hv/slat.h) for HV_MAP_GPA_* flags already checked by
 * hv_input_map_gpa_pages_validate. Nested paging cannot express write or execute without
 * read: such sets are HV_STATUS_INVALID_PARAMETER. HV_MAP_GPA_NO_ACCESS, or no permission
 * at all, gives *access = 0: the target pages are left unmapped (an access then reaches
 * the root as an unmapped-GPA intercept, which is what "no access" means). */
enum hv_status root_call_map_access(uint32_t map_flags, unsigned *access);

/* What this CPU lets a guest set (from CPUID): bits outside are reserved, and a reserved
 * bit makes VMRUN fail. */
struct vp_register_limits {
    uint64_t cr4_allowed;
    uint64_t efer_allowed;
};

/* The per-register rules of a value for HvCallSetVpRegisters (reserved bits, canonical
 * addresses, PAT memory types, segment attribute reserved bits). Names this hypervisor does
 * not let the root set -- including read-only ones -- are HV_STATUS_INVALID_PARAMETER too;
 * the suspend registers and the pending interruption have their own checks below. */
enum hv_status root_call_check_register_value(uint32_t name, const union hv_register_value *value,
                                              const struct vp_register_limits *limits);

/* The combination VMRUN checks across registers (APM 15.5.1): a set is refused when the
 * state it produces breaks one of them, as a MOV to CR0/CR4 or WRMSR EFER would #GP on
 * hardware; the root sets them in architectural order (CR4.PAE, EFER.LME, CR0.PG, CS.L). */
struct vp_control_state {
    uint64_t cr0, cr4, efer;
    uint16_t cs_attributes; /* TLFS layout */
};
bool root_call_control_state_valid(const struct vp_control_state *state);
/* EFER.LMA follows EFER.LME and CR0.PG as the CPU does (SDM 3A 9.8.5): the root need not
 * (and cannot) set it by itself. */
uint64_t root_call_efer_with_lma(uint64_t efer, uint64_t cr0);

/* HV_REGISTER_PENDING_INTERRUPTION (hv/intercept_abi.h): 0 clears; otherwise an external
 * interrupt (vector 16..255, no error code), an NMI (vector 2, no error code) or a hardware
 * exception (vector 0..31 and not 2 or a reserved one; an error code exactly for the
 * vectors that push one, and never in real mode, where none is pushed). Instruction length,
 * nested-event and reserved bits must be zero. */
enum hv_status root_call_check_pending_interruption(uint64_t value, bool real_mode);

/* The 16-bit TLFS attribute layout (AVL L D/B G at 15:12) <-> the 12-bit VMCB packing
 * (15:12 moved to 11:8; APM 15.5.1 "Segment State in the VMCB") that struct
 * vp_segment_value (hv/vendor.h) carries. */
uint16_t root_call_segment_attributes_to_vendor(uint16_t hv_attributes);
uint16_t root_call_segment_attributes_from_vendor(uint16_t vendor_attributes);

/* A 48-bit canonical address: bits 63:47 all equal (SDM vol. 1 3.3.7.1). */
bool root_call_address_canonical(uint64_t address);

#endif
