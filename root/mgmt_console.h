/*
 * A child's serial console over the management API (docs/api.md,
 * GET /v1/partitions/{name}/console):
 *   - without `Upgrade`: the scroll-back (root/console_buffer.h) as text, `?tail=N` for the
 *     last N bytes;
 *   - with `Upgrade: websocket` (RFC 6455): a 101, then a stream of binary frames with the
 *     scroll-back (or its last `tail` bytes) and then the live output; the client's text or
 *     binary frames are typed into the child's COM1 receiver.
 *
 * A stream never holds the root up: each one reads the child's ring at its own position,
 * and only as fast as its TCP send buffer empties. A client more than the ring
 * (CONSOLE_BUFFER_SIZE) behind loses the bytes overwritten: it gets the marker
 * "\r\n[hvfw: N bytes of console output lost]\r\n" in their place, and the losses are
 * counted (mgmt_console_stats, /metrics). Input is taken from the connection only as fast as
 * the child's UART input queue drains (root/uart.h), so a fast sender is slowed by TCP,
 * not buffered. A stream whose client has sent nothing for MGMT_CONSOLE_PING_MS is pinged;
 * after MGMT_CONSOLE_SILENT_MS of silence it is closed.
 *
 * Pure and host-testable: the children come from a `struct mgmt_console_source`; the TCP
 * side is root/mgmt_server.c's.
 */
#ifndef HVFW_ROOT_MGMT_CONSOLE_H
#define HVFW_ROOT_MGMT_CONSOLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "root/console_buffer.h"
#include "root/mgmt_api.h"
#include "root/mgmt_websocket.h"

#define MGMT_CONSOLE_INPUT_MAX 1024      /* client bytes held for the UART */
#define MGMT_CONSOLE_DATA_FRAME_MAX 4096 /* output bytes per frame */
#define MGMT_CONSOLE_PING_MS 30000u
#define MGMT_CONSOLE_SILENT_MS 90000u

struct mgmt_console_source {
    /* The console of the partition `name`, NULL if none has this name. */
    const struct console_buffer *(*buffer)(const char *name);
    /* Types `length` bytes into the partition's COM1; returns how many it took (0 when it is
     * not running or its input queue is full). */
    size_t (*input)(const char *name, const uint8_t *bytes, size_t length);
};

/* Where the consoles come from; until it is called there are none (404). */
void mgmt_console_serve(const struct mgmt_console_source *source);

/* GET /v1/partitions/{name}/console (a route handler of root/mgmt_api.c). */
struct mgmt_route_match;
void mgmt_console_get(void *context, const struct mgmt_route_match *match);

struct mgmt_console_stats {
    uint64_t streams_opened;
    uint64_t gaps;        /* lost-output markers sent */
    uint64_t lost_bytes;  /* output bytes they stood for */
    uint64_t input_bytes; /* client bytes typed into a UART */
};
extern struct mgmt_console_stats mgmt_console_stats;

/* One console stream (the connection after the 101). */
struct mgmt_console_session {
    char name[MGMT_API_NAME_MAX + 1];
    uint64_t position;       /* the next ring byte to send */
    struct mgmt_ws_parser parser;
    uint8_t input[MGMT_CONSOLE_INPUT_MAX];
    size_t input_length;
    /* One control frame waiting to go (a pong, or the close): header and payload. */
    uint8_t control[MGMT_WS_HEADER_MAX + MGMT_WS_CONTROL_MAX];
    size_t control_length;
    bool close_queued;       /* our close frame is queued or sent: no more data frames */
    bool close_received;     /* the client's close (or a protocol error) */
    bool control_is_close;
    bool finished;           /* our close is out: the TCP connection may end */
    uint64_t last_heard_ms;
    bool ping_sent;
};

/* A stream of `name` starting at `position` (console_buffer_oldest for the whole
 * scroll-back). */
void mgmt_console_session_init(struct mgmt_console_session *s, const char *name,
                               uint64_t position, uint64_t now_ms);
/* The start position for `tail` bytes of `name`'s scroll-back (UINT64_MAX: all of it). */
uint64_t mgmt_console_start_position(const char *name, uint64_t tail);

/* Client bytes: returns how many were taken (fewer when the input is full or a control
 * frame waits to go out; feed the rest later). */
size_t mgmt_console_session_receive(struct mgmt_console_session *s, const uint8_t *bytes,
                                    size_t length, uint64_t now_ms);
/* Moves held input into the child's UART; true if any moved. */
bool mgmt_console_session_flush_input(struct mgmt_console_session *s);
/* Up to `room` bytes of frames to send (control first, then output); 0 when nothing waits
 * or `room` is too small for a useful frame. */
size_t mgmt_console_session_output(struct mgmt_console_session *s, uint8_t *out, size_t room,
                                   uint64_t now_ms);
/* True while output or a control frame waits for room. */
bool mgmt_console_session_pending(const struct mgmt_console_session *s);

#endif
