/* kernels/gemm.c: matrix products (register-blocked, packed; dot products for
 * narrow batches; split over the threads) and the linear layer's kernels.
 * Needs common.c.  See common.c for the design. */
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
            bp = Bm + (size_t)pc * (size_t)rsb + jc;    /* rows already contiguous */        \
            ldb = rsb;                                                               \
        } else {                                                                     \
            /* columns j >= nr repeat column nr - 1: their results are dropped,     \
             * and one loop without a zero fill is faster (gcc makes a zero-fill     \
             * loop a memset call per row) */                                        \
            const lc_real *src = Bm + (size_t)pc * (size_t)rsb + (size_t)jc * (size_t)csb;           \
            if (nr == NRW)                                                           \
                for (k = 0; k < kc; k++) {                                           \
                    lc_real *row = pack + k * NRW;                                   \
                    const lc_real *s = src + (size_t)k * (size_t)rsb;                        \
                    for (j = 0; j < NRW; j++)                                        \
                        row[j] = s[(size_t)j * (size_t)csb];                                 \
                }                                                                    \
            else                                                                     \
                for (k = 0; k < kc; k++) {                                           \
                    lc_real *row = pack + k * NRW;                                   \
                    const lc_real *s = src + (size_t)k * (size_t)rsb;                        \
                    for (j = 0; j < NRW; j++)                                        \
                        row[j] = s[(size_t)(j < nr ? j : nr - 1) * (size_t)csb];             \
                }                                                                    \
            bp = pack;                                                               \
            ldb = NRW;                                                               \
        }                                                                            \
        for (ic = 0; ic < M; ic += LC_MR) {                                          \
            int mr = M - ic < LC_MR ? M - ic : LC_MR;                                \
            MICRO(kc, A + (size_t)ic * (size_t)rsa + (size_t)pc * (size_t)csa, rsa, csa,             \
                  bp, ldb, Cm + (size_t)ic * (size_t)rsc + (size_t)jc * (size_t)csc, rsc, csc,       \
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
                bp = Bm + (size_t)pc * (size_t)rsb + jc;    /* rows already contiguous */
                ldb = rsb;
            } else {
                /* columns j >= nr repeat column nr - 1: their results are
                 * dropped, and one loop without a zero fill is faster (gcc
                 * makes a zero-fill loop a memset call per row) */
                const lc_real *src = Bm + (size_t)pc * (size_t)rsb + (size_t)jc * (size_t)csb;
                if (nr == LC_NR)
                    for (k = 0; k < kc; k++) {
                        lc_real *row = pack + k * LC_NR;
                        const lc_real *s = src + (size_t)k * (size_t)rsb;
                        for (j = 0; j < LC_NR; j++)
                            row[j] = s[(size_t)j * (size_t)csb];
                    }
                else
                    for (k = 0; k < kc; k++) {
                        lc_real *row = pack + k * LC_NR;
                        const lc_real *s = src + (size_t)k * (size_t)rsb;
                        for (j = 0; j < LC_NR; j++)
                            row[j] = s[(size_t)(j < nr ? j : nr - 1) * (size_t)csb];
                    }
                bp = pack;
                ldb = LC_NR;
            }
            for (ic = 0; ic < M; ic += LC_MR) {
                int mr = M - ic < LC_MR ? M - ic : LC_MR;
                lc__micro(kc, A + (size_t)ic * (size_t)rsa + (size_t)pc * (size_t)csa, rsa, csa,
                          bp, ldb, Cm + (size_t)ic * (size_t)rsc + (size_t)jc * (size_t)csc, rsc, csc,
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
    int i, j, k, v, kv = K - K % LC_VL;                                              \
    for (i = 0; i < TM; i++)                                                         \
        a[i] = A + (size_t)(i < mi ? i : 0) * (size_t)lda;                                   \
    for (j = 0; j < TN; j++)                                                         \
        b[j] = Bm + (size_t)(j < nj ? j : 0) * (size_t)ldb;                                  \
    for (i = 0; i < TM; i++)                                                         \
        for (j = 0; j < TN; j++)                                                     \
            for (v = 0; v < LC_VL; v++)                                              \
                acc[i][j][v] = 0;                                                    \
    for (k = 0; k < kv; k += LC_VL)                                                  \
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
            for (t = kv; t < K; t++)                                                 \
                s += a[i][t] * b[j][t];                                              \
            Cm[(size_t)i * (size_t)rsc + (size_t)j * (size_t)csc] += s;                              \
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
            lc__dots1x8(1, N - j < 8 ? N - j : 8, K, A, lda, Bm + (size_t)j * (size_t)ldb, ldb,
                        Cm + (size_t)j * (size_t)csc, rsc, csc);
        return;
    }
    if ((N + 2) / 3 * 3 - N < (N + 3) / 4 * 4 - N) {   /* 4 x 3 blocks waste less (N = 9) */
        for (i = 0; i < M; i += 4)
            for (j = 0; j < N; j += 3)
                lc__dots4x3(M - i < 4 ? M - i : 4, N - j < 3 ? N - j : 3, K,
                            A + (size_t)i * (size_t)lda, lda, Bm + (size_t)j * (size_t)ldb, ldb,
                            Cm + (size_t)i * (size_t)rsc + (size_t)j * (size_t)csc, rsc, csc);
        return;
    }
    for (i = 0; i < M; i += 4)
        for (j = 0; j < N; j += 4)
            lc__dots4x4(M - i < 4 ? M - i : 4, N - j < 4 ? N - j : 4, K,
                        A + (size_t)i * (size_t)lda, lda, Bm + (size_t)j * (size_t)ldb, ldb,
                        Cm + (size_t)i * (size_t)rsc + (size_t)j * (size_t)csc, rsc, csc);
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
            lc__dots(g->M, hi - lo, g->K, g->A, g->rsa, g->Bm + (size_t)lo * (size_t)g->csb, g->csb,
                     g->Cm + (size_t)lo * (size_t)g->csc, g->rsc, g->csc);
        else
            lc__gemm_set(g->M, hi - lo, g->K, g->A, g->rsa, g->csa, g->Bm + (size_t)lo * (size_t)g->csb,
                         g->rsb, g->csb, g->Cm + (size_t)lo * (size_t)g->csc, g->rsc, g->csc, g->set,
                         g->bias);
    } else {
        lc__range(g->M, g->parts, t, g->dots ? 4 : LC_MR, &lo, &hi);
        if (g->dots)
            lc__dots(hi - lo, g->N, g->K, g->A + (size_t)lo * (size_t)g->rsa, g->rsa, g->Bm, g->csb,
                     g->Cm + (size_t)lo * (size_t)g->rsc, g->rsc, g->csc);
        else
            lc__gemm_set(hi - lo, g->N, g->K, g->A + (size_t)lo * (size_t)g->rsa, g->rsa, g->csa, g->Bm,
                         g->rsb, g->csb, g->Cm + (size_t)lo * (size_t)g->rsc, g->rsc, g->csc, g->set,
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
                out[(size_t)b * (size_t)OC + (size_t)o] = bias ? bias[o] : 0;
    /* A batch of a few samples: dot products of each sample with W's rows. */
    if (B < LC_DOTS_BATCH) {
        for (b = 0; b < B; b++)
            lc__gemm_par(T, 1, 1, OC, C, inp + (size_t)b * (size_t)C, C, 1, W, 1, C,
                         out + (size_t)b * (size_t)OC, OC, 1, 0, NULL);
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
                dbias[o] += dout[(size_t)b * (size_t)OC + (size_t)o];
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
