/* kernels/gemm_mcu.c: the linear layer's kernels for small cores (layerc
 * --target mcu), pasted in place of gemm.c: plain loops the compiler can
 * schedule, no packing, no tiles, nothing on the stack but a few scalars,
 * and the same arithmetic order on every call.  A core without vector units
 * gains nothing from register blocking, and its memory has no cache to
 * block for; what it pays for is instructions, so the inner loops stream
 * contiguous rows with four accumulators (the loads and multiply-adds of
 * four products, one loop test).  Needs common.c. */

/* sum over c < n of a[c] * b[c] */
static inline lc_real lc__dot_mcu(const lc_real *a, const lc_real *b, int n)
{
    lc_real s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    int c = 0;
    for (; c + 4 <= n; c += 4) {
        s0 += a[c] * b[c];
        s1 += a[c + 1] * b[c + 1];
        s2 += a[c + 2] * b[c + 2];
        s3 += a[c + 3] * b[c + 3];
    }
    /* the last n % 4 products as straight code: gcc -O2, with n and the
     * array behind a known, warns about a loop here that never runs */
    if (n - c > 0)
        s0 += a[c] * b[c];
    if (n - c > 1)
        s1 += a[c + 1] * b[c + 1];
    if (n - c > 2)
        s2 += a[c + 2] * b[c + 2];
    return (s0 + s1) + (s2 + s3);
}

/* y[c] += k * x[c] for c < n */
static inline void lc__axpy_mcu(lc_real *y, lc_real k, const lc_real *x, int n)
{
    int c = 0;
    for (; c + 4 <= n; c += 4) {
        y[c] += k * x[c];
        y[c + 1] += k * x[c + 1];
        y[c + 2] += k * x[c + 2];
        y[c + 3] += k * x[c + 3];
    }
    for (; c < n; c++)
        y[c] += k * x[c];
}

/* out[B, OC] = inp[B, C] . W[OC, C]^T + bias[OC]         (bias may be NULL) */
LC_KERNEL void lc_matmul_forward(lc_real *out, const lc_real *inp, const lc_real *W,
                                 const lc_real *bias, int B, int C, int OC)
{
    int b, o;
    for (b = 0; b < B; b++) {
        const lc_real *x = inp + (size_t)b * (size_t)C;
        for (o = 0; o < OC; o++)
            out[(size_t)b * (size_t)OC + (size_t)o] =
                (bias ? bias[o] : 0) + lc__dot_mcu(W + (size_t)o * (size_t)C, x, C);
    }
}

/* dinp (=, or += when add) dout . W; dW += dout^T . inp; dbias += sum of dout
 * (NULL gradients are skipped) */
LC_KERNEL void lc_matmul_backward_into(lc_real *dinp, lc_real *dW, lc_real *dbias,
                                       const lc_real *dout, const lc_real *inp, const lc_real *W,
                                       int B, int C, int OC, int add)
{
    int b, o, c;
    for (b = 0; b < B; b++) {
        const lc_real *d = dout + (size_t)b * (size_t)OC, *x = inp + (size_t)b * (size_t)C;
        if (dinp) {
            lc_real *dx = dinp + (size_t)b * (size_t)C;
            if (!add)
                for (c = 0; c < C; c++)
                    dx[c] = 0;
            for (o = 0; o < OC; o++)
                lc__axpy_mcu(dx, d[o], W + (size_t)o * (size_t)C, C);
        }
        for (o = 0; o < OC; o++) {
            if (dbias)
                dbias[o] += d[o];
            if (dW)
                lc__axpy_mcu(dW + (size_t)o * (size_t)C, d[o], x, C);
        }
    }
}

LC_KERNEL void lc_matmul_backward(lc_real *dinp, lc_real *dW, lc_real *dbias,
                                  const lc_real *dout, const lc_real *inp, const lc_real *W,
                                  int B, int C, int OC)
{
    lc_matmul_backward_into(dinp, dW, dbias, dout, inp, W, B, C, OC, 1);
}
