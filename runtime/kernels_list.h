/* kernels_list.h: every public kernel of kernels.h, once, for the runtime
 * dispatch (runtime/dispatch.c).  layerc builds runtime/kernels.c once per
 * instruction set, each build a table of its kernels (lc_kernel_set);
 * dispatch.c defines the public functions, which call the table chosen at
 * start-up.  LC_KERNEL_LIST(V, R) applies V(name, (parameters), (arguments))
 * to each kernel that returns nothing and R(type, name, (parameters),
 * (arguments)) to each that returns a value.
 *
 * A kernel added to kernels.h is added here too: both translation units
 * check the entries against the definitions (a different signature does
 * not compile), and tests/t_dispatch.sh checks that every function of
 * kernels.h is listed. */
#ifndef LC_KERNELS_LIST_H
#define LC_KERNELS_LIST_H

#define LC_KERNEL_LIST(V, R)                                                                      \
    V(lc_matmul_forward, (lc_real *out, const lc_real *inp, const lc_real *W,                      \
                          const lc_real *bias, int B, int C, int OC),                              \
      (out, inp, W, bias, B, C, OC))                                                              \
    V(lc_matmul_backward, (lc_real *dinp, lc_real *dW, lc_real *dbias, const lc_real *dout,        \
                           const lc_real *inp, const lc_real *W, int B, int C, int OC),            \
      (dinp, dW, dbias, dout, inp, W, B, C, OC))                                                  \
    V(lc_matmul_backward_into, (lc_real *dinp, lc_real *dW, lc_real *dbias, const lc_real *dout,   \
                                const lc_real *inp, const lc_real *W, int B, int C, int OC,        \
                                int add),                                                         \
      (dinp, dW, dbias, dout, inp, W, B, C, OC, add))                                             \
    V(lc_conv2d_forward, (lc_real *out, const lc_real *inp, const lc_real *Wt,                     \
                          const lc_real *bias, lc_real *work, int B, int C, int H, int W,          \
                          int OC, int K, int stride, int pad),                                    \
      (out, inp, Wt, bias, work, B, C, H, W, OC, K, stride, pad))                                 \
    V(lc_conv2d_backward, (lc_real *dinp, lc_real *dWt, lc_real *dbias, const lc_real *dout,       \
                           const lc_real *inp, const lc_real *Wt, lc_real *work, int B, int C,     \
                           int H, int W, int OC, int K, int stride, int pad),                     \
      (dinp, dWt, dbias, dout, inp, Wt, work, B, C, H, W, OC, K, stride, pad))                    \
    V(lc_conv2d_backward_into, (lc_real *dinp, lc_real *dWt, lc_real *dbias, const lc_real *dout,  \
                                const lc_real *inp, const lc_real *Wt, lc_real *work, int B,       \
                                int C, int H, int W, int OC, int K, int stride, int pad,           \
                                int add),                                                         \
      (dinp, dWt, dbias, dout, inp, Wt, work, B, C, H, W, OC, K, stride, pad, add))               \
    V(lc_maxpool_forward, (lc_real *out, const lc_real *inp, int B, int C, int H, int W,           \
                           int size, int stride),                                                 \
      (out, inp, B, C, H, W, size, stride))                                                       \
    V(lc_maxpool_backward, (lc_real *dinp, const lc_real *dout, const lc_real *inp, int B, int C,  \
                            int H, int W, int size, int stride),                                  \
      (dinp, dout, inp, B, C, H, W, size, stride))                                                \
    V(lc_maxpool_backward_into, (lc_real *dinp, const lc_real *dout, const lc_real *inp, int B,    \
                                 int C, int H, int W, int size, int stride, int add),             \
      (dinp, dout, inp, B, C, H, W, size, stride, add))                                           \
    V(lc_avgpool_forward, (lc_real *out, const lc_real *inp, int B, int C, int H, int W,           \
                           int size, int stride),                                                 \
      (out, inp, B, C, H, W, size, stride))                                                       \
    V(lc_avgpool_backward, (lc_real *dinp, const lc_real *dout, const lc_real *inp, int B, int C,  \
                            int H, int W, int size, int stride),                                  \
      (dinp, dout, inp, B, C, H, W, size, stride))                                                \
    V(lc_avgpool_backward_into, (lc_real *dinp, const lc_real *dout, const lc_real *inp, int B,    \
                                 int C, int H, int W, int size, int stride, int add),             \
      (dinp, dout, inp, B, C, H, W, size, stride, add))                                           \
    V(lc_relu_forward, (lc_real *out, const lc_real *inp, int n), (out, inp, n))                   \
    V(lc_relu_backward, (lc_real *dinp, const lc_real *dout, const lc_real *out, int n,            \
                         int accumulate),                                                         \
      (dinp, dout, out, n, accumulate))                                                           \
    V(lc_sigmoid_forward, (lc_real *out, const lc_real *inp, int n), (out, inp, n))                 \
    V(lc_sigmoid_backward, (lc_real *dinp, const lc_real *dout, const lc_real *out, int n, int add), \
      (dinp, dout, out, n, add))                                                                  \
    V(lc_tanh_forward, (lc_real *out, const lc_real *inp, int n), (out, inp, n))                    \
    V(lc_tanh_backward, (lc_real *dinp, const lc_real *dout, const lc_real *out, int n, int add),    \
      (dinp, dout, out, n, add))                                                                  \
    V(lc_relu6_forward, (lc_real *out, const lc_real *inp, int n), (out, inp, n))                   \
    V(lc_relu6_backward, (lc_real *dinp, const lc_real *dout, const lc_real *inp, int n, int add),   \
      (dinp, dout, inp, n, add))                                                                  \
    V(lc_hardswish_forward, (lc_real *out, const lc_real *inp, int n), (out, inp, n))               \
    V(lc_hardswish_backward, (lc_real *dinp, const lc_real *dout, const lc_real *inp, int n,         \
                              int add),                                                           \
      (dinp, dout, inp, n, add))                                                                  \
    V(lc_silu_forward, (lc_real *out, const lc_real *inp, int n), (out, inp, n))                    \
    V(lc_silu_backward, (lc_real *dinp, const lc_real *dout, const lc_real *inp, int n, int add),    \
      (dinp, dout, inp, n, add))                                                                  \
    V(lc_gelu_forward, (lc_real *out, const lc_real *inp, int n), (out, inp, n))                    \
    V(lc_gelu_backward, (lc_real *dinp, const lc_real *dout, const lc_real *inp, int n, int add),    \
      (dinp, dout, inp, n, add))                                                                  \
    V(lc_elu_forward, (lc_real *out, const lc_real *inp, int n, lc_real alpha), (out, inp, n, alpha)) \
    V(lc_elu_backward, (lc_real *dinp, const lc_real *dout, const lc_real *inp, int n, lc_real alpha, \
                        int add),                                                                 \
      (dinp, dout, inp, n, alpha, add))                                                           \
    V(lc_clip_forward, (lc_real *out, const lc_real *inp, int n, lc_real lo, lc_real hi),           \
      (out, inp, n, lo, hi))                                                                      \
    V(lc_clip_backward, (lc_real *dinp, const lc_real *dout, const lc_real *inp, int n, lc_real lo,  \
                         lc_real hi, int add),                                                    \
      (dinp, dout, inp, n, lo, hi, add))                                                          \
    V(lc_leaky_relu_forward, (lc_real *out, const lc_real *inp, int n, lc_real alpha),              \
      (out, inp, n, alpha))                                                                       \
    V(lc_leaky_relu_backward, (lc_real *dinp, const lc_real *dout, const lc_real *inp, int n,        \
                               lc_real alpha, int add),                                           \
      (dinp, dout, inp, n, alpha, add))                                                           \
    V(lc_softmax_forward, (lc_real *out, const lc_real *inp, int B, int n), (out, inp, B, n))       \
    V(lc_softmax_backward, (lc_real *dinp, const lc_real *dout, const lc_real *out, int B, int n,    \
                            int add),                                                             \
      (dinp, dout, out, B, n, add))                                                               \
    R(double, lc_mse_forward, (const lc_real *y, const lc_real *t, int B, int n), (y, t, B, n))     \
    R(double, lc_bce_forward, (const lc_real *y, const lc_real *t, int B, int n), (y, t, B, n))     \
    R(double, lc_cross_entropy_forward, (const lc_real *z, const lc_real *t, int B, int n),         \
      (z, t, B, n))                                                                               \
    V(lc_loss_backward, (lc_real *dinp, const lc_real *y, const lc_real *t, int B, int n, int add),  \
      (dinp, y, t, B, n, add))                                                                    \
    V(lc_add_forward, (lc_real *out, const lc_real *a, const lc_real *b, int n), (out, a, b, n))    \
    V(lc_add_backward, (lc_real *dinp, const lc_real *dout, int n, int add), (dinp, dout, n, add))  \
    V(lc_mul_forward, (lc_real *out, const lc_real *a, const lc_real *b, int n), (out, a, b, n))    \
    V(lc_mul_backward, (lc_real *dinp, const lc_real *dout, const lc_real *other, int n, int add),   \
      (dinp, dout, other, n, add))                                                                \
    V(lc_scale_forward, (lc_real *out, const lc_real *inp, int n, lc_real s), (out, inp, n, s))     \
    V(lc_scale_backward, (lc_real *dinp, const lc_real *dout, int n, lc_real s, int add),           \
      (dinp, dout, n, s, add))                                                                    \
    V(lc_sgd_update, (lc_real *params, const lc_real *grads, lc_real *velocity, int n,             \
                      lc_real lr, lc_real momentum, lc_real decay),                               \
      (params, grads, velocity, n, lr, momentum, decay))                                          \
    V(lc_adam_update, (lc_real *params, const lc_real *grads, lc_real *m, lc_real *v, int n,       \
                       lc_real step_size, lc_real bias2_sqrt, lc_real beta1, lc_real beta2,       \
                       lc_real one_beta1, lc_real one_beta2, lc_real eps, lc_real decay),         \
      (params, grads, m, v, n, step_size, bias2_sqrt, beta1, beta2, one_beta1, one_beta2, eps,    \
       decay))

/* One instruction set's kernels. */
#define LC__SET_V(name, params, args) void (*name) params;
#define LC__SET_R(type, name, params, args) type (*name) params;
typedef struct lc_kernel_set {
    const char *name;
    LC_KERNEL_LIST(LC__SET_V, LC__SET_R)
} lc_kernel_set;

#endif
