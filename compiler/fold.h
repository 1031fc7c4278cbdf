/* fold.h: per-channel affine layers folded into the layer before them,
 * for inference builds whose weights are baked (`layerc m.lyr --weights W
 * --inference -o m.c`).
 *
 * The step knows no op by name.  An op whose evaluation is an affine map
 * per channel (batchnorm) says so with its descriptor's `fold` hook, which
 * gives scale[c] and shift[c] from the trained weights; an op whose output
 * channel c is row c of a kernel plus a bias (dense, conv2d) names those
 * weight slots in `fold_into`.  When such a layer P is read by exactly one
 * layer L, and L folds, W'[c] = W[c] scale[c] and b'[c] = b[c] scale[c] +
 * shift[c] replace P's weights (a bias is created when P has none), L's
 * readers read P instead, and L and its weights are gone from the model:
 * the generated C holds no trace of it.  Repeated until nothing folds (a
 * second batchnorm after the first folds too).
 */
#ifndef LC_FOLD_H
#define LC_FOLD_H

#include "arena.h"
#include "ir.h"

/* The folded model, allocated in a (m itself when nothing folds); *params,
 * m's weights, is replaced by a malloc'd array in the folded model's layout
 * (the old one is freed).  *folded counts the layers folded away. */
const Model *fold_model(const Model *m, Arena *a, float **params, int *folded);

#endif
