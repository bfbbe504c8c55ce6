/*
 * Interrupts of the physical devices the root drives (issue 5: "each with interrupts
 * redirected by the hypervisor"). The root asks for an MSI message with
 * HvCallHvfwMapDeviceInterrupt and programs it into its device's MSI or MSI-X table; the
 * message names a vector the hypervisor chose on the CPU where the named root VP lives.
 * The interrupt arrives at the hypervisor, which acknowledges it at the local APIC, counts
 * it and wakes that root VP, whose loop then polls its drivers. The root never picks a
 * vector, so a device it programs cannot raise the hypervisor's own (timer, IPIs).
 */
#ifndef HVFW_HV_DEVICE_INTERRUPT_H
#define HVFW_HV_DEVICE_INTERRUPT_H

#include "hv/hypercall.h"

enum hv_status device_interrupt_call_map(struct hypercall_context *call);
enum hv_status device_interrupt_call_unmap(struct hypercall_context *call);

#endif
