/* kernels/elementwise.c: long elementwise loops, vectorised and split over
 * the threads.  Needs common.c. */
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
