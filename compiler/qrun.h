/* qrun.h: the int8 C of a model (qemit.h) compiled in memory and run on
 * data: `layerc eval ... --quantize int8`, the same integer code the AOT
 * file holds, so its accuracy is what the device will see. */
#ifndef LC_QRUN_H
#define LC_QRUN_H

#include <stddef.h>

#include "data.h"
#include "qemit.h"
#include "train.h"

typedef struct {
    long correct, n;             /* samples right by the metric (argmax, threshold) */
    double accuracy;
    double mse;                  /* of the dequantised outputs against the truth, per value */
} QEval;

/* 0 with a message in err when the code does not compile. */
int qrun_evaluate(const Model *m, const QuantOptions *o, const LcData *d, LcMetric metric, QEval *r,
                  char *err, size_t errlen);

#endif
