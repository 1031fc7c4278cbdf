/* emit.c: the checked model as C (see emit.h).
 *
 * The generated source reads top to bottom like the model file: the state
 * struct (header), the weight table, NAME_init with one line per weight, the
 * forward pass as one block per layer in source order, the loss, the backward
 * pass as the same blocks in reverse, and the optimizer step.  A model with
 * an op that behaves differently in training (dropout, batchnorm) gets each
 * pass twice, once per mode, each a straight sequence of blocks.  Op blocks
 * come from the op descriptors' emitters, the loss and the step from the loss
 * and optimizer descriptors; this file knows none of them by name.
 */
#include "emit.h"

#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loss.h"
#include "optim.h"
#include "schedule.h"
#include "state.h"
#include "threads.h"
#include "version.h"

extern const char lc_kernels_header[];
extern const char lc_threads_source[];
extern const char *const lc_kernel_unit_names[], *const lc_kernel_unit_sources[];

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

/* ---- names in the generated code ---- */

const char *e_real(const Emit *e) { return e->o->real_double ? "double" : "float"; }

/* "m->h_out", or "m->u3.h_out" when tensor t shares its buffer */
static const char *tensor_ref(Emit *e, int t)
{
    const PlanTensor *x = &e->plan->tensors[t];
    if (e->plan->buffers[x->buffer].ntenants > 1)
        return arena_printf(&e->names, "m->u%d.%s", x->buffer, x->name);
    return arena_printf(&e->names, "m->%s", x->name);
}

const char *e_out(Emit *e, int layer) { return tensor_ref(e, e->plan->out_tensor[e->plan->root[layer]]); }

const char *e_in(Emit *e, const Layer *l, int k) { return e_out(e, l->in[k]); }

const char *e_grad(Emit *e, int layer)
{
    int t = e->plan->grad_tensor[e->plan->root[layer]];
    if (!e->m->layers[layer].needs_grad || !e->build.trains || t < 0) return "NULL";
    return tensor_ref(e, t);
}

const char *e_in_grad(Emit *e, const Layer *l, int k) { return e_grad(e, l->in[k]); }

int e_wants_grad(const Emit *e, const Layer *l, int k)
{
    return e->build.trains && e->m->layers[l->in[k]].needs_grad;
}

/* A weight's values: in params[], or the const array of a baked weight. */
static const char *weight_ref(Emit *e, int w)
{
    const Weight *x = &e->m->weights[w];
    if (plan_is_const(e->plan, w)) return arena_printf(&e->names, "%s_values", x->cname);
    return arena_printf(&e->names, "m->params + OFF_%s", x->cname);
}

const char *e_weight(Emit *e, const Layer *l, int slot)
{
    return layer_weight(e->m, l, slot) ? weight_ref(e, l->w[slot]) : "NULL";
}

/* Fused builds: where weight `slot` of the layer being stepped has its
 * gradient in m->gwork (after its other updated weights). */
static long gwork_at(const Emit *e, const Layer *l, int slot)
{
    long at = 0;
    for (int k = 0; k < slot; k++) {
        const Weight *w = layer_weight(e->m, l, k);
        if (w && w->updated) at += w->size;
    }
    return at;
}

const char *e_wgrad(Emit *e, const Layer *l, int slot)
{
    const Weight *w = layer_weight(e->m, l, slot);
    if (!w || !weight_trainable(w) || !e->build.trains) return "NULL";
    if (e->build.fused) return arena_printf(&e->names, "m->gwork + %ld", gwork_at(e, l, slot));
    return arena_printf(&e->names, "m->grads + GOFF_%s", w->cname);
}

const char *e_step(Emit *e) { return arena_printf(&e->names, "%s_step, &step", e->m->name); }

const char *e_step_at(Emit *e, const Layer *l, int slot)
{
    const Weight *w = layer_weight(e->m, l, slot);
    return w && weight_trainable(w) ? arena_printf(&e->names, "GOFF_%s", w->cname) : "0";
}

const char *e_saved(Emit *e, const Layer *l, int slot)
{
    return tensor_ref(e, e->plan->saved_tensor[layer_index(e->m, l) * LC_MAX_SAVED + slot]);
}

int e_adds(const Emit *e, const Layer *l, int k)
{
    return e->plan->adds[layer_index(e->m, l) * LC_MAX_INPUTS + k];
}

const char *e_acc(const Emit *e, const Layer *l, int k) { return e_adds(e, l, k) ? "+=" : "="; }

/* A C literal of the emitted real type that reads back exactly. */
const char *e_num(Emit *e, double v)
{
    char b[64];
    snprintf(b, sizeof b - 4, e->o->real_double ? "%.17g" : "%.9g", v);
    if (!strpbrk(b, ".eEn")) strcat(b, ".0");
    if (!e->o->real_double) strcat(b, "f");
    return arena_strdup(&e->names, b);
}

/* ---- the build ---- */

/* The threads the kernels split a batch over: the JIT's pool (started by
 * layerc --threads before any code is emitted), or --threads N for written
 * C; 1 = none (and always for the double-precision check). */
static int emit_threads(const EmitOptions *o)
{
    if (o->real_double) return 1;
    if (o->jit) return lc_pool_threads();
    return o->threads > 1 ? o->threads : 1;
}

Build emit_build(const Model *m, const EmitOptions *o)
{
    (void)m;
    return (Build){ !o->inference, o->real_double ? 8 : 4, emit_threads(o), o->baked != NULL,
                    o->keep_all, o->jit ? TARGET_HOST : o->target,
                    !o->inference && !o->jit && o->fuse_update };
}

/* Line starts of the model's source, for the comment above each block. */
static void index_lines(Emit *e)
{
    const Source *src = e->m->src;
    int cap = 0;
    if (!src || !src->text) return;
    size_t pos = src->len >= 3 && memcmp(src->text, "\xef\xbb\xbf", 3) == 0 ? 3 : 0;
    for (;;) {
        if (e->nlines == cap) {
            cap = cap ? 2 * cap : 1024;
            e->line_starts = xrealloc(e->line_starts, sizeof *e->line_starts * (size_t)cap);
        }
        e->line_starts[e->nlines++] = pos;
        const char *nl = memchr(src->text + pos, '\n', src->len - pos);
        if (!nl) break;
        pos = (size_t)(nl - src->text) + 1;
    }
}

static const char *indexed_line(const Emit *e, int line, size_t *n)
{
    const Source *src = e->m->src;
    *n = 0;
    if (line < 1 || line > e->nlines) return NULL;
    size_t pos = e->line_starts[line - 1];
    if (pos == src->len && line > 1) return NULL;   /* past the final newline */
    const char *start = src->text + pos, *nl = memchr(start, '\n', src->len - pos);
    size_t len = nl ? (size_t)(nl - start) : src->len - pos;
    if (len > 0 && start[len - 1] == '\r') len--;
    *n = len;
    return start;
}

static void emit_begin(Emit *e, const Model *m, const EmitOptions *o, Plan *plan)
{
    memset(e, 0, sizeof *e);
    e->m = m;
    e->o = o;
    e->build = emit_build(m, o);
    plan_make(m, &e->build, plan);
    e->plan = plan;
    index_lines(e);
}

static char *emit_end(Emit *e, Plan *plan)
{
    plan_free(plan);
    arena_free(&e->names);
    free(e->line_starts);
    return e->buf;
}

/* The first line of a statement, safe inside a C comment. */
static void source_excerpt(const Emit *e, int line, char *out, size_t len)
{
    size_t n = 0, k = 0;
    const char *s = indexed_line(e, line, &n);
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
    source_excerpt(e, l->loc.line, text, sizeof text);
    emitf(e, "\n    /* %s:%d  %s  -> %s */\n", e->o->source_name, l->loc.line, text,
          shape_str(&l->shape, shape, sizeof shape));
}

/* ---- text alone, for other emitters of C (qemit.c) ---- */

void emit_text_begin(Emit *e, const Model *m, const EmitOptions *o)
{
    memset(e, 0, sizeof *e);
    e->m = m;
    e->o = o;
    index_lines(e);
}

void emit_text_layer_comment(Emit *e, const Layer *l) { layer_comment(e, l); }

char *emit_text_end(Emit *e)
{
    arena_free(&e->names);
    free(e->line_starts);
    return e->buf ? e->buf : xstrdup("");
}

/* ---- header ---- */

static const char *field_type(const Emit *e, FieldType t)
{
    switch (t) {
    case SF_DOUBLE: return "double";
    case SF_INT64: return "int64_t";
    case SF_UINT64: return "uint64_t";
    case SF_INT: return "int";
    case SF_REAL: break;
    }
    return e_real(e);
}

/* "[fashion_mlp_BATCH * 784]" */
static const char *array_dims(Emit *e, long count, int per_sample)
{
    if (per_sample) return arena_printf(&e->names, "[%s_BATCH * %ld]", e->m->name, count);
    return arena_printf(&e->names, "[%ld]", count);
}

/* A buffer several tensors take in turn, their lifetimes apart. */
/* tenants[0..n): the tensors of f's buffer, in plan order. */
static void emit_union(Emit *e, const StateField *f, const int *tenants, int n)
{
    const Plan *p = e->plan;
    emitf(e, "    union {   /* taken in turn:");
    for (int k = 0; k < n; k++) emitf(e, " %s", p->tensors[tenants[k]].name);
    emitf(e, " */\n");
    for (int k = 0; k < n; k++) {
        const PlanTensor *t = &p->tensors[tenants[k]];
        emitf(e, "        %s %s%s;\n", e_real(e), t->name, array_dims(e, t->size, t->per_sample));
    }
    emitf(e, "    } %s;\n", f->name);
}

/* The tensors of each buffer, buffer by buffer (a counting sort, so that a
 * deep model's thousands of unions cost one pass): buffer b's are
 * tenants[first[b] .. first[b + 1]). */
static void buffer_tenants(const Plan *p, int **first_out, int **tenants_out)
{
    int *first = xcalloc((size_t)p->nbuffers + 2, sizeof *first);
    int *tenants = xmalloc(sizeof *tenants * (size_t)(p->ntensors + 1));
    for (int t = 0; t < p->ntensors; t++)
        if (p->tensors[t].buffer >= 0) first[p->tensors[t].buffer + 2]++;
    for (int b = 0; b < p->nbuffers; b++) first[b + 2] += first[b + 1];
    for (int t = 0; t < p->ntensors; t++)
        if (p->tensors[t].buffer >= 0) tenants[first[p->tensors[t].buffer + 1]++] = t;
    *first_out = first;
    *tenants_out = tenants;
}

static void emit_state_struct(Emit *e)
{
    const Model *m = e->m;
    const char *N = m->name;
    StateLayout s;
    char shape[64];
    int said = 0;
    int *first, *tenants;
    state_layout(m, &e->build, e->plan, &s);
    buffer_tenants(e->plan, &first, &tenants);
    emitf(e, "typedef struct {\n");
    for (int i = 0; i < s.n; i++) {
        const StateField *f = &s.fields[i];
        if (f->buffer >= 0 && !said++)
            emitf(e, "    /* layer outputs%s, %s_BATCH samples each; tensors whose\n"
                     "     * lifetimes do not overlap share a union */\n",
                  e->build.trains ? ", gradients and what the backward pass reads" : "", N);
        if (f->group == SG_SHARED) {
            emit_union(e, f, tenants + first[f->buffer], first[f->buffer + 1] - first[f->buffer]);
            continue;
        }
        emitf(e, "    %s %s%s;", field_type(e, f->type), f->name,
              f->count ? array_dims(e, f->count, f->per_sample) : "");
        if (f->comment) emitf(e, "   /* %s */", f->comment);
        else if (f->group == SG_OUTPUTS && f->layer >= 0)
            emitf(e, "   /* %s */", shape_str(&m->layers[f->layer].shape, shape, sizeof shape));
        emitf(e, "\n");
    }
    emitf(e, "} %s_t;\n", N);
    emitf(e, "#define %s_STATE_BYTES %.0f   /* sizeof(%s_t) */\n", N,
          state_bytes(&s, &e->build, m->train.batch), N);
    state_free(&s);
    free(first);
    free(tenants);
}

char *emit_header(const Model *m, const EmitOptions *o)
{
    Emit e;
    Plan plan;
    emit_begin(&e, m, o, &plan);
    const char *N = m->name, *R = e_real(&e);
    const Layer *in = &m->layers[0], *out = &m->layers[m->output];
    char guard[300];
    size_t k = 0;
    for (const char *p = N; *p && k < sizeof guard - 3; p++) guard[k++] = (char)toupper((unsigned char)*p);
    memcpy(guard + k, "_H", 3);

    emitf(&e, "/* Generated by layerc %s from %s; do not edit (edit the model and run\n"
              " * layerc again).  Model %s: %s[%ld] -> %s[%ld], %ld parameters, loss %s.%s */\n",
          LAYERC_VERSION, o->source_name, N, in->name, in->size, out->name, out->size, m->nparams,
          m->loss->name, o->inference ? "\n * Inference only: forward pass, no training state." : "");
    emitf(&e, "#ifndef %s\n#define %s\n\n#include <stdint.h>\n\n"
              "#ifdef __cplusplus\nextern \"C\" {\n#endif\n\n", guard, guard);
    emitf(&e, "#define %s_IN      %ld   /* floats in one input sample */\n", N, in->size);
    emitf(&e, "#define %s_OUT     %ld   /* floats in one output sample (and one truth row) */\n", N, out->size);
    emitf(&e, "#define %s_BATCH   %d   /* most samples one call takes */\n", N, m->train.batch);
    emitf(&e, "#define %s_NPARAMS %ld   /* floats in params[] */\n", N, plan.nparams);
    emitf(&e, "#define %s_NGRADS  %ld   /* floats in grads[]: the trainable weights */\n\n", N,
          m->ntrainable);
    emitf(&e, "/* what learning does to a weight */\n"
              "#define %s_TRAINABLE 0   /* stepped by the optimizer */\n"
              "#define %s_FROZEN    1   /* never changes */\n"
              "#define %s_BUFFER    2   /* changed by the training forward pass (running statistics) */\n\n",
          N, N, N);
    emitf(&e, "typedef struct {\n    const char *name;   /* \"w2\", \"h.W\" */\n"
              "    int offset, size;   /* in params[] (offset -1: in `values`) */\n    int rank, dims[%d];\n"
              "    int trainable;      /* 1 when role is %s_TRAINABLE */\n"
              "    int role;           /* %s_TRAINABLE, %s_FROZEN or %s_BUFFER */\n"
              "    int grad_offset;    /* in grads[], -1 when not trainable */\n"
              "    const %s *values;   /* a baked weight that never changes (flash), else NULL */\n"
              "} %s_param_info;\n\n",
          LC_MAX_RANK, N, N, N, N, R, N);
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
    if (e.build.fused) {
        emitf(&e, "/* Training forward (dropout on), loss, and the backward pass, which steps each\n"
                  " * weight as soon as its gradient is known (layerc --fuse-update: there is no\n"
                  " * grads[], NAME_backward or NAME_update); returns the loss. */\n"
                  "%s %s_train_step(%s_t *m, const %s *x, const %s *truth, int n);\n", R, N, N, R, R);
    } else if (!o->inference) {
        emitf(&e, "/* grads = d(mean loss)/d(params) for the last forward pass. */\n"
                  "void %s_backward(%s_t *m, const %s *truth, int n);\n", N, N, R);
        emitf(&e, "/* One optimizer step from grads. */\nvoid %s_update(%s_t *m);\n", N, N);
        emitf(&e, "/* Training forward (dropout on), loss, backward, update; returns the loss. */\n"
                  "%s %s_train_step(%s_t *m, const %s *x, const %s *truth, int n);\n", R, N, N, R, R);
        if (m->train.schedule.def)
            emitf(&e, "/* Sets m->lr to the rate of epoch `epoch` (0 = the first) under the schedule\n"
                      " * %s from lr %g (torch.optim.lr_scheduler stepped once an epoch). */\n"
                      "void %s_set_epoch(%s_t *m, int epoch);\n",
                  schedule_text(&m->train.schedule, &e.names), optim_lr(&m->train.opt), N, N);
    }
    emitf(&e, "\n#ifdef __cplusplus\n}\n#endif\n\n#endif\n");
    return emit_end(&e, &plan);
}

/* ---- source ---- */

/* The kernel units a build needs: those of its live ops, its loss and
 * (when it trains) its optimizer, as a flag per unit of the table. */
static int needs_unit(const char *units, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = units; p && (p = strstr(p, name)); p += n)
        if ((p == units || p[-1] == ' ') && (p[n] == '\0' || p[n] == ' ')) return 1;
    return 0;
}

static int unit_needed(const Emit *e, const char *name)
{
    const Model *m = e->m;
    for (int i = 0; i < m->nlayers; i++)
        if (m->layers[i].live && m->layers[i].op && needs_unit(m->layers[i].op->units, name)) return 1;
    if (needs_unit(m->loss->units, name)) return 1;
    return e->build.trains && needs_unit(m->train.opt.def->units, name);
}

/* The unit pasted for unit u: its small-core version ("gemm_mcu") when the
 * target is TARGET_MCU and there is one, -1 when u is itself such a version
 * (pasted in place of its host unit, never beside it). */
static int unit_for_target(const Emit *e, int u)
{
    const char *name = lc_kernel_unit_names[u];
    size_t n = strlen(name);
    if (n > 4 && !strcmp(name + n - 4, "_mcu")) return -1;
    if (e->build.target != TARGET_MCU) return u;
    for (int v = 0; lc_kernel_unit_names[v]; v++)
        if (!strncmp(lc_kernel_unit_names[v], name, n) && !strcmp(lc_kernel_unit_names[v] + n, "_mcu"))
            return v;
    return u;
}

static void emit_kernels(Emit *e)
{
    int any = 0;
    for (int u = 0; lc_kernel_unit_names[u]; u++) any |= unit_needed(e, lc_kernel_unit_names[u]);
    if (!any) return;
    if (e->o->jit) {
        /* compiled into layerc with optimisation (in double too, for checks:
         * runtime/kernels_double.c); tcc_add_symbol hands them in */
        if (e->o->real_double) emitf(e, "\n#define LC_REAL_DEFINED\ntypedef double lc_real;\n");
        emitf(e, "\n%s", lc_kernels_header);
        return;
    }
    emitf(e, "\n/* ---- kernels: layerc's runtime/kernels/, pasted so that this file stands alone ---- */\n");
    if (e->o->real_double) emitf(e, "#define LC_REAL_DEFINED\ntypedef double lc_real;\n");
    if (e->build.threads > 1)   /* the pool, before the kernels that use it */
        emitf(e, "/* ---- threads (layerc --threads %d): runtime/threads.c; build with -pthread ---- */\n"
                 "#define LC_THREADS %d\n%s", e->build.threads, e->build.threads, lc_threads_source);
    emitf(e, "#if defined(__GNUC__) || defined(__clang__)\n"
             "#define LC_KERNEL static __attribute__((unused))\n"
             "#else\n#define LC_KERNEL static\n#endif\n");
    emitf(e, "#if defined(__GNUC__)\n#pragma GCC diagnostic push\n"
             "#pragma GCC diagnostic ignored \"-Wunused-function\"\n#endif\n");
    for (int u = 0; lc_kernel_unit_names[u]; u++) {
        int v = unit_for_target(e, u);
        if (v >= 0 && (u == 0 || unit_needed(e, lc_kernel_unit_names[u])))
            emitf(e, "%s", lc_kernel_unit_sources[v]);
    }
    emitf(e, "#if defined(__GNUC__)\n#pragma GCC diagnostic pop\n#endif\n");
    emitf(e, "/* ---- end of kernels ---- */\n");
}

/* "static const float h_W_values[...] = { ... };" for every weight that is
 * baked and never changes: flash on a microcontroller. */
static void emit_const_weights(Emit *e)
{
    const Model *m = e->m;
    for (int i = 0; i < m->nweights; i++) {
        const Weight *w = &m->weights[i];
        char shape[64];
        if (!plan_is_const(e->plan, i)) continue;
        emitf(e, "\n/* %s %s, %s: trained values, baked in by layerc --weights */\n"
                 "static const %s %s_values[%ld] = {", w->name, shape_str(&w->shape, shape, sizeof shape),
              w->role == ROLE_TRAINABLE ? "trainable (not trained in this build)"
                                        : w->role == ROLE_FROZEN ? "frozen" : "buffer",
              e_real(e), w->cname, w->size);
        for (long k = 0; k < w->size; k++)
            emitf(e, "%s%s%s", k ? "," : "", k % 6 ? " " : "\n    ", e_num(e, e->o->baked[w->offset + k]));
        emitf(e, "\n};\n");
    }
}

static void emit_param_table(Emit *e)
{
    const Model *m = e->m;
    const char *N = m->name;
    int any_params = 0, any_grads = 0;
    for (int i = 0; i < m->nweights; i++) {
        any_params |= !plan_is_const(e->plan, i);
        any_grads |= e->build.trains && weight_trainable(&m->weights[i]);
    }
    if (any_params) {
        emitf(e, "\n/* where each weight lives in params[] */\nenum {\n");
        for (int i = 0; i < m->nweights; i++)
            if (!plan_is_const(e->plan, i))
                emitf(e, "    OFF_%s = %ld,\n", m->weights[i].cname, e->plan->param_at[i]);
        emitf(e, "};\n");
    }
    if (any_grads) {
        emitf(e, "\n/* where each trainable weight's gradient lives in grads[] */\nenum {\n");
        for (int i = 0; i < m->nweights; i++)
            if (weight_trainable(&m->weights[i]))
                emitf(e, "    GOFF_%s = %ld,\n", m->weights[i].cname, m->weights[i].grad_offset);
        emitf(e, "};\n");
    }
    emit_const_weights(e);
    emitf(e, "\nconst %s_param_info %s_params[] = {\n", N, N);
    for (int i = 0; i < m->nweights; i++) {
        const Weight *w = &m->weights[i];
        int fixed = plan_is_const(e->plan, i);
        emitf(e, "    { \"%s\", %ld, %ld, %d, {", w->name, fixed ? -1 : e->plan->param_at[i], w->size,
              w->shape.rank);
        for (int d = 0; d < w->shape.rank; d++) emitf(e, "%s%ld", d ? ", " : " ", w->shape.dims[d]);
        emitf(e, " }, %d, %d, %ld, %s },\n", weight_trainable(w), (int)w->role, w->grad_offset,
              fixed ? arena_printf(&e->names, "%s_values", w->cname) : "NULL");
    }
    if (!m->nweights) emitf(e, "    { \"\", 0, 0, 0, { 0 }, 0, 0, -1, NULL }   /* no weights */\n");
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

/* Some live op draws random numbers in the training forward pass. */
static int training_uses_random(const Model *m)
{
    for (int i = 0; i < m->nlayers; i++)
        if (m->layers[i].live && m->layers[i].op && m->layers[i].op->random) return 1;
    return 0;
}

static void emit_random(Emit *e)
{
    const Model *m = e->m;
    const char *R = e_real(e);
    int uniform = !e->o->baked && uses_init(m, INIT_UNIFORM);
    int normal = !e->o->baked && uses_init(m, INIT_NORMAL);
    int training = training_uses_random(m) && e->build.trains;
    if (!uniform && !normal && !training) return;
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
    const char *p = arena_printf(&e->names, "m->params + OFF_%s", w->cname);
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
    if (e->build.trains) {
        emitf(e, "    m->%s = %.17g;\n", o->def->params[0], o->hp[0]);
        for (int k = 1; k < o->def->nparams; k++)
            emitf(e, "    m->%s = %.17g;\n", o->def->params[k], o->hp[k]);
    }
    if (e->o->baked) {
        if (e->plan->nparams) {
            emitf(e, "    /* trained values of the weights that change, baked in by layerc --weights */\n"
                     "    {\n        static const %s trained[%ld] = {", e_real(e), e->plan->nparams);
            long k = 0;
            for (int i = 0; i < m->nweights; i++) {
                const Weight *w = &m->weights[i];
                if (plan_is_const(e->plan, i)) continue;
                for (long j = 0; j < w->size; j++, k++)
                    emitf(e, "%s%s%s", k ? "," : "", k % 6 ? " " : "\n            ",
                          e_num(e, e->o->baked[w->offset + j]));
            }
            emitf(e, "\n        };\n        memcpy(m->params, trained, sizeof trained);\n    }\n");
        }
    } else {
        for (int i = 0; i < m->nweights; i++) emit_weight_init(e, &m->weights[i]);
    }
    emitf(e, "}\n");
}

/* The name of the forward (or backward) pass of a mode: one function when
 * the model has no modal op or the build does not train. */
static const char *pass_name(Emit *e, const char *pass, Mode mode)
{
    if (!e->build.trains || !model_is_modal(e->m)) return arena_printf(&e->names, "%s_%s", e->m->name, pass);
    return arena_printf(&e->names, "%s_%s_%s", e->m->name, pass, mode == MODE_TRAIN ? "train" : "eval");
}

/* checked: the JIT's lc_jit_nonfinite_layer, which returns the name of the
 * first layer whose output is not finite */
/* --qat: layer i's output rounded as the int8 build will round it */
static void emit_fake_quant(Emit *e, int i)
{
    const FakeQuant *f = e->o->fake ? &e->o->fake[i] : NULL;
    if (!f || !(f->scale > 0)) return;
    emitf(e, "    lc_fakequant_forward(%s, n * %ld, %.17g, %d, %d, %d);   /* --qat */\n", e_out(e, i),
          e->m->layers[i].size, f->scale, f->zero, f->lo, f->hi);
}

/* The forward pass as a function: PASS_PLAIN, the pass itself; PASS_CHECKED,
 * the JIT's lc_jit_nonfinite_layer (the first layer whose output is not
 * finite); PASS_FROM, the JIT's lc_jit_forward_train_from (the layers from
 * `from` on, over outputs of the layers before it that the last pass left:
 * `layerc check` moves one weight at a time). */
enum { PASS_PLAIN, PASS_CHECKED, PASS_FROM };

static void emit_forward_pass(Emit *e, Mode mode, int variant)
{
    const Model *m = e->m;
    const char *N = m->name, *R = e_real(e);
    int modal = e->build.trains && model_is_modal(m), checked = variant == PASS_CHECKED;
    int from = variant == PASS_FROM;
    if (checked)
        emitf(e, "const char *lc_jit_nonfinite_layer(%s_t *m, const %s *input, int n)\n{\n"
                 "    if (n > %s_BATCH) n = %s_BATCH;\n", N, R, N, N);
    else if (from)
        emitf(e, "void lc_jit_forward_train_from(%s_t *m, const %s *input, int n, int from, uint64_t *rng_at)\n{\n"
                 "    if (from > 0) m->rng = rng_at[from];   /* the random state a full pass had there */\n", N, R);
    else
        emitf(e, "\n/* The %sforward pass: every layer in source order stores its output. */\n"
                 "static void %s(%s_t *m, const %s *input, int n)\n{\n",
              !modal ? "" : mode == MODE_TRAIN ? "training " : "evaluating ", pass_name(e, "run", mode), N, R);
    if (modal) emitf(e, "    m->training = %d;\n", mode == MODE_TRAIN);
    if (from) emitf(e, "    switch (from) {\n    case 0: ;\n");
    const Layer *in = &m->layers[0];
    char text[200];
    source_excerpt(e, in->loc.line, text, sizeof text);
    emitf(e, "    /* %s:%d  %s */\n", e->o->source_name, in->loc.line, text);
    emitf(e, "    memcpy(%s, input, sizeof(%s) * (size_t)n * %ld);\n", e_out(e, 0), R, in->size);
    emit_fake_quant(e, 0);
    for (int i = 1; i < m->nlayers; i++) {
        const Layer *l = &m->layers[i];
        if (!l->live) continue;
        if (from) emitf(e, "    case %d:\n    rng_at[%d] = m->rng;\n", i, i);
        layer_comment(e, l);
        if (e->plan->root[i] != i)
            emitf(e, "    /* %s is %s's storage: nothing to compute */\n", l->name,
                  m->layers[e->plan->root[i]].name);
        else
            l->op->forward(e, l, mode);
        emit_fake_quant(e, i);
        if (checked)
            emitf(e, "    if (!lc_jit_finite(%s, (long)n * %ld)) return \"%s\";\n", e_out(e, i), l->size,
                  l->name);
    }
    if (from) emitf(e, "    default: ;\n    }\n");
    emitf(e, checked ? "    return 0;\n}\n" : "}\n");
}

static void emit_forward(Emit *e)
{
    const Model *m = e->m;
    const char *N = m->name, *R = e_real(e);
    emit_forward_pass(e, MODE_EVAL, PASS_PLAIN);
    if (e->build.trains && model_is_modal(m)) emit_forward_pass(e, MODE_TRAIN, PASS_PLAIN);
    emitf(e, "\nvoid %s_forward(%s_t *m, const %s *x, %s *y, int n)\n{\n", N, N, R, R);
    emitf(e, "    if (n > %s_BATCH) n = %s_BATCH;   /* the state holds at most BATCH samples */\n"
             "    if (n < 1) return;\n", N, N);
    emitf(e, "    %s(m, x, n);\n", pass_name(e, "run", MODE_EVAL));
    emitf(e, "    if (y) memcpy(y, %s, sizeof(%s) * (size_t)n * %s_OUT);\n}\n", e_out(e, m->output), R, N);
}

static void emit_loss(Emit *e)
{
    const Model *m = e->m;
    const char *N = m->name, *R = e_real(e);
    emitf(e, "\n%s %s_loss(const %s_t *m, const %s *truth, int n)\n{\n", R, N, N, R);
    emitf(e, "    if (n > %s_BATCH) n = %s_BATCH;\n    if (n < 1) return 0;\n", N, N);
    m->loss->emit_loss(e);
    emitf(e, "}\n");
}

/* The first step of the backward pass, from the loss: (y - t) / n at the
 * output, or at the fused output op's input (p - t for softmax with
 * cross_entropy, sigmoid with bce). */
static void emit_loss_start(Emit *e)
{
    const Model *m = e->m;
    emitf(e, "\n    /* %s:%d  loss %s */\n", e->o->source_name, m->loss_loc.line, m->loss->backward_doc);
    loss_emit_backward_start(e, e_grad(e, model_loss_start(m)));
}

/* The loss's backward start, then the layers' backward blocks in reverse
 * order; fused: each block followed by the steps of its layer's weights. */
static void emit_block_and_step(Emit *e, const Layer *l, Mode mode);
static void emit_backward_blocks(Emit *e, Mode mode, int fused)
{
    const Model *m = e->m;
    int start = model_loss_start(m);
    emit_loss_start(e);
    for (int i = m->nlayers - 1; i > 0; i--) {
        const Layer *l = &m->layers[i];
        if (!l->live || !l->needs_grad || (i == m->output && start != m->output)) continue;
        layer_comment(e, l);
        if (e->plan->root[i] != i)
            emitf(e, "    /* %s is %s's storage: its gradient too */\n", l->name,
                  m->layers[e->plan->root[i]].name);
        else if (fused)
            emit_block_and_step(e, l, mode);
        else
            l->op->backward(e, l, mode);
    }
}

static void emit_backward_pass(Emit *e, Mode mode, int public)
{
    const Model *m = e->m;
    const char *N = m->name, *R = e_real(e);
    int start = model_loss_start(m);
    if (public)
        emitf(e, "\n/* The backward pass: the layer blocks again, in reverse, each passing the\n"
                 " * gradient of its output on to its inputs and weights. */\n"
                 "void %s_backward(%s_t *m, const %s *truth, int n)\n{\n", N, N, R);
    else
        emitf(e, "\n/* The backward pass of the %s forward pass. */\n"
                 "static void %s(%s_t *m, const %s *truth, int n)\n{\n",
              mode == MODE_TRAIN ? "training" : "evaluating", pass_name(e, "backward", mode), N, R);
    if (public) {
        emitf(e, "    if (n > %s_BATCH) n = %s_BATCH;\n    if (n < 1) return;\n", N, N);
        emitf(e, "    memset(m->grads, 0, sizeof m->grads);\n");
    }
    if (!m->layers[start].needs_grad) {
        emitf(e, "    (void)truth;   /* no trainable weight: nothing to compute */\n}\n");
        return;
    }
    emit_backward_blocks(e, mode, 0);
    emitf(e, "}\n");
}

static void emit_backward(Emit *e)
{
    const Model *m = e->m;
    const char *N = m->name, *R = e_real(e);
    if (!model_is_modal(m)) {
        emit_backward_pass(e, MODE_TRAIN, 1);
        return;
    }
    emit_backward_pass(e, MODE_EVAL, 0);
    emit_backward_pass(e, MODE_TRAIN, 0);
    emitf(e, "\n/* The backward pass: the layer blocks again, in reverse, each passing the\n"
             " * gradient of its output on to its inputs and weights, in the mode of the\n"
             " * last forward pass. */\n"
             "void %s_backward(%s_t *m, const %s *truth, int n)\n{\n", N, N, R);
    emitf(e, "    if (n > %s_BATCH) n = %s_BATCH;\n    if (n < 1) return;\n", N, N);
    emitf(e, "    memset(m->grads, 0, sizeof m->grads);\n");
    emitf(e, "    if (m->training) %s(m, truth, n);\n    else %s(m, truth, n);\n}\n",
          pass_name(e, "backward", MODE_TRAIN), pass_name(e, "backward", MODE_EVAL));
}

/* Runs of consecutive weights to update with the same decay, so the update
 * loops skip frozen ones and those that do not reach the loss: params[p,
 * p + n) and grads[g, g + n). */
static int next_trainable_run(const Emit *e, int i, long *p, long *g, long *n, double *decay)
{
    const Model *m = e->m;
    while (i < m->nweights && !m->weights[i].updated) i++;
    if (i == m->nweights) return -1;
    *p = e->plan->param_at[i];
    *g = m->weights[i].grad_offset;
    *decay = m->weights[i].decay;
    *n = 0;
    while (i < m->nweights && m->weights[i].updated && m->weights[i].decay == *decay)
        *n += m->weights[i++].size;
    return i;
}

static void emit_update(Emit *e)
{
    const Model *m = e->m;
    const char *N = m->name;
    const Optimizer *o = &m->train.opt;
    long p, g, n;
    double decay;
    emitf(e, "\nvoid %s_update(%s_t *m)\n{\n", N, N);
    if (next_trainable_run(e, 0, &p, &g, &n, &decay) < 0) {
        emitf(e, "    (void)m;   /* no weight to train */\n}\n");
        return;
    }
    o->def->emit_prologue(e, o);
    for (int i = 0; (i = next_trainable_run(e, i, &p, &g, &n, &decay)) >= 0;)
        o->def->emit_run(e, o, p, g, n, decay);
    emitf(e, "}\n");
}

/* The layer has a weight the optimizer steps. */
static int steps_weights(const Model *m, const Layer *l)
{
    for (int k = 0; l->op && k < l->op->nweights; k++) {
        const Weight *w = layer_weight(m, l, k);
        if (w && w->updated) return 1;
    }
    return 0;
}

/* Fused builds: layer l's backward block, then the step of each of its
 * weights, from m->gwork where the block put their gradients (or in the
 * block itself when the op has a backward_step). */
static void emit_block_and_step(Emit *e, const Layer *l, Mode mode)
{
    const Model *m = e->m;
    const char *N = m->name;
    if (!steps_weights(m, l)) {
        l->op->backward(e, l, mode);
        return;
    }
    int all = 1;   /* a backward_step steps every weight of the layer */
    for (int k = 0; k < l->op->nweights; k++) {
        const Weight *w = layer_weight(m, l, k);
        if (w && !w->updated) all = 0;
    }
    if (l->op->backward_step && all) {
        l->op->backward_step(e, l, mode);
        return;
    }
    emitf(e, "    memset(m->gwork, 0, sizeof(%s) * %ld);\n", e_real(e), state_step_scratch(m));
    l->op->backward(e, l, mode);
    for (int k = 0; k < l->op->nweights; k++) {
        const Weight *w = layer_weight(m, l, k);
        if (w && w->updated)
            emitf(e, "    %s_step(&step, %s, m->gwork + %ld, GOFF_%s, %ld, %s);\n", N, e_weight(e, l, k),
                  gwork_at(e, l, k), w->cname, w->size, e_num(e, w->decay));
    }
}

/* NAME_train_step of a build with the step fused into the backward pass:
 * each layer's weights are stepped as soon as the layer's backward block
 * has their gradients (a layer's weights are read by it alone, so no later
 * block sees the new values), and no gradient array is kept. */
static void emit_fused_train_step(Emit *e)
{
    const Model *m = e->m;
    const char *N = m->name, *R = e_real(e);
    const Optimizer *o = &m->train.opt;
    int start = model_loss_start(m);
    o->def->emit_step(e, o);
    emitf(e, "\n%s %s_train_step(%s_t *m, const %s *x, const %s *truth, int n)\n{\n", R, N, N, R, R);
    emitf(e, "    if (n > %s_BATCH) n = %s_BATCH;\n    if (n < 1) return 0;\n", N, N);
    emitf(e, "    %s(m, x, n);\n    %s loss = %s_loss(m, truth, n);\n", pass_name(e, "run", MODE_TRAIN), R, N);
    if (!m->layers[start].needs_grad) {
        emitf(e, "    (void)truth;   /* no trainable weight: nothing to compute */\n    return loss;\n}\n");
        return;
    }
    emitf(e, "    %s_step_ctx step;\n    %s_step_begin(m, &step);\n", N, N);
    emit_backward_blocks(e, MODE_TRAIN, 1);
    emitf(e, "    return loss;\n}\n");
}

static void emit_train_step(Emit *e)
{
    const char *N = e->m->name, *R = e_real(e);
    emitf(e, "\n%s %s_train_step(%s_t *m, const %s *x, const %s *truth, int n)\n{\n", R, N, N, R, R);
    emitf(e, "    if (n > %s_BATCH) n = %s_BATCH;\n    if (n < 1) return 0;\n", N, N);
    emitf(e, "    %s(m, x, n);\n    %s loss = %s_loss(m, truth, n);\n"
             "    %s_backward(m, truth, n);\n    %s_update(m);\n    return loss;\n}\n",
          pass_name(e, "run", MODE_TRAIN), R, N, N, N);
}

/* lc_jit_nonfinite_layer(m, input, n): the training forward pass again, each
 * layer's output checked as soon as it is computed (a buffer shared by
 * lifetime holds it only until a later tensor takes it): the first layer
 * whose output is not finite, or NULL.  The runner asks after a step whose
 * loss was not finite. */
static void emit_jit_nonfinite_layer(Emit *e)
{
    emitf(e, "\nstatic int lc_jit_finite(const %s *p, long k)\n{\n"
             "    for (long i = 0; i < k; i++) if (!(p[i] - p[i] == 0)) return 0;\n"
             "    return 1;\n}\n", e_real(e));
    emit_forward_pass(e, MODE_TRAIN, PASS_CHECKED);
}

/* Only where the layers before `from` keep their outputs (keep_all: no
 * buffer is shared).  A pass records the random state at each layer in
 * rng_at[] and one from a later layer starts from the state recorded
 * there, so that a dropout after it draws the masks of a full pass. */
static void emit_jit_forward_from(Emit *e)
{
    if (!e->build.keep_all) return;
    emitf(e, "\n");
    emit_forward_pass(e, MODE_TRAIN, PASS_FROM);
}

/* Layer i's output still holds the last forward pass: it is computed, and
 * no other tensor takes its buffer. */
static int output_kept(const Emit *e, int i)
{
    const Plan *p = e->plan;
    int t = p->out_tensor[p->root[i]];
    return e->m->layers[i].live && t >= 0 && p->buffers[p->tensors[t].buffer].ntenants == 1;
}

/* The backward pass writes the gradient of layer i's output: it needs one,
 * and it is not the output of a loss fused with its op (whose backward
 * starts at the layer before). */
static int gradient_kept(const Emit *e, int i)
{
    const Model *m = e->m;
    const Plan *p = e->plan;
    int t = p->grad_tensor[p->root[i]];
    return e->build.trains && m->layers[i].live && m->layers[i].needs_grad && t >= 0 &&
           p->buffers[p->tensors[t].buffer].ntenants == 1 &&
           !(i == m->output && model_loss_start(m) != m->output);
}

/* For layerc trace: each layer's output and gradient by layer index, NULL
 * where the build keeps none; an alias gives its input's storage. */
static void emit_layer_accessors(Emit *e)
{
    const Model *m = e->m;
    const char *N = m->name, *R = e_real(e);
    emitf(e, "%s *lc_jit_layer_out(%s_t *m, int i)\n{\n    switch (i) {\n", R, N);
    for (int i = 0; i < m->nlayers; i++)
        if (output_kept(e, i)) emitf(e, "    case %d: return %s;\n", i, e_out(e, i));
    emitf(e, "    }\n    return NULL;\n}\n");
    emitf(e, "%s *lc_jit_layer_grad(%s_t *m, int i)\n{\n    (void)m;\n    switch (i) {\n", R, N);
    for (int i = 0; i < m->nlayers; i++)
        if (gradient_kept(e, i)) emitf(e, "    case %d: return %s;\n", i, e_grad(e, i));
    emitf(e, "    }\n    return NULL;\n}\n");
}

static void emit_set_epoch(Emit *e)
{
    const Model *m = e->m;
    if (!m->train.schedule.def) return;
    emitf(e, "\n/* schedule %s */\nvoid %s_set_epoch(%s_t *m, int epoch)\n{\n",
          schedule_text(&m->train.schedule, &e->names), m->name, m->name);
    schedule_emit(e, &m->train.schedule, optim_lr(&m->train.opt));
    emitf(e, "}\n");
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
    if (e->build.trains)
        emitf(e, "%s *lc_jit_grads(%s_t *m) { return m->grads; }\n"
                 "void lc_jit_forward_train(%s_t *m, const %s *input, int n) { %s(m, input, n); }\n"
                 "void lc_jit_set_lr(%s_t *m, double lr) { m->lr = lr; }\n",
              R, N, N, R, pass_name(e, "run", MODE_TRAIN), N);
    if (e->build.trains) emit_jit_nonfinite_layer(e);
    if (e->build.trains) emit_jit_forward_from(e);
    emit_layer_accessors(e);
}

char *emit_source(const Model *m, const EmitOptions *o)
{
    Emit e;
    Plan plan;
    if (o->jit) {
        char *h = emit_header(m, o);
        emit_begin(&e, m, o, &plan);
        emitf(&e, "%s", h);
        free(h);
    } else {
        emit_begin(&e, m, o, &plan);
        const Layer *in = &m->layers[0], *out = &m->layers[m->output];
        emitf(&e, "/* Generated by layerc %s from %s; do not edit (edit the model and run\n"
                  " * layerc again).  Model %s: %s[%ld] -> %s[%ld], %ld parameters (%ld trainable),\n"
                  " * loss %s.  Needs only a C99 compiler and libm. */\n"
                  "#include \"%s\"\n",
              LAYERC_VERSION, o->source_name, m->name, in->name, in->size, out->name, out->size,
              m->nparams, m->ntrainable, m->loss->name, o->header);
    }
    emitf(&e, "\n#include <math.h>\n#include <stddef.h>\n#include <string.h>\n");
    emit_kernels(&e);
    emit_param_table(&e);
    emit_random(&e);
    emit_init(&e);
    emit_forward(&e);
    emit_loss(&e);
    if (e.build.fused) {
        emit_fused_train_step(&e);
    } else if (e.build.trains) {
        emit_backward(&e);
        emit_update(&e);
        emit_train_step(&e);
        emit_set_epoch(&e);
    }
    if (o->jit) emit_jit_glue(&e);
    return emit_end(&e, &plan);
}
