/*
 * The root partition (MISSION.md, decision 1): partition 1, linked into the image but run
 * deprivileged in guest mode, one VP per physical CPU. Its nested page tables map the
 * shared and root parts of the image (kernel/linker.ld), the boot modules (read-only) and
 * the RAM the hypervisor hands it at start; never the hypervisor's own memory.
 */
#ifndef HVFW_HV_ROOT_PARTITION_H
#define HVFW_HV_ROOT_PARTITION_H

#include <stdint.h>

struct partition;
struct vp;

/* Builds the root partition and starts scheduling on every CPU (the root's VP n is pinned
 * to CPU n). Returns only if the root cannot be built. */
void root_partition_start(void);

/* The root's VP `index`, NULL if none (before the root exists). */
struct vp *root_partition_vp(uint32_t index);

/* HvCallHvfwRootReady: the root has started; prints the ready line. */
void hv_root_ready(struct partition *root);

#endif
