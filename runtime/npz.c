/* npz.c: weights as NumPy .npz archives; see npz.h.
 *
 * Formats: the ZIP application note (PKWARE APPNOTE.TXT: local headers,
 * central directory, end of central directory, ZIP64 extensions) and NumPy's
 * NEP 1 .npy format (magic, version, a Python dict literal header padded to a
 * multiple of 64 bytes, then the raw array).
 *
 * Writing makes exactly what numpy.savez makes minus its ZIP64 extras, which
 * no archive of a model needs (a model's state stays under 2 GiB): stored
 * entries, each .npy header padded to 64 bytes, a central directory.
 * Timestamps are fixed (1980-01-01) so the same weights give the same bytes.
 *
 * Reading trusts the central directory, not the local headers, for sizes and
 * CRCs: that is what Python's zipfile writes last and reads first, and it is
 * right even when the local header carries placeholders (streamed or ZIP64
 * entries).  Every offset and length from the file is checked against the
 * bytes actually there before it is used, and no allocation is sized by a
 * number from the file alone: an entry's inflated size is capped by what the
 * model's tensor can take.
 */
#define _XOPEN_SOURCE 700

#include "npz.h"

#include <errno.h>
#include <fcntl.h>
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

#include "files.h"
#include "train.h"

#define ZIP_LOCAL_SIG 0x04034b50u
#define ZIP_CENTRAL_SIG 0x02014b50u
#define ZIP_END_SIG 0x06054b50u
#define ZIP64_END_SIG 0x06064b50u
#define ZIP64_LOCATOR_SIG 0x07064b50u
#define ZIP_LOCAL_SIZE 30u
#define ZIP_CENTRAL_SIZE 46u
#define ZIP_END_SIZE 22u
#define ZIP64_END_SIZE 56u
#define ZIP64_LOCATOR_SIZE 20u
#define ZIP_VERSION 20u              /* 2.0: deflate, directories */
#define ZIP_DOS_DATE 0x0021u         /* 1980-01-01 */
#define NPY_ALIGN 64u
/* numpy refuses headers over 10000 bytes by default; any header it writes
 * for a tensor of rank <= 8 is far below this. */
#define NPY_MAX_HEADER 65536u

/* ------------------------------------------------------------------ errors */

/* ------------------------------------------------------------------- bytes */

static uint64_t get_be(const unsigned char *p, int bytes)
{
    uint64_t v = 0;
    for (int i = 0; i < bytes; i++) v = v << 8 | p[i];
    return v;
}

/* "[4, 3]" */
static const char *dims_str(const uint64_t *dims, int rank, char *buf, size_t len)
{
    size_t used = (size_t)snprintf(buf, len, "[");
    for (int d = 0; d < rank && used < len; d++)
        used += (size_t)snprintf(buf + used, len - used, "%s%llu", d ? ", " : "",
                                 (unsigned long long)dims[d]);
    if (used < len) snprintf(buf + used, len - used, "]");
    return buf;
}

static const char *tensor_dims_str(const LcTensorInfo *t, char *buf, size_t len)
{
    uint64_t dims[LC_MAX_RANK];
    for (int d = 0; d < t->rank; d++) dims[d] = (uint64_t)t->dims[d];
    return dims_str(dims, t->rank, buf, len);
}

/* The caller's table must be sound before any byte is read or written:
 * a bad one is a bug in layerc, said as such. */
static int check_table(const char *path, const LcTensorInfo *t, int nt, char *err, size_t errlen)
{
    if (nt < 0 || (nt > 0 && !t)) return lc_fail(err, errlen, "%s: error: internal: bad tensor table", path);
    for (int i = 0; i < nt; i++) {
        long size = 1;
        if (!t[i].name || strlen(t[i].name) > 65535 - 4 || t[i].rank < 0 || t[i].rank > LC_MAX_RANK ||
            t[i].offset < 0)
            return lc_fail(err, errlen, "%s: error: internal: tensor %d has a bad name, rank or offset",
                        path, i + 1);
        for (int d = 0; d < t[i].rank; d++) {
            if (t[i].dims[d] < 0 || (t[i].dims[d] > 0 && size > LONG_MAX / t[i].dims[d]))
                return lc_fail(err, errlen, "%s: error: internal: tensor '%s' has bad dimensions", path,
                            t[i].name);
            size *= t[i].dims[d];
        }
        if (size != t[i].size)
            return lc_fail(err, errlen, "%s: error: internal: tensor '%s' has %ld elements, not %ld",
                        path, t[i].name, t[i].size, size);
    }
    return 1;
}

/* ------------------------------------------------------------------ saving */

/* The .npy header of one float32 tensor, padded with spaces and a final
 * newline so that the data starts on a 64-byte boundary, as numpy does. */
static size_t npy_header(const LcTensorInfo *t, unsigned char *h, size_t cap)
{
    char dict[256];
    int k = snprintf(dict, sizeof dict, "{'descr': '<f4', 'fortran_order': False, 'shape': (");
    for (int d = 0; d < t->rank; d++)
        k += snprintf(dict + k, sizeof dict - (size_t)k, "%s%d", d ? ", " : "", t->dims[d]);
    /* a 1-tuple is written "(4,)" in Python */
    k += snprintf(dict + k, sizeof dict - (size_t)k, "%s), }", t->rank == 1 ? "," : "");
    size_t total = 10 + (size_t)k + 1;
    total = (total + NPY_ALIGN - 1) / NPY_ALIGN * NPY_ALIGN;
    if (total > cap) return 0;
    memcpy(h, "\x93NUMPY\x01\x00", 8);
    lc_put_le(h + 8, total - 10, 2);
    memcpy(h + 10, dict, (size_t)k);
    memset(h + 10 + k, ' ', total - 10 - (size_t)k - 1);
    h[total - 1] = '\n';
    return total;
}

static size_t put_local_header(unsigned char *p, const char *name, size_t name_len,
                               uint32_t crc, uint32_t size)
{
    lc_put_le(p, ZIP_LOCAL_SIG, 4);
    lc_put_le(p + 4, ZIP_VERSION, 2);
    lc_put_le(p + 6, 0, 2);                 /* flags */
    lc_put_le(p + 8, 0, 2);                 /* stored */
    lc_put_le(p + 10, 0, 2);                /* time */
    lc_put_le(p + 12, ZIP_DOS_DATE, 2);
    lc_put_le(p + 14, crc, 4);
    lc_put_le(p + 18, size, 4);
    lc_put_le(p + 22, size, 4);
    lc_put_le(p + 26, name_len, 2);
    lc_put_le(p + 28, 0, 2);                /* extra */
    memcpy(p + ZIP_LOCAL_SIZE, name, name_len - 4);
    memcpy(p + ZIP_LOCAL_SIZE + name_len - 4, ".npy", 4);
    return ZIP_LOCAL_SIZE + name_len;
}

static size_t put_central_header(unsigned char *p, const char *name, size_t name_len,
                                 uint32_t crc, uint32_t size, uint32_t offset)
{
    lc_put_le(p, ZIP_CENTRAL_SIG, 4);
    lc_put_le(p + 4, 3u << 8 | ZIP_VERSION, 2);   /* made by: Unix, so the mode below counts */
    lc_put_le(p + 6, ZIP_VERSION, 2);
    lc_put_le(p + 8, 0, 2);
    lc_put_le(p + 10, 0, 2);
    lc_put_le(p + 12, 0, 2);
    lc_put_le(p + 14, ZIP_DOS_DATE, 2);
    lc_put_le(p + 16, crc, 4);
    lc_put_le(p + 20, size, 4);
    lc_put_le(p + 24, size, 4);
    lc_put_le(p + 28, name_len, 2);
    lc_put_le(p + 30, 0, 2);                /* extra */
    lc_put_le(p + 32, 0, 2);                /* comment */
    lc_put_le(p + 34, 0, 2);                /* disk */
    lc_put_le(p + 36, 0, 2);                /* internal attributes */
    lc_put_le(p + 38, (uint64_t)0100644 << 16, 4);
    lc_put_le(p + 42, offset, 4);
    memcpy(p + ZIP_CENTRAL_SIZE, name, name_len - 4);
    memcpy(p + ZIP_CENTRAL_SIZE + name_len - 4, ".npy", 4);
    return ZIP_CENTRAL_SIZE + name_len;
}

int lc_npz_save(const char *path, const LcTensorInfo *t, int nt, const float *params,
                char *err, size_t errlen)
{
    if (!check_table(path, t, nt, err, errlen)) return 0;
    if (nt > 0xffff)
        return lc_fail(err, errlen, "%s: error: cannot save %d tensors in a .npz (at most 65535)", path, nt);
    /* Sizes first: the archive is built in one buffer of exactly its size. */
    uint64_t total = ZIP_END_SIZE;
    unsigned char h[512];
    for (int i = 0; i < nt; i++) {
        size_t name_len = strlen(t[i].name) + 4;
        uint64_t npy = npy_header(&t[i], h, sizeof h) + 4 * (uint64_t)t[i].size;
        total += ZIP_LOCAL_SIZE + ZIP_CENTRAL_SIZE + 2 * name_len + npy;
    }
    if (total > 0xffffffffu)
        return lc_fail(err, errlen, "%s: error: cannot save: the weights need a .npz over 4 GiB", path);
    unsigned char *buf = malloc((size_t)total), *p = buf;
    size_t slots = nt > 0 ? (size_t)(unsigned)nt : 1;
    uint32_t *crcs = malloc(sizeof *crcs * slots);
    uint32_t *offsets = malloc(sizeof *offsets * slots);
    if (!buf || !crcs || !offsets) {
        free(buf), free(crcs), free(offsets);
        return lc_fail(err, errlen, "%s: error: cannot save: out of memory", path);
    }
    for (int i = 0; i < nt; i++) {
        size_t name_len = strlen(t[i].name) + 4, hl = npy_header(&t[i], h, sizeof h);
        uint32_t size = (uint32_t)(hl + 4 * (size_t)t[i].size);
        unsigned char *local = p, *data = p + ZIP_LOCAL_SIZE + name_len;
        offsets[i] = (uint32_t)(p - buf);
        memcpy(data, h, hl);
        /* byte by byte: little-endian on any machine */
        for (long k = 0; k < t[i].size; k++) {
            uint32_t u;
            memcpy(&u, &params[t[i].offset + k], 4);
            lc_put_le(data + hl + 4 * (size_t)k, u, 4);
        }
        crcs[i] = lc_crc32(0, data, size);
        p += put_local_header(local, t[i].name, name_len, crcs[i], size) + size;
    }
    unsigned char *central = p;
    for (int i = 0; i < nt; i++) {
        size_t name_len = strlen(t[i].name) + 4;
        uint32_t size = (uint32_t)(npy_header(&t[i], h, sizeof h) + 4 * (size_t)t[i].size);
        p += put_central_header(p, t[i].name, name_len, crcs[i], size, offsets[i]);
    }
    lc_put_le(p, ZIP_END_SIG, 4);
    lc_put_le(p + 4, 0, 2);
    lc_put_le(p + 6, 0, 2);
    lc_put_le(p + 8, (uint64_t)nt, 2);
    lc_put_le(p + 10, (uint64_t)nt, 2);
    lc_put_le(p + 12, (uint64_t)(p - central), 4);
    lc_put_le(p + 16, (uint64_t)(central - buf), 4);
    lc_put_le(p + 20, 0, 2);
    p += ZIP_END_SIZE;
    int ok = lc_write_atomic(path, buf, (size_t)(p - buf), err, errlen);
    free(buf), free(crcs), free(offsets);
    return ok;
}

/* ----------------------------------------------------------------- loading */

typedef struct {
    const unsigned char *name;   /* as in the archive, e.g. "h.W.npy" */
    size_t name_len;
    size_t key_len;              /* without ".npy": the array's name */
    unsigned flags, method;
    uint32_t crc;
    uint64_t csize, usize, offset;
    int used;                    /* matched to a tensor */
} Entry;

typedef struct {
    const char *path;
    const unsigned char *b;
    size_t n;
    char *err;
    size_t errlen;
    Entry *entries;
    uint64_t nentries;
} Zip;

/* An entry's name for messages: printable bytes only, at most 60 of them. */
static const char *entry_label(const unsigned char *name, size_t len, char *buf, size_t cap)
{
    size_t i, max = cap > 4 ? cap - 4 : 0;
    for (i = 0; i < len && i < max && i < 60; i++)
        buf[i] = name[i] >= 0x20 && name[i] < 0x7f ? (char)name[i] : '?';
    if (i < len && i + 3 < cap) memcpy(buf + i, "...", 3), i += 3;
    buf[i] = '\0';
    return buf;
}

static int damaged(const Zip *z, const char *what)
{
    return lc_fail(z->err, z->errlen, "%s: error: damaged .npz archive: %s", z->path, what);
}

/* The end of central directory record: the last one in the final 64 KiB,
 * where a comment may follow it. */
static int find_end(const Zip *z, size_t *at)
{
    if (z->n < ZIP_END_SIZE) return 0;
    size_t lowest = z->n - ZIP_END_SIZE > 0xffff ? z->n - ZIP_END_SIZE - 0xffff : 0;
    for (size_t i = z->n - ZIP_END_SIZE + 1; i-- > lowest;)
        if (lc_get_le(z->b + i, 4) == ZIP_END_SIG && i + ZIP_END_SIZE + lc_get_le(z->b + i + 20, 2) <= z->n) {
            *at = i;
            return 1;
        }
    return 0;
}

/* Where the central directory is and how many entries it has, from the end
 * record or, when that one says "see ZIP64", from the ZIP64 end record. */
static int read_directory_location(Zip *z, uint64_t *count, uint64_t *cd_off, uint64_t *cd_size)
{
    size_t end;
    if (!find_end(z, &end)) {
        if (z->n >= 4 && !memcmp(z->b, "LYRW", 4))
            return lc_fail(z->err, z->errlen, "%s: error: this is a layerc weights file (.lyw), not a "
                        "NumPy .npz archive", z->path);
        return lc_fail(z->err, z->errlen, "%s: error: not a NumPy .npz archive (no ZIP directory found)",
                    z->path);
    }
    const unsigned char *e = z->b + end;
    uint64_t disk = lc_get_le(e + 4, 2), cd_disk = lc_get_le(e + 6, 2);
    uint64_t on_disk = lc_get_le(e + 8, 2);
    *count = lc_get_le(e + 10, 2);
    *cd_size = lc_get_le(e + 12, 4);
    *cd_off = lc_get_le(e + 16, 4);
    if (*count == 0xffff || *cd_size == 0xffffffffu || *cd_off == 0xffffffffu) {
        if (end < ZIP64_LOCATOR_SIZE || lc_get_le(e - ZIP64_LOCATOR_SIZE, 4) != ZIP64_LOCATOR_SIG)
            return damaged(z, "ZIP64 fields without a ZIP64 end record");
        uint64_t at = lc_get_le(e - ZIP64_LOCATOR_SIZE + 8, 8);
        if (at > z->n || z->n - at < ZIP64_END_SIZE || lc_get_le(z->b + at, 4) != ZIP64_END_SIG)
            return damaged(z, "bad ZIP64 end record");
        const unsigned char *e64 = z->b + at;
        disk = lc_get_le(e64 + 16, 4);
        cd_disk = lc_get_le(e64 + 20, 4);
        on_disk = lc_get_le(e64 + 24, 8);
        *count = lc_get_le(e64 + 32, 8);
        *cd_size = lc_get_le(e64 + 40, 8);
        *cd_off = lc_get_le(e64 + 48, 8);
        end = (size_t)at;
    }
    if (disk != 0 || cd_disk != 0 || on_disk != *count)
        return lc_fail(z->err, z->errlen, "%s: error: multi-volume ZIP archives are not supported", z->path);
    if (*cd_off > end || *cd_size > end - *cd_off)
        return damaged(z, "the central directory lies outside the file");
    if (*count > *cd_size / ZIP_CENTRAL_SIZE)
        return damaged(z, "more entries than the central directory can hold");
    return 1;
}

/* Sizes and offset that do not fit 32 bits are in the ZIP64 extra field
 * (id 1), in this order, present only when the 32-bit field is all ones. */
static int read_zip64_extra(const Zip *z, const unsigned char *x, size_t len, Entry *en)
{
    uint64_t *fields[3] = { &en->usize, &en->csize, &en->offset };
    while (len >= 4) {
        unsigned id = (unsigned)lc_get_le(x, 2);
        size_t size = (size_t)lc_get_le(x + 2, 2);
        if (size > len - 4) return damaged(z, "an extra field runs past its entry");
        if (id == 1) {
            const unsigned char *p = x + 4;
            size_t left = size;
            for (int f = 0; f < 3; f++) {
                if (*fields[f] != 0xffffffffu) continue;
                if (left < 8) return damaged(z, "a short ZIP64 extra field");
                *fields[f] = lc_get_le(p, 8);
                p += 8, left -= 8;
            }
            return 1;
        }
        x += 4 + size, len -= 4 + size;
    }
    return 1;
}

static int read_directory(Zip *z)
{
    uint64_t count = 0, cd_off = 0, cd_size = 0;
    if (!read_directory_location(z, &count, &cd_off, &cd_size)) return 0;
    z->entries = calloc((size_t)(count ? count : 1), sizeof *z->entries);
    if (!z->entries) return lc_fail(z->err, z->errlen, "%s: error: out of memory", z->path);
    z->nentries = count;
    const unsigned char *p = z->b + cd_off, *end = p + cd_size;
    for (uint64_t i = 0; i < count; i++) {
        Entry *en = &z->entries[i];
        if ((size_t)(end - p) < ZIP_CENTRAL_SIZE || lc_get_le(p, 4) != ZIP_CENTRAL_SIG)
            return damaged(z, "bad central directory entry");
        size_t name_len = (size_t)lc_get_le(p + 28, 2), extra = (size_t)lc_get_le(p + 30, 2);
        size_t comment = (size_t)lc_get_le(p + 32, 2);
        if (name_len + extra + comment > (size_t)(end - p) - ZIP_CENTRAL_SIZE)
            return damaged(z, "a central directory entry runs past the directory");
        en->flags = (unsigned)lc_get_le(p + 8, 2);
        en->method = (unsigned)lc_get_le(p + 10, 2);
        en->crc = (uint32_t)lc_get_le(p + 16, 4);
        en->csize = lc_get_le(p + 20, 4);
        en->usize = lc_get_le(p + 24, 4);
        en->offset = lc_get_le(p + 42, 4);
        en->name = p + ZIP_CENTRAL_SIZE;
        en->name_len = name_len;
        en->key_len = name_len >= 4 && !memcmp(en->name + name_len - 4, ".npy", 4) ? name_len - 4 : name_len;
        if (!read_zip64_extra(z, en->name + name_len, extra, en)) return 0;
        p += ZIP_CENTRAL_SIZE + name_len + extra + comment;
    }
    return 1;
}

static int key_cmp(const unsigned char *a, size_t alen, const unsigned char *b, size_t blen)
{
    int c = memcmp(a, b, alen < blen ? alen : blen);
    return c ? c : (alen > blen) - (alen < blen);
}

static int entry_cmp(const void *pa, const void *pb)
{
    const Entry *a = pa, *b = pb;
    return key_cmp(a->name, a->key_len, b->name, b->key_len);
}

/* Sorted by array name, so that finding a tensor's array costs a binary
 * search however many entries a hostile archive lists. */
static int sort_entries(Zip *z)
{
    char a[80];
    qsort(z->entries, (size_t)z->nentries, sizeof *z->entries, entry_cmp);
    for (uint64_t i = 1; i < z->nentries; i++)
        if (!entry_cmp(&z->entries[i - 1], &z->entries[i]))
            return lc_fail(z->err, z->errlen, "%s: error: the archive holds array '%s' twice", z->path,
                        entry_label(z->entries[i].name, z->entries[i].key_len, a, sizeof a));
    return 1;
}

static Entry *find_entry(const Zip *z, const char *name)
{
    size_t len = strlen(name);
    uint64_t lo = 0, hi = z->nentries;
    while (lo < hi) {
        uint64_t mid = lo + (hi - lo) / 2;
        int c = key_cmp(z->entries[mid].name, z->entries[mid].key_len, (const unsigned char *)name, len);
        if (c == 0) return &z->entries[mid];
        if (c < 0) lo = mid + 1;
        else hi = mid;
    }
    return NULL;
}

/* ---- one .npy ---- */

typedef struct {
    int rank;
    uint64_t dims[LC_MAX_RANK];
    int fortran;
    int itemsize;                /* 4 or 8 */
    int big_endian;
    char descr[16];
} NpyHeader;

typedef struct {
    const char *s, *end;
} Lit;

static void lit_space(Lit *l)
{
    while (l->s < l->end && (*l->s == ' ' || *l->s == '\t' || *l->s == '\n' || *l->s == '\r')) l->s++;
}

static int lit_char(Lit *l, char c)
{
    lit_space(l);
    if (l->s < l->end && *l->s == c) {
        l->s++;
        return 1;
    }
    return 0;
}

/* A Python string literal, '...' or "...", without escapes (numpy writes none). */
static int lit_string(Lit *l, const char **s, size_t *len)
{
    lit_space(l);
    if (l->s >= l->end || (*l->s != '\'' && *l->s != '"')) return 0;
    char q = *l->s++;
    *s = l->s;
    while (l->s < l->end && *l->s != q && *l->s != '\\') l->s++;
    if (l->s >= l->end || *l->s != q) return 0;
    *len = (size_t)(l->s - *s);
    l->s++;
    return 1;
}

static int lit_word(Lit *l, const char *w)
{
    size_t n = strlen(w);
    lit_space(l);
    if ((size_t)(l->end - l->s) < n || memcmp(l->s, w, n)) return 0;
    l->s += n;
    return 1;
}

/* "(4, 3)", "(4,)", "()"; *rank may come out over LC_MAX_RANK (then the
 * dims past it are not kept) so that the message can say so. */
static int lit_shape(Lit *l, NpyHeader *h)
{
    if (!lit_char(l, '(')) return 0;
    h->rank = 0;
    for (;;) {
        if (lit_char(l, ')')) return 1;
        lit_space(l);
        if (l->s >= l->end || *l->s < '0' || *l->s > '9') return 0;
        uint64_t v = 0;
        while (l->s < l->end && *l->s >= '0' && *l->s <= '9') {
            if (v > (UINT64_MAX - 9) / 10) return 0;
            v = v * 10 + (uint64_t)(*l->s++ - '0');
        }
        if (l->s < l->end && *l->s == 'L') l->s++;   /* Python 2's long */
        if (h->rank < LC_MAX_RANK) h->dims[h->rank] = v;
        if (h->rank <= LC_MAX_RANK) h->rank++;
        if (!lit_char(l, ',')) return lit_char(l, ')');
    }
}

/* The header dict: {'descr': '<f4', 'fortran_order': False, 'shape': (4, 3), } */
static int parse_dict(const char *s, size_t n, NpyHeader *h, const char **bad_descr)
{
    Lit l = { s, s + n };
    int have = 0;
    *bad_descr = NULL;
    if (!lit_char(&l, '{')) return 0;
    while (!lit_char(&l, '}')) {
        const char *key, *v;
        size_t klen, vlen;
        if (!lit_string(&l, &key, &klen) || !lit_char(&l, ':')) return 0;
        if (klen == 5 && !memcmp(key, "descr", 5)) {
            if (!lit_string(&l, &v, &vlen)) return 0;
            snprintf(h->descr, sizeof h->descr, "%.*s", (int)(vlen < 15 ? vlen : 15), v);
            if (vlen == 3 && (v[0] == '<' || v[0] == '>') && v[1] == 'f' && (v[2] == '4' || v[2] == '8')) {
                h->big_endian = v[0] == '>';
                h->itemsize = v[2] - '0';
            } else {
                *bad_descr = h->descr;
            }
            have |= 1;
        } else if (klen == 13 && !memcmp(key, "fortran_order", 13)) {
            if (lit_word(&l, "True")) h->fortran = 1;
            else if (lit_word(&l, "False")) h->fortran = 0;
            else return 0;
            have |= 2;
        } else if (klen == 5 && !memcmp(key, "shape", 5)) {
            if (!lit_shape(&l, h)) return 0;
            have |= 4;
        } else {
            return 0;
        }
        if (!lit_char(&l, ',')) {
            if (!lit_char(&l, '}')) return 0;
            break;
        }
    }
    return have == 7;
}

/* The header of a .npy at b (n bytes, of which maybe only the start is
 * there); *data_at gets where the array starts. */
static int parse_npy_header(const Zip *z, const char *array, const unsigned char *b, size_t n,
                            NpyHeader *h, size_t *data_at)
{
    memset(h, 0, sizeof *h);
    if (n < 10 || memcmp(b, "\x93NUMPY", 6))
        return lc_fail(z->err, z->errlen, "%s: error: array '%s' is not a .npy file", z->path, array);
    size_t hlen, start;
    if (b[6] == 1) hlen = (size_t)lc_get_le(b + 8, 2), start = 10;
    else if ((b[6] == 2 || b[6] == 3) && n >= 12) hlen = (size_t)lc_get_le(b + 8, 4), start = 12;
    else
        return lc_fail(z->err, z->errlen, "%s: error: array '%s': .npy format version %d.%d is not supported",
                    z->path, array, b[6], b[7]);
    if (hlen > NPY_MAX_HEADER || hlen > n - start)
        return lc_fail(z->err, z->errlen, "%s: error: array '%s': damaged .npy header", z->path, array);
    const char *bad_descr;
    if (!parse_dict((const char *)b + start, hlen, h, &bad_descr))
        return lc_fail(z->err, z->errlen, "%s: error: array '%s': damaged .npy header", z->path, array);
    if (bad_descr)
        return lc_fail(z->err, z->errlen, "%s: error: array '%s' has dtype '%s'; layerc reads float32 "
                    "or float64 arrays ('<f4', '<f8')", z->path, array, bad_descr);
    *data_at = start + hlen;
    return 1;
}

static int check_shape(const Zip *z, const char *array, const NpyHeader *h, const LcTensorInfo *t)
{
    char a[160], b[160];
    int same = h->rank == t->rank;
    for (int d = 0; same && d < t->rank; d++) same = h->dims[d] == (uint64_t)t->dims[d];
    if (same) return 1;
    if (h->rank > LC_MAX_RANK)
        return lc_fail(z->err, z->errlen, "%s: error: array '%s' has more than %d dimensions but the "
                    "model's tensor is %s", z->path, array, LC_MAX_RANK, tensor_dims_str(t, b, sizeof b));
    return lc_fail(z->err, z->errlen, "%s: error: array '%s' has shape %s but the model's tensor is %s",
                z->path, array, dims_str(h->dims, h->rank, a, sizeof a), tensor_dims_str(t, b, sizeof b));
}

static float element(const unsigned char *p, const NpyHeader *h)
{
    if (h->itemsize == 4) {
        uint32_t u = (uint32_t)(h->big_endian ? get_be(p, 4) : lc_get_le(p, 4));
        float f;
        memcpy(&f, &u, 4);
        return f;
    }
    uint64_t u = h->big_endian ? get_be(p, 8) : lc_get_le(p, 8);
    double d;
    memcpy(&d, &u, 8);
    return (float)d;
}

/* The values in C order: a Fortran-order array (numpy writes one for a
 * transposed view, `W.T`) has its first index varying fastest. */
static void convert(const unsigned char *data, const NpyHeader *h, const LcTensorInfo *t, float *out)
{
    long n = t->size;
    if (!h->fortran || t->rank < 2) {
        for (long k = 0; k < n; k++) out[k] = element(data + (size_t)k * (size_t)h->itemsize, h);
        return;
    }
    long idx[LC_MAX_RANK] = { 0 };
    for (long k = 0; k < n; k++) {
        long f = 0;
        for (int d = t->rank - 1; d >= 0; d--) f = f * t->dims[d] + idx[d];
        out[k] = element(data + (size_t)f * (size_t)h->itemsize, h);
        for (int d = t->rank - 1; d >= 0 && ++idx[d] == t->dims[d]; d--) idx[d] = 0;
    }
}

/* Inflates a raw deflate stream into out (cap bytes at most); *got is how
 * many came out, *complete whether the stream ended there. */
static int inflate_entry(const unsigned char *in, uint64_t in_len, unsigned char *out, size_t cap,
                         size_t *got, int *complete)
{
    z_stream s;
    memset(&s, 0, sizeof s);
    if (inflateInit2(&s, -MAX_WBITS) != Z_OK) return 0;
    int r = Z_OK;
    *got = 0;
    *complete = 0;
    while (r == Z_OK) {
        if (s.avail_in == 0) {
            uInt step = in_len > UINT_MAX ? UINT_MAX : (uInt)in_len;
            s.next_in = (unsigned char *)(uintptr_t)in;
            s.avail_in = step;
            in += step, in_len -= step;
        }
        size_t room = cap - *got;
        s.next_out = out + *got;
        s.avail_out = room > UINT_MAX ? UINT_MAX : (uInt)room;
        uInt before = s.avail_out, before_in = s.avail_in;
        r = inflate(&s, Z_NO_FLUSH);
        *got += before - s.avail_out;
        if (*got == cap) break;
        /* no progress: input exhausted mid-stream, or a stalled stream */
        if (r == Z_OK && s.avail_out == before && s.avail_in == before_in) r = Z_BUF_ERROR;
        if (r == Z_BUF_ERROR && s.avail_in == 0 && in_len > 0) r = Z_OK;
    }
    *complete = r == Z_STREAM_END;
    inflateEnd(&s);
    return r == Z_OK || r == Z_STREAM_END;
}

/* One tensor from its entry, into out (t->size floats). */
static int load_entry(const Zip *z, const Entry *en, const LcTensorInfo *t, float *out)
{
    const char *array = t->name;
    char msg[160];
    if (en->flags & 1)
        return lc_fail(z->err, z->errlen, "%s: error: array '%s' is encrypted", z->path, array);
    if (en->method != 0 && en->method != 8)
        return lc_fail(z->err, z->errlen, "%s: error: array '%s' uses ZIP compression method %u; layerc "
                    "reads stored and deflated entries", z->path, array, en->method);
    /* the local header: only its name and extra lengths are needed, to find the data */
    if (en->offset > z->n || z->n - en->offset < ZIP_LOCAL_SIZE ||
        lc_get_le(z->b + en->offset, 4) != ZIP_LOCAL_SIG) {
        snprintf(msg, sizeof msg, "bad local header for '%s'", array);
        return damaged(z, msg);
    }
    const unsigned char *lh = z->b + en->offset;
    size_t lname = (size_t)lc_get_le(lh + 26, 2), lextra = (size_t)lc_get_le(lh + 28, 2);
    uint64_t data_at = en->offset + ZIP_LOCAL_SIZE + lname + lextra;
    if (data_at > z->n || en->csize > z->n - data_at || lname != en->name_len ||
        memcmp(lh + ZIP_LOCAL_SIZE, en->name, lname)) {
        snprintf(msg, sizeof msg, "the entry of '%s' runs past the end or disagrees with the directory", array);
        return damaged(z, msg);
    }
    const unsigned char *data = z->b + data_at;

    /* A right array is its header plus 8 bytes a value at most: nothing
     * bigger is ever inflated, whatever size the archive announces. */
    uint64_t cap = NPY_MAX_HEADER + 12 + 8 * (uint64_t)t->size;
    unsigned char *buf = NULL;
    const unsigned char *npy;
    size_t have;
    int complete;
    if (en->method == 0) {
        if (en->csize != en->usize) {
            snprintf(msg, sizeof msg, "stored entry '%s' has two sizes", array);
            return damaged(z, msg);
        }
        npy = data;
        have = (size_t)en->usize;
        complete = 1;
    } else {
        /* one byte more than announced, so that the stream can reach its
         * end (zlib may stop short of it when the output fills exactly) and
         * a stream longer than announced shows */
        size_t want = (size_t)(en->usize < cap ? en->usize + 1 : cap);
        buf = malloc(want);
        if (!buf) return lc_fail(z->err, z->errlen, "%s: error: out of memory", z->path);
        if (!inflate_entry(data, en->csize, buf, want, &have, &complete) ||
            (en->usize < cap && (have != en->usize || !complete))) {
            free(buf);
            snprintf(msg, sizeof msg, "corrupt deflate data in '%s'", array);
            return damaged(z, msg);
        }
        complete = en->usize < cap;
        npy = buf;
    }
    /* A partial inflate (a hostile or wrong-shaped array) still has its
     * header, which names the problem better than a size would. */
    if (complete && lc_crc32(0, npy, have) != en->crc) {
        free(buf);
        snprintf(msg, sizeof msg, "checksum mismatch in '%s'", array);
        return damaged(z, msg);
    }
    NpyHeader h;
    size_t at = 0;
    int ok = parse_npy_header(z, array, npy, have, &h, &at) && check_shape(z, array, &h, t);
    if (ok && (!complete || have - at != (uint64_t)t->size * (uint64_t)h.itemsize))
        ok = lc_fail(z->err, z->errlen, "%s: error: array '%s': %llu bytes of data for %ld values of %d bytes",
                  z->path, array, (unsigned long long)(en->usize - at), t->size, h.itemsize);
    if (ok) convert(npy + at, &h, t, out);
    /* after conversion: a float64 beyond the float range is an infinity now */
    for (long k = 0; ok && k < t->size; k++)
        if (!isfinite(out[k]))
            ok = lc_fail(z->err, z->errlen, "%s: error: array '%s' holds %s at index %ld (of %ld)%s; "
                      "weights must be finite numbers", z->path, array,
                      isnan(out[k]) ? "nan" : out[k] < 0 ? "-inf" : "inf", k, t->size,
                      h.itemsize == 8 && !isnan(out[k]) ? " as a float" : "");
    free(buf);
    return ok;
}

static int load_zip(Zip *z, const LcTensorInfo *t, int nt, float *params)
{
    char a[80];
    if (!read_directory(z) || !sort_entries(z)) return 0;
    /* every value lands in scratch first: a refused archive changes nothing */
    size_t total = 0;
    for (int i = 0; i < nt; i++) total += (size_t)t[i].size;
    float *scratch = malloc(sizeof *scratch * (total ? total : 1));
    if (!scratch) return lc_fail(z->err, z->errlen, "%s: error: out of memory", z->path);
    size_t at = 0;
    int ok = 1;
    for (int i = 0; ok && i < nt; i++) {
        Entry *en = find_entry(z, t[i].name);
        if (!en) {
            char dims[160];
            ok = lc_fail(z->err, z->errlen, "%s: error: no array '%s' in the archive (the model's "
                      "tensor '%s' %s)", z->path, t[i].name, t[i].name,
                      tensor_dims_str(&t[i], dims, sizeof dims));
            break;
        }
        en->used = 1;
        ok = load_entry(z, en, &t[i], scratch + at);
        at += (size_t)t[i].size;
    }
    for (uint64_t k = 0; ok && k < z->nentries; k++)
        if (!z->entries[k].used)
            ok = lc_fail(z->err, z->errlen, "%s: error: the archive holds array '%s', which is not a "
                      "weight of this model", z->path,
                      entry_label(z->entries[k].name, z->entries[k].key_len, a, sizeof a));
    if (ok) {
        size_t k = 0;
        for (int i = 0; i < nt; k += (size_t)t[i].size, i++)
            memcpy(params + t[i].offset, scratch + k, sizeof *params * (size_t)t[i].size);
    }
    free(scratch);
    return ok;
}

int lc_npz_load_bytes(const char *path, const unsigned char *bytes, size_t n,
                      const LcTensorInfo *t, int nt, float *params, char *err, size_t errlen)
{
    if (!check_table(path, t, nt, err, errlen)) return 0;
    Zip z = { path, bytes, n, err, errlen, NULL, 0 };
    int ok = load_zip(&z, t, nt, params);
    free(z.entries);
    return ok;
}

/* The most bytes an archive of these tensors can take as numpy writes it
 * (float64, ZIP64 extras, the largest header and comment), and 16 MiB of
 * room for arrays that are not the model's, which the message names: the
 * bound of a stream, whose size nobody announces. */
static size_t stream_bound(const LcTensorInfo *t, int nt)
{
    uint64_t total = ZIP64_END_SIZE + ZIP64_LOCATOR_SIZE + ZIP_END_SIZE + 0xffff + ((uint64_t)16 << 20);
    for (int i = 0; i < nt; i++)
        total += ZIP_LOCAL_SIZE + ZIP_CENTRAL_SIZE + 2 * (strlen(t[i].name) + 4 + 64) + NPY_MAX_HEADER + 12 +
                 8 * (uint64_t)t[i].size;
    return total < LC_NPZ_MAX_FILE ? (size_t)total : LC_NPZ_MAX_FILE;
}

int lc_npz_load_from(LcInput *in, unsigned char **bytes, size_t *n, const LcTensorInfo *t, int nt,
                     float *params, char *err, size_t errlen)
{
    const char *path = in->path;
    if (!check_table(path, t, nt, err, errlen)) return 0;
    size_t max = stream_bound(t, nt);
    if (in->size >= 0 && (uint64_t)in->size > LC_NPZ_MAX_FILE)
        return lc_fail(err, errlen, "%s: error: too large for a .npz of weights (%lld bytes; the limit is %zu)",
                       path, in->size, LC_NPZ_MAX_FILE);
    if (in->size >= 0) max = (size_t)in->size;
    /* an archive starts with a local header: anything else (/dev/zero) is
     * refused before it is read on */
    if (*n >= 4 && lc_get_le(*bytes, 4) != ZIP_LOCAL_SIG && in->size < 0)
        return lc_fail(err, errlen, "%s: error: not a NumPy .npz archive", path);
    if (!lc_input_read_rest(in, bytes, n, max, err, errlen)) return 0;
    if (*n > max && in->size >= 0)
        return lc_fail(err, errlen, "%s: error: the file grew while being read", path);
    if (*n > max)
        return lc_fail(err, errlen, "%s: error: more than %zu bytes: larger than any .npz of this "
                       "model's weights", path, max);
    return lc_npz_load_bytes(path, *bytes, *n, t, nt, params, err, errlen);
}

int lc_npz_load(const char *path, const LcTensorInfo *t, int nt, float *params,
                char *err, size_t errlen)
{
    LcInput in;
    unsigned char *bytes = malloc(4);
    size_t n = 0;
    if (!bytes) return lc_fail(err, errlen, "%s: error: out of memory", path);
    int ok = lc_input_open(&in, path, ".npz file", err, errlen);
    if (ok) {
        ok = lc_input_read(&in, bytes, 4, &n, err, errlen) &&
             lc_npz_load_from(&in, &bytes, &n, t, nt, params, err, errlen);
        lc_input_close(&in);
    }
    free(bytes);
    return ok;
}
