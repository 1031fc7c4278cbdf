/* kernels/int8.c: integer-only inference (layerc --quantize int8), the
 * arithmetic of the TensorFlow Lite int8 reference kernels
 * (tensorflow/lite/kernels/internal/reference/integer_ops/ and common.h):
 *
 *   - a tensor maps to reals as real = scale (q - zero), q in [-128, 127];
 *     weights per output channel, symmetric (zero 0), biases int32 at scale
 *     s_in s_w[c], sums in int32;
 *   - requantisation multiplies by a real M = s_in s_w / s_out given as a
 *     32-bit fixed-point multiplier and a power of two (lc__i8_requant:
 *     gemmlowp's SaturatingRoundingDoublingHighMul, then RoundingDivideByPOT);
 *   - an output clamps to [lo, hi]: [-128, 127], or narrower when relu or
 *     relu6 folded into it.
 *
 * No floating-point type anywhere: the unit runs on cores without an FPU and
 * calls no helper of software floating point.  Pasted alone into the int8 C (with
 * `#define LC_KERNEL static`), so its types are repeated here, under the
 * same guards as in kernels.h; compiled into layerc with the other units
 * for the JIT (layerc eval --quantize int8). */
#include <stdint.h>
#include <string.h>

#ifndef LC_KERNEL
#define LC_KERNEL
#endif

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

#ifndef LC_I8_TYPES_DEFINED
#define LC_I8_TYPES_DEFINED
/* The zero points of a layer's input and output and its output's clamp. */
typedef struct {
    int32_t in_zero, out_zero, lo, hi;
} lc_i8_quant;
/* add: each input's zero point and multiplier (after the left shift of 20
 * bits), the output's, and the clamp, as TFLite's ArithmeticParams. */
typedef struct {
    int32_t a_zero, a_mult, a_shift, b_zero, b_mult, b_shift;
    int32_t out_zero, out_mult, out_shift, lo, hi;
} lc_i8_add_params;
#endif

/* round(a b / 2^31), saturating the one product that overflows */
static inline int32_t lc__i8_high_mul(int32_t a, int32_t b)
{
    int64_t ab = (int64_t)a * (int64_t)b;
    int32_t nudge = ab >= 0 ? (1 << 30) : (1 - (1 << 30));
    if (a == b && a == INT32_MIN) return INT32_MAX;
    return (int32_t)((ab + nudge) / ((int64_t)1 << 31));
}

/* x / 2^e rounded to nearest, ties away from zero */
static inline int32_t lc__i8_div_pot(int32_t x, int e)
{
    int32_t mask = (int32_t)(((uint32_t)1 << e) - 1);
    int32_t rem = x & mask, threshold = (mask >> 1) + (x < 0 ? 1 : 0);
    return (x >> e) + (rem > threshold ? 1 : 0);
}

/* x M for M = mult 2^(shift - 31) (TFLite's MultiplyByQuantizedMultiplier);
 * a left shift that would overflow saturates instead */
static inline int32_t lc__i8_requant(int32_t x, int32_t mult, int shift)
{
    int left = shift > 0 ? shift : 0, right = shift > 0 ? 0 : -shift;
    int64_t v = (int64_t)x * ((int64_t)1 << left);
    if (v > INT32_MAX) v = INT32_MAX;
    if (v < INT32_MIN) v = INT32_MIN;
    return lc__i8_div_pot(lc__i8_high_mul((int32_t)v, mult), right);
}

static inline int8_t lc__i8_clamp(int32_t v, int32_t lo, int32_t hi)
{
    return (int8_t)(v < lo ? lo : v > hi ? hi : v);
}

/* out[B, OC] = requant(W[OC, C] . (inp[B, C] - in_zero) + bias[OC]) + out_zero,
 * per output channel o: mult[o], shift[o]; bias may be NULL */
LC_KERNEL void lc_i8_dense_forward(int8_t *out, const int8_t *inp, const int8_t *W, const int32_t *bias,
                                   const int32_t *mult, const int32_t *shift, int B, int C, int OC,
                                   const lc_i8_quant *q)
{
    int b, o, c;
    for (b = 0; b < B; b++) {
        const int8_t *x = inp + (long)b * C;
        for (o = 0; o < OC; o++) {
            const int8_t *w = W + (long)o * C;
            int32_t acc = bias ? bias[o] : 0;
            for (c = 0; c < C; c++)
                acc += ((int32_t)x[c] - q->in_zero) * (int32_t)w[c];
            out[(long)b * OC + o] = lc__i8_clamp(lc__i8_requant(acc, mult[o], shift[o]) + q->out_zero,
                                                 q->lo, q->hi);
        }
    }
}

/* The p in [lo, hi) with 0 <= p S + off < N, as [*a, *b). */
static inline void lc__i8_span(int off, int S, int N, int lo, int hi, int *a, int *b)
{
    int first = off < 0 ? (-off + S - 1) / S : 0, end = N - off <= 0 ? 0 : (N - off + S - 1) / S;
    *a = first > lo ? first : lo;
    *b = end < hi ? end : hi;
    if (*b < *a) *b = *a;
}

/* Output columns a chunk of the convolution works on (its sums on the stack). */
#define LC_I8_CHUNK 64

/* out[B, OC, OH, OW] = conv(inp[B, C, H, W] - in_zero, W[OC, C/G, KH, KW]) + bias,
 * requantised per output channel; taps outside the image add nothing (the
 * padding is real zero, q = in_zero).  A row of output is summed a chunk of
 * columns at a time, one weight at a time over the chunk, so the inner loop
 * runs along the input row with no tests (the columns a tap reaches are
 * found once per chunk). */
LC_KERNEL void lc_i8_conv_forward(int8_t *out, const int8_t *inp, const int8_t *Wt, const int32_t *bias,
                                  const int32_t *mult, const int32_t *shift, int B, const lc_conv_dims *d,
                                  const lc_i8_quant *q)
{
    int cg = d->C / d->G, og = d->OC / d->G, taps = d->KH * d->KW, plane = d->H * d->W;
    int b, o, oh, ow0, n, c, i, j, k, ilo, ihi, klo, khi;
    int32_t zero = q->in_zero, acc[LC_I8_CHUNK];
    for (b = 0; b < B; b++)
        for (o = 0; o < d->OC; o++) {
            const int8_t *w0 = Wt + (long)o * cg * taps;
            const int8_t *x0 = inp + ((long)b * d->C + (long)(o / og) * cg) * plane;
            int8_t *y = out + ((long)b * d->OC + o) * d->OH * d->OW;
            int32_t b0 = bias ? bias[o] : 0;
            for (oh = 0; oh < d->OH; oh++) {
                int ih0 = oh * d->SH - d->PH;
                lc__i8_span(ih0, d->DH, d->H, 0, d->KH, &ilo, &ihi);
                for (ow0 = 0; ow0 < d->OW; ow0 += n) {
                    n = d->OW - ow0 < LC_I8_CHUNK ? d->OW - ow0 : LC_I8_CHUNK;
                    for (k = 0; k < n; k++) acc[k] = b0;
                    for (j = 0; j < d->KW; j++) {
                        /* column k of the chunk reads input column (ow0 + k) SW - PW + j DW */
                        int off = ow0 * d->SW - d->PW + j * d->DW;
                        lc__i8_span(off, d->SW, d->W, 0, n, &klo, &khi);
                        for (c = 0; c < cg; c++)
                            for (i = ilo; i < ihi; i++) {
                                const int8_t *x = x0 + (long)c * plane + (long)(ih0 + i * d->DH) * d->W;
                                int32_t w = w0[(long)c * taps + i * d->KW + j];
                                if (d->SW == 1) {   /* the common case, along memory */
                                    const int8_t *xp = x + off + klo;
                                    int32_t *ap = acc + klo;
                                    for (k = khi - klo; k > 0; k--) *ap++ += w * ((int32_t)*xp++ - zero);
                                } else {
                                    for (k = klo; k < khi; k++)
                                        acc[k] += w * ((int32_t)x[off + k * d->SW] - zero);
                                }
                            }
                    }
                    for (k = 0; k < n; k++)
                        y[oh * d->OW + ow0 + k] = lc__i8_clamp(lc__i8_requant(acc[k], mult[o], shift[o]) + q->out_zero,
                                                               q->lo, q->hi);
                }
            }
        }
}

/* out[B, C, OH, OW] = the largest value of each KH x KW window (stride SH,
 * SW) of inp[B, C, H, W]; input and output share scale and zero point */
LC_KERNEL void lc_i8_maxpool_forward(int8_t *out, const int8_t *inp, int B, int C, int H, int W, int KH,
                                     int KW, int SH, int SW)
{
    int OH = (H - KH) / SH + 1, OW = (W - KW) / SW + 1, p, oh, ow, i, j;
    for (p = 0; p < B * C; p++) {
        const int8_t *x = inp + (long)p * H * W;
        int8_t *y = out + (long)p * OH * OW;
        for (oh = 0; oh < OH; oh++)
            for (ow = 0; ow < OW; ow++) {
                int8_t m = -128;
                for (i = 0; i < KH; i++)
                    for (j = 0; j < KW; j++) {
                        int8_t v = x[(oh * SH + i) * W + ow * SW + j];
                        if (v > m) m = v;
                    }
                y[oh * OW + ow] = m;
            }
    }
}

/* sum / count rounded to nearest, ties away from zero (TFLite's average pool) */
static inline int32_t lc__i8_mean(int32_t sum, int32_t count)
{
    return sum > 0 ? (sum + count / 2) / count : (sum - count / 2) / count;
}

/* out[B, C, OH, OW] = the mean of each KH x KW window; same scale and zero
 * point in and out.  A global average pool is the window of the whole plane. */
LC_KERNEL void lc_i8_avgpool_forward(int8_t *out, const int8_t *inp, int B, int C, int H, int W, int KH,
                                     int KW, int SH, int SW)
{
    int OH = (H - KH) / SH + 1, OW = (W - KW) / SW + 1, p, oh, ow, i, j;
    for (p = 0; p < B * C; p++) {
        const int8_t *x = inp + (long)p * H * W;
        int8_t *y = out + (long)p * OH * OW;
        for (oh = 0; oh < OH; oh++)
            for (ow = 0; ow < OW; ow++) {
                int32_t s = 0;
                for (i = 0; i < KH; i++)
                    for (j = 0; j < KW; j++)
                        s += x[(oh * SH + i) * W + ow * SW + j];
                y[oh * OW + ow] = lc__i8_clamp(lc__i8_mean(s, KH * KW), -128, 127);
            }
    }
}

/* out[n] = a + b in the output's quantisation, as TFLite's integer add:
 * each input, less its zero point, shifted left 20 bits and scaled to the
 * larger input scale; the sum requantised to the output */
LC_KERNEL void lc_i8_add_forward(int8_t *out, const int8_t *a, const int8_t *b, int n, const lc_i8_add_params *p)
{
    int i;
    for (i = 0; i < n; i++) {
        int32_t x = ((int32_t)a[i] - p->a_zero) * (1 << 20), y = ((int32_t)b[i] - p->b_zero) * (1 << 20);
        int32_t s = lc__i8_requant(x, p->a_mult, p->a_shift) + lc__i8_requant(y, p->b_mult, p->b_shift);
        out[i] = lc__i8_clamp(lc__i8_requant(s, p->out_mult, p->out_shift) + p->out_zero, p->lo, p->hi);
    }
}

/* out[n] = inp[n] in another quantisation (TFLite's Requantize): concat's inputs */
LC_KERNEL void lc_i8_requantize_forward(int8_t *out, const int8_t *inp, int n, int32_t in_zero,
                                        int32_t out_zero, int32_t mult, int32_t shift)
{
    int i;
    for (i = 0; i < n; i++)
        out[i] = lc__i8_clamp(lc__i8_requant((int32_t)inp[i] - in_zero, mult, shift) + out_zero, -128, 127);
}

/* out[n] = inp[n] clamped to [lo, hi]: relu and relu6 in their input's
 * quantisation, where no layer before them takes the clamp */
LC_KERNEL void lc_i8_clamp_forward(int8_t *out, const int8_t *inp, int n, int32_t lo, int32_t hi)
{
    int i;
    for (i = 0; i < n; i++)
        out[i] = lc__i8_clamp(inp[i], lo, hi);
}

/* out[n] = table[inp[n] + 128]: a function of one value (sigmoid, tanh),
 * tabulated when the C was written */
LC_KERNEL void lc_i8_lut_forward(int8_t *out, const int8_t *inp, int n, const int8_t *table)
{
    int i;
    for (i = 0; i < n; i++)
        out[i] = table[(int)inp[i] + 128];
}

/* out[B, N] = softmax of each row of inp[B, N], at scale 1/256, zero point
 * -128: e[d] = round(2^16 exp(-s_in d)) is tabulated for the distance d of a
 * value below its row's largest, and out = round(256 e[d] / sum e) - 128 */
LC_KERNEL void lc_i8_softmax_forward(int8_t *out, const int8_t *inp, int B, int N, const int32_t *exp_table)
{
    int b, j;
    for (b = 0; b < B; b++) {
        const int8_t *x = inp + (long)b * N;
        int8_t *y = out + (long)b * N;
        int32_t top = -128, sum = 0;
        for (j = 0; j < N; j++)
            if (x[j] > top) top = x[j];
        for (j = 0; j < N; j++)
            sum += exp_table[top - x[j]];
        for (j = 0; j < N; j++)
            y[j] = lc__i8_clamp((exp_table[top - x[j]] * 256 + sum / 2) / sum - 128, -128, 127);
    }
}
