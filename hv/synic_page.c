#include "hv/synic_page.h"

#include <string.h>

static uint64_t slot_gpa(uint64_t page_gpa, unsigned sint)
{
    return page_gpa + (uint64_t)sint * sizeof(struct hv_message);
}

enum synic_slot_result synic_page_deliver(const struct synic_page_access *a, uint64_t page_gpa,
                                          unsigned sint, const struct hv_message *m,
                                          bool more_pending)
{
    uint64_t gpa = slot_gpa(page_gpa, sint);
    uint32_t type;
    if (!a->read(a->context, gpa, &type, sizeof(type)))
        return SYNIC_SLOT_UNREACHABLE;
    if (type != HV_MESSAGE_TYPE_NONE)
        return SYNIC_SLOT_BUSY;
    struct hv_message copy = *m;
    uint32_t real_type = copy.header.message_type;
    copy.header.message_type = HV_MESSAGE_TYPE_NONE;
    copy.header.message_flags = more_pending ? HV_MESSAGE_FLAG_PENDING : 0;
    if (copy.header.payload_size > sizeof(copy.payload))
        copy.header.payload_size = sizeof(copy.payload);
    if (!a->write(a->context, gpa, &copy, sizeof(copy)))
        return SYNIC_SLOT_UNREACHABLE;
    /* The type last: the guest never sees a type whose payload is not there yet. */
    __atomic_thread_fence(__ATOMIC_RELEASE);
    if (!a->store32(a->context, gpa, real_type))
        return SYNIC_SLOT_UNREACHABLE;
    return SYNIC_SLOT_DELIVERED;
}

bool synic_page_set_pending(const struct synic_page_access *a, uint64_t page_gpa,
                            unsigned sint)
{
    uint64_t gpa = slot_gpa(page_gpa, sint);
    uint8_t flags = HV_MESSAGE_FLAG_PENDING;
    if (!a->write(a->context, gpa + offsetof(struct hv_message_header, message_flags), &flags,
                  sizeof(flags)))
        return false;
    /* Store then load: x86 may reorder them without a full barrier (Intel SDM vol. 3,
     * 9.2.3.4), and then a guest that freed the slot in between misses both. */
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    uint32_t type;
    return a->read(a->context, gpa, &type, sizeof(type)) && type == HV_MESSAGE_TYPE_NONE;
}

bool synic_page_signal(const struct synic_page_access *a, uint64_t page_gpa, unsigned sint,
                       unsigned flag, bool *was_clear)
{
    uint64_t gpa = page_gpa + (uint64_t)sint * SYNIC_EVENT_FLAGS_BYTES + (flag / 32u) * 4u;
    uint32_t bit = 1u << (flag % 32u), old;
    if (!a->fetch_or32(a->context, gpa, bit, &old))
        return false;
    *was_clear = !(old & bit);
    return true;
}
