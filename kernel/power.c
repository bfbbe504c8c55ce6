#include "kernel/power.h"

#include <stdint.h>

#include "kernel/acpi.h"
#include "kernel/log.h"
#include "kernel/tsc.h"
#include "kernel/x86.h"

/* PM1 control register bits (ACPI 6.5 4.8.3.2.1, Table 4.13). */
#define PM1_SCI_EN (1u << 0)
#define PM1_SLP_TYP_SHIFT 10
#define PM1_SLP_TYP_MASK (7u << PM1_SLP_TYP_SHIFT)
#define PM1_SLP_EN (1u << 13)

#define RESET_CF9 0xCF9
#define CF9_SYSTEM_RESET 0x02
#define CF9_FULL_RESET 0x04   /* with SYSTEM_RESET, written as a 0->1 edge on bit 2 */
#define KBC_STATUS 0x64
#define KBC_STATUS_INPUT_FULL 0x02
#define KBC_PULSE_RESET 0xFE
#define PCI_CONFIG_ADDRESS 0xCF8
#define PCI_CONFIG_DATA 0xCFC

/* Registers we write here are 8 or 16 bits wide; the GAS says which space (5.2.3.2). */
static bool gas_read16(const struct acpi_gas *gas, uint16_t *value)
{
    if (gas->space_id == ACPI_SPACE_IO && gas->address <= 0xFFFF) {
        *value = inw((uint16_t)gas->address);
        return true;
    }
    if (gas->space_id == ACPI_SPACE_MEMORY && gas->address != 0 &&
        gas->address < (1ull << 32)) {
        *value = *(volatile uint16_t *)(uintptr_t)gas->address;
        return true;
    }
    return false;
}

static bool gas_write16(const struct acpi_gas *gas, uint16_t value)
{
    if (gas->space_id == ACPI_SPACE_IO && gas->address <= 0xFFFF) {
        outw((uint16_t)gas->address, value);
        return true;
    }
    if (gas->space_id == ACPI_SPACE_MEMORY && gas->address != 0 &&
        gas->address < (1ull << 32)) {
        *(volatile uint16_t *)(uintptr_t)gas->address = value;
        return true;
    }
    return false;
}

/* The reset register is one byte (4.8.4.6); a PCI config address is device/function/offset
 * on segment 0 bus 0 (5.2.3.2, Table 5.2 footnote): bits 47:32 device, 31:16 function. */
static bool gas_write8(const struct acpi_gas *gas, uint8_t value)
{
    switch (gas->space_id) {
    case ACPI_SPACE_IO:
        if (gas->address > 0xFFFF)
            return false;
        outb((uint16_t)gas->address, value);
        return true;
    case ACPI_SPACE_MEMORY:
        if (gas->address == 0 || gas->address >= (1ull << 32))
            return false;
        *(volatile uint8_t *)(uintptr_t)gas->address = value;
        return true;
    case ACPI_SPACE_PCI_CONFIG: {
        uint32_t device = (uint32_t)(gas->address >> 32) & 0x1F;
        uint32_t function = (uint32_t)(gas->address >> 16) & 0x7;
        uint32_t offset = (uint32_t)gas->address & 0xFF;
        outl(PCI_CONFIG_ADDRESS, 0x80000000u | (device << 11) | (function << 8) | (offset & 0xFC));
        outb((uint16_t)(PCI_CONFIG_DATA + (offset & 3)), value);
        return true;
    }
    default:
        return false;
    }
}

/* 16.3.1: if SCI_EN is clear, the firmware owns the hardware until we write ACPI_ENABLE to
 * SMI_CMD; then wait (bounded) for SCI_EN. */
static bool acpi_mode_enable(const struct acpi_fadt *fadt)
{
    uint16_t control;
    if (!gas_read16(&fadt->pm1a_control, &control))
        return false;
    if (control & PM1_SCI_EN)
        return true;
    if (fadt->smi_command == 0 || fadt->acpi_enable == 0 || fadt->smi_command > 0xFFFF)
        return true; /* no SMI_CMD: the platform is always in ACPI mode (5.2.9) */
    outb((uint16_t)fadt->smi_command, fadt->acpi_enable);
    for (int i = 0; i < 300; i++) {
        if (gas_read16(&fadt->pm1a_control, &control) && (control & PM1_SCI_EN))
            return true;
        time_delay_us(10000);
    }
    return false;
}

static void write_sleep_type(const struct acpi_gas *gas, uint8_t type)
{
    uint16_t control = 0;
    gas_read16(gas, &control);
    control = (uint16_t)((control & ~PM1_SLP_TYP_MASK) | (type << PM1_SLP_TYP_SHIFT));
    gas_write16(gas, control);                     /* SLP_TYP first, then SLP_EN (16.1.7) */
    gas_write16(gas, (uint16_t)(control | PM1_SLP_EN));
}

bool power_off(void)
{
    const struct acpi_platform *acpi = &acpi_platform;
    if (acpi->fadt_status != ACPI_OK) {
        log_error("power: cannot power off: no usable FADT (%s)",
                  acpi_status_name(acpi->fadt_status));
        return false;
    }
    if (acpi->fadt.flags & ACPI_FADT_HW_REDUCED_ACPI) {
        log_error("power: cannot power off: hardware-reduced ACPI (sleep registers) unsupported");
        return false;
    }
    if (acpi->s5_status != ACPI_OK) {
        log_error("power: cannot power off: no \\_S5 package in the DSDT (%s)",
                  acpi_status_name(acpi->s5_status));
        return false;
    }
    uint16_t probe;
    if (!gas_read16(&acpi->fadt.pm1a_control, &probe)) {
        log_error("power: cannot power off: PM1a control block %lx (space %u) unusable",
                  acpi->fadt.pm1a_control.address, acpi->fadt.pm1a_control.space_id);
        return false;
    }
    if (!acpi_mode_enable(&acpi->fadt))
        log_warn("power: SCI_EN stayed clear after ACPI_ENABLE; trying anyway");
    log_info("power: entering S5 (SLP_TYPa %u, SLP_TYPb %u)", acpi->s5.type_a, acpi->s5.type_b);
    interrupts_disable();
    write_sleep_type(&acpi->fadt.pm1a_control, acpi->s5.type_a);
    if (acpi->fadt.pm1b_control.address)
        write_sleep_type(&acpi->fadt.pm1b_control, acpi->s5.type_b);
    time_delay_us(1000000);
    log_error("power: still running one second after the S5 request");
    return false;
}

static void triple_fault(void)
{
    /* An empty IDT makes the next exception unhandleable: the CPU shuts down, and the
     * chipset turns a shutdown into a reset. */
    struct __attribute__((packed)) {
        uint16_t limit;
        uint64_t base;
    } empty = {0, 0};
    __asm__ volatile("lidt %0; int3" : : "m"(empty) : "memory");
}

void power_reset(void)
{
    const struct acpi_platform *acpi = &acpi_platform;
    interrupts_disable();
    if (acpi->fadt_status == ACPI_OK && acpi->fadt.has_reset_register) {
        log_info("power: reset through the FADT reset register");
        if (gas_write8(&acpi->fadt.reset_register, acpi->fadt.reset_value))
            time_delay_us(100000);
    }
    /* The PCH/PIIX reset control register: a 0->1 edge of bit 2 resets (hard with bit 1). */
    outb(RESET_CF9, CF9_SYSTEM_RESET);
    time_delay_us(10);
    outb(RESET_CF9, CF9_SYSTEM_RESET | CF9_FULL_RESET);
    time_delay_us(100000);
    /* The 8042's output port pulse: wait (bounded) for its input buffer first. */
    for (int i = 0; i < 100000 && (inb(KBC_STATUS) & KBC_STATUS_INPUT_FULL); i++)
        cpu_relax();
    outb(KBC_STATUS, KBC_PULSE_RESET);
    time_delay_us(100000);
    log_error("power: every reset method failed; forcing a triple fault");
    triple_fault();
    for (;;)
        __asm__ volatile("hlt");
}
