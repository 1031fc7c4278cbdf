/* emit.c: the checked model as C (see emit.h).
 *
 * The generated source reads top to bottom like the model file: the state
 * struct (header), the weight table, NAME_init with one line per weight, the
 * forward pass as one block per layer in source order, the loss, the backward
 * pass as the same blocks in reverse, and the optimizer step.  Op blocks come
 * from the op table's emitters (emit_ops.c).
 */
#include "emit.h"

#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "ops.h"
#include "plan.h"
#include "threads.h"   /* [threads] */
#include "version.h"

extern const char lc_kernels_header[];
extern const char *const lc_kernel_unit_names[], *const lc_kernel_unit_sources[];
extern const char lc_threads_source[];   /* [threads] runtime/threads.c */

/* ---- text buffer ---- */

static void put(Emit *e, const char *s, size_t n)
{
    if (e->len + n + 1 > e->cap) {
        while (e->len + n + 1 > e->cap) e->cap = e->cap ? e->cap * 2 : 1 << 16;
        e->buf = xrealloc(e->buf, e->cap);
    }
    memcpy(e->buf + e->len, s, n);
    e->len += n;
    e->buf[e->len] = '\0';
}

void emitf(Emit *e, const char *fmt, ...)
{
    char small[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < (int)sizeof small) {
        put(e, small, (size_t)n);
        return;
    }
    char *big = xmalloc((size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    put(e, big, (size_t)n);
    free(big);
}

static char *rotating(void)
{
    static char bufs[8][320];
    static int next;
    next = (next + 1) % 8;
    return bufs[next];
}

const char *e_real(Emit *e) { return e->o->real_double ? "double" : "float"; }

const char *e_out(Emit *e, int layer)
{
    char *b = rotating();
    if (e->buffer_of) snprintf(b, 320, "m->act%d", e->buffer_of[layer]);
    else snprintf(b, 320, "m->%s_out", e->m->layers[layer].name);
    return b;
}

const char *e_grad(Emit *e, int layer)
{
    if (!e->m->layers[layer].needs_grad || e->o->inference) return "NULL";
    char *b = rotating();
    snprintf(b, 320, "m->d_%s", e->m->layers[layer].name);
    return b;
}

const char *e_weight(Emit *e, int weight)
{
    char *b = rotating();
    snprintf(b, 320, "m->params + OFF_%s", e->m->weights[weight].cname);
    return b;
}

const char *e_wgrad(Emit *e, int weight)
{
    if (!e->m->weights[weight].trainable) return "NULL";
    char *b = rotating();
    snprintf(b, 320, "m->grads + OFF_%s", e->m->weights[weight].cname);
    return b;
}

int e_adds(Emit *e, int layer)
{
    int adds = e->written[layer];
    e->written[layer] = 1;
    return adds;
}

const char *e_acc(Emit *e, int layer)
{
    return e_adds(e, layer) ? "+=" : "=";
}

/* A C literal of the emitted real type that reads back exactly. */
static const char *e_num(Emit *e, double v)
{
    char *b = rotating();
    snprintf(b, 320, e->o->real_double ? "%.17g" : "%.9g", v);
    if (!strpbrk(b, ".eEn")) strcat(b, ".0");
    if (!e->o->real_double) strcat(b, "f");
    return b;
}

/* ---- pieces shared by header and source ---- */

/* [threads] The threads the kernels split a batch over: the JIT's pool
 * (started by layerc --threads before any code is emitted), or --threads N
 * for written C; 1 = none (and always for the double-precision check). */
static int emit_threads(const EmitOptions *o)
{
    if (o->real_double) return 1;
    if (o->jit) return lc_pool_threads();
    return o->threads > 1 ? o->threads : 1;
}

/* Scratch of the convolutions: LC_CONV2D_WORK_T of kernels.h, the most any
 * conv2d layer needs (one im2col buffer; with T threads, T slices of one
 * and a partial weight gradient). */
static long conv_work(const Model *m, int threads)
{
    long most = 0;
    for (int i = 0; i < m->nlayers; i++) {
        const Layer *l = &m->layers[i];
        if (!l->live || !l->op || strcmp(l->op->name, "conv2d")) continue;
        const Layer *x = &m->layers[l->in[0]];
        long k = (long)LP(l, "kernel"), c = x->shape.dims[0], oc = l->shape.dims[0];
        long w = c * k * k * l->shape.dims[1] * l->shape.dims[2];
        if (threads > 1) w = threads * (w + oc * c * k * k + oc);   /* [threads] */
        if (w > most) most = w;
    }
    return most;
}

static int has_velocity(const Model *m)
{
    return m->train.opt.kind == OPT_SGD && m->train.opt.momentum != 0;
}

/* [compile time] source_line() scans from the top of the file, so calling
 * it for every layer block (twice) made writing a 10,000-layer model
 * quadratic.  This gives the same lines from an index of line starts, built
 * once per emit_header / emit_source call (line_index_src = NULL resets it;
 * emitting is single-threaded). */
static const Source *line_index_src;

static const char *indexed_line(const Source *src, int line, size_t *n)
{
    static size_t *starts;
    static int nlines, cap;
    *n = 0;
    if (!src || !src->text || line < 1) return NULL;
    if (line_index_src != src) {
        size_t pos = src->len >= 3 && memcmp(src->text, "\xef\xbb\xbf", 3) == 0 ? 3 : 0;
        nlines = 0;
        for (;;) {
            if (nlines == cap) {
                cap = cap ? 2 * cap : 1024;
                starts = xrealloc(starts, sizeof *starts * (size_t)cap);
            }
            starts[nlines++] = pos;
            const char *nl = memchr(src->text + pos, '\n', src->len - pos);
            if (!nl) break;
            pos = (size_t)(nl - src->text) + 1;
        }
        line_index_src = src;
    }
    if (line > nlines) return NULL;
    size_t pos = starts[line - 1];
    if (pos == src->len && line > 1) return NULL;   /* past the final newline */
    const char *start = src->text + pos, *nl = memchr(start, '\n', src->len - pos);
    size_t len = nl ? (size_t)(nl - start) : src->len - pos;
    if (len > 0 && start[len - 1] == '\r') len--;
    *n = len;
    return start;
}

/* The first line of a statement, safe inside a C comment. */
static void source_excerpt(const Model *m, int line, char *out, size_t len)
{
    size_t n = 0, k = 0;
    const char *s = indexed_line(m->src, line, &n);   /* [compile time] was source_line */
    while (n && isspace((unsigned char)*s)) s++, n--;
    while (n && isspace((unsigned char)s[n - 1])) n--;
    for (size_t i = 0; i < n && k + 2 < len; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch < 32 || ch >= 127) ch = '?';
        if ((ch == '/' && k && out[k - 1] == '*') || (ch == '?' && k && out[k - 1] == '?'))
            out[k++] = ' ';   /* no "*" "/" to end the comment, no trigraphs */
        out[k++] = (char)ch;
    }
    out[k] = '\0';
}

static void layer_comment(Emit *e, const Layer *l)
{
    char text[200], shape[64];
    source_excerpt(e->m, l->loc.line, text, sizeof text);
    emitf(e, "\n    /* %s:%d  %s  -> %s */\n", e->o->source_name, l->loc.line, text,
          shape_str(&l->shape, shape, sizeof shape));
}

/* ---- header ---- */

static void emit_state_struct(Emit *e)
{
    const Model *m = e->m;
    const char *N = m->name, *R = e_real(e);
    long np = m->nparams ? m->nparams : 1;   /* C has no empty arrays */
    char shape[64];
    emitf(e, "typedef struct {\n");
    emitf(e, "    %s params[%ld];   /* every weight, in declaration order, row-major */\n", R, np);
    if (!e->o->inference) {
        emitf(e, "    %s grads[%ld];    /* d(mean loss)/d(params), same layout */\n", R, np);
        const Optimizer *o = &m->train.opt;
        if (o->kind == OPT_SGD) {
            emitf(e, "    /* optimizer: sgd, as torch.optim.SGD (may be changed between steps) */\n");
            emitf(e, "    double lr, momentum, weight_decay;\n");
            if (has_velocity(m)) emitf(e, "    %s velocity[%ld];\n", R, np);
        } else {
            emitf(e, "    /* optimizer: adam, as torch.optim.Adam (may be changed between steps) */\n");
            emitf(e, "    double lr, beta1, beta2, eps, weight_decay;\n");
            emitf(e, "    long step;\n");
            emitf(e, "    %s adam_m[%ld], adam_v[%ld];\n", R, np, np);
        }
    }
    emitf(e, "    uint64_t rng;     /* random state: initialisation%s */\n",
          model_has_dropout(m) ? ", dropout" : "");
    if (model_has_dropout(m) && !e->o->inference)
        emitf(e, "    int training;     /* the last forward pass dropped out */\n");
    if (e->o->inference) {
        BufferPlan p;
        plan_buffers(m, &p);
        emitf(e, "    /* layer outputs, %s_BATCH samples each; a buffer is reused once\n"
                 "     * every reader of its previous layer has run */\n", N);
        for (int b = 0; b < p.nbuffers; b++) {
            emitf(e, "    %s act%d[%s_BATCH * %ld];   /*", R, b, N, p.size[b]);
            for (int i = 0; i < m->nlayers; i++)
                if (p.buffer_of[i] == b) emitf(e, " %s", m->layers[i].name);
            emitf(e, " */\n");
        }
        plan_free(&p);
    } else {
        emitf(e, "    /* stored layer outputs, %s_BATCH samples each */\n", N);
        for (int i = 0; i < m->nlayers; i++) {
            const Layer *l = &m->layers[i];
            if (!l->live) continue;
            emitf(e, "    %s %s_out[%s_BATCH * %ld];   /* %s */\n", R, l->name, N, l->size,
                  shape_str(&l->shape, shape, sizeof shape));
        }
    }
    if (!e->o->inference) {
        int any = 0;
        for (int i = 0; i < m->nlayers; i++) {
            const Layer *l = &m->layers[i];
            if (!l->live || !l->needs_grad) continue;
            if (!any++) emitf(e, "    /* d(loss)/d(layer output), for the backward pass */\n");
            emitf(e, "    %s d_%s[%s_BATCH * %ld];\n", R, l->name, N, l->size);
        }
        for (int i = 0; i < m->nlayers; i++) {
            const Layer *l = &m->layers[i];
            if (l->live && l->op && !strcmp(l->op->name, "dropout"))
                emitf(e, "    %s mask_%s[%s_BATCH * %ld];   /* 0 or 1/(1 - rate) */\n", R,
                      l->name, N, l->size);
        }
    }
    if (conv_work(m, emit_threads(e->o)))
        emitf(e, "    %s work[%ld];   /* im2col scratch of the convolutions */\n", R,
              conv_work(m, emit_threads(e->o)));
    emitf(e, "} %s_t;\n", N);
}

/* --inference: outputs share buffers; e_out() names them */
static void plan_if_inference(Emit *e, BufferPlan *p)
{
    if (!e->o->inference) return;
    plan_buffers(e->m, p);
    e->buffer_of = p->buffer_of;
}

char *emit_header(const Model *m, const EmitOptions *o)
{
    line_index_src = NULL;   /* [compile time] */
    Emit e = { m, o, NULL, 0, 0, 0, NULL, NULL };
    const char *N = m->name, *R = e_real(&e);
    const Layer *in = &m->layers[0], *out = &m->layers[m->output];
    char guard[300];
    size_t k = 0;
    for (const char *p = N; *p && k < sizeof guard - 3; p++) guard[k++] = (char)toupper((unsigned char)*p);
    memcpy(guard + k, "_H", 3);

    emitf(&e, "/* Generated by layerc %s from %s; do not edit (edit the model and run\n"
              " * layerc again).  Model %s: %s[%ld] -> %s[%ld], %ld parameters, loss %s.%s */\n",
          LAYERC_VERSION, o->source_name, N, in->name, in->size, out->name, out->size, m->nparams,
          loss_name(m->loss), o->inference ? "\n * Inference only: forward pass, no training state." : "");
    emitf(&e, "#ifndef %s\n#define %s\n\n#include <stdint.h>\n\n", guard, guard);
    emitf(&e, "#define %s_IN      %ld   /* floats in one input sample */\n", N, in->size);
    emitf(&e, "#define %s_OUT     %ld   /* floats in one output sample (and one truth row) */\n", N, out->size);
    emitf(&e, "#define %s_BATCH   %d   /* most samples one call takes */\n", N, m->train.batch);
    emitf(&e, "#define %s_NPARAMS %ld   /* floats in params[] */\n\n", N, m->nparams);
    emitf(&e, "typedef struct {\n    const char *name;   /* \"w2\", \"h.W\" */\n"
              "    int offset, size;   /* in params[] */\n    int rank, dims[%d];\n"
              "    int trainable;      /* 0 for frozen weights */\n} %s_param_info;\n\n",
          LC_MAX_RANK, N);
    emit_state_struct(&e);
    emitf(&e, "\n/* one row per weight tensor */\nextern const %s_param_info %s_params[];\n"
              "extern const int %s_nparam_tensors;\n\n", N, N, N);
    emitf(&e, "/* Initialises every weight from seed; zeroes gradients and optimizer state. */\n"
              "void %s_init(%s_t *m, uint64_t seed);\n", N, N);
    emitf(&e, "/* Evaluates n <= %s_BATCH samples x[n][%s_IN] (dropout off); copies the\n"
              " * outputs to y[n][%s_OUT] unless y is NULL. */\n"
              "void %s_forward(%s_t *m, const %s *x, %s *y, int n);\n", N, N, N, N, N, R, R);
    emitf(&e, "/* Mean loss of the last forward pass against truth[n][%s_OUT]. */\n"
              "%s %s_loss(const %s_t *m, const %s *truth, int n);\n", N, R, N, N, R);
    if (!o->inference) {
        emitf(&e, "/* grads = d(mean loss)/d(params) for the last forward pass. */\n"
                  "void %s_backward(%s_t *m, const %s *truth, int n);\n", N, N, R);
        emitf(&e, "/* One optimizer step from grads. */\nvoid %s_update(%s_t *m);\n", N, N);
        emitf(&e, "/* Training forward (dropout on), loss, backward, update; returns the loss. */\n"
                  "%s %s_train_step(%s_t *m, const %s *x, const %s *truth, int n);\n", R, N, N, R, R);
    }
    emitf(&e, "\n#endif\n");
    return e.buf;
}

/* ---- source ---- */

static void emit_kernels(Emit *e)
{
    /* [threads] relu and the optimizer step are kernels too (tcc does not
     * optimise, and they split over the threads) */
    if (!model_has_op(e->m, "linear") && !model_has_op(e->m, "dense") &&
        !model_has_op(e->m, "conv2d") && !model_has_op(e->m, "maxpool") &&
        !model_has_op(e->m, "avgpool") && !model_has_op(e->m, "relu") && e->o->inference)
        return;
    if (e->o->jit) {
        /* compiled into layerc with optimisation (in double too, for checks:
         * runtime/kernels_double.c); tcc_add_symbol hands them in */
        if (e->o->real_double) emitf(e, "\n#define LC_REAL_DEFINED\ntypedef double lc_real;\n");
        emitf(e, "\n%s", lc_kernels_header);
        return;
    }
    emitf(e, "\n/* ---- kernels: layerc's runtime/kernels.c, pasted so that this file stands alone ---- */\n");
    if (e->o->real_double) emitf(e, "#define LC_REAL_DEFINED\ntypedef double lc_real;\n");
    if (emit_threads(e->o) > 1)   /* [threads] the pool, before the kernels that use it */
        emitf(e, "/* ---- threads (layerc --threads %d): runtime/threads.c; build with -pthread ---- */\n"
                 "#define LC_THREADS %d\n%s", emit_threads(e->o), emit_threads(e->o), lc_threads_source);
    emitf(e, "#if defined(__GNUC__) || defined(__clang__)\n"
             "#define LC_KERNEL static __attribute__((unused))\n"
             "#else\n#define LC_KERNEL static\n#endif\n");
    emitf(e, "#if defined(__GNUC__)\n#pragma GCC diagnostic push\n"
             "#pragma GCC diagnostic ignored \"-Wunused-function\"\n#endif\n");
    for (int u = 0; lc_kernel_unit_names[u]; u++) emitf(e, "%s", lc_kernel_unit_sources[u]);
    emitf(e, "#if defined(__GNUC__)\n#pragma GCC diagnostic pop\n#endif\n");
    emitf(e, "/* ---- end of kernels ---- */\n");
}

static void emit_param_table(Emit *e)
{
    const Model *m = e->m;
    const char *N = m->name;
    if (m->nweights) {
        emitf(e, "\n/* where each weight lives in params[] and grads[] */\nenum {\n");
        for (int i = 0; i < m->nweights; i++)
            emitf(e, "    OFF_%s = %ld,\n", m->weights[i].cname, m->weights[i].offset);
        emitf(e, "};\n");
    }
    emitf(e, "\nconst %s_param_info %s_params[] = {\n", N, N);
    for (int i = 0; i < m->nweights; i++) {
        const Weight *w = &m->weights[i];
        emitf(e, "    { \"%s\", %ld, %ld, %d, {", w->name, w->offset, w->size, w->shape.rank);
        for (int d = 0; d < w->shape.rank; d++) emitf(e, "%s%ld", d ? ", " : " ", w->shape.dims[d]);
        emitf(e, " }, %d },\n", w->trainable);
    }
    if (!m->nweights) emitf(e, "    { \"\", 0, 0, 0, { 0 }, 0 }   /* no weights */\n");
    emitf(e, "};\nconst int %s_nparam_tensors = %d;\n", N, m->nweights);
}

static int uses_init(const Model *m, InitKind k)
{
    for (int i = 0; i < m->nweights; i++) {
        InitKind w = m->weights[i].init.kind;
        if (w == k || (k == INIT_UNIFORM && (w == INIT_DEFAULT || w == INIT_XAVIER)) ||
            (k == INIT_NORMAL && w == INIT_HE))
            return 1;
    }
    return 0;
}

static void emit_random(Emit *e)
{
    const Model *m = e->m;
    const char *R = e_real(e);
    int uniform = !e->o->baked && uses_init(m, INIT_UNIFORM);
    int normal = !e->o->baked && uses_init(m, INIT_NORMAL);
    int dropout = model_has_dropout(m) && !e->o->inference;
    if (!uniform && !normal && !dropout) return;
    emitf(e, "\n/* splitmix64 (Steele, Lea, Flood 2014): one 64-bit word of state, so the\n"
             " * same seed gives the same numbers on every machine. */\n"
             "static uint64_t lc_random(uint64_t *s)\n{\n"
             "    uint64_t z = (*s += 0x9e3779b97f4a7c15u);\n"
             "    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;\n"
             "    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;\n"
             "    return z ^ (z >> 31);\n}\n\n"
             "/* uniform in [0, 1), 53 bits */\n"
             "static double lc_uniform(uint64_t *s)\n{\n"
             "    return (double)(lc_random(s) >> 11) * (1.0 / 9007199254740992.0);\n}\n");
    if (uniform)
        emitf(e, "\nstatic void lc_fill_uniform(%s *p, int n, double lo, double hi, uint64_t *s)\n{\n"
                 "    for (int i = 0; i < n; i++) p[i] = (%s)(lo + (hi - lo) * lc_uniform(s));\n}\n",
              R, R);
    if (normal)
        emitf(e, "\n/* Box-Muller */\n"
                 "static void lc_fill_normal(%s *p, int n, double mean, double std, uint64_t *s)\n{\n"
                 "    for (int i = 0; i < n; i++) {\n"
                 "        double u = 1.0 - lc_uniform(s), v = lc_uniform(s);\n"
                 "        p[i] = (%s)(mean + std * sqrt(-2.0 * log(u)) * cos(6.283185307179586 * v));\n"
                 "    }\n}\n", R, R);
}

static void emit_weight_init(Emit *e, const Weight *w)
{
    char shape[64];
    const char *p = e_weight(e, (int)(w - e->m->weights));
    long n = w->size;
    double fi = (double)w->fan_in, fo = (double)w->fan_out;
    shape_str(&w->shape, shape, sizeof shape);
    switch (w->init.kind) {
    case INIT_DEFAULT: {
        double b = 1 / sqrt(fi);
        emitf(e, "    /* %s %s: uniform(-1/sqrt(%ld), 1/sqrt(%ld)), PyTorch's default */\n", w->name,
              shape, w->fan_in, w->fan_in);
        emitf(e, "    lc_fill_uniform(%s, %ld, %.17g, %.17g, &m->rng);\n", p, n, -b, b);
        break;
    }
    case INIT_ZEROS:
        emitf(e, "    /* %s %s: zeros */\n", w->name, shape);
        break;
    case INIT_ONES:
    case INIT_CONSTANT: {
        double v = w->init.kind == INIT_ONES ? 1 : w->init.a;
        emitf(e, "    /* %s %s: constant %g */\n", w->name, shape, v);
        emitf(e, "    for (int i = 0; i < %ld; i++) m->params[OFF_%s + i] = %s;\n", n, w->cname, e_num(e, v));
        break;
    }
    case INIT_UNIFORM:
        emitf(e, "    /* %s %s: uniform(%g, %g) */\n", w->name, shape, w->init.a, w->init.b);
        emitf(e, "    lc_fill_uniform(%s, %ld, %.17g, %.17g, &m->rng);\n", p, n, w->init.a, w->init.b);
        break;
    case INIT_NORMAL:
        emitf(e, "    /* %s %s: normal(%g, %g) */\n", w->name, shape, w->init.a, w->init.b);
        emitf(e, "    lc_fill_normal(%s, %ld, %.17g, %.17g, &m->rng);\n", p, n, w->init.a, w->init.b);
        break;
    case INIT_XAVIER: {
        double b = sqrt(6 / (fi + fo));
        emitf(e, "    /* %s %s: xavier, uniform(-sqrt(6 / (%ld + %ld)), +...) */\n", w->name, shape,
              w->fan_in, w->fan_out);
        emitf(e, "    lc_fill_uniform(%s, %ld, %.17g, %.17g, &m->rng);\n", p, n, -b, b);
        break;
    }
    case INIT_HE:
        emitf(e, "    /* %s %s: he, normal(0, sqrt(2 / %ld)) */\n", w->name, shape, w->fan_in);
        emitf(e, "    lc_fill_normal(%s, %ld, 0.0, %.17g, &m->rng);\n", p, n, sqrt(2 / fi));
        break;
    case INIT_LITERAL:
        emitf(e, "    /* %s %s: the values in the model */\n    {\n        static const %s v[%ld] = {", w->name,
              shape, e_real(e), n);
        for (long i = 0; i < n; i++)
            emitf(e, "%s%s%s", i ? "," : "", i % 6 ? " " : "\n            ", e_num(e, w->init.values[i]));
        emitf(e, "\n        };\n        memcpy(%s, v, sizeof v);\n    }\n", p);
        break;
    }
}

static void emit_init(Emit *e)
{
    const Model *m = e->m;
    const char *N = m->name;
    const Optimizer *o = &m->train.opt;
    emitf(e, "\nvoid %s_init(%s_t *m, uint64_t seed)\n{\n", N, N);
    emitf(e, "    memset(m, 0, sizeof *m);\n    m->rng = seed;\n");
    if (!e->o->inference) {
        emitf(e, "    m->lr = %.17g;\n", o->lr);
        if (o->kind == OPT_SGD)
            emitf(e, "    m->momentum = %.17g;\n    m->weight_decay = %.17g;\n", o->momentum, o->weight_decay);
        else
            emitf(e, "    m->beta1 = %.17g;\n    m->beta2 = %.17g;\n    m->eps = %.17g;\n"
                     "    m->weight_decay = %.17g;\n", o->beta1, o->beta2, o->eps, o->weight_decay);
    }
    if (e->o->baked) {
        emitf(e, "    /* trained values, baked in by layerc --weights */\n    {\n"
                 "        static const %s trained[%ld] = {", e_real(e), m->nparams ? m->nparams : 1);
        for (long i = 0; i < m->nparams; i++)
            emitf(e, "%s%s%s", i ? "," : "", i % 6 ? " " : "\n            ", e_num(e, e->o->baked[i]));
        if (!m->nparams) emitf(e, " 0 ");
        emitf(e, "\n        };\n        memcpy(m->params, trained, sizeof(%s) * %ld);\n    }\n",
              e_real(e), m->nparams);
    } else {
        for (int i = 0; i < m->nweights; i++) emit_weight_init(e, &m->weights[i]);
    }
    emitf(e, "}\n");
}

static void emit_forward(Emit *e)
{
    const Model *m = e->m;
    const char *N = m->name, *R = e_real(e);
    int dropout = model_has_dropout(m);
    emitf(e, "\n/* The forward pass: every layer in source order stores its output. */\n"
             "static void %s_run(%s_t *m, const %s *x, int n, int training)\n{\n", N, N, R);
    if (!dropout || e->o->inference) emitf(e, "    (void)training;\n");
    else emitf(e, "    m->training = training;\n");
    const Layer *in = &m->layers[0];
    char text[200];
    source_excerpt(m, in->loc.line, text, sizeof text);
    emitf(e, "    /* %s:%d  %s */\n", e->o->source_name, in->loc.line, text);
    emitf(e, "    memcpy(%s, x, sizeof(%s) * n * %ld);\n", e_out(e, 0), R, in->size);
    for (int i = 1; i < m->nlayers; i++) {
        const Layer *l = &m->layers[i];
        if (!l->live) continue;
        layer_comment(e, l);
        l->op->forward(e, m, l);
    }
    emitf(e, "}\n");
    emitf(e, "\nvoid %s_forward(%s_t *m, const %s *x, %s *y, int n)\n{\n", N, N, R, R);
    emitf(e, "    if (n > %s_BATCH) n = %s_BATCH;   /* the state holds at most BATCH samples */\n"
             "    if (n < 1) return;\n", N, N);
    emitf(e, "    %s_run(m, x, n, 0);\n", N);
    emitf(e, "    if (y) memcpy(y, %s, sizeof(%s) * n * %s_OUT);\n}\n", e_out(e, m->output), R, N);
}

static void emit_loss(Emit *e)
{
    const Model *m = e->m;
    const char *N = m->name, *R = e_real(e);
    const Layer *out = &m->layers[m->output];
    long k = out->size;
    emitf(e, "\n%s %s_loss(const %s_t *m, const %s *truth, int n)\n{\n", R, N, N, R);
    emitf(e, "    double total = 0;\n    if (n > %s_BATCH) n = %s_BATCH;\n    if (n < 1) return 0;\n", N, N);
    switch (m->loss) {
    case LOSS_MSE:
        emitf(e, "    /* mse: 1/2 sum (y - t)^2 per sample */\n"
                 "    for (int i = 0; i < n * %ld; i++) {\n"
                 "        double d = (double)%s[i] - truth[i];\n"
                 "        total += 0.5 * d * d;\n    }\n", k, e_out(e, m->output));
        break;
    case LOSS_CROSS_ENTROPY:
        emitf(e, "    /* cross_entropy: -sum t log softmax(z), from the softmax's input z:\n"
                 "     * log softmax(z) = z - max - log sum exp(z - max) never takes log(0) */\n"
                 "    for (int b = 0; b < n; b++) {\n"
                 "        const %s *z = %s + b * %ld, *t = truth + b * %ld;\n"
                 "        double max = z[0], sum = 0;\n"
                 "        for (int j = 1; j < %ld; j++) if (z[j] > max) max = z[j];\n"
                 "        for (int j = 0; j < %ld; j++) sum += exp(z[j] - max);\n"
                 "        for (int j = 0; j < %ld; j++) total -= t[j] * (z[j] - max - log(sum));\n"
                 "    }\n", R, e_out(e, out->in[0]), k, k, k, k, k);
        break;
    case LOSS_BCE:
        emitf(e, "    /* bce: -(t log y + (1 - t) log(1 - y)), logs clamped at -100 as in PyTorch */\n"
                 "    for (int i = 0; i < n * %ld; i++) {\n"
                 "        double y = %s[i], t = truth[i];\n"
                 "        double log_y = y > 0 ? log(y) : -100, log_1y = y < 1 ? log(1 - y) : -100;\n"
                 "        total -= t * (log_y < -100 ? -100 : log_y) + (1 - t) * (log_1y < -100 ? -100 : log_1y);\n"
                 "    }\n", k, e_out(e, m->output));
        break;
    }
    emitf(e, "    return (%s)(total / n);\n}\n", R);
}

static void emit_backward(Emit *e)
{
    const Model *m = e->m;
    const char *N = m->name, *R = e_real(e);
    int start = model_loss_start(m);
    emitf(e, "\n/* The backward pass: the layer blocks again, in reverse, each passing the\n"
             " * gradient of its output on to its inputs and weights. */\n"
             "void %s_backward(%s_t *m, const %s *truth, int n)\n{\n", N, N, R);
    emitf(e, "    if (n > %s_BATCH) n = %s_BATCH;\n    if (n < 1) return;\n", N, N);
    emitf(e, "    memset(m->grads, 0, sizeof m->grads);\n");
    if (!m->layers[start].needs_grad) {
        emitf(e, "    (void)truth;   /* no trainable weight: nothing to compute */\n}\n");
        return;
    }
    const char *what = m->loss == LOSS_MSE ? "mse: d/dy = (y - t) / n"
                     : m->loss == LOSS_CROSS_ENTROPY ? "cross_entropy through the softmax: d/dz = (softmax(z) - t) / n"
                     : "bce through the sigmoid: d/dz = (sigmoid(z) - t) / n";
    emitf(e, "\n    /* %s:%d  loss %s */\n", e->o->source_name, m->loss_loc.line, what);
    e->written = xcalloc((size_t)m->nlayers, 1);
    emitf(e, "    for (int i = 0; i < n * %ld; i++)\n        %s[i] %s (%s[i] - truth[i]) / n;\n",
          m->layers[m->output].size, e_grad(e, start), e_acc(e, start), e_out(e, m->output));
    for (int i = m->nlayers - 1; i > 0; i--) {
        const Layer *l = &m->layers[i];
        if (!l->live || !l->needs_grad || (i == m->output && start != m->output)) continue;
        layer_comment(e, l);
        l->op->backward(e, m, l);
    }
    free(e->written);
    e->written = NULL;
    emitf(e, "}\n");
}

/* Runs of consecutive weights to update, so the update loops skip frozen
 * ones and those that do not reach the loss. */
static int next_trainable_run(const Model *m, int i, long *from, long *to)
{
    while (i < m->nweights && !m->weights[i].updated) i++;
    if (i == m->nweights) return -1;
    *from = m->weights[i].offset;
    while (i < m->nweights && m->weights[i].updated) i++;
    *to = m->weights[i - 1].offset + m->weights[i - 1].size;
    return i;
}

static void emit_update(Emit *e)
{
    const Model *m = e->m;
    const char *N = m->name, *R = e_real(e);
    const Optimizer *o = &m->train.opt;
    long from, to;
    emitf(e, "\nvoid %s_update(%s_t *m)\n{\n", N, N);
    if (next_trainable_run(m, 0, &from, &to) < 0) {
        emitf(e, "    (void)m;   /* no weight to train */\n}\n");
        return;
    }
    if (o->kind == OPT_SGD) {
        emitf(e, "    /* sgd, as torch.optim.SGD: g = grad + weight_decay p%s; p -= lr %s */\n",
              has_velocity(m) ? "; v = momentum v + g" : "", has_velocity(m) ? "v" : "g");
        emitf(e, "    const %s lr = (%s)m->lr, decay = (%s)m->weight_decay;\n", R, R, R);
        if (has_velocity(m)) emitf(e, "    const %s momentum = (%s)m->momentum;\n", R, R);
    } else {
        emitf(e, "    /* adam, as torch.optim.Adam */\n"
                 "    m->step++;\n"
                 "    const double bias1 = 1 - pow(m->beta1, (double)m->step);\n"
                 "    const double bias2 = 1 - pow(m->beta2, (double)m->step);\n"
                 "    const %s step_size = (%s)(m->lr / bias1), bias2_sqrt = (%s)sqrt(bias2);\n"
                 "    const %s beta1 = (%s)m->beta1, beta2 = (%s)m->beta2, eps = (%s)m->eps;\n"
                 "    const %s one_beta1 = (%s)(1 - m->beta1), one_beta2 = (%s)(1 - m->beta2);\n"
                 "    const %s decay = (%s)m->weight_decay;\n",
              R, R, R, R, R, R, R, R, R, R, R, R);
    }
    /* [threads] each run of trainable weights is one kernel call: the loop
     * above, vectorised (tcc does not) and split over the threads */
    for (int i = 0; (i = next_trainable_run(m, i, &from, &to)) >= 0;) {
        if (o->kind == OPT_SGD && has_velocity(m))
            emitf(e, "    lc_sgd_update(m->params + %ld, m->grads + %ld, m->velocity + %ld, %ld, lr, momentum, decay);\n",
                  from, from, from, to - from);
        else if (o->kind == OPT_SGD)
            emitf(e, "    lc_sgd_update(m->params + %ld, m->grads + %ld, NULL, %ld, lr, 0, decay);\n",
                  from, from, to - from);
        else
            emitf(e, "    lc_adam_update(m->params + %ld, m->grads + %ld, m->adam_m + %ld, m->adam_v + %ld, %ld,\n"
                     "                   step_size, bias2_sqrt, beta1, beta2, one_beta1, one_beta2, eps, decay);\n",
                  from, from, from, from, to - from);
    }
    emitf(e, "}\n");
}

static void emit_train_step(Emit *e)
{
    const char *N = e->m->name, *R = e_real(e);
    emitf(e, "\n%s %s_train_step(%s_t *m, const %s *x, const %s *truth, int n)\n{\n", R, N, N, R, R);
    emitf(e, "    if (n > %s_BATCH) n = %s_BATCH;\n    if (n < 1) return 0;\n", N, N);
    emitf(e, "    %s_run(m, x, n, 1);\n    %s loss = %s_loss(m, truth, n);\n"
             "    %s_backward(m, truth, n);\n    %s_update(m);\n    return loss;\n}\n", N, R, N, N, N);
}

/* What the JIT runner needs beyond the public API: the state's size and
 * where params, grads and the output live inside it. */
static void emit_jit_glue(Emit *e)
{
    const Model *m = e->m;
    const char *N = m->name, *R = e_real(e);
    emitf(e, "\n/* ---- for layerc's JIT runner ---- */\n"
             "unsigned long lc_jit_state_size(void) { return sizeof(%s_t); }\n"
             "%s *lc_jit_params(%s_t *m) { return m->params; }\n"
             "%s *lc_jit_output(%s_t *m) { return %s; }\n"
             "void lc_jit_set_rng(%s_t *m, uint64_t s) { m->rng = s; }\n",
          N, R, N, R, N, e_out(e, m->output), N);
    if (!e->o->inference)
        emitf(e, "%s *lc_jit_grads(%s_t *m) { return m->grads; }\n"
                 "void lc_jit_forward_train(%s_t *m, const %s *x, int n) { %s_run(m, x, n, 1); }\n"
                 "void lc_jit_set_lr(%s_t *m, double lr) { m->lr = lr; }\n",
              R, N, N, R, N, N);
}

char *emit_source(const Model *m, const EmitOptions *o)
{
    line_index_src = NULL;   /* [compile time] */
    Emit e = { m, o, NULL, 0, 0, 0, NULL, NULL };
    BufferPlan plan = { 0, NULL, NULL };
    plan_if_inference(&e, &plan);
    const Layer *in = &m->layers[0], *out = &m->layers[m->output];
    if (o->jit) {
        char *h = emit_header(m, o);
        emitf(&e, "%s", h);
        free(h);
    } else {
        emitf(&e, "/* Generated by layerc %s from %s; do not edit (edit the model and run\n"
                  " * layerc again).  Model %s: %s[%ld] -> %s[%ld], %ld parameters (%ld trainable),\n"
                  " * loss %s.  Needs only a C99 compiler and libm. */\n"
                  "#include \"%s\"\n",
              LAYERC_VERSION, o->source_name, m->name, in->name, in->size, out->name, out->size,
              m->nparams, m->ntrainable, loss_name(m->loss), o->header);
    }
    emitf(&e, "\n#include <math.h>\n#include <stddef.h>\n#include <string.h>\n");
    emit_kernels(&e);
    emit_param_table(&e);
    emit_random(&e);
    emit_init(&e);
    emit_forward(&e);
    emit_loss(&e);
    if (!o->inference) {
        emit_backward(&e);
        emit_update(&e);
        emit_train_step(&e);
    }
    if (o->jit) emit_jit_glue(&e);
    plan_free(&plan);
    return e.buf;
}
