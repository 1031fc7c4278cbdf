/* graph.c: resolving names and ordering the nodes of an ONNX graph (see graph.h). */
#include "graph.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "files.h"

static unsigned hash(const char *s)
{
    unsigned h = 2166136261u;
    while (*s) h = (h ^ (unsigned char)*s++) * 16777619u;
    return h;
}

int oxg_find(const OxGraph *g, const char *name)
{
    if (!g->nslots) return -1;
    unsigned mask = (unsigned)g->nslots - 1;
    for (unsigned i = hash(name) & mask;; i = (i + 1) & mask) {
        int v = g->slots[i];
        if (!v) return -1;
        if (!strcmp(g->values[v - 1].name, name)) return v - 1;
    }
}

/* Adds name; returns its index, or -1 when it is already there. */
static int add_value(OxGraph *g, const char *name)
{
    unsigned mask = (unsigned)g->nslots - 1, i;
    for (i = hash(name) & mask; g->slots[i]; i = (i + 1) & mask)
        if (!strcmp(g->values[g->slots[i] - 1].name, name)) return -1;
    OxValue *v = &g->values[g->nvalues];
    memset(v, 0, sizeof *v);
    v->name = name;
    v->producer = -1;
    g->slots[i] = ++g->nvalues;
    return g->nvalues - 1;
}

/* The opset the model imports for a domain ("" = ONNX's own), or 0. */
static int opset_of(const Onnx__ModelProto *m, const char *domain)
{
    int dflt = !*domain || !strcmp(domain, "ai.onnx");
    for (size_t i = 0; i < m->n_opset_import; i++) {
        const char *d = oxg_s(m->opset_import[i]->domain);
        if ((dflt ? !*d || !strcmp(d, "ai.onnx") : !strcmp(d, domain)) && m->opset_import[i]->has_version)
            return (int)m->opset_import[i]->version;
    }
    return 0;
}

const char *oxg_node_str(const OxGraph *g, int node, char *buf, size_t len)
{
    const Onnx__NodeProto *n = g->g->node[node];
    const char *name = oxg_s(n->name), *domain = oxg_s(n->domain);
    char op[300];
    int v = opset_of(g->model, domain);
    if (*domain && strcmp(domain, "ai.onnx")) snprintf(op, sizeof op, "%s, %s opset %d", oxg_s(n->op_type), domain, v);
    else snprintf(op, sizeof op, "%s, opset %d", oxg_s(n->op_type), v);
    if (*name) snprintf(buf, len, "node \"%s\" (%s)", name, op);
    else snprintf(buf, len, "node #%d (%s, output \"%s\")", node, op, n->n_output ? oxg_s(n->output[0]) : "");
    return buf;
}

int oxg_build(OxGraph *g, const Onnx__ModelProto *m, const char *path, Arena *a, char *err, size_t errlen)
{
    const Onnx__GraphProto *gp = m->graph;
    char nb[512];
    memset(g, 0, sizeof *g);
    g->model = m;
    g->g = gp;
    g->path = path;
    g->opset = opset_of(m, "");   /* 0: none (the importer says so once it knows the ops) */
    size_t total = gp->n_initializer + gp->n_input;
    for (size_t i = 0; i < gp->n_node; i++) total += gp->node[i]->n_output;
    if (total > (size_t)1 << 24 || gp->n_node > (size_t)1 << 22)
        return lc_fail(err, errlen, "%s: error: the graph is too large (%zu nodes)", path, gp->n_node);
    g->nslots = 16;
    while ((size_t)g->nslots < 2 * total + 2) g->nslots *= 2;
    g->slots = arena_alloc(a, sizeof(int) * (size_t)g->nslots);
    g->values = arena_alloc(a, sizeof(OxValue) * (total + 1));

    for (size_t i = 0; i < gp->n_initializer; i++) {
        const char *name = oxg_s(gp->initializer[i]->name);
        int v = *name ? add_value(g, name) : -1;
        if (v < 0) return lc_fail(err, errlen, "%s: error: initializer \"%s\" is %s", path, name,
                                  *name ? "given twice" : "unnamed");
        g->values[v].init = gp->initializer[i];
    }
    for (size_t i = 0; i < gp->n_input; i++) {
        const char *name = oxg_s(gp->input[i]->name);
        if (!*name) return lc_fail(err, errlen, "%s: error: graph input %zu has no name", path, i);
        int v = oxg_find(g, name);
        if (v >= 0 && g->values[v].init) continue;   /* an initializer listed as an input (IR < 4) */
        if (v >= 0) return lc_fail(err, errlen, "%s: error: graph input \"%s\" is given twice", path, name);
        g->values[add_value(g, name)].input = gp->input[i];
    }
    g->in = arena_alloc(a, sizeof(int *) * (gp->n_node + 1));
    g->out = arena_alloc(a, sizeof(int *) * (gp->n_node + 1));
    for (size_t i = 0; i < gp->n_node; i++) {
        const Onnx__NodeProto *n = gp->node[i];
        if (!n->op_type || !*n->op_type)
            return lc_fail(err, errlen, "%s: error: node %zu has no op type", path, i);
        g->out[i] = arena_alloc(a, sizeof(int) * (n->n_output + 1));
        for (size_t k = 0; k < n->n_output; k++) {
            const char *name = oxg_s(n->output[k]);
            g->out[i][k] = -1;
            if (!*name) continue;
            int v = add_value(g, name);
            if (v < 0)
                return lc_fail(err, errlen, "%s: error: %s: its output \"%s\" is already produced "
                               "elsewhere (a value has one producer)", path,
                               oxg_node_str(g, (int)i, nb, sizeof nb), name);
            g->values[v].producer = (int)i;
            g->values[v].output_slot = (int)k;
            g->out[i][k] = v;
        }
    }
    for (size_t i = 0; i < gp->n_node; i++) {
        const Onnx__NodeProto *n = gp->node[i];
        g->in[i] = arena_alloc(a, sizeof(int) * (n->n_input + 1));
        for (size_t k = 0; k < n->n_input; k++) {
            const char *name = oxg_s(n->input[k]);
            g->in[i][k] = -1;
            if (!*name) continue;   /* an optional input left out */
            int v = oxg_find(g, name);
            if (v < 0)
                return lc_fail(err, errlen, "%s: error: %s: its input \"%s\" is not produced by any node, "
                               "graph input or initializer", path, oxg_node_str(g, (int)i, nb, sizeof nb), name);
            g->in[i][k] = v;
            g->values[v].consumers++;
        }
    }
    for (size_t i = 0; i < gp->n_output; i++) {
        const char *name = oxg_s(gp->output[i]->name);
        int v = oxg_find(g, name);
        if (v < 0) return lc_fail(err, errlen, "%s: error: graph output \"%s\" is not produced by any node",
                                  path, name);
        g->values[v].graph_output = 1;
    }
    /* Depth first from each node in file order, its producers placed before
     * it: the file's own order when that is already topological (torch's,
     * layerc's export), so the .lyr lists the layers as the file does.  A
     * node met again while its producers are being placed lies on a cycle. */
    int nn = (int)gp->n_node, tail = 0;
    unsigned char *state = arena_alloc(a, (size_t)nn + 1);   /* 0 unseen, 1 open, 2 placed */
    int *stack = arena_alloc(a, sizeof(int) * (size_t)(nn + 1));
    int *next = arena_alloc(a, sizeof(int) * (size_t)(nn + 1));   /* the next input to look at */
    g->order = arena_alloc(a, sizeof(int) * (size_t)(nn + 1));
    for (int i = 0; i < nn; i++) {
        if (state[i]) continue;
        int sp = 0;
        stack[sp++] = i;
        state[i] = 1;
        while (sp) {
            int j = stack[sp - 1];
            if (next[j] == (int)gp->node[j]->n_input) {
                state[j] = 2;
                g->order[tail++] = j;
                sp--;
                continue;
            }
            int v = g->in[j][next[j]++];
            int p = v >= 0 ? g->values[v].producer : -1;
            if (p < 0 || state[p] == 2) continue;
            if (state[p] == 1)
                return lc_fail(err, errlen, "%s: error: %s lies on a cycle: the graph must be acyclic",
                               path, oxg_node_str(g, p, nb, sizeof nb));
            state[p] = 1;
            stack[sp++] = p;
        }
    }
    return 1;
}
