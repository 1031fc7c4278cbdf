/* kernels/pool.c: max and average pooling.  Needs common.c. */
/* ------------------------------------------------------------------------ */
/* Pooling: size x size windows, step `stride`, no padding, floor mode.
 * The B * C planes are cut into ranges, one task each.                     */

typedef struct {
    lc_real *out, *dinp;
    const lc_real *inp, *dout;
    int planes, H, W, size, stride, OH, OW, parts, add;
} lc__pool_job;

/* The planes split over the threads when there are enough values. */
static inline void lc__pool_run(lc__pool_job *j, void (*task)(void *, int), int B, int C, int H,
                                int W, int size, int stride)
{
    int T = LC__THREADS;
    j->planes = B * C, j->H = H, j->W = W, j->size = size, j->stride = stride;
    j->OH = (H - size) / stride + 1, j->OW = (W - size) / stride + 1;
    j->parts = T > 1 && (double)B * C * H * W >= LC_PAR_VALUES ? (T < j->planes ? T : j->planes) : 1;
    if (j->dinp && !j->add && j->planes > 0 && (j->OH <= 0 || j->OW <= 0))
        memset(j->dinp, 0, sizeof(lc_real) * (size_t)j->planes * H * W);   /* no windows */
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
    int H = j->H, W = j->W, OH = j->OH, OW = j->OW, size = j->size, stride = j->stride;
    int n, oh, ow, i, k, v, lo, hi;
    lc__range(j->planes, j->parts, t, 1, &lo, &hi);
    for (n = lo; n < hi; n++) {
        const lc_real *x = j->inp + (size_t)n * H * W;
        lc_real *y = j->out + (size_t)n * OH * OW;
        if (size == 2 && stride == 2) {
            for (oh = 0; oh < OH; oh++) {
                const lc_real *x0 = x + (size_t)2 * oh * W, *x1 = x0 + W;
                lc_real *yr = y + (size_t)oh * OW;
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
                const lc_real *w = x + (size_t)oh * stride * W + (size_t)ow * stride;
                lc_real m = w[0];
                for (i = 0; i < size; i++)
                    for (k = 0; k < size; k++) {
                        lc_real v = w[i * W + k];
                        if (LC__TAKES(v, m))
                            m = v;
                    }
                y[oh * OW + ow] = m;
            }
    }
}

/* out[B, C, OH, OW] = max over the window of inp[B, C, H, W],
 * OH = (H - size) / stride + 1.  NaN wins, as in PyTorch. */
LC_KERNEL void lc_maxpool_forward(lc_real *out, const lc_real *inp,
                                  int B, int C, int H, int W, int size, int stride)
{
    lc__pool_job j;
    j.out = out, j.inp = inp, j.dinp = NULL, j.add = 1;
    lc__pool_run(&j, lc__maxpool_forward_task, B, C, H, W, size, stride);
}

static void lc__maxpool_backward_task(void *p, int t)
{
    const lc__pool_job *j = (const lc__pool_job *)p;
    int H = j->H, W = j->W, OH = j->OH, OW = j->OW, size = j->size, stride = j->stride;
    int n, oh, ow, i, k, v, lo, hi;
    lc__range(j->planes, j->parts, t, 1, &lo, &hi);
    for (n = lo; n < hi; n++) {
        const lc_real *x = j->inp + (size_t)n * H * W;
        const lc_real *dy = j->dout + (size_t)n * OH * OW;
        lc_real *dx = j->dinp + (size_t)n * H * W;
        if (size == 2 && stride == 2 && !j->add) {
            /* assigned: the 4 values of each window, then what no window covers */
            for (oh = 0; oh < OH; oh++) {
                const lc_real *x0 = x + (size_t)2 * oh * W, *x1 = x0 + W;
                lc_real *d0 = dx + (size_t)2 * oh * W, *d1 = d0 + W;
                const lc_real *g = dy + (size_t)oh * OW;
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
                memset(dx + (size_t)2 * OH * W, 0, sizeof(lc_real) * (size_t)W);
            continue;
        }
        if (!j->add)   /* assigned, overlapping or odd windows: clear the plane, then add */
            memset(dx, 0, sizeof(lc_real) * (size_t)H * W);
        if (size == 2 && stride == 2) {
            /* Windows do not overlap: each of the 4 values gets g times 1 or
             * 0 (exact for finite g: the others get +-0).  A g that is inf
             * or NaN (times 0 = NaN) goes to the maximum alone. */
            for (oh = 0; oh < OH; oh++) {
                const lc_real *x0 = x + (size_t)2 * oh * W, *x1 = x0 + W;
                lc_real *d0 = dx + (size_t)2 * oh * W, *d1 = d0 + W;
                const lc_real *g = dy + (size_t)oh * OW;
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
                int base = oh * stride * W + ow * stride, at = base;
                lc_real m = x[base];
                for (i = 0; i < size; i++)
                    for (k = 0; k < size; k++) {
                        lc_real v = x[base + i * W + k];
                        if (LC__TAKES(v, m)) {
                            m = v;
                            at = base + i * W + k;
                        }
                    }
                dx[at] += dy[oh * OW + ow];
            }
    }
}

/* As lc_maxpool_backward, but dinp is assigned (add = 0: it need not be
 * cleared first) or added to (add = 1). */
LC_KERNEL void lc_maxpool_backward_into(lc_real *dinp, const lc_real *dout, const lc_real *inp,
                                        int B, int C, int H, int W, int size, int stride, int add)
{
    lc__pool_job j;
    j.dinp = dinp, j.dout = dout, j.inp = inp, j.add = add;
    lc__pool_run(&j, lc__maxpool_backward_task, B, C, H, W, size, stride);
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
    int H = j->H, W = j->W, OH = j->OH, OW = j->OW, size = j->size, stride = j->stride;
    int n, oh, ow, i, k, lo, hi;
    lc_real count = (lc_real)(size * size);
    lc__range(j->planes, j->parts, t, 1, &lo, &hi);
    for (n = lo; n < hi; n++) {
        const lc_real *x = j->inp + (size_t)n * H * W;
        lc_real *y = j->out + (size_t)n * OH * OW;
        for (oh = 0; oh < OH; oh++)
            for (ow = 0; ow < OW; ow++) {
                const lc_real *w = x + (size_t)oh * stride * W + (size_t)ow * stride;
                lc_real s = 0;
                for (i = 0; i < size; i++)
                    for (k = 0; k < size; k++)
                        s += w[i * W + k];
                y[oh * OW + ow] = s / count;
            }
    }
}

/* out[B, C, OH, OW] = mean over the window of inp[B, C, H, W]. */
LC_KERNEL void lc_avgpool_forward(lc_real *out, const lc_real *inp,
                                  int B, int C, int H, int W, int size, int stride)
{
    lc__pool_job j;
    j.out = out, j.inp = inp, j.dinp = NULL, j.add = 1;
    lc__pool_run(&j, lc__avgpool_forward_task, B, C, H, W, size, stride);
}

static void lc__avgpool_backward_task(void *p, int t)
{
    const lc__pool_job *j = (const lc__pool_job *)p;
    int H = j->H, W = j->W, OH = j->OH, OW = j->OW, size = j->size, stride = j->stride;
    int n, oh, ow, i, k, lo, hi;
    lc_real count = (lc_real)(size * size);
    lc__range(j->planes, j->parts, t, 1, &lo, &hi);
    for (n = lo; n < hi; n++) {
        const lc_real *dy = j->dout + (size_t)n * OH * OW;
        lc_real *dx = j->dinp + (size_t)n * H * W;
        if (!j->add)   /* assigned: clear the plane, then add */
            memset(dx, 0, sizeof(lc_real) * (size_t)H * W);
        for (oh = 0; oh < OH; oh++)
            for (ow = 0; ow < OW; ow++) {
                lc_real g = dy[oh * OW + ow] / count;
                lc_real *w = dx + (size_t)oh * stride * W + (size_t)ow * stride;
                for (i = 0; i < size; i++)
                    for (k = 0; k < size; k++)
                        w[i * W + k] += g;
            }
    }
}

/* As lc_avgpool_backward, but dinp is assigned (add = 0: it need not be
 * cleared first) or added to (add = 1). */
LC_KERNEL void lc_avgpool_backward_into(lc_real *dinp, const lc_real *dout, const lc_real *inp,
                                        int B, int C, int H, int W, int size, int stride, int add)
{
    lc__pool_job j;
    (void)inp;
    j.dinp = dinp, j.dout = dout, j.inp = NULL, j.add = add;
    lc__pool_run(&j, lc__avgpool_backward_task, B, C, H, W, size, stride);
}

/* dinp[B, C, H, W] += dout[B, C, OH, OW] / (size * size) over each window.
 * inp is unused (kept for the common argument order). */
LC_KERNEL void lc_avgpool_backward(lc_real *dinp, const lc_real *dout, const lc_real *inp,
                                   int B, int C, int H, int W, int size, int stride)
{
    lc_avgpool_backward_into(dinp, dout, inp, B, C, H, W, size, stride, 1);
}
