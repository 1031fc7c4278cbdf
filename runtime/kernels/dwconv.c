/* kernels/dwconv.c: depthwise convolution (groups = input channels, each
 * with OC / C filters of its own), computed directly: im2col would copy
 * KH*KW values for each multiply-add.  Needs common.c, gemm.c and conv.c.
 *
 * Each input plane is first copied into a zero-bordered plane xp of
 * Hp x Wp values (the rows and columns the windows reach), so the loops
 * have no bounds to test.  With stride 1 an output value at (oh, ow) reads
 * xp[(oh + ki DH) Wp + ow + kj DW], so with the output laid out at the same
 * pitch Wp every tap is one long contiguous run (q = oh Wp + ow, shifted by
 * ki DH Wp + kj DW): narrow planes (DS-CNN's 25 x 5) vectorise along whole
 * planes, not along rows of 5.  Other strides work row by row.
 *
 * Threads: the forward pass cuts the B * OC output planes into ranges; the
 * backward pass cuts the input channels into ranges, each task going
 * through every sample of its channels in order.  No value depends on the
 * thread count, not even the weight gradients. */

/* ------------------------------------------------------------------------ */
/* As in kernels.h.                                                         */
#ifndef LC_DWCONV_SLICE
#define LC_DWCONV_HP(d) (((d)->OH - 1) * (d)->SH + ((d)->KH - 1) * (d)->DH + 1)
#define LC_DWCONV_WP(d) (((d)->OW - 1) * (d)->SW + ((d)->KW - 1) * (d)->DW + 1)
#define LC_DWCONV_SLICE(d) \
    (2L * LC_DWCONV_HP(d) * LC_DWCONV_WP(d) + (long)(d)->OH * LC_DWCONV_WP(d))
#define LC_DWCONV_WORK(d, T) (((T) > 1 ? (T) : 1) * LC_DWCONV_SLICE(d))
#endif

/* Values of one chunk of the long loops below: one or two vector registers. */
#ifndef LC_DW_CH
#define LC_DW_CH 16
#endif

typedef struct {
    lc_real *out, *dinp, *dWt, *dbias;
    const lc_real *inp, *Wt, *bias, *dout;
    lc_real *work;
    const lc_conv_dims *d;
    size_t slice;
    int B, Hp, Wp, parts, add;
} lc__dw_job;

/* xp[Hp, Wp] = the plane x[H, W] moved PH rows down and PW columns right,
 * 0 around it. */
static inline void lc__dw_pad(lc_real *xp, const lc_real *x, const lc_conv_dims *d, int Hp, int Wp)
{
    int i, a = d->PW < Wp ? d->PW : Wp, e = d->PW + d->W < Wp ? d->PW + d->W : Wp;
    for (i = 0; i < Hp; i++) {
        int ih = i - d->PH;
        lc_real *r = xp + (size_t)i * Wp;
        if (ih < 0 || ih >= d->H) {
            memset(r, 0, sizeof(lc_real) * (size_t)Wp);
            continue;
        }
        lc__zero(r, a);
        memcpy(r + a, x + (size_t)ih * d->W + (a - d->PW), sizeof(lc_real) * (size_t)(e - a));
        lc__zero(r + e, Wp - e);
    }
}

/* sum of a[i] b[i * sb] for i < n, in LC_DW_CH interleaved partial sums */
static inline lc_real lc__dw_dot(const lc_real *a, const lc_real *b, int sb, int n)
{
    lc_real part[LC_DW_CH], s = 0;
    int i = 0, v;
    for (v = 0; v < LC_DW_CH; v++)
        part[v] = 0;
    if (sb == 1)
        for (; i + LC_DW_CH <= n; i += LC_DW_CH)
            LC__KEEP_LOOP for (v = 0; v < LC_DW_CH; v++)
                part[v] += a[i + v] * b[i + v];
    else
        for (; i + LC_DW_CH <= n; i += LC_DW_CH)
            for (v = 0; v < LC_DW_CH; v++)
                part[v] += a[i + v] * b[(size_t)(i + v) * sb];
    for (v = 0; v < LC_DW_CH; v++)
        s += part[v];
    for (; i < n; i++)
        s += a[i] * b[(size_t)i * sb];
    return s;
}

/* y[i * sy] += w x[i] for i < n */
static inline void lc__dw_axpy(lc_real *y, int sy, lc_real w, const lc_real *x, int n)
{
    int i;
    if (sy == 1)
        for (i = 0; i < n; i++)
            y[i] += w * x[i];
    else
        for (i = 0; i < n; i++)
            y[(size_t)i * sy] += w * x[i];
}

/* One output plane y[OH, OW] of filter wt[KH, KW] over the padded plane xp;
 * yb: OH * Wp values of scratch (stride 1). */
static inline void lc__dw_plane(lc_real *y, const lc_real *xp, const lc_real *wt, lc_real b0,
                                lc_real *yb, const lc_conv_dims *d, int Wp)
{
    int OH = d->OH, OW = d->OW, KH = d->KH, KW = d->KW, DH = d->DH, DW = d->DW;
    int SH = d->SH, SW = d->SW, oh, ow, ki, kj, q, v;
    if (SH == 1 && SW == 1) {
        /* yb[q] for q = oh Wp + ow, in chunks of LC_DW_CH whose taps are
         * summed in registers (the last chunk overlaps the one before) */
        int L = (OH - 1) * Wp + OW;
        lc_real acc[LC_DW_CH];
        if (L >= LC_DW_CH)
            for (q = 0;; q += LC_DW_CH) {
                if (q + LC_DW_CH > L) q = L - LC_DW_CH;
                for (v = 0; v < LC_DW_CH; v++)
                    acc[v] = b0;
                for (ki = 0; ki < KH; ki++)
                    for (kj = 0; kj < KW; kj++) {
                        const lc_real w = wt[ki * KW + kj];
                        const lc_real *xr = xp + q + (size_t)ki * DH * Wp + (size_t)kj * DW;
                        LC__KEEP_LOOP for (v = 0; v < LC_DW_CH; v++)
                            acc[v] += w * xr[v];
                    }
                for (v = 0; v < LC_DW_CH; v++)
                    yb[q + v] = acc[v];
                if (q + LC_DW_CH >= L) break;
            }
        else
            for (q = 0; q < L; q++) {
                lc_real s = b0;
                for (ki = 0; ki < KH; ki++)
                    for (kj = 0; kj < KW; kj++)
                        s += wt[ki * KW + kj] * xp[q + (size_t)ki * DH * Wp + (size_t)kj * DW];
                yb[q] = s;
            }
        if (Wp != OW)
            for (oh = 0; oh < OH; oh++)
                memcpy(y + (size_t)oh * OW, yb + (size_t)oh * Wp, sizeof(lc_real) * (size_t)OW);
        else
            memcpy(y, yb, sizeof(lc_real) * (size_t)OH * OW);
        return;
    }
    for (oh = 0; oh < OH; oh++) {
        lc_real *yr = y + (size_t)oh * OW;
        for (ow = 0; ow < OW; ow++)
            yr[ow] = b0;
        for (ki = 0; ki < KH; ki++)
            for (kj = 0; kj < KW; kj++) {
                const lc_real w = wt[ki * KW + kj];
                const lc_real *xr = xp + (size_t)(oh * SH + ki * DH) * Wp + (size_t)kj * DW;
                if (SW == 2)
                    for (ow = 0; ow < OW; ow++)
                        yr[ow] += w * xr[2 * ow];
                else
                    for (ow = 0; ow < OW; ow++)
                        yr[ow] += w * xr[(size_t)ow * SW];
            }
    }
}

static void lc__dw_forward_task(void *p, int t)
{
    const lc__dw_job *j = (const lc__dw_job *)p;
    const lc_conv_dims *d = j->d;
    int OC = d->OC, M = OC / d->C, KK = d->KH * d->KW, P = d->OH * d->OW;
    int n, lo, hi, last = -1;
    lc_real *xp = j->work + (size_t)t * j->slice;
    lc_real *yb = xp + 2 * (size_t)j->Hp * j->Wp;
    lc__range(j->B * OC, j->parts, t, 1, &lo, &hi);
    for (n = lo; n < hi; n++) {
        int b = n / OC, o = n % OC, c = o / M, plane = b * d->C + c;
        if (plane != last) {   /* the filters of one channel share its padded plane */
            lc__dw_pad(xp, j->inp + (size_t)plane * d->H * d->W, d, j->Hp, j->Wp);
            last = plane;
        }
        lc__dw_plane(j->out + (size_t)n * P, xp, j->Wt + (size_t)o * KK, j->bias ? j->bias[o] : 0,
                     yb, d, j->Wp);
    }
}

static inline int lc__dw_setup(lc__dw_job *j, int B, const lc_conv_dims *d, lc_real *work, int units)
{
    int T = LC__THREADS;
    double flops = (double)B * d->OC * d->OH * d->OW * d->KH * d->KW;
    j->B = B, j->d = d, j->work = work;
    j->Hp = LC_DWCONV_HP(d), j->Wp = LC_DWCONV_WP(d);
    j->slice = (size_t)LC_DWCONV_SLICE(d);
    j->parts = T > 1 && flops >= LC_PAR_FLOPS / 4 ? (T < units ? T : units) : 1;
    return B > 0 && d->OH > 0 && d->OW > 0 && d->C > 0;
}

/* out[B, OC, OH, OW] = depthwise conv(inp[B, C, H, W], Wt[OC, 1, KH, KW]) +
 * bias[OC] (bias may be NULL): output channel o is input channel
 * o / (OC / C) convolved with its filter.  d->G must be d->C.
 * work: LC_DWCONV_WORK(d, T) values (T the thread count). */
LC_KERNEL void lc_dwconv_forward(lc_real *out, const lc_real *inp, const lc_real *Wt,
                                 const lc_real *bias, lc_real *work, int B, const lc_conv_dims *d)
{
    lc__dw_job j;
    if (!lc__dw_setup(&j, B, d, work, B * d->OC))
        return;
    j.out = out, j.inp = inp, j.Wt = Wt, j.bias = bias;
    if (j.parts > 1)
        LC__FOR(j.parts, lc__dw_forward_task, &j);
    else
        lc__dw_forward_task(&j, 0);
}

/* For one output plane dy[OH, OW] of filter wt (gradient dw, may be NULL)
 * over the padded input plane xp: dw += its taps' sums, dxp (may be NULL)
 * += the filter spread back.  yb: OH * Wp values of scratch (stride 1). */
static inline void lc__dw_plane_back(lc_real *dxp, lc_real *dw, const lc_real *dy,
                                     const lc_real *xp, const lc_real *wt, lc_real *yb,
                                     const lc_conv_dims *d, int Wp)
{
    int OH = d->OH, OW = d->OW, KH = d->KH, KW = d->KW, DH = d->DH, DW = d->DW;
    int SH = d->SH, SW = d->SW, oh, ki, kj;
    if (SH == 1 && SW == 1) {
        /* dy at pitch Wp, 0 in the columns between rows: then each tap is
         * one long dot product and one long axpy */
        int L = (OH - 1) * Wp + OW;
        const lc_real *g = dy;
        if (Wp != OW) {
            for (oh = 0; oh < OH; oh++) {
                memcpy(yb + (size_t)oh * Wp, dy + (size_t)oh * OW, sizeof(lc_real) * (size_t)OW);
                if (oh + 1 < OH)
                    lc__zero(yb + (size_t)oh * Wp + OW, Wp - OW);
            }
            g = yb;
        }
        for (ki = 0; ki < KH; ki++)
            for (kj = 0; kj < KW; kj++) {
                size_t s = (size_t)ki * DH * Wp + (size_t)kj * DW;
                if (dw)
                    dw[ki * KW + kj] += lc__dw_dot(g, xp + s, 1, L);
                if (dxp)
                    lc__dw_axpy(dxp + s, 1, wt[ki * KW + kj], g, L);
            }
        return;
    }
    for (ki = 0; ki < KH; ki++)
        for (kj = 0; kj < KW; kj++) {
            lc_real s = 0;
            for (oh = 0; oh < OH; oh++) {
                size_t at = (size_t)(oh * SH + ki * DH) * Wp + (size_t)kj * DW;
                if (dw)
                    s += lc__dw_dot(dy + (size_t)oh * OW, xp + at, SW, OW);
                if (dxp)
                    lc__dw_axpy(dxp + at, SW, wt[ki * KW + kj], dy + (size_t)oh * OW, OW);
            }
            if (dw)
                dw[ki * KW + kj] += s;
        }
}

/* dx[H, W] (+)= the part of dxp[Hp, Wp] over the image (0 where no window
 * reached). */
static inline void lc__dw_unpad(lc_real *dx, const lc_real *dxp, const lc_conv_dims *d, int Hp,
                                int Wp, int add)
{
    int ih, iw, H = d->H, W = d->W;
    for (ih = 0; ih < H; ih++) {
        int i = ih + d->PH, e = Wp - d->PW < W ? Wp - d->PW : W;
        lc_real *r = dx + (size_t)ih * W;
        const lc_real *s = dxp + (size_t)i * Wp + d->PW;
        if (e < 0) e = 0;
        if (i >= Hp) e = 0;
        if (add)
            for (iw = 0; iw < e; iw++)
                r[iw] += s[iw];
        else {
            for (iw = 0; iw < e; iw++)
                r[iw] = s[iw];
            for (; iw < W; iw++)
                r[iw] = 0;
        }
    }
}

static void lc__dw_backward_task(void *p, int t)
{
    const lc__dw_job *j = (const lc__dw_job *)p;
    const lc_conv_dims *d = j->d;
    int C = d->C, OC = d->OC, M = OC / C, KK = d->KH * d->KW, P = d->OH * d->OW;
    int Hp = j->Hp, Wp = j->Wp, b, c, m, lo, hi;
    lc_real *xp = j->work + (size_t)t * j->slice;
    lc_real *dxp = xp + (size_t)Hp * Wp, *yb = dxp + (size_t)Hp * Wp;
    lc__range(C, j->parts, t, 1, &lo, &hi);
    for (c = lo; c < hi; c++)
        for (b = 0; b < j->B; b++) {
            size_t plane = (size_t)b * C + c;
            if (j->dWt)
                lc__dw_pad(xp, j->inp + plane * d->H * d->W, d, Hp, Wp);
            if (j->dinp)
                memset(dxp, 0, sizeof(lc_real) * (size_t)Hp * Wp);
            for (m = 0; m < M; m++) {
                int o = c * M + m;
                const lc_real *dy = j->dout + ((size_t)b * OC + o) * P;
                if (j->dbias)
                    j->dbias[o] += lc__sum(dy, P);
                if (j->dWt || j->dinp)
                    lc__dw_plane_back(j->dinp ? dxp : NULL, j->dWt ? j->dWt + (size_t)o * KK : NULL,
                                      dy, xp, j->Wt + (size_t)o * KK, yb, d, Wp);
            }
            if (j->dinp)
                lc__dw_unpad(j->dinp + plane * d->H * d->W, dxp, d, Hp, Wp, j->add);
        }
}

/* Gradients of lc_dwconv_forward, same argument order (NULL = skip):
 * dinp[B, C, H, W] = (add = 0) or += (add = 1) conv^T(dout, Wt);
 * dWt[OC, 1, KH, KW] += and dbias[OC] += their sums over the batch (in
 * sample order, whatever the thread count).  work: as lc_dwconv_forward. */
LC_KERNEL void lc_dwconv_backward_into(lc_real *dinp, lc_real *dWt, lc_real *dbias,
                                       const lc_real *dout, const lc_real *inp, const lc_real *Wt,
                                       lc_real *work, int B, const lc_conv_dims *d, int add)
{
    lc__dw_job j;
    if (!lc__dw_setup(&j, B, d, work, d->C)) {
        if (dinp && !add && B > 0)   /* no output: no gradient */
            memset(dinp, 0, sizeof(lc_real) * (size_t)B * d->C * d->H * d->W);
        return;
    }
    if (!dinp && !dWt && !dbias)
        return;
    j.dinp = dinp, j.dWt = dWt, j.dbias = dbias, j.dout = dout, j.inp = inp, j.Wt = Wt;
    j.add = add;
    if (j.parts > 1)
        LC__FOR(j.parts, lc__dw_backward_task, &j);
    else
        lc__dw_backward_task(&j, 0);
}
