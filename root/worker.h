/*
 * The root's worker (the seeds' VMWP): the intercept loop on root VP 0 and the emulated
 * devices of each child. The hypervisor suspends a child VP at an exit it does not handle
 * and posts an intercept message to SINT0 of root VP 0 (hv/intercept_abi.h); the worker
 * emulates the access and completes it with HvCallSetVpRegisters (RIP, the registers the
 * instruction changed, then HvRegisterInterceptSuspend = 0, which resumes the VP).
 *
 * The platform of each child (what its ACPI tables describe, root/child_acpi.h):
 *   0x3F8-0x3FF  COM1, a 16550A (root/uart.h), IRQ 4; its output printed as `[NAME] text`
 *   0x70-0x71    the CMOS RTC (root/rtc.h): the appliance's wall clock, CMOS RAM
 *   0x600-0x60B  ACPI PM1a event/control blocks and the PM timer, SCI on GSI 9 (root/pm.h);
 *                SLP_EN with SLP_TYP 0 powers the child off
 *   0xCF8-0xCFF  PCI configuration mechanism #1 over an empty bus (root/pci_config.h)
 *   0xCF9        the reset register (a byte; 0x06 restarts the child, root/pm.h)
 *   0xF4         the test exit port (an OUT records the exit code)
 *   0xFEC00000   the IOAPIC (root/child_ioapic.h), 24 pins, ISA IRQ n on pin n; its fixed,
 *                edge-triggered, physically addressed interrupts reach the child's virtual
 *                LAPICs through HvCallAssertVirtualInterrupt
 *   0xFEB00000   the test device (root/test_device.h)
 * through root/mmio.h for the memory-mapped ones. Any other port reads as all ones and
 * drops writes (the PIC, PIT, keyboard controller, other COMs, VGA: absent, so Linux
 * takes none of them), logged once per port; any other GPA outside RAM reads as all ones
 * and drops writes (the instruction is emulated against an empty page), logged once per
 * page. Every MSR the hypervisor forwards gets #GP(0); CPUID returns the hypervisor's
 * default results.
 * String I/O: OUTSB to COM1 is carried out (source DS:rSI or its override, GVA == GPA with
 * paging off, bounded per intercept); any other INS/OUTS, or one with paging on, gets #GP(0).
 *
 * A child stops (`hvfw: child NAME stopped reason=...`) at power off, a triple fault or an
 * error; a write of 0x06 to the reset register restarts it from its declaration
 * (`hvfw: child NAME restarting`).
 */
#ifndef HVFW_ROOT_WORKER_H
#define HVFW_ROOT_WORKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hv/intercept_abi.h"
#include "root/child_config.h"
#include "root/child_ioapic.h"
#include "root/console_buffer.h"
#include "root/pci_config.h"
#include "root/pm.h"
#include "root/rtc.h"
#include "root/test_device.h"
#include "root/uart.h"

#define WORKER_COM1_BASE 0x3F8u
#define WORKER_EXIT_PORT 0xF4u
#define WORKER_PM1A_CONTROL_PORT PM_CONTROL_PORT
#define WORKER_COM1_IRQ 4u
#define WORKER_SCI_IRQ 9u
/* Pages of unknown MMIO a child's log names; later ones are not logged. */
#define WORKER_MMIO_LOGGED_MAX 32
/* The console line after which the next line of test.console_input.NAME is typed:
 * images/linux/init's line before it starts a shell (hvfw.action=shell). */
#define WORKER_CONSOLE_INPUT_AFTER "hvfw-guest: shell"
/* OUTSB bytes per intercept; a longer REP OUTSB re-executes with RCX/RSI updated. */
#define WORKER_STRING_IO_LIMIT 4096u

/* One child partition, from start to stop. */
struct child {
    struct child_config config;
    uint64_t partition_id;
    uint8_t *ram;       /* root memory backing the child's GPAs [0, ram_bytes) */
    uint64_t ram_bytes;
    bool is_linux;      /* booted by the Linux boot protocol (a bzImage module) */
    bool running;       /* started and not stopped */
    bool failed;        /* stopped otherwise than by power off with exit code 0 */
    bool has_exit_code; /* it wrote the test exit port */
    uint32_t exit_code;
    struct uart com1;
    /* COM1's output as transmitted: the scroll-back the management API serves; kept over
     * the child's restarts, new with its slot (root/vmms.c clears a deleted child). */
    struct console_buffer console;
    struct test_device device;
    struct child_ioapic ioapic;
    struct pm pm;
    struct pci_config pci;
    struct rtc rtc;
    bool com1_line;          /* COM1's interrupt line as last seen: IOAPIC pin 4 */
    bool interrupt_drop_logged; /* an undeliverable IOAPIC interrupt was logged */
    size_t console_input_at; /* test.console_input.NAME typed so far (kept by a restart) */
    uint8_t ports_logged[65536 / 8]; /* absent ports already logged, a bit per port */
    uint64_t mmio_logged[WORKER_MMIO_LOGGED_MAX]; /* absent GPA pages already logged */
    unsigned mmio_logged_count;
    unsigned restarts;       /* resets that started it again */
    /* Its partition's counters as last read (worker_child_read_statistics): the running
     * partition's, or the last one's before it was deleted. */
    bool has_statistics;
    uint64_t exits;
    uint64_t run_time_ns;
    /* Starts the child again from its declaration after it reset itself (the VMMS's); NULL
     * or a failure leaves it stopped. */
    bool (*restart)(struct child *child);
};

/* Enables root VP 0's SynIC message page (SIMP). Called before any child starts, so that
 * no intercept message finds it off. */
void worker_enable_messages(void);

/* Sets up the emulated devices of a child about to start (again). */
void worker_child_init(struct child *child);

/* Reads the running child's partition counters into child->exits / run_time_ns (kept when
 * the hypervisor refuses: the last values read stay). */
void worker_child_read_statistics(struct child *child);

/* Types `length` bytes into the child's COM1 receiver (root/uart.h's input queue) and
 * raises its interrupt if that makes one pending; returns how many fitted. */
size_t worker_console_input(struct child *child, const uint8_t *bytes, size_t length);

/* Handles one intercept message, copied out of the slot (worker_run's step; host-tested
 * through it): emulates, then completes the intercept or stops the child. A message from a
 * partition that is no running child is dropped. */
void worker_handle_message(struct child *children, size_t count,
                           const struct hv_message *message);

/*
 * Runs the intercept loop on the calling VP (root VP 0) forever: enables its SynIC message
 * page, then handles the messages for `children` (`count` of them; not running ones are
 * ignored). When none is running any more and `exit_when_idle` is set, ends the run with
 * HvCallHvfwShutdown: code 0 if every child powered off with exit code 0, else 1.
 */
__attribute__((noreturn)) void worker_run(struct child *children, size_t count,
                                          bool exit_when_idle);

/* Polled by worker_run before it waits (root/network.c's network_poll while a NIC exists);
 * true if it did work, so the loop polls again instead of halting. */
extern bool (*worker_poll_hook)(void);

#endif
