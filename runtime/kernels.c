/* kernels.c: every kernel unit of runtime/kernels/, compiled into layerc
 * (the JIT hands these functions to tcc-compiled model code).  Generated C
 * pastes only the units its ops need; see kernels/common.c.
 *
 * layerc builds this file once per instruction set it may run on
 * (-DLC_ISA=NAME with that set's flags; Makefile: KERNEL_ISAS): the kernels
 * are then static and the build exports one table of them all,
 * lc_kernels_NAME, among which runtime/dispatch.c chooses at start-up.
 * Compiled without LC_ISA (bench/gemm.c), the kernels are the public
 * functions themselves. */
#ifdef LC_ISA
#define LC_KERNEL static
#endif

/* A generated model uses only some of these kernels, and clang -Wall warns
 * about unused static functions even when inline (gcc does not), hence: */
#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#endif

#include "kernels/common.c"
#include "kernels/vmath.c"
#include "kernels/gemm.c"
#include "kernels/fused.c"
#include "kernels/conv.c"
#include "kernels/dwconv.c"
#include "kernels/pool.c"
#include "kernels/elementwise.c"
#include "kernels/activation.c"
#include "kernels/loss.c"
#include "kernels/norm.c"
#include "kernels/optim.c"
#include "kernels/int8.c"

#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif

#ifdef LC_ISA
#include "kernels_list.h"
#define LC__STR(x) #x
#define LC__XSTR(x) LC__STR(x)
#define LC__CAT(a, b) a##b
#define LC__SET(isa) LC__CAT(lc_kernels_, isa)
#define LC__ENTRY_V(name, params, args) name,
#define LC__ENTRY_R(type, name, params, args) name,
extern const lc_kernel_set LC__SET(LC_ISA);
const lc_kernel_set LC__SET(LC_ISA) = { LC__XSTR(LC_ISA), LC_KERNEL_LIST(LC__ENTRY_V, LC__ENTRY_R) };
#endif
