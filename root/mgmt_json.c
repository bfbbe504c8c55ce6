#include "root/mgmt_json.h"

#include <stdio.h>
#include <string.h>

/* --- UTF-8 (RFC 3629 section 4) ---------------------------------------------------------- */

/* The length of the well-formed UTF-8 sequence at bytes[0, length), 0 if there is none. */
static size_t utf8_sequence(const unsigned char *s, size_t length, uint32_t *code_point)
{
    if (length == 0)
        return 0;
    unsigned char c = s[0];
    size_t n;
    uint32_t cp, min;
    if (c < 0x80) {
        *code_point = c;
        return 1;
    } else if (c >= 0xC2 && c <= 0xDF) {
        n = 2, cp = c & 0x1F, min = 0x80;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 3, cp = c & 0x0F, min = 0x800;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4, cp = c & 0x07, min = 0x10000;
    } else {
        return 0; /* a continuation byte, C0/C1 (always overlong) or F5..FF */
    }
    if (length < n)
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = cp << 6 | (s[i] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    *code_point = cp;
    return n;
}

bool mgmt_json_utf8_valid(const char *bytes, size_t length)
{
    const unsigned char *s = (const unsigned char *)bytes;
    size_t i = 0;
    uint32_t cp;
    while (i < length) {
        size_t n = utf8_sequence(s + i, length - i, &cp);
        if (n == 0)
            return false;
        i += n;
    }
    return true;
}

/* --- the reader ------------------------------------------------------------------------- */

struct reader {
    struct mgmt_json_document *doc;
    size_t pos;
};

static bool reader_fail(struct reader *r, const char *why)
{
    if (!r->doc->error) {
        r->doc->error = why;
        r->doc->error_offset = r->pos;
    }
    return false;
}

static int peek(const struct reader *r)
{
    return r->pos < r->doc->text_length ? (unsigned char)r->doc->text[r->pos] : -1;
}

static void skip_whitespace(struct reader *r)
{
    for (int c = peek(r); c == ' ' || c == '\t' || c == '\n' || c == '\r'; c = peek(r))
        r->pos++;
}

static long new_token(struct reader *r, enum mgmt_json_type type)
{
    struct mgmt_json_document *doc = r->doc;
    if (doc->token_count == doc->token_capacity) {
        reader_fail(r, "too many values");
        return -1;
    }
    size_t index = doc->token_count++;
    doc->tokens[index] = (struct mgmt_json_token){ .type = type, .start = (uint32_t)r->pos };
    return (long)index;
}

static int hex_value(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Four hex digits after "\u" at text[at]; -1 if they are not. */
static long hex4(const char *text, size_t length, size_t at)
{
    if (at + 4 > length)
        return -1;
    long value = 0;
    for (size_t i = 0; i < 4; i++) {
        int digit = hex_value((unsigned char)text[at + i]);
        if (digit < 0)
            return -1;
        value = value << 4 | digit;
    }
    return value;
}

/* Decodes the code point at raw[*pos] of an already validated string and advances. */
static uint32_t decode_next(const char *raw, size_t length, size_t *pos)
{
    const unsigned char *s = (const unsigned char *)raw;
    uint32_t cp = 0;
    if (s[*pos] != '\\') {
        *pos += utf8_sequence(s + *pos, length - *pos, &cp);
        return cp;
    }
    char e = raw[*pos + 1];
    *pos += 2;
    switch (e) {
    case 'b': return '\b';
    case 'f': return '\f';
    case 'n': return '\n';
    case 'r': return '\r';
    case 't': return '\t';
    case 'u': break;
    default: return (uint32_t)e; /* '"', '\\', '/' */
    }
    cp = (uint32_t)hex4(raw, length, *pos);
    *pos += 4;
    if (cp >= 0xD800 && cp <= 0xDBFF) { /* a validated high surrogate: a low one follows */
        uint32_t low = (uint32_t)hex4(raw, length, *pos + 2);
        *pos += 6;
        cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
    }
    return cp;
}

static bool parse_string(struct reader *r, long index)
{
    const char *text = r->doc->text;
    size_t length = r->doc->text_length;
    r->pos++; /* the opening quote */
    size_t start = r->pos;
    for (;;) {
        if (r->pos >= length)
            return reader_fail(r, "unterminated string");
        unsigned char c = (unsigned char)text[r->pos];
        if (c == '"')
            break;
        if (c < 0x20)
            return reader_fail(r, "control character in string");
        if (c != '\\') {
            uint32_t cp;
            size_t n = utf8_sequence((const unsigned char *)text + r->pos, length - r->pos,
                                     &cp);
            if (n == 0)
                return reader_fail(r, "invalid UTF-8");
            r->pos += n;
            continue;
        }
        int e = r->pos + 1 < length ? (unsigned char)text[r->pos + 1] : -1;
        if (e < 0 || !strchr("\"\\/bfnrtu", e))
            return reader_fail(r, "invalid escape");
        if (e != 'u') {
            r->pos += 2;
            continue;
        }
        long unit = hex4(text, length, r->pos + 2);
        if (unit < 0)
            return reader_fail(r, "invalid \\u escape");
        if (unit >= 0xDC00 && unit <= 0xDFFF)
            return reader_fail(r, "lone low surrogate");
        if (unit >= 0xD800 && unit <= 0xDBFF) {
            long low = (r->pos + 8 <= length && text[r->pos + 6] == '\\' &&
                        text[r->pos + 7] == 'u')
                           ? hex4(text, length, r->pos + 8)
                           : -1;
            if (low < 0xDC00 || low > 0xDFFF)
                return reader_fail(r, "high surrogate without a low one");
            r->pos += 6;
        }
        r->pos += 6;
    }
    if (index >= 0) {
        r->doc->tokens[index].start = (uint32_t)start;
        r->doc->tokens[index].length = (uint32_t)(r->pos - start);
    }
    r->pos++; /* the closing quote */
    return true;
}

static bool digits(struct reader *r)
{
    size_t start = r->pos;
    for (int c = peek(r); c >= '0' && c <= '9'; c = peek(r))
        r->pos++;
    return r->pos > start;
}

/* number = [ minus ] int [ frac ] [ exp ] (RFC 8259 section 6). */
static bool parse_number(struct reader *r)
{
    if (peek(r) == '-')
        r->pos++;
    if (peek(r) == '0') {
        r->pos++;
        if (peek(r) >= '0' && peek(r) <= '9')
            return reader_fail(r, "leading zero");
    } else if (!digits(r)) {
        return reader_fail(r, "malformed number");
    }
    if (peek(r) == '.') {
        r->pos++;
        if (!digits(r))
            return reader_fail(r, "malformed fraction");
    }
    if (peek(r) == 'e' || peek(r) == 'E') {
        r->pos++;
        if (peek(r) == '+' || peek(r) == '-')
            r->pos++;
        if (!digits(r))
            return reader_fail(r, "malformed exponent");
    }
    return true;
}

static bool literal(struct reader *r, const char *word)
{
    size_t n = strlen(word);
    if (r->doc->text_length - r->pos < n || memcmp(r->doc->text + r->pos, word, n) != 0)
        return reader_fail(r, "unexpected character");
    r->pos += n;
    return true;
}

/* Equal after decoding escapes: "a" and "\u0061" name the same member. */
static bool strings_equal(const struct mgmt_json_document *doc, size_t a, size_t b)
{
    const struct mgmt_json_token *x = &doc->tokens[a], *y = &doc->tokens[b];
    const char *xs = doc->text + x->start, *ys = doc->text + y->start;
    size_t i = 0, j = 0;
    while (i < x->length && j < y->length)
        if (decode_next(xs, x->length, &i) != decode_next(ys, y->length, &j))
            return false;
    return i == x->length && j == y->length;
}

static bool parse_value(struct reader *r, unsigned depth);

static bool parse_container(struct reader *r, unsigned depth, bool object)
{
    if (depth >= MGMT_JSON_DEPTH_MAX)
        return reader_fail(r, "nested too deeply");
    long index = new_token(r, object ? MGMT_JSON_OBJECT : MGMT_JSON_ARRAY);
    if (index < 0)
        return false;
    struct mgmt_json_document *doc = r->doc;
    char close = object ? '}' : ']';
    r->pos++;
    skip_whitespace(r);
    if (peek(r) == close) {
        r->pos++;
        doc->tokens[index].next = (uint32_t)doc->token_count;
        return true;
    }
    for (;;) {
        skip_whitespace(r);
        if (object) {
            if (peek(r) != '"')
                return reader_fail(r, "expected a member name");
            long name = new_token(r, MGMT_JSON_STRING);
            if (name < 0 || !parse_string(r, name))
                return false;
            doc->tokens[name].next = (uint32_t)name + 1;
            /* Earlier names of this object: name tokens follow each value's subtree. */
            for (size_t k = (size_t)index + 1; k < (size_t)name; k = doc->tokens[k + 1].next)
                if (strings_equal(doc, k, (size_t)name))
                    return reader_fail(r, "duplicate member name");
            skip_whitespace(r);
            if (peek(r) != ':')
                return reader_fail(r, "expected ':'");
            r->pos++;
        }
        if (!parse_value(r, depth + 1))
            return false;
        doc->tokens[index].children++;
        skip_whitespace(r);
        int c = peek(r);
        r->pos++;
        if (c == close)
            break;
        if (c != ',') {
            r->pos--;
            return reader_fail(r, object ? "expected ',' or '}'" : "expected ',' or ']'");
        }
    }
    doc->tokens[index].next = (uint32_t)doc->token_count;
    return true;
}

static bool parse_value(struct reader *r, unsigned depth)
{
    skip_whitespace(r);
    int c = peek(r);
    long index;
    switch (c) {
    case '{':
        return parse_container(r, depth, true);
    case '[':
        return parse_container(r, depth, false);
    case '"':
        index = new_token(r, MGMT_JSON_STRING);
        if (index < 0 || !parse_string(r, index))
            return false;
        break;
    case 't':
    case 'f':
    case 'n':
        index = new_token(r, c == 't' ? MGMT_JSON_TRUE : c == 'f' ? MGMT_JSON_FALSE
                                                                   : MGMT_JSON_NULL);
        if (index < 0 || !literal(r, c == 't' ? "true" : c == 'f' ? "false" : "null"))
            return false;
        break;
    case -1:
        return reader_fail(r, "unexpected end of text");
    default:
        if (c != '-' && (c < '0' || c > '9'))
            return reader_fail(r, "unexpected character");
        index = new_token(r, MGMT_JSON_NUMBER);
        if (index < 0 || !parse_number(r))
            return false;
        r->doc->tokens[index].length = (uint32_t)(r->pos - r->doc->tokens[index].start);
        break;
    }
    r->doc->tokens[index].next = (uint32_t)index + 1;
    return true;
}

bool mgmt_json_parse(struct mgmt_json_document *doc, const char *text, size_t length,
                     struct mgmt_json_token *tokens, size_t capacity)
{
    *doc = (struct mgmt_json_document){
        .text = text, .text_length = length, .tokens = tokens, .token_capacity = capacity,
    };
    struct reader r = { .doc = doc, .pos = 0 };
    if (length > MGMT_JSON_TEXT_MAX)
        return reader_fail(&r, "text too long");
    if (!parse_value(&r, 0))
        return false;
    skip_whitespace(&r);
    if (r.pos != length)
        return reader_fail(&r, "text after the value");
    return true;
}

long mgmt_json_object_get(const struct mgmt_json_document *doc, size_t object,
                          const char *name)
{
    if (object >= doc->token_count || doc->tokens[object].type != MGMT_JSON_OBJECT)
        return -1;
    size_t name_length = strlen(name);
    size_t k = object + 1;
    for (uint32_t m = 0; m < doc->tokens[object].children; m++) {
        const struct mgmt_json_token *key = &doc->tokens[k];
        const char *raw = doc->text + key->start;
        size_t i = 0, j = 0;
        /* Compare decoded code points with the name's bytes (ASCII names only). */
        while (i < key->length && j < name_length &&
               decode_next(raw, key->length, &i) == (unsigned char)name[j])
            j++;
        if (i == key->length && j == name_length)
            return (long)k + 1;
        k = doc->tokens[k + 1].next;
    }
    return -1;
}

static size_t utf8_encode(uint32_t cp, char *out)
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | cp >> 6);
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | cp >> 12);
        out[1] = (char)(0x80 | (cp >> 6 & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | cp >> 18);
    out[1] = (char)(0x80 | (cp >> 12 & 0x3F));
    out[2] = (char)(0x80 | (cp >> 6 & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

bool mgmt_json_string_copy(const struct mgmt_json_document *doc, size_t index, char *out,
                           size_t size)
{
    if (size == 0 || index >= doc->token_count ||
        doc->tokens[index].type != MGMT_JSON_STRING)
        return false;
    const struct mgmt_json_token *t = &doc->tokens[index];
    const char *raw = doc->text + t->start;
    size_t i = 0, n = 0;
    while (i < t->length) {
        uint32_t cp = decode_next(raw, t->length, &i);
        char bytes[4];
        size_t k = utf8_encode(cp, bytes);
        if (cp == 0 || n + k + 1 > size) {
            out[0] = '\0';
            return false;
        }
        memcpy(out + n, bytes, k);
        n += k;
    }
    out[n] = '\0';
    return true;
}

bool mgmt_json_number_u64(const struct mgmt_json_document *doc, size_t index, uint64_t *out)
{
    if (index >= doc->token_count || doc->tokens[index].type != MGMT_JSON_NUMBER)
        return false;
    const struct mgmt_json_token *t = &doc->tokens[index];
    const char *s = doc->text + t->start;
    uint64_t value = 0;
    for (size_t i = 0; i < t->length; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false; /* a sign, fraction or exponent */
        uint64_t digit = (uint64_t)(s[i] - '0');
        if (value > (UINT64_MAX - digit) / 10)
            return false;
        value = value * 10 + digit;
    }
    *out = value;
    return true;
}

/* --- the writer --------------------------------------------------------------------------- */

void mgmt_json_writer_init(struct mgmt_json_writer *w, char *out, size_t size)
{
    memset(w, 0, sizeof(*w));
    w->out = out;
    w->size = size;
    w->failed = size == 0;
}

static void put(struct mgmt_json_writer *w, const char *bytes, size_t n)
{
    if (w->failed)
        return;
    if (n >= w->size - w->length) { /* keep room for the NUL */
        w->failed = true;
        return;
    }
    memcpy(w->out + w->length, bytes, n);
    w->length += n;
    w->out[w->length] = '\0';
}

/* Separator before a value: a comma after a sibling, nothing after a key. */
static void before_value(struct mgmt_json_writer *w)
{
    if (w->after_key) {
        w->after_key = false;
        return;
    }
    if (w->need_comma[w->depth])
        put(w, ",", 1);
    w->need_comma[w->depth] = true;
}

static void open_container(struct mgmt_json_writer *w, const char *bracket)
{
    before_value(w);
    if (w->depth == MGMT_JSON_DEPTH_MAX) {
        w->failed = true;
        return;
    }
    put(w, bracket, 1);
    w->need_comma[++w->depth] = false;
}

static void close_container(struct mgmt_json_writer *w, const char *bracket)
{
    if (w->depth == 0 || w->after_key) {
        w->failed = true;
        return;
    }
    w->depth--;
    put(w, bracket, 1);
}

void mgmt_json_begin_object(struct mgmt_json_writer *w) { open_container(w, "{"); }
void mgmt_json_end_object(struct mgmt_json_writer *w) { close_container(w, "}"); }
void mgmt_json_begin_array(struct mgmt_json_writer *w) { open_container(w, "["); }
void mgmt_json_end_array(struct mgmt_json_writer *w) { close_container(w, "]"); }

static void put_escaped(struct mgmt_json_writer *w, const char *s)
{
    put(w, "\"", 1);
    size_t length = strlen(s);
    for (size_t i = 0; i < length;) {
        unsigned char c = (unsigned char)s[i];
        char escape[8];
        if (c == '"' || c == '\\') {
            escape[0] = '\\';
            escape[1] = (char)c;
            put(w, escape, 2);
            i++;
        } else if (c < 0x20 || c == 0x7F) {
            snprintf(escape, sizeof(escape), "\\u%04x", c);
            put(w, escape, 6);
            i++;
        } else {
            uint32_t cp;
            size_t n = utf8_sequence((const unsigned char *)s + i, length - i, &cp);
            if (n == 0) {
                put(w, "\\ufffd", 6);
                i++;
            } else {
                put(w, s + i, n);
                i += n;
            }
        }
    }
    put(w, "\"", 1);
}

void mgmt_json_key(struct mgmt_json_writer *w, const char *name)
{
    if (w->after_key) {
        w->failed = true;
        return;
    }
    before_value(w);
    put_escaped(w, name);
    put(w, ":", 1);
    w->after_key = true;
}

void mgmt_json_string(struct mgmt_json_writer *w, const char *value)
{
    before_value(w);
    put_escaped(w, value);
}

void mgmt_json_u64(struct mgmt_json_writer *w, uint64_t value)
{
    char digits_text[24];
    int n = snprintf(digits_text, sizeof(digits_text), "%llu", (unsigned long long)value);
    before_value(w);
    put(w, digits_text, (size_t)n);
}

void mgmt_json_bool(struct mgmt_json_writer *w, bool value)
{
    before_value(w);
    put(w, value ? "true" : "false", value ? 4 : 5);
}

void mgmt_json_null(struct mgmt_json_writer *w)
{
    before_value(w);
    put(w, "null", 4);
}

size_t mgmt_json_finish(struct mgmt_json_writer *w)
{
    if (w->depth != 0 || w->after_key || w->length == 0)
        w->failed = true;
    return w->failed ? 0 : w->length;
}
