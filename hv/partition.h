/*
 * Partitions: the unit of isolation (seed: "Hyper-V implements isolation of virtual machines
 * in terms of a partition"). A partition has an id, a state, its own second-level
 * translation built only by the hypervisor, virtual processors and statistics.
 */
#ifndef HVFW_HV_PARTITION_H
#define HVFW_HV_PARTITION_H

#include <stdbool.h>
#include <stdint.h>

#include "hv/exit.h"
#include "hv/hyperv.h"
#include "hv/slat.h"
#include "hv/vendor.h"
#include "hv/vp.h"

#define PARTITION_MAX_VPS 64
#define PARTITION_NAME_MAX 32

enum partition_state {
    PARTITION_CREATED,
    PARTITION_RUNNING,
    PARTITION_STOPPED,
};

/* Exits the hypervisor does not handle itself go to the partition's intercept handler:
 * for a child, the forwarding to its worker in the root (issue 3). */
typedef enum exit_action (*partition_intercept_fn)(struct vp *vp, struct hv_exit *exit);

struct partition_statistics {
    uint64_t exits;      /* atomic: the partition's VPs run on several CPUs at once */
    uint64_t exits_by_reason[HV_EXIT_REASON_COUNT];
    uint64_t run_tsc;    /* atomic: TSC ticks its VPs spent in guest mode, summed over VPs
                          * (measured around the world switch, hv/sched.c) */
};

struct partition {
    uint64_t id;
    char name[PARTITION_NAME_MAX];
    enum partition_state state;
    uint64_t reference_time_base_ns; /* time_now_ns() at creation: reference time 0 */
    bool is_root;         /* the root partition: may make root-only hypercalls */
    const char *stop_reason;
    struct slat slat;
    struct vp *vps[PARTITION_MAX_VPS];
    uint32_t vp_count;
    partition_intercept_fn intercept;
    /* Bit n: the root installed an intercept of HV_INTERCEPT_TYPE n (hv/root_calls.c);
     * atomic. Exits without a default in the hypervisor are forwarded regardless. */
    uint32_t installed_intercepts;
    void *owner; /* the intercept handler's context */
    /* Called once when the partition stops (a child's tells the root). */
    void (*on_stop)(struct partition *p, const char *reason);
    struct partition_statistics statistics;
    /* Hyper-V synthetic MSR state of a child (hv/hyperv.h); unused by the root. */
    struct hyperv_partition hyperv;
};

struct partition *partition_create(const char *name, partition_intercept_fn intercept,
                                   void *owner);
/* Maps host pages into the partition (hv/slat.h rules). */
bool partition_map(struct partition *p, uint64_t gpa, uint64_t hpa, uint64_t size,
                   unsigned access);
struct vp *partition_create_vp(struct partition *p, const struct vp_start_state *start);
/* Runs `vp` on the calling CPU until its partition stops. */
void partition_run_vp(struct vp *vp);
/* Marks the partition stopped with a reason (a string constant) and logs it. */
void partition_stop(struct partition *p, const char *reason);
void partition_destroy(struct partition *p);

#endif
