/* loss.c: mse, cross_entropy, bce (loss.h).  A batch's loss is the mean of
 * its samples' losses.  For cross_entropy and bce the
 * backward pass starts from the fused, stable form: (p - t) / n on the
 * softmax's or sigmoid's input, never a division by the output. */
#include "loss.h"

#include <string.h>

#include "emit.h"

/* The loss is accumulated in the real type (float): no double arithmetic,
 * which a single-precision FPU would do in software.  A batch's sum of a
 * few thousand terms keeps about 1e-6 relative error. */
static const char *fn(const Emit *e, const char *name)
{
    return e->o->real_double ? name : !strcmp(name, "exp") ? "expf" : "logf";
}

/* mse: 1/2 sum (y - t)^2 per sample */
static void mse_loss(Emit *e)
{
    const Model *m = e->m;
    emitf(e, "    /* mse: 1/2 sum (y - t)^2 per sample */\n"
             "    for (int i = 0; i < n * %ld; i++) {\n"
             "        %s d = %s[i] - truth[i];\n"
             "        total += %s * d * d;\n    }\n",
          m->layers[m->output].size, e_real(e), e_out(e, m->output), e_num(e, 0.5));
}

/* -sum t log softmax(z), from the softmax's input z */
static void cross_entropy_loss(Emit *e)
{
    const Model *m = e->m;
    const Layer *out = &m->layers[m->output];
    const char *R = e_real(e);
    long k = out->size;
    emitf(e, "    /* cross_entropy: -sum t log softmax(z), from the softmax's input z:\n"
             "     * log softmax(z) = z - max - log sum exp(z - max) never takes log(0) */\n"
             "    for (int b = 0; b < n; b++) {\n"
             "        const %s *z = %s + b * %ld, *t = truth + b * %ld;\n"
             "        %s max = z[0], sum = 0;\n"
             "        for (int j = 1; j < %ld; j++) if (z[j] > max) max = z[j];\n"
             "        for (int j = 0; j < %ld; j++) sum += %s(z[j] - max);\n"
             "        for (int j = 0; j < %ld; j++) total -= t[j] * (z[j] - max - %s(sum));\n"
             "    }\n", R, e_in(e, out, 0), k, k, R, k, k, fn(e, "exp"), k, fn(e, "log"));
}

/* -(t log y + (1 - t) log(1 - y)), logs clamped at -100 as in PyTorch */
static void bce_loss(Emit *e)
{
    const Model *m = e->m;
    const char *R = e_real(e), *h = e_num(e, -100);
    emitf(e, "    /* bce: -(t log y + (1 - t) log(1 - y)), logs clamped at -100 as in PyTorch */\n"
             "    for (int i = 0; i < n * %ld; i++) {\n"
             "        %s y = %s[i], t = truth[i];\n"
             "        %s log_y = y > 0 ? %s(y) : %s, log_1y = y < 1 ? %s(1 - y) : %s;\n"
             "        total -= t * (log_y < %s ? %s : log_y) + (1 - t) * (log_1y < %s ? %s : log_1y);\n"
             "    }\n", m->layers[m->output].size, R, e_out(e, m->output), R, fn(e, "log"), h,
          fn(e, "log"), h, h, h, h, h);
}

static const LossDef losses[] = {
    { "mse", "1/2 sum (y - t)^2", 0, TRUTH_REAL, METRIC_NONE, mse_loss, "mse: d/dy = (y - t) / n",
      { { 0, 0 } }, "" },
    { "cross_entropy", "-sum t log y, y a softmax", 1, TRUTH_ONE_HOT, METRIC_ARGMAX, cross_entropy_loss,
      "cross_entropy through the softmax: d/dz = (softmax(z) - t) / n", { { 0, 0 } }, "" },
    { "bce", "-sum t log y + (1 - t) log(1 - y), y a sigmoid", 1, TRUTH_PROBABILITY, METRIC_THRESHOLD, bce_loss,
      "bce through the sigmoid: d/dz = (sigmoid(z) - t) / n", { { 0, 0 } }, "" },
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
