#include "root/console_buffer.h"

#include <string.h>

_Static_assert((CONSOLE_BUFFER_SIZE & (CONSOLE_BUFFER_SIZE - 1)) == 0,
               "the ring's size is a power of two");

void console_buffer_init(struct console_buffer *buffer)
{
    buffer->written = 0;
}

void console_buffer_write(struct console_buffer *buffer, const uint8_t *bytes, size_t length)
{
    if (length > CONSOLE_BUFFER_SIZE) { /* only the tail can be kept */
        buffer->written += length - CONSOLE_BUFFER_SIZE;
        bytes += length - CONSOLE_BUFFER_SIZE;
        length = CONSOLE_BUFFER_SIZE;
    }
    size_t at = (size_t)(buffer->written & (CONSOLE_BUFFER_SIZE - 1));
    size_t first = CONSOLE_BUFFER_SIZE - at < length ? CONSOLE_BUFFER_SIZE - at : length;
    memcpy(buffer->bytes + at, bytes, first);
    memcpy(buffer->bytes, bytes + first, length - first);
    buffer->written += length;
}

uint64_t console_buffer_oldest(const struct console_buffer *buffer)
{
    return buffer->written > CONSOLE_BUFFER_SIZE ? buffer->written - CONSOLE_BUFFER_SIZE : 0;
}

size_t console_buffer_read(const struct console_buffer *buffer, uint64_t *position,
                           uint8_t *out, size_t size, uint64_t *lost)
{
    uint64_t oldest = console_buffer_oldest(buffer);
    *lost = 0;
    if (*position > buffer->written) {
        *position = oldest;
    } else if (*position < oldest) {
        *lost = oldest - *position;
        *position = oldest;
    }
    uint64_t available = buffer->written - *position;
    size_t length = available < size ? (size_t)available : size;
    size_t at = (size_t)(*position & (CONSOLE_BUFFER_SIZE - 1));
    size_t first = CONSOLE_BUFFER_SIZE - at < length ? CONSOLE_BUFFER_SIZE - at : length;
    memcpy(out, buffer->bytes + at, first);
    memcpy(out + first, buffer->bytes, length - first);
    *position += length;
    return length;
}
