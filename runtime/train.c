/* train.c: the training loop, evaluation and prediction (see train.h). */
#include "train.h"

#include "files.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "dist.h"

static double now_seconds(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static uint64_t splitmix64(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

/* Fisher-Yates with an unbiased bounded draw, seeded: the same order on every machine. */
static void shuffle(int *order, int n, uint64_t *rng)
{
    for (int i = n - 1; i > 0; i--) {
        uint64_t bound = (uint64_t)i + 1, limit = UINT64_MAX - UINT64_MAX % bound, r;
        do r = splitmix64(rng); while (r >= limit);
        int j = (int)(r % bound), t = order[i];
        order[i] = order[j];
        order[j] = t;
    }
}

static int argmax(const float *v, int n)
{
    int best = 0;
    for (int j = 1; j < n; j++)
        if (v[j] > v[best]) best = j;
    return best;
}

/* Correct predictions among n samples whose outputs are y[n][out]. */
static long count_correct(const LcNet *net, const float *y, const LcData *d, const int *rows, int n,
                          long *confusion)
{
    long correct = 0;
    for (int b = 0; b < n; b++) {
        const float *yb = y + (size_t)b * (size_t)net->out;
        int row = rows[b];
        if (net->metric == LC_METRIC_ARGMAX) {
            int p = argmax(yb, net->out), t = d->label ? d->label[row] : argmax(d->y + (size_t)row * (size_t)d->out, d->out);
            correct += p == t;
            if (confusion) confusion[(size_t)t * (size_t)net->out + (size_t)p]++;
        } else if (net->metric == LC_METRIC_THRESHOLD) {
            int all = 1;
            for (int j = 0; j < net->out; j++)
                all &= (yb[j] > 0.5f) == (d->y[(size_t)row * (size_t)d->out + (size_t)j] > 0.5f);
            correct += all;
        }
    }
    return correct;
}

/* Copies rows[0..n) of d into contiguous x and y batches. */
static void gather(const LcData *d, const int *rows, int n, float *x, float *y)
{
    for (int b = 0; b < n; b++) {
        memcpy(x + (size_t)b * (size_t)d->in, d->x + (size_t)rows[b] * (size_t)d->in, sizeof(float) * (size_t)d->in);
        if (y && d->y)
            memcpy(y + (size_t)b * (size_t)d->out, d->y + (size_t)rows[b] * (size_t)d->out, sizeof(float) * (size_t)d->out);
    }
}

void lc_evaluate(LcNet *net, const LcData *d, int want_confusion, LcEval *r)
{
    float *x = malloc(sizeof(float) * (size_t)net->batch * (size_t)net->in);
    float *y = malloc(sizeof(float) * (size_t)net->batch * (size_t)(d->out ? d->out : 1));
    float *out = malloc(sizeof(float) * (size_t)net->batch * (size_t)net->out);
    int *rows = malloc(sizeof(int) * (size_t)net->batch);
    memset(r, 0, sizeof *r);
    r->classes = net->metric == LC_METRIC_ARGMAX ? net->out : 0;
    if (want_confusion && r->classes)
        r->confusion = calloc((size_t)r->classes * (size_t)r->classes, sizeof(long));
    if (!x || !y || !out || !rows || (want_confusion && r->classes && !r->confusion)) {
        fputs("layerc: error: out of memory\n", stderr);
        lc_dist_abort(1);
    }
    double total = 0;
    /* Under MPI each rank takes a contiguous slice of the rows (every rank
     * has loaded all of d) and the sums are added up across ranks. */
    int P = lc_dist_size(), R = lc_dist_rank();
    int first = (int)((long)d->n * R / P), last = (int)((long)d->n * (R + 1) / P);
    for (int start = first; start < last; start += net->batch) {
        int n = last - start < net->batch ? last - start : net->batch;
        for (int b = 0; b < n; b++) rows[b] = start + b;
        gather(d, rows, n, x, y);
        net->forward(net->state, x, out, n);
        if (d->y) total += (double)net->loss(net->state, y, n) * n;
        if (d->y) r->correct += count_correct(net, out, d, rows, n, r->confusion);
    }
    if (P > 1) {
        lc_dist_allreduce_sum_double(&total, 1);
        lc_dist_allreduce_sum_long(&r->correct, 1);
        if (r->confusion) lc_dist_allreduce_sum_long(r->confusion, (long)r->classes * r->classes);
    }
    r->n = d->n;
    r->loss = d->n ? total / d->n : 0;
    r->accuracy = d->n ? (double)r->correct / d->n : 0;
    free(x), free(y), free(out), free(rows);
}

void lc_print_eval(FILE *out, const LcEval *r, LcMetric metric)
{
    fprintf(out, "loss %.6f", r->loss);
    if (metric != LC_METRIC_NONE)
        fprintf(out, "  accuracy %.2f%% (%ld of %ld)", 100 * r->accuracy, r->correct, r->n);
    fprintf(out, "\n");
    if (!r->confusion) return;
    fprintf(out, "confusion matrix (rows: truth, columns: predicted)\n      ");
    for (int p = 0; p < r->classes; p++) fprintf(out, " %6d", p);
    fprintf(out, "\n");
    for (int t = 0; t < r->classes; t++) {
        fprintf(out, "%6d", t);
        for (int p = 0; p < r->classes; p++) fprintf(out, " %6ld", r->confusion[(size_t)t * (size_t)r->classes + (size_t)p]);
        fprintf(out, "\n");
    }
}

int lc_predict(LcNet *net, const LcData *d, FILE *out)
{
    int ok = 1;
    if (lc_dist_rank() != 0) return 1;   /* under MPI, rank 0 alone predicts and prints */
    float *x = malloc(sizeof(float) * (size_t)net->batch * (size_t)net->in);
    float *y = malloc(sizeof(float) * (size_t)net->batch * (size_t)net->out);
    if (!x || !y) {
        fputs("layerc: error: out of memory\n", stderr);
        lc_dist_abort(1);
    }
    for (int start = 0; start < d->n && ok; start += net->batch) {
        int n = d->n - start < net->batch ? d->n - start : net->batch;
        memcpy(x, d->x + (size_t)start * (size_t)d->in, sizeof(float) * (size_t)n * (size_t)d->in);
        net->forward(net->state, x, y, n);
        for (int b = 0; b < n; b++) {
            for (int j = 0; j < net->out; j++)
                fprintf(out, "%s%.9g", j ? "," : "", y[(size_t)b * (size_t)net->out + (size_t)j]);
            fputc('\n', out);
        }
        ok = !ferror(out);   /* a full disk: stop at once, not after every row */
    }
    free(x), free(y);
    return ok;
}

/* ---- progress ---- */

typedef struct {
    double start, last_draw;
    int epoch, epochs;
} Progress;

static void draw_bar(Progress *p, long done, long total, double loss, double secs)
{
    double t = now_seconds();
    if (t - p->last_draw < 0.1 && done < total) return;
    p->last_draw = t;
    int width = 30, fill = total ? (int)(width * done / total) : width;
    double rate = secs > 0 ? done / secs : 0, left = rate > 0 ? (total - done) / rate : 0;
    fprintf(stderr, "\repoch %d/%d [", p->epoch, p->epochs);
    for (int i = 0; i < width; i++) fputc(i < fill ? '#' : '.', stderr);
    fprintf(stderr, "] %3d%%  %7.0f samples/s  loss %.4f  %3.0fs left ", (int)(100 * done / (total ? total : 1)),
            rate, loss, left);
    fflush(stderr);
}

/* ---- divergence ---- */

/* Whether the n floats are all finite: exponent bits only, no branch in
 * the loop.  A scan of the weights costs 2-4% of a step of the Fashion MLP
 * (235,000 weights, batch 64), too much for every step: the loss is
 * checked after every step, the weights after every epoch (and so before
 * every save). */
static int all_finite(const float *p, long n)
{
    uint32_t acc = 0, u;
    for (long i = 0; i < n; i++) {
        memcpy(&u, p + i, sizeof u);
        acc |= (u & 0x7f800000u) + 0x00800000u;   /* bit 31 set: exponent all ones */
    }
    return !(acc & 0x80000000u);
}

static const char *nonfinite_name(double v)
{
    return isnan(v) ? "nan" : v < 0 ? "-inf" : "inf";
}

typedef struct {
    int epoch, step, steps;      /* step of steps in the epoch; 0: the epoch as a whole */
    int saved_epoch;             /* the last epoch saved to save_path, 0 = none */
} Where;

/* "training diverged at epoch 3, step 17 of 32: ...; what the save path holds". */
static int diverged(const LcNet *net, const LcTrainOptions *o, const Where *w, double loss,
                    const float *x, int n, char *err, size_t errlen)
{
    char what[512], at[96];
    if (w->step) snprintf(at, sizeof at, "epoch %d, step %d of %d", w->epoch, w->step, w->steps);
    else snprintf(at, sizeof at, "epoch %d", w->epoch);
    if (!isfinite(loss)) {
        const char *layer = net->nonfinite_layer && w->step ? net->nonfinite_layer(net->state, x, n) : NULL;
        if (layer)
            snprintf(what, sizeof what, "the loss is %s; the output of layer '%s' is the first that is "
                     "not finite", nonfinite_name(loss), layer);
        else if (net->nonfinite_layer && w->step)
            snprintf(what, sizeof what, "the loss is %s, though every layer's output is finite (the loss "
                     "itself overflowed)", nonfinite_name(loss));
        else
            snprintf(what, sizeof what, "the loss is %s", nonfinite_name(loss));
    } else {
        long i = 0;
        while (i < net->nparams && isfinite(net->params[i])) i++;
        const char *name = "a weight";
        char quoted[300];
        for (int t = 0; t < o->ntensors; t++)
            if (i >= o->tensors[t].offset && i < o->tensors[t].offset + o->tensors[t].size) {
                snprintf(quoted, sizeof quoted, "weight '%s'", o->tensors[t].name);
                name = quoted;
            }
        snprintf(what, sizeof what, "%s is %s at the end of the epoch, though every loss was finite", name,
                 nonfinite_name(i < net->nparams ? net->params[i] : NAN));
    }
    char kept[600] = "";
    if (o->save_path && w->saved_epoch)
        snprintf(kept, sizeof kept, "; %s keeps the weights saved after epoch %d", o->save_path, w->saved_epoch);
    else if (o->save_path)
        snprintf(kept, sizeof kept, "; nothing was saved (%s is as it was)", o->save_path);
    return lc_fail(err, errlen, "layerc: error: training diverged at %s: %s%s; a lower learning rate "
                   "(--lr) may help", at, what, kept);
}

static int write_log(const char *path, const char *text, char *err, size_t errlen)
{
    return lc_write_atomic(path, text, strlen(text), err, errlen);
}

/* FNV-1a 64 of the parameters' bytes: the ranks compare it to make sure they agree. */
static uint64_t params_hash(const float *p, long n)
{
    const unsigned char *b = (const unsigned char *)p;
    uint64_t h = 0xcbf29ce484222325u;
    for (size_t i = 0; i < sizeof(float) * (size_t)n; i++) h = (h ^ b[i]) * 0x100000001b3u;
    return h;
}

/* One data-parallel step (several MPI ranks).  The global batch rows[0..n) is
 * the same on every rank; rank R takes rows [n R / P, n (R + 1) / P) -- floor(n/P)
 * or ceil(n/P) of them -- and runs forward, loss and backward on them.  Its
 * backward gives the mean gradient over its k rows; scaled by k / n and summed
 * over the ranks, that is the mean over all n rows, which every rank then
 * applies with the same update.  Adds this rank's loss sum (loss * k) to
 * *total and its correct predictions to *correct; returns k. */
static int dist_step(LcNet *net, const LcData *train, const int *rows, int n, int P, int R,
                     float *x, float *y, double *total, long *correct)
{
    int lo = (int)((long)n * R / P), hi = (int)((long)n * (R + 1) / P), k = hi - lo;
    if (k > 0) {
        gather(train, rows + lo, k, x, y);
        net->forward_train(net->state, x, k);
        *total += (double)net->loss(net->state, y, k) * k;
        net->backward(net->state, y, k);
        float scale = (float)((double)k / n);
        for (long i = 0; i < net->ngrads; i++) net->grads[i] *= scale;
        if (net->metric != LC_METRIC_NONE) *correct += count_correct(net, net->output, train, rows + lo, k, NULL);
    } else {
        /* fewer rows than ranks: this rank adds nothing */
        memset(net->grads, 0, sizeof(float) * (size_t)net->ngrads);
    }
    lc_dist_allreduce_sum_float(net->grads, net->ngrads);
    net->update(net->state);
    return k;
}

int lc_train(LcNet *net, const LcData *train, const LcTrainOptions *o, char *err, size_t errlen)
{
    int B = net->batch;
    /* Under MPI (dist.h): P ranks share every global batch; rank 0 alone
     * prints, logs and saves.  With one process P = 1 and the loop below is
     * the plain train_step loop. */
    int P = lc_dist_size(), R = lc_dist_rank(), lead = R == 0;
    float *x = malloc(sizeof(float) * (size_t)B * (size_t)net->in);
    float *y = malloc(sizeof(float) * (size_t)B * (size_t)net->out);
    int *order = malloc(sizeof(int) * (size_t)(train->n ? train->n : 1));
    size_t log_cap = 4096, log_len = 0;
    char *log = malloc(log_cap);
    if (!x || !y || !order || !log) {
        fputs("layerc: error: out of memory\n", stderr);
        lc_dist_abort(1);
    }
    log_len = (size_t)snprintf(log, log_cap, "epoch,train_loss,train_accuracy,test_loss,test_accuracy,seconds\n");
    /* the same seed on every rank: the same shuffled order everywhere */
    uint64_t rng = o->seed ^ 0x5eed5eed5eedull;
    for (int i = 0; i < train->n; i++) order[i] = i;
    if (P > 1) {
        /* every rank starts from rank 0's weights (and so from the same ones, whatever
         * each loaded), and draws its own dropout masks */
        lc_dist_broadcast_float(net->params, net->nparams);
        if (net->set_rng) {
            uint64_t s = o->seed * 0x9e3779b97f4a7c15u + (uint64_t)R + 1;
            net->set_rng(net->state, splitmix64(&s));
        }
    }
    int ok = 1;
    Progress p = { now_seconds(), 0, 0, o->epochs };
    Where w = { 0, 0, (train->n + B - 1) / B, 0 };
    for (int epoch = 1; epoch <= o->epochs && ok; epoch++) {
        double t0 = now_seconds(), total = 0;
        long correct = 0, seen = 0;   /* this rank's samples */
        p.epoch = epoch;
        w.epoch = epoch;
        if (o->shuffle) shuffle(order, train->n, &rng);
        for (int start = 0; start < train->n && ok; start += B) {
            int n = train->n - start < B ? train->n - start : B;
            w.step = start / B + 1;
            if (P == 1) {
                gather(train, order + start, n, x, y);
                /* train_step's parts, so that a step whose loss is not finite
                 * is diagnosed before it changes the weights */
                net->forward_train(net->state, x, n);
                double loss = (double)net->loss(net->state, y, n);
                total += loss * n;
                if (!isfinite(loss)) {
                    ok = diverged(net, o, &w, loss, x, n, err, errlen);
                    break;
                }
                net->backward(net->state, y, n);
                net->update(net->state);
                if (net->metric != LC_METRIC_NONE)
                    correct += count_correct(net, net->output, train, order + start, n, NULL);
                seen += n;
            } else {
                /* each rank sees the loss of its shard only: the epoch's, summed
                 * over the ranks, is checked below */
                seen += dist_step(net, train, order + start, n, P, R, x, y, &total, &correct);
            }
            if (o->progress && lead && seen)
                draw_bar(&p, start + n, train->n, total / (double)seen, now_seconds() - t0);
        }
        if (P > 1) {
            /* the epoch's loss and accuracy over all ranks' samples */
            lc_dist_allreduce_sum_double(&total, 1);
            lc_dist_allreduce_sum_long(&correct, 1);
            /* the ranks apply the same updates to the same weights; should they ever
             * differ (a non-deterministic reduction), rank 0's weights win */
            if (!lc_dist_same_u64(params_hash(net->params, net->nparams))) {
                if (lead) fprintf(stderr, "layerc: warning: the ranks' weights differ after epoch %d; "
                                          "taking rank 0's\n", epoch);
                lc_dist_broadcast_float(net->params, net->nparams);
            }
        }
        if (!ok) break;
        double secs = now_seconds() - t0, loss = train->n ? total / train->n : 0;
        double acc = train->n ? (double)correct / train->n : 0;
        /* the ranks' weights are the same: every rank decides alike */
        if (!isfinite(loss) || !all_finite(net->params, net->nparams)) {
            w.step = 0;
            ok = diverged(net, o, &w, loss, NULL, 0, err, errlen);
            break;
        }
        LcEval test = { 0, 0, 0, 0, 0, NULL };
        if (o->test) lc_evaluate(net, o->test, 0, &test);   /* collective under MPI */
        if (!lead) continue;   /* only rank 0 prints, logs and saves */
        if (o->progress) fputs("\r\033[K", stderr);
        fprintf(o->out, "epoch %d/%d  loss %.4f", epoch, o->epochs, loss);
        if (net->metric != LC_METRIC_NONE) fprintf(o->out, "  accuracy %.2f%%", 100 * acc);
        if (o->test) {
            fprintf(o->out, "  | test loss %.4f", test.loss);
            if (net->metric != LC_METRIC_NONE) fprintf(o->out, "  accuracy %.2f%%", 100 * test.accuracy);
        }
        fprintf(o->out, "  | %.1fs, %.0f samples/s\n", secs, secs > 0 ? train->n / secs : 0);
        if (fflush(o->out) != 0 || ferror(o->out)) {
            ok = lc_fail(err, errlen, "layerc: error: %s: cannot write the output: %s",
                         o->out_name ? o->out_name : "output", strerror(errno ? errno : EIO));
            break;
        }
        if (o->log_path) {
            char row[256], a[32] = "", ta[32] = "", tl[32] = "";
            if (net->metric != LC_METRIC_NONE) snprintf(a, sizeof a, "%.6f", acc);
            if (o->test) snprintf(tl, sizeof tl, "%.6f", test.loss);
            if (o->test && net->metric != LC_METRIC_NONE) snprintf(ta, sizeof ta, "%.6f", test.accuracy);
            int k = snprintf(row, sizeof row, "%d,%.6f,%s,%s,%s,%.3f\n", epoch, loss, a, tl, ta, secs);
            if (log_len + (size_t)k + 1 > log_cap) {
                log_cap = 2 * (log_cap + (size_t)k);
                char *grown = realloc(log, log_cap);
                if (!grown) { fputs("layerc: error: out of memory\n", stderr); lc_dist_abort(1); }
                log = grown;
            }
            memcpy(log + log_len, row, (size_t)k + 1);
            log_len += (size_t)k;
            ok = write_log(o->log_path, log, err, errlen);
        }
        int last = epoch == o->epochs;
        if (ok && o->save_path && (last || (o->save_every > 0 && epoch % o->save_every == 0))) {
            ok = lc_weights_save(o->save_path, o->tensors, o->ntensors, net->params, net->nparams,
                                 err, errlen);
            if (ok) w.saved_epoch = epoch;
        }
    }
    (void)p.start;
    free(x), free(y), free(order), free(log);
    return ok;
}
