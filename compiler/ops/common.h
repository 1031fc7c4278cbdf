/* ops/common.h: what several op files share: parameter shorthands, shape
 * functions and emitters of the common kinds (same shape, elementwise,
 * images), and cost functions. */
#ifndef LC_OPS_COMMON_H
#define LC_OPS_COMMON_H

#include "emit.h"
#include "op.h"

#define OP_BIG 1e9
/* ParamDef rows: name, kind, required, default, range, keyword only, words */
#define P_LAYER_ARG(nm)           { nm, P_LAYER, 1, 0, 0, 0, 0, NULL }
#define P_WEIGHT_ARG(nm, req)     { nm, P_WEIGHT, req, 0, 0, 0, 0, NULL }
#define P_INT_ARG(nm, d, lo, hi)  { nm, P_INT, 0, d, lo, hi, 0, NULL }
#define P_REQ_INT(nm, lo, hi)     { nm, P_INT, 1, 0, lo, hi, 0, NULL }
#define P_KW_INT(nm, d, lo, hi)   { nm, P_INT, 0, d, lo, hi, 1, NULL }
#define P_REAL_ARG(nm, d, lo, hi) { nm, P_REAL, 0, d, lo, hi, 0, NULL }
#define P_REQ_REAL(nm, lo, hi)    { nm, P_REAL, 1, 0, lo, hi, 0, NULL }
#define P_KW_INIT(nm)             { nm, P_INIT, 0, 0, 0, 0, 1, NULL }
#define P_KW_REAL(nm, d, lo, hi)  { nm, P_REAL, 0, d, lo, hi, 1, NULL }
/* decay=: weight decay of the layer's kernel (not its bias), on top of the optimizer's */
#define P_DECAY                   P_KW_REAL("decay", 0, 0, 1e6)

/* ---- shape functions ---- */
/* s -> s */
int op_same_shape(OpCtx *c, Layer *l);
/* The input is an image [c, h, w]; *x is it (else an error naming the op). */
int op_image_input(OpCtx *c, const Layer *l, const Layer **x);
/* One side of a window of k sliding by stride over h padded by pad on both
 * sides (what = "height"/"width", thing = "kernel"/"window"); 0 with an error
 * when it does not fit. */
int op_window_out(OpCtx *c, const Layer *l, const char *thing, const char *what, long h, long k,
                  long stride, long pad, long *out);

/* ---- emitters ---- */
/* out[i] = EXPR for every value; `x` names the input value in EXPR. */
void op_elementwise_forward(Emit *e, const Layer *l, const char *expr);
/* dx[i] (+)= EXPR of dy and, as the op needs them, x (input) and y (output). */
void op_elementwise_backward(Emit *e, const Layer *l, int uses_x, int uses_y, const char *expr);
/* The values move unchanged: a copy forward, the gradient passed back. */
void op_copy_forward(Emit *e, const Layer *l, Mode mode);
void op_copy_backward(Emit *e, const Layer *l, Mode mode);
/* [c, h, w] of layer x */
void op_image_dims(const Layer *x, long *c, long *h, long *w);

/* ---- costs: forward multiply-adds of one sample ---- */
double op_flops_elementwise(const Model *m, const Layer *l);
double op_flops_none(const Model *m, const Layer *l);
/* The output is always the input's storage. */
int op_always_aliases(const Layer *l, int training);

#endif
