/* schedule.c: step and cosine learning-rate schedules (schedule.h). */
#include "schedule.h"

#include <string.h>

#include "emit.h"
#include "values.h"

enum { EVERY, GAMMA };
enum { EPOCHS, MIN_LR };

/* StepLR: lr0 gamma^floor(epoch / every) */
static void step_emit(Emit *e, const Schedule *s, double lr0)
{
    emitf(e, "    m->lr = %.17g * pow(%.17g, (double)(epoch / %d));\n", lr0, s->hp[GAMMA],
          (int)s->hp[EVERY]);
}

/* CosineAnnealingLR's closed form: min_lr + (lr0 - min_lr) (1 + cos(pi epoch / epochs)) / 2;
 * past `epochs` it rises again, as torch's does */
static void cosine_emit(Emit *e, const Schedule *s, double lr0)
{
    emitf(e, "    m->lr = %.17g + %.17g * (1 + cos(3.14159265358979323846 * epoch / %d)) / 2;\n",
          s->hp[MIN_LR], lr0 - s->hp[MIN_LR], (int)s->hp[EPOCHS]);
}

static const ScheduleDef schedules[] = {
    { "step", "as torch.optim.lr_scheduler.StepLR(step_size=every, gamma)",
      { "every", "gamma" }, { 0, 0.1 }, { 1, 0 }, { 1e6, 1e6 }, { 1, 0 }, { 1, 0 }, 2, step_emit },
    { "cosine", "as torch.optim.lr_scheduler.CosineAnnealingLR(T_max=epochs, eta_min=min_lr)",
      { "epochs", "min_lr" }, { 0, 0 }, { 1, 0 }, { 1e6, 1e6 }, { 1, 0 }, { 1, 0 }, 2, cosine_emit },
};
#define NSCHEDULES ((int)(sizeof schedules / sizeof schedules[0]))

static const char *kinds(Arena *a)
{
    const char *list = "";
    for (int i = 0; i < NSCHEDULES; i++) {
        const ScheduleDef *d = &schedules[i];
        list = arena_printf(a, "%s%s%s(", list, i ? ", " : "", d->name);
        for (int k = 0; k < d->nparams; k++)
            list = arena_printf(a, "%s%s%s=...", list, k ? ", " : "", d->params[k]);
        list = arena_printf(a, "%s)", list);
    }
    return list;
}

int schedule_check(Diags *d, Arena *a, const Value *v, Schedule *s)
{
    if (v->kind != V_NAME && v->kind != V_CALL) {
        diag_error(d, v->loc, "schedule must be one of %s, not %s", kinds(a), value_kind_text(v));
        return 0;
    }
    const ScheduleDef *def = NULL;
    const char *names[NSCHEDULES];
    for (int i = 0; i < NSCHEDULES; i++) {
        names[i] = schedules[i].name;
        if (!strcmp(schedules[i].name, v->name)) def = &schedules[i];
    }
    if (!def) {
        diag_error(d, v->loc, "unknown schedule '%s': use %s", v->name, kinds(a));
        const char *sug = closest_name(v->name, names, NSCHEDULES);
        if (sug) diag_hint(d, "did you mean '%s'?", sug);
        return 0;
    }
    int ok = 1, given[LC_MAX_SCHED_PARAMS] = { 0 };
    memset(s, 0, sizeof *s);
    s->def = def;
    for (int k = 0; k < def->nparams; k++) s->hp[k] = def->defaults[k];
    for (int i = 0; i < v->nargs; i++) {
        const Arg *arg = &v->args[i];
        const char *key = arg->key ? arg->key : i < def->nparams ? def->params[i] : NULL;
        int k = -1;
        for (int j = 0; key && j < def->nparams; j++)
            if (!strcmp(def->params[j], key)) k = j;
        if (!key) {
            diag_error(d, arg->value->loc, "%s takes %d options", def->name, def->nparams);
            ok = 0;
            continue;
        }
        if (k < 0) {
            const char *list = "";
            for (int j = 0; j < def->nparams; j++)
                list = arena_printf(a, "%s%s%s", list, j ? ", " : "", def->params[j]);
            diag_error(d, arg->key_loc, "unknown option '%s' for schedule %s; it takes %s", key,
                       def->name, list);
            const char *sug = closest_name(key, def->params, def->nparams);
            if (sug) diag_hint(d, "did you mean '%s'?", sug);
            ok = 0;
            continue;
        }
        if (given[k]) {
            diag_error(d, arg->key_loc, "%s is given twice", key);
            ok = 0;
            continue;
        }
        given[k] = 1;
        const char *what = arena_printf(a, "%s of schedule %s", key, def->name);
        if (def->whole[k]) {
            long n;
            if (value_int(d, arg->value, def->lo[k], def->hi[k], what, &n)) s->hp[k] = (double)n;
            else ok = 0;
        } else if (!value_real(d, arg->value, def->lo[k], def->hi[k], what, &s->hp[k])) {
            ok = 0;
        }
    }
    for (int k = 0; k < def->nparams; k++)
        if (def->required[k] && !given[k]) {
            diag_error(d, v->loc, "schedule %s needs %s=...", def->name, def->params[k]);
            ok = 0;
        }
    if (!ok) memset(s, 0, sizeof *s);
    return ok;
}

const char *schedule_text(const Schedule *s, Arena *a)
{
    const char *t = arena_printf(a, "%s(", s->def->name);
    for (int k = 0; k < s->def->nparams; k++)
        t = arena_printf(a, "%s%s%s=%g", t, k ? ", " : "", s->def->params[k], s->hp[k]);
    return arena_printf(a, "%s)", t);
}

void schedule_emit(Emit *e, const Schedule *s, double lr0)
{
    s->def->emit(e, s, lr0);
}
