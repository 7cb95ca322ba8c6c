/* test_cli_value.c - the hcm tool's value codec (tools/cli/value.c): rendering
 * samples, parsing VALUE text and --type specs, Python struct formats. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "value.h"

#define CHECK_STREQ(a, b)                                                              \
    do {                                                                               \
        const char *s_a_ = (a), *s_b_ = (b);                                           \
        if (s_a_ == NULL || strcmp(s_a_, s_b_) != 0)                                   \
            FAIL("CHECK_STREQ(%s, %s) failed: \"%s\" != \"%s\"", #a, #b,               \
                 s_a_ ? s_a_ : "(null)", s_b_);                                        \
    } while (0)

/* ---- helpers -------------------------------------------------------------- */

static hcm_type type_of(const char *spec)
{
    hcm_type t;
    char err[512] = "";
    if (hcmv_parse_type(spec, &t, err, sizeof err) != 0)
        FAIL("hcmv_parse_type(\"%s\") failed: %s", spec, err);
    return t;
}

/* The sample hcmv_parse() makes of text (malloc'd, *lenp bytes); fails the
 * test if it is rejected. */
static unsigned char *parse_ok(const hcm_type *t, uint64_t max_payload, const char *text,
                               size_t *lenp)
{
    void *data = NULL;
    char err[512] = "";
    if (hcmv_parse(t, max_payload, text, &data, lenp, err, sizeof err) != 0)
        FAIL("hcmv_parse(\"%s\") failed: %s", text, err);
    CHECK(data != NULL);
    return data;
}

/* The message hcmv_parse() gives for text it must reject. */
static const char *parse_err(const hcm_type *t, uint64_t max_payload, const char *text)
{
    static char err[512];
    void *data = (void *)1;
    size_t len = 99;
    err[0] = '\0';
    CHECK_EQ(hcmv_parse(t, max_payload, text, &data, &len, err, sizeof err), -1);
    CHECK(data == NULL);
    CHECK(err[0] != '\0');
    return err;
}

/* Rendering of a sample that must succeed (static buffer). */
static const char *format_ok(const hcm_type *t, const void *data, size_t len, int json,
                             size_t max_elems)
{
    static char text[8192];
    hcmv_buf b = {0};
    char err[512] = "";
    if (hcmv_format(t, data, len, json, max_elems, &b, err, sizeof err) != 0)
        FAIL("hcmv_format failed: %s", err);
    CHECK(b.p != NULL && !b.oom);
    CHECK(b.len < sizeof text);
    memcpy(text, b.p, b.len + 1);
    hcmv_buf_free(&b);
    return text;
}

/* spec/text parsed, then rendered. */
static const char *round_trip(const char *spec, const char *text, int json)
{
    hcm_type t = type_of(spec);
    size_t len = 0;
    unsigned char *data = parse_ok(&t, 0, text, &len);
    CHECK_EQ_U64(len, hcm_type_fixed_size(&t) ? hcm_type_fixed_size(&t) : len);
    const char *out = format_ok(&t, data, len, json, 0);
    free(data);
    return out;
}

/* The bytes of a parsed value must be exactly `want`. */
static void check_bytes(const char *spec, const char *text, const void *want, size_t n)
{
    hcm_type t = type_of(spec);
    size_t len = 0;
    unsigned char *data = parse_ok(&t, 0, text, &len);
    CHECK_EQ_U64(len, n);
    if (memcmp(data, want, n) != 0)
        FAIL("bytes of %s '%s' differ from the expected ones", spec, text);
    free(data);
}

static int valid_utf8_no_controls(const char *s)
{
    const unsigned char *u = (const unsigned char *)s;
    while (*u) {
        int n = *u < 0x80 ? 1 : (*u & 0xE0) == 0xC0 ? 2 : (*u & 0xF0) == 0xE0 ? 3
              : (*u & 0xF8) == 0xF0 ? 4 : 0;
        if (n == 0 || (n == 1 && *u < 0x20))
            return 0;
        for (int i = 1; i < n; i++)
            if ((u[i] & 0xC0) != 0x80)
                return 0;
        u += n;
    }
    return 1;
}

/* ---- scalars --------------------------------------------------------------- */

TEST(bool_round_trips_from_true_false_1_0_in_any_case)
{
    CHECK_STREQ(round_trip("bool", "true", 0), "true");
    CHECK_STREQ(round_trip("bool", "FALSE", 1), "false");
    CHECK_STREQ(round_trip("bool", "1", 0), "true");
    CHECK_STREQ(round_trip("bool", "0", 1), "false");
    CHECK_STREQ(round_trip("bool", "True", 1), "true");
    hcm_type t = type_of("bool");
    unsigned char two = 2;
    CHECK_STREQ(format_ok(&t, &two, 1, 0, 0), "true");
    CHECK_CONTAINS(parse_err(&t, 0, "yes"), "'yes' is not a bool");
}

TEST(int_kinds_round_trip_their_extremes)
{
    CHECK_STREQ(round_trip("int8", "-128", 0), "-128");
    CHECK_STREQ(round_trip("int8", "127", 1), "127");
    CHECK_STREQ(round_trip("int16", "-32768", 0), "-32768");
    CHECK_STREQ(round_trip("int32", "2147483647", 0), "2147483647");
    CHECK_STREQ(round_trip("int64", "-9223372036854775808", 0), "-9223372036854775808");
    CHECK_STREQ(round_trip("int64", "9223372036854775807", 1), "9223372036854775807");
    CHECK_STREQ(round_trip("uint8", "255", 0), "255");
    CHECK_STREQ(round_trip("uint16", "65535", 0), "65535");
    CHECK_STREQ(round_trip("uint32", "4294967295", 0), "4294967295");
    CHECK_STREQ(round_trip("uint64", "18446744073709551615", 1), "18446744073709551615");
}

TEST(ints_accept_hex_signs_and_surrounding_blanks)
{
    CHECK_STREQ(round_trip("uint64", "0xffffffffffffffff", 0), "18446744073709551615");
    CHECK_STREQ(round_trip("int16", "-0x8000", 0), "-32768");
    CHECK_STREQ(round_trip("int32", "+42", 0), "42");
    CHECK_STREQ(round_trip("uint8", " 7 ", 0), "7");
    CHECK_STREQ(round_trip("int32", "007", 0), "7");
    CHECK_STREQ(round_trip("uint32", "-0", 0), "0");
}

TEST(out_of_range_ints_are_rejected_naming_value_and_type)
{
    hcm_type t = type_of("uint8");
    CHECK_STREQ(parse_err(&t, 0, "300"), "300 does not fit uint8");
    CHECK_STREQ(parse_err(&t, 0, "-1"), "-1 does not fit uint8");
    t = type_of("int8");
    CHECK_STREQ(parse_err(&t, 0, "128"), "128 does not fit int8");
    CHECK_STREQ(parse_err(&t, 0, "-129"), "-129 does not fit int8");
    t = type_of("int64");
    CHECK_STREQ(parse_err(&t, 0, "9223372036854775808"),
                "9223372036854775808 does not fit int64");
    t = type_of("uint64");
    CHECK_STREQ(parse_err(&t, 0, "18446744073709551616"),
                "18446744073709551616 does not fit uint64");
    CHECK_STREQ(parse_err(&t, 0, "0x10000000000000000"), "0x10000000000000000 does not fit uint64");
}

TEST(trailing_junk_is_rejected)
{
    hcm_type t = type_of("int32");
    CHECK_STREQ(parse_err(&t, 0, "12abc"), "'12abc' is not an int32");
    CHECK_STREQ(parse_err(&t, 0, ""), "'' is not an int32");
    CHECK_STREQ(parse_err(&t, 0, "0x"), "'0x' is not an int32");
    CHECK_STREQ(parse_err(&t, 0, "1 2"), "'1 2' is not an int32");
    t = type_of("uint16");
    CHECK_STREQ(parse_err(&t, 0, "1.5"), "'1.5' is not a uint16");
    t = type_of("float64");
    CHECK_STREQ(parse_err(&t, 0, "1.5x"), "'1.5x' is not a float64");
    CHECK_STREQ(parse_err(&t, 0, "abc"), "'abc' is not a float64");
}

TEST(float64_round_trips_in_shortest_form)
{
    CHECK_STREQ(round_trip("float64", "0.1", 0), "0.1");
    CHECK_STREQ(round_trip("float64", "1.5", 1), "1.5");
    CHECK_STREQ(round_trip("float64", "2", 0), "2");
    CHECK_STREQ(round_trip("float64", "123456789.125", 0), "123456789.125");
    CHECK_STREQ(round_trip("float64", "0.30000000000000004", 0), "0.30000000000000004");
    CHECK_STREQ(round_trip("float64", "1e300", 0), "1e+300");
    CHECK_STREQ(round_trip("float64", "5e-324", 0), "4.94066e-324");
    CHECK_STREQ(round_trip("float64", "-0", 1), "-0");
}

TEST(float_nan_and_inf_are_bare_words_in_both_modes)
{
    CHECK_STREQ(round_trip("float64", "nan", 0), "nan");
    CHECK_STREQ(round_trip("float64", "NaN", 1), "NaN");
    CHECK_STREQ(round_trip("float64", "inf", 0), "inf");
    CHECK_STREQ(round_trip("float64", "Infinity", 1), "Infinity");
    CHECK_STREQ(round_trip("float64", "-inf", 0), "-inf");
    CHECK_STREQ(round_trip("float64", "-inf", 1), "-Infinity");
    CHECK_STREQ(round_trip("float32", "nan", 1), "NaN");
    CHECK_STREQ(round_trip("float32", "-Infinity", 0), "-inf");
}

TEST(float32_prints_its_shortest_form_so_0_1_is_0_1)
{
    CHECK_STREQ(round_trip("float32", "0.1", 0), "0.1");
    CHECK_STREQ(round_trip("float32", "0.1", 1), "0.1");
    CHECK_STREQ(round_trip("float32", "3.7", 0), "3.7");
    CHECK_STREQ(round_trip("float32", "16777217", 0), "16777216");
    float f;
    hcm_type t = type_of("float32");
    size_t len = 0;
    unsigned char *data = parse_ok(&t, 0, "0.1", &len);
    CHECK_EQ(len, 4);
    memcpy(&f, data, sizeof f);
    CHECK(f == 0.1f);
    free(data);
}

TEST(float32_beyond_flt_max_is_rejected_but_rounding_to_it_is_fine)
{
    hcm_type t = type_of("float32");
    CHECK_CONTAINS(parse_err(&t, 0, "3.5e38"), "3.5e38 does not fit float32");
    CHECK_CONTAINS(parse_err(&t, 0, "-1e39"), "-1e39 does not fit float32");
    CHECK_STREQ(round_trip("float32", "3.4028235e38", 0), "3.4028235e+38");
    CHECK_STREQ(round_trip("float32", "inf", 0), "inf");
    t = type_of("float64");
    CHECK_CONTAINS(parse_err(&t, 0, "1e400"), "1e400 does not fit float64");
}

TEST(sample_length_mismatch_is_an_error_naming_both_sizes)
{
    hcm_type t = type_of("float64");
    unsigned char data[16] = {0};
    hcmv_buf b = {0};
    char err[256] = "";
    CHECK_EQ(hcmv_format(&t, data, 7, 0, 0, &b, err, sizeof err), -1);
    CHECK_STREQ(err, "sample of 7 bytes, type float64 needs 8");
    t = type_of("uint8[2,3]");
    CHECK_EQ(hcmv_format(&t, data, 16, 1, 0, &b, err, sizeof err), -1);
    CHECK_STREQ(err, "sample of 16 bytes, type uint8[2,3] needs 6");
    CHECK_EQ(hcmv_format(&t, data, 6, 1, 0, &b, NULL, 0), 0); /* err may be NULL */
    hcmv_buf_free(&b);
}

TEST(type_none_cannot_be_parsed_or_rendered)
{
    hcm_type t = hcm_type_scalar(HCM_TYPE_NONE);
    CHECK_STREQ(parse_err(&t, 0, "1"), "type unknown: give --type");
    hcmv_buf b = {0};
    char err[256] = "";
    CHECK_EQ(hcmv_format(&t, "x", 1, 0, 0, &b, err, sizeof err), -1);
    CHECK_CONTAINS(err, "type unknown");
    CHECK_EQ(b.len, 0);
}

/* ---- strings and bytes ------------------------------------------------------ */

TEST(json_string_escapes_quotes_backslashes_and_control_characters)
{
    hcmv_buf b = {0};
    hcmv_buf_json_string(&b, "a\"b\\c\n\t\r\b\f\x01\x1f\x7f", 13);
    CHECK_STREQ(b.p, "\"a\\\"b\\\\c\\n\\t\\r\\b\\f\\u0001\\u001f\x7f\"");
    hcmv_buf_free(&b);
    hcmv_buf_json_string(&b, "nul\0in", 6);
    CHECK_STREQ(b.p, "\"nul\\u0000in\"");
    hcmv_buf_free(&b);
    hcmv_buf_json_string(&b, "", 0);
    CHECK_STREQ(b.p, "\"\"");
    hcmv_buf_free(&b);
}

TEST(invalid_utf8_renders_as_valid_json_with_each_bad_byte_escaped)
{
    hcm_type t = type_of("string");
    /* valid 2/3/4-byte sequences pass; a stray continuation byte, an
     * overlong form, a surrogate, a cut sequence and 0xff are escaped */
    const char s[] = "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80|\x80|\xc0\xaf|\xed\xa0\x80|\xe2\x82|\xff";
    const char *out = format_ok(&t, s, sizeof s - 1, 1, 0);
    CHECK_STREQ(out, "\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80|\\u0080|\\u00c0\\u00af|"
                     "\\u00ed\\u00a0\\u0080|\\u00e2\\u0082|\\u00ff\"");
    CHECK(valid_utf8_no_controls(out));
    CHECK_STREQ(format_ok(&t, s, sizeof s - 1, 0, 0), out); /* same in human mode */
}

TEST(string_is_verbatim_or_an_unescaped_json_literal)
{
    CHECK_STREQ(round_trip("string", "hello world", 0), "\"hello world\"");
    CHECK_STREQ(round_trip("string", "say \"hi\"", 0), "\"say \\\"hi\\\"\"");
    CHECK_STREQ(round_trip("string", "back\\slash", 1), "\"back\\\\slash\"");
    check_bytes("string", "\"a\\nb\"", "a\nb", 3);
    check_bytes("string", "\"\\u00e9\\ud83d\\ude00\\/\"", "\xc3\xa9\xf0\x9f\x98\x80/", 7);
    check_bytes("string", "\"\"", "", 0);
    check_bytes("string", "", "", 0);
    check_bytes("string", "\"", "\"", 1); /* one quote is no literal */
    CHECK_STREQ(round_trip("string", "\"tab\\there\"", 1), "\"tab\\there\"");
}

TEST(string_rejects_invalid_utf8_bad_literals_and_oversize)
{
    hcm_type t = type_of("string");
    CHECK_STREQ(parse_err(&t, 0, "ab\xff"), "string is not valid UTF-8: byte 0xff at offset 2");
    CHECK_CONTAINS(parse_err(&t, 0, "\"a\\qb\""), "bad escape");
    CHECK_CONTAINS(parse_err(&t, 0, "\"a\"b\""), "goes on");
    CHECK_CONTAINS(parse_err(&t, 0, "\"\\ud800\""), "surrogate");
    CHECK_CONTAINS(parse_err(&t, 0, "\"\\u12\""), "bad \\u escape");
    const char *e = parse_err(&t, 5, "123456");
    CHECK_CONTAINS(e, "6 bytes");
    CHECK_CONTAINS(e, "5 bytes");
    check_bytes("string", "12345", "12345", 5);
    size_t len = 0;
    free(parse_ok(&t, 5, "12345", &len));
    CHECK_EQ(len, 5);
}

TEST(bytes_render_as_hex_in_both_modes)
{
    hcm_type t = type_of("bytes");
    const unsigned char d[] = {0x0a, 0x1b, 0xff, 0x00};
    CHECK_STREQ(format_ok(&t, d, sizeof d, 0, 0), "0a1bff00");
    CHECK_STREQ(format_ok(&t, d, sizeof d, 1, 0), "\"0a1bff00\"");
    CHECK_STREQ(format_ok(&t, NULL, 0, 0, 0), "\"\"");
    CHECK_STREQ(format_ok(&t, NULL, 0, 1, 0), "\"\"");
}

TEST(bytes_parse_0x_hex_with_separators_or_raw_text)
{
    check_bytes("bytes", "0x0a1bFF", "\x0a\x1b\xff", 3);
    check_bytes("bytes", "0x0a 1b_ff", "\x0a\x1b\xff", 3);
    check_bytes("bytes", "0x", "", 0);
    check_bytes("bytes", "raw text", "raw text", 8);
    check_bytes("bytes", "", "", 0);
    CHECK_STREQ(round_trip("bytes", "0xdeadbeef", 0), "deadbeef");
    hcm_type t = type_of("bytes");
    CHECK_CONTAINS(parse_err(&t, 0, "0xabc"), "odd number of hex digits");
    CHECK_CONTAINS(parse_err(&t, 0, "0xa bc"), "is not a hex digit");
    CHECK_CONTAINS(parse_err(&t, 0, "0xzz"), "'z' at offset 2");
    CHECK_CONTAINS(parse_err(&t, 0, "0x ab"), "is not a hex digit");
    CHECK_CONTAINS(parse_err(&t, 0, "0xab_"), "end with a separator");
}

TEST(bytes_over_max_payload_are_rejected_naming_both_numbers)
{
    hcm_type t = type_of("bytes");
    CHECK_STREQ(parse_err(&t, 4, "0x0102030405"),
                "5 bytes are more than the max payload of 4 bytes");
    CHECK_STREQ(parse_err(&t, 2, "abc"), "3 bytes are more than the max payload of 2 bytes");
    size_t len = 0;
    free(parse_ok(&t, 4, "0x01020304", &len));
    CHECK_EQ(len, 4);
}

/* ---- arrays ------------------------------------------------------------------ */

TEST(array_nested_and_flat_forms_give_the_same_sample)
{
    const unsigned char want[] = {1, 2, 3, 4, 5, 6};
    check_bytes("uint8[2,3]", "[[1,2,3],[4,5,6]]", want, 6);
    check_bytes("uint8[2,3]", " [ [1, 2, 3] , [4 ,5,6] ] ", want, 6);
    check_bytes("uint8[2,3]", "[1,2,3,4,5,6]", want, 6);
    CHECK_STREQ(round_trip("uint8[2,3]", "[1,2,3,4,5,6]", 0), "[[1, 2, 3], [4, 5, 6]]");
    CHECK_STREQ(round_trip("float64[3]", "[1.5, nan, -inf]", 1), "[1.5, NaN, -Infinity]");
    CHECK_STREQ(round_trip("bool[2,1,2]", "[[[true, 0]], [[1, false]]]", 0),
                "[[[true, false]], [[true, false]]]");
    CHECK_STREQ(round_trip("int16[1]", "[-7]", 0), "[-7]");
}

TEST(array_with_a_wrong_count_is_rejected)
{
    hcm_type t = type_of("uint8[2,3]");
    CHECK_STREQ(parse_err(&t, 0, "[1,2,3,4,5]"), "expected 6 values for uint8[2,3], got 5");
    CHECK_STREQ(parse_err(&t, 0, "[1,2,3,4,5,6,7]"), "expected 6 values for uint8[2,3], got 7");
    CHECK_CONTAINS(parse_err(&t, 0, "[[1,2,3],[4,5]]"),
                   "expected 3 values in dimension 2 of uint8[2,3], got 2");
    CHECK_CONTAINS(parse_err(&t, 0, "[[1,2,3],[4,5,6],[7,8,9]]"),
                   "expected 2 values in dimension 1 of uint8[2,3], got 3");
    CHECK_CONTAINS(parse_err(&t, 0, "[]"), "got 0");
}

TEST(array_elements_and_syntax_errors_name_the_place)
{
    hcm_type t = type_of("uint8[4]");
    CHECK_STREQ(parse_err(&t, 0, "[1,2,300,4]"), "element 2 of uint8[4]: 300 does not fit uint8");
    CHECK_CONTAINS(parse_err(&t, 0, "[1,2,,4]"), "expected a uint8 at offset 5");
    CHECK_CONTAINS(parse_err(&t, 0, "[1,2,3,4,]"), "expected a uint8 at offset 9");
    CHECK_CONTAINS(parse_err(&t, 0, "[1 2 3 4]"), "expected ',' or ']' at offset 3");
    CHECK_CONTAINS(parse_err(&t, 0, "[1,2,3,4"), "found the end");
    CHECK_CONTAINS(parse_err(&t, 0, "[1,2,3,4] x"), "unexpected 'x' at offset 10");
    CHECK_CONTAINS(parse_err(&t, 0, "1,2,3,4"), "expected '['");
    CHECK_CONTAINS(parse_err(&t, 0, "[1,\"2\",3,4]"), "found a string");
    CHECK_STREQ(parse_err(&t, 3, "[1,2,3,4]"),
                "type uint8[4] needs 4 bytes, more than the max payload of 3 bytes");
}

TEST(array_human_mode_truncates_at_max_elems_and_json_does_not)
{
    hcm_type t = type_of("uint8[2,3]");
    const unsigned char d[] = {1, 2, 3, 4, 5, 6};
    CHECK_STREQ(format_ok(&t, d, 6, 0, 4), "[[1, 2, 3], [4, ...]] (6 elements)");
    CHECK_STREQ(format_ok(&t, d, 6, 0, 3), "[[1, 2, 3], ...] (6 elements)");
    CHECK_STREQ(format_ok(&t, d, 6, 0, 1), "[[1, ...]] (6 elements)");
    CHECK_STREQ(format_ok(&t, d, 6, 0, 6), "[[1, 2, 3], [4, 5, 6]]");
    CHECK_STREQ(format_ok(&t, d, 6, 0, 0), "[[1, 2, 3], [4, 5, 6]]");
    CHECK_STREQ(format_ok(&t, d, 6, 1, 2), "[[1, 2, 3], [4, 5, 6]]");
    hcm_type big = type_of("uint16[1000]");
    uint16_t v[1000] = {0};
    CHECK_STREQ(format_ok(&big, v, sizeof v, 0, 3), "[0, 0, 0, ...] (1000 elements)");
}

TEST(array_of_struct_round_trips_nested_and_flat)
{
    CHECK_STREQ(round_trip("struct:P:<hb[3]", "[[1, 2], [3, 4], [-5, -6]]", 0),
                "[[1, 2], [3, 4], [-5, -6]]");
    CHECK_STREQ(round_trip("struct:P:<hb[2,2]", "[[[1, 2], [3, 4]], [[5, 6], [7, 8]]]", 1),
                "[[[1, 2], [3, 4]], [[5, 6], [7, 8]]]");
    CHECK_STREQ(round_trip("struct:P:<hb[2,2]", "[[1, 2], [3, 4], [5, 6], [7, 8]]", 1),
                "[[[1, 2], [3, 4]], [[5, 6], [7, 8]]]");
    hcm_type t = type_of("struct:P:<hb[2]");
    CHECK_CONTAINS(parse_err(&t, 0, "[[1, 2], [3]]"), "expected 2 values for struct P '<hb', got 1");
    const unsigned char d[] = {1, 0, 2, 3, 0, 4};
    CHECK_STREQ(format_ok(&t, d, 6, 0, 1), "[[1, 2], ...] (2 elements)");
}

/* ---- structs ------------------------------------------------------------------ */

TEST(struct_Qqd_round_trips_little_endian)
{
    unsigned char want[24] = {1, 0, 0, 0, 0, 0, 0, 0, 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    double d = 3.5;
    memcpy(want + 16, &d, 8);
    check_bytes("struct:Rec:<Qqd", "[1, -2, 3.5]", want, 24);
    CHECK_STREQ(round_trip("struct:Rec:<Qqd", "[18446744073709551615, -9223372036854775808, nan]", 0),
                "[18446744073709551615, -9223372036854775808, nan]");
    CHECK_STREQ(round_trip("struct:Rec:<Qqd", "[1, -2, inf]", 1), "[1, -2, Infinity]");
}

TEST(struct_2d_round_trips)
{
    CHECK_STREQ(round_trip("struct:V:<2d", "[1.5, 2]", 0), "[1.5, 2]");
    CHECK_STREQ(round_trip("struct:V:<2d", " [ 0.1 , -1e-300 ] ", 1), "[0.1, -1e-300]");
    hcm_type t = type_of("struct:V:<2d");
    CHECK_STREQ(parse_err(&t, 0, "[1]"), "expected 2 values for struct V '<2d', got 1");
    CHECK_STREQ(parse_err(&t, 0, "[1, 2, 3, \"x\"]"), "expected 2 values for struct V '<2d', got 4");
    CHECK_CONTAINS(parse_err(&t, 0, "[1, x]"), "value 2 of struct V '<2d': 'x' is not a float64");
}

TEST(struct_native_iq_is_aligned_to_16_bytes)
{
    hcm_type t = type_of("struct:N:@iq");
    CHECK_EQ(t.elem_size, 16);
    size_t len = 0;
    unsigned char *data = parse_ok(&t, 0, "[-1, 0x0102030405060708]", &len);
    CHECK_EQ(len, 16);
    int32_t i;
    int64_t q;
    memcpy(&i, data, 4);
    memcpy(&q, data + 8, 8);
    CHECK_EQ(i, -1);
    CHECK_EQ(q, 0x0102030405060708ll);
    CHECK_EQ(data[4] | data[5] | data[6] | data[7], 0); /* padding stays zero */
    CHECK_STREQ(format_ok(&t, data, len, 0, 0), "[-1, 72623859790382856]");
    free(data);
}

TEST(struct_hx3s_bool_skips_pads_and_strips_string_nuls)
{
    const unsigned char want[7] = {0xfb, 0xff, 0, 'a', 'b', 0, 1};
    check_bytes("struct:S:=hx3s?", "[-5, \"ab\", true]", want, 7);
    CHECK_STREQ(round_trip("struct:S:=hx3s?", "[-5, \"ab\", true]", 0), "[-5, \"ab\", true]");
    CHECK_STREQ(round_trip("struct:S:=hx3s?", "[1, \"abc\", 0]", 1), "[1, \"abc\", false]");
    hcm_type t = type_of("struct:S:=hx3s?");
    CHECK_CONTAINS(parse_err(&t, 0, "[1, \"abcd\", true]"), "string of 4 bytes does not fit '3s'");
    CHECK_CONTAINS(parse_err(&t, 0, "[1, abc, true]"), "expected a string for 's'");
    CHECK_CONTAINS(parse_err(&t, 0, "[1, \"a\", maybe]"), "'maybe' is not a bool");
}

TEST(struct_big_endian_and_char_and_pascal_fields)
{
    const unsigned char want[] = {0x01, 0x02, 0x00, 0x00, 0x00, 0x03, 'x', 0xe9, 2, 'h', 'i', 0};
    check_bytes("struct:B:>hI2c4p", "[258, 3, \"x\", \"\\u00e9\", \"hi\"]", want, sizeof want);
    CHECK_STREQ(round_trip("struct:B:>hI2c4p", "[258, 3, \"x\", \"\\u00e9\", \"hi\"]", 0),
                "[258, 3, \"x\", \"\\u00e9\", \"hi\"]");
    hcm_type t = type_of("struct:B:>hI2c4p");
    CHECK_CONTAINS(parse_err(&t, 0, "[1, 2, \"xy\", \"z\", \"\"]"), "'c' takes a string of one");
    CHECK_CONTAINS(parse_err(&t, 0, "[1, 2, \"x\", \"z\", \"abcd\"]"),
                   "string of 4 bytes does not fit '4p' (at most 3 bytes)");
    CHECK_CONTAINS(parse_err(&t, 0, "[70000, 2, \"x\", \"z\", \"\"]"), "70000 does not fit int16");
    /* a length byte larger than the field is clamped, as Python does */
    const unsigned char odd[] = {0, 0, 0, 0, 0, 0, 'a', 'b', 200, 'x', 'y', 'z'};
    CHECK_STREQ(format_ok(&t, odd, sizeof odd, 1, 0), "[0, 0, \"a\", \"b\", \"xyz\"]");
}

TEST(struct_with_a_bad_format_renders_as_hex)
{
    hcm_type t;
    CHECK_OK(hcm_type_struct(&t, "Bad", "<<d", 8)); /* hcm checks characters only */
    const unsigned char d[8] = {1, 2, 3, 4, 5, 6, 7, 0xff};
    CHECK_STREQ(format_ok(&t, d, 8, 0, 0), "hex:01020304050607ff");
    CHECK_STREQ(format_ok(&t, d, 8, 1, 0), "\"01020304050607ff\"");
    CHECK_CONTAINS(parse_err(&t, 0, "[1]"), "byte order '<' must be the first character");
    CHECK_OK(hcm_type_struct(&t, "Bad", "3", 8));
    CHECK_STREQ(format_ok(&t, d, 8, 0, 0), "hex:01020304050607ff");
}

TEST(struct_whose_size_differs_from_its_format_renders_as_hex)
{
    hcm_type t;
    CHECK_OK(hcm_type_struct(&t, "Short", "<2d", 12));
    unsigned char d[12] = {0xab};
    CHECK_STREQ(format_ok(&t, d, 12, 0, 0), "hex:ab0000000000000000000000");
    CHECK_STREQ(format_ok(&t, d, 12, 1, 0), "\"ab0000000000000000000000\"");
    CHECK_CONTAINS(parse_err(&t, 0, "[1, 2]"), "describes 16 bytes, the type says 12");
    hcm_type arr;
    CHECK_OK(hcm_type_array_of(&arr, &t, 1, (const uint32_t[]){2}));
    unsigned char d2[24] = {0};
    CHECK_STREQ(format_ok(&arr, d2, 24, 0, 1), "hex:000000000000000000000000000000000000000000000000");
}

TEST(half_floats_encode_and_decode_like_python)
{
    /* struct.pack('<e', v).hex() in Python */
    check_bytes("struct:H:<e", "[1.0]", "\x00\x3c", 2);
    check_bytes("struct:H:<e", "[65504]", "\xff\x7b", 2);
    check_bytes("struct:H:<e", "[-2.0]", "\x00\xc0", 2);
    check_bytes("struct:H:<e", "[0.1]", "\x66\x2e", 2);
    check_bytes("struct:H:<e", "[65519.99]", "\xff\x7b", 2);
    check_bytes("struct:H:<e", "[5.960464477539063e-08]", "\x01\x00", 2);
    check_bytes("struct:H:<e", "[2.9802322387695312e-08]", "\x00\x00", 2); /* tie: to even */
    check_bytes("struct:H:<e", "[-inf]", "\x00\xfc", 2);
    CHECK_STREQ(round_trip("struct:H:<e", "[1.0]", 0), "[1]");
    CHECK_STREQ(round_trip("struct:H:<e", "[65504]", 0), "[65504]");
    CHECK_STREQ(round_trip("struct:H:<e", "[-2.0]", 0), "[-2]");
    CHECK_STREQ(round_trip("struct:H:<e", "[0.1]", 0), "[0.0999755859375]");
    CHECK_STREQ(round_trip("struct:H:<e", "[5.960464477539063e-08]", 0), "[5.9604644775390625e-08]");
    CHECK_STREQ(round_trip("struct:H:<e", "[nan]", 1), "[NaN]");
    hcm_type t = type_of("struct:H:<e");
    CHECK_CONTAINS(parse_err(&t, 0, "[65520]"), "65520 does not fit float16");
    CHECK_CONTAINS(parse_err(&t, 0, "[-1e10]"), "-1e10 does not fit float16");
}

TEST(struct_size_matches_python_calcsize)
{
    /* python3 -c "import struct; print(struct.calcsize(F))" on x86-64 */
    static const struct { const char *fmt; uint64_t size; } cases[] = {
        {"<3d4d", 56}, {"@iq", 16}, {"<Qqd", 24}, {"<2q", 16}, {"=hx3s?", 7},
        {"@id", 16},   {"@di", 12}, {"c0i", 4},   {"@bhiq", 16}, {"<bhiq", 15},
        {"!bhiq", 15}, {"@?e", 4},  {"@xPn", 24}, {"@5s3p", 8},  {"@ch", 4},
        {"@c3i", 16},  {"<e", 2},   {"", 0},      {"@q3xd", 24}, {" 2i 3b ", 11},
        {"@lL", 16},   {"<lL", 8},  {"@cd", 16},  {"=cd", 9},    {">e", 2},
        {"@3sd", 16},  {"@2ch", 4}, {"@bq0i", 16}, {"< i", 4},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint64_t size = 12345;
        char err[256] = "";
        if (hcmv_struct_size(cases[i].fmt, &size, err, sizeof err) != 0)
            FAIL("'%s': %s", cases[i].fmt, err);
        if (size != cases[i].size)
            FAIL("calcsize('%s') = %llu, want %llu", cases[i].fmt, (unsigned long long)size,
                 (unsigned long long)cases[i].size);
    }
}

TEST(struct_size_rejects_what_python_rejects)
{
    static const struct { const char *fmt, *msg; } cases[] = {
        {"<n", "'n' is only allowed in native"},
        {"=P", "'P' is only allowed in native"},
        {"z", "bad character 'z'"},
        {"3", "repeat count without a format code"},
        {"<i<", "byte order '<' must be the first character"},
        {"3 i", "bad character ' '"},
        {"99999999999999d", "repeat count over 2^40"},
        {"137438953472d4x", "more than 2^40 bytes"},
        {"i\x01", "bad character byte 0x01"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint64_t size = 0;
        char err[256] = "";
        CHECK_EQ(hcmv_struct_size(cases[i].fmt, &size, err, sizeof err), -1);
        CHECK_CONTAINS(err, cases[i].msg);
    }
}

/* ---- type specs ---------------------------------------------------------------- */

TEST(parse_type_accepts_every_scalar_name)
{
    static const struct { const char *name; hcm_type_kind kind; } cases[] = {
        {"bool", HCM_TYPE_BOOL},       {"int8", HCM_TYPE_INT8},     {"int16", HCM_TYPE_INT16},
        {"int32", HCM_TYPE_INT32},     {"int64", HCM_TYPE_INT64},   {"uint8", HCM_TYPE_UINT8},
        {"uint16", HCM_TYPE_UINT16},   {"uint32", HCM_TYPE_UINT32}, {"uint64", HCM_TYPE_UINT64},
        {"float32", HCM_TYPE_FLOAT32}, {"float64", HCM_TYPE_FLOAT64},
        {"string", HCM_TYPE_STRING},   {"bytes", HCM_TYPE_BYTES},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        hcm_type t = type_of(cases[i].name), want = hcm_type_scalar(cases[i].kind);
        CHECK(hcm_type_equal(&t, &want));
    }
}

TEST(parse_type_accepts_arrays_of_1_to_4_dims)
{
    hcm_type t = type_of("float64[3]"), want;
    CHECK_OK(hcm_type_array(&want, HCM_TYPE_FLOAT64, 1, (const uint32_t[]){3}));
    CHECK(hcm_type_equal(&t, &want));
    t = type_of("uint8[480,640]");
    CHECK_OK(hcm_type_array(&want, HCM_TYPE_UINT8, 2, (const uint32_t[]){480, 640}));
    CHECK(hcm_type_equal(&t, &want));
    t = type_of("int16[1, 2 ,3,4]");
    CHECK_OK(hcm_type_array(&want, HCM_TYPE_INT16, 4, (const uint32_t[]){1, 2, 3, 4}));
    CHECK(hcm_type_equal(&t, &want));
}

TEST(parse_type_accepts_structs_and_arrays_of_structs)
{
    hcm_type t = type_of("struct:Pose:<3d4d"), want, elem;
    CHECK_OK(hcm_type_struct(&want, "Pose", "<3d4d", 56));
    CHECK(hcm_type_equal(&t, &want));
    t = type_of("struct:geo/ns:Pose:<3d4d"); /* names may hold ':' */
    CHECK_STREQ(t.name, "geo/ns:Pose");
    CHECK_STREQ(t.format, "<3d4d");
    t = type_of("struct:Pose:<3d4d[4]");
    CHECK_OK(hcm_type_struct(&elem, "Pose", "<3d4d", 56));
    CHECK_OK(hcm_type_array_of(&want, &elem, 1, (const uint32_t[]){4}));
    CHECK(hcm_type_equal(&t, &want));
    CHECK_EQ_U64(hcm_type_fixed_size(&t), 224);
    t = type_of("struct:A:@iq[2,3]");
    CHECK_EQ(t.elem_size, 16);
    CHECK_EQ(t.ndim, 2);
}

TEST(parse_type_rejects_bad_specs_with_a_message)
{
    static const struct { const char *spec, *msg; } cases[] = {
        {"floot64", "unknown type 'floot64' (expected bool, int8, "},
        {"", "unknown type ''"},
        {"Float64", "unknown type 'Float64'"},
        {"uint8[0]", "extent 0"},
        {"uint8[]", "expected a number"},
        {"uint8[2", "expected ',' or ']'"},
        {"uint8[2]x", "unexpected 'x' after the shape"},
        {"uint8[1,2,3,4,5]", "more than 4 dimensions"},
        {"uint8[4294967296]", "extent over 4294967295"},
        {"uint64[1048576,1048576]", "2^40"},
        {"string[3]", "arrays hold scalars or structs, not string"},
        {"struct:Pose", "needs the form struct:NAME:FORMAT"},
        {"struct:Pose:<3z", "bad character 'z'"},
        {"struct:Pose:", "has no fields"},
        {"struct:Pose:4x[0]", "extent 0"},
        {"struct:Bad name:<d", "struct name 'Bad name'"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        hcm_type t = hcm_type_scalar(HCM_TYPE_INT8), before = t;
        char err[512] = "";
        if (hcmv_parse_type(cases[i].spec, &t, err, sizeof err) != -1)
            FAIL("'%s' was accepted", cases[i].spec);
        CHECK_CONTAINS(err, cases[i].msg);
        CHECK(hcm_type_equal(&t, &before)); /* untouched on error */
    }
}

/* ---- robustness ------------------------------------------------------------------ */

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

/* Random bytes of random lengths (often the right one, so the decoders run)
 * never crash the renderer; run under ASan/UBSan this checks every read. */
TEST(fuzz_format_with_random_samples_never_crashes)
{
    hcm_type types[4];
    types[0] = type_of("struct:F:=bBhHiIqQefd3s?c2px");
    types[1] = type_of("struct:F:@c3pq5s?eNd[3]");
    types[2] = type_of("float32[3,2]");
    CHECK_OK(hcm_type_struct(&types[3], "Lie", "<9999999999d", 16)); /* bad layout */
    unsigned char buf[512];
    int ok = 0;
    for (int n = 0; n < 2000; n++) {
        const hcm_type *t = &types[n % 4];
        size_t fixed = (size_t)hcm_type_fixed_size(t);
        size_t len = (rng() & 1) ? fixed : (size_t)(rng() % (2 * fixed + 2));
        for (size_t i = 0; i < len; i++)
            buf[i] = (unsigned char)rng();
        /* a copy of exactly len bytes, so ASan sees any read past the end */
        unsigned char *data = malloc(len ? len : 1);
        CHECK(data != NULL);
        memcpy(data, buf, len);
        hcmv_buf b = {0};
        char err[256];
        int rc = hcmv_format(t, data, len, (int)(rng() & 1), (size_t)(rng() % 4), &b, err,
                             sizeof err);
        CHECK(rc == 0 || rc == -1);
        CHECK_EQ(rc == 0, len == fixed);
        if (rc == 0) {
            CHECK(b.p != NULL && valid_utf8_no_controls(b.p));
            ok++;
        }
        hcmv_buf_free(&b);
        free(data);
    }
    CHECK(ok > 500);
}

/* Random text over the characters of the value syntax never crashes the
 * parser, and whatever it accepts has exactly the type's size. */
TEST(fuzz_parse_with_random_text_never_crashes)
{
    static const char alphabet[] = "[[[]]],,,  0123456789-+.eExnaif\"\\u\"tr";
    hcm_type types[3];
    types[0] = type_of("struct:F:<hx2s?e");
    types[1] = type_of("int8[2,2]");
    types[2] = type_of("string");
    char text[64];
    for (int n = 0; n < 2000; n++) {
        const hcm_type *t = &types[n % 3];
        size_t len = (size_t)(rng() % (sizeof text - 1));
        for (size_t i = 0; i < len; i++)
            text[i] = alphabet[rng() % (sizeof alphabet - 1)];
        text[len] = '\0';
        void *data = NULL;
        size_t dlen = 0;
        char err[256];
        int rc = hcmv_parse(t, 0, text, &data, &dlen, err, sizeof err);
        CHECK(rc == 0 || rc == -1);
        if (rc == 0 && t->kind != HCM_TYPE_STRING)
            CHECK_EQ_U64(dlen, hcm_type_fixed_size(t));
        free(data);
    }
}
