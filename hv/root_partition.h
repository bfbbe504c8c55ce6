/*
 * The root partition (MISSION.md, decision 1): partition 1, linked into the image but run
 * deprivileged in guest mode, one VP per physical CPU. Its nested page tables map the
 * shared and root parts of the image (kernel/linker.ld), the boot modules (read-only) and
 * the RAM the hypervisor hands it at start; never the hypervisor's own memory. The root
 * owns the devices: the memory map's holes (PCI MMIO) are mapped uncached and its I/O port
 * accesses run without exits, except on the ports root_partition_port_kept names.
 */
#ifndef HVFW_HV_ROOT_PARTITION_H
#define HVFW_HV_ROOT_PARTITION_H

#include <stdbool.h>
#include <stdint.h>

struct partition;
struct vp;

/* Builds the root partition and starts scheduling on every CPU (the root's VP n is pinned
 * to CPU n). Returns only if the root cannot be built. */
void root_partition_start(void);

/* The root's VP `index`, NULL if none (before the root exists). */
struct vp *root_partition_vp(uint32_t index);

/* The I/O ports the hypervisor keeps for itself (its COM1, the 8259s, the ACPI PM and
 * reset registers it powers off and resets with, isa-debug-exit under test.exit): a root
 * access to one exits and gets #GP. Read by the vendor code that builds the root's I/O
 * permission map. */
bool root_partition_port_kept(uint16_t port);

/* HvCallHvfwRootReady: the root has started; prints the ready line. */
void hv_root_ready(struct partition *root);

#endif
