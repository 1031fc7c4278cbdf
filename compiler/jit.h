/* jit.h: C text -> running code, in memory, with libtcc.
 * tcc does not optimise, so the kernels (compiled into layerc with -O3)
 * are handed to the generated code as symbols rather than compiled by tcc. */
#ifndef LC_JIT_H
#define LC_JIT_H

#include <stddef.h>

typedef struct Jit Jit;

/* Compiles code; on failure returns NULL with tcc's messages in err.
 * with_kernels: hand in layerc's optimised kernels as symbols: 1 the float
 * ones, 2 the double ones (kernels_double.h, code with lc_real = double). */
Jit *jit_compile(const char *code, int with_kernels, char *err, size_t errlen);
void *jit_symbol(Jit *j, const char *name);
/* The symbol PREFIX_SUFFIX ("xor_forward", "lc_jit_params"), or NULL with
 * "internal error: the generated code lacks ..." in err. */
void *jit_symbol_named(Jit *j, const char *prefix, const char *suffix, char *err, size_t errlen);
void jit_free(Jit *j);

#endif
