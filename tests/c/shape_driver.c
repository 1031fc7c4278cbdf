/* The example every build must run (SPEC section 1), through the generated
 * C: outputs 0, 1, 0; per-sample losses 0, 0, 0.5; batch loss 1/6; and,
 * without `frozen`, the gradient (0, -2000/3, -1000).  Prints one
 * "ok"/"FAIL" line per check. */
#include <math.h>
#include <stdio.h>

#include "shape.h"

static int failures;

static void expect(const char *what, double got, double want, double tol)
{
    int ok = fabs(got - want) <= tol * (fabs(want) > 1 ? fabs(want) : 1);
    printf("%s %s: %.9g (want %.9g)\n", ok ? "ok" : "FAIL", what, got, want);
    failures += !ok;
}

int main(int argc, char **argv)
{
    static shape_t m;
    const float x[3][3] = { { 100, 2000, 100 }, { 200, 0, 0 }, { 0, 2000, 3000 } };
    const float t[3] = { 0, 1, 1 };
    const double want_y[3] = { 0, 1, 0 }, want_loss[3] = { 0, 0, 0.5 };
    float y[3];
    char name[64];
    int trainable = argc > 1;
    (void)argv;

    shape_init(&m, 1);
    for (int i = 0; i < 3; i++) {
        shape_forward(&m, x[i], &y[i], 1);
        snprintf(name, sizeof name, "output %d", i);
        expect(name, y[i], want_y[i], 1e-5);
        snprintf(name, sizeof name, "loss of sample %d", i);
        expect(name, shape_loss(&m, &t[i], 1), want_loss[i], 1e-5);
    }
    shape_forward(&m, &x[0][0], NULL, 3);
    expect("batch loss", shape_loss(&m, t, 3), 1.0 / 6, 1e-5);
    if (trainable) {
        const double want_g[3] = { 0, -2000.0 / 3, -1000 };
        shape_backward(&m, t, 3);
        for (int j = 0; j < 3; j++) {
            snprintf(name, sizeof name, "gradient %d", j);
            expect(name, m.grads[j], want_g[j], 1e-5);
        }
    }
    return failures != 0;
}
