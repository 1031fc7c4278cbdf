/* threads_check.c: the kernels on threads give the results of the kernels
 * on one thread (tests/t_threads.sh).
 *
 *   threads_check kernels T EXACT NEAR   runs layerc's kernels (liblayerc.a)
 *                                   with the pool started with T threads on
 *                                   fixed inputs; writes the results that must
 *                                   not depend on T to EXACT, those that may
 *                                   differ by rounding to NEAR (blocks of
 *                                   floats, each with its count)
 *   threads_check pool T            the pool itself: every task once, nested
 *                                   and concurrent callers
 *   threads_check lyw A B TOL       two weight files hold the same tensors and
 *                                   values within TOL relative to each
 *                                   tensor's largest value (0: bit for bit)
 *   threads_check blocks A B TOL    the same for two files `kernels` wrote
 *
 * The test runs `kernels` with T = 1, 2, 3 and compares the files: EXACT
 * bit for bit, NEAR within 1e-5.  What must hold (runtime/kernels.c,
 * "Threads"): matrix products, pooling, the elementwise kernels (the
 * losses' sums too) and the
 * convolutions' outputs and input gradients are the same bits on any number
 * of threads; the im2col convolutions' weight and bias gradients add up per
 * group of samples, so they agree within float rounding (the depthwise
 * kernel's do not depend on T: they are compared bit for bit).  `kernels` also checks,
 * on its own, that the *_into kernels with add = 0 overwrite whatever the
 * gradient held (NaN here) and give what add = 1 gives on a cleared one.
 *
 * Every check prints "ok WHAT" or "FAIL WHAT: detail"; the exit status is
 * the number of failures (at most 100).
 */
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels.h"
#include "threads.h"

static int failures;
static FILE *exact_out, *near_out;

/* One block of results: its count (uint32), then its floats. */
static void dump(FILE *f, const float *v, size_t n)
{
    uint32_t c = (uint32_t)n;
    if (f && (fwrite(&c, sizeof c, 1, f) != 1 || fwrite(v, sizeof *v, n, f) != n)) {
        printf("FAIL cannot write the results\n");
        failures++;
    }
}

static void report(int ok, const char *what, const char *detail)
{
    if (ok)
        printf("ok %s\n", what);
    else
        printf("FAIL %s: %s\n", what, detail);
    failures += !ok;
}

static uint64_t rng = 99;
static float urand(void)   /* uniform in [-1, 1) */
{
    uint64_t z = (rng += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    z ^= z >> 31;
    return (float)((double)(z >> 40) / (double)(1 << 23) - 1.0);
}

static float *randv(size_t n)
{
    float *v = malloc((n ? n : 1) * sizeof *v);
    for (size_t i = 0; i < n; i++) v[i] = urand();
    return v;
}

static float *fill(size_t n, float x)
{
    float *v = malloc((n ? n : 1) * sizeof *v);
    for (size_t i = 0; i < n; i++) v[i] = x;
    return v;
}

/* a and b agree: bit for bit (as values: -0 == 0, NaN == NaN) when tol is
 * 0, else within tol relative to the largest magnitude in them (a sum of
 * many terms that cancel is as exact as its largest terms, not as itself). */
static int same_quiet(const float *a, const float *b, size_t n, double tol, char *detail, size_t len)
{
    double scale = 0;
    for (size_t i = 0; i < n; i++)
        if (a[i] == a[i] && b[i] == b[i]) scale = fmax(scale, fmax(fabs(a[i]), fabs(b[i])));
    for (size_t i = 0; i < n; i++) {
        double x = a[i], y = b[i];
        int ok = (x != x && y != y) || (tol == 0 ? x == y : fabs(x - y) <= tol * scale);
        if (!ok) {
            snprintf(detail, len, "[%zu] %.9g vs %.9g (largest magnitude %.3g)", i, x, y, scale);
            return 0;
        }
    }
    return 1;
}

static int same(const char *what, const float *a, const float *b, size_t n, double tol)
{
    char detail[256];
    int ok = same_quiet(a, b, n, tol, detail, sizeof detail);
    report(ok, what, detail);
    return ok;
}

/* ---- the kernels ---------------------------------------------------------- */

static void check_matmul(int B, int C, int OC)
{
    char what[160];
    size_t ni = (size_t)B * C, nw = (size_t)OC * C, no = (size_t)B * OC;
    float *inp = randv(ni), *W = randv(nw), *bias = randv(OC), *dout = randv(no), *o = randv(no);
    float *di = randv(ni), *dw = randv(nw), *db = randv(OC), *nan = fill(ni, NAN), *zero = fill(ni, 0);
    lc_matmul_forward(o, inp, W, bias, B, C, OC);
    dump(exact_out, o, no);
    lc_matmul_forward(o, inp, W, NULL, B, C, OC);
    dump(exact_out, o, no);
    lc_matmul_backward(di, dw, db, dout, inp, W, B, C, OC);
    dump(exact_out, di, ni), dump(exact_out, dw, nw), dump(exact_out, db, OC);
    snprintf(what, sizeof what, "matmul backward_into %dx%dx%d: add = 0 over NaN = add = 1 over 0", B, C, OC);
    lc_matmul_backward_into(nan, NULL, NULL, dout, inp, W, B, C, OC, 0);
    lc_matmul_backward_into(zero, NULL, NULL, dout, inp, W, B, C, OC, 1);
    same(what, nan, zero, ni, 0);
    dump(exact_out, nan, ni);
    free(inp), free(W), free(bias), free(dout), free(o), free(di), free(dw), free(db), free(nan), free(zero);
}

static void check_conv(int T, int B, int C, int H, int W, int OC, int K, int stride, int pad)
{
    char what[160], s[96];
    int OH = LC_CONV_OUT(H, K, stride, pad), OW = LC_CONV_OUT(W, K, stride, pad);
    size_t nx = (size_t)B * C * H * W, nw = (size_t)OC * C * K * K, ny = (size_t)B * OC * OH * OW;
    size_t nwork = LC_CONV2D_WORK_T(C, K, OH, OW, OC, T);
    float *x = randv(nx), *w = randv(nw), *bias = randv(OC), *dy = randv(ny), *y = randv(ny);
    float *work = fill(nwork, NAN), *dx = randv(nx), *dw = randv(nw), *db = randv(OC);
    float *nan = fill(nx, NAN), *zero = fill(nx, 0);
    lc_conv2d_forward(y, x, w, bias, work, B, C, H, W, OC, K, stride, pad);
    dump(exact_out, y, ny);
    lc_conv2d_backward(dx, dw, db, dy, x, w, work, B, C, H, W, OC, K, stride, pad);
    dump(exact_out, dx, nx), dump(near_out, dw, nw), dump(near_out, db, OC);
    snprintf(s, sizeof s, "B%d C%d %dx%d OC%d K%d s%d p%d", B, C, H, W, OC, K, stride, pad);
    snprintf(what, sizeof what, "conv backward_into %s: add = 0 over NaN = add = 1 over 0", s);
    lc_conv2d_backward_into(nan, NULL, NULL, dy, x, w, work, B, C, H, W, OC, K, stride, pad, 0);
    lc_conv2d_backward_into(zero, NULL, NULL, dy, x, w, work, B, C, H, W, OC, K, stride, pad, 1);
    same(what, nan, zero, nx, 0);
    free(x), free(w), free(bias), free(dy), free(y), free(work), free(dx), free(dw), free(db);
    free(nan), free(zero);
}

/* The general convolution (groups, dilation, rectangles) and the depthwise
 * one, whose weight gradients do not depend on T either. */
static void check_conv_dims(int T, int B, lc_conv_dims d, int depthwise)
{
    char what[200];
    size_t nx = (size_t)B * d.C * d.H * d.W, nw = (size_t)d.OC * (d.C / d.G) * d.KH * d.KW;
    size_t ny = (size_t)B * d.OC * d.OH * d.OW;
    size_t nwork = depthwise ? (size_t)LC_DWCONV_WORK(&d, T) : (size_t)LC_CONV_WORK(&d, T);
    float *x = randv(nx), *w = randv(nw), *bias = randv(d.OC), *dy = randv(ny), *y = randv(ny);
    float *work = fill(nwork, NAN), *dx = randv(nx), *dw = randv(nw), *db = randv(d.OC);
    float *nan = fill(nx, NAN), *zero = fill(nx, 0);
    (depthwise ? lc_dwconv_forward : lc_conv_forward)(y, x, w, bias, work, B, &d);
    dump(exact_out, y, ny);
    (depthwise ? lc_dwconv_backward_into : lc_conv_backward_into)(dx, dw, db, dy, x, w, work, B, &d, 1);
    dump(exact_out, dx, nx), dump(depthwise ? exact_out : near_out, dw, nw);
    dump(depthwise ? exact_out : near_out, db, d.OC);
    snprintf(what, sizeof what, "%s backward_into B%d C%d %dx%d OC%d k%dx%d s%dx%d g%d: add = 0 over "
             "NaN = add = 1 over 0", depthwise ? "dwconv" : "conv", B, d.C, d.H, d.W, d.OC, d.KH, d.KW,
             d.SH, d.SW, d.G);
    (depthwise ? lc_dwconv_backward_into : lc_conv_backward_into)(nan, NULL, NULL, dy, x, w, work, B, &d, 0);
    (depthwise ? lc_dwconv_backward_into : lc_conv_backward_into)(zero, NULL, NULL, dy, x, w, work, B, &d, 1);
    same(what, nan, zero, nx, 0);
    free(x), free(w), free(bias), free(dy), free(y), free(work), free(dx), free(dw), free(db);
    free(nan), free(zero);
}

/* Rectangular and global pools: the same bits on any T. */
static void check_pools_ex(int B, int C, int H, int W, int KH, int KW, int SH, int SW)
{
    int OH = (H - KH) / SH + 1, OW = (W - KW) / SW + 1;
    size_t nx = (size_t)B * C * H * W, ny = (size_t)B * C * OH * OW, ng = (size_t)B * C;
    float *x = randv(nx), *dy = randv(ny), *y = randv(ny), *dx = randv(nx);
    lc_maxpool_rect_forward(y, x, B, C, H, W, KH, KW, SH, SW);
    dump(exact_out, y, ny);
    lc_maxpool_rect_backward_into(dx, dy, x, B, C, H, W, KH, KW, SH, SW, 0);
    dump(exact_out, dx, nx);
    lc_avgpool_rect_forward(y, x, B, C, H, W, KH, KW, SH, SW);
    dump(exact_out, y, ny);
    lc_avgpool_rect_backward_into(dx, dy, x, B, C, H, W, KH, KW, SH, SW, 1);
    dump(exact_out, dx, nx);
    lc_global_maxpool_forward(y, x, B, C, H * W);
    dump(exact_out, y, ng);
    lc_global_maxpool_backward_into(dx, dy, x, B, C, H * W, 0);
    dump(exact_out, dx, nx);
    lc_global_avgpool_forward(y, x, B, C, H * W);
    dump(exact_out, y, ng);
    lc_global_avgpool_backward_into(dx, dy, B, C, H * W, 1);
    dump(exact_out, dx, nx);
    free(x), free(dy), free(y), free(dx);
}

static lc_conv_dims dims(int C, int H, int W, int OC, int KH, int KW, int SH, int SW, int PH, int PW,
                         int OH, int OW, int DH, int DW, int G)
{
    lc_conv_dims d = { C, H, W, OC, OH, OW, KH, KW, SH, SW, PH, PW, DH, DW, G };
    return d;
}

static void check_pool(int B, int C, int H, int W, int size, int stride, int ties)
{
    char what[160], s[96];
    int OH = (H - size) / stride + 1, OW = (W - size) / stride + 1;
    size_t nx = (size_t)B * C * H * W, ny = (size_t)B * C * OH * OW;
    float *x = randv(nx), *dy = randv(ny), *y = randv(ny), *dx = randv(nx);
    float *nan = fill(nx, NAN), *zero = fill(nx, 0);
    if (ties)   /* few distinct values: ties everywhere, and some NaN */
        for (size_t i = 0; i < nx; i++) x[i] = i % 97 == 5 ? NAN : (float)(int)(x[i] * 3);
    snprintf(s, sizeof s, "B%d C%d %dx%d size %d stride %d%s", B, C, H, W, size, stride,
             ties ? " (ties, NaN)" : "");
    for (int k = 0; k < 2; k++) {
        const char *kind = k ? "avgpool" : "maxpool";
        (k ? lc_avgpool_forward : lc_maxpool_forward)(y, x, B, C, H, W, size, stride);
        dump(exact_out, y, ny);
        (k ? lc_avgpool_backward : lc_maxpool_backward)(dx, dy, x, B, C, H, W, size, stride);
        dump(exact_out, dx, nx);
        snprintf(what, sizeof what, "%s backward_into %s: add = 0 over NaN = add = 1 over 0", kind, s);
        for (size_t i = 0; i < nx; i++) nan[i] = NAN, zero[i] = 0;
        (k ? lc_avgpool_backward_into : lc_maxpool_backward_into)(nan, dy, x, B, C, H, W, size, stride, 0);
        (k ? lc_avgpool_backward_into : lc_maxpool_backward_into)(zero, dy, x, B, C, H, W, size, stride, 1);
        same(what, nan, zero, nx, 0);
    }
    free(x), free(dy), free(y), free(dx), free(nan), free(zero);
}

static void check_elementwise(int n)
{
    size_t N = (size_t)n;
    float *x = randv(N), *dy = randv(N), *y = randv(N), *d = randv(N), *p = randv(N), *g = randv(N);
    float *v = randv(N), *m = fill(N, 0.01f), *s = fill(N, 0.02f);
    lc_relu_forward(y, x, n);
    dump(exact_out, y, N);
    lc_relu_backward(d, dy, y, n, 0);
    dump(exact_out, d, N);
    lc_relu_backward(d, dy, y, n, 1);
    dump(exact_out, d, N);
    lc_sgd_update(p, g, v, n, 0.01f, 0.9f, 1e-4f);
    dump(exact_out, p, N), dump(exact_out, v, N);
    lc_sgd_update(p, g, NULL, n, 0.01f, 0, 0);
    dump(exact_out, p, N);
    lc_adam_update(p, g, m, s, n, 0.001f, 0.5f, 0.9f, 0.999f, 0.1f, 0.001f, 1e-8f, 0);
    dump(exact_out, p, N), dump(exact_out, m, N), dump(exact_out, s, N);
    float *avg = fill(N, 0.001f), *buf = fill(N, 0), *u = fill(N, 0.003f);
    lc_rmsprop_update(p, g, s, avg, buf, n, 0.01f, 0.9f, 0.1f, 1e-8f, 0.9f, 1e-4f);
    dump(exact_out, p, N), dump(exact_out, s, N), dump(exact_out, avg, N), dump(exact_out, buf, N);
    lc_rmsprop_update(p, g, s, NULL, NULL, n, 0.01f, 0.9f, 0.1f, 1e-8f, 0, 0);
    dump(exact_out, p, N), dump(exact_out, s, N);
    lc_adadelta_update(p, g, m, u, n, 1.0f, 0.9f, 0.1f, 1e-6f, 1e-3f);
    dump(exact_out, p, N), dump(exact_out, m, N), dump(exact_out, u, N);
    free(avg), free(buf), free(u);
    /* activations, softmax over rows of 10, the losses (their double's bits) */
    lc_gelu_forward(y, x, n);
    dump(exact_out, y, N);
    lc_elu_backward(d, dy, x, n, 0.5f, 1);
    dump(exact_out, d, N);
    lc_sigmoid_forward(y, x, n);
    lc_sigmoid_backward(d, dy, y, n, 0);
    dump(exact_out, d, N);
    lc_softmax_forward(y, x, n / 10, 10);
    lc_softmax_backward(d, dy, y, n / 10, 10, 1);
    dump(exact_out, d, N);
    double loss[3] = { lc_mse_forward(y, x, n / 10, 10), lc_bce_forward(y, v, n / 10, 10),
                       lc_cross_entropy_forward(x, y, n / 10, 10) };
    float bits[6];
    memcpy(bits, loss, sizeof bits);
    dump(exact_out, bits, 6);
    free(x), free(dy), free(y), free(d), free(p), free(g), free(v), free(m), free(s);
}

static int check_kernels(int T, const char *exact, const char *near)
{
    static const int mm[][3] = { { 64, 784, 256 }, { 64, 256, 128 }, { 64, 128, 10 }, { 1, 784, 256 },
                                 { 2, 300, 70 }, { 3, 256, 128 }, { 5, 33, 17 }, { 100, 50, 300 },
                                 { 256, 96, 40 }, { 7, 1000, 3 } };
    static const int cv[][8] = { { 64, 1, 28, 28, 8, 3, 1, 1 }, { 64, 8, 14, 14, 16, 3, 1, 1 },
                                 { 7, 3, 9, 7, 5, 3, 2, 0 }, { 3, 2, 11, 11, 4, 5, 2, 2 },
                                 { 1, 4, 12, 12, 6, 3, 1, 1 }, { 5, 40, 6, 6, 3, 1, 1, 0 },
                                 { 2, 3, 4, 4, 2, 5, 1, 0 } };
    char what[64];
    snprintf(what, sizeof what, "the pool starts with %d threads", T);
    report(lc_pool_init(T) == T && lc_pool_threads() == T, what, "it did not");
    exact_out = fopen(exact, "wb"), near_out = fopen(near, "wb");
    if (!exact_out || !near_out) {
        printf("FAIL cannot write %s, %s\n", exact, near);
        return 1;
    }
    for (size_t i = 0; i < sizeof mm / sizeof mm[0]; i++) check_matmul(mm[i][0], mm[i][1], mm[i][2]);
    for (size_t i = 0; i < sizeof cv / sizeof cv[0]; i++)
        check_conv(T, cv[i][0], cv[i][1], cv[i][2], cv[i][3], cv[i][4], cv[i][5], cv[i][6], cv[i][7]);
    check_pool(64, 8, 28, 28, 2, 2, 0);
    check_pool(64, 16, 14, 14, 2, 2, 1);
    check_pool(32, 8, 15, 13, 2, 2, 0);
    check_pool(16, 5, 9, 7, 3, 2, 1);
    check_pool(8, 3, 8, 8, 2, 1, 0);
    check_pool(2, 2, 11, 11, 3, 3, 0);
    /* C, H, W, OC, KH, KW, SH, SW, PH, PW, OH, OW, DH, DW, G */
    check_conv_dims(T, 32, dims(64, 25, 5, 64, 3, 3, 1, 1, 1, 1, 25, 5, 1, 1, 64), 1);
    check_conv_dims(T, 8, dims(32, 48, 48, 32, 3, 3, 2, 2, 0, 0, 24, 24, 1, 1, 32), 1);
    check_conv_dims(T, 5, dims(6, 11, 9, 12, 3, 2, 2, 1, 2, 1, 6, 8, 2, 2, 6), 1);
    check_conv_dims(T, 16, dims(1, 49, 10, 16, 10, 4, 2, 2, 4, 1, 25, 5, 1, 1, 1), 0);
    check_conv_dims(T, 7, dims(8, 12, 12, 12, 3, 3, 1, 1, 2, 2, 12, 12, 2, 2, 4), 0);
    check_conv_dims(T, 9, dims(6, 1, 40, 10, 1, 5, 1, 2, 0, 2, 1, 20, 1, 1, 2), 0);
    check_pools_ex(32, 16, 25, 5, 25, 5, 25, 5);
    check_pools_ex(16, 8, 14, 11, 3, 2, 2, 1);
    check_pools_ex(64, 6, 1, 40, 1, 3, 1, 2);
    check_elementwise(1000);
    check_elementwise(235146);
    if (fclose(exact_out) != 0 || fclose(near_out) != 0) {
        printf("FAIL cannot write %s, %s\n", exact, near);
        failures++;
    }
    return failures;
}

/* ---- the pool ------------------------------------------------------------ */

typedef struct {
    int counts[4096];
    int nested;
} PoolCtx;

static void count_task(void *p, int t)
{
    __atomic_add_fetch(&((PoolCtx *)p)->counts[t], 1, __ATOMIC_RELAXED);
}

static void nested_task(void *p, int t)
{
    PoolCtx inner;
    memset(&inner, 0, sizeof inner);
    lc_pool_for(8, count_task, &inner);   /* runs in line: the pool is busy */
    int ok = 1;
    for (int i = 0; i < 8; i++) ok &= inner.counts[i] == 1;
    if (ok) __atomic_add_fetch(&((PoolCtx *)p)->nested, 1, __ATOMIC_RELAXED);
    (void)t;
}

static void *caller(void *arg)
{
    /* another thread using the kernels while the main thread does */
    float *x = randv(64 * 784), *W = randv(256 * 784), *o = randv(64 * 256), *o2 = randv(64 * 256);
    int *ok = arg;
    lc_matmul_forward(o2, x, W, NULL, 64, 784, 256);
    *ok = 1;
    for (int r = 0; r < 50; r++) {
        lc_matmul_forward(o, x, W, NULL, 64, 784, 256);
        *ok &= memcmp(o, o2, sizeof(float) * 64 * 256) == 0;
    }
    free(x), free(W), free(o), free(o2);
    return NULL;
}

static int check_pool_itself(int T)
{
    static PoolCtx c;
    char what[96];
    lc_pool_init(T);
    for (int n = 0; n <= 4096; n = n ? n * 4 : 1) {
        int ok = 1;
        for (int r = 0; r < 200; r++) {
            memset(&c, 0, sizeof c);
            lc_pool_for(n, count_task, &c);
            for (int t = 0; t < 4096; t++) ok &= c.counts[t] == (t < n);
        }
        snprintf(what, sizeof what, "pool of %d: %d tasks, each run once, 200 times", T, n);
        report(ok, what, "a task ran twice or not at all");
    }
    memset(&c, 0, sizeof c);
    lc_pool_for(16, nested_task, &c);
    report(c.nested == 16, "a kernel called from inside a task runs in line", "wrong counts");
    pthread_t th;
    int ok_other = 0, ok_main = 1;
    pthread_create(&th, NULL, caller, &ok_other);
    for (int r = 0; r < 50; r++) {
        memset(&c, 0, sizeof c);
        lc_pool_for(64, count_task, &c);
        for (int t = 0; t < 64; t++) ok_main &= c.counts[t] == 1;
    }
    pthread_join(th, NULL);
    report(ok_main && ok_other, "two threads using the pool at once", "wrong results");
    return failures;
}

/* ---- files --------------------------------------------------------------- */

static unsigned char *slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    unsigned char *b = NULL;
    long len;
    if (!f || fseek(f, 0, SEEK_END) != 0 || (len = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
        if (f) fclose(f);
        return NULL;
    }
    b = malloc((size_t)len + 1);
    if (b && fread(b, 1, (size_t)len, f) != (size_t)len) {
        free(b);
        b = NULL;
    }
    fclose(f);
    *n = (size_t)len;
    return b;
}

static uint32_t u32(const unsigned char *p) { return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24; }

static float f32(const unsigned char *p)
{
    uint32_t bits = u32(p);
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

/* The blocks of a file: a .lyw's tensors (docs/WEIGHTS.md: the values of
 * each, in table order, after the table and before the CRC), or the
 * (count, floats) blocks `kernels` writes.  Returns the number of blocks
 * (-1: not such a file); sizes[] and floats[] get their sizes and values. */
static int blocks(const unsigned char *b, size_t n, int lyw, size_t *sizes, float **vals, int most)
{
    size_t at = 0, total = 0;
    int count = 0;
    if (lyw) {
        if (n < 32 || memcmp(b, "LYRW", 4) != 0) return -1;
        uint32_t T = u32(b + 16);
        at = 28;
        for (uint32_t t = 0; t < T; t++) {
            size_t elems = 1;
            if (at + 6 > n || count == most) return -1;
            at += 2 + (b[at] | b[at + 1] << 8);
            if (at + 4 > n) return -1;
            uint32_t R = u32(b + at);
            for (at += 4; R > 0; R--, at += 4) {
                if (at + 4 > n) return -1;
                elems *= u32(b + at);
            }
            sizes[count++] = elems;
            total += elems;
        }
        if (at + 4 * total + 4 != n) return -1;
        for (int t = 0; t < count; t++) {
            vals[t] = malloc((sizes[t] ? sizes[t] : 1) * sizeof(float));
            for (size_t i = 0; i < sizes[t]; i++, at += 4) vals[t][i] = f32(b + at);
        }
        return count;
    }
    while (at < n) {
        if (at + 4 > n || count == most) return -1;
        size_t c = u32(b + at);
        at += 4;
        if (at + 4 * c > n) return -1;
        sizes[count] = c;
        vals[count] = malloc((c ? c : 1) * sizeof(float));
        for (size_t i = 0; i < c; i++, at += 4) vals[count][i] = f32(b + at);
        count++;
    }
    return count;
}

#define MOST_BLOCKS 100000

static int compare_files(int lyw, const char *a, const char *b, double tol)
{
    size_t na, nb;
    unsigned char *A = slurp(a, &na), *B = slurp(b, &nb);
    static size_t sa[MOST_BLOCKS], sb[MOST_BLOCKS];
    static float *va[MOST_BLOCKS], *vb[MOST_BLOCKS];
    char what[512], detail[300] = "";
    int ok = 1, ca, cb;
    snprintf(what, sizeof what, "%s and %s agree%s", a, b,
             tol == 0 ? " bit for bit" : " within tolerance (relative to each tensor's largest value)");
    if (!A || !B) {
        report(0, what, "cannot read them");
        return 1;
    }
    ca = blocks(A, na, lyw, sa, va, MOST_BLOCKS), cb = blocks(B, nb, lyw, sb, vb, MOST_BLOCKS);
    if (ca < 0 || cb < 0 || ca != cb) {
        report(0, what, "not files of the same layout");
        return 1;
    }
    for (int t = 0; t < ca && ok; t++) {
        char d[256];
        if (sa[t] != sb[t]) {
            snprintf(detail, sizeof detail, "block %d: %zu values vs %zu", t, sa[t], sb[t]);
            ok = 0;
        } else if (!same_quiet(va[t], vb[t], sa[t], tol, d, sizeof d)) {
            snprintf(detail, sizeof detail, "block %d of %d: %s", t, ca, d);
            ok = 0;
        }
    }
    report(ok, what, detail);
    for (int t = 0; t < ca; t++) free(va[t]);
    for (int t = 0; t < cb; t++) free(vb[t]);
    free(A), free(B);
    return failures;
}

int main(int argc, char **argv)
{
    if (argc == 5 && !strcmp(argv[1], "kernels"))
        return check_kernels(atoi(argv[2]), argv[3], argv[4]) > 100 ? 100 : failures;
    if (argc == 3 && !strcmp(argv[1], "pool")) return check_pool_itself(atoi(argv[2])) > 100 ? 100 : failures;
    if (argc == 5 && (!strcmp(argv[1], "lyw") || !strcmp(argv[1], "blocks")))
        return compare_files(!strcmp(argv[1], "lyw"), argv[2], argv[3], atof(argv[4]));
    fprintf(stderr, "usage: threads_check kernels T EXACT NEAR | pool T | lyw A B TOL | blocks A B TOL\n");
    return 2;
}
