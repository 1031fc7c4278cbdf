/* kernels/vmath.c: e^x, e^x - 1, log, tanh and erf in float, written
 * without branches (selects only) so that the loops that call them
 * vectorise: libm's functions are calls that gcc cannot vectorise, and that
 * tcc-built loops make one value at a time.
 *
 * Each is within 2 ulp of the exact value over the whole float range
 * (tests/unit/test_vmath.c sweeps it against libm in double) and gives
 * libm's special values: overflow to inf, underflow through the subnormals
 * to 0, e^-inf = 0, log 0 = -inf, log of a negative number NaN, NaN in NaN
 * out, tanh and erf of +-inf +-1.  The polynomials are minimax fits of
 * tests/unit/vmath_fit.py.  Assumes IEEE single precision and a 32-bit int.
 *
 * With lc_real = double (layerc check) LC__EXP and the others are libm's
 * double functions: finite differences want every digit.  Needs common.c. */

typedef union {
    float f;
    int i;
} lc__fbits;
static inline int lc__f2i(float x)
{
    lc__fbits u;
    u.f = x;
    return u.i;
}
static inline float lc__i2f(int i)
{
    lc__fbits u;
    u.i = i;
    return u.f;
}
#define LC__INF lc__i2f(0x7f800000)
#define LC__NAN lc__i2f(0x7fc00000)

/* c ? a : b for c = 0 or 1, as bit masks.  gcc turns a ternary on floats
 * into a branch (it may not use min/max: NaN and -0), duplicates the code
 * after it for each side, and then vectorises none of it. */
static inline float lc__sel(int c, float a, float b)
{
    int m = -c;
    return lc__i2f((lc__f2i(a) & m) | (lc__f2i(b) & ~m));
}
static inline float lc__abs(float x) { return lc__i2f(lc__f2i(x) & 0x7fffffff); }
/* |m| with the sign of s */
static inline float lc__sign_of(float m, float s)
{
    return lc__i2f((lc__f2i(m) & 0x7fffffff) | (lc__f2i(s) & (int)0x80000000u));
}

/* x = n ln 2 + r, |r| <= ln 2 / 2 (a little more when n is off by one). x
 * is clamped to [-104, 89] first (past those e^x is 0 or inf anyway), which
 * keeps n in [-150, 128].  n = round(x / ln 2) by adding 1.5 * 2^23 (then
 * n is in the low bits of the sum); ln 2 in two parts (Cody and Waite): n
 * times the first is exact. */
static inline float lc__exp_reduce(float x, int *n)
{
    float c = lc__sel(x > -104.0f, x, -104.0f), t, nf;
    c = lc__sel(c < 89.0f, c, 89.0f);
    t = c * 1.44269504f + 12582912.0f;
    nf = t - 12582912.0f;
    *n = lc__f2i(t) - 0x4b400000;
    return (c - nf * 0.693359375f) - nf * -2.12194440e-4f;
}

/* e^r - 1 = r + r^2 P(r), |r| <= ~0.354 */
static inline float lc__expm1_poly(float r)
{
    float p = 0.00139432272f;
    p = p * r + 0.00836438313f;
    p = p * r + 0.0416663513f;
    p = p * r + 0.166665703f;
    p = p * r + 0.5f;
    return r + r * r * p;
}

/* 2^n for n in [-150, 128] as two factors, each a normal float: the
 * product p 2^n1 2^n2 rounds once, into the subnormals or to inf. */
static inline float lc__pow2_lo(int n) { return lc__i2f((n / 2 + 127) << 23); }
static inline float lc__pow2_hi(int n) { return lc__i2f((n - n / 2 + 127) << 23); }

static inline float lc__expf(float x)
{
    int n;
    float r = lc__exp_reduce(x, &n);
    float y = (1.0f + lc__expm1_poly(r)) * lc__pow2_lo(n) * lc__pow2_hi(n);
    return lc__sel(x == x, y, x);
}

/* e^x - 1 = 2^n (e^r - 1) + (2^n - 1): exact for n = 0 (|x| < 0.35, where
 * e^x - 1 would cancel), and for n > 25 (x > ~17.7) just e^x; -0 stays -0. */
static inline float lc__expm1f(float x)
{
    int n;
    float r = lc__exp_reduce(x, &n), s = lc__expm1_poly(r);
    int m = n < 25 ? n : 25;   /* (selected away when n is larger) */
    float two_m = lc__i2f(((m > -30 ? m : -30) + 127) << 23);
    float small = two_m * s + (two_m - 1.0f);
    float big = (1.0f + s) * lc__pow2_lo(n) * lc__pow2_hi(n);
    return lc__sel((x == x) & (x != 0), lc__sel(n > 25, big, small), x);
}

/* log x = e ln 2 + log(1 + f), x = 2^e (1 + f), 1 + f in [sqrt(1/2), sqrt(2));
 * subnormals are scaled by 2^23 first.  Integer work is unsigned (no
 * overflow whatever the bits). */
static inline float lc__logf(float x)
{
    int sub = x < 1.17549435e-38f;
    float xs = x * lc__sel(sub, 8388608.0f, 1.0f);
    unsigned ix = (unsigned)lc__f2i(xs) - 0x3f3504f3u;
    int e = (int)((ix + 0x40000000u) >> 23) - 128 - 23 * sub;
    float f = lc__i2f((int)((ix & 0x007fffffu) + 0x3f3504f3u)) - 1.0f;
    float q = -0.0762186199f, ef = (float)e, y;
    q = q * f + 0.129045039f;
    q = q * f - 0.132429883f;
    q = q * f + 0.141818121f;
    q = q * f - 0.166090816f;
    q = q * f + 0.200019747f;
    q = q * f - 0.250015825f;
    q = q * f + 0.333333254f;
    q = q * f - 0.499999881f;
    y = (ef * 0.693359375f + f) + (ef * -2.12194440e-4f + f * f * q);
    y = lc__sel(x < LC__INF, y, x);
    return lc__sel(x == 0, -LC__INF, lc__sel(x > 0, y, LC__NAN));
}

/* tanh x = x + x^3 T(x^2) for |x| < 0.625, else sign(x) u / (u + 2) with
 * u = e^(2|x|) - 1 (|x| clamped at 9.5, where tanh is 1 in float). */
static inline float lc__tanhf(float x)
{
    float a = lc__abs(x), a2 = a * a, t = -0.00571704051f, small, u;
    t = t * a2 + 0.0206505843f;
    t = t * a2 - 0.0537434965f;
    t = t * a2 + 0.133314908f;
    t = t * a2 - 0.333332837f;
    small = lc__sel(x == 0, x, x + x * a2 * t);
    u = lc__expm1f(2.0f * lc__sel(a < 9.5f, a, 9.5f));
    return lc__sel(a < 0.625f, small, lc__sel(x == x, lc__sign_of(u / (u + 2.0f), x), x));
}

/* erf x = x + x E(x^2) for |x| < 0.921875, else sign(x) (1 - e^(-a G(a)))
 * with a = |x| clamped at 4 (where erf is 1 in float). */
static inline float lc__erff(float x)
{
    float a = lc__abs(x), a2 = a * a, p = 9.22974068e-05f, g = -0.000213469262f, c, big;
    p = p * a2 - 0.00083662523f;
    p = p * a2 + 0.00522294175f;
    p = p * a2 - 0.0268693678f;
    p = p * a2 + 0.112839028f;
    p = p * a2 - 0.376126498f;
    p = p * a2 + 0.128379166f;
    c = lc__sel(a < 4.0f, a, 4.0f);
    g = g * c + 0.00321079022f;
    g = g * c - 0.022876909f;
    g = g * c + 0.105241992f;
    g = g * c + 0.635732949f;
    g = g * c + 1.12851012f;
    big = lc__sign_of(1.0f - lc__expf(-c * g), x);
    return lc__sel(a < 0.921875f, x + x * p, lc__sel(x == x, big, x));
}

/* In lc_real's precision (a constant condition: the other branch is dead). */
#define LC__FLOAT (sizeof(lc_real) == sizeof(float))
#define LC__EXP(x) (LC__FLOAT ? (lc_real)lc__expf((float)(x)) : (lc_real)exp((double)(x)))
#define LC__EXPM1(x) (LC__FLOAT ? (lc_real)lc__expm1f((float)(x)) : (lc_real)expm1((double)(x)))
#define LC__LOG(x) (LC__FLOAT ? (lc_real)lc__logf((float)(x)) : (lc_real)log((double)(x)))
#define LC__TANH(x) (LC__FLOAT ? (lc_real)lc__tanhf((float)(x)) : (lc_real)tanh((double)(x)))
#define LC__ERF(x) (LC__FLOAT ? (lc_real)lc__erff((float)(x)) : (lc_real)erf((double)(x)))
/* c ? a : b with a and b both computed: in float the bit select above, for
 * a branch to exp or log on one side would stop the loop's vectorisation */
#define LC__SELECT(c, a, b) (LC__FLOAT ? (lc_real)lc__sel((c), (float)(a), (float)(b)) : (c) ? (a) : (b))

/* ------------------------------------------------------------------------ */
/* Row reductions for softmax and the losses: the max and the sums run in 8
 * lanes, so that they vectorise (a sum in one variable is a chain gcc must
 * keep in order).                                                          */

#define LC__LANES 8
/* rows are taken in blocks of about this many values (softmax, cross_entropy) */
#define LC__BLOCK 2048

static inline lc_real lc__row_max(const lc_real *x, int n)
{
    lc_real m[LC__LANES], r;
    int i, l;
    if (n < LC__LANES) {
        for (r = x[0], i = 1; i < n; i++)
            r = x[i] > r ? x[i] : r;
        return r;
    }
    for (l = 0; l < LC__LANES; l++)
        m[l] = x[l];
    for (i = LC__LANES; i + LC__LANES <= n; i += LC__LANES)
        for (l = 0; l < LC__LANES; l++)
            m[l] = x[i + l] > m[l] ? x[i + l] : m[l];
    for (; i < n; i++)
        m[0] = x[i] > m[0] ? x[i] : m[0];
    for (r = m[0], l = 1; l < LC__LANES; l++)
        r = m[l] > r ? m[l] : r;
    return r;
}

static inline lc_real lc__row_sum(const lc_real *y, int n)
{
    lc_real s[LC__LANES], sum = 0;
    int i, l;
    for (l = 0; l < LC__LANES; l++)
        s[l] = 0;
    for (i = 0; i + LC__LANES <= n; i += LC__LANES)
        for (l = 0; l < LC__LANES; l++)
            s[l] += y[i + l];
    for (; i < n; i++)
        s[0] += y[i];
    for (l = 0; l < LC__LANES; l++)
        sum += s[l];
    return sum;
}
