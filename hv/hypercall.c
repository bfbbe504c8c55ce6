#include "hv/hypercall.h"

#include <string.h>

#include "hv/device_interrupt.h"
#include "hv/guest_memory.h"
#include "hv/partition.h"
#include "hv/root_abi.h"
#include "hv/root_calls.h"
#include "hv/root_partition.h"
#include "hv/synic.h"
#include "hv/vendor.h"
#include "kernel/log.h"
#include "kernel/main.h"
#include "kernel/percpu.h"
#include "kernel/power.h"
#include "kernel/page_pool.h"

/* One input and one output page per physical CPU: a VP's hypercall runs to completion on
 * the CPU it exited on, so nothing else uses them meanwhile. */
static uint8_t input_pages[MAX_CPUS][PAGE_SIZE] __attribute__((aligned(PAGE_SIZE)));
static uint8_t output_pages[MAX_CPUS][PAGE_SIZE] __attribute__((aligned(PAGE_SIZE)));

/* --- hvfw's private calls (hv/root_abi.h) --------------------------------------------- */

static enum hv_status hvfw_console_write(struct hypercall_context *call)
{
    uint32_t length = call->layout->rep_count - call->layout->rep_start;
    console_write((const char *)call->input + call->layout->elements_offset +
                      call->layout->rep_start,
                  length);
    call->reps_done = length;
    return HV_STATUS_SUCCESS;
}

static enum hv_status hvfw_root_ready(struct hypercall_context *call)
{
    hv_root_ready(call->caller->partition);
    return HV_STATUS_SUCCESS;
}

static enum hv_status hvfw_root_stop(struct hypercall_context *call)
{
    uint64_t code;
    memcpy(&code, call->input, sizeof(code));
    log_error("hv: the root partition gave up (code %lx)", code);
    partition_stop(call->caller->partition, "error");
    return HV_STATUS_SUCCESS;
}

static enum hv_status hvfw_shutdown(struct hypercall_context *call)
{
    uint64_t code;
    memcpy(&code, call->input, sizeof(code));
    console_printf("hvfw: shutdown requested by the root (code %lu)\n", code);
    if (code == 0 && power_off())
        return HV_STATUS_SUCCESS; /* not reached on a machine that powers off */
    kernel_test_exit((uint8_t)(code ? code : 1));
    kernel_stop("shutdown (code %lu): this machine did not power off", code);
}

struct hypercall_entry {
    uint16_t code;
    hypercall_handler_fn handler;
};

/* Calls with a descriptor (hv/hypercall_abi.c) but no entry here are valid TLFS calls we
 * do not implement yet: HV_STATUS_INVALID_HYPERCALL_CODE, as Hyper-V answers calls it lacks. */
static const struct hypercall_entry handlers[] = {
    {HVCALL_HVFW_CONSOLE_WRITE, hvfw_console_write},
    {HVCALL_HVFW_ROOT_READY, hvfw_root_ready},
    {HVCALL_HVFW_ROOT_STOP, hvfw_root_stop},
    {HVCALL_HVFW_SHUTDOWN, hvfw_shutdown},
    /* The root's partition and VP management (hv/root_calls.h). */
    {HVCALL_CREATE_PARTITION, root_call_create_partition},
    {HVCALL_INITIALIZE_PARTITION, root_call_initialize_partition},
    {HVCALL_FINALIZE_PARTITION, root_call_finalize_partition},
    {HVCALL_DELETE_PARTITION, root_call_delete_partition},
    {HVCALL_GET_PARTITION_ID, root_call_get_partition_id},
    {HVCALL_HVFW_GET_PARTITION_STATISTICS, root_call_get_partition_statistics},
    {HVCALL_MAP_GPA_PAGES, root_call_map_gpa_pages},
    {HVCALL_UNMAP_GPA_PAGES, root_call_unmap_gpa_pages},
    {HVCALL_INSTALL_INTERCEPT, root_call_install_intercept},
    {HVCALL_CREATE_VP, root_call_create_vp},
    {HVCALL_GET_VP_REGISTERS, root_call_get_vp_registers},
    {HVCALL_SET_VP_REGISTERS, root_call_set_vp_registers},
    /* SynIC messages and events between children and the root (hv/synic.h). */
    {HVCALL_POST_MESSAGE, synic_call_post_message},
    {HVCALL_SIGNAL_EVENT, synic_call_signal_event},
    {HVCALL_HVFW_POST_CHILD_MESSAGE, synic_call_post_child_message},
    {HVCALL_HVFW_SIGNAL_CHILD_EVENT, synic_call_signal_child_event},
    {HVCALL_HVFW_GET_CHILD_EVENTS, synic_call_get_child_events},
    {HVCALL_ASSERT_VIRTUAL_INTERRUPT, root_call_assert_virtual_interrupt},
    /* Interrupts of the root's physical devices (hv/device_interrupt.h). */
    {HVCALL_HVFW_MAP_DEVICE_INTERRUPT, device_interrupt_call_map},
    {HVCALL_HVFW_UNMAP_DEVICE_INTERRUPT, device_interrupt_call_unmap},
};

static hypercall_handler_fn find_handler(uint16_t code)
{
    for (size_t i = 0; i < sizeof(handlers) / sizeof(handlers[0]); i++)
        if (handlers[i].code == code)
            return handlers[i].handler;
    return NULL;
}

/* --- the register conventions (TLFS 3.7, 3.8) ----------------------------------------- */

struct hypercall_registers {
    uint64_t control, input, output;
};

static struct hypercall_registers read_registers(struct vp *vp, bool long_mode)
{
    const struct vp_registers *r = &vp->registers;
    if (long_mode)
        return (struct hypercall_registers){r->rcx, r->rdx, r->r8};
    /* 32-bit: control EDX:EAX, input GPA EBX:ECX, output GPA EDI:ESI. */
    return (struct hypercall_registers){
        ((r->rdx & 0xFFFFFFFFu) << 32) | (r->rax & 0xFFFFFFFFu),
        ((r->rbx & 0xFFFFFFFFu) << 32) | (r->rcx & 0xFFFFFFFFu),
        ((r->rdi & 0xFFFFFFFFu) << 32) | (r->rsi & 0xFFFFFFFFu),
    };
}

static void write_result(struct vp *vp, bool long_mode, uint64_t result)
{
    if (long_mode) {
        vp->registers.rax = result;
    } else {
        vp->registers.rdx = result >> 32;
        vp->registers.rax = result & 0xFFFFFFFFu;
    }
}

static enum hv_status run_call(struct vp *vp, const struct hypercall_registers *regs,
                               uint32_t *reps_done)
{
    struct partition *p = vp->partition;
    struct hypercall_control control;
    enum hv_status status = hypercall_decode_control(regs->control, &control);
    if (status != HV_STATUS_SUCCESS)
        return status;
    const struct hypercall_descriptor *d = hypercall_descriptor_find(control.code);
    struct hypercall_layout layout;
    status = hypercall_validate(&control, d, regs->input, regs->output, p->is_root, &layout);
    if (status != HV_STATUS_SUCCESS)
        return status;
    hypercall_handler_fn handler = find_handler(control.code);
    if (!handler)
        return HV_STATUS_INVALID_HYPERCALL_CODE;

    uint8_t *input = input_pages[this_cpu_index()];
    uint8_t *output = output_pages[this_cpu_index()];
    if (layout.fast) {
        memcpy(input, &regs->input, sizeof(uint64_t));
        memcpy(input + sizeof(uint64_t), &regs->output, sizeof(uint64_t));
    } else if (!guest_memory_read(p, layout.input_gpa, input, layout.input_size)) {
        return HV_STATUS_INVALID_PARAMETER; /* the input list is not in the caller's RAM */
    }
    memset(output, 0, layout.output_size);

    struct hypercall_context call = {vp, &control, &layout, input, output, 0};
    status = handler(&call);
    /* The result's "reps completed" counts from element 0 (TLFS 3.7): the caller continues
     * a partly done rep call with rep start = reps completed. */
    *reps_done = d->kind == HYPERCALL_REP ? layout.rep_start + call.reps_done : 0;
    uint32_t out_bytes = layout.output_size;
    if (d->kind == HYPERCALL_REP)
        out_bytes = (layout.rep_start + call.reps_done) * d->output_element_size;
    if (out_bytes > layout.output_start &&
        !guest_memory_write(p, layout.output_gpa + layout.output_start,
                            output + layout.output_start, out_bytes - layout.output_start))
        return HV_STATUS_INVALID_PARAMETER;
    return status;
}

enum exit_action hypercall_handle(struct vp *vp, struct hv_exit *exit)
{
    bool long_mode = hv_vendor->vp_cpu_mode(vp) == VP_CPU_MODE_LONG_64;
    struct hypercall_registers regs = read_registers(vp, long_mode);
    uint32_t reps_done = 0;
    enum hv_status status = run_call(vp, &regs, &reps_done);
    if (status != HV_STATUS_SUCCESS)
        log_debug("hypercall %lx from partition %lu VP %u: %s", regs.control & 0xFFFF,
                  vp->partition->id, vp->index, hv_status_name(status));
    write_result(vp, long_mode, hypercall_encode_result(status, reps_done));
    hv_vendor->vp_set(vp, VP_REGISTER_RIP, exit->rip + exit->instruction_length);
    return vp->partition->state == PARTITION_STOPPED ? EXIT_STOP : EXIT_RESUME;
}
