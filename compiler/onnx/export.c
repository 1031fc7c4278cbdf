/* export.c: the ONNX exporter's driver (see export.h). */
#include "export.h"

#include <stdio.h>
#include <string.h>

#include "expctx.h"
#include "files.h"
#include "model_view.h"
#include "op.h"
#include "protofile.h"
#include "version.h"

static Onnx__ValueInfoProto *value_info(Arena *a, const char *name, Shape s)
{
    Onnx__ValueInfoProto *v = arena_alloc(a, sizeof *v);
    Onnx__TypeProto *t = arena_alloc(a, sizeof *t);
    Onnx__TypeProto__Tensor *tt = arena_alloc(a, sizeof *tt);
    Onnx__TensorShapeProto *sh = arena_alloc(a, sizeof *sh);
    onnx__value_info_proto__init(v);
    onnx__type_proto__init(t);
    onnx__type_proto__tensor__init(tt);
    onnx__tensor_shape_proto__init(sh);
    v->name = arena_strdup(a, name);
    v->type = t;
    t->value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
    t->tensor_type = tt;
    tt->has_elem_type = 1;
    tt->elem_type = ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
    tt->shape = sh;
    sh->n_dim = (size_t)s.rank + 1;
    sh->dim = arena_alloc(a, sizeof(*sh->dim) * sh->n_dim);
    for (size_t k = 0; k < sh->n_dim; k++) {
        Onnx__TensorShapeProto__Dimension *d = arena_alloc(a, sizeof *d);
        onnx__tensor_shape_proto__dimension__init(d);
        if (k == 0) {
            d->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM;
            d->dim_param = arena_strdup(a, "N");   /* the batch: any number of samples */
        } else {
            d->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
            d->dim_value = s.dims[k - 1];
        }
        sh->dim[k] = d;
    }
    return v;
}

typedef struct {
    Onnx__StringStringEntryProto **items;
    int n, cap;
} Meta;

static void meta_add(Arena *a, Meta *m, const char *key, const char *value)
{
    Onnx__StringStringEntryProto *e = arena_alloc(a, sizeof *e);
    onnx__string_string_entry_proto__init(e);
    e->key = arena_strdup(a, key);
    e->value = arena_strdup(a, value);
    arena_grow(a, (void **)&m->items, &m->cap, m->n, sizeof(*m->items));
    m->items[m->n++] = e;
}

int onnx_export(const Model *m, const float *params, const char *source_name, const char *path,
                char *err, size_t errlen)
{
    Arena a = { 0 };
    Onnx__GraphProto g;
    onnx__graph_proto__init(&g);
    ExpCtx cx = { &a, source_name, m, params, &g, 0, 0, 13, 0, err, errlen, 0, NULL };
    cx.weight_done = arena_alloc(&a, (size_t)mv_nweights(m) + 1);
    g.name = arena_strdup(&a, mv_model_name(m));
    g.doc_string = arena_printf(&a, "%s, exported by layerc %s", source_name, LAYERC_VERSION);
    for (int l = 1; l < mv_nlayers(m) && !cx.failed; l++) {
        cx.layer = l;
        const OpDef *op = m->layers[l].op;   /* each op exports itself (its descriptor's onnx_export) */
        if (!op->onnx_export) exp_fail(&cx, "layerc has no ONNX export for %s yet", op->name);
        else if (op->onnx_export(&cx)) exp_need_opset(&cx, op->onnx_opset ? op->onnx_opset : 13);
    }
    /* declared weights no layer reads are still part of the model */
    for (int w = 0; w < mv_nweights(m) && !cx.failed; w++)
        if (!cx.weight_done[w]) exp_weight(&cx, w);
    int ok = !cx.failed;
    if (ok) {
        g.n_input = 1;
        g.input = arena_alloc(&a, sizeof(*g.input));
        g.input[0] = value_info(&a, mv_name(m, 0), mv_shape(m, 0));
        g.n_output = 1;
        g.output = arena_alloc(&a, sizeof(*g.output));
        g.output[0] = value_info(&a, mv_name(m, mv_output(m)), mv_shape(m, mv_output(m)));

        Meta md = { NULL, 0, 0 };
        size_t buflen = 1 << 16;   /* room for a literal initializer's values */
        char *buf = arena_alloc(&a, buflen), key[LC_MAX_NAME + 32];
        meta_add(&a, &md, "layerc.loss", mv_loss(m));
        meta_add(&a, &md, "layerc.train", mv_train(m, buf, buflen));
        for (int w = 0; w < mv_nweights(m); w++) {
            if (!mv_weight_declared(m, w)) continue;
            const char *init = mv_weight_init(m, w, buf, buflen);
            snprintf(key, sizeof key, "layerc.weight.%s", mv_weight_name(m, w));
            meta_add(&a, &md, key, arena_printf(&a, "%s%s%s", mv_weight_frozen(m, w) ? "frozen" : "trainable",
                                                init ? " = " : "", init ? init : ""));
        }
        for (int l = 1; l < mv_nlayers(m); l++) {
            const char *init = mv_layer_init(m, l, buf, buflen);
            if (!init) continue;
            snprintf(key, sizeof key, "layerc.init.%s", mv_name(m, l));
            meta_add(&a, &md, key, init);
        }
        for (int l = 1; l < mv_nlayers(m); l++) {
            const char *decay = mv_layer_option(m, l, "decay", buf, buflen);
            if (!decay) continue;
            snprintf(key, sizeof key, "layerc.decay.%s", mv_name(m, l));
            meta_add(&a, &md, key, decay);
        }

        Onnx__OperatorSetIdProto opset;
        Onnx__OperatorSetIdProto *opsets[1] = { &opset };
        onnx__operator_set_id_proto__init(&opset);
        opset.domain = "";
        opset.has_version = 1;
        opset.version = cx.opset;
        Onnx__ModelProto mp;
        onnx__model_proto__init(&mp);
        mp.has_ir_version = 1;
        mp.ir_version = 8;
        mp.producer_name = "layerc";
        mp.producer_version = LAYERC_VERSION;
        mp.n_opset_import = 1;
        mp.opset_import = opsets;
        mp.graph = &g;
        mp.n_metadata_props = (size_t)md.n;
        mp.metadata_props = md.items;
        ok = oxp_write(path, &mp, err, errlen);
    }
    arena_free(&a);
    return ok;
}
