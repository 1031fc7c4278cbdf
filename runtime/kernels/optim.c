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

static void lc__rmsprop_task(void *p, int t)
{
    const lc__elem_job *j = (const lc__elem_job *)p;
    lc_real *params = j->a, *square_avg = j->b, *grad_avg = j->c, *buf = j->d;
    const lc_real *grads = j->x;
    const lc_real lr = j->k[0], alpha = j->k[1], one_alpha = j->k[2], eps = j->k[3];
    const lc_real momentum = j->k[4], decay = j->k[5];
    int i, lo, hi;
    lc__range(j->n, j->parts, t, 64, &lo, &hi);
    /* one loop per variant, so that each has no branch and vectorises */
    if (!grad_avg && !buf)
        for (i = lo; i < hi; i++) {
            lc_real g = grads[i] + decay * params[i];
            square_avg[i] = alpha * square_avg[i] + one_alpha * g * g;
            params[i] -= lr * (g / (LC__SQRT(square_avg[i]) + eps));
        }
    else if (!grad_avg)
        for (i = lo; i < hi; i++) {
            lc_real g = grads[i] + decay * params[i];
            square_avg[i] = alpha * square_avg[i] + one_alpha * g * g;
            buf[i] = momentum * buf[i] + g / (LC__SQRT(square_avg[i]) + eps);
            params[i] -= lr * buf[i];
        }
    else
        for (i = lo; i < hi; i++) {
            lc_real g = grads[i] + decay * params[i], avg;
            square_avg[i] = alpha * square_avg[i] + one_alpha * g * g;
            grad_avg[i] = alpha * grad_avg[i] + one_alpha * g;
            avg = LC__SQRT(square_avg[i] - grad_avg[i] * grad_avg[i]) + eps;
            if (buf) {
                buf[i] = momentum * buf[i] + g / avg;
                params[i] -= lr * buf[i];
            } else {
                params[i] -= lr * (g / avg);
            }
        }
}

/* RMSprop, as torch.optim.RMSprop (see kernels.h) */
LC_KERNEL void lc_rmsprop_update(lc_real *params, const lc_real *grads, lc_real *square_avg, lc_real *grad_avg,
                                 lc_real *buf, int n, lc_real lr, lc_real alpha, lc_real one_alpha, lc_real eps,
                                 lc_real momentum, lc_real decay)
{
    lc__elem_job j;
    j.a = params, j.b = square_avg, j.c = grad_avg, j.d = buf, j.x = grads;
    j.k[0] = lr, j.k[1] = alpha, j.k[2] = one_alpha, j.k[3] = eps, j.k[4] = momentum, j.k[5] = decay;
    lc__elem_run(&j, lc__rmsprop_task, n);
}

static void lc__adadelta_task(void *p, int t)
{
    const lc__elem_job *j = (const lc__elem_job *)p;
    lc_real *params = j->a, *square_avg = j->b, *acc_delta = j->c;
    const lc_real *grads = j->x;
    const lc_real lr = j->k[0], rho = j->k[1], one_rho = j->k[2], eps = j->k[3], decay = j->k[4];
    int i, lo, hi;
    lc__range(j->n, j->parts, t, 64, &lo, &hi);
    for (i = lo; i < hi; i++) {
        lc_real g = grads[i] + decay * params[i], delta;
        square_avg[i] = rho * square_avg[i] + one_rho * g * g;
        delta = LC__SQRT(acc_delta[i] + eps) / LC__SQRT(square_avg[i] + eps) * g;
        acc_delta[i] = rho * acc_delta[i] + one_rho * delta * delta;
        params[i] -= lr * delta;
    }
}

/* Adadelta, as torch.optim.Adadelta (see kernels.h) */
LC_KERNEL void lc_adadelta_update(lc_real *params, const lc_real *grads, lc_real *square_avg, lc_real *acc_delta,
                                  int n, lc_real lr, lc_real rho, lc_real one_rho, lc_real eps, lc_real decay)
{
    lc__elem_job j;
    j.a = params, j.b = square_avg, j.c = acc_delta, j.x = grads;
    j.k[0] = lr, j.k[1] = rho, j.k[2] = one_rho, j.k[3] = eps, j.k[4] = decay;
    lc__elem_run(&j, lc__adadelta_task, n);
}
