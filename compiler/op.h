/* op.h: the op descriptor.  Everything about an op is in its descriptor,
 * in one file under compiler/ops/ (docs/INTERNALS.md walks through one):
 *
 *   - its argument and option schema (ParamDef), which the checker binds a
 *     call against, positionally or by keyword;
 *   - its output, through a shape function that also checks the arguments
 *     and creates the op's own weights;
 *   - its weights, by slot, each with a role (trainable, frozen, buffer)
 *     and an initialiser;
 *   - its saved tensors (what the training forward keeps for the backward
 *     pass: dropout's mask, batchnorm's batch statistics) and its scratch,
 *     with their sizes;
 *   - the kernels it calls (function pointers for the JIT, the kernel units
 *     to paste into generated C);
 *   - what its backward pass reads, and whether its output is just its
 *     input (flatten), for the memory plan;
 *   - its forward and backward emitters, told the mode (training or not);
 *   - its cost, for `layerc summary`.
 *
 * The parser knows no op by name, the checker validates a call against the
 * descriptor, and the state struct, the buffer plan, the kernel paste, the
 * JIT's symbols and summary's figures are all derived from descriptors.
 * Descriptors are found by name in the table the build makes from every
 * `const OpDef lc_op_NAME` in the files of compiler/ops (build/ops_table.c).
 */
#ifndef LC_OP_H
#define LC_OP_H

#include "arena.h"
#include "ir.h"
#include "plan.h"

typedef enum {
    P_LAYER,    /* a layer name */
    P_WEIGHT,   /* a weight name: fills the next weight slot */
    P_INT,      /* a whole number (constant expression) */
    P_REAL,     /* any number */
    P_PAIR,     /* a whole number or [h, w]: arg.pair (a number gives both) */
    P_SHAPE,    /* [d, ...] */
    P_REALS,    /* a number or a list of numbers [a, b, ...]: arg.reals, arg.nreals */
    P_INIT      /* an initializer: zeros, he, uniform(a, b), ... */
} ParamKind;

typedef struct {
    const char *name;
    ParamKind kind;
    int required;
    double def;                /* default for numbers (pairs: both sides) */
    double lo, hi;             /* accepted range for numbers */
    int keyword_only;          /* may not be given positionally */
    const char *const *words;  /* names also accepted (pad=same): NULL-terminated */
} ParamDef;

typedef struct {
    const char *name;          /* the weight is LAYER.name ("h.W"); C: LAYER_name */
    WeightRole role;
    Init init;                 /* when neither the model nor the shape function gives one */
} WeightDef;

typedef struct {
    const char *name;          /* the state field LAYER_name ("h_mask") */
    long (*size)(const Model *m, const Layer *l);   /* floats (per sample when per_sample) */
    int per_sample;            /* one per sample of the batch */
    int training_only;         /* only builds that train have it */
} SavedDef;

typedef struct {
    const char *name;          /* "lc_conv2d_forward" */
    void (*fn)(void);          /* its address, handed to tcc by the JIT */
} KernelRef;
#define LC_KERNEL_REF(f) { #f, (void (*)(void))f }
#define LC_MAX_OP_KERNELS 12

/* What an op's backward pass reads of the forward pass, beyond the
 * gradient of its output and its weights (the plan keeps these alive). */
enum { READS_INPUTS = 1, READS_OUTPUT = 2 };

typedef enum { MODE_EVAL, MODE_TRAIN } Mode;

/* What a shape function works with: the model built so far, where the
 * call is, and where problems go. */
typedef struct {
    Model *m;
    Arena *a;
    Diags *d;
    Loc loc;                   /* the call */
} OpCtx;

typedef struct Emit Emit;
typedef struct QEmit QEmit;   /* the int8 emitter (compiler/qemit.h) */

/* How an int8 build quantises a layer's output (compiler/qemit.c). */
typedef enum {
    Q_CALIBRATED,   /* from the range it takes over the calibration data */
    Q_AS_INPUT,     /* its first input's scale and zero point (pools, relu alone) */
    Q_FIXED         /* the op's own (softmax, sigmoid: 1/256, -128) */
} QuantOut;

/* An op's int8 form, after the TFLite int8 kernels.  An op with neither a
 * forward emitter nor an alias (op.aliases) has none, and a model using it
 * is refused by --quantize int8. */
typedef struct {
    /* the block of integer C computing l's output for n samples (qemit.h) */
    void (*forward)(QEmit *q, const Layer *l);
    QuantOut out;
    double scale;                        /* Q_FIXED */
    int zero;
    /* the op only clamps its input to [lo, hi] (relu: [0, inf), relu6:
     * [0, 6]): read alone from a layer that takes_clamp, it folds into that
     * layer's output clamp and costs nothing */
    int clamp;
    double lo, hi;
    int takes_clamp;                     /* its output clamps (dense, conv2d) */
    /* for ops computed through a table of the 256 inputs: y = fn(l, x) */
    double (*fn)(const Layer *l, double x);
} Int8Def;
/* ONNX export and import (compiler/onnx/expctx.h, impctx.h) */
typedef struct ExpCtx ExpCtx;
typedef struct ImpCtx ImpCtx;

/* An ONNX op type the importer hands to this op's translator, which reads
 * the node through compiler/onnx/impctx.h and makes the layers computing it
 * (1), or refuses it with imp_refuse (0). */
typedef struct {
    const char *op_type;                 /* "Conv" */
    int (*translate)(ImpCtx *cx);
} OnnxImport;
#define LC_MAX_ONNX_IMPORTS 3

/* For folding a per-channel affine op that follows (batchnorm) into this
 * op's weights when they are baked for inference (compiler/fold.c): the
 * output's channel c (its first dimension) is row c of the weight in slot
 * `kernel` (its first dimension) plus element c of the weight in slot
 * `bias`, which folding creates when the layer has none. */
typedef struct {
    int folds;                 /* 1: the op declares the two slots */
    int kernel, bias;
} FoldSlots;

struct OpDef {
    const char *name;
    const char *doc;                     /* one line for --help and summaries */
    ParamDef params[LC_MAX_PARAMS];
    int nparams;
    int variadic;                        /* the first parameter (a layer) repeats: concat */
    WeightDef weights[LC_MAX_LAYER_WEIGHTS];
    int nweights;
    SavedDef saved[LC_MAX_SAVED];
    int nsaved;
    /* floats of scratch (m->work, shared by every layer) a call needs in
     * build b (its threads and target); NULL for none */
    long (*scratch)(const Model *m, const Layer *l, const Build *b);
    KernelRef kernels[LC_MAX_OP_KERNELS];   /* ends at the first empty name */
    const char *units;                   /* kernel units to paste: "gemm conv" */
    int backward_reads;                  /* READS_INPUTS | READS_OUTPUT */
    /* 1 when the output is the input's storage (no copy) in a build that
     * trains (training = 1) or not; NULL: never */
    int (*aliases)(const Layer *l, int training);
    int inplace;                         /* the forward pass may write its output over
                                            its first input (elementwise ops) */
    int modal;                           /* forward and backward differ in training */
    int random;                          /* the training forward draws from m->rng */
    const char *fused_loss;              /* the loss whose backward starts at this op's
                                            input when this op is the output (softmax:
                                            "cross_entropy") */
    /* Sets l->shape (and creates weights with op_weight); reports errors
     * with op_error and returns 0 when the arguments do not fit. */
    int (*shape)(OpCtx *c, Layer *l);
    /* The block computing l's output for n samples from its inputs. */
    void (*forward)(Emit *e, const Layer *l, Mode mode);
    /* The block that, from d_l, adds l's share to the gradients of its inputs
     * (e_acc: "=" for the first block that reaches one, "+=" after) and
     * weights; e_in_grad / e_wgrad are "NULL" for what needs none. */
    void (*backward)(Emit *e, const Layer *l, Mode mode);
    /* Optional, for builds with the optimizer step fused into the backward
     * pass: the backward block that also steps the op's trainable weights
     * (e_step), needing step_scratch floats of m->gwork; without it, the
     * block's weight gradients go to m->gwork and the emitter steps them. */
    void (*backward_step)(Emit *e, const Layer *l, Mode mode);
    long (*step_scratch)(const Model *m, const Layer *l);
    double (*flops)(const Model *m, const Layer *l);   /* forward multiply-adds a sample */
    /* Folding (compiler/fold.c).  An op whose evaluating forward pass is
     * y = scale[c] x + shift[c] per channel c of its input (the first
     * dimension) fills the two from the weights in params[] and returns the
     * channel count; NULL (or 0): it does not fold. */
    int (*fold)(const Model *m, const Layer *l, const float *params, double *scale, double *shift);
    FoldSlots fold_into;                 /* producers a following fold goes into */
    /* 1 when the layer's output channel f is row f of fold_into's kernel
     * times the whole input plus the bias, every input value of a row's
     * channel (the row's k-th element multiplies a value of input channel
     * k / (row / channels)) reaching every output (no padding, one group):
     * a fold op before the layer goes into its weights.  NULL: never. */
    int (*absorbs_input)(const Layer *l);
    Int8Def int8;                        /* --quantize int8 */
    /* ONNX export (compiler/onnx/expctx.h): adds the nodes computing the
     * layer's output from its inputs, named as its value, with exp_node and
     * the exp_* helpers; returns 1, or 0 after exp_fail.  NULL: the op has
     * no ONNX form (export refuses the model, naming the layer). */
    int (*onnx_export)(ExpCtx *cx);
    int onnx_opset;                      /* the opset its nodes need; 0: 13 */
    /* ONNX import: the node types this op's translators take (a translator
     * may make other layers too: Conv makes conv1d or conv2d, Clip relu6). */
    OnnxImport onnx_import[LC_MAX_ONNX_IMPORTS];
};

/* ---- the table ---- */
const OpDef *op_find(const char *name);
/* The ops in the table, for listings and "did you mean". */
int op_count(void);
const OpDef *op_at(int i);
/* Adds an op (tests; the table of the build is fixed). */
void op_register(const OpDef *op);
/* Parameter slot of `name` in op, or -1. */
int op_param(const OpDef *op, const char *name);
/* Every kernel of every op, loss and optimizer, once: the JIT's symbols. */
int op_kernel_symbols(const KernelRef **out);

/* ---- for shape functions ---- */
const Layer *op_input(OpCtx *c, const Layer *l, int k);
void op_error(OpCtx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Creates LAYER.name of weight slot `slot` with `shape` and fans for the
 * initialisers; init NULL: the slot's.  Returns 0 (with an error) when the
 * model's weights would grow too large. */
int op_weight(OpCtx *c, Layer *l, int slot, Shape shape, long fan_in, long fan_out,
              const Init *init);
/* The weight of slot `slot` (declared weights of linear, or one op_weight made). */
const Weight *op_weight_of(OpCtx *c, const Layer *l, int slot);

#endif
