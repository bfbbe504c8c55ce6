/* The root checks its synthetic timer and message page (hv/stimer.h, hv/synic.h). */
#ifndef HVFW_ROOT_TIMER_SELFTEST_H
#define HVFW_ROOT_TIMER_SELFTEST_H

#include <stdbool.h>

/* Prints "selftest: synthetic-timer: ok ..." or "... FAILED: ...". */
bool timer_selftest_run(void);

#endif
