/* tensor.c: TensorProto <-> OxTensor (see tensor.h). */
#include "tensor.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "files.h"

long oxt_count(int rank, const int64_t *dims)
{
    long n = 1;
    for (int k = 0; k < rank; k++) {
        if (dims[k] < 0 || dims[k] > OXT_MAX_ELEMS) return -1;
        if (dims[k] && n > OXT_MAX_ELEMS / dims[k]) return -1;
        n *= (long)dims[k];
    }
    return n;
}

OxTensor *oxt_new(Arena *a, OxtKind kind, int rank, const int64_t *dims)
{
    if (rank < 0 || rank > OXT_MAX_RANK) return NULL;
    long n = oxt_count(rank, dims);
    if (n < 0) return NULL;
    OxTensor *t = arena_alloc(a, sizeof *t);
    t->kind = kind;
    t->rank = rank;
    if (rank) memcpy(t->dims, dims, sizeof(int64_t) * (size_t)rank);
    t->n = n;
    if (kind == OXT_FLOAT) t->f = arena_alloc(a, sizeof(float) * (size_t)(n ? n : 1));
    else t->i = arena_alloc(a, sizeof(int64_t) * (size_t)(n ? n : 1));
    return t;
}

static float half_to_float(uint32_t h)
{
    uint32_t sign = (h >> 15) & 1, e = (h >> 10) & 31, m = h & 1023;
    float v;
    if (e == 0) v = ldexpf((float)m, -24);
    else if (e == 31) v = m ? NAN : INFINITY;
    else v = ldexpf((float)(m | 1024), (int)e - 25);
    return sign ? -v : v;
}

static float bfloat_to_float(uint32_t b)
{
    uint32_t u = (b & 0xffffu) << 16;
    float v;
    memcpy(&v, &u, sizeof v);
    return v;
}

/* Bytes per element in raw_data and whether the type is a float type;
 * 0 for types layerc cannot take. */
static int elem_bytes(int type, int *is_float)
{
    *is_float = 0;
    switch (type) {
    case ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT: *is_float = 1; return 4;
    case ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE: *is_float = 1; return 8;
    case ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT16:
    case ONNX__TENSOR_PROTO__DATA_TYPE__BFLOAT16: *is_float = 1; return 2;
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT8:
    case ONNX__TENSOR_PROTO__DATA_TYPE__UINT8:
    case ONNX__TENSOR_PROTO__DATA_TYPE__BOOL: return 1;
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT16:
    case ONNX__TENSOR_PROTO__DATA_TYPE__UINT16: return 2;
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT32:
    case ONNX__TENSOR_PROTO__DATA_TYPE__UINT32: return 4;
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT64:
    case ONNX__TENSOR_PROTO__DATA_TYPE__UINT64: return 8;
    default: return 0;
    }
}

/* One element from raw little-endian bytes. */
static double raw_elem(int type, const uint8_t *p)
{
    uint64_t u;
    switch (type) {
    case ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT: {
        uint32_t w = (uint32_t)lc_get_le(p, 4);
        float f;
        memcpy(&f, &w, sizeof f);
        return f;
    }
    case ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE: {
        double d;
        u = lc_get_le(p, 8);
        memcpy(&d, &u, sizeof d);
        return d;
    }
    case ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT16: return half_to_float((uint32_t)lc_get_le(p, 2));
    case ONNX__TENSOR_PROTO__DATA_TYPE__BFLOAT16: return bfloat_to_float((uint32_t)lc_get_le(p, 2));
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT8: return (int8_t)p[0];
    case ONNX__TENSOR_PROTO__DATA_TYPE__UINT8:
    case ONNX__TENSOR_PROTO__DATA_TYPE__BOOL: return p[0];
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT16: return (int16_t)lc_get_le(p, 2);
    case ONNX__TENSOR_PROTO__DATA_TYPE__UINT16: return (double)lc_get_le(p, 2);
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT32: return (int32_t)lc_get_le(p, 4);
    case ONNX__TENSOR_PROTO__DATA_TYPE__UINT32: return (double)lc_get_le(p, 4);
    default: return 0;
    }
}

static void put(OxTensor *t, long k, double v) {
    if (t->kind == OXT_FLOAT) t->f[k] = (float)v;
    else t->i[k] = (int64_t)v;
}

OxTensor *oxt_from_proto(Arena *a, const Onnx__TensorProto *p, char *err, size_t errlen)
{
    int type = p->has_data_type ? p->data_type : 0, is_float;
    int bytes = elem_bytes(type, &is_float);
    if (!bytes) {
        lc_fail(err, errlen, "its data type (%d) is not a number type layerc takes", type);
        return NULL;
    }
    if (p->has_data_location && p->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL) {
        lc_fail(err, errlen, "its data is in an external file, which layerc does not read "
                "(save the model with the weights inside it)");
        return NULL;
    }
    if (p->segment) {
        lc_fail(err, errlen, "it is a segment of a tensor, which layerc does not read");
        return NULL;
    }
    if (p->n_dims > OXT_MAX_RANK) {
        lc_fail(err, errlen, "its rank (%zu) is over %d", p->n_dims, OXT_MAX_RANK);
        return NULL;
    }
    long count = oxt_count((int)p->n_dims, p->dims);
    if (count < 0) {
        lc_fail(err, errlen, "its dimensions are negative or too large (over %ld elements)", OXT_MAX_ELEMS);
        return NULL;
    }
    /* the values the file holds, counted before anything is allocated for the dims */
    size_t n = (size_t)count, have;
    int raw = p->has_raw_data && p->raw_data.len;
    if (raw) have = p->raw_data.len % (size_t)bytes ? (size_t)-1 : p->raw_data.len / (size_t)bytes;
    else switch (type) {
    case ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT: have = p->n_float_data; break;
    case ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE: have = p->n_double_data; break;
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT64: have = p->n_int64_data; break;
    case ONNX__TENSOR_PROTO__DATA_TYPE__UINT32:
    case ONNX__TENSOR_PROTO__DATA_TYPE__UINT64: have = p->n_uint64_data; break;
    default: have = p->n_int32_data; break;   /* float16, bfloat16, the small integers, bool */
    }
    if (have != n) {
        char dims[96];
        OxTensor shape = { OXT_FLOAT, (int)p->n_dims, { 0 }, count, NULL, NULL };
        if (p->n_dims) memcpy(shape.dims, p->dims, sizeof(int64_t) * p->n_dims);
        if (have == (size_t)-1) lc_fail(err, errlen, "its raw data (%zu bytes) is not whole values", p->raw_data.len);
        else lc_fail(err, errlen, "it holds %zu values but its dimensions %s need %zu", have,
                     oxt_dims_str(&shape, dims, sizeof dims), n);
        return NULL;
    }
    OxTensor *t = oxt_new(a, is_float ? OXT_FLOAT : OXT_INT, (int)p->n_dims, p->dims);
    if (raw) {
        if (type == ONNX__TENSOR_PROTO__DATA_TYPE__INT64 || type == ONNX__TENSOR_PROTO__DATA_TYPE__UINT64) {
            for (size_t k = 0; k < n; k++) t->i[k] = (int64_t)lc_get_le(p->raw_data.data + 8 * k, 8);
        } else {
            for (size_t k = 0; k < n; k++) put(t, (long)k, raw_elem(type, p->raw_data.data + (size_t)bytes * k));
        }
        return t;
    }
    switch (type) {
    case ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT:
        if (n) memcpy(t->f, p->float_data, sizeof(float) * n);
        break;
    case ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE:
        for (size_t k = 0; k < n; k++) t->f[k] = (float)p->double_data[k];
        break;
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT64:
        if (n) memcpy(t->i, p->int64_data, sizeof(int64_t) * n);
        break;
    case ONNX__TENSOR_PROTO__DATA_TYPE__UINT32:
    case ONNX__TENSOR_PROTO__DATA_TYPE__UINT64:
        for (size_t k = 0; k < n; k++) t->i[k] = (int64_t)p->uint64_data[k];
        break;
    case ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT16:
        for (size_t k = 0; k < n; k++) t->f[k] = half_to_float((uint32_t)p->int32_data[k]);
        break;
    case ONNX__TENSOR_PROTO__DATA_TYPE__BFLOAT16:
        for (size_t k = 0; k < n; k++) t->f[k] = bfloat_to_float((uint32_t)p->int32_data[k]);
        break;
    default:
        for (size_t k = 0; k < n; k++) t->i[k] = p->int32_data[k];
        break;
    }
    return t;
}

void oxt_to_proto(Arena *a, const OxTensor *t, const char *name, Onnx__TensorProto *out)
{
    onnx__tensor_proto__init(out);
    out->name = arena_strdup(a, name);
    out->n_dims = (size_t)t->rank;
    out->dims = arena_alloc(a, sizeof(int64_t) * (size_t)(t->rank ? t->rank : 1));
    if (t->rank) memcpy(out->dims, t->dims, sizeof(int64_t) * (size_t)t->rank);
    out->has_data_type = 1;
    /* raw little-endian bytes: what torch.onnx.export writes, and compact */
    int wide = t->kind == OXT_INT;
    size_t bytes = (size_t)t->n * (wide ? 8 : 4);
    uint8_t *raw = arena_alloc(a, bytes ? bytes : 1);
    for (long k = 0; k < t->n; k++) {
        if (wide) lc_put_le(raw + 8 * k, (uint64_t)t->i[k], 8);
        else {
            uint32_t w;
            memcpy(&w, &t->f[k], sizeof w);
            lc_put_le(raw + 4 * k, w, 4);
        }
    }
    out->data_type = wide ? ONNX__TENSOR_PROTO__DATA_TYPE__INT64 : ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
    out->has_raw_data = 1;
    out->raw_data.len = bytes;
    out->raw_data.data = raw;
}

double oxt_get(const OxTensor *t, long k)
{
    return t->kind == OXT_FLOAT ? (double)t->f[k] : (double)t->i[k];
}

const char *oxt_dims_str(const OxTensor *t, char *buf, size_t len)
{
    size_t k = (size_t)snprintf(buf, len, "[");
    for (int d = 0; d < t->rank && k < len; d++)
        k += (size_t)snprintf(buf + k, len - k, "%s%lld", d ? ", " : "", (long long)t->dims[d]);
    if (k < len) snprintf(buf + k, len - k, "]");
    return buf;
}
