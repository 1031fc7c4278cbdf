/* gradcheck.h: `layerc check`, the backward pass compared with finite
 * differences of the loss, in double precision. */
#ifndef LC_GRADCHECK_H
#define LC_GRADCHECK_H

#include <stdint.h>
#include <stdio.h>

#include "ir.h"

typedef struct {
    uint64_t seed;     /* initial weights, inputs, truth, and which values are sampled */
    int all;           /* every value of every tensor, not a sample */
} GradCheckOptions;

/* Values sampled in each tensor unless all is set. */
#define LC_GRADCHECK_SAMPLE 10

/* Prints one line per weight tensor and a verdict to out.  Returns 1 when
 * the backward pass agrees, 0 when it does not or when the loss or a
 * gradient is not finite (said on out), -1 on failure (err). */
int gradcheck_run(const Model *m, const char *source_name, const GradCheckOptions *o, FILE *out,
                  char *err, size_t errlen);

#endif
