/* hcm/type.h - type descriptors.
 *
 * Every topic carries the descriptor of its payload type in its segment
 * header. A publisher or subscriber whose descriptor differs gets HCM_ETYPE
 * with both types named in hcm_errmsg(). Descriptors are plain values: copy
 * them freely. They are fixed-width so that the same bytes mean the same type
 * in every process (C, Python, 32- or 64-bit).
 *
 *   hcm_type t = hcm_type_scalar(HCM_TYPE_FLOAT64);          a double
 *   hcm_type_array(&t, HCM_TYPE_UINT8, 2, (uint32_t[]){480, 640});  an image
 *   hcm_type_struct(&t, "Pose", "<3d4d", 56);               a C struct
 */
#ifndef HCM_TYPE_H
#define HCM_TYPE_H

#include <stddef.h>
#include <stdint.h>

#include "hcm/export.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum hcm_type_kind {
    HCM_TYPE_NONE = 0, /* subscribers only: accept whatever type the topic has */
    HCM_TYPE_BOOL = 1, /* one byte, 0 or 1 */
    HCM_TYPE_INT8 = 2,
    HCM_TYPE_INT16 = 3,
    HCM_TYPE_INT32 = 4,
    HCM_TYPE_INT64 = 5,
    HCM_TYPE_UINT8 = 6,
    HCM_TYPE_UINT16 = 7,
    HCM_TYPE_UINT32 = 8,
    HCM_TYPE_UINT64 = 9,
    HCM_TYPE_FLOAT32 = 10,
    HCM_TYPE_FLOAT64 = 11,
    HCM_TYPE_BYTES = 12,  /* variable length, up to the topic's max payload */
    HCM_TYPE_STRING = 13, /* UTF-8, variable length, no terminating NUL on the wire */
    HCM_TYPE_ARRAY = 14,  /* fixed shape of scalars or structs (elem_kind) */
    HCM_TYPE_STRUCT = 15, /* fixed-size record described by `format` */
    HCM_TYPE_KIND_COUNT_
} hcm_type_kind;

#define HCM_TYPE_MAX_DIMS 4
#define HCM_TYPE_NAME_MAX 64    /* bytes of `name`, including the NUL */
#define HCM_TYPE_FORMAT_MAX 128 /* bytes of `format`, including the NUL */

typedef struct hcm_type {
    uint32_t kind;      /* hcm_type_kind */
    uint32_t elem_kind; /* ARRAY: kind of one element (a scalar or STRUCT); else 0 */
    uint32_t elem_size; /* bytes of one element (scalar, struct); 1 for BYTES/STRING */
    uint32_t ndim;      /* ARRAY: 1..HCM_TYPE_MAX_DIMS; else 0 */
    uint32_t shape[HCM_TYPE_MAX_DIMS]; /* ARRAY: extent of each dimension (>= 1) */
    char name[HCM_TYPE_NAME_MAX];      /* STRUCT: its name, e.g. "Pose"; else "" */
    char format[HCM_TYPE_FORMAT_MAX];  /* STRUCT (or array of): Python struct syntax, "<3d" */
} hcm_type;

/* A scalar type (BOOL..FLOAT64), BYTES or STRING. Any other kind gives a
 * descriptor that hcm_type_validate() rejects. */
HCM_API hcm_type hcm_type_scalar(hcm_type_kind kind);

/* A fixed-shape array of `ndim` dimensions of scalar `elem`.
 * Returns HCM_EINVAL for a non-scalar element, ndim outside 1..4, a zero
 * extent, or a total size over 2^40 bytes. */
HCM_API int hcm_type_array(hcm_type *typep, hcm_type_kind elem, uint32_t ndim,
                           const uint32_t *shape);

/* A struct named `name` (1..63 characters) whose layout is `format` in
 * Python struct syntax (1..127 characters of "<>=!@xcbB?hHiIlLqQnNefdspP0-9")
 * and whose size is `size` bytes (> 0). hcm does not interpret the fields;
 * the format lets other languages and tools decode them. */
HCM_API int hcm_type_struct(hcm_type *typep, const char *name, const char *format,
                            uint32_t size);

/* A fixed-shape array whose element is `elem`: a scalar descriptor or a
 * STRUCT descriptor (NumPy structured arrays). Same errors as
 * hcm_type_array(). */
HCM_API int hcm_type_array_of(hcm_type *typep, const hcm_type *elem, uint32_t ndim,
                              const uint32_t *shape);

/* HCM_OK if `type` is a well-formed descriptor (known kinds, sizes that match
 * the kind, NUL-terminated strings of allowed characters), HCM_EINVAL if not. */
HCM_API int hcm_type_validate(const hcm_type *type);

/* 1 if both descriptors describe the same type, else 0. */
HCM_API int hcm_type_equal(const hcm_type *a, const hcm_type *b);

/* Bytes of one sample of a fixed-size type (scalar, array, struct); 0 for
 * BYTES, STRING and NONE. */
HCM_API uint64_t hcm_type_fixed_size(const hcm_type *type);

/* Writes a readable name ("float64", "uint8[480,640]", "struct Pose '<3d4d'",
 * "bytes", "string") into buf (always NUL-terminated when cap > 0) and
 * returns buf. */
HCM_API const char *hcm_type_format(const hcm_type *type, char *buf, size_t cap);

#ifdef __cplusplus
}
#endif
#endif /* HCM_TYPE_H */
