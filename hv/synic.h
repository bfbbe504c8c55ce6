/*
 * The synthetic interrupt controller (TLFS 11 "Inter-Partition Communication") of every VP:
 * SCONTROL, SVERSION, SIEFP, SIMP, EOM and SINT0-15 (TLFS 11.8), a bounded message queue
 * behind each SINT's slot of the message page (hv/message_queue.h), the slot protocol
 * with MessagePending and redelivery on EOM (hv/synic_page.h), and event flags.
 *
 * A child VP's SINT interrupts go to its virtual LAPIC (vlapic_raise_interrupt) when
 * SCONTROL is enabled and the SINT is neither masked nor polling. Root VPs have no virtual
 * LAPIC: they poll their pages and are woken from HLT by every delivery. The root's VP 0
 * gets intercepts on SINT0 (hv/intercept_abi.h) and child messages and event
 * notifications on SINT HVFW_ROOT_SINT_CHILD (hv/root_abi.h).
 *
 * A child's state is allocated on its first SynIC MSR access (and freed by
 * synic_destroy_vp when the partition goes); the root's VPs get theirs at creation.
 */
#ifndef HVFW_HV_SYNIC_H
#define HVFW_HV_SYNIC_H

#include <stdbool.h>
#include <stdint.h>

#include "hv/hypercall.h"
#include "hv/intercept_abi.h"

struct vp;

/* SINTn (TLFS 11.8.4): vector 7:0, masked 16 (the reset value), auto-EOI 17, polling 18. */
#define HV_SINT_VECTOR_MASK 0xFFull
#define HV_SINT_MASKED (1ull << 16)
#define HV_SINT_AUTO_EOI (1ull << 17)
#define HV_SINT_POLLING (1ull << 18)
#define HV_SCONTROL_ENABLE (1ull << 0)
#define HV_SIEFP_ENABLE (1ull << 0)

bool synic_init_vp(struct vp *vp);
void synic_destroy_vp(struct vp *vp);
/* The synthetic MSRs (SCONTROL, SVERSION, SIEFP, SIMP, EOM, SINT0-15). False if `msr` is
 * not one of them or the value is refused (the caller injects #GP). */
bool synic_msr_read(struct vp *vp, uint32_t msr, uint64_t *value);
bool synic_msr_write(struct vp *vp, uint32_t msr, uint64_t value);
/* Delivers `message` to `sint` of `vp` (into the slot, or queued behind it) and raises
 * the SINT's interrupt or wakes the VP. A timer expiry replaces a waiting expiry of the
 * same timer. False if the queue is full (the message is dropped: the caller decides). */
bool synic_post(struct vp *vp, unsigned sint, const struct hv_message *message);

/* Hypercall handlers (hv/hypercall.c's table): a child's HvCallPostMessage and
 * HvCallSignalEvent routed to the root, and the root's private calls that reach a child
 * (hv/root_abi.h, docs/hypercalls.md). */
enum hv_status synic_call_post_message(struct hypercall_context *call);
enum hv_status synic_call_signal_event(struct hypercall_context *call);
enum hv_status synic_call_post_child_message(struct hypercall_context *call);
enum hv_status synic_call_signal_child_event(struct hypercall_context *call);
enum hv_status synic_call_get_child_events(struct hypercall_context *call);

#endif
