/* qemit.c: the model as integer-only C (qemit.h). */
#include "qemit.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "version.h"

extern const char lc_kernels_header[];
extern const char *const lc_kernel_unit_names[], *const lc_kernel_unit_sources[];

/* ---- which ops have an int8 form ---- */

static int is_alias(const Layer *l) { return l->op->aliases && l->op->aliases(l, 0); }
static int has_int8(const Layer *l) { return l->op->int8.forward || is_alias(l); }

int qemit_supported(const Model *m, FILE *err)
{
    int ok = 1;
    for (int i = 1; i < m->nlayers; i++) {
        const Layer *l = &m->layers[i];
        if (!l->live || has_int8(l)) continue;
        if (ok) {
            char list[1024] = "";
            size_t k = 0;
            for (int j = 0; j < op_count(); j++) {
                const OpDef *op = op_at(j);
                if (!op->int8.forward) continue;
                int n = snprintf(list + k, sizeof list - k, "%s%s", k ? ", " : "", op->name);
                if (n > 0 && (size_t)n < sizeof list - k) k += (size_t)n;
            }
            fprintf(err, "%s:%d: error: layer '%s': %s has no int8 form (--quantize int8 takes %s, "
                    "and flatten, reshape, identity)\n", m->src->path, l->loc.line, l->name, l->op->name, list);
        } else {
            fprintf(err, "%s:%d: error: layer '%s': %s has no int8 form\n", m->src->path, l->loc.line, l->name,
                    l->op->name);
        }
        ok = 0;
    }
    return ok;
}

/* ---- the plan: quantisation, clamps, storage ---- */

static void q_begin(QEmit *q, const Model *m, const QuantOptions *o, EmitOptions *eo)
{
    memset(q, 0, sizeof *q);
    memset(eo, 0, sizeof *eo);
    eo->source_name = o->source_name;
    emit_text_begin(&q->e, m, eo);
    emit_text_begin(&q->tables, m, eo);
    q->m = m, q->o = o;
    int n = m->nlayers;
    q->qp = xcalloc((size_t)n, sizeof *q->qp);
    q->lo = xcalloc((size_t)n, sizeof(int));
    q->hi = xcalloc((size_t)n, sizeof(int));
    q->root = xcalloc((size_t)n, sizeof(int));
    q->buffer = xcalloc((size_t)n, sizeof(int));
    q->buffer_size = xcalloc((size_t)n, sizeof(long));
    int *readers = xcalloc((size_t)n, sizeof(int)), *takes = xcalloc((size_t)n, sizeof(int));
    int *absorbed = xcalloc((size_t)n, sizeof(int)), *last = xcalloc((size_t)n, sizeof(int));
    for (int i = 1; i < n; i++)
        for (int k = 0; m->layers[i].live && k < m->layers[i].nin; k++) readers[m->layers[i].in[k]]++;
    /* a clamp read alone from a layer that takes one folds into it */
    for (int i = 0; i < n; i++) takes[i] = -1;
    for (int i = 1; i < n; i++) {
        const Layer *l = &m->layers[i];
        if (!l->live || !l->op->int8.clamp) continue;
        int p = l->in[0];
        const Layer *pl = &m->layers[p];
        if (pl->op && pl->op->int8.takes_clamp && readers[p] == 1 && p != m->output && takes[p] < 0)
            takes[p] = i, absorbed[i] = 1;
    }
    for (int i = 0; i < n; i++) {
        const Layer *l = &m->layers[i];
        q->lo[i] = -128, q->hi[i] = 127, q->root[i] = i;
        if (i == 0) {
            q->qp[0] = quant_choose(o->lo[0], o->hi[0]);
            continue;
        }
        if (!l->live) continue;
        const Int8Def *d = &l->op->int8;
        int in = l->in[0];
        if (is_alias(l) || absorbed[i]) {
            q->root[i] = q->root[in], q->qp[i] = q->qp[in];
            q->lo[i] = q->lo[in], q->hi[i] = q->hi[in];
            continue;
        }
        if (d->out == Q_FIXED) {
            q->qp[i] = (QParams){ d->scale, d->zero };
        } else if (d->out == Q_AS_INPUT) {
            q->qp[i] = q->qp[in];
            if (d->clamp) q->lo[i] = quant_bound(&q->qp[i], d->lo), q->hi[i] = quant_bound(&q->qp[i], d->hi);
        } else {
            int r = takes[i] >= 0 ? takes[i] : i;
            q->qp[i] = quant_choose(o->lo[r], o->hi[r]);
            if (takes[i] >= 0) {
                const Int8Def *c = &m->layers[r].op->int8;
                q->lo[i] = quant_bound(&q->qp[i], c->lo), q->hi[i] = quant_bound(&q->qp[i], c->hi);
            }
        }
    }
    /* storage: a buffer a root layer, shared by lifetime (the last layer to
     * read it, through its aliases); the input is the caller's x */
    for (int i = 1; i < n; i++)
        for (int k = 0; m->layers[i].live && k < m->layers[i].nin; k++) {
            int r = q->root[m->layers[i].in[k]];
            if (last[r] < i) last[r] = i;
        }
    last[q->root[m->output]] = n;
    int *tenant = xcalloc((size_t)n, sizeof(int));
    for (int i = 0; i < n; i++) q->buffer[i] = -1;
    for (int i = 1; i < n; i++) {
        const Layer *l = &m->layers[i];
        if (!l->live || q->root[i] != i) continue;
        int pick = -1;
        for (int b = 0; b < q->nbuffers; b++)
            if (last[tenant[b]] < i && (pick < 0 || q->buffer_size[b] > q->buffer_size[pick])) pick = b;
        if (pick < 0) pick = q->nbuffers++;
        if (q->buffer_size[pick] < l->size) q->buffer_size[pick] = l->size;
        tenant[pick] = i;
        q->buffer[i] = pick;
    }
    free(readers), free(takes), free(absorbed), free(last), free(tenant);
}

static void q_end(QEmit *q)
{
    free(emit_text_end(&q->e));
    free(emit_text_end(&q->tables));
    free(q->qp), free(q->lo), free(q->hi), free(q->root), free(q->buffer), free(q->buffer_size);
    arena_free(&q->names);
}

/* ---- helpers for the ops' emitters ---- */

const char *q_out(QEmit *q, const Layer *l)
{
    int r = q->root[layer_index(q->m, l)];
    if (r == 0) return "x";
    return arena_printf(&q->names, "m->t%d", q->buffer[r]);
}

const char *q_in(QEmit *q, const Layer *l, int k) { return q_out(q, &q->m->layers[l->in[k]]); }
const QParams *q_params(const QEmit *q, const Layer *l) { return &q->qp[layer_index(q->m, l)]; }
const QParams *q_in_params(const QEmit *q, const Layer *l, int k) { return &q->qp[l->in[k]]; }

static void table(QEmit *q, const char *type, const char *name, const int32_t *v, long n, int bytes)
{
    emitf(&q->tables, "static const %s %s[%ld] = {", type, name, n > 0 ? n : 1);
    for (long i = 0; i < n; i++) emitf(&q->tables, "%s%ld,", i % 16 ? " " : "\n    ", (long)v[i]);
    emitf(&q->tables, "%s};\n", n > 0 ? "\n" : " 0 ");
    q->flash += (long)bytes * (n > 0 ? n : 1);
}

static const char *table_name(QEmit *q, const Layer *l, const char *what)
{
    return arena_printf(&q->names, "%s_%s_%s", q->m->name, l->name, what);
}

const char *q_table_i8(QEmit *q, const Layer *l, const char *what, const int32_t *v, long n)
{
    const char *name = table_name(q, l, what);
    table(q, "int8_t", name, v, n, 1);
    return name;
}

const char *q_table_i32(QEmit *q, const Layer *l, const char *what, const int32_t *v, long n)
{
    const char *name = table_name(q, l, what);
    table(q, "int32_t", name, v, n, 4);
    return name;
}

const char *q_quant(QEmit *q, const Layer *l)
{
    int i = layer_index(q->m, l);
    const char *name = table_name(q, l, "q");
    emitf(&q->tables, "static const lc_i8_quant %s = { %d, %d, %d, %d };\n", name, q->qp[l->in[0]].zero,
          q->qp[i].zero, q->lo[i], q->hi[i]);
    q->flash += 16;
    return arena_printf(&q->names, "&%s", name);
}

const char *q_channel_weights(QEmit *q, const Layer *l, int kernel, int bias)
{
    const Weight *w = layer_weight(q->m, l, kernel), *b = layer_weight(q->m, l, bias);
    long rows = w->shape.dims[0], per = w->size / rows;
    const float *W = q->o->params + w->offset, *B = b ? q->o->params + b->offset : NULL;
    double s_in = q_in_params(q, l, 0)->scale, s_out = q_params(q, l)->scale;
    int32_t *qw = xmalloc(sizeof(int32_t) * (size_t)w->size), *qb = xmalloc(sizeof(int32_t) * (size_t)rows);
    int32_t *mult = xmalloc(sizeof(int32_t) * (size_t)rows), *shift = xmalloc(sizeof(int32_t) * (size_t)rows);
    for (long r = 0; r < rows; r++) {
        double s_w = quant_weight_scale(W + r * per, per);
        for (long k = 0; k < per; k++) qw[r * per + k] = quant_value(W[r * per + k], s_w, -127, 127);
        if (B) qb[r] = quant_value(B[r], s_in * s_w, -2147483647L, 2147483647L);
        int sh;
        quant_multiplier(s_in * s_w / s_out, &mult[r], &sh);
        shift[r] = sh;
    }
    const char *tw = q_table_i8(q, l, "W", qw, w->size);
    const char *tb = B ? q_table_i32(q, l, "b", qb, rows) : "NULL";
    const char *tm = q_table_i32(q, l, "mult", mult, rows), *ts = q_table_i32(q, l, "shift", shift, rows);
    free(qw), free(qb), free(mult), free(shift);
    return arena_printf(&q->names, "%s, %s, %s, %s", tw, tb, tm, ts);
}

void q_lut_forward(QEmit *q, const Layer *l)
{
    const QParams *in = q_in_params(q, l, 0), *out = q_params(q, l);
    int32_t t[256];
    for (int v = -128; v < 128; v++) t[v + 128] = quant_bound(out, l->op->int8.fn(l, in->scale * (v - in->zero)));
    emitf(&q->e, "    lc_i8_lut_forward(%s, %s, n * %ld, %s);\n", q_out(q, l), q_in(q, l, 0), l->size,
          q_table_i8(q, l, "table", t, 256));
}

/* ---- the header and the source ---- */

static void emit_state(Emit *e, const QEmit *q)
{
    const char *N = q->m->name;
    emitf(e, "typedef struct {   /* the layers' outputs, sharing buffers by lifetime */\n");
    for (int b = 0; b < q->nbuffers; b++)
        emitf(e, "    int8_t t%d[%s_BATCH * %ld];\n", b, N, q->buffer_size[b]);
    if (!q->nbuffers) emitf(e, "    int8_t unused;\n");
    emitf(e, "} %s_t;\n", N);
}

static long state_bytes(const QEmit *q)
{
    long s = 0;
    for (int b = 0; b < q->nbuffers; b++) s += (long)q->m->train.batch * q->buffer_size[b];
    return s ? s : 1;
}

char *qemit_header(const Model *m, const QuantOptions *o)
{
    QEmit q;
    EmitOptions eo;
    q_begin(&q, m, o, &eo);
    Emit e;
    emit_text_begin(&e, m, &eo);
    const char *N = m->name;
    const Layer *in = &m->layers[0], *out = &m->layers[m->output];
    const QParams *qi = &q.qp[0], *qo = &q.qp[m->output];
    char guard[300];
    size_t k = 0;
    for (const char *p = N; *p && k < sizeof guard - 3; p++) guard[k++] = (char)toupper((unsigned char)*p);
    memcpy(guard + k, "_H", 3);
    emitf(&e, "/* Generated by layerc %s from %s; do not edit (edit the model and run\n"
              " * layerc again).  Model %s in int8 (--quantize int8, the TensorFlow Lite int8\n"
              " * arithmetic): %s[%ld] -> %s[%ld], integer-only inference.  A value q of a\n"
              " * tensor stands for the real SCALE (q - ZERO). */\n",
          LAYERC_VERSION, o->source_name, N, in->name, in->size, out->name, out->size);
    emitf(&e, "#ifndef %s\n#define %s\n\n#include <stdint.h>\n\n"
              "#ifdef __cplusplus\nextern \"C\" {\n#endif\n\n", guard, guard);
    emitf(&e, "#define %s_IN      %ld   /* int8 values in one input sample */\n", N, in->size);
    emitf(&e, "#define %s_OUT     %ld   /* int8 values in one output sample */\n", N, out->size);
    emitf(&e, "#define %s_BATCH   %d   /* most samples one call takes */\n", N, m->train.batch);
    emitf(&e, "#define %s_IN_SCALE  %.17g\n#define %s_IN_ZERO   %d\n", N, qi->scale, N, qi->zero);
    emitf(&e, "#define %s_OUT_SCALE %.17g\n#define %s_OUT_ZERO  %d\n", N, qo->scale, N, qo->zero);
    emitf(&e, "#define %s_STATE_BYTES %ld   /* sizeof(%s_t): RAM */\n\n", N, state_bytes(&q), N);
    emit_state(&e, &q);
    emitf(&e, "\nvoid %s_init(%s_t *m);   /* nothing to seed: the weights are constants */\n"
              "/* y[n, %s_OUT] from x[n, %s_IN], n <= %s_BATCH; no floating point (y may be NULL) */\n"
              "void %s_forward(%s_t *m, const int8_t *x, int8_t *y, int n);\n\n",
          N, N, N, N, N, N, N);
    emitf(&e, "/* Reals to and from int8, outside the forward pass (the only floating point;\n"
              " * static inline, so a program that does not call them has none). */\n"
              "static inline void %s_quantize_input(const float *x, int8_t *q, int n)\n{\n"
              "    for (long i = 0; i < (long)n * %s_IN; i++) {\n"
              "        float v = x[i] / (float)%s_IN_SCALE;\n"
              "        v = v < -1000.0f ? -1000.0f : v > 1000.0f ? 1000.0f : v;\n"
              "        long r = (long)(v < 0 ? v - 0.5f : v + 0.5f) + %s_IN_ZERO;\n"
              "        q[i] = (int8_t)(r < -128 ? -128 : r > 127 ? 127 : r);\n    }\n}\n"
              "static inline void %s_dequantize_output(const int8_t *q, float *y, int n)\n{\n"
              "    for (long i = 0; i < (long)n * %s_OUT; i++)\n"
              "        y[i] = (float)%s_OUT_SCALE * (float)(q[i] - %s_OUT_ZERO);\n}\n",
          N, N, N, N, N, N, N, N);
    emitf(&e, "\n#ifdef __cplusplus\n}\n#endif\n\n#endif\n");
    q_end(&q);
    return emit_text_end(&e);
}

static int unit_index(const char *name)
{
    for (int u = 0; lc_kernel_unit_names[u]; u++)
        if (!strcmp(lc_kernel_unit_names[u], name)) return u;
    return -1;
}

/* The forward pass into q->e, the tables into q->tables. */
static void emit_forward(QEmit *q)
{
    const Model *m = q->m;
    const char *N = m->name;
    emitf(&q->e, "\nvoid %s_forward(%s_t *m, const int8_t *x, int8_t *y, int n)\n{\n", N, N);
    for (int i = 1; i < m->nlayers; i++) {
        const Layer *l = &m->layers[i];
        if (!l->live || q->root[i] != i) continue;
        emit_text_layer_comment(&q->e, l);
        emitf(&q->tables, "\n/* %s (%s): scale %.9g, zero point %d */\n", l->name, l->op->name,
              q->qp[i].scale, q->qp[i].zero);
        l->op->int8.forward(q, l);
    }
    const char *y = q_out(q, &m->layers[m->output]);
    emitf(&q->e, "    if (y) memcpy(y, %s, (size_t)n * %s_OUT);\n}\n", y, N);
}

char *qemit_source(const Model *m, const QuantOptions *o)
{
    QEmit q;
    EmitOptions eo;
    q_begin(&q, m, o, &eo);
    emit_forward(&q);
    Emit e;
    emit_text_begin(&e, m, &eo);
    const char *N = m->name;
    if (o->jit) {
        char *h = qemit_header(m, o);
        emitf(&e, "%s", h);
        free(h);
    } else {
        emitf(&e, "/* Generated by layerc %s from %s; do not edit (edit the model and run\n"
                  " * layerc again).  Model %s in int8 (--quantize int8): integer-only\n"
                  " * inference, no floating point; needs only a C99 compiler. */\n#include \"%s\"\n",
              LAYERC_VERSION, o->source_name, N, o->header);
    }
    emitf(&e, "\n#include <stddef.h>\n#include <string.h>\n");
    emitf(&e, "\n/* Calibration on %s: each layer's output range over it, and its\n"
              " * quantisation (scale, zero point, clamp):\n", o->calibration ? o->calibration : "the data");
    for (int i = 0; i < m->nlayers; i++) {
        const Layer *l = &m->layers[i];
        if (!l->live) continue;
        emitf(&e, " * @range %s %.17g %.17g\n", l->name, o->lo[i], o->hi[i]);
        emitf(&e, " * @quant %s %.17g %d %d %d\n", l->name, q.qp[i].scale, q.qp[i].zero, q.lo[i], q.hi[i]);
    }
    emitf(&e, " */\n");
    if (o->jit) {
        emitf(&e, "\n%s", lc_kernels_header);
    } else {
        int u = unit_index("int8");
        emitf(&e, "\n/* ---- kernels: layerc's runtime/kernels/int8.c, pasted so that this file stands alone ---- */\n"
                  "#if defined(__GNUC__) || defined(__clang__)\n"
                  "#define LC_KERNEL static __attribute__((unused))\n"
                  "#else\n#define LC_KERNEL static\n#endif\n%s/* ---- end of kernels ---- */\n",
              u >= 0 ? lc_kernel_unit_sources[u] : "");
    }
    emitf(&e, "\n/* ---- the weights, quantised (%ld bytes) ---- */\n%s", q.flash, q.tables.buf ? q.tables.buf : "");
    emitf(&e, "\nvoid %s_init(%s_t *m)\n{\n    memset(m, 0, sizeof *m);\n}\n", N, N);
    emitf(&e, "%s", q.e.buf);
    if (o->jit)
        emitf(&e, "\n/* ---- for layerc's JIT runner ---- */\n"
                  "unsigned long lc_jit_state_size(void) { return sizeof(%s_t); }\n"
                  "void lc_jit_quantize_input(const float *x, int8_t *q, int n) { %s_quantize_input(x, q, n); }\n"
                  "void lc_jit_dequantize_output(const int8_t *q, float *y, int n) { %s_dequantize_output(q, y, n); }\n",
              N, N, N);
    q_end(&q);
    return emit_text_end(&e);
}

void qemit_fake_quant(const Model *orig, const Model *m, const QuantOptions *o, FakeQuant *fake)
{
    QEmit q;
    EmitOptions eo;
    q_begin(&q, m, o, &eo);
    for (int i = 0; i < m->nlayers; i++) fake[i] = (FakeQuant){ 0, 0, 0, 0 };
    for (int i = 0; i < m->nlayers; i++) {
        const Layer *l = &m->layers[i];
        int r = q.root[i];
        if (i > 0 && (!l->live || is_alias(l))) continue;
        /* a clamp folded into r: the rounding goes after it, where the int8 output is */
        if (i > 0 && r == i && l->op->int8.out != Q_CALIBRATED) continue;
        if (r != i && !l->op->int8.clamp) continue;
        int taken = 0;
        for (int j = i + 1; r == i && j < m->nlayers; j++)
            taken |= m->layers[j].live && q.root[j] == i && m->layers[j].op->int8.clamp && !is_alias(&m->layers[j]);
        if (taken) continue;
        /* where the value is in the training graph: after the batchnorms folded into i */
        int at = i;
        for (int j = at + 1; j < orig->nlayers; j++)
            if (orig->layers[j].live && !m->layers[j].live && orig->layers[j].nin == 1 && orig->layers[j].in[0] == at)
                at = j;
        fake[at] = (FakeQuant){ q.qp[r].scale, q.qp[r].zero, q.lo[r], q.hi[r] };
    }
    q_end(&q);
}

void qemit_sizes(const Model *m, const QuantOptions *o, long *flash, long *ram)
{
    QEmit q;
    EmitOptions eo;
    q_begin(&q, m, o, &eo);
    emit_forward(&q);
    *flash = q.flash, *ram = state_bytes(&q) / (m->train.batch > 0 ? m->train.batch : 1);
    q_end(&q);
}
