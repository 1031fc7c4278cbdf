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
#include "dispatch.h"
#include "dist.h"   /* [MPI] */
#include "emit.h"
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
    "       layerc check MODEL.lyr               backward pass vs finite differences\n"
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
    "  -q, --quiet         no progress bar\n"
    "  --threads N         threads for train, eval, predict (default: all cores); with -o,\n"
    "                      write C that runs N threads (build it with -pthread)\n"
    "  -h, --help, --version\n";

typedef struct {
    const char *cmd;           /* compile, train, eval, predict, check, graph, summary */
    const char *model, *data, *out, *header, *weights, *save, *labels, *test, *test_labels, *log, *npz;
    int inference, quiet, save_every;
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
            printf("layerc %s\n%s\n", LAYERC_VERSION, lc_dispatch_describe());
            exit(0);
        }
        if (!strcmp(a, "--inference")) { o->inference = 1; continue; }
        if (!strcmp(a, "--quiet") || !strcmp(a, "-q")) { o->quiet = 1; continue; }
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
            "--threads" };
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

static int load_data(const char *path, const char *labels, const Model *m, int truth_optional, LcData *d)
{
    char err[1024];
    LcDataSpec spec = { (int)m->layers[0].size, (int)m->layers[m->output].size, model_classes(m),
                        truth_optional };
    if (!lc_load_data(path, labels, &spec, d, err, sizeof err)) {
        fprintf(stderr, "%s\n", err);
        return 0;
    }
    return 1;
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
    if (!load_data(o->data, o->labels, m, predict, &data)) return EXIT_INPUT;
    if (o->test) {
        if (!load_data(o->test, o->test_labels, m, 0, &test)) {
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
    if (o->weights && !load_weights_into(o->weights, m, r.net.params)) status = EXIT_INPUT;
    else if (!strcmp(o->cmd, "train")) {
        LcTrainOptions t = { m->train.epochs, m->train.seed, m->train.shuffle, have_test ? &test : NULL,
                             o->log, o->save, o->save_every, r.tensors, r.ntensors,
                             !o->quiet && isatty(2), stdout };
        if (lc_dist_rank() == 0)   /* [MPI] rank 0 alone prints */
            fprintf(stdout, "training %s on %d samples: %d epochs, batch %d, %s lr %g\n", m->name,
                    data.n, t.epochs, m->train.batch, m->train.opt.kind == OPT_SGD ? "sgd" : "adam",
                    m->train.opt.lr);
        if (!lc_train(&r.net, &data, &t, err, sizeof err)) {
            fprintf(stderr, "%s\n", err);
            status = EXIT_INPUT;
        } else if (o->save && lc_dist_rank() == 0) {   /* [MPI] */
            printf("saved the weights to %s\n", o->save);
        }
    } else if (!strcmp(o->cmd, "eval")) {
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
        int r = run_gradient_check(f.model, f.src.path, f.model->train.seed, stdout, err, sizeof err);
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
