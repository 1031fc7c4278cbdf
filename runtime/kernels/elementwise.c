/* kernels/elementwise.c: long elementwise loops, vectorised and split over
 * the threads: relu, and the arithmetic of add, mul, scaling and copies.
 * Needs common.c. */
/* ------------------------------------------------------------------------ */
/* relu, cut into ranges when long (lc__elem_run of common.c).              */

static void lc__relu_forward_task(void *p, int t)
{
    const lc__elem_job *j = (const lc__elem_job *)p;
    lc_real *out = j->a;
    const lc_real *inp = j->x;
    int i, lo, hi;
    lc__range(j->n, j->parts, t, 64, &lo, &hi);
    for (i = lo; i < hi; i++)
        out[i] = inp[i] > 0 ? inp[i] : 0;
}

/* out[i] = inp[i] > 0 ? inp[i] : 0 */
LC_KERNEL void lc_relu_forward(lc_real *out, const lc_real *inp, int n)
{
    lc__elem_job j;
    j.a = out, j.x = inp;
    lc__elem_run(&j, lc__relu_forward_task, n);
}

static void lc__relu_backward_task(void *p, int t)
{
    const lc__elem_job *j = (const lc__elem_job *)p;
    lc_real *dinp = j->a;
    const lc_real *dout = j->x, *out = j->y;
    int i, lo, hi;
    lc__range(j->n, j->parts, t, 64, &lo, &hi);
    if (j->flag)
        for (i = lo; i < hi; i++)
            dinp[i] += out[i] > 0 ? dout[i] : 0;
    else
        for (i = lo; i < hi; i++)
            dinp[i] = out[i] > 0 ? dout[i] : 0;
}

/* dinp[i] (+)= out[i] > 0 ? dout[i] : 0 */
LC_KERNEL void lc_relu_backward(lc_real *dinp, const lc_real *dout, const lc_real *out, int n,
                                int accumulate)
{
    lc__elem_job j;
    j.a = dinp, j.x = dout, j.y = out, j.flag = accumulate;
    lc__elem_run(&j, lc__relu_backward_task, n);
}

/* ------------------------------------------------------------------------ */
/* add, mul, scale: out = a + b, a * b, s inp; their gradients (one input's
 * share a call: dinp (+)= dout, dout * other, s dout).  lc_add_backward
 * is the copy (or sum) of a gradient for identity, flatten, reshape and
 * concat's slices too.                                                     */

static void lc__add_fwd(void *p, int t)
{
    const lc__elem_job *j = (const lc__elem_job *)p;
    lc_real *out = j->a;
    const lc_real *a = j->x, *b = j->y;
    int i, lo, hi;
    lc__range(j->n, j->parts, t, 64, &lo, &hi);
    for (i = lo; i < hi; i++)
        out[i] = a[i] + b[i];
}

static void lc__mul_fwd(void *p, int t)
{
    const lc__elem_job *j = (const lc__elem_job *)p;
    lc_real *out = j->a;
    const lc_real *a = j->x, *b = j->y;
    int i, lo, hi;
    lc__range(j->n, j->parts, t, 64, &lo, &hi);
    for (i = lo; i < hi; i++)
        out[i] = a[i] * b[i];
}

/* dinp (+)= dout */
static void lc__add_bwd(void *p, int t)
{
    const lc__elem_job *j = (const lc__elem_job *)p;
    lc_real *dinp = j->a;
    const lc_real *dout = j->x;
    int i, lo, hi;
    lc__range(j->n, j->parts, t, 64, &lo, &hi);
    if (j->flag)
        for (i = lo; i < hi; i++)
            dinp[i] += dout[i];
    else if (hi > lo)
        memcpy(dinp + lo, dout + lo, sizeof(lc_real) * (size_t)(hi - lo));
}

LC__MAP_TASK(lc__scale_fwd, k0 * x)
LC__GRAD_TASK(lc__mul_bwd, other, dy * other)

/* s dout, without the saved tensor of LC__GRAD_TASK */
static void lc__scale_bwd(void *p, int t)
{
    const lc__elem_job *j = (const lc__elem_job *)p;
    lc_real *dinp = j->a;
    const lc_real *dout = j->x, s = j->k[0];
    int i, lo, hi;
    lc__range(j->n, j->parts, t, 64, &lo, &hi);
    if (j->flag)
        for (i = lo; i < hi; i++)
            dinp[i] += s * dout[i];
    else
        for (i = lo; i < hi; i++)
            dinp[i] = s * dout[i];
}

LC_KERNEL void lc_add_forward(lc_real *out, const lc_real *a, const lc_real *b, int n)
{
    lc__elem_job j;
    j.a = out, j.x = a, j.y = b;
    lc__elem_run(&j, lc__add_fwd, n);
}

LC_KERNEL void lc_add_backward(lc_real *dinp, const lc_real *dout, int n, int add)
{
    lc__elem_job j;
    j.a = dinp, j.x = dout, j.flag = add;
    lc__elem_run(&j, lc__add_bwd, n);
}

LC_KERNEL void lc_mul_forward(lc_real *out, const lc_real *a, const lc_real *b, int n)
{
    lc__elem_job j;
    j.a = out, j.x = a, j.y = b;
    lc__elem_run(&j, lc__mul_fwd, n);
}

LC_KERNEL void lc_mul_backward(lc_real *dinp, const lc_real *dout, const lc_real *other, int n, int add)
{
    lc__grad(lc__mul_bwd, dinp, dout, other, n, add, 0, 0);
}

LC_KERNEL void lc_scale_forward(lc_real *out, const lc_real *inp, int n, lc_real s)
{
    lc__map(lc__scale_fwd, out, inp, n, s, 0);
}

LC_KERNEL void lc_scale_backward(lc_real *dinp, const lc_real *dout, int n, lc_real s, int add)
{
    lc__elem_job j;
    j.a = dinp, j.x = dout, j.flag = add, j.k[0] = s;
    lc__elem_run(&j, lc__scale_bwd, n);
}

/* x = s (clamp(round(x / s) + zero, lo, hi) - zero), for --qat (kernels.h) */
LC_KERNEL void lc_fakequant_forward(lc_real *x, int n, double s, int zero, int lo, int hi)
{
    int i;
    for (i = 0; i < n; i++) {
        double v = (double)x[i] / s, q;
        q = (v < 0 ? -floor(-v + 0.5) : floor(v + 0.5)) + zero;
        q = q < lo ? lo : q > hi ? hi : q;
        x[i] = (lc_real)(s * (q - zero));
    }
}
