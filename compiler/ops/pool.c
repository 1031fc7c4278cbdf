/* ops/pool.c: maxpool and avgpool(x, size=2, stride=size): [c, h, w] ->
 * [c, h', w'] over size x size windows, no padding, as torch.nn.MaxPool2d /
 * AvgPool2d.  Ties in max go to the first element of the window. */
#include "common.h"

#include <stdio.h>

#include "kernels.h"

enum { X, SIZE, STRIDE };

static int pool_shape(OpCtx *c, Layer *l)
{
    const Layer *x;
    if (!op_image_input(c, l, &x)) return 0;
    if (!l->arg[STRIDE].given) l->arg[STRIDE].num = l->arg[SIZE].num;
    long k = (long)l->arg[SIZE].num, s = (long)l->arg[STRIDE].num, oh, ow;
    if (!op_window_out(c, l, "window", "height", x->shape.dims[1], k, s, 0, &oh)) return 0;
    if (!op_window_out(c, l, "window", "width", x->shape.dims[2], k, s, 0, &ow)) return 0;
    l->shape = (Shape){ 3, { x->shape.dims[0], oh, ow } };
    return 1;
}

static void pool_forward(Emit *e, const Layer *l, const char *kind)
{
    long c, h, w;
    op_image_dims(layer_input(e->m, l, 0), &c, &h, &w);
    emitf(e, "    lc_%s_forward(%s, %s, n, %ld, %ld, %ld, %d, %d);\n", kind,
          e_out(e, layer_index(e->m, l)), e_in(e, l, 0), c, h, w, (int)l->arg[SIZE].num,
          (int)l->arg[STRIDE].num);
}

static void pool_backward(Emit *e, const Layer *l, const char *kind)
{
    long c, h, w;
    if (!e_wants_grad(e, l, 0)) return;
    op_image_dims(layer_input(e->m, l, 0), &c, &h, &w);
    emitf(e, "    lc_%s_backward_into(%s, %s, %s, n, %ld, %ld, %ld, %d, %d, %d);\n", kind,
          e_in_grad(e, l, 0), e_grad(e, layer_index(e->m, l)), e_in(e, l, 0), c, h, w,
          (int)l->arg[SIZE].num, (int)l->arg[STRIDE].num, e_adds(e, l, 0));
}

static double pool_flops(const Model *m, const Layer *l)
{
    (void)m;
    return (double)l->size * l->arg[SIZE].num * l->arg[SIZE].num;
}

static void maxpool_forward(Emit *e, const Layer *l, Mode mode) { (void)mode; pool_forward(e, l, "maxpool"); }
static void maxpool_backward(Emit *e, const Layer *l, Mode mode) { (void)mode; pool_backward(e, l, "maxpool"); }
static void avgpool_forward(Emit *e, const Layer *l, Mode mode) { (void)mode; pool_forward(e, l, "avgpool"); }
static void avgpool_backward(Emit *e, const Layer *l, Mode mode) { (void)mode; pool_backward(e, l, "avgpool"); }

#define POOL_PARAMS { [X] = P_LAYER_ARG("x"), [SIZE] = P_INT_ARG("size", 2, 1, 1024), \
                      [STRIDE] = P_INT_ARG("stride", 0, 1, 1024) }, .nparams = 3

const OpDef lc_op_maxpool = {
    .name = "maxpool", .doc = "largest value of each size x size window",
    .params = POOL_PARAMS,
    .kernels = { LC_KERNEL_REF(lc_maxpool_forward), LC_KERNEL_REF(lc_maxpool_backward_into) },
    .units = "pool", .backward_reads = READS_INPUTS,
    .shape = pool_shape, .forward = maxpool_forward, .backward = maxpool_backward,
    .flops = pool_flops,
};

const OpDef lc_op_avgpool = {
    .name = "avgpool", .doc = "mean of each size x size window",
    .params = POOL_PARAMS,
    .kernels = { LC_KERNEL_REF(lc_avgpool_forward), LC_KERNEL_REF(lc_avgpool_backward_into) },
    .units = "pool",
    .shape = pool_shape, .forward = avgpool_forward, .backward = avgpool_backward,
    .flops = pool_flops,
};
