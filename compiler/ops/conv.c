/* ops/conv.c: conv2d(x, f, kernel, stride=1, pad=0, dilation=1, groups=1):
 * [c, h, w] -> [f, h', w'] with its own weights NAME.W [f, c/g, kh, kw] and
 * NAME.b [f], as torch.nn.Conv2d; conv1d the same on [c, l] with NAME.W
 * [f, c/g, k], as torch.nn.Conv1d.  kernel, stride, pad and dilation of
 * conv2d are a number or [h, w]; pad=same gives ceil(h / stride) outputs,
 * the odd row or column of padding below or right, as Keras and TFLite.
 *
 * Three kernels: a depthwise layer (groups = channels) has its own direct
 * one (lc_dwconv_*); any other goes through im2col and a matrix product
 * (lc_conv_*, a group at a time); and the square case of layerc's first
 * version (one kernel size, stride and padding, no dilation, one group)
 * keeps its call (lc_conv2d_*), so the C of such models does not change.
 * With --target mcu the last two are conv_mcu.c's direct convolution,
 * which needs no scratch, and a depthwise layer takes it too. */
#include "common.h"

#include <stdio.h>
#include <string.h>

#include "kernels.h"
#include "qemit.h"
#include "onnx/expctx.h"
#include "onnx/impctx.h"

enum { W, B };   /* weight slots */
enum { X, FILTERS, KERNEL, STRIDE, PAD, DILATION, GROUPS, BIAS, INIT, DECAY, NPARAMS };

static const char *const pad_words[] = { "same", NULL };

extern const OpDef lc_op_conv1d;

static int is_1d(const Layer *l) { return l->op == &lc_op_conv1d; }

/* Side k of the layer's pair parameter (conv1d's are numbers). */
static long side_of(const Layer *l, int p, int k)
{
    return is_1d(l) ? (long)l->arg[p].num : l->arg[p].pair[k];
}

/* One side of the output: input n, kernel k, stride s, dilation dl, padding
 * p before and after, or "same" (ceil(n / s) outputs, the odd one of the
 * padding after).  With c, reports why it does not fit (what: "height"). */
static int conv_side(OpCtx *c, const Layer *l, const char *what, long n, long k, long s, long dl,
                     long p, int same, long *out, long *before)
{
    long span = (k - 1) * dl + 1;
    if (same) {
        long o = (n + s - 1) / s, total = (o - 1) * s + span - n;
        *out = o;
        *before = total > 0 ? total / 2 : 0;
        return 1;
    }
    *before = p;
    if (dl == 1) return c ? op_window_out(c, l, "kernel", what, n, k, s, p, out) : (*out = (n + 2 * p - k) / s + 1, 1);
    if (span > n + 2 * p) {
        if (c)
            op_error(c, "%s: the kernel %ld with dilation %ld spans %ld, more than the %s of the "
                     "%sinput (%ld)", l->op->name, k, dl, span, what, p ? "padded " : "", n + 2 * p);
        return 0;
    }
    *out = (n + 2 * p - span) / s + 1;
    return 1;
}

/* The geometry of layer l for the kernels (c: report what does not fit). */
static int conv_dims(OpCtx *c, const Model *m, const Layer *l, lc_conv_dims *d)
{
    const Layer *x = layer_input(m, l, 0);
    int one = is_1d(l), same = l->arg[PAD].word == 1;
    long oh = 1, ow, ph = 0, pw;
    d->C = (int)x->shape.dims[0];
    d->H = one ? 1 : (int)x->shape.dims[1];
    d->W = (int)x->shape.dims[one ? 1 : 2];
    d->OC = (int)l->arg[FILTERS].num, d->G = (int)l->arg[GROUPS].num;
    d->KH = one ? 1 : (int)side_of(l, KERNEL, 0), d->KW = (int)side_of(l, KERNEL, 1);
    d->SH = one ? 1 : (int)side_of(l, STRIDE, 0), d->SW = (int)side_of(l, STRIDE, 1);
    d->DH = one ? 1 : (int)side_of(l, DILATION, 0), d->DW = (int)side_of(l, DILATION, 1);
    if (!one && !conv_side(c, l, "height", d->H, d->KH, d->SH, d->DH, side_of(l, PAD, 0), same,
                           &oh, &ph))
        return 0;
    if (!conv_side(c, l, one ? "length" : "width", d->W, d->KW, d->SW, d->DW, side_of(l, PAD, 1),
                   same, &ow, &pw))
        return 0;
    d->OH = (int)oh, d->OW = (int)ow, d->PH = (int)ph, d->PW = (int)pw;
    return 1;
}

/* The kernel of layer l: 'd'epthwise, 's'quare (lc_conv2d_*), or the general
 * one.  For small cores a depthwise layer takes the general kernel too:
 * conv_mcu.c's direct convolution needs no scratch, where dwconv.c's
 * polyphase planes do. */
static int conv_kind(const Layer *l, const lc_conv_dims *d, Target target)
{
    if (d->G == d->C && d->C > 1) return target == TARGET_MCU ? 'g' : 'd';
    if (!is_1d(l) && d->G == 1 && d->KH == d->KW && d->SH == d->SW && d->PH == d->PW &&
        d->DH == 1 && d->DW == 1 && d->OH == LC_CONV_OUT(d->H, d->KH, d->SH, d->PH) &&
        d->OW == LC_CONV_OUT(d->W, d->KW, d->SW, d->PW))
        return 's';
    return 'g';
}

static int conv_shape(OpCtx *c, Layer *l)
{
    const Layer *x = op_input(c, l, 0);
    char a[64];
    int one = is_1d(l);
    if (x->shape.rank != (one ? 2 : 3)) {
        op_error(c, "%s needs %s, but %s is %s", l->op->name,
                 one ? "a sequence [channels, length]" : "an image [channels, height, width]",
                 x->name, shape_str(&x->shape, a, sizeof a));
        return 0;
    }
    if (one && l->arg[PAD].word == 0 && l->arg[PAD].pair[0] != l->arg[PAD].pair[1]) {
        op_error(c, "conv1d: pad is one number (or same), not [%ld, %ld]", l->arg[PAD].pair[0],
                 l->arg[PAD].pair[1]);
        return 0;
    }
    long ch = x->shape.dims[0], f = (long)l->arg[FILTERS].num, g = (long)l->arg[GROUPS].num;
    if (ch % g || f % g) {
        op_error(c, "%s: groups=%ld must divide the %ld input channels of %s and the %ld filters",
                 l->op->name, g, ch, x->name, f);
        return 0;
    }
    lc_conv_dims d;
    if (!conv_dims(c, c->m, l, &d)) return 0;
    long taps = (long)d.KH * d.KW, cg = ch / g;
    Shape ws = one ? (Shape){ 3, { f, cg, d.KW } } : (Shape){ 4, { f, cg, d.KH, d.KW } };
    Shape bs = { 1, { f } };
    const Init *init = l->arg[INIT].given ? &l->arg[INIT].init : NULL;
    Init zeros = { INIT_ZEROS, 0, 0, NULL };
    /* fans as torch's: (c/g) kh kw in, f kh kw out */
    if (!op_weight(c, l, W, ws, cg * taps, f * taps, init)) return 0;
    c->m->weights[l->w[W]].decay = l->arg[DECAY].num;
    if (l->arg[BIAS].num != 0 && !op_weight(c, l, B, bs, cg * taps, f * taps, init ? &zeros : NULL))
        return 0;
    l->shape = one ? (Shape){ 2, { f, d.OW } } : (Shape){ 3, { f, d.OH, d.OW } };
    return 1;
}

/* Scratch of the kernel (kernels.h): polyphase planes for the depthwise
 * one; im2col buffers for the others, none for their small-core versions,
 * which convolve directly. */
static long conv_scratch(const Model *m, const Layer *l, const Build *b)
{
    lc_conv_dims d;
    conv_dims(NULL, m, l, &d);
    if (conv_kind(l, &d, b->target) == 'd') return LC_DWCONV_WORK(&d, b->threads);
    return b->target == TARGET_MCU ? 0 : LC_CONV_WORK(&d, b->threads);
}

/* The scratch argument of the kernel: none for the direct small-core
 * convolution (conv_mcu.c), which has no m->work to give. */
static const char *work_arg(const Emit *e, int kind)
{
    return kind != 'd' && e->build.target == TARGET_MCU ? "NULL" : "m->work";
}

/* The block that calls kernel `fn` with the layer's geometry (in a local
 * lc_conv_dims d) after the pointers `args`. */
static void emit_general(Emit *e, const lc_conv_dims *d, const char *fn, const char *args,
                         const char *work, const char *after)
{
    emitf(e, "    {\n        static const lc_conv_dims d = { .C = %d, .H = %d, .W = %d, .OC = %d, "
             ".OH = %d, .OW = %d,\n"
             "            .KH = %d, .KW = %d, .SH = %d, .SW = %d, .PH = %d, .PW = %d, .DH = %d, "
             ".DW = %d, .G = %d };\n"
             "        %s(%s,\n            %s, n, &d%s);\n    }\n",
          d->C, d->H, d->W, d->OC, d->OH, d->OW, d->KH, d->KW, d->SH, d->SW, d->PH, d->PW, d->DH,
          d->DW, d->G, fn, args, work, after);
}

static void conv_forward(Emit *e, const Layer *l, Mode mode)
{
    lc_conv_dims d;
    int kind;
    (void)mode;
    conv_dims(NULL, e->m, l, &d);
    kind = conv_kind(l, &d, e->build.target);
    if (kind == 's') {
        emitf(e, "    lc_conv2d_forward(%s, %s, %s, %s, %s,\n"
                 "                      n, %d, %d, %d, %d, %d, %d, %d);\n",
              e_out(e, layer_index(e->m, l)), e_in(e, l, 0), e_weight(e, l, W), e_weight(e, l, B),
              work_arg(e, kind), d.C, d.H, d.W, d.OC, d.KH, d.SH, d.PH);
        return;
    }
    char args[512];
    snprintf(args, sizeof args, "%s, %s, %s, %s", e_out(e, layer_index(e->m, l)), e_in(e, l, 0),
             e_weight(e, l, W), e_weight(e, l, B));
    emit_general(e, &d, kind == 'd' ? "lc_dwconv_forward" : "lc_conv_forward", args,
                 work_arg(e, kind), "");
}

static void conv_backward(Emit *e, const Layer *l, Mode mode)
{
    lc_conv_dims d;
    int kind, add = e_wants_grad(e, l, 0) ? e_adds(e, l, 0) : 1;
    (void)mode;
    conv_dims(NULL, e->m, l, &d);
    kind = conv_kind(l, &d, e->build.target);
    if (kind == 's') {
        emitf(e, "    lc_conv2d_backward_into(%s, %s, %s,\n"
                 "                            %s, %s, %s, %s,\n"
                 "                            n, %d, %d, %d, %d, %d, %d, %d, %d);\n",
              e_in_grad(e, l, 0), e_wgrad(e, l, W), e_wgrad(e, l, B), e_grad(e, layer_index(e->m, l)),
              e_in(e, l, 0), e_weight(e, l, W), work_arg(e, kind), d.C, d.H, d.W, d.OC, d.KH, d.SH, d.PH, add);
        return;
    }
    char args[768], after[16];
    snprintf(args, sizeof args, "%s, %s, %s,\n            %s, %s, %s", e_in_grad(e, l, 0),
             e_wgrad(e, l, W), e_wgrad(e, l, B), e_grad(e, layer_index(e->m, l)), e_in(e, l, 0),
             e_weight(e, l, W));
    snprintf(after, sizeof after, ", %d", add);
    emit_general(e, &d, kind == 'd' ? "lc_dwconv_backward_into" : "lc_conv_backward_into", args,
                 work_arg(e, kind), after);
}

/* int8: one direct kernel for every geometry (groups, depthwise, stride,
 * padding, dilation), requantised per output channel */
static void conv_int8(QEmit *q, const Layer *l)
{
    lc_conv_dims d;
    conv_dims(NULL, q->m, l, &d);
    const char *wts = q_channel_weights(q, l, W, B), *quant = q_quant(q, l);
    emitf(&q->e, "    {\n        static const lc_conv_dims d = { .C = %d, .H = %d, .W = %d, .OC = %d, "
             ".OH = %d, .OW = %d,\n"
             "            .KH = %d, .KW = %d, .SH = %d, .SW = %d, .PH = %d, .PW = %d, .DH = %d, "
             ".DW = %d, .G = %d };\n"
             "        lc_i8_conv_forward(%s, %s, %s,\n            n, &d, %s);\n    }\n",
          d.C, d.H, d.W, d.OC, d.OH, d.OW, d.KH, d.KW, d.SH, d.SW, d.PH, d.PW, d.DH, d.DW, d.G,
          q_out(q, l), q_in(q, l, 0), wts, quant);
}

static double conv_flops(const Model *m, const Layer *l)
{
    long positions = l->shape.rank == 3 ? l->shape.dims[1] * l->shape.dims[2] : l->shape.dims[1];
    return (double)layer_weight(m, l, W)->size * (double)positions;
}

#define CONV_KERNELS                                                                          \
    .kernels = { LC_KERNEL_REF(lc_conv2d_forward), LC_KERNEL_REF(lc_conv2d_backward_into),   \
                 LC_KERNEL_REF(lc_conv_forward), LC_KERNEL_REF(lc_conv_backward_into),       \
                 LC_KERNEL_REF(lc_dwconv_forward), LC_KERNEL_REF(lc_dwconv_backward_into), \
                 LC_KERNEL_REF(lc_i8_conv_forward) },                                        \
    .units = "gemm conv dwconv"
#define CONV_WEIGHTS                                                                          \
    .weights = { [W] = { "W", ROLE_TRAINABLE, { INIT_DEFAULT, 0, 0, NULL } },                 \
                 [B] = { "b", ROLE_TRAINABLE, { INIT_DEFAULT, 0, 0, NULL } } }, .nweights = 2

/* Padding would read zeros where a folded input transform has mean / std. */
static int conv_absorbs_input(const Layer *l)
{
    const ArgValue *pad = &l->arg[PAD];
    return !pad->word && pad->pair[0] == 0 && pad->pair[1] == 0 && l->arg[GROUPS].num == 1;
}

/* ONNX (conv2d and conv1d): Conv with kernel_shape, strides, pads (Keras'
 * `same` as its pads), dilations and group */
static int conv_onnx(ExpCtx *cx)
{
    MvWindow w;
    if (!mv_window(cx->m, cx->layer, &w)) return exp_fail(cx, "its kernel, stride and pads do not give its shape");
    int nw = mv_layer_nweights(cx->m, cx->layer);
    const char *in[3] = { exp_in(cx, 0), NULL, NULL };
    for (int k = 0; k < nw; k++) in[k + 1] = exp_weight(cx, mv_layer_weight(cx->m, cx->layer, k));
    exp_window(cx, exp_node(cx, "Conv", NULL, in, 1 + nw, exp_out(cx)), &w, 1);
    return 1;
}

static int conv_from_onnx(ImpCtx *cx)
{
    int64_t group, ks[IMP_MAX_SPATIAL];
    int nks;
    ImpValue *v = imp_layer_in(cx, 0);
    if (!v) return 0;
    int sr = v->shape.rank - 1;
    if (sr < 1 || sr > IMP_MAX_SPATIAL)
        return imp_refuse(cx, "it is a %d-D convolution; layerc has conv1d and conv2d", sr < 0 ? 0 : sr);
    if (!imp_attr_check(cx, "auto_pad,dilations,group,kernel_shape,pads,strides") ||
        imp_attr_int(cx, "group", 1, &group) < 0 || imp_attr_ints(cx, "kernel_shape", ks, IMP_MAX_SPATIAL, &nks) < 0)
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
    ImpWindow w;
    if (!imp_window(cx, v, W->dims + 2, &w)) return 0;
    for (int a = 0; a < sr; a++)
        if (!imp_fits(cx, sr == 1 ? "conv1d" : "conv2d", "kernel", (double)w.k[a], "kernel size")) return 0;
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
    if (w.same) imp_arg(cx, l, "pad", "same");
    else if (w.lo[0] || w.lo[sr - 1]) imp_arg_pair(cx, l, "pad", w.lo[0], w.lo[sr - 1]);
    if (w.d[0] != 1 || w.d[sr - 1] != 1) imp_arg_pair(cx, l, "dilation", w.d[0], w.d[sr - 1]);
    if (group != 1) imp_arg(cx, l, "groups", "%lld", (long long)group);
    if (!b) imp_arg(cx, l, "bias", "0");
    imp_weight(cx, l, "W", Wt);
    if (b) imp_weight(cx, l, "b", b);
    l->fuse = b ? 0 : IMP_FUSE_BIAS;
    Shape out = { sr + 1, { F, w.out[0], sr == 2 ? w.out[1] : 0 } };
    l->shape = out;
    return imp_out(cx, l, &out);
}

const OpDef lc_op_conv2d = {
    .name = "conv2d",
    .doc = "2-D convolution with its own weights NAME.W [f, c/groups, kh, kw], NAME.b [f]",
    .params = { [X] = P_LAYER_ARG("x"), [FILTERS] = P_REQ_INT("filters", 1, OP_BIG),
                [KERNEL] = { "kernel", P_PAIR, 1, 0, 1, 1024, 0, NULL },
                [STRIDE] = { "stride", P_PAIR, 0, 1, 1, 1024, 0, NULL },
                [PAD] = { "pad", P_PAIR, 0, 0, 0, 1024, 0, pad_words },
                [DILATION] = { "dilation", P_PAIR, 0, 1, 1, 1024, 0, NULL },
                [GROUPS] = P_INT_ARG("groups", 1, 1, OP_BIG),
                [BIAS] = P_KW_INT("bias", 1, 0, 1), [INIT] = P_KW_INIT("init"), [DECAY] = P_DECAY },
    .nparams = NPARAMS, CONV_WEIGHTS, CONV_KERNELS,
    .scratch = conv_scratch, .backward_reads = READS_INPUTS,
    .shape = conv_shape, .forward = conv_forward, .backward = conv_backward, .flops = conv_flops,
    .fold_into = { 1, W, B }, .absorbs_input = conv_absorbs_input,
    .int8 = { .forward = conv_int8, .takes_clamp = 1 },
    .onnx_export = conv_onnx,
    .onnx_import = { { "Conv", conv_from_onnx } },
};

const OpDef lc_op_conv1d = {
    .name = "conv1d",
    .doc = "1-D convolution with its own weights NAME.W [f, c/groups, k], NAME.b [f]",
    .params = { [X] = P_LAYER_ARG("x"), [FILTERS] = P_REQ_INT("filters", 1, OP_BIG),
                [KERNEL] = P_REQ_INT("kernel", 1, 1024), [STRIDE] = P_INT_ARG("stride", 1, 1, 1024),
                [PAD] = { "pad", P_PAIR, 0, 0, 0, 1024, 0, pad_words },
                [DILATION] = P_INT_ARG("dilation", 1, 1, 1024),
                [GROUPS] = P_INT_ARG("groups", 1, 1, OP_BIG),
                [BIAS] = P_KW_INT("bias", 1, 0, 1), [INIT] = P_KW_INIT("init"), [DECAY] = P_DECAY },
    .nparams = NPARAMS, CONV_WEIGHTS, CONV_KERNELS,
    .scratch = conv_scratch, .backward_reads = READS_INPUTS,
    .shape = conv_shape, .forward = conv_forward, .backward = conv_backward, .flops = conv_flops,
    .fold_into = { 1, W, B }, .absorbs_input = conv_absorbs_input,
    .int8 = { .forward = conv_int8, .takes_clamp = 1 },
    .onnx_export = conv_onnx,
};
