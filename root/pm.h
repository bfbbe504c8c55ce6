/*
 * The ACPI fixed hardware of a child partition (ACPI 6.5 4.8 "ACPI Hardware Model"), at the
 * ports its FADT gives (root/child_acpi.h):
 *
 *   0x600 PM1a_STS  16 bits, write 1 to clear. TMR_STS (bit 0) is set when the PM timer's
 *                   bit 31 changes (4.8.3.1.1); no other event source exists.
 *   0x602 PM1a_EN   16 bits, reads back what was written (bits this platform has: TMR_EN).
 *   0x604 PM1a_CNT  16 bits: SCI_EN (bit 0) always reads 1 (SMI_CMD is 0: the platform is
 *                   always in ACPI mode, 4.8.3.2.1); SLP_TYP (12:10) is kept; writing
 *                   SLP_EN (bit 13, write-only) with SLP_TYP 0 (\_S5) powers the child off,
 *                   with another SLP_TYP it is ignored (no sleep state exists).
 *   0x608 PM_TMR    32 bits (the FADT sets TMR_VAL_EXT), read-only: 3.579545 MHz counting
 *                   from the child's start, computed from the root's clock on each read
 *                   (no accumulated state, so it cannot drift from that clock).
 *   0xCF9 reset     8 bits, the FADT's RESET_REG: writing 0x06 (RESET_VALUE; SYS_RST|RST_CPU
 *                   as on the PCI reset control register) resets the child; reads back the
 *                   last value written.
 *
 * The SCI (GSI 9, level, active low) is asserted while a PM1 status bit and its enable are
 * both set: pm_sci_active. Other sizes than the register's, or ports inside a block other
 * than its start, read as all ones and drop writes.
 *
 * Pure and host-testable: the caller passes the time.
 */
#ifndef HVFW_ROOT_PM_H
#define HVFW_ROOT_PM_H

#include <stdbool.h>
#include <stdint.h>

#define PM_EVENT_PORT 0x600u  /* PM1a_STS; PM1a_EN at +2 */
#define PM_CONTROL_PORT 0x604u
#define PM_TIMER_PORT 0x608u
#define PM_RESET_PORT 0xCF9u
#define PM_RESET_VALUE 0x06u
#define PM_TIMER_HZ 3579545ull

#define PM1_STATUS_TIMER 0x0001u
#define PM1_ENABLE_TIMER 0x0001u
#define PM1_CONTROL_SCI_EN 0x0001u
#define PM1_CONTROL_SLP_TYP_SHIFT 10
#define PM1_CONTROL_SLP_TYP (7u << PM1_CONTROL_SLP_TYP_SHIFT)
#define PM1_CONTROL_SLP_EN (1u << 13)

enum pm_action {
    PM_ACTION_NONE,
    PM_ACTION_POWER_OFF, /* SLP_EN with SLP_TYP 0 (S5) */
    PM_ACTION_RESET,     /* RESET_VALUE written to the reset register */
};

struct pm {
    uint64_t start_ns;     /* the root's time at the child's start: the timer's zero */
    uint64_t timer_seen;   /* ticks at the last TMR_STS update (its bit 31 is compared) */
    uint16_t status, enable, control;
    uint8_t reset_control;
};

void pm_init(struct pm *pm, uint64_t now_ns);
/* True for the ports this module answers (the PM1a blocks, the timer and 0xCF9). */
bool pm_owns_port(uint32_t port);
/* An IN of `size` (1, 2 or 4) bytes at `port` at root time `now_ns`. */
uint32_t pm_read(struct pm *pm, uint32_t port, unsigned size, uint64_t now_ns);
/* An OUT; says what the child asked for. */
enum pm_action pm_write(struct pm *pm, uint32_t port, unsigned size, uint32_t value,
                        uint64_t now_ns);
/* The PM timer: ticks of PM_TIMER_HZ in `elapsed_ns` (exact: floor(elapsed * f / 10^9)),
 * its low 32 bits being what PM_TMR reads. */
uint64_t pm_timer_ticks(uint64_t elapsed_ns);
/* The SCI's state: a status bit with its enable set. */
bool pm_sci_active(const struct pm *pm);

#endif
