/* emit_ops.c: one forward and one backward emitter per op.
 *
 * A forward emitter writes the block that computes layer l's output for n
 * samples from its inputs' stored outputs.  A backward emitter writes the
 * block that, given d_l (the gradient of the loss with respect to l's
 * output), gives l's share to the gradients of its inputs (e_acc: "=" from
 * the first block that reaches an input, "+=" after) and weights.  It
 * leaves out what nothing needs: e_grad() is "NULL" for an input that needs
 * no gradient and e_wgrad() for a frozen weight.  The heavy ops call the
 * kernels of runtime/kernels.c; elementwise ops are loops with constant bounds.
 */
#include "emit_ops.h"

#include <string.h>

#include "ops.h"

static const Layer *in_layer(const Model *m, const Layer *l, int k) { return &m->layers[l->in[k]]; }
static int self(const Model *m, const Layer *l) { return (int)(l - m->layers); }
static int wants_grad(const Model *m, const Layer *l, int k) { return in_layer(m, l, k)->needs_grad; }

/* out[i] = EXPR(x[i]) for an elementwise op; `x` and `y` name the input and output element. */
static void elementwise_forward(Emit *e, const Model *m, const Layer *l, const char *expr)
{
    emitf(e, "    for (int i = 0; i < n * %ld; i++) {\n", l->size);
    emitf(e, "        const %s x = %s[i];\n", e_real(e), e_out(e, l->in[0]));
    emitf(e, "        %s[i] = %s;\n    }\n", e_out(e, self(m, l)), expr);
}

/* dx[i] (+)= EXPR of dy and, as the op needs them, x (input) and y (output). */
static void elementwise_backward(Emit *e, const Model *m, const Layer *l, int uses_x, int uses_y,
                                 const char *expr)
{
    if (!wants_grad(m, l, 0)) return;
    emitf(e, "    for (int i = 0; i < n * %ld; i++) {\n", l->size);
    emitf(e, "        const %s dy = %s[i]", e_real(e), e_grad(e, self(m, l)));
    if (uses_x) emitf(e, ", x = %s[i]", e_out(e, l->in[0]));
    if (uses_y) emitf(e, ", y = %s[i]", e_out(e, self(m, l)));
    emitf(e, ";\n        %s[i] %s %s;\n    }\n", e_grad(e, l->in[0]), e_acc(e, l->in[0]), expr);
}

/* ---- identity, flatten, reshape: the values move unchanged ---- */

void emit_identity_forward(Emit *e, const Model *m, const Layer *l)
{
    emitf(e, "    memcpy(%s, %s, sizeof(%s) * n * %ld);\n", e_out(e, self(m, l)), e_out(e, l->in[0]),
          e_real(e), l->size);
}

void emit_identity_backward(Emit *e, const Model *m, const Layer *l)
{
    if (!wants_grad(m, l, 0)) return;
    const char *acc = e_acc(e, l->in[0]);
    if (!strcmp(acc, "="))   /* [threads] a copy: memcpy (tcc's loop is slow) */
        emitf(e, "    memcpy(%s, %s, sizeof(%s) * n * %ld);\n", e_grad(e, l->in[0]),
              e_grad(e, self(m, l)), e_real(e), l->size);
    else
        emitf(e, "    for (int i = 0; i < n * %ld; i++) %s[i] += %s[i];\n", l->size,
              e_grad(e, l->in[0]), e_grad(e, self(m, l)));
}

/* [threads] 1 when the kernel of this block adds to its input's gradient,
 * 0 when it is the first block to reach it and assigns it (the *_into
 * kernels: no memset of the gradient before, which cost more than the
 * kernels' own work on the Fashion CNN, and ran on one thread). */
static int grad_add(Emit *e, const Model *m, const Layer *l)
{
    return wants_grad(m, l, 0) ? e_adds(e, l->in[0]) : 1;
}

/* ---- linear, dense: y[n, M] = x[n, N] . W[M, N]^T + b[M] ---- */

void emit_linear_forward(Emit *e, const Model *m, const Layer *l)
{
    const Weight *W = &m->weights[l->w[0]];
    emitf(e, "    lc_matmul_forward(%s, %s, %s, %s, n, %ld, %ld);\n", e_out(e, self(m, l)),
          e_out(e, l->in[0]), e_weight(e, l->w[0]), l->nw > 1 ? e_weight(e, l->w[1]) : "NULL",
          W->shape.dims[1], W->shape.dims[0]);
}

void emit_linear_backward(Emit *e, const Model *m, const Layer *l)
{
    const Weight *W = &m->weights[l->w[0]];
    int add = grad_add(e, m, l);
    emitf(e, "    lc_matmul_backward_into(%s, %s, %s,\n                            %s, %s, %s, n, %ld, %ld, %d);\n",
          e_grad(e, l->in[0]), e_wgrad(e, l->w[0]), l->nw > 1 ? e_wgrad(e, l->w[1]) : "NULL",
          e_grad(e, self(m, l)), e_out(e, l->in[0]), e_weight(e, l->w[0]), W->shape.dims[1],
          W->shape.dims[0], add);
}

/* ---- activations ---- */

/* [threads] relu is a kernel: the loop vectorised (tcc does not) and split
 * over the threads; lc_relu_backward assigns (0) or adds (1) as e_acc says */
void emit_relu_forward(Emit *e, const Model *m, const Layer *l)
{
    emitf(e, "    lc_relu_forward(%s, %s, n * %ld);\n", e_out(e, self(m, l)), e_out(e, l->in[0]),
          l->size);
}

void emit_relu_backward(Emit *e, const Model *m, const Layer *l)
{
    if (!wants_grad(m, l, 0)) return;
    int add = e_adds(e, l->in[0]);
    emitf(e, "    lc_relu_backward(%s, %s, %s, n * %ld, %d);\n", e_grad(e, l->in[0]),
          e_grad(e, self(m, l)), e_out(e, self(m, l)), l->size, add);
}

void emit_leaky_relu_forward(Emit *e, const Model *m, const Layer *l)
{
    char expr[128];
    snprintf(expr, sizeof expr, "x > 0 ? x : (%s)%.17g * x", e_real(e), LP(l, "alpha"));
    elementwise_forward(e, m, l, expr);
}

void emit_leaky_relu_backward(Emit *e, const Model *m, const Layer *l)
{
    char expr[128];
    snprintf(expr, sizeof expr, "x > 0 ? dy : (%s)%.17g * dy", e_real(e), LP(l, "alpha"));
    elementwise_backward(e, m, l, 1, 0, expr);
}

void emit_sigmoid_forward(Emit *e, const Model *m, const Layer *l)
{
    elementwise_forward(e, m, l, e->o->real_double ? "1 / (1 + exp(-x))" : "1 / (1 + expf(-x))");
}

void emit_sigmoid_backward(Emit *e, const Model *m, const Layer *l)
{
    elementwise_backward(e, m, l, 0, 1, "dy * y * (1 - y)");
}

void emit_tanh_forward(Emit *e, const Model *m, const Layer *l)
{
    elementwise_forward(e, m, l, e->o->real_double ? "tanh(x)" : "tanhf(x)");
}

void emit_tanh_backward(Emit *e, const Model *m, const Layer *l)
{
    elementwise_backward(e, m, l, 0, 1, "dy * (1 - y * y)");
}

/* softmax over each sample's vector, shifted by its max so exp never overflows */
void emit_softmax_forward(Emit *e, const Model *m, const Layer *l)
{
    const char *R = e_real(e);
    long k = l->size;
    emitf(e, "    for (int b = 0; b < n; b++) {\n"
             "        const %s *x = %s + b * %ld;\n        %s *y = %s + b * %ld;\n"
             "        %s max = x[0], sum = 0;\n"
             "        for (int j = 1; j < %ld; j++) if (x[j] > max) max = x[j];\n"
             "        for (int j = 0; j < %ld; j++) sum += y[j] = %s(x[j] - max);\n"
             "        for (int j = 0; j < %ld; j++) y[j] /= sum;\n    }\n",
          R, e_out(e, l->in[0]), k, R, e_out(e, self(m, l)), k, R, k, k,
          e->o->real_double ? "exp" : "expf", k);
}

/* dx_j (+)= y_j (dy_j - sum_k dy_k y_k); used when the loss is not fused with it */
void emit_softmax_backward(Emit *e, const Model *m, const Layer *l)
{
    const char *R = e_real(e);
    long k = l->size;
    if (!wants_grad(m, l, 0)) return;
    emitf(e, "    for (int b = 0; b < n; b++) {\n"
             "        const %s *y = %s + b * %ld, *dy = %s + b * %ld;\n"
             "        %s *dx = %s + b * %ld;\n        %s dot = 0;\n"
             "        for (int j = 0; j < %ld; j++) dot += dy[j] * y[j];\n"
             "        for (int j = 0; j < %ld; j++) dx[j] %s y[j] * (dy[j] - dot);\n    }\n",
          R, e_out(e, self(m, l)), k, e_grad(e, self(m, l)), k, R, e_grad(e, l->in[0]), k, R, k, k,
          e_acc(e, l->in[0]));
}

/* ---- add, mul ---- */

void emit_add_forward(Emit *e, const Model *m, const Layer *l)
{
    emitf(e, "    for (int i = 0; i < n * %ld; i++) %s[i] = %s[i] + %s[i];\n", l->size,
          e_out(e, self(m, l)), e_out(e, l->in[0]), e_out(e, l->in[1]));
}

void emit_add_backward(Emit *e, const Model *m, const Layer *l)
{
    for (int k = 0; k < 2; k++)
        if (wants_grad(m, l, k))
            emitf(e, "    for (int i = 0; i < n * %ld; i++) %s[i] %s %s[i];\n", l->size,
                  e_grad(e, l->in[k]), e_acc(e, l->in[k]), e_grad(e, self(m, l)));
}

void emit_mul_forward(Emit *e, const Model *m, const Layer *l)
{
    emitf(e, "    for (int i = 0; i < n * %ld; i++) %s[i] = %s[i] * %s[i];\n", l->size,
          e_out(e, self(m, l)), e_out(e, l->in[0]), e_out(e, l->in[1]));
}

void emit_mul_backward(Emit *e, const Model *m, const Layer *l)
{
    for (int k = 0; k < 2; k++)
        if (wants_grad(m, l, k))
            emitf(e, "    for (int i = 0; i < n * %ld; i++) %s[i] %s %s[i] * %s[i];\n", l->size,
                  e_grad(e, l->in[k]), e_acc(e, l->in[k]), e_grad(e, self(m, l)), e_out(e, l->in[1 - k]));
}

/* ---- concat: each sample's inputs, flattened, one after the other ---- */

void emit_concat_forward(Emit *e, const Model *m, const Layer *l)
{
    long at = 0;
    emitf(e, "    for (int b = 0; b < n; b++) {\n");
    for (int k = 0; k < l->nin; k++) {
        long size = in_layer(m, l, k)->size;
        emitf(e, "        memcpy(%s + b * %ld + %ld, %s + b * %ld, sizeof(%s) * %ld);\n",
              e_out(e, self(m, l)), l->size, at, e_out(e, l->in[k]), size, e_real(e), size);
        at += size;
    }
    emitf(e, "    }\n");
}

void emit_concat_backward(Emit *e, const Model *m, const Layer *l)
{
    long at = 0;
    emitf(e, "    for (int b = 0; b < n; b++) {\n");
    for (int k = 0; k < l->nin; k++) {
        long size = in_layer(m, l, k)->size;
        if (wants_grad(m, l, k))
            emitf(e, "        for (int j = 0; j < %ld; j++) %s[b * %ld + j] %s %s[b * %ld + %ld + j];\n",
                  size, e_grad(e, l->in[k]), size, e_acc(e, l->in[k]), e_grad(e, self(m, l)), l->size, at);
        at += size;
    }
    emitf(e, "    }\n");
}

/* ---- conv2d, maxpool, avgpool: [c, h, w] images, kernels do the work ---- */

static void image_dims(const Layer *x, long *c, long *h, long *w)
{
    *c = x->shape.dims[0];
    *h = x->shape.dims[1];
    *w = x->shape.dims[2];
}

void emit_conv2d_forward(Emit *e, const Model *m, const Layer *l)
{
    long c, h, w;
    image_dims(in_layer(m, l, 0), &c, &h, &w);
    emitf(e, "    lc_conv2d_forward(%s, %s, %s, %s, m->work,\n"
             "                      n, %ld, %ld, %ld, %ld, %d, %d, %d);\n",
          e_out(e, self(m, l)), e_out(e, l->in[0]), e_weight(e, l->w[0]),
          l->nw > 1 ? e_weight(e, l->w[1]) : "NULL", c, h, w, l->shape.dims[0],
          (int)LP(l, "kernel"), (int)LP(l, "stride"), (int)LP(l, "pad"));
}

void emit_conv2d_backward(Emit *e, const Model *m, const Layer *l)
{
    long c, h, w;
    int add = grad_add(e, m, l);
    image_dims(in_layer(m, l, 0), &c, &h, &w);
    emitf(e, "    lc_conv2d_backward_into(%s, %s, %s,\n"
             "                            %s, %s, %s, m->work,\n"
             "                            n, %ld, %ld, %ld, %ld, %d, %d, %d, %d);\n",
          e_grad(e, l->in[0]), e_wgrad(e, l->w[0]), l->nw > 1 ? e_wgrad(e, l->w[1]) : "NULL",
          e_grad(e, self(m, l)), e_out(e, l->in[0]), e_weight(e, l->w[0]), c, h, w,
          l->shape.dims[0], (int)LP(l, "kernel"), (int)LP(l, "stride"), (int)LP(l, "pad"), add);
}

static void pool_forward(Emit *e, const Model *m, const Layer *l, const char *kind)
{
    long c, h, w;
    image_dims(in_layer(m, l, 0), &c, &h, &w);
    emitf(e, "    lc_%s_forward(%s, %s, n, %ld, %ld, %ld, %d, %d);\n", kind, e_out(e, self(m, l)),
          e_out(e, l->in[0]), c, h, w, (int)LP(l, "size"), (int)LP(l, "stride"));
}

static void pool_backward(Emit *e, const Model *m, const Layer *l, const char *kind)
{
    long c, h, w;
    if (!wants_grad(m, l, 0)) return;
    int add = grad_add(e, m, l);
    image_dims(in_layer(m, l, 0), &c, &h, &w);
    emitf(e, "    lc_%s_backward_into(%s, %s, %s, n, %ld, %ld, %ld, %d, %d, %d);\n", kind,
          e_grad(e, l->in[0]), e_grad(e, self(m, l)), e_out(e, l->in[0]), c, h, w,
          (int)LP(l, "size"), (int)LP(l, "stride"), add);
}

void emit_maxpool_forward(Emit *e, const Model *m, const Layer *l) { pool_forward(e, m, l, "maxpool"); }
void emit_maxpool_backward(Emit *e, const Model *m, const Layer *l) { pool_backward(e, m, l, "maxpool"); }
void emit_avgpool_forward(Emit *e, const Model *m, const Layer *l) { pool_forward(e, m, l, "avgpool"); }
void emit_avgpool_backward(Emit *e, const Model *m, const Layer *l) { pool_backward(e, m, l, "avgpool"); }

/* ---- dropout: inverted, so evaluation is the identity ---- */

void emit_dropout_forward(Emit *e, const Model *m, const Layer *l)
{
    double rate = LP(l, "rate");
    if (e->o->inference) {
        emit_identity_forward(e, m, l);
        return;
    }
    emitf(e, "    if (training) {\n"
             "        for (int i = 0; i < n * %ld; i++) {\n"
             "            m->mask_%s[i] = lc_uniform(&m->rng) < %.17g ? 0 : (%s)%.17g;\n"
             "            %s[i] = %s[i] * m->mask_%s[i];\n"
             "        }\n"
             "    } else {\n"
             "        memcpy(%s, %s, sizeof(%s) * n * %ld);\n    }\n",
          l->size, l->name, rate, e_real(e), 1.0 / (1.0 - rate), e_out(e, self(m, l)),
          e_out(e, l->in[0]), l->name, e_out(e, self(m, l)), e_out(e, l->in[0]), e_real(e), l->size);
}

void emit_dropout_backward(Emit *e, const Model *m, const Layer *l)
{
    if (!wants_grad(m, l, 0)) return;
    emitf(e, "    for (int i = 0; i < n * %ld; i++)\n"
             "        %s[i] %s m->training ? %s[i] * m->mask_%s[i] : %s[i];\n",
          l->size, e_grad(e, l->in[0]), e_acc(e, l->in[0]), e_grad(e, self(m, l)), l->name,
          e_grad(e, self(m, l)));
}
