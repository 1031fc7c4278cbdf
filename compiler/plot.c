/* plot.c: training curves with gnuplot (plot.h). */
#include "plot.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "arena.h"
#include "diag.h"
#include "text.h"
#include "files.h"

/* The columns a plot uses, by their names in the log's header. */
enum { C_EPOCH, C_TRAIN_LOSS, C_TRAIN_ACC, C_TEST_LOSS, C_TEST_ACC, NCOLS };
static const char *const column_names[NCOLS] = { "epoch", "train_loss", "train_accuracy", "test_loss",
                                                 "test_accuracy" };

typedef struct {
    const char *path;
    int n, cap;
    double *v;          /* n rows of NCOLS, NAN where a cell is empty */
    int has[NCOLS];     /* some row has a value in the column */
} Log;

static int log_fail(const char *path, int line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int log_fail(const char *path, int line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (line) fprintf(stderr, "%s:%d: error: ", path, line);
    else fprintf(stderr, "%s: error: ", path);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return 0;
}

/* Splits a line at commas in place; returns the number of fields. */
static int split(char *s, char **field, int most)
{
    int n = 0;
    for (;;) {
        if (n < most) field[n] = s;
        n++;
        char *c = strchr(s, ',');
        if (!c) return n;
        *c = '\0';
        s = c + 1;
    }
}

static int parse_header(const char *path, char *line, int *col_of, int *nfields)
{
    char *field[64];
    int n = split(line, field, 64);
    if (n > 64) return log_fail(path, 1, "%d columns: not a layerc training log", n);
    for (int c = 0; c < NCOLS; c++) col_of[c] = -1;
    for (int k = 0; k < n; k++)
        for (int c = 0; c < NCOLS; c++)
            if (!strcmp(field[k], column_names[c])) col_of[c] = k;
    if (col_of[C_EPOCH] < 0 || col_of[C_TRAIN_LOSS] < 0)
        return log_fail(path, 1, "not a layerc training log: the header has no epoch and train_loss "
                        "columns (layerc train --log writes epoch,train_loss,train_accuracy,...)");
    *nfields = n;
    return 1;
}

static int parse_row(Log *g, int lineno, char *line, const int *col_of, int nfields)
{
    char *field[64];
    int n = split(line, field, 64);
    if (n != nfields)
        return log_fail(g->path, lineno, "%d fields, but the header has %d", n, nfields);
    if (g->n == g->cap) {
        g->cap = g->cap ? 2 * g->cap : 64;
        g->v = xrealloc(g->v, sizeof(double) * NCOLS * (size_t)g->cap);
    }
    double *row = g->v + (size_t)g->n * NCOLS;
    for (int c = 0; c < NCOLS; c++) {
        row[c] = NAN;
        if (col_of[c] < 0) continue;
        const char *s = field[col_of[c]];
        if (!*s) {
            if (c == C_EPOCH || c == C_TRAIN_LOSS)
                return log_fail(g->path, lineno, "the %s column is empty", column_names[c]);
            continue;
        }
        char *end;
        errno = 0;
        double v = strtod(s, &end);
        if (errno || end == s || *end || !isfinite(v))
            return log_fail(g->path, lineno, "'%s' is not a number (column %s)", s, column_names[c]);
        row[c] = v;
        g->has[c] = 1;
    }
    if (g->n && !(row[C_EPOCH] > g->v[(size_t)(g->n - 1) * NCOLS + C_EPOCH]))
        return log_fail(g->path, lineno, "epoch %g after epoch %g: the epochs must increase", row[C_EPOCH],
                        g->v[(size_t)(g->n - 1) * NCOLS + C_EPOCH]);
    g->n++;
    return 1;
}

static int read_log(Log *g, const char *path)
{
    memset(g, 0, sizeof *g);
    g->path = path;
    struct stat st;
    FILE *f = fopen(path, "r");
    if (!f) return log_fail(path, 0, "cannot open: %s", strerror(errno));
    if (fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) {
        fclose(f);
        return log_fail(path, 0, "is a directory, not a training log");
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    int lineno = 0, ok = 1, have_header = 0, nfields = 0, col_of[NCOLS];
    while (ok && (len = getline(&line, &cap, f)) >= 0) {
        lineno++;
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r')) line[--len] = '\0';
        if (len == 0) continue;
        if ((size_t)len != strlen(line)) ok = log_fail(path, lineno, "a NUL byte: not a text file");
        else if (!have_header) ok = have_header = parse_header(path, line, col_of, &nfields);
        else ok = parse_row(g, lineno, line, col_of, nfields);
    }
    if (ok && ferror(f)) ok = log_fail(path, 0, "cannot read: %s", strerror(errno));
    free(line);
    fclose(f);
    if (ok && !have_header) ok = log_fail(path, 0, "empty: not a layerc training log");
    else if (ok && !g->n) ok = log_fail(path, 0, "no epochs in the log");
    if (!ok) free(g->v);
    return ok;
}

/* ---- the gnuplot script ---- */

/* A gnuplot string in single quotes, where '' is a quote. */
static void add_quoted(Text *t, const char *s)
{
    text_addf(t, "'");
    for (; *s; s++) text_addf(t, *s == '\'' ? "''" : "%c", *s);
    text_addf(t, "'");
}

/* The legend's name of a log: its file name without .csv, or its path
 * when two logs share a file name. */
static const char *log_label(const Log *logs, int n, int i, char *buf, size_t len)
{
    const char *p = logs[i].path, *base = strrchr(p, '/');
    base = base ? base + 1 : p;
    snprintf(buf, len, "%s", base);
    size_t k = strlen(buf);
    if (k > 4 && !strcmp(buf + k - 4, ".csv")) buf[k - 4] = '\0';
    for (int j = 0; j < n; j++) {
        const char *q = strrchr(logs[j].path, '/');
        if (j != i && !strcmp(q ? q + 1 : logs[j].path, base)) {
            snprintf(buf, len, "%s", p);
            break;
        }
    }
    return buf;
}

static const char *const colours[] = { "#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b",
                                       "#e377c2", "#17becf" };

/* One panel: column c (train) and c + 2 (test) of every log. */
static void add_panel(Text *t, const Log *logs, int n, int c, const char *what, double scale)
{
    int first = 1;
    char label[512];
    text_addf(t, "set title '%s per epoch'\nset ylabel '%s'\nplot ", what, scale == 1 ? what : "accuracy (%)");
    for (int i = 0; i < n; i++)
        for (int test = 0; test < 2; test++) {
            int col = c + 2 * test;
            if (!logs[i].has[col]) continue;
            char title[700];
            snprintf(title, sizeof title, "%s%s%s %s", n > 1 ? log_label(logs, n, i, label, sizeof label) : "",
                     n > 1 ? ": " : "", test ? "test" : "train", what);
            text_addf(t, "%s$log%d using 1:($%d*%g) with linespoints lw 2 pt 7 ps 0.6 lc rgb '%s' dt %d title ",
                 first ? "" : ", \\\n     ", i, col + 1, scale, colours[i % 8], test ? 2 : 1);
            add_quoted(t, title);
            first = 0;
        }
    text_addf(t, "\n");
}

static char *script(const Log *logs, int n, const char *format, const char *picture)
{
    Text t = { NULL, 0, 0 };
    int acc = 0;
    double last = 0;
    for (int i = 0; i < n; i++) {
        acc |= logs[i].has[C_TRAIN_ACC] || logs[i].has[C_TEST_ACC];
        last = fmax(last, logs[i].v[(size_t)(logs[i].n - 1) * NCOLS + C_EPOCH]);
    }
    if (!strcmp(format, "svg")) text_addf(&t, "set terminal svg size 800,%d dynamic noenhanced font 'Helvetica,12' "
                                         "background '#ffffff'\n", acc ? 720 : 400);
    else text_addf(&t, "set terminal pngcairo size 800,%d noenhanced font 'Sans,10' background '#ffffff'\n",
              acc ? 720 : 400);
    text_addf(&t, "set output ");
    add_quoted(&t, picture);
    text_addf(&t, "\n");
    for (int i = 0; i < n; i++) {
        text_addf(&t, "$log%d << EOD\n", i);
        for (int r = 0; r < logs[i].n; r++) {
            for (int c = 0; c < NCOLS; c++) {
                double v = logs[i].v[(size_t)r * NCOLS + (size_t)c];
                text_addf(&t, isnan(v) ? "%sNaN" : "%s%.9g", c ? " " : "", v);
            }
            text_addf(&t, "\n");
        }
        text_addf(&t, "EOD\n");
    }
    text_addf(&t, "set grid\nset key top right opaque\nset xlabel 'epoch'\nset format x '%%g'\n");
    if (last <= 20) text_addf(&t, "set xtics 1\n");
    if (acc) text_addf(&t, "set multiplot layout 2,1\n");
    add_panel(&t, logs, n, C_TRAIN_LOSS, "loss", 1);
    if (acc) {
        text_addf(&t, "set key bottom right opaque\n");
        add_panel(&t, logs, n, C_TRAIN_ACC, "accuracy", 100);
        text_addf(&t, "unset multiplot\n");
    }
    return t.buf;
}

/* ---- running gnuplot ---- */

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *b = NULL;
    size_t cap = 0;
    *len = 0;
    if (!f) return NULL;
    for (;;) {
        if (*len == cap) b = xrealloc(b, cap = cap ? 2 * cap : 65536);
        size_t got = fread(b + *len, 1, cap - *len, f);
        if (!got) break;
        *len += got;
    }
    fclose(f);
    return b;
}

/* Runs `gnuplot SCRIPT` with its messages into errs; 1 done, 0 failed,
 * -1 gnuplot is not installed. */
static int run_gnuplot(const char *script_path, const char *errs_path)
{
    pid_t pid = fork();
    if (pid == 0) {
        int fd = open(errs_path, O_WRONLY);
        if (fd >= 0) dup2(fd, 2), dup2(fd, 1);
        execlp("gnuplot", "gnuplot", script_path, (char *)NULL);
        _exit(127);
    }
    int status;
    if (pid < 0 || waitpid(pid, &status, 0) < 0 || !WIFEXITED(status)) return 0;
    if (WEXITSTATUS(status) == 127) return -1;
    return WEXITSTATUS(status) == 0;
}

int plot_format_known(const char *out_path)
{
    const char *ext = strrchr(out_path, '.');
    return ext && (!strcmp(ext, ".svg") || !strcmp(ext, ".png"));
}

int plot_logs(const char *const *paths, int n, const char *out_path)
{
    if (!plot_format_known(out_path)) {
        fprintf(stderr, "layerc: error: cannot draw '%s': the picture is a .svg or a .png\n", out_path);
        return 2;
    }
    Log *logs = xcalloc((size_t)n, sizeof *logs);
    int status = 1, loaded = 0;
    while (loaded < n && read_log(&logs[loaded], paths[loaded])) loaded++;
    char sp[] = "/tmp/layerc-plot-XXXXXX", pp[] = "/tmp/layerc-plot-out-XXXXXX",
         ep[] = "/tmp/layerc-plot-err-XXXXXX";
    int fs = -1, fp = -1, fe = -1;
    if (loaded < n) goto done;
    fs = mkstemp(sp), fp = mkstemp(pp), fe = mkstemp(ep);
    if (fs < 0 || fp < 0 || fe < 0) {
        fprintf(stderr, "layerc: error: cannot make a temporary file in /tmp: %s\n", strerror(errno));
        goto done;
    }
    char *text = script(logs, n, strrchr(out_path, '.') + 1, pp);
    int wrote = lc_write_all(fs, text, strlen(text)) == 0;
    free(text);
    int r = wrote ? run_gnuplot(sp, ep) : 0;
    size_t len = 0;
    char *pic = r > 0 ? read_file(pp, &len) : NULL, err[1024];
    if (r < 0) {
        fprintf(stderr, "layerc: error: drawing %s needs gnuplot, which is not installed "
                        "(apt-get install gnuplot-nox)\n", out_path);
    } else if (!r || !pic || !len) {
        size_t elen;
        char *msg = read_file(ep, &elen);
        fprintf(stderr, "layerc: error: gnuplot failed to draw %s%s%.*s\n", out_path, elen ? ":\n" : "",
                (int)elen, msg ? msg : "");
        free(msg);
    } else if (!lc_write_atomic(out_path, pic, len, err, sizeof err)) {
        fprintf(stderr, "%s\n", err);
    } else {
        status = 0;
    }
    free(pic);
done:
    if (fs >= 0) close(fs), unlink(sp);
    if (fp >= 0) close(fp), unlink(pp);
    if (fe >= 0) close(fe), unlink(ep);
    for (int i = 0; i < loaded; i++) free(logs[i].v);
    free(logs);
    return status;
}

char *plot_temp_log(void)
{
    char *p = xstrdup("/tmp/layerc-log-XXXXXX");
    int fd = mkstemp(p);
    if (fd < 0) {
        free(p);
        return NULL;
    }
    close(fd);
    return p;
}

/* ---- the command line ---- */

static const char plot_usage[] =
    "usage: layerc plot LOG.csv... -o curves.svg   (or .png)\n"
    "  the loss and the accuracy per epoch, training and test, of the logs\n"
    "  `layerc train --log LOG.csv` writes; several logs share one picture\n";

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int usage_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int status = usage_error_for("plot", fmt, ap);
    va_end(ap);
    return status;
}

static int same_file(const char *a, const char *b)
{
    struct stat sa, sb;
    return !strcmp(a, b) ||
           (stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino);
}

int plot_command(int argc, char **argv)
{
    const char **logs = xcalloc((size_t)argc + 1, sizeof *logs), *out = NULL;
    int n = 0, status = 0;
    for (int i = 0; i < argc && !status; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            fputs(plot_usage, stdout);
            free(logs);
            return 0;
        }
        if (!strcmp(a, "-o")) {
            if (i + 1 == argc) status = usage_error("%s", "option '-o' needs a value");
            else out = argv[++i];
        } else if (!strncmp(a, "-o", 2) && a[2]) {
            out = a + 2 + (a[2] == '=');
        } else if (a[0] == '-' && a[1]) {
            status = usage_error("unknown option '%s' for layerc plot", a);
        } else {
            logs[n++] = a;
        }
    }
    if (!status && !n) status = usage_error("%s", "no log given: layerc plot LOG.csv... -o curves.svg");
    else if (!status && !out) status = usage_error("%s", "no output: give -o curves.svg (or .png)");
    else if (!status && !plot_format_known(out))
        status = usage_error("cannot draw '%s': the picture is a .svg or a .png", out);
    for (int i = 0; i < n && !status; i++)
        if (same_file(out, logs[i])) status = usage_error("the output would overwrite the log %s", logs[i]);
    if (!status) status = plot_logs(logs, n, out);
    free(logs);
    return status;
}
