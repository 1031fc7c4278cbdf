/* run.h: a checked model, compiled in memory, as an LcNet the runtime drives. */
#ifndef LC_RUN_H
#define LC_RUN_H

#include <stdio.h>

#include "emit.h"
#include "ir.h"
#include "jit.h"
#include "tensors.h"
#include "train.h"
#include "weights.h"

typedef struct {
    Jit *jit;
    LcNet net;
    LcTensorInfo *tensors;    /* the weight table, for weight files */
    int ntensors;
} RunModel;

/* Emits, compiles and initialises the model (seed from its train block).
 * Returns 0 with a message in err on failure. */
int run_model_open(RunModel *r, const Model *m, const char *source_name, char *err, size_t errlen);
/* The same with --qat's rounding of layer outputs (emit.h; NULL: none). */
int run_model_open_fake(RunModel *r, const Model *m, const char *source_name, const FakeQuant *fake,
                        char *err, size_t errlen);
void run_model_close(RunModel *r);

LcMetric model_metric(const Model *m);

#endif
