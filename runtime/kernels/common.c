#ifndef LC_REAL_DEFINED
#define LC_REAL_DEFINED
typedef float lc_real;
#endif
#ifndef LC_KERNEL
#define LC_KERNEL
#endif
/* kernels/common.c: what every kernel unit shares (configuration, tasks and
 * threads, ranges, elementwise jobs), and the design of them all.
 *
 * The kernels are the heavy loops of layerc (matrix product, convolution,
 * pooling, and the long elementwise loops: activations, losses, the
 * optimizer steps), one unit a file in runtime/kernels/: common, vmath
 * (float exp, log, tanh, erf), gemm, fused, conv, dwconv, pool, elementwise,
 * activation, loss, norm, optim.  The API is in kernels.h.  The units are
 * used three ways: compiled into layerc (runtime/kernels.c includes them
 * all; -O3 -DLC_POOL, once per instruction set, chosen at start-up by
 * runtime/dispatch.c), pasted into generated C (only the units its ops
 * declare, in that order, after `#define LC_KERNEL static`), and compiled
 * again with `typedef double lc_real` for gradient checks
 * (runtime/kernels_double.c, serial).  So it includes only
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

/* As in kernels.h: an optimizer step, for kernels that fuse it in. */
#ifndef LC_STEP_FN_DEFINED
#define LC_STEP_FN_DEFINED
typedef void (*lc_step_fn)(void *ctx, lc_real *p, const lc_real *g, long at, int n, lc_real decay);
#endif
#ifndef LC_STEP_ROW   /* as in kernels.h */
#define LC_STEP_ROW 256
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

/* gcc and clang fully unroll a short loop before they vectorise, and then
 * vectorise the wrong one (gathers across rows, 10x slower): loops marked
 * LC__KEEP_LOOP must stay loops. */
#if !defined(__TINYC__) && (defined(__clang__) || (defined(__GNUC__) && __GNUC__ >= 8))
#define LC__KEEP_LOOP _Pragma("GCC unroll 1")
#else
#define LC__KEEP_LOOP
#endif

/* The geometry of a convolution, for conv.c, conv_mcu.c and dwconv.c (as in
 * kernels.h; int8.c, pasted alone, has its own copy). */
#ifndef LC_CONV_DIMS_DEFINED
#define LC_CONV_DIMS_DEFINED
typedef struct {
    int C, H, W;      /* input: channels, height, width */
    int OC, OH, OW;   /* output: channels, height, width */
    int KH, KW;       /* kernel */
    int SH, SW;       /* stride */
    int PH, PW;       /* zero rows above and columns left of the input; those below
                         and right are whatever OH and OW need */
    int DH, DW;       /* dilation */
    int G;            /* groups: C and OC are multiples of G */
} lc_conv_dims;
#endif

/* The generated C may be compiled as C++ too, which spells restrict so. */
#ifdef __cplusplus
#define LC__RESTRICT __restrict
#else
#define LC__RESTRICT restrict
#endif

/* [lo, hi) of part t of n things cut into `parts`, at multiples of `align`. */
static inline void lc__range(int n, int parts, int t, int align, int *lo, int *hi)
{
    int units = (n + align - 1) / align;
    int a = (int)((long)units * t / parts), b = (int)((long)units * (t + 1) / parts);
    *lo = a * align < n ? a * align : n;
    *hi = b * align < n ? b * align : n;
}

/* ------------------------------------------------------------------------ */
/* Elementwise loops: activations, losses, the optimizer steps, cut into
 * ranges when long.                                                        */

typedef struct {
    lc_real *a, *b, *c, *d;
    const lc_real *x, *y;
    double *part;          /* a reduction's sum of each chunk */
    int n, parts, flag, len, chunk;
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

/* Rows of len values (softmax): the rows split over the threads. */
static inline void lc__rows_run(lc__elem_job *j, void (*task)(void *, int), int rows, int len)
{
    int T = LC__THREADS;
    j->n = rows, j->len = len;
    j->parts = T > 1 && (double)rows * len >= LC_PAR_VALUES ? (T < rows ? T : rows) : 1;
    if (rows <= 0 || len <= 0)
        return;
    if (j->parts > 1)
        LC__FOR(j->parts, task, j);
    else
        task(j, 0);
}

/* A sum over n items (values, or rows of len values): each task adds up
 * whole chunks, each chunk into its own slot, and the slots are added in
 * order; the chunks depend on n and len alone (at most 64 of them), so the
 * sum has the same bits on any number of threads. */
#define LC__SLOTS 64
static inline double lc__sum_run(lc__elem_job *j, void (*task)(void *, int), int n, int len)
{
    double part[LC__SLOTS], total = 0;
    int T = LC__THREADS, chunks, c;
    if (n <= 0 || len <= 0)
        return 0;
    j->n = n, j->len = len, j->part = part;
    j->chunk = (4096 + len - 1) / len;
    if (j->chunk < (n + LC__SLOTS - 1) / LC__SLOTS)
        j->chunk = (n + LC__SLOTS - 1) / LC__SLOTS;
    chunks = (n + j->chunk - 1) / j->chunk;
    j->parts = T > 1 && (double)n * len >= LC_PAR_VALUES ? (T < chunks ? T : chunks) : 1;
    if (j->parts > 1)
        LC__FOR(j->parts, task, j);
    else
        task(j, 0);
    for (c = 0; c < chunks; c++)
        total += part[c];
    return total;
}

/* ------------------------------------------------------------------------ */
/* The tasks of elementwise ops: out[i] = EXPR of x = inp[i]; dinp[i] =
 * (or +=) EXPR of dy = dout[i] and V, the value the gradient needs
 * (x = inp[i] or y = out[i]); k0, k1 are the op's constants.  lc__map
 * and lc__grad run them.                                                   */

#define LC__MAP_TASK(NAME, ...)                                 \
    static void NAME(void *p, int t)                            \
    {                                                           \
        const lc__elem_job *j = (const lc__elem_job *)p;        \
        lc_real *out = j->a;                                    \
        const lc_real *inp = j->x;                              \
        const lc_real k0 = j->k[0], k1 = j->k[1];               \
        int i, lo, hi;                                          \
        (void)k0, (void)k1;                                     \
        lc__range(j->n, j->parts, t, 64, &lo, &hi);             \
        for (i = lo; i < hi; i++) {                             \
            const lc_real x = inp[i];                           \
            out[i] = (__VA_ARGS__);                             \
        }                                                       \
    }

#define LC__GRAD_TASK(NAME, V, ...)                             \
    static void NAME(void *p, int t)                            \
    {                                                           \
        const lc__elem_job *j = (const lc__elem_job *)p;        \
        lc_real *dinp = j->a;                                   \
        const lc_real *dout = j->x, *saved = j->y;              \
        const lc_real k0 = j->k[0], k1 = j->k[1];               \
        int i, lo, hi;                                          \
        (void)k0, (void)k1;                                     \
        lc__range(j->n, j->parts, t, 64, &lo, &hi);             \
        if (j->flag)                                            \
            for (i = lo; i < hi; i++) {                         \
                const lc_real dy = dout[i], V = saved[i];       \
                dinp[i] += (__VA_ARGS__);                       \
            }                                                   \
        else                                                    \
            for (i = lo; i < hi; i++) {                         \
                const lc_real dy = dout[i], V = saved[i];       \
                dinp[i] = (__VA_ARGS__);                        \
            }                                                   \
    }

static inline void lc__map(void (*task)(void *, int), lc_real *out, const lc_real *inp, int n,
                           lc_real k0, lc_real k1)
{
    lc__elem_job j;
    j.a = out, j.x = inp, j.k[0] = k0, j.k[1] = k1;
    lc__elem_run(&j, task, n);
}

static inline void lc__grad(void (*task)(void *, int), lc_real *dinp, const lc_real *dout,
                            const lc_real *saved, int n, int add, lc_real k0, lc_real k1)
{
    lc__elem_job j;
    j.a = dinp, j.x = dout, j.y = saved, j.flag = add, j.k[0] = k0, j.k[1] = k1;
    lc__elem_run(&j, task, n);
}
