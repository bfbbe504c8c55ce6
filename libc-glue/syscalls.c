/* newlib's process, signal and file-system calls; see syscalls.h for what each reports. */
#include "libc-glue/syscalls.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "root/log.h"

pid_t getpid(void)
{
    return ROOT_PID;
}

void _exit(int status)
{
    root_stop("root: exit(%d)", status);
}

int kill(pid_t pid, int signal)
{
    if (pid != ROOT_PID && pid != 0 && pid != -1) {
        errno = ESRCH;
        return -1;
    }
    if (signal == 0)
        return 0; /* POSIX: signal 0 only checks that the process exists */
    if (signal < 0 || signal >= NSIG) {
        errno = EINVAL;
        return -1;
    }
    /* abort() and raise() arrive here: the default action ends the process, here the root. */
    root_stop("root: killed by signal %d", signal);
}

pid_t fork(void)
{
    errno = ENOSYS;
    return -1;
}

int execve(const char *path, char *const argv[], char *const envp[])
{
    (void)path;
    (void)argv;
    (void)envp;
    errno = ENOSYS;
    return -1;
}

pid_t wait(int *status)
{
    (void)status;
    errno = ECHILD;
    return -1;
}

int open(const char *path, int flags, ...)
{
    (void)path;
    (void)flags;
    errno = ENOSYS;
    return -1;
}

int fcntl(int fd, int command, ...)
{
    (void)fd;
    (void)command;
    errno = ENOSYS;
    return -1;
}

int stat(const char *restrict path, struct stat *restrict st)
{
    (void)path;
    (void)st;
    errno = ENOSYS;
    return -1;
}

int mkdir(const char *path, mode_t mode)
{
    (void)path;
    (void)mode;
    errno = ENOSYS;
    return -1;
}

int link(const char *existing, const char *new_path)
{
    (void)existing;
    (void)new_path;
    errno = ENOSYS;
    return -1;
}

int unlink(const char *path)
{
    (void)path;
    errno = ENOSYS;
    return -1;
}

int sigprocmask(int how, const sigset_t *restrict set, sigset_t *restrict old_set)
{
    (void)how;
    (void)set;
    (void)old_set;
    errno = ENOSYS;
    return -1;
}
