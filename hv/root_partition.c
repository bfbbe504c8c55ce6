#include "hv/root_partition.h"

#include <string.h>

#include "hv/exit.h"
#include "hv/cpuid.h"
#include "hv/hv.h"
#include "hv/hypercall.h"
#include "hv/partition.h"
#include "hv/partition_table.h"
#include "hv/root_abi.h"
#include "hv/sched.h"
#include "hv/stimer.h"
#include "hv/synic.h"
#include "hv/slat.h"
#include "hv/vendor.h"
#include "kernel/acpi.h"
#include "kernel/bootinfo.h"
#include "kernel/cmdline.h"
#include "kernel/log.h"
#include "kernel/main.h"
#include "kernel/page_alloc.h"
#include "kernel/percpu.h"
#include "kernel/smp.h"
#include "kernel/tsc.h"
#include "kernel/x86.h"

/* kernel/linker.ld */
extern char __text_start[], __shared_text_start[], __text_end[], __shared_rodata_start[], __rodata_end[],
    __root_data_start[], __root_data_end[], __root_bss_start[], __root_bss_end[],
    __image_start[], __image_end[];
/* root/entry.S */
extern char root_entry[];

#define ROOT_STACK_SIZE (64u * 1024)
#define SIZE_2M (1ull << 21)
#define SIZE_1G (1ull << 30)
#define VECTOR_GP 13
#define SIZE_4G (1ull << 32)
#define LOW_MMIO_START (1ull << 20) /* below 1 MiB: legacy areas no driver of ours needs */
/* QEMU's default 64-bit PCI window (pci-hole64-size) starts above RAM and spans 32 GiB;
 * firmware elsewhere puts 64-bit BARs there too, just above RAM. */
#define HIGH_MMIO_SIZE (32ull << 30)
#define HPET_DEFAULT_BASE 0xFED00000ull /* IA-PC HPET spec 1.0a, 3.2.2 */
#define COM1_BASE 0x3F8u
#define DEBUG_EXIT_PORT 0xF4u
#define PIC1_PORT 0x20u
#define PIC2_PORT 0xA0u
#define ELCR_PORT 0x4D0u /* the 8259s' edge/level control */
#define KBC_COMMAND_PORT 0x64u
#define PCI_CONFIG_PORT 0xCF8u

static struct partition *root;
static struct root_boot_info *boot_info_page;
static bool ready_reported;

static uint64_t addr(const char *symbol)
{
    return (uint64_t)(uintptr_t)symbol;
}

/* --- memory ------------------------------------------------------------------------- */

static void add_range(struct root_boot_info *info, uint64_t start, uint64_t end)
{
    for (uint32_t i = 0; i < info->memory_range_count; i++) {
        struct root_memory_range *r = &info->memory[i];
        if (r->end == start) {
            r->end = end;
            return;
        }
        if (end == r->start) {
            r->start = start;
            return;
        }
    }
    info->memory[info->memory_range_count++] = (struct root_memory_range){start, end};
}

/* The hypervisor keeps a reserve for its own structures (VMCBs, nested page tables, child
 * partitions' bookkeeping); all other free RAM becomes the root's. */
static uint64_t hypervisor_reserve(void)
{
    uint64_t reserve = page_alloc_free_bytes() / 16;
    if (reserve < (16ull << 20))
        reserve = 16ull << 20;
    if (reserve > (256ull << 20))
        reserve = 256ull << 20;
    return reserve;
}

/* Takes RAM from the page allocator in the largest blocks first, into `ranges`. Zeroed:
 * pages the hypervisor used and freed must not carry its data into the root. */
static void take_root_memory(struct root_boot_info *ranges)
{
    uint64_t reserve = hypervisor_reserve();
    for (int order = PAGE_MAX_ORDER; order >= 0; order--) {
        uint64_t size = PAGE_SIZE << order;
        while (page_alloc_free_bytes() >= reserve + size &&
               ranges->memory_range_count < ROOT_MAX_MEMORY_RANGES - 1) {
            uint64_t pa = page_alloc((unsigned)order);
            if (!pa)
                break;
            memset((void *)(uintptr_t)pa, 0, size);
            add_range(ranges, pa, pa + size);
        }
    }
}

static bool map(uint64_t start, uint64_t end, unsigned access)
{
    start &= ~(PAGE_SIZE - 1);
    end = (end + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);
    return end <= start || partition_map(root, start, start, end - start, access);
}

/* The image parts the root may see (kernel/linker.ld) and the boot modules. */
static bool map_image_and_modules(void)
{
    bool ok = map(addr(__shared_text_start), addr(__text_end), SLAT_READ | SLAT_EXECUTE) &&
              map(addr(__shared_rodata_start), addr(__rodata_end), SLAT_READ) &&
              map(addr(__root_data_start), addr(__root_data_end), SLAT_READ | SLAT_WRITE) &&
              map(addr(__root_bss_start), addr(__root_bss_end), SLAT_READ | SLAT_WRITE);
    for (size_t i = 0; ok && i < boot_info.module_count; i++)
        ok = map(boot_info.modules[i].start, boot_info.modules[i].end, SLAT_READ);
    return ok;
}

/* Identity page tables for the root itself, 2 MiB pages up to `top` (AMD APM vol. 2, 5.3).
 * They are the root's own: it may change them; its nested tables still decide. */
static uint64_t build_root_page_tables(uint64_t *cursor, uint64_t top)
{
    uint64_t gigabytes = (top + SIZE_1G - 1) / SIZE_1G;
    uint64_t pml4 = *cursor, pdpt_base = pml4 + PAGE_SIZE;
    uint64_t pdpts = (gigabytes + 511) / 512;
    uint64_t pd_base = pdpt_base + pdpts * PAGE_SIZE;
    *cursor = pd_base + gigabytes * PAGE_SIZE;
    uint64_t *pml4_table = (uint64_t *)(uintptr_t)pml4;
    for (uint64_t i = 0; i < pdpts; i++)
        pml4_table[i] = (pdpt_base + i * PAGE_SIZE) | 0x3; /* present, writable */
    for (uint64_t g = 0; g < gigabytes; g++) {
        uint64_t *pdpt = (uint64_t *)(uintptr_t)(pdpt_base + (g / 512) * PAGE_SIZE);
        uint64_t pd = pd_base + g * PAGE_SIZE;
        pdpt[g % 512] = pd | 0x3;
        uint64_t *pd_table = (uint64_t *)(uintptr_t)pd;
        for (uint64_t i = 0; i < 512; i++)
            pd_table[i] = (g * SIZE_1G + i * SIZE_2M) | 0x83; /* present, writable, 2 MiB */
    }
    return pml4;
}

/* --- devices: the root owns them (MISSION.md) ------------------------------------------ */

static bool gas_is_port(const struct acpi_gas *gas, uint16_t port, unsigned default_bytes)
{
    if (gas->space_id != ACPI_SPACE_IO || gas->address == 0 || gas->address > 0xFFFF)
        return false;
    unsigned bytes = gas->bit_width ? (gas->bit_width + 7u) / 8u : default_bytes;
    return port >= gas->address && port < gas->address + bytes;
}

bool root_partition_port_kept(uint16_t port)
{
    if (port >= COM1_BASE && port < COM1_BASE + 8) /* the hypervisor's console */
        return true;
    if (port >= DEBUG_EXIT_PORT && port < DEBUG_EXIT_PORT + 4 &&
        cmdline_flag(boot_info.cmdline, "test.exit"))
        return true;
    /* The hypervisor owns interrupts: the 8259s stay masked as kernel/ioapic.c left them. */
    if (port == PIC1_PORT || port == PIC1_PORT + 1 || port == PIC2_PORT ||
        port == PIC2_PORT + 1 || port == ELCR_PORT || port == ELCR_PORT + 1)
        return true;
    /* PCI configuration mechanism #1 is the root's (drivers/pci.c). 0xCF9, the reset
     * control register QEMU's FADT names, sits inside its address dword and the IOPM
     * checks every byte an access touches (AMD APM vol. 2, 15.10.1), so it cannot be
     * kept: the root can reset the machine, as the owner of the devices could anyway. */
    if (port >= PCI_CONFIG_PORT && port < PCI_CONFIG_PORT + 8)
        return false;
    /* Power off and reset (kernel/power.c): ACPI PM1 control, PM timer, reset register,
     * SMI command; the 8042 reset fallback. */
    if (port == KBC_COMMAND_PORT)
        return true;
    const struct acpi_platform *acpi = &acpi_platform;
    if (acpi->fadt_status != ACPI_OK)
        return false;
    const struct acpi_fadt *f = &acpi->fadt;
    return gas_is_port(&f->pm1a_control, port, 2) || gas_is_port(&f->pm1b_control, port, 2) ||
           gas_is_port(&f->pm_timer, port, 4) || gas_is_port(&f->reset_register, port, 1) ||
           (f->smi_command && f->smi_command == port);
}

/* The pages the hypervisor keeps inside the MMIO holes: LAPIC, IOAPICs, HPET. */
static bool mmio_page_kept(uint64_t page)
{
    const struct acpi_platform *acpi = &acpi_platform;
    if (page == 0xFEE00000ull || page == HPET_DEFAULT_BASE)
        return true;
    if (acpi->madt_status != ACPI_OK)
        return page == 0xFEC00000ull;
    if (page == (acpi->madt.lapic_address & ~(PAGE_SIZE - 1)))
        return true;
    for (size_t i = 0; i < acpi->madt.ioapic_count; i++)
        if (page == (acpi->madt.ioapics[i].address & ~(PAGE_SIZE - 1)))
            return true;
    return false;
}

/* The end of the first stretch from `at` that no memory map region covers, or `at` if
 * `at` itself is covered; *next is where to continue. */
static uint64_t hole_end(uint64_t at, uint64_t limit, uint64_t *next)
{
    uint64_t end = limit;
    for (size_t i = 0; i < boot_info.region_count; i++) {
        const struct boot_region *r = &boot_info.regions[i];
        uint64_t r_end = r->base + r->length < r->base ? UINT64_MAX : r->base + r->length;
        if (at >= r->base && at < r_end) {
            *next = r_end;
            return at;
        }
        if (r->base > at && r->base < end)
            end = r->base;
    }
    *next = end;
    return end;
}

static uint64_t physical_address_limit(void)
{
    uint32_t a, b, c, d;
    cpuid(0x80000008u, 0, &a, &b, &c, &d);
    unsigned bits = a & 0xFF;
    if (bits < 36 || bits > 52)
        bits = 36;
    uint64_t limit = 1ull << bits;
    return limit < SLAT_GPA_LIMIT ? limit : SLAT_GPA_LIMIT;
}

static bool map_mmio_run(uint64_t start, uint64_t end)
{
    /* Page by page around the kept pages; runs between them go in one call (2 MiB pages
     * where aligned). */
    uint64_t run = start;
    for (uint64_t page = start; page < end; page += PAGE_SIZE) {
        if (!mmio_page_kept(page))
            continue;
        if (page > run && !partition_map(root, run, run, page - run,
                                         SLAT_READ | SLAT_WRITE | SLAT_UNCACHED))
            return false;
        run = page + PAGE_SIZE;
    }
    return end <= run ||
           partition_map(root, run, run, end - run, SLAT_READ | SLAT_WRITE | SLAT_UNCACHED);
}

/* Maps device memory into the root, uncached: every physical address hole the firmware
 * memory map does not describe (not RAM, not reserved, not ACPI) from 1 MiB to 4 GiB, minus
 * the hypervisor's LAPIC/IOAPIC/HPET pages, and the 64-bit PCI window above the highest
 * region. RAM of the hypervisor and of children is described by the map, so it is never
 * mapped this way. Without an IOMMU the devices' DMA is not confined (docs/ARCHITECTURE.md).
 * *top: the end of the highest mapping (0 if none). False when tables run out. */
static bool map_device_memory(uint64_t *top)
{
    uint64_t bytes = 0;
    *top = 0;
    for (uint64_t at = LOW_MMIO_START, next; at < SIZE_4G; at = next) {
        uint64_t end = hole_end(at, SIZE_4G, &next);
        uint64_t s = (at + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1), e = end & ~(PAGE_SIZE - 1);
        if (e > s) {
            if (!map_mmio_run(s, e))
                return false;
            bytes += e - s;
            *top = e;
        }
        if (next <= at)
            break;
    }
    /* Above 4 GiB: the holes in the window that starts at the end of RAM (reserved ranges
     * such as AMD's HyperTransport hole at 1012 GiB stay unmapped). */
    uint64_t high = SIZE_4G;
    for (size_t i = 0; i < boot_info.region_count; i++) {
        const struct boot_region *r = &boot_info.regions[i];
        if (r->type == BOOT_REGION_USABLE && r->base + r->length > high &&
            r->base + r->length > r->base)
            high = r->base + r->length;
    }
    high = (high + SIZE_2M - 1) & ~(SIZE_2M - 1);
    uint64_t high_end = high + HIGH_MMIO_SIZE, limit = physical_address_limit();
    if (high_end > limit)
        high_end = limit;
    for (uint64_t at = high, next; at < high_end; at = next) {
        uint64_t end = hole_end(at, high_end, &next);
        uint64_t s = (at + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1), e = end & ~(PAGE_SIZE - 1);
        if (e > s) {
            if (!partition_map(root, s, s, e - s, SLAT_READ | SLAT_WRITE | SLAT_UNCACHED))
                return false;
            bytes += e - s;
            *top = e;
        }
        if (next <= at)
            break;
    }
    log_info("hv: root device memory: %lu MiB of MMIO holes mapped uncached up to %lx",
             bytes >> 20, *top);
    return true;
}

/* --- exits the hypervisor handles for the root ---------------------------------------- */

static void advance(struct vp *vp, struct hv_exit *exit)
{
    hv_vendor->vp_set(vp, VP_REGISTER_RIP, exit->rip + exit->instruction_length);
}

static bool gpa_is_hypervisor(uint64_t gpa)
{
    return gpa >= addr(__image_start) && gpa < addr(__image_end);
}

/* The root's nested page tables map no hypervisor text (kernel/linker.ld), so the root can
 * never be executing there. */
static bool rip_is_hypervisor_text(uint64_t rip)
{
    return rip >= addr(__text_start) && rip < addr(__shared_text_start);
}

/* A refused access is answered with #GP, which the root's own handler turns into a fixup or
 * a stop (root/cpu.c). The same access refused again and again, back to back, means the #GP
 * never reaches that handler: nothing will change, so stop instead of spinning. */
#define ROOT_REPEATED_FAULT_LIMIT 32
#define ROOT_REPEATED_FAULT_WINDOW_NS 10000000ull /* closer than this counts as "again" */

struct root_fault_history {
    uint64_t rip, gpa, last_ns;
    uint32_t count;
};

static struct root_fault_history fault_history[PARTITION_MAX_VPS];

static void log_root_vp_state(struct vp *vp, const struct hv_exit *exit)
{
    log_error("hv: root VP %u state: rip %lx rsp %lx rflags %lx cr0 %lx cr3 %lx cr4 %lx "
              "efer %lx rax %lx rbx %lx rcx %lx rdx %lx rsi %lx rdi %lx rbp %lx; exit code "
              "%lx on cpu%u",
              vp->index, exit->rip, hv_vendor->vp_get(vp, VP_REGISTER_RSP),
              hv_vendor->vp_get(vp, VP_REGISTER_RFLAGS), hv_vendor->vp_get(vp, VP_REGISTER_CR0),
              hv_vendor->vp_get(vp, VP_REGISTER_CR3), hv_vendor->vp_get(vp, VP_REGISTER_CR4),
              hv_vendor->vp_get(vp, VP_REGISTER_EFER), vp->registers.rax, vp->registers.rbx,
              vp->registers.rcx, vp->registers.rdx, vp->registers.rsi, vp->registers.rdi,
              vp->registers.rbp, exit->raw_code, this_cpu_index());
}

static enum exit_action root_slat_violation(struct vp *vp, struct hv_exit *exit)
{
    const char *what = gpa_is_hypervisor(exit->slat.gpa) ? "hypervisor memory"
                                                         : "memory it does not own";
    const char *access = exit->slat.write ? "write to" : exit->slat.execute ? "fetch from"
                                                                            : "read of";
    if (rip_is_hypervisor_text(exit->rip)) {
        /* The saved state is not the root's (seen under QEMU TCG: the state of the host's
         * world switch in root VP 0's VMCB, the same write retried forever): a broken
         * invariant, not the root's misbehaviour. */
        log_error("hv: root VP %u %s GPA %lx reported at rip %lx, inside the hypervisor's own "
                  "text, which the root cannot execute: its saved state is not its own",
                  vp->index, access, exit->slat.gpa, exit->rip);
        log_root_vp_state(vp, exit);
        partition_stop(vp->partition, "corrupt VP state");
        return EXIT_STOP;
    }
    struct root_fault_history *h = &fault_history[vp->index % PARTITION_MAX_VPS];
    uint64_t now = time_now_ns(), previous = h->last_ns;
    h->last_ns = now;
    if (h->rip == exit->rip && h->gpa == exit->slat.gpa &&
        now - previous < ROOT_REPEATED_FAULT_WINDOW_NS) {
        if (++h->count >= ROOT_REPEATED_FAULT_LIMIT) {
            log_error("hv: root VP %u %s %s at GPA %lx (rip %lx) refused %u times in a row: "
                      "its #GP handler never ran",
                      vp->index, access, what, exit->slat.gpa, exit->rip, h->count);
            log_root_vp_state(vp, exit);
            partition_stop(vp->partition, "no progress after a refused access");
            return EXIT_STOP;
        }
    } else {
        *h = (struct root_fault_history){exit->rip, exit->slat.gpa, now, 1};
    }
    log_warn("hv: root VP %u %s %s at GPA %lx (rip %lx): refused, #GP injected", vp->index,
             access, what, exit->slat.gpa, exit->rip);
    hv_vendor->vp_inject_exception(vp, VECTOR_GP, true, 0);
    return EXIT_RESUME;
}

static void root_cpuid(struct vp *vp)
{
    struct cpuid_result r =
        cpuid_for_partition((uint32_t)vp->registers.rax, (uint32_t)vp->registers.rcx, true);
    vp->registers.rax = r.eax;
    vp->registers.rbx = r.ebx;
    vp->registers.rcx = r.ecx;
    vp->registers.rdx = r.edx;
}

/* The root's MSR accesses: its SynIC and synthetic timers; anything else is refused. */
static enum exit_action root_msr(struct vp *vp, struct hv_exit *exit)
{
    bool ok;
    if (exit->reason == HV_EXIT_MSR_READ) {
        uint64_t value = 0;
        ok = synic_msr_read(vp, exit->msr.index, &value) ||
             stimer_msr_read(vp, exit->msr.index, &value);
        if (ok) {
            vp->registers.rax = value & 0xFFFFFFFFu;
            vp->registers.rdx = value >> 32;
        }
    } else {
        ok = synic_msr_write(vp, exit->msr.index, exit->msr.value) ||
             stimer_msr_write(vp, exit->msr.index, exit->msr.value);
    }
    if (!ok) {
        log_debug("hv: root VP %u %s of MSR %x at rip %lx: #GP", vp->index,
                  exit->reason == HV_EXIT_MSR_READ ? "read" : "write", exit->msr.index,
                  exit->rip);
        hv_vendor->vp_inject_exception(vp, VECTOR_GP, true, 0);
        return EXIT_RESUME;
    }
    advance(vp, exit);
    return EXIT_RESUME;
}

static enum exit_action root_intercept(struct vp *vp, struct hv_exit *exit)
{
    switch (exit->reason) {
    case HV_EXIT_HYPERCALL:
        return hypercall_handle(vp, exit);
    case HV_EXIT_CPUID:
        root_cpuid(vp);
        advance(vp, exit);
        return EXIT_RESUME;
    case HV_EXIT_HLT:
        /* The root waits for work: a message (synic_post wakes it). */
        advance(vp, exit);
        sched_halt(vp);
        return EXIT_RESUME;
    case HV_EXIT_SLAT_VIOLATION:
        return root_slat_violation(vp, exit);
    case HV_EXIT_MSR_READ:
    case HV_EXIT_MSR_WRITE:
        return root_msr(vp, exit);
    case HV_EXIT_IO:
        /* Only the ports root_partition_port_kept names exit (hv/svm/svm.c root IOPM). */
        log_debug("hv: root VP %u I/O port %x is the hypervisor's (rip %lx): #GP", vp->index,
                  exit->io.port, exit->rip);
        hv_vendor->vp_inject_exception(vp, VECTOR_GP, true, 0);
        return EXIT_RESUME;
    default:
        log_error("hv: root VP %u: unexpected %s exit at rip %lx (code %lx)", vp->index,
                  hv_exit_reason_name(exit->reason), exit->rip, exit->raw_code);
        partition_stop(vp->partition, "error");
        return EXIT_STOP;
    }
}

/* --- start -------------------------------------------------------------------------- */

static void run_this_cpu(void)
{
    uint32_t index = this_cpu_index();
    if (!hv_cpu_enable()) {
        log_error("hv: cannot enable virtualization on cpu%u: it runs no VP", index);
        return;
    }
    sched_run_this_cpu();
}

struct vp *root_partition_vp(uint32_t index)
{
    return root && index < root->vp_count ? root->vps[index] : NULL;
}

/* The root is the appliance: without it nothing can be managed. */
static void root_stopped(struct partition *p, const char *reason)
{
    (void)p;
    kernel_stop("the root partition stopped (%s)", reason);
}

void hv_root_ready(struct partition *p)
{
    if (ready_reported)
        return;
    ready_reported = true;
    uint64_t root_bytes = 0;
    for (uint32_t i = 0; i < boot_info_page->memory_range_count; i++)
        root_bytes += boot_info_page->memory[i].end - boot_info_page->memory[i].start;
    console_printf("hvfw: ready cpus=%u memory_mib=%lu root=guest-mode root_memory_mib=%lu\n",
                   smp_online_count(), bootinfo_usable_bytes(&boot_info) >> 20,
                   root_bytes >> 20);
    (void)p;
    if (cmdline_flag(boot_info.cmdline, "test.exit"))
        kernel_test_exit(0);
}

static struct root_boot_info memory_plan;

/* Puts the largest range first: the boot info, the page tables and the stacks go there. */
static void largest_range_first(struct root_boot_info *info)
{
    uint32_t best = 0;
    for (uint32_t i = 1; i < info->memory_range_count; i++)
        if (info->memory[i].end - info->memory[i].start >
            info->memory[best].end - info->memory[best].start)
            best = i;
    struct root_memory_range tmp = info->memory[0];
    info->memory[0] = info->memory[best];
    info->memory[best] = tmp;
}

static uint64_t mmio_top;

static uint64_t highest_root_gpa(const struct root_boot_info *info)
{
    uint64_t top = mmio_top > addr(__image_end) ? mmio_top : addr(__image_end);
    for (uint32_t i = 0; i < info->memory_range_count; i++)
        if (info->memory[i].end > top)
            top = info->memory[i].end;
    for (size_t i = 0; i < boot_info.module_count; i++)
        if (boot_info.modules[i].end > top)
            top = boot_info.modules[i].end;
    return top;
}

static void fill_boot_info(struct root_boot_info *info, uint32_t vp_count)
{
    info->magic = ROOT_BOOT_INFO_MAGIC;
    info->version = ROOT_BOOT_INFO_VERSION;
    info->vp_count = vp_count;
    info->tsc_khz = tsc_khz();
    info->stack_size = ROOT_STACK_SIZE;
    uint64_t root_bytes = 0;
    for (uint32_t i = 0; i < info->memory_range_count; i++)
        root_bytes += info->memory[i].end - info->memory[i].start;
    info->machine_memory_bytes = bootinfo_usable_bytes(&boot_info);
    info->hypervisor_memory_bytes = info->machine_memory_bytes > root_bytes
                                        ? info->machine_memory_bytes - root_bytes
                                        : 0;
    strncpy(info->cmdline, boot_info.cmdline, sizeof(info->cmdline) - 1);
    for (size_t i = 0; i < boot_info.module_count && i < ROOT_MAX_MODULES; i++) {
        struct root_module *m = &info->modules[info->module_count++];
        m->start = boot_info.modules[i].start;
        m->end = boot_info.modules[i].end;
        strncpy(m->name, boot_info.modules[i].name, sizeof(m->name) - 1);
        strncpy(m->args, boot_info.modules[i].args, sizeof(m->args) - 1);
    }
}

static bool build_root(uint32_t vp_count)
{
    root = partition_create("root", root_intercept, NULL);
    if (!root)
        return false;
    root->is_root = true;
    root->on_stop = root_stopped;
    if (!partition_table_add(root))
        return false;
    take_root_memory(&memory_plan);
    if (memory_plan.memory_range_count == 0)
        return false;
    if (!map_device_memory(&mmio_top))
        return false;
    largest_range_first(&memory_plan);

    /* The first range: boot info, then the root's page tables, then the VP stacks. */
    uint64_t first = memory_plan.memory[0].start;
    uint64_t cursor = first + ((sizeof(struct root_boot_info) + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1));
    uint64_t cr3 = build_root_page_tables(&cursor, highest_root_gpa(&memory_plan));
    uint64_t stacks = cursor;
    cursor += (uint64_t)vp_count * ROOT_STACK_SIZE;
    if (cursor > memory_plan.memory[0].end)
        return false;

    boot_info_page = (struct root_boot_info *)(uintptr_t)first;
    memcpy(boot_info_page, &memory_plan, sizeof(memory_plan));
    boot_info_page->free_start = cursor;
    fill_boot_info(boot_info_page, vp_count);

    for (uint32_t i = 0; i < memory_plan.memory_range_count; i++)
        if (!map(memory_plan.memory[i].start, memory_plan.memory[i].end,
                 SLAT_READ | SLAT_WRITE))
            return false;
    if (!map_image_and_modules())
        return false;

    for (uint32_t i = 0; i < vp_count; i++) {
        struct vp_start_state start = {
            .mode = VP_START_LONG_64,
            .entry = addr(root_entry),
            .rsp = stacks + (uint64_t)(i + 1) * ROOT_STACK_SIZE,
            .cr3 = cr3,
            .rdi = first,
            .rsi = i,
            .root_partition = true,
        };
        struct vp *vp = partition_create_vp(root, &start);
        if (!vp || !synic_init_vp(vp))
            return false;
    }
    return true;
}

void root_partition_start(void)
{
    uint32_t vp_count = smp_online_count();
    if (!hv_vendor) {
        log_error("hv: no hardware virtualization: the root partition cannot run");
        return;
    }
    if (!build_root(vp_count)) {
        log_error("hv: cannot build the root partition (out of memory?)");
        return;
    }
    uint64_t root_bytes = 0;
    for (uint32_t i = 0; i < boot_info_page->memory_range_count; i++)
        root_bytes += boot_info_page->memory[i].end - boot_info_page->memory[i].start;
    log_info("hv: root partition %lu: %lu MiB in %u ranges, %u VPs; the hypervisor keeps "
             "%lu MiB free and its image",
             root->id, root_bytes >> 20, boot_info_page->memory_range_count, vp_count,
             page_alloc_free_bytes() >> 20);
    for (uint32_t i = 0; i < vp_count; i++)
        sched_add_vp(root->vps[i], i); /* one per CPU, pinned */
    smp_run_on_aps(run_this_cpu);
    sched_run_this_cpu();
}
