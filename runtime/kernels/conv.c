/* kernels/conv.c: convolution as im2col + lc__gemm, for any kernel, stride,
 * padding, dilation and groups (a 1-D convolution is one of height 1); a
 * 1x1 convolution of stride 1 is the product alone.
 * Needs common.c and gemm.c.  Depthwise convolutions have their own direct
 * kernel (dwconv.c). */
/* ------------------------------------------------------------------------ */
/* The scratch a convolution needs (as in kernels.h; the geometry,
 * lc_conv_dims, is in common.c).                                           */

#ifndef LC_CONV_ROWS
#define LC_CONV_ROWS(d) ((long)(d)->C / (d)->G * (d)->KH * (d)->KW)
#define LC_CONV_COL(d) (LC_CONV_ROWS(d) * (d)->OH * (d)->OW)
#define LC_CONV_SLICE(d) (LC_CONV_COL(d) + (long)(d)->OC * LC_CONV_ROWS(d) + (d)->OC)
#define LC_CONV_WORK(d, T) ((T) > 1 ? (T) * LC_CONV_SLICE(d) : LC_CONV_COL(d))
#endif

/* ------------------------------------------------------------------------ */
/* Convolution: im2col of one sample (one group of its channels at a time)
 * into `work`, then lc__gemm.                                              */

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

/* Where the row of im2col for kernel tap (ki, kj) reads the input: at
 * (oh SH + offh, ow SW + offw), inside the image for oh_lo <= oh < oh_hi
 * and lo <= ow < hi. */
typedef struct {
    int offh, offw, lo, hi, oh_lo, oh_hi;
} lc__tap;

static inline lc__tap lc__tap_at(const lc_conv_dims *d, int H, int W, int ki, int kj)
{
    lc__tap t;
    t.offh = ki * d->DH - d->PH, t.offw = kj * d->DW - d->PW;
    t.lo = 0, t.hi = d->OW, t.oh_lo = 0, t.oh_hi = d->OH;
    while (t.lo < d->OW && t.lo * d->SW + t.offw < 0) t.lo++;
    while (t.hi > t.lo && (t.hi - 1) * d->SW + t.offw >= W) t.hi--;
    while (t.oh_lo < d->OH && t.oh_lo * d->SH + t.offh < 0) t.oh_lo++;
    while (t.oh_hi > t.oh_lo && (t.oh_hi - 1) * d->SH + t.offh >= H) t.oh_hi--;
    return t;
}

/* im2col of C channels inp[C, H, W]: col[C*KH*KW, OH*OW], where row
 * r = (c, ki, kj) and column p = (oh, ow) hold
 * inp[c, oh*SH - PH + ki*DH, ow*SW - PW + kj*DW] (0 in the padding).
 *
 * In the common "same" case (stride 1, OW == W) row r is inp[c] shifted by
 * a constant, so it is filled with one long copy and the few out-of-image
 * columns are zeroed afterwards; other cases copy image row by image row. */
static inline void lc__im2col(lc_real *col, const lc_real *inp, int C, int H, int W,
                              const lc_conv_dims *d)
{
    int KH = d->KH, KW = d->KW, SH = d->SH, SW = d->SW, OH = d->OH, OW = d->OW;
    int c, ki, kj, oh, ow, q;
    for (c = 0; c < C; c++)
        for (ki = 0; ki < KH; ki++)
            for (kj = 0; kj < KW; kj++) {
                lc_real *row =
                    col + ((size_t)(c * KH + ki) * (size_t)KW + (size_t)kj) * (size_t)OH * (size_t)OW;
                const lc_real *x = inp + (size_t)c * (size_t)H * (size_t)W;
                lc__tap t = lc__tap_at(d, H, W, ki, kj);
                for (q = 0; q < t.oh_lo * OW; q++) row[q] = 0;
                for (q = t.oh_hi * OW; q < OH * OW; q++) row[q] = 0;
                if (t.oh_lo == t.oh_hi || t.lo == t.hi) {
                    for (q = t.oh_lo * OW; q < t.oh_hi * OW; q++) row[q] = 0;
                } else if (SH == 1 && SW == 1 && OW == W) {
                    /* row[q] = x[q + shift] for q from (oh_lo, lo) to (oh_hi - 1, hi - 1) */
                    int shift = t.offh * W + t.offw;
                    int q0 = t.oh_lo * OW + t.lo, q1 = (t.oh_hi - 1) * OW + t.hi;
                    for (q = q0; q < q1; q++) row[q] = x[q + shift];
                    for (oh = t.oh_lo; oh < t.oh_hi; oh++) {
                        lc__zero(row + oh * OW, t.lo);
                        lc__zero(row + oh * OW + t.hi, OW - t.hi);
                    }
                } else {
                    for (oh = t.oh_lo; oh < t.oh_hi; oh++) {
                        lc_real *r = row + (size_t)oh * (size_t)OW;
                        const lc_real *src = x + (size_t)(oh * SH + t.offh) * (size_t)W + t.offw;
                        lc__zero(r, t.lo);
                        if (SW == 1)
                            for (ow = t.lo; ow < t.hi; ow++) r[ow] = src[ow];
                        else
                            for (ow = t.lo; ow < t.hi; ow++) r[ow] = src[ow * SW];
                        lc__zero(r + t.hi, OW - t.hi);
                    }
                }
            }
}

/* The adjoint of lc__im2col: dinp[C, H, W] += col scattered back.  col is
 * clobbered (its out-of-image entries are zeroed for the long-add path). */
static inline void lc__col2im(lc_real *dinp, lc_real *col, int C, int H, int W,
                              const lc_conv_dims *d)
{
    int KH = d->KH, KW = d->KW, SH = d->SH, SW = d->SW, OH = d->OH, OW = d->OW;
    int c, ki, kj, oh, ow, q;
    for (c = 0; c < C; c++)
        for (ki = 0; ki < KH; ki++)
            for (kj = 0; kj < KW; kj++) {
                lc_real *row =
                    col + ((size_t)(c * KH + ki) * (size_t)KW + (size_t)kj) * (size_t)OH * (size_t)OW;
                lc_real *dx = dinp + (size_t)c * (size_t)H * (size_t)W;
                lc__tap t = lc__tap_at(d, H, W, ki, kj);
                if (t.oh_lo == t.oh_hi || t.lo == t.hi) {
                    continue;
                } else if (SH == 1 && SW == 1 && OW == W) {
                    int shift = t.offh * W + t.offw;
                    int q0 = t.oh_lo * OW + t.lo, q1 = (t.oh_hi - 1) * OW + t.hi;
                    for (oh = t.oh_lo; oh < t.oh_hi; oh++) {
                        lc__zero(row + oh * OW, t.lo);
                        lc__zero(row + oh * OW + t.hi, OW - t.hi);
                    }
                    for (q = q0; q < q1; q++) dx[q + shift] += row[q];
                } else {
                    for (oh = t.oh_lo; oh < t.oh_hi; oh++) {
                        const lc_real *r = row + (size_t)oh * (size_t)OW;
                        lc_real *dst = dx + (size_t)(oh * SH + t.offh) * (size_t)W + t.offw;
                        for (ow = t.lo; ow < t.hi; ow++) dst[ow * SW] += r[ow];
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

/* A 1x1 convolution with stride 1 and no padding reads its input as it
 * lies: im2col would copy it unchanged, so the products take it directly. */
static inline int lc__pointwise(const lc_conv_dims *d)
{
    return d->KH == 1 && d->KW == 1 && d->SH == 1 && d->SW == 1 && d->PH == 0 && d->PW == 0 &&
           d->OH == d->H && d->OW == d->W;
}

/* The work of a convolution over the batch, cut into `parts` groups of
 * samples (see "Threads" in common.c).  Part t has samples
 * [B t / parts, B (t+1) / parts) and, when parts > 1, the slice
 * work + t * slice: an im2col buffer of LC_CONV_COL values, then
 * (backward) a partial dWt and dbias that part 0 does not use (it adds
 * into dWt and dbias themselves). */
typedef struct {
    lc_real *out, *dinp, *dWt, *dbias;
    const lc_real *inp, *Wt, *bias, *dout;
    lc_real *work;
    const lc_conv_dims *d;
    size_t slice;
    int B, parts, add;
} lc__conv_job;

static inline int lc__conv_setup(lc__conv_job *j, int B, const lc_conv_dims *d, lc_real *work)
{
    int T = LC__THREADS;
    j->B = B, j->d = d, j->work = work;
    j->parts = T < B ? T : B;
    j->slice = (size_t)LC_CONV_SLICE(d);
    return B > 0 && d->OH > 0 && d->OW > 0;
}

static void lc__conv_forward_task(void *p, int t)
{
    const lc__conv_job *j = (const lc__conv_job *)p;
    const lc_conv_dims *d = j->d;
    int P = d->OH * d->OW, G = d->G, Cg = d->C / G, OCg = d->OC / G;
    int R = Cg * d->KH * d->KW, b, g, lo, hi;
    lc_real *col = j->work + (j->parts > 1 ? (size_t)t * j->slice : 0);
    lc__range(j->B, j->parts, t, 1, &lo, &hi);
    for (b = lo; b < hi; b++) {
        const lc_real *x = j->inp + (size_t)b * (size_t)d->C * (size_t)d->H * (size_t)d->W;
        lc_real *y = j->out + (size_t)b * (size_t)d->OC * (size_t)P;
        for (g = 0; g < G; g++) {
            const lc_real *xg = x + (size_t)g * (size_t)Cg * (size_t)d->H * (size_t)d->W, *cg = xg;
            if (!lc__pointwise(d)) {
                lc__im2col(col, xg, Cg, d->H, d->W, d);
                cg = col;
            }
            /* y_g = bias_g + Wt_g . col, written in one pass */
            lc__gemm_set(OCg, P, R, j->Wt + (size_t)g * (size_t)OCg * (size_t)R, R, 1, cg, P, 1,
                         y + (size_t)g * (size_t)OCg * (size_t)P, P, 1, 1,
                         j->bias ? j->bias + g * OCg : NULL);
        }
    }
}

/* out[B, OC, OH, OW] = conv(inp[B, C, H, W], Wt[OC, C/G, KH, KW]) + bias[OC]
 * (bias may be NULL), for the geometry *d.  work: LC_CONV_WORK(d, T)
 * values (T the thread count).  Per sample and group g:
 * out_g[OC/G, OH*OW] = Wt_g[OC/G, C/G*KH*KW] . col_g[C/G*KH*KW, OH*OW]. */
LC_KERNEL void lc_conv_forward(lc_real *out, const lc_real *inp, const lc_real *Wt,
                               const lc_real *bias, lc_real *work, int B, const lc_conv_dims *d)
{
    lc__conv_job j;
    if (!lc__conv_setup(&j, B, d, work))
        return;
    j.out = out, j.inp = inp, j.Wt = Wt, j.bias = bias;
    LC__FOR(j.parts, lc__conv_forward_task, &j);
}

static void lc__conv_backward_task(void *p, int t)
{
    const lc__conv_job *j = (const lc__conv_job *)p;
    const lc_conv_dims *d = j->d;
    int P = d->OH * d->OW, G = d->G, Cg = d->C / G, OC = d->OC, OCg = OC / G;
    int C = d->C, H = d->H, W = d->W, R = Cg * d->KH * d->KW;
    int b, g, o, lo, hi;
    lc_real *col = j->work + (j->parts > 1 ? (size_t)t * j->slice : 0);
    lc_real *dWt = j->dWt, *dbias = j->dbias;
    if (t > 0) {
        /* this part's share of the weight gradient, added up by the caller */
        dWt = j->dWt ? col + LC_CONV_COL(d) : NULL;
        dbias = j->dbias ? col + LC_CONV_COL(d) + (size_t)OC * (size_t)R : NULL;
        if (dWt)
            memset(dWt, 0, sizeof(lc_real) * (size_t)OC * (size_t)R);
        if (dbias)
            memset(dbias, 0, sizeof(lc_real) * (size_t)OC);
    }
    lc__range(j->B, j->parts, t, 1, &lo, &hi);
    for (b = lo; b < hi; b++) {
        const lc_real *x = j->inp + (size_t)b * (size_t)C * (size_t)H * (size_t)W;
        lc_real *dx = j->dinp ? j->dinp + (size_t)b * (size_t)C * (size_t)H * (size_t)W : NULL;
        if (dbias)
            for (o = 0; o < OC; o++)
                dbias[o] += lc__sum(j->dout + ((size_t)b * (size_t)OC + (size_t)o) * (size_t)P, P);
        if (dx && !j->add)   /* assigned: cleared here, one sample at a time, while in cache */
            memset(dx, 0, sizeof(lc_real) * (size_t)C * (size_t)H * (size_t)W);
        for (g = 0; g < G; g++) {
            const lc_real *dy = j->dout + ((size_t)b * (size_t)OC + (size_t)g * (size_t)OCg) * (size_t)P;
            if (dWt) {
                /* dWt_g[o, r] += sum_p dy[o, p] col[r, p]: both run along p,
                 * so one is packed (transposed) by lc__gemm: dy when there are
                 * fewer output channels than rows of col (dWt^T = col . dy^T,
                 * written at column stride R), else col; with fewer than LC_NR
                 * rows r, dot products instead. */
                lc_real *dw = dWt + (size_t)g * (size_t)OCg * (size_t)R;
                const lc_real *xg = x + (size_t)g * (size_t)Cg * (size_t)H * (size_t)W, *cg = xg;
                if (!lc__pointwise(d)) {
                    lc__im2col(col, xg, Cg, H, W, d);
                    cg = col;
                }
                if (R < LC_NR)
                    lc__dots(OCg, R, P, dy, P, cg, P, dw, R, 1);
                else if (OCg < R)
                    lc__gemm(R, OCg, P, cg, P, 1, dy, 1, P, dw, 1, R);
                else
                    lc__gemm(OCg, R, P, dy, P, 1, cg, 1, P, dw, R, 1);
            }
            if (dx && lc__pointwise(d)) {
                /* dx_g[r, p] += sum_o Wt_g[o, r] dy[o, p], straight into dx
                 * (cleared above unless it is added to) */
                lc__gemm(R, P, OCg, j->Wt + (size_t)g * (size_t)OCg * (size_t)R, 1, R, dy, P, 1,
                         dx + (size_t)g * (size_t)Cg * (size_t)H * (size_t)W, P, 1);
            } else if (dx) {
                /* dcol[r, p] = sum_o Wt_g[o, r] dy[o, p]: A(i = r, k = o) =
                 * Wt_g[o, r], written (not added: no need to clear col first) */
                lc__gemm_set(R, P, OCg, j->Wt + (size_t)g * (size_t)OCg * (size_t)R, 1, R, dy, P, 1,
                             col, P, 1, 1, NULL);
                lc__col2im(dx + (size_t)g * (size_t)Cg * (size_t)H * (size_t)W, col, Cg, H, W, d);
            }
        }
    }
}

/* Gradients of lc_conv_forward, same argument order (NULL = skip):
 * dinp[B, C, H, W] = or += conv^T(dout[B, OC, OH, OW], Wt) (add = 0: assigned,
 * so it need not be cleared first; add = 1: added to)
 * dWt[OC, C/G, KH, KW] += sum over b of dout_b,g . col_b,g^T
 * dbias[OC] += sum over b, oh, ow of dout
 * work: as lc_conv_forward (holds col_b,g, then dcol_b,g).  With T > 1
 * threads the samples are cut into T parts whose weight gradients are added
 * in part order: only they depend on T, by float rounding. */
LC_KERNEL void lc_conv_backward_into(lc_real *dinp, lc_real *dWt, lc_real *dbias,
                                     const lc_real *dout, const lc_real *inp, const lc_real *Wt,
                                     lc_real *work, int B, const lc_conv_dims *d, int add)
{
    lc__conv_job j;
    int t;
    size_t i, nw;
    if (!lc__conv_setup(&j, B, d, work)) {
        if (dinp && !add && B > 0)   /* no output: no gradient */
            memset(dinp, 0, sizeof(lc_real) * (size_t)B * (size_t)d->C * (size_t)d->H * (size_t)d->W);
        return;
    }
    if (!dinp && !dWt && !dbias)
        return;
    j.dinp = dinp, j.dWt = dWt, j.dbias = dbias, j.dout = dout, j.inp = inp, j.Wt = Wt;
    j.add = add;
    LC__FOR(j.parts, lc__conv_backward_task, &j);
    /* the parts' shares, in part order */
    nw = (size_t)d->OC * (size_t)LC_CONV_ROWS(d);
    for (t = 1; t < j.parts; t++) {
        const lc_real *part = work + (size_t)t * j.slice + LC_CONV_COL(d);
        if (dWt)
            for (i = 0; i < nw; i++)
                dWt[i] += part[i];
        if (dbias)
            for (i = 0; i < (size_t)d->OC; i++)
                dbias[i] += part[nw + i];
    }
}

/* ------------------------------------------------------------------------ */
/* The square convolution of layerc's first version: K x K, one stride and
 * padding for both sides, no dilation, one group.                          */

static inline lc_conv_dims lc__square_dims(int C, int H, int W, int OC, int K, int stride, int pad)
{
    lc_conv_dims d;
    d.C = C, d.H = H, d.W = W, d.OC = OC, d.KH = d.KW = K, d.SH = d.SW = stride;
    d.PH = d.PW = pad, d.DH = d.DW = 1, d.G = 1;
    d.OH = (H + 2 * pad - K) / stride + 1, d.OW = (W + 2 * pad - K) / stride + 1;
    return d;
}

/* out[B, OC, OH, OW] = conv(inp[B, C, H, W], Wt[OC, C, K, K]) + bias[OC]
 * (bias may be NULL); OH = LC_CONV_OUT(H, K, stride, pad), same for OW.
 * work: LC_CONV2D_WORK(C, K, OH, OW) = C*K*K*OH*OW scratch values (with T
 * threads, LC_CONV2D_WORK_T: T slices). */
LC_KERNEL void lc_conv2d_forward(lc_real *out, const lc_real *inp, const lc_real *Wt,
                                 const lc_real *bias, lc_real *work,
                                 int B, int C, int H, int W, int OC, int K, int stride, int pad)
{
    lc_conv_dims d = lc__square_dims(C, H, W, OC, K, stride, pad);
    lc_conv_forward(out, inp, Wt, bias, work, B, &d);
}

/* As lc_conv2d_backward, but dinp is assigned (add = 0: it need not be
 * cleared first) or added to (add = 1). */
LC_KERNEL void lc_conv2d_backward_into(lc_real *dinp, lc_real *dWt, lc_real *dbias,
                                       const lc_real *dout, const lc_real *inp, const lc_real *Wt,
                                       lc_real *work, int B, int C, int H, int W, int OC, int K,
                                       int stride, int pad, int add)
{
    lc_conv_dims d = lc__square_dims(C, H, W, OC, K, stride, pad);
    lc_conv_backward_into(dinp, dWt, dbias, dout, inp, Wt, work, B, &d, add);
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
