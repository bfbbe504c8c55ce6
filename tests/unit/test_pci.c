// sources: drivers/pci.c drivers/virtio.c
/* PCI scan, BAR sizing and capability walks (drivers/pci.c) and the virtio capability
 * check (drivers/virtio.c) over a fake configuration space, with hostile devices. */
#include <check.h>
#include <stdint.h>
#include <string.h>

#include "drivers/pci.h"
#include "drivers/virtio.h"

#define FAKE_MAX 8

struct fake_function {
    struct pci_address address;
    uint8_t config[256];
    uint64_t bar_size[6]; /* 0: the BAR reads back 0 when sized */
};

static struct fake_function fakes[FAKE_MAX];
static size_t fake_count;
static unsigned config_reads;

static struct fake_function *fake_at(struct pci_address a)
{
    for (size_t i = 0; i < fake_count; i++)
        if (fakes[i].address.bus == a.bus && fakes[i].address.slot == a.slot &&
            fakes[i].address.function == a.function)
            return &fakes[i];
    return NULL;
}

static uint32_t fake_read32(struct pci_address a, uint8_t offset)
{
    config_reads++;
    struct fake_function *f = fake_at(a);
    if (!f)
        return 0xFFFFFFFFu;
    uint32_t v;
    memcpy(&v, &f->config[offset & 0xFC], 4);
    return v;
}

static void fake_write32(struct pci_address a, uint8_t offset, uint32_t value)
{
    struct fake_function *f = fake_at(a);
    if (!f)
        return;
    offset &= 0xFC;
    if (offset >= PCI_BAR0 && offset < PCI_BAR0 + 24 && value == 0xFFFFFFFFu) {
        unsigned bar = (offset - PCI_BAR0) / 4u;
        uint32_t old;
        memcpy(&old, &f->config[offset], 4);
        uint64_t size = f->bar_size[bar];
        uint32_t mask;
        if (size == UINT64_MAX) {
            mask = (uint32_t)(old & 0xF); /* the upper half of a 64-bit BAR: see below */
        } else if (old & 1) {
            mask = size ? (uint32_t)(~(size - 1) & 0xFFFFFFFCu) | 1u : 0;
        } else {
            mask = size ? ((uint32_t)~(size - 1) & 0xFFFFFFF0u) | (old & 0xF) : 0;
        }
        /* The upper half of a 64-bit BAR reports the high bits of the size mask. */
        if (bar > 0 && f->bar_size[bar] == UINT64_MAX)
            mask = (uint32_t)(~(f->bar_size[bar - 1] - 1) >> 32);
        memcpy(&f->config[offset], &mask, 4);
        return;
    }
    memcpy(&f->config[offset], &value, 4);
}

static const struct pci_config_ops fake_ops = {fake_read32, fake_write32};

static void put16(struct fake_function *f, uint8_t at, uint16_t v)
{
    memcpy(&f->config[at], &v, 2);
}

static void put32(struct fake_function *f, uint8_t at, uint32_t v)
{
    memcpy(&f->config[at], &v, 4);
}

static struct fake_function *add(uint8_t bus, uint8_t slot, uint8_t function, uint16_t vendor,
                                 uint16_t device, uint8_t header_type)
{
    struct fake_function *f = &fakes[fake_count++];
    memset(f, 0, sizeof(*f));
    f->address = (struct pci_address){bus, slot, function};
    put16(f, 0, vendor);
    put16(f, 2, device);
    f->config[PCI_HEADER_TYPE] = header_type;
    return f;
}

static void setup(void)
{
    fake_count = 0;
    config_reads = 0;
    pci_config_ops = &fake_ops;
}

START_TEST(scan_finds_bus0_and_behind_bridges_without_loops)
{
    add(0, 0, 0, 0x8086, 0x1237, 0x00);
    struct fake_function *bridge = add(0, 3, 0, 0x1B36, 0x0001, 0x01);
    bridge->config[PCI_SECONDARY_BUS] = 1;
    add(0, 5, 0, 0x1AF4, 0x1041, 0x80); /* multifunction */
    add(0, 5, 2, 0x1AF4, 0x1042, 0x00);
    add(1, 0, 0, 0x8086, 0x10D3, 0x00);
    /* a hostile bridge behind the first names bus 0 and bus 1 again */
    struct fake_function *loop = add(1, 1, 0, 0x1B36, 0x0001, 0x01);
    loop->config[PCI_SECONDARY_BUS] = 1;
    struct pci_device found[PCI_MAX_DEVICES];
    size_t n = pci_scan(found, PCI_MAX_DEVICES);
    ck_assert_uint_eq(n, 6);
    ck_assert_uint_eq(found[4].address.bus, 1);
    ck_assert_uint_eq(found[4].device, 0x10D3);
    ck_assert_uint_eq(found[3].address.function, 2);
    /* a short table: filled, never overrun */
    ck_assert_uint_eq(pci_scan(found, 2), 2);
}
END_TEST

START_TEST(bars_are_sized)
{
    struct fake_function *f = add(0, 1, 0, 0x1AF4, 0x1041, 0);
    put32(f, PCI_BAR0, 0xC041);              /* I/O, 32 bytes */
    f->bar_size[0] = 32;
    put32(f, PCI_BAR0 + 4, 0xFEBF1000);      /* 32-bit memory, 4 KiB */
    f->bar_size[1] = 4096;
    put32(f, PCI_BAR0 + 16, 0xFE00000C);     /* 64-bit prefetchable, 16 KiB */
    put32(f, PCI_BAR0 + 20, 0x00000001);     /* ... at 0x1FE000000 */
    f->bar_size[4] = 16384;
    f->bar_size[5] = UINT64_MAX;
    put16(f, PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_IO);
    struct pci_device d = {.address = f->address, .header_type = 0};
    pci_bars_probe(&d);
    ck_assert(d.bars[0].io);
    ck_assert_uint_eq(d.bars[0].base, 0xC040);
    ck_assert_uint_eq(d.bars[0].size, 32);
    ck_assert_uint_eq(d.bars[1].base, 0xFEBF1000);
    ck_assert_uint_eq(d.bars[1].size, 4096);
    ck_assert_uint_eq(d.bars[2].base, 0);
    ck_assert(d.bars[4].is64 && d.bars[4].prefetchable);
    ck_assert_uint_eq(d.bars[4].base, 0x1FE000000ull);
    ck_assert_uint_eq(d.bars[4].size, 16384);
    ck_assert_uint_eq(d.bars[5].base, 0); /* the upper half is no BAR of its own */
    /* BARs and the command register are restored */
    uint32_t v;
    memcpy(&v, &f->config[PCI_BAR0 + 4], 4);
    ck_assert_uint_eq(v, 0xFEBF1000);
    memcpy(&v, &f->config[PCI_BAR0 + 20], 4);
    ck_assert_uint_eq(v, 1);
    ck_assert_uint_eq(f->config[PCI_COMMAND] & 3, 3);
}
END_TEST

START_TEST(hostile_bars_are_refused)
{
    struct fake_function *f = add(0, 1, 0, 0x1AF4, 0x1041, 0);
    put32(f, PCI_BAR0, 0xFEBF0800);          /* not aligned to its 4 KiB size */
    f->bar_size[0] = 4096;
    put32(f, PCI_BAR0 + 4, 0xFFFFF000);      /* 32-bit, 8 KiB: would run past 4 GiB */
    f->bar_size[1] = 8192;
    put32(f, PCI_BAR0 + 8, 0xFE000002);      /* reserved memory type 01b */
    f->bar_size[2] = 4096;
    put32(f, PCI_BAR0 + 12, 0x00000000);     /* base 0: unassigned */
    f->bar_size[3] = 4096;
    put32(f, PCI_BAR0 + 20, 0xFE000004);     /* 64-bit in the last slot */
    f->bar_size[5] = 4096;
    struct pci_device d = {.address = f->address};
    pci_bars_probe(&d);
    for (int i = 0; i < PCI_BAR_COUNT; i++)
        ck_assert_uint_eq(d.bars[i].base, 0);
    /* a type 1 header has no BARs sized here */
    struct fake_function *b = add(0, 2, 0, 0x1B36, 1, 1);
    put32(b, PCI_BAR0, 0xFEB00000);
    b->bar_size[0] = 4096;
    struct pci_device bridge = {.address = b->address, .header_type = 1};
    pci_bars_probe(&bridge);
    ck_assert_uint_eq(bridge.bars[0].base, 0);
}
END_TEST

static struct fake_function *with_capabilities(void)
{
    struct fake_function *f = add(0, 4, 0, 0x1AF4, 0x1041, 0);
    put16(f, PCI_STATUS, PCI_STATUS_CAPABILITIES);
    f->config[PCI_CAPABILITY_LIST] = 0x43; /* low bits reserved: 0x40 */
    f->config[0x40] = 0x11;                /* MSI-X */
    f->config[0x41] = 0x50;
    f->config[0x50] = PCI_CAPABILITY_VENDOR;
    f->config[0x51] = 0x70;
    f->config[0x70] = PCI_CAPABILITY_VENDOR;
    f->config[0x71] = 0x00;
    return f;
}

START_TEST(capabilities_are_walked)
{
    struct fake_function *f = with_capabilities();
    struct pci_device d = {.address = f->address};
    ck_assert_uint_eq(pci_capability_find(&d, 0x11, 0), 0x40);
    uint8_t first = pci_capability_find(&d, PCI_CAPABILITY_VENDOR, 0);
    ck_assert_uint_eq(first, 0x50);
    ck_assert_uint_eq(pci_capability_find(&d, PCI_CAPABILITY_VENDOR, first), 0x70);
    ck_assert_uint_eq(pci_capability_find(&d, PCI_CAPABILITY_VENDOR, 0x70), 0);
    ck_assert_uint_eq(pci_capability_find(&d, 0x05, 0), 0);
    /* no capability list bit: nothing, whatever the pointer says */
    put16(f, PCI_STATUS, 0);
    ck_assert_uint_eq(pci_capability_find(&d, 0x11, 0), 0);
}
END_TEST

START_TEST(hostile_capability_lists_end)
{
    struct fake_function *f = with_capabilities();
    struct pci_device d = {.address = f->address};
    f->config[0x71] = 0x50; /* a loop back to the second entry */
    config_reads = 0;
    ck_assert_uint_eq(pci_capability_find(&d, 0x05, 0), 0);
    ck_assert_uint_lt(config_reads, 200); /* bounded, not forever */
    f->config[0x71] = 0x3C; /* into the standard header */
    ck_assert_uint_eq(pci_capability_find(&d, 0x05, 0), 0);
    f->config[0x71] = 0xFF; /* the last dword: its next byte would be past the space */
    f->config[0xFC] = 0x05;
    ck_assert_uint_eq(pci_capability_find(&d, 0x05, 0), 0xFC);
}
END_TEST

START_TEST(virtio_capability_bounds)
{
    struct pci_device d;
    memset(&d, 0, sizeof(d));
    d.bars[4] = (struct pci_bar){.base = 0xFE000000, .size = 0x4000, .is64 = true};
    d.bars[0] = (struct pci_bar){.base = 0xC040, .size = 32, .io = true};
    struct virtio_pci_capability ok = {.type = 1, .bar = 4, .offset = 0x0, .length = 0x1000};
    ck_assert(virtio_pci_capability_check(&d, &ok, 0x38));
    struct virtio_pci_capability end = {.type = 1, .bar = 4, .offset = 0x3000, .length = 0x1000};
    ck_assert(virtio_pci_capability_check(&d, &end, 0x38));
    struct virtio_pci_capability past = {.type = 1, .bar = 4, .offset = 0x3001, .length = 0x1000};
    ck_assert(!virtio_pci_capability_check(&d, &past, 0x38));
    struct virtio_pci_capability wrap = {.type = 1, .bar = 4, .offset = 0xFFFFFFFF, .length = 2};
    ck_assert(!virtio_pci_capability_check(&d, &wrap, 1));
    struct virtio_pci_capability short_common = {.type = 1, .bar = 4, .length = 0x10};
    ck_assert(!virtio_pci_capability_check(&d, &short_common, 0x38));
    struct virtio_pci_capability bad_bar = {.type = 1, .bar = 6, .length = 0x100};
    ck_assert(!virtio_pci_capability_check(&d, &bad_bar, 1));
    struct virtio_pci_capability io_bar = {.type = 1, .bar = 0, .length = 0x10};
    ck_assert(!virtio_pci_capability_check(&d, &io_bar, 1));
    struct virtio_pci_capability absent = {.type = 1, .bar = 2, .length = 0x10};
    ck_assert(!virtio_pci_capability_check(&d, &absent, 1));
}
END_TEST

Suite *pci_suite(void)
{
    Suite *s = suite_create("pci");
    TCase *tc = tcase_create("pci");
    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_add_test(tc, scan_finds_bus0_and_behind_bridges_without_loops);
    tcase_add_test(tc, bars_are_sized);
    tcase_add_test(tc, hostile_bars_are_refused);
    tcase_add_test(tc, capabilities_are_walked);
    tcase_add_test(tc, hostile_capability_lists_end);
    tcase_add_test(tc, virtio_capability_bounds);
    suite_add_tcase(s, tc);
    return s;
}
