#include "images/guests/lib/vmbus_client.h"

#include <string.h>

#include "images/guests/lib/hypercall.h"

#define MSR_GUEST_OS_ID 0x40000000u
#define MSR_HYPERCALL 0x40000001u
#define MSR_TIME_REF_COUNT 0x40000020u
#define MSR_SCONTROL 0x40000080u
#define MSR_SIEFP 0x40000082u
#define MSR_SIMP 0x40000083u
#define MSR_EOM 0x40000084u
#define MSR_SINT0 0x40000090u

/* TLFS 3.13: an open-source OS id (bit 63), Linux's OS type 0x100 in bits 48-55. */
#define GUEST_OS_ID_VALUE 0x8100000000060100ull
#define SINT_VECTOR 0xF3u        /* Linux's HYPERVISOR_CALLBACK_VECTOR */
#define SINT_POLLING (1ull << 18) /* TLFS 11.8.4: delivered, no interrupt */
#define MESSAGE_PENDING 1u

#define HVCALL_POST_MESSAGE 0x005Cu
#define HVCALL_SIGNAL_EVENT 0x005Du
#define HYPERCALL_FAST (1u << 16)

/* struct hv_message (TLFS 11.10.3): a 16-byte header, then the payload. */
struct hv_message_slot {
    volatile uint32_t message_type;
    volatile uint8_t payload_size;
    volatile uint8_t message_flags;
    uint16_t reserved;
    uint64_t sender;
    uint8_t payload[VMBUS_CLIENT_PAYLOAD_MAX];
} __attribute__((packed));

/* HV_INPUT_POST_MESSAGE (TLFS 11.8.2). */
struct post_message_input {
    uint32_t connection_id;
    uint32_t reserved;
    uint32_t message_type;
    uint32_t payload_size;
    uint8_t payload[VMBUS_CLIENT_PAYLOAD_MAX];
} __attribute__((packed));

static uint64_t rdmsr(uint32_t msr)
{
    uint32_t low, high;
    __asm__ volatile("rdmsr" : "=a"(low), "=d"(high) : "c"(msr));
    return ((uint64_t)high << 32) | low;
}

static void wrmsr(uint32_t msr, uint64_t value)
{
    __asm__ volatile("wrmsr"
                     :
                     : "c"(msr), "a"((uint32_t)value), "d"((uint32_t)(value >> 32))
                     : "memory");
}

static uint16_t hypercall(uint64_t control, uint64_t input, uint64_t output)
{
    return (uint16_t)hypercall_through_page(control, input, output);
}

uint64_t vmbus_client_now(void)
{
    return rdmsr(MSR_TIME_REF_COUNT);
}

void vmbus_client_init(struct vmbus_client *client, uint8_t *hypercall_page,
                       uint8_t *message_page, uint8_t *event_page, uint8_t *input_page)
{
    client->hypercall_page = hypercall_page;
    client->message_page = message_page;
    client->event_page = event_page;
    client->input_page = input_page;
    memset(message_page, 0, VMBUS_CLIENT_PAGE_SIZE);
    memset(event_page, 0, VMBUS_CLIENT_PAGE_SIZE);
    wrmsr(MSR_GUEST_OS_ID, GUEST_OS_ID_VALUE);
    wrmsr(MSR_HYPERCALL, (uint32_t)(uintptr_t)hypercall_page | 1u);
    hypercall_page_set(hypercall_page);
    wrmsr(MSR_SIMP, (uint32_t)(uintptr_t)message_page | 1u);
    wrmsr(MSR_SIEFP, (uint32_t)(uintptr_t)event_page | 1u);
    wrmsr(MSR_SINT0 + VMBUS_CLIENT_SINT, SINT_POLLING | SINT_VECTOR);
    wrmsr(MSR_SCONTROL, 1);
}

uint16_t vmbus_client_post_once(struct vmbus_client *client, uint32_t connection,
                                uint32_t message_type, const void *payload, uint32_t size)
{
    struct post_message_input *in = (struct post_message_input *)client->input_page;
    memset(in, 0, sizeof(*in));
    in->connection_id = connection;
    in->message_type = message_type;
    in->payload_size = size;
    memcpy(in->payload, payload, size < VMBUS_CLIENT_PAYLOAD_MAX ? size
                                                                 : VMBUS_CLIENT_PAYLOAD_MAX);
    return hypercall(HVCALL_POST_MESSAGE, (uint32_t)(uintptr_t)in, 0);
}

uint16_t vmbus_client_post(struct vmbus_client *client, uint32_t connection,
                           uint32_t message_type, const void *payload, uint32_t size)
{
    uint64_t give_up = vmbus_client_now() + 10000 * VMBUS_CLIENT_UNITS_PER_MS;
    for (;;) {
        uint16_t status = vmbus_client_post_once(client, connection, message_type, payload,
                                                 size);
        if (status != VMBUS_CLIENT_STATUS_INSUFFICIENT_BUFFERS || vmbus_client_now() > give_up)
            return status;
        __asm__ volatile("pause");
    }
}

uint16_t vmbus_client_send(struct vmbus_client *client, const void *message, uint32_t size)
{
    return vmbus_client_post(client, VMBUS_CLIENT_CONNECTION_ID, VMBUS_CLIENT_MESSAGE_TYPE,
                             message, size);
}

bool vmbus_client_receive(struct vmbus_client *client, struct vmbus_client_message *out,
                          uint32_t timeout_ms)
{
    struct hv_message_slot *slot =
        (struct hv_message_slot *)(client->message_page + VMBUS_CLIENT_SINT * 256);
    uint64_t give_up = vmbus_client_now() + timeout_ms * VMBUS_CLIENT_UNITS_PER_MS;
    while (slot->message_type == 0) {
        if (vmbus_client_now() > give_up)
            return false;
        __asm__ volatile("pause");
    }
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    memset(out, 0, sizeof(*out));
    out->type = slot->message_type;
    out->size = slot->payload_size <= VMBUS_CLIENT_PAYLOAD_MAX ? slot->payload_size
                                                               : VMBUS_CLIENT_PAYLOAD_MAX;
    memcpy(out->u.bytes, slot->payload, out->size);
    /* TLFS 11.10.3: clear the type, then EOM if the hypervisor has more waiting. */
    __atomic_store_n(&slot->message_type, 0, __ATOMIC_SEQ_CST);
    if (slot->message_flags & MESSAGE_PENDING) {
        slot->message_flags = 0;
        wrmsr(MSR_EOM, 0);
    }
    return true;
}

uint16_t vmbus_client_signal(struct vmbus_client *client, uint32_t connection)
{
    (void)client;
    /* Fast: the 8-byte input (connection id, flag number 0) in EBX:ECX. */
    return hypercall(HVCALL_SIGNAL_EVENT | HYPERCALL_FAST, connection, 0);
}

bool vmbus_client_event_take(struct vmbus_client *client, uint32_t flag)
{
    volatile uint32_t *flags =
        (volatile uint32_t *)(client->event_page + VMBUS_CLIENT_SINT * 256);
    uint32_t bit = 1u << (flag % 32);
    uint32_t old = __atomic_fetch_and(&flags[flag / 32], ~bit, __ATOMIC_SEQ_CST);
    return old & bit;
}

/* ---- rings --------------------------------------------------------------------------- */

void vmbus_client_ring_attach(struct vmbus_client_ring *ring, void *pages, uint32_t page_count)
{
    ring->control = pages;
    ring->data = (uint8_t *)pages + VMBUS_CLIENT_PAGE_SIZE;
    ring->data_size = (page_count - 1) * VMBUS_CLIENT_PAGE_SIZE;
}

uint32_t vmbus_client_ring_free(const struct vmbus_client_ring *ring)
{
    uint32_t write = ring->control->write_index, read = ring->control->read_index;
    uint32_t used = write >= read ? write - read : ring->data_size - read + write;
    return ring->data_size - used;
}

static uint32_t ring_copy_in(struct vmbus_client_ring *ring, uint32_t at, const void *bytes,
                             uint32_t length)
{
    const uint8_t *from = bytes;
    for (uint32_t i = 0; i < length; i++) {
        ring->data[at] = from[i];
        at = at + 1 == ring->data_size ? 0 : at + 1;
    }
    return at;
}

static uint32_t ring_copy_out(const struct vmbus_client_ring *ring, uint32_t at, void *bytes,
                              uint32_t length)
{
    uint8_t *to = bytes;
    for (uint32_t i = 0; i < length; i++) {
        if (to)
            to[i] = ring->data[at];
        at = at + 1 == ring->data_size ? 0 : at + 1;
    }
    return at;
}

uint32_t vmbus_client_ring_put(struct vmbus_client_ring *ring, uint32_t at, const void *bytes,
                               uint32_t length)
{
    /* The trailer: the packet's start in the upper half (Linux prev_indices). */
    uint64_t trailer = (uint64_t)at << 32;
    at = ring_copy_in(ring, at, bytes, length);
    return ring_copy_in(ring, at, &trailer, sizeof(trailer));
}

void vmbus_client_ring_publish(struct vmbus_client_ring *ring, uint32_t write_index)
{
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    ring->control->write_index = write_index;
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
}

bool vmbus_client_ring_send(struct vmbus_client_ring *ring, uint16_t type, uint16_t flags,
                            uint64_t trans_id, const void *payload, uint32_t length)
{
    uint8_t packet[512];
    uint32_t total = (sizeof(struct vmpacket_descriptor) + length + 7) & ~7u;
    if (total > sizeof(packet) || vmbus_client_ring_free(ring) <= total + 8)
        return false;
    struct vmpacket_descriptor d = {
        .type = type,
        .offset8 = sizeof(d) / 8,
        .len8 = (uint16_t)(total / 8),
        .flags = flags,
        .trans_id = trans_id,
    };
    memset(packet, 0, total);
    memcpy(packet, &d, sizeof(d));
    memcpy(packet + sizeof(d), payload, length);
    vmbus_client_ring_publish(ring, vmbus_client_ring_put(ring, ring->control->write_index,
                                                          packet, total));
    return true;
}

bool vmbus_client_ring_receive(struct vmbus_client_ring *ring,
                               struct vmpacket_descriptor *descriptor, void *payload,
                               uint32_t capacity, uint32_t *length, const char **why)
{
    uint32_t read = ring->control->read_index, write = ring->control->write_index;
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    *length = 0;
    if (read == write)
        return false;
    if (write >= ring->data_size || write % 8) {
        *why = "host's write index is invalid";
        return false;
    }
    uint32_t available = write > read ? write - read : ring->data_size - read + write;
    uint32_t at = ring_copy_out(ring, read, descriptor, sizeof(*descriptor));
    uint32_t total = descriptor->len8 * 8u, offset = descriptor->offset8 * 8u;
    if (offset < sizeof(*descriptor) || offset > total ||
        total + VMBUS_CLIENT_PACKET_TRAILER > available) {
        *why = "host's packet descriptor does not fit";
        return false;
    }
    at = ring_copy_out(ring, at, NULL, offset - sizeof(*descriptor));
    uint32_t body = total - offset;
    uint32_t copy = body < capacity ? body : capacity;
    at = ring_copy_out(ring, at, payload, copy);
    at = ring_copy_out(ring, at, NULL, body - copy + VMBUS_CLIENT_PACKET_TRAILER);
    *length = body;
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    ring->control->read_index = at;
    return true;
}
