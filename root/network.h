/*
 * The root's network (issue 6): an lwIP interface over the first NIC the root finds
 * (virtio-net, drivers/virtio_net.h, else an 82574L, drivers/e1000e.h), IPv4 from the firmware command line or DHCP, IPv6
 * link-local plus SLAAC. Once the interface has its IPv4 address it prints, once:
 *   hvfw: network en1 mac=52:54:00:12:34:56 ipv4=10.0.2.15/24 ipv6=fe80::... (dhcp, virtio-net)
 *
 * Command line (docs/boot.md, "Settings"):
 *   net.ip=A.B.C.D[/N] | net.ip=dhcp   static address (prefix 24 by default) or DHCP
 *   net.gateway=A.B.C.D                with a static address
 *   net=dhcp | net=off                 DHCP (the default) or no network at all
 * A malformed value gets a warning and DHCP (the hypervisor's settings check reports it too).
 *
 * network_poll() runs from the worker loop on root VP 0 (root/worker.c). The NIC's receive
 * interrupt is an MSI/MSI-X message the hypervisor gave (hv/device_interrupt.h): it wakes
 * that VP, whose loop then polls. A periodic synthetic timer (STIMER1 -> NETWORK_SINT) wakes
 * it too, every NETWORK_TIMER_MS for lwIP's timers, or every NETWORK_POLL_MS when the NIC
 * has no interrupt (`net.interrupts=off`, or a device without MSI/MSI-X): then that timer
 * is what serves the receive queue.
 *
 * The virtual switch (vsp/vswitch.h, docs/ARCHITECTURE.md "Network VSP and the virtual
 * switch"): the NIC is its external port and lwIP's interface an internal port under the
 * NIC's MAC, so the root keeps its address while the children's netvsp ports (added by
 * root/vmbus_server.c) share the wire. The NIC receives every frame: virtio-net as QEMU
 * resets it is promiscuous (no VIRTIO_NET_F_CTRL_RX negotiated, virtio 1.2 5.1.6.5.1).
 * The switch exists without a NIC too (net=off): children still reach each other.
 *
 * Test only: `test.echo_port=N` starts a TCP echo service on port N (every byte sent back)
 * for the QEMU cases and bench/net-echo; `test.echo_sessions=K` shuts down cleanly after K
 * echo connections have closed. Not a management interface (that is root/mgmt*).
 */
#ifndef HVFW_ROOT_NETWORK_H
#define HVFW_ROOT_NETWORK_H

#include <stdbool.h>

#include "vsp/vswitch.h"

#define NETWORK_SINT 4
#define NETWORK_POLL_MS 2
#define NETWORK_TIMER_MS 20

/* Finds the NIC and brings the interface up (after lwip_init). False if there is no usable
 * NIC or the command line says net=off; the root runs on without a network. */
bool network_start(const char *cmdline);
/* Serves the NIC and lwIP's timers; true if it did any work (the caller polls again
 * before it waits). Cheap when there is no network. */
bool network_poll(void);
/* The root's virtual switch, made on first use (root VP 0 only). */
struct vswitch *network_vswitch(void);

#endif
