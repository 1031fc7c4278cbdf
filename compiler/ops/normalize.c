/* ops/normalize.c: normalize(x, mean, std), s -> s: (x - mean[c]) / std[c]
 * per channel of [c, ...] or per feature of [n] (as batchnorm counts them),
 * torchvision's transforms.Normalize(mean, std).  mean and std are a number
 * (every channel) or a list of one number per channel: constants of the
 * model, not weights, so no weight file carries them.
 *
 * Its evaluation is an affine map per channel, scale 1 / std and shift
 * -mean / std: when weights are baked for inference it folds into the layer
 * that reads it (a dense, or a conv without padding: fold.c's
 * `absorbs_input`), or into the layer before it as batchnorm does. */
#include "common.h"

#include <stdio.h>
#include <string.h>

#include "kernels.h"
#include "onnx/expctx.h"
#include "onnx/impctx.h"

enum { NZ_X, NZ_MEAN, NZ_STD };

static void nz_dims(const Layer *x, long *c, long *s)
{
    *c = x->shape.dims[0];
    *s = x->size / *c;
}

/* mean or std of channel c: one number for all, or the list's */
static double nz_at(const Layer *l, int slot, long c)
{
    const ArgValue *a = &l->arg[slot];
    return a->nreals == 1 ? a->reals[0] : a->reals[c];
}

static int normalize_shape(OpCtx *c, Layer *l)
{
    const Layer *x = op_input(c, l, 0);
    long ch = x->shape.dims[0];
    static const char *const what[] = { [NZ_MEAN] = "mean", [NZ_STD] = "std" };
    for (int k = NZ_MEAN; k <= NZ_STD; k++) {
        int n = l->arg[k].nreals;
        if (n != 1 && n != ch) {
            char buf[64];
            op_error(c, "normalize(): %s has %d values, but %s %s has %ld %s: give one number, or %ld",
                     what[k], n, x->name, shape_str(&x->shape, buf, sizeof buf), ch,
                     x->shape.rank == 1 ? "features" : "channels", ch);
            return 0;
        }
    }
    for (long i = 0; i < ch; i++)
        if (!(nz_at(l, NZ_STD, i) > 0)) {
            op_error(c, "normalize(): std must be positive, not %g (channel %ld)", nz_at(l, NZ_STD, i), i);
            return 0;
        }
    l->shape = x->shape;
    return 1;
}

/* static const arrays NAME[c] of the values of slot `slot`, in a block */
static void emit_values(Emit *e, const Layer *l, int slot, const char *name, long ch)
{
    emitf(e, "        static const %s %s[%ld] = {", e_real(e), name, ch);
    for (long i = 0; i < ch; i++)
        emitf(e, "%s%s%s", i ? "," : "", i % 6 ? " " : "\n            ", e_num(e, nz_at(l, slot, i)));
    emitf(e, "\n        };\n");
}

static void normalize_forward(Emit *e, const Layer *l, Mode mode)
{
    long c, s;
    (void)mode;
    nz_dims(layer_input(e->m, l, 0), &c, &s);
    emitf(e, "    {\n");
    emit_values(e, l, NZ_MEAN, "mean", c);
    emit_values(e, l, NZ_STD, "std", c);
    emitf(e, "        lc_normalize_forward(%s, %s, mean, std, n, %ld, %ld);\n    }\n",
          e_out(e, layer_index(e->m, l)), e_in(e, l, 0), c, s);
}

/* dx = dy / std */
static void normalize_backward(Emit *e, const Layer *l, Mode mode)
{
    long c, s;
    (void)mode;
    if (!e_wants_grad(e, l, 0)) return;
    nz_dims(layer_input(e->m, l, 0), &c, &s);
    emitf(e, "    {\n");
    emit_values(e, l, NZ_STD, "std", c);
    emitf(e, "        lc_normalize_backward(%s, %s, std, n, %ld, %ld, %d);\n    }\n", e_in_grad(e, l, 0),
          e_grad(e, layer_index(e->m, l)), c, s, e_adds(e, l, 0));
}

/* y = x / std - mean / std */
static int normalize_fold(const Model *m, const Layer *l, const float *params, double *scale, double *shift)
{
    long c, s;
    (void)params;
    nz_dims(layer_input(m, l, 0), &c, &s);
    for (long i = 0; i < c; i++) {
        scale[i] = 1 / nz_at(l, NZ_STD, i);
        shift[i] = -nz_at(l, NZ_MEAN, i) / nz_at(l, NZ_STD, i);
    }
    return (int)c;
}

/* ONNX: Sub(x, mean) and Div(., std), the two constants one number or one a
 * channel, shaped to broadcast over the sample's other axes ([1, c, 1, 1]
 * for an image), as torch.onnx.export writes (x - mean) / std. */
static int normalize_onnx(ExpCtx *cx)
{
    static const char *const what[] = { [NZ_MEAN] = "mean", [NZ_STD] = "std" };
    const Layer *l = &cx->m->layers[cx->layer];
    Shape s = mv_shape(cx->m, cx->layer);
    const char *c[3];
    for (int k = NZ_MEAN; k <= NZ_STD; k++) {
        int n = l->arg[k].nreals;
        float *v = arena_alloc(cx->a, sizeof(float) * (size_t)n);
        for (int i = 0; i < n; i++) v[i] = (float)l->arg[k].reals[i];
        int64_t dims[LC_MAX_RANK + 1] = { 1, n };
        for (int a = 1; a < s.rank; a++) dims[a + 1] = 1;
        c[k] = n == 1 ? exp_const_float(cx, what[k], v[0]) : exp_const_floats(cx, what[k], v, s.rank + 1, dims);
    }
    const char *centred = arena_printf(cx->a, "%s/centred", exp_out(cx));
    const char *sub[2] = { exp_in(cx, 0), c[NZ_MEAN] }, *div[2] = { centred, c[NZ_STD] };
    exp_node(cx, "Sub", centred, sub, 2, centred);
    exp_node(cx, "Div", NULL, div, 2, exp_out(cx));
    return 1;
}

/* The values of a constant that broadcasts against a sample x along its
 * first axis: one number, or one a channel ([c], [c, 1, 1], [1, c, 1, 1]
 * for an image [c, h, w]); 0 for anything else. */
static long per_channel(const OxTensor *t, const Shape *x)
{
    long ch = x->dims[0], other = 1;
    int at = t->rank - x->rank;   /* t's axis that meets the sample's first */
    if (t->n == 1) return 1;
    if (t->n != ch || at < 0 || t->dims[at] != ch) return 0;
    for (int k = 0; k < t->rank; k++) other *= k == at ? 1 : t->dims[k];
    return other == 1 ? ch : 0;
}

/* "[a, b, ...]" or "a" of the n values of t, each checked against normalize's range */
static const char *reals_text(ImpCtx *cx, const OxTensor *t, long n, const char *param)
{
    size_t cap = (size_t)n * 18 + 4, k = 0;
    char *s = arena_alloc(cx->a, cap);
    if (n > 1) s[k++] = '[';
    for (long i = 0; i < n; i++) {
        if (!imp_fits(cx, "normalize", param, oxt_get(t, i), param)) return NULL;
        k += (size_t)snprintf(s + k, cap - k, "%s%s", i ? ", " : "", imp_num(cx, oxt_get(t, i)));
    }
    if (n > 1) s[k++] = ']';
    s[k] = 0;
    return s;
}

/* Sub(x, mean) read by Div(., std) alone, both constants per channel: one
 * normalize layer.  Any other Sub is refused. */
static int normalize_from_onnx(ImpCtx *cx)
{
    ImpValue *x = imp_in(cx, 0), *m = imp_in(cx, 1);
    const char *why = "layerc subtracts only in normalize, (x - mean) / std with mean and std constants "
                      "of one number or one a channel";
    if (!imp_attr_check(cx, "")) return 0;
    if (!x || !m || x->kind != IMP_LAYER || m->kind != IMP_CONST || x->shape.rank < 1)
        return imp_refuse(cx, "it is not a layer minus a constant: %s", why);
    int slot, div = imp_sole_reader(cx, cx->node, 0, &slot);
    const Onnx__NodeProto *dn = div >= 0 ? cx->g->g->node[div] : NULL;
    if (!dn || strcmp(dn->op_type, "Div") || dn->n_input != 2 || slot != 0 || dn->n_output != 1 || dn->n_attribute)
        return imp_refuse(cx, "no Div by a constant alone reads it: %s", why);
    const OxTensor *sd = imp_peek_const(cx, cx->g->in[div][1]);
    long nm = per_channel(m->t, &x->shape), ns = sd ? per_channel(sd, &x->shape) : 0;
    if (!nm || !ns) return imp_refuse(cx, "its constant or the Div's is not per channel: %s", why);
    for (long i = 0; i < ns; i++)
        if (!(oxt_get(sd, i) > 0)) return imp_refuse(cx, "the Div's std %g is not positive: %s", oxt_get(sd, i), why);
    const char *mean = reals_text(cx, m->t, nm, "mean"), *std = mean ? reals_text(cx, sd, ns, "std") : NULL;
    if (!std) return 0;
    Shape onnx = x->shape;
    int lx = imp_want(cx, x, NULL);
    if (lx < 0) return 0;
    const char *from = imp_node_label(cx);
    int sub = cx->node;
    const Onnx__NodeProto *sn = cx->n;
    cx->node = div, cx->n = dn;   /* the layer is the Div's value, named after it */
    ImpLayer *l = imp_layer(cx, "normalize", &lx, 1);
    imp_arg(cx, l, "mean", "%s", mean);
    imp_arg(cx, l, "std", "%s", std);
    l->shape = imp_layer_at(cx, lx)->shape;
    l->comment = arena_printf(cx->a, "%s and %s", from, imp_node_label(cx));
    int n = imp_index(cx, l);
    cx->node = sub, cx->n = sn;
    imp_take(cx, div, 0, n, &onnx);
    imp_out_layer(cx, 0, n, &onnx);   /* read only by the Div, which is taken */
    return 1;
}

const OpDef lc_op_normalize = {
    .name = "normalize",
    .doc = "(x - mean) / std per channel ([c, ...]) or feature ([n]), as torchvision's Normalize",
    .params = { [NZ_X] = P_LAYER_ARG("x"),
                [NZ_MEAN] = { "mean", P_REALS, 1, 0, -OP_BIG, OP_BIG, 0, NULL },
                [NZ_STD] = { "std", P_REALS, 1, 0, -OP_BIG, OP_BIG, 0, NULL } },
    .nparams = 3,
    .kernels = { LC_KERNEL_REF(lc_normalize_forward), LC_KERNEL_REF(lc_normalize_backward) },
    .units = "norm", .inplace = 1,
    .shape = normalize_shape, .forward = normalize_forward, .backward = normalize_backward,
    .flops = op_flops_elementwise, .fold = normalize_fold,
    .onnx_export = normalize_onnx,
    .onnx_import = { { "Sub", normalize_from_onnx } },
};
