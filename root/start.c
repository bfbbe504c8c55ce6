/*
 * root_start: the root partition's first C code on every VP (root/entry.S). VP 0 brings the
 * root up: its CPU tables, memory, heap and clock, runs the self-tests (the root's C
 * library, lwIP, and that the hypervisor refuses it), then tells the hypervisor it is ready.
 * The other VPs set up their CPU tables and wait for work.
 */
#include <stdbool.h>
#include <stdint.h>

#include "hv/root_abi.h"
#include "kernel/cmdline.h"
#include "libc-glue/heap.h"
#include "root/cpu.h"
#include "root/hvcall.h"
#include "root/log.h"
#include "root/memory.h"
#include "root/platform.h"
#include "root/wallclock.h"
#include "root/root.h"
#include "root/vmms.h"

const struct root_boot_info *root_boot_info;
static uint64_t start_tsc;

void root_start(const struct root_boot_info *info, uint64_t vp_index);

static uint64_t read_tsc(void)
{
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return ((uint64_t)hi << 32) | lo;
}

uint64_t root_time_ns(void)
{
    uint64_t khz = root_boot_info ? root_boot_info->tsc_khz : 0;
    if (khz == 0)
        return 0;
    uint64_t ticks = read_tsc() - start_tsc;
    /* ticks * 10^6 / kHz without overflowing for ~2^64 / 10^6 ticks: split the division. */
    return ticks / khz * 1000000u + ticks % khz * 1000000u / khz;
}

/* The heap takes 1/8 of the root's RAM, between 4 and 64 MiB, 2 MiB aligned. */
static void heap_setup(void)
{
    uint64_t size = root_memory_total_bytes() / 8;
    if (size < (4ull << 20))
        size = 4ull << 20;
    if (size > (64ull << 20))
        size = 64ull << 20;
    size &= ~((2ull << 20) - 1);
    uint64_t base = 0;
    while (size >= (1ull << 20) && !(base = root_memory_alloc(size, 2ull << 20)))
        size /= 2;
    if (!base)
        root_stop("no memory for the heap");
    heap_init((uintptr_t)base, (size_t)size);
}

void root_start(const struct root_boot_info *info, uint64_t vp_index)
{
    root_cpu_init((uint32_t)vp_index);
    if (vp_index != 0)
        root_idle();
    if (info->magic != ROOT_BOOT_INFO_MAGIC || info->version != ROOT_BOOT_INFO_VERSION)
        root_stop("the hypervisor handed over boot info %lx version %u; this root expects %lx "
                  "version %u",
                  info->magic, info->version, (uint64_t)ROOT_BOOT_INFO_MAGIC, ROOT_BOOT_INFO_VERSION);
    root_boot_info = info;
    start_tsc = read_tsc();
    char level[16];
    root_log_debug_enabled =
        cmdline_get(info->cmdline, "loglevel", level, sizeof(level)) &&
        (level[0] == '3' || (level[0] == 'd' && level[1] == 'e'));
    root_memory_init(info);
    heap_setup();
    root_info("running in guest mode: %u VPs, %lu MiB of RAM in %u ranges, TSC %lu kHz",
              info->vp_count, root_memory_total_bytes() >> 20, info->memory_range_count,
              info->tsc_khz);
    wallclock_init(); /* the machine's RTC, for the clocks children see */

    if (root_main() != 0)
        root_error("a self-test failed (see the selftest lines above)");
    hvcall_root_ready();
    root_vmms_run(); /* VP 0 becomes the children's worker (root/vmms.h) */
}
