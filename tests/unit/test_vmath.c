/* test_vmath.c: the float exp, expm1, log, tanh and erf of
 * runtime/kernels/vmath.c against libm in double, over the whole float
 * range: every 2048th float bit pattern of either sign (4,096 values in
 * each binade, every binade from the subnormals to inf), every multiple of
 * 2^-16 in [-16, 16] (around 0, and where the functions switch between
 * their polynomials), and the special values.  The error is in units in
 * the last place of the exact value rounded to float (2^-149 below the
 * normal range); each function must stay within LC_ULP_BOUND of it, and
 * give libm's special values.  Each line printed gives the largest error
 * and, for comparison, that of glibc's float function on the same values.
 * Built with this build's flags here, and with -mavx2 -mfma and AVX-512
 * (where the compiler contracts a * b + c into one fma) by t_dispatch.sh. */
#include <float.h>
#include <stdlib.h>

#include "../../runtime/kernels/common.c"
#include "../../runtime/kernels/vmath.c"
#include "test.h"

#ifndef LC_ULP_BOUND
#define LC_ULP_BOUND 2.0
#endif

/* |got - want| in float ulps of want (inf, and what rounds to it in float,
 * counts as 2^128) */
static double ulps(float got, double want)
{
    double g = got, w = want, u;
    int e;
    if (isinf(g)) g = g > 0 ? 0x1p128 : -0x1p128;
    if (fabs(w) >= 0x1p128 - 0x1p103) w = w > 0 ? 0x1p128 : -0x1p128;
    frexp(w, &e);
    u = ldexp(1.0, e - 24);
    if (u < 0x1p-149) u = 0x1p-149;
    return fabs(g - w) / u;
}

struct fn {
    const char *name;
    float (*fast)(float);
    float (*libm)(float);
    double (*exact)(double);
};

static float f_exp(float x) { return lc__expf(x); }
static float f_expm1(float x) { return lc__expm1f(x); }
static float f_log(float x) { return lc__logf(x); }
static float f_tanh(float x) { return lc__tanhf(x); }
static float f_erf(float x) { return lc__erff(x); }

static const struct fn fns[] = {
    { "exp", f_exp, expf, exp },     { "expm1", f_expm1, expm1f, expm1 }, { "log", f_log, logf, log },
    { "tanh", f_tanh, tanhf, tanh }, { "erf", f_erf, erff, erf },
};

static float from_bits(unsigned u)
{
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

/* the sweep: calls fn on every value of it */
static void sweep(void (*fn)(void *, float), void *ctx)
{
    unsigned long u;
    long k;
    for (u = 0; u < 0x100000000UL; u += 2048) {
        float x = from_bits((unsigned)u);
        if (x == x) fn(ctx, x);
    }
    for (k = -(16L << 16); k <= (16L << 16); k++)
        fn(ctx, (float)k / 65536.0f);
}

struct stats {
    const struct fn *f;
    double worst, worst_libm;
    float at;
    long n;
};

static void measure(void *p, float x)
{
    struct stats *s = (struct stats *)p;
    double want = s->f->exact(x);
    double e;
    if (want != want) return;   /* log of a negative number: checked below */
    e = ulps(s->f->fast(x), want);
    if (!(e <= s->worst)) s->worst = e, s->at = x;
    e = ulps(s->f->libm(x), want);
    if (e > s->worst_libm) s->worst_libm = e;
    s->n++;
}

TEST(accuracy_over_the_float_range)
{
    size_t i;
    for (i = 0; i < sizeof fns / sizeof fns[0]; i++) {
        struct stats s;
        memset(&s, 0, sizeof s);
        s.f = &fns[i];
        sweep(measure, &s);
        printf("vmath %-5s: max error %.2f ulp at %.9g over %ld values (glibc's %sf: %.2f ulp)\n", fns[i].name,
               s.worst, (double)s.at, s.n, fns[i].name, s.worst_libm);
        CHECK(s.n > 2000000);
        if (!(s.worst <= LC_ULP_BOUND))
            fprintf(stderr, "  %s: %.2f ulp > %.1f at x = %.9g: %.9g, want %.17g\n", fns[i].name, s.worst,
                    LC_ULP_BOUND, (double)s.at, (double)fns[i].fast(s.at), fns[i].exact(s.at));
        CHECK(s.worst <= LC_ULP_BOUND);
    }
}

static int same(float a, float b) /* the same value, -0 apart from 0, NaN = NaN */
{
    return (a != a && b != b) || (a == b && signbit(a) == signbit(b));
}

TEST(special_values)
{
    const float inf = INFINITY, nan = NAN;
    const float xs[] = { 0.0f, -0.0f, inf, -inf, nan, -nan, 1.0f, -1.0f, FLT_MAX, -FLT_MAX, FLT_MIN,
                         -FLT_MIN, 0x1p-149f, -0x1p-149f, 88.72283f, 88.72284f, 89.0f, -87.33654f,
                         -103.27893f, -103.97208f, -104.0f, -200.0f, 9.5f, -9.5f, 4.0f, -4.0f,
                         0.921875f, -0.921875f, 0.625f, -0.625f, 17.0f, 18.0f, -20.0f, -30.0f };
    size_t i, k;
    for (k = 0; k < sizeof fns / sizeof fns[0]; k++)
        for (i = 0; i < sizeof xs / sizeof xs[0]; i++) {
            float got = fns[k].fast(xs[i]), want = fns[k].libm(xs[i]);
            /* glibc is exact on these; a finite result may differ by rounding */
            int ok = same(got, want) || (isfinite(want) && want != 0 && ulps(got, fns[k].exact(xs[i])) <= LC_ULP_BOUND);
            if (!ok)
                fprintf(stderr, "  %s(%.9g) = %.9g, libm %.9g\n", fns[k].name, (double)xs[i], (double)got,
                        (double)want);
            CHECK(ok);
        }
    /* NaN out of log for every negative number, -inf at either zero */
    for (i = 0; i < 64; i++) {
        float x = -ldexpf(1.0f, (int)i * 4 - 128);
        CHECK(lc__logf(x) != lc__logf(x));
    }
    CHECK(lc__logf(-0.0f) == -inf && lc__logf(0.0f) == -inf);
}

int main(void)
{
    RUN(accuracy_over_the_float_range);
    RUN(special_values);
    return test_report("vmath");
}
