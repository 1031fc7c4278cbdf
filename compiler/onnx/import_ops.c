/* import_ops.c: one translator an ONNX op type (see import_ops.h).
 *
 * Each translator checks every attribute against what the layerc op can
 * express and refuses the node otherwise; the numbers layerc computes must
 * be ONNX's own.  SPEC section 1 gives the layerc ops, the ONNX operator
 * documents (onnx/docs/Operators.md) the semantics matched here.
 */
#include "import_ops.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define MAXS 2      /* spatial axes layerc takes: 1-D and 2-D */

static int out_value(ImpCtx *cx, ImpLayer *l, const Shape *onnx)
{
    imp_out_layer(cx, 0, imp_index(cx, l), onnx);
    return 1;
}

/* The one layer input every elementwise op has. */
static ImpValue *layer_in(ImpCtx *cx, int k)
{
    ImpValue *v = imp_in(cx, k);
    if (!v) {
        imp_refuse(cx, "its input %d is missing", k);
        return NULL;
    }
    if (v->kind != IMP_LAYER) {
        imp_refuse(cx, "its input %d is a constant: layerc computes this op only on layers", k);
        return NULL;
    }
    return v;
}

static int unused_outputs_from(ImpCtx *cx, int first, const char *what)
{
    for (int k = first; k < (int)cx->n->n_output; k++)
        if (imp_out_used(cx, k)) return imp_refuse(cx, "its output %d (%s) is used, and layerc computes only "
                                                   "the first", k, what);
    return 1;
}

/* x -> op(x), the shape kept */
static int unary(ImpCtx *cx, const char *op, int fuse)
{
    ImpValue *v = layer_in(cx, 0);
    if (!v || !unused_outputs_from(cx, 1, "a second result")) return 0;
    Shape s = v->shape;
    int x = v->layer;
    ImpLayer *l = imp_layer(cx, op, &x, 1);
    l->shape = imp_layer_at(cx, x)->shape;
    l->fuse = fuse;
    return out_value(cx, l, &s);
}

static int t_relu(ImpCtx *cx) { return imp_attr_check(cx, "") && unary(cx, "relu", 0); }
static int t_tanh(ImpCtx *cx) { return imp_attr_check(cx, "") && unary(cx, "tanh", 0); }
static int t_sigmoid(ImpCtx *cx) { return imp_attr_check(cx, "") && unary(cx, "sigmoid", IMP_FUSE_SIGMOID); }
static int t_hardswish(ImpCtx *cx) { return imp_attr_check(cx, "") && unary(cx, "hardswish", 0); }
static int t_identity(ImpCtx *cx) { return imp_attr_check(cx, "") && unary(cx, "identity", 0); }

static int t_leaky_relu(ImpCtx *cx)
{
    double alpha;
    if (!imp_attr_check(cx, "alpha") || imp_attr_float(cx, "alpha", 0.01, &alpha) < 0) return 0;
    if (!unary(cx, "leaky_relu", 0)) return 0;
    if ((float)alpha != 0.01f) imp_arg(cx, imp_layer_at(cx, cx->nlayers - 1), "alpha", "%s", imp_num(cx, alpha));
    return 1;
}

static int t_elu(ImpCtx *cx)
{
    double alpha;
    if (!imp_attr_check(cx, "alpha") || imp_attr_float(cx, "alpha", 1.0, &alpha) < 0) return 0;
    if (!unary(cx, "elu", 0)) return 0;
    if ((float)alpha != 1.0f) imp_arg(cx, imp_layer_at(cx, cx->nlayers - 1), "alpha", "%s", imp_num(cx, alpha));
    return 1;
}

/* A scalar bound of Clip: an input (opset 11 on) or an attribute. */
static int clip_bound(ImpCtx *cx, int k, const char *attr_name, double def, double *out)
{
    *out = def;
    if (imp_opset(cx) < 11) return imp_attr_float(cx, attr_name, def, out) >= 0;
    if (!imp_in(cx, k)) return 1;
    const OxTensor *t = imp_const_in(cx, k, k == 1 ? "min" : "max");
    if (!t) return 0;
    if (t->n != 1) return imp_refuse(cx, "its %s is not one number", k == 1 ? "min" : "max");
    *out = oxt_get(t, 0);
    return 1;
}

static int t_clip(ImpCtx *cx)
{
    double lo, hi;
    if (!imp_attr_check(cx, imp_opset(cx) < 11 ? "min,max" : "") ||
        !clip_bound(cx, 1, "min", -INFINITY, &lo) || !clip_bound(cx, 2, "max", INFINITY, &hi))
        return 0;
    /* the attribute defaults are float's limits: as good as no bound */
    if (lo <= -3.4028234e38) lo = -INFINITY;
    if (hi >= 3.4028234e38) hi = INFINITY;
    if (isnan(lo) || isnan(hi)) return imp_refuse(cx, "a bound is NaN");
    if (lo == 0 && hi == 6) return unary(cx, "relu6", 0);
    if (lo == 0 && hi == INFINITY) return unary(cx, "relu", 0);
    if (lo == -INFINITY && hi == INFINITY) return unary(cx, "identity", 0);
    if (!unary(cx, "clip", 0)) return 0;
    ImpLayer *l = imp_layer_at(cx, cx->nlayers - 1);
    /* an open side is float's largest value: the same for every finite input */
    imp_arg(cx, l, NULL, "%s", lo == -INFINITY ? "-3.4028234663852886e38" : imp_num(cx, lo));
    imp_arg(cx, l, NULL, "%s", hi == INFINITY ? "3.4028234663852886e38" : imp_num(cx, hi));
    return 1;
}

static int t_dropout(ImpCtx *cx)
{
    double ratio = 0.5;
    if (!imp_attr_check(cx, "ratio,is_test,seed")) return 0;
    if (imp_opset(cx) < 12) {
        if (imp_attr_float(cx, "ratio", 0.5, &ratio) < 0) return 0;
    } else {
        if (imp_in(cx, 1)) {
            const OxTensor *t = imp_const_in(cx, 1, "ratio");
            if (!t) return 0;
            if (t->n != 1) return imp_refuse(cx, "its ratio is not one number");
            ratio = oxt_get(t, 0);
        }
        if (imp_in(cx, 2)) {
            const OxTensor *t = imp_const_in(cx, 2, "training_mode");
            if (!t) return 0;
            if (t->n != 1 || oxt_get(t, 0) != 0)
                return imp_refuse(cx, "it runs in training mode; layerc imports the inference graph");
        }
    }
    if (!(ratio >= 0 && ratio < 1)) return imp_refuse(cx, "its ratio %g is not in [0, 1)", ratio);
    if (!unused_outputs_from(cx, 1, "the mask") || !unary(cx, "dropout", 0)) return 0;
    imp_arg(cx, imp_layer_at(cx, cx->nlayers - 1), NULL, "%s", imp_num(cx, ratio));
    return 1;
}

/* Softmax over an axis is layerc's softmax over a vector when every other
 * axis of the sample has size 1; before opset 13 the sample is flattened
 * from `axis` on, which is layerc's softmax when the axis is the first one
 * of the sample (or those before it have size 1). */
static int t_softmax(ImpCtx *cx)
{
    int64_t axis;
    ImpValue *v = layer_in(cx, 0);
    int old = imp_opset(cx) < 13;
    if (!v || !imp_attr_check(cx, "axis") || imp_attr_int(cx, "axis", old ? 1 : -1, &axis) < 0) return 0;
    int r = v->shape.rank + 1;
    if (axis < -r || axis >= r) return imp_refuse(cx, "axis %lld is out of range", (long long)axis);
    if (axis < 0) axis += r;
    if (axis == 0) return imp_refuse(cx, "it normalises along the batch axis");
    for (int k = 0; k < v->shape.rank; k++) {
        int free_axis = old ? k + 1 >= axis : k + 1 == axis;
        if (!free_axis && v->shape.dims[k] != 1)
            return imp_refuse(cx, "it normalises along axis %lld of a sample of %d axes; layerc's softmax "
                              "takes the whole sample as one vector", (long long)axis, v->shape.rank);
    }
    Shape flat = { 1, { shape_size(&v->shape) } }, onnx = v->shape;
    int x = imp_want(cx, v, &flat);
    if (x < 0) return 0;
    ImpLayer *l = imp_layer(cx, "softmax", &x, 1);
    l->shape = flat;
    return out_value(cx, l, &onnx);
}

static int t_flatten(ImpCtx *cx)
{
    int64_t axis;
    ImpValue *v = layer_in(cx, 0);
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
    return out_value(cx, l, &flat);
}

static int t_reshape(ImpCtx *cx)
{
    int64_t allowzero;
    ImpValue *v = layer_in(cx, 0);
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
    return out_value(cx, l, &onnx);
}

/* torch writes a Pad of zeros before some pools: nothing to compute.
 * Real padding is refused (layerc pads only inside its convolutions). */
static int t_pad(ImpCtx *cx)
{
    int64_t pads[2 * (LC_MAX_RANK + 1)];
    int n;
    ImpValue *v = layer_in(cx, 0);
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

/* ---- matrix products ---- */

/* A dense layer for x . W^T (+ b): W [m, n], b [m] or NULL. */
static int make_dense(ImpCtx *cx, const ImpValue *v, OxTensor *W, OxTensor *b)
{
    Shape onnx = { 1, { (long)W->dims[0] } };
    int x = v->layer;
    ImpLayer *l = imp_layer(cx, "dense", &x, 1);
    imp_arg(cx, l, NULL, "%ld", (long)W->dims[0]);
    if (!b) imp_arg(cx, l, "bias", "0");
    imp_weight(cx, l, "W", W);
    if (b) imp_weight(cx, l, "b", b);
    l->fuse = b ? 0 : IMP_FUSE_BIAS;
    l->shape = onnx;
    return out_value(cx, l, &onnx);
}

/* The vector input of Gemm/MatMul: the [N, K] matrix, a sample is [K]. */
static ImpValue *vector_in(ImpCtx *cx, long *k)
{
    ImpValue *v = layer_in(cx, 0);
    if (!v) return NULL;
    if (v->shape.rank != 1) {
        char s[64];
        imp_refuse(cx, "its first input is [N, %s: layerc's dense takes a matrix [N, K] (a vector a sample)",
                   imp_shape_str(&v->shape, s, sizeof s) + 1);
        return NULL;
    }
    *k = v->shape.dims[0];
    return v;
}

/* A bias of m values from c (shape [], [1], [m], [1, 1] or [1, m]), times beta. */
static OxTensor *bias_of(ImpCtx *cx, const OxTensor *c, long m, double beta)
{
    long n = c->n;
    int ok = (n == 1 || n == m) && (c->rank <= 1 || (c->rank == 2 && c->dims[0] == 1));
    if (!ok) {
        char d[96];
        imp_refuse(cx, "its bias %s is not one value per output (%ld)", oxt_dims_str(c, d, sizeof d), m);
        return NULL;
    }
    int64_t dim = m;
    OxTensor *b = oxt_new(cx->a, OXT_FLOAT, 1, &dim);
    for (long j = 0; j < m; j++) b->f[j] = (float)(beta * oxt_get(c, n == 1 ? 0 : j));
    return b;
}

/* A declared weight of layerc's own export: `linear(x, W[, b])` instead of dense. */
static const char *declared_name(ImpCtx *cx, int k)
{
    if (!cx->meta || k >= imp_nin(cx) || cx->g->in[cx->node][k] < 0) return NULL;
    const char *name = cx->g->values[cx->g->in[cx->node][k]].name;
    char key[300];
    snprintf(key, sizeof key, "layerc.weight.%s", name);
    if (!cx->meta(cx, key)) return NULL;
    const char *clean = names_sanitize(cx->a, name, NULL);
    return strcmp(clean, name) || names_taken(&cx->names, name) ? NULL : name;
}

static void declare(ImpCtx *cx, const char *name, OxTensor *t)
{
    char key[300];
    snprintf(key, sizeof key, "layerc.weight.%s", name);
    const char *spec = cx->meta(cx, key);
    arena_grow(cx->a, (void **)&cx->declared, &cx->cap_declared, cx->ndeclared, sizeof(ImpDeclared));
    ImpDeclared *d = &cx->declared[cx->ndeclared++];
    d->name = names_take(&cx->names, name);
    d->frozen = !strncmp(spec, "frozen", 6);
    const char *eq = strstr(spec, " = ");
    d->init = NULL;
    /* only an initializer's own characters: a crafted file cannot add statements */
    if (eq && strspn(eq + 3, "abcdefghijklmnopqrstuvwxyz0123456789_.,()[]+-eE ") == strlen(eq + 3))
        d->init = arena_strdup(cx->a, eq + 3);
    d->t = t;
}

static int make_linear(ImpCtx *cx, const ImpValue *v, const char *wname, OxTensor *W,
                       const char *bname, OxTensor *b)
{
    Shape onnx = { 1, { (long)W->dims[0] } };
    declare(cx, wname, W);
    if (bname) declare(cx, bname, b);
    int x = v->layer;
    ImpLayer *l = imp_layer(cx, "linear", &x, 1);
    imp_arg(cx, l, NULL, "%s", wname);
    if (bname) imp_arg(cx, l, NULL, "%s", bname);
    l->shape = onnx;
    return out_value(cx, l, &onnx);
}

static int t_gemm(ImpCtx *cx)
{
    int64_t ta, tb;
    double alpha, beta;
    long K;
    ImpValue *v;
    if (!imp_attr_check(cx, "alpha,beta,transA,transB,broadcast") ||
        imp_attr_float(cx, "alpha", 1, &alpha) < 0 || imp_attr_float(cx, "beta", 1, &beta) < 0 ||
        imp_attr_int(cx, "transA", 0, &ta) < 0 || imp_attr_int(cx, "transB", 0, &tb) < 0 ||
        !(v = vector_in(cx, &K)))
        return 0;
    if (ta) return imp_refuse(cx, "transA=1 puts the batch in the second axis of A");
    const OxTensor *B = imp_const_in(cx, 1, "B");
    if (!B) return 0;
    if (B->rank != 2 || B->dims[tb ? 1 : 0] != K) {
        char d[96];
        return imp_refuse(cx, "its B %s does not take %ld inputs (transB=%lld)", oxt_dims_str(B, d, sizeof d),
                          K, (long long)tb);
    }
    long M = (long)B->dims[tb ? 0 : 1];
    int64_t wd[2] = { M, K };
    OxTensor *W = oxt_new(cx->a, OXT_FLOAT, 2, wd), *b = NULL;
    for (long i = 0; i < M; i++)
        for (long j = 0; j < K; j++)
            W->f[i * K + j] = (float)(alpha * oxt_get(B, tb ? i * K + j : j * M + i));
    if (imp_in(cx, 2) && beta != 0) {
        const OxTensor *C = imp_const_in(cx, 2, "C");
        if (!C || !(b = bias_of(cx, C, M, beta))) return 0;
    }
    const char *wname = alpha == 1 && tb ? declared_name(cx, 1) : NULL;
    const char *bname = b && beta == 1 ? declared_name(cx, 2) : NULL;
    if (wname && (!b || bname)) return make_linear(cx, v, wname, W, bname, b);
    return make_dense(cx, v, W, b);
}

static int t_matmul(ImpCtx *cx)
{
    long K;
    ImpValue *v;
    if (!imp_attr_check(cx, "") || !(v = vector_in(cx, &K))) return 0;
    const OxTensor *B = imp_const_in(cx, 1, "second input");
    if (!B) return 0;
    if (B->rank != 2 || B->dims[0] != K) {
        char d[96];
        return imp_refuse(cx, "its second input %s is not a [%ld, M] matrix", oxt_dims_str(B, d, sizeof d), K);
    }
    long M = (long)B->dims[1];
    int64_t wd[2] = { M, K };
    OxTensor *W = oxt_new(cx->a, OXT_FLOAT, 2, wd);
    for (long i = 0; i < M; i++)
        for (long j = 0; j < K; j++) W->f[i * K + j] = (float)oxt_get(B, j * M + i);
    return make_dense(cx, v, W, NULL);
}

/* ---- elementwise pairs ---- */

/* Both inputs layers of the same ONNX shape: their layers, of one shape. */
static int pair_in(ImpCtx *cx, ImpValue *a, ImpValue *b, int *la, int *lb)
{
    char sa[64], sb[64];
    if (!imp_same_shape(&a->shape, &b->shape))
        return imp_refuse(cx, "its inputs are %s and %s a sample: layerc's %s takes two of one shape "
                          "(no broadcasting)", imp_shape_str(&a->shape, sa, sizeof sa),
                          imp_shape_str(&b->shape, sb, sizeof sb), cx->n->op_type[0] == 'A' ? "add" : "mul");
    *la = a->layer, *lb = b->layer;
    if (!imp_same_shape(&imp_layer_at(cx, *la)->shape, &imp_layer_at(cx, *lb)->shape)) {
        if ((*la = imp_want(cx, a, NULL)) < 0 || (*lb = imp_want(cx, b, NULL)) < 0) return 0;
    }
    return 1;
}

/* The bias of the dense or convolution just before: c has one value per
 * output feature or channel. */
static int fuse_bias(ImpCtx *cx, ImpValue *x, const OxTensor *c, int xin)
{
    ImpLayer *l = imp_layer_at(cx, x->layer);
    if (l->fuse != IMP_FUSE_BIAS || l->uses || imp_in_readers(cx, xin) != 1)
        return imp_refuse(cx, "it adds a constant that is not the bias of a MatMul, Gemm or Conv; layerc's add "
                          "takes two layers");
    long m = l->shape.dims[0], n = c->n;
    int ok = n == 1 || n == m;
    /* a convolution's bias broadcasts over its spatial axes: [F, 1, 1] or [1, F, 1, 1] */
    if (ok && strcmp(l->op, "dense")) {
        int r = c->rank;
        long inner = 1;
        for (int k = r - l->shape.rank + 1; k < r; k++)
            if (k >= 0) inner *= (long)c->dims[k];
        ok = n == 1 || (inner == 1 && r >= l->shape.rank && c->dims[r - l->shape.rank] == m);
    } else if (ok) {
        ok = c->rank <= 1 || (c->rank == 2 && c->dims[0] == 1);
    }
    if (!ok) {
        char d[96];
        return imp_refuse(cx, "the constant %s it adds is not one value per output of %s", oxt_dims_str(c, d, sizeof d),
                          l->name);
    }
    int64_t dim = m;
    OxTensor *b = oxt_new(cx->a, OXT_FLOAT, 1, &dim);
    for (long j = 0; j < m; j++) b->f[j] = (float)oxt_get(c, n == 1 ? 0 : j);
    for (int i = 0; i < l->nargs; i++)   /* drop bias=0 */
        if (l->args[i].key && !strcmp(l->args[i].key, "bias")) {
            memmove(&l->args[i], &l->args[i + 1], sizeof(ImpArg) * (size_t)(l->nargs - i - 1));
            l->nargs--;
        }
    imp_weight(cx, l, "b", b);
    l->fuse = 0;
    l->comment = arena_printf(cx->a, "%s + %s", l->comment, imp_node_label(cx));
    int out0 = cx->n->n_output ? cx->g->out[cx->node][0] : -1;
    if (out0 >= 0 && cx->g->values[out0].graph_output)   /* the model's output takes the graph output's name */
        l->name = names_take(&cx->names, imp_node_name(cx));
    Shape s = x->shape;
    imp_out_layer(cx, 0, x->layer, &s);
    return 1;
}

static int t_add(ImpCtx *cx)
{
    ImpValue *a = imp_in(cx, 0), *b = imp_in(cx, 1);
    if (!imp_attr_check(cx, "broadcast,axis") || !a || !b) return a && b ? 0 : imp_refuse(cx, "an input is missing");
    if (a->kind == IMP_CONST) return fuse_bias(cx, b, a->t, 1);
    if (b->kind == IMP_CONST) return fuse_bias(cx, a, b->t, 0);
    int la, lb;
    Shape s = a->shape;
    if (!pair_in(cx, a, b, &la, &lb)) return 0;
    int in[2] = { la, lb };
    ImpLayer *l = imp_layer(cx, "add", in, 2);
    l->shape = imp_layer_at(cx, la)->shape;
    return out_value(cx, l, &s);
}

/* x * sigmoid(x), as torch exports SiLU: silu(x) when the sigmoid has no other use. */
static int fuse_silu(ImpCtx *cx, ImpValue *x, ImpValue *s, int sin)
{
    ImpLayer *sl = imp_layer_at(cx, s->layer);
    if (sl->fuse != IMP_FUSE_SIGMOID || sl->uses || imp_in_readers(cx, sin) != 1 ||
        sl->in[0] != x->layer || !imp_same_shape(&x->shape, &s->shape) || !cx->have("silu", NULL))
        return 0;
    sl->op = "silu";
    sl->fuse = 0;
    sl->name = names_take(&cx->names, imp_node_name(cx));   /* the Mul's: the sigmoid was a part */
    sl->node = cx->node;
    sl->comment = arena_printf(cx->a, "%s * %s", sl->comment, imp_node_label(cx));
    Shape sh = s->shape;
    imp_out_layer(cx, 0, s->layer, &sh);
    return 1;
}

static int t_mul(ImpCtx *cx)
{
    ImpValue *a = imp_in(cx, 0), *b = imp_in(cx, 1);
    if (!imp_attr_check(cx, "broadcast,axis") || !a || !b) return a && b ? 0 : imp_refuse(cx, "an input is missing");
    if (a->kind == IMP_CONST || b->kind == IMP_CONST)
        return imp_refuse(cx, "it multiplies by a constant; layerc's mul takes two layers");
    if (fuse_silu(cx, a, b, 1) || fuse_silu(cx, b, a, 0)) return 1;
    int la, lb;
    Shape s = a->shape;
    if (!pair_in(cx, a, b, &la, &lb)) return 0;
    int in[2] = { la, lb };
    ImpLayer *l = imp_layer(cx, "mul", in, 2);
    l->shape = imp_layer_at(cx, la)->shape;
    return out_value(cx, l, &s);
}

/* layerc's concat joins the flattened inputs: ONNX's Concat along the first
 * axis of the sample (or one after axes of size 1) lays out the same. */
static int t_concat(ImpCtx *cx)
{
    int64_t axis;
    int in[LC_MAX_INPUTS], nin = 0;
    if (!imp_attr_check(cx, "axis") || imp_attr_int(cx, "axis", 1, &axis) < 0) return 0;
    if (!imp_attr_has(cx, "axis") && imp_opset(cx) >= 4) return imp_refuse(cx, "it has no axis");
    ImpValue *first = layer_in(cx, 0);
    if (!first) return 0;
    int r = first->shape.rank + 1;
    if (axis < -r || axis >= r) return imp_refuse(cx, "axis %lld is out of range", (long long)axis);
    if (axis < 0) axis += r;
    if (axis == 0) return imp_refuse(cx, "it concatenates along the batch axis");
    Shape out = first->shape;
    out.dims[axis - 1] = 0;
    long total = 0;
    for (int k = 0; k < imp_nin(cx); k++) {
        ImpValue *v = layer_in(cx, k);
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
    return out_value(cx, l, &out);
}

/* ---- convolutions and pools ---- */

typedef struct {
    int n;                          /* spatial axes */
    long in[MAXS], k[MAXS], s[MAXS], d[MAXS], lo[MAXS], hi[MAXS], out[MAXS];
    int same;                       /* the pads are Keras' `same` (extra at the end) */
} Window;

/* Kernel, strides, dilations and pads of a Conv or pool node over the
 * spatial axes of x; checks that the output is not empty. */
static int window(ImpCtx *cx, const ImpValue *x, const int64_t *kernel, Window *w)
{
    int64_t v[2 * MAXS];
    int n;
    const char *pad_mode;
    w->n = x->shape.rank - 1;
    for (int a = 0; a < w->n; a++) {
        w->in[a] = x->shape.dims[a + 1];
        if (kernel[a] < 1 || kernel[a] > 65536) return imp_refuse(cx, "its kernel size %lld is out of range",
                                                                  (long long)kernel[a]);
        w->k[a] = (long)kernel[a];
        w->s[a] = w->d[a] = 1;
        w->lo[a] = w->hi[a] = 0;
    }
    if (imp_attr_ints(cx, "strides", v, MAXS, &n) < 0) return 0;
    for (int a = 0; a < n; a++) w->s[a] = (long)v[a];
    if (n && n != w->n) return imp_refuse(cx, "its strides do not match its %d spatial axes", w->n);
    if (imp_attr_ints(cx, "dilations", v, MAXS, &n) < 0) return 0;
    for (int a = 0; a < n; a++) w->d[a] = (long)v[a];
    if (n && n != w->n) return imp_refuse(cx, "its dilations do not match its %d spatial axes", w->n);
    for (int a = 0; a < w->n; a++)
        if (w->s[a] < 1 || w->d[a] < 1 || w->s[a] > 1024 || w->d[a] > 1024)
            return imp_refuse(cx, "a stride or dilation is out of range");
    if (imp_attr_string(cx, "auto_pad", "NOTSET", &pad_mode) < 0) return 0;
    int pads_given = imp_attr_ints(cx, "pads", v, 2 * MAXS, &n);
    if (pads_given < 0) return 0;
    if (pads_given && n != 2 * w->n) return imp_refuse(cx, "its pads do not match its %d spatial axes", w->n);
    for (int a = 0; a < w->n; a++) {
        long span = (w->k[a] - 1) * w->d[a] + 1;
        long need = ((w->in[a] + w->s[a] - 1) / w->s[a] - 1) * w->s[a] + span - w->in[a];
        if (need < 0) need = 0;
        if (!strcmp(pad_mode, "SAME_UPPER")) w->lo[a] = need / 2, w->hi[a] = need - need / 2;
        else if (!strcmp(pad_mode, "SAME_LOWER")) w->hi[a] = need / 2, w->lo[a] = need - need / 2;
        else if (!strcmp(pad_mode, "NOTSET") && pads_given) w->lo[a] = (long)v[a], w->hi[a] = (long)v[a + w->n];
        else if (strcmp(pad_mode, "NOTSET") && strcmp(pad_mode, "VALID"))
            return imp_refuse(cx, "auto_pad \"%s\" is not an ONNX padding mode", pad_mode);
        if (w->lo[a] < 0 || w->hi[a] < 0 || w->lo[a] > 1024 || w->hi[a] > 1024)
            return imp_refuse(cx, "a pad is out of range");
        long padded = w->in[a] + w->lo[a] + w->hi[a];
        if (padded < span) return imp_refuse(cx, "its window (%ld) is larger than the padded input (%ld)", span, padded);
        w->out[a] = (padded - span) / w->s[a] + 1;
    }
    /* pads that differ at the two ends are layerc's pad=same when they are Keras' */
    w->same = 0;
    for (int a = 0; a < w->n; a++)
        if (w->lo[a] != w->hi[a]) w->same = 1;
    for (int a = 0; w->same && a < w->n; a++) {
        long span = (w->k[a] - 1) * w->d[a] + 1;
        long need = ((w->in[a] + w->s[a] - 1) / w->s[a] - 1) * w->s[a] + span - w->in[a];
        if (need < 0) need = 0;
        if (w->lo[a] != need / 2 || w->hi[a] != need - need / 2)
            return imp_refuse(cx, "its pads differ at the two ends and are not Keras' 'same' (%ld before and "
                              "%ld after on axis %d, where 'same' has %ld and %ld)", w->lo[a], w->hi[a], a,
                              need / 2, need - need / 2);
    }
    return 1;
}

static int t_conv(ImpCtx *cx)
{
    int64_t group, ks[MAXS];
    int nks;
    ImpValue *v = layer_in(cx, 0);
    if (!v) return 0;
    int sr = v->shape.rank - 1;
    if (sr < 1 || sr > MAXS)
        return imp_refuse(cx, "it is a %d-D convolution; layerc has conv1d and conv2d", sr < 0 ? 0 : sr);
    if (!imp_attr_check(cx, "auto_pad,dilations,group,kernel_shape,pads,strides") ||
        imp_attr_int(cx, "group", 1, &group) < 0 || imp_attr_ints(cx, "kernel_shape", ks, MAXS, &nks) < 0)
        return 0;
    const OxTensor *W = imp_const_in(cx, 1, "weights");
    if (!W) return 0;
    long C = v->shape.dims[0], F = W->rank ? (long)W->dims[0] : 0;
    if (W->rank != sr + 2 || group < 1 || F % group || W->dims[1] * group != C) {
        char d[96];
        return imp_refuse(cx, "its weights %s do not fit %ld input channels in %lld groups",
                          oxt_dims_str(W, d, sizeof d), C, (long long)group);
    }
    for (int a = 0; a < nks; a++)
        if (nks != sr || ks[a] != W->dims[a + 2]) return imp_refuse(cx, "its kernel_shape does not match its weights");
    Window w;
    if (!window(cx, v, W->dims + 2, &w)) return 0;
    if (w.n == 2 && w.d[0] != w.d[1]) return imp_refuse(cx, "its dilations differ per axis");
    OxTensor *b = NULL;
    if (imp_in(cx, 2)) {
        const OxTensor *B = imp_const_in(cx, 2, "bias");
        if (!B) return 0;
        if (B->n != F) return imp_refuse(cx, "its bias has %ld values for %ld filters", B->n, F);
        int64_t dim = F;
        b = oxt_new(cx->a, OXT_FLOAT, 1, &dim);
        for (long j = 0; j < F; j++) b->f[j] = (float)oxt_get(B, j);
    }
    OxTensor *Wt = oxt_new(cx->a, OXT_FLOAT, W->rank, W->dims);
    for (long j = 0; j < W->n; j++) Wt->f[j] = (float)oxt_get(W, j);
    int x = imp_want(cx, v, NULL);
    if (x < 0) return 0;
    ImpLayer *l = imp_layer(cx, sr == 1 ? "conv1d" : "conv2d", &x, 1);
    long k1 = w.k[0], k2 = sr == 2 ? w.k[1] : w.k[0];
    imp_arg(cx, l, NULL, "%ld", F);
    imp_arg_pair(cx, l, "kernel", k1, k2);
    if (w.s[0] != 1 || w.s[sr - 1] != 1) imp_arg_pair(cx, l, "stride", w.s[0], w.s[sr - 1]);
    if (w.same) imp_arg_v2(cx, l, "pad", "same");
    else if (w.lo[0] || w.lo[sr - 1]) imp_arg_pair(cx, l, "pad", w.lo[0], w.lo[sr - 1]);
    if (w.d[0] != 1) imp_arg(cx, l, "dilation", "%ld", w.d[0]);
    if (group != 1) imp_arg(cx, l, "groups", "%lld", (long long)group);
    if (!b) imp_arg(cx, l, "bias", "0");
    imp_weight(cx, l, "W", Wt);
    if (b) imp_weight(cx, l, "b", b);
    l->fuse = b ? 0 : IMP_FUSE_BIAS;
    Shape out = { sr + 1, { F, w.out[0], sr == 2 ? w.out[1] : 0 } };
    l->shape = out;
    return out_value(cx, l, &out);
}

static int pool(ImpCtx *cx, int is_max)
{
    int64_t ks[MAXS], ceil_mode;
    int nks;
    ImpValue *v = layer_in(cx, 0);
    if (!v) return 0;
    int sr = v->shape.rank - 1;
    if (sr < 1 || sr > MAXS) return imp_refuse(cx, "it pools over %d axes; layerc pools over 1 or 2", sr < 0 ? 0 : sr);
    if (!imp_attr_check(cx, is_max ? "auto_pad,ceil_mode,dilations,kernel_shape,pads,storage_order,strides"
                                   : "auto_pad,ceil_mode,count_include_pad,kernel_shape,pads,strides") ||
        imp_attr_ints(cx, "kernel_shape", ks, MAXS, &nks) < 0 || imp_attr_int(cx, "ceil_mode", 0, &ceil_mode) < 0)
        return 0;
    if (nks != sr) return imp_refuse(cx, "its kernel_shape does not have %d axes", sr);
    Window w;
    if (!window(cx, v, ks, &w)) return 0;
    for (int a = 0; a < sr; a++) {
        /* count_include_pad only matters with pads, and layerc's pools take none */
        if (w.lo[a] || w.hi[a]) return imp_refuse(cx, "it pads its input; layerc's pools take no padding");
        if (w.d[a] != 1) return imp_refuse(cx, "it dilates its window; layerc's pools do not");
        long span = w.in[a] - w.k[a];
        if (ceil_mode && span % w.s[a])
            return imp_refuse(cx, "ceil_mode=1 gives a partial window at the end, which layerc's pools do not take");
    }
    if (!unused_outputs_from(cx, 1, "the indices")) return 0;
    int x = imp_want(cx, v, NULL);
    if (x < 0) return 0;
    const char *op = sr == 1 ? (is_max ? "maxpool1d" : "avgpool1d") : (is_max ? "maxpool" : "avgpool");
    ImpLayer *l = imp_layer(cx, op, &x, 1);
    long k2 = sr == 2 ? w.k[1] : w.k[0], s2 = sr == 2 ? w.s[1] : w.s[0];
    imp_arg_pair(cx, l, NULL, w.k[0], k2);
    if (w.s[0] != w.k[0] || s2 != k2) imp_arg_pair(cx, l, "stride", w.s[0], s2);
    Shape out = { sr + 1, { v->shape.dims[0], w.out[0], sr == 2 ? w.out[1] : 0 } };
    l->shape = out;
    return out_value(cx, l, &out);
}

static int t_maxpool(ImpCtx *cx) { return pool(cx, 1); }
static int t_avgpool(ImpCtx *cx) { return pool(cx, 0); }

static int global_pool(ImpCtx *cx, const char *op)
{
    ImpValue *v = layer_in(cx, 0);
    if (!v || !imp_attr_check(cx, "")) return 0;
    int sr = v->shape.rank - 1;
    if (sr < 1 || sr > MAXS) return imp_refuse(cx, "it pools over %d axes; layerc pools over 1 or 2", sr < 0 ? 0 : sr);
    int x = imp_want(cx, v, NULL);
    if (x < 0) return 0;
    ImpLayer *l = imp_layer(cx, op, &x, 1);
    l->shape = (Shape){ 1, { v->shape.dims[0] } };
    Shape onnx = { sr + 1, { v->shape.dims[0], 1, 1 } };
    return out_value(cx, l, &onnx);
}

static int t_global_avgpool(ImpCtx *cx) { return global_pool(cx, "global_avgpool"); }
static int t_global_maxpool(ImpCtx *cx) { return global_pool(cx, "global_maxpool"); }

/* ---- normalisation ---- */

/* A constant input of n values, as a float vector. */
static OxTensor *vector_const(ImpCtx *cx, int k, const char *what, long n)
{
    const OxTensor *t = imp_const_in(cx, k, what);
    if (!t) return NULL;
    if (t->n != n) {
        imp_refuse(cx, "its %s has %ld values, not %ld", what, t->n, n);
        return NULL;
    }
    int64_t dim = n;
    OxTensor *f = oxt_new(cx->a, OXT_FLOAT, 1, &dim);
    for (long j = 0; j < n; j++) f->f[j] = (float)oxt_get(t, j);
    return f;
}

static int t_batchnorm(ImpCtx *cx)
{
    double eps, momentum;
    int64_t spatial, training;
    ImpValue *v = layer_in(cx, 0);
    if (!v || !imp_attr_check(cx, "epsilon,momentum,spatial,training_mode,is_test,consumed_inputs") ||
        imp_attr_float(cx, "epsilon", 1e-5, &eps) < 0 || imp_attr_float(cx, "momentum", 0.9, &momentum) < 0 ||
        imp_attr_int(cx, "spatial", 1, &spatial) < 0 || imp_attr_int(cx, "training_mode", 0, &training) < 0)
        return 0;
    if (!spatial) return imp_refuse(cx, "spatial=0 normalises each element, not each channel");
    if (training) return imp_refuse(cx, "it runs in training mode; layerc imports the inference graph");
    if (v->shape.rank < 1) return imp_refuse(cx, "its input has no channel axis");
    if (!unused_outputs_from(cx, 1, "a running statistic")) return 0;
    long C = v->shape.dims[0];
    OxTensor *g, *b, *m, *var;
    if (!(g = vector_const(cx, 1, "scale", C)) || !(b = vector_const(cx, 2, "bias", C)) ||
        !(m = vector_const(cx, 3, "mean", C)) || !(var = vector_const(cx, 4, "variance", C)))
        return 0;
    int x = imp_want(cx, v, NULL);
    if (x < 0) return 0;
    Shape s = v->shape;
    ImpLayer *l = imp_layer(cx, "batchnorm", &x, 1);
    /* ONNX keeps momentum of the old statistics, PyTorch and layerc of the new */
    if (fabs((1 - momentum) - 0.1) > 1e-6) imp_arg(cx, l, "momentum", "%s", imp_num(cx, 1 - momentum));
    if ((float)eps != 1e-5f) imp_arg(cx, l, "eps", "%s", imp_num(cx, eps));
    imp_weight(cx, l, "gamma", g);
    imp_weight(cx, l, "beta", b);
    imp_weight(cx, l, "mean", m);
    imp_weight(cx, l, "var", var);
    l->shape = imp_layer_at(cx, x)->shape;
    return out_value(cx, l, &s);
}

static int t_layernorm(ImpCtx *cx)
{
    int64_t axis;
    double eps;
    ImpValue *v = layer_in(cx, 0);
    if (!v || !imp_attr_check(cx, "axis,epsilon,stash_type") || imp_attr_int(cx, "axis", -1, &axis) < 0 ||
        imp_attr_float(cx, "epsilon", 1e-5, &eps) < 0)
        return 0;
    int r = v->shape.rank + 1;
    if (axis < 0) axis += r;
    if (axis != r - 1 || r < 2)
        return imp_refuse(cx, "it normalises from axis %lld on; layerc's layernorm normalises the last axis", (long long)axis);
    if (!unused_outputs_from(cx, 1, "a statistic")) return 0;
    long D = v->shape.dims[v->shape.rank - 1];
    OxTensor *g = vector_const(cx, 1, "scale", D), *b;
    if (!g) return 0;
    if (imp_in(cx, 2)) {
        if (!(b = vector_const(cx, 2, "bias", D))) return 0;
    } else {
        int64_t dim = D;
        b = oxt_new(cx->a, OXT_FLOAT, 1, &dim);
    }
    int x = imp_want(cx, v, NULL);
    if (x < 0) return 0;
    Shape s = v->shape;
    ImpLayer *l = imp_layer(cx, "layernorm", &x, 1);
    if ((float)eps != 1e-5f) imp_arg(cx, l, "eps", "%s", imp_num(cx, eps));
    imp_weight(cx, l, "gamma", g);
    imp_weight(cx, l, "beta", b);
    l->shape = s;
    return out_value(cx, l, &s);
}

/* ---- the table ---- */

const ImpOp imp_ops[] = {
    { "Gemm", t_gemm },
    { "MatMul", t_matmul },
    { "Conv", t_conv },
    { "BatchNormalization", t_batchnorm },
    { "LayerNormalization", t_layernorm },
    { "Relu", t_relu },
    { "Clip", t_clip },
    { "LeakyRelu", t_leaky_relu },
    { "Elu", t_elu },
    { "Sigmoid", t_sigmoid },
    { "Tanh", t_tanh },
    { "HardSwish", t_hardswish },
    { "Softmax", t_softmax },
    { "MaxPool", t_maxpool },
    { "AveragePool", t_avgpool },
    { "GlobalAveragePool", t_global_avgpool },
    { "GlobalMaxPool", t_global_maxpool },
    { "Flatten", t_flatten },
    { "Reshape", t_reshape },
    { "Add", t_add },
    { "Mul", t_mul },
    { "Concat", t_concat },
    { "Dropout", t_dropout },
    { "Pad", t_pad },
    { "Identity", t_identity },
};
const int imp_nops = (int)(sizeof imp_ops / sizeof imp_ops[0]);

const ImpOp *imp_op_find(const char *op_type)
{
    for (int i = 0; i < imp_nops; i++)
        if (!strcmp(imp_ops[i].op_type, op_type)) return &imp_ops[i];
    return NULL;
}
