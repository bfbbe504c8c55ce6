#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* memmem */
#endif
#include "tools/hvctl/response.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

bool hvctl_response_parse(const char *data, size_t length, struct hvctl_response *out,
                          char *why, size_t why_size)
{
    memset(out, 0, sizeof(*out));
    /* status-line = HTTP-version SP 3DIGIT SP [reason] (RFC 9112 4) */
    bool digits = length >= 13 && data[9] >= '0' && data[9] <= '9' && data[10] >= '0' &&
                  data[10] <= '9' && data[11] >= '0' && data[11] <= '9';
    int status = digits ? (data[9] - '0') * 100 + (data[10] - '0') * 10 + (data[11] - '0') : 0;
    if (!digits || memcmp(data, "HTTP/1.", 7) != 0 || data[8] != ' ' ||
        (data[12] != ' ' && data[12] != '\r') || status < 100 || status > 599) {
        snprintf(why, why_size, "the appliance did not answer in HTTP/1.x");
        return false;
    }
    const char *end = NULL;
    for (size_t i = 0; i + 4 <= length; i++)
        if (memcmp(data + i, "\r\n\r\n", 4) == 0) {
            end = data + i;
            break;
        }
    if (!end) {
        snprintf(why, why_size, "the answer ended inside its head");
        return false;
    }
    const char *body = end + 4;
    size_t available = length - (size_t)(body - data);
    size_t content_length = available;
    bool has_length = false;
    /* Bounded by the head's end: a NUL inside a hostile head stops nothing. */
    const char *line = (const char *)memmem(data, (size_t)(end - data) + 2, "\r\n", 2) + 2;
    while (line < end) {
        const char *next = memmem(line, (size_t)(end - line) + 2, "\r\n", 2);
        if ((size_t)(next - line) > 15 && strncasecmp(line, "Content-Length:", 15) == 0) {
            char *stop;
            unsigned long long n = strtoull(line + 15, &stop, 10);
            if (stop == line + 15 || n > HVCTL_RESPONSE_MAX) {
                snprintf(why, why_size, "the answer has a bad Content-Length");
                return false;
            }
            content_length = (size_t)n;
            has_length = true;
        }
        line = next + 2;
    }
    if (status == 204 || status == 304)
        content_length = 0;
    if (has_length && content_length > available) {
        snprintf(why, why_size, "the answer was cut short (%zu of %zu body bytes)", available,
                 content_length);
        return false;
    }
    out->status = status;
    out->body = malloc(content_length + 1);
    if (!out->body) {
        snprintf(why, why_size, "out of memory");
        return false;
    }
    memcpy(out->body, body, content_length);
    out->body[content_length] = '\0';
    out->length = content_length;
    return true;
}
