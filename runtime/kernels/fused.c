/* kernels/fused.c: the backward kernels that also step their weights
 * (layerc --fuse-update), so that no gradient array is kept.  Needs common.c
 * and a gemm unit (gemm.c, or gemm_mcu.c for small cores). */
/* dinp (=|+=) dout . W with W as it was, then each row of W and the bias
 * stepped from its gradient, computed a row at a time into row
 * (LC_STEP_ROW values at most) */
LC_KERNEL void lc_matmul_backward_step(lc_real *dinp, lc_real *W, lc_real *bias, const lc_real *dout,
                                       const lc_real *inp, lc_real *row, int B, int C, int OC, int add,
                                       lc_step_fn step, void *ctx, long W_at, long bias_at,
                                       lc_real W_decay, lc_real bias_decay)
{
    int b, o, c, c0, n;
    if (dinp)
        lc_matmul_backward_into(dinp, NULL, NULL, dout, inp, W, B, C, OC, add);
    /* a piece of at most LC_STEP_ROW values at a time: the steps are
     * elementwise, so the pieces give the whole row's step */
    for (o = 0; o < OC; o++)
        for (c0 = 0; c0 < C; c0 += n) {
            n = C - c0 < LC_STEP_ROW ? C - c0 : LC_STEP_ROW;
            for (c = 0; c < n; c++)
                row[c] = 0;
            for (b = 0; b < B; b++) {
                const lc_real d = dout[(size_t)b * (size_t)OC + (size_t)o];
                const lc_real *x = inp + (size_t)b * (size_t)C + (size_t)c0;
                for (c = 0; c < n; c++)
                    row[c] += d * x[c];
            }
            step(ctx, W + (size_t)o * (size_t)C + (size_t)c0, row, W_at + (long)o * C + c0, n, W_decay);
        }
    if (bias)
        for (c0 = 0; c0 < OC; c0 += n) {
            n = OC - c0 < LC_STEP_ROW ? OC - c0 : LC_STEP_ROW;
            for (o = 0; o < n; o++)
                row[o] = 0;
            for (b = 0; b < B; b++)
                for (o = 0; o < n; o++)
                    row[o] += dout[(size_t)b * (size_t)OC + (size_t)(c0 + o)];
            step(ctx, bias + c0, row, bias_at + c0, n, bias_decay);
        }
}
