/* kernels/fused.c: the backward kernels that also step their weights
 * (layerc --fuse-update), so that no gradient array is kept.  Needs common.c
 * and a gemm unit (gemm.c, or gemm_mcu.c for small cores). */
/* dinp (=|+=) dout . W with W as it was, then each row of W and the bias
 * stepped from its gradient, computed a row at a time into row */
LC_KERNEL void lc_matmul_backward_step(lc_real *dinp, lc_real *W, lc_real *bias, const lc_real *dout,
                                       const lc_real *inp, lc_real *row, int B, int C, int OC, int add,
                                       lc_step_fn step, void *ctx, long W_at, long bias_at,
                                       lc_real W_decay, lc_real bias_decay)
{
    int b, o, c;
    if (dinp)
        lc_matmul_backward_into(dinp, NULL, NULL, dout, inp, W, B, C, OC, add);
    for (o = 0; o < OC; o++) {
        for (c = 0; c < C; c++)
            row[c] = 0;
        for (b = 0; b < B; b++) {
            const lc_real d = dout[(size_t)b * OC + o], *x = inp + (size_t)b * C;
            for (c = 0; c < C; c++)
                row[c] += d * x[c];
        }
        step(ctx, W + (size_t)o * C, row, W_at + (long)o * C, C, W_decay);
    }
    if (bias) {
        for (o = 0; o < OC; o++)
            row[o] = 0;
        for (b = 0; b < B; b++)
            for (o = 0; o < OC; o++)
                row[o] += dout[(size_t)b * OC + o];
        step(ctx, bias, row, bias_at, OC, bias_decay);
    }
}
