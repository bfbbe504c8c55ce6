/*
 * lwIP's boot-time self-test: a TCP connection over the loopback interface through the
 * altcp API (what the management endpoint will use). A client sends a known pattern, the
 * server echoes it, the client checks every byte; both ends close. Driven by netif_poll_all()
 * and sys_check_timeouts() in a loop bounded by NET_SELFTEST_TIME_LIMIT_MS. Before that, each
 * of lwIP's periodic timers runs once.
 *
 * Prints one line per address family through newlib's printf:
 *   selftest: lwip-tcp-loopback: ok bytes=65536 ms=<n>     (127.0.0.1)
 *   selftest: lwip-tcp6-loopback: ok bytes=65536 ms=<n>    (::1)
 * or "... FAILED: <why>".
 */
#ifndef HVFW_ROOT_NET_SELFTEST_H
#define HVFW_ROOT_NET_SELFTEST_H

#include <stdbool.h>

#define NET_SELFTEST_BYTES 65536
#define NET_SELFTEST_TIME_LIMIT_MS 5000
#define NET_SELFTEST_PORT 7007

/* Needs lwip_init() to have run. True if both connections passed. */
bool net_selftest_run(void);

#endif
