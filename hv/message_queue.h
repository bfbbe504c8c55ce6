/*
 * A bounded FIFO of SynIC messages behind one SINT's message slot (TLFS 11.10.3 "Message
 * Buffers": a message the slot cannot take waits in the hypervisor until the guest frees
 * the slot and writes EOM). Storage is the caller's; the queue never grows, so a
 * partition that floods another gets "full" (HV_STATUS_INSUFFICIENT_BUFFERS), never
 * unbounded hypervisor memory. Pure: no locking (the owner's lock), host-tested.
 */
#ifndef HVFW_HV_MESSAGE_QUEUE_H
#define HVFW_HV_MESSAGE_QUEUE_H

#include <stdbool.h>
#include <stdint.h>

#include "hv/intercept_abi.h" /* struct hv_message */

struct message_queue {
    struct hv_message *entries; /* `capacity` of them */
    uint32_t capacity;
    uint32_t head, count;
};

void message_queue_init(struct message_queue *q, struct hv_message *entries, uint32_t capacity);
/* Appends a copy of `m`; false if the queue is full. */
bool message_queue_push(struct message_queue *q, const struct hv_message *m);
/* The oldest message, or NULL when empty. */
const struct hv_message *message_queue_peek(const struct message_queue *q);
void message_queue_pop(struct message_queue *q);
/* Messages waiting whose header.sender, masked with `mask`, is `sender`: a per-sender quota
 * on a shared queue. */
uint32_t message_queue_count_sender(const struct message_queue *q, uint64_t sender,
                                   uint64_t mask);
/* Replaces the first waiting message of `type` whose payload starts with the 32-bit `key`
 * (a timer expiry: the timer index) by `m`; false if there is none. A periodic timer
 * whose messages are not taken keeps one waiting message, not one per period. */
bool message_queue_replace(struct message_queue *q, uint32_t type, uint32_t key,
                           const struct hv_message *m);

#endif
