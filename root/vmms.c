#include "root/vmms.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hv/hypercall_abi.h"
#include "hv/intercept_abi.h"
#include "kernel/cmdline.h"
#include "root/heartbeat.h"
#include "root/child_config.h"
#include "root/hvcall.h"
#include "root/loader.h"
#include "root/memory.h"
#include "root/platform.h"
#include "root/worker.h"

#define MIB (1ull << 20)
#define CHILD_RAM_ALIGN (2ull << 20)
#define VMMS_WHY_MAX 224
/* EAX at a child's entry: 'hvfw' (images/guests/README.md, "Entry state"). */
#define CHILD_ENTRY_MAGIC 0x68766677u

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
            children[count].config = accepted[count];
            count++;
            continue;
        }
        printf("root: child=%s: %s; skipped\n", shown, why);
    }
    return count;
}

static bool set_entry_state(struct child *child, uint32_t vp, uint64_t entry, char *why)
{
    static const uint32_t names[] = {
        HV_X64_REGISTER_RIP, HV_X64_REGISTER_RSP, HV_X64_REGISTER_RAX, HV_X64_REGISTER_RBX,
        HV_X64_REGISTER_RCX, HV_REGISTER_EXPLICIT_SUSPEND,
    };
    /* ESP is undefined by the contract (the guests load their own): 0. */
    const uint64_t values[] = { entry, 0, CHILD_ENTRY_MAGIC, child->ram_bytes, vp, 0 };
    struct hv_register_assoc assoc[sizeof(names) / sizeof(names[0])];
    memset(assoc, 0, sizeof(assoc));
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        assoc[i].name = names[i];
        assoc[i].value.reg64 = values[i];
    }
    uint16_t status = hvcall_set_vp_registers(child->partition_id, vp, assoc,
                                              sizeof(names) / sizeof(names[0]));
    if (status != HV_STATUS_SUCCESS)
        snprintf(why, VMMS_WHY_MAX, "HvCallSetVpRegisters on VP %u: status %#x", vp, status);
    return status == HV_STATUS_SUCCESS;
}

/* RAM, the module in it, mapped at GPA 0. */
static bool prepare_memory(struct child *child, const struct root_module *module,
                           uint64_t *entry, char *why)
{
    child->ram_bytes = (uint64_t)child->config.memory_mib * MIB;
    uint64_t ram = root_memory_alloc(child->ram_bytes, CHILD_RAM_ALIGN);
    if (!ram) {
        snprintf(why, VMMS_WHY_MAX, "no root memory for %u MiB (%lu MiB free)",
                 child->config.memory_mib, root_memory_free_bytes() >> 20);
        return false;
    }
    child->ram = (uint8_t *)(uintptr_t)ram;
    /* A child sees only what it loaded and zeros, never older root data. */
    memset(child->ram, 0, child->ram_bytes);
    struct loader_result loaded;
    if (!loader_load_elf((const uint8_t *)(uintptr_t)module->start,
                         (size_t)(module->end - module->start), child->ram, child->ram_bytes,
                         &loaded)) {
        snprintf(why, VMMS_WHY_MAX, "module %s: %s", child->config.module, loaded.error);
        return false;
    }
    *entry = loaded.entry;
    uint16_t status = hvcall_map_gpa_range(child->partition_id, 0, ram, child->ram_bytes,
                                           HV_MAP_GPA_READABLE | HV_MAP_GPA_WRITABLE |
                                               HV_MAP_GPA_EXECUTABLE);
    if (status != HV_STATUS_SUCCESS)
        snprintf(why, VMMS_WHY_MAX, "HvCallMapGpaPages: status %#x", status);
    return status == HV_STATUS_SUCCESS;
}

static bool start_child(struct child *child, char *why)
{
    const struct root_module *module = find_module(child->config.module);
    if (!module || module->end <= module->start) {
        snprintf(why, VMMS_WHY_MAX, "boot module %s is empty", child->config.module);
        return false;
    }
    uint16_t status = hvcall_create_partition(0, &child->partition_id);
    if (status != HV_STATUS_SUCCESS) {
        snprintf(why, VMMS_WHY_MAX, "HvCallCreatePartition: status %#x", status);
        return false;
    }
    uint64_t entry = 0;
    bool ok = false;
    if ((status = hvcall_initialize_partition(child->partition_id)) != HV_STATUS_SUCCESS) {
        snprintf(why, VMMS_WHY_MAX, "HvCallInitializePartition: status %#x", status);
    } else if (prepare_memory(child, module, &entry, why)) {
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
    /* All VPs exist before the first runs: they start at the entry together. */
    child->running = ok;
    for (uint32_t vp = 0; ok && vp < child->config.vp_count; vp++)
        ok = set_entry_state(child, vp, entry, why);
    if (!ok) {
        child->running = false;
        hvcall_delete_partition(child->partition_id);
        return false;
    }
    printf("root: child %s: partition %lu, %u MiB, %u VPs, entry %#lx\n", child->config.name,
           child->partition_id, child->config.memory_mib, child->config.vp_count, entry);
    return true;
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
        count = 0;
    }
    worker_enable_messages();
    for (size_t i = 0; i < count; i++) {
        char why[VMMS_WHY_MAX];
        if (!start_child(&children[i], why)) {
            printf("root: child %s: %s; not started\n", children[i].config.name, why);
            children[i].failed = true;
        }
    }
    /* Started once the children run: it measures the root's responsiveness under their
     * load, not the time the root spends creating them. */
    heartbeat_start(root_boot_info->cmdline);
    worker_run(children, count, cmdline_flag(root_boot_info->cmdline, "exit_when_idle"));
}
