/* test_train.c: the training loop (runtime/train.c) driving a stand-in
 * model: the order of the samples is a uniform permutation every epoch
 * (chi-square), divergence stops training with the epoch, step and layer
 * or weight, and keeps the last finite checkpoint; a failed write is an
 * error. */
#define _XOPEN_SOURCE 700

#include "test.h"
#include "train.h"

#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

static char err[1024];

/* ---- a stand-in model: records which samples each step saw ---- */

typedef struct {
    int *seen;          /* the first input value of every sample trained on */
    long nseen, cap;
    long step;
    long nan_at;        /* the step whose loss is NaN (from 1), 0 = none */
    long inf_weight_at; /* the step after which params[1] is infinite */
    float params[2];
} Fake;

/* The training loop calls a step's parts: forward, loss, backward, update. */
static void fake_forward(void *m, const float *x, int n)
{
    Fake *f = m;
    f->step++;
    for (int b = 0; b < n; b++) {
        if (f->nseen == f->cap) f->seen = realloc(f->seen, sizeof *f->seen * (size_t)(f->cap = 2 * f->cap + 64));
        f->seen[f->nseen++] = (int)x[b];
    }
}

static float fake_loss(const void *m, const float *truth, int n)
{
    const Fake *f = m;
    (void)truth, (void)n;
    return f->step == f->nan_at ? NAN : 0.5f;
}

static void fake_backward(void *m, const float *truth, int n)
{
    (void)m, (void)truth, (void)n;
}

static void fake_update(void *m)
{
    Fake *f = m;
    f->params[0] += 0.25f;
    if (f->step == f->inf_weight_at) f->params[1] = INFINITY;
}

static const char *fake_layer(void *m, const float *x, int n)
{
    (void)m;
    return n > 0 && x ? "h2" : NULL;
}

static LcNet fake_net(Fake *f, int batch)
{
    LcNet net;
    memset(&net, 0, sizeof net);
    net.state = f;
    net.in = 1, net.out = 1, net.batch = batch;
    net.metric = LC_METRIC_NONE;
    net.nparams = 2;
    net.params = f->params;
    net.forward_train = fake_forward;
    net.loss = fake_loss;
    net.backward = fake_backward;
    net.update = fake_update;
    return net;
}

/* n samples whose input is their index. */
static LcData indexed(int n)
{
    LcData d = { n, 1, 1, malloc(sizeof(float) * (size_t)n), calloc((size_t)n, sizeof(float)), NULL };
    for (int i = 0; i < n; i++) d.x[i] = (float)i;
    return d;
}

static const LcTensorInfo tensors[2] = { { "a", 1, { 1 }, 0, 1 }, { "b", 1, { 1 }, 1, 1 } };

static LcTrainOptions options(int epochs, FILE *out)
{
    LcTrainOptions o;
    memset(&o, 0, sizeof o);
    o.epochs = epochs;
    o.seed = 42;
    o.shuffle = 1;
    o.tensors = tensors;
    o.ntensors = 2;
    o.out = out;
    o.out_name = "the log";
    return o;
}

/* ---- the shuffle ---- */

/* The shuffle of epoch e as a permutation of places: sample at place i in
 * epoch e was at place shuffled[i] in epoch e - 1 (identity before epoch 1).
 * Each epoch shuffles the previous order, and orders compose toward
 * uniform even when each shuffle is biased: the shuffle itself is tested. */
static void shuffle_of(const int *seen, long e, int n, int *shuffled)
{
    int before[64];
    for (int i = 0; i < n; i++) before[e ? seen[(e - 1) * n + i] : i] = i;
    for (int i = 0; i < n; i++) shuffled[i] = before[seen[e * n + i]];
}

/* The index of a permutation of 0..n-1 (Lehmer code). */
static int perm_index(const int *p, int n)
{
    int idx = 0;
    for (int i = 0; i < n; i++) {
        int smaller = 0;
        for (int j = i + 1; j < n; j++) smaller += p[j] < p[i];
        idx = idx * (n - i) + smaller;
    }
    return idx;
}

/* 4 samples, 24,000 epochs: each of the 24 shuffles comes about 1,000 times.
 * Chi-square with 23 degrees of freedom: 49.7 is its 0.999 quantile.  A
 * biased shuffle (the textbook one that draws j from all n, Sattolo's that
 * never leaves an element in place, a loop that stops one short) is far
 * beyond: thousands. */
TEST(every_order_equally_likely)
{
    enum { N = 4, PERMS = 24, EPOCHS = 24000 };
    Fake f;
    memset(&f, 0, sizeof f);
    LcNet net = fake_net(&f, N);
    LcData d = indexed(N);
    FILE *out = fopen("/dev/null", "w");
    LcTrainOptions o = options(EPOCHS, out);
    CHECK(lc_train(&net, &d, &o, err, sizeof err));
    CHECK(f.nseen == (long)N * EPOCHS);
    long count[PERMS] = { 0 };
    for (long e = 0; e < EPOCHS && f.nseen == (long)N * EPOCHS; e++) {
        int s[N];
        shuffle_of(f.seen, e, N, s);
        count[perm_index(s, N)]++;
    }
    double chi2 = 0, expect = (double)EPOCHS / PERMS;
    for (int k = 0; k < PERMS; k++) chi2 += (count[k] - expect) * (count[k] - expect) / expect;
    if (!(chi2 < 49.7)) fprintf(stderr, "chi-square over the 24 orders: %.1f\n", chi2);
    CHECK(chi2 < 49.7);
    fclose(out);
    free(f.seen), free(d.x), free(d.y);
}

/* 10 samples, 20,000 epochs: each place goes to each place 2,000 times;
 * 81 degrees of freedom (a 10 x 10 table of fixed margins), 0.999 quantile 124.8. */
TEST(every_place_equally_likely)
{
    enum { N = 10, EPOCHS = 20000 };
    Fake f;
    memset(&f, 0, sizeof f);
    LcNet net = fake_net(&f, 3);   /* batches of 3, 3, 3, 1 */
    LcData d = indexed(N);
    FILE *out = fopen("/dev/null", "w");
    LcTrainOptions o = options(EPOCHS, out);
    CHECK(lc_train(&net, &d, &o, err, sizeof err));
    CHECK(f.nseen == (long)N * EPOCHS);
    long count[N][N] = { { 0 } };
    for (long e = 0; e < EPOCHS && f.nseen == (long)N * EPOCHS; e++) {
        int s[N];
        shuffle_of(f.seen, e, N, s);
        for (int pos = 0; pos < N; pos++) count[s[pos]][pos]++;
    }
    double chi2 = 0, expect = (double)EPOCHS / N;
    for (int i = 0; i < N; i++)
        for (int p = 0; p < N; p++) chi2 += (count[i][p] - expect) * (count[i][p] - expect) / expect;
    if (!(chi2 < 124.8)) fprintf(stderr, "chi-square over samples and places: %.1f\n", chi2);
    CHECK(chi2 < 124.8);
    /* and every epoch is a permutation: each sample once */
    int all = 1;
    for (long e = 0; e < EPOCHS && f.nseen == (long)N * EPOCHS; e++) {
        int once[N] = { 0 };
        for (int pos = 0; pos < N; pos++) once[f.seen[e * N + pos]]++;
        for (int i = 0; i < N; i++) all &= once[i] == 1;
    }
    CHECK(all);
    fclose(out);
    free(f.seen), free(d.x), free(d.y);
}

/* ---- divergence ---- */

TEST(nan_loss_stops_training_naming_epoch_step_layer)
{
    Fake f;
    memset(&f, 0, sizeof f);
    f.nan_at = 7;   /* 4 steps an epoch: epoch 2, step 3 */
    LcNet net = fake_net(&f, 3);
    net.nonfinite_layer = fake_layer;
    LcData d = indexed(10);
    FILE *out = tmpfile();
    LcTrainOptions o = options(5, out);
    CHECK(!lc_train(&net, &d, &o, err, sizeof err));
    CHECK_CONTAINS(err, "training diverged at epoch 2, step 3 of 4: the loss is nan");
    CHECK_CONTAINS(err, "the output of layer 'h2' is the first that is not finite");
    CHECK(f.step == 7);   /* stopped at once */
    fclose(out);
    free(f.seen), free(d.x), free(d.y);
}

TEST(non_finite_weight_stops_training_naming_it)
{
    Fake f;
    memset(&f, 0, sizeof f);
    f.inf_weight_at = 5;
    LcNet net = fake_net(&f, 3);
    LcData d = indexed(10);
    FILE *out = tmpfile();
    LcTrainOptions o = options(5, out);
    CHECK(!lc_train(&net, &d, &o, err, sizeof err));
    CHECK_CONTAINS(err, "training diverged at epoch 2: weight 'b' is inf at the end of the epoch, though every loss was finite");
    CHECK(f.step == 8);   /* at the end of the epoch */
    fclose(out);
    free(f.seen), free(d.x), free(d.y);
}

/* --save-every 1: the checkpoint of epoch 2 stays, the diverged epoch 3 is
 * never saved. */
TEST(divergence_keeps_the_last_finite_checkpoint)
{
    char dir[] = "/tmp/lc_test_train.XXXXXX", path[64];
    CHECK(mkdtemp(dir) != NULL);
    snprintf(path, sizeof path, "%s/w.lyw", dir);
    Fake f;
    memset(&f, 0, sizeof f);
    f.nan_at = 10;   /* epoch 3, step 2 */
    LcNet net = fake_net(&f, 3);
    LcData d = indexed(10);
    FILE *out = tmpfile();
    LcTrainOptions o = options(5, out);
    o.save_path = path;
    o.save_every = 1;
    CHECK(!lc_train(&net, &d, &o, err, sizeof err));
    CHECK_CONTAINS(err, "epoch 3, step 2 of 4: the loss is nan");
    CHECK_CONTAINS(err, "w.lyw keeps the weights saved after epoch 2");
    float p[2] = { 0, 0 };
    CHECK(lc_weights_load(path, tensors, 2, p, 2, err, sizeof err));
    CHECK(p[0] == 0.25f * 8);   /* after the 8 steps of epochs 1 and 2 */
    unlink(path);
    rmdir(dir);
    fclose(out);
    free(f.seen), free(d.x), free(d.y);
}

/* ---- writes ---- */

TEST(a_failed_write_is_an_error)
{
    Fake f;
    memset(&f, 0, sizeof f);
    LcNet net = fake_net(&f, 4);
    LcData d = indexed(10);
    FILE *full = fopen("/dev/full", "w");
    CHECK(full != NULL);
    if (!full) return;
    LcTrainOptions o = options(3, full);
    CHECK(!lc_train(&net, &d, &o, err, sizeof err));
    CHECK_CONTAINS(err, "the log: cannot write the output: No space left on device");
    fclose(full);
    free(f.seen), free(d.x), free(d.y);
}

int main(void)
{
    RUN(every_order_equally_likely);
    RUN(every_place_equally_likely);
    RUN(nan_loss_stops_training_naming_epoch_step_layer);
    RUN(non_finite_weight_stops_training_naming_it);
    RUN(divergence_keeps_the_last_finite_checkpoint);
    RUN(a_failed_write_is_an_error);
    return test_report("training loop");
}
