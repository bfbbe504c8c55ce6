// sources: root/mgmt_json.c
/*
 * The management API's JSON reader (strict RFC 8259) and writer.
 */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "root/mgmt_json.h"

static struct mgmt_json_token tokens[64];
static struct mgmt_json_document doc;

static bool parse(const char *text)
{
    return mgmt_json_parse(&doc, text, strlen(text), tokens, 64);
}

START_TEST(accepts_rfc8259)
{
    static const char *const good[] = {
        "0", "-0", "1", "-12", "1.5", "1e5", "1E+5", "-1.25e-3", "\"\"", "true", "false",
        "null", "[]", "{}", " \t\r\n[ 1 , 2 ]\n", "{\"a\":{\"b\":[1,{\"c\":null}]}}",
        "\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\\uD83D\\uDE00\"", "\"caf\xc3\xa9 \xf0\x9f\x98\x80\"",
        "{\"a\":1,\"b\":2}", "[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]", /* 16 levels */
    };
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
        ck_assert_msg(parse(good[i]), "case %zu (%s): %s at %zu", i, good[i], doc.error,
                      doc.error_offset);
}
END_TEST

START_TEST(refuses_the_rest)
{
    static const char *const bad[] = {
        "", " ", "01", "-", "+1", ".5", "1.", "1e", "1e+", "0x10", "NaN", "Infinity",
        "-Infinity", "tru", "True", "nul", "[1,]", "[,1]", "{\"a\":1,}", "{,}", "{\"a\"}",
        "{\"a\" 1}", "{a:1}", "{'a':1}", "'x'", "[1 2]", "[1] [2]", "1 2", "\"abc",
        "\"a\tb\"", "\"a\nb\"", "\"\\x\"", "\"\\u12\"", "\"\\u12G4\"", "\"\\U0041\"",
        "\"\\uDE00\"", "\"\\uD83D\"", "\"\\uD83Dx\"", "\"\\uD83D\\u0041\"",
        "\"\\uDE00\\uD83D\"", "\"\xc3\"", "\"\xc0\xaf\"", "\"\xe0\x80\xaf\"",
        "\"\xed\xa0\x80\"", "\"\xf4\x90\x80\x80\"", "\"\xff\"", "\"\x80\"",
        "\xef\xbb\xbf{}", /* byte order mark */
        "[1]//", "/*c*/1", "{\"a\":1,\"a\":2}", "{\"a\":1,\"\\u0061\":2}",
        "[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]", /* 17 levels */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ck_assert_msg(!parse(bad[i]), "case %zu (%s) accepted", i, bad[i]);
        ck_assert_ptr_nonnull(doc.error);
        ck_assert_uint_le(doc.error_offset, strlen(bad[i]));
    }
    /* A NUL byte inside the text is a control character, not an end. */
    ck_assert(!mgmt_json_parse(&doc, "\"a\0b\"", 5, tokens, 64));
    ck_assert(!mgmt_json_parse(&doc, "1\0", 2, tokens, 64));
}
END_TEST

START_TEST(token_limit)
{
    ck_assert(mgmt_json_parse(&doc, "[1,2,3]", 7, tokens, 4));
    ck_assert(!mgmt_json_parse(&doc, "[1,2,3]", 7, tokens, 3));
    ck_assert_str_eq(doc.error, "too many values");
    ck_assert(!mgmt_json_parse(&doc, "1", 1, tokens, 0));
}
END_TEST

START_TEST(tree_and_accessors)
{
    ck_assert(parse("{\"name\":\"web\\u0031\",\"memory_mib\":512,\"vps\":[1,2],"
                    "\"big\":18446744073709551616,\"neg\":-1,\"frac\":1.0,\"e\":1e3,"
                    "\"z\":\"a\\u0000b\",\"n\\u0061me2\":true}"));
    ck_assert_int_eq(tokens[0].type, MGMT_JSON_OBJECT);
    ck_assert_uint_eq(tokens[0].children, 9);
    ck_assert_uint_eq(tokens[0].next, doc.token_count);
    char text[16];
    long name = mgmt_json_object_get(&doc, 0, "name");
    ck_assert_int_ge(name, 0);
    ck_assert(mgmt_json_string_copy(&doc, (size_t)name, text, sizeof(text)));
    ck_assert_str_eq(text, "web1");
    ck_assert(!mgmt_json_string_copy(&doc, (size_t)name, text, 4)); /* does not fit */
    uint64_t value;
    ck_assert(mgmt_json_number_u64(&doc, (size_t)mgmt_json_object_get(&doc, 0, "memory_mib"),
                                   &value));
    ck_assert_uint_eq(value, 512);
    long vps = mgmt_json_object_get(&doc, 0, "vps");
    ck_assert_int_eq(tokens[vps].type, MGMT_JSON_ARRAY);
    ck_assert_uint_eq(tokens[vps].children, 2);
    ck_assert_uint_eq(tokens[vps].next, (uint32_t)vps + 3);
    static const char *const not_u64[] = { "big", "neg", "frac", "e", "name" };
    for (size_t i = 0; i < 5; i++)
        ck_assert(!mgmt_json_number_u64(&doc, (size_t)mgmt_json_object_get(&doc, 0, not_u64[i]),
                                        &value));
    ck_assert(!mgmt_json_string_copy(&doc, (size_t)mgmt_json_object_get(&doc, 0, "z"), text,
                                     sizeof(text))); /* U+0000 */
    ck_assert_int_ge(mgmt_json_object_get(&doc, 0, "name2"), 0); /* escaped name */
    ck_assert_int_eq(mgmt_json_object_get(&doc, 0, "nam"), -1);
    ck_assert_int_eq(mgmt_json_object_get(&doc, 0, "missing"), -1);
    ck_assert_int_eq(mgmt_json_object_get(&doc, (size_t)vps, "name"), -1); /* no object */
    ck_assert_int_eq(mgmt_json_object_get(&doc, 999, "name"), -1);
    ck_assert(parse("\"\\uD83D\\uDE00\\u00e9\""));
    ck_assert(mgmt_json_string_copy(&doc, 0, text, sizeof(text)));
    ck_assert_str_eq(text, "\xf0\x9f\x98\x80\xc3\xa9");
}
END_TEST

START_TEST(utf8)
{
    ck_assert(mgmt_json_utf8_valid("a\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", 10));
    ck_assert(!mgmt_json_utf8_valid("\xc1\xbf", 2));         /* overlong */
    ck_assert(!mgmt_json_utf8_valid("\xed\xbf\xbf", 3));     /* surrogate */
    ck_assert(!mgmt_json_utf8_valid("\xe2\x82", 2));         /* truncated */
    ck_assert(!mgmt_json_utf8_valid("\xf4\x90\x80\x80", 4)); /* above U+10FFFF */
}
END_TEST

START_TEST(writer)
{
    char out[256];
    struct mgmt_json_writer w;
    mgmt_json_writer_init(&w, out, sizeof(out));
    mgmt_json_begin_object(&w);
    mgmt_json_key(&w, "a\"b");
    mgmt_json_string(&w, "x\\y\n\x01\x7f\xc3\xa9\xff");
    mgmt_json_key(&w, "n");
    mgmt_json_u64(&w, UINT64_MAX);
    mgmt_json_key(&w, "l");
    mgmt_json_begin_array(&w);
    mgmt_json_bool(&w, true);
    mgmt_json_bool(&w, false);
    mgmt_json_null(&w);
    mgmt_json_begin_object(&w);
    mgmt_json_end_object(&w);
    mgmt_json_end_array(&w);
    mgmt_json_end_object(&w);
    size_t n = mgmt_json_finish(&w);
    static const char expected[] = "{\"a\\\"b\":\"x\\\\y\\u000a\\u0001\\u007f\xc3\xa9\\ufffd\","
                                   "\"n\":18446744073709551615,\"l\":[true,false,null,{}]}";
    ck_assert_str_eq(out, expected);
    ck_assert_uint_eq(n, strlen(expected));
    /* What it writes, the reader takes back. */
    ck_assert(mgmt_json_parse(&doc, out, n, tokens, 64));

    /* Too small: fails, never overruns. */
    char small[8];
    mgmt_json_writer_init(&w, small, sizeof(small));
    mgmt_json_begin_array(&w);
    mgmt_json_string(&w, "123456789");
    mgmt_json_end_array(&w);
    ck_assert_uint_eq(mgmt_json_finish(&w), 0);
    /* Unbalanced or a key without a value: fails. */
    mgmt_json_writer_init(&w, out, sizeof(out));
    mgmt_json_begin_object(&w);
    ck_assert_uint_eq(mgmt_json_finish(&w), 0);
    mgmt_json_writer_init(&w, out, sizeof(out));
    mgmt_json_begin_object(&w);
    mgmt_json_key(&w, "k");
    mgmt_json_end_object(&w);
    ck_assert_uint_eq(mgmt_json_finish(&w), 0);
    mgmt_json_writer_init(&w, out, sizeof(out));
    mgmt_json_end_array(&w);
    ck_assert_uint_eq(mgmt_json_finish(&w), 0);
}
END_TEST

Suite *mgmt_json_suite(void)
{
    Suite *s = suite_create("mgmt_json");
    TCase *tc = tcase_create("json");
    tcase_add_test(tc, accepts_rfc8259);
    tcase_add_test(tc, refuses_the_rest);
    tcase_add_test(tc, token_limit);
    tcase_add_test(tc, tree_and_accessors);
    tcase_add_test(tc, utf8);
    tcase_add_test(tc, writer);
    suite_add_tcase(s, tc);
    return s;
}
