/*
 * The synthetic interrupt controller's message side (TLFS 11 "Inter-Partition
 * Communication"), for now for the root partition's VPs: the SIMP message page, SINT0's
 * slot for intercept messages, a queue behind the slot, and EOM. (Children get SynIC with
 * the Linux guest work.) hv/intercept_abi.h documents the slot protocol.
 */
#ifndef HVFW_HV_SYNIC_H
#define HVFW_HV_SYNIC_H

#include <stdbool.h>
#include <stdint.h>

#include "hv/intercept_abi.h"

struct vp;

bool synic_init_vp(struct vp *vp);
void synic_destroy_vp(struct vp *vp);
/* The synthetic MSRs (SCONTROL, SVERSION, SIEFP, SIMP, EOM, SINT0-15). False if `msr` is
 * not one of them or the value is refused (the caller injects #GP). */
bool synic_msr_read(struct vp *vp, uint32_t msr, uint64_t *value);
bool synic_msr_write(struct vp *vp, uint32_t msr, uint64_t value);
/* Delivers `message` to `sint` of `vp` (into the slot, or queued behind it) and wakes the
 * VP. False if the queue is full (the message is dropped: the caller decides). */
bool synic_post(struct vp *vp, unsigned sint, const struct hv_message *message);

#endif
