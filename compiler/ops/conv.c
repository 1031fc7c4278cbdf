/* ops/conv.c: conv2d(x, f, kernel=k, stride=1, pad=0): [c, h, w] -> [f, h', w'],
 * with its own weights NAME.W [f, c, k, k] and NAME.b [f], as torch.nn.Conv2d.
 * The kernels do im2col of one sample into the scratch and a matrix product. */
#include "common.h"

#include <stdio.h>

#include "kernels.h"

enum { W, B };   /* weight slots */
enum { X, FILTERS, KERNEL, STRIDE, PAD, BIAS, INIT, DECAY };

static int conv2d_shape(OpCtx *c, Layer *l)
{
    const Layer *x;
    if (!op_image_input(c, l, &x)) return 0;
    long ch = x->shape.dims[0], f = (long)l->arg[FILTERS].num, k = (long)l->arg[KERNEL].num;
    long s = (long)l->arg[STRIDE].num, pad = (long)l->arg[PAD].num, oh, ow;
    if (!op_window_out(c, l, "kernel", "height", x->shape.dims[1], k, s, pad, &oh)) return 0;
    if (!op_window_out(c, l, "kernel", "width", x->shape.dims[2], k, s, pad, &ow)) return 0;
    Shape ws = { 4, { f, ch, k, k } }, bs = { 1, { f } };
    const Init *init = l->arg[INIT].given ? &l->arg[INIT].init : NULL;
    Init zeros = { INIT_ZEROS, 0, 0, NULL };
    if (!op_weight(c, l, W, ws, ch * k * k, f * k * k, init)) return 0;
    c->m->weights[l->w[W]].decay = l->arg[DECAY].num;
    if (l->arg[BIAS].num != 0 && !op_weight(c, l, B, bs, ch * k * k, f * k * k, init ? &zeros : NULL))
        return 0;
    l->shape = (Shape){ 3, { f, oh, ow } };
    return 1;
}

/* LC_CONV2D_WORK_T of kernels.h: one im2col buffer; with T threads, T
 * slices of one and a partial weight gradient.  The small-core kernels
 * convolve directly, with none. */
static long conv2d_scratch(const Model *m, const Layer *l, const Build *b)
{
    const Layer *x = layer_input(m, l, 0);
    long k = (long)l->arg[KERNEL].num, c = x->shape.dims[0], oc = l->shape.dims[0];
    long w = c * k * k * l->shape.dims[1] * l->shape.dims[2];
    if (b->target == TARGET_MCU) return 0;
    return b->threads > 1 ? b->threads * (w + oc * c * k * k + oc) : w;
}

static void conv2d_forward(Emit *e, const Layer *l, Mode mode)
{
    long c, h, w;
    (void)mode;
    op_image_dims(layer_input(e->m, l, 0), &c, &h, &w);
    emitf(e, "    lc_conv2d_forward(%s, %s, %s, %s, m->work,\n"
             "                      n, %ld, %ld, %ld, %ld, %d, %d, %d);\n",
          e_out(e, layer_index(e->m, l)), e_in(e, l, 0), e_weight(e, l, W), e_weight(e, l, B), c, h,
          w, l->shape.dims[0], (int)l->arg[KERNEL].num, (int)l->arg[STRIDE].num,
          (int)l->arg[PAD].num);
}

static void conv2d_backward(Emit *e, const Layer *l, Mode mode)
{
    long c, h, w;
    int add = e_wants_grad(e, l, 0) ? e_adds(e, l, 0) : 1;
    (void)mode;
    op_image_dims(layer_input(e->m, l, 0), &c, &h, &w);
    emitf(e, "    lc_conv2d_backward_into(%s, %s, %s,\n"
             "                            %s, %s, %s, m->work,\n"
             "                            n, %ld, %ld, %ld, %ld, %d, %d, %d, %d);\n",
          e_in_grad(e, l, 0), e_wgrad(e, l, W), e_wgrad(e, l, B), e_grad(e, layer_index(e->m, l)),
          e_in(e, l, 0), e_weight(e, l, W), c, h, w, l->shape.dims[0], (int)l->arg[KERNEL].num,
          (int)l->arg[STRIDE].num, (int)l->arg[PAD].num, add);
}

static double conv2d_flops(const Model *m, const Layer *l)
{
    return (double)layer_weight(m, l, W)->size * (double)(l->shape.dims[1] * l->shape.dims[2]);
}

const OpDef lc_op_conv2d = {
    .name = "conv2d", .doc = "2-D convolution with its own weights NAME.W [f, c, k, k], NAME.b [f]",
    .params = { [X] = P_LAYER_ARG("x"), [FILTERS] = P_REQ_INT("filters", 1, OP_BIG),
                [KERNEL] = P_REQ_INT("kernel", 1, 1024), [STRIDE] = P_INT_ARG("stride", 1, 1, 1024),
                [PAD] = P_INT_ARG("pad", 0, 0, 1024), [BIAS] = P_KW_INT("bias", 1, 0, 1),
                [INIT] = P_KW_INIT("init"), [DECAY] = P_DECAY },
    .nparams = 8,
    .weights = { [W] = { "W", ROLE_TRAINABLE, { INIT_DEFAULT, 0, 0, NULL } },
                 [B] = { "b", ROLE_TRAINABLE, { INIT_DEFAULT, 0, 0, NULL } } }, .nweights = 2,
    .scratch = conv2d_scratch,
    .kernels = { LC_KERNEL_REF(lc_conv2d_forward), LC_KERNEL_REF(lc_conv2d_backward_into) },
    .units = "gemm conv", .backward_reads = READS_INPUTS,
    .shape = conv2d_shape, .forward = conv2d_forward, .backward = conv2d_backward,
    .flops = conv2d_flops,
};
