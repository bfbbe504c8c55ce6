// sources: root/mgmt_json.c
/*
 * libFuzzer target for the management API's JSON reader. Input: a JSON text. Invariants
 * when it is accepted: the text is valid UTF-8; the token tree is consistent (each token's
 * subtree ends after it and within its parent's, an object has name/value pairs whose
 * names are strings, the children counts match); every string decodes or is refused only
 * for U+0000 or size; each ASCII member name finds its own value through
 * mgmt_json_object_get (names are unique). When it is refused: an error and an offset
 * inside the text. Decoded strings written back through the writer must parse again.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "root/mgmt_json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REQUIRE(cond)                                                                         \
    do {                                                                                      \
        if (!(cond)) {                                                                        \
            fprintf(stderr, "fuzz_mgmt_json: invariant failed: %s (line %d)\n", #cond,        \
                    __LINE__);                                                                \
            abort();                                                                          \
        }                                                                                     \
    } while (0)

#define TOKENS 256

static struct mgmt_json_token tokens[TOKENS];
static struct mgmt_json_document doc;

/* Checks the subtree at `index`, which must end at `limit` or before; returns its end. */
static size_t check_tree(size_t index, size_t limit, unsigned depth)
{
    REQUIRE(index < doc.token_count && depth <= MGMT_JSON_DEPTH_MAX);
    const struct mgmt_json_token *t = &tokens[index];
    REQUIRE(t->next > index && t->next <= limit);
    REQUIRE((size_t)t->start + t->length <= doc.text_length);
    if (t->type != MGMT_JSON_ARRAY && t->type != MGMT_JSON_OBJECT) {
        REQUIRE(t->next == index + 1);
        return t->next;
    }
    size_t k = index + 1;
    for (uint32_t i = 0; i < t->children; i++) {
        if (t->type == MGMT_JSON_OBJECT) {
            REQUIRE(k < t->next && tokens[k].type == MGMT_JSON_STRING);
            k = check_tree(k, t->next, depth + 1);
        }
        k = check_tree(k, t->next, depth + 1);
    }
    REQUIRE(k == t->next);
    return k;
}

static void check_strings(void)
{
    static char text[4096], written[8192];
    for (size_t i = 0; i < doc.token_count; i++) {
        if (tokens[i].type != MGMT_JSON_STRING)
            continue;
        if (!mgmt_json_string_copy(&doc, i, text, sizeof(text))) {
            /* Decoding never lengthens a string: only size or an escaped U+0000 refuse. */
            REQUIRE(tokens[i].length + 1 > sizeof(text) ||
                    memchr(doc.text + tokens[i].start, '\\', tokens[i].length) != NULL);
            continue;
        }
        REQUIRE(mgmt_json_utf8_valid(text, strlen(text)));
        struct mgmt_json_writer w;
        mgmt_json_writer_init(&w, written, sizeof(written));
        mgmt_json_string(&w, text);
        size_t n = mgmt_json_finish(&w);
        REQUIRE(n > 0);
        struct mgmt_json_token again[2];
        struct mgmt_json_document d2;
        REQUIRE(mgmt_json_parse(&d2, written, n, again, 2));
        static char back[4096];
        REQUIRE(mgmt_json_string_copy(&d2, 0, back, sizeof(back)));
        REQUIRE(strcmp(back, text) == 0);
    }
}

static void check_names(void)
{
    static char name[256];
    for (size_t i = 0; i < doc.token_count; i++) {
        if (tokens[i].type != MGMT_JSON_OBJECT)
            continue;
        size_t k = i + 1;
        for (uint32_t m = 0; m < tokens[i].children; m++) {
            bool ascii = mgmt_json_string_copy(&doc, k, name, sizeof(name));
            for (const char *p = name; ascii && *p; p++)
                ascii = (unsigned char)*p < 0x80;
            if (ascii)
                REQUIRE(mgmt_json_object_get(&doc, i, name) == (long)k + 1);
            k = tokens[k + 1].next;
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!mgmt_json_parse(&doc, (const char *)data, size, tokens, TOKENS)) {
        REQUIRE(doc.error != NULL && doc.error_offset <= size);
        return 0;
    }
    REQUIRE(doc.error == NULL);
    REQUIRE(mgmt_json_utf8_valid((const char *)data, size));
    REQUIRE(doc.token_count >= 1 && tokens[0].next == doc.token_count);
    check_tree(0, doc.token_count, 0);
    check_strings();
    check_names();
    uint64_t value;
    for (size_t i = 0; i < doc.token_count; i++)
        if (mgmt_json_number_u64(&doc, i, &value))
            REQUIRE(tokens[i].type == MGMT_JSON_NUMBER && doc.text[tokens[i].start] != '-');
    return 0;
}
