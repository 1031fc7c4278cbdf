/* test_activation_double.c: the elementwise kernels pasted with lc_real =
 * double (as `layerc check` uses them: exp, tanh, erf are then libm's), and
 * every backward pass against central finite differences of its forward
 * pass: for L = sum(G * forward(x)), backward(dout = G) must give dL/dx
 * (Richardson's extrapolation of steps h and 2h, h = 1e-3: its error is
 * about h^4 f^(5) + 1e-16 |L| / h, under 1e-11 here, so the bound is
 * 1e-9 relative, tight enough to see a constant off in its sixth digit;
 * inputs kept 5e-3 away from the kinks).  The fused
 * gradient of each loss is checked the same way through the softmax or
 * the sigmoid it starts at, and the forward values against libm in double
 * (to 1e-14). */
#define LC_REAL_DEFINED
typedef double lc_real;
#define LC_KERNEL static inline
#include "../../runtime/kernels.c"

#include <stdlib.h>

#include "test.h"
#define TEST_SEED 11
#include "test_random.h"

enum { SIGMOID, TANH, RELU6, HARDSWISH, SILU, GELU, ELU, CLIP, LEAKY, SOFTMAX, NOPS };
static const char *const names[NOPS] = { "sigmoid", "tanh", "relu6", "hardswish", "silu", "gelu", "elu",
                                         "clip", "leaky_relu", "softmax" };
#define N 24
#define ROW 6   /* softmax: 4 rows of 6 */

static void fwd(int op, double *y, const double *x)
{
    switch (op) {
    case SIGMOID: lc_sigmoid_forward(y, x, N); break;
    case TANH: lc_tanh_forward(y, x, N); break;
    case RELU6: lc_relu6_forward(y, x, N); break;
    case HARDSWISH: lc_hardswish_forward(y, x, N); break;
    case SILU: lc_silu_forward(y, x, N); break;
    case GELU: lc_gelu_forward(y, x, N); break;
    case ELU: lc_elu_forward(y, x, N, 0.7); break;
    case CLIP: lc_clip_forward(y, x, N, -1.5, 2.0); break;
    case LEAKY: lc_leaky_relu_forward(y, x, N, 0.2); break;
    default: lc_softmax_forward(y, x, N / ROW, ROW); break;
    }
}

static void bwd(int op, double *dx, const double *G, const double *x, const double *y)
{
    switch (op) {
    case SIGMOID: lc_sigmoid_backward(dx, G, y, N, 1); break;
    case TANH: lc_tanh_backward(dx, G, y, N, 1); break;
    case RELU6: lc_relu6_backward(dx, G, x, N, 1); break;
    case HARDSWISH: lc_hardswish_backward(dx, G, x, N, 1); break;
    case SILU: lc_silu_backward(dx, G, x, N, 1); break;
    case GELU: lc_gelu_backward(dx, G, x, N, 1); break;
    case ELU: lc_elu_backward(dx, G, x, N, 0.7, 1); break;
    case CLIP: lc_clip_backward(dx, G, x, N, -1.5, 2.0, 1); break;
    case LEAKY: lc_leaky_relu_backward(dx, G, x, N, 0.2, 1); break;
    default: lc_softmax_backward(dx, G, y, N / ROW, ROW, 1); break;
    }
}

static double weighted(int op, const double *G, const double *x)
{
    double y[N], s = 0;
    int i;
    fwd(op, y, x);
    for (i = 0; i < N; i++)
        s += G[i] * y[i];
    return s;
}

/* far from the kinks at -3, -1.5, 0, 2, 3 and 6 */
static int near_kink(double v)
{
    static const double kinks[] = { -3, -1.5, 0, 2, 3, 6 };
    size_t k;
    for (k = 0; k < sizeof kinks / sizeof kinks[0]; k++)
        if (fabs(v - kinks[k]) < 5e-3) return 1;
    return 0;
}

static int check_fd(int op)
{
    double x[N], G[N], y[N], dx[N];
    const double h = 1e-3;
    int i, ok = 1;
    for (i = 0; i < N; i++) {
        do x[i] = 8 * urand(); while (near_kink(x[i]));
        G[i] = urand();
        dx[i] = 0.5;
    }
    fwd(op, y, x);
    bwd(op, dx, G, x, y);
    for (i = 0; i < N; i++) {
        double keep = x[i], lp, lm, lp2, lm2, fd;
        x[i] = keep + h, lp = weighted(op, G, x);
        x[i] = keep - h, lm = weighted(op, G, x);
        x[i] = keep + 2 * h, lp2 = weighted(op, G, x);
        x[i] = keep - 2 * h, lm2 = weighted(op, G, x);
        x[i] = keep;
        fd = (8 * (lp - lm) - (lp2 - lm2)) / (12 * h);
        if (!(fabs(dx[i] - 0.5 - fd) <= 1e-9 * (1 + fabs(fd)))) {
            fprintf(stderr, "  %s'(%.6g): backward %.12g, finite difference %.12g\n", names[op], x[i],
                    dx[i] - 0.5, fd);
            ok = 0;
        }
    }
    return ok;
}

TEST(fd_activations)
{
    int op;
    for (op = 0; op < NOPS; op++)
        CHECK(check_fd(op));
}

/* d loss / d z of each loss at the point its fused gradient starts: mse at
 * its output z, cross_entropy through softmax(z), bce through sigmoid(z) */
static double loss_at(int kind, const double *z, const double *t, int B, int n)
{
    double y[N];
    if (kind == 0) return lc_mse_forward(z, t, B, n);
    if (kind == 1) return lc_cross_entropy_forward(z, t, B, n);
    lc_sigmoid_forward(y, z, B * n);
    return lc_bce_forward(y, t, B, n);
}

TEST(fd_losses)
{
    const int B = 4, n = N / 4;
    double z[N], t[N], y[N], dz[N];
    const double h = 1e-6;
    int kind, i;
    for (kind = 0; kind < 3; kind++) {
        for (i = 0; i < N; i++) {
            z[i] = 3 * urand();
            t[i] = kind == 1 ? (i % n == (i / n) % n) : 0.5 + 0.5 * urand();
        }
        if (kind == 0) memcpy(y, z, sizeof y);
        else if (kind == 1) lc_softmax_forward(y, z, B, n);
        else lc_sigmoid_forward(y, z, N);
        lc_loss_backward(dz, y, t, B, n, 0);
        for (i = 0; i < N; i++) {
            double keep = z[i], lp, lm, fd;
            z[i] = keep + h, lp = loss_at(kind, z, t, B, n);
            z[i] = keep - h, lm = loss_at(kind, z, t, B, n);
            z[i] = keep;
            fd = (lp - lm) / (2 * h);
            if (!(fabs(dz[i] - fd) <= 1e-6 * (1 + fabs(fd))))
                fprintf(stderr, "  loss %d [%d]: fused gradient %.12g, finite difference %.12g\n", kind, i,
                        dz[i], fd);
            CHECK(fabs(dz[i] - fd) <= 1e-6 * (1 + fabs(fd)));
        }
    }
}

/* with lc_real = double the functions are libm's, to double rounding */
TEST(double_is_libm)
{
    double x[N], y[N];
    int i;
    for (i = 0; i < N; i++)
        x[i] = 6 * urand();
    lc_gelu_forward(y, x, N);
    for (i = 0; i < N; i++)
        CHECK_NEAR(y[i], x[i] * 0.5 * (1 + erf(x[i] / sqrt(2.0))), 1e-14);
    lc_tanh_forward(y, x, N);
    for (i = 0; i < N; i++)
        CHECK_NEAR(y[i], tanh(x[i]), 1e-15);
    lc_elu_forward(y, x, N, 1.0);
    for (i = 0; i < N; i++)
        CHECK_NEAR(y[i], x[i] <= 0 ? expm1(x[i]) : x[i], 1e-15);
    lc_sigmoid_forward(y, x, N);
    for (i = 0; i < N; i++)
        CHECK_NEAR(y[i], 1 / (1 + exp(-x[i])), 1e-15);
}

int main(void)
{
    RUN(fd_activations);
    RUN(fd_losses);
    RUN(double_is_libm);
    return test_report("activation_double");
}
