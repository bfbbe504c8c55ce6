/*
 * A budget for the lines one partition's input can cause. Hostile input is logged, but a
 * child must not be able to flood the console: each line holds the writing root VP while
 * the hypervisor's UART sends it (about 9 ms for 100 bytes at 115200 baud on hardware).
 * Lines are grouped by kind (the text with its digits left out): ROOT_LOG_LIMIT_PER_KIND of
 * a kind pass per ROOT_LOG_LIMIT_SECONDS, so every kind of refusal is still seen while a
 * repeated one stops printing; the rest are counted and their number is said once the next
 * line is let through. The kinds are the code's own messages, so the total is bounded too;
 * beyond ROOT_LOG_LIMIT_KINDS in a window, new kinds share one budget.
 * Zero-initialized is a fresh budget. Pure: the caller gives the time (host-tested).
 */
#ifndef HVFW_ROOT_LOG_LIMIT_H
#define HVFW_ROOT_LOG_LIMIT_H

#include <stdbool.h>
#include <stdint.h>

#define ROOT_LOG_LIMIT_PER_KIND 3u
#define ROOT_LOG_LIMIT_SECONDS 10u
#define ROOT_LOG_LIMIT_KINDS 64u

struct root_log_limit {
    uint64_t window_start_ns;
    uint32_t suppressed; /* held back since the last line let through */
    uint32_t kinds;      /* entries used in this window */
    struct {
        uint32_t hash;
        uint32_t lines;
    } kind[ROOT_LOG_LIMIT_KINDS];
};

/* Whether `text` may be printed at `now_ns`. When it may and lines were held back before,
 * *held_back says how many (to be reported first) and the count starts again. */
bool root_log_limit_allow(struct root_log_limit *limit, const char *text, uint64_t now_ns,
                          uint32_t *held_back);

#endif
