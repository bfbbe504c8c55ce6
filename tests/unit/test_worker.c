// sources: root/worker.c root/heartbeat.c root/uart.c root/mmio.c root/test_device.c
// sources: root/child_ioapic.c root/pm.c root/pci_config.c root/rtc.c libc-glue/decoder.c
// sources: root/console_buffer.c root/mgmt_events.c root/mgmt_api.c root/mgmt_console.c root/mgmt_websocket.c
// sources: root/mgmt_auth.c root/mgmt_http.c root/mgmt_json.c root/mgmt_router.c kernel/cmdline.c
// libs: build/host/zydis/libzydis-host.a build/host/mbedtls/libmbedtls-host.a
/*
 * The root worker's message handling (root/worker.c, worker_handle_message) with the
 * hypercalls faked: each intercept message must end in exactly the completion the child
 * platform contract asks for (images/guests/README.md), or in the child's stop; malformed
 * messages must stop the child, never be trusted.
 */
#include <check.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hv/hypercall_abi.h"
#include "hv/intercept_abi.h"
#include "root/hvcall.h"
#include "root/log.h"
#include "root/memory.h"
#include "root/child_messages.h"
#include "root/wallclock.h"
#include "root/vmbus_server.h"
#include "root/worker.h"

#define CHILD_ID 7
#define RAM_BYTES (64u * 1024)
#define CR0_PE 1u
#define CR0_PG (1u << 31)
#define CS_32 0xC09Bu /* present, code, D/B, G: TLFS attribute layout */

/* ---- fakes of the root's services ---------------------------------------------------- */

bool root_log_debug_enabled;
static struct {
    struct hv_register_assoc set[32];
    uint32_t set_count;
    uint64_t set_partition;
    uint32_t set_vp;
    int set_calls;
    uint16_t set_status;
    int deletes;
    int logs;
    uint64_t gpr[16];
    uint64_t cr0;
    uint64_t segment_base[6];
    uint64_t now_ns;
    struct {
        uint32_t apic_id;
        uint8_t vector;
    } interrupt[16];
    unsigned interrupt_count;
    uint16_t interrupt_status;
    uint8_t ram[RAM_BYTES];
} fake;

void root_log(const char *level, const char *fmt, ...)
{
    (void)level;
    (void)fmt;
    fake.logs++;
}

void root_stop(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    abort();
}

uint64_t root_time_ns(void)
{
    return fake.now_ns;
}

int64_t wallclock_now(void)
{
    return 1795388999; /* 2026-11-22 23:09:59 UTC */
}

/* Child messages and events (root/child_messages.c) are polled in worker_run only. */
bool child_messages_poll(void)
{
    return false;
}

/* The VMBus server (root/vmbus_server.c) is exercised by the vmbus suites. */
void vmbus_server_attach(struct child *children, size_t count)
{
    (void)children;
    (void)count;
}

bool vmbus_server_poll(void)
{
    return false;
}

uint64_t root_memory_alloc(uint64_t size, uint64_t align)
{
    (void)size;
    (void)align;
    return 0;
}

uint16_t hvcall_set_vp_registers(uint64_t partition_id, uint32_t vp_index,
                                 const struct hv_register_assoc *assocs, uint32_t count)
{
    ck_assert_uint_le(count, 32);
    memcpy(fake.set, assocs, count * sizeof(*assocs));
    fake.set_count = count;
    fake.set_partition = partition_id;
    fake.set_vp = vp_index;
    fake.set_calls++;
    return fake.set_status;
}

uint16_t hvcall_get_vp_registers(uint64_t partition_id, uint32_t vp_index, const uint32_t *names,
                                 union hv_register_value *values, uint32_t count)
{
    ck_assert_uint_eq(partition_id, CHILD_ID);
    (void)vp_index;
    for (uint32_t i = 0; i < count; i++) {
        memset(&values[i], 0, sizeof(values[i]));
        if (names[i] >= HV_X64_REGISTER_RAX && names[i] <= HV_X64_REGISTER_R15)
            values[i].reg64 = fake.gpr[names[i] - HV_X64_REGISTER_RAX];
        else if (names[i] == HV_X64_REGISTER_CR0)
            values[i].reg64 = fake.cr0;
        else if (names[i] >= HV_X64_REGISTER_ES && names[i] <= HV_X64_REGISTER_GS)
            values[i].segment.base = fake.segment_base[names[i] - HV_X64_REGISTER_ES];
        else
            return HV_STATUS_INVALID_PARAMETER;
    }
    return HV_STATUS_SUCCESS;
}

uint16_t hvcall_assert_virtual_interrupt(uint64_t partition_id, uint32_t apic_id,
                                         uint8_t vector)
{
    ck_assert_uint_eq(partition_id, CHILD_ID);
    ck_assert_uint_lt(fake.interrupt_count, 16);
    fake.interrupt[fake.interrupt_count].apic_id = apic_id;
    fake.interrupt[fake.interrupt_count++].vector = vector;
    return fake.interrupt_status;
}

uint16_t hvcall_get_partition_statistics(uint64_t partition_id,
                                         struct hvfw_output_partition_statistics *out)
{
    ck_assert_uint_eq(partition_id, CHILD_ID);
    *out = (struct hvfw_output_partition_statistics){ .exits = 42, .run_time_ns = 7000000,
                                                      .vp_count = 1 };
    return HV_STATUS_SUCCESS;
}

uint16_t hvcall_delete_partition(uint64_t partition_id)
{
    ck_assert_uint_eq(partition_id, CHILD_ID);
    fake.deletes++;
    return HV_STATUS_SUCCESS;
}

void hvcall_shutdown(uint32_t code)
{
    (void)code;
    ck_abort_msg("no shutdown from worker_handle_message");
}

/* ---- helpers ------------------------------------------------------------------------------ */

/* What the worker prints on stdout meanwhile (its console). */
static struct {
    FILE *file;
    int saved;
} capture;

/* Idempotent: setup starts it for every case, so nothing the worker prints (e.g. 4096 '?'
 * of a zeroed buffer) reaches the test log. */
static void capture_start(void)
{
    if (capture.file)
        return;
    fflush(stdout);
    capture.file = tmpfile();
    ck_assert(capture.file);
    capture.saved = dup(STDOUT_FILENO);
    dup2(fileno(capture.file), STDOUT_FILENO);
}

static const char *capture_end(void)
{
    static char text[8192];
    if (!capture.file)
        return "";
    fflush(stdout);
    dup2(capture.saved, STDOUT_FILENO);
    close(capture.saved);
    rewind(capture.file);
    size_t n = fread(text, 1, sizeof(text) - 1, capture.file);
    text[n] = '\0';
    fclose(capture.file);
    capture.file = NULL;
    return text;
}

static void teardown(void)
{
    capture_end();
}

static struct child child;

static void setup(void)
{
    capture_start();
    memset(&fake, 0, sizeof(fake));
    fake.cr0 = CR0_PE;
    memset(&child, 0, sizeof(child));
    strcpy(child.config.name, "t");
    child.config.vp_count = 2;
    child.config.memory_mib = 1;
    child.partition_id = CHILD_ID;
    child.ram = fake.ram;
    child.ram_bytes = RAM_BYTES;
    child.running = true;
    worker_child_init(&child);
}

static void header(struct hv_x64_intercept_message_header *h, uint8_t access, uint64_t rip,
                   uint8_t length)
{
    h->vp_index = 1;
    h->instruction_length = length;
    h->intercept_access_type = access;
    h->execution_state = HV_EXECUTION_STATE_CR0_PE;
    h->cs.attributes = CS_32;
    h->cs.limit = 0xFFFFFFFF;
    h->rip = rip;
    h->rflags = 0x2;
}

static void send(uint32_t type, const void *payload, size_t size)
{
    struct hv_message m;
    memset(&m, 0, sizeof(m));
    m.header.message_type = type;
    m.header.payload_size = (uint8_t)size;
    m.header.sender = CHILD_ID;
    memcpy(m.payload, payload, size);
    worker_handle_message(&child, 1, &m);
}

static void io(uint8_t access, uint16_t port, unsigned size, uint64_t rax)
{
    struct hv_x64_io_port_intercept_message m;
    memset(&m, 0, sizeof(m));
    header(&m.header, access, 0x1000, 1);
    m.port_number = port;
    m.access_info = (uint8_t)size;
    m.rax = rax;
    send(HV_MESSAGE_TYPE_X64_IO_PORT_INTERCEPT, &m, sizeof(m));
}

/* The value written to `name` by the last completion; fails if it was not written. */
static uint64_t written(uint32_t name)
{
    for (uint32_t i = 0; i < fake.set_count; i++)
        if (fake.set[i].name == name)
            return fake.set[i].value.reg64;
    ck_abort_msg("register %#x not written", name);
    return 0;
}

static bool was_written(uint32_t name)
{
    for (uint32_t i = 0; i < fake.set_count; i++)
        if (fake.set[i].name == name)
            return true;
    return false;
}

/* The last completion resumed VP 1 of the child: InterceptSuspend = 0, last. */
static void resumed(void)
{
    ck_assert_int_ge(fake.set_calls, 1);
    ck_assert_uint_eq(fake.set_partition, CHILD_ID);
    ck_assert_uint_eq(fake.set_vp, 1);
    ck_assert_uint_ge(fake.set_count, 1);
    ck_assert_uint_eq(fake.set[fake.set_count - 1].name, HV_REGISTER_INTERCEPT_SUSPEND);
    ck_assert_uint_eq(fake.set[fake.set_count - 1].value.reg64, 0);
    ck_assert(child.running);
}

static void exception_injected(unsigned vector, bool error_code)
{
    resumed();
    uint64_t event = written(HV_REGISTER_PENDING_INTERRUPTION);
    ck_assert_uint_eq(event & 0xF, HV_PENDING_INTERRUPTION_PENDING |
                                       HV_PENDING_INTERRUPTION_TYPE_EXCEPTION);
    ck_assert_uint_eq((event >> HV_PENDING_INTERRUPTION_VECTOR_SHIFT) & 0xFFFF, vector);
    ck_assert_uint_eq(!!(event & HV_PENDING_INTERRUPTION_ERROR_CODE), error_code);
    ck_assert_uint_eq(event >> HV_PENDING_INTERRUPTION_ERROR_SHIFT, 0);
    ck_assert(!was_written(HV_X64_REGISTER_RIP)); /* the faulting instruction again */
}

/* ---- cases ------------------------------------------------------------------------------- */

START_TEST(in_merges_the_access_size)
{
    io(HV_INTERCEPT_ACCESS_TYPE_READ, 0x3FD, 1, 0x1122334455667788ull);
    resumed();
    ck_assert_uint_eq(written(HV_X64_REGISTER_RAX), 0x1122334455667760ull); /* THRE|TEMT */
    ck_assert_uint_eq(written(HV_X64_REGISTER_RIP), 0x1001);
    io(HV_INTERCEPT_ACCESS_TYPE_READ, 0x80, 2, 0x1122334455667788ull);
    ck_assert_uint_eq(written(HV_X64_REGISTER_RAX), 0x112233445566FFFFull);
    io(HV_INTERCEPT_ACCESS_TYPE_READ, 0xCFC, 4, 0x1122334455667788ull);
    ck_assert_uint_eq(written(HV_X64_REGISTER_RAX), 0xFFFFFFFFull); /* IN EAX zero-extends */
    io(HV_INTERCEPT_ACCESS_TYPE_READ, 0x3FE, 2, 0); /* MSR then SCR: two registers */
    ck_assert_uint_eq(written(HV_X64_REGISTER_RAX), 0x00B0);
}
END_TEST

START_TEST(out_reaches_the_uart_and_drops_elsewhere)
{
    io(HV_INTERCEPT_ACCESS_TYPE_WRITE, 0x3F8, 1, 'h');
    resumed();
    ck_assert(!was_written(HV_X64_REGISTER_RAX));
    ck_assert_uint_eq(written(HV_X64_REGISTER_RIP), 0x1001);
    ck_assert_uint_eq(child.com1.line_length, 1);
    io(HV_INTERCEPT_ACCESS_TYPE_WRITE, 0x3FF, 1, 0x5A);
    io(HV_INTERCEPT_ACCESS_TYPE_READ, 0x3FF, 1, 0);
    ck_assert_uint_eq(written(HV_X64_REGISTER_RAX), 0x5A);
    io(HV_INTERCEPT_ACCESS_TYPE_WRITE, 0x64, 1, 0xFE); /* keyboard reset: dropped */
    resumed();
    io(HV_INTERCEPT_ACCESS_TYPE_WRITE, 0x604, 2, 0x2000 | (5u << 10)); /* S5? no: SLP_TYP 5 */
    resumed();
    io(HV_INTERCEPT_ACCESS_TYPE_WRITE, 0x604, 1, 0x2000); /* byte write: not PM1a */
    resumed();
    ck_assert_int_eq(fake.deletes, 0);
}
END_TEST

START_TEST(exit_code_then_power_off)
{
    static const char text[] = "hello\nbye";
    for (const char *p = text; *p; p++)
        io(HV_INTERCEPT_ACCESS_TYPE_WRITE, 0x3F8, 1, (uint8_t)*p);
    io(HV_INTERCEPT_ACCESS_TYPE_WRITE, 0xF4, 4, 0xFFFFFFFF00000003ull);
    resumed(); /* the child runs on after the exit port */
    ck_assert(child.has_exit_code);
    ck_assert_uint_eq(child.exit_code, 3);
    int calls = fake.set_calls;
    io(HV_INTERCEPT_ACCESS_TYPE_WRITE, 0x604, 2, 0x2000);
    ck_assert_int_eq(fake.set_calls, calls); /* no completion: it is gone */
    ck_assert(!child.running);
    ck_assert(child.failed); /* exit code 3 */
    ck_assert_int_eq(fake.deletes, 1);
    /* The partial line is flushed before the stop line. */
    ck_assert_str_eq(capture_end(), "[t] hello\n[t] bye\nhvfw: child t stopped reason=poweroff "
                                    "exit_code=3\n");
    io(HV_INTERCEPT_ACCESS_TYPE_WRITE, 0x3F8, 1, 'x'); /* late message: ignored */
    ck_assert_int_eq(fake.set_calls, calls);
}
END_TEST

START_TEST(power_off_with_exit_code_zero_is_success)
{
    io(HV_INTERCEPT_ACCESS_TYPE_WRITE, 0xF4, 4, 0);
    io(HV_INTERCEPT_ACCESS_TYPE_WRITE, 0x604, 2, 0x2000);
    ck_assert(!child.running);
    ck_assert(!child.failed);
}
END_TEST

START_TEST(cpuid_and_msr)
{
    struct hv_x64_cpuid_intercept_message c;
    memset(&c, 0, sizeof(c));
    header(&c.header, HV_INTERCEPT_ACCESS_TYPE_EXECUTE, 0x2000, 2);
    c.default_result_rax = 0x11;
    c.default_result_rbx = 0x22;
    c.default_result_rcx = 0x33;
    c.default_result_rdx = 0x44;
    send(HV_MESSAGE_TYPE_X64_CPUID_INTERCEPT, &c, sizeof(c));
    resumed();
    ck_assert_uint_eq(written(HV_X64_REGISTER_RAX), 0x11);
    ck_assert_uint_eq(written(HV_X64_REGISTER_RBX), 0x22);
    ck_assert_uint_eq(written(HV_X64_REGISTER_RCX), 0x33);
    ck_assert_uint_eq(written(HV_X64_REGISTER_RDX), 0x44);
    ck_assert_uint_eq(written(HV_X64_REGISTER_RIP), 0x2002);

    struct hv_x64_msr_intercept_message m;
    memset(&m, 0, sizeof(m));
    header(&m.header, HV_INTERCEPT_ACCESS_TYPE_WRITE, 0x3000, 2);
    m.msr_number = 0xC0010117;
    send(HV_MESSAGE_TYPE_X64_MSR_INTERCEPT, &m, sizeof(m));
    exception_injected(13, true);
}
END_TEST

static void memory(uint64_t gpa, const uint8_t *bytes, size_t count)
{
    struct hv_x64_memory_intercept_message m;
    memset(&m, 0, sizeof(m));
    header(&m.header, HV_INTERCEPT_ACCESS_TYPE_WRITE, 0x4000, 0);
    m.guest_physical_address = gpa;
    m.instruction_byte_count = (uint8_t)count;
    memcpy(m.instruction_bytes, bytes, count);
    send(HV_MESSAGE_TYPE_UNMAPPED_GPA, &m, sizeof(m));
}

START_TEST(test_device_through_mmio)
{
    static const uint8_t store[] = { 0x89, 0x05, 0x10, 0x00, 0xB0, 0xFE }; /* mov [..10], eax */
    static const uint8_t load[] = { 0x8B, 0x0D, 0x10, 0x00, 0xB0, 0xFE };  /* mov ecx, [..10] */
    fake.gpr[0] = 0xCAFEF00D;
    memory(0xFEB00010, store, sizeof(store));
    resumed();
    ck_assert_uint_eq(written(HV_X64_REGISTER_RIP), 0x4006);
    ck_assert(!was_written(HV_X64_REGISTER_RCX));
    memory(0xFEB00010, load, sizeof(load));
    resumed();
    ck_assert_uint_eq(written(HV_X64_REGISTER_RCX), 0xCAFEF00D);
    ck_assert_uint_eq(written(HV_X64_REGISTER_RIP), 0x4006);
    ck_assert(was_written(HV_X64_REGISTER_RFLAGS));
}
END_TEST

START_TEST(unsupported_or_mismatched_mmio_faults)
{
    static const uint8_t divide[] = { 0xF7, 0x35, 0x10, 0x00, 0xB0, 0xFE }; /* div [..10] */
    memory(0xFEB00010, divide, sizeof(divide));
    exception_injected(6, false);
    static const uint8_t store[] = { 0x89, 0x05, 0x10, 0x00, 0xB0, 0xFE };
    memory(0xFEB00020, store, sizeof(store)); /* the operand is not at the reported GPA */
    exception_injected(13, true);
    memory(0xFEB00010, store, 3); /* truncated instruction bytes */
    ck_assert(was_written(HV_REGISTER_PENDING_INTERRUPTION));
    memory(0xFEB00010, store, 0); /* no bytes at all (paging on) */
    ck_assert(was_written(HV_REGISTER_PENDING_INTERRUPTION));
    memory(0x40000000, store, sizeof(store)); /* outside RAM and the window */
    exception_injected(13, true);
    ck_assert(child.running);
}
END_TEST

static void string_out(uint64_t rsi, uint64_t rcx, bool rep, bool down, uint16_t port,
                       uint8_t access, const uint8_t *bytes, size_t count)
{
    struct hv_x64_io_port_intercept_message m;
    memset(&m, 0, sizeof(m));
    header(&m.header, access, 0x5000, (uint8_t)count);
    if (down)
        m.header.rflags |= 1u << 10;
    m.port_number = port;
    m.access_info = 1 | HV_IO_ACCESS_STRING | (rep ? HV_IO_ACCESS_REP : 0);
    m.instruction_byte_count = (uint8_t)count;
    memcpy(m.instruction_bytes, bytes, count);
    m.rsi = rsi;
    m.rcx = rcx;
    send(HV_MESSAGE_TYPE_X64_IO_PORT_INTERCEPT, &m, sizeof(m));
}

START_TEST(outsb_to_com1)
{
    static const uint8_t rep_outsb[] = { 0xF3, 0x6E };
    memcpy(fake.ram + 0x100, "ab\ncd", 5);
    string_out(0x100, 0xFFFFFFFF00000005ull, true, false, 0x3F8, HV_INTERCEPT_ACCESS_TYPE_WRITE,
               rep_outsb, 2);
    resumed();
    ck_assert_uint_eq(written(HV_X64_REGISTER_RSI), 0x105);
    ck_assert_uint_eq(written(HV_X64_REGISTER_RCX), 0xFFFFFFFF00000000ull); /* ECX counted */
    ck_assert_uint_eq(written(HV_X64_REGISTER_RIP), 0x5002);
    ck_assert_uint_eq(child.com1.line_length, 2); /* "cd" waits for its newline */

    /* Backwards (DF = 1), with a DS override, no REP. */
    static const uint8_t ds_outsb[] = { 0x3E, 0x6E };
    string_out(0x104, 0, false, true, 0x3F8, HV_INTERCEPT_ACCESS_TYPE_WRITE, ds_outsb, 2);
    ck_assert_uint_eq(written(HV_X64_REGISTER_RSI), 0x103);
    ck_assert(!was_written(HV_X64_REGISTER_RCX));
    ck_assert_uint_eq(written(HV_X64_REGISTER_RIP), 0x5002);

    /* More than the per-intercept bound: RIP stays, the rest re-executes. */
    string_out(0, 5000, true, false, 0x3F8, HV_INTERCEPT_ACCESS_TYPE_WRITE, rep_outsb, 2);
    resumed();
    ck_assert_uint_eq(written(HV_X64_REGISTER_RSI), WORKER_STRING_IO_LIMIT);
    ck_assert_uint_eq(written(HV_X64_REGISTER_RCX), 5000 - WORKER_STRING_IO_LIMIT);
    ck_assert(!was_written(HV_X64_REGISTER_RIP));

    /* REP with rCX = 0: nothing moves, the instruction is done. */
    string_out(0x100, 0, true, false, 0x3F8, HV_INTERCEPT_ACCESS_TYPE_WRITE, rep_outsb, 2);
    ck_assert_uint_eq(written(HV_X64_REGISTER_RSI), 0x100);
    ck_assert_uint_eq(written(HV_X64_REGISTER_RIP), 0x5002);
}
END_TEST

START_TEST(other_string_io_faults)
{
    static const uint8_t rep_outsb[] = { 0xF3, 0x6E };
    static const uint8_t insb[] = { 0x6C };
    static const uint8_t outsd[] = { 0x6F };
    string_out(0x100, 1, false, false, 0x3F8, HV_INTERCEPT_ACCESS_TYPE_READ, insb, 1);
    exception_injected(13, true);
    string_out(0x100, 1, false, false, 0x3F8, HV_INTERCEPT_ACCESS_TYPE_WRITE, outsd, 1);
    exception_injected(13, true);
    string_out(0x100, 1, false, false, 0x80, HV_INTERCEPT_ACCESS_TYPE_WRITE, rep_outsb, 2);
    exception_injected(13, true);
    string_out(0x100, 1, false, false, 0x3F8, HV_INTERCEPT_ACCESS_TYPE_WRITE, rep_outsb, 0);
    exception_injected(13, true); /* no instruction bytes */
    fake.cr0 |= CR0_PG;
    string_out(0x100, 1, false, false, 0x3F8, HV_INTERCEPT_ACCESS_TYPE_WRITE, rep_outsb, 2);
    exception_injected(13, true); /* paging on: GVA is no GPA */
    fake.cr0 &= ~CR0_PG;
    /* The source runs off the end of RAM: the bytes inside go out, then #GP. */
    string_out(RAM_BYTES - 2, 5, true, false, 0x3F8, HV_INTERCEPT_ACCESS_TYPE_WRITE, rep_outsb,
               2);
    exception_injected(13, true);
    ck_assert_uint_eq(written(HV_X64_REGISTER_RSI), RAM_BYTES);
    ck_assert_uint_eq(written(HV_X64_REGISTER_RCX), 3);
}
END_TEST

START_TEST(stops_and_bad_messages)
{
    struct hv_x64_io_port_intercept_message m;
    memset(&m, 0, sizeof(m));
    header(&m.header, HV_INTERCEPT_ACCESS_TYPE_READ, 0x1000, 1);
    m.port_number = 0x3FD;
    m.access_info = 1;

    /* From a partition that is not a running child: dropped. */
    struct hv_message message;
    memset(&message, 0, sizeof(message));
    message.header.message_type = HV_MESSAGE_TYPE_X64_IO_PORT_INTERCEPT;
    message.header.payload_size = sizeof(m);
    message.header.sender = CHILD_ID + 1;
    memcpy(message.payload, &m, sizeof(m));
    worker_handle_message(&child, 1, &message);
    ck_assert_int_eq(fake.set_calls, 0);
    ck_assert(child.running);

    send(HV_MESSAGE_TYPE_X64_IO_PORT_INTERCEPT, &m, 40); /* payload too short */
    ck_assert(!child.running);
    ck_assert(child.failed);
    ck_assert_int_eq(fake.set_calls, 0);

    setup();
    m.header.vp_index = 2; /* the child has VPs 0 and 1 */
    send(HV_MESSAGE_TYPE_X64_IO_PORT_INTERCEPT, &m, sizeof(m));
    ck_assert(!child.running);

    setup();
    m.header.vp_index = 1;
    m.access_info = 3; /* no such access size */
    send(HV_MESSAGE_TYPE_X64_IO_PORT_INTERCEPT, &m, sizeof(m));
    ck_assert(!child.running);

    setup();
    send(HV_MESSAGE_TYPE_X64_HALT, &m, sizeof(m)); /* not a type the worker handles */
    ck_assert(!child.running);
    ck_assert_int_eq(fake.deletes, 1);

    setup();
    m.access_info = 1;
    fake.set_status = HV_STATUS_INVALID_VP_STATE; /* the completion is refused */
    send(HV_MESSAGE_TYPE_X64_IO_PORT_INTERCEPT, &m, sizeof(m));
    ck_assert(!child.running);
    ck_assert(child.failed);
}
END_TEST

START_TEST(unrecoverable_exception)
{
    struct {
        struct hv_x64_intercept_message_header header;
        uint32_t reason;
    } __attribute__((packed)) t;
    memset(&t, 0, sizeof(t));
    send(HV_MESSAGE_TYPE_UNRECOVERABLE_EXCEPTION, &t, sizeof(t));
    ck_assert_str_eq(capture_end(), "hvfw: child t stopped reason=triple-fault\n");
    ck_assert(!child.running);
    ck_assert(child.failed);
    ck_assert_int_eq(fake.deletes, 1);
    ck_assert_int_eq(fake.set_calls, 0);
    send(HV_MESSAGE_TYPE_UNRECOVERABLE_EXCEPTION, &t, sizeof(t)); /* once only */
    ck_assert_int_eq(fake.deletes, 1);

    setup();
    t.reason = 1; /* the hypervisor stopped it for something else */
    send(HV_MESSAGE_TYPE_UNRECOVERABLE_EXCEPTION, &t, sizeof(t));
    ck_assert_str_eq(capture_end(), "hvfw: child t stopped reason=error\n");
}
END_TEST

START_TEST(platform_ports)
{
    /* The PM timer counts 3.579545 MHz of the root's clock from the child's start. */
    fake.now_ns = 1000000000ull;
    io(HV_INTERCEPT_ACCESS_TYPE_READ, 0x608, 4, 0xFFFFFFFFFFFFFFFFull);
    resumed();
    ck_assert_uint_eq(written(HV_X64_REGISTER_RAX), 3579545); /* IN EAX zero-extends */
    io(HV_INTERCEPT_ACCESS_TYPE_READ, 0x604, 2, 0);
    ck_assert_uint_eq(written(HV_X64_REGISTER_RAX), 1); /* SCI_EN: ACPI mode */
    /* PCI mechanism #1: the address reads back, the empty bus reads all ones. */
    io(HV_INTERCEPT_ACCESS_TYPE_WRITE, 0xCF8, 4, 0x80000000u);
    resumed();
    io(HV_INTERCEPT_ACCESS_TYPE_READ, 0xCF8, 4, 0);
    ck_assert_uint_eq(written(HV_X64_REGISTER_RAX), 0x80000000u);
    io(HV_INTERCEPT_ACCESS_TYPE_READ, 0xCFC, 4, 0);
    ck_assert_uint_eq(written(HV_X64_REGISTER_RAX), 0xFFFFFFFFu);
    /* An absent port: all ones, logged once however often it is probed. */
    int logs = fake.logs;
    io(HV_INTERCEPT_ACCESS_TYPE_READ, 0x21, 1, 0x1234);
    ck_assert_uint_eq(written(HV_X64_REGISTER_RAX), 0x12FF);
    ck_assert_int_eq(fake.logs, logs + 1);
    io(HV_INTERCEPT_ACCESS_TYPE_READ, 0x21, 1, 0);
    io(HV_INTERCEPT_ACCESS_TYPE_WRITE, 0x21, 1, 0xFF);
    ck_assert_int_eq(fake.logs, logs + 1);
    io(HV_INTERCEPT_ACCESS_TYPE_WRITE, 0x43, 1, 0x34);
    ck_assert_int_eq(fake.logs, logs + 2);
    resumed();
    /* A PM1a control write with another SLP_TYP: no power off. */
    io(HV_INTERCEPT_ACCESS_TYPE_WRITE, 0x604, 2, 0x2000 | (5 << 10));
    resumed();
    ck_assert_str_eq(capture_end(), "");
}
END_TEST

static int restarts_wanted;
static int restart_calls;

static bool fake_restart(struct child *c)
{
    ck_assert_ptr_eq(c, &child);
    ck_assert(!c->running);
    restart_calls++;
    if (restarts_wanted-- <= 0)
        return false;
    c->running = true;
    c->partition_id = CHILD_ID;
    return true;
}

START_TEST(reset_register_restarts)
{
    child.restart = fake_restart;
    restart_calls = 0;
    restarts_wanted = 1;
    io(HV_INTERCEPT_ACCESS_TYPE_WRITE, 0xCF9, 1, 0x02); /* not the reset value */
    resumed();
    io(HV_INTERCEPT_ACCESS_TYPE_WRITE, 0xCF9, 2, 0x06); /* not a byte */
    resumed();
    ck_assert_int_eq(restart_calls, 0);
    io(HV_INTERCEPT_ACCESS_TYPE_WRITE, 0xCF9, 1, 0x06);
    ck_assert_int_eq(restart_calls, 1);
    ck_assert_int_eq(fake.deletes, 1);
    ck_assert(child.running);
    ck_assert(!child.failed);
    /* A restart that fails leaves it stopped and failed. */
    io(HV_INTERCEPT_ACCESS_TYPE_WRITE, 0xCF9, 1, 0x06);
    ck_assert_int_eq(restart_calls, 2);
    ck_assert(!child.running);
    ck_assert(child.failed);
    ck_assert_str_eq(capture_end(), "hvfw: child t restarting\n"
                                    "hvfw: child t restarting\n"
                                    "hvfw: child t stopped reason=reset-failed\n");
}
END_TEST

START_TEST(reset_without_restart_hook)
{
    io(HV_INTERCEPT_ACCESS_TYPE_WRITE, 0xCF9, 1, 0x06);
    ck_assert(!child.running);
    ck_assert(child.failed);
    ck_assert_str_eq(capture_end(), "hvfw: child t restarting\n"
                                    "hvfw: child t stopped reason=reset-failed\n");
}
END_TEST

START_TEST(absent_and_ioapic_mmio)
{
    static const uint8_t load_1g[] = { 0x8B, 0x0D, 0x00, 0x00, 0x00, 0x40 }; /* mov ecx,[1G] */
    static const uint8_t store_1g[] = { 0x89, 0x05, 0x04, 0x00, 0x00, 0x40 };
    static const uint8_t select[] = { 0x89, 0x05, 0x00, 0x00, 0xC0, 0xFE }; /* IOREGSEL */
    static const uint8_t window[] = { 0x8B, 0x0D, 0x10, 0x00, 0xC0, 0xFE }; /* IOWIN */
    int logs = fake.logs;
    fake.gpr[1] = 0x1111;
    memory(0x40000000, load_1g, sizeof(load_1g));
    resumed();
    ck_assert_uint_eq(written(HV_X64_REGISTER_RCX), 0xFFFFFFFFu);
    ck_assert_uint_eq(written(HV_X64_REGISTER_RIP), 0x4006);
    fake.gpr[0] = 0x12345678;
    memory(0x40000004, store_1g, sizeof(store_1g)); /* same page: dropped, not logged */
    resumed();
    ck_assert_int_eq(fake.logs, logs + 1);
    /* The IOAPIC: select the version register, read it through the window. */
    fake.gpr[0] = 1;
    memory(0xFEC00000, select, sizeof(select));
    resumed();
    memory(0xFEC00010, window, sizeof(window));
    resumed();
    ck_assert_uint_eq(written(HV_X64_REGISTER_RCX), 0x00170011u);
    ck_assert_int_eq(fake.logs, logs + 1);
    /* A byte access to an IOAPIC register is refused: #GP. */
    static const uint8_t byte_select[] = { 0x88, 0x05, 0x00, 0x00, 0xC0, 0xFE };
    memory(0xFEC00000, byte_select, sizeof(byte_select));
    exception_injected(13, true);
    /* Many absent pages: the log stays bounded. */
    for (uint32_t page = 0; page < 2 * WORKER_MMIO_LOGGED_MAX; page++) {
        uint8_t load[] = { 0x8B, 0x0D, 0x00, 0x00, 0x00, 0x50 };
        memcpy(&load[2], &(uint32_t){ 0x50000000u + page * 4096 }, 4);
        memory(0x50000000u + page * 4096, load, sizeof(load));
        resumed();
    }
    ck_assert_int_le(fake.logs, logs + WORKER_MMIO_LOGGED_MAX + 1);
}
END_TEST

/* Programs IOAPIC entry `pin` through the MMIO window, as Linux does (writel). */
static void ioapic_entry(unsigned pin, uint64_t entry)
{
    static const uint8_t select[] = { 0x89, 0x05, 0x00, 0x00, 0xC0, 0xFE }; /* IOREGSEL */
    static const uint8_t window[] = { 0x89, 0x05, 0x10, 0x00, 0xC0, 0xFE }; /* IOWIN */
    for (unsigned half = 0; half < 2; half++) {
        fake.gpr[0] = 0x10 + 2 * pin + (1 - half);
        memory(0xFEC00000, select, sizeof(select));
        fake.gpr[0] = (uint32_t)(entry >> (32 * (1 - half)));
        memory(0xFEC00010, window, sizeof(window));
        resumed();
    }
}

START_TEST(com1_interrupts_through_the_ioapic)
{
    ioapic_entry(4, 0x0100000000000031ull); /* vector 0x31, fixed, edge, APIC ID 1 */
    io(HV_INTERCEPT_ACCESS_TYPE_WRITE, 0x3F9, 1, 0x02); /* IER: THRE */
    ck_assert_uint_eq(fake.interrupt_count, 0);         /* OUT2 off: the line is gated */
    io(HV_INTERCEPT_ACCESS_TYPE_WRITE, 0x3FC, 1, 0x0B); /* MCR: DTR, RTS, OUT2 */
    ck_assert_uint_eq(fake.interrupt_count, 1);
    ck_assert_uint_eq(fake.interrupt[0].apic_id, 1);
    ck_assert_uint_eq(fake.interrupt[0].vector, 0x31);
    io(HV_INTERCEPT_ACCESS_TYPE_WRITE, 0x3F8, 1, 'x'); /* the line stays high: no edge */
    ck_assert_uint_eq(fake.interrupt_count, 1);
    io(HV_INTERCEPT_ACCESS_TYPE_READ, 0x3FA, 1, 0); /* IIR: THRE, cleared */
    ck_assert_uint_eq(written(HV_X64_REGISTER_RAX) & 0xFF, 0x02);
    io(HV_INTERCEPT_ACCESS_TYPE_WRITE, 0x3F8, 1, 'y'); /* empty again: a new edge */
    ck_assert_uint_eq(fake.interrupt_count, 2);
    /* A logical or level entry is not deliverable: dropped, logged once. */
    int logs = fake.logs;
    ioapic_entry(4, 0x0100000000000831ull); /* logical */
    io(HV_INTERCEPT_ACCESS_TYPE_READ, 0x3FA, 1, 0);
    io(HV_INTERCEPT_ACCESS_TYPE_WRITE, 0x3F8, 1, 'z');
    io(HV_INTERCEPT_ACCESS_TYPE_READ, 0x3FA, 1, 0);
    io(HV_INTERCEPT_ACCESS_TYPE_WRITE, 0x3F8, 1, 'z');
    ck_assert_uint_eq(fake.interrupt_count, 2);
    ck_assert_int_eq(fake.logs, logs + 1);
    /* A refusal by the hypervisor (say, no VP with that APIC ID) loses the interrupt. */
    ioapic_entry(4, 0x0700000000000031ull);
    fake.interrupt_status = HV_STATUS_INVALID_PARAMETER;
    io(HV_INTERCEPT_ACCESS_TYPE_READ, 0x3FA, 1, 0);
    io(HV_INTERCEPT_ACCESS_TYPE_WRITE, 0x3F8, 1, 'w');
    ck_assert_uint_eq(fake.interrupt_count, 3);
    ck_assert(child.running);
    uart_flush(&child.com1);
    ck_assert_str_eq(capture_end(), "[t] xyzzw\n");
}
END_TEST

START_TEST(console_input_after_the_shell_line)
{
    strcpy(child.config.console_input, "ls\rpoweroff -f\r");
    ioapic_entry(4, 0x0000000000000031ull);
    io(HV_INTERCEPT_ACCESS_TYPE_WRITE, 0x3FC, 1, 0x08); /* OUT2 */
    io(HV_INTERCEPT_ACCESS_TYPE_WRITE, 0x3F9, 1, 0x01); /* IER: received data */
    ck_assert_uint_eq(fake.interrupt_count, 0);
    for (const char *p = "hvfw-guest: shell (exit to power off)\n"; *p; p++)
        io(HV_INTERCEPT_ACCESS_TYPE_WRITE, 0x3F8, 1, (uint8_t)*p);
    ck_assert_uint_eq(fake.interrupt_count, 1); /* data arrived: IRQ 4 */
    const char *expect = "ls\r";
    for (const char *p = expect; *p; p++) {
        io(HV_INTERCEPT_ACCESS_TYPE_READ, 0x3FD, 1, 0); /* LSR: data ready */
        ck_assert_uint_eq(written(HV_X64_REGISTER_RAX) & 1, 1);
        io(HV_INTERCEPT_ACCESS_TYPE_READ, 0x3F8, 1, 0);
        ck_assert_uint_eq(written(HV_X64_REGISTER_RAX) & 0xFF, (uint8_t)*p);
    }
    io(HV_INTERCEPT_ACCESS_TYPE_READ, 0x3FD, 1, 0);
    ck_assert_uint_eq(written(HV_X64_REGISTER_RAX) & 1, 0); /* one line per shell */
    ck_assert_uint_eq(child.console_input_at, 3);
    capture_end();
}
END_TEST

Suite *worker_suite(void)
{
    Suite *s = suite_create("worker");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, in_merges_the_access_size);
    tcase_add_test(tc, out_reaches_the_uart_and_drops_elsewhere);
    tcase_add_test(tc, exit_code_then_power_off);
    tcase_add_test(tc, power_off_with_exit_code_zero_is_success);
    tcase_add_test(tc, cpuid_and_msr);
    tcase_add_test(tc, test_device_through_mmio);
    tcase_add_test(tc, unsupported_or_mismatched_mmio_faults);
    tcase_add_test(tc, outsb_to_com1);
    tcase_add_test(tc, other_string_io_faults);
    tcase_add_test(tc, stops_and_bad_messages);
    tcase_add_test(tc, unrecoverable_exception);
    tcase_add_test(tc, platform_ports);
    tcase_add_test(tc, reset_register_restarts);
    tcase_add_test(tc, reset_without_restart_hook);
    tcase_add_test(tc, absent_and_ioapic_mmio);
    tcase_add_test(tc, com1_interrupts_through_the_ioapic);
    tcase_add_test(tc, console_input_after_the_shell_line);
    suite_add_tcase(s, tc);
    return s;
}
