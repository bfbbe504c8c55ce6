/*
 * The ACPI tables of a child partition, written by the root into the child's RAM before
 * the child starts, so that an unmodified Linux finds its platform there: power off, reset,
 * its processors and interrupt controllers, and the VMBus device (hv_vmbus is an ACPI
 * driver in Linux 6.1 and gives up without it).
 *
 * One region, laid out from its start (base_gpa must be 64-byte aligned):
 *
 *   RSDP   revision 2, both checksums; XsdtAddress set, RsdtAddress 0 (no RSDT)  5.2.5
 *   FACS   64 bytes on a 64-byte boundary (a non-hardware-reduced platform has one) 5.2.10
 *   XSDT   -> FADT, MADT                                                      5.2.8
 *   FADT   revision 6.5 (276 bytes)                                            5.2.9
 *   MADT   one Local APIC per VP, one IOAPIC, two overrides, LINT1 NMI            5.2.12
 *   DSDT   \_S5 and \_SB.VMBS                                                    5.2.11.1
 *
 * The fixed hardware the FADT describes is the q35-like set the root worker emulates
 * (ports chosen as QEMU q35, PMBASE 0x600, so a guest sees familiar numbers):
 *
 *   PM1a event block   0x600-0x603 (status 0x600, enable 0x602, 16 bits each)
 *   PM1a control       0x604-0x605 (16 bits; SLP_EN with SLP_TYP 0 = S5 = power off)
 *   PM timer           0x608-0x60B (32 bits, TMR_VAL_EXT, 3.579545 MHz)
 *   reset register     0xCF9, value 0x06 (I/O, 8 bits; as the PCI reset control register)
 *   SCI                IRQ 9 = GSI 9, level triggered, active low (the ACPI default)
 *   no SMI command port (SMI_CMD 0: the platform is always in ACPI mode), no GPE blocks,
 *   no fixed power/sleep buttons, no CMOS RTC, no VGA, no 8042 (IAPC_BOOT_ARCH).
 *
 * \_S5 is Package { 0, 0, 0, 0 }: SLP_TYP 0 is what root/worker.c takes as power off
 * (SLP_EN set, SLP_TYP 0), the same value the test guests write (images/guests/README.md).
 *
 * The VMBus device is \_SB.VMBS: _HID "VMBUS", _UID 0, _STA 0x0F and a _CRS holding ISA
 * IRQ 5 (IRQNoFlags: edge, active high, exclusive), the IRQ Hyper-V's generation 1 firmware
 * gives it. Linux 6.1 walks that _CRS (hv_vmbus fails without one) but ignores a
 * non-extended IRQ on x86: VMBus interrupts come through the SynIC (vector 0xF3, SINT2).
 *
 * The AML is emitted by a small encoder in child_acpi.c rather than compiled from ASL:
 * the DSDT is seven named objects, the encoder is ~100 lines with every opcode cited from
 * ACPI 6.5 chapter 20, and the build needs no extra tool (iasl also refuses "VMBUS" as a
 * _HID, which must be 7 or 8 characters for it, unless forced). The host tests compare the
 * AML with iasl's output for the same ASL and read every table back with the hypervisor's
 * own parser (kernel/acpi.c).
 *
 * Not yet wired into the VMMS. To boot a Linux child with these tables the VMMS must:
 *   1. place the region where the guest will not take it for free RAM: the ACPI hole at
 *      the top of RAM that the bzImage loader reports as e820 type 3 (root/bzimage.h:
 *      base = bzimage_acpi_base(ram_size), BZIMAGE_ACPI_SIZE = 64 KiB, far more than
 *      CHILD_ACPI_REGION_BYTES), or the legacy BIOS area 0xE0000-0xFFFFF, where Linux also
 *      finds the RSDP by its search when boot_params gives none;
 *   2. before the child's first VP runs, call child_acpi_build(ram + base, size, base,
 *      &(struct child_acpi_config){vp_count}, &rsdp_gpa) and pass rsdp_gpa to
 *      bzimage_load (it goes to boot_params.acpi_rsdp_addr at 0x070);
 *   3. have the worker emulate the fixed hardware above: PM1a status (write 1 to clear)
 *      and enable (reads back what was written) at 0x600/0x602, PM1a control (power off:
 *      done), the PM timer (a free-running 32-bit count at 3.579545 MHz from the reference
 *      time; until then Linux reads all ones, finds the timer stuck and does not use it)
 *      and the reset port (stop the child with reason "reboot");
 *   4. with the interrupt controllers: the IOAPIC at 0xFEC00000 and each VP's LAPIC at
 *      0xFEE00000 with APIC ID = VP index, as the MADT says, and the SCI on GSI 9.
 *
 * Pure and host-testable: no root or hypervisor calls.
 */
#ifndef HVFW_ROOT_CHILD_ACPI_H
#define HVFW_ROOT_CHILD_ACPI_H

#include <stddef.h>
#include <stdint.h>

#define CHILD_ACPI_PM1A_EVENT_PORT 0x600u
#define CHILD_ACPI_PM1A_CONTROL_PORT 0x604u
#define CHILD_ACPI_PM_TIMER_PORT 0x608u
#define CHILD_ACPI_RESET_PORT 0xCF9u
#define CHILD_ACPI_RESET_VALUE 0x06u
#define CHILD_ACPI_SCI_IRQ 9u
#define CHILD_ACPI_S5_SLEEP_TYPE 0u
#define CHILD_ACPI_LAPIC_ADDRESS 0xFEE00000u
#define CHILD_ACPI_IOAPIC_ADDRESS 0xFEC00000u
#define CHILD_ACPI_IOAPIC_ID 0u
#define CHILD_ACPI_VMBUS_IRQ 5u

/* Local APIC entries carry an 8-bit APIC ID and 0xFF is the xAPIC broadcast ID
 * (Intel SDM Vol. 3A 10.6.2.1), so VP indexes 0..254 can be listed. */
#define CHILD_ACPI_VPS_MAX 255u
/* The region never needs more than this (255 VPs: about 2.6 KiB). */
#define CHILD_ACPI_REGION_BYTES 0x1000u
/* Required alignment of base_gpa: the FACS must sit on a 64-byte boundary (5.2.10). */
#define CHILD_ACPI_ALIGNMENT 64u

struct child_acpi_config {
    uint32_t vp_count; /* 1..CHILD_ACPI_VPS_MAX; VP i gets Local APIC ID i and UID i */
};

/* Bytes the region needs for `config`; 0 when the config is invalid. */
size_t child_acpi_size(const struct child_acpi_config *config);

/* Writes the region into `buffer` (the root's view of child GPAs [base_gpa, base_gpa+size)):
 * every byte up to the returned length is written, padding zeroed. Pointers inside the
 * tables are GPAs. Returns the bytes used and the RSDP's GPA in *rsdp_gpa, or 0 (nothing
 * written) when the config is invalid, base_gpa is not CHILD_ACPI_ALIGNMENT-aligned, the
 * region would pass the end of the 64-bit space, or `size` is too small. */
size_t child_acpi_build(uint8_t *buffer, size_t size, uint64_t base_gpa,
                        const struct child_acpi_config *config, uint64_t *rsdp_gpa);

#endif
