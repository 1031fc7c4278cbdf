/* loss.h: the losses (SPEC section 1), one descriptor each, in loss.c.
 * The checker finds them by name, the emitter writes NAME_loss and the
 * start of the backward pass from them, the runner picks the metric. */
#ifndef LC_LOSS_H
#define LC_LOSS_H

#include "ir.h"
#include "op.h"

typedef enum {
    METRIC_NONE,       /* regression: loss only */
    METRIC_ARGMAX,     /* classes: the largest output is the class */
    METRIC_THRESHOLD   /* bce: each output > 0.5 means 1 */
} MetricKind;

typedef enum {
    TRUTH_REAL,          /* any numbers, one per output */
    TRUTH_PROBABILITY,   /* numbers in [0, 1], one per output */
    TRUTH_ONE_HOT        /* one class: a CSV row holds its index, the model a one-hot row */
} TruthKind;

struct LossDef {
    const char *name;            /* "mse" */
    const char *doc;             /* per sample, for messages and the header */
    int fused;                   /* needs an output op whose fused_loss is this loss; the
                                    backward starts at that op's input */
    TruthKind truth;             /* what a row's truth is */
    MetricKind metric;
    /* the body of NAME_loss: returns the mean loss of the n samples */
    void (*emit_loss)(Emit *e);
    const char *backward_doc;    /* the first backward step, as a comment */
    KernelRef kernels[LC_MAX_OP_KERNELS];
    const char *units;
};

const LossDef *loss_find(const char *name);
int loss_count(void);
const LossDef *loss_at(int i);
/* "mse, cross_entropy, bce" */
const char *loss_names(void);
/* The loss starts its backward pass below layer out (out's op fuses with it). */
int loss_fuses_with(const LossDef *loss, const Layer *out);
/* The first step of the backward pass: d_start = (y - t) / n at the output
 * (or, fused, at the output op's input). */
void loss_emit_backward_start(Emit *e, const char *d_start);
/* The op a fused loss needs as the output, for messages. */
const OpDef *loss_output_op(const LossDef *loss);

#endif
