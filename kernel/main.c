/*
 * kernel_main: the bootstrap processor's path from the loader to "hvfw: ready".
 * Order matters: the console first (so everything after can report), then the boot
 * information, traps, memory, the platform (ACPI, APICs, timers), the other CPUs, and last
 * the self-tests of the libraries the root partition will use.
 */
#include <stdint.h>

#include "hv/hv.h"
#include "hv/root_partition.h"
#include "kernel/bootinfo.h"
#include "kernel/cmdline.h"
#include "kernel/log.h"
#include "kernel/main.h"
#include "kernel/page_alloc.h"
#include "kernel/paging.h"
#include "kernel/percpu.h"
#include "kernel/platform.h"
#include "kernel/serial.h"
#include "kernel/settings.h"
#include "kernel/smp.h"
#include "kernel/trap.h"
#include "kernel/x86.h"
#include "libc-glue/decoder.h"

struct boot_info boot_info;

/* The boot page tables identity-map the first 4 GiB; loader structures live there. */
static const void *boot_phys(uint64_t pa, size_t len, void *ctx)
{
    (void)ctx;
    if (pa == 0 || pa + len < pa || pa + len > (1ull << 32))
        return NULL;
    return (const void *)(uintptr_t)pa;
}

static void apply_log_level(const char *cmdline)
{
    char value[16];
    enum log_level level;
    if (!cmdline_get(cmdline, "loglevel", value, sizeof(value)))
        return;
    if (log_parse_level(value, &level))
        log_set_level(level);
    else
        log_warn("loglevel=%s is not one of error, warn, info, debug; keeping info", value);
}

static void report_boot_info(const struct boot_info *info)
{
    static char shown[BOOT_CMDLINE_MAX]; /* secrets (mgmt.token) never reach the console */
    settings_redact(info->cmdline, shown, sizeof(shown));
    log_info("booted by multiboot%d; command line: \"%s\"", (int)info->protocol, shown);
    /* What the loader handed over, in one line the boot-path tests check (docs/boot.md):
     * on UEFI machines there is no BIOS area to search, so both must come from multiboot2. */
    log_info("boot: multiboot%d (%s memory map, ACPI RSDP %s)", (int)info->protocol,
             info->memory_map_from_efi ? "EFI" : "multiboot",
             info->has_rsdp ? "from the loader" : "by BIOS area search");
    for (size_t i = 0; i < info->region_count; i++) {
        const struct boot_region *r = &info->regions[i];
        log_debug("memory %016lx-%016lx type %u", r->base, r->base + r->length - 1, r->type);
    }
    for (size_t i = 0; i < info->module_count; i++) {
        const struct boot_module *m = &info->modules[i];
        log_info("module %zu: %s [%lx-%lx) %lu bytes args \"%s\"", i, m->name, m->start, m->end,
                 m->end - m->start, m->args);
    }
}

void kernel_main(uint32_t magic, uint32_t info_pa)
{
    serial_init();
    percpu_install(0);
    console_printf("\nhvfw: starting\n");

    enum bootinfo_status st = bootinfo_parse(magic, info_pa, boot_phys, NULL, &boot_info);
    if (st != BOOTINFO_OK)
        kernel_stop("cannot read the boot information: %s", bootinfo_status_name(st));
    apply_log_level(boot_info.cmdline);
    settings_init(boot_info.cmdline); /* every key checked; recovery (kernel/settings.c) */
    report_boot_info(&boot_info);

    trap_init();

    page_alloc_init(&boot_info);
    paging_init();
    log_info("memory: %lu MiB managed by the page allocator, %lu MiB free",
             page_alloc_total_bytes() >> 20, page_alloc_free_bytes() >> 20);

    platform_init(); /* ACPI, TSC, APICs and their timer, the other CPUs (kernel/platform.c) */

    /* the hypervisor core: vendor backend, virtualization on for this CPU (hv/hv.c) */
    hv_init();

    char fault[16];
    if (cmdline_get(boot_info.cmdline, "test.fault", fault, sizeof fault))
        trap_run_test_fault(fault);

    /* the hypervisor's own self-tests (the root runs libc, lwIP and isolation tests) */
    decoder_selftest();
    hv_selftest();

    /* The root partition: from here on the hypervisor only runs partitions. It prints the
     * ready line when the root reports it has started (hv/root_partition.c). */
    root_partition_start();
    kernel_stop("the root partition is not running");
}

void kernel_test_exit(uint8_t code)
{
    /* isa-debug-exit (QEMU, iobase 0xf4): QEMU exits with status 2 * code + 1. Only on
     * request from the command line: on hardware port 0xf4 may belong to something else. */
    outb(0xF4, code);
}

void kernel_idle(void)
{
    for (;;)
        __asm__ volatile("hlt");
}

void kernel_stop(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_vwrite(LOG_ERROR, fmt, ap);
    va_end(ap);
    console_printf("hvfw: stopped\n");
    if (cmdline_flag(boot_info.cmdline, "test.exit"))
        kernel_test_exit(1);
    interrupts_disable();
    for (;;)
        __asm__ volatile("hlt");
}
