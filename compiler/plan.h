/* plan.h: memory plan of an inference-only model.  Without a backward pass
 * a layer's output is dead once its last reader has run, so outputs share
 * buffers by liveness (training keeps every output: backward reads them). */
#ifndef LC_PLAN_H
#define LC_PLAN_H

#include "ir.h"

typedef struct {
    int nbuffers;
    int *buffer_of;    /* per layer: its buffer, or -1 when it is not computed */
    long *size;        /* per buffer: floats per sample */
} BufferPlan;

void plan_buffers(const Model *m, BufferPlan *p);
void plan_free(BufferPlan *p);
/* Floats per sample of all buffers together. */
long plan_floats(const BufferPlan *p);

#endif
