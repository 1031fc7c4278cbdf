/* test_activation.c: the elementwise kernels of kernels.h (float, as
 * compiled into layerc: the set chosen for this CPU, or LAYERC_KERNELS)
 * against PyTorch's formulas evaluated in double: the activations and
 * their gradients (the kinks included), softmax, the three losses and
 * their fused gradient, add / mul / scale.  Each backward pass is run
 * twice: assigning into a gradient full of NaN (which must not leak) and
 * adding onto one full of values.  Forward values must be within 8 float
 * ulps of the double value, plus 1e-7 |x| for gelu (whose 1 + erf cancels
 * for negative x in float, as in PyTorch's float kernel) and 1e-30 (where
 * e^-x overflows in float, sigmoid and silu give 0, as PyTorch's do);
 * gradients within 2e-6 of |dout| times the largest term. */
#include <float.h>
#include <stdlib.h>

#include "kernels.h"
#include "test.h"
#define TEST_SEED 99
#include "test_random.h"

static double ulp(double v)
{
    int e;
    double u;
    frexp(v, &e);
    u = ldexp(1.0, e - 24);
    return u < 0x1p-149 ? 0x1p-149 : u;
}

/* Inputs: the points where the ops change formula (and a little either
 * side), zeros, large values, infinities, NaN, then random values in
 * [-scale, scale]. */
#define N_SPECIAL 40
static float *inputs(int n, double scale)
{
    static const float special[N_SPECIAL] = {
        0.0f, -0.0f, 1e-30f, -1e-30f, 1e-6f, -1e-6f, 0.5f, -0.5f, 3.0f, -3.0f, 2.99999f, 3.00001f,
        -2.99999f, -3.00001f, 6.0f, 5.99999f, 6.00001f, -0.3f, 0.7f, -1.5f, 2.5f, 17.0f, -17.0f,
        50.0f, -50.0f, 89.0f, -89.0f, 104.0f, -104.0f, 1e30f, -1e30f, FLT_MAX, -FLT_MAX,
        INFINITY, -INFINITY, NAN, 0.625f, -0.921875f, 9.5f, -4.0f };
    float *x = malloc((size_t)n * sizeof *x);
    int i;
    for (i = 0; i < n; i++)
        x[i] = i < N_SPECIAL ? special[i] : (float)(scale * urand());
    return x;
}

static float *filled(int n, float v)
{
    float *p = malloc((size_t)n * sizeof *p);
    int i;
    for (i = 0; i < n; i++)
        p[i] = v;
    return p;
}

static int same_special(double got, double want) /* NaN and infinities exactly */
{
    if (want != want) return got != got;
    if (isinf(want)) return got == want;
    return got == got && !isinf(got);
}

/* ---- the ops in double, as PyTorch writes them ---- */

enum { SIGMOID, TANH, RELU6, HARDSWISH, SILU, GELU, ELU, CLIP, LEAKY, NOPS };
static const char *const names[NOPS] = { "sigmoid", "tanh", "relu6", "hardswish", "silu", "gelu", "elu",
                                         "clip", "leaky_relu" };
static const double ALPHA_ELU = 1.3, LO = -0.5, HI = 2.5, ALPHA_LEAKY = 0.05;

static double sigm(double x) { return 1 / (1 + exp(-x)); }

static double f_ref(int op, double x)
{
    switch (op) {
    case SIGMOID: return sigm(x);
    case TANH: return tanh(x);
    case RELU6: return x != x ? x : x < 0 ? 0 : x > 6 ? 6 : x;
    case HARDSWISH: {   /* x times up to 6 overflows in float, as in PyTorch */
        double r = x * (x + 3 < 0 ? 0 : x + 3 > 6 ? 6 : x + 3);
        return fabs(r) > FLT_MAX ? r * INFINITY : r / 6;
    }
    case SILU: return x / (1 + exp(-x));
    case GELU: return x * 0.5 * (1 + erf(x * M_SQRT1_2));
    case ELU: return x <= 0 ? ALPHA_ELU * expm1(x) : x;
    case CLIP: return x != x ? x : x < LO ? LO : x > HI ? HI : x;
    default: return x > 0 ? x : ALPHA_LEAKY * x;
    }
}

/* d out / d x, with PyTorch's value at the kinks */
static double df_ref(int op, double x)
{
    switch (op) {
    case SIGMOID: return sigm(x) * (1 - sigm(x));
    case TANH: return 1 - tanh(x) * tanh(x);
    case RELU6: return x > 0 && x < 6 ? 1 : 0;
    case HARDSWISH: return x < -3 ? 0 : x < 3 ? x / 3 + 0.5 : 1;
    case SILU: return sigm(x) * (1 + x * (1 - sigm(x)));
    case GELU: return 0.5 * (1 + erf(x * M_SQRT1_2)) + x * exp(-0.5 * x * x) / sqrt(2 * M_PI);
    case ELU: return x <= 0 ? ALPHA_ELU * exp(x) : 1;
    case CLIP: return x >= LO && x <= HI ? 1 : 0;
    default: return x > 0 ? 1 : ALPHA_LEAKY;
    }
}

static void fwd(int op, float *out, const float *x, int n)
{
    switch (op) {
    case SIGMOID: lc_sigmoid_forward(out, x, n); break;
    case TANH: lc_tanh_forward(out, x, n); break;
    case RELU6: lc_relu6_forward(out, x, n); break;
    case HARDSWISH: lc_hardswish_forward(out, x, n); break;
    case SILU: lc_silu_forward(out, x, n); break;
    case GELU: lc_gelu_forward(out, x, n); break;
    case ELU: lc_elu_forward(out, x, n, (float)ALPHA_ELU); break;
    case CLIP: lc_clip_forward(out, x, n, (float)LO, (float)HI); break;
    default: lc_leaky_relu_forward(out, x, n, (float)ALPHA_LEAKY); break;
    }
}

static void bwd(int op, float *dx, const float *dy, const float *x, const float *y, int n, int add)
{
    switch (op) {
    case SIGMOID: lc_sigmoid_backward(dx, dy, y, n, add); break;
    case TANH: lc_tanh_backward(dx, dy, y, n, add); break;
    case RELU6: lc_relu6_backward(dx, dy, x, n, add); break;
    case HARDSWISH: lc_hardswish_backward(dx, dy, x, n, add); break;
    case SILU: lc_silu_backward(dx, dy, x, n, add); break;
    case GELU: lc_gelu_backward(dx, dy, x, n, add); break;
    case ELU: lc_elu_backward(dx, dy, x, n, (float)ALPHA_ELU, add); break;
    case CLIP: lc_clip_backward(dx, dy, x, n, (float)LO, (float)HI, add); break;
    default: lc_leaky_relu_backward(dx, dy, x, n, (float)ALPHA_LEAKY, add); break;
    }
}

/* one op on n values of [-scale, scale] (and the specials) */
static int check_activation(int op, int n, double scale)
{
    float *x = inputs(n, scale), *y = filled(n, NAN), *dy = malloc((size_t)n * sizeof *dy);
    float *d0 = filled(n, NAN), *d1 = malloc((size_t)n * sizeof *d1), *base = malloc((size_t)n * sizeof *base);
    int i, ok = 1;
    for (i = 0; i < n; i++) {
        dy[i] = (float)urand();
        d1[i] = (float)urand();
    }
    fwd(op, y, x, n);
    for (i = 0; i < n && ok; i++) {
        double want = f_ref(op, x[i]);
        double tol = 8 * ulp(want) + (op == GELU ? 1e-7 * fabs(x[i]) : 0) + 1e-30;
        if (!isfinite(want) || !isfinite(x[i]) ? !same_special(y[i], want) : !(fabs(y[i] - want) <= tol)) {
            fprintf(stderr, "  %s(%.9g) = %.9g, want %.17g\n", names[op], (double)x[i], (double)y[i], want);
            ok = 0;
        }
    }
    bwd(op, d0, dy, x, y, n, 0);
    memcpy(base, d1, (size_t)n * sizeof *base);
    bwd(op, d1, dy, x, y, n, 1);
    for (i = 0; i < n && ok; i++) {
        double g = (double)dy[i] * df_ref(op, x[i]);
        /* the largest term of the gradient's formula bounds its rounding */
        double tol = 2e-6 * fabs(dy[i]) * (1 + fabs(x[i])) + 1e-30;
        if (!isfinite(x[i]) || fabs(x[i]) > 1e6) continue;   /* inf - inf and the like: as PyTorch */
        if (!(fabs(d0[i] - g) <= tol) || !(fabs(d1[i] - base[i] - g) <= tol + 1e-7 * fabs(base[i]))) {
            fprintf(stderr, "  %s'(%.9g) dy %.9g: assigned %.9g, added %.9g onto %.9g, want %.17g\n",
                    names[op], (double)x[i], (double)dy[i], (double)d0[i], (double)d1[i],
                    (double)base[i], g);
            ok = 0;
        }
    }
    free(base);
    free(x); free(y); free(dy); free(d0); free(d1);
    return ok;
}

TEST(activations)
{
    int op;
    for (op = 0; op < NOPS; op++) {
        CHECK(check_activation(op, N_SPECIAL + 1, 8));
        CHECK(check_activation(op, 1000, 12));
        CHECK(check_activation(op, 70000, 6));   /* long enough to be split over threads */
    }
}

/* ---- softmax ---- */

static int check_softmax(int B, int n)
{
    float *x = malloc((size_t)B * n * sizeof *x), *y = filled(B * n, NAN), *dy = malloc((size_t)B * n * sizeof *dy);
    float *d0 = filled(B * n, NAN), *d1 = malloc((size_t)B * n * sizeof *d1), *base;
    int b, j, ok = 1;
    for (j = 0; j < B * n; j++) {
        x[j] = (float)(10 * urand());
        dy[j] = (float)urand();
        d1[j] = (float)urand();
    }
    base = malloc((size_t)B * n * sizeof *base);
    memcpy(base, d1, (size_t)B * n * sizeof *base);
    lc_softmax_forward(y, x, B, n);
    lc_softmax_backward(d0, dy, y, B, n, 0);
    lc_softmax_backward(d1, dy, y, B, n, 1);
    for (b = 0; b < B; b++) {
        const float *xr = x + b * n;
        double mx = xr[0], s = 0, dot = 0, p[5000];
        for (j = 1; j < n; j++) mx = xr[j] > mx ? xr[j] : mx;
        for (j = 0; j < n; j++) s += exp(xr[j] - mx);
        for (j = 0; j < n; j++) p[j] = exp(xr[j] - mx) / s, dot += (double)dy[b * n + j] * p[j];
        for (j = 0; j < n && ok; j++) {
            double g = p[j] * (dy[b * n + j] - dot);
            int at = b * n + j;
            /* x - max rounds in float: e^(x - max) carries its error times |x - max|;
             * the row's sum of n values in float (as PyTorch's): ~sqrt(n) roundings */
            double tol = 1.2e-7 * (4 + fabs(xr[j] - mx) + sqrt((double)n)) * p[j] + 1e-38;
            if (!(fabs(y[at] - p[j]) <= tol) || !(fabs(d0[at] - g) <= 2e-6 * p[j]) ||
                !(fabs(d1[at] - (base[at] + g)) <= 2e-6 * p[j] + 1.2e-7 * fabs(base[at] + g))) {
                fprintf(stderr, "  softmax B%d n%d [%d, %d]: %.9g (want %.9g), gradient %.9g / %.9g onto %.9g (want %.9g)\n",
                        B, n, b, j, (double)y[at], p[j], (double)d0[at], (double)d1[at], (double)base[at], g);
                ok = 0;
            }
        }
    }
    free(x); free(y); free(dy); free(d0); free(d1); free(base);
    return ok;
}

TEST(softmax)
{
    CHECK(check_softmax(1, 1));
    CHECK(check_softmax(3, 7));
    CHECK(check_softmax(5, 8));
    CHECK(check_softmax(64, 10));
    CHECK(check_softmax(2, 17));
    CHECK(check_softmax(4, 200));
    CHECK(check_softmax(600, 100));   /* split over threads */
    CHECK(check_softmax(3, 5000));    /* rows longer than a block */
}

/* ---- losses ---- */

static int check_losses(int B, int n)
{
    float *y = malloc((size_t)B * n * sizeof *y), *t = malloc((size_t)B * n * sizeof *t);
    float *z = malloc((size_t)B * n * sizeof *z), *oh = calloc((size_t)B * n, sizeof *oh);
    float *p = malloc((size_t)B * n * sizeof *p), *d = filled(B * n, NAN), *d1 = filled(B * n, 0.25f);
    double mse = 0, bce = 0, ce = 0, got;
    int i, b, j, ok = 1;
    for (i = 0; i < B * n; i++) {
        z[i] = (float)(6 * urand());
        y[i] = (float)(0.5 + 0.5 * urand());
        t[i] = (float)(0.5 + 0.5 * urand());
    }
    if (B * n > 4) y[0] = 0, y[1] = 1, y[2] = 1e-40f, y[3] = 1 - 1e-7f;   /* the clamps */
    for (b = 0; b < B; b++) oh[b * n + (b * 7) % n] = 1;
    for (i = 0; i < B * n; i++) {
        double dd = (double)y[i] - t[i];
        double ly = y[i] > 0 ? log(y[i]) : -100, l1 = y[i] < 1 ? log(1 - (double)y[i]) : -100;
        mse += 0.5 * dd * dd;
        bce -= t[i] * (ly < -100 ? -100 : ly) + (1 - t[i]) * (l1 < -100 ? -100 : l1);
    }
    for (b = 0; b < B; b++) {
        double mx = z[b * n], s = 0;
        for (j = 1; j < n; j++) mx = z[b * n + j] > mx ? z[b * n + j] : mx;
        for (j = 0; j < n; j++) s += exp(z[b * n + j] - mx);
        for (j = 0; j < n; j++) ce -= oh[b * n + j] * (z[b * n + j] - mx - log(s));
    }
    mse /= B, bce /= B, ce /= B;
    got = lc_mse_forward(y, t, B, n);
    if (!(fabs(got - mse) <= 1e-12 * (1 + mse))) ok = 0, fprintf(stderr, "  mse B%d n%d: %.17g, want %.17g\n", B, n, got, mse);
    got = lc_bce_forward(y, t, B, n);
    if (!(fabs(got - bce) <= 3e-7 * (1 + bce))) ok = 0, fprintf(stderr, "  bce B%d n%d: %.17g, want %.17g\n", B, n, got, bce);
    got = lc_cross_entropy_forward(z, oh, B, n);
    if (!(fabs(got - ce) <= 1e-6 * (1 + ce))) ok = 0, fprintf(stderr, "  ce B%d n%d: %.17g, want %.17g\n", B, n, got, ce);
    /* the fused gradient, divided as the generated code divides */
    lc_softmax_forward(p, z, B, n);
    lc_loss_backward(d, p, oh, B, n, 0);
    lc_loss_backward(d1, p, oh, B, n, 1);
    for (i = 0; i < B * n && ok; i++)
        if (d[i] != (p[i] - oh[i]) / (float)B || d1[i] != 0.25f + (p[i] - oh[i]) / (float)B) {
            fprintf(stderr, "  loss gradient [%d]: %.9g / %.9g, want %.9g\n", i, (double)d[i], (double)d1[i],
                    (double)((p[i] - oh[i]) / (float)B));
            ok = 0;
        }
    free(y); free(t); free(z); free(oh); free(p); free(d); free(d1);
    return ok;
}

TEST(losses)
{
    CHECK(check_losses(1, 1));
    CHECK(check_losses(3, 5));
    CHECK(check_losses(64, 10));
    CHECK(check_losses(7, 33));
    CHECK(check_losses(64, 784));    /* several chunks, split over threads */
    CHECK(check_losses(2000, 10));
    CHECK(check_losses(3, 5000));     /* rows longer than a block */
    CHECK(lc_mse_forward(NULL, NULL, 0, 10) == 0);
}

/* The loss of a NaN output is NaN for mse and cross_entropy, and bce counts
 * it outside (0, 1) as the generated code does (-100 for both logs). */
TEST(loss_special_values)
{
    float y[2] = { NAN, 0.5f }, t[2] = { 1, 0 }, z[3] = { 1, NAN, 2 }, oh[3] = { 0, 0, 1 };
    CHECK(isnan(lc_mse_forward(y, t, 1, 2)));
    CHECK(isnan(lc_cross_entropy_forward(z, oh, 1, 3)));
    CHECK_NEAR(lc_bce_forward(y, t, 1, 2), 100 - log(0.5), 1e-5);
    z[1] = -INFINITY;   /* a logit of -inf: probability 0, no NaN */
    CHECK_NEAR(lc_cross_entropy_forward(z, oh, 1, 3), log(1 + exp(-1.0)), 1e-6);
}

/* ---- arithmetic ---- */

TEST(arithmetic)
{
    int n = 70001, i, bad = 0;
    float *a = inputs(n, 100), *b = inputs(n, 3), *o = filled(n, NAN), *d = filled(n, NAN);
    float *e = filled(n, 0.5f);
    for (i = 0; i < N_SPECIAL; i++) b[i] = (float)urand();
    lc_add_forward(o, a, b, n);
    for (i = 0; i < n; i++) bad += !(o[i] == a[i] + b[i] || (o[i] != o[i] && a[i] != a[i]));
    lc_mul_forward(o, a, b, n);
    for (i = 0; i < n; i++) bad += !(o[i] == a[i] * b[i] || (o[i] != o[i] && a[i] != a[i]));
    lc_scale_forward(o, a, n, 0.75f);
    for (i = 0; i < n; i++) bad += !(o[i] == 0.75f * a[i] || (o[i] != o[i] && a[i] != a[i]));
    CHECK(bad == 0);
    bad = 0;
    for (i = 0; i < n; i++) a[i] = (float)urand();
    lc_add_backward(d, a, n, 0);
    lc_add_backward(e, a, n, 1);
    for (i = 0; i < n; i++) bad += d[i] != a[i] || e[i] != 0.5f + a[i];
    /* (adding, a * b + c may be one fma: within rounding) */
    lc_mul_backward(d, a, b, n, 0);
    lc_mul_backward(e, a, b, n, 1);
    for (i = 0; i < n; i++)
        bad += d[i] != a[i] * b[i] || !(fabs(e[i] - ((0.5 + a[i]) + (double)a[i] * b[i])) <= 1e-6 * (1 + fabs(a[i] * b[i])));
    lc_scale_backward(d, a, n, -2.0f, 0);
    for (i = 0; i < n; i++) bad += d[i] != -2.0f * a[i];
    lc_scale_backward(d, a, n, 3.0f, 1);
    for (i = 0; i < n; i++) bad += !(fabs(d[i] - a[i]) <= 1e-6 * fabs(a[i]));
    CHECK(bad == 0);
    free(a); free(b); free(o); free(d); free(e);
}

int main(void)
{
    RUN(activations);
    RUN(softmax);
    RUN(losses);
    RUN(loss_special_values);
    RUN(arithmetic);
    return test_report("activation");
}
