#ifndef LC_REAL_DEFINED
#define LC_REAL_DEFINED
typedef float lc_real;
#endif
#ifndef LC_KERNEL
#define LC_KERNEL
#endif
/* kernels.c: the heavy loops of layerc (matrix product, convolution, pooling).
 *
 * The API is in kernels.h.  This one source is used three ways: compiled
 * into layerc (-O3 -march=native), pasted into every generated C file after
 * `#define LC_KERNEL static inline`, and pasted with `typedef double
 * lc_real` for gradient checks under tcc.  So it includes only <string.h>
 * and <math.h>, does not include kernels.h, allocates nothing, keeps no
 * mutable global state (reentrant), uses at most ~70 KiB of stack, and every
 * helper is static inline.
 *
 * Tensors are row-major; B is the batch size.  Backward functions ADD (+=)
 * into the gradients they are given and skip NULL gradient pointers.
 *
 * Every matrix product (the three of a linear layer, the three of a
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
 *     repeat row 0, missing columns of B are zeros in the packed panel) and
 *     only its valid part is added to C, so there is one micro-kernel.
 *
 * Convolution is im2col of one sample into `work` followed by lc__gemm;
 * pooling is direct.
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

/* c[mr, nr] += a[mr, kc] . b[kc, LC_NR], where a(i, k) = a[i * rsa + k * csa],
 * b(k, j) = b[k * ldb + j] and c(i, j) = c[i * rsc + j * csc].
 * Computes a whole LC_MR x LC_NR tile; rows i >= mr reuse row 0 and their
 * results, like those of columns j >= nr, are dropped. */
static inline void lc__micro(int kc, const lc_real *a, int rsa, int csa,
                             const lc_real *b, int ldb,
                             lc_real *c, int rsc, int csc, int mr, int nr)
{
    lc_real acc[LC_MR][LC_NR];
    const lc_real *ar[LC_MR];
    int i, j, k;

    for (i = 0; i < LC_MR; i++)
        for (j = 0; j < LC_NR; j++)
            acc[i][j] = 0;
    for (i = 0; i < LC_MR; i++)
        ar[i] = a + (i < mr ? i : 0) * rsa;
    for (k = 0; k < kc; k++) {
        const lc_real *bk = b + k * ldb;
        for (i = 0; i < LC_MR; i++) {
            lc_real aik = ar[i][k * csa];
            for (j = 0; j < LC_NR; j++)
                acc[i][j] += aik * bk[j];
        }
    }
    if (mr == LC_MR && nr == LC_NR && csc == 1) {
        for (i = 0; i < LC_MR; i++)
            for (j = 0; j < LC_NR; j++)
                c[i * rsc + j] += acc[i][j];
    } else if (csc == 1) {
        for (i = 0; i < mr; i++)
            for (j = 0; j < nr; j++)
                c[i * rsc + j] += acc[i][j];
    } else {
        for (j = 0; j < nr; j++)
            for (i = 0; i < mr; i++)
                c[i * rsc + j * csc] += acc[i][j];
    }
}

/* C[M, N] += A[M, K] . B[K, N], where A(i, k) = A[i * rsa + k * csa],
 * B(k, j) = B[k * rsb + j * csb] and C(i, j) = C[i * rsc + j * csc].
 * Loops: column panels of LC_NR (outer), K blocks of LC_KC, row tiles of
 * LC_MR (inner), so one packed panel serves every row of A. */
static inline void lc__gemm(int M, int N, int K,
                            const lc_real *A, int rsa, int csa,
                            const lc_real *Bm, int rsb, int csb,
                            lc_real *Cm, int rsc, int csc)
{
    lc_real pack[LC_KC * LC_NR];
    int jc, pc, ic, j, k;

    for (jc = 0; jc < N; jc += LC_NR) {
        int nr = N - jc < LC_NR ? N - jc : LC_NR;
        for (pc = 0; pc < K; pc += LC_KC) {
            int kc = K - pc < LC_KC ? K - pc : LC_KC;
            const lc_real *bp;
            int ldb;
            if (csb == 1 && nr == LC_NR) {
                bp = Bm + (size_t)pc * rsb + jc;    /* rows already contiguous */
                ldb = rsb;
            } else {
                const lc_real *src = Bm + (size_t)pc * rsb + (size_t)jc * csb;
                for (k = 0; k < kc; k++) {
                    lc_real *row = pack + k * LC_NR;
                    const lc_real *s = src + (size_t)k * rsb;
                    for (j = 0; j < nr; j++)
                        row[j] = s[(size_t)j * csb];
                    for (j = nr; j < LC_NR; j++)
                        row[j] = 0;
                }
                bp = pack;
                ldb = LC_NR;
            }
            for (ic = 0; ic < M; ic += LC_MR) {
                int mr = M - ic < LC_MR ? M - ic : LC_MR;
                lc__micro(kc, A + (size_t)ic * rsa + (size_t)pc * csa, rsa, csa,
                          bp, ldb, Cm + (size_t)ic * rsc + (size_t)jc * csc, rsc, csc,
                          mr, nr);
            }
        }
    }
}

/* ------------------------------------------------------------------------ */
/* Linear layer                                                             */

/* out[B, OC] = inp[B, C] . W[OC, C]^T + bias[OC]         (bias may be NULL) */
LC_KERNEL void lc_matmul_forward(lc_real *out, const lc_real *inp, const lc_real *W,
                                 const lc_real *bias, int B, int C, int OC)
{
    int b, o;
    for (b = 0; b < B; b++)
        for (o = 0; o < OC; o++)
            out[(size_t)b * OC + o] = bias ? bias[o] : 0;
    /* Both operands run along C, so one is transposed into the packed panel:
     * the smaller one, or inp when W is narrower than a panel (mostly zero
     * padding then).  Packing inp: out^T = W . inp^T with A = W (i = o,
     * k = c), B(k = c, j = b) = inp[b, c], out[b, o] at column stride OC.
     * Packing W: A = inp (i = b, k = c), B(k = c, j = o) = W[o, c]. */
    if (B < OC || OC < LC_NR)
        lc__gemm(OC, B, C, W, C, 1, inp, 1, C, out, 1, OC);
    else
        lc__gemm(B, OC, C, inp, C, 1, W, 1, C, out, OC, 1);
}

/* dinp[B, C] += dout[B, OC] . W[OC, C]
 * dW[OC, C]  += dout[B, OC]^T . inp[B, C]
 * dbias[OC]  += sum over b of dout[b, :]                  (NULL = skip) */
LC_KERNEL void lc_matmul_backward(lc_real *dinp, lc_real *dW, lc_real *dbias,
                                  const lc_real *dout, const lc_real *inp, const lc_real *W,
                                  int B, int C, int OC)
{
    int b, o;
    if (dbias)
        for (b = 0; b < B; b++)
            for (o = 0; o < OC; o++)
                dbias[o] += dout[(size_t)b * OC + o];
    /* A = dout (i = b, k = o); B(k = o, j = c) = W[o, c], used in place. */
    if (dinp)
        lc__gemm(B, C, OC, dout, OC, 1, W, C, 1, dinp, C, 1);
    /* A(i = o, k = b) = dout[b, o]; B(k = b, j = c) = inp[b, c], in place. */
    if (dW)
        lc__gemm(OC, C, B, dout, 1, OC, inp, C, 1, dW, C, 1);
}

/* ------------------------------------------------------------------------ */
/* Convolution: im2col of one sample into `work`, then lc__gemm.            */

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
                        for (ow = 0; ow < lo; ow++) row[oh * OW + ow] = 0;
                        for (ow = hi; ow < OW; ow++) row[oh * OW + ow] = 0;
                    }
                } else {
                    for (oh = oh_lo; oh < oh_hi; oh++) {
                        lc_real *r = row + (size_t)oh * OW;
                        const lc_real *src = x + (size_t)(oh * stride - pad + ki) * W;
                        for (ow = 0; ow < lo; ow++) r[ow] = 0;
                        for (ow = lo; ow < hi; ow++) r[ow] = src[ow * stride + off];
                        for (ow = hi; ow < OW; ow++) r[ow] = 0;
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
                        for (ow = 0; ow < lo; ow++) row[oh * OW + ow] = 0;
                        for (ow = hi; ow < OW; ow++) row[oh * OW + ow] = 0;
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

/* out[B, OC, OH, OW] = conv(inp[B, C, H, W], Wt[OC, C, K, K]) + bias[OC]
 * (bias may be NULL); OH = LC_CONV_OUT(H, K, stride, pad), same for OW.
 * work: LC_CONV2D_WORK(C, K, OH, OW) = C*K*K*OH*OW scratch values.
 * Per sample: out_b[OC, OH*OW] = Wt[OC, C*K*K] . col[C*K*K, OH*OW]. */
LC_KERNEL void lc_conv2d_forward(lc_real *out, const lc_real *inp, const lc_real *Wt,
                                 const lc_real *bias, lc_real *work,
                                 int B, int C, int H, int W, int OC, int K, int stride, int pad)
{
    int OH = LC_CONV_OUT(H, K, stride, pad), OW = LC_CONV_OUT(W, K, stride, pad);
    int P = OH * OW, R = C * K * K;
    int b, o, p;
    if (OH <= 0 || OW <= 0)
        return;
    for (b = 0; b < B; b++) {
        const lc_real *x = inp + (size_t)b * C * H * W;
        lc_real *y = out + (size_t)b * OC * P;
        for (o = 0; o < OC; o++)
            for (p = 0; p < P; p++)
                y[(size_t)o * P + p] = bias ? bias[o] : 0;
        lc__im2col(work, x, C, H, W, K, stride, pad, OH, OW);
        lc__gemm(OC, P, R, Wt, R, 1, work, P, 1, y, P, 1);
    }
}

/* Gradients of lc_conv2d_forward, same argument order (NULL = skip):
 * dinp[B, C, H, W] += conv^T(dout[B, OC, OH, OW], Wt)
 * dWt[OC, C, K, K] += sum over b of dout_b[OC, OH*OW] . col_b^T
 * dbias[OC]        += sum over b, oh, ow of dout
 * work: LC_CONV2D_WORK(C, K, OH, OW) values (holds col_b, then dcol_b). */
LC_KERNEL void lc_conv2d_backward(lc_real *dinp, lc_real *dWt, lc_real *dbias,
                                  const lc_real *dout, const lc_real *inp, const lc_real *Wt,
                                  lc_real *work,
                                  int B, int C, int H, int W, int OC, int K, int stride, int pad)
{
    int OH = LC_CONV_OUT(H, K, stride, pad), OW = LC_CONV_OUT(W, K, stride, pad);
    int P = OH * OW, R = C * K * K;
    int b, o;
    if (OH <= 0 || OW <= 0)
        return;
    for (b = 0; b < B; b++) {
        const lc_real *dy = dout + (size_t)b * OC * P;
        if (dbias)
            for (o = 0; o < OC; o++)
                dbias[o] += lc__sum(dy + (size_t)o * P, P);
        if (dWt) {
            /* dWt[o, r] += sum_p dy[o, p] col[r, p]: B(k = p, j = r) = col[r, p]
             * is packed (transposed) by lc__gemm. */
            lc__im2col(work, inp + (size_t)b * C * H * W, C, H, W, K, stride, pad, OH, OW);
            lc__gemm(OC, R, P, dy, P, 1, work, 1, P, dWt, R, 1);
        }
        if (dinp) {
            /* dcol[r, p] = sum_o Wt[o, r] dy[o, p]: A(i = r, k = o) = Wt[o, r]. */
            memset(work, 0, sizeof(lc_real) * (size_t)R * P);
            lc__gemm(R, P, OC, Wt, 1, R, dy, P, 1, work, P, 1);
            lc__col2im(dinp + (size_t)b * C * H * W, work, C, H, W, K, stride, pad, OH, OW);
        }
    }
}

/* ------------------------------------------------------------------------ */
/* Pooling: size x size windows, step `stride`, no padding, floor mode.     */

/* out[B, C, OH, OW] = max over the window of inp[B, C, H, W],
 * OH = (H - size) / stride + 1.  NaN wins, as in PyTorch. */
LC_KERNEL void lc_maxpool_forward(lc_real *out, const lc_real *inp,
                                  int B, int C, int H, int W, int size, int stride)
{
    int OH = (H - size) / stride + 1, OW = (W - size) / stride + 1;
    int n, oh, ow, i, j;
    for (n = 0; n < B * C; n++) {
        const lc_real *x = inp + (size_t)n * H * W;
        lc_real *y = out + (size_t)n * OH * OW;
        for (oh = 0; oh < OH; oh++)
            for (ow = 0; ow < OW; ow++) {
                const lc_real *w = x + (size_t)oh * stride * W + (size_t)ow * stride;
                lc_real m = w[0];
                for (i = 0; i < size; i++)
                    for (j = 0; j < size; j++) {
                        lc_real v = w[i * W + j];
                        if (v > m || v != v)
                            m = v;
                    }
                y[oh * OW + ow] = m;
            }
    }
}

/* dinp[B, C, H, W] += dout[B, C, OH, OW] routed to the window's maximum of
 * inp (the first one in row-major order on ties; the last NaN if any). */
LC_KERNEL void lc_maxpool_backward(lc_real *dinp, const lc_real *dout, const lc_real *inp,
                                   int B, int C, int H, int W, int size, int stride)
{
    int OH = (H - size) / stride + 1, OW = (W - size) / stride + 1;
    int n, oh, ow, i, j;
    for (n = 0; n < B * C; n++) {
        const lc_real *x = inp + (size_t)n * H * W;
        const lc_real *dy = dout + (size_t)n * OH * OW;
        lc_real *dx = dinp + (size_t)n * H * W;
        for (oh = 0; oh < OH; oh++)
            for (ow = 0; ow < OW; ow++) {
                int base = oh * stride * W + ow * stride, at = base;
                lc_real m = x[base];
                for (i = 0; i < size; i++)
                    for (j = 0; j < size; j++) {
                        lc_real v = x[base + i * W + j];
                        if (v > m || v != v) {
                            m = v;
                            at = base + i * W + j;
                        }
                    }
                dx[at] += dy[oh * OW + ow];
            }
    }
}

/* out[B, C, OH, OW] = mean over the window of inp[B, C, H, W]. */
LC_KERNEL void lc_avgpool_forward(lc_real *out, const lc_real *inp,
                                  int B, int C, int H, int W, int size, int stride)
{
    int OH = (H - size) / stride + 1, OW = (W - size) / stride + 1;
    int n, oh, ow, i, j;
    lc_real count = (lc_real)(size * size);
    for (n = 0; n < B * C; n++) {
        const lc_real *x = inp + (size_t)n * H * W;
        lc_real *y = out + (size_t)n * OH * OW;
        for (oh = 0; oh < OH; oh++)
            for (ow = 0; ow < OW; ow++) {
                const lc_real *w = x + (size_t)oh * stride * W + (size_t)ow * stride;
                lc_real s = 0;
                for (i = 0; i < size; i++)
                    for (j = 0; j < size; j++)
                        s += w[i * W + j];
                y[oh * OW + ow] = s / count;
            }
    }
}

/* dinp[B, C, H, W] += dout[B, C, OH, OW] / (size * size) over each window.
 * inp is unused (kept for the common argument order). */
LC_KERNEL void lc_avgpool_backward(lc_real *dinp, const lc_real *dout, const lc_real *inp,
                                   int B, int C, int H, int W, int size, int stride)
{
    int OH = (H - size) / stride + 1, OW = (W - size) / stride + 1;
    int n, oh, ow, i, j;
    lc_real count = (lc_real)(size * size);
    (void)inp;
    for (n = 0; n < B * C; n++) {
        const lc_real *dy = dout + (size_t)n * OH * OW;
        lc_real *dx = dinp + (size_t)n * H * W;
        for (oh = 0; oh < OH; oh++)
            for (ow = 0; ow < OW; ow++) {
                lc_real g = dy[oh * OW + ow] / count;
                lc_real *w = dx + (size_t)oh * stride * W + (size_t)ow * stride;
                for (i = 0; i < size; i++)
                    for (j = 0; j < size; j++)
                        w[i * W + j] += g;
            }
    }
}

#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif
