/* dataprep.h: what `train` and `eval` do to a data set once it is loaded:
 * the truth taken from the inputs (autoencoders), a validation split, and
 * whether the truth rows are one-hot (which decides the accuracy of a bce
 * model). */
#ifndef LC_DATAPREP_H
#define LC_DATAPREP_H

#include <stdint.h>

#include "data.h"

/* --truth input: the truth of every sample is its input (d->y shares d->x;
 * lc_data_free knows).  Fails (message in err, naming path) when d already
 * carries truth values. */
int lc_prep_truth_is_input(LcData *d, const char *path, char *err, size_t errlen);

/* --validate F: moves round(F n) samples of d, chosen with the seed, into
 * val; the others stay in d, in their order (as do the moved ones in val).
 * The samples moved are the first round(F n) of the Fisher-Yates
 * permutation of 0..n-1 drawn from splitmix64 seeded with
 * seed ^ LC_PREP_SPLIT_SALT (documented so that other tools can redo the
 * split).  Fails when that leaves either side empty. */
#define LC_PREP_SPLIT_SALT 0x76616c6964617465ull   /* "validate" */
int lc_prep_split(LcData *d, double fraction, uint64_t seed, LcData *val, const char *path,
                  char *err, size_t errlen);

/* Every truth row holds one 1 and zeros elsewhere (and there are at least
 * two outputs): a classifier's one-hot rows. */
int lc_prep_one_hot_rows(const LcData *d);

#endif
