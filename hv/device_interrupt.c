#include "hv/device_interrupt.h"

#include <string.h>

#include "hv/root_abi.h"
#include "hv/root_partition.h"
#include "hv/sched.h"
#include "hv/vp.h"
#include "kernel/lapic.h"
#include "kernel/log.h"
#include "kernel/percpu.h"
#include "kernel/spinlock.h"
#include "kernel/trap.h"

/* Vectors 0x40-0x5F: above the exceptions and the legacy PIC range, below the hypervisor's
 * wake IPI (0xE0) and timer (0xF0) so those outrank device interrupts (Intel SDM vol. 3,
 * 10.8.3.1: the priority class is the vector's upper nibble). */
#define FIRST_VECTOR 0x40u

/* Intel SDM vol. 3, 10.11.1 and 10.11.2 (AMD APM vol. 2, 16.5 is the same layout):
 * address 0xFEE in 31:20, destination APIC ID in 19:12, physical destination mode (bit 2
 * clear); data: vector in 7:0, fixed delivery, edge triggered (the other bits clear). */
#define MSI_ADDRESS_BASE 0xFEE00000ull
#define MSI_ADDRESS_DESTINATION_SHIFT 12

struct device_interrupt {
    bool mapped;
    uint32_t vp_index;          /* the root VP it wakes */
    uint64_t count;             /* interrupts taken */
};

static struct device_interrupt interrupts[HVFW_DEVICE_INTERRUPT_MAX];
static struct spinlock lock = SPINLOCK_INIT;

static void device_interrupt_handler(struct trap_frame *frame)
{
    lapic_eoi();
    uint64_t index = frame->vector - FIRST_VECTOR;
    if (index >= HVFW_DEVICE_INTERRUPT_MAX)
        return;
    struct device_interrupt *d = &interrupts[index];
    if (!__atomic_load_n(&d->mapped, __ATOMIC_ACQUIRE))
        return; /* unmapped while in flight: nobody waits for it */
    __atomic_add_fetch(&d->count, 1, __ATOMIC_RELAXED);
    struct vp *vp = root_partition_vp(d->vp_index);
    if (vp)
        sched_wake(vp);
}

enum hv_status device_interrupt_call_map(struct hypercall_context *call)
{
    struct hvfw_input_map_device_interrupt in;
    memcpy(&in, call->input, sizeof(in));
    if (in.reserved != 0)
        return HV_STATUS_INVALID_PARAMETER;
    struct vp *target = root_partition_vp(in.vp_index);
    if (!target)
        return HV_STATUS_INVALID_VP_INDEX;
    uint32_t apic_id = percpu_area[target->cpu].apic_id;
    if (apic_id > 0xFF)
        return HV_STATUS_INVALID_PARAMETER; /* beyond an MSI address's 8-bit destination */

    uint64_t flags = spin_lock_irqsave(&lock);
    uint32_t index = 0;
    while (index < HVFW_DEVICE_INTERRUPT_MAX && interrupts[index].mapped)
        index++;
    if (index == HVFW_DEVICE_INTERRUPT_MAX) {
        spin_unlock_irqrestore(&lock, flags);
        log_warn("hv: root asked for a device interrupt beyond the %u it may have",
                 HVFW_DEVICE_INTERRUPT_MAX);
        return HV_STATUS_NO_RESOURCES;
    }
    uint8_t vector = (uint8_t)(FIRST_VECTOR + index);
    trap_set_handler(vector, device_interrupt_handler);
    interrupts[index] = (struct device_interrupt){.vp_index = in.vp_index};
    __atomic_store_n(&interrupts[index].mapped, true, __ATOMIC_RELEASE);
    spin_unlock_irqrestore(&lock, flags);

    struct hvfw_output_map_device_interrupt out = {
        .msi_address = MSI_ADDRESS_BASE | ((uint64_t)apic_id << MSI_ADDRESS_DESTINATION_SHIFT),
        .msi_data = vector,
        .interrupt_id = index,
    };
    memcpy(call->output, &out, sizeof(out));
    log_debug("hv: device interrupt %u for root VP %u: vector 0x%x on cpu%u", index,
             in.vp_index, vector, target->cpu);
    return HV_STATUS_SUCCESS;
}

enum hv_status device_interrupt_call_unmap(struct hypercall_context *call)
{
    uint64_t id;
    memcpy(&id, call->input, sizeof(id));
    if (id >= HVFW_DEVICE_INTERRUPT_MAX)
        return HV_STATUS_INVALID_PARAMETER;
    uint64_t flags = spin_lock_irqsave(&lock);
    struct device_interrupt *d = &interrupts[id];
    bool was = d->mapped;
    __atomic_store_n(&d->mapped, false, __ATOMIC_RELEASE);
    spin_unlock_irqrestore(&lock, flags);
    if (!was)
        return HV_STATUS_INVALID_PARAMETER;
    /* The handler stays installed: a message already in flight finds the entry unmapped. */
    log_debug("hv: device interrupt %lu unmapped after %lu interrupts", id, d->count);
    return HV_STATUS_SUCCESS;
}
