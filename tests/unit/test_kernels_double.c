/* test_kernels_double.c: runtime/kernels.c pasted with lc_real = double and
 * static kernels, as `layerc check` uses it, and every backward pass
 * compared with central finite differences of its forward pass:
 * for L = sum(G * forward(x)), backward(dout = G) must give dL/dx. */
#define LC_REAL_DEFINED
typedef double lc_real;
#define LC_KERNEL static inline
#include "../../runtime/kernels.c"

#include <stdlib.h>

#include "test.h"
#define TEST_SEED 7
#include "test_random.h"

/* An op seen as a function of its parameters: fills out, and its shapes. */
struct op {
    int kind; /* 0 matmul, 1 conv, 2 maxpool, 3 avgpool */
    int B, C, H, W, OC, K, stride, pad;
    double *x, *w, *bias, *work; /* x: input; w, bias: weights (matmul, conv) */
    size_t nx, nw, nb, ny;
};

static void forward(const struct op *o, double *y)
{
    switch (o->kind) {
    case 0: lc_matmul_forward(y, o->x, o->w, o->bias, o->B, o->C, o->OC); break;
    case 1: lc_conv2d_forward(y, o->x, o->w, o->bias, o->work, o->B, o->C, o->H, o->W,
                              o->OC, o->K, o->stride, o->pad); break;
    case 2: lc_maxpool_forward(y, o->x, o->B, o->C, o->H, o->W, o->K, o->stride); break;
    default: lc_avgpool_forward(y, o->x, o->B, o->C, o->H, o->W, o->K, o->stride); break;
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

/* Compares g (from the backward pass, pre-filled with `pre`) with the finite
 * difference of the loss in each element of p. */
static int fd_check(const char *what, struct op *o, double *p, size_t n, const double *g,
                    double pre, const double *G, double *y)
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
            fprintf(stderr, "  %s[%zu]: backward %.12g, finite difference %.12g\n", what, i,
                    g[i] - pre, fd);
            return 0;
        }
    }
    return 1;
}

static double *filled(size_t n, double v)
{
    double *p = malloc((n ? n : 1) * sizeof *p);
    size_t i;
    for (i = 0; i < n; i++)
        p[i] = v;
    return p;
}

/* Runs backward into gradients pre-filled with 0.5 and checks each one. */
static int check_op(struct op o)
{
    double *G, *y, *dx, *dw, *db;
    int ok = 1, OH = 0, OW = 0;
    char what[96];
    if (o.kind == 0) {
        o.nx = (size_t)o.B * o.C; o.nw = (size_t)o.OC * o.C; o.nb = o.OC; o.ny = (size_t)o.B * o.OC;
    } else if (o.kind == 1) {
        OH = LC_CONV_OUT(o.H, o.K, o.stride, o.pad);
        OW = LC_CONV_OUT(o.W, o.K, o.stride, o.pad);
        o.nx = (size_t)o.B * o.C * o.H * o.W; o.nw = (size_t)o.OC * o.C * o.K * o.K;
        o.nb = o.OC; o.ny = (size_t)o.B * o.OC * OH * OW;
    } else {
        OH = (o.H - o.K) / o.stride + 1;
        OW = (o.W - o.K) / o.stride + 1;
        o.nx = (size_t)o.B * o.C * o.H * o.W; o.nw = 0; o.nb = 0;
        o.ny = (size_t)o.B * o.C * OH * OW;
    }
    o.x = randd(o.nx);
    o.w = randd(o.nw);
    o.bias = randd(o.nb);
    o.work = o.kind == 1 ? randd(LC_CONV2D_WORK(o.C, o.K, OH, OW)) : NULL;
    G = randd(o.ny);
    y = randd(o.ny);
    dx = filled(o.nx, 0.5);
    dw = filled(o.nw, 0.5);
    db = filled(o.nb, 0.5);
    switch (o.kind) {
    case 0: lc_matmul_backward(dx, dw, db, G, o.x, o.w, o.B, o.C, o.OC); break;
    case 1: lc_conv2d_backward(dx, dw, db, G, o.x, o.w, o.work, o.B, o.C, o.H, o.W,
                               o.OC, o.K, o.stride, o.pad); break;
    case 2: lc_maxpool_backward(dx, G, o.x, o.B, o.C, o.H, o.W, o.K, o.stride); break;
    default: lc_avgpool_backward(dx, G, o.x, o.B, o.C, o.H, o.W, o.K, o.stride); break;
    }
    snprintf(what, sizeof what, "op %d B%d C%d %dx%d OC%d K%d s%d p%d", o.kind, o.B, o.C,
             o.H, o.W, o.OC, o.K, o.stride, o.pad);
    if (!fd_check(what, &o, o.x, o.nx, dx, 0.5, G, y)) { fprintf(stderr, "  (dinp)\n"); ok = 0; }
    if (!fd_check(what, &o, o.w, o.nw, dw, 0.5, G, y)) { fprintf(stderr, "  (dW)\n"); ok = 0; }
    if (!fd_check(what, &o, o.bias, o.nb, db, 0.5, G, y)) { fprintf(stderr, "  (dbias)\n"); ok = 0; }
    free(o.x); free(o.w); free(o.bias); free(o.work); free(G); free(y);
    free(dx); free(dw); free(db);
    return ok;
}

static struct op make(int kind, int B, int C, int H, int W, int OC, int K, int stride, int pad)
{
    struct op o;
    memset(&o, 0, sizeof o);
    o.kind = kind; o.B = B; o.C = C; o.H = H; o.W = W; o.OC = OC;
    o.K = K; o.stride = stride; o.pad = pad;
    return o;
}

TEST(fd_matmul)
{
    CHECK(check_op(make(0, 3, 5, 0, 0, 4, 0, 0, 0)));
    CHECK(check_op(make(0, 1, 1, 0, 0, 1, 0, 0, 0)));
    CHECK(check_op(make(0, 2, 40, 0, 0, 33, 0, 0, 0)));
    CHECK(check_op(make(0, 11, 7, 0, 0, 2, 0, 0, 0)));
}

TEST(fd_conv)
{
    CHECK(check_op(make(1, 2, 2, 5, 6, 3, 3, 1, 1)));
    CHECK(check_op(make(1, 1, 3, 7, 5, 2, 2, 2, 0)));
    CHECK(check_op(make(1, 2, 1, 6, 6, 2, 5, 1, 2)));
    CHECK(check_op(make(1, 1, 2, 7, 8, 3, 3, 2, 2)));
    CHECK(check_op(make(1, 2, 3, 4, 3, 2, 1, 1, 0)));
    CHECK(check_op(make(1, 1, 2, 9, 4, 2, 3, 3, 1)));
}

TEST(fd_pool)
{
    CHECK(check_op(make(2, 2, 2, 6, 6, 0, 2, 2, 0)));
    CHECK(check_op(make(2, 1, 3, 7, 5, 0, 3, 1, 0)));
    CHECK(check_op(make(2, 1, 2, 8, 7, 0, 3, 2, 0)));
    CHECK(check_op(make(3, 2, 2, 6, 6, 0, 2, 2, 0)));
    CHECK(check_op(make(3, 1, 3, 7, 5, 0, 3, 1, 0)));
    CHECK(check_op(make(3, 1, 2, 8, 7, 0, 3, 3, 0)));
}

/* The double kernels agree with a direct convolution to double rounding. */
TEST(double_conv_matches_direct)
{
    int B = 2, C = 3, H = 9, W = 8, OC = 5, K = 3, stride = 2, pad = 1;
    int OH = LC_CONV_OUT(H, K, stride, pad), OW = LC_CONV_OUT(W, K, stride, pad);
    double *x = randd((size_t)B * C * H * W), *w = randd((size_t)OC * C * K * K);
    double *bias = randd(OC), *y = randd((size_t)B * OC * OH * OW);
    double *work = randd(LC_CONV2D_WORK(C, K, OH, OW));
    int b, o, oh, ow, c, ki, kj;
    lc_conv2d_forward(y, x, w, bias, work, B, C, H, W, OC, K, stride, pad);
    for (b = 0; b < B; b++)
        for (o = 0; o < OC; o++)
            for (oh = 0; oh < OH; oh++)
                for (ow = 0; ow < OW; ow++) {
                    double s = bias[o];
                    for (c = 0; c < C; c++)
                        for (ki = 0; ki < K; ki++)
                            for (kj = 0; kj < K; kj++) {
                                int ih = oh * stride - pad + ki, iw = ow * stride - pad + kj;
                                if (ih >= 0 && ih < H && iw >= 0 && iw < W)
                                    s += w[((o * C + c) * K + ki) * K + kj] *
                                         x[((b * C + c) * H + ih) * W + iw];
                            }
                    CHECK_NEAR(y[((b * OC + o) * OH + oh) * OW + ow], s, 1e-12);
                }
    free(x); free(w); free(bias); free(y); free(work);
}

int main(void)
{
    RUN(fd_matmul);
    RUN(fd_conv);
    RUN(fd_pool);
    RUN(double_conv_matches_direct);
    return test_report("kernels_double");
}
