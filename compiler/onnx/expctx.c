/* expctx.c: building the ONNX graph for the layer being exported (see expctx.h). */
#include "expctx.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "files.h"
#include "model_view.h"
#include "tensor.h"

int exp_fail(ExpCtx *cx, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    if (cx->failed) return 0;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    const char *op = mv_op(cx->m, cx->layer);
    lc_fail(cx->err, cx->errlen, "%s: error: layer %s (%s): %s", cx->source, mv_name(cx->m, cx->layer),
            op ? op : "input", msg);
    cx->failed = 1;
    return 0;
}

void exp_need_opset(ExpCtx *cx, int opset)
{
    if (opset > cx->opset) cx->opset = opset;
}

static void add_node(ExpCtx *cx, Onnx__NodeProto *n)
{
    arena_grow(cx->a, (void **)&cx->g->node, &cx->cap_node, (int)cx->g->n_node, sizeof(Onnx__NodeProto *));
    cx->g->node[cx->g->n_node++] = n;
}

static void add_init(ExpCtx *cx, Onnx__TensorProto *t)
{
    arena_grow(cx->a, (void **)&cx->g->initializer, &cx->cap_init, (int)cx->g->n_initializer,
               sizeof(Onnx__TensorProto *));
    cx->g->initializer[cx->g->n_initializer++] = t;
}

Onnx__NodeProto *exp_node(ExpCtx *cx, const char *op_type, const char *name, const char *const *in, int nin,
                          const char *out)
{
    Onnx__NodeProto *n = arena_alloc(cx->a, sizeof *n);
    onnx__node_proto__init(n);
    n->op_type = arena_strdup(cx->a, op_type);
    n->name = arena_strdup(cx->a, name ? name : mv_name(cx->m, cx->layer));
    n->n_input = (size_t)nin;
    n->input = arena_alloc(cx->a, sizeof(char *) * (size_t)(nin + 1));
    for (int k = 0; k < nin; k++) n->input[k] = arena_strdup(cx->a, in[k]);
    n->n_output = 1;
    n->output = arena_alloc(cx->a, sizeof(char *));
    n->output[0] = arena_strdup(cx->a, out);
    add_node(cx, n);
    return n;
}

void exp_mark(ExpCtx *cx, Onnx__NodeProto *n, const char *why)
{
    n->doc_string = arena_printf(cx->a, "layerc: %s", why);
}

static Onnx__AttributeProto *new_attr(ExpCtx *cx, Onnx__NodeProto *n, const char *name,
                                      Onnx__AttributeProto__AttributeType type)
{
    Onnx__AttributeProto *a = arena_alloc(cx->a, sizeof *a);
    onnx__attribute_proto__init(a);
    a->name = arena_strdup(cx->a, name);
    a->has_type = 1;
    a->type = type;
    Onnx__AttributeProto **list = arena_alloc(cx->a, sizeof(*list) * (n->n_attribute + 1));
    if (n->n_attribute) memcpy(list, n->attribute, sizeof(*list) * n->n_attribute);
    list[n->n_attribute++] = a;
    n->attribute = list;
    return a;
}

void exp_attr_int(ExpCtx *cx, Onnx__NodeProto *n, const char *name, int64_t v)
{
    Onnx__AttributeProto *a = new_attr(cx, n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT);
    a->has_i = 1;
    a->i = v;
}

void exp_attr_float(ExpCtx *cx, Onnx__NodeProto *n, const char *name, float v)
{
    Onnx__AttributeProto *a = new_attr(cx, n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT);
    a->has_f = 1;
    a->f = v;
}

void exp_attr_ints(ExpCtx *cx, Onnx__NodeProto *n, const char *name, const int64_t *v, int count)
{
    Onnx__AttributeProto *a = new_attr(cx, n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS);
    a->n_ints = (size_t)count;
    a->ints = arena_alloc(cx->a, sizeof(int64_t) * (size_t)(count + 1));
    memcpy(a->ints, v, sizeof(int64_t) * (size_t)count);
}

const char *exp_in(ExpCtx *cx, int k) { return mv_name(cx->m, mv_in(cx->m, cx->layer, k)); }
const char *exp_out(ExpCtx *cx) { return mv_name(cx->m, cx->layer); }

const char *exp_in_flat(ExpCtx *cx, int k)
{
    int src = mv_in(cx->m, cx->layer, k);
    Shape s = mv_shape(cx->m, src);
    if (s.rank == 1) return mv_name(cx->m, src);
    const char *me = mv_name(cx->m, cx->layer);
    const char *flat = arena_printf(cx->a, "%s/flat%d", me, k);
    const char *in[1] = { mv_name(cx->m, src) };
    Onnx__NodeProto *n = exp_node(cx, "Flatten", flat, in, 1, flat);
    exp_attr_int(cx, n, "axis", 1);
    exp_mark(cx, n, arena_printf(cx->a, "input of %s (%s flattens its inputs)", me, mv_op(cx->m, cx->layer)));
    return flat;
}

static Onnx__TensorProto *tensor(ExpCtx *cx, const OxTensor *t, const char *name)
{
    Onnx__TensorProto *p = arena_alloc(cx->a, sizeof *p);
    oxt_to_proto(cx->a, t, name, p);
    add_init(cx, p);
    return p;
}

const char *exp_weight(ExpCtx *cx, int w)
{
    const char *name = mv_weight_name(cx->m, w);
    if (cx->weight_done[w]) return name;
    cx->weight_done[w] = 1;
    Shape s = mv_weight_shape(cx->m, w);
    int64_t dims[LC_MAX_RANK];
    for (int k = 0; k < s.rank; k++) dims[k] = s.dims[k];
    OxTensor t = { OXT_FLOAT, s.rank, { 0 }, shape_size(&s), (float *)mv_weight_values(cx->m, cx->params, w), NULL };
    memcpy(t.dims, dims, sizeof(int64_t) * (size_t)s.rank);
    tensor(cx, &t, name);
    return name;
}

const char *exp_const_ints(ExpCtx *cx, const char *what, const int64_t *v, int n)
{
    const char *name = arena_printf(cx->a, "%s.%s", exp_out(cx), what);
    OxTensor t = { OXT_INT, 1, { n }, n, NULL, (int64_t *)v };
    tensor(cx, &t, name);
    return name;
}

const char *exp_const_float(ExpCtx *cx, const char *what, float v)
{
    const char *name = arena_printf(cx->a, "%s.%s", exp_out(cx), what);
    OxTensor t = { OXT_FLOAT, 0, { 0 }, 1, &v, NULL };
    tensor(cx, &t, name);
    return name;
}

const char *exp_const_floats(ExpCtx *cx, const char *what, const float *v, int rank, const int64_t *dims)
{
    const char *name = arena_printf(cx->a, "%s.%s", exp_out(cx), what);
    OxTensor t = { OXT_FLOAT, rank, { 0 }, oxt_count(rank, dims), (float *)v, NULL };
    for (int k = 0; k < rank; k++) t.dims[k] = dims[k];
    tensor(cx, &t, name);
    return name;
}

Onnx__NodeProto *exp_unary(ExpCtx *cx, const char *op_type)
{
    const char *in[1] = { exp_in(cx, 0) };
    return exp_node(cx, op_type, NULL, in, 1, exp_out(cx));
}

void exp_window(ExpCtx *cx, Onnx__NodeProto *n, const MvWindow *w, int conv)
{
    int64_t v[4];
    for (int a = 0; a < w->n; a++) v[a] = w->k[a];
    exp_attr_ints(cx, n, "kernel_shape", v, w->n);
    for (int a = 0; a < w->n; a++) v[a] = w->s[a];
    exp_attr_ints(cx, n, "strides", v, w->n);
    for (int a = 0; a < w->n; a++) v[a] = w->lo[a], v[a + w->n] = w->hi[a];
    exp_attr_ints(cx, n, "pads", v, 2 * w->n);
    if (conv) {
        for (int a = 0; a < w->n; a++) v[a] = w->d[a];
        exp_attr_ints(cx, n, "dilations", v, w->n);
        exp_attr_int(cx, n, "group", w->groups);
    }
}
