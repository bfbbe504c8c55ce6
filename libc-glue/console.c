/* newlib's descriptor calls for the console; see console.h. */
#include "libc-glue/console.h"

#include <errno.h>
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>

#include "root/hvcall.h"

/* Bit n set: descriptor n was closed. Atomic, since several CPUs run root code. */
static uint32_t closed_fds;

bool console_fd_is_open(int fd)
{
    if (fd < 0 || fd >= CONSOLE_FD_COUNT)
        return false;
    return (__atomic_load_n(&closed_fds, __ATOMIC_RELAXED) & (1u << fd)) == 0;
}

_READ_WRITE_RETURN_TYPE write(int fd, const void *buffer, size_t length)
{
    if (!console_fd_is_open(fd)) {
        errno = EBADF;
        return -1;
    }
    if (fd == STDIN_FILENO) {
        errno = EBADF; /* POSIX: not open for writing */
        return -1;
    }
    /* A partial write is allowed; keep the count representable in any return type. */
    if (length > INT32_MAX)
        length = INT32_MAX;
    hvcall_console_write(buffer, length);
    return (_READ_WRITE_RETURN_TYPE)length;
}

_READ_WRITE_RETURN_TYPE read(int fd, void *buffer, size_t length)
{
    (void)buffer;
    (void)length;
    if (!console_fd_is_open(fd) || fd != STDIN_FILENO) {
        errno = EBADF;
        return -1;
    }
    /* The console has no input path to the root yet: end of file. */
    return 0;
}

int close(int fd)
{
    if (!console_fd_is_open(fd)) {
        errno = EBADF;
        return -1;
    }
    __atomic_fetch_or(&closed_fds, 1u << fd, __ATOMIC_RELAXED);
    return 0;
}

int fstat(int fd, struct stat *st)
{
    if (!console_fd_is_open(fd)) {
        errno = EBADF;
        return -1;
    }
    *st = (struct stat){0};
    /* A character device: newlib then line-buffers stdout (it asks isatty too). */
    st->st_mode = S_IFCHR | S_IRUSR | S_IWUSR;
    st->st_blksize = 0;
    return 0;
}

int isatty(int fd)
{
    if (!console_fd_is_open(fd)) {
        errno = EBADF;
        return 0;
    }
    return 1;
}

off_t lseek(int fd, off_t offset, int whence)
{
    (void)offset;
    (void)whence;
    if (!console_fd_is_open(fd)) {
        errno = EBADF;
        return -1;
    }
    errno = ESPIPE;
    return -1;
}
