/* target_check: one model written twice, for the host (prefix h_) and with
 * the small-core kernels (prefix s_, layerc --target mcu), from the same
 * initial weights: on random batches the outputs, the loss and every
 * gradient must agree within float rounding (the kernels add the same
 * products in other orders).
 *     cc -Ih -Is target_check.c h.c s.c -lm
 * exit 0 when they agree; prints the worst relative differences. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "h.h"
#include "s.h"

static h_t host;
static s_t small;

static unsigned long long rng = 12345;
static float uniform(void)
{
    rng = rng * 6364136223846793005ull + 1442695040888963407ull;
    return (float)((rng >> 40) * (1.0 / 16777216.0)) * 2 - 1;
}

/* the largest |a - b| of n values relative to the largest |a| (at least 1e-3) */
static double differs(const float *a, const float *b, int n)
{
    double d = 0, top = 1e-3;
    for (int i = 0; i < n; i++) {
        top = fmax(top, fabs(a[i]));
        d = fmax(d, fabs((double)a[i] - b[i]));
    }
    return d / top;
}

int main(void)
{
    static float x[h_BATCH * h_IN], t[h_BATCH * h_OUT], yh[h_BATCH * h_OUT], ys[h_BATCH * h_OUT];
    double out = 0, grad = 0, loss = 0;
    h_init(&host, 7);
    s_init(&small, 7);
    if (h_NPARAMS != s_NPARAMS || memcmp(host.params, small.params, sizeof host.params)) {
        puts("the two builds start from different weights");
        return 1;
    }
    for (int step = 0; step < 3; step++) {
        for (int i = 0; i < h_BATCH * h_IN; i++) x[i] = uniform();
        for (int b = 0; b < h_BATCH; b++) {
            int k = (int)((uniform() + 1) / 2 * h_OUT) % h_OUT;
            for (int j = 0; j < h_OUT; j++) t[b * h_OUT + j] = j == k;
        }
        h_forward(&host, x, yh, h_BATCH);
        s_forward(&small, x, ys, s_BATCH);
        out = fmax(out, differs(yh, ys, h_BATCH * h_OUT));
        float lh = h_loss(&host, t, h_BATCH), ls = s_loss(&small, t, s_BATCH);
        loss = fmax(loss, fabs((double)lh - ls) / fmax(fabs(lh), 1e-3));
        h_backward(&host, t, h_BATCH);
        s_backward(&small, t, s_BATCH);
        for (int w = 0; w < h_nparam_tensors; w++) {
            const h_param_info *p = &h_params[w];
            if (!p->trainable) continue;
            grad = fmax(grad, differs(host.grads + p->grad_offset, small.grads + p->grad_offset, p->size));
        }
        /* the same weights for the next batch: a step of each from its own gradients */
        h_update(&host);
        memcpy(small.params, host.params, sizeof host.params);
    }
    printf("worst relative difference: outputs %.3g, loss %.3g, gradients %.3g\n", out, loss, grad);
    return out > 1e-5 || loss > 1e-5 || grad > 1e-4;
}
