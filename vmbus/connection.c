#include "vmbus/connection.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void vmbus_connection_log(struct vmbus_connection *connection, const char *level,
                          const char *fmt, ...)
{
    char line[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    connection->ops.log(connection->ops.context, level, line);
}

void vmbus_connection_init(struct vmbus_connection *connection, const struct vmbus_host_ops *ops,
                           uint32_t vp_count)
{
    memset(connection, 0, sizeof(*connection));
    connection->ops = *ops;
    connection->vp_count = vp_count;
    connection->message_sint = VMBUS_MESSAGE_SINT;
    vmbus_gpadl_table_init(&connection->gpadls, ops->page, ops->context);
    for (uint32_t i = 0; i < VMBUS_CHANNEL_MAX; i++) {
        struct vmbus_channel *ch = &connection->channels[i];
        ch->connection = connection;
        ch->relid = i + 1;
        ch->connection_id = VMBUS_CHANNEL_CONNECTION_ID_BASE + ch->relid;
    }
}

/* ---- messages to the child ------------------------------------------------------------ */

void vmbus_connection_flush(struct vmbus_connection *connection)
{
    while (connection->outbox_count) {
        struct vmbus_outbox_entry *e = &connection->outbox[connection->outbox_head];
        if (!connection->ops.post_message(connection->ops.context, e->vp, e->sint, e->bytes,
                                          e->size))
            return;
        connection->stats.posted++;
        connection->outbox_head = (connection->outbox_head + 1) % VMBUS_OUTBOX_MAX;
        connection->outbox_count--;
    }
}

/* Queued behind any earlier message, so the child sees them in order. */
static void post(struct vmbus_connection *connection, const void *message, uint32_t size)
{
    if (connection->outbox_count == VMBUS_OUTBOX_MAX) {
        connection->stats.dropped++;
        vmbus_connection_log(connection, "warn",
                             "vmbus: child takes no messages, %s dropped",
                             vmbus_message_name(*(const uint32_t *)message));
        return;
    }
    uint32_t tail = (connection->outbox_head + connection->outbox_count) % VMBUS_OUTBOX_MAX;
    struct vmbus_outbox_entry *e = &connection->outbox[tail];
    memcpy(e->bytes, message, size);
    e->size = size;
    e->vp = connection->target_vp;
    e->sint = connection->message_sint;
    connection->outbox_count++;
    vmbus_connection_flush(connection);
}

static void send_gpadl_created(struct vmbus_connection *c, uint32_t relid, uint32_t handle,
                               uint32_t status)
{
    struct vmbus_gpadl_created_message m = {
        .header.type = VMBUS_MSG_GPADL_CREATED,
        .child_relid = relid,
        .gpadl = handle,
        .status = status,
    };
    post(c, &m, sizeof(m));
}

static void send_open_result(struct vmbus_connection *c, uint32_t relid, uint32_t open_id,
                             uint32_t status)
{
    struct vmbus_open_result_message m = {
        .header.type = VMBUS_MSG_OPENCHANNEL_RESULT,
        .child_relid = relid,
        .open_id = open_id,
        .status = status,
    };
    post(c, &m, sizeof(m));
}

static void send_offer(struct vmbus_connection *c, struct vmbus_channel *ch)
{
    const struct vmbus_device *d = ch->device;
    struct vmbus_offer_message m = {
        .header.type = VMBUS_MSG_OFFERCHANNEL,
        .channel_flags = d->channel_flags,
        .mmio_megabytes = d->mmio_megabytes,
        .child_relid = ch->relid,
        /* No monitor pages: the child kicks with HvSignalEvent, which the hypervisor
         * turns into a root event (linux-hyperv-guest-needs.md §4). */
        .monitor_allocated = 0,
        .is_dedicated_interrupt = 1,
        .connection_id = ch->connection_id,
    };
    memcpy(m.interface_type, d->interface_type, sizeof(m.interface_type));
    memcpy(m.interface_instance, d->interface_instance, sizeof(m.interface_instance));
    memcpy(m.user_defined, d->user_defined, sizeof(m.user_defined));
    ch->offered = true;
    post(c, &m, sizeof(m));
}

/* ---- channel table -------------------------------------------------------------------- */

static struct vmbus_channel *channel_by_relid(struct vmbus_connection *c, uint32_t relid)
{
    if (relid == 0 || relid > VMBUS_CHANNEL_MAX)
        return NULL;
    struct vmbus_channel *ch = &c->channels[relid - 1];
    return ch->state == VMBUS_CHANNEL_FREE ? NULL : ch;
}

/* A channel the child may act on: offered to it and not rescinded. */
static struct vmbus_channel *offered_channel(struct vmbus_connection *c, uint32_t relid)
{
    struct vmbus_channel *ch = channel_by_relid(c, relid);
    if (!ch || !ch->offered || ch->state == VMBUS_CHANNEL_RESCINDED)
        return NULL;
    return ch;
}

static void free_channel(struct vmbus_connection *c, struct vmbus_channel *ch)
{
    vmbus_gpadl_remove_channel(&c->gpadls, ch->relid);
    ch->device = NULL;
    ch->offered = false;
    ch->state = VMBUS_CHANNEL_FREE;
    memset(&ch->stats, 0, sizeof(ch->stats));
}

struct vmbus_channel *vmbus_connection_add_device(struct vmbus_connection *connection,
                                                  const struct vmbus_device *device)
{
    if (device->max_packet_size < sizeof(struct vmbus_packet_descriptor) ||
        device->max_packet_size > VMBUS_PACKET_MAX)
        return NULL;
    for (uint32_t i = 0; i < VMBUS_CHANNEL_MAX; i++) {
        struct vmbus_channel *ch = &connection->channels[i];
        if (ch->state != VMBUS_CHANNEL_FREE)
            continue;
        ch->device = device;
        ch->state = VMBUS_CHANNEL_CLOSED;
        ch->offered = false;
        if (connection->state == VMBUS_CONNECTED && connection->offers_requested)
            send_offer(connection, ch);
        return ch;
    }
    return NULL;
}

void vmbus_connection_rescind(struct vmbus_connection *connection,
                              struct vmbus_channel *channel)
{
    if (channel->state == VMBUS_CHANNEL_FREE || channel->state == VMBUS_CHANNEL_RESCINDED)
        return;
    vmbus_channel_close(channel, "rescinded by the host");
    if (!channel->offered) {
        free_channel(connection, channel);
        return;
    }
    channel->state = VMBUS_CHANNEL_RESCINDED;
    struct vmbus_relid_message m = {
        .header.type = VMBUS_MSG_RESCIND_CHANNELOFFER,
        .child_relid = channel->relid,
    };
    post(connection, &m, sizeof(m));
}

/* A fresh session (new INITIATE_CONTACT, UNLOAD, teardown): channels closed and no longer
 * offered, GPADLs forgotten; the devices stay registered. */
static void reset(struct vmbus_connection *c)
{
    for (uint32_t i = 0; i < VMBUS_CHANNEL_MAX; i++) {
        struct vmbus_channel *ch = &c->channels[i];
        vmbus_channel_close(ch, NULL);
        if (ch->state == VMBUS_CHANNEL_RESCINDED)
            free_channel(c, ch);
        ch->offered = false;
    }
    vmbus_gpadl_remove_channel(&c->gpadls, 0);
    c->state = VMBUS_DISCONNECTED;
    c->offers_requested = false;
    c->version = 0;
}

void vmbus_connection_destroy(struct vmbus_connection *connection)
{
    reset(connection);
    connection->outbox_count = 0;
}

/* ---- messages from the child ---------------------------------------------------------- */

static void refuse(struct vmbus_connection *c, const struct vmbus_message *m, const char *why)
{
    c->stats.refused++;
    vmbus_connection_log(c, "warn", "vmbus: child %s refused: %s", vmbus_message_name(m->type),
                         why);
}

static void on_initiate_contact(struct vmbus_connection *c, const struct vmbus_message *m)
{
    const struct vmbus_initiate_contact_message *ic = &m->u.initiate;
    if (c->state == VMBUS_CONNECTED)
        reset(c); /* every INITIATE_CONTACT starts a new session */
    uint32_t sint = VMBUS_MESSAGE_SINT;
    const char *why = NULL;
    if (ic->version >= VMBUS_VERSION_WIN10_V5)
        sint = (uint8_t)ic->interrupt_page_or_sint;
    if (!vmbus_version_supported(ic->version))
        why = "version not supported";
    else if (ic->target_vcpu >= c->vp_count)
        why = "target VP does not exist";
    else if (sint >= VMBUS_SINT_COUNT)
        why = "message SINT out of range";
    /* The reply goes where the child listens if that is a real VP, else to VP 0. */
    c->target_vp = ic->target_vcpu < c->vp_count ? ic->target_vcpu : 0;
    c->message_sint = sint < VMBUS_SINT_COUNT ? sint : VMBUS_MESSAGE_SINT;
    struct vmbus_version_response_message r = {
        .header.type = VMBUS_MSG_VERSION_RESPONSE,
        .version_supported = why == NULL,
        .message_connection_id = VMBUS_MESSAGE_CONNECTION_ID,
    };
    if (why) {
        /* Linux then proposes its next version: a log line at debug level is enough for
         * the versions it walks through. */
        c->stats.refused++;
        vmbus_connection_log(c, vmbus_version_supported(ic->version) ? "warn" : "debug",
                             "vmbus: INITIATE_CONTACT %u.%u refused: %s", ic->version >> 16,
                             ic->version & 0xFFFF, why);
    } else {
        c->state = VMBUS_CONNECTED;
        c->version = ic->version;
        vmbus_connection_log(c, "info", "vmbus: child connected, version %u.%u, VP %u SINT %u",
                             ic->version >> 16, ic->version & 0xFFFF, c->target_vp,
                             c->message_sint);
    }
    post(c, &r, sizeof(r));
}

static void on_request_offers(struct vmbus_connection *c, const struct vmbus_message *m)
{
    if (c->offers_requested) {
        refuse(c, m, "offers were already sent");
        return;
    }
    c->offers_requested = true;
    for (uint32_t i = 0; i < VMBUS_CHANNEL_MAX; i++)
        if (c->channels[i].state == VMBUS_CHANNEL_CLOSED)
            send_offer(c, &c->channels[i]);
    struct vmbus_message_header done = { .type = VMBUS_MSG_ALLOFFERS_DELIVERED };
    post(c, &done, sizeof(done));
}

static void gpadl_result(struct vmbus_connection *c, const struct vmbus_message *m,
                         enum vmbus_gpadl_progress progress, uint32_t relid, uint32_t handle,
                         const char *why)
{
    switch (progress) {
    case VMBUS_GPADL_INCOMPLETE:
        return;
    case VMBUS_GPADL_COMPLETE:
        send_gpadl_created(c, relid, handle, VMBUS_STATUS_SUCCESS);
        return;
    case VMBUS_GPADL_FAILED:
        refuse(c, m, why);
        send_gpadl_created(c, relid, handle, VMBUS_STATUS_UNSUCCESSFUL);
        return;
    case VMBUS_GPADL_IGNORED:
        refuse(c, m, why);
        return;
    }
}

static void on_gpadl_header(struct vmbus_connection *c, const struct vmbus_message *m)
{
    const struct vmbus_gpadl_header_message *h = &m->u.gpadl_header;
    if (!offered_channel(c, h->child_relid)) {
        gpadl_result(c, m, VMBUS_GPADL_FAILED, h->child_relid, h->gpadl, "unknown channel");
        return;
    }
    const char *why = NULL;
    enum vmbus_gpadl_progress p =
        vmbus_gpadl_begin(&c->gpadls, h->child_relid, h->gpadl, h->range_count,
                          h->range_buffer_length, m->range_data, m->range_data_size, &why);
    gpadl_result(c, m, p, h->child_relid, h->gpadl, why);
}

static void on_gpadl_body(struct vmbus_connection *c, const struct vmbus_message *m)
{
    const struct vmbus_gpadl_body_message *b = &m->u.gpadl_body;
    const struct vmbus_gpadl *g = vmbus_gpadl_find(&c->gpadls, b->gpadl);
    uint32_t relid = g ? g->child_relid : 0;
    const char *why = NULL;
    enum vmbus_gpadl_progress p =
        vmbus_gpadl_continue(&c->gpadls, b->gpadl, m->range_data, m->range_data_size, &why);
    gpadl_result(c, m, p, relid, b->gpadl, why);
}

static void on_gpadl_teardown(struct vmbus_connection *c, const struct vmbus_message *m)
{
    const struct vmbus_gpadl_teardown_message *t = &m->u.gpadl_teardown;
    struct vmbus_gpadl *g = vmbus_gpadl_find(&c->gpadls, t->gpadl);
    if (!g || g->child_relid != t->child_relid) {
        refuse(c, m, "no such GPADL on that channel");
        return;
    }
    struct vmbus_channel *ch = channel_by_relid(c, g->child_relid);
    if (ch && ch->state == VMBUS_CHANNEL_OPEN && ch->ring_gpadl == g->handle)
        vmbus_channel_close(ch, "its ring GPADL was torn down");
    vmbus_gpadl_remove(&c->gpadls, g);
    struct vmbus_gpadl_torndown_message r = {
        .header.type = VMBUS_MSG_GPADL_TORNDOWN,
        .gpadl = t->gpadl,
    };
    post(c, &r, sizeof(r));
}

static void on_open_channel(struct vmbus_connection *c, const struct vmbus_message *m)
{
    const struct vmbus_open_channel_message *o = &m->u.open;
    struct vmbus_channel *ch = offered_channel(c, o->child_relid);
    const struct vmbus_gpadl *g = vmbus_gpadl_find(&c->gpadls, o->ring_gpadl);
    const uint64_t *pfns;
    uint32_t pages;
    const char *why = NULL;
    if (!ch)
        why = "unknown channel";
    else if (ch->state == VMBUS_CHANNEL_OPEN)
        why = "channel already open";
    else if (o->target_vp >= c->vp_count)
        why = "target VP does not exist";
    else if (!g || !g->complete || g->child_relid != o->child_relid)
        why = "ring GPADL unknown, incomplete or of another channel";
    else if (!vmbus_gpadl_pages(g, &pfns, &pages))
        why = "ring GPADL is not whole pages";
    else if (vmbus_channel_open(ch, pfns, pages, o->downstream_ring_page_offset, o->target_vp,
                                o->user_data, &why))
        ch->ring_gpadl = o->ring_gpadl;
    if (why)
        refuse(c, m, why);
    send_open_result(c, o->child_relid, o->open_id,
                     why ? VMBUS_STATUS_UNSUCCESSFUL : VMBUS_STATUS_SUCCESS);
    if (!why)
        vmbus_channel_opened(ch);
}

static void on_close_channel(struct vmbus_connection *c, const struct vmbus_message *m)
{
    struct vmbus_channel *ch = offered_channel(c, m->u.relid.child_relid);
    if (!ch || ch->state != VMBUS_CHANNEL_OPEN) {
        refuse(c, m, "channel is not open");
        return;
    }
    /* The child closes: no reply (Linux vmbus_close_internal does not wait). */
    vmbus_channel_close(ch, NULL);
}

static void on_relid_released(struct vmbus_connection *c, const struct vmbus_message *m)
{
    struct vmbus_channel *ch = channel_by_relid(c, m->u.relid.child_relid);
    if (!ch || ch->state != VMBUS_CHANNEL_RESCINDED) {
        refuse(c, m, "channel was not rescinded");
        return;
    }
    free_channel(c, ch);
}

static void on_unload(struct vmbus_connection *c)
{
    reset(c);
    struct vmbus_message_header r = { .type = VMBUS_MSG_UNLOAD_RESPONSE };
    post(c, &r, sizeof(r));
    vmbus_connection_log(c, "info", "vmbus: child unloaded");
}

static void on_modify_channel(struct vmbus_connection *c, const struct vmbus_message *m)
{
    const struct vmbus_modify_channel_message *mc = &m->u.modify;
    struct vmbus_channel *ch = offered_channel(c, mc->child_relid);
    const char *why = NULL;
    if (!ch || ch->state != VMBUS_CHANNEL_OPEN)
        why = "channel is not open";
    else if (mc->target_vp >= c->vp_count)
        why = "target VP does not exist";
    else
        ch->target_vp = mc->target_vp;
    if (why)
        refuse(c, m, why);
    /* Only 5.3 children wait for the answer (Linux vmbus_channel_modify). */
    if (c->version >= VMBUS_VERSION_WIN10_V5_3) {
        struct vmbus_modify_channel_response_message r = {
            .header.type = VMBUS_MSG_MODIFYCHANNEL_RESPONSE,
            .child_relid = mc->child_relid,
            .status = why ? VMBUS_STATUS_UNSUCCESSFUL : VMBUS_STATUS_SUCCESS,
        };
        post(c, &r, sizeof(r));
    }
}

static void dispatch(struct vmbus_connection *c, const struct vmbus_message *m)
{
    switch (m->type) {
    case VMBUS_MSG_REQUESTOFFERS:
        on_request_offers(c, m);
        break;
    case VMBUS_MSG_OPENCHANNEL:
        on_open_channel(c, m);
        break;
    case VMBUS_MSG_CLOSECHANNEL:
        on_close_channel(c, m);
        break;
    case VMBUS_MSG_GPADL_HEADER:
        on_gpadl_header(c, m);
        break;
    case VMBUS_MSG_GPADL_BODY:
        on_gpadl_body(c, m);
        break;
    case VMBUS_MSG_GPADL_TEARDOWN:
        on_gpadl_teardown(c, m);
        break;
    case VMBUS_MSG_RELID_RELEASED:
        on_relid_released(c, m);
        break;
    case VMBUS_MSG_MODIFYCHANNEL:
        on_modify_channel(c, m);
        break;
    default:
        refuse(c, m, "unexpected message type");
        break;
    }
}

void vmbus_connection_handle_message(struct vmbus_connection *connection,
                                     uint32_t connection_id, const void *payload,
                                     uint32_t size)
{
    struct vmbus_message m;
    const char *why = NULL;
    connection->stats.messages++;
    if (!vmbus_message_parse(payload, size, &m, &why)) {
        connection->stats.refused++;
        vmbus_connection_log(connection, "warn",
                             "vmbus: child message refused: %s (type %s, %u bytes)", why,
                             vmbus_message_name(m.type), size);
        return;
    }
    if (connection_id != VMBUS_MESSAGE_CONNECTION_ID &&
        connection_id != VMBUS_MESSAGE_CONNECTION_ID_4) {
        refuse(connection, &m, "not a VMBus message connection id");
        return;
    }
    if (m.type == VMBUS_MSG_INITIATE_CONTACT) {
        on_initiate_contact(connection, &m);
        return;
    }
    if (m.type == VMBUS_MSG_UNLOAD) {
        on_unload(connection);
        return;
    }
    if (connection->state != VMBUS_CONNECTED) {
        refuse(connection, &m, "no version negotiated");
        return;
    }
    dispatch(connection, &m);
}

bool vmbus_connection_handle_signal(struct vmbus_connection *connection,
                                    uint32_t connection_id)
{
    uint32_t relid = connection_id - VMBUS_CHANNEL_CONNECTION_ID_BASE;
    struct vmbus_channel *ch = connection_id > VMBUS_CHANNEL_CONNECTION_ID_BASE
                                   ? channel_by_relid(connection, relid)
                                   : NULL;
    if (!ch || ch->state != VMBUS_CHANNEL_OPEN) {
        /* A kick can race with a close; count it, no log line per kick. */
        connection->stats.stray_signals++;
        return false;
    }
    ch->stats.kicks++;
    return vmbus_channel_poll(ch);
}
