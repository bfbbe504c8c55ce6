/*
 * The root partition's file descriptors: 0 (stdin), 1 (stdout) and 2 (stderr), all on the
 * hypervisor console (kernel/log.h console_write). There is no file system, so no other
 * descriptor exists.
 *
 * Implements (declared by newlib <unistd.h>, <sys/stat.h>): write, read, close, fstat,
 * isatty, lseek. Errors follow POSIX: EBADF for a descriptor that is not open, ESPIPE for
 * seeking on the console.
 */
#ifndef HVFW_LIBC_GLUE_CONSOLE_H
#define HVFW_LIBC_GLUE_CONSOLE_H

#include <stdbool.h>

#define CONSOLE_FD_COUNT 3

/* True for 0, 1 and 2 until they are closed. */
bool console_fd_is_open(int fd);

#endif
