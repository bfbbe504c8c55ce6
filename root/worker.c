#include "root/worker.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "hv/hypercall_abi.h"
#include "hv/intercept_abi.h"
#include "kernel/x86.h"
#include "libc-glue/decoder.h"
#include "root/child_acpi.h"
#include "root/child_messages.h"
#include "root/heartbeat.h"
#include "root/hvcall.h"
#include "root/log.h"
#include "root/memory.h"
#include "root/mgmt_events.h"
#include "root/mmio.h"
#include "root/platform.h"
#include "root/vmbus_server.h"
#include "root/wallclock.h"

#define CR0_PG (1ull << 31)
#define RFLAGS_DF (1ull << 10)
#define SEGMENT_ATTRIBUTE_L (1u << 13)  /* 64-bit code segment (Intel SDM Vol. 3A 3.4.5) */
#define SEGMENT_ATTRIBUTE_DB (1u << 14) /* default operation size 32 bits */
#define VECTOR_UD 6
#define VECTOR_GP 13
#define PAGE_SIZE 4096ull

/* The platform the worker emulates is the one the child's ACPI tables describe. */
_Static_assert(PM_EVENT_PORT == CHILD_ACPI_PM1A_EVENT_PORT, "FADT PM1a_EVT_BLK");
_Static_assert(PM_CONTROL_PORT == CHILD_ACPI_PM1A_CONTROL_PORT, "FADT PM1a_CNT_BLK");
_Static_assert(PM_TIMER_PORT == CHILD_ACPI_PM_TIMER_PORT, "FADT PM_TMR_BLK");
_Static_assert(PM_RESET_PORT == CHILD_ACPI_RESET_PORT, "FADT RESET_REG");
_Static_assert(PM_RESET_VALUE == CHILD_ACPI_RESET_VALUE, "FADT RESET_VALUE");
_Static_assert(CHILD_IOAPIC_BASE == CHILD_ACPI_IOAPIC_ADDRESS, "MADT IOAPIC address");
_Static_assert(WORKER_SCI_IRQ == CHILD_ACPI_SCI_IRQ, "FADT SCI_INT");
#define GPR_COUNT 16
#define SEGMENT_COUNT 6
/* RIP, RFLAGS, 16 GPRs, HvRegisterInterceptSuspend: the most one completion sets. */
#define COMPLETION_MAX (GPR_COUNT + 3)

/* Root VP 0's SynIC message page (an address: the slots are read through volatile
 * accessors, since the hypervisor writes them behind the compiler's back). */
static uintptr_t message_page;

/* ---- completing an intercept ------------------------------------------------------------ */

/* Registers to write on the intercepted VP; HvRegisterInterceptSuspend = 0 goes last. */
struct completion {
    struct hv_register_assoc assoc[COMPLETION_MAX];
    uint32_t count;
};

static void completion_add(struct completion *c, uint32_t name, uint64_t value)
{
    if (c->count >= COMPLETION_MAX - 1)
        root_stop("worker: completion overflow (register %#x)", name);
    struct hv_register_assoc *a = &c->assoc[c->count++];
    memset(a, 0, sizeof(*a));
    a->name = name;
    a->value.reg64 = value;
}

static void print_child_line(void *ctx, const char *text, size_t length)
{
    struct child *child = ctx;
    printf("[%s] %.*s\n", child->config.name, (int)length, text);
    /* The test hook types the next line of its input each time the child's init says it
     * reads the console; what is left waits for the next time (a reboot's shell). */
    size_t marker = strlen(WORKER_CONSOLE_INPUT_AFTER);
    const char *input = child->config.console_input + child->console_input_at;
    if (*input && length >= marker && memcmp(text, WORKER_CONSOLE_INPUT_AFTER, marker) == 0) {
        const char *enter = strchr(input, '\r');
        size_t line = enter ? (size_t)(enter - input) + 1 : strlen(input);
        size_t taken = uart_input(&child->com1, (const uint8_t *)input, line);
        child->console_input_at += line;
        root_info("child %s: typed %zu of %zu bytes of test console input", child->config.name,
                  taken, line);
    }
}

static bool all_stopped(const struct child *children, size_t count)
{
    for (size_t i = 0; i < count; i++)
        if (children[i].running)
            return false;
    return true;
}

/* The partition goes; its RAM stays allocated (root memory has no free yet, root/memory.h)
 * and is reused only by a restart of the same child. */
void worker_child_read_statistics(struct child *child)
{
    if (!child->running)
        return;
    struct hvfw_output_partition_statistics statistics;
    if (hvcall_get_partition_statistics(child->partition_id, &statistics) != HV_STATUS_SUCCESS)
        return;
    child->has_statistics = true;
    child->exits = statistics.exits;
    child->run_time_ns = statistics.run_time_ns;
}

static void child_delete(struct child *child)
{
    worker_child_read_statistics(child); /* its last counters outlive the partition */
    child->running = false;
    uint16_t status = hvcall_delete_partition(child->partition_id);
    if (status != HV_STATUS_SUCCESS)
        root_error("child %s: HvCallDeletePartition(%lu) failed: status %#x",
                   child->config.name, child->partition_id, status);
}

/* The stop line, then the partition goes. */
static void child_stop(struct child *child, const char *reason)
{
    if (!child->running)
        return;
    uart_flush(&child->com1); /* its last words before the stop line */
    child->failed = strcmp(reason, "poweroff") != 0 ||
                    (child->has_exit_code && child->exit_code != 0);
    if (child->has_exit_code)
        printf("hvfw: child %s stopped reason=%s exit_code=%u\n", child->config.name, reason,
               child->exit_code);
    else
        printf("hvfw: child %s stopped reason=%s\n", child->config.name, reason);
    mgmt_event_record_stop(&mgmt_events, root_time_ns() / 1000000, child->config.name, reason);
    child_delete(child);
}

/* A reset of the platform (the reset register): the child starts again from its
 * declaration, in a new partition, as a machine does after a reboot. */
static void child_reset(struct child *child)
{
    if (!child->running)
        return;
    uart_flush(&child->com1);
    printf("hvfw: child %s restarting\n", child->config.name);
    child_delete(child);
    child->restarts++;
    if (child->restart && child->restart(child))
        return;
    child->failed = true;
    printf("hvfw: child %s stopped reason=reset-failed\n", child->config.name);
    mgmt_event_record_stop(&mgmt_events, root_time_ns() / 1000000, child->config.name,
                           "reset-failed");
}

/* Writes the registers and resumes the VP; a refused completion stops the child (it
 * cannot run on in a state we did not mean). */
static void complete(struct child *child, uint32_t vp_index, struct completion *c)
{
    struct hv_register_assoc *last = &c->assoc[c->count++];
    memset(last, 0, sizeof(*last));
    last->name = HV_REGISTER_INTERCEPT_SUSPEND;
    uint16_t status = hvcall_set_vp_registers(child->partition_id, vp_index, c->assoc, c->count);
    if (status != HV_STATUS_SUCCESS) {
        root_error("child %s VP %u: HvCallSetVpRegisters refused the completion: status %#x",
                   child->config.name, vp_index, status);
        child_stop(child, "error");
    }
}

/* An exception for the VP's next entry (HV_REGISTER_PENDING_INTERRUPTION), RIP unchanged:
 * the faulting instruction is the one reported, as the CPU would. */
static void complete_with_exception(struct child *child, uint32_t vp_index, unsigned vector,
                                    bool error_code, struct completion *c)
{
    uint64_t event = HV_PENDING_INTERRUPTION_PENDING | HV_PENDING_INTERRUPTION_TYPE_EXCEPTION |
                     ((uint64_t)vector << HV_PENDING_INTERRUPTION_VECTOR_SHIFT);
    if (error_code)
        event |= HV_PENDING_INTERRUPTION_ERROR_CODE; /* error code 0 in bits 63:32 */
    completion_add(c, HV_REGISTER_PENDING_INTERRUPTION, event);
    complete(child, vp_index, c);
}

static void complete_with_gp(struct child *child, uint32_t vp_index, struct completion *c)
{
    complete_with_exception(child, vp_index, VECTOR_GP, true, c);
}

/* ---- the child's processor mode ------------------------------------------------------ */

static enum decoder_mode child_mode(const struct hv_x64_intercept_message_header *h)
{
    if (!(h->execution_state & HV_EXECUTION_STATE_CR0_PE))
        return DECODER_MODE_16;
    if ((h->execution_state & HV_EXECUTION_STATE_EFER_LMA) &&
        (h->cs.attributes & SEGMENT_ATTRIBUTE_L))
        return DECODER_MODE_64;
    return (h->cs.attributes & SEGMENT_ATTRIBUTE_DB) ? DECODER_MODE_32 : DECODER_MODE_16;
}

static uint64_t mode_mask(enum decoder_mode mode)
{
    return mode == DECODER_MODE_64 ? UINT64_MAX
           : mode == DECODER_MODE_32 ? 0xFFFFFFFFull
                                     : 0xFFFFull;
}

static uint64_t next_rip(const struct hv_x64_intercept_message_header *h, unsigned length)
{
    return (h->rip + length) & mode_mask(child_mode(h));
}

/* Child RAM at GPA [gpa, gpa + length), or NULL. */
static uint8_t *child_ram(const struct child *child, uint64_t gpa, uint64_t length)
{
    if (gpa > child->ram_bytes || length > child->ram_bytes - gpa)
        return NULL;
    return child->ram + gpa;
}

/* ---- I/O ports ------------------------------------------------------------------------ */

static bool is_com1(uint32_t port)
{
    return port >= WORKER_COM1_BASE && port < WORKER_COM1_BASE + UART_PORT_COUNT;
}

/* ---- interrupts ------------------------------------------------------------------------- */

/* The IOAPIC's message into the child's virtual LAPICs (HvCallAssertVirtualInterrupt,
 * hv/vlapic.h), which take a fixed, edge-triggered interrupt for one physical APIC ID;
 * lowest priority to one physical destination is the same delivery. Anything else the child
 * programmed (logical destinations, NMI/INIT/ExtINT modes, level triggering, which would
 * need the EOI back here) is dropped and logged once, as is a refusal (no such VP, a vector
 * below 16): the interrupt is lost, as it would be on a mis-programmed machine. */
static void deliver_interrupt(void *ctx, const struct child_ioapic_interrupt *interrupt)
{
    struct child *child = ctx;
    uint16_t status = HV_STATUS_INVALID_PARAMETER;
    bool supported = (interrupt->delivery_mode == 0 || interrupt->delivery_mode == 1) &&
                     !interrupt->logical && !interrupt->level;
    if (supported)
        status = hvcall_assert_virtual_interrupt(child->partition_id, interrupt->destination,
                                                 interrupt->vector);
    if (status == HV_STATUS_SUCCESS || child->interrupt_drop_logged)
        return;
    child->interrupt_drop_logged = true;
    root_info("child %s: IOAPIC interrupt vector %u to %s %u (mode %u, %s) dropped: %s %#x",
              child->config.name, interrupt->vector, interrupt->logical ? "logical" : "APIC ID",
              interrupt->destination, interrupt->delivery_mode,
              interrupt->level ? "level" : "edge",
              supported ? "HvCallAssertVirtualInterrupt status" : "not deliverable, mode",
              supported ? status : interrupt->delivery_mode);
}

/* The devices' interrupt lines after an access to one of them: COM1 on ISA IRQ 4 (active
 * high), the SCI on GSI 9 (active low, the MADT's override). */
static void update_interrupt_lines(struct child *child)
{
    bool com1 = uart_interrupt_line(&child->com1);
    if (com1 != child->com1_line) {
        child->com1_line = com1;
        child_ioapic_set_pin(&child->ioapic, WORKER_COM1_IRQ, com1);
    }
    child_ioapic_set_pin(&child->ioapic, WORKER_SCI_IRQ, !pm_sci_active(&child->pm));
}

/* ---- I/O ports ------------------------------------------------------------------------ */

/* A port nothing decodes: named once per child (Linux probes a dozen). */
static void log_absent_port(struct child *child, uint32_t vp_index, uint32_t port, bool write)
{
    port &= 0xFFFFu;
    uint8_t bit = (uint8_t)(1u << (port % 8));
    if (child->ports_logged[port / 8] & bit)
        return;
    child->ports_logged[port / 8] |= bit;
    root_info("child %s VP %u: %s port %#x: no device (reads all ones, writes dropped)",
              child->config.name, vp_index, write ? "OUT to" : "IN from", port);
}

static uint8_t port_read_byte(struct child *child, uint32_t vp_index, uint32_t port)
{
    if (is_com1(port))
        return uart_read(&child->com1, port - WORKER_COM1_BASE);
    if (rtc_owns_port(port))
        return rtc_read(&child->rtc, port, root_time_ns());
    log_absent_port(child, vp_index, port, false);
    return 0xFF; /* nothing there: the bus floats high */
}

static uint32_t port_read(struct child *child, uint32_t vp_index, uint32_t port, unsigned size)
{
    uint32_t value = 0;
    if (pm_owns_port(port)) {
        value = pm_read(&child->pm, port, size, root_time_ns());
    } else if (pci_config_owns_port(port)) {
        value = pci_config_read(&child->pci, port, size);
    } else {
        for (unsigned i = 0; i < size; i++)
            value |= (uint32_t)port_read_byte(child, vp_index, port + i) << (8 * i);
    }
    update_interrupt_lines(child);
    return value;
}

/* False if the write stopped or restarted the child. */
static bool port_write(struct child *child, uint32_t vp_index, uint32_t port, unsigned size,
                       uint32_t value)
{
    if (port == WORKER_EXIT_PORT) {
        child->has_exit_code = true;
        child->exit_code = value;
        return true;
    }
    if (pm_owns_port(port)) {
        switch (pm_write(&child->pm, port, size, value, root_time_ns())) {
        case PM_ACTION_POWER_OFF:
            child_stop(child, "poweroff");
            return false;
        case PM_ACTION_RESET:
            child_reset(child);
            return false;
        case PM_ACTION_NONE:
            break;
        }
    } else if (pci_config_owns_port(port)) {
        pci_config_write(&child->pci, port, size, value);
    } else {
        for (unsigned i = 0; i < size; i++) {
            if (is_com1(port + i))
                uart_write(&child->com1, port + i - WORKER_COM1_BASE,
                           (uint8_t)(value >> (8 * i)));
            else if (rtc_owns_port(port + i))
                rtc_write(&child->rtc, port + i, (uint8_t)(value >> (8 * i)), root_time_ns());
            else
                log_absent_port(child, vp_index, port + i, true);
        }
    }
    update_interrupt_lines(child);
    return true;
}

struct string_io {
    enum decoder_segment segment;
    uint64_t address_mask;
    uint8_t opcode;
};

/* The prefixes of an INS/OUTS (Intel SDM Vol. 2, 2.1.1): segment override, address size. */
static bool parse_string_io(const uint8_t *bytes, size_t count, enum decoder_mode mode,
                            struct string_io *out)
{
    unsigned address_bytes = mode == DECODER_MODE_64 ? 8 : mode == DECODER_MODE_32 ? 4 : 2;
    bool address_override = false;
    out->segment = DECODER_SEGMENT_DS;
    for (size_t i = 0; i < count; i++) {
        uint8_t b = bytes[i];
        switch (b) {
        case 0x26: out->segment = DECODER_SEGMENT_ES; continue;
        case 0x2E: out->segment = DECODER_SEGMENT_CS; continue;
        case 0x36: out->segment = DECODER_SEGMENT_SS; continue;
        case 0x3E: out->segment = DECODER_SEGMENT_DS; continue;
        case 0x64: out->segment = DECODER_SEGMENT_FS; continue;
        case 0x65: out->segment = DECODER_SEGMENT_GS; continue;
        case 0x67: address_override = true; continue;
        case 0x66: case 0xF0: case 0xF2: case 0xF3: continue;
        default: break;
        }
        if (mode == DECODER_MODE_64 && (b & 0xF0) == 0x40)
            continue; /* REX */
        if (address_override)
            address_bytes = mode == DECODER_MODE_64 ? 4 : mode == DECODER_MODE_32 ? 2 : 4;
        out->address_mask = address_bytes == 8 ? UINT64_MAX : (1ull << (8 * address_bytes)) - 1;
        out->opcode = b;
        return true;
    }
    return false;
}

/* The base of `segment`: DS and ES come with the message, others are asked for. In
 * 64-bit mode only FS and GS have one (Intel SDM Vol. 3A 3.2.4). */
static bool segment_base(struct child *child, uint32_t vp_index,
                         const struct hv_x64_io_port_intercept_message *m,
                         enum decoder_mode mode, enum decoder_segment segment, uint64_t *base)
{
    *base = 0;
    if (mode == DECODER_MODE_64 && segment != DECODER_SEGMENT_FS &&
        segment != DECODER_SEGMENT_GS)
        return true;
    if (segment == DECODER_SEGMENT_DS || segment == DECODER_SEGMENT_ES) {
        *base = segment == DECODER_SEGMENT_DS ? m->ds.base : m->es.base;
        return true;
    }
    uint32_t name = HV_X64_REGISTER_ES + (uint32_t)segment;
    union hv_register_value value;
    if (hvcall_get_vp_registers(child->partition_id, vp_index, &name, &value, 1) !=
        HV_STATUS_SUCCESS)
        return false;
    *base = value.segment.base;
    return true;
}

static bool child_paging_enabled(struct child *child, uint32_t vp_index, bool *paging)
{
    uint32_t name = HV_X64_REGISTER_CR0;
    union hv_register_value value;
    if (hvcall_get_vp_registers(child->partition_id, vp_index, &name, &value, 1) !=
        HV_STATUS_SUCCESS)
        return false;
    *paging = value.reg64 & CR0_PG;
    return true;
}

/* OUTSB to COM1 (REP or not): bytes from the child's RAM at seg:rSI, rSI stepped by
 * EFLAGS.DF, rCX counted down; at most WORKER_STRING_IO_LIMIT bytes per intercept, after
 * which RIP stays and the child re-executes the rest (Intel SDM Vol. 2, REP). Anything
 * else is #GP(0). */
static void handle_string_io(struct child *child, const struct hv_x64_io_port_intercept_message *m)
{
    const struct hv_x64_intercept_message_header *h = &m->header;
    uint32_t vp = h->vp_index;
    struct completion c = { .count = 0 };
    enum decoder_mode mode = child_mode(h);
    unsigned size = m->access_info & HV_IO_ACCESS_SIZE_MASK;
    bool rep = m->access_info & HV_IO_ACCESS_REP;
    struct string_io s;
    bool paging = true;
    uint64_t base = 0;
    size_t count = m->instruction_byte_count < 16 ? m->instruction_byte_count : 16;
    if (h->intercept_access_type != HV_INTERCEPT_ACCESS_TYPE_WRITE || size != 1 ||
        !is_com1(m->port_number) || !parse_string_io(m->instruction_bytes, count, mode, &s) ||
        s.opcode != 0x6E || !child_paging_enabled(child, vp, &paging) || paging ||
        !segment_base(child, vp, m, mode, s.segment, &base)) {
        root_debug("child %s VP %u: string I/O at port %#x (size %u, rip %#lx): #GP",
                   child->config.name, vp, m->port_number, size, h->rip);
        complete_with_gp(child, vp, &c);
        return;
    }
    uint64_t remaining = rep ? (m->rcx & s.address_mask) : 1;
    uint64_t rsi = m->rsi;
    bool fault = false;
    unsigned done = 0;
    for (; remaining && done < WORKER_STRING_IO_LIMIT; done++, remaining--) {
        uint64_t linear = (base + (rsi & s.address_mask)) & mode_mask(mode);
        const uint8_t *byte = child_ram(child, linear, 1);
        if (!byte) {
            fault = true;
            break;
        }
        uart_write(&child->com1, m->port_number - WORKER_COM1_BASE, *byte);
        uint64_t step = (h->rflags & RFLAGS_DF) ? s.address_mask : 1; /* -1 or +1 */
        rsi = (rsi & ~s.address_mask) | ((rsi + step) & s.address_mask);
    }
    update_interrupt_lines(child);
    completion_add(&c, HV_X64_REGISTER_RSI, rsi);
    if (rep)
        completion_add(&c, HV_X64_REGISTER_RCX, (m->rcx & ~s.address_mask) | remaining);
    if (fault) {
        complete_with_gp(child, vp, &c);
        return;
    }
    if (remaining == 0)
        completion_add(&c, HV_X64_REGISTER_RIP, next_rip(h, h->instruction_length & 0xF));
    complete(child, vp, &c);
}

static void handle_io(struct child *child, const struct hv_x64_io_port_intercept_message *m)
{
    const struct hv_x64_intercept_message_header *h = &m->header;
    unsigned size = m->access_info & HV_IO_ACCESS_SIZE_MASK;
    if (size != 1 && size != 2 && size != 4) {
        root_error("child %s VP %u: I/O intercept with access size %u", child->config.name,
                   h->vp_index, size);
        child_stop(child, "error");
        return;
    }
    if (m->access_info & HV_IO_ACCESS_STRING) {
        handle_string_io(child, m);
        return;
    }
    struct completion c = { .count = 0 };
    uint32_t port = m->port_number;
    if (h->intercept_access_type == HV_INTERCEPT_ACCESS_TYPE_READ) {
        uint32_t value = port_read(child, h->vp_index, port, size);
        /* IN AL/AX keeps the rest of RAX; IN EAX zero-extends into RAX (Intel SDM Vol. 1,
         * 3.4.1.1). */
        uint64_t keep = size == 4 ? 0 : ~((1ull << (8 * size)) - 1);
        completion_add(&c, HV_X64_REGISTER_RAX, (m->rax & keep) | value);
    } else {
        uint32_t value = (uint32_t)(m->rax & (size == 4 ? 0xFFFFFFFFull : (1ull << (8 * size)) - 1));
        if (!port_write(child, h->vp_index, port, size, value))
            return; /* powered off or restarted */
    }
    completion_add(&c, HV_X64_REGISTER_RIP, next_rip(h, h->instruction_length & 0xF));
    complete(child, h->vp_index, &c);
}

/* ---- memory-mapped devices ---------------------------------------------------------- */

struct mmio_context {
    struct child *child;
    enum decoder_mode mode;
    uint64_t gpr[GPR_COUNT];
    uint16_t dirty;
    uint64_t cr0;
    uint64_t segment_base[SEGMENT_COUNT]; /* enum decoder_segment order */
};

static bool mmio_read_gpr(void *ctx, unsigned number, uint64_t *value)
{
    struct mmio_context *x = ctx;
    if (number >= GPR_COUNT)
        return false;
    *value = x->gpr[number];
    return true;
}

static bool mmio_write_gpr(void *ctx, unsigned number, uint64_t value)
{
    struct mmio_context *x = ctx;
    if (number >= GPR_COUNT)
        return false;
    x->gpr[number] = value;
    x->dirty |= (uint16_t)(1u << number);
    return true;
}

/* Child RAM at a linear address: only with paging off, where it is the GPA. */
static uint8_t *mmio_ram(struct mmio_context *x, uint64_t linear, size_t length)
{
    if (x->cr0 & CR0_PG)
        return NULL;
    return child_ram(x->child, linear & mode_mask(x->mode), length);
}

static bool mmio_read_memory(void *ctx, uint64_t linear, void *buf, size_t length)
{
    uint8_t *ram = mmio_ram(ctx, linear, length);
    if (ram)
        memcpy(buf, ram, length);
    return ram != NULL;
}

static bool mmio_write_memory(void *ctx, uint64_t linear, const void *buf, size_t length)
{
    uint8_t *ram = mmio_ram(ctx, linear, length);
    if (ram)
        memcpy(ram, buf, length);
    return ram != NULL;
}

static bool mmio_segment_base(void *ctx, enum decoder_segment segment, uint64_t *base)
{
    struct mmio_context *x = ctx;
    if ((unsigned)segment >= SEGMENT_COUNT)
        return false;
    *base = x->segment_base[segment];
    return true;
}

static const struct mmio_vcpu_ops mmio_vcpu = {
    .read_gpr = mmio_read_gpr,
    .write_gpr = mmio_write_gpr,
    .read_memory = mmio_read_memory,
    .write_memory = mmio_write_memory,
    .segment_base = mmio_segment_base,
};

/* The VP's GPRs, CR0 and segment bases, in one HvCallGetVpRegisters. */
static bool mmio_load_state(struct mmio_context *x, uint32_t vp_index)
{
    uint32_t names[GPR_COUNT + 1 + SEGMENT_COUNT];
    union hv_register_value values[GPR_COUNT + 1 + SEGMENT_COUNT];
    for (uint32_t i = 0; i < GPR_COUNT; i++)
        names[i] = HV_X64_REGISTER_RAX + i; /* RAX, RCX, RDX, RBX, ...: the encoding order */
    names[GPR_COUNT] = HV_X64_REGISTER_CR0;
    for (uint32_t i = 0; i < SEGMENT_COUNT; i++)
        names[GPR_COUNT + 1 + i] = HV_X64_REGISTER_ES + i; /* ES CS SS DS FS GS */
    uint16_t status = hvcall_get_vp_registers(x->child->partition_id, vp_index, names, values,
                                              GPR_COUNT + 1 + SEGMENT_COUNT);
    if (status != HV_STATUS_SUCCESS) {
        root_error("child %s VP %u: HvCallGetVpRegisters: status %#x", x->child->config.name,
                   vp_index, status);
        return false;
    }
    for (unsigned i = 0; i < GPR_COUNT; i++)
        x->gpr[i] = values[i].reg64;
    x->cr0 = values[GPR_COUNT].reg64;
    for (unsigned i = 0; i < SEGMENT_COUNT; i++)
        x->segment_base[i] = values[GPR_COUNT + 1 + i].segment.base;
    return true;
}

/* An unmapped GPA nothing decodes: reads all ones, writes go nowhere (what a PC's bus
 * does, and what Linux's probes expect rather than a fault). */
static bool absent_read(void *dev, uint64_t offset, unsigned size, uint64_t *value)
{
    (void)dev;
    (void)offset;
    *value = size >= 8 ? UINT64_MAX : (1ull << (8 * size)) - 1;
    return true;
}

static bool absent_write(void *dev, uint64_t offset, unsigned size, uint64_t value)
{
    (void)dev;
    (void)offset;
    (void)size;
    (void)value;
    return true;
}

static bool ioapic_mmio_read(void *dev, uint64_t offset, unsigned size, uint64_t *value)
{
    return child_ioapic_read(dev, offset, size, value);
}

static bool ioapic_mmio_write(void *dev, uint64_t offset, unsigned size, uint64_t value)
{
    return child_ioapic_write(dev, offset, size, value);
}

/* The device at `gpa`: the IOAPIC, the test device, or an absent page (logged once per
 * page, the first WORKER_MMIO_LOGGED_MAX pages). */
static struct mmio_device device_at(struct child *child, uint32_t vp_index, uint64_t gpa,
                                    uint64_t rip)
{
    if (gpa >= TEST_DEVICE_BASE && gpa - TEST_DEVICE_BASE < TEST_DEVICE_SIZE)
        return test_device_mmio(&child->device);
    if (gpa >= CHILD_IOAPIC_BASE && gpa - CHILD_IOAPIC_BASE < CHILD_IOAPIC_WINDOW_SIZE)
        return (struct mmio_device){ .base = CHILD_IOAPIC_BASE, .size = CHILD_IOAPIC_WINDOW_SIZE,
                                     .read = ioapic_mmio_read, .write = ioapic_mmio_write,
                                     .dev = &child->ioapic };
    uint64_t page = gpa & ~(PAGE_SIZE - 1);
    bool logged = false;
    for (unsigned i = 0; i < child->mmio_logged_count; i++)
        logged |= child->mmio_logged[i] == page;
    if (!logged && child->mmio_logged_count < WORKER_MMIO_LOGGED_MAX) {
        child->mmio_logged[child->mmio_logged_count++] = page;
        root_info("child %s VP %u: GPA %#lx (rip %#lx): no device in page %#lx (reads all "
                  "ones, writes dropped)", child->config.name, vp_index, gpa, rip, page);
    }
    return (struct mmio_device){ .base = page, .size = PAGE_SIZE, .read = absent_read,
                                 .write = absent_write, .dev = NULL };
}

/* An access outside the child's RAM, carried out by decoding the instruction. */
static void handle_memory(struct child *child, const struct hv_x64_memory_intercept_message *m)
{
    const struct hv_x64_intercept_message_header *h = &m->header;
    struct completion c = { .count = 0 };
    struct mmio_context x = { .child = child, .mode = child_mode(h) };
    if (!mmio_load_state(&x, h->vp_index)) {
        child_stop(child, "error");
        return;
    }
    struct mmio_access access = {
        .bytes = m->instruction_bytes,
        .count = m->instruction_byte_count < 16 ? m->instruction_byte_count : 16,
        .mode = x.mode,
        .rip = h->rip,
        .rflags = h->rflags,
        .gpa = m->guest_physical_address,
        .gva_valid = m->memory_access_info & HV_MEMORY_ACCESS_GVA_VALID,
        .gva = m->guest_virtual_address,
    };
    struct mmio_device device = device_at(child, h->vp_index, access.gpa, h->rip);
    struct mmio_outcome outcome;
    enum mmio_result result = mmio_emulate(&access, &device, &mmio_vcpu, &x, &outcome);
    /* Registers a REP string instruction updated before a failure stay updated. */
    for (unsigned i = 0; i < GPR_COUNT; i++)
        if (x.dirty & (1u << i))
            completion_add(&c, HV_X64_REGISTER_RAX + i, x.gpr[i]);
    if (result == MMIO_DONE) {
        completion_add(&c, HV_X64_REGISTER_RFLAGS, outcome.rflags);
        if (outcome.rip_advance)
            completion_add(&c, HV_X64_REGISTER_RIP, next_rip(h, outcome.rip_advance));
        complete(child, h->vp_index, &c);
        return;
    }
    root_info("child %s VP %u: access at GPA %#lx, rip %#lx not emulated (%s: %s): %s",
              child->config.name, h->vp_index, m->guest_physical_address, h->rip,
              mmio_result_name(result), outcome.reason ? outcome.reason : "-",
              result == MMIO_UNSUPPORTED ? "#UD" : "#GP");
    if (result == MMIO_UNSUPPORTED)
        complete_with_exception(child, h->vp_index, VECTOR_UD, false, &c);
    else
        complete_with_gp(child, h->vp_index, &c);
}

/* ---- MSR and CPUID ------------------------------------------------------------------------ */

static void handle_msr(struct child *child, const struct hv_x64_msr_intercept_message *m)
{
    root_debug("child %s VP %u: %s MSR %#x at rip %#lx: #GP", child->config.name,
               m->header.vp_index,
               m->header.intercept_access_type == HV_INTERCEPT_ACCESS_TYPE_WRITE ? "WRMSR"
                                                                                 : "RDMSR",
               m->msr_number, m->header.rip);
    struct completion c = { .count = 0 };
    complete_with_gp(child, m->header.vp_index, &c);
}

static void handle_cpuid(struct child *child, const struct hv_x64_cpuid_intercept_message *m)
{
    struct completion c = { .count = 0 };
    unsigned length = m->header.instruction_length & 0xF;
    completion_add(&c, HV_X64_REGISTER_RAX, (uint32_t)m->default_result_rax);
    completion_add(&c, HV_X64_REGISTER_RBX, (uint32_t)m->default_result_rbx);
    completion_add(&c, HV_X64_REGISTER_RCX, (uint32_t)m->default_result_rcx);
    completion_add(&c, HV_X64_REGISTER_RDX, (uint32_t)m->default_result_rdx);
    completion_add(&c, HV_X64_REGISTER_RIP, next_rip(&m->header, length ? length : 2));
    complete(child, m->header.vp_index, &c);
}

/* ---- the loop ------------------------------------------------------------------------------- */

static struct child *find_child(struct child *children, size_t count, uint64_t partition_id)
{
    for (size_t i = 0; i < count; i++)
        if (children[i].running && children[i].partition_id == partition_id)
            return &children[i];
    return NULL;
}

/* The payload must hold the message's structure and name one of the child's VPs. */
static bool message_fits(const struct child *child, const struct hv_message *m, size_t size)
{
    const struct hv_x64_intercept_message_header *h = (const void *)m->payload;
    return m->header.payload_size >= size && size <= sizeof(m->payload) &&
           h->vp_index < child->config.vp_count;
}

void worker_handle_message(struct child *children, size_t count, const struct hv_message *m)
{
    struct child *child = find_child(children, count, m->header.sender);
    if (!child) {
        /* Queued before the child stopped: nothing waits for it any more. */
        root_debug("worker: message %#x from partition %lu, which has no running child",
                   m->header.message_type, m->header.sender);
        return;
    }
    const void *payload = m->payload;
    switch (m->header.message_type) {
    case HV_MESSAGE_TYPE_X64_IO_PORT_INTERCEPT:
        if (!message_fits(child, m, sizeof(struct hv_x64_io_port_intercept_message)))
            break;
        handle_io(child, payload);
        return;
    case HV_MESSAGE_TYPE_UNMAPPED_GPA:
    case HV_MESSAGE_TYPE_GPA_INTERCEPT:
        if (!message_fits(child, m, sizeof(struct hv_x64_memory_intercept_message)))
            break;
        handle_memory(child, payload);
        return;
    case HV_MESSAGE_TYPE_X64_MSR_INTERCEPT:
        if (!message_fits(child, m, sizeof(struct hv_x64_msr_intercept_message)))
            break;
        handle_msr(child, payload);
        return;
    case HV_MESSAGE_TYPE_X64_CPUID_INTERCEPT:
        if (!message_fits(child, m, sizeof(struct hv_x64_cpuid_intercept_message)))
            break;
        handle_cpuid(child, payload);
        return;
    case HV_MESSAGE_TYPE_UNRECOVERABLE_EXCEPTION: {
        /* hv/intercept.h: after the intercept header, uint32_t 0 = triple fault, else the
         * hypervisor stopped the child for another reason. */
        uint32_t reason = 1;
        size_t at = sizeof(struct hv_x64_intercept_message_header);
        if (m->header.payload_size >= at + sizeof(reason))
            memcpy(&reason, (const uint8_t *)m->payload + at, sizeof(reason));
        child_stop(child, reason == 0 ? "triple-fault" : "error");
        return;
    }
    default:
        break;
    }
    root_error("child %s: intercept message type %#x (payload %u bytes) not handled",
               child->config.name, m->header.message_type, m->header.payload_size);
    child_stop(child, "error");
}

static void record_console_byte(void *ctx, uint8_t byte)
{
    struct child *child = ctx;
    console_buffer_write(&child->console, &byte, 1);
}

size_t worker_console_input(struct child *child, const uint8_t *bytes, size_t length)
{
    size_t taken = uart_input(&child->com1, bytes, length);
    update_interrupt_lines(child);
    return taken;
}

void worker_child_init(struct child *child)
{
    uart_init(&child->com1, print_child_line, child);
    uart_set_byte_output(&child->com1, record_console_byte);
    test_device_init(&child->device);
    child_ioapic_init(&child->ioapic, CHILD_ACPI_IOAPIC_ID, deliver_interrupt, child);
    child->interrupt_drop_logged = false;
    pm_init(&child->pm, root_time_ns());
    pci_config_init(&child->pci);
    /* The child's CMOS clock starts from the appliance's wall clock (root/wallclock.h). */
    rtc_init(&child->rtc, wallclock_now(), root_time_ns());
    child->com1_line = false;
    child->has_exit_code = false;
    /* The SCI is active low: its idle line is high (an unmasked entry must not fire). */
    update_interrupt_lines(child);
}

/* SIMP: the hypervisor writes intercept messages into this page's SINT0 slot. */
static void enable_message_page(void)
{
    uint64_t page = root_memory_alloc(4096, 4096);
    if (!page)
        root_stop("worker: no memory for the SynIC message page");
    memset((void *)(uintptr_t)page, 0, 4096);
    message_page = (uintptr_t)page;
    wrmsr(HV_X64_MSR_SIMP, page | HV_SIMP_ENABLE);
}

/* Ends the run once every child has stopped, if the command line asks for it. */
static void shutdown_if_idle(const struct child *children, size_t count, bool exit_when_idle)
{
    if (!exit_when_idle || !all_stopped(children, count))
        return;
    uint32_t code = 0;
    for (size_t i = 0; i < count; i++)
        if (children[i].failed)
            code = 1;
    printf("root: every child has stopped; exit_when_idle: shutting down (code %u)\n", code);
    hvcall_shutdown(code);
    root_stop("HvCallHvfwShutdown(%u) returned", code);
}

static volatile uint32_t *slot_type(uintptr_t slot)
{
    return (volatile uint32_t *)(slot + offsetof(struct hv_message_header, message_type));
}

static volatile uint8_t *slot_flags(uintptr_t slot)
{
    return (volatile uint8_t *)(slot + offsetof(struct hv_message_header, message_flags));
}

bool (*worker_poll_hook)(void);

void worker_run(struct child *children, size_t count, bool exit_when_idle)
{
    if (!message_page)
        enable_message_page();
    uintptr_t slot = message_page + HV_SINT_INTERCEPTS * sizeof(struct hv_message);
    vmbus_server_attach(children, count);
    shutdown_if_idle(children, count, exit_when_idle);
    for (;;) {
        if (heartbeat_poll() || child_messages_poll() || vmbus_server_poll() ||
            (worker_poll_hook && worker_poll_hook()))
            continue;
        if (*slot_type(slot) == HV_MESSAGE_TYPE_NONE) {
            /* A message queued behind a slot we emptied before the flag was set. */
            if (*slot_flags(slot) & HV_MESSAGE_FLAG_PENDING) {
                *slot_flags(slot) = 0;
                wrmsr(HV_X64_MSR_EOM, 0);
                continue;
            }
            /* The hypervisor wakes this VP when it posts (a wake-up before the HLT is
             * remembered, hv/sched.c). */
            __asm__ volatile("hlt" ::: "memory");
            continue;
        }
        struct hv_message message;
        __atomic_thread_fence(__ATOMIC_ACQUIRE);
        const volatile uint64_t *source = (const volatile uint64_t *)slot;
        for (size_t i = 0; i < sizeof(message) / sizeof(uint64_t); i++) {
            uint64_t qword = source[i];
            memcpy((uint8_t *)&message + i * sizeof(qword), &qword, sizeof(qword));
        }
        /* TLFS 11.10.3: free the slot, then EOM if more is queued behind it. */
        *slot_type(slot) = HV_MESSAGE_TYPE_NONE;
        __atomic_thread_fence(__ATOMIC_SEQ_CST);
        if ((message.header.message_flags | *slot_flags(slot)) & HV_MESSAGE_FLAG_PENDING) {
            *slot_flags(slot) = 0;
            wrmsr(HV_X64_MSR_EOM, 0);
        }
        worker_handle_message(children, count, &message);
        shutdown_if_idle(children, count, exit_when_idle);
    }
}

void worker_enable_messages(void)
{
    if (!message_page)
        enable_message_page();
}
