/* lyrtext.c: writing the .lyr text of an imported model (see lyrtext.h). */
#include "lyrtext.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define COMMENT_COLUMN 52

typedef struct {
    char *buf;
    size_t len, cap;
    int line;          /* lines written so far */
    size_t line_start;
} Out;

static void put(Out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(Out *o, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (o->len + (size_t)n + 1 > o->cap) {
        o->cap = 2 * (o->len + (size_t)n + 1);
        o->buf = xrealloc(o->buf, o->cap);
    }
    va_start(ap, fmt);
    vsnprintf(o->buf + o->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    for (size_t i = o->len; i < o->len + (size_t)n; i++)
        if (o->buf[i] == '\n') o->line++, o->line_start = i + 1;
    o->len += (size_t)n;
}

/* Comment text: anything but control characters (a newline would end the comment). */
static void put_text(Out *o, const char *s)
{
    for (; *s; s++) put(o, "%c", (unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s);
}

/* Ends a statement line with a comment aligned on COMMENT_COLUMN. */
static void end_line(Out *o, const char *comment)
{
    if (comment && *comment) {
        size_t col = o->len - o->line_start;
        put(o, "%*s# ", col < COMMENT_COLUMN ? (int)(COMMENT_COLUMN - col) : 1, "");
        put_text(o, comment);
    }
    put(o, "\n");
}

/* A literal initializer [[..], ..] of t's values in t's shape. */
static void literal(Out *o, const OxTensor *t, int axis, long *k)
{
    put(o, "[");
    for (int64_t i = 0; i < (t->rank ? t->dims[axis] : 1); i++) {
        if (i) put(o, ", ");
        if (axis + 1 < t->rank) literal(o, t, axis + 1, k);
        else put(o, "%.9g", (double)t->f[(*k)++]);
    }
    put(o, "]");
}

char *lyrtext_write(LyrModel *m)
{
    Out o = { NULL, 0, 0, 0, 0 };
    char s[256];
    put(&o, "# Imported by `layerc import` from ");
    put_text(&o, m->source);
    put(&o, " (");
    put_text(&o, m->producer);
    put(&o, ", ONNX opset %d).\n", m->opset);
    if (m->weights) {
        put(&o, "# The weights are in ");
        put_text(&o, m->weights);
        put(&o, ".\n\n");
    } else {
        put(&o, "# The weights were not saved (layerc import -o -).\n\n");
    }
    put(&o, "model %s;\n\n", m->name);
    const ImpLayer *in = &m->layers[0];
    put(&o, "input  %s%s;", in->name, shape_str(&in->shape, s, sizeof s));
    m->layers[0].line = o.line + 1;
    end_line(&o, in->comment);
    for (int i = 0; i < m->ndeclared; i++) {
        ImpDeclared *d = &m->declared[i];
        d->line = o.line + 1;
        Shape sh = { d->t->rank, { 0 } };
        for (int k = 0; k < d->t->rank; k++) sh.dims[k] = (long)d->t->dims[k];
        put(&o, "%sweight %s%s", d->frozen ? "frozen " : "", d->name, shape_str(&sh, s, sizeof s));
        if (d->init && !strcmp(d->init, "literal")) {
            long k = 0;
            put(&o, " = ");
            literal(&o, d->t, 0, &k);
        } else if (d->init) {
            put(&o, " = %s", d->init);
        }
        put(&o, ";");
        end_line(&o, "declared by the model layerc exported");
    }
    for (int i = 1; i < m->nlayers; i++) {
        ImpLayer *l = &m->layers[i];
        l->line = o.line + 1;
        put(&o, "%s %s = %s(", i == m->output ? "output" : "layer ", l->name, l->op);
        for (int k = 0; k < l->nin; k++) put(&o, "%s%s", k ? ", " : "", m->layers[l->in[k]].name);
        for (int k = 0; k < l->nargs; k++) {
            const ImpArg *a = &l->args[k];
            put(&o, ", %s%s%s", a->key ? a->key : "", a->key ? "=" : "", a->text);
        }
        put(&o, ");");
        char c[600];
        snprintf(c, sizeof c, "%s%s%s", shape_str(&l->shape, s, sizeof s), l->comment ? "  " : "",
                 l->comment ? l->comment : "");
        end_line(&o, c);
    }
    if (m->loss_comment) put(&o, "# %s\n", m->loss_comment);
    put(&o, "loss   %s(%s);\n", m->loss, m->layers[m->output].name);
    m->train_line = 0;
    if (m->train) {
        put(&o, "\n");
        m->train_line = o.line + 1;
        put(&o, "train {\n");
        for (const char *p = m->train; *p;) {
            while (*p == ' ' || *p == ';') p++;
            const char *e = strchr(p, ';');
            size_t n = e ? (size_t)(e - p) : strlen(p);
            if (n) put(&o, "    %.*s;\n", (int)n, p);
            p += n;
        }
        put(&o, "}\n");
    }
    return o.buf;
}
