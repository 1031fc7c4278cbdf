/* kernels/activation.c: the activations, forward and backward, vectorised
 * (the exponentials and erf of vmath.c) and split over the threads when
 * long.  The arithmetic is PyTorch's (F.sigmoid, torch.tanh, F.relu6,
 * F.hardswish, F.silu, F.gelu in its erf form, F.elu, torch.clamp,
 * F.leaky_relu, F.softmax), down to the order of the operations where
 * that decides the rounding, and so is the gradient at the kinks.  The
 * tasks are common.c's LC__MAP_TASK and LC__GRAD_TASK.  Needs common.c and
 * vmath.c. */
/* 1 / sqrt(2) and 1 / sqrt(2 pi), for gelu */
#define LC__SQRT1_2 ((lc_real)0.70710678118654752440)
#define LC__INV_SQRT_2PI ((lc_real)0.39894228040143267794)

static inline lc_real lc__sigm(lc_real x) { return 1 / (1 + LC__EXP(-x)); }

LC__MAP_TASK(lc__sigmoid_fwd, lc__sigm(x))
LC__GRAD_TASK(lc__sigmoid_bwd, y, dy * y * (1 - y))
LC__MAP_TASK(lc__tanh_fwd, LC__TANH(x))
LC__GRAD_TASK(lc__tanh_bwd, y, dy * (1 - y * y))
/* relu6 is hardtanh(x, 0, 6): no gradient at either end */
LC__MAP_TASK(lc__relu6_fwd, x < 0 ? 0 : x > 6 ? 6 : x)
LC__GRAD_TASK(lc__relu6_bwd, x, x > 0 && x < 6 ? dy : 0)
LC__MAP_TASK(lc__hardswish_fwd, x * (x + 3 < 0 ? 0 : x + 3 > 6 ? 6 : x + 3) / 6)
/* at x = 3 the slope of the right piece, 1, as PyTorch's vectorised loop
 * (its scalar loop, which tensors of fewer than 16 values take, gives 1.5) */
LC__GRAD_TASK(lc__hardswish_bwd, x, x < -3 ? 0 : x < 3 ? dy * (x / 3 + (lc_real)0.5) : dy)
LC__MAP_TASK(lc__silu_fwd, x / (1 + LC__EXP(-x)))
LC__GRAD_TASK(lc__silu_bwd, x, dy * lc__sigm(x) * (1 + x * (1 - lc__sigm(x))))
LC__MAP_TASK(lc__gelu_fwd, x * (lc_real)0.5 * (1 + LC__ERF(x * LC__SQRT1_2)))
LC__GRAD_TASK(lc__gelu_bwd, x,
              dy * ((lc_real)0.5 * (1 + LC__ERF(x * LC__SQRT1_2)) +
                    x * (LC__INV_SQRT_2PI * LC__EXP(x * x * (lc_real)-0.5))))
/* k0 = alpha; e^x - 1 as expm1 (no cancellation near 0) */
LC__MAP_TASK(lc__elu_fwd, LC__SELECT(x <= 0, LC__EXPM1(x) * k0, x))
LC__GRAD_TASK(lc__elu_bwd, x, LC__SELECT(x <= 0, dy * k0 * LC__EXP(x), dy))
/* k0 = lo, k1 = hi; NaN stays NaN; the gradient passes at both ends, as torch.clamp's */
LC__MAP_TASK(lc__clip_fwd, x < k0 ? k0 : x > k1 ? k1 : x)
LC__GRAD_TASK(lc__clip_bwd, x, x >= k0 && x <= k1 ? dy : 0)
LC__MAP_TASK(lc__leaky_relu_fwd, x > 0 ? x : k0 * x)
LC__GRAD_TASK(lc__leaky_relu_bwd, x, x > 0 ? dy : k0 * dy)

LC_KERNEL void lc_sigmoid_forward(lc_real *out, const lc_real *inp, int n)
{
    lc__map(lc__sigmoid_fwd, out, inp, n, 0, 0);
}
LC_KERNEL void lc_sigmoid_backward(lc_real *dinp, const lc_real *dout, const lc_real *out, int n, int add)
{
    lc__grad(lc__sigmoid_bwd, dinp, dout, out, n, add, 0, 0);
}
LC_KERNEL void lc_tanh_forward(lc_real *out, const lc_real *inp, int n)
{
    lc__map(lc__tanh_fwd, out, inp, n, 0, 0);
}
LC_KERNEL void lc_tanh_backward(lc_real *dinp, const lc_real *dout, const lc_real *out, int n, int add)
{
    lc__grad(lc__tanh_bwd, dinp, dout, out, n, add, 0, 0);
}
LC_KERNEL void lc_relu6_forward(lc_real *out, const lc_real *inp, int n)
{
    lc__map(lc__relu6_fwd, out, inp, n, 0, 0);
}
LC_KERNEL void lc_relu6_backward(lc_real *dinp, const lc_real *dout, const lc_real *inp, int n, int add)
{
    lc__grad(lc__relu6_bwd, dinp, dout, inp, n, add, 0, 0);
}
LC_KERNEL void lc_hardswish_forward(lc_real *out, const lc_real *inp, int n)
{
    lc__map(lc__hardswish_fwd, out, inp, n, 0, 0);
}
LC_KERNEL void lc_hardswish_backward(lc_real *dinp, const lc_real *dout, const lc_real *inp, int n,
                                     int add)
{
    lc__grad(lc__hardswish_bwd, dinp, dout, inp, n, add, 0, 0);
}
LC_KERNEL void lc_silu_forward(lc_real *out, const lc_real *inp, int n)
{
    lc__map(lc__silu_fwd, out, inp, n, 0, 0);
}
LC_KERNEL void lc_silu_backward(lc_real *dinp, const lc_real *dout, const lc_real *inp, int n, int add)
{
    lc__grad(lc__silu_bwd, dinp, dout, inp, n, add, 0, 0);
}
LC_KERNEL void lc_gelu_forward(lc_real *out, const lc_real *inp, int n)
{
    lc__map(lc__gelu_fwd, out, inp, n, 0, 0);
}
LC_KERNEL void lc_gelu_backward(lc_real *dinp, const lc_real *dout, const lc_real *inp, int n, int add)
{
    lc__grad(lc__gelu_bwd, dinp, dout, inp, n, add, 0, 0);
}
LC_KERNEL void lc_elu_forward(lc_real *out, const lc_real *inp, int n, lc_real alpha)
{
    lc__map(lc__elu_fwd, out, inp, n, alpha, 0);
}
LC_KERNEL void lc_elu_backward(lc_real *dinp, const lc_real *dout, const lc_real *inp, int n,
                               lc_real alpha, int add)
{
    lc__grad(lc__elu_bwd, dinp, dout, inp, n, add, alpha, 0);
}
LC_KERNEL void lc_clip_forward(lc_real *out, const lc_real *inp, int n, lc_real lo, lc_real hi)
{
    lc__map(lc__clip_fwd, out, inp, n, lo, hi);
}
LC_KERNEL void lc_clip_backward(lc_real *dinp, const lc_real *dout, const lc_real *inp, int n,
                                lc_real lo, lc_real hi, int add)
{
    lc__grad(lc__clip_bwd, dinp, dout, inp, n, add, lo, hi);
}
LC_KERNEL void lc_leaky_relu_forward(lc_real *out, const lc_real *inp, int n, lc_real alpha)
{
    lc__map(lc__leaky_relu_fwd, out, inp, n, alpha, 0);
}
LC_KERNEL void lc_leaky_relu_backward(lc_real *dinp, const lc_real *dout, const lc_real *inp, int n,
                                      lc_real alpha, int add)
{
    lc__grad(lc__leaky_relu_bwd, dinp, dout, inp, n, add, alpha, 0);
}

/* ------------------------------------------------------------------------ */
/* softmax over rows of n values, shifted by the row's max (e^x never
 * overflows), with vmath.c's row reductions.                               */

/* Blocks of rows of about LC__BLOCK values (vmath.c): first every row's
 * x - max, then e^ of the whole block in one loop (it vectorises whole
 * however short the rows), then each row's sum and division. */


static void lc__softmax_fwd(void *p, int t)
{
    const lc__elem_job *j = (const lc__elem_job *)p;
    const int n = j->len, per = n < LC__BLOCK ? LC__BLOCK / n : 1;
    int b0, b, lo, hi, i;
    lc__range(j->n, j->parts, t, 1, &lo, &hi);
    for (b0 = lo; b0 < hi; b0 += per) {
        int b1 = b0 + per < hi ? b0 + per : hi;
        lc_real *y = j->a + (size_t)b0 * (size_t)n;
        for (b = b0; b < b1; b++) {
            const lc_real *x = j->x + (size_t)b * (size_t)n;
            lc_real *yr = j->a + (size_t)b * (size_t)n, mx = lc__row_max(x, n);
            for (i = 0; i < n; i++)
                yr[i] = x[i] - mx;
        }
        for (i = 0; i < (b1 - b0) * n; i++)
            y[i] = LC__EXP(y[i]);
        for (b = b0; b < b1; b++) {
            lc_real *yr = j->a + (size_t)b * (size_t)n, sum = lc__row_sum(yr, n);
            for (i = 0; i < n; i++)
                yr[i] /= sum;
        }
    }
}

static void lc__softmax_bwd(void *p, int t)
{
    const lc__elem_job *j = (const lc__elem_job *)p;
    const int n = j->len;
    int b, lo, hi, i, l;
    lc__range(j->n, j->parts, t, 1, &lo, &hi);
    for (b = lo; b < hi; b++) {
        const lc_real *dy = j->x + (size_t)b * (size_t)n, *y = j->y + (size_t)b * (size_t)n;
        lc_real *dx = j->a + (size_t)b * (size_t)n, s[LC__LANES], dot = 0;
        for (l = 0; l < LC__LANES; l++)
            s[l] = 0;
        for (i = 0; i + LC__LANES <= n; i += LC__LANES)
            for (l = 0; l < LC__LANES; l++)
                s[l] += dy[i + l] * y[i + l];
        for (; i < n; i++)
            s[0] += dy[i] * y[i];
        for (l = 0; l < LC__LANES; l++)
            dot += s[l];
        if (j->flag)
            for (i = 0; i < n; i++)
                dx[i] += y[i] * (dy[i] - dot);
        else
            for (i = 0; i < n; i++)
                dx[i] = y[i] * (dy[i] - dot);
    }
}

LC_KERNEL void lc_softmax_forward(lc_real *out, const lc_real *inp, int B, int n)
{
    lc__elem_job j;
    j.a = out, j.x = inp;
    lc__rows_run(&j, lc__softmax_fwd, B, n);
}

LC_KERNEL void lc_softmax_backward(lc_real *dinp, const lc_real *dout, const lc_real *out, int B, int n,
                                   int add)
{
    lc__elem_job j;
    j.a = dinp, j.x = dout, j.y = out, j.flag = add;
    lc__rows_run(&j, lc__softmax_bwd, B, n);
}
