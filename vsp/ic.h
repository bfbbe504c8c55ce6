/*
 * The integration-service framework (ICs; Linux drivers/hv/hv_util.c and channel.c
 * vmbus_prep_negotiate_resp are the guest peer, include/linux/hyperv.h the wire format):
 * every IC is one VMBus channel on which the host sends requests and the guest answers each
 * in place, INBAND, with the same transaction id.
 *
 * A message is a pipe header {u32 flags, u32 size}, an icmsg_hdr (20 bytes: framework
 * version, message type, message version, body size, status, flags TRANSACTION|REQUEST or
 * TRANSACTION|RESPONSE) and the body. The host speaks first: at open it offers its
 * framework versions (3.0, 1.0) and the service's versions (NEGOTIATE, type 0); the guest
 * answers with one framework and one service version it picked from them, or with zero
 * counts when none fits. Only then does the service send its own messages, one at a time.
 *
 * Every answer is checked: the transaction id of the request in flight, the RESPONSE flag,
 * the type sent, the size, and for NEGOTIATE versions that were offered. A bad answer is
 * logged and dropped; the service carries on (its request times out, see the services).
 */
#ifndef HVFW_VSP_IC_H
#define HVFW_VSP_IC_H

#include <stdbool.h>
#include <stdint.h>

#include "vmbus/channel.h"

#define IC_MESSAGE_NEGOTIATE 0u
#define IC_MESSAGE_HEARTBEAT 1u
#define IC_MESSAGE_KVP 2u
#define IC_MESSAGE_SHUTDOWN 3u
#define IC_MESSAGE_TIMESYNC 4u

#define IC_FLAG_TRANSACTION 1u
#define IC_FLAG_REQUEST 2u
#define IC_FLAG_RESPONSE 4u

/* Status words of an answer (HRESULT). */
#define IC_STATUS_OK 0x00000000u
#define IC_STATUS_FAIL 0x80004005u

#define IC_VERSIONS_MAX 4u
/* The largest message: the shutdown request, 28 bytes of headers + its 2060-byte body. */
#define IC_MESSAGE_MAX 4096u

struct ic_pipe_header {
    uint32_t flags;
    uint32_t size;
} __attribute__((packed));

struct ic_message_header {
    uint16_t framework_major;
    uint16_t framework_minor;
    uint16_t type;
    uint16_t message_major;
    uint16_t message_minor;
    uint16_t size; /* body bytes */
    uint32_t status;
    uint8_t transaction;
    uint8_t flags;
    uint8_t reserved[2];
} __attribute__((packed));

#define IC_HEADERS_SIZE (sizeof(struct ic_pipe_header) + sizeof(struct ic_message_header))

struct ic_version {
    uint16_t major;
    uint16_t minor;
};

struct ic_service;

struct ic_service_ops {
    /* Versions agreed; the service may send. */
    void (*on_ready)(struct ic_service *service);
    /* The checked answer to the service's request `type`: its status and body. */
    void (*on_answer)(struct ic_service *service, uint16_t type, uint32_t status,
                      const uint8_t *body, uint32_t length);
    /* The channel closed: the service starts over at the next open. */
    void (*on_close)(struct ic_service *service);
};

struct ic_service {
    struct vmbus_device device; /* register with vmbus_connection_add_device */
    struct vmbus_channel *channel;
    const struct ic_service_ops *ops;
    void *context;
    struct ic_version versions[IC_VERSIONS_MAX]; /* the service's, best first */
    uint32_t version_count;
    bool ready;
    struct ic_version framework; /* agreed, once ready */
    struct ic_version version;
    bool awaiting;             /* a request is in flight */
    uint16_t awaiting_type;
    uint64_t awaiting_id;
    uint64_t next_id;
    uint64_t refused;          /* answers dropped */
    uint32_t logged;           /* refusals logged this open */
};

/* Sets up service `name` (interface GUID `type`, instance `instance`, both in the wire
 * layout) offering `versions` (1..IC_VERSIONS_MAX, best first). */
void ic_service_init(struct ic_service *service, const char *name, const uint8_t type[16],
                     const uint8_t instance[16], const struct ic_version *versions,
                     uint32_t version_count, const struct ic_service_ops *ops, void *context);
/* Sends request `type` with `body`; false if the service is not ready, a request is in
 * flight, or the ring has no room (try at the next tick). */
bool ic_service_send(struct ic_service *service, uint16_t type, const void *body,
                     uint32_t length);
/* Gives up on the request in flight (the service's timeout): the next send may go. */
void ic_service_abandon(struct ic_service *service);
/* A formatted log line through the channel's connection (nothing while closed). */
void ic_service_log(struct ic_service *service, const char *level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
