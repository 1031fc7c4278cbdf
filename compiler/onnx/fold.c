/* fold.c: constant folding of shape arithmetic (see fold.h).
 *
 * One function an op, each evaluating ONNX's definition on known tensors
 * (numpy broadcasting, negative axes and indices counted from the end).
 */
#include "fold.h"

#include <math.h>
#include <string.h>

typedef int (*FoldFn)(ImpCtx *cx);

static int refused(ImpCtx *cx) { return cx->failed ? -1 : imp_refuse(cx, "cannot be folded") - 1; }

static const OxTensor *in_t(ImpCtx *cx, int k)
{
    ImpValue *v = imp_in(cx, k);
    return v && v->kind == IMP_CONST ? v->t : NULL;
}

/* A float as a whole number, saturating (ONNX leaves out-of-range casts undefined; C too). */
static int64_t to_int(double v)
{
    if (v != v) return 0;
    if (v >= 9.2e18) return INT64_MAX;
    if (v <= -9.2e18) return INT64_MIN + 1;
    return (int64_t)v;
}

static int has_batch(const OxTensor *t)
{
    if (t->kind != OXT_INT) return 0;
    for (long k = 0; k < t->n; k++)
        if (t->i[k] == OXT_BATCH) return 1;
    return 0;
}

/* Folded results are shapes and small constants: 2^24 elements is plenty,
 * and keeps a crafted ConstantOfShape from asking for gigabytes. */
#define FOLD_MAX_ELEMS (1L << 24)

static OxTensor *new_t(ImpCtx *cx, OxtKind kind, int rank, const int64_t *dims)
{
    long n = oxt_count(rank, dims);
    OxTensor *t = n >= 0 && n <= FOLD_MAX_ELEMS ? oxt_new(cx->a, kind, rank, dims) : NULL;
    if (!t) imp_refuse(cx, "its result would be too large (over %ld elements)", FOLD_MAX_ELEMS);
    return t;
}

static int norm_axis(ImpCtx *cx, int64_t axis, int rank, int64_t *out)
{
    if (axis < -rank || axis >= rank) {
        imp_refuse(cx, "axis %lld is out of range for rank %d", (long long)axis, rank);
        return 0;
    }
    *out = axis < 0 ? axis + rank : axis;
    return 1;
}

/* ints from a constant input (axes, shapes, ...) */
static int int_list(ImpCtx *cx, const OxTensor *t, int64_t *out, int max, int *n, const char *what)
{
    if (t->rank > 1 || t->n > max) {
        imp_refuse(cx, "its %s must be a list of at most %d integers", what, max);
        return 0;
    }
    for (long k = 0; k < t->n; k++) {
        double v = oxt_get(t, k);
        if (t->kind == OXT_INT && t->i[k] == OXT_BATCH) {
            imp_refuse(cx, "its %s depends on the batch size", what);
            return 0;
        }
        out[k] = t->kind == OXT_INT ? t->i[k] : to_int(v);
    }
    *n = (int)t->n;
    return 1;
}

static void copy_elem(OxTensor *d, long i, const OxTensor *s, long j)
{
    if (d->kind == OXT_FLOAT) d->f[i] = (float)oxt_get(s, j);
    else d->i[i] = s->kind == OXT_INT ? s->i[j] : to_int(s->f[j]);
}

static void strides(int rank, const int64_t *dims, long *st)
{
    long s = 1;
    for (int k = rank - 1; k >= 0; k--) st[k] = s, s *= (long)dims[k];
}

/* ---- the ops ---- */

static int fold_constant(ImpCtx *cx)
{
    if (!imp_attr_check(cx, "value,value_float,value_floats,value_int,value_ints")) return -1;
    const Onnx__TensorProto *tp = imp_attr_tensor(cx, "value");
    OxTensor *t = NULL;
    char err[512];
    if (tp) {
        if (!(t = oxt_from_proto(cx->a, tp, err, sizeof err))) return imp_refuse(cx, "its value: %s", err) - 1;
    } else {
        int64_t iv[64], n = 0;
        double f;
        int ni;
        if (imp_attr_float(cx, "value_float", 0, &f) == 1) {
            if (!(t = new_t(cx, OXT_FLOAT, 0, NULL))) return -1;
            t->f[0] = (float)f;
        } else if (imp_attr_int(cx, "value_int", 0, &n) == 1) {
            if (!(t = new_t(cx, OXT_INT, 0, NULL))) return -1;
            t->i[0] = n;
        } else if (imp_attr_ints(cx, "value_ints", iv, 64, &ni) == 1) {
            int64_t d = ni;
            if (!(t = new_t(cx, OXT_INT, 1, &d))) return -1;
            memcpy(t->i, iv, sizeof(int64_t) * (size_t)ni);
        } else if (imp_attr_has(cx, "value_floats")) {
            const Onnx__AttributeProto *a = NULL;
            for (size_t i = 0; i < cx->n->n_attribute; i++)
                if (!strcmp(oxg_s(cx->n->attribute[i]->name), "value_floats")) a = cx->n->attribute[i];
            int64_t d = (int64_t)a->n_floats;
            if (!(t = new_t(cx, OXT_FLOAT, 1, &d))) return -1;
            for (size_t k = 0; k < a->n_floats; k++) t->f[k] = a->floats[k];
        }
    }
    if (cx->failed) return -1;
    if (!t) return imp_refuse(cx, "it has no value layerc can read") - 1;
    imp_out_const(cx, 0, t);
    return 1;
}

static int fold_identity(ImpCtx *cx)
{
    imp_out_const(cx, 0, (OxTensor *)in_t(cx, 0));
    return 1;
}

static int fold_cast(ImpCtx *cx)
{
    int64_t to;
    if (!imp_attr_check(cx, "to,saturate") || imp_attr_int(cx, "to", 1, &to) < 0) return -1;
    const OxTensor *s = in_t(cx, 0);
    int is_float = to == 1 || to == 10 || to == 11 || to == 16;
    if (is_float && has_batch(s)) return imp_refuse(cx, "it turns the batch size into a float") - 1;
    OxTensor *t = new_t(cx, is_float ? OXT_FLOAT : OXT_INT, s->rank, s->dims);
    if (!t) return -1;
    for (long k = 0; k < s->n; k++) copy_elem(t, k, s, k);
    if (to == 9)   /* bool */
        for (long k = 0; k < s->n; k++) t->i[k] = t->i[k] != 0;
    imp_out_const(cx, 0, t);
    return 1;
}

/* Shape(x): of a layer's value, the batch then its ONNX shape. */
static int fold_shape(ImpCtx *cx)
{
    int64_t start, end, dims[OXT_MAX_RANK + 1];
    ImpValue *v = imp_in(cx, 0);
    int rank;
    if (!imp_attr_check(cx, "start,end")) return -1;
    if (v->kind == IMP_LAYER) {
        rank = v->shape.rank + 1;
        if (rank > OXT_MAX_RANK) return imp_refuse(cx, "rank over %d", OXT_MAX_RANK) - 1;
        dims[0] = OXT_BATCH;   /* even when the file fixes it: the .lyr does not */
        for (int k = 0; k < v->shape.rank; k++) dims[k + 1] = v->shape.dims[k];
    } else {
        rank = v->t->rank;
        memcpy(dims, v->t->dims, sizeof(int64_t) * (size_t)rank);
    }
    if (imp_attr_int(cx, "start", 0, &start) < 0 || imp_attr_int(cx, "end", rank, &end) < 0) return -1;
    if (start < 0) start += rank;
    if (end < 0) end += rank;
    start = start < 0 ? 0 : start > rank ? rank : start;
    end = end < start ? start : end > rank ? rank : end;
    int64_t n = end - start;
    OxTensor *t = new_t(cx, OXT_INT, 1, &n);
    if (!t) return -1;
    for (int64_t k = 0; k < n; k++) t->i[k] = dims[start + k];
    imp_out_const(cx, 0, t);
    return 1;
}

static int fold_gather(ImpCtx *cx)
{
    int64_t axis;
    const OxTensor *d = in_t(cx, 0), *ix = in_t(cx, 1);
    if (!imp_attr_check(cx, "axis") || imp_attr_int(cx, "axis", 0, &axis) < 0) return -1;
    if (d->rank == 0) return imp_refuse(cx, "it gathers from a scalar") - 1;
    if (!norm_axis(cx, axis, d->rank, &axis)) return -1;
    if (ix->kind != OXT_INT) return imp_refuse(cx, "its indices are not integers") - 1;
    int rank = d->rank - 1 + ix->rank;
    if (rank > OXT_MAX_RANK) return imp_refuse(cx, "its result has a rank over %d", OXT_MAX_RANK) - 1;
    int64_t dims[OXT_MAX_RANK];
    int r = 0;
    for (int k = 0; k < axis; k++) dims[r++] = d->dims[k];
    for (int k = 0; k < ix->rank; k++) dims[r++] = ix->dims[k];
    for (int k = (int)axis + 1; k < d->rank; k++) dims[r++] = d->dims[k];
    OxTensor *t = new_t(cx, d->kind, rank, dims);
    if (!t) return -1;
    long outer = 1, inner = 1, na = (long)d->dims[axis];
    for (int k = 0; k < axis; k++) outer *= (long)d->dims[k];
    for (int k = (int)axis + 1; k < d->rank; k++) inner *= (long)d->dims[k];
    long o = 0;
    for (long a = 0; a < outer; a++)
        for (long j = 0; j < ix->n; j++) {
            int64_t i = ix->i[j];
            if (i < 0) i += na;
            if (i < 0 || i >= na) return imp_refuse(cx, "index %lld is out of range", (long long)ix->i[j]) - 1;
            for (long b = 0; b < inner; b++) copy_elem(t, o++, d, (a * na + (long)i) * inner + b);
        }
    imp_out_const(cx, 0, t);
    return 1;
}

/* Unsqueeze and Squeeze: axes from the attribute (opset < 13) or input 1. */
static int get_axes(ImpCtx *cx, int64_t *axes, int *n, int *given)
{
    *given = 0;
    if (imp_opset(cx) < 13) {
        int r = imp_attr_ints(cx, "axes", axes, OXT_MAX_RANK, n);
        if (r < 0) return 0;
        *given = r == 1;
        return 1;
    }
    const OxTensor *t = in_t(cx, 1);
    if (!t) return 1;
    *given = 1;
    return int_list(cx, t, axes, OXT_MAX_RANK, n, "axes");
}

static int fold_unsqueeze(ImpCtx *cx)
{
    int64_t axes[OXT_MAX_RANK], dims[OXT_MAX_RANK];
    int n, given;
    const OxTensor *s = in_t(cx, 0);
    if (!imp_attr_check(cx, "axes") || !get_axes(cx, axes, &n, &given)) return -1;
    int rank = s->rank + n;
    if (!given || rank > OXT_MAX_RANK) return imp_refuse(cx, "needs axes, and a result of rank at most %d", OXT_MAX_RANK) - 1;
    unsigned char is_new[OXT_MAX_RANK] = { 0 };
    for (int k = 0; k < n; k++) {
        int64_t a;
        if (!norm_axis(cx, axes[k], rank, &a)) return -1;
        if (is_new[a]) return imp_refuse(cx, "axis %lld is given twice", (long long)axes[k]) - 1;
        is_new[a] = 1;
    }
    for (int k = 0, j = 0; k < rank; k++) dims[k] = is_new[k] ? 1 : s->dims[j++];
    OxTensor *t = new_t(cx, s->kind, rank, dims);
    if (!t) return -1;
    for (long k = 0; k < s->n; k++) copy_elem(t, k, s, k);
    imp_out_const(cx, 0, t);
    return 1;
}

static int fold_squeeze(ImpCtx *cx)
{
    int64_t axes[OXT_MAX_RANK], dims[OXT_MAX_RANK];
    int n, given;
    const OxTensor *s = in_t(cx, 0);
    if (!imp_attr_check(cx, "axes") || !get_axes(cx, axes, &n, &given)) return -1;
    unsigned char drop[OXT_MAX_RANK] = { 0 };
    for (int k = 0; k < n; k++) {
        int64_t a;
        if (!norm_axis(cx, axes[k], s->rank, &a)) return -1;
        if (s->dims[a] != 1) return imp_refuse(cx, "axis %lld has size %lld, not 1", (long long)axes[k],
                                               (long long)s->dims[a]) - 1;
        drop[a] = 1;
    }
    int rank = 0;
    for (int k = 0; k < s->rank; k++)
        if (!(given ? drop[k] : s->dims[k] == 1)) dims[rank++] = s->dims[k];
    OxTensor *t = new_t(cx, s->kind, rank, dims);
    if (!t) return -1;
    for (long k = 0; k < s->n; k++) copy_elem(t, k, s, k);
    imp_out_const(cx, 0, t);
    return 1;
}

static int fold_concat(ImpCtx *cx)
{
    int64_t axis, dims[OXT_MAX_RANK];
    const OxTensor *first = in_t(cx, 0);
    if (!imp_attr_check(cx, "axis") || imp_attr_int(cx, "axis", 0, &axis) < 0) return -1;
    if (!first || first->rank == 0) return imp_refuse(cx, "it concatenates scalars") - 1;
    if (!norm_axis(cx, axis, first->rank, &axis)) return -1;
    memcpy(dims, first->dims, sizeof(int64_t) * (size_t)first->rank);
    dims[axis] = 0;
    OxtKind kind = OXT_INT;
    for (int k = 0; k < imp_nin(cx); k++) {
        const OxTensor *t = in_t(cx, k);
        if (!t) continue;
        if (t->rank != first->rank) return imp_refuse(cx, "its inputs have different ranks") - 1;
        for (int d = 0; d < t->rank; d++)
            if (d != axis && t->dims[d] != first->dims[d])
                return imp_refuse(cx, "its inputs' shapes do not match") - 1;
        dims[axis] += t->dims[axis];
        if (t->kind == OXT_FLOAT) kind = OXT_FLOAT;
    }
    OxTensor *t = new_t(cx, kind, first->rank, dims);
    if (!t) return -1;
    long outer = 1, inner = 1, o = 0;
    for (int k = 0; k < axis; k++) outer *= (long)dims[k];
    for (int k = (int)axis + 1; k < first->rank; k++) inner *= (long)dims[k];
    for (long a = 0; a < outer; a++)
        for (int k = 0; k < imp_nin(cx); k++) {
            const OxTensor *s = in_t(cx, k);
            if (!s) continue;
            long chunk = (long)s->dims[axis] * inner;
            for (long b = 0; b < chunk; b++) copy_elem(t, o++, s, a * chunk + b);
        }
    imp_out_const(cx, 0, t);
    return 1;
}

static int fold_slice(ImpCtx *cx)
{
    int64_t starts[OXT_MAX_RANK], ends[OXT_MAX_RANK], axes[OXT_MAX_RANK], steps[OXT_MAX_RANK];
    int ns, ne, na = 0, nst = 0;
    const OxTensor *s = in_t(cx, 0);
    if (!imp_attr_check(cx, "starts,ends,axes")) return -1;
    if (imp_opset(cx) < 10) {
        if (imp_attr_ints(cx, "starts", starts, OXT_MAX_RANK, &ns) != 1 ||
            imp_attr_ints(cx, "ends", ends, OXT_MAX_RANK, &ne) != 1 ||
            imp_attr_ints(cx, "axes", axes, OXT_MAX_RANK, &na) < 0)
            return refused(cx);
    } else {
        const OxTensor *a = in_t(cx, 3), *st = in_t(cx, 4);
        if (!in_t(cx, 1) || !in_t(cx, 2) || !int_list(cx, in_t(cx, 1), starts, OXT_MAX_RANK, &ns, "starts") ||
            !int_list(cx, in_t(cx, 2), ends, OXT_MAX_RANK, &ne, "ends") ||
            (a && !int_list(cx, a, axes, OXT_MAX_RANK, &na, "axes")) ||
            (st && !int_list(cx, st, steps, OXT_MAX_RANK, &nst, "steps")))
            return refused(cx);
    }
    if (ns != ne || (na && na != ns) || (nst && nst != ns)) return imp_refuse(cx, "its starts, ends, axes and steps differ in length") - 1;
    int64_t lo[OXT_MAX_RANK], step[OXT_MAX_RANK], dims[OXT_MAX_RANK];
    for (int d = 0; d < s->rank; d++) lo[d] = 0, step[d] = 1, dims[d] = s->dims[d];
    for (int k = 0; k < ns; k++) {
        int64_t ax = na ? axes[k] : k, st = nst ? steps[k] : 1, dim;
        if (!norm_axis(cx, ax, s->rank, &ax)) return -1;
        if (st == 0) return imp_refuse(cx, "a step is 0") - 1;
        dim = s->dims[ax];
        /* a step past the whole axis takes one element, as the axis's length + 1 does */
        if (st > dim) st = dim + 1;
        if (st < -dim) st = -dim - 1;
        int64_t b = starts[k], e = ends[k];
        if (b < 0) b += dim;
        if (e < 0 && e > INT64_MIN / 2) e += dim;
        if (st > 0) {
            b = b < 0 ? 0 : b > dim ? dim : b;
            e = e < 0 ? 0 : e > dim ? dim : e;
            dims[ax] = e > b ? (e - b + st - 1) / st : 0;
        } else {
            b = b < 0 ? -1 : b > dim - 1 ? dim - 1 : b;
            e = e < -1 ? -1 : e > dim - 1 ? dim - 1 : e;
            dims[ax] = b > e ? (b - e - st - 1) / -st : 0;
        }
        lo[ax] = b, step[ax] = st;
    }
    OxTensor *t = new_t(cx, s->kind, s->rank, dims);
    if (!t) return -1;
    long st_src[OXT_MAX_RANK], st_dst[OXT_MAX_RANK];
    strides(s->rank, s->dims, st_src);
    strides(s->rank, dims, st_dst);
    for (long o = 0; o < t->n; o++) {
        long src = 0, rest = o;
        for (int d = 0; d < s->rank; d++) {
            long i = rest / st_dst[d];
            rest %= st_dst[d];
            src += (long)(lo[d] + i * step[d]) * st_src[d];
        }
        copy_elem(t, o, s, src);
    }
    imp_out_const(cx, 0, t);
    return 1;
}

static int fold_reshape(ImpCtx *cx)
{
    int64_t want[OXT_MAX_RANK], allowzero;
    int n;
    const OxTensor *s = in_t(cx, 0);
    if (!imp_attr_check(cx, "allowzero") || imp_attr_int(cx, "allowzero", 0, &allowzero) < 0 ||
        !in_t(cx, 1) || !int_list(cx, in_t(cx, 1), want, OXT_MAX_RANK, &n, "shape"))
        return refused(cx);
    long known = 1;
    int infer = -1;
    for (int k = 0; k < n; k++) {
        if (want[k] == 0 && !allowzero) {
            if (k >= s->rank) return imp_refuse(cx, "it copies dimension %d, which its input lacks", k) - 1;
            want[k] = s->dims[k];
        }
        if (want[k] == -1) {
            if (infer >= 0) return imp_refuse(cx, "its shape has two -1") - 1;
            infer = k;
        } else if (want[k] < 0) return imp_refuse(cx, "its shape has %lld", (long long)want[k]) - 1;
        else known *= (long)want[k] ? (long)want[k] : 1;
    }
    if (infer >= 0) want[infer] = known ? s->n / known : 0;
    if (oxt_count(n, want) != s->n) return imp_refuse(cx, "its shape does not hold the %ld elements", s->n) - 1;
    OxTensor *t = new_t(cx, s->kind, n, want);
    if (!t) return -1;
    for (long k = 0; k < s->n; k++) copy_elem(t, k, s, k);
    imp_out_const(cx, 0, t);
    return 1;
}

/* Add, Sub, Mul, Div with numpy broadcasting. */
static int fold_arith(ImpCtx *cx)
{
    const char *op = cx->n->op_type;
    const OxTensor *a = in_t(cx, 0), *b = in_t(cx, 1);
    if (!imp_attr_check(cx, "")) return -1;
    if (has_batch(a) || has_batch(b)) return imp_refuse(cx, "it computes with the batch size, which layerc does not know") - 1;
    int rank = a->rank > b->rank ? a->rank : b->rank;
    int64_t dims[OXT_MAX_RANK], da[OXT_MAX_RANK], db[OXT_MAX_RANK];
    for (int k = 0; k < rank; k++) {
        int ia = k - (rank - a->rank), ib = k - (rank - b->rank);
        da[k] = ia >= 0 ? a->dims[ia] : 1;
        db[k] = ib >= 0 ? b->dims[ib] : 1;
        if (da[k] != db[k] && da[k] != 1 && db[k] != 1) return imp_refuse(cx, "its inputs do not broadcast") - 1;
        dims[k] = da[k] == 1 ? db[k] : da[k];
    }
    OxtKind kind = a->kind == OXT_FLOAT || b->kind == OXT_FLOAT ? OXT_FLOAT : OXT_INT;
    OxTensor *t = new_t(cx, kind, rank, dims);
    if (!t) return -1;
    long st[OXT_MAX_RANK], sa[OXT_MAX_RANK], sb[OXT_MAX_RANK];
    strides(rank, dims, st);
    strides(rank, da, sa);
    strides(rank, db, sb);
    for (long o = 0; o < t->n; o++) {
        long ia = 0, ib = 0, rest = o;
        for (int d = 0; d < rank; d++) {
            long i = rest / st[d];
            rest %= st[d];
            if (da[d] > 1) ia += i * sa[d];
            if (db[d] > 1) ib += i * sb[d];
        }
        if (kind == OXT_INT) {
            int64_t x = a->i[ia], y = b->i[ib], r;
            int over;
            switch (op[0]) {
            case 'A': over = __builtin_add_overflow(x, y, &r); break;
            case 'S': over = __builtin_sub_overflow(x, y, &r); break;
            case 'M': over = __builtin_mul_overflow(x, y, &r); break;
            default:
                if (y == 0) return imp_refuse(cx, "it divides by zero") - 1;
                over = x == INT64_MIN && y == -1;
                r = over ? 0 : x / y;
            }
            if (over) return imp_refuse(cx, "its result overflows 64 bits") - 1;
            t->i[o] = r;
        } else {
            double x = oxt_get(a, ia), y = oxt_get(b, ib);
            t->f[o] = (float)(op[0] == 'A' ? x + y : op[0] == 'S' ? x - y : op[0] == 'M' ? x * y : x / y);
        }
    }
    imp_out_const(cx, 0, t);
    return 1;
}

static int fold_constant_of_shape(ImpCtx *cx)
{
    int64_t dims[OXT_MAX_RANK];
    int n;
    char err[256];
    if (!imp_attr_check(cx, "value") || !int_list(cx, in_t(cx, 0), dims, OXT_MAX_RANK, &n, "shape"))
        return refused(cx);
    const Onnx__TensorProto *tp = imp_attr_tensor(cx, "value");
    OxTensor *v = NULL;
    if (tp && !(v = oxt_from_proto(cx->a, tp, err, sizeof err))) return imp_refuse(cx, "its value: %s", err) - 1;
    if (v && v->n != 1) return imp_refuse(cx, "its value is not one number") - 1;
    OxTensor *t = new_t(cx, v ? v->kind : OXT_FLOAT, n, dims);
    if (!t) return -1;
    for (long k = 0; k < t->n; k++) {
        if (v) copy_elem(t, k, v, 0);
        else t->f[k] = 0;
    }
    imp_out_const(cx, 0, t);
    return 1;
}

static int fold_flatten(ImpCtx *cx)
{
    int64_t axis, dims[2] = { 1, 1 };
    const OxTensor *s = in_t(cx, 0);
    if (!imp_attr_check(cx, "axis") || imp_attr_int(cx, "axis", 1, &axis) < 0) return -1;
    if (axis < 0) axis += s->rank;
    if (axis < 0 || axis > s->rank) return imp_refuse(cx, "axis %lld is out of range", (long long)axis) - 1;
    for (int k = 0; k < s->rank; k++) dims[k >= axis] *= s->dims[k];
    OxTensor *t = new_t(cx, s->kind, 2, dims);
    if (!t) return -1;
    for (long k = 0; k < s->n; k++) copy_elem(t, k, s, k);
    imp_out_const(cx, 0, t);
    return 1;
}

/* op, its folding, the inputs it needs, whether input 0 may be a layer (Shape) */
static const struct { const char *op; FoldFn fn; int nin; int layer_input; } folds[] = {
    { "Constant", fold_constant, 0, 0 },
    { "Identity", fold_identity, 1, 0 },
    { "Cast", fold_cast, 1, 0 },
    { "Shape", fold_shape, 1, 1 },
    { "Gather", fold_gather, 2, 0 },
    { "Unsqueeze", fold_unsqueeze, 1, 0 },
    { "Squeeze", fold_squeeze, 1, 0 },
    { "Concat", fold_concat, 1, 0 },
    { "Slice", fold_slice, 1, 0 },
    { "Reshape", fold_reshape, 2, 0 },
    { "Add", fold_arith, 2, 0 },
    { "Sub", fold_arith, 2, 0 },
    { "Mul", fold_arith, 2, 0 },
    { "Div", fold_arith, 2, 0 },
    { "ConstantOfShape", fold_constant_of_shape, 1, 0 },
    { "Flatten", fold_flatten, 1, 0 },
};

int fold_knows(const char *op)
{
    for (size_t i = 0; i < sizeof folds / sizeof *folds; i++)
        if (!strcmp(folds[i].op, op)) return 1;
    return 0;
}

int fold_node(ImpCtx *cx)
{
    const char *op = cx->n->op_type;
    for (size_t i = 0; i < sizeof folds / sizeof *folds; i++) {
        if (strcmp(folds[i].op, op)) continue;
        int present = 0;
        for (int k = 0; k < imp_nin(cx); k++) {
            ImpValue *v = imp_in(cx, k);
            if (!v) continue;
            present++;
            if (v->kind != IMP_CONST && !(folds[i].layer_input && k == 0)) return 0;
        }
        if (!present && strcmp(op, "Constant")) return 0;
        for (int k = 0; k < folds[i].nin; k++)
            if (!imp_in(cx, k)) return imp_refuse(cx, "its input %d is missing", k) - 1;
        int r = folds[i].fn(cx);
        return r < 0 || cx->failed ? -1 : 1;
    }
    return 0;
}
