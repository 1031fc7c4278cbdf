/* kernels/conv_mcu.c: the convolution kernels for small cores (layerc
 * --target mcu), pasted in place of conv.c: a direct convolution, with no
 * im2col buffer (conv.c's is C/G*KH*KW*OH*OW values, 56 KB for Fashion's
 * second layer) and no packing, so `work` is not used and may be NULL.
 * Same arguments and results as conv.c, to float rounding: every output is
 * its bias plus the products taken in the order (c, ki, kj).
 *
 * Each kernel tap (c, ki, kj) is a shifted, strided view of one input
 * plane; the forward pass adds weight times that view to the output plane
 * row by row, over the rows and columns where it lies inside the image (so
 * the padding is never read, nor tested per value).  The backward pass
 * walks the same taps: a dot product per tap for the weight gradient, the
 * adjoint row update for the input gradient.  Needs common.c. */


/* Where tap (ki, kj) reads the input plane [H, W]: output (oh, ow) reads
 * (oh SH + offh, ow SW + offw), inside the image for oh_lo <= oh < oh_hi
 * and lo <= ow < hi (empty ranges when it never is). */
typedef struct {
    int offh, offw, lo, hi, oh_lo, oh_hi;
} lc__mtap;

/* The first o in [0, n) with o s + off >= 0, and the end of those with
 * o s + off < limit. */
static inline int lc__first_in(int s, int off)
{
    return off >= 0 ? 0 : (-off + s - 1) / s;
}

static inline int lc__end_in(int n, int s, int off, int limit)
{
    int e;
    if (off >= limit)
        return 0;
    e = (limit - 1 - off) / s + 1;
    return e < n ? e : n;
}

static inline lc__mtap lc__mtap_at(const lc_conv_dims *d, int ki, int kj)
{
    lc__mtap t;
    t.offh = ki * d->DH - d->PH, t.offw = kj * d->DW - d->PW;
    t.oh_lo = lc__first_in(d->SH, t.offh), t.oh_hi = lc__end_in(d->OH, d->SH, t.offh, d->H);
    t.lo = lc__first_in(d->SW, t.offw), t.hi = lc__end_in(d->OW, d->SW, t.offw, d->W);
    if (t.oh_hi < t.oh_lo) t.oh_hi = t.oh_lo;
    if (t.hi < t.lo) t.hi = t.lo;
    return t;
}

/* y[i] += k * x[i s] for i < n, four at a time */
static inline void lc__row_axpy(lc_real *y, lc_real k, const lc_real *x, int s, int n)
{
    int i = 0;
    if (s == 1) {
        for (; i + 4 <= n; i += 4) {
            y[i] += k * x[i];
            y[i + 1] += k * x[i + 1];
            y[i + 2] += k * x[i + 2];
            y[i + 3] += k * x[i + 3];
        }
        for (; i < n; i++)
            y[i] += k * x[i];
        return;
    }
    for (; i < n; i++)
        y[i] += k * x[(size_t)i * (size_t)s];
}

/* y[i s] += k * x[i] for i < n (the adjoint of lc__row_axpy) */
static inline void lc__row_scatter(lc_real *y, int s, lc_real k, const lc_real *x, int n)
{
    int i;
    if (s == 1) {
        lc__row_axpy(y, k, x, 1, n);
        return;
    }
    for (i = 0; i < n; i++)
        y[(size_t)i * (size_t)s] += k * x[i];
}

/* sum over i < n of a[i] * b[i s] */
static inline lc_real lc__row_dot(const lc_real *a, const lc_real *b, int s, int n)
{
    lc_real s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    int i = 0;
    if (s == 1)
        for (; i + 4 <= n; i += 4) {
            s0 += a[i] * b[i];
            s1 += a[i + 1] * b[i + 1];
            s2 += a[i + 2] * b[i + 2];
            s3 += a[i + 3] * b[i + 3];
        }
    for (; i < n; i++)
        s0 += a[i] * b[(size_t)i * (size_t)s];
    return (s0 + s1) + (s2 + s3);
}

/* out[B, OC, OH, OW] = conv(inp[B, C, H, W], Wt[OC, C/G, KH, KW]) + bias[OC]
 * (bias may be NULL), for the geometry *d; work is not used. */
LC_KERNEL void lc_conv_forward(lc_real *out, const lc_real *inp, const lc_real *Wt,
                               const lc_real *bias, lc_real *work, int B, const lc_conv_dims *d)
{
    int Cg = d->C / d->G, OCg = d->OC / d->G, OH = d->OH, OW = d->OW, H = d->H, W = d->W;
    int b, o, c, ki, kj, oh, i;
    size_t P = (size_t)OH * (size_t)OW, plane = (size_t)H * (size_t)W;
    (void)work;
    for (b = 0; b < B; b++)
        for (o = 0; o < d->OC; o++) {
            lc_real *y = out + ((size_t)b * (size_t)d->OC + (size_t)o) * P;
            const lc_real *w = Wt + (size_t)o * (size_t)Cg * (size_t)d->KH * (size_t)d->KW;
            const lc_real *xg = inp + ((size_t)b * (size_t)d->C + (size_t)(o / OCg * Cg)) * plane;
            lc_real y0 = bias ? bias[o] : 0;
            for (i = 0; i < (int)P; i++)
                y[i] = y0;
            for (c = 0; c < Cg; c++)
                for (ki = 0; ki < d->KH; ki++)
                    for (kj = 0; kj < d->KW; kj++) {
                        lc__mtap t = lc__mtap_at(d, ki, kj);
                        lc_real k = *w++;
                        const lc_real *x = xg + (size_t)c * plane;
                        for (oh = t.oh_lo; oh < t.oh_hi; oh++)
                            lc__row_axpy(y + (size_t)oh * (size_t)OW + (size_t)t.lo, k,
                                         x + (ptrdiff_t)(oh * d->SH + t.offh) * W + t.lo * d->SW + t.offw,
                                         d->SW, t.hi - t.lo);
                    }
        }
}

/* Gradients of lc_conv_forward, same argument order (NULL = skip):
 * dinp[B, C, H, W] = or += conv^T(dout[B, OC, OH, OW], Wt) (add = 0: assigned,
 * add = 1: added to); dWt[OC, C/G, KH, KW] += sum over b of the products
 * of dout and the input each weight met; dbias[OC] += sum of dout over b,
 * oh, ow.  work is not used. */
LC_KERNEL void lc_conv_backward_into(lc_real *dinp, lc_real *dWt, lc_real *dbias,
                                     const lc_real *dout, const lc_real *inp, const lc_real *Wt,
                                     lc_real *work, int B, const lc_conv_dims *d, int add)
{
    int Cg = d->C / d->G, OCg = d->OC / d->G, OH = d->OH, OW = d->OW, H = d->H, W = d->W;
    int b, o, c, ki, kj, oh, i;
    size_t P = (size_t)OH * (size_t)OW, plane = (size_t)H * (size_t)W;
    size_t taps = (size_t)Cg * (size_t)d->KH * (size_t)d->KW;
    (void)work;
    if (dinp && !add && B > 0)
        memset(dinp, 0, sizeof(lc_real) * (size_t)B * (size_t)d->C * plane);
    if (OH <= 0 || OW <= 0)
        return;
    for (b = 0; b < B; b++)
        for (o = 0; o < d->OC; o++) {
            const lc_real *dy = dout + ((size_t)b * (size_t)d->OC + (size_t)o) * P;
            size_t first = (size_t)(o / OCg * Cg) * plane;
            const lc_real *xg = inp + (size_t)b * (size_t)d->C * plane + first;
            lc_real *dxg = dinp ? dinp + (size_t)b * (size_t)d->C * plane + first : NULL;
            const lc_real *w = Wt + (size_t)o * taps;
            lc_real *dw = dWt ? dWt + (size_t)o * taps : NULL;
            if (dbias) {
                lc_real s = 0;
                for (i = 0; i < (int)P; i++)
                    s += dy[i];
                dbias[o] += s;
            }
            if (!dw && !dxg)
                continue;
            for (c = 0; c < Cg; c++)
                for (ki = 0; ki < d->KH; ki++)
                    for (kj = 0; kj < d->KW; kj++) {
                        lc__mtap t = lc__mtap_at(d, ki, kj);
                        size_t r = ((size_t)c * (size_t)d->KH + (size_t)ki) * (size_t)d->KW + (size_t)kj;
                        ptrdiff_t at = (ptrdiff_t)c * (ptrdiff_t)plane + t.lo * d->SW + t.offw;
                        lc_real g = 0;
                        for (oh = t.oh_lo; oh < t.oh_hi; oh++) {
                            const lc_real *dyr = dy + (size_t)oh * (size_t)OW + (size_t)t.lo;
                            ptrdiff_t row = at + (ptrdiff_t)(oh * d->SH + t.offh) * W;
                            if (dw)
                                g += lc__row_dot(dyr, xg + row, d->SW, t.hi - t.lo);
                            if (dxg)
                                lc__row_scatter(dxg + row, d->SW, w[r], dyr, t.hi - t.lo);
                        }
                        if (dw)
                            dw[r] += g;
                    }
        }
}

/* ------------------------------------------------------------------------ */
/* The square convolution of layerc's first version (conv.c).               */

static inline lc_conv_dims lc__square_dims(int C, int H, int W, int OC, int K, int stride, int pad)
{
    lc_conv_dims d;
    d.C = C, d.H = H, d.W = W, d.OC = OC, d.KH = d.KW = K, d.SH = d.SW = stride;
    d.PH = d.PW = pad, d.DH = d.DW = 1, d.G = 1;
    d.OH = (H + 2 * pad - K) / stride + 1, d.OW = (W + 2 * pad - K) / stride + 1;
    return d;
}

LC_KERNEL void lc_conv2d_forward(lc_real *out, const lc_real *inp, const lc_real *Wt,
                                 const lc_real *bias, lc_real *work,
                                 int B, int C, int H, int W, int OC, int K, int stride, int pad)
{
    lc_conv_dims d = lc__square_dims(C, H, W, OC, K, stride, pad);
    lc_conv_forward(out, inp, Wt, bias, work, B, &d);
}

LC_KERNEL void lc_conv2d_backward_into(lc_real *dinp, lc_real *dWt, lc_real *dbias,
                                       const lc_real *dout, const lc_real *inp, const lc_real *Wt,
                                       lc_real *work, int B, int C, int H, int W, int OC, int K,
                                       int stride, int pad, int add)
{
    lc_conv_dims d = lc__square_dims(C, H, W, OC, K, stride, pad);
    lc_conv_backward_into(dinp, dWt, dbias, dout, inp, Wt, work, B, &d, add);
}

LC_KERNEL void lc_conv2d_backward(lc_real *dinp, lc_real *dWt, lc_real *dbias,
                                  const lc_real *dout, const lc_real *inp, const lc_real *Wt,
                                  lc_real *work,
                                  int B, int C, int H, int W, int OC, int K, int stride, int pad)
{
    lc_conv2d_backward_into(dinp, dWt, dbias, dout, inp, Wt, work, B, C, H, W, OC, K, stride,
                            pad, 1);
}
