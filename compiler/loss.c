/* loss.c: mse, cross_entropy, bce (loss.h).  A batch's loss is the mean of
 * its samples' losses.  For cross_entropy and bce the
 * backward pass starts from the fused, stable form: (p - t) / n on the
 * softmax's or sigmoid's input, never a division by the output. */
#include "loss.h"

#include <string.h>

#include "emit.h"
#include "kernels.h"

/* On desktop CPUs (and in the JIT) the loss is a kernel
 * (runtime/kernels/loss.c: vectorised, summed in double); for small cores
 * it is a loop in the real type (float), with no double arithmetic, which a
 * single-precision FPU would do in software: a batch's sum of a few
 * thousand terms keeps about 1e-6 relative error. */
static int in_loops(const Emit *e) { return e->build.target == TARGET_MCU; }

static const char *fn(const Emit *e, const char *name)
{
    return e->o->real_double ? name : !strcmp(name, "exp") ? "expf" : "logf";
}

/* "return (float)lc_mse_forward(m->y_out, truth, n, 10);" */
static void kernel_loss(Emit *e, const char *kernel, const char *from)
{
    emitf(e, "    return (%s)lc_%s_forward(%s, truth, n, %ld);\n", e_real(e), kernel, from,
          e->m->layers[e->m->output].size);
}

/* mse: 1/2 sum (y - t)^2 per sample */
static void mse_loss(Emit *e)
{
    const Model *m = e->m;
    emitf(e, "    /* mse: 1/2 sum (y - t)^2 per sample */\n");
    if (!in_loops(e)) {
        kernel_loss(e, "mse", e_out(e, m->output));
        return;
    }
    emitf(e, "    %s total = 0;\n"
             "    for (int i = 0; i < n * %ld; i++) {\n"
             "        %s d = %s[i] - truth[i];\n"
             "        total += %s * d * d;\n    }\n"
             "    return total / (%s)n;\n",
          e_real(e), m->layers[m->output].size, e_real(e), e_out(e, m->output), e_num(e, 0.5), e_real(e));
}

/* -sum t log softmax(z), from the softmax's input z */
static void cross_entropy_loss(Emit *e)
{
    const Model *m = e->m;
    const Layer *out = &m->layers[m->output];
    const char *R = e_real(e);
    long k = out->size;
    emitf(e, "    /* cross_entropy: -sum t log softmax(z), from the softmax's input z:\n"
             "     * log softmax(z) = z - max - log sum exp(z - max) never takes log(0) */\n");
    if (!in_loops(e)) {
        kernel_loss(e, "cross_entropy", e_in(e, out, 0));
        return;
    }
    emitf(e, "    %s total = 0;\n"
             "    for (int b = 0; b < n; b++) {\n"
             "        const %s *z = %s + b * %ld, *t = truth + b * %ld;\n"
             "        %s max = z[0], sum = 0;\n"
             "        for (int j = 1; j < %ld; j++) if (z[j] > max) max = z[j];\n"
             "        for (int j = 0; j < %ld; j++) sum += %s(z[j] - max);\n"
             "        for (int j = 0; j < %ld; j++) total -= t[j] * (z[j] - max - %s(sum));\n"
             "    }\n"
             "    return total / (%s)n;\n", R, R, e_in(e, out, 0), k, k, R, k, k, fn(e, "exp"), k,
          fn(e, "log"), R);
}

/* -(t log y + (1 - t) log(1 - y)), logs clamped at -100 as in PyTorch */
static void bce_loss(Emit *e)
{
    const Model *m = e->m;
    const char *R = e_real(e), *h = e_num(e, -100);
    emitf(e, "    /* bce: -(t log y + (1 - t) log(1 - y)), logs clamped at -100 as in PyTorch */\n");
    if (!in_loops(e)) {
        kernel_loss(e, "bce", e_out(e, m->output));
        return;
    }
    emitf(e, "    %s total = 0;\n"
             "    for (int i = 0; i < n * %ld; i++) {\n"
             "        %s y = %s[i], t = truth[i];\n"
             "        %s log_y = y > 0 ? %s(y) : %s, log_1y = y < 1 ? %s(1 - y) : %s;\n"
             "        total -= t * (log_y < %s ? %s : log_y) + (1 - t) * (log_1y < %s ? %s : log_1y);\n"
             "    }\n"
             "    return total / (%s)n;\n", R, m->layers[m->output].size, R, e_out(e, m->output), R,
          fn(e, "log"), h, fn(e, "log"), h, h, h, h, h, R);
}

void loss_emit_backward_start(Emit *e, const char *d_start)
{
    const Model *m = e->m;
    if (!in_loops(e))
        emitf(e, "    lc_loss_backward(%s, %s, truth, n, %ld, 0);\n", d_start, e_out(e, m->output),
              m->layers[m->output].size);
    else
        emitf(e, "    for (int i = 0; i < n * %ld; i++)\n        %s[i] = (%s[i] - truth[i]) / (%s)n;\n",
              m->layers[m->output].size, d_start, e_out(e, m->output), e_real(e));
}

static const LossDef losses[] = {
    { "mse", "1/2 sum (y - t)^2", 0, TRUTH_REAL, METRIC_NONE, mse_loss, "mse: d/dy = (y - t) / n",
      { LC_KERNEL_REF(lc_mse_forward), LC_KERNEL_REF(lc_loss_backward) }, "vmath loss" },
    { "cross_entropy", "-sum t log y, y a softmax", 1, TRUTH_ONE_HOT, METRIC_ARGMAX, cross_entropy_loss,
      "cross_entropy through the softmax: d/dz = (softmax(z) - t) / n",
      { LC_KERNEL_REF(lc_cross_entropy_forward), LC_KERNEL_REF(lc_loss_backward) }, "vmath loss" },
    { "bce", "-sum t log y + (1 - t) log(1 - y), y a sigmoid", 1, TRUTH_PROBABILITY, METRIC_THRESHOLD, bce_loss,
      "bce through the sigmoid: d/dz = (sigmoid(z) - t) / n",
      { LC_KERNEL_REF(lc_bce_forward), LC_KERNEL_REF(lc_loss_backward) }, "vmath loss" },
};

int loss_count(void) { return (int)(sizeof losses / sizeof losses[0]); }
const LossDef *loss_at(int i) { return &losses[i]; }

const LossDef *loss_find(const char *name)
{
    for (int i = 0; i < loss_count(); i++)
        if (!strcmp(losses[i].name, name)) return &losses[i];
    return NULL;
}

const char *loss_names(void) { return "mse, cross_entropy, bce"; }

int loss_fuses_with(const LossDef *loss, const Layer *out)
{
    return loss->fused && out->op && out->op->fused_loss && !strcmp(out->op->fused_loss, loss->name);
}

const OpDef *loss_output_op(const LossDef *loss)
{
    for (int i = 0; i < op_count(); i++)
        if (op_at(i)->fused_loss && !strcmp(op_at(i)->fused_loss, loss->name)) return op_at(i);
    return NULL;
}
