/* newlib's self-test; see libc_selftest.h. Each check returns NULL or why it failed. */
#include "root/libc_selftest.h"

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#define BLOCK_COUNT 512
#define BLOCK_MAX_SIZE 4096
#define LARGE_SIZE (1u << 20)
#define EXHAUST_BLOCK_SIZE (256u << 10)
#define EXHAUST_LIMIT_BLOCKS 256 /* 64 MiB: enough to exhaust a heap that cannot grow */

static char failure[160];

__attribute__((format(printf, 1, 2))) static const char *why(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(failure, sizeof(failure), fmt, ap);
    va_end(ap);
    return failure;
}

static const char *check_formatting(void)
{
    char text[128];
    int n = snprintf(text, sizeof(text), "%d|%5.2f|%-4s|%08.3e|%#x|%zu|%lld|%hhu|%c", -42,
                     3.14159, "ab", 12345.678, 255u, (size_t)65536, -9000000000ll,
                     (unsigned char)200, 'z');
    const char *expected = "-42| 3.14|ab  |1.235e+04|0xff|65536|-9000000000|200|z";
    if (n != (int)strlen(expected) || strcmp(text, expected) != 0)
        return why("snprintf gave \"%s\" (%d), expected \"%s\"", text, n, expected);
    /* Truncation: the return value is the full length, the buffer stays terminated. */
    char small[8];
    n = snprintf(small, sizeof(small), "%s", "0123456789");
    if (n != 10 || strcmp(small, "0123456") != 0)
        return why("snprintf truncation gave \"%s\" (%d)", small, n);
    double parsed = strtod("2.5e3", NULL);
    if (parsed != 2500.0)
        return why("strtod(\"2.5e3\") gave %g", parsed);
    if (printf("root: newlib printf: %s %d %.3f 0x%08lx\n", "pi", 3, 3.14159,
               (unsigned long)0xC0FFEEul) <= 0)
        return why("printf to the console failed: errno %d", errno);
    return NULL;
}

static unsigned char block_byte(size_t block, size_t offset)
{
    return (unsigned char)(block * 31 + offset * 7 + 1);
}

static const char *check_block(unsigned char *p, size_t block, size_t size)
{
    for (size_t i = 0; i < size; i++)
        if (p[i] != block_byte(block, i))
            return why("block %zu (%zu bytes at %p) corrupted at byte %zu", block, size,
                       (void *)p, i);
    return NULL;
}

/* Many blocks of sizes 1..BLOCK_MAX_SIZE: fill, free every other one, allocate those again,
 * check all contents, free all. Detects overlapping blocks and a heap that loses data. */
static const char *check_many_blocks(void)
{
    static unsigned char *blocks[BLOCK_COUNT];
    static size_t sizes[BLOCK_COUNT];
    uint32_t seed = 12345;
    const char *error = NULL;
    for (size_t round = 0; round < 2 && !error; round++) {
        for (size_t i = round; i < BLOCK_COUNT; i += round + 1) {
            seed = seed * 1103515245u + 12345u; /* a fixed LCG: the same sizes every boot */
            sizes[i] = 1 + (seed >> 8) % BLOCK_MAX_SIZE;
            blocks[i] = malloc(sizes[i]);
            if (blocks[i] == NULL) {
                error = why("malloc(%zu) failed for block %zu", sizes[i], i);
                break;
            }
            if ((uintptr_t)blocks[i] % _Alignof(max_align_t) != 0)
                error = why("malloc returned %p, not aligned", (void *)blocks[i]);
            for (size_t j = 0; j < sizes[i]; j++)
                blocks[i][j] = block_byte(i, j);
        }
        if (round == 0) {
            for (size_t i = 1; i < BLOCK_COUNT; i += 2) {
                free(blocks[i]);
                blocks[i] = NULL;
            }
        }
    }
    for (size_t i = 0; i < BLOCK_COUNT && !error; i++)
        if (blocks[i])
            error = check_block(blocks[i], i, sizes[i]);
    for (size_t i = 0; i < BLOCK_COUNT; i++) {
        free(blocks[i]);
        blocks[i] = NULL;
    }
    return error;
}

static const char *check_calloc(void)
{
    /* Dirty a block, free it, and ask calloc for the same size: likely the same memory. */
    unsigned char *dirty = malloc(8000);
    if (dirty == NULL)
        return why("malloc(8000) failed");
    memset(dirty, 0xA5, 8000);
    free(dirty);
    unsigned char *zeroed = calloc(1000, 8);
    if (zeroed == NULL)
        return why("calloc(1000, 8) failed");
    for (size_t i = 0; i < 8000; i++) {
        if (zeroed[i] != 0) {
            free(zeroed);
            return why("calloc byte %zu is %#x", i, zeroed[i]);
        }
    }
    free(zeroed);
    /* n * size overflows: calloc must refuse, not allocate the wrapped size. */
    /* volatile: the compiler would reject the impossible size at compile time. */
    volatile size_t count = SIZE_MAX / 2;
    errno = 0;
    void *wrapped = calloc(count, 4);
    if (wrapped != NULL || errno != ENOMEM) {
        free(wrapped);
        return why("calloc(SIZE_MAX / 2, 4) gave %p errno %d", wrapped, errno);
    }
    return NULL;
}

static const char *check_realloc(void)
{
    size_t size = 16;
    unsigned char *p = malloc(size);
    if (p == NULL)
        return why("malloc(16) failed");
    for (size_t i = 0; i < size; i++)
        p[i] = block_byte(7, i);
    while (size < 256 * 1024) {
        size_t grown = size * 4;
        unsigned char *q = realloc(p, grown);
        if (q == NULL) {
            free(p);
            return why("realloc to %zu bytes failed", grown);
        }
        p = q;
        const char *error = check_block(p, 7, size);
        if (error) {
            free(p);
            return error;
        }
        for (size_t i = size; i < grown; i++)
            p[i] = block_byte(7, i);
        size = grown;
    }
    free(p);
    return NULL;
}

static const char *check_large(void)
{
    unsigned char *p = malloc(LARGE_SIZE);
    if (p == NULL)
        return why("malloc of %u bytes failed", LARGE_SIZE);
    for (size_t i = 0; i < LARGE_SIZE; i++)
        p[i] = block_byte(3, i);
    const char *error = check_block(p, 3, LARGE_SIZE);
    free(p);
    if (error)
        return error;
    volatile size_t huge_size = SIZE_MAX - 4096;
    errno = 0;
    void *huge = malloc(huge_size);
    if (huge != NULL || errno != ENOMEM) {
        free(huge);
        return why("malloc(SIZE_MAX - 4096) gave %p errno %d", huge, errno);
    }
    return NULL;
}

static void mark_block(unsigned char *p, size_t block)
{
    /* The ends and the middle: enough to see two blocks overlap, cheap under emulation. */
    p[0] = p[EXHAUST_BLOCK_SIZE / 2] = p[EXHAUST_BLOCK_SIZE - 1] = block_byte(block, 0);
}

static bool block_marked(const unsigned char *p, size_t block)
{
    unsigned char expected = block_byte(block, 0);
    return p[0] == expected && p[EXHAUST_BLOCK_SIZE / 2] == expected &&
           p[EXHAUST_BLOCK_SIZE - 1] == expected;
}

/* Allocates until the heap is exhausted: malloc must then return NULL with ENOMEM (sbrk
 * must not hand out memory beyond its region), the blocks must not overlap, and after
 * freeing them malloc must work again. Stops at EXHAUST_LIMIT_BLOCKS if the heap keeps
 * growing (its region is extended when the page allocator's next block is adjacent). */
static const char *check_exhaustion(void)
{
    static unsigned char *blocks[EXHAUST_LIMIT_BLOCKS];
    size_t count = 0;
    const char *error = NULL;
    errno = 0;
    while (count < EXHAUST_LIMIT_BLOCKS) {
        unsigned char *p = malloc(EXHAUST_BLOCK_SIZE);
        if (p == NULL)
            break;
        mark_block(p, count);
        blocks[count++] = p;
    }
    if (count < EXHAUST_LIMIT_BLOCKS && errno != ENOMEM)
        error = why("malloc failed after %zu blocks with errno %d, not ENOMEM", count, errno);
    for (size_t i = 0; i < count && !error; i++)
        if (!block_marked(blocks[i], i))
            error = why("block %zu of %zu at %p was overwritten: blocks overlap", i, count,
                        (void *)blocks[i]);
    for (size_t i = 0; i < count; i++)
        free(blocks[i]);
    if (error)
        return error;
    if (count == 0)
        return why("not even one %u KiB block could be allocated", EXHAUST_BLOCK_SIZE >> 10);
    void *again = malloc(EXHAUST_BLOCK_SIZE);
    if (again == NULL)
        return why("malloc failed after the exhausted heap was freed");
    free(again);
    return NULL;
}

/* The glue reports what it cannot do instead of pretending. */
static const char *check_system_calls(void)
{
    errno = 0;
    if (write(42, "x", 1) != -1 || errno != EBADF)
        return why("write(42) did not fail with EBADF (errno %d)", errno);
    errno = 0;
    if (lseek(STDOUT_FILENO, 0, SEEK_SET) != -1 || errno != ESPIPE)
        return why("lseek(stdout) did not fail with ESPIPE (errno %d)", errno);
    if (!isatty(STDOUT_FILENO))
        return why("stdout is not a terminal");
    errno = 0;
    if (fopen("/etc/hosts", "r") != NULL || errno != ENOSYS)
        return why("fopen did not fail with ENOSYS (errno %d)", errno);
    struct timeval before, after;
    if (gettimeofday(&before, NULL) != 0)
        return why("gettimeofday failed");
    for (volatile int i = 0; i < 100000; i++) {
    }
    gettimeofday(&after, NULL);
    if (timercmp(&after, &before, <))
        return why("gettimeofday went backwards");
    return NULL;
}

bool libc_selftest_run(void)
{
    static const char *(*const checks[])(void) = {
        check_formatting, check_many_blocks, check_calloc, check_realloc, check_large,
        check_exhaustion, check_system_calls,
    };
    for (size_t i = 0; i < sizeof(checks) / sizeof(checks[0]); i++) {
        const char *error = checks[i]();
        if (error) {
            printf("selftest: libc: FAILED: %s\n", error);
            return false;
        }
    }
    printf("selftest: libc: ok\n");
    return true;
}
