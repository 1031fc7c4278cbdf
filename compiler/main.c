/* main.c: the command line (SPEC section 2).
 *
 * Exit status: 0 success, 1 a problem with an input (model, data, weights,
 * an output that cannot be written), 2 a usage error.  Every output file is
 * written through a temporary file and renamed into place, so it is complete
 * or absent.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "arena.h"
#include "ast.h"
#include "check.h"
#include "data.h"
#include "dataprep.h"
#include "dist.h"   /* [MPI] */
#include "emit.h"
#include "gradcheck.h"
#include "npz.h"
#include "run.h"
#include "threads.h"   /* [threads] */
#include "tools.h"
#include "files.h"
#include "train.h"
#include "version.h"
#include "weights.h"

#define EXIT_INPUT 1
#define EXIT_USAGE 2

static const char usage[] =
    "usage: layerc MODEL.lyr -o model.c          write C (and model.h beside it)\n"
    "       layerc train MODEL.lyr DATA          train in memory (JIT), print progress\n"
    "       layerc eval MODEL.lyr DATA           loss, and accuracy for classifiers\n"
    "       layerc predict MODEL.lyr DATA        one line of outputs per sample\n"
    "       layerc check MODEL.lyr [--all]       backward pass vs finite differences\n"
    "       layerc graph MODEL.lyr -o g.dot      the layer graph for Graphviz (.dot/.svg/.png)\n"
    "       layerc summary MODEL.lyr             layers, shapes, weights, FLOPs, memory\n"
    "       layerc export MODEL.lyr --weights W --npz W.npz   weights as a NumPy archive\n"
    "\n"
    "DATA is a CSV file (inputs then truth on each row) or IDX images (.gz too)\n"
    "with --labels.\n"
    "\n"
    "options:\n"
    "  -o FILE             output file ('-' = standard output)\n"
    "  -H FILE             header path (default: the -o path with .h)\n"
    "  --inference         emit the forward pass only (no training state)\n"
    "  --weights FILE      load trained weights (.lyw or .npz); when writing C, bake them in\n"
    "  --npz FILE          export: the NumPy archive to write\n"
    "  --save FILE         save the weights after training\n"
    "  --save-every N      also save every N epochs\n"
    "  --epochs N          passes over the data (default: the train block, else 1)\n"
    "  --batch N           samples per step (default: the train block, else 32)\n"
    "  --lr X              learning rate (default: the train block's optimizer)\n"
    "  --seed N            seed for initialisation, shuffling, dropout\n"
    "  --labels FILE       IDX labels for DATA\n"
    "  --test DATA         evaluate on held-out data after every epoch\n"
    "  --test-labels FILE  IDX labels for --test\n"
    "  --log FILE          metrics per epoch, CSV\n"
    "  --validate F        train: hold out a fraction F of DATA (seeded), evaluated every epoch\n"
    "  --early-stop N      train: stop after N epochs without a lower validation loss,\n"
    "                      ending with (and saving) the best epoch's weights\n"
    "  --truth input       train, eval: the truth is the input (autoencoders)\n"
    "  --one-hot           train, eval: class-index labels as one-hot rows (bce classifiers)\n"
    "  --all               check: every value of every tensor, not a sample\n"
    "  -q, --quiet         no progress bar\n"
    "  --threads N         threads for train, eval, predict (default: all cores); with -o,\n"
    "                      write C that runs N threads (build it with -pthread)\n"
    "  -h, --help, --version\n";

typedef struct {
    const char *cmd;           /* compile, train, eval, predict, check, graph, summary */
    const char *model, *data, *out, *header, *weights, *save, *labels, *test, *test_labels, *log, *npz;
    int inference, quiet, save_every;
    double validate;           /* --validate F, 0 = not given */
    int early_stop;            /* --early-stop N, 0 = not given */
    int truth_input, one_hot;  /* --truth input, --one-hot */
    int check_all;             /* check --all: every value, not a sample */
    int threads;               /* [threads] --threads N, 0 = not given */
    TrainOverrides over;
} Options;

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int usage_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "layerc: error: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n(see layerc --help)\n");
    va_end(ap);
    return EXIT_USAGE;
}

static int parse_long(const char *s, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi) return 0;
    *out = v;
    return 1;
}

static int check_training_options(const Options *o);

static int parse_args(int argc, char **argv, Options *o)
{
    static const char *const cmds[] = { "train", "eval", "predict", "check", "graph", "summary", "export", "compile" };
    memset(o, 0, sizeof *o);
    o->cmd = "compile";
    o->over = (TrainOverrides){ -1, 0, -1, -1 };
    int i = 1;
    if (argc > 1)
        for (size_t k = 0; k < sizeof cmds / sizeof *cmds; k++)
            if (!strcmp(argv[1], cmds[k])) o->cmd = cmds[k], i = 2;
    for (; i < argc; i++) {
        const char *a = argv[i];
        if (a[0] != '-' || !strcmp(a, "-")) {
            if (!o->model) o->model = a;
            else if (!o->data) o->data = a;
            else return usage_error("unexpected argument '%s'", a);
            continue;
        }
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            fputs(usage, stdout);
            exit(0);
        }
        if (!strcmp(a, "--version")) {
            printf("layerc %s\n", LAYERC_VERSION);
            exit(0);
        }
        if (!strcmp(a, "--inference")) { o->inference = 1; continue; }
        if (!strcmp(a, "--quiet") || !strcmp(a, "-q")) { o->quiet = 1; continue; }
        if (!strcmp(a, "--one-hot")) { o->one_hot = 1; continue; }
        if (!strcmp(a, "--all")) { o->check_all = 1; continue; }
        /* options with a value: "--opt VALUE" or "--opt=VALUE" */
        const char *eq = strchr(a, '=');
        char name[64];
        size_t len = eq ? (size_t)(eq - a) : strlen(a);
        if (len >= sizeof name) return usage_error("unknown option '%s'", a);
        memcpy(name, a, len);
        name[len] = '\0';
        const char *val = eq ? eq + 1 : (i + 1 < argc ? argv[++i] : NULL);
        static const char *const valued[] = { "-o", "-H", "--weights", "--save", "--save-every",
            "--epochs", "--batch", "--lr", "--seed", "--labels", "--test", "--test-labels", "--log", "--npz",
            "--threads", "--validate", "--early-stop", "--truth" };
        int known = 0;
        for (size_t k = 0; k < sizeof valued / sizeof *valued; k++) known |= !strcmp(name, valued[k]);
        if (!known) return usage_error("unknown option '%s'", a);
        if (!val) return usage_error("option '%s' needs a value", name);
        long n;
        if (!strcmp(name, "-o")) o->out = val;
        else if (!strcmp(name, "-H")) o->header = val;
        else if (!strcmp(name, "--weights")) o->weights = val;
        else if (!strcmp(name, "--save")) o->save = val;
        else if (!strcmp(name, "--labels")) o->labels = val;
        else if (!strcmp(name, "--test")) o->test = val;
        else if (!strcmp(name, "--test-labels")) o->test_labels = val;
        else if (!strcmp(name, "--log")) o->log = val;
        else if (!strcmp(name, "--npz")) o->npz = val;
        else if (!strcmp(name, "--truth")) {
            if (strcmp(val, "input")) return usage_error("--truth takes 'input' (the truth is the input), not '%s'", val);
            o->truth_input = 1;
        } else if (!strcmp(name, "--early-stop")) {
            if (!parse_long(val, 1, 1000000, &n)) return usage_error("--early-stop takes a whole number of epochs >= 1, not '%s'", val);
            o->early_stop = (int)n;
        } else if (!strcmp(name, "--validate")) {
            char *end;
            errno = 0;
            double f = strtod(val, &end);
            if (errno || end == val || *end || !(f > 0 && f < 1))
                return usage_error("--validate takes a fraction between 0 and 1 (such as 0.1), not '%s'", val);
            o->validate = f;
        }
        else if (!strcmp(name, "--threads")) {   /* [threads] */
            if (!parse_long(val, 1, LC_POOL_MAX, &n)) return usage_error("--threads takes a whole number from 1 to 64, not '%s'", val);
            o->threads = (int)n;
        } else if (!strcmp(name, "--save-every")) {
            if (!parse_long(val, 1, 1000000, &n)) return usage_error("--save-every takes a whole number >= 1, not '%s'", val);
            o->save_every = (int)n;
        } else if (!strcmp(name, "--epochs")) {
            if (!parse_long(val, 1, 1000000, &n)) return usage_error("--epochs takes a whole number >= 1, not '%s'", val);
            o->over.epochs = n;
        } else if (!strcmp(name, "--batch")) {
            if (!parse_long(val, 1, 1 << 20, &n)) return usage_error("--batch takes a whole number from 1 to 1048576, not '%s'", val);
            o->over.batch = n;
        } else if (!strcmp(name, "--seed")) {
            if (!parse_long(val, 0, LONG_MAX, &n)) return usage_error("--seed takes a whole number >= 0, not '%s'", val);
            o->over.seed = n;
        } else if (!strcmp(name, "--lr")) {
            char *end;
            errno = 0;
            double lr = strtod(val, &end);
            if (errno || end == val || *end || !(lr > 0 && lr <= 1e6))
                return usage_error("--lr takes a positive number, not '%s'", val);
            o->over.lr = lr;
        }
    }
    if (!o->model) return usage_error("%s", "no model file given");
    int needs_data = !strcmp(o->cmd, "train") || !strcmp(o->cmd, "eval") || !strcmp(o->cmd, "predict");
    if (needs_data && !o->data) return usage_error("'layerc %s' needs a data file: layerc %s MODEL.lyr DATA", o->cmd, o->cmd);
    if (!needs_data && o->data) return usage_error("unexpected argument '%s'", o->data);
    if (!strcmp(o->cmd, "compile") && !o->out)
        return usage_error("%s", "no output: give -o model.c (or -o - for standard output)");
    if (!strcmp(o->cmd, "graph") && !o->out)
        return usage_error("%s", "no output: give -o graph.dot (or .svg, .png)");
    if (o->test_labels && !o->test) return usage_error("%s", "--test-labels goes with --test");
    if (!strcmp(o->cmd, "export") && (!o->weights || !o->npz))
        return usage_error("%s", "'layerc export' needs --weights FILE and --npz FILE");
    if (strcmp(o->cmd, "export") && o->npz) return usage_error("%s", "--npz goes with 'layerc export'");
    return check_training_options(o);
}

/* The training and check options: which command each goes with,
 * and which exclude each other. */
static int check_training_options(const Options *o)
{
    int train = !strcmp(o->cmd, "train"), eval = !strcmp(o->cmd, "eval");
    if (o->check_all && strcmp(o->cmd, "check")) return usage_error("%s", "--all goes with 'layerc check'");
    if (o->validate && !train) return usage_error("%s", "--validate goes with 'layerc train'");
    if (o->early_stop && !train) return usage_error("%s", "--early-stop goes with 'layerc train'");
    if (o->early_stop && !o->validate)
        return usage_error("%s", "--early-stop watches the validation loss: give --validate F too");
    if (o->truth_input && !train && !eval) return usage_error("%s", "--truth input goes with 'layerc train' and 'layerc eval'");
    if (o->one_hot && !train && !eval) return usage_error("%s", "--one-hot goes with 'layerc train' and 'layerc eval'");
    if (o->truth_input && o->one_hot) return usage_error("%s", "--truth input and --one-hot exclude each other");
    if (o->truth_input && (o->labels || o->test_labels))
        return usage_error("%s", "--truth input takes the truth from the inputs: no --labels or --test-labels");
    return 0;
}

/* ---- front end: file -> checked model ---- */

typedef struct {
    Source src;
    Arena arena;
    Diags diags;
    Model *model;
} Front;

static int front_load(Front *f, const char *path)
{
    char err[1024];
    memset(f, 0, sizeof *f);
    if (!source_read(&f->src, path, err, sizeof err)) {
        fprintf(stderr, "layerc: error: %s\n", err);
        return 0;
    }
    diags_init(&f->diags, &f->src);
    Program *p = parse_program(&f->src, &f->diags, &f->arena);
    if (!f->diags.nerrors) f->model = check_program(p, &f->src, &f->diags, &f->arena);
    diags_print(&f->diags, stderr);
    return f->model != NULL;
}

static void front_free(Front *f)
{
    diags_free(&f->diags);
    arena_free(&f->arena);
    source_free(&f->src);
}

/* ---- commands ---- */

/* The -o path must not be the model itself: nothing the user had is lost. */
static int same_file(const char *a, const char *b)
{
    struct stat sa, sb;
    return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

static char *header_path(const char *out)
{
    size_t n = strlen(out);
    char *h = xmalloc(n + 3);
    memcpy(h, out, n + 1);
    if (n > 2 && !strcmp(out + n - 2, ".c")) h[n - 1] = 'h';
    else memcpy(h + n, ".h", 3);
    return h;
}

static const char *base_name(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

/* A .npz is a ZIP archive: it starts with "PK".  Anything else is read as
 * .lyw, whose loader says what is wrong with it. */
static int is_npz(const char *path)
{
    char magic[2] = { 0, 0 };
    FILE *f = fopen(path, "rb");
    if (f) {
        if (fread(magic, 1, 2, f) != 2) magic[0] = 0;
        fclose(f);
    }
    return magic[0] == 'P' && magic[1] == 'K';
}

static int load_weights_into(const char *path, const Model *m, float *params)
{
    char err[1024];
    LcTensorInfo *t = model_tensor_table(m);
    int ok = is_npz(path) ? lc_npz_load(path, t, m->nweights, params, err, sizeof err)
                          : lc_weights_load(path, t, m->nweights, params, m->nparams, err, sizeof err);
    free(t);
    if (!ok) fprintf(stderr, "%s\n", err);
    return ok;
}

/* The whole of a file that exists, or NULL (*n = 0) when there is none. */
static char *read_whole(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    char *b = NULL;
    size_t cap = 0;
    *n = 0;
    if (!f) return NULL;
    for (;;) {
        if (*n == cap) b = xrealloc(b, cap = cap ? 2 * cap : 65536);
        size_t got = fread(b + *n, 1, cap - *n, f);
        if (got == 0) break;
        *n += got;
    }
    fclose(f);
    return b;
}

/* Header and source are both written or neither: each file is atomic on its
 * own, so when the source fails after the header is in place, the header is
 * put back as it was (or removed, when there was none). */
static int write_pair(const char *hpath, const char *h, const char *cpath, const char *c,
                      char *err, size_t errlen)
{
    size_t old_len;
    char *old = read_whole(hpath, &old_len), ignored[256];
    int ok = lc_write_atomic(hpath, h, strlen(h), err, errlen);
    if (ok && !lc_write_atomic(cpath, c, strlen(c), err, errlen)) {
        if (old) lc_write_atomic(hpath, old, old_len, ignored, sizeof ignored);
        else unlink(hpath);
        ok = 0;
    }
    free(old);
    return ok;
}

/* `layerc export`: the weights of --weights as the NumPy archive --npz. */
static int cmd_export(const Options *o, Front *f)
{
    const Model *m = f->model;
    char err[1024];
    float *params = xcalloc((size_t)(m->nparams ? m->nparams : 1), sizeof(float));
    int status = EXIT_INPUT;
    if (load_weights_into(o->weights, m, params)) {
        LcTensorInfo *t = model_tensor_table(m);
        if (lc_npz_save(o->npz, t, m->nweights, params, err, sizeof err)) status = 0;
        else fprintf(stderr, "%s\n", err);
        free(t);
    }
    free(params);
    return status;
}

static int cmd_compile(const Options *o, Front *f)
{
    const Model *m = f->model;
    char err[1024];
    float *baked = NULL;
    if (o->weights) {
        baked = xcalloc((size_t)(m->nparams ? m->nparams : 1), sizeof(float));
        if (!load_weights_into(o->weights, m, baked)) {
            free(baked);
            return EXIT_INPUT;
        }
    }
    int to_stdout = !strcmp(o->out, "-");
    char *hpath = o->header ? xstrdup(o->header) : header_path(o->out);
    EmitOptions eo = { .inference = o->inference, .baked = baked, .header = base_name(hpath),
                       .source_name = f->src.path, .threads = o->threads /* [threads] */ };
    int status = 0;
    if (!to_stdout && (same_file(o->out, o->model) || same_file(hpath, o->model))) {
        fprintf(stderr, "layerc: error: the output would overwrite the model file %s\n", o->model);
        status = EXIT_USAGE;
    } else if (to_stdout) {
        char *h = emit_header(m, &eo);
        eo.jit = 0;
        char *c = emit_source(m, &eo);
        /* one stream: the header, then the source without its #include */
        const char *body = strstr(c, "\n#include <math.h>");
        fputs(h, stdout);
        fputs(body ? body : c, stdout);
        free(h), free(c);
    } else {
        char *h = emit_header(m, &eo), *c = emit_source(m, &eo);
        if (!write_pair(hpath, h, o->out, c, err, sizeof err)) {
            fprintf(stderr, "%s\n", err);
            status = EXIT_INPUT;
        }
        free(h), free(c);
    }
    free(hpath);
    free(baked);
    return status;
}

/* Loads DATA (or --test) for the model, with --one-hot and --truth input
 * applied; a message and 0 when it does not fit. */
static int load_data(const char *path, const char *labels, const Model *m, const Options *o,
                     int truth_optional, LcData *d)
{
    char err[1024];
    int in = (int)m->layers[0].size, out = (int)m->layers[m->output].size;
    int classes = o->one_hot ? out : model_classes(m);
    /* a model whose output has the input's size may be an autoencoder: load
     * data without truth too, to say what to do about it */
    int maybe_autoencoder = in == out && !labels && !truth_optional && !o->truth_input;
    if (o->truth_input && in != out) {
        fprintf(stderr, "%s: error: --truth input makes the input the truth, but the model's output has %d "
                "value%s and its input %d\n", m->src->path, out, out == 1 ? "" : "s", in);
        return 0;
    }
    if (o->one_hot && out < 2) {
        fprintf(stderr, "%s: error: --one-hot makes one-hot rows as wide as the output, which has a single value\n",
                m->src->path);
        return 0;
    }
    if (labels && !classes && out != 1) {
        fprintf(stderr, "%s: error: IDX labels hold one class index per sample but the model's output has %d "
                "values: give --one-hot to make each label a one-hot row of %d (a sigmoid/bce classifier)\n",
                labels, out, out);
        return 0;
    }
    LcDataSpec spec = { in, out, classes, truth_optional || o->truth_input || maybe_autoencoder };
    if (!lc_load_data(path, labels, &spec, d, err, sizeof err)) {
        fprintf(stderr, "%s\n", err);
        return 0;
    }
    if (o->truth_input && !lc_prep_truth_is_input(d, path, err, sizeof err)) {
        fprintf(stderr, "%s\n", err);
        lc_data_free(d);
        return 0;
    }
    if (maybe_autoencoder && !d->y) {
        fprintf(stderr, "%s: error: no truth: the samples hold their %d inputs alone; give --truth input for an "
                "autoencoder (the truth is the input), or --labels FILE for IDX images with labels\n", path, in);
        lc_data_free(d);
        return 0;
    }
    return 1;
}

/* What "accuracy" means for this model and data. */
static LcMetric choose_metric(const Model *m, const Options *o, const LcData *d)
{
    if (o->truth_input) return LC_METRIC_RECONSTRUCTION;
    if (o->one_hot) return LC_METRIC_ARGMAX;
    if (m->loss == LOSS_BCE && lc_prep_one_hot_rows(d)) return LC_METRIC_ARGMAX;
    return model_metric(m);
}

/* `layerc train`, with --validate taken out of the data first. */
static int run_training(const Options *o, const Model *m, RunModel *r, LcData *data, const LcData *test)
{
    char err[4096];
    LcData val;
    memset(&val, 0, sizeof val);
    if (o->validate && !lc_prep_split(data, o->validate, m->train.seed, &val, o->data, err, sizeof err)) {
        fprintf(stderr, "%s\n", err);
        return EXIT_INPUT;
    }
    LcTrainReport report;
    LcTrainOptions t = { m->train.epochs, m->train.seed, m->train.shuffle, test,
                         o->log, o->save, o->save_every, r->tensors, r->ntensors,
                         !o->quiet && isatty(2), stdout, o->validate ? &val : NULL, o->early_stop, &report };
    int lead = lc_dist_rank() == 0, status = 0;   /* [MPI] rank 0 alone prints */
    if (lead) {
        printf("training %s on %d samples", m->name, data->n);
        if (o->validate) printf(" (%d more held out for validation)", val.n);
        printf(": %d epochs, batch %d, %s lr %g\n", t.epochs, m->train.batch,
               m->train.opt.kind == OPT_SGD ? "sgd" : "adam", m->train.opt.lr);
    }
    if (!lc_train(&r->net, data, &t, err, sizeof err)) {
        fprintf(stderr, "%s\n", err);
        status = EXIT_INPUT;
    } else if (lead && o->early_stop && o->save) {
        printf("saved the weights of epoch %d (the lowest validation loss, %.6f) to %s\n", report.best_epoch,
               report.best_loss, o->save);
    } else if (lead && o->early_stop) {
        printf("the best epoch was %d (the lowest validation loss, %.6f)\n", report.best_epoch, report.best_loss);
    } else if (o->save && lead) {
        printf("saved the weights to %s\n", o->save);
    }
    lc_data_free(&val);
    return status;
}

static int cmd_run(const Options *o, Front *f)
{
    Model *m = f->model;
    char err[4096];
    RunModel r;
    LcData data, test;
    int status = 0, have_test = 0;
    memset(&data, 0, sizeof data);
    memset(&test, 0, sizeof test);
    int predict = !strcmp(o->cmd, "predict");
    if (!load_data(o->data, o->labels, m, o, predict, &data)) return EXIT_INPUT;
    if (o->test) {
        if (!load_data(o->test, o->test_labels, m, o, 0, &test)) {
            lc_data_free(&data);
            return EXIT_INPUT;
        }
        have_test = 1;
    }
    if (!run_model_open(&r, m, f->src.path, err, sizeof err)) {
        fprintf(stderr, "%s: error: %s\n", f->src.path, err);
        lc_data_free(&data), lc_data_free(&test);
        return EXIT_INPUT;
    }
    r.net.metric = choose_metric(m, o, &data);
    if (o->weights && !load_weights_into(o->weights, m, r.net.params)) status = EXIT_INPUT;
    else if (!strcmp(o->cmd, "train")) status = run_training(o, m, &r, &data, have_test ? &test : NULL);
    else if (!strcmp(o->cmd, "eval")) {
        LcEval ev;
        if (!data.y) {
            fprintf(stderr, "%s: error: no truth values to evaluate against\n", o->data);
            status = EXIT_INPUT;
        } else {
            lc_evaluate(&r.net, &data, 1, &ev);
            if (lc_dist_rank() == 0) lc_print_eval(stdout, &ev, r.net.metric);   /* [MPI] */
            free(ev.confusion);
        }
    } else {
        lc_predict(&r.net, &data, stdout);
    }
    run_model_close(&r);
    lc_data_free(&data);
    lc_data_free(&test);
    return status;
}

int main(int argc, char **argv)
{
    Options o;
    int status = parse_args(argc, argv, &o);
    if (status) return status;
    lc_dist_init(&argc, &argv);   /* [MPI] under mpirun (make MPI=1); else nothing */
    Front f;
    if (!front_load(&f, o.model)) {
        front_free(&f);
        return lc_dist_exit(EXIT_INPUT);   /* [MPI] an error on any rank ends the job */
    }
    char err[1024];
    if (!apply_overrides(f.model, &o.over, err, sizeof err)) {
        fprintf(stderr, "layerc: error: %s\n", err);
        front_free(&f);
        return lc_dist_exit(EXIT_USAGE);   /* [MPI] */
    }
    if (!strcmp(o.cmd, "compile")) status = cmd_compile(&o, &f);
    else if (!strcmp(o.cmd, "check")) {
        GradCheckOptions g = { f.model->train.seed, o.check_all };
        int r = gradcheck_run(f.model, f.src.path, &g, stdout, err, sizeof err);
        if (r < 0) fprintf(stderr, "%s: error: %s\n", f.src.path, err);
        status = r == 1 ? 0 : EXIT_INPUT;
    } else if (!strcmp(o.cmd, "graph")) status = tool_graph(f.model, f.src.path, o.out);
    else if (!strcmp(o.cmd, "summary")) status = tool_summary(f.model, stdout);
    else if (!strcmp(o.cmd, "export")) status = cmd_export(&o, &f);
    else {
        /* [threads] the kernels' pool, before any code is emitted: all the cores
         * (shared among the ranks under MPI) unless --threads says otherwise */
        int cores = lc_cpu_count() / lc_dist_size();
        lc_pool_init(o.threads ? o.threads : cores > 1 ? cores : 1);
        status = cmd_run(&o, &f);
    }
    front_free(&f);
    return lc_dist_exit(status);   /* [MPI] finalize; a non-zero status aborts every rank */
}
