/*
 * mmiotest: exercises instruction forms against the test device, a 4 KiB window at GPA
 * 0xFEB00000 outside RAM that hvfw's root worker emulates as RAM through instruction
 * decoding (images/guests/README.md). Each case of cases.S runs once with its operand in
 * the window and once with it in a RAM buffer, from the same register and memory state;
 * registers, defined flags, the 256-byte slot and a RAM scratch buffer must then agree.
 *
 * `mmio=ADDRESS` moves the window (direct QEMU runs point it at ordinary RAM, where every
 * case must pass: that checks the test itself).
 */
#include "images/guests/mmiotest/mmiotest.h"

#include <string.h>

#include "images/guests/lib/guest.h"

const char guest_name[] = "mmiotest";

#define DEVICE_DEFAULT_BASE 0xFEB00000u
#define WINDOW_SIZE 4096u
#define SLOT_SIZE 256u
#define SLOTS (WINDOW_SIZE / SLOT_SIZE)
/* A register within this distance of the slot base is compared as an offset from it. */
#define POINTER_REACH 0x200u
#define DIFFERENCES_SHOWN 4

struct mmio_case {
    const char *name;
    void (*op)(void);
    uint32_t flags_mask;
    uint8_t *address_field; /* moffs templates only */
    uint32_t moffs_offset;
};

#define MMIO_CASE_ENTRY(name, flags) {#name, case_##name, flags, NULL, 0},
#define MMIO_MOFFS_ENTRY(name, offset) \
    {#name, case_##name, MMIO_FLAGS_NONE, case_##name##_address, offset},
static const struct mmio_case cases[] = {
    MMIO_CASES(MMIO_CASE_ENTRY)
    MMIO_MOFFS_CASES(MMIO_MOFFS_ENTRY)
};
#define CASE_COUNT (sizeof(cases) / sizeof(cases[0]))

/* The RAM twin of the window and the scratch buffer both runs share. */
static uint8_t ram_window[WINDOW_SIZE] __attribute__((aligned(4096)));
static uint8_t scratch[SLOT_SIZE] __attribute__((aligned(16)));

/* Fixed data values in the registers a case does not set; EBX and EBP are pointers. */
static const struct mmio_registers registers_in = {
    .eax = 0x8a9b2c3du, .ecx = 0x11223344u, .edx = 0x5566f788u,
    .esi = 0x0a0b0c0du, .edi = 0x10203040u, .eflags = 0x2u,
};

struct mmio_outcome {
    struct mmio_registers registers;
    uint8_t slot[SLOT_SIZE];
    uint8_t scratch[SLOT_SIZE];
};

static uint8_t slot_pattern(uint32_t case_index, uint32_t i)
{
    return (uint8_t)(i * 0x3bu + case_index * 0x17u + 0x85u);
}

/* Equal to the slot below 0x20 (repe_cmpsb stops there), different above. */
static uint8_t scratch_pattern(uint32_t case_index, uint32_t i)
{
    uint8_t same = slot_pattern(case_index, i);
    return i < 0x20 ? same : (uint8_t)~same;
}

/* Window and RAM slot alike are written and read with aligned 32-bit MOVs only, the
 * simplest form the device has to handle. */
static void slot_fill(uint32_t slot_base, uint32_t case_index)
{
    for (uint32_t i = 0; i < SLOT_SIZE; i += 4) {
        uint32_t word = (uint32_t)slot_pattern(case_index, i) |
                        (uint32_t)slot_pattern(case_index, i + 1) << 8 |
                        (uint32_t)slot_pattern(case_index, i + 2) << 16 |
                        (uint32_t)slot_pattern(case_index, i + 3) << 24;
        *(volatile uint32_t *)(uintptr_t)(slot_base + i) = word;
    }
}

static void slot_read(uint32_t slot_base, uint8_t *out)
{
    for (uint32_t i = 0; i < SLOT_SIZE; i += 4) {
        uint32_t word = *(volatile uint32_t *)(uintptr_t)(slot_base + i);
        memcpy(out + i, &word, 4);
    }
}

static void case_run_once(const struct mmio_case *c, uint32_t case_index, uint32_t slot_base,
                          struct mmio_outcome *out)
{
    slot_fill(slot_base, case_index);
    for (uint32_t i = 0; i < SLOT_SIZE; i++)
        scratch[i] = scratch_pattern(case_index, i);
    if (c->address_field) {
        uint32_t address = slot_base + c->moffs_offset;
        memcpy(c->address_field, &address, 4);
    }
    out->registers = registers_in;
    out->registers.ebx = slot_base;
    out->registers.ebp = (uint32_t)(uintptr_t)scratch;
    mmio_case_run(&out->registers, c->op);
    slot_read(slot_base, out->slot);
    memcpy(out->scratch, scratch, SLOT_SIZE);
}

struct normalized {
    bool in_slot;
    uint32_t value;
};

static struct normalized normalize(uint32_t value, uint32_t slot_base)
{
    uint32_t offset = value - slot_base;
    if (offset < POINTER_REACH || offset > 0u - POINTER_REACH)
        return (struct normalized){true, offset};
    return (struct normalized){false, value};
}

static const char *const register_names[] = {"eax", "ebx", "ecx", "edx", "esi", "edi", "ebp"};

/* Prints what differs; returns the number of differences. */
static uint32_t outcome_compare(const struct mmio_case *c, const struct mmio_outcome *device,
                                uint32_t device_base, const struct mmio_outcome *ram,
                                uint32_t ram_base)
{
    uint32_t differences = 0;
    const uint32_t *dev_regs = &device->registers.eax, *ram_regs = &ram->registers.eax;
    for (uint32_t r = 0; r < 7; r++) {
        struct normalized d = normalize(dev_regs[r], device_base);
        struct normalized m = normalize(ram_regs[r], ram_base);
        if (d.in_slot == m.in_slot && d.value == m.value)
            continue;
        guest_printf("  %s: %s device 0x%08x, RAM 0x%08x%s", c->name, register_names[r],
                     dev_regs[r], ram_regs[r], d.in_slot || m.in_slot ? " (pointer)" : "");
        differences++;
    }
    uint32_t flags_device = device->registers.eflags & c->flags_mask;
    uint32_t flags_ram = ram->registers.eflags & c->flags_mask;
    if (flags_device != flags_ram) {
        guest_printf("  %s: eflags device 0x%03x, RAM 0x%03x (compared bits 0x%03x)", c->name,
                     flags_device, flags_ram, c->flags_mask);
        differences++;
    }
    for (uint32_t i = 0; i < SLOT_SIZE; i++) {
        if (device->slot[i] == ram->slot[i])
            continue;
        if (differences < DIFFERENCES_SHOWN)
            guest_printf("  %s: slot byte 0x%02x device 0x%02x, RAM 0x%02x", c->name, i,
                         device->slot[i], ram->slot[i]);
        differences++;
    }
    for (uint32_t i = 0; i < SLOT_SIZE; i++) {
        if (device->scratch[i] == ram->scratch[i])
            continue;
        if (differences < DIFFERENCES_SHOWN)
            guest_printf("  %s: scratch byte 0x%02x device run 0x%02x, RAM run 0x%02x",
                         c->name, i, device->scratch[i], ram->scratch[i]);
        differences++;
    }
    return differences;
}

/* Every case relies on the window keeping aligned 32-bit stores; check that first so a
 * missing device gives one clear message instead of a hundred failed cases. */
static bool window_keeps_words(uint32_t base)
{
    static const uint32_t words[] = {0x01234567u, 0x89abcdefu, 0u, 0xffffffffu};
    for (uint32_t i = 0; i < 4; i++)
        *(volatile uint32_t *)(uintptr_t)(base + WINDOW_SIZE - 16 + 4 * i) = words[i];
    for (uint32_t i = 0; i < 4; i++) {
        uint32_t address = base + WINDOW_SIZE - 16 + 4 * i;
        uint32_t found = *(volatile uint32_t *)(uintptr_t)address;
        if (found != words[i]) {
            guest_printf("FAIL the window at 0x%08x does not keep what is written: "
                         "wrote 0x%08x at 0x%08x, read 0x%08x", base, words[i], address, found);
            return false;
        }
    }
    return true;
}

static bool window_base_valid(const struct guest_boot *boot, uint64_t base)
{
    if (base & (WINDOW_SIZE - 1) || base > 0x100000000ull - WINDOW_SIZE) {
        guest_printf("FAIL mmio=0x%llx is not a 4 KiB-aligned window below 4 GiB",
                     (unsigned long long)base);
        return false;
    }
    if (base < boot->image_end && base + WINDOW_SIZE > boot->image_start) {
        guest_printf("FAIL mmio=0x%llx overlaps the guest image [0x%x-0x%x)",
                     (unsigned long long)base, boot->image_start, boot->image_end);
        return false;
    }
    return true;
}

int guest_main(const struct guest_boot *boot)
{
    uint64_t base = guest_cmdline_number(boot, "mmio", DEVICE_DEFAULT_BASE);
    if (!window_base_valid(boot, base))
        return GUEST_EXIT_FAIL;
    uint32_t device = (uint32_t)base;
    guest_printf("%u cases against the window at 0x%08x (%s), compared with RAM at 0x%08x",
                 (unsigned)CASE_COUNT, device,
                 device == DEVICE_DEFAULT_BASE ? "test device" : "from the command line",
                 (uint32_t)(uintptr_t)ram_window);
    if (!window_keeps_words(device))
        return GUEST_EXIT_FAIL;

    static struct mmio_outcome on_device, on_ram;
    uint32_t failed = 0;
    for (uint32_t i = 0; i < CASE_COUNT; i++) {
        const struct mmio_case *c = &cases[i];
        uint32_t offset = (i % SLOTS) * SLOT_SIZE;
        uint32_t device_slot = device + offset;
        uint32_t ram_slot = (uint32_t)(uintptr_t)ram_window + offset;
        case_run_once(c, i, device_slot, &on_device);
        case_run_once(c, i, ram_slot, &on_ram);
        if (outcome_compare(c, &on_device, device_slot, &on_ram, ram_slot)) {
            guest_printf("case %s: FAILED", c->name);
            failed++;
        }
    }
    guest_printf("%u of %u cases passed", (unsigned)CASE_COUNT - failed, (unsigned)CASE_COUNT);
    if (failed) {
        guest_printf("FAIL %u cases differ between the device and RAM", failed);
        return GUEST_EXIT_FAIL;
    }
    guest_printf("PASS %u cases", (unsigned)CASE_COUNT);
    return GUEST_EXIT_PASS;
}
