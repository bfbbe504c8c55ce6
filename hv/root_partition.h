/*
 * The root partition (MISSION.md, decision 1): partition 1, linked into the image but run
 * deprivileged in guest mode, one VP per physical CPU. Its nested page tables map the
 * shared and root parts of the image (kernel/linker.ld), the boot modules (read-only) and
 * the RAM the hypervisor hands it at start; never the hypervisor's own memory.
 */
#ifndef HVFW_HV_ROOT_PARTITION_H
#define HVFW_HV_ROOT_PARTITION_H

struct partition;

/* Builds the root partition and runs its VP 0 on the calling (boot) CPU; the APs run
 * theirs. Returns only if the root cannot be built or stops (then the caller reports). */
void root_partition_start(void);

/* HvCallHvfwRootReady: the root has started; prints the ready line. */
void hv_root_ready(struct partition *root);

#endif
