/* ops/pool.c: maxpool and avgpool(x, size=2, stride=size): [c, h, w] ->
 * [c, h', w'] over windows of size (a number or [h, w]) sliding by stride,
 * no padding, floor mode, as torch.nn.MaxPool2d / AvgPool2d; maxpool1d and
 * avgpool1d the same on [c, l]; global_maxpool and global_avgpool: [c, h, w]
 * or [c, l] -> [c].  Ties in max go to the first element of the window.
 * Square windows and strides keep their first calls (lc_maxpool_forward),
 * so the C of such models does not change. */
#include "common.h"

#include <stdio.h>
#include <string.h>

#include "kernels.h"
#include "qemit.h"
#include "onnx/expctx.h"
#include "onnx/impctx.h"

enum { X, SIZE, STRIDE };

extern const OpDef lc_op_maxpool1d, lc_op_avgpool1d;

static int is_1d(const Layer *l) { return l->op == &lc_op_maxpool1d || l->op == &lc_op_avgpool1d; }

/* Window and step of layer l: kh x kw, sh x sw (1-D: height 1). */
static void pool_window(const Layer *l, long *kh, long *kw, long *sh, long *sw)
{
    if (is_1d(l)) {
        *kh = *sh = 1, *kw = (long)l->arg[SIZE].num, *sw = (long)l->arg[STRIDE].num;
        return;
    }
    *kh = l->arg[SIZE].pair[0], *kw = l->arg[SIZE].pair[1];
    *sh = l->arg[STRIDE].pair[0], *sw = l->arg[STRIDE].pair[1];
}

static int pool_shape(OpCtx *c, Layer *l)
{
    const Layer *x = op_input(c, l, 0);
    char a[64];
    long kh, kw, sh, sw, oh = 1, ow;
    if (is_1d(l)) {
        if (x->shape.rank != 2) {
            op_error(c, "%s needs a sequence [channels, length], but %s is %s", l->op->name,
                     x->name, shape_str(&x->shape, a, sizeof a));
            return 0;
        }
    } else if (!op_image_input(c, l, &x))
        return 0;
    if (!l->arg[STRIDE].given) {
        l->arg[STRIDE].num = l->arg[SIZE].num;
        l->arg[STRIDE].pair[0] = l->arg[SIZE].pair[0], l->arg[STRIDE].pair[1] = l->arg[SIZE].pair[1];
    }
    pool_window(l, &kh, &kw, &sh, &sw);
    if (is_1d(l)) {
        if (!op_window_out(c, l, "window", "length", x->shape.dims[1], kw, sw, 0, &ow)) return 0;
        l->shape = (Shape){ 2, { x->shape.dims[0], ow } };
        return 1;
    }
    if (!op_window_out(c, l, "window", "height", x->shape.dims[1], kh, sh, 0, &oh)) return 0;
    if (!op_window_out(c, l, "window", "width", x->shape.dims[2], kw, sw, 0, &ow)) return 0;
    l->shape = (Shape){ 3, { x->shape.dims[0], oh, ow } };
    return 1;
}

/* [c, h, w] of the input (1-D: h = 1) */
static void pool_dims(const Emit *e, const Layer *l, long *c, long *h, long *w)
{
    const Layer *x = layer_input(e->m, l, 0);
    *c = x->shape.dims[0];
    *h = x->shape.rank == 3 ? x->shape.dims[1] : 1;
    *w = x->shape.dims[x->shape.rank - 1];
}

static int pool_square(const Layer *l)
{
    long kh, kw, sh, sw;
    pool_window(l, &kh, &kw, &sh, &sw);
    return !is_1d(l) && kh == kw && sh == sw;
}

static void pool_forward(Emit *e, const Layer *l, const char *kind)
{
    long c, h, w, kh, kw, sh, sw;
    pool_dims(e, l, &c, &h, &w);
    pool_window(l, &kh, &kw, &sh, &sw);
    if (pool_square(l))
        emitf(e, "    lc_%s_forward(%s, %s, n, %ld, %ld, %ld, %d, %d);\n", kind,
              e_out(e, layer_index(e->m, l)), e_in(e, l, 0), c, h, w, (int)kh, (int)sh);
    else
        emitf(e, "    lc_%s_rect_forward(%s, %s, n, %ld, %ld, %ld, %ld, %ld, %ld, %ld);\n", kind,
              e_out(e, layer_index(e->m, l)), e_in(e, l, 0), c, h, w, kh, kw, sh, sw);
}

static void pool_backward(Emit *e, const Layer *l, const char *kind)
{
    long c, h, w, kh, kw, sh, sw;
    if (!e_wants_grad(e, l, 0)) return;
    pool_dims(e, l, &c, &h, &w);
    pool_window(l, &kh, &kw, &sh, &sw);
    if (pool_square(l))
        emitf(e, "    lc_%s_backward_into(%s, %s, %s, n, %ld, %ld, %ld, %d, %d, %d);\n", kind,
              e_in_grad(e, l, 0), e_grad(e, layer_index(e->m, l)), e_in(e, l, 0), c, h, w,
              (int)kh, (int)sh, e_adds(e, l, 0));
    else
        emitf(e, "    lc_%s_rect_backward_into(%s, %s, %s, n, %ld, %ld, %ld, %ld, %ld, %ld, %ld, %d);\n",
              kind, e_in_grad(e, l, 0), e_grad(e, layer_index(e->m, l)), e_in(e, l, 0), c, h, w,
              kh, kw, sh, sw, e_adds(e, l, 0));
}

static double pool_flops(const Model *m, const Layer *l)
{
    long kh, kw, sh, sw;
    (void)m;
    pool_window(l, &kh, &kw, &sh, &sw);
    return (double)l->size * (double)kh * (double)kw;
}

static void maxpool_forward(Emit *e, const Layer *l, Mode mode) { (void)mode; pool_forward(e, l, "maxpool"); }
static void maxpool_backward(Emit *e, const Layer *l, Mode mode) { (void)mode; pool_backward(e, l, "maxpool"); }
static void avgpool_forward(Emit *e, const Layer *l, Mode mode) { (void)mode; pool_forward(e, l, "avgpool"); }
static void avgpool_backward(Emit *e, const Layer *l, Mode mode) { (void)mode; pool_backward(e, l, "avgpool"); }

/* int8: in the input's scale and zero point, as TFLite's pools */
static void pool_int8(QEmit *q, const Layer *l, const char *kind)
{
    const Layer *x = layer_input(q->m, l, 0);
    long c = x->shape.dims[0], h = x->shape.rank == 3 ? x->shape.dims[1] : 1, w = x->shape.dims[x->shape.rank - 1];
    long kh, kw, sh, sw;
    pool_window(l, &kh, &kw, &sh, &sw);
    emitf(&q->e, "    lc_i8_%s_forward(%s, %s, n, %ld, %ld, %ld, %ld, %ld, %ld, %ld);\n", kind, q_out(q, l),
          q_in(q, l, 0), c, h, w, kh, kw, sh, sw);
}

static void maxpool_int8(QEmit *q, const Layer *l) { pool_int8(q, l, "maxpool"); }
static void avgpool_int8(QEmit *q, const Layer *l) { pool_int8(q, l, "avgpool"); }
#define MAXPOOL_INT8 .int8 = { .forward = maxpool_int8, .out = Q_AS_INPUT }
#define AVGPOOL_INT8 .int8 = { .forward = avgpool_int8, .out = Q_AS_INPUT }

#define POOL_PARAMS { [X] = P_LAYER_ARG("x"), [SIZE] = { "size", P_PAIR, 0, 2, 1, 1024, 0, NULL }, \
                      [STRIDE] = { "stride", P_PAIR, 0, 0, 1, 1024, 0, NULL } }, .nparams = 3
#define POOL1D_PARAMS { [X] = P_LAYER_ARG("x"), [SIZE] = P_INT_ARG("size", 2, 1, 1024), \
                        [STRIDE] = P_INT_ARG("stride", 0, 1, 1024) }, .nparams = 3
#define MAXPOOL_KERNELS                                                                     \
    .kernels = { LC_KERNEL_REF(lc_maxpool_forward), LC_KERNEL_REF(lc_maxpool_backward_into), \
                 LC_KERNEL_REF(lc_maxpool_rect_forward),                                    \
                 LC_KERNEL_REF(lc_maxpool_rect_backward_into),                              \
                 LC_KERNEL_REF(lc_i8_maxpool_forward) },                                    \
    .units = "pool", .backward_reads = READS_INPUTS
#define AVGPOOL_KERNELS                                                                     \
    .kernels = { LC_KERNEL_REF(lc_avgpool_forward), LC_KERNEL_REF(lc_avgpool_backward_into), \
                 LC_KERNEL_REF(lc_avgpool_rect_forward),                                    \
                 LC_KERNEL_REF(lc_avgpool_rect_backward_into),                              \
                 LC_KERNEL_REF(lc_i8_avgpool_forward) },                                    \
    .units = "pool"

/* ONNX (the 2-D and 1-D pools): MaxPool or AveragePool, no padding */
static int onnx_pool(ExpCtx *cx, const char *op_type)
{
    MvWindow w;
    if (!mv_window(cx->m, cx->layer, &w)) return exp_fail(cx, "its size and stride do not give its shape");
    exp_window(cx, exp_unary(cx, op_type), &w, 0);
    return 1;
}

static int maxpool_onnx(ExpCtx *cx) { return onnx_pool(cx, "MaxPool"); }
static int avgpool_onnx(ExpCtx *cx) { return onnx_pool(cx, "AveragePool"); }

static int pool_from_onnx(ImpCtx *cx, int is_max)
{
    int64_t ks[IMP_MAX_SPATIAL], ceil_mode;
    int nks;
    ImpValue *v = imp_layer_in(cx, 0);
    if (!v) return 0;
    int sr = v->shape.rank - 1;
    if (sr < 1 || sr > IMP_MAX_SPATIAL) return imp_refuse(cx, "it pools over %d axes; layerc pools over 1 or 2", sr < 0 ? 0 : sr);
    if (!imp_attr_check(cx, is_max ? "auto_pad,ceil_mode,dilations,kernel_shape,pads,storage_order,strides"
                                   : "auto_pad,ceil_mode,count_include_pad,kernel_shape,pads,strides") ||
        imp_attr_ints(cx, "kernel_shape", ks, IMP_MAX_SPATIAL, &nks) < 0 || imp_attr_int(cx, "ceil_mode", 0, &ceil_mode) < 0)
        return 0;
    if (nks != sr) return imp_refuse(cx, "its kernel_shape does not have %d axes", sr);
    ImpWindow w;
    if (!imp_window(cx, v, ks, &w)) return 0;
    for (int a = 0; a < sr; a++)
        if (!imp_fits(cx, sr == 1 ? "maxpool1d" : "maxpool", "size", (double)w.k[a], "window size")) return 0;
    for (int a = 0; a < sr; a++) {
        /* count_include_pad only matters with pads, and layerc's pools take none */
        if (w.lo[a] || w.hi[a]) return imp_refuse(cx, "it pads its input; layerc's pools take no padding");
        if (w.d[a] != 1) return imp_refuse(cx, "it dilates its imp_window; layerc's pools do not");
        long span = w.in[a] - w.k[a];
        if (ceil_mode && span % w.s[a])
            return imp_refuse(cx, "ceil_mode=1 gives a partial imp_window at the end, which layerc's pools do not take");
    }
    if (!imp_unused_from(cx, 1, "the indices")) return 0;
    int x = imp_want(cx, v, NULL);
    if (x < 0) return 0;
    const char *op = sr == 1 ? (is_max ? "maxpool1d" : "avgpool1d") : (is_max ? "maxpool" : "avgpool");
    ImpLayer *l = imp_layer(cx, op, &x, 1);
    long k2 = sr == 2 ? w.k[1] : w.k[0], s2 = sr == 2 ? w.s[1] : w.s[0];
    imp_arg_pair(cx, l, NULL, w.k[0], k2);
    if (w.s[0] != w.k[0] || s2 != k2) imp_arg_pair(cx, l, "stride", w.s[0], s2);
    Shape out = { sr + 1, { v->shape.dims[0], w.out[0], sr == 2 ? w.out[1] : 0 } };
    l->shape = out;
    return imp_out(cx, l, &out);
}

static int maxpool_from_onnx(ImpCtx *cx) { return pool_from_onnx(cx, 1); }

const OpDef lc_op_maxpool = {
    .name = "maxpool", .doc = "largest value of each size x size (or [h, w]) window",
    .params = POOL_PARAMS, MAXPOOL_KERNELS,
    .shape = pool_shape, .forward = maxpool_forward, .backward = maxpool_backward,
    .flops = pool_flops, MAXPOOL_INT8,
    .onnx_export = maxpool_onnx,
    .onnx_import = { { "MaxPool", maxpool_from_onnx } },
};

static int avgpool_from_onnx(ImpCtx *cx) { return pool_from_onnx(cx, 0); }

const OpDef lc_op_avgpool = {
    .name = "avgpool", .doc = "mean of each size x size (or [h, w]) window",
    .params = POOL_PARAMS, AVGPOOL_KERNELS,
    .shape = pool_shape, .forward = avgpool_forward, .backward = avgpool_backward,
    .flops = pool_flops, AVGPOOL_INT8,
    .onnx_export = avgpool_onnx,
    .onnx_import = { { "AveragePool", avgpool_from_onnx } },
};

const OpDef lc_op_maxpool1d = {
    .name = "maxpool1d", .doc = "largest value of each window of a sequence [c, l]",
    .params = POOL1D_PARAMS, MAXPOOL_KERNELS,
    .shape = pool_shape, .forward = maxpool_forward, .backward = maxpool_backward,
    .flops = pool_flops, MAXPOOL_INT8,
    .onnx_export = maxpool_onnx,
};

const OpDef lc_op_avgpool1d = {
    .name = "avgpool1d", .doc = "mean of each window of a sequence [c, l]",
    .params = POOL1D_PARAMS, AVGPOOL_KERNELS,
    .shape = pool_shape, .forward = avgpool_forward, .backward = avgpool_backward,
    .flops = pool_flops, AVGPOOL_INT8,
    .onnx_export = avgpool_onnx,
};

/* ---- global pooling: one value per channel ---- */

static int global_shape(OpCtx *c, Layer *l)
{
    const Layer *x = op_input(c, l, 0);
    char a[64];
    if (x->shape.rank != 2 && x->shape.rank != 3) {
        op_error(c, "%s needs an image [channels, height, width] or a sequence [channels, "
                 "length], but %s is %s", l->op->name, x->name, shape_str(&x->shape, a, sizeof a));
        return 0;
    }
    l->shape = (Shape){ 1, { x->shape.dims[0] } };
    return 1;
}

/* values of one plane of the input */
static long global_plane(const Emit *e, const Layer *l)
{
    const Layer *x = layer_input(e->m, l, 0);
    return x->size / x->shape.dims[0];
}

static void gavg_forward(Emit *e, const Layer *l, Mode mode)
{
    (void)mode;
    emitf(e, "    lc_global_avgpool_forward(%s, %s, n, %ld, %ld);\n", e_out(e, layer_index(e->m, l)),
          e_in(e, l, 0), l->size, global_plane(e, l));
}

static void gavg_backward(Emit *e, const Layer *l, Mode mode)
{
    (void)mode;
    if (!e_wants_grad(e, l, 0)) return;
    emitf(e, "    lc_global_avgpool_backward_into(%s, %s, n, %ld, %ld, %d);\n", e_in_grad(e, l, 0),
          e_grad(e, layer_index(e->m, l)), l->size, global_plane(e, l), e_adds(e, l, 0));
}

static void gmax_forward(Emit *e, const Layer *l, Mode mode)
{
    (void)mode;
    emitf(e, "    lc_global_maxpool_forward(%s, %s, n, %ld, %ld);\n", e_out(e, layer_index(e->m, l)),
          e_in(e, l, 0), l->size, global_plane(e, l));
}

static void gmax_backward(Emit *e, const Layer *l, Mode mode)
{
    (void)mode;
    if (!e_wants_grad(e, l, 0)) return;
    emitf(e, "    lc_global_maxpool_backward_into(%s, %s, %s, n, %ld, %ld, %d);\n", e_in_grad(e, l, 0),
          e_grad(e, layer_index(e->m, l)), e_in(e, l, 0), l->size, global_plane(e, l),
          e_adds(e, l, 0));
}

/* int8: the window of the whole plane */
static void global_int8(QEmit *q, const Layer *l, const char *kind)
{
    const Layer *x = layer_input(q->m, l, 0);
    long c = x->shape.dims[0], h = x->shape.rank == 3 ? x->shape.dims[1] : 1, w = x->shape.dims[x->shape.rank - 1];
    emitf(&q->e, "    lc_i8_%s_forward(%s, %s, n, %ld, %ld, %ld, %ld, %ld, 1, 1);\n", kind, q_out(q, l),
          q_in(q, l, 0), c, h, w, h, w);
}

static void gavg_int8(QEmit *q, const Layer *l) { global_int8(q, l, "avgpool"); }
static void gmax_int8(QEmit *q, const Layer *l) { global_int8(q, l, "maxpool"); }

static double global_flops(const Model *m, const Layer *l)
{
    return (double)layer_input(m, l, 0)->size;
}

/* ONNX: [c, h, w] -> [c] is the global pool, then a Flatten of its [c, 1, 1] */
static int onnx_global_pool(ExpCtx *cx, const char *op_type)
{
    const char *pooled = arena_printf(cx->a, "%s/pooled", exp_out(cx));
    const char *in[1] = { exp_in(cx, 0) };
    exp_node(cx, op_type, NULL, in, 1, pooled);
    Onnx__NodeProto *f = exp_node(cx, "Flatten", arena_printf(cx->a, "%s/flat", exp_out(cx)), &pooled, 1, exp_out(cx));
    exp_attr_int(cx, f, "axis", 1);
    exp_mark(cx, f, arena_printf(cx->a, "output of %s (a vector)", exp_out(cx)));
    return 1;
}

static int global_avgpool_onnx(ExpCtx *cx) { return onnx_global_pool(cx, "GlobalAveragePool"); }
static int global_maxpool_onnx(ExpCtx *cx) { return onnx_global_pool(cx, "GlobalMaxPool"); }

static int global_pool_from_onnx(ImpCtx *cx, const char *op)
{
    ImpValue *v = imp_layer_in(cx, 0);
    if (!v || !imp_attr_check(cx, "")) return 0;
    int sr = v->shape.rank - 1;
    if (sr < 1 || sr > IMP_MAX_SPATIAL) return imp_refuse(cx, "it pools over %d axes; layerc pools over 1 or 2", sr < 0 ? 0 : sr);
    int x = imp_want(cx, v, NULL);
    if (x < 0) return 0;
    ImpLayer *l = imp_layer(cx, op, &x, 1);
    l->shape = (Shape){ 1, { v->shape.dims[0] } };
    Shape onnx = { sr + 1, { v->shape.dims[0], 1, 1 } };
    return imp_out(cx, l, &onnx);
}

static int global_avgpool_from_onnx(ImpCtx *cx) { return global_pool_from_onnx(cx, "global_avgpool"); }

const OpDef lc_op_global_avgpool = {
    .name = "global_avgpool", .doc = "mean of each channel: [c, h, w] or [c, l] -> [c]",
    .params = { [X] = P_LAYER_ARG("x") }, .nparams = 1,
    .kernels = { LC_KERNEL_REF(lc_global_avgpool_forward),
                 LC_KERNEL_REF(lc_global_avgpool_backward_into), LC_KERNEL_REF(lc_i8_avgpool_forward) },
    .units = "pool",
    .shape = global_shape, .forward = gavg_forward, .backward = gavg_backward,
    .flops = global_flops, .int8 = { .forward = gavg_int8, .out = Q_AS_INPUT },
    .onnx_export = global_avgpool_onnx,
    .onnx_import = { { "GlobalAveragePool", global_avgpool_from_onnx } },
};

static int global_maxpool_from_onnx(ImpCtx *cx) { return global_pool_from_onnx(cx, "global_maxpool"); }

const OpDef lc_op_global_maxpool = {
    .name = "global_maxpool", .doc = "largest value of each channel: [c, h, w] or [c, l] -> [c]",
    .params = { [X] = P_LAYER_ARG("x") }, .nparams = 1,
    .kernels = { LC_KERNEL_REF(lc_global_maxpool_forward),
                 LC_KERNEL_REF(lc_global_maxpool_backward_into), LC_KERNEL_REF(lc_i8_maxpool_forward) },
    .units = "pool", .backward_reads = READS_INPUTS,
    .shape = global_shape, .forward = gmax_forward, .backward = gmax_backward,
    .flops = global_flops, .int8 = { .forward = gmax_int8, .out = Q_AS_INPUT },
    .onnx_export = global_maxpool_onnx,
    .onnx_import = { { "GlobalMaxPool", global_maxpool_from_onnx } },
};
