/* kernels/dwconv.c: depthwise convolution (groups = input channels, each
 * with OC / C filters of its own), computed directly: im2col would copy
 * KH*KW values for each multiply-add.  Needs common.c only (so that it
 * stands beside any version of the other units).
 *
 * The padded input plane is cut into its SH x SW polyphase components:
 * phase (a, b) holds the padded values at rows i SH + a and columns j SW + b,
 * Hq x Wq of them.  Output (oh, ow) and tap (ki, kj) meet in phase
 * (ki DH mod SH, kj DW mod SW) at (oh + ki DH / SH, ow + kj DW / SW), so
 * with the output laid out at the phases' pitch Wq, every tap reads one
 * contiguous run, shifted by a constant: whole planes, even DS-CNN's 25 x 5
 * ones, vectorise as long loops, whatever the stride, and the taps of one
 * phase are an affine family (ki = ki0 + m SH / gcd(DH, SH)) summed in
 * registers.  The backward pass does the same: the weight gradient is a dot
 * product per tap; the input gradient is, per phase, the output gradient
 * gathered through the flipped taps of that phase, then put back in place.
 *
 * Threads: the forward pass cuts the B * OC output planes into ranges; the
 * backward pass cuts the input channels into ranges, each task going
 * through every sample of its channels in order.  No value depends on the
 * thread count, not even the weight gradients. */

/* ------------------------------------------------------------------------ */
/* As in kernels.h and conv.c.                                              */
#ifndef LC__KEEP_LOOP   /* as gemm.c: keep a short loop a loop, for gcc to vectorise */
#if !defined(__TINYC__) && (defined(__clang__) || (defined(__GNUC__) && __GNUC__ >= 8))
#define LC__KEEP_LOOP _Pragma("GCC unroll 1")
#else
#define LC__KEEP_LOOP
#endif
#endif
#ifndef LC_DWCONV_SLICE
#define LC_DWCONV_HQ(d) ((d)->OH + ((d)->KH - 1) * (d)->DH / (d)->SH)
#define LC_DWCONV_WQ(d) ((d)->OW + ((d)->KW - 1) * (d)->DW / (d)->SW)
#define LC_DWCONV_PLANES(d) ((long)(d)->SH * (d)->SW * LC_DWCONV_HQ(d) * LC_DWCONV_WQ(d))
#define LC_DWCONV_MARGIN(d) \
    ((long)((d)->KH - 1) * (d)->DH / (d)->SH * LC_DWCONV_WQ(d) + ((d)->KW - 1) * (d)->DW / (d)->SW)
#define LC_DWCONV_SLICE(d) \
    (2 * LC_DWCONV_PLANES(d) + LC_DWCONV_MARGIN(d) + (long)LC_DWCONV_HQ(d) * LC_DWCONV_WQ(d))
#define LC_DWCONV_WORK(d, T) (((T) > 1 ? (T) : 1) * LC_DWCONV_SLICE(d))
#endif

typedef struct {
    lc_real *out, *dinp, *dWt, *dbias;
    const lc_real *inp, *Wt, *bias, *dout;
    lc_real *work;
    const lc_conv_dims *d;
    size_t slice;
    int B, Hq, Wq, margin, parts, add;
    int sth, stw;   /* ki, kj steps within a phase: SH / gcd(DH, SH), SW / gcd(DW, SW) */
    int nph, npw;   /* row and column phases some tap reads: min(KH, sth), min(KW, stw) */
} lc__dw_job;

static inline int lc__gcd(int a, int b)
{
    while (b) {
        int t = a % b;
        a = b, b = t;
    }
    return a;
}

/* p[0..n) = 0: straight stores for the runs of 0 to 4 values of padding */
static inline void lc__dw_zero(lc_real *p, int n)
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

/* sum of x[0..n), in 16 interleaved partial sums */
static inline lc_real lc__dw_sum(const lc_real *x, int n)
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

/* d[0..n) = s[0..n) (not overlapping): for the short rows of narrow
 * planes, in copies of a constant 8 or 4 values (the last one overlapping),
 * which compilers make single vector moves, where a memcpy call of n values
 * would cost more than the copy. */
static inline void lc__dw_copy(lc_real *d, const lc_real *s, int n)
{
    int i;
    if (n >= 64 || n < 4) {
        if (n > 0)
            memcpy(d, s, sizeof(lc_real) * (size_t)n);
        return;
    }
    if (n < 8) {
        memcpy(d, s, sizeof(lc_real) * 4);
        memcpy(d + n - 4, s + n - 4, sizeof(lc_real) * 4);
        return;
    }
    for (i = 0;; i += 8) {
        if (i + 8 > n) i = n - 8;
        memcpy(d + i, s + i, sizeof(lc_real) * 8);
        if (i + 8 >= n) break;
    }
}

/* y[q] = b + (or, with add, y[q] +=) sum over i < nh, j < nw of
 * w[i wrs + j wcs] x[i xrs + j xcs + q], for q < L: the taps of one phase
 * (affine steps), one pass over y each.  (The passes run at the rate of the
 * loads and stores: y stays in L1, and no pass waits on another, where
 * summing the taps of a chunk in registers waits on each multiply-add.) */
static inline void lc__dw_sweep(lc_real *LC__RESTRICT y, int L, const lc_real *LC__RESTRICT x,
                                const lc_real *w, int nh, int nw, long xrs, long xcs, int wrs,
                                int wcs, lc_real b, int add)
{
    int i, j, q;
    for (i = 0; i < nh; i++)
        for (j = 0; j < nw; j += 2) {   /* two taps a pass */
            const lc_real w0 = w[i * wrs + j * wcs], *x0 = x + i * xrs + j * xcs;
            if (j + 1 < nw) {
                const lc_real w1 = w[i * wrs + (j + 1) * wcs], *x1 = x0 + xcs;
                if (!add && i == 0 && j == 0)
                    for (q = 0; q < L; q++)
                        y[q] = b + w0 * x0[q] + w1 * x1[q];
                else
                    for (q = 0; q < L; q++)
                        y[q] += w0 * x0[q] + w1 * x1[q];
            } else if (!add && i == 0 && j == 0)
                for (q = 0; q < L; q++)
                    y[q] = b + w0 * x0[q];
            else
                for (q = 0; q < L; q++)
                    y[q] += w0 * x0[q];
        }
}

/* s[k] += sum of g[i] x[i + k xcs] for i < n and k < nk <= 4 (the taps
 * of one row of a phase share the loads of g), in 16 interleaved partial
 * sums each, then 8, then the rest. */
static inline void lc__dw_dots(lc_real *s, const lc_real *g, const lc_real *x, long xcs, int nk,
                               int n)
{
    lc_real part[4][16], p8[4][8];
    int i = 0, k, v;
    for (k = 0; k < 4; k++)
        for (v = 0; v < 16; v++)
            part[k][v] = 0;
    for (k = 0; k < 4; k++)
        for (v = 0; v < 8; v++)
            p8[k][v] = 0;
    if (nk == 4)
        for (; i + 16 <= n; i += 16)
            for (k = 0; k < 4; k++)
                LC__KEEP_LOOP for (v = 0; v < 16; v++)
                    part[k][v] += g[i + v] * x[i + k * xcs + v];
    else if (nk == 3)
        for (; i + 16 <= n; i += 16)
            for (k = 0; k < 3; k++)
                LC__KEEP_LOOP for (v = 0; v < 16; v++)
                    part[k][v] += g[i + v] * x[i + k * xcs + v];
    else
        for (; i + 16 <= n; i += 16)
            for (k = 0; k < nk; k++)
                LC__KEEP_LOOP for (v = 0; v < 16; v++)
                    part[k][v] += g[i + v] * x[i + k * xcs + v];
    if (i + 8 <= n) {
        for (k = 0; k < nk; k++)
            LC__KEEP_LOOP for (v = 0; v < 8; v++)
                p8[k][v] += g[i + v] * x[i + k * xcs + v];
        i += 8;
    }
    for (k = 0; k < nk; k++) {
        lc_real t = 0;
        int r;
        for (v = 0; v < 16; v++)
            t += part[k][v];
        for (v = 0; v < 8; v++)
            t += p8[k][v];
        for (r = i; r < n; r++)
            t += g[r] * x[r + k * xcs];
        s[k] += t;
    }
}

/* The first padded column j (of a phase at column offset b) inside the
 * image, and the end of them: input column j SW + b - PW in [0, W). */
static inline void lc__dw_cols(const lc_conv_dims *d, int Wq, int b, int *lo, int *hi)
{
    int c0 = d->PW - b, last = d->W - 1 + d->PW - b;
    *lo = c0 <= 0 ? 0 : (c0 + d->SW - 1) / d->SW;
    *hi = last < 0 ? 0 : last / d->SW + 1;
    if (*lo > Wq) *lo = Wq;
    if (*hi > Wq) *hi = Wq;
    if (*hi < *lo) *hi = *lo;
}

/* Phase (a, b) of the padded plane x[H, W]: P[i, j] = x[i SH + a - PH, j SW + b - PW], 0 outside. */
static inline void lc__dw_phase(lc_real *P, const lc_real *x, const lc_conv_dims *d, int Hq, int Wq,
                                int a, int b)
{
    int i, j, lo, hi, SW = d->SW;
    lc__dw_cols(d, Wq, b, &lo, &hi);
    if (SW == 1) {   /* one clear of the plane, then the rows: no short clears between them */
        memset(P, 0, sizeof(lc_real) * (size_t)Hq * (size_t)Wq);
        for (i = 0; i < Hq; i++) {
            int ih = i * d->SH + a - d->PH;
            if (ih >= 0 && ih < d->H)
                lc__dw_copy(P + (size_t)i * (size_t)Wq + lo, x + (size_t)ih * (size_t)d->W + lo - d->PW,
                            hi - lo);
        }
        return;
    }
    for (i = 0; i < Hq; i++) {
        int ih = i * d->SH + a - d->PH;
        lc_real *r = P + (size_t)i * (size_t)Wq;
        const lc_real *s;
        if (ih < 0 || ih >= d->H) {
            lc__dw_zero(r, Wq);
            continue;
        }
        s = x + (size_t)ih * (size_t)d->W + (size_t)lo * (size_t)SW + b - d->PW;
        lc__dw_zero(r, lo);
        if (SW == 1)
            lc__dw_copy(r + lo, s, hi - lo);
        else if (SW == 2)
            for (j = 0; j < hi - lo; j++)
                r[lo + j] = s[2 * j];
        else
            for (j = 0; j < hi - lo; j++)
                r[lo + j] = s[(size_t)j * (size_t)SW];
        lc__dw_zero(r + hi, Wq - hi);
    }
}

static inline lc_real *lc__dw_plane_at(lc_real *ph, const lc__dw_job *j, int ki0, int kj0)
{
    const lc_conv_dims *d = j->d;
    int a = ki0 * d->DH % d->SH, b = kj0 * d->DW % d->SW;
    return ph + ((size_t)a * (size_t)d->SW + (size_t)b) * (size_t)j->Hq * (size_t)j->Wq;
}

/* Both column phases of row phase a when SW = 2 (P0, P1): one pass over
 * each input row, de-interleaving it. */
static inline void lc__dw_phase2(lc_real *P0, lc_real *P1, const lc_real *x, const lc_conv_dims *d,
                                 int Hq, int Wq, int a)
{
    int i, k, lo0, hi0, lo1, hi1, lo, hi;
    lc__dw_cols(d, Wq, 0, &lo0, &hi0);
    lc__dw_cols(d, Wq, 1, &lo1, &hi1);
    lo = lo0 > lo1 ? lo0 : lo1, hi = hi0 < hi1 ? hi0 : hi1;
    if (hi < lo) hi = lo;
    for (i = 0; i < Hq; i++) {
        int ih = i * d->SH + a - d->PH;
        lc_real *r0 = P0 + (size_t)i * (size_t)Wq, *r1 = P1 + (size_t)i * (size_t)Wq;
        const lc_real *row = x + (size_t)ih * (size_t)d->W, *s;
        if (ih < 0 || ih >= d->H) {
            lc__dw_zero(r0, Wq);
            lc__dw_zero(r1, Wq);
            continue;
        }
        for (k = 0; k < Wq; k++) {   /* the edges; the middle is overwritten below */
            if (k == lo) k = hi;
            if (k >= Wq) break;
            r0[k] = k >= lo0 && k < hi0 ? row[2 * k - d->PW] : 0;
            r1[k] = k >= lo1 && k < hi1 ? row[2 * k + 1 - d->PW] : 0;
        }
        s = row + 2 * lo - d->PW;
        for (k = 0; k < hi - lo; k++) {
            r0[lo + k] = s[2 * k];
            r1[lo + k] = s[2 * k + 1];
        }
    }
}

/* The phases of plane x that some tap reads. */
static inline void lc__dw_phases(lc_real *ph, const lc_real *x, const lc__dw_job *j)
{
    const lc_conv_dims *d = j->d;
    int ki0, kj0;
    for (ki0 = 0; ki0 < j->nph; ki0++) {
        if (d->SW == 2 && j->npw == 2) {
            lc__dw_phase2(lc__dw_plane_at(ph, j, ki0, 0), lc__dw_plane_at(ph, j, ki0, 1), x, d,
                          j->Hq, j->Wq, ki0 * d->DH % d->SH);
            continue;
        }
        for (kj0 = 0; kj0 < j->npw; kj0++)
            lc__dw_phase(lc__dw_plane_at(ph, j, ki0, kj0), x, d, j->Hq, j->Wq, ki0 * d->DH % d->SH,
                         kj0 * d->DW % d->SW);
    }
}

/* Where the taps ki0 + m sth, kj0 + n stw start in their phase plane. */
static inline long lc__dw_off(const lc__dw_job *j, int ki0, int kj0)
{
    const lc_conv_dims *d = j->d;
    return (long)(ki0 * d->DH / d->SH) * j->Wq + kj0 * d->DW / d->SW;
}

/* ------------------------------------------------------------------------ */

static void lc__dw_forward_task(void *p, int t)
{
    const lc__dw_job *j = (const lc__dw_job *)p;
    const lc_conv_dims *d = j->d;
    int OC = d->OC, M = OC / d->C, KH = d->KH, KW = d->KW, KK = KH * KW, P = d->OH * d->OW;
    int Wq = j->Wq, L = (d->OH - 1) * Wq + d->OW, n, lo, hi, last = -1, ki0, kj0, oh;
    long xrs = (long)(d->DH / lc__gcd(d->DH, d->SH)) * Wq, xcs = d->DW / lc__gcd(d->DW, d->SW);
    lc_real *xph = j->work + (size_t)t * j->slice;
    lc_real *yb = xph + 2 * (size_t)LC_DWCONV_PLANES(d);
    lc__range(j->B * OC, j->parts, t, 1, &lo, &hi);
    for (n = lo; n < hi; n++) {
        int b = n / OC, o = n % OC, c = o / M, plane = b * d->C + c, first = 1;
        const lc_real *wt = j->Wt + (size_t)o * (size_t)KK;
        lc_real *y = j->out + (size_t)n * (size_t)P, *yq = Wq == d->OW ? y : yb;
        if (plane != last) {   /* the filters of one channel share its phases */
            lc__dw_phases(xph, j->inp + (size_t)plane * (size_t)d->H * (size_t)d->W, j);
            last = plane;
        }
        for (ki0 = 0; ki0 < j->nph; ki0++)
            for (kj0 = 0; kj0 < j->npw; kj0++) {
                lc__dw_sweep(yq, L, lc__dw_plane_at(xph, j, ki0, kj0) + lc__dw_off(j, ki0, kj0),
                             wt + ki0 * KW + kj0, (KH - 1 - ki0) / j->sth + 1,
                             (KW - 1 - kj0) / j->stw + 1, xrs, xcs, j->sth * KW, j->stw,
                             j->bias ? j->bias[o] : 0, !first);
                first = 0;
            }
        if (yq != y)
            for (oh = 0; oh < d->OH; oh++)
                lc__dw_copy(y + (size_t)oh * (size_t)d->OW, yb + (size_t)oh * (size_t)Wq, d->OW);
    }
}

static inline int lc__dw_setup(lc__dw_job *j, int B, const lc_conv_dims *d, lc_real *work, int units)
{
    int T = LC__THREADS;
    double flops = (double)B * d->OC * d->OH * d->OW * d->KH * d->KW;
    j->B = B, j->d = d, j->work = work;
    j->Hq = LC_DWCONV_HQ(d), j->Wq = LC_DWCONV_WQ(d), j->margin = (int)LC_DWCONV_MARGIN(d);
    j->sth = d->SH / lc__gcd(d->DH, d->SH), j->stw = d->SW / lc__gcd(d->DW, d->SW);
    j->nph = d->KH < j->sth ? d->KH : j->sth, j->npw = d->KW < j->stw ? d->KW : j->stw;
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

/* dx[H, W] (+)= the phases of the padded input gradient dxph, put back in
 * place (0 where no window reached). */
static inline void lc__dw_unphase(lc_real *dx, const lc_real *dxph, const lc__dw_job *j, int add)
{
    const lc_conv_dims *d = j->d;
    int ih, jj, b, lo, hi, Hq = j->Hq, Wq = j->Wq, W = d->W, SW = d->SW;
    for (ih = 0; ih < d->H; ih++) {
        int a = (ih + d->PH) % d->SH, i = (ih + d->PH) / d->SH;
        lc_real *r = dx + (size_t)ih * (size_t)W;
        if (i >= Hq) {
            if (!add)
                lc__dw_zero(r, W);
            continue;
        }
        if (SW == 1 && !add) {
            const lc_real *s = dxph + ((size_t)a * (size_t)Hq + (size_t)i) * (size_t)Wq;
            lc__dw_cols(d, Wq, 0, &lo, &hi);
            lc__dw_copy(r, s + lo, hi - lo);   /* column lo is input column 0 */
            lc__dw_zero(r + (hi - lo), W - (hi - lo));
            continue;
        }
        if (SW == 2) {   /* both column phases, interleaved in one pass */
            const lc_real *s0 = dxph + ((size_t)a * 2 * (size_t)Hq + (size_t)i) * (size_t)Wq;
            const lc_real *s1 = s0 + (size_t)Hq * (size_t)Wq;
            int lo0, hi0, lo1, hi1, iw, e0, e1;
            lc_real *rr;
            lc__dw_cols(d, Wq, 0, &lo0, &hi0);
            lc__dw_cols(d, Wq, 1, &lo1, &hi1);
            lo = lo0 > lo1 ? lo0 : lo1, hi = hi0 < hi1 ? hi0 : hi1;
            if (hi < lo) hi = lo;
            e0 = 2 * lo - d->PW, e1 = 2 * hi - d->PW;   /* input columns [e0, e1) in the middle */
            if (e0 < 0) e0 = 0;
            if (e1 < e0) e1 = e0;
            for (iw = 0; iw < W; iw++) {   /* the edges */
                int jw = (iw + d->PW) / 2;
                lc_real v;
                if (iw == e0) iw = e1;
                if (iw >= W) break;
                jw = (iw + d->PW) / 2;
                v = jw < Wq ? ((iw + d->PW) % 2 ? s1 : s0)[jw] : 0;
                r[iw] = add ? r[iw] + v : v;
            }
            rr = r + e0;
            if (add)
                for (jj = 0; jj < hi - lo; jj++) {
                    rr[2 * jj] += s0[lo + jj];
                    rr[2 * jj + 1] += s1[lo + jj];
                }
            else
                for (jj = 0; jj < hi - lo; jj++) {
                    rr[2 * jj] = s0[lo + jj];
                    rr[2 * jj + 1] = s1[lo + jj];
                }
            continue;
        }
        if (!add)
            lc__dw_zero(r, W);
        for (b = 0; b < SW; b++) {
            const lc_real *s =
                dxph + (((size_t)a * (size_t)SW + (size_t)b) * (size_t)Hq + (size_t)i) * (size_t)Wq;
            lc_real *rb;
            lc__dw_cols(d, Wq, b, &lo, &hi);
            rb = r + (size_t)lo * (size_t)SW + b - d->PW;
            if (SW == 1)
                for (jj = 0; jj < hi - lo; jj++)
                    rb[jj] += s[lo + jj];
            else
                for (jj = 0; jj < hi - lo; jj++)
                    rb[(size_t)jj * (size_t)SW] += s[lo + jj];
        }
    }
}

static void lc__dw_backward_task(void *p, int t)
{
    const lc__dw_job *j = (const lc__dw_job *)p;
    const lc_conv_dims *d = j->d;
    int C = d->C, OC = d->OC, M = OC / C, KH = d->KH, KW = d->KW, KK = KH * KW;
    int OH = d->OH, OW = d->OW, P = OH * OW, Hq = j->Hq, Wq = j->Wq, HW = Hq * Wq, mg = j->margin;
    int L = (OH - 1) * Wq + OW, all = j->nph * j->npw == d->SH * d->SW;
    long xrs = (long)(d->DH / lc__gcd(d->DH, d->SH)) * Wq, xcs = d->DW / lc__gcd(d->DW, d->SW);
    int b, c, m, oh, ki, kj, ki0, kj0, lo, hi;
    lc_real *xph = j->work + (size_t)t * j->slice;
    lc_real *dxph = xph + (size_t)LC_DWCONV_PLANES(d), *gm = dxph + (size_t)LC_DWCONV_PLANES(d);
    lc_real *g = gm + mg;   /* dy at the pitch Wq, 0 between its rows and around */
    lc__range(C, j->parts, t, 1, &lo, &hi);
    for (c = lo; c < hi; c++)
        for (b = 0; b < j->B; b++) {
            size_t plane = (size_t)b * (size_t)C + (size_t)c;
            if (j->dWt)
                lc__dw_phases(xph, j->inp + plane * (size_t)d->H * (size_t)d->W, j);
            if (j->dinp && !all)   /* phases no tap reads get no gradient */
                memset(dxph, 0, sizeof(lc_real) * (size_t)LC_DWCONV_PLANES(d));
            for (m = 0; m < M; m++) {
                int o = c * M + m;
                const lc_real *dy = j->dout + ((size_t)b * (size_t)OC + (size_t)o) * (size_t)P;
                const lc_real *wt = j->Wt + (size_t)o * (size_t)KK;
                if (j->dbias)
                    j->dbias[o] += lc__dw_sum(dy, P);
                if (!j->dWt && !j->dinp)
                    continue;
                if (Wq == OW) {
                    lc__dw_zero(gm, mg);
                    memcpy(g, dy, sizeof(lc_real) * (size_t)P);
                    lc__dw_zero(g + P, HW - P);
                } else {
                    memset(gm, 0, sizeof(lc_real) * (size_t)(mg + HW));
                    for (oh = 0; oh < OH; oh++)
                        lc__dw_copy(g + (size_t)oh * (size_t)Wq, dy + (size_t)oh * (size_t)OW, OW);
                }
                if (j->dWt)   /* per phase, each row of its taps, up to 4 at a time */
                    for (ki0 = 0; ki0 < j->nph; ki0++)
                        for (kj0 = 0; kj0 < j->npw; kj0++) {
                            const lc_real *xs = lc__dw_plane_at(xph, j, ki0, kj0) + lc__dw_off(j, ki0, kj0);
                            lc_real sums[4];
                            for (ki = ki0; ki < KH; ki += j->sth)
                                for (kj = kj0; kj < KW; kj += 4 * j->stw) {
                                    int nk = (KW - 1 - kj) / j->stw + 1, k;
                                    if (nk > 4) nk = 4;
                                    sums[0] = sums[1] = sums[2] = sums[3] = 0;
                                    lc__dw_dots(sums, g, xs + (ki - ki0) / j->sth * xrs +
                                                (kj - kj0) / j->stw * xcs, xcs, nk, L);
                                    for (k = 0; k < nk; k++)
                                        j->dWt[(size_t)(o * KK + ki * KW + kj + k * j->stw)] += sums[k];
                                }
                        }
                if (j->dinp)   /* each phase: dy gathered through its flipped taps */
                    for (ki0 = 0; ki0 < j->nph; ki0++)
                        for (kj0 = 0; kj0 < j->npw; kj0++)
                            lc__dw_sweep(lc__dw_plane_at(dxph, j, ki0, kj0), HW,
                                         g - lc__dw_off(j, ki0, kj0), wt + ki0 * KW + kj0,
                                         (KH - 1 - ki0) / j->sth + 1, (KW - 1 - kj0) / j->stw + 1,
                                         -xrs, -xcs, j->sth * KW, j->stw, 0, m > 0);
            }
            if (j->dinp)
                lc__dw_unphase(j->dinp + plane * (size_t)d->H * (size_t)d->W, dxph, j, j->add);
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
            memset(dinp, 0, sizeof(lc_real) * (size_t)B * (size_t)d->C * (size_t)d->H * (size_t)d->W);
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
