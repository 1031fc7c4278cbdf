/* plan.h: where every tensor of a generated model lives, and the order
 * facts the emitter needs.
 *
 *   - Aliases: an op whose output is its input's storage (flatten, reshape,
 *     identity; dropout where it cannot drop) gets no array of its own; its
 *     output and its gradient are those of the layer it aliases.
 *   - Buffers: a build that only infers keeps an output only until its last
 *     reader has run, so outputs share buffers by liveness; a training build
 *     keeps every output (the backward pass reads them).
 *   - Gradient writes: backward blocks run in reverse, and the first block
 *     to reach the gradient of a layer assigns it, later ones add to it.
 */
#ifndef LC_PLAN_H
#define LC_PLAN_H

#include "ir.h"

/* What of a build decides its memory. */
typedef struct {
    int trains;       /* backward and update exist (not --inference) */
    int real_size;    /* bytes of lc_real: 4, or 8 for the gradient check */
    int threads;      /* the kernels split their work over this many */
    int keep_all;     /* every live output keeps its own storage (layerc trace reads them all) */
} Build;

typedef struct {
    int nlayers;
    int *root;            /* per layer: the layer whose storage holds its output and gradient */
    int *buffer_of;       /* per layer: the shared buffer of its output (inference), -1 none */
    long *buffer_size;    /* per buffer: floats a sample */
    int nbuffers;         /* 0 in a training build: every stored output has its own array */
    unsigned char *adds;  /* [layer * LC_MAX_INPUTS + k]: l's backward adds to input k's gradient */
} Plan;

void plan_make(const Model *m, const Build *b, Plan *p);
void plan_free(Plan *p);
/* Layer i has an array (or buffer) of its own: live and not an alias. */
int plan_stores(const Plan *p, const Model *m, int i);
/* Floats a sample of all inference buffers together. */
long plan_buffer_floats(const Plan *p);

#endif
