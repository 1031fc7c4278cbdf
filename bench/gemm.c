/* bench/gemm.c: GFLOPS of lc_matmul_forward/backward on the MLP's shapes,
 * against naive loops and OpenBLAS's sgemm (when libopenblas.so.0 loads:
 * Debian's libopenblas0-pthread), plus the time of the Fashion CNN's two
 * convolutions, forward + backward, batch 64, and OpenBLAS's sgemm on large
 * matrices (2048^3): one core's peak, which `make bench` measures the
 * training steps against.  Single thread; each number is the median of 5
 * runs, timed in CPU time of the calling thread (so that other jobs on a
 * shared machine distort less; OpenBLAS is set to one thread).  The
 * kernels are layerc's (liblayerc.a: the set chosen for this CPU).
 *
 *   cc -std=c11 -O2 -D_DEFAULT_SOURCE -Iruntime bench/gemm.c build/liblayerc.a \
 *       -ltcc -lz -lm -ldl -lpthread -o build/bench_gemm
 */
#define _POSIX_C_SOURCE 199309L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kernels.h"

#include <dlfcn.h>

#include "dispatch.h"

/* OpenBLAS by dlopen: no -dev package needed.  cblas_sgemm's enums: */
enum { ROW_MAJOR = 101, NO_TRANS = 111, TRANS = 112 };
typedef void (*sgemm_fn)(int, int, int, int, int, int, float, const float *, int, const float *, int,
                         float, float *, int);
static sgemm_fn cblas_sgemm;

static int load_openblas(void)
{
    void *h = dlopen("libopenblas.so.0", RTLD_NOW);
    void (*threads)(int);
    if (!h) return 0;
    *(void **)&cblas_sgemm = dlsym(h, "cblas_sgemm");
    *(void **)&threads = dlsym(h, "openblas_set_num_threads");
    if (!cblas_sgemm || !threads) return 0;
    threads(1);
    return 1;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static float *randv(size_t n)
{
    float *v = malloc(n * sizeof *v);
    size_t i;
    for (i = 0; i < n; i++)
        v[i] = (float)rand() / RAND_MAX - 0.5f;
    return v;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The three products of one linear layer; `which` selects one. */
enum { FWD, DINP, DW };
struct shape { int B, C, OC; };
struct bufs { float *inp, *W, *bias, *out, *dout, *dinp, *dW; };

static void naive(int which, struct shape s, struct bufs *m)
{
    int b, o, c, B = s.B, C = s.C, OC = s.OC;
    if (which == FWD)
        for (b = 0; b < B; b++)
            for (o = 0; o < OC; o++) {
                float acc = m->bias[o];
                for (c = 0; c < C; c++)
                    acc += m->inp[b * C + c] * m->W[o * C + c];
                m->out[b * OC + o] = acc;
            }
    else if (which == DINP)
        for (b = 0; b < B; b++)
            for (o = 0; o < OC; o++) {
                float d = m->dout[b * OC + o];
                for (c = 0; c < C; c++)
                    m->dinp[b * C + c] += d * m->W[o * C + c];
            }
    else
        for (o = 0; o < OC; o++)
            for (b = 0; b < B; b++) {
                float d = m->dout[b * OC + o];
                for (c = 0; c < C; c++)
                    m->dW[o * C + c] += d * m->inp[b * C + c];
            }
}

static void ours(int which, struct shape s, struct bufs *m)
{
    if (which == FWD)
        lc_matmul_forward(m->out, m->inp, m->W, m->bias, s.B, s.C, s.OC);
    else if (which == DINP)
        lc_matmul_backward(m->dinp, NULL, NULL, m->dout, m->inp, m->W, s.B, s.C, s.OC);
    else
        lc_matmul_backward(NULL, m->dW, NULL, m->dout, m->inp, m->W, s.B, s.C, s.OC);
}

static void blas(int which, struct shape s, struct bufs *m)
{
    if (which == FWD)
        cblas_sgemm(ROW_MAJOR, NO_TRANS, TRANS, s.B, s.OC, s.C, 1, m->inp, s.C, m->W, s.C, 0, m->out, s.OC);
    else if (which == DINP)
        cblas_sgemm(ROW_MAJOR, NO_TRANS, NO_TRANS, s.B, s.C, s.OC, 1, m->dout, s.OC, m->W, s.C, 1, m->dinp,
                    s.C);
    else
        cblas_sgemm(ROW_MAJOR, TRANS, NO_TRANS, s.OC, s.C, s.B, 1, m->dout, s.OC, m->inp, s.C, 1, m->dW, s.C);
}

/* GFLOPS of one large sgemm, C = A B with N x N matrices: the best of 5 */
static double sgemm_peak(int N)
{
    float *A = randv((size_t)N * N), *Bm = randv((size_t)N * N), *C = randv((size_t)N * N);
    double best = 0;
    int r;
    cblas_sgemm(ROW_MAJOR, NO_TRANS, NO_TRANS, N, N, N, 1, A, N, Bm, N, 0, C, N);   /* warm-up */
    for (r = 0; r < 5; r++) {
        double t0 = now(), g;
        cblas_sgemm(ROW_MAJOR, NO_TRANS, NO_TRANS, N, N, N, 1, A, N, Bm, N, 0, C, N);
        g = 2.0 * N * N * N / (now() - t0) * 1e-9;
        if (g > best) best = g;
    }
    free(A), free(Bm), free(C);
    return best;
}

typedef void (*impl_fn)(int, struct shape, struct bufs *);

/* Median over 5 runs of the GFLOPS of f, each run long enough (~40 ms). */
static double gflops(impl_fn f, int which, struct shape s, struct bufs *m)
{
    double flops = 2.0 * s.B * s.C * s.OC, t[5], t0;
    int reps = 1, r, i;
    for (;;) {                                  /* warm up and calibrate */
        t0 = now();
        for (i = 0; i < reps; i++) f(which, s, m);
        if (now() - t0 > 0.04) break;
        reps *= 2;
    }
    for (r = 0; r < 5; r++) {
        t0 = now();
        for (i = 0; i < reps; i++) f(which, s, m);
        t[r] = (now() - t0) / reps;
    }
    qsort(t, 5, sizeof t[0], cmp_double);
    return flops / t[2] * 1e-9;
}

/* The direct convolution loops (stride 1), for comparison. */
static void naive_conv(int back, float *y, float *dx, float *dw, const float *x,
                       const float *w, const float *dy, int B, int C, int H, int OC, int K, int pad)
{
    int OH = H + 2 * pad - K + 1, b, o, c, oh, ow, ki, kj;
    for (b = 0; b < B; b++)
        for (o = 0; o < OC; o++)
            for (oh = 0; oh < OH; oh++)
                for (ow = 0; ow < OH; ow++) {
                    size_t yi = (((size_t)b * OC + o) * OH + oh) * OH + ow;
                    float s = 0, g = back ? dy[yi] : 0;
                    for (c = 0; c < C; c++)
                        for (ki = 0; ki < K; ki++)
                            for (kj = 0; kj < K; kj++) {
                                int ih = oh - pad + ki, iw = ow - pad + kj;
                                size_t xi = (((size_t)b * C + c) * H + ih) * H + iw;
                                size_t wi = (((size_t)o * C + c) * K + ki) * K + kj;
                                if (ih < 0 || ih >= H || iw < 0 || iw >= H)
                                    continue;
                                if (back) {
                                    if (dx) dx[xi] += g * w[wi];
                                    dw[wi] += g * x[xi];
                                } else {
                                    s += w[wi] * x[xi];
                                }
                            }
                    if (!back)
                        y[yi] = s;
                }
}

/* Median of 5 runs, in ms, of a conv layer's forward + backward. */
static double conv_ms(int B, int C, int H, int OC, int K, int pad, int with_dinp,
                      int naive, double *fwd_ms)
{
    int OH = LC_CONV_OUT(H, K, 1, pad);
    float *x = randv((size_t)B * C * H * H), *w = randv((size_t)OC * C * K * K);
    float *bias = randv(OC), *y = randv((size_t)B * OC * OH * OH);
    float *dy = randv((size_t)B * OC * OH * OH), *dx = randv((size_t)B * C * H * H);
    float *dw = randv((size_t)OC * C * K * K), *db = randv(OC);
    float *work = randv(LC_CONV2D_WORK(C, K, OH, OH));
    double tf[5], tb[5], t0;
    int r, i, reps = naive ? 2 : 20;
    for (r = 0; r < 5; r++) {
        t0 = now();
        for (i = 0; i < reps; i++)
            if (naive)
                naive_conv(0, y, NULL, NULL, x, w, NULL, B, C, H, OC, K, pad);
            else
                lc_conv2d_forward(y, x, w, bias, work, B, C, H, H, OC, K, 1, pad);
        tf[r] = (now() - t0) / reps;
        t0 = now();
        for (i = 0; i < reps; i++)
            if (naive)
                naive_conv(1, NULL, with_dinp ? dx : NULL, dw, x, w, dy, B, C, H, OC, K, pad);
            else
                lc_conv2d_backward(with_dinp ? dx : NULL, dw, db, dy, x, w, work,
                                   B, C, H, H, OC, K, 1, pad);
        tb[r] = (now() - t0) / reps;
    }
    qsort(tf, 5, sizeof tf[0], cmp_double);
    qsort(tb, 5, sizeof tb[0], cmp_double);
    free(x); free(w); free(bias); free(y); free(dy); free(dx); free(dw); free(db); free(work);
    *fwd_ms = tf[2] * 1e3;
    return tb[2] * 1e3;
}

int main(void)
{
    static const struct shape shapes[] = { {64, 784, 256}, {64, 256, 128}, {64, 128, 10} };
    static const char *names[] = { "forward  out = inp.W^T", "backward dinp = dout.W",
                                   "backward dW = dout^T.inp" };
    size_t si;
    int which, have_blas = load_openblas();
    printf("GFLOPS, single thread, median of 5 runs; layerc %s\n", lc_dispatch_describe());
    printf("%-26s %-15s %8s %8s", "product", "B x C x OC", "layerc", "naive");
    if (have_blas) printf(" %8s %7s", "OpenBLAS", "ratio");
    printf("\n");
    for (si = 0; si < sizeof shapes / sizeof shapes[0]; si++) {
        struct shape s = shapes[si];
        struct bufs m;
        m.inp = randv((size_t)s.B * s.C);
        m.W = randv((size_t)s.OC * s.C);
        m.bias = randv(s.OC);
        m.out = randv((size_t)s.B * s.OC);
        m.dout = randv((size_t)s.B * s.OC);
        m.dinp = randv((size_t)s.B * s.C);
        m.dW = randv((size_t)s.OC * s.C);
        for (which = FWD; which <= DW; which++) {
            double g1 = gflops(ours, which, s, &m), g2 = gflops(naive, which, s, &m);
            char dims[32];
            snprintf(dims, sizeof dims, "%dx%dx%d", s.B, s.C, s.OC);
            printf("%-26s %-15s %8.1f %8.1f", names[which], dims, g1, g2);
            if (have_blas) {
                double g3 = gflops(blas, which, s, &m);
                printf(" %8.1f %6.0f%%", g3, 100 * g1 / g3);
            }
            printf("\n");
        }
        free(m.inp); free(m.W); free(m.bias); free(m.out);
        free(m.dout); free(m.dinp); free(m.dW);
    }
    {
        double fl1 = 2.0 * 64 * 8 * 28 * 28 * 9, fl2 = 2.0 * 64 * 16 * 14 * 14 * 72;
        int naive;
        printf("\nFashion CNN convolutions, batch 64, ms (median of 5)\n");
        for (naive = 0; naive <= 1; naive++) {
            double f1, f1x, f2, b1 = conv_ms(64, 1, 28, 8, 3, 1, 0, naive, &f1);
            double b1x = conv_ms(64, 1, 28, 8, 3, 1, 1, naive, &f1x);
            double b2 = conv_ms(64, 8, 14, 16, 3, 1, 1, naive, &f2);
            const char *who = naive ? "naive " : "layerc";
            printf("%s conv1 1->8  3x3 pad 1, 28x28: forward %6.3f (%4.1f GFLOPS), "
                   "backward dW+db %6.3f (+dinp: %6.3f)\n", who, f1, fl1 / f1 * 1e-6, b1, b1x);
            printf("%s conv2 8->16 3x3 pad 1, 14x14: forward %6.3f (%4.1f GFLOPS), "
                   "backward dinp+dW+db %6.3f (%4.1f GFLOPS)\n", who, f2, fl2 / f2 * 1e-6,
                   b2, 2 * fl2 / b2 * 1e-6);
        }
    }
    if (have_blas)
        printf("\nOpenBLAS sgemm 2048 x 2048 x 2048, one thread: %.1f GFLOPS (best of 5)\n", sgemm_peak(2048));
    else
        printf("\nOpenBLAS not found (libopenblas.so.0): no sgemm peak\n");
    return 0;
}
