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

#include "kernels.h"

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
};
