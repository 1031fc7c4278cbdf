/* fuzz_npz.c: libFuzzer target for the .npz loader (runtime/npz.c) against
 * a fixed tensor table (that of fuzz_weights.c).
 *
 * A ZIP entry's CRC guards its bytes, so mutated .npy contents would almost
 * always stop at the checksum.  Byte 0 chooses:
 *   bit 0 clear  the rest is the archive, as is: the ZIP reader is fuzzed
 *   bit 0 set    the rest is a list of entries that this harness packs into
 *                a well-formed archive, CRCs right, deflated when bit 1 is
 *                set: the .npy reader behind the checksum is fuzzed.
 *                Entry: u8 name length, name, u16 LE data length, data.
 * Whatever the archive, a refusal leaves params untouched and names the file. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "npz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const LcTensorInfo model[4] = {
    { "h.W", 2, { 4, 3 }, 0, 12 },
    { "h.b", 1, { 4 }, 12, 4 },
    { "out.W", 2, { 2, 4 }, 16, 8 },
    { "out.b", 1, { 2 }, 24, 2 },
};
#define NPARAMS 26

static void put(uint8_t *p, uint32_t v, int bytes)
{
    for (int i = 0; i < bytes; i++) p[i] = (uint8_t)(v >> (8 * i));
}

/* A ZIP of the entries listed in in[0..n); returns its size. */
static size_t pack(const uint8_t *in, size_t n, int deflated, uint8_t *out, size_t cap)
{
    uint8_t central[1 << 14];
    size_t o = 0, c = 0;
    int count = 0;
    while (n >= 3 && count < 64) {
        size_t nl = in[0];
        if (nl + 3 > n) break;
        const uint8_t *name = in + 1;
        size_t dl = in[1 + nl] | (size_t)in[2 + nl] << 8;
        if (dl > n - 3 - nl) dl = n - 3 - nl;
        const uint8_t *d = in + 3 + nl;
        in += 3 + nl + dl, n -= 3 + nl + dl;

        uLong clen = compressBound(dl) + 16;
        uint8_t *z = malloc(clen);
        const uint8_t *body = d;
        size_t blen = dl;
        if (deflated) {
            z_stream s;
            memset(&s, 0, sizeof s);
            if (deflateInit2(&s, 6, Z_DEFLATED, -MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK) abort();
            s.next_in = (Bytef *)(uintptr_t)d;
            s.avail_in = (uInt)dl;
            s.next_out = z;
            s.avail_out = (uInt)clen;
            if (deflate(&s, Z_FINISH) != Z_STREAM_END) abort();
            blen = s.total_out;
            deflateEnd(&s);
            body = z;
        }
        if (o + 30 + nl + blen > cap || c + 46 + nl > sizeof central) {
            free(z);
            break;
        }
        uint32_t crc = lc_crc32(0, d, dl);
        put(out + o, 0x04034b50u, 4);
        put(out + o + 4, 20, 2);
        put(out + o + 6, 0, 2);
        put(out + o + 8, deflated ? 8 : 0, 2);
        put(out + o + 10, 0, 4);
        put(out + o + 14, crc, 4);
        put(out + o + 18, (uint32_t)blen, 4);
        put(out + o + 22, (uint32_t)dl, 4);
        put(out + o + 26, (uint32_t)nl, 2);
        put(out + o + 28, 0, 2);
        memcpy(out + o + 30, name, nl);
        memcpy(out + o + 30 + nl, body, blen);
        memset(central + c, 0, 46);
        put(central + c, 0x02014b50u, 4);
        put(central + c + 4, 20, 2);
        put(central + c + 6, 20, 2);
        put(central + c + 10, deflated ? 8 : 0, 2);
        put(central + c + 16, crc, 4);
        put(central + c + 20, (uint32_t)blen, 4);
        put(central + c + 24, (uint32_t)dl, 4);
        put(central + c + 28, (uint32_t)nl, 2);
        put(central + c + 42, (uint32_t)o, 4);
        memcpy(central + c + 46, name, nl);
        o += 30 + nl + blen;
        c += 46 + nl;
        count++;
        free(z);
    }
    if (o + c + 22 > cap) return 0;
    memcpy(out + o, central, c);
    uint8_t *e = out + o + c;
    memset(e, 0, 22);
    put(e, 0x06054b50u, 4);
    put(e + 8, (uint32_t)count, 2);
    put(e + 10, (uint32_t)count, 2);
    put(e + 12, (uint32_t)c, 4);
    put(e + 16, (uint32_t)o, 4);
    return o + c + 22;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    int mode = data[0];
    data++, size--;
    const uint8_t *zip = data;
    size_t n = size;
    uint8_t *packed = NULL;
    if (mode & 1) {
        size_t cap = 2 * size + (1 << 16);
        packed = malloc(cap);
        n = pack(data, size, mode & 2, packed, cap);
        zip = packed;
    }
    float params[NPARAMS], before[NPARAMS];
    char err[1024];
    for (int i = 0; i < NPARAMS; i++) params[i] = before[i] = (float)i;
    err[0] = '\0';
    if (!lc_npz_load_bytes("fuzz.npz", zip, n, model, 4, params, err, sizeof err)) {
        if (memcmp(params, before, sizeof params) != 0) abort();
        if (strncmp(err, "fuzz.npz: error: ", 17) != 0) abort();
    }
    free(packed);
    return 0;
}
