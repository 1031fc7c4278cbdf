/* driver.c: runs one layerc-generated model through its public API (SPEC §3)
 * for tests/torch/verify.py.  Built as
 *     gcc -std=c99 -O2 -DMODEL=name -DHDR='"m.h"' driver.c m.c -lm
 * usage: driver IN.bin OUT.bin SEED STEPS   (STEPS < 0: print the table only)
 * IN.bin:  int32 n, int32 has_params, float x[n][IN], float truth[n][OUT],
 *          float params[NPARAMS] when has_params (else NAME_init's values).
 * stdout (STEPS < 0): "NPARAMS IN OUT BATCH NTENSORS", then per NAME_params row:
 *          name offset size trainable rank dims...
 * OUT.bin: float32, in this order:
 *          params after init (and has_params)            [NPARAMS]
 *          forward of the n samples at once              [n * OUT]
 *          forward of each sample alone                  [n * OUT]
 *          loss of the batch forward                     [1]
 *          grads after backward, in params' layout       [NPARAMS]
 *          per train_step: its loss [1], grads [NPARAMS], params [NPARAMS]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include HDR

#define CAT_(a, b) a##b
#define CAT(a, b) CAT_(a, b)
#define F(s) CAT(MODEL, s)

static F(_t) m;

static void put(FILE *f, const float *p, size_t n)
{
    if (fwrite(p, sizeof(float), n, f) != n) { perror("write"); exit(3); }
}

/* grads[] holds the trainable weights only: written in params[]'s layout,
 * 0 for the others, so that the harness reads both the same way */
static void put_grads(FILE *f)
{
    static float g[F(_NPARAMS) + 1];
    memset(g, 0, sizeof g);
    for (int i = 0; i < F(_nparam_tensors); i++)
        if (F(_params)[i].grad_offset >= 0)
            memcpy(g + F(_params)[i].offset, m.grads + F(_params)[i].grad_offset,
                   sizeof(float) * (size_t)F(_params)[i].size);
    put(f, g, F(_NPARAMS));
}

static void table(void)
{
    printf("%d %d %d %d %d\n", F(_NPARAMS), F(_IN), F(_OUT), F(_BATCH), F(_nparam_tensors));
    for (int i = 0; i < F(_nparam_tensors); i++) {
        printf("%s %d %d %d %d", F(_params)[i].name, F(_params)[i].offset, F(_params)[i].size,
               F(_params)[i].trainable, F(_params)[i].rank);
        for (int d = 0; d < F(_params)[i].rank; d++) printf(" %d", F(_params)[i].dims[d]);
        printf("\n");
    }
}

static void get(FILE *f, void *p, size_t size, size_t n)
{
    if (fread(p, size, n, f) != n) { fputs("driver: short input\n", stderr); exit(3); }
}

int main(int argc, char **argv)
{
    if (argc != 5) { fputs("usage: driver IN.bin OUT.bin SEED STEPS\n", stderr); return 2; }
    int steps = atoi(argv[4]);
    if (steps < 0) { table(); return 0; }
    FILE *in = fopen(argv[1], "rb"), *out = fopen(argv[2], "wb");
    if (!in || !out) { perror("driver"); return 3; }
    int n, has_params;
    get(in, &n, sizeof n, 1);
    get(in, &has_params, sizeof has_params, 1);
    if (n < 1 || n > F(_BATCH)) { fprintf(stderr, "driver: n = %d, BATCH = %d\n", n, F(_BATCH)); return 3; }
    float *x = malloc(sizeof(float) * (size_t)n * F(_IN));
    float *t = malloc(sizeof(float) * (size_t)n * F(_OUT));
    float *y = malloc(sizeof(float) * (size_t)n * F(_OUT));
    get(in, x, sizeof(float), (size_t)n * F(_IN));
    get(in, t, sizeof(float), (size_t)n * F(_OUT));

    F(_init)(&m, strtoull(argv[3], NULL, 10));
    if (has_params) get(in, m.params, sizeof(float), F(_NPARAMS));
    fclose(in);


    put(out, m.params, F(_NPARAMS));
    F(_forward)(&m, x, y, n);
    float loss = F(_loss)(&m, t, n);
    F(_backward)(&m, t, n);
    put(out, y, (size_t)n * F(_OUT));
    for (int b = 0; b < n; b++)
        F(_forward)(&m, x + (size_t)b * F(_IN), y + (size_t)b * F(_OUT), 1);
    put(out, y, (size_t)n * F(_OUT));
    put(out, &loss, 1);
    put_grads(out);
    for (int s = 0; s < steps; s++) {
        loss = F(_train_step)(&m, x, t, n);
        put(out, &loss, 1);
        put_grads(out);
        put(out, m.params, F(_NPARAMS));
    }
    if (fclose(out) != 0) { perror("driver"); return 3; }
    free(x), free(t), free(y);
    return 0;
}
