/*
 * The RAM-like test device: an array, accessed little-endian like the guest's own RAM.
 */
#include "root/test_device.h"

#include <string.h>

void test_device_init(struct test_device *device)
{
    memset(device->bytes, 0, sizeof(device->bytes));
}

static bool test_device_range_valid(uint64_t offset, unsigned size)
{
    bool width = size == 1 || size == 2 || size == 4 || size == 8;
    return width && offset <= TEST_DEVICE_SIZE && TEST_DEVICE_SIZE - offset >= size;
}

bool test_device_read(void *dev, uint64_t offset, unsigned size, uint64_t *value)
{
    struct test_device *device = dev;
    if (device == NULL || value == NULL || !test_device_range_valid(offset, size))
        return false;
    *value = 0;
    memcpy(value, &device->bytes[offset], size);
    return true;
}

bool test_device_write(void *dev, uint64_t offset, unsigned size, uint64_t value)
{
    struct test_device *device = dev;
    if (device == NULL || !test_device_range_valid(offset, size))
        return false;
    memcpy(&device->bytes[offset], &value, size);
    return true;
}

struct mmio_device test_device_mmio(struct test_device *device)
{
    return (struct mmio_device){
        .base = TEST_DEVICE_BASE,
        .size = TEST_DEVICE_SIZE,
        .read = test_device_read,
        .write = test_device_write,
        .dev = device,
    };
}
