/* tr_dense.c: ONNX translators for matrix products and the elementwise pairs (with their fusions) (see import_ops.h).
 *
 * Each translator checks every attribute against what the layerc op can
 * express and refuses the node otherwise: the numbers layerc computes must
 * be ONNX's own (the ONNX operator documents, onnx/docs/Operators.md,
 * against SPEC section 1).
 */
#include "import_ops.h"

#include <stdio.h>
#include <string.h>

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
    return imp_out(cx, l, &onnx);
}

/* The vector input of Gemm/MatMul: the [N, K] matrix, a sample is [K]. */
static ImpValue *vector_in(ImpCtx *cx, long *k)
{
    ImpValue *v = imp_layer_in(cx, 0);
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
    return imp_out(cx, l, &onnx);
}

int tr_gemm(ImpCtx *cx)
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

int tr_matmul(ImpCtx *cx)
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

int tr_add(ImpCtx *cx)
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
    return imp_out(cx, l, &s);
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

int tr_mul(ImpCtx *cx)
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
    return imp_out(cx, l, &s);
}

/* layerc's concat joins the flattened inputs: ONNX's Concat along the first
 * axis of the sample (or one after axes of size 1) lays out the same. */
