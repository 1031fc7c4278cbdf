/* trace.c: `layerc trace` (trace.h).
 *
 * The model is compiled in memory as for `layerc check`: a training build in
 * double precision, so that what float rounding leaves of a zero does not
 * become a gradient of 3e-5 in a learner's table; it keeps every layer's
 * output (EmitOptions.keep_all), read through the generated accessors
 * lc_jit_layer_out / lc_jit_layer_grad.  A sample's
 * tables come from the evaluating forward pass, NAME_loss and NAME_backward
 * on that sample alone (n = 1), so its gradients are those of its own loss;
 * the batch figures from the same functions on all the traced rows at once
 * (in chunks of NAME_BATCH when there are more), whose gradients are those
 * of the mean loss, as training uses them.
 */
#include "trace.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "emit.h"
#include "jit.h"
#include "loss.h"
#include "op.h"
#include "run.h"
#include "table.h"

/* A tensor prints in full up to TRACE_FULL values, else its first
 * TRACE_HEAD, "...", its last TRACE_TAIL and a few statistics. */
#define TRACE_FULL 32
#define TRACE_HEAD 12
#define TRACE_TAIL 4

typedef struct {
    const Model *m;
    const TraceOptions *o;
    FILE *out;
    Jit *jit;
    void *state;
    int out_size, batch;
    LcMetric metric;
    double *params, *grads;
    void (*init)(void *state, uint64_t seed);
    void (*forward)(void *state, const double *x, double *y, int n);
    double (*loss)(const void *state, const double *truth, int n);
    void (*backward)(void *state, const double *truth, int n);
    double *(*layer_out)(void *state, int layer);
    double *(*layer_grad)(void *state, int layer);
    int after_heading;   /* what comes next follows a heading: no blank line before it */
    Arena a;   /* the strings of the tables */
} Tracer;

/* Six significant digits; what rounding leaves of a zero (the articles'
 * 0 comes out as 5.6e-17) prints as 0. */
static const char *num(Tracer *t, double v)
{
    if (fabs(v) < 5e-7) return "0";
    return arena_printf(&t->a, "%.6g", v);
}

static const char *values(Tracer *t, const double *v, long n)
{
    char *s = arena_strdup(&t->a, "(");
    for (long i = 0; i < n; i++) {
        if (n > TRACE_FULL && i == TRACE_HEAD) {
            s = arena_printf(&t->a, "%s, ...", s);
            i = n - TRACE_TAIL;
        }
        s = arena_printf(&t->a, "%s%s%s", s, i ? ", " : "", num(t, v[i]));
    }
    s = arena_printf(&t->a, "%s)", s);
    if (n > TRACE_FULL) {
        double lo = v[0], hi = v[0], sum = 0;
        for (long i = 0; i < n; i++) {
            lo = fmin(lo, v[i]), hi = fmax(hi, v[i]);
            sum += v[i];
        }
        s = arena_printf(&t->a, "%s %ld values: min %s, max %s, mean %s", s, n, num(t, lo), num(t, hi),
                         num(t, sum / (double)n));
    }
    return s;
}

static const char *shape_of(Tracer *t, const Shape *s)
{
    char b[64];
    return arena_strdup(&t->a, shape_str(s, b, sizeof b));
}

/* "linear(l1, w2)": the op, its input layers, its weights. */
static const char *computes(Tracer *t, const Layer *l)
{
    if (!l->op) return "input";
    char *s = arena_printf(&t->a, "%s(", l->op->name);
    int first = 1;
    for (int k = 0; k < l->nin; k++, first = 0)
        s = arena_printf(&t->a, "%s%s%s", s, first ? "" : ", ", t->m->layers[l->in[k]].name);
    for (int k = 0; k < l->op->nweights; k++)
        if (l->w[k] >= 0) s = arena_printf(&t->a, "%s, %s", s, t->m->weights[l->w[k]].name);
    return arena_printf(&t->a, "%s)", s);
}

static void heading(Tracer *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Blocks (headings, tables, lines) are separated by a blank line, and a
 * heading from what it heads only in Markdown. */
static void heading(Tracer *t, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs(t->o->markdown ? "\n### " : "\n", t->out);
    vfprintf(t->out, fmt, ap);
    fputs(t->o->markdown ? "\n\n" : "\n", t->out);
    va_end(ap);
    t->after_heading = 1;
}

static void print_table(Tracer *t, Table *tb)
{
    if (!t->after_heading) fputc('\n', t->out);
    t->after_heading = 0;
    table_print(tb, t->o->markdown, t->out);
    table_free(tb);
}

static const char *role_name(WeightRole r)
{
    return r == ROLE_TRAINABLE ? "trainable" : r == ROLE_FROZEN ? "frozen" : "buffer";
}

/* The traced rows, in the real type of the build. */
typedef struct {
    int n, in, out;
    double *x, *y;      /* [n, in], [n, out] or NULL */
    const int *label;   /* class indices, or NULL */
} Rows;

static const double *row_x(const Rows *d, int b) { return d->x + (size_t)b * (size_t)d->in; }
static const double *row_y(const Rows *d, int b) { return d->y ? d->y + (size_t)b * (size_t)d->out : NULL; }

/* The truth row as the loss reads it; a class index too for classifiers. */
static const char *truth_text(Tracer *t, const Rows *d, int b)
{
    const char *v = values(t, row_y(d, b), d->out);
    return d->label ? arena_printf(&t->a, "%s class %d", v, d->label[b]) : v;
}

static int argmax(const double *v, int n)
{
    int k = 0;
    for (int j = 1; j < n; j++)
        if (v[j] > v[k]) k = j;
    return k;
}

static int is_correct(const Tracer *t, const Rows *d, int b, const double *y)
{
    if (t->metric == LC_METRIC_ARGMAX) return d->label && argmax(y, d->out) == d->label[b];
    for (int j = 0; j < d->out; j++)
        if ((y[j] > 0.5) != (row_y(d, b)[j] > 0.5)) return 0;
    return 1;
}

static void weight_gradients(Tracer *t, const char *title, const double *g)
{
    const Model *m = t->m;
    Table tb;
    table_init(&tb, "weight", "role", "shape", title, NULL);
    for (int i = 0; i < m->nweights; i++) {
        const Weight *w = &m->weights[i];
        table_row(&tb, w->name, role_name(w->role), shape_of(t, &w->shape),
                  weight_trainable(w) ? values(t, g + w->offset, w->size)
                                      : w->role == ROLE_FROZEN ? "none: never updated" : "none: not trained");
    }
    print_table(t, &tb);
}

/* d(loss)/d(output) of every layer, from the last to the input. */
static void layer_gradients(Tracer *t)
{
    const Model *m = t->m;
    int start = model_loss_start(m);
    Table tb;
    table_init(&tb, "layer", "computes", "shape", "d loss / d output", NULL);
    for (int i = m->nlayers - 1; i >= 0; i--) {
        const Layer *l = &m->layers[i];
        const double *g = t->layer_grad(t->state, i);
        const char *why = g ? values(t, g, l->size)
                        : !l->live ? "none: does not reach the output"
                        : i == m->output && start != m->output
                            ? arena_printf(&t->a, "none: %s's backward starts at %s", m->loss->name,
                                           m->layers[start].name)
                        : "none needed: no trainable weight before it";
        table_row(&tb, l->name, computes(t, l), shape_of(t, &l->shape), why);
    }
    print_table(t, &tb);
}

/* One sample alone: forward, truth, loss; with backward, the gradients of
 * its loss.  Keeps its output in y and returns its loss. */
static double trace_sample(Tracer *t, const Rows *d, int b, double *y)
{
    const Model *m = t->m;
    const double *truth = row_y(d, b);
    double loss = 0;
    t->forward(t->state, row_x(d, b), y, 1);
    heading(t, "sample %d: forward pass", b + 1);
    Table tb;
    table_init(&tb, "layer", "computes", "shape", "output", NULL);
    for (int i = 0; i < m->nlayers; i++) {
        const Layer *l = &m->layers[i];
        const double *v = t->layer_out(t->state, i);
        table_row(&tb, l->name, computes(t, l), shape_of(t, &l->shape),
                  v ? values(t, v, l->size) : "not computed: does not reach the output");
    }
    if (truth) {
        loss = t->loss(t->state, truth, 1);
        table_row(&tb, "truth", "", shape_of(t, &m->layers[m->output].shape), truth_text(t, d, b));
        table_row(&tb, "loss", arena_printf(&t->a, "%s(%s, truth)", m->loss->name, m->layers[m->output].name),
                  "", num(t, loss));
    }
    print_table(t, &tb);
    if (t->o->backward) {
        t->backward(t->state, truth, 1);
        heading(t, "sample %d: backward pass (the gradients of its loss)", b + 1);
        layer_gradients(t);
        weight_gradients(t, "d loss / d weight", t->grads);
    }
    return loss;
}

/* The rows side by side (the articles' last table), then the loss of them
 * all as one batch and, with backward, its gradients. */
static void trace_batch(Tracer *t, const Rows *d, const double *outs, const double *losses)
{
    const Model *m = t->m;
    int n = d->n, k = d->out, metric = t->metric != LC_METRIC_NONE;
    heading(t, "the samples side by side");
    Table tb;
    if (metric) table_init(&tb, "sample", "output", "truth", "loss", "correct", NULL);
    else table_init(&tb, "sample", "output", "truth", "loss", NULL);
    for (int b = 0; b < n; b++) {
        const double *y = outs + (size_t)b * (size_t)k;
        const char *o = values(t, y, k);
        if (t->metric == LC_METRIC_ARGMAX) o = arena_printf(&t->a, "%s class %d", o, argmax(y, k));
        table_row(&tb, arena_printf(&t->a, "%d", b + 1), o, truth_text(t, d, b), num(t, losses[b]),
                  metric ? (is_correct(t, d, b, y) ? "yes" : "no") : NULL);
    }
    print_table(t, &tb);

    /* the batch through the generated functions, NAME_BATCH rows a call */
    double loss = 0, *g = xcalloc((size_t)(m->nparams ? m->nparams : 1), sizeof(double));
    for (int s = 0; s < n; s += t->batch) {
        int c = n - s < t->batch ? n - s : t->batch;
        t->forward(t->state, row_x(d, s), NULL, c);
        loss += t->loss(t->state, row_y(d, s), c) * c / n;
        if (t->o->backward) {
            t->backward(t->state, row_y(d, s), c);
            for (long i = 0; i < m->nparams; i++) g[i] += t->grads[i] * c / n;
        }
    }
    if (n == 1)
        fprintf(t->out, "\n%sbatch loss%s %s: %s_loss of sample 1\n", t->o->markdown ? "**" : "",
                t->o->markdown ? "**" : "", num(t, loss), m->name);
    else
        fprintf(t->out, "\n%sbatch loss%s %s: %s_loss of samples 1 to %d, the mean of their losses\n",
                t->o->markdown ? "**" : "", t->o->markdown ? "**" : "", num(t, loss), m->name, n);
    if (t->o->backward) {
        heading(t, "the batch: the gradients of its loss (what one training step uses)");
        weight_gradients(t, "d batch loss / d weight", g);
    }
    free(g);
}

/* The symbol of the compiled model, or NULL with a message. */
static void *symbol(Tracer *t, const char *prefix, const char *suffix, const char *source_name)
{
    char name[512];
    snprintf(name, sizeof name, "%s_%s", prefix, suffix);
    void *p = jit_symbol(t->jit, name);
    if (!p) fprintf(stderr, "%s: error: internal error: the generated code lacks %s\n", source_name, name);
    return p;
}

static int open_tracer(Tracer *t, const Model *m, const char *source_name, const float *weights)
{
    char err[4096];
    EmitOptions eo = { .jit = 1, .real_double = 1, .keep_all = 1, .source_name = source_name };
    char *code = emit_source(m, &eo);
    t->jit = jit_compile(code, 0, err, sizeof err);
    free(code);
    if (!t->jit) {
        fprintf(stderr, "%s: error: %s\n", source_name, err);
        return 0;
    }
    const char *N = m->name;
    unsigned long (*state_size)(void);
    double *(*params)(void *), *(*grads)(void *);
    *(void **)&t->init = symbol(t, N, "init", source_name);
    *(void **)&t->forward = symbol(t, N, "forward", source_name);
    *(void **)&t->loss = symbol(t, N, "loss", source_name);
    *(void **)&t->backward = symbol(t, N, "backward", source_name);
    *(void **)&state_size = symbol(t, "lc_jit", "state_size", source_name);
    *(void **)&params = symbol(t, "lc_jit", "params", source_name);
    *(void **)&grads = symbol(t, "lc_jit", "grads", source_name);
    *(void **)&t->layer_out = symbol(t, "lc_jit", "layer_out", source_name);
    *(void **)&t->layer_grad = symbol(t, "lc_jit", "layer_grad", source_name);
    if (!t->init || !t->forward || !t->loss || !t->backward || !state_size || !params || !grads ||
        !t->layer_out || !t->layer_grad)
        return 0;
    t->state = calloc(1, state_size());
    if (!t->state) {
        fprintf(stderr, "%s: error: the model's state (%lu bytes) does not fit in memory\n", source_name,
                state_size());
        return 0;
    }
    t->init(t->state, m->train.seed);
    t->params = params(t->state), t->grads = grads(t->state);
    if (weights)
        for (long i = 0; i < m->nparams; i++) t->params[i] = weights[i];
    t->out_size = (int)m->layers[m->output].size;
    t->batch = m->train.batch, t->metric = model_metric(m);
    return 1;
}

int trace_model(const Model *m, const char *source_name, const LcData *d, const float *weights,
                const TraceOptions *o, FILE *out)
{
    if (d->n < 1) {
        fprintf(stderr, "%s: error: no samples to trace\n", o->data_name);
        return 1;
    }
    if (o->backward && !d->y) {
        fprintf(stderr, "%s: error: no truth values: the backward pass starts from the loss, "
                "which needs them\n", o->data_name);
        return 1;
    }
    Tracer t;
    memset(&t, 0, sizeof t);
    t.m = m, t.o = o, t.out = out;
    int status = 1;
    if (!open_tracer(&t, m, source_name, weights)) goto done;
    Rows rows = { o->rows < d->n ? o->rows : d->n, d->in, d->out, NULL, NULL, d->label };
    int n = rows.n;
    rows.x = xmalloc(sizeof(double) * (size_t)n * (size_t)d->in);
    for (size_t i = 0; i < (size_t)n * (size_t)d->in; i++) rows.x[i] = d->x[i];
    if (d->y) {
        rows.y = xmalloc(sizeof(double) * (size_t)n * (size_t)d->out);
        for (size_t i = 0; i < (size_t)n * (size_t)d->out; i++) rows.y[i] = d->y[i];
    }
    fprintf(out, "%strace of %s on %s: %s%d of %d; weights %s%s\n%s",
            o->markdown ? "## " : "", source_name, o->data_name, n == 1 ? "sample " : "samples 1 to ", n, d->n,
            o->weights_name ? "from " : "from the model's initialisers",
            o->weights_name ? o->weights_name : "", o->markdown ? "\n" : "");
    fprintf(out, "computed in double precision%s; values to 6 significant digits, below 5e-7 in magnitude 0\n",
            model_is_modal(m) ? ", by the evaluating forward pass (as eval and predict)" : "");
    double *outs = xmalloc(sizeof(double) * (size_t)n * (size_t)t.out_size);
    double *losses = xcalloc((size_t)n, sizeof(double));
    for (int b = 0; b < n; b++) {
        losses[b] = trace_sample(&t, &rows, b, outs + (size_t)b * (size_t)t.out_size);
        arena_free(&t.a);
    }
    if (d->y) trace_batch(&t, &rows, outs, losses);
    free(outs), free(losses), free(rows.x), free(rows.y);
    status = 0;
done:
    arena_free(&t.a);
    free(t.state);
    jit_free(t.jit);
    return status;
}
