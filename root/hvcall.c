#include "root/hvcall.h"

#include <stdbool.h>
#include <string.h>

#include "hv/hypercall_abi.h"
#include "hv/root_abi.h"
#include "root/cpu.h"

#define HVCALL_PAGE 4096u

/* One input and one output page per root VP: the lists of a memory call must not cross a
 * page (TLFS "Memory Alignment Requirements"). */
static uint8_t input_pages[ROOT_MAX_VPS][HVCALL_PAGE] __attribute__((aligned(HVCALL_PAGE)));
static uint8_t output_pages[ROOT_MAX_VPS][HVCALL_PAGE] __attribute__((aligned(HVCALL_PAGE)));

uint64_t hvcall(uint64_t control, uint64_t input_gpa, uint64_t output_gpa)
{
    uint64_t result;
    register uint64_t r8 __asm__("r8") = output_gpa;
    __asm__ volatile("vmmcall"
                     : "=a"(result)
                     : "c"(control), "d"(input_gpa), "r"(r8)
                     : "memory");
    return result;
}

uint16_t hvcall_status(uint64_t result)
{
    return (uint16_t)(result & 0xFFFF);
}

static uint64_t rep_control(uint16_t code, uint32_t count)
{
    return code | ((uint64_t)count << HYPERCALL_CONTROL_REP_COUNT_SHIFT);
}

void hvcall_console_write(const char *bytes, size_t length)
{
    uint8_t *page = input_pages[root_vp_index()];
    while (length) {
        size_t chunk = length < HYPERCALL_REP_MAX ? length : HYPERCALL_REP_MAX;
        memcpy(page, bytes, chunk);
        hvcall(rep_control(HVCALL_HVFW_CONSOLE_WRITE, (uint32_t)chunk),
               (uint64_t)(uintptr_t)page, 0);
        bytes += chunk;
        length -= chunk;
    }
}

void hvcall_root_ready(void)
{
    hvcall(HVCALL_HVFW_ROOT_READY | HYPERCALL_CONTROL_FAST, 0, 0);
}

void hvcall_root_stop(uint64_t code)
{
    for (;;) {
        hvcall(HVCALL_HVFW_ROOT_STOP | HYPERCALL_CONTROL_FAST, code, 0);
        __asm__ volatile("hlt");
    }
}

void hvcall_shutdown(uint32_t code)
{
    hvcall(HVCALL_HVFW_SHUTDOWN | HYPERCALL_CONTROL_FAST, code, 0);
}

/* ---- partition and VP management ------------------------------------------------------- */

static uint64_t gpa_of(const void *page)
{
    return (uint64_t)(uintptr_t)page;
}

/* A simple call: `in` copied to the input page, `out` (if any) from the output page. */
static uint16_t simple_call(uint16_t code, const void *in, size_t in_size, void *out,
                            size_t out_size)
{
    uint8_t *input = input_pages[root_vp_index()], *output = output_pages[root_vp_index()];
    if (in_size)
        memcpy(input, in, in_size);
    uint16_t status =
        hvcall_status(hvcall(code, in_size ? gpa_of(input) : 0, out_size ? gpa_of(output) : 0));
    if (status == HV_STATUS_SUCCESS && out_size)
        memcpy(out, output, out_size);
    return status;
}

/* A rep call whose input page (header, then `count` elements) is already filled. */
static uint16_t rep_call(uint16_t code, uint32_t count, bool output)
{
    uint32_t vp = root_vp_index();
    return hvcall_status(hvcall(rep_control(code, count), gpa_of(input_pages[vp]),
                                output ? gpa_of(output_pages[vp]) : 0));
}

uint16_t hvcall_create_partition(uint64_t flags, uint64_t *partition_id)
{
    struct hv_input_create_partition in;
    memset(&in, 0, sizeof(in));
    in.flags = flags;
    struct hv_output_create_partition out;
    uint16_t status = simple_call(HVCALL_CREATE_PARTITION, &in, sizeof(in), &out, sizeof(out));
    if (status == HV_STATUS_SUCCESS)
        *partition_id = out.partition_id;
    return status;
}

static uint16_t partition_call(uint16_t code, uint64_t partition_id)
{
    struct hv_input_partition_id in = {partition_id};
    return simple_call(code, &in, sizeof(in), NULL, 0);
}

uint16_t hvcall_initialize_partition(uint64_t partition_id)
{
    return partition_call(HVCALL_INITIALIZE_PARTITION, partition_id);
}

uint16_t hvcall_finalize_partition(uint64_t partition_id)
{
    return partition_call(HVCALL_FINALIZE_PARTITION, partition_id);
}

uint16_t hvcall_delete_partition(uint64_t partition_id)
{
    return partition_call(HVCALL_DELETE_PARTITION, partition_id);
}

uint16_t hvcall_get_partition_id(uint64_t *partition_id)
{
    struct hv_output_get_partition_id out;
    uint16_t status = simple_call(HVCALL_GET_PARTITION_ID, NULL, 0, &out, sizeof(out));
    if (status == HV_STATUS_SUCCESS)
        *partition_id = out.partition_id;
    return status;
}

#define MAP_BATCH ((HVCALL_PAGE - sizeof(struct hv_input_map_gpa_pages)) / sizeof(uint64_t))

/* Sources from `list`, or source_first_page + i when `list` is NULL. */
static uint16_t map_pages(uint64_t partition_id, uint64_t target_gpa_page, uint32_t map_flags,
                          const uint64_t *list, uint64_t source_first_page, uint64_t count)
{
    uint8_t *page = input_pages[root_vp_index()];
    for (uint64_t done = 0; done < count;) {
        uint32_t n = (uint32_t)(count - done < MAP_BATCH ? count - done : MAP_BATCH);
        struct hv_input_map_gpa_pages in = {partition_id, target_gpa_page + done, map_flags, 0};
        memcpy(page, &in, sizeof(in));
        uint64_t *sources = (uint64_t *)(void *)(page + sizeof(in));
        for (uint32_t i = 0; i < n; i++)
            sources[i] = list ? list[done + i] : source_first_page + done + i;
        uint16_t status = rep_call(HVCALL_MAP_GPA_PAGES, n, false);
        if (status != HV_STATUS_SUCCESS)
            return status;
        done += n;
    }
    return HV_STATUS_SUCCESS;
}

uint16_t hvcall_map_gpa_pages(uint64_t partition_id, uint64_t target_gpa_page,
                              uint32_t map_flags, const uint64_t *source_gpa_pages,
                              uint32_t count)
{
    return map_pages(partition_id, target_gpa_page, map_flags, source_gpa_pages, 0, count);
}

uint16_t hvcall_map_gpa_range(uint64_t partition_id, uint64_t target_gpa, uint64_t source_gpa,
                              uint64_t bytes, uint32_t map_flags)
{
    uint64_t mask = HVCALL_PAGE - 1;
    if ((target_gpa | source_gpa | bytes) & mask || bytes == 0)
        return HV_STATUS_INVALID_PARAMETER;
    return map_pages(partition_id, target_gpa >> HV_GPA_PAGE_SHIFT, map_flags, NULL,
                     source_gpa >> HV_GPA_PAGE_SHIFT, bytes >> HV_GPA_PAGE_SHIFT);
}

uint16_t hvcall_unmap_gpa_pages(uint64_t partition_id, uint64_t target_gpa_page, uint32_t count)
{
    uint8_t *page = input_pages[root_vp_index()];
    for (uint32_t done = 0; done < count;) {
        uint32_t n = count - done < HYPERCALL_REP_MAX ? count - done : HYPERCALL_REP_MAX;
        struct hv_input_unmap_gpa_pages in = {partition_id, target_gpa_page + done, 0, 0};
        memcpy(page, &in, sizeof(in));
        uint16_t status = rep_call(HVCALL_UNMAP_GPA_PAGES, n, false);
        if (status != HV_STATUS_SUCCESS)
            return status;
        done += n;
    }
    return HV_STATUS_SUCCESS;
}

uint16_t hvcall_install_intercept(uint64_t partition_id, uint32_t access_type_mask,
                                  uint32_t intercept_type, uint64_t parameters)
{
    struct hv_input_install_intercept in = {partition_id, access_type_mask, intercept_type,
                                            parameters};
    return simple_call(HVCALL_INSTALL_INTERCEPT, &in, sizeof(in), NULL, 0);
}

uint16_t hvcall_assert_virtual_interrupt(uint64_t partition_id, uint32_t apic_id,
                                         uint8_t vector)
{
    struct hv_input_assert_virtual_interrupt in;
    memset(&in, 0, sizeof(in));
    in.partition_id = partition_id;
    in.control = HV_INTERRUPT_TYPE_FIXED; /* edge-triggered, physical destination */
    in.destination = apic_id;
    in.vector = vector;
    return simple_call(HVCALL_ASSERT_VIRTUAL_INTERRUPT, &in, sizeof(in), NULL, 0);
}

uint16_t hvcall_create_vp(uint64_t partition_id, uint32_t vp_index)
{
    struct hv_input_create_vp in;
    memset(&in, 0, sizeof(in));
    in.partition_id = partition_id;
    in.vp_index = vp_index;
    return simple_call(HVCALL_CREATE_VP, &in, sizeof(in), NULL, 0);
}

/* Register lists: what fits the input page (set: 32-byte associations) or the output page
 * (get: 16-byte values). */
#define GET_BATCH (HVCALL_PAGE / sizeof(union hv_register_value))
#define SET_BATCH                                                                             \
    ((HVCALL_PAGE - sizeof(struct hv_input_vp_registers)) / sizeof(struct hv_register_assoc))

uint16_t hvcall_get_vp_registers(uint64_t partition_id, uint32_t vp_index, const uint32_t *names,
                                 union hv_register_value *values, uint32_t count)
{
    uint32_t vp = root_vp_index();
    for (uint32_t done = 0; done < count;) {
        uint32_t n = (uint32_t)(count - done < GET_BATCH ? count - done : GET_BATCH);
        struct hv_input_vp_registers in = {partition_id, vp_index, 0, 0, 0};
        memcpy(input_pages[vp], &in, sizeof(in));
        memcpy(input_pages[vp] + sizeof(in), names + done, n * sizeof(*names));
        uint16_t status = rep_call(HVCALL_GET_VP_REGISTERS, n, true);
        if (status != HV_STATUS_SUCCESS)
            return status;
        memcpy(values + done, output_pages[vp], n * sizeof(*values));
        done += n;
    }
    return HV_STATUS_SUCCESS;
}

uint16_t hvcall_set_vp_registers(uint64_t partition_id, uint32_t vp_index,
                                 const struct hv_register_assoc *assocs, uint32_t count)
{
    uint32_t vp = root_vp_index();
    for (uint32_t done = 0; done < count;) {
        uint32_t n = (uint32_t)(count - done < SET_BATCH ? count - done : SET_BATCH);
        struct hv_input_vp_registers in = {partition_id, vp_index, 0, 0, 0};
        memcpy(input_pages[vp], &in, sizeof(in));
        memcpy(input_pages[vp] + sizeof(in), assocs + done, n * sizeof(*assocs));
        uint16_t status = rep_call(HVCALL_SET_VP_REGISTERS, n, false);
        if (status != HV_STATUS_SUCCESS)
            return status;
        done += n;
    }
    return HV_STATUS_SUCCESS;
}

/* ---- messages and events to children (hv/root_abi.h) ----------------------------------- */

uint16_t hvcall_post_child_message(uint64_t partition_id, uint32_t vp_index, uint32_t sint,
                                   uint32_t message_type, const void *payload,
                                   uint32_t payload_size)
{
    struct hvfw_input_post_child_message in;
    if (payload_size > sizeof(in.payload))
        return HV_STATUS_INVALID_PARAMETER;
    memset(&in, 0, sizeof(in));
    in.partition_id = partition_id;
    in.vp_index = vp_index;
    in.sint = sint;
    in.message_type = message_type;
    in.payload_size = payload_size;
    if (payload_size)
        memcpy(in.payload, payload, payload_size);
    return simple_call(HVCALL_HVFW_POST_CHILD_MESSAGE, &in, sizeof(in), NULL, 0);
}

uint16_t hvcall_signal_child_event(uint64_t partition_id, uint32_t vp_index, uint8_t sint,
                                   uint16_t flag_number)
{
    struct hvfw_input_signal_child_event in = {partition_id, vp_index, sint, 0, flag_number};
    uint64_t second;
    memcpy(&second, (const uint8_t *)&in + sizeof(uint64_t), sizeof(second));
    return hvcall_status(
        hvcall(HVCALL_HVFW_SIGNAL_CHILD_EVENT | HYPERCALL_CONTROL_FAST, partition_id, second));
}

uint16_t hvcall_get_partition_statistics(uint64_t partition_id,
                                         struct hvfw_output_partition_statistics *out)
{
    return simple_call(HVCALL_HVFW_GET_PARTITION_STATISTICS, &partition_id,
                       sizeof(partition_id), out, sizeof(*out));
}

uint16_t hvcall_get_child_events(uint64_t partition_id,
                                 uint64_t connections[HVFW_CHILD_CONNECTION_LIMIT / 64])
{
    struct hvfw_output_get_child_events out;
    uint16_t status = simple_call(HVCALL_HVFW_GET_CHILD_EVENTS, &partition_id,
                                  sizeof(partition_id), &out, sizeof(out));
    if (status == HV_STATUS_SUCCESS)
        memcpy(connections, out.connections, sizeof(out.connections));
    return status;
}

uint16_t hvcall_map_device_interrupt(uint32_t vp_index, uint64_t *msi_address,
                                     uint32_t *msi_data, uint32_t *interrupt_id)
{
    struct hvfw_input_map_device_interrupt in = {vp_index, 0};
    struct hvfw_output_map_device_interrupt out;
    uint16_t status = simple_call(HVCALL_HVFW_MAP_DEVICE_INTERRUPT, &in, sizeof(in), &out,
                                  sizeof(out));
    if (status == HV_STATUS_SUCCESS) {
        *msi_address = out.msi_address;
        *msi_data = out.msi_data;
        *interrupt_id = out.interrupt_id;
    }
    return status;
}

uint16_t hvcall_unmap_device_interrupt(uint32_t interrupt_id)
{
    uint64_t id = interrupt_id;
    return simple_call(HVCALL_HVFW_UNMAP_DEVICE_INTERRUPT, &id, sizeof(id), NULL, 0);
}
