/*
 * root_main: the root partition's start. Its C library is newlib (console, heap and clock
 * from libc-glue/), its network stack lwIP (NO_SYS, one event loop). Output goes through
 * newlib's printf, which is itself under test here; the hypervisor uses kernel/log.h.
 */
#include "root/root.h"

#include <stdio.h>

#include "lwip/init.h"

#include "libc-glue/heap.h"
#include "libc-glue/random.h"
#include "root/hypercall_selftest.h"
#include "root/isolation_selftest.h"
#include "root/libc_selftest.h"
#include "root/mgmt_server.h"
#include "root/net_selftest.h"
#include "root/platform.h"
#include "root/storage.h"
#include "root/timer_selftest.h"

int root_main(void)
{
    bool ok = libc_selftest_run();
    /* The disk first: its stored settings replace the command line's for everything the
     * root reads from here on (root/storage.h). */
    ok &= storage_start();

    /* lwIP's port numbers and initial sequence numbers come from here (lwip_port_rand). */
    const char *random_source = random_hardware_available()
                                    ? "RDRAND"
                                    : "a TSC-seeded xorshift (no RDRAND; not for secrets)";
    printf("root: random numbers from %s\n", random_source);
    lwip_init(); /* once: lwIP keeps its state (loopback interface, timers) for good */
    ok &= net_selftest_run();
    ok &= mgmt_server_selftest();
    mgmt_server_start(root_boot_info->cmdline); /* reachable once root/network.c is up */
    ok &= isolation_selftest_run();
    ok &= hypercall_selftest_run();
    ok &= timer_selftest_run();

    struct heap_stats heap;
    heap_get_stats(&heap);
    printf("root: heap %zu KiB at %#lx, %zu KiB used\n", heap.size >> 10,
           (unsigned long)heap.base, heap.used >> 10);
    return ok ? 0 : -1;
}
