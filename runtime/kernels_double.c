/* kernels_double.c: the kernel units again, with lc_real = double, compiled
 * with the same optimisation as kernels.c, for `layerc check`.  tcc does not
 * optimise, and a gradient check runs the forward pass thousands of times:
 * compiled by tcc, ResNet-8's takes 60 ms, too slow to check in seconds.
 * The exported names get a _f64 suffix here (so they do not clash with the
 * float kernels); lc_kernels_f64 maps the names the generated code calls to
 * them, and the JIT hands them in (jit_compile with_kernels = 2).  A kernel
 * added to the units but not below fails to link (a duplicate symbol), so
 * the list cannot fall behind silently.  Built without LC_POOL: serial, as
 * the check's generated code sizes its scratch for one thread. */
#define LC_REAL_DEFINED
typedef double lc_real;

#define lc_matmul_forward lc_matmul_forward_f64
#define lc_matmul_backward lc_matmul_backward_f64
#define lc_matmul_backward_into lc_matmul_backward_into_f64
#define lc_conv2d_forward lc_conv2d_forward_f64
#define lc_conv2d_backward lc_conv2d_backward_f64
#define lc_conv2d_backward_into lc_conv2d_backward_into_f64
#define lc_maxpool_forward lc_maxpool_forward_f64
#define lc_maxpool_backward lc_maxpool_backward_f64
#define lc_maxpool_backward_into lc_maxpool_backward_into_f64
#define lc_avgpool_forward lc_avgpool_forward_f64
#define lc_avgpool_backward lc_avgpool_backward_f64
#define lc_avgpool_backward_into lc_avgpool_backward_into_f64
#define lc_relu_forward lc_relu_forward_f64
#define lc_relu_backward lc_relu_backward_f64
#define lc_sgd_update lc_sgd_update_f64
#define lc_adam_update lc_adam_update_f64

#include "kernels.c"

#include "kernels_double.h"

#define LC_F64(name) { #name, (void *)name##_f64 }
const LcKernelSymbol lc_kernels_f64[] = {
    LC_F64(lc_matmul_forward), LC_F64(lc_matmul_backward), LC_F64(lc_matmul_backward_into),
    LC_F64(lc_conv2d_forward), LC_F64(lc_conv2d_backward), LC_F64(lc_conv2d_backward_into),
    LC_F64(lc_maxpool_forward), LC_F64(lc_maxpool_backward), LC_F64(lc_maxpool_backward_into),
    LC_F64(lc_avgpool_forward), LC_F64(lc_avgpool_backward), LC_F64(lc_avgpool_backward_into),
    LC_F64(lc_relu_forward), LC_F64(lc_relu_backward),
    LC_F64(lc_sgd_update), LC_F64(lc_adam_update),
    { 0, 0 }
};
