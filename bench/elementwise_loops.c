/* bench/elementwise_loops.c: the scalar loops of the elementwise ops as
 * layerc's emitter writes them into the model's C (compiler/emit_ops.c,
 * emit_loss), and as it would write the activations it has no loop for
 * yet, with libm's functions: what bench/elementwise.c times against the
 * kernels of runtime/kernels/.  Compiled twice: by tcc at run time (as the
 * JIT compiles the model's code) and by gcc -O2 (as an AOT build would). */
#include <math.h>

void loop_sigmoid_fwd(float *out, const float *inp, int n)
{
    for (int i = 0; i < n; i++) {
        const float x = inp[i];
        out[i] = 1 / (1 + expf(-x));
    }
}

void loop_sigmoid_bwd(float *dinp, const float *dout, const float *out, int n)
{
    for (int i = 0; i < n; i++) {
        const float dy = dout[i], y = out[i];
        dinp[i] = dy * y * (1 - y);
    }
}

void loop_tanh_fwd(float *out, const float *inp, int n)
{
    for (int i = 0; i < n; i++) {
        const float x = inp[i];
        out[i] = tanhf(x);
    }
}

void loop_tanh_bwd(float *dinp, const float *dout, const float *out, int n)
{
    for (int i = 0; i < n; i++) {
        const float dy = dout[i], y = out[i];
        dinp[i] = dy * (1 - y * y);
    }
}

void loop_gelu_fwd(float *out, const float *inp, int n)
{
    for (int i = 0; i < n; i++) {
        const float x = inp[i];
        out[i] = x * 0.5f * (1 + erff(x * 0.70710678f));
    }
}

void loop_gelu_bwd(float *dinp, const float *dout, const float *inp, int n)
{
    for (int i = 0; i < n; i++) {
        const float dy = dout[i], x = inp[i];
        dinp[i] = dy * (0.5f * (1 + erff(x * 0.70710678f)) + x * 0.39894228f * expf(-0.5f * x * x));
    }
}

void loop_silu_fwd(float *out, const float *inp, int n)
{
    for (int i = 0; i < n; i++) {
        const float x = inp[i];
        out[i] = x / (1 + expf(-x));
    }
}

void loop_elu_fwd(float *out, const float *inp, int n)
{
    for (int i = 0; i < n; i++) {
        const float x = inp[i];
        out[i] = x <= 0 ? expm1f(x) : x;
    }
}

void loop_hardswish_fwd(float *out, const float *inp, int n)
{
    for (int i = 0; i < n; i++) {
        const float x = inp[i];
        out[i] = x * (x + 3 < 0 ? 0 : x + 3 > 6 ? 6 : x + 3) / 6;
    }
}

void loop_leaky_relu_fwd(float *out, const float *inp, int n)
{
    for (int i = 0; i < n; i++) {
        const float x = inp[i];
        out[i] = x > 0 ? x : (float)0.01 * x;
    }
}

/* rows of k values */
void loop_softmax_fwd(float *out, const float *inp, int rows, int k)
{
    for (int b = 0; b < rows; b++) {
        const float *x = inp + b * k;
        float *y = out + b * k;
        float max = x[0], sum = 0;
        for (int j = 1; j < k; j++) if (x[j] > max) max = x[j];
        for (int j = 0; j < k; j++) sum += y[j] = expf(x[j] - max);
        for (int j = 0; j < k; j++) y[j] /= sum;
    }
}

void loop_add_fwd(float *out, const float *a, const float *b, int n)
{
    for (int i = 0; i < n; i++) out[i] = a[i] + b[i];
}

void loop_mul_bwd(float *dinp, const float *dout, const float *other, int n)
{
    for (int i = 0; i < n; i++) dinp[i] += dout[i] * other[i];
}

double loop_mse(const float *y, const float *t, int rows, int k)
{
    double total = 0;
    for (int i = 0; i < rows * k; i++) {
        double d = (double)y[i] - t[i];
        total += 0.5 * d * d;
    }
    return total / rows;
}

double loop_bce(const float *y_, const float *t_, int rows, int k)
{
    double total = 0;
    for (int i = 0; i < rows * k; i++) {
        double y = y_[i], t = t_[i];
        double log_y = y > 0 ? log(y) : -100, log_1y = y < 1 ? log(1 - y) : -100;
        total -= t * (log_y < -100 ? -100 : log_y) + (1 - t) * (log_1y < -100 ? -100 : log_1y);
    }
    return total / rows;
}

double loop_cross_entropy(const float *z_, const float *t_, int rows, int k)
{
    double total = 0;
    for (int b = 0; b < rows; b++) {
        const float *z = z_ + b * k, *t = t_ + b * k;
        double max = z[0], sum = 0;
        for (int j = 1; j < k; j++) if (z[j] > max) max = z[j];
        for (int j = 0; j < k; j++) sum += exp(z[j] - max);
        for (int j = 0; j < k; j++) total -= t[j] * (z[j] - max - log(sum));
    }
    return total / rows;
}

void loop_loss_bwd(float *dinp, const float *y, const float *t, int rows, int k)
{
    for (int i = 0; i < rows * k; i++) dinp[i] = (y[i] - t[i]) / rows;
}
