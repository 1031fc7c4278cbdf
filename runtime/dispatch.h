/* dispatch.h: which build of the kernels layerc runs.
 *
 * layerc carries its kernels built for several instruction sets (on
 * x86-64: the baseline, AVX2 + FMA, AVX-512) and chooses one at start-up,
 * the best this CPU runs, or the one the environment variable
 * LAYERC_KERNELS names; so one binary runs on any x86-64 at the speed of
 * the machine.  The public kernels of kernels.h call the chosen set. */
#ifndef LC_DISPATCH_H
#define LC_DISPATCH_H

/* The set in use: "baseline", "avx2", "avx512" (x86-64), "portable" (other
 * machines) or "native" (make NATIVE=1). */
const char *lc_dispatch_name(void);

/* One line for `layerc --version`: the set in use, why, and those built. */
const char *lc_dispatch_describe(void);

#endif
