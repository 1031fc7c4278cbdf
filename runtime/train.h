/* train.h: the training loop, evaluation and prediction, driving a compiled
 * model through a few function pointers (from the JIT, or linked AOT code). */
#ifndef LC_TRAIN_H
#define LC_TRAIN_H

#include <stdint.h>
#include <stdio.h>

#include "data.h"
#include "weights.h"

typedef enum {
    LC_METRIC_NONE,       /* regression: loss only */
    LC_METRIC_ARGMAX,     /* classes: the largest output is the class */
    LC_METRIC_THRESHOLD   /* bce: each output > 0.5 means 1 */
} LcMetric;

typedef struct {
    void *state;                 /* the model's NAME_t */
    int in, out, batch;
    LcMetric metric;
    long nparams, ngrads;        /* floats of params (every weight) and grads (the trainable ones) */
    float *params, *grads;
    const float *output;         /* the output layer's stored outputs, [batch, out] */
    void (*init)(void *m, uint64_t seed);
    void (*forward)(void *m, const float *x, float *y, int n);
    float (*loss)(const void *m, const float *truth, int n);
    float (*train_step)(void *m, const float *x, const float *truth, int n);
    /* the steps of train_step one by one, for data-parallel training */
    void (*forward_train)(void *m, const float *x, int n);
    void (*backward)(void *m, const float *truth, int n);
    void (*update)(void *m);
    /* optional (may be NULL): reseeds the dropout masks; under MPI each rank
     * gets its own stream, so that the ranks' masks are not copies of one another */
    void (*set_rng)(void *m, uint64_t seed);
    /* optional (may be NULL): after a training step whose loss is not
     * finite, the first layer in forward order whose stored output (of the
     * n samples) holds a NaN or an infinity, or NULL when none does */
    const char *(*nonfinite_layer)(void *m, const float *x, int n);
} LcNet;

typedef struct {
    int epochs;
    uint64_t seed;
    int shuffle;
    const LcData *test;          /* evaluated after every epoch, or NULL */
    const char *log_path;        /* CSV, one row per epoch, or NULL */
    const char *save_path;       /* weights after training (and every save_every epochs) */
    int save_every;
    const LcTensorInfo *tensors; /* the weight table, for saving */
    int ntensors;
    int progress;                /* a live progress bar (stderr is a terminal) */
    FILE *out;                   /* where epoch lines go */
    const char *out_name;        /* its name, for a failed write ("standard output") */
} LcTrainOptions;

typedef struct {
    double loss;
    double accuracy;             /* when the metric is not NONE */
    long correct, n;
    int classes;
    long *confusion;             /* [classes][classes] (truth, predicted), argmax only; caller frees */
} LcEval;

/* Returns 0 with a message in err when saving, logging or writing to out
 * fails, or when training diverges: the loss of a step (checked after every
 * step; under MPI, the epoch's) or a weight (checked after every epoch) is
 * NaN or infinite.  Training then stops (the message names the epoch, the
 * step and the layer, or the weight); non-finite weights are never saved,
 * so the save path keeps its old file or the last checkpoint, whose weights
 * were finite.
 *
 * Under MPI (runtime/dist.h, `make MPI=1`, run with mpirun) lc_train and
 * lc_evaluate are collective: every rank calls them with the same data and
 * options.  lc_train splits every global batch (net->batch samples of the same
 * shuffled order) across the ranks and sums the gradients weighted by shard
 * size, so the ranks follow the single-process run; rank 0 alone prints,
 * writes the log and saves.  lc_evaluate splits the rows across the ranks and
 * sums the counts; every rank gets the totals.  lc_predict runs on rank 0 only. */
int lc_train(LcNet *net, const LcData *train, const LcTrainOptions *o, char *err, size_t errlen);
void lc_evaluate(LcNet *net, const LcData *d, int want_confusion, LcEval *r);
void lc_print_eval(FILE *out, const LcEval *r, LcMetric metric);
/* One line per sample: the outputs, comma-separated, %.9g (exact for float).
 * Returns 0 (errno set) as soon as a write to out fails. */
int lc_predict(LcNet *net, const LcData *d, FILE *out);


#endif
