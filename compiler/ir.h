/* ir.h: the checked model, ready to emit.
 *
 * Layers are in topological order (a name is declared before it is used, so
 * source order already is one); layer 0 is the input.  Every shape is known,
 * every weight has its offset in params[], and every layer knows whether the
 * backward pass needs the gradient of its output (needs_grad): only when some
 * trainable weight lies upstream of it, so nothing is computed for frozen
 * weights or for the input.
 */
#ifndef LC_IR_H
#define LC_IR_H

#include <stdint.h>

#include "diag.h"

#ifndef LC_MAX_RANK
#define LC_MAX_RANK 8
#endif
#define LC_MAX_INPUTS 16     /* inputs of one layer (concat) */
#define LC_MAX_PARAMS 8      /* arguments and options of one op */
#define LC_MAX_NAME 255
/* Every tensor, and the whole state of a generated model (parameters,
 * gradients, optimizer state, stored outputs for a batch), must stay under
 * 2^29 floats (2 GiB): indexes in generated code are `int`. */
#define LC_MAX_STATE_FLOATS (1L << 29)

typedef struct {
    int rank;
    long dims[LC_MAX_RANK];
} Shape;

long shape_size(const Shape *s);
/* "[1, 28, 28]" into buf. */
const char *shape_str(const Shape *s, char *buf, int len);

typedef enum {
    INIT_DEFAULT,     /* PyTorch's default for the layer: uniform(+-1/sqrt(fan_in)) */
    INIT_ZEROS, INIT_ONES, INIT_CONSTANT, INIT_UNIFORM, INIT_NORMAL,
    INIT_XAVIER,      /* Glorot uniform: +-sqrt(6 / (fan_in + fan_out)) */
    INIT_HE,          /* Kaiming normal: N(0, sqrt(2 / fan_in)) */
    INIT_LITERAL      /* values given in the model file */
} InitKind;

typedef struct {
    InitKind kind;
    double a, b;            /* constant: a; uniform: [a, b); normal: mean a, std b */
    const double *values;   /* literal: size values */
} Init;

typedef struct {
    const char *name;       /* as the user sees it: "w2", "h.W" */
    const char *cname;      /* as a C identifier: "w2", "h_W" */
    Loc loc;
    Shape shape;
    long size, offset;      /* element count; offset in params[] */
    int trainable;
    Init init;
    long fan_in, fan_out;
    int uses;               /* layers that read it */
    int updated;            /* trainable and read by a layer that reaches the loss:
                               only these get optimizer steps (as torch skips a
                               parameter whose .grad is None) */
} Weight;

typedef struct OpDef OpDef;

typedef struct {
    const char *name;
    Loc loc;                /* the statement */
    const OpDef *op;        /* NULL for the input layer */
    Shape shape;            /* of one sample */
    long size;
    int in[LC_MAX_INPUTS], nin;    /* input layers (indices) */
    int w[2], nw;                  /* weights read (indices): W, then bias */
    double p[LC_MAX_PARAMS];       /* numeric arguments, by the op's parameter slot */
    Shape target;                  /* reshape */
    Init init;                     /* dense/conv init= */
    int needs_grad;         /* backward needs d(loss)/d(output of this layer) */
    int live;               /* reaches the output: computed by forward */
} Layer;

typedef enum { LOSS_MSE, LOSS_CROSS_ENTROPY, LOSS_BCE } LossKind;
typedef enum { OPT_SGD, OPT_ADAM } OptKind;

typedef struct {
    OptKind kind;
    double lr, momentum, weight_decay;   /* sgd (weight_decay for adam too) */
    double beta1, beta2, eps;            /* adam */
} Optimizer;

typedef struct {
    Optimizer opt;
    int batch, epochs, shuffle;
    uint64_t seed;
} TrainConfig;

typedef struct {
    const char *name;       /* model NAME: the prefix of every C symbol */
    const Source *src;
    Layer *layers;
    int nlayers;
    Weight *weights;
    int nweights;
    int output;             /* index of the output layer */
    LossKind loss;
    Loc loss_loc;
    TrainConfig train;
    long nparams, ntrainable;
} Model;

/* The layer whose output the loss backward starts from: the softmax's or
 * sigmoid's input for cross_entropy/bce (the fused, stable form), else the
 * output layer. */
int model_loss_start(const Model *m);
int model_has_op(const Model *m, const char *op);
/* Classes when the truth is a class index (cross_entropy), else 0. */
int model_classes(const Model *m);
const char *loss_name(LossKind k);
int model_has_dropout(const Model *m);

#endif
