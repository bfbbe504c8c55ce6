/* The root partition checks that it cannot reach the hypervisor's memory (issue 3). */
#ifndef HVFW_ROOT_ISOLATION_SELFTEST_H
#define HVFW_ROOT_ISOLATION_SELFTEST_H

#include <stdbool.h>

/* Prints "selftest: root-isolation: ok ..." or "... FAILED: ...". */
bool isolation_selftest_run(void);

#endif
