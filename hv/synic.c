#include "hv/synic.h"

#include <stddef.h>
#include <string.h>

#include "hv/guest_memory.h"
#include "hv/message_queue.h"
#include "hv/partition.h"
#include "hv/partition_table.h"
#include "hv/root_abi.h"
#include "hv/root_partition.h"
#include "hv/sched.h"
#include "hv/stimer.h"
#include "hv/synic_page.h"
#include "hv/vlapic.h"
#include "kernel/log.h"
#include "kernel/page_alloc.h"
#include "kernel/spinlock.h"

#define SINT_COUNT SYNIC_SINT_COUNT
#define SYNIC_VERSION 1
#define PAGE_MASK (~0xFFFull)
#define FIRST_VALID_VECTOR 16 /* 0-15 are exceptions (TLFS 11.8.4: #GP for them) */
#define SINT_KNOWN (HV_SINT_VECTOR_MASK | HV_SINT_MASKED | HV_SINT_AUTO_EOI | HV_SINT_POLLING)
/* Root VP 0 takes every child's intercepts (SINT0) and messages (HVFW_ROOT_SINT_CHILD). */
#define ROOT_WORKER_QUEUE 255u
#define ALLOCATION_ORDER_MAX 6

static_assert(HVFW_CHILD_CONNECTION_LIMIT == HYPERV_CHILD_CONNECTIONS, "one connection space");
static_assert(HVFW_CHILD_CONNECTION_LIMIT <= HV_EVENT_FLAGS_COUNT, "a root flag per child");

struct synic {
    struct spinlock lock;
    bool child;      /* interrupts through the virtual LAPIC; SINT masks apply */
    uint32_t order;  /* of this allocation */
    uint64_t scontrol, siefp, simp, sint[SINT_COUNT];
    struct message_queue queues[SINT_COUNT];
    struct hv_message storage[];
};

/* ---- state ------------------------------------------------------------------------------ */

static uint32_t queue_capacity(const struct vp *vp, unsigned sint)
{
    bool worker = vp->partition->is_root && vp->index == 0;
    if (worker && (sint == HV_SINT_INTERCEPTS || sint == HVFW_ROOT_SINT_CHILD))
        return ROOT_WORKER_QUEUE;
    return HVFW_CHILD_SINT_QUEUE;
}

static struct synic *synic_create(struct vp *vp)
{
    uint32_t total = 0;
    for (unsigned i = 0; i < SINT_COUNT; i++)
        total += queue_capacity(vp, i);
    uint64_t bytes = sizeof(struct synic) + (uint64_t)total * sizeof(struct hv_message);
    uint32_t order = 0;
    while (((uint64_t)PAGE_SIZE << order) < bytes && order < ALLOCATION_ORDER_MAX)
        order++;
    if (((uint64_t)PAGE_SIZE << order) < bytes)
        return NULL;
    uint64_t pa = page_alloc_zeroed(order);
    if (!pa)
        return NULL;
    struct synic *s = (struct synic *)(uintptr_t)pa;
    s->order = order;
    s->child = !vp->partition->is_root;
    uint32_t used = 0;
    for (unsigned i = 0; i < SINT_COUNT; i++) {
        uint32_t capacity = queue_capacity(vp, i);
        message_queue_init(&s->queues[i], &s->storage[used], capacity);
        used += capacity;
        s->sint[i] = HV_SINT_MASKED; /* TLFS 11.8.4: the reset value */
    }
    return s;
}

bool synic_init_vp(struct vp *vp)
{
    struct synic *s = synic_create(vp);
    if (!s)
        return false;
    __atomic_store_n(&vp->synic, s, __ATOMIC_RELEASE);
    return true;
}

/* The VP's SynIC; a child's is made on first use (`create`), on the VP's own CPU. */
static struct synic *synic_get(struct vp *vp, bool create)
{
    struct synic *s = __atomic_load_n(&vp->synic, __ATOMIC_ACQUIRE);
    if (s || !create)
        return s;
    s = synic_create(vp);
    if (!s)
        return NULL;
    void *expected = NULL;
    if (!__atomic_compare_exchange_n(&vp->synic, &expected, s, false, __ATOMIC_ACQ_REL,
                                      __ATOMIC_ACQUIRE)) {
        page_free((uint64_t)(uintptr_t)s, s->order);
        return expected;
    }
    return s;
}

void synic_destroy_vp(struct vp *vp)
{
    struct synic *s = vp->synic;
    if (s)
        page_free((uint64_t)(uintptr_t)s, s->order);
    vp->synic = NULL;
}

/* ---- delivery ---------------------------------------------------------------------------- */

static bool access_read(void *context, uint64_t gpa, void *buffer, size_t length)
{
    return guest_memory_read(context, gpa, buffer, length);
}

static bool access_write(void *context, uint64_t gpa, const void *buffer, size_t length)
{
    return guest_memory_write(context, gpa, buffer, length);
}

static bool access_fetch_or32(void *context, uint64_t gpa, uint32_t bits, uint32_t *old)
{
    return guest_memory_fetch_or32(context, gpa, bits, old);
}

static bool access_store32(void *context, uint64_t gpa, uint32_t value)
{
    return guest_memory_store32(context, gpa, value);
}

static struct synic_page_access page_access(struct vp *vp)
{
    return (struct synic_page_access){vp->partition, access_read, access_write,
                                      access_fetch_or32, access_store32};
}

/* The vector a delivery on `sint` raises, or -1 (root VPs, SynIC off, masked, polling). */
static int due_vector(const struct synic *s, unsigned sint)
{
    if (!s->child || !(s->scontrol & HV_SCONTROL_ENABLE))
        return -1;
    uint64_t v = s->sint[sint];
    if (v & (HV_SINT_MASKED | HV_SINT_POLLING))
        return -1;
    return (int)(v & HV_SINT_VECTOR_MASK);
}

/* Moves the oldest waiting message of `sint` into its slot if the slot is free, else marks
 * the slot MessagePending. Twice at most: a slot the guest freed while we marked it is
 * tried again, a guest that keeps writing types into it gets no more. [s->lock] */
static bool flush(struct vp *vp, struct synic *s, unsigned sint)
{
    struct message_queue *q = &s->queues[sint];
    if (!(s->simp & HV_SIMP_ENABLE))
        return false; /* no page yet: the SIMP write delivers what waits */
    struct synic_page_access a = page_access(vp);
    uint64_t page = s->simp & PAGE_MASK;
    for (int attempt = 0; attempt < 2 && q->count; attempt++) {
        enum synic_slot_result r =
            synic_page_deliver(&a, page, sint, message_queue_peek(q), q->count > 1);
        if (r == SYNIC_SLOT_DELIVERED) {
            message_queue_pop(q);
            return true;
        }
        if (r == SYNIC_SLOT_UNREACHABLE || !synic_page_set_pending(&a, page, sint))
            return false;
    }
    return false;
}

/* After a delivery: the SINT's interrupt (a child), or a wake-up (the root polls). */
static void notify(struct vp *vp, int vector)
{
    if (vector >= 0)
        vlapic_raise_interrupt(vp, (uint8_t)vector);
    else if (vp->partition->is_root)
        sched_wake(vp);
}

static uint32_t timer_index(const struct hv_message *m)
{
    uint32_t index;
    memcpy(&index, m->payload, sizeof(index));
    return index;
}

/* Queues and flushes; `quota` > 0 limits the messages of one sender (masked) waiting. */
static enum hv_status post(struct vp *vp, struct synic *s, unsigned sint,
                           const struct hv_message *m, uint64_t sender_mask, uint32_t quota)
{
    uint64_t flags = spin_lock_irqsave(&s->lock);
    struct message_queue *q = &s->queues[sint];
    enum hv_status status = HV_STATUS_SUCCESS;
    if (quota && message_queue_count_sender(q, m->header.sender & sender_mask, sender_mask) >=
                     quota)
        status = HV_STATUS_INSUFFICIENT_BUFFERS;
    else if (!(m->header.message_type == HV_MESSAGE_TYPE_TIMER_EXPIRED &&
               message_queue_replace(q, HV_MESSAGE_TYPE_TIMER_EXPIRED, timer_index(m), m)) &&
             !message_queue_push(q, m))
        status = HV_STATUS_INSUFFICIENT_BUFFERS;
    bool delivered = flush(vp, s, sint);
    int vector = delivered ? due_vector(s, sint) : -1;
    spin_unlock_irqrestore(&s->lock, flags);
    if (delivered || !s->child)
        notify(vp, vector);
    return status;
}

bool synic_post(struct vp *vp, unsigned sint, const struct hv_message *message)
{
    struct synic *s = synic_get(vp, false);
    if (!s || sint >= SINT_COUNT)
        return false;
    return post(vp, s, sint, message, 0, 0) == HV_STATUS_SUCCESS;
}

/* EOM, or a new message page: every SINT's next waiting message. */
static void redeliver(struct vp *vp, struct synic *s)
{
    int vectors[SINT_COUNT];
    bool any = false;
    uint64_t flags = spin_lock_irqsave(&s->lock);
    for (unsigned sint = 0; sint < SINT_COUNT; sint++) {
        vectors[sint] = -2;
        if (flush(vp, s, sint)) {
            vectors[sint] = due_vector(s, sint);
            any = true;
        }
    }
    spin_unlock_irqrestore(&s->lock, flags);
    if (!any)
        return;
    if (s->child) {
        for (unsigned sint = 0; sint < SINT_COUNT; sint++)
            if (vectors[sint] >= 0)
                vlapic_raise_interrupt(vp, (uint8_t)vectors[sint]);
    } else {
        sched_wake(vp);
    }
}

/* Sets `flag` of `sint` in the VP's event flags page; the interrupt if it was clear. */
static enum hv_status signal(struct vp *vp, struct synic *s, unsigned sint, unsigned flag)
{
    uint64_t flags = spin_lock_irqsave(&s->lock);
    if (!(s->siefp & HV_SIEFP_ENABLE)) {
        spin_unlock_irqrestore(&s->lock, flags);
        return HV_STATUS_INVALID_SYNIC_STATE;
    }
    struct synic_page_access a = page_access(vp);
    bool was_clear = false;
    bool ok = synic_page_signal(&a, s->siefp & PAGE_MASK, sint, flag, &was_clear);
    int vector = ok && was_clear ? due_vector(s, sint) : -1;
    spin_unlock_irqrestore(&s->lock, flags);
    if (!ok)
        return HV_STATUS_INVALID_SYNIC_STATE; /* the page is no longer the VP's RAM */
    if (was_clear)
        notify(vp, vector);
    return HV_STATUS_SUCCESS;
}

/* ---- MSRs ------------------------------------------------------------------------------- */

bool synic_msr_read(struct vp *vp, uint32_t msr, uint64_t *value)
{
    bool ours = (msr >= HV_X64_MSR_SCONTROL && msr <= HV_X64_MSR_EOM) ||
                (msr >= HV_X64_MSR_SINT0 && msr < HV_X64_MSR_SINT0 + SINT_COUNT);
    struct synic *s = ours ? synic_get(vp, true) : NULL;
    if (!s)
        return false;
    if (msr >= HV_X64_MSR_SINT0) {
        *value = s->sint[msr - HV_X64_MSR_SINT0];
        return true;
    }
    switch (msr) {
    case HV_X64_MSR_SCONTROL:
        *value = s->scontrol;
        return true;
    case HV_X64_MSR_SVERSION:
        *value = SYNIC_VERSION;
        return true;
    case HV_X64_MSR_SIEFP:
        *value = s->siefp;
        return true;
    case HV_X64_MSR_SIMP:
        *value = s->simp;
        return true;
    default: /* EOM is write-only: reads 0 */
        *value = 0;
        return true;
    }
}

/* A SIMP or SIEFP value: the page must be the VP's own writable RAM, checked as the
 * hypervisor will use it, through the partition's translation; reserved bits 11:1 #GP. */
static bool page_msr_valid(struct vp *vp, uint64_t value)
{
    if (value & 0xFFEull)
        return false;
    return !(value & 1) ||
           guest_memory_accessible(vp->partition, value & PAGE_MASK, PAGE_SIZE, true);
}

static bool write_sint(struct vp *vp, struct synic *s, unsigned sint, uint64_t value)
{
    /* Reserved bits, an exception vector that could fire, and auto-EOI, which hvfw does
     * not implement (CPUID 0x40000004 EAX bit 9 tells guests not to use it; a guest that
     * did would never EOI and block lower vectors), are refused. */
    if ((value & ~SINT_KNOWN) || (value & HV_SINT_AUTO_EOI) ||
        (!(value & HV_SINT_MASKED) && (value & HV_SINT_VECTOR_MASK) < FIRST_VALID_VECTOR)) {
        log_debug("partition %lu VP %u: SINT%u value %lx refused: #GP", vp->partition->id,
                  vp->index, sint, value);
        return false;
    }
    uint64_t flags = spin_lock_irqsave(&s->lock);
    s->sint[sint] = value;
    spin_unlock_irqrestore(&s->lock, flags);
    return true;
}

bool synic_msr_write(struct vp *vp, uint32_t msr, uint64_t value)
{
    bool ours = (msr >= HV_X64_MSR_SCONTROL && msr <= HV_X64_MSR_EOM) ||
                (msr >= HV_X64_MSR_SINT0 && msr < HV_X64_MSR_SINT0 + SINT_COUNT);
    struct synic *s = ours ? synic_get(vp, true) : NULL;
    if (!s)
        return false;
    if (msr >= HV_X64_MSR_SINT0)
        return write_sint(vp, s, msr - HV_X64_MSR_SINT0, value);
    uint64_t flags;
    switch (msr) {
    case HV_X64_MSR_SCONTROL:
        if (value & ~HV_SCONTROL_ENABLE)
            return false;
        flags = spin_lock_irqsave(&s->lock);
        s->scontrol = value;
        spin_unlock_irqrestore(&s->lock, flags);
        return true;
    case HV_X64_MSR_SIEFP:
        if (!page_msr_valid(vp, value))
            return false;
        flags = spin_lock_irqsave(&s->lock);
        s->siefp = value;
        spin_unlock_irqrestore(&s->lock, flags);
        return true;
    case HV_X64_MSR_SIMP:
        if (!page_msr_valid(vp, value))
            return false;
        flags = spin_lock_irqsave(&s->lock);
        s->simp = value;
        spin_unlock_irqrestore(&s->lock, flags);
        redeliver(vp, s); /* anything queued before the page existed */
        return true;
    case HV_X64_MSR_EOM:
        redeliver(vp, s);
        return true;
    default: /* SVERSION is read-only */
        return false;
    }
}

/* ---- messages and events between children and the root (hv/root_abi.h) ------------------ */

static bool connection_valid(uint32_t connection_id)
{
    return connection_id != 0 && connection_id < HVFW_CHILD_CONNECTION_LIMIT;
}

enum hv_status synic_call_post_message(struct hypercall_context *call)
{
    struct hv_input_post_message in;
    memcpy(&in, call->input, sizeof(in));
    struct partition *p = call->caller->partition;
    enum hv_status status = hv_input_post_message_validate(&in);
    if (status == HV_STATUS_SUCCESS && (p->is_root || !connection_valid(in.connection_id)))
        status = HV_STATUS_INVALID_CONNECTION_ID; /* the root has no connections to post to */
    struct vp *worker = root_partition_vp(0);
    struct synic *s = worker ? synic_get(worker, false) : NULL;
    if (status == HV_STATUS_SUCCESS && !s)
        status = HV_STATUS_INVALID_CONNECTION_ID; /* nobody listens yet */
    if (status != HV_STATUS_SUCCESS) {
        log_debug("partition %lu VP %u: HvCallPostMessage to connection %x type %x size %u: %s",
                  p->id, call->caller->index, in.connection_id, in.message_type,
                  in.payload_size, hv_status_name(status));
        return status;
    }
    struct hv_message m;
    memset(&m, 0, sizeof(m));
    m.header.message_type = in.message_type;
    m.header.payload_size = (uint8_t)in.payload_size;
    m.header.sender = HVFW_MESSAGE_SENDER(p->id, in.connection_id);
    memcpy(m.payload, in.payload, in.payload_size);
    return post(worker, s, HVFW_ROOT_SINT_CHILD, &m, ~0xFFFFFFFFull, HVFW_CHILD_MESSAGE_QUOTA);
}

enum hv_status synic_call_signal_event(struct hypercall_context *call)
{
    struct hv_input_signal_event in;
    memcpy(&in, call->input, sizeof(in));
    struct partition *p = call->caller->partition;
    enum hv_status status = hv_input_signal_event_validate(&in);
    if (status == HV_STATUS_SUCCESS && (p->is_root || !connection_valid(in.connection_id)))
        status = HV_STATUS_INVALID_CONNECTION_ID;
    /* Each connection is one flag: the TLFS's flag number is relative to the port's first
     * flag, so only 0 names it. */
    if (status == HV_STATUS_SUCCESS && (in.flag_number != 0 || in.reserved != 0))
        status = HV_STATUS_INVALID_PARAMETER;
    if (status != HV_STATUS_SUCCESS) {
        log_debug("partition %lu VP %u: HvCallSignalEvent connection %x flag %u: %s", p->id,
                  call->caller->index, in.connection_id, in.flag_number,
                  hv_status_name(status));
        return status;
    }
    struct hyperv_partition *h = &p->hyperv;
    __atomic_fetch_or(&h->signalled_connections[in.connection_id / 64],
                      1ull << (in.connection_id % 64), __ATOMIC_SEQ_CST);
    /* One notification until the root takes the set (synic_call_get_child_events). */
    if (__atomic_exchange_n(&h->connections_notified, true, __ATOMIC_SEQ_CST))
        return HV_STATUS_SUCCESS;
    struct vp *worker = root_partition_vp(0);
    struct synic *s = worker ? synic_get(worker, false) : NULL;
    if (!s)
        return HV_STATUS_SUCCESS; /* the root reads every child's set when it starts to listen */
    if (signal(worker, s, HVFW_ROOT_SINT_CHILD, (unsigned)(p->id % HV_EVENT_FLAGS_COUNT)) !=
        HV_STATUS_SUCCESS)
        sched_wake(worker); /* no event page: the root polls */
    return HV_STATUS_SUCCESS;
}

/* The child VP a root call names, with a partition table reference (put it back). */
static enum hv_status find_child_vp(uint64_t partition_id, uint32_t vp_index,
                                    struct partition_table_entry **entry, struct vp **vp)
{
    enum hv_status status = partition_table_get_child(partition_id, entry);
    if (status != HV_STATUS_SUCCESS)
        return status;
    struct partition *p = (*entry)->partition;
    if (vp_index >= __atomic_load_n(&p->vp_count, __ATOMIC_ACQUIRE)) {
        partition_table_put(*entry);
        return HV_STATUS_INVALID_VP_INDEX;
    }
    *vp = p->vps[vp_index];
    return HV_STATUS_SUCCESS;
}

enum hv_status synic_call_post_child_message(struct hypercall_context *call)
{
    struct hvfw_input_post_child_message in;
    memcpy(&in, call->input, sizeof(in));
    if (in.sint >= SINT_COUNT || in.payload_size > HV_MESSAGE_PAYLOAD_SIZE ||
        in.message_type == HV_MESSAGE_TYPE_NONE ||
        (in.message_type & HV_MESSAGE_TYPE_HYPERVISOR_MASK))
        return HV_STATUS_INVALID_PARAMETER;
    struct partition_table_entry *entry;
    struct vp *vp;
    enum hv_status status = find_child_vp(in.partition_id, in.vp_index, &entry, &vp);
    if (status != HV_STATUS_SUCCESS)
        return status;
    struct synic *s = synic_get(vp, false);
    if (!s || !(__atomic_load_n(&s->simp, __ATOMIC_ACQUIRE) & HV_SIMP_ENABLE)) {
        status = HV_STATUS_INVALID_SYNIC_STATE;
    } else {
        struct hv_message m;
        memset(&m, 0, sizeof(m));
        m.header.message_type = in.message_type;
        m.header.payload_size = (uint8_t)in.payload_size;
        m.header.sender = call->caller->partition->id;
        memcpy(m.payload, in.payload, in.payload_size);
        status = post(vp, s, in.sint, &m, 0, 0);
    }
    partition_table_put(entry);
    return status;
}

enum hv_status synic_call_signal_child_event(struct hypercall_context *call)
{
    struct hvfw_input_signal_child_event in;
    memcpy(&in, call->input, sizeof(in));
    if (in.sint >= SINT_COUNT || in.flag_number >= HV_EVENT_FLAGS_COUNT || in.reserved)
        return HV_STATUS_INVALID_PARAMETER;
    struct partition_table_entry *entry;
    struct vp *vp;
    enum hv_status status = find_child_vp(in.partition_id, in.vp_index, &entry, &vp);
    if (status != HV_STATUS_SUCCESS)
        return status;
    struct synic *s = synic_get(vp, false);
    status = s ? signal(vp, s, in.sint, in.flag_number) : HV_STATUS_INVALID_SYNIC_STATE;
    partition_table_put(entry);
    return status;
}

enum hv_status synic_call_get_child_events(struct hypercall_context *call)
{
    uint64_t partition_id;
    memcpy(&partition_id, call->input, sizeof(partition_id));
    struct partition_table_entry *entry;
    enum hv_status status = partition_table_get_child(partition_id, &entry);
    if (status != HV_STATUS_SUCCESS)
        return status;
    struct hyperv_partition *h = &entry->partition->hyperv;
    /* Re-arm the notification first: a signal after this sets a bit and notifies again,
     * one before it is in the set taken below. */
    __atomic_store_n(&h->connections_notified, false, __ATOMIC_SEQ_CST);
    struct hvfw_output_get_child_events out;
    for (unsigned i = 0; i < HVFW_CHILD_CONNECTION_LIMIT / 64; i++)
        out.connections[i] = __atomic_exchange_n(&h->signalled_connections[i], 0,
                                                 __ATOMIC_SEQ_CST);
    memcpy(call->output, &out, sizeof(out));
    partition_table_put(entry);
    return HV_STATUS_SUCCESS;
}
