/* lwIP configuration for the root partition (lwIP 2.1.3, src/include/lwip/opt.h lists every
 * option). NO_SYS: the root runs lwIP from one event loop, with the raw/altcp API. */
#ifndef HVFW_LWIPOPTS_H
#define HVFW_LWIPOPTS_H

#define NO_SYS 1
#define LWIP_SOCKET 0
#define LWIP_NETCONN 0
#define SYS_LIGHTWEIGHT_PROT 0

#define MEM_LIBC_MALLOC 1
#define MEMP_MEM_MALLOC 1
#define MEM_ALIGNMENT 8

#define LWIP_IPV4 1
#define LWIP_IPV6 1
#define LWIP_TCP 1
#define LWIP_UDP 1
#define LWIP_DHCP 1
#define LWIP_ALTCP 1
#define LWIP_HAVE_LOOPIF 1
#define LWIP_NETIF_LOOPBACK 1
#define LWIP_LOOPBACK_MAX_PBUFS 64

#define TCP_MSS 1460
#define TCP_WND (8 * TCP_MSS)
#define TCP_SND_BUF (8 * TCP_MSS)

#define LWIP_STATS 0
#define LWIP_RAND() ((u32_t)lwip_port_rand())

#endif
