/* qrun.c: int8 C run through the JIT (qrun.h). */
#include "qrun.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "jit.h"

static int argmax(const float *v, int n)
{
    int k = 0;
    for (int j = 1; j < n; j++)
        if (v[j] > v[k]) k = j;
    return k;
}

int qrun_evaluate(const Model *m, const QuantOptions *o, const LcData *d, LcMetric metric, QEval *r,
                  char *err, size_t errlen)
{
    QuantOptions jo = *o;
    jo.jit = 1;
    char *code = qemit_source(m, &jo);
    Jit *j = jit_compile(code, 1, err, errlen);
    free(code);
    if (!j) return 0;
    unsigned long (*state_size)(void);
    void (*init)(void *), (*forward)(void *, const int8_t *, int8_t *, int);
    void (*quantize)(const float *, int8_t *, int), (*dequantize)(const int8_t *, float *, int);
    *(void **)&state_size = jit_symbol_named(j, "lc_jit", "state_size", err, errlen);
    *(void **)&quantize = jit_symbol_named(j, "lc_jit", "quantize_input", err, errlen);
    *(void **)&dequantize = jit_symbol_named(j, "lc_jit", "dequantize_output", err, errlen);
    *(void **)&init = jit_symbol_named(j, m->name, "init", err, errlen);
    *(void **)&forward = jit_symbol_named(j, m->name, "forward", err, errlen);
    if (!state_size || !quantize || !dequantize || !init || !forward) {
        jit_free(j);
        return 0;
    }
    void *state = xcalloc(1, state_size());
    int in = d->in, out = (int)m->layers[m->output].size;
    int8_t *qx = xmalloc((size_t)in), *qy = xmalloc((size_t)out);
    float *y = xmalloc(sizeof(float) * (size_t)out);
    memset(r, 0, sizeof *r);
    init(state);
    double se = 0;
    for (int s = 0; s < d->n; s++) {
        quantize(d->x + (size_t)s * (size_t)in, qx, 1);
        forward(state, qx, qy, 1);
        dequantize(qy, y, 1);
        const float *t = d->y ? d->y + (size_t)s * (size_t)d->out : NULL;
        int right = 0;
        if (metric == LC_METRIC_ARGMAX && d->label) right = argmax(y, out) == d->label[s];
        else if (metric == LC_METRIC_ARGMAX && t) right = argmax(y, out) == argmax(t, out);
        else if (t) {
            right = 1;
            for (int k = 0; k < out; k++) right &= (y[k] > 0.5f) == (t[k] > 0.5f);
        }
        for (int k = 0; t && k < out; k++) se += (double)(y[k] - t[k]) * (double)(y[k] - t[k]);
        r->correct += right;
        r->n++;
    }
    r->accuracy = r->n ? (double)r->correct / (double)r->n : 0;
    r->mse = r->n ? se / ((double)r->n * out) : 0;
    free(qx), free(qy), free(y), free(state);
    jit_free(j);
    return 1;
}
