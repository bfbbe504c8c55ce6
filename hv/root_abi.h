/*
 * The interface between the hypervisor and the root partition that is not the TLFS:
 * what the root finds at its entry, and hvfw's private hypercalls (codes in
 * HVCALL_HVFW_FIRST..LAST, hv/hypercall_abi.h). Documented in docs/hypercalls.md.
 * Shared by hv/ (writer) and root/ (reader): plain types only.
 *
 * Root entry (every root VP): 64-bit mode, paging on with identity page tables the
 * hypervisor built in root memory, interrupts off, no IDT (the root loads its own),
 *   RDI = GPA of the struct root_boot_info (GPA == host physical address for the root),
 *   RSI = VP index, RSP = top of that VP's stack (inside root memory), RIP = root_entry.
 */
#ifndef HVFW_HV_ROOT_ABI_H
#define HVFW_HV_ROOT_ABI_H

#include <stdint.h>

#define ROOT_BOOT_INFO_MAGIC 0x746f6f7277666876ull /* "hvfwroot" */
#define ROOT_BOOT_INFO_VERSION 2
#define ROOT_MAX_MEMORY_RANGES 64
#define ROOT_MAX_MODULES 16
#define ROOT_MAX_VPS 64
#define ROOT_CMDLINE_MAX 1024

struct root_memory_range {
    uint64_t start; /* GPA, page aligned */
    uint64_t end;   /* exclusive */
};

struct root_module {
    uint64_t start, end; /* GPA range, mapped read-only */
    char name[64];
    char args[256];
};

struct root_boot_info {
    uint64_t magic;
    uint32_t version;
    uint32_t vp_count;       /* root VPs, one per physical CPU */
    uint64_t tsc_khz;        /* the root reads the TSC directly (offset 0) */
    uint64_t stack_size;     /* bytes of each VP's stack */
    char cmdline[ROOT_CMDLINE_MAX];
    /* RAM the root owns, RW: its heap, its page tables, child memory it hands out. The
     * first range begins with this page, the page tables and the VP stacks; `free_start`
     * is where the root's own allocations may begin. */
    uint32_t memory_range_count;
    uint32_t reserved;
    uint64_t free_start;
    struct root_memory_range memory[ROOT_MAX_MEMORY_RANGES];
    uint32_t module_count;
    uint32_t reserved2;
    struct root_module modules[ROOT_MAX_MODULES];
    /* Version 2: the machine's usable RAM (the firmware memory map's usable ranges) and
     * the part of it the root was not given (the hypervisor's image, page tables and
     * per-partition state, its reserve, the first MiB, the boot modules' pages). */
    uint64_t machine_memory_bytes;
    uint64_t hypervisor_memory_bytes;
};

/*
 * Private hypercalls (root only; a child gets HV_STATUS_ACCESS_DENIED).
 *
 * HvCallHvfwConsoleWrite: rep call, one byte per rep element (no header): the bytes are
 *   written to the firmware console under the console lock, so root lines never interleave
 *   with hypervisor lines.
 * HvCallHvfwRootReady: simple call, no input: the root has finished its start-up; the
 *   hypervisor prints "hvfw: ready ..." (and ends a test run under `test.exit`).
 * HvCallHvfwRootStop: simple call, input u64 code: the root gives up (a failed invariant of
 *   its own); the hypervisor reports it and stops.
 * HvCallHvfwShutdown: simple call, input u64 code: the appliance is done (e.g. every child
 *   declared with `exit_when_idle` has stopped). Code 0: power off through ACPI (QEMU then
 *   exits with status 0); otherwise the isa-debug-exit port gets the code (QEMU status
 *   2*code+1) and, without one, the hypervisor stops.
 */
#define HVCALL_HVFW_CONSOLE_WRITE 0x7F00u
#define HVCALL_HVFW_ROOT_READY 0x7F01u
#define HVCALL_HVFW_ROOT_STOP 0x7F02u
#define HVCALL_HVFW_SHUTDOWN 0x7F03u

/*
 * Messages and events between children and the root (docs/hypercalls.md "Messages and
 * events"; hv/synic.c). hvfw has no HvCallCreatePort/ConnectPort: each child has a fixed
 * connection-id space, 1..HVFW_CHILD_CONNECTION_LIMIT-1, that the root's VMBus server owns
 * (Linux's VMBus uses 1 and 4 for messages and the ids the host's offers name for events).
 *
 * A child's HvCallPostMessage to connection C arrives in SINT HVFW_ROOT_SINT_CHILD of root
 * VP 0's message page: the child's type, size and payload, and header.sender =
 * HVFW_MESSAGE_SENDER(child partition id, C) (TLFS's HV_MESSAGE_HEADER has a union of the
 * sender partition and the port id there: hvfw carries both). At most
 * HVFW_CHILD_MESSAGE_QUOTA messages of one child wait at once; more get
 * HV_STATUS_INSUFFICIENT_BUFFERS, which Linux retries.
 *
 * A child's HvCallSignalEvent to connection C (flag number 0) sets bit C of that child's
 * pending-connection set in the hypervisor; when the set was empty, flag (child partition
 * id % 2048) of SINT HVFW_ROOT_SINT_CHILD in root VP 0's event flags page is set and the
 * VP woken. The root takes and clears a child's set with HvCallHvfwGetChildEvents: one
 * notification however many signals come before it looks.
 *
 * HvCallHvfwPostChildMessage: simple call, struct hvfw_input_post_child_message: posts a
 *   message (type non-zero without bit 31: the hypervisor's own types cannot be forged) to
 *   a SINT of a child VP, delivered by the TLFS slot protocol with its interrupt.
 *   HV_STATUS_INVALID_PARTITION_ID / INVALID_VP_INDEX / INVALID_PARAMETER for a bad target,
 *   SINT, type or size; HV_STATUS_INVALID_SYNIC_STATE when the VP's message page is off;
 *   HV_STATUS_INSUFFICIENT_BUFFERS when HVFW_CHILD_SINT_QUEUE messages already wait there
 *   (the slot protocol has not taken them: the guest has not freed its slot).
 * HvCallHvfwSignalChildEvent: simple call, fast allowed, struct
 *   hvfw_input_signal_child_event: sets a flag in a child VP's event flags page and raises
 *   the SINT's interrupt if it was clear. HV_STATUS_INVALID_SYNIC_STATE when the page is off.
 * HvCallHvfwGetChildEvents: simple call, input u64 partition id, output the 2048-bit
 *   pending-connection set (bit C = connection C was signalled), cleared by the call.
 */
#define HVCALL_HVFW_POST_CHILD_MESSAGE 0x7F04u
#define HVCALL_HVFW_SIGNAL_CHILD_EVENT 0x7F05u
#define HVCALL_HVFW_GET_CHILD_EVENTS 0x7F06u


/*
 * Interrupts of the physical devices the root drives (hv/device_interrupt.h).
 *
 * HvCallHvfwMapDeviceInterrupt: simple call, struct hvfw_input_map_device_interrupt, output
 *   struct hvfw_output_map_device_interrupt: the MSI address and data the root writes into
 *   its device (an MSI capability or an MSI-X table entry) and the id that unmaps it. The
 *   interrupt wakes root VP `vp_index` (its HLT returns; nothing is injected).
 *   HV_STATUS_INVALID_VP_INDEX for a VP the root does not have, INVALID_PARAMETER for a
 *   non-zero reserved field, NO_RESOURCES when HVFW_DEVICE_INTERRUPT_MAX are mapped.
 * HvCallHvfwUnmapDeviceInterrupt: simple call, input u64 id: INVALID_PARAMETER for an id
 *   that is not mapped. The root disables the device's message first.
 */
#define HVCALL_HVFW_MAP_DEVICE_INTERRUPT 0x7F10u
#define HVCALL_HVFW_UNMAP_DEVICE_INTERRUPT 0x7F11u
#define HVFW_DEVICE_INTERRUPT_MAX 32u

struct hvfw_input_map_device_interrupt {
    uint32_t vp_index;
    uint32_t reserved;
};

struct hvfw_output_map_device_interrupt {
    uint64_t msi_address;
    uint32_t msi_data;
    uint32_t interrupt_id;
};

#define HVFW_ROOT_SINT_CHILD 2
/* The root's diagnostic echo (root/child_messages.c): a message a child posts to this
 * connection comes back, same type and payload, to its VP 0's SINT HVFW_ECHO_SINT; a
 * signal to it sets flag HVFW_CHILD_CONNECTION_ECHO of that SINT in VP 0's event flags. */
#define HVFW_CHILD_CONNECTION_ECHO 2047u
#define HVFW_ECHO_SINT 2u
#define HVFW_CHILD_CONNECTION_LIMIT 2048u
#define HVFW_CHILD_MESSAGE_QUOTA 16u
#define HVFW_CHILD_SINT_QUEUE 15u
#define HVFW_MESSAGE_SENDER(partition, connection)                                          \
    ((uint64_t)(partition) << 32 | ((uint64_t)(connection) & 0xFFFFFFu))
#define HVFW_MESSAGE_SENDER_PARTITION(sender) ((uint64_t)(sender) >> 32)
#define HVFW_MESSAGE_SENDER_CONNECTION(sender) ((uint32_t)(sender) & 0xFFFFFFu)

struct hvfw_input_post_child_message {
    uint64_t partition_id;
    uint32_t vp_index;
    uint32_t sint;
    uint32_t message_type;
    uint32_t payload_size;
    uint8_t payload[240];
} __attribute__((packed));
_Static_assert(sizeof(struct hvfw_input_post_child_message) == 264, "post child message");

struct hvfw_input_signal_child_event {
    uint64_t partition_id;
    uint32_t vp_index;
    uint8_t sint;
    uint8_t reserved;
    uint16_t flag_number;
} __attribute__((packed));
_Static_assert(sizeof(struct hvfw_input_signal_child_event) == 16, "signal child event");

struct hvfw_output_get_child_events {
    uint64_t connections[HVFW_CHILD_CONNECTION_LIMIT / 64];
} __attribute__((packed));

/*
 * HvCallHvfwGetPartitionStatistics: simple call, input u64 partition id (a child: the
 * root's own id or HV_PARTITION_ID_SELF is HV_STATUS_ACCESS_DENIED, any other id that is no
 * child HV_STATUS_INVALID_PARTITION_ID), output struct hvfw_output_partition_statistics:
 * the partition's counters since it was created (a new partition after a reset starts at
 * zero). run_time_ns is the time its VPs spent from the world switch in to their exits,
 * summed over the VPs (so up to VPs x wall time), from the TSC and its measured frequency.
 */
#define HVCALL_HVFW_GET_PARTITION_STATISTICS 0x7F07u

struct hvfw_output_partition_statistics {
    uint64_t exits;       /* VM exits of all its VPs */
    uint64_t run_time_ns; /* time in guest mode, summed over its VPs */
    uint64_t vp_count;
    uint64_t reserved;    /* zero */
} __attribute__((packed));
_Static_assert(sizeof(struct hvfw_output_partition_statistics) == 32, "partition statistics");

#endif
