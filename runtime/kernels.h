/* kernels.h: the heavy loops, shared by the JIT and the generated C.
 *
 * runtime/kernels.c is ONE source used three ways:
 *   - compiled into layerc with optimisation; the JIT hands these functions
 *     to tcc-compiled model code with tcc_add_symbol (tcc itself does not
 *     optimise, so the matrix products must not be left to it);
 *   - pasted by the emitter into every AOT .c file, each function `static`
 *     (LC_KERNEL defined as `static inline` there), so a generated file stays
 *     self-contained and two models link into one program;
 *   - pasted with lc_real = double for `layerc check` (finite differences).
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

/* Elementwise, n values (vectorised; split over the threads when long).
 * out[i] = inp[i] > 0 ? inp[i] : 0 (NaN gives 0, as the generated loops) */
void lc_relu_forward(lc_real *out, const lc_real *inp, int n);
/* dinp[i] (+)= out[i] > 0 ? dout[i] : 0: adds when accumulate, else assigns */
void lc_relu_backward(lc_real *dinp, const lc_real *dout, const lc_real *out, int n,
                      int accumulate);

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

#endif
