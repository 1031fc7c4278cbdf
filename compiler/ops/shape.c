/* ops/shape.c: ops that move values without computing: identity, flatten,
 * reshape (aliases of their input: no copy, no code), and concat. */
#include "common.h"

#include <stdio.h>
#include <string.h>

#include "kernels.h"
#include "qemit.h"
#include "onnx/expctx.h"
#include "onnx/impctx.h"

/* ---- identity(x): s -> s ---- */

/* ONNX: Identity */
static int identity_onnx(ExpCtx *cx)
{
    exp_unary(cx, "Identity");
    return 1;
}

static int identity_from_onnx(ImpCtx *cx) { return imp_attr_check(cx, "") && imp_unary(cx, "identity", 0); }
/* torch writes a Pad of zeros before some pools: nothing to compute.
 * Real padding is refused (layerc pads only inside its convolutions). */
static int pad_from_onnx(ImpCtx *cx)
{
    int64_t pads[2 * (LC_MAX_RANK + 1)];
    int n;
    ImpValue *v = imp_layer_in(cx, 0);
    if (!v || !imp_attr_check(cx, "mode,pads,value")) return 0;
    if (imp_opset(cx) < 11) {
        if (imp_attr_ints(cx, "pads", pads, 2 * (LC_MAX_RANK + 1), &n) < 0) return 0;
    } else {
        const OxTensor *t = imp_const_in(cx, 1, "pads");
        if (!t) return 0;
        if (t->kind != OXT_INT || t->n > 2 * (LC_MAX_RANK + 1)) return imp_refuse(cx, "its pads are not a list of integers");
        n = (int)t->n;
        for (int k = 0; k < n; k++) pads[k] = t->i[k];
        if (imp_in(cx, 3)) return imp_refuse(cx, "it pads only some axes; layerc pads only inside conv2d");
    }
    for (int k = 0; k < n; k++)
        if (pads[k]) return imp_refuse(cx, "it pads its input; layerc pads only inside its convolutions");
    Shape s = v->shape;
    imp_out_layer(cx, 0, v->layer, &s);
    return 1;
}

const OpDef lc_op_identity = {
    .kernels = { LC_KERNEL_REF(lc_add_backward) }, .units = "elementwise",
    .name = "identity", .doc = "x -> x",
    .params = { P_LAYER_ARG("x") }, .nparams = 1,
    .aliases = op_always_aliases,
    .shape = op_same_shape, .forward = op_copy_forward, .backward = op_copy_backward,
    .flops = op_flops_none,
    .onnx_export = identity_onnx,
    .onnx_import = { { "Identity", identity_from_onnx }, { "Pad", pad_from_onnx } },
};

/* ---- flatten(x): s -> [product of s] ---- */

static int flatten_shape(OpCtx *c, Layer *l)
{
    l->shape.rank = 1;
    l->shape.dims[0] = op_input(c, l, 0)->size;
    return 1;
}

static int flatten_onnx(ExpCtx *cx)
{
    exp_attr_int(cx, exp_unary(cx, "Flatten"), "axis", 1);
    return 1;
}

static int flatten_from_onnx(ImpCtx *cx)
{
    int64_t axis;
    ImpValue *v = imp_layer_in(cx, 0);
    if (!v || !imp_attr_check(cx, "axis") || imp_attr_int(cx, "axis", 1, &axis) < 0) return 0;
    int r = v->shape.rank + 1;
    if (axis < -r || axis > r) return imp_refuse(cx, "axis %lld is out of range", (long long)axis);
    if (axis < 0) axis += r;
    if (axis == 0) return imp_refuse(cx, "Flatten on axis 0 makes the whole batch one row");
    for (int k = 1; k < axis; k++)
        if (v->shape.dims[k - 1] != 1)
            return imp_refuse(cx, "Flatten on axis %lld moves part of each sample into the batch axis",
                              (long long)axis);
    Shape flat = { 1, { shape_size(&v->shape) } };
    int x = v->layer;
    if (imp_marked(cx)) {   /* layerc's export flattened a dense's input: dense flattens it anyway */
        imp_out_layer(cx, 0, x, &flat);
        return 1;
    }
    ImpLayer *l = imp_layer(cx, "flatten", &x, 1);
    l->shape = flat;
    return imp_out(cx, l, &flat);
}

const OpDef lc_op_flatten = {
    .kernels = { LC_KERNEL_REF(lc_add_backward) }, .units = "elementwise",
    .name = "flatten", .doc = "x as a vector",
    .params = { P_LAYER_ARG("x") }, .nparams = 1,
    .aliases = op_always_aliases,
    .shape = flatten_shape, .forward = op_copy_forward, .backward = op_copy_backward,
    .flops = op_flops_none,
    .onnx_export = flatten_onnx,
    .onnx_import = { { "Flatten", flatten_from_onnx } },
};

/* ---- reshape(x, [d, ...]): s -> [d, ...], the same element count ---- */

enum { RESHAPE_X, RESHAPE_SHAPE };

static int reshape_shape(OpCtx *c, Layer *l)
{
    const Layer *x = op_input(c, l, 0);
    const Shape *to = &l->arg[RESHAPE_SHAPE].shape;
    char a[64], b[64];
    if (shape_size(to) != x->size) {
        op_error(c, "reshape cannot turn %s %s (%ld elements) into %s (%ld elements)", x->name,
                 shape_str(&x->shape, a, sizeof a), x->size, shape_str(to, b, sizeof b),
                 shape_size(to));
        return 0;
    }
    l->shape = *to;
    return 1;
}

/* ONNX: Reshape to [0, d...]: the 0 copies the batch */
static int reshape_onnx(ExpCtx *cx)
{
    Shape s = mv_shape(cx->m, cx->layer);
    int64_t dims[LC_MAX_RANK + 1] = { 0 };
    for (int k = 0; k < s.rank; k++) dims[k + 1] = s.dims[k];
    const char *in[2] = { exp_in(cx, 0), exp_const_ints(cx, "shape", dims, s.rank + 1) };
    exp_node(cx, "Reshape", NULL, in, 2, exp_out(cx));
    return 1;
}

static int reshape_from_onnx(ImpCtx *cx)
{
    int64_t allowzero;
    ImpValue *v = imp_layer_in(cx, 0);
    if (!v || !imp_attr_check(cx, "allowzero") || imp_attr_int(cx, "allowzero", 0, &allowzero) < 0) return 0;
    const OxTensor *t = imp_const_in(cx, 1, "shape");
    if (!t) return 0;
    if (t->kind != OXT_INT || t->rank != 1 || t->n < 1 || t->n > LC_MAX_RANK + 1)
        return imp_refuse(cx, "its shape is not a list of 1 to %d integers", LC_MAX_RANK + 1);
    long size = shape_size(&v->shape), known = 1;
    Shape target = { (int)t->n - 1, { 0 } };
    int infer = -1;
    /* the first entry must keep the batch: the batch itself, 0 (copy), or -1 */
    int64_t first = t->i[0];
    int first_ok = first == OXT_BATCH || (first == 0 && !allowzero) || first == -1 ||
                   (cx->batch && first == cx->batch);
    if (!first_ok)
        return imp_refuse(cx, "its shape starts with %lld, not the batch size: it would mix samples",
                          (long long)first);
    for (int k = 1; k < (int)t->n; k++) {
        int64_t d = t->i[k];
        if (d == OXT_BATCH) return imp_refuse(cx, "its shape puts the batch size in axis %d", k);
        if (d == 0 && !allowzero) {
            if (k - 1 >= v->shape.rank) return imp_refuse(cx, "its shape copies a dimension the input lacks");
            d = v->shape.dims[k - 1];
        }
        if (d == -1) {
            if (infer >= 0 || first == -1) return imp_refuse(cx, "its shape has more than one -1");
            infer = k - 1;
            continue;
        }
        if (d <= 0) return imp_refuse(cx, "its shape has a dimension %lld", (long long)d);
        if (d > LC_MAX_STATE_FLOATS || known > LC_MAX_STATE_FLOATS / d)
            return imp_refuse(cx, "its shape is too large (over %ld elements)", LC_MAX_STATE_FLOATS);
        known *= (long)d;
        target.dims[k - 1] = (long)d;
    }
    if (infer >= 0) {
        if (size % known) return imp_refuse(cx, "its shape does not divide the %ld elements of a sample", size);
        target.dims[infer] = size / known;
        known = size;
    }
    if (known != size) {
        char a[64], b[64];
        return imp_refuse(cx, "it reshapes a sample %s (%ld elements) into %s: layerc's samples keep their "
                          "elements", imp_shape_str(&v->shape, a, sizeof a), size,
                          imp_shape_str(&target, b, sizeof b));
    }
    Shape onnx = target, lyr = target.rank ? target : (Shape){ 1, { 1 } };
    char dims[256];
    int x = v->layer;
    ImpLayer *l = imp_layer(cx, "reshape", &x, 1);
    imp_arg(cx, l, NULL, "%s", shape_str(&lyr, dims, sizeof dims));
    l->shape = lyr;
    return imp_out(cx, l, &onnx);
}

/* The axes of Unsqueeze or Squeeze: the attribute before opset 13, input 1
 * from then on.  *n = -1 when none are given. */
static int squeeze_axes(ImpCtx *cx, int64_t *axes, int *n)
{
    *n = -1;
    if (imp_opset(cx) < 13) {
        if (!imp_attr_check(cx, "axes")) return 0;
        int r = imp_attr_ints(cx, "axes", axes, LC_MAX_RANK + 1, n);
        if (r == 0) *n = -1;
        return r >= 0;
    }
    if (!imp_attr_check(cx, "") || !imp_in(cx, 1)) return 1;
    const OxTensor *t = imp_const_in(cx, 1, "axes");
    if (!t) return 0;
    if (t->kind != OXT_INT || t->rank > 1 || t->n > LC_MAX_RANK + 1)
        return imp_refuse(cx, "its axes are not a list of at most %d integers", LC_MAX_RANK + 1);
    for (long k = 0; k < t->n; k++) axes[k] = t->i[k];
    *n = (int)t->n;
    return 1;
}

/* Unsqueeze and Squeeze of a layer keep a sample's elements in their order:
 * no layer, only the value's ONNX shape changes (imp_want reshapes it for
 * an op that needs that shape).  The batch axis stays where it is. */
static int reshaped_out(ImpCtx *cx, int layer, const Shape *s)
{
    int out = cx->n->n_output ? cx->g->out[cx->node][0] : -1;
    if (out >= 0 && cx->g->values[out].graph_output && layer != 0)   /* the model's output takes its name */
        imp_layer_at(cx, layer)->name = names_take(&cx->names, imp_node_name(cx));
    imp_out_layer(cx, 0, layer, s);
    return 1;
}

static int unsqueeze_from_onnx(ImpCtx *cx)
{
    int64_t axes[LC_MAX_RANK + 1];
    int n;
    ImpValue *v = imp_layer_in(cx, 0);
    if (!v || !squeeze_axes(cx, axes, &n)) return 0;
    if (n < 1) return imp_refuse(cx, "it has no axes");
    int rank = v->shape.rank + 1 + n;   /* with the batch */
    if (rank > LC_MAX_RANK + 1) return imp_refuse(cx, "its result has more than %d axes", LC_MAX_RANK + 1);
    unsigned char is_new[LC_MAX_RANK + 1] = { 0 };
    for (int k = 0; k < n; k++) {
        int64_t a = axes[k] < 0 ? axes[k] + rank : axes[k];
        if (a < 0 || a >= rank) return imp_refuse(cx, "axis %lld is out of range", (long long)axes[k]);
        if (a == 0) return imp_refuse(cx, "it puts a new axis before the batch axis");
        if (is_new[a]) return imp_refuse(cx, "axis %lld is given twice", (long long)axes[k]);
        is_new[a] = 1;
    }
    Shape s = { rank - 1, { 0 } };
    for (int k = 1, j = 0; k < rank; k++) s.dims[k - 1] = is_new[k] ? 1 : v->shape.dims[j++];
    return reshaped_out(cx, v->layer, &s);
}

static int squeeze_from_onnx(ImpCtx *cx)
{
    int64_t axes[LC_MAX_RANK + 1];
    int n;
    ImpValue *v = imp_layer_in(cx, 0);
    if (!v || !squeeze_axes(cx, axes, &n)) return 0;
    int rank = v->shape.rank + 1;
    unsigned char drop[LC_MAX_RANK + 1] = { 0 };
    if (n < 0) {   /* every axis of size 1; a batch of one sample would be one of them */
        if (cx->batch == 1) return imp_refuse(cx, "it removes every axis of size 1, the batch axis among them");
        for (int k = 1; k < rank; k++) drop[k] = v->shape.dims[k - 1] == 1;
    }
    for (int k = 0; k < n; k++) {
        int64_t a = axes[k] < 0 ? axes[k] + rank : axes[k];
        if (a < 0 || a >= rank) return imp_refuse(cx, "axis %lld is out of range", (long long)axes[k]);
        if (a == 0) return imp_refuse(cx, "it removes the batch axis");
        if (v->shape.dims[a - 1] != 1)
            return imp_refuse(cx, "axis %lld has size %ld, not 1", (long long)axes[k], v->shape.dims[a - 1]);
        drop[a] = 1;
    }
    Shape s = { 0, { 0 } };
    for (int k = 1; k < rank; k++)
        if (!drop[k]) s.dims[s.rank++] = v->shape.dims[k - 1];
    return reshaped_out(cx, v->layer, &s);
}

const OpDef lc_op_reshape = {
    .kernels = { LC_KERNEL_REF(lc_add_backward) }, .units = "elementwise",
    .name = "reshape", .doc = "x with another shape of the same size",
    .params = { [RESHAPE_X] = P_LAYER_ARG("x"),
                [RESHAPE_SHAPE] = { "shape", P_SHAPE, 1, 0, 0, 0, 0, NULL } }, .nparams = 2,
    .aliases = op_always_aliases,
    .shape = reshape_shape, .forward = op_copy_forward, .backward = op_copy_backward,
    .flops = op_flops_none,
    .onnx_export = reshape_onnx,
    .onnx_import = { { "Reshape", reshape_from_onnx }, { "Unsqueeze", unsqueeze_from_onnx }, { "Squeeze", squeeze_from_onnx } },
};

/* ---- concat(a, b, ...): each sample's inputs, flattened, one after the other ---- */

static int concat_shape(OpCtx *c, Layer *l)
{
    long n = 0;
    for (int k = 0; k < l->nin; k++) {
        n += op_input(c, l, k)->size;
        if (n > LC_MAX_STATE_FLOATS) {
            op_error(c, "concat is too large (over %ld elements)", LC_MAX_STATE_FLOATS);
            return 0;
        }
    }
    l->shape.rank = 1;
    l->shape.dims[0] = n;
    return 1;
}

static void concat_forward(Emit *e, const Layer *l, Mode mode)
{
    long at = 0;
    (void)mode;
    emitf(e, "    for (int b = 0; b < n; b++) {\n");
    for (int k = 0; k < l->nin; k++) {
        long size = layer_input(e->m, l, k)->size;
        emitf(e, "        memcpy(%s + b * %ld + %ld, %s + b * %ld, sizeof(%s) * %ld);\n",
              e_out(e, layer_index(e->m, l)), l->size, at, e_in(e, l, k), size, e_real(e), size);
        at += size;
    }
    emitf(e, "    }\n");
}

static void concat_backward(Emit *e, const Layer *l, Mode mode)
{
    long at = 0;
    (void)mode;
    emitf(e, "    for (int b = 0; b < n; b++) {\n");
    for (int k = 0; k < l->nin; k++) {
        long size = layer_input(e->m, l, k)->size;
        if (e_wants_grad(e, l, k))
            emitf(e, "        lc_add_backward(%s + b * %ld, %s + b * %ld + %ld, %ld, %d);\n", e_in_grad(e, l, k),
                  size, e_grad(e, layer_index(e->m, l)), l->size, at, size, e_adds(e, l, k));
        at += size;
    }
    emitf(e, "    }\n");
}

/* int8: each input requantised to the output's scale and zero point (a copy
 * when they are its own) */
static void concat_int8(QEmit *q, const Layer *l)
{
    const QParams *y = q_params(q, l);
    long at = 0;
    emitf(&q->e, "    for (int b = 0; b < n; b++) {\n");
    for (int k = 0; k < l->nin; k++) {
        const QParams *x = q_in_params(q, l, k);
        long size = layer_input(q->m, l, k)->size;
        if (x->scale == y->scale && x->zero == y->zero) {
            emitf(&q->e, "        memcpy(%s + b * %ld + %ld, %s + b * %ld, %ld);\n", q_out(q, l), l->size, at,
                  q_in(q, l, k), size, size);
        } else {
            int32_t mult;
            int shift;
            quant_multiplier(x->scale / y->scale, &mult, &shift);
            emitf(&q->e, "        lc_i8_requantize_forward(%s + b * %ld + %ld, %s + b * %ld, %ld, %d, %d, %ld, %d);\n",
                  q_out(q, l), l->size, at, q_in(q, l, k), size, size, x->zero, y->zero, (long)mult, shift);
        }
        at += size;
    }
    emitf(&q->e, "    }\n");
}

/* ONNX: Concat of the flattened inputs along axis 1 */
static int concat_onnx(ExpCtx *cx)
{
    const char *in[LC_MAX_INPUTS];
    int n = mv_nin(cx->m, cx->layer);
    for (int k = 0; k < n; k++) in[k] = exp_in_flat(cx, k);
    exp_attr_int(cx, exp_node(cx, "Concat", NULL, in, n, exp_out(cx)), "axis", 1);
    return 1;
}

/* layerc's concat joins the flattened inputs: ONNX's Concat along the first
 * axis of the sample (or one after axes of size 1) lays out the same. */
static int concat_from_onnx(ImpCtx *cx)
{
    int64_t axis;
    int in[LC_MAX_INPUTS], nin = 0;
    if (!imp_attr_check(cx, "axis") || imp_attr_int(cx, "axis", 1, &axis) < 0) return 0;
    if (!imp_attr_has(cx, "axis") && imp_opset(cx) >= 4) return imp_refuse(cx, "it has no axis");
    ImpValue *first = imp_layer_in(cx, 0);
    if (!first) return 0;
    int r = first->shape.rank + 1;
    if (axis < -r || axis >= r) return imp_refuse(cx, "axis %lld is out of range", (long long)axis);
    if (axis < 0) axis += r;
    if (axis == 0) return imp_refuse(cx, "it concatenates along the batch axis");
    Shape out = first->shape;
    out.dims[axis - 1] = 0;
    long total = 0;
    for (int k = 0; k < imp_nin(cx); k++) {
        ImpValue *v = imp_layer_in(cx, k);
        if (!v) return 0;
        if (v->shape.rank != first->shape.rank) return imp_refuse(cx, "its inputs have different ranks");
        for (int d = 0; d < v->shape.rank; d++) {
            if (d != axis - 1 && v->shape.dims[d] != first->shape.dims[d])
                return imp_refuse(cx, "its inputs' shapes differ outside the axis");
            if (d < axis - 1 && v->shape.dims[d] != 1)
                return imp_refuse(cx, "it concatenates along axis %lld, inside each sample's rows; layerc's concat "
                                  "joins whole samples", (long long)axis);
        }
        if (nin == LC_MAX_INPUTS) return imp_refuse(cx, "it has more than %d inputs", LC_MAX_INPUTS);
        in[nin++] = v->layer;
        out.dims[axis - 1] += v->shape.dims[axis - 1];
        total += shape_size(&v->shape);
    }
    ImpLayer *l = imp_layer(cx, nin == 1 ? "identity" : "concat", in, nin);
    l->shape = nin == 1 ? imp_layer_at(cx, in[0])->shape : (Shape){ 1, { total } };
    return imp_out(cx, l, &out);
}

const OpDef lc_op_concat = {
    .name = "concat", .doc = "the inputs flattened and joined",
    .params = { P_LAYER_ARG("x") }, .nparams = 1, .variadic = 1,
    .kernels = { LC_KERNEL_REF(lc_add_backward), LC_KERNEL_REF(lc_i8_requantize_forward) },
    .units = "elementwise",
    .shape = concat_shape, .forward = concat_forward, .backward = concat_backward,
    .flops = op_flops_none, .int8 = { .forward = concat_int8 },
    .onnx_export = concat_onnx,
    .onnx_import = { { "Concat", concat_from_onnx } },
};
