/*
 * The test device of the child platform contract (images/guests/README.md): a 4 KiB window
 * at GPA 0xFEB00000, outside RAM, that behaves like RAM. A read returns, byte for byte, what
 * was last written; it holds zeros when the child starts. One instance per child; the
 * worker hands it to mmio_emulate (root/mmio.h) through test_device_mmio.
 */
#ifndef HVFW_ROOT_TEST_DEVICE_H
#define HVFW_ROOT_TEST_DEVICE_H

#include <stdbool.h>
#include <stdint.h>

#include "root/mmio.h"

#define TEST_DEVICE_BASE 0xFEB00000ull
#define TEST_DEVICE_SIZE 4096u

struct test_device {
    uint8_t bytes[TEST_DEVICE_SIZE];
};

/* Zeros the device, as at child start. */
void test_device_init(struct test_device *device);

/* mmio_device callbacks (`dev` is a struct test_device): 1, 2, 4 or 8 bytes at any offset
 * with offset + size <= TEST_DEVICE_SIZE, little-endian; false for anything else. */
bool test_device_read(void *dev, uint64_t offset, unsigned size, uint64_t *value);
bool test_device_write(void *dev, uint64_t offset, unsigned size, uint64_t value);

/* The device as mmio_emulate sees it, at TEST_DEVICE_BASE. */
struct mmio_device test_device_mmio(struct test_device *device);

#endif
