/*
 * RNDIS control messages as Linux's rndis_filter.c builds them, for the suites that play
 * its side (test_rndis.c against vsp/rndis.c alone, test_netvsp.c through netvsp), and the
 * little-endian field access both use ([MS-RNDIS] 2.2: every field is a 32-bit LE word).
 * Static inline: each suite gets its own copy.
 */
#ifndef HVFW_TESTS_RNDIS_MESSAGES_H
#define HVFW_TESTS_RNDIS_MESSAGES_H

#include <stdint.h>
#include <string.h>

#include "vsp/rndis.h"

static inline uint32_t get32(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

static inline void put32(uint8_t *p, uint32_t v)
{
    memcpy(p, &v, 4);
}

/* REMOTE_NDIS_INITIALIZE_MSG as rndis_filter_init_device builds it (version 1.0, 16 KiB
 * transfers); its length. */
static inline uint32_t rndis_build_initialize(uint8_t *m, uint32_t id)
{
    memset(m, 0, 24);
    put32(m, RNDIS_MSG_INITIALIZE);
    put32(m + 4, 24);
    put32(m + 8, id);
    put32(m + 12, 1);
    put32(m + 16, 0);
    put32(m + 20, 0x4000);
    return 24;
}

/* QUERY/SET with an information buffer right after the 28-byte request (offset 20); its
 * length. */
static inline uint32_t rndis_build_request(uint8_t *m, uint32_t type, uint32_t id,
                                           uint32_t oid, const void *info,
                                           uint32_t info_length)
{
    memset(m, 0, 28);
    put32(m, type);
    put32(m + 4, 28 + info_length);
    put32(m + 8, id);
    put32(m + 12, oid);
    put32(m + 16, info_length);
    put32(m + 20, 20);
    if (info_length)
        memcpy(m + 28, info, info_length);
    return 28 + info_length;
}

#endif
