/*
 * newlib's boot-time self-test in root code: formatted output (printf to the console,
 * snprintf with integers, strings and floating point), malloc/free of many blocks of varied
 * sizes with content checks, calloc zeroing and overflow, realloc growth, a large
 * allocation, heap exhaustion (ENOMEM, no overlapping blocks), and the honest errors of the system-call glue (libc-glue/).
 *
 * Prints "selftest: libc: ok" or "selftest: libc: FAILED: <why>".
 */
#ifndef HVFW_ROOT_LIBC_SELFTEST_H
#define HVFW_ROOT_LIBC_SELFTEST_H

#include <stdbool.h>

bool libc_selftest_run(void);

#endif
