#include "hv/synic.h"

#include <stddef.h>
#include <string.h>

#include "hv/guest_memory.h"
#include "hv/partition.h"
#include "hv/sched.h"
#include "kernel/page_alloc.h"
#include "kernel/spinlock.h"

#define SINT_COUNT 16
#define QUEUE_ORDER 4 /* 64 KiB: 255 queued messages behind the slot */
#define QUEUE_CAPACITY (((PAGE_SIZE << QUEUE_ORDER) - sizeof(struct synic)) / sizeof(struct hv_message))
#define SYNIC_VERSION 1

struct synic {
    struct spinlock lock;
    uint64_t scontrol, siefp, simp, sint[SINT_COUNT];
    /* Other SINTs (timers) keep one message behind a busy slot; a newer one replaces it. */
    bool has_waiting[SINT_COUNT];
    struct hv_message waiting[SINT_COUNT];
    uint32_t head, count; /* the queue for SINT0, the intercept SINT */
    struct hv_message queue[];
};


bool synic_init_vp(struct vp *vp)
{
    uint64_t pa = page_alloc_zeroed(QUEUE_ORDER);
    if (!pa)
        return false;
    vp->synic = (void *)(uintptr_t)pa;
    return true;
}

void synic_destroy_vp(struct vp *vp)
{
    if (vp->synic)
        page_free((uint64_t)(uintptr_t)vp->synic, QUEUE_ORDER);
    vp->synic = NULL;
}

static uint64_t slot_gpa(const struct synic *s, unsigned sint)
{
    return (s->simp & ~0xFFFull) + (uint64_t)sint * sizeof(struct hv_message);
}

/* Writes `message` into the slot if it is free; the type goes last, so the VP never sees
 * a message whose type is set before its payload. [s->lock] */
static bool try_deliver(struct vp *vp, struct synic *s, unsigned sint,
                        const struct hv_message *message)
{
    if (!(s->simp & HV_SIMP_ENABLE))
        return false;
    uint64_t gpa = slot_gpa(s, sint);
    uint32_t type;
    if (!guest_memory_read(vp->partition, gpa, &type, sizeof(type)) ||
        type != HV_MESSAGE_TYPE_NONE)
        return false;
    struct hv_message copy = *message;
    uint32_t real_type = copy.header.message_type;
    copy.header.message_type = HV_MESSAGE_TYPE_NONE;
    if (!guest_memory_write(vp->partition, gpa, &copy, sizeof(copy)))
        return false;
    __atomic_thread_fence(__ATOMIC_RELEASE);
    return guest_memory_write(vp->partition, gpa, &real_type, sizeof(real_type));
}

/* Marks the occupied slot "message pending", so the VP writes EOM after emptying it. */
static void set_pending_flag(struct vp *vp, struct synic *s, unsigned sint)
{
    if (!(s->simp & HV_SIMP_ENABLE))
        return; /* no page yet: SIMP's write delivers what waits */
    uint8_t flags = HV_MESSAGE_FLAG_PENDING;
    guest_memory_write(vp->partition,
                       slot_gpa(s, sint) + offsetof(struct hv_message_header, message_flags),
                       &flags, sizeof(flags));
}

bool synic_post(struct vp *vp, unsigned sint, const struct hv_message *message)
{
    struct synic *s = vp->synic;
    if (!s || sint >= SINT_COUNT)
        return false;
    uint64_t flags = spin_lock_irqsave(&s->lock);
    bool ok = true;
    if (sint != HV_SINT_INTERCEPTS) {
        if (!try_deliver(vp, s, sint, message)) {
            s->waiting[sint] = *message;
            s->has_waiting[sint] = true;
            set_pending_flag(vp, s, sint);
        }
    } else if (s->count == 0 && try_deliver(vp, s, sint, message)) {
        /* delivered */
    } else if (s->count < QUEUE_CAPACITY) {
        s->queue[(s->head + s->count) % QUEUE_CAPACITY] = *message;
        s->count++;
        set_pending_flag(vp, s, sint);
    } else {
        ok = false;
    }
    spin_unlock_irqrestore(&s->lock, flags);
    sched_wake(vp);
    return ok;
}

/* EOM: the VP emptied a slot; deliver what waits behind it. */
static void end_of_message(struct vp *vp, struct synic *s)
{
    uint64_t flags = spin_lock_irqsave(&s->lock);
    bool delivered = false;
    while (s->count && try_deliver(vp, s, HV_SINT_INTERCEPTS, &s->queue[s->head])) {
        s->head = (s->head + 1) % QUEUE_CAPACITY;
        s->count--;
        delivered = true;
        break; /* one slot: the rest waits for the next EOM */
    }
    if (s->count)
        set_pending_flag(vp, s, HV_SINT_INTERCEPTS);
    for (unsigned sint = 1; sint < SINT_COUNT; sint++) {
        if (s->has_waiting[sint] && try_deliver(vp, s, sint, &s->waiting[sint])) {
            s->has_waiting[sint] = false;
            delivered = true;
        }
    }
    spin_unlock_irqrestore(&s->lock, flags);
    if (delivered)
        sched_wake(vp);
}

bool synic_msr_read(struct vp *vp, uint32_t msr, uint64_t *value)
{
    struct synic *s = vp->synic;
    if (!s)
        return false;
    if (msr >= HV_X64_MSR_SINT0 && msr < HV_X64_MSR_SINT0 + SINT_COUNT) {
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
    case HV_X64_MSR_EOM:
        *value = 0;
        return true;
    default:
        return false;
    }
}

bool synic_msr_write(struct vp *vp, uint32_t msr, uint64_t value)
{
    struct synic *s = vp->synic;
    if (!s)
        return false;
    if (msr >= HV_X64_MSR_SINT0 && msr < HV_X64_MSR_SINT0 + SINT_COUNT) {
        s->sint[msr - HV_X64_MSR_SINT0] = value;
        return true;
    }
    switch (msr) {
    case HV_X64_MSR_SCONTROL:
        s->scontrol = value & 1;
        return true;
    case HV_X64_MSR_SIEFP:
        s->siefp = value;
        return true;
    case HV_X64_MSR_SIMP: {
        /* The page must be the VP's own writable RAM: check it as the hypervisor will use
         * it, through the partition's translation. */
        if ((value & HV_SIMP_ENABLE) &&
            !guest_memory_accessible(vp->partition, value & ~0xFFFull, PAGE_SIZE, true))
            return false;
        uint64_t flags = spin_lock_irqsave(&s->lock);
        s->simp = value & (~0xFFFull | HV_SIMP_ENABLE);
        spin_unlock_irqrestore(&s->lock, flags);
        end_of_message(vp, s); /* anything queued before the page existed */
        return true;
    }
    case HV_X64_MSR_EOM:
        end_of_message(vp, s);
        return true;
    default:
        return false;
    }
}
