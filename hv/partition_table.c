#include "hv/partition_table.h"

#include <string.h>

#include "hv/partition.h"
#include "kernel/x86.h"

static struct spinlock table_lock = SPINLOCK_INIT;
static struct partition_table_entry entries[PARTITION_TABLE_SIZE];

bool partition_table_add(struct partition *p)
{
    uint64_t flags = spin_lock_irqsave(&table_lock);
    struct partition_table_entry *free_entry = NULL;
    for (uint32_t i = 0; i < PARTITION_TABLE_SIZE && !free_entry; i++)
        if (!entries[i].partition)
            free_entry = &entries[i];
    if (free_entry) {
        memset(free_entry, 0, sizeof(*free_entry));
        free_entry->lock = (struct spinlock)SPINLOCK_INIT;
        free_entry->lifecycle = PARTITION_LIFECYCLE_CREATED;
        free_entry->partition = p;
    }
    spin_unlock_irqrestore(&table_lock, flags);
    return free_entry != NULL;
}

/* Under the table lock. */
static struct partition_table_entry *find(uint64_t id)
{
    for (uint32_t i = 0; i < PARTITION_TABLE_SIZE; i++)
        if (entries[i].partition && !entries[i].removing && entries[i].partition->id == id)
            return &entries[i];
    return NULL;
}

struct partition_table_entry *partition_table_get(uint64_t id)
{
    uint64_t flags = spin_lock_irqsave(&table_lock);
    struct partition_table_entry *e = find(id);
    if (e)
        e->references++;
    spin_unlock_irqrestore(&table_lock, flags);
    return e;
}

enum hv_status partition_table_get_child(uint64_t id, struct partition_table_entry **out)
{
    uint64_t flags = spin_lock_irqsave(&table_lock);
    struct partition_table_entry *e = find(id);
    enum hv_status status = HV_STATUS_SUCCESS;
    if (!e)
        status = HV_STATUS_INVALID_PARTITION_ID;
    else if (e->partition->is_root)
        status = HV_STATUS_ACCESS_DENIED;
    else
        e->references++;
    spin_unlock_irqrestore(&table_lock, flags);
    if (status == HV_STATUS_SUCCESS)
        *out = e;
    return status;
}

void partition_table_put(struct partition_table_entry *entry)
{
    uint64_t flags = spin_lock_irqsave(&table_lock);
    entry->references--;
    spin_unlock_irqrestore(&table_lock, flags);
}

struct partition *partition_table_remove(struct partition_table_entry *entry)
{
    uint64_t flags = spin_lock_irqsave(&table_lock);
    if (entry->removing) {
        entry->references--;
        spin_unlock_irqrestore(&table_lock, flags);
        return NULL;
    }
    entry->removing = true;
    /* Other holders are inside a hypercall handler, which never blocks: they finish soon. */
    while (entry->references > 1) {
        spin_unlock_irqrestore(&table_lock, flags);
        cpu_relax();
        flags = spin_lock_irqsave(&table_lock);
    }
    struct partition *p = entry->partition;
    entry->references = 0;
    entry->partition = NULL;
    entry->removing = false;
    spin_unlock_irqrestore(&table_lock, flags);
    return p;
}

void partition_table_for_each(void (*fn)(struct partition *p, void *ctx), void *ctx)
{
    uint64_t flags = spin_lock_irqsave(&table_lock);
    for (uint32_t i = 0; i < PARTITION_TABLE_SIZE; i++)
        if (entries[i].partition && !entries[i].removing)
            fn(entries[i].partition, ctx);
    spin_unlock_irqrestore(&table_lock, flags);
}

uint32_t partition_table_count(void)
{
    uint64_t flags = spin_lock_irqsave(&table_lock);
    uint32_t count = 0;
    for (uint32_t i = 0; i < PARTITION_TABLE_SIZE; i++)
        if (entries[i].partition && !entries[i].removing)
            count++;
    spin_unlock_irqrestore(&table_lock, flags);
    return count;
}
