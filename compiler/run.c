/* run.c: models compiled in memory and run (see run.h). */
#include "run.h"

#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "emit.h"
#include "loss.h"

LcMetric model_metric(const Model *m)
{
    return m->loss->metric == METRIC_ARGMAX ? LC_METRIC_ARGMAX
         : m->loss->metric == METRIC_THRESHOLD ? LC_METRIC_THRESHOLD : LC_METRIC_NONE;
}

int run_model_open(RunModel *r, const Model *m, const char *source_name, char *err, size_t errlen)
{
    return run_model_open_fake(r, m, source_name, NULL, err, errlen);
}

int run_model_open_fake(RunModel *r, const Model *m, const char *source_name, const FakeQuant *fake,
                        char *err, size_t errlen)
{
    EmitOptions o = { .jit = 1, .source_name = source_name, .fake = fake };
    memset(r, 0, sizeof *r);
    char *code = emit_source(m, &o);
    r->jit = jit_compile(code, 1, err, errlen);
    free(code);
    if (!r->jit) return 0;
    const char *N = m->name;
    unsigned long (*state_size)(void);
    float *(*params)(void *), *(*grads)(void *), *(*output)(void *);
    LcNet *net = &r->net;
    *(void **)&state_size = jit_symbol_named(r->jit, "lc_jit", "state_size", err, errlen);
    *(void **)&params = jit_symbol_named(r->jit, "lc_jit", "params", err, errlen);
    *(void **)&output = jit_symbol_named(r->jit, "lc_jit", "output", err, errlen);
    *(void **)&grads = jit_symbol_named(r->jit, "lc_jit", "grads", err, errlen);
    *(void **)&net->forward_train = jit_symbol_named(r->jit, "lc_jit", "forward_train", err, errlen);
    *(void **)&net->backward = jit_symbol_named(r->jit, N, "backward", err, errlen);
    *(void **)&net->update = jit_symbol_named(r->jit, N, "update", err, errlen);
    *(void **)&net->set_rng = jit_symbol_named(r->jit, "lc_jit", "set_rng", err, errlen);
    *(void **)&net->nonfinite_layer = jit_symbol(r->jit, "lc_jit_nonfinite_layer");   /* optional */
    if (m->train.schedule.def) *(void **)&net->set_epoch = jit_symbol_named(r->jit, N, "set_epoch", err, errlen);
    *(void **)&net->init = jit_symbol_named(r->jit, N, "init", err, errlen);
    *(void **)&net->forward = jit_symbol_named(r->jit, N, "forward", err, errlen);
    *(void **)&net->loss = jit_symbol_named(r->jit, N, "loss", err, errlen);
    *(void **)&net->train_step = jit_symbol_named(r->jit, N, "train_step", err, errlen);
    if (!state_size || !params || !grads || !output || !net->init || !net->forward || !net->loss ||
        !net->train_step || !net->forward_train || !net->backward || !net->update ||
        (m->train.schedule.def && !net->set_epoch)) {
        run_model_close(r);
        return 0;
    }
    net->state = calloc(1, state_size());
    if (!net->state) {
        snprintf(err, errlen, "the model's state (%lu bytes) does not fit in memory", state_size());
        run_model_close(r);
        return 0;
    }
    net->in = (int)m->layers[0].size;
    net->out = (int)m->layers[m->output].size;
    net->batch = m->train.batch;
    net->metric = model_metric(m);
    net->nparams = m->nparams;
    net->ngrads = m->ntrainable;
    net->params = params(net->state);
    net->grads = grads(net->state);
    net->output = output(net->state);
    net->init(net->state, m->train.seed);
    r->tensors = model_tensor_table(m);
    r->ntensors = m->nweights;
    return 1;
}

void run_model_close(RunModel *r)
{
    free(r->net.state);
    free(r->tensors);
    jit_free(r->jit);
    memset(r, 0, sizeof *r);
}
