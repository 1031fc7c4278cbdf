/* main.c: the command line (SPEC section 2).
 *
 * Exit status: 0 success, 1 a problem with an input (model, data, weights,
 * an output that cannot be written, a write to standard output that
 * failed, training that diverged), 2 a usage error (an output that would
 * replace an input or another output among them).  Every output file is
 * written through a temporary file and renamed into place, so it is complete
 * or absent; a device or FIFO is written in place.
 */
#include <ctype.h>
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
#include "diag.h"
#include "dataprep.h"
#include "dispatch.h"
#include "dist.h"   /* [MPI] */
#include "emit.h"
#include "gradcheck.h"
#include "loss.h"
#include "npz.h"
#include "optim.h"
#include "paths.h"
#include "plot.h"
#include "onnx/export.h"
#include "onnx/import.h"
#include "run.h"
#include "schedule.h"
#include "threads.h"   /* [threads] */
#include "tools.h"
#include "trace.h"
#include "files.h"
#include "fold.h"
#include "calib.h"
#include "qemit.h"
#include "qrun.h"
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
    "       layerc summary MODEL.lyr [OPTIONS]   layers, shapes, weights, FLOPs, memory; the exact\n"
    "                                            RAM, flash and scratch of the C the same options write\n"
    "       layerc export MODEL.lyr --weights W --npz W.npz   weights as a NumPy archive\n"
    "       layerc trace MODEL.lyr DATA          each layer's output (and gradient) per sample\n"
    "       layerc plot LOG.csv... -o c.svg      loss and accuracy per epoch (gnuplot; .svg/.png)\n"
    "       layerc export MODEL.lyr --weights W --onnx m.onnx  the model and weights as ONNX\n"
    "       layerc import model.onnx -o model.lyr  an ONNX model as .lyr, its weights as model.lyw\n"
    "\n"
    "DATA is a CSV file (inputs then truth on each row) or IDX images (.gz too)\n"
    "with --labels.\n"
    "\n"
    "options:\n"
    "  -o FILE             output file ('-' = standard output)\n"
    "  -H FILE             header path (default: the -o path with .h)\n"
    "  --inference         emit the forward pass only (no training state; batch 1 unless --batch)\n"
    "  --quantize int8     with -o or eval: integer-only int8 C (TFLite int8 arithmetic), from\n"
    "                      --weights W and the ranges of the layers over --calibrate DATA\n"
    "  --qat               train: quantisation-aware, the int8 rounding of every quantised\n"
    "                      output in the forward pass (ranges from --calibrate, else DATA)\n"
    "  --prefix P          C symbols start with P instead of the model's name\n"
    "  --fuse-update       step each weight in the backward pass as soon as its gradient is\n"
    "                      known: no grads[] (less RAM), NAME_train_step only\n"
    "  --target T          host (default): kernels for desktop CPUs; mcu: for small cores\n"
    "                      (plain loops, no packing, no scratch, small stack)\n"
    "  --weights FILE      load trained weights (.lyw or .npz); when writing C, bake them in\n"
    "  --npz FILE          export: the NumPy archive to write; import: write the weights there\n"
    "  --onnx FILE         export: the ONNX file to write\n"
    "  --save FILE         save the weights after training\n"
    "  --save-every N      also save every N epochs\n"
    "  --epochs N          passes over the data (default: the train block, else 1)\n"
    "  --batch N           samples per step (default: the train block, else 32)\n"
    "  --lr X              learning rate (default: the train block's optimizer)\n"
    "  --optimizer O       the optimizer instead of the train block's: sgd, adam, rmsprop,\n"
    "                      adadelta, or with settings, e.g. 'rmsprop(lr=0.001, momentum=0.9)'\n"
    "  --seed N            seed for initialisation, shuffling, dropout\n"
    "  --labels FILE       IDX labels for DATA\n"
    "  --test DATA         evaluate on held-out data after every epoch\n"
    "  --test-labels FILE  IDX labels for --test\n"
    "  --log FILE          metrics per epoch, CSV\n"
    "  --plot FILE         train: draw the log's curves at the end (.svg or .png)\n"
    "  --rows N            trace: the first N samples (default 3)\n"
    "  --backward          trace: the gradients too, from the loss back to every weight\n"
    "  --format md         trace: Markdown tables instead of aligned text\n"
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
    const char *model, *data, *out, *header, *weights, *save, *labels, *test, *test_labels, *log, *npz, *onnx;
    const char *prefix;        /* --prefix P: the C symbols' prefix */
    const char *quantize, *calibrate;   /* --quantize int8, --calibrate DATA */
    int qat;                   /* train --qat */
    Target target;             /* --target host|mcu */
    int inference, quiet, save_every, fuse_update;
    const char *plot;          /* train --plot */
    int rows, markdown, backward, trace_opts;   /* trace; trace_opts: one of them was given */
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
    int status = usage_error_for("", fmt, ap);
    va_end(ap);
    return status;
}

/* The name of standard output for messages: its file, when there is one. */
static void stdout_name(char *buf, size_t n)
{
    ssize_t k = readlink("/proc/self/fd/1", buf, n - 1);
    if (k > 0 && buf[0] == '/') buf[k] = '\0';
    else snprintf(buf, n, "standard output");
}

/* The errno of a failed write to standard output seen where it happened
 * (a large fputs fails there, leaving fflush nothing to report). */
static int stdout_errno;

static void put_stdout(const char *s)
{
    if (fputs(s, stdout) < 0 && !stdout_errno) stdout_errno = errno;
}

/* A write to standard output failed (a full disk, /dev/full, a closed pipe
 * with SIGPIPE ignored): said once, exit status 1. */
static int stdout_failed(void)
{
    char name[512];
    int e = errno;
    stdout_name(name, sizeof name);
    fprintf(stderr, "layerc: error: %s: cannot write the output: %s\n", name, strerror(e ? e : EIO));
    return EXIT_INPUT;
}

/* Everything written to standard output has reached it: flushed, and the
 * stream closed without error. */
static int finish_stdout(int status)
{
    char name[512];
    stdout_name(name, sizeof name);
    int failed = fflush(stdout) != 0, e = errno;
    if (!failed && ferror(stdout)) failed = 1, e = stdout_errno;
    if (fclose(stdout) != 0 && !failed) failed = 1, e = errno;
    if (!failed || status != 0) return status;
    if (e) fprintf(stderr, "layerc: error: %s: cannot write the output: %s\n", name, strerror(e));
    else fprintf(stderr, "layerc: error: %s: cannot write the output\n", name);
    return EXIT_INPUT;
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

/* [A-Za-z_][A-Za-z0-9_]*, at most 64 characters */
static int is_c_identifier(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 64 || (!isalpha((unsigned char)s[0]) && s[0] != '_')) return 0;
    for (size_t i = 1; i < n; i++)
        if (!isalnum((unsigned char)s[i]) && s[i] != '_') return 0;
    return 1;
}

/* `layerc trian m.lyr d.csv`: a first word that is no file and no path, and
 * is followed by more arguments, was meant as a command. */
static int looks_like_command(const char *a)
{
    struct stat st;
    if (!*a || stat(a, &st) == 0) return 0;
    for (const char *p = a; *p; p++)
        if (!(*p >= 'a' && *p <= 'z') && !(*p >= 'A' && *p <= 'Z') && *p != '-' && *p != '_') return 0;
    return a[0] != '-';
}

static int check_training_options(const Options *o);

static int parse_args(int argc, char **argv, Options *o)
{
    static const char *const cmds[] = { "train", "eval", "predict", "check", "graph", "summary", "export", "trace",
                                        "import", "compile" };
    memset(o, 0, sizeof *o);
    o->cmd = "compile";
    o->over = (TrainOverrides){ .lr = -1, .batch = 0, .epochs = -1, .seed = -1 };
    o->rows = 3;
    int i = 1;
    if (argc > 1)
        for (size_t k = 0; k < sizeof cmds / sizeof *cmds; k++)
            if (!strcmp(argv[1], cmds[k])) o->cmd = cmds[k], i = 2;
    if (i == 1 && argc > 1 && looks_like_command(argv[1])) {
        const char *s = closest_name(argv[1], cmds, (int)(sizeof cmds / sizeof *cmds));
        if (s) return usage_error("unknown command '%s'; did you mean '%s'?", argv[1], s);
        return usage_error("unknown command '%s' (the commands: train, eval, predict, check, graph, "
                           "summary, export; or a model file to compile)", argv[1]);
    }
    for (; i < argc; i++) {
        const char *a = argv[i];
        if (a[0] != '-' || !strcmp(a, "-")) {
            if (!o->model) o->model = a;
            else if (!o->data) o->data = a;
            else return usage_error("unexpected argument '%s'", a);
            continue;
        }
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            put_stdout(usage);   /* longer than stdio's buffer: the write fails here */
            exit(finish_stdout(0));
        }
        if (!strcmp(a, "--version")) {
            printf("layerc %s\n%s\n", LAYERC_VERSION, lc_dispatch_describe());
            exit(finish_stdout(0));
        }
        if (!strcmp(a, "--inference")) { o->inference = 1; continue; }
        if (!strcmp(a, "--qat")) { o->qat = 1; continue; }
        if (!strcmp(a, "--fuse-update")) { o->fuse_update = 1; continue; }
        if (!strcmp(a, "--quiet") || !strcmp(a, "-q")) { o->quiet = 1; continue; }
        if (!strcmp(a, "--backward")) { o->backward = o->trace_opts = 1; continue; }
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
            "--threads", "--prefix", "--target", "--plot", "--rows", "--format", "--onnx", "--validate",
            "--early-stop", "--truth", "--optimizer", "--quantize", "--calibrate" };
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
        else if (!strcmp(name, "--calibrate")) o->calibrate = val;
        else if (!strcmp(name, "--quantize")) {
            if (strcmp(val, "int8")) return usage_error("--quantize takes int8, not '%s'", val);
            o->quantize = val;
        }
        else if (!strcmp(name, "--target")) {
            if (!strcmp(val, "host")) o->target = TARGET_HOST;
            else if (!strcmp(val, "mcu")) o->target = TARGET_MCU;
            else return usage_error("--target takes host or mcu, not '%s'", val);
        } else if (!strcmp(name, "--prefix")) {
            if (!is_c_identifier(val))
                return usage_error("--prefix takes a C identifier (letters, digits, _; at most 64), not '%s'", val);
            o->prefix = val;
        } else if (!strcmp(name, "--plot")) o->plot = val;
        else if (!strcmp(name, "--format")) {
            if (strcmp(val, "md") && strcmp(val, "text")) return usage_error("--format takes md or text, not '%s'", val);
            o->markdown = !strcmp(val, "md"), o->trace_opts = 1;
        } else if (!strcmp(name, "--rows")) {
            if (!parse_long(val, 1, 1000000, &n)) return usage_error("--rows takes a whole number >= 1, not '%s'", val);
            o->rows = (int)n, o->trace_opts = 1;
        }
        else if (!strcmp(name, "--onnx")) o->onnx = val;
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
        } else if (!strcmp(name, "--optimizer")) {
            char err[512];
            if (!optim_parse(val, &o->over.opt, err, sizeof err)) return usage_error("%s", err);
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
    int needs_data = !strcmp(o->cmd, "train") || !strcmp(o->cmd, "eval") || !strcmp(o->cmd, "predict") ||
                     !strcmp(o->cmd, "trace");
    if (needs_data && !o->data) return usage_error("'layerc %s' needs a data file: layerc %s MODEL.lyr DATA", o->cmd, o->cmd);
    if (!needs_data && o->data) return usage_error("unexpected argument '%s'", o->data);
    if (!strcmp(o->cmd, "compile") && !o->out)
        return usage_error("%s", "no output: give -o model.c (or -o - for standard output)");
    if (!strcmp(o->cmd, "graph") && !o->out)
        return usage_error("%s", "no output: give -o graph.dot (or .svg, .png)");
    if (o->test_labels && !o->test) return usage_error("%s", "--test-labels goes with --test");
    if (o->fuse_update && ((strcmp(o->cmd, "compile") && strcmp(o->cmd, "summary")) || o->inference))
        return usage_error("%s", "--fuse-update goes with writing C that trains (not --inference)");
    if (o->target == TARGET_MCU && o->threads > 1)
        return usage_error("%s", "--target mcu kernels run on one thread: drop --threads");
    if (!strcmp(o->cmd, "train") && o->save_every && !o->save)
        return usage_error("%s", "--save-every goes with --save FILE");
    if (strcmp(o->cmd, "trace") && o->trace_opts)
        return usage_error("%s", "--rows, --backward and --format go with 'layerc trace'");
    if (o->plot && strcmp(o->cmd, "train")) return usage_error("%s", "--plot goes with 'layerc train'");
    if (o->plot && !plot_format_known(o->plot))
        return usage_error("cannot draw '%s': the picture is a .svg or a .png", o->plot);
    if (o->plot && o->log && !strcmp(o->plot, o->log)) return usage_error("%s", "--plot and --log name the same file");
    if (!strcmp(o->cmd, "export") && (!o->weights || (!o->npz && !o->onnx)))
        return usage_error("%s", "'layerc export' needs --weights FILE and --npz FILE or --onnx FILE");
    if (strcmp(o->cmd, "export") && strcmp(o->cmd, "import") && o->npz)
        return usage_error("%s", "--npz goes with 'layerc export' or 'layerc import'");
    if (strcmp(o->cmd, "export") && o->onnx) return usage_error("%s", "--onnx goes with 'layerc export'");
    if (o->quantize && strcmp(o->cmd, "compile") && strcmp(o->cmd, "eval"))
        return usage_error("%s", "--quantize goes with writing C (-o) and 'layerc eval'");
    if (o->calibrate && !o->quantize && !o->qat) return usage_error("%s", "--calibrate goes with --quantize int8 and --qat");
    if (o->qat && strcmp(o->cmd, "train")) return usage_error("%s", "--qat goes with 'layerc train'");
    if (o->qat && !o->weights)
        return usage_error("%s", "--qat fine-tunes a trained model: give its weights (--weights W)");
    if (o->quantize && (!o->weights || !o->calibrate))
        return usage_error("%s", "--quantize int8 needs the trained weights (--weights W) and data to "
                           "calibrate on (--calibrate DATA)");
    if (o->quantize && (o->fuse_update || o->threads > 1 || o->target == TARGET_MCU))
        return usage_error("%s", "--quantize int8 writes one kind of C: drop --fuse-update, --threads and --target");
    if (!strcmp(o->cmd, "import") && !o->out)
        return usage_error("%s", "no output: give -o model.lyr (or -o - for standard output)");
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

/* `-o -`, and -o naming a device or FIFO (/dev/stdout, /dev/null) without
 * -H: header and source go out as one stream, as a C file that stands alone
 * (there is no "beside it" for a device's header). */
static int compile_to_one_stream(const Options *o)
{
    struct stat st;
    if (!strcmp(o->out, "-")) return 1;
    if (o->header) return 0;
    char *target = lc_output_target(o->out);
    int device = target && stat(target, &st) == 0 && !S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode);
    free(target);
    return device;
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

static int load_weights_into(const char *path, const Model *m, float *params)
{
    char err[1024];
    LcTensorInfo *t = model_tensor_table(m);
    int ok = lc_params_load(path, t, m->nweights, params, m->nparams, err, sizeof err);
    free(t);
    if (!ok) fprintf(stderr, "%s\n", err);
    return ok;
}

/* The whole of a regular file that exists, or NULL (*n = 0) when there is
 * none (a device or a FIFO is not read: there is nothing to put back). */
static char *read_whole(const char *path, size_t *n)
{
    struct stat st;
    char *b = NULL;
    size_t cap = 0;
    *n = 0;
    if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) return NULL;
    FILE *f = fopen(path, "rb");
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
    char *old = read_whole(hpath, &old_len), ignored[256], *target = lc_output_target(hpath);
    struct stat st;
    int existed = target && lstat(target, &st) == 0;
    lc_signals_hold();   /* a signal between the two files waits for the second */
    int ok = lc_write_atomic(hpath, h, strlen(h), err, errlen);
    if (ok && !lc_write_atomic(cpath, c, strlen(c), err, errlen)) {
        if (old) lc_write_atomic(hpath, old, old_len, ignored, sizeof ignored);
        else if (!existed && target) unlink(target);
        ok = 0;
    }
    lc_signals_release();
    free(old);
    free(target);
    return ok;
}

/* `layerc export`: the weights of --weights as the NumPy archive --npz,
 * and/or the model with them as the ONNX file --onnx. */
static int cmd_export(const Options *o, Front *f)
{
    const Model *m = f->model;
    char err[1024];
    float *params = xcalloc((size_t)(m->nparams ? m->nparams : 1), sizeof(float));
    int status = EXIT_INPUT;
    if (load_weights_into(o->weights, m, params)) {
        LcTensorInfo *t = model_tensor_table(m);
        status = 0;
        if (o->npz && !lc_npz_save(o->npz, t, m->nweights, params, err, sizeof err)) status = EXIT_INPUT;
        else if (o->onnx && !onnx_export(m, params, f->src.path, o->onnx, err, sizeof err)) status = EXIT_INPUT;
        if (status) fprintf(stderr, "%s\n", err);
        free(t);
    }
    free(params);
    return status;
}

static int load_data(const char *path, const char *labels, const char *labels_option, const Model *m,
                     const Options *o, int truth_optional, LcData *d);

/* Writes a compile's header h and source c: to -o and -H, or as one stream
 * (-o -, a device) of the header and the source from `body` on (its own
 * #include of the header left out).  Returns 0, or EXIT_INPUT after a
 * message. */
static int write_compiled(const Options *o, const char *hpath, const char *h, const char *c,
                          const char *body_marker)
{
    char err[1024];
    int ok = 1;
    if (compile_to_one_stream(o)) {
        const char *body = strstr(c, body_marker);
        if (!body) body = c;
        if (!strcmp(o->out, "-")) {
            put_stdout(h);
            put_stdout(body);
        } else {
            size_t hl = strlen(h), bl = strlen(body);
            char *all = xmalloc(hl + bl + 1);
            memcpy(all, h, hl);
            memcpy(all + hl, body, bl + 1);
            ok = lc_write_atomic(o->out, all, hl + bl, err, sizeof err);
            free(all);
        }
    } else {
        ok = write_pair(hpath, h, o->out, c, err, sizeof err);
    }
    if (!ok) fprintf(stderr, "%s\n", err);
    return ok ? 0 : EXIT_INPUT;
}

/* --quantize int8: the model with batchnorm folded (*mq), its weights
 * (*params, malloc'd) and each layer's range over --calibrate (*lo, *hi,
 * malloc'd); refused, with a message naming the layer, when an op has no
 * int8 form. */
static int int8_prepare(const Options *o, Front *f, const Model **mq, float **params, double **lo, double **hi)
{
    const Model *m = f->model;
    char err[4096];
    int folded = 0;
    *params = xcalloc((size_t)(m->nparams ? m->nparams : 1), sizeof(float));
    *lo = *hi = NULL;
    if (!load_weights_into(o->weights, m, *params)) return 0;
    *mq = fold_model(m, &f->arena, params, &folded);
    if (!qemit_supported(*mq, stderr)) return 0;
    LcData cal;
    Options plain = *o;
    plain.truth_input = plain.one_hot = 0;
    const char *cal_path = o->calibrate ? o->calibrate : o->data;
    if (!load_data(cal_path, NULL, o->calibrate ? "--calibrate" : "--labels", m, &plain, 1, &cal)) return 0;
    *lo = xcalloc((size_t)(*mq)->nlayers, sizeof(double));
    *hi = xcalloc((size_t)(*mq)->nlayers, sizeof(double));
    int ok = calib_ranges(*mq, *params, cal.x, cal.n, f->src.path, *lo, *hi, err, sizeof err);
    if (!ok) fprintf(stderr, "%s: error: calibrating on %s: %s\n", f->src.path, cal_path, err);
    else if (cal.n < 1) fprintf(stderr, "%s: error: no samples to calibrate on\n", cal_path), ok = 0;
    lc_data_free(&cal);
    return ok;
}

/* `layerc m.lyr --weights W --quantize int8 --calibrate DATA -o m.c` */
static int compile_int8(const Options *o, Front *f)
{
    const Model *m;
    float *params;
    double *lo, *hi;
    int status = EXIT_INPUT;
    if (int8_prepare(o, f, &m, &params, &lo, &hi)) {
        char *hpath = o->header ? xstrdup(o->header) : header_path(o->out);
        QuantOptions qo = { params, lo, hi, base_name(hpath), f->src.path, o->calibrate, 0 };
        char *h = qemit_header(m, &qo), *c = qemit_source(m, &qo);
        status = write_compiled(o, hpath, h, c, "\n#include <stddef.h>");
        free(h), free(c), free(hpath);
    }
    free(params), free(lo), free(hi);
    return status;
}

/* The model a compile with these options writes, and its baked weights
 * (--weights; NULL without): what `layerc summary` describes too.  Returns
 * 0, or an exit status after a message. */
static int build_model(const Options *o, Front *f, const Model **model, float **baked_out)
{
    const Model *m = f->model;
    float *baked = NULL;
    for (int i = 0; o->fuse_update && i < m->nweights; i++)
        if (weight_trainable(&m->weights[i]) && m->weights[i].uses > 1) {
            fprintf(stderr, "%s:%d: error: --fuse-update steps a weight right after the backward block "
                    "of the layer that reads it, but %s is read by %d layers\n", f->src.path,
                    m->weights[i].loc.line, m->weights[i].name, m->weights[i].uses);
            return EXIT_INPUT;
        }
    if (o->weights) {
        baked = xcalloc((size_t)(m->nparams ? m->nparams : 1), sizeof(float));
        if (!load_weights_into(o->weights, m, baked)) {
            free(baked);
            return EXIT_INPUT;
        }
    }
    /* baked for inference: batchnorm and the like fold into the layer before them */
    int folded = 0;
    if (baked && o->inference) m = fold_model(m, &f->arena, &baked, &folded);
    *model = m, *baked_out = baked;
    return 0;
}

static int cmd_summary(const Options *o, Front *f)
{
    const Model *m;
    float *baked;
    int status = build_model(o, f, &m, &baked);
    if (status) return status;
    EmitOptions eo = { .inference = o->inference, .baked = baked, .threads = o->threads, .target = o->target,
                       .fuse_update = o->fuse_update };
    Build b = emit_build(m, &eo);
    status = tool_summary(m, &b, stdout);
    free(baked);
    return status;
}

static int cmd_compile(const Options *o, Front *f)
{
    if (o->quantize) return compile_int8(o, f);
    const Model *m;
    float *baked;
    int status = build_model(o, f, &m, &baked);
    if (status) return status;
    char *hpath = o->header ? xstrdup(o->header) : header_path(o->out);
    EmitOptions eo = { .inference = o->inference, .baked = baked, .header = base_name(hpath),
                       .source_name = f->src.path, .threads = o->threads, .target = o->target,
                       .fuse_update = o->fuse_update };
    char *h = emit_header(m, &eo), *c = emit_source(m, &eo);
    status = write_compiled(o, hpath, h, c, "\n#include <math.h>");
    free(h), free(c);
    free(hpath);
    free(baked);
    return status;
}

/* Loads DATA (or --test) for the model, with --one-hot and --truth input
 * applied; a message and 0 when it does not fit.  labels_option names the
 * option that gives labels (for messages). */
static int load_data(const char *path, const char *labels, const char *labels_option, const Model *m,
                     const Options *o, int truth_optional, LcData *d)
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
    LcDataSpec spec = { .in = in, .out = out, .classes = classes,
                        .truth_optional = truth_optional || o->truth_input || maybe_autoencoder,
                        .labels_option = labels_option,
                        .one_hot_hint = !strcmp(o->cmd, "train") || !strcmp(o->cmd, "eval") };
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
        if (classes)
            fprintf(stderr, "%s: error: no truth: the samples hold their %d inputs alone; a classifier needs the "
                    "class of each: --labels FILE for IDX images, or the class index after the inputs of each CSV "
                    "row (give --truth input if the model is an autoencoder)\n", path, in);
        else
            fprintf(stderr, "%s: error: no truth: the samples hold their %d inputs alone; give --truth input for an "
                    "autoencoder (the truth is the input), or the truth: --labels FILE for IDX images, the %d "
                    "truth values after the inputs of each CSV row\n", path, in, out);
        lc_data_free(d);
        return 0;
    }
    return 1;
}

/* `layerc trace`: the first rows of DATA through every layer (trace.h). */
static int cmd_trace(const Options *o, Front *f)
{
    const Model *m = f->model;
    LcData data;
    float *w = NULL;
    int status = EXIT_INPUT;
    if (!load_data(o->data, o->labels, "--labels", m, o, 1, &data)) return EXIT_INPUT;
    if (o->weights) w = xcalloc((size_t)(m->nparams ? m->nparams : 1), sizeof(float));
    if (!w || load_weights_into(o->weights, m, w)) {
        TraceOptions t = { o->rows, o->markdown, o->backward, o->data, o->weights };
        status = trace_model(m, f->src.path, &data, w, &t, stdout);
    }
    free(w);
    lc_data_free(&data);
    return status;
}

/* What "accuracy" means for this model and data. */
static LcMetric choose_metric(const Model *m, const Options *o, const LcData *d)
{
    if (o->truth_input) return LC_METRIC_RECONSTRUCTION;
    if (o->one_hot) return LC_METRIC_ARGMAX;
    if (m->loss->metric == METRIC_THRESHOLD && lc_prep_one_hot_rows(d)) return LC_METRIC_ARGMAX;
    return model_metric(m);
}

/* `layerc train`, with --validate taken out of the data first. */
static int run_training(const Options *o, Front *f, RunModel *r, LcData *data, const LcData *test,
                        const char *log)
{
    const Model *m = f->model;
    char err[4096], out_name[512];
    LcData val;
    memset(&val, 0, sizeof val);
    if (o->validate && !lc_prep_split(data, o->validate, m->train.seed, &val, o->data, err, sizeof err)) {
        fprintf(stderr, "%s\n", err);
        return EXIT_INPUT;
    }
    stdout_name(out_name, sizeof out_name);
    LcTrainReport report;
    LcTrainOptions t = { m->train.epochs, m->train.seed, m->train.shuffle, test,
                         log, o->save, o->save_every, r->tensors, r->ntensors,
                         !o->quiet && isatty(2), stdout, out_name, o->validate ? &val : NULL, o->early_stop,
                         &report };
    int lead = lc_dist_rank() == 0, status = 0;   /* [MPI] rank 0 alone prints */
    if (lead) {
        printf("training %s on %d samples", m->name, data->n);
        if (o->validate) printf(" (%d more held out for validation)", val.n);
        printf(": %d epochs, batch %d, %s lr %g%s%s\n", t.epochs, m->train.batch, m->train.opt.def->name,
               optim_lr(&m->train.opt), m->train.schedule.def ? ", schedule " : "",
               m->train.schedule.def ? schedule_text(&m->train.schedule, &f->arena) : "");
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

/* eval --quantize int8: the int8 C through the JIT on the same data,
 * beside the float figures of fl */
static int eval_int8(const Options *o, Front *f, const LcData *d, LcMetric metric, const LcEval *fl)
{
    const Model *m;
    float *params;
    double *lo, *hi;
    char err[4096];
    int status = EXIT_INPUT;
    if (int8_prepare(o, f, &m, &params, &lo, &hi)) {
        QuantOptions qo = { params, lo, hi, NULL, f->src.path, o->calibrate, 1 };
        QEval q;
        long flash, ram;
        if (!qrun_evaluate(m, &qo, d, metric, &q, err, sizeof err)) {
            fprintf(stderr, "%s: error: %s\n", f->src.path, err);
        } else {
            qemit_sizes(m, &qo, &flash, &ram);
            const char *acc = lc_accuracy_name(metric, fl->outputs);
            if (acc && metric != LC_METRIC_RECONSTRUCTION)
                printf("int8 (calibrated on %s): %s %.2f%% (%ld of %ld), float %.2f%%\n", o->calibrate, acc,
                       100 * q.accuracy, q.correct, q.n, 100 * fl->accuracy);
            else
                printf("int8 (calibrated on %s): MSE %.6g per value\n", o->calibrate, q.mse);
            printf("int8 C: %ld bytes of constant tables, %ld bytes of state (batch 1)\n", flash, ram);
            status = 0;
        }
    }
    free(params), free(lo), free(hi);
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
    if (!load_data(o->data, o->labels, "--labels", m, o, predict, &data)) return EXIT_INPUT;
    if (o->test) {
        if (!load_data(o->test, o->test_labels, "--test-labels", m, o, 0, &test)) {
            lc_data_free(&data);
            return EXIT_INPUT;
        }
        have_test = 1;
    }
    FakeQuant *fake = NULL;
    if (o->qat) {   /* --qat: the rounding of the int8 build, its ranges from the weights given */
        const Model *mq;
        float *params;
        double *lo, *hi;
        int ok = int8_prepare(o, f, &mq, &params, &lo, &hi);
        if (ok) {
            QuantOptions qo = { params, lo, hi, NULL, f->src.path, o->calibrate ? o->calibrate : o->data, 0 };
            fake = xcalloc((size_t)m->nlayers, sizeof *fake);
            qemit_fake_quant(m, mq, &qo, fake);
            int k = 0;
            for (int i = 0; i < m->nlayers; i++) k += fake[i].scale > 0;
            printf("quantisation-aware: the int8 rounding of %d layer output%s, ranges from %s\n", k,
                   k == 1 ? "" : "s", o->calibrate ? o->calibrate : o->data);
        }
        free(params), free(lo), free(hi);
        if (!ok) {
            lc_data_free(&data), lc_data_free(&test);
            return EXIT_INPUT;
        }
    }
    int opened = run_model_open_fake(&r, m, f->src.path, fake, err, sizeof err);
    free(fake);
    if (!opened) {
        fprintf(stderr, "%s: error: %s\n", f->src.path, err);
        lc_data_free(&data), lc_data_free(&test);
        return EXIT_INPUT;
    }
    char *temp_log = o->plot && !o->log ? plot_temp_log() : NULL;   /* --plot draws a log */
    const char *log = temp_log ? temp_log : o->log;
    r.net.metric = choose_metric(m, o, &data);
    if (o->weights && !load_weights_into(o->weights, m, r.net.params)) status = EXIT_INPUT;
    else if (o->plot && !log) {
        fprintf(stderr, "layerc: error: --plot needs a log, and no temporary file can be made: give --log FILE\n");
        status = EXIT_INPUT;
    } else if (!strcmp(o->cmd, "train")) {
        status = run_training(o, f, &r, &data, have_test ? &test : NULL, log);
        if (!status && o->plot && lc_dist_rank() == 0) {
            status = plot_logs(&log, 1, o->plot);
            if (!status) printf("drew the curves in %s\n", o->plot);
        }
    } else if (!strcmp(o->cmd, "eval")) {
        LcEval ev;
        if (!data.y) {
            fprintf(stderr, "%s: error: no truth values to evaluate against\n", o->data);
            status = EXIT_INPUT;
        } else {
            lc_evaluate(&r.net, &data, 1, &ev);
            if (lc_dist_rank() == 0) lc_print_eval(stdout, &ev, r.net.metric);   /* [MPI] */
            if (o->quantize) status = eval_int8(o, f, &data, r.net.metric, &ev);
            free(ev.confusion);
        }
    } else if (!lc_predict(&r.net, &data, stdout)) {
        status = stdout_failed();
    }
    if (temp_log) unlink(temp_log);
    free(temp_log);
    run_model_close(&r);
    lc_data_free(&data);
    lc_data_free(&test);
    return status;
}

/* Every input and output of the command line, before anything is read or
 * written: an output never replaces an input or another output, and every
 * output can be written before hours of training. */
static int check_paths(const Options *o)
{
    int compile = !strcmp(o->cmd, "compile"), graph = !strcmp(o->cmd, "graph");
    const char *out = (compile || graph) && o->out && strcmp(o->out, "-") ? o->out : NULL;
    char *header = compile && out && !compile_to_one_stream(o) ? (o->header ? xstrdup(o->header) : header_path(out))
                                                                : NULL;
    PathUse in[] = { { "the model file", o->model }, { "the data file", o->data },
                     { "the labels file (--labels)", o->labels }, { "the test data (--test)", o->test },
                     { "the test labels (--test-labels)", o->test_labels }, { "the weights (--weights)", o->weights },
                     { "the calibration data (--calibrate)", o->calibrate } };
    PathUse outs[] = { { "-o", out }, { o->header ? "-H" : "the header", header }, { "--save", o->save },
                       { "--log", o->log }, { "--npz", o->npz }, { "--onnx", o->onnx } };
    int status = paths_check(in, (int)(sizeof in / sizeof *in), outs, (int)(sizeof outs / sizeof *outs));
    free(header);
    return status;
}

int main(int argc, char **argv)
{
    Options o;
    if (argc > 1 && !strcmp(argv[1], "plot")) return plot_command(argc - 2, argv + 2);
    int status = parse_args(argc, argv, &o);
    if (status) return status;
    if (!strcmp(o.cmd, "import")) {
        int to_stdout = !strcmp(o.out, "-");
        char *lyw = o.npz || to_stdout ? NULL : onnx_weights_path(o.out);
        PathUse in[] = { { "the ONNX file", o.model } };
        PathUse outs[] = { { "-o", to_stdout ? NULL : o.out }, { "--npz", o.npz }, { "the weights", lyw } };
        status = paths_check(in, 1, outs, 3);
        free(lyw);
        return status ? status : onnx_import(o.model, o.out, o.npz);
    }
    lc_dist_init(&argc, &argv);   /* [MPI] under mpirun (make MPI=1); else nothing */
    lc_catch_signals();
    status = check_paths(&o);
    if (status) return lc_dist_exit(status);
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
    /* an inference build holds one sample unless --batch says otherwise */
    if ((o.inference || (o.quantize && !strcmp(o.cmd, "compile"))) && !o.over.batch) f.model->train.batch = 1;
    if (o.prefix) f.model->name = o.prefix;
    if (!strcmp(o.cmd, "compile")) status = cmd_compile(&o, &f);
    else if (!strcmp(o.cmd, "check")) {
        GradCheckOptions g = { f.model->train.seed, o.check_all };
        int r = gradcheck_run(f.model, f.src.path, &g, stdout, err, sizeof err);
        if (r < 0) fprintf(stderr, "%s: error: %s\n", f.src.path, err);
        status = r == 1 ? 0 : EXIT_INPUT;
    } else if (!strcmp(o.cmd, "graph")) status = tool_graph(f.model, f.src.path, o.out);
    else if (!strcmp(o.cmd, "summary")) status = cmd_summary(&o, &f);
    else if (!strcmp(o.cmd, "export")) status = cmd_export(&o, &f);
    else if (!strcmp(o.cmd, "trace")) status = cmd_trace(&o, &f);   /* one thread: no pool */
    else {
        /* [threads] the kernels' pool, before any code is emitted: all the cores
         * (shared among the ranks under MPI) unless --threads says otherwise */
        int cores = lc_cpu_count() / lc_dist_size();
        lc_pool_init(o.threads ? o.threads : cores > 1 ? cores : 1);
        status = cmd_run(&o, &f);
    }
    front_free(&f);
    status = finish_stdout(status);
    return lc_dist_exit(status);   /* [MPI] finalize; a non-zero status aborts every rank */
}
