/* Checker and IR: offsets, shapes, which layers need gradients, liveness
 * and the inference buffer plan, on small models given as text. */
#include <stdlib.h>

#include "check.h"
#include "emit.h"
#include "optim.h"
#include "plan.h"
#include "test.h"

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
    return c->m;
}

static void done(Checked *c)
{
    diags_free(&c->diags);
    arena_free(&c->arena);
    source_free(&c->src);
}

static int index_of(const Model *m, const char *name)
{
    for (int i = 0; i < m->nlayers; i++)
        if (!strcmp(m->layers[i].name, name)) return i;
    return -1;
}

static int buffer_of(const Plan *p, int layer)
{
    return p->tensors[p->out_tensor[p->root[layer]]].buffer;
}

static const char mlp[] =
    "model mlp;\n"
    "input x[1, 4, 4];\n"
    "frozen weight w[3, 16];\n"
    "layer a = linear(x, w);\n"
    "layer h = dense(a, 5);\n"
    "layer r = relu(h);\n"
    "output p = softmax(r);\n"
    "loss cross_entropy(p);\n";

TEST(offsets_follow_declaration_order)
{
    Checked c;
    Model *m = check_text(&c, mlp);
    CHECK(m != NULL);
    if (!m) return;
    CHECK(m->nweights == 3);
    CHECK_STR(m->weights[0].name, "w");
    CHECK_STR(m->weights[1].name, "h.W");
    CHECK_STR(m->weights[1].cname, "h_W");
    CHECK_STR(m->weights[2].name, "h.b");
    CHECK(m->weights[0].offset == 0 && m->weights[0].size == 48);
    CHECK(m->weights[1].offset == 48 && m->weights[1].size == 15);
    CHECK(m->weights[2].offset == 63 && m->weights[2].size == 5);
    CHECK(m->nparams == 68 && m->ntrainable == 20);
    CHECK(m->weights[0].role == ROLE_FROZEN && m->weights[1].role == ROLE_TRAINABLE);
    done(&c);
}

TEST(gradients_only_where_a_trainable_weight_lies_upstream)
{
    Checked c;
    Model *m = check_text(&c, mlp);
    if (!m) { CHECK(0); return; }
    CHECK(!m->layers[index_of(m, "x")].needs_grad);
    CHECK(!m->layers[index_of(m, "a")].needs_grad);   /* frozen w: nothing below needs one */
    CHECK(m->layers[index_of(m, "h")].needs_grad);
    CHECK(m->layers[index_of(m, "r")].needs_grad);
    CHECK(!m->layers[index_of(m, "p")].needs_grad);   /* fused softmax + cross_entropy */
    CHECK(model_loss_start(m) == index_of(m, "r"));
    CHECK(model_classes(m) == 5);
    done(&c);
}

TEST(frozen_layer_freezes_the_weights_it_creates)
{
    Checked c;
    Model *m = check_text(&c,
        "model f;\ninput x[1, 6, 6];\nfrozen layer k = conv2d(x, 2, kernel=3);\n"
        "layer g = flatten(k);\nlayer h = dense(g, 3);\noutput p = softmax(h);\n"
        "loss cross_entropy(p);\n");
    if (!m) { CHECK(0); return; }
    CHECK(m->nweights == 4);
    CHECK(m->weights[0].role == ROLE_FROZEN && m->weights[1].role == ROLE_FROZEN);   /* k.W, k.b */
    CHECK(weight_trainable(&m->weights[2]) && weight_trainable(&m->weights[3]));    /* h.W, h.b */
    CHECK(m->ntrainable == 3 * 32 + 3);
    CHECK(!m->layers[index_of(m, "k")].needs_grad);             /* nothing below trains */
    CHECK(m->layers[index_of(m, "h")].needs_grad);
    done(&c);
}

TEST(frozen_layer_without_weights_of_its_own_is_an_error)
{
    static const char *const models[] = {
        "model f;\ninput x[4];\nfrozen layer r = relu(x);\noutput y = dense(r, 1);\nloss mse(y);\n",
        "model f;\ninput x[4];\nweight w[2, 4];\nfrozen layer a = linear(x, w);\n"
        "output y = dense(a, 1);\nloss mse(y);\n",
    };
    for (int i = 0; i < 2; i++) {
        Checked c;
        CHECK(check_text(&c, models[i]) == NULL);
        CHECK(c.diags.nerrors == 1);
        done(&c);
    }
}

TEST(shapes_are_inferred)
{
    Checked c;
    Model *m = check_text(&c,
        "model c;\ninput x[2, 9, 7];\nlayer k = conv2d(x, 4, kernel=3, stride=2, pad=1);\n"
        "layer p = maxpool(k, 2);\nlayer f = flatten(p);\nlayer q = concat(f, f);\n"
        "layer s = reshape(q, [2, 16]);\noutput y = dense(s, 1);\nloss mse(y);\n");
    if (!m) { CHECK(0); return; }
    const Layer *k = &m->layers[index_of(m, "k")], *p = &m->layers[index_of(m, "p")];
    CHECK(k->shape.rank == 3 && k->shape.dims[0] == 4 && k->shape.dims[1] == 5 && k->shape.dims[2] == 4);
    CHECK(p->shape.dims[1] == 2 && p->shape.dims[2] == 2);
    CHECK(m->layers[index_of(m, "q")].size == 32);
    CHECK(m->weights[0].shape.rank == 4 && m->weights[0].shape.dims[1] == 2);
    CHECK(m->weights[0].fan_in == 18);
    done(&c);
}

TEST(dead_layers_are_not_live_and_warned)
{
    Checked c;
    Model *m = check_text(&c,
        "model d;\ninput x[3];\nlayer unused = relu(x);\nweight w[2, 3];\n"
        "output y = dense(x, 1);\nloss mse(y);\n");
    if (!m) { CHECK(0); return; }
    CHECK(!m->layers[index_of(m, "unused")].live);
    CHECK(m->layers[index_of(m, "y")].live);
    CHECK(c.diags.nwarnings == 2);   /* the layer, and the weight never used */
    done(&c);
}

TEST(constant_expressions_in_train_block)
{
    Checked c;
    Model *m = check_text(&c,
        "model t;\ninput x[3];\noutput y = dense(x, 1);\nloss mse(y);\n"
        "train { optimizer = adam(lr=1/1000, beta2=1-1/1000); batch = 2*8; epochs = 3; seed = 42; shuffle = 0; }\n");
    if (!m) { CHECK(0); return; }
    CHECK_STR(m->train.opt.def->name, "adam");
    CHECK_NEAR(m->train.opt.hp[optim_param(m->train.opt.def, "lr")], 0.001, 1e-15);
    CHECK_NEAR(m->train.opt.hp[optim_param(m->train.opt.def, "beta2")], 0.999, 1e-15);
    CHECK(m->train.batch == 16 && m->train.epochs == 3 && m->train.seed == 42 && !m->train.shuffle);
    TrainOverrides o = { .lr = 0.5, .batch = 4, .epochs = 7, .seed = 9 };
    char err[128];
    CHECK(apply_overrides(m, &o, err, sizeof err));
    CHECK(m->train.batch == 4 && m->train.epochs == 7 && m->train.seed == 9);
    CHECK_NEAR(optim_lr(&m->train.opt), 0.5, 0);
    done(&c);
}

TEST(inference_buffers_are_shared_but_never_with_a_live_input)
{
    Checked c;
    Model *m = check_text(&c,
        "model b;\ninput x[8];\nlayer a = relu(x);\nlayer b = tanh(a);\nlayer s = add(a, b);\n"
        "layer c = sigmoid(s);\nlayer d = relu(c);\noutput y = dense(d, 2);\nloss mse(y);\n");
    if (!m) { CHECK(0); return; }
    Build inference = { .real_size = 4, .threads = 1 };
    Plan p;
    plan_make(m, &inference, &p);
    CHECK(p.nbuffers < m->nlayers);
    /* a layer's buffer differs from its inputs', but for an elementwise op
     * writing over an input nothing reads after it (sigmoid over s, relu over c) */
    for (int i = 1; i < m->nlayers; i++)
        for (int k = 0; k < m->layers[i].nin; k++)
            if (!m->layers[i].op->inplace)
                CHECK(buffer_of(&p, i) != buffer_of(&p, m->layers[i].in[k]));
    CHECK(buffer_of(&p, index_of(m, "c")) == buffer_of(&p, index_of(m, "s")));
    /* a is read by s, so b (computed between them) may not take a's buffer */
    CHECK(buffer_of(&p, index_of(m, "b")) != buffer_of(&p, index_of(m, "a")));
    plan_free(&p);
    done(&c);
}

/* layerc trace reads every layer's output after the forward pass: a
 * keep_all build shares no buffer, and the JIT accessor gives no layer
 * whose buffer a later layer reused. */
TEST(keep_all_keeps_every_output)
{
    static const char chain[] =
        "model k;\ninput x[8];\nlayer a = relu(x);\nlayer b = tanh(a);\nlayer c = sigmoid(b);\n"
        "layer f = flatten(c);\noutput y = dense(f, 2);\nloss mse(y);\n";
    Checked c;
    Model *m = check_text(&c, chain);
    if (!m) { CHECK(0); return; }
    Build shared = { .trains = 0, .real_size = 4, .threads = 1 }, kept = shared;
    kept.keep_all = 1;
    Plan p, q;
    plan_make(m, &shared, &p);
    plan_make(m, &kept, &q);
    int stored = 0;
    for (int i = 0; i < m->nlayers; i++) stored += plan_stores(&q, m, i);
    CHECK(p.nbuffers < stored);
    CHECK(q.nbuffers == stored);
    for (int i = 0; i < m->nlayers; i++)
        for (int j = 0; j < i; j++)
            if (plan_stores(&q, m, i) && plan_stores(&q, m, j)) CHECK(buffer_of(&q, i) != buffer_of(&q, j));
    /* the alias f is c's storage in both */
    CHECK(buffer_of(&q, index_of(m, "f")) == buffer_of(&q, index_of(m, "c")));
    plan_free(&p);
    plan_free(&q);

    EmitOptions o = { .jit = 1, .inference = 1, .source_name = "t.lyr" };
    char *src = emit_source(m, &o);
    const char *acc = strstr(src, "lc_jit_layer_out");
    CHECK(acc != NULL);
    /* a's buffer is taken by a later layer: no case for it; y (the last) has one */
    CHECK(acc && !strstr(acc, "case 1:") && strstr(acc, "case 5:"));
    free(src);
    o.keep_all = 1;
    src = emit_source(m, &o);
    acc = strstr(src, "lc_jit_layer_out");
    CHECK(acc != NULL);
    for (int i = 0; acc && i < m->nlayers; i++) {
        char want[32];
        snprintf(want, sizeof want, "case %d:", i);
        CHECK(strstr(acc, want) != NULL);
    }
    free(src);
    done(&c);
}

TEST(errors_leave_no_model)
{
    Checked c;
    CHECK(check_text(&c, "model e;\ninput x[3];\noutput y = dense(q, 1);\nloss mse(y);\n") == NULL);
    CHECK(c.diags.nerrors == 1);
    done(&c);
}

int main(void)
{
    RUN(offsets_follow_declaration_order);
    RUN(gradients_only_where_a_trainable_weight_lies_upstream);
    RUN(frozen_layer_freezes_the_weights_it_creates);
    RUN(frozen_layer_without_weights_of_its_own_is_an_error);
    RUN(shapes_are_inferred);
    RUN(dead_layers_are_not_live_and_warned);
    RUN(constant_expressions_in_train_block);
    RUN(inference_buffers_are_shared_but_never_with_a_live_input);
    RUN(keep_all_keeps_every_output);
    RUN(errors_leave_no_model);
    return test_report("checker");
}
