/* schedule.h: learning-rate schedules of the train block (`schedule =
 * step(every=N, gamma=g)` or `cosine(epochs=N, min_lr=0)`), one descriptor
 * each in schedule.c, with the arithmetic of torch.optim.lr_scheduler
 * (StepLR, CosineAnnealingLR) stepped once per epoch.
 *
 * A training build of a model with a schedule gets
 *     void NAME_set_epoch(NAME_t *m, int epoch);
 * which sets m->lr to the rate of epoch `epoch` (0 = the first) from the
 * train block's lr; `layerc train` calls it before every epoch, and AOT
 * users call it themselves. */
#ifndef LC_SCHEDULE_H
#define LC_SCHEDULE_H

#include "ast.h"
#include "ir.h"

typedef struct Emit Emit;

struct ScheduleDef {
    const char *name;                      /* "step" */
    const char *doc;
    const char *params[LC_MAX_SCHED_PARAMS];
    double defaults[LC_MAX_SCHED_PARAMS], lo[LC_MAX_SCHED_PARAMS], hi[LC_MAX_SCHED_PARAMS];
    int required[LC_MAX_SCHED_PARAMS];     /* no default */
    int whole[LC_MAX_SCHED_PARAMS];        /* a whole number */
    int nparams;
    /* the statement of NAME_set_epoch that sets m->lr from `epoch`, lr0 the base rate */
    void (*emit)(Emit *e, const Schedule *s, double lr0);
};

/* schedule = NAME(KEY = VALUE, ...): checks v against the table (unknown
 * kinds and options, missing ones, ranges), reporting to d; 1 when *s is set. */
int schedule_check(Diags *d, Arena *a, const Value *v, Schedule *s);
/* "step(every=10, gamma=0.5)", for messages and train's header line. */
const char *schedule_text(const Schedule *s, Arena *a);
/* The body of NAME_set_epoch. */
void schedule_emit(Emit *e, const Schedule *s, double lr0);

#endif
