#include "kernel/smp.h"

#include <string.h>

#include "kernel/lapic.h"
#include "kernel/log.h"
#include "kernel/main.h"
#include "kernel/page_alloc.h"
#include "kernel/paging.h"
#include "kernel/percpu.h"
#include "kernel/trap.h"
#include "kernel/tsc.h"
#include "kernel/x86.h"

#define AP_STACK_ORDER 2                      /* 16 KiB */
#define AP_STACK_SIZE (PAGE_SIZE << AP_STACK_ORDER)
#define AP_START_TIMEOUT_US 500000u

/* Read by kernel/ap_trampoline.S: the page tables to switch to, and per slot (= logical CPU
 * index) the APIC ID it belongs to and its stack top. Slots 1..smp_ap_slots-1 are valid. */
uint64_t smp_ap_cr3;
uint32_t smp_ap_slots = 1;
uint32_t smp_ap_apic_ids[MAX_CPUS];
uint64_t smp_ap_stack_tops[MAX_CPUS];

extern const uint8_t __ap_trampoline_start[], __ap_trampoline_end[];

uint32_t smp_online_count(void)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < MAX_CPUS; i++)
        n += __atomic_load_n(&percpu_area[i].online, __ATOMIC_ACQUIRE);
    return n;
}

static void (*volatile ap_work)(void);

void smp_ap_main(uint32_t index)
{
    percpu_install(index);
    struct percpu *cpu = this_cpu();
    cpu->stack_top = (void *)(uintptr_t)smp_ap_stack_tops[index];
    trap_init_this_cpu();
    lapic_init_this_cpu();
    __atomic_store_n(&cpu->online, true, __ATOMIC_RELEASE);
    log_debug("smp: cpu%u online, APIC ID %u", index, cpu->apic_id);
    interrupts_enable();
    /* Idle until the boot CPU hands out work (smp_run_on_aps), woken by its IPI. */
    void (*work)(void);
    while (!(work = __atomic_load_n(&ap_work, __ATOMIC_ACQUIRE)))
        __asm__ volatile("hlt");
    work();
    kernel_idle();
}

static void wake_vector_handler(struct trap_frame *frame)
{
    (void)frame;
    lapic_eoi();
}

void smp_run_on_aps(void (*work)(void))
{
    __atomic_store_n(&ap_work, work, __ATOMIC_RELEASE);
    for (uint32_t i = 1; i < MAX_CPUS; i++) {
        struct percpu *cpu = &percpu_area[i];
        if (__atomic_load_n(&cpu->online, __ATOMIC_ACQUIRE))
            lapic_send_ipi(cpu->apic_id, LAPIC_DELIVERY_FIXED, SMP_VECTOR_WAKE);
    }
}

static bool wait_online(uint32_t index, uint64_t timeout_us)
{
    uint64_t deadline = time_now_ns() + timeout_us * 1000u;
    while (!__atomic_load_n(&percpu_area[index].online, __ATOMIC_ACQUIRE)) {
        if (time_now_ns() > deadline)
            return false;
        cpu_relax();
    }
    return true;
}

/* INIT, 10 ms, STARTUP, 200 us, STARTUP (SDM vol. 3, 9.4.4.1); the second STARTUP only if
 * the first did not already start the AP (a second one would be ignored anyway). */
static bool start_ap(uint32_t index, uint32_t apic_id)
{
    uint8_t page = (uint8_t)(SMP_TRAMPOLINE_PA >> 12);
    if (!lapic_send_ipi(apic_id, LAPIC_DELIVERY_INIT, 0)) {
        log_error("smp: INIT IPI to APIC ID %u was not accepted", apic_id);
        return false;
    }
    time_delay_us(10000);
    for (int attempt = 0; attempt < 2; attempt++) {
        if (!lapic_send_ipi(apic_id, LAPIC_DELIVERY_STARTUP, page)) {
            log_error("smp: STARTUP IPI to APIC ID %u was not accepted", apic_id);
            return false;
        }
        if (wait_online(index, attempt == 0 ? 200 : AP_START_TIMEOUT_US))
            return true;
    }
    return false;
}

static void copy_trampoline(void)
{
    size_t size = (size_t)(__ap_trampoline_end - __ap_trampoline_start);
    if (size == 0 || size > PAGE_SIZE)
        kernel_stop("smp: the AP trampoline is %zu bytes; it must fit one page", size);
    memcpy((void *)(uintptr_t)SMP_TRAMPOLINE_PA, __ap_trampoline_start, size);
}

static bool wanted(const struct acpi_cpu *cpu, uint32_t bsp_id)
{
    return cpu->apic_id != bsp_id && (cpu->enabled || cpu->online_capable);
}

void smp_start(const struct acpi_madt *madt)
{
    /* Before any CPU can be sent one: the wake-up IPI (smp_run_on_aps, the scheduler's
     * kicks) only makes a CPU look at its work again. */
    trap_set_handler(SMP_VECTOR_WAKE, wake_vector_handler);
    uint32_t bsp_id = lapic_id();
    __atomic_store_n(&this_cpu()->online, true, __ATOMIC_RELEASE);
    copy_trampoline();
    smp_ap_cr3 = paging_kernel_cr3();
    __atomic_thread_fence(__ATOMIC_SEQ_CST);

    uint32_t started = 0, failed = 0;
    for (size_t i = 0; i < madt->cpu_count; i++) {
        const struct acpi_cpu *cpu = &madt->cpus[i];
        if (!wanted(cpu, bsp_id))
            continue;
        if (smp_ap_slots == MAX_CPUS) {
            log_warn("smp: more than %u CPUs; APIC ID %u and later are left off", MAX_CPUS,
                     cpu->apic_id);
            break;
        }
        uint64_t stack = page_alloc(AP_STACK_ORDER);
        if (!stack) {
            log_error("smp: no memory for a stack for APIC ID %u; no more CPUs started",
                      cpu->apic_id);
            break;
        }
        uint32_t index = smp_ap_slots;
        smp_ap_apic_ids[index] = cpu->apic_id;
        smp_ap_stack_tops[index] = stack + AP_STACK_SIZE;
        /* Publish the slot before the IPI: the AP reads it without a lock. A slot stays
         * valid even if its AP is late, so a late AP still finds its own stack. */
        __atomic_store_n(&smp_ap_slots, index + 1, __ATOMIC_RELEASE);
        uint64_t t0 = time_now_ns();
        if (start_ap(index, cpu->apic_id)) {
            started++;
            log_debug("smp: APIC ID %u up as cpu%u in %lu us%s", cpu->apic_id, index,
                      (time_now_ns() - t0) / 1000, cpu->enabled ? "" : " (online-capable)");
        } else {
            failed++;
            log_error("smp: CPU with APIC ID %u did not come up within %u ms%s", cpu->apic_id,
                      AP_START_TIMEOUT_US / 1000,
                      cpu->enabled ? "" : " (listed online-capable, may be absent)");
        }
    }
    log_info("smp: %u CPUs online (BSP APIC ID %u, %u started, %u failed)", smp_online_count(),
             bsp_id, started, failed);
}
