/*
 * hvctl's text for people: the API's JSON answers (docs/api.md) rendered as lines and
 * tables, and its error bodies as one actionable message. Pure: writes to a FILE *.
 */
#ifndef HVFW_TOOLS_HVCTL_RENDER_H
#define HVFW_TOOLS_HVCTL_RENDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Each returns false when the body is not the documented shape (the caller says so). */
bool hvctl_render_host(FILE *out, const char *body, size_t length);
bool hvctl_render_partitions(FILE *out, const char *body, size_t length);
bool hvctl_render_partition(FILE *out, const char *body, size_t length);
/* GET /v1/events as lines `SEQ UPTIME TYPE SUBJECT [REASON]`; *next_seq is its next_seq. */
bool hvctl_render_events(FILE *out, const char *body, size_t length, uint64_t *next_seq);

/* The message of an error body {"error":{"code":...,"message":...}} into `out`
 * ("conflict: the partition is running"); "HTTP STATUS" when the body has none. */
void hvctl_render_error(int status, const char *body, size_t length, char *out, size_t size);

/* hvctl's exit status for an HTTP status (docs in args.c's usage). */
int hvctl_exit_status(int http_status);

#define HVCTL_EXIT_OK 0
#define HVCTL_EXIT_OTHER 1
#define HVCTL_EXIT_USAGE 2
#define HVCTL_EXIT_CONNECTION 3
#define HVCTL_EXIT_AUTH 4
#define HVCTL_EXIT_NOT_FOUND 5

#endif
