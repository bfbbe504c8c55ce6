/*
 * The few C library string functions the test guests use: those kernel/cmdline.c calls,
 * and memcpy/memset/memmove/memcmp, which GCC may call on its own even in freestanding
 * code (GCC manual, "C Dialect Options", -ffreestanding). Implemented in lib/string.c.
 */
#ifndef HVFW_GUESTS_INCLUDE_STRING_H
#define HVFW_GUESTS_INCLUDE_STRING_H

#include <stddef.h>

void *memcpy(void *restrict dest, const void *restrict src, size_t n);
void *memmove(void *dest, const void *src, size_t n);
void *memset(void *dest, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
void *memchr(const void *s, int c, size_t n);
size_t strlen(const char *s);
int strcmp(const char *a, const char *b);
char *strncpy(char *restrict dest, const char *restrict src, size_t n);

#endif
