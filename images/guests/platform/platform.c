/*
 * platform: garbage at the child platform's emulated devices (root/worker.h), then checks
 * that each still behaves. Every port of COM1, the ACPI PM blocks, PCI configuration
 * mechanism #1, the CMOS RTC and a few absent legacy devices gets random reads and writes
 * of random widths; the IOAPIC window gets random accesses of every width at random
 * offsets (a narrow one at a register is #GP, which the guest catches and counts). Only
 * the writes that power off or reset are left out. Afterwards: the UART is put back into
 * shape by the guest itself and must pass Linux's probes (scratch, IER, loopback, FIFO
 * identification, THRE interrupt identification); the IOAPIC must report version 0x11
 * with 24 entries and keep an entry it is given; PCI's CONFIG_ADDRESS must read back and
 * the bus stay empty; the PM timer must run forward; the RTC must say its time is valid
 * and never stay in an update; an absent port must read all ones. PASS, exit code 0.
 *
 * Command line (direct QEMU runs only): `rounds=N` garbage accesses (default 3000),
 * `seed=N` for the generator.
 */
#include "images/guests/lib/guest.h"
#include "images/guests/lib/io.h"
#include "images/guests/lib/probe.h"
#include "images/guests/lib/trap.h"

const char guest_name[] = "platform";

#define IOAPIC_BASE 0xFEC00000u
#define COM1 0x3F8u
#define PM_CONTROL 0x604u
#define PM_TIMER 0x608u
#define RESET_PORT 0xCF9u
#define RESET_VALUE 0x06u
#define SLP_EN (1u << 13)

static uint32_t rng_state = 0x2545F491u;

/* xorshift32 (Marsaglia 2003): enough spread for garbage. */
static uint32_t rng(void)
{
    uint32_t x = rng_state;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return rng_state = x;
}

/* ---- armed accesses: a fault is caught and counted (probe_faults), the guest goes on -- */

static uint32_t mmio_read(uint32_t address, unsigned size)
{
    uint32_t value = 0;
    if (size == 1)
        __asm__ volatile(ARM "movb (%%ebx), %%al" DISARM
                         : "+a"(value), ARM_OPERANDS : "b"(address) : "memory");
    else if (size == 2)
        __asm__ volatile(ARM "movw (%%ebx), %%ax" DISARM
                         : "+a"(value), ARM_OPERANDS : "b"(address) : "memory");
    else
        __asm__ volatile(ARM "movl (%%ebx), %%eax" DISARM
                         : "+a"(value), ARM_OPERANDS : "b"(address) : "memory");
    return value;
}

static void mmio_write(uint32_t address, unsigned size, uint32_t value)
{
    if (size == 1)
        __asm__ volatile(ARM "movb %%al, (%%ebx)" DISARM
                         : ARM_OPERANDS : "b"(address), "a"(value) : "memory");
    else if (size == 2)
        __asm__ volatile(ARM "movw %%ax, (%%ebx)" DISARM
                         : ARM_OPERANDS : "b"(address), "a"(value) : "memory");
    else
        __asm__ volatile(ARM "movl %%eax, (%%ebx)" DISARM
                         : ARM_OPERANDS : "b"(address), "a"(value) : "memory");
}

static uint32_t port_in(uint16_t port, unsigned size)
{
    uint32_t value = 0;
    if (size == 1)
        __asm__ volatile("inb %%dx, %%al" : "+a"(value) : "d"(port));
    else if (size == 2)
        __asm__ volatile("inw %%dx, %%ax" : "+a"(value) : "d"(port));
    else
        __asm__ volatile("inl %%dx, %%eax" : "+a"(value) : "d"(port));
    return value;
}

static void port_out(uint16_t port, unsigned size, uint32_t value)
{
    if (size == 1)
        __asm__ volatile("outb %%al, %%dx" : : "d"(port), "a"(value));
    else if (size == 2)
        __asm__ volatile("outw %%ax, %%dx" : : "d"(port), "a"(value));
    else
        __asm__ volatile("outl %%eax, %%dx" : : "d"(port), "a"(value));
}

/* ---- garbage ----------------------------------------------------------------------------- */

static const uint16_t garbage_ports[] = {
    0x3F9, 0x3FA, 0x3FB, 0x3FC, 0x3FD, 0x3FE, 0x3FF,   /* COM1 but THR (no junk printed) */
    0x600, 0x601, 0x602, 0x603, 0x604, 0x605, 0x606, 0x607, 0x608, 0x60A, /* ACPI PM */
    0xCF8, 0xCF9, 0xCFA, 0xCFB, 0xCFC, 0xCFD, 0xCFE, 0xCFF, /* PCI, reset register */
    0x70, 0x71,                                        /* CMOS RTC */
    0x20, 0x21, 0xA0, 0xA1, 0x40, 0x43, 0x61, 0x64, 0x80, 0x2F8, 0x2FD, /* absent */
};

/* True for the writes that would end the child: S5 and the reset value. */
static bool ends_the_child(uint16_t port, unsigned size, uint32_t value)
{
    for (unsigned i = 0; i < size; i++) {
        uint16_t p = (uint16_t)(port + i);
        uint32_t byte = (value >> (8 * i)) & 0xFF;
        if (p == RESET_PORT && size == 1 && byte == RESET_VALUE)
            return true;
    }
    return port == PM_CONTROL && size == 2 && (value & SLP_EN);
}

static void garbage(uint32_t rounds)
{
    static const unsigned sizes[3] = { 1, 2, 4 };
    for (uint32_t i = 0; i < rounds; i++) {
        uint32_t r = rng();
        unsigned size = sizes[r % 3];
        uint32_t value = rng();
        if ((r >> 8) % 4 == 0) {
            /* The IOAPIC: any offset in its page, any width (crossing the page is not
             * tried: that is another GPA). */
            uint32_t offset = rng() % (4096 - 4);
            if (offset < 0x20 && (r >> 12) % 2)
                offset &= 0x10; /* often the registers themselves */
            if ((r >> 16) % 2)
                mmio_write(IOAPIC_BASE + offset, size, value);
            else
                (void)mmio_read(IOAPIC_BASE + offset, size);
            continue;
        }
        uint16_t port = garbage_ports[rng() % (sizeof(garbage_ports) / sizeof(garbage_ports[0]))];
        if ((r >> 16) % 2 && !ends_the_child(port, size, value))
            port_out(port, size, value);
        else
            (void)port_in(port, size);
    }
}

/* ---- checks -------------------------------------------------------------------------------- */

static unsigned failures;

static void check(bool ok, const char *what, uint32_t got)
{
    if (!ok) {
        failures++;
        guest_printf("FAIL %s (read 0x%x)", what, got);
    }
}

/* The UART as the guest's own console wants it, then Linux's 8250 probes. */
static void check_uart(void)
{
    outb(COM1 + 3, 0x03); /* LCR: 8N1, DLAB off */
    outb(COM1 + 1, 0x00); /* IER */
    outb(COM1 + 2, 0x07); /* FCR: FIFOs on, both cleared */
    outb(COM1 + 4, 0x03); /* MCR: DTR, RTS */
    while (inb(COM1 + 5) & 0x01)
        (void)inb(COM1); /* drain what loopback garbage may have left */
    guest_printf("garbage done: %u faults caught", probe_faults);
    outb(COM1 + 7, 0xA5);
    check(inb(COM1 + 7) == 0xA5, "UART scratch", inb(COM1 + 7));
    outb(COM1 + 1, 0x0F);
    check(inb(COM1 + 1) == 0x0F, "UART IER", inb(COM1 + 1));
    outb(COM1 + 1, 0x00);
    outb(COM1 + 4, 0x1A); /* loopback, RTS, OUT2 */
    uint8_t msr = inb(COM1 + 6);
    check((msr & 0xF0) == 0x90, "UART loopback MSR", msr);
    outb(COM1, 0x5A);
    check(inb(COM1 + 5) & 0x01, "UART loopback data ready", inb(COM1 + 5));
    uint8_t rbr = inb(COM1);
    check(rbr == 0x5A, "UART loopback byte", rbr);
    outb(COM1 + 4, 0x03);
    uint8_t iir = inb(COM1 + 2);
    check(iir == 0xC1, "UART IIR (FIFO, none pending)", iir);
    outb(COM1 + 1, 0x02);
    iir = inb(COM1 + 2);
    check(iir == 0xC2, "UART IIR THR empty", iir);
    iir = inb(COM1 + 2);
    check(iir == 0xC1, "UART IIR cleared by the read", iir);
    outb(COM1 + 1, 0x00);
}

static uint32_t ioapic_register(uint32_t index)
{
    mmio_write(IOAPIC_BASE, 4, index);
    return mmio_read(IOAPIC_BASE + 0x10, 4);
}

static void check_ioapic(void)
{
    uint32_t faults_before = probe_faults;
    uint32_t version = ioapic_register(0x01);
    check(version == 0x00170011u, "IOAPIC version", version);
    mmio_write(IOAPIC_BASE, 4, 0x10 + 2 * 23);
    mmio_write(IOAPIC_BASE + 0x10, 4, 0x0001A0F3u); /* masked, level, active low, 0xF3 */
    uint32_t entry = ioapic_register(0x10 + 2 * 23);
    check(entry == 0x0001A0F3u, "IOAPIC entry 23", entry);
    uint32_t select = mmio_read(IOAPIC_BASE, 4);
    check(select == 0x10 + 2 * 23, "IOAPIC IOREGSEL", select);
    check(probe_faults == faults_before, "IOAPIC dword accesses without a fault",
          probe_faults);
    (void)mmio_read(IOAPIC_BASE + 0x10, 1);
    check(probe_faults == faults_before + 1, "IOAPIC byte read of IOWIN faults", probe_faults);
}

static void check_pci_pm_rtc(void)
{
    outl(0xCF8, 0x80001234u);
    uint32_t address = port_in(0xCF8, 4);
    check(address == 0x80001234u, "PCI CONFIG_ADDRESS", address);
    uint32_t data = port_in(0xCFC, 4);
    check(data == 0xFFFFFFFFu, "PCI empty bus", data);
    uint32_t control = port_in(PM_CONTROL, 2);
    check(control & 1, "PM1 control SCI_EN", control);
    uint32_t first = port_in(PM_TIMER, 4), last = first;
    for (int i = 0; i < 200; i++) {
        uint32_t now = port_in(PM_TIMER, 4);
        check(now - last < 0x80000000u, "PM timer monotonic", now);
        last = now;
    }
    check(last != first, "PM timer runs", last);
    outb(0x70, 0x0D);
    uint8_t d = inb(0x71);
    check(d & 0x80, "RTC register D valid", d);
    bool settled = false;
    for (int i = 0; i < 1000 && !settled; i++) {
        outb(0x70, 0x0A);
        settled = !(inb(0x71) & 0x80);
    }
    check(settled, "RTC update-in-progress clears", 0);
    uint8_t absent = inb(0x2FD);
    check(absent == 0xFF, "COM2 absent", absent);
}

int guest_main(const struct guest_boot *boot)
{
    trap_set_hook(probe_trap);
    uint64_t seed = guest_cmdline_number(boot, "seed", 0);
    if (seed)
        rng_state = (uint32_t)seed | 1;
    uint32_t rounds = (uint32_t)guest_cmdline_number(boot, "rounds", 3000);
    garbage(rounds);
    check_uart();
    check_ioapic();
    check_pci_pm_rtc();
    if (failures) {
        guest_printf("FAIL %u checks", failures);
        return GUEST_EXIT_FAIL;
    }
    guest_printf("PASS %u garbage accesses", rounds);
    return GUEST_EXIT_PASS;
}
