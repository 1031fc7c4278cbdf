/* ops/dropout.c: dropout(x, rate), s -> s: inverted dropout while training
 * (each value kept with probability 1 - rate and scaled by 1/(1 - rate)),
 * the identity otherwise, so evaluation needs no rescaling.  The mask of
 * the last training forward pass is saved for the backward pass. */
#include "common.h"

#include <math.h>
#include <stdio.h>

#include "kernels.h"
#include "onnx/expctx.h"

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

const OpDef lc_op_dropout = {
    .onnx_export = dropout_onnx,
    .name = "dropout", .doc = "zeroes a fraction `rate` while training (inverted dropout)",
    .params = { [X] = P_LAYER_ARG("x"), [RATE] = { "rate", P_REAL, 1, 0, 0, 0.999999, 0, NULL } },
    .nparams = 2,
    .saved = { [MASK] = { "mask", mask_size, 1, 1 } }, .nsaved = 1,
    .kernels = { LC_KERNEL_REF(lc_mul_backward), LC_KERNEL_REF(lc_add_backward) }, .units = "elementwise",
    .aliases = dropout_aliases, .inplace = 1, .modal = 1, .random = 1,
    .shape = op_same_shape, .forward = dropout_forward, .backward = dropout_backward,
    .flops = op_flops_elementwise,
};
