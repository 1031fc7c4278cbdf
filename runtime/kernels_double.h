/* kernels_double.h: the kernels in double precision (kernels_double.c), by
 * the names generated code calls them, for the JIT of `layerc check`. */
#ifndef LC_KERNELS_DOUBLE_H
#define LC_KERNELS_DOUBLE_H

/* The double build of kernel `name` ("lc_matmul_forward"), or NULL. */
const void *lc_kernel_f64(const char *name);

#endif
