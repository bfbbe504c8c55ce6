/*
 * The root's network interface; see network.h. lwIP runs NO_SYS: everything here runs on
 * root VP 0 from the worker loop, so lwIP is never entered concurrently.
 *
 * Frames: NIC -> vswitch_input(external) -> the switch's queues -> root port transmit ->
 * ethernet_input, or a child's netvsp; lwIP's link output -> vswitch_input(root) ->
 * external port transmit -> the NIC (a full transmit queue leaves the frame in the
 * switch's queue, flushed again from network_poll).
 */
#include "root/network.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lwip/dhcp.h"
#include "lwip/etharp.h"
#include "lwip/ethip6.h"
#include "lwip/init.h"
#include "lwip/ip_addr.h"
#include "lwip/netif.h"
#include "lwip/pbuf.h"
#include "lwip/sys.h"
#include "lwip/tcp.h"
#include "lwip/timeouts.h"
#include "netif/ethernet.h"

#include "drivers/e1000e.h"
#include "drivers/pci.h"
#include "drivers/virtio_net.h"
#include "hv/intercept_abi.h"
#include "hv/stimer.h"
#include "kernel/cmdline.h"
#include "kernel/x86.h"
#include "libc-glue/time.h"
#include "root/hvcall.h"
#include "root/log.h"
#include "root/message_slot.h"
#include "vsp/vswitch.h"

#define FRAMES_PER_POLL 64
#define NETWORK_STIMER 1
#define DEFAULT_PREFIX 24
#define SHUTDOWN_DELAY_MS 300 /* lets the last FIN/ACK leave before the test ends */

/* The NIC drivers the root has, tried in this order; the first that starts is used. */
struct nic_driver {
    const char *name;
    bool (*start)(uint8_t mac[6]);
    bool (*transmit)(const void *frame, size_t length);
    size_t (*receive)(void *buffer, size_t size);
    bool (*broken)(void);
    bool (*enable_interrupt)(uint64_t msi_address, uint32_t msi_data);
};

static bool never_broken(void)
{
    return false;
}

static const struct nic_driver drivers[] = {
    {"virtio-net", virtio_net_start, virtio_net_transmit, virtio_net_receive, virtio_net_broken,
     virtio_net_enable_interrupt},
    {"e1000e", e1000e_start, e1000e_transmit, e1000e_receive, never_broken,
     e1000e_enable_interrupt},
};

static struct {
    const struct nic_driver *nic;
    bool up;
    bool reported;
    bool static_ipv4;
    struct netif netif;
    uint8_t mac[6];
    volatile struct hv_message *slot;
    bool interrupt;               /* the NIC's receive interrupt wakes the worker */
    uint8_t frame[VIRTIO_NET_FRAME_MAX > E1000E_FRAME_MAX ? VIRTIO_NET_FRAME_MAX : E1000E_FRAME_MAX];
    uint8_t output[VSWITCH_FRAME_MAX]; /* lwIP's frame on its way to the switch */
    struct vswitch vswitch;
    bool vswitch_ready;
    int external_port, root_port; /* -1 until the NIC is up */
    /* test.echo_* */
    struct tcp_pcb *echo_listener;
    unsigned long echo_sessions_done, echo_sessions_limit;
    uint32_t shutdown_at_ms;
    bool shutdown_armed;
} network;

/* --- command line ---------------------------------------------------------------------- */

/* Dotted quad, four decimal octets without leading zeros (kernel/settings.c's rule). */
static bool parse_ipv4(const char *text, const char **end, ip4_addr_t *out)
{
    uint8_t octet[4];
    const char *p = text;
    for (int i = 0; i < 4; i++) {
        if (i > 0 && *p++ != '.')
            return false;
        unsigned value = 0, digits = 0;
        while (p[digits] >= '0' && p[digits] <= '9' && digits < 4)
            value = value * 10 + (unsigned)(p[digits++] - '0');
        if (digits == 0 || digits > 3 || value > 255 || (digits > 1 && p[0] == '0'))
            return false;
        octet[i] = (uint8_t)value;
        p += digits;
    }
    IP4_ADDR(out, octet[0], octet[1], octet[2], octet[3]);
    *end = p;
    return true;
}

static bool parse_static(const char *cmdline, ip4_addr_t *ip, ip4_addr_t *mask, ip4_addr_t *gw)
{
    char value[40];
    if (!cmdline_get(cmdline, "net.ip", value, sizeof(value)) || strcmp(value, "dhcp") == 0)
        return false;
    const char *end;
    unsigned prefix = DEFAULT_PREFIX;
    bool ok = parse_ipv4(value, &end, ip);
    if (ok && *end == '/') {
        char *after;
        unsigned long n = strtoul(end + 1, &after, 10);
        ok = end[1] >= '0' && end[1] <= '9' && *after == '\0' && n >= 1 && n <= 32;
        prefix = (unsigned)n;
    } else if (ok && *end != '\0') {
        ok = false;
    }
    if (!ok) {
        printf("root: network: net.ip=%.20s is not A.B.C.D[/1-32]; using DHCP\n", value);
        return false;
    }
    ip4_addr_set_u32(mask, lwip_htonl(prefix == 32 ? 0xFFFFFFFFu : ~(0xFFFFFFFFu >> prefix)));
    ip4_addr_set_zero(gw);
    if (cmdline_get(cmdline, "net.gateway", value, sizeof(value)) &&
        (!parse_ipv4(value, &end, gw) || *end != '\0')) {
        printf("root: network: net.gateway=%.20s is not A.B.C.D; no gateway\n", value);
        ip4_addr_set_zero(gw);
    }
    return true;
}

static unsigned long number(const char *cmdline, const char *key, unsigned long max)
{
    char value[16];
    if (!cmdline_get(cmdline, key, value, sizeof(value)))
        return 0;
    char *end;
    unsigned long n = strtoul(value, &end, 10);
    if (value[0] < '0' || value[0] > '9' || *end || n == 0 || n > max) {
        printf("root: network: %s=%s is not a number in 1..%lu; ignored\n", key, value, max);
        return 0;
    }
    return n;
}

/* --- the virtual switch ------------------------------------------------------------------ */

static void vswitch_log(void *context, const char *level, const char *line)
{
    (void)context;
    root_log(level, "%s", line);
}

struct vswitch *network_vswitch(void)
{
    if (!network.vswitch_ready) {
        vswitch_init(&network.vswitch, vswitch_log, NULL);
        network.vswitch_ready = true;
        network.external_port = -1;
        network.root_port = -1;
    }
    return &network.vswitch;
}

/* The external port's transmit: false (kept queued) while the NIC's queue is full. */
static bool external_transmit(void *context, const uint8_t *frame, uint32_t length)
{
    (void)context;
    return network.nic->transmit(frame, length);
}

/* The root port's transmit: a frame for lwIP. No pbuf drops it, as a busy wire would. */
static bool root_transmit(void *context, const uint8_t *frame, uint32_t length)
{
    (void)context;
    struct pbuf *p = pbuf_alloc(PBUF_RAW, (u16_t)length, PBUF_POOL);
    if (!p)
        return true;
    pbuf_take(p, frame, (u16_t)length);
    if (network.netif.input(p, &network.netif) != ERR_OK)
        pbuf_free(p);
    return true;
}

static const struct vswitch_port_ops external_ops = {external_transmit, NULL};
static const struct vswitch_port_ops root_ops = {root_transmit, NULL};

/* --- lwIP interface over the switch ------------------------------------------------------ */

static err_t link_output(struct netif *netif, struct pbuf *p)
{
    (void)netif;
    if (p->tot_len > sizeof(network.output))
        return ERR_BUF;
    u16_t length = pbuf_copy_partial(p, network.output, p->tot_len, 0);
    /* A full switch queue drops the frame (counted there), as a busy wire would: TCP
     * resends. */
    vswitch_input(&network.vswitch, network.root_port, network.output, length);
    return ERR_OK;
}

static err_t interface_init(struct netif *netif)
{
    netif->name[0] = 'e';
    netif->name[1] = 'n';
    netif->output = etharp_output;
    netif->output_ip6 = ethip6_output;
    netif->linkoutput = link_output;
    netif->mtu = 1500;
    netif->hwaddr_len = ETH_HWADDR_LEN;
    memcpy(netif->hwaddr, network.mac, ETH_HWADDR_LEN);
    netif->flags = NETIF_FLAG_BROADCAST | NETIF_FLAG_ETHARP | NETIF_FLAG_ETHERNET |
                   NETIF_FLAG_MLD6;
    return ERR_OK;
}

/* --- test.echo_port ---------------------------------------------------------------------- */

struct echo {
    struct tcp_pcb *pcb;
    struct pbuf *pending; /* received, not yet queued back */
    u16_t offset;         /* into pending's first pbuf */
    bool remote_closed;
};

static void echo_finished(struct echo *e)
{
    free(e);
    network.echo_sessions_done++;
    if (network.echo_sessions_limit && network.echo_sessions_done >= network.echo_sessions_limit &&
        !network.shutdown_armed) {
        printf("root: network: %lu echo sessions done; shutting down\n",
               network.echo_sessions_done);
        network.shutdown_armed = true;
        network.shutdown_at_ms = sys_now() + SHUTDOWN_DELAY_MS;
    }
}

static void echo_close(struct echo *e)
{
    tcp_arg(e->pcb, NULL);
    tcp_recv(e->pcb, NULL);
    tcp_sent(e->pcb, NULL);
    tcp_err(e->pcb, NULL);
    if (e->pending)
        pbuf_free(e->pending);
    if (tcp_close(e->pcb) != ERR_OK)
        tcp_abort(e->pcb);
    echo_finished(e);
}

/* Queues back what fits in the send buffer; the receive window opens by what was queued,
 * so a client can never have more in flight than this connection holds. */
static void echo_send(struct echo *e)
{
    while (e->pending) {
        struct pbuf *p = e->pending;
        u16_t left = (u16_t)(p->len - e->offset);
        u16_t room = tcp_sndbuf(e->pcb);
        u16_t n = left < room ? left : room;
        if (left > 0) {
            if (n == 0)
                break;
            err_t err = tcp_write(e->pcb, (const uint8_t *)p->payload + e->offset, n,
                                  TCP_WRITE_FLAG_COPY);
            if (err == ERR_MEM)
                break;
            if (err != ERR_OK) {
                echo_close(e);
                return;
            }
            e->offset = (u16_t)(e->offset + n);
            tcp_recved(e->pcb, n);
        }
        if (e->offset == p->len) {
            e->pending = p->next;
            if (p->next)
                pbuf_ref(p->next);
            pbuf_free(p);
            e->offset = 0;
        }
    }
    tcp_output(e->pcb);
    if (e->remote_closed && !e->pending)
        echo_close(e);
}

static err_t echo_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
    struct echo *e = arg;
    (void)pcb;
    if (err != ERR_OK) {
        if (p)
            pbuf_free(p);
        return ERR_OK;
    }
    if (!p) {
        e->remote_closed = true;
    } else if (e->pending) {
        pbuf_cat(e->pending, p);
    } else {
        e->pending = p;
        e->offset = 0;
    }
    echo_send(e);
    return ERR_OK;
}

static err_t echo_sent(void *arg, struct tcp_pcb *pcb, u16_t length)
{
    (void)pcb;
    (void)length;
    echo_send(arg);
    return ERR_OK;
}

static void echo_error(void *arg, err_t err)
{
    (void)err; /* the pcb is already freed by lwIP */
    struct echo *e = arg;
    if (e->pending)
        pbuf_free(e->pending);
    echo_finished(e);
}

static err_t echo_accept(void *arg, struct tcp_pcb *pcb, err_t err)
{
    (void)arg;
    if (err != ERR_OK || !pcb)
        return ERR_VAL;
    struct echo *e = calloc(1, sizeof(*e));
    if (!e) {
        tcp_abort(pcb);
        return ERR_ABRT;
    }
    e->pcb = pcb;
    tcp_arg(pcb, e);
    tcp_recv(pcb, echo_recv);
    tcp_sent(pcb, echo_sent);
    tcp_err(pcb, echo_error);
    tcp_nagle_disable(pcb); /* an echo answers small writes at once */
    return ERR_OK;
}

static void echo_start(const char *cmdline)
{
    unsigned long port = number(cmdline, "test.echo_port", 65535);
    if (!port)
        return;
    network.echo_sessions_limit = number(cmdline, "test.echo_sessions", 1000000);
    struct tcp_pcb *pcb = tcp_new_ip_type(IPADDR_TYPE_ANY);
    if (!pcb || tcp_bind(pcb, IP_ANY_TYPE, (u16_t)port) != ERR_OK) {
        printf("root: network: test echo service cannot bind port %lu\n", port);
        if (pcb)
            tcp_close(pcb);
        return;
    }
    network.echo_listener = tcp_listen(pcb);
    if (!network.echo_listener) {
        tcp_close(pcb);
        printf("root: network: test echo service cannot listen\n");
        return;
    }
    tcp_accept(network.echo_listener, echo_accept);
    printf("root: network: test echo service on TCP port %lu\n", port);
}

/* --- start and poll ------------------------------------------------------------------- */

/* The NIC's receive interrupt, redirected by the hypervisor to root VP 0 (the worker). */
static void interrupt_start(const char *cmdline)
{
    char value[8];
    if (cmdline_get(cmdline, "net.interrupts", value, sizeof(value))) {
        if (strcmp(value, "off") == 0) {
            printf("root: network: net.interrupts=off: the NIC is polled every %u ms\n",
                   NETWORK_POLL_MS);
            return;
        }
        if (strcmp(value, "on") != 0)
            printf("root: network: net.interrupts=%.8s is not on or off; using on\n", value);
    }
    uint64_t address;
    uint32_t data, id;
    uint16_t status = hvcall_map_device_interrupt(0, &address, &data, &id);
    if (status != HV_STATUS_SUCCESS) {
        printf("root: network: the hypervisor gave no device interrupt (status %#x); the NIC "
               "is polled every %u ms\n", status, NETWORK_POLL_MS);
        return;
    }
    network.interrupt = network.nic->enable_interrupt(address, data);
    if (!network.interrupt) {
        hvcall_unmap_device_interrupt(id);
        printf("root: network: the NIC is polled every %u ms\n", NETWORK_POLL_MS);
        return;
    }
    printf("root: network: %s receive interrupts through the hypervisor (device interrupt %u)\n",
           network.nic->name, id);
}

static void wake_timer_start(void)
{
    uint64_t simp = rdmsr(HV_X64_MSR_SIMP);
    if (!(simp & HV_SIMP_ENABLE)) {
        printf("root: network: no SynIC message page: polled only between other work\n");
        return;
    }
    network.slot = (volatile struct hv_message *)(uintptr_t)(simp & ~0xFFFull) + NETWORK_SINT;
    uint32_t config = HV_X64_MSR_STIMER0_CONFIG + 2 * NETWORK_STIMER;
    wrmsr(config, 0);
    uint64_t period_ms = network.interrupt ? NETWORK_TIMER_MS : NETWORK_POLL_MS;
    wrmsr(config + 1, period_ms * 10000ull); /* 100 ns units */
    wrmsr(config, ((uint64_t)NETWORK_SINT << HV_STIMER_SINT_SHIFT) | HV_STIMER_PERIODIC |
                      HV_STIMER_ENABLE);
}

/* Empties the timer's slot (TLFS 11.10.3: clear, then EOM if something waits). */
static bool take_wake(void)
{
    volatile struct hv_message *slot = network.slot;
    if (!slot || slot->header.message_type == HV_MESSAGE_TYPE_NONE)
        return false;
    message_slot_free(slot);
    return true;
}

bool network_start(const char *cmdline)
{
    char mode[8];
    if (cmdline_get(cmdline, "net", mode, sizeof(mode))) {
        if (strcmp(mode, "off") == 0) {
            printf("root: network: net=off\n");
            return false;
        }
        if (strcmp(mode, "dhcp") != 0)
            printf("root: network: net=%.8s is not dhcp or off; using DHCP\n", mode);
    }
    size_t devices = pci_scan_devices();
    for (size_t i = 0; i < devices; i++) {
        const struct pci_device *d = pci_device_at(i);
        root_debug("pci %02x:%02x.%u %04x:%04x class %02x.%02x", d->address.bus,
               d->address.slot, d->address.function, d->vendor, d->device, d->class_code,
               d->subclass);
    }
    for (size_t i = 0; i < sizeof(drivers) / sizeof(drivers[0]) && !network.nic; i++)
        if (drivers[i].start(network.mac))
            network.nic = &drivers[i];
    if (!network.nic) {
        printf("root: network: no usable NIC among %zu PCI functions; no network\n", devices);
        return false;
    }
    struct vswitch *sw = network_vswitch();
    network.external_port = vswitch_port_add(sw, VSWITCH_PORT_EXTERNAL, network.nic->name, NULL,
                                             &external_ops, NULL);
    network.root_port = vswitch_port_add(sw, VSWITCH_PORT_INTERNAL, "root", network.mac,
                                         &root_ops, NULL);
    if (network.external_port < 0 || network.root_port < 0) {
        printf("root: network: the virtual switch refused the NIC's ports; no network\n");
        return false;
    }
    ip4_addr_t ip, mask, gw;
    network.static_ipv4 = parse_static(cmdline, &ip, &mask, &gw);
    if (!network.static_ipv4) {
        ip4_addr_set_zero(&ip);
        ip4_addr_set_zero(&mask);
        ip4_addr_set_zero(&gw);
    }
    if (!netif_add(&network.netif, &ip, &mask, &gw, NULL, interface_init, ethernet_input)) {
        printf("root: network: lwIP refused the interface\n");
        return false;
    }
    netif_set_default(&network.netif);
    netif_set_up(&network.netif);
    netif_set_link_up(&network.netif);
    netif_create_ip6_linklocal_address(&network.netif, 1);
    netif_set_ip6_autoconfig_enabled(&network.netif, 1);
    if (!network.static_ipv4 && dhcp_start(&network.netif) != ERR_OK) {
        printf("root: network: DHCP cannot start\n");
        return false;
    }
    network.up = true;
    interrupt_start(cmdline);
    wake_timer_start();
    echo_start(cmdline);
    return true;
}

static void report_once(void)
{
    if (network.reported)
        return;
    const ip4_addr_t *ip = netif_ip4_addr(&network.netif);
    if (ip4_addr_isany(ip) || (!network.static_ipv4 && !dhcp_supplied_address(&network.netif)))
        return;
    network.reported = true;
    unsigned prefix = 0;
    for (uint32_t m = lwip_ntohl(ip4_addr_get_u32(netif_ip4_netmask(&network.netif))); m;
         m <<= 1)
        prefix++;
    char ip4[IP4ADDR_STRLEN_MAX], ip6[IP6ADDR_STRLEN_MAX];
    ip4addr_ntoa_r(ip, ip4, sizeof(ip4));
    ip6addr_ntoa_r(netif_ip6_addr(&network.netif, 0), ip6, sizeof(ip6));
    for (char *c = ip6; *c; c++) /* RFC 5952, 4.3: lowercase */
        if (*c >= 'A' && *c <= 'F')
            *c = (char)(*c - 'A' + 'a');
    const uint8_t *m = network.mac;
    printf("hvfw: network %c%c%u mac=%02x:%02x:%02x:%02x:%02x:%02x ipv4=%s/%u ipv6=%s (%s, %s)\n",
           network.netif.name[0], network.netif.name[1], network.netif.num, m[0], m[1], m[2],
           m[3], m[4], m[5], ip4, prefix, ip6, network.static_ipv4 ? "static" : "dhcp",
           network.nic->name);
}

bool network_poll(void)
{
    if (!network.up)
        return false;
    take_wake();
    bool work = false;
    /* Frames that waited for room in the NIC's transmit queue first. */
    vswitch_port_flush(&network.vswitch, network.external_port);
    for (int i = 0; i < FRAMES_PER_POLL; i++) {
        size_t length = network.nic->receive(network.frame, sizeof(network.frame));
        if (length == 0)
            break;
        work = true;
        /* Length and source are checked by the switch (runts, giants, group sources). */
        vswitch_input(&network.vswitch, network.external_port, network.frame, (uint32_t)length);
    }
    vswitch_tick(&network.vswitch, libc_uptime_ns() / 1000000u);
    sys_check_timeouts();
    report_once();
    if (network.shutdown_armed && (int32_t)(sys_now() - network.shutdown_at_ms) >= 0) {
        network.shutdown_armed = false;
        hvcall_shutdown(0);
    }
    if (network.nic->broken() && network.up) {
        netif_set_link_down(&network.netif);
        network.up = false;
    }
    return work;
}
