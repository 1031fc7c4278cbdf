/* bench/train_aot.c: training speed of a model compiled ahead of time.
 *
 * Built against the C that `layerc MODEL.lyr -o m.c` writes, for one model
 * named by -DMODEL=NAME, with the header forced in (-DHEADER='"m.h"'):
 *
 *   layerc samples/fashion_mlp.lyr -o build/bench/fashion_mlp.c
 *   gcc -O3 -march=native [-fopenmp] -DMODEL=fashion_mlp \
 *       -DHEADER='"fashion_mlp.h"' -Ibuild/bench bench/train_aot.c \
 *       build/bench/fashion_mlp.c -lz -lm -o build/bench/aot_fashion_mlp
 *
 * Usage: aot_NAME train IMAGES.idx.gz LABELS.idx.gz STEPS REPEATS
 *        aot_NAME train IMAGES.idx.gz input STEPS REPEATS   (the target is the input)
 *        aot_NAME latency REPEATS          (batch-1 forward, microseconds)
 *
 * train: REPEATS times, STEPS steps of NAME_BATCH samples gathered from a
 * shuffled order of the data (as `layerc train` does: copy the batch, then
 * NAME_train_step); prints one line per repeat: "samples_per_s X loss Y".
 * The first repeat is preceded by a warm-up of 20 steps.  With no data
 * file ("-"), random inputs and labels of the right shape are used.
 *
 * latency: NAME_forward on one sample, REPEATS times; prints the median and
 * the minimum in microseconds.
 */
#define _POSIX_C_SOURCE 199309L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zlib.h>

#include HEADER

#define CAT_(a, b) a##b
#define CAT(a, b) CAT_(a, b)
#define M_(x) CAT(MODEL, x)
#define T_ M_(_t)

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static uint64_t rng = 12345;
static uint64_t next(void)
{
    uint64_t z = (rng += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

/* The payload of an IDX file (gzip or not) after its header; *count items. */
static unsigned char *read_idx(const char *path, int dims, long *count, long *item)
{
    gzFile f = gzopen(path, "rb");
    unsigned char h[4 + 4 * 4];
    if (!f || gzread(f, h, 4 + 4 * dims) != 4 + 4 * dims) {
        fprintf(stderr, "%s: cannot read\n", path);
        exit(1);
    }
    long n = ((long)h[4] << 24) | (h[5] << 16) | (h[6] << 8) | h[7], sz = 1;
    for (int d = 1; d < dims; d++)
        sz *= ((long)h[4 + 4 * d] << 24) | (h[5 + 4 * d] << 16) | (h[6 + 4 * d] << 8) | h[7 + 4 * d];
    unsigned char *p = malloc((size_t)(n * sz));
    if (!p || gzread(f, p, (unsigned)(n * sz)) != (int)(n * sz)) {
        fprintf(stderr, "%s: short file\n", path);
        exit(1);
    }
    gzclose(f);
    *count = n;
    *item = sz;
    return p;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    static T_ m;
    enum { IN = M_(_IN), OUT = M_(_OUT), B = M_(_BATCH) };
    if (argc >= 3 && !strcmp(argv[1], "latency")) {
        int reps = atoi(argv[2]);
        double *t = malloc(sizeof(double) * (size_t)reps);
        float x[IN], y[OUT];
        M_(_init)(&m, 1);
        for (int i = 0; i < IN; i++) x[i] = (float)(next() >> 40) / (1 << 24);
        for (int i = 0; i < 200; i++) M_(_forward)(&m, x, y, 1);
        for (int r = 0; r < reps; r++) {
            double t0 = now();
            M_(_forward)(&m, x, y, 1);
            t[r] = now() - t0;
        }
        qsort(t, (size_t)reps, sizeof *t, cmp);
        printf("latency_us median %.3f min %.3f\n", t[reps / 2] * 1e6, t[0] * 1e6);
        return 0;
    }
    if (argc < 6 || strcmp(argv[1], "train")) {
        fprintf(stderr, "usage: %s train IMAGES LABELS STEPS REPEATS | latency REPEATS\n", argv[0]);
        return 2;
    }
    long n, item, nl, litem;
    float *X, *Y;
    int steps = atoi(argv[4]), reps = atoi(argv[5]);
    int truth_input = !strcmp(argv[3], "input");
    if (truth_input && OUT != IN) {
        fprintf(stderr, "the target cannot be the input: %d outputs, %d inputs\n", OUT, IN);
        return 1;
    }
    if (strcmp(argv[2], "-")) {
        unsigned char *img = read_idx(argv[2], 3, &n, &item);
        unsigned char *lab = truth_input ? NULL : read_idx(argv[3], 1, &nl, &litem);
        if (item != IN || (lab && nl != n)) {
            fprintf(stderr, "data does not fit the model (%ld values, model takes %d)\n", item, IN);
            return 1;
        }
        X = malloc(sizeof(float) * (size_t)(n * IN));
        for (long i = 0; i < n * IN; i++) X[i] = img[i] / 255.0f;
        Y = truth_input ? X : calloc((size_t)(n * OUT), sizeof(float));
        for (long i = 0; lab && i < n; i++) Y[i * OUT + lab[i] % OUT] = 1;
        free(img), free(lab);
    } else {
        n = 60000;
        X = malloc(sizeof(float) * (size_t)(n * IN));
        for (long i = 0; i < n * IN; i++) X[i] = (float)(next() >> 40) / (1 << 24);
        Y = truth_input ? X : calloc((size_t)(n * OUT), sizeof(float));
        for (long i = 0; !truth_input && i < n; i++) Y[i * OUT + next() % OUT] = 1;
    }
    int *order = malloc(sizeof(int) * (size_t)n);
    for (long i = 0; i < n; i++) order[i] = (int)i;
    static float x[B * IN], t[B * OUT];
    long at = n;
    M_(_init)(&m, 1);
    for (int r = -1; r < reps; r++) {
        int k = r < 0 ? 20 : steps;
        double t0 = now(), total = 0;
        for (int s = 0; s < k; s++) {
            if (at + B > n) {   /* a new epoch: shuffle */
                for (long i = n - 1; i > 0; i--) {
                    long j = (long)(next() % (uint64_t)(i + 1));
                    int tmp = order[i];
                    order[i] = order[j], order[j] = tmp;
                }
                at = 0;
            }
            for (int b = 0; b < B; b++) {
                memcpy(x + b * IN, X + (size_t)order[at + b] * IN, sizeof(float) * IN);
                memcpy(t + b * OUT, Y + (size_t)order[at + b] * OUT, sizeof(float) * OUT);
            }
            at += B;
            total += M_(_train_step)(&m, x, t, B);
        }
        double secs = now() - t0;
        if (r >= 0) printf("samples_per_s %.1f loss %.4f\n", (double)k * B / secs, total / k);
        fflush(stdout);
    }
    return 0;
}
