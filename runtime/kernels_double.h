/* kernels_double.h: the kernels in double precision (kernels_double.c), by
 * the names generated code calls them, for the JIT of `layerc check`. */
#ifndef LC_KERNELS_DOUBLE_H
#define LC_KERNELS_DOUBLE_H

typedef struct {
    const char *name;   /* as generated code calls it: "lc_matmul_forward" */
    void *fn;           /* its double-precision build */
} LcKernelSymbol;

/* Ends with { NULL, NULL }. */
extern const LcKernelSymbol lc_kernels_f64[];

#endif
