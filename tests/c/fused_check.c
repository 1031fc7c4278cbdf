/* fused_check: the same model written twice, plain (prefix p_) and with the
 * optimizer step fused into the backward pass (prefix f_, layerc
 * --fuse-update), trained from the same initial weights on the same
 * batches: every weight must agree within float rounding after each step.
 *     cc -Ip -If fused_check.c p.c f.c -lm
 * exit 0 when they agree; prints the worst relative difference. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "p.h"
#include "f.h"

static p_t plain;
static f_t fused;

static unsigned long long rng = 12345;
static float uniform(void)
{
    rng = rng * 6364136223846793005ull + 1442695040888963407ull;
    return (float)((rng >> 40) * (1.0 / 16777216.0)) * 2 - 1;
}

int main(void)
{
    static float x[p_BATCH * p_IN], t[p_BATCH * p_OUT];
    double worst = 0;
    p_init(&plain, 7);
    f_init(&fused, 7);
    if (p_NPARAMS != f_NPARAMS || memcmp(plain.params, fused.params, sizeof plain.params)) {
        puts("the two builds start from different weights");
        return 1;
    }
    for (int step = 0; step < 8; step++) {
        for (int i = 0; i < p_BATCH * p_IN; i++) x[i] = uniform();
        for (int i = 0; i < p_BATCH * p_OUT; i++) t[i] = uniform() > 0 ? 1.0f : 0.0f;
        /* a one-hot truth for a softmax model: the largest random value of a row */
        if (p_OUT > 1 && P_ONE_HOT)
            for (int b = 0; b < p_BATCH; b++) {
                int k = (int)((uniform() + 1) / 2 * p_OUT) % p_OUT;
                for (int j = 0; j < p_OUT; j++) t[b * p_OUT + j] = j == k;
            }
        float lp = p_train_step(&plain, x, t, p_BATCH), lf = f_train_step(&fused, x, t, f_BATCH);
        if (lp != lf) {
            printf("step %d: loss %.9g (plain) vs %.9g (fused)\n", step, lp, lf);
            return 1;
        }
        for (int i = 0; i < p_NPARAMS; i++) {
            double a = plain.params[i], b = fused.params[i];
            double d = fabs(a - b) / fmax(fmax(fabs(a), fabs(b)), 1e-3);
            if (d > worst) worst = d;
        }
    }
    printf("worst relative difference %.3g\n", worst);
    return worst > 1e-5;
}
