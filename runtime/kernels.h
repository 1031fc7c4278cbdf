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

#endif
