/* model_view.h: what ONNX import and export know of a checked model and of
 * this build's ops, in one place.
 *
 * The exporters read layers, weights and arguments only through these
 * functions, and the importer asks only them which ops and options exist, so
 * a new IR (compiler/ir.h, compiler/ops.h) means re-pointing this file, not
 * the translators.
 */
#ifndef LC_ONNX_MODEL_VIEW_H
#define LC_ONNX_MODEL_VIEW_H

#include <stddef.h>

#include "ir.h"
#include "weights.h"

/* This build has op (and, when key is not NULL, the op has that option). */
int mv_have(const char *op, const char *key);

const char *mv_model_name(const Model *m);
int mv_nlayers(const Model *m);
int mv_output(const Model *m);
const char *mv_name(const Model *m, int l);
const char *mv_op(const Model *m, int l);          /* NULL for the input */
int mv_nin(const Model *m, int l);
int mv_in(const Model *m, int l, int k);
Shape mv_shape(const Model *m, int l);              /* one sample */
/* A numeric argument by its SPEC name ("alpha", "rate", "eps"), or def. */
double mv_num(const Model *m, int l, const char *param, double def);

/* The window of a convolution or pool over its 1 or 2 spatial axes, as the
 * layer's input and output shapes confirm; 0 when they do not. */
typedef struct {
    int n;
    long k[2], s[2], d[2], lo[2], hi[2];
    long groups;
} MvWindow;
int mv_window(const Model *m, int l, MvWindow *w);

/* The weight table files are saved by (tensors.c's model_tensor_table), malloc'd. */
LcTensorInfo *mv_tensor_table(const Model *m);
long mv_nparams(const Model *m);

int mv_nweights(const Model *m);
int mv_layer_nweights(const Model *m, int l);
int mv_layer_weight(const Model *m, int l, int k);
/* The weight LAYER.suffix of layer l, or -1. */
int mv_layer_weight_named(const Model *m, int l, const char *suffix);
const char *mv_weight_name(const Model *m, int w);
Shape mv_weight_shape(const Model *m, int w);
const float *mv_weight_values(const Model *m, const float *params, int w);
/* Declared by a `weight` statement (not made by a layer), and frozen. */
int mv_weight_declared(const Model *m, int w);
int mv_weight_frozen(const Model *m, int w);

/* Text for layerc's metadata in exported files: the initializer of weight w
 * or the init= of layer l ("xavier", "uniform(-1, 1)", a literal "[[1, 2]]"
 * or, when that does not fit in buf, "literal"; NULL for the default), the
 * loss, and the train block as "KEY = VALUE; ...". */
const char *mv_weight_init(const Model *m, int w, char *buf, size_t len);
const char *mv_layer_init(const Model *m, int l, char *buf, size_t len);
/* A numeric option of layer l given in the .lyr (decay=), as text; NULL when not given. */
const char *mv_layer_option(const Model *m, int l, const char *param, char *buf, size_t len);
const char *mv_loss(const Model *m);
const char *mv_train(const Model *m, char *buf, size_t len);

#endif
