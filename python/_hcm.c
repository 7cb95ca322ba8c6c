/* _hcm.c - the CPython extension behind shm_pub_sub (and later shm_service,
 * shm_action): Publisher, Subscriber, zero-copy Loan and View, and errors.
 *
 * Conventions (CPython's mmapmodule.c and posixshmem.c are the models):
 * heap types and multi-phase init with module state; blocking calls release
 * the GIL and wait in slices of at most 50 ms with PyErr_CheckSignals()
 * between them, so Ctrl-C lands within 100 ms; memory that Python can see
 * (NumPy arrays over a slot) is exported by a SlotBuffer object that holds an
 * hcm pin, so the mapping outlives every view of it.
 *
 * Values: the type of a topic comes from the default value: bool -> bool,
 * int -> int64, float -> float64, str -> string, bytes/bytearray -> bytes,
 * a NumPy array or scalar -> its dtype and shape (structured dtypes become
 * structs whose format a C program can use, see type_info()).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <stdint.h>
#include <string.h>
#include <time.h>

#include <hcm/hcm.h>

/* ---- module state -------------------------------------------------------- */

typedef struct {
    PyObject *Error;
    PyObject *TypeMismatchError;
    PyObject *InvalidArgumentError;
    PyObject *PermissionDeniedError;
    PyObject *TopicNotFoundError;
    PyObject *WaitTimeoutError;
    PyObject *CorruptSegmentError;
    PyObject *BusyError;
    PyObject *OverrunError;
    PyObject *SystemCallError;
    PyObject *IntegerOverflowError;
    PyObject *PeerDeadError;
    PyObject *RemoteError;
    PyTypeObject *ServiceServerType;
    PyTypeObject *ServiceClientType;
    PyTypeObject *ActionServerType;
    PyTypeObject *ActionClientType;
    PyTypeObject *ServerGoalType;
    PyTypeObject *ClientGoalType;
    PyTypeObject *PublisherType;
    PyTypeObject *SubscriberType;
    PyTypeObject *LoanType;
    PyTypeObject *ViewType;
    PyTypeObject *SlotBufferType;
    PyObject *numpy; /* imported on first use */
    PyObject *np_ndarray;
    PyObject *np_generic;
} hcm_state;

static struct PyModuleDef hcm_module;

static hcm_state *state_of_module(PyObject *m)
{
    return (hcm_state *)PyModule_GetState(m);
}

/* The state of the module that defined `type` (or one of its bases). */
static hcm_state *state_of_type(PyTypeObject *type)
{
    PyObject *mro = type->tp_mro;
    if (mro != NULL) {
        for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(mro); i++) {
            PyTypeObject *t = (PyTypeObject *)PyTuple_GET_ITEM(mro, i);
            if (!(t->tp_flags & Py_TPFLAGS_HEAPTYPE))
                continue;
            PyObject *m = PyType_GetModule(t);
            if (m == NULL) {
                PyErr_Clear();
                continue;
            }
            if (PyModule_GetDef(m) == &hcm_module)
                return state_of_module(m);
        }
    }
    PyErr_SetString(PyExc_TypeError, "hcm: object of a type not defined by the _hcm module");
    return NULL;
}

static int import_numpy(hcm_state *st)
{
    if (st->numpy != NULL)
        return 0;
    PyObject *np = PyImport_ImportModule("numpy");
    if (np == NULL)
        return -1;
    st->np_ndarray = PyObject_GetAttrString(np, "ndarray");
    st->np_generic = PyObject_GetAttrString(np, "generic");
    if (st->np_ndarray == NULL || st->np_generic == NULL) {
        Py_CLEAR(st->np_ndarray);
        Py_CLEAR(st->np_generic);
        Py_DECREF(np);
        return -1;
    }
    st->numpy = np;
    return 0;
}

/* 1 if numpy is already imported by someone (so arrays may exist), after
 * making sure our references are set; 0 if numpy is not loaded. */
static int numpy_loaded(hcm_state *st)
{
    if (st->numpy != NULL)
        return 1;
    PyObject *mods = PyImport_GetModuleDict();
    if (PyDict_GetItemString(mods, "numpy") == NULL)
        return 0;
    if (import_numpy(st) < 0) {
        PyErr_Clear();
        return 0;
    }
    return 1;
}

/* ---- errors ----------------------------------------------------------------- */

/* Raises the exception for hcm code `rc`, with hcm_errmsg() as the message
 * (prefixed by `what` if given). Returns NULL. */
static PyObject *raise_hcm(hcm_state *st, int rc, const char *what)
{
    PyObject *exc;
    const char *detail = hcm_errmsg();
    switch (rc) {
    case HCM_ETYPE:
        exc = st->TypeMismatchError;
        break;
    case HCM_EINVAL:
    case HCM_ENAME:
    case HCM_EMSGSIZE:
    case HCM_ENOMEM:
        exc = st->InvalidArgumentError;
        break;
    case HCM_EPERM:
        exc = st->PermissionDeniedError;
        break;
    case HCM_ENOENT:
        exc = st->TopicNotFoundError;
        break;
    case HCM_ETIMEDOUT:
        exc = st->WaitTimeoutError;
        break;
    case HCM_ECORRUPT:
        exc = st->CorruptSegmentError;
        break;
    case HCM_EBUSY:
        exc = st->BusyError;
        break;
    case HCM_EDEAD:
        exc = st->PeerDeadError;
        break;
    case HCM_EREMOTE:
        exc = st->RemoteError;
        break;
    case HCM_ECANCELED:
        exc = st->Error;
        break;
    case HCM_EOVERRUN:
        exc = st->OverrunError;
        break;
    case HCM_ESYS:
        exc = st->SystemCallError;
        break;
    default:
        exc = st->Error;
    }
    if (detail == NULL || detail[0] == '\0')
        detail = hcm_strerror(rc);
    if (what != NULL)
        PyErr_Format(exc, "%s: %s", what, detail);
    else
        PyErr_SetString(exc, detail);
    return NULL;
}

/* UTF-8 of a name; NUL characters are refused (C would cut the name). */
static const char *c_name(hcm_state *st, PyObject *str)
{
    Py_ssize_t n;
    const char *s = PyUnicode_AsUTF8AndSize(str, &n);
    if (s == NULL)
        return NULL;
    if ((Py_ssize_t)strlen(s) != n) {
        PyErr_Format(st->InvalidArgumentError, "name %R contains a NUL character", str);
        return NULL;
    }
    return s;
}

/* Re-raises a plain TypeError, ValueError or OverflowError as the matching
 * shm_pub_sub exception (which also derives from that built-in), so that
 * every error of ours can be caught as shm_pub_sub.Error. Other exceptions
 * (subclasses such as UnicodeDecodeError included) pass unchanged. */
static void wrap_builtin(hcm_state *st)
{
    PyObject *type, *value, *tb, *to = NULL;
    if (!PyErr_Occurred())
        return;
    PyErr_Fetch(&type, &value, &tb);
    if (type == PyExc_TypeError)
        to = st->TypeMismatchError;
    else if (type == PyExc_ValueError)
        to = st->InvalidArgumentError;
    else if (type == PyExc_OverflowError)
        to = st->IntegerOverflowError;
    if (to == NULL) {
        PyErr_Restore(type, value, tb);
        return;
    }
    PyErr_NormalizeException(&type, &value, &tb);
    PyObject *msg = value != NULL ? PyObject_Str(value) : NULL;
    if (msg != NULL) {
        PyErr_SetObject(to, msg);
        Py_DECREF(msg);
    }
    Py_XDECREF(type);
    Py_XDECREF(value);
    Py_XDECREF(tb);
}

/* Seconds (float or int, or None = forever) to nanoseconds; -1 = forever.
 * `allow_negative`: a negative value is passed on as -1 (spin: poll). */
static int seconds_ns(hcm_state *st, PyObject *obj, int allow_negative, int64_t *out)
{
    double s;
    if (obj == NULL || obj == Py_None) {
        *out = -1;
        return 0;
    }
    if (PyBool_Check(obj) || !(PyFloat_Check(obj) || PyLong_Check(obj))) {
        PyErr_Format(st->TypeMismatchError, "a time in seconds must be an int or float, got %.100s",
                     Py_TYPE(obj)->tp_name);
        return -1;
    }
    s = PyFloat_AsDouble(obj);
    if (s == -1.0 && PyErr_Occurred()) {
        wrap_builtin(st);
        return -1;
    }
    if (s != s) {
        PyErr_Format(st->InvalidArgumentError, "a time in seconds must not be NaN");
        return -1;
    }
    if (s < 0.0) {
        if (allow_negative) {
            *out = -1;
            return 0;
        }
        PyErr_Format(st->InvalidArgumentError, "timeout must be >= 0 seconds or None, got %R", obj);
        return -1;
    }
    *out = s > 9.0e9 ? INT64_MAX / 2 : (int64_t)(s * 1e9);
    return 0;
}

static int timeout_ns(hcm_state *st, PyObject *obj, int64_t *out)
{
    return seconds_ns(st, obj, 0, out);
}

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000ll + ts.tv_nsec;
}

/* ---- codec: Python values <-> payload bytes ------------------------------- */

enum { PYK_BOOL, PYK_INT, PYK_FLOAT, PYK_STR, PYK_BYTES, PYK_ARRAY };

typedef struct {
    int kind;
    hcm_type type;
    uint64_t size;     /* fixed size (scalars, arrays) or max size (str, bytes) */
    PyObject *dtype;   /* PYK_ARRAY */
    PyObject *shape;   /* PYK_ARRAY: tuple */
    int scalar_out;    /* PYK_ARRAY from a NumPy scalar: give back scalars */
} codec;

static void codec_clear(codec *c)
{
    Py_CLEAR(c->dtype);
    Py_CLEAR(c->shape);
}

static const char *kind_name(const codec *c)
{
    static const char *names[] = {"bool", "int", "float", "str", "bytes", "numpy array"};
    return names[c->kind];
}

/* The scalar hcm kind of a plain (non-structured) NumPy dtype. */
static int dtype_scalar_kind(PyObject *dtype, uint32_t *kindp)
{
    PyObject *k = PyObject_GetAttrString(dtype, "kind");
    PyObject *bo = PyObject_GetAttrString(dtype, "byteorder");
    PyObject *is = PyObject_GetAttrString(dtype, "itemsize");
    int rc = -1;
    if (k == NULL || bo == NULL || is == NULL)
        goto out;
    const char *kc = PyUnicode_AsUTF8(k);
    const char *bc = PyUnicode_AsUTF8(bo);
    long n = PyLong_AsLong(is);
    if (kc == NULL || bc == NULL || (n == -1 && PyErr_Occurred()))
        goto out;
    if (bc[0] == '>' || bc[0] == '!') {
        PyErr_Format(PyExc_TypeError, "dtype %R is big-endian; hcm topics are little-endian",
                     dtype);
        goto out;
    }
    switch (kc[0]) {
    case 'b':
        *kindp = HCM_TYPE_BOOL;
        rc = n == 1 ? 0 : -1;
        break;
    case 'i':
        *kindp = n == 1 ? HCM_TYPE_INT8 : n == 2 ? HCM_TYPE_INT16 : n == 4 ? HCM_TYPE_INT32
                 : HCM_TYPE_INT64;
        rc = (n == 1 || n == 2 || n == 4 || n == 8) ? 0 : -1;
        break;
    case 'u':
        *kindp = n == 1 ? HCM_TYPE_UINT8 : n == 2 ? HCM_TYPE_UINT16 : n == 4 ? HCM_TYPE_UINT32
                 : HCM_TYPE_UINT64;
        rc = (n == 1 || n == 2 || n == 4 || n == 8) ? 0 : -1;
        break;
    case 'f':
        *kindp = n == 4 ? HCM_TYPE_FLOAT32 : HCM_TYPE_FLOAT64;
        rc = (n == 4 || n == 8) ? 0 : -1;
        break;
    default:
        rc = -1;
    }
    if (rc != 0)
        PyErr_Format(PyExc_TypeError,
                     "dtype %R is not supported (bool, int8..int64, uint8..uint64, float32, "
                     "float64, or a structured dtype of those)",
                     dtype);
out:
    Py_XDECREF(k);
    Py_XDECREF(bo);
    Py_XDECREF(is);
    return rc;
}

/* The struct format character of one field's base dtype; 0 and an exception
 * if unsupported. *countp gets the repeat count for 's' (bytes). */
static char field_code(PyObject *dtype, long *countp)
{
    PyObject *k = PyObject_GetAttrString(dtype, "kind");
    PyObject *is = PyObject_GetAttrString(dtype, "itemsize");
    PyObject *fields = PyObject_GetAttrString(dtype, "fields");
    char code = 0;
    if (k == NULL || is == NULL || fields == NULL)
        goto out;
    const char *kc = PyUnicode_AsUTF8(k);
    long n = PyLong_AsLong(is);
    if (kc == NULL || (n == -1 && PyErr_Occurred()))
        goto out;
    *countp = 1;
    if (fields != Py_None) {
        PyErr_Format(PyExc_TypeError, "nested structured dtype %R is not supported", dtype);
        goto out;
    }
    if (kc[0] == 'S') {
        *countp = n;
        code = 's';
        goto out;
    }
    uint32_t kind;
    if (dtype_scalar_kind(dtype, &kind) < 0)
        goto out;
    static const char codes[] = {0,   '?', 'b', 'h', 'i', 'q', 'B',
                                 'H', 'I', 'Q', 'f', 'd'};
    code = codes[kind];
out:
    Py_XDECREF(k);
    Py_XDECREF(is);
    Py_XDECREF(fields);
    return code;
}

typedef struct {
    long offset;
    char code;
    long count;
} fmt_item;

static int item_cmp(const void *a, const void *b)
{
    long x = ((const fmt_item *)a)->offset, y = ((const fmt_item *)b)->offset;
    return (x > y) - (x < y);
}

/* Python struct syntax for a structured dtype: fields in offset order, 'x'
 * for padding, runs of one code merged ("<3d"). */
static int struct_format(PyObject *dtype, char *out, size_t cap, uint32_t *sizep)
{
    PyObject *names = PyObject_GetAttrString(dtype, "names");
    PyObject *fields = PyObject_GetAttrString(dtype, "fields");
    PyObject *is = PyObject_GetAttrString(dtype, "itemsize");
    fmt_item *items = NULL;
    Py_ssize_t n = 0, m = 0;
    long itemsize;
    int rc = -1;
    if (names == NULL || fields == NULL || is == NULL)
        goto out;
    itemsize = PyLong_AsLong(is);
    n = PyTuple_Size(names);
    if (n < 0 || (itemsize == -1 && PyErr_Occurred()))
        goto out;
    items = PyMem_Calloc((size_t)n * 2 + 2, sizeof *items);
    if (items == NULL) {
        PyErr_NoMemory();
        goto out;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        /* dtype.fields is a mappingproxy: (dtype, offset[, title]) per name */
        PyObject *f = PyObject_GetItem(fields, PyTuple_GET_ITEM(names, i));
        if (f == NULL)
            goto out;
        if (!PyTuple_Check(f) || PyTuple_GET_SIZE(f) < 2) {
            Py_DECREF(f);
            PyErr_SetString(PyExc_TypeError, "unexpected dtype.fields entry");
            goto out;
        }
        PyObject *fd = PyTuple_GET_ITEM(f, 0);
        long off = PyLong_AsLong(PyTuple_GET_ITEM(f, 1));
        Py_DECREF(f); /* fd stays alive: the dtype holds it */
        if (off == -1 && PyErr_Occurred())
            goto out;
        long count = 1;
        PyObject *sub = PyObject_GetAttrString(fd, "subdtype");
        if (sub == NULL)
            goto out;
        if (sub != Py_None) { /* a sub-array field: (base dtype, shape) */
            PyObject *shape = PyTuple_GET_ITEM(sub, 1);
            fd = PyTuple_GET_ITEM(sub, 0);
            for (Py_ssize_t d = 0; d < PyTuple_GET_SIZE(shape); d++)
                count *= PyLong_AsLong(PyTuple_GET_ITEM(shape, d));
        }
        long scount = 1;
        char code = field_code(fd, &scount);
        Py_DECREF(sub);
        if (code == 0)
            goto out;
        if (code == 's' && count != 1) {
            PyErr_SetString(PyExc_TypeError, "arrays of byte strings in a struct are not supported");
            goto out;
        }
        items[m].offset = off;
        items[m].code = code;
        items[m].count = code == 's' ? scount : count;
        m++;
    }
    qsort(items, (size_t)m, sizeof *items, item_cmp);
    {
        size_t len = 0;
        long pos = 0;
        char prev = 0;
        long run = 0;
        out[len++] = '<';
        /* Emit with padding, merging runs; flush() writes the pending run. */
#define FLUSH()                                                                             \
    do {                                                                                    \
        if (run > 0) {                                                                      \
            int w = run > 1 || prev == 's' ? snprintf(out + len, cap - len, "%ld%c", run, prev) \
                                           : snprintf(out + len, cap - len, "%c", prev);    \
            if (w < 0 || (size_t)w >= cap - len)                                            \
                goto too_long;                                                              \
            len += (size_t)w;                                                               \
        }                                                                                   \
        run = 0;                                                                            \
    } while (0)
        for (Py_ssize_t i = 0; i <= m; i++) {
            long off = i < m ? items[i].offset : itemsize;
            if (off < pos) {
                PyErr_SetString(PyExc_TypeError, "overlapping fields in structured dtype");
                goto out;
            }
            if (off > pos) { /* padding */
                if (prev != 'x')
                    FLUSH();
                prev = 'x';
                run += off - pos;
                pos = off;
            }
            if (i == m)
                break;
            long elsize;
            switch (items[i].code) {
            case '?': case 'b': case 'B': elsize = 1; break;
            case 'h': case 'H': elsize = 2; break;
            case 'i': case 'I': case 'f': elsize = 4; break;
            case 's': elsize = 1; break;
            default: elsize = 8;
            }
            if (items[i].code != prev || prev == 's')
                FLUSH();
            prev = items[i].code;
            run += items[i].count;
            pos += elsize * items[i].count;
        }
        FLUSH();
#undef FLUSH
        out[len] = '\0';
    }
    if (itemsize <= 0 || itemsize > UINT32_MAX) {
        PyErr_SetString(PyExc_TypeError, "structured dtype has an unsupported size");
        goto out;
    }
    *sizep = (uint32_t)itemsize;
    rc = 0;
    goto out;
too_long:
    PyErr_Format(PyExc_TypeError, "struct format of %R is longer than %d characters", dtype,
                 HCM_TYPE_FORMAT_MAX - 1);
out:
    PyMem_Free(items);
    Py_XDECREF(names);
    Py_XDECREF(fields);
    Py_XDECREF(is);
    return rc;
}

/* Builds the codec of a topic from its default value. */
static int codec_init(hcm_state *st, codec *c, PyObject *def, PyObject *max_size_obj,
                      const char *type_name)
{
    long long max_size = -1;
    memset(c, 0, sizeof *c);
    if (max_size_obj != NULL && max_size_obj != Py_None) {
        max_size = PyLong_AsLongLong(max_size_obj);
        if (max_size == -1 && PyErr_Occurred())
            return -1;
        if (max_size < 1 || (unsigned long long)max_size > HCM_MAX_PAYLOAD) {
            PyErr_Format(st->InvalidArgumentError, "max_size must be 1..%llu bytes, got %lld",
                         (unsigned long long)HCM_MAX_PAYLOAD, max_size);
            return -1;
        }
    }
    if (PyBool_Check(def)) {
        c->kind = PYK_BOOL;
        c->type = hcm_type_scalar(HCM_TYPE_BOOL);
        c->size = 1;
    } else if (PyLong_Check(def)) {
        c->kind = PYK_INT;
        c->type = hcm_type_scalar(HCM_TYPE_INT64);
        c->size = 8;
    } else if (PyFloat_Check(def)) {
        c->kind = PYK_FLOAT;
        c->type = hcm_type_scalar(HCM_TYPE_FLOAT64);
        c->size = 8;
    } else if (PyUnicode_Check(def) || PyBytes_Check(def) || PyByteArray_Check(def)) {
        c->kind = PyUnicode_Check(def) ? PYK_STR : PYK_BYTES;
        c->type = hcm_type_scalar(c->kind == PYK_STR ? HCM_TYPE_STRING : HCM_TYPE_BYTES);
        c->size = max_size > 0 ? (uint64_t)max_size : HCM_DEFAULT_BYTES_MAX;
        max_size = -1;
    } else {
        PyObject *arr = NULL, *dtype = NULL, *shape = NULL, *fields = NULL;
        int is_np = 0, ok = -1;
        if (numpy_loaded(st)) {
            is_np = PyObject_IsInstance(def, st->np_ndarray);
            if (is_np == 0)
                is_np = PyObject_IsInstance(def, st->np_generic) ? 2 : 0;
            if (is_np < 0)
                return -1;
        }
        if (!is_np) {
            PyErr_Format(PyExc_TypeError,
                         "default_value must be a bool, int, float, str, bytes or a NumPy "
                         "array or scalar; got %.100s",
                         Py_TYPE(def)->tp_name);
            return -1;
        }
        c->kind = PYK_ARRAY;
        c->scalar_out = is_np == 2;
        arr = PyObject_CallMethod(st->numpy, "asarray", "(O)", def);
        if (arr == NULL)
            goto np_out;
        dtype = PyObject_GetAttrString(arr, "dtype");
        shape = PyObject_GetAttrString(arr, "shape");
        if (dtype == NULL || shape == NULL)
            goto np_out;
        fields = PyObject_GetAttrString(dtype, "fields");
        if (fields == NULL)
            goto np_out;
        hcm_type elem;
        if (fields == Py_None) {
            uint32_t kind;
            if (dtype_scalar_kind(dtype, &kind) < 0)
                goto np_out;
            elem = hcm_type_scalar((hcm_type_kind)kind);
        } else {
            char fmt[HCM_TYPE_FORMAT_MAX];
            uint32_t size;
            if (struct_format(dtype, fmt, sizeof fmt, &size) < 0)
                goto np_out;
            if (hcm_type_struct(&elem, type_name ? type_name : "record", fmt, size) != HCM_OK) {
                raise_hcm(st, HCM_EINVAL, "structured dtype");
                goto np_out;
            }
        }
        Py_ssize_t ndim = PyTuple_Size(shape);
        uint32_t dims[HCM_TYPE_MAX_DIMS];
        uint64_t total = elem.elem_size;
        if (ndim > HCM_TYPE_MAX_DIMS) {
            PyErr_Format(PyExc_TypeError, "arrays of at most %d dimensions, got %zd",
                         HCM_TYPE_MAX_DIMS, ndim);
            goto np_out;
        }
        for (Py_ssize_t i = 0; i < ndim; i++) {
            long long d = PyLong_AsLongLong(PyTuple_GET_ITEM(shape, i));
            if (d < 1 || d > UINT32_MAX) {
                if (!PyErr_Occurred())
                    PyErr_Format(st->InvalidArgumentError,
                                 "array shape %R: every extent must be 1..2^32-1", shape);
                goto np_out;
            }
            dims[i] = (uint32_t)d;
            total *= (uint64_t)d;
        }
        if (ndim == 0) {
            c->type = elem;
        } else if (hcm_type_array_of(&c->type, &elem, (uint32_t)ndim, dims) != HCM_OK) {
            raise_hcm(st, HCM_EINVAL, "array type");
            goto np_out;
        }
        c->size = total;
        c->dtype = dtype;
        c->shape = shape;
        dtype = shape = NULL;
        ok = 0;
    np_out:
        Py_XDECREF(arr);
        Py_XDECREF(dtype);
        Py_XDECREF(shape);
        Py_XDECREF(fields);
        if (ok < 0)
            return -1;
    }
    if (type_name != NULL && c->type.kind != HCM_TYPE_STRUCT &&
        !(c->type.kind == HCM_TYPE_ARRAY && c->type.elem_kind == HCM_TYPE_STRUCT)) {
        PyErr_SetString(st->InvalidArgumentError,
                        "type_name applies to structured NumPy dtypes only");
        return -1;
    }
    if (max_size > 0) {
        PyErr_Format(st->InvalidArgumentError,
                     "max_size applies to str and bytes topics; a %s topic has a fixed size",
                     kind_name(c));
        return -1;
    }
    return 0;
}

/* An encoded value: a pointer to its bytes, and what keeps them alive. */
typedef struct {
    const void *ptr;
    size_t len;
    union {
        int64_t i;
        double d;
        uint8_t b;
    } small;
    Py_buffer view;
    int has_view;
    PyObject *hold;
} enc;

static void enc_release(enc *e)
{
    if (e->has_view)
        PyBuffer_Release(&e->view);
    e->has_view = 0;
    Py_CLEAR(e->hold);
}

static int wrong_type(hcm_state *st, const codec *c, PyObject *topic, PyObject *obj)
{
    char t[160];
    PyErr_Format(st->TypeMismatchError, "'%U' carries %s (%s); got a value of type %.100s",
                 topic, hcm_type_format(&c->type, t, sizeof t), kind_name(c),
                 Py_TYPE(obj)->tp_name);
    return -1;
}

static int too_long(hcm_state *st, const codec *c, PyObject *topic, size_t len)
{
    PyErr_Format(st->InvalidArgumentError,
                 "topic '%U': a value of %zu bytes exceeds max_size %llu", topic, len,
                 (unsigned long long)c->size);
    return -1;
}

/* dtype.kind of an array or dtype as a char, 0 on error. */
static char dtype_kind(PyObject *dtype)
{
    PyObject *k = PyObject_GetAttrString(dtype, "kind");
    const char *kc = k != NULL ? PyUnicode_AsUTF8(k) : NULL;
    char r = kc != NULL ? kc[0] : 0;
    Py_XDECREF(k);
    return r;
}

/* A value that is not an ndarray (a Python number or list, a NumPy scalar)
 * for an array topic. Only value-preserving kinds convert: bool to bool,
 * integers to integers (range-checked by NumPy) or floats, floats to floats;
 * a str never becomes a number. Structured topics take what NumPy can turn
 * into a record of their dtype (tuples). */
static PyObject *convert_to_array(hcm_state *st, const codec *c, PyObject *topic, PyObject *obj)
{
    PyObject *arr;
    if (PyUnicode_Check(obj) || PyBytes_Check(obj) || PyByteArray_Check(obj)) {
        wrong_type(st, c, topic, obj);
        return NULL;
    }
    char to = dtype_kind(c->dtype);
    if (to != 'V') {
        PyObject *tmp = PyObject_CallMethod(st->numpy, "asarray", "(O)", obj);
        if (tmp == NULL)
            return NULL;
        PyObject *dt = PyObject_GetAttrString(tmp, "dtype");
        char from = dt != NULL ? dtype_kind(dt) : 0;
        int ok = (from == 'b' && to == 'b') ||
                 ((from == 'i' || from == 'u') && (to == 'i' || to == 'u' || to == 'f')) ||
                 (from == 'f' && to == 'f');
        Py_DECREF(tmp);
        if (!ok) {
            if (dt != NULL)
                PyErr_Format(st->TypeMismatchError,
                             "topic '%U' carries arrays of dtype %R; cannot publish %.100s "
                             "(dtype %R)",
                             topic, c->dtype, Py_TYPE(obj)->tp_name, dt);
            Py_XDECREF(dt);
            return NULL;
        }
        Py_DECREF(dt);
    }
    arr = PyObject_CallMethod(st->numpy, "asarray", "OO", obj, c->dtype);
    return arr;
}

static int encode(hcm_state *st, const codec *c, PyObject *topic, PyObject *obj, enc *e)
{
    memset(e, 0, sizeof *e);
    switch (c->kind) {
    case PYK_BOOL:
        if (!PyBool_Check(obj))
            return wrong_type(st, c, topic, obj);
        e->small.b = obj == Py_True;
        e->ptr = &e->small.b;
        e->len = 1;
        return 0;
    case PYK_INT: {
        if (PyBool_Check(obj) || PyFloat_Check(obj) || !PyIndex_Check(obj))
            return wrong_type(st, c, topic, obj);
        PyObject *idx = PyNumber_Index(obj);
        if (idx == NULL)
            return -1;
        long long v = PyLong_AsLongLong(idx); /* OverflowError outside int64 */
        Py_DECREF(idx);
        if (v == -1 && PyErr_Occurred())
            return -1;
        e->small.i = v;
        e->ptr = &e->small.i;
        e->len = 8;
        return 0;
    }
    case PYK_FLOAT: {
        if (PyFloat_CheckExact(obj)) {
            e->small.d = PyFloat_AS_DOUBLE(obj);
        } else {
            if (PyBool_Check(obj) || !(PyFloat_Check(obj) || PyIndex_Check(obj) ||
                                       Py_TYPE(obj)->tp_as_number != NULL))
                return wrong_type(st, c, topic, obj);
            double d = PyFloat_AsDouble(obj);
            if (d == -1.0 && PyErr_Occurred()) {
                if (PyErr_ExceptionMatches(PyExc_TypeError)) {
                    PyErr_Clear();
                    return wrong_type(st, c, topic, obj);
                }
                return -1;
            }
            e->small.d = d;
        }
        e->ptr = &e->small.d;
        e->len = 8;
        return 0;
    }
    case PYK_STR: {
        Py_ssize_t n;
        if (!PyUnicode_Check(obj))
            return wrong_type(st, c, topic, obj);
        const char *s = PyUnicode_AsUTF8AndSize(obj, &n);
        if (s == NULL)
            return -1;
        if ((uint64_t)n > c->size)
            return too_long(st, c, topic, (size_t)n);
        e->ptr = s;
        e->len = (size_t)n;
        return 0;
    }
    case PYK_BYTES:
        if (PyUnicode_Check(obj) || !PyObject_CheckBuffer(obj))
            return wrong_type(st, c, topic, obj);
        if (PyObject_GetBuffer(obj, &e->view, PyBUF_SIMPLE) < 0)
            return -1;
        e->has_view = 1;
        if ((uint64_t)e->view.len > c->size) {
            size_t n = (size_t)e->view.len;
            enc_release(e);
            return too_long(st, c, topic, n);
        }
        e->ptr = e->view.buf;
        e->len = (size_t)e->view.len;
        return 0;
    default: { /* PYK_ARRAY */
        PyObject *arr;
        int is_arr = PyObject_IsInstance(obj, st->np_ndarray);
        if (is_arr < 0)
            return -1;
        if (is_arr) {
            Py_INCREF(obj);
            arr = obj;
        } else if ((arr = convert_to_array(st, c, topic, obj)) == NULL) {
            return -1;
        }
        PyObject *dt = PyObject_GetAttrString(arr, "dtype");
        PyObject *sh = PyObject_GetAttrString(arr, "shape");
        int same = dt != NULL && sh != NULL ? PyObject_RichCompareBool(dt, c->dtype, Py_EQ) : -1;
        if (same == 1)
            same = PyObject_RichCompareBool(sh, c->shape, Py_EQ);
        if (same != 1) {
            if (same == 0)
                PyErr_Format(st->TypeMismatchError,
                             "topic '%U' carries arrays of dtype %R and shape %R; got dtype %R "
                             "and shape %R",
                             topic, c->dtype, c->shape, dt, sh);
            Py_XDECREF(dt);
            Py_XDECREF(sh);
            Py_DECREF(arr);
            return -1;
        }
        Py_DECREF(dt);
        Py_DECREF(sh);
        if (PyObject_GetBuffer(arr, &e->view, PyBUF_C_CONTIGUOUS) < 0) {
            /* not C-contiguous: make a contiguous copy */
            PyErr_Clear();
            PyObject *cc = PyObject_CallMethod(st->numpy, "ascontiguousarray", "(O)", arr);
            Py_DECREF(arr);
            if (cc == NULL)
                return -1;
            arr = cc;
            if (PyObject_GetBuffer(arr, &e->view, PyBUF_C_CONTIGUOUS) < 0) {
                Py_DECREF(arr);
                return -1;
            }
        }
        e->has_view = 1;
        e->hold = arr;
        if ((uint64_t)e->view.len != c->size) {
            enc_release(e);
            PyErr_SetString(st->CorruptSegmentError, "array byte size differs from the topic's");
            return -1;
        }
        e->ptr = e->view.buf;
        e->len = (size_t)e->view.len;
        return 0;
    }
    }
}

/* A fresh array of the topic's dtype and shape. */
static PyObject *new_array(hcm_state *st, const codec *c)
{
    return PyObject_CallMethod(st->numpy, "empty", "OO", c->shape, c->dtype);
}

/* The value held in `buf` (scalars, str, bytes). */
static PyObject *decode_bytes(hcm_state *st, const codec *c, const void *buf, uint64_t len)
{
    switch (c->kind) {
    case PYK_BOOL:
        if (len != 1)
            break;
        return PyBool_FromLong(*(const uint8_t *)buf != 0);
    case PYK_INT: {
        int64_t v;
        if (len != 8)
            break;
        memcpy(&v, buf, 8);
        return PyLong_FromLongLong(v);
    }
    case PYK_FLOAT: {
        double d;
        if (len != 8)
            break;
        memcpy(&d, buf, 8);
        return PyFloat_FromDouble(d);
    }
    case PYK_STR:
        return PyUnicode_DecodeUTF8(buf, (Py_ssize_t)len, "strict");
    case PYK_BYTES:
        return PyBytes_FromStringAndSize(buf, (Py_ssize_t)len);
    }
    PyErr_Format(st->CorruptSegmentError, "sample of %llu bytes for a %s topic",
                 (unsigned long long)len, kind_name(c));
    return NULL;
}

/* ---- SlotBuffer: exports slot memory, keeps the mapping pinned ------------- */

typedef struct {
    PyObject_HEAD
    void *ptr;
    Py_ssize_t len;
    int readonly;
    hcm_pin *pin;
} SlotBufferObject;

static int slotbuf_getbuffer(PyObject *op, Py_buffer *view, int flags)
{
    SlotBufferObject *self = (SlotBufferObject *)op;
    return PyBuffer_FillInfo(view, op, self->ptr, self->len, self->readonly, flags);
}

static void slotbuf_dealloc(PyObject *op)
{
    SlotBufferObject *self = (SlotBufferObject *)op;
    PyTypeObject *tp = Py_TYPE(op);
    hcm_pin_release(self->pin);
    tp->tp_free(op);
    Py_DECREF(tp);
}

static PyType_Slot slotbuf_slots[] = {
    {Py_tp_dealloc, slotbuf_dealloc},
    {Py_tp_doc, "Memory of one slot of a topic (internal; keeps the segment mapped)."},
    {Py_bf_getbuffer, slotbuf_getbuffer},
    {0, NULL},
};

static PyType_Spec slotbuf_spec = {
    "hcm._hcm.SlotBuffer", sizeof(SlotBufferObject), 0, Py_TPFLAGS_DEFAULT, slotbuf_slots,
};

/* A SlotBuffer over [ptr, ptr+len) holding `pin` (consumed), and the object
 * users see: a NumPy array of the topic's dtype/shape, or a memoryview. */
static PyObject *slot_object(hcm_state *st, const codec *c, void *ptr, Py_ssize_t len,
                             int readonly, hcm_pin *pin, PyObject **bufp)
{
    SlotBufferObject *sb = PyObject_New(SlotBufferObject, st->SlotBufferType);
    PyObject *out;
    if (sb == NULL) {
        hcm_pin_release(pin);
        return NULL;
    }
    sb->ptr = ptr;
    sb->len = len;
    sb->readonly = readonly;
    sb->pin = pin;
    if (c->kind == PYK_ARRAY) {
        PyObject *flat = PyObject_CallMethod(st->numpy, "frombuffer", "OO", (PyObject *)sb,
                                             c->dtype);
        out = flat != NULL ? PyObject_CallMethod(flat, "reshape", "(O)", c->shape) : NULL;
        Py_XDECREF(flat);
    } else {
        out = PyMemoryView_FromObject((PyObject *)sb);
    }
    if (out == NULL) {
        Py_DECREF(sb);
        return NULL;
    }
    *bufp = (PyObject *)sb;
    return out;
}

/* Arrays over slots, cached by slot address (array topics): a loan or view
 * of a slot seen before costs a lookup, not two NumPy calls (about 1 us).
 * Each cached array holds its SlotBuffer and so a pin on its mapping, which
 * therefore stays mapped: an address cannot come back for another mapping
 * while it is cached. The same array object is returned for every loan (or
 * view) of that slot; its contents are only meaningful inside the block. */
#define SLOT_CACHE 16

typedef struct {
    void *ptr[SLOT_CACHE];
    PyObject *obj[SLOT_CACHE];
    unsigned next;
} slot_cache;

static void slot_cache_clear(slot_cache *cache)
{
    for (int i = 0; i < SLOT_CACHE; i++) {
        Py_CLEAR(cache->obj[i]);
        cache->ptr[i] = NULL;
    }
}

/* The array over [ptr, ptr+len): from the cache, or made with a new pin
 * from get_pin(h). New reference. */
static PyObject *slot_array(hcm_state *st, slot_cache *cache, const codec *c, void *ptr,
                            Py_ssize_t len, int readonly, int (*get_pin)(void *, hcm_pin **),
                            void *h)
{
    PyObject *obj, *buf = NULL;
    hcm_pin *pin = NULL;
    int rc;
    for (int i = 0; i < SLOT_CACHE; i++)
        if (cache->obj[i] != NULL && cache->ptr[i] == ptr)
            return Py_NewRef(cache->obj[i]);
    if ((rc = get_pin(h, &pin)) != HCM_OK)
        return raise_hcm(st, rc, NULL);
    obj = slot_object(st, c, ptr, len, readonly, pin, &buf);
    if (obj == NULL)
        return NULL;
    Py_DECREF(buf); /* obj holds it */
    unsigned k = cache->next++ % SLOT_CACHE;
    Py_XSETREF(cache->obj[k], Py_NewRef(obj));
    cache->ptr[k] = ptr;
    return obj;
}

static int pub_pin(void *h, hcm_pin **pinp)
{
    return hcm_publisher_pin(h, pinp);
}

static int sub_pin(void *h, hcm_pin **pinp)
{
    return hcm_subscriber_pin(h, pinp);
}

/* ---- endpoint: what a Publisher and a Subscriber both keep ------------------ */

typedef struct {
    PyObject *name;          /* topic name (str) */
    PyObject *default_value; /* sets the type; subscribe() returns it before data */
    PyObject *domain;        /* str or None */
    codec c;
} endpoint;

/* Fills ep from the constructor arguments; *cnamep and *cdomainp receive the
 * C strings (owned by the str objects). */
static int endpoint_init(hcm_state *st, endpoint *ep, PyObject *name, PyObject *def,
                         PyObject *domain, PyObject *max_size, const char *type_name,
                         const char **cnamep, const char **cdomainp)
{
    if (domain != Py_None && !PyUnicode_Check(domain)) {
        PyErr_SetString(st->TypeMismatchError, "domain must be a str or None");
        return -1;
    }
    Py_INCREF(name);
    ep->name = name;
    Py_INCREF(def);
    ep->default_value = def;
    Py_INCREF(domain);
    ep->domain = domain;
    if (codec_init(st, &ep->c, def, max_size, type_name) < 0)
        return -1;
    *cdomainp = domain == Py_None ? NULL : c_name(st, domain);
    *cnamep = c_name(st, name);
    if (*cnamep == NULL || (domain != Py_None && *cdomainp == NULL))
        return -1;
    return 0;
}

/* Drops what can be part of a reference cycle (the GC's tp_clear: the
 * object then reads as closed), or everything (`all`, dealloc). The name
 * stays until dealloc: error messages use it. */
static void endpoint_clear(endpoint *ep, int all)
{
    codec_clear(&ep->c);
    Py_CLEAR(ep->default_value);
    if (all) {
        Py_CLEAR(ep->name);
        Py_CLEAR(ep->domain);
    }
}

static int endpoint_traverse(endpoint *ep, visitproc visit, void *arg)
{
    Py_VISIT(ep->default_value);
    Py_VISIT(ep->c.dtype);
    return 0;
}

/* ---- Publisher --------------------------------------------------------------- */

typedef struct {
    PyObject_HEAD
    hcm_state *st; /* our module's state (the type keeps the module alive) */
    endpoint ep;
    hcm_publisher *pub;
    PyObject *loan; /* the active Loan, borrowed (the Loan holds us) */
    int busy;       /* a call released the GIL while using `pub` */
    slot_cache arrays; /* writable arrays over slots, for loans */
} PublisherObject;

static int publisher_usable(hcm_state *st, PublisherObject *self)
{
    if (self->pub == NULL || self->ep.default_value == NULL) { /* closed, or cleared by the GC */
        PyErr_Format(st->Error, "Publisher('%U') is closed", self->ep.name);
        return 0;
    }
    if (self->busy) {
        PyErr_Format(PyExc_RuntimeError,
                     "Publisher('%U') is in use by another thread (a call released the GIL)",
                     self->ep.name);
        return 0;
    }
    return 1;
}

static PyObject *publisher_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"name", "default_value", "buffer_num", "max_size", "mode",
                             "domain", "type_name", NULL};
    PyObject *name, *def, *buffer_num_obj = NULL, *max_size = NULL, *domain = Py_None;
    const char *type_name = NULL;
    int mode = 0600;
    hcm_state *st = state_of_type(type);
    PublisherObject *self;
    hcm_publisher_attr attr;
    int rc;

    if (st == NULL)
        return NULL;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "UO|O$OiOz:Publisher", kwlist, &name, &def,
                                     &buffer_num_obj, &max_size, &mode, &domain, &type_name))
        {
        wrap_builtin(st);
        return NULL;
    }
    long long buffer_num = HCM_DEFAULT_SLOTS;
    if (buffer_num_obj != NULL) {
        if (PyBool_Check(buffer_num_obj) || !PyLong_Check(buffer_num_obj)) {
            PyErr_Format(st->TypeMismatchError, "buffer_num must be an int, got %.100s",
                         Py_TYPE(buffer_num_obj)->tp_name);
            return NULL;
        }
        buffer_num = PyLong_AsLongLong(buffer_num_obj);
        if (buffer_num == -1 && PyErr_Occurred()) {
            PyErr_Clear();
            buffer_num = -1;
        }
        if (buffer_num < 1 || buffer_num > HCM_MAX_SLOTS) {
            PyErr_Format(st->InvalidArgumentError, "buffer_num must be 1..%u, got %R",
                         HCM_MAX_SLOTS, buffer_num_obj);
            return NULL;
        }
    }
    self = (PublisherObject *)type->tp_alloc(type, 0);
    if (self == NULL)
        return NULL;
    self->st = st;
    const char *cname, *cdomain;
    if (endpoint_init(st, &self->ep, name, def, domain, max_size, type_name, &cname, &cdomain) <
        0)
        goto fail;
    hcm_publisher_attr_init(&attr);
    attr.type = self->ep.c.type;
    attr.buffer_num = (uint32_t)buffer_num;
    attr.max_payload = self->ep.c.size;
    attr.mode = (uint32_t)mode;
    attr.domain = cdomain;
    Py_BEGIN_ALLOW_THREADS
    rc = hcm_publisher_open(&self->pub, cname, &attr);
    Py_END_ALLOW_THREADS
    if (rc != HCM_OK) {
        raise_hcm(st, rc, NULL);
        goto fail;
    }
    return (PyObject *)self;
fail:
    wrap_builtin(st);
    Py_DECREF(self);
    return NULL;
}

static void publisher_dealloc(PyObject *op)
{
    PublisherObject *self = (PublisherObject *)op;
    PyTypeObject *tp = Py_TYPE(op);
    PyObject_GC_UnTrack(op);
    slot_cache_clear(&self->arrays);
    hcm_publisher_close(self->pub);
    self->pub = NULL;
    endpoint_clear(&self->ep, 1);
    tp->tp_free(op);
    Py_DECREF(tp);
}

static int publisher_traverse(PyObject *op, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(op));
    return endpoint_traverse(&((PublisherObject *)op)->ep, visit, arg);
}

static int publisher_clear(PyObject *op)
{
    slot_cache_clear(&((PublisherObject *)op)->arrays);
    endpoint_clear(&((PublisherObject *)op)->ep, 0);
    return 0;
}

static PyObject *publisher_publish(PyObject *op, PyObject *const *args, Py_ssize_t nargs,
                                   PyObject *kwnames)
{
    PublisherObject *self = (PublisherObject *)op;
    hcm_state *st = self->st;
    PyObject *data;
    enc e;
    int rc;
    if (nargs == 1 && kwnames == NULL) { /* the common call: publish(x) */
        data = args[0];
    } else if (nargs == 0 && kwnames != NULL && PyTuple_GET_SIZE(kwnames) == 1 &&
               PyUnicode_CompareWithASCIIString(PyTuple_GET_ITEM(kwnames, 0), "data") == 0) {
        data = args[0];
    } else {
        PyErr_SetString(st->TypeMismatchError, "publish() takes exactly one argument: data");
        return NULL;
    }
    if (!publisher_usable(st, self))
        return NULL;
    if (self->loan != NULL) {
        PyErr_Format(st->BusyError, "Publisher('%U'): a loan is active; leave its with-block first",
                     self->ep.name);
        return NULL;
    }
    if (encode(st, &self->ep.c, self->ep.name, data, &e) < 0) {
        wrap_builtin(st);
        return NULL;
    }
    if (e.len >= (1u << 16)) {
        self->busy = 1; /* a large copy: let other threads run meanwhile */
        Py_BEGIN_ALLOW_THREADS
        rc = hcm_publish(self->pub, e.ptr, e.len);
        Py_END_ALLOW_THREADS
        self->busy = 0;
    } else {
        rc = hcm_publish(self->pub, e.ptr, e.len);
    }
    enc_release(&e);
    if (rc != HCM_OK)
        return raise_hcm(st, rc, NULL);
    Py_RETURN_NONE;
}

static PyObject *publisher_close(PyObject *op, PyObject *unused)
{
    PublisherObject *self = (PublisherObject *)op;
    (void)unused;
    if (self->busy) {
        PyErr_Format(PyExc_RuntimeError, "Publisher('%U') is in use by another thread",
                     self->ep.name);
        return NULL;
    }
    if (self->loan != NULL) {
        hcm_state *st = self->st;
        if (st != NULL)
            PyErr_Format(st->BusyError,
                         "Publisher('%U'): a loan is active; leave its with-block first",
                         self->ep.name);
        return NULL;
    }
    hcm_publisher_close(self->pub);
    self->pub = NULL;
    Py_RETURN_NONE;
}

static PyObject *self_enter(PyObject *op, PyObject *unused)
{
    (void)unused;
    Py_INCREF(op);
    return op;
}

static PyObject *publisher_exit(PyObject *op, PyObject *args)
{
    (void)args;
    return publisher_close(op, NULL);
}

static PyObject *publisher_repr(PyObject *op)
{
    PublisherObject *self = (PublisherObject *)op;
    char t[160];
    hcm_type_format(&self->ep.c.type, t, sizeof t);
    if (self->pub == NULL)
        return PyUnicode_FromFormat("<shm_pub_sub.Publisher '%U' %s, closed>", self->ep.name, t);
    return PyUnicode_FromFormat("<shm_pub_sub.Publisher '%U' %s, buffer_num=%u, max_size=%llu>",
                                self->ep.name, t, hcm_publisher_slots(self->pub),
                                (unsigned long long)hcm_publisher_max_payload(self->pub));
}

static PyObject *publisher_get_name(PyObject *op, void *c)
{
    (void)c;
    return Py_NewRef(((PublisherObject *)op)->ep.name);
}

static PyObject *publisher_get_closed(PyObject *op, void *c)
{
    (void)c;
    return PyBool_FromLong(((PublisherObject *)op)->pub == NULL);
}

static PyObject *publisher_get_buffer_num(PyObject *op, void *c)
{
    PublisherObject *self = (PublisherObject *)op;
    (void)c;
    return PyLong_FromUnsignedLong(self->pub ? hcm_publisher_slots(self->pub) : 0);
}

static PyObject *publisher_get_max_size(PyObject *op, void *c)
{
    PublisherObject *self = (PublisherObject *)op;
    (void)c;
    return PyLong_FromUnsignedLongLong(self->pub ? hcm_publisher_max_payload(self->pub)
                                                 : self->ep.c.size);
}

static PyObject *publisher_get_type(PyObject *op, void *c)
{
    char t[160];
    (void)c;
    return PyUnicode_FromString(hcm_type_format(&((PublisherObject *)op)->ep.c.type, t, sizeof t));
}

/* ---- Loan -------------------------------------------------------------------- */

typedef struct {
    PyObject_HEAD
    PublisherObject *owner; /* strong */
    size_t len;
    int state; /* 0 new, 1 entered (C loan out), 2 done */
    void *ptr;
    PyObject *obj; /* what __enter__ returned */
} LoanObject;

static PyObject *publisher_loan(PyObject *op, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"size", NULL};
    PublisherObject *self = (PublisherObject *)op;
    hcm_state *st = self->st;
    PyObject *size_obj = Py_None;
    LoanObject *loan;
    uint64_t len;
    if (st == NULL || !PyArg_ParseTupleAndKeywords(args, kwds, "|O:loan", kwlist, &size_obj))
        return NULL;
    if (!publisher_usable(st, self))
        return NULL;
    if (self->ep.c.kind == PYK_STR || self->ep.c.kind == PYK_BYTES) {
        if (size_obj == Py_None) {
            PyErr_SetString(st->InvalidArgumentError,
                            "loan(size): a str or bytes topic needs the sample size");
            return NULL;
        }
        long long n = PyLong_AsLongLong(size_obj);
        if (n == -1 && PyErr_Occurred()) {
            wrap_builtin(st);
            return NULL;
        }
        if (n < 0 || (uint64_t)n > self->ep.c.size) {
            PyErr_Format(st->InvalidArgumentError, "loan size must be 0..%llu, got %lld",
                         (unsigned long long)self->ep.c.size, n);
            return NULL;
        }
        len = (uint64_t)n;
    } else {
        if (size_obj != Py_None) {
            PyErr_SetString(st->InvalidArgumentError,
                            "loan(): a fixed-size topic takes no size");
            return NULL;
        }
        len = self->ep.c.size;
    }
    loan = PyObject_GC_New(LoanObject, st->LoanType);
    if (loan == NULL)
        return NULL;
    Py_INCREF(self);
    loan->owner = self;
    loan->len = (size_t)len;
    loan->state = 0;
    loan->ptr = NULL;
    loan->obj = NULL;
    PyObject_GC_Track((PyObject *)loan);
    return (PyObject *)loan;
}

static void loan_finish(LoanObject *self, int commit, int *rcp)
{
    PublisherObject *p = self->owner;
    int rc = HCM_OK;
    if (self->state != 1)
        return;
    if (p->pub != NULL)
        rc = commit ? hcm_publisher_commit(p->pub, self->ptr) : hcm_publisher_discard(p->pub, self->ptr);
    self->state = 2;
    p->loan = NULL;
    if (self->obj != NULL && PyMemoryView_Check(self->obj)) {
        /* make the memoryview unusable after the block, if nobody re-exported it */
        PyObject *r = PyObject_CallMethod(self->obj, "release", NULL);
        if (r == NULL)
            PyErr_Clear();
        Py_XDECREF(r);
    }
    if (rcp)
        *rcp = rc;
}

static PyObject *loan_enter(PyObject *op, PyObject *unused)
{
    LoanObject *self = (LoanObject *)op;
    PublisherObject *p = self->owner;
    hcm_state *st = p->st;
    hcm_pin *pin = NULL;
    PyObject *buf = NULL, *obj;
    int rc;
    (void)unused;
    if (st == NULL || !publisher_usable(st, p))
        return NULL;
    if (self->state != 0) {
        PyErr_SetString(st->Error, "a loan can be entered once");
        return NULL;
    }
    if (p->loan != NULL) {
        PyErr_Format(st->BusyError, "Publisher('%U') already has an active loan", p->ep.name);
        return NULL;
    }
    p->busy = 1; /* may wait for another publisher's lock */
    Py_BEGIN_ALLOW_THREADS
    rc = hcm_publisher_loan(p->pub, self->len, &self->ptr);
    Py_END_ALLOW_THREADS
    p->busy = 0;
    if (rc != HCM_OK)
        return raise_hcm(st, rc, NULL);
    self->state = 1;
    p->loan = op;
    if (p->ep.c.kind == PYK_ARRAY) {
        obj = slot_array(st, &p->arrays, &p->ep.c, self->ptr, (Py_ssize_t)self->len, 0, pub_pin,
                         p->pub);
    } else {
        if ((rc = hcm_publisher_pin(p->pub, &pin)) != HCM_OK) {
            loan_finish(self, 0, NULL);
            return raise_hcm(st, rc, NULL);
        }
        obj = slot_object(st, &p->ep.c, self->ptr, (Py_ssize_t)self->len, 0, pin, &buf);
        if (obj != NULL)
            Py_DECREF(buf); /* obj holds it */
    }
    if (obj == NULL) {
        loan_finish(self, 0, NULL);
        return NULL;
    }
    self->obj = obj;
    return Py_NewRef(obj);
}

static PyObject *loan_exit(PyObject *op, PyObject *args)
{
    LoanObject *self = (LoanObject *)op;
    hcm_state *st = self->owner->st;
    PyObject *exc_type = PyTuple_GET_SIZE(args) > 0 ? PyTuple_GET_ITEM(args, 0) : Py_None;
    int rc = HCM_OK;
    if (st == NULL)
        return NULL;
    loan_finish(self, exc_type == Py_None, &rc);
    if (rc != HCM_OK)
        return raise_hcm(st, rc, NULL);
    Py_RETURN_FALSE;
}

static PyObject *loan_discard(PyObject *op, PyObject *unused)
{
    (void)unused;
    loan_finish((LoanObject *)op, 0, NULL);
    Py_RETURN_NONE;
}

static void loan_dealloc(PyObject *op)
{
    LoanObject *self = (LoanObject *)op;
    PyTypeObject *tp = Py_TYPE(op);
    PyObject_GC_UnTrack(op);
    loan_finish(self, 0, NULL); /* never entered-and-left: publish nothing */
    Py_CLEAR(self->obj);
    Py_CLEAR(self->owner);
    PyObject_GC_Del(op);
    Py_DECREF(tp);
}

static int loan_traverse(PyObject *op, visitproc visit, void *arg)
{
    LoanObject *self = (LoanObject *)op;
    Py_VISIT(Py_TYPE(op));
    Py_VISIT(self->owner);
    Py_VISIT(self->obj);
    return 0;
}

static int loan_clear(PyObject *op)
{
    LoanObject *self = (LoanObject *)op;
    loan_finish(self, 0, NULL);
    Py_CLEAR(self->obj);
    Py_CLEAR(self->owner);
    return 0;
}

static PyMethodDef loan_methods[] = {
    {"__enter__", loan_enter, METH_NOARGS,
     "Lends the next slot: returns a writable NumPy array (array topics) or memoryview."},
    {"__exit__", loan_exit, METH_VARARGS,
     "Publishes the slot, or discards it if the block raised."},
    {"discard", loan_discard, METH_NOARGS, "Gives the slot back without publishing."},
    {NULL, NULL, 0, NULL},
};

static PyType_Slot loan_slots[] = {
    {Py_tp_dealloc, loan_dealloc},
    {Py_tp_traverse, loan_traverse},
    {Py_tp_clear, loan_clear},
    {Py_tp_methods, loan_methods},
    {Py_tp_doc, "A slot lent by Publisher.loan(): fill it inside a with-block; leaving the "
                "block publishes it (zero copy). Do not use the buffer after the block."},
    {0, NULL},
};

static PyType_Spec loan_spec = {
    "shm_pub_sub.Loan", sizeof(LoanObject), 0, Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    loan_slots,
};

/* ---- Subscriber -------------------------------------------------------------- */

typedef struct {
    PyObject_HEAD
    hcm_state *st;
    endpoint ep;
    hcm_subscriber *sub;
    int64_t expiry_ns;
    int busy;           /* a blocking call released the GIL */
    PyObject *view;     /* the active View, borrowed */
    slot_cache arrays;  /* read-only arrays over slots, for views */
    PyObject *spare;    /* an array to read into next time */
    char *scratch;      /* str/bytes reads */
    size_t scratch_cap;
} SubscriberObject;

static int subscriber_usable(hcm_state *st, SubscriberObject *self)
{
    if (self->sub == NULL || self->ep.default_value == NULL) { /* closed, or cleared by the GC */
        PyErr_Format(st->Error, "Subscriber('%U') is closed", self->ep.name);
        return 0;
    }
    if (self->busy) {
        PyErr_Format(PyExc_RuntimeError,
                     "Subscriber('%U') is in use by a blocking call in another thread",
                     self->ep.name);
        return 0;
    }
    if (self->view != NULL) {
        PyErr_Format(st->BusyError, "Subscriber('%U'): a view is open; leave its with-block first",
                     self->ep.name);
        return 0;
    }
    return 1;
}

static PyObject *subscriber_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"name", "default_value", "expiry", "max_size", "domain",
                             "type_name", "spin", NULL};
    PyObject *name, *def, *expiry = NULL, *max_size = NULL, *domain = Py_None, *spin = Py_None;
    const char *type_name = NULL;
    hcm_state *st = state_of_type(type);
    SubscriberObject *self;
    hcm_subscriber_attr attr;
    int rc;

    if (st == NULL)
        return NULL;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "UO|$OOOzO:Subscriber", kwlist, &name, &def,
                                     &expiry, &max_size, &domain, &type_name, &spin))
        {
        wrap_builtin(st);
        return NULL;
    }
    self = (SubscriberObject *)type->tp_alloc(type, 0);
    if (self == NULL)
        return NULL;
    self->st = st;
    const char *cname, *cdomain;
    if (endpoint_init(st, &self->ep, name, def, domain, max_size, type_name, &cname, &cdomain) <
        0)
        goto fail;
    hcm_subscriber_attr_init(&attr);
    attr.type = self->ep.c.type;
    if (expiry != NULL) {
        int64_t ns;
        if (expiry == Py_None) {
            ns = 0;
        } else if (seconds_ns(st, expiry, 0, &ns) < 0) {
            goto fail;
        }
        attr.expiry_ns = ns;
    }
    self->expiry_ns = attr.expiry_ns;
    if (spin != Py_None) {
        int64_t ns;
        if (seconds_ns(st, spin, 1, &ns) < 0) /* negative: poll until the timeout */
            goto fail;
        attr.spin_ns = ns;
    }
    attr.domain = cdomain;
    Py_BEGIN_ALLOW_THREADS
    rc = hcm_subscriber_open(&self->sub, cname, &attr);
    Py_END_ALLOW_THREADS
    if (rc != HCM_OK) {
        raise_hcm(st, rc, NULL);
        goto fail;
    }
    return (PyObject *)self;
fail:
    wrap_builtin(st);
    Py_DECREF(self);
    return NULL;
}

static void subscriber_dealloc(PyObject *op)
{
    SubscriberObject *self = (SubscriberObject *)op;
    PyTypeObject *tp = Py_TYPE(op);
    PyObject_GC_UnTrack(op);
    slot_cache_clear(&self->arrays);
    hcm_subscriber_close(self->sub);
    self->sub = NULL;
    endpoint_clear(&self->ep, 1);
    Py_CLEAR(self->spare);
    PyMem_Free(self->scratch);
    tp->tp_free(op);
    Py_DECREF(tp);
}

static int subscriber_traverse(PyObject *op, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(op));
    Py_VISIT(((SubscriberObject *)op)->spare);
    return endpoint_traverse(&((SubscriberObject *)op)->ep, visit, arg);
}

static int subscriber_clear(PyObject *op)
{
    Py_CLEAR(((SubscriberObject *)op)->spare);
    slot_cache_clear(&((SubscriberObject *)op)->arrays);
    endpoint_clear(&((SubscriberObject *)op)->ep, 0);
    return 0;
}

enum { READ_LATEST, READ_TAKE };

/* Reads one sample. Returns the value (new reference) with *rcp = HCM_OK or
 * HCM_ESTALE; NULL with *rcp = HCM_EAGAIN (nothing, no exception set); NULL
 * with an exception for errors. */
static PyObject *read_value(hcm_state *st, SubscriberObject *self, int mode, hcm_sample_info *info,
                            int *rcp)
{
    const codec *c = &self->ep.c;
    int rc;
#define READ(buf, cap)                                                                    \
    (mode == READ_LATEST ? hcm_subscriber_latest(self->sub, (buf), (cap), info)           \
                         : hcm_subscriber_take(self->sub, (buf), (cap), info))
    *rcp = HCM_EAGAIN;
    switch (c->kind) {
    case PYK_BOOL:
    case PYK_INT:
    case PYK_FLOAT: {
        uint64_t tmp = 0;
        rc = READ(&tmp, (size_t)c->size);
        *rcp = rc;
        if (rc == HCM_OK || rc == HCM_ESTALE)
            return decode_bytes(st, c, &tmp, info->len);
        break;
    }
    case PYK_STR:
    case PYK_BYTES: {
        for (int round = 0; round < 2; round++) {
            if (self->scratch == NULL) {
                uint64_t cap = hcm_subscriber_max_payload(self->sub);
                if (cap == 0)
                    cap = c->size;
                self->scratch = PyMem_Malloc((size_t)cap ? (size_t)cap : 1);
                if (self->scratch == NULL) {
                    PyErr_NoMemory();
                    *rcp = HCM_ENOMEM;
                    return NULL;
                }
                self->scratch_cap = (size_t)cap;
            }
            rc = READ(self->scratch, self->scratch_cap);
            if (rc == HCM_EMSGSIZE && round == 0 && info->len > self->scratch_cap) {
                /* the topic was re-created with a larger max payload */
                PyMem_Free(self->scratch);
                self->scratch = NULL;
                continue;
            }
            break;
        }
        *rcp = rc;
        if (rc == HCM_OK || rc == HCM_ESTALE)
            return decode_bytes(st, c, self->scratch, info->len);
        break;
    }
    default: { /* PYK_ARRAY: read straight into a fresh array */
        PyObject *arr = self->spare;
        Py_buffer view;
        self->spare = NULL;
        if (arr == NULL && (arr = new_array(st, c)) == NULL) {
            *rcp = HCM_ENOMEM;
            return NULL;
        }
        if (PyObject_GetBuffer(arr, &view, PyBUF_WRITABLE | PyBUF_C_CONTIGUOUS) < 0) {
            Py_DECREF(arr);
            *rcp = HCM_ENOMEM;
            return NULL;
        }
        if (view.len > (1 << 16)) {
            self->busy = 1; /* a large copy: let other threads run meanwhile */
            Py_BEGIN_ALLOW_THREADS
            rc = READ(view.buf, (size_t)view.len);
            Py_END_ALLOW_THREADS
            self->busy = 0;
        } else {
            rc = READ(view.buf, (size_t)view.len);
        }
        PyBuffer_Release(&view);
        *rcp = rc;
        if ((rc == HCM_OK || rc == HCM_ESTALE) && info->len != c->size) {
            Py_DECREF(arr);
            PyErr_Format(st->CorruptSegmentError, "sample of %llu bytes; the array has %llu",
                         (unsigned long long)info->len, (unsigned long long)c->size);
            *rcp = HCM_ECORRUPT;
            return NULL;
        }
        if (rc == HCM_OK || rc == HCM_ESTALE) {
            if (c->scalar_out) {
                PyObject *empty = PyTuple_New(0);
                PyObject *v = empty ? PyObject_GetItem(arr, empty) : NULL;
                Py_XDECREF(empty);
                Py_DECREF(arr);
                return v;
            }
            return arr;
        }
        self->spare = arr; /* nothing read: keep it for the next call */
    }
    }
#undef READ
    if (*rcp != HCM_EAGAIN) {
        raise_hcm(st, *rcp, NULL);
        return NULL;
    }
    return NULL;
}

static PyObject *subscriber_subscribe(PyObject *op, PyObject *unused)
{
    SubscriberObject *self = (SubscriberObject *)op;
    hcm_state *st = self->st;
    hcm_sample_info info;
    PyObject *v, *ok;
    int rc;
    (void)unused;
    if (st == NULL || !subscriber_usable(st, self))
        return NULL;
    v = read_value(st, self, READ_LATEST, &info, &rc);
    if (v == NULL) {
        if (PyErr_Occurred())
            return NULL;
        return PyTuple_Pack(2, self->ep.default_value, Py_False); /* nothing published yet */
    }
    ok = rc == HCM_OK ? Py_True : Py_False;
    PyObject *t = PyTuple_Pack(2, v, ok);
    Py_DECREF(v);
    return t;
}

static PyObject *subscriber_latest(PyObject *op, PyObject *unused)
{
    SubscriberObject *self = (SubscriberObject *)op;
    hcm_state *st = self->st;
    hcm_sample_info info;
    PyObject *v;
    int rc;
    (void)unused;
    if (st == NULL || !subscriber_usable(st, self))
        return NULL;
    v = read_value(st, self, READ_LATEST, &info, &rc);
    if (v == NULL && !PyErr_Occurred())
        Py_RETURN_NONE;
    return v;
}

/* Waits with the GIL released, in slices of at most 50 ms so that signals
 * (Ctrl-C) are handled within 100 ms. Returns HCM_OK, HCM_ETIMEDOUT, or -1
 * with an exception set. */
#define WAIT_SLICE_NS 50000000ll

static int wait_released(hcm_state *st, SubscriberObject *self, int64_t deadline)
{
    for (;;) {
        int64_t slice = WAIT_SLICE_NS;
        int rc;
        if (deadline >= 0) {
            int64_t left = deadline - now_ns();
            if (left <= 0)
                return HCM_ETIMEDOUT;
            if (left < slice)
                slice = left;
        }
        self->busy = 1;
        Py_BEGIN_ALLOW_THREADS
        rc = hcm_subscriber_wait(self->sub, slice);
        Py_END_ALLOW_THREADS
        self->busy = 0;
        if (rc == HCM_OK)
            return HCM_OK;
        if (rc != HCM_ETIMEDOUT && rc != HCM_EINTR) {
            raise_hcm(st, rc, NULL);
            return -1;
        }
        if (PyErr_CheckSignals() < 0)
            return -1;
    }
}

static PyObject *subscriber_receive(PyObject *op, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"timeout", NULL};
    SubscriberObject *self = (SubscriberObject *)op;
    hcm_state *st = self->st;
    PyObject *timeout = Py_None;
    hcm_sample_info info;
    int64_t tns, deadline;
    if (st == NULL || !PyArg_ParseTupleAndKeywords(args, kwds, "|O:receive", kwlist, &timeout))
        return NULL;
    if (!subscriber_usable(st, self) || timeout_ns(st, timeout, &tns) < 0)
        return NULL;
    deadline = tns < 0 ? -1 : now_ns() + tns;
    for (;;) {
        int rc;
        PyObject *v = read_value(st, self, READ_TAKE, &info, &rc);
        if (v != NULL || PyErr_Occurred())
            return v;
        rc = wait_released(st, self, deadline);
        if (rc < 0)
            return NULL;
        if (rc == HCM_ETIMEDOUT) {
            PyErr_Format(st->WaitTimeoutError, "no sample on topic '%U' within %R s", self->ep.name,
                         timeout);
            return NULL;
        }
    }
}

static PyObject *subscriber_wait(PyObject *op, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"timeout", NULL};
    SubscriberObject *self = (SubscriberObject *)op;
    hcm_state *st = self->st;
    PyObject *timeout = Py_None;
    int64_t tns;
    int rc;
    if (st == NULL || !PyArg_ParseTupleAndKeywords(args, kwds, "|O:wait", kwlist, &timeout))
        return NULL;
    if (!subscriber_usable(st, self) || timeout_ns(st, timeout, &tns) < 0)
        return NULL;
    rc = hcm_subscriber_wait(self->sub, 0);
    if (rc == HCM_OK)
        Py_RETURN_TRUE;
    if (rc != HCM_ETIMEDOUT && rc != HCM_EINTR)
        return raise_hcm(st, rc, NULL);
    if (tns == 0)
        Py_RETURN_FALSE;
    rc = wait_released(st, self, tns < 0 ? -1 : now_ns() + tns);
    if (rc < 0)
        return NULL;
    return PyBool_FromLong(rc == HCM_OK);
}

static PyObject *subscriber_close(PyObject *op, PyObject *unused)
{
    SubscriberObject *self = (SubscriberObject *)op;
    (void)unused;
    if (self->busy) {
        PyErr_Format(PyExc_RuntimeError,
                     "Subscriber('%U') is in use by a blocking call in another thread", self->ep.name);
        return NULL;
    }
    if (self->view != NULL) {
        hcm_state *st = self->st;
        if (st != NULL)
            PyErr_Format(st->BusyError,
                         "Subscriber('%U'): a view is open; leave its with-block first",
                         self->ep.name);
        return NULL;
    }
    hcm_subscriber_close(self->sub); /* pinned views keep their mapping */
    self->sub = NULL;
    Py_RETURN_NONE;
}

static PyObject *subscriber_exit(PyObject *op, PyObject *args)
{
    (void)args;
    return subscriber_close(op, NULL);
}

static PyObject *subscriber_repr(PyObject *op)
{
    SubscriberObject *self = (SubscriberObject *)op;
    char t[160];
    hcm_type_format(&self->ep.c.type, t, sizeof t);
    if (self->sub == NULL)
        return PyUnicode_FromFormat("<shm_pub_sub.Subscriber '%U' %s, closed>", self->ep.name, t);
    return PyUnicode_FromFormat("<shm_pub_sub.Subscriber '%U' %s, expiry=%lld ms, lost=%llu>",
                                self->ep.name, t, (long long)(self->expiry_ns / 1000000),
                                (unsigned long long)hcm_subscriber_lost(self->sub));
}

static PyObject *subscriber_get_lost(PyObject *op, void *c)
{
    SubscriberObject *self = (SubscriberObject *)op;
    (void)c;
    return PyLong_FromUnsignedLongLong(self->sub ? hcm_subscriber_lost(self->sub) : 0);
}

static PyObject *subscriber_get_name(PyObject *op, void *c)
{
    (void)c;
    return Py_NewRef(((SubscriberObject *)op)->ep.name);
}

static PyObject *subscriber_get_closed(PyObject *op, void *c)
{
    (void)c;
    return PyBool_FromLong(((SubscriberObject *)op)->sub == NULL);
}

static PyObject *subscriber_get_expiry(PyObject *op, void *c)
{
    (void)c;
    return PyFloat_FromDouble((double)((SubscriberObject *)op)->expiry_ns / 1e9);
}

static PyObject *subscriber_get_type(PyObject *op, void *c)
{
    char t[160];
    (void)c;
    return PyUnicode_FromString(hcm_type_format(&((SubscriberObject *)op)->ep.c.type, t, sizeof t));
}

/* ---- View -------------------------------------------------------------------- */

typedef struct {
    PyObject_HEAD
    SubscriberObject *owner; /* strong */
    PyObject *timeout;
    int state; /* 0 new, 1 open, 2 released */
    PyObject *data;
    hcm_sample_info info;
} ViewObject;

static PyObject *subscriber_view(PyObject *op, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"timeout", NULL};
    SubscriberObject *self = (SubscriberObject *)op;
    hcm_state *st = self->st;
    PyObject *timeout = Py_None;
    int64_t tns;
    ViewObject *v;
    if (st == NULL || !PyArg_ParseTupleAndKeywords(args, kwds, "|O:view", kwlist, &timeout))
        return NULL;
    if (!subscriber_usable(st, self) || timeout_ns(st, timeout, &tns) < 0)
        return NULL;
    v = PyObject_GC_New(ViewObject, st->ViewType);
    if (v == NULL)
        return NULL;
    Py_INCREF(self);
    v->owner = self;
    Py_INCREF(timeout);
    v->timeout = timeout;
    v->state = 0;
    v->data = NULL;
    memset(&v->info, 0, sizeof v->info);
    PyObject_GC_Track((PyObject *)v);
    return (PyObject *)v;
}

static PyObject *view_enter(PyObject *op, PyObject *unused)
{
    ViewObject *self = (ViewObject *)op;
    SubscriberObject *s = self->owner;
    hcm_state *st = s->st;
    int64_t tns, deadline;
    const void *ptr = NULL;
    hcm_pin *pin = NULL;
    PyObject *buf = NULL;
    int rc;
    (void)unused;
    if (st == NULL || !subscriber_usable(st, s) || timeout_ns(st, self->timeout, &tns) < 0)
        return NULL;
    if (self->state != 0) {
        PyErr_SetString(st->Error, "a view can be entered once");
        return NULL;
    }
    deadline = tns < 0 ? -1 : now_ns() + tns;
    for (;;) {
        rc = hcm_subscriber_view(s->sub, &ptr, &self->info);
        if (rc == HCM_OK)
            break;
        if (rc != HCM_EAGAIN)
            return raise_hcm(st, rc, NULL);
        rc = wait_released(st, s, deadline);
        if (rc < 0)
            return NULL;
        if (rc == HCM_ETIMEDOUT) {
            PyErr_Format(st->WaitTimeoutError, "no sample on topic '%U' within %R s", s->ep.name,
                         self->timeout);
            return NULL;
        }
    }
    if (s->ep.c.kind == PYK_ARRAY && self->info.len != s->ep.c.size) {
        hcm_subscriber_release(s->sub);
        PyErr_Format(st->CorruptSegmentError, "sample of %llu bytes; the array has %llu",
                     (unsigned long long)self->info.len, (unsigned long long)s->ep.c.size);
        return NULL;
    }
    if (s->ep.c.kind == PYK_ARRAY) {
        self->data = slot_array(st, &s->arrays, &s->ep.c, (void *)ptr, (Py_ssize_t)self->info.len,
                                1, sub_pin, s->sub);
    } else {
        if ((rc = hcm_subscriber_pin(s->sub, &pin)) != HCM_OK) {
            hcm_subscriber_release(s->sub);
            return raise_hcm(st, rc, NULL);
        }
        self->data =
            slot_object(st, &s->ep.c, (void *)ptr, (Py_ssize_t)self->info.len, 1, pin, &buf);
        if (self->data != NULL)
            Py_DECREF(buf);
    }
    if (self->data == NULL) {
        hcm_subscriber_release(s->sub);
        return NULL;
    }
    self->state = 1;
    s->view = op;
    return Py_NewRef(op);
}

/* Ends the view: 1 if what was read through it was intact, 0 if a publisher
 * overwrote it meanwhile. */
static int view_finish(ViewObject *self)
{
    SubscriberObject *s = self->owner;
    int rc;
    if (self->state != 1)
        return 1;
    self->state = 2;
    s->view = NULL;
    if (s->sub == NULL)
        return 0;
    rc = hcm_subscriber_release(s->sub);
    return rc == HCM_OK;
}

static PyObject *view_exit(PyObject *op, PyObject *args)
{
    ViewObject *self = (ViewObject *)op;
    hcm_state *st = self->owner->st;
    PyObject *exc_type = PyTuple_GET_SIZE(args) > 0 ? PyTuple_GET_ITEM(args, 0) : Py_None;
    if (st == NULL)
        return NULL;
    int intact = view_finish(self);
    if (!intact && exc_type == Py_None) {
        PyErr_Format(st->OverrunError,
                     "topic '%U': sample %llu was overwritten while it was viewed; discard what "
                     "was computed from it",
                     self->owner->ep.name, (unsigned long long)self->info.seq);
        return NULL;
    }
    Py_RETURN_FALSE;
}

static PyObject *view_intact(PyObject *op, PyObject *unused)
{
    ViewObject *self = (ViewObject *)op;
    SubscriberObject *s = self->owner;
    (void)unused;
    if (self->state != 1 || s->sub == NULL)
        Py_RETURN_FALSE;
    return PyBool_FromLong(hcm_subscriber_check(s->sub) == HCM_OK);
}

static PyObject *view_get_data(PyObject *op, void *c)
{
    ViewObject *self = (ViewObject *)op;
    (void)c;
    if (self->data == NULL)
        Py_RETURN_NONE;
    return Py_NewRef(self->data);
}

static PyObject *view_get_seq(PyObject *op, void *c)
{
    (void)c;
    return PyLong_FromUnsignedLongLong(((ViewObject *)op)->info.seq);
}

static PyObject *view_get_lost(PyObject *op, void *c)
{
    (void)c;
    return PyLong_FromUnsignedLongLong(((ViewObject *)op)->info.lost);
}

static PyObject *view_get_timestamp(PyObject *op, void *c)
{
    (void)c;
    return PyFloat_FromDouble((double)((ViewObject *)op)->info.timestamp_ns / 1e9);
}

static void view_dealloc(PyObject *op)
{
    ViewObject *self = (ViewObject *)op;
    PyTypeObject *tp = Py_TYPE(op);
    PyObject_GC_UnTrack(op);
    if (self->owner != NULL)
        view_finish(self);
    Py_CLEAR(self->data);
    Py_CLEAR(self->timeout);
    Py_CLEAR(self->owner);
    PyObject_GC_Del(op);
    Py_DECREF(tp);
}

static int view_traverse(PyObject *op, visitproc visit, void *arg)
{
    ViewObject *self = (ViewObject *)op;
    Py_VISIT(Py_TYPE(op));
    Py_VISIT(self->owner);
    Py_VISIT(self->data);
    return 0;
}

static int view_clear(PyObject *op)
{
    ViewObject *self = (ViewObject *)op;
    if (self->owner != NULL)
        view_finish(self);
    Py_CLEAR(self->data);
    Py_CLEAR(self->owner);
    return 0;
}

static PyMethodDef view_methods[] = {
    {"__enter__", view_enter, METH_NOARGS,
     "Waits for the next sample (in publish order) and maps it: returns the View, whose "
     ".data is a read-only NumPy array (array topics) or memoryview over the slot."},
    {"__exit__", view_exit, METH_VARARGS,
     "Ends the view; raises OverrunError if a publisher overwrote the sample meanwhile."},
    {"intact", view_intact, METH_NOARGS,
     "True if no publisher has overwritten the sample so far (the view stays open)."},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef view_getset[] = {
    {"data", view_get_data, NULL, "The sample, in place (read-only).", NULL},
    {"seq", view_get_seq, NULL, "Sequence number of the sample.", NULL},
    {"lost", view_get_lost, NULL, "Samples lost just before this one.", NULL},
    {"timestamp", view_get_timestamp, NULL, "Publish time, CLOCK_MONOTONIC seconds.", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyType_Slot view_slots[] = {
    {Py_tp_dealloc, view_dealloc},
    {Py_tp_traverse, view_traverse},
    {Py_tp_clear, view_clear},
    {Py_tp_methods, view_methods},
    {Py_tp_getset, view_getset},
    {Py_tp_doc, "Zero-copy read of the next sample: `with sub.view() as v: use(v.data)`. "
                "Leaving the block checks that no publisher overwrote the sample meanwhile "
                "(OverrunError otherwise). Use .data only inside the block."},
    {0, NULL},
};

static PyType_Spec view_spec = {
    "shm_pub_sub.View", sizeof(ViewObject), 0, Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    view_slots,
};

/* ---- services: ServiceServer, ServiceClient ----------------------------------- */

/* A value for a request or response payload read into `buf`. */
static PyObject *decode_any(hcm_state *st, const codec *c, const void *buf, uint64_t len)
{
    if (c->kind != PYK_ARRAY)
        return decode_bytes(st, c, buf, len);
    if (len != c->size) {
        PyErr_Format(st->CorruptSegmentError, "payload of %llu bytes; the array has %llu",
                     (unsigned long long)len, (unsigned long long)c->size);
        return NULL;
    }
    PyObject *arr = new_array(st, c);
    Py_buffer view;
    if (arr == NULL)
        return NULL;
    if (PyObject_GetBuffer(arr, &view, PyBUF_WRITABLE | PyBUF_C_CONTIGUOUS) < 0) {
        Py_DECREF(arr);
        return NULL;
    }
    memcpy(view.buf, buf, (size_t)len);
    PyBuffer_Release(&view);
    if (c->scalar_out) {
        PyObject *empty = PyTuple_New(0);
        PyObject *v = empty ? PyObject_GetItem(arr, empty) : NULL;
        Py_XDECREF(empty);
        Py_DECREF(arr);
        return v;
    }
    return arr;
}

typedef struct {
    PyObject_HEAD
    hcm_state *st;
    endpoint req;          /* name, request default, domain, request codec */
    codec resp;            /* response codec */
    PyObject *resp_default;
    PyObject *callback;    /* or None */
    PyObject *thread;      /* threading.Thread serving the callback, or NULL */
    hcm_server *srv;
    int stopping;          /* the serving thread must exit */
    int in_take;           /* threads blocked in take with the GIL released */
    unsigned char *scratch;
    size_t scratch_cap;
    uint64_t errors;       /* callbacks that raised */
} ServerObject;

static int server_usable(hcm_state *st, ServerObject *self)
{
    if (self->srv == NULL || self->req.default_value == NULL) {
        PyErr_Format(st->Error, "ServiceServer('%U') is closed", self->req.name);
        return 0;
    }
    return 1;
}

/* Starts threading.Thread(target=target, args=args, name=name, daemon=True)
 * (args and name may be NULL). A new reference to the started thread, or
 * NULL with an exception set. */
static PyObject *start_daemon_thread(PyObject *target, PyObject *args, PyObject *name)
{
    PyObject *threading = PyImport_ImportModule("threading");
    PyObject *cls = threading ? PyObject_GetAttrString(threading, "Thread") : NULL;
    Py_XDECREF(threading);
    if (cls == NULL)
        return NULL;
    PyObject *kw = PyDict_New(), *t = NULL;
    if (kw != NULL && PyDict_SetItemString(kw, "target", target) == 0 &&
        PyDict_SetItemString(kw, "daemon", Py_True) == 0 &&
        (args == NULL || PyDict_SetItemString(kw, "args", args) == 0) &&
        (name == NULL || PyDict_SetItemString(kw, "name", name) == 0)) {
        PyObject *empty = PyTuple_New(0);
        t = empty ? PyObject_Call(cls, empty, kw) : NULL;
        Py_XDECREF(empty);
    }
    Py_XDECREF(kw);
    Py_DECREF(cls);
    if (t == NULL)
        return NULL;
    PyObject *r = PyObject_CallMethod(t, "start", NULL);
    if (r == NULL) {
        Py_DECREF(t);
        return NULL;
    }
    Py_DECREF(r);
    return t;
}

static PyObject *server_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"name", "callback", "request_default", "response_default",
                             "queue_size", "max_request_size", "max_response_size", "mode",
                             "domain", "request_type_name", "response_type_name", "thread",
                             NULL};
    PyObject *name, *callback, *req_def, *resp_def, *max_req = NULL, *max_resp = NULL;
    PyObject *domain = Py_None;
    const char *req_tn = NULL, *resp_tn = NULL;
    int queue_size = HCM_DEFAULT_QUEUE, mode = 0600, thread = 1;
    hcm_state *st = state_of_type(type);
    ServerObject *self;
    hcm_server_attr attr;
    int rc;

    if (st == NULL)
        return NULL;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "UOOO|$iOOiOzzp:ServiceServer", kwlist, &name,
                                     &callback, &req_def, &resp_def, &queue_size, &max_req,
                                     &max_resp, &mode, &domain, &req_tn, &resp_tn, &thread)) {
        wrap_builtin(st);
        return NULL;
    }
    if (callback != Py_None && !PyCallable_Check(callback)) {
        PyErr_SetString(st->TypeMismatchError, "callback must be callable or None");
        return NULL;
    }
    if (queue_size < 1 || queue_size > HCM_MAX_QUEUE) {
        PyErr_Format(st->InvalidArgumentError, "queue_size must be 1..%d, got %d", HCM_MAX_QUEUE,
                     queue_size);
        return NULL;
    }
    self = (ServerObject *)type->tp_alloc(type, 0);
    if (self == NULL)
        return NULL;
    self->st = st;
    const char *cname, *cdomain;
    if (endpoint_init(st, &self->req, name, req_def, domain, max_req, req_tn, &cname, &cdomain) < 0 ||
        codec_init(st, &self->resp, resp_def, max_resp, resp_tn) < 0)
        goto fail;
    Py_INCREF(resp_def);
    self->resp_default = resp_def;
    Py_INCREF(callback);
    self->callback = callback;
    hcm_server_attr_init(&attr);
    attr.request_type = self->req.c.type;
    attr.response_type = self->resp.type;
    attr.request_max = self->req.c.size;
    attr.response_max = self->resp.size;
    attr.queue_size = (uint32_t)queue_size;
    attr.mode = (uint32_t)mode;
    attr.domain = cdomain;
    Py_BEGIN_ALLOW_THREADS
    rc = hcm_server_open(&self->srv, cname, &attr);
    Py_END_ALLOW_THREADS
    if (rc != HCM_OK) {
        raise_hcm(st, rc, NULL);
        goto fail;
    }
    self->scratch_cap = (size_t)self->req.c.size;
    self->scratch = PyMem_Malloc(self->scratch_cap ? self->scratch_cap : 1);
    if (self->scratch == NULL) {
        PyErr_NoMemory();
        goto fail;
    }
    if (callback != Py_None && thread) {
        /* The callback runs on a Python thread of its own, which waits in
         * take() with the GIL released. */
        PyObject *target = PyObject_GetAttrString((PyObject *)self, "serve_forever");
        PyObject *tname = target ? PyUnicode_FromFormat("hcm-service-%U", name) : NULL;
        PyObject *t = tname ? start_daemon_thread(target, NULL, tname) : NULL;
        Py_XDECREF(target);
        Py_XDECREF(tname);
        if (t == NULL)
            goto fail;
        self->thread = t;
    }
    return (PyObject *)self;
fail:
    wrap_builtin(st);
    Py_DECREF(self);
    return NULL;
}

/* Waits for a request with the GIL released, in slices (signals, close).
 * HCM_OK with *callp and *lenp set, HCM_ETIMEDOUT, or -1 with an exception. */
static int server_take_released(ServerObject *self, int64_t deadline, hcm_call *callp, size_t *lenp)
{
    for (;;) {
        int64_t slice = WAIT_SLICE_NS;
        int rc;
        if (self->stopping || self->srv == NULL) {
            PyErr_Format(self->st->Error, "ServiceServer('%U') is closed", self->req.name);
            return -1;
        }
        if (deadline >= 0) {
            int64_t left = deadline - now_ns();
            if (left <= 0)
                return HCM_ETIMEDOUT;
            if (left < slice)
                slice = left;
        }
        hcm_server *srv = self->srv;
        self->in_take++;
        Py_BEGIN_ALLOW_THREADS
        rc = hcm_server_take(srv, self->scratch, self->scratch_cap, lenp, callp, slice);
        Py_END_ALLOW_THREADS
        self->in_take--;
        if (rc == HCM_OK)
            return HCM_OK;
        if (rc != HCM_ETIMEDOUT && rc != HCM_EINTR) {
            raise_hcm(self->st, rc, NULL);
            return -1;
        }
        if (PyErr_CheckSignals() < 0)
            return -1;
    }
}

static PyObject *call_tuple(hcm_call call)
{
    return Py_BuildValue("(IK)", call.slot, (unsigned long long)call.id);
}

static int parse_call(hcm_state *st, PyObject *obj, hcm_call *call)
{
    unsigned int slot;
    unsigned long long id;
    if (!PyTuple_Check(obj) || !PyArg_ParseTuple(obj, "IK", &slot, &id)) {
        PyErr_Clear();
        PyErr_SetString(st->TypeMismatchError, "call must be the (slot, id) tuple take() returned");
        return -1;
    }
    call->slot = slot;
    call->id = id;
    return 0;
}

static PyObject *server_reply_value(ServerObject *self, hcm_call call, PyObject *value)
{
    enc e;
    int rc;
    if (encode(self->st, &self->resp, self->req.name, value, &e) < 0) {
        wrap_builtin(self->st);
        return NULL;
    }
    rc = hcm_server_reply(self->srv, call, e.ptr, e.len);
    enc_release(&e);
    if (rc != HCM_OK)
        return raise_hcm(self->st, rc, NULL);
    Py_RETURN_NONE;
}

static PyObject *server_take(PyObject *op, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"timeout", NULL};
    ServerObject *self = (ServerObject *)op;
    hcm_state *st = self->st;
    PyObject *timeout = Py_None, *req, *res;
    hcm_call call;
    size_t len;
    int64_t tns;
    int rc;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "|O:take", kwlist, &timeout) ||
        !server_usable(st, self) || timeout_ns(st, timeout, &tns) < 0)
        return NULL;
    rc = server_take_released(self, tns < 0 ? -1 : now_ns() + tns, &call, &len);
    if (rc < 0)
        return NULL;
    if (rc == HCM_ETIMEDOUT) {
        PyErr_Format(st->WaitTimeoutError, "no request on service '%U' within %R s",
                     self->req.name, timeout);
        return NULL;
    }
    req = decode_any(st, &self->req.c, self->scratch, len);
    if (req == NULL) { /* undecodable request: fail the call, raise here */
        hcm_server_fail(self->srv, call, "the server could not decode the request");
        return NULL;
    }
    res = Py_BuildValue("(NN)", req, call_tuple(call));
    return res;
}

static PyObject *server_reply(PyObject *op, PyObject *args)
{
    ServerObject *self = (ServerObject *)op;
    PyObject *call_obj, *value;
    hcm_call call;
    if (!PyArg_ParseTuple(args, "OO:reply", &call_obj, &value) ||
        !server_usable(self->st, self) || parse_call(self->st, call_obj, &call) < 0)
        return NULL;
    return server_reply_value(self, call, value);
}

static PyObject *server_fail(PyObject *op, PyObject *args)
{
    ServerObject *self = (ServerObject *)op;
    PyObject *call_obj;
    const char *msg;
    hcm_call call;
    int rc;
    if (!PyArg_ParseTuple(args, "Os:fail", &call_obj, &msg) || !server_usable(self->st, self) ||
        parse_call(self->st, call_obj, &call) < 0)
        return NULL;
    rc = hcm_server_fail(self->srv, call, msg);
    if (rc != HCM_OK)
        return raise_hcm(self->st, rc, NULL);
    Py_RETURN_NONE;
}

/* Fails `call` with the current exception, "Type: message", and clears it. */
static void fail_with_exception(ServerObject *self, hcm_call call)
{
    PyObject *type, *value, *tb;
    char msg[HCM_SERVICE_ERROR_MAX];
    PyErr_Fetch(&type, &value, &tb);
    PyErr_NormalizeException(&type, &value, &tb);
    PyObject *s = value ? PyObject_Str(value) : NULL;
    const char *text = s ? PyUnicode_AsUTF8(s) : NULL;
    snprintf(msg, sizeof msg, "%s: %s", type ? ((PyTypeObject *)type)->tp_name : "error",
             text ? text : "");
    PyErr_Clear();
    Py_XDECREF(s);
    Py_XDECREF(type);
    Py_XDECREF(value);
    Py_XDECREF(tb);
    self->errors++;
    hcm_server_fail(self->srv, call, msg);
}

static PyObject *server_serve_forever(PyObject *op, PyObject *unused)
{
    ServerObject *self = (ServerObject *)op;
    (void)unused;
    if (self->callback == NULL || self->callback == Py_None) {
        PyErr_SetString(self->st->Error, "serve_forever() needs a callback");
        return NULL;
    }
    Py_INCREF(op); /* we use self without the GIL between calls */
    while (!self->stopping && self->srv != NULL) {
        hcm_call call;
        size_t len;
        int rc = server_take_released(self, now_ns() + 100000000ll, &call, &len);
        if (rc < 0) {
            if (self->stopping || self->srv == NULL) {
                PyErr_Clear();
                break;
            }
            Py_DECREF(op);
            return NULL; /* a signal (main thread) or an error */
        }
        if (rc == HCM_ETIMEDOUT)
            continue;
        PyObject *req = decode_any(self->st, &self->req.c, self->scratch, len);
        PyObject *resp = req ? PyObject_CallOneArg(self->callback, req) : NULL;
        Py_XDECREF(req);
        if (resp == NULL) {
            fail_with_exception(self, call);
            continue;
        }
        PyObject *r = server_reply_value(self, call, resp);
        Py_DECREF(resp);
        if (r == NULL) /* the callback returned a value of the wrong type */
            fail_with_exception(self, call);
        Py_XDECREF(r);
    }
    Py_DECREF(op);
    Py_RETURN_NONE;
}

static PyObject *server_close(PyObject *op, PyObject *unused)
{
    ServerObject *self = (ServerObject *)op;
    (void)unused;
    self->stopping = 1;
    if (self->thread != NULL) {
        PyObject *cur = PyImport_ImportModule("threading");
        PyObject *me = cur ? PyObject_CallMethod(cur, "current_thread", NULL) : NULL;
        Py_XDECREF(cur);
        if (me != self->thread) { /* not from the callback itself */
            PyObject *r = PyObject_CallMethod(self->thread, "join", NULL);
            if (r == NULL) {
                Py_XDECREF(me);
                return NULL;
            }
            Py_DECREF(r);
        }
        Py_XDECREF(me);
        Py_CLEAR(self->thread);
    }
    if (self->in_take > 0) {
        PyErr_Format(PyExc_RuntimeError,
                     "ServiceServer('%U'): another thread is blocked in take(); it ends within "
                     "50 ms, close again then",
                     self->req.name);
        return NULL;
    }
    hcm_server_close(self->srv);
    self->srv = NULL;
    Py_RETURN_NONE;
}

static PyObject *server_exit(PyObject *op, PyObject *args)
{
    (void)args;
    return server_close(op, NULL);
}

static void server_dealloc(PyObject *op)
{
    ServerObject *self = (ServerObject *)op;
    PyTypeObject *tp = Py_TYPE(op);
    PyObject_GC_UnTrack(op);
    self->stopping = 1;
    hcm_server_close(self->srv); /* the serving thread holds a reference: it has ended */
    self->srv = NULL;
    endpoint_clear(&self->req, 1);
    codec_clear(&self->resp);
    Py_CLEAR(self->resp_default);
    Py_CLEAR(self->callback);
    Py_CLEAR(self->thread);
    PyMem_Free(self->scratch);
    tp->tp_free(op);
    Py_DECREF(tp);
}

static int server_traverse(PyObject *op, visitproc visit, void *arg)
{
    ServerObject *self = (ServerObject *)op;
    Py_VISIT(Py_TYPE(op));
    Py_VISIT(self->callback);
    Py_VISIT(self->resp_default);
    Py_VISIT(self->resp.dtype);
    return endpoint_traverse(&self->req, visit, arg);
}

static int server_clear(PyObject *op)
{
    ServerObject *self = (ServerObject *)op;
    self->stopping = 1;
    Py_CLEAR(self->callback);
    Py_CLEAR(self->resp_default);
    codec_clear(&self->resp);
    endpoint_clear(&self->req, 0);
    return 0;
}

static PyObject *server_repr(PyObject *op)
{
    ServerObject *self = (ServerObject *)op;
    char a[160], b[160];
    return PyUnicode_FromFormat("<shm_service.ServiceServer '%U' %s -> %s%s, %llu callback errors>",
                                self->req.name, hcm_type_format(&self->req.c.type, a, sizeof a),
                                hcm_type_format(&self->resp.type, b, sizeof b),
                                self->srv ? "" : ", closed", (unsigned long long)self->errors);
}

static PyObject *server_get_name(PyObject *op, void *c)
{
    (void)c;
    return Py_NewRef(((ServerObject *)op)->req.name);
}

static PyObject *server_get_closed(PyObject *op, void *c)
{
    (void)c;
    return PyBool_FromLong(((ServerObject *)op)->srv == NULL);
}

static PyObject *server_get_errors(PyObject *op, void *c)
{
    (void)c;
    return PyLong_FromUnsignedLongLong(((ServerObject *)op)->errors);
}

static PyMethodDef server_methods[] = {
    {"take", (PyCFunction)(void (*)(void))server_take, METH_VARARGS | METH_KEYWORDS,
     "take(timeout=None)\n--\n\nWaits for the oldest request: returns (request, call); "
     "answer with reply(call, response) or fail(call, message). WaitTimeoutError on timeout. "
     "For servers without a callback thread."},
    {"reply", server_reply, METH_VARARGS,
     "reply(call, response)\n--\n\nAnswers a call from take() (any order, any thread)."},
    {"fail", server_fail, METH_VARARGS,
     "fail(call, message)\n--\n\nFails a call: the client's call() raises RemoteError(message)."},
    {"serve_forever", server_serve_forever, METH_NOARGS,
     "serve_forever()\n--\n\nRuns the callback for every request until close() (the "
     "constructor does this on a thread of its own unless thread=False)."},
    {"close", server_close, METH_NOARGS,
     "close()\n--\n\nStops serving: pending and later calls fail with PeerDeadError."},
    {"__enter__", self_enter, METH_NOARGS, NULL},
    {"__exit__", server_exit, METH_VARARGS, NULL},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef server_getset[] = {
    {"name", server_get_name, NULL, "Service name.", NULL},
    {"closed", server_get_closed, NULL, "True after close().", NULL},
    {"errors", server_get_errors, NULL, "Calls whose callback raised (each answered as an error).",
     NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyType_Slot server_slots[] = {
    {Py_tp_new, server_new},
    {Py_tp_dealloc, server_dealloc},
    {Py_tp_traverse, server_traverse},
    {Py_tp_clear, server_clear},
    {Py_tp_repr, server_repr},
    {Py_tp_methods, server_methods},
    {Py_tp_getset, server_getset},
    {Py_tp_doc,
     "ServiceServer(name, callback, request_default, response_default, *, queue_size=64, "
     "max_request_size=None, max_response_size=None, mode=0o600, domain=None, "
     "request_type_name=None, response_type_name=None, thread=True)\n--\n\n"
     "Serves a service: callback(request) -> response runs on a thread of its own for every "
     "request (the GIL is released while waiting). An exception in the callback reaches the "
     "caller as RemoteError, and the server keeps serving. With callback=None (or "
     "thread=False) serve by hand with take()/reply(). Types come from the defaults as for "
     "Publisher. One live server per name: a second one raises BusyError."},
    {0, NULL},
};

static PyType_Spec server_spec = {
    "shm_service.ServiceServer", sizeof(ServerObject), 0,
    Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC, server_slots,
};

typedef struct {
    PyObject_HEAD
    hcm_state *st;
    endpoint req;
    codec resp;
    PyObject *resp_default;
    hcm_client *cli;
    int busy;
    int wait_for_slot;
    unsigned char *scratch;
    size_t scratch_cap;
} ClientObject;

static PyObject *client_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"name",   "request_default",   "response_default",
                             "max_request_size", "max_response_size", "domain",
                             "request_type_name", "response_type_name", "wait_for_slot", NULL};
    PyObject *name, *req_def, *resp_def, *max_req = NULL, *max_resp = NULL, *domain = Py_None;
    const char *req_tn = NULL, *resp_tn = NULL;
    int wait_for_slot = 1;
    hcm_state *st = state_of_type(type);
    ClientObject *self;
    hcm_client_attr attr;
    int rc;
    if (st == NULL)
        return NULL;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "UOO|$OOOzzp:ServiceClient", kwlist, &name,
                                     &req_def, &resp_def, &max_req, &max_resp, &domain, &req_tn,
                                     &resp_tn, &wait_for_slot)) {
        wrap_builtin(st);
        return NULL;
    }
    self = (ClientObject *)type->tp_alloc(type, 0);
    if (self == NULL)
        return NULL;
    self->st = st;
    const char *cname, *cdomain;
    if (endpoint_init(st, &self->req, name, req_def, domain, max_req, req_tn, &cname, &cdomain) < 0 ||
        codec_init(st, &self->resp, resp_def, max_resp, resp_tn) < 0)
        goto fail;
    Py_INCREF(resp_def);
    self->resp_default = resp_def;
    hcm_client_attr_init(&attr);
    attr.request_type = self->req.c.type;
    attr.response_type = self->resp.type;
    attr.domain = cdomain;
    attr.wait_for_slot = wait_for_slot;
    self->wait_for_slot = wait_for_slot;
    Py_BEGIN_ALLOW_THREADS
    rc = hcm_client_open(&self->cli, cname, &attr);
    Py_END_ALLOW_THREADS
    if (rc != HCM_OK) {
        raise_hcm(st, rc, NULL);
        goto fail;
    }
    return (PyObject *)self;
fail:
    wrap_builtin(st);
    Py_DECREF(self);
    return NULL;
}

static PyObject *client_call(PyObject *op, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"request", "timeout", NULL};
    ClientObject *self = (ClientObject *)op;
    hcm_state *st = self->st;
    PyObject *req, *timeout = NULL;
    int64_t tns = 5000000000ll, deadline;
    hcm_call call;
    size_t len = 0;
    enc e;
    int rc;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "O|O:call", kwlist, &req, &timeout))
        return NULL;
    if (self->cli == NULL || self->req.default_value == NULL) {
        PyErr_Format(st->Error, "ServiceClient('%U') is closed", self->req.name);
        return NULL;
    }
    if (self->busy) {
        PyErr_Format(PyExc_RuntimeError,
                     "ServiceClient('%U') is in use by another thread; use one client per thread",
                     self->req.name);
        return NULL;
    }
    if (timeout != NULL && timeout_ns(st, timeout, &tns) < 0)
        return NULL;
    if (encode(st, &self->req.c, self->req.name, req, &e) < 0) {
        wrap_builtin(st);
        return NULL;
    }
    deadline = tns < 0 ? -1 : now_ns() + tns;
    self->busy = 1;
    for (;;) { /* a send waiting for a free slot is sliced too, for Ctrl-C */
        int64_t slice = WAIT_SLICE_NS;
        if (deadline >= 0) {
            int64_t left = deadline - now_ns();
            slice = left <= 0 ? 0 : left < slice ? left : slice;
        }
        Py_BEGIN_ALLOW_THREADS
        rc = hcm_client_send(self->cli, e.ptr, e.len, &call, slice);
        Py_END_ALLOW_THREADS
        if ((rc == HCM_EINTR || (rc == HCM_EBUSY && slice > 0 && (deadline < 0 || now_ns() < deadline) &&
                                 self->wait_for_slot)) &&
            PyErr_CheckSignals() == 0)
            continue;
        break;
    }
    enc_release(&e);
    if (rc != HCM_OK) {
        self->busy = 0;
        if (PyErr_Occurred()) /* a signal handler raised (KeyboardInterrupt) */
            return NULL;
        return raise_hcm(st, rc, NULL);
    }
    if (self->scratch == NULL) {
        self->scratch_cap = (size_t)self->resp.size;
        self->scratch = PyMem_Malloc(self->scratch_cap ? self->scratch_cap : 1);
        if (self->scratch == NULL) {
            self->busy = 0;
            hcm_client_cancel(self->cli, call);
            return PyErr_NoMemory();
        }
    }
    for (;;) { /* slices: Ctrl-C works during a long call */
        int64_t slice = WAIT_SLICE_NS;
        if (deadline >= 0) {
            int64_t left = deadline - now_ns();
            slice = left <= 0 ? 0 : left < slice ? left : slice;
        }
        Py_BEGIN_ALLOW_THREADS
        rc = hcm_client_receive(self->cli, call, self->scratch, self->scratch_cap, &len, slice);
        Py_END_ALLOW_THREADS
        if (rc == HCM_ETIMEDOUT && (deadline < 0 || now_ns() < deadline)) {
            if (PyErr_CheckSignals() < 0) {
                hcm_client_cancel(self->cli, call);
                self->busy = 0;
                return NULL;
            }
            continue;
        }
        if (rc == HCM_EINTR) {
            if (PyErr_CheckSignals() < 0) {
                hcm_client_cancel(self->cli, call);
                self->busy = 0;
                return NULL;
            }
            continue;
        }
        break;
    }
    self->busy = 0;
    if (rc == HCM_ETIMEDOUT) {
        hcm_client_cancel(self->cli, call);
        PyErr_Format(st->WaitTimeoutError, "no response from service '%U' within %R s",
                     self->req.name, timeout ? timeout : Py_None);
        return NULL;
    }
    if (rc != HCM_OK)
        return raise_hcm(st, rc, NULL);
    return decode_any(st, &self->resp, self->scratch, len);
}

static PyObject *client_close(PyObject *op, PyObject *unused)
{
    ClientObject *self = (ClientObject *)op;
    (void)unused;
    if (self->busy) {
        PyErr_Format(PyExc_RuntimeError, "ServiceClient('%U') is in use by another thread",
                     self->req.name);
        return NULL;
    }
    hcm_client_close(self->cli);
    self->cli = NULL;
    Py_RETURN_NONE;
}

static PyObject *client_exit(PyObject *op, PyObject *args)
{
    (void)args;
    return client_close(op, NULL);
}

static void client_dealloc(PyObject *op)
{
    ClientObject *self = (ClientObject *)op;
    PyTypeObject *tp = Py_TYPE(op);
    PyObject_GC_UnTrack(op);
    hcm_client_close(self->cli);
    self->cli = NULL;
    endpoint_clear(&self->req, 1);
    codec_clear(&self->resp);
    Py_CLEAR(self->resp_default);
    PyMem_Free(self->scratch);
    tp->tp_free(op);
    Py_DECREF(tp);
}

static int client_traverse(PyObject *op, visitproc visit, void *arg)
{
    ClientObject *self = (ClientObject *)op;
    Py_VISIT(Py_TYPE(op));
    Py_VISIT(self->resp_default);
    Py_VISIT(self->resp.dtype);
    return endpoint_traverse(&self->req, visit, arg);
}

static int client_clear(PyObject *op)
{
    ClientObject *self = (ClientObject *)op;
    Py_CLEAR(self->resp_default);
    codec_clear(&self->resp);
    endpoint_clear(&self->req, 0);
    return 0;
}

static PyObject *client_repr(PyObject *op)
{
    ClientObject *self = (ClientObject *)op;
    char a[160], b[160];
    return PyUnicode_FromFormat("<shm_service.ServiceClient '%U' %s -> %s%s>", self->req.name,
                                hcm_type_format(&self->req.c.type, a, sizeof a),
                                hcm_type_format(&self->resp.type, b, sizeof b),
                                self->cli ? "" : ", closed");
}

static PyObject *client_get_name(PyObject *op, void *c)
{
    (void)c;
    return Py_NewRef(((ClientObject *)op)->req.name);
}

static PyObject *client_get_closed(PyObject *op, void *c)
{
    (void)c;
    return PyBool_FromLong(((ClientObject *)op)->cli == NULL);
}

static PyMethodDef client_methods[] = {
    {"call", (PyCFunction)(void (*)(void))client_call, METH_VARARGS | METH_KEYWORDS,
     "call(request, timeout=5.0)\n--\n\nSends request and waits for its response (None = wait "
     "forever). Raises WaitTimeoutError on timeout, PeerDeadError when the server dies or is "
     "missing, RemoteError when the server's callback raised, TopicNotFoundError when no "
     "server ever opened the service, BusyError when every call slot stays in use."},
    {"close", client_close, METH_NOARGS, "close()\n--\n\nDetaches."},
    {"__enter__", self_enter, METH_NOARGS, NULL},
    {"__exit__", client_exit, METH_VARARGS, NULL},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef client_getset[] = {
    {"name", client_get_name, NULL, "Service name.", NULL},
    {"closed", client_get_closed, NULL, "True after close().", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyType_Slot client_slots[] = {
    {Py_tp_new, client_new},
    {Py_tp_dealloc, client_dealloc},
    {Py_tp_traverse, client_traverse},
    {Py_tp_clear, client_clear},
    {Py_tp_repr, client_repr},
    {Py_tp_methods, client_methods},
    {Py_tp_getset, client_getset},
    {Py_tp_doc,
     "ServiceClient(name, request_default, response_default, *, max_request_size=None, "
     "max_response_size=None, domain=None, request_type_name=None, response_type_name=None, "
     "wait_for_slot=True)\n--\n\n"
     "Calls a service. The types must equal the server's (TypeMismatchError otherwise, both "
     "named). The service need not exist yet. Use one client per thread."},
    {0, NULL},
};

static PyType_Spec client_spec = {
    "shm_service.ServiceClient", sizeof(ClientObject), 0,
    Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC, client_slots,
};

/* ---- actions: ActionServer, ActionClient and their goal handles ------------- */

static PyObject *status_str(hcm_goal_status st)
{
    return PyUnicode_FromString(hcm_goal_status_name(st));
}

/* The codecs and C server behind an ActionServer. */
typedef struct {
    PyObject_HEAD
    hcm_state *st;
    endpoint goal;        /* name, goal default, domain, goal codec */
    codec fb, res;
    PyObject *fb_default, *res_default;
    PyObject *execute, *accept; /* callables (accept may be None) */
    PyObject *thread;     /* the dispatcher thread, or NULL */
    hcm_action_server *srv;
    int stopping;
    int in_take;
    int max_concurrent;
    PyObject *workers;    /* list of running worker threads */
    unsigned char *scratch;
    size_t scratch_cap;
} AServerObject;

/* What an execute callback receives. */
typedef struct {
    PyObject_HEAD
    AServerObject *owner; /* strong */
    hcm_goal g;
    PyObject *goal;       /* the goal value */
    int outcome;          /* 0 succeed (default), HCM_GOAL_CANCELED, HCM_GOAL_ABORTED */
    int finished;
} SGoalObject;

static int aserver_alive(AServerObject *self)
{
    if (self->srv == NULL || self->goal.default_value == NULL) {
        PyErr_Format(self->st->Error, "ActionServer('%U') is closed", self->goal.name);
        return 0;
    }
    return 1;
}

static PyObject *sgoal_publish_feedback(PyObject *op, PyObject *value)
{
    SGoalObject *h = (SGoalObject *)op;
    AServerObject *a = h->owner;
    enc e;
    int rc;
    if (!aserver_alive(a))
        return NULL;
    if (encode(a->st, &a->fb, a->goal.name, value, &e) < 0) {
        wrap_builtin(a->st);
        return NULL;
    }
    rc = hcm_action_server_feedback(a->srv, h->g, e.ptr, e.len);
    enc_release(&e);
    if (rc != HCM_OK)
        return raise_hcm(a->st, rc, NULL);
    Py_RETURN_NONE;
}

static PyObject *sgoal_get_cancel_requested(PyObject *op, void *c)
{
    SGoalObject *h = (SGoalObject *)op;
    (void)c;
    if (h->owner->srv == NULL || h->owner->stopping) /* closing: callbacks should stop */
        Py_RETURN_TRUE;
    return PyBool_FromLong(hcm_action_server_cancel_requested(h->owner->srv, h->g));
}

static PyObject *sgoal_canceled(PyObject *op, PyObject *unused)
{
    (void)unused;
    ((SGoalObject *)op)->outcome = HCM_GOAL_CANCELED;
    Py_RETURN_NONE;
}

static PyObject *sgoal_abort(PyObject *op, PyObject *unused)
{
    (void)unused;
    ((SGoalObject *)op)->outcome = HCM_GOAL_ABORTED;
    Py_RETURN_NONE;
}

static PyObject *sgoal_get_goal(PyObject *op, void *c)
{
    (void)c;
    return Py_NewRef(((SGoalObject *)op)->goal);
}

static PyObject *sgoal_get_id(PyObject *op, void *c)
{
    (void)c;
    return PyLong_FromUnsignedLongLong(((SGoalObject *)op)->g.id);
}

static void sgoal_dealloc(PyObject *op)
{
    SGoalObject *h = (SGoalObject *)op;
    PyTypeObject *tp = Py_TYPE(op);
    PyObject_GC_UnTrack(op);
    Py_CLEAR(h->goal);
    Py_CLEAR(h->owner);
    PyObject_GC_Del(op);
    Py_DECREF(tp);
}

static int sgoal_traverse(PyObject *op, visitproc visit, void *arg)
{
    SGoalObject *h = (SGoalObject *)op;
    Py_VISIT(Py_TYPE(op));
    Py_VISIT(h->owner);
    Py_VISIT(h->goal);
    return 0;
}

static int sgoal_clear(PyObject *op)
{
    SGoalObject *h = (SGoalObject *)op;
    Py_CLEAR(h->goal);
    Py_CLEAR(h->owner);
    return 0;
}

static PyMethodDef sgoal_methods[] = {
    {"publish_feedback", sgoal_publish_feedback, METH_O,
     "publish_feedback(feedback)\n--\n\nSends feedback to this goal's client (only to it)."},
    {"canceled", sgoal_canceled, METH_NOARGS,
     "canceled()\n--\n\nEnd this goal CANCELED when the callback returns (after a cancel "
     "request)."},
    {"abort", sgoal_abort, METH_NOARGS,
     "abort()\n--\n\nEnd this goal ABORTED when the callback returns."},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef sgoal_getset[] = {
    {"goal", sgoal_get_goal, NULL, "The goal value.", NULL},
    {"id", sgoal_get_id, NULL, "The goal id.", NULL},
    {"cancel_requested", sgoal_get_cancel_requested, NULL,
     "True once the client asked to cancel (or died): the callback decides what to do.", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyType_Slot sgoal_slots[] = {
    {Py_tp_dealloc, sgoal_dealloc},
    {Py_tp_traverse, sgoal_traverse},
    {Py_tp_clear, sgoal_clear},
    {Py_tp_methods, sgoal_methods},
    {Py_tp_getset, sgoal_getset},
    {Py_tp_doc, "A goal being executed, as the execute callback sees it. Return the result "
                "to succeed; call canceled() (after cancel_requested) or abort() first to end "
                "it otherwise; an exception aborts it."},
    {0, NULL},
};

static PyType_Spec sgoal_spec = {
    "shm_action.ServerGoalHandle", sizeof(SGoalObject), 0,
    Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_DISALLOW_INSTANTIATION, sgoal_slots,
};

/* Runs the execute callback for one accepted goal and finishes it. */
static PyObject *aserver_run_goal(PyObject *op, PyObject *hobj)
{
    AServerObject *self = (AServerObject *)op;
    SGoalObject *h = (SGoalObject *)hobj;
    hcm_action_server_execute(self->srv, h->g);
    PyObject *res = PyObject_CallOneArg(self->execute, hobj);
    uint32_t status = h->outcome ? (uint32_t)h->outcome : HCM_GOAL_SUCCEEDED;
    enc e;
    int have = 0;
    if (res == NULL) { /* the callback raised: report it, abort with the default result */
        PyErr_WriteUnraisable(self->execute);
        status = HCM_GOAL_ABORTED;
        res = Py_NewRef(self->res_default);
    }
    if (res == Py_None)
        Py_SETREF(res, Py_NewRef(self->res_default));
    if (encode(self->st, &self->res, self->goal.name, res, &e) < 0) {
        PyErr_WriteUnraisable(self->execute); /* it returned a result of the wrong type */
        status = HCM_GOAL_ABORTED;
        if (encode(self->st, &self->res, self->goal.name, self->res_default, &e) == 0)
            have = 1;
        else
            PyErr_Clear();
    } else {
        have = 1;
    }
    Py_DECREF(res);
    if (self->srv != NULL) {
        int rc = hcm_action_server_finish(self->srv, h->g, (hcm_goal_status)status,
                                          have ? e.ptr : NULL, have ? e.len : 0);
        if (rc == HCM_EINVAL && status == HCM_GOAL_CANCELED) /* no cancel was requested */
            hcm_action_server_finish(self->srv, h->g, HCM_GOAL_ABORTED, have ? e.ptr : NULL,
                                     have ? e.len : 0);
    }
    if (have)
        enc_release(&e);
    h->finished = 1;
    Py_RETURN_NONE;
}

static PyObject *aserver_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"name", "goal_default", "feedback_default", "result_default",
                             "execute_callback", "accept_callback", "max_concurrent", "slots",
                             "domain", "goal_type_name", "feedback_type_name",
                             "result_type_name", "max_goal_size", "max_feedback_size",
                             "max_result_size", NULL};
    PyObject *name, *gd, *fd, *rd, *execute, *accept = Py_None, *domain = Py_None;
    PyObject *mg = NULL, *mf = NULL, *mr = NULL;
    const char *gtn = NULL, *ftn = NULL, *rtn = NULL;
    int max_concurrent = 1, slots = HCM_DEFAULT_QUEUE;
    hcm_state *st = state_of_type(type);
    AServerObject *self;
    int rc;
    if (st == NULL)
        return NULL;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "UOOOO|$OiiOzzzOOO:ActionServer", kwlist, &name,
                                     &gd, &fd, &rd, &execute, &accept, &max_concurrent, &slots,
                                     &domain, &gtn, &ftn, &rtn, &mg, &mf, &mr)) {
        wrap_builtin(st);
        return NULL;
    }
    if (!PyCallable_Check(execute) || (accept != Py_None && !PyCallable_Check(accept))) {
        PyErr_SetString(st->TypeMismatchError, "execute_callback (and accept_callback) must be callable");
        return NULL;
    }
    if (max_concurrent < 1 || slots < 1 || slots > HCM_MAX_QUEUE) {
        PyErr_Format(st->InvalidArgumentError, "max_concurrent must be >= 1 and slots 1..%d",
                     HCM_MAX_QUEUE);
        return NULL;
    }
    self = (AServerObject *)type->tp_alloc(type, 0);
    if (self == NULL)
        return NULL;
    self->st = st;
    self->max_concurrent = max_concurrent;
    const char *cname, *cdomain;
    if (endpoint_init(st, &self->goal, name, gd, domain, mg, gtn, &cname, &cdomain) < 0 ||
        codec_init(st, &self->fb, fd, mf, ftn) < 0 || codec_init(st, &self->res, rd, mr, rtn) < 0)
        goto fail;
    self->fb_default = Py_NewRef(fd);
    self->res_default = Py_NewRef(rd);
    self->execute = Py_NewRef(execute);
    self->accept = Py_NewRef(accept);
    self->workers = PyList_New(0);
    if (self->workers == NULL)
        goto fail;
    hcm_action_server_attr attr;
    hcm_action_server_attr_init(&attr);
    attr.goal_type = self->goal.c.type;
    attr.feedback_type = self->fb.type;
    attr.result_type = self->res.type;
    attr.goal_max = self->goal.c.size;
    attr.feedback_max = self->fb.size;
    attr.result_max = self->res.size;
    attr.slots = (uint32_t)slots;
    attr.domain = cdomain;
    Py_BEGIN_ALLOW_THREADS
    rc = hcm_action_server_open(&self->srv, cname, &attr);
    Py_END_ALLOW_THREADS
    if (rc != HCM_OK) {
        raise_hcm(st, rc, NULL);
        goto fail;
    }
    self->scratch_cap = (size_t)self->goal.c.size;
    self->scratch = PyMem_Malloc(self->scratch_cap ? self->scratch_cap : 1);
    if (self->scratch == NULL) {
        PyErr_NoMemory();
        goto fail;
    }
    {
        PyObject *target = PyObject_GetAttrString((PyObject *)self, "serve_forever");
        PyObject *tname = target ? PyUnicode_FromFormat("hcm-action-%U", name) : NULL;
        PyObject *t = tname ? start_daemon_thread(target, NULL, tname) : NULL;
        Py_XDECREF(target);
        Py_XDECREF(tname);
        if (t == NULL)
            goto fail;
        self->thread = t;
    }
    return (PyObject *)self;
fail:
    wrap_builtin(st);
    Py_DECREF(self);
    return NULL;
}

/* Drops finished worker threads from the list; returns how many run. */
static Py_ssize_t reap_workers(AServerObject *self)
{
    for (Py_ssize_t i = PyList_GET_SIZE(self->workers) - 1; i >= 0; i--) {
        PyObject *t = PyList_GET_ITEM(self->workers, i);
        PyObject *alive = PyObject_CallMethod(t, "is_alive", NULL);
        int dead = alive == Py_False;
        Py_XDECREF(alive);
        if (alive == NULL)
            PyErr_Clear();
        if (dead)
            PySequence_DelItem(self->workers, i);
    }
    return PyList_GET_SIZE(self->workers);
}

static PyObject *aserver_serve_forever(PyObject *op, PyObject *unused)
{
    AServerObject *self = (AServerObject *)op;
    (void)unused;
    Py_INCREF(op);
    while (!self->stopping && self->srv != NULL) {
        /* the server decides its concurrency: wait for a free worker */
        if (self->max_concurrent > 1 && reap_workers(self) >= self->max_concurrent) {
            Py_BEGIN_ALLOW_THREADS
            struct timespec ts = {0, 1000000};
            nanosleep(&ts, NULL);
            Py_END_ALLOW_THREADS
            continue;
        }
        hcm_goal g;
        size_t len;
        int rc;
        hcm_action_server *srv = self->srv;
        self->in_take++;
        Py_BEGIN_ALLOW_THREADS
        rc = hcm_action_server_take(srv, self->scratch, self->scratch_cap, &len, &g, 100000000ll);
        Py_END_ALLOW_THREADS
        self->in_take--;
        if (rc != HCM_OK)
            continue;
        PyObject *goal = decode_any(self->st, &self->goal.c, self->scratch, len);
        if (goal == NULL) { /* the goal does not decode: report it, reject it */
            PyErr_WriteUnraisable(op);
            hcm_action_server_reject(self->srv, g);
            continue;
        }
        if (self->accept != Py_None) {
            PyObject *ok = PyObject_CallOneArg(self->accept, goal);
            int yes = ok != NULL ? PyObject_IsTrue(ok) : -1;
            Py_XDECREF(ok);
            if (yes < 0) /* it raised: report it (sys.unraisablehook), reject the goal */
                PyErr_WriteUnraisable(self->accept);
            if (yes != 1) {
                hcm_action_server_reject(self->srv, g);
                Py_DECREF(goal);
                continue;
            }
        }
        if (hcm_action_server_accept(self->srv, g) != HCM_OK) { /* cancelled meanwhile */
            Py_DECREF(goal);
            continue;
        }
        SGoalObject *h = PyObject_GC_New(SGoalObject, self->st->ServerGoalType);
        if (h == NULL) {
            PyErr_Clear();
            Py_DECREF(goal);
            hcm_action_server_finish(self->srv, g, HCM_GOAL_ABORTED, NULL, 0);
            continue;
        }
        h->owner = (AServerObject *)Py_NewRef(op);
        h->g = g;
        h->goal = goal;
        h->outcome = 0;
        h->finished = 0;
        PyObject_GC_Track((PyObject *)h);
        if (self->max_concurrent == 1) {
            PyObject *r = aserver_run_goal(op, (PyObject *)h);
            Py_XDECREF(r);
        } else {
            PyObject *target = PyObject_GetAttrString(op, "_run_goal");
            PyObject *args = target ? PyTuple_Pack(1, (PyObject *)h) : NULL;
            PyObject *th = args ? start_daemon_thread(target, args, NULL) : NULL;
            if (th != NULL)
                PyList_Append(self->workers, th);
            else {
                PyErr_Clear();
                PyObject *rr = aserver_run_goal(op, (PyObject *)h); /* run it here instead */
                Py_XDECREF(rr);
            }
            Py_XDECREF(th);
            Py_XDECREF(args);
            Py_XDECREF(target);
        }
        Py_DECREF(h);
    }
    Py_DECREF(op);
    Py_RETURN_NONE;
}

static PyObject *aserver_close(PyObject *op, PyObject *unused)
{
    AServerObject *self = (AServerObject *)op;
    (void)unused;
    self->stopping = 1;
    PyObject *threading = PyImport_ImportModule("threading");
    PyObject *me = threading ? PyObject_CallMethod(threading, "current_thread", NULL) : NULL;
    Py_XDECREF(threading);
    if (self->thread != NULL && me != self->thread) {
        PyObject *r = PyObject_CallMethod(self->thread, "join", NULL);
        if (r == NULL) {
            Py_XDECREF(me);
            return NULL;
        }
        Py_DECREF(r);
    }
    Py_CLEAR(self->thread);
    /* running goals: their callbacks see cancel_requested once the server is
     * gone; wait for them to return */
    if (self->workers != NULL) {
        for (Py_ssize_t i = 0; i < PyList_GET_SIZE(self->workers); i++) {
            PyObject *t = PyList_GET_ITEM(self->workers, i);
            if (t == me)
                continue;
            PyObject *r = PyObject_CallMethod(t, "join", NULL);
            Py_XDECREF(r);
            PyErr_Clear();
        }
    }
    Py_XDECREF(me);
    hcm_action_server_close(self->srv); /* unfinished goals end ABORTED */
    self->srv = NULL;
    Py_RETURN_NONE;
}

static PyObject *aserver_exit(PyObject *op, PyObject *args)
{
    (void)args;
    return aserver_close(op, NULL);
}

static void aserver_dealloc(PyObject *op)
{
    AServerObject *self = (AServerObject *)op;
    PyTypeObject *tp = Py_TYPE(op);
    PyObject_GC_UnTrack(op);
    self->stopping = 1;
    hcm_action_server_close(self->srv);
    self->srv = NULL;
    endpoint_clear(&self->goal, 1);
    codec_clear(&self->fb);
    codec_clear(&self->res);
    Py_CLEAR(self->fb_default);
    Py_CLEAR(self->res_default);
    Py_CLEAR(self->execute);
    Py_CLEAR(self->accept);
    Py_CLEAR(self->thread);
    Py_CLEAR(self->workers);
    PyMem_Free(self->scratch);
    tp->tp_free(op);
    Py_DECREF(tp);
}

static int aserver_traverse(PyObject *op, visitproc visit, void *arg)
{
    AServerObject *self = (AServerObject *)op;
    Py_VISIT(Py_TYPE(op));
    Py_VISIT(self->execute);
    Py_VISIT(self->accept);
    Py_VISIT(self->fb_default);
    Py_VISIT(self->res_default);
    Py_VISIT(self->workers);
    return endpoint_traverse(&self->goal, visit, arg);
}

static int aserver_clear(PyObject *op)
{
    AServerObject *self = (AServerObject *)op;
    self->stopping = 1;
    Py_CLEAR(self->execute);
    Py_CLEAR(self->accept);
    Py_CLEAR(self->fb_default);
    Py_CLEAR(self->res_default);
    Py_CLEAR(self->workers);
    endpoint_clear(&self->goal, 0);
    return 0;
}

static PyObject *aserver_repr(PyObject *op)
{
    AServerObject *self = (AServerObject *)op;
    return PyUnicode_FromFormat("<shm_action.ActionServer '%U'%s>", self->goal.name,
                                self->srv ? "" : ", closed");
}

static PyMethodDef aserver_methods[] = {
    {"serve_forever", aserver_serve_forever, METH_NOARGS,
     "serve_forever()\n--\n\nTakes goals until close() (the constructor runs it on a thread)."},
    {"_run_goal", aserver_run_goal, METH_O, NULL},
    {"close", aserver_close, METH_NOARGS,
     "close()\n--\n\nStops taking goals, waits for running callbacks; unfinished goals end "
     "ABORTED, pending ones REJECTED."},
    {"__enter__", self_enter, METH_NOARGS, NULL},
    {"__exit__", aserver_exit, METH_VARARGS, NULL},
    {NULL, NULL, 0, NULL},
};

static PyObject *aserver_get_name(PyObject *op, void *c)
{
    (void)c;
    return Py_NewRef(((AServerObject *)op)->goal.name);
}

static PyObject *aserver_get_closed(PyObject *op, void *c)
{
    (void)c;
    return PyBool_FromLong(((AServerObject *)op)->srv == NULL);
}

static PyGetSetDef aserver_getset[] = {
    {"name", aserver_get_name, NULL, "Action name.", NULL},
    {"closed", aserver_get_closed, NULL, "True after close().", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyType_Slot aserver_slots[] = {
    {Py_tp_new, aserver_new},
    {Py_tp_getset, aserver_getset},
    {Py_tp_dealloc, aserver_dealloc},
    {Py_tp_traverse, aserver_traverse},
    {Py_tp_clear, aserver_clear},
    {Py_tp_repr, aserver_repr},
    {Py_tp_methods, aserver_methods},
    {Py_tp_doc,
     "ActionServer(name, goal_default, feedback_default, result_default, execute_callback, *, "
     "accept_callback=None, max_concurrent=1, slots=64, domain=None, goal_type_name=None, "
     "feedback_type_name=None, result_type_name=None, max_goal_size=None, "
     "max_feedback_size=None, max_result_size=None)\n--\n\n"
     "Serves an action. For each goal: accept_callback(goal) -> bool decides (default: "
     "accept), then execute_callback(handle) runs (handle.goal, handle.publish_feedback(fb), "
     "handle.cancel_requested, handle.canceled(), handle.abort()) and returns the result; an "
     "exception aborts the goal. Up to max_concurrent goals run at once, each on a thread."},
    {0, NULL},
};

static PyType_Spec aserver_spec = {
    "shm_action.ActionServer", sizeof(AServerObject), 0,
    Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC, aserver_slots,
};

typedef struct {
    PyObject_HEAD
    hcm_state *st;
    endpoint goal;
    codec fb, res;
    PyObject *fb_default, *res_default;
    hcm_action_client *cli;
    unsigned char *fbuf, *rbuf;
} AClientObject;

typedef struct {
    PyObject_HEAD
    AClientObject *owner; /* strong */
    hcm_goal g;
    uint32_t events;
    uint64_t fb_seq;
    uint64_t fb_skipped;
    hcm_goal_status final; /* once the goal ended (its slot may be reused later) */
    PyObject *result;      /* the result, once read */
} CGoalObject;

static PyObject *aclient_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"name", "goal_default", "feedback_default", "result_default",
                             "domain", "goal_type_name", "feedback_type_name",
                             "result_type_name", "max_goal_size", "max_feedback_size",
                             "max_result_size", NULL};
    PyObject *name, *gd, *fd, *rd, *domain = Py_None, *mg = NULL, *mf = NULL, *mr = NULL;
    const char *gtn = NULL, *ftn = NULL, *rtn = NULL;
    hcm_state *st = state_of_type(type);
    AClientObject *self;
    int rc;
    if (st == NULL)
        return NULL;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "UOOO|$OzzzOOO:ActionClient", kwlist, &name, &gd,
                                     &fd, &rd, &domain, &gtn, &ftn, &rtn, &mg, &mf, &mr)) {
        wrap_builtin(st);
        return NULL;
    }
    self = (AClientObject *)type->tp_alloc(type, 0);
    if (self == NULL)
        return NULL;
    self->st = st;
    const char *cname, *cdomain;
    if (endpoint_init(st, &self->goal, name, gd, domain, mg, gtn, &cname, &cdomain) < 0 ||
        codec_init(st, &self->fb, fd, mf, ftn) < 0 || codec_init(st, &self->res, rd, mr, rtn) < 0)
        goto fail;
    self->fb_default = Py_NewRef(fd);
    self->res_default = Py_NewRef(rd);
    self->fbuf = PyMem_Malloc(self->fb.size ? (size_t)self->fb.size : 1);
    self->rbuf = PyMem_Malloc(self->res.size ? (size_t)self->res.size : 1);
    if (self->fbuf == NULL || self->rbuf == NULL) {
        PyErr_NoMemory();
        goto fail;
    }
    hcm_action_client_attr attr;
    hcm_action_client_attr_init(&attr);
    attr.goal_type = self->goal.c.type;
    attr.feedback_type = self->fb.type;
    attr.result_type = self->res.type;
    attr.domain = cdomain;
    Py_BEGIN_ALLOW_THREADS
    rc = hcm_action_client_open(&self->cli, cname, &attr);
    Py_END_ALLOW_THREADS
    if (rc != HCM_OK) {
        raise_hcm(st, rc, NULL);
        goto fail;
    }
    return (PyObject *)self;
fail:
    wrap_builtin(st);
    Py_DECREF(self);
    return NULL;
}

static PyObject *aclient_send_goal(PyObject *op, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"goal", "timeout", NULL};
    AClientObject *self = (AClientObject *)op;
    PyObject *goal, *timeout = NULL;
    int64_t tns = 5000000000ll;
    hcm_goal g;
    enc e;
    int rc;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "O|O:send_goal", kwlist, &goal, &timeout))
        return NULL;
    if (self->cli == NULL) {
        PyErr_Format(self->st->Error, "ActionClient('%U') is closed", self->goal.name);
        return NULL;
    }
    if (timeout != NULL && timeout_ns(self->st, timeout, &tns) < 0)
        return NULL;
    if (encode(self->st, &self->goal.c, self->goal.name, goal, &e) < 0) {
        wrap_builtin(self->st);
        return NULL;
    }
    Py_BEGIN_ALLOW_THREADS
    rc = hcm_action_client_send(self->cli, e.ptr, e.len, &g, tns);
    Py_END_ALLOW_THREADS
    enc_release(&e);
    if (rc != HCM_OK)
        return raise_hcm(self->st, rc, NULL);
    CGoalObject *h = PyObject_GC_New(CGoalObject, self->st->ClientGoalType);
    if (h == NULL)
        return NULL;
    h->owner = (AClientObject *)Py_NewRef(op);
    h->g = g;
    h->events = 0;
    h->fb_seq = 0;
    h->fb_skipped = 0;
    h->final = HCM_GOAL_UNKNOWN;
    h->result = NULL;
    PyObject_GC_Track((PyObject *)h);
    return (PyObject *)h;
}

static PyObject *aclient_close(PyObject *op, PyObject *unused)
{
    AClientObject *self = (AClientObject *)op;
    (void)unused;
    hcm_action_client_close(self->cli); /* unfinished goals are cancelled */
    self->cli = NULL;
    Py_RETURN_NONE;
}

static PyObject *aclient_exit(PyObject *op, PyObject *args)
{
    (void)args;
    return aclient_close(op, NULL);
}

static void aclient_dealloc(PyObject *op)
{
    AClientObject *self = (AClientObject *)op;
    PyTypeObject *tp = Py_TYPE(op);
    PyObject_GC_UnTrack(op);
    hcm_action_client_close(self->cli);
    self->cli = NULL;
    endpoint_clear(&self->goal, 1);
    codec_clear(&self->fb);
    codec_clear(&self->res);
    Py_CLEAR(self->fb_default);
    Py_CLEAR(self->res_default);
    PyMem_Free(self->fbuf);
    PyMem_Free(self->rbuf);
    tp->tp_free(op);
    Py_DECREF(tp);
}

static int aclient_traverse(PyObject *op, visitproc visit, void *arg)
{
    AClientObject *self = (AClientObject *)op;
    Py_VISIT(Py_TYPE(op));
    Py_VISIT(self->fb_default);
    Py_VISIT(self->res_default);
    return endpoint_traverse(&self->goal, visit, arg);
}

static PyObject *aclient_repr(PyObject *op)
{
    AClientObject *self = (AClientObject *)op;
    return PyUnicode_FromFormat("<shm_action.ActionClient '%U'%s>", self->goal.name,
                                self->cli ? "" : ", closed");
}

static PyMethodDef aclient_methods[] = {
    {"send_goal", (PyCFunction)(void (*)(void))aclient_send_goal, METH_VARARGS | METH_KEYWORDS,
     "send_goal(goal, timeout=5.0)\n--\n\nSends a goal; returns its ClientGoalHandle. "
     "PeerDeadError if no server lives, TopicNotFoundError if none ever opened the action."},
    {"close", aclient_close, METH_NOARGS,
     "close()\n--\n\nDetaches; this client's unfinished goals are cancelled."},
    {"__enter__", self_enter, METH_NOARGS, NULL},
    {"__exit__", aclient_exit, METH_VARARGS, NULL},
    {NULL, NULL, 0, NULL},
};

static PyObject *aclient_get_name(PyObject *op, void *c)
{
    (void)c;
    return Py_NewRef(((AClientObject *)op)->goal.name);
}

static PyObject *aclient_get_closed(PyObject *op, void *c)
{
    (void)c;
    return PyBool_FromLong(((AClientObject *)op)->cli == NULL);
}

static PyGetSetDef aclient_getset[] = {
    {"name", aclient_get_name, NULL, "Action name.", NULL},
    {"closed", aclient_get_closed, NULL, "True after close().", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyType_Slot aclient_slots[] = {
    {Py_tp_new, aclient_new},
    {Py_tp_getset, aclient_getset},
    {Py_tp_dealloc, aclient_dealloc},
    {Py_tp_traverse, aclient_traverse},
    {Py_tp_repr, aclient_repr},
    {Py_tp_methods, aclient_methods},
    {Py_tp_doc,
     "ActionClient(name, goal_default, feedback_default, result_default, *, domain=None, "
     "goal_type_name=None, feedback_type_name=None, result_type_name=None, "
     "max_goal_size=None, max_feedback_size=None, max_result_size=None)\n--\n\n"
     "Sends goals to an action server; types as for Publisher."},
    {0, NULL},
};

static PyType_Spec aclient_spec = {
    "shm_action.ActionClient", sizeof(AClientObject), 0,
    Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC, aclient_slots,
};

/* Waits for a change of the goal with the GIL released, sliced for signals.
 * HCM_OK, HCM_ETIMEDOUT, or -1 with an exception. */
static int cgoal_wait(CGoalObject *h, int64_t deadline)
{
    AClientObject *c = h->owner;
    for (;;) {
        int64_t slice = WAIT_SLICE_NS;
        int rc;
        if (deadline >= 0) {
            int64_t left = deadline - now_ns();
            if (left <= 0)
                return HCM_ETIMEDOUT;
            if (left < slice)
                slice = left;
        }
        Py_BEGIN_ALLOW_THREADS
        rc = hcm_action_client_wait(c->cli, h->g, &h->events, slice);
        Py_END_ALLOW_THREADS
        if (rc == HCM_OK)
            return HCM_OK;
        if (rc != HCM_ETIMEDOUT && rc != HCM_EINTR) {
            raise_hcm(c->st, rc, NULL);
            return -1;
        }
        if (PyErr_CheckSignals() < 0)
            return -1;
    }
}

static int cgoal_usable(CGoalObject *h)
{
    if (h->owner->cli == NULL) {
        PyErr_Format(h->owner->st->Error, "ActionClient('%U') is closed", h->owner->goal.name);
        return 0;
    }
    return 1;
}

static PyObject *cgoal_get_status(PyObject *op, void *c)
{
    CGoalObject *h = (CGoalObject *)op;
    hcm_goal_status st;
    (void)c;
    if (h->final != HCM_GOAL_UNKNOWN)
        return status_str(h->final);
    if (!cgoal_usable(h))
        return NULL;
    int rc = hcm_action_client_status(h->owner->cli, h->g, &st);
    if (rc != HCM_OK)
        return raise_hcm(h->owner->st, rc, NULL);
    if (hcm_goal_status_is_final(st))
        h->final = st;
    return status_str(st);
}

/* The newest feedback, or NULL without an exception if none is new. */
static PyObject *cgoal_take_feedback(CGoalObject *h)
{
    AClientObject *c = h->owner;
    size_t len = 0;
    uint64_t before = h->fb_seq;
    /* a buffer per call: handles of one client may be read from several threads */
    unsigned char *buf = PyMem_Malloc(c->fb.size ? (size_t)c->fb.size : 1);
    if (buf == NULL)
        return PyErr_NoMemory();
    int rc = hcm_action_client_feedback(c->cli, h->g, buf, (size_t)c->fb.size, &len, &h->fb_seq);
    PyObject *v = NULL;
    if (rc == HCM_OK) {
        if (h->fb_seq > before + 1)
            h->fb_skipped += h->fb_seq - before - 1;
        v = decode_any(c->st, &c->fb, buf, len);
    } else if (rc != HCM_EAGAIN) {
        raise_hcm(c->st, rc, NULL);
    }
    PyMem_Free(buf);
    return v;
}

/* feedback(timeout=None): an iterator of this goal's feedback until it ends. */
static PyObject *cgoal_next_feedback(PyObject *op, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"timeout", NULL};
    CGoalObject *h = (CGoalObject *)op;
    PyObject *timeout = Py_None;
    int64_t tns;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "|O:next_feedback", kwlist, &timeout) ||
        !cgoal_usable(h) || timeout_ns(h->owner->st, timeout, &tns) < 0)
        return NULL;
    int64_t deadline = tns < 0 ? -1 : now_ns() + tns;
    for (;;) {
        PyObject *fb = cgoal_take_feedback(h);
        if (fb != NULL || PyErr_Occurred())
            return fb;
        hcm_goal_status st;
        if (hcm_action_client_status(h->owner->cli, h->g, &st) == HCM_OK &&
            hcm_goal_status_is_final(st)) {
            /* one more look: feedback published just before the end */
            fb = cgoal_take_feedback(h);
            if (fb != NULL || PyErr_Occurred())
                return fb;
            PyErr_SetNone(PyExc_StopIteration); /* the goal ended: no more feedback */
            return NULL;
        }
        int rc = cgoal_wait(h, deadline);
        if (rc < 0)
            return NULL;
        if (rc == HCM_ETIMEDOUT) {
            PyErr_Format(h->owner->st->WaitTimeoutError, "no feedback within %R s", timeout);
            return NULL;
        }
    }
}

static PyObject *cgoal_iternext(PyObject *op)
{
    PyObject *empty = PyTuple_New(0);
    PyObject *r = empty ? cgoal_next_feedback(op, empty, NULL) : NULL;
    Py_XDECREF(empty);
    if (r == NULL && PyErr_ExceptionMatches(PyExc_StopIteration))
        PyErr_Clear(); /* tp_iternext ends with NULL and no exception */
    return r;
}

static PyObject *cgoal_feedback(PyObject *op, PyObject *unused)
{
    (void)unused;
    return Py_NewRef(op); /* the handle iterates its feedback */
}

static PyObject *cgoal_result(PyObject *op, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"timeout", NULL};
    CGoalObject *h = (CGoalObject *)op;
    PyObject *timeout = Py_None;
    int64_t tns;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "|O:result", kwlist, &timeout))
        return NULL;
    if (h->result != NULL) /* known already: even after the client closed */
        return Py_NewRef(h->result);
    if (!cgoal_usable(h) || timeout_ns(h->owner->st, timeout, &tns) < 0)
        return NULL;
    AClientObject *c = h->owner;
    int64_t deadline = tns < 0 ? -1 : now_ns() + tns;
    if (h->result != NULL)
        return Py_NewRef(h->result);
    for (;;) {
        hcm_goal_status st;
        size_t len = 0;
        int rc;
        /* a buffer per call (several threads may wait on goals of one client);
         * timeout 0 never blocks, so the GIL stays held */
        unsigned char *buf = PyMem_Malloc(c->res.size ? (size_t)c->res.size : 1);
        if (buf == NULL)
            return PyErr_NoMemory();
        rc = hcm_action_client_result(c->cli, h->g, buf, (size_t)c->res.size, &len, &st, 0);
        if (rc == HCM_OK) {
            PyObject *v;
            /* rejected goals, and goals the library ended (cancelled before
             * they ran, aborted by a dead or closing server), carry no result */
            if (st == HCM_GOAL_REJECTED || (len == 0 && c->res.kind != PYK_STR &&
                                            c->res.kind != PYK_BYTES))
                v = Py_NewRef(Py_None);
            else
                v = decode_any(c->st, &c->res, buf, len);
            PyMem_Free(buf);
            if (v != NULL) {
                h->final = st;
                h->result = Py_NewRef(v);
            }
            return v;
        }
        PyMem_Free(buf);
        if (rc != HCM_ETIMEDOUT)
            return raise_hcm(c->st, rc, NULL);
        rc = cgoal_wait(h, deadline);
        if (rc < 0)
            return NULL;
        if (rc == HCM_ETIMEDOUT) {
            PyErr_Format(c->st->WaitTimeoutError, "goal %llu did not end within %R s",
                         (unsigned long long)h->g.id, timeout);
            return NULL;
        }
    }
}

static PyObject *cgoal_cancel(PyObject *op, PyObject *unused)
{
    CGoalObject *h = (CGoalObject *)op;
    (void)unused;
    if (h->final != HCM_GOAL_UNKNOWN) {
        PyErr_Format(h->owner->st->InvalidArgumentError, "goal %llu already ended %s",
                     (unsigned long long)h->g.id, hcm_goal_status_name(h->final));
        return NULL;
    }
    if (!cgoal_usable(h))
        return NULL;
    int rc = hcm_action_client_cancel(h->owner->cli, h->g);
    if (rc != HCM_OK)
        return raise_hcm(h->owner->st, rc, NULL);
    Py_RETURN_NONE;
}

static PyObject *cgoal_get_id(PyObject *op, void *c)
{
    (void)c;
    return PyLong_FromUnsignedLongLong(((CGoalObject *)op)->g.id);
}

static PyObject *cgoal_get_skipped(PyObject *op, void *c)
{
    (void)c;
    return PyLong_FromUnsignedLongLong(((CGoalObject *)op)->fb_skipped);
}

static void cgoal_dealloc(PyObject *op)
{
    CGoalObject *h = (CGoalObject *)op;
    PyTypeObject *tp = Py_TYPE(op);
    PyObject_GC_UnTrack(op);
    Py_CLEAR(h->result);
    Py_CLEAR(h->owner);
    PyObject_GC_Del(op);
    Py_DECREF(tp);
}

static int cgoal_traverse(PyObject *op, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(op));
    Py_VISIT(((CGoalObject *)op)->owner);
    Py_VISIT(((CGoalObject *)op)->result);
    return 0;
}

static PyObject *cgoal_repr(PyObject *op)
{
    CGoalObject *h = (CGoalObject *)op;
    hcm_goal_status st = h->final;
    if (st == HCM_GOAL_UNKNOWN && h->owner->cli != NULL)
        hcm_action_client_status(h->owner->cli, h->g, &st);
    return PyUnicode_FromFormat("<shm_action.ClientGoalHandle id=%llu %s>",
                                (unsigned long long)h->g.id, hcm_goal_status_name(st));
}

static PyMethodDef cgoal_methods[] = {
    {"feedback", cgoal_feedback, METH_NOARGS,
     "feedback()\n--\n\nAn iterator over this goal's feedback (newest first if you read "
     "slower than it comes; .feedback_skipped counts the rest), ending when the goal ends."},
    {"next_feedback", (PyCFunction)(void (*)(void))cgoal_next_feedback,
     METH_VARARGS | METH_KEYWORDS,
     "next_feedback(timeout=None)\n--\n\nThe next feedback; StopIteration once the goal ended, "
     "WaitTimeoutError on timeout."},
    {"result", (PyCFunction)(void (*)(void))cgoal_result, METH_VARARGS | METH_KEYWORDS,
     "result(timeout=None)\n--\n\nWaits for the goal to end and returns its result (None if "
     "it was rejected); .status tells how it ended. PeerDeadError if the server died first."},
    {"cancel", cgoal_cancel, METH_NOARGS,
     "cancel()\n--\n\nAsks to cancel: a pending goal ends canceled at once, a running one "
     "becomes canceling and the server decides. InvalidArgumentError if it already ended."},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef cgoal_getset[] = {
    {"id", cgoal_get_id, NULL, "The goal id.", NULL},
    {"status", cgoal_get_status, NULL,
     "'pending', 'accepted', 'executing', 'canceling', 'succeeded', 'canceled', 'aborted' or "
     "'rejected'.",
     NULL},
    {"feedback_skipped", cgoal_get_skipped, NULL,
     "Feedback messages that were replaced before they were read.", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyType_Slot cgoal_slots[] = {
    {Py_tp_dealloc, cgoal_dealloc},
    {Py_tp_traverse, cgoal_traverse},
    {Py_tp_repr, cgoal_repr},
    {Py_tp_iter, cgoal_feedback},
    {Py_tp_iternext, cgoal_iternext},
    {Py_tp_methods, cgoal_methods},
    {Py_tp_getset, cgoal_getset},
    {Py_tp_doc, "A goal sent by ActionClient.send_goal(): status, feedback(), result(), cancel()."},
    {0, NULL},
};

static PyType_Spec cgoal_spec = {
    "shm_action.ClientGoalHandle", sizeof(CGoalObject), 0,
    Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_DISALLOW_INSTANTIATION, cgoal_slots,
};

/* ---- type tables ----------------------------------------------------------- */

static PyMethodDef publisher_methods[] = {
    {"publish", (PyCFunction)(void (*)(void))publisher_publish, METH_FASTCALL | METH_KEYWORDS,
     "publish(data)\n--\n\nPublishes a copy of data. A value of the wrong type raises "
     "TypeError and publishes nothing; a str/bytes value over max_size raises ValueError."},
    {"loan", (PyCFunction)(void (*)(void))publisher_loan, METH_VARARGS | METH_KEYWORDS,
     "loan(size=None)\n--\n\nZero copy: `with pub.loan() as buf:` fills the next slot in "
     "place (buf is a writable NumPy array for array topics, else a memoryview of `size` "
     "bytes); leaving the block publishes it, an exception discards it."},
    {"close", publisher_close, METH_NOARGS,
     "close()\n--\n\nDetaches. The topic keeps its last value for late subscribers."},
    {"__enter__", self_enter, METH_NOARGS, NULL},
    {"__exit__", publisher_exit, METH_VARARGS, NULL},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef publisher_getset[] = {
    {"name", publisher_get_name, NULL, "Topic name.", NULL},
    {"closed", publisher_get_closed, NULL, "True after close().", NULL},
    {"buffer_num", publisher_get_buffer_num, NULL, "Slots of the topic's ring (as created).",
     NULL},
    {"max_size", publisher_get_max_size, NULL, "Largest sample in bytes.", NULL},
    {"type", publisher_get_type, NULL, "The topic's type, as hcm names it.", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyType_Slot publisher_slots[] = {
    {Py_tp_new, publisher_new},
    {Py_tp_dealloc, publisher_dealloc},
    {Py_tp_traverse, publisher_traverse},
    {Py_tp_clear, publisher_clear},
    {Py_tp_repr, publisher_repr},
    {Py_tp_methods, publisher_methods},
    {Py_tp_getset, publisher_getset},
    {Py_tp_doc,
     "Publisher(name, default_value, buffer_num=3, *, max_size=None, mode=0o600, domain=None, "
     "type_name=None)\n--\n\n"
     "Publishes samples on a topic. The type comes from default_value: bool, int (int64), "
     "float (float64), str or bytes (up to max_size bytes, default 4096), or a NumPy array "
     "or scalar (its dtype and shape; a structured dtype is a struct named type_name). "
     "buffer_num is the number of ring slots (1..65536). mode is the permission of a new "
     "topic. domain defaults to $HCM_DOMAIN or '0'."},
    {0, NULL},
};

static PyType_Spec publisher_spec = {
    "shm_pub_sub.Publisher", sizeof(PublisherObject), 0,
    Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC, publisher_slots,
};

static PyMethodDef subscriber_methods[] = {
    {"subscribe", subscriber_subscribe, METH_NOARGS,
     "subscribe()\n--\n\nThe newest sample as (data, is_success), as in the original SHM "
     "library: is_success is True while that sample is younger than the expiry (default "
     "2 s); before any data it returns (default_value, False) at once."},
    {"latest", subscriber_latest, METH_NOARGS,
     "latest()\n--\n\nThe newest sample whatever its age, or None before any data."},
    {"receive", (PyCFunction)(void (*)(void))subscriber_receive, METH_VARARGS | METH_KEYWORDS,
     "receive(timeout=None)\n--\n\nThe next sample in publish order, waiting up to timeout "
     "seconds (None = forever). Raises TimeoutError (WaitTimeoutError) on timeout. Samples "
     "overwritten before they were received are counted in .lost."},
    {"wait", (PyCFunction)(void (*)(void))subscriber_wait, METH_VARARGS | METH_KEYWORDS,
     "wait(timeout=None)\n--\n\nTrue when receive() has a sample, False after timeout "
     "seconds."},
    {"view", (PyCFunction)(void (*)(void))subscriber_view, METH_VARARGS | METH_KEYWORDS,
     "view(timeout=None)\n--\n\nZero copy: `with sub.view() as v:` gives the next sample in "
     "place as v.data; leaving the block raises OverrunError if it was overwritten meanwhile."},
    {"close", subscriber_close, METH_NOARGS, "close()\n--\n\nDetaches."},
    {"__enter__", self_enter, METH_NOARGS, NULL},
    {"__exit__", subscriber_exit, METH_VARARGS, NULL},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef subscriber_getset[] = {
    {"name", subscriber_get_name, NULL, "Topic name.", NULL},
    {"closed", subscriber_get_closed, NULL, "True after close().", NULL},
    {"lost", subscriber_get_lost, NULL, "Samples receive() lost to overruns so far.", NULL},
    {"expiry", subscriber_get_expiry, NULL, "subscribe() freshness window in seconds (0 = none).",
     NULL},
    {"type", subscriber_get_type, NULL, "The expected type, as hcm names it.", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyType_Slot subscriber_slots[] = {
    {Py_tp_new, subscriber_new},
    {Py_tp_dealloc, subscriber_dealloc},
    {Py_tp_traverse, subscriber_traverse},
    {Py_tp_clear, subscriber_clear},
    {Py_tp_repr, subscriber_repr},
    {Py_tp_methods, subscriber_methods},
    {Py_tp_getset, subscriber_getset},
    {Py_tp_doc,
     "Subscriber(name, default_value, *, expiry=2.0, max_size=None, domain=None, "
     "type_name=None, spin=None)\n--\n\n"
     "Reads a topic. default_value sets the expected type (as for Publisher) and is what "
     "subscribe() returns before any data. expiry (seconds, 0 or None = never) is the "
     "freshness window of subscribe(). spin (seconds) is how long a wait busy-waits before "
     "sleeping (default 20 us; negative = poll until the timeout). The topic need not "
     "exist yet."},
    {0, NULL},
};

static PyType_Spec subscriber_spec = {
    "shm_pub_sub.Subscriber", sizeof(SubscriberObject), 0,
    Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC, subscriber_slots,
};

/* ---- module functions ---------------------------------------------------------- */

static PyObject *mod_unlink(PyObject *m, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"name", "domain", NULL};
    const char *name, *domain = NULL;
    hcm_state *st = state_of_module(m);
    int rc;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "s|z:unlink", kwlist, &name, &domain))
        return NULL;
    rc = hcm_topic_unlink(domain, name);
    if (rc != HCM_OK)
        return raise_hcm(st, rc, NULL);
    Py_RETURN_NONE;
}

static PyObject *info_dict(const hcm_topic_info *ti)
{
    char t[160];
    double age = -1.0;
    if (ti->last_publish_ns > 0) {
        age = (double)(now_ns() - ti->last_publish_ns) / 1e9;
    }
    return Py_BuildValue(
        "{s:s,s:s,s:s,s:I,s:K,s:I,s:I,s:I,s:K,s:d,s:K,s:K,s:I,s:I,s:s,s:I,s:K,s:K,s:O}", "name",
        ti->name,
        "domain", ti->domain, "type", hcm_type_format(&ti->type, t, sizeof t), "buffer_num",
        ti->slots, "max_size", (unsigned long long)ti->max_payload, "publishers", ti->publishers,
        "owners", ti->owners, "owners_alive", ti->owners_alive, "publish_count",
        (unsigned long long)ti->publish_count, "last_publish_age", age, "lock_steals",
        (unsigned long long)ti->lock_steals, "size", (unsigned long long)ti->size, "mode",
        ti->mode, "uid", ti->uid, "error", ti->error ? hcm_strerror(ti->error) : "",
        "subscribers", ti->subscribers, "max_lag", (unsigned long long)ti->max_lag, "lost",
        (unsigned long long)ti->lost, "stale", ti->stale ? Py_True : Py_False);
}

static PyObject *mod_topics(PyObject *m, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"domain", NULL};
    const char *domain = NULL;
    hcm_state *st = state_of_module(m);
    hcm_topic_info *infos = NULL;
    size_t n = 0;
    int rc;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "|z:topics", kwlist, &domain))
        return NULL;
    rc = hcm_topic_list(domain, &infos, &n);
    if (rc != HCM_OK)
        return raise_hcm(st, rc, NULL);
    PyObject *list = PyList_New((Py_ssize_t)n);
    for (size_t i = 0; list != NULL && i < n; i++) {
        PyObject *d = info_dict(&infos[i]);
        if (d == NULL) {
            Py_CLEAR(list);
            break;
        }
        PyList_SET_ITEM(list, (Py_ssize_t)i, d);
    }
    hcm_topic_list_free(infos);
    return list;
}

static PyObject *mod_reclaim(PyObject *m, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"domain", NULL};
    const char *domain = NULL;
    size_t count = 0;
    int rc;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "|z:reclaim", kwlist, &domain))
        return NULL;
    rc = hcm_topic_reclaim(domain, &count);
    if (rc != HCM_OK)
        return raise_hcm(state_of_module(m), rc, NULL);
    return PyLong_FromSize_t(count);
}

static PyObject *mod_type_info(PyObject *m, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"default_value", "max_size", "type_name", NULL};
    PyObject *def, *max_size = NULL, *res;
    const char *type_name = NULL;
    hcm_state *st = state_of_module(m);
    codec c;
    char t[160], code[512];
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "O|$Oz:type_info", kwlist, &def, &max_size,
                                     &type_name))
        return NULL;
    if (codec_init(st, &c, def, max_size, type_name) < 0) {
        wrap_builtin(st);
        return NULL;
    }
    const hcm_type *ty = &c.type;
    static const char *knames[] = {"NONE", "BOOL", "INT8", "INT16", "INT32", "INT64", "UINT8",
                                   "UINT16", "UINT32", "UINT64", "FLOAT32", "FLOAT64", "BYTES",
                                   "STRING", "ARRAY", "STRUCT"};
    if (ty->kind == HCM_TYPE_STRUCT) {
        snprintf(code, sizeof code, "hcm_type_struct(&t, \"%s\", \"%s\", %u);", ty->name,
                 ty->format, ty->elem_size);
    } else if (ty->kind == HCM_TYPE_ARRAY) {
        char dims[96] = "";
        size_t n = 0;
        for (uint32_t i = 0; i < ty->ndim; i++)
            n += (size_t)snprintf(dims + n, sizeof dims - n, "%s%u", i ? ", " : "", ty->shape[i]);
        if (ty->elem_kind == HCM_TYPE_STRUCT)
            snprintf(code, sizeof code,
                     "hcm_type e; hcm_type_struct(&e, \"%s\", \"%s\", %u); "
                     "hcm_type_array_of(&t, &e, %u, (uint32_t[]){%s});",
                     ty->name, ty->format, ty->elem_size, ty->ndim, dims);
        else
            snprintf(code, sizeof code, "hcm_type_array(&t, HCM_TYPE_%s, %u, (uint32_t[]){%s});",
                     knames[ty->elem_kind], ty->ndim, dims);
    } else {
        snprintf(code, sizeof code, "t = hcm_type_scalar(HCM_TYPE_%s);", knames[ty->kind]);
    }
    res = Py_BuildValue("{s:s,s:K,s:s,s:O}", "type", hcm_type_format(ty, t, sizeof t),
                        c.kind == PYK_STR || c.kind == PYK_BYTES ? "max_size" : "size",
                        (unsigned long long)c.size, "c", code, "fixed_size",
                        (c.kind == PYK_STR || c.kind == PYK_BYTES) ? Py_False : Py_True);
    codec_clear(&c);
    return res;
}

static PyObject *mod_unlink_service(PyObject *m, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"name", "domain", NULL};
    const char *name, *domain = NULL;
    int rc;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "s|z:unlink_service", kwlist, &name, &domain))
        return NULL;
    rc = hcm_service_unlink(domain, name);
    if (rc != HCM_OK)
        return raise_hcm(state_of_module(m), rc, NULL);
    Py_RETURN_NONE;
}

static PyObject *mod_unlink_action(PyObject *m, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"name", "domain", NULL};
    const char *name, *domain = NULL;
    int rc;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "s|z:unlink_action", kwlist, &name, &domain))
        return NULL;
    rc = hcm_action_unlink(domain, name);
    if (rc != HCM_OK)
        return raise_hcm(state_of_module(m), rc, NULL);
    Py_RETURN_NONE;
}

static PyMethodDef module_methods[] = {
    {"unlink_action", (PyCFunction)(void (*)(void))mod_unlink_action,
     METH_VARARGS | METH_KEYWORDS,
     "unlink_action(name, domain=None)\n--\n\nRemoves an action's segment."},
    {"unlink_service", (PyCFunction)(void (*)(void))mod_unlink_service,
     METH_VARARGS | METH_KEYWORDS,
     "unlink_service(name, domain=None)\n--\n\nRemoves a service's segment."},
    {"unlink", (PyCFunction)(void (*)(void))mod_unlink, METH_VARARGS | METH_KEYWORDS,
     "unlink(name, domain=None)\n--\n\nRemoves a topic's segment (attached peers notice and "
     "re-attach to a new one). TopicNotFoundError if it does not exist."},
    {"topics", (PyCFunction)(void (*)(void))mod_topics, METH_VARARGS | METH_KEYWORDS,
     "topics(domain=None)\n--\n\nThe domain's topics, as dicts of their header facts."},
    {"reclaim", (PyCFunction)(void (*)(void))mod_reclaim, METH_VARARGS | METH_KEYWORDS,
     "reclaim(domain=None)\n--\n\nRemoves the domain's topics whose publishers are all dead; "
     "returns how many."},
    {"type_info", (PyCFunction)(void (*)(void))mod_type_info, METH_VARARGS | METH_KEYWORDS,
     "type_info(default_value, *, max_size=None, type_name=None)\n--\n\nThe hcm type a "
     "default value stands for, and the C code that declares the same type."},
    {NULL, NULL, 0, NULL},
};

/* ---- module init -------------------------------------------------------------- */

static int add_exception(PyObject *m, PyObject **slot, const char *name, PyObject *bases,
                         const char *doc)
{
    char full[96];
    snprintf(full, sizeof full, "shm_pub_sub.%s", name);
    *slot = PyErr_NewExceptionWithDoc(full, doc, bases, NULL);
    if (*slot == NULL)
        return -1;
    return PyModule_AddObjectRef(m, name, *slot);
}

static int add_sub_exception(PyObject *m, hcm_state *st, PyObject **slot, const char *name,
                             PyObject *builtin, const char *doc)
{
    PyObject *bases = builtin ? PyTuple_Pack(2, st->Error, builtin) : PyTuple_Pack(1, st->Error);
    int rc;
    if (bases == NULL)
        return -1;
    rc = add_exception(m, slot, name, bases, doc);
    Py_DECREF(bases);
    return rc;
}

static int add_type(PyObject *m, PyTypeObject **slot, PyType_Spec *spec, const char *name)
{
    *slot = (PyTypeObject *)PyType_FromModuleAndSpec(m, spec, NULL);
    if (*slot == NULL)
        return -1;
    if (name == NULL)
        return 0;
    return PyModule_AddObjectRef(m, name, (PyObject *)*slot);
}

static int module_exec(PyObject *m)
{
    hcm_state *st = state_of_module(m);
    if (add_exception(m, &st->Error, "Error", PyExc_Exception,
                      "Base class of every hcm error.") < 0 ||
        add_sub_exception(m, st, &st->TypeMismatchError, "TypeMismatchError", PyExc_TypeError,
                          "The topic's type differs (both types are named), or a value of the "
                          "wrong type was published.") < 0 ||
        add_sub_exception(m, st, &st->InvalidArgumentError, "InvalidArgumentError",
                          PyExc_ValueError,
                          "A bad name, buffer_num, size or other argument.") < 0 ||
        add_sub_exception(m, st, &st->PermissionDeniedError, "PermissionDeniedError",
                          PyExc_PermissionError,
                          "The segment belongs to another user or its mode forbids access.") <
            0 ||
        add_sub_exception(m, st, &st->TopicNotFoundError, "TopicNotFoundError",
                          PyExc_FileNotFoundError, "No such topic.") < 0 ||
        add_sub_exception(m, st, &st->WaitTimeoutError, "WaitTimeoutError", PyExc_TimeoutError,
                          "Nothing arrived within the timeout.") < 0 ||
        add_sub_exception(m, st, &st->CorruptSegmentError, "CorruptSegmentError", NULL,
                          "The segment is not a valid hcm segment.") < 0 ||
        add_sub_exception(m, st, &st->BusyError, "BusyError", NULL,
                          "A loan or view is active, or a peer holds the topic's lock.") < 0 ||
        add_sub_exception(m, st, &st->OverrunError, "OverrunError", NULL,
                          "A viewed sample was overwritten while it was being read.") < 0 ||
        add_sub_exception(m, st, &st->SystemCallError, "SystemCallError", PyExc_OSError,
                          "An operating-system call failed.") < 0 ||
        add_sub_exception(m, st, &st->PeerDeadError, "PeerDeadError", NULL,
                          "The peer (a service's server) died or closed before answering, "
                          "or there is no live server.") < 0 ||
        add_sub_exception(m, st, &st->RemoteError, "RemoteError", NULL,
                          "The server's callback raised: the message names its exception.") <
            0 ||
        add_sub_exception(m, st, &st->IntegerOverflowError, "IntegerOverflowError",
                          PyExc_OverflowError,
                          "An int outside the topic's range (int64 for Python int topics).") <
            0)
        return -1;
    if (add_type(m, &st->PublisherType, &publisher_spec, "Publisher") < 0 ||
        add_type(m, &st->SubscriberType, &subscriber_spec, "Subscriber") < 0 ||
        add_type(m, &st->LoanType, &loan_spec, "Loan") < 0 ||
        add_type(m, &st->ViewType, &view_spec, "View") < 0 ||
        add_type(m, &st->SlotBufferType, &slotbuf_spec, NULL) < 0 ||
        add_type(m, &st->ServiceServerType, &server_spec, "ServiceServer") < 0 ||
        add_type(m, &st->ServiceClientType, &client_spec, "ServiceClient") < 0 ||
        add_type(m, &st->ActionServerType, &aserver_spec, "ActionServer") < 0 ||
        add_type(m, &st->ActionClientType, &aclient_spec, "ActionClient") < 0 ||
        add_type(m, &st->ServerGoalType, &sgoal_spec, "ServerGoalHandle") < 0 ||
        add_type(m, &st->ClientGoalType, &cgoal_spec, "ClientGoalHandle") < 0)
        return -1;
    if (PyModule_AddStringConstant(m, "HCM_VERSION", HCM_VERSION_STRING) < 0 ||
        PyModule_AddIntConstant(m, "MAX_BUFFER_NUM", HCM_MAX_SLOTS) < 0 ||
        PyModule_AddIntConstant(m, "DEFAULT_MAX_SIZE", HCM_DEFAULT_BYTES_MAX) < 0)
        return -1;
    return 0;
}

static int module_traverse(PyObject *m, visitproc visit, void *arg)
{
    hcm_state *st = state_of_module(m);
    Py_VISIT(st->Error);
    Py_VISIT(st->TypeMismatchError);
    Py_VISIT(st->InvalidArgumentError);
    Py_VISIT(st->PermissionDeniedError);
    Py_VISIT(st->TopicNotFoundError);
    Py_VISIT(st->WaitTimeoutError);
    Py_VISIT(st->CorruptSegmentError);
    Py_VISIT(st->BusyError);
    Py_VISIT(st->OverrunError);
    Py_VISIT(st->SystemCallError);
    Py_VISIT(st->IntegerOverflowError);
    Py_VISIT(st->PublisherType);
    Py_VISIT(st->SubscriberType);
    Py_VISIT(st->LoanType);
    Py_VISIT(st->ViewType);
    Py_VISIT(st->SlotBufferType);
    Py_VISIT(st->PeerDeadError);
    Py_VISIT(st->RemoteError);
    Py_VISIT(st->ServiceServerType);
    Py_VISIT(st->ServiceClientType);
    Py_VISIT(st->ActionServerType);
    Py_VISIT(st->ActionClientType);
    Py_VISIT(st->ServerGoalType);
    Py_VISIT(st->ClientGoalType);
    Py_VISIT(st->numpy);
    Py_VISIT(st->np_ndarray);
    Py_VISIT(st->np_generic);
    return 0;
}

static int module_clear(PyObject *m)
{
    hcm_state *st = state_of_module(m);
    Py_CLEAR(st->Error);
    Py_CLEAR(st->TypeMismatchError);
    Py_CLEAR(st->InvalidArgumentError);
    Py_CLEAR(st->PermissionDeniedError);
    Py_CLEAR(st->TopicNotFoundError);
    Py_CLEAR(st->WaitTimeoutError);
    Py_CLEAR(st->CorruptSegmentError);
    Py_CLEAR(st->BusyError);
    Py_CLEAR(st->OverrunError);
    Py_CLEAR(st->SystemCallError);
    Py_CLEAR(st->IntegerOverflowError);
    Py_CLEAR(st->PublisherType);
    Py_CLEAR(st->SubscriberType);
    Py_CLEAR(st->LoanType);
    Py_CLEAR(st->ViewType);
    Py_CLEAR(st->SlotBufferType);
    Py_CLEAR(st->PeerDeadError);
    Py_CLEAR(st->RemoteError);
    Py_CLEAR(st->ServiceServerType);
    Py_CLEAR(st->ServiceClientType);
    Py_CLEAR(st->ActionServerType);
    Py_CLEAR(st->ActionClientType);
    Py_CLEAR(st->ServerGoalType);
    Py_CLEAR(st->ClientGoalType);
    Py_CLEAR(st->numpy);
    Py_CLEAR(st->np_ndarray);
    Py_CLEAR(st->np_generic);
    return 0;
}

static void module_free(void *m)
{
    module_clear((PyObject *)m);
}

static PyModuleDef_Slot module_slots[] = {
    {Py_mod_exec, module_exec},
    {0, NULL},
};

static struct PyModuleDef hcm_module = {
    PyModuleDef_HEAD_INIT,
    "hcm._hcm",
    "hcm: topics over POSIX shared memory (the C extension behind shm_pub_sub).",
    sizeof(hcm_state),
    module_methods,
    module_slots,
    module_traverse,
    module_clear,
    module_free,
};

PyMODINIT_FUNC PyInit__hcm(void)
{
    return PyModuleDef_Init(&hcm_module);
}
