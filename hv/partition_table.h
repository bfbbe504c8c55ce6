/*
 * The registry of partitions by id, for the calls that name a partition (hv/root_calls.c)
 * and for whoever must find or walk them. An entry also carries what the TLFS attaches to a
 * partition beyond hv/partition.h: its creation state machine (TLFS "Partition Creation":
 * created -> initialized -> finalized; deletion from any state) and the intercepts the
 * root installed.
 *
 * Lifetime: partition_table_get* takes a reference; the partition cannot be freed until
 * partition_table_put. partition_table_remove unpublishes an entry (later lookups fail)
 * and waits for the other references to go: only then may the caller destroy it. Lookups
 * and removal are under one lock; an entry's own fields under the entry's lock.
 */
#ifndef HVFW_HV_PARTITION_TABLE_H
#define HVFW_HV_PARTITION_TABLE_H

#include <stdbool.h>
#include <stdint.h>

#include "hv/hypercall_abi.h"
#include "kernel/spinlock.h"

struct partition;

/* The root and up to this many children at once. */
#define PARTITION_TABLE_SIZE 128

enum partition_lifecycle {
    PARTITION_LIFECYCLE_CREATED,     /* HvCallCreatePartition */
    PARTITION_LIFECYCLE_INITIALIZED, /* HvCallInitializePartition: VPs may be created */
    PARTITION_LIFECYCLE_FINALIZED,   /* HvCallFinalizePartition: no longer configurable */
};

struct partition_table_entry {
    struct partition *partition;      /* NULL: a free entry */
    struct spinlock lock;             /* lifecycle, intercepts, VP creation */
    enum partition_lifecycle lifecycle;
    uint32_t intercept_types;         /* bit n: HvCallInstallIntercept of type n (< 32) */
    uint32_t references;              /* under the table lock */
    bool removing;                    /* unpublished: lookups fail */
};

/* Publishes `p` under its id (lifecycle CREATED); false if the table is full. */
bool partition_table_add(struct partition *p);
/* The entry of partition `id` with a reference, or NULL if none (or being removed). */
struct partition_table_entry *partition_table_get(uint64_t id);
/* The same for an id that must name a child: HV_STATUS_INVALID_PARTITION_ID when no
 * partition has it, HV_STATUS_ACCESS_DENIED for the root partition itself (the TLFS calls
 * that act on a child may not target the caller). *out only on success. */
enum hv_status partition_table_get_child(uint64_t id, struct partition_table_entry **out);
void partition_table_put(struct partition_table_entry *entry);
/* With one reference held by the caller: unpublishes the entry, waits until the caller's
 * is the last reference, frees the entry (the reference with it) and returns the
 * partition, now the caller's alone. NULL if another caller is already removing it. */
struct partition *partition_table_remove(struct partition_table_entry *entry);
/* Calls `fn` for every published partition, under the table lock: `fn` must not block
 * or call back into the table. */
void partition_table_for_each(void (*fn)(struct partition *p, void *ctx), void *ctx);
/* Published partitions. */
uint32_t partition_table_count(void);

#endif
