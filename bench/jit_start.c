/* bench/jit_start.c: the time from a model file to code ready to train, in
 * the steps `layerc train` takes before the first batch: read + parse +
 * check, emit the C, compile it with libtcc (and look up its symbols,
 * allocate and initialise the state: run_model_open).  Linked against
 * build/liblayerc.a:
 *
 *   cc -O2 -Icompiler -Iruntime -Ibuild bench/jit_start.c build/liblayerc.a \
 *      -ltcc -lz -lm -ldl -lpthread -o build/bench/jit_start
 *   build/bench/jit_start samples/fashion_mlp.lyr 21
 *
 * Repeats the whole sequence N times and prints the median of each step in
 * milliseconds: "front X emit Y tcc Z open W total T" (tcc: jit_compile of
 * the emitted text alone; open: run_model_open, which emits, compiles and
 * initialises; total = front + open).
 */
#define _POSIX_C_SOURCE 199309L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "arena.h"
#include "ast.h"
#include "check.h"
#include "diag.h"
#include "emit.h"
#include "jit.h"
#include "run.h"

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

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp);
    return v[n / 2];
}

int main(int argc, char **argv)
{
    int reps = argc > 2 ? atoi(argv[2]) : 21;
    double *tf, *te, *tt, *to;
    char err[4096];
    if (argc < 2 || reps < 1) {
        fprintf(stderr, "usage: %s MODEL.lyr [REPEATS]\n", argv[0]);
        return 2;
    }
    tf = malloc(sizeof(double) * (size_t)reps), te = malloc(sizeof(double) * (size_t)reps);
    tt = malloc(sizeof(double) * (size_t)reps), to = malloc(sizeof(double) * (size_t)reps);
    for (int r = 0; r < reps; r++) {
        Source src;
        Arena arena;
        Diags diags;
        memset(&arena, 0, sizeof arena);
        double t0 = now();
        if (!source_read(&src, argv[1], err, sizeof err)) {
            fprintf(stderr, "%s\n", err);
            return 1;
        }
        diags_init(&diags, &src);
        Program *p = parse_program(&src, &diags, &arena);
        Model *m = diags.nerrors ? NULL : check_program(p, &src, &diags, &arena);
        if (!m) {
            diags_print(&diags, stderr);
            return 1;
        }
        double t1 = now();
        EmitOptions o = { .jit = 1, .source_name = argv[1] };
        char *code = emit_source(m, &o);
        double t2 = now();
        Jit *j = jit_compile(code, 1, err, sizeof err);
        double t3 = now();
        if (!j) {
            fprintf(stderr, "%s\n", err);
            return 1;
        }
        jit_free(j);
        free(code);
        RunModel rm;
        double t4 = now();
        if (!run_model_open(&rm, m, argv[1], err, sizeof err)) {
            fprintf(stderr, "%s\n", err);
            return 1;
        }
        double t5 = now();
        run_model_close(&rm);
        tf[r] = t1 - t0, te[r] = t2 - t1, tt[r] = t3 - t2, to[r] = t5 - t4;
        diags_free(&diags);
        arena_free(&arena);
        source_free(&src);
    }
    double f = median(tf, reps), e = median(te, reps), t = median(tt, reps), o = median(to, reps);
    printf("front %.3f emit %.3f tcc %.3f open %.3f total %.3f\n", f * 1e3, e * 1e3, t * 1e3,
           o * 1e3, (f + o) * 1e3);
    free(tf), free(te), free(tt), free(to);
    return 0;
}
