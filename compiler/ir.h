/* ir.h: the checked model, ready to plan and emit.
 *
 * Layers are in topological order (a name is declared before it is used, so
 * source order already is one); layer 0 is the input.  Every shape is known,
 * every weight has its offset in params[] and a role, and every layer knows
 * whether the backward pass needs the gradient of its output (needs_grad):
 * only when some trainable weight lies upstream of it, so nothing is
 * computed for frozen weights or for the input.
 *
 * The IR knows no op by name.  A layer points to its op's descriptor
 * (op.h), keeps its arguments in the descriptor's parameter slots and its
 * weights in the descriptor's weight slots; what an op means is in its own
 * file under compiler/ops/.
 */
#ifndef LC_IR_H
#define LC_IR_H

#include <stdint.h>

#include "arena.h"
#include "diag.h"

#ifndef LC_MAX_RANK
#define LC_MAX_RANK 8
#endif
#define LC_MAX_INPUTS 16         /* inputs of one layer (concat) */
#define LC_MAX_PARAMS 12         /* arguments and options of one op */
#define LC_MAX_LAYER_WEIGHTS 8   /* weight slots of one op */
#define LC_MAX_SAVED 4           /* saved tensors of one op */
#define LC_MAX_OPT_PARAMS 8
#define LC_MAX_REALS 65536       /* numbers in one list argument (normalize's mean=[...]) */      /* hyper-parameters of one optimizer */
#define LC_MAX_SCHED_PARAMS 4    /* of one learning-rate schedule */
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
int shape_equal(const Shape *a, const Shape *b);
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

/* What learning does to a weight (SPEC section 1). */
typedef enum {
    ROLE_TRAINABLE,   /* stepped by the optimizer; has a gradient */
    ROLE_FROZEN,      /* never changes */
    ROLE_BUFFER       /* not trained, but the training forward pass updates it
                         (batchnorm's running statistics); saved in weight files */
} WeightRole;

typedef struct {
    const char *name;       /* as the user sees it: "w2", "h.W" */
    const char *cname;      /* as a C identifier: "w2", "h_W" */
    Loc loc;
    Shape shape;
    long size, offset;      /* element count; offset in params[] when every weight is there */
    long grad_offset;       /* offset in grads[] (trainable weights only), else -1 */
    WeightRole role;
    Init init;
    long fan_in, fan_out;
    double decay;           /* weight decay of this weight on top of the optimizer's */
    int uses;               /* layers that read it */
    int updated;            /* trainable and read by a layer that reaches the loss:
                               only these get optimizer steps (as torch skips a
                               parameter whose .grad is None) */
} Weight;

/* One argument of a layer, in the slot of its op's parameter. */
typedef struct {
    double num;             /* a number; for a pair, its first side */
    long pair[2];           /* kernel=[h, w] or kernel=k (both sides k) */
    int word;               /* the parameter's word list: index + 1 of the word given, else 0 */
    Shape shape;            /* reshape(x, [d, ...]) */
    const double *reals;    /* normalize(x, mean=[...]): nreals numbers (one for a number) */
    int nreals;
    Init init;              /* init=he */
    int given;              /* set by the call, not the default */
} ArgValue;

typedef struct OpDef OpDef;
typedef struct LossDef LossDef;
typedef struct OptimDef OptimDef;

typedef struct {
    const char *name;
    Loc loc;                /* the statement */
    const OpDef *op;        /* NULL for the input layer */
    Shape shape;            /* of one sample */
    long size;
    int in[LC_MAX_INPUTS], nin;     /* input layers (indices) */
    int w[LC_MAX_LAYER_WEIGHTS];    /* weight of each of the op's weight slots, -1 for none */
    ArgValue arg[LC_MAX_PARAMS];    /* by the op's parameter slot */
    int needs_grad;         /* backward needs d(loss)/d(output of this layer) */
    int live;               /* reaches the output: computed by forward */
} Layer;

typedef struct {
    const OptimDef *def;
    double hp[LC_MAX_OPT_PARAMS];   /* by the optimizer's parameter slot; hp[0] is lr */
} Optimizer;

typedef struct ScheduleDef ScheduleDef;

/* A learning-rate schedule (schedule.h); def NULL: none. */
typedef struct {
    const ScheduleDef *def;
    double hp[LC_MAX_SCHED_PARAMS];   /* by the schedule's parameter slot */
} Schedule;

typedef struct {
    Optimizer opt;
    int batch, epochs, shuffle;
    uint64_t seed;
    Schedule schedule;
} TrainConfig;

typedef struct {
    const char *name;       /* model NAME: the prefix of every C symbol */
    const Source *src;
    Layer *layers;
    int nlayers;
    Weight *weights;
    int nweights;
    int output;             /* index of the output layer */
    const LossDef *loss;
    Loc loss_loc;
    TrainConfig train;
    long nparams;           /* floats of all the weights */
    long ntrainable;        /* of which trainable: the floats of grads[] */
} Model;

/* The weight in slot `slot` of layer l, or NULL. */
const Weight *layer_weight(const Model *m, const Layer *l, int slot);
/* The output layer of input k of l. */
const Layer *layer_input(const Model *m, const Layer *l, int k);
int layer_index(const Model *m, const Layer *l);
int weight_trainable(const Weight *w);

/* The layer whose output the loss backward starts from: the output layer's
 * input when the loss is fused with the output op (cross_entropy through a
 * softmax, bce through a sigmoid: the stable form), else the output layer. */
int model_loss_start(const Model *m);
/* Classes when the truth is a class index (cross_entropy), else 0. */
int model_classes(const Model *m);
/* Some live layer's op behaves differently in training (dropout, batchnorm). */
int model_is_modal(const Model *m);

/* Appends w (its size and offset computed here); -1 when the model's
 * weights would pass LC_MAX_STATE_FLOATS. */
int model_add_weight(Model *m, Arena *a, const Weight *w);

/* After the checker has built the layers and weights: which layers reach
 * the output, which need gradients, which weights get optimizer steps. */
void model_mark(Model *m);

#endif
