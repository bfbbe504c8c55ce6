/*
 * JSON for the management API (RFC 8259): a strict reader into a flat token tree and a
 * writer into a fixed buffer. Neither allocates.
 *
 * The reader takes exactly one JSON text in UTF-8 (section 8.1) and refuses everything the
 * RFC does not allow: trailing commas, comments, single quotes, leading zeros, "+1", ".5",
 * "1.", NaN/Infinity, unescaped control characters, unknown escapes, lone or reversed
 * UTF-16 surrogates in \u escapes, invalid or overlong UTF-8, a byte order mark, anything
 * after the value. It also refuses what an API must not guess about: duplicate member
 * names in one object (section 4 leaves their meaning open) and nesting deeper than
 * MGMT_JSON_DEPTH_MAX. Tokens point into the caller's text, which must outlive them.
 */
#ifndef HVFW_ROOT_MGMT_JSON_H
#define HVFW_ROOT_MGMT_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MGMT_JSON_DEPTH_MAX 16
#define MGMT_JSON_TEXT_MAX (1u << 20) /* bytes; the HTTP body limit is far below */

enum mgmt_json_type {
    MGMT_JSON_NULL,
    MGMT_JSON_FALSE,
    MGMT_JSON_TRUE,
    MGMT_JSON_NUMBER,
    MGMT_JSON_STRING,
    MGMT_JSON_ARRAY,
    MGMT_JSON_OBJECT,
};

/* One value. An object's children alternate name (a STRING token) and value. */
struct mgmt_json_token {
    enum mgmt_json_type type;
    uint32_t start;    /* offset in the text: strings without their quotes */
    uint32_t length;   /* bytes: a string's raw (still escaped) contents */
    uint32_t children; /* arrays: elements; objects: members (name + value pairs) */
    uint32_t next;     /* index of the token after this one's whole subtree */
};

struct mgmt_json_document {
    const char *text;
    size_t text_length;
    struct mgmt_json_token *tokens; /* tokens[0] is the top-level value */
    size_t token_count;
    size_t token_capacity;
    size_t error_offset;            /* where the text went wrong */
    const char *error;              /* a fixed string, NULL after success */
};

/* Parses `text` into `tokens` (capacity `capacity`). False with doc->error set when the
 * text is not acceptable JSON or needs more tokens than there are. */
bool mgmt_json_parse(struct mgmt_json_document *doc, const char *text, size_t length,
                     struct mgmt_json_token *tokens, size_t capacity);

/* The value of member `name` of the object at token `object`, or -1 if it has none (or
 * `object` is no object). */
long mgmt_json_object_get(const struct mgmt_json_document *doc, size_t object,
                          const char *name);
/* The decoded string at token `index` into `out` (NUL-terminated). False if it is no
 * string, holds U+0000, or does not fit. */
bool mgmt_json_string_copy(const struct mgmt_json_document *doc, size_t index, char *out,
                           size_t size);
/* The number at token `index` if it is an integer (no fraction or exponent) that fits. */
bool mgmt_json_number_u64(const struct mgmt_json_document *doc, size_t index,
                          uint64_t *out);

/* True if `length` bytes at `bytes` are well-formed UTF-8 (RFC 3629: no overlong forms,
 * no surrogates, nothing above U+10FFFF). */
bool mgmt_json_utf8_valid(const char *bytes, size_t length);

/*
 * The writer. Calls nest like the text they produce; a value inside an object follows a
 * mgmt_json_key. When the buffer is too small, or the calls do not nest, `failed` is set
 * and the result must not be used. Strings are escaped (RFC 8259 section 7); invalid UTF-8
 * in them is written as U+FFFD.
 */
struct mgmt_json_writer {
    char *out;
    size_t size;
    size_t length;
    bool failed;
    unsigned depth;
    bool need_comma[MGMT_JSON_DEPTH_MAX + 1];
    bool after_key;
};

void mgmt_json_writer_init(struct mgmt_json_writer *w, char *out, size_t size);
void mgmt_json_begin_object(struct mgmt_json_writer *w);
void mgmt_json_end_object(struct mgmt_json_writer *w);
void mgmt_json_begin_array(struct mgmt_json_writer *w);
void mgmt_json_end_array(struct mgmt_json_writer *w);
void mgmt_json_key(struct mgmt_json_writer *w, const char *name);
void mgmt_json_string(struct mgmt_json_writer *w, const char *value);
void mgmt_json_u64(struct mgmt_json_writer *w, uint64_t value);
void mgmt_json_bool(struct mgmt_json_writer *w, bool value);
void mgmt_json_null(struct mgmt_json_writer *w);
/* The text's length once every object and array is closed; 0 if the writer failed. */
size_t mgmt_json_finish(struct mgmt_json_writer *w);

#endif
