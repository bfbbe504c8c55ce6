/*
 * Child partitions' exits the hypervisor does not handle itself, forwarded to the root
 * partition as SynIC intercept messages (hv/intercept_abi.h). The VP stays suspended
 * (InterceptSuspend) until the root completes the intercept with HvCallSetVpRegisters.
 */
#ifndef HVFW_HV_INTERCEPT_H
#define HVFW_HV_INTERCEPT_H

#include "hv/exit.h"

struct partition;
struct vp;

/* A new child partition whose exits and stop go to the root partition. */
struct partition *child_partition_create(const char *name);
/* The intercept handler of every child partition (partition_create's `intercept`). */
enum exit_action intercept_child_exit(struct vp *vp, struct hv_exit *exit);
/* The on-stop handler of every child partition: tells the root (an unrecoverable-exception
 * message; payload after the intercept header: uint32_t 0 = triple fault, 1 = other). */
void intercept_child_stopped(struct partition *p, const char *reason);

#endif
