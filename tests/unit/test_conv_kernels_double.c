/* test_conv_kernels_double.c: the general and depthwise convolutions and
 * the rectangular and global pools pasted with lc_real = double, as
 * `layerc check` uses them: every backward pass against central finite
 * differences of its forward pass (for L = sum(G * forward(x)), backward(dout
 * = G) must give dL/dx, dL/dW, dL/db), and the depthwise kernel against the
 * im2col one to double rounding. */
#define LC_REAL_DEFINED
typedef double lc_real;
#define LC_KERNEL static inline
#include "../../runtime/kernels.c"

#include <stdlib.h>

#include "test.h"
#define TEST_SEED 77
#include "test_random.h"

static double *filled(size_t n, double x)
{
    double *v = malloc((n ? n : 1) * sizeof *v);
    size_t i;
    for (i = 0; i < n; i++)
        v[i] = x;
    return v;
}

enum { CONV, DWCONV, MAXPOOL, AVGPOOL, GMAX, GAVG };

/* An op as a function of its input and weights. */
struct op {
    int kind, B;
    lc_conv_dims d;   /* pools: C, H, W, KH, KW, SH, SW, OH, OW */
    double *x, *w, *bias, *work;
    size_t nx, nw, nb, ny;
};

static void forward(const struct op *o, double *y)
{
    const lc_conv_dims *d = &o->d;
    switch (o->kind) {
    case CONV: lc_conv_forward(y, o->x, o->w, o->bias, o->work, o->B, d); break;
    case DWCONV: lc_dwconv_forward(y, o->x, o->w, o->bias, o->work, o->B, d); break;
    case MAXPOOL: lc_maxpool_rect_forward(y, o->x, o->B, d->C, d->H, d->W, d->KH, d->KW, d->SH, d->SW); break;
    case AVGPOOL: lc_avgpool_rect_forward(y, o->x, o->B, d->C, d->H, d->W, d->KH, d->KW, d->SH, d->SW); break;
    case GMAX: lc_global_maxpool_forward(y, o->x, o->B, d->C, d->H * d->W); break;
    default: lc_global_avgpool_forward(y, o->x, o->B, d->C, d->H * d->W); break;
    }
}

static double loss(const struct op *o, const double *G, double *y)
{
    double s = 0;
    size_t i;
    forward(o, y);
    for (i = 0; i < o->ny; i++)
        s += G[i] * y[i];
    return s;
}

static int fd_check(const char *what, const char *part, struct op *o, double *p, size_t n,
                    const double *g, double pre, const double *G, double *y)
{
    size_t i;
    const double h = 1e-5;
    for (i = 0; i < n; i++) {
        double keep = p[i], lp, lm, fd;
        p[i] = keep + h;
        lp = loss(o, G, y);
        p[i] = keep - h;
        lm = loss(o, G, y);
        p[i] = keep;
        fd = (lp - lm) / (2 * h);
        if (!(fabs(g[i] - pre - fd) <= 1e-6 * (1 + fabs(fd)))) {
            fprintf(stderr, "  %s %s[%zu]: backward %.12g, finite difference %.12g\n", what, part,
                    i, g[i] - pre, fd);
            return 0;
        }
    }
    return 1;
}

/* Backward into gradients pre-filled with 0.5, each checked. */
static int check_op(struct op o, const char *what)
{
    const lc_conv_dims *d = &o.d;
    double *G, *y, *dx, *dw, *db;
    int ok = 1, pool = o.kind >= MAXPOOL, global = o.kind >= GMAX;
    o.nx = (size_t)o.B * d->C * d->H * d->W;
    o.nw = pool ? 0 : (size_t)d->OC * (d->C / d->G) * d->KH * d->KW;
    o.nb = pool ? 0 : (size_t)d->OC;
    o.ny = global ? (size_t)o.B * d->C : (size_t)o.B * (pool ? d->C : d->OC) * d->OH * d->OW;
    o.x = randd(o.nx);
    o.w = randd(o.nw);
    o.bias = randd(o.nb);
    o.work = o.kind == CONV ? randd((size_t)LC_CONV_WORK(d, 1))
             : o.kind == DWCONV ? randd((size_t)LC_DWCONV_WORK(d, 1)) : NULL;
    G = randd(o.ny);
    y = randd(o.ny);
    dx = filled(o.nx, 0.5);
    dw = filled(o.nw, 0.5);
    db = filled(o.nb, 0.5);
    switch (o.kind) {
    case CONV: lc_conv_backward_into(dx, dw, db, G, o.x, o.w, o.work, o.B, d, 1); break;
    case DWCONV: lc_dwconv_backward_into(dx, dw, db, G, o.x, o.w, o.work, o.B, d, 1); break;
    case MAXPOOL:
        lc_maxpool_rect_backward_into(dx, G, o.x, o.B, d->C, d->H, d->W, d->KH, d->KW, d->SH, d->SW, 1);
        break;
    case AVGPOOL:
        lc_avgpool_rect_backward_into(dx, G, o.x, o.B, d->C, d->H, d->W, d->KH, d->KW, d->SH, d->SW, 1);
        break;
    case GMAX: lc_global_maxpool_backward_into(dx, G, o.x, o.B, d->C, d->H * d->W, 1); break;
    default: lc_global_avgpool_backward_into(dx, G, o.B, d->C, d->H * d->W, 1); break;
    }
    ok &= fd_check(what, "dinp", &o, o.x, o.nx, dx, 0.5, G, y);
    ok &= fd_check(what, "dW", &o, o.w, o.nw, dw, 0.5, G, y);
    ok &= fd_check(what, "dbias", &o, o.bias, o.nb, db, 0.5, G, y);
    free(o.x); free(o.w); free(o.bias); free(o.work); free(G); free(y);
    free(dx); free(dw); free(db);
    return ok;
}

/* kind, B, C, H, W, OC, KH, KW, SH, SW, pad top, pad left, DH, DW, G; OH and
 * OW from the padding top + bottom given (ph2, pw2: the total). */
static struct op conv(int kind, int B, int C, int H, int W, int OC, int KH, int KW, int SH,
                      int SW, int PH, int PW, int ph2, int pw2, int DH, int DW, int G)
{
    struct op o;
    memset(&o, 0, sizeof o);
    o.kind = kind, o.B = B;
    o.d.C = C, o.d.H = H, o.d.W = W, o.d.OC = OC, o.d.KH = KH, o.d.KW = KW;
    o.d.SH = SH, o.d.SW = SW, o.d.PH = PH, o.d.PW = PW, o.d.DH = DH, o.d.DW = DW, o.d.G = G;
    o.d.OH = (H + ph2 - (KH - 1) * DH - 1) / SH + 1;
    o.d.OW = (W + pw2 - (KW - 1) * DW - 1) / SW + 1;
    return o;
}

static struct op pool(int kind, int B, int C, int H, int W, int KH, int KW, int SH, int SW)
{
    struct op o = conv(kind, B, C, H, W, C, KH, KW, SH, SW, 0, 0, 0, 0, 1, 1, 1);
    return o;
}

static int check_conv(struct op o)
{
    char what[200];
    const lc_conv_dims *d = &o.d;
    int ok;
    snprintf(what, sizeof what, "%s B%d C%d %dx%d OC%d %dx%d k%dx%d s%dx%d p%d,%d d%dx%d g%d",
             o.kind == CONV ? "conv" : "dwconv", o.B, d->C, d->H, d->W, d->OC, d->OH, d->OW,
             d->KH, d->KW, d->SH, d->SW, d->PH, d->PW, d->DH, d->DW, d->G);
    ok = check_op(o, what);
    if (o.kind == CONV && d->G == d->C) {   /* and the depthwise kernel on it */
        o.kind = DWCONV;
        what[0] = 'D';
        ok &= check_op(o, what);
    }
    return ok;
}

TEST(fd_conv_general)
{
    /* kind, B, C, H, W, OC, KH, KW, SH, SW, PH, PW, ph2, pw2, DH, DW, G */
    CHECK(check_conv(conv(CONV, 2, 4, 5, 6, 6, 3, 3, 1, 1, 1, 1, 2, 2, 1, 1, 2)));
    CHECK(check_conv(conv(CONV, 1, 3, 7, 6, 2, 3, 2, 2, 1, 2, 0, 4, 1, 2, 3, 1)));
    CHECK(check_conv(conv(CONV, 2, 2, 6, 5, 3, 4, 3, 1, 1, 1, 1, 3, 2, 1, 1, 1)));   /* same, even kernel */
    CHECK(check_conv(conv(CONV, 1, 2, 7, 8, 2, 3, 3, 2, 2, 1, 0, 2, 1, 1, 1, 1)));   /* same, stride 2 */
    CHECK(check_conv(conv(CONV, 2, 6, 5, 4, 6, 3, 3, 1, 2, 1, 1, 2, 2, 1, 1, 3)));
    CHECK(check_conv(conv(CONV, 2, 3, 1, 11, 6, 1, 3, 1, 2, 0, 2, 0, 4, 1, 2, 1)));  /* 1-D */
}

TEST(fd_dwconv)
{
    CHECK(check_conv(conv(CONV, 2, 3, 6, 5, 3, 3, 3, 1, 1, 1, 1, 2, 2, 1, 1, 3)));
    CHECK(check_conv(conv(CONV, 1, 2, 7, 7, 4, 3, 3, 2, 2, 0, 0, 1, 1, 1, 1, 2)));   /* 2 a channel */
    CHECK(check_conv(conv(CONV, 2, 2, 8, 6, 2, 3, 2, 3, 2, 2, 1, 4, 1, 2, 2, 2)));
    CHECK(check_conv(conv(CONV, 1, 3, 4, 9, 6, 2, 3, 1, 3, 0, 1, 1, 2, 1, 1, 3)));
    CHECK(check_conv(conv(CONV, 2, 2, 3, 3, 2, 1, 1, 1, 1, 2, 1, 4, 2, 1, 1, 2)));   /* output > input */
    CHECK(check_conv(conv(CONV, 2, 4, 1, 13, 4, 1, 5, 1, 1, 0, 2, 0, 4, 1, 1, 4)));  /* 1-D */
    CHECK(check_conv(conv(CONV, 1, 2, 1, 9, 2, 1, 3, 1, 2, 0, 1, 0, 1, 1, 2, 2)));   /* 1-D, stride 2 */
}

TEST(fd_pools)
{
    CHECK(check_op(pool(MAXPOOL, 2, 2, 7, 6, 3, 2, 2, 1), "maxpool 3x2 s2x1"));
    CHECK(check_op(pool(AVGPOOL, 2, 2, 7, 6, 3, 2, 2, 1), "avgpool 3x2 s2x1"));
    CHECK(check_op(pool(MAXPOOL, 1, 3, 5, 5, 5, 5, 5, 5), "maxpool 5x5 whole"));
    CHECK(check_op(pool(AVGPOOL, 2, 2, 1, 11, 1, 3, 1, 2), "avgpool 1-D 3 s2"));
    CHECK(check_op(pool(MAXPOOL, 2, 2, 1, 11, 1, 2, 1, 2), "maxpool 1-D 2 s2"));
    CHECK(check_op(pool(GMAX, 2, 3, 4, 5, 1, 1, 1, 1), "global max"));
    CHECK(check_op(pool(GAVG, 2, 3, 4, 5, 1, 1, 1, 1), "global avg"));
    CHECK(check_op(pool(GAVG, 3, 2, 1, 7, 1, 1, 1, 1), "global avg 1-D"));
}

/* The depthwise kernel and the im2col one agree to double rounding. */
TEST(dwconv_matches_im2col)
{
    static const int shapes[][12] = {
        /* B, C, H, W, M, K, S, P, D, ph2: the total padding */
        { 2, 4, 25, 5, 1, 3, 1, 1, 1, 2 }, { 1, 3, 12, 12, 2, 3, 2, 0, 1, 1 },
        { 2, 2, 9, 7, 3, 5, 1, 4, 2, 8 }, { 1, 5, 6, 6, 1, 1, 3, 0, 1, 0 },
    };
    size_t i, k;
    for (i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        const int *s = shapes[i];
        struct op o = conv(CONV, s[0], s[1], s[2], s[3], s[1] * s[4], s[5], s[5], s[6], s[6], s[7],
                           s[7], s[9], s[9], s[8], s[8], s[1]);
        const lc_conv_dims *d = &o.d;
        size_t nx = (size_t)o.B * d->C * d->H * d->W, nw = (size_t)d->OC * d->KH * d->KW;
        size_t ny = (size_t)o.B * d->OC * d->OH * d->OW;
        double *x = randd(nx), *w = randd(nw), *b = randd(d->OC), *y1 = randd(ny), *y2 = randd(ny);
        double *dy = randd(ny), *dx1 = randd(nx), *dx2 = randd(nx), *dw1 = filled(nw, 0);
        double *dw2 = filled(nw, 0), *db1 = filled(d->OC, 0), *db2 = filled(d->OC, 0);
        double *w1 = randd((size_t)LC_CONV_WORK(d, 1)), *w2 = randd((size_t)LC_DWCONV_WORK(d, 1));
        lc_conv_forward(y1, x, w, b, w1, o.B, d);
        lc_dwconv_forward(y2, x, w, b, w2, o.B, d);
        for (k = 0; k < ny; k++)
            CHECK_NEAR(y1[k], y2[k], 1e-12);
        lc_conv_backward_into(dx1, dw1, db1, dy, x, w, w1, o.B, d, 0);
        lc_dwconv_backward_into(dx2, dw2, db2, dy, x, w, w2, o.B, d, 0);
        for (k = 0; k < nx; k++)
            CHECK_NEAR(dx1[k], dx2[k], 1e-12);
        for (k = 0; k < nw; k++)
            CHECK_NEAR(dw1[k], dw2[k], 1e-11);
        for (k = 0; k < (size_t)d->OC; k++)
            CHECK_NEAR(db1[k], db2[k], 1e-11);
        free(x); free(w); free(b); free(y1); free(y2); free(dy); free(dx1); free(dx2);
        free(dw1); free(dw2); free(db1); free(db2); free(w1); free(w2);
    }
}

int main(void)
{
    RUN(fd_conv_general);
    RUN(fd_dwconv);
    RUN(fd_pools);
    RUN(dwconv_matches_im2col);
    return test_report("conv_kernels_double");
}
