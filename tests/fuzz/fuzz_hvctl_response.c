// sources: tools/hvctl/response.c
/*
 * libFuzzer target for hvctl's reading of an appliance's HTTP answer (a hostile or broken
 * server). Input: the bytes the connection delivered before it closed. Invariants: no
 * crash; when accepted, the status is 100-599, the body is NUL-terminated, no longer than
 * the input after its head and at most HVCTL_RESPONSE_MAX; when refused, a reason and no
 * body.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tools/hvctl/response.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* hvctl hands the parser a NUL-terminated copy (transport.c). */
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    struct hvctl_response r;
    char why[128] = "";
    if (hvctl_response_parse(text, size, &r, why, sizeof(why))) {
        if (r.status < 100 || r.status > 599 || !r.body || r.body[r.length] != '\0' ||
            r.length > size || r.length > HVCTL_RESPONSE_MAX)
            abort();
        free(r.body);
    } else if (!why[0] || r.body) {
        abort();
    }
    free(text);
    return 0;
}
