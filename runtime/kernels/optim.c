/* kernels/optim.c: the optimizer steps of torch.optim.  Needs common.c. */
/* ------------------------------------------------------------------------ */
/* Optimizer steps over runs of parameters (lc__elem_run of common.c).      */

static void lc__sgd_task(void *p, int t)
{
    const lc__elem_job *j = (const lc__elem_job *)p;
    lc_real *params = j->a, *velocity = j->b;
    const lc_real *grads = j->x;
    const lc_real lr = j->k[0], momentum = j->k[1], decay = j->k[2];
    int i, lo, hi;
    lc__range(j->n, j->parts, t, 64, &lo, &hi);
    if (velocity)
        for (i = lo; i < hi; i++) {
            lc_real g = grads[i] + decay * params[i];
            velocity[i] = momentum * velocity[i] + g;
            params[i] -= lr * velocity[i];
        }
    else
        for (i = lo; i < hi; i++) {
            lc_real g = grads[i] + decay * params[i];
            params[i] -= lr * g;
        }
}

/* g = grads + decay p; v = momentum v + g (velocity not NULL); p -= lr v (or lr g) */
LC_KERNEL void lc_sgd_update(lc_real *params, const lc_real *grads, lc_real *velocity, int n,
                             lc_real lr, lc_real momentum, lc_real decay)
{
    lc__elem_job j;
    j.a = params, j.b = velocity, j.x = grads;
    j.k[0] = lr, j.k[1] = momentum, j.k[2] = decay;
    lc__elem_run(&j, lc__sgd_task, n);
}

/* sqrt in lc_real's precision */
#define LC__SQRT(x) (sizeof(lc_real) == sizeof(float) ? (lc_real)sqrtf((float)(x)) \
                                                      : (lc_real)sqrt((double)(x)))

static void lc__adam_task(void *p, int t)
{
    const lc__elem_job *j = (const lc__elem_job *)p;
    lc_real *params = j->a, *m = j->b, *v = j->c;
    const lc_real *grads = j->x;
    const lc_real step_size = j->k[0], bias2_sqrt = j->k[1], beta1 = j->k[2], beta2 = j->k[3];
    const lc_real one_beta1 = j->k[4], one_beta2 = j->k[5], eps = j->k[6], decay = j->k[7];
    int i, lo, hi;
    lc__range(j->n, j->parts, t, 64, &lo, &hi);
    for (i = lo; i < hi; i++) {
        lc_real g = grads[i] + decay * params[i];
        m[i] = beta1 * m[i] + one_beta1 * g;
        v[i] = beta2 * v[i] + one_beta2 * g * g;
        params[i] -= step_size * m[i] / (LC__SQRT(v[i]) / bias2_sqrt + eps);
    }
}

/* Adam, as torch.optim.Adam (see kernels.h) */
LC_KERNEL void lc_adam_update(lc_real *params, const lc_real *grads, lc_real *m, lc_real *v, int n,
                              lc_real step_size, lc_real bias2_sqrt, lc_real beta1, lc_real beta2,
                              lc_real one_beta1, lc_real one_beta2, lc_real eps, lc_real decay)
{
    lc__elem_job j;
    j.a = params, j.b = m, j.c = v, j.x = grads;
    j.k[0] = step_size, j.k[1] = bias2_sqrt, j.k[2] = beta1, j.k[3] = beta2;
    j.k[4] = one_beta1, j.k[5] = one_beta2, j.k[6] = eps, j.k[7] = decay;
    lc__elem_run(&j, lc__adam_task, n);
}
