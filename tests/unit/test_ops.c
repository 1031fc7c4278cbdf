/* The op descriptor holds ops the first design could not: a test-only op
 * with three weights (one of each role) and a saved tensor, registered at
 * run time, goes through the checker, the plan, the state layout, summary,
 * the emitter and the JIT; its gradient passes `layerc check`, and the same
 * op with a deliberately wrong backward pass fails it. */
#include <stdlib.h>

#include "check.h"
#include "emit.h"
#include "gradcheck.h"
#include "test.h"
#include "tools.h"

/* scale(x) = x * a + b + c per feature, with a trainable, b frozen and c a
 * buffer; the training forward keeps a copy of x, which the backward
 * pass reads to show that saved tensors reach it. */
enum { A, B, C };
enum { KEEP };

static long keep_size(const Model *m, const Layer *l)
{
    (void)m;
    return l->size;
}

static int scale_shape(OpCtx *c, Layer *l)
{
    const Layer *x = op_input(c, l, 0);
    Shape s = { 1, { x->size } };
    Init half = { INIT_CONSTANT, 0.5, 0, NULL };
    if (x->shape.rank != 1) {
        op_error(c, "scale needs a vector");
        return 0;
    }
    for (int k = A; k <= C; k++)
        if (!op_weight(c, l, k, s, x->size, x->size, k == A ? NULL : &half)) return 0;
    l->shape = x->shape;
    return 1;
}

static void scale_forward(Emit *e, const Layer *l, Mode mode)
{
    long n = l->size;
    emitf(e, "    for (int b = 0; b < n; b++)\n        for (int j = 0; j < %ld; j++) {\n"
             "            %s p = %s[b * %ld + j] * (%s)[j];\n", n, e_real(e), e_in(e, l, 0), n,
          e_weight(e, l, A));
    if (mode == MODE_TRAIN)
        emitf(e, "            %s[b * %ld + j] = %s[b * %ld + j];\n", e_saved(e, l, KEEP), n, e_in(e, l, 0), n);
    emitf(e, "            %s[b * %ld + j] = p + (%s)[j] + (%s)[j];\n        }\n",
          e_out(e, layer_index(e->m, l)), n, e_weight(e, l, B), e_weight(e, l, C));
}

/* dx = dy a; da = sum over the batch of dy x, x from the saved copy */
static void backward_with(Emit *e, const Layer *l, const char *factor)
{
    long n = l->size;
    const char *dy = e_grad(e, layer_index(e->m, l));
    emitf(e, "    for (int b = 0; b < n; b++)\n        for (int j = 0; j < %ld; j++) {\n", n);
    if (e_wants_grad(e, l, 0))
        emitf(e, "            %s[b * %ld + j] %s %s[b * %ld + j] * (%s)[j];\n", e_in_grad(e, l, 0), n,
              e_acc(e, l, 0), dy, n, e_weight(e, l, A));
    emitf(e, "            (%s)[j] += %s%s[b * %ld + j] * %s[b * %ld + j];\n        }\n",
          e_wgrad(e, l, A), factor, dy, n, e_saved(e, l, KEEP), n);
}

static void scale_backward(Emit *e, const Layer *l, Mode mode)
{
    (void)mode;
    backward_with(e, l, "");
}

static void wrong_backward(Emit *e, const Layer *l, Mode mode)
{
    (void)mode;
    backward_with(e, l, "1.01 * ");
}

static double scale_flops(const Model *m, const Layer *l)
{
    (void)m;
    return 3.0 * (double)l->size;
}

#define SCALE_FIELDS(nm, back)                                                          \
    .name = nm, .doc = "x a + b + c", .params = { { "x", P_LAYER, 1, 0, 0, 0, 0, NULL } },  \
    .nparams = 1,                                                                       \
    .weights = { [A] = { "a", ROLE_TRAINABLE, { INIT_DEFAULT, 0, 0, NULL } },           \
                 [B] = { "b", ROLE_FROZEN, { INIT_ZEROS, 0, 0, NULL } },                \
                 [C] = { "c", ROLE_BUFFER, { INIT_ZEROS, 0, 0, NULL } } },              \
    .nweights = 3, .saved = { [KEEP] = { "keep", keep_size, 1, 1 } }, .nsaved = 1,      \
    .modal = 1, .shape = scale_shape, .forward = scale_forward, .backward = back,       \
    .flops = scale_flops

static const OpDef scale_op = { SCALE_FIELDS("scale", scale_backward) };
static const OpDef wrong_op = { SCALE_FIELDS("scale_wrong", wrong_backward) };

typedef struct {
    Source src;
    Arena arena;
    Diags diags;
    Model *m;
} Checked;

static Model *check_text(Checked *c, const char *text)
{
    memset(c, 0, sizeof *c);
    source_from_string(&c->src, "t.lyr", text);
    diags_init(&c->diags, &c->src);
    Program *p = parse_program(&c->src, &c->diags, &c->arena);
    c->m = c->diags.nerrors ? NULL : check_program(p, &c->src, &c->diags, &c->arena);
    if (!c->m) diags_print(&c->diags, stderr);
    return c->m;
}

static void done(Checked *c)
{
    diags_free(&c->diags);
    arena_free(&c->arena);
    source_free(&c->src);
}

static const char model_text[] =
    "model t;\ninput x[4];\nlayer h = scale(x);\nlayer r = tanh(h);\noutput y = dense(r, 2);\n"
    "loss mse(y);\ntrain { batch = 3; }\n";

static char *summary_of(const Model *m)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    Build b = { .trains = 1, .real_size = 4, .threads = 1 };
    tool_summary(m, &b, f);
    fclose(f);
    return text;
}

TEST(three_weights_of_three_roles)
{
    Checked c;
    Model *m = check_text(&c, model_text);
    CHECK(m != NULL);
    if (!m) return;
    CHECK(m->nweights == 5);
    CHECK_STR(m->weights[0].name, "h.a");
    CHECK(m->weights[0].role == ROLE_TRAINABLE && m->weights[1].role == ROLE_FROZEN &&
          m->weights[2].role == ROLE_BUFFER);
    CHECK(m->weights[1].init.kind == INIT_CONSTANT && m->weights[0].init.kind == INIT_DEFAULT);
    CHECK(m->nparams == 12 + 10 && m->ntrainable == 4 + 10);
    CHECK(m->weights[0].updated && !m->weights[1].updated && !m->weights[2].updated);
    CHECK(model_is_modal(m));
    done(&c);
}

TEST(summary_counts_every_weight_and_the_saved_tensor)
{
    Checked c;
    Model *m = check_text(&c, model_text);
    if (!m) { CHECK(0); return; }
    char *s = summary_of(m);
    /* the row of h: 12 weights; memory = output + gradient + kept product,
     * 3 samples x 4 floats each: 144 B */
    CHECK_CONTAINS(s, "h                  scale       [4]                      12");
    CHECK_CONTAINS(s, "144 B");
    CHECK_CONTAINS(s, "22 parameters (14 trainable");
    free(s);
    done(&c);
}

TEST(the_state_holds_the_saved_tensor_only_when_training)
{
    Checked c;
    Model *m = check_text(&c, model_text);
    if (!m) { CHECK(0); return; }
    EmitOptions train = { .header = "t.h", .source_name = "t.lyr" };
    EmitOptions infer = { .inference = 1, .header = "t.h", .source_name = "t.lyr" };
    char *h = emit_header(m, &train), *hi = emit_header(m, &infer);
    CHECK_CONTAINS(h, "float h_keep[t_BATCH * 4];");
    CHECK_CONTAINS(h, "int training;");
    CHECK(!strstr(hi, "h_keep"));
    /* lr, momentum, weight_decay, rng: 32 bytes; floats: params 22, grads 14 (the
     * trainable h.a, y.W, y.b), activations 3 samples x 20 (x and r share a buffer,
     * h and y another, d_h and d_y a third; h_keep and d_r have their own);
     * training: 4 bytes; 32 + 4 x 96 + 4 = 420, rounded up to 8 */
    CHECK_CONTAINS(h, "#define t_STATE_BYTES 424");
    CHECK_CONTAINS(h, "float h_keep[t_BATCH * 4];");
    char *src = emit_source(m, &train);
    CHECK_CONTAINS(src, "static void t_run_train(t_t *m, const float *input, int n)");
    CHECK_CONTAINS(src, "m->h_keep[b * 4 + j] = m->");
    free(h), free(hi), free(src);
    done(&c);
}

TEST(the_gradient_check_passes_the_right_backward_and_fails_the_wrong_one)
{
    Checked c;
    char err[4096];
    Model *m = check_text(&c, model_text);
    if (!m) { CHECK(0); return; }
    FILE *out = fopen(getenv("TEST_OPS_VERBOSE") ? "/dev/stderr" : "/dev/null", "w");
    GradCheckOptions go = { 1, 1 };
    int r = gradcheck_run(m, "t.lyr", &go, out, err, sizeof err);
    if (r < 0) fprintf(stderr, "%s\n", err);
    CHECK(r == 1);
    done(&c);

    static char wrong_text[sizeof model_text + 8];
    snprintf(wrong_text, sizeof wrong_text, "%s", model_text);
    char *at = strstr(wrong_text, "scale(x)");
    memmove(at + 11, at + 5, strlen(at + 5) + 1);
    memcpy(at, "scale_wrong", 11);
    m = check_text(&c, wrong_text);
    if (!m) { CHECK(0); fclose(out); return; }
    r = gradcheck_run(m, "t.lyr", &go, out, err, sizeof err);
    CHECK(r == 0);
    fclose(out);
    done(&c);
}

int main(void)
{
    op_register(&scale_op);
    op_register(&wrong_op);
    RUN(three_weights_of_three_roles);
    RUN(summary_counts_every_weight_and_the_saved_tensor);
    RUN(the_state_holds_the_saved_tensor_only_when_training);
    RUN(the_gradient_check_passes_the_right_backward_and_fails_the_wrong_one);
    return test_report("ops");
}
