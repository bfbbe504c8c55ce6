/*
 * lwIP configuration for the root partition (lwIP 2.1.3, src/include/lwip/opt.h documents
 * every option). NO_SYS: the root runs lwIP from one event loop on one CPU at a time with
 * the raw/altcp API, driving timers with sys_check_timeouts(); there are no lwIP threads,
 * so no lightweight protection is needed inside lwIP.
 */
#ifndef HVFW_LWIPOPTS_H
#define HVFW_LWIPOPTS_H

/* newlib's endian macros before lwIP's own fallbacks (see arch/cc.h). */
#include <machine/endian.h>

#define NO_SYS 1
#define LWIP_SOCKET 0
#define LWIP_NETCONN 0
#define SYS_LIGHTWEIGHT_PROT 0

/* All lwIP memory comes from newlib's malloc (libc-glue/heap.c), so the stack has no fixed
 * pools to size and the heap is the only limit. */
#define MEM_LIBC_MALLOC 1
#define MEMP_MEM_MALLOC 1
#define MEM_ALIGNMENT 8

#define LWIP_IPV4 1
#define LWIP_IPV6 1
#define LWIP_TCP 1
#define LWIP_UDP 1
#define LWIP_ICMP 1
#define LWIP_DHCP 1
#define LWIP_AUTOIP 0
#define LWIP_DNS 0
#define LWIP_IGMP 0
#define LWIP_IPV6_DHCP6 0
/* IPv6 reassembly keeps a helper with a pointer inside each fragment's 8-byte fragment
 * header unless told to copy the header aside; pointers are 8 bytes here, so it does not fit
 * (lwIP asserts in ip6_reass_tmr, ip6_frag.c). */
#define IPV6_FRAG_COPYHEADER 1

/* altcp: the management endpoint speaks TCP through it, and TLS 1.2 through altcp_tls on
 * mbedTLS (root/mbedtls_config.h) underneath without changing the endpoint. */
#define LWIP_ALTCP 1
#define LWIP_ALTCP_TLS 1
#define LWIP_ALTCP_TLS_MBEDTLS 1

/* The loopback interface (127.0.0.1 and ::1) for self-tests and local clients. Looped
 * packets are queued and delivered by netif_poll(), called from the event loop. */
#define LWIP_HAVE_LOOPIF 1
#define LWIP_NETIF_LOOPBACK 1
#define LWIP_LOOPBACK_MAX_PBUFS 64

#define LWIP_NETIF_STATUS_CALLBACK 1
#define LWIP_NETIF_LINK_CALLBACK 1

/* Ethernet-sized segments; a 16-segment window (without window scaling the window must stay
 * below 64 KiB: RFC 7323 section 2). */
#define TCP_MSS 1460
#define TCP_WND (16 * TCP_MSS)
#define TCP_SND_BUF (16 * TCP_MSS)
#define TCP_SND_QUEUELEN (4 * TCP_SND_BUF / TCP_MSS)
#define LWIP_TCP_KEEPALIVE 1

#define LWIP_STATS 0
#define LWIP_RAND() ((u32_t)lwip_port_rand())

#endif
