/* weights.h: weight files (.lyw), documented in docs/WEIGHTS.md.
 *
 * A file carries the model's weight layout (name, shape of every tensor),
 * the float32 little-endian values and a CRC32 of everything before it.
 * Loading refuses another model's weights naming the first tensor that
 * differs, and any truncated or damaged file.  Saving writes a temporary file
 * beside the target, fsyncs it and renames it over the target, so a crash
 * never loses the previous file.
 */
#ifndef LC_WEIGHTS_H
#define LC_WEIGHTS_H

#include <stddef.h>
#include <stdint.h>

#include "files.h"

#define LC_MAX_RANK 8

typedef struct {
    const char *name;   /* as in the NAME_params table: "w2", "h.W", ... */
    int rank;
    int dims[LC_MAX_RANK];
    long offset;        /* in params[] */
    long size;          /* element count */
} LcTensorInfo;

int lc_weights_save(const char *path, const LcTensorInfo *t, int nt,
                    const float *params, long nparams, char *err, size_t errlen);
/* Refuses any value that is not finite (a diverged run's), naming the tensor. */
int lc_weights_load(const char *path, const LcTensorInfo *t, int nt,
                    float *params, long nparams, char *err, size_t errlen);
/* lc_weights_load of a file opened already, whose first *n bytes have been
 * read into *bytes (malloc'd; grown to the whole file, which the caller frees). */
int lc_weights_load_from(LcInput *in, unsigned char **bytes, size_t *n, const LcTensorInfo *t, int nt,
                         float *params, long nparams, char *err, size_t errlen);
/* Weights from a .lyw or a NumPy .npz, told apart by the first bytes: the
 * file is opened and read once, so it may be a pipe or a FIFO. */
int lc_params_load(const char *path, const LcTensorInfo *t, int nt, float *params, long nparams,
                   char *err, size_t errlen);

uint32_t lc_crc32(uint32_t crc, const void *data, size_t n);

#endif
