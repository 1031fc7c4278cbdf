/* impctx.c: the translators' view of the node being imported (see impctx.h). */
#include "impctx.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "files.h"
#include "op.h"

int imp_opset(const ImpCtx *cx) { return cx->g->opset; }
int imp_nin(const ImpCtx *cx) { return (int)cx->n->n_input; }

ImpValue *imp_in(ImpCtx *cx, int k)
{
    if (k < 0 || k >= (int)cx->n->n_input) return NULL;
    int v = cx->g->in[cx->node][k];
    return v < 0 || cx->values[v].kind == IMP_NONE ? NULL : &cx->values[v];
}

int imp_in_readers(const ImpCtx *cx, int k)
{
    if (k < 0 || k >= (int)cx->n->n_input) return 0;
    int v = cx->g->in[cx->node][k];
    return v < 0 ? 0 : cx->g->values[v].consumers + cx->g->values[v].graph_output;
}

int imp_out_used(const ImpCtx *cx, int k)
{
    if (k < 0 || k >= (int)cx->n->n_output) return 0;
    int v = cx->g->out[cx->node][k];
    return v >= 0 && (cx->g->values[v].consumers || cx->g->values[v].graph_output);
}

int imp_sole_reader(const ImpCtx *cx, int node, int k, int *slot)
{
    const OxGraph *g = cx->g;
    if (k >= (int)g->g->node[node]->n_output) return -1;
    int v = g->out[node][k];
    if (v < 0 || g->values[v].consumers != 1 || g->values[v].graph_output) return -1;
    for (int i = 0; i < (int)g->g->n_node; i++)
        for (size_t q = 0; q < g->g->node[i]->n_input; q++)
            if (g->in[i][q] == v) {
                *slot = (int)q;
                return i;
            }
    return -1;
}

const OxTensor *imp_peek_const(ImpCtx *cx, int v)
{
    if (v < 0) return NULL;
    if (cx->values[v].kind == IMP_CONST) return cx->values[v].t;
    int p = cx->g->values[v].producer;
    if (p < 0 || strcmp(cx->g->g->node[p]->op_type, "Constant")) return NULL;
    const Onnx__NodeProto *n = cx->g->g->node[p];
    if (n->n_attribute != 1 || strcmp(oxg_s(n->attribute[0]->name), "value") || !n->attribute[0]->t) return NULL;
    char err[256];
    return oxt_from_proto(cx->a, n->attribute[0]->t, err, sizeof err);
}

void imp_take(ImpCtx *cx, int node, int k, int layer, const Shape *onnx_shape)
{
    cx->taken[node] = 1;
    int v = k < (int)cx->g->g->node[node]->n_output ? cx->g->out[node][k] : -1;
    if (v >= 0) cx->values[v] = (ImpValue){ IMP_LAYER, NULL, layer, *onnx_shape };
}

int imp_marked(const ImpCtx *cx)
{
    return cx->n->doc_string && !strncmp(cx->n->doc_string, "layerc: ", 8);
}

int imp_refuse(ImpCtx *cx, const char *fmt, ...)
{
    char msg[1024], node[512];
    va_list ap;
    if (cx->failed) return 0;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    lc_fail(cx->err, cx->errlen, "%s: error: %s: %s", cx->path,
            oxg_node_str(cx->g, cx->node, node, sizeof node), msg);
    cx->failed = 1;
    return 0;
}

const OxTensor *imp_const_in(ImpCtx *cx, int k, const char *what)
{
    ImpValue *v = imp_in(cx, k);
    if (!v) {
        imp_refuse(cx, "its %s (input %d) is missing", what, k);
        return NULL;
    }
    if (v->kind != IMP_CONST) {
        imp_refuse(cx, "its %s (input %d) must be a constant (an initializer), but the graph computes it; "
                   "layerc takes it only as a weight", what, k);
        return NULL;
    }
    return v->t;
}

/* ---- attributes ---- */

static const Onnx__AttributeProto *attr(const ImpCtx *cx, const char *name)
{
    for (size_t i = 0; i < cx->n->n_attribute; i++)
        if (cx->n->attribute[i]->name && !strcmp(cx->n->attribute[i]->name, name))
            return cx->n->attribute[i];
    return NULL;
}

int imp_attr_has(const ImpCtx *cx, const char *name) { return attr(cx, name) != NULL; }

int imp_attr_check(ImpCtx *cx, const char *known)
{
    for (size_t i = 0; i < cx->n->n_attribute; i++) {
        const char *name = oxg_s(cx->n->attribute[i]->name);
        size_t len = strlen(name);
        const char *p = known;
        int found = 0;
        while (*p && !found) {
            const char *e = strchr(p, ',');
            size_t n = e ? (size_t)(e - p) : strlen(p);
            found = n == len && !strncmp(p, name, n);
            p = e ? e + 1 : p + n;
        }
        if (cx->n->attribute[i]->ref_attr_name && *cx->n->attribute[i]->ref_attr_name)
            return imp_refuse(cx, "attribute \"%s\" refers to a function's attribute, which layerc "
                              "does not take", name);
        if (!found) return imp_refuse(cx, "layerc does not take its attribute \"%s\"", name);
    }
    return 1;
}

static int wrong_type(ImpCtx *cx, const Onnx__AttributeProto *a, const char *want)
{
    imp_refuse(cx, "attribute \"%s\" must be %s", oxg_s(a->name), want);
    return -1;
}

#define TYPE_IS(a, T) (!(a)->has_type || (a)->type == ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__##T)

int imp_attr_int(ImpCtx *cx, const char *name, int64_t def, int64_t *out)
{
    const Onnx__AttributeProto *a = attr(cx, name);
    *out = def;
    if (!a) return 0;
    if (!TYPE_IS(a, INT) || !a->has_i) return wrong_type(cx, a, "an integer");
    *out = a->i;
    return 1;
}

int imp_attr_float(ImpCtx *cx, const char *name, double def, double *out)
{
    const Onnx__AttributeProto *a = attr(cx, name);
    *out = def;
    if (!a) return 0;
    if (!TYPE_IS(a, FLOAT) || !a->has_f) return wrong_type(cx, a, "a float");
    *out = a->f;
    return 1;
}

int imp_attr_ints(ImpCtx *cx, const char *name, int64_t *out, int max, int *n)
{
    const Onnx__AttributeProto *a = attr(cx, name);
    *n = 0;
    if (!a) return 0;
    if (!TYPE_IS(a, INTS)) return wrong_type(cx, a, "a list of integers");
    if (a->n_ints > (size_t)max) {
        imp_refuse(cx, "attribute \"%s\" has %zu values; layerc takes at most %d here", name, a->n_ints, max);
        return -1;
    }
    for (size_t i = 0; i < a->n_ints; i++) out[i] = a->ints[i];
    *n = (int)a->n_ints;
    return 1;
}

int imp_attr_string(ImpCtx *cx, const char *name, const char *def, const char **out)
{
    const Onnx__AttributeProto *a = attr(cx, name);
    *out = def;
    if (!a) return 0;
    if (!TYPE_IS(a, STRING) || !a->has_s) return wrong_type(cx, a, "a string");
    *out = arena_strndup(cx->a, (const char *)a->s.data, a->s.len);
    return 1;
}

const Onnx__TensorProto *imp_attr_tensor(ImpCtx *cx, const char *name)
{
    const Onnx__AttributeProto *a = attr(cx, name);
    return a && TYPE_IS(a, TENSOR) ? a->t : NULL;
}

/* ---- layers ---- */

static ImpLayer *new_layer(ImpCtx *cx, const char *op, const int *in, int nin, const char *name,
                           const char *comment, int node)
{
    arena_grow(cx->a, (void **)&cx->layers, &cx->cap_layers, cx->nlayers, sizeof(ImpLayer));
    ImpLayer *l = &cx->layers[cx->nlayers++];
    memset(l, 0, sizeof *l);
    l->name = names_take(&cx->names, name);
    l->op = op;
    l->comment = comment;
    l->node = node;
    for (int k = 0; k < nin && k < LC_MAX_INPUTS; k++) {
        l->in[l->nin++] = in[k];
        cx->layers[in[k]].uses++;
    }
    return l;
}

const char *imp_node_name(ImpCtx *cx)
{
    const Onnx__NodeProto *n = cx->n;
    const char *node_name = oxg_s(n->name);
    int out0 = n->n_output ? cx->g->out[cx->node][0] : -1;
    if (out0 >= 0 && cx->g->values[out0].graph_output) return names_sanitize(cx->a, cx->g->values[out0].name, NULL);
    if (*node_name) return names_sanitize(cx->a, node_name, n->op_type);
    return names_sanitize(cx->a, out0 >= 0 ? cx->g->values[out0].name : "", n->op_type);
}

const char *imp_node_label(ImpCtx *cx)
{
    const Onnx__NodeProto *n = cx->n;
    const char *node_name = oxg_s(n->name);
    int out0 = n->n_output ? cx->g->out[cx->node][0] : -1;
    return *node_name ? arena_printf(cx->a, "%s \"%s\"", n->op_type, node_name)
                      : arena_printf(cx->a, "%s (output \"%s\")", n->op_type, out0 >= 0 ? cx->g->values[out0].name : "");
}

ImpLayer *imp_layer(ImpCtx *cx, const char *op, const int *in, int nin)
{
    return new_layer(cx, op, in, nin, imp_node_name(cx), imp_node_label(cx), cx->node);
}

ImpLayer *imp_layer_extra(ImpCtx *cx, const char *op, const int *in, int nin, const char *base)
{
    return new_layer(cx, op, in, nin, base, NULL, -1);
}

void imp_arg(ImpCtx *cx, ImpLayer *l, const char *key, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (l->nargs == IMP_MAX_ARGS || n < 0) return;
    char *text = arena_alloc(cx->a, (size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(text, (size_t)n + 1, fmt, ap);
    va_end(ap);
    l->args[l->nargs++] = (ImpArg){ key ? arena_strdup(cx->a, key) : NULL, text };
}

void imp_arg_pair(ImpCtx *cx, ImpLayer *l, const char *key, long h, long w)
{
    if (h == w) imp_arg(cx, l, key, "%ld", h);
    else imp_arg(cx, l, key, "[%ld, %ld]", h, w);
}

void imp_weight(ImpCtx *cx, ImpLayer *l, const char *suffix, OxTensor *t)
{
    if (l->nw == IMP_MAX_WEIGHTS) return;
    l->w[l->nw++] = (ImpWeight){ arena_strdup(cx->a, suffix), t };
}

ImpLayer *imp_layer_at(ImpCtx *cx, int i) { return &cx->layers[i]; }
int imp_index(const ImpCtx *cx, const ImpLayer *l) { return (int)(l - cx->layers); }

int imp_same_shape(const Shape *a, const Shape *b)
{
    if (a->rank != b->rank) return 0;
    for (int k = 0; k < a->rank; k++)
        if (a->dims[k] != b->dims[k]) return 0;
    return 1;
}

const char *imp_shape_str(const Shape *s, char *buf, int len)
{
    return shape_str(s, buf, len);
}

static int layer_of(ImpCtx *cx, const ImpValue *v)
{
    if (!v || v->kind != IMP_LAYER) {
        imp_refuse(cx, "an input that must be computed by the graph is a constant");
        return -1;
    }
    return v->layer;
}

int imp_want(ImpCtx *cx, const ImpValue *v, const Shape *want)
{
    int l = layer_of(cx, v);
    if (l < 0) return -1;
    Shape target = want ? *want : v->shape;
    if (target.rank == 0) target = (Shape){ 1, { 1 } };
    if (imp_same_shape(&cx->layers[l].shape, &target)) return l;
    if (shape_size(&target) != shape_size(&cx->layers[l].shape)) {
        char a[64], b[64];
        imp_refuse(cx, "cannot view %s %s as %s", cx->layers[l].name,
                   shape_str(&cx->layers[l].shape, a, sizeof a), shape_str(&target, b, sizeof b));
        return -1;
    }
    for (int i = 0; i < cx->nlayers; i++) {   /* a reshape made before */
        const ImpLayer *r = &cx->layers[i];
        if (r->node < 0 && r->op && !strcmp(r->op, "reshape") && r->in[0] == l && imp_same_shape(&r->shape, &target))
            return i;
    }
    char dims[256];
    shape_str(&target, dims, sizeof dims);
    ImpLayer *r = imp_layer_extra(cx, "reshape", &l, 1, cx->layers[l].name);
    imp_arg(cx, r, NULL, "%s", dims);
    r->shape = target;
    r->comment = arena_printf(cx->a, "added: %s takes %s", imp_node_label(cx), dims);
    return imp_index(cx, r);
}

void imp_out_layer(ImpCtx *cx, int k, int layer, const Shape *onnx_shape)
{
    if (k >= (int)cx->n->n_output) return;
    int v = cx->g->out[cx->node][k];
    if (v < 0) return;
    cx->values[v] = (ImpValue){ IMP_LAYER, NULL, layer, *onnx_shape };
}

void imp_out_const(ImpCtx *cx, int k, OxTensor *t)
{
    if (k >= (int)cx->n->n_output) return;
    int v = cx->g->out[cx->node][k];
    if (v < 0) return;
    cx->values[v] = (ImpValue){ IMP_CONST, t, -1, { 0, { 0 } } };
}

int imp_fits(ImpCtx *cx, const char *op, const char *param, double v, const char *what)
{
    const OpDef *d = op_find(op);
    int k = d ? op_param(d, param) : -1;
    double t = strtod(imp_num(cx, v), NULL);   /* as the .lyr will say it */
    if (k < 0 || (v >= d->params[k].lo && v <= d->params[k].hi && t >= d->params[k].lo && t <= d->params[k].hi))
        return 1;
    return imp_refuse(cx, "its %s %g is outside what layerc's %s takes for %s (%g to %g)", what, v, op, param,
                      d->params[k].lo, d->params[k].hi);
}

const char *imp_num(ImpCtx *cx, double v)
{
    char buf[64];
    for (int digits = 6; digits <= 9; digits++) {
        snprintf(buf, sizeof buf, "%.*g", digits, v);
        if (strtof(buf, NULL) == (float)v) break;
    }
    return arena_strdup(cx->a, buf);
}

/* ---- what most translators share ---- */

int imp_out(ImpCtx *cx, ImpLayer *l, const Shape *onnx)
{
    imp_out_layer(cx, 0, imp_index(cx, l), onnx);
    return 1;
}

/* The one layer input every elementwise op has. */
ImpValue *imp_layer_in(ImpCtx *cx, int k)
{
    ImpValue *v = imp_in(cx, k);
    if (!v) {
        imp_refuse(cx, "its input %d is missing", k);
        return NULL;
    }
    if (v->kind != IMP_LAYER) {
        imp_refuse(cx, "its input %d is a constant: layerc computes this op only on layers", k);
        return NULL;
    }
    return v;
}

int imp_unused_from(ImpCtx *cx, int first, const char *what)
{
    for (int k = first; k < (int)cx->n->n_output; k++)
        if (imp_out_used(cx, k)) return imp_refuse(cx, "its output %d (%s) is used, and layerc computes only "
                                                   "the first", k, what);
    return 1;
}

/* x -> op(x), the shape kept */
int imp_unary(ImpCtx *cx, const char *op, int fuse)
{
    ImpValue *v = imp_layer_in(cx, 0);
    if (!v || !imp_unused_from(cx, 1, "a second result")) return 0;
    Shape s = v->shape;
    int x = v->layer;
    ImpLayer *l = imp_layer(cx, op, &x, 1);
    l->shape = imp_layer_at(cx, x)->shape;
    l->fuse = fuse;
    return imp_out(cx, l, &s);
}

/* A constant input of n values, as a float vector. */
OxTensor *imp_vector_const(ImpCtx *cx, int k, const char *what, long n)
{
    const OxTensor *t = imp_const_in(cx, k, what);
    if (!t) return NULL;
    if (t->n != n) {
        imp_refuse(cx, "its %s has %ld values, not %ld", what, t->n, n);
        return NULL;
    }
    int64_t dim = n;
    OxTensor *f = oxt_new(cx->a, OXT_FLOAT, 1, &dim);
    for (long j = 0; j < n; j++) f->f[j] = (float)oxt_get(t, j);
    return f;
}

int imp_window(ImpCtx *cx, const ImpValue *x, const int64_t *kernel, ImpWindow *w)
{
    int64_t v[2 * IMP_MAX_SPATIAL];
    int n;
    const char *pad_mode;
    w->n = x->shape.rank - 1;
    for (int a = 0; a < w->n; a++) {
        w->in[a] = x->shape.dims[a + 1];
        if (kernel[a] < 1 || kernel[a] > 65536) return imp_refuse(cx, "its kernel size %lld is out of range",
                                                                  (long long)kernel[a]);
        w->k[a] = (long)kernel[a];
        w->s[a] = w->d[a] = 1;
        w->lo[a] = w->hi[a] = 0;
    }
    if (imp_attr_ints(cx, "strides", v, IMP_MAX_SPATIAL, &n) < 0) return 0;
    for (int a = 0; a < n; a++) w->s[a] = (long)v[a];
    if (n && n != w->n) return imp_refuse(cx, "its strides do not match its %d spatial axes", w->n);
    if (imp_attr_ints(cx, "dilations", v, IMP_MAX_SPATIAL, &n) < 0) return 0;
    for (int a = 0; a < n; a++) w->d[a] = (long)v[a];
    if (n && n != w->n) return imp_refuse(cx, "its dilations do not match its %d spatial axes", w->n);
    for (int a = 0; a < w->n; a++)
        if (w->s[a] < 1 || w->d[a] < 1 || w->s[a] > 1024 || w->d[a] > 1024)
            return imp_refuse(cx, "a stride or dilation is out of range");
    if (imp_attr_string(cx, "auto_pad", "NOTSET", &pad_mode) < 0) return 0;
    int pads_given = imp_attr_ints(cx, "pads", v, 2 * IMP_MAX_SPATIAL, &n);
    if (pads_given < 0) return 0;
    if (pads_given && n != 2 * w->n) return imp_refuse(cx, "its pads do not match its %d spatial axes", w->n);
    for (int a = 0; a < w->n; a++) {
        long span = (w->k[a] - 1) * w->d[a] + 1;
        long need = ((w->in[a] + w->s[a] - 1) / w->s[a] - 1) * w->s[a] + span - w->in[a];
        if (need < 0) need = 0;
        if (!strcmp(pad_mode, "SAME_UPPER")) w->lo[a] = need / 2, w->hi[a] = need - need / 2;
        else if (!strcmp(pad_mode, "SAME_LOWER")) w->hi[a] = need / 2, w->lo[a] = need - need / 2;
        else if (!strcmp(pad_mode, "NOTSET") && pads_given) w->lo[a] = (long)v[a], w->hi[a] = (long)v[a + w->n];
        else if (strcmp(pad_mode, "NOTSET") && strcmp(pad_mode, "VALID"))
            return imp_refuse(cx, "auto_pad \"%s\" is not an ONNX padding mode", pad_mode);
        if (w->lo[a] < 0 || w->hi[a] < 0 || w->lo[a] > 1024 || w->hi[a] > 1024)
            return imp_refuse(cx, "a pad is out of range");
        long padded = w->in[a] + w->lo[a] + w->hi[a];
        if (padded < span) return imp_refuse(cx, "its imp_window (%ld) is larger than the padded input (%ld)", span, padded);
        w->out[a] = (padded - span) / w->s[a] + 1;
    }
    /* pads that differ at the two ends are layerc's pad=same when they are Keras' */
    w->same = 0;
    for (int a = 0; a < w->n; a++)
        if (w->lo[a] != w->hi[a]) w->same = 1;
    for (int a = 0; w->same && a < w->n; a++) {
        long span = (w->k[a] - 1) * w->d[a] + 1;
        long need = ((w->in[a] + w->s[a] - 1) / w->s[a] - 1) * w->s[a] + span - w->in[a];
        if (need < 0) need = 0;
        if (w->lo[a] != need / 2 || w->hi[a] != need - need / 2)
            return imp_refuse(cx, "its pads differ at the two ends and are not Keras' 'same' (%ld before and "
                              "%ld after on axis %d, where 'same' has %ld and %ld)", w->lo[a], w->hi[a], a,
                              need / 2, need - need / 2);
    }
    return 1;
}
