/*
 * The root's worker (the seeds' VMWP): the intercept loop on root VP 0 and the emulated
 * devices of each child. The hypervisor suspends a child VP at an exit it does not handle
 * and posts an intercept message to SINT0 of root VP 0 (hv/intercept_abi.h); the worker
 * emulates the access and completes it with HvCallSetVpRegisters (RIP, the registers the
 * instruction changed, then HvRegisterInterceptSuspend = 0, which resumes the VP).
 *
 * Per child: COM1 (a 16550, root/uart.h) at 0x3F8-0x3FF, the test exit port 0xF4 (an OUT
 * records the exit code), PM1a control at 0x604 (a 16-bit OUT with SLP_EN and SLP_TYP 0
 * powers off, ACPI 6.5 4.8.3.2.1), the test device at 0xFEB00000 (root/test_device.h,
 * through root/mmio.h). Any other port reads as all ones and drops writes; any other GPA
 * outside RAM, and every MSR, gets #GP(0); CPUID returns the hypervisor's default results.
 * String I/O: OUTSB to COM1 is carried out (source DS:rSI or its override, GVA == GPA with
 * paging off, bounded per intercept); any other INS/OUTS, or one with paging on, gets #GP(0).
 */
#ifndef HVFW_ROOT_WORKER_H
#define HVFW_ROOT_WORKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hv/intercept_abi.h"
#include "root/child_config.h"
#include "root/test_device.h"
#include "root/uart.h"

#define WORKER_COM1_BASE 0x3F8u
#define WORKER_EXIT_PORT 0xF4u
#define WORKER_PM1A_CONTROL_PORT 0x604u
/* OUTSB bytes per intercept; a longer REP OUTSB re-executes with RCX/RSI updated. */
#define WORKER_STRING_IO_LIMIT 4096u

/* One child partition, from start to stop. */
struct child {
    struct child_config config;
    uint64_t partition_id;
    uint8_t *ram;       /* root memory backing the child's GPAs [0, ram_bytes) */
    uint64_t ram_bytes;
    bool running;       /* started and not stopped */
    bool failed;        /* stopped otherwise than by power off with exit code 0 */
    bool has_exit_code; /* it wrote the test exit port */
    uint32_t exit_code;
    struct uart com1;
    struct test_device device;
};

/* Enables root VP 0's SynIC message page (SIMP). Called before any child starts, so that
 * no intercept message finds it off. */
void worker_enable_messages(void);

/* Sets up COM1 and the test device of a child about to start. */
void worker_child_init(struct child *child);

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

#endif
