/* gradcheck.c: `layerc check` (see gradcheck.h).
 *
 * The model is compiled with lc_real = double (its kernels too:
 * runtime/kernels_double.c) and run on a few random samples.  For each
 * value w of a weight tensor, with a the backward pass's slope, the loss L
 * is evaluated at w, w +- h and w +- 2h.  From these five numbers:
 *
 *   D1, D2   central differences with steps h and 2h;
 *   R        their Richardson extrapolation (4 D1 - D2) / 3, whose
 *            truncation error is O(h^4): the slope compared with a;
 *   Rs, Ls   the right and left one-sided slopes, each extrapolated the
 *            same way (2 r(h) - r(2h)): O(h^2).
 *
 * Kinks.  Where L is smooth, Rs and Ls agree and so do D1 and D2, up to
 * rounding.  Where a relu input or a max crosses over within the steps, L
 * has a kink: the one-sided slopes differ by the jump, however small the
 * slopes are, and no central difference is the derivative.  The test is
 * relative to the slopes (half the tolerance of them) plus the rounding
 * bound below, never an absolute constant: a small jump among small slopes
 * is a kink too.  At a kink right at w (relu at exactly 0, a maxpool tie)
 * the backward pass takes one side, so a is compared with the nearer
 * one-sided slope ("one-sided"); when it matches neither (the kink lies
 * inside a step, both sides are off) the value is skipped, and another value
 * of the tensor is drawn in its place.
 *
 * Rounding.  One evaluation of L in double precision is off by about
 * delta = K eps |L| (K: NOISE_ULPS, the forward pass's accumulated
 * rounding, measured on the models of tests/models with a margin), so a
 * difference quotient over h is off by about delta / h.  That bound, not a
 * fixed floor, is the smallest slope error that counts: the error of a
 * value is |a - R| / max(|a|, |R|, 10 delta / (h RTOL)), and must be at
 * most RTOL.  A loss of 550 gets a bound 550 times that of a loss of 1.
 *
 * The step.  h = 2^-17 max(1, |w|) (about 7.6e-6; a power of two, so w +- h
 * and w +- 2h are exact): small enough that few steps cross a kink (a
 * convolution's weight moves thousands of relu inputs), large enough that
 * delta / h stays near 1e-10 |L|; Richardson's h^4 makes the truncation
 * error negligible at that step, which is why four evaluations rather than
 * two are spent on each value.  A slope the floor leaves imprecise gets a
 * second try with a longer step (judge).
 *
 * Sampling.  LC_GRADCHECK_SAMPLE values of each tensor, drawn with the
 * seed, at most half of them with a zero slope (draw_order); --all: every
 * value.  So a ResNet-8 takes seconds, not minutes. */
#include "gradcheck.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "emit.h"
#include "jit.h"
#include "loss.h"

#define RTOL 1e-5
#define NOISE_ULPS 64.0
#define STEP_EXP (-17)
#define LONG_STEP_EXP (-9)
#define COARSE 1e-3
#define LONG_MISSES 1

typedef struct {
    void *state;
    void (*forward_train)(void *m, const double *x, int n);
    /* the layers from `from` on only (NULL: the model has none) */
    void (*forward_from)(void *m, const double *x, int n, int from, uint64_t *rng_at);
    uint64_t *rng_at;   /* the random state at each layer, as the last full pass recorded it */
    int from;   /* the first layer reading the weight being moved */
    double (*loss)(const void *m, const double *truth, int n);
    void (*set_rng)(void *m, uint64_t s);
    double *params;
    const double *x, *truth;
    int n;
    long evaluations;
} Net;

/* The loss with the same dropout masks every time. */
static double loss_now(Net *c)
{
    c->set_rng(c->state, 12345);
    c->evaluations++;
    if (c->forward_from) c->forward_from(c->state, c->x, c->n, c->from, c->rng_at);
    else c->forward_train(c->state, c->x, c->n);
    return c->loss(c->state, c->truth, c->n);
}

static double net_loss_at(Net *c, long i, double v)
{
    double saved = c->params[i];
    c->params[i] = v;
    double l = loss_now(c);
    c->params[i] = saved;
    return l;
}

static double rand_unit(uint64_t *s)
{
    *s = *s * 6364136223846793005ull + 1442695040888963407ull;
    return (double)(*s >> 11) * (1.0 / 9007199254740992.0);
}

static double rand_normal(uint64_t *s)
{
    double u = 1 - rand_unit(s), v = rand_unit(s);
    return sqrt(-2 * log(u)) * cos(6.283185307179586 * v);
}

static void make_truth(const Model *m, double *t, int n, uint64_t *rng)
{
    int k = (int)m->layers[m->output].size;
    for (int b = 0; b < n; b++)
        for (int j = 0; j < k; j++) {
            double *v = &t[b * k + j];
            if (m->loss->truth == TRUTH_REAL) *v = rand_normal(rng);
            else if (m->loss->truth == TRUTH_PROBABILITY) *v = rand_unit(rng);
            else *v = 0;
        }
    if (m->loss->truth == TRUTH_ONE_HOT)
        for (int b = 0; b < n; b++) t[b * k + (int)(rand_unit(rng) * k)] = 1;
}

/* ---- one value ---- */

typedef enum { V_OK, V_MISMATCH, V_ONE_SIDED, V_KINK, V_NOT_FINITE } Verdict;

typedef struct {
    Verdict verdict;
    double error;   /* relative, with the rounding floor; compared with RTOL */
} Judgement;

static double rel_error(double a, double f, double floor)
{
    double d = fabs(a - f), s = fmax(fmax(fabs(a), fabs(f)), floor);
    return d == 0 ? 0 : d / s;
}

typedef struct {
    int finite, smooth;
    double r, rs, ls;   /* Richardson central, right and left slopes */
    double floor;       /* the slope error rounding alone may cause, over RTOL */
} Slopes;

/* The slopes of the loss at params[i] from steps h and 2h, h = 2^step_exp
 * max(1, |w|); delta: the rounding error of one evaluation of the loss. */
static Slopes slopes_at(Net *c, long i, double base, double delta, int step_exp)
{
    double w = c->params[i], h = ldexp(fmax(1, fabs(w)), step_exp);
    double up1 = net_loss_at(c, i, w + h), down1 = net_loss_at(c, i, w - h);
    double up2 = net_loss_at(c, i, w + 2 * h), down2 = net_loss_at(c, i, w - 2 * h);
    Slopes s = { 0, 0, 0, 0, 0, 0 };
    if (!isfinite(up1) || !isfinite(down1) || !isfinite(up2) || !isfinite(down2)) return s;
    double d1 = (up1 - down1) / (2 * h), d2 = (up2 - down2) / (4 * h), noise = delta / h;
    s.finite = 1;
    s.r = (4 * d1 - d2) / 3;
    s.rs = (4 * up1 - 3 * base - up2) / (2 * h);
    s.ls = (3 * base - 4 * down1 + down2) / (2 * h);
    s.floor = 10 * noise / RTOL + DBL_MIN;
    /* rounding alone moves rs - ls by up to 8 delta / h, d1 - d2 by 1.5 */
    double kink_bound = 0.5 * RTOL * fmax(fabs(s.rs), fabs(s.ls)) + 8 * noise;
    s.smooth = fabs(s.rs - s.ls) <= kink_bound && fabs(d1 - d2) <= kink_bound;
    return s;
}

/* Judges the analytic slope a of params[i].  A slope above the rounding
 * floor that the floor would still let be off by more than COARSE (a large
 * loss, a weight far from it) is measured again with a step 256 times
 * longer, whose floor is 256 times lower, unless that step crosses a kink.
 * In a convolutional net the longer step nearly always does (it moves
 * thousands of relu inputs), so *long_misses counts the tensor's longer
 * steps that crossed a kink: after the first, the tensor stops trying,
 * unless one has worked. */
static Judgement judge(Net *c, long i, double a, double base, double delta, int *long_misses)
{
    Judgement j = { V_NOT_FINITE, 0 };
    Slopes s = slopes_at(c, i, base, delta, STEP_EXP);
    if (!s.finite) return j;
    double measurable = RTOL * s.floor;   /* 10 delta / h */
    if (s.smooth && fabs(s.r) > measurable && COARSE * fabs(s.r) < measurable && *long_misses < LONG_MISSES) {
        Slopes longer = slopes_at(c, i, base, delta, LONG_STEP_EXP);
        if (longer.finite && longer.smooth) {
            s = longer;
            *long_misses = -LONG_MISSES;   /* it works here: keep trying */
        } else {
            ++*long_misses;
        }
    }
    if (s.smooth) {
        j.error = rel_error(a, s.r, s.floor);
        j.verdict = j.error <= RTOL ? V_OK : V_MISMATCH;
    } else {
        j.error = fmin(rel_error(a, s.rs, s.floor), rel_error(a, s.ls, s.floor));
        j.verdict = j.error <= RTOL ? V_ONE_SIDED : V_KINK;
    }
    return j;
}

/* ---- one tensor ---- */

typedef struct {
    long compared, one_sided, skipped, not_finite, mismatches;
    double worst;
} TensorResult;

/* Candidates to try: a small tensor's values, or 3 want distinct values
 * drawn at random (those beyond `want` replace values skipped at kinks). */
static long *draw_candidates(long size, long want, uint64_t *rng, long *n)
{
    *n = size <= 3 * want ? size : 3 * want;
    long *c = xmalloc(sizeof(long) * (size_t)(*n ? *n : 1));
    if (*n == size) {
        for (long q = 0; q < size; q++) c[q] = q;
        for (long q = 0; q + 1 < size; q++) {
            long r = q + (long)(rand_unit(rng) * (double)(size - q)), v = c[r];
            c[r] = c[q], c[q] = v;
        }
        return c;
    }
    for (long d = 0; d < *n; d++) {
        long k, seen;
        do {
            k = (long)(rand_unit(rng) * (double)size);
            for (seen = 0; seen < d && c[seen] != k; seen++) continue;
        } while (seen < d);
        c[d] = k;
    }
    return c;
}

/* The values to try, in order (NULL for --all: 0, 1, 2...).  Values whose
 * analytic slope is exactly 0 (a dead relu, an input that is 0) fill at most
 * half of the first `want` when there are other candidates: a tensor
 * behind a bottleneck may hold mostly zeros, and ten of them would test
 * only that the backward pass writes zeros there. */
static long *draw_order(const Weight *wt, const double *analytic, long want, int all, uint64_t *rng,
                        long *draws)
{
    if (all) {
        *draws = wt->size;
        return NULL;
    }
    long n, *c = draw_candidates(wt->size, want, rng, &n), nz = 0, z = 0;
    long *order = xmalloc(sizeof(long) * (size_t)(n ? n : 1)), *zeros = xmalloc(sizeof(long) * (size_t)(n ? n : 1));
    for (long q = 0; q < n; q++) {
        if (analytic[wt->offset + c[q]] != 0) order[nz++] = c[q];
        else zeros[z++] = c[q];
    }
    long zeros_first = want / 2 > want - nz ? want / 2 : want - nz;
    if (zeros_first > z) zeros_first = z;
    long nonzero_first = nz < want - zeros_first ? nz : want - zeros_first;
    /* order: nonzero_first nonzero, zeros_first zero, then the rest of each */
    memcpy(c, order, sizeof(long) * (size_t)nonzero_first);
    memcpy(c + nonzero_first, zeros, sizeof(long) * (size_t)zeros_first);
    memcpy(c + nonzero_first + zeros_first, order + nonzero_first, sizeof(long) * (size_t)(nz - nonzero_first));
    memcpy(c + nz + zeros_first, zeros + zeros_first, sizeof(long) * (size_t)(z - zeros_first));
    free(order), free(zeros);
    *draws = n;
    return c;
}

/* Samples `want` values of the tensor (or all of them). */
static TensorResult check_tensor(Net *c, const Weight *wt, const double *analytic, double scale_grad,
                                 double base, double delta, int all, uint64_t *rng)
{
    TensorResult t = { 0, 0, 0, 0, 0, 0 };
    long want = all || wt->size <= LC_GRADCHECK_SAMPLE ? wt->size : LC_GRADCHECK_SAMPLE, draws;
    long *order = draw_order(wt, analytic, want, all, rng, &draws);
    int long_misses = 0;
    for (long d = 0; d < draws && t.compared < want; d++) {
        long i = wt->offset + (order ? order[d] : d);
        Judgement j = judge(c, i, analytic[i] * scale_grad, base, delta, &long_misses);
        switch (j.verdict) {
        case V_NOT_FINITE: t.not_finite++; continue;
        case V_KINK: t.skipped++; continue;
        case V_MISMATCH: t.mismatches++; break;
        case V_ONE_SIDED: t.one_sided++; break;
        case V_OK: break;
        }
        t.compared++;
        if (j.error > t.worst) t.worst = j.error;
    }
    free(order);
    return t;
}

/* ---- the model ---- */


/* The test-only hook LAYERC_CHECK_WRONG_GRADIENT=TENSOR: that tensor's
 * analytic gradient is scaled by 1.01 before it is compared, standing for a
 * wrong backward pass, so that tests can see the check fail. */
static const char *wrong_gradient_hook(const Model *m, FILE *out)
{
    const char *name = getenv("LAYERC_CHECK_WRONG_GRADIENT");
    if (!name || !*name) return NULL;
    fprintf(out, "(test hook LAYERC_CHECK_WRONG_GRADIENT: the gradient of %s is scaled by 1.01)\n", name);
    for (int w = 0; w < m->nweights; w++)
        if (!strcmp(m->weights[w].name, name)) return m->weights[w].name;
    fprintf(out, "(no tensor is named %s)\n", name);
    return NULL;
}

static const char *first_not_finite(const Model *m, const double *g)
{
    for (int w = 0; w < m->nweights; w++)
        for (long k = 0; k < m->weights[w].size; k++)
            if (weight_trainable(&m->weights[w]) && !isfinite(g[m->weights[w].offset + k])) return m->weights[w].name;
    return NULL;
}

static void print_row(FILE *out, const Weight *wt, const TensorResult *t)
{
    char shape[64];
    shape_str(&wt->shape, shape, sizeof shape);
    const char *verdict = t->not_finite ? "NOT FINITE" : t->mismatches ? "MISMATCH"
                        : t->compared ? "ok" : "unchecked";
    fprintf(out, "  %-16s %-16s %8ld %9ld %7ld   %.2e  %s\n", wt->name, shape, t->compared,
            t->one_sided, t->skipped, t->worst, verdict);
}

/* The first live layer that reads weight w (0 when none does).  A dead
 * layer has no code, so no case of lc_jit_forward_train_from to start at. */
static int first_reader(const Model *m, int w)
{
    for (int i = 1; i < m->nlayers; i++)
        for (int k = 0; m->layers[i].live && m->layers[i].op && k < m->layers[i].op->nweights; k++)
            if (m->layers[i].w[k] == w) return i;
    return 0;
}

/* Compares every (sampled) trainable value; 1 when all agree. */
static int check_all(const Model *m, Net *c, const double *analytic, double base, const GradCheckOptions *o,
                     uint64_t *rng, FILE *out)
{
    const char *wrong = wrong_gradient_hook(m, out);
    double delta = NOISE_ULPS * DBL_EPSILON * fabs(base);
    long compared = 0, one_sided = 0, skipped = 0;
    int bad = 0, unchecked = 0, not_finite = 0;
    char failed[512] = "";
    fprintf(out, "  %-16s %-16s %8s %9s %7s   %-9s\n", "tensor", "shape", "compared", "one-sided",
            "skipped", "worst error");
    for (int w = 0; w < m->nweights; w++) {
        const Weight *wt = &m->weights[w];
        if (!weight_trainable(wt)) {
            char shape[64];
            fprintf(out, "  %-16s %-16s frozen\n", wt->name, shape_str(&wt->shape, shape, sizeof shape));
            continue;
        }
        double scale = wrong && !strcmp(wrong, wt->name) ? 1.01 : 1;
        /* every output as the weights are now (the last tensor's moves are
         * undone), then only the layers from the first reader of this one */
        c->set_rng(c->state, 12345);
        if (c->forward_from) c->forward_from(c->state, c->x, c->n, 0, c->rng_at);
        else c->forward_train(c->state, c->x, c->n);
        c->from = first_reader(m, w);
        TensorResult t = check_tensor(c, wt, analytic, scale, base, delta, o->all, rng);
        c->from = 0;
        print_row(out, wt, &t);
        compared += t.compared, one_sided += t.one_sided, skipped += t.skipped;
        unchecked += !t.compared && wt->size > 0;
        not_finite |= t.not_finite > 0;
        if (t.mismatches || t.not_finite) {
            size_t used = strlen(failed);
            if (used + strlen(wt->name) + 8 < sizeof failed)
                snprintf(failed + used, sizeof failed - used, "%s%s", bad ? ", " : "", wt->name);
            bad++;
        }
    }
    fprintf(out, "(%ld evaluations of the loss)\n", c->evaluations);
    if (skipped)
        fprintf(out, "(%ld value%s skipped: a kink, such as relu at 0 or a max changing hands, lies inside "
                "the steps on both sides)\n", skipped, skipped == 1 ? "" : "s");
    if (not_finite)
        fprintf(out, "(NOT FINITE: the loss is not finite a step away from a value: it overflows nearby)\n");
    if (unchecked)
        fprintf(out, "(%d tensor%s unchecked: every value drawn lies at a kink; try another --seed)\n",
                unchecked, unchecked == 1 ? "" : "s");
    if (bad) {
        fprintf(out, "gradient check FAILED: the backward pass disagrees with finite differences in %s\n", failed);
        return 0;
    }
    fprintf(out, "%ld values compared (%ld one-sided at a kink): the backward pass agrees with finite "
            "differences (tolerance %.0e relative)\n", compared, one_sided, RTOL);
    return 1;
}

int gradcheck_run(const Model *m, const char *source_name, const GradCheckOptions *o, FILE *out,
                  char *err, size_t errlen)
{
    /* every output kept, so that moving a weight recomputes only the layers
     * from the first that reads it (lc_jit_forward_train_from) */
    EmitOptions eo = { .jit = 1, .real_double = 1, .keep_all = 1, .source_name = source_name };
    char *code = emit_source(m, &eo);
    Jit *j = jit_compile(code, 2, err, errlen);
    free(code);
    if (!j) return -1;
    const char *N = m->name;
    Net c;
    memset(&c, 0, sizeof c);
    void (*init)(void *, uint64_t);
    void (*backward)(void *, const double *, int);
    unsigned long (*state_size)(void);
    double *(*params_of)(void *), *(*grads_of)(void *);
    *(void **)&init = jit_symbol_named(j, N, "init", err, errlen);
    *(void **)&backward = jit_symbol_named(j, N, "backward", err, errlen);
    *(void **)&c.loss = jit_symbol_named(j, N, "loss", err, errlen);
    *(void **)&c.forward_train = jit_symbol_named(j, "lc_jit", "forward_train", err, errlen);
    *(void **)&c.set_rng = jit_symbol_named(j, "lc_jit", "set_rng", err, errlen);
    *(void **)&state_size = jit_symbol_named(j, "lc_jit", "state_size", err, errlen);
    *(void **)&params_of = jit_symbol_named(j, "lc_jit", "params", err, errlen);
    *(void **)&grads_of = jit_symbol_named(j, "lc_jit", "grads", err, errlen);
    *(void **)&c.forward_from = jit_symbol(j, "lc_jit_forward_train_from");
    /* the test-only LAYERC_CHECK_EVERY_LAYER computes every layer at every
     * evaluation: tests compare its report with the shortcut's */
    if (getenv("LAYERC_CHECK_EVERY_LAYER")) c.forward_from = NULL;
    if (!init || !backward || !c.loss || !c.forward_train || !c.set_rng || !state_size ||
        !params_of || !grads_of) {
        jit_free(j);
        return -1;
    }
    c.state = calloc(1, state_size());
    if (!c.state) {
        snprintf(err, errlen, "the model's state does not fit in memory");
        jit_free(j);
        return -1;
    }
    int n = m->train.batch < 3 ? m->train.batch : 3;
    long in = m->layers[0].size, k = m->layers[m->output].size;
    double *x = xmalloc(sizeof(double) * (size_t)(n * in)), *t = xcalloc((size_t)(n * k), sizeof(double));
    double *analytic = xmalloc(sizeof(double) * (size_t)(m->nparams ? m->nparams : 1));
    uint64_t rng = o->seed * 2654435761u + 1;
    for (long i = 0; i < n * in; i++) x[i] = rand_normal(&rng);
    make_truth(m, t, n, &rng);
    c.x = x, c.truth = t, c.n = n;
    c.rng_at = xcalloc((size_t)m->nlayers, sizeof(uint64_t));
    init(c.state, o->seed);
    c.params = params_of(c.state);
    double base = loss_now(&c);
    backward(c.state, t, n);
    /* grads[] holds the trainable weights only: spread into params[]'s layout */
    const double *grads = grads_of(c.state);
    memset(analytic, 0, sizeof(double) * (size_t)m->nparams);
    for (int w = 0; w < m->nweights; w++)
        if (weight_trainable(&m->weights[w]))
            memcpy(analytic + m->weights[w].offset, grads + m->weights[w].grad_offset,
                   sizeof(double) * (size_t)m->weights[w].size);

    int ok = 0;
    const char *nf = NULL;
    fprintf(out, "%s: gradient check, %d sample%s, seed %llu, double precision; ", source_name, n,
            n == 1 ? "" : "s", (unsigned long long)o->seed);
    if (o->all) fprintf(out, "every value\n");
    else fprintf(out, "%d values a tensor (--all: every value)\n", LC_GRADCHECK_SAMPLE);
    if (!isfinite(base))
        fprintf(out, "gradient check FAILED: the loss is %g at the initial weights (seed %llu): the forward "
                "pass overflows or divides by zero, so nothing can be compared\n", base,
                (unsigned long long)o->seed);
    else if ((nf = first_not_finite(m, analytic)))
        fprintf(out, "gradient check FAILED: the backward pass gives a gradient of %s that is not finite "
                "(the loss is %g)\n", nf, base);
    else
        ok = check_all(m, &c, analytic, base, o, &rng, out);
    free(c.state);
    free(c.rng_at);
    free(x), free(t), free(analytic);
    jit_free(j);
    return ok;
}
