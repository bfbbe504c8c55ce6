#include "hv/message_queue.h"

#include <stddef.h>
#include <string.h>

void message_queue_init(struct message_queue *q, struct hv_message *entries, uint32_t capacity)
{
    q->entries = entries;
    q->capacity = entries ? capacity : 0;
    q->head = 0;
    q->count = 0;
}

bool message_queue_push(struct message_queue *q, const struct hv_message *m)
{
    if (q->count >= q->capacity)
        return false;
    q->entries[(q->head + q->count) % q->capacity] = *m;
    q->count++;
    return true;
}

const struct hv_message *message_queue_peek(const struct message_queue *q)
{
    return q->count ? &q->entries[q->head] : NULL;
}

void message_queue_pop(struct message_queue *q)
{
    if (!q->count)
        return;
    q->head = (q->head + 1) % q->capacity;
    q->count--;
}

uint32_t message_queue_count_sender(const struct message_queue *q, uint64_t sender,
                                   uint64_t mask)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < q->count; i++)
        if ((q->entries[(q->head + i) % q->capacity].header.sender & mask) == sender)
            n++;
    return n;
}

bool message_queue_replace(struct message_queue *q, uint32_t type, uint32_t key,
                           const struct hv_message *m)
{
    for (uint32_t i = 0; i < q->count; i++) {
        struct hv_message *e = &q->entries[(q->head + i) % q->capacity];
        uint32_t first;
        memcpy(&first, e->payload, sizeof(first));
        if (e->header.message_type == type && first == key) {
            *e = *m;
            return true;
        }
    }
    return false;
}
