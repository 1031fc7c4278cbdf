/* data.c: CSV and IDX loaders (SPEC section 4).
 *
 * Every file goes through zlib's gz reader, which passes plain files through
 * untouched, so CSV and IDX may both be gzip-compressed.  Nothing is ever
 * allocated from a size a file announces: buffers grow with the bytes that
 * actually arrive, so a hostile header (2^32 images in a 100-byte file) fails
 * with "truncated" instead of exhausting memory.  Every error names the file
 * and the place, the way a compiler does.
 */
#define _POSIX_C_SOURCE 200809L

#include "data.h"

#include "files.h"

#include <errno.h>
#include <fcntl.h>
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#define CHUNK (1u << 20)            /* bytes per gzread */
#define IDX_MAX_DIMS 16             /* the magic's dimension byte allows 255 */

/* ------------------------------------------------------------------ errors */

/* A file's bytes are quoted in messages; control bytes would garble the
 * terminal, and a long field would drown the message. */
static void quote_text(char *dst, size_t dstlen, const char *s, const char *e)
{
    size_t max = 24, i = 0;
    if (dstlen < max + 4) max = dstlen > 4 ? dstlen - 4 : 0;
    for (; s < e && i < max; s++, i++) {
        unsigned char c = (unsigned char)*s;
        dst[i] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
    }
    if (s < e && dstlen >= 4) { memcpy(dst + i, "...", 3); i += 3; }
    if (dstlen) dst[i < dstlen ? i : dstlen - 1] = '\0';
}

/* ----------------------------------------------------------------- sources */

/* A file is opened once: a pipe or /dev/stdin cannot be read twice, so the
 * bytes that tell the format are handed back (source_unread) to the reader
 * of that format. */
typedef struct {
    const char *path;
    gzFile gz;
    long long file_size;    /* bytes on disk for a regular file, else -1 */
    uint64_t consumed;      /* decompressed bytes read so far */
    unsigned char back[2];  /* bytes handed back, read again first */
    size_t nback;
} Source;

static int source_open(Source *s, const char *path, char *err, size_t errlen)
{
    LcInput in;
    memset(s, 0, sizeof *s);
    s->path = path;
    if (!lc_input_open(&in, path, "data file", err, errlen)) return 0;
    s->file_size = in.size;
    s->gz = gzdopen(in.fd, "rb");
    if (!s->gz) {
        lc_input_close(&in);
        return lc_fail(err, errlen, "%s: error: out of memory", path);
    }
    gzbuffer(s->gz, 1u << 18);
    return 1;
}

static void source_close(Source *s)
{
    if (s->gz) gzclose(s->gz);
    s->gz = NULL;
}

/* zlib prefixes its messages with "<fd:N>: ", which means nothing to a user. */
static const char *gz_message(gzFile gz, int *errnum)
{
    const char *m = gzerror(gz, errnum);
    const char *colon = (m && m[0] == '<') ? strstr(m, ": ") : NULL;
    return colon ? colon + 2 : (m ? m : "");
}

static int source_error(Source *s, char *err, size_t errlen)
{
    int errnum = Z_OK;
    const char *m = gz_message(s->gz, &errnum);
    if (errnum == Z_ERRNO)
        return lc_fail(err, errlen, "%s: error: cannot read: %s", s->path, strerror(errno));
    if (errnum == Z_BUF_ERROR)
        return lc_fail(err, errlen, "%s: error: truncated gzip file (%s)", s->path, m);
    if (errnum == Z_MEM_ERROR)
        return lc_fail(err, errlen, "%s: error: out of memory", s->path);
    return lc_fail(err, errlen, "%s: error: corrupt gzip data (%s)", s->path, m);
}

/* Reads up to n bytes; *got < n only at the end of the data.  A damaged or
 * truncated gzip stream is an error, not an early end. */
static int source_read(Source *s, void *buf, size_t n, size_t *got,
                       char *err, size_t errlen)
{
    int errnum;
    *got = 0;
    for (; s->nback && *got < n; s->nback--) {
        ((unsigned char *)buf)[(*got)++] = s->back[0];
        s->back[0] = s->back[1];
    }
    while (*got < n) {
        size_t want = n - *got < CHUNK ? n - *got : CHUNK;
        int r = gzread(s->gz, (char *)buf + *got, (unsigned)want);
        if (r < 0) return source_error(s, err, errlen);
        if (r == 0) break;
        *got += (size_t)r;
    }
    s->consumed += *got;
    gz_message(s->gz, &errnum);
    if (errnum != Z_OK && errnum != Z_STREAM_END) return source_error(s, err, errlen);
    return 1;
}

/* The n <= 2 bytes just read go back, to be read again. */
static void source_unread(Source *s, const unsigned char *b, size_t n)
{
    memcpy(s->back, b, n);
    s->nback = n;
    s->consumed -= n;
}

/* Plain files only: bytes on disk not yet read, or -1 when unknown. */
static long long source_plain_remaining(const Source *s)
{
    if (s->file_size < 0 || !gzdirect(s->gz)) return -1;
    return s->file_size - (long long)s->consumed;
}

/* -------------------------------------------------------------- the spec */

static int check_spec(const char *path, const LcDataSpec *spec, char *err, size_t errlen)
{
    if (!spec || spec->in < 1 || spec->out < 0 || spec->classes < 0 ||
        (!spec->truth_optional && spec->out < 1) ||
        (spec->classes > 0 && spec->classes > spec->out) ||
        spec->in > INT_MAX / 2 || spec->out > INT_MAX / 2)
        return lc_fail(err, errlen, "%s: error: internal: bad data spec", path);
    return 1;
}

/* ----------------------------------------------------------------- numbers */

/* strtof costs ~50 ns a value, too slow for a 47-million-value CSV.  Most
 * values are short decimals: m / 10^k with m < 2^53 and k <= 22 is one
 * correctly rounded double division, and rounding that double to float gives
 * the correctly rounded float unless the double lies exactly halfway between
 * two floats (double rounding) -- then, and for anything unusual (exponents,
 * nan, inf, long mantissas, subnormals), strtof decides.  So the result is
 * bit-identical to strtof.  Needs double arithmetic done in double. */
#if defined(FLT_EVAL_METHOD) && (FLT_EVAL_METHOD == 0 || FLT_EVAL_METHOD == 1)
static const double pow10_exact[23] = {
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
    1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

static int is_float_midpoint(double d)
{
    uint64_t bits;
    memcpy(&bits, &d, sizeof bits);
    return (bits & 0x1fffffffu) == 0x10000000u;   /* 29 = 52 - 23 dropped bits */
}

static int parse_decimal_fast(const char *s, const char **end, float *v)
{
    const char *p = s;
    uint64_t m = 0;
    int digits = 0, frac = 0, neg = 0;
    double d;
    if (*p == '-' || *p == '+') neg = *p++ == '-';
    for (; *p >= '0' && *p <= '9'; p++, digits++) m = m * 10 + (uint64_t)(*p - '0');
    if (*p == '.')
        for (p++; *p >= '0' && *p <= '9'; p++, digits++, frac++) m = m * 10 + (uint64_t)(*p - '0');
    if (digits == 0 || digits > 15 || frac > 22) return 0;  /* 10^15 < 2^53 */
    if (*p == 'e' || *p == 'E' || *p == 'x' || *p == 'X') return 0;
    if (frac == 0) {
        d = (double)m;   /* exact: a single rounding, to float */
    } else {
        d = (double)m / pow10_exact[frac];
        if (d != 0 && (d < FLT_MIN || is_float_midpoint(d))) return 0;
    }
    *v = neg ? -(float)d : (float)d;
    *end = p;
    return 1;
}
#else
static int parse_decimal_fast(const char *s, const char **end, float *v)
{
    (void)s; (void)end; (void)v;
    return 0;
}
#endif

enum { NUM_OK, NUM_EMPTY, NUM_BAD, NUM_NONFINITE, NUM_RANGE };

static int starts_number(char c)
{
    return (c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' ||
           c == 'n' || c == 'N' || c == 'i' || c == 'I';
}

static const char *skip_blanks(const char *p, const char *stop)
{
    while (p < stop && (*p == ' ' || *p == '\t')) p++;
    return p;
}

/* The slow path: exponents, hex, nan, inf, long mantissas. */
static int parse_with_strtof(const char *p, const char **end, float *v)
{
    char *e;
    /* strtof skips newlines; starts_number keeps it inside this field. */
    if (!starts_number(*p)) return NUM_BAD;
    errno = 0;
    *v = strtof(p, &e);
    *end = e;
    if (e == p) return NUM_BAD;
    if (errno == ERANGE && isinf(*v)) return NUM_RANGE;
    return isfinite(*v) ? NUM_OK : NUM_NONFINITE;
}

/* One comma-separated field at *pp (the buffer is NUL-terminated past stop).
 * On return *pp is at the comma or at stop, whatever the verdict. */
static int parse_field(const char **pp, const char *stop, float *v)
{
    const char *p = skip_blanks(*pp, stop), *e = p;
    int verdict;
    if (p == stop || *p == ',') {
        *pp = p;
        return NUM_EMPTY;
    }
    verdict = parse_decimal_fast(p, &e, v) ? NUM_OK : parse_with_strtof(p, &e, v);
    if (verdict != NUM_BAD) {
        e = skip_blanks(e, stop);
        if (e == stop || *e == ',') {
            *pp = e;
            return verdict;
        }
    }
    /* Trailing junk: "12abc", and "Nancy" or "info", which begin like nan
     * and inf (a header, not a NaN). */
    while (p < stop && *p != ',') p++;
    *pp = p;
    return NUM_BAD;
}

/* --------------------------------------------------------------------- CSV */

typedef struct {
    const char *path;
    const LcDataSpec *spec;
    char *err;
    size_t errlen;
    int truth_width;        /* values of truth in a full row: out, or 1 index */
    int full_width;         /* in + truth_width */
    int has_truth;          /* -1 until the first row decides */
    long first_row_line;
    long line;              /* lines read so far */
    int seen_line;          /* a non-blank line has been read */
    int header;             /* ... and it was a header */
    float *row;             /* full_width values of the current line */
    size_t n, cap;          /* rows stored, rows allocated */
    float *x, *y;
    int *label;
} Csv;

static const char *plural(long n) { return n == 1 ? "" : "s"; }

static void describe_width(const Csv *c, char *buf, size_t len)
{
    const LcDataSpec *s = c->spec;
    int in_only = s->truth_optional;
    if (s->classes > 0)
        snprintf(buf, len, "%d (%d input%s + 1 class index)", c->full_width,
                 s->in, plural(s->in));
    else
        snprintf(buf, len, "%d (%d input%s + %d truth value%s)", c->full_width,
                 s->in, plural(s->in), s->out, plural(s->out));
    if (in_only) {
        size_t used = strlen(buf);
        snprintf(buf + used, len - used, ", or %d (inputs only)", s->in);
    }
}

static int csv_bad_count(Csv *c, long line, long count)
{
    char want[160];
    describe_width(c, want, sizeof want);
    /* inputs and one more value, for a model that wants truth rows: a class index */
    if (c->spec->one_hot_hint && c->spec->classes == 0 && c->spec->out > 1 && count == c->spec->in + 1)
        return lc_fail(c->err, c->errlen, "%s:%ld: error: row has %ld values; expected %s; if the last value "
                       "is a class index, give --one-hot to make it a one-hot row of %d (a sigmoid/bce "
                       "classifier)", c->path, line, count, want, c->spec->out);
    return lc_fail(c->err, c->errlen, "%s:%ld: error: row has %ld value%s; expected %s",
                c->path, line, count, plural(count), want);
}

static int csv_bad_field(Csv *c, long line, int col, int verdict,
                         const char *field, const char *stop, int first_line)
{
    char text[32];
    const char *e = field;
    while (e < stop && *e != ',') e++;
    while (field < e && (*field == ' ' || *field == '\t')) field++;
    while (e > field && (e[-1] == ' ' || e[-1] == '\t')) e--;
    quote_text(text, sizeof text, field, e);
    if (verdict == NUM_EMPTY)
        return lc_fail(c->err, c->errlen, "%s:%ld: error: value %d is empty", c->path, line, col);
    if (verdict == NUM_NONFINITE)
        return lc_fail(c->err, c->errlen, "%s:%ld: error: value %d is '%s'; data must be finite numbers",
                    c->path, line, col, text);
    if (verdict == NUM_RANGE)
        return lc_fail(c->err, c->errlen, "%s:%ld: error: value %d '%s' is out of the float range",
                    c->path, line, col, text);
    return lc_fail(c->err, c->errlen, "%s:%ld: error: value %d '%s' is not a number%s",
                c->path, line, col, text,
                first_line ? " (a header line must have no numeric value)" : "");
}

/* Parses a line into c->row; returns the number of fields (counting the ones
 * beyond full_width, which are not stored), or -1 after reporting an error. */
static long csv_parse_line(Csv *c, const char *p, const char *stop, long line, int first_line)
{
    long count = 0;
    for (;;) {
        const char *field = p;
        float v = 0;
        int verdict = parse_field(&p, stop, &v);
        count++;
        if (count <= c->full_width) {
            if (verdict != NUM_OK) {
                csv_bad_field(c, line, (int)count, verdict, field, stop, first_line);
                return -1;
            }
            c->row[count - 1] = v;
        }
        if (p == stop) return count;
        p++;   /* the comma */
    }
}

/* A header is a first line in which no field is a number and some field is
 * a word: "x1,x2,label".  A line mixing numbers and words is a broken data
 * row, and ",," a row of empty values, reported as such. */
static int csv_is_header(const char *p, const char *stop)
{
    int words = 0;
    for (;;) {
        float v;
        int verdict = parse_field(&p, stop, &v);
        if (verdict == NUM_OK || verdict == NUM_NONFINITE || verdict == NUM_RANGE) return 0;
        words += verdict == NUM_BAD;
        if (p == stop) return words > 0;
        p++;
    }
}

/* realloc that keeps the old block on failure. */
static int resize(void *pp, size_t count, size_t elem)
{
    void *p = realloc(*(void **)pp, count * elem);
    if (!p) return 0;
    *(void **)pp = p;
    return 1;
}

/* Doubling: glibc moves big blocks with mremap, so growth copies nothing. */
static int csv_grow(Csv *c)
{
    const LcDataSpec *s = c->spec;
    size_t cap = c->cap ? c->cap * 2 : 1024;
    int ok;
    if (cap > (size_t)INT_MAX) cap = (size_t)INT_MAX;
    if (cap <= c->n || cap > SIZE_MAX / sizeof(float) / (size_t)(s->in + s->out + 1))
        return lc_fail(c->err, c->errlen, "%s: error: too many rows", c->path);
    ok = resize(&c->x, cap * (size_t)s->in, sizeof(float));
    if (ok && c->has_truth) ok = resize(&c->y, cap * (size_t)s->out, sizeof(float));
    if (ok && c->has_truth && s->classes > 0) ok = resize(&c->label, cap, sizeof(int));
    if (!ok) return lc_fail(c->err, c->errlen, "%s: error: out of memory", c->path);
    c->cap = cap;
    return 1;
}

static int csv_store_truth(Csv *c, long line)
{
    const LcDataSpec *s = c->spec;
    float *y = c->y + c->n * (size_t)s->out;
    const float *truth = c->row + s->in;
    if (s->classes == 0) {
        memcpy(y, truth, (size_t)s->out * sizeof *y);
        return 1;
    }
    if (truth[0] != floorf(truth[0]))
        return lc_fail(c->err, c->errlen, "%s:%ld: error: class index %g (value %d) is not an integer",
                    c->path, line, truth[0], s->in + 1);
    if (truth[0] < 0 || truth[0] >= (float)s->classes)
        return lc_fail(c->err, c->errlen,
                    "%s:%ld: error: class index %g (value %d) is out of range: the model has %d class%s (0 to %d)",
                    c->path, line, truth[0], s->in + 1, s->classes,
                    s->classes == 1 ? "" : "es", s->classes - 1);
    memset(y, 0, (size_t)s->out * sizeof *y);
    y[(int)truth[0]] = 1.0f;
    c->label[c->n] = (int)truth[0];
    return 1;
}

/* Rows with and without the truth cannot mix: the file would mean two things. */
static int csv_check_truth_kind(Csv *c, long line, int has_truth)
{
    if (c->has_truth < 0) {
        c->has_truth = has_truth;
        c->first_row_line = line;
        return 1;
    }
    if (c->has_truth == has_truth) return 1;
    return lc_fail(c->err, c->errlen,
                "%s:%ld: error: this row %s the truth but the first row (line %ld) %s",
                c->path, line, has_truth ? "carries" : "lacks",
                c->first_row_line, has_truth ? "does not" : "does");
}

static int csv_row(Csv *c, const char *p, const char *stop, long line, int first_line)
{
    const LcDataSpec *s = c->spec;
    long count = csv_parse_line(c, p, stop, line, first_line);
    int has_truth;
    if (count < 0) return 0;
    if (count == c->full_width) has_truth = 1;
    else if (count == s->in && s->truth_optional) has_truth = 0;
    else return csv_bad_count(c, line, count);
    if (!csv_check_truth_kind(c, line, has_truth)) return 0;
    if (c->n == c->cap && !csv_grow(c)) return 0;
    memcpy(c->x + c->n * (size_t)s->in, c->row, (size_t)s->in * sizeof(float));
    if (has_truth && !csv_store_truth(c, line)) return 0;
    c->n++;
    return 1;
}

static int is_blank(const char *p, const char *stop)
{
    for (; p < stop; p++)
        if (*p != ' ' && *p != '\t' && *p != '\r') return 0;
    return 1;
}

/* Whole lines only: buf[len] is '\0' and, unless at the end of the file,
 * buf[len - 1] is '\n'. */
static int csv_parse_lines(Csv *c, const char *buf, size_t len)
{
    const char *p = buf, *end = buf + len;
    while (p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        const char *stop;
        if (!eol) eol = end;
        stop = eol;
        if (stop > p && stop[-1] == '\r') stop--;
        c->line++;
        if (!is_blank(p, stop)) {
            if (!c->seen_line && csv_is_header(p, stop)) c->header = 1;
            else if (!csv_row(c, p, stop, c->line, !c->seen_line)) return 0;
            c->seen_line = 1;
        }
        p = eol < end ? eol + 1 : end;
    }
    return 1;
}

static size_t after_last_newline(const char *buf, size_t len)
{
    while (len > 0 && buf[len - 1] != '\n') len--;
    return len;
}

/* The longest line worth reading: 256 bytes a value (a float needs at most
 * about 16, blanks aside), and never under 16 MiB. */
static size_t csv_max_line(const Csv *c)
{
    size_t per_row = 256 * ((size_t)c->full_width + 1);
    return per_row > ((size_t)16 << 20) ? per_row : (size_t)16 << 20;
}

/* Streams the file through a buffer of whole lines, so a 130 MB CSV costs
 * no 130 MB copy; the buffer grows only for a line longer than itself. */
static int csv_parse(Csv *c, Source *s)
{
    size_t cap = 4 * (size_t)CHUNK, len = 0, got, done;
    char *buf = malloc(cap + 1), *bigger;
    int ok = buf != NULL, eof = 0, first = 1;
    if (!ok) lc_fail(c->err, c->errlen, "%s: error: out of memory", c->path);
    while (ok && !eof) {
        ok = source_read(s, buf + len, cap - len, &got, c->err, c->errlen);
        if (!ok) break;
        eof = got < cap - len;
        len += got;
        buf[len] = '\0';
        done = eof ? len : after_last_newline(buf, len);
        if (first && len >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0)   /* UTF-8 BOM */
            memset(buf, ' ', 3);
        first = 0;
        ok = csv_parse_lines(c, buf, done);
        memmove(buf, buf + done, len - done);
        len -= done;
        if (ok && len == cap && cap >= csv_max_line(c)) {
            /* an endless line (a pipe, a binary file) must not eat all memory */
            ok = lc_fail(c->err, c->errlen, "%s:%ld: error: line too long: over %zu bytes for a row of %d values",
                      c->path, c->line + 1, cap, c->full_width);
        } else if (ok && len == cap) {   /* one line fills the buffer */
            bigger = cap < SIZE_MAX / 4 ? realloc(buf, 2 * cap + 1) : NULL;
            if (!bigger) ok = lc_fail(c->err, c->errlen, "%s: error: out of memory", c->path);
            else { buf = bigger; cap *= 2; }
        }
    }
    free(buf);
    if (ok && c->n == 0)
        return lc_fail(c->err, c->errlen, "%s: error: %s", c->path,
                    c->header ? "no data rows (only a header line)" : "empty file (no data rows)");
    return ok;
}

static void csv_free(Csv *c)
{
    free(c->row);
    free(c->x);
    free(c->y);
    free(c->label);
}

/* Hands the rows over, trimmed to their size. */
static void csv_finish(Csv *c, LcData *d)
{
    const LcDataSpec *s = c->spec;
    float *x = realloc(c->x, c->n * (size_t)s->in * sizeof *x);
    d->n = (int)c->n;
    d->in = s->in;
    d->x = x ? x : c->x;
    if (c->has_truth) {
        float *y = realloc(c->y, c->n * (size_t)s->out * sizeof *y);
        d->out = s->out;
        d->y = y ? y : c->y;
        d->label = c->label;
    }
    free(c->row);
}

static int csv_load_source(Source *s, const LcDataSpec *spec, LcData *d,
                           char *err, size_t errlen)
{
    Csv c;
    memset(&c, 0, sizeof c);
    c.path = s->path;
    c.spec = spec;
    c.err = err;
    c.errlen = errlen;
    c.truth_width = spec->classes > 0 ? 1 : spec->out;
    c.full_width = spec->in + c.truth_width;
    c.has_truth = -1;
    c.row = malloc((size_t)c.full_width * sizeof *c.row);
    if (!c.row) return lc_fail(err, errlen, "%s: error: out of memory", s->path);
    if (!csv_parse(&c, s)) {
        csv_free(&c);
        return 0;
    }
    csv_finish(&c, d);
    return 1;
}

int lc_load_csv(const char *path, const LcDataSpec *spec, LcData *d,
                char *err, size_t errlen)
{
    Source s;
    int ok;
    memset(d, 0, sizeof *d);
    if (!check_spec(path, spec, err, errlen) || !source_open(&s, path, err, errlen)) return 0;
    ok = csv_load_source(&s, spec, d, err, errlen);
    source_close(&s);
    return ok;
}

/* --------------------------------------------------------------------- IDX */

typedef struct {
    int type;                   /* 0x08: unsigned bytes */
    int ndim;
    uint32_t dims[IDX_MAX_DIMS];
    uint64_t item_size;         /* product of dims after the count */
} IdxHeader;

static uint32_t be32(const unsigned char *b)
{
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

static const char *idx_type_name(int type)
{
    switch (type) {
    case 0x09: return "signed bytes";
    case 0x0B: return "16-bit integers";
    case 0x0C: return "32-bit integers";
    case 0x0D: return "floats";
    case 0x0E: return "doubles";
    default: return NULL;
    }
}

static int idx_check_magic(const Source *s, const unsigned char *m, char *err, size_t errlen)
{
    const char *type = idx_type_name(m[2]);
    if (m[0] != 0 || m[1] != 0 || (m[2] != 0x08 && !type))
        return lc_fail(err, errlen, "%s: error: not an IDX file (magic 0x%08x)", s->path, be32(m));
    if (type)
        return lc_fail(err, errlen, "%s: error: IDX file of %s (type 0x%02X); layerc reads unsigned bytes (0x08)",
                    s->path, type, m[2]);
    if (m[3] < 1 || m[3] > IDX_MAX_DIMS)
        return lc_fail(err, errlen, "%s: error: IDX header announces %d dimensions (1 to %d allowed)",
                    s->path, m[3], IDX_MAX_DIMS);
    return 1;
}

static int idx_truncated_header(const Source *s, size_t got, size_t want, char *err, size_t errlen)
{
    return lc_fail(err, errlen, "%s: error: truncated IDX header: %zu byte%s, expected %zu",
                s->path, got, plural((long)got), want);
}

static int idx_read_header(Source *s, IdxHeader *h, char *err, size_t errlen)
{
    unsigned char buf[4 + 4 * IDX_MAX_DIMS];
    size_t got, want;
    int i;
    if (!source_read(s, buf, 4, &got, err, errlen)) return 0;
    if (got == 0) return lc_fail(err, errlen, "%s: error: empty file", s->path);
    if (got < 4) return idx_truncated_header(s, got, 4, err, errlen);
    if (!idx_check_magic(s, buf, err, errlen)) return 0;
    h->type = buf[2];
    h->ndim = buf[3];
    want = 4 * (size_t)h->ndim;
    if (!source_read(s, buf + 4, want, &got, err, errlen)) return 0;
    if (got < want) return idx_truncated_header(s, 4 + got, 4 + want, err, errlen);
    h->item_size = 1;
    for (i = 0; i < h->ndim; i++) {
        h->dims[i] = be32(buf + 4 + 4 * i);
        if (i > 0) h->item_size *= h->dims[i];
        if (h->item_size > (uint64_t)INT_MAX)
            return lc_fail(err, errlen, "%s: error: IDX header sizes overflow: one sample would hold more than %d values",
                        s->path, INT_MAX);
    }
    return 1;
}

static void format_dims(const IdxHeader *h, char *buf, size_t len)
{
    size_t used = 0;
    int i;
    buf[0] = '\0';
    for (i = 1; i < h->ndim && used < len; i++)
        used += (size_t)snprintf(buf + used, len - used, i > 1 ? "x%u" : "%u", (unsigned)h->dims[i]);
}

static int idx_check_images(const Source *s, const IdxHeader *h, const LcDataSpec *spec,
                            char *err, size_t errlen)
{
    char shape[128];
    if (h->ndim == 1)
        return lc_fail(err, errlen, "%s: error: this is an IDX labels file (1 dimension), not images; "
                    "give the images file as the data and this one as the labels", s->path);
    if (h->dims[0] == 0) return lc_fail(err, errlen, "%s: error: the file holds no images", s->path);
    if (h->dims[0] > (uint32_t)INT_MAX)
        return lc_fail(err, errlen, "%s: error: IDX header announces %u images (at most %d)",
                    s->path, (unsigned)h->dims[0], INT_MAX);
    if (h->item_size != (uint64_t)spec->in) {
        format_dims(h, shape, sizeof shape);
        return lc_fail(err, errlen, "%s: error: the images are %s (%llu value%s each) but the model takes %d input%s",
                    s->path, shape, (unsigned long long)h->item_size,
                    plural((long)h->item_size), spec->in, plural(spec->in));
    }
    return 1;
}

static int idx_check_labels(const Source *s, const IdxHeader *h, const Source *images,
                            uint32_t n_images, char *err, size_t errlen)
{
    if (h->ndim != 1)
        return lc_fail(err, errlen, "%s: error: an IDX labels file has 1 dimension, this one has %d",
                    s->path, h->ndim);
    if (h->dims[0] != n_images)
        return lc_fail(err, errlen, "%s: error: %u label%s for %u images in %s",
                    s->path, (unsigned)h->dims[0], plural((long)h->dims[0]),
                    (unsigned)n_images, images->path);
    return 1;
}

/* For plain files the size on disk tells at once whether the data is all
 * there; gzip files are checked as they are read. */
static int idx_check_plain_size(const Source *s, uint64_t want, const char *what,
                                char *err, size_t errlen)
{
    long long left = source_plain_remaining(s);
    if (left < 0 || (uint64_t)left == want) return 1;
    if ((uint64_t)left < want)
        return lc_fail(err, errlen, "%s: error: truncated: the header announces %s (%llu bytes of data) but the file has only %lld",
                    s->path, what, (unsigned long long)want, left);
    return lc_fail(err, errlen, "%s: error: %llu extra bytes after the %s the header announces",
                s->path, (unsigned long long)((uint64_t)left - want), what);
}

static int idx_truncated_data(const Source *s, uint64_t got, uint64_t want, const char *what,
                              char *err, size_t errlen)
{
    return lc_fail(err, errlen, "%s: error: truncated: the header announces %s (%llu bytes of data) but the file has only %llu",
                s->path, what, (unsigned long long)want, (unsigned long long)got);
}

/* The data must end where the header says: reading one byte more also makes
 * zlib check the gzip trailer (CRC and length). */
static int idx_check_end(Source *s, const char *what, char *err, size_t errlen)
{
    unsigned char extra;
    size_t got;
    if (!source_read(s, &extra, 1, &got, err, errlen)) return 0;
    if (got) return lc_fail(err, errlen, "%s: error: extra data after the %s the header announces",
                         s->path, what);
    return 1;
}

/* A plain file's size has been checked against the header, so its data can
 * be allocated at once; a gzip stream earns its memory as it inflates. */
static size_t next_capacity(const Source *s, size_t cap, size_t need, size_t want)
{
    size_t bigger = cap * 2 > need ? cap * 2 : need + 4 * (size_t)CHUNK;
    if (source_plain_remaining(s) >= 0 || bigger > want) bigger = want;
    return bigger;
}

typedef void (*PutBytes)(void *out, size_t at, const unsigned char *b, size_t n);

/* Reads `want` bytes, converting them with `put` into *out (elements of
 * `elem` bytes), then checks that the data ends there. */
static int idx_read_body(Source *s, uint64_t want, size_t elem, PutBytes put, void **out,
                         const char *what, char *err, size_t errlen)
{
    unsigned char *chunk = malloc(CHUNK);
    void *buf = NULL;
    size_t cap = 0, n = 0, got;
    int ok = chunk != NULL;
    if (!ok) lc_fail(err, errlen, "%s: error: out of memory", s->path);
    if (want > SIZE_MAX / elem) ok = lc_fail(err, errlen, "%s: error: %s do not fit in memory", s->path, what);
    while (ok && n < want) {
        size_t step = want - n < CHUNK ? (size_t)(want - n) : CHUNK;
        if (n + step > cap) {
            size_t bigger = next_capacity(s, cap, n + step, (size_t)want);
            if (!resize(&buf, bigger, elem)) { ok = lc_fail(err, errlen, "%s: error: out of memory", s->path); break; }
            cap = bigger;
        }
        ok = source_read(s, chunk, step, &got, err, errlen);
        if (ok) put(buf, n, chunk, got);
        n += got;
        if (ok && got < step) ok = idx_truncated_data(s, n, want, what, err, errlen);
    }
    free(chunk);
    if (ok) ok = idx_check_end(s, what, err, errlen);
    if (!ok) { free(buf); return 0; }
    *out = buf;
    return 1;
}

/* A table per chunk: a lookup is cheaper than a division per byte, and
 * gives the same correctly rounded b / 255. */
static void put_scaled(void *out, size_t at, const unsigned char *b, size_t n)
{
    float *x = (float *)out + at, scale[256];
    size_t i;
    for (i = 0; i < 256; i++) scale[i] = (float)i / 255.0f;
    for (i = 0; i < n; i++) x[i] = scale[b[i]];
}

static void put_raw(void *out, size_t at, const unsigned char *b, size_t n)
{
    memcpy((unsigned char *)out + at, b, n);
}


static int labels_to_truth(const Source *s, const unsigned char *labels, int n,
                           const LcDataSpec *spec, LcData *d, char *err, size_t errlen)
{
    int i;
    if (spec->classes == 0 && spec->out != 1)
        return lc_fail(err, errlen, "%s: error: IDX labels hold one number per sample but the model's output has %d values",
                    s->path, spec->out);
    d->out = spec->out;
    d->y = calloc((size_t)n * (size_t)spec->out, sizeof *d->y);
    if (spec->classes > 0) d->label = malloc((size_t)n * sizeof *d->label);
    if (!d->y || (spec->classes > 0 && !d->label))
        return lc_fail(err, errlen, "%s: error: out of memory", s->path);
    for (i = 0; i < n; i++) {
        if (spec->classes == 0) { d->y[i] = labels[i]; continue; }
        if (labels[i] >= spec->classes)
            return lc_fail(err, errlen, "%s: error: the label of sample %d (counting from 0) is %d, out of range: "
                        "the model has %d class%s (0 to %d)", s->path, i, labels[i], spec->classes,
                        spec->classes == 1 ? "" : "es", spec->classes - 1);
        d->label[i] = labels[i];
        d->y[(size_t)i * (size_t)spec->out + labels[i]] = 1.0f;
    }
    return 1;
}

static int idx_read_images(Source *s, const IdxHeader *h, LcData *d, char *err, size_t errlen)
{
    char what[64];
    uint64_t want = (uint64_t)h->dims[0] * h->item_size;
    void *x;
    snprintf(what, sizeof what, "%u images", (unsigned)h->dims[0]);
    if (!idx_check_plain_size(s, want, what, err, errlen)) return 0;
    if (!idx_read_body(s, want, sizeof(float), put_scaled, &x, what, err, errlen)) return 0;
    d->x = x;
    d->n = (int)h->dims[0];
    return 1;
}

static int idx_read_labels(Source *s, const IdxHeader *h, const LcDataSpec *spec, LcData *d,
                           char *err, size_t errlen)
{
    char what[64];
    void *labels;
    int ok;
    snprintf(what, sizeof what, "%u labels", (unsigned)h->dims[0]);
    if (!idx_check_plain_size(s, h->dims[0], what, err, errlen)) return 0;
    if (!idx_read_body(s, h->dims[0], 1, put_raw, &labels, what, err, errlen)) return 0;
    ok = labels_to_truth(s, labels, d->n, spec, d, err, errlen);
    free(labels);
    return ok;
}

/* img is open; both headers are checked before any bulk read, so a wrong labels file is
 * reported at once rather than after decompressing 47 MB of images. */
static int idx_load(Source *img, Source *lab, const char *labels_path, const LcDataSpec *spec,
                    LcData *d, char *err, size_t errlen)
{
    IdxHeader hi, hl;
    if (!idx_read_header(img, &hi, err, errlen)) return 0;
    if (!idx_check_images(img, &hi, spec, err, errlen)) return 0;
    if (!labels_path && !spec->truth_optional)
        return lc_fail(err, errlen, "%s: error: IDX images carry no truth: give the labels file too (%s)",
                    img->path, spec->labels_option ? spec->labels_option : "--labels");
    if (labels_path) {
        if (!source_open(lab, labels_path, err, errlen) || !idx_read_header(lab, &hl, err, errlen)) return 0;
        if (!idx_check_labels(lab, &hl, img, hi.dims[0], err, errlen)) return 0;
    }
    d->in = spec->in;
    if (!idx_read_images(img, &hi, d, err, errlen)) return 0;
    return !labels_path || idx_read_labels(lab, &hl, spec, d, err, errlen);
}

int lc_load_idx(const char *images_path, const char *labels_path,
                const LcDataSpec *spec, LcData *d, char *err, size_t errlen)
{
    Source img, lab;
    int ok;
    memset(d, 0, sizeof *d);
    memset(&img, 0, sizeof img);
    memset(&lab, 0, sizeof lab);
    if (!check_spec(images_path, spec, err, errlen) || !source_open(&img, images_path, err, errlen)) return 0;
    ok = idx_load(&img, &lab, labels_path, spec, d, err, errlen);
    source_close(&img);
    source_close(&lab);
    if (!ok) lc_data_free(d);
    return ok;
}

/* ---------------------------------------------------------------- dispatch */

/* IDX starts with two zero bytes, which no text file does; the file is
 * read once, from the bytes that told which it is (after gunzip). */
int lc_load_data(const char *path, const char *labels_path,
                 const LcDataSpec *spec, LcData *d, char *err, size_t errlen)
{
    Source s, lab;
    unsigned char head[2];
    size_t got;
    int ok;
    memset(d, 0, sizeof *d);
    memset(&lab, 0, sizeof lab);
    if (!check_spec(path, spec, err, errlen) || !source_open(&s, path, err, errlen)) return 0;
    ok = source_read(&s, head, sizeof head, &got, err, errlen);
    if (ok) source_unread(&s, head, got);
    if (ok && got == 2 && head[0] == 0 && head[1] == 0) {
        ok = idx_load(&s, &lab, labels_path, spec, d, err, errlen);
        source_close(&lab);
        if (!ok) lc_data_free(d);
    } else if (ok && labels_path) {
        ok = lc_fail(err, errlen, "%s: error: a labels file is for IDX images; this is a CSV file, "
                     "whose rows carry the truth", path);
    } else if (ok) {
        ok = csv_load_source(&s, spec, d, err, errlen);
    }
    source_close(&s);
    return ok;
}

void lc_data_free(LcData *d)
{
    if (!d) return;
    if (d->y != d->x) free(d->y);   /* --truth input: y shares x */
    free(d->x);
    free(d->label);
    memset(d, 0, sizeof *d);
}
