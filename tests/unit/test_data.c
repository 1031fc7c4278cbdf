/* test_data.c: the CSV and IDX loaders, good files and every kind of bad one. */
#define _XOPEN_SOURCE 700

#include "test.h"
#include "test_files.h"
#include "data.h"

#include <dirent.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

static char err[1024];
static LcData d;

static const char *write_file(const char *name, const void *b, size_t n)
{
    const char *path = path_of(name);
    write_bytes(path, b, n);
    return path;
}

static const char *write_text(const char *name, const char *text)
{
    return write_file(name, text, strlen(text));
}

static const char *write_gz(const char *name, const void *b, size_t n)
{
    const char *path = path_of(name);
    gzFile g = gzopen(path, "wb");
    CHECK(g != NULL);
    if (!g) return path;
    CHECK(n == 0 || gzwrite(g, b, (unsigned)n) == (int)n);
    gzclose(g);
    return path;
}

static void remove_all(const char *path)
{
    DIR *dd = opendir(path);
    struct dirent *e;
    char sub[1024];
    if (!dd) { unlink(path); return; }
    while ((e = readdir(dd))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        snprintf(sub, sizeof sub, "%s/%s", path, e->d_name);
        remove_all(sub);
    }
    closedir(dd);
    rmdir(path);
}

static LcDataSpec regression(int in, int out) { LcDataSpec s = { .in = in, .out = out }; return s; }
static LcDataSpec classifier(int in, int classes) { LcDataSpec s = { .in = in, .out = classes, .classes = classes }; return s; }

static int load_csv_text(const char *text, LcDataSpec spec)
{
    const char *path = write_text("t.csv", text);
    int ok = lc_load_csv(path, &spec, &d, err, sizeof err);
    if (!ok) CHECK(d.x == NULL && d.y == NULL && d.label == NULL && d.n == 0);
    return ok;
}

/* The message, with the temporary directory cut off: "t.csv:2: error: ...". */
static const char *msg(void)
{
    size_t n = strlen(dir);
    return strncmp(err, dir, n) == 0 && err[n] == '/' ? err + n + 1 : err;
}

/* ------------------------------------------------------------- CSV good */

TEST(csv_plain)
{
    CHECK(load_csv_text("1,2,3\n4,5,6\n", regression(2, 1)));
    CHECK(d.n == 2 && d.in == 2 && d.out == 1 && d.label == NULL);
    CHECK(d.x[0] == 1 && d.x[1] == 2 && d.x[2] == 4 && d.x[3] == 5);
    CHECK(d.y[0] == 3 && d.y[1] == 6);
    lc_data_free(&d);
    CHECK(d.x == NULL && d.n == 0);
}

TEST(csv_header_crlf_blanks_spaces_no_final_newline)
{
    CHECK(load_csv_text("\r\n  x1 , x2,\ty \r\n\r\n 1.5 ,\t-2 , 3e2\r\n\n  \n4,5,.25", regression(2, 1)));
    CHECK(d.n == 2);
    CHECK(d.x[0] == 1.5f && d.x[1] == -2 && d.y[0] == 300);
    CHECK(d.x[2] == 4 && d.x[3] == 5 && d.y[1] == 0.25f);
    lc_data_free(&d);
}

TEST(csv_header_words_like_nan_and_inf)
{
    CHECK(load_csv_text("Nancy,info,y\n1,2,3\n", regression(2, 1)));
    CHECK(d.n == 1 && d.x[0] == 1);
    lc_data_free(&d);
    CHECK(load_csv_text("\xEF\xBB\xBFx,y\n7,8\n", regression(1, 1)));   /* UTF-8 BOM */
    CHECK(d.n == 1 && d.x[0] == 7 && d.y[0] == 8);
    lc_data_free(&d);
}

TEST(csv_class_index_one_hot)
{
    CHECK(load_csv_text("a,b,class\n1,2,0\n3,4,2\n5,6,1.0\n", classifier(2, 3)));
    CHECK(d.n == 3 && d.out == 3 && d.label != NULL);
    CHECK(d.label[0] == 0 && d.label[1] == 2 && d.label[2] == 1);
    CHECK(d.y[0] == 1 && d.y[1] == 0 && d.y[2] == 0);
    CHECK(d.y[3] == 0 && d.y[4] == 0 && d.y[5] == 1);
    CHECK(d.y[6] == 0 && d.y[7] == 1 && d.y[8] == 0);
    CHECK(d.x[4] == 5 && d.x[5] == 6);
    lc_data_free(&d);
}

TEST(csv_truth_optional)
{
    LcDataSpec s = classifier(2, 3);
    s.truth_optional = 1;
    CHECK(load_csv_text("1,2\n3,4\n", s));
    CHECK(d.n == 2 && d.out == 0 && d.y == NULL && d.label == NULL && d.x[3] == 4);
    lc_data_free(&d);
    CHECK(load_csv_text("1,2,1\n3,4,0\n", s));
    CHECK(d.n == 2 && d.out == 3 && d.label[0] == 1);
    lc_data_free(&d);
    CHECK(!load_csv_text("1,2,1\n3,4\n", s));
    CHECK_STR(msg(), "t.csv:2: error: this row lacks the truth but the first row (line 1) does");
    CHECK(!load_csv_text("x,y\n1,2\n\n3,4,1\n", s));
    CHECK_STR(msg(), "t.csv:4: error: this row carries the truth but the first row (line 2) does not");
}

TEST(csv_gzip)
{
    const char *text = "x,y\n1,2\n3,4\n";
    const char *path = write_gz("t.csv.gz", text, strlen(text));
    LcDataSpec s = regression(1, 1);
    CHECK(lc_load_csv(path, &s, &d, err, sizeof err));
    CHECK(d.n == 2 && d.y[1] == 4);
    lc_data_free(&d);
    CHECK(lc_load_data(path, NULL, &s, &d, err, sizeof err));
    CHECK(d.n == 2);
    lc_data_free(&d);
}

/* A row longer than the read buffer (4 MB), and many rows across buffers. */
TEST(csv_long_lines_and_many_rows)
{
    int in = 2500000, i;
    size_t n = (size_t)in * 2 + 8;
    char *text = malloc(n), *p = text;
    LcDataSpec s = regression(in, 1);
    for (i = 0; i < in; i++) { *p++ = (char)('0' + i % 10); *p++ = ','; }
    strcpy(p, "7\n");
    CHECK(load_csv_text(text, s));
    CHECK(d.n == 1 && d.x[in - 1] == (float)((in - 1) % 10) && d.y[0] == 7);
    lc_data_free(&d);
    free(text);
    text = malloc(200000 * 12 + 1);
    for (i = 0, p = text; i < 200000; i++) p += sprintf(p, "%d,%d\n", i, i % 7);
    CHECK(load_csv_text(text, regression(1, 1)));
    CHECK(d.n == 200000 && d.x[123456] == 123456 && d.y[199999] == 199999 % 7);
    lc_data_free(&d);
    free(text);
}

/* The fast decimal path must give exactly strtof's float, also for values
 * next to a rounding boundary. */
TEST(csv_numbers_match_strtof_bit_for_bit)
{
    enum { N = 60000 };
    char *text = malloc((size_t)N * 40), *p = text;
    char (*fields)[40] = malloc((size_t)N * sizeof *fields);
    /* exact float midpoints (ties go to even), -0, subnormals, extremes */
    static const char *exact_cases[] = {
        "8388608.5", "8388609.5", "16777217", "16777219", "16777217.0", "-8388609.50",
        "-0", "-0.0", "+0.5", ".5", "5.", "0.1", "0.2", "0.3", "3.4028235e38",
        "340282346638528859811704183484516925440", "1.17549435e-38", "1e-45", "0.000000000000001",
        "123456789012345", "1234567890123456", "0.333333333333333", "99999.9999999999",
    };
    uint64_t r = 88172645463325252u;
    int i, mismatches = 0;
    for (i = 0; i < N; i++) {
        float f, g;
        double mid;
        r ^= r << 13; r ^= r >> 7; r ^= r << 17;
        f = (float)((double)(r >> 11) / 9007199254740992.0 * pow(10, (int)(r % 12) - 6));
        g = nextafterf(f, INFINITY);
        mid = ((double)f + (double)g) / 2;
        if (i < (int)(sizeof exact_cases / sizeof *exact_cases)) {
            snprintf(fields[i], 40, "%s", exact_cases[i]);
            p += sprintf(p, "%s,0\n", fields[i]);
            continue;
        }
        switch (i % 6) {
        case 0: snprintf(fields[i], 40, "%.*f", (int)(r % 9), (double)f); break;
        case 1: snprintf(fields[i], 40, "%.15g", mid); break;
        case 2: snprintf(fields[i], 40, "-%.9g", mid); break;
        case 3: snprintf(fields[i], 40, "%llu", (unsigned long long)(r % 100000000000ull)); break;
        case 4: snprintf(fields[i], 40, "%.6e", (double)f); break;
        default: snprintf(fields[i], 40, "%.20f", mid); break;
        }
        p += sprintf(p, "%s,0\n", fields[i]);
    }
    CHECK(load_csv_text(text, regression(1, 1)));
    CHECK(d.n == N);
    for (i = 0; i < d.n && i < N; i++) {
        float want = strtof(fields[i], NULL);
        if (memcmp(&want, &d.x[i], sizeof want) != 0) {
            if (mismatches++ < 5) fprintf(stderr, "'%s': %.9g, strtof %.9g\n", fields[i], d.x[i], want);
        }
    }
    CHECK(mismatches == 0);
    lc_data_free(&d);
    free(text);
    free(fields);
}

/* -------------------------------------------------------------- CSV bad */

TEST(csv_missing_file_and_directory)
{
    LcDataSpec s = regression(2, 1);
    char want[700];
    const char *path = path_of("nope.csv");
    CHECK(!lc_load_csv(path, &s, &d, err, sizeof err));
    snprintf(want, sizeof want, "%s: error: cannot open: No such file or directory", path);
    CHECK_STR(err, want);
    CHECK(!lc_load_csv(dir, &s, &d, err, sizeof err));
    snprintf(want, sizeof want, "%s: error: is a directory, not a data file", dir);
    CHECK_STR(err, want);
    CHECK(!lc_load_data(dir, NULL, &s, &d, err, sizeof err));
    CHECK_STR(err, want);
}

TEST(csv_empty)
{
    CHECK(!load_csv_text("", regression(2, 1)));
    CHECK_STR(msg(), "t.csv: error: empty file (no data rows)");
    CHECK(!load_csv_text("\n \r\n\t\n", regression(2, 1)));
    CHECK_STR(msg(), "t.csv: error: empty file (no data rows)");
    CHECK(!load_csv_text("a,b,c\n\n", regression(2, 1)));
    CHECK_STR(msg(), "t.csv: error: no data rows (only a header line)");
}

TEST(csv_wrong_column_count)
{
    LcDataSpec s = regression(4, 2);
    CHECK(!load_csv_text("x\n1,2,3,4,5,6\n\n1,2,3,4,5\n", regression(4, 2)));
    CHECK_STR(msg(), "t.csv:4: error: row has 5 values; expected 6 (4 inputs + 2 truth values)");
    CHECK(!load_csv_text("1,2,3,4,5,6,7\n", regression(4, 2)));
    CHECK_STR(msg(), "t.csv:1: error: row has 7 values; expected 6 (4 inputs + 2 truth values)");
    CHECK(!load_csv_text("1\n", classifier(1, 3)));
    CHECK_STR(msg(), "t.csv:1: error: row has 1 value; expected 2 (1 input + 1 class index)");
    CHECK(!load_csv_text("1,2,3\n", classifier(1, 3)));
    CHECK_STR(msg(), "t.csv:1: error: row has 3 values; expected 2 (1 input + 1 class index)");
    s.truth_optional = 1;
    CHECK(!load_csv_text("1,2,3\n", s));
    CHECK_STR(msg(), "t.csv:1: error: row has 3 values; expected 6 (4 inputs + 2 truth values), or 4 (inputs only)");
}

TEST(csv_not_a_number)
{
    CHECK(!load_csv_text("1,2,3\n4,x,6\n", regression(2, 1)));
    CHECK_STR(msg(), "t.csv:2: error: value 2 'x' is not a number");
    CHECK(!load_csv_text("1,2,3\n4, 5 6 ,6\n", regression(2, 1)));
    CHECK_STR(msg(), "t.csv:2: error: value 2 '5 6' is not a number");
    CHECK(!load_csv_text("1,2,3\n4,5,6abc\n", regression(2, 1)));
    CHECK_STR(msg(), "t.csv:2: error: value 3 '6abc' is not a number");
    CHECK(!load_csv_text("1,2,3\n4,,6\n", regression(2, 1)));
    CHECK_STR(msg(), "t.csv:2: error: value 2 is empty");
    CHECK(!load_csv_text("1,2,3\n4,5,\n", regression(2, 1)));
    CHECK_STR(msg(), "t.csv:2: error: value 3 is empty");
    CHECK(!load_csv_text("1,2,3\n1,2,3\n4,\"5\",6\n", regression(2, 1)));
    CHECK_STR(msg(), "t.csv:3: error: value 2 '\"5\"' is not a number");
    CHECK(!load_csv_text("1,2,3\n4,1\r5,6\n", regression(2, 1)));
    CHECK_STR(msg(), "t.csv:2: error: value 2 '1?5' is not a number");
    CHECK(!load_csv_text("1,2,x\n", regression(2, 1)));
    CHECK_STR(msg(), "t.csv:1: error: value 3 'x' is not a number (a header line must have no numeric value)");
    CHECK(!load_csv_text("1,2,3\n1,2,aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n", regression(2, 1)));
    CHECK_STR(msg(), "t.csv:2: error: value 3 'aaaaaaaaaaaaaaaaaaaaaaaa...' is not a number");
}

TEST(csv_nul_byte)
{
    const char text[] = "1,2,3\n4,5\0,6\n";
    const char *path = write_file("nul.csv", text, sizeof text - 1);
    LcDataSpec s = regression(2, 1);
    CHECK(!lc_load_csv(path, &s, &d, err, sizeof err));
    CHECK_STR(msg(), "nul.csv:2: error: value 2 '5?' is not a number");
}

TEST(csv_nan_inf)
{
    CHECK(!load_csv_text("1,nan,3\n", regression(2, 1)));
    CHECK_STR(msg(), "t.csv:1: error: value 2 is 'nan'; data must be finite numbers");
    CHECK(!load_csv_text("1,2,3\n1,2,-Inf\n", regression(2, 1)));
    CHECK_STR(msg(), "t.csv:2: error: value 3 is '-Inf'; data must be finite numbers");
    CHECK(!load_csv_text("1,2,3\ninfinity,2,3\n", regression(2, 1)));
    CHECK_STR(msg(), "t.csv:2: error: value 1 is 'infinity'; data must be finite numbers");
    CHECK(!load_csv_text("1,1e39,3\n", regression(2, 1)));
    CHECK_STR(msg(), "t.csv:1: error: value 2 '1e39' is out of the float range");
    CHECK(load_csv_text("1,1e-50,3\n", regression(2, 1)));   /* underflow to 0 is fine */
    lc_data_free(&d);
}

TEST(csv_bad_class_index)
{
    CHECK(!load_csv_text("1,2,1\n1,2,1.5\n", classifier(2, 3)));
    CHECK_STR(msg(), "t.csv:2: error: class index 1.5 (value 3) is not an integer");
    CHECK(!load_csv_text("1,2,3\n", classifier(2, 3)));
    CHECK_STR(msg(), "t.csv:1: error: class index 3 (value 3) is out of range: the model has 3 classes (0 to 2)");
    CHECK(!load_csv_text("1,2,-1\n", classifier(2, 3)));
    CHECK_STR(msg(), "t.csv:1: error: class index -1 (value 3) is out of range: the model has 3 classes (0 to 2)");
    CHECK(!load_csv_text("1,2,1e30\n", classifier(2, 3)));
    CHECK_CONTAINS(msg(), "out of range");
}

TEST(csv_labels_given)
{
    const char *path = write_text("l.csv", "1,2\n");
    LcDataSpec s = regression(1, 1);
    CHECK(!lc_load_data(path, path, &s, &d, err, sizeof err));
    CHECK_STR(msg(), "l.csv: error: a labels file is for IDX images; this is a CSV file, whose rows carry the truth");
}

/* --------------------------------------------------------------------- IDX */

/* An IDX file: magic 0x000008NN, then the dims big-endian, then the bytes. */
static size_t make_idx(unsigned char *out, int ndim, const uint32_t *dims,
                       const unsigned char *data, size_t n)
{
    size_t at = 4;
    int i;
    out[0] = 0; out[1] = 0; out[2] = 8; out[3] = (unsigned char)ndim;
    for (i = 0; i < ndim; i++, at += 4) {
        out[at] = (unsigned char)(dims[i] >> 24);
        out[at + 1] = (unsigned char)(dims[i] >> 16);
        out[at + 2] = (unsigned char)(dims[i] >> 8);
        out[at + 3] = (unsigned char)dims[i];
    }
    memcpy(out + at, data, n);
    return at + n;
}

static unsigned char img_bytes[1024], lab_bytes[256];
static size_t img_n, lab_n;
static const unsigned char pixels[12] = {0, 255, 51, 102, 1, 2, 3, 4, 200, 100, 50, 25};
static const unsigned char labels3[3] = {2, 0, 1};

/* 3 images of 2x2, labels 2 0 1. */
static void make_small_set(void)
{
    uint32_t di[3] = {3, 2, 2}, dl[1] = {3};
    img_n = make_idx(img_bytes, 3, di, pixels, 12);
    lab_n = make_idx(lab_bytes, 1, dl, labels3, 3);
}

static void check_small_set(void)
{
    int i;
    CHECK(d.n == 3 && d.in == 4 && d.out == 3);
    for (i = 0; i < 12 && d.x; i++) CHECK(d.x[i] == (float)pixels[i] / 255.0f);
    CHECK(d.x && d.x[1] == 1.0f && d.x[0] == 0.0f);
    CHECK(d.label && d.label[0] == 2 && d.label[1] == 0 && d.label[2] == 1);
    CHECK(d.y && d.y[2] == 1 && d.y[0] == 0 && d.y[3] == 1 && d.y[7] == 1 && d.y[8] == 0);
}

TEST(idx_plain)
{
    LcDataSpec s = classifier(4, 3);
    const char *img, *lab;
    make_small_set();
    img = write_file("i.idx", img_bytes, img_n);
    lab = write_file("l.idx", lab_bytes, lab_n);
    CHECK(lc_load_idx(img, lab, &s, &d, err, sizeof err));
    check_small_set();
    lc_data_free(&d);
    CHECK(lc_load_data(img, lab, &s, &d, err, sizeof err));
    check_small_set();
    lc_data_free(&d);
}

TEST(idx_gzip)
{
    LcDataSpec s = classifier(4, 3);
    const char *img, *lab;
    make_small_set();
    img = write_gz("i.idx.gz", img_bytes, img_n);
    lab = write_gz("l.idx.gz", lab_bytes, lab_n);
    CHECK(lc_load_idx(img, lab, &s, &d, err, sizeof err));
    check_small_set();
    lc_data_free(&d);
    CHECK(lc_load_data(img, lab, &s, &d, err, sizeof err));
    check_small_set();
    lc_data_free(&d);
    /* one gzip, one plain */
    lab = write_file("l.idx", lab_bytes, lab_n);
    CHECK(lc_load_data(img, lab, &s, &d, err, sizeof err));
    check_small_set();
    lc_data_free(&d);
}

TEST(idx_other_ranks_and_regression_labels)
{
    uint32_t d2[2] = {3, 4}, d4[4] = {3, 1, 2, 2};
    unsigned char b[256];
    LcDataSpec s = regression(4, 1);
    const char *img, *lab;
    make_small_set();
    lab = write_file("l.idx", lab_bytes, lab_n);
    img = write_file("r2.idx", b, make_idx(b, 2, d2, pixels, 12));
    CHECK(lc_load_data(img, lab, &s, &d, err, sizeof err));
    CHECK(d.n == 3 && d.out == 1 && d.y[0] == 2 && d.label == NULL && d.x[1] == 1);
    lc_data_free(&d);
    img = write_file("r4.idx", b, make_idx(b, 4, d4, pixels, 12));
    CHECK(lc_load_data(img, lab, &s, &d, err, sizeof err));
    CHECK(d.n == 3 && d.x[11] == 25.0f / 255.0f);
    lc_data_free(&d);
}

TEST(idx_without_labels)
{
    LcDataSpec s = classifier(4, 3);
    const char *img;
    make_small_set();
    img = write_file("i.idx", img_bytes, img_n);
    CHECK(!lc_load_data(img, NULL, &s, &d, err, sizeof err));
    CHECK_STR(msg(), "i.idx: error: IDX images carry no truth: give the labels file too (--labels)");
    s.labels_option = "--test-labels";   /* the held-out set's own option */
    CHECK(!lc_load_data(img, NULL, &s, &d, err, sizeof err));
    CHECK_STR(msg(), "i.idx: error: IDX images carry no truth: give the labels file too (--test-labels)");
    s.labels_option = NULL;
    s.truth_optional = 1;
    CHECK(lc_load_data(img, NULL, &s, &d, err, sizeof err));
    CHECK(d.n == 3 && d.out == 0 && d.y == NULL && d.label == NULL);
    lc_data_free(&d);
}

/* ",," is a row of empty values, not a header: reported, not dropped. */
TEST(csv_empty_fields_are_no_header)
{
    CHECK(!load_csv_text(",,\n1,2,3\n", regression(2, 1)));
    CHECK_STR(msg(), "t.csv:1: error: value 1 is empty");
    CHECK(!load_csv_text(" , \t,\n1,2,3\n", regression(2, 1)));
    CHECK_STR(msg(), "t.csv:1: error: value 1 is empty");
    CHECK(load_csv_text("x,,y\n1,2,3\n", regression(2, 1)));   /* a word makes it a header */
    CHECK(d.n == 1);
    lc_data_free(&d);
}

/* One open, one read: a pipe (which cannot be read twice) brings all of a
 * CSV and all of an IDX file, gzip or not; a FIFO too. */
static int load_through(const char *command, const char *labels, LcDataSpec s)
{
    FILE *p = popen(command, "r");
    char name[32];
    CHECK(p != NULL);
    if (!p) return 0;
    snprintf(name, sizeof name, "/dev/fd/%d", fileno(p));
    int ok = lc_load_data(name, labels, &s, &d, err, sizeof err);
    pclose(p);
    return ok;
}

TEST(pipes_and_fifos)
{
    char cmd[1200];
    /* 300,000 rows: far more than the reader's first buffer */
    const char *csv = path_of("many.csv");
    FILE *f = fopen(csv, "w");
    for (int r = 0; r < 300000; r++) fprintf(f, "%d,%d.5,%d\n", r, r % 7, r % 3);
    fclose(f);
    snprintf(cmd, sizeof cmd, "cat '%s'", csv);
    CHECK(load_through(cmd, NULL, regression(2, 1)));
    CHECK(d.n == 300000);
    if (d.n == 300000) CHECK(d.x[2 * 299999] == 299999 && d.x[2 * 299999 + 1] == 299999 % 7 + 0.5f && d.y[299999] == 299999 % 3);
    else fprintf(stderr, "%d rows: %s\n", d.n, err);
    lc_data_free(&d);
    snprintf(cmd, sizeof cmd, "gzip -c '%s'", csv);
    CHECK(load_through(cmd, NULL, regression(2, 1)));
    CHECK(d.n == 300000);
    lc_data_free(&d);
    make_small_set();
    const char *img = write_file("p.idx", img_bytes, img_n), *lab = write_file("p.lab", lab_bytes, lab_n);
    snprintf(cmd, sizeof cmd, "gzip -c '%s'", img);
    CHECK(load_through(cmd, lab, classifier(4, 3)));
    CHECK(d.n == 3 && d.label != NULL);
    lc_data_free(&d);
    snprintf(cmd, sizeof cmd, "cat '%s'", img);
    CHECK(load_through(cmd, lab, classifier(4, 3)));
    CHECK(d.n == 3);
    lc_data_free(&d);
    /* a FIFO: opened once, so a writer that writes once and leaves is enough */
    const char *fifo = path_of("fifo");
    CHECK(mkfifo(fifo, 0600) == 0);
    snprintf(cmd, sizeof cmd, "cat '%s' > '%s' &", csv, fifo);
    CHECK(system(cmd) == 0);
    LcDataSpec s = regression(2, 1);
    CHECK(lc_load_data(fifo, NULL, &s, &d, err, sizeof err));
    CHECK(d.n == 300000);
    lc_data_free(&d);
    unlink(fifo);
    unlink(csv);
}

static int load_idx_files(const char *img, const char *lab, LcDataSpec s)
{
    int ok = lc_load_data(img, lab, &s, &d, err, sizeof err);
    if (!ok) CHECK(d.x == NULL && d.y == NULL && d.label == NULL && d.n == 0);
    else lc_data_free(&d);
    return ok;
}

TEST(idx_missing_files)
{
    const char *img, *lab;
    make_small_set();
    img = write_file("i.idx", img_bytes, img_n);
    lab = path_of("missing-labels.idx");
    CHECK(!load_idx_files(img, lab, classifier(4, 3)));
    CHECK_STR(msg(), "missing-labels.idx: error: cannot open: No such file or directory");
    CHECK(!load_idx_files(img, dir, classifier(4, 3)));
    CHECK_CONTAINS(err, "is a directory");
}

TEST(idx_truncated_header)
{
    const char *lab, *img;
    size_t len;
    make_small_set();
    lab = write_file("l.idx", lab_bytes, lab_n);
    for (len = 2; len < 16; len++) {
        img = write_file("cut.idx", img_bytes, len);
        CHECK(!load_idx_files(img, lab, classifier(4, 3)));
        CHECK_CONTAINS(msg(), "cut.idx: error: truncated IDX header: ");
    }
    img = write_file("cut.idx", img_bytes, 9);
    CHECK(!load_idx_files(img, lab, classifier(4, 3)));
    CHECK_STR(msg(), "cut.idx: error: truncated IDX header: 9 bytes, expected 16");
    CHECK(!lc_load_idx(write_file("empty.idx", "", 0), lab, &(LcDataSpec){ .in = 4, .out = 3, .classes = 3 }, &d, err, sizeof err));
    CHECK_STR(msg(), "empty.idx: error: empty file");
}

TEST(idx_truncated_data)
{
    const char *lab, *img;
    make_small_set();
    lab = write_file("l.idx", lab_bytes, lab_n);
    img = write_file("cut.idx", img_bytes, img_n - 1);
    CHECK(!load_idx_files(img, lab, classifier(4, 3)));
    CHECK_STR(msg(), "cut.idx: error: truncated: the header announces 3 images (12 bytes of data) but the file has only 11");
    img = write_gz("cut.idx.gz", img_bytes, img_n - 1);
    CHECK(!load_idx_files(img, lab, classifier(4, 3)));
    CHECK_STR(msg(), "cut.idx.gz: error: truncated: the header announces 3 images (12 bytes of data) but the file has only 11");
    img = write_file("i.idx", img_bytes, img_n);
    lab = write_file("cut-l.idx", lab_bytes, lab_n - 1);
    CHECK(!load_idx_files(img, lab, classifier(4, 3)));
    CHECK_STR(msg(), "cut-l.idx: error: truncated: the header announces 3 labels (3 bytes of data) but the file has only 2");
}

TEST(idx_extra_data)
{
    unsigned char b[1100];
    const char *lab, *img;
    make_small_set();
    lab = write_file("l.idx", lab_bytes, lab_n);
    memcpy(b, img_bytes, img_n);
    b[img_n] = 7;
    img = write_file("long.idx", b, img_n + 1);
    CHECK(!load_idx_files(img, lab, classifier(4, 3)));
    CHECK_STR(msg(), "long.idx: error: 1 extra bytes after the 3 images the header announces");
    img = write_gz("long.idx.gz", b, img_n + 1);
    CHECK(!load_idx_files(img, lab, classifier(4, 3)));
    CHECK_STR(msg(), "long.idx.gz: error: extra data after the 3 images the header announces");
}

TEST(idx_wrong_magic)
{
    unsigned char b[1100];
    const char *lab, *img;
    make_small_set();
    lab = write_file("l.idx", lab_bytes, lab_n);
    memcpy(b, img_bytes, img_n);
    b[2] = 0x0D;
    img = write_file("float.idx", b, img_n);
    CHECK(!load_idx_files(img, lab, classifier(4, 3)));
    CHECK_STR(msg(), "float.idx: error: IDX file of floats (type 0x0D); layerc reads unsigned bytes (0x08)");
    b[2] = 0x42;
    img = write_file("weird.idx", b, img_n);
    CHECK(!lc_load_idx(img, lab, &(LcDataSpec){ .in = 4, .out = 3, .classes = 3 }, &d, err, sizeof err));
    CHECK_STR(msg(), "weird.idx: error: not an IDX file (magic 0x00004203)");
    b[2] = 8;
    b[3] = 0;
    img = write_file("zero.idx", b, img_n);
    CHECK(!load_idx_files(img, lab, classifier(4, 3)));
    CHECK_STR(msg(), "zero.idx: error: IDX header announces 0 dimensions (1 to 16 allowed)");
    /* the labels file given as images */
    CHECK(!load_idx_files(lab, lab, classifier(4, 3)));
    CHECK_CONTAINS(msg(), "l.idx: error: this is an IDX labels file (1 dimension), not images");
    /* the images file given as labels */
    img = write_file("i.idx", img_bytes, img_n);
    CHECK(!load_idx_files(img, img, classifier(4, 3)));
    CHECK_STR(msg(), "i.idx: error: an IDX labels file has 1 dimension, this one has 3");
    /* a CSV given as IDX */
    CHECK(!lc_load_idx(write_text("x.csv", "1,2\n"), lab, &(LcDataSpec){ .in = 4, .out = 3, .classes = 3 }, &d, err, sizeof err));
    CHECK_STR(msg(), "x.csv: error: not an IDX file (magic 0x312c320a)");
}

TEST(idx_count_mismatch)
{
    uint32_t dl[1] = {2};
    unsigned char b[64];
    const char *img, *lab;
    char want[800];
    make_small_set();
    img = write_file("i.idx", img_bytes, img_n);
    lab = write_file("l2.idx", b, make_idx(b, 1, dl, labels3, 2));
    CHECK(!load_idx_files(img, lab, classifier(4, 3)));
    snprintf(want, sizeof want, "l2.idx: error: 2 labels for 3 images in %s", img);
    CHECK_STR(msg(), want);
}

TEST(idx_wrong_image_size)
{
    const char *img, *lab;
    make_small_set();
    img = write_file("i.idx", img_bytes, img_n);
    lab = write_file("l.idx", lab_bytes, lab_n);
    CHECK(!load_idx_files(img, lab, classifier(784, 3)));
    CHECK_STR(msg(), "i.idx: error: the images are 2x2 (4 values each) but the model takes 784 inputs");
}

TEST(idx_label_out_of_range)
{
    const char *img, *lab;
    make_small_set();
    img = write_file("i.idx", img_bytes, img_n);
    lab = write_file("l.idx", lab_bytes, lab_n);
    CHECK(!load_idx_files(img, lab, classifier(4, 2)));
    CHECK_STR(msg(), "l.idx: error: the label of sample 0 (counting from 0) is 2, out of range: the model has 2 classes (0 to 1)");
    CHECK(!load_idx_files(img, lab, regression(4, 2)));
    CHECK_STR(msg(), "l.idx: error: IDX labels hold one number per sample but the model's output has 2 values");
}

TEST(idx_hostile_headers)
{
    uint32_t huge_n[3] = {0xffffffffu, 2, 2}, big_n[3] = {0x7fffffffu, 2, 2};
    uint32_t overflow[3] = {3, 65536, 65536}, overflow4[5] = {1, 0xffffffffu, 0xffffffffu, 0xffffffffu, 2};
    uint32_t zero[3] = {0, 2, 2}, dl[1] = {0x7fffffffu};
    unsigned char b[1100];
    const char *img, *lab;
    make_small_set();
    lab = write_file("l.idx", lab_bytes, lab_n);
    img = write_file("h.idx", b, make_idx(b, 3, huge_n, pixels, 12));
    CHECK(!load_idx_files(img, lab, classifier(4, 3)));
    CHECK_STR(msg(), "h.idx: error: IDX header announces 4294967295 images (at most 2147483647)");
    img = write_file("b.idx", b, make_idx(b, 3, big_n, pixels, 12));
    CHECK(!load_idx_files(img, NULL, (LcDataSpec){ .in = 4, .out = 3, .classes = 3, .truth_optional = 1 }));
    CHECK_STR(msg(), "b.idx: error: truncated: the header announces 2147483647 images (8589934588 bytes of data) but the file has only 12");
    img = write_gz("b.idx.gz", b, make_idx(b, 3, big_n, pixels, 12));
    CHECK(!load_idx_files(img, NULL, (LcDataSpec){ .in = 4, .out = 3, .classes = 3, .truth_optional = 1 }));
    CHECK_CONTAINS(msg(), "b.idx.gz: error: truncated: the header announces 2147483647 images");
    img = write_file("o.idx", b, make_idx(b, 3, overflow, pixels, 12));
    CHECK(!load_idx_files(img, lab, classifier(4, 3)));
    CHECK_STR(msg(), "o.idx: error: IDX header sizes overflow: one sample would hold more than 2147483647 values");
    img = write_file("o4.idx", b, make_idx(b, 5, overflow4, pixels, 12));
    CHECK(!load_idx_files(img, lab, classifier(4, 3)));
    CHECK_CONTAINS(msg(), "sizes overflow");
    img = write_file("z.idx", b, make_idx(b, 3, zero, pixels, 0));
    CHECK(!load_idx_files(img, lab, classifier(4, 3)));
    CHECK_STR(msg(), "z.idx: error: the file holds no images");
    /* a labels header announcing 2^31 - 1 labels for 3 images */
    img = write_file("i.idx", img_bytes, img_n);
    lab = write_gz("hl.idx.gz", b, make_idx(b, 1, dl, labels3, 3));
    CHECK(!load_idx_files(img, lab, classifier(4, 3)));
    CHECK_CONTAINS(msg(), "hl.idx.gz: error: 2147483647 labels for 3 images");
}

TEST(idx_gzip_damage)
{
    size_t n = 0, len;
    unsigned char *gz, *bad;
    const char *lab, *img;
    int refused = 0, crc_caught;
    make_small_set();
    lab = write_file("l.idx", lab_bytes, lab_n);
    img = write_gz("g.idx.gz", img_bytes, img_n);
    gz = read_bytes(img, &n);
    if (!gz) { CHECK(gz != NULL); return; }
    bad = malloc(n);
    /* every truncation of the compressed file */
    for (len = 0; len < n; len++) {
        img = write_file("gcut.idx.gz", gz, len);
        if (!load_idx_files(img, lab, classifier(4, 3))) refused++;
    }
    CHECK(refused == (int)n);
    img = write_file("gcut.idx.gz", gz, n - 4);
    CHECK(!load_idx_files(img, lab, classifier(4, 3)));
    CHECK_STR(msg(), "gcut.idx.gz: error: truncated gzip file (unexpected end of file)");
    /* a damaged CRC in the gzip trailer */
    memcpy(bad, gz, n);
    bad[n - 6] ^= 0xff;
    img = write_file("gcrc.idx.gz", bad, n);
    CHECK(!load_idx_files(img, lab, classifier(4, 3)));
    CHECK_STR(msg(), "gcrc.idx.gz: error: corrupt gzip data (incorrect data check)");
    /* a corrupt deflate stream */
    memcpy(bad, gz, n);
    bad[10] = 0xff;
    img = write_file("gbad.idx.gz", bad, n);
    CHECK(!load_idx_files(img, lab, classifier(4, 3)));
    CHECK_CONTAINS(msg(), "gbad.idx.gz: error: corrupt gzip data (");
    /* any single-byte change is refused or (rarely) still valid data: never a crash */
    for (len = 0, crc_caught = 0; len < n; len++) {
        memcpy(bad, gz, n);
        bad[len] ^= 0x5a;
        img = write_file("gflip.idx.gz", bad, n);
        if (!load_idx_files(img, lab, classifier(4, 3))) crc_caught++;
    }
    CHECK(crc_caught > (int)n / 2);
    free(gz);
    free(bad);
}

/* Random damage to plain files: the loaders must refuse or accept, never
 * crash, leak or read out of bounds (run under ASan). */
TEST(random_damage_never_crashes)
{
    unsigned char b[1100];
    const char *csv = "x,y,c\n1.5,2,0\n3,4e1,2\r\n-5,.6,1\n";
    size_t csv_n = strlen(csv), i;
    uint64_t r = 12345;
    int k;
    make_small_set();
    for (k = 0; k < 3000; k++) {
        const unsigned char *src = k % 3 == 0 ? img_bytes : k % 3 == 1 ? lab_bytes : (const unsigned char *)csv;
        size_t n = k % 3 == 0 ? img_n : k % 3 == 1 ? lab_n : csv_n;
        LcDataSpec s = classifier(k % 3 == 2 ? 2 : 4, 3);
        int flips = 1 + k % 4;
        memcpy(b, src, n);
        for (i = 0; i < (size_t)flips; i++) {
            r ^= r << 13; r ^= r >> 7; r ^= r << 17;
            b[r % n] = (unsigned char)(r >> 32);
        }
        r ^= r << 13; r ^= r >> 7; r ^= r << 17;
        if (k % 5 == 0) n = r % (n + 1);
        write_file("fuzz.bin", b, n);
        if (k % 3 == 1) {
            write_file("fuzzimg.idx", img_bytes, img_n);
            if (lc_load_data(path_of("fuzzimg.idx"), path_of("fuzz.bin"), &s, &d, err, sizeof err)) lc_data_free(&d);
            else CHECK(err[0] != '\0');
        } else {
            s.truth_optional = k & 1;
            if (lc_load_data(path_of("fuzz.bin"), NULL, &s, &d, err, sizeof err)) lc_data_free(&d);
            else CHECK(err[0] != '\0');
        }
        err[0] = '\0';
    }
}

/* ------------------------------------------------------- Fashion-MNIST */

static double seconds(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

TEST(fashion_mnist_train_set)
{
    const char *img = "/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz";
    const char *lab = "/usr/share/datasets/fashion-mnist/train-labels-idx1-ubyte.gz";
    LcDataSpec s = classifier(784, 10);
    double t;
    int i, counts[10] = {0}, ok;
    if (access(img, R_OK) != 0 || access(lab, R_OK) != 0) {
        fprintf(stderr, "fashion_mnist_train_set: data not installed, skipped\n");
        return;
    }
    t = seconds();
    ok = lc_load_data(img, lab, &s, &d, err, sizeof err);
    t = seconds() - t;
    CHECK(ok);
    if (!ok) { fprintf(stderr, "%s\n", err); return; }
    CHECK(d.n == 60000 && d.in == 784 && d.out == 10);
    for (i = 0; i < d.n; i++) {
        CHECK(d.label[i] >= 0 && d.label[i] < 10);
        if (d.label[i] >= 0 && d.label[i] < 10) counts[d.label[i]]++;
    }
    for (i = 0; i < 10; i++) CHECK(counts[i] == 6000);   /* Fashion-MNIST is balanced */
    for (i = 0; i < d.n * d.in; i++)
        if (!(d.x[i] >= 0 && d.x[i] <= 1)) { CHECK(d.x[i] >= 0 && d.x[i] <= 1); break; }
    CHECK(t < 2.0);
    lc_data_free(&d);
}

int main(void)
{
    strcpy(dir, "/tmp/lc_test_data.XXXXXX");
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    RUN(csv_plain);
    RUN(csv_header_crlf_blanks_spaces_no_final_newline);
    RUN(csv_header_words_like_nan_and_inf);
    RUN(csv_class_index_one_hot);
    RUN(csv_truth_optional);
    RUN(csv_gzip);
    RUN(csv_long_lines_and_many_rows);
    RUN(csv_numbers_match_strtof_bit_for_bit);
    RUN(csv_missing_file_and_directory);
    RUN(csv_empty);
    RUN(csv_wrong_column_count);
    RUN(csv_not_a_number);
    RUN(csv_nul_byte);
    RUN(csv_nan_inf);
    RUN(csv_bad_class_index);
    RUN(csv_labels_given);
    RUN(idx_plain);
    RUN(idx_gzip);
    RUN(idx_other_ranks_and_regression_labels);
    RUN(idx_without_labels);
    RUN(idx_missing_files);
    RUN(idx_truncated_header);
    RUN(idx_truncated_data);
    RUN(idx_extra_data);
    RUN(idx_wrong_magic);
    RUN(idx_count_mismatch);
    RUN(idx_wrong_image_size);
    RUN(idx_label_out_of_range);
    RUN(csv_empty_fields_are_no_header);
    RUN(pipes_and_fifos);
    RUN(idx_hostile_headers);
    RUN(idx_gzip_damage);
    RUN(random_damage_never_crashes);
    RUN(fashion_mnist_train_set);
    remove_all(dir);
    return test_report("data");
}
