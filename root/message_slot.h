/*
 * Freeing a SynIC message slot the root has read (TLFS v6.0b 11.10.3 "Message Buffers"):
 * the hypervisor writes a slot only while its type is HvMessageTypeNone and otherwise
 * queues the message and sets MessagePending in the slot; the reader clears the type and,
 * if a message was pending, writes the EOM MSR so the next one is delivered. For the
 * root's timer slots (root/heartbeat.c, root/network.c, root/timer_selftest.c,
 * root/retry_timer.c).
 */
#ifndef HVFW_ROOT_MESSAGE_SLOT_H
#define HVFW_ROOT_MESSAGE_SLOT_H

#include <stdint.h>

#include "hv/intercept_abi.h"
#include "kernel/x86.h"

/* Frees `slot` once its contents are read: flags, then the type (release: the reads of
 * the message come first), then EOM if another message waits. */
static inline void message_slot_free(volatile struct hv_message *slot)
{
    uint8_t flags = slot->header.message_flags;
    slot->header.message_flags = 0;
    __atomic_store_n(&slot->header.message_type, HV_MESSAGE_TYPE_NONE, __ATOMIC_RELEASE);
    if (flags & HV_MESSAGE_FLAG_PENDING)
        wrmsr(HV_X64_MSR_EOM, 0);
}

#endif
