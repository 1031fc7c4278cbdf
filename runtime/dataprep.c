/* dataprep.c: data sets transformed after loading (see dataprep.h). */
#include "dataprep.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "files.h"

int lc_prep_truth_is_input(LcData *d, const char *path, char *err, size_t errlen)
{
    if (d->y)
        return lc_fail(err, errlen, "%s: error: with --truth input the rows hold the inputs alone (%d values), "
                       "but these carry %d truth value%s too", path, d->in, d->out, d->out == 1 ? "" : "s");
    d->y = d->x;
    d->out = d->in;
    return 1;
}

static uint64_t splitmix64(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

/* Rows rows[0..n) of src (x, y, label) into a new data set. */
static int gather_rows(const LcData *src, const int *rows, int n, LcData *dst)
{
    size_t in = (size_t)src->in, out = (size_t)src->out, k = (size_t)(n ? n : 1);
    memset(dst, 0, sizeof *dst);
    dst->n = n, dst->in = src->in, dst->out = src->out;
    dst->x = malloc(sizeof(float) * k * in);
    if (src->y && src->y != src->x) dst->y = malloc(sizeof(float) * k * (out ? out : 1));
    if (src->label) dst->label = malloc(sizeof(int) * k);
    if (!dst->x || (src->y && src->y != src->x && !dst->y) || (src->label && !dst->label)) {
        lc_data_free(dst);
        return 0;
    }
    for (int i = 0; i < n; i++) {
        size_t r = (size_t)rows[i];
        memcpy(dst->x + i * in, src->x + r * in, sizeof(float) * in);
        if (dst->y) memcpy(dst->y + i * out, src->y + r * out, sizeof(float) * out);
        if (dst->label) dst->label[i] = src->label[r];
    }
    if (src->y == src->x) dst->y = dst->x;
    return 1;
}

static int by_value(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

int lc_prep_split(LcData *d, double fraction, uint64_t seed, LcData *val, const char *path,
                  char *err, size_t errlen)
{
    int n = d->n, k = (int)floor(fraction * n + 0.5);
    memset(val, 0, sizeof *val);
    if (k < 1 || k >= n)
        return lc_fail(err, errlen, "%s: error: --validate %g of %d sample%s holds out %d, leaving %d to train on; "
                       "both must be at least 1", path, fraction, n, n == 1 ? "" : "s", k, n - k);
    int *perm = malloc(sizeof(int) * (size_t)n);
    if (!perm) return lc_fail(err, errlen, "%s: error: out of memory", path);
    for (int i = 0; i < n; i++) perm[i] = i;
    uint64_t rng = seed ^ LC_PREP_SPLIT_SALT;
    /* the same unbiased draw as the training shuffle */
    for (int i = n - 1; i > 0; i--) {
        uint64_t bound = (uint64_t)i + 1, limit = UINT64_MAX - UINT64_MAX % bound, r;
        do r = splitmix64(&rng); while (r >= limit);
        int j = (int)(r % bound), t = perm[i];
        perm[i] = perm[j];
        perm[j] = t;
    }
    qsort(perm, (size_t)k, sizeof *perm, by_value);
    qsort(perm + k, (size_t)(n - k), sizeof *perm, by_value);
    LcData kept;
    int ok = gather_rows(d, perm, k, val) && gather_rows(d, perm + k, n - k, &kept);
    free(perm);
    if (!ok) {
        lc_data_free(val);
        return lc_fail(err, errlen, "%s: error: out of memory", path);
    }
    lc_data_free(d);
    *d = kept;
    return 1;
}

int lc_prep_one_hot_rows(const LcData *d)
{
    if (!d->y || d->out < 2) return 0;
    for (size_t i = 0; i < (size_t)d->n; i++) {
        const float *row = d->y + i * (size_t)d->out;
        int ones = 0;
        for (int j = 0; j < d->out; j++) {
            if (row[j] == 1) ones++;
            else if (row[j] != 0) return 0;
        }
        if (ones != 1) return 0;
    }
    return 1;
}
