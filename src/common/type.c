/* common/type.c - type descriptors: construction, validation, comparison. */
#include <stdio.h>
#include <string.h>

#include "common/error_internal.h"
#include "hcm/type.h"

static const struct {
    const char *name;
    uint32_t size;
} kinds[HCM_TYPE_KIND_COUNT_] = {
    [HCM_TYPE_NONE] = {"any", 0},       [HCM_TYPE_BOOL] = {"bool", 1},
    [HCM_TYPE_INT8] = {"int8", 1},      [HCM_TYPE_INT16] = {"int16", 2},
    [HCM_TYPE_INT32] = {"int32", 4},    [HCM_TYPE_INT64] = {"int64", 8},
    [HCM_TYPE_UINT8] = {"uint8", 1},    [HCM_TYPE_UINT16] = {"uint16", 2},
    [HCM_TYPE_UINT32] = {"uint32", 4},  [HCM_TYPE_UINT64] = {"uint64", 8},
    [HCM_TYPE_FLOAT32] = {"float32", 4}, [HCM_TYPE_FLOAT64] = {"float64", 8},
    [HCM_TYPE_BYTES] = {"bytes", 1},    [HCM_TYPE_STRING] = {"string", 1},
    [HCM_TYPE_ARRAY] = {"array", 0},    [HCM_TYPE_STRUCT] = {"struct", 0},
};

#define MAX_FIXED_SIZE (1ull << 40)

static int is_scalar(uint32_t k)
{
    return k >= HCM_TYPE_BOOL && k <= HCM_TYPE_FLOAT64;
}

hcm_type hcm_type_scalar(hcm_type_kind kind)
{
    hcm_type t;
    memset(&t, 0, sizeof t);
    t.kind = (uint32_t)kind;
    if ((uint32_t)kind < HCM_TYPE_KIND_COUNT_ &&
        (is_scalar((uint32_t)kind) || kind == HCM_TYPE_BYTES || kind == HCM_TYPE_STRING))
        t.elem_size = kinds[kind].size;
    return t;
}

/* Characters of Python's struct format syntax. */
static int format_ok(const char *s, size_t cap)
{
    size_t n = strnlen(s, cap);
    if (n == 0 || n == cap)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!strchr("<>=!@xcbB?hHiIlLqQnNefdspP0123456789 ", s[i]))
            return 0;
    return 1;
}

static int name_ok(const char *s, size_t cap)
{
    size_t n = strnlen(s, cap);
    if (n == 0 || n == cap)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '.' || c == '/' || c == ':' || c == '-'))
            return 0;
    }
    return 1;
}

static int all_zero(const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        if (b[i])
            return 0;
    return 1;
}

int hcm_type_struct(hcm_type *typep, const char *name, const char *format, uint32_t size)
{
    hcm_type t;
    if (typep == NULL || name == NULL || format == NULL)
        return hcm__fail(HCM_EINVAL, "hcm_type_struct: NULL argument");
    memset(&t, 0, sizeof t);
    t.kind = HCM_TYPE_STRUCT;
    t.elem_size = size;
    if (strlen(name) >= sizeof t.name || !name_ok(name, sizeof t.name))
        return hcm__fail(HCM_EINVAL, "struct name '%.80s' must be 1..%d characters of "
                                     "[A-Za-z0-9_.:/-]",
                         name, HCM_TYPE_NAME_MAX - 1);
    if (strlen(format) >= sizeof t.format || !format_ok(format, sizeof t.format))
        return hcm__fail(HCM_EINVAL, "struct format '%.140s' must be 1..%d characters of "
                                     "Python struct syntax",
                         format, HCM_TYPE_FORMAT_MAX - 1);
    if (size == 0)
        return hcm__fail(HCM_EINVAL, "struct '%s' has size 0", name);
    memcpy(t.name, name, strlen(name));
    memcpy(t.format, format, strlen(format));
    *typep = t;
    return HCM_OK;
}

int hcm_type_array_of(hcm_type *typep, const hcm_type *elem, uint32_t ndim,
                      const uint32_t *shape)
{
    hcm_type t;
    uint64_t total;
    if (typep == NULL || elem == NULL || shape == NULL)
        return hcm__fail(HCM_EINVAL, "hcm_type_array: NULL argument");
    if (!(is_scalar(elem->kind) || elem->kind == HCM_TYPE_STRUCT) ||
        hcm_type_validate(elem) != HCM_OK)
        return hcm__fail(HCM_EINVAL, "array element must be a scalar or a struct");
    if (ndim < 1 || ndim > HCM_TYPE_MAX_DIMS)
        return hcm__fail(HCM_EINVAL, "array ndim %u outside 1..%d", ndim, HCM_TYPE_MAX_DIMS);
    t = *elem;
    t.kind = HCM_TYPE_ARRAY;
    t.elem_kind = elem->kind;
    t.ndim = ndim;
    memset(t.shape, 0, sizeof t.shape);
    total = elem->elem_size;
    for (uint32_t i = 0; i < ndim; i++) {
        if (shape[i] == 0)
            return hcm__fail(HCM_EINVAL, "array extent %u of dimension %u is 0", shape[i], i);
        total *= shape[i];
        if (total > MAX_FIXED_SIZE)
            return hcm__fail(HCM_EINVAL, "array larger than 2^40 bytes");
        t.shape[i] = shape[i];
    }
    *typep = t;
    return HCM_OK;
}

int hcm_type_array(hcm_type *typep, hcm_type_kind elem, uint32_t ndim, const uint32_t *shape)
{
    hcm_type e = hcm_type_scalar(elem);
    if (!is_scalar((uint32_t)elem))
        return hcm__fail(HCM_EINVAL, "array element kind %d is not a scalar", (int)elem);
    return hcm_type_array_of(typep, &e, ndim, shape);
}

int hcm_type_validate(const hcm_type *t)
{
    if (t == NULL)
        return HCM_EINVAL;
    if (t->kind >= HCM_TYPE_KIND_COUNT_)
        return HCM_EINVAL;
    switch (t->kind) {
    case HCM_TYPE_NONE:
        return HCM_EINVAL;
    case HCM_TYPE_STRUCT:
        if (t->elem_kind != 0 || t->ndim != 0 || !all_zero(t->shape, sizeof t->shape))
            return HCM_EINVAL;
        if (t->elem_size == 0 || !name_ok(t->name, sizeof t->name) ||
            !format_ok(t->format, sizeof t->format))
            return HCM_EINVAL;
        break;
    case HCM_TYPE_ARRAY: {
        uint64_t total;
        if (t->ndim < 1 || t->ndim > HCM_TYPE_MAX_DIMS)
            return HCM_EINVAL;
        if (t->elem_kind == HCM_TYPE_STRUCT) {
            if (t->elem_size == 0 || !name_ok(t->name, sizeof t->name) ||
                !format_ok(t->format, sizeof t->format))
                return HCM_EINVAL;
        } else if (is_scalar(t->elem_kind)) {
            if (t->elem_size != kinds[t->elem_kind].size || !all_zero(t->name, sizeof t->name) ||
                !all_zero(t->format, sizeof t->format))
                return HCM_EINVAL;
        } else {
            return HCM_EINVAL;
        }
        total = t->elem_size;
        for (uint32_t i = 0; i < HCM_TYPE_MAX_DIMS; i++) {
            if (i < t->ndim) {
                if (t->shape[i] == 0)
                    return HCM_EINVAL;
                total *= t->shape[i];
                if (total > MAX_FIXED_SIZE)
                    return HCM_EINVAL;
            } else if (t->shape[i] != 0) {
                return HCM_EINVAL;
            }
        }
        break;
    }
    default: /* scalars, bytes, string */
        if (t->elem_kind != 0 || t->ndim != 0 || !all_zero(t->shape, sizeof t->shape) ||
            t->elem_size != kinds[t->kind].size || !all_zero(t->name, sizeof t->name) ||
            !all_zero(t->format, sizeof t->format))
            return HCM_EINVAL;
    }
    return HCM_OK;
}

int hcm_type_equal(const hcm_type *a, const hcm_type *b)
{
    /* Validated descriptors have zeroed unused fields, so bytes decide. */
    return a != NULL && b != NULL && memcmp(a, b, sizeof *a) == 0;
}

uint64_t hcm_type_fixed_size(const hcm_type *t)
{
    uint64_t total;
    if (t == NULL || hcm_type_validate(t) != HCM_OK)
        return 0;
    switch (t->kind) {
    case HCM_TYPE_BYTES:
    case HCM_TYPE_STRING:
        return 0;
    case HCM_TYPE_ARRAY:
        total = t->elem_size;
        for (uint32_t i = 0; i < t->ndim; i++)
            total *= t->shape[i];
        return total;
    default:
        return t->elem_size;
    }
}

const char *hcm_type_format(const hcm_type *t, char *buf, size_t cap)
{
    size_t n = 0;
    int w;
    if (buf == NULL || cap == 0)
        return buf;
    buf[0] = '\0';
    if (t == NULL)
        return buf;
    if (hcm_type_validate(t) != HCM_OK && t->kind != HCM_TYPE_NONE) {
        snprintf(buf, cap, "invalid type (kind %u)", t->kind);
        return buf;
    }
    if (t->kind == HCM_TYPE_STRUCT || (t->kind == HCM_TYPE_ARRAY && t->elem_kind == HCM_TYPE_STRUCT))
        w = snprintf(buf, cap, "struct %s '%s'", t->name, t->format);
    else if (t->kind == HCM_TYPE_ARRAY)
        w = snprintf(buf, cap, "%s", kinds[t->elem_kind].name);
    else
        w = snprintf(buf, cap, "%s", kinds[t->kind].name);
    if (w < 0)
        return buf;
    n = (size_t)w;
    if (t->kind == HCM_TYPE_ARRAY) {
        for (uint32_t i = 0; i < t->ndim && n < cap; i++) {
            w = snprintf(buf + n, cap - n, "%s%u%s", i == 0 ? "[" : ",", t->shape[i],
                         i + 1 == t->ndim ? "]" : "");
            if (w < 0)
                break;
            n += (size_t)w;
        }
    }
    return buf;
}
