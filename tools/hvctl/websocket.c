#include "tools/hvctl/websocket.h"

#include <stdint.h>
#include <string.h>

long hvctl_ws_frames(const unsigned char *bytes, size_t length, size_t max_payload,
                     void (*frame)(void *ctx, int opcode, const unsigned char *payload,
                                   size_t length),
                     void *ctx)
{
    size_t at = 0;
    while (length - at >= 2) {
        const unsigned char *h = bytes + at;
        if ((h[0] & 0x70) || (h[1] & 0x80))
            return -1; /* RSV bits without an extension; a masked server frame */
        uint64_t n = h[1] & 0x7F;
        size_t header = 2;
        if (n == 126) {
            if (length - at < 4)
                break;
            n = (uint64_t)h[2] << 8 | h[3];
            header = 4;
        } else if (n == 127) {
            if (length - at < 10)
                break;
            n = 0;
            for (int i = 0; i < 8; i++)
                n = n << 8 | h[2 + i];
            header = 10;
        }
        if (n > max_payload)
            return -1;
        if (length - at - header < n)
            break;
        frame(ctx, h[0] & 0x0F, h + header, (size_t)n);
        at += header + (size_t)n;
    }
    return (long)at;
}

size_t hvctl_ws_client_frame(unsigned char *out, int opcode, const unsigned char *payload,
                             size_t length, const unsigned char mask[4])
{
    size_t n = 0;
    out[n++] = (unsigned char)(0x80 | opcode);
    if (length < 126) {
        out[n++] = (unsigned char)(0x80 | length);
    } else if (length <= 0xFFFF) {
        out[n++] = 0x80 | 126;
        out[n++] = (unsigned char)(length >> 8);
        out[n++] = (unsigned char)length;
    } else {
        out[n++] = 0x80 | 127;
        for (int i = 7; i >= 0; i--)
            out[n++] = (unsigned char)((uint64_t)length >> (8 * i));
    }
    memcpy(out + n, mask, 4);
    n += 4;
    for (size_t i = 0; i < length; i++)
        out[n + i] = payload[i] ^ mask[i & 3];
    return n + length;
}
