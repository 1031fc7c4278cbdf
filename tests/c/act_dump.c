/* act_dump.c: the elementwise kernels of liblayerc on fixed inputs, for
 * tests/torch/activations.py to compare with PyTorch (tests/t_act_torch.sh).
 * Prints one line a value: "op x dout out dinp" (%.9g: floats round-trip),
 * softmax as rows of 10, then the three losses with their inputs. */
#include <stdio.h>
#include <stdlib.h>

#include "kernels.h"

#define N 400

static unsigned long long rng = 5;
static float urand(void) /* uniform in [-1, 1) */
{
    rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
    return (float)((double)(rng >> 11) / 4503599627370496.0 - 1.0);
}

int main(void)
{
    static const char *const ops[] = { "sigmoid", "tanh", "relu6", "hardswish", "silu", "gelu", "elu",
                                       "clip", "leaky_relu", "softmax" };
    static const float kinks[] = { 0, -3, 3, 6, -1.5f, 2, 1e-6f, -1e-6f, 20, -20, 90, -90 };
    float x[N], dy[N], y[N], dx[N], t[N];
    size_t op;
    int i;
    for (op = 0; op < sizeof ops / sizeof ops[0]; op++) {
        for (i = 0; i < N; i++) {
            x[i] = i < (int)(sizeof kinks / sizeof kinks[0]) ? kinks[i] : 9 * urand();
            dy[i] = urand();
        }
        switch (op) {
        case 0: lc_sigmoid_forward(y, x, N); lc_sigmoid_backward(dx, dy, y, N, 0); break;
        case 1: lc_tanh_forward(y, x, N); lc_tanh_backward(dx, dy, y, N, 0); break;
        case 2: lc_relu6_forward(y, x, N); lc_relu6_backward(dx, dy, x, N, 0); break;
        case 3: lc_hardswish_forward(y, x, N); lc_hardswish_backward(dx, dy, x, N, 0); break;
        case 4: lc_silu_forward(y, x, N); lc_silu_backward(dx, dy, x, N, 0); break;
        case 5: lc_gelu_forward(y, x, N); lc_gelu_backward(dx, dy, x, N, 0); break;
        case 6: lc_elu_forward(y, x, N, 0.7f); lc_elu_backward(dx, dy, x, N, 0.7f, 0); break;
        case 7: lc_clip_forward(y, x, N, -1.5f, 2.0f); lc_clip_backward(dx, dy, x, N, -1.5f, 2.0f, 0); break;
        case 8: lc_leaky_relu_forward(y, x, N, 0.1f); lc_leaky_relu_backward(dx, dy, x, N, 0.1f, 0); break;
        default: lc_softmax_forward(y, x, N / 10, 10); lc_softmax_backward(dx, dy, y, N / 10, 10, 0); break;
        }
        for (i = 0; i < N; i++)
            printf("%s %.9g %.9g %.9g %.9g\n", ops[op], x[i], dy[i], y[i], dx[i]);
    }
    /* losses over 40 samples of 10 ("loss x t" lines, then the values):
     * mse(x, t), bce(sigmoid(x), t), cross_entropy(logits x, one-hot of
     * class b % 10 for sample b) */
    for (i = 0; i < N; i++) {
        x[i] = 5 * urand();
        t[i] = (float)(0.5 + 0.5 * urand());
        printf("loss %.9g %.9g\n", x[i], t[i]);
    }
    lc_sigmoid_forward(y, x, N);
    printf("mse %.17g\nbce %.17g\n", lc_mse_forward(x, t, N / 10, 10), lc_bce_forward(y, t, N / 10, 10));
    for (i = 0; i < N; i++) t[i] = i % 10 == (i / 10) % 10;
    printf("cross_entropy %.17g\n", lc_cross_entropy_forward(x, t, N / 10, 10));
    return 0;
}
