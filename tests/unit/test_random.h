/* test_random.h: reproducible random test data.  Each test file sets its
 * own seed (#define TEST_SEED before including) so that adding a test to one
 * file does not change the numbers another file draws. */
#ifndef LC_TEST_RANDOM_H
#define LC_TEST_RANDOM_H

#include <stdlib.h>

#ifndef TEST_SEED
#define TEST_SEED 1
#endif

static unsigned long long test_rng = TEST_SEED;

static inline double urand(void) /* uniform in [-1, 1) */
{
    test_rng = test_rng * 6364136223846793005ULL + 1442695040888963407ULL;
    return (double)(test_rng >> 11) / 4503599627370496.0 - 1.0;
}

static inline float *randv(size_t n) /* n floats from urand */
{
    float *v = malloc((n ? n : 1) * sizeof *v);
    for (size_t i = 0; i < n; i++) v[i] = (float)urand();
    return v;
}

static inline double *randd(size_t n) /* n doubles from urand */
{
    double *v = malloc((n ? n : 1) * sizeof *v);
    for (size_t i = 0; i < n; i++) v[i] = urand();
    return v;
}

#endif
