/* values.h: the constant values of a model file, checked: whole numbers,
 * reals, shapes and initializers.  Each reports its own problem (at the
 * value's location) and returns 0 when the value does not fit. */
#ifndef LC_VALUES_H
#define LC_VALUES_H

#include "arena.h"
#include "ast.h"
#include "ir.h"

/* "a number", "a name", ...: what a value is, for messages. */
const char *value_kind_text(const Value *v);
/* A whole number in [lo, hi]; `what` names it in messages ("units of dense"). */
int value_int(Diags *diags, const Value *v, double lo, double hi, const char *what, long *out);
int value_real(Diags *diags, const Value *v, double lo, double hi, const char *what, double *out);
/* [d1, d2, ...]: positive whole dimensions, at most LC_MAX_RANK, and a total
 * under the state limit (checked as it multiplies, so nothing wraps around). */
int value_shape(Diags *diags, const Value *v, const char *what, Shape *s);
/* zeros | ones | xavier | he | constant(v) | uniform(a, b) | normal(m, s), or a
 * nested literal of exactly `shape` (only where shape is given: declared weights).
 * Every value must round to a finite float (constant(1e39) is refused). */
int value_init(Diags *diags, Arena *arena, const Value *v, const Shape *shape, const char *what, Init *init);

#endif
