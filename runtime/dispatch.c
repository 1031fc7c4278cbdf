/* dispatch.c: the public kernels, each a call into the set of kernels
 * chosen for this CPU at start-up.  See dispatch.h.
 *
 * Why a table and not target_clones: the kernels' heavy loops run in task
 * functions that the thread pool calls through pointers, so cloning the
 * public functions alone would leave those loops built for the baseline.
 * Each set is the whole of kernels.c compiled with its flags (Makefile:
 * KERNEL_ISAS), so every loop in it is.  The extra indirect call costs a
 * few nanoseconds a kernel. */
#include "dispatch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels.h"
#include "kernels_list.h"

#if defined(LC_DISPATCH_X86)
extern const lc_kernel_set lc_kernels_baseline, lc_kernels_avx2, lc_kernels_avx512;
#define LC__FIRST lc_kernels_baseline
#elif defined(LC_DISPATCH_NATIVE)
extern const lc_kernel_set lc_kernels_native;
#define LC__FIRST lc_kernels_native
#else
extern const lc_kernel_set lc_kernels_portable;
#define LC__FIRST lc_kernels_portable
#endif

/* What a set needs of the CPU, and the CPU's answer. */
struct candidate {
    const lc_kernel_set *set;
    const char *needs;   /* for messages */
    int (*runs_here)(void);
};

static int always(void) { return 1; }

#if defined(LC_DISPATCH_X86)
/* __builtin_cpu_supports also checks that the system saves the wider
 * registers (XCR0), not only the CPUID bits. */
static int has_avx2(void)
{
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}

static int has_avx512(void)
{
    return has_avx2() && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl");
}

/* best first */
static const struct candidate candidates[] = {
    { &lc_kernels_avx512, "AVX-512 (F, BW, DQ, VL)", has_avx512 },
    { &lc_kernels_avx2, "AVX2 and FMA", has_avx2 },
    { &lc_kernels_baseline, "x86-64", always },
};
#else
static const struct candidate candidates[] = { { &LC__FIRST, "", always } };
#endif
#define NCAND (sizeof candidates / sizeof candidates[0])

/* Valid before the constructor below has run too (the portable set). */
static const lc_kernel_set *chosen = &LC__FIRST;
static char description[160];

__attribute__((constructor)) static void choose(void)
{
    const char *want = getenv("LAYERC_KERNELS");
    char built[80] = "";
    size_t i;
    for (i = NCAND; i-- > 0;)
        snprintf(built + strlen(built), sizeof built - strlen(built), "%s%s",
                 built[0] ? ", " : "", candidates[i].set->name);
    if (want && *want && strcmp(want, "auto")) {
        for (i = 0; i < NCAND && strcmp(want, candidates[i].set->name); i++) continue;
        if (i == NCAND) {
            fprintf(stderr, "layerc: error: LAYERC_KERNELS=%s: no such kernel set (this layerc has %s, "
                            "or auto)\n", want, built);
            exit(1);
        }
        if (!candidates[i].runs_here()) {
            fprintf(stderr, "layerc: error: LAYERC_KERNELS=%s: this CPU lacks %s\n", want,
                    candidates[i].needs);
            exit(1);
        }
        chosen = candidates[i].set;
        snprintf(description, sizeof description, "kernels: %s (set by LAYERC_KERNELS; built: %s)",
                 chosen->name, built);
        return;
    }
    for (i = 0; i < NCAND && !candidates[i].runs_here(); i++) continue;
    chosen = candidates[i < NCAND ? i : NCAND - 1].set;
    if (NCAND == 1)
        snprintf(description, sizeof description, "kernels: %s (the only set built)", chosen->name);
    else
        snprintf(description, sizeof description, "kernels: %s (the best this CPU runs of %s)",
                 chosen->name, built);
}

const char *lc_dispatch_name(void) { return chosen->name; }

const char *lc_dispatch_describe(void)
{
    if (!description[0]) choose();
    return description;
}

#define LC__CALL_V(name, params, args) \
    void name params { chosen->name args; }
#define LC__CALL_R(type, name, params, args) \
    type name params { return chosen->name args; }
LC_KERNEL_LIST(LC__CALL_V, LC__CALL_R)
