/* plan.h: where every tensor of a generated model lives, for one build.
 *
 *   - Weights: in params[] (at an offset of this build) or, when they are
 *     baked and never change (frozen ones, and every one in an inference
 *     build), in a `static const` array of their own: flash on a
 *     microcontroller.  Gradients and optimizer state cover the trainable
 *     weights only (Weight.grad_offset).
 *   - Aliases: an op whose output is its input's storage (flatten, reshape,
 *     identity; dropout where it drops nothing) gets no array of its own;
 *     its output and its gradient are those of the layer it aliases.
 *   - Activations: every layer output, layer gradient and saved tensor has a
 *     lifetime on the timeline of the forward pass, the loss, the backward
 *     pass and the update; tensors whose lifetimes do not overlap share a
 *     buffer (a union in the state struct), in training builds as in
 *     inference builds.
 *   - Gradient writes: backward blocks run in reverse, and the first block
 *     to reach the gradient of a layer assigns it, later ones add to it.
 */
#ifndef LC_PLAN_H
#define LC_PLAN_H

#include "arena.h"
#include "ir.h"

typedef enum {
    TARGET_HOST,      /* desktop CPUs: packed, blocked, threaded kernels */
    TARGET_MCU        /* small cores: plain loops, no packing, no scratch, small stack */
} Target;

/* What of a build decides its memory. */
typedef struct {
    int trains;       /* backward and update exist (not --inference) */
    int real_size;    /* bytes of lc_real: 4, or 8 for the gradient check */
    int threads;      /* the kernels split their work over this many */
    int baked;        /* weights are baked in (--weights): the unchanging ones are const */
    int keep_all;     /* no sharing: every tensor keeps its values (trace) */
    Target target;    /* the kernels pasted into generated C */
} Build;

typedef enum { PT_OUT, PT_GRAD, PT_SAVED } TensorKind;

typedef struct {
    TensorKind kind;
    int layer, slot;      /* slot: the op's saved tensor */
    const char *name;     /* the C member: "h_out", "d_h", "h_mask" */
    long size;            /* floats (a sample's when per_sample) */
    int per_sample;
    int birth, death;     /* steps of the timeline it is alive over */
    int buffer;
} PlanTensor;

typedef struct {
    long size;            /* floats (a sample's when per_sample) */
    int per_sample;
    int ntenants;
    int first;            /* its first tenant (a tensor) */
    int free_after;       /* the last step any tenant is alive */
} PlanBuffer;

typedef struct {
    int nlayers;
    int *root;            /* per layer: the layer whose storage holds its output and gradient */
    unsigned char *adds;  /* [layer * LC_MAX_INPUTS + k]: l's backward adds to input k's gradient */
    long *param_at;       /* per weight: offset in this build's params[], -1 when const */
    long nparams;         /* floats in this build's params[] */
    PlanTensor *tensors;
    int ntensors;
    PlanBuffer *buffers;
    int nbuffers;
    int *out_tensor, *grad_tensor;   /* per layer: its tensors, -1 for none */
    int *saved_tensor;               /* [layer * LC_MAX_SAVED + slot] */
    Arena names;
} Plan;

void plan_make(const Model *m, const Build *b, Plan *p);
void plan_free(Plan *p);
/* Layer i has storage of its own: live and not an alias. */
int plan_stores(const Plan *p, const Model *m, int i);
/* Floats a sample of the per-sample buffers together. */
long plan_buffer_floats(const Plan *p);
/* Weight w is a const array in this build. */
int plan_is_const(const Plan *p, int w);

#endif
