#include "root/vmbus_server.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hv/hypercall_abi.h"
#include "root/disk.h"
#include "root/disk_block.h"
#include "root/hvcall.h"
#include "root/log.h"
#include "root/network.h"
#include "root/retry_timer.h"
#include "vmbus/connection.h"
#include "vsp/netvsp.h"
#include "vsp/storvsp.h"

#define PAGE_BYTES 4096u

struct server_child {
    struct child *child;
    uint64_t partition_id;            /* the partition the connection belongs to */
    struct vmbus_connection *connection;
    bool poll_again[VMBUS_CHANNEL_MAX]; /* the channel's poll budget ran out */
    struct netvsp *netvsp;            /* the child's synthetic NIC, NULL if it has none */
    struct server_disk *disk;         /* its synthetic SCSI disk, NULL if it has none */
    struct root_log_limit log_limit;  /* lines its messages cause (root/log.h) */
};

/* A child's SCSI controller and the disk volume behind it (scsi.NAME=VOLUME). */
struct server_disk {
    struct storvsp storvsp;
    struct disk_block block;
    char volume[DISK_NAME_MAX]; /* storvsp's name in log lines */
};

static struct server_child *table;
static size_t table_count;

static bool post_message(void *context, uint32_t vp, uint32_t sint, const void *payload,
                         uint32_t size)
{
    struct server_child *s = context;
    uint16_t status = hvcall_post_child_message(s->partition_id, vp, sint,
                                                VMBUS_SERVER_MESSAGE_TYPE, payload, size);
    if (status == HV_STATUS_INSUFFICIENT_BUFFERS)
        return false; /* the child's queue is full: kept, retried by vmbus_server_poll */
    if (status != HV_STATUS_SUCCESS)
        root_warn("vmbus: child %s: posting to VP %u SINT %u: status %#x", s->child->config.name,
                  vp, sint, status);
    return true;
}

static void signal_event(void *context, uint32_t vp, uint32_t sint, uint32_t flag)
{
    struct server_child *s = context;
    uint16_t status = hvcall_signal_child_event(s->partition_id, vp, (uint8_t)sint,
                                                (uint16_t)flag);
    if (status != HV_STATUS_SUCCESS)
        root_warn("vmbus: child %s: signalling VP %u SINT %u flag %u: status %#x",
                  s->child->config.name, vp, sint, flag, status);
}

/* The child's RAM is one block of root memory backing GPAs [0, ram_bytes). */
static uint8_t *child_page(void *context, uint64_t pfn)
{
    struct server_child *s = context;
    if (pfn >= s->child->ram_bytes / PAGE_BYTES)
        return NULL;
    return s->child->ram + pfn * PAGE_BYTES;
}

static void log_line(void *context, const char *level, const char *line)
{
    struct server_child *s = context;
    root_log_limited(&s->log_limit, s->child->config.name, level, "vmbus: child %s: %s",
                     s->child->config.name, line);
}

void vmbus_server_attach(struct child *children, size_t count)
{
    table = calloc(count, sizeof(*table));
    if (!table) {
        root_error("vmbus: no memory for the server's table; VMBus is off");
        return;
    }
    table_count = count;
    for (size_t i = 0; i < count; i++)
        table[i].child = &children[i];
}

/* The child's synthetic NIC: a port of the root's switch under the child's MAC, offered on
 * its connection. A child without one runs on (logged): the network is not its boot. */
static void netvsp_attach(struct server_child *s)
{
    const char *name = s->child->config.name;
    struct netvsp *n = malloc(sizeof(*n));
    if (!n) {
        root_warn("vmbus: child %s: no memory for its network adapter", name);
        return;
    }
    if (!netvsp_init(n, name, network_vswitch())) {
        root_warn("vmbus: child %s: the virtual switch has no port for it; no network", name);
        netvsp_destroy(n);
        free(n);
        return;
    }
    if (!vmbus_connection_add_device(s->connection, &n->device)) {
        root_warn("vmbus: child %s: no VMBus channel for its network adapter", name);
        netvsp_destroy(n);
        free(n);
        return;
    }
    s->netvsp = n;
    const uint8_t *m = n->mac;
    root_info("vmbus: child %s: network adapter mac=%02x:%02x:%02x:%02x:%02x:%02x on switch "
              "port %d", name, m[0], m[1], m[2], m[3], m[4], m[5], n->port);
}

/* 16 stable bytes for `text`: two FNV-1a 64 hashes, laid out as an RFC 4122 version 4
 * GUID so the child sees a well-formed id that is the same at every boot. */
static void stable_guid(const char *text, uint8_t guid[16])
{
    for (int half = 0; half < 2; half++) {
        uint64_t h = 0xcbf29ce484222325ull ^ (uint64_t)half;
        for (const char *p = text; *p; p++)
            h = (h ^ (uint8_t)*p) * 0x100000001b3ull;
        for (int i = 0; i < 8; i++)
            guid[half * 8 + i] = (uint8_t)(h >> (8 * i));
    }
    guid[7] = (uint8_t)((guid[7] & 0x0F) | 0x40);
    guid[8] = (uint8_t)((guid[8] & 0x3F) | 0x80);
}

/* The child's synthetic SCSI disk: storvsp over the volume scsi.NAME gave it (root/vmms.c
 * checked at the child's declaration that the volume existed and was no other child's).
 * The volume may have been deleted since (the management API): then the child runs
 * without it, logged, as without any disk. */
static void storvsp_attach(struct server_child *s)
{
    const char *name = s->child->config.name;
    const char *volume_name = s->child->config.scsi_volume;
    if (!volume_name[0])
        return;
    struct disk_volume *volume = disk_volume_open(volume_name);
    if (!volume || volume->store) {
        root_warn("vmbus: child %s: the disk has no volume %s; no SCSI disk", name,
                  volume_name);
        return;
    }
    struct server_disk *d = malloc(sizeof(*d));
    if (!d) {
        root_warn("vmbus: child %s: no memory for its SCSI controller", name);
        return;
    }
    snprintf(d->volume, sizeof(d->volume), "%s", volume_name);
    disk_block_init(&d->block, volume);
    char salted[CHILD_NAME_MAX + DISK_NAME_MAX + 16];
    snprintf(salted, sizeof(salted), "storvsp:%s:%s", name, volume_name);
    uint8_t instance[16];
    stable_guid(salted, instance);
    /* The serial (VPD 0x80) is the volume's name: what the child's /dev/disk/by-id shows. */
    if (!storvsp_init(&d->storvsp, d->volume, instance, d->volume, &d->block.device) ||
        !vmbus_connection_add_device(s->connection, &d->storvsp.device)) {
        root_warn("vmbus: child %s: no VMBus channel for its SCSI controller", name);
        free(d);
        return;
    }
    s->disk = d;
    root_info("vmbus: child %s: SCSI disk volume %s, %llu MiB%s", name, volume_name,
              (unsigned long long)(volume->sector_count / 2048),
              volume->io.read_only ? ", read-only" : "");
}

/* Stops serving the child's SCSI disk, after its channel closed; the volume is no longer
 * in use (disk_block completes inside submit, so the back end holds no request). */
static void storvsp_detach(struct server_child *s)
{
    struct server_disk *d = s->disk;
    if (!d)
        return;
    const struct storvsp_stats *st = &d->storvsp.stats;
    root_info("vmbus: child %s: SCSI disk %s: %llu requests, %llu reads (%llu bytes), %llu "
              "writes (%llu bytes), %llu flushes, %llu check conditions, %llu refused, %llu "
              "busy, %llu media errors", s->child->config.name, d->volume,
              (unsigned long long)st->srbs, (unsigned long long)st->reads,
              (unsigned long long)st->bytes_read, (unsigned long long)st->writes,
              (unsigned long long)st->bytes_written, (unsigned long long)st->flushes,
              (unsigned long long)st->check_conditions, (unsigned long long)st->refused,
              (unsigned long long)st->busy, (unsigned long long)st->media_errors);
    storvsp_destroy(&d->storvsp);
    free(d);
    s->disk = NULL;
}

static void connection_end(struct server_child *s)
{
    if (!s->connection)
        return;
    /* Closes the channels first (netvsp's on_close forgets the child's buffers), then the
     * switch port goes. */
    vmbus_connection_destroy(s->connection);
    storvsp_detach(s);
    if (s->netvsp) {
        const struct netvsp_stats *st = &s->netvsp->stats;
        root_info("vmbus: child %s: network: %llu frames in (%llu bytes), %llu out (%llu "
                  "bytes), %llu control, %llu refused, %llu waits",
                  s->child->config.name, (unsigned long long)st->frames_in,
                  (unsigned long long)st->bytes_in, (unsigned long long)st->frames_out,
                  (unsigned long long)st->bytes_out, (unsigned long long)st->control,
                  (unsigned long long)st->refused, (unsigned long long)st->waits);
        netvsp_destroy(s->netvsp);
        free(s->netvsp);
        s->netvsp = NULL;
    }
    free(s->connection);
    s->connection = NULL;
    memset(s->poll_again, 0, sizeof(s->poll_again));
}

/* The running child that is partition `partition_id`, with a connection for it. */
static struct server_child *find(uint64_t partition_id)
{
    for (size_t i = 0; i < table_count; i++) {
        struct server_child *s = &table[i];
        if (!s->child->running || s->child->partition_id != partition_id)
            continue;
        if (s->connection && s->partition_id != partition_id)
            connection_end(s); /* a restart: the child is a new partition */
        if (!s->connection) {
            s->connection = malloc(sizeof(*s->connection));
            if (!s->connection) {
                root_warn("vmbus: child %s: no memory for a connection", s->child->config.name);
                return NULL;
            }
            s->partition_id = partition_id;
            struct vmbus_host_ops ops = {.context = s, .post_message = post_message,
                                         .signal_event = signal_event, .page = child_page,
                                         .log = log_line};
            vmbus_connection_init(s->connection, &ops, s->child->config.vp_count);
            netvsp_attach(s);
            storvsp_attach(s);
        }
        return s;
    }
    return NULL;
}

void vmbus_server_message(uint64_t partition_id, uint32_t connection, uint32_t message_type,
                          const void *payload, uint32_t size)
{
    struct server_child *s = find(partition_id);
    if (!s) {
        root_debug("vmbus: message from partition %lu, which is no running child", partition_id);
        return;
    }
    if (message_type != VMBUS_SERVER_MESSAGE_TYPE) {
        root_log_limited(&s->log_limit, s->child->config.name, "warn",
                         "vmbus: child %s: message type %#x to connection %u is not VMBus's; "
                         "dropped", s->child->config.name, message_type, connection);
        return;
    }
    vmbus_connection_handle_message(s->connection, connection, payload, size);
}

void vmbus_server_signal(uint64_t partition_id, uint32_t connection)
{
    struct server_child *s = find(partition_id);
    if (!s)
        return;
    uint32_t relid = connection - VMBUS_CHANNEL_CONNECTION_ID_BASE;
    bool again = vmbus_connection_handle_signal(s->connection, connection);
    if (relid >= 1 && relid <= VMBUS_CHANNEL_MAX)
        s->poll_again[relid - 1] = again;
    /* Frames the switch queued while the child's receive buffer or ring was full go now
     * that the child has read (its completions are what freed the room). */
    if (s->netvsp)
        netvsp_flush(s->netvsp);
}

/* Host messages kept for children whose queues were full when the retry timer was last
 * armed, and its delay (root/retry_timer.h). */
static uint32_t outbox_waiting, retry_delay_ms;

bool vmbus_server_poll(void)
{
    bool more = false;
    uint32_t waiting = 0;
    retry_timer_take();
    for (size_t i = 0; i < table_count; i++) {
        struct server_child *s = &table[i];
        if (!s->connection)
            continue;
        if (!s->child->running || s->child->partition_id != s->partition_id) {
            connection_end(s);
            continue;
        }
        if (s->connection->outbox_count)
            vmbus_connection_flush(s->connection);
        waiting += s->connection->outbox_count;
        for (uint32_t relid = 1; relid <= VMBUS_CHANNEL_MAX; relid++) {
            if (!s->poll_again[relid - 1])
                continue;
            s->poll_again[relid - 1] = vmbus_connection_handle_signal(
                s->connection, VMBUS_CHANNEL_CONNECTION_ID_BASE + relid);
            more |= s->poll_again[relid - 1];
        }
        /* Not `more` when frames still wait: only the child's completion makes room, and it
         * arrives as a signal. */
        if (s->netvsp)
            netvsp_flush(s->netvsp);
    }
    /* The child's EOM does not wake the root: retry on a timer while answers wait, sooner
     * again once they move. */
    if (!waiting) {
        retry_delay_ms = 0;
    } else if (!retry_timer_armed()) {
        retry_timer_arm(retry_delay_next(&retry_delay_ms, waiting < outbox_waiting));
        outbox_waiting = waiting;
    }
    return more;
}
