#include "hv/partition.h"

#include <string.h>

#include "hv/synic.h"
#include "kernel/log.h"
#include "kernel/page_alloc.h"
#include "kernel/page_pool.h"
#include "kernel/spinlock.h"
#include "kernel/tsc.h"
#include "kernel/x86.h"

static struct spinlock id_lock = SPINLOCK_INIT;
static uint64_t next_partition_id = 1;

struct partition *partition_create(const char *name, partition_intercept_fn intercept,
                                   void *owner)
{
    static_assert(sizeof(struct partition) <= PAGE_SIZE, "a partition fits in one page");
    struct partition *p = (struct partition *)(uintptr_t)page_alloc_zeroed(0);
    if (!p)
        return NULL;
    if (!slat_init(&p->slat)) {
        page_free((uint64_t)(uintptr_t)p, 0);
        return NULL;
    }
    uint64_t flags = spin_lock_irqsave(&id_lock);
    p->id = next_partition_id++;
    spin_unlock_irqrestore(&id_lock, flags);
    strncpy(p->name, name, sizeof(p->name) - 1);
    p->state = PARTITION_CREATED;
    p->reference_time_base_ns = time_now_ns();
    p->intercept = intercept;
    p->owner = owner;
    return p;
}

bool partition_map(struct partition *p, uint64_t gpa, uint64_t hpa, uint64_t size,
                   unsigned access)
{
    return slat_map(&p->slat, gpa, hpa, size, access);
}

struct vp *partition_create_vp(struct partition *p, const struct vp_start_state *start)
{
    static_assert(sizeof(struct vp) <= PAGE_SIZE, "a VP fits in one page");
    if (p->vp_count >= PARTITION_MAX_VPS)
        return NULL;
    struct vp *vp = (struct vp *)(uintptr_t)page_alloc_zeroed(0);
    if (!vp)
        return NULL;
    vp->partition = p;
    vp->index = p->vp_count;
    vp->state = VP_STATE_RUNNABLE;
    vlapic_init(vp);
    vp->mtrr_def_type = 0x806; /* hv/msr.h: MTRRs enabled by "firmware", default write-back */
    if (!hv_vendor->vp_create(vp, p->slat.root_pa, start)) {
        page_free((uint64_t)(uintptr_t)vp, 0);
        return NULL;
    }
    p->vps[p->vp_count++] = vp;
    return vp;
}

void partition_stop(struct partition *p, const char *reason)
{
    /* Exactly once, even when several VPs stop it at the same time. */
    if (__atomic_exchange_n(&p->state, PARTITION_STOPPED, __ATOMIC_ACQ_REL) ==
        PARTITION_STOPPED)
        return;
    p->stop_reason = reason;
    log_info("partition %lu (%s) stopped: %s", p->id, p->name, reason);
    if (p->on_stop)
        p->on_stop(p, reason);
}

void partition_run_vp(struct vp *vp)
{
    struct partition *p = vp->partition;
    struct hv_exit exit;
    p->state = PARTITION_RUNNING;
    while (p->state == PARTITION_RUNNING && vp->state != VP_STATE_STOPPED) {
        uint64_t entered = rdtsc();
        hv_vendor->vp_run(vp, &exit);
        uint64_t ran = rdtsc() - entered;
        vp->statistics.runs++;
        vp->statistics.exits[exit.reason]++;
        vp->statistics.run_tsc += ran;
        __atomic_fetch_add(&p->statistics.exits, 1, __ATOMIC_RELAXED);
        __atomic_fetch_add(&p->statistics.run_tsc, ran, __ATOMIC_RELAXED);
        __atomic_fetch_add(&p->statistics.exits_by_reason[exit.reason], 1, __ATOMIC_RELAXED);
        if (hv_exit_dispatch(vp, &exit) == EXIT_STOP)
            vp->state = VP_STATE_STOPPED;
    }
}

void partition_destroy(struct partition *p)
{
    for (uint32_t i = 0; i < p->vp_count; i++) {
        synic_destroy_vp(p->vps[i]);
        hv_vendor->vp_destroy(p->vps[i]);
        page_free((uint64_t)(uintptr_t)p->vps[i], 0);
    }
    slat_destroy(&p->slat);
    page_free((uint64_t)(uintptr_t)p, 0);
}
