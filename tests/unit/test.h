/* test.h: the smallest unit-test harness that does the job.
 *
 *     TEST(name) { CHECK(x == 1); CHECK_NEAR(a, b, 1e-6); }
 *     int main(void) { RUN(name); return test_report("parser"); }
 *
 * A failed CHECK prints file:line and the expression, and the test goes on.
 * test_report prints "SUITE: N passed, N failed" (one per test function);
 * tests/run.sh adds these up for the final line of `make test`.
 */
#ifndef LC_TEST_H
#define LC_TEST_H

#include <math.h>
#include <stdio.h>
#include <string.h>

static int test_failed_checks, test_passed, test_failed;

#define TEST(name) static void name(void)

#define CHECK(cond)                                                          \
    do {                                                                     \
        if (!(cond)) {                                                       \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, \
                    #cond);                                                  \
            test_failed_checks++;                                            \
        }                                                                    \
    } while (0)

#define CHECK_NEAR(a, b, tol)                                                \
    do {                                                                     \
        double a_ = (a), b_ = (b);                                           \
        if (!(fabs(a_ - b_) <= (tol))) {                                     \
            fprintf(stderr, "%s:%d: check failed: %s = %.9g, %s = %.9g\n",   \
                    __FILE__, __LINE__, #a, a_, #b, b_);                     \
            test_failed_checks++;                                            \
        }                                                                    \
    } while (0)

#define CHECK_STR(a, b)                                                      \
    do {                                                                     \
        const char *a_ = (a), *b_ = (b);                                     \
        if (!a_ || !b_ || strcmp(a_, b_) != 0) {                             \
            fprintf(stderr, "%s:%d: check failed: %s = \"%s\", want \"%s\"\n",\
                    __FILE__, __LINE__, #a, a_ ? a_ : "(null)",              \
                    b_ ? b_ : "(null)");                                     \
            test_failed_checks++;                                            \
        }                                                                    \
    } while (0)

/* The substring b occurs in a. */
#define CHECK_CONTAINS(a, b)                                                 \
    do {                                                                     \
        const char *a_ = (a), *b_ = (b);                                     \
        if (!a_ || !strstr(a_, b_)) {                                        \
            fprintf(stderr, "%s:%d: check failed: \"%s\" does not contain \"%s\"\n",\
                    __FILE__, __LINE__, a_ ? a_ : "(null)", b_);             \
            test_failed_checks++;                                            \
        }                                                                    \
    } while (0)

#define RUN(name)                                                            \
    do {                                                                     \
        int before_ = test_failed_checks;                                    \
        name();                                                              \
        if (test_failed_checks == before_) test_passed++;                    \
        else { test_failed++; fprintf(stderr, "FAIL %s\n", #name); }         \
    } while (0)

static inline int test_report(const char *suite)
{
    printf("%s: %d passed, %d failed\n", suite, test_passed, test_failed);
    return test_failed ? 1 : 0;
}

#endif
