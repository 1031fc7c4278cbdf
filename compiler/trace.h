/* trace.h: `layerc trace`, the articles' tables from a model of one's own.
 *
 * For each of the first rows of a data set: every layer's output in forward
 * order, the truth and the sample's loss; with backward, the gradient of
 * that loss with respect to every layer's output in reverse order and to
 * every weight.  Then the rows together: the loss of the batch and, with
 * backward, the weights' gradients of the batch loss.  Every number is read
 * from the generated code as it runs (its forward, loss and backward
 * functions), not computed again here.
 */
#ifndef LC_TRACE_H
#define LC_TRACE_H

#include <stdio.h>

#include "data.h"
#include "ir.h"

typedef struct {
    int rows;                  /* samples to trace (the first ones) */
    int markdown;              /* Markdown tables instead of aligned text */
    int backward;              /* the gradients too */
    const char *data_name;     /* for the heading */
    const char *weights_name;  /* NULL: the model's initialisers */
} TraceOptions;

/* Traces d through m, with weights (params[]) when not NULL.  Returns an
 * exit status (0, or 1 with a message on stderr). */
int trace_model(const Model *m, const char *source_name, const LcData *d, const float *weights,
                const TraceOptions *o, FILE *out);

#endif
