#include "root/child_messages.h"

#include <stdint.h>
#include <string.h>

#include "hv/intercept_abi.h"
#include "hv/root_abi.h"
#include "hv/synic.h"
#include "kernel/x86.h"
#include "root/hvcall.h"
#include "root/log.h"
#include "root/memory.h"
#include "root/vmbus_server.h"

#define PAGE_BYTES 4096u
#define FLAG_WORDS (HVFW_CHILD_CONNECTION_LIMIT / 64)

static volatile uint64_t *event_flags; /* SINT HVFW_ROOT_SINT_CHILD's flags in the SIEFP page */
static uintptr_t slot_address;         /* its slot in the worker's message page, once set */

static void enable_event_flags(void)
{
    uint64_t page = root_memory_alloc(PAGE_BYTES, PAGE_BYTES);
    if (!page)
        root_stop("child messages: no memory for the SynIC event flags page");
    memset((void *)(uintptr_t)page, 0, PAGE_BYTES);
    wrmsr(HV_X64_MSR_SIEFP, page | HV_SIEFP_ENABLE);
    event_flags = (volatile uint64_t *)(uintptr_t)(page + HVFW_ROOT_SINT_CHILD * 256u);
}

static void echo_message(uint64_t partition_id, const struct hv_message *m)
{
    uint16_t status = hvcall_post_child_message(partition_id, 0, HVFW_ECHO_SINT,
                                                m->header.message_type, m->payload,
                                                m->header.payload_size);
    root_debug("child messages: echo to partition %lu: status %#x", partition_id, status);
}

/* Copies the slot out, frees it (the type last cleared, TLFS 11.10.3) and EOMs if more
 * waits. */
static bool take_message(void)
{
    if (!slot_address) {
        /* The worker sets the page once (root/worker.c); an RDMSR is an exit: read it
         * until it is there, then never again. */
        uint64_t simp = rdmsr(HV_X64_MSR_SIMP);
        if (!(simp & HV_SIMP_ENABLE))
            return false;
        slot_address = (uintptr_t)(simp & ~0xFFFull) +
                       HVFW_ROOT_SINT_CHILD * sizeof(struct hv_message);
    }
    volatile struct hv_message *slot = (volatile struct hv_message *)slot_address;
    if (slot->header.message_type == HV_MESSAGE_TYPE_NONE)
        return false;
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
    struct hv_message m;
    const volatile uint64_t *source = (const volatile uint64_t *)slot_address;
    for (size_t i = 0; i < sizeof(m) / sizeof(uint64_t); i++) {
        uint64_t qword = source[i];
        memcpy((uint8_t *)&m + i * sizeof(qword), &qword, sizeof(qword));
    }
    __atomic_store_n(&slot->header.message_type, HV_MESSAGE_TYPE_NONE, __ATOMIC_SEQ_CST);
    if ((m.header.message_flags | slot->header.message_flags) & HV_MESSAGE_FLAG_PENDING) {
        slot->header.message_flags = 0;
        wrmsr(HV_X64_MSR_EOM, 0);
    }
    uint64_t partition_id = HVFW_MESSAGE_SENDER_PARTITION(m.header.sender);
    uint32_t connection = HVFW_MESSAGE_SENDER_CONNECTION(m.header.sender);
    uint32_t size = m.header.payload_size <= sizeof(m.payload) ? m.header.payload_size : 0;
    root_debug("child messages: partition %lu connection %u: message type %#x, %u bytes",
               partition_id, connection, m.header.message_type, size);
    m.header.payload_size = (uint8_t)size;
    if (connection == HVFW_CHILD_CONNECTION_ECHO)
        echo_message(partition_id, &m);
    else
        vmbus_server_message(partition_id, connection, m.header.message_type, m.payload, size);
    return true;
}

/* The connections one child signalled since the root last looked. */
static void take_events(uint64_t partition_id)
{
    uint64_t connections[FLAG_WORDS];
    uint16_t status = hvcall_get_child_events(partition_id, connections);
    if (status != HV_STATUS_SUCCESS) {
        root_debug("child messages: events of partition %lu: status %#x", partition_id, status);
        return;
    }
    for (uint32_t word = 0; word < FLAG_WORDS; word++) {
        for (uint64_t bits = connections[word]; bits; bits &= bits - 1) {
            uint32_t connection = word * 64 + (uint32_t)__builtin_ctzll(bits);
            root_debug("child messages: partition %lu signalled connection %u", partition_id,
                       connection);
            if (connection == HVFW_CHILD_CONNECTION_ECHO) {
                status = hvcall_signal_child_event(partition_id, 0, HVFW_ECHO_SINT,
                                                   HVFW_CHILD_CONNECTION_ECHO);
                root_debug("child messages: echo signal to partition %lu: status %#x",
                           partition_id, status);
            } else {
                vmbus_server_signal(partition_id, connection);
            }
        }
    }
}

/* Flag n: a child whose partition id is n modulo 2048 has signalled (hv/root_abi.h).
 * Partition ids below 2048 are asked directly. */
static bool take_notifications(void)
{
    bool any = false;
    for (uint32_t word = 0; word < FLAG_WORDS; word++) {
        if (!event_flags[word])
            continue;
        uint64_t bits = __atomic_exchange_n(&event_flags[word], 0, __ATOMIC_SEQ_CST);
        for (; bits; bits &= bits - 1) {
            take_events(word * 64 + (uint64_t)__builtin_ctzll(bits));
            any = true;
        }
    }
    return any;
}

bool child_messages_poll(void)
{
    if (!event_flags)
        enable_event_flags();
    bool message = take_message();
    return take_notifications() || message;
}
