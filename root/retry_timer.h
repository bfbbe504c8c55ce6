/*
 * A one-shot wake-up of the worker loop for work that waits on a child and that nothing
 * else would resume: host messages kept in a VMBus connection's outbox because the
 * child's message queue was full (vmbus/connection.h). The child's EOM frees room in its
 * queue but tells the root nothing (TLFS 11.10.3: the hypervisor moves its own queued
 * message into the slot; the sender is not notified), so without this the root halts with
 * the answers kept until another event wakes it (the firmware heartbeat: 60 s).
 *
 * STIMER3 of the worker's VP (root VP 0) in message mode into SINT6 (SINT0 intercepts,
 * SINT1 the firmware heartbeat, SINT2 the children's messages, SINT4 the network's timer:
 * root/heartbeat.h, hv/root_abi.h, root/network.h). The delay backs off while the waiting
 * work makes no progress, so a child that never takes its messages costs a few wake-ups a
 * second, not a busy root.
 */
#ifndef HVFW_ROOT_RETRY_TIMER_H
#define HVFW_ROOT_RETRY_TIMER_H

#include <stdbool.h>
#include <stdint.h>

#define RETRY_TIMER_STIMER 3u
#define RETRY_TIMER_SINT 6u
#define RETRY_FIRST_MS 1u
#define RETRY_MAX_MS 64u

/* How long to wait before the next retry (pure): RETRY_FIRST_MS after progress (or for
 * the first wait), else twice the last delay, at most RETRY_MAX_MS. `*delay_ms` is the
 * caller's state, 0 at first. */
uint32_t retry_delay_next(uint32_t *delay_ms, bool progressed);

/* Arms the one-shot `ms` from now unless it is armed already. */
void retry_timer_arm(uint32_t ms);
bool retry_timer_armed(void);
/* Takes an expiry waiting in SINT6's slot (disarmed then); true if there was one. */
bool retry_timer_take(void);

#endif
