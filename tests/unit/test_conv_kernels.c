/* test_conv_kernels.c: the general convolution (lc_conv_*: groups,
 * dilation, rectangular kernels and strides, "same" padding, 1-D), the
 * depthwise kernel (lc_dwconv_*), rectangular, 1-D and global pooling, in
 * float as compiled into layerc, against direct double-precision
 * references; gradients into pre-filled buffers, assigned over NaN, one at
 * a time; scratch of exactly the documented size, full of NaN.  Finite
 * differences of the same kernels are in test_conv_kernels_double.c. */
#include <stdlib.h>

#include "kernels.h"
#include "test.h"
#define TEST_SEED 4242
#include "test_random.h"

static float *fillv(size_t n, float x)
{
    float *v = malloc((n ? n : 1) * sizeof *v);
    size_t i;
    for (i = 0; i < n; i++)
        v[i] = x;
    return v;
}

static float *copyv(const float *v, size_t n)
{
    float *c = malloc((n ? n : 1) * sizeof *c);
    memcpy(c, v, n * sizeof *c);
    return c;
}

static double *zerod(size_t n)
{
    return calloc(n ? n : 1, sizeof(double));
}

/* got[i] is within rounding of base[i] + ref[i], absref[i] being the sum of
 * the magnitudes of the terms of ref[i] (base may be NULL). */
static int close_to(const char *what, const char *part, const float *got, const float *base,
                    const double *ref, const double *absref, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++) {
        double b = base ? base[i] : 0, want = b + ref[i];
        double tol = 2e-6 * (fabs(b) + absref[i]) + 1e-7;
        if (!(fabs(got[i] - want) <= tol)) {
            fprintf(stderr, "  %s: %s[%zu] = %.9g, want %.9g (tol %.3g)\n", what, part, i,
                    (double)got[i], want, tol);
            return 0;
        }
    }
    return 1;
}

/* ---- geometry -------------------------------------------------------------- */

/* One convolution: pad < 0 is "same" (Keras: the odd row and column of
 * padding below and right). */
struct geo {
    int B, C, H, W, OC, KH, KW, SH, SW, PH, PW, DH, DW, G;
};

static void side(int in, int k, int s, int p, int d, int *out, int *before)
{
    if (p < 0) {
        int o = (in + s - 1) / s, total = (o - 1) * s + (k - 1) * d + 1 - in;
        *out = o;
        *before = total > 0 ? total / 2 : 0;
    } else {
        *out = (in + 2 * p - (k - 1) * d - 1) / s + 1;
        *before = p;
    }
}

static lc_conv_dims dims_of(const struct geo *g)
{
    lc_conv_dims d;
    d.C = g->C, d.H = g->H, d.W = g->W, d.OC = g->OC, d.KH = g->KH, d.KW = g->KW;
    d.SH = g->SH, d.SW = g->SW, d.DH = g->DH, d.DW = g->DW, d.G = g->G;
    side(g->H, g->KH, g->SH, g->PH, g->DH, &d.OH, &d.PH);
    side(g->W, g->KW, g->SW, g->PW, g->DW, &d.OW, &d.PW);
    return d;
}

static void describe(char *buf, size_t n, const char *kernel, const struct geo *g,
                     const lc_conv_dims *d)
{
    snprintf(buf, n, "%s B%d C%d %dx%d -> OC%d %dx%d, k %dx%d s %dx%d p %d,%d (top/left %d,%d) "
             "d %dx%d g%d", kernel, g->B, g->C, g->H, g->W, g->OC, d->OH, d->OW, g->KH, g->KW,
             g->SH, g->SW, g->PH, g->PW, d->PH, d->PW, g->DH, g->DW, g->G);
}

/* ---- the reference ----------------------------------------------------------- */

/* y = conv(x, w) + bias (and the magnitudes); with dy, the gradients instead. */
static void ref_conv(const lc_conv_dims *d, int B, const float *x, const float *w,
                     const float *bias, double *y, double *ay, const float *dy, double *dx,
                     double *adx, double *dw, double *adw, double *db, double *adb)
{
    int Cg = d->C / d->G, OCg = d->OC / d->G, b, o, c, oh, ow, ki, kj;
    for (b = 0; b < B; b++)
        for (o = 0; o < d->OC; o++)
            for (oh = 0; oh < d->OH; oh++)
                for (ow = 0; ow < d->OW; ow++) {
                    size_t yi = (((size_t)b * d->OC + o) * d->OH + oh) * d->OW + ow;
                    double s = bias ? bias[o] : 0, a = bias ? fabs(bias[o]) : 0;
                    double g = dy ? dy[yi] : 0;
                    if (dy) {
                        db[o] += g;
                        adb[o] += fabs(g);
                    }
                    for (c = 0; c < Cg; c++)
                        for (ki = 0; ki < d->KH; ki++)
                            for (kj = 0; kj < d->KW; kj++) {
                                int ih = oh * d->SH - d->PH + ki * d->DH;
                                int iw = ow * d->SW - d->PW + kj * d->DW;
                                int ci = o / OCg * Cg + c;
                                size_t xi = (((size_t)b * d->C + ci) * d->H + ih) * d->W + iw;
                                size_t wi = (((size_t)o * Cg + c) * d->KH + ki) * d->KW + kj;
                                if (ih < 0 || ih >= d->H || iw < 0 || iw >= d->W)
                                    continue;
                                if (dy) {
                                    dx[xi] += g * w[wi];
                                    adx[xi] += fabs(g * w[wi]);
                                    dw[wi] += g * x[xi];
                                    adw[wi] += fabs(g * x[xi]);
                                } else {
                                    s += (double)w[wi] * x[xi];
                                    a += fabs((double)w[wi] * x[xi]);
                                }
                            }
                    if (!dy) {
                        y[yi] = s;
                        ay[yi] = a;
                    }
                }
}

/* ---- one geometry, one kernel ---------------------------------------------- */

typedef void (*fwd_fn)(lc_real *, const lc_real *, const lc_real *, const lc_real *, lc_real *,
                       int, const lc_conv_dims *);
typedef void (*bwd_fn)(lc_real *, lc_real *, lc_real *, const lc_real *, const lc_real *,
                       const lc_real *, lc_real *, int, const lc_conv_dims *, int);

static int check_kernel(const struct geo *g, int depthwise)
{
    lc_conv_dims d = dims_of(g);
    fwd_fn fwd = depthwise ? lc_dwconv_forward : lc_conv_forward;
    bwd_fn bwd = depthwise ? lc_dwconv_backward_into : lc_conv_backward_into;
    int B = g->B;
    size_t nx = (size_t)B * d.C * d.H * d.W, nw = (size_t)d.OC * (d.C / d.G) * d.KH * d.KW;
    size_t ny = (size_t)B * d.OC * d.OH * d.OW;
    size_t nwork = depthwise ? (size_t)LC_DWCONV_WORK(&d, 1) : (size_t)LC_CONV_WORK(&d, 1);
    float *x = randv(nx), *w = randv(nw), *bias = randv(d.OC), *dy = randv(ny), *y = randv(ny);
    float *dx0 = randv(nx), *dw0 = randv(nw), *db0 = randv(d.OC);
    float *dx = copyv(dx0, nx), *dw = copyv(dw0, nw), *db = copyv(db0, d.OC);
    float *work = fillv(nwork, (float)NAN);
    double *r = zerod(ny), *ar = zerod(ny), *rdx = zerod(nx), *ardx = zerod(nx);
    double *rdw = zerod(nw), *ardw = zerod(nw), *rdb = zerod(d.OC), *ardb = zerod(d.OC);
    char what[256];
    int ok = 1;
    size_t i;

    describe(what, sizeof what, depthwise ? "dwconv" : "conv", g, &d);
    ref_conv(&d, B, x, w, bias, r, ar, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
    fwd(y, x, w, bias, work, B, &d);
    ok &= close_to(what, "out", y, NULL, r, ar, ny);
    ref_conv(&d, B, x, w, NULL, r, ar, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
    fwd(y, x, w, NULL, work, B, &d);
    ok &= close_to(what, "out (no bias)", y, NULL, r, ar, ny);

    ref_conv(&d, B, x, w, NULL, NULL, NULL, dy, rdx, ardx, rdw, ardw, rdb, ardb);
    bwd(dx, dw, db, dy, x, w, work, B, &d, 1);
    ok &= close_to(what, "dinp", dx, dx0, rdx, ardx, nx);
    ok &= close_to(what, "dW", dw, dw0, rdw, ardw, nw);
    ok &= close_to(what, "dbias", db, db0, rdb, ardb, d.OC);

    /* assigned over NaN; then each gradient alone */
    for (i = 0; i < nx; i++)
        dx[i] = (float)NAN;
    bwd(dx, NULL, NULL, dy, x, w, work, B, &d, 0);
    ok &= close_to(what, "dinp (assigned)", dx, NULL, rdx, ardx, nx);
    memcpy(dw, dw0, nw * sizeof *dw);
    bwd(NULL, dw, NULL, dy, x, w, work, B, &d, 1);
    ok &= close_to(what, "dW alone", dw, dw0, rdw, ardw, nw);
    memcpy(db, db0, d.OC * sizeof *db);
    bwd(NULL, NULL, db, dy, x, w, work, B, &d, 1);
    ok &= close_to(what, "dbias alone", db, db0, rdb, ardb, d.OC);
    memcpy(dx, dx0, nx * sizeof *dx);
    memcpy(dw, dw0, nw * sizeof *dw);
    bwd(dx, dw, NULL, dy, x, w, work, B, &d, 1);
    ok &= close_to(what, "dinp with dW", dx, dx0, rdx, ardx, nx);
    ok &= close_to(what, "dW with dinp", dw, dw0, rdw, ardw, nw);
    bwd(NULL, NULL, NULL, dy, x, w, work, B, &d, 1);

    free(x); free(w); free(bias); free(dy); free(y); free(dx0); free(dw0); free(db0);
    free(dx); free(dw); free(db); free(work);
    free(r); free(ar); free(rdx); free(ardx); free(rdw); free(ardw); free(rdb); free(ardb);
    return ok;
}

/* The im2col kernel, and the depthwise one where the groups are the channels. */
static int check_geo(struct geo g)
{
    int ok = check_kernel(&g, 0);
    if (g.G == g.C)
        ok &= check_kernel(&g, 1);
    return ok;
}

#define SAME (-1)

TEST(conv_groups)
{
    /* B, C, H, W, OC, KH, KW, SH, SW, PH, PW, DH, DW, G */
    static const struct geo cases[] = {
        { 2, 4, 7, 9, 6, 3, 3, 1, 1, 1, 1, 1, 1, 2 },
        { 3, 6, 8, 5, 9, 3, 3, 2, 2, 1, 1, 1, 1, 3 },
        { 1, 8, 6, 6, 8, 1, 1, 1, 1, 0, 0, 1, 1, 4 },       /* grouped 1x1 */
        { 2, 12, 5, 7, 4, 2, 3, 1, 2, 0, 1, 1, 1, 4 },      /* one filter per group of 3 */
        { 1, 40, 6, 6, 80, 3, 3, 1, 1, 1, 1, 1, 1, 2 },     /* R = 180, 40 filters a group */
        { 2, 6, 9, 9, 6, 3, 3, 1, 1, SAME, SAME, 2, 2, 3 },
        { 3, 5, 4, 6, 7, 1, 1, 1, 1, 0, 0, 1, 1, 1 },       /* 1x1: the product without im2col */
        { 2, 64, 5, 5, 40, 1, 1, 1, 1, 0, 0, 1, 1, 1 },     /* 1x1, R = 64: the packed products */
        { 2, 48, 3, 7, 96, 1, 1, 1, 1, SAME, SAME, 1, 1, 2 }, /* grouped 1x1, pad=same */
    };
    size_t i;
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++)
        CHECK(check_geo(cases[i]));
}

TEST(conv_dilation_rect_same)
{
    static const struct geo cases[] = {
        { 2, 3, 9, 10, 5, 3, 3, 1, 1, 2, 2, 2, 2, 1 },
        { 1, 2, 11, 8, 3, 3, 2, 1, 1, 1, 0, 2, 3, 1 },      /* rectangular kernel, dilation [2, 3] */
        { 2, 1, 49, 10, 8, 10, 4, 2, 2, SAME, SAME, 1, 1, 1 },   /* DS-CNN's first layer */
        { 1, 3, 48, 48, 4, 3, 3, 2, 2, SAME, SAME, 1, 1, 1 },    /* even, stride 2: pad 0 above, 1 below */
        { 2, 2, 7, 9, 3, 3, 3, 2, 2, SAME, SAME, 1, 1, 1 },      /* odd, stride 2: 1 and 1 */
        { 1, 2, 5, 5, 2, 4, 4, 1, 1, SAME, SAME, 1, 1, 1 },      /* even kernel: 1 above, 2 below */
        { 1, 2, 6, 7, 3, 2, 5, 3, 2, SAME, SAME, 2, 1, 1 },
        { 2, 3, 6, 6, 2, 1, 1, 2, 3, SAME, SAME, 1, 1, 1 },      /* 1x1 strided: no padding */
        { 1, 2, 4, 9, 3, 2, 3, 2, 1, 1, 2, 1, 1, 1 },            /* pad [1, 2], stride [2, 1] */
        { 1, 1, 3, 3, 2, 3, 3, 1, 1, 2, 2, 3, 3, 1 },            /* dilated kernel 7 = image + padding */
    };
    size_t i;
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++)
        CHECK(check_geo(cases[i]));
}

TEST(conv_1d)
{
    /* height 1: the kernels as conv1d calls them */
    static const struct geo cases[] = {
        { 2, 3, 1, 17, 4, 1, 5, 1, 2, 0, 2, 1, 2, 1 },
        { 3, 4, 1, 10, 6, 1, 3, 1, 1, 0, SAME, 1, 1, 2 },
        { 2, 5, 1, 9, 5, 1, 3, 1, 3, 0, SAME, 1, 1, 5 },    /* depthwise, stride 3 */
        { 1, 2, 1, 30, 6, 1, 4, 1, 1, 0, 0, 1, 3, 2 },
        { 4, 1, 1, 1, 3, 1, 1, 1, 1, 0, 0, 1, 1, 1 },       /* length 1 */
    };
    size_t i;
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++)
        CHECK(check_geo(cases[i]));
}

TEST(dwconv_shapes)
{
    static const struct geo cases[] = {
        { 2, 5, 7, 6, 5, 3, 3, 1, 1, SAME, SAME, 1, 1, 5 },
        { 2, 4, 9, 8, 8, 3, 3, 2, 2, 1, 1, 1, 1, 4 },       /* 2 filters a channel, stride 2 */
        { 1, 3, 11, 10, 9, 3, 3, 3, 3, 2, 2, 2, 2, 3 },     /* 3 a channel, stride 3, dilation 2 */
        { 3, 64, 25, 5, 64, 3, 3, 1, 1, SAME, SAME, 1, 1, 64 },   /* DS-CNN */
        { 1, 32, 48, 48, 32, 3, 3, 2, 2, SAME, SAME, 1, 1, 32 },  /* MobileNet, stride 2 */
        { 2, 3, 5, 5, 3, 1, 1, 1, 1, 0, 0, 1, 1, 3 },       /* 1x1 */
        { 1, 2, 2, 3, 2, 5, 5, 1, 1, 2, 2, 1, 1, 2 },       /* kernel larger than the image */
        { 2, 2, 6, 9, 2, 1, 5, 1, 1, 0, SAME, 1, 1, 2 },    /* [1, 5] */
        { 1, 3, 9, 4, 3, 3, 2, 1, 1, 2, 0, 2, 1, 3 },       /* dilation [2, 1], pad [2, 0] */
        { 2, 2, 3, 2, 4, 1, 1, 1, 1, 3, 1, 1, 1, 2 },       /* output larger than the input */
        { 1, 2, 13, 17, 2, 4, 3, 1, 1, SAME, SAME, 1, 1, 2 },
        { 2, 3, 8, 8, 3, 3, 3, 2, 1, 0, 1, 1, 1, 3 },       /* strides [2, 1] */
        { 1, 2, 8, 9, 2, 2, 3, 1, 3, 1, 0, 1, 2, 2 },       /* strides [1, 3] */
        { 2, 16, 15, 15, 16, 5, 5, 1, 1, 2, 2, 1, 1, 16 },
        { 1, 2, 40, 3, 2, 7, 1, 4, 1, 3, 0, 1, 1, 2 },
    };
    size_t i;
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++)
        CHECK(check_geo(cases[i]));
}

/* The square lc_conv2d_* are lc_conv_* with one stride, pad and group. */
TEST(conv2d_is_the_square_case)
{
    struct geo g = { 2, 3, 9, 8, 5, 3, 3, 2, 2, 1, 1, 1, 1, 1 };
    lc_conv_dims d = dims_of(&g);
    size_t nx = (size_t)2 * 3 * 9 * 8, nw = 5 * 3 * 9, ny = (size_t)2 * 5 * d.OH * d.OW;
    float *x = randv(nx), *w = randv(nw), *b = randv(5), *y1 = randv(ny), *y2 = randv(ny);
    float *dy = randv(ny), *dx1 = fillv(nx, 0), *dx2 = fillv(nx, 0);
    float *dw1 = fillv(nw, 0), *dw2 = fillv(nw, 0);
    float *work = fillv((size_t)LC_CONV_WORK(&d, 1), 0);
    CHECK(LC_CONV_WORK(&d, 1) == LC_CONV2D_WORK(3, 3, d.OH, d.OW));
    CHECK(d.OH == LC_CONV_OUT(9, 3, 2, 1) && d.OW == LC_CONV_OUT(8, 3, 2, 1));
    lc_conv2d_forward(y1, x, w, b, work, 2, 3, 9, 8, 5, 3, 2, 1);
    lc_conv_forward(y2, x, w, b, work, 2, &d);
    CHECK(memcmp(y1, y2, ny * sizeof *y1) == 0);
    lc_conv2d_backward_into(dx1, dw1, NULL, dy, x, w, work, 2, 3, 9, 8, 5, 3, 2, 1, 0);
    lc_conv_backward_into(dx2, dw2, NULL, dy, x, w, work, 2, &d, 0);
    CHECK(memcmp(dx1, dx2, nx * sizeof *dx1) == 0 && memcmp(dw1, dw2, nw * sizeof *dw1) == 0);
    free(x); free(w); free(b); free(y1); free(y2); free(dy); free(dx1); free(dx2);
    free(dw1); free(dw2); free(work);
}

/* ---- pooling ----------------------------------------------------------------- */

static int check_rect_pool(int B, int C, int H, int W, int KH, int KW, int SH, int SW, int ties)
{
    int OH = (H - KH) / SH + 1, OW = (W - KW) / SW + 1, n, oh, ow, i, j, k;
    size_t nx = (size_t)B * C * H * W, ny = (size_t)B * C * OH * OW;
    float *x = randv(nx), *y = randv(ny), *dy = randv(ny), *dx0 = randv(nx), *dx = copyv(dx0, nx);
    double *r = zerod(ny), *ar = zerod(ny), *rdx = zerod(nx), *ardx = zerod(nx);
    char what[128];
    int ok = 1;
    snprintf(what, sizeof what, "pool B%d C%d %dx%d window %dx%d stride %dx%d%s", B, C, H, W,
             KH, KW, SH, SW, ties ? " (ties)" : "");
    if (ties)
        for (i = 0; i < (int)nx; i++)
            x[i] = (float)(int)(x[i] * 2);
    for (k = 0; k < 2; k++) {
        memset(rdx, 0, nx * sizeof *rdx);
        memset(ardx, 0, nx * sizeof *ardx);
        for (n = 0; n < B * C; n++)
            for (oh = 0; oh < OH; oh++)
                for (ow = 0; ow < OW; ow++) {
                    size_t o = ((size_t)n * OH + oh) * OW + ow, at = 0;
                    double m = -INFINITY, s = 0, a = 0;
                    for (i = 0; i < KH; i++)
                        for (j = 0; j < KW; j++) {
                            size_t q = (size_t)n * H * W + (size_t)(oh * SH + i) * W + ow * SW + j;
                            if (x[q] > m) m = x[q], at = q;
                            s += x[q], a += fabs(x[q]);
                            if (k) {
                                rdx[q] += (double)dy[o] / (KH * KW);
                                ardx[q] += fabs(dy[o]) / (KH * KW);
                            }
                        }
                    if (k) {
                        r[o] = s / (KH * KW), ar[o] = a / (KH * KW);
                    } else {
                        r[o] = m, ar[o] = fabs(m);
                        rdx[at] += dy[o], ardx[at] += fabs(dy[o]);
                    }
                }
        (k ? lc_avgpool_rect_forward : lc_maxpool_rect_forward)(y, x, B, C, H, W, KH, KW, SH, SW);
        ok &= close_to(what, k ? "avg out" : "max out", y, NULL, r, ar, ny);
        memcpy(dx, dx0, nx * sizeof *dx);
        (k ? lc_avgpool_rect_backward_into : lc_maxpool_rect_backward_into)(
            dx, dy, x, B, C, H, W, KH, KW, SH, SW, 1);
        ok &= close_to(what, k ? "avg dinp" : "max dinp", dx, dx0, rdx, ardx, nx);
        for (i = 0; i < (int)nx; i++)
            dx[i] = (float)NAN;
        (k ? lc_avgpool_rect_backward_into : lc_maxpool_rect_backward_into)(
            dx, dy, x, B, C, H, W, KH, KW, SH, SW, 0);
        ok &= close_to(what, k ? "avg dinp (assigned)" : "max dinp (assigned)", dx, NULL, rdx,
                       ardx, nx);
    }
    free(x); free(y); free(dy); free(dx0); free(dx); free(r); free(ar); free(rdx); free(ardx);
    return ok;
}

TEST(pool_rectangular_and_1d)
{
    CHECK(check_rect_pool(2, 3, 25, 5, 25, 5, 25, 5, 0));   /* DS-CNN's last pool */
    CHECK(check_rect_pool(2, 2, 9, 7, 3, 2, 2, 1, 0));
    CHECK(check_rect_pool(1, 3, 8, 11, 2, 3, 1, 3, 1));
    CHECK(check_rect_pool(3, 2, 10, 6, 4, 1, 3, 1, 1));
    CHECK(check_rect_pool(2, 2, 8, 8, 2, 2, 2, 2, 0));      /* the square fast path, as rect */
    CHECK(check_rect_pool(2, 2, 7, 9, 2, 2, 2, 2, 1));
    CHECK(check_rect_pool(2, 3, 1, 17, 1, 3, 1, 2, 0));     /* 1-D: height 1 */
    CHECK(check_rect_pool(1, 2, 1, 10, 1, 2, 1, 2, 1));
    CHECK(check_rect_pool(2, 1, 1, 5, 1, 5, 1, 1, 0));
    CHECK(check_rect_pool(1, 4, 1, 12, 1, 4, 1, 3, 0));
}

static int check_global(int B, int C, int N, int ties)
{
    size_t nx = (size_t)B * C * N, ny = (size_t)B * C, n, i;
    float *x = randv(nx), *y = randv(ny), *dy = randv(ny), *dx0 = randv(nx), *dx = copyv(dx0, nx);
    double *r = zerod(ny), *ar = zerod(ny), *rdx = zerod(nx), *ardx = zerod(nx);
    char what[96];
    int ok = 1, k;
    snprintf(what, sizeof what, "global pool B%d C%d N%d%s", B, C, N, ties ? " (ties)" : "");
    if (ties)
        for (i = 0; i < nx; i++)
            x[i] = (float)(int)(x[i] * 2);
    for (k = 0; k < 2; k++) {
        memset(rdx, 0, nx * sizeof *rdx);
        memset(ardx, 0, nx * sizeof *ardx);
        for (n = 0; n < ny; n++) {
            double m = -INFINITY, s = 0, a = 0;
            size_t at = 0;
            for (i = 0; i < (size_t)N; i++) {
                double v = x[n * N + i];
                if (v > m) m = v, at = i;
                s += v, a += fabs(v);
                rdx[n * N + i] += k ? (double)dy[n] / N : 0;
                ardx[n * N + i] += k ? fabs(dy[n]) / N : 0;
            }
            if (k)
                r[n] = s / N, ar[n] = a / N;
            else
                r[n] = m, ar[n] = fabs(m), rdx[n * N + at] = dy[n], ardx[n * N + at] = fabs(dy[n]);
        }
        if (k)
            lc_global_avgpool_forward(y, x, B, C, N);
        else
            lc_global_maxpool_forward(y, x, B, C, N);
        ok &= close_to(what, k ? "avg out" : "max out", y, NULL, r, ar, ny);
        memcpy(dx, dx0, nx * sizeof *dx);
        if (k)
            lc_global_avgpool_backward_into(dx, dy, B, C, N, 1);
        else
            lc_global_maxpool_backward_into(dx, dy, x, B, C, N, 1);
        ok &= close_to(what, k ? "avg dinp" : "max dinp", dx, dx0, rdx, ardx, nx);
        for (i = 0; i < nx; i++)
            dx[i] = (float)NAN;
        if (k)
            lc_global_avgpool_backward_into(dx, dy, B, C, N, 0);
        else
            lc_global_maxpool_backward_into(dx, dy, x, B, C, N, 0);
        ok &= close_to(what, k ? "avg dinp (assigned)" : "max dinp (assigned)", dx, NULL, rdx,
                       ardx, nx);
    }
    free(x); free(y); free(dy); free(dx0); free(dx); free(r); free(ar); free(rdx); free(ardx);
    return ok;
}

TEST(global_pools)
{
    CHECK(check_global(2, 3, 1, 0));
    CHECK(check_global(3, 2, 7, 0));
    CHECK(check_global(2, 64, 125, 0));
    CHECK(check_global(1, 8, 2304, 0));
    CHECK(check_global(4, 3, 10, 1));
    CHECK(check_global(2, 5, 33, 1));
}

TEST(global_maxpool_nan_and_ties)
{
    float x[8] = { 1, 3, 3, 2, NAN, 1, NAN, 0 }, y[2], dy[2] = { 5, 7 }, dx[8];
    int i;
    lc_global_maxpool_forward(y, x, 1, 2, 4);
    CHECK(y[0] == 3 && isnan(y[1]));
    lc_global_maxpool_backward_into(dx, dy, x, 1, 2, 4, 0);
    CHECK(dx[0] == 0 && dx[1] == 5 && dx[2] == 0 && dx[3] == 0);   /* the first of the tie */
    CHECK(dx[4] == 0 && dx[5] == 0 && dx[6] == 7 && dx[7] == 0);   /* the last NaN */
    for (i = 0; i < 8; i++)
        dx[i] = 1;
    lc_global_avgpool_backward_into(dx, dy, 1, 2, 4, 1);
    CHECK(dx[0] == 1 + 5.0f / 4 && dx[7] == 1 + 7.0f / 4);
    lc_global_avgpool_forward(y, x, 1, 1, 4);
    CHECK(y[0] == 9.0f / 4);
}

int main(void)
{
    RUN(conv_groups);
    RUN(conv_dilation_rect_same);
    RUN(conv_1d);
    RUN(dwconv_shapes);
    RUN(conv2d_is_the_square_case);
    RUN(pool_rectangular_and_1d);
    RUN(global_pools);
    RUN(global_maxpool_nan_and_ties);
    return test_report("conv_kernels");
}
