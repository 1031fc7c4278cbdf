/* threads_aot.c: trains a generated model for a few steps and writes its
 * parameters, for tests/t_threads.sh to compare the C that `layerc
 * --threads N -o m.c` writes with the C it writes without threads.
 *
 *   cc -DMODEL=mix -DHEADER='"mix.h"' -I DIR tests/c/threads_aot.c DIR/mix.c -lm
 *   ./a.out STEPS OUT
 *
 * The batches are pseudo-random inputs in [0, 1) with one-hot truth (the
 * models of the test end in softmax + cross_entropy); OUT gets one block:
 * the number of parameters (uint32) and the parameters (floats), then a
 * second block with the outputs of a forward pass over the last batch. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include HEADER

#define CAT_(a, b) a##b
#define CAT(a, b) CAT_(a, b)
#define M_(x) CAT(MODEL, x)

static uint64_t rng = 2024;
static double unit(void)
{
    uint64_t z = (rng += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return (double)((z ^ (z >> 31)) >> 11) / 9007199254740992.0;
}

static int block(FILE *f, const float *v, uint32_t n)
{
    return fwrite(&n, sizeof n, 1, f) == 1 && fwrite(v, sizeof *v, n, f) == n;
}

int main(int argc, char **argv)
{
    static M_(_t) m;
    static float x[M_(_BATCH) * M_(_IN)], t[M_(_BATCH) * M_(_OUT)], y[M_(_BATCH) * M_(_OUT)];
    int steps = argc > 2 ? atoi(argv[1]) : 0, s, i;
    FILE *f;
    if (argc != 3 || steps < 1) {
        fprintf(stderr, "usage: %s STEPS OUT\n", argv[0]);
        return 2;
    }
    M_(_init)(&m, 5);
    for (s = 0; s < steps; s++) {
        for (i = 0; i < M_(_BATCH) * M_(_IN); i++) x[i] = (float)unit();
        for (i = 0; i < M_(_BATCH) * M_(_OUT); i++) t[i] = 0;
        for (i = 0; i < M_(_BATCH); i++) t[i * M_(_OUT) + (int)(unit() * M_(_OUT))] = 1;
        M_(_train_step)(&m, x, t, M_(_BATCH));
    }
    M_(_forward)(&m, x, y, M_(_BATCH));
    f = fopen(argv[2], "wb");
    if (!f || !block(f, m.params, M_(_NPARAMS)) || !block(f, y, M_(_BATCH) * M_(_OUT)) || fclose(f)) {
        fprintf(stderr, "cannot write %s\n", argv[2]);
        return 1;
    }
    return 0;
}
