#include "vsp/vswitch.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The switch is fed from every root VP that serves a port; one short lock covers the
 * table and the queues, never held across a port's transmit. */
static void lock(struct vswitch *sw)
{
    while (__atomic_exchange_n(&sw->lock, 1u, __ATOMIC_ACQUIRE))
        while (__atomic_load_n(&sw->lock, __ATOMIC_RELAXED))
            __builtin_ia32_pause();
}

static void unlock(struct vswitch *sw)
{
    __atomic_store_n(&sw->lock, 0u, __ATOMIC_RELEASE);
}

static void say(struct vswitch *sw, const char *level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void say(struct vswitch *sw, const char *level, const char *fmt, ...)
{
    if (!sw->log)
        return;
    char line[160];
    va_list args;
    va_start(args, fmt);
    vsnprintf(line, sizeof(line), fmt, args);
    va_end(args);
    sw->log(sw->log_context, level, line);
}

static bool is_group(const uint8_t *mac)
{
    return mac[0] & 1u; /* I/G bit: broadcast and multicast */
}

static bool is_zero(const uint8_t *mac)
{
    return !(mac[0] | mac[1] | mac[2] | mac[3] | mac[4] | mac[5]);
}

void vswitch_init(struct vswitch *sw, void (*log)(void *context, const char *level,
                                                  const char *line),
                  void *log_context)
{
    memset(sw, 0, sizeof(*sw));
    sw->log = log;
    sw->log_context = log_context;
}

void vswitch_destroy(struct vswitch *sw)
{
    for (uint32_t i = 0; i < VSWITCH_PORT_MAX; i++)
        if (sw->ports[i].used)
            vswitch_port_remove(sw, (int)i);
}

static struct vswitch_port *port_at(struct vswitch *sw, int port)
{
    if (port < 0 || (uint32_t)port >= VSWITCH_PORT_MAX || !sw->ports[port].used)
        return NULL;
    return &sw->ports[port];
}

/* Callers hold the lock. */
static int owner_of(struct vswitch *sw, const uint8_t *mac)
{
    for (uint32_t i = 0; i < VSWITCH_PORT_MAX; i++) {
        const struct vswitch_port *p = &sw->ports[i];
        if (p->used && p->kind == VSWITCH_PORT_INTERNAL && memcmp(p->mac, mac, 6) == 0)
            return (int)i;
    }
    return -1;
}

static struct vswitch_entry *entry_of(struct vswitch *sw, const uint8_t *mac)
{
    for (uint32_t i = 0; i < VSWITCH_TABLE_SIZE; i++) {
        struct vswitch_entry *e = &sw->table[i];
        if (e->used && memcmp(e->mac, mac, 6) == 0)
            return e;
    }
    return NULL;
}

int vswitch_port_add(struct vswitch *sw, enum vswitch_port_kind kind, const char *name,
                     const uint8_t mac[6], const struct vswitch_port_ops *ops, void *context)
{
    if (!ops || !ops->transmit ||
        (kind == VSWITCH_PORT_INTERNAL && (!mac || is_group(mac) || is_zero(mac)))) {
        say(sw, "warn", "vswitch: port %s refused: an internal port needs a unicast MAC",
            name);
        return -1;
    }
    struct vswitch_frame *queue = malloc(sizeof(*queue) * VSWITCH_QUEUE_FRAMES);
    if (!queue)
        return -1;
    lock(sw);
    int found = -1;
    if (kind == VSWITCH_PORT_INTERNAL && owner_of(sw, mac) >= 0) {
        unlock(sw);
        free(queue);
        say(sw, "warn", "vswitch: port %s refused: its MAC belongs to another port", name);
        return -1;
    }
    for (uint32_t i = 0; i < VSWITCH_PORT_MAX && found < 0; i++)
        if (!sw->ports[i].used)
            found = (int)i;
    if (found < 0) {
        unlock(sw);
        free(queue);
        say(sw, "warn", "vswitch: port %s refused: all %u ports in use", name,
            VSWITCH_PORT_MAX);
        return -1;
    }
    struct vswitch_port *p = &sw->ports[found];
    memset(p, 0, sizeof(*p));
    p->used = true;
    p->kind = kind;
    snprintf(p->name, sizeof(p->name), "%s", name);
    if (mac)
        memcpy(p->mac, mac, 6);
    p->ops = ops;
    p->context = context;
    p->queue = queue;
    if (kind == VSWITCH_PORT_INTERNAL) {
        /* A MAC learned from outside before this port existed now belongs here. */
        struct vswitch_entry *e = entry_of(sw, mac);
        if (e)
            e->used = false;
    }
    unlock(sw);
    say(sw, "info", "vswitch: port %d %s (%s) %02x:%02x:%02x:%02x:%02x:%02x", found, p->name,
        kind == VSWITCH_PORT_EXTERNAL ? "external" : "internal", p->mac[0], p->mac[1],
        p->mac[2], p->mac[3], p->mac[4], p->mac[5]);
    return found;
}

void vswitch_port_remove(struct vswitch *sw, int port)
{
    lock(sw);
    struct vswitch_port *p = port_at(sw, port);
    if (!p) {
        unlock(sw);
        return;
    }
    for (uint32_t i = 0; i < VSWITCH_TABLE_SIZE; i++)
        if (sw->table[i].used && sw->table[i].port == (uint32_t)port)
            sw->table[i].used = false;
    struct vswitch_frame *queue = p->queue;
    memset(p, 0, sizeof(*p));
    unlock(sw);
    free(queue);
}

/* Learns `mac` on external port `port`; the lock is held. */
static void learn(struct vswitch *sw, const uint8_t *mac, uint32_t port)
{
    struct vswitch_entry *e = entry_of(sw, mac), *oldest = NULL;
    if (e) {
        if (e->port != port)
            sw->stats.moved++;
        e->port = port;
        e->seen_ms = sw->now_ms;
        return;
    }
    for (uint32_t i = 0; i < VSWITCH_TABLE_SIZE; i++) {
        struct vswitch_entry *c = &sw->table[i];
        if (!c->used) {
            e = c;
            break;
        }
        if (!oldest || c->seen_ms < oldest->seen_ms)
            oldest = c;
    }
    if (!e) {
        e = oldest;
        sw->stats.evicted++;
    }
    e->used = true;
    memcpy(e->mac, mac, 6);
    e->port = port;
    e->seen_ms = sw->now_ms;
    sw->stats.learned++;
}

/* Queues a copy for `port` (lock held); true if the queue was empty before. */
static bool enqueue(struct vswitch_port *p, const uint8_t *frame, uint32_t length)
{
    if (p->count == VSWITCH_QUEUE_FRAMES) {
        p->stats.dropped_queue_full++;
        return false;
    }
    struct vswitch_frame *f = &p->queue[(p->head + p->count) % VSWITCH_QUEUE_FRAMES];
    f->length = length;
    memcpy(f->bytes, frame, length);
    p->count++;
    return p->count == 1;
}

/* The ports a frame from `in` goes to (lock held): a bit per port. */
static uint32_t destinations(struct vswitch *sw, uint32_t in, const uint8_t *frame)
{
    struct vswitch_port *from = &sw->ports[in];
    const uint8_t *dst = frame, *src = frame + 6;
    if (from->kind == VSWITCH_PORT_INTERNAL && memcmp(src, from->mac, 6) != 0) {
        from->stats.dropped_spoofed++;
        return 0;
    }
    if (from->kind == VSWITCH_PORT_EXTERNAL) {
        if (owner_of(sw, src) >= 0) { /* our own MAC coming back in: a loop or a spoof */
            from->stats.dropped_spoofed++;
            return 0;
        }
        learn(sw, src, in);
    }
    uint32_t mask = 0;
    if (is_group(dst)) {
        for (uint32_t i = 0; i < VSWITCH_PORT_MAX; i++)
            if (sw->ports[i].used && i != in)
                mask |= 1u << i;
        return mask;
    }
    int owner = owner_of(sw, dst);
    if (owner >= 0)
        return (uint32_t)owner != in ? 1u << owner : 0;
    struct vswitch_entry *e = entry_of(sw, dst);
    if (e && sw->now_ms - e->seen_ms < VSWITCH_AGE_MS)
        return e->port != in ? 1u << e->port : 0;
    if (from->kind == VSWITCH_PORT_EXTERNAL) {
        from->stats.dropped_unknown++;
        return 0;
    }
    for (uint32_t i = 0; i < VSWITCH_PORT_MAX; i++)
        if (sw->ports[i].used && sw->ports[i].kind == VSWITCH_PORT_EXTERNAL)
            mask |= 1u << i;
    return mask;
}

void vswitch_input(struct vswitch *sw, int port, const uint8_t *frame, uint32_t length)
{
    lock(sw);
    struct vswitch_port *from = port_at(sw, port);
    if (!from) {
        unlock(sw);
        return;
    }
    if (length < VSWITCH_FRAME_MIN || length > VSWITCH_FRAME_MAX || is_group(frame + 6)) {
        from->stats.dropped_malformed++;
        unlock(sw);
        return;
    }
    uint32_t mask = destinations(sw, (uint32_t)port, frame), wake = 0;
    if (mask) {
        from->stats.in_frames++;
        from->stats.in_bytes += length;
    }
    for (uint32_t i = 0; i < VSWITCH_PORT_MAX; i++)
        if ((mask & (1u << i)) && enqueue(&sw->ports[i], frame, length))
            wake |= 1u << i;
    /* Ports with a notify op are told; the others drain here, in the sender's context. */
    struct {
        const struct vswitch_port_ops *ops;
        void *context;
        int port;
    } todo[VSWITCH_PORT_MAX];
    uint32_t n = 0;
    for (uint32_t i = 0; i < VSWITCH_PORT_MAX; i++)
        if (mask & (1u << i))
            todo[n++] = (typeof(todo[0])){ sw->ports[i].ops, sw->ports[i].context, (int)i };
    unlock(sw);
    for (uint32_t k = 0; k < n; k++) {
        if (todo[k].ops->notify) {
            if (wake & (1u << todo[k].port))
                todo[k].ops->notify(todo[k].context);
        } else {
            vswitch_port_flush(sw, todo[k].port);
        }
    }
}

bool vswitch_port_flush(struct vswitch *sw, int port)
{
    struct vswitch_frame frame;
    lock(sw);
    struct vswitch_port *p = port_at(sw, port);
    if (!p || p->flushing) {
        bool empty = !p || p->count == 0;
        unlock(sw);
        return empty;
    }
    p->flushing = true;
    while (p->count) {
        /* Producers only append, so the head stays put while the lock is dropped; a
         * copy keeps the transmit independent of the queue's memory. */
        const struct vswitch_frame *head = &p->queue[p->head];
        frame.length = head->length;
        memcpy(frame.bytes, head->bytes, head->length);
        const struct vswitch_port_ops *ops = p->ops;
        void *context = p->context;
        unlock(sw);
        bool taken = ops->transmit(context, frame.bytes, frame.length);
        lock(sw);
        p = port_at(sw, port);
        if (!p || !taken)
            break;
        p->head = (p->head + 1) % VSWITCH_QUEUE_FRAMES;
        p->count--;
        p->stats.out_frames++;
        p->stats.out_bytes += frame.length;
    }
    bool empty = !p || p->count == 0;
    if (p)
        p->flushing = false;
    unlock(sw);
    return empty;
}

void vswitch_tick(struct vswitch *sw, uint64_t now_ms)
{
    lock(sw);
    if (now_ms > sw->now_ms)
        sw->now_ms = now_ms;
    for (uint32_t i = 0; i < VSWITCH_TABLE_SIZE; i++) {
        struct vswitch_entry *e = &sw->table[i];
        if (e->used && sw->now_ms - e->seen_ms >= VSWITCH_AGE_MS) {
            e->used = false;
            sw->stats.aged++;
        }
    }
    unlock(sw);
}

int vswitch_lookup(struct vswitch *sw, const uint8_t mac[6])
{
    lock(sw);
    int port = owner_of(sw, mac);
    if (port < 0) {
        struct vswitch_entry *e = entry_of(sw, mac);
        if (e && sw->now_ms - e->seen_ms < VSWITCH_AGE_MS)
            port = (int)e->port;
    }
    unlock(sw);
    return port;
}

void vswitch_mac_from_name(const char *name, uint8_t mac[6])
{
    uint64_t h = 0xCBF29CE484222325ull; /* FNV-1a 64 */
    for (const char *c = name; *c; c++) {
        h ^= (uint8_t)*c;
        h *= 0x100000001B3ull;
    }
    mac[0] = 0x02; /* locally administered (bit 1), unicast (bit 0 clear): IEEE 802 9.2 */
    for (int i = 1; i < 6; i++)
        mac[i] = (uint8_t)(h >> (8 * (i - 1)));
}
