/* test_weights.c: weight files -- round trip, damage, truncation, another
 * model's weights, atomic saves that fail cleanly. */
#define _XOPEN_SOURCE 700

#include "test.h"
#include "test_files.h"
#include "weights.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

static char err[1024];

/* h.W [4, 3], h.b [4], out.W [2, 4], out.b [2]: 26 floats. */
static LcTensorInfo model[4] = {
    {"h.W", 2, {4, 3}, 0, 12},
    {"h.b", 1, {4}, 12, 4},
    {"out.W", 2, {2, 4}, 16, 8},
    {"out.b", 1, {2}, 24, 2},
};
#define NPARAMS 26

static void fill_params(float *p, unsigned seed)
{
    int i;
    for (i = 0; i < NPARAMS; i++) p[i] = (float)((seed * 2654435761u + (unsigned)i * 40503u) % 10007) / 97.0f - 50.0f;
}

static void fill_sentinel(float *p)
{
    int i;
    for (i = 0; i < NPARAMS; i++) p[i] = 12345.0f;
}

static int all_sentinel(const float *p)
{
    int i;
    for (i = 0; i < NPARAMS; i++)
        if (p[i] != 12345.0f) return 0;
    return 1;
}

static const char *saved_model(const char *name, float *params)
{
    const char *path = path_of(name);
    fill_params(params, 7);
    CHECK(lc_weights_save(path, model, 4, params, NPARAMS, err, sizeof err));
    return path;
}

static uint32_t le32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void set_le32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
    p[2] = (unsigned char)(v >> 16);
    p[3] = (unsigned char)(v >> 24);
}

/* After editing a file's bytes, makes its CRC right again: the loader must
 * then catch the edit by its meaning. */
static void fix_crc(unsigned char *b, size_t n)
{
    set_le32(b + n - 4, lc_crc32(0, b, n - 4));
}

static int count_files(void)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int n = 0;
    if (!d) return -1;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) n++;
    closedir(d);
    return n;
}

static void remove_all(const char *path)
{
    DIR *d = opendir(path);
    struct dirent *e;
    char sub[1024];
    if (!d) { unlink(path); return; }
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        snprintf(sub, sizeof sub, "%s/%s", path, e->d_name);
        chmod(sub, 0700);
        remove_all(sub);
    }
    closedir(d);
    rmdir(path);
}

/* ---------------------------------------------------------------- CRC */

TEST(crc32_matches_zlib)
{
    unsigned char buf[1000];
    int i;
    CHECK(lc_crc32(0, "123456789", 9) == 0xCBF43926u);
    CHECK(lc_crc32(0, "", 0) == 0);
    for (i = 0; i < 1000; i++) buf[i] = (unsigned char)(i * 7 + i / 13);
    CHECK(lc_crc32(0, buf, sizeof buf) == (uint32_t)crc32(0, buf, sizeof buf));
    /* chained like zlib's */
    CHECK(lc_crc32(lc_crc32(0, buf, 300), buf + 300, 700) == (uint32_t)crc32(0, buf, sizeof buf));
}

/* ----------------------------------------------------------- good files */

TEST(round_trip)
{
    float saved[NPARAMS], loaded[NPARAMS];
    const char *path = saved_model("rt.lyw", saved);
    fill_sentinel(loaded);
    CHECK(lc_weights_load(path, model, 4, loaded, NPARAMS, err, sizeof err));
    CHECK(memcmp(saved, loaded, sizeof saved) == 0);
}

TEST(round_trip_keeps_every_bit)
{
    float saved[NPARAMS], loaded[NPARAMS];
    uint32_t odd[4] = {0x7f7fffffu, 0x80000000u, 0x00000001u, 0xff7fffffu};  /* FLT_MAX, -0, subnormal, -FLT_MAX */
    const char *path = path_of("bits.lyw");
    fill_params(saved, 3);
    memcpy(saved, odd, sizeof odd);
    CHECK(lc_weights_save(path, model, 4, saved, NPARAMS, err, sizeof err));
    CHECK(lc_weights_load(path, model, 4, loaded, NPARAMS, err, sizeof err));
    CHECK(memcmp(saved, loaded, sizeof saved) == 0);
}

TEST(file_layout_is_as_documented)
{
    float p[NPARAMS];
    size_t n = 0;
    const char *path = saved_model("layout.lyw", p);
    unsigned char *b = read_bytes(path, &n);
    /* header 28 + table (2+3+4+8)+(2+3+4+4)+(2+5+4+8)+(2+5+4+4) + 26*4 + crc 4 */
    size_t want = 28 + 17 + 13 + 19 + 15 + 26 * 4 + 4;
    float first;
    CHECK(b != NULL);
    if (!b) return;
    CHECK(n == want);
    CHECK(memcmp(b, "LYRW", 4) == 0);
    CHECK(le32(b + 4) == 1);
    CHECK(le32(b + 8) == n && le32(b + 12) == 0);
    CHECK(le32(b + 16) == 4);
    CHECK(b[28] == 3 && b[29] == 0 && memcmp(b + 30, "h.W", 3) == 0);
    CHECK(le32(b + 33) == 2 && le32(b + 37) == 4 && le32(b + 41) == 3);
    CHECK(le32(b + n - 4) == lc_crc32(0, b, n - 4));
    {
        uint32_t u = le32(b + 28 + 64);
        memcpy(&first, &u, 4);
        CHECK(first == p[0]);
    }
    free(b);
}

TEST(offsets_are_honoured)
{
    /* A table whose tensors sit in params in another order than in the file. */
    LcTensorInfo t[2] = {{"b", 1, {2}, 3, 2}, {"a", 1, {3}, 0, 3}};
    float p[5] = {1, 2, 3, 4, 5}, q[5] = {0};
    const char *path = path_of("offsets.lyw");
    CHECK(lc_weights_save(path, t, 2, p, 5, err, sizeof err));
    CHECK(lc_weights_load(path, t, 2, q, 5, err, sizeof err));
    CHECK(memcmp(p, q, sizeof p) == 0);
}

TEST(empty_model)
{
    float p[1] = {0};
    const char *path = path_of("empty_model.lyw");
    CHECK(lc_weights_save(path, NULL, 0, p, 0, err, sizeof err));
    CHECK(lc_weights_load(path, NULL, 0, p, 0, err, sizeof err));
}

TEST(save_overwrites_and_leaves_no_temporary)
{
    float p[NPARAMS], q[NPARAMS];
    int before;
    const char *path = saved_model("over.lyw", p);
    before = count_files();
    fill_params(p, 99);
    CHECK(lc_weights_save(path, model, 4, p, NPARAMS, err, sizeof err));
    CHECK(count_files() == before);
    CHECK(lc_weights_load(path, model, 4, q, NPARAMS, err, sizeof err));
    CHECK(memcmp(p, q, sizeof p) == 0);
}

TEST(save_keeps_permissions)
{
    float p[NPARAMS];
    struct stat st;
    mode_t old = umask(022);
    const char *path = saved_model("perm.lyw", p);
    CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0644);
    chmod(path, 0640);
    CHECK(lc_weights_save(path, model, 4, p, NPARAMS, err, sizeof err));
    CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0640);
    umask(old);
}

/* ------------------------------------------------------------ bad files */

TEST(missing_file)
{
    float p[NPARAMS];
    char want[600];
    const char *path = path_of("nope.lyw");
    fill_sentinel(p);
    CHECK(!lc_weights_load(path, model, 4, p, NPARAMS, err, sizeof err));
    snprintf(want, sizeof want, "%s: error: cannot open: No such file or directory", path);
    CHECK_STR(err, want);
    CHECK(all_sentinel(p));
}

TEST(directory_as_file)
{
    float p[NPARAMS];
    fill_sentinel(p);
    CHECK(!lc_weights_load(dir, model, 4, p, NPARAMS, err, sizeof err));
    CHECK_CONTAINS(err, "is a directory");
    CHECK(all_sentinel(p));
}

TEST(not_a_weights_file)
{
    float p[NPARAMS];
    const char *path = path_of("text.lyw");
    const char *text = "x,y\n1,2\n3,4\n5,6\n7,8\n9,10\n11,12\n13,14\n";
    write_bytes(path, text, strlen(text));
    fill_sentinel(p);
    CHECK(!lc_weights_load(path, model, 4, p, NPARAMS, err, sizeof err));
    CHECK_CONTAINS(err, "text.lyw: error: not a layerc weights file");
    CHECK(all_sentinel(p));
}

TEST(every_bit_flip_is_refused)
{
    float p[NPARAMS], q[NPARAMS];
    size_t n = 0, i;
    int bit, refused = 0, total = 0, untouched = 1;
    const char *path = saved_model("flip.lyw", p);
    const char *bad = path_of("flipped.lyw");
    unsigned char *b = read_bytes(path, &n);
    if (!b) { CHECK(b != NULL); return; }
    for (i = 0; i < n; i++)
        for (bit = 0; bit < 8; bit++) {
            b[i] ^= (unsigned char)(1 << bit);
            write_bytes(bad, b, n);
            fill_sentinel(q);
            total++;
            if (!lc_weights_load(bad, model, 4, q, NPARAMS, err, sizeof err)) refused++;
            if (!all_sentinel(q)) untouched = 0;
            b[i] ^= (unsigned char)(1 << bit);
        }
    CHECK(refused == total);
    CHECK(untouched);
    free(b);
}

TEST(flip_in_values_says_checksum)
{
    float p[NPARAMS], q[NPARAMS];
    size_t n = 0;
    const char *path = saved_model("flip2.lyw", p);
    unsigned char *b = read_bytes(path, &n);
    if (!b) { CHECK(b != NULL); return; }
    b[n - 20] ^= 0x10;
    write_bytes(path, b, n);
    CHECK(!lc_weights_load(path, model, 4, q, NPARAMS, err, sizeof err));
    CHECK_CONTAINS(err, "flip2.lyw: error: damaged: checksum mismatch");
    free(b);
}

TEST(every_truncation_is_refused)
{
    float p[NPARAMS], q[NPARAMS];
    size_t n = 0, len;
    int refused = 0, said_truncated = 0, untouched = 1;
    const char *path = saved_model("cut.lyw", p);
    const char *cut = path_of("cutted.lyw");
    unsigned char *b = read_bytes(path, &n);
    char want[600];
    if (!b) { CHECK(b != NULL); return; }
    for (len = 0; len < n; len++) {
        write_bytes(cut, b, len);
        fill_sentinel(q);
        if (!lc_weights_load(cut, model, 4, q, NPARAMS, err, sizeof err)) refused++;
        if (strstr(err, "error: truncated: ")) said_truncated++;
        if (!all_sentinel(q)) untouched = 0;
    }
    CHECK(refused == (int)n);
    CHECK(said_truncated == (int)n);
    CHECK(untouched);
    write_bytes(cut, b, n - 1);
    CHECK(!lc_weights_load(cut, model, 4, q, NPARAMS, err, sizeof err));
    snprintf(want, sizeof want, "%s: error: truncated: %zu bytes, expected %zu", cut, n - 1, n);
    CHECK_STR(err, want);
    write_bytes(cut, b, 10);
    CHECK(!lc_weights_load(cut, model, 4, q, NPARAMS, err, sizeof err));
    CHECK_CONTAINS(err, "error: truncated: 10 bytes, expected at least 32");
    free(b);
}

TEST(extra_bytes_are_refused)
{
    float p[NPARAMS], q[NPARAMS];
    size_t n = 0;
    const char *path = saved_model("extra.lyw", p);
    unsigned char *b = read_bytes(path, &n), *c;
    if (!b) { CHECK(b != NULL); return; }
    c = malloc(n + 3);
    memcpy(c, b, n);
    memset(c + n, 0, 3);
    write_bytes(path, c, n + 3);
    fill_sentinel(q);
    CHECK(!lc_weights_load(path, model, 4, q, NPARAMS, err, sizeof err));
    CHECK_CONTAINS(err, "damaged");
    CHECK(all_sentinel(q));
    free(b);
    free(c);
}

TEST(newer_version_is_refused)
{
    float p[NPARAMS], q[NPARAMS];
    size_t n = 0;
    const char *path = saved_model("v2.lyw", p);
    unsigned char *b = read_bytes(path, &n);
    if (!b) { CHECK(b != NULL); return; }
    set_le32(b + 4, 2);
    fix_crc(b, n);
    write_bytes(path, b, n);
    CHECK(!lc_weights_load(path, model, 4, q, NPARAMS, err, sizeof err));
    CHECK_CONTAINS(err, "v2.lyw: error: weights format version 2; this layerc reads version 1");
    free(b);
}

/* Files with a valid CRC whose content lies: only a hostile writer makes
 * them, and they must still be refused without reading out of bounds. */
TEST(crafted_tables_are_refused)
{
    float p[NPARAMS], q[NPARAMS];
    size_t n = 0;
    const char *path = saved_model("craft.lyw", p);
    const char *bad = path_of("crafted.lyw");
    unsigned char *b = read_bytes(path, &n), *c;
    if (!b) { CHECK(b != NULL); return; }
    c = malloc(n);
    /* rank 9 */
    memcpy(c, b, n);
    set_le32(c + 33, 9);
    fix_crc(c, n);
    write_bytes(bad, c, n);
    CHECK(!lc_weights_load(bad, model, 4, q, NPARAMS, err, sizeof err));
    CHECK_CONTAINS(err, "damaged: tensor rank over 8");
    /* a count of 2^32 - 1 tensors */
    memcpy(c, b, n);
    set_le32(c + 16, 0xffffffffu);
    fix_crc(c, n);
    write_bytes(bad, c, n);
    CHECK(!lc_weights_load(bad, model, 4, q, NPARAMS, err, sizeof err));
    CHECK_CONTAINS(err, "damaged");
    /* a dimension of 2^32 - 1 */
    memcpy(c, b, n);
    set_le32(c + 37, 0xffffffffu);
    fix_crc(c, n);
    write_bytes(bad, c, n);
    CHECK(!lc_weights_load(bad, model, 4, q, NPARAMS, err, sizeof err));
    CHECK_CONTAINS(err, "damaged");
    /* a name length running past the end */
    memcpy(c, b, n);
    c[28] = 0xff;
    c[29] = 0xff;
    fix_crc(c, n);
    write_bytes(bad, c, n);
    CHECK(!lc_weights_load(bad, model, 4, q, NPARAMS, err, sizeof err));
    CHECK_CONTAINS(err, "damaged");
    /* a signature that does not match the table */
    memcpy(c, b, n);
    c[20] ^= 1;
    fix_crc(c, n);
    write_bytes(bad, c, n);
    CHECK(!lc_weights_load(bad, model, 4, q, NPARAMS, err, sizeof err));
    CHECK_CONTAINS(err, "damaged: the signature does not match");
    /* size field disagreeing with the file */
    memcpy(c, b, n);
    set_le32(c + 8, (uint32_t)n - 1);
    fix_crc(c, n);
    write_bytes(bad, c, n);
    CHECK(!lc_weights_load(bad, model, 4, q, NPARAMS, err, sizeof err));
    CHECK_CONTAINS(err, "damaged");
    free(b);
    free(c);
}

/* --------------------------------------------------------- another model */

TEST(another_model_names_the_tensor)
{
    float p[NPARAMS], q[40];
    LcTensorInfo other[4];
    char want[800];
    const char *path = saved_model("other.lyw", p);
    memcpy(other, model, sizeof other);
    other[2].dims[1] = 5;
    other[2].size = 10;
    other[3].offset = 26;
    CHECK(!lc_weights_load(path, other, 4, q, 28, err, sizeof err));
    snprintf(want, sizeof want, "%s: error: these weights are for another model: "
             "tensor 3 is 'out.W' [2, 4] in the file but 'out.W' [2, 5] in the model", path);
    CHECK_STR(err, want);
}

TEST(another_model_renamed_or_reshaped)
{
    float p[NPARAMS], q[NPARAMS];
    LcTensorInfo other[4];
    const char *path = saved_model("other2.lyw", p);
    memcpy(other, model, sizeof other);
    other[1].name = "hidden.b";
    CHECK(!lc_weights_load(path, other, 4, q, NPARAMS, err, sizeof err));
    CHECK_CONTAINS(err, "tensor 2 is 'h.b' [4] in the file but 'hidden.b' [4] in the model");
    /* same element count, other shape */
    memcpy(other, model, sizeof other);
    other[0].dims[0] = 3;
    other[0].dims[1] = 4;
    fill_sentinel(q);
    CHECK(!lc_weights_load(path, other, 4, q, NPARAMS, err, sizeof err));
    CHECK_CONTAINS(err, "tensor 1 is 'h.W' [4, 3] in the file but 'h.W' [3, 4] in the model");
    CHECK(all_sentinel(q));
    /* same element count, other rank */
    memcpy(other, model, sizeof other);
    other[0].rank = 1;
    other[0].dims[0] = 12;
    CHECK(!lc_weights_load(path, other, 4, q, NPARAMS, err, sizeof err));
    CHECK_CONTAINS(err, "tensor 1 is 'h.W' [4, 3] in the file but 'h.W' [12] in the model");
}

TEST(another_model_missing_or_extra_tensor)
{
    float p[NPARAMS], q[NPARAMS + 5];
    LcTensorInfo more[5];
    const char *path = saved_model("other3.lyw", p);
    CHECK(!lc_weights_load(path, model, 3, q, NPARAMS, err, sizeof err));
    CHECK_CONTAINS(err, "another model: the file has 4 tensors, the model 3; tensor 4 'out.b' [2] is extra");
    memcpy(more, model, sizeof model);
    more[4].name = "extra.W";
    more[4].rank = 1;
    more[4].dims[0] = 5;
    more[4].offset = 26;
    more[4].size = 5;
    CHECK(!lc_weights_load(path, more, 5, q, NPARAMS + 5, err, sizeof err));
    CHECK_CONTAINS(err, "another model: the file has 4 tensors, the model 5; tensor 5 'extra.W' [5] is missing");
}

TEST(bad_table_from_the_caller)
{
    float p[NPARAMS];
    LcTensorInfo bad[1] = {{"w", 1, {30}, 0, 30}};
    fill_params(p, 1);
    CHECK(!lc_weights_save(path_of("int.lyw"), bad, 1, p, NPARAMS, err, sizeof err));
    CHECK_CONTAINS(err, "internal");
    bad[0].size = 29;
    CHECK(!lc_weights_save(path_of("int.lyw"), bad, 1, p, 40, err, sizeof err));
    CHECK_CONTAINS(err, "internal");
}

/* --------------------------------------------------------- failed saves */

static int same_file(const char *path, const unsigned char *b, size_t n)
{
    size_t m = 0;
    unsigned char *c = read_bytes(path, &m);
    int same = c && m == n && memcmp(b, c, n) == 0;
    free(c);
    return same;
}

TEST(save_into_missing_directory)
{
    float p[NPARAMS];
    char path[600];
    snprintf(path, sizeof path, "%s/no/such/dir/w.lyw", dir);
    fill_params(p, 1);
    CHECK(!lc_weights_save(path, model, 4, p, NPARAMS, err, sizeof err));
    CHECK_CONTAINS(err, path);
    CHECK_CONTAINS(err, "error: cannot save weights: ");
    CHECK_CONTAINS(err, "No such file or directory");
}

TEST(save_over_a_directory_keeps_it)
{
    float p[NPARAMS];
    const char *sub = path_of("adir");
    struct stat st;
    int before;
    mkdir(sub, 0755);
    before = count_files();
    fill_params(p, 1);
    CHECK(!lc_weights_save(sub, model, 4, p, NPARAMS, err, sizeof err));
    CHECK_CONTAINS(err, "adir: error: cannot save weights: is a directory");
    CHECK(stat(sub, &st) == 0 && S_ISDIR(st.st_mode));
    CHECK(count_files() == before);   /* the temporary is gone */
    rmdir(sub);
}

/* A name one byte short of NAME_MAX exists, but its temporary cannot. */
TEST(failed_save_keeps_the_old_file_name_too_long)
{
    float p[NPARAMS];
    char name[256];
    size_t n = 0;
    unsigned char *old;
    const char *path;
    memset(name, 'w', 250);
    strcpy(name + 250, ".lyw");
    old = read_bytes(saved_model("short.lyw", p), &n);
    CHECK(old != NULL);
    if (!old) return;
    path = path_of(name);
    write_bytes(path, old, n);   /* saving there would fail, as below */
    fill_params(p, 2);
    CHECK(!lc_weights_save(path, model, 4, p, NPARAMS, err, sizeof err));
    CHECK_CONTAINS(err, "cannot save weights: cannot create a temporary file beside it: File name too long");
    CHECK(old && same_file(path, old, n));
    free(old);
    unlink(path);
}

/* The disk "fills up" mid-write (RLIMIT_FSIZE): the old file stays. */
TEST(failed_save_keeps_the_old_file_disk_full)
{
    float p[NPARAMS];
    size_t n = 0;
    unsigned char *old;
    struct rlimit saved, small;
    int before;
    const char *path = saved_model("full.lyw", p);
    LcTensorInfo big[1] = {{"w", 1, {100000}, 0, 100000}};
    float *q = calloc(100000, sizeof *q);
    old = read_bytes(path, &n);
    before = count_files();
    getrlimit(RLIMIT_FSIZE, &saved);
    small = saved;
    small.rlim_cur = 65536;
    signal(SIGXFSZ, SIG_IGN);
    CHECK(setrlimit(RLIMIT_FSIZE, &small) == 0);
    CHECK(!lc_weights_save(path, big, 1, q, 100000, err, sizeof err));
    setrlimit(RLIMIT_FSIZE, &saved);
    signal(SIGXFSZ, SIG_DFL);
    CHECK_CONTAINS(err, "full.lyw: error: cannot save weights: write failed: File too large");
    CHECK(old && same_file(path, old, n));
    CHECK(count_files() == before);
    free(old);
    free(q);
}

TEST(failed_save_keeps_the_old_file_read_only_dir)
{
    float p[NPARAMS];
    size_t n = 0;
    unsigned char *old;
    char sub[600], path[700];
    if (geteuid() == 0) return;   /* root writes anywhere */
    snprintf(sub, sizeof sub, "%s/ro", dir);
    mkdir(sub, 0755);
    snprintf(path, sizeof path, "%s/w.lyw", sub);
    fill_params(p, 1);
    CHECK(lc_weights_save(path, model, 4, p, NPARAMS, err, sizeof err));
    old = read_bytes(path, &n);
    chmod(sub, 0555);
    fill_params(p, 2);
    CHECK(!lc_weights_save(path, model, 4, p, NPARAMS, err, sizeof err));
    CHECK_CONTAINS(err, "Permission denied");
    CHECK(old && same_file(path, old, n));
    chmod(sub, 0755);
    free(old);
}

/* ---------------------------------------------------- non-finite values */

/* NaN and the infinities (a diverged run's weights) are refused by name on
 * loading, even in a file whose checksum is right, and never saved. */
TEST(non_finite_values_are_refused)
{
    static const uint32_t bad[3] = { 0x7fc00000u, 0x7f800000u, 0xff800000u };
    static const char *const said[3] = { "holds nan at index 5 (of 8)", "holds inf at index 5 (of 8)",
                                         "holds -inf at index 5 (of 8)" };
    float p[NPARAMS], q[NPARAMS];
    const char *path = saved_model("nan.lyw", p);
    size_t n = 0;
    unsigned char *b = read_bytes(path, &n);
    CHECK(b && n > 4 + 4 * NPARAMS);
    if (!b) return;
    for (int k = 0; k < 3; k++) {
        /* out.W[1, 1] is value 16 + 5 of 26: the 21st from the start of the values */
        size_t at = n - 4 - 4 * (size_t)NPARAMS + 4 * 21;
        unsigned char *c = malloc(n);
        memcpy(c, b, n);
        set_le32(c + at, bad[k]);
        fix_crc(c, n);
        write_bytes(path_of("nan.lyw"), c, n);
        fill_sentinel(q);
        CHECK(!lc_weights_load(path_of("nan.lyw"), model, 4, q, NPARAMS, err, sizeof err));
        CHECK_CONTAINS(err, "nan.lyw: error: tensor 'out.W' ");
        CHECK_CONTAINS(err, said[k]);
        CHECK(all_sentinel(q));
        free(c);
    }
    free(b);
    b = read_bytes(path_of("nan.lyw"), &n);
    fill_params(p, 3);
    p[13] = NAN;
    CHECK(!lc_weights_save(path_of("nan.lyw"), model, 4, p, NPARAMS, err, sizeof err));
    CHECK_CONTAINS(err, "cannot save weights: tensor 'h.b' holds nan at index 1");
    CHECK(b && same_file(path_of("nan.lyw"), b, n));
    p[13] = -INFINITY;
    CHECK(!lc_weights_save(path_of("nan.lyw"), model, 4, p, NPARAMS, err, sizeof err));
    CHECK_CONTAINS(err, "holds an infinity");
    free(b);
}

/* ------------------------------------------------ pipes, links, devices */

/* Writes b into a pipe from a child process; returns the read end's path
 * (/dev/fd/N) and the pid to wait for. */
static const char *pipe_of(const unsigned char *b, size_t n, pid_t *pid, int *fd)
{
    static char name[32];
    int p[2];
    CHECK(pipe(p) == 0);
    *pid = fork();
    if (*pid == 0) {
        close(p[0]);
        signal(SIGPIPE, SIG_DFL);
        size_t done = 0;
        while (done < n) {
            ssize_t w = write(p[1], b + done, n - done);
            if (w <= 0) _exit(1);
            done += (size_t)w;
        }
        _exit(0);
    }
    close(p[1]);
    *fd = p[0];
    snprintf(name, sizeof name, "/dev/fd/%d", p[0]);
    return name;
}

TEST(load_from_a_pipe)
{
    float p[NPARAMS], q[NPARAMS];
    const char *path = saved_model("pipe.lyw", p);
    size_t n = 0;
    unsigned char *b = read_bytes(path, &n);
    pid_t pid;
    int fd, status;
    if (!b) { CHECK(b != NULL); return; }
    fill_sentinel(q);
    CHECK(lc_weights_load(pipe_of(b, n, &pid, &fd), model, 4, q, NPARAMS, err, sizeof err));
    CHECK(memcmp(p, q, sizeof p) == 0);
    close(fd);
    waitpid(pid, &status, 0);
    /* the dispatcher, reading the magic once */
    fill_sentinel(q);
    CHECK(lc_params_load(pipe_of(b, n, &pid, &fd), model, 4, q, NPARAMS, err, sizeof err));
    CHECK(memcmp(p, q, sizeof p) == 0);
    close(fd);
    waitpid(pid, &status, 0);
    /* a cut stream is truncated, as a cut file is */
    fill_sentinel(q);
    CHECK(!lc_weights_load(pipe_of(b, n - 9, &pid, &fd), model, 4, q, NPARAMS, err, sizeof err));
    CHECK_CONTAINS(err, "truncated");
    CHECK(all_sentinel(q));
    close(fd);
    waitpid(pid, &status, 0);
    /* an endless stream is refused, not held in memory */
    CHECK(!lc_weights_load("/dev/zero", model, 4, q, NPARAMS, err, sizeof err));
    CHECK_CONTAINS(err, "/dev/zero: error: not a layerc weights file");
    free(b);
}

TEST(save_through_a_symlink_replaces_its_target)
{
    float p[NPARAMS], q[NPARAMS];
    char target[600], link[600];
    struct stat st;
    snprintf(target, sizeof target, "%s/target.lyw", dir);
    snprintf(link, sizeof link, "%s/link.lyw", dir);
    saved_model("target.lyw", p);
    CHECK(symlink("target.lyw", link) == 0);
    fill_params(p, 11);
    CHECK(lc_weights_save(link, model, 4, p, NPARAMS, err, sizeof err));
    CHECK(lstat(link, &st) == 0 && S_ISLNK(st.st_mode));
    CHECK(lc_weights_load(target, model, 4, q, NPARAMS, err, sizeof err));
    CHECK(memcmp(p, q, sizeof p) == 0);
    unlink(link);
}

/* /dev/null and /dev/full, or (as root) nodes of their own in the test's
 * directory: a broken save replaces those, not the machine's. */
static const char *device(const char *name, unsigned minor)
{
    static char path[2][600];
    char *p = path[minor == 7];
    snprintf(p, 600, "%s/dev.%s", dir, name);
    if (mknod(p, S_IFCHR | 0666, makedev(1, minor)) != 0) snprintf(p, 600, "/dev/%s", name);
    return p;
}

TEST(save_to_a_device_writes_in_place)
{
    float p[NPARAMS];
    struct stat st;
    const char *null = device("null", 3), *full = device("full", 7);
    fill_params(p, 1);
    CHECK(lc_weights_save(null, model, 4, p, NPARAMS, err, sizeof err));
    CHECK(stat(null, &st) == 0 && S_ISCHR(st.st_mode));
    CHECK(!lc_weights_save(full, model, 4, p, NPARAMS, err, sizeof err));
    CHECK_CONTAINS(err, "full: error: cannot save weights: write failed: No space left on device");
    CHECK(stat(full, &st) == 0 && S_ISCHR(st.st_mode));
    if (strncmp(null, "/dev/", 5)) unlink(null);
    if (strncmp(full, "/dev/", 5)) unlink(full);
}

int main(void)
{
    strcpy(dir, "/tmp/lc_test_weights.XXXXXX");
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    RUN(crc32_matches_zlib);
    RUN(round_trip);
    RUN(non_finite_values_are_refused);
    RUN(load_from_a_pipe);
    RUN(save_through_a_symlink_replaces_its_target);
    RUN(save_to_a_device_writes_in_place);
    RUN(round_trip_keeps_every_bit);
    RUN(file_layout_is_as_documented);
    RUN(offsets_are_honoured);
    RUN(empty_model);
    RUN(save_overwrites_and_leaves_no_temporary);
    RUN(save_keeps_permissions);
    RUN(missing_file);
    RUN(directory_as_file);
    RUN(not_a_weights_file);
    RUN(every_bit_flip_is_refused);
    RUN(flip_in_values_says_checksum);
    RUN(every_truncation_is_refused);
    RUN(extra_bytes_are_refused);
    RUN(newer_version_is_refused);
    RUN(crafted_tables_are_refused);
    RUN(another_model_names_the_tensor);
    RUN(another_model_renamed_or_reshaped);
    RUN(another_model_missing_or_extra_tensor);
    RUN(bad_table_from_the_caller);
    RUN(save_into_missing_directory);
    RUN(save_over_a_directory_keeps_it);
    RUN(failed_save_keeps_the_old_file_name_too_long);
    RUN(failed_save_keeps_the_old_file_disk_full);
    RUN(failed_save_keeps_the_old_file_read_only_dir);
    remove_all(dir);
    return test_report("weights");
}
