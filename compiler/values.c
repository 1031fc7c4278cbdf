/* values.c: constant values of a model file, checked (see values.h). */
#include "values.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

const char *value_kind_text(const Value *v)
{
    switch (v->kind) {
    case V_NUM: return "a number";
    case V_NAME: return "a name";
    case V_STR: return "a string";
    case V_CALL: return "a call";
    case V_LIST: return "a list";
    }
    return "a value";
}

/* A whole number in [lo, hi]; what = "units of dense" etc. */
int value_int(Diags *diags, const Value *v, double lo, double hi, const char *what, long *out)
{
    if (v->kind != V_NUM) {
        diag_error(diags, v->loc, "%s must be a number, not %s", what, value_kind_text(v));
        return 0;
    }
    if (v->num != floor(v->num)) {
        diag_error(diags, v->loc, "%s must be a whole number, not %g", what, v->num);
        return 0;
    }
    if (v->num < lo || v->num > hi) {
        if (hi >= 1e9)
            diag_error(diags, v->loc, "%s must be at least %.0f, not %g", what, lo, v->num);
        else
            diag_error(diags, v->loc, "%s must be between %.0f and %.0f, not %g", what, lo, hi, v->num);
        return 0;
    }
    *out = (long)v->num;
    return 1;
}

int value_real(Diags *diags, const Value *v, double lo, double hi, const char *what, double *out)
{
    if (v->kind != V_NUM) {
        diag_error(diags, v->loc, "%s must be a number, not %s", what, value_kind_text(v));
        return 0;
    }
    if (!(v->num >= lo && v->num <= hi)) {
        diag_error(diags, v->loc, "%s must be between %g and %g, not %g", what, lo, hi, v->num);
        return 0;
    }
    *out = v->num;
    return 1;
}

/* [d1, d2, ...]: positive whole dimensions, at most LC_MAX_RANK, and a total
 * under the state limit (checked as it multiplies, so nothing wraps around). */
int value_shape(Diags *diags, const Value *v, const char *what, Shape *s)
{
    if (v->kind != V_LIST) {
        diag_error(diags, v->loc, "%s must be a shape such as [3] or [1, 28, 28], not %s",
                    what, value_kind_text(v));
        return 0;
    }
    if (v->nitems == 0) {
        diag_error(diags, v->loc, "%s has no dimensions: write at least one, as in [3]", what);
        return 0;
    }
    if (v->nitems > LC_MAX_RANK) {
        diag_error(diags, v->loc, "%s has %d dimensions; the limit is %d", what, v->nitems, LC_MAX_RANK);
        return 0;
    }
    s->rank = v->nitems;
    long total = 1;
    for (int i = 0; i < v->nitems; i++) {
        const Value *d = v->items[i];
        long n;
        if (d->kind == V_NUM && d->num < 1 && d->num == floor(d->num)) {
            diag_error(diags, d->loc, "dimension %d of %s is %g: sizes must be positive", i + 1,
                        what, d->num);
            return 0;
        }
        if (d->kind == V_NUM && d->num > LC_MAX_STATE_FLOATS && d->num == floor(d->num)) {
            diag_error(diags, d->loc, "dimension %d of %s is %.0f: over the limit of %ld elements "
                        "per tensor", i + 1, what, d->num, LC_MAX_STATE_FLOATS);
            return 0;
        }
        if (!value_int(diags, d, 1, LC_MAX_STATE_FLOATS, "a dimension", &n)) return 0;
        s->dims[i] = n;
        if (total > LC_MAX_STATE_FLOATS / n) {
            diag_error(diags, v->loc, "%s is too large: over %ld elements (2 GiB of floats), "
                        "the limit of one tensor", what, LC_MAX_STATE_FLOATS);
            return 0;
        }
        total *= n;
    }
    return 1;
}

/* ---- initializers ---- */

static const char *const init_names[] = { "zeros", "ones", "constant", "uniform", "normal",
                                          "xavier", "he" };

/* Counts a nested literal's shape into s, or reports where it is ragged. */
static int literal_shape(Diags *diags, const Value *v, Shape *s, int depth)
{
    if (v->kind == V_NUM) {
        s->rank = depth;
        return 1;
    }
    if (v->kind != V_LIST) {
        diag_error(diags, v->loc, "an initializer list holds numbers or lists, not %s", value_kind_text(v));
        return 0;
    }
    if (depth >= LC_MAX_RANK) {
        diag_error(diags, v->loc, "initializer nested more than %d deep", LC_MAX_RANK);
        return 0;
    }
    if (v->nitems == 0) {
        diag_error(diags, v->loc, "empty list in an initializer");
        return 0;
    }
    s->dims[depth] = v->nitems;
    Shape first = { 0, { 0 } };
    for (int i = 0; i < v->nitems; i++) {
        Shape sub = *s;
        if (!literal_shape(diags, v->items[i], &sub, depth + 1)) return 0;
        if (i == 0) first = sub;
        else if (sub.rank != first.rank ||
                 memcmp(sub.dims + depth + 1, first.dims + depth + 1,
                        sizeof(long) * (size_t)(sub.rank - depth - 1))) {
            diag_error(diags, v->items[i]->loc, "ragged initializer: this row differs in shape "
                        "from the first one");
            return 0;
        }
    }
    *s = first;
    s->dims[depth] = v->nitems;
    return 1;
}

/* The smallest magnitude that rounds to infinity as a float (the midpoint
 * between FLT_MAX and 2^128 rounds to even, which is 2^128). */
#define FLOAT_OVERFLOW 0x1.ffffffp127

/* A weight's values are floats: a number that is no float (1e39, an
 * expression that overflowed to inf) is refused where it is written. */
static int float_value(Diags *diags, Loc loc, double v, const char *what)
{
    if (fabs(v) < FLOAT_OVERFLOW) return 1;
    if (isnan(v)) diag_error(diags, loc, "%s is not a number (nan)", what);
    else diag_error(diags, loc, "%s is %g, out of the float range (at most %g in magnitude)", what, v,
                    (double)FLT_MAX);
    return 0;
}

static int literal_in_range(Diags *diags, const Value *v)
{
    if (v->kind == V_NUM) return float_value(diags, v->loc, v->num, "this initializer value");
    int ok = 1;
    for (int i = 0; i < v->nitems && ok; i++) ok = literal_in_range(diags, v->items[i]);
    return ok;
}

static void literal_values(const Value *v, double *out, long *k)
{
    if (v->kind == V_NUM) {
        out[(*k)++] = v->num;
        return;
    }
    for (int i = 0; i < v->nitems; i++) literal_values(v->items[i], out, k);
}

static int call_numbers(Diags *diags, const Value *v, int want, double *out)
{
    int n = 0;
    for (int i = 0; i < v->nargs; i++) {
        if (v->args[i].key) {
            diag_error(diags, v->args[i].key_loc, "%s takes plain numbers, not options", v->name);
            return 0;
        }
        if (v->args[i].value->kind != V_NUM) {
            diag_error(diags, v->args[i].value->loc, "%s takes numbers, not %s", v->name,
                        value_kind_text(v->args[i].value));
            return 0;
        }
        if (n < want) out[n] = v->args[i].value->num;
        n++;
    }
    if (n != want) {
        diag_error(diags, v->loc, "%s takes %d argument%s, not %d", v->name, want,
                    want == 1 ? "" : "s", n);
        return 0;
    }
    return 1;
}

/* INIT: zeros | ones | xavier | he | constant(v) | uniform(a, b) | normal(m, s)
 *       | nested literal (only where `shape` is given, i.e. declared weights) */
int value_init(Diags *diags, Arena *arena, const Value *v, const Shape *shape, const char *what,
               Init *init)
{
    const char *name = v->name;
    double a[2];
    if (v->kind == V_LIST) {
        Shape s = { 0, { 0 } };
        char sa[64], sb[64];
        if (!shape) {
            diag_error(diags, v->loc, "a literal initializer needs a declared weight; "
                        "use `weight NAME[...] = [...]` and linear()");
            return 0;
        }
        if (!literal_shape(diags, v, &s, 0)) return 0;
        if (s.rank != shape->rank || memcmp(s.dims, shape->dims, sizeof(long) * (size_t)s.rank)) {
            diag_error(diags, v->loc, "initializer shape mismatch: the literal is %s but %s is "
                        "declared %s", shape_str(&s, sa, sizeof sa), what,
                        shape_str(shape, sb, sizeof sb));
            return 0;
        }
        if (!literal_in_range(diags, v)) return 0;
        double *vals = arena_alloc(arena, sizeof(double) * (size_t)shape_size(shape));
        long k = 0;
        literal_values(v, vals, &k);
        *init = (Init){ INIT_LITERAL, 0, 0, vals };
        return 1;
    }
    if (v->kind != V_NAME && v->kind != V_CALL) {
        diag_error(diags, v->loc, "expected an initializer (zeros, ones, constant(v), uniform(a, b), "
                    "normal(mean, std), xavier, he%s), not %s", shape ? " or a list" : "",
                    value_kind_text(v));
        return 0;
    }
    int call = v->kind == V_CALL;
    if (!strcmp(name, "zeros") || !strcmp(name, "ones") || !strcmp(name, "xavier") ||
        !strcmp(name, "he")) {
        if (call) {
            diag_error(diags, v->loc, "%s takes no arguments: write `%s`", name, name);
            return 0;
        }
        init->kind = name[0] == 'z' ? INIT_ZEROS : name[0] == 'o' ? INIT_ONES
                   : name[0] == 'x' ? INIT_XAVIER : INIT_HE;
        return 1;
    }
    int want = !strcmp(name, "constant") ? 1 : !strcmp(name, "uniform") || !strcmp(name, "normal") ? 2 : 0;
    if (!want) {
        diag_error(diags, v->loc, "unknown initializer '%s'", name);
        const char *s = closest_name(name, init_names, (int)(sizeof init_names / sizeof *init_names));
        if (s) diag_hint(diags, "did you mean '%s'?", s);
        return 0;
    }
    if (!call) {
        diag_error(diags, v->loc, "%s needs arguments: %s", name,
                    want == 1 ? "constant(v)" : name[0] == 'u' ? "uniform(a, b)" : "normal(mean, std)");
        return 0;
    }
    if (!call_numbers(diags, v, want, a)) return 0;
    for (int i = 0; i < want; i++)
        if (!float_value(diags, v->args[i].value->loc, a[i], "this argument")) return 0;
    if (want == 1) *init = (Init){ INIT_CONSTANT, a[0], 0, NULL };
    else if (name[0] == 'u') {
        if (!(a[0] < a[1])) {
            diag_error(diags, v->loc, "uniform(a, b) needs a < b, not a = %g, b = %g", a[0], a[1]);
            return 0;
        }
        *init = (Init){ INIT_UNIFORM, a[0], a[1], NULL };
    } else {
        if (a[1] < 0) {
            diag_error(diags, v->loc, "normal(mean, std) needs std >= 0, not %g", a[1]);
            return 0;
        }
        /* Box-Muller from 53-bit uniforms stays within 8.6 std of the mean */
        if (fabs(a[0]) + 9 * a[1] >= FLOAT_OVERFLOW) {
            diag_error(diags, v->loc, "normal(%g, %g) would draw values out of the float range", a[0], a[1]);
            return 0;
        }
        *init = (Init){ INIT_NORMAL, a[0], a[1], NULL };
    }
    return 1;
}
