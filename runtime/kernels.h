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
