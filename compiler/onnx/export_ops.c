/* export_ops.c: one exporter a layerc op (see export_ops.h).
 *
 * Every ONNX node computes exactly what the layerc op does (SPEC section 1
 * against the ONNX operator documents); shapes stay those of layerc, with
 * the batch in front, so each node's output is the layer's output.
 */
#include "export_ops.h"

#include <string.h>

#include "model_view.h"

static int simple(ExpCtx *cx, const char *op_type)
{
    exp_unary(cx, op_type);
    return 1;
}

static int x_identity(ExpCtx *cx) { return simple(cx, "Identity"); }
static int x_relu(ExpCtx *cx) { return simple(cx, "Relu"); }
static int x_sigmoid(ExpCtx *cx) { return simple(cx, "Sigmoid"); }
static int x_tanh(ExpCtx *cx) { return simple(cx, "Tanh"); }
static int x_hardswish(ExpCtx *cx) { return simple(cx, "HardSwish"); }

static int x_leaky_relu(ExpCtx *cx)
{
    exp_attr_float(cx, exp_unary(cx, "LeakyRelu"), "alpha", (float)mv_num(cx->m, cx->layer, "alpha", 0.01));
    return 1;
}

static int x_elu(ExpCtx *cx)
{
    exp_attr_float(cx, exp_unary(cx, "Elu"), "alpha", (float)mv_num(cx->m, cx->layer, "alpha", 1));
    return 1;
}

/* softmax over the vector of a sample: the last axis */
static int x_softmax(ExpCtx *cx)
{
    exp_attr_int(cx, exp_unary(cx, "Softmax"), "axis", -1);
    return 1;
}

static int clip_node(ExpCtx *cx, double lo, double hi)
{
    const char *in[3] = { exp_in(cx, 0), exp_const_float(cx, "min", (float)lo), exp_const_float(cx, "max", (float)hi) };
    exp_node(cx, "Clip", NULL, in, 3, exp_out(cx));
    return 1;
}

static int x_relu6(ExpCtx *cx) { return clip_node(cx, 0, 6); }
static int x_clip(ExpCtx *cx)
{
    return clip_node(cx, mv_num(cx->m, cx->layer, "lo", 0), mv_num(cx->m, cx->layer, "hi", 0));
}

/* x * sigmoid(x), as torch.onnx.export writes SiLU (the importer fuses it back) */
static int x_silu(ExpCtx *cx)
{
    const char *sig = arena_printf(cx->a, "%s/sigmoid", exp_out(cx));
    const char *in[1] = { exp_in(cx, 0) };
    exp_node(cx, "Sigmoid", sig, in, 1, sig);
    const char *mul[2] = { exp_in(cx, 0), sig };
    exp_node(cx, "Mul", NULL, mul, 2, exp_out(cx));
    return 1;
}

static int x_dropout(ExpCtx *cx)
{
    const char *in[2] = { exp_in(cx, 0), exp_const_float(cx, "ratio", (float)mv_num(cx->m, cx->layer, "rate", 0.5)) };
    exp_node(cx, "Dropout", NULL, in, 2, exp_out(cx));
    return 1;
}

static int pair(ExpCtx *cx, const char *op_type)
{
    const char *in[2] = { exp_in(cx, 0), exp_in(cx, 1) };
    exp_node(cx, op_type, NULL, in, 2, exp_out(cx));
    return 1;
}

static int x_add(ExpCtx *cx) { return pair(cx, "Add"); }
static int x_mul(ExpCtx *cx) { return pair(cx, "Mul"); }

static int x_concat(ExpCtx *cx)
{
    const char *in[LC_MAX_INPUTS];
    int n = mv_nin(cx->m, cx->layer);
    for (int k = 0; k < n; k++) in[k] = exp_in_flat(cx, k);
    exp_attr_int(cx, exp_node(cx, "Concat", NULL, in, n, exp_out(cx)), "axis", 1);
    return 1;
}

static int x_flatten(ExpCtx *cx)
{
    exp_attr_int(cx, exp_unary(cx, "Flatten"), "axis", 1);
    return 1;
}

static int x_reshape(ExpCtx *cx)
{
    Shape s = mv_shape(cx->m, cx->layer);
    int64_t dims[LC_MAX_RANK + 1] = { 0 };   /* 0: the batch, copied */
    for (int k = 0; k < s.rank; k++) dims[k + 1] = s.dims[k];
    const char *in[2] = { exp_in(cx, 0), exp_const_ints(cx, "shape", dims, s.rank + 1) };
    exp_node(cx, "Reshape", NULL, in, 2, exp_out(cx));
    return 1;
}

/* dense and linear: Gemm(x, W, b, transB=1) with W [m, n] as PyTorch keeps it */
static int x_gemm(ExpCtx *cx)
{
    int nw = mv_layer_nweights(cx->m, cx->layer);
    const char *in[3] = { exp_in_flat(cx, 0), NULL, NULL };
    for (int k = 0; k < nw; k++) in[k + 1] = exp_weight(cx, mv_layer_weight(cx->m, cx->layer, k));
    exp_attr_int(cx, exp_node(cx, "Gemm", NULL, in, 1 + nw, exp_out(cx)), "transB", 1);
    return 1;
}

static int window_attrs(ExpCtx *cx, Onnx__NodeProto *n, const MvWindow *w, int conv)
{
    int64_t v[4];
    for (int a = 0; a < w->n; a++) v[a] = w->k[a];
    exp_attr_ints(cx, n, "kernel_shape", v, w->n);
    for (int a = 0; a < w->n; a++) v[a] = w->s[a];
    exp_attr_ints(cx, n, "strides", v, w->n);
    for (int a = 0; a < w->n; a++) v[a] = w->lo[a], v[a + w->n] = w->hi[a];
    exp_attr_ints(cx, n, "pads", v, 2 * w->n);
    if (conv) {
        for (int a = 0; a < w->n; a++) v[a] = w->d[a];
        exp_attr_ints(cx, n, "dilations", v, w->n);
        exp_attr_int(cx, n, "group", w->groups);
    }
    return 1;
}

static int x_conv(ExpCtx *cx)
{
    MvWindow w;
    if (!mv_window(cx->m, cx->layer, &w)) return exp_fail(cx, "its kernel, stride and pads do not give its shape");
    int nw = mv_layer_nweights(cx->m, cx->layer);
    const char *in[3] = { exp_in(cx, 0), NULL, NULL };
    for (int k = 0; k < nw; k++) in[k + 1] = exp_weight(cx, mv_layer_weight(cx->m, cx->layer, k));
    return window_attrs(cx, exp_node(cx, "Conv", NULL, in, 1 + nw, exp_out(cx)), &w, 1);
}

static int pool(ExpCtx *cx, const char *op_type)
{
    MvWindow w;
    if (!mv_window(cx->m, cx->layer, &w)) return exp_fail(cx, "its size and stride do not give its shape");
    return window_attrs(cx, exp_unary(cx, op_type), &w, 0);
}

static int x_maxpool(ExpCtx *cx) { return pool(cx, "MaxPool"); }
static int x_avgpool(ExpCtx *cx) { return pool(cx, "AveragePool"); }

/* [c, h, w] -> [c]: the global pool, then a Flatten of its [c, 1, 1] */
static int global_pool(ExpCtx *cx, const char *op_type)
{
    const char *pooled = arena_printf(cx->a, "%s/pooled", exp_out(cx));
    const char *in[1] = { exp_in(cx, 0) };
    exp_node(cx, op_type, NULL, in, 1, pooled);
    Onnx__NodeProto *f = exp_node(cx, "Flatten", arena_printf(cx->a, "%s/flat", exp_out(cx)), &pooled, 1, exp_out(cx));
    exp_attr_int(cx, f, "axis", 1);
    exp_mark(cx, f, arena_printf(cx->a, "output of %s (a vector)", exp_out(cx)));
    return 1;
}

static int x_global_avgpool(ExpCtx *cx) { return global_pool(cx, "GlobalAveragePool"); }
static int x_global_maxpool(ExpCtx *cx) { return global_pool(cx, "GlobalMaxPool"); }

static int x_batchnorm(ExpCtx *cx)
{
    static const char *const parts[] = { "gamma", "beta", "mean", "var" };
    const char *in[5] = { exp_in(cx, 0) };
    for (int k = 0; k < 4; k++) {
        int w = mv_layer_weight_named(cx->m, cx->layer, parts[k]);
        if (w < 0) return exp_fail(cx, "it has no weight %s", parts[k]);
        in[k + 1] = exp_weight(cx, w);
    }
    Onnx__NodeProto *n = exp_node(cx, "BatchNormalization", NULL, in, 5, exp_out(cx));
    exp_attr_float(cx, n, "epsilon", (float)mv_num(cx->m, cx->layer, "eps", 1e-5));
    /* ONNX's momentum weighs the old statistics, layerc's (as PyTorch's) the new */
    exp_attr_float(cx, n, "momentum", (float)(1 - mv_num(cx->m, cx->layer, "momentum", 0.1)));
    return 1;
}

static int x_layernorm(ExpCtx *cx)
{
    int g = mv_layer_weight_named(cx->m, cx->layer, "gamma"), b = mv_layer_weight_named(cx->m, cx->layer, "beta");
    if (g < 0 || b < 0) return exp_fail(cx, "it has no gamma or beta");
    const char *in[3] = { exp_in(cx, 0), exp_weight(cx, g), exp_weight(cx, b) };
    Onnx__NodeProto *n = exp_node(cx, "LayerNormalization", NULL, in, 3, exp_out(cx));
    exp_attr_int(cx, n, "axis", -1);
    exp_attr_float(cx, n, "epsilon", (float)mv_num(cx->m, cx->layer, "eps", 1e-5));
    return 1;
}

const ExpOp exp_ops[] = {
    { "identity", 13, x_identity },
    { "linear", 13, x_gemm },
    { "dense", 13, x_gemm },
    { "relu", 13, x_relu },
    { "leaky_relu", 13, x_leaky_relu },
    { "sigmoid", 13, x_sigmoid },
    { "tanh", 13, x_tanh },
    { "softmax", 13, x_softmax },
    { "add", 13, x_add },
    { "mul", 13, x_mul },
    { "concat", 13, x_concat },
    { "flatten", 13, x_flatten },
    { "reshape", 13, x_reshape },
    { "conv2d", 13, x_conv },
    { "conv1d", 13, x_conv },
    { "maxpool", 13, x_maxpool },
    { "avgpool", 13, x_avgpool },
    { "maxpool1d", 13, x_maxpool },
    { "avgpool1d", 13, x_avgpool },
    { "global_avgpool", 13, x_global_avgpool },
    { "global_maxpool", 13, x_global_maxpool },
    { "dropout", 13, x_dropout },
    { "batchnorm", 13, x_batchnorm },
    { "layernorm", 17, x_layernorm },
    { "relu6", 13, x_relu6 },
    { "clip", 13, x_clip },
    { "hardswish", 14, x_hardswish },
    { "silu", 13, x_silu },
    { "elu", 13, x_elu },
};
const int exp_nops = (int)(sizeof exp_ops / sizeof exp_ops[0]);

const ExpOp *exp_op_find(const char *op)
{
    for (int i = 0; i < exp_nops; i++)
        if (!strcmp(exp_ops[i].op, op)) return &exp_ops[i];
    return NULL;
}
