/* bench/dwconv.c: the depthwise kernel (lc_dwconv_*) against the im2col path
 * (lc_conv_* with groups = channels) on a DS-CNN-like and a MobileNet-like
 * layer, forward and backward (input, weight and bias gradients), one
 * thread, batch 64; milliseconds per batch, median of 7 runs.
 *
 *   gcc -std=c11 -O3 -march=native -ffp-contract=fast -Iruntime bench/dwconv.c \
 *       runtime/kernels.c -lm -o dwconv && ./dwconv
 */
#define _POSIX_C_SOURCE 199309L
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "kernels.h"

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);   /* CPU time: the machine may be shared */
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static float *randv(size_t n)
{
    float *v = malloc(n * sizeof *v);
    for (size_t i = 0; i < n; i++) v[i] = (float)rand() / RAND_MAX - 0.5f;
    return v;
}

enum { RUNS = 7 };

/* forward and backward ms of one kernel on one layer */
static void time_layer(int depthwise, int B, const lc_conv_dims *d, double *fwd, double *bwd)
{
    size_t nx = (size_t)B * d->C * d->H * d->W, ny = (size_t)B * d->OC * d->OH * d->OW;
    size_t nw = (size_t)d->OC * (d->C / d->G) * d->KH * d->KW;
    size_t nwork = depthwise ? (size_t)LC_DWCONV_WORK(d, 1) : (size_t)LC_CONV_WORK(d, 1);
    float *x = randv(nx), *w = randv(nw), *b = randv(d->OC), *y = randv(ny), *dy = randv(ny);
    float *dx = randv(nx), *dw = randv(nw), *db = randv(d->OC), *work = randv(nwork);
    double tf[RUNS], tb[RUNS];
    int reps = 10;
    for (int r = 0; r < RUNS; r++) {
        double t0 = now();
        for (int i = 0; i < reps; i++)
            (depthwise ? lc_dwconv_forward : lc_conv_forward)(y, x, w, b, work, B, d);
        tf[r] = (now() - t0) / reps;
        t0 = now();
        for (int i = 0; i < reps; i++)
            (depthwise ? lc_dwconv_backward_into : lc_conv_backward_into)(dx, dw, db, dy, x, w, work,
                                                                            B, d, 0);
        tb[r] = (now() - t0) / reps;
    }
    qsort(tf, RUNS, sizeof tf[0], cmp_double);
    qsort(tb, RUNS, sizeof tb[0], cmp_double);
    *fwd = tf[RUNS / 2] * 1e3, *bwd = tb[RUNS / 2] * 1e3;
    free(x), free(w), free(b), free(y), free(dy), free(dx), free(dw), free(db), free(work);
}

int main(void)
{
    /* C, H, W, OC, OH, OW, KH, KW, SH, SW, PH, PW, DH, DW, G */
    static const lc_conv_dims layers[] = {
        { 64, 25, 5, 64, 25, 5, 3, 3, 1, 1, 1, 1, 1, 1, 64 },     /* DS-CNN, pad=same */
        { 32, 48, 48, 32, 24, 24, 3, 3, 2, 2, 0, 0, 1, 1, 32 },   /* MobileNet, stride 2, pad=same */
    };
    static const char *names[] = { "DS-CNN-like    64 ch, 25x5, 3x3, stride 1, same",
                                    "MobileNet-like 32 ch, 48x48, 3x3, stride 2, same" };
    const int B = 64;
    printf("depthwise 3x3 convolution, batch %d, one thread, ms per batch (median of %d)\n", B, RUNS);
    printf("%-50s %-9s %8s %8s %8s %7s\n", "layer", "kernel", "forward", "backward", "total", "GFLOPS");
    for (int i = 0; i < 2; i++) {
        const lc_conv_dims *d = &layers[i];
        double flops = 2.0 * B * d->OC * d->OH * d->OW * d->KH * d->KW;   /* forward */
        double f[2], b[2];
        for (int k = 0; k < 2; k++) {
            time_layer(k == 0, B, d, &f[k], &b[k]);
            printf("%-50s %-9s %8.3f %8.3f %8.3f %7.1f\n", k ? "" : names[i], k ? "im2col" : "depthwise",
                   f[k], b[k], f[k] + b[k], 3 * flops / ((f[k] + b[k]) * 1e6));
        }
        printf("%-50s %-9s %7.1fx %7.1fx %7.1fx\n", "", "speed-up", f[1] / f[0], b[1] / b[0],
               (f[1] + b[1]) / (f[0] + b[0]));
    }
    return 0;
}
