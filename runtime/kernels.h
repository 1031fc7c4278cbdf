/* kernels.h: the heavy loops, shared by the JIT and the generated C.
 *
 * runtime/kernels.c is ONE source used three ways:
 *   - compiled into layerc with optimisation; the JIT hands these functions
 *     to tcc-compiled model code with tcc_add_symbol (tcc itself does not
 *     optimise, so the matrix products must not be left to it);
 *   - pasted by the emitter into every AOT .c file, each function `static`
 *     (LC_KERNEL defined as `static inline` there), so a generated file stays
 *     self-contained and two models link into one program;
 *   - compiled again with lc_real = double for `layerc check` (finite
 *     differences): runtime/kernels_double.c, names suffixed _f64, handed
 *     to the JIT under the names above.
 *
 * Hence kernels.c includes nothing but <string.h> and <math.h>, allocates
 * nothing, keeps no mutable global state, and is C99 that compiles
 * warning-free with gcc -std=c99 -Wall -Wextra -pedantic, clang and tcc.
 *
 * Conventions (after llm.c): every op is a _forward/_backward pair with the
 * same argument order; tensors are row-major; B is the number of samples in
 * the batch.  Backward functions ACCUMULATE (+=) into the gradients they are
 * given, and skip any gradient pointer that is NULL (frozen weights, inputs
 * that need no gradient).
 */
#ifndef LC_KERNELS_H
#define LC_KERNELS_H

#ifndef LC_REAL_DEFINED
#define LC_REAL_DEFINED
typedef float lc_real;
#endif

/* out[B, OC] = inp[B, C] . W[OC, C]^T + bias[OC]         (bias may be NULL) */
void lc_matmul_forward(lc_real *out, const lc_real *inp, const lc_real *W,
                       const lc_real *bias, int B, int C, int OC);
/* dinp[B, C] += dout[B, OC] . W[OC, C]
 * dW[OC, C]  += dout^T . inp
 * dbias[OC]  += sum over B of dout */
void lc_matmul_backward(lc_real *dinp, lc_real *dW, lc_real *dbias,
                        const lc_real *dout, const lc_real *inp, const lc_real *W,
                        int B, int C, int OC);

/* Output side of a convolution or pooling window: floor((H + 2 pad - K) / stride) + 1. */
#define LC_CONV_OUT(H, K, stride, pad) (((H) + 2 * (pad) - (K)) / (stride) + 1)
/* Scratch floats lc_conv2d_* need in `work` (im2col of one sample, or more). */
#define LC_CONV2D_WORK(C, K, OH, OW) ((C) * (K) * (K) * (OH) * (OW))
/* With threads (the pool of threads.h started with T > 1 threads, or
 * LC_THREADS = T in generated C), the convolutions split the batch into T
 * groups of samples, each with its own slice of `work`: an im2col buffer and
 * a partial weight gradient; they need T slices. */
#define LC_CONV2D_SLICE(C, K, OH, OW, OC) \
    (LC_CONV2D_WORK(C, K, OH, OW) + (OC) * (C) * (K) * (K) + (OC))
#define LC_CONV2D_WORK_T(C, K, OH, OW, OC, T) \
    ((T) > 1 ? (T) * LC_CONV2D_SLICE(C, K, OH, OW, OC) : LC_CONV2D_WORK(C, K, OH, OW))

/* out[B, OC, OH, OW] = conv(inp[B, C, H, W], Wt[OC, C, K, K]) + bias[OC]
 * zero padding `pad`, step `stride`, like torch.nn.Conv2d. */
void lc_conv2d_forward(lc_real *out, const lc_real *inp, const lc_real *Wt,
                       const lc_real *bias, lc_real *work,
                       int B, int C, int H, int W, int OC, int K, int stride, int pad);
void lc_conv2d_backward(lc_real *dinp, lc_real *dWt, lc_real *dbias,
                        const lc_real *dout, const lc_real *inp, const lc_real *Wt,
                        lc_real *work,
                        int B, int C, int H, int W, int OC, int K, int stride, int pad);

/* The geometry of a convolution in general: any kernel, stride, padding,
 * dilation and groups; a 1-D convolution is one of height 1 (H = OH = KH =
 * SH = DH = 1, PH = 0).  Input channel c, kernel tap (ki, kj) and output
 * position (oh, ow) meet at input row oh SH - PH + ki DH and column
 * ow SW - PW + kj DW (zero outside the image).  The padding below and right
 * is implied by OH and OW: "same" padding puts its odd row there. */
#ifndef LC_CONV_DIMS_DEFINED
#define LC_CONV_DIMS_DEFINED
typedef struct {
    int C, H, W;      /* input: channels, height, width */
    int OC, OH, OW;   /* output: channels, height, width */
    int KH, KW;       /* kernel */
    int SH, SW;       /* stride */
    int PH, PW;       /* zero rows above and columns left of the input */
    int DH, DW;       /* dilation */
    int G;            /* groups: C and OC are multiples of G */
} lc_conv_dims;
#endif
/* Scratch values lc_conv_* needs: an im2col buffer of one group of one
 * sample (LC_CONV_COL); with T > 1 threads, T slices of one and a partial
 * weight gradient. */
#define LC_CONV_ROWS(d) ((long)(d)->C / (d)->G * (d)->KH * (d)->KW)
#define LC_CONV_COL(d) (LC_CONV_ROWS(d) * (d)->OH * (d)->OW)
#define LC_CONV_SLICE(d) (LC_CONV_COL(d) + (long)(d)->OC * LC_CONV_ROWS(d) + (d)->OC)
#define LC_CONV_WORK(d, T) ((T) > 1 ? (T) * LC_CONV_SLICE(d) : LC_CONV_COL(d))

/* out[B, OC, OH, OW] = conv(inp[B, C, H, W], Wt[OC, C/G, KH, KW]) + bias[OC]
 * (bias may be NULL) for the geometry *d, as torch.nn.Conv2d(C, OC, (KH, KW),
 * (SH, SW), padding, (DH, DW), G): im2col of each group of each sample, then
 * a matrix product.  work: LC_CONV_WORK(d, T) values. */
void lc_conv_forward(lc_real *out, const lc_real *inp, const lc_real *Wt,
                     const lc_real *bias, lc_real *work, int B, const lc_conv_dims *d);
/* Its gradients (NULL = skip): dinp assigned (add = 0) or added to (add =
 * 1); dWt and dbias added to.  With T threads, the weight gradients are
 * sums of T partial sums: they depend on T by float rounding. */
void lc_conv_backward_into(lc_real *dinp, lc_real *dWt, lc_real *dbias,
                           const lc_real *dout, const lc_real *inp, const lc_real *Wt,
                           lc_real *work, int B, const lc_conv_dims *d, int add);

/* The depthwise convolution (d->G = d->C; OC / C filters per channel),
 * computed directly: the same results as lc_conv_* with G = C, to float
 * rounding, and none of its values depends on the thread count.  work:
 * LC_DWCONV_WORK(d, T) values: per thread, the SH x SW polyphase parts of a
 * zero-padded input plane (Hq x Wq each), those of its gradient, and an
 * output gradient plane with margins. */
#define LC_DWCONV_HQ(d) ((d)->OH + ((d)->KH - 1) * (d)->DH / (d)->SH)
#define LC_DWCONV_WQ(d) ((d)->OW + ((d)->KW - 1) * (d)->DW / (d)->SW)
#define LC_DWCONV_PLANES(d) ((long)(d)->SH * (d)->SW * LC_DWCONV_HQ(d) * LC_DWCONV_WQ(d))
#define LC_DWCONV_MARGIN(d) \
    ((long)((d)->KH - 1) * (d)->DH / (d)->SH * LC_DWCONV_WQ(d) + ((d)->KW - 1) * (d)->DW / (d)->SW)
#define LC_DWCONV_SLICE(d) \
    (2 * LC_DWCONV_PLANES(d) + LC_DWCONV_MARGIN(d) + (long)LC_DWCONV_HQ(d) * LC_DWCONV_WQ(d))
#define LC_DWCONV_WORK(d, T) (((T) > 1 ? (T) : 1) * LC_DWCONV_SLICE(d))
void lc_dwconv_forward(lc_real *out, const lc_real *inp, const lc_real *Wt,
                       const lc_real *bias, lc_real *work, int B, const lc_conv_dims *d);
void lc_dwconv_backward_into(lc_real *dinp, lc_real *dWt, lc_real *dbias,
                             const lc_real *dout, const lc_real *inp, const lc_real *Wt,
                             lc_real *work, int B, const lc_conv_dims *d, int add);

/* out[B, C, OH, OW] = max (or mean) over size x size windows, no padding,
 * like torch.nn.MaxPool2d / AvgPool2d.  Ties in max go to the first element
 * of the window in row-major order (as PyTorch's CPU kernel). */
void lc_maxpool_forward(lc_real *out, const lc_real *inp,
                        int B, int C, int H, int W, int size, int stride);
void lc_maxpool_backward(lc_real *dinp, const lc_real *dout, const lc_real *inp,
                         int B, int C, int H, int W, int size, int stride);
void lc_avgpool_forward(lc_real *out, const lc_real *inp,
                        int B, int C, int H, int W, int size, int stride);
void lc_avgpool_backward(lc_real *dinp, const lc_real *dout, const lc_real *inp,
                         int B, int C, int H, int W, int size, int stride);

/* The backward functions above ADD into dinp.  These variants assign it
 * when add = 0 (so that it need not be cleared first: layerc's generated
 * code passes 0 from the first block that reaches a gradient) and add when
 * add = 1; everything else is as above. */
void lc_matmul_backward_into(lc_real *dinp, lc_real *dW, lc_real *dbias,
                             const lc_real *dout, const lc_real *inp, const lc_real *W,
                             int B, int C, int OC, int add);
void lc_conv2d_backward_into(lc_real *dinp, lc_real *dWt, lc_real *dbias,
                             const lc_real *dout, const lc_real *inp, const lc_real *Wt,
                             lc_real *work, int B, int C, int H, int W, int OC, int K,
                             int stride, int pad, int add);
void lc_maxpool_backward_into(lc_real *dinp, const lc_real *dout, const lc_real *inp,
                              int B, int C, int H, int W, int size, int stride, int add);
void lc_avgpool_backward_into(lc_real *dinp, const lc_real *dout, const lc_real *inp,
                              int B, int C, int H, int W, int size, int stride, int add);

/* With the optimizer step fused into the backward pass (layerc
 * --fuse-update): step(ctx, p, g, at, n, decay) applies one optimizer step
 * to the n weights p whose gradient is g, whose optimizer state is at
 * offset `at`, with the extra weight decay `decay`. */
#ifndef LC_STEP_FN_DEFINED
#define LC_STEP_FN_DEFINED
typedef void (*lc_step_fn)(void *ctx, lc_real *p, const lc_real *g, long at, int n, lc_real decay);
#endif
/* The most values of a gradient row a fused kernel computes and steps at a
 * time: its scratch (1 KB in float, whatever the layer's width). */
#ifndef LC_STEP_ROW
#define LC_STEP_ROW 256
#endif
/* As lc_matmul_backward_into (dinp from W before it changes), then the step
 * of each row of W (W_at + o C in the optimizer state) and of the bias
 * (bias_at), from gradients computed a row at a time, LC_STEP_ROW values at
 * most, into row[min(max(C, OC), LC_STEP_ROW)]:
 * no gradient array.  bias may be NULL; W and bias are the layer's weights,
 * changed in place. */
void lc_matmul_backward_step(lc_real *dinp, lc_real *W, lc_real *bias, const lc_real *dout,
                             const lc_real *inp, lc_real *row, int B, int C, int OC, int add,
                             lc_step_fn step, void *ctx, long W_at, long bias_at,
                             lc_real W_decay, lc_real bias_decay);
/* Pooling over KH x KW windows with steps SH, SW (a 1-D pool: H = KH = SH = 1);
 * OH = (H - KH) / SH + 1, OW = (W - KW) / SW + 1; otherwise as above. */
void lc_maxpool_rect_forward(lc_real *out, const lc_real *inp, int B, int C, int H, int W,
                             int KH, int KW, int SH, int SW);
void lc_maxpool_rect_backward_into(lc_real *dinp, const lc_real *dout, const lc_real *inp,
                                   int B, int C, int H, int W, int KH, int KW, int SH, int SW,
                                   int add);
void lc_avgpool_rect_forward(lc_real *out, const lc_real *inp, int B, int C, int H, int W,
                             int KH, int KW, int SH, int SW);
void lc_avgpool_rect_backward_into(lc_real *dinp, const lc_real *dout, const lc_real *inp,
                                   int B, int C, int H, int W, int KH, int KW, int SH, int SW,
                                   int add);

/* Global pooling: out[B, C] = the mean (or the maximum: the first on ties,
 * the last NaN if any) of each plane of N values of inp[B, C, N]; the
 * backward functions assign dinp (add = 0) or add to it (add = 1). */
void lc_global_avgpool_forward(lc_real *out, const lc_real *inp, int B, int C, int N);
void lc_global_avgpool_backward_into(lc_real *dinp, const lc_real *dout, int B, int C, int N,
                                     int add);
void lc_global_maxpool_forward(lc_real *out, const lc_real *inp, int B, int C, int N);
void lc_global_maxpool_backward_into(lc_real *dinp, const lc_real *dout, const lc_real *inp,
                                     int B, int C, int N, int add);

/* Elementwise, n values (vectorised; split over the threads when long).
 * out[i] = inp[i] > 0 ? inp[i] : 0 (NaN gives 0, as the generated loops) */
void lc_relu_forward(lc_real *out, const lc_real *inp, int n);
/* dinp[i] (+)= out[i] > 0 ? dout[i] : 0: adds when accumulate, else assigns */
void lc_relu_backward(lc_real *dinp, const lc_real *dout, const lc_real *out, int n,
                      int accumulate);

/* Normalisation (kernels/norm.c).  Batch normalisation of x[B, C, S] per
 * channel (S values a channel has in one sample: h w, l, or 1 for a vector
 * of C features), as torch.nn.BatchNorm1d/2d.  Training: the batch's mean
 * and biased variance normalise; mean[C] and invstd[C] = 1/sqrt(var + eps)
 * are kept for the backward pass; run_mean and run_var move by momentum
 * towards the mean and the unbiased variance.  Evaluation: the running
 * statistics normalise.  The backward passes add to dgamma and dbeta and
 * assign dinp (add = 0) or add to it (add = 1); NULL gradients are skipped. */
void lc_batchnorm_forward_train(lc_real *out, lc_real *mean, lc_real *invstd,
                                lc_real *run_mean, lc_real *run_var, const lc_real *inp,
                                const lc_real *gamma, const lc_real *beta, int B, int C, int S,
                                double momentum, double eps);
void lc_batchnorm_forward_eval(lc_real *out, const lc_real *inp, const lc_real *gamma,
                               const lc_real *beta, const lc_real *run_mean,
                               const lc_real *run_var, int B, int C, int S, double eps);
void lc_batchnorm_backward_train(lc_real *dinp, lc_real *dgamma, lc_real *dbeta,
                                 const lc_real *dout, const lc_real *inp, const lc_real *mean,
                                 const lc_real *invstd, const lc_real *gamma, int B, int C, int S,
                                 int add);
void lc_batchnorm_backward_eval(lc_real *dinp, lc_real *dgamma, lc_real *dbeta,
                                const lc_real *dout, const lc_real *inp, const lc_real *gamma,
                                const lc_real *run_mean, const lc_real *run_var, int B, int C,
                                int S, double eps, int add);
/* Layer normalisation of R rows of D values each, gamma and beta [D], as
 * torch.nn.LayerNorm(D); mean[R] and invstd[R] kept unless NULL. */
void lc_layernorm_forward(lc_real *out, lc_real *mean, lc_real *invstd, const lc_real *inp,
                          const lc_real *gamma, const lc_real *beta, int R, int D, double eps);
void lc_layernorm_backward(lc_real *dinp, lc_real *dgamma, lc_real *dbeta, const lc_real *dout,
                           const lc_real *inp, const lc_real *mean, const lc_real *invstd,
                           const lc_real *gamma, int R, int D, int add);
/* normalize: out[B, C, S] = (inp - mean[c]) / std[c]; dinp (add: +=) dout / std[c]. */
void lc_normalize_forward(lc_real *out, const lc_real *inp, const lc_real *mean, const lc_real *std,
                          int B, int C, int S);
void lc_normalize_backward(lc_real *dinp, const lc_real *dout, const lc_real *std, int B, int C, int S,
                           int add);
/* The activations, forward and backward, over n values (vectorised, with
 * float exp, tanh and erf within 2 ulp; split over the threads when long),
 * with PyTorch's arithmetic and its gradient at the kinks.  A backward
 * function assigns dinp when add = 0 and adds to it when add = 1; it reads
 * the op's output (out) or its input (inp), as its signature says.
 *   sigmoid:    out = 1 / (1 + e^-inp)             dinp (+)= dout out (1 - out)
 *   tanh:       out = tanh(inp)                    dinp (+)= dout (1 - out^2)
 *   relu6:      out = min(max(inp, 0), 6)          dinp (+)= 0 < inp < 6 ? dout : 0
 *   hardswish:  out = inp min(max(inp + 3, 0), 6) / 6
 *               dinp (+)= inp < -3 ? 0 : inp < 3 ? dout (inp / 3 + 1/2) : dout
 *   silu:       out = inp / (1 + e^-inp)           dinp (+)= dout s (1 + inp (1 - s)), s = sigmoid(inp)
 *   gelu:       out = inp / 2 (1 + erf(inp / sqrt 2))
 *               dinp (+)= dout (Phi(inp) + inp e^(-inp^2 / 2) / sqrt(2 pi))
 *   elu:        out = inp <= 0 ? alpha (e^inp - 1) : inp
 *               dinp (+)= inp <= 0 ? dout alpha e^inp : dout
 *   clip:       out = min(max(inp, lo), hi) (NaN stays NaN)
 *               dinp (+)= lo <= inp <= hi ? dout : 0
 *   leaky_relu: out = inp > 0 ? inp : alpha inp    dinp (+)= inp > 0 ? dout : alpha dout */
void lc_sigmoid_forward(lc_real *out, const lc_real *inp, int n);
void lc_sigmoid_backward(lc_real *dinp, const lc_real *dout, const lc_real *out, int n, int add);
void lc_tanh_forward(lc_real *out, const lc_real *inp, int n);
void lc_tanh_backward(lc_real *dinp, const lc_real *dout, const lc_real *out, int n, int add);
void lc_relu6_forward(lc_real *out, const lc_real *inp, int n);
void lc_relu6_backward(lc_real *dinp, const lc_real *dout, const lc_real *inp, int n, int add);
void lc_hardswish_forward(lc_real *out, const lc_real *inp, int n);
void lc_hardswish_backward(lc_real *dinp, const lc_real *dout, const lc_real *inp, int n, int add);
void lc_silu_forward(lc_real *out, const lc_real *inp, int n);
void lc_silu_backward(lc_real *dinp, const lc_real *dout, const lc_real *inp, int n, int add);
void lc_gelu_forward(lc_real *out, const lc_real *inp, int n);
void lc_gelu_backward(lc_real *dinp, const lc_real *dout, const lc_real *inp, int n, int add);
void lc_elu_forward(lc_real *out, const lc_real *inp, int n, lc_real alpha);
void lc_elu_backward(lc_real *dinp, const lc_real *dout, const lc_real *inp, int n, lc_real alpha,
                     int add);
void lc_clip_forward(lc_real *out, const lc_real *inp, int n, lc_real lo, lc_real hi);
void lc_clip_backward(lc_real *dinp, const lc_real *dout, const lc_real *inp, int n, lc_real lo,
                      lc_real hi, int add);
void lc_leaky_relu_forward(lc_real *out, const lc_real *inp, int n, lc_real alpha);
void lc_leaky_relu_backward(lc_real *dinp, const lc_real *dout, const lc_real *inp, int n,
                            lc_real alpha, int add);

/* out[B, n] = softmax of each row of inp[B, n] (shifted by the row's max);
 * dinp[b, j] (+)= out[b, j] (dout[b, j] - sum_k dout[b, k] out[b, k]) */
void lc_softmax_forward(lc_real *out, const lc_real *inp, int B, int n);
void lc_softmax_backward(lc_real *dinp, const lc_real *dout, const lc_real *out, int B, int n, int add);

/* The losses of B samples of n values, as SPEC.md defines them: the mean
 * over the batch of each sample's loss, added up in double (the same value
 * on any number of threads).
 *   mse:           1/2 sum_j (y_j - t_j)^2
 *   bce:           -sum_j t_j log y_j + (1 - t_j) log(1 - y_j), y = the
 *                  sigmoid's output, each log clamped at -100 (and -100 for
 *                  y outside (0, 1)) as torch's BCELoss
 *   cross_entropy: -sum_j t_j log softmax(z)_j from the logits z (the
 *                  softmax's input): z_j - max - log sum_k e^(z_k - max) */
double lc_mse_forward(const lc_real *y, const lc_real *t, int B, int n);
double lc_bce_forward(const lc_real *y, const lc_real *t, int B, int n);
double lc_cross_entropy_forward(const lc_real *z, const lc_real *t, int B, int n);
/* The fused gradient of all three at their start, dinp[B, n] (+)= (y - t) / B:
 * mse at y, cross_entropy at the softmax's input (y its output), bce at the
 * sigmoid's input (y its output). */
void lc_loss_backward(lc_real *dinp, const lc_real *y, const lc_real *t, int B, int n, int add);

/* Arithmetic over n values: out = a + b, a * b, s inp.  Their gradients are
 * one input's share a call: dinp (+)= dout (add; also identity, flatten,
 * reshape and the slices of concat), dout * other (mul: other is the other
 * factor), s dout (scale). */
void lc_add_forward(lc_real *out, const lc_real *a, const lc_real *b, int n);
void lc_add_backward(lc_real *dinp, const lc_real *dout, int n, int add);
void lc_mul_forward(lc_real *out, const lc_real *a, const lc_real *b, int n);
void lc_mul_backward(lc_real *dinp, const lc_real *dout, const lc_real *other, int n, int add);
void lc_scale_forward(lc_real *out, const lc_real *inp, int n, lc_real s);
void lc_scale_backward(lc_real *dinp, const lc_real *dout, int n, lc_real s, int add);
/* Quantisation-aware training (--qat): x[n] in place = s (q - zero), q =
 * round(x / s) + zero clamped to [lo, hi] (ties away from zero), the int8
 * rounding of the output in float; its backward is the identity (the
 * straight-through estimator), so it has none. */
void lc_fakequant_forward(lc_real *x, int n, double s, int zero, int lo, int hi);

/* Optimizer steps over n parameters, the arithmetic of torch.optim:
 * SGD: g = grad + decay p; v = momentum v + g (when velocity is not NULL);
 *      p -= lr v (or lr g). */
void lc_sgd_update(lc_real *params, const lc_real *grads, lc_real *velocity, int n,
                   lc_real lr, lc_real momentum, lc_real decay);
/* Adam: g = grad + decay p; m = beta1 m + (1 - beta1) g;
 * v = beta2 v + (1 - beta2) g^2; p -= step_size m / (sqrt(v) / bias2_sqrt + eps),
 * where step_size = lr / (1 - beta1^t) and bias2_sqrt = sqrt(1 - beta2^t). */
void lc_adam_update(lc_real *params, const lc_real *grads, lc_real *m, lc_real *v, int n,
                    lc_real step_size, lc_real bias2_sqrt, lc_real beta1, lc_real beta2,
                    lc_real one_beta1, lc_real one_beta2, lc_real eps, lc_real decay);
/* RMSprop: g = grad + decay p; s = alpha s + (1 - alpha) g^2; when centered
 * (grad_avg not NULL) a = alpha a + (1 - alpha) g, avg = sqrt(s - a^2) + eps,
 * else avg = sqrt(s) + eps; with momentum (buf not NULL) b = momentum b + g / avg,
 * p -= lr b, else p -= lr g / avg. */
void lc_rmsprop_update(lc_real *params, const lc_real *grads, lc_real *square_avg, lc_real *grad_avg,
                       lc_real *buf, int n, lc_real lr, lc_real alpha, lc_real one_alpha, lc_real eps,
                       lc_real momentum, lc_real decay);
/* Adadelta: g = grad + decay p; s = rho s + (1 - rho) g^2;
 * delta = sqrt(u + eps) / sqrt(s + eps) g; u = rho u + (1 - rho) delta^2; p -= lr delta. */
void lc_adadelta_update(lc_real *params, const lc_real *grads, lc_real *square_avg, lc_real *acc_delta,
                        int n, lc_real lr, lc_real rho, lc_real one_rho, lc_real eps, lc_real decay);

/* ---- int8 (runtime/kernels/int8.c): integer-only inference, the
 * arithmetic of the TensorFlow Lite int8 reference kernels.  real =
 * scale (q - zero); weights per output channel with zero point 0; sums in
 * int32; requantised by mult 2^(shift - 31), rounded as gemmlowp. ---- */
#include <stdint.h>
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
/* out[B, OC] = requant(W[OC, C] . (inp[B, C] - in_zero) + bias[OC]) + out_zero (bias may be NULL) */
void lc_i8_dense_forward(int8_t *out, const int8_t *inp, const int8_t *W, const int32_t *bias,
                         const int32_t *mult, const int32_t *shift, int B, int C, int OC,
                         const lc_i8_quant *q);
/* out[B, OC, OH, OW] = conv(inp[B, C, H, W], W[OC, C/G, KH, KW]) + bias, requantised per channel */
void lc_i8_conv_forward(int8_t *out, const int8_t *inp, const int8_t *Wt, const int32_t *bias,
                        const int32_t *mult, const int32_t *shift, int B, const lc_conv_dims *d,
                        const lc_i8_quant *q);
/* windows of KH x KW, stride SH x SW, no padding; the output in the input's quantisation */
void lc_i8_maxpool_forward(int8_t *out, const int8_t *inp, int B, int C, int H, int W, int KH,
                           int KW, int SH, int SW);
void lc_i8_avgpool_forward(int8_t *out, const int8_t *inp, int B, int C, int H, int W, int KH,
                           int KW, int SH, int SW);
void lc_i8_add_forward(int8_t *out, const int8_t *a, const int8_t *b, int n, const lc_i8_add_params *p);
void lc_i8_requantize_forward(int8_t *out, const int8_t *inp, int n, int32_t in_zero,
                              int32_t out_zero, int32_t mult, int32_t shift);
void lc_i8_clamp_forward(int8_t *out, const int8_t *inp, int n, int32_t lo, int32_t hi);
void lc_i8_lut_forward(int8_t *out, const int8_t *inp, int n, const int8_t *table);
/* rows of N, out at scale 1/256 and zero point -128; exp_table[d] = round(2^16 exp(-s_in d)) */
void lc_i8_softmax_forward(int8_t *out, const int8_t *inp, int B, int N, const int32_t *exp_table);

#endif
