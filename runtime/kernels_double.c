/* kernels_double.c: the kernel units again, with lc_real = double, compiled
 * with the same optimisation as kernels.c, for `layerc check`.  tcc does not
 * optimise, and a gradient check runs the forward pass thousands of times:
 * compiled by tcc, ResNet-8's takes 60 ms, too slow to check in seconds.
 * Every kernel of kernels.h gets a _f64 suffix here (build/kernels_f64.h,
 * made from kernels.h, renames them), so they do not clash with the float
 * kernels; lc_kernel_f64 finds them by the names the generated code calls,
 * and the JIT hands them in (jit_compile with_kernels = 2).  Built without
 * LC_POOL: serial, as the check's generated code sizes its scratch for one
 * thread. */
#define LC_REAL_DEFINED
typedef double lc_real;

#include "kernels_f64.h"   /* #define lc_matmul_forward lc_matmul_forward_f64, ... */

#include "kernels.c"

#include <string.h>

#include "kernels_double.h"

static const struct {
    const char *name;
    const void *fn;
} f64[] = {
#define LC_F64(name) { #name, (const void *)name },
    LC_F64_KERNELS
#undef LC_F64
};

const void *lc_kernel_f64(const char *name)
{
    for (size_t i = 0; i < sizeof f64 / sizeof f64[0]; i++)
        if (!strcmp(f64[i].name, name)) return f64[i].fn;
    return NULL;
}
