/* quant.c: int8 quantisation arithmetic (quant.h). */
#include "quant.h"

#include <math.h>

double quant_round(double x)
{
    return x < 0 ? -floor(-x + 0.5) : floor(x + 0.5);
}

QParams quant_choose(double lo, double hi)
{
    const double qmin = -128, qmax = 127;
    QParams p = { 1, 0 };
    if (lo > 0) lo = 0;
    if (hi < 0) hi = 0;
    if (!(hi > lo)) return p;
    p.scale = (hi - lo) / (qmax - qmin);
    double from_min = qmin - lo / p.scale, from_max = qmax - hi / p.scale;
    double err_min = fabs(qmin) + fabs(lo / p.scale), err_max = fabs(qmax) + fabs(hi / p.scale);
    double z = err_min < err_max ? from_min : from_max;
    p.zero = z < qmin ? (int)qmin : z > qmax ? (int)qmax : (int)quant_round(z);
    return p;
}

void quant_multiplier(double real, int32_t *mult, int *shift)
{
    if (real == 0) {
        *mult = 0, *shift = 0;
        return;
    }
    int e;
    double q = frexp(real, &e);
    int64_t fixed = (int64_t)quant_round(q * 2147483648.0);
    if (fixed == ((int64_t)1 << 31)) fixed /= 2, e++;
    if (e < -31) fixed = 0, e = 0;
    *mult = (int32_t)fixed, *shift = e;
}

double quant_weight_scale(const float *w, long n)
{
    double m = 0;
    for (long i = 0; i < n; i++)
        if (fabs((double)w[i]) > m) m = fabs((double)w[i]);
    return m > 0 ? m / 127 : 1;
}

int32_t quant_value(double v, double scale, long lo, long hi)
{
    double q = quant_round(v / scale);
    return (int32_t)(q < (double)lo ? lo : q > (double)hi ? hi : q);
}

int quant_bound(const QParams *p, double real)
{
    if (isinf(real)) return real > 0 ? 127 : -128;
    double q = p->zero + quant_round(real / p->scale);
    return q < -128 ? -128 : q > 127 ? 127 : (int)q;
}
