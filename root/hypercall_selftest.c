#include "root/hypercall_selftest.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "hv/hypercall_abi.h"
#include "hv/intercept_abi.h"
#include "root/hvcall.h"
#include "root/memory.h"
#include "root/platform.h"

/* kernel/linker.ld: hypervisor text, which the root cannot even read. */
extern char __text_start[];

#define PAGE 4096u
#define CHILD_PAGES 4u
#define TARGET_PAGE 0x100u /* where the child sees the test pages */

/* A page of the root's own image (root bss): writable by the root, never mappable. Also the
 * input page of the raw calls below, which check the reps-completed field. */
static uint8_t image_page[PAGE] __attribute__((aligned(PAGE)));
static uint8_t raw_output_page[PAGE] __attribute__((aligned(PAGE)));

struct selftest {
    unsigned calls, refused;
    bool failed;
};

/* One call's status against what the hypervisor owes: success or a specific refusal. */
static void expect(struct selftest *t, const char *what, uint16_t got, uint16_t want)
{
    t->calls++;
    if (got == want) {
        if (want != HV_STATUS_SUCCESS)
            t->refused++;
        return;
    }
    if (!t->failed)
        printf("selftest: hypercalls: FAILED: %s: status %#x, expected %#x\n", what, got,
               want); /* hv_status_name is hypervisor code: the root cannot call it */
    t->failed = true;
}

static void check(struct selftest *t, const char *what, bool ok)
{
    if (!ok && !t->failed)
        printf("selftest: hypercalls: FAILED: %s\n", what);
    if (!ok)
        t->failed = true;
}

static struct hv_register_assoc assoc(uint32_t name, uint64_t value)
{
    struct hv_register_assoc a;
    memset(&a, 0, sizeof(a));
    a.name = name;
    a.value.reg64 = value;
    return a;
}

/* The reps-completed field of a result (hypercall_result_reps is hypervisor code). */
static uint32_t reps_of(uint64_t result)
{
    return (uint32_t)((result & HYPERCALL_RESULT_REPS_MASK) >> HYPERCALL_RESULT_REPS_SHIFT);
}

/* A rep call made by hand, to see the reps-completed field the wrappers do not return. */
static uint64_t raw_rep_call(uint16_t code, uint32_t count, bool output)
{
    uint64_t control = code | ((uint64_t)count << HYPERCALL_CONTROL_REP_COUNT_SHIFT);
    return hvcall(control, (uint64_t)(uintptr_t)image_page,
                  output ? (uint64_t)(uintptr_t)raw_output_page : 0);
}

static void test_partition_states(struct selftest *t, uint64_t self, uint64_t *child)
{
    uint64_t id = 0;
    expect(t, "create with an unknown flag", hvcall_create_partition(1ull << 63, &id),
           HV_STATUS_INVALID_PARAMETER);
    expect(t, "create", hvcall_create_partition(0, child), HV_STATUS_SUCCESS);
    check(t, "the new partition has an id of its own", *child != 0 && *child != self);
    expect(t, "finalize before initialize", hvcall_finalize_partition(*child),
           HV_STATUS_INVALID_PARTITION_STATE);
    expect(t, "create a VP before initialize", hvcall_create_vp(*child, 0),
           HV_STATUS_INVALID_PARTITION_STATE);
    expect(t, "initialize", hvcall_initialize_partition(*child), HV_STATUS_SUCCESS);
    expect(t, "initialize twice", hvcall_initialize_partition(*child),
           HV_STATUS_INVALID_PARTITION_STATE);
    expect(t, "initialize the root itself", hvcall_initialize_partition(self),
           HV_STATUS_ACCESS_DENIED);
    expect(t, "delete the root itself", hvcall_delete_partition(self), HV_STATUS_ACCESS_DENIED);
    expect(t, "initialize partition 0", hvcall_initialize_partition(0),
           HV_STATUS_INVALID_PARTITION_ID);
    expect(t, "initialize a partition that does not exist",
           hvcall_initialize_partition(*child + 1000), HV_STATUS_INVALID_PARTITION_ID);
}

static void test_mapping(struct selftest *t, uint64_t child, uint64_t pages)
{
    uint64_t first = pages / PAGE;
    uint32_t rwx = HV_MAP_GPA_READABLE | HV_MAP_GPA_WRITABLE | HV_MAP_GPA_EXECUTABLE;
    expect(t, "map root RAM", hvcall_map_gpa_range(child, TARGET_PAGE * PAGE, pages,
                                                   CHILD_PAGES * PAGE, rwx),
           HV_STATUS_SUCCESS);
    expect(t, "map again read-only (replaces)",
           hvcall_map_gpa_range(child, TARGET_PAGE * PAGE, pages, PAGE, HV_MAP_GPA_READABLE),
           HV_STATUS_SUCCESS);
    expect(t, "map write-only (nested paging cannot)",
           hvcall_map_gpa_range(child, TARGET_PAGE * PAGE, pages, PAGE, HV_MAP_GPA_WRITABLE),
           HV_STATUS_INVALID_PARAMETER);
    uint64_t image = (uint64_t)(uintptr_t)image_page / PAGE;
    expect(t, "map a page of the root's image", hvcall_map_gpa_pages(child, 0, rwx, &image, 1),
           HV_STATUS_INVALID_PARAMETER);
    uint64_t hypervisor = (uint64_t)(uintptr_t)__text_start / PAGE;
    expect(t, "map hypervisor memory", hvcall_map_gpa_pages(child, 0, rwx, &hypervisor, 1),
           HV_STATUS_INVALID_PARAMETER);
    if (root_boot_info->module_count > 0) {
        uint64_t module = root_boot_info->modules[0].start / PAGE;
        expect(t, "map a boot module page", hvcall_map_gpa_pages(child, 0, rwx, &module, 1),
               HV_STATUS_INVALID_PARAMETER);
    }
    expect(t, "map beyond the GPA space",
           hvcall_map_gpa_pages(child, HV_GPA_PAGE_NUMBER_LIMIT - 1, rwx,
                                (const uint64_t[]){first, first + 1}, 2),
           HV_STATUS_INVALID_PARAMETER);
    expect(t, "map into the root itself", hvcall_map_gpa_pages(HV_PARTITION_ID_SELF, 0, rwx,
                                                                &first, 1),
           HV_STATUS_INVALID_PARTITION_ID);

    /* Two good pages, then one the root does not own: two reps completed, as the TLFS
     * reports a partial rep call. */
    struct hv_input_map_gpa_pages in = {child, TARGET_PAGE + 8, rwx, 0};
    uint64_t list[3] = {first, first + 1, hypervisor};
    memcpy(image_page, &in, sizeof(in));
    memcpy(image_page + sizeof(in), list, sizeof(list));
    uint64_t result = raw_rep_call(HVCALL_MAP_GPA_PAGES, 3, false);
    expect(t, "map with a bad third page", hvcall_status(result), HV_STATUS_INVALID_PARAMETER);
    check(t, "a partial map reports the pages mapped", reps_of(result) == 2);
    expect(t, "unmap the partial map", hvcall_unmap_gpa_pages(child, TARGET_PAGE + 8, 2),
           HV_STATUS_SUCCESS);
}

static void test_vp(struct selftest *t, uint64_t self, uint64_t child)
{
    expect(t, "create VP 1 first", hvcall_create_vp(child, 1), HV_STATUS_INVALID_VP_INDEX);
    expect(t, "create VP 0", hvcall_create_vp(child, 0), HV_STATUS_SUCCESS);
    expect(t, "create VP 0 twice", hvcall_create_vp(child, 0), HV_STATUS_INVALID_VP_INDEX);

    struct hv_register_assoc set[] = {
        assoc(HV_X64_REGISTER_RIP, 0x100000), assoc(HV_X64_REGISTER_RSP, 0x8000),
        assoc(HV_X64_REGISTER_RAX, 0x68766677), assoc(HV_X64_REGISTER_RBX, 16u << 20),
        assoc(HV_X64_REGISTER_RCX, 0), assoc(HV_X64_REGISTER_R15, 0x1122334455667788ull),
    };
    expect(t, "set the entry registers", hvcall_set_vp_registers(child, 0, set, 6),
           HV_STATUS_SUCCESS);
    uint32_t names[] = {HV_X64_REGISTER_RIP, HV_X64_REGISTER_RSP, HV_X64_REGISTER_RAX,
                        HV_X64_REGISTER_RBX, HV_X64_REGISTER_RCX, HV_X64_REGISTER_R15,
                        HV_X64_REGISTER_CS,  HV_X64_REGISTER_CR0, HV_REGISTER_EXPLICIT_SUSPEND,
                        HV_REGISTER_INTERCEPT_SUSPEND};
    union hv_register_value values[10];
    expect(t, "get them back", hvcall_get_vp_registers(child, 0, names, values, 10),
           HV_STATUS_SUCCESS);
    bool same = true;
    for (unsigned i = 0; i < 6; i++)
        same &= values[i].reg64 == set[i].value.reg64;
    check(t, "registers read back as written", same);
    /* The start state: flat 32-bit code (TLFS attributes: G, D/B, P, S, type 0xB). */
    check(t, "a new VP starts in flat 32-bit protected mode",
          values[6].segment.selector == 0x08 && values[6].segment.attributes == 0xC09B &&
              values[6].segment.limit == 0xFFFFFFFFu && (values[7].reg64 & 1));
    check(t, "a new VP is held by the explicit suspend", values[8].reg64 == 1 && values[9].reg64 == 0);

    struct hv_register_assoc bad_cr0 = assoc(HV_X64_REGISTER_CR0, 1ull << 31);
    expect(t, "CR0.PG without PE", hvcall_set_vp_registers(child, 0, &bad_cr0, 1),
           HV_STATUS_INVALID_PARAMETER);
    struct hv_register_assoc bad_flags = assoc(HV_X64_REGISTER_RFLAGS, 1ull << 40);
    expect(t, "a reserved RFLAGS bit", hvcall_set_vp_registers(child, 0, &bad_flags, 1),
           HV_STATUS_INVALID_PARAMETER);
    struct hv_register_assoc hold = assoc(HV_REGISTER_INTERCEPT_SUSPEND, 1);
    expect(t, "set the intercept suspend", hvcall_set_vp_registers(child, 0, &hold, 1),
           HV_STATUS_INVALID_PARAMETER);
    struct hv_register_assoc nmi_vector_3 =
        assoc(HV_REGISTER_PENDING_INTERRUPTION, 1 | (2u << 1) | (3u << 16));
    expect(t, "an NMI with vector 3", hvcall_set_vp_registers(child, 0, &nmi_vector_3, 1),
           HV_STATUS_INVALID_PARAMETER);
    uint64_t gp = HV_PENDING_INTERRUPTION_PENDING | HV_PENDING_INTERRUPTION_TYPE_EXCEPTION |
                  HV_PENDING_INTERRUPTION_ERROR_CODE |
                  (13ull << HV_PENDING_INTERRUPTION_VECTOR_SHIFT);
    struct hv_register_assoc pending[] = {assoc(HV_REGISTER_PENDING_INTERRUPTION, gp)};
    expect(t, "a pending #GP(0)", hvcall_set_vp_registers(child, 0, pending, 1),
           HV_STATUS_SUCCESS);
    uint32_t pending_name = HV_REGISTER_PENDING_INTERRUPTION;
    expect(t, "read the pending event",
           hvcall_get_vp_registers(child, 0, &pending_name, values, 1), HV_STATUS_SUCCESS);
    check(t, "the pending event reads back", values[0].reg64 == gp);
    pending[0].value.reg64 = 0;
    expect(t, "clear the pending event", hvcall_set_vp_registers(child, 0, pending, 1),
           HV_STATUS_SUCCESS);

    /* An unknown register second in the list: one rep completed. */
    struct hv_input_vp_registers header = {child, 0, 0, 0, 0};
    struct hv_register_assoc list[2] = {assoc(HV_X64_REGISTER_RDX, 7), assoc(0x00123456, 0)};
    memcpy(image_page, &header, sizeof(header));
    memcpy(image_page + sizeof(header), list, sizeof(list));
    uint64_t result = raw_rep_call(HVCALL_SET_VP_REGISTERS, 2, false);
    expect(t, "an unknown register name", hvcall_status(result), HV_STATUS_INVALID_PARAMETER);
    check(t, "the registers before the unknown one are set", reps_of(result) == 1);

    uint32_t rip = HV_X64_REGISTER_RIP;
    expect(t, "registers of VP 1", hvcall_get_vp_registers(child, 1, &rip, values, 1),
           HV_STATUS_INVALID_VP_INDEX);
    expect(t, "registers of the root's own VP",
           hvcall_get_vp_registers(self, 0, &rip, values, 1), HV_STATUS_ACCESS_DENIED);
    expect(t, "registers of the root as SELF",
           hvcall_get_vp_registers(HV_PARTITION_ID_SELF, HV_VP_INDEX_SELF, &rip, values, 1),
           HV_STATUS_ACCESS_DENIED);
}

static void test_intercepts_and_end(struct selftest *t, uint64_t child)
{
    expect(t, "install a port intercept",
           hvcall_install_intercept(child, HV_INTERCEPT_ACCESS_READ | HV_INTERCEPT_ACCESS_WRITE,
                                    HV_INTERCEPT_TYPE_X64_IO_PORT, 0x3F8),
           HV_STATUS_SUCCESS);
    expect(t, "install a CPUID intercept",
           hvcall_install_intercept(child, 0, HV_INTERCEPT_TYPE_X64_CPUID, 0x40000000),
           HV_STATUS_SUCCESS);
    expect(t, "install an exception intercept (not delivered)",
           hvcall_install_intercept(child, 0, HV_INTERCEPT_TYPE_EXCEPTION, 6),
           HV_STATUS_INVALID_PARAMETER);
    expect(t, "finalize", hvcall_finalize_partition(child), HV_STATUS_SUCCESS);
    expect(t, "finalize twice", hvcall_finalize_partition(child),
           HV_STATUS_INVALID_PARTITION_STATE);
    expect(t, "create VP 1 after finalize", hvcall_create_vp(child, 1), HV_STATUS_SUCCESS);
    expect(t, "unmap the test pages", hvcall_unmap_gpa_pages(child, TARGET_PAGE, CHILD_PAGES),
           HV_STATUS_SUCCESS);
    struct hv_input_delete_vp delete_vp = {child, 1, 0};
    memcpy(image_page, &delete_vp, sizeof(delete_vp));
    expect(t, "HvCallDeleteVp (not offered)",
           hvcall_status(hvcall(HVCALL_DELETE_VP, (uint64_t)(uintptr_t)image_page, 0)),
           HV_STATUS_INVALID_HYPERCALL_CODE);
    expect(t, "delete", hvcall_delete_partition(child), HV_STATUS_SUCCESS);
    expect(t, "delete twice", hvcall_delete_partition(child), HV_STATUS_INVALID_PARTITION_ID);
    uint32_t rip = HV_X64_REGISTER_RIP;
    union hv_register_value value;
    expect(t, "registers of a deleted partition",
           hvcall_get_vp_registers(child, 0, &rip, &value, 1), HV_STATUS_INVALID_PARTITION_ID);
}

/* Device interrupts (hv/device_interrupt.h): every vector of the pool once, distinct, in the
 * hypervisor's range and aimed at a local APIC; then refusals. Runs before the network maps
 * its NIC's, and gives them all back. */
static void test_device_interrupts(struct selftest *t)
{
    uint64_t address;
    uint32_t data, id, ids[HVFW_DEVICE_INTERRUPT_MAX];
    uint64_t seen = 0;
    expect(t, "a device interrupt for a VP the root lacks",
           hvcall_map_device_interrupt(ROOT_MAX_VPS, &address, &data, &id),
           HV_STATUS_INVALID_VP_INDEX);
    for (uint32_t i = 0; i < HVFW_DEVICE_INTERRUPT_MAX; i++) {
        expect(t, "map a device interrupt", hvcall_map_device_interrupt(0, &address, &data, &ids[i]),
               HV_STATUS_SUCCESS);
        if (t->failed)
            return;
        check(t, "an MSI address at the local APICs", (address & ~0xFF000ull) == 0xFEE00000ull);
        check(t, "a fixed, edge-triggered vector above the exceptions",
              data >= 0x20 && data < 0xE0 && !(seen & (1ull << (data & 63))));
        seen |= 1ull << (data & 63);
    }
    expect(t, "a device interrupt beyond the pool",
           hvcall_map_device_interrupt(0, &address, &data, &id), HV_STATUS_NO_RESOURCES);
    for (uint32_t i = 0; i < HVFW_DEVICE_INTERRUPT_MAX; i++)
        expect(t, "unmap a device interrupt", hvcall_unmap_device_interrupt(ids[i]),
               HV_STATUS_SUCCESS);
    expect(t, "unmap it twice", hvcall_unmap_device_interrupt(ids[0]),
           HV_STATUS_INVALID_PARAMETER);
    expect(t, "unmap an id past the pool", hvcall_unmap_device_interrupt(1000),
           HV_STATUS_INVALID_PARAMETER);
}

bool hypercall_selftest_run(void)
{
    struct selftest t = {0, 0, false};
    uint64_t self = 0, child = 0;
    expect(&t, "get the partition id", hvcall_get_partition_id(&self), HV_STATUS_SUCCESS);
    uint64_t pages = root_memory_alloc(CHILD_PAGES * PAGE, PAGE);
    if (!pages) {
        printf("selftest: hypercalls: FAILED: no root memory for the test pages\n");
        return false;
    }
    test_partition_states(&t, self, &child);
    if (!t.failed)
        test_mapping(&t, child, pages);
    if (!t.failed)
        test_vp(&t, self, child);
    if (!t.failed)
        test_intercepts_and_end(&t, child);
    else if (child)
        hvcall_delete_partition(child);
    if (!t.failed)
        test_device_interrupts(&t);
    if (t.failed)
        return false;
    printf("selftest: hypercalls: ok (%u calls, %u refused as expected)\n", t.calls, t.refused);
    return true;
}
