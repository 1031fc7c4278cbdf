/* kernels/conv.c: 2-D convolution as im2col + lc__gemm.  Needs common.c and gemm.c. */
/* ------------------------------------------------------------------------ */
/* Convolution: im2col of one sample into `work`, then lc__gemm.            */

/* p[0..n) = 0.  The edges im2col and col2im clear are 0 to `pad` values
 * long: straight stores, where gcc would turn a loop into a memset call
 * each (thousands a sample, 10% of a convolution's backward pass). */
static inline void lc__zero(lc_real *p, int n)
{
    if (n <= 0)
        return;
    if (n > 4) {
        memset(p, 0, sizeof(lc_real) * (size_t)n);
        return;
    }
    p[0] = 0;
    if (n > 1) p[1] = 0;
    if (n > 2) p[2] = 0;
    if (n > 3) p[3] = 0;
}

/* im2col of one sample: col[C*K*K, OH*OW], where row r = (c, ki, kj) and
 * column p = (oh, ow) hold inp[c, oh*stride - pad + ki, ow*stride - pad + kj]
 * (0 in the padding); inp is [C, H, W].
 *
 * For one row r the valid output columns are lo <= ow < hi and the valid
 * output rows oh_lo <= oh < oh_hi.  In the common "same" case (stride 1,
 * OW == W) row r is inp[c] shifted by a constant, so it is filled with one
 * long copy and the few out-of-image columns are zeroed afterwards; other
 * cases copy image row by image row. */
static inline void lc__im2col(lc_real *col, const lc_real *inp, int C, int H, int W,
                              int K, int stride, int pad, int OH, int OW)
{
    int c, ki, kj, oh, ow, q;
    for (c = 0; c < C; c++)
        for (ki = 0; ki < K; ki++)
            for (kj = 0; kj < K; kj++) {
                lc_real *row = col + ((size_t)(c * K + ki) * K + kj) * OH * OW;
                const lc_real *x = inp + (size_t)c * H * W;
                int off = kj - pad, lo = 0, hi = OW, oh_lo = 0, oh_hi = OH;
                while (lo < OW && lo * stride + off < 0) lo++;
                while (hi > lo && (hi - 1) * stride + off >= W) hi--;
                while (oh_lo < OH && oh_lo * stride - pad + ki < 0) oh_lo++;
                while (oh_hi > oh_lo && (oh_hi - 1) * stride - pad + ki >= H) oh_hi--;
                for (q = 0; q < oh_lo * OW; q++) row[q] = 0;
                for (q = oh_hi * OW; q < OH * OW; q++) row[q] = 0;
                if (oh_lo == oh_hi || lo == hi) {
                    for (q = oh_lo * OW; q < oh_hi * OW; q++) row[q] = 0;
                } else if (stride == 1 && OW == W) {
                    /* row[q] = x[q + shift] for q from (oh_lo, lo) to (oh_hi - 1, hi - 1) */
                    int shift = (ki - pad) * W + off;
                    int q0 = oh_lo * OW + lo, q1 = (oh_hi - 1) * OW + hi;
                    for (q = q0; q < q1; q++) row[q] = x[q + shift];
                    for (oh = oh_lo; oh < oh_hi; oh++) {
                        lc__zero(row + oh * OW, lo);
                        lc__zero(row + oh * OW + hi, OW - hi);
                    }
                } else {
                    for (oh = oh_lo; oh < oh_hi; oh++) {
                        lc_real *r = row + (size_t)oh * OW;
                        const lc_real *src = x + (size_t)(oh * stride - pad + ki) * W;
                        lc__zero(r, lo);
                        for (ow = lo; ow < hi; ow++) r[ow] = src[ow * stride + off];
                        lc__zero(r + hi, OW - hi);
                    }
                }
            }
}

/* The adjoint of lc__im2col: dinp[C, H, W] += col scattered back.  col is
 * clobbered (its out-of-image entries are zeroed for the long-add path). */
static inline void lc__col2im(lc_real *dinp, lc_real *col, int C, int H, int W,
                              int K, int stride, int pad, int OH, int OW)
{
    int c, ki, kj, oh, ow, q;
    for (c = 0; c < C; c++)
        for (ki = 0; ki < K; ki++)
            for (kj = 0; kj < K; kj++) {
                lc_real *row = col + ((size_t)(c * K + ki) * K + kj) * OH * OW;
                lc_real *dx = dinp + (size_t)c * H * W;
                int off = kj - pad, lo = 0, hi = OW, oh_lo = 0, oh_hi = OH;
                while (lo < OW && lo * stride + off < 0) lo++;
                while (hi > lo && (hi - 1) * stride + off >= W) hi--;
                while (oh_lo < OH && oh_lo * stride - pad + ki < 0) oh_lo++;
                while (oh_hi > oh_lo && (oh_hi - 1) * stride - pad + ki >= H) oh_hi--;
                if (oh_lo == oh_hi || lo == hi) {
                    continue;
                } else if (stride == 1 && OW == W) {
                    int shift = (ki - pad) * W + off;
                    int q0 = oh_lo * OW + lo, q1 = (oh_hi - 1) * OW + hi;
                    for (oh = oh_lo; oh < oh_hi; oh++) {
                        lc__zero(row + oh * OW, lo);
                        lc__zero(row + oh * OW + hi, OW - hi);
                    }
                    for (q = q0; q < q1; q++) dx[q + shift] += row[q];
                } else {
                    for (oh = oh_lo; oh < oh_hi; oh++) {
                        const lc_real *r = row + (size_t)oh * OW;
                        lc_real *dst = dx + (size_t)(oh * stride - pad + ki) * W;
                        for (ow = lo; ow < hi; ow++) dst[ow * stride + off] += r[ow];
                    }
                }
            }
}

/* The sum of x[0..n-1], in 16 interleaved partial sums so that it
 * vectorises (a single running sum waits on each addition). */
static inline lc_real lc__sum(const lc_real *x, int n)
{
    lc_real part[16], s = 0;
    int i, v;
    for (v = 0; v < 16; v++)
        part[v] = 0;
    for (i = 0; i + 16 <= n; i += 16)
        for (v = 0; v < 16; v++)
            part[v] += x[i + v];
    for (v = 0; v < 16; v++)
        s += part[v];
    for (; i < n; i++)
        s += x[i];
    return s;
}

/* The work of a convolution over the batch, cut into `groups` groups of
 * samples (see "Threads" above).  Group t has samples [B t / G, B (t+1) / G)
 * and, when G > 1, the slice work + t * slice: an im2col buffer of `col`
 * values, then (backward) a partial dWt and dbias that group 0 does not use
 * (it adds into dWt and dbias themselves). */
typedef struct {
    lc_real *out, *dinp, *dWt, *dbias;
    const lc_real *inp, *Wt, *bias, *dout;
    lc_real *work;
    size_t slice;
    int B, C, H, W, OC, K, stride, pad, OH, OW, groups, add;
} lc__conv_job;

static inline void lc__conv_setup(lc__conv_job *j, int B, int C, int H, int W, int OC, int K,
                                  int stride, int pad, lc_real *work)
{
    int T = LC__THREADS;
    j->B = B, j->C = C, j->H = H, j->W = W, j->OC = OC, j->K = K;
    j->stride = stride, j->pad = pad, j->work = work;
    j->OH = LC_CONV_OUT(H, K, stride, pad), j->OW = LC_CONV_OUT(W, K, stride, pad);
    j->groups = T < B ? T : B;
    j->slice = (size_t)LC_CONV2D_SLICE(C, K, j->OH, j->OW, OC);
}

static void lc__conv_forward_task(void *p, int t)
{
    const lc__conv_job *j = (const lc__conv_job *)p;
    int P = j->OH * j->OW, R = j->C * j->K * j->K, OC = j->OC;
    int b, lo, hi;
    lc_real *col = j->work + (j->groups > 1 ? (size_t)t * j->slice : 0);
    lc__range(j->B, j->groups, t, 1, &lo, &hi);
    for (b = lo; b < hi; b++) {
        const lc_real *x = j->inp + (size_t)b * j->C * j->H * j->W;
        lc_real *y = j->out + (size_t)b * OC * P;
        lc__im2col(col, x, j->C, j->H, j->W, j->K, j->stride, j->pad, j->OH, j->OW);
        /* y = bias + Wt . col, written in one pass */
        lc__gemm_set(OC, P, R, j->Wt, R, 1, col, P, 1, y, P, 1, 1, j->bias);
    }
}

/* out[B, OC, OH, OW] = conv(inp[B, C, H, W], Wt[OC, C, K, K]) + bias[OC]
 * (bias may be NULL); OH = LC_CONV_OUT(H, K, stride, pad), same for OW.
 * work: LC_CONV2D_WORK(C, K, OH, OW) = C*K*K*OH*OW scratch values (with T
 * threads, LC_CONV2D_WORK_T: T slices).
 * Per sample: out_b[OC, OH*OW] = Wt[OC, C*K*K] . col[C*K*K, OH*OW]. */
LC_KERNEL void lc_conv2d_forward(lc_real *out, const lc_real *inp, const lc_real *Wt,
                                 const lc_real *bias, lc_real *work,
                                 int B, int C, int H, int W, int OC, int K, int stride, int pad)
{
    lc__conv_job j;
    lc__conv_setup(&j, B, C, H, W, OC, K, stride, pad, work);
    if (j.OH <= 0 || j.OW <= 0 || B <= 0)
        return;
    j.out = out, j.inp = inp, j.Wt = Wt, j.bias = bias;
    LC__FOR(j.groups, lc__conv_forward_task, &j);
}

static void lc__conv_backward_task(void *p, int t)
{
    const lc__conv_job *j = (const lc__conv_job *)p;
    int P = j->OH * j->OW, R = j->C * j->K * j->K, OC = j->OC, C = j->C, H = j->H, W = j->W;
    int b, o, lo, hi;
    lc_real *col = j->work + (j->groups > 1 ? (size_t)t * j->slice : 0);
    lc_real *dWt = j->dWt, *dbias = j->dbias;
    if (t > 0) {
        /* this group's share of the weight gradient, added up by the caller */
        dWt = j->dWt ? col + LC_CONV2D_WORK(C, j->K, j->OH, j->OW) : NULL;
        dbias = j->dbias ? col + LC_CONV2D_WORK(C, j->K, j->OH, j->OW) + (size_t)OC * R : NULL;
        if (dWt)
            memset(dWt, 0, sizeof(lc_real) * (size_t)OC * R);
        if (dbias)
            memset(dbias, 0, sizeof(lc_real) * (size_t)OC);
    }
    lc__range(j->B, j->groups, t, 1, &lo, &hi);
    for (b = lo; b < hi; b++) {
        const lc_real *dy = j->dout + (size_t)b * OC * P;
        if (dbias)
            for (o = 0; o < OC; o++)
                dbias[o] += lc__sum(dy + (size_t)o * P, P);
        if (dWt) {
            /* dWt[o, r] += sum_p dy[o, p] col[r, p]: both run along p, so one
             * is packed (transposed) by lc__gemm: dy when there are fewer
             * output channels than rows of col (dWt^T = col . dy^T, written
             * at column stride R), else col; with fewer than LC_NR rows r,
             * dot products instead. */
            lc__im2col(col, j->inp + (size_t)b * C * H * W, C, H, W, j->K, j->stride, j->pad,
                       j->OH, j->OW);
            if (R < LC_NR)
                lc__dots(OC, R, P, dy, P, col, P, dWt, R, 1);
            else if (OC < R)
                lc__gemm(R, OC, P, col, P, 1, dy, 1, P, dWt, 1, R);
            else
                lc__gemm(OC, R, P, dy, P, 1, col, 1, P, dWt, R, 1);
        }
        if (j->dinp) {
            /* dcol[r, p] = sum_o Wt[o, r] dy[o, p]: A(i = r, k = o) = Wt[o, r],
             * written (not added: no need to clear col first) */
            lc__gemm_set(R, P, OC, j->Wt, 1, R, dy, P, 1, col, P, 1, 1, NULL);
            if (!j->add)   /* assigned: cleared here, one sample at a time, while in cache */
                memset(j->dinp + (size_t)b * C * H * W, 0, sizeof(lc_real) * (size_t)C * H * W);
            lc__col2im(j->dinp + (size_t)b * C * H * W, col, C, H, W, j->K, j->stride, j->pad,
                       j->OH, j->OW);
        }
    }
}

/* As lc_conv2d_backward, but dinp is assigned (add = 0: it need not be
 * cleared first) or added to (add = 1). */
LC_KERNEL void lc_conv2d_backward_into(lc_real *dinp, lc_real *dWt, lc_real *dbias,
                                       const lc_real *dout, const lc_real *inp, const lc_real *Wt,
                                       lc_real *work, int B, int C, int H, int W, int OC, int K,
                                       int stride, int pad, int add)
{
    lc__conv_job j;
    int t, R = C * K * K, i;
    lc__conv_setup(&j, B, C, H, W, OC, K, stride, pad, work);
    if (dinp && !add && B > 0 && (j.OH <= 0 || j.OW <= 0))   /* no output: no gradient */
        memset(dinp, 0, sizeof(lc_real) * (size_t)B * C * H * W);
    if (j.OH <= 0 || j.OW <= 0 || B <= 0 || (!dinp && !dWt && !dbias))
        return;
    j.dinp = dinp, j.dWt = dWt, j.dbias = dbias, j.dout = dout, j.inp = inp, j.Wt = Wt;
    j.add = add;
    LC__FOR(j.groups, lc__conv_backward_task, &j);
    /* the groups' shares, in group order */
    for (t = 1; t < j.groups; t++) {
        const lc_real *part = work + (size_t)t * j.slice + LC_CONV2D_WORK(C, K, j.OH, j.OW);
        if (dWt)
            for (i = 0; i < OC * R; i++)
                dWt[i] += part[i];
        if (dbias)
            for (i = 0; i < OC; i++)
                dbias[i] += part[(size_t)OC * R + i];
    }
}

/* Gradients of lc_conv2d_forward, same argument order (NULL = skip):
 * dinp[B, C, H, W] += conv^T(dout[B, OC, OH, OW], Wt)
 * dWt[OC, C, K, K] += sum over b of dout_b[OC, OH*OW] . col_b^T
 * dbias[OC]        += sum over b, oh, ow of dout
 * work: as lc_conv2d_forward (holds col_b, then dcol_b). */
LC_KERNEL void lc_conv2d_backward(lc_real *dinp, lc_real *dWt, lc_real *dbias,
                                  const lc_real *dout, const lc_real *inp, const lc_real *Wt,
                                  lc_real *work,
                                  int B, int C, int H, int W, int OC, int K, int stride, int pad)
{
    lc_conv2d_backward_into(dinp, dWt, dbias, dout, inp, Wt, work, B, C, H, W, OC, K, stride,
                            pad, 1);
}
