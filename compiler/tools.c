/* tools.c: `layerc graph` and `layerc summary` (see tools.h). */
#include "tools.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "arena.h"
#include "text.h"
#include "loss.h"
#include "op.h"
#include "plan.h"
#include "state.h"
#include "files.h"
#include "train.h"

/* ---- graph ---- */

char *graph_dot(const Model *m, const char *source_name)
{
    Text t = { NULL, 0, 0 };
    char s[64];
    text_addf(&t, "// layerc graph of %s\ndigraph \"%s\" {\n  rankdir=TB;\n"
             "  node [fontname=\"Helvetica\", fontsize=11];\n", source_name, m->name);
    for (int i = 0; i < m->nlayers; i++) {
        const Layer *l = &m->layers[i];
        const char *style = i == 0 ? "shape=box, style=\"rounded,filled\", fillcolor=\"#dbeafe\""
                          : i == m->output ? "shape=box, style=\"rounded,filled\", fillcolor=\"#dcfce7\""
                          : l->live ? "shape=box, style=rounded" : "shape=box, style=\"rounded,dashed\"";
        text_addf(&t, "  \"L_%s\" [%s, label=\"%s\\n%s %s\"];\n", l->name, style, l->name,
             l->op ? l->op->name : "input", shape_str(&l->shape, s, sizeof s));
        for (int k = 0; k < l->nin; k++)
            text_addf(&t, "  \"L_%s\" -> \"L_%s\";\n", m->layers[l->in[k]].name, l->name);
        for (int k = 0; l->op && k < l->op->nweights; k++)
            if (l->w[k] >= 0)
                text_addf(&t, "  \"W_%s\" -> \"L_%s\" [style=dashed, arrowhead=empty];\n",
                     m->weights[l->w[k]].name, l->name);
    }
    for (int i = 0; i < m->nweights; i++) {
        const Weight *w = &m->weights[i];
        text_addf(&t, "  \"W_%s\" [shape=ellipse, style=filled, fillcolor=\"%s\", label=\"%s\\n%s\\n%ld %s\"];\n",
             w->name, weight_trainable(w) ? "#fef3c7" : "#e5e7eb", w->name,
             shape_str(&w->shape, s, sizeof s), w->size,
             w->role == ROLE_TRAINABLE ? "weights" : w->role == ROLE_FROZEN ? "frozen" : "buffer");
    }
    text_addf(&t, "  loss [shape=octagon, style=filled, fillcolor=\"#fee2e2\", label=\"loss\\n%s\"];\n"
             "  \"L_%s\" -> loss;\n}\n", m->loss->name, m->layers[m->output].name);
    return t.buf;
}

/* Runs `dot -Tformat` on the DOT text; the picture in *out. */
static int render(const char *dot_text, const char *format, char **out, size_t *outlen)
{
    char in_path[] = "/tmp/layerc-graph-XXXXXX", out_path[] = "/tmp/layerc-graph-out-XXXXXX";
    int fin = mkstemp(in_path), fout = mkstemp(out_path);
    int ok = 0;
    if (fin < 0 || fout < 0) goto done;
    if (write(fin, dot_text, strlen(dot_text)) != (ssize_t)strlen(dot_text)) goto done;
    pid_t pid = fork();
    if (pid == 0) {
        char fmt[32];
        snprintf(fmt, sizeof fmt, "-T%s", format);
        dup2(fout, 1);
        execlp("dot", "dot", fmt, in_path, (char *)NULL);
        _exit(127);
    }
    int status;
    if (pid < 0 || waitpid(pid, &status, 0) < 0 || !WIFEXITED(status)) goto done;
    if (WEXITSTATUS(status) == 127) { ok = -1; goto done; }
    if (WEXITSTATUS(status) != 0) goto done;
    FILE *f = fopen(out_path, "rb");
    if (!f) goto done;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    *out = xmalloc((size_t)n + 1);
    *outlen = fread(*out, 1, (size_t)n, f);
    fclose(f);
    ok = *outlen == (size_t)n;
done:
    if (fin >= 0) close(fin), unlink(in_path);
    if (fout >= 0) close(fout), unlink(out_path);
    return ok;
}

int tool_graph(const Model *m, const char *source_name, const char *out_path)
{
    char *dot = graph_dot(m, source_name), err[1024];
    const char *ext = strrchr(out_path, '.');
    int status = 0;
    if (!strcmp(out_path, "-")) {
        fputs(dot, stdout);
    } else if (ext && (!strcmp(ext, ".svg") || !strcmp(ext, ".png"))) {
        char *pic = NULL;
        size_t len = 0;
        int r = render(dot, ext + 1, &pic, &len);
        if (r < 0) {
            fprintf(stderr, "layerc: error: drawing %s needs Graphviz's `dot`, which is not installed "
                    "(apt-get install graphviz), or write a .dot file\n", out_path);
            status = 1;
        } else if (!r) {
            fprintf(stderr, "layerc: error: Graphviz's dot failed to draw %s\n", out_path);
            status = 1;
        } else if (!lc_write_atomic(out_path, pic, len, err, sizeof err)) {
            fprintf(stderr, "%s\n", err);
            status = 1;
        }
        free(pic);
    } else if (!lc_write_atomic(out_path, dot, strlen(dot), err, sizeof err)) {
        fprintf(stderr, "%s\n", err);
        status = 1;
    }
    free(dot);
    return status;
}

/* ---- summary ---- */

static void human_bytes(double b, char *out, size_t n)
{
    const char *unit[] = { "B", "KiB", "MiB", "GiB" };
    int u = 0;
    while (b >= 1024 && u < 3) b /= 1024, u++;
    snprintf(out, n, u ? "%.1f %s" : "%.0f %s", b, unit[u]);
}

/* The bytes of a layer's own tensors (output, gradient, saved), shared or not. */
static double layer_bytes(const Plan *p, int batch, int layer)
{
    double total = 0;
    for (int t = 0; t < p->ntensors; t++)
        if (p->tensors[t].layer == layer)
            total += 4.0 * (double)p->tensors[t].size * (p->tensors[t].per_sample ? batch : 1);
    return total;
}

/* What the build b of m takes, exactly, in bytes: the state (RAM), the
 * baked weights (flash) and the scratch, as the generated C has them. */
static void build_summary(const Model *m, const Build *b, FILE *out)
{
    Plan p;
    StateLayout s;
    int batch = m->train.batch, arrays = 0;
    double flash = 0;
    plan_make(m, b, &p);
    state_layout(m, b, &p, &s);
    for (int i = 0; i < m->nweights; i++)
        if (plan_is_const(&p, i)) flash += (double)b->real_size * (double)m->weights[i].size, arrays++;
    double ram = state_bytes(&s, b, batch);
    double params = state_group_bytes(&s, b, batch, SG_PARAMS), grads = state_group_bytes(&s, b, batch, SG_GRADS);
    double optim = state_group_bytes(&s, b, batch, SG_OPTIMIZER), scratch = state_group_bytes(&s, b, batch, SG_SCRATCH);
    double tensors = state_group_bytes(&s, b, batch, SG_OUTPUTS) + state_group_bytes(&s, b, batch, SG_GRADIENTS) +
                     state_group_bytes(&s, b, batch, SG_SAVED) + state_group_bytes(&s, b, batch, SG_SHARED);
    fprintf(out, "\nthis build (%s, --target %s, batch %d%s%s):\n", b->trains ? "training" : "--inference",
            b->target == TARGET_MCU ? "mcu" : "host", batch, b->baked ? ", weights baked" : "",
            b->fused ? ", --fuse-update" : "");
    fprintf(out, "RAM %.0f B: sizeof(%s_t), %s_STATE_BYTES (weights %.0f, gradients %.0f, optimizer %.0f, "
            "layer tensors %.0f, scratch %.0f, the rest %.0f)\n", ram, m->name, m->name, params, grads, optim,
            tensors, scratch, ram - params - grads - optim - tensors - scratch);
    fprintf(out, "flash %.0f B: the baked weights, %d static const array%s (besides the code and the weight table)\n",
            flash, arrays, arrays == 1 ? "" : "s");
    fprintf(out, "scratch %.0f B: m->work and m->gwork (in the RAM above)\n", scratch);
    state_free(&s);
    plan_free(&p);
}

int tool_summary(const Model *m, const Build *b, FILE *out)
{
    char s[64], mem[32];
    int batch = m->train.batch;
    double fwd_total = 0, bwd_total = 0;
    Build train = { .trains = 1, .real_size = 4, .threads = 1 }, infer = { .real_size = 4, .threads = 1 };
    Plan tp, ip;
    StateLayout ts, is;
    plan_make(m, &train, &tp);
    state_layout(m, &train, &tp, &ts);
    plan_make(m, &infer, &ip);
    state_layout(m, &infer, &ip, &is);
    fprintf(out, "model %s (batch %d, loss %s)\n\n", m->name, batch, m->loss->name);
    fprintf(out, "%-18s %-11s %-16s %10s %12s %12s %10s\n", "layer", "op", "output", "weights",
            "fwd FLOPs", "bwd FLOPs", "memory");
    for (int i = 0; i < m->nlayers; i++) {
        const Layer *l = &m->layers[i];
        long nw = 0;
        int any_weight = 0;
        for (int k = 0; l->op && k < l->op->nweights; k++)
            if (l->w[k] >= 0) nw += m->weights[l->w[k]].size, any_weight = 1;
        /* FLOPs per sample: a multiply-add is 2; backward roughly twice the forward
           where it needs both the input and weight gradients */
        double fwd = l->op ? 2 * l->op->flops(m, l) : 0;
        double bwd = !l->needs_grad ? 0 : any_weight ? (m->layers[l->in[0]].needs_grad ? 2 : 1) * fwd : fwd;
        fwd_total += fwd, bwd_total += bwd;
        human_bytes(layer_bytes(&tp, batch, i), mem, sizeof mem);
        fprintf(out, "%-18s %-11s %-16s %10ld %12.0f %12.0f %10s\n", l->name,
                l->op ? l->op->name : "input", shape_str(&l->shape, s, sizeof s), nw, fwd, bwd, mem);
    }
    char pbytes[32], total[32], inf[32], one[32];
    human_bytes(4.0 * (double)m->nparams, pbytes, sizeof pbytes);
    human_bytes(state_bytes(&ts, &train, batch), total, sizeof total);
    fprintf(out, "\n%ld parameters (%ld trainable, %s)\n", m->nparams, m->ntrainable, pbytes);
    fprintf(out, "per sample: %.0f FLOPs forward, %.0f backward\n", fwd_total, bwd_total);
    fprintf(out, "training state: %s (parameters, gradients, optimizer, stored outputs at batch %d)\n",
            total, batch);
    human_bytes(state_bytes(&is, &infer, batch), inf, sizeof inf);
    human_bytes(state_bytes(&is, &infer, 1), one, sizeof one);
    fprintf(out, "inference state (--inference): %s at batch %d, %s at batch 1 (%d shared output buffers)\n",
            inf, batch, one, ip.nbuffers);
    build_summary(m, b, out);
    state_free(&ts);
    state_free(&is);
    plan_free(&tp);
    plan_free(&ip);
    return 0;
}
