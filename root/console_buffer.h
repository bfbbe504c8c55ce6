/*
 * A child's console scroll-back: the last CONSOLE_BUFFER_SIZE bytes its COM1 transmitted,
 * in a ring, with the count of every byte ever written. Readers (the console streams of
 * root/mgmt_console.h, GET .../console?tail=N) keep their own position as such a count, so
 * one ring serves any number of them without a queue each: a reader that falls more than
 * the ring behind has lost what was overwritten and learns how much (console_buffer_read).
 * The writer never waits for a reader.
 *
 * Pure and host-testable.
 */
#ifndef HVFW_ROOT_CONSOLE_BUFFER_H
#define HVFW_ROOT_CONSOLE_BUFFER_H

#include <stddef.h>
#include <stdint.h>

#define CONSOLE_BUFFER_SIZE (64u << 10) /* a power of two */

struct console_buffer {
    uint64_t written; /* bytes written since console_buffer_init; the ring holds the last */
    uint8_t bytes[CONSOLE_BUFFER_SIZE];
};

void console_buffer_init(struct console_buffer *buffer);
void console_buffer_write(struct console_buffer *buffer, const uint8_t *bytes, size_t length);

/* The position of the oldest byte still held. */
uint64_t console_buffer_oldest(const struct console_buffer *buffer);

/*
 * Copies up to `size` bytes from position *position on into `out` and advances *position.
 * A position older than the ring moves to the oldest byte held and *lost says how many bytes
 * were skipped (0 otherwise); a position beyond `written` (the buffer was reset under the
 * reader, e.g. a new child of the same name) starts again at the oldest byte, *lost 0.
 * Returns the bytes copied.
 */
size_t console_buffer_read(const struct console_buffer *buffer, uint64_t *position,
                           uint8_t *out, size_t size, uint64_t *lost);

#endif
