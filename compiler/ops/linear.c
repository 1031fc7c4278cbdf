/* ops/linear.c: fully connected layers, y[n, M] = x[n, N] . W[M, N]^T + b[M]:
 * linear(x, W[, b]) with declared weights, dense(x, m) with its own. */
#include "common.h"

#include <stdio.h>
#include <string.h>

#include "kernels.h"
#include "qemit.h"
#include "onnx/expctx.h"
#include "onnx/impctx.h"

enum { W, B };   /* weight slots */

static void linear_forward(Emit *e, const Layer *l, Mode mode)
{
    const Weight *w = layer_weight(e->m, l, W);
    (void)mode;
    emitf(e, "    lc_matmul_forward(%s, %s, %s, %s, n, %ld, %ld);\n", e_out(e, layer_index(e->m, l)),
          e_in(e, l, 0), e_weight(e, l, W), e_weight(e, l, B), w->shape.dims[1], w->shape.dims[0]);
}

/* dx = dy . W, dW += dy^T . x, db += sum of dy; the kernel assigns dx (0)
 * when this is the first block to reach it, else adds (1). */
static void linear_backward(Emit *e, const Layer *l, Mode mode)
{
    const Weight *w = layer_weight(e->m, l, W);
    int add = e_wants_grad(e, l, 0) ? e_adds(e, l, 0) : 1;
    (void)mode;
    emitf(e, "    lc_matmul_backward_into(%s, %s, %s,\n                            %s, %s, %s, n, %ld, %ld, %d);\n",
          e_in_grad(e, l, 0), e_wgrad(e, l, W), e_wgrad(e, l, B), e_grad(e, layer_index(e->m, l)),
          e_in(e, l, 0), e_weight(e, l, W), w->shape.dims[1], w->shape.dims[0], add);
}

/* Fused builds: dx as in linear_backward, then each row of W and the bias
 * stepped from its gradient, computed a row at a time (no dW array). */
static void linear_backward_step(Emit *e, const Layer *l, Mode mode)
{
    const Weight *w = layer_weight(e->m, l, W), *b = layer_weight(e->m, l, B);
    int add = e_wants_grad(e, l, 0) ? e_adds(e, l, 0) : 1;
    (void)mode;
    emitf(e, "    lc_matmul_backward_step(%s, %s, %s, %s, %s, m->gwork, n, %ld, %ld, %d,\n"
             "                            %s, %s, %s, %s, %s);\n",
          e_in_grad(e, l, 0), e_weight(e, l, W), b ? e_weight(e, l, B) : "NULL",
          e_grad(e, layer_index(e->m, l)), e_in(e, l, 0), w->shape.dims[1], w->shape.dims[0], add,
          e_step(e), e_step_at(e, l, W), e_step_at(e, l, B), e_num(e, w->decay), e_num(e, b ? b->decay : 0));
}

/* a row of W, or the bias, LC_STEP_ROW values at most */
static long linear_step_scratch(const Model *m, const Layer *l)
{
    const Weight *w = layer_weight(m, l, W);
    long most = w->shape.dims[1] > w->shape.dims[0] ? w->shape.dims[1] : w->shape.dims[0];
    return most < LC_STEP_ROW ? most : LC_STEP_ROW;
}

/* int8: y = requant(W . (x - x_zero) + b) per output row, relu folded into the clamp */
static void linear_int8(QEmit *q, const Layer *l)
{
    const Weight *w = layer_weight(q->m, l, W);
    emitf(&q->e, "    lc_i8_dense_forward(%s, %s, %s,\n                        n, %ld, %ld, %s);\n", q_out(q, l),
          q_in(q, l, 0), q_channel_weights(q, l, W, B), w->shape.dims[1], w->shape.dims[0], q_quant(q, l));
}

static double matmul_flops(const Model *m, const Layer *l)
{
    return (double)layer_weight(m, l, W)->size;
}

/* ---- linear(x, W[, b]): [n] -> [m] with W [m, n] and b [m] declared by the user ---- */

static int linear_shape(OpCtx *c, Layer *l)
{
    const Layer *x = op_input(c, l, 0);
    const Weight *w = op_weight_of(c, l, W), *b = op_weight_of(c, l, B);
    char sa[64], sb[64];
    if (w->shape.rank != 2) {
        op_error(c, "linear needs a matrix weight [m, n], but %s is %s", w->name,
                 shape_str(&w->shape, sa, sizeof sa));
        return 0;
    }
    if (w->shape.dims[1] != x->size) {
        op_error(c, "shape mismatch: linear(%s, %s) has %s %s (%ld elements) but %s %s takes %ld inputs",
                 x->name, w->name, x->name, shape_str(&x->shape, sa, sizeof sa), x->size, w->name,
                 shape_str(&w->shape, sb, sizeof sb), w->shape.dims[1]);
        return 0;
    }
    if (b && (b->shape.rank != 1 || b->shape.dims[0] != w->shape.dims[0])) {
        op_error(c, "shape mismatch: the bias %s is %s but %s has %ld outputs: it must be [%ld]",
                 b->name, shape_str(&b->shape, sa, sizeof sa), w->name, w->shape.dims[0],
                 w->shape.dims[0]);
        return 0;
    }
    l->shape.rank = 1;
    l->shape.dims[0] = w->shape.dims[0];
    return 1;
}

/* ONNX (linear and dense): Gemm(x, W, b, transB=1), W [m, n] as PyTorch keeps it */
static int gemm_onnx(ExpCtx *cx)
{
    int nw = mv_layer_nweights(cx->m, cx->layer);
    const char *in[3] = { exp_in_flat(cx, 0), NULL, NULL };
    for (int k = 0; k < nw; k++) in[k + 1] = exp_weight(cx, mv_layer_weight(cx->m, cx->layer, k));
    exp_attr_int(cx, exp_node(cx, "Gemm", NULL, in, 1 + nw, exp_out(cx)), "transB", 1);
    return 1;
}

const OpDef lc_op_linear = {
    .name = "linear", .doc = "x[n] . W[m, n]^T (+ b[m]) with declared weights",
    .params = { P_LAYER_ARG("x"), P_WEIGHT_ARG("W", 1), P_WEIGHT_ARG("b", 0) }, .nparams = 3,
    .weights = { [W] = { "W", ROLE_TRAINABLE, { INIT_DEFAULT, 0, 0, NULL } },
                 [B] = { "b", ROLE_TRAINABLE, { INIT_DEFAULT, 0, 0, NULL } } }, .nweights = 2,
    .kernels = { LC_KERNEL_REF(lc_matmul_forward), LC_KERNEL_REF(lc_matmul_backward_into),
                 LC_KERNEL_REF(lc_matmul_backward_step), LC_KERNEL_REF(lc_i8_dense_forward) },
    .units = "gemm fused", .backward_reads = READS_INPUTS,
    .backward_step = linear_backward_step, .step_scratch = linear_step_scratch,
    .shape = linear_shape, .forward = linear_forward, .backward = linear_backward,
    .flops = matmul_flops, .int8 = { .forward = linear_int8, .takes_clamp = 1 },
    .onnx_export = gemm_onnx,
};

/* ---- dense(x, m): any s (flattened to n) -> [m]; creates NAME.W [m, n], NAME.b [m] ---- */

enum { DENSE_X, DENSE_UNITS, DENSE_BIAS, DENSE_INIT, DENSE_DECAY };

static int dense_shape(OpCtx *c, Layer *l)
{
    long n = op_input(c, l, 0)->size, m = (long)l->arg[DENSE_UNITS].num;
    Shape ws = { 2, { m, n } }, bs = { 1, { m } };
    const Init *init = l->arg[DENSE_INIT].given ? &l->arg[DENSE_INIT].init : NULL;
    /* with an init= for W, the bias starts at 0 */
    Init zeros = { INIT_ZEROS, 0, 0, NULL };
    if (!op_weight(c, l, W, ws, n, m, init)) return 0;
    c->m->weights[l->w[W]].decay = l->arg[DENSE_DECAY].num;
    if (l->arg[DENSE_BIAS].num != 0 && !op_weight(c, l, B, bs, n, m, init ? &zeros : NULL)) return 0;
    l->shape.rank = 1;
    l->shape.dims[0] = m;
    return 1;
}

static int dense_absorbs_input(const Layer *l)
{
    (void)l;
    return 1;
}

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

static int gemm_from_onnx(ImpCtx *cx)
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

static int matmul_from_onnx(ImpCtx *cx)
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

const OpDef lc_op_dense = {
    .name = "dense", .doc = "fully connected layer with its own weights NAME.W [m, n], NAME.b [m]",
    .params = { [DENSE_X] = P_LAYER_ARG("x"), [DENSE_UNITS] = P_REQ_INT("units", 1, OP_BIG),
                [DENSE_BIAS] = P_KW_INT("bias", 1, 0, 1), [DENSE_INIT] = P_KW_INIT("init"),
                [DENSE_DECAY] = P_DECAY },
    .nparams = 5,
    .weights = { [W] = { "W", ROLE_TRAINABLE, { INIT_DEFAULT, 0, 0, NULL } },
                 [B] = { "b", ROLE_TRAINABLE, { INIT_DEFAULT, 0, 0, NULL } } }, .nweights = 2,
    .kernels = { LC_KERNEL_REF(lc_matmul_forward), LC_KERNEL_REF(lc_matmul_backward_into),
                 LC_KERNEL_REF(lc_matmul_backward_step), LC_KERNEL_REF(lc_i8_dense_forward) },
    .units = "gemm fused", .backward_reads = READS_INPUTS,
    .backward_step = linear_backward_step, .step_scratch = linear_step_scratch,
    .shape = dense_shape, .forward = linear_forward, .backward = linear_backward,
    .flops = matmul_flops, .fold_into = { 1, W, B }, .absorbs_input = dense_absorbs_input,
    .int8 = { .forward = linear_int8, .takes_clamp = 1 },
    .onnx_export = gemm_onnx,
    .onnx_import = { { "Gemm", gemm_from_onnx }, { "MatMul", matmul_from_onnx } },
};
