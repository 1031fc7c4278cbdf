/* quant.h: the arithmetic of int8 quantisation, after the TensorFlow Lite
 * int8 specification: choosing scales and zero points, turning a real
 * multiplier into a fixed-point one, rounding weights and biases.  Done in
 * double when the C is written; the generated code only sees integers.
 */
#ifndef LC_QUANT_H
#define LC_QUANT_H

#include <stdint.h>

/* real = scale (q - zero), q in [-128, 127] */
typedef struct {
    double scale;
    int zero;
} QParams;

/* round half away from zero (std::round, TfLiteRound) */
double quant_round(double x);
/* The activation parameters for values seen in [lo, hi]: the range widened
 * to hold 0, scale (hi - lo) / 255, the zero point nudged to an integer
 * (TFLite's ChooseQuantizationParams).  An empty range gets scale 1. */
QParams quant_choose(double lo, double hi);
/* real = mult 2^(shift - 31), mult in [2^30, 2^31) or 0 (TFLite's
 * QuantizeMultiplier). */
void quant_multiplier(double real, int32_t *mult, int *shift);
/* The symmetric scale of n weights: max |w| / 127 (1 when all are 0). */
double quant_weight_scale(const float *w, long n);
/* round(v / scale) clamped to [lo, hi] */
int32_t quant_value(double v, double scale, long lo, long hi);
/* q = zero + round(real / scale) clamped to int8: a bound of a clamp */
int quant_bound(const QParams *p, double real);

#endif
