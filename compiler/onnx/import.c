/* import.c: the ONNX importer's driver (see import.h).
 *
 * file -> ModelProto (protofile.c) -> indexed graph (graph.c) -> one input
 * layer, then every node in order: folded (fold.c) or translated (by the
 * translator of the op descriptor taking its op type, import_ops.c) -> output and loss -> .lyr text (lyrtext.c) -> checked by
 * the front end -> weights by the checked model's tensor table.
 */
#include "import.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ast.h"
#include "check.h"
#include "files.h"
#include "fold.h"
#include "import_ops.h"
#include "lyrtext.h"
#include "model_view.h"
#include "npz.h"
#include "protofile.h"
#include "weights.h"

typedef struct {
    Arena arena;          /* the checked model's */
    Source src;
    Diags diags;
} Front;

/* ---- layerc's own metadata (written by export.c) ---- */

static const char *meta(ImpCtx *cx, const char *key)
{
    const Onnx__ModelProto *mp = cx->g->model;
    for (size_t i = 0; i < mp->n_metadata_props; i++) {
        const Onnx__StringStringEntryProto *e = mp->metadata_props[i];
        if (e->key && e->value && !strcmp(e->key, key)) return e->value;
    }
    return NULL;
}

/* Metadata goes into the .lyr text only when it is made of what the
 * fragment may contain, so a crafted file cannot inject statements. */
static int plain(const char *s, const char *extra)
{
    if (!s || strlen(s) > 400) return 0;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              strchr("_.,()+- ", *s) || strchr(extra, *s)))
            return 0;
    return 1;
}

/* ---- the input ---- */

static int input_layer(ImpCtx *cx)
{
    const OxGraph *g = cx->g;
    int found = -1, count = 0;
    char names[512] = "";
    for (int v = 0; v < g->nvalues; v++)
        if (g->values[v].input) {
            if (count++ < 4) snprintf(names + strlen(names), sizeof names - strlen(names), "%s\"%s\"",
                                      count > 1 ? ", " : "", g->values[v].name);
            found = v;
        }
    if (count != 1)
        return lc_fail(cx->err, cx->errlen, "%s: error: the graph has %d inputs%s%s%s; a layerc model has one "
                       "(the others must be initializers)", cx->path, count, count ? " (" : "", names,
                       count ? (count > 4 ? ", ...)" : ")") : "");
    const Onnx__ValueInfoProto *vi = g->values[found].input;
    const char *name = g->values[found].name;
    const Onnx__TypeProto *tp = vi->type;
    if (!tp || tp->value_case != ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE || !tp->tensor_type)
        return lc_fail(cx->err, cx->errlen, "%s: error: graph input \"%s\" is not a tensor", cx->path, name);
    const Onnx__TypeProto__Tensor *tt = tp->tensor_type;
    if (!tt->has_elem_type || tt->elem_type != ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT)
        return lc_fail(cx->err, cx->errlen, "%s: error: graph input \"%s\" has element type %d; layerc models "
                       "take float (1)", cx->path, name, tt->has_elem_type ? tt->elem_type : 0);
    if (!tt->shape || tt->shape->n_dim < 1)
        return lc_fail(cx->err, cx->errlen, "%s: error: graph input \"%s\" has no shape [N, ...]; layerc needs the "
                       "shape of a sample", cx->path, name);
    size_t rank = tt->shape->n_dim;
    if (rank - 1 > LC_MAX_RANK)
        return lc_fail(cx->err, cx->errlen, "%s: error: graph input \"%s\" has rank %zu (over %d)", cx->path, name,
                       rank, LC_MAX_RANK + 1);
    Shape s = { (int)rank - 1, { 0 } };
    long size = 1;
    for (size_t k = 0; k < rank; k++) {
        const Onnx__TensorShapeProto__Dimension *d = tt->shape->dim[k];
        int known = d->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
        if (k == 0) {
            cx->batch = known && d->dim_value > 0 ? d->dim_value : 0;
            continue;
        }
        if (!known || d->dim_value < 1 || d->dim_value > LC_MAX_STATE_FLOATS / size)
            return lc_fail(cx->err, cx->errlen, "%s: error: graph input \"%s\": dimension %zu is %s; layerc needs "
                           "every dimension of a sample, from 1 to %ld elements in all", cx->path, name, k,
                           known ? "out of range" : "not a number", LC_MAX_STATE_FLOATS);
        s.dims[k - 1] = (long)d->dim_value;
        size *= (long)d->dim_value;
    }
    arena_grow(cx->a, (void **)&cx->layers, &cx->cap_layers, 0, sizeof(ImpLayer));
    ImpLayer *l = &cx->layers[cx->nlayers++];
    memset(l, 0, sizeof *l);
    l->name = names_take(&cx->names, names_sanitize(cx->a, name, NULL));
    l->shape = s.rank ? s : (Shape){ 1, { 1 } };
    l->node = -1;
    l->comment = cx->batch > 1 ? arena_printf(cx->a, "ONNX \"%s\" [%lld, ...]: the batch is the data's rows", name,
                                              (long long)cx->batch)
                               : arena_printf(cx->a, "ONNX \"%s\"; the batch is the data's rows", name);
    cx->values[found] = (ImpValue){ IMP_LAYER, NULL, 0, s };
    return 1;
}

/* ---- the nodes ---- */

/* Every node's op is one layerc takes, before anything else is looked at:
 * "the model uses LSTM" says more than what the LSTM's input lacks. */
static int known_ops(ImpCtx *cx)
{
    const OxGraph *g = cx->g;
    for (int i = 0; i < (int)g->g->n_node; i++) {
        cx->node = g->order[i];
        cx->n = g->g->node[cx->node];
        const char *domain = oxg_s(cx->n->domain);
        if (*domain && strcmp(domain, "ai.onnx"))
            return imp_refuse(cx, "its domain \"%s\" is not ONNX's own; layerc takes only standard ops", domain);
        if (!fold_knows(cx->n->op_type) && !imp_op_find(cx->n->op_type))
            return imp_refuse(cx, "layerc has no translation for %s", cx->n->op_type);
    }
    if (g->opset <= 0 || g->opset > 1000)
        return lc_fail(cx->err, cx->errlen, "%s: error: the model imports no usable opset of the default ONNX "
                       "domain", cx->path);
    return 1;
}

static int translate(ImpCtx *cx)
{
    const OxGraph *g = cx->g;
    char nb[512];
    for (int i = 0; i < (int)g->g->n_node; i++) {
        int node = g->order[i];
        if (cx->taken[node]) continue;   /* computed by an earlier node's translator */
        cx->node = node;
        cx->n = g->g->node[node];
        for (size_t k = 0; k < cx->n->n_input; k++) {
            int v = g->in[node][k];
            if (v >= 0 && cx->values[v].kind == IMP_NONE)
                return imp_refuse(cx, "its input \"%s\" is an output layerc did not compute", g->values[v].name);
        }
        int r = fold_node(cx);
        if (r < 0) return 0;
        if (r == 0) {
            ImpTranslate translate = imp_op_find(cx->n->op_type);
            if (!translate) return imp_refuse(cx, "layerc has no translation for %s", cx->n->op_type);
            if (!translate(cx)) return imp_refuse(cx, "cannot be translated");
        }
        for (size_t k = 0; k < cx->n->n_output; k++) {
            int v = g->out[node][k];
            if (v >= 0 && cx->values[v].kind == IMP_NONE && imp_out_used(cx, (int)k))
                return lc_fail(cx->err, cx->errlen, "%s: error: %s: layerc does not compute its output %zu",
                               cx->path, oxg_node_str(g, node, nb, sizeof nb), k);
        }
        /* layerc's metadata: an init= or decay= of the layer this node became */
        if (r == 0 && cx->nlayers && imp_layer_at(cx, cx->nlayers - 1)->node == node) {
            static const char *const options[] = { "init", "decay" };
            ImpLayer *l = imp_layer_at(cx, cx->nlayers - 1);
            for (int o = 0; o < 2; o++) {
                char key[300];
                snprintf(key, sizeof key, "layerc.%s.%s", options[o], l->name);
                const char *text = meta(cx, key);
                if (text && plain(text, "") && cx->have(l->op, options[o])) {
                    imp_arg(cx, l, options[o], "%s", text);
                    l->meta = 1;
                }
            }
        }
    }
    return 1;
}

/* The graph output as the model's output layer. */
static int output_layer(ImpCtx *cx, int *out)
{
    const OxGraph *g = cx->g;
    if (g->g->n_output != 1)
        return lc_fail(cx->err, cx->errlen, "%s: error: the graph has %zu outputs; a layerc model has one",
                       cx->path, g->g->n_output);
    int v = oxg_find(g, g->g->output[0]->name);
    const ImpValue *iv = &cx->values[v];
    if (iv->kind != IMP_LAYER)
        return lc_fail(cx->err, cx->errlen, "%s: error: the graph output \"%s\" is a constant, not computed from "
                       "the input", cx->path, g->values[v].name);
    int l = iv->layer;
    if (l == 0 || cx->layers[l].uses) {   /* the output layer must be a layer nothing else reads */
        ImpLayer *id = imp_layer_extra(cx, "identity", &l, 1, names_sanitize(cx->a, g->values[v].name, NULL));
        id->shape = cx->layers[l].shape;
        id->comment = arena_printf(cx->a, "the graph output \"%s\"", g->values[v].name);
        l = cx->nlayers - 1;
    }
    *out = l;
    return 1;
}

static const char *file_stem(Arena *a, const char *path)
{
    const char *b = strrchr(path, '/');
    b = b ? b + 1 : path;
    const char *dot = strrchr(b, '.');
    return arena_strndup(a, b, dot && dot > b ? (size_t)(dot - b) : strlen(b));
}

/* The graph's name, unless it is an exporter's default. */
static const char *model_name(ImpCtx *cx, const char *lyr_path)
{
    static const char *const defaults[] = { "", "torch_jit", "torch-jit-export", "main_graph", "tf2onnx", "graph" };
    const char *g = oxg_s(cx->g->g->name);
    int dflt = 0;
    for (size_t i = 0; i < sizeof defaults / sizeof *defaults; i++) dflt |= !strcmp(g, defaults[i]);
    if (!strncmp(g, "test_", 5)) dflt = 1;   /* the ONNX test data */
    const char *base = dflt ? file_stem(cx->a, strcmp(lyr_path, "-") ? lyr_path : cx->path) : g;
    return names_sanitize(cx->a, base, NULL);
}

/* ---- checking the text and matching the weights ---- */

/* An error on a line that holds what layerc's metadata said (the train
 * block, a declared weight's initializer, an init=): the file's metadata is
 * wrong, not the translation. */
static int from_metadata(const ImpCtx *cx, const LyrModel *lm, int line)
{
    if (lm->train_line && line >= lm->train_line) return 1;
    for (int i = 0; i < cx->ndeclared; i++)
        if (cx->declared[i].line == line) return 1;
    for (int l = 0; l < cx->nlayers; l++)
        if (cx->layers[l].line == line && cx->layers[l].meta) return 1;
    return 0;
}

static int check_text(ImpCtx *cx, const LyrModel *lm, const char *lyr_path, const char *text, Front *f, Model **m,
                      int *why)
{
    source_from_string(&f->src, lyr_path, text);
    diags_init(&f->diags, &f->src);
    Program *p = parse_program(&f->src, &f->diags, &f->arena);
    *m = f->diags.nerrors ? NULL : check_program(p, &f->src, &f->diags, &f->arena);
    if (*m) {
        if (f->diags.nwarnings) diags_print(&f->diags, stderr);
        return 1;
    }
    for (int i = 0; i < f->diags.n; i++)
        if (f->diags.items[i].severity == DIAG_ERROR && from_metadata(cx, lm, f->diags.items[i].loc.line))
            return lc_fail(cx->err, cx->errlen, "%s: error: its layerc metadata (metadata_props \"layerc.*\") "
                           "does not make a valid model: %s", cx->path, f->diags.items[i].msg);
    *why = IMPORT_INTERNAL;
    fprintf(stderr, "layerc: internal error: the .lyr written for %s does not check:\n", cx->path);
    diags_print(&f->diags, stderr);
    return lc_fail(cx->err, cx->errlen, "%s: error: layerc could not import it (an internal error, above)", cx->path);
}

typedef struct {
    const char *name;
    const OxTensor *t;
} Named;

static int by_name(const void *a, const void *b)
{
    return strcmp(((const Named *)a)->name, ((const Named *)b)->name);
}

/* The importer's tensors into params[], by the checked model's table. */
static int fill_params(ImpCtx *cx, const Model *m, float *params, int *why)
{
    int n = cx->ndeclared;
    for (int l = 0; l < cx->nlayers; l++) n += cx->layers[l].nw;
    Named *all = arena_alloc(cx->a, sizeof(Named) * (size_t)(n + 1));
    int k = 0;
    for (int i = 0; i < cx->ndeclared; i++) all[k++] = (Named){ cx->declared[i].name, cx->declared[i].t };
    for (int l = 0; l < cx->nlayers; l++)
        for (int j = 0; j < cx->layers[l].nw; j++)
            all[k++] = (Named){ arena_printf(cx->a, "%s.%s", cx->layers[l].name, cx->layers[l].w[j].suffix),
                                cx->layers[l].w[j].t };
    qsort(all, (size_t)n, sizeof *all, by_name);
    LcTensorInfo *t = mv_tensor_table(m);
    int ok = n == mv_nweights(m);
    for (int i = 0; ok && i < mv_nweights(m); i++) {
        Named key = { t[i].name, NULL };
        const Named *w = bsearch(&key, all, (size_t)n, sizeof *all, by_name);
        ok = w && w->t->n == t[i].size && w->t->rank == t[i].rank;
        for (int d = 0; ok && d < t[i].rank; d++) ok = w->t->dims[d] == t[i].dims[d];
        if (ok) memcpy(params + t[i].offset, w->t->f, sizeof(float) * (size_t)t[i].size);
        else fprintf(stderr, "layerc: internal error: weight %s does not match the imported tensors\n", t[i].name);
    }
    free(t);
    if (!ok) *why = IMPORT_INTERNAL;
    return ok ? 1 : lc_fail(cx->err, cx->errlen, "%s: error: layerc could not import it (an internal error, above)",
                            cx->path);
}

/* ---- the whole translation ---- */

typedef struct {
    Front front;
    Arena arena;          /* the importer's */
} Priv;

int onnx_import_bytes(const char *onnx_path, const unsigned char *bytes, size_t n, const char *lyr_path,
                      const char *weights_name, ImportResult *r, int *why, char *err, size_t errlen)
{
    memset(r, 0, sizeof *r);
    *why = IMPORT_REFUSED;
    Onnx__ModelProto *mp = oxp_unpack(onnx_path, bytes, n, err, errlen);
    if (!mp) return 0;
    Priv *pv = xcalloc(1, sizeof *pv);
    r->priv = pv;
    OxGraph g;
    ImpCtx cx;
    memset(&cx, 0, sizeof cx);
    cx.a = &pv->arena;
    cx.g = &g;
    cx.path = onnx_path;
    cx.err = err;
    cx.errlen = errlen;
    cx.names.a = cx.a;
    cx.meta = meta;
    cx.have = mv_have;
    int ok = oxg_build(&g, mp, onnx_path, cx.a, err, errlen);
    if (ok) {
        cx.values = arena_alloc(cx.a, sizeof(ImpValue) * (size_t)(g.nvalues + 1));
        cx.taken = arena_alloc(cx.a, g.g->n_node + 1);
        for (int v = 0; ok && v < g.nvalues; v++) {
            if (!g.values[v].init) continue;
            char reason[512];
            OxTensor *t = oxt_from_proto(cx.a, g.values[v].init, reason, sizeof reason);
            if (!t) ok = lc_fail(err, errlen, "%s: error: initializer \"%s\": %s", onnx_path, g.values[v].name, reason);
            else cx.values[v] = (ImpValue){ IMP_CONST, t, -1, { 0, { 0 } } };
        }
    }
    int out = 0;
    ok = ok && known_ops(&cx) && input_layer(&cx) && translate(&cx) && output_layer(&cx, &out);
    if (ok) {
        const char *loss = "mse", *loss_why = "ONNX has no loss: layerc import chose mse, as the output is not a softmax";
        if (cx.layers[out].op && !strcmp(cx.layers[out].op, "softmax"))
            loss = "cross_entropy", loss_why = "ONNX has no loss: layerc import chose cross_entropy for the softmax output";
        const char *ml = meta(&cx, "layerc.loss");
        if (ml && (!strcmp(ml, "mse") || (!strcmp(ml, "cross_entropy") && !strcmp(loss, "cross_entropy")) ||
                   (!strcmp(ml, "bce") && cx.layers[out].op && !strcmp(cx.layers[out].op, "sigmoid"))))
            loss = ml, loss_why = NULL;
        const char *train = meta(&cx, "layerc.train");
        if (!plain(train, "=;")) train = NULL;
        const char *producer = oxg_s(mp->producer_name), *pver = oxg_s(mp->producer_version);
        const char *base = strrchr(onnx_path, '/');
        LyrModel lm = { model_name(&cx, lyr_path), base ? base + 1 : onnx_path,
                        arena_printf(cx.a, "%s%s%s", *producer ? producer : "unknown producer", *pver ? " " : "", pver),
                        g.opset, weights_name, cx.layers, cx.nlayers, cx.declared, cx.ndeclared, out, loss, loss_why, train, 0 };
        r->lyr = lyrtext_write(&lm);
        Model *m = NULL;
        ok = check_text(&cx, &lm, lyr_path, r->lyr, &pv->front, &m, why);
        if (ok) {
            r->model = m;
            r->nparams = mv_nparams(m);
            r->params = xcalloc((size_t)(r->nparams ? r->nparams : 1), sizeof(float));
            ok = fill_params(&cx, m, r->params, why);
        }
    }
    onnx__model_proto__free_unpacked(mp, NULL);
    if (!ok) onnx_import_free(r);
    else *why = IMPORT_OK;
    return ok;
}

void onnx_import_free(ImportResult *r)
{
    Priv *pv = r->priv;
    free(r->lyr);
    free(r->params);
    if (pv) {
        diags_free(&pv->front.diags);
        source_free(&pv->front.src);
        arena_free(&pv->front.arena);
        arena_free(&pv->arena);
        free(pv);
    }
    memset(r, 0, sizeof *r);
}

/* ---- the command ---- */

char *onnx_weights_path(const char *lyr)
{
    size_t n = strlen(lyr);
    char *w = xmalloc(n + 5);
    memcpy(w, lyr, n + 1);
    if (n > 4 && !strcmp(lyr + n - 4, ".lyr")) memcpy(w + n - 4, ".lyw", 5);
    else memcpy(w + n, ".lyw", 5);
    return w;
}

static char *read_all(const char *path, size_t *n, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    char *b = NULL;
    size_t cap = 0;
    *n = 0;
    if (!f) {
        lc_fail(err, errlen, "%s: error: cannot open it", path);
        return NULL;
    }
    for (;;) {
        if (*n == cap) {
            if (cap >= OXP_MAX_FILE) {
                fclose(f);
                free(b);
                lc_fail(err, errlen, "%s: error: the file is too large (the limit is %zu bytes)", path, OXP_MAX_FILE);
                return NULL;
            }
            b = xrealloc(b, cap = cap ? 2 * cap : 1 << 16);
        }
        size_t got = fread(b + *n, 1, cap - *n, f);
        if (!got) break;
        *n += got;
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        free(b);
        lc_fail(err, errlen, "%s: error: cannot read it", path);
        return NULL;
    }
    return b;
}

int onnx_import(const char *onnx_path, const char *lyr_path, const char *npz_path)
{
    char err[2048];
    size_t n;
    int to_stdout = !strcmp(lyr_path, "-");
    char *wpath = npz_path ? xstrdup(npz_path) : to_stdout ? NULL : onnx_weights_path(lyr_path);
    char *bytes = read_all(onnx_path, &n, err, sizeof err);
    ImportResult r;
    int why, status = 1;
    const char *wbase = wpath ? strrchr(wpath, '/') : NULL;
    if (bytes && onnx_import_bytes(onnx_path, (const unsigned char *)bytes, n, lyr_path,
                                   wpath ? (wbase ? wbase + 1 : wpath) : NULL, &r, &why, err, sizeof err)) {
        const Model *m = r.model;
        LcTensorInfo *t = mv_tensor_table(m);
        int ok = 1;
        size_t old_len = 0;
        char *old = wpath && !to_stdout && access(wpath, F_OK) == 0 ? read_all(wpath, &old_len, err, sizeof err) : NULL;
        if (wpath)
            ok = npz_path ? lc_npz_save(wpath, t, mv_nweights(m), r.params, err, sizeof err)
                          : lc_weights_save(wpath, t, mv_nweights(m), r.params, mv_nparams(m), err, sizeof err);
        if (ok && to_stdout) fputs(r.lyr, stdout);
        else if (ok && !(ok = lc_write_atomic(lyr_path, r.lyr, strlen(r.lyr), err, sizeof err)) && wpath) {
            /* both files or neither: the weights go back to what they were */
            char ignored[256];
            if (old) lc_write_atomic(wpath, old, old_len, ignored, sizeof ignored);
            else unlink(wpath);
        }
        free(old);
        free(t);
        onnx_import_free(&r);
        status = ok ? 0 : 1;
    }
    if (status) fprintf(stderr, "%s%s\n", err, to_stdout || !bytes ? "" : "; nothing written");
    free(bytes);
    free(wpath);
    return status;
}
