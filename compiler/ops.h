/* ops.h: every op is one row of a table.
 *
 * A row gives the op's name, its parameters (positional and keyword, with
 * kinds and defaults), a shape function, and its forward and backward
 * emitters.  The parser knows no op by name; the checker binds a call's
 * arguments against the row's parameters; the emitter calls the row's
 * functions.  Adding an op: one row in ops.c, one shape function, a
 * forward/backward emitter pair in emit_ops.c, one test.
 */
#ifndef LC_OPS_H
#define LC_OPS_H

#include "ir.h"

typedef enum {
    P_LAYER,    /* a layer name */
    P_WEIGHT,   /* a weight name */
    P_INT,      /* a whole number (constant expression) */
    P_REAL,     /* any number */
    P_SHAPE,    /* [d, ...] */
    P_INIT      /* an initializer: zeros, he, uniform(a, b), ... */
} ParamKind;

typedef struct {
    const char *name;
    ParamKind kind;
    int required;
    double def;            /* default for numbers */
    double lo, hi;         /* accepted range for numbers */
    int keyword_only;      /* may not be given positionally */
} ParamDef;

typedef struct Check Check;   /* check.c's state, for shape functions */
typedef struct Emit Emit;     /* emit.c's state, for emitters */

struct OpDef {
    const char *name;
    const char *doc;               /* one line for --help and summaries */
    ParamDef params[LC_MAX_PARAMS];
    int nparams;
    int variadic;                  /* the first parameter (a layer) repeats: concat */
    /* Sets l->shape (and creates weights); reports errors at loc and
     * returns 0 when the arguments do not fit. */
    int (*shape)(Check *c, Layer *l, Loc loc);
    void (*forward)(Emit *e, const Model *m, const Layer *l);
    void (*backward)(Emit *e, const Model *m, const Layer *l);
    /* Multiply-adds of the forward pass for one sample (summary). */
    double (*flops)(const Model *m, const Layer *l);
};

const OpDef *op_find(const char *name);
extern const OpDef lc_ops[];
extern const int lc_nops;

/* Parameter slot of `name` in op (index into Layer.p), or -1. */
int op_param(const OpDef *op, const char *name);
#define LP(l, pname) ((l)->p[op_param((l)->op, pname)])

/* Used by shape functions (check.c). */
int check_new_weight(Check *c, Layer *l, const char *suffix, Shape shape,
                     long fan_in, long fan_out, Init init, Loc loc);
const Layer *check_layer(Check *c, int i);
const Weight *check_weight(Check *c, int i);
void check_error(Check *c, Loc loc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
