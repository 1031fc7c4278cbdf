/* test_npz.c: NumPy .npz weights -- round trip, the bytes numpy expects,
 * archives as Python's zipfile writes them (stored, deflated, ZIP64 extras,
 * Fortran order, float64, big-endian), and refusals that name the array and
 * leave the model untouched.
 *
 * With arguments it is the C half of the numpy check in tests/t_tools.sh:
 *   test_npz --save FILE   saves the table below with values k/8
 *   test_npz --load FILE   loads FILE, prints one line per tensor "name v0 v1 ..."
 */
#define _XOPEN_SOURCE 700

#include "test.h"
#include "test_files.h"
#include "npz.h"

#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include <dirent.h>
#include <zlib.h>

static char err[1024];

/* h.W [4, 3], h.b [4], out.W [2, 4], out.b [2]: 26 floats. */
static const LcTensorInfo model[4] = {
    { "h.W", 2, { 4, 3 }, 0, 12 },
    { "h.b", 1, { 4 }, 12, 4 },
    { "out.W", 2, { 2, 4 }, 16, 8 },
    { "out.b", 1, { 2 }, 24, 2 },
};
#define NPARAMS 26

static void fill(float *p, float scale)
{
    for (int i = 0; i < NPARAMS; i++) p[i] = (float)i * scale - 1.0f;
}

static uint32_t le32(const unsigned char *p) { return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24; }
static unsigned le16(const unsigned char *p) { return p[0] | p[1] << 8; }

/* ---------------------------------------------------- building archives */

/* A .npy: header dict text given, then count values of the dtype. */
static size_t make_npy(unsigned char *out, const char *dict, const char *dtype, long count)
{
    size_t dl = strlen(dict), total = (10 + dl + 1 + 63) / 64 * 64;
    memcpy(out, "\x93NUMPY\x01\x00", 8);
    out[8] = (unsigned char)((total - 10) & 0xff);
    out[9] = (unsigned char)((total - 10) >> 8);
    memcpy(out + 10, dict, dl);
    memset(out + 10 + dl, ' ', total - 10 - dl - 1);
    out[total - 1] = '\n';
    unsigned char *p = out + total;
    for (long k = 0; k < count; k++) {
        double v = (double)k / 4;
        if (!strcmp(dtype, "<f4") || !strcmp(dtype, ">f4")) {
            float f = (float)v;
            uint32_t u;
            memcpy(&u, &f, 4);
            for (int i = 0; i < 4; i++) p[dtype[0] == '<' ? i : 3 - i] = (unsigned char)(u >> 8 * i);
            p += 4;
        } else {
            uint64_t u;
            memcpy(&u, &v, 8);
            for (int i = 0; i < 8; i++) p[dtype[0] == '<' ? i : 7 - i] = (unsigned char)(u >> 8 * i);
            p += 8;
        }
    }
    return (size_t)(p - out);
}

typedef struct {
    const char *name;
    const unsigned char *data;
    size_t len;
} Member;

static void put(unsigned char *p, uint64_t v, int n)
{
    for (int i = 0; i < n; i++) p[i] = (unsigned char)(v >> 8 * i);
}

/* A ZIP of the members, stored or deflated, optionally with the local
 * headers' sizes left as ZIP64 placeholders the way numpy.savez leaves them. */
static size_t make_zip(unsigned char *out, const Member *m, int n, int deflated, int zip64_local)
{
    unsigned char central[4096];
    size_t o = 0, c = 0;
    for (int i = 0; i < n; i++) {
        size_t nl = strlen(m[i].name), blen = m[i].len;
        unsigned char body[8192];
        const unsigned char *b = m[i].data;
        if (deflated) {
            z_stream s;
            memset(&s, 0, sizeof s);
            deflateInit2(&s, 9, Z_DEFLATED, -MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
            s.next_in = (unsigned char *)(uintptr_t)m[i].data;
            s.avail_in = (unsigned)m[i].len;
            s.next_out = body;
            s.avail_out = sizeof body;
            CHECK(deflate(&s, Z_FINISH) == Z_STREAM_END);
            blen = s.total_out;
            deflateEnd(&s);
            b = body;
        }
        uint32_t crc = (uint32_t)crc32(0, m[i].data, (unsigned)m[i].len);
        size_t xl = zip64_local ? 20 : 0;
        put(out + o, 0x04034b50u, 4);
        put(out + o + 4, zip64_local ? 45 : 20, 2);
        put(out + o + 6, 0, 2);
        put(out + o + 8, deflated ? 8 : 0, 2);
        put(out + o + 10, 0, 4);
        put(out + o + 14, crc, 4);
        put(out + o + 18, zip64_local ? 0xffffffffu : blen, 4);
        put(out + o + 22, zip64_local ? 0xffffffffu : m[i].len, 4);
        put(out + o + 26, nl, 2);
        put(out + o + 28, xl, 2);
        memcpy(out + o + 30, m[i].name, nl);
        if (zip64_local) {
            put(out + o + 30 + nl, 1, 2);
            put(out + o + 32 + nl, 16, 2);
            put(out + o + 34 + nl, m[i].len, 8);
            put(out + o + 42 + nl, blen, 8);
        }
        memcpy(out + o + 30 + nl + xl, b, blen);
        memset(central + c, 0, 46);
        put(central + c, 0x02014b50u, 4);
        put(central + c + 4, 20, 2);
        put(central + c + 6, 20, 2);
        put(central + c + 10, deflated ? 8 : 0, 2);
        put(central + c + 16, crc, 4);
        put(central + c + 20, blen, 4);
        put(central + c + 24, m[i].len, 4);
        put(central + c + 28, nl, 2);
        put(central + c + 42, o, 4);
        memcpy(central + c + 46, m[i].name, nl);
        o += 30 + nl + xl + blen;
        c += 46 + nl;
    }
    memcpy(out + o, central, c);
    unsigned char *e = out + o + c;
    memset(e, 0, 22);
    put(e, 0x06054b50u, 4);
    put(e + 8, (uint64_t)n, 2);
    put(e + 10, (uint64_t)n, 2);
    put(e + 12, c, 4);
    put(e + 16, o, 4);
    return o + c + 22;
}

/* The four arrays of the model with the given descr, all values k/4. */
static unsigned char npy_store[4][2048];
static Member *model_members(const char *dtype, const char *wrong_shape_of)
{
    static Member m[4];
    static const char *shapes[4] = { "(4, 3)", "(4,)", "(2, 4)", "(2,)" };
    static const char *names[4] = { "h.W.npy", "h.b.npy", "out.W.npy", "out.b.npy" };
    for (int i = 0; i < 4; i++) {
        char dict[160];
        const char *shape = wrong_shape_of && !strcmp(wrong_shape_of, names[i]) ? "(3, 4)" : shapes[i];
        snprintf(dict, sizeof dict, "{'descr': '%s', 'fortran_order': False, 'shape': %s, }", dtype, shape);
        m[i].name = names[i];
        m[i].data = npy_store[i];
        m[i].len = make_npy(npy_store[i], dict, dtype, model[i].size);
    }
    return m;
}

static int loads_as_k_over_4(const char *path)
{
    float p[NPARAMS];
    fill(p, 0);
    if (!lc_npz_load(path, model, 4, p, err, sizeof err)) {
        fprintf(stderr, "load %s: %s\n", path, err);
        return 0;
    }
    for (int t = 0; t < 4; t++)
        for (long k = 0; k < model[t].size; k++)
            if (p[model[t].offset + k] != (float)k / 4) return 0;
    return 1;
}

/* ---------------------------------------------------------------- tests */

TEST(round_trip)
{
    float a[NPARAMS], b[NPARAMS];
    fill(a, 0.37f);
    a[3] = 1e-30f, a[4] = -3e38f, a[5] = 0.1f;
    CHECK(lc_npz_save(path_of("w.npz"), model, 4, a, err, sizeof err));
    fill(b, 0);
    CHECK(lc_npz_load(path_of("w.npz"), model, 4, b, err, sizeof err));
    CHECK(memcmp(a, b, sizeof a) == 0);
}

/* What numpy.load relies on: a ZIP with one stored, CRC-checked entry per
 * tensor named NAME.npy, each a v1.0 .npy with a 64-byte aligned header. */
TEST(archive_layout)
{
    float a[NPARAMS];
    size_t n;
    fill(a, 1);
    CHECK(lc_npz_save(path_of("layout.npz"), model, 4, a, err, sizeof err));
    unsigned char *b = read_bytes(path_of("layout.npz"), &n);
    CHECK(b != NULL && n > 22);
    if (!b || n <= 22) return;
    const unsigned char *e = b + n - 22;
    CHECK(le32(e) == 0x06054b50u);
    CHECK(le16(e + 10) == 4);
    size_t cd = le32(e + 16), at = cd;
    static const char *want[4] = { "h.W.npy", "h.b.npy", "out.W.npy", "out.b.npy" };
    for (int i = 0; i < 4 && at + 46 <= n; i++) {
        const unsigned char *c = b + at;
        size_t nl = le16(c + 28), off = le32(c + 42), usize = le32(c + 24);
        CHECK(le32(c) == 0x02014b50u);
        CHECK(le16(c + 10) == 0);                       /* stored */
        CHECK(nl == strlen(want[i]) && !memcmp(c + 46, want[i], nl));
        const unsigned char *l = b + off;
        CHECK(le32(l) == 0x04034b50u);
        const unsigned char *npy = l + 30 + le16(l + 26) + le16(l + 28);
        CHECK(le32(c + 16) == (uint32_t)crc32(0, npy, (unsigned)usize));
        CHECK(!memcmp(npy, "\x93NUMPY\x01\x00", 8));
        size_t hl = le16(npy + 8);
        CHECK((10 + hl) % 64 == 0);
        CHECK(usize == 10 + hl + 4 * (size_t)model[i].size);
        char head[256];
        snprintf(head, sizeof head, "%.*s", (int)hl, (const char *)npy + 10);
        CHECK_CONTAINS(head, "'descr': '<f4'");
        CHECK_CONTAINS(head, "'fortran_order': False");
        CHECK_CONTAINS(head, i == 0 ? "'shape': (4, 3)" : i == 1 ? "'shape': (4,)" : i == 2 ? "'shape': (2, 4)" : "'shape': (2,)");
        float v;
        memcpy(&v, npy + 10 + hl, 4);   /* little-endian host */
        CHECK(v == a[model[i].offset]);
        at += 46 + nl;
    }
    CHECK(at == n - 22);
    free(b);
}

TEST(deterministic_bytes)
{
    float a[NPARAMS];
    size_t n1, n2;
    fill(a, 0.5f);
    CHECK(lc_npz_save(path_of("d1.npz"), model, 4, a, err, sizeof err));
    CHECK(lc_npz_save(path_of("d2.npz"), model, 4, a, err, sizeof err));
    unsigned char *b1 = read_bytes(path_of("d1.npz"), &n1), *b2 = read_bytes(path_of("d2.npz"), &n2);
    CHECK(b1 && b2 && n1 == n2 && !memcmp(b1, b2, n1));
    free(b1), free(b2);
}

TEST(reads_stored_deflated_and_zip64_local_headers)
{
    static unsigned char zip[65536];
    size_t n = make_zip(zip, model_members("<f4", NULL), 4, 0, 0);
    write_bytes(path_of("stored.npz"), zip, n);
    CHECK(loads_as_k_over_4(path_of("stored.npz")));
    n = make_zip(zip, model_members("<f4", NULL), 4, 1, 0);
    write_bytes(path_of("deflated.npz"), zip, n);
    CHECK(loads_as_k_over_4(path_of("deflated.npz")));
    n = make_zip(zip, model_members("<f4", NULL), 4, 0, 1);
    write_bytes(path_of("zip64.npz"), zip, n);
    CHECK(loads_as_k_over_4(path_of("zip64.npz")));
}

TEST(reads_float64_and_big_endian)
{
    static unsigned char zip[65536];
    size_t n = make_zip(zip, model_members("<f8", NULL), 4, 0, 0);
    write_bytes(path_of("f8.npz"), zip, n);
    CHECK(loads_as_k_over_4(path_of("f8.npz")));
    n = make_zip(zip, model_members(">f4", NULL), 4, 1, 0);
    write_bytes(path_of("be.npz"), zip, n);
    CHECK(loads_as_k_over_4(path_of("be.npz")));
    /* both at once: the byte order of an 8-byte value */
    n = make_zip(zip, model_members(">f8", NULL), 4, 1, 0);
    write_bytes(path_of("be_f8.npz"), zip, n);
    CHECK(loads_as_k_over_4(path_of("be_f8.npz")));
}

/* np.savez(f, **{'h.W': W.T.copy().T}) stores a Fortran-order array: the
 * values must come out in C order all the same. */
TEST(reads_fortran_order)
{
    static unsigned char zip[65536];
    Member *m = model_members("<f4", NULL);
    unsigned char npy[512];
    const char *dict = "{'descr': '<f4', 'fortran_order': True, 'shape': (4, 3), }";
    size_t len = make_npy(npy, dict, "<f4", 0);
    /* C-order value at [i][j] is i*3+j, stored at Fortran position j*4+i */
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 3; j++) {
            float v = (float)(i * 3 + j) / 4;
            memcpy(npy + len + 4 * (size_t)(j * 4 + i), &v, 4);
        }
    m[0].data = npy;
    m[0].len = len + 48;
    size_t n = make_zip(zip, m, 4, 0, 0);
    write_bytes(path_of("fortran.npz"), zip, n);
    CHECK(loads_as_k_over_4(path_of("fortran.npz")));
}

static void refused(const char *file, const char *want)
{
    float p[NPARAMS], before[NPARAMS];
    fill(p, 2);
    memcpy(before, p, sizeof p);
    err[0] = '\0';
    CHECK(!lc_npz_load(path_of(file), model, 4, p, err, sizeof err));
    CHECK_CONTAINS(err, path_of(file));
    CHECK_CONTAINS(err, want);
    CHECK(memcmp(p, before, sizeof p) == 0);
}

TEST(refuses_wrong_shape_naming_the_array)
{
    static unsigned char zip[65536];
    size_t n = make_zip(zip, model_members("<f4", "out.W.npy"), 4, 0, 0);
    write_bytes(path_of("shape.npz"), zip, n);
    refused("shape.npz", "array 'out.W' has shape [3, 4] but the model's tensor is [2, 4]");
}

TEST(refuses_missing_and_extra_arrays)
{
    static unsigned char zip[65536];
    Member *m = model_members("<f4", NULL);
    size_t n = make_zip(zip, m, 3, 0, 0);
    write_bytes(path_of("missing.npz"), zip, n);
    refused("missing.npz", "no array 'out.b' in the archive");
    Member five[5];
    memcpy(five, m, 4 * sizeof *m);
    five[4] = m[0];
    five[4].name = "optimizer_step.npy";
    n = make_zip(zip, five, 5, 0, 0);
    write_bytes(path_of("extra.npz"), zip, n);
    refused("extra.npz", "array 'optimizer_step', which is not a weight of this model");
    five[4].name = "h.W";    /* the same array without .npy */
    n = make_zip(zip, five, 5, 0, 0);
    write_bytes(path_of("twice.npz"), zip, n);
    refused("twice.npz", "holds array 'h.W' twice");
}

TEST(refuses_other_dtypes)
{
    static unsigned char zip[65536];
    Member *m = model_members("<f4", NULL);
    unsigned char npy[512];
    m[1].data = npy;
    m[1].len = make_npy(npy, "{'descr': '<i8', 'fortran_order': False, 'shape': (4,), }", "<f8", 4);
    size_t n = make_zip(zip, m, 4, 0, 0);
    write_bytes(path_of("int.npz"), zip, n);
    refused("int.npz", "array 'h.b' has dtype '<i8'");
}

TEST(refuses_damage)
{
    float a[NPARAMS];
    size_t n;
    fill(a, 1);
    CHECK(lc_npz_save(path_of("good.npz"), model, 4, a, err, sizeof err));
    unsigned char *b = read_bytes(path_of("good.npz"), &n);
    if (!b) return;
    /* a flipped value byte: the entry's CRC */
    b[200] ^= 0x40;
    write_bytes(path_of("flip.npz"), b, n);
    refused("flip.npz", "checksum mismatch");
    b[200] ^= 0x40;
    /* every truncation: refused, never a crash */
    int all = 1;
    for (size_t cut = 0; cut < n; cut += 7) {
        write_bytes(path_of("cut.npz"), b, cut);
        float p[NPARAMS];
        fill(p, 0);
        all &= !lc_npz_load(path_of("cut.npz"), model, 4, p, err, sizeof err);
    }
    CHECK(all);
    refused("cut.npz", "cut.npz: error: ");
    free(b);
}

TEST(refuses_non_archives)
{
    write_bytes(path_of("text.npz"), "hello, world\n", 13);
    refused("text.npz", "not a NumPy .npz archive");
    write_bytes(path_of("lyw.npz"), "LYRW\1\0\0\0", 8);
    refused("lyw.npz", "layerc weights file (.lyw)");
    write_bytes(path_of("empty.npz"), "", 0);
    refused("empty.npz", "not a NumPy .npz archive");
    CHECK(mkdir(path_of("adir.npz"), 0755) == 0);
    refused("adir.npz", "is a directory");
    float p[NPARAMS];
    CHECK(!lc_npz_load("/dev/zero", model, 4, p, err, sizeof err));
    CHECK_CONTAINS(err, "/dev/zero: error: not a NumPy .npz archive");
    CHECK(!lc_npz_load(path_of("nonexistent.npz"), model, 4, p, err, sizeof err));
    CHECK_CONTAINS(err, "cannot open");
}

/* A hostile archive announcing a 4 GiB entry is refused without inflating
 * (or allocating) more than the tensor can hold. */
TEST(refuses_huge_announced_size)
{
    static unsigned char zip[65536];
    Member *m = model_members("<f4", NULL);
    size_t n = make_zip(zip, m, 4, 1, 0);
    /* first central entry: uncompressed size field */
    size_t cd = le32(zip + n - 22 + 16);
    put(zip + cd + 24, 0xfffffff0u, 4);
    write_bytes(path_of("huge.npz"), zip, n);
    refused("huge.npz", "h.W");
}

TEST(failed_save_keeps_the_old_file)
{
    float a[NPARAMS], b[NPARAMS];
    fill(a, 1);
    CHECK(lc_npz_save(path_of("keep.npz"), model, 4, a, err, sizeof err));
    CHECK(!lc_npz_save("/nonexistent/dir/w.npz", model, 4, a, err, sizeof err));
    CHECK_CONTAINS(err, "/nonexistent/dir/w.npz");
    LcTensorInfo bad = { "bad", 1, { 3 }, 0, 4 };   /* size disagrees with dims */
    CHECK(!lc_npz_save(path_of("keep.npz"), &bad, 1, a, err, sizeof err));
    CHECK_CONTAINS(err, "internal");
    fill(b, 0);
    CHECK(lc_npz_load(path_of("keep.npz"), model, 4, b, err, sizeof err));
    CHECK(memcmp(a, b, sizeof a) == 0);
    /* no temporary left beside it */
    DIR *d = opendir(dir);
    struct dirent *e;
    int tmp = 0;
    while (d && (e = readdir(d))) tmp += strstr(e->d_name, ".tmp.") != NULL;
    if (d) closedir(d);
    CHECK(tmp == 0);
}

TEST(empty_model)
{
    float p[1] = { 5 };
    CHECK(lc_npz_save(path_of("none.npz"), NULL, 0, p, err, sizeof err));
    CHECK(lc_npz_load(path_of("none.npz"), NULL, 0, p, err, sizeof err));
    CHECK(p[0] == 5);
    refused("none.npz", "no array 'h.W'");
}

/* out.W[1, 1] (value 5 of member 2) set to v, as float64 or float32. */
static size_t archive_with(unsigned char *zip, const char *dtype, double v)
{
    Member *m = model_members(dtype, NULL);
    int size = dtype[2] == '8' ? 8 : 4;
    unsigned char *at = npy_store[2] + m[2].len - (size_t)size * 8 + (size_t)size * 5;
    if (size == 8) memcpy(at, &v, 8);
    else {
        float f = (float)v;
        memcpy(at, &f, 4);
    }
    return make_zip(zip, m, 4, 0, 0);
}

/* NaN, the infinities and float64 values beyond the float range (which
 * become infinities) are refused naming the array; nothing is loaded. */
TEST(refuses_non_finite_values)
{
    static unsigned char zip[65536];
    size_t n = archive_with(zip, "<f4", NAN);
    write_bytes(path_of("nan.npz"), zip, n);
    refused("nan.npz", "array 'out.W' holds nan at index 5 (of 8)");
    n = archive_with(zip, "<f8", 1e39);
    write_bytes(path_of("big.npz"), zip, n);
    refused("big.npz", "array 'out.W' holds inf at index 5 (of 8) as a float");
    n = archive_with(zip, "<f8", -INFINITY);
    write_bytes(path_of("ninf.npz"), zip, n);
    refused("ninf.npz", "array 'out.W' holds -inf at index 5");
    n = archive_with(zip, "<f8", 3e38);   /* within the float range: fine */
    write_bytes(path_of("edge.npz"), zip, n);
    float p[NPARAMS];
    CHECK(lc_npz_load(path_of("edge.npz"), model, 4, p, err, sizeof err));
    CHECK(p[16 + 5] == (float)3e38);
}

/* Read once from one descriptor: a pipe brings the whole archive. */
TEST(reads_a_pipe)
{
    static unsigned char zip[65536];
    size_t n = make_zip(zip, model_members("<f4", NULL), 4, 1, 0);
    write_bytes(path_of("p.npz"), zip, n);
    char cmd[700], name[32];
    snprintf(cmd, sizeof cmd, "cat '%s'", path_of("p.npz"));
    FILE *f = popen(cmd, "r");
    CHECK(f != NULL);
    if (!f) return;
    snprintf(name, sizeof name, "/dev/fd/%d", fileno(f));
    float p[NPARAMS];
    fill(p, 0);
    CHECK(lc_npz_load(name, model, 4, p, err, sizeof err));
    for (int t = 0; t < 4; t++)
        for (long k = 0; k < model[t].size; k++) CHECK(p[model[t].offset + k] == (float)k / 4);
    pclose(f);
}

static int tool(int argc, char **argv)
{
    float p[NPARAMS];
    if (argc == 3 && !strcmp(argv[1], "--save")) {
        for (int i = 0; i < NPARAMS; i++) p[i] = (float)i / 8;
        if (lc_npz_save(argv[2], model, 4, p, err, sizeof err)) return 0;
    } else if (argc == 3 && !strcmp(argv[1], "--load")) {
        if (lc_npz_load(argv[2], model, 4, p, err, sizeof err)) {
            for (int t = 0; t < 4; t++) {
                printf("%s", model[t].name);
                for (long k = 0; k < model[t].size; k++) printf(" %.9g", p[model[t].offset + k]);
                printf("\n");
            }
            return 0;
        }
    } else {
        fprintf(stderr, "usage: test_npz [--save FILE | --load FILE]\n");
        return 2;
    }
    fprintf(stderr, "%s\n", err);
    return 1;
}

int main(int argc, char **argv)
{
    if (argc > 1) return tool(argc, argv);
    snprintf(dir, sizeof dir, "/tmp/test_npz.XXXXXX");
    if (!mkdtemp(dir)) return 1;
    RUN(round_trip);
    RUN(archive_layout);
    RUN(deterministic_bytes);
    RUN(reads_stored_deflated_and_zip64_local_headers);
    RUN(reads_float64_and_big_endian);
    RUN(reads_fortran_order);
    RUN(refuses_wrong_shape_naming_the_array);
    RUN(refuses_missing_and_extra_arrays);
    RUN(refuses_other_dtypes);
    RUN(refuses_damage);
    RUN(refuses_non_archives);
    RUN(refuses_huge_announced_size);
    RUN(refuses_non_finite_values);
    RUN(reads_a_pipe);
    RUN(failed_save_keeps_the_old_file);
    RUN(empty_model);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
    return test_report("npz");
}
