// sources: root/mmio.c root/test_device.c libc-glue/decoder.c
/*
 * libFuzzer target for mmio_emulate. Input: byte 0 the mode (and bit 7: a GVA is reported),
 * bytes 1-2 the intercepted GPA as an offset from 2 KiB below the window, bytes 3-18 one
 * byte per register choosing its value (near the window, near RAM or a fixed pattern),
 * byte 19 RFLAGS' arithmetic flags and DF, the rest the instruction bytes. Whatever the
 * input, the emulator must not crash (ASan/UBSan watch), must touch the device only inside
 * its window with 1/2/4/8-byte accesses, guest RAM only through the callbacks, must bound
 * its work, and must report a consistent outcome; a violation aborts with the reason.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "root/mmio.h"
#include "root/test_device.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REQUIRE(cond)                                                                     \
    do {                                                                                  \
        if (!(cond)) {                                                                    \
            fprintf(stderr, "fuzz_mmio: invariant failed: %s (line %d)\n", #cond, __LINE__); \
            abort();                                                                      \
        }                                                                                 \
    } while (0)

#define RAM_LINEAR 0x00200000u
#define RAM_SIZE 4096u
#define HEADER 20u
/* Two operands per iteration, each iteration at least one byte of the 4 KiB page. */
#define ACCESS_BOUND (4 * MMIO_REP_LIMIT + 8)

struct fuzz_vp {
    uint64_t gpr[16];
    uint8_t ram[RAM_SIZE];
    unsigned accesses;
};

static struct test_device device_state;
static struct fuzz_vp vp;

static bool valid_width(unsigned size)
{
    return size == 1 || size == 2 || size == 4 || size == 8;
}

static bool checked_device_read(void *dev, uint64_t offset, unsigned size, uint64_t *value)
{
    REQUIRE(dev == &device_state);
    REQUIRE(valid_width(size));
    REQUIRE(offset < TEST_DEVICE_SIZE && offset + size <= TEST_DEVICE_SIZE);
    REQUIRE(++vp.accesses <= ACCESS_BOUND);
    return test_device_read(dev, offset, size, value);
}

static bool checked_device_write(void *dev, uint64_t offset, unsigned size, uint64_t value)
{
    REQUIRE(dev == &device_state);
    REQUIRE(valid_width(size));
    REQUIRE(offset < TEST_DEVICE_SIZE && offset + size <= TEST_DEVICE_SIZE);
    REQUIRE(++vp.accesses <= ACCESS_BOUND);
    return test_device_write(dev, offset, size, value);
}

static bool fuzz_read_gpr(void *ctx, unsigned number, uint64_t *value)
{
    REQUIRE(ctx == &vp && number < 16);
    *value = vp.gpr[number];
    return true;
}

static bool fuzz_write_gpr(void *ctx, unsigned number, uint64_t value)
{
    REQUIRE(ctx == &vp && number < 16);
    vp.gpr[number] = value;
    return true;
}

static bool ram_range(uint64_t linear, size_t len)
{
    REQUIRE(len >= 1 && len <= 8);
    REQUIRE(++vp.accesses <= ACCESS_BOUND);
    return linear >= RAM_LINEAR && linear - RAM_LINEAR <= RAM_SIZE &&
           RAM_SIZE - (linear - RAM_LINEAR) >= len;
}

static bool fuzz_read_memory(void *ctx, uint64_t linear, void *buf, size_t len)
{
    REQUIRE(ctx == &vp);
    if (!ram_range(linear, len))
        return false;
    memcpy(buf, &vp.ram[linear - RAM_LINEAR], len);
    return true;
}

static bool fuzz_write_memory(void *ctx, uint64_t linear, const void *buf, size_t len)
{
    REQUIRE(ctx == &vp);
    if (!ram_range(linear, len))
        return false;
    memcpy(&vp.ram[linear - RAM_LINEAR], buf, len);
    return true;
}

static bool fuzz_segment_base(void *ctx, enum decoder_segment segment, uint64_t *base)
{
    REQUIRE(ctx == &vp && segment < DECODER_SEGMENT_NONE);
    *base = segment == DECODER_SEGMENT_GS ? TEST_DEVICE_BASE - 0x1000 : 0;
    return true;
}

static const struct mmio_vcpu_ops ops = {
    .read_gpr = fuzz_read_gpr,
    .write_gpr = fuzz_write_gpr,
    .read_memory = fuzz_read_memory,
    .write_memory = fuzz_write_memory,
    .segment_base = fuzz_segment_base,
};

/* A register value from one selector byte: often a pointer into or around the window or
 * RAM (so that accesses match), sometimes a small count, sometimes anything. */
static uint64_t register_value(uint8_t selector)
{
    switch (selector >> 6) {
    case 0: return TEST_DEVICE_BASE + (uint64_t)(selector & 0x3f) * 0x41 - 0x20;
    case 1: return RAM_LINEAR + (uint64_t)(selector & 0x3f) * 0x41;
    case 2: return selector & 0x3f;
    default: return 0x9e3779b97f4a7c15ull * selector;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < HEADER + 1)
        return 0;
    static const enum decoder_mode modes[] = {DECODER_MODE_16, DECODER_MODE_32,
                                              DECODER_MODE_64};
    enum decoder_mode mode = modes[(data[0] & 0x7f) % 3];
    uint64_t gpa = TEST_DEVICE_BASE - 0x800 + (uint64_t)(data[1] | data[2] << 8) % 0x2000;
    test_device_init(&device_state);
    memset(&vp, 0, sizeof(vp));
    for (unsigned i = 0; i < 16; i++)
        vp.gpr[i] = register_value(data[3 + i]);
    uint64_t rflags = 0x2 | (data[19] & 0xd5) | (data[19] & 0x2 ? 0x400 : 0) |
                      (data[19] & 0x8 ? 0x800 : 0);

    struct mmio_device device = test_device_mmio(&device_state);
    device.read = checked_device_read;
    device.write = checked_device_write;
    struct mmio_access access = {
        .bytes = data + HEADER,
        .count = size - HEADER > 16 ? 16 : size - HEADER,
        .mode = mode,
        .rip = 0x1000,
        .rflags = rflags,
        .gpa = gpa,
        .gva_valid = (data[0] & 0x80) != 0,
        .gva = gpa,
    };
    struct mmio_outcome outcome;
    enum mmio_result r = mmio_emulate(&access, &device, &ops, &vp, &outcome);
    REQUIRE(r == MMIO_DONE || r == MMIO_UNSUPPORTED || r == MMIO_BAD_ACCESS);
    REQUIRE(outcome.length <= 15 && outcome.length <= access.count);
    if (r == MMIO_DONE) {
        REQUIRE(outcome.length != 0);
        REQUIRE(outcome.rip_advance == 0 || outcome.rip_advance == outcome.length);
        REQUIRE(outcome.reason == NULL);
        /* Only the arithmetic flags ever change. */
        REQUIRE((outcome.rflags & ~(uint64_t)0x8d5) == (rflags & ~(uint64_t)0x8d5));
    } else {
        REQUIRE(outcome.reason != NULL && outcome.reason[0] != '\0');
        REQUIRE(outcome.rip_advance == 0);
        REQUIRE(outcome.rflags == rflags);
    }
    return 0;
}
