// sources: vsp/rndis.c
/*
 * libFuzzer target for the RNDIS parser and control handler (vsp/rndis.c). Input: a byte
 * choosing the path (bit 0: control message, else PACKET_MSG walk; bit 1: the state is
 * initialized first; bits 2-3: the NVSP version the offload answer follows), then the
 * message bytes exactly as a child would leave them in its buffer. Whatever the bytes: no
 * crash (ASan/UBSan); a reply is a completion of at most RNDIS_REPLY_MAX bytes whose
 * msg_len is its length and whose information buffer lies inside it; a parsed frame lies
 * inside the message and has an Ethernet length; a packet walk always advances.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vsp/rndis.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REQUIRE(cond)                                                                      \
    do {                                                                                   \
        if (!(cond)) {                                                                     \
            fprintf(stderr, "fuzz_rndis: invariant failed: %s (line %d)\n", #cond,         \
                    __LINE__);                                                             \
            abort();                                                                       \
        }                                                                                  \
    } while (0)

static uint32_t get32(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

static void control(const uint8_t *message, uint32_t length, uint8_t mode)
{
    static const uint32_t versions[4] = { 2, 0x30002, 0x40000, 0x60001 };
    struct rndis_state state = { 0 };
    struct rndis_device_info device = { { 2, 1, 2, 3, 4, 5 }, 100000000, true,
                                        versions[(mode >> 2) & 3] };
    uint8_t reply[RNDIS_REPLY_MAX + 16];
    uint32_t reply_length;
    const char *why;
    if (mode & 2) {
        uint8_t init[24] = { 2, 0, 0, 0, 24, 0, 0, 0, 1, 0, 0, 0, 1 };
        REQUIRE(rndis_control_handle(&state, &device, init, 24, reply, &reply_length, &why) ==
                RNDIS_REPLY);
        REQUIRE(state.initialized);
    }
    memset(reply, 0xA5, sizeof(reply));
    enum rndis_control_result r =
        rndis_control_handle(&state, &device, message, length, reply, &reply_length, &why);
    for (uint32_t i = RNDIS_REPLY_MAX; i < sizeof(reply); i++)
        REQUIRE(reply[i] == 0xA5);
    if (r == RNDIS_NO_REPLY) {
        REQUIRE(reply_length == 0);
        return;
    }
    REQUIRE(reply_length >= 16 && reply_length <= RNDIS_REPLY_MAX);
    REQUIRE(get32(reply) & RNDIS_MSG_COMPLETION);
    REQUIRE(get32(reply) == (get32(message) | RNDIS_MSG_COMPLETION));
    REQUIRE(get32(reply + 4) == reply_length);
    if (get32(message) == RNDIS_MSG_QUERY) {
        uint32_t info_length = get32(reply + 16), info_offset = get32(reply + 20);
        REQUIRE(info_offset >= 16);
        REQUIRE(8ull + info_offset + info_length <= reply_length);
    }
    REQUIRE((state.packet_filter & ~RNDIS_FILTER_SUPPORTED) == 0);
}

static void packets(const uint8_t *message, uint32_t length)
{
    uint32_t at = 0;
    while (at + RNDIS_HEADER_SIZE <= length) {
        struct rndis_packet p;
        uint32_t used;
        const char *why;
        if (!rndis_packet_parse(message + at, length - at, &p, &used, &why))
            return;
        REQUIRE(used >= RNDIS_PACKET_HEADER_SIZE && used <= length - at);
        REQUIRE(p.frame >= message + at && p.frame + p.frame_length <= message + at + used);
        REQUIRE(p.frame_length >= 14 && p.frame_length <= RNDIS_FRAME_MAX);
        /* What the receive path builds around it parses back to the same frame. */
        uint8_t out[RNDIS_PACKET_HEADER_SIZE + RNDIS_FRAME_MAX];
        uint32_t n = rndis_packet_build(out, sizeof(out), p.frame, p.frame_length);
        REQUIRE(n == RNDIS_PACKET_HEADER_SIZE + p.frame_length);
        struct rndis_packet q;
        uint32_t used2;
        REQUIRE(rndis_packet_parse(out, n, &q, &used2, &why));
        REQUIRE(q.frame_length == p.frame_length && memcmp(q.frame, p.frame, p.frame_length) == 0);
        at += used;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > RNDIS_MAX_TRANSFER_SIZE + 1)
        return 0;
    uint8_t mode = data[0];
    uint32_t length = (uint32_t)size - 1;
    /* A copy exactly as long as the message, so ASan sees any read past it. */
    uint8_t *message = malloc(length ? length : 1);
    if (!message)
        return 0;
    memcpy(message, data + 1, length);
    if (mode & 1)
        control(message, length, mode);
    else
        packets(message, length);
    free(message);
    return 0;
}
