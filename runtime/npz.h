/* npz.h: weights as NumPy .npz archives, for moving them to and from Python.
 *
 * A .npz is a ZIP archive holding one .npy file per tensor, named as in the
 * NAME_params table ("h.W.npy"), dtype <f4, C order, shape = the tensor's
 * dims.  `numpy.load("w.npz")["h.W"]` reads one; `numpy.savez` and
 * `numpy.savez_compressed` write archives that lc_npz_load reads.
 *
 * Loading accepts stored and deflated entries, float32 and float64 (converted
 * to float), either byte order, C or Fortran order, ZIP64 fields.  The archive
 * must hold exactly the model's tensors: a missing array, an extra one or a
 * wrong shape is refused naming the array, as load_state_dict(strict=True)
 * does.  A value that is not finite after conversion to float (NaN, an
 * infinity, a float64 beyond the float range) is refused naming the array.
 * Everything is checked before a value goes into params, so a refused
 * file leaves the model as it was.  Saving builds the archive in memory and
 * writes it atomically (temporary file, fsync, rename).
 *
 * Both return 1 on success, else 0 with "PATH: error: ..." in err.
 */
#ifndef LC_NPZ_H
#define LC_NPZ_H

#include <stddef.h>

#include "weights.h"

int lc_npz_save(const char *path, const LcTensorInfo *t, int nt, const float *params,
                char *err, size_t errlen);
int lc_npz_load(const char *path, const LcTensorInfo *t, int nt, float *params,
                char *err, size_t errlen);
/* lc_npz_load of a file opened already, whose first *n bytes have been read
 * into *bytes (malloc'd; grown to the whole archive, which the caller frees).
 * A regular file may take LC_NPZ_MAX_FILE bytes; a stream (pipe, FIFO) as
 * many as an archive of these tensors can. */
int lc_npz_load_from(LcInput *in, unsigned char **bytes, size_t *n, const LcTensorInfo *t, int nt,
                     float *params, char *err, size_t errlen);

/* lc_npz_load on an archive already in memory; path only names it in
 * messages.  (The fuzz target uses it.) */
int lc_npz_load_bytes(const char *path, const unsigned char *bytes, size_t n,
                      const LcTensorInfo *t, int nt, float *params, char *err, size_t errlen);

/* The largest .npz file lc_npz_load reads: more than any model's weights
 * (2 GiB of floats, as float64) with room for the archive's own bytes. */
#define LC_NPZ_MAX_FILE ((size_t)4 << 30)

#endif
