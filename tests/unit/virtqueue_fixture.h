/*
 * The queue the split-virtqueue suites test (test_virtqueue.c, test_virtqueue_chain.c):
 * SIZE descriptors in zeroed, page-aligned ring memory, made before each test and freed
 * after it (the checked fixture). Static: each suite gets its own copy.
 */
#ifndef HVFW_TESTS_VIRTQUEUE_FIXTURE_H
#define HVFW_TESTS_VIRTQUEUE_FIXTURE_H

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "drivers/virtio.h"

#define SIZE 8

static void *ring_memory;
static struct virtqueue q;

static inline void virtqueue_fixture_setup(void)
{
    ring_memory = aligned_alloc(4096, virtqueue_memory_size(SIZE));
    memset(ring_memory, 0, virtqueue_memory_size(SIZE));
    ck_assert(virtqueue_init(&q, SIZE, ring_memory));
}

static inline void virtqueue_fixture_teardown(void)
{
    free(ring_memory);
}

#endif
