/* run.c: models compiled in memory and run (see run.h). */
#include "run.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "emit.h"
#include "loss.h"

LcTensorInfo *model_tensor_table(const Model *m)
{
    LcTensorInfo *t = xcalloc((size_t)(m->nweights ? m->nweights : 1), sizeof *t);
    for (int i = 0; i < m->nweights; i++) {
        const Weight *w = &m->weights[i];
        t[i].name = w->name;
        t[i].rank = w->shape.rank;
        for (int d = 0; d < w->shape.rank; d++) t[i].dims[d] = (int)w->shape.dims[d];
        t[i].offset = w->offset;
        t[i].size = w->size;
    }
    return t;
}

LcMetric model_metric(const Model *m)
{
    return m->loss->metric == METRIC_ARGMAX ? LC_METRIC_ARGMAX
         : m->loss->metric == METRIC_THRESHOLD ? LC_METRIC_THRESHOLD : LC_METRIC_NONE;
}

/* The symbol NAME_suffix or lc_jit_suffix of the compiled model. */
static void *symbol(Jit *j, const char *model, const char *suffix, char *err, size_t errlen)
{
    char name[512];
    snprintf(name, sizeof name, "%s_%s", model, suffix);
    void *p = jit_symbol(j, name);
    if (!p) snprintf(err, errlen, "internal error: the generated code lacks %s", name);
    return p;
}

int run_model_open(RunModel *r, const Model *m, const char *source_name, char *err, size_t errlen)
{
    EmitOptions o = { .jit = 1, .source_name = source_name };
    memset(r, 0, sizeof *r);
    char *code = emit_source(m, &o);
    r->jit = jit_compile(code, 1, err, errlen);
    free(code);
    if (!r->jit) return 0;
    const char *N = m->name;
    unsigned long (*state_size)(void);
    float *(*params)(void *), *(*grads)(void *), *(*output)(void *);
    LcNet *net = &r->net;
    *(void **)&state_size = symbol(r->jit, "lc_jit", "state_size", err, errlen);
    *(void **)&params = symbol(r->jit, "lc_jit", "params", err, errlen);
    *(void **)&output = symbol(r->jit, "lc_jit", "output", err, errlen);
    *(void **)&grads = symbol(r->jit, "lc_jit", "grads", err, errlen);
    *(void **)&net->forward_train = symbol(r->jit, "lc_jit", "forward_train", err, errlen);
    *(void **)&net->backward = symbol(r->jit, N, "backward", err, errlen);
    *(void **)&net->update = symbol(r->jit, N, "update", err, errlen);
    *(void **)&net->set_rng = symbol(r->jit, "lc_jit", "set_rng", err, errlen);
    *(void **)&net->nonfinite_layer = jit_symbol(r->jit, "lc_jit_nonfinite_layer");   /* optional */
    *(void **)&net->init = symbol(r->jit, N, "init", err, errlen);
    *(void **)&net->forward = symbol(r->jit, N, "forward", err, errlen);
    *(void **)&net->loss = symbol(r->jit, N, "loss", err, errlen);
    *(void **)&net->train_step = symbol(r->jit, N, "train_step", err, errlen);
    if (!state_size || !params || !grads || !output || !net->init || !net->forward || !net->loss ||
        !net->train_step || !net->forward_train || !net->backward || !net->update) {
        run_model_close(r);
        return 0;
    }
    net->state = calloc(1, state_size());
    if (!net->state) {
        snprintf(err, errlen, "the model's state (%lu bytes) does not fit in memory", state_size());
        run_model_close(r);
        return 0;
    }
    net->in = (int)m->layers[0].size;
    net->out = (int)m->layers[m->output].size;
    net->batch = m->train.batch;
    net->metric = model_metric(m);
    net->nparams = m->nparams;
    net->ngrads = m->ntrainable;
    net->params = params(net->state);
    net->grads = grads(net->state);
    net->output = output(net->state);
    net->init(net->state, m->train.seed);
    r->tensors = model_tensor_table(m);
    r->ntensors = m->nweights;
    return 1;
}

void run_model_close(RunModel *r)
{
    free(r->net.state);
    free(r->tensors);
    jit_free(r->jit);
    memset(r, 0, sizeof *r);
}

/* ---- gradient check ---- */

typedef struct {
    void *state;
    void (*forward_train)(void *m, const double *x, int n);
    double (*loss)(const void *m, const double *truth, int n);
    void (*set_rng)(void *m, uint64_t s);
    const double *x, *truth;
    int n;
} CheckNet;

/* The loss with the same dropout masks every time. */
static double check_loss(CheckNet *c)
{
    c->set_rng(c->state, 12345);
    c->forward_train(c->state, c->x, c->n);
    return c->loss(c->state, c->truth, c->n);
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

int run_gradient_check(const Model *m, const char *source_name, uint64_t seed, FILE *out,
                       char *err, size_t errlen)
{
    EmitOptions o = { .jit = 1, .real_double = 1, .source_name = source_name };
    char *code = emit_source(m, &o);
    Jit *j = jit_compile(code, 0, err, errlen);
    free(code);
    if (!j) return -1;
    const char *N = m->name;
    CheckNet c;
    void (*init)(void *, uint64_t);
    void (*backward)(void *, const double *, int);
    unsigned long (*state_size)(void);
    double *(*params_of)(void *), *(*grads_of)(void *);
    *(void **)&init = symbol(j, N, "init", err, errlen);
    *(void **)&backward = symbol(j, N, "backward", err, errlen);
    *(void **)&c.loss = symbol(j, N, "loss", err, errlen);
    *(void **)&c.forward_train = symbol(j, "lc_jit", "forward_train", err, errlen);
    *(void **)&c.set_rng = symbol(j, "lc_jit", "set_rng", err, errlen);
    *(void **)&state_size = symbol(j, "lc_jit", "state_size", err, errlen);
    *(void **)&params_of = symbol(j, "lc_jit", "params", err, errlen);
    *(void **)&grads_of = symbol(j, "lc_jit", "grads", err, errlen);
    if (!init || !backward || !c.loss || !c.forward_train || !c.set_rng || !state_size ||
        !params_of || !grads_of) {
        jit_free(j);
        return -1;
    }
    c.state = calloc(1, state_size());
    int n = m->train.batch < 3 ? m->train.batch : 3;
    long in = m->layers[0].size, k = m->layers[m->output].size;
    double *x = xmalloc(sizeof(double) * (size_t)(n * in)), *t = xcalloc((size_t)(n * k), sizeof(double));
    double *analytic = xmalloc(sizeof(double) * (size_t)(m->ntrainable ? m->ntrainable : 1));
    if (!c.state) {
        snprintf(err, errlen, "the model's state does not fit in memory");
        jit_free(j);
        free(x), free(t), free(analytic);
        return -1;
    }
    uint64_t rng = seed * 2654435761u + 1;
    for (long i = 0; i < n * in; i++) x[i] = rand_normal(&rng);
    make_truth(m, t, n, &rng);
    c.x = x, c.truth = t, c.n = n;
    init(c.state, seed);
    double *params = params_of(c.state), *grads = grads_of(c.state);
    double base = check_loss(&c);
    backward(c.state, t, n);
    memcpy(analytic, grads, sizeof(double) * (size_t)m->ntrainable);

    const double tol = 1e-5;
    int all_ok = 1, compared = 0, kinks = 0;
    fprintf(out, "%s: gradient check, %d samples, central differences in double precision\n",
            source_name, n);
    /* a NaN compares false with every tolerance: a non-finite loss or
     * gradient would pass for agreement */
    if (!isfinite(base)) {
        fprintf(out, "the loss is %s at the starting point: nothing can be compared\n", isnan(base) ? "nan" : "infinite");
        all_ok = 0;
    }
    for (int w = 0; w < m->nweights; w++) {
        const Weight *wt = &m->weights[w];
        char shape[64];
        shape_str(&wt->shape, shape, sizeof shape);
        if (!weight_trainable(wt)) {
            fprintf(out, "  %-16s %-16s frozen\n", wt->name, shape);
            continue;
        }
        /* every element of small tensors, 100 spread over large ones */
        long picks = wt->size <= 100 ? wt->size : 100;
        double worst = 0;
        for (long p = 0; p < picks; p++) {
            long j = wt->size <= 100 ? p : (long)(rand_unit(&rng) * wt->size), i = wt->offset + j;
            double saved = params[i], h = 1e-5 * (fabs(saved) > 1 ? fabs(saved) : 1);
            params[i] = saved + h;
            double up = check_loss(&c);
            params[i] = saved - h;
            double down = check_loss(&c);
            params[i] = saved;
            double fd = (up - down) / (2 * h), a = analytic[wt->grad_offset + j];
            if (!isfinite(fd) || !isfinite(a)) {
                worst = INFINITY;
                compared++;
                continue;
            }
            /* At a kink (relu at 0, a max changing hands) the one-sided
             * slopes differ and no finite difference is the derivative:
             * such a point says nothing about the backward pass. */
            double right = (up - base) / h, left = (base - down) / h;
            if (fabs(right - left) > 1e-4 + 1e-2 * fmax(fabs(right), fabs(left))) {
                kinks++;
                continue;
            }
            double scale = fmax(fmax(fabs(a), fabs(fd)), 1e-4);
            double e = fabs(a - fd) / scale;
            if (e > worst) worst = e;
            compared++;
        }
        int ok = worst <= tol;
        all_ok &= ok;
        fprintf(out, "  %-16s %-16s worst relative error %.2e  %s\n", wt->name, shape, worst,
                ok ? "ok" : "MISMATCH");
    }
    if (kinks * 10 > compared + kinks) {
        fprintf(out, "too many values at kinks (%d of %d): the check proves nothing\n", kinks, compared + kinks);
        all_ok = 0;
    }
    if (kinks)
        fprintf(out, "(%d values skipped: at a kink, such as relu at 0, where no derivative exists)\n", kinks);
    if (all_ok)
        fprintf(out, "%d values compared: the backward pass agrees with finite differences "
                "(tolerance %.0e)\n", compared, tol);
    else
        fprintf(out, "gradient check FAILED: the backward pass disagrees with finite differences\n");
    free(c.state);
    free(x), free(t), free(analytic);
    jit_free(j);
    return all_ok;
}
