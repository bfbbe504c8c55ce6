/*
 * The root partition's management calls (TLFS chapters 5 "Partition Management", 5.x GPA
 * mapping, 7 "Virtual Processor Management", and the intercept call): create, initialize,
 * finalize and delete child partitions, map the root's pages into them, create their VPs,
 * read and write their registers, install intercepts. Their descriptors (hv/hypercall_abi.c)
 * make them root-only, so a child calling one gets HV_STATUS_ACCESS_DENIED from the
 * dispatcher before any handler runs. Every handler checks its copied input with the
 * hv_input_*_validate functions, then the objects it names (hv/partition_table.h), then the
 * values (hv/root_call_checks.h); an error leaves the hypervisor and every other partition
 * as they were.
 *
 * Documented choices: HvCallDeleteVp is not offered (HV_STATUS_INVALID_HYPERCALL_CODE);
 * HvCallInstallIntercept accepts the types this hypervisor always delivers to the root (I/O
 * port, I/O port range, MSR, MSR index, CPUID) and refuses the others; HvCallMapGpaPages
 * maps only pages the root itself owns read/write, never its image or a boot module.
 */
#ifndef HVFW_HV_ROOT_CALLS_H
#define HVFW_HV_ROOT_CALLS_H

#include "hv/hypercall.h"

enum hv_status root_call_create_partition(struct hypercall_context *call);
enum hv_status root_call_initialize_partition(struct hypercall_context *call);
enum hv_status root_call_finalize_partition(struct hypercall_context *call);
enum hv_status root_call_delete_partition(struct hypercall_context *call);
enum hv_status root_call_get_partition_id(struct hypercall_context *call);
/* HvCallHvfwGetPartitionStatistics (hv/root_abi.h): a child's exits and run time. */
enum hv_status root_call_get_partition_statistics(struct hypercall_context *call);
enum hv_status root_call_map_gpa_pages(struct hypercall_context *call);
enum hv_status root_call_unmap_gpa_pages(struct hypercall_context *call);
enum hv_status root_call_install_intercept(struct hypercall_context *call);
enum hv_status root_call_create_vp(struct hypercall_context *call);
enum hv_status root_call_get_vp_registers(struct hypercall_context *call);
enum hv_status root_call_set_vp_registers(struct hypercall_context *call);
/* HvCallAssertVirtualInterrupt: a fixed, edge-triggered interrupt into a child VP's
 * virtual APIC (hv/vlapic.h), named by its APIC ID; the root's emulated IOAPIC uses it. */
enum hv_status root_call_assert_virtual_interrupt(struct hypercall_context *call);

#endif
