/* weights.c: weight files (.lyw); the format is in docs/WEIGHTS.md.
 *
 * Loading reads the whole file and checks all of it -- magic, size, CRC,
 * version, tensor table, the model's layout -- before a single value goes
 * into params, so a refused file leaves the model as it was.  Saving streams
 * the file into a temporary beside the target, fsyncs it and renames it over
 * the target: a crash or a full disk never leaves a half-written file.
 * Integers and floats are written byte by byte, little-endian, so a file
 * moves between machines of any byte order.
 */
#define _XOPEN_SOURCE 700

#include "weights.h"

#include "files.h"
#include "npz.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define LYW_MAGIC "LYRW"
#define LYW_VERSION 1u
#define LYW_HEADER 28u          /* magic, version, file size, count, signature */
#define LYW_CRC 4u
#define LYW_MIN_SIZE (LYW_HEADER + LYW_CRC)
#define NAME_MAX_BYTES 65535u   /* a u16 length */

/* ----------------------------------------------------------------- CRC-32 */

/* IEEE 802.3, reflected, polynomial 0xEDB88320: the CRC of zlib, gzip and
 * PNG.  A constant table rather than one built at run time: no global state,
 * and the generated C can carry this file without zlib. */
static const uint32_t crc_table[256] = {
    0x00000000u, 0x77073096u, 0xee0e612cu, 0x990951bau, 0x076dc419u, 0x706af48fu,
    0xe963a535u, 0x9e6495a3u, 0x0edb8832u, 0x79dcb8a4u, 0xe0d5e91eu, 0x97d2d988u,
    0x09b64c2bu, 0x7eb17cbdu, 0xe7b82d07u, 0x90bf1d91u, 0x1db71064u, 0x6ab020f2u,
    0xf3b97148u, 0x84be41deu, 0x1adad47du, 0x6ddde4ebu, 0xf4d4b551u, 0x83d385c7u,
    0x136c9856u, 0x646ba8c0u, 0xfd62f97au, 0x8a65c9ecu, 0x14015c4fu, 0x63066cd9u,
    0xfa0f3d63u, 0x8d080df5u, 0x3b6e20c8u, 0x4c69105eu, 0xd56041e4u, 0xa2677172u,
    0x3c03e4d1u, 0x4b04d447u, 0xd20d85fdu, 0xa50ab56bu, 0x35b5a8fau, 0x42b2986cu,
    0xdbbbc9d6u, 0xacbcf940u, 0x32d86ce3u, 0x45df5c75u, 0xdcd60dcfu, 0xabd13d59u,
    0x26d930acu, 0x51de003au, 0xc8d75180u, 0xbfd06116u, 0x21b4f4b5u, 0x56b3c423u,
    0xcfba9599u, 0xb8bda50fu, 0x2802b89eu, 0x5f058808u, 0xc60cd9b2u, 0xb10be924u,
    0x2f6f7c87u, 0x58684c11u, 0xc1611dabu, 0xb6662d3du, 0x76dc4190u, 0x01db7106u,
    0x98d220bcu, 0xefd5102au, 0x71b18589u, 0x06b6b51fu, 0x9fbfe4a5u, 0xe8b8d433u,
    0x7807c9a2u, 0x0f00f934u, 0x9609a88eu, 0xe10e9818u, 0x7f6a0dbbu, 0x086d3d2du,
    0x91646c97u, 0xe6635c01u, 0x6b6b51f4u, 0x1c6c6162u, 0x856530d8u, 0xf262004eu,
    0x6c0695edu, 0x1b01a57bu, 0x8208f4c1u, 0xf50fc457u, 0x65b0d9c6u, 0x12b7e950u,
    0x8bbeb8eau, 0xfcb9887cu, 0x62dd1ddfu, 0x15da2d49u, 0x8cd37cf3u, 0xfbd44c65u,
    0x4db26158u, 0x3ab551ceu, 0xa3bc0074u, 0xd4bb30e2u, 0x4adfa541u, 0x3dd895d7u,
    0xa4d1c46du, 0xd3d6f4fbu, 0x4369e96au, 0x346ed9fcu, 0xad678846u, 0xda60b8d0u,
    0x44042d73u, 0x33031de5u, 0xaa0a4c5fu, 0xdd0d7cc9u, 0x5005713cu, 0x270241aau,
    0xbe0b1010u, 0xc90c2086u, 0x5768b525u, 0x206f85b3u, 0xb966d409u, 0xce61e49fu,
    0x5edef90eu, 0x29d9c998u, 0xb0d09822u, 0xc7d7a8b4u, 0x59b33d17u, 0x2eb40d81u,
    0xb7bd5c3bu, 0xc0ba6cadu, 0xedb88320u, 0x9abfb3b6u, 0x03b6e20cu, 0x74b1d29au,
    0xead54739u, 0x9dd277afu, 0x04db2615u, 0x73dc1683u, 0xe3630b12u, 0x94643b84u,
    0x0d6d6a3eu, 0x7a6a5aa8u, 0xe40ecf0bu, 0x9309ff9du, 0x0a00ae27u, 0x7d079eb1u,
    0xf00f9344u, 0x8708a3d2u, 0x1e01f268u, 0x6906c2feu, 0xf762575du, 0x806567cbu,
    0x196c3671u, 0x6e6b06e7u, 0xfed41b76u, 0x89d32be0u, 0x10da7a5au, 0x67dd4accu,
    0xf9b9df6fu, 0x8ebeeff9u, 0x17b7be43u, 0x60b08ed5u, 0xd6d6a3e8u, 0xa1d1937eu,
    0x38d8c2c4u, 0x4fdff252u, 0xd1bb67f1u, 0xa6bc5767u, 0x3fb506ddu, 0x48b2364bu,
    0xd80d2bdau, 0xaf0a1b4cu, 0x36034af6u, 0x41047a60u, 0xdf60efc3u, 0xa867df55u,
    0x316e8eefu, 0x4669be79u, 0xcb61b38cu, 0xbc66831au, 0x256fd2a0u, 0x5268e236u,
    0xcc0c7795u, 0xbb0b4703u, 0x220216b9u, 0x5505262fu, 0xc5ba3bbeu, 0xb2bd0b28u,
    0x2bb45a92u, 0x5cb36a04u, 0xc2d7ffa7u, 0xb5d0cf31u, 0x2cd99e8bu, 0x5bdeae1du,
    0x9b64c2b0u, 0xec63f226u, 0x756aa39cu, 0x026d930au, 0x9c0906a9u, 0xeb0e363fu,
    0x72076785u, 0x05005713u, 0x95bf4a82u, 0xe2b87a14u, 0x7bb12baeu, 0x0cb61b38u,
    0x92d28e9bu, 0xe5d5be0du, 0x7cdcefb7u, 0x0bdbdf21u, 0x86d3d2d4u, 0xf1d4e242u,
    0x68ddb3f8u, 0x1fda836eu, 0x81be16cdu, 0xf6b9265bu, 0x6fb077e1u, 0x18b74777u,
    0x88085ae6u, 0xff0f6a70u, 0x66063bcau, 0x11010b5cu, 0x8f659effu, 0xf862ae69u,
    0x616bffd3u, 0x166ccf45u, 0xa00ae278u, 0xd70dd2eeu, 0x4e048354u, 0x3903b3c2u,
    0xa7672661u, 0xd06016f7u, 0x4969474du, 0x3e6e77dbu, 0xaed16a4au, 0xd9d65adcu,
    0x40df0b66u, 0x37d83bf0u, 0xa9bcae53u, 0xdebb9ec5u, 0x47b2cf7fu, 0x30b5ffe9u,
    0xbdbdf21cu, 0xcabac28au, 0x53b39330u, 0x24b4a3a6u, 0xbad03605u, 0xcdd70693u,
    0x54de5729u, 0x23d967bfu, 0xb3667a2eu, 0xc4614ab8u, 0x5d681b02u, 0x2a6f2b94u,
    0xb40bbe37u, 0xc30c8ea1u, 0x5a05df1bu, 0x2d02ef8du,
};

uint32_t lc_crc32(uint32_t crc, const void *data, size_t n)
{
    const unsigned char *p = data;
    crc = ~crc;
    while (n--) crc = crc_table[(crc ^ *p++) & 0xffu] ^ (crc >> 8);
    return ~crc;
}

/* ------------------------------------------------------------------ bytes */

static uint32_t float_bits(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

static float bits_float(uint32_t u)
{
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

/* FNV-1a, 64 bits: a cheap fingerprint of the tensor table. */
static uint64_t fnv1a64(const unsigned char *p, size_t n)
{
    uint64_t h = 0xcbf29ce484222325u;
    while (n--) h = (h ^ *p++) * 0x100000001b3u;
    return h;
}

/* -------------------------------------------------------- the model table */

static size_t entry_bytes(const LcTensorInfo *t)
{
    return 2 + strlen(t->name) + 4 + 4 * (size_t)t->rank;
}

static int check_tensor(const char *path, const LcTensorInfo *t, int i, long nparams,
                        char *err, size_t errlen)
{
    long size = 1;
    int d;
    if (!t->name || strlen(t->name) > NAME_MAX_BYTES || t->rank < 0 || t->rank > LC_MAX_RANK)
        return lc_fail(err, errlen, "%s: error: internal: tensor %d has a bad name or rank", path, i + 1);
    for (d = 0; d < t->rank; d++) {
        if (t->dims[d] < 0 || (t->dims[d] > 0 && size > LONG_MAX / t->dims[d]))
            return lc_fail(err, errlen, "%s: error: internal: tensor '%s' has bad dimensions", path, t->name);
        size *= t->dims[d];
    }
    if (size != t->size || t->offset < 0 || t->offset > nparams || t->size > nparams - t->offset)
        return lc_fail(err, errlen, "%s: error: internal: tensor '%s' does not fit in params[%ld]",
                    path, t->name, nparams);
    return 1;
}

/* Checks the caller's table and gives the file layout it implies. */
static int model_layout(const char *path, const LcTensorInfo *t, int nt, long nparams,
                        size_t *table_bytes, size_t *file_bytes, char *err, size_t errlen)
{
    size_t table = 0, values = 0;
    int i;
    if (nt < 0 || (nt > 0 && !t) || nparams < 0)
        return lc_fail(err, errlen, "%s: error: internal: bad tensor table", path);
    for (i = 0; i < nt; i++) {
        if (!check_tensor(path, &t[i], i, nparams, err, errlen)) return 0;
        table += entry_bytes(&t[i]);
        values += 4 * (size_t)t[i].size;
    }
    *table_bytes = table;
    *file_bytes = LYW_HEADER + table + values + LYW_CRC;
    return 1;
}

static unsigned char *encode_table(const LcTensorInfo *t, int nt, size_t table_bytes)
{
    unsigned char *buf = malloc(table_bytes ? table_bytes : 1), *p = buf;
    int i, d;
    if (!buf) return NULL;
    for (i = 0; i < nt; i++) {
        size_t len = strlen(t[i].name);
        lc_put_le(p, len, 2);
        memcpy(p + 2, t[i].name, len);
        p += 2 + len;
        lc_put_le(p, (uint64_t)t[i].rank, 4);
        p += 4;
        for (d = 0; d < t[i].rank; d++, p += 4) lc_put_le(p, (uint64_t)t[i].dims[d], 4);
    }
    return buf;
}

static void encode_header(unsigned char *h, uint64_t file_bytes, int nt, uint64_t signature)
{
    memcpy(h, LYW_MAGIC, 4);
    lc_put_le(h + 4, LYW_VERSION, 4);
    lc_put_le(h + 8, file_bytes, 8);
    lc_put_le(h + 16, (uint64_t)nt, 4);
    lc_put_le(h + 20, signature, 8);
}

/* ------------------------------------------------------------------ saving */

typedef struct {
    int fd;
    int error;              /* errno of the first failed write, else 0 */
    uint32_t crc;
    size_t used;
    unsigned char buf[1 << 16];
} Writer;

static void writer_flush(Writer *w)
{
    if (!w->error && w->used) w->error = lc_write_all(w->fd, w->buf, w->used);
    w->used = 0;
}

static void writer_put(Writer *w, const unsigned char *p, size_t n)
{
    w->crc = lc_crc32(w->crc, p, n);
    while (n > 0) {
        size_t room = sizeof w->buf - w->used, step = n < room ? n : room;
        memcpy(w->buf + w->used, p, step);
        w->used += step;
        p += step;
        n -= step;
        if (w->used == sizeof w->buf) writer_flush(w);
    }
}

static void writer_put_values(Writer *w, const float *v, long n)
{
    unsigned char b[4];
    long i;
    for (i = 0; i < n; i++) {
        lc_put_le(b, float_bits(v[i]), 4);
        writer_put(w, b, 4);
    }
}

typedef struct {
    const LcTensorInfo *t;
    int nt;
    const float *params;
    const unsigned char *table;
    size_t table_bytes, file_bytes;
} SaveJob;

/* The whole file, CRC last; returns 0 or the errno of a failed write. */
static int write_file(int fd, void *ctx)
{
    const SaveJob *job = ctx;
    const LcTensorInfo *t = job->t;
    int nt = job->nt;
    const float *params = job->params;
    const unsigned char *table = job->table;
    size_t table_bytes = job->table_bytes, file_bytes = job->file_bytes;
    unsigned char header[LYW_HEADER], crc[LYW_CRC];
    Writer *w = malloc(sizeof *w);
    int i, error;
    if (!w) return ENOMEM;
    w->fd = fd;
    w->error = 0;
    w->crc = 0;
    w->used = 0;
    encode_header(header, file_bytes, nt, fnv1a64(table, table_bytes));
    writer_put(w, header, sizeof header);
    writer_put(w, table, table_bytes);
    for (i = 0; i < nt; i++) writer_put_values(w, params + t[i].offset, t[i].size);
    lc_put_le(crc, w->crc, 4);
    writer_put(w, crc, sizeof crc);
    writer_flush(w);
    error = w->error;
    free(w);
    return error;
}

int lc_weights_save(const char *path, const LcTensorInfo *t, int nt,
                    const float *params, long nparams, char *err, size_t errlen)
{
    size_t table_bytes, file_bytes;
    unsigned char *table;
    int ok;
    if (!model_layout(path, t, nt, nparams, &table_bytes, &file_bytes, err, errlen)) return 0;
    /* a file that no load would accept is never written over a good one */
    for (int i = 0; i < nt; i++)
        for (long k = 0; k < t[i].size; k++)
            if (!isfinite(params[t[i].offset + k]))
                return lc_fail(err, errlen, "%s: error: cannot save weights: tensor '%s' holds %s at index %ld",
                               path, t[i].name, isnan(params[t[i].offset + k]) ? "nan" : "an infinity", k);
    table = encode_table(t, nt, table_bytes);
    if (!table) return lc_fail(err, errlen, "%s: error: cannot save weights: out of memory", path);
    SaveJob job = { t, nt, params, table, table_bytes, file_bytes };
    ok = lc_save_atomic(path, "cannot save weights", write_file, &job, err, errlen);
    free(table);
    return ok;
}

/* ----------------------------------------------------------------- loading */

/* One tensor of the file's table, pointing into the file's bytes. */
typedef struct {
    const unsigned char *name;
    size_t name_len;
    uint32_t rank;
    uint32_t dims[LC_MAX_RANK];
    uint64_t size;
} FileTensor;

typedef struct {
    const char *path;
    const unsigned char *bytes;
    size_t n;
    size_t at;              /* parse position */
    char *err;
    size_t errlen;
} WeightsFile;

static int is_magic_prefix(const unsigned char *b, size_t n)
{
    return memcmp(b, LYW_MAGIC, n) == 0;
}

/* A stream (pipe, FIFO) does not say its size: it may bring this model's
 * file and some room for another model's, whose table the message names;
 * past that it is refused unread rather than held in memory. */
#define STREAM_SLACK ((size_t)16 << 20)

/* The whole file in memory, read on from the *n bytes of *bytes.  The magic
 * comes first, so that any other file is refused after 4 bytes, however
 * big it is. */
static int read_weights_file(LcInput *in, unsigned char **bytes, size_t *n, size_t expected,
                             char *err, size_t errlen)
{
    const char *path = in->path;
    size_t max = expected + STREAM_SLACK, got;
    if (*n < 4) {
        unsigned char *b = realloc(*bytes, 4);
        if (!b) return lc_fail(err, errlen, "%s: error: out of memory", path);
        *bytes = b;
        if (!lc_input_read(in, b + *n, 4 - *n, &got, err, errlen)) return 0;
        *n += got;
    }
    if (!is_magic_prefix(*bytes, *n < 4 ? *n : 4))
        return lc_fail(err, errlen, "%s: error: not a layerc weights file", path);
    if (in->size >= 0) {
        if ((unsigned long long)in->size > SIZE_MAX / 2)
            return lc_fail(err, errlen, "%s: error: too large for a weights file", path);
        max = (size_t)in->size;
    }
    if (!lc_input_read_rest(in, bytes, n, max, err, errlen)) return 0;
    if (*n > max && in->size >= 0)
        return lc_fail(err, errlen, "%s: error: the file grew while being read", path);
    if (*n > max)
        return lc_fail(err, errlen, "%s: error: these weights are for another model: more than %zu bytes, "
                       "where this model's take %zu", path, max, expected);
    if (*n < LYW_MIN_SIZE)
        return lc_fail(err, errlen, "%s: error: truncated: %zu bytes, expected at least %u",
                    path, *n, LYW_MIN_SIZE);
    return 1;
}

/* A cut file also fails the CRC; the size in the header tells the two apart
 * (unless the damage hit the size field itself, which is still refused). */
static int check_integrity(const WeightsFile *f)
{
    uint64_t announced = lc_get_le(f->bytes + 8, 8);
    uint32_t stored = (uint32_t)lc_get_le(f->bytes + f->n - LYW_CRC, 4);
    uint32_t computed = lc_crc32(0, f->bytes, f->n - LYW_CRC);
    uint32_t version = (uint32_t)lc_get_le(f->bytes + 4, 4);
    if (announced > f->n)
        return lc_fail(f->err, f->errlen, "%s: error: truncated: %zu bytes, expected %llu",
                    f->path, f->n, (unsigned long long)announced);
    if (stored != computed)
        return lc_fail(f->err, f->errlen, "%s: error: damaged: checksum mismatch", f->path);
    if (version != LYW_VERSION)
        return lc_fail(f->err, f->errlen, "%s: error: weights format version %u; this layerc reads version %u",
                    f->path, (unsigned)version, LYW_VERSION);
    if (announced != f->n)
        return lc_fail(f->err, f->errlen, "%s: error: damaged: %zu bytes, but the header says %llu",
                    f->path, f->n, (unsigned long long)announced);
    return 1;
}

static int malformed(const WeightsFile *f, const char *what)
{
    return lc_fail(f->err, f->errlen, "%s: error: damaged: %s at byte %zu", f->path, what, f->at);
}

/* Bounds-checked reads: the end of the table region is the CRC. */
static int take(WeightsFile *f, size_t k, const unsigned char **p)
{
    if (k > f->n - LYW_CRC - f->at) return 0;
    *p = f->bytes + f->at;
    f->at += k;
    return 1;
}

static int parse_tensor(WeightsFile *f, FileTensor *ft)
{
    const unsigned char *p;
    uint32_t d;
    if (!take(f, 2, &p)) return malformed(f, "tensor table runs past the end");
    ft->name_len = (size_t)lc_get_le(p, 2);
    if (!take(f, ft->name_len, &ft->name) || !take(f, 4, &p))
        return malformed(f, "tensor table runs past the end");
    ft->rank = (uint32_t)lc_get_le(p, 4);
    if (ft->rank > LC_MAX_RANK) return malformed(f, "tensor rank over 8");
    ft->size = 1;
    for (d = 0; d < ft->rank; d++) {
        if (!take(f, 4, &p)) return malformed(f, "tensor table runs past the end");
        ft->dims[d] = (uint32_t)lc_get_le(p, 4);
        if (ft->dims[d] && ft->size > f->n / ft->dims[d])   /* more values than bytes */
            return malformed(f, "tensor larger than the file");
        ft->size *= ft->dims[d];
    }
    return 1;
}

/* The table, then the check that the values fill the rest exactly. */
static int parse_table(WeightsFile *f, FileTensor **out, uint32_t *count)
{
    uint32_t nt = (uint32_t)lc_get_le(f->bytes + 16, 4), i;
    uint64_t values = 0;
    size_t table_start = LYW_HEADER;
    FileTensor *ft;
    f->at = LYW_HEADER;
    if (nt > (f->n - LYW_MIN_SIZE) / 6)   /* an entry takes at least 6 bytes */
        return malformed(f, "tensor count larger than the file");
    ft = malloc((nt ? nt : 1) * sizeof *ft);
    if (!ft) return lc_fail(f->err, f->errlen, "%s: error: out of memory", f->path);
    for (i = 0; i < nt; i++) {
        if (!parse_tensor(f, &ft[i])) { free(ft); return 0; }
        values += ft[i].size;
    }
    if (values > (f->n - f->at) / 4 || f->at + 4 * values + LYW_CRC != f->n) {
        free(ft);
        return malformed(f, "values do not fill the file");
    }
    if (fnv1a64(f->bytes + table_start, f->at - table_start) != lc_get_le(f->bytes + 20, 8)) {
        free(ft);
        return lc_fail(f->err, f->errlen, "%s: error: damaged: the signature does not match the tensor table", f->path);
    }
    *out = ft;
    *count = nt;
    return 1;
}

/* "'h.W' [128, 784]"; the file's names are shown with control bytes masked. */
static void describe(char *buf, size_t len, const char *name, size_t name_len,
                     const uint32_t *udims, const int *idims, int rank)
{
    size_t used, i;
    int d;
    if (name_len > 60) name_len = 60;
    buf[0] = '\'';
    for (i = 0; i < name_len && i + 8 < len; i++)
        buf[1 + i] = (name[i] >= 0x20 && name[i] < 0x7f) ? name[i] : '?';
    used = 1 + i;
    used += (size_t)snprintf(buf + used, len - used, "' [");
    for (d = 0; d < rank && used < len; d++)
        used += (size_t)snprintf(buf + used, len - used, "%s%lld", d ? ", " : "",
                                 udims ? (long long)udims[d] : (long long)idims[d]);
    if (used < len) snprintf(buf + used, len - used, "]");
}

static void describe_file_tensor(char *buf, size_t len, const FileTensor *ft)
{
    describe(buf, len, (const char *)ft->name, ft->name_len, ft->dims, NULL, (int)ft->rank);
}

static void describe_model_tensor(char *buf, size_t len, const LcTensorInfo *t)
{
    describe(buf, len, t->name, strlen(t->name), NULL, t->dims, t->rank);
}

static int same_tensor(const FileTensor *ft, const LcTensorInfo *t)
{
    int d;
    if (ft->name_len != strlen(t->name) || memcmp(ft->name, t->name, ft->name_len) != 0 ||
        ft->rank != (uint32_t)t->rank)
        return 0;
    for (d = 0; d < t->rank; d++)
        if (ft->dims[d] != (uint32_t)t->dims[d]) return 0;
    return 1;
}

/* Names the first tensor that differs; tensors count from 1. */
static int compare_tables(const WeightsFile *f, const FileTensor *ft, uint32_t nft,
                          const LcTensorInfo *t, int nt)
{
    char a[160], b[160];
    uint32_t i;
    for (i = 0; i < nft && i < (uint32_t)nt; i++) {
        if (same_tensor(&ft[i], &t[i])) continue;
        describe_file_tensor(a, sizeof a, &ft[i]);
        describe_model_tensor(b, sizeof b, &t[i]);
        return lc_fail(f->err, f->errlen, "%s: error: these weights are for another model: "
                    "tensor %u is %s in the file but %s in the model", f->path, i + 1, a, b);
    }
    if (nft < (uint32_t)nt) {
        describe_model_tensor(b, sizeof b, &t[nft]);
        return lc_fail(f->err, f->errlen, "%s: error: these weights are for another model: "
                    "the file has %u tensor%s, the model %d; tensor %u %s is missing",
                    f->path, nft, nft == 1 ? "" : "s", nt, nft + 1, b);
    }
    if (nft > (uint32_t)nt) {
        describe_file_tensor(a, sizeof a, &ft[nt]);
        return lc_fail(f->err, f->errlen, "%s: error: these weights are for another model: "
                    "the file has %u tensors, the model %d; tensor %d %s is extra",
                    f->path, nft, nt, nt + 1, a);
    }
    return 1;
}

static void decode_values(const WeightsFile *f, const LcTensorInfo *t, int nt, float *params)
{
    const unsigned char *p = f->bytes + f->at;
    int i;
    long k;
    for (i = 0; i < nt; i++)
        for (k = 0; k < t[i].size; k++, p += 4)
            params[t[i].offset + k] = bits_float((uint32_t)lc_get_le(p, 4));
}

/* Every value must be a finite number: a NaN or an infinity (a diverged
 * run's weights) is refused by name, and nothing is loaded. */
static int check_finite(const WeightsFile *f, const LcTensorInfo *t, int nt)
{
    const unsigned char *p = f->bytes + f->at;
    for (int i = 0; i < nt; i++)
        for (long k = 0; k < t[i].size; k++, p += 4) {
            uint32_t u = (uint32_t)lc_get_le(p, 4);
            if ((u & 0x7f800000u) != 0x7f800000u) continue;
            return lc_fail(f->err, f->errlen, "%s: error: tensor '%s' holds %s at index %ld (of %ld); "
                        "weights must be finite numbers", f->path, t[i].name,
                        u & 0x007fffffu ? "nan" : u >> 31 ? "-inf" : "inf", k, t[i].size);
        }
    return 1;
}

static int load_checked(WeightsFile *f, const LcTensorInfo *t, int nt, float *params)
{
    FileTensor *ft = NULL;
    uint32_t nft = 0;
    int ok = check_integrity(f) && parse_table(f, &ft, &nft) &&
             compare_tables(f, ft, nft, t, nt) && check_finite(f, t, nt);
    if (ok) decode_values(f, t, nt, params);
    free(ft);
    return ok;
}

int lc_weights_load_from(LcInput *in, unsigned char **bytes, size_t *n, const LcTensorInfo *t, int nt,
                         float *params, long nparams, char *err, size_t errlen)
{
    size_t table_bytes, file_bytes;
    WeightsFile f;
    memset(&f, 0, sizeof f);
    if (!model_layout(in->path, t, nt, nparams, &table_bytes, &file_bytes, err, errlen)) return 0;
    if (!read_weights_file(in, bytes, n, file_bytes, err, errlen)) return 0;
    f.path = in->path;
    f.bytes = *bytes;
    f.n = *n;
    f.err = err;
    f.errlen = errlen;
    return load_checked(&f, t, nt, params);
}

int lc_weights_load(const char *path, const LcTensorInfo *t, int nt,
                    float *params, long nparams, char *err, size_t errlen)
{
    LcInput in;
    unsigned char *bytes = NULL;
    size_t n = 0;
    if (!lc_input_open(&in, path, "weights file", err, errlen)) return 0;
    int ok = lc_weights_load_from(&in, &bytes, &n, t, nt, params, nparams, err, errlen);
    lc_input_close(&in);
    free(bytes);
    return ok;
}

int lc_params_load(const char *path, const LcTensorInfo *t, int nt, float *params, long nparams,
                   char *err, size_t errlen)
{
    LcInput in;
    unsigned char *bytes = malloc(4);
    size_t n = 0;
    int ok = bytes != NULL;
    if (!ok) return lc_fail(err, errlen, "%s: error: out of memory", path);
    ok = lc_input_open(&in, path, "weights file", err, errlen);
    if (ok) {
        ok = lc_input_read(&in, bytes, 4, &n, err, errlen);
        if (ok && n >= 2 && bytes[0] == 'P' && bytes[1] == 'K')
            ok = lc_npz_load_from(&in, &bytes, &n, t, nt, params, err, errlen);
        else if (ok)
            ok = lc_weights_load_from(&in, &bytes, &n, t, nt, params, nparams, err, errlen);
        lc_input_close(&in);
    }
    free(bytes);
    return ok;
}
