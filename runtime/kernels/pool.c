/* kernels/pool.c: max and average pooling, over windows and over whole
 * planes (global pooling).  Needs common.c. */
/* ------------------------------------------------------------------------ */
/* Pooling: KH x KW windows, steps SH, SW, no padding, floor mode (a 1-D
 * pool is one of height 1).  The B * C planes are cut into ranges, one task
 * each.                                                                    */

typedef struct {
    lc_real *out, *dinp;
    const lc_real *inp, *dout;
    int planes, H, W, KH, KW, SH, SW, OH, OW, parts, add;
} lc__pool_job;

/* The planes split over the threads when there are enough values. */
static inline void lc__pool_run(lc__pool_job *j, void (*task)(void *, int), int B, int C, int H,
                                int W, int KH, int KW, int SH, int SW)
{
    int T = LC__THREADS;
    j->planes = B * C, j->H = H, j->W = W, j->KH = KH, j->KW = KW, j->SH = SH, j->SW = SW;
    j->OH = H < KH ? 0 : (H - KH) / SH + 1, j->OW = W < KW ? 0 : (W - KW) / SW + 1;
    j->parts = T > 1 && (double)B * C * H * W >= LC_PAR_VALUES ? (T < j->planes ? T : j->planes) : 1;
    if (j->dinp && !j->add && j->planes > 0 && (j->OH <= 0 || j->OW <= 0))
        memset(j->dinp, 0, sizeof(lc_real) * (size_t)j->planes * (size_t)H * (size_t)W);   /* no windows */
    if (j->planes <= 0 || j->OH <= 0 || j->OW <= 0)
        return;
    if (j->parts > 1)
        LC__FOR(j->parts, task, j);
    else
        task(j, 0);
}

/* Runs CHUNK(CH) for ow = 0, CH, 2 CH, ... over n windows (ow and v in
 * scope), CH = 8 (or 4 when n < 8, 1 when n < 4): the last chunk starts at
 * n - CH and overlaps the one before, which is harmless for loops that
 * assign values computed from their inputs alone.  A loop of a constant 8
 * or 4 vectorises whole, where a loop of n = 7 or 14 would run mostly in
 * its scalar epilogue. */
#define LC__CHUNKED(n, CHUNK)                                                         \
    if ((n) >= 8)                                                                     \
        for (ow = 0;; ow += 8) {                                                      \
            if (ow + 8 > (n)) ow = (n) - 8;                                           \
            CHUNK(8)                                                                  \
            if (ow + 8 >= (n)) break;                                                 \
        }                                                                             \
    else if ((n) >= 4)                                                                \
        for (ow = 0;; ow += 4) {                                                      \
            if (ow + 4 > (n)) ow = (n) - 4;                                           \
            CHUNK(4)                                                                  \
            if (ow + 4 >= (n)) break;                                                 \
        }                                                                             \
    else                                                                              \
        for (ow = 0; ow < (n); ow++) {                                                \
            CHUNK(1)                                                                  \
        }

/* v replaces m as the maximum: larger, or NaN (NaN wins, as in PyTorch).
 * LC__MAX2 is that choice as an expression gcc compiles without branches
 * (a max and a blend); LC__TAKES is 0 or 1, from set-on-condition
 * instructions.  The 2 x 2 loops below are written with them: their rows
 * are short (7, 14 windows), so much of the work is in scalar code, where a
 * branch on random data mispredicts half the time (3-10x slower). */
#define LC__TAKES(v, m) (((v) > (m)) | ((v) != (v)))
#define LC__MAX2(m, v) ((v) != (v) ? (v) : (v) > (m) ? (v) : (m))

static void lc__maxpool_forward_task(void *p, int t)
{
    const lc__pool_job *j = (const lc__pool_job *)p;
    int H = j->H, W = j->W, OH = j->OH, OW = j->OW, KH = j->KH, KW = j->KW, SH = j->SH, SW = j->SW;
    int n, oh, ow, i, k, v, lo, hi;
    lc__range(j->planes, j->parts, t, 1, &lo, &hi);
    for (n = lo; n < hi; n++) {
        const lc_real *x = j->inp + (size_t)n * (size_t)H * (size_t)W;
        lc_real *y = j->out + (size_t)n * (size_t)OH * (size_t)OW;
        if (KH == 2 && KW == 2 && SH == 2 && SW == 2) {
            for (oh = 0; oh < OH; oh++) {
                const lc_real *x0 = x + (size_t)2 * (size_t)oh * (size_t)W, *x1 = x0 + W;
                lc_real *yr = y + (size_t)oh * (size_t)OW;
#define LC__MAXPOOL_CHUNK(CH)                                                         \
                LC__KEEP_LOOP for (v = 0; v < CH; v++) {                            \
                    int w = ow + v;                                                   \
                    lc_real m = x0[2 * w], b = x0[2 * w + 1], c = x1[2 * w], d = x1[2 * w + 1]; \
                    m = LC__MAX2(m, b);                                               \
                    m = LC__MAX2(m, c);                                               \
                    yr[w] = LC__MAX2(m, d);                                           \
                }
                LC__CHUNKED(OW, LC__MAXPOOL_CHUNK)
#undef LC__MAXPOOL_CHUNK
            }
            continue;
        }
        for (oh = 0; oh < OH; oh++)
            for (ow = 0; ow < OW; ow++) {
                const lc_real *w = x + (size_t)oh * (size_t)SH * (size_t)W + (size_t)ow * (size_t)SW;
                lc_real m = w[0];
                for (i = 0; i < KH; i++)
                    for (k = 0; k < KW; k++) {
                        lc_real xv = w[i * W + k];
                        if (LC__TAKES(xv, m))
                            m = xv;
                    }
                y[oh * OW + ow] = m;
            }
    }
}

/* out[B, C, OH, OW] = max over the KH x KW window of inp[B, C, H, W],
 * OH = (H - KH) / SH + 1, OW = (W - KW) / SW + 1.  NaN wins, as in PyTorch. */
LC_KERNEL void lc_maxpool_rect_forward(lc_real *out, const lc_real *inp, int B, int C, int H,
                                       int W, int KH, int KW, int SH, int SW)
{
    lc__pool_job j;
    j.out = out, j.inp = inp, j.dinp = NULL, j.add = 1;
    lc__pool_run(&j, lc__maxpool_forward_task, B, C, H, W, KH, KW, SH, SW);
}

/* lc_maxpool_rect_forward with size x size windows, one stride for both sides. */
LC_KERNEL void lc_maxpool_forward(lc_real *out, const lc_real *inp,
                                  int B, int C, int H, int W, int size, int stride)
{
    lc_maxpool_rect_forward(out, inp, B, C, H, W, size, size, stride, stride);
}

static void lc__maxpool_backward_task(void *p, int t)
{
    const lc__pool_job *j = (const lc__pool_job *)p;
    int H = j->H, W = j->W, OH = j->OH, OW = j->OW, KH = j->KH, KW = j->KW, SH = j->SH, SW = j->SW;
    int n, oh, ow, i, k, v, lo, hi;
    lc__range(j->planes, j->parts, t, 1, &lo, &hi);
    for (n = lo; n < hi; n++) {
        const lc_real *x = j->inp + (size_t)n * (size_t)H * (size_t)W;
        const lc_real *dy = j->dout + (size_t)n * (size_t)OH * (size_t)OW;
        lc_real *dx = j->dinp + (size_t)n * (size_t)H * (size_t)W;
        if (KH == 2 && KW == 2 && SH == 2 && SW == 2 && !j->add) {
            /* assigned: the 4 values of each window, then what no window covers */
            for (oh = 0; oh < OH; oh++) {
                const lc_real *x0 = x + (size_t)2 * (size_t)oh * (size_t)W, *x1 = x0 + W;
                lc_real *d0 = dx + (size_t)2 * (size_t)oh * (size_t)W, *d1 = d0 + W;
                const lc_real *g = dy + (size_t)oh * (size_t)OW;
                int finite = 1;
                for (ow = 0; ow < OW; ow++)
                    finite &= g[ow] - g[ow] == 0;
                if (finite) {   /* g times 1 or 0, in vectorised chunks */
#define LC__MAXPOOL_BACK_CHUNK(CH)                                                    \
                    LC__KEEP_LOOP for (v = 0; v < CH; v++) {                        \
                        int w = ow + v;                                               \
                        lc_real a = x0[2 * w], b = x0[2 * w + 1], c = x1[2 * w], d = x1[2 * w + 1]; \
                        lc_real m1 = LC__MAX2(a, b), m2 = LC__MAX2(m1, c), gg = g[w]; \
                        lc_real fb = (lc_real)LC__TAKES(b, a), fc = (lc_real)LC__TAKES(c, m1); \
                        lc_real fd = (lc_real)LC__TAKES(d, m2), nd = 1 - fd;          \
                        d0[2 * w] = (1 - fb) * (1 - fc) * nd * gg;                    \
                        d0[2 * w + 1] = fb * (1 - fc) * nd * gg;                      \
                        d1[2 * w] = fc * nd * gg;                                     \
                        d1[2 * w + 1] = fd * gg;                                      \
                    }
                    LC__CHUNKED(OW, LC__MAXPOOL_BACK_CHUNK)
#undef LC__MAXPOOL_BACK_CHUNK
                } else for (ow = 0; ow < OW; ow++) {
                    lc_real a = x0[2 * ow], b = x0[2 * ow + 1], c = x1[2 * ow], d = x1[2 * ow + 1];
                    lc_real m1 = LC__MAX2(a, b), m2 = LC__MAX2(m1, c), gg = g[ow];
                    int tb = LC__TAKES(b, a), tc = LC__TAKES(c, m1), td = LC__TAKES(d, m2);
                    lc_real fb = (lc_real)tb, fc = (lc_real)tc, fd = (lc_real)td, nd = 1 - fd;
                    if (gg - gg != 0) {
                        int at = td ? 3 : tc ? 2 : tb;
                        d0[2 * ow] = d0[2 * ow + 1] = d1[2 * ow] = d1[2 * ow + 1] = 0;
                        (at < 2 ? d0 : d1)[2 * ow + (at & 1)] = gg;
                        continue;
                    }
                    d0[2 * ow] = (1 - fb) * (1 - fc) * nd * gg;
                    d0[2 * ow + 1] = fb * (1 - fc) * nd * gg;
                    d1[2 * ow] = fc * nd * gg;
                    d1[2 * ow + 1] = fd * gg;
                }
                if (W > 2 * OW) {
                    d0[W - 1] = 0;
                    d1[W - 1] = 0;
                }
            }
            if (H > 2 * OH)
                memset(dx + (size_t)2 * (size_t)OH * (size_t)W, 0, sizeof(lc_real) * (size_t)W);
            continue;
        }
        if (!j->add)   /* assigned, overlapping or odd windows: clear the plane, then add */
            memset(dx, 0, sizeof(lc_real) * (size_t)H * (size_t)W);
        if (KH == 2 && KW == 2 && SH == 2 && SW == 2) {
            /* Windows do not overlap: each of the 4 values gets g times 1 or
             * 0 (exact for finite g: the others get +-0).  A g that is inf
             * or NaN (times 0 = NaN) goes to the maximum alone. */
            for (oh = 0; oh < OH; oh++) {
                const lc_real *x0 = x + (size_t)2 * (size_t)oh * (size_t)W, *x1 = x0 + W;
                lc_real *d0 = dx + (size_t)2 * (size_t)oh * (size_t)W, *d1 = d0 + W;
                const lc_real *g = dy + (size_t)oh * (size_t)OW;
                for (ow = 0; ow < OW; ow++) {
                    lc_real a = x0[2 * ow], b = x0[2 * ow + 1], c = x1[2 * ow], d = x1[2 * ow + 1];
                    lc_real m1 = LC__MAX2(a, b), m2 = LC__MAX2(m1, c), gg = g[ow];
                    int tb = LC__TAKES(b, a), tc = LC__TAKES(c, m1), td = LC__TAKES(d, m2);
                    lc_real fb = (lc_real)tb, fc = (lc_real)tc, fd = (lc_real)td, nd = 1 - fd;
                    if (gg - gg != 0) {
                        int at = td ? 3 : tc ? 2 : tb;
                        (at < 2 ? d0 : d1)[2 * ow + (at & 1)] += gg;
                        continue;
                    }
                    d0[2 * ow] += (1 - fb) * (1 - fc) * nd * gg;
                    d0[2 * ow + 1] += fb * (1 - fc) * nd * gg;
                    d1[2 * ow] += fc * nd * gg;
                    d1[2 * ow + 1] += fd * gg;
                }
            }
            continue;
        }
        for (oh = 0; oh < OH; oh++)
            for (ow = 0; ow < OW; ow++) {
                int base = oh * SH * W + ow * SW, at = base;
                lc_real m = x[base];
                for (i = 0; i < KH; i++)
                    for (k = 0; k < KW; k++) {
                        lc_real xv = x[base + i * W + k];
                        if (LC__TAKES(xv, m)) {
                            m = xv;
                            at = base + i * W + k;
                        }
                    }
                dx[at] += dy[oh * OW + ow];
            }
    }
}

/* The gradient of lc_maxpool_rect_forward: dinp is assigned (add = 0: it
 * need not be cleared first) or added to (add = 1); see lc_maxpool_backward. */
LC_KERNEL void lc_maxpool_rect_backward_into(lc_real *dinp, const lc_real *dout,
                                             const lc_real *inp, int B, int C, int H, int W,
                                             int KH, int KW, int SH, int SW, int add)
{
    lc__pool_job j;
    j.dinp = dinp, j.dout = dout, j.inp = inp, j.add = add;
    lc__pool_run(&j, lc__maxpool_backward_task, B, C, H, W, KH, KW, SH, SW);
}

/* As lc_maxpool_backward, but dinp is assigned (add = 0: it need not be
 * cleared first) or added to (add = 1). */
LC_KERNEL void lc_maxpool_backward_into(lc_real *dinp, const lc_real *dout, const lc_real *inp,
                                        int B, int C, int H, int W, int size, int stride, int add)
{
    lc_maxpool_rect_backward_into(dinp, dout, inp, B, C, H, W, size, size, stride, stride, add);
}

/* dinp[B, C, H, W] += dout[B, C, OH, OW] routed to the window's maximum of
 * inp (the first one in row-major order on ties; the last NaN if any). */
LC_KERNEL void lc_maxpool_backward(lc_real *dinp, const lc_real *dout, const lc_real *inp,
                                   int B, int C, int H, int W, int size, int stride)
{
    lc_maxpool_backward_into(dinp, dout, inp, B, C, H, W, size, stride, 1);
}

static void lc__avgpool_forward_task(void *p, int t)
{
    const lc__pool_job *j = (const lc__pool_job *)p;
    int H = j->H, W = j->W, OH = j->OH, OW = j->OW, KH = j->KH, KW = j->KW, SH = j->SH, SW = j->SW;
    int n, oh, ow, i, k, lo, hi;
    lc_real count = (lc_real)(KH * KW);
    lc__range(j->planes, j->parts, t, 1, &lo, &hi);
    for (n = lo; n < hi; n++) {
        const lc_real *x = j->inp + (size_t)n * (size_t)H * (size_t)W;
        lc_real *y = j->out + (size_t)n * (size_t)OH * (size_t)OW;
        for (oh = 0; oh < OH; oh++)
            for (ow = 0; ow < OW; ow++) {
                const lc_real *w = x + (size_t)oh * (size_t)SH * (size_t)W + (size_t)ow * (size_t)SW;
                lc_real s = 0;
                for (i = 0; i < KH; i++)
                    for (k = 0; k < KW; k++)
                        s += w[i * W + k];
                y[oh * OW + ow] = s / count;
            }
    }
}

/* out[B, C, OH, OW] = mean over the KH x KW window of inp[B, C, H, W]. */
LC_KERNEL void lc_avgpool_rect_forward(lc_real *out, const lc_real *inp, int B, int C, int H,
                                       int W, int KH, int KW, int SH, int SW)
{
    lc__pool_job j;
    j.out = out, j.inp = inp, j.dinp = NULL, j.add = 1;
    lc__pool_run(&j, lc__avgpool_forward_task, B, C, H, W, KH, KW, SH, SW);
}

/* lc_avgpool_rect_forward with size x size windows, one stride for both sides. */
LC_KERNEL void lc_avgpool_forward(lc_real *out, const lc_real *inp,
                                  int B, int C, int H, int W, int size, int stride)
{
    lc_avgpool_rect_forward(out, inp, B, C, H, W, size, size, stride, stride);
}

static void lc__avgpool_backward_task(void *p, int t)
{
    const lc__pool_job *j = (const lc__pool_job *)p;
    int H = j->H, W = j->W, OH = j->OH, OW = j->OW, KH = j->KH, KW = j->KW, SH = j->SH, SW = j->SW;
    int n, oh, ow, i, k, lo, hi;
    lc_real count = (lc_real)(KH * KW);
    lc__range(j->planes, j->parts, t, 1, &lo, &hi);
    for (n = lo; n < hi; n++) {
        const lc_real *dy = j->dout + (size_t)n * (size_t)OH * (size_t)OW;
        lc_real *dx = j->dinp + (size_t)n * (size_t)H * (size_t)W;
        if (!j->add)   /* assigned: clear the plane, then add */
            memset(dx, 0, sizeof(lc_real) * (size_t)H * (size_t)W);
        for (oh = 0; oh < OH; oh++)
            for (ow = 0; ow < OW; ow++) {
                lc_real g = dy[oh * OW + ow] / count;
                lc_real *w = dx + (size_t)oh * (size_t)SH * (size_t)W + (size_t)ow * (size_t)SW;
                for (i = 0; i < KH; i++)
                    for (k = 0; k < KW; k++)
                        w[i * W + k] += g;
            }
    }
}

/* The gradient of lc_avgpool_rect_forward: dinp is assigned (add = 0) or
 * added to (add = 1).  inp is unused (kept for the common argument order). */
LC_KERNEL void lc_avgpool_rect_backward_into(lc_real *dinp, const lc_real *dout,
                                             const lc_real *inp, int B, int C, int H, int W,
                                             int KH, int KW, int SH, int SW, int add)
{
    lc__pool_job j;
    (void)inp;
    j.dinp = dinp, j.dout = dout, j.inp = NULL, j.add = add;
    lc__pool_run(&j, lc__avgpool_backward_task, B, C, H, W, KH, KW, SH, SW);
}

/* As lc_avgpool_backward, but dinp is assigned (add = 0: it need not be
 * cleared first) or added to (add = 1). */
LC_KERNEL void lc_avgpool_backward_into(lc_real *dinp, const lc_real *dout, const lc_real *inp,
                                        int B, int C, int H, int W, int size, int stride, int add)
{
    lc_avgpool_rect_backward_into(dinp, dout, inp, B, C, H, W, size, size, stride, stride, add);
}

/* dinp[B, C, H, W] += dout[B, C, OH, OW] / (size * size) over each window.
 * inp is unused (kept for the common argument order). */
LC_KERNEL void lc_avgpool_backward(lc_real *dinp, const lc_real *dout, const lc_real *inp,
                                   int B, int C, int H, int W, int size, int stride)
{
    lc_avgpool_backward_into(dinp, dout, inp, B, C, H, W, size, stride, 1);
}

/* ------------------------------------------------------------------------ */
/* Global pooling: one value per plane of N values (N = H * W, or the
 * length of a sequence).  The B * C planes are cut into ranges.            */

typedef struct {
    lc_real *out, *dinp;
    const lc_real *inp, *dout;
    int planes, N, parts, add;
} lc__gpool_job;

static inline void lc__gpool_run(lc__gpool_job *j, void (*task)(void *, int), int B, int C, int N)
{
    int T = LC__THREADS;
    j->planes = B * C, j->N = N;
    j->parts = T > 1 && (double)B * C * N >= LC_PAR_VALUES ? (T < j->planes ? T : j->planes) : 1;
    if (j->planes <= 0 || N <= 0)
        return;
    if (j->parts > 1)
        LC__FOR(j->parts, task, j);
    else
        task(j, 0);
}

/* The sum of x[0..n-1], in 8 interleaved partial sums (it vectorises). */
static inline lc_real lc__plane_sum(const lc_real *x, int n)
{
    lc_real part[8], s = 0;
    int i, v;
    for (v = 0; v < 8; v++)
        part[v] = 0;
    for (i = 0; i + 8 <= n; i += 8)
        for (v = 0; v < 8; v++)
            part[v] += x[i + v];
    for (v = 0; v < 8; v++)
        s += part[v];
    for (; i < n; i++)
        s += x[i];
    return s;
}

static void lc__gavg_forward_task(void *p, int t)
{
    const lc__gpool_job *j = (const lc__gpool_job *)p;
    int n, lo, hi;
    lc__range(j->planes, j->parts, t, 1, &lo, &hi);
    for (n = lo; n < hi; n++)
        j->out[n] = lc__plane_sum(j->inp + (size_t)n * (size_t)j->N, j->N) / (lc_real)j->N;
}

/* out[B, C] = the mean of each plane of inp[B, C, N]. */
LC_KERNEL void lc_global_avgpool_forward(lc_real *out, const lc_real *inp, int B, int C, int N)
{
    lc__gpool_job j;
    j.out = out, j.inp = inp;
    lc__gpool_run(&j, lc__gavg_forward_task, B, C, N);
}

static void lc__gavg_backward_task(void *p, int t)
{
    const lc__gpool_job *j = (const lc__gpool_job *)p;
    int n, i, lo, hi, N = j->N;
    lc__range(j->planes, j->parts, t, 1, &lo, &hi);
    for (n = lo; n < hi; n++) {
        lc_real g = j->dout[n] / (lc_real)N, *dx = j->dinp + (size_t)n * (size_t)N;
        if (j->add)
            for (i = 0; i < N; i++)
                dx[i] += g;
        else
            for (i = 0; i < N; i++)
                dx[i] = g;
    }
}

/* dinp[B, C, N] = (add = 0) or += (add = 1) dout[B, C] / N. */
LC_KERNEL void lc_global_avgpool_backward_into(lc_real *dinp, const lc_real *dout, int B, int C,
                                               int N, int add)
{
    lc__gpool_job j;
    j.dinp = dinp, j.dout = dout, j.add = add;
    lc__gpool_run(&j, lc__gavg_backward_task, B, C, N);
}

static void lc__gmax_forward_task(void *p, int t)
{
    const lc__gpool_job *j = (const lc__gpool_job *)p;
    int n, i, lo, hi, N = j->N;
    lc__range(j->planes, j->parts, t, 1, &lo, &hi);
    for (n = lo; n < hi; n++) {
        const lc_real *x = j->inp + (size_t)n * (size_t)N;
        lc_real m = x[0];
        for (i = 1; i < N; i++)
            m = LC__MAX2(m, x[i]);
        j->out[n] = m;
    }
}

/* out[B, C] = the largest value of each plane of inp[B, C, N] (NaN wins). */
LC_KERNEL void lc_global_maxpool_forward(lc_real *out, const lc_real *inp, int B, int C, int N)
{
    lc__gpool_job j;
    j.out = out, j.inp = inp;
    lc__gpool_run(&j, lc__gmax_forward_task, B, C, N);
}

static void lc__gmax_backward_task(void *p, int t)
{
    const lc__gpool_job *j = (const lc__gpool_job *)p;
    int n, i, lo, hi, N = j->N;
    lc__range(j->planes, j->parts, t, 1, &lo, &hi);
    for (n = lo; n < hi; n++) {
        const lc_real *x = j->inp + (size_t)n * (size_t)N;
        lc_real *dx = j->dinp + (size_t)n * (size_t)N, m = x[0];
        int at = 0;
        for (i = 1; i < N; i++)
            if (LC__TAKES(x[i], m)) {
                m = x[i];
                at = i;
            }
        if (!j->add)
            memset(dx, 0, sizeof(lc_real) * (size_t)N);
        dx[at] += j->dout[n];
    }
}

/* dinp[B, C, N] (add = 0: assigned, 1: added to) gets dout[B, C] at each
 * plane's maximum (the first one on ties, the last NaN if any, as
 * torch.nn.AdaptiveMaxPool2d's CPU kernel), 0 elsewhere. */
LC_KERNEL void lc_global_maxpool_backward_into(lc_real *dinp, const lc_real *dout,
                                               const lc_real *inp, int B, int C, int N, int add)
{
    lc__gpool_job j;
    j.dinp = dinp, j.dout = dout, j.inp = inp, j.add = add;
    lc__gpool_run(&j, lc__gmax_backward_task, B, C, N);
}
