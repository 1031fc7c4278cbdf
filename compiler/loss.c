/* loss.c: mse, cross_entropy, bce (loss.h).  A batch's loss is the mean of
 * its samples' losses, accumulated in double.  For cross_entropy and bce the
 * backward pass starts from the fused, stable form: (p - t) / n on the
 * softmax's or sigmoid's input, never a division by the output. */
#include "loss.h"

#include <string.h>

#include "emit.h"

/* mse: 1/2 sum (y - t)^2 per sample */
static void mse_loss(Emit *e)
{
    const Model *m = e->m;
    emitf(e, "    /* mse: 1/2 sum (y - t)^2 per sample */\n"
             "    for (int i = 0; i < n * %ld; i++) {\n"
             "        double d = (double)%s[i] - truth[i];\n"
             "        total += 0.5 * d * d;\n    }\n",
          m->layers[m->output].size, e_out(e, m->output));
}

/* -sum t log softmax(z), from the softmax's input z */
static void cross_entropy_loss(Emit *e)
{
    const Model *m = e->m;
    const Layer *out = &m->layers[m->output];
    long k = out->size;
    emitf(e, "    /* cross_entropy: -sum t log softmax(z), from the softmax's input z:\n"
             "     * log softmax(z) = z - max - log sum exp(z - max) never takes log(0) */\n"
             "    for (int b = 0; b < n; b++) {\n"
             "        const %s *z = %s + b * %ld, *t = truth + b * %ld;\n"
             "        double max = z[0], sum = 0;\n"
             "        for (int j = 1; j < %ld; j++) if (z[j] > max) max = z[j];\n"
             "        for (int j = 0; j < %ld; j++) sum += exp(z[j] - max);\n"
             "        for (int j = 0; j < %ld; j++) total -= t[j] * (z[j] - max - log(sum));\n"
             "    }\n", e_real(e), e_in(e, out, 0), k, k, k, k, k);
}

/* -(t log y + (1 - t) log(1 - y)), logs clamped at -100 as in PyTorch */
static void bce_loss(Emit *e)
{
    const Model *m = e->m;
    emitf(e, "    /* bce: -(t log y + (1 - t) log(1 - y)), logs clamped at -100 as in PyTorch */\n"
             "    for (int i = 0; i < n * %ld; i++) {\n"
             "        double y = %s[i], t = truth[i];\n"
             "        double log_y = y > 0 ? log(y) : -100, log_1y = y < 1 ? log(1 - y) : -100;\n"
             "        total -= t * (log_y < -100 ? -100 : log_y) + (1 - t) * (log_1y < -100 ? -100 : log_1y);\n"
             "    }\n", m->layers[m->output].size, e_out(e, m->output));
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
