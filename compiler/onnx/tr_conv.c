/* tr_conv.c: ONNX translators for convolutions and pools (see import_ops.h).
 *
 * Each translator checks every attribute against what the layerc op can
 * express and refuses the node otherwise: the numbers layerc computes must
 * be ONNX's own (the ONNX operator documents, onnx/docs/Operators.md,
 * against SPEC section 1).
 */
#include "import_ops.h"

#include <string.h>

#define MAXS 2      /* spatial axes layerc takes: 1-D and 2-D */

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

int tr_conv(ImpCtx *cx)
{
    int64_t group, ks[MAXS];
    int nks;
    ImpValue *v = imp_layer_in(cx, 0);
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
    return imp_out(cx, l, &out);
}

static int pool(ImpCtx *cx, int is_max)
{
    int64_t ks[MAXS], ceil_mode;
    int nks;
    ImpValue *v = imp_layer_in(cx, 0);
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

int tr_maxpool(ImpCtx *cx) { return pool(cx, 1); }
int tr_avgpool(ImpCtx *cx) { return pool(cx, 0); }

static int global_pool(ImpCtx *cx, const char *op)
{
    ImpValue *v = imp_layer_in(cx, 0);
    if (!v || !imp_attr_check(cx, "")) return 0;
    int sr = v->shape.rank - 1;
    if (sr < 1 || sr > MAXS) return imp_refuse(cx, "it pools over %d axes; layerc pools over 1 or 2", sr < 0 ? 0 : sr);
    int x = imp_want(cx, v, NULL);
    if (x < 0) return 0;
    ImpLayer *l = imp_layer(cx, op, &x, 1);
    l->shape = (Shape){ 1, { v->shape.dims[0] } };
    Shape onnx = { sr + 1, { v->shape.dims[0], 1, 1 } };
    return imp_out(cx, l, &onnx);
}

int tr_global_avgpool(ImpCtx *cx) { return global_pool(cx, "global_avgpool"); }
int tr_global_maxpool(ImpCtx *cx) { return global_pool(cx, "global_maxpool"); }
