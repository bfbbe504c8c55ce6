/*
 * The client's side of RFC 6455 framing for `hvctl console`: reading the appliance's frames
 * (5.2; a server never masks) and building masked client frames (5.3). Pure, host-tested.
 */
#ifndef HVFW_TOOLS_HVCTL_WEBSOCKET_H
#define HVFW_TOOLS_HVCTL_WEBSOCKET_H

#include <stddef.h>

#define HVCTL_WS_CLIENT_HEADER_MAX 14 /* 2 + 8 length bytes + 4 mask bytes */

/*
 * The server frames in `bytes`: complete frames are handed to `frame` and their bytes
 * counted in the return value; a partial frame at the end is left (return fewer than
 * `length`). -1 for a frame no server may send (masked, RSV bits, longer than
 * `max_payload`).
 */
long hvctl_ws_frames(const unsigned char *bytes, size_t length, size_t max_payload,
                     void (*frame)(void *ctx, int opcode, const unsigned char *payload,
                                   size_t length),
                     void *ctx);

/* A FIN frame of `opcode` with `payload` masked by `mask` into `out` (length +
 * HVCTL_WS_CLIENT_HEADER_MAX bytes); its length. */
size_t hvctl_ws_client_frame(unsigned char *out, int opcode, const unsigned char *payload,
                             size_t length, const unsigned char mask[4]);

#endif
