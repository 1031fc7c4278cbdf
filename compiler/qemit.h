/* qemit.h: the model as integer-only C (`layerc m.lyr --weights W
 * --quantize int8 --calibrate DATA -o m.c`), after the TensorFlow Lite int8
 * specification (SPEC section 3, "int8").
 *
 * The model given is the folded one (fold.h: batchnorm already in the
 * weights), with its float weights and the range each layer's output takes
 * over the calibration data (calib.h).  From them every layer gets its
 * output's scale and zero point (op.int8.out: calibrated, its input's, or
 * the op's own), a relu or relu6 read alone from a dense or conv2d layer
 * folds into that layer's clamp (its output is the relu's, quantised by the
 * relu's range), and aliases (flatten, reshape) cost nothing.  Each op's
 * int8 emitter (op.int8.forward) writes its block with the helpers below;
 * the kernels are those of runtime/kernels/int8.c.
 *
 * The source also lists, in a comment, each layer's calibrated range
 * ("@range NAME LO HI") and its quantisation ("@quant NAME SCALE ZERO LO
 * HI"), for tools (tests/int8/ref.py) to read.
 */
#ifndef LC_QEMIT_H
#define LC_QEMIT_H

#include <stdint.h>
#include <stdio.h>

#include "emit.h"
#include "ir.h"
#include "op.h"
#include "quant.h"

typedef struct {
    const float *params;        /* the model's weights (folded) */
    const double *lo, *hi;      /* per layer: its output's range over the calibration data */
    const char *header;         /* AOT: the header's name for #include */
    const char *source_name;    /* the .lyr, for comments */
    const char *calibration;    /* the calibration data's name, for comments */
    int jit;                    /* kernels as symbols, lc_jit_* glue (layerc eval) */
} QuantOptions;

/* 1 when every live layer has an int8 form; else 0, each one that has
 * none reported as "FILE:LINE: error: ..." on err. */
int qemit_supported(const Model *m, FILE *err);

/* malloc'd text; the model must pass qemit_supported. */
char *qemit_header(const Model *m, const QuantOptions *o);
char *qemit_source(const Model *m, const QuantOptions *o);

/* The figures of an int8 build: bytes of constant tables (flash) and of the
 * state of a build of batch 1 (RAM). */
void qemit_sizes(const Model *m, const QuantOptions *o, long *flash, long *ram);

/* --qat: for each layer of `orig`, the model before folding (whose layers
 * keep their places in the folded one, m), the rounding the int8 build
 * gives its output: the input, each calibrated output (a relu folded into
 * its producer carries the producer's; a batchnorm folded away carries its
 * producer's, for it is that output in the training graph); scale 0
 * elsewhere (aliases, pools and clamps in their input's quantisation,
 * fixed-scale outputs). */
void qemit_fake_quant(const Model *orig, const Model *m, const QuantOptions *o, FakeQuant *fake);

/* ---- for the int8 emitters of ops ---- */
struct QEmit {
    Emit e;                     /* the forward pass: emitf(&q->e, ...) */
    Emit tables;                /* the constant tables, written before it */
    const Model *m;
    const QuantOptions *o;
    QParams *qp;                /* per layer: its output's quantisation */
    int *lo, *hi;               /* per layer: its output's clamp */
    int *root;                  /* per layer: the layer whose storage its output is */
    int *buffer;                /* per root layer: its buffer (-1: the input x) */
    long *buffer_size;          /* bytes of each buffer for one sample */
    int nbuffers;
    long flash;                 /* bytes of the tables */
    Arena names;
};

const char *q_out(QEmit *q, const Layer *l);                 /* "m->t0" */
const char *q_in(QEmit *q, const Layer *l, int k);           /* the output of l's input k */
const QParams *q_params(const QEmit *q, const Layer *l);     /* l's output's */
const QParams *q_in_params(const QEmit *q, const Layer *l, int k);
/* "&NAME_LAYER_q": a table of l's input and output zero points and its clamp */
const char *q_quant(QEmit *q, const Layer *l);
/* The weight of slot `kernel`, each row (its first dimension: an output
 * channel) with its own symmetric scale, as int8; the bias of slot `bias`
 * as int32 at scale s_in s_w[row] (NULL when absent); each row's
 * multiplier and shift to the output's scale: the tables NAME_LAYER_W, _b,
 * _mult, _shift, named as the kernels take them ("W, b, mult, shift"). */
const char *q_channel_weights(QEmit *q, const Layer *l, int kernel, int bias);
/* A table of int8 or int32 values for layer l ("NAME_LAYER_WHAT"). */
const char *q_table_i8(QEmit *q, const Layer *l, const char *what, const int32_t *v, long n);
const char *q_table_i32(QEmit *q, const Layer *l, const char *what, const int32_t *v, long n);
/* The block of an op computed through a table of its 256 inputs (op.int8.fn). */
void q_lut_forward(QEmit *q, const Layer *l);

#endif
