/* tests/int8/driver.c: runs an int8 model's generated C on quantised inputs.
 * Build with -DMODEL=NAME -DMODEL_H='"NAME.h"'; reads rows of NAME_IN
 * comma-separated int8 values on stdin, writes each row's NAME_OUT int8
 * outputs, comma-separated, one sample a NAME_forward call. */
#include <stdio.h>

#include MODEL_H

#define CAT(a, b) a##b
#define XCAT(a, b) CAT(a, b)
#define M(s) XCAT(MODEL, s)

static M(_t) net;

int main(void)
{
    static int8_t x[M(_IN)], y[M(_OUT)];
    M(_init)(&net);
    for (;;) {
        for (int i = 0; i < M(_IN); i++) {
            int v;
            if (scanf(" %d ,", &v) != 1) return i == 0 ? 0 : 1;
            x[i] = (int8_t)v;
        }
        M(_forward)(&net, x, y, 1);
        for (int j = 0; j < M(_OUT); j++) printf("%s%d", j ? "," : "", y[j]);
        printf("\n");
    }
}
