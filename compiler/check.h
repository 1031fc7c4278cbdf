/* check.h: syntax tree -> checked model (names resolved, shapes inferred).
 * Every problem becomes a diagnostic; the model is returned only when there
 * are no errors. */
#ifndef LC_CHECK_H
#define LC_CHECK_H

#include "arena.h"
#include "ast.h"
#include "ir.h"

Model *check_program(const Program *p, const Source *src, Diags *d, Arena *a);

/* Overrides from the command line, applied after the train block. */
typedef struct {
    double lr;      /* < 0: keep */
    long batch;     /* 0: keep */
    long epochs;    /* < 0: keep */
    int64_t seed;   /* < 0: keep */
    Optimizer opt;  /* --optimizer; def NULL: keep */
} TrainOverrides;

/* Returns 0 (with a message in err) when a value is out of range. */
int apply_overrides(Model *m, const TrainOverrides *o, char *err, int errlen);

#endif
