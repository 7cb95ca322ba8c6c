/* tools/cli/value.h - sample values of the `hcm` tool: rendering and parsing.
 *
 * The tool shows samples it reads from a topic and publishes values given on
 * the command line. Both directions are driven by the topic's type
 * descriptor (hcm/type.h):
 *
 *   hcmv_format()     sample bytes -> text (human or JSON)
 *   hcmv_parse()      VALUE text   -> sample bytes
 *   hcmv_parse_type() --type spec  -> descriptor ("uint8[480,640]", "struct:Pose:<3d4d")
 *
 * Sample bytes come from shared memory and VALUE text from the shell, so
 * neither is trusted: every length is checked against the descriptor and no
 * function reads outside the bytes it is given. Structs follow Python's struct
 * module syntax; hcmv_struct_size() computes struct.calcsize().
 *
 * Errors: functions return -1 and write a one-line message naming what is
 * wrong into err (errcap bytes, always NUL-terminated; err may be NULL).
 */
#ifndef HCM_CLI_VALUE_H
#define HCM_CLI_VALUE_H

#include <stddef.h>
#include <stdint.h>

#include "hcm/type.h"

/* A growable string (may also hold NUL bytes; p is NUL-terminated whenever
 * len > 0). Zero-initialise it. Every append is a no-op after an allocation
 * failure, which sets oom, so callers check once at the end. */
typedef struct hcmv_buf {
    char *p;
    size_t len, cap;
    int oom;
} hcmv_buf;

void hcmv_buf_free(hcmv_buf *b);
void hcmv_buf_putc(hcmv_buf *b, char c);
void hcmv_buf_puts(hcmv_buf *b, const char *s);
void hcmv_buf_printf(hcmv_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends s (n bytes, any bytes) as a JSON string literal with its quotes.
 * Escapes '"', '\\' and control characters (\n \t \r \b \f, else \u00XX);
 * each byte that is not part of valid UTF-8 becomes \u00XX of the byte, so
 * the output is always valid JSON and valid UTF-8. */
void hcmv_buf_json_string(hcmv_buf *b, const char *s, size_t n);

/* Size in bytes of a Python struct format, as struct.calcsize() computes it:
 * an optional first character @ = < > ! (default @; '@' means native sizes
 * and alignment, the others standard sizes and no alignment), then items
 * "[count]code" with codes x c b B ? h H i I l L q Q n N e f d s p P
 * (n N P only with '@'), whitespace allowed between items.
 * Returns 0 and sets *sizep, or -1 for a bad format. */
int hcmv_struct_size(const char *format, uint64_t *sizep, char *err, size_t errcap);

/* Renders one sample of type t (data, len bytes), appending the text to out.
 * json = 1: JSON (NaN, Infinity, -Infinity written bare, as Python's json
 * reads them); json = 0: human text of the same shape ("nan", "inf", bytes
 * as bare hex, "hex:..." for a struct whose format does not decode).
 * max_elems: human mode only, arrays print at most this many elements, then
 * "..." and "(N elements)"; 0 prints all.
 * len must equal the type's fixed size (for fixed-size types).
 * Returns 0, or -1 with err filled. */
int hcmv_format(const hcm_type *t, const void *data, size_t len, int json, size_t max_elems,
                hcmv_buf *out, char *err, size_t errcap);

/* Parses VALUE text into one sample of type t of at most max_payload bytes
 * (0: no limit beyond the type's own size). On success *datap is a malloc'd
 * buffer (free() it; non-NULL even for 0 bytes) of *lenp bytes.
 * Syntax: bool true/false/1/0; ints decimal or 0x hex, range-checked;
 * floats strtod syntax; string verbatim or a "JSON literal"; bytes raw text
 * or 0x hex; arrays [1,2,...] flat or nested by shape; structs a list of
 * field values in format order. Returns 0, or -1 with err filled. */
int hcmv_parse(const hcm_type *t, uint64_t max_payload, const char *text, void **datap,
               size_t *lenp, char *err, size_t errcap);

/* Parses a --type spec: "bool", "int8".."uint64", "float32", "float64",
 * "string", "bytes", "float64[3]", "uint8[480,640]" (1..4 dims),
 * "struct:NAME:FORMAT" or "struct:NAME:FORMAT[4]" (array of struct).
 * Returns 0, or -1 with err filled. */
int hcmv_parse_type(const char *spec, hcm_type *t, char *err, size_t errcap);

#endif /* HCM_CLI_VALUE_H */
