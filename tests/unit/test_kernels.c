/* test_kernels.c: runtime/kernels.c (float, as compiled into layerc)
 * against naive double-precision references, on many shapes: odd sizes,
 * B = 1, sizes around the tile sizes, accumulation into pre-filled
 * gradients, NULL gradients, every convolution and pooling variant.
 * Finite-difference checks of the backward passes are in
 * test_kernels_double.c (the same source compiled with lc_real = double). */
#include <stdlib.h>

#include "kernels.h"
#include "test.h"
#define TEST_SEED 42
#include "test_random.h"

/* ---- data ---------------------------------------------------------------- */

static double *zerod(size_t n)
{
    return calloc(n ? n : 1, sizeof(double));
}

static float *copyv(const float *v, size_t n)
{
    float *c = malloc((n ? n : 1) * sizeof *c);
    memcpy(c, v, n * sizeof *c);
    return c;
}

/* got[i] is within rounding of want[i] = base[i] + ref[i], where absref[i]
 * is the sum of the magnitudes of the terms in ref[i] (base may be NULL).
 * Prints the first mismatch; returns 1 when all match. */
static int close_to(const char *what, const float *got, const float *base,
                    const double *ref, const double *absref, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++) {
        double b = base ? base[i] : 0, want = b + ref[i];
        double tol = 1e-5 * (fabs(b) + absref[i]) + 1e-6;
        if (!(fabs(got[i] - want) <= tol)) {
            fprintf(stderr, "  %s[%zu] = %.9g, want %.9g (tol %.3g)\n", what, i,
                    (double)got[i], want, tol);
            return 0;
        }
    }
    return 1;
}

/* ---- linear layer ------------------------------------------------------- */

static void ref_matmul(double *out, double *aout, const float *inp, const float *W,
                       const float *bias, int B, int C, int OC)
{
    int b, o, c;
    for (b = 0; b < B; b++)
        for (o = 0; o < OC; o++) {
            double s = bias ? bias[o] : 0, a = bias ? fabs(bias[o]) : 0;
            for (c = 0; c < C; c++) {
                double t = (double)inp[b * C + c] * W[o * C + c];
                s += t;
                a += fabs(t);
            }
            out[b * OC + o] = s;
            aout[b * OC + o] = a;
        }
}

static void ref_matmul_back(double *dinp, double *adinp, double *dW, double *adW,
                            double *db, double *adb, const float *dout,
                            const float *inp, const float *W, int B, int C, int OC)
{
    int b, o, c;
    for (b = 0; b < B; b++)
        for (o = 0; o < OC; o++) {
            double d = dout[b * OC + o];
            db[o] += d;
            adb[o] += fabs(d);
            for (c = 0; c < C; c++) {
                dinp[b * C + c] += d * W[o * C + c];
                adinp[b * C + c] += fabs(d * W[o * C + c]);
                dW[o * C + c] += d * inp[b * C + c];
                adW[o * C + c] += fabs(d * inp[b * C + c]);
            }
        }
}

/* One shape: forward with and without bias, backward into pre-filled
 * gradients, then each gradient alone (the others NULL). */
static int check_matmul(int B, int C, int OC)
{
    size_t nin = (size_t)B * C, nw = (size_t)OC * C, nout = (size_t)B * OC;
    float *inp = randv(nin), *W = randv(nw), *bias = randv(OC), *dout = randv(nout);
    float *out = randv(nout);
    float *dinp0 = randv(nin), *dW0 = randv(nw), *db0 = randv(OC);
    float *dinp = copyv(dinp0, nin), *dW = copyv(dW0, nw), *db = copyv(db0, OC);
    double *r = zerod(nout), *ar = zerod(nout);
    double *rdi = zerod(nin), *ardi = zerod(nin), *rdw = zerod(nw), *ardw = zerod(nw);
    double *rdb = zerod(OC), *ardb = zerod(OC);
    char what[64];
    int ok = 1;

    ref_matmul(r, ar, inp, W, bias, B, C, OC);
    lc_matmul_forward(out, inp, W, bias, B, C, OC);
    snprintf(what, sizeof what, "matmul %dx%dx%d out", B, C, OC);
    ok &= close_to(what, out, NULL, r, ar, nout);

    ref_matmul(r, ar, inp, W, NULL, B, C, OC);
    lc_matmul_forward(out, inp, W, NULL, B, C, OC);
    snprintf(what, sizeof what, "matmul %dx%dx%d out (no bias)", B, C, OC);
    ok &= close_to(what, out, NULL, r, ar, nout);

    ref_matmul_back(rdi, ardi, rdw, ardw, rdb, ardb, dout, inp, W, B, C, OC);
    lc_matmul_backward(dinp, dW, db, dout, inp, W, B, C, OC);
    snprintf(what, sizeof what, "matmul %dx%dx%d dinp", B, C, OC);
    ok &= close_to(what, dinp, dinp0, rdi, ardi, nin);
    snprintf(what, sizeof what, "matmul %dx%dx%d dW", B, C, OC);
    ok &= close_to(what, dW, dW0, rdw, ardw, nw);
    snprintf(what, sizeof what, "matmul %dx%dx%d dbias", B, C, OC);
    ok &= close_to(what, db, db0, rdb, ardb, OC);

    /* one gradient at a time */
    memcpy(dinp, dinp0, nin * sizeof *dinp);
    lc_matmul_backward(dinp, NULL, NULL, dout, inp, W, B, C, OC);
    ok &= close_to("matmul dinp alone", dinp, dinp0, rdi, ardi, nin);
    memcpy(dW, dW0, nw * sizeof *dW);
    lc_matmul_backward(NULL, dW, NULL, dout, inp, W, B, C, OC);
    ok &= close_to("matmul dW alone", dW, dW0, rdw, ardw, nw);
    memcpy(db, db0, OC * sizeof *db);
    lc_matmul_backward(NULL, NULL, db, dout, inp, W, B, C, OC);
    ok &= close_to("matmul dbias alone", db, db0, rdb, ardb, OC);
    lc_matmul_backward(NULL, NULL, NULL, dout, inp, W, B, C, OC);

    free(inp); free(W); free(bias); free(dout); free(out);
    free(dinp0); free(dW0); free(db0); free(dinp); free(dW); free(db);
    free(r); free(ar); free(rdi); free(ardi); free(rdw); free(ardw); free(rdb); free(ardb);
    return ok;
}

TEST(matmul_small_and_odd_shapes)
{
    static const int sizes[] = { 1, 2, 3, 7, 8, 9, 17, 31, 32, 33, 65 };
    int n = sizeof sizes / sizeof sizes[0], i, j, k;
    for (i = 0; i < n; i++)
        for (j = 0; j < n; j += 2)
            for (k = 0; k < n; k += 3)
                CHECK(check_matmul(sizes[i], sizes[j], sizes[k]));
}

TEST(matmul_k_blocking_and_tiles)
{
    /* C past the K block (256), B and OC around the 8 x 32 tile, both
     * orders of B and OC (the forward packs the smaller operand). */
    CHECK(check_matmul(1, 784, 256));
    CHECK(check_matmul(5, 513, 65));
    CHECK(check_matmul(9, 300, 97));
    CHECK(check_matmul(70, 257, 40));
    CHECK(check_matmul(129, 100, 3));
    CHECK(check_matmul(3, 1000, 1));
    CHECK(check_matmul(100, 1, 100));
}

TEST(matmul_mlp_shapes)
{
    CHECK(check_matmul(64, 784, 256));
    CHECK(check_matmul(64, 256, 128));
    CHECK(check_matmul(64, 128, 10));
}

TEST(matmul_exact_small)
{
    /* samples/shape.lyr: w2 = [1/200, -3000/11600000, 1/5800] */
    float food[9] = { 100, 2000, 100, 200, 0, 0, 0, 2000, 3000 };
    float w2[3] = { 1.0f / 200, -3000.0f / 11600000, 1.0f / 5800 }, out[3];
    float dout[3] = { 0, -1, 1 }, dw[3] = { 1, 1, 1 }, dx[9] = { 0 };
    lc_matmul_forward(out, food, w2, NULL, 3, 3, 1);
    CHECK_NEAR(out[0], 0, 1e-5);
    CHECK_NEAR(out[1], 1, 1e-5);
    CHECK_NEAR(out[2], 0, 1e-5);
    lc_matmul_backward(dx, dw, NULL, dout, food, w2, 3, 3, 1);
    CHECK_NEAR(dw[0], 1 - 200, 1e-3);
    CHECK_NEAR(dw[1], 1 + 2000, 1e-3);
    CHECK_NEAR(dw[2], 1 + 3000, 1e-3);
    CHECK_NEAR(dx[3], -w2[0], 1e-9);
    CHECK_NEAR(dx[8], w2[2], 1e-9);
    CHECK(dx[0] == 0 && dx[1] == 0 && dx[2] == 0);
}

/* ---- convolution -------------------------------------------------------- */

struct conv { int B, C, H, W, OC, K, stride, pad; };

static void ref_conv(const struct conv *s, double *out, double *aout, const float *x,
                     const float *w, const float *bias, int OH, int OW)
{
    int b, o, c, oh, ow, ki, kj;
    for (b = 0; b < s->B; b++)
        for (o = 0; o < s->OC; o++)
            for (oh = 0; oh < OH; oh++)
                for (ow = 0; ow < OW; ow++) {
                    double sum = bias ? bias[o] : 0, a = bias ? fabs(bias[o]) : 0;
                    for (c = 0; c < s->C; c++)
                        for (ki = 0; ki < s->K; ki++)
                            for (kj = 0; kj < s->K; kj++) {
                                int ih = oh * s->stride - s->pad + ki;
                                int iw = ow * s->stride - s->pad + kj;
                                double t;
                                if (ih < 0 || ih >= s->H || iw < 0 || iw >= s->W)
                                    continue;
                                t = (double)w[((o * s->C + c) * s->K + ki) * s->K + kj] *
                                    x[((b * s->C + c) * s->H + ih) * s->W + iw];
                                sum += t;
                                a += fabs(t);
                            }
                    out[((b * s->OC + o) * OH + oh) * OW + ow] = sum;
                    aout[((b * s->OC + o) * OH + oh) * OW + ow] = a;
                }
}

static void ref_conv_back(const struct conv *s, double *dx, double *adx, double *dw,
                          double *adw, double *db, double *adb, const float *dy,
                          const float *x, const float *w, int OH, int OW)
{
    int b, o, c, oh, ow, ki, kj;
    for (b = 0; b < s->B; b++)
        for (o = 0; o < s->OC; o++)
            for (oh = 0; oh < OH; oh++)
                for (ow = 0; ow < OW; ow++) {
                    double g = dy[((b * s->OC + o) * OH + oh) * OW + ow];
                    db[o] += g;
                    adb[o] += fabs(g);
                    for (c = 0; c < s->C; c++)
                        for (ki = 0; ki < s->K; ki++)
                            for (kj = 0; kj < s->K; kj++) {
                                int ih = oh * s->stride - s->pad + ki;
                                int iw = ow * s->stride - s->pad + kj;
                                size_t xi = ((size_t)(b * s->C + c) * s->H + ih) * s->W + iw;
                                size_t wi = ((size_t)(o * s->C + c) * s->K + ki) * s->K + kj;
                                if (ih < 0 || ih >= s->H || iw < 0 || iw >= s->W)
                                    continue;
                                dx[xi] += g * w[wi];
                                adx[xi] += fabs(g * w[wi]);
                                dw[wi] += g * x[xi];
                                adw[wi] += fabs(g * x[xi]);
                            }
                }
}

/* A work buffer of exactly LC_CONV2D_WORK values, full of NaN so that a
 * value read before it is written shows in the results. */
static float *nan_work(size_t n)
{
    float *w = malloc((n ? n : 1) * sizeof *w);
    size_t i;
    for (i = 0; i < n; i++)
        w[i] = (float)NAN;
    return w;
}

static int check_conv(struct conv s)
{
    int OH = LC_CONV_OUT(s.H, s.K, s.stride, s.pad), OW = LC_CONV_OUT(s.W, s.K, s.stride, s.pad);
    size_t nx = (size_t)s.B * s.C * s.H * s.W, nw = (size_t)s.OC * s.C * s.K * s.K;
    size_t ny = (size_t)s.B * s.OC * OH * OW, nwork = LC_CONV2D_WORK(s.C, s.K, OH, OW);
    float *x = randv(nx), *w = randv(nw), *bias = randv(s.OC), *dy = randv(ny), *y = randv(ny);
    float *dx0 = randv(nx), *dw0 = randv(nw), *db0 = randv(s.OC);
    float *dx = copyv(dx0, nx), *dw = copyv(dw0, nw), *db = copyv(db0, s.OC);
    float *work = nan_work(nwork);
    double *r = zerod(ny), *ar = zerod(ny), *rdx = zerod(nx), *ardx = zerod(nx);
    double *rdw = zerod(nw), *ardw = zerod(nw), *rdb = zerod(s.OC), *ardb = zerod(s.OC);
    char what[128];
    int ok = 1;

    snprintf(what, sizeof what, "conv B%d C%d %dx%d OC%d K%d s%d p%d", s.B, s.C, s.H, s.W,
             s.OC, s.K, s.stride, s.pad);
    ref_conv(&s, r, ar, x, w, bias, OH, OW);
    lc_conv2d_forward(y, x, w, bias, work, s.B, s.C, s.H, s.W, s.OC, s.K, s.stride, s.pad);
    if (!close_to(what, y, NULL, r, ar, ny)) { fprintf(stderr, "  (out)\n"); ok = 0; }

    ref_conv(&s, r, ar, x, w, NULL, OH, OW);
    lc_conv2d_forward(y, x, w, NULL, work, s.B, s.C, s.H, s.W, s.OC, s.K, s.stride, s.pad);
    if (!close_to(what, y, NULL, r, ar, ny)) { fprintf(stderr, "  (out, no bias)\n"); ok = 0; }

    ref_conv_back(&s, rdx, ardx, rdw, ardw, rdb, ardb, dy, x, w, OH, OW);
    free(work);
    work = nan_work(nwork);
    lc_conv2d_backward(dx, dw, db, dy, x, w, work, s.B, s.C, s.H, s.W, s.OC, s.K, s.stride, s.pad);
    if (!close_to(what, dx, dx0, rdx, ardx, nx)) { fprintf(stderr, "  (dinp)\n"); ok = 0; }
    if (!close_to(what, dw, dw0, rdw, ardw, nw)) { fprintf(stderr, "  (dW)\n"); ok = 0; }
    if (!close_to(what, db, db0, rdb, ardb, s.OC)) { fprintf(stderr, "  (dbias)\n"); ok = 0; }

    /* one gradient at a time */
    memcpy(dx, dx0, nx * sizeof *dx);
    lc_conv2d_backward(dx, NULL, NULL, dy, x, w, work, s.B, s.C, s.H, s.W, s.OC, s.K, s.stride, s.pad);
    if (!close_to(what, dx, dx0, rdx, ardx, nx)) { fprintf(stderr, "  (dinp alone)\n"); ok = 0; }
    memcpy(dw, dw0, nw * sizeof *dw);
    lc_conv2d_backward(NULL, dw, NULL, dy, x, w, work, s.B, s.C, s.H, s.W, s.OC, s.K, s.stride, s.pad);
    if (!close_to(what, dw, dw0, rdw, ardw, nw)) { fprintf(stderr, "  (dW alone)\n"); ok = 0; }
    memcpy(db, db0, s.OC * sizeof *db);
    lc_conv2d_backward(NULL, NULL, db, dy, x, w, work, s.B, s.C, s.H, s.W, s.OC, s.K, s.stride, s.pad);
    if (!close_to(what, db, db0, rdb, ardb, s.OC)) { fprintf(stderr, "  (dbias alone)\n"); ok = 0; }
    lc_conv2d_backward(NULL, NULL, NULL, dy, x, w, work, s.B, s.C, s.H, s.W, s.OC, s.K, s.stride, s.pad);

    free(x); free(w); free(bias); free(dy); free(y); free(dx0); free(dw0); free(db0);
    free(dx); free(dw); free(db); free(work);
    free(r); free(ar); free(rdx); free(ardx); free(rdw); free(ardw); free(rdb); free(ardb);
    return ok;
}

TEST(conv_strides_pads_kernels)
{
    static const int Ks[] = { 1, 2, 3, 5 };
    int ki, stride, pad;
    for (ki = 0; ki < 4; ki++)
        for (stride = 1; stride <= 3; stride++)
            for (pad = 0; pad <= 2; pad++) {
                struct conv s = { 2, 3, 9, 7, 5, Ks[ki], stride, pad };
                CHECK(check_conv(s));
            }
}

TEST(conv_shapes)
{
    static const struct conv cases[] = {
        { 1, 1, 1, 1, 1, 1, 1, 0 },      /* 1x1 everything */
        { 1, 1, 5, 5, 1, 5, 1, 0 },      /* kernel = image */
        { 3, 1, 2, 3, 4, 3, 1, 1 },      /* image smaller than kernel */
        { 1, 2, 1, 9, 3, 3, 1, 1 },      /* one row */
        { 2, 3, 6, 11, 17, 3, 1, 1 },    /* "same", non-square */
        { 2, 4, 13, 8, 33, 3, 2, 1 },    /* stride 2, OC past a tile */
        { 2, 1, 28, 28, 8, 3, 1, 1 },    /* Fashion CNN conv1 */
        { 2, 8, 14, 14, 16, 3, 1, 1 },   /* Fashion CNN conv2 */
        { 1, 3, 17, 31, 9, 5, 1, 2 },    /* "same" 5x5 */
        { 1, 2, 16, 16, 7, 4, 3, 2 },
        { 2, 17, 5, 6, 3, 2, 1, 0 },     /* many channels */
        { 1, 40, 6, 6, 65, 3, 1, 1 },    /* R = 360 > the K block */
        { 1, 1, 50, 40, 2, 3, 2, 0 },    /* P = 19 x 24 */
        { 3, 2, 7, 7, 1, 7, 2, 3 },
    };
    size_t i;
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++)
        CHECK(check_conv(cases[i]));
}

/* ---- pooling ------------------------------------------------------------ */

/* Index in its plane of the maximum of the window at (oh, ow): the first in
 * row-major order, or the last NaN (PyTorch's CPU rule). */
static int ref_argmax(const float *x, int W, int size, int stride, int oh, int ow)
{
    int i, j, at = oh * stride * W + ow * stride;
    double m = -INFINITY;
    for (i = 0; i < size; i++)
        for (j = 0; j < size; j++) {
            int k = (oh * stride + i) * W + ow * stride + j;
            if (x[k] > m || isnan(x[k])) {
                m = x[k];
                at = k;
            }
        }
    return at;
}

static int check_pool(int B, int C, int H, int W, int size, int stride, const float *xin)
{
    int OH = (H - size) / stride + 1, OW = (W - size) / stride + 1, n, oh, ow, i, j;
    size_t nx = (size_t)B * C * H * W, ny = (size_t)B * C * OH * OW;
    float *x = xin ? copyv(xin, nx) : randv(nx), *y = randv(ny), *dy = randv(ny);
    float *dx0 = randv(nx), *dx = copyv(dx0, nx);
    double *r = zerod(ny), *ar = zerod(ny), *rdx = zerod(nx), *ardx = zerod(nx);
    int ok = 1;

    /* max */
    for (n = 0; n < B * C; n++)
        for (oh = 0; oh < OH; oh++)
            for (ow = 0; ow < OW; ow++) {
                int at = ref_argmax(x + (size_t)n * H * W, W, size, stride, oh, ow);
                size_t o = ((size_t)n * OH + oh) * OW + ow;
                r[o] = x[(size_t)n * H * W + at];
                rdx[(size_t)n * H * W + at] += dy[o];
                ardx[(size_t)n * H * W + at] += fabs(dy[o]);
            }
    lc_maxpool_forward(y, x, B, C, H, W, size, stride);
    for (i = 0; i < (int)ny; i++)
        if (!(y[i] == r[i] || (isnan(y[i]) && isnan(r[i])))) {
            fprintf(stderr, "  maxpool %dx%d size %d stride %d: out[%d] = %g, want %g\n",
                    H, W, size, stride, i, y[i], r[i]);
            ok = 0;
            break;
        }
    lc_maxpool_backward(dx, dy, x, B, C, H, W, size, stride);
    ok &= close_to("maxpool dinp", dx, dx0, rdx, ardx, nx);

    /* average */
    memset(rdx, 0, nx * sizeof *rdx);
    memset(ardx, 0, nx * sizeof *ardx);
    for (n = 0; n < B * C; n++)
        for (oh = 0; oh < OH; oh++)
            for (ow = 0; ow < OW; ow++) {
                size_t o = ((size_t)n * OH + oh) * OW + ow;
                double s = 0, a = 0;
                for (i = 0; i < size; i++)
                    for (j = 0; j < size; j++) {
                        size_t k = (size_t)n * H * W + (size_t)(oh * stride + i) * W + ow * stride + j;
                        s += x[k];
                        a += fabs(x[k]);
                        rdx[k] += (double)dy[o] / (size * size);
                        ardx[k] += fabs(dy[o]) / (size * size);
                    }
                r[o] = s / (size * size);
                ar[o] = a / (size * size);
            }
    if (!xin) {
        lc_avgpool_forward(y, x, B, C, H, W, size, stride);
        ok &= close_to("avgpool out", y, NULL, r, ar, ny);
        memcpy(dx, dx0, nx * sizeof *dx);
        lc_avgpool_backward(dx, dy, x, B, C, H, W, size, stride);
        ok &= close_to("avgpool dinp", dx, dx0, rdx, ardx, nx);
    }

    free(x); free(y); free(dy); free(dx0); free(dx);
    free(r); free(ar); free(rdx); free(ardx);
    return ok;
}

TEST(pool_sizes_strides)
{
    int size, stride;
    for (size = 1; size <= 3; size++)
        for (stride = 1; stride <= 3; stride++) {
            CHECK(check_pool(2, 3, 7, 5, size, stride, NULL));
            CHECK(check_pool(1, 1, 8, 9, size, stride, NULL));
            CHECK(check_pool(3, 2, size, size + 4, size, stride, NULL));
        }
    CHECK(check_pool(64, 8, 28, 28, 2, 2, NULL));
    CHECK(check_pool(1, 1, 1, 1, 1, 1, NULL));
    CHECK(check_pool(2, 2, 11, 11, 3, 2, NULL));
}

TEST(maxpool_ties_go_to_first)
{
    float x[16], y[4], dy[4] = { 1, 2, 3, 4 }, dx[16] = { 0 };
    float y9[4], dy9[4] = { 1, 1, 1, 1 }, dx9[16] = { 0 };
    int i;
    for (i = 0; i < 16; i++)
        x[i] = 5;
    /* 2x2 stride 2: each window's gradient goes to its top-left */
    lc_maxpool_forward(y, x, 1, 1, 4, 4, 2, 2);
    lc_maxpool_backward(dx, dy, x, 1, 1, 4, 4, 2, 2);
    CHECK(y[0] == 5 && y[3] == 5);
    CHECK(dx[0] == 1 && dx[2] == 2 && dx[8] == 3 && dx[10] == 4);
    CHECK(dx[1] == 0 && dx[4] == 0 && dx[5] == 0 && dx[15] == 0);
    /* 3x3 stride 1, overlapping windows on a constant image */
    lc_maxpool_forward(y9, x, 1, 1, 4, 4, 3, 1);
    lc_maxpool_backward(dx9, dy9, x, 1, 1, 4, 4, 3, 1);
    CHECK(dx9[0] == 1 && dx9[1] == 1 && dx9[4] == 1 && dx9[5] == 1);
    CHECK(dx9[2] == 0 && dx9[6] == 0 && dx9[10] == 0);
    /* a tie later in the window than a smaller first element */
    {
        float t[4] = { 1, 3, 3, 2 }, ty, tdy = 1, tdx[4] = { 0 };
        lc_maxpool_forward(&ty, t, 1, 1, 2, 2, 2, 2);
        lc_maxpool_backward(tdx, &tdy, t, 1, 1, 2, 2, 2, 2);
        CHECK(ty == 3 && tdx[1] == 1 && tdx[2] == 0);
    }
    /* random data with many ties */
    {
        float xt[2 * 3 * 9 * 8];
        for (i = 0; i < 2 * 3 * 9 * 8; i++)
            xt[i] = (float)(int)(urand() * 2);   /* -1, 0, 1 */
        CHECK(check_pool(2, 3, 9, 8, 3, 1, xt));
        CHECK(check_pool(2, 3, 9, 8, 2, 2, xt));
    }
}

TEST(maxpool_nan_propagates)
{
    float x[4] = { 1, NAN, 3, NAN }, y, dy = 1, dx[4] = { 0 };
    float x2[4] = { NAN, 7, 3, 2 }, y2, dx2[4] = { 0 };
    lc_maxpool_forward(&y, x, 1, 1, 2, 2, 2, 2);
    CHECK(isnan(y));
    lc_maxpool_backward(dx, &dy, x, 1, 1, 2, 2, 2, 2);
    CHECK(dx[3] == 1 && dx[0] == 0 && dx[1] == 0 && dx[2] == 0);   /* the last NaN */
    lc_maxpool_forward(&y2, x2, 1, 1, 2, 2, 2, 2);
    CHECK(isnan(y2));
    lc_maxpool_backward(dx2, &dy, x2, 1, 1, 2, 2, 2, 2);
    CHECK(dx2[0] == 1 && dx2[1] == 0);
}

TEST(avgpool_exact)
{
    float x[9] = { 1, 2, 3, 4, 5, 6, 7, 8, 9 }, y[4], dy[4] = { 9, 9, 9, 9 };
    float dx[9] = { 1, 1, 1, 1, 1, 1, 1, 1, 1 };
    lc_avgpool_forward(y, x, 1, 1, 3, 3, 2, 1);
    CHECK(y[0] == 3 && y[1] == 4 && y[2] == 6 && y[3] == 7);
    lc_avgpool_backward(dx, dy, x, 1, 1, 3, 3, 2, 1);
    CHECK(dx[0] == 1 + 9.0f / 4 && dx[4] == 1 + 4 * 9.0f / 4 && dx[1] == 1 + 2 * 9.0f / 4);
}

/* --qat's rounding: onto the grid s (q - zero), ties away from zero, clamped */
TEST(fakequant_rounds_and_clamps)
{
    float x[7] = { 0.25f, -0.25f, 0.2f, 1000, -1000, 0, 1.75f };
    const float want[7] = { 0.5f, -0.5f, 0, 65, -62.5f, 0, 2 };
    lc_fakequant_forward(x, 7, 0.5, -3, -128, 127);
    for (int i = 0; i < 7; i++) CHECK(x[i] == want[i]);
    float y[2] = { -1, 3.5f };
    lc_fakequant_forward(y, 2, 0.1, -128, -128, -98);   /* a relu's clamp: [0, 3] */
    CHECK(y[0] == 0);
    CHECK(fabsf(y[1] - 3) < 1e-6f);
}

int main(void)
{
    RUN(fakequant_rounds_and_clamps);
    RUN(matmul_small_and_odd_shapes);
    RUN(matmul_k_blocking_and_tiles);
    RUN(matmul_mlp_shapes);
    RUN(matmul_exact_small);
    RUN(conv_strides_pads_kernels);
    RUN(conv_shapes);
    RUN(pool_sizes_strides);
    RUN(maxpool_ties_go_to_first);
    RUN(maxpool_nan_propagates);
    RUN(avgpool_exact);
    return test_report("kernels");
}
