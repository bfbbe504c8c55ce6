/*
 * The root partition's side of the hypercall ABI (TLFS 3.7, 64-bit convention: RCX control,
 * RDX input GPA, R8 output GPA, RAX result). The root's GPAs equal its addresses (identity
 * page tables), so a pointer into root memory is its GPA.
 */
#ifndef HVFW_ROOT_HVCALL_H
#define HVFW_ROOT_HVCALL_H

#include <stddef.h>
#include <stdint.h>

#include "hv/hypercall_abi.h"
#include "hv/root_abi.h"

uint64_t hvcall(uint64_t control, uint64_t input_gpa, uint64_t output_gpa);
/* The status of a result value (bits 15:0). */
uint16_t hvcall_status(uint64_t result);

/* hvfw's private calls (hv/root_abi.h). */
void hvcall_console_write(const char *bytes, size_t length);
void hvcall_root_ready(void);
__attribute__((noreturn)) void hvcall_root_stop(uint64_t code);
/* Ends the appliance's run: 0 powers off, otherwise a failure code (hv/root_abi.h). */
void hvcall_shutdown(uint32_t code);

/*
 * Partition and VP management (TLFS; hv/root_calls.h has the hypervisor's rules). Each
 * returns the HV_STATUS of the call (HV_STATUS_SUCCESS = 0). Inputs are built in a per-VP
 * input page, so any root VP may call them; lists longer than a page are sent in batches,
 * and the first failing batch ends the call with its status.
 */
uint16_t hvcall_create_partition(uint64_t flags, uint64_t *partition_id);
uint16_t hvcall_initialize_partition(uint64_t partition_id);
uint16_t hvcall_finalize_partition(uint64_t partition_id);
uint16_t hvcall_delete_partition(uint64_t partition_id);
/* The caller's own partition id. */
uint16_t hvcall_get_partition_id(uint64_t *partition_id);
/* Maps root pages (GPA page numbers) at target_gpa_page, +1, ... with HV_MAP_GPA_* flags. */
uint16_t hvcall_map_gpa_pages(uint64_t partition_id, uint64_t target_gpa_page,
                              uint32_t map_flags, const uint64_t *source_gpa_pages,
                              uint32_t count);
/* The same for a contiguous range; addresses and size page-aligned (else
 * HV_STATUS_INVALID_PARAMETER without a call). */
uint16_t hvcall_map_gpa_range(uint64_t partition_id, uint64_t target_gpa, uint64_t source_gpa,
                              uint64_t bytes, uint32_t map_flags);
uint16_t hvcall_unmap_gpa_pages(uint64_t partition_id, uint64_t target_gpa_page, uint32_t count);
uint16_t hvcall_install_intercept(uint64_t partition_id, uint32_t access_type_mask,
                                  uint32_t intercept_type, uint64_t parameters);
/* A new VP (index = the partition's VP count) is held by HV_REGISTER_EXPLICIT_SUSPEND. */
uint16_t hvcall_create_vp(uint64_t partition_id, uint32_t vp_index);
uint16_t hvcall_get_vp_registers(uint64_t partition_id, uint32_t vp_index, const uint32_t *names,
                                 union hv_register_value *values, uint32_t count);
uint16_t hvcall_set_vp_registers(uint64_t partition_id, uint32_t vp_index,
                                 const struct hv_register_assoc *assocs, uint32_t count);
/* HvCallAssertVirtualInterrupt: `vector` (16-255) as a fixed, edge-triggered interrupt to
 * the child VP whose APIC ID (= VP index) is `apic_id` (hv/vlapic.h; the root's emulated
 * IOAPIC delivers through it). */
uint16_t hvcall_assert_virtual_interrupt(uint64_t partition_id, uint32_t apic_id,
                                         uint8_t vector);

/*
 * Messages and events to and from children (hv/root_abi.h, docs/hypercalls.md). Each
 * returns the call's HV_STATUS: HV_STATUS_INSUFFICIENT_BUFFERS when the VP's queue for the
 * SINT is full (try again after the child has taken messages), HV_STATUS_INVALID_SYNIC_STATE
 * when the child has not enabled the page.
 */
uint16_t hvcall_post_child_message(uint64_t partition_id, uint32_t vp_index, uint32_t sint,
                                   uint32_t message_type, const void *payload,
                                   uint32_t payload_size);
uint16_t hvcall_signal_child_event(uint64_t partition_id, uint32_t vp_index, uint8_t sint,
                                   uint16_t flag_number);
/* Takes and clears the connections the child signalled (bit C = connection C). */
uint16_t hvcall_get_child_events(uint64_t partition_id,
                                 uint64_t connections[HVFW_CHILD_CONNECTION_LIMIT / 64]);
/* A child partition's exits and run time (HvCallHvfwGetPartitionStatistics). */
uint16_t hvcall_get_partition_statistics(uint64_t partition_id,
                                         struct hvfw_output_partition_statistics *out);

/* An MSI message for one of the root's devices (hv/device_interrupt.h): the address and data
 * to program, and the id that unmaps it. The interrupt wakes root VP `vp_index`. */
uint16_t hvcall_map_device_interrupt(uint32_t vp_index, uint64_t *msi_address,
                                     uint32_t *msi_data, uint32_t *interrupt_id);
uint16_t hvcall_unmap_device_interrupt(uint32_t interrupt_id);

#endif
