/* ops/arith.c: add(a, b) and mul(a, b), element by element, s, s -> s. */
#include "common.h"

#include <stdio.h>
#include <string.h>

#include "kernels.h"
#include "qemit.h"
#include "onnx/expctx.h"
#include "onnx/impctx.h"

/* Both inputs have one shape, which is the output's. */
static int pair_shape(OpCtx *c, Layer *l)
{
    const Layer *a = op_input(c, l, 0), *b = op_input(c, l, 1);
    char sa[64], sb[64];
    if (!shape_equal(&a->shape, &b->shape)) {
        op_error(c, "shape mismatch: %s(%s, %s) has %s %s and %s %s", l->op->name, a->name, b->name,
                 a->name, shape_str(&a->shape, sa, sizeof sa), b->name,
                 shape_str(&b->shape, sb, sizeof sb));
        return 0;
    }
    l->shape = a->shape;
    return 1;
}

static void add_forward(Emit *e, const Layer *l, Mode mode)
{
    (void)mode;
    emitf(e, "    lc_add_forward(%s, %s, %s, n * %ld);\n", e_out(e, layer_index(e->m, l)), e_in(e, l, 0),
          e_in(e, l, 1), l->size);
}

static void add_backward(Emit *e, const Layer *l, Mode mode)
{
    (void)mode;
    for (int k = 0; k < 2; k++)
        if (e_wants_grad(e, l, k))
            emitf(e, "    lc_add_backward(%s, %s, n * %ld, %d);\n", e_in_grad(e, l, k),
                  e_grad(e, layer_index(e->m, l)), l->size, e_adds(e, l, k));
}

/* int8, as TFLite's add: each input, less its zero point and shifted left
 * 20 bits, scaled by its scale over twice the larger one; the sum by that
 * over 2^20 s_out */
static void add_int8(QEmit *q, const Layer *l)
{
    const QParams *a = q_in_params(q, l, 0), *b = q_in_params(q, l, 1), *y = q_params(q, l);
    double twice = 2 * (a->scale > b->scale ? a->scale : b->scale);
    int32_t am, bm, ym;
    int as, bs, ys;
    quant_multiplier(a->scale / twice, &am, &as);
    quant_multiplier(b->scale / twice, &bm, &bs);
    quant_multiplier(twice / ((double)(1 << 20) * y->scale), &ym, &ys);
    const char *name = arena_printf(&q->names, "%s_%s_add", q->m->name, l->name);
    emitf(&q->tables, "static const lc_i8_add_params %s = { %d, %ld, %d, %d, %ld, %d, %d, %ld, %d, -128, 127 };\n",
          name, a->zero, (long)am, as, b->zero, (long)bm, bs, y->zero, (long)ym, ys);
    q->flash += 44;
    emitf(&q->e, "    lc_i8_add_forward(%s, %s, %s, n * %ld, &%s);\n", q_out(q, l), q_in(q, l, 0), q_in(q, l, 1),
          l->size, name);
}

/* ONNX: the two-input node of the same name */
static int onnx_pair(ExpCtx *cx, const char *op_type)
{
    const char *in[2] = { exp_in(cx, 0), exp_in(cx, 1) };
    exp_node(cx, op_type, NULL, in, 2, exp_out(cx));
    return 1;
}

static int add_onnx(ExpCtx *cx) { return onnx_pair(cx, "Add"); }

/* Both inputs layers of the same ONNX shape: their layers, of one shape. */
static int pair_in(ImpCtx *cx, ImpValue *a, ImpValue *b, int *la, int *lb)
{
    char sa[64], sb[64];
    if (!imp_same_shape(&a->shape, &b->shape))
        return imp_refuse(cx, "its inputs are %s and %s a sample: layerc's %s takes two of one shape "
                          "(no broadcasting)", imp_shape_str(&a->shape, sa, sizeof sa),
                          imp_shape_str(&b->shape, sb, sizeof sb), cx->n->op_type[0] == 'A' ? "add" : "mul");
    *la = a->layer, *lb = b->layer;
    if (!imp_same_shape(&imp_layer_at(cx, *la)->shape, &imp_layer_at(cx, *lb)->shape)) {
        if ((*la = imp_want(cx, a, NULL)) < 0 || (*lb = imp_want(cx, b, NULL)) < 0) return 0;
    }
    return 1;
}

/* The bias of the dense or convolution just before: c has one value per
 * output feature or channel. */
static int fuse_bias(ImpCtx *cx, ImpValue *x, const OxTensor *c, int xin)
{
    ImpLayer *l = imp_layer_at(cx, x->layer);
    if (l->fuse != IMP_FUSE_BIAS || l->uses || imp_in_readers(cx, xin) != 1)
        return imp_refuse(cx, "it adds a constant that is not the bias of a MatMul, Gemm or Conv; layerc's add "
                          "takes two layers");
    long m = l->shape.dims[0], n = c->n;
    int ok = n == 1 || n == m;
    /* a convolution's bias broadcasts over its spatial axes: [F, 1, 1] or [1, F, 1, 1] */
    if (ok && strcmp(l->op, "dense")) {
        int r = c->rank;
        long inner = 1;
        for (int k = r - l->shape.rank + 1; k < r; k++)
            if (k >= 0) inner *= (long)c->dims[k];
        ok = n == 1 || (inner == 1 && r >= l->shape.rank && c->dims[r - l->shape.rank] == m);
    } else if (ok) {
        ok = c->rank <= 1 || (c->rank == 2 && c->dims[0] == 1);
    }
    if (!ok) {
        char d[96];
        return imp_refuse(cx, "the constant %s it adds is not one value per output of %s", oxt_dims_str(c, d, sizeof d),
                          l->name);
    }
    int64_t dim = m;
    OxTensor *b = oxt_new(cx->a, OXT_FLOAT, 1, &dim);
    for (long j = 0; j < m; j++) b->f[j] = (float)oxt_get(c, n == 1 ? 0 : j);
    for (int i = 0; i < l->nargs; i++)   /* drop bias=0 */
        if (l->args[i].key && !strcmp(l->args[i].key, "bias")) {
            memmove(&l->args[i], &l->args[i + 1], sizeof(ImpArg) * (size_t)(l->nargs - i - 1));
            l->nargs--;
        }
    imp_weight(cx, l, "b", b);
    l->fuse = 0;
    l->comment = arena_printf(cx->a, "%s + %s", l->comment, imp_node_label(cx));
    int out0 = cx->n->n_output ? cx->g->out[cx->node][0] : -1;
    if (out0 >= 0 && cx->g->values[out0].graph_output)   /* the model's output takes the graph output's name */
        l->name = names_take(&cx->names, imp_node_name(cx));
    Shape s = x->shape;
    imp_out_layer(cx, 0, x->layer, &s);
    return 1;
}

static int add_from_onnx(ImpCtx *cx)
{
    ImpValue *a = imp_in(cx, 0), *b = imp_in(cx, 1);
    if (!imp_attr_check(cx, "broadcast,axis") || !a || !b) return a && b ? 0 : imp_refuse(cx, "an input is missing");
    if (a->kind == IMP_CONST) return fuse_bias(cx, b, a->t, 1);
    if (b->kind == IMP_CONST) return fuse_bias(cx, a, b->t, 0);
    int la, lb;
    Shape s = a->shape;
    if (!pair_in(cx, a, b, &la, &lb)) return 0;
    int in[2] = { la, lb };
    ImpLayer *l = imp_layer(cx, "add", in, 2);
    l->shape = imp_layer_at(cx, la)->shape;
    return imp_out(cx, l, &s);
}

const OpDef lc_op_add = {
    .name = "add", .doc = "a + b",
    .params = { P_LAYER_ARG("a"), P_LAYER_ARG("b") }, .nparams = 2,
    .kernels = { LC_KERNEL_REF(lc_add_forward), LC_KERNEL_REF(lc_add_backward),
                 LC_KERNEL_REF(lc_i8_add_forward) }, .units = "elementwise",
    .inplace = 1,
    .shape = pair_shape, .forward = add_forward, .backward = add_backward,
    .flops = op_flops_elementwise, .int8 = { .forward = add_int8 },
    .onnx_export = add_onnx,
    .onnx_import = { { "Add", add_from_onnx } },
};

static void mul_forward(Emit *e, const Layer *l, Mode mode)
{
    (void)mode;
    emitf(e, "    lc_mul_forward(%s, %s, %s, n * %ld);\n", e_out(e, layer_index(e->m, l)), e_in(e, l, 0),
          e_in(e, l, 1), l->size);
}

/* d a = dy * b, d b = dy * a */
static void mul_backward(Emit *e, const Layer *l, Mode mode)
{
    (void)mode;
    for (int k = 0; k < 2; k++)
        if (e_wants_grad(e, l, k))
            emitf(e, "    lc_mul_backward(%s, %s, %s, n * %ld, %d);\n", e_in_grad(e, l, k),
                  e_grad(e, layer_index(e->m, l)), e_in(e, l, 1 - k), l->size, e_adds(e, l, k));
}

static int mul_onnx(ExpCtx *cx) { return onnx_pair(cx, "Mul"); }

/* x * sigmoid(x), as torch exports SiLU: silu(x) when the sigmoid has no other use. */
static int fuse_silu(ImpCtx *cx, ImpValue *x, ImpValue *s, int sin)
{
    ImpLayer *sl = imp_layer_at(cx, s->layer);
    if (sl->fuse != IMP_FUSE_SIGMOID || sl->uses || imp_in_readers(cx, sin) != 1 ||
        sl->in[0] != x->layer || !imp_same_shape(&x->shape, &s->shape) || !cx->have("silu", NULL))
        return 0;
    sl->op = "silu";
    sl->fuse = 0;
    sl->name = names_take(&cx->names, imp_node_name(cx));   /* the Mul's: the sigmoid was a part */
    sl->node = cx->node;
    sl->comment = arena_printf(cx->a, "%s * %s", sl->comment, imp_node_label(cx));
    Shape sh = s->shape;
    imp_out_layer(cx, 0, s->layer, &sh);
    return 1;
}

static int mul_from_onnx(ImpCtx *cx)
{
    ImpValue *a = imp_in(cx, 0), *b = imp_in(cx, 1);
    if (!imp_attr_check(cx, "broadcast,axis") || !a || !b) return a && b ? 0 : imp_refuse(cx, "an input is missing");
    if (a->kind == IMP_CONST || b->kind == IMP_CONST)
        return imp_refuse(cx, "it multiplies by a constant; layerc's mul takes two layers");
    if (fuse_silu(cx, a, b, 1) || fuse_silu(cx, b, a, 0)) return 1;
    int la, lb;
    Shape s = a->shape;
    if (!pair_in(cx, a, b, &la, &lb)) return 0;
    int in[2] = { la, lb };
    ImpLayer *l = imp_layer(cx, "mul", in, 2);
    l->shape = imp_layer_at(cx, la)->shape;
    return imp_out(cx, l, &s);
}


const OpDef lc_op_mul = {
    .name = "mul", .doc = "a * b, element by element",
    .params = { P_LAYER_ARG("a"), P_LAYER_ARG("b") }, .nparams = 2,
    .kernels = { LC_KERNEL_REF(lc_mul_forward), LC_KERNEL_REF(lc_mul_backward) }, .units = "elementwise",
    .backward_reads = READS_INPUTS,
    .shape = pair_shape, .forward = mul_forward, .backward = mul_backward,
    .flops = op_flops_elementwise,
    .onnx_export = mul_onnx,
    .onnx_import = { { "Mul", mul_from_onnx } },
};
