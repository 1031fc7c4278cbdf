/* ops/dropout.c: dropout(x, rate), s -> s: inverted dropout while training
 * (each value kept with probability 1 - rate and scaled by 1/(1 - rate)),
 * the identity otherwise, so evaluation needs no rescaling.  The mask of
 * the last training forward pass is saved for the backward pass. */
#include "common.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "kernels.h"
#include "onnx/expctx.h"
#include "onnx/impctx.h"

enum { X, RATE };
enum { MASK };   /* saved tensors */

static long mask_size(const Model *m, const Layer *l)
{
    (void)m;
    return l->size;
}

/* Nothing to drop: outside a training build, or at rate 0. */
static int dropout_aliases(const Layer *l, int training)
{
    return !training || l->arg[RATE].num == 0;
}

static void dropout_forward(Emit *e, const Layer *l, Mode mode)
{
    double rate = l->arg[RATE].num;
    if (mode == MODE_EVAL) {
        op_copy_forward(e, l, mode);
        return;
    }
    /* a value drops when lc_uniform() < rate, decided on the random word itself
     * (uniform = (word >> 11) 2^-53): no floating point, the same masks */
    double keep_below = ceil(rate * 9007199254740992.0);
    emitf(e, "    for (int i = 0; i < n * %ld; i++) {\n"
             "        %s[i] = (lc_random(&m->rng) >> 11) < %.0fu ? 0 : %s;\n"
             "        %s[i] = %s[i] * %s[i];\n"
             "    }\n",
          l->size, e_saved(e, l, MASK), keep_below, e_num(e, 1.0 / (1.0 - rate)),
          e_out(e, layer_index(e->m, l)), e_in(e, l, 0), e_saved(e, l, MASK));
}

static void dropout_backward(Emit *e, const Layer *l, Mode mode)
{
    if (mode == MODE_EVAL) {
        op_copy_backward(e, l, mode);
        return;
    }
    if (!e_wants_grad(e, l, 0)) return;
    emitf(e, "    lc_mul_backward(%s, %s, %s, n * %ld, %d);\n", e_in_grad(e, l, 0),
          e_grad(e, layer_index(e->m, l)), e_saved(e, l, MASK), l->size, e_adds(e, l, 0));
}

/* ONNX: Dropout with its ratio as an input (opset 12 on); inference is the identity */
static int dropout_onnx(ExpCtx *cx)
{
    const char *in[2] = { exp_in(cx, 0), exp_const_float(cx, "ratio", (float)mv_num(cx->m, cx->layer, "rate", 0.5)) };
    exp_node(cx, "Dropout", NULL, in, 2, exp_out(cx));
    return 1;
}

static int dropout_from_onnx(ImpCtx *cx)
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
    if (!imp_fits(cx, "dropout", "rate", ratio, "ratio")) return 0;
    if (!imp_unused_from(cx, 1, "the mask") || !imp_unary(cx, "dropout", 0)) return 0;
    imp_arg(cx, imp_layer_at(cx, cx->nlayers - 1), NULL, "%s", imp_num(cx, ratio));
    return 1;
}

const OpDef lc_op_dropout = {
    .name = "dropout", .doc = "zeroes a fraction `rate` while training (inverted dropout)",
    .params = { [X] = P_LAYER_ARG("x"), [RATE] = { "rate", P_REAL, 1, 0, 0, 0.999999, 0, NULL } },
    .nparams = 2,
    .saved = { [MASK] = { "mask", mask_size, 1, 1 } }, .nsaved = 1,
    .kernels = { LC_KERNEL_REF(lc_mul_backward), LC_KERNEL_REF(lc_add_backward) }, .units = "elementwise",
    .aliases = dropout_aliases, .inplace = 1, .modal = 1, .random = 1,
    .shape = op_same_shape, .forward = dropout_forward, .backward = dropout_backward,
    .flops = op_flops_elementwise,
    .onnx_export = dropout_onnx,
    .onnx_import = { { "Dropout", dropout_from_onnx } },
};
