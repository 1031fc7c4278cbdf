/* bench/int8_latency.c: batch-1 latency of a model compiled to int8.
 *
 * Built against the C that `layerc MODEL.lyr --weights W --quantize int8
 * --calibrate DATA -o m.c` writes, for one model named by -DMODEL=NAME, with
 * the header forced in (-DHEADER='"m.h"'):
 *
 *   int8_NAME REPEATS     NAME_forward on one sample, REPEATS times; prints
 *                         the median and the minimum in microseconds
 *
 * The input is quantised once, outside the timing: the figure is the
 * integer forward pass, as firmware would call it on a sensor's int8 data.
 */
#define _POSIX_C_SOURCE 199309L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include HEADER

#define CAT_(a, b) a##b
#define CAT(a, b) CAT_(a, b)
#define M_(x) CAT(MODEL, x)

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    static M_(_t) m;
    enum { IN = M_(_IN), OUT = M_(_OUT) };
    int reps = argc > 1 ? atoi(argv[1]) : 0;
    if (reps < 1) {
        fprintf(stderr, "usage: %s REPEATS\n", argv[0]);
        return 2;
    }
    double *t = malloc(sizeof(double) * (size_t)reps);
    float x[IN];
    int8_t q[IN], y[OUT];
    unsigned s = 12345;
    for (int i = 0; i < IN; i++) x[i] = (float)((s = s * 1103515245u + 12345u) >> 8 & 0xffff) / 65536.0f;
    M_(_init)(&m);
    M_(_quantize_input)(x, q, 1);
    for (int i = 0; i < 200; i++) M_(_forward)(&m, q, y, 1);
    for (int r = 0; r < reps; r++) {
        double t0 = now();
        M_(_forward)(&m, q, y, 1);
        t[r] = now() - t0;
    }
    qsort(t, (size_t)reps, sizeof *t, cmp);
    printf("latency_us median %.3f min %.3f (output %d)\n", t[reps / 2] * 1e6, t[0] * 1e6, y[0]);
    free(t);
    return 0;
}
