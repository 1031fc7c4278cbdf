/* fuzz_data.c: libFuzzer target for the data loaders (runtime/data.c):
 * CSV, IDX images and labels, plain or gzip, through lc_load_data exactly as
 * `layerc train/eval/predict` call it.
 *
 * The loaders take paths, so the bytes go into memory files (memfd) opened
 * through /proc/self/fd: no disk traffic, nothing left behind.
 * Input layout:
 *   byte 0   floats per input sample: 1 + (b & 15)
 *   byte 1   the model's side: bits 0-2 output size - 1, bit 3 classifier
 *            (truth is one class index), bit 4 truth optional (predict)
 *   byte 2   length of a labels file taken from the end of the input
 *            (0: no labels file)
 *   rest     the data file, then the labels file */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "data.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A memory file holding bytes; its path in path. */
static int mem_file(const char *name, const uint8_t *b, size_t n, char *path, size_t len)
{
    int fd = memfd_create(name, 0);
    if (fd < 0) abort();
    while (n > 0) {
        ssize_t w = write(fd, b, n);
        if (w <= 0) abort();
        b += w;
        n -= (size_t)w;
    }
    snprintf(path, len, "/proc/self/fd/%d", fd);
    return fd;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 3) return 0;
    LcDataSpec spec;
    spec.in = 1 + (data[0] & 15);
    spec.out = 1 + (data[1] & 7);
    spec.classes = (data[1] & 8) ? spec.out : 0;
    spec.truth_optional = (data[1] & 16) != 0;
    spec.labels_option = NULL;
    spec.one_hot_hint = (data[1] & 32) != 0;
    size_t nlabels = data[2];
    data += 3, size -= 3;
    if (nlabels > size) nlabels = size;

    char dpath[64], lpath[64], err[1024];
    int dfd = mem_file("data", data, size - nlabels, dpath, sizeof dpath), lfd = -1;
    if (nlabels) lfd = mem_file("labels", data + size - nlabels, nlabels, lpath, sizeof lpath);

    LcData d;
    memset(err, 0, sizeof err);
    if (lc_load_data(dpath, nlabels ? lpath : NULL, &spec, &d, err, sizeof err)) {
        /* what training relies on: n samples of the sizes asked for, the
         * truth present unless optional, class indices in range */
        if (d.n <= 0 || d.in != spec.in || !d.x) abort();
        if (!spec.truth_optional && !d.y) abort();
        if (d.y && d.out != spec.out) abort();
        for (long i = 0; i < (long)d.n * d.in; i++)
            if (!(d.x[i] == d.x[i]) || d.x[i] - d.x[i] != 0) abort();   /* finite */
        if (spec.classes && d.y)
            for (int i = 0; i < d.n; i++)
                if (!d.label || d.label[i] < 0 || d.label[i] >= spec.classes) abort();
        lc_data_free(&d);
    } else {
        /* a refusal names the file */
        if (!strstr(err, dpath) && !(nlabels && strstr(err, lpath))) abort();
        /* and leaves nothing to free */
        if (d.x || d.y || d.label) abort();
    }
    close(dfd);
    if (lfd >= 0) close(lfd);
    return 0;
}
