#include "root/vmms.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hv/hypercall_abi.h"
#include "hv/intercept_abi.h"
#include "kernel/cmdline.h"
#include "root/bzimage.h"
#include "root/child_acpi.h"
#include "root/child_config.h"
#include "root/disk.h"
#include "root/heartbeat.h"
#include "root/hvcall.h"
#include "root/loader.h"
#include "root/mgmt_server.h"
#include "root/network.h"
#include "root/memory.h"
#include "root/mgmt_events.h"
#include "root/platform.h"
#include "root/worker.h"

#define MIB (1ull << 20)
#define CHILD_RAM_ALIGN (2ull << 20)
#define VMMS_WHY_MAX 224
/* EAX at a child's entry: 'hvfw' (images/guests/README.md, "Entry state"). */
#define CHILD_ENTRY_MAGIC 0x68766677u

/* The child table (VMMS_CHILDREN_MAX slots; a slot is in use while its name is set) and,
 * per free slot, the RAM a deleted child left there (root memory has no free). */
static struct child *child_table;
static uint64_t retained_ram_bytes[VMMS_CHILDREN_MAX];
/* Set by prepare_memory when root memory could not hold a child's RAM. */
static bool start_lacked_memory;

/* A value from the command line as it may be echoed: printable ASCII only. */
static void printable_copy(char *out, size_t size, const char *in)
{
    size_t i = 0;
    for (; in[i] && i + 1 < size; i++)
        out[i] = (in[i] >= 0x20 && in[i] < 0x7F) ? in[i] : '?';
    out[i] = '\0';
}

static const struct root_module *find_module(const char *name)
{
    for (uint32_t i = 0; i < root_boot_info->module_count && i < ROOT_MAX_MODULES; i++)
        if (strncmp(root_boot_info->modules[i].name, name,
                    sizeof(root_boot_info->modules[i].name)) == 0)
            return &root_boot_info->modules[i];
    return NULL;
}

/* Whether `config` may have the volume its scsi.NAME names: a volume (not the store) of the
 * attached hvfw disk that none of `others` has. */
static bool scsi_volume_free(const struct child_config *config,
                             const struct child_config *others, size_t other_count, char *why,
                             size_t why_size)
{
    const struct disk_layout *layout = disk_layout();
    const struct disk_extent *x = layout ? disk_layout_find(layout, config->scsi_volume) : NULL;
    if (!layout) {
        snprintf(why, why_size, "there is no hvfw disk");
        return false;
    }
    if (!x || x->kind != DISK_EXTENT_VOLUME) {
        snprintf(why, why_size, "the disk has no volume named %s", config->scsi_volume);
        return false;
    }
    for (size_t i = 0; i < other_count; i++)
        if (others[i].name[0] && others[i].scsi_volume[0] && &others[i] != config &&
            strcmp(others[i].name, config->name) != 0 &&
            strcmp(others[i].scsi_volume, config->scsi_volume) == 0) {
            snprintf(why, why_size, "volume %s is child %s's SCSI disk already",
                     config->scsi_volume, others[i].name);
            return false;
        }
    return true;
}

/* The `child=` declarations that pass root/child_config.h's checks, in order. */
static size_t declared_children(struct child *children)
{
    static char module_names[ROOT_MAX_MODULES][sizeof(root_boot_info->modules[0].name)];
    const char *modules[ROOT_MAX_MODULES];
    size_t module_count = 0;
    for (uint32_t i = 0; i < root_boot_info->module_count && i < ROOT_MAX_MODULES; i++) {
        memcpy(module_names[i], root_boot_info->modules[i].name, sizeof(module_names[i]));
        module_names[i][sizeof(module_names[i]) - 1] = '\0';
        modules[module_count++] = module_names[i];
    }
    static struct child_config accepted[VMMS_CHILDREN_MAX];
    size_t count = 0;
    struct cmdline_iter it;
    static struct cmdline_entry entry;
    cmdline_iter_init(&it, root_boot_info->cmdline);
    while (cmdline_next(&it, &entry)) {
        if (strcmp(entry.key, "child") != 0)
            continue;
        char shown[96], why[CHILD_WHY_MAX];
        printable_copy(shown, sizeof(shown), entry.value);
        if (!entry.has_value || entry.truncated)
            snprintf(why, sizeof(why), "want NAME:MODULE:MEM_MIB:VPS");
        else if (count == VMMS_CHILDREN_MAX)
            snprintf(why, sizeof(why), "at most %d children", VMMS_CHILDREN_MAX);
        else if (child_config_parse(entry.value, root_boot_info->vp_count, accepted, count,
                                    modules, module_count, &accepted[count], why)) {
            count++;
            continue;
        }
        printf("root: child=%s: %s; skipped\n", shown, why);
    }
    /* Per-child settings may come before or after their child=: a second walk. */
    cmdline_iter_init(&it, root_boot_info->cmdline);
    while (cmdline_next(&it, &entry)) {
        const char *name;
        if (child_config_setting(entry.key, &name) == CHILD_SETTING_NONE)
            continue;
        char shown[96], why[CHILD_WHY_MAX];
        printable_copy(shown, sizeof(shown), entry.key);
        if (!entry.has_value || entry.truncated)
            snprintf(why, sizeof(why), "want a value of at most %d characters",
                     CMDLINE_VALUE_MAX - 1);
        else if (child_config_apply(entry.key, entry.value, accepted, count, modules,
                                    module_count, why))
            continue;
        printf("root: %s: %s; ignored\n", shown, why);
    }
    /* A SCSI disk the child cannot have is dropped: the child starts without it. */
    for (size_t i = 0; i < count; i++) {
        char why[VMMS_WHY_MAX];
        if (accepted[i].scsi_volume[0] &&
            !scsi_volume_free(&accepted[i], accepted, i, why, sizeof(why))) {
            printf("root: scsi.%s=%s: %s; child %s starts without a SCSI disk\n",
                   accepted[i].name, accepted[i].scsi_volume, why, accepted[i].name);
            accepted[i].scsi_volume[0] = '\0';
        }
    }
    for (size_t i = 0; i < count; i++)
        children[i].config = accepted[i];
    return count;
}

static bool set_registers(struct child *child, uint32_t vp, const struct hv_register_assoc *assoc,
                          uint32_t count, char *why)
{
    uint16_t status = hvcall_set_vp_registers(child->partition_id, vp, assoc, count);
    if (status != HV_STATUS_SUCCESS)
        snprintf(why, VMMS_WHY_MAX, "HvCallSetVpRegisters on VP %u: status %#x", vp, status);
    return status == HV_STATUS_SUCCESS;
}

static struct hv_register_assoc reg64(uint32_t name, uint64_t value)
{
    struct hv_register_assoc a;
    memset(&a, 0, sizeof(a));
    a.name = name;
    a.value.reg64 = value;
    return a;
}

/* The 32-bit entry of an ELF child (images/guests/README.md, "Entry state"). */
static bool set_elf_entry_state(struct child *child, uint32_t vp, uint64_t entry, char *why)
{
    /* ESP is undefined by the contract (the guests load their own): 0. */
    const struct hv_register_assoc assoc[] = {
        reg64(HV_X64_REGISTER_RIP, entry), reg64(HV_X64_REGISTER_RSP, 0),
        reg64(HV_X64_REGISTER_RAX, CHILD_ENTRY_MAGIC),
        reg64(HV_X64_REGISTER_RBX, child->ram_bytes), reg64(HV_X64_REGISTER_RCX, vp),
        reg64(HV_REGISTER_EXPLICIT_SUSPEND, 0),
    };
    return set_registers(child, vp, assoc, sizeof(assoc) / sizeof(assoc[0]), why);
}

static struct hv_register_assoc flat_segment(uint32_t name, uint16_t selector,
                                             uint16_t attributes)
{
    struct hv_register_assoc a;
    memset(&a, 0, sizeof(a));
    a.name = name;
    a.value.segment = (struct hv_x64_segment_register){
        .base = 0, .limit = 0xFFFFFFFFu, .selector = selector, .attributes = attributes };
    return a;
}

/*
 * The 64-bit boot protocol's entry on VP 0 (Linux Documentation/arch/x86/boot.rst, "64-bit
 * Boot Protocol"): long mode with the loader's identity map, CS = __BOOT_CS (64-bit code),
 * DS/ES/SS = __BOOT_DS, interrupts off, RSI = boot_params, RIP = startup_64. The order is
 * architectural (CR4.PAE, EFER.LME, CR3, CR0.PG, then CS.L): the hypervisor checks each
 * value in the state it produces (hv/root_call_checks.h). The other VPs stay held by
 * HvRegisterExplicitSuspend: Linux starts its APs itself, by INIT/SIPI through the LAPIC.
 */
static bool set_linux_entry_state(struct child *child, const struct bzimage_layout *l,
                                  char *why)
{
    struct hv_register_assoc gdtr;
    memset(&gdtr, 0, sizeof(gdtr));
    gdtr.name = HV_X64_REGISTER_GDTR;
    gdtr.value.table.base = l->gdt_gpa;
    gdtr.value.table.limit = l->gdt_limit;
    const struct hv_register_assoc assoc[] = {
        reg64(HV_X64_REGISTER_CR4, l->cr4),
        reg64(HV_X64_REGISTER_EFER, l->efer),
        reg64(HV_X64_REGISTER_CR3, l->cr3),
        reg64(HV_X64_REGISTER_CR0, l->cr0),
        flat_segment(HV_X64_REGISTER_CS, BZIMAGE_CODE_SELECTOR, l->code_attributes),
        flat_segment(HV_X64_REGISTER_DS, BZIMAGE_DATA_SELECTOR, l->data_attributes),
        flat_segment(HV_X64_REGISTER_ES, BZIMAGE_DATA_SELECTOR, l->data_attributes),
        flat_segment(HV_X64_REGISTER_SS, BZIMAGE_DATA_SELECTOR, l->data_attributes),
        gdtr,
        reg64(HV_X64_REGISTER_RFLAGS, 0x2), /* IF clear; bit 1 always reads 1 */
        reg64(HV_X64_REGISTER_RSI, l->boot_params_gpa),
        reg64(HV_X64_REGISTER_RSP, 0),
        reg64(HV_X64_REGISTER_RIP, l->entry_gpa),
        reg64(HV_REGISTER_EXPLICIT_SUSPEND, 0),
    };
    return set_registers(child, 0, assoc, sizeof(assoc) / sizeof(assoc[0]), why);
}

/* A boot module's bytes, or NULL with the reason. */
static const uint8_t *module_bytes(const char *name, size_t *size, char *why)
{
    const struct root_module *module = find_module(name);
    if (!module || module->end <= module->start) {
        snprintf(why, VMMS_WHY_MAX, "boot module %s is empty", name);
        return NULL;
    }
    *size = (size_t)(module->end - module->start);
    return (const uint8_t *)(uintptr_t)module->start;
}

/* A bzImage with its initrd, command line and the child's ACPI tables in the hole at the
 * top of RAM that the loader reports as ACPI data (root/bzimage.h, root/child_acpi.h). */
static bool load_linux(struct child *child, const uint8_t *image, size_t size,
                       struct bzimage_layout *layout, char *why)
{
    const uint8_t *initrd = NULL;
    size_t initrd_size = 0;
    if (child->config.initrd[0] &&
        !(initrd = module_bytes(child->config.initrd, &initrd_size, why)))
        return false;
    uint64_t acpi = bzimage_acpi_base(child->ram_bytes);
    uint64_t rsdp = 0;
    const struct child_acpi_config acpi_config = { .vp_count = child->config.vp_count };
    if (!acpi || !child_acpi_build(child->ram + acpi, BZIMAGE_ACPI_SIZE, acpi, &acpi_config,
                                   &rsdp)) {
        snprintf(why, VMMS_WHY_MAX, "no room for the ACPI tables in %u MiB with %u VPs",
                 child->config.memory_mib, child->config.vp_count);
        return false;
    }
    char loader_why[BZIMAGE_WHY_MAX];
    if (!bzimage_load(image, size, initrd, initrd_size, child->config.cmdline, child->ram,
                      child->ram_bytes, rsdp, layout, loader_why)) {
        snprintf(why, VMMS_WHY_MAX, "module %s: %s", child->config.module, loader_why);
        return false;
    }
    printf("root: child %s: Linux boot protocol %u.%02u, kernel at %#lx, initrd %lu bytes at "
           "%#lx, ACPI RSDP at %#lx\n", child->config.name, layout->protocol_version >> 8u,
           layout->protocol_version & 0xFFu, layout->kernel_gpa, layout->initrd_size,
           layout->initrd_gpa, rsdp);
    return true;
}

/* RAM (allocated at the first start and reused by a restart: root memory has no free),
 * zeroed, the module loaded into it, mapped at GPA 0. */
static bool prepare_memory(struct child *child, const uint8_t *image, size_t size,
                           struct bzimage_layout *layout, uint64_t *entry, char *why)
{
    child->ram_bytes = (uint64_t)child->config.memory_mib * MIB;
    if (!child->ram) {
        uint64_t ram = root_memory_alloc(child->ram_bytes, CHILD_RAM_ALIGN);
        if (!ram) {
            start_lacked_memory = true;
            snprintf(why, VMMS_WHY_MAX, "no root memory for %u MiB (%lu MiB free)",
                     child->config.memory_mib, root_memory_free_bytes() >> 20);
            return false;
        }
        child->ram = (uint8_t *)(uintptr_t)ram;
    }
    /* A child sees only what it loaded and zeros, never older root data or its own past. */
    memset(child->ram, 0, child->ram_bytes);
    if (child->is_linux) {
        if (!load_linux(child, image, size, layout, why))
            return false;
        *entry = layout->entry_gpa;
    } else {
        struct loader_result loaded;
        if (!loader_load_elf(image, size, child->ram, child->ram_bytes, &loaded)) {
            snprintf(why, VMMS_WHY_MAX, "module %s: %s", child->config.module, loaded.error);
            return false;
        }
        *entry = loaded.entry;
    }
    uint16_t status = hvcall_map_gpa_range(child->partition_id, 0,
                                           (uint64_t)(uintptr_t)child->ram, child->ram_bytes,
                                           HV_MAP_GPA_READABLE | HV_MAP_GPA_WRITABLE |
                                               HV_MAP_GPA_EXECUTABLE);
    if (status != HV_STATUS_SUCCESS)
        snprintf(why, VMMS_WHY_MAX, "HvCallMapGpaPages: status %#x", status);
    return status == HV_STATUS_SUCCESS;
}

static bool start_child(struct child *child, char *why)
{
    size_t size = 0;
    const uint8_t *image = module_bytes(child->config.module, &size, why);
    if (!image)
        return false;
    /* A module with a bzImage setup header boots by the Linux boot protocol, any other as
     * an ELF (which the loader checks). */
    child->is_linux = bzimage_probe(image, size);
    uint16_t status = hvcall_create_partition(0, &child->partition_id);
    if (status != HV_STATUS_SUCCESS) {
        snprintf(why, VMMS_WHY_MAX, "HvCallCreatePartition: status %#x", status);
        return false;
    }
    uint64_t entry = 0;
    struct bzimage_layout layout;
    bool ok = false;
    if ((status = hvcall_initialize_partition(child->partition_id)) != HV_STATUS_SUCCESS) {
        snprintf(why, VMMS_WHY_MAX, "HvCallInitializePartition: status %#x", status);
    } else if (prepare_memory(child, image, size, &layout, &entry, why)) {
        status = hvcall_finalize_partition(child->partition_id);
        if (status != HV_STATUS_SUCCESS)
            snprintf(why, VMMS_WHY_MAX, "HvCallFinalizePartition: status %#x", status);
        ok = status == HV_STATUS_SUCCESS;
    }
    worker_child_init(child);
    for (uint32_t vp = 0; ok && vp < child->config.vp_count; vp++) {
        if ((status = hvcall_create_vp(child->partition_id, vp)) != HV_STATUS_SUCCESS) {
            snprintf(why, VMMS_WHY_MAX, "HvCallCreateVp %u: status %#x", vp, status);
            ok = false;
        }
    }
    /* All VPs exist before the first runs: an ELF child's start at the entry together. */
    child->running = ok;
    if (ok && child->is_linux)
        ok = set_linux_entry_state(child, &layout, why);
    for (uint32_t vp = 0; ok && !child->is_linux && vp < child->config.vp_count; vp++)
        ok = set_elf_entry_state(child, vp, entry, why);
    if (!ok) {
        child->running = false;
        hvcall_delete_partition(child->partition_id);
        return false;
    }
    printf("root: child %s: partition %lu, %u MiB, %u VPs, entry %#lx\n", child->config.name,
           child->partition_id, child->config.memory_mib, child->config.vp_count, entry);
    mgmt_event_record(&mgmt_events, root_time_ns() / 1000000, MGMT_EVENT_PARTITION_STARTED,
                      child->config.name, NULL);
    return true;
}

/* The worker's restart of a child that reset itself: a new partition from the same
 * declaration, in the same RAM. */
static bool restart_child(struct child *child)
{
    char why[VMMS_WHY_MAX];
    if (start_child(child, why))
        return true;
    printf("root: child %s: %s; not restarted\n", child->config.name, why);
    return false;
}

/* --- children driven at run time (vmms.h) ------------------------------------------------ */

static struct child *find_child(const char *name)
{
    for (size_t i = 0; child_table && i < VMMS_CHILDREN_MAX; i++)
        if (child_table[i].config.name[0] && strcmp(child_table[i].config.name, name) == 0)
            return &child_table[i];
    return NULL;
}

/* Its partition goes now, without asking the guest (a hard stop). */
static void delete_partition(struct child *child)
{
    worker_child_read_statistics(child); /* its last counters outlive the partition */
    child->running = false;
    uint16_t status = hvcall_delete_partition(child->partition_id);
    if (status != HV_STATUS_SUCCESS)
        printf("root: child %s: HvCallDeletePartition(%lu): status %#x\n", child->config.name,
               child->partition_id, status);
}

static enum vmms_result start_again(struct child *child, char *why, size_t why_size)
{
    char reason[VMMS_WHY_MAX];
    start_lacked_memory = false;
    child->has_exit_code = false;
    child->failed = false;
    if (start_child(child, reason))
        return VMMS_OK;
    child->failed = true;
    printf("root: child %s: %s; not started\n", child->config.name, reason);
    snprintf(why, why_size, "%s", reason);
    return start_lacked_memory ? VMMS_NO_MEMORY : VMMS_FAILED;
}

enum vmms_result vmms_child_start(const char *name, char *why, size_t why_size)
{
    struct child *child = find_child(name);
    if (!child) {
        snprintf(why, why_size, "no partition has this name");
        return VMMS_NOT_FOUND;
    }
    if (child->running) {
        snprintf(why, why_size, "the partition is running already");
        return VMMS_CONFLICT;
    }
    printf("hvfw: child %s starting (management API)\n", child->config.name);
    return start_again(child, why, why_size);
}

enum vmms_result vmms_child_stop(const char *name, char *why, size_t why_size)
{
    struct child *child = find_child(name);
    if (!child) {
        snprintf(why, why_size, "no partition has this name");
        return VMMS_NOT_FOUND;
    }
    if (!child->running) {
        snprintf(why, why_size, "the partition is not running");
        return VMMS_CONFLICT;
    }
    uart_flush(&child->com1); /* its last words before the stop line */
    printf("hvfw: child %s stopped reason=hard-stop\n", child->config.name);
    mgmt_event_record_stop(&mgmt_events, root_time_ns() / 1000000, child->config.name,
                           "hard-stop");
    delete_partition(child);
    child->failed = false;
    return VMMS_OK;
}

enum vmms_result vmms_child_reset(const char *name, char *why, size_t why_size)
{
    struct child *child = find_child(name);
    if (!child) {
        snprintf(why, why_size, "no partition has this name");
        return VMMS_NOT_FOUND;
    }
    if (!child->running) {
        snprintf(why, why_size, "the partition is not running");
        return VMMS_CONFLICT;
    }
    uart_flush(&child->com1);
    printf("hvfw: child %s restarting (management API)\n", child->config.name);
    delete_partition(child);
    child->restarts++;
    return start_again(child, why, why_size);
}

enum vmms_result vmms_child_delete(const char *name, char *why, size_t why_size)
{
    struct child *child = find_child(name);
    if (!child) {
        snprintf(why, why_size, "no partition has this name");
        return VMMS_NOT_FOUND;
    }
    if (child->running) {
        snprintf(why, why_size, "the partition is running; stop it first");
        return VMMS_CONFLICT;
    }
    size_t slot = (size_t)(child - child_table);
    uint8_t *ram = child->ram;
    retained_ram_bytes[slot] = ram ? child->ram_bytes : 0;
    printf("hvfw: child %s deleted\n", child->config.name);
    mgmt_event_record(&mgmt_events, root_time_ns() / 1000000, MGMT_EVENT_PARTITION_DELETED,
                      child->config.name, NULL);
    memset(child, 0, sizeof(*child));
    child->ram = ram;
    return VMMS_OK;
}

/* A free slot for a child of `bytes`: the smallest retained RAM that holds it, else a slot
 * without RAM, else NULL. */
static struct child *free_slot(uint64_t bytes, bool *has_ram)
{
    struct child *best = NULL, *empty = NULL;
    for (size_t i = 0; i < VMMS_CHILDREN_MAX; i++) {
        struct child *c = &child_table[i];
        if (c->config.name[0])
            continue;
        if (!c->ram && !empty)
            empty = c;
        if (c->ram && retained_ram_bytes[i] >= bytes &&
            (!best || retained_ram_bytes[i] < retained_ram_bytes[best - child_table]))
            best = c;
    }
    *has_ram = best != NULL;
    return best ? best : empty;
}

enum vmms_result vmms_child_create(const struct vmms_child_spec *spec, char *why,
                                   size_t why_size)
{
    char reason[CHILD_WHY_MAX];
    if (!child_table) {
        snprintf(why, why_size, "the partition manager is not running");
        return VMMS_FAILED;
    }
    if (find_child(spec->name)) {
        snprintf(why, why_size, "a partition has this name already");
        return VMMS_CONFLICT;
    }
    /* The checks of a `child=` declaration, on the same text: one set of rules. */
    if (strchr(spec->name, ':') || strchr(spec->kernel, ':')) {
        snprintf(why, why_size, "names and modules hold no ':'");
        return VMMS_INVALID;
    }
    static const char *modules[ROOT_MAX_MODULES];
    static char module_names[ROOT_MAX_MODULES][sizeof(root_boot_info->modules[0].name)];
    size_t module_count = 0;
    for (uint32_t i = 0; i < root_boot_info->module_count && i < ROOT_MAX_MODULES; i++) {
        memcpy(module_names[i], root_boot_info->modules[i].name, sizeof(module_names[i]));
        module_names[i][sizeof(module_names[i]) - 1] = '\0';
        modules[module_count++] = module_names[i];
    }
    static struct child_config taken[VMMS_CHILDREN_MAX];
    size_t taken_count = 0;
    for (size_t i = 0; i < VMMS_CHILDREN_MAX; i++)
        if (child_table[i].config.name[0])
            taken[taken_count++] = child_table[i].config;
    char declaration[CHILD_NAME_MAX + CHILD_MODULE_NAME_MAX + 40];
    int n = snprintf(declaration, sizeof(declaration), "%s:%s:%u:%u", spec->name, spec->kernel,
                     spec->memory_mib, spec->vp_count);
    static struct child_config config;
    memset(&config, 0, sizeof(config));
    if (n < 0 || (size_t)n >= sizeof(declaration)) {
        snprintf(why, why_size, "the name or the kernel module name is too long");
        return VMMS_INVALID;
    }
    if (!child_config_parse(declaration, root_boot_info->vp_count, taken, taken_count, modules,
                            module_count, &config, reason)) {
        snprintf(why, why_size, "%s", reason);
        return VMMS_INVALID;
    }
    char key[CHILD_NAME_MAX + 16];
    snprintf(key, sizeof(key), "initrd.%s", config.name);
    if (spec->initrd[0] &&
        !child_config_apply(key, spec->initrd, &config, 1, modules, module_count, reason)) {
        snprintf(why, why_size, "initrd: %s", reason);
        return VMMS_INVALID;
    }
    snprintf(key, sizeof(key), "cmdline.%s", config.name);
    if (spec->cmdline[0] &&
        !child_config_apply(key, spec->cmdline, &config, 1, modules, module_count, reason)) {
        snprintf(why, why_size, "cmdline: %s", reason);
        return VMMS_INVALID;
    }
    uint64_t bytes = (uint64_t)config.memory_mib * MIB;
    bool has_ram;
    struct child *child = free_slot(bytes, &has_ram);
    if (!child) {
        snprintf(why, why_size, "at most %d partitions", VMMS_CHILDREN_MAX);
        return VMMS_CONFLICT;
    }
    if (!has_ram && root_memory_free_bytes() < bytes + CHILD_RAM_ALIGN) {
        snprintf(why, why_size, "no root memory for %u MiB (%lu MiB free)", config.memory_mib,
                 root_memory_free_bytes() >> 20);
        return VMMS_NO_MEMORY;
    }
    uint8_t *ram = has_ram ? child->ram : NULL;
    memset(child, 0, sizeof(*child));
    child->config = config;
    child->ram = ram;
    child->restart = restart_child;
    printf("hvfw: child %s created (management API): %s, %u MiB, %u VPs\n", config.name,
           config.module, config.memory_mib, config.vp_count);
    mgmt_event_record(&mgmt_events, root_time_ns() / 1000000, MGMT_EVENT_PARTITION_CREATED,
                      config.name, NULL);
    return VMMS_OK;
}

/* The root's network work between intercepts: frames and lwIP's timers, then the
 * management API's console streams (new output out, held input into the UARTs). */
static bool poll_network(void)
{
    bool busy = network_poll();
    return mgmt_server_poll() || busy;
}

void root_vmms_run(void)
{
    struct child *children = calloc(VMMS_CHILDREN_MAX, sizeof(struct child));
    if (!children) {
        printf("root: no memory for the child table; no children\n");
        worker_run(NULL, 0, cmdline_flag(root_boot_info->cmdline, "exit_when_idle"));
    }
    size_t count = declared_children(children);
    /* Recovery boots start no child (docs/boot.md, "The boot menu"). */
    if (cmdline_flag(root_boot_info->cmdline, "recovery") && count) {
        printf("root: recovery: %zu declared children not started\n", count);
        memset(children, 0, count * sizeof(*children));
        count = 0;
    }
    child_table = children;
    worker_enable_messages();
    for (size_t i = 0; i < count; i++) {
        char why[VMMS_WHY_MAX];
        children[i].restart = restart_child;
        if (!start_child(&children[i], why)) {
            printf("root: child %s: %s; not started\n", children[i].config.name, why);
            children[i].failed = true;
        }
    }
    /* Started once the children run: it measures the root's responsiveness under their
     * load, not the time the root spends creating them. */
    heartbeat_start(root_boot_info->cmdline);
    if (network_start(root_boot_info->cmdline))
        worker_poll_hook = poll_network;
    /* Every slot: the API creates children in the free ones (unused slots are not running). */
    mgmt_server_serve_children(children, VMMS_CHILDREN_MAX); /* root/mgmt_server.h */
    worker_run(children, VMMS_CHILDREN_MAX,
               cmdline_flag(root_boot_info->cmdline, "exit_when_idle"));
}
