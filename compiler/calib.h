/* calib.h: calibration for --quantize int8: the range each layer's output
 * takes over some data, from the float model compiled in memory (its
 * evaluating forward pass, every output kept). */
#ifndef LC_CALIB_H
#define LC_CALIB_H

#include <stddef.h>

#include "ir.h"

/* lo[i], hi[i]: the least and largest value of layer i's output over the n
 * samples x[n, input size] (layer 0: of x itself); layers that do not reach
 * the output get 0, 0.  0 with a message in err when the model does not
 * compile or a value is not finite. */
int calib_ranges(const Model *m, const float *params, const float *x, int n, const char *source_name,
                 double *lo, double *hi, char *err, size_t errlen);

#endif
