#include "root/log_limit.h"

#define WINDOW_NS (ROOT_LOG_LIMIT_SECONDS * 1000000000ull)

/* FNV-1a over the text without its digits: "channel 3 closed" and "channel 4 closed" are one
 * kind. */
static uint32_t kind_of(const char *text)
{
    uint32_t hash = 2166136261u;
    for (const char *c = text; *c; c++) {
        if (*c >= '0' && *c <= '9')
            continue;
        hash = (hash ^ (uint8_t)*c) * 16777619u;
    }
    return hash;
}

static uint32_t *lines_of_kind(struct root_log_limit *limit, uint32_t hash)
{
    for (uint32_t i = 0; i < limit->kinds; i++)
        if (limit->kind[i].hash == hash)
            return &limit->kind[i].lines;
    if (limit->kinds < ROOT_LOG_LIMIT_KINDS) {
        limit->kind[limit->kinds].hash = hash;
        limit->kind[limit->kinds].lines = 0;
        return &limit->kind[limit->kinds++].lines;
    }
    return &limit->kind[ROOT_LOG_LIMIT_KINDS - 1].lines;
}

bool root_log_limit_allow(struct root_log_limit *limit, const char *text, uint64_t now_ns,
                          uint32_t *held_back)
{
    *held_back = 0;
    if (now_ns - limit->window_start_ns >= WINDOW_NS) {
        limit->window_start_ns = now_ns;
        limit->kinds = 0;
    }
    uint32_t *lines = lines_of_kind(limit, kind_of(text));
    if (*lines >= ROOT_LOG_LIMIT_PER_KIND) {
        limit->suppressed++;
        return false;
    }
    (*lines)++;
    *held_back = limit->suppressed;
    limit->suppressed = 0;
    return true;
}
