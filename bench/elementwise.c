/* bench/elementwise.c: the elementwise kernels of runtime/kernels/ against
 * the scalar loops of bench/elementwise_loops.c (what the emitter writes),
 * compiled by tcc in memory (what the JIT runs) and by gcc -O2 (linked in),
 * in values per second on one thread, median of 5 runs.
 *
 *   gcc -O2 -c bench/elementwise_loops.c -o loops.o
 *   cc -O2 -Iruntime bench/elementwise.c loops.o build/liblayerc.a -ltcc -lm -ldl -lpthread
 *   ./a.out bench/elementwise_loops.c [VALUES]
 *
 * VALUES (default 50176: a batch of 64 x 784, in L2) values an op; softmax
 * and the losses take rows of 10 (a classifier's output). */
#define _POSIX_C_SOURCE 199309L
#include <libtcc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dispatch.h"
#include "kernels.h"

typedef void (*map_fn)(float *, const float *, int);
typedef void (*bin_fn)(float *, const float *, const float *, int);
typedef void (*rows_fn)(float *, const float *, int, int);
typedef double (*loss_fn)(const float *, const float *, int, int);
typedef void (*lossb_fn)(float *, const float *, const float *, int, int);

/* the loops, by name: linked (gcc -O2) or from tcc */
#define LOOPS(X)                                                                              \
    X(map_fn, sigmoid_fwd) X(bin_fn, sigmoid_bwd) X(map_fn, tanh_fwd) X(bin_fn, tanh_bwd)     \
    X(map_fn, gelu_fwd) X(bin_fn, gelu_bwd) X(map_fn, silu_fwd) X(map_fn, elu_fwd)            \
    X(map_fn, hardswish_fwd) X(map_fn, leaky_relu_fwd) X(rows_fn, softmax_fwd)                \
    X(bin_fn, add_fwd) X(bin_fn, mul_bwd) X(loss_fn, mse) X(loss_fn, bce)                      \
    X(loss_fn, cross_entropy) X(lossb_fn, loss_bwd)

#define DECLARE(type, name) void loop_##name(void);
LOOPS(DECLARE)
#undef DECLARE
typedef struct {
#define FIELD(type, name) type name;
    LOOPS(FIELD)
#undef FIELD
} Loops;

static void tcc_error(void *opaque, const char *msg)
{
    (void)opaque;
    fprintf(stderr, "tcc: %s\n", msg);
}

static int from_tcc(Loops *l, const char *path)
{
    FILE *f = fopen(path, "rb");
    static char src[1 << 16];
    size_t n = f ? fread(src, 1, sizeof src - 1, f) : 0;
    if (f) fclose(f);
    if (!n) return fprintf(stderr, "%s: cannot read\n", path), 0;
    src[n] = 0;
    TCCState *s = tcc_new();
    tcc_set_error_func(s, NULL, tcc_error);
    tcc_set_output_type(s, TCC_OUTPUT_MEMORY);
    if (tcc_compile_string(s, src) < 0 || tcc_relocate(s, TCC_RELOCATE_AUTO) < 0) return 0;
#define GET(type, name)                                  \
    *(void **)&l->name = tcc_get_symbol(s, "loop_" #name); \
    if (!l->name) return fprintf(stderr, "tcc: no loop_%s\n", #name), 0;
    LOOPS(GET)
#undef GET
    return 1;   /* (the state stays alive: the code lives in it) */
}

static void from_gcc(Loops *l)
{
#define SET(type, name) l->name = (type)(void (*)(void))loop_##name;
    LOOPS(SET)
#undef SET
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

enum { TCC, GCC, KERNEL };
static float *x, *y, *d, *g, *t;
static volatile double sink;

/* one call of op `k` by implementation `impl` on n values */
static void call(int k, int impl, const Loops *l, int n)
{
    int rows = n / 10;
    if (impl == KERNEL) {
        switch (k) {
        case 0: lc_sigmoid_forward(y, x, n); break;
        case 1: lc_sigmoid_backward(d, g, y, n, 0); break;
        case 2: lc_tanh_forward(y, x, n); break;
        case 3: lc_tanh_backward(d, g, y, n, 0); break;
        case 4: lc_gelu_forward(y, x, n); break;
        case 5: lc_gelu_backward(d, g, x, n, 0); break;
        case 6: lc_silu_forward(y, x, n); break;
        case 7: lc_elu_forward(y, x, n, 1); break;
        case 8: lc_hardswish_forward(y, x, n); break;
        case 9: lc_leaky_relu_forward(y, x, n, 0.01f); break;
        case 10: lc_softmax_forward(y, x, rows, 10); break;
        case 11: lc_add_forward(y, x, g, n); break;
        case 12: lc_mul_backward(d, g, x, n, 1); break;
        case 13: sink = lc_mse_forward(y, t, rows, 10); break;
        case 14: sink = lc_bce_forward(y, t, rows, 10); break;
        case 15: sink = lc_cross_entropy_forward(x, t, rows, 10); break;
        default: lc_loss_backward(d, y, t, rows, 10, 0); break;
        }
        return;
    }
    switch (k) {
    case 0: l->sigmoid_fwd(y, x, n); break;
    case 1: l->sigmoid_bwd(d, g, y, n); break;
    case 2: l->tanh_fwd(y, x, n); break;
    case 3: l->tanh_bwd(d, g, y, n); break;
    case 4: l->gelu_fwd(y, x, n); break;
    case 5: l->gelu_bwd(d, g, x, n); break;
    case 6: l->silu_fwd(y, x, n); break;
    case 7: l->elu_fwd(y, x, n); break;
    case 8: l->hardswish_fwd(y, x, n); break;
    case 9: l->leaky_relu_fwd(y, x, n); break;
    case 10: l->softmax_fwd(y, x, rows, 10); break;
    case 11: l->add_fwd(y, x, g, n); break;
    case 12: l->mul_bwd(d, g, x, n); break;
    case 13: sink = l->mse(y, t, rows, 10); break;
    case 14: sink = l->bce(y, t, rows, 10); break;
    case 15: sink = l->cross_entropy(x, t, rows, 10); break;
    default: l->loss_bwd(d, y, t, rows, 10); break;
    }
}

/* values per second, median of 5 runs of ~20 ms */
static double speed(int k, int impl, const Loops *l, int n)
{
    double r[5];
    long reps = 1;
    for (;;) {   /* calibrate */
        double t0 = now();
        for (long i = 0; i < reps; i++) call(k, impl, l, n);
        if (now() - t0 > 0.02) break;
        reps *= 2;
    }
    for (int i = 0; i < 5; i++) {
        double t0 = now();
        for (long j = 0; j < reps; j++) call(k, impl, l, n);
        r[i] = (double)reps * n / (now() - t0);
    }
    qsort(r, 5, sizeof *r, cmp);
    return r[2];
}

int main(int argc, char **argv)
{
    static const char *const names[] = {
        "sigmoid forward", "sigmoid backward", "tanh forward", "tanh backward", "gelu forward",
        "gelu backward", "silu forward", "elu forward", "hardswish forward", "leaky_relu forward",
        "softmax forward (rows of 10)", "add forward", "mul backward (+=)", "mse loss",
        "bce loss", "cross_entropy loss (rows of 10)", "loss backward (y - t) / B" };
    Loops tl, gl;
    int n = argc > 2 ? atoi(argv[2]) : 50176;
    if (argc < 2 || n < 10 || !from_tcc(&tl, argv[1])) {
        fprintf(stderr, "usage: %s bench/elementwise_loops.c [VALUES]\n", argv[0]);
        return 2;
    }
    from_gcc(&gl);
    x = malloc(sizeof(float) * n), y = malloc(sizeof(float) * n), d = malloc(sizeof(float) * n);
    g = malloc(sizeof(float) * n), t = malloc(sizeof(float) * n);
    for (int i = 0; i < n; i++) {
        x[i] = (float)(rand() % 16001 - 8000) / 1000;   /* [-8, 8] */
        g[i] = (float)rand() / RAND_MAX - 0.5f;
        t[i] = i % 10 == (i / 10) % 10;
        y[i] = (float)rand() / RAND_MAX;
        d[i] = 0;
    }
    printf("values/s, one thread, %d values a call (median of 5); layerc %s\n", n, lc_dispatch_describe());
    printf("%-32s %10s %10s %10s %8s %8s\n", "op", "tcc loop", "gcc -O2", "kernel", "vs tcc", "vs gcc");
    for (int k = 0; k < (int)(sizeof names / sizeof names[0]); k++) {
        /* the losses and sigmoid's backward read y: refill it with probabilities */
        double a = speed(k, TCC, &tl, n), b = speed(k, GCC, &gl, n), c = speed(k, KERNEL, NULL, n);
        for (int i = 0; i < n; i++) y[i] = (float)(i % 97) / 97 + 0.001f;
        printf("%-32s %10.3g %10.3g %10.3g %7.1fx %7.1fx\n", names[k], a, b, c, c / a, c / b);
    }
    return 0;
}
