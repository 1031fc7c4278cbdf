/* check.c: syntax tree -> checked model.
 *
 * One pass over the statements in source order (a name is declared before it
 * is used, so that order is topological), then whole-model checks: one
 * model/input/output/loss, the loss rules, the memory limit, and warnings for
 * layers that do not reach the output and weights never used.  Every problem
 * is a diagnostic with a location; checking goes on after an error so that a
 * run reports as many as it can.
 */
#include "check.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loss.h"
#include "op.h"
#include "optim.h"
#include "plan.h"
#include "schedule.h"
#include "state.h"
#include "values.h"

typedef enum { N_LAYER, N_WEIGHT } NameKind;

typedef struct {
    const char *name;
    NameKind kind;
    int index;
} NameEntry;

/* Where each name is declared, from a first look at every statement, so
 * that a name used too early gets "used before its declaration". */
typedef struct {
    const char *name;
    int line;
} Declared;

typedef struct Check Check;
struct Check {
    Diags *d;
    Arena *a;
    Model *m;
    int cap_layers, cap_weights;
    NameEntry *names;          /* open addressing */
    int names_cap, names_n;
    Declared *declared;
    int ndeclared;
    const Stmt *model_stmt, *input_stmt, *output_stmt, *loss_stmt, *train_stmt;
    int loss_layer;            /* the layer named by `loss`, or -1 */
    int failed_layer;          /* a layer whose shape is unknown after an error */
};

/* ---- helpers ---- */

static void check_error(Check *c, Loc loc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void check_error(Check *c, Loc loc, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    diag_error(c->d, loc, "%s", msg);
}

static unsigned hash_name(const char *s)
{
    unsigned h = 2166136261u;
    while (*s) h = (h ^ (unsigned char)*s++) * 16777619u;
    return h;
}

static NameEntry *name_slot(Check *c, const char *name)
{
    unsigned mask = (unsigned)c->names_cap - 1, i = hash_name(name) & mask;
    while (c->names[i].name && strcmp(c->names[i].name, name) != 0) i = (i + 1) & mask;
    return &c->names[i];
}

static const NameEntry *name_find(Check *c, const char *name)
{
    NameEntry *e = name_slot(c, name);
    return e->name ? e : NULL;
}

static void name_add(Check *c, const char *name, NameKind kind, int index)
{
    if ((c->names_n + 1) * 2 > c->names_cap) {
        NameEntry *old = c->names;
        int oldcap = c->names_cap;
        c->names_cap = oldcap ? oldcap * 2 : 256;
        c->names = arena_alloc(c->a, sizeof(NameEntry) * (size_t)c->names_cap);
        for (int i = 0; i < oldcap; i++)
            if (old[i].name) *name_slot(c, old[i].name) = old[i];
    }
    NameEntry *e = name_slot(c, name);
    *e = (NameEntry){ name, kind, index };
    c->names_n++;
}

/* The line of the first declaration of name after the statement at `line`, or 0. */
static int declared_later(Check *c, const char *name, int line)
{
    for (int i = 0; i < c->ndeclared; i++)
        if (c->declared[i].line > line && strcmp(c->declared[i].name, name) == 0)
            return c->declared[i].line;
    return 0;
}

/* Every known name, for "did you mean". */
static const char *suggest_name(Check *c, const char *name, int want_layer)
{
    const char **cand = arena_alloc(c->a, sizeof(char *) * (size_t)(c->m->nlayers + c->m->nweights + 1));
    int n = 0;
    for (int i = 0; i < c->m->nlayers; i++)
        if (want_layer) cand[n++] = c->m->layers[i].name;
    for (int i = 0; i < c->m->nweights; i++)
        if (!want_layer) cand[n++] = c->m->weights[i].name;
    return closest_name(name, cand, n);
}

static void unknown_name(Check *c, const Value *v, int want_layer, int stmt_line)
{
    int later = declared_later(c, v->name, stmt_line);
    if (later) {
        check_error(c, v->loc, "'%s' is used before its declaration on line %d", v->name, later);
        return;
    }
    check_error(c, v->loc, "unknown %s '%s'", want_layer ? "layer" : "weight", v->name);
    const char *s = suggest_name(c, v->name, want_layer);
    if (s) diag_hint(c->d, "did you mean '%s'?", s);
}

/* ---- weights and layers ---- */

/* A declared weight: `[frozen] weight NAME [...] = INIT;` */
static int add_weight(Check *c, const char *name, Loc loc, Shape shape, WeightRole role, Init init,
                      long fan_in, long fan_out)
{
    Weight w = { name, name, loc, shape, 0, 0, -1, role, init, fan_in, fan_out, 0, 0, 0 };
    int i = model_add_weight(c->m, c->a, &w);
    if (i < 0) {
        check_error(c, loc, "the weights of the model are too large: over %ld floats in all",
                    LC_MAX_STATE_FLOATS);
        return -1;
    }
    name_add(c, name, N_WEIGHT, i);
    return i;
}

static int is_declared(Check *c, const char *name, Loc loc)
{
    const NameEntry *e = name_find(c, name);
    if (!e) return 0;
    Loc prev = e->kind == N_LAYER ? c->m->layers[e->index].loc : c->m->weights[e->index].loc;
    check_error(c, loc, "'%s' is already declared on line %d", name, prev.line);
    return 1;
}

static int check_name_length(Check *c, const char *name, Loc loc)
{
    size_t n = strlen(name);
    if (n > LC_MAX_NAME) {
        check_error(c, loc, "name too long (%zu characters; the limit is %d)", n, LC_MAX_NAME);
        return 0;
    }
    return 1;
}

static int add_layer(Check *c, const char *name, Loc loc, Layer *l)
{
    arena_grow(c->a, (void **)&c->m->layers, &c->cap_layers, c->m->nlayers, sizeof(Layer));
    int i = c->m->nlayers++;
    l->name = name;
    l->loc = loc;
    l->size = shape_size(&l->shape);
    c->m->layers[i] = *l;
    name_add(c, name, N_LAYER, i);
    return i;
}

/* Binds one argument value to parameter k of op. */
/* The weight slot a P_WEIGHT parameter fills: the weight parameters, in order. */
static int weight_slot(const OpDef *op, int k)
{
    int slot = 0;
    for (int i = 0; i < k; i++) slot += op->params[i].kind == P_WEIGHT;
    return slot;
}

/* k | [h, w] | a word of the parameter's list (pad=same) */
static int bind_pair(Check *c, const ParamDef *p, const Value *v, const char *what, ArgValue *a)
{
    if (v->kind == V_NAME && p->words) {
        for (int i = 0; p->words[i]; i++)
            if (!strcmp(p->words[i], v->name)) {
                a->word = i + 1;
                return 1;
            }
    }
    if (v->kind == V_LIST) {
        long side[2];
        if (v->nitems != 2) {
            check_error(c, v->loc, "%s must be a number or [height, width], not a list of %d",
                        what, v->nitems);
            return 0;
        }
        for (int i = 0; i < 2; i++)
            if (!value_int(c->d, v->items[i], p->lo, p->hi, what, &side[i])) return 0;
        a->pair[0] = side[0], a->pair[1] = side[1];
        a->num = (double)side[0];
        return 1;
    }
    if (v->kind == V_NAME && p->words) {
        check_error(c, v->loc, "%s must be a number, [height, width] or %s, not '%s'", what,
                    p->words[0], v->name);
        return 0;
    }
    long n;
    if (!value_int(c->d, v, p->lo, p->hi, what, &n)) return 0;
    a->pair[0] = a->pair[1] = n;
    a->num = (double)n;
    return 1;
}

static int bind_arg(Check *c, const OpDef *op, int k, const Value *v, Layer *l, int line)
{
    const ParamDef *p = &op->params[k];
    ArgValue *a = &l->arg[k];
    char what[128];
    snprintf(what, sizeof what, "%s of %s", p->name, op->name);
    switch (p->kind) {
    case P_LAYER:
    case P_WEIGHT: {
        int want_layer = p->kind == P_LAYER;
        if (v->kind != V_NAME) {
            check_error(c, v->loc, "%s(): argument '%s' must be a %s name, not %s", op->name,
                        p->name, want_layer ? "layer" : "weight", value_kind_text(v));
            return 0;
        }
        const NameEntry *e = name_find(c, v->name);
        if (!e) {
            unknown_name(c, v, want_layer, line);
            return 0;
        }
        if ((e->kind == N_LAYER) != want_layer) {
            check_error(c, v->loc, "%s(): '%s' is a %s, but argument '%s' must be a %s",
                        op->name, v->name, want_layer ? "weight" : "layer", p->name,
                        want_layer ? "layer" : "weight");
            return 0;
        }
        if (want_layer) {
            if (e->index == c->failed_layer) return 0;
            if (l->nin == LC_MAX_INPUTS) {
                check_error(c, v->loc, "%s(): more than %d inputs", op->name, LC_MAX_INPUTS);
                return 0;
            }
            l->in[l->nin++] = e->index;
        } else {
            l->w[weight_slot(op, k)] = e->index;
            c->m->weights[e->index].uses++;
        }
        return 1;
    }
    case P_INT: {
        long n;
        if (!value_int(c->d, v, p->lo, p->hi, what, &n)) return 0;
        a->num = (double)n;
        return 1;
    }
    case P_REAL:
        return value_real(c->d, v, p->lo, p->hi, what, &a->num);
    case P_PAIR:
        return bind_pair(c, p, v, what, a);
    case P_SHAPE:
        snprintf(what, sizeof what, "the %s of %s", p->name, op->name);
        return value_shape(c->d, v, what, &a->shape);
    case P_INIT:
        return value_init(c->d, c->a, v, NULL, what, &a->init);
    case P_REALS: {
        int n = v->kind == V_LIST ? v->nitems : 1;
        if (v->kind == V_LIST && (n < 1 || n > LC_MAX_REALS)) {
            check_error(c, v->loc, "%s must be a number or a list of 1 to %d numbers, not %d", what,
                        LC_MAX_REALS, n);
            return 0;
        }
        double *r = arena_alloc(c->a, sizeof(double) * (size_t)n);
        for (int i = 0; i < n; i++)
            if (!value_real(c->d, v->kind == V_LIST ? v->items[i] : v, p->lo, p->hi, what, &r[i])) return 0;
        a->reals = r, a->nreals = n;
        return 1;
    }
    }
    return 0;
}

static const char *op_usage(Arena *a, const OpDef *op)
{
    char buf[256];
    int k = snprintf(buf, sizeof buf, "%s(", op->name);
    for (int i = 0; i < op->nparams && k < (int)sizeof buf; i++)
        k += snprintf(buf + k, sizeof buf - (size_t)k, "%s%s%s", i ? ", " : "",
                      op->params[i].name, op->params[i].required ? "" : "=...");
    if (op->variadic && k < (int)sizeof buf) k += snprintf(buf + k, sizeof buf - (size_t)k, ", ...");
    if (k < (int)sizeof buf) snprintf(buf + k, sizeof buf - (size_t)k, ")");
    return arena_strdup(a, buf);
}

/* OP(ARGS): resolves the op, binds the arguments, infers the shape. */
/* frozen layer NAME = OP(...): the weights the op created (NAME.W, NAME.b)
 * are never trained.  Declared weights are frozen where they are declared. */
/* frozen layer NAME = OP(...): the trainable weights the op has just made
 * (index first_weight on) are frozen, so they are the last ones of the
 * model and no later gradient offset moves. */
static int freeze_layer_weights(Check *c, Layer *l, int first_weight, Loc loc)
{
    int own = c->m->nweights - first_weight, declared = 0;
    for (int k = 0; k < l->op->nweights; k++) declared += l->w[k] >= 0 && l->w[k] < first_weight;
    if (own == 0 || declared) {
        check_error(c, loc, "'frozen' applies to a layer that creates its own weights, and %s %s",
                    l->op->name, declared ? "uses declared weights: declare them `frozen weight` "
                    "instead" : "has no weights");
        return 0;
    }
    for (int i = first_weight; i < c->m->nweights; i++) {
        Weight *w = &c->m->weights[i];
        if (w->role != ROLE_TRAINABLE) continue;
        w->role = ROLE_FROZEN;
        w->grad_offset = -1;
        c->m->ntrainable -= w->size;
    }
    return 1;
}

static void check_layer_call(Check *c, const Stmt *s, const char *name)
{
    const Value *call = s->call;
    const OpDef *op = op_find(call->name);
    Layer l;
    memset(&l, 0, sizeof l);
    l.name = name;
    for (int k = 0; k < LC_MAX_LAYER_WEIGHTS; k++) l.w[k] = -1;
    int ok = 1, first_weight = c->m->nweights;
    if (!op) {
        const char *names[128];
        int n = op_count() < 128 ? op_count() : 128;
        for (int i = 0; i < n; i++) names[i] = op_at(i)->name;
        check_error(c, call->loc, "unknown op '%s'", call->name);
        const char *sug = closest_name(call->name, names, n);
        if (sug) diag_hint(c->d, "did you mean '%s'?", sug);
        ok = 0;
    } else {
        int given[LC_MAX_PARAMS] = { 0 }, next = 0;
        l.op = op;
        for (int k = 0; k < op->nparams; k++) {
            l.arg[k].num = op->params[k].def;
            l.arg[k].pair[0] = l.arg[k].pair[1] = (long)op->params[k].def;
        }
        for (int i = 0; i < call->nargs; i++) {
            const Arg *arg = &call->args[i];
            int k;
            if (!arg->key) {
                if (op->variadic) k = 0;
                else {
                    while (next < op->nparams && op->params[next].keyword_only) next++;
                    if (next >= op->nparams) {
                        check_error(c, arg->value->loc, "too many arguments: %s",
                                    op_usage(c->a, op));
                        ok = 0;
                        break;
                    }
                    k = next++;
                }
            } else {
                k = op_param(op, arg->key);
                if (k < 0 || (op->variadic && k == 0)) {
                    const char *names[LC_MAX_PARAMS];
                    for (int j = 0; j < op->nparams; j++) names[j] = op->params[j].name;
                    check_error(c, arg->key_loc, "unknown option '%s' for %s: %s", arg->key,
                                op->name, op_usage(c->a, op));
                    const char *sug = closest_name(arg->key, names, op->nparams);
                    if (sug) diag_hint(c->d, "did you mean '%s'?", sug);
                    ok = 0;
                    continue;
                }
                if (given[k]) {
                    check_error(c, arg->key_loc, "%s is given twice", arg->key);
                    ok = 0;
                    continue;
                }
            }
            given[k] = 1;
            l.arg[k].given = 1;
            if (!bind_arg(c, op, k, arg->value, &l, s->loc.line)) ok = 0;
        }
        for (int k = 0; ok && k < op->nparams; k++)
            if (op->params[k].required && !given[k]) {
                check_error(c, call->loc, "%s needs %s: %s", op->name, op->params[k].name,
                            op_usage(c->a, op));
                ok = 0;
            }
        if (ok && op->variadic && l.nin < 2) {
            check_error(c, call->loc, "%s needs at least 2 layers", op->name);
            ok = 0;
        }
        if (ok) {
            OpCtx ctx = { c->m, c->a, c->d, call->loc };
            ok = op->shape(&ctx, &l);
        }
        if (ok && s->frozen) ok = freeze_layer_weights(c, &l, first_weight, s->loc);
    }
    if (!ok) memset(&l.shape, 0, sizeof l.shape);
    if (ok) {
        long size = shape_size(&l.shape);
        if (size > LC_MAX_STATE_FLOATS) {
            check_error(c, call->loc, "layer %s is too large (%ld elements)", name, size);
            ok = 0;
        }
    }
    int i = add_layer(c, name, s->loc, &l);
    for (int w = first_weight; w < c->m->nweights; w++)   /* the op's own: NAME.W */
        name_add(c, c->m->weights[w].name, N_WEIGHT, w);
    if (!ok) c->failed_layer = i;   /* later uses stay quiet: one error, not a cascade */
}

/* ---- statements ---- */

/* model NAME ; */
static void check_model(Check *c, const Stmt *s, int index)
{
    if (c->model_stmt) {
        check_error(c, s->loc, "a second model statement (the first is on line %d)",
                    c->model_stmt->loc.line);
        return;
    }
    c->model_stmt = s;
    c->m->name = s->name;
    if (index != 0) check_error(c, s->loc, "the model statement must come first");
}

/* input NAME [ d1, ... ] ; */
static void check_input(Check *c, const Stmt *s)
{
    if (c->input_stmt) {
        check_error(c, s->loc, "a second input (the first, '%s', is on line %d); a model has one input",
                    c->input_stmt->name, c->input_stmt->loc.line);
        return;
    }
    c->input_stmt = s;
    if (!check_name_length(c, s->name, s->name_loc) || is_declared(c, s->name, s->name_loc)) return;
    Layer l;
    memset(&l, 0, sizeof l);
    if (!value_shape(c->d, s->shape, "the input", &l.shape)) l.shape = (Shape){ 1, { 1 } };
    add_layer(c, s->name, s->loc, &l);
}

/* [frozen] weight NAME [ d1, ... ] [ = INIT ] ; */
static void check_weight_stmt(Check *c, const Stmt *s)
{
    Shape shape;
    Init init = { INIT_DEFAULT, 0, 0, NULL };
    if (!check_name_length(c, s->name, s->name_loc) || is_declared(c, s->name, s->name_loc)) return;
    if (!value_shape(c->d, s->shape, s->name, &shape)) return;
    if (s->init && !value_init(c->d, c->a, s->init, &shape, s->name, &init)) return;
    /* fan_in as PyTorch sees a weight [out, in...]; a vector's is its length */
    long fan_in = shape.rank > 1 ? shape_size(&shape) / shape.dims[0] : shape.dims[0];
    long fan_out = shape.rank > 1 ? shape.dims[0] : 1;
    add_weight(c, s->name, s->name_loc, shape, s->frozen ? ROLE_FROZEN : ROLE_TRAINABLE, init, fan_in,
               fan_out);
}

/* layer NAME = OP ( ARGS ) ;   output NAME [ = OP ( ARGS ) ] ; */
static void check_layer_stmt(Check *c, const Stmt *s)
{
    if (s->kind == S_OUTPUT) {
        if (c->output_stmt) {
            check_error(c, s->loc, "a second output (the first, '%s', is on line %d); a model has "
                        "one output", c->output_stmt->name, c->output_stmt->loc.line);
            return;
        }
        c->output_stmt = s;
        if (!s->call) {   /* output NAME ; marks a declared layer */
            const NameEntry *e = name_find(c, s->name);
            Value v = { V_NAME, s->name_loc, 0, s->name, NULL, 0, NULL, 0 };
            if (!e || e->kind != N_LAYER) {
                if (e) check_error(c, s->name_loc, "'%s' is a weight; the output must be a layer", s->name);
                else unknown_name(c, &v, 1, s->loc.line);
                c->m->output = -2;
                return;
            }
            if (e->index == 0) {
                check_error(c, s->name_loc, "the output cannot be the input layer '%s'; "
                            "add a layer, e.g. `output y = identity(%s);`", s->name, s->name);
                c->m->output = -2;
                return;
            }
            c->m->output = e->index;
            return;
        }
    }
    if (!check_name_length(c, s->name, s->name_loc) || is_declared(c, s->name, s->name_loc)) {
        if (s->kind == S_OUTPUT) c->m->output = -2;
        return;
    }
    if (!c->input_stmt && c->m->nlayers == 0) {
        check_error(c, s->loc, "layer '%s' comes before the input: declare `input NAME[...];` first",
                    s->name);
        return;
    }
    check_layer_call(c, s, s->name);
    if (s->kind == S_OUTPUT) c->m->output = c->m->nlayers - 1;
}

/* loss KIND ( NAME ) ; */
static void check_loss(Check *c, const Stmt *s)
{
    if (c->loss_stmt) {
        check_error(c, s->loc, "a second loss (the first is on line %d); a model has one loss",
                    c->loss_stmt->loc.line);
        return;
    }
    c->loss_stmt = s;
    c->m->loss_loc = s->loc;
    const LossDef *loss = loss_find(s->name);
    if (!loss) {
        const char *names[16];
        int n = loss_count() < 16 ? loss_count() : 16;
        for (int i = 0; i < n; i++) names[i] = loss_at(i)->name;
        check_error(c, s->name_loc, "unknown loss '%s': the losses are %s", s->name, loss_names());
        const char *sug = closest_name(s->name, names, n);
        if (sug) diag_hint(c->d, "did you mean '%s'?", sug);
        return;
    }
    c->m->loss = loss;
    const Value *call = s->call;
    if (!call || call->nargs != 1 || call->args[0].key || call->args[0].value->kind != V_NAME) {
        check_error(c, call ? call->loc : s->loc, "%s takes one argument, the output layer: "
                    "loss %s(NAME);", s->name, s->name);
        return;
    }
    const Value *v = call->args[0].value;
    const NameEntry *e = name_find(c, v->name);
    if (!e || e->kind != N_LAYER) {
        if (e) check_error(c, v->loc, "'%s' is a weight; the loss takes the output layer", v->name);
        else unknown_name(c, v, 1, s->loc.line);
        return;
    }
    c->loss_layer = e->index;
}

static int train_number(Check *c, const Arg *a, double lo, double hi, int whole, double *out)
{
    char what[64];
    snprintf(what, sizeof what, "%s", a->key);
    if (whole) {
        long n;
        if (!value_int(c->d, a->value, lo, hi, what, &n)) return 0;
        *out = (double)n;
        return 1;
    }
    return value_real(c->d, a->value, lo, hi, what, out);
}

/* A list of names for messages: "sgd, adam". */
static const char *optimizer_names(Check *c)
{
    const char *list = "";
    for (int i = 0; i < optim_count(); i++)
        list = arena_printf(c->a, "%s%s%s(...)", list, i ? ", " : "", optim_at(i)->name);
    return list;
}

/* optimizer = NAME(lr, KEY = VALUE, ...): sgd(lr=, momentum=, weight_decay=),
 * adam(lr=, beta1=, beta2=, eps=, weight_decay=), ... (optim.c) */
static void check_optimizer(Check *c, const Value *v, Optimizer *o)
{
    if (v->kind != V_NAME && v->kind != V_CALL) {
        check_error(c, v->loc, "optimizer must be one of %s, not %s", optimizer_names(c),
                    value_kind_text(v));
        return;
    }
    const OptimDef *def = optim_find(v->name);
    if (!def) {
        const char *names[16];
        int n = optim_count() < 16 ? optim_count() : 16;
        for (int i = 0; i < n; i++) names[i] = optim_at(i)->name;
        check_error(c, v->loc, "unknown optimizer '%s': use one of %s", v->name, optimizer_names(c));
        const char *sug = closest_name(v->name, names, n);
        if (sug) diag_hint(c->d, "did you mean '%s'?", sug);
        return;
    }
    *o = optim_default(def);
    for (int i = 0; i < v->nargs; i++) {
        const Arg *a = &v->args[i];
        const char *key = a->key ? a->key : (i == 0 ? def->params[0] : NULL);
        if (!key) {
            check_error(c, a->value->loc, "%s takes options by name after lr, e.g. %s(lr=0.1, %s=...)",
                        def->name, def->name, def->params[1]);
            continue;
        }
        int k = optim_param(def, key);
        if (k < 0) {
            const char *list = "";
            for (int j = 0; j < def->nparams; j++)
                list = arena_printf(c->a, "%s%s%s", list, j ? ", " : "", def->params[j]);
            check_error(c, a->key_loc, "unknown option '%s' for %s; it takes %s", key, def->name, list);
            const char *sug = closest_name(key, def->params, def->nparams);
            if (sug) diag_hint(c->d, "did you mean '%s'?", sug);
            continue;
        }
        Arg named = *a;
        named.key = key;
        train_number(c, &named, def->lo[k], def->hi[k], def->whole[k], &o->hp[k]);
    }
}

/* train { KEY = VALUE ; ... } */
static void check_train(Check *c, const Stmt *s)
{
    static const char *const keys[] = { "optimizer", "batch", "epochs", "seed", "shuffle", "schedule" };
    if (c->train_stmt) {
        check_error(c, s->loc, "a second train block (the first is on line %d)",
                    c->train_stmt->loc.line);
        return;
    }
    c->train_stmt = s;
    TrainConfig *t = &c->m->train;
    for (int i = 0; i < s->nentries; i++) {
        const Arg *a = &s->entries[i];
        double v;
        for (int j = 0; j < i; j++)
            if (!strcmp(s->entries[j].key, a->key)) {
                check_error(c, a->key_loc, "%s is set twice in the train block", a->key);
                goto next;
            }
        if (!strcmp(a->key, "optimizer")) check_optimizer(c, a->value, &t->opt);
        else if (!strcmp(a->key, "batch")) {
            if (train_number(c, a, 1, 1 << 20, 1, &v)) t->batch = (int)v;
        } else if (!strcmp(a->key, "epochs")) {
            if (train_number(c, a, 1, 1e6, 1, &v)) t->epochs = (int)v;
        } else if (!strcmp(a->key, "seed")) {
            if (train_number(c, a, 0, 9007199254740992.0, 1, &v)) t->seed = (uint64_t)v;
        } else if (!strcmp(a->key, "shuffle")) {
            if (train_number(c, a, 0, 1, 1, &v)) t->shuffle = (int)v;
        } else if (!strcmp(a->key, "schedule")) {
            schedule_check(c->d, c->a, a->value, &t->schedule);
        } else {
            check_error(c, a->key_loc, "unknown train setting '%s'; the settings are optimizer, "
                        "batch, epochs, seed, shuffle, schedule", a->key);
            const char *sug = closest_name(a->key, keys, 6);
            if (sug) diag_hint(c->d, "did you mean '%s'?", sug);
        }
    next:;
    }
}

/* ---- whole-model checks ---- */

static void check_output_and_loss(Check *c)
{
    Model *m = c->m;
    Loc file = { 0, 0 };
    if (!c->model_stmt) {
        Loc first = { 1, 1 };
        check_error(c, first, "missing `model NAME;`: it must be the first statement");
    }
    if (!c->input_stmt) check_error(c, file, "the model has no input: add `input NAME[size];`");
    if (!c->output_stmt) check_error(c, file, "the model has no output: add `output NAME = OP(...);` "
                                     "or `output NAME;` to mark a layer");
    if (!c->loss_stmt) check_error(c, file, "the model has no loss: add `loss mse(OUTPUT);` "
                                   "(or cross_entropy, bce)");
    if (m->output < 0 || c->loss_layer < 0) return;
    const Layer *out = &m->layers[m->output];
    if (c->loss_layer != m->output) {
        check_error(c, c->loss_stmt->call->args[0].value->loc, "the loss is on '%s', but the "
                    "output layer is '%s'", m->layers[c->loss_layer].name, out->name);
        return;
    }
    for (int i = m->output + 1; i < m->nlayers; i++)
        for (int k = 0; k < m->layers[i].nin; k++)
            if (m->layers[i].in[k] == m->output) {
                check_error(c, m->layers[i].loc, "layer '%s' reads the output layer '%s'; the "
                            "output must be the last layer", m->layers[i].name, out->name);
                return;
            }
    const OpDef *need = loss_output_op(m->loss);
    if (m->loss->fused && !loss_fuses_with(m->loss, out)) {
        check_error(c, c->loss_stmt->call->args[0].value->loc, "%s needs a %s output layer, "
                    "but '%s' is %s", m->loss->name, need ? need->name : "matching", out->name,
                    out->op ? out->op->name : "the input");
        if (need)
            diag_hint(c->d, "end the model with `output p = %s(LAYER);` and put the loss on p",
                      need->name);
    }
}

/* sizeof(NAME_t) of a training build at the model's batch. */
static double state_size(const Model *m)
{
    Build b = { .trains = 1, .real_size = 4, .threads = 1 };
    Plan p;
    StateLayout s;
    plan_make(m, &b, &p);
    state_layout(m, &b, &p, &s);
    double bytes = state_bytes(&s, &b, m->train.batch);
    state_free(&s);
    plan_free(&p);
    return bytes;
}

static void check_memory(Check *c)
{
    Model *m = c->m;
    double bytes = state_size(m);
    if (bytes > 4.0 * (double)LC_MAX_STATE_FLOATS) {
        Loc file = { 0, 0 };
        check_error(c, file, "the model needs about %.1f GiB of state at batch %d; the limit is "
                    "2 GiB (use a smaller batch or smaller layers)", bytes / (1 << 30), m->train.batch);
    }
}

static int by_cname(const void *a, const void *b)
{
    const Weight *x = *(const Weight *const *)a, *y = *(const Weight *const *)b;
    int d = strcmp(x->cname, y->cname);
    return d ? d : (x->offset > y->offset) - (x->offset < y->offset);
}

/* LAYER.W names become LAYER_W in C: two weights must not meet there.
 * Sorted by C name, so that a 10,000-layer model is not 10^8 comparisons. */
static void check_c_names(Check *c)
{
    Model *m = c->m;
    const Weight **w = arena_alloc(c->a, sizeof(Weight *) * (size_t)(m->nweights + 1));
    for (int i = 0; i < m->nweights; i++) w[i] = &m->weights[i];
    qsort(w, (size_t)m->nweights, sizeof *w, by_cname);
    for (int i = 1; i < m->nweights; i++)
        if (!strcmp(w[i]->cname, w[i - 1]->cname))
            check_error(c, w[i]->loc, "weight '%s' and weight '%s' (line %d) both become '%s' "
                        "in C; rename one", w[i]->name, w[i - 1]->name, w[i - 1]->loc.line,
                        w[i]->cname);
}

static void check_warnings(Check *c)
{
    Model *m = c->m;
    for (int i = 1; i < m->nlayers; i++)
        if (!m->layers[i].live)
            diag_warning(c->d, m->layers[i].loc, "layer '%s' does not reach the output '%s'; "
                         "it is not computed", m->layers[i].name, m->layers[m->output].name);
    if (m->nlayers > 0 && !m->layers[0].live)
        diag_warning(c->d, m->layers[0].loc, "the input '%s' does not reach the output",
                     m->layers[0].name);
    for (int i = 0; i < m->nweights; i++)
        if (!m->weights[i].uses)
            diag_warning(c->d, m->weights[i].loc, "weight '%s' is never used", m->weights[i].name);
    check_c_names(c);
}

static void collect_declarations(Check *c, const Program *p)
{
    c->declared = arena_alloc(c->a, sizeof(Declared) * (size_t)(p->nstmts + 1));
    for (int i = 0; i < p->nstmts; i++) {
        const Stmt *s = p->stmts[i];
        int names = s->kind == S_INPUT || s->kind == S_WEIGHT || s->kind == S_LAYER ||
                    (s->kind == S_OUTPUT && s->call);
        if (names && s->name) c->declared[c->ndeclared++] = (Declared){ s->name, s->loc.line };
    }
}

Model *check_program(const Program *p, const Source *src, Diags *d, Arena *a)
{
    Check c;
    memset(&c, 0, sizeof c);
    c.d = d;
    c.a = a;
    c.m = arena_alloc(a, sizeof(Model));
    c.m->src = src;
    c.m->name = "model";
    c.m->output = -1;
    c.m->train = (TrainConfig){ optim_default(NULL), 32, 1, 1, 1, { NULL, { 0 } } };
    c.loss_layer = -1;
    c.failed_layer = -1;
    name_add(&c, "", N_LAYER, -1);   /* allocates the table */
    collect_declarations(&c, p);
    for (int i = 0; i < p->nstmts; i++) {
        const Stmt *s = p->stmts[i];
        switch (s->kind) {
        case S_MODEL: check_model(&c, s, i); break;
        case S_INPUT: check_input(&c, s); break;
        case S_WEIGHT: check_weight_stmt(&c, s); break;
        case S_LAYER:
        case S_OUTPUT: check_layer_stmt(&c, s); break;
        case S_LOSS: check_loss(&c, s); break;
        case S_TRAIN: check_train(&c, s); break;
        }
    }
    check_output_and_loss(&c);
    if (d->nerrors) return NULL;
    model_mark(c.m);
    check_memory(&c);
    check_warnings(&c);
    return d->nerrors ? NULL : c.m;
}

int apply_overrides(Model *m, const TrainOverrides *o, char *err, int errlen)
{
    if (o->opt.def) m->train.opt = o->opt;
    if (o->lr >= 0) {
        if (!(o->lr > 0 && o->lr <= 1e6)) {
            snprintf(err, (size_t)errlen, "--lr must be a positive number");
            return 0;
        }
        m->train.opt.hp[0] = o->lr;
    }
    if (o->batch) {
        if (o->batch < 1 || o->batch > (1 << 20)) {
            snprintf(err, (size_t)errlen, "--batch must be between 1 and %d", 1 << 20);
            return 0;
        }
        m->train.batch = (int)o->batch;
    }
    /* the checker saw the train block's batch and optimizer; these size the state now */
    if ((o->batch || o->opt.def) && state_size(m) > 4.0 * (double)LC_MAX_STATE_FLOATS) {
        if (o->batch)
            snprintf(err, (size_t)errlen, "--batch %ld: the model would need about %.1f GiB of state; "
                     "the limit is 2 GiB", o->batch, state_size(m) / (1 << 30));
        else
            snprintf(err, (size_t)errlen, "--optimizer %s: the model would need about %.1f GiB of state; "
                     "the limit is 2 GiB", o->opt.def->name, state_size(m) / (1 << 30));
        return 0;
    }
    if (o->epochs >= 0) m->train.epochs = (int)o->epochs;
    if (o->seed >= 0) m->train.seed = (uint64_t)o->seed;
    return 1;
}
