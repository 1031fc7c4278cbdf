/* protofile.c: reading and writing .onnx files (see protofile.h). */
#include "protofile.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "arena.h"
#include "files.h"

static int varint(const unsigned char *p, size_t n, size_t *i, uint64_t *v)
{
    *v = 0;
    for (int shift = 0; shift < 64 && *i < n; shift += 7) {
        unsigned char b = p[(*i)++];
        *v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) return 1;
    }
    return 0;
}

/* Walks the wire format of a message of type d, following only the fields
 * that the schema says are messages.  Returns the deepest level reached, or
 * -1 when the bytes are not well formed (protobuf-c then says so). */
static int nesting(const unsigned char *p, size_t n, const ProtobufCMessageDescriptor *d, int depth)
{
    int deepest = depth;
    size_t i = 0;
    if (depth > OXP_MAX_DEPTH) return depth;
    while (i < n) {
        uint64_t key, len, skip;
        if (!varint(p, n, &i, &key)) return -1;
        switch (key & 7) {
        case 0:
            if (!varint(p, n, &i, &skip)) return -1;
            break;
        case 1:
            if (n - i < 8) return -1;
            i += 8;
            break;
        case 5:
            if (n - i < 4) return -1;
            i += 4;
            break;
        case 2: {
            if (!varint(p, n, &i, &len) || len > n - i) return -1;
            const ProtobufCFieldDescriptor *f =
                key >> 3 <= UINT32_MAX ? protobuf_c_message_descriptor_get_field(d, (unsigned)(key >> 3)) : NULL;
            if (f && f->type == PROTOBUF_C_TYPE_MESSAGE) {
                int k = nesting(p + i, (size_t)len, f->descriptor, depth + 1);
                if (k < 0) return -1;
                if (k > deepest) deepest = k;
                if (deepest > OXP_MAX_DEPTH) return deepest;
            }
            i += (size_t)len;
            break;
        }
        default:   /* groups: not in onnx.proto */
            return -1;
        }
    }
    return deepest;
}

Onnx__ModelProto *oxp_unpack(const char *path, const unsigned char *bytes, size_t n,
                             char *err, size_t errlen)
{
    if (n == 0) {
        lc_fail(err, errlen, "%s: error: the file is empty, not an ONNX model", path);
        return NULL;
    }
    int depth = nesting(bytes, n, &onnx__model_proto__descriptor, 0);
    if (depth > OXP_MAX_DEPTH) {
        lc_fail(err, errlen, "%s: error: its messages nest more than %d deep; not a model layerc reads",
                path, OXP_MAX_DEPTH);
        return NULL;
    }
    Onnx__ModelProto *m = depth < 0 ? NULL : onnx__model_proto__unpack(NULL, n, bytes);
    if (!m) {
        lc_fail(err, errlen, "%s: error: not an ONNX model: the file is not a well-formed protobuf "
                "ModelProto (truncated or another kind of file?)", path);
        return NULL;
    }
    if (!m->graph) {
        onnx__model_proto__free_unpacked(m, NULL);
        lc_fail(err, errlen, "%s: error: not an ONNX model: it has no graph", path);
        return NULL;
    }
    return m;
}

Onnx__ModelProto *oxp_read(const char *path, char *err, size_t errlen)
{
    struct stat st;
    FILE *f = fopen(path, "rb");
    if (!f) {
        lc_fail(err, errlen, "%s: error: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        fclose(f);
        lc_fail(err, errlen, "%s: error: not a regular file", path);
        return NULL;
    }
    if ((uintmax_t)st.st_size > OXP_MAX_FILE) {
        fclose(f);
        lc_fail(err, errlen, "%s: error: the file is too large (%jd bytes; the limit is %zu)", path,
                (intmax_t)st.st_size, OXP_MAX_FILE);
        return NULL;
    }
    size_t n = (size_t)st.st_size;
    unsigned char *b = xmalloc(n ? n : 1);
    size_t got = n ? fread(b, 1, n, f) : 0;
    int bad = ferror(f);
    fclose(f);
    if (bad || got != n) {
        free(b);
        lc_fail(err, errlen, "%s: error: cannot read the file", path);
        return NULL;
    }
    Onnx__ModelProto *m = oxp_unpack(path, b, n, err, errlen);
    free(b);
    return m;
}

int oxp_write(const char *path, const Onnx__ModelProto *m, char *err, size_t errlen)
{
    size_t n = onnx__model_proto__get_packed_size(m);
    unsigned char *b = xmalloc(n ? n : 1);
    size_t packed = onnx__model_proto__pack(m, b);
    int ok = packed == n && lc_write_atomic(path, b, n, err, errlen);
    if (packed != n) lc_fail(err, errlen, "%s: error: packing the model failed", path);
    free(b);
    return ok;
}
