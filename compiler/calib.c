/* calib.c: layer output ranges over calibration data (calib.h). */
#include "calib.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "emit.h"
#include "jit.h"

static void widen(double *lo, double *hi, const float *v, long n, int *first)
{
    for (long i = 0; i < n; i++) {
        if (!isfinite(v[i])) {
            *lo = NAN, *first = 0;
            continue;
        }
        if (*first || v[i] < *lo) *lo = v[i];
        if (*first || v[i] > *hi) *hi = v[i];
        *first = 0;
    }
}

int calib_ranges(const Model *m, const float *params, const float *x, int n, const char *source_name,
                 double *lo, double *hi, char *err, size_t errlen)
{
    EmitOptions eo = { .jit = 1, .inference = 1, .keep_all = 1, .source_name = source_name };
    char *code = emit_source(m, &eo);
    Jit *j = jit_compile(code, 1, err, errlen);
    free(code);
    if (!j) return 0;
    const char *N = m->name;
    unsigned long (*state_size)(void);
    float *(*params_of)(void *), *(*layer_out)(void *, int);
    void (*init)(void *, uint64_t), (*forward)(void *, const float *, float *, int);
    *(void **)&state_size = jit_symbol_named(j, "lc_jit", "state_size", err, errlen);
    *(void **)&params_of = jit_symbol_named(j, "lc_jit", "params", err, errlen);
    *(void **)&layer_out = jit_symbol_named(j, "lc_jit", "layer_out", err, errlen);
    *(void **)&init = jit_symbol_named(j, N, "init", err, errlen);
    *(void **)&forward = jit_symbol_named(j, N, "forward", err, errlen);
    void *state = NULL;
    int ok = 0;
    if (!state_size || !params_of || !layer_out || !init || !forward) goto done;
    state = calloc(1, state_size());
    if (!state) {
        snprintf(err, errlen, "the model's state (%lu bytes) does not fit in memory", state_size());
        goto done;
    }
    init(state, m->train.seed);
    memcpy(params_of(state), params, sizeof(float) * (size_t)m->nparams);
    int *first = xmalloc(sizeof(int) * (size_t)m->nlayers);
    for (int i = 0; i < m->nlayers; i++) lo[i] = hi[i] = 0, first[i] = 1;
    long in = m->layers[0].size;
    widen(&lo[0], &hi[0], x, in * n, &first[0]);
    int batch = m->train.batch > 0 ? m->train.batch : 1;
    for (int s = 0; s < n; s += batch) {
        int c = n - s < batch ? n - s : batch;
        forward(state, x + (size_t)s * (size_t)in, NULL, c);
        for (int i = 1; i < m->nlayers; i++) {
            const float *v = m->layers[i].live ? layer_out(state, i) : NULL;
            if (v) widen(&lo[i], &hi[i], v, m->layers[i].size * c, &first[i]);
        }
    }
    free(first);
    ok = 1;
    for (int i = 0; i < m->nlayers && ok; i++)
        if (!isfinite(lo[i]) || !isfinite(hi[i])) {
            snprintf(err, errlen, "layer '%s' takes values that are not finite over the calibration data",
                     m->layers[i].name);
            ok = 0;
        }
done:
    free(state);
    jit_free(j);
    return ok;
}
