#ifndef LC_REAL_DEFINED
#define LC_REAL_DEFINED
typedef float lc_real;
#endif
#ifndef LC_KERNEL
#define LC_KERNEL
#endif
/* kernels.c: the heavy loops of layerc (matrix product, convolution, pooling,
 * and the long elementwise loops: relu, the optimizer steps).
 *
 * The API is in kernels.h.  This one source is used three ways: compiled
 * into layerc (-O3 -march=native -DLC_POOL), pasted into every generated C
 * file after `#define LC_KERNEL static inline`, and pasted with `typedef
 * double lc_real` for gradient checks under tcc.  So it includes only
 * <string.h> and <math.h>, does not include kernels.h, allocates nothing,
 * keeps no mutable global state (reentrant), uses at most ~70 KiB of stack,
 * and every helper is static inline.
 *
 * Tensors are row-major; B is the batch size.  Backward functions ADD (+=)
 * into the gradients they are given and skip NULL gradient pointers.
 *
 * Every large matrix product (the three of a linear layer, the three of a
 * convolution) goes through lc__gemm: C[M, N] += A[M, K] . B[K, N] with A,
 * B and C at arbitrary strides.  How plain C is made fast:
 *
 *   - Register blocking.  The micro-kernel keeps an LC_MR x LC_NR tile of C
 *     in a local array that gcc and clang keep in vector registers (8 x 32
 *     floats = 16 zmm with AVX-512).  For each k it broadcasts LC_MR values
 *     of A and multiplies them with one contiguous row of LC_NR values of
 *     B: the innermost loop runs along contiguous memory, vectorises
 *     without horizontal sums, and each value loaded is used LC_MR times
 *     (B) or LC_NR / vector-width times (A).
 *   - Packing.  When B is not contiguous along N (out = inp . W^T: W runs
 *     along K), a LC_KC x LC_NR panel of B is transposed into a stack
 *     buffer, which stays in L1 while all of A's rows sweep over it.  The
 *     transposition is scalar (~1 cycle a value), so the forward pass packs
 *     the smaller of inp and W (computing out^T = W . inp^T when B < OC).
 *     When B already runs along N, it is used in place.
 *   - Cache blocking along K (LC_KC) keeps that panel about L1-sized.
 *   - Edges: a partial tile still computes a whole tile (missing rows of A
 *     repeat row 0, missing columns of B repeat the last one in the packed
 *     panel) and only its valid part is added to C, so there is one
 *     micro-kernel.
 *
 * Products with a narrow side (a batch of 1 to 3 samples, the weight
 * gradient of a first convolution with C K K < 32) would waste most of such
 * a tile; when both operands run along K they go through lc__dots instead:
 * dot products vectorised along K, a 4 x 4 (or 4 x 3, 1 x 8) block of them
 * at a time.
 *
 * Convolution is im2col of one sample into `work` followed by lc__gemm;
 * pooling is direct (2 x 2, stride 2 has its own branch-free loop).
 *
 * Threads.  Each kernel cuts its work into tasks whose results do not
 * depend on which thread runs them: a matrix product into blocks of rows or
 * columns of C (so every value is computed exactly as in one thread), a
 * convolution into T groups of samples, each with its own slice of `work`
 * (forward: its im2col buffer; backward: also a partial weight gradient,
 * added up in group order at the end), pooling and elementwise loops into
 * ranges.  T is the thread count: lc_pool_threads() in layerc (kernels.o
 * is built with -DLC_POOL and runtime/threads.c), LC_THREADS in generated C
 * that pastes the pool, else 1 and everything runs in line.  Small products
 * and short loops are not split (a hand-over costs ~1 us).  With T fixed,
 * a run gives the same bits every time, threads or not; between different
 * T only the convolutions' weight gradients differ, by float rounding.
 */
#include <string.h>
#include <math.h>

/* A generated model uses only some of these kernels, and clang -Wall warns
 * about unused static functions even when inline (gcc does not), hence: */
#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#endif

/* As in kernels.h (not included: this file must stand alone when pasted). */
#ifndef LC_CONV_OUT
#define LC_CONV_OUT(H, K, stride, pad) (((H) + 2 * (pad) - (K)) / (stride) + 1)
#endif
#ifndef LC_CONV2D_WORK
#define LC_CONV2D_WORK(C, K, OH, OW) ((C) * (K) * (K) * (OH) * (OW))
#endif
#ifndef LC_CONV2D_SLICE
#define LC_CONV2D_SLICE(C, K, OH, OW, OC) \
    (LC_CONV2D_WORK(C, K, OH, OW) + (OC) * (C) * (K) * (K) + (OC))
#endif

/* ------------------------------------------------------------------------ */
/* Tasks: LC__FOR(n, fn, ctx) runs fn(ctx, 0 .. n - 1), on LC__THREADS
 * threads when there are several (see "Threads" above).                    */

#if defined(LC_THREADS) && LC_THREADS > 1
/* generated C with --threads N: lc_pool_for is pasted before this text
 * (unless the compiler lacks the __atomic builtins: then the same tasks run
 * in line, with the same results) */
#define LC__THREADS LC_THREADS
#ifdef LC_POOL_PASTED
#define LC__FOR(n, fn, ctx) lc_pool_for(n, fn, ctx)
#else
#define LC__FOR(n, fn, ctx) lc__for(n, fn, ctx)
#endif
#elif defined(LC_POOL)
/* compiled into layerc: runtime/threads.c */
int lc_pool_threads(void);
void lc_pool_for(int ntasks, void (*fn)(void *ctx, int task), void *ctx);
#define LC__THREADS lc_pool_threads()
#define LC__FOR(n, fn, ctx) lc_pool_for(n, fn, ctx)
#else
#define LC__THREADS 1
#define LC__FOR(n, fn, ctx) lc__for(n, fn, ctx)
#endif

static inline void lc__for(int n, void (*fn)(void *ctx, int task), void *ctx)
{
    int t;
    for (t = 0; t < n; t++)
        fn(ctx, t);
}

/* Products below this many flops, and elementwise loops below this many
 * values, run on the calling thread alone. */
#ifndef LC_PAR_FLOPS
#define LC_PAR_FLOPS 400000.0
#endif
#ifndef LC_PAR_VALUES
#define LC_PAR_VALUES 32768
#endif
/* Dot products (a batch of 1 to 3) stream the weights once: they are split
 * from this many flops (the 256 x 128 layer of a small MLP, 128 KiB). */
#ifndef LC_PAR_DOTS
#define LC_PAR_DOTS 50000.0
#endif

/* [lo, hi) of part t of n things cut into `parts`, at multiples of `align`. */
static inline void lc__range(int n, int parts, int t, int align, int *lo, int *hi)
{
    int units = (n + align - 1) / align;
    int a = (int)((long)units * t / parts), b = (int)((long)units * (t + 1) / parts);
    *lo = a * align < n ? a * align : n;
    *hi = b * align < n ? b * align : n;
}
/* Micro-tile LC_MR x LC_NR and K block LC_KC (see above).  Measured with
 * gcc 12 on Zen 4 (bench/gemm.c): 8 x 32 keeps 16 of the 32 zmm registers
 * busy; with 16 ymm, 4 x 24; with 16 xmm (plain -O2), 4 x 32 spills a
 * little but beat 4 x 8.  Keep LC_NR above 16: gcc fully unrolls shorter
 * j loops early and then vectorises the wrong loop (4x slower).
 * The pack buffer is LC_KC * LC_NR values: 32 KiB (64 KiB for double). */
#ifndef LC_MR
#if defined(__AVX512F__)
#define LC_MR 8
#define LC_NR 32
#elif defined(__AVX__)
#define LC_MR 4
#define LC_NR 24
#else
#define LC_MR 4
#define LC_NR 32
#endif
#endif
#ifndef LC_KC
#define LC_KC 256
#endif
/* The last panel of a product narrower than LC_NR / 2 columns (the 4 left
 * of 196, the 16 output channels of a weight gradient) takes a micro-tile
 * half as wide: half the wasted multiplications. */
#ifndef LC_NRH
#define LC_NRH (LC_NR / 2)
#endif

/* gcc and clang fully unroll a short loop before they vectorise, and then
 * vectorise the wrong one (gathers across rows, 10x slower): the LC_VL
 * loop below must stay a loop. */
#if !defined(__TINYC__) && (defined(__clang__) || (defined(__GNUC__) && __GNUC__ >= 8))
#define LC__KEEP_LOOP _Pragma("GCC unroll 1")
#else
#define LC__KEEP_LOOP
#endif

/* c[mr, nr] += a[mr, kc] . b[kc, LC_NR], where a(i, k) = a[i * rsa + k * csa],
 * b(k, j) = b[k * ldb + j] and c(i, j) = c[i * rsc + j * csc].
 * Computes a whole LC_MR x NRW tile (NRW = LC_NR, or LC_NRH for the last
 * panel of a narrow product); rows i >= mr reuse row 0 and their
 * results, like those of columns j >= nr, are dropped.  With `set`, c = the
 * product plus bias[i] (bias may be NULL) instead: no pass to fill c first,
 * and c is written without being read. */
#define LC__MICRO(NAME, NRW, KEEP)                                                \
static inline void NAME(int kc, const lc_real *a, int rsa, int csa,           \
                             const lc_real *b, int ldb,                       \
                             lc_real *c, int rsc, int csc, int mr, int nr,    \
                             int set, const lc_real *bias)                    \
{                                                                             \
    lc_real acc[LC_MR][NRW];                                                  \
    const lc_real *ar[LC_MR];                                                 \
    int i, j, k;                                                              \
                                                                              \
    for (i = 0; i < LC_MR; i++)                                               \
        for (j = 0; j < NRW; j++)                                             \
            acc[i][j] = 0;                                                    \
    for (i = 0; i < LC_MR; i++)                                               \
        ar[i] = a + (i < mr ? i : 0) * rsa;                                   \
    for (k = 0; k < kc; k++) {                                                \
        const lc_real *bk = b + k * ldb;                                      \
        for (i = 0; i < LC_MR; i++) {                                         \
            lc_real aik = ar[i][k * csa];                                     \
            KEEP for (j = 0; j < NRW; j++)                                    \
                acc[i][j] += aik * bk[j];                                     \
        }                                                                     \
    }                                                                         \
    if (set) {                                                                \
        if (bias)                                                             \
            for (i = 0; i < LC_MR; i++)                                       \
                for (j = 0; j < NRW; j++)                                     \
                    acc[i][j] += bias[i < mr ? i : 0];                        \
        if (mr == LC_MR && nr == NRW && csc == 1) {                           \
            for (i = 0; i < LC_MR; i++)                                       \
                for (j = 0; j < NRW; j++)                                     \
                    c[i * rsc + j] = acc[i][j];                               \
        } else {                                                              \
            for (i = 0; i < mr; i++)                                          \
                for (j = 0; j < nr; j++)                                      \
                    c[i * rsc + j * csc] = acc[i][j];                         \
        }                                                                     \
    } else if (mr == LC_MR && nr == NRW && csc == 1) {                        \
        for (i = 0; i < LC_MR; i++)                                           \
            for (j = 0; j < NRW; j++)                                         \
                c[i * rsc + j] += acc[i][j];                                  \
    } else if (csc == 1) {                                                    \
        for (i = 0; i < mr; i++)                                              \
            for (j = 0; j < nr; j++)                                          \
                c[i * rsc + j] += acc[i][j];                                  \
    } else {                                                                  \
        for (j = 0; j < nr; j++)                                              \
            for (i = 0; i < mr; i++)                                          \
                c[i * rsc + j * csc] += acc[i][j];                            \
    }                                                                         \
}
/* (gcc vectorises the 32-wide loop well as it is, and the 16-wide one only
 * when kept a loop) */
LC__MICRO(lc__micro, LC_NR, )
LC__MICRO(lc__microh, LC_NRH, LC__KEEP_LOOP)

/* C[M, N] += A[M, K] . B[K, N], where A(i, k) = A[i * rsa + k * csa],
 * B(k, j) = B[k * rsb + j * csb] and C(i, j) = C[i * rsc + j * csc];
 * with `set`, C = bias[i] + A . B (bias may be NULL; K >= 1).
 * Loops: column panels of LC_NR (outer), K blocks of LC_KC, row tiles of
 * LC_MR (inner), so one packed panel serves every row of A. */
/* One column panel [jc, jc + nr) of C, nr <= NRW, all of K: pack the
 * panel of B (unless it is contiguous and whole), run MICRO over the rows.
 * (lc__gemm_set below does the same for whole panels, written out: gcc
 * makes it ~8% faster than this macro's copy.) */
#define LC__PANEL(NAME, NRW, MICRO)                                                   \
static inline void NAME(int M, int K, int jc, int nr, lc_real *pack,                 \
                        const lc_real *A, int rsa, int csa,                          \
                        const lc_real *Bm, int rsb, int csb,                         \
                        lc_real *Cm, int rsc, int csc, int set, const lc_real *bias) \
{                                                                                    \
    int pc, ic, j, k;                                                                \
    for (pc = 0; pc < K; pc += LC_KC) {                                              \
        int kc = K - pc < LC_KC ? K - pc : LC_KC;                                    \
        const lc_real *bp;                                                           \
        int ldb;                                                                     \
        if (csb == 1 && nr == NRW) {                                                 \
            bp = Bm + (size_t)pc * rsb + jc;    /* rows already contiguous */        \
            ldb = rsb;                                                               \
        } else {                                                                     \
            /* columns j >= nr repeat column nr - 1: their results are dropped,     \
             * and one loop without a zero fill is faster (gcc makes a zero-fill     \
             * loop a memset call per row) */                                        \
            const lc_real *src = Bm + (size_t)pc * rsb + (size_t)jc * csb;           \
            if (nr == NRW)                                                           \
                for (k = 0; k < kc; k++) {                                           \
                    lc_real *row = pack + k * NRW;                                   \
                    const lc_real *s = src + (size_t)k * rsb;                        \
                    for (j = 0; j < NRW; j++)                                        \
                        row[j] = s[(size_t)j * csb];                                 \
                }                                                                    \
            else                                                                     \
                for (k = 0; k < kc; k++) {                                           \
                    lc_real *row = pack + k * NRW;                                   \
                    const lc_real *s = src + (size_t)k * rsb;                        \
                    for (j = 0; j < NRW; j++)                                        \
                        row[j] = s[(size_t)(j < nr ? j : nr - 1) * csb];             \
                }                                                                    \
            bp = pack;                                                               \
            ldb = NRW;                                                               \
        }                                                                            \
        for (ic = 0; ic < M; ic += LC_MR) {                                          \
            int mr = M - ic < LC_MR ? M - ic : LC_MR;                                \
            MICRO(kc, A + (size_t)ic * rsa + (size_t)pc * csa, rsa, csa,             \
                  bp, ldb, Cm + (size_t)ic * rsc + (size_t)jc * csc, rsc, csc,       \
                  mr, nr, set && pc == 0, bias ? bias + ic : NULL);                  \
        }                                                                            \
    }                                                                                \
}
LC__PANEL(lc__panelh, LC_NRH, lc__microh)

static inline void lc__gemm_set(int M, int N, int K,
                                const lc_real *A, int rsa, int csa,
                                const lc_real *Bm, int rsb, int csb,
                                lc_real *Cm, int rsc, int csc, int set, const lc_real *bias)
{
    lc_real pack[LC_KC * LC_NR];
    int jc, pc, ic, j, k;

    for (jc = 0; jc < N; jc += LC_NR) {
        int nr = N - jc < LC_NR ? N - jc : LC_NR;
        if (nr <= LC_NRH && N <= 8 * LC_NR) {   /* a narrow last panel of a narrow product: half a tile */
            lc__panelh(M, K, jc, nr, pack, A, rsa, csa, Bm, rsb, csb, Cm, rsc, csc, set, bias);
            continue;
        }
        for (pc = 0; pc < K; pc += LC_KC) {
            int kc = K - pc < LC_KC ? K - pc : LC_KC;
            const lc_real *bp;
            int ldb;
            if (csb == 1 && nr == LC_NR) {
                bp = Bm + (size_t)pc * rsb + jc;    /* rows already contiguous */
                ldb = rsb;
            } else {
                /* columns j >= nr repeat column nr - 1: their results are
                 * dropped, and one loop without a zero fill is faster (gcc
                 * makes a zero-fill loop a memset call per row) */
                const lc_real *src = Bm + (size_t)pc * rsb + (size_t)jc * csb;
                if (nr == LC_NR)
                    for (k = 0; k < kc; k++) {
                        lc_real *row = pack + k * LC_NR;
                        const lc_real *s = src + (size_t)k * rsb;
                        for (j = 0; j < LC_NR; j++)
                            row[j] = s[(size_t)j * csb];
                    }
                else
                    for (k = 0; k < kc; k++) {
                        lc_real *row = pack + k * LC_NR;
                        const lc_real *s = src + (size_t)k * rsb;
                        for (j = 0; j < LC_NR; j++)
                            row[j] = s[(size_t)(j < nr ? j : nr - 1) * csb];
                    }
                bp = pack;
                ldb = LC_NR;
            }
            for (ic = 0; ic < M; ic += LC_MR) {
                int mr = M - ic < LC_MR ? M - ic : LC_MR;
                lc__micro(kc, A + (size_t)ic * rsa + (size_t)pc * csa, rsa, csa,
                          bp, ldb, Cm + (size_t)ic * rsc + (size_t)jc * csc, rsc, csc,
                          mr, nr, set && pc == 0, bias ? bias + ic : NULL);
            }
        }
    }
}

static inline void lc__gemm(int M, int N, int K,
                            const lc_real *A, int rsa, int csa,
                            const lc_real *Bm, int rsb, int csb,
                            lc_real *Cm, int rsc, int csc)
{
    lc__gemm_set(M, N, K, A, rsa, csa, Bm, rsb, csb, Cm, rsc, csc, 0, NULL);
}


/* ------------------------------------------------------------------------ */
/* Dot products: C[i, j] += sum over k of A[i * lda + k] . B[j * ldb + k].  */

/* Floats in one vector register (gcc keeps an [LC_VL] array in one). */
#ifndef LC_VL
#if defined(__AVX512F__)
#define LC_VL 16
#elif defined(__AVX__)
#define LC_VL 8
#else
#define LC_VL 4
#endif
#endif


/* One TM x TN block of dot products at rows i0.., columns j0.. (mi, nj of
 * them valid): TM x TN vectors of LC_VL partial sums run along k, then
 * each is summed (in a fixed order) with the scalar tail. */
#define LC__DOTS_BLOCK(NAME, TM, TN)                                                  \
static inline void NAME(int mi, int nj, int K, const lc_real *A, int lda,            \
                        const lc_real *Bm, int ldb, lc_real *Cm, int rsc, int csc)   \
{                                                                                    \
    const lc_real *a[TM], *b[TN];                                                    \
    lc_real acc[TM][TN][LC_VL];                                                      \
    int i, j, k, v;                                                                  \
    for (i = 0; i < TM; i++)                                                         \
        a[i] = A + (size_t)(i < mi ? i : 0) * lda;                                   \
    for (j = 0; j < TN; j++)                                                         \
        b[j] = Bm + (size_t)(j < nj ? j : 0) * ldb;                                  \
    for (i = 0; i < TM; i++)                                                         \
        for (j = 0; j < TN; j++)                                                     \
            for (v = 0; v < LC_VL; v++)                                              \
                acc[i][j][v] = 0;                                                    \
    for (k = 0; k + LC_VL <= K; k += LC_VL)                                          \
        for (i = 0; i < TM; i++)                                                     \
            for (j = 0; j < TN; j++)                                                 \
                LC__KEEP_LOOP for (v = 0; v < LC_VL; v++)                            \
                    acc[i][j][v] += a[i][k + v] * b[j][k + v];                       \
    for (i = 0; i < mi; i++)                                                         \
        for (j = 0; j < nj; j++) {                                                   \
            lc_real s = 0;                                                           \
            int t;                                                                   \
            for (v = 0; v < LC_VL; v++)                                              \
                s += acc[i][j][v];                                                   \
            for (t = k; t < K; t++)                                                  \
                s += a[i][t] * b[j][t];                                              \
            Cm[(size_t)i * rsc + (size_t)j * csc] += s;                              \
        }                                                                            \
}
LC__DOTS_BLOCK(lc__dots4x4, 4, 4)
LC__DOTS_BLOCK(lc__dots4x3, 4, 3)
LC__DOTS_BLOCK(lc__dots1x8, 1, 8)

/* All of C[M, N] (M = 1: rows of 8 dot products sharing A's one row). */
static inline void lc__dots(int M, int N, int K, const lc_real *A, int lda,
                            const lc_real *Bm, int ldb, lc_real *Cm, int rsc, int csc)
{
    int i, j;
    if (M == 1) {
        for (j = 0; j < N; j += 8)
            lc__dots1x8(1, N - j < 8 ? N - j : 8, K, A, lda, Bm + (size_t)j * ldb, ldb,
                        Cm + (size_t)j * csc, rsc, csc);
        return;
    }
    if ((N + 2) / 3 * 3 - N < (N + 3) / 4 * 4 - N) {   /* 4 x 3 blocks waste less (N = 9) */
        for (i = 0; i < M; i += 4)
            for (j = 0; j < N; j += 3)
                lc__dots4x3(M - i < 4 ? M - i : 4, N - j < 3 ? N - j : 3, K,
                            A + (size_t)i * lda, lda, Bm + (size_t)j * ldb, ldb,
                            Cm + (size_t)i * rsc + (size_t)j * csc, rsc, csc);
        return;
    }
    for (i = 0; i < M; i += 4)
        for (j = 0; j < N; j += 4)
            lc__dots4x4(M - i < 4 ? M - i : 4, N - j < 4 ? N - j : 4, K,
                        A + (size_t)i * lda, lda, Bm + (size_t)j * ldb, ldb,
                        Cm + (size_t)i * rsc + (size_t)j * csc, rsc, csc);
}

/* ------------------------------------------------------------------------ */
/* Matrix products split over the threads: blocks of columns of C (each
 * task packs only its own panels of B) or, when C has too few columns, of
 * rows.  Every value of C is computed as in lc__gemm on one thread.        */

typedef struct {
    int M, N, K, rsa, csa, rsb, csb, rsc, csc, by_cols, parts, dots, set;
    const lc_real *A, *Bm, *bias;
    lc_real *Cm;
} lc__gemm_job;

static void lc__gemm_task(void *p, int t)
{
    const lc__gemm_job *g = (const lc__gemm_job *)p;
    int lo, hi;
    if (g->by_cols) {
        lc__range(g->N, g->parts, t, g->dots ? 8 : LC_NR, &lo, &hi);
        if (g->dots)
            lc__dots(g->M, hi - lo, g->K, g->A, g->rsa, g->Bm + (size_t)lo * g->csb, g->csb,
                     g->Cm + (size_t)lo * g->csc, g->rsc, g->csc);
        else
            lc__gemm_set(g->M, hi - lo, g->K, g->A, g->rsa, g->csa, g->Bm + (size_t)lo * g->csb,
                         g->rsb, g->csb, g->Cm + (size_t)lo * g->csc, g->rsc, g->csc, g->set,
                         g->bias);
    } else {
        lc__range(g->M, g->parts, t, g->dots ? 4 : LC_MR, &lo, &hi);
        if (g->dots)
            lc__dots(hi - lo, g->N, g->K, g->A + (size_t)lo * g->rsa, g->rsa, g->Bm, g->csb,
                     g->Cm + (size_t)lo * g->rsc, g->rsc, g->csc);
        else
            lc__gemm_set(hi - lo, g->N, g->K, g->A + (size_t)lo * g->rsa, g->rsa, g->csa, g->Bm,
                         g->rsb, g->csb, g->Cm + (size_t)lo * g->rsc, g->rsc, g->csc, g->set,
                         g->bias ? g->bias + lo : NULL);
    }
}

/* lc__gemm_set (dots = 0) or lc__dots (dots = 1: A(i, k) = A[i * rsa + k],
 * B(k, j) = B[j * csb + k]; csa and rsb unused; set must be 0), on
 * `threads` threads. */
static inline void lc__gemm_par(int threads, int dots, int M, int N, int K,
                                const lc_real *A, int rsa, int csa,
                                const lc_real *Bm, int rsb, int csb,
                                lc_real *Cm, int rsc, int csc, int set, const lc_real *bias)
{
    lc__gemm_job g;
    int mt = dots ? (M == 1 ? 1 : 4) : LC_MR, nt = dots ? (M == 1 ? 8 : 4) : LC_NR;
    int mtiles = (M + mt - 1) / mt, ntiles = (N + nt - 1) / nt;
    if (threads <= 1 || 2.0 * M * N * K < (dots ? LC_PAR_DOTS : LC_PAR_FLOPS) ||
        (mtiles < 2 && ntiles < 2)) {
        if (dots)
            lc__dots(M, N, K, A, rsa, Bm, csb, Cm, rsc, csc);
        else
            lc__gemm_set(M, N, K, A, rsa, csa, Bm, rsb, csb, Cm, rsc, csc, set, bias);
        return;
    }
    g.M = M, g.N = N, g.K = K, g.A = A, g.rsa = rsa, g.csa = csa;
    g.Bm = Bm, g.rsb = rsb, g.csb = csb, g.Cm = Cm, g.rsc = rsc, g.csc = csc;
    g.dots = dots, g.set = set, g.bias = bias;
    g.by_cols = ntiles >= threads || ntiles >= mtiles;
    g.parts = g.by_cols ? ntiles : mtiles;
    if (g.parts > threads)
        g.parts = threads;
    LC__FOR(g.parts, lc__gemm_task, &g);
}

/* ------------------------------------------------------------------------ */
/* Linear layer                                                             */

/* Batches this small take dot products (lc__dots) in the forward pass. */
#ifndef LC_DOTS_BATCH
#define LC_DOTS_BATCH 4
#endif

/* out[B, OC] = inp[B, C] . W[OC, C]^T + bias[OC]         (bias may be NULL) */
LC_KERNEL void lc_matmul_forward(lc_real *out, const lc_real *inp, const lc_real *W,
                                 const lc_real *bias, int B, int C, int OC)
{
    int b, o, T = LC__THREADS;
    /* out^T = W . inp^T (below) writes bias + product in one pass */
    int set = B >= LC_DOTS_BATCH && (B < OC || OC < LC_NR) && C > 0;
    if (!set)
        for (b = 0; b < B; b++)
            for (o = 0; o < OC; o++)
                out[(size_t)b * OC + o] = bias ? bias[o] : 0;
    /* A batch of a few samples: dot products of each sample with W's rows. */
    if (B < LC_DOTS_BATCH) {
        for (b = 0; b < B; b++)
            lc__gemm_par(T, 1, 1, OC, C, inp + (size_t)b * C, C, 1, W, 1, C,
                         out + (size_t)b * OC, OC, 1, 0, NULL);
        return;
    }
    /* Both operands run along C, so one is transposed into the packed panel:
     * the smaller one, or inp when W is narrower than a panel (mostly zero
     * padding then).  Packing inp: out^T = W . inp^T with A = W (i = o,
     * k = c), B(k = c, j = b) = inp[b, c], out[b, o] at column stride OC.
     * Packing W: A = inp (i = b, k = c), B(k = c, j = o) = W[o, c]. */
    if (set)
        lc__gemm_par(T, 0, OC, B, C, W, C, 1, inp, 1, C, out, 1, OC, 1, bias);
    else
        lc__gemm_par(T, 0, B, OC, C, inp, C, 1, W, 1, C, out, OC, 1, 0, NULL);
}

/* As lc_matmul_backward, but dinp is assigned (add = 0: it need not be
 * cleared first) or added to (add = 1). */
LC_KERNEL void lc_matmul_backward_into(lc_real *dinp, lc_real *dW, lc_real *dbias,
                                       const lc_real *dout, const lc_real *inp, const lc_real *W,
                                       int B, int C, int OC, int add)
{
    int b, o, T = LC__THREADS;
    if (dbias)
        for (b = 0; b < B; b++)
            for (o = 0; o < OC; o++)
                dbias[o] += dout[(size_t)b * OC + o];
    /* A = dout (i = b, k = o); B(k = o, j = c) = W[o, c], used in place. */
    if (dinp)
        lc__gemm_par(T, 0, B, C, OC, dout, OC, 1, W, C, 1, dinp, C, 1, !add && OC > 0, NULL);
    /* A(i = o, k = b) = dout[b, o]; B(k = b, j = c) = inp[b, c], in place. */
    if (dW)
        lc__gemm_par(T, 0, OC, C, B, dout, 1, OC, inp, C, 1, dW, C, 1, 0, NULL);
}

/* dinp[B, C] += dout[B, OC] . W[OC, C]
 * dW[OC, C]  += dout[B, OC]^T . inp[B, C]
 * dbias[OC]  += sum over b of dout[b, :]                  (NULL = skip) */
LC_KERNEL void lc_matmul_backward(lc_real *dinp, lc_real *dW, lc_real *dbias,
                                  const lc_real *dout, const lc_real *inp, const lc_real *W,
                                  int B, int C, int OC)
{
    lc_matmul_backward_into(dinp, dW, dbias, dout, inp, W, B, C, OC, 1);
}
/* ------------------------------------------------------------------------ */
/* Convolution: im2col of one sample into `work`, then lc__gemm.            */

/* p[0..n) = 0.  The edges im2col and col2im clear are 0 to `pad` values
 * long: straight stores, where gcc would turn a loop into a memset call
 * each (thousands a sample, 10% of a convolution's backward pass). */
static inline void lc__zero(lc_real *p, int n)
{
    if (n <= 0)
        return;
    if (n > 4) {
        memset(p, 0, sizeof(lc_real) * (size_t)n);
        return;
    }
    p[0] = 0;
    if (n > 1) p[1] = 0;
    if (n > 2) p[2] = 0;
    if (n > 3) p[3] = 0;
}

/* im2col of one sample: col[C*K*K, OH*OW], where row r = (c, ki, kj) and
 * column p = (oh, ow) hold inp[c, oh*stride - pad + ki, ow*stride - pad + kj]
 * (0 in the padding); inp is [C, H, W].
 *
 * For one row r the valid output columns are lo <= ow < hi and the valid
 * output rows oh_lo <= oh < oh_hi.  In the common "same" case (stride 1,
 * OW == W) row r is inp[c] shifted by a constant, so it is filled with one
 * long copy and the few out-of-image columns are zeroed afterwards; other
 * cases copy image row by image row. */
static inline void lc__im2col(lc_real *col, const lc_real *inp, int C, int H, int W,
                              int K, int stride, int pad, int OH, int OW)
{
    int c, ki, kj, oh, ow, q;
    for (c = 0; c < C; c++)
        for (ki = 0; ki < K; ki++)
            for (kj = 0; kj < K; kj++) {
                lc_real *row = col + ((size_t)(c * K + ki) * K + kj) * OH * OW;
                const lc_real *x = inp + (size_t)c * H * W;
                int off = kj - pad, lo = 0, hi = OW, oh_lo = 0, oh_hi = OH;
                while (lo < OW && lo * stride + off < 0) lo++;
                while (hi > lo && (hi - 1) * stride + off >= W) hi--;
                while (oh_lo < OH && oh_lo * stride - pad + ki < 0) oh_lo++;
                while (oh_hi > oh_lo && (oh_hi - 1) * stride - pad + ki >= H) oh_hi--;
                for (q = 0; q < oh_lo * OW; q++) row[q] = 0;
                for (q = oh_hi * OW; q < OH * OW; q++) row[q] = 0;
                if (oh_lo == oh_hi || lo == hi) {
                    for (q = oh_lo * OW; q < oh_hi * OW; q++) row[q] = 0;
                } else if (stride == 1 && OW == W) {
                    /* row[q] = x[q + shift] for q from (oh_lo, lo) to (oh_hi - 1, hi - 1) */
                    int shift = (ki - pad) * W + off;
                    int q0 = oh_lo * OW + lo, q1 = (oh_hi - 1) * OW + hi;
                    for (q = q0; q < q1; q++) row[q] = x[q + shift];
                    for (oh = oh_lo; oh < oh_hi; oh++) {
                        lc__zero(row + oh * OW, lo);
                        lc__zero(row + oh * OW + hi, OW - hi);
                    }
                } else {
                    for (oh = oh_lo; oh < oh_hi; oh++) {
                        lc_real *r = row + (size_t)oh * OW;
                        const lc_real *src = x + (size_t)(oh * stride - pad + ki) * W;
                        lc__zero(r, lo);
                        for (ow = lo; ow < hi; ow++) r[ow] = src[ow * stride + off];
                        lc__zero(r + hi, OW - hi);
                    }
                }
            }
}

/* The adjoint of lc__im2col: dinp[C, H, W] += col scattered back.  col is
 * clobbered (its out-of-image entries are zeroed for the long-add path). */
static inline void lc__col2im(lc_real *dinp, lc_real *col, int C, int H, int W,
                              int K, int stride, int pad, int OH, int OW)
{
    int c, ki, kj, oh, ow, q;
    for (c = 0; c < C; c++)
        for (ki = 0; ki < K; ki++)
            for (kj = 0; kj < K; kj++) {
                lc_real *row = col + ((size_t)(c * K + ki) * K + kj) * OH * OW;
                lc_real *dx = dinp + (size_t)c * H * W;
                int off = kj - pad, lo = 0, hi = OW, oh_lo = 0, oh_hi = OH;
                while (lo < OW && lo * stride + off < 0) lo++;
                while (hi > lo && (hi - 1) * stride + off >= W) hi--;
                while (oh_lo < OH && oh_lo * stride - pad + ki < 0) oh_lo++;
                while (oh_hi > oh_lo && (oh_hi - 1) * stride - pad + ki >= H) oh_hi--;
                if (oh_lo == oh_hi || lo == hi) {
                    continue;
                } else if (stride == 1 && OW == W) {
                    int shift = (ki - pad) * W + off;
                    int q0 = oh_lo * OW + lo, q1 = (oh_hi - 1) * OW + hi;
                    for (oh = oh_lo; oh < oh_hi; oh++) {
                        lc__zero(row + oh * OW, lo);
                        lc__zero(row + oh * OW + hi, OW - hi);
                    }
                    for (q = q0; q < q1; q++) dx[q + shift] += row[q];
                } else {
                    for (oh = oh_lo; oh < oh_hi; oh++) {
                        const lc_real *r = row + (size_t)oh * OW;
                        lc_real *dst = dx + (size_t)(oh * stride - pad + ki) * W;
                        for (ow = lo; ow < hi; ow++) dst[ow * stride + off] += r[ow];
                    }
                }
            }
}

/* The sum of x[0..n-1], in 16 interleaved partial sums so that it
 * vectorises (a single running sum waits on each addition). */
static inline lc_real lc__sum(const lc_real *x, int n)
{
    lc_real part[16], s = 0;
    int i, v;
    for (v = 0; v < 16; v++)
        part[v] = 0;
    for (i = 0; i + 16 <= n; i += 16)
        for (v = 0; v < 16; v++)
            part[v] += x[i + v];
    for (v = 0; v < 16; v++)
        s += part[v];
    for (; i < n; i++)
        s += x[i];
    return s;
}

/* The work of a convolution over the batch, cut into `groups` groups of
 * samples (see "Threads" above).  Group t has samples [B t / G, B (t+1) / G)
 * and, when G > 1, the slice work + t * slice: an im2col buffer of `col`
 * values, then (backward) a partial dWt and dbias that group 0 does not use
 * (it adds into dWt and dbias themselves). */
typedef struct {
    lc_real *out, *dinp, *dWt, *dbias;
    const lc_real *inp, *Wt, *bias, *dout;
    lc_real *work;
    size_t slice;
    int B, C, H, W, OC, K, stride, pad, OH, OW, groups, add;
} lc__conv_job;

static inline void lc__conv_setup(lc__conv_job *j, int B, int C, int H, int W, int OC, int K,
                                  int stride, int pad, lc_real *work)
{
    int T = LC__THREADS;
    j->B = B, j->C = C, j->H = H, j->W = W, j->OC = OC, j->K = K;
    j->stride = stride, j->pad = pad, j->work = work;
    j->OH = LC_CONV_OUT(H, K, stride, pad), j->OW = LC_CONV_OUT(W, K, stride, pad);
    j->groups = T < B ? T : B;
    j->slice = (size_t)LC_CONV2D_SLICE(C, K, j->OH, j->OW, OC);
}

static void lc__conv_forward_task(void *p, int t)
{
    const lc__conv_job *j = (const lc__conv_job *)p;
    int P = j->OH * j->OW, R = j->C * j->K * j->K, OC = j->OC;
    int b, lo, hi;
    lc_real *col = j->work + (j->groups > 1 ? (size_t)t * j->slice : 0);
    lc__range(j->B, j->groups, t, 1, &lo, &hi);
    for (b = lo; b < hi; b++) {
        const lc_real *x = j->inp + (size_t)b * j->C * j->H * j->W;
        lc_real *y = j->out + (size_t)b * OC * P;
        lc__im2col(col, x, j->C, j->H, j->W, j->K, j->stride, j->pad, j->OH, j->OW);
        /* y = bias + Wt . col, written in one pass */
        lc__gemm_set(OC, P, R, j->Wt, R, 1, col, P, 1, y, P, 1, 1, j->bias);
    }
}

/* out[B, OC, OH, OW] = conv(inp[B, C, H, W], Wt[OC, C, K, K]) + bias[OC]
 * (bias may be NULL); OH = LC_CONV_OUT(H, K, stride, pad), same for OW.
 * work: LC_CONV2D_WORK(C, K, OH, OW) = C*K*K*OH*OW scratch values (with T
 * threads, LC_CONV2D_WORK_T: T slices).
 * Per sample: out_b[OC, OH*OW] = Wt[OC, C*K*K] . col[C*K*K, OH*OW]. */
LC_KERNEL void lc_conv2d_forward(lc_real *out, const lc_real *inp, const lc_real *Wt,
                                 const lc_real *bias, lc_real *work,
                                 int B, int C, int H, int W, int OC, int K, int stride, int pad)
{
    lc__conv_job j;
    lc__conv_setup(&j, B, C, H, W, OC, K, stride, pad, work);
    if (j.OH <= 0 || j.OW <= 0 || B <= 0)
        return;
    j.out = out, j.inp = inp, j.Wt = Wt, j.bias = bias;
    LC__FOR(j.groups, lc__conv_forward_task, &j);
}

static void lc__conv_backward_task(void *p, int t)
{
    const lc__conv_job *j = (const lc__conv_job *)p;
    int P = j->OH * j->OW, R = j->C * j->K * j->K, OC = j->OC, C = j->C, H = j->H, W = j->W;
    int b, o, lo, hi;
    lc_real *col = j->work + (j->groups > 1 ? (size_t)t * j->slice : 0);
    lc_real *dWt = j->dWt, *dbias = j->dbias;
    if (t > 0) {
        /* this group's share of the weight gradient, added up by the caller */
        dWt = j->dWt ? col + LC_CONV2D_WORK(C, j->K, j->OH, j->OW) : NULL;
        dbias = j->dbias ? col + LC_CONV2D_WORK(C, j->K, j->OH, j->OW) + (size_t)OC * R : NULL;
        if (dWt)
            memset(dWt, 0, sizeof(lc_real) * (size_t)OC * R);
        if (dbias)
            memset(dbias, 0, sizeof(lc_real) * (size_t)OC);
    }
    lc__range(j->B, j->groups, t, 1, &lo, &hi);
    for (b = lo; b < hi; b++) {
        const lc_real *dy = j->dout + (size_t)b * OC * P;
        if (dbias)
            for (o = 0; o < OC; o++)
                dbias[o] += lc__sum(dy + (size_t)o * P, P);
        if (dWt) {
            /* dWt[o, r] += sum_p dy[o, p] col[r, p]: both run along p, so one
             * is packed (transposed) by lc__gemm: dy when there are fewer
             * output channels than rows of col (dWt^T = col . dy^T, written
             * at column stride R), else col; with fewer than LC_NR rows r,
             * dot products instead. */
            lc__im2col(col, j->inp + (size_t)b * C * H * W, C, H, W, j->K, j->stride, j->pad,
                       j->OH, j->OW);
            if (R < LC_NR)
                lc__dots(OC, R, P, dy, P, col, P, dWt, R, 1);
            else if (OC < R)
                lc__gemm(R, OC, P, col, P, 1, dy, 1, P, dWt, 1, R);
            else
                lc__gemm(OC, R, P, dy, P, 1, col, 1, P, dWt, R, 1);
        }
        if (j->dinp) {
            /* dcol[r, p] = sum_o Wt[o, r] dy[o, p]: A(i = r, k = o) = Wt[o, r],
             * written (not added: no need to clear col first) */
            lc__gemm_set(R, P, OC, j->Wt, 1, R, dy, P, 1, col, P, 1, 1, NULL);
            if (!j->add)   /* assigned: cleared here, one sample at a time, while in cache */
                memset(j->dinp + (size_t)b * C * H * W, 0, sizeof(lc_real) * (size_t)C * H * W);
            lc__col2im(j->dinp + (size_t)b * C * H * W, col, C, H, W, j->K, j->stride, j->pad,
                       j->OH, j->OW);
        }
    }
}

/* As lc_conv2d_backward, but dinp is assigned (add = 0: it need not be
 * cleared first) or added to (add = 1). */
LC_KERNEL void lc_conv2d_backward_into(lc_real *dinp, lc_real *dWt, lc_real *dbias,
                                       const lc_real *dout, const lc_real *inp, const lc_real *Wt,
                                       lc_real *work, int B, int C, int H, int W, int OC, int K,
                                       int stride, int pad, int add)
{
    lc__conv_job j;
    int t, R = C * K * K, i;
    lc__conv_setup(&j, B, C, H, W, OC, K, stride, pad, work);
    if (dinp && !add && B > 0 && (j.OH <= 0 || j.OW <= 0))   /* no output: no gradient */
        memset(dinp, 0, sizeof(lc_real) * (size_t)B * C * H * W);
    if (j.OH <= 0 || j.OW <= 0 || B <= 0 || (!dinp && !dWt && !dbias))
        return;
    j.dinp = dinp, j.dWt = dWt, j.dbias = dbias, j.dout = dout, j.inp = inp, j.Wt = Wt;
    j.add = add;
    LC__FOR(j.groups, lc__conv_backward_task, &j);
    /* the groups' shares, in group order */
    for (t = 1; t < j.groups; t++) {
        const lc_real *part = work + (size_t)t * j.slice + LC_CONV2D_WORK(C, K, j.OH, j.OW);
        if (dWt)
            for (i = 0; i < OC * R; i++)
                dWt[i] += part[i];
        if (dbias)
            for (i = 0; i < OC; i++)
                dbias[i] += part[(size_t)OC * R + i];
    }
}

/* Gradients of lc_conv2d_forward, same argument order (NULL = skip):
 * dinp[B, C, H, W] += conv^T(dout[B, OC, OH, OW], Wt)
 * dWt[OC, C, K, K] += sum over b of dout_b[OC, OH*OW] . col_b^T
 * dbias[OC]        += sum over b, oh, ow of dout
 * work: as lc_conv2d_forward (holds col_b, then dcol_b). */
LC_KERNEL void lc_conv2d_backward(lc_real *dinp, lc_real *dWt, lc_real *dbias,
                                  const lc_real *dout, const lc_real *inp, const lc_real *Wt,
                                  lc_real *work,
                                  int B, int C, int H, int W, int OC, int K, int stride, int pad)
{
    lc_conv2d_backward_into(dinp, dWt, dbias, dout, inp, Wt, work, B, C, H, W, OC, K, stride,
                            pad, 1);
}

/* ------------------------------------------------------------------------ */
/* Pooling: size x size windows, step `stride`, no padding, floor mode.
 * The B * C planes are cut into ranges, one task each.                     */

typedef struct {
    lc_real *out, *dinp;
    const lc_real *inp, *dout;
    int planes, H, W, size, stride, OH, OW, parts, add;
} lc__pool_job;

/* The planes split over the threads when there are enough values. */
static inline void lc__pool_run(lc__pool_job *j, void (*task)(void *, int), int B, int C, int H,
                                int W, int size, int stride)
{
    int T = LC__THREADS;
    j->planes = B * C, j->H = H, j->W = W, j->size = size, j->stride = stride;
    j->OH = (H - size) / stride + 1, j->OW = (W - size) / stride + 1;
    j->parts = T > 1 && (double)B * C * H * W >= LC_PAR_VALUES ? (T < j->planes ? T : j->planes) : 1;
    if (j->dinp && !j->add && j->planes > 0 && (j->OH <= 0 || j->OW <= 0))
        memset(j->dinp, 0, sizeof(lc_real) * (size_t)j->planes * H * W);   /* no windows */
    if (j->planes <= 0 || j->OH <= 0 || j->OW <= 0)
        return;
    if (j->parts > 1)
        LC__FOR(j->parts, task, j);
    else
        task(j, 0);
}

/* Runs CHUNK(CH) for ow = 0, CH, 2 CH, ... over n windows (ow and v in
 * scope), CH = 8 (or 4 when n < 8, 1 when n < 4): the last chunk starts at
 * n - CH and overlaps the one before, which is harmless for loops that
 * assign values computed from their inputs alone.  A loop of a constant 8
 * or 4 vectorises whole, where a loop of n = 7 or 14 would run mostly in
 * its scalar epilogue. */
#define LC__CHUNKED(n, CHUNK)                                                         \
    if ((n) >= 8)                                                                     \
        for (ow = 0;; ow += 8) {                                                      \
            if (ow + 8 > (n)) ow = (n) - 8;                                           \
            CHUNK(8)                                                                  \
            if (ow + 8 >= (n)) break;                                                 \
        }                                                                             \
    else if ((n) >= 4)                                                                \
        for (ow = 0;; ow += 4) {                                                      \
            if (ow + 4 > (n)) ow = (n) - 4;                                           \
            CHUNK(4)                                                                  \
            if (ow + 4 >= (n)) break;                                                 \
        }                                                                             \
    else                                                                              \
        for (ow = 0; ow < (n); ow++) {                                                \
            CHUNK(1)                                                                  \
        }

/* v replaces m as the maximum: larger, or NaN (NaN wins, as in PyTorch).
 * LC__MAX2 is that choice as an expression gcc compiles without branches
 * (a max and a blend); LC__TAKES is 0 or 1, from set-on-condition
 * instructions.  The 2 x 2 loops below are written with them: their rows
 * are short (7, 14 windows), so much of the work is in scalar code, where a
 * branch on random data mispredicts half the time (3-10x slower). */
#define LC__TAKES(v, m) (((v) > (m)) | ((v) != (v)))
#define LC__MAX2(m, v) ((v) != (v) ? (v) : (v) > (m) ? (v) : (m))

static void lc__maxpool_forward_task(void *p, int t)
{
    const lc__pool_job *j = (const lc__pool_job *)p;
    int H = j->H, W = j->W, OH = j->OH, OW = j->OW, size = j->size, stride = j->stride;
    int n, oh, ow, i, k, v, lo, hi;
    lc__range(j->planes, j->parts, t, 1, &lo, &hi);
    for (n = lo; n < hi; n++) {
        const lc_real *x = j->inp + (size_t)n * H * W;
        lc_real *y = j->out + (size_t)n * OH * OW;
        if (size == 2 && stride == 2) {
            for (oh = 0; oh < OH; oh++) {
                const lc_real *x0 = x + (size_t)2 * oh * W, *x1 = x0 + W;
                lc_real *yr = y + (size_t)oh * OW;
#define LC__MAXPOOL_CHUNK(CH)                                                         \
                LC__KEEP_LOOP for (v = 0; v < CH; v++) {                            \
                    int w = ow + v;                                                   \
                    lc_real m = x0[2 * w], b = x0[2 * w + 1], c = x1[2 * w], d = x1[2 * w + 1]; \
                    m = LC__MAX2(m, b);                                               \
                    m = LC__MAX2(m, c);                                               \
                    yr[w] = LC__MAX2(m, d);                                           \
                }
                LC__CHUNKED(OW, LC__MAXPOOL_CHUNK)
#undef LC__MAXPOOL_CHUNK
            }
            continue;
        }
        for (oh = 0; oh < OH; oh++)
            for (ow = 0; ow < OW; ow++) {
                const lc_real *w = x + (size_t)oh * stride * W + (size_t)ow * stride;
                lc_real m = w[0];
                for (i = 0; i < size; i++)
                    for (k = 0; k < size; k++) {
                        lc_real v = w[i * W + k];
                        if (LC__TAKES(v, m))
                            m = v;
                    }
                y[oh * OW + ow] = m;
            }
    }
}

/* out[B, C, OH, OW] = max over the window of inp[B, C, H, W],
 * OH = (H - size) / stride + 1.  NaN wins, as in PyTorch. */
LC_KERNEL void lc_maxpool_forward(lc_real *out, const lc_real *inp,
                                  int B, int C, int H, int W, int size, int stride)
{
    lc__pool_job j;
    j.out = out, j.inp = inp, j.dinp = NULL, j.add = 1;
    lc__pool_run(&j, lc__maxpool_forward_task, B, C, H, W, size, stride);
}

static void lc__maxpool_backward_task(void *p, int t)
{
    const lc__pool_job *j = (const lc__pool_job *)p;
    int H = j->H, W = j->W, OH = j->OH, OW = j->OW, size = j->size, stride = j->stride;
    int n, oh, ow, i, k, v, lo, hi;
    lc__range(j->planes, j->parts, t, 1, &lo, &hi);
    for (n = lo; n < hi; n++) {
        const lc_real *x = j->inp + (size_t)n * H * W;
        const lc_real *dy = j->dout + (size_t)n * OH * OW;
        lc_real *dx = j->dinp + (size_t)n * H * W;
        if (size == 2 && stride == 2 && !j->add) {
            /* assigned: the 4 values of each window, then what no window covers */
            for (oh = 0; oh < OH; oh++) {
                const lc_real *x0 = x + (size_t)2 * oh * W, *x1 = x0 + W;
                lc_real *d0 = dx + (size_t)2 * oh * W, *d1 = d0 + W;
                const lc_real *g = dy + (size_t)oh * OW;
                int finite = 1;
                for (ow = 0; ow < OW; ow++)
                    finite &= g[ow] - g[ow] == 0;
                if (finite) {   /* g times 1 or 0, in vectorised chunks */
#define LC__MAXPOOL_BACK_CHUNK(CH)                                                    \
                    LC__KEEP_LOOP for (v = 0; v < CH; v++) {                        \
                        int w = ow + v;                                               \
                        lc_real a = x0[2 * w], b = x0[2 * w + 1], c = x1[2 * w], d = x1[2 * w + 1]; \
                        lc_real m1 = LC__MAX2(a, b), m2 = LC__MAX2(m1, c), gg = g[w]; \
                        lc_real fb = (lc_real)LC__TAKES(b, a), fc = (lc_real)LC__TAKES(c, m1); \
                        lc_real fd = (lc_real)LC__TAKES(d, m2), nd = 1 - fd;          \
                        d0[2 * w] = (1 - fb) * (1 - fc) * nd * gg;                    \
                        d0[2 * w + 1] = fb * (1 - fc) * nd * gg;                      \
                        d1[2 * w] = fc * nd * gg;                                     \
                        d1[2 * w + 1] = fd * gg;                                      \
                    }
                    LC__CHUNKED(OW, LC__MAXPOOL_BACK_CHUNK)
#undef LC__MAXPOOL_BACK_CHUNK
                } else for (ow = 0; ow < OW; ow++) {
                    lc_real a = x0[2 * ow], b = x0[2 * ow + 1], c = x1[2 * ow], d = x1[2 * ow + 1];
                    lc_real m1 = LC__MAX2(a, b), m2 = LC__MAX2(m1, c), gg = g[ow];
                    int tb = LC__TAKES(b, a), tc = LC__TAKES(c, m1), td = LC__TAKES(d, m2);
                    lc_real fb = (lc_real)tb, fc = (lc_real)tc, fd = (lc_real)td, nd = 1 - fd;
                    if (gg - gg != 0) {
                        int at = td ? 3 : tc ? 2 : tb;
                        d0[2 * ow] = d0[2 * ow + 1] = d1[2 * ow] = d1[2 * ow + 1] = 0;
                        (at < 2 ? d0 : d1)[2 * ow + (at & 1)] = gg;
                        continue;
                    }
                    d0[2 * ow] = (1 - fb) * (1 - fc) * nd * gg;
                    d0[2 * ow + 1] = fb * (1 - fc) * nd * gg;
                    d1[2 * ow] = fc * nd * gg;
                    d1[2 * ow + 1] = fd * gg;
                }
                if (W > 2 * OW) {
                    d0[W - 1] = 0;
                    d1[W - 1] = 0;
                }
            }
            if (H > 2 * OH)
                memset(dx + (size_t)2 * OH * W, 0, sizeof(lc_real) * (size_t)W);
            continue;
        }
        if (!j->add)   /* assigned, overlapping or odd windows: clear the plane, then add */
            memset(dx, 0, sizeof(lc_real) * (size_t)H * W);
        if (size == 2 && stride == 2) {
            /* Windows do not overlap: each of the 4 values gets g times 1 or
             * 0 (exact for finite g: the others get +-0).  A g that is inf
             * or NaN (times 0 = NaN) goes to the maximum alone. */
            for (oh = 0; oh < OH; oh++) {
                const lc_real *x0 = x + (size_t)2 * oh * W, *x1 = x0 + W;
                lc_real *d0 = dx + (size_t)2 * oh * W, *d1 = d0 + W;
                const lc_real *g = dy + (size_t)oh * OW;
                for (ow = 0; ow < OW; ow++) {
                    lc_real a = x0[2 * ow], b = x0[2 * ow + 1], c = x1[2 * ow], d = x1[2 * ow + 1];
                    lc_real m1 = LC__MAX2(a, b), m2 = LC__MAX2(m1, c), gg = g[ow];
                    int tb = LC__TAKES(b, a), tc = LC__TAKES(c, m1), td = LC__TAKES(d, m2);
                    lc_real fb = (lc_real)tb, fc = (lc_real)tc, fd = (lc_real)td, nd = 1 - fd;
                    if (gg - gg != 0) {
                        int at = td ? 3 : tc ? 2 : tb;
                        (at < 2 ? d0 : d1)[2 * ow + (at & 1)] += gg;
                        continue;
                    }
                    d0[2 * ow] += (1 - fb) * (1 - fc) * nd * gg;
                    d0[2 * ow + 1] += fb * (1 - fc) * nd * gg;
                    d1[2 * ow] += fc * nd * gg;
                    d1[2 * ow + 1] += fd * gg;
                }
            }
            continue;
        }
        for (oh = 0; oh < OH; oh++)
            for (ow = 0; ow < OW; ow++) {
                int base = oh * stride * W + ow * stride, at = base;
                lc_real m = x[base];
                for (i = 0; i < size; i++)
                    for (k = 0; k < size; k++) {
                        lc_real v = x[base + i * W + k];
                        if (LC__TAKES(v, m)) {
                            m = v;
                            at = base + i * W + k;
                        }
                    }
                dx[at] += dy[oh * OW + ow];
            }
    }
}

/* As lc_maxpool_backward, but dinp is assigned (add = 0: it need not be
 * cleared first) or added to (add = 1). */
LC_KERNEL void lc_maxpool_backward_into(lc_real *dinp, const lc_real *dout, const lc_real *inp,
                                        int B, int C, int H, int W, int size, int stride, int add)
{
    lc__pool_job j;
    j.dinp = dinp, j.dout = dout, j.inp = inp, j.add = add;
    lc__pool_run(&j, lc__maxpool_backward_task, B, C, H, W, size, stride);
}

/* dinp[B, C, H, W] += dout[B, C, OH, OW] routed to the window's maximum of
 * inp (the first one in row-major order on ties; the last NaN if any). */
LC_KERNEL void lc_maxpool_backward(lc_real *dinp, const lc_real *dout, const lc_real *inp,
                                   int B, int C, int H, int W, int size, int stride)
{
    lc_maxpool_backward_into(dinp, dout, inp, B, C, H, W, size, stride, 1);
}

static void lc__avgpool_forward_task(void *p, int t)
{
    const lc__pool_job *j = (const lc__pool_job *)p;
    int H = j->H, W = j->W, OH = j->OH, OW = j->OW, size = j->size, stride = j->stride;
    int n, oh, ow, i, k, lo, hi;
    lc_real count = (lc_real)(size * size);
    lc__range(j->planes, j->parts, t, 1, &lo, &hi);
    for (n = lo; n < hi; n++) {
        const lc_real *x = j->inp + (size_t)n * H * W;
        lc_real *y = j->out + (size_t)n * OH * OW;
        for (oh = 0; oh < OH; oh++)
            for (ow = 0; ow < OW; ow++) {
                const lc_real *w = x + (size_t)oh * stride * W + (size_t)ow * stride;
                lc_real s = 0;
                for (i = 0; i < size; i++)
                    for (k = 0; k < size; k++)
                        s += w[i * W + k];
                y[oh * OW + ow] = s / count;
            }
    }
}

/* out[B, C, OH, OW] = mean over the window of inp[B, C, H, W]. */
LC_KERNEL void lc_avgpool_forward(lc_real *out, const lc_real *inp,
                                  int B, int C, int H, int W, int size, int stride)
{
    lc__pool_job j;
    j.out = out, j.inp = inp, j.dinp = NULL, j.add = 1;
    lc__pool_run(&j, lc__avgpool_forward_task, B, C, H, W, size, stride);
}

static void lc__avgpool_backward_task(void *p, int t)
{
    const lc__pool_job *j = (const lc__pool_job *)p;
    int H = j->H, W = j->W, OH = j->OH, OW = j->OW, size = j->size, stride = j->stride;
    int n, oh, ow, i, k, lo, hi;
    lc_real count = (lc_real)(size * size);
    lc__range(j->planes, j->parts, t, 1, &lo, &hi);
    for (n = lo; n < hi; n++) {
        const lc_real *dy = j->dout + (size_t)n * OH * OW;
        lc_real *dx = j->dinp + (size_t)n * H * W;
        if (!j->add)   /* assigned: clear the plane, then add */
            memset(dx, 0, sizeof(lc_real) * (size_t)H * W);
        for (oh = 0; oh < OH; oh++)
            for (ow = 0; ow < OW; ow++) {
                lc_real g = dy[oh * OW + ow] / count;
                lc_real *w = dx + (size_t)oh * stride * W + (size_t)ow * stride;
                for (i = 0; i < size; i++)
                    for (k = 0; k < size; k++)
                        w[i * W + k] += g;
            }
    }
}

/* As lc_avgpool_backward, but dinp is assigned (add = 0: it need not be
 * cleared first) or added to (add = 1). */
LC_KERNEL void lc_avgpool_backward_into(lc_real *dinp, const lc_real *dout, const lc_real *inp,
                                        int B, int C, int H, int W, int size, int stride, int add)
{
    lc__pool_job j;
    (void)inp;
    j.dinp = dinp, j.dout = dout, j.inp = NULL, j.add = add;
    lc__pool_run(&j, lc__avgpool_backward_task, B, C, H, W, size, stride);
}

/* dinp[B, C, H, W] += dout[B, C, OH, OW] / (size * size) over each window.
 * inp is unused (kept for the common argument order). */
LC_KERNEL void lc_avgpool_backward(lc_real *dinp, const lc_real *dout, const lc_real *inp,
                                   int B, int C, int H, int W, int size, int stride)
{
    lc_avgpool_backward_into(dinp, dout, inp, B, C, H, W, size, stride, 1);
}

/* ------------------------------------------------------------------------ */
/* Elementwise loops: relu and the optimizer steps, cut into ranges when
 * long.  The same arithmetic as the loops layerc used to generate.         */

typedef struct {
    lc_real *a, *b, *c;
    const lc_real *x, *y;
    int n, parts, flag;
    lc_real k[9];
} lc__elem_job;

static inline void lc__elem_run(lc__elem_job *j, void (*task)(void *, int), int n)
{
    int T = LC__THREADS;
    j->n = n;
    j->parts = T > 1 && n >= LC_PAR_VALUES ? T : 1;
    if (n <= 0)
        return;
    if (j->parts > 1)
        LC__FOR(j->parts, task, j);
    else
        task(j, 0);
}

static void lc__relu_forward_task(void *p, int t)
{
    const lc__elem_job *j = (const lc__elem_job *)p;
    lc_real *out = j->a;
    const lc_real *inp = j->x;
    int i, lo, hi;
    lc__range(j->n, j->parts, t, 64, &lo, &hi);
    for (i = lo; i < hi; i++)
        out[i] = inp[i] > 0 ? inp[i] : 0;
}

/* out[i] = inp[i] > 0 ? inp[i] : 0 */
LC_KERNEL void lc_relu_forward(lc_real *out, const lc_real *inp, int n)
{
    lc__elem_job j;
    j.a = out, j.x = inp;
    lc__elem_run(&j, lc__relu_forward_task, n);
}

static void lc__relu_backward_task(void *p, int t)
{
    const lc__elem_job *j = (const lc__elem_job *)p;
    lc_real *dinp = j->a;
    const lc_real *dout = j->x, *out = j->y;
    int i, lo, hi;
    lc__range(j->n, j->parts, t, 64, &lo, &hi);
    if (j->flag)
        for (i = lo; i < hi; i++)
            dinp[i] += out[i] > 0 ? dout[i] : 0;
    else
        for (i = lo; i < hi; i++)
            dinp[i] = out[i] > 0 ? dout[i] : 0;
}

/* dinp[i] (+)= out[i] > 0 ? dout[i] : 0 */
LC_KERNEL void lc_relu_backward(lc_real *dinp, const lc_real *dout, const lc_real *out, int n,
                                int accumulate)
{
    lc__elem_job j;
    j.a = dinp, j.x = dout, j.y = out, j.flag = accumulate;
    lc__elem_run(&j, lc__relu_backward_task, n);
}

static void lc__sgd_task(void *p, int t)
{
    const lc__elem_job *j = (const lc__elem_job *)p;
    lc_real *params = j->a, *velocity = j->b;
    const lc_real *grads = j->x;
    const lc_real lr = j->k[0], momentum = j->k[1], decay = j->k[2];
    int i, lo, hi;
    lc__range(j->n, j->parts, t, 64, &lo, &hi);
    if (velocity)
        for (i = lo; i < hi; i++) {
            lc_real g = grads[i] + decay * params[i];
            velocity[i] = momentum * velocity[i] + g;
            params[i] -= lr * velocity[i];
        }
    else
        for (i = lo; i < hi; i++) {
            lc_real g = grads[i] + decay * params[i];
            params[i] -= lr * g;
        }
}

/* g = grads + decay p; v = momentum v + g (velocity not NULL); p -= lr v (or lr g) */
LC_KERNEL void lc_sgd_update(lc_real *params, const lc_real *grads, lc_real *velocity, int n,
                             lc_real lr, lc_real momentum, lc_real decay)
{
    lc__elem_job j;
    j.a = params, j.b = velocity, j.x = grads;
    j.k[0] = lr, j.k[1] = momentum, j.k[2] = decay;
    lc__elem_run(&j, lc__sgd_task, n);
}

/* sqrt in lc_real's precision */
#define LC__SQRT(x) (sizeof(lc_real) == sizeof(float) ? (lc_real)sqrtf((float)(x)) \
                                                      : (lc_real)sqrt((double)(x)))

static void lc__adam_task(void *p, int t)
{
    const lc__elem_job *j = (const lc__elem_job *)p;
    lc_real *params = j->a, *m = j->b, *v = j->c;
    const lc_real *grads = j->x;
    const lc_real step_size = j->k[0], bias2_sqrt = j->k[1], beta1 = j->k[2], beta2 = j->k[3];
    const lc_real one_beta1 = j->k[4], one_beta2 = j->k[5], eps = j->k[6], decay = j->k[7];
    int i, lo, hi;
    lc__range(j->n, j->parts, t, 64, &lo, &hi);
    for (i = lo; i < hi; i++) {
        lc_real g = grads[i] + decay * params[i];
        m[i] = beta1 * m[i] + one_beta1 * g;
        v[i] = beta2 * v[i] + one_beta2 * g * g;
        params[i] -= step_size * m[i] / (LC__SQRT(v[i]) / bias2_sqrt + eps);
    }
}

/* Adam, as torch.optim.Adam (see kernels.h) */
LC_KERNEL void lc_adam_update(lc_real *params, const lc_real *grads, lc_real *m, lc_real *v, int n,
                              lc_real step_size, lc_real bias2_sqrt, lc_real beta1, lc_real beta2,
                              lc_real one_beta1, lc_real one_beta2, lc_real eps, lc_real decay)
{
    lc__elem_job j;
    j.a = params, j.b = m, j.c = v, j.x = grads;
    j.k[0] = step_size, j.k[1] = bias2_sqrt, j.k[2] = beta1, j.k[3] = beta2;
    j.k[4] = one_beta1, j.k[5] = one_beta2, j.k[6] = eps, j.k[7] = decay;
    lc__elem_run(&j, lc__adam_task, n);
}

#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif
