/*
 * The root's VMBus server: one vmbus/ connection (vmbus/connection.h) per running child,
 * fed with the child's HvCallPostMessage payloads and HvCallSignalEvent kicks as
 * root/child_messages.c takes them from the hypervisor (docs/hypercalls.md, "Messages and
 * events"), answering through the root's hypercalls into the child's SynIC. The
 * Virtualization Service Providers (vsp/) register their devices here; each child is
 * offered them when its vmbus driver asks.
 *
 * A connection is made on the child's first message and belongs to that partition: a
 * child that restarts is a new partition and starts a new connection (the old one is
 * destroyed, its channels closed). Runs on root VP 0 only, in the worker's loop.
 */
#ifndef HVFW_ROOT_VMBUS_SERVER_H
#define HVFW_ROOT_VMBUS_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "root/worker.h"

/* The message type a child's vmbus driver posts its channel messages with (Linux
 * hv_post_message: 1) and the one the server answers with. */
#define VMBUS_SERVER_MESSAGE_TYPE 1u

/* The children whose messages the server serves (the worker's table). */
void vmbus_server_attach(struct child *children, size_t count);
/* One message of child partition `partition_id` to `connection`. */
void vmbus_server_message(uint64_t partition_id, uint32_t connection, uint32_t message_type,
                          const void *payload, uint32_t size);
/* One signal of child partition `partition_id` to `connection`. */
void vmbus_server_signal(uint64_t partition_id, uint32_t connection);
/* Retries host messages that waited for room in a child's queue, continues channels whose
 * poll budget ran out, forgets connections of children that stopped; true if it did work
 * that may have more behind it (the caller polls again before halting). */
bool vmbus_server_poll(void);

#endif
