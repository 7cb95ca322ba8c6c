/* tools/cli/value.c - rendering and parsing of sample values (see value.h).
 *
 * Layout of this file:
 *   errors and the growable buffer
 *   JSON string output (UTF-8 aware)
 *   Python struct formats: a walker over the items, hcmv_struct_size()
 *   half floats, byte-order aware loads and stores
 *   hcmv_format()
 *   a small lexer for VALUE text, scalar parsing, hcmv_parse()
 *   hcmv_parse_type()
 *
 * Sizes: no struct or array is larger than 2^40 bytes (hcm's own bound for
 * descriptors), so sums of at most a few such sizes never overflow uint64_t.
 */
#include "value.h"

#include <ctype.h>
#include <errno.h>
#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/types.h>

#include "hcm/error.h"

#define MAX_SIZE (1ull << 40)
#define HOST_BIG (__BYTE_ORDER__ == __ORDER_BIG_ENDIAN__)
#define TYPE_NAME_CAP 256 /* enough for hcm_type_format() of any descriptor */

/* ---- errors --------------------------------------------------------------- */

__attribute__((format(printf, 3, 4))) static int fail(char *err, size_t cap, const char *fmt, ...)
{
    va_list ap;
    if (err != NULL && cap > 0) {
        va_start(ap, fmt);
        vsnprintf(err, cap, fmt, ap);
        va_end(ap);
    }
    return -1;
}

/* Puts context ("element 3: ") in front of the message already in err, so a
 * message from deep inside names where the problem is. */
__attribute__((format(printf, 3, 4))) static void err_prefix(char *err, size_t cap,
                                                             const char *fmt, ...)
{
    char pre[160];
    size_t pl, keep;
    va_list ap;
    if (err == NULL || cap == 0)
        return;
    va_start(ap, fmt);
    vsnprintf(pre, sizeof pre, fmt, ap);
    va_end(ap);
    pl = strlen(pre);
    if (pl >= cap - 1) {
        memcpy(err, pre, cap - 1);
        err[cap - 1] = '\0';
        return;
    }
    keep = strnlen(err, cap - 1);
    if (keep > cap - 1 - pl)
        keep = cap - 1 - pl;
    memmove(err + pl, err, keep);
    memcpy(err, pre, pl);
    err[pl + keep] = '\0';
}

/* "'x'" for a printable character, "byte 0x07" otherwise, for messages. */
static const char *char_desc(int c, char *tmp, size_t cap)
{
    if (c < 0)
        snprintf(tmp, cap, "the end");
    else if (isprint(c))
        snprintf(tmp, cap, "'%c'", c);
    else
        snprintf(tmp, cap, "byte 0x%02x", (unsigned)c);
    return tmp;
}

/* "an int32", "a uint8": names of kinds read better with their article. */
static const char *article(const char *name)
{
    return name[0] == 'i' ? "an" : "a";
}

/* ---- buffer --------------------------------------------------------------- */

/* Makes room for `extra` more bytes plus a NUL; -1 (and oom) if impossible. */
static int buf_reserve(hcmv_buf *b, size_t extra)
{
    size_t need, cap;
    char *p;
    if (b->oom)
        return -1;
    if (extra > SIZE_MAX - 1 - b->len) {
        b->oom = 1;
        return -1;
    }
    need = b->len + extra + 1;
    if (need <= b->cap)
        return 0;
    cap = b->cap ? b->cap : 64;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    p = realloc(b->p, cap);
    if (p == NULL) {
        b->oom = 1;
        return -1;
    }
    b->p = p;
    b->cap = cap;
    return 0;
}

static void buf_append(hcmv_buf *b, const void *s, size_t n)
{
    if (n == 0 || buf_reserve(b, n) != 0)
        return;
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

void hcmv_buf_free(hcmv_buf *b)
{
    if (b == NULL)
        return;
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
    b->oom = 0;
}

void hcmv_buf_putc(hcmv_buf *b, char c)
{
    buf_append(b, &c, 1);
}

void hcmv_buf_puts(hcmv_buf *b, const char *s)
{
    buf_append(b, s, strlen(s));
}

void hcmv_buf_printf(hcmv_buf *b, const char *fmt, ...)
{
    va_list ap;
    int n;
    if (b->oom)
        return;
    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n <= 0 || buf_reserve(b, (size_t)n) != 0)
        return;
    va_start(ap, fmt);
    vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

/* ---- JSON strings --------------------------------------------------------- */

/* Length of the well-formed UTF-8 sequence that starts s (n > 0 bytes), or 0
 * if s does not start one (stray continuation byte, overlong form, surrogate,
 * beyond U+10FFFF, or cut short). */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    unsigned char c = s[0], lo = 0x80, hi = 0xBF;
    size_t len;
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF) {
        len = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
        len = 3;
        lo = c == 0xE0 ? 0xA0 : 0x80; /* no overlong forms */
        hi = c == 0xED ? 0x9F : 0xBF; /* no surrogates */
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        lo = c == 0xF0 ? 0x90 : 0x80;
        hi = c == 0xF4 ? 0x8F : 0xBF; /* nothing beyond U+10FFFF */
    } else {
        return 0;
    }
    if (n < len || s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < len; i++)
        if (s[i] < 0x80 || s[i] > 0xBF)
            return 0;
    return len;
}

/* Offset of the first byte that is not part of valid UTF-8, or n. */
static size_t utf8_invalid_at(const unsigned char *s, size_t n)
{
    size_t i = 0, k;
    while (i < n) {
        k = utf8_len(s + i, n - i);
        if (k == 0)
            return i;
        i += k;
    }
    return n;
}

void hcmv_buf_json_string(hcmv_buf *b, const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0, k;
    hcmv_buf_putc(b, '"');
    while (i < n) {
        unsigned char c = u[i];
        k = utf8_len(u + i, n - i);
        if (k == 0) {
            /* Not UTF-8: show the byte's value, keep the output valid. */
            hcmv_buf_printf(b, "\\u%04x", (unsigned)c);
            i++;
            continue;
        }
        if (k > 1) {
            buf_append(b, u + i, k);
            i += k;
            continue;
        }
        switch (c) {
        case '"': hcmv_buf_puts(b, "\\\""); break;
        case '\\': hcmv_buf_puts(b, "\\\\"); break;
        case '\n': hcmv_buf_puts(b, "\\n"); break;
        case '\t': hcmv_buf_puts(b, "\\t"); break;
        case '\r': hcmv_buf_puts(b, "\\r"); break;
        case '\b': hcmv_buf_puts(b, "\\b"); break;
        case '\f': hcmv_buf_puts(b, "\\f"); break;
        default:
            if (c < 0x20)
                hcmv_buf_printf(b, "\\u%04x", (unsigned)c);
            else
                hcmv_buf_putc(b, (char)c);
        }
        i++;
    }
    hcmv_buf_putc(b, '"');
}

/* ---- Python struct formats ------------------------------------------------- */

/* How a field is read and written; scalar kinds map onto the same classes. */
enum field_class {
    FC_PAD, FC_CHAR, FC_SINT, FC_UINT, FC_BOOL, FC_HALF, FC_FLOAT, FC_DOUBLE, FC_STR, FC_PSTR
};

/* Python measures native alignment as the offset of a member placed after a
 * char, which is also where a C compiler puts it; do the same. */
struct al_short { char c; short x; };
struct al_int { char c; int x; };
struct al_long { char c; long x; };
struct al_llong { char c; long long x; };
struct al_bool { char c; _Bool x; };
struct al_float { char c; float x; };
struct al_double { char c; double x; };
struct al_ptr { char c; void *x; };
struct al_size { char c; size_t x; };
struct al_ssize { char c; ssize_t x; };
#define ALIGN_OF(s) ((uint8_t)offsetof(struct s, x))

typedef struct code_info {
    char code;
    uint8_t cls;       /* enum field_class */
    uint8_t std_size;  /* with = < > !; 0: only allowed with @ */
    uint8_t nat_size;  /* with @ */
    uint8_t nat_align; /* with @ */
} code_info;

static const code_info codes[] = {
    {'x', FC_PAD, 1, 1, 1},
    {'c', FC_CHAR, 1, 1, 1},
    {'b', FC_SINT, 1, 1, 1},
    {'B', FC_UINT, 1, 1, 1},
    {'?', FC_BOOL, 1, sizeof(_Bool), ALIGN_OF(al_bool)},
    {'h', FC_SINT, 2, sizeof(short), ALIGN_OF(al_short)},
    {'H', FC_UINT, 2, sizeof(short), ALIGN_OF(al_short)},
    {'i', FC_SINT, 4, sizeof(int), ALIGN_OF(al_int)},
    {'I', FC_UINT, 4, sizeof(int), ALIGN_OF(al_int)},
    {'l', FC_SINT, 4, sizeof(long), ALIGN_OF(al_long)},
    {'L', FC_UINT, 4, sizeof(long), ALIGN_OF(al_long)},
    {'q', FC_SINT, 8, sizeof(long long), ALIGN_OF(al_llong)},
    {'Q', FC_UINT, 8, sizeof(long long), ALIGN_OF(al_llong)},
    {'n', FC_SINT, 0, sizeof(ssize_t), ALIGN_OF(al_ssize)},
    {'N', FC_UINT, 0, sizeof(size_t), ALIGN_OF(al_size)},
    {'e', FC_HALF, 2, 2, ALIGN_OF(al_short)},
    {'f', FC_FLOAT, 4, sizeof(float), ALIGN_OF(al_float)},
    {'d', FC_DOUBLE, 8, sizeof(double), ALIGN_OF(al_double)},
    {'s', FC_STR, 1, 1, 1},
    {'p', FC_PSTR, 1, 1, 1},
    {'P', FC_UINT, 0, sizeof(void *), ALIGN_OF(al_ptr)},
};

static const code_info *code_lookup(char c)
{
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++)
        if (codes[i].code == c)
            return &codes[i];
    return NULL;
}

/* Walks the items of a format one "[count]code" at a time. */
typedef struct fmt_walk {
    const char *fmt;  /* the whole format, for messages */
    const char *p;    /* next character */
    int native;       /* '@': native sizes and alignment */
    int big;          /* multi-byte fields are big-endian */
    uint64_t offset;  /* end of the items walked so far */
} fmt_walk;

typedef struct fmt_item {
    const code_info *ci;
    uint64_t count;  /* repeats; for 's'/'p' the byte length of its one field */
    uint64_t size;   /* bytes of one repeat; for 's'/'p' the whole field */
    uint64_t offset; /* of the first repeat */
} fmt_item;

static void fmt_begin(fmt_walk *w, const char *fmt)
{
    w->fmt = fmt;
    w->p = fmt;
    w->native = 1;
    w->big = HOST_BIG;
    w->offset = 0;
    switch (fmt[0]) {
    case '@': w->p++; break;
    case '=': w->p++; w->native = 0; break;
    case '<': w->p++; w->native = 0; w->big = 0; break;
    case '>':
    case '!': w->p++; w->native = 0; w->big = 1; break;
    default: break;
    }
}

/* Values one item takes in a struct list: none for pads, one string for
 * 's'/'p', else one per repeat. */
static uint64_t item_values(const fmt_item *it)
{
    if (it->ci->cls == FC_PAD)
        return 0;
    if (it->ci->cls == FC_STR || it->ci->cls == FC_PSTR)
        return 1;
    return it->count;
}

/* 1: *it is the next item; 0: the format ended; -1: bad format (err). */
static int fmt_next(fmt_walk *w, fmt_item *it, char *err, size_t cap)
{
    uint64_t count = 1, unit, offset, align;
    const code_info *ci;
    char tmp[24];
    while (isspace((unsigned char)*w->p))
        w->p++;
    if (*w->p == '\0')
        return 0;
    if (isdigit((unsigned char)*w->p)) {
        count = 0;
        while (isdigit((unsigned char)*w->p)) {
            count = count * 10 + (uint64_t)(*w->p++ - '0');
            if (count > MAX_SIZE)
                return fail(err, cap, "repeat count over 2^40 in struct format '%.140s'",
                            w->fmt);
        }
        /* Python wants the code right after its count, no space between. */
        if (*w->p == '\0')
            return fail(err, cap, "repeat count without a format code at the end of struct "
                                  "format '%.140s'", w->fmt);
    }
    ci = code_lookup(*w->p);
    if (ci == NULL) {
        if (strchr("@=<>!", *w->p) != NULL)
            return fail(err, cap, "byte order '%c' must be the first character of struct "
                                  "format '%.140s'", *w->p, w->fmt);
        return fail(err, cap, "bad character %s in struct format '%.140s'",
                    char_desc((unsigned char)*w->p, tmp, sizeof tmp), w->fmt);
    }
    if (!w->native && ci->std_size == 0)
        return fail(err, cap, "'%c' is only allowed in native ('@') struct formats, not in "
                              "'%.140s'", ci->code, w->fmt);
    w->p++;
    unit = w->native ? ci->nat_size : ci->std_size;
    offset = w->offset;
    /* Python aligns even an item repeated 0 times ("c0i" is 4 bytes). */
    align = w->native ? ci->nat_align : 1;
    if (align > 1 && offset % align != 0)
        offset += align - offset % align;
    it->ci = ci;
    it->count = count;
    it->size = (ci->cls == FC_STR || ci->cls == FC_PSTR) ? count : unit;
    it->offset = offset;
    /* count <= 2^40 and unit <= 8: no overflow here. */
    offset += count * unit;
    if (offset > MAX_SIZE)
        return fail(err, cap, "struct format '%.140s' describes more than 2^40 bytes", w->fmt);
    w->offset = offset;
    return 1;
}

int hcmv_struct_size(const char *format, uint64_t *sizep, char *err, size_t errcap)
{
    fmt_walk w;
    fmt_item it;
    int r;
    if (format == NULL || sizep == NULL)
        return fail(err, errcap, "hcmv_struct_size: NULL argument");
    fmt_begin(&w, format);
    while ((r = fmt_next(&w, &it, err, errcap)) == 1)
        ;
    if (r < 0)
        return -1;
    *sizep = w.offset;
    return 0;
}

/* 1 if the struct format of t (a STRUCT or array of STRUCT) decodes into
 * exactly elem_size bytes; a descriptor from another process may lie. */
static int struct_layout_ok(const hcm_type *t, char *err, size_t cap)
{
    uint64_t size;
    if (hcmv_struct_size(t->format, &size, err, cap) != 0)
        return 0;
    if (size != t->elem_size) {
        fail(err, cap, "struct format '%s' describes %" PRIu64 " bytes, the type says %u",
             t->format, size, t->elem_size);
        return 0;
    }
    return 1;
}

/* ---- half floats, loads, stores ------------------------------------------- */

static double half_to_double(uint16_t h)
{
    unsigned exp = (h >> 10) & 0x1fu, mant = h & 0x3ffu;
    double v;
    if (exp == 0)
        v = ldexp(mant, -24); /* zero or subnormal */
    else if (exp == 31)
        v = mant ? NAN : INFINITY;
    else
        v = ldexp(mant + 1024u, (int)exp - 25);
    return (h & 0x8000u) ? -v : v;
}

/* Rounds x >= 0 to an integer, ties to even, whatever the FPU's mode. */
static double round_even(double x)
{
    double f = floor(x), d = x - f;
    if (d > 0.5 || (d == 0.5 && fmod(f, 2.0) != 0.0))
        f += 1.0;
    return f;
}

/* IEEE binary16 of x, rounded to nearest even; -1 if x is finite but too
 * large (Python's struct raises OverflowError there too). */
static int double_to_half(double x, uint16_t *out)
{
    uint16_t sign = signbit(x) ? 0x8000u : 0u;
    double a = fabs(x), q;
    int e, k;
    if (isnan(x)) {
        *out = (uint16_t)(sign | 0x7e00u);
        return 0;
    }
    if (isinf(x)) {
        *out = (uint16_t)(sign | 0x7c00u);
        return 0;
    }
    if (a == 0.0) {
        *out = sign;
        return 0;
    }
    (void)frexp(a, &e);
    k = e - 1; /* a = 1.f * 2^k */
    if (k < -14) {
        /* Subnormal: units of 2^-24. Rounding up to 1024 gives the smallest
         * normal, whose bits are exactly 1024 too. */
        q = round_even(ldexp(a, 24));
        *out = (uint16_t)(sign | (uint16_t)q);
        return 0;
    }
    q = round_even(ldexp(a, 10 - k)); /* 1024..2048 */
    if (q >= 2048.0) {
        q = 1024.0;
        k++;
    }
    if (k > 15)
        return -1;
    *out = (uint16_t)(sign | (uint16_t)((k + 15) << 10) | (uint16_t)(q - 1024.0));
    return 0;
}

static uint64_t load_uint(const unsigned char *p, size_t n, int big)
{
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++)
        v = (v << 8) | p[big ? i : n - 1 - i];
    return v;
}

static void store_uint(unsigned char *p, size_t n, int big, uint64_t v)
{
    for (size_t i = 0; i < n; i++)
        p[big ? n - 1 - i : i] = (unsigned char)(v >> (8 * i));
}

static int64_t sign_extend(uint64_t v, size_t n)
{
    int64_t s;
    if (n < 8 && ((v >> (8 * n - 1)) & 1u))
        v |= ~(uint64_t)0 << (8 * n);
    memcpy(&s, &v, sizeof s);
    return s;
}

/* ---- rendering ------------------------------------------------------------- */

typedef struct scalar_info {
    const char *name;
    uint8_t size;
    uint8_t cls;
} scalar_info;

static const scalar_info scalars[] = {
    [HCM_TYPE_BOOL] = {"bool", 1, FC_BOOL},       [HCM_TYPE_INT8] = {"int8", 1, FC_SINT},
    [HCM_TYPE_INT16] = {"int16", 2, FC_SINT},     [HCM_TYPE_INT32] = {"int32", 4, FC_SINT},
    [HCM_TYPE_INT64] = {"int64", 8, FC_SINT},     [HCM_TYPE_UINT8] = {"uint8", 1, FC_UINT},
    [HCM_TYPE_UINT16] = {"uint16", 2, FC_UINT},   [HCM_TYPE_UINT32] = {"uint32", 4, FC_UINT},
    [HCM_TYPE_UINT64] = {"uint64", 8, FC_UINT},   [HCM_TYPE_FLOAT32] = {"float32", 4, FC_FLOAT},
    [HCM_TYPE_FLOAT64] = {"float64", 8, FC_DOUBLE},
};

static int is_scalar(uint32_t kind)
{
    return kind >= HCM_TYPE_BOOL && kind <= HCM_TYPE_FLOAT64;
}

/* 1 if v printed with prec significant digits (into tmp) reads back as v. */
static int real_reads_back(char *tmp, size_t cap, int prec, double v, int is_f32)
{
    snprintf(tmp, cap, "%.*g", prec, v);
    return is_f32 ? strtof(tmp, NULL) == (float)v : strtod(tmp, NULL) == v;
}

/* Shortest "%.Ng" (N from 6) that reads back as the same value, so 0.1f
 * prints as 0.1 and not 0.100000001. One more digit never reads back worse
 * (the shorter form with a 0 appended is a candidate), so after the common
 * short case the length is found by bisection; 17 (9 for float32) digits
 * always read back. */
static void put_real(hcmv_buf *b, double v, int is_f32, int json)
{
    char tmp[48];
    int lo = 7, hi = is_f32 ? 9 : 17, mid;
    if (isnan(v)) {
        hcmv_buf_puts(b, json ? "NaN" : "nan");
        return;
    }
    if (isinf(v)) {
        if (json)
            hcmv_buf_puts(b, v < 0 ? "-Infinity" : "Infinity");
        else
            hcmv_buf_puts(b, v < 0 ? "-inf" : "inf");
        return;
    }
    if (!real_reads_back(tmp, sizeof tmp, 6, v, is_f32)) {
        while (lo < hi) {
            mid = lo + (hi - lo) / 2;
            if (real_reads_back(tmp, sizeof tmp, mid, v, is_f32))
                hi = mid;
            else
                lo = mid + 1;
        }
        snprintf(tmp, sizeof tmp, "%.*g", hi, v);
    }
    hcmv_buf_puts(b, tmp);
}

/* One number, bool or char of `size` bytes at p. */
static void put_unit(hcmv_buf *b, int cls, const unsigned char *p, size_t size, int big,
                     int json)
{
    uint64_t v = load_uint(p, size, big);
    switch (cls) {
    case FC_BOOL:
        hcmv_buf_puts(b, v ? "true" : "false");
        break;
    case FC_SINT:
        hcmv_buf_printf(b, "%" PRId64, sign_extend(v, size));
        break;
    case FC_UINT:
        hcmv_buf_printf(b, "%" PRIu64, v);
        break;
    case FC_HALF:
        put_real(b, half_to_double((uint16_t)v), 0, json);
        break;
    case FC_FLOAT: {
        uint32_t u = (uint32_t)v;
        float f;
        memcpy(&f, &u, sizeof f);
        put_real(b, f, 1, json);
        break;
    }
    case FC_DOUBLE: {
        double d;
        memcpy(&d, &v, sizeof d);
        put_real(b, d, 0, json);
        break;
    }
    case FC_CHAR:
        hcmv_buf_json_string(b, (const char *)p, 1);
        break;
    default:
        break;
    }
}

static void put_hex(hcmv_buf *b, const unsigned char *p, size_t n)
{
    static const char digits[] = "0123456789abcdef";
    if (n > SIZE_MAX / 2) {
        b->oom = 1;
        return;
    }
    if (buf_reserve(b, 2 * n) != 0)
        return;
    for (size_t i = 0; i < n; i++) {
        b->p[b->len++] = digits[p[i] >> 4];
        b->p[b->len++] = digits[p[i] & 15];
    }
    b->p[b->len] = '\0';
}

/* Bytes shown as hex: bare in human mode (but "" when empty, so there is
 * something to see), a JSON string in JSON mode. */
static void put_hex_value(hcmv_buf *b, const unsigned char *p, size_t n, int json,
                          const char *human_prefix)
{
    if (json || n == 0) {
        hcmv_buf_putc(b, '"');
        put_hex(b, p, n);
        hcmv_buf_putc(b, '"');
        return;
    }
    hcmv_buf_puts(b, human_prefix);
    put_hex(b, p, n);
}

static void put_sep(hcmv_buf *b, int *first)
{
    if (!*first)
        hcmv_buf_puts(b, ", ");
    *first = 0;
}

/* One struct whose layout struct_layout_ok() accepted: its field values in
 * format order. */
static void put_struct(hcmv_buf *b, const char *format, const unsigned char *p, int json)
{
    fmt_walk w;
    fmt_item it;
    int first = 1;
    fmt_begin(&w, format);
    hcmv_buf_putc(b, '[');
    while (fmt_next(&w, &it, NULL, 0) == 1) {
        const unsigned char *q = p + it.offset;
        size_t n;
        switch (it.ci->cls) {
        case FC_PAD:
            break;
        case FC_STR: /* NUL-padded: the padding is not part of the text */
            n = (size_t)it.size;
            while (n > 0 && q[n - 1] == '\0')
                n--;
            put_sep(b, &first);
            hcmv_buf_json_string(b, (const char *)q, n);
            break;
        case FC_PSTR: /* length byte, then at most size - 1 bytes */
            n = 0;
            if (it.size > 0) {
                n = q[0];
                if (n > it.size - 1)
                    n = (size_t)it.size - 1;
            }
            put_sep(b, &first);
            hcmv_buf_json_string(b, (const char *)(n > 0 ? q + 1 : q), n);
            break;
        default:
            for (uint64_t i = 0; i < it.count; i++) {
                put_sep(b, &first);
                put_unit(b, it.ci->cls, q + i * it.size, (size_t)it.size, w.big, json);
            }
        }
    }
    hcmv_buf_putc(b, ']');
}

typedef struct arr_out {
    const hcm_type *t;
    const unsigned char *data;
    int json;
    size_t max;       /* elements to print, 0: all */
    uint64_t printed; /* elements printed so far */
    int cut;          /* "..." written: stop */
} arr_out;

/* Dimension d of the array, elements from `base` on, as a (nested) list.
 * With a limit, the first list that would pass it gets "..." and every
 * enclosing list closes right after. */
static void put_dim(hcmv_buf *b, arr_out *a, uint32_t d, uint64_t base)
{
    const hcm_type *t = a->t;
    uint64_t stride = 1;
    for (uint32_t k = d + 1; k < t->ndim; k++)
        stride *= t->shape[k];
    hcmv_buf_putc(b, '[');
    for (uint32_t i = 0; i < t->shape[d] && !a->cut; i++) {
        if (a->max != 0 && a->printed >= a->max) {
            hcmv_buf_puts(b, i > 0 ? ", ..." : "...");
            a->cut = 1;
            break;
        }
        if (i > 0)
            hcmv_buf_puts(b, ", ");
        if (d + 1 < t->ndim) {
            put_dim(b, a, d + 1, base + i * stride);
        } else {
            const unsigned char *p = a->data + (base + i) * t->elem_size;
            if (t->elem_kind == HCM_TYPE_STRUCT)
                put_struct(b, t->format, p, a->json);
            else
                put_unit(b, scalars[t->elem_kind].cls, p, t->elem_size, HOST_BIG, a->json);
            a->printed++;
        }
        if (b->oom)
            return;
    }
    hcmv_buf_putc(b, ']');
}

static void put_array(hcmv_buf *b, const hcm_type *t, const unsigned char *data, uint64_t len,
                      int json, size_t max_elems)
{
    arr_out a = {t, data, json, json ? 0 : max_elems, 0, 0};
    uint64_t total = len / t->elem_size;
    if (t->elem_kind == HCM_TYPE_STRUCT && !struct_layout_ok(t, NULL, 0)) {
        put_hex_value(b, data, (size_t)len, json, "hex:");
        return;
    }
    put_dim(b, &a, 0, 0);
    if (a.cut)
        hcmv_buf_printf(b, " (%" PRIu64 " elements)", total);
}

int hcmv_format(const hcm_type *t, const void *data, size_t len, int json, size_t max_elems,
                hcmv_buf *out, char *err, size_t errcap)
{
    const unsigned char *p = data;
    char tname[TYPE_NAME_CAP];
    uint64_t fixed;
    if (t == NULL || out == NULL || (data == NULL && len > 0))
        return fail(err, errcap, "hcmv_format: NULL argument");
    if (t->kind == HCM_TYPE_NONE)
        return fail(err, errcap, "type unknown: cannot decode a sample without a type");
    if (hcm_type_validate(t) != HCM_OK)
        return fail(err, errcap, "invalid type descriptor (kind %u)", t->kind);
    fixed = hcm_type_fixed_size(t);
    if (fixed != 0 && fixed != len)
        return fail(err, errcap, "sample of %zu bytes, type %s needs %" PRIu64, len,
                    hcm_type_format(t, tname, sizeof tname), fixed);
    switch (t->kind) {
    case HCM_TYPE_STRING:
        hcmv_buf_json_string(out, data, len);
        break;
    case HCM_TYPE_BYTES:
        put_hex_value(out, p, len, json, "");
        break;
    case HCM_TYPE_ARRAY:
        put_array(out, t, p, len, json, max_elems);
        break;
    case HCM_TYPE_STRUCT:
        if (struct_layout_ok(t, NULL, 0))
            put_struct(out, t->format, p, json);
        else
            put_hex_value(out, p, len, json, "hex:");
        break;
    default:
        put_unit(out, scalars[t->kind].cls, p, len, HOST_BIG, json);
    }
    if (out->oom)
        return fail(err, errcap, "out of memory rendering a sample of %zu bytes", len);
    return 0;
}

/* ---- parsing: scalars -------------------------------------------------------- */

#define WORD_CAP 128 /* longest number or word accepted as one value */

static int hex_digit(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Name of a struct field's value kind, for messages ("300 does not fit uint8"). */
static const char *unit_name(int cls, uint64_t size)
{
    static const char *const sn[] = {"int8", "int16", "int32", "int64"};
    static const char *const un[] = {"uint8", "uint16", "uint32", "uint64"};
    size_t i = size >= 8 ? 3 : size >= 4 ? 2 : size >= 2 ? 1 : 0;
    switch (cls) {
    case FC_BOOL: return "bool";
    case FC_SINT: return sn[i];
    case FC_UINT: return un[i];
    case FC_HALF: return "float16";
    case FC_FLOAT: return "float32";
    case FC_DOUBLE: return "float64";
    default: return "value";
    }
}

static int parse_bool(const char *s, uint64_t *bits, char *err, size_t cap)
{
    if (strcasecmp(s, "true") == 0 || strcmp(s, "1") == 0)
        *bits = 1;
    else if (strcasecmp(s, "false") == 0 || strcmp(s, "0") == 0)
        *bits = 0;
    else
        return fail(err, cap, "'%s' is not a bool (use true, false, 1 or 0)", s);
    return 0;
}

/* Decimal or 0x hex with an optional sign, range-checked for `size` bytes.
 * Junk is reported before range, so "99999999999999999999x" is "not an int". */
static int parse_int(const char *s, int is_signed, size_t size, const char *name,
                     uint64_t *bits, char *err, size_t cap)
{
    const char *p = s;
    int neg = 0, overflow = 0, d;
    unsigned base = 10;
    uint64_t mag = 0, limit;
    size_t digits = 0;
    if (*p == '+' || *p == '-')
        neg = *p++ == '-';
    if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
        base = 16;
        p += 2;
    }
    for (; (d = hex_digit((unsigned char)*p)) >= 0 && (unsigned)d < base; p++, digits++) {
        if (mag > (UINT64_MAX - (unsigned)d) / base)
            overflow = 1;
        else
            mag = mag * base + (unsigned)d;
    }
    if (digits == 0 || *p != '\0')
        return fail(err, cap, "'%s' is not %s %s", s, article(name), name);
    if (is_signed) {
        limit = (uint64_t)1 << (8 * size - 1); /* |min|; max is one less */
        if (overflow || mag > limit || (!neg && mag == limit))
            return fail(err, cap, "%s does not fit %s", s, name);
        *bits = neg ? (uint64_t)0 - mag : mag;
    } else {
        limit = size >= 8 ? UINT64_MAX : ((uint64_t)1 << (8 * size)) - 1;
        if (overflow || mag > limit || (neg && mag != 0))
            return fail(err, cap, "%s does not fit %s", s, name);
        *bits = mag;
    }
    return 0;
}

/* strtod syntax (nan and inf included); a finite value too large for the
 * type is an error rather than a silent infinity. */
static int parse_real(const char *s, int is_f32, const char *name, double *out, char *err,
                      size_t cap)
{
    char *end;
    double d;
    errno = 0;
    d = is_f32 ? (double)strtof(s, &end) : strtod(s, &end);
    if (end == s || *end != '\0' || isspace((unsigned char)s[0]))
        return fail(err, cap, "'%s' is not %s %s", s, article(name), name);
    if (errno == ERANGE && isinf(d))
        return fail(err, cap, "%s does not fit %s (beyond its largest finite value %g)", s, name,
                    is_f32 ? (double)FLT_MAX : DBL_MAX);
    *out = d;
    return 0;
}

/* One value of a scalar class into the bits to store (size bytes). */
static int parse_unit(int cls, size_t size, const char *name, const char *s, uint64_t *bits,
                      char *err, size_t cap)
{
    double d;
    uint16_t h;
    float f;
    uint32_t u;
    switch (cls) {
    case FC_BOOL:
        return parse_bool(s, bits, err, cap);
    case FC_SINT:
    case FC_UINT:
        return parse_int(s, cls == FC_SINT, size, name, bits, err, cap);
    case FC_HALF:
        if (parse_real(s, 0, name, &d, err, cap) != 0)
            return -1;
        if (double_to_half(d, &h) != 0)
            return fail(err, cap, "%s does not fit %s (beyond its largest finite value 65504)",
                        s, name);
        *bits = h;
        return 0;
    case FC_FLOAT:
        if (parse_real(s, 1, name, &d, err, cap) != 0)
            return -1;
        f = (float)d; /* exact: d came from strtof */
        memcpy(&u, &f, sizeof u);
        *bits = u;
        return 0;
    case FC_DOUBLE:
        if (parse_real(s, 0, name, &d, err, cap) != 0)
            return -1;
        memcpy(bits, &d, sizeof d);
        return 0;
    default:
        return fail(err, cap, "no parser for a %s", name);
    }
}

/* ---- parsing: lexer ---------------------------------------------------------- */

typedef struct lexer {
    const char *s; /* NUL-terminated; n = strlen(s) */
    size_t n, pos;
} lexer;

/* The next character after whitespace, or -1 at the end. */
static int lex_peek(lexer *lx)
{
    while (lx->pos < lx->n && isspace((unsigned char)lx->s[lx->pos]))
        lx->pos++;
    return lx->pos < lx->n ? (unsigned char)lx->s[lx->pos] : -1;
}

static int expect_end(lexer *lx, char *err, size_t cap)
{
    char tmp[24];
    int c = lex_peek(lx);
    if (c >= 0)
        return fail(err, cap, "unexpected %s at offset %zu after the value",
                    char_desc(c, tmp, sizeof tmp), lx->pos);
    return 0;
}

/* Copies the word (number or name: up to whitespace, ',', a bracket or a
 * quote) at the position into word[WORD_CAP] and moves past it. */
static int lex_word(lexer *lx, char *word, const char *name, char *err, size_t cap)
{
    char tmp[24];
    int c = lex_peek(lx);
    size_t i = lx->pos, n;
    if (c == '"')
        return fail(err, cap, "expected %s %s at offset %zu, found a string", article(name), name,
                    lx->pos);
    while (i < lx->n && !isspace((unsigned char)lx->s[i]) && strchr(",[]\"", lx->s[i]) == NULL)
        i++;
    n = i - lx->pos;
    if (n == 0)
        return fail(err, cap, "expected %s %s at offset %zu, found %s", article(name), name,
                    lx->pos, char_desc(c, tmp, sizeof tmp));
    if (n >= WORD_CAP)
        return fail(err, cap, "'%.40s...' at offset %zu is too long for %s %s",
                    lx->s + lx->pos, lx->pos, article(name), name);
    memcpy(word, lx->s + lx->pos, n);
    word[n] = '\0';
    lx->pos = i;
    return 0;
}

static int lex_hex4(lexer *lx, uint32_t *cp)
{
    uint32_t v = 0;
    int d;
    if (lx->n - lx->pos < 4)
        return -1;
    for (size_t i = 0; i < 4; i++) {
        d = hex_digit((unsigned char)lx->s[lx->pos + i]);
        if (d < 0)
            return -1;
        v = v << 4 | (uint32_t)d;
    }
    lx->pos += 4;
    *cp = v;
    return 0;
}

static void put_utf8(hcmv_buf *b, uint32_t cp)
{
    char u[4];
    size_t n;
    if (cp < 0x80) {
        u[0] = (char)cp;
        n = 1;
    } else if (cp < 0x800) {
        u[0] = (char)(0xC0 | cp >> 6);
        u[1] = (char)(0x80 | (cp & 0x3F));
        n = 2;
    } else if (cp < 0x10000) {
        u[0] = (char)(0xE0 | cp >> 12);
        u[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        u[2] = (char)(0x80 | (cp & 0x3F));
        n = 3;
    } else {
        u[0] = (char)(0xF0 | cp >> 18);
        u[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        u[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
        u[3] = (char)(0x80 | (cp & 0x3F));
        n = 4;
    }
    buf_append(b, u, n);
}

/* \uXXXX at the position (after its backslash and 'u' were read), joining a
 * surrogate pair; a lone surrogate has no UTF-8 form and is an error. */
static int lex_unicode_escape(lexer *lx, hcmv_buf *out, char *err, size_t cap)
{
    size_t at = lx->pos - 2;
    uint32_t cp, lo;
    if (lex_hex4(lx, &cp) != 0)
        return fail(err, cap, "bad \\u escape at offset %zu (needs 4 hex digits)", at);
    if (cp >= 0xDC00 && cp <= 0xDFFF)
        return fail(err, cap, "lone low surrogate \\u%04x at offset %zu", (unsigned)cp, at);
    if (cp >= 0xD800 && cp <= 0xDBFF) {
        if (lx->n - lx->pos < 6 || lx->s[lx->pos] != '\\' || lx->s[lx->pos + 1] != 'u')
            return fail(err, cap, "high surrogate \\u%04x at offset %zu without its low half",
                        (unsigned)cp, at);
        lx->pos += 2;
        if (lex_hex4(lx, &lo) != 0 || lo < 0xDC00 || lo > 0xDFFF)
            return fail(err, cap, "high surrogate \\u%04x at offset %zu without its low half",
                        (unsigned)cp, at);
        cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
    }
    put_utf8(out, cp);
    return 0;
}

/* Decodes the JSON string literal at the position (on its '"') into out.
 * Raw control characters are accepted: the text comes from a shell. */
static int lex_string(lexer *lx, hcmv_buf *out, char *err, size_t cap)
{
    size_t start = lx->pos;
    char c, tmp[24];
    lx->pos++;
    for (;;) {
        if (lx->pos >= lx->n)
            return fail(err, cap, "string starting at offset %zu has no closing '\"'", start);
        c = lx->s[lx->pos++];
        if (c == '"')
            break;
        if (c != '\\') {
            hcmv_buf_putc(out, c);
            continue;
        }
        if (lx->pos >= lx->n)
            return fail(err, cap, "string starting at offset %zu has no closing '\"'", start);
        c = lx->s[lx->pos++];
        switch (c) {
        case '"':
        case '\\':
        case '/': hcmv_buf_putc(out, c); break;
        case 'b': hcmv_buf_putc(out, '\b'); break;
        case 'f': hcmv_buf_putc(out, '\f'); break;
        case 'n': hcmv_buf_putc(out, '\n'); break;
        case 'r': hcmv_buf_putc(out, '\r'); break;
        case 't': hcmv_buf_putc(out, '\t'); break;
        case 'u':
            if (lex_unicode_escape(lx, out, err, cap) != 0)
                return -1;
            break;
        default:
            return fail(err, cap, "bad escape: backslash then %s at offset %zu",
                        char_desc((unsigned char)c, tmp, sizeof tmp), lx->pos - 2);
        }
    }
    if (out->oom)
        return fail(err, cap, "out of memory reading the string at offset %zu", start);
    return 0;
}

/* Opens a list: the next character must be '['. */
static int list_open(lexer *lx, const char *what, char *err, size_t cap)
{
    char tmp[24];
    int c = lex_peek(lx);
    if (c != '[')
        return fail(err, cap, "expected '[' starting %s at offset %zu, found %s", what, lx->pos,
                    char_desc(c, tmp, sizeof tmp));
    lx->pos++;
    return 0;
}

/* Call before each item of an open list (*first = 1 before the first):
 * 1 if an item follows (its ',' consumed), 0 if the list closed, -1 on bad
 * syntax. An item missing after ',' is reported by the item's parser. */
static int list_next(lexer *lx, int *first, char *err, size_t cap)
{
    char tmp[24];
    int c = lex_peek(lx);
    if (c == ']') {
        lx->pos++;
        return 0;
    }
    if (*first) {
        *first = 0;
        return 1;
    }
    if (c != ',')
        return fail(err, cap, "expected ',' or ']' at offset %zu, found %s", lx->pos,
                    char_desc(c, tmp, sizeof tmp));
    lx->pos++;
    return 1;
}

/* ---- parsing: structs and arrays ---------------------------------------------- */

/* Steps through the fields of a struct format that take a value. */
typedef struct field_cursor {
    fmt_walk w;
    fmt_item it;
    uint64_t unit; /* repeat of `it` the next value goes to */
    int have;      /* `it` is an item with values */
} field_cursor;

/* Moves to the next field that takes a value; 0 when none is left. */
static int cursor_next(field_cursor *fc)
{
    if (fc->have && fc->unit + 1 < item_values(&fc->it)) {
        fc->unit++;
        return 1;
    }
    for (;;) {
        if (fmt_next(&fc->w, &fc->it, NULL, 0) != 1) {
            fc->have = 0;
            return 0;
        }
        fc->unit = 0;
        if (item_values(&fc->it) > 0) {
            fc->have = 1;
            return 1;
        }
    }
}

static uint64_t struct_values(const char *format)
{
    fmt_walk w;
    fmt_item it;
    uint64_t n = 0;
    fmt_begin(&w, format);
    while (fmt_next(&w, &it, NULL, 0) == 1)
        n += item_values(&it);
    return n;
}

/* A 'c' field takes one character: one byte, or a code point up to U+00FF
 * stored as that byte, so "\u00e9" (how byte 0xe9 is rendered) reads back. */
static int char_field_byte(const hcmv_buf *s, unsigned char *byte, char *err, size_t cap)
{
    const unsigned char *u = (const unsigned char *)s->p;
    if (s->len == 1) {
        *byte = u[0];
        return 0;
    }
    if (s->len == 2 && (u[0] == 0xC2 || u[0] == 0xC3) && (u[1] & 0xC0) == 0x80) {
        *byte = (unsigned char)(((u[0] & 0x1F) << 6) | (u[1] & 0x3F));
        return 0;
    }
    return fail(err, cap, "'c' takes a string of one character up to U+00FF, got %zu bytes",
                s->len);
}

/* The string value of a 'c', 's' or 'p' field into p (NULL: check only). */
static int parse_string_field(lexer *lx, const fmt_item *it, unsigned char *p, char *err,
                              size_t cap)
{
    hcmv_buf s = {0};
    uint64_t max;
    unsigned char byte = 0;
    char tmp[24];
    int c = lex_peek(lx), rc = 0;
    if (c != '"')
        return fail(err, cap, "expected a string for '%c' at offset %zu, found %s", it->ci->code,
                    lx->pos, char_desc(c, tmp, sizeof tmp));
    if (lex_string(lx, &s, err, cap) != 0) {
        hcmv_buf_free(&s);
        return -1;
    }
    switch (it->ci->cls) {
    case FC_CHAR:
        rc = char_field_byte(&s, &byte, err, cap);
        if (rc == 0 && p != NULL)
            *p = byte;
        break;
    case FC_STR: /* shorter strings stay NUL-padded: the buffer is zeroed */
        if (s.len > it->size)
            rc = fail(err, cap, "string of %zu bytes does not fit '%" PRIu64 "s'", s.len,
                      it->size);
        else if (p != NULL && s.len > 0)
            memcpy(p, s.p, s.len);
        break;
    default: /* FC_PSTR: a length byte, then the bytes */
        max = it->size == 0 ? 0 : it->size - 1;
        if (max > 255)
            max = 255;
        if (s.len > max)
            rc = fail(err, cap, "string of %zu bytes does not fit '%" PRIu64 "p' (at most %" PRIu64
                      " bytes)", s.len, it->size, max);
        else if (p != NULL && it->size > 0) {
            p[0] = (unsigned char)s.len;
            if (s.len > 0)
                memcpy(p + 1, s.p, s.len);
        }
    }
    hcmv_buf_free(&s);
    return rc;
}

/* The value of the field under the cursor into dest (NULL: check only). */
static int parse_field(lexer *lx, const field_cursor *fc, unsigned char *dest, char *err,
                       size_t cap)
{
    const fmt_item *it = &fc->it;
    int cls = it->ci->cls;
    unsigned char *p = dest ? dest + it->offset + fc->unit * it->size : NULL;
    const char *name = unit_name(cls, it->size);
    char word[WORD_CAP];
    uint64_t bits;
    if (cls == FC_CHAR || cls == FC_STR || cls == FC_PSTR)
        return parse_string_field(lx, it, p, err, cap);
    if (lex_word(lx, word, name, err, cap) != 0 ||
        parse_unit(cls, (size_t)it->size, name, word, &bits, err, cap) != 0)
        return -1;
    if (p != NULL)
        store_uint(p, (size_t)it->size, fc->w.big, bits);
    return 0;
}

/* Skips one surplus value of a struct list, so the message can say how many
 * values there were. */
static int skip_value(lexer *lx, char *err, size_t cap)
{
    hcmv_buf s = {0};
    char word[WORD_CAP];
    int rc;
    if (lex_peek(lx) == '"') {
        rc = lex_string(lx, &s, err, cap);
        hcmv_buf_free(&s);
        return rc;
    }
    return lex_word(lx, word, "value", err, cap);
}

/* One struct "[v, ...]" into dest (elem_size zeroed bytes; NULL: check
 * only). The format's layout has been checked by struct_layout_ok(). */
static int parse_struct(lexer *lx, const hcm_type *t, unsigned char *dest, char *err, size_t cap)
{
    field_cursor fc;
    uint64_t want = struct_values(t->format), got = 0;
    int first = 1, r;
    char what[TYPE_NAME_CAP];
    snprintf(what, sizeof what, "struct %s '%s'", t->name, t->format);
    if (list_open(lx, what, err, cap) != 0)
        return -1;
    memset(&fc, 0, sizeof fc);
    fmt_begin(&fc.w, t->format);
    while ((r = list_next(lx, &first, err, cap)) == 1) {
        if (!cursor_next(&fc)) {
            if (skip_value(lx, err, cap) != 0)
                return -1;
        } else if (parse_field(lx, &fc, dest, err, cap) != 0) {
            err_prefix(err, cap, "value %" PRIu64 " of %.120s: ", got + 1, what);
            return -1;
        }
        got++;
    }
    if (r < 0)
        return -1;
    if (got != want)
        return fail(err, cap, "expected %" PRIu64 " values for %s, got %" PRIu64, want, what, got);
    return 0;
}

typedef struct arr_in {
    const hcm_type *t;
    unsigned char *dest; /* NULL: check only */
    uint64_t total;      /* elements of the array */
    uint64_t count;      /* elements read so far (may pass total in a bad value) */
    char tname[TYPE_NAME_CAP];
} arr_in;

static int parse_elem(lexer *lx, arr_in *a, char *err, size_t cap)
{
    const hcm_type *t = a->t;
    const scalar_info *si;
    unsigned char *p = NULL;
    char word[WORD_CAP];
    uint64_t bits;
    int rc;
    /* Surplus elements are read only to be counted; they are never stored. */
    if (a->dest != NULL && a->count < a->total)
        p = a->dest + a->count * t->elem_size;
    if (t->elem_kind == HCM_TYPE_STRUCT) {
        rc = parse_struct(lx, t, p, err, cap);
    } else {
        si = &scalars[t->elem_kind];
        rc = lex_word(lx, word, si->name, err, cap);
        if (rc == 0)
            rc = parse_unit(si->cls, si->size, si->name, word, &bits, err, cap);
        if (rc == 0 && p != NULL)
            store_uint(p, si->size, HOST_BIG, bits);
    }
    if (rc != 0) {
        err_prefix(err, cap, "element %" PRIu64 " of %.100s: ", a->count, a->tname);
        return -1;
    }
    a->count++;
    return 0;
}

/* All elements in one list, row-major: [1, 2, 3, 4, 5, 6] for uint8[2,3]. */
static int parse_flat(lexer *lx, arr_in *a, char *err, size_t cap)
{
    int first = 1, r;
    if (list_open(lx, a->tname, err, cap) != 0)
        return -1;
    while ((r = list_next(lx, &first, err, cap)) == 1)
        if (parse_elem(lx, a, err, cap) != 0)
            return -1;
    if (r < 0)
        return -1;
    if (a->count != a->total)
        return fail(err, cap, "expected %" PRIu64 " values for %s, got %" PRIu64, a->total,
                    a->tname, a->count);
    return 0;
}

/* Dimension d as nested lists: [[1, 2, 3], [4, 5, 6]] for uint8[2,3]. */
static int parse_dim(lexer *lx, arr_in *a, uint32_t d, char *err, size_t cap)
{
    char what[TYPE_NAME_CAP + 48];
    uint64_t n = 0;
    int first = 1, r, rc;
    snprintf(what, sizeof what, "a list of dimension %u of %s", d + 1, a->tname);
    if (list_open(lx, what, err, cap) != 0)
        return -1;
    while ((r = list_next(lx, &first, err, cap)) == 1) {
        rc = d + 1 < a->t->ndim ? parse_dim(lx, a, d + 1, err, cap) : parse_elem(lx, a, err, cap);
        if (rc != 0)
            return -1;
        n++;
    }
    if (r < 0)
        return -1;
    if (n != a->t->shape[d])
        return fail(err, cap, "expected %u values in dimension %u of %s, got %" PRIu64
                    " (list ending at offset %zu)", a->t->shape[d], d + 1, a->tname, n,
                    lx->pos - 1);
    return 0;
}

/* '[' characters before the first other non-blank one: tells the nested
 * form from the flat one (struct elements add a level of their own). */
static unsigned leading_brackets(const char *s)
{
    unsigned n = 0;
    for (; *s != '\0'; s++) {
        if (*s == '[')
            n++;
        else if (!isspace((unsigned char)*s))
            break;
    }
    return n;
}

static int parse_array(const hcm_type *t, const char *text, unsigned char *dest, char *err,
                       size_t cap)
{
    lexer lx = {text, strlen(text), 0};
    arr_in a;
    unsigned nested_depth = t->elem_kind == HCM_TYPE_STRUCT ? 3 : 2;
    int rc;
    memset(&a, 0, sizeof a);
    a.t = t;
    a.dest = dest;
    a.total = hcm_type_fixed_size(t) / t->elem_size;
    hcm_type_format(t, a.tname, sizeof a.tname);
    if (t->ndim > 1 && leading_brackets(text) >= nested_depth)
        rc = parse_dim(&lx, &a, 0, err, cap);
    else
        rc = parse_flat(&lx, &a, err, cap);
    return rc != 0 ? -1 : expect_end(&lx, err, cap);
}

static int parse_composite_once(const hcm_type *t, const char *text, unsigned char *dest,
                                char *err, size_t cap)
{
    lexer lx = {text, strlen(text), 0};
    if (t->kind == HCM_TYPE_ARRAY)
        return parse_array(t, text, dest, err, cap);
    if (parse_struct(&lx, t, dest, err, cap) != 0)
        return -1;
    return expect_end(&lx, err, cap);
}

/* An array or struct of `size` bytes. The text is checked before anything
 * is allocated, so a wrong value for a huge type costs nothing; the second
 * pass writes into zeroed memory (pads and short strings stay zero). */
static int parse_composite(const hcm_type *t, uint64_t size, const char *text, void **datap,
                           size_t *lenp, char *err, size_t cap)
{
    unsigned char *buf;
    if (parse_composite_once(t, text, NULL, err, cap) != 0)
        return -1;
    buf = calloc(1, (size_t)size);
    if (buf == NULL)
        return fail(err, cap, "out of memory for a sample of %" PRIu64 " bytes", size);
    if (parse_composite_once(t, text, buf, err, cap) != 0) {
        free(buf);
        return -1;
    }
    *datap = buf;
    *lenp = (size_t)size;
    return 0;
}

/* ---- parsing: whole values ------------------------------------------------------ */

/* Hands b's bytes to the caller as a malloc'd buffer, never NULL. */
static int take_buf(hcmv_buf *b, void **datap, size_t *lenp, char *err, size_t cap)
{
    if (b->oom) {
        hcmv_buf_free(b);
        return fail(err, cap, "out of memory");
    }
    if (b->p == NULL && (b->p = malloc(1)) == NULL)
        return fail(err, cap, "out of memory");
    *datap = b->p;
    *lenp = b->len;
    b->p = NULL;
    b->len = b->cap = 0;
    return 0;
}

static int parse_scalar_value(const hcm_type *t, const char *text, void **datap, size_t *lenp,
                              char *err, size_t cap)
{
    const scalar_info *si = &scalars[t->kind];
    const char *s = text;
    char word[WORD_CAP];
    unsigned char *buf;
    uint64_t bits;
    size_t n;
    /* Blanks around a number are harmless (and easy to get from a shell). */
    while (isspace((unsigned char)*s))
        s++;
    n = strlen(s);
    while (n > 0 && isspace((unsigned char)s[n - 1]))
        n--;
    if (n >= WORD_CAP)
        return fail(err, cap, "'%.40s...' is too long for %s %s", s, article(si->name), si->name);
    memcpy(word, s, n);
    word[n] = '\0';
    if (parse_unit(si->cls, si->size, si->name, word, &bits, err, cap) != 0)
        return -1;
    buf = malloc(si->size);
    if (buf == NULL)
        return fail(err, cap, "out of memory");
    store_uint(buf, si->size, HOST_BIG, bits);
    *datap = buf;
    *lenp = si->size;
    return 0;
}

/* The text verbatim, or decoded when the whole text is one JSON string
 * literal. Text that starts and ends with '"' but is not one literal is an
 * error rather than sent with its quotes: it almost surely is a typo. */
static int parse_string_value(const char *text, uint64_t max_payload, void **datap,
                              size_t *lenp, char *err, size_t cap)
{
    hcmv_buf s = {0};
    size_t n = strlen(text), bad;
    if (n >= 2 && text[0] == '"' && text[n - 1] == '"') {
        lexer lx = {text, n, 0};
        if (lex_string(&lx, &s, err, cap) != 0) {
            hcmv_buf_free(&s);
            return -1;
        }
        if (lx.pos != n) {
            hcmv_buf_free(&s);
            return fail(err, cap, "string literal ends at offset %zu but the text goes on "
                                  "(write a '\"' inside it as \\\")", lx.pos - 1);
        }
    } else {
        buf_append(&s, text, n);
    }
    bad = s.oom ? s.len : utf8_invalid_at((const unsigned char *)s.p, s.len);
    if (bad < s.len) {
        fail(err, cap, "string is not valid UTF-8: byte 0x%02x at offset %zu",
             (unsigned)(unsigned char)s.p[bad], bad);
        hcmv_buf_free(&s);
        return -1;
    }
    if (max_payload != 0 && s.len > max_payload) {
        fail(err, cap, "string of %zu bytes is longer than the max payload of %" PRIu64 " bytes",
             s.len, max_payload);
        hcmv_buf_free(&s);
        return -1;
    }
    return take_buf(&s, datap, lenp, err, cap);
}

/* "0x0a1bff", "0x0a 1b_ff": pairs of hex digits, blanks or '_' only between
 * pairs, so a lost digit is never silently re-paired. */
static int parse_hex(const char *text, hcmv_buf *out, char *err, size_t cap)
{
    const char *s = text + 2;
    char tmp[24];
    int hi, lo;
    while (*s != '\0') {
        if (s > text + 2 && (*s == ' ' || *s == '_')) {
            while (*s == ' ' || *s == '_')
                s++;
            if (*s == '\0')
                return fail(err, cap, "hex bytes '%.60s' end with a separator", text);
        }
        hi = hex_digit((unsigned char)*s);
        if (hi < 0)
            return fail(err, cap, "%s at offset %zu of '%.60s' is not a hex digit",
                        char_desc((unsigned char)*s, tmp, sizeof tmp), (size_t)(s - text), text);
        if (s[1] == '\0')
            return fail(err, cap, "odd number of hex digits in '%.60s' (two per byte)", text);
        lo = hex_digit((unsigned char)s[1]);
        if (lo < 0)
            return fail(err, cap, "%s at offset %zu of '%.60s' is not a hex digit (two per byte)",
                        char_desc((unsigned char)s[1], tmp, sizeof tmp), (size_t)(s + 1 - text),
                        text);
        hcmv_buf_putc(out, (char)(hi << 4 | lo));
        s += 2;
    }
    return 0;
}

static int parse_bytes_value(const char *text, uint64_t max_payload, void **datap,
                             size_t *lenp, char *err, size_t cap)
{
    hcmv_buf b = {0};
    if (strncmp(text, "0x", 2) == 0) {
        if (parse_hex(text, &b, err, cap) != 0) {
            hcmv_buf_free(&b);
            return -1;
        }
    } else {
        buf_append(&b, text, strlen(text));
    }
    if (!b.oom && max_payload != 0 && b.len > max_payload) {
        fail(err, cap, "%zu bytes are more than the max payload of %" PRIu64 " bytes", b.len,
             max_payload);
        hcmv_buf_free(&b);
        return -1;
    }
    return take_buf(&b, datap, lenp, err, cap);
}

int hcmv_parse(const hcm_type *t, uint64_t max_payload, const char *text, void **datap,
               size_t *lenp, char *err, size_t errcap)
{
    char tname[TYPE_NAME_CAP];
    uint64_t fixed;
    if (t == NULL || text == NULL || datap == NULL || lenp == NULL)
        return fail(err, errcap, "hcmv_parse: NULL argument");
    *datap = NULL;
    *lenp = 0;
    if (t->kind == HCM_TYPE_NONE)
        return fail(err, errcap, "type unknown: give --type");
    if (hcm_type_validate(t) != HCM_OK)
        return fail(err, errcap, "invalid type descriptor (kind %u)", t->kind);
    if (t->kind == HCM_TYPE_STRING)
        return parse_string_value(text, max_payload, datap, lenp, err, errcap);
    if (t->kind == HCM_TYPE_BYTES)
        return parse_bytes_value(text, max_payload, datap, lenp, err, errcap);
    fixed = hcm_type_fixed_size(t);
    hcm_type_format(t, tname, sizeof tname);
    if (max_payload != 0 && fixed > max_payload)
        return fail(err, errcap, "type %s needs %" PRIu64 " bytes, more than the max payload of %"
                    PRIu64 " bytes", tname, fixed, max_payload);
    if (fixed > SIZE_MAX)
        return fail(err, errcap, "type %s (%" PRIu64 " bytes) is too large for this machine",
                    tname, fixed);
    if (is_scalar(t->kind))
        return parse_scalar_value(t, text, datap, lenp, err, errcap);
    if ((t->kind == HCM_TYPE_STRUCT || t->elem_kind == HCM_TYPE_STRUCT) &&
        !struct_layout_ok(t, err, errcap)) {
        err_prefix(err, errcap, "cannot encode %.120s: ", tname);
        return -1;
    }
    return parse_composite(t, fixed, text, datap, lenp, err, errcap);
}

/* ---- type specs ----------------------------------------------------------------- */

#define TYPE_LIST                                                                          \
    "bool, int8, int16, int32, int64, uint8, uint16, uint32, uint64, float32, float64, "  \
    "string, bytes, TYPE[N,...] or struct:NAME:FORMAT"

static int kind_by_name(const char *s, size_t n, uint32_t *kind)
{
    for (uint32_t k = HCM_TYPE_BOOL; k <= HCM_TYPE_FLOAT64; k++) {
        if (strlen(scalars[k].name) == n && memcmp(s, scalars[k].name, n) == 0) {
            *kind = k;
            return 0;
        }
    }
    if (n == 6 && memcmp(s, "string", 6) == 0) {
        *kind = HCM_TYPE_STRING;
        return 0;
    }
    if (n == 5 && memcmp(s, "bytes", 5) == 0) {
        *kind = HCM_TYPE_BYTES;
        return 0;
    }
    return -1;
}

/* "[480,640]" at s (on its '['), the end of spec: 1..4 extents of 1..2^32-1. */
static int parse_shape(const char *spec, const char *s, uint32_t *shape, uint32_t *ndimp,
                       char *err, size_t cap)
{
    uint32_t nd = 0;
    uint64_t v;
    s++;
    for (;;) {
        while (*s == ' ')
            s++;
        if (!isdigit((unsigned char)*s))
            return fail(err, cap, "bad shape in type '%.200s': expected a number at offset %zu",
                        spec, (size_t)(s - spec));
        v = 0;
        while (isdigit((unsigned char)*s)) {
            v = v * 10 + (uint64_t)(*s++ - '0');
            if (v > UINT32_MAX)
                return fail(err, cap, "extent over %" PRIu32 " in type '%.200s'", UINT32_MAX,
                            spec);
        }
        if (v == 0)
            return fail(err, cap, "extent 0 in type '%.200s' (extents are 1 or more)", spec);
        if (nd == HCM_TYPE_MAX_DIMS)
            return fail(err, cap, "type '%.200s' has more than %d dimensions", spec,
                        HCM_TYPE_MAX_DIMS);
        shape[nd++] = (uint32_t)v;
        while (*s == ' ')
            s++;
        if (*s == ']')
            break;
        if (*s != ',')
            return fail(err, cap, "bad shape in type '%.200s': expected ',' or ']' at offset %zu",
                        spec, (size_t)(s - spec));
        s++;
    }
    if (s[1] != '\0')
        return fail(err, cap, "unexpected '%.40s' after the shape in type '%.200s'", s + 1, spec);
    *ndimp = nd;
    return 0;
}

/* "struct:NAME:FORMAT" or "struct:NAME:FORMAT[SHAPE]". */
static int parse_struct_spec(const char *spec, hcm_type *t, char *err, size_t cap)
{
    const char *rest = spec + 7, *bracket = strchr(rest, '['), *end, *colon = NULL;
    char name[HCM_TYPE_NAME_MAX], format[HCM_TYPE_FORMAT_MAX];
    uint32_t shape[HCM_TYPE_MAX_DIMS], ndim = 0;
    size_t name_len, format_len;
    uint64_t size;
    hcm_type st, arr;
    end = bracket != NULL ? bracket : rest + strlen(rest);
    /* A name may contain ':' but a format never does: split at the last one. */
    for (const char *p = rest; p < end; p++)
        if (*p == ':')
            colon = p;
    if (colon == NULL)
        return fail(err, cap, "struct type '%.200s' needs the form struct:NAME:FORMAT "
                              "(e.g. struct:Pose:<3d4d)", spec);
    name_len = (size_t)(colon - rest);
    format_len = (size_t)(end - colon - 1);
    if (name_len >= sizeof name)
        return fail(err, cap, "struct name in '%.200s' is longer than %d characters", spec,
                    HCM_TYPE_NAME_MAX - 1);
    if (format_len >= sizeof format)
        return fail(err, cap, "struct format in '%.200s' is longer than %d characters", spec,
                    HCM_TYPE_FORMAT_MAX - 1);
    memcpy(name, rest, name_len);
    name[name_len] = '\0';
    memcpy(format, colon + 1, format_len);
    format[format_len] = '\0';
    if (hcmv_struct_size(format, &size, err, cap) != 0)
        return -1;
    if (size == 0)
        return fail(err, cap, "struct format '%s' has no fields (size 0)", format);
    if (size > UINT32_MAX)
        return fail(err, cap, "struct format '%s' describes %" PRIu64 " bytes, more than a "
                              "struct may have", format, size);
    if (hcm_type_struct(&st, name, format, (uint32_t)size) != HCM_OK)
        return fail(err, cap, "%s", hcm_errmsg());
    if (bracket == NULL) {
        *t = st;
        return 0;
    }
    if (parse_shape(spec, bracket, shape, &ndim, err, cap) != 0)
        return -1;
    if (hcm_type_array_of(&arr, &st, ndim, shape) != HCM_OK)
        return fail(err, cap, "type '%.200s': %s", spec, hcm_errmsg());
    *t = arr;
    return 0;
}

int hcmv_parse_type(const char *spec, hcm_type *t, char *err, size_t errcap)
{
    const char *bracket;
    uint32_t kind, shape[HCM_TYPE_MAX_DIMS], ndim = 0;
    size_t n;
    hcm_type arr;
    if (spec == NULL || t == NULL)
        return fail(err, errcap, "hcmv_parse_type: NULL argument");
    if (strncmp(spec, "struct:", 7) == 0)
        return parse_struct_spec(spec, t, err, errcap);
    bracket = strchr(spec, '[');
    n = bracket != NULL ? (size_t)(bracket - spec) : strlen(spec);
    if (kind_by_name(spec, n, &kind) != 0)
        return fail(err, errcap, "unknown type '%.200s' (expected " TYPE_LIST ")", spec);
    if (bracket == NULL) {
        *t = hcm_type_scalar((hcm_type_kind)kind);
        return 0;
    }
    if (!is_scalar(kind))
        return fail(err, errcap, "type '%.200s': arrays hold scalars or structs, not %.*s", spec,
                    (int)n, spec);
    if (parse_shape(spec, bracket, shape, &ndim, err, errcap) != 0)
        return -1;
    if (hcm_type_array(&arr, (hcm_type_kind)kind, ndim, shape) != HCM_OK)
        return fail(err, errcap, "type '%.200s': %s", spec, hcm_errmsg());
    *t = arr;
    return 0;
}
