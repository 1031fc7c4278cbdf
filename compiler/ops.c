/* ops.c: the table of ops and their shape functions (SPEC section 1).
 *
 * Each row: name, one-line doc, parameters, shape function, forward and
 * backward emitters (emit_ops.c), forward multiply-adds per sample.
 * Parameters bind like Python's: positionally in order, or by keyword.
 */
#include "ops.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "emit_ops.h"

#define BIG 1e9
#define LAYER(nm)         { nm, P_LAYER, 1, 0, 0, 0, 0 }
#define INT(nm, d, lo, hi) { nm, P_INT, 0, d, lo, hi, 0 }
#define REQ_INT(nm, lo)   { nm, P_INT, 1, 0, lo, BIG, 0 }
#define KW_INT(nm, d, lo, hi) { nm, P_INT, 0, d, lo, hi, 1 }
#define REAL(nm, d, lo, hi) { nm, P_REAL, 0, d, lo, hi, 0 }
#define KW_INIT           { "init", P_INIT, 0, 0, 0, 0, 1 }

static const Layer *input_of(Check *c, const Layer *l, int k)
{
    return check_layer(c, l->in[k]);
}

/* ---- shape functions ---- */

/* s -> s */
static int same_shape(Check *c, Layer *l, Loc loc)
{
    (void)loc;
    l->shape = input_of(c, l, 0)->shape;
    return 1;
}

/* [n] -> [n]: softmax works along the one axis of a vector. */
static int vector_shape(Check *c, Layer *l, Loc loc)
{
    const Layer *x = input_of(c, l, 0);
    char b[64];
    if (x->shape.rank != 1) {
        check_error(c, loc, "softmax needs a vector, but %s is %s; flatten it first",
                    x->name, shape_str(&x->shape, b, sizeof b));
        return 0;
    }
    l->shape = x->shape;
    return 1;
}

/* s, s -> s */
static int pair_shape(Check *c, Layer *l, Loc loc)
{
    const Layer *a = input_of(c, l, 0), *b = input_of(c, l, 1);
    char sa[64], sb[64];
    if (a->shape.rank != b->shape.rank ||
        memcmp(a->shape.dims, b->shape.dims, sizeof(long) * (size_t)a->shape.rank)) {
        check_error(c, loc, "shape mismatch: %s(%s, %s) has %s %s and %s %s",
                    l->op->name, a->name, b->name, a->name,
                    shape_str(&a->shape, sa, sizeof sa), b->name,
                    shape_str(&b->shape, sb, sizeof sb));
        return 0;
    }
    l->shape = a->shape;
    return 1;
}

/* s1, s2, ... -> [n1 + n2 + ...] */
static int concat_shape(Check *c, Layer *l, Loc loc)
{
    long n = 0;
    for (int k = 0; k < l->nin; k++) {
        n += input_of(c, l, k)->size;
        if (n > LC_MAX_STATE_FLOATS) {
            check_error(c, loc, "concat is too large (over %ld elements)", LC_MAX_STATE_FLOATS);
            return 0;
        }
    }
    l->shape.rank = 1;
    l->shape.dims[0] = n;
    return 1;
}

/* s -> [product of s] */
static int flatten_shape(Check *c, Layer *l, Loc loc)
{
    (void)loc;
    l->shape.rank = 1;
    l->shape.dims[0] = input_of(c, l, 0)->size;
    return 1;
}

/* s -> target, same element count */
static int reshape_shape(Check *c, Layer *l, Loc loc)
{
    const Layer *x = input_of(c, l, 0);
    char a[64], b[64];
    if (shape_size(&l->target) != x->size) {
        check_error(c, loc, "reshape cannot turn %s %s (%ld elements) into %s (%ld elements)",
                    x->name, shape_str(&x->shape, a, sizeof a), x->size,
                    shape_str(&l->target, b, sizeof b), shape_size(&l->target));
        return 0;
    }
    l->shape = l->target;
    return 1;
}

/* linear(x, W[, b]): [n] -> [m] with W [m, n] and b [m] declared by the user. */
static int linear_shape(Check *c, Layer *l, Loc loc)
{
    const Layer *x = input_of(c, l, 0);
    const Weight *W = check_weight(c, l->w[0]);
    char a[64], b[64];
    if (W->shape.rank != 2) {
        check_error(c, loc, "linear needs a matrix weight [m, n], but %s is %s",
                    W->name, shape_str(&W->shape, a, sizeof a));
        return 0;
    }
    if (W->shape.dims[1] != x->size) {
        check_error(c, loc, "shape mismatch: linear(%s, %s) has %s %s (%ld elements) "
                    "but %s %s takes %ld inputs",
                    x->name, W->name, x->name, shape_str(&x->shape, a, sizeof a),
                    x->size, W->name, shape_str(&W->shape, b, sizeof b), W->shape.dims[1]);
        return 0;
    }
    if (l->nw == 2) {
        const Weight *B = check_weight(c, l->w[1]);
        if (B->shape.rank != 1 || B->shape.dims[0] != W->shape.dims[0]) {
            check_error(c, loc, "shape mismatch: the bias %s is %s but %s has %ld outputs: "
                        "it must be [%ld]", B->name, shape_str(&B->shape, a, sizeof a),
                        W->name, W->shape.dims[0], W->shape.dims[0]);
            return 0;
        }
    }
    l->shape.rank = 1;
    l->shape.dims[0] = W->shape.dims[0];
    return 1;
}

/* dense(x, m): any s (flattened to n) -> [m]; creates NAME.W [m, n], NAME.b [m]. */
static int dense_shape(Check *c, Layer *l, Loc loc)
{
    long n = input_of(c, l, 0)->size, m = (long)LP(l, "units");
    Shape w = { 2, { m, n } }, b = { 1, { m } };
    Init binit = { l->init.kind == INIT_DEFAULT ? INIT_DEFAULT : INIT_ZEROS, 0, 0, 0 };
    if (!check_new_weight(c, l, "W", w, n, m, l->init, loc)) return 0;
    if (LP(l, "bias") != 0 && !check_new_weight(c, l, "b", b, n, m, binit, loc)) return 0;
    l->shape.rank = 1;
    l->shape.dims[0] = m;
    return 1;
}

static int image_input(Check *c, Layer *l, Loc loc, const Layer **x)
{
    char a[64];
    *x = input_of(c, l, 0);
    if ((*x)->shape.rank != 3) {
        check_error(c, loc, "%s needs an image [channels, height, width], but %s is %s",
                    l->op->name, (*x)->name, shape_str(&(*x)->shape, a, sizeof a));
        return 0;
    }
    return 1;
}

/* One side of the output of a window of `k` sliding by `stride` over `h` padded by `pad`. */
static int window_out(Check *c, Layer *l, Loc loc, const char *what, long h, long k,
                      long stride, long pad, long *out)
{
    if (k > h + 2 * pad) {
        check_error(c, loc, "%s: the %s %ld is larger than the %s of the %sinput (%ld)",
                    l->op->name, l->op->name[0] == 'c' ? "kernel" : "window", k, what,
                    pad ? "padded " : "", h + 2 * pad);
        return 0;
    }
    *out = (h + 2 * pad - k) / stride + 1;
    return 1;
}

/* conv2d(x, f, kernel=k): [c, h, w] -> [f, h', w']; creates NAME.W [f, c, k, k], NAME.b [f]. */
static int conv2d_shape(Check *c, Layer *l, Loc loc)
{
    const Layer *x;
    if (!image_input(c, l, loc, &x)) return 0;
    long ch = x->shape.dims[0], f = (long)LP(l, "filters"), k = (long)LP(l, "kernel");
    long s = (long)LP(l, "stride"), pad = (long)LP(l, "pad"), oh, ow;
    if (!window_out(c, l, loc, "height", x->shape.dims[1], k, s, pad, &oh)) return 0;
    if (!window_out(c, l, loc, "width", x->shape.dims[2], k, s, pad, &ow)) return 0;
    Shape w = { 4, { f, ch, k, k } }, b = { 1, { f } };
    Init binit = { l->init.kind == INIT_DEFAULT ? INIT_DEFAULT : INIT_ZEROS, 0, 0, 0 };
    if (!check_new_weight(c, l, "W", w, ch * k * k, f * k * k, l->init, loc)) return 0;
    if (LP(l, "bias") != 0 && !check_new_weight(c, l, "b", b, ch * k * k, f * k * k, binit, loc))
        return 0;
    l->shape = (Shape){ 3, { f, oh, ow } };
    return 1;
}

/* maxpool/avgpool(x, size, stride): [c, h, w] -> [c, h', w'] */
static int pool_shape(Check *c, Layer *l, Loc loc)
{
    const Layer *x;
    if (!image_input(c, l, loc, &x)) return 0;
    if (LP(l, "stride") == 0) LP(l, "stride") = LP(l, "size");
    long k = (long)LP(l, "size"), s = (long)LP(l, "stride"), oh, ow;
    if (!window_out(c, l, loc, "height", x->shape.dims[1], k, s, 0, &oh)) return 0;
    if (!window_out(c, l, loc, "width", x->shape.dims[2], k, s, 0, &ow)) return 0;
    l->shape = (Shape){ 3, { x->shape.dims[0], oh, ow } };
    return 1;
}

/* ---- forward multiply-adds per sample, for summaries ---- */

static double flops_elementwise(const Model *m, const Layer *l) { (void)m; return (double)l->size; }
static double flops_none(const Model *m, const Layer *l) { (void)m; (void)l; return 0; }
static double flops_matmul(const Model *m, const Layer *l)
{
    return (double)m->weights[l->w[0]].size;
}
static double flops_conv2d(const Model *m, const Layer *l)
{
    return (double)m->weights[l->w[0]].size * (double)(l->shape.dims[1] * l->shape.dims[2]);
}
static double flops_pool(const Model *m, const Layer *l)
{
    (void)m;
    return (double)l->size * LP(l, "size") * LP(l, "size");
}

/* ---- the table ---- */

const OpDef lc_ops[] = {
    { "identity", "x -> x", { LAYER("x") }, 1, 0,
      same_shape, emit_identity_forward, emit_identity_backward, flops_none },
    { "linear", "x[n] . W[m, n]^T (+ b[m]) with declared weights", {
          LAYER("x"), { "W", P_WEIGHT, 1, 0, 0, 0, 0 }, { "b", P_WEIGHT, 0, 0, 0, 0, 0 } }, 3, 0,
      linear_shape, emit_linear_forward, emit_linear_backward, flops_matmul },
    { "dense", "fully connected layer with its own weights NAME.W [m, n], NAME.b [m]", {
          LAYER("x"), REQ_INT("units", 1), KW_INT("bias", 1, 0, 1), KW_INIT }, 4, 0,
      dense_shape, emit_linear_forward, emit_linear_backward, flops_matmul },
    { "relu", "max(x, 0)", { LAYER("x") }, 1, 0,
      same_shape, emit_relu_forward, emit_relu_backward, flops_elementwise },
    { "leaky_relu", "x if x > 0 else alpha x", { LAYER("x"), REAL("alpha", 0.01, -BIG, BIG) }, 2, 0,
      same_shape, emit_leaky_relu_forward, emit_leaky_relu_backward, flops_elementwise },
    { "sigmoid", "1 / (1 + exp(-x))", { LAYER("x") }, 1, 0,
      same_shape, emit_sigmoid_forward, emit_sigmoid_backward, flops_elementwise },
    { "tanh", "tanh(x)", { LAYER("x") }, 1, 0,
      same_shape, emit_tanh_forward, emit_tanh_backward, flops_elementwise },
    { "softmax", "exp(x) / sum(exp(x)) over a vector", { LAYER("x") }, 1, 0,
      vector_shape, emit_softmax_forward, emit_softmax_backward, flops_elementwise },
    { "add", "a + b", { LAYER("a"), LAYER("b") }, 2, 0,
      pair_shape, emit_add_forward, emit_add_backward, flops_elementwise },
    { "mul", "a * b, element by element", { LAYER("a"), LAYER("b") }, 2, 0,
      pair_shape, emit_mul_forward, emit_mul_backward, flops_elementwise },
    { "concat", "the inputs flattened and joined", { LAYER("x") }, 1, 1,
      concat_shape, emit_concat_forward, emit_concat_backward, flops_none },
    { "flatten", "x as a vector", { LAYER("x") }, 1, 0,
      flatten_shape, emit_identity_forward, emit_identity_backward, flops_none },
    { "reshape", "x with another shape of the same size", {
          LAYER("x"), { "shape", P_SHAPE, 1, 0, 0, 0, 0 } }, 2, 0,
      reshape_shape, emit_identity_forward, emit_identity_backward, flops_none },
    { "conv2d", "2-D convolution with its own weights NAME.W [f, c, k, k], NAME.b [f]", {
          LAYER("x"), REQ_INT("filters", 1), { "kernel", P_INT, 1, 0, 1, 1024, 0 },
          INT("stride", 1, 1, 1024), INT("pad", 0, 0, 1024), KW_INT("bias", 1, 0, 1), KW_INIT }, 7, 0,
      conv2d_shape, emit_conv2d_forward, emit_conv2d_backward, flops_conv2d },
    { "maxpool", "largest value of each size x size window", {
          LAYER("x"), INT("size", 2, 1, 1024), INT("stride", 0, 1, 1024) }, 3, 0,
      pool_shape, emit_maxpool_forward, emit_maxpool_backward, flops_pool },
    { "avgpool", "mean of each size x size window", {
          LAYER("x"), INT("size", 2, 1, 1024), INT("stride", 0, 1, 1024) }, 3, 0,
      pool_shape, emit_avgpool_forward, emit_avgpool_backward, flops_pool },
    { "dropout", "zeroes a fraction `rate` while training (inverted dropout)", {
          LAYER("x"), { "rate", P_REAL, 1, 0, 0, 0.999999, 0 } }, 2, 0,
      same_shape, emit_dropout_forward, emit_dropout_backward, flops_elementwise },
};
const int lc_nops = (int)(sizeof lc_ops / sizeof lc_ops[0]);

const OpDef *op_find(const char *name)
{
    for (int i = 0; i < lc_nops; i++)
        if (strcmp(lc_ops[i].name, name) == 0) return &lc_ops[i];
    return NULL;
}

int op_param(const OpDef *op, const char *name)
{
    for (int i = 0; i < op->nparams; i++)
        if (strcmp(op->params[i].name, name) == 0) return i;
    return -1;
}
