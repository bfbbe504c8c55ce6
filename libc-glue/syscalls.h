/*
 * The rest of newlib's system calls: processes, signals and the file system. The root is
 * one program with no file system and no child processes, so these report honestly:
 *   getpid                      1 (the root is the only process)
 *   kill(own pid), _exit        stop the hypervisor with the status or signal (kernel_stop)
 *   kill(other pid)             ESRCH;  wait: ECHILD (there are no children)
 *   fork, execve                ENOSYS (no processes to create)
 *   open, stat, link, unlink,
 *   mkdir, fcntl                ENOSYS (no file system; fcntl: no descriptor flags)
 *   sigprocmask                 ENOSYS (no signal delivery)
 * Declared by newlib (<unistd.h>, <fcntl.h>, <signal.h>, <sys/stat.h>, <sys/wait.h>).
 */
#ifndef HVFW_LIBC_GLUE_SYSCALLS_H
#define HVFW_LIBC_GLUE_SYSCALLS_H

/* The process ID getpid() reports for the root partition. */
#define ROOT_PID 1

#endif
