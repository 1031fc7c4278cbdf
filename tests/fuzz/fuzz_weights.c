/* fuzz_weights.c: libFuzzer target for the weights loader (runtime/weights.c)
 * against a fixed tensor table, the one of tests/unit/test_weights.c.
 *
 * Random bytes almost never carry a right CRC, and a loader that checks its
 * CRC first would be fuzzed only up to there.  So byte 0 chooses:
 *   bit 0 clear  the rest is the file, as is
 *   bit 0 set    the rest with the header's size field, the signature of
 *                the tensor table and the CRC repaired, which lets the
 *                fuzzer past every checksum into the table comparison and
 *                the values.
 * A file of the right model, saved by lc_weights_save, is in the seeds. */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "weights.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const LcTensorInfo model[4] = {
    { "h.W", 2, { 4, 3 }, 0, 12 },
    { "h.b", 1, { 4 }, 12, 4 },
    { "out.W", 2, { 2, 4 }, 16, 8 },
    { "out.b", 1, { 2 }, 24, 2 },
};
#define NPARAMS 26

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    int repair = data[0] & 1;
    data++, size--;
    uint8_t *b = malloc(size + 4);
    size_t n = size;
    memcpy(b, data, size);
    if (repair && n >= 28) {
        /* the signature: FNV-1a 64 of the tensor table, as far as it goes */
        uint32_t nt = (uint32_t)b[16] | (uint32_t)b[17] << 8 | (uint32_t)b[18] << 16 | (uint32_t)b[19] << 24;
        size_t at = 28;
        for (uint32_t i = 0; i < nt && at + 2 <= size; i++) {
            size_t len = b[at] | (size_t)b[at + 1] << 8;
            if (at + 2 + len + 4 > size) break;
            at += 2 + len;
            uint32_t rank = b[at];   /* low byte: a rank over 8 stops the walk below */
            if (rank > 8 || b[at + 1] || b[at + 2] || b[at + 3] || at + 4 + 4 * (size_t)rank > size) break;
            at += 4 + 4 * (size_t)rank;
        }
        uint64_t h = 0xcbf29ce484222325u;
        for (size_t i = 28; i < at; i++) h = (h ^ b[i]) * 0x100000001b3u;
        for (int i = 0; i < 8; i++) b[20 + i] = (uint8_t)(h >> (8 * i));
        n = size + 4;
        for (int i = 0; i < 8; i++) b[8 + i] = (uint8_t)((uint64_t)n >> (8 * i));
        uint32_t crc = lc_crc32(0, b, size);
        for (int i = 0; i < 4; i++) b[size + i] = (uint8_t)(crc >> (8 * i));
    }
    int fd = memfd_create("weights", 0);
    if (fd < 0 || (n && write(fd, b, n) != (ssize_t)n)) abort();
    char path[64], err[1024];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);

    float params[NPARAMS], before[NPARAMS];
    for (int i = 0; i < NPARAMS; i++) params[i] = before[i] = (float)i;
    err[0] = '\0';
    if (!lc_weights_load(path, model, 4, params, NPARAMS, err, sizeof err)) {
        /* a refused file leaves the model as it was, and says why */
        if (memcmp(params, before, sizeof params) != 0) abort();
        if (!strstr(err, path)) abort();
    }
    close(fd);
    free(b);
    return 0;
}
