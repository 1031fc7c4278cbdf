/* kernels.c: every kernel unit of runtime/kernels/, compiled into layerc
 * (the JIT hands these functions to tcc-compiled model code).  Generated C
 * pastes only the units its ops need; see kernels/common.c. */
/* A generated model uses only some of these kernels, and clang -Wall warns
 * about unused static functions even when inline (gcc does not), hence: */
#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#endif

#include "kernels/common.c"
#include "kernels/gemm.c"
#include "kernels/fused.c"
#include "kernels/conv.c"
#include "kernels/dwconv.c"
#include "kernels/pool.c"
#include "kernels/elementwise.c"
#include "kernels/norm.c"
#include "kernels/optim.c"

#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif
